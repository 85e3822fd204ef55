// Drift check: the ticker at 10 Hz for N seconds (default 600). Served due times (ticks + missed) must equal
// elapsed / interval ± 1; prints JSON. Usage: node dist/bench/drift.js [seconds] [intervalMs]
import { monoNowNs, Ticker } from '../src/clock/ticker.js';

const seconds = Number(process.argv[2] ?? 600);
const intervalMs = Number(process.argv[3] ?? 100);
let lastMonoNs = 0;
const ticker = new Ticker(intervalMs, (t) => (lastMonoNs = t.monoNs));
const start = monoNowNs();
ticker.start();
setTimeout(() => {
  ticker.stop();
  const elapsedMs = (lastMonoNs - start) / 1e6;
  const expected = Math.floor(elapsedMs / intervalMs) + 1;
  const served = ticker.ticks + ticker.missed;
  process.stdout.write(
    JSON.stringify({ seconds, intervalMs, elapsedMs, expectedDueTimes: expected, ticks: ticker.ticks, missed: ticker.missed, driftTicks: served - expected, lagP50Ms: ticker.lag.percentileMs(50), lagP99Ms: ticker.lag.percentileMs(99), lagMaxMs: ticker.lag.maxNs / 1e6 }) + '\n',
  );
}, seconds * 1000 + intervalMs / 2);
