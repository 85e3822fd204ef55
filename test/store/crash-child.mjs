// Child process of crash.test.ts: writes one run's samples (and node samples) as fast as it can
// through the compiled store until it is SIGKILLed. After every committed flush it prints
// "committed <n>": the first n run samples are on disk (stdout to a pipe is synchronous on Linux,
// so a line is never printed before its commit).
import { fileURLToPath, pathToFileURL } from 'node:url';

/** The i-th sample of the crash run: a pure function of i, so the parent can check every value. */
export function sampleAt(i) {
  return {
    monoNs: 9_000_000_000_000 + i * 100_000_000 + (i % 13) * 1000,
    wallMs: 1_700_000_000_000 + i * 100,
    cpuSeconds: (i * 12_345_678) / 1e9,
    ramMiB: ((i % 5000) * 4096 + 1e8) / 1048576,
    gpuMiB: i % 7 === 0 ? null : (i % 100) * 10,
    gpuDeviceMiB: 500 + (i % 100) * 10,
  };
}

function nodeSampleAt(i) {
  return {
    monoNs: 9_000_000_000_000 + i * 100_000_000,
    wallMs: 1_700_000_000_000 + i * 100,
    cpu: {
      userSeconds: i / 100,
      niceSeconds: 0,
      systemSeconds: i / 200,
      idleSeconds: i / 50,
      iowaitSeconds: 0,
      irqSeconds: 0,
      softirqSeconds: 0,
      stealSeconds: 0,
    },
    memUsedMiB: 1000 + (i % 10),
    memTotalMiB: 64000,
    gpus: [{ index: 0, uuid: 'GPU-crash', usedMiB: i % 100, totalMiB: 81559, utilPct: i % 101 }],
  };
}

async function main() {
  const [storeModule, dbPath, runId] = process.argv.slice(2);
  const { openStore } = await import(pathToFileURL(storeModule).href);
  let appended = 0;
  const store = openStore(dbPath, {
    flushIntervalMs: 20,
    // "committed n" claims every appended sample: the queue's cap (which drops the oldest when a
    // loaded machine delays the flush timer past ~200k samples) is not what this test is about.
    maxQueuedSamples: 50_000_000,
    onWrite: () => process.stdout.write(`committed ${appended}\n`),
  });
  store.createRun({
    id: runId,
    kind: 'container',
    team: 'crash',
    case: 'case',
    node: 'node-crash',
    status: 'running',
    startedWallMs: Date.now(),
    startedMonoNs: Number(process.hrtime.bigint()),
    endedWallMs: null,
    endedMonoNs: null,
    timeLimitSeconds: null,
    nCpu: 2,
    intervalMs: 100,
    previousRunId: null,
    summary: null,
  });
  process.stdout.write('ready\n');
  const burst = () => {
    for (let k = 0; k < 400; k++) {
      store.appendRunSample(runId, sampleAt(appended));
      if (appended % 10 === 0) store.appendNodeSample(nodeSampleAt(appended));
      appended++;
    }
    setImmediate(burst);
  };
  burst();
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await main();
