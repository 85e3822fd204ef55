// Security §2: no --select pattern can stall the agent. Name and image patterns run on RE2 (linear
// time): the issue's name against `(a+)+$` decides in < 10 ms (V8's backtracking RegExp took ~2.3 s);
// the built CLI agent selecting with such a pattern, on a real dockerd, misses no ticks when a
// container with that name starts; a pattern RE2 cannot run is refused at start (exit 2, saying why).
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { compilePattern } from '../../src/runtime/select.js';
import { requireServices, runCli, sleep, tempDir } from '../helpers.js';
import { IMAGE, docker, dockerReachable } from '../docker/helpers.js';
import { startAgentChild } from '../web/agent-child.js';

const engineUp = await dockerReachable();
if (!engineUp && requireServices()) throw new Error(`dockerd with ${IMAGE} is required (FLARE_TEST_REQUIRE_SERVICES)`);
const EVIL_NAME = 'sec-' + 'a'.repeat(25) + '-b';

describe('selection patterns run in linear time', () => {
  it('decides the issue\'s name against (a+)+$ in < 10 ms', () => {
    const pattern = compilePattern('(a+)+$');
    const timesMs: number[] = [];
    for (let i = 0; i < 5; i++) {
      const t0 = process.hrtime.bigint();
      expect(pattern.test(EVIL_NAME)).toBe(false);
      timesMs.push(Number(process.hrtime.bigint() - t0) / 1e6);
    }
    console.log(`(a+)+$ vs ${EVIL_NAME}: ${timesMs.map((t) => t.toFixed(3)).join(', ')} ms (first: the agent's first match after start)`);
    expect(timesMs[0]).toBeLessThan(10);
    expect([...timesMs].sort((a, b) => a - b)[2]).toBeLessThan(10);
    // Same answers as JavaScript's RegExp where both can run.
    expect(compilePattern('(a+)+$').test('sec-aaa')).toBe(true);
    expect(compilePattern('^team-').test('team-blue')).toBe(true);
    expect(compilePattern('^red').test('team-red')).toBe(false);
  });

  it('refuses at start a pattern RE2 cannot run (back-reference, look-around): exit 2, saying why', async () => {
    for (const rule of ['name:(a)\\1', 'image:(?=x)y', 'name:(?<!a)b']) {
      const r = await runCli(['start', '--db', join(tempDir('flare-sec-sel-'), 'a.db'), '--gpu-source', 'none', '--select', rule]);
      expect(r.code, rule).toBe(2);
      expect(r.stderr, rule).toMatch(/invalid --select: error parsing regexp/);
    }
  });
});

describe.skipIf(!engineUp && !requireServices())('a backtracking-prone pattern on a real dockerd (built CLI)', () => {
  const tag = randomBytes(4).toString('hex');
  const ids: string[] = [];
  afterAll(async () => {
    for (const id of ids) await docker.getContainer(id).remove({ force: true }).catch(() => undefined);
  });

  it('misses no ticks when a container named to stall a backtracking engine starts', async () => {
    const agent = await startAgentChild(['--db', join(tempDir('flare-sec-sel-'), 'a.db'), '--gpu-source', 'none', '--select', `name:^sec10-${tag}-(a+)+$`]);
    try {
      const health = async (): Promise<{ ticks: { count: number; missed: number } }> =>
        (await (await fetch(`http://127.0.0.1:${agent.port}/healthz`)).json()) as { ticks: { count: number; missed: number } };
      await sleep(500);
      const before = (await health()).ticks;
      const start = async (name: string): Promise<void> => {
        const c = await docker.createContainer({ Image: IMAGE, name, Cmd: ['sleep', '2'], HostConfig: { NetworkMode: 'none' } });
        ids.push(c.id);
        await c.start();
      };
      await start(`sec10-${tag}-${'a'.repeat(25)}-b`); // not selected: ~2.3 s of backtracking in V8's RegExp
      await start(`sec10-${tag}-aaaa`); // selected
      let runs: { container: string }[] = [];
      for (let i = 0; i < 50 && runs.length === 0; i++) {
        await sleep(100);
        runs = ((await (await fetch(`http://127.0.0.1:${agent.port}/api/v1/runs`)).json()) as { runs: { container: string }[] }).runs;
      }
      const after = (await health()).ticks;
      console.log('ticks while the containers started', { ticks: after.count - before.count, missed: after.missed - before.missed });
      expect(runs.map((r) => r.container)).toEqual([`sec10-${tag}-aaaa`]);
      expect(after.missed - before.missed).toBeLessThanOrEqual(5);
    } finally {
      await agent.stop();
    }
  }, 60_000);
});
