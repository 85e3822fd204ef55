// The floor under the agent's sampling, and what a sampling thread would change of it: six processes
// side by side (bench/sampler-floor-child.ts), each reading the host and 0 or N sleeping containers'
// counter files every 100 ms with the agent's own readers and nothing else (no store, no summaries, no
// HTTP): the agent's shape (a Node timer on the main thread) and a worker thread blocking in
// Atomics.wait that hands the main thread ten ticks at once; and the agent's shape with its SQLite store
// (the samples appended, a flush a second), for what storing costs on top. Each process's CPU is the sum of its
// threads' time on a CPU (/proc/<pid>/task/*/schedstat, ns), over `seconds` after `warm` seconds.
// Usage: node dist/bench/sampler-floor.js [seconds=60] [targets=10] [warm=30] [flushMs=1000]
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type Docker from 'dockerode';
import { detectCgroupMounts, pickCgroup } from '../src/cgroup/mounts.js';
import { readProcCgroup } from '../src/cgroup/proc-cgroup.js';
import type { CgroupPaths } from '../src/cgroup/types.js';
import { withSleepingContainers } from './agent-process.js';

const seconds = Number(process.argv[2] ?? 60);
const targets = Number(process.argv[3] ?? 10);
const warmSeconds = Number(process.argv[4] ?? 30);
const flushMs = Number(process.argv[5] ?? 1000);
const INTERVAL_MS = 100;
const CHILD = fileURLToPath(new URL('./sampler-floor-child.js', import.meta.url));
const sleepMs = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** ns on a CPU of every thread the process has now (schedstat's first field; sched-stats.rst). */
function threadsCpuNs(pid: number): number {
  let ns = 0;
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      ns += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'latin1').split(' ')[0]);
    } catch {
      /* a thread that ended meanwhile */
    }
  }
  return ns;
}

/** The counter directories of these containers, as the agent finds them. */
async function pathsOf(containers: readonly Docker.Container[]): Promise<CgroupPaths[]> {
  const mounts = detectCgroupMounts();
  const paths: CgroupPaths[] = [];
  for (const c of containers) {
    const pid = (await c.inspect()).State.Pid;
    const pick = pickCgroup(readProcCgroup(pid), mounts, { mustContain: c.id });
    if ('reason' in pick) throw new Error(`container ${c.id}: ${pick.reason}`);
    paths.push(pick.paths);
  }
  return paths;
}

interface Loop {
  mode: 'event-loop' | 'event-loop-store' | 'thread';
  targets: number;
  child: ChildProcess;
}

await withSleepingContainers(targets, async (_select, containers) => {
  const paths = await pathsOf(containers);
  const loops: Loop[] = [];
  const dir = mkdtempSync(join(tmpdir(), 'flare-floor-'));
  for (const n of [0, targets]) {
    for (const mode of ['event-loop', 'event-loop-store', 'thread'] as const) {
      const child = spawn(process.execPath, [CHILD, mode, String(INTERVAL_MS), JSON.stringify(paths.slice(0, n)), String(flushMs), join(dir, `${mode}-${n}`)], { stdio: ['ignore', 'inherit', 'inherit'] });
      loops.push({ mode, targets: n, child });
    }
  }
  try {
    await sleepMs(warmSeconds * 1000);
    const before = loops.map((l) => threadsCpuNs(l.child.pid!));
    const t0 = performance.now();
    await sleepMs(seconds * 1000);
    const after = loops.map((l) => threadsCpuNs(l.child.pid!));
    const wallNs = (performance.now() - t0) * 1e6;
    const figures = loops.map((l, i) => ({ mode: l.mode, targets: l.targets, cpuPctOfOneCore: Number(((100 * (after[i] - before[i])) / wallNs).toFixed(3)) }));
    console.log(JSON.stringify({ seconds, warmSeconds, intervalMs: INTERVAL_MS, storeFlushMs: flushMs, loops: figures }, null, 2));
  } finally {
    const exited = loops.map((l) => (l.child.exitCode !== null ? Promise.resolve() : new Promise<void>((r) => l.child.once('exit', () => r()))));
    for (const l of loops) l.child.kill('SIGTERM');
    await Promise.all(exited);
    rmSync(dir, { recursive: true, force: true });
  }
});
