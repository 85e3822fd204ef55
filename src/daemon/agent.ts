// The daemon: storage, the sampling stack, the exporter, HTTP, and the runtime watchers, wired together.
// Without Docker or a GPU it still starts, samples the node, serves /healthz and /metrics, and says what is missing.
import { hostname } from 'node:os';
import type { AgentConfig } from '../agent/config.js';
import type { Run } from '../core/types.js';
import { watchedWindows } from '../core/lives.js';
import type { Logger } from '../log.js';
import { MissedTicksLog } from '../agent/missed-ticks-log.js';
import { monoNowNs } from '../clock/ticker.js';
import { TickRides } from '../clock/rides.js';
import { readInventory } from '../sources/inventory.js';
import type { SourceStatus } from '../sources/types.js';
import { acquireDbLock, DbLinkError, DbLockedError, openStore, type Store } from '../store/index.js';
import { ErrorCounter } from '../agent/errors.js';
import { StartError, Unwinder } from '../agent/unwind.js';
import { writerPid } from '../sources/writer.js';
import { WEB_DIR } from '../paths.js';
import { VERSION } from '../version.js';
import { HTTP_THREAD_NICE, SAMPLER_NICE, setThisThreadNice } from '../agent/thread-priority.js';
import { startHttpBridge, type HttpBridge } from './http-bridge.js';
import { recoverLeftRuns, settleStoppedRuns, type Settler } from '../agent/recover.js';
import { createSamplingStack, type SamplingStack } from '../agent/stack.js';
import { inlineSummariser, threadSummariser } from '../agent/summary-thread.js';
import { RetentionThread } from '../agent/retention-thread.js';
import type { AgentEvents, Health, LiveView, SourceName } from '../agent/types.js';
import type { AgentContext, AttachmentFactory } from '../agent/context.js';

export interface RunningAgent {
  port: number;
  store: Store;
  stack: SamplingStack;
  live: LiveView;
  /** Errors after start (never fatal): logged and counted (errors.ts). */
  errors: ErrorCounter;
  /** Undoes the start in reverse; every step runs, the lock is released last; safe to call twice. */
  stop(): Promise<void>;
}

const RETENTION_EVERY_MS = 3600_000;

/** How far back an interrupted run is relinked, and a container missed by an agent looked for in Docker. */
const RELINK_LOOKBACK_MS = 7 * 24 * 3600_000;
const RELINK_MAX_RUNS = 1000;

/** Runs the agent itself interrupted (its stop, or a crash) on this node lately, newest first. */
function recentlyInterrupted(store: Store, node: string): Run[] {
  // 'timeout' too: an interrupted run past its limit is turned into a timeout (core/summary.ts), still interrupted.
  const { runs } = store.listRuns({ status: ['interrupted', 'timeout'], node: [node], sinceWallMs: Date.now() - RELINK_LOOKBACK_MS }, RELINK_MAX_RUNS);
  return runs.filter((r) => r.kind === 'container' && r.containerId && r.summary?.terminationReason === 'agent interrupted');
}

export interface AgentOptions {
  /** Settles runs an earlier process left running from their target's own record (Docker inspect). */
  settle?: Settler;
  /** The error counts' owner when the caller made it first (start.ts: process-level handlers count there too). */
  errors?: ErrorCounter;
}

export async function startAgent(config: AgentConfig, log: Logger, attach: AttachmentFactory[] = [], options: AgentOptions = {}): Promise<RunningAgent> {
  const undo = new Unwinder();
  const at = { step: 'lock the database' };
  try {
    return await startSteps(config, log, attach, options, undo, at);
  } catch (err) {
    // Everything started so far, in reverse (threads, sockets, the database, the lock last).
    await undo.unwind(log);
    throw err instanceof DbLockedError || err instanceof DbLinkError ? err : new StartError(at.step, err);
  }
}

