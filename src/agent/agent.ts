// The daemon: storage, the sampling stack, the exporter, HTTP, and the Docker watcher, wired together.
// Without Docker or a GPU it still starts, samples the node, serves /healthz and /metrics, and says what is missing.
import { hostname } from 'node:os';
import type { AgentConfig } from '../config.js';
import { summarizeRun } from '../core/summary.js';
import type { Run } from '../core/types.js';
import { AgentMetrics } from '../http/metrics.js';
import { createApp, listen, type Listening } from '../http/server.js';
import type { Logger } from '../log.js';
import { monoNowNs } from '../sampler/ticker.js';
import { readInventory } from '../sources/inventory.js';
import type { SourceStatus } from '../sources/types.js';
import { openStore } from '../store/index.js';
import type { Store } from '../store/types.js';
import { WEB_DIR } from '../paths.js';
import { VERSION } from '../version.js';
import { createSamplingStack, penaltiesOf, type SamplingStack } from './stack.js';
import type { AgentEvents, Health, LiveView, SourceName } from './types.js';

/** What an attachment (the Docker watcher) gets from the agent. */
export interface AgentContext {
  config: AgentConfig;
  log: Logger;
  store: Store;
  stack: SamplingStack;
  events: AgentEvents;
  setSource(name: SourceName, status: SourceStatus): void;
  /**
   * Container runs an earlier agent process on this node left unfinished (closed as interrupted at its
   * stop, or just now after a crash), newest first: a container still running continues in a new run
   * linked to its earlier one.
   */
  interruptedAtStart: Run[];
}

/** Something the agent starts after its sampler (the Docker watcher); stopped before the sampler. */
export interface Attachment {
  stop(): Promise<void>;
}

export type AttachmentFactory = (ctx: AgentContext) => Promise<Attachment | null>;

export interface RunningAgent {
  port: number;
  store: Store;
  stack: SamplingStack;
  live: LiveView;
  stop(): Promise<void>;
}

const RETENTION_EVERY_MS = 3600_000;

/**
 * Runs left 'running' by a crash (or kill -9) become 'interrupted', with the summary of what was stored.
 */
export function closeInterruptedRuns(store: Store, config: AgentConfig): Run[] {
  const closed: Run[] = [];
  for (const run of store.runningRuns()) {
    const samples = store.getRunSamples(run.id);
    const last = samples.at(-1);
    const endedMonoNs = last?.monoNs ?? run.startedMonoNs;
    const endedWallMs = last?.wallMs ?? run.startedWallMs;
    const summary = summarizeRun({
      startedMonoNs: run.startedMonoNs,
      endedMonoNs,
      samples,
      nodeSamples: store.getNodeSamples(run.startedWallMs, endedWallMs),
      nCpu: run.nCpu,
      intervalMs: run.intervalMs,
      timeLimitSeconds: run.timeLimitSeconds,
      // The tolerance the run was measured with (its partial summary), not whatever this start configured.
      gpuToleranceMiB: run.summary?.gpuToleranceMiB ?? config.gpuToleranceMib,
      penalties: penaltiesOf(config),
      status: 'interrupted',
      terminationReason: 'agent interrupted',
      exitCode: null,
      flags: [...(run.summary?.flags ?? []), 'recovered-after-agent-stop'],
    });
    store.finishRun(run.id, { status: summary.status, endedWallMs, endedMonoNs, summary });
    closed.push({ ...run, status: summary.status, endedWallMs, endedMonoNs, summary });
  }
  return closed;
}

const RELINK_LOOKBACK_MS = 7 * 24 * 3600_000;
const RELINK_MAX_RUNS = 1000;

/** Runs the agent itself interrupted (its stop, or a crash) on this node lately, newest first. */
function recentlyInterrupted(store: Store, node: string): Run[] {
  const { runs } = store.listRuns({ status: 'interrupted', node, sinceWallMs: Date.now() - RELINK_LOOKBACK_MS }, RELINK_MAX_RUNS);
  return runs.filter((r) => r.kind === 'container' && r.containerId && r.summary?.terminationReason === 'agent interrupted');
}

