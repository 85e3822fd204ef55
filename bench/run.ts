// Benchmarks (not part of npm test): prints one JSON object with every figure and its target.
// Usage: npm run build && npm run bench [-- --quick]
import { benchAgentOverhead } from './agent.js';
import { benchSummary, benchSummaryHeld } from './summary.js';

const quick = process.argv.includes('--quick');
const seconds = quick ? 3 : 10;

async function optional(name: string, load: () => Promise<Record<string, number>>): Promise<Record<string, number> | { error: string }> {
  try {
    return await load();
  } catch (e) {
    return { error: `${name}: ${(e as Error).message}` };
  }
}

const overhead: Record<string, number>[] = [];
for (const intervalMs of [100, 10]) {
  for (const n of [1, 10, 50]) overhead.push(await benchAgentOverhead(intervalMs, n, seconds));
}

const out = {
  machine: { cpus: (await import('node:os')).cpus().length, node: process.version },
  targets: {
    agentCpuPctAt10HzX10: '<= 0.3',
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
  summary: { ...benchSummary(), ...(await benchSummaryHeld()) },
  store: await optional('store', async () => (await import('./store.js')).benchStore()),
  gpu: await optional('gpu', async () => (await import('./gpu.js')).benchGpu()),
  scrape: await optional('scrape', async () => (await import('./scrape.js')).benchScrape()),
  attach: await optional('attach', async () => (await import('./attach.js')).benchAttach()),
};
process.stdout.write(JSON.stringify(out, null, 2) + '\n');