async function startSteps(config: AgentConfig, log: Logger, attach: AttachmentFactory[], options: AgentOptions, undo: Unwinder, at: { step: string }): Promise<RunningAgent> {
  // One agent per database, before anything touches runs: a second one exits here having changed nothing.
  const lock = acquireDbLock(config.db);
  undo.push('release the database lock', () => lock.release());
  const startedWallMs = Date.now();
  const errors = options.errors ?? new ErrorCounter(log);
  const sources: Record<SourceName, SourceStatus> = {
    docker: { up: false, reason: 'not started' },
    containerd: { up: false, reason: 'not started' },
    gpu: { up: false, reason: 'not started' },
    cgroup: { up: false, reason: 'not started' },
    host: { up: false, reason: 'not started' },
    sqlite: { up: true },
  };
  let stack: SamplingStack | null = null;
  let gpuAccountingNotice: string | null = null; // said once, in /healthz and the log
  let gpuAccountingModes: { on: number[]; off: number[] } = { on: [], off: [] };
  let storeRef: Store | null = null;
  const live: LiveView = {
    liveRuns: () => stack?.runs.live(monoNowNs()) ?? [],
    lastNodeSample: () => stack?.sampler.lastNodeSample() ?? null,
    gpuDevices: () => stack?.gpu.devices() ?? [],
    health: (): Health => ({
      node: stack?.node ?? '',
      version: VERSION,
      startedWallMs,
      intervalMs: config.intervalMs,
      gpuSource: { requested: config.gpuSource, active: stack?.gpu.name ?? 'none', reasons: stack?.gpuReasons ?? {} },
      gpuAccounting: gpuAccountingNotice,
      gpuAccountingModes,
      timeLimitEnforced: config.enforceTimeLimit,
      killGraceSeconds: config.killGraceSeconds,
      // A runtime is attached once its attachment has reported a state (see setSource).
      runtime: { requested: config.runtime, attached: (['docker', 'containerd'] as const).filter((n) => sources[n].up || sources[n].reason !== 'not started') },
      sources: {
        ...sources,
        gpu: stack ? gpuStatus(stack) : sources.gpu,
        cgroup: stack ? stack.counters.status('cgroup', sources.cgroup) : sources.cgroup,
        host: stack ? stack.counters.status('host', sources.host) : sources.host,
      },
      cgroup: stack ? { ...stack.cgroupLayout } : { hierarchies: 'not started', lastPicked: null },
      ticks: { count: stack?.sampler.ticks.ticks ?? 0, missed: stack?.sampler.ticks.missed ?? 0 },
      store: { queuedSamples: storeRef?.queuedSamples() ?? 0, pendingRuns: storeRef?.pendingRuns() ?? 0, pendingVerdicts: storeRef?.pendingVerdicts() ?? 0 },
      errors: errors.snapshot(),
    }),
  };
  // Metric events go to the HTTP thread's registry with the next snapshot; the few before the
  // HTTP thread is up (store open, recovery) wait here.
  let bridge: HttpBridge | null = null;
  const early: ((to: AgentEvents) => void)[] = [];
  const send = (f: (to: AgentEvents) => void): void => void (bridge ? f(bridge) : early.push(f));
  const missedTicks = new MissedTicksLog(log, config.intervalMs);
  const metrics: AgentEvents = {
    tick: (lagSeconds, missed) => {
      missedTicks.tick(lagSeconds, missed);
      if (!bridge) return;
      bridge.tick(lagSeconds, missed);
      bridge.publish();
    },
    dbWrite: (seconds, n) => send((to) => to.dbWrite(seconds, n)),
    sourceError: (source) => send((to) => to.sourceError(source)),
    // A finished run changes what readers see (live runs, source states): a snapshot at once, not at the next tick.
    runFinished: (run) =>
      send((to) => {
        to.runFinished(run);
        bridge?.publish(true);
      }),
    samplesDropped: (n) => send((to) => to.samplesDropped(n)),
  };
  at.step = `open the database ${config.db}`;
  // The store's background flush and the partial summaries ride the sampler's tick wake-ups while it
  // runs (clock/rides.ts), on timers of their own before it starts and after it stops.
  const rides = new TickRides();
  const store = openStore(config.db, {
    every: rides.every,
    maxQueuedSamples: config.maxQueuedSamples,
    onWrite: (seconds, n) => metrics.dbWrite(seconds, n),
    onError: (err: Error) => {
      // Logged once per outage, not once per retry.
      if (sources.sqlite.up) log.error('sqlite write failed', { error: err.message });
      sources.sqlite = { up: false, reason: err.message };
      metrics.sourceError('sqlite');
    },
    onRecovered: () => {
      sources.sqlite = { up: true };
      log.info('sqlite writes work again');
    },
    onSamplesDropped: (runId, n) => {
      metrics.samplesDropped(n);
      if (runId !== null) stack?.runs.noteDropped(runId, n);
    },
  });
  storeRef = store;
  let lifeId: number | null = null;
  undo.push('close the database', () => {
    try {
      store.flush(); // rows still waiting land first, when the disk allows
    } catch {
      // reported by the store; endAgentLife then leaves the life open
    }
    if (lifeId !== null) store.endAgentLife(lifeId, Date.now());
    store.close();
  });
  at.step = 'settle the runs a previous agent left running';
  for (const { run, outcome, writer } of await recoverLeftRuns(store, options.settle ?? null)) {
    if (outcome === 'settled') log.warn('run left running by a previous agent settled from its runtime', { runId: run.id, team: run.team, case: run.case, status: run.status, exitCode: run.summary?.exitCode });
    else if (outcome === 'interrupted') log.warn('run left running by a previous agent closed as interrupted', { runId: run.id, team: run.team, case: run.case });
    else log.info('run of a live writer left running', { runId: run.id, kind: run.kind, team: run.team, case: run.case, writerPid: writerPid(writer ?? null) });
  }
  at.step = 'settle the runs a stopped agent left interrupted';
  for (const run of await settleStoppedRuns(store, options.settle ?? null, recentlyInterrupted(store, hostname()))) {
    log.warn('run interrupted by an earlier agent settled from its runtime', { runId: run.id, team: run.team, case: run.case, status: run.status, exitCode: run.summary?.exitCode });
  }
  const interruptedAtStart = recentlyInterrupted(store, hostname());
  // Lives before this one, read before this one is recorded (a crashed life lasts until the next start).
  const lookbackMs = Math.min(RELINK_LOOKBACK_MS, config.retentionDays === null ? Infinity : config.retentionDays * 86_400_000);
  const watched = watchedWindows(store.agentLives(hostname(), startedWallMs - lookbackMs), startedWallMs);
  at.step = `write to the database ${config.db}`;
  lifeId = store.beginAgentLife(hostname(), startedWallMs); // a file that refuses every write throws here

  // The sampler's thread first (threads created later inherit it; the HTTP thread lowers itself to +10).
  const samplerNice = setThisThreadNice(SAMPLER_NICE) ? SAMPLER_NICE : 0;
  at.step = `start the sampling stack (GPU source ${config.gpuSource})`;
  stack = await createSamplingStack(config, store, metrics, (run) => {
    metrics.runFinished(run);
    log.info('run finished', { runId: run.id, team: run.team, case: run.case, status: run.status, wallSeconds: run.summary?.wallSeconds, cpuSeconds: run.summary?.cpuSeconds });
  }, log, (owner) =>
    // A second connection to ':memory:' would be another, empty database: there, summaries stay here.
    config.db === ':memory:' ? inlineSummariser(owner) : threadSummariser(config.db, inlineSummariser(owner), log),
  errors, rides);
  const s = stack;
  undo.push('close the sampling stack', () => s.close());
  at.step = `listen on ${config.listen}`;
  const http = await startHttpBridge({
    live,
    samplesFrom: (runId, fromIndex) => s.runs.samplesOf(runId)?.slice(fromIndex) ?? null,
    keepOfficial: (rows) => store.saveOfficialFigures(rows),
    config: {
      db: config.db,
      listen: config.listen,
      token: config.token,
      metricsOpen: config.metricsOpen,
      accuracyCsv: config.accuracyCsv,
      readHeapMib: config.readHeapMib,
      webDir: WEB_DIR,
      lowerPriority: true,
    },
  });
  bridge = http;
  undo.push('close the HTTP server', async () => {
    http.publish(true);
    await http.close();
  });
  for (const f of early.splice(0)) f(http);
  log.info('listening', { listen: config.listen, port: http.port, thread: 'http worker', samplerNice, httpThreadNice: HTTP_THREAD_NICE });

  at.step = 'start the sampler';
  sources.host = { up: true };
  gpuAccountingNotice = s.gpuRecorder?.accountingNotice() ?? null;
  gpuAccountingModes = s.gpuRecorder?.accountingModes() ?? { on: [], off: [] };
  if (gpuAccountingNotice) log.warn(gpuAccountingNotice);
  sources.cgroup = s.mountsError ? { up: false, reason: s.mountsError } : { up: true };
  store.recordInventory(readInventory(VERSION, s.gpu.devices()));
  s.sampler.start();
  undo.push('stop the sampler and close the runs in flight', async () => {
    s.sampler.stop();
    await s.runs.interruptAll();
  });
  http.publish(true); // readers see the started sources at once, not after the first tick's snapshot
  log.info('sampler started', { intervalMs: config.intervalMs, nCpu: s.host.onlineCpus, gpuSource: s.gpu.name, gpuReasons: s.gpuReasons, summaries: s.summariesOn });
  if (s.gpu.name === 'none') log.warn('no GPU source: GPU figures will be null', { reasons: s.gpuReasons });
  if (s.mountsError) log.warn('no cgroup accounting: containers cannot be measured', { reason: s.mountsError });
  else log.info('cgroup hierarchies', { cgroup: s.cgroupLayout.hierarchies });

  // Off the sampler's thread, in short transactions (retention-thread.ts); the store forgets what it deletes.
  const retentionThread = new RetentionThread(config.db, store);
  const retention = (): void => {
    if (config.retentionDays === null && config.retentionMaxMib === null) return;
    const opts = { maxAgeDays: config.retentionDays ?? undefined, maxBytes: config.retentionMaxMib === null ? undefined : config.retentionMaxMib * 1024 * 1024 };
    retentionThread.pass(opts).then(
      (r) => {
        if (r.deletedRuns > 0 || r.nodeChunks > 0 || r.freedPages > 0) log.info('retention pass', { ...r, seconds: Math.round(r.seconds * 1000) / 1000 });
      },
      // A failing disk: the next pass retries; the agent keeps measuring.
      (err: unknown) => errors.note('retention', err),
    );
  };
  retention();
  const retentionTimer = setInterval(retention, RETENTION_EVERY_MS).unref();
  undo.push('stop retention', async () => {
    clearInterval(retentionTimer);
    await retentionThread.close();
  });

  const ctx: AgentContext = {
    config,
    log,
    store,
    stack: s,
    events: metrics,
    errors,
    setSource: (name, status) => {
      if (!status.up && sources[name].up) metrics.sourceError(name);
      sources[name] = status;
    },
    interruptedAtStart,
    watched,
  };
  for (const factory of attach) {
    at.step = 'attach to the container runtime';
    const a = await factory(ctx);
    if (a) undo.push('detach from the container runtime', () => a.stop());
  }

  let stopping: Promise<void> | null = null;
  return {
    port: http.port,
    store,
    stack: s,
    live,
    errors,
    stop(): Promise<void> {
      stopping ??= undo.unwind(log).then(() => log.info('agent stopped'));
      return stopping;
    },
  };
}

function gpuStatus(stack: SamplingStack): SourceStatus {
  if (stack.gpu.name === 'none') {
    const why = Object.entries(stack.gpuReasons).map(([k, v]) => `${k}: ${v}`).join('; ');
    return { up: false, reason: `no GPU source${why ? ` (${why})` : ''}` };
  }
  return stack.gpu.status();
}
