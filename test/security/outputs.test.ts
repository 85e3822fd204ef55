// Security §5: outputs are inert. Against the built CLI: CSV cells whose first non-space character
// is = + - @ (or that start with tab/CR) are neutralised in every CSV; bidi controls are stripped
// from container labels by the identity sanitiser (real dockerd) and never reach the terminal or a
// CSV; a foreign or unrecognised SQLite file is refused unchanged (exit 2, naming the file and why);
// config numbers must be decimal.
import { csvField } from '../../src/export/csv.js';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, resolveConfig } from '../../src/config.js';
import { openStore } from '../../src/store/index.js';
import { FLARE_APPLICATION_ID } from '../../src/store/foreign.js';
import { requireServices, runCli, sleep, tempDir } from '../helpers.js';
import { storeGpuRun } from '../plot/fixture.js';
import { IMAGE, docker, dockerReachable } from '../docker/helpers.js';
import { startAgentChild } from '../web/agent-child.js';

const engineUp = await dockerReachable();
if (!engineUp && requireServices()) throw new Error(`dockerd with ${IMAGE} is required (FLARE_TEST_REQUIRE_SERVICES)`);
const BIDI = /[\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c]/;

/** Minimal RFC 4180 reader: the cells of a CSV text. */
function csvCells(text: string): string[] {
  const cells: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') (cell += '"'), i++;
      else if (ch === '"') quoted = false;
      else cell += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',' || ch === '\n') cells.push(cell), (cell = '');
    else cell += ch;
  }
  return cells;
}

describe('CSV and terminal output of hostile names', () => {
  const dir = tempDir('flare-sec-out-');
  const db = join(dir, 'agent.db');
  const hostile = [' =1+1', '\t=2+2', '  +3', '-4+4', '@SUM(A1)', '\r=5', 'ok\u202Egnp.exe', 'x\u2066y\u2069z'];
  const seed = openStore(db);
  hostile.forEach((team, i) => storeGpuRun(seed, { id: `run-${i}`, team, case: team, timeLimitSeconds: 12 }));
  seed.close();

  it('neutralises formula cells (after leading spaces too) and drops bidi controls in every CSV', async () => {
    for (const args of [['--format', 'flare22'], ['--format', 'flare24', '--figures', 'official'], ['--format', 'csv']]) {
      const r = await runCli(['export', '--db', db, ...args]);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout, args.join(' ')).not.toMatch(BIDI);
      const cells = csvCells(r.stdout);
      for (const team of hostile.filter((t) => !BIDI.test(t))) expect(cells, `${args[1]} ${JSON.stringify(team)}`).toContain(`'${team}`);
      for (const cell of cells) expect(cell, JSON.stringify(cell)).not.toMatch(/^\s*[=+\-@]|^[\t\r]/);
      expect(cells).toContain('okgnp.exe');
    }
  }, 120_000);

  it('guards text behind zero-width or fullwidth prefixes, never a number', () => {
    for (const text of ['\u200b=1+1', '\u2060+2', '\ufeff@x', '\uff1d1+1', '\uff0b2', '\uff0d3', '\uff20x', ' \u200b-4']) expect(csvField(text), JSON.stringify(text)).toBe(`'${text}`);
    expect(csvField(-0.25)).toBe('-0.25');
    expect(csvField(-1)).toBe('-1');
    expect(csvField('-1')).toBe("'-1"); // text that looks like a number is still text
    expect(csvField(-0.123456789, 9)).toBe('-0.123456789');
  });

  it('masks bidi controls in the runs table on the terminal', async () => {
    const r = await runCli(['runs', '--db', db]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).not.toMatch(BIDI);
    expect(r.stdout).toContain('ok?gnp.exe');
  });
});

describe.skipIf(!engineUp && !requireServices())('identity sanitiser on a real container (built CLI)', () => {
  const tag = randomBytes(4).toString('hex');
  let id = '';
  afterAll(async () => {
    if (id) await docker.getContainer(id).remove({ force: true }).catch(() => undefined);
  });

  it('strips bidi and control characters from the organiser\'s labels before storing them', async () => {
    const agent = await startAgentChild(['--db', join(tempDir('flare-sec-out-'), 'a.db'), '--gpu-source', 'none', '--select', `label:flare.sec=${tag}`]);
    try {
      const c = await docker.createContainer({
        Image: IMAGE, Cmd: ['true'], HostConfig: { NetworkMode: 'none' },
        Labels: { 'flare.sec': tag, 'flare.team': 'blue\u202Eeulb\u2066x\u2069\u0007', 'flare.case': 'c\u200f1\u001b[31m' },
      });
      id = c.id;
      await c.start();
      let runs: { team: string; case: string; status: string }[] = [];
      for (let i = 0; i < 100 && !(runs.length === 1 && runs[0].status !== 'running'); i++) {
        await sleep(100);
        runs = ((await (await fetch(`http://127.0.0.1:${agent.port}/api/v1/runs`)).json()) as { runs: typeof runs }).runs;
      }
      expect(runs.map((r) => [r.team, r.case])).toEqual([['blueeulbx', 'c1[31m']]);
    } finally {
      await agent.stop();
    }
  }, 60_000);
});

