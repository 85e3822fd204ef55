// Docker's events stream: container start/die/oom/kill/destroy events as newline-delimited JSON, parsed
// into the watcher's lifecycle events. One stream per call; keeping it open (backoff, re-listing) is
// the watcher's (runtime/reconnect.ts).
import type { DockerApi } from './engine-client.js';
import type { LifecycleEvent } from '../adapter.js';

export const WATCHED_ACTIONS = ['start', 'die', 'oom', 'kill', 'destroy'] as const;
export type WatchedAction = (typeof WATCHED_ACTIONS)[number];

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
export async function openDockerEvents(docker: DockerApi, onEvent: (e: LifecycleEvent) => void, onDown: (reason: string) => void): Promise<() => void> {
  const stream = await docker.getEvents({ filters: { type: ['container'], event: [...WATCHED_ACTIONS] } });
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

/** How long a query of Docker's past events may take before it counts as unanswered. */
const PAST_EVENTS_TIMEOUT_MS = 3000;

/**
 * Docker's record of one container's past events of the given actions between two instants (its
 * in-memory event log, kept while the engine runs: lost with a dockerd restart). Empty when unanswered.
 */
export async function pastEvents(docker: DockerApi, containerId: string, sinceNs: bigint, untilNs: bigint, actions: readonly WatchedAction[]): Promise<LifecycleEvent[]> {
  const out: LifecycleEvent[] = [];
  const since = Number(sinceNs / 1_000_000_000n);
  // A little past the end (Docker may log `oom` after `die`), never in the future: the stream would wait for it.
  const until = Math.min(Number(untilNs / 1_000_000_000n) + 5, Math.ceil(Date.now() / 1000));
  let stream: NodeJS.ReadableStream & { destroy?: () => void };
  try {
    stream = await docker.getEvents({ since, until, filters: { type: ['container'], container: [containerId], event: [...actions] } });
  } catch {
    return out;
  }
  let text = '';
  await new Promise<void>((resolve) => {
    const timer = setTimeout(() => {
      stream.destroy?.();
      resolve();
    }, PAST_EVENTS_TIMEOUT_MS);
    stream.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
    stream.on('error', () => resolve());
    stream.on('end', () => {
      clearTimeout(timer);
      resolve();
    });
  });
  for (const line of text.split('\n')) {
    try {
      const e = line.trim() === '' ? null : parseEvent(JSON.parse(line) as RawEvent);
      if (e && e.containerId === containerId) out.push(e);
    } catch {
      /* one malformed line */
    }
  }
  return out;
}

/**
 * Whether Docker's event log holds an `oom` for a container that died by SIGKILL without OOMKilled set
 * (Docker on cgroup v1 leaves it unset now and then; the live `oom` event was missed while no agent
 * or stream ran). Asked only of such an exit: one short query of the engine's in-memory log.
 */
export async function oomInEventLog(docker: DockerApi, containerId: string, startedAtNs: bigint | null, finishedAtNs: bigint | null): Promise<boolean> {
  if (startedAtNs === null || finishedAtNs === null) return false;
  return (await pastEvents(docker, containerId, startedAtNs, finishedAtNs, ['oom'])).some((e) => e.kind === 'oom');
}
