// Parallel runs stay valid when each has its own cores (docs/parallel-evaluation.md). A CPU-bound case
// (one burner that stops once its own cgroup has used CASE_CPU_S of CPU) runs alone, then beside two
// neighbour containers burning CPU:
//   pinned:   the case on CPU 0, the neighbours on CPU 1 (--cpuset-cpus);
//   unpinned: nobody pinned: the neighbours keep both cores busy.
// The agent's cpuSeconds and exact CPU AUC for the case are compared with the case's own counter, which
// it writes out at its end (the truth): a neighbour must not leak into them, pinned or not. Alone and
// beside a neighbour differ in the case's true CPU (its poll loop overshoots the target by more when
// the machine is busy: 5 % was seen on a loaded CI host), so the agent is held to the truth of each
// run, not to the other run. The wall time per true CPU second (how long the case waited for its CPU:
// only its core's share decides it) is compared alone vs beside a neighbour. Medians over rounds are compared, because
// this 2-core VM is shared with other work and a single pair can differ by tens of per cent.
// Counters within 2 % of the truth in every kind; pinned wall within 5 %. Unpinned: the wall time must
// grow by at least 15 % — the interference the pinned case avoids, so the comparison can fail.
// The pinned wall-time bound holds only where nothing else runs unpinned on the node: other load (here:
// other test suites) is moved by the kernel onto the case's core once the neighbour fills the other
// one, and no cpuset of the two containers prevents that (docs/parallel-evaluation.md). So it is
// asserted when CPU 1 stayed ≥ 90 % idle while the case ran alone on CPU 0 (a quiet node); on a loaded
// machine the test says so and asserts the counters and the unpinned interference only.
// The neighbour waits at a gate the case opens, so the engine is not slowed while it starts the case,
// and stops itself on its own cgroup counter after the case has ended; it is removed after that.
import { readFileSync, rmSync } from 'node:fs';
import { cpus } from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Run } from '../../src/core/types.js';
import { requireServices, tempDir } from '../helpers.js';
import type Docker from 'dockerode';
import { createAndStart, docker, dockerReachable, finishedRun, removeContainer, runToEnd, startTestAgent, type TestAgent } from './helpers.js';

const engineUp = await dockerReachable();
const twoCores = readFileSync('/sys/devices/system/cpu/online', 'utf8').trim() !== '0';
const ROUNDS = Number(process.env.FLARE_ISOLATION_ROUNDS ?? 3);
/** CPU the case burns (one process, so also its wall time when it has a core to itself). */
const CASE_CPU_S = 1;
/** The case opens the gate (the neighbours start burning), then burns until its counter reaches CASE_CPU_S. */
/**
 * After writing its counter the case idles this long, so that the agent's ticks read the final counter
 * before the exit. The exit's own race (the kernel's cgroup.events notice against runc removing the
 * cgroup, lost now and then under load: docs/measurement.md) is not what this test is about; it is
 * taken out of the wall time below.
 */
