// Store benchmark. Targets (issue): ingest ≥ 200 000 samples/s, ≤ 40 bytes/sample on disk,
// load of a 36 000-sample trace ≤ 20 ms. Run: npm run build && node dist/bench/store.js
//
// Samples are shaped like the real sources' (cpuSeconds from a ns counter, MiB from bytes, ticks
// with lag) and written as the agent writes them: one flush per second, so at a 100 ms interval a
// run contributes chunks of 10 samples.
// Figures: ingest*SamplesPerSec = appends + flushes (+ the background compaction they trigger),
// with 8 runs (a commit per 80 samples: commit-bound, time-compressed — the agent commits once a
// second), 64 runs (640 samples per commit) and bulk (40 000 per commit); *PerCpuSec is the same
// over process CPU time, robust to a busy machine. bytesPerSample = file size / samples after the
// runs finished (compacted) and free pages were returned; *Running = before finishing;
// *OneSampleChunks = 1 s interval (one sample per run per flush). traceLoad* = getRunSamples of a
// 36 000-sample trace (finished; *Running: still running, partly small chunks).
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { NodeSample, Run, RunSample, RunSummary } from '../src/core/types.js';
import { openStore } from '../src/store/index.js';

/** Runs sampled at once; each flush (one commit) then holds 8 × 10 samples: commit-bound. */
const CONCURRENT_RUNS = 8;
const INGEST_SAMPLES = 400_000;
const TRACE_SAMPLES = 36_000;
const LOAD_REPEATS = 11;

function run(id: string, startedWallMs: number): Run {
  return {
    id, kind: 'container', team: `team-${id}`, case: 'case_0001', node: 'bench', status: 'running',
    startedWallMs, startedMonoNs: 0, endedWallMs: null, endedMonoNs: null, timeLimitSeconds: 600,
    nCpu: 16, intervalMs: 100, previousRunId: null, summary: null,
  };
}

/** Deterministic trace generator: a state per run, one sample per call. */
function traceGenerator(seed: number): () => RunSample {
  let state = seed >>> 0;
  const rand = (): number => (state = (state * 1664525 + 1013904223) >>> 0) / 2 ** 32;
  let i = 0;
  let cpuNs = 0;
  let ramBytes = 500 * 1048576;
  let gpuBytes = 3000 * 1048576;
  return () => {
    cpuNs += Math.floor(rand() * 1_600_000_000);
    ramBytes += Math.floor((rand() - 0.45) * 512) * 4096;
    if (rand() < 0.02) gpuBytes = Math.floor(rand() * 8192) * 1048576;
    const lagNs = Math.floor(rand() * 3_000_000);
    const sample = {
      monoNs: 8_000_000_000_000 + i * 100_000_000 + lagNs,
      wallMs: 1_700_000_000_000 + i * 100 + Math.floor(lagNs / 1e6),
      cpuSeconds: cpuNs / 1e9,
      ramMiB: ramBytes / 1048576,
      gpuMiB: gpuBytes / 1048576,
      gpuDeviceMiB: (gpuBytes + 420 * 1048576) / 1048576,
    };
    i++;
    return sample;
  };
}

function nodeSample(i: number): NodeSample {
  return {
    monoNs: 8_000_000_000_000 + i * 100_000_000,
    wallMs: 1_700_000_000_000 + i * 100,
    cpu: {
      userSeconds: (100_000 + i * 7) / 100, niceSeconds: 0, systemSeconds: (20_000 + i * 2) / 100,
      idleSeconds: (9_000_000 + i * 151) / 100, iowaitSeconds: 12, irqSeconds: 0, softirqSeconds: 3, stealSeconds: 0,
    },
    memUsedMiB: (40_000_000 + (i % 977) * 4) / 1024,
    memTotalMiB: 128_000_000 / 1024,
    gpus: [0, 1].map((index) => ({
      index, uuid: `GPU-${index}-bench`, usedMiB: (3000 + (i % 50)) * (index + 1), totalMiB: 81559, utilPct: i % 101,
    })),
  };
}

