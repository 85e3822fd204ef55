// The agent as a child process (the built CLI, so the ranking and the exports run on the heavy-read
// thread) over a small season written as the agent writes it (bench/season-db.ts): /healthz answers
// within 250 ms while a bootstrap ranking and a cold official export run, and what that thread
// answers is what the same code gives in this process: the ranking, and the official CSV both when it
// is computed and when it comes from the cache.
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { buildSeason } from '../../bench/season-db.js';
import { answerHeavyRead, heavyContext } from '../../src/http/heavy-reads.js';
import { openStoreReadOnly } from '../../src/store/index.js';
import { sleep, tempDir } from '../helpers.js';
import { startAgentChild, type AgentChild } from './helpers.js';

const children: AgentChild[] = [];
afterAll(async () => {
  for (const c of children) await c.stop('SIGKILL');
});

describe('heavy reads against the agent (child process)', () => {
  it('a bootstrap ranking and a cold official export of 600 runs: /healthz never blocked (within 250 ms) throughout, answers equal to in-process ones', async () => {
    const dir = tempDir('flare-heavy-');
    const season = buildSeason(join(dir, 'season.db'), join(dir, 'accuracy.csv'), 600);
    const agent = await startAgentChild(['--db', season.db, '--accuracy-csv', season.accuracyCsv, '--select', 'label:flare.heavy-none=1']);
    children.push(agent);
    const base = `http://127.0.0.1:${agent.port}`;
    const reads = ['/api/v1/ranking?bootstrap=5000&seed=3', '/api/v1/export/flare22.csv?figures=official', '/api/v1/export/flare22.csv?figures=official'];
    let done = false;
    const probeMs: number[] = [];
    const prober = (async () => {
      while (!done) {
        const t0 = performance.now();
        const res = await fetch(`${base}/healthz`);
        await res.arrayBuffer();
        probeMs.push(performance.now() - t0);
        await sleep(20);
      }
    })();
    const t0 = performance.now();
    const bodies: string[] = [];
    for (const path of reads) {
      const res = await fetch(base + path);
      expect(res.status, path).toBe(200);
      bodies.push(await res.text());
    }
    const heavyMs = performance.now() - t0;
    done = true;
    await prober;
    console.log('heavy reads', { heavyMs: Math.round(heavyMs), probes: probeMs.length, slowestProbeMs: Math.round(Math.max(...probeMs)) });
    expect(probeMs.length).toBeGreaterThan(5);
    // A probe stuck behind the heavy reads would wait for them (about 1.5 s here). The ≤ 100-ms target is
    // the season bench's (22 ms measured); on a loaded CI machine a probe took 104 ms with nothing blocked.
    expect(Math.max(...probeMs)).toBeLessThan(Math.min(250, heavyMs / 4));

    const local = heavyContext(openStoreReadOnly(season.db), season.accuracyCsv, () => {});
    const ranking = answerHeavyRead(local, { route: 'ranking', query: { bootstrap: '5000', seed: '3' } });
    expect(JSON.parse(bodies[0])).toEqual(JSON.parse(ranking.body));
    expect((JSON.parse(bodies[0]) as { teams: unknown[] }).teams).toHaveLength(50);
    const official = answerHeavyRead(local, { route: 'flare22.csv', query: { figures: 'official' } });
    expect(official.body.split('\n').length).toBeGreaterThan(600);
    // Cold (computed) and warm (cached) answers both equal the in-process computation.
    expect(bodies[1]).toBe(official.body);
    expect(bodies[2]).toBe(official.body);
    local.store.close();
    expect(await agent.stop()).toBe(0);
  }, 180_000);
});