const CASE_TAIL_S = 0.3;
const CASE = `touch /gate/go; u=/sys/fs/cgroup/cpuacct/cpuacct.usage; yes >/dev/null & while [ $(cat $u) -lt ${CASE_CPU_S * 1e9} ]; do sleep 0.02; done; kill $!; wait; cat $u >/gate/truth; sleep ${CASE_TAIL_S}`;
/** CPU 1 at least this idle while the case runs alone on CPU 0: nothing else to push onto CPU 0. */
const QUIET_IDLE_SHARE = 0.9;
/** Jiffies of one CPU from /proc/stat: [idle + iowait, total]. */
function cpuTimes(cpu: number): [number, number] {
  const line = readFileSync('/proc/stat', 'utf8').split('\n').find((l) => l.startsWith(`cpu${cpu} `))!;
  const v = line.trim().split(/\s+/).slice(1, 9).map(Number);
  return [v[3] + v[4], v.reduce((x, y) => x + y, 0)];
}
const idleShare = (a: [number, number], b: [number, number]): number => (b[0] - a[0]) / Math.max(1, b[1] - a[1]);
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
  /** The case's own counter at its end. */
  truthCpuSeconds: number;
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

  /**
   * The case, alone or beside `count` neighbour containers (one burner each, until their own counter
   * reaches `capS` CPU seconds). Two: CFS shares CPU between cgroups, so unpinned, two neighbours and
   * the case each get two thirds of a core — what one container with two burners would not take.
   */
  async function runCase(cpuset: string | null, withNeighbour: { cpuset: string | null; count: number; capS: number } | null, label: string): Promise<Figures> {
    const t0 = Date.now();
    const nbs: Docker.Container[] = [];
    const gate = tempDir('flare-iso-gate-');
    const gateBind = { Binds: [`${gate}:/gate`] };
    for (let k = 0; withNeighbour && k < withNeighbour.count; k++) {
      const nb = await createAndStart({ cmd: ['sh', '-c', neighbour(1, withNeighbour.capS)], unselected: true, labels: { 'flare.test.neighbour': label }, hostConfig: { ...gateBind, ...(withNeighbour.cpuset ? { CpusetCpus: withNeighbour.cpuset } : {}) } });
      created.push(nb.id);
      nbs.push(nb);
    }
    const { id } = await runToEnd({ cmd: ['sh', '-c', CASE], labels: { 'flare.team': 'isolation', 'flare.case': label }, hostConfig: { ...gateBind, ...(cpuset ? { CpusetCpus: cpuset } : {}) } });
    created.push(id);
    for (const nb of nbs) {
      const end = (await nb.inspect()).State;
      // The neighbour must still have been burning when the case ended, or the case was not "beside" it.
      expect(end.Running || Date.parse(end.FinishedAt) >= Date.parse((await docker.getContainer(id).inspect()).State.FinishedAt), `neighbour of ${label} outlasted the case`).toBe(true);
      await nb.wait();
      await removeContainer(nb.id);
    }
    const truthCpuSeconds = Number(readFileSync(`${gate}/truth`, 'utf8').trim()) / 1e9;
    rmSync(gate, { recursive: true, force: true });
    console.log(`${label}: ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    const run: Run = await finishedRun(t.agent, id, 30_000);
    const s = run.summary!;
    // A counter that could not be read is null (never 0): that is a failure of this test, not a figure.
    if (s.cpuSeconds === null || s.aucCpuPctS === null) throw new Error(`${label}: CPU counter unknown (${s.flags.join(', ')})`);
    return { cpuSeconds: s.cpuSeconds, wallSeconds: s.wallSeconds - CASE_TAIL_S, aucCpuPctS: s.aucCpuPctS, truthCpuSeconds };
  }

  it(`${ROUNDS} rounds: pinned runs agree alone vs beside a neighbour; unpinned ones show the interference`, async () => {
    const kinds = ['pinned alone', 'pinned + neighbour', 'unpinned alone', 'unpinned + neighbour'] as const;
    type Kind = (typeof kinds)[number];
    const figures: Record<Kind, Figures[]> = { 'pinned alone': [], 'pinned + neighbour': [], 'unpinned alone': [], 'unpinned + neighbour': [] };
    const idleCpu1: number[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      // Interleaved, so slow drifts of the machine's other load hit every kind alike.
      const before = cpuTimes(1);
      figures['pinned alone'].push(await runCase('0', null, `pinned-alone-${r}`));
      idleCpu1.push(idleShare(before, cpuTimes(1)));
      figures['pinned + neighbour'].push(await runCase('0', { cpuset: '1', count: 2, capS: 2 }, `pinned-nb-${r}`));
      figures['unpinned alone'].push(await runCase(null, null, `unpinned-alone-${r}`));
      figures['unpinned + neighbour'].push(await runCase(null, { cpuset: null, count: 2, capS: 2.5 }, `unpinned-nb-${r}`));
    }
    const med = (k: Kind, f: keyof Figures): number => median(figures[k].map((x) => x[f]));
    // Wall time per true CPU second: how long the case waited for each second of its CPU.
    const wallPerCpu = (k: Kind): number => median(figures[k].map((x) => x.wallSeconds / x.truthCpuSeconds));
    const wallRatio = (a: Kind, b: Kind): number => wallPerCpu(b) / wallPerCpu(a);
    // The agent against the truth, per run: cpuSeconds, and the AUC as the CPU share of the node's cores.
    const nCpu = cpus().length;
    const toTruth = (k: Kind) => ({
      cpuSeconds: median(figures[k].map((x) => x.cpuSeconds / x.truthCpuSeconds)),
      aucCpuPctS: median(figures[k].map((x) => (x.aucCpuPctS * nCpu) / (100 * x.truthCpuSeconds))),
    });
    const table = kinds.map((k) => ({
      kind: k,
      truthCpuSeconds: figures[k].map((x) => x.truthCpuSeconds.toFixed(3)).join(' '),
      cpuSeconds: figures[k].map((x) => x.cpuSeconds.toFixed(3)).join(' '),
      wallSeconds: figures[k].map((x) => x.wallSeconds.toFixed(3)).join(' '),
      aucCpuPctS: figures[k].map((x) => x.aucCpuPctS.toFixed(2)).join(' '),
      median: `cpu ${med(k, 'cpuSeconds').toFixed(3)} s, wall ${med(k, 'wallSeconds').toFixed(3)} s, AUC ${med(k, 'aucCpuPctS').toFixed(2)} %·s`,
    }));
    const pinnedWall = wallRatio('pinned alone', 'pinned + neighbour');
    const unpinnedWall = wallRatio('unpinned alone', 'unpinned + neighbour');
    const agentToTruth = Object.fromEntries(kinds.map((k) => [k, toTruth(k)]));
    const quietShare = median(idleCpu1);
    console.log('isolation figures (per run)');
    console.table(table);
    console.log('median ratios', JSON.stringify({ agentToTruth, wallNeighbourToAlone: { pinned: pinnedWall, unpinned: unpinnedWall }, cpu1IdleWhileAlone: quietShare }));
    for (const k of kinds) {
      expect(Math.abs(agentToTruth[k].cpuSeconds - 1), `${k}: cpuSeconds / the case's own counter`).toBeLessThanOrEqual(0.02);
      expect(Math.abs(agentToTruth[k].aucCpuPctS - 1), `${k}: CPU AUC / the case's own counter`).toBeLessThanOrEqual(0.02);
    }
    // Without cpusets the case shares the two cores with the two neighbours: its wall time grows
    // whatever else runs — the test can fail.
    expect(unpinnedWall).toBeGreaterThanOrEqual(1.15);
    if (quietShare >= QUIET_IDLE_SHARE) {
      expect(Math.abs(pinnedWall - 1)).toBeLessThanOrEqual(0.05);
    } else {
      console.warn(`pinned wall-time bound not asserted: CPU 1 was ${(100 * quietShare).toFixed(0)} % idle while the case ran alone on CPU 0 (< ${100 * QUIET_IDLE_SHARE} %: other load on this machine, which moves onto CPU 0 when the neighbour fills CPU 1); counters asserted`);
    }
  }, 180_000);
});
