// A run's facts and flags. A fact is a value with its unit in its name (seconds, counts, a closed
// set of witnesses), kept as a typed field of the summary; a flag is a word from one closed list,
// for humans. Nothing reads a number out of a flag: a figure that needs a fact reads its field
// (as BenchExec's run result keeps one key per fact and termination reasons from a fixed list).
// Pure; no imports from the rest of core, so types.ts can build RunSummary on it.

/** Every flag a run may carry, and what it tells a reader (docs/measurement.md §5 lists them). */
export const RUN_FLAGS = [
  // how the run was attached and identified
  'attached-late', // the agent saw the container only after it started (attachedLateSeconds)
  'start-time-unknown', // the runtime gave no start time: the run starts when it was seen
  'no-cgroup', // a living container whose cgroup no mounted hierarchy holds: figures unknown
  'exited-before-attach', // the container ended before its cgroup could be read
  'counter-unreadable', // a counter file failed while the target lived (countersUnreadable)
  'created-from-runtime-record', // a container the agent missed entirely, taken from its runtime's record
  'no-pod-sandbox', // containerd: no pod sandbox found for the container
  'image-labels-unknown', // the image's labels could not be read: no flare.* label counts
  'label-from-image', // flare.* labels inherited from the image were ignored (labelsFromImage)
  'unsafe-trust-image-labels', // the organiser trusted image labels (--unsafe-trust-image-labels)
  'case-ambiguous', // several inputs in the mount; the first by name named the case (caseInputFiles)
  'gpu-request-unresolved', // a requested GPU id matched no device (gpuRequestsUnresolved)
  'invalid-time-limit-label',
  'time-limit-label-above-ceiling',
  'settings-assumed', // a row older than stored settings: summarised with the defaults
  // how it was sampled
  'samples-dropped', // the store's full queue dropped samples (samplesDropped)
  'node-samples-incomplete', // the node samples of its span could not all be written
  'final-counter-read', // the counter was read once more after the processes ended
  'read-at-cgroup-empty', // the last reading was taken when the cgroup emptied
  'cpu-unavailable',
  'ram-unavailable',
  'gpu-unavailable',
  'cpu-counter-reset',
  'proc-tree-fallback', // profile: measured through the process tree, not a cgroup
  // how it ended
  'cut-at-time-limit',
  'interrupted', // an interrupted run past its limit: status timeout, data partial
  'finished-at-from-event', // Docker's record was unreadable: the end is the event's
  'end-from-docker-event-log', // the end came from Docker's event log, read after a gap
  'end-corrected-from-runtime-record', // a provisional end corrected from the runtime's record
  'settled-from-runtime-after-agent-stop', // ended while no agent ran; settled from the runtime's record
  'recovered-after-agent-stop', // ended while no agent ran; its runtime could not say how
  'container-removed-before-exit', // removed with no exit seen: interrupted, with what was measured
  'container-vanished', // gone at a reconnect with no record of its end
  'container-restarted', // a new life of the container began: the old run closed as interrupted
  'oom-count-unread-at-end', // exit 137 whose cgroup OOM count could not be read
  'kill-impossible', // the time limit could not be enforced (killDenied)
  'killed-through-cgroup', // the runtime refused the kill; killed through the cgroup (killedThroughCgroup)
  'killed-leftover-processes', // profile: processes left in its cgroup were killed
  'spawn-error', // profile: the command could not be started (spawnError)
  // the GPU counters (docs/gpu-accounting.md)
  'gpu-accounting-off',
  'gpu-accounting-incomplete', // some processes' records were unknown (gpuProcessesUnknown of gpuProcessCount)
  'gpu-accounting-peak-upper-bound', // several processes: the sum of their peaks
  'gpu-spike-missed',
  'gpu-unseen-processes', // accounted processes never seen in a sample (gpuUnseenProcesses)
  'gpu-shared-at-start', // other processes held memory on its GPUs at its start (gpuSharedAtStart)
  'shared-gpu', // other processes used its GPUs during it: the energy is the GPUs', not the run's
  'energy-from-power', // the energy was integrated from power readings (no counter)
] as const;

