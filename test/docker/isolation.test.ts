// Parallel runs stay valid when each has its own cores (docs/parallel-evaluation.md). A CPU-bound case
// (one burner that stops itself once its own cgroup has used CASE_CPU_S of CPU) runs alone on CPU 0,
// then beside a neighbour that burns CPU:
//   pinned:   the case on CPU 0, the neighbour on CPU 1 (--cpuset-cpus), one burner;
//   unpinned: neither pinned, the neighbour keeping both cores busy (two burners).
// The agent's figures for the case are compared: cpuSeconds and the exact CPU AUC (what the agent
// measures from the counters: the neighbour must not leak into them) and the wall time (how long the
// case needed to get its CPU: only its core's share decides it). Medians over rounds are compared,
// because this 2-core VM is shared with other work and a single pair can differ by tens of per cent.
// Pinned: cpuSeconds and AUC within 2 %, wall within 5 %. Unpinned: the wall time must grow by at least
// 15 % — the interference the pinned case avoids, so the comparison can fail.
// The wall-time bound holds only where nothing else runs unpinned on the node: other load (here: other
// test suites) is moved by the kernel onto the case's core once the neighbour fills the other one, and
// no cpuset of the two containers prevents that (docs/parallel-evaluation.md). So the wall bound is
// asserted when the case alone got its core (median alone wall ≤ 1.25 × its CPU, i.e. a quiet node);
// on a loaded machine the test says so and asserts the counters only.
// The neighbour waits at a gate the case opens, so the engine is not slowed while it starts the case,
// and stops itself on its own cgroup counter after the case has ended; it is removed after that.
import { readFileSync, rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Run } from '../../src/core/types.js';
import { requireServices, tempDir } from '../helpers.js';
import type Docker from 'dockerode';
import { createAndStart, docker, dockerReachable, finishedRun, removeContainer, runToEnd, startTestAgent, type TestAgent } from './helpers.js';

const engineUp = await dockerReachable();
const twoCores = readFileSync('/sys/devices/system/cpu/online', 'utf8').trim() !== '0';
const ROUNDS = 3;
/** CPU the case burns (one process, so also its wall time when it has a core to itself). */
const CASE_CPU_S = 1;
/** The case opens the gate (the neighbour starts burning), then burns until its counter reaches CASE_CPU_S. */
const CASE = `touch /gate/go; yes >/dev/null & while [ $(cat /sys/fs/cgroup/cpuacct/cpuacct.usage) -lt ${CASE_CPU_S * 1e9} ]; do sleep 0.02; done; kill $!; wait`;
/**
 * Neighbour: waits at the gate, then `burners` yes processes until its own cgroup has used `capS` more
 * CPU seconds (the waiting loop's own CPU does not count towards the cap).
 */
const neighbour = (burners: number, capS: number): string =>
  `while [ ! -e /gate/go ]; do sleep 0.05; done; u=/sys/fs/cgroup/cpuacct/cpuacct.usage; end=$(( $(cat $u) + ${capS * 1e9} )); ${'yes >/dev/null & '.repeat(burners)}while [ $(cat $u) -lt $end ]; do sleep 0.05; done; kill $(jobs -p) 2>/dev/null; wait`;
const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

interface Figures {
  cpuSeconds: number;
  wallSeconds: number;
  aucCpuPctS: number;
}

