// Time-limit enforcement: the whole container is killed through the Docker API (SIGTERM, then SIGKILL
// after the grace period; SIGKILL at once without grace). A precise timer fires at Docker's
// StartedAt + limit, so enforcement does not wait for the next tick.
import type Docker from 'dockerode';
import { monoNowNs } from '../sampler/ticker.js';

/** A kill strictly after the limit, so Docker's own FinishedAt − StartedAt exceeds it despite the ±1 ms clock mapping. */
export const LIMIT_MARGIN_MS = 5;

export interface Cancel {
  cancel(): void;
}

/** Calls fire() once the monotonic clock passes limitMonoNs (re-arms if a timer fires early). */
export function armLimitTimer(limitMonoNs: number, fire: () => void): Cancel {
  let timer: NodeJS.Timeout | null = null;
  const arm = (): void => {
    const remainingMs = (limitMonoNs - monoNowNs()) / 1e6 + LIMIT_MARGIN_MS;
    if (remainingMs <= 0) {
      timer = null;
      fire();
      return;
    }
    timer = setTimeout(arm, Math.min(remainingMs, 2 ** 31 - 1));
    timer.unref();
  };
  arm();
  return {
    cancel(): void {
      if (timer) clearTimeout(timer);
      timer = null;
    },
  };
}

export interface KillHooks {
  /** Before each signal is sent, so the resulting `kill` event is recognised as the agent's own. */
  beforeSignal(signal: string): void;
  onError(err: Error, signal: string): void;
}

/** Kills a container; returns a handle that stops the pending SIGKILL (the container already died). */
export function killContainer(docker: Docker, containerId: string, graceSeconds: number, hooks: KillHooks): Cancel {
  const send = (signal: string): void => {
    hooks.beforeSignal(signal);
    docker
      .getContainer(containerId)
      .kill({ signal })
      .catch((e: Error & { statusCode?: number }) => {
        // 409/404: it is not running any more, which is what we wanted.
        if (e.statusCode !== 409 && e.statusCode !== 404) hooks.onError(e, signal);
      });
  };
  if (graceSeconds <= 0) {
    send('SIGKILL');
    return { cancel() {} };
  }
  send('SIGTERM');
  const timer = setTimeout(() => send('SIGKILL'), graceSeconds * 1000);
  return { cancel: () => clearTimeout(timer) };
}
