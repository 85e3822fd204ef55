// Benchmarks (not part of npm test): prints one JSON object with every figure and its target.
// Usage: npm run build && npm run bench [-- --quick] [-- --only process,store]
import { benchAgentOverhead } from './agent.js';
import { benchSummary, benchSummaryHeld } from './summary.js';

const quick = process.argv.includes('--quick');
const seconds = quick ? 3 : 10;

async function optional<T>(name: string, load: () => Promise<T>): Promise<T | { error: string }> {
  try {
    return await load();
  } catch (e) {
    return { error: `${name}: ${(e as Error).message}` };
  }
}

/** `--only a,b`: just those blocks (e.g. `process`, minutes instead of a quarter of an hour). */
const onlyAt = process.argv.indexOf('--only');
const only = onlyAt >= 0 ? new Set((process.argv[onlyAt + 1] ?? '').split(',')) : null;

async function overhead(): Promise<Record<string, number>[]> {
  const figures: Record<string, number>[] = [];
  for (const intervalMs of [100, 10]) {
    for (const n of [0, 1, 10, 50]) figures.push(await benchAgentOverhead(intervalMs, n, seconds));
  }
  return figures;
}

/** The built agent as a node sees it (every thread, 10 Hz), idle and with 10 containers, beside the FLARE22 monitor. */
async function agentProcess(): Promise<Record<string, unknown>> {
  const { benchAgentProcess, benchFlare22Monitor } = await import('./agent-process.js');
  // Two windows of each agent's life. "warming", 45 to 75 s: past the first partial summaries (30 s after a
  // run starts, which start the summary thread once), but V8 still compiles the tick's code (functions run
  // ten times a second reach TurboFan's budget only after a minute or two: 0.1-0.2 % of a core in its
  // compiler threads here). "steady", 120 to 180 s: what a node pays for as long as the agent runs.
  // The first 20 s are measured on their own.
  const windows = quick ? [{ fromSeconds: 20, seconds: 10 }, { fromSeconds: 30, seconds: 10 }] : [{ fromSeconds: 45, seconds: 30 }, { fromSeconds: 120, seconds: 60 }];
  const idle = await benchAgentProcess(0, windows);
  const tenTargets = await benchAgentProcess(10, windows);
  const [idleWarming, idleSteady] = idle.windows.map((w) => w.agentCpuPctOfOneCore);
  const [tenWarming, tenSteady] = tenTargets.windows.map((w) => w.agentCpuPctOfOneCore);
  const monitor = benchFlare22Monitor(20);
  return {
    idleCpuPctOfOneCore: idleSteady,
    tenTargetsCpuPctOfOneCore: tenSteady,
    idleWarmingCpuPctOfOneCore: idleWarming,
    tenTargetsWarmingCpuPctOfOneCore: tenWarming,
    windows: { steady: `${windows[1].fromSeconds}-${windows[1].fromSeconds + windows[1].seconds} s`, warming: `${windows[0].fromSeconds}-${windows[0].fromSeconds + windows[0].seconds} s` },
    // 10 a second is one wake-up per tick; each more is a timer or a message of the agent's own.
    mainThreadWakesPerSecond: { idle: idle.windows[1].mainThreadWakesPerSecond, tenTargets: tenTargets.windows[1].mainThreadWakesPerSecond },
    missedTicks: idle.missedTicks + tenTargets.missedTicks,
    first20sCpuSecondsIdle: idle.first20sCpuSeconds,
    first20sCpuSecondsTenTargets: tenTargets.first20sCpuSeconds,
    flare22MonitorCpuSecondsIn20s: monitor?.monitorCpuSeconds ?? 'not measured: needs /usr/bin/time and python3 with psutil and numpy',
  };
}

const out: Record<string, unknown> = {
  machine: { cpus: (await import('node:os')).cpus().length, node: process.version },
  targets: {
    processTenTargetsCpuPctOfOneCore: '<= 0.5 (the built agent, every thread, 10 Hz x 10 containers, steady window)',
    processIdleCpuPctOfOneCore: '<= 0.3 (no target, steady window)',
    processFirst20sCpuSeconds: '<= flare22MonitorCpuSecondsIn20s',
    lagP99Ms: '<= 2',
    storeIngestSamplesPerSecond: '>= 200000',
    storeBytesPerSample: '<= 40',
    trace36kLoadMs: '<= 20',
    summary36kMs: 'reported (no target)',
    summaryHeldMsWorker: '<= heldMsInline / 5 (packing the samples for the summary thread is all the sampler thread does)',
    gpuSampleMsPerTick: '<= 0.1',
    scrapeMsAt50: '<= 10',
    attach: 'reported (real Docker engine; compared before/after a watcher change)',
  },
};
const blocks: Record<string, () => Promise<unknown>> = {
  overhead,
  process: () => optional('process', agentProcess),
  summary: async () => ({ ...benchSummary(), ...(await benchSummaryHeld()) }),
  store: () => optional('store', async () => (await import('./store.js')).benchStore()),
  gpu: () => optional('gpu', async () => (await import('./gpu.js')).benchGpu()),
  scrape: () => optional('scrape', async () => (await import('./scrape.js')).benchScrape()),
  attach: () => optional('attach', async () => (await import('./attach.js')).benchAttach()),
};
for (const [name, run] of Object.entries(blocks)) {
  if (!only || only.has(name)) out[name] = await run();
}
process.stdout.write(JSON.stringify(out, null, 2) + '\n');