export type RunFlag = (typeof RUN_FLAGS)[number];

const FLAG_SET: ReadonlySet<string> = new Set(RUN_FLAGS);
export const isRunFlag = (s: unknown): s is RunFlag => typeof s === 'string' && FLAG_SET.has(s);

/** What named a run's OOM kill: the runtime's record, its event log (read after a gap), its live event, or the kernel's count. */
export const OOM_WITNESSES = ['runtime-record', 'runtime-event-log', 'runtime-event', 'kernel-oom-kill-count'] as const;
export type OomWitness = (typeof OOM_WITNESSES)[number];

/** How the agent killed through a cgroup when the runtime would not (src/cgroup/kill.ts). */
export const CGROUP_KILL_HOWS = ['cgroup.kill', 'cgroup.procs'] as const;
export type CgroupKillHow = (typeof CGROUP_KILL_HOWS)[number];

/** Bounds on the text facts: they may hold untrusted names (labels, GPU ids, paths). */
export const MAX_FACT_LIST = 8;
export const MAX_FACT_TEXT = 512;

/**
 * Facts about a run, each optional: absent where it does not apply, where the runtime did not say,
 * or on a summary older than the fact.
 */
export interface RunFacts {
  /** Docker's Created → StartedAt (s, to the µs): the official span model reads it (docs/scoring.md). */
  createdBeforeStartSeconds?: number;
  /** Docker's FinishedAt → the container's removal (s, to the µs), seen after the end. */
  removedAfterEndSeconds?: number;
  /** The container's start → the agent attaching to it (s, to the ms). */
  attachedLateSeconds?: number;
  /** Samples of the run the store's full queue dropped. */
  samplesDropped?: number;
  /** What named its OOM kill. */
  oomNamedBy?: OomWitness;
  /** Which cgroup hierarchy its counters were read from, in words. */
  cgroupMethod?: string;
  /** Counter files that failed while it lived: `<path>: <errno>` or why none could be found. */
  countersUnreadable?: string[];
  /** How many *.nii.gz inputs its inputs mount held (set only when more than one). */
  caseInputFiles?: number;
  /** flare.* labels that came from the image and were ignored (the first MAX_FACT_LIST, cleaned). */
  labelsFromImage?: string[];
  /** How many there were in all. */
  labelsFromImageCount?: number;
  /** Requested GPU ids that matched no device (the first four, cleaned). */
  gpuRequestsUnresolved?: string[];
  /** Why the agent could not enforce the time limit (the kernel's refusals, e.g. `cgroup.kill: EROFS`). */
  killDenied?: string;
  /** How the agent killed it through its cgroup. */
  killedThroughCgroup?: CgroupKillHow;
  /** profile: why its command could not start. */
  spawnError?: string;
  /** Accounted GPU processes that started on its GPUs during it but never appeared in a sample. */
  gpuUnseenProcesses?: number;
  /** Its GPU processes whose accounting record was unknown … */
  gpuProcessesUnknown?: number;
  /** … of this many. */
  gpuProcessCount?: number;
  /** Flags of a summary older than schema 13 that no fact or word took (kept as they were, for humans). */
  legacyFlags?: string[];
}

const count = (v: unknown): boolean => Number.isSafeInteger(v) && (v as number) >= 0;
const seconds = (v: unknown): boolean => typeof v === 'number' && Number.isFinite(v) && v >= 0;
const text = (v: unknown): boolean => typeof v === 'string' && v.length <= MAX_FACT_TEXT;
const texts = (v: unknown): boolean => Array.isArray(v) && v.length <= MAX_FACT_LIST && v.every(text);
const oneOf = (set: readonly string[]) => (v: unknown): boolean => typeof v === 'string' && set.includes(v);

