// Benchmarks (not part of npm test): prints one JSON object with every figure and its target.
// Usage: npm run build && npm run bench [-- --quick]
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

const overhead: Record<string, number>[] = [];
for (const intervalMs of [100, 10]) {
  for (const n of [0, 1, 10, 50]) overhead.push(await benchAgentOverhead(intervalMs, n, seconds));
}

/** The built agent as a node sees it (every thread, 10 Hz), idle and with 10 containers, beside the FLARE22 monitor. */
async function agentProcess(): Promise<Record<string, unknown>> {
  const { benchAgentProcess, benchFlare22Monitor } = await import('./agent-process.js');
  const windowSeconds = quick ? 10 : 30;
  // Steady state: from 45 s on, past the first partial summaries (30 s after a run starts), which start
  // the summary thread once; the first 20 s are measured on their own.
  const warmSeconds = quick ? 20 : 45;
  const idle = await benchAgentProcess(0, windowSeconds, warmSeconds);
  const tenTargets = await benchAgentProcess(10, windowSeconds, warmSeconds);
  const monitor = benchFlare22Monitor(20);
  return {
    idleCpuPctOfOneCore: idle.agentCpuPctOfOneCore,
    tenTargetsCpuPctOfOneCore: tenTargets.agentCpuPctOfOneCore,
    missedTicks: idle.missedTicks + tenTargets.missedTicks,
    first20sCpuSecondsIdle: idle.first20sCpuSeconds,
    first20sCpuSecondsTenTargets: tenTargets.first20sCpuSeconds,
    flare22MonitorCpuSecondsIn20s: monitor?.monitorCpuSeconds ?? 'not measured: needs /usr/bin/time and python3 with psutil and numpy',
  };
}

const out = {
  machine: { cpus: (await import('node:os')).cpus().length, node: process.version },
  targets: {
    processTenTargetsCpuPctOfOneCore: '<= 0.5 (the built agent, every thread, 10 Hz x 10 containers)',
    processIdleCpuPctOfOneCore: '<= 0.3 (no target)',
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
  overhead,
  process: await optional('process', agentProcess),
  summary: { ...benchSummary(), ...(await benchSummaryHeld()) },
  store: await optional('store', async () => (await import('./store.js')).benchStore()),
  gpu: await optional('gpu', async () => (await import('./gpu.js')).benchGpu()),
  scrape: await optional('scrape', async () => (await import('./scrape.js')).benchScrape()),
  attach: await optional('attach', async () => (await import('./attach.js')).benchAttach()),
};
process.stdout.write(JSON.stringify(out, null, 2) + '\n');
