// Docker's events stream: container start/die/oom/kill/destroy events as newline-delimited JSON, parsed
// into the watcher's lifecycle events. One stream per call; keeping it open (backoff, re-listing) is
// the watcher's (runtime/reconnect.ts).
import type Docker from 'dockerode';
import type { LifecycleEvent } from '../adapter.js';

export const WATCHED_ACTIONS = ['start', 'die', 'oom', 'kill', 'destroy'] as const;
type WatchedAction = (typeof WATCHED_ACTIONS)[number];

interface RawEvent {
  Type?: string;
  Action?: string;
  status?: string;
  id?: string;
  Actor?: { ID?: string; Attributes?: Record<string, string> };
  time?: number;
  timeNano?: number | string;
}

/** One JSON event object → a lifecycle event, or null for anything else. */
export function parseEvent(raw: RawEvent): LifecycleEvent | null {
  if (raw.Type !== 'container') return null;
  // `exec_start: sh` style actions carry a suffix; only the bare watched actions matter.
  const action = (raw.Action ?? raw.status ?? '') as WatchedAction;
  if (!WATCHED_ACTIONS.includes(action)) return null;
  const containerId = raw.Actor?.ID ?? raw.id;
  if (!containerId || !/^[0-9a-f]{64}$/.test(containerId)) return null;
  const timeNs = raw.timeNano !== undefined ? BigInt(raw.timeNano) : BigInt(raw.time ?? 0) * 1_000_000_000n;
  const attributes = raw.Actor?.Attributes ?? {};
  switch (action) {
    case 'start':
      // The image as the event names it, so its labels are fetched alongside the inspect.
      return { kind: 'start', containerId, timeNs, imageRef: attributes['image'] };
    case 'die': {
      const exitCode = Number(attributes['exitCode']);
      // Docker's FinishedAt (from the inspect at `die`) is the exit time; the event's time is the fallback.
      return { kind: 'exit', containerId, timeNs, exitCode: Number.isInteger(exitCode) ? exitCode : null, exitedAtNs: null };
    }
    case 'oom':
      return { kind: 'oom', containerId };
    case 'kill':
      return { kind: 'kill', containerId };
    case 'destroy':
      return { kind: 'remove', containerId, timeNs };
  }
}

/** Opens the stream; `onDown` once when it ends or fails; resolves to its cancel. */
export async function openDockerEvents(docker: Docker, onEvent: (e: LifecycleEvent) => void, onDown: (reason: string) => void): Promise<() => void> {
  const stream = (await docker.getEvents({ filters: { type: ['container'], event: [...WATCHED_ACTIONS] } })) as NodeJS.ReadableStream & { destroy?: () => void };
  let open = true;
  const close = (): void => {
    if (!open) return;
    open = false;
    stream.removeAllListeners();
    stream.on('error', () => {}); // a late socket error after destroy must not crash the process
    stream.destroy?.();
  };
  const down = (reason: string): void => {
    if (!open) return;
    close();
    onDown(reason);
  };
  let buffered = '';
  stream.on('data', (chunk: Buffer) => {
    buffered += chunk.toString('utf8');
    let nl: number;
    while ((nl = buffered.indexOf('\n')) >= 0) {
      const line = buffered.slice(0, nl).trim();
      buffered = buffered.slice(nl + 1);
      if (line === '') continue;
      let event: LifecycleEvent | null = null;
      try {
        event = parseEvent(JSON.parse(line) as RawEvent);
      } catch {
        continue; // one malformed line must not end the feed
      }
      if (event) onEvent(event);
    }
  });
  stream.on('end', () => down('Docker events stream ended'));
  stream.on('error', (e: Error) => down(`Docker events stream failed: ${e.message}`));
  return close;
}
