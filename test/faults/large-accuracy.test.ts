// A 1 000 000-row accuracy CSV (50 teams × 10 000 cases × DSC and NSD, 35 MB: every row ranked) with
// the agent's default heavy-read heap (96 MiB). As an object per row it needed over 300 MiB of heap,
// and every /api/v1/ranking (filtered ones too) answered 503 "narrow the query". Now it is parsed
// into columns outside the heap and ranks; the ranking equals the same code's in this process.
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { writeLargeAccuracyCsv } from '../../bench/accuracy-csv.js';
import { buildSeason } from '../../bench/season-db.js';
import { answerHeavyRead, heavyContext } from '../../src/http/heavy-reads.js';
import { openStoreReadOnly } from '../../src/store/index.js';
import { tempDir } from '../helpers.js';
import { startAgentChild, type AgentChild } from './helpers.js';

const children: AgentChild[] = [];
afterAll(async () => {
  for (const c of children) await c.stop('SIGKILL');
});

describe('a 1 000 000-row accuracy CSV', () => {
  it('ranks through the API with the default read heap, filtered and not, as in-process', async () => {
    const dir = tempDir('flare-large-acc-');
    const season = buildSeason(join(dir, 'season.db'), join(dir, 'season-accuracy.csv'), 100);
    const csv = join(dir, 'accuracy-1m.csv');
    expect(await writeLargeAccuracyCsv(csv)).toBe(1_000_000);
    const agent = await startAgentChild(['--db', season.db, '--accuracy-csv', csv, '--select', 'label:flare.large-acc-none=1']);
    children.push(agent);
    const base = `http://127.0.0.1:${agent.port}/api/v1/ranking`;
    const timings: Record<string, number> = {};
    const bodies: Record<string, string> = {};
    for (const [label, q] of [['cold', ''], ['warm', ''], ['oneTeamCold', '?team=team-07'], ['bootstrap', '?bootstrap=200']] as const) {
      const t0 = performance.now();
      const res = await fetch(base + q);
      bodies[label] = await res.text();
      timings[label] = Math.round(performance.now() - t0);
      expect(res.status, `${label}: ${bodies[label].slice(0, 300)}`).toBe(200);
    }
    console.log('1 000 000-row accuracy CSV, ranking ms:', timings);
    const body = JSON.parse(bodies.cold) as { accuracy: string; metrics: string[]; cases: string[]; teams: { team: string }[] };
    expect(body.accuracy).toBe('organiser-csv');
    expect(body.metrics).toEqual(expect.arrayContaining(['DSC', 'NSD']));
    expect(body.cases).toHaveLength(10_000);
    expect(body.teams).toHaveLength(50);
    expect(bodies.warm).toBe(bodies.cold);
    expect((JSON.parse(bodies.oneTeamCold) as { teams: unknown[] }).teams).toHaveLength(1);
    // What this process's unbounded heap computes with the same code.
    const local = answerHeavyRead(heavyContext(openStoreReadOnly(season.db), csv, () => {}), { route: 'ranking', query: {} });
    expect(JSON.parse(bodies.cold)).toEqual(JSON.parse(local.body));
  }, 240_000);
});
