// The organiser's accuracy file (`team,case,metric,value`), read with a size bound, a regular file
// only (organiser-file.ts). The agent's API ranks with it too: it is re-read when its bytes change
// (a SHA-256 of them, organiser-file.ts: a file corrected in place with its old size and mtime is
// read again), so an organiser can add the DSC/NSD of a new batch while the agent runs, and a file
// broken mid-edit is reported, not ranked. A path that comes to name something that is not a regular
// file (a FIFO, a device) keeps the last good version, with a warning: reading it would hang the
// reader thread, /healthz included.
import { OrganiserFileError, organiserFileKey, readOrganiserBytes } from '../organiser-file.js';
import { AccuracyCsvError, AccuracyTable, parseAccuracyBytes } from './accuracy-table.js';

export const MAX_ACCURACY_BYTES = 256 * 1024 * 1024;

/** Parses the file; every failure (missing, too large, malformed) is an AccuracyCsvError. */
export function readAccuracyFile(path: string): AccuracyTable {
  let bytes: Buffer;
  try {
    bytes = readOrganiserBytes(path, MAX_ACCURACY_BYTES).bytes;
  } catch (err) {
    throw new AccuracyCsvError((err as Error).message);
  }
  return parseAccuracyBytes(bytes);
}

/** The file's values, parsed again only when it changed since the last read. */
export class AccuracyFile {
  private key = '';
  private values: AccuracyTable = AccuracyTable.empty();
  private warned = '';

  constructor(
    readonly path: string,
    /** A path that no longer names a regular file: said once per reason; the last good values stay. */
    private readonly onKept: (why: string) => void = () => {},
  ) {}

  read(): AccuracyTable {
    try {
      if (organiserFileKey(this.path, MAX_ACCURACY_BYTES) === this.key) return this.values;
      const file = readOrganiserBytes(this.path, MAX_ACCURACY_BYTES);
      this.values = parseAccuracyBytes(file.bytes); // malformed: thrown, reported by the caller (503)
      [this.key, this.warned] = [file.key, ''];
      return this.values;
    } catch (err) {
      // Not a regular file, or over the bound, after a good version: keep that one, say so once.
      const kept = err instanceof OrganiserFileError && err.reason !== 'open' && this.key !== '';
      if (!kept) throw err instanceof AccuracyCsvError ? err : new AccuracyCsvError((err as Error).message);
      if (err.message !== this.warned) this.onKept(err.message);
      this.warned = err.message;
      return this.values;
    }
  }
}
