// How a container's run ended: status and terminationReason from Docker's final state and what the
// watcher saw (an `oom` event, a kill it sent, a kill it did not send). Pure.
import type { RunStatus, TerminationReason } from '../core/types.js';

export interface EndFacts {
  exitCode: number | null;
  oomKilled: boolean;
  /** An `oom` event arrived for the container. */
  sawOom: boolean;
  /** The agent killed it at its time limit. */
  killedByAgent: boolean;
  /** A `kill` event arrived that the agent did not cause (docker kill/stop by someone else). */
  killedExternally: boolean;
}

export interface EndVerdict {
  status: RunStatus;
  terminationReason: TerminationReason;
  exitCode: number | null;
}

/**
 * The agent's own kill wins (the limit is why it ended), then OOM, then someone else's kill, then
 * a plain exit. The core still turns any run over its limit into 'timeout'.
 */
export function endVerdict(f: EndFacts): EndVerdict {
  const exitCode = f.exitCode;
  if (f.killedByAgent) return { status: 'timeout', terminationReason: 'killed at time limit', exitCode };
  if (f.oomKilled || f.sawOom) return { status: 'oom', terminationReason: 'oom', exitCode };
  const status: RunStatus = exitCode === 0 ? 'completed' : 'failed';
  return { status, terminationReason: f.killedExternally ? 'killed externally' : 'exited', exitCode };
}
