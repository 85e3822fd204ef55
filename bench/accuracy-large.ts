// The ranking with a 1 000 000-row accuracy CSV (bench/accuracy-csv.ts) on the built agent with its
// default heavy-read heap: the ranking cold (the file parsed into columns, the table built), warm
// (kept: only the file's hash is taken again), one team, a 200-resample bootstrap; the agent's RSS.
// Run: npm run build && node dist/bench/accuracy-large.js [--cases 10000]
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeLargeAccuracyCsv } from './accuracy-csv.js';
import { buildSeason } from './season-db.js';

const CLI = fileURLToPath(new URL('../src/cli.js', import.meta.url));
const i = process.argv.indexOf('--cases');
const CASES = i < 0 ? 10_000 : Number(process.argv[i + 1]);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const rssMiB = (pid: number, field: 'VmRSS' | 'VmHWM'): number => Math.round(Number(new RegExp(`${field}:\\s+(\\d+)`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024);

const dir = mkdtempSync(join(tmpdir(), 'flare-accuracy-large-'));
try {
  const season = buildSeason(join(dir, 'season.db'), join(dir, 'season-accuracy.csv'), 1000);
  const csv = join(dir, 'accuracy.csv');
  const rows = await writeLargeAccuracyCsv(csv, 50, CASES);
  const child = spawn(process.execPath, [CLI, 'start', '--db', season.db, '--listen', '127.0.0.1:0', '--gpu-source', 'none', '--accuracy-csv', csv, '--select', 'label:flare.acc-bench-none=1'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  let port = 0;
  for (let k = 0; k < 2400 && !port; k++) {
    if (child.exitCode !== null) throw new Error(`agent exited: ${out}`);
    port = Number(/"msg":"listening".*?"port":(\d+)/.exec(out)?.[1] ?? 0);
    if (!port) await sleep(25);
  }
  const base = `http://127.0.0.1:${port}/api/v1/ranking`;
  const ms: Record<string, number> = {};
  for (const [label, q] of [['rankingColdMs', ''], ['rankingWarmMs', ''], ['rankingWarm2Ms', ''], ['oneTeamMs', '?team=team-07'], ['bootstrap200Ms', '?bootstrap=200']] as const) {
    const t0 = performance.now();
    const res = await fetch(base + q);
    await res.text();
    if (res.status !== 200) throw new Error(`${label}: HTTP ${res.status}`);
    ms[label] = Math.round(performance.now() - t0);
  }
  const result = { rows, csvMiB: Math.round(statSync(csv).size / 1048576), runs: 1000, ...ms, agentRssMiB: rssMiB(child.pid!, 'VmRSS'), agentPeakRssMiB: rssMiB(child.pid!, 'VmHWM'), targets: { rankingWarmMs: '<= 1000', status: '200 with the default --read-heap-mib (96)' } };
  child.kill('SIGTERM');
  await new Promise((r) => child.once('exit', r));
  process.stdout.write(JSON.stringify(result, null, 2) + '\n');
} finally {
  rmSync(dir, { recursive: true, force: true });
}
