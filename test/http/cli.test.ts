// `runs` and `export` through the built CLI, over a real database file and over a real agent API.
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Run } from '../../src/core/types.js';
import { RUN_CSV_COLUMNS } from '../../src/export/csv.js';
import { createApp, listen, type Listening } from '../../src/http/server.js';
import { spawnSync } from 'node:child_process';
import { CLI, cli } from './cli-helpers.js';
import { fill, run, summary, T0 } from './helpers.js';
import { foldFileName } from '../../src/export/file-names.js';
import { tempStore } from './store-helpers.js';

const fixture = (name: string): string => readFileSync(join(import.meta.dirname, 'fixtures', name), 'utf8');

const RUNS: Run[] = [
  run('r-a1'),
  run('r-b1', { team: 'beta', containerName: 'beta', startedWallMs: T0 + 30_000 }),
  run('r-a2', {
    case: 'case_002',
    status: 'timeout',
    startedWallMs: T0 + 60_000,
    summary: summary({
      status: 'timeout',
      wallSeconds: 60,
      maxGpuMiB: 5000,
      exceededTimeLimit: true,
      scoring: { timeSeconds: 3600, aucGpuMiBs: 29491200, aucCpuPctS: 360000, penalised: true },
    }),
  }),
];

let db: ReturnType<typeof tempStore>;
let out: string;
let server: Listening;

beforeAll(async () => {
  db = tempStore();
  fill(db.store, RUNS);
  out = mkdtempSync(join(tmpdir(), 'flare-cli-'));
  server = await listen(createApp({ store: db.store, live: null, metrics: null, token: 'tok-123' }), '127.0.0.1:0');
});

afterAll(async () => {
  await server?.close();
  db?.cleanup();
  if (out) rmSync(out, { recursive: true, force: true });
});

