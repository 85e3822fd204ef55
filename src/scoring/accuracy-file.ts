// The organiser's accuracy file (`team,case,metric,value`), read with a size bound. The agent's API
// ranks with it too: it is re-read when its size or mtime changes, so an organiser can add the
// DSC/NSD of a new batch while the agent runs, and a file broken mid-edit is reported, not ranked.
import { readFileSync, statSync } from 'node:fs';
import { AccuracyCsvError, parseAccuracyCsv } from './inputs.js';
import type { MetricValue } from './rank.js';

export const MAX_ACCURACY_BYTES = 256 * 1024 * 1024;

/** Parses the file; every failure (missing, too large, malformed) is an AccuracyCsvError. */
export function readAccuracyFile(path: string): MetricValue[] {
  try {
    if (statSync(path).size > MAX_ACCURACY_BYTES) throw new AccuracyCsvError(`larger than ${MAX_ACCURACY_BYTES} bytes`);
    return parseAccuracyCsv(readFileSync(path, 'utf8'));
  } catch (err) {
    if (err instanceof AccuracyCsvError) throw err;
    throw new AccuracyCsvError((err as Error).message);
  }
}

/** The file's values, parsed again only when it changed since the last read. */
export class AccuracyFile {
  private key = '';
  private values: MetricValue[] = [];

  constructor(readonly path: string) {}

  read(): MetricValue[] {
    let key: string;
    try {
      const st = statSync(this.path);
      key = `${st.size}:${st.mtimeMs}:${st.ino}`;
    } catch (err) {
      throw new AccuracyCsvError((err as Error).message);
    }
    if (key !== this.key) {
      this.values = readAccuracyFile(this.path);
      this.key = key;
    }
    return this.values;
  }
}