describe('foreign or unrecognised SQLite files are refused unchanged', () => {
  const dir = tempDir('flare-sec-db-');
  const digest = (p: string): string => createHash('sha256').update(readFileSync(p)).digest('hex');
  const make = (name: string, setup: (db: Database.Database) => void): string => {
    const path = join(dir, name);
    const db = new Database(path);
    setup(db);
    db.close();
    return path;
  };
  const files: [string, RegExp][] = [
    [make('notes.db', (db) => db.exec('CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT); INSERT INTO notes (body) VALUES (\'mine\')')), /holds tables but no flare-agent schema version/],
    [make('negative.db', (db) => db.pragma('user_version = -5')), /user_version -5 is not a flare-agent schema version/],
    [make('other-app.db', (db) => (db.pragma('application_id = 1234'), db.exec('CREATE TABLE t (x)'))), /application_id 1234 belongs to another program/],
    [make('versioned.db', (db) => (db.pragma('user_version = 2'), db.exec('CREATE TABLE runs (x)'))), /user_version 2 but flare-agent's tables node_inventory, run_chunks are missing/],
    [make('future.db', (db) => (db.pragma('user_version = 99'), db.exec('CREATE TABLE t (x)'))), /user_version 99 but flare-agent's tables node_inventory, runs, run_chunks are missing/],
  ];
  const text = join(dir, 'text.db');
  writeFileSync(text, 'this is not a database, just text that someone pointed --db at\n'.repeat(20));
  files.push([text, /file is not a database/]);

  it('start: exit 2 naming the file and why, bytes unchanged, no WAL switch', async () => {
    for (const [path, why] of files) {
      const before = digest(path);
      const r = await runCli(['start', '--db', path, '--gpu-source', 'none']);
      expect(r.code, path).toBe(2);
      expect(r.stderr).toContain(path);
      expect(r.stderr, path).toMatch(why);
      expect(digest(path), path).toBe(before);
      expect(existsSync(`${path}-wal`), path).toBe(false);
    }
  }, 180_000);

  it('read commands refuse them too; our own files carry our application_id', async () => {
    const r = await runCli(['runs', '--db', files[0][0]]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/not a flare-agent database/);
    const ours = join(dir, 'ours.db');
    openStore(ours).close();
    const db = new Database(ours, { readonly: true });
    expect(db.pragma('application_id', { simple: true })).toBe(FLARE_APPLICATION_ID);
    db.close();
    expect((await runCli(['runs', '--db', ours])).code).toBe(0);
  }, 120_000);
});

describe('config numbers are decimal', () => {
  const dir = tempDir('flare-sec-cfg-');
  it('refuses hex, arrays and other non-decimal numbers from flags, environment and the config file (exit 2)', async () => {
    const db = join(dir, 'a.db');
    const flag = await runCli(['start', '--db', db, '--interval-ms', '0x64']);
    expect(flag.code).toBe(2);
    expect(flag.stderr).toMatch(/--interval-ms: expected a number, got "0x64"/);
    const env = await runCli(['start', '--db', db], { FLARE_AGENT_INTERVAL_MS: '0x20' });
    expect(env.code).toBe(2);
    expect(env.stderr).toMatch(/FLARE_AGENT_INTERVAL_MS/);
    const file = join(dir, 'config.json');
    writeFileSync(file, '{"intervalMs": [100]}');
    const r = await runCli(['start', '--db', db, '--config', file]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--interval-ms: expected a number, got \[100\]/);
    // The same parser, in process (each CLI start costs seconds on a loaded machine).
    for (const value of ['"0x64"', '"0b1"', '"1e2 x"', '" "', 'true', '{"n":100}', '"Infinity"']) {
      writeFileSync(file, `{"intervalMs": ${value}}`);
      expect(() => resolveConfig({}, {}, file), value).toThrow(ConfigError);
    }
    for (const [value, n] of [['100', 100], ['"100"', 100], ['" 250 "', 250], ['1e2', 100]] as const) {
      writeFileSync(file, `{"intervalMs": ${value}}`);
      expect(resolveConfig({}, {}, file).intervalMs, value).toBe(n);
    }
    expect(() => resolveConfig({}, { FLARE_AGENT_TIME_LIMIT: '0x20' })).toThrow(/FLARE_AGENT_TIME_LIMIT/);
    expect(() => resolveConfig({ enforceTimeLimit: [true] }, {})).toThrow(/expected true or false/);
  }, 180_000);
});
