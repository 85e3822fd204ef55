// Keeps a runtime's event stream open: opens it, runs the re-listing after each (re)connect, and when
// the stream ends or fails (the daemon restarting) reports the runtime down and opens it again after
// an exponential backoff. The same for every runtime; what a stream is belongs to the adapter.

export interface Backoff {
  initialMs: number;
  maxMs: number;
}

export const DEFAULT_BACKOFF: Backoff = { initialMs: 500, maxMs: 10_000 };

export interface StreamLink {
  /** Opens the stream; `onDown` once when it ends or fails; resolves to its cancel. Rejects when unreachable. */
  open(onDown: (reason: string) => void): Promise<() => void>;
  /** The stream is open: list now, so nothing that happened between streams is missed. */
  onConnected(): Promise<void>;
  onDown(reason: string): void;
}

export class Reconnector {
  private cancel: (() => void) | null = null;
  private timer: NodeJS.Timeout | null = null;
  private delayMs: number;
  private stopped = false;

  constructor(private readonly runtime: string, private readonly link: StreamLink, private readonly backoff: Backoff = DEFAULT_BACKOFF) {
    this.delayMs = backoff.initialMs;
  }

  start(): void {
    // connect() catches a failed open itself: it reports the source down and schedules the next try.
    void this.connect();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.drop();
  }

  private drop(): void {
    const cancel = this.cancel;
    this.cancel = null;
    cancel?.();
  }

  private async connect(): Promise<void> {
    if (this.stopped) return;
    let cancel: () => void;
    try {
      cancel = await this.link.open((reason) => this.fail(reason));
    } catch (e) {
      this.fail(`cannot reach ${this.runtime}: ${(e as Error).message}`);
      return;
    }
    // Stopped meanwhile, or the new stream failed before it was handed over (a retry is scheduled).
    if (this.stopped || this.timer) {
      cancel();
      return;
    }
    this.cancel = cancel;
    try {
      await this.link.onConnected();
      this.delayMs = this.backoff.initialMs;
    } catch (e) {
      this.fail(`listing containers failed: ${(e as Error).message}`);
    }
  }

  private fail(reason: string): void {
    if (this.stopped || this.timer) return;
    this.drop();
    this.link.onDown(reason);
    const delay = this.delayMs;
    this.delayMs = Math.min(this.backoff.maxMs, this.delayMs * 2);
    this.timer = setTimeout(() => {
      this.timer = null;
      // connect() catches a failed open itself: it reports the source down and schedules the next try.
      void this.connect();
    }, delay);
    this.timer.unref();
  }
}
