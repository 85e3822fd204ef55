// A start that fails exits 2 at once with one line, having undone what it started (no lock file, no
// listening socket); SIGTERM and SIGINT end the agent within 5 s in every state; nothing an organiser
// names (a FIFO, /dev/zero, a read-only or foreign database, a folder under /proc) can hang it.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, chownSync, copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createServer, connect, type Server } from 'node:net';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { openStore } from '../../src/store/index.js';
import { makeRun } from '../store/fixtures.js';
import { CLI, sleep, tempDir } from '../helpers.js';
import { canMount, mustRun } from './helpers.js';

const servers: Server[] = [];
const procs: ChildProcess[] = [];
const copies: string[] = [];
afterAll(() => {
  servers.forEach((s) => s.close());
  procs.forEach((p) => p.kill('SIGKILL'));
  copies.forEach((dir) => rmSync(dir, { recursive: true, force: true }));
});

/** A port nobody listens on (bound, then freed). */
async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as { port: number }).port;
  await new Promise((r) => s.close(r));
  return port;
}

function refused(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const c = connect(port, '127.0.0.1');
    c.once('connect', () => {
      c.destroy();
      resolve(false);
    });
    c.once('error', () => resolve(true));
  });
}

interface Started {
  child: ChildProcess;
  out: () => string;
  /** Exit code, and ms from spawn (or from the first signal, when one was sent). */
  exit: Promise<{ code: number | null; ms: number }>;
  signal(sig: NodeJS.Signals): void;
}

interface AsUser {
  uid?: number;
  gid?: number;
  /** The CLI to run (cliForNobody for another user). */
  cli?: string;
}

/**
 * The built CLI where uid 65534 can read it: this checkout, or a copy in the temp folder when a
 * folder above the checkout is closed to other users (CI clones wherever it likes).
 */
function cliForNobody(): string {
  const readable = spawnSync(process.execPath, ['-e', `require('fs').accessSync(${JSON.stringify(CLI)}, require('fs').constants.R_OK)`], { uid: 65534, gid: 65534 });
  if (readable.status === 0) return CLI;
  const root = mkdtempSync(join(tmpdir(), 'flare-cli-copy-'));
  copies.push(root);
  chmodSync(root, 0o755);
  for (const part of ['dist', 'node_modules', 'profiles', 'web', 'package.json']) cpSync(join(process.cwd(), part), join(root, part), { recursive: true });
  return join(root, 'dist', 'src', 'cli.js');
}

function startCli(args: string[], opts: AsUser = {}): Started {
  const t0 = Date.now();
  let signalledAt: number | null = null;
  const { cli = CLI, ...ids } = opts;
  const child = spawn(process.execPath, [cli, ...args], { stdio: ['ignore', 'pipe', 'pipe'], ...ids });
  procs.push(child);
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exit = new Promise<{ code: number | null; ms: number }>((resolve) => child.on('exit', (code) => resolve({ code, ms: Date.now() - (signalledAt ?? t0) })));
  return {
    child,
    out: () => out,
    exit,
    signal(sig) {
      signalledAt ??= Date.now();
      child.kill(sig);
    },
  };
}

/** `start` that must fail: exit 2 within 3 s, one line on stderr, no lock file, nothing listening. */
async function expectRefused(args: string[], dir: string, message: RegExp, opts: AsUser = {}): Promise<string> {
  const port = await freePort();
  const defaults = args.includes('--gpu-source') ? [] : ['--gpu-source', 'none'];
  const s = startCli(['start', '--listen', `127.0.0.1:${port}`, ...defaults, '--select', 'name:^never$', ...args], opts);
  const { code, ms } = await s.exit;
  const stderrLine = s.out().split('\n').filter((l) => l.startsWith('flare-agent')).join('\n');
  expect(code, s.out()).toBe(2);
  expect(stderrLine).toMatch(message);
  expect(stderrLine.split('\n')).toHaveLength(1);
  expect(ms).toBeLessThan(3000);
  expect(readdirSync(dir).filter((f) => f.endsWith('.lock'))).toEqual([]);
  expect(await refused(port)).toBe(true);
  return stderrLine;
}