describe.skipIf((!engineUp || !twoCores) && !requireServices())('isolation of parallel runs by cpusets (real engine, 2 cores)', () => {
  let t: TestAgent;
  const created: string[] = [];
  beforeAll(async () => {
    if (!engineUp) throw new Error('Docker engine or flare-test/busybox missing (FLARE_TEST_REQUIRE_SERVICES is set)');
    t = await startTestAgent();
  });
  afterAll(async () => {
    await t?.stop();
    for (const id of created) await removeContainer(id);
  });

  /** The case, alone or beside a neighbour burning until its own counter reaches `capS` CPU seconds. */
  async function runCase(cpuset: string | null, withNeighbour: { cpuset: string | null; burners: number; capS: number } | null, label: string): Promise<Figures> {
    let nb: Docker.Container | null = null;
    const gate = tempDir('flare-iso-gate-');
    const gateBind = { Binds: [`${gate}:/gate`] };
    if (withNeighbour) {
      nb = await createAndStart({ cmd: ['sh', '-c', neighbour(withNeighbour.burners, withNeighbour.capS)], unselected: true, labels: { 'flare.test.neighbour': label }, hostConfig: { ...gateBind, ...(withNeighbour.cpuset ? { CpusetCpus: withNeighbour.cpuset } : {}) } });
      created.push(nb.id);
    }
    const { id } = await runToEnd({ cmd: ['sh', '-c', CASE], labels: { 'flare.team': 'isolation', 'flare.case': label }, hostConfig: { ...gateBind, ...(cpuset ? { CpusetCpus: cpuset } : {}) } });
    created.push(id);
    if (nb) {
      const end = (await nb.inspect()).State;
      // The neighbour must still have been burning when the case ended, or the case was not "beside" it.
      expect(end.Running || Date.parse(end.FinishedAt) >= Date.parse((await docker.getContainer(id).inspect()).State.FinishedAt), `neighbour of ${label} outlasted the case`).toBe(true);
      await nb.wait();
      await removeContainer(nb.id);
    }
    rmSync(gate, { recursive: true, force: true });
    const run: Run = await finishedRun(t.agent, id, 30_000);
    const s = run.summary!;
    return { cpuSeconds: s.cpuSeconds, wallSeconds: s.wallSeconds, aucCpuPctS: s.aucCpuPctS };
  }

  it(`${ROUNDS} rounds: pinned runs agree alone vs beside a neighbour; unpinned ones show the interference`, async () => {
    const kinds = ['alone', 'pinned + neighbour', 'unpinned + neighbour'] as const;
    const figures: Record<(typeof kinds)[number], Figures[]> = { alone: [], 'pinned + neighbour': [], 'unpinned + neighbour': [] };
    for (let r = 0; r < ROUNDS; r++) {
      // Interleaved, so slow drifts of the machine's other load hit every kind alike.
      figures.alone.push(await runCase('0', null, `alone-${r}`));
      figures['pinned + neighbour'].push(await runCase('0', { cpuset: '1', burners: 1, capS: 3 }, `pinned-nb-${r}`));
      figures['unpinned + neighbour'].push(await runCase(null, { cpuset: null, burners: 2, capS: 6 }, `unpinned-nb-${r}`));
    }
    const med = (k: (typeof kinds)[number], f: keyof Figures): number => median(figures[k].map((x) => x[f]));
    const ratio = (a: (typeof kinds)[number], b: (typeof kinds)[number], f: keyof Figures): number => med(b, f) / med(a, f);
    const table = kinds.map((k) => ({
      kind: k,
      cpuSeconds: figures[k].map((x) => x.cpuSeconds.toFixed(3)).join(' '),
      wallSeconds: figures[k].map((x) => x.wallSeconds.toFixed(3)).join(' '),
      aucCpuPctS: figures[k].map((x) => x.aucCpuPctS.toFixed(2)).join(' '),
      median: `cpu ${med(k, 'cpuSeconds').toFixed(3)} s, wall ${med(k, 'wallSeconds').toFixed(3)} s, AUC ${med(k, 'aucCpuPctS').toFixed(2)} %·s`,
    }));
    const vsAlone = (k: (typeof kinds)[number]): Figures => ({ cpuSeconds: ratio('alone', k, 'cpuSeconds'), wallSeconds: ratio('alone', k, 'wallSeconds'), aucCpuPctS: ratio('alone', k, 'aucCpuPctS') });
    const pinned = vsAlone('pinned + neighbour');
    const unpinned = vsAlone('unpinned + neighbour');
    console.log('isolation figures (per run)');
    console.table(table);
    console.log('median ratios neighbour/alone', JSON.stringify({ pinned, unpinned }));
    expect(Math.abs(pinned.cpuSeconds - 1)).toBeLessThanOrEqual(0.02);
    expect(Math.abs(pinned.aucCpuPctS - 1)).toBeLessThanOrEqual(0.02);
    const aloneCoreShare = med('alone', 'cpuSeconds') / med('alone', 'wallSeconds');
    if (med('alone', 'wallSeconds') <= 1.25 * med('alone', 'cpuSeconds')) {
      expect(Math.abs(pinned.wallSeconds - 1)).toBeLessThanOrEqual(0.05);
      expect(unpinned.wallSeconds).toBeGreaterThanOrEqual(1.15);
    } else {
      console.warn(`wall-time bound not asserted: alone, the case got ${(100 * aloneCoreShare).toFixed(0)} % of its core (other load on this machine, load average ${readFileSync('/proc/loadavg', 'utf8').split(' ')[0]}); counters asserted only`);
    }
  }, 180_000);
});
