// Official export across an agent restart: the figures stored with the runs (schema 9) answer a cold
// export after a start as fast as a warm one. A season database is built, the built agent started on
// it, the all-teams official export timed cold (every run modelled, the final figures handed to the
// store's writer), warm (read back), then the agent restarted and the export timed again; `export
// --db` (the CLI on the same file) too, and all answers compared byte for byte.
// Run: npm run build && node dist/bench/official-stored.js [--runs 10000] [--dir DIR]
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildSeason } from './season-db.js';
import { CLI, startBenchAgent } from './agent-child.js';

const arg = (name: string): string | undefined => {
  const i = process.argv.indexOf(name);
  return i < 0 ? undefined : process.argv[i + 1];
};
const RUNS = Number(arg('--runs') ?? 2000);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const round = (x: number): number => Math.round(x);

async function timed(url: string): Promise<{ ms: number; body: string }> {
  const t0 = performance.now();
  const res = await fetch(url);
  const body = await res.text();
  if (res.status !== 200) throw new Error(`${url}: HTTP ${res.status}: ${body.slice(0, 200)}`);
  return { ms: performance.now() - t0, body };
}

const keepDir = arg('--dir');
const dir = keepDir ?? mkdtempSync(join(tmpdir(), 'flare-official-stored-'));
mkdirSync(dir, { recursive: true });
try {
  const db = join(dir, `season-${RUNS}.db`);
  if (!existsSync(db)) buildSeason(db, join(dir, `season-${RUNS}-accuracy.csv`), RUNS);
  const path = '/api/v1/export/flare22.csv?figures=official';
  let agent = await startBenchAgent(db);
  const cold = await timed(agent.base + path);
  // The final figures reach the store's writer and land at its next flushes (500 rows a second).
  await sleep(1500 + (RUNS / 500) * 1000);
  const warm = await timed(agent.base + path);
  await agent.stop();
  agent = await startBenchAgent(db);
  const afterRestart = await timed(agent.base + path);
  await agent.stop();
  const t0 = performance.now();
  const cli = spawnSync(process.execPath, [CLI, 'export', '--db', db, '--format', 'flare22', '--figures', 'official'], { encoding: 'utf8', maxBuffer: 256 << 20 });
  const cliMs = performance.now() - t0;
  const out = {
    runs: RUNS,
    coldMs: round(cold.ms),
    warmMs: round(warm.ms),
    coldAfterRestartMs: round(afterRestart.ms),
    cliExportDbMs: round(cliMs),
    afterRestartOverWarm: Math.round((afterRestart.ms / warm.ms) * 100) / 100,
    sameAnswers: cold.body === warm.body && warm.body === afterRestart.body && cli.stdout === cold.body,
    // The first read of any process also pays its JIT and a cold page cache (measured: ~0.35 s at 10 000 runs).
    targets: { coldAfterRestartMsAt10000: '<= 2 x warmMs (it was 19 s: every run modelled again)', sameAnswers: 'true' },
  };
  process.stdout.write(JSON.stringify(out, null, 2) + '\n');
} finally {
  if (!keepDir) rmSync(dir, { recursive: true, force: true });
}
