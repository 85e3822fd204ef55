// Time-limit enforcement through the Docker API: the whole container gets runtime/kill.ts's sequence
// (SIGTERM, then SIGKILL after the grace period; SIGKILL at once without grace). WHEN to kill is the
// run manager's one detector (src/core/limit.ts, a deadline at Docker's StartedAt + limit + margin).
import type Docker from 'dockerode';
import { signalWithGrace, type Cancel } from '../runtime/kill.js';

export interface KillHooks {
  /** Before each signal is sent, so the resulting `kill` event is recognised as the agent's own. */
  beforeSignal(signal: string): void;
  onError(err: Error, signal: string): void;
}

/** Kills a container; returns a handle that stops the pending SIGKILL (the container already died). */
export function killContainer(docker: Docker, containerId: string, graceSeconds: number, hooks: KillHooks): Cancel {
  return signalWithGrace(graceSeconds, (signal) => {
    hooks.beforeSignal(signal);
    docker
      .getContainer(containerId)
      .kill({ signal })
      .catch((e: Error & { statusCode?: number }) => {
        // 409/404: it is not running any more, which is what we wanted.
        if (e.statusCode !== 409 && e.statusCode !== 404) hooks.onError(e, signal);
      });
  });
}
