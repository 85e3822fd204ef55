// What a start has set up, undone in reverse: on a failed start (before the error is reported) and at
// the agent's stop. Every step runs even when an earlier one fails, so the lock (the first step, so
// the last undone) is always released.
import type { Logger } from '../log.js';

export class Unwinder {
  private readonly steps: { what: string; undo: () => void | Promise<void> }[] = [];

  /** Registers the undo of what was just set up. */
  push(what: string, undo: () => void | Promise<void>): void {
    this.steps.push({ what, undo });
  }

  /** Undoes everything, newest first; a failing step is logged and the next one runs. */
  async unwind(log: Logger): Promise<void> {
    for (let step = this.steps.pop(); step; step = this.steps.pop()) {
      try {
        await step.undo();
      } catch (err) {
        log.error('undo failed', { step: step.what, error: (err as Error).message });
      }
    }
  }
}

/** A start that failed and was unwound: `step` says what failed (the CLI exits 2 with this one line). */
export class StartError extends Error {
  constructor(readonly step: string, readonly reason: unknown) {
    const why = reason instanceof Error ? reason.message : String(reason);
    super(`cannot start: ${step}: ${why.replace(/\s*\n\s*/g, ' ')}`);
    this.name = 'StartError';
  }
}
