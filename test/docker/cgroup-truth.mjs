// Ground truth for a pure-v2 container, read independently of the agent: polls the container's own
// cgroup every millisecond and prints usage_usec as cpu.stat holds it once cgroup.events says
// `populated 0` (the last process has exited; the counter cannot grow any more, and Docker removes
// the directory only ~10 ms later). Usage: node cgroup-truth.mjs <cgroup dir>. Prints one JSON line.
import { readFileSync } from 'node:fs';

const dir = process.argv[2];
const pause = (ms) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
const deadline = Date.now() + 120_000;
let last = null;
let seenPopulated = false;
for (;;) {
  if (Date.now() > deadline) {
    console.log(JSON.stringify({ error: 'timed out', usageUsec: last }));
    process.exit(1);
  }
  let events;
  let stat;
  try {
    events = readFileSync(`${dir}/cgroup.events`, 'latin1');
    stat = readFileSync(`${dir}/cpu.stat`, 'latin1');
  } catch (e) {
    if (seenPopulated) {
      // Removed before a `populated 0` was seen between two polls: the last value is a lower bound only.
      console.log(JSON.stringify({ usageUsec: last, end: 'vanished', error: e.code }));
      process.exit(1);
    }
    pause(1);
    continue;
  }
  const usageUsec = Number(/^usage_usec (\d+)$/m.exec(stat)?.[1]);
  if (/^populated 0$/m.test(events)) {
    if (seenPopulated) {
      console.log(JSON.stringify({ usageUsec, end: 'populated 0' }));
      process.exit(0);
    }
  } else {
    seenPopulated = true;
  }
  last = usageUsec;
  pause(1);
}