export async function startAgent(config: AgentConfig, log: Logger, attach: AttachmentFactory[] = []): Promise<RunningAgent> {
  const startedWallMs = Date.now();
  const sources: Record<SourceName, SourceStatus> = {
    docker: { up: false, reason: 'not started' },
    containerd: { up: false, reason: 'not started' },
    gpu: { up: false, reason: 'not started' },
    cgroup: { up: false, reason: 'not started' },
    sqlite: { up: true },
  };
  let stack: SamplingStack | null = null;
  const live: LiveView = {
    liveRuns: () => stack?.runs.live(monoNowNs()) ?? [],
    lastNodeSample: () => stack?.sampler.lastNodeSample() ?? null,
    gpuDevices: () => stack?.gpu.devices() ?? [],
    health: (): Health => ({
      node: stack?.node ?? '',
      version: VERSION,
      startedWallMs,
      intervalMs: config.intervalMs,
      gpuSource: { active: stack?.gpu.name ?? 'none', reasons: stack?.gpuReasons ?? {} },
      // A runtime is attached once its attachment has reported a state (see setSource).
      runtime: { requested: config.runtime, attached: (['docker', 'containerd'] as const).filter((n) => sources[n].up || sources[n].reason !== 'not started') },
      sources: { ...sources, gpu: stack ? gpuStatus(stack) : sources.gpu },
      ticks: { count: stack?.sampler.ticks.ticks ?? 0, missed: stack?.sampler.ticks.missed ?? 0 },
    }),
  };
  const metrics = new AgentMetrics({ live });
  const store = openStore(config.db, {
    onWrite: (seconds, n) => metrics.dbWrite(seconds, n),
    onError: (err: Error) => {
      sources.sqlite = { up: false, reason: err.message };
      metrics.sourceError('sqlite');
      log.error('sqlite write failed', { error: err.message });
    },
  });
  const recovered = closeInterruptedRuns(store, config);
  for (const run of recovered) log.warn('run left running by a previous agent closed as interrupted', { runId: run.id, team: run.team, case: run.case });
  const interruptedAtStart = recentlyInterrupted(store, hostname());

  stack = await createSamplingStack(config, store, metrics, (run) => {
    metrics.runFinished(run);
    log.info('run finished', { runId: run.id, team: run.team, case: run.case, status: run.status, wallSeconds: run.summary?.wallSeconds, cpuSeconds: run.summary?.cpuSeconds });
  });
  sources.cgroup = stack.mountsError ? { up: false, reason: stack.mountsError } : { up: true };
  store.recordInventory(await readInventory(VERSION, stack.gpu.devices()));
  stack.sampler.start();
  log.info('sampler started', { intervalMs: config.intervalMs, nCpu: stack.host.onlineCpus, gpuSource: stack.gpu.name, gpuReasons: stack.gpuReasons });
  if (stack.gpu.name === 'none') log.warn('no GPU source: GPU figures will be null', { reasons: stack.gpuReasons });
  if (stack.mountsError) log.warn('no cgroup accounting: containers cannot be measured', { reason: stack.mountsError });

  const retention = (): void => {
    if (config.retentionDays === null && config.retentionMaxMib === null) return;
    const { deletedRuns } = store.applyRetention({ maxAgeDays: config.retentionDays ?? undefined, maxBytes: config.retentionMaxMib === null ? undefined : config.retentionMaxMib * 1024 * 1024 });
    if (deletedRuns > 0) log.info('retention deleted runs', { deletedRuns });
  };
  retention();
  const retentionTimer = setInterval(retention, RETENTION_EVERY_MS).unref();

  const app = createApp({ store, live, metrics, token: config.token ?? undefined, metricsOpen: config.metricsOpen, webDir: WEB_DIR });
  let http: Listening;
  try {
    http = await listen(app, config.listen);
  } catch (e) {
    stack.close();
    store.close();
    throw e;
  }
  log.info('listening', { listen: config.listen, port: http.port });

  const ctx: AgentContext = {
    config,
    log,
    store,
    stack,
    events: metrics,
    setSource: (name, status) => {
      if (!status.up && sources[name].up) metrics.sourceError(name);
      sources[name] = status;
    },
    interruptedAtStart,
  };
  const attachments: Attachment[] = [];
  for (const factory of attach) {
    const a = await factory(ctx);
    if (a) attachments.push(a);
  }

  const s = stack;
  return {
    port: http.port,
    store,
    stack: s,
    live,
    async stop(): Promise<void> {
      for (const a of attachments) await a.stop();
      s.sampler.stop();
      s.runs.interruptAll();
      clearInterval(retentionTimer);
      await http.close();
      s.close();
      store.close();
      log.info('agent stopped');
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