// A summary's content does not matter to the store's figures (it is one JSON column).
const FAKE_SUMMARY = JSON.parse('{"status":"completed","flags":[]}') as RunSummary;

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

function elapsedMs(t0: bigint): number {
  return Number(process.hrtime.bigint() - t0) / 1e6;
}

/** CPU time of this process (all threads) since `from`, ms: robust to other load on the machine. */
function cpuMs(from: NodeJS.CpuUsage): number {
  const used = process.cpuUsage(from);
  return (used.user + used.system) / 1000;
}

/**
 * Writes `total` samples over `runs` concurrent runs, flushing after `perFlush` ticks (one tick = one
 * sample per run), as the agent's 1 s flush does. Returns samples/s and bytes/sample after close
 * (close checkpoints the WAL into the main file).
 */
function ingest(dir: string, name: string, runs: number, perFlush: number, total: number) {
  const path = join(dir, name);
  const flushSeconds: number[] = [];
  const store = openStore(path, { flushIntervalMs: 3_600_000, onWrite: (s) => flushSeconds.push(s) });
  const gens = Array.from({ length: runs }, (_, r) => {
    store.createRun(run(`${name}-${r}`, 1_700_000_000_000 + r));
    return traceGenerator(r + 1);
  });
  // Samples are generated before timing: the bench measures the store, not the generator.
  const ticks = Math.ceil(total / runs);
  const samples = gens.map((gen) => Array.from({ length: ticks }, gen));
  const t0 = process.hrtime.bigint();
  const cpu0 = process.cpuUsage();
  for (let t = 0; t < ticks; t++) {
    for (let r = 0; r < runs; r++) store.appendRunSample(`${name}-${r}`, samples[r][t]);
    if ((t + 1) % perFlush === 0) store.flush();
  }
  store.flush();
  const ms = elapsedMs(t0);
  const cpu = cpuMs(cpu0);
  store.close(); // checkpoints the WAL into the file
  const written = ticks * runs;
  const runningBytes = statSync(path).size;
  // Then as kept for good: runs finished (which compacts their chunks), free pages returned.
  const again = openStore(path, { flushIntervalMs: 3_600_000 });
  for (let r = 0; r < runs; r++) {
    again.finishRun(`${name}-${r}`, { status: 'completed', endedWallMs: null, endedMonoNs: null, summary: FAKE_SUMMARY });
  }
  again.applyRetention({}); // deletes nothing; runs incremental_vacuum
  again.close();
  return {
    samplesPerSec: written / (ms / 1000),
    samplesPerCpuSec: written / (cpu / 1000),
    bytesPerSampleRunning: runningBytes / written,
    bytesPerSample: statSync(path).size / written,
    flushMsMedian: median(flushSeconds) * 1000,
  };
}

