// One sampling loop of bench/sampler-floor.ts, as a process of its own: every 100 ms it reads the host
// (/proc/stat, /proc/meminfo) and each target's counter files with the agent's own readers, and hands
// the readings to an owner, in one of two shapes:
// - `event-loop`: the agent's shape. The agent's Ticker (a Node timer re-armed at each due time) wakes
//   the main thread, which reads and keeps the readings.
// - `event-loop-store`: the agent's shape, and each tick's readings appended to a SQLite store as the
//   agent appends them (a node sample and a sample per target, each target a run), flushed after the
//   first tick past each flush period (1 s, as the agent's).
// - `thread`: a worker thread blocks in Atomics.wait until each due time, reads there, and posts the
//   main thread the readings of ten ticks at once, once a second.
// Usage: node sampler-floor-child.js <event-loop|event-loop-store|thread> <intervalMs> <CgroupPaths[] as JSON> [flushMs] [storeDir]
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { CgroupReader } from '../src/cgroup/counters.js';
import type { CgroupPaths, CgroupReading } from '../src/cgroup/types.js';
import { HostSource } from '../src/sources/host.js';
import type { HostReading } from '../src/sources/types.js';
import { monoNowNs, Ticker, type Tick } from '../src/clock/ticker.js';
import { TickRides } from '../src/clock/rides.js';
import { openStore } from '../src/store/index.js';

interface TickReadings {
  monoNs: number;
  host: HostReading | null;
  targets: CgroupReading[];
}

/** The readers one loop owns, and one tick's reads. */
function readersOf(paths: CgroupPaths[]): () => TickReadings {
  const host = new HostSource();
  const targets = paths.map((p) => new CgroupReader(p));
  return () => ({ monoNs: monoNowNs(), host: host.read(), targets: targets.map((r) => r.read()) });
}

/** What the owner keeps: the last minute of readings, as the agent keeps a run's samples. */
const kept: TickReadings[] = [];
function keep(readings: TickReadings[]): void {
  for (const r of readings) kept.push(r);
  if (kept.length > 600) kept.splice(0, kept.length - 600);
}

/** The agent's shape with its store: each target a run, each tick a node sample and a sample per run. */
function storeLoop(intervalMs: number, paths: CgroupPaths[], flushIntervalMs: number, dir: string): void {
  const read = readersOf(paths);
  const rides = new TickRides();
  const store = openStore(join(dir, 'floor.db'), { every: rides.every, flushIntervalMs });
  const startedWallMs = Date.now();
  const runIds = paths.map((_, i) => {
    const id = `floor-${i}`;
    store.createRun({ id, kind: 'container', team: 'floor', case: `c${i}`, node: 'bench', containerId: `c${i}`, containerName: `c${i}`, image: 'bench', gpuDevices: [], status: 'running', startedWallMs, startedMonoNs: monoNowNs(), endedWallMs: null, endedMonoNs: null, timeLimitSeconds: null, nCpu: 1, intervalMs, previousRunId: null, summary: null });
    return id;
  });
  const onTick = (tick: Tick): void => {
    const r = read();
    if (r.host) store.appendNodeSample({ monoNs: tick.monoNs, wallMs: tick.wallMs, cpu: r.host.cpu, memUsedMiB: r.host.memUsedMiB, memTotalMiB: r.host.memTotalMiB, gpus: [] });
    r.targets.forEach((t, i) => store.appendRunSample(runIds[i], { monoNs: r.monoNs, wallMs: tick.wallMs, cpuSeconds: t.cpuSeconds, ramMiB: t.ramMiB, gpuMiB: null, gpuDeviceMiB: null }));
    keep([r]);
  };
  new Ticker(intervalMs, onTick, rides).start();
}

if (isMainThread) {
  const [mode, intervalArg, pathsJson, flushArg, storeDir] = process.argv.slice(2);
  const intervalMs = Number(intervalArg);
  const paths = JSON.parse(pathsJson) as CgroupPaths[];
  if (mode === 'event-loop') {
    const read = readersOf(paths);
    new Ticker(intervalMs, () => keep([read()])).start();
  } else if (mode === 'event-loop-store') {
    storeLoop(intervalMs, paths, Number(flushArg ?? 1000), storeDir ?? mkdtempSync(join(tmpdir(), 'flare-floor-')));
  } else if (mode === 'thread') {
    const worker = new Worker(fileURLToPath(import.meta.url), { workerData: { intervalMs, paths } });
    worker.on('message', (batch: TickReadings[]) => keep(batch));
    worker.on('error', (err) => {
      console.error(err);
      process.exit(1);
    });
  } else {
    console.error(`unknown mode ${mode}`);
    process.exit(2);
  }
  process.on('SIGTERM', () => process.exit(0));
} else {
  const { intervalMs, paths } = workerData as { intervalMs: number; paths: CgroupPaths[] };
  const read = readersOf(paths);
  const sleeper = new Int32Array(new SharedArrayBuffer(4));
  const intervalNs = intervalMs * 1e6;
  const startNs = monoNowNs();
  let batch: TickReadings[] = [];
  for (let index = 0; ; index++) {
    const dueNs = startNs + index * intervalNs;
    const now = monoNowNs();
    // Atomics.wait's timeout is in ms (a double): it may return a little early; the remainder is spun.
    if (dueNs > now) Atomics.wait(sleeper, 0, 0, (dueNs - now) / 1e6);
    while (monoNowNs() < dueNs);
    batch.push(read());
    if (batch.length === 1000 / intervalMs) {
      parentPort!.postMessage(batch);
      batch = [];
    }
  }
}
