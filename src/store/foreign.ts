// Is this SQLite file ours? Checked before anything is written (no WAL switch, no table added), so a
// file of another program given to --db by mistake is refused unchanged (docs/security.md).
// Ours: `PRAGMA application_id` = FLARE_APPLICATION_ID (set on every file we open read-write), or an
// older file of ours (application_id 0) whose user_version is positive and which holds
// our tables. A brand-new file (no tables, user_version 0) is fine.
import { existsSync, statSync } from 'node:fs';
import Database from 'better-sqlite3';
import { ForeignDatabaseError } from './errors.js';

/** 'FLAR' in ASCII: the SQLite application id of flare-agent databases (a 32-bit signed integer). */
export const FLARE_APPLICATION_ID = 0x464c4152;
const OUR_TABLES = ['node_inventory', 'runs', 'run_chunks'] as const;

/** Why the open database is not one of ours (null: it is, or it is new and empty). Reads only. */
export function foreignReason(db: Database.Database): string | null {
  const appId = db.pragma('application_id', { simple: true }) as number;
  const version = db.pragma('user_version', { simple: true }) as number;
  const tables = new Set(db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").pluck().all() as string[]);
  if (appId !== 0 && appId !== FLARE_APPLICATION_ID) return `application_id ${appId} belongs to another program`;
  if (version < 0) return `user_version ${version} is not a flare-agent schema version`;
  if (appId === FLARE_APPLICATION_ID) return null; // newer versions are refused by checkNotNewer, with its own message
  if (version === 0 && tables.size === 0) return null;
  if (version === 0) return 'it holds tables but no flare-agent schema version (user_version 0)';
  // A newer schema of ours still has these tables; checkNotNewer then says "newer than this agent".
  const missing = OUR_TABLES.filter((t) => !tables.has(t));
  if (missing.length > 0) return `user_version ${version} but flare-agent's tables ${missing.join(', ')} are missing`;
  return null;
}

/**
 * Refuses a foreign or unrecognised file at `path` before it is opened for writing: opens it
 * read-only, checks, closes. A missing or empty file is new: nothing to check.
 */
export function refuseForeignFile(path: string): void {
  if (path === ':memory:' || !existsSync(path) || statSync(path).size === 0) return;
  let db: Database.Database;
  try {
    db = new Database(path, { readonly: true, fileMustExist: true });
  } catch (e) {
    throw new ForeignDatabaseError(path, (e as Error).message);
  }
  try {
    checkOpenedFile(db, path);
  } finally {
    db.close();
  }
}

/** The check on an already opened connection (read-only opens); throws ForeignDatabaseError. */
export function checkOpenedFile(db: Database.Database, path: string): void {
  let why: string | null;
  try {
    why = foreignReason(db);
  } catch (e) {
    why = (e as Error).message; // "file is not a database", …
  }
  if (why !== null) throw new ForeignDatabaseError(path, why);
}
