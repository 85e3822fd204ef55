// One ranking use case (scoring/rank-runs.ts) behind both surfaces: `flare-agent rank --json` on the
// database and GET /api/v1/ranking give the same places, scores and bootstrap, with repeats and
// without (the API had repeats always off), and a filter narrows both alike.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Run } from '../../src/core/types.js';
import { cli } from './cli-helpers.js';
import { run, summary, T0 } from './helpers.js';
import { servedRuns } from './store-helpers.js';

/** 3 teams × 4 cases; every case run twice, the repeats' times apart, so that drawing repeats matters. */
function runs(): Run[] {
  const out: Run[] = [];
  let i = 0;
  for (const team of ['alpha', 'beta', 'gamma']) {
    for (let c = 0; c < 4; c++) {
      for (let rep = 0; rep < 2; rep++) {
        const wallSeconds = 10 + ((i * 7) % 13) + rep * (team === 'beta' ? 9 : 1);
        const s = summary({ wallSeconds, scoring: { timeSeconds: wallSeconds, aucGpuMiBs: 1000 + ((i * 37) % 500), aucCpuPctS: 200 + ((i * 11) % 90), penalised: false } });
        out.push(run(`r${String(i).padStart(3, '0')}`, { team, containerName: team, case: `case_${c}`, startedWallMs: T0 + i * 60_000, summary: s }));
        i++;
      }
    }
  }
  return out;
}

interface RankingJson {
  teams: { team: string; rank: number; score: number }[];
  bootstrap: { teams: { team: string; rankLow: number; rankHigh: number; medianRank: number; pTop3: number }[]; kendallTau: unknown } | null;
}

let served: Awaited<ReturnType<typeof servedRuns>>;
let base: string;

beforeAll(async () => {
  served = await servedRuns(runs());
  base = `http://127.0.0.1:${served.port}/api/v1/ranking`;
});

afterAll(async () => {
  await served?.close();
});

async function viaApi(query: string): Promise<RankingJson> {
  const res = await fetch(`${base}?${query}`);
  expect(res.status, query).toBe(200);
  return (await res.json()) as RankingJson;
}

async function viaCli(args: string[]): Promise<RankingJson> {
  const r = await cli(['rank', '--db', served.path, '--json', ...args]);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  return JSON.parse(r.stdout) as RankingJson;
}

describe('one ranking for the CLI and the API', () => {
  it.each([
    ['best attempt', '', [] as string[]],
    ['repeats', '&repeats=1', ['--repeats']],
    ['repeats, one case', '&repeats=1&case=case_1', ['--repeats', '--case', 'case_1']],
  ])('%s: the same places, scores and bootstrap', async (_label, query, args) => {
    const api = await viaApi(`profile=flare22&bootstrap=200&seed=3${query}`);
    const fromCli = await viaCli(['--profile', 'flare22', '--bootstrap', '200', '--seed', '3', ...args]);
    expect(api.teams).toEqual(fromCli.teams);
    expect(api.bootstrap).toEqual(fromCli.bootstrap);
    expect(api.teams).toHaveLength(3);
  });

  it('repeats change what the bootstrap draws (beta\'s repeats are 9 s apart), and are kept apart from the best-attempt ranking', async () => {
    const best = await viaApi('profile=flare22&bootstrap=200&seed=3');
    const repeats = await viaApi('profile=flare22&bootstrap=200&seed=3&repeats=1');
    expect(repeats.bootstrap).not.toEqual(best.bootstrap);
    expect((await viaApi('profile=flare22&bootstrap=200&seed=3')).bootstrap).toEqual(best.bootstrap);
    const bad = await fetch(`${base}?repeats=yes`);
    expect(bad.status).toBe(400);
  });
});
