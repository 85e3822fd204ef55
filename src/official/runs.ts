// The official figures of stored runs: gathers each run's samples and the host samples around its
// span, then the pure model (model.ts) and rules (figures.ts).
import type { NodeSample, OfficialFigures, Run, RunFilter, RunSample } from '../core/types.js';
import { byStart, flareRuns } from '../export/flare-csv.js';
import { eachRunPage, type Store } from '../store/index.js';
import { officialCsv, type OfficialRow } from './csv.js';
import { officialFigures } from './figures.js';
import type { ComputedOfficial, OfficialKeep } from './keep.js';
import { officialSpan, officialTrace, withResultWrite, type SpanFacts } from './model.js';
import { officialRulesOf, type OfficialProfile } from './profile.js';

/** Where the traces come from: a Store (or an embedded agent's store) fits. */
export interface TraceSource {
  getRunSamples(runId: string): RunSample[];
  getNodeSamples(fromWallMs: number, toWallMs: number): NodeSample[];
}

/** A harness's own timing of a run (evaluate): just before create, just after removal (CLOCK_MONOTONIC ns). */
export interface HarnessSpan {
  beforeCreateMonoNs: number;
  afterRemoveMonoNs: number;
}

/** A span fact the model uses: an hour or more (a container created long before it was started) is not the CLI's own time. */
const plausibleSeconds = (s: number | undefined): number | null => (s !== undefined && Number.isFinite(s) && s >= 0 && s < 3600 ? s : null);

/** Host samples this far around the run are read, enough for every span model term (ms). */
const NODE_MARGIN_MS = 5000;

export function officialFiguresOfRun(run: Run, src: TraceSource, profile: OfficialProfile, harness?: HarnessSpan | null): OfficialFigures {
  return computeOfficial(run, src, profile, harness).figures;
}

/** The figures, and the wall time the monitor's modelled span ends at (the host samples they need end there). */
function computeOfficial(run: Run, src: TraceSource, profile: OfficialProfile, harness?: HarnessSpan | null): ComputedOfficial {
  const endedMonoNs = run.endedMonoNs ?? run.startedMonoNs;
  const createdSeconds = plausibleSeconds(run.summary?.createdBeforeStartSeconds);
  // The run ends at Docker's FinishedAt (on the monotonic clock), which the removal time counts from.
  const removedSeconds = plausibleSeconds(run.summary?.removedAfterEndSeconds);
  const facts: SpanFacts = {
    startedMonoNs: run.startedMonoNs,
    endedMonoNs,
    createdMonoNs: createdSeconds === null ? null : run.startedMonoNs - createdSeconds * 1e9,
    destroyedMonoNs: removedSeconds === null ? null : endedMonoNs + removedSeconds * 1e9,
    harness: harness ?? null,
  };
  const monitored = officialSpan(facts, profile.span);
  // Monotonic → wall through the run's own start pair: the node samples are selected by wall time.
  const toWallMs = (monoNs: number): number => run.startedWallMs + (monoNs - run.startedMonoNs) / 1e6;
  const fromMs = toWallMs(monitored.timeStartMonoNs) - profile.loop.firstCpuIntervalSeconds * 1000 - NODE_MARGIN_MS;
  // The ticks end at the monitor's stop; the JSON write after it only lengthens Time.
  const toMs = toWallMs(monitored.monitorEndMonoNs) + NODE_MARGIN_MS;
  const trace = officialTrace(
    { samples: src.getRunSamples(run.id), nodeSamples: src.getNodeSamples(Math.floor(fromMs), Math.ceil(toMs)), gpuDevices: run.gpuDevices ?? null },
    monitored,
    profile.loop,
  );
  // Every tick appended to the GPU list or was counted missing there: the script's sample count.
  const span = withResultWrite(monitored, trace.gpuMiB.length + trace.missing.gpu, profile.span);
  return { figures: officialFigures(trace, span, officialRulesOf(profile)), finalAfterWallMs: Math.ceil(toWallMs(monitored.monitorEndMonoNs)) };
}

/** Official rows for the finished runs among `runs`, oldest first (as the exact CSV orders them). */
export function officialRows(runs: readonly Run[], src: TraceSource, profile: OfficialProfile, harness?: ReadonlyMap<string, HarnessSpan>, keep?: OfficialKeep): OfficialRow[] {
  return flareRuns([...runs]).map((run) => {
    const compute = (): ComputedOfficial => computeOfficial(run, src, profile, harness?.get(run.id));
    // A harness's own timing is per request (evaluate): only the stored runs' own figures are kept.
    const figures = keep && !harness?.has(run.id) ? keep.figures(run, profile, compute) : compute().figures;
    return { team: run.team, case: run.case, figures };
  });
}

/**
 * officialRows over every run matching a filter, read a page at a time: only one page of runs is held
 * at once (a season's 10 000 runs as objects were most of an export's memory), in the same order.
 */
export function officialRowsOfFilter(store: Pick<Store, 'listRuns'>, filter: RunFilter, src: TraceSource, profile: OfficialProfile, keep?: OfficialKeep, perPage?: number): OfficialRow[] {
  const rows: (OfficialRow & { startedWallMs: number; id: string })[] = [];
  const nodes = windowedNodeSamples(src);
  const onePage = (runs: Run[]): void => {
    const finished = flareRuns(runs);
    const figures = officialRows(finished, nodes, profile, undefined, keep);
    for (const [i, run] of finished.entries()) rows.push({ ...figures[i], startedWallMs: run.startedWallMs, id: run.id });
  };
  eachRunPage(store, filter, onePage, perPage);
  keep?.done();
  // flareRuns' order over the whole set.
  return rows.sort(byStart).map(({ team, case: c, figures }) => ({ team, case: c, figures }));
}

/** How far past a request the host samples are read when runs come densely in time order (ms). */
const NODE_WINDOW_MS = 120_000;

/**
 * Host samples for runs taken oldest first: a request that starts inside the last range read is
 * served from it (read further ahead when it runs past), so that the seconds shared by runs that
 * overlap (several GPUs, one node) are decoded once rather than once per run; a request elsewhere
 * reads just its own range. The samples and their order are the store's for that range: the range
 * read covers every chunk the request's own would, and the same filter picks from them.
 */
export function windowedNodeSamples(src: TraceSource): TraceSource {
  let fromMs = 0;
  let toMs = -1;
  let window: NodeSample[] = [];
  return {
    getRunSamples: (runId) => src.getRunSamples(runId),
    getNodeSamples(f, t) {
      if (f < fromMs || t > toMs) {
        const dense = f >= fromMs && f <= toMs;
        fromMs = f;
        toMs = dense ? Math.max(t, f + NODE_WINDOW_MS) : t;
        window = src.getNodeSamples(fromMs, toMs);
      }
      if (f === fromMs && t === toMs) return window;
      return window.filter((s) => s.wallMs >= f && s.wallMs <= t);
    },
  };
}

/** The official CSV of stored runs under a profile. */
export function officialCsvOfRuns(runs: readonly Run[], src: TraceSource, profile: OfficialProfile, withTeam: boolean, harness?: ReadonlyMap<string, HarnessSpan>): string {
  return officialCsv(officialRows(runs, src, profile, harness), profile, withTeam);
}