/** Each fact's check: what factsOf keeps and what a run's JSON may carry. */
const FACT_CHECKS: { [K in keyof Required<RunFacts>]: (v: unknown) => boolean } = {
  createdBeforeStartSeconds: seconds,
  removedAfterEndSeconds: seconds,
  attachedLateSeconds: seconds,
  samplesDropped: count,
  oomNamedBy: oneOf(OOM_WITNESSES),
  cgroupMethod: text,
  countersUnreadable: texts,
  caseInputFiles: count,
  labelsFromImage: texts,
  labelsFromImageCount: count,
  gpuRequestsUnresolved: texts,
  killDenied: text,
  killedThroughCgroup: oneOf(CGROUP_KILL_HOWS),
  spawnError: text,
  gpuUnseenProcesses: count,
  gpuProcessesUnknown: count,
  gpuProcessCount: count,
  legacyFlags: (v) => Array.isArray(v) && v.every(text),
};

export const FACT_KEYS = Object.keys(FACT_CHECKS) as (keyof RunFacts)[];

/** The facts of a summary (or any object) that are present and well-formed; the rest is left out. */
export function factsOf(from: RunFacts | null | undefined): RunFacts {
  const out: Record<string, unknown> = {};
  if (!from) return out;
  for (const key of FACT_KEYS) {
    const v = from[key];
    if (v !== undefined && FACT_CHECKS[key](v)) out[key] = v;
  }
  return out;
}

/** The first fact that is present but malformed, for a reader's validation; null when all are fine. */
export function malformedFact(from: Record<string, unknown>): string | null {
  for (const key of FACT_KEYS) if (from[key] !== undefined && !FACT_CHECKS[key](from[key])) return key;
  return null;
}

/** A text fact cut to its bound (a kernel message or a name can be long). */
export const factText = (s: string): string => (s.length > MAX_FACT_TEXT ? s.slice(0, MAX_FACT_TEXT - 1) + '…' : s);

/** Adds `item` to a list fact, at most MAX_FACT_LIST items, each once. */
export function addToFactList(list: string[] | undefined, item: string): string[] {
  const out = list ? [...list] : [];
  const t = factText(item);
  if (!out.includes(t) && out.length < MAX_FACT_LIST) out.push(t);
  return out;
}

/** `later` over `earlier`; list facts are joined (bounded), the rest taken from `later` where it has them. */
export function mergeFacts(earlier: RunFacts, later: RunFacts): RunFacts {
  const out: RunFacts = { ...earlier, ...later };
  for (const key of ['countersUnreadable', 'labelsFromImage', 'gpuRequestsUnresolved'] as const) {
    if (!earlier[key] || !later[key]) continue;
    let list = earlier[key];
    for (const item of later[key]) list = addToFactList(list, item);
    out[key] = list;
  }
  return out;
}

/**
 * A runtime's span (ns) in seconds, kept to the microsecond: the value the official model (src/official/) has always
 * read (it was carried as `<s>s` text with 6 decimals), so the figures stay the same to the bit.
 */
export function toMicroseconds(ns: bigint): number {
  return Number((Number(ns) / 1e9).toFixed(6));
}

/** A list of flags, each once, in the order first given. */
export const uniqueFlags = (...lists: readonly (readonly RunFlag[])[]): RunFlag[] => [...new Set(lists.flat())];

/** The facts present, each as its key and its value in words (the CLI's summary table, in FACT_KEYS order). */
export function factLines(from: RunFacts): [keyof RunFacts, string][] {
  const facts = factsOf(from);
  const out: [keyof RunFacts, string][] = [];
  for (const key of FACT_KEYS) {
    const v = facts[key];
    if (v === undefined || key === 'gpuProcessCount') continue;
    if (key === 'gpuProcessesUnknown') out.push([key, `${String(facts.gpuProcessesUnknown)} of ${facts.gpuProcessCount ?? '?'}`]);
    else out.push([key, Array.isArray(v) ? v.join('; ') : String(v)]);
  }
  return out;
}
