// The soak's judge: each container's final run against Docker's own record of it. Pure.
import type { Run } from '../src/core/types.js';
import { parseDockerTimeNs } from '../src/runtime/docker/time.js';

export interface Lifecycle {
  id: string;
  kind: 'ok' | 'fail' | 'oom' | 'limit';
  limitSeconds: number | null;
  /** Docker's State when the container had ended. */
  state: { StartedAt: string; FinishedAt: string; ExitCode: number; OOMKilled: boolean };
  /** Whether Docker's event log held an `oom` for it (asked 2 s after its end); null: not asked. */
  dockerLoggedOom: boolean | null;
}

export interface Mismatch {
  containerId: string;
  kind: Lifecycle['kind'];
  what: string;
}

export interface SoakCounts {
  /** Containers Docker never started (a start refused while it stopped): no run is due. */
  neverStarted: number;
  /**
   * OOM cases no source names: exit 137, OOMKilled unset, no `oom` in Docker's event log, and the agent
   * never read the kernel's count at the container's end (it ended before the attach, its cgroup was
   * removed before the read: flag `oom-count-unread-at-end`, or through the dockerd restart).
   * Nothing can tell them from another SIGKILL; counted here, not as a wrong status.
   */
  oomUnknowable: number;
  lost: number;
  wrongStatus: number;
  wrongExitCode: number;
  /** |run wall − Docker's FinishedAt − StartedAt| > 20 ms. */
  wallOff: number;
  /**
   * A limit case not killed within a second of its deadline, or, when its deadline fell while no agent
   * or no engine ran, within a second of their return (then the late attach kills it).
   */
  overLimitNotKilled: number;
  /** The container's last run is `interrupted` although Docker knows how it ended. */
  interruptedWithoutVerdict: number;
  /** The first few mismatches, to say what went wrong. */
  mismatches: Mismatch[];
}

const WALL_TOLERANCE_SECONDS = 0.02;

/** Docker's status of a lifecycle: OOM, a limit case past its limit (the agent's kill), exit 0, else failed. */
export function expectedStatus(l: Lifecycle, dockerWallSeconds: number): Run['status'] {
  if (l.state.OOMKilled || (l.kind === 'oom' && l.state.ExitCode === 137)) return 'oom';
  if (l.limitSeconds !== null && dockerWallSeconds >= l.limitSeconds) return 'timeout';
  return l.state.ExitCode === 0 ? 'completed' : 'failed';
}

export interface Gaps {
  /** When dockerd was away (its restart), epoch ms. */
  engineDown: { fromMs: number; toMs: number } | null;
  /** When no agent ran (its restart), epoch ms. */
  agentDown: { fromMs: number; toMs: number } | null;
}

const KILL_SLACK_MS = 1000;

/** The latest a limit case may end: a second past its deadline, or past the end of the gap its deadline fell in. */
function killDueByMs(deadlineMs: number, gaps: Gaps): number {
  let dueMs = deadlineMs;
  for (const g of [gaps.engineDown, gaps.agentDown]) if (g && deadlineMs >= g.fromMs && deadlineMs <= g.toMs) dueMs = Math.max(dueMs, g.toMs);
  return dueMs + KILL_SLACK_MS;
}

export function compareWithDocker(lifecycles: readonly Lifecycle[], runs: readonly Run[], gaps: Gaps = { engineDown: null, agentDown: null }): SoakCounts {
  const engineDown = gaps.engineDown;
  const byContainer = new Map<string, Run[]>();
  for (const r of runs) if (r.containerId) (byContainer.get(r.containerId) ?? byContainer.set(r.containerId, []).get(r.containerId)!).push(r);
  const continued = new Set(runs.map((r) => r.previousRunId).filter((id): id is string => id !== null));
  const c: SoakCounts = { neverStarted: 0, oomUnknowable: 0, lost: 0, wrongStatus: 0, wrongExitCode: 0, wallOff: 0, overLimitNotKilled: 0, interruptedWithoutVerdict: 0, mismatches: [] };
  const miss = (l: Lifecycle, what: string): void => {
    if (c.mismatches.length < 20) c.mismatches.push({ containerId: l.id.slice(0, 12), kind: l.kind, what });
  };
  for (const l of lifecycles) {
    const startedNs = parseDockerTimeNs(l.state.StartedAt);
    const finishedNs = parseDockerTimeNs(l.state.FinishedAt);
    if (startedNs === null) {
      c.neverStarted++;
      continue;
    }
    const dockerWall = finishedNs === null ? NaN : Number(finishedNs - startedNs) / 1e9;
    if (l.limitSeconds !== null && finishedNs !== null && dockerWall > l.limitSeconds) {
      const dueByMs = killDueByMs(Number(startedNs / 1_000_000n) + l.limitSeconds * 1000, gaps);
      if (l.state.ExitCode === 0 || Number(finishedNs / 1_000_000n) > dueByMs) {
        c.overLimitNotKilled++;
        miss(l, `ran ${dockerWall.toFixed(3)} s against a ${l.limitSeconds}-s limit (exit ${l.state.ExitCode})`);
      }
    }
    // The container's last run: the one no other run continues.
    const last = (byContainer.get(l.id) ?? []).filter((r) => !continued.has(r.id)).sort((a, b) => b.startedWallMs - a.startedWallMs)[0];
    if (!last || last.status === 'running' || !last.summary) {
      c.lost++;
      miss(l, last ? 'still running' : 'no run');
      continue;
    }
    // An interrupted run past its limit reads 'timeout' (flag 'interrupted'); still no final verdict.
    if (last.status === 'interrupted' || last.summary.terminationReason === 'agent interrupted') {
      c.interruptedWithoutVerdict++;
      miss(l, `interrupted (${last.summary.flags.join(', ')})`);
      continue;
    }
    const want = expectedStatus(l, dockerWall);
    const throughRestart = engineDown !== null && Number(startedNs / 1_000_000n) <= engineDown.toMs && Number((finishedNs ?? startedNs) / 1_000_000n) >= engineDown.fromMs - 1000;
    // Unnamed by every source: Docker set nothing and logged nothing, and the agent never read the
    // kernel's count at the end (it ended before the attach, or its cgroup was removed first).
    const countUnread = last.summary.flags.includes('exited-before-attach') || last.summary.flags.includes('oom-count-unread-at-end');
    const unnamed = !l.state.OOMKilled && l.dockerLoggedOom !== true && (throughRestart || countUnread);
    if (want === 'oom' && last.status === 'failed' && unnamed) c.oomUnknowable++;
    else if (last.status !== want) {
      c.wrongStatus++;
      miss(l, `status ${last.status}, Docker's record says ${want} (exit ${l.state.ExitCode}, OOMKilled ${l.state.OOMKilled}; ${last.summary.flags.join(', ')})`);
    }
    if (last.summary.exitCode !== l.state.ExitCode) {
      c.wrongExitCode++;
      miss(l, `exit ${last.summary.exitCode}, Docker's ${l.state.ExitCode}`);
    }
    if (!(Math.abs(last.summary.wallSeconds - dockerWall) <= WALL_TOLERANCE_SECONDS)) {
      c.wallOff++;
      miss(l, `wall ${last.summary.wallSeconds.toFixed(3)} s, Docker's ${dockerWall.toFixed(3)} s (${last.summary.flags.join(', ')})`);
    }
  }
  return c;
}
