// The Docker events stream with reconnection: container start/die/oom/kill/destroy events, parsed from
// newline-delimited JSON. When the stream ends or fails (dockerd restarting), it reports the source
// down and retries with exponential backoff; after each (re)connect the watcher re-lists containers.
import type Docker from 'dockerode';

export const WATCHED_ACTIONS = ['start', 'die', 'oom', 'kill', 'destroy'] as const;
export type WatchedAction = (typeof WATCHED_ACTIONS)[number];

export interface ContainerEvent {
  action: WatchedAction;
  containerId: string;
  /** Docker's event time, epoch ns. */
  timeNs: bigint;
  attributes: Record<string, string>;
}

export interface EventFeedHandlers {
  onEvent(event: ContainerEvent): void;
  /** Connected (again): the stream is open; re-list now so nothing between streams is missed. */
  onConnected(): Promise<void>;
  onDown(reason: string): void;
}

export interface Backoff {
  initialMs: number;
  maxMs: number;
}

interface RawEvent {
  Type?: string;
  Action?: string;
  status?: string;
  id?: string;
  Actor?: { ID?: string; Attributes?: Record<string, string> };
  time?: number;
  timeNano?: number | string;
}

/** One JSON event object → ContainerEvent, or null for anything else. */
export function parseEvent(raw: RawEvent): ContainerEvent | null {
  if (raw.Type !== 'container') return null;
  // `exec_start: sh` style actions carry a suffix; only the bare watched actions matter.
  const action = (raw.Action ?? raw.status ?? '') as WatchedAction;
  if (!WATCHED_ACTIONS.includes(action)) return null;
  const containerId = raw.Actor?.ID ?? raw.id;
  if (!containerId || !/^[0-9a-f]{64}$/.test(containerId)) return null;
  const timeNs = raw.timeNano !== undefined ? BigInt(raw.timeNano) : BigInt(raw.time ?? 0) * 1_000_000_000n;
  return { action, containerId, timeNs, attributes: raw.Actor?.Attributes ?? {} };
}

export class EventFeed {
  private stream: NodeJS.ReadableStream | null = null;
  private timer: NodeJS.Timeout | null = null;
  private delayMs: number;
  private stopped = false;

  constructor(
    private readonly docker: Docker,
    private readonly handlers: EventFeedHandlers,
    private readonly backoff: Backoff = { initialMs: 500, maxMs: 10_000 },
  ) {
    this.delayMs = backoff.initialMs;
  }

  start(): void {
    void this.connect();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.dropStream();
  }

  private dropStream(): void {
    const s = this.stream as (NodeJS.ReadableStream & { destroy?: () => void }) | null;
    this.stream = null;
    s?.removeAllListeners();
    s?.on('error', () => {}); // a late socket error after destroy must not crash the process
    s?.destroy?.();
  }

  private async connect(): Promise<void> {
    if (this.stopped) return;
    let stream: NodeJS.ReadableStream;
    try {
      stream = await this.docker.getEvents({ filters: { type: ['container'], event: [...WATCHED_ACTIONS] } });
    } catch (e) {
      this.fail(`cannot reach Docker: ${(e as Error).message}`);
      return;
    }
    if (this.stopped) {
      (stream as NodeJS.ReadableStream & { destroy?: () => void }).destroy?.();
      return;
    }
    this.stream = stream;
    let buffered = '';
    stream.on('data', (chunk: Buffer) => {
      buffered += chunk.toString('utf8');
      let nl: number;
      while ((nl = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, nl).trim();
        buffered = buffered.slice(nl + 1);
        if (line === '') continue;
        let event: ContainerEvent | null = null;
        try {
          event = parseEvent(JSON.parse(line) as RawEvent);
        } catch {
          continue; // one malformed line must not end the feed
        }
        if (event) this.handlers.onEvent(event);
      }
    });
    stream.on('end', () => this.fail('Docker events stream ended'));
    stream.on('error', (e: Error) => this.fail(`Docker events stream failed: ${e.message}`));
    try {
      await this.handlers.onConnected();
      this.delayMs = this.backoff.initialMs;
    } catch (e) {
      this.fail(`listing containers failed: ${(e as Error).message}`);
    }
  }

  private fail(reason: string): void {
    if (this.stopped || this.timer) return;
    this.dropStream();
    this.handlers.onDown(reason);
    const delay = this.delayMs;
    this.delayMs = Math.min(this.backoff.maxMs, this.delayMs * 2);
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.connect();
    }, delay);
  }
}
