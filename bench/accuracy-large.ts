// The ranking with a 1 000 000-row accuracy CSV (bench/accuracy-csv.ts) on the built agent with its
// default heavy-read heap: the ranking cold (the file parsed into columns, the table built), warm
// (kept: only the file's hash is taken again), one team, a 200-resample bootstrap; the agent's RSS.
// Run: npm run build && node dist/bench/accuracy-large.js [--cases 10000]
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeLargeAccuracyCsv } from './accuracy-csv.js';
import { buildSeason } from './season-db.js';
import { startBenchAgent } from './agent-child.js';

const i = process.argv.indexOf('--cases');
const CASES = i < 0 ? 10_000 : Number(process.argv[i + 1]);
const rssMiB = (pid: number, field: 'VmRSS' | 'VmHWM'): number => Math.round(Number(new RegExp(`${field}:\\s+(\\d+)`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024);

const dir = mkdtempSync(join(tmpdir(), 'flare-accuracy-large-'));
try {
  const season = buildSeason(join(dir, 'season.db'), join(dir, 'season-accuracy.csv'), 1000);
  const csv = join(dir, 'accuracy.csv');
  const rows = await writeLargeAccuracyCsv(csv, 50, CASES);
  const agent = await startBenchAgent(season.db, ['--accuracy-csv', csv]);
  const base = `${agent.base}/api/v1/ranking`;
  const ms: Record<string, number> = {};
  for (const [label, q] of [['rankingColdMs', ''], ['rankingWarmMs', ''], ['rankingWarm2Ms', ''], ['oneTeamMs', '?team=team-07'], ['bootstrap200Ms', '?bootstrap=200']] as const) {
    const t0 = performance.now();
    const res = await fetch(base + q);
    await res.text();
    if (res.status !== 200) throw new Error(`${label}: HTTP ${res.status}`);
    ms[label] = Math.round(performance.now() - t0);
  }
  const result = { rows, csvMiB: Math.round(statSync(csv).size / 1048576), runs: 1000, ...ms, agentRssMiB: rssMiB(agent.pid, 'VmRSS'), agentPeakRssMiB: rssMiB(agent.pid, 'VmHWM'), targets: { rankingWarmMs: '<= 1000', status: '200 with the default --read-heap-mib (96)' } };
  await agent.stop();
  process.stdout.write(JSON.stringify(result, null, 2) + '\n');
} finally {
  rmSync(dir, { recursive: true, force: true });
}
