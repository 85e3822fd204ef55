// One agent per database: `start` holds this lock for its whole life, before anything touches runs.
//
// The lock is a sidecar SQLite file (`<db>.lock`) held with `PRAGMA locking_mode = EXCLUSIVE` after a
// write: SQLite keeps the exclusive POSIX (fcntl) lock on the file until the connection closes, and the
// kernel releases POSIX locks when the process dies, so a kill -9 never leaves a stale lock (no pid or
// mtime heuristics). SQLite also tracks locks per inode inside one process, so a second open from the
// same process is refused too. The holder's pid is written to `<db>.lock.pid` only so that the refusal
// can name it; the pid file never decides anything.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
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

export interface DbLock {
  readonly path: string;
  release(): void;
}

export function lockPathOf(dbPath: string): string {
  return `${dbPath}.lock`;
}

/** Takes the lock on `dbPath` or throws DbLockedError; ':memory:' needs none. */
export function acquireDbLock(dbPath: string, pid = process.pid): DbLock {
  if (dbPath === ':memory:') return { path: dbPath, release() {} };
  mkdirSync(dirname(dbPath), { recursive: true });
  const lockPath = lockPathOf(dbPath);
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