describe('a start that fails exits 2 at once, having undone what it started', () => {
  it('a bad NVML path, a taken port, a folder under /proc, a foreign database', async () => {
    const dir = tempDir('flare-start-');
    const db = join(dir, 'a.db');
    await expectRefused(['--db', db, '--gpu-source', 'nvml', '--nvml-lib', '/nonexistent/libnvidia-ml.so.1'], dir, /cannot start: start the sampling stack .*nonexistent/);
    const taken = createServer();
    servers.push(taken);
    await new Promise<void>((r) => taken.listen(0, '127.0.0.1', r));
    const takenPort = (taken.address() as { port: number }).port;
    const s = startCli(['start', '--db', db, '--listen', `127.0.0.1:${takenPort}`, '--gpu-source', 'none']);
    const { code, ms } = await s.exit;
    expect(code).toBe(2);
    expect(s.out()).toMatch(/cannot start: listen on 127\.0\.0\.1:\d+: .*EADDRINUSE/);
    expect(ms).toBeLessThan(3000);
    expect(existsSync(`${db}.lock`)).toBe(false);
    // Node's own recursive mkdir spins for ever on such a path (store/open.ts uses paths.ts ensureDir).
    await expectRefused(['--db', '/proc/flare-nope/a.db'], dir, /cannot start: lock the database: .*ENOENT.*\/proc\/flare-nope/);
    const foreign = join(dir, 'foreign.db');
    const f = new Database(foreign);
    f.pragma('application_id = 42');
    f.exec('CREATE TABLE notes (x)');
    f.close();
    await expectRefused(['--db', foreign], dir, /application_id 42 belongs to another program/);
  });

  it.skipIf(!canMount && !mustRun)('a database file the service user cannot write (root copied it in, 0444)', async () => {
    if (!canMount) throw new Error('needs root to run the agent as another user');
    const dir = tempDir('flare-ro-');
    chmodSync(dir, 0o755);
    const state = join(dir, 'state');
    mkdirSync(state);
    const seed = join(dir, 'seed.db');
    openStore(seed).close();
    copyFileSync(seed, join(state, 'a.db'));
    chmodSync(join(state, 'a.db'), 0o444);
    chownSync(state, 65534, 65534); // nobody owns the folder, root the file
    await expectRefused(['--db', join(state, 'a.db')], state, /cannot start: write to the database .*readonly/, { uid: 65534, gid: 65534, cli: cliForNobody() });
  });

  it('a FIFO or /dev/zero as --accuracy-csv, --token-file, --nvml-lib or --profile is refused, never read', async () => {
    const dir = tempDir('flare-fifo-');
    const fifo = join(dir, 'fifo');
    spawn('mkfifo', [fifo]);
    for (let i = 0; i < 50 && !existsSync(fifo); i++) await sleep(20);
    const db = join(dir, 'a.db');
    for (const path of [fifo, '/dev/zero']) {
      await expectRefused(['--db', db, '--accuracy-csv', path], dir, /--accuracy-csv .*is a (FIFO|character device): give a regular file/);
      await expectRefused(['--db', db, '--token-file', path], dir, /--token-file .*is a (FIFO|character device): give a regular file/);
      await expectRefused(['--db', db, '--gpu-source', 'nvml', '--nvml-lib', path], dir, /start the sampling stack .*is a (FIFO|character device): give a regular file/);
      for (const cmd of [['rank'], ['export', '--format', 'flare22', '--figures', 'official']]) {
        const s = startCli([...cmd, '--db', db, '--profile', path]);
        const { code, ms } = await s.exit;
        expect(code, s.out()).toBe(2);
        expect(s.out()).toMatch(/--profile: .*is a (FIFO|character device): give a regular file/);
        expect(ms).toBeLessThan(3000);
      }
    }
  });
});

