// What the harness records per case and in summary.json, and the --resume rule. Pure.
import type { RunStatus } from '../core/types.js';
import type { SlotPlacement } from '../core/placement.js';
import type { CaseEnd } from './container.js';
import type { GpuEnvironment } from '../gpu/idle-guard.js';

export interface CaseRecord {
  name: string;
  /** 1-based repeat of this case (evaluate --repeat); absent: run once. */
  repeat?: number;
  /** done: ran to its end and was measured; interrupted: Ctrl-C; error: the harness failed on it. */
  state: 'done' | 'interrupted' | 'error';
  runId: string | null;
  containerId: string | null;
  end: CaseEnd | null;
  exitCode: number | null;
  oomKilled: boolean;
  outputPresent: boolean | null;
  harnessWallSeconds: number | null;
  /** The harness's own span on CLOCK_MONOTONIC (ns): just before create, just after removal. */
  beforeCreateMonoNs?: number | null;
  afterRemoveMonoNs?: number | null;
  /** The measured run's status (timeout when over the limit). */
  status: RunStatus | null;
  exceededTimeLimit: boolean | null;
  error: string | null;
  /** Where it ran in a --gpus pool (absent: one container at a time, as before). */
  placement?: CasePlacement | null;
}

export interface CasePlacement {
  slot: number;
  gpu: string;
  gpuUuid: string | null;
  numaNode: number | null;
  /** --cpuset-cpus of the container (null: not pinned). */
  cpuset: string | null;
  memoryBytes: number | null;
  shmSizeBytes: number | null;
  /** Whether Docker was asked for the GPU (false with --no-device-request: assignment recorded only). */
  deviceRequest: boolean;
}

export interface EvaluationSummary {
  tool: 'flare-agent evaluate';
  version: string;
  team: string;
  image: string;
  imageId: string;
  measuredBy: string;
  timeLimitSeconds: number | null;
  command: string[];
  startedAt: string;
  finishedAt: string | null;
  cases: CaseRecord[];
  /** The pool's slots as placed (absent without --gpus). */
  slots?: SlotPlacement[];
  totals: { cases: number; done: number; timeouts: number; missingOutputs: number; nonZeroExits: number; interrupted: number; errors: number };
  files: Record<string, string>;
  /** The case GPU's environment (driver, CUDA, name, UUID, modes); null: no GPU given. */
  gpu?: GpuEnvironment | { error: string } | null;
  /** The idle-GPU guard's settings (null: off, or no GPU given). */
  idleGpuGuard?: { floorMiB: number; timeoutSeconds: number } | null;
}

export function totalsOf(records: readonly CaseRecord[], caseCount: number): EvaluationSummary['totals'] {
  return {
    cases: caseCount,
    done: records.filter((r) => r.state === 'done').length,
    timeouts: records.filter((r) => r.exceededTimeLimit === true || r.end === 'killed at time limit').length,
    missingOutputs: records.filter((r) => r.state === 'done' && r.outputPresent === false).length,
    nonZeroExits: records.filter((r) => r.state === 'done' && r.end === 'exited' && r.exitCode !== 0).length,
    interrupted: records.filter((r) => r.state === 'interrupted').length,
    errors: records.filter((r) => r.state === 'error').length,
  };
}

/** Cases a --resume may skip: measured to the end under the same image id. */
export function resumableCases(previous: EvaluationSummary | null, imageId: string): Map<string, CaseRecord> {
  const out = new Map<string, CaseRecord>();
  if (!previous || previous.imageId !== imageId) return out;
  for (const r of previous.cases) if (r.state === 'done' && r.runId) out.set(r.name, r);
  return out;
}

/** Whether every case ran (exit 0 of the harness): timeouts and missing outputs still count as ran. */
export const everyCaseRan = (t: EvaluationSummary['totals']): boolean => t.done === t.cases && t.errors === 0 && t.interrupted === 0;
