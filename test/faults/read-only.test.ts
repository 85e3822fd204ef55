// Fault: the database copied to read-only media (an archive). `runs`, `export` and `plot` open it
// read-only and work although neither the file nor its folder is writable, with and without a -wal
// file beside it; an open failure names the path and the OS reason.
import { copyFileSync, existsSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli, tempDir } from '../helpers.js';
import { canMount, mountTmpfs, mustRun, remountReadOnly, type Tmpfs } from './helpers.js';

const mounts: Tmpfs[] = [];
afterAll(() => mounts.forEach((m) => m.unmount()));

describe.skipIf(!canMount && !mustRun)('read-side commands on read-only media', () => {
  it('runs, export and plot read an archived database (clean, and with a -wal file) on a read-only mount', async () => {
    if (!canMount) throw new Error('the fault suite mounts a tmpfs: run it as root');
    const db = join(tempDir('flare-ro-src-'), 'agent.db');
    const made = await runCli(['profile', '--db', db, '--gpu-source', 'none', '--team', 'ro-team', '--case', 'ro-case', '--', 'sh', '-c', 'sleep 0.3']);
    expect(made.code, made.stderr).toBe(0);

    const fs = mountTmpfs(16);
    mounts.push(fs);
    // A clean copy (no -wal), and a copy taken while a writer held un-checkpointed pages in the -wal.
    mkdirSync(join(fs.dir, 'clean'));
    copyFileSync(db, join(fs.dir, 'clean', 'agent.db'));
    const writer = new Database(db);
    writer.pragma('wal_autocheckpoint = 0');
    writer.prepare("UPDATE runs SET team = 'ro-team-wal'").run();
    mkdirSync(join(fs.dir, 'wal'));
    copyFileSync(db, join(fs.dir, 'wal', 'agent.db'));
    copyFileSync(`${db}-wal`, join(fs.dir, 'wal', 'agent.db-wal'));
    writer.close();
    remountReadOnly(fs.dir);

    for (const [sub, team] of [['clean', 'ro-team'], ['wal', 'ro-team-wal']] as const) {
      const file = join(fs.dir, sub, 'agent.db');
      const runs = await runCli(['runs', '--db', file, '--json']);
      expect(runs.code, runs.stderr).toBe(0);
      const list = JSON.parse(runs.stdout) as { id: string; team: string; status: string }[];
      expect(list).toHaveLength(1);
      expect(list[0].team).toBe(team); // the -wal's pages are read too
      expect(list[0].status).toBe('completed');
      const exported = await runCli(['export', '--db', file, '--format', 'csv']);
      expect(exported.code, exported.stderr).toBe(0);
      expect(exported.stdout).toContain(list[0].id);
      const out = tempDir('flare-ro-plot-');
      const plot = await runCli(['plot', list[0].id, '--db', file, '--out', out]);
      expect(plot.code, plot.stderr).toBe(0);
      expect(readdirSync(out)).toHaveLength(3);
      // Nothing was written beside the archive.
      expect(readdirSync(join(fs.dir, sub)).sort()).toEqual(sub === 'wal' ? ['agent.db', 'agent.db-wal'] : ['agent.db']);
    }
    console.log('read-only media: runs/export/plot exit 0 on a ro tmpfs, clean and with a -wal file');
  });

  it('an open failure names the path and the OS reason', async () => {
    const missing = join(tempDir('flare-ro-missing-'), 'nope.db');
    const r = await runCli(['runs', '--db', missing]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(missing);
    expect(r.stderr).toMatch(/no such file or directory \(ENOENT\)/);
    expect(existsSync(missing)).toBe(false);
  });
});