/** A Docker socket that accepts and never answers: recovery's inspects wait out their own timeout. */
async function hangingDocker(dir: string): Promise<string> {
  const path = join(dir, 'docker.sock');
  const server = createServer(() => {});
  servers.push(server);
  await new Promise<void>((r) => server.listen(path, r));
  return path;
}

describe('SIGTERM and SIGINT end the agent within 5 s in every state', () => {
  it('while starting (recovery waits on a Docker that never answers): out within 5 s, lock file gone; a second signal at once', async () => {
    const dir = tempDir('flare-sig-');
    const db = join(dir, 'a.db');
    const seed = openStore(db);
    for (let i = 0; i < 4; i++) seed.createRun(makeRun(`left-${i}`, { containerId: `c${i}`.padEnd(64, '0'), startedWallMs: Date.now() - 60_000 }));
    seed.close();
    // Written by this (live) test process: make them a gone writer's, as a crashed agent leaves them.
    const raw = new Database(db);
    raw.exec('UPDATE runs SET writer = NULL');
    raw.close();
    const sock = await hangingDocker(dir);
    const args = ['start', '--db', db, '--listen', '127.0.0.1:0', '--gpu-source', 'none', '--docker-host', `unix://${sock}`];
    const s = startCli(args);
    await sleep(1000); // settling the first left-running run: a 5-s inspect, four of them
    s.signal('SIGTERM');
    const { code, ms } = await s.exit;
    expect(ms, s.out()).toBeLessThanOrEqual(5000);
    expect(code).toBe(1); // forced at the deadline: the start had not finished
    expect(s.out()).toContain('"while":"starting"');
    expect(existsSync(`${db}.lock`)).toBe(false);

    const again = startCli(args);
    await sleep(1000);
    again.signal('SIGTERM');
    await sleep(300);
    again.signal('SIGINT');
    const second = await again.exit;
    expect(second.code).toBe(1);
    expect(second.ms).toBeLessThan(1500);
    expect(again.out()).toContain('second signal');
    expect(existsSync(`${db}.lock`)).toBe(false);
  });

  it('while running, and during a close slowed by another writer\'s lock: exit 0 within 5 s, nothing left listening', async () => {
    const dir = tempDir('flare-sig2-');
    const db = join(dir, 'a.db');
    const port = await freePort();
    const args = ['start', '--db', db, '--listen', `127.0.0.1:${port}`, '--gpu-source', 'none', '--select', 'name:^never$'];
    const plain = startCli(args);
    for (let i = 0; i < 100 && !plain.out().includes('sampler started'); i++) await sleep(50);
    plain.signal('SIGTERM');
    expect(await plain.exit).toMatchObject({ code: 0 });
    expect((await plain.exit).ms).toBeLessThan(2000);
    expect(existsSync(`${db}.lock`)).toBe(false);
    expect(await refused(port)).toBe(true);

    const busy = startCli(args);
    for (let i = 0; i < 100 && !busy.out().includes('sampler started'); i++) await sleep(50);
    // Another process takes the write lock and keeps it: every write of the agent now waits, then fails.
    const holder = spawn(process.execPath, ['-e', `const D=require('better-sqlite3'); const d=new D(${JSON.stringify(db)}); d.exec('BEGIN IMMEDIATE'); console.log('held'); setTimeout(()=>{}, 30000);`], { cwd: process.cwd(), stdio: ['ignore', 'pipe', 'inherit'] });
    procs.push(holder);
    await new Promise<void>((r) => holder.stdout!.once('data', () => r()));
    await sleep(1500);
    busy.signal('SIGTERM');
    const { code, ms } = await busy.exit;
    holder.kill('SIGKILL');
    expect(ms, busy.out()).toBeLessThanOrEqual(5000);
    expect([0, 1]).toContain(code);
    expect(existsSync(`${db}.lock`)).toBe(false);
    expect(await refused(port)).toBe(true);
    console.log('stop under a held write lock:', { code, ms });
  });
});