describe('flare-agent runs', () => {
  it('prints JSON, CSV and a table from the database', async () => {
    const json = await cli(['runs', '--db', db.path, '--json']);
    expect(json.stderr).toBe('');
    expect(json.code).toBe(0);
    const runs = JSON.parse(json.stdout) as { id: string; team: string; wallSeconds: number }[];
    expect(runs.map((r) => r.id)).toEqual(['r-a2', 'r-b1', 'r-a1']);
    expect(runs[0]).toMatchObject({ team: 'alpha', case: 'case_002', status: 'timeout', wallSeconds: 60 });

    const csv = await cli(['runs', '--db', db.path, '--csv', '--team', 'beta']);
    expect(csv.code).toBe(0);
    const lines = csv.stdout.trimEnd().split('\n');
    expect(lines[0]).toBe(RUN_CSV_COLUMNS.join(','));
    expect(lines).toHaveLength(2);
    expect(lines[1].startsWith('r-b1,beta,case_001,')).toBe(true);

    const table = await cli(['runs', '--db', db.path, '--status', 'timeout']);
    expect(table.code).toBe(0);
    expect(table.stdout.split('\n')[0]).toMatch(/^ID\s+TEAM\s+CASE\s+STATUS/);
    expect(table.stdout).toContain('r-a2');
    expect(table.stdout).not.toContain('r-a1');
  });

  it('--limit: the newest n runs, from the database and over --url; a bad count is bad usage', async () => {
    const url = `http://127.0.0.1:${server.port}`;
    for (const source of [['--db', db.path], ['--url', url, '--token', 'tok-123']]) {
      const two = await cli(['runs', ...source, '--json', '--limit', '2']);
      expect(two.stderr).toBe('');
      expect((JSON.parse(two.stdout) as { id: string }[]).map((r) => r.id)).toEqual(['r-a2', 'r-b1']);
      const filtered = await cli(['runs', ...source, '--json', '--limit', '1', '--team', 'alpha']);
      expect((JSON.parse(filtered.stdout) as { id: string }[]).map((r) => r.id)).toEqual(['r-a2']);
      const more = await cli(['runs', ...source, '--json', '--limit', '50']);
      expect((JSON.parse(more.stdout) as { id: string }[]).map((r) => r.id)).toEqual(['r-a2', 'r-b1', 'r-a1']);
    }
    for (const bad of ['0', '-1', '1.5', 'ten', '10000001']) {
      const r = await cli(['runs', '--db', db.path, '--limit', bad]);
      expect(r.code, bad).toBe(2);
      expect(r.stderr, bad).toMatch(/--limit: expected a whole number/);
    }
  });

  it('honours every repeated filter, from the database and over --url', async () => {
    const url = `http://127.0.0.1:${server.port}`;
    for (const source of [['--db', db.path], ['--url', url, '--token', 'tok-123']]) {
      const two = await cli(['runs', ...source, '--json', '--team', 'alpha', '--team', 'beta']);
      expect(two.stderr).toBe('');
      expect((JSON.parse(two.stdout) as { id: string }[]).map((r) => r.id)).toEqual(['r-a2', 'r-b1', 'r-a1']);
      const statuses = await cli(['runs', ...source, '--json', '--status', 'timeout', '--status', 'completed', '--team', 'alpha']);
      expect((JSON.parse(statuses.stdout) as { id: string }[]).map((r) => r.id)).toEqual(['r-a2', 'r-a1']);
      const cases = await cli(['runs', ...source, '--json', '--case', 'case_002', '--case', 'case_009']);
      expect((JSON.parse(cases.stdout) as { id: string }[]).map((r) => r.id)).toEqual(['r-a2']);
    }
    // Two teams in one CSV need the Team column; one team does not.
    const both = await cli(['export', '--format', 'flare22', '--db', db.path, '--team', 'alpha', '--team', 'beta']);
    expect(both.code).toBe(0);
    const lines = both.stdout.trimEnd().split('\n');
    expect(lines[0].startsWith('Team,Name,')).toBe(true);
    expect(lines.slice(1).map((l) => l.split(',')[0]).sort()).toEqual(['alpha', 'alpha', 'beta']);
    const viaApi = await cli(['export', '--format', 'flare22', '--url', url, '--token', 'tok-123', '--team', 'beta', '--team', 'alpha']);
    expect(viaApi.stdout).toBe(both.stdout);
  });

  it('runs and export into a pipe whose reader is gone (| true, as | head -1 after its line): exit 0, no stack trace', () => {
    // `true` exits before node has started: the first write meets a closed pipe (EPIPE).
    for (const args of [['runs', '--db', db.path, '--csv'], ['export', '--format', 'json', '--db', db.path]]) {
      const r = spawnSync('bash', ['-c', `node ${CLI} ${args.join(' ')} | true; echo "status=\${PIPESTATUS[0]}" >&2`], { encoding: 'utf8' });
      expect(r.stderr, args[0]).toContain('status=0');
      expect(r.stderr).not.toMatch(/EPIPE|at .*\.js:\d+/);
    }
  });

  it('reads a running agent with --url and the token from the environment', async () => {
    const url = `http://127.0.0.1:${server.port}`;
    const ok = await cli(['runs', '--url', url, '--json', '--team', 'alpha'], { FLARE_AGENT_TOKEN: 'tok-123' });
    expect(ok.stderr).toBe('');
    expect((JSON.parse(ok.stdout) as { id: string }[]).map((r) => r.id)).toEqual(['r-a2', 'r-a1']);
    const denied = await cli(['runs', '--url', url], { FLARE_AGENT_TOKEN: '' });
    expect(denied.code).toBe(1);
    expect(denied.stderr).toMatch(/HTTP 401/);
  });

  it.each([
    [['runs', '--status', 'weird'], /--status: expected one of/],
    [['runs', '--since', 'yesterday'], /--since:/],
    [['runs', '--db', 'x.db', '--url', 'http://127.0.0.1:1'], /not both/],
    [['runs', '--json', '--csv'], /not both/],
    [['runs', '--url', 'ftp://x'], /--url/],
    [['runs', '--bogus'], /unknown option/],
    [['export', '--format', 'xls'], /--format/],
    [['export'], /--format/],
    [['collect', '--db', 'x.db'], /--from/],
    // A value option given twice is refused unless it means a list (the filters, collect --from).
    [['runs', '--since', '1', '--since', '2'], /--since given more than once/],
    [['export', '--format', 'csv', '--format', 'json'], /--format given more than once/],
    [['profile', '--team', 'a', '--team', 'b', '--', 'true'], /--team given more than once/],
    [['rank', '--profile', 'flare22', '--profile', 'flare24'], /--profile given more than once/],
    [['start', '--db', 'a.db', '--db', 'b.db'], /--db given more than once/],
  ])('%j is bad usage: exit 2, one line', async (args, message) => {
    const r = await cli(args as string[]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message as RegExp);
    expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
  });

  it('fails with 1 when the database cannot be read', async () => {
    const r = await cli(['runs', '--db', join(out, 'missing', 'none.db')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^flare-agent runs: /);
  });
});

describe('flare-agent export', () => {
  it('prints a FLARE22 CSV in the official layout', async () => {
    const r = await cli(['export', '--format', 'flare22', '--team', 'alpha', '--db', db.path]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(fixture('flare22-alpha-exact.csv'));
  });

  it('writes one <team>_Efficiency.csv per team with --out', async () => {
    const dir = join(out, 'flare24');
    const r = await cli(['export', '--format', 'flare24', '--figures', 'official', '--out', dir, '--db', db.path]);
    expect(r.code).toBe(0);
    expect(readdirSync(dir).sort()).toEqual(['alpha_Efficiency.csv', 'beta_Efficiency.csv']);
    expect(readFileSync(join(dir, 'alpha_Efficiency.csv'), 'utf8')).toBe(fixture('flare24-alpha-official.csv'));
  });

  it('never writes one file for two teams, whatever their names sanitise to', async () => {
    const teams = ['北京大学', '浙江大学', 'a/b', 'a_b', 'a:b', 'TeamA', 'teama', '../up'];
    const clash = tempStore();
    try {
      fill(clash.store, teams.map((team, i) => run(`r-clash-${i}`, { team, startedWallMs: T0 + i * 1000 })));
      const dir = join(out, 'clash');
      const r = await cli(['export', '--format', 'flare22', '--out', dir, '--db', clash.path]);
      expect(r.code).toBe(0);
      expect(r.stderr).toMatch(/wrote 8 file\(s\)/);
      const files = readdirSync(dir);
      expect(files).toHaveLength(8);
      expect(files).toContain('北京大学_Efficiency.csv');
      expect(files).toContain('浙江大学_Efficiency.csv');
      expect(files).toContain('a_b_Efficiency.csv');
      // Every file holds exactly one team's one run.
      for (const f of files) expect(readFileSync(join(dir, f), 'utf8').trimEnd().split('\n')).toHaveLength(2);
      expect(readdirSync(out)).not.toContain('up_Efficiency.csv'); // nothing escaped the folder
    } finally {
      clash.cleanup();
    }
  });

  it('writes the runs table and every trace as CSV, from the agent API too', async () => {
    const dir = join(out, 'csv');
    const r = await cli(['export', '--format', 'csv', '--out', dir, '--url', `http://127.0.0.1:${server.port}`, '--token', 'tok-123']);
    expect(r.stderr).toMatch(/wrote 4 file/);
    expect(r.code).toBe(0);
    expect(readFileSync(join(dir, 'samples', 'r-a1.csv'), 'utf8')).toBe(fixture('samples-a1.csv'));
    expect(readFileSync(join(dir, 'runs.csv'), 'utf8').trimEnd().split('\n')).toHaveLength(4);
  });

  it('writes JSON traces that parse', async () => {
    const dir = join(out, 'json');
    const r = await cli(['export', '--format', 'json', '--out', dir, '--db', db.path]);
    expect(r.code).toBe(0);
    const t = JSON.parse(readFileSync(join(dir, 'samples', 'r-b1.json'), 'utf8')) as { samples: { wallMs: number }[] };
    expect(t.samples).toHaveLength(5);
    expect(JSON.parse(readFileSync(join(dir, 'runs.json'), 'utf8'))).toHaveLength(3);
  });

  /** The agent's app behind a gate that answers the official export busy (503 + Retry-After: 1) while `busy()` says so. */
  async function busyAgent(busy: (n: number) => boolean): Promise<{ url: string; asked: () => number; close: () => Promise<void> }> {
    const app = createApp({ store: db.store, live: null, metrics: null });
    let n = 0;
    const srv = http.createServer((req, res) => {
      if (req.url?.startsWith('/api/v1/export/official.csv') && busy(n++)) {
        res.writeHead(503, { 'retry-after': '1', 'content-type': 'application/json' }).end(JSON.stringify({ error: '4 heavy reads are in progress or waiting; retry after 1 s' }));
        return;
      }
      app(req, res);
    });
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
    return { url: `http://127.0.0.1:${(srv.address() as AddressInfo).port}`, asked: () => n, close: () => new Promise((r) => srv.close(() => r())) };
  }

  it('export --url --figures official --out: waits out a busy leaderboard (Retry-After), saying so, and writes every file', async () => {
    // The second team's file meets two busy answers: before, the export failed with exit 1 after writing the first.
    const agent = await busyAgent((n) => n === 1 || n === 2);
    try {
      const dir = join(out, 'busy-then-free');
      const r = await cli(['export', '--format', 'flare24', '--figures', 'official', '--out', dir, '--url', agent.url]);
      expect(r.stderr).toMatch(/the agent is busy \(503\); retrying in 1\.0 s/);
      expect(r.code).toBe(0);
      expect(agent.asked()).toBe(4);
      expect(readdirSync(dir).sort()).toEqual(['alpha_Efficiency.csv', 'beta_Efficiency.csv']);
      expect(readFileSync(join(dir, 'alpha_Efficiency.csv'), 'utf8')).toBe(fixture('flare24-alpha-official.csv'));
    } finally {
      await agent.close();
    }
  });

  it('an export that cannot finish writes no file (all or none), and the wait is bounded (--busy-wait)', async () => {
    const agent = await busyAgent((n) => n >= 1); // the first team's file is fetched, then busy for ever
    try {
      const dir = join(out, 'busy-for-ever');
      const t0 = Date.now();
      const r = await cli(['export', '--format', 'flare24', '--figures', 'official', '--out', dir, '--url', agent.url, '--busy-wait', '2']);
      expect(r.code).toBe(1);
      expect(Date.now() - t0).toBeLessThan(10_000);
      expect(r.stderr).toMatch(/HTTP 503/);
      expect(existsSync(dir) ? readdirSync(dir) : []).toEqual([]); // neither the first team's file nor the staging folder
      const bad = await cli(['export', '--format', 'flare24', '--out', dir, '--url', agent.url, '--busy-wait', 'soon']);
      expect([bad.code, bad.stderr]).toEqual([2, expect.stringMatching(/--busy-wait/)]);
    } finally {
      await agent.close();
    }
  });

  it('teams whose names a case-folding filesystem merges get files of their own', async () => {
    const teams = ['σ-team', 'ς-team', 'µNet', 'μNet', 'ſeg', 'seg', 'Straße', 'STRASSE', 'Alı', 'ALI'];
    const fold = tempStore();
    try {
      fill(fold.store, teams.map((team, i) => run(`r-fold-${i}`, { team, startedWallMs: T0 + i * 1000 })));
      const dir = join(out, 'fold');
      const r = await cli(['export', '--format', 'flare22', '--out', dir, '--db', fold.path]);
      expect(r.code).toBe(0);
      const files = readdirSync(dir);
      expect(files).toHaveLength(teams.length);
      expect(new Set(files.map(foldFileName)).size).toBe(teams.length);
    } finally {
      fold.cleanup();
    }
  });
});
