// Security §1: labels a participant bakes into an image change neither the identity nor the time
// limit. A real image built on the test dockerd carries flare.team=victim and
// flare.time_limit_s=99999; the built CLI agent (`start --time-limit 2 --enforce-time-limit`) keeps
// the organiser's identity (or the container-name fallback), kills the run at 2 s and penalises it.
// With --unsafe-trust-image-labels the image's team is taken, but the limit stays capped at 2 s.
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requireServices, sleep, tempDir } from '../helpers.js';
import { startAgentChild, type AgentChild } from '../web/agent-child.js';
import { IMAGE, docker, dockerReachable } from '../docker/helpers.js';

const engineUp = await dockerReachable();
if (!engineUp && requireServices()) throw new Error(`dockerd with ${IMAGE} is required (FLARE_TEST_REQUIRE_SERVICES)`);

const tag = randomBytes(4).toString('hex');
const SPOOF_IMAGE = `flare-test/spoof-${tag}:latest`;
const LIMIT_S = 2;

interface RunJson {
  id: string; team: string; case: string; container: string; status: string; timeLimitSeconds: number | null;
  exceededTimeLimit: boolean | null; terminationReason: string | null; flags: string[]; labelsFromImage?: string[];
  scoring: { timeSeconds: number; aucGpuMiBs: number; aucCpuPctS: number; penalised: boolean } | null;
}

async function finishedRuns(port: number, containers: string[], timeoutMs = 30_000): Promise<Map<string, RunJson>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const page = (await (await fetch(`http://127.0.0.1:${port}/api/v1/runs?limit=100`)).json()) as { runs: RunJson[] };
    const byName = new Map(page.runs.filter((r) => r.status !== 'running').map((r) => [r.container, r]));
    if (containers.every((c) => byName.has(c))) return byName;
    if (Date.now() > deadline) throw new Error(`runs not finished: ${JSON.stringify(page.runs.map((r) => [r.container, r.status]))}`);
    await sleep(200);
  }
}

describe.skipIf(!engineUp && !requireServices())('label trust policy (real image, real dockerd, built CLI)', () => {
  const dir = tempDir('flare-sec-labels-');
  const started: string[] = [];
  let agent: AgentChild;
  let unsafe: AgentChild;

  beforeAll(async () => {
    // The participant's image: FROM the test busybox, labels baked in (vfs storage, no network needed).
    writeFileSync(join(dir, 'Dockerfile'), `FROM ${IMAGE}\nLABEL flare.team=victim flare.time_limit_s=99999\n`);
    const built = spawnSync('docker', ['build', '-q', '-t', SPOOF_IMAGE, dir], { encoding: 'utf8' });
    expect(built.status, built.stderr).toBe(0);
    const common = ['--time-limit', String(LIMIT_S), '--enforce-time-limit', '--gpu-source', 'none', '--interval-ms', '100'];
    agent = await startAgentChild(['--db', join(dir, 'agent.db'), '--select', `name:^sec10-${tag}-a`, ...common]);
    unsafe = await startAgentChild(['--db', join(dir, 'unsafe.db'), '--select', `name:^sec10-${tag}-u`, '--unsafe-trust-image-labels', ...common]);
  }, 120_000);

  afterAll(async () => {
    await agent?.stop();
    await unsafe?.stop();
    for (const id of started) await docker.getContainer(id).remove({ force: true }).catch(() => undefined);
    await docker.getImage(SPOOF_IMAGE).remove({ force: true }).catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  });

  async function run(name: string, labels: Record<string, string>): Promise<void> {
    const c = await docker.createContainer({ Image: SPOOF_IMAGE, name, Cmd: ['sleep', '30'], Labels: labels, HostConfig: { NetworkMode: 'none' } });
    started.push(c.id);
    await c.start();
  }

  it('keeps the organiser\'s identity, ignores the image\'s labels, and kills and penalises at the organiser\'s limit', async () => {
    const organiser = `sec10-${tag}-a-organiser`;
    const fallback = `sec10-${tag}-a-fallback`;
    const above = `sec10-${tag}-a-above`;
    const huge = `sec10-${tag}-a-huge`;
    await Promise.all([
      run(organiser, { 'flare.team': 'organiser-team', 'flare.case': 'case-1' }),
      run(fallback, {}),
      // Set by the organiser at `docker run`, but above the --time-limit ceiling, or out of range.
      run(above, { 'flare.team': 'organiser-team', 'flare.time_limit_s': '3600' }),
      run(huge, { 'flare.team': 'organiser-team', 'flare.time_limit_s': '1e308' }),
    ]);
    const runs = await finishedRuns(agent.port, [organiser, fallback, above, huge]);
    const o = runs.get(organiser)!;
    console.log('spoofed-image run (organiser labels), as stored:', JSON.stringify(o, null, 2));
    expect(o.team).toBe('organiser-team');
    expect(o.case).toBe('case-1');
    expect(o.flags).toContain('label-from-image');
    expect(o.labelsFromImage).toContain('flare.time_limit_s');
    const f = runs.get(fallback)!;
    console.log('spoofed-image run (no organiser labels), as stored:', JSON.stringify(f, null, 2));
    expect(f.team).toBe(fallback);
    expect(f.flags).toContain('label-from-image');
    expect(f.labelsFromImage).toEqual(expect.arrayContaining(['flare.team', 'flare.time_limit_s']));
    expect(runs.get(above)!.flags).toContain('time-limit-label-above-ceiling');
    expect(runs.get(huge)!.flags).toContain('invalid-time-limit-label');
    for (const r of runs.values()) {
      expect(r.team, r.container).not.toBe('victim');
      expect(r.timeLimitSeconds, r.container).toBe(LIMIT_S);
      expect(r.status, r.container).toBe('timeout');
      expect(r.terminationReason, r.container).toBe('killed at time limit');
      expect(r.exceededTimeLimit, r.container).toBe(true);
      expect(r.scoring, r.container).toMatchObject({ penalised: true, timeSeconds: 3600 });
    }
  }, 60_000);

  it('with --unsafe-trust-image-labels takes the image\'s team, flags it, and still caps the limit', async () => {
    const name = `sec10-${tag}-u-blind`;
    await run(name, {});
    const r = (await finishedRuns(unsafe.port, [name])).get(name)!;
    expect(r.team).toBe('victim');
    expect(r.flags).toEqual(expect.arrayContaining(['label-from-image', 'unsafe-trust-image-labels']));
    expect(r.labelsFromImage).toContain('flare.team');
    expect(r.timeLimitSeconds).toBe(LIMIT_S);
    expect(r.status).toBe('timeout');
    expect(r.scoring).toMatchObject({ penalised: true });
  }, 60_000);
});
