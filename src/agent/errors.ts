// Errors after start are never fatal: a measuring agent that crashes loses every run in flight. An
// exception inside a tick, an adapter's callback or a timer, and any unhandled rejection, is logged
// with its stack and counted here by where it happened; /healthz (`errors`) and /metrics
// (`flare_agent_errors_total{where}`) read the counts. Which errors are fatal: docs/failures.md.
import type { Logger } from '../log.js';

/** Where an error can be counted: a fixed set, so the metric's label stays bounded. */
export const ERROR_PLACES = ['tick', 'docker', 'containerd', 'exit-watch', 'summary', 'retention', 'timer', 'kill', 'uncaught', 'unhandled-rejection'] as const;
export type ErrorPlace = (typeof ERROR_PLACES)[number];

/** What a component needs to report an error it caught. */
export type ErrorSink = Pick<ErrorCounter, 'note'>;

/** The one owner of the error counts. */
export class ErrorCounter {
  private readonly counts = Object.fromEntries(ERROR_PLACES.map((p) => [p, 0])) as Record<ErrorPlace, number>;

  constructor(private readonly log: Logger) {}

  /** Logs (message, stack, what it was about) and counts one error. */
  note(where: ErrorPlace, err: unknown, about: Record<string, unknown> = {}): void {
    this.counts[where]++;
    const e = err instanceof Error ? err : new Error(String(err));
    this.log.error('error', { where, ...about, error: e.message, stack: e.stack?.split('\n').slice(0, 12).join('\n') });
  }

  snapshot(): Record<ErrorPlace, number> {
    return { ...this.counts };
  }
}

/** Runs `fn`, counting what it throws instead of letting it escape a callback. */
export function guarded<A extends unknown[]>(errors: ErrorSink | null, where: ErrorPlace, fn: (...args: A) => void): (...args: A) => void {
  return (...args: A) => {
    try {
      fn(...args);
    } catch (err) {
      if (errors) errors.note(where, err);
      else throw err;
    }
  };
}