export async function benchStore(): Promise<Record<string, number>> {
  const dir = mkdtempSync(join(tmpdir(), 'flare-bench-store-'));
  try {
    const realistic = ingest(dir, 'ingest-100ms.db', CONCURRENT_RUNS, 10, INGEST_SAMPLES);
    const busy = ingest(dir, 'ingest-busy.db', 64, 10, INGEST_SAMPLES);
    const bulk = ingest(dir, 'ingest-bulk.db', CONCURRENT_RUNS, 5000, INGEST_SAMPLES);
    const slow = ingest(dir, 'ingest-1s.db', CONCURRENT_RUNS, 1, 40_000);

    // Node samples: 2 GPUs, one per 100 ms tick, flushed each second.
    const nodePath = join(dir, 'node.db');
    const nodeStore = openStore(nodePath, { flushIntervalMs: 3_600_000 });
    const nodeCount = 36_000;
    for (let i = 0; i < nodeCount; i++) {
      nodeStore.appendNodeSample(nodeSample(i));
      if ((i + 1) % 10 === 0) nodeStore.flush();
    }
    nodeStore.close();
    const nodeBytesPerSample = statSync(nodePath).size / nodeCount;

    // A 36 000-sample trace (one hour at 100 ms) as the agent writes it: 3 600 flushes of 10, then
    // loaded while still running (small chunks: the worst case) and once finished (compacted).
    const tracePath = join(dir, 'trace.db');
    const writer = openStore(tracePath, { flushIntervalMs: 3_600_000 });
    writer.createRun(run('trace', 1_700_000_000_000));
    const gen = traceGenerator(42);
    for (let i = 0; i < TRACE_SAMPLES; i++) {
      writer.appendRunSample('trace', gen());
      if ((i + 1) % 10 === 0) writer.flush();
    }
    let t0Running: bigint;
    const loadsRunning: number[] = [];
    for (let k = 0; k < LOAD_REPEATS; k++) {
      t0Running = process.hrtime.bigint();
      writer.getRunSamples('trace');
      loadsRunning.push(elapsedMs(t0Running));
    }
    const finishT0 = process.hrtime.bigint();
    writer.finishRun('trace', { status: 'completed', endedWallMs: null, endedMonoNs: null, summary: FAKE_SUMMARY });
    const finishRunMs = elapsedMs(finishT0);
    writer.close();
    const reader = openStore(tracePath);
    let t0 = process.hrtime.bigint();
    const first = reader.getRunSamples('trace');
    const firstLoadMs = elapsedMs(t0);
    if (first.length !== TRACE_SAMPLES) throw new Error(`trace has ${first.length} samples`);
    const loads: number[] = [];
    const loadsCpu: number[] = [];
    for (let k = 0; k < LOAD_REPEATS; k++) {
      t0 = process.hrtime.bigint();
      const cpu0 = process.cpuUsage();
      reader.getRunSamples('trace');
      loads.push(elapsedMs(t0));
      loadsCpu.push(cpuMs(cpu0));
    }
    const iterates: number[] = [];
    for (let k = 0; k < 5; k++) {
      t0 = process.hrtime.bigint();
      let n = 0;
      for (const _ of reader.iterateRunSamples('trace')) n++;
      iterates.push(elapsedMs(t0));
      if (n !== TRACE_SAMPLES) throw new Error(`iterated ${n} samples`);
    }
    reader.close();

    return {
      ingestSamplesPerSec: Math.round(realistic.samplesPerSec),
      ingestSamplesPerCpuSec: Math.round(realistic.samplesPerCpuSec),
      ingest64RunsSamplesPerSec: Math.round(busy.samplesPerSec),
      ingestBulkSamplesPerSec: Math.round(bulk.samplesPerSec),
      bytesPerSample: round2(realistic.bytesPerSample),
      bytesPerSampleRunning: round2(realistic.bytesPerSampleRunning),
      bytesPerSampleBulk: round2(bulk.bytesPerSample),
      bytesPerSampleOneSampleChunks: round2(slow.bytesPerSampleRunning),
      nodeBytesPerSample: round2(nodeBytesPerSample),
      flushMsMedian8Runs: round2(realistic.flushMsMedian),
      traceLoadMsMedian: round2(median(loads)),
      traceLoadMsMin: round2(Math.min(...loads)),
      traceLoadCpuMsMedian: round2(median(loadsCpu)),
      traceLoadMsFirstAfterReopen: round2(firstLoadMs),
      traceLoadMsMedianRunning: round2(median(loadsRunning)),
      finishRunMsWithCompaction: round2(finishRunMs),
      traceIterateMsMedian: round2(median(iterates)),
      // The figures are wall-clock: a busy machine inflates them; this says how busy it was.
      loadAverage1m: round2(loadavg()[0]),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function round2(x: number): number {
  return Math.round(x * 100) / 100;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  console.log(JSON.stringify(await benchStore(), null, 2));
}
