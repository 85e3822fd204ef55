// Opening a database file: read-write (created and upgraded, foreign files refused before anything is
// written) for the agent, read-only (through a private copy where SQLite cannot open it in place) for
// the CLI readers. Both hand the connection to SqliteStore (sqlite.ts).
import { accessSync, constants as fsConstants, copyFileSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import Database from 'better-sqlite3';
import { SchemaVersionError } from './errors.js';
import { checkOpenedFile, FLARE_APPLICATION_ID, refuseForeignFile } from './foreign.js';
import { checkNotNewer, migrate, prepareNewFile, SCHEMA_VERSION } from './schema.js';
import { SqliteStore, type StoreOptions } from './sqlite.js';
import type { Store } from './types.js';
import { ensureDir } from '../paths.js';

/**
 * How long a write waits for another writer's lock (`profile --db` beside the agent holds it for
 * milliseconds). better-sqlite3 waits on the calling thread, the sampler's: a lock held for long
 * (someone's open transaction) costs at most this per attempt, and the store's retries back off.
 */
export const WRITE_BUSY_TIMEOUT_MS = 500;
/** Readers (the CLI, read-only) are not the sampler: they may wait longer for a checkpoint. */
const READ_BUSY_TIMEOUT_MS = 5000;

/** Opens (creating it and its parent directories if needed) and upgrades the database at `path`. */
export function openStore(path: string, opts: StoreOptions = {}): Store {
  if (path !== ':memory:') ensureDir(dirname(path));
  refuseForeignFile(path); // before anything below writes to the file
  const db = new Database(path);
  try {
    db.pragma(`busy_timeout = ${WRITE_BUSY_TIMEOUT_MS}`);
    checkOpenedFile(db, path); // again on this connection: the file may have been created meanwhile
    const version = checkNotNewer(db, path);
    prepareNewFile(db);
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    migrate(db, path);
    // An upgrade that rewrote data in place (version 10 packs the node samples) leaves free pages and
    // a WAL as large as what it rewrote: both go back to the file system before the agent starts.
    if (version > 0 && version < SCHEMA_VERSION) {
      db.pragma('incremental_vacuum');
      db.pragma('wal_checkpoint(TRUNCATE)');
    }
    if (db.pragma('application_id', { simple: true }) !== FLARE_APPLICATION_ID) db.pragma(`application_id = ${FLARE_APPLICATION_ID}`);
  } catch (err) {
    db.close();
    throw err;
  }
  return new SqliteStore(db, false, opts);
}

/**
 * Opens an existing database for reading only (CLI readers); every write method throws. Works on an
 * archived file whose file and folder are not writable: a WAL-mode database needs its -shm file, which
 * SQLite cannot create there, and this build of better-sqlite3 takes no `file:…?immutable=1` URI
 * (SQLITE_USE_URI is off), so such a file is read through a private copy (with its -wal) in the temp
 * folder, removed at close. An open failure names the path and the OS reason.
 */
export function openStoreReadOnly(path: string): Store {
  try {
    accessSync(path, fsConstants.R_OK);
  } catch (err) {
    throw new Error(`cannot open database ${path}: ${osReason(err)}`);
  }
  let copyDir: string | null = null;
  let db: Database.Database;
  try {
    db = openProbed(path);
  } catch (err) {
    if ((err as { code?: string }).code?.startsWith('SQLITE_CANTOPEN') !== true && (err as { code?: string }).code?.startsWith('SQLITE_READONLY') !== true) {
      throw new Error(`cannot open database ${path}: ${(err as Error).message}`);
    }
    copyDir = mkdtempSync(join(tmpdir(), 'flare-agent-ro-'));
    const copy = join(copyDir, basename(path));
    try {
      copyFileSync(path, copy);
      if (existsSync(`${path}-wal`)) copyFileSync(`${path}-wal`, `${copy}-wal`);
      db = openProbed(copy);
    } catch (copyErr) {
      rmSync(copyDir, { recursive: true, force: true });
      throw new Error(`cannot open database ${path}: ${(err as Error).message}; reading a copy failed too: ${osReason(copyErr)}`);
    }
  }
  try {
    db.pragma(`busy_timeout = ${READ_BUSY_TIMEOUT_MS}`);
    checkOpenedFile(db, path);
    const version = checkNotNewer(db, path);
    if (version < SCHEMA_VERSION) {
      throw new SchemaVersionError(
        version,
        SCHEMA_VERSION,
        `${path}: database schema version ${version} is older than ${SCHEMA_VERSION}; ` +
          'open it once read-write (start the agent) to upgrade it',
      );
    }
  } catch (err) {
    db.close();
    if (copyDir !== null) rmSync(copyDir, { recursive: true, force: true });
    throw err;
  }
  const dir = copyDir;
  return new SqliteStore(db, true, { onClose: dir === null ? undefined : () => rmSync(dir, { recursive: true, force: true }) });
}

/** Opens read-only and reads once: a WAL file that cannot be used fails here, not at the first query. */
function openProbed(path: string): Database.Database {
  const db = new Database(path, { readonly: true, fileMustExist: true });
  try {
    db.prepare('SELECT count(*) FROM sqlite_master').get();
  } catch (err) {
    db.close();
    throw err;
  }
  return db;
}

/** "no such file or directory (ENOENT)" from a Node fs error. */
function osReason(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  if (typeof e.code === 'string' && typeof e.message === 'string') {
    const why = e.message.replace(/^[A-Z]+: /, '').replace(/, \w+ '.*'$/, '');
    return `${why} (${e.code})`;
  }
  return String((err as Error).message ?? err);
}
