// One agent per database: `start` holds this lock for its whole life, before anything touches runs.
//
// The lock is `flock(2)` (LOCK_EX | LOCK_NB) on a sidecar file `<real db path>.lock` holding the
// holder's pid. The kernel drops a flock when the last descriptor of its open file goes, so a kill -9
// leaves no stale lock; the file itself is removed at release, and by an 'exit' hook when the process
// exits any other way than a signal that kills it. Removing it while another process may have opened
// it is safe by the usual check: whoever takes the lock then compares the file it locked (fstat) with
// what the path names now (stat) and starts over when they differ. flock and SQLite's own POSIX
// (fcntl) locks are independent on Linux, and the sidecar is never opened by SQLite.
//
// The lock is named after the database's REAL path (every symlink resolved, the file's and its
// folders'), so every name of one file meets one lock: a symlink to a held database is refused.
// A file with several hard links has no one real path, and SQLite names its -wal and -shm after the
// name it was opened by, so two names would mean two WALs on one database: such a file is refused.
import { closeSync, constants, fstatSync, ftruncateSync, lstatSync, openSync, readlinkSync, readSync, realpathSync, rmSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import koffi from 'koffi';
import { ensureDir } from '../paths.js';

const LOCK_EX = 2;
const LOCK_NB = 4;
/** EWOULDBLOCK (= EAGAIN) on Linux: another open file description holds the lock. */
const EWOULDBLOCK = 11;

let flockFn: ((fd: number, operation: number) => number) | null = null;

/** flock(2) from the C library; returns 0 or the errno. */
function flock(fd: number, operation: number): number {
  flockFn ??= koffi.load('libc.so.6').func('int flock(int fd, int operation)') as (fd: number, operation: number) => number;
  return flockFn(fd, operation) === 0 ? 0 : koffi.errno();
}

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
    ensureDir(dirname(path));
  }
  throw new Error(`${dbPath}: too many levels of symbolic links`);
}

export interface DbLock {
  readonly path: string;
  /** Removes the lock file and drops the lock; safe to call twice. */
  release(): void;
}

export function lockPathOf(dbPath: string): string {
  return `${dbPath}.lock`;
}

/** Attempts at a lock file that its holder removed between our open and our lock. */
const MAX_LOCK_ATTEMPTS = 5;

/** Takes the lock on `dbPath`'s real file or throws DbLockedError (DbLinkError); ':memory:' needs none. */
export function acquireDbLock(dbPath: string, pid = process.pid): DbLock {
  if (dbPath === ':memory:') return { path: dbPath, release() {} };
  ensureDir(dirname(dbPath));
  const real = realDbPath(dbPath);
  let links = 1;
  try {
    links = statSync(real).nlink;
  } catch {
    // not created yet: one name
  }
  if (links > 1) throw new DbLinkError(dbPath, links);
  const lockPath = lockPathOf(real);
  for (let attempt = 0; attempt < MAX_LOCK_ATTEMPTS; attempt++) {
    const fd = openSync(lockPath, constants.O_RDWR | constants.O_CREAT | constants.O_NOFOLLOW, 0o644);
    const errno = flock(fd, LOCK_EX | LOCK_NB);
    if (errno !== 0) {
      const holder = readPid(fd);
      closeSync(fd);
      if (errno === EWOULDBLOCK) throw new DbLockedError(dbPath, holder);
      throw new Error(`cannot lock ${lockPath}: errno ${errno}`);
    }
    // Still the file the path names? Its last holder may have removed it after our open.
    let now: ReturnType<typeof statSync> | null = null;
    try {
      now = statSync(lockPath);
    } catch {
      now = null;
    }
    const mine = fstatSync(fd);
    if (now === null || now.ino !== mine.ino || now.dev !== mine.dev) {
      closeSync(fd);
      continue;
    }
    ftruncateSync(fd, 0);
    writeSync(fd, `${pid}\n`, 0);
    // Files of the SQLite-based lock of earlier versions: nothing reads them any more.
    for (const old of [`${lockPath}.pid`, `${lockPath}-journal`]) rmSync(old, { force: true });
    let released = false;
    const release = (): void => {
      if (released) return;
      released = true;
      process.off('exit', release);
      // Removed while still held: nobody can lock this file after us and believe it is the lock.
      try {
        unlinkSync(lockPath);
      } catch {
        // gone already (removed by hand): the lock is dropped all the same
      }
      closeSync(fd);
    };
    process.on('exit', release);
    return { path: dbPath, release };
  }
  throw new Error(`cannot lock ${lockPath}: it kept being replaced`);
}

/** The holder's pid as it wrote it into the lock file; null when unreadable. */
function readPid(fd: number): number | null {
  try {
    const buf = Buffer.alloc(32);
    const n = readSync(fd, buf, 0, buf.length, 0);
    const pid = Number(buf.subarray(0, n).toString('latin1').trim());
    return Number.isInteger(pid) && pid > 0 ? pid : null;
  } catch {
    return null;
  }
}
