// One agent per database: `start` holds this lock for its whole life, before anything touches runs.
//
// The lock is a sidecar SQLite file (`<db>.lock`) held with `PRAGMA locking_mode = EXCLUSIVE` after a
// write: SQLite keeps the exclusive POSIX (fcntl) lock on the file until the connection closes, and the
// kernel releases POSIX locks when the process dies, so a kill -9 never leaves a stale lock (no pid or
// mtime heuristics). SQLite also tracks locks per inode inside one process, so a second open from the
// same process is refused too. The holder's pid is written to `<db>.lock.pid` only so that the refusal
// can name it; the pid file never decides anything.
//
// The lock is named after the database's REAL path (every symlink resolved, the file's and its
// folders'), so every name of one file meets one lock: a symlink to a held database is refused.
// A file with several hard links has no one real path, and SQLite names its -wal and -shm after the
// name it was opened by, so two names would mean two WALs on one database: such a file is refused.
import { lstatSync, mkdirSync, readFileSync, readlinkSync, realpathSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import Database from 'better-sqlite3';

/** Another live process holds the database (the CLI exits 2 with this message). */
export class DbLockedError extends Error {
  constructor(
    readonly path: string,
    readonly holderPid: number | null,
  ) {
    super(`another agent (pid ${holderPid ?? 'unknown'}) holds ${path}`);
    this.name = 'DbLockedError';
  }
}

/** The database file has more than one hard link (the CLI exits 2 with this message). */
export class DbLinkError extends Error {
  constructor(readonly path: string, readonly links: number) {
    super(`${path} has ${links} hard links: each name would get its own lock, -wal and -shm; give the agent a file with one name`);
    this.name = 'DbLinkError';
  }
}

/** Symlinks a path may pass through before it is refused as a loop (Linux's own limit, MAXSYMLINKS). */
const MAX_LINK_HOPS = 40;

/**
 * The real path of a database that may not exist yet: realpath when it does; else the real folder
 * plus the name, following a dangling symlink to where its target will be created.
 */
export function realDbPath(dbPath: string): string {
  let path = resolve(dbPath);
  for (let hop = 0; hop < MAX_LINK_HOPS; hop++) {
    try {
      return realpathSync(path);
    } catch {
      // missing: below
    }
    const here = join(realpathSync(dirname(path)), basename(path));
    let isLink = false;
    try {
      isLink = lstatSync(here).isSymbolicLink();
    } catch {
      return here; // nothing there yet: the file this path will create
    }
    if (!isLink) return here;
    path = resolve(dirname(here), readlinkSync(here));
    mkdirSync(dirname(path), { recursive: true });
  }
  throw new Error(`${dbPath}: too many levels of symbolic links`);
}

export interface DbLock {
  readonly path: string;
  release(): void;
}

export function lockPathOf(dbPath: string): string {
  return `${dbPath}.lock`;
}

/** Takes the lock on `dbPath`'s real file or throws DbLockedError (DbLinkError); ':memory:' needs none. */
export function acquireDbLock(dbPath: string, pid = process.pid): DbLock {
  if (dbPath === ':memory:') return { path: dbPath, release() {} };
  mkdirSync(dirname(dbPath), { recursive: true });
  const real = realDbPath(dbPath);
  let links = 1;
  try {
    links = statSync(real).nlink;
  } catch {
    // not created yet: one name
  }
  if (links > 1) throw new DbLinkError(dbPath, links);
  const lockPath = lockPathOf(real);
  const pidPath = `${lockPath}.pid`;
  // timeout 0: a held lock answers SQLITE_BUSY at once instead of waiting.
  const db = new Database(lockPath, { timeout: 0 });
  try {
    db.pragma('locking_mode = EXCLUSIVE');
    db.exec('BEGIN EXCLUSIVE');
    db.exec('CREATE TABLE IF NOT EXISTS holder (pid INTEGER NOT NULL)');
    db.exec('DELETE FROM holder');
    db.prepare('INSERT INTO holder (pid) VALUES (?)').run(pid);
    db.exec('COMMIT'); // the exclusive lock stays: locking_mode = EXCLUSIVE releases it only at close
  } catch (err) {
    db.close();
    if ((err as { code?: string }).code === 'SQLITE_BUSY' || (err as { code?: string }).code === 'SQLITE_LOCKED') {
      throw new DbLockedError(dbPath, readPid(pidPath));
    }
    throw err;
  }
  writeFileSync(pidPath, `${pid}\n`);
  let released = false;
  return {
    path: dbPath,
    release(): void {
      if (released) return;
      released = true;
      db.close();
    },
  };
}

function readPid(pidPath: string): number | null {
  try {
    const pid = Number(readFileSync(pidPath, 'utf8').trim());
    return Number.isInteger(pid) && pid > 0 ? pid : null;
  } catch {
    return null;
  }
}
