// Time-limit enforcement's signal sequence, the same for every container runtime: SIGTERM, then SIGKILL
// after the grace period (--kill-grace-seconds; SIGKILL at once without). WHEN to kill is the run
// manager's one detector (src/core/limit.ts); how a signal reaches the container is the runtime's.

export interface Cancel {
  cancel(): void;
}

export type KillSignal = 'SIGTERM' | 'SIGKILL';

/** Sends the sequence through `send`; the handle stops a pending SIGKILL (the container ended first). */
export function signalWithGrace(graceSeconds: number, send: (signal: KillSignal) => void): Cancel {
  if (graceSeconds <= 0) {
    send('SIGKILL');
    return { cancel() {} };
  }
  send('SIGTERM');
  const timer = setTimeout(() => send('SIGKILL'), graceSeconds * 1000);
  return { cancel: () => clearTimeout(timer) };
}
