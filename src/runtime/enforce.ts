// Time-limit enforcement through a container's runtime, for the generic watcher: WHEN is the run
// manager's one deadline (src/core/limit.ts); this sends kill.ts's sequence through the adapter, to a
// container whose run may still be being attached (late, after its deadline passed while no agent ran),
// and sends again a kill the runtime refused (dockerd restarting) until the container is gone. A
// SIGKILL the runtime refuses, or does not answer in time (a hung daemon), is also sent at once through
// the container's cgroup (src/cgroup/kill.ts): a runtime that is away must not stretch a run past its limit.
import type { AgentContext } from '../agent/context.js';
import type { RuntimeAdapter } from './adapter.js';
import { holdsProcesses, killThroughCgroup } from '../cgroup/kill.js';
import { signalWithGrace, type KillSignal } from './kill.js';
import { factText, type RunFlag } from '../core/run-facts.js';
import type { TrackedRun } from './tracked.js';

/** The flag of a run past its limit that nothing could kill: the runtime refused, the cgroup kill was denied. */
export const KILL_IMPOSSIBLE_FLAG: RunFlag = 'kill-impossible';

/** A kill that could not be sent (the runtime away) is sent again after this, doubling to the bound. */
const KILL_RETRY_MS = { first: 500, max: 5000 };
/**
 * A runtime that has not answered a kill by then counts as refusing it (a hung or stopped daemon).
 * Docker's kill answers once the container has stopped (moby 20.10 daemon/kill.go waits for it): 10–40 ms
 * here (bench/attach.ts: exit → verdict p95 14–21 ms), so this is ten times that and more, and a limit is
 * still enforced within a second when the daemon hangs. A late answer still stands; the cgroup kill
 * only adds to it.
 */
export const KILL_ANSWER_MS = 500;

export class Enforcer {
  /** Containers whose limit fell due while their run was being attached: killed once tracked. */
  private readonly due = new Set<string>();

  constructor(private readonly ctx: AgentContext, private readonly adapter: RuntimeAdapter, private readonly trackedOf: (containerId: string) => TrackedRun | undefined) {}

  /** The run of this container is tracked now: a limit that fell due meanwhile is enforced. */
  nowTracked(id: string): void {
    if (this.due.delete(id)) this.enforce(id);
  }

  /** Its attach is over (tracked or not): nothing due is kept for it. */
  forget(id: string): void {
    this.due.delete(id);
  }

  /** The target's enforcement of the time limit: the signal sequence to the whole container, through its runtime. */
  enforce(id: string): void {
    const t = this.trackedOf(id);
    if (!t) {
      // Due while its run is being attached (runs.start arms the deadline before the run is tracked).
      this.due.add(id);
      return;
    }
    if (t.killedByAgent) return;
    t.killedByAgent = true;
    const graceSeconds = this.ctx.config.killGraceSeconds;
    this.ctx.log.info('time limit reached: killing container', { runtime: this.adapter.name, runId: t.runId, containerId: id, graceSeconds });
    t.kill = signalWithGrace(graceSeconds, (signal) => {
      if (this.trackedOf(id) !== t) return; // ended meanwhile
      // The run manager read the counters just before SIGTERM; after the grace period, read again.
      if (signal === 'SIGKILL' && graceSeconds > 0) this.ctx.stack.sampler.sampleRunNow(t.runId);
      this.sendKill(t, signal, 0);
    });
  }

  /** Sends one signal; one that cannot be sent is sent again as SIGKILL, with backoff, until the container is gone. */
  private sendKill(t: TrackedRun, signal: KillSignal, failures: number): void {
    // Counted before sending, so the runtime's `kill` event is recognised as the agent's own.
    if (this.adapter.traits.killEvents) t.ownKillsPending++;
    const sent = this.adapter.kill(t.containerId, signal);
    t.killsInFlight++;
    // Only the in-flight count: the kill's outcome is read from the runtime's events and the retry timer below.
    void sent.catch(() => undefined).finally(() => t.killsInFlight--);
    let timer: NodeJS.Timeout | undefined;
    const unanswered = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new UnansweredKill()), KILL_ANSWER_MS);
      timer.unref();
    });
    Promise.race([sent, unanswered]).finally(() => clearTimeout(timer)).catch((err: Error) => {
      // A kill still unanswered may yet land, and its `kill` event must then read as the agent's own.
      if (this.adapter.traits.killEvents && !(err instanceof UnansweredKill)) t.ownKillsPending = Math.max(0, t.ownKillsPending - 1);
      if (this.trackedOf(t.containerId) !== t) return;
      if (signal === 'SIGKILL' && !t.killedThroughCgroup) this.killThroughCgroup(t, err);
      this.ctx.log.error('killing container failed, retrying', { runtime: this.adapter.name, containerId: t.containerId, signal, error: err.message });
      this.retryLater(t, failures);
    });
  }

  private retryLater(t: TrackedRun, failures: number): void {
    const delayMs = Math.min(KILL_RETRY_MS.max, KILL_RETRY_MS.first * 2 ** failures);
    t.killRetry = setTimeout(() => {
      t.killRetry = null;
      if (this.trackedOf(t.containerId) !== t) return;
      // Killed through its cgroup, nothing left in it: the runtime reports the end when it can.
      if (t.killedThroughCgroup && !holdsProcesses(t.cgroupDirs)) return;
      // A hung runtime holds each request (and its socket): one unanswered kill at a time.
      if (t.killsInFlight > 0) return this.retryLater(t, failures + 1);
      this.sendKill(t, 'SIGKILL', failures + 1);
    }, delayMs);
    t.killRetry.unref();
  }

  /**
   * The runtime refused SIGKILL or left it unanswered: the container's processes are killed through its
   * cgroup, once. When that is not allowed either (a deployment without the privilege: docs/security.md),
   * nothing can enforce the limit: said once per run, loudly (flag, error log, flare_agent_errors_total
   * {where="kill"}; FlareRunPastTimeLimit fires while it runs on), and tried again at each retry.
   */
  private killThroughCgroup(t: TrackedRun, refused: Error): void {
    const r = killThroughCgroup(t.cgroupDirs);
    if (r === null) return; // no cgroup left to kill through: it has ended, or was never found
    if ('denied' in r) {
      if (t.killImpossible) return;
      t.killImpossible = true;
      this.ctx.stack.runs.addFlag(t.runId, KILL_IMPOSSIBLE_FLAG, { killDenied: factText(r.denied) });
      this.ctx.errors.note('kill', new Error(`time limit not enforced: the runtime did not take the kill (${refused.message}) and the agent may not kill through the cgroup (${r.denied})`), { runtime: this.adapter.name, runId: t.runId, containerId: t.containerId });
      return;
    }
    t.killedThroughCgroup = true;
    this.ctx.stack.runs.addFlag(t.runId, 'killed-through-cgroup', { killedThroughCgroup: r.killed });
    this.ctx.log.warn('the runtime did not take the kill: container killed through its cgroup', { runtime: this.adapter.name, runId: t.runId, containerId: t.containerId, how: r.killed, refused: refused.message });
  }
}

class UnansweredKill extends Error {
  constructor() {
    super(`the runtime did not answer the kill within ${KILL_ANSWER_MS} ms`);
  }
}
