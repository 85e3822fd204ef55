// Agent overhead: CPU per second of wall time while sampling N targets (sleeping processes, each in a
// cgroup of its own, v1 or v2), and tick lag. Runs the real sampling stack in this process with a real SQLite file.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSamplingStack, noEvents } from '../src/agent/stack.js';
import { DEFAULTS } from '../src/agent/config.js';
import { monoNowNs } from '../src/clock/ticker.js';
import { CgroupReader } from '../src/cgroup/counters.js';
import { detectCgroupMounts } from '../src/cgroup/mounts.js';
import { createProfileCgroup, type ProfileCgroup } from '../src/cgroup/profile-cgroup.js';
import { openStore } from '../src/store/index.js';

const sleepMs = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

interface Target {
  child: ChildProcess;
  cgroup: ProfileCgroup;
}

/** Sleeping processes, each in a cgroup of its own (v1 or v2, as `profile` makes them). */
function startTargets(n: number): Target[] {
  const mounts = detectCgroupMounts();
  const targets: Target[] = [];
  for (let i = 0; i < n; i++) {
    const cgroup = createProfileCgroup(mounts, `bench-${process.pid}-${i}`);
    const child = spawn('sleep', ['3600'], { stdio: 'ignore' });
    for (const f of cgroup.procsFiles) writeFileSync(f, String(child.pid));
    targets.push({ child, cgroup });
  }
  return targets;
}

async function stopTargets(targets: Target[]): Promise<void> {
  for (const t of targets) t.child.kill('SIGKILL');
  await sleepMs(200);
  for (const t of targets) t.cgroup.remove();
}

export async function benchAgentOverhead(intervalMs: number, nTargets: number, seconds: number): Promise<Record<string, number>> {
  const dir = mkdtempSync(join(tmpdir(), 'flare-bench-'));
  const store = openStore(join(dir, 'bench.db'));
  const stack = await createSamplingStack({ ...DEFAULTS, intervalMs, gpuSource: 'none' }, store, noEvents);
  const targets = startTargets(nTargets);
  for (const t of targets) {
    stack.runs.start({
      identity: { kind: 'profile', team: 'bench', case: t.cgroup.relPath, node: stack.node },
      reader: new CgroupReader(t.cgroup.paths),
      gpuKey: null,
      startedWallMs: Date.now(),
      startedMonoNs: monoNowNs(),
      timeLimitSeconds: null,
    });
  }
  stack.sampler.start();
  await sleepMs(1000); // warm-up: JIT, first flushes
  stack.sampler.ticks.lag.reset();
  const cpu0 = process.cpuUsage();
  const t0 = monoNowNs();
  await sleepMs(seconds * 1000);
  const cpu = process.cpuUsage(cpu0);
  const wallSeconds = (monoNowNs() - t0) / 1e9;
  const lag = stack.sampler.ticks.lag;
  const result = {
    intervalMs,
    targets: nTargets,
    agentCpuPctOfOneCore: (100 * (cpu.user + cpu.system)) / 1e6 / wallSeconds,
    lagP50Ms: lag.percentileMs(50),
    lagP99Ms: lag.percentileMs(99),
    lagMaxMs: lag.maxNs / 1e6,
    missedTicks: stack.sampler.ticks.missed,
  };
  await stack.runs.interruptAll();
  await stack.close();
  store.close();
  await stopTargets(targets);
  rmSync(dir, { recursive: true, force: true });
  return result;
}
