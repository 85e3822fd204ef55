// Errors the store throws on purpose, so callers (API, CLI) can tell bad input from failures.
import { UsageError } from '../usage-error.js';

/** A database file written by a newer agent, or (read-only open) one that needs an upgrade first. */
export class SchemaVersionError extends Error {
  constructor(
    readonly fileVersion: number,
    readonly supportedVersion: number,
    message: string,
  ) {
    super(message);
    this.name = 'SchemaVersionError';
  }
}

/** A cursor this store did not produce (the API answers 400). */
export class InvalidCursorError extends Error {
  constructor() {
    super('invalid cursor');
    this.name = 'InvalidCursorError';
  }
}

/** A write on a store opened with openStoreReadOnly. */
export class ReadOnlyStoreError extends Error {
  constructor(operation: string) {
    super(`store is read-only: ${operation} refused`);
    this.name = 'ReadOnlyStoreError';
  }
}

/** A write that names a run id that was never created (or was deleted by retention). */
export class UnknownRunError extends Error {
  constructor(readonly runId: string) {
    super(`unknown run id: ${JSON.stringify(runId)}`);
    this.name = 'UnknownRunError';
  }
}

/**
 * A file that is not a flare-agent database (another program's, or unrecognised): refused unchanged.
 * The user named the wrong file: bad usage, so a command exits 2 with this one line (commands/action.ts).
 */
export class ForeignDatabaseError extends UsageError {
  constructor(
    readonly path: string,
    readonly reason: string,
  ) {
    super(`${path}: not a flare-agent database, refused unchanged: ${reason}`);
    this.name = 'ForeignDatabaseError';
  }
}

/**
 * Whether a write failed for a reason that can pass (the disk is full, an I/O error, a lock held a
 * while): SQLITE_FULL, SQLITE_IOERR*, SQLITE_BUSY*, SQLITE_LOCKED*, SQLITE_PROTOCOL. A read-only file,
 * a missing permission or a corrupt one will not get better by waiting.
 */
export function isTransientWriteError(err: unknown): boolean {
  const raw = (err as { code?: unknown } | null)?.code;
  const code = typeof raw === 'string' ? raw : '';
  return code === 'SQLITE_FULL' || code === 'SQLITE_PROTOCOL' || /^SQLITE_(IOERR|BUSY|LOCKED)/.test(code);
}
