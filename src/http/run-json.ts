// The API's run object (README "HTTP API": identity + the summary fields of docs/measurement.md §2 by name, flat), and its inverse
// for `collect`, which rebuilds a stored Run from what another agent served. Pure.
import type { Run, RunKind, RunPlacement, RunStatus, RunSummary } from '../core/types.js';
import { isRunFlag, malformedFact } from '../core/run-facts.js';

/** Every RunSummary key; the type check below fails the build if the interface grows a key not listed. */
const SUMMARY_KEYS = [
  'status',
  'terminationReason',
  'exitCode',
  'wallSeconds',
  'cpuSeconds',
  'nCpu',
  'aucCpuPctS',
  'aucCpuCorePctS',
  'maxCpuPct',
  'maxCpuCorePct',
  'gpuToleranceMiB',
  'aucGpuMiBs',
  'maxGpuMiB',
  'aucGpuDeviceMiBs',
  'maxGpuDeviceMiB',
  'aucRamMiBs',
  'maxRamMiB',
  'sampleCount',
  'intervalMs',
  'coveredSeconds',
  'unsampledHeadSeconds',
  'unsampledTailSeconds',
  'tailCpuBoundSeconds',
  'timeLimitSeconds',
  'exceededTimeLimit',
  'scoring',
  'flareFormulas',
  'flags',
  // GPU counters (src/core/gpu-run.ts, docs/gpu-accounting.md): absent from summaries without them.
  'gpuAccountingMode',
  'peakGpuMiBAccounting',
  'gpuSpikeMissed',
  'gpuTimeSeconds',
  'gpuProcesses',
  'gpuEnergyJ',
  'gpuEnergyMethod',
  'gpuSharedAtStart',
  // The run's facts (core/run-facts.ts): absent where they do not apply or were not known.
  'createdBeforeStartSeconds',
  'removedAfterEndSeconds',
  'attachedLateSeconds',
  'samplesDropped',
  'oomNamedBy',
  'cgroupMethod',
  'countersUnreadable',
  'caseInputFiles',
  'labelsFromImage',
  'labelsFromImageCount',
  'gpuRequestsUnresolved',
  'killDenied',
  'killedThroughCgroup',
  'spawnError',
  'gpuUnseenProcesses',
  'gpuProcessesUnknown',
  'gpuProcessCount',
  'legacyFlags',
] as const satisfies readonly (keyof RunSummary)[];
type MissingSummaryKey = Exclude<keyof RunSummary, (typeof SUMMARY_KEYS)[number]>;
const allSummaryKeysListed: MissingSummaryKey extends never ? true : never = true;
void allSummaryKeysListed;

export const RUN_STATUSES: readonly RunStatus[] = ['running', 'completed', 'failed', 'oom', 'timeout', 'interrupted'];
const RUN_KINDS: readonly RunKind[] = ['container', 'profile'];

/** The run as served: identity, lifecycle, then the summary's fields (absent while none exists). */
export type RunJson = Record<string, unknown> & { id: string; status: RunStatus; hasSummary: boolean };

function iso(wallMs: number | null): string | null {
  return wallMs == null ? null : new Date(wallMs).toISOString();
}

export function runToJson(run: Run): RunJson {
  const out: RunJson = {
    id: run.id,
    kind: run.kind,
    team: run.team,
    case: run.case,
    node: run.node,
    container: run.containerName ?? null,
    containerId: run.containerId ?? null,
    image: run.image ?? null,
    imageId: run.imageId ?? null,
    gpuDevices: run.gpuDevices ?? null,
    command: run.command ?? null,
    placement: run.placement ?? null,
    status: run.status,
    startedAt: iso(run.startedWallMs),
    endedAt: iso(run.endedWallMs),
    startedWallMs: run.startedWallMs,
    endedWallMs: run.endedWallMs,
    startedMonoNs: run.startedMonoNs,
    endedMonoNs: run.endedMonoNs,
    timeLimitSeconds: run.timeLimitSeconds,
    nCpu: run.nCpu,
    intervalMs: run.intervalMs,
    previousRunId: run.previousRunId,
    hasSummary: run.summary != null,
  };
  if (run.summary) {
    for (const key of SUMMARY_KEYS) {
      // The run's own status wins: a running run's partial summary may say otherwise.
      if (key !== 'status') out[key] = run.summary[key];
    }
  }
  return out;
}

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

function placementFromJson(v: unknown): RunPlacement | undefined {
  if (!isObj(v)) return undefined;
  const text = (x: unknown): string | null => (typeof x === 'string' ? x : null);
  const gpuIndices = Array.isArray(v.gpuIndices) ? v.gpuIndices.filter((i): i is number => Number.isInteger(i)) : null;
  return {
    slot: num(v.slot),
    cpusetCpus: text(v.cpusetCpus),
    cpusetMems: text(v.cpusetMems),
    numaNode: num(v.numaNode),
    memoryLimitMiB: num(v.memoryLimitMiB),
    shmSizeMiB: num(v.shmSizeMiB),
    gpuIndices,
  };
}

/** Rebuilds a Run from a RunJson served by another agent; throws with the offending field otherwise. */
export function runFromJson(json: unknown): Run {
  if (!isObj(json)) throw new Error('run: not an object');
  const need = <T>(name: string, v: T | null | undefined): T => {
    if (v == null) throw new Error(`run: missing or invalid field ${name}`);
    return v;
  };
  const status = need('status', RUN_STATUSES.find((s) => s === json.status));
  const kind = need('kind', RUN_KINDS.find((k) => k === json.kind));
  const gpuDevices = Array.isArray(json.gpuDevices) ? json.gpuDevices.filter((d): d is string => typeof d === 'string') : undefined;
  let summary: RunSummary | null = null;
  if (json.hasSummary === true) {
    const s: Record<string, unknown> = { status };
    for (const key of SUMMARY_KEYS) if (key !== 'status' && json[key] !== undefined) s[key] = json[key];
    if (!isObj(s.scoring) || !isObj(s.flareFormulas) || !Array.isArray(s.flags)) throw new Error('run: malformed summary');
    const bad = malformedFact(s);
    if (bad !== null) throw new Error(`run: malformed fact ${bad}`);
    // Words this build does not know (a newer agent's) are left out: flags are for humans, never figures.
    s.flags = s.flags.filter(isRunFlag);
    summary = s as unknown as RunSummary;
  }
  return {
    id: need('id', str(json.id)),
    kind,
    team: need('team', str(json.team)),
    case: need('case', str(json.case)),
    node: need('node', str(json.node)),
    containerId: str(json.containerId),
    containerName: str(json.container),
    image: str(json.image),
    imageId: str(json.imageId),
    gpuDevices,
    command: str(json.command),
    placement: placementFromJson(json.placement),
    status,
    startedWallMs: need('startedWallMs', num(json.startedWallMs)),
    startedMonoNs: need('startedMonoNs', num(json.startedMonoNs)),
    endedWallMs: num(json.endedWallMs),
    endedMonoNs: num(json.endedMonoNs),
    timeLimitSeconds: num(json.timeLimitSeconds),
    nCpu: need('nCpu', num(json.nCpu)),
    intervalMs: need('intervalMs', num(json.intervalMs)),
    previousRunId: str(json.previousRunId) ?? null,
    summary,
  };
}
