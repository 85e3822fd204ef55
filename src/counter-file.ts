// A kernel pseudo-file (cgroupfs, procfs) opened once and re-read with pread at offset 0: kernfs and
// procfs regenerate the content on each read from the start (seq_file), so a tick costs one syscall
// per file instead of open/read/close. Used for cgroup counters (src/cgroup/) and /proc/stat,
// /proc/meminfo (src/sources/host.ts).
import { closeSync, openSync, readSync } from 'node:fs';

/** Why a counter file could not be read: the errno code (ENOENT, ENODEV, EACCES, EISDIR…). */
export interface ReadFailure {
  path: string;
  code: string;
}

/** A counter that could not be read while its target was alive, in words: `<path>: <errno>` (docs/cgroups.md §4). */
export function unreadableText(f: ReadFailure): string {
  return `${f.path}: ${f.code}`;
}

/**
 * A kernel pseudo-file kept open and re-read from the start. A failed read is reported, never taken
 * as zero; the descriptor is dropped and the next read opens the file again.
 */
export class CounterFile {
  private fd: number | null = null;
  constructor(readonly path: string, private readonly buf: Buffer) {}

  /** The file's text (at most `maxBytes`), or why it could not be read. */
  read(maxBytes = this.buf.length): string | ReadFailure {
    try {
      this.fd ??= openSync(this.path, 'r');
      const n = readSync(this.fd, this.buf, 0, Math.min(maxBytes, this.buf.length), 0);
      return this.buf.toString('latin1', 0, n);
    } catch (e) {
      this.close();
      return { path: this.path, code: (e as NodeJS.ErrnoException).code ?? String(e) };
    }
  }

  close(): void {
    if (this.fd !== null) {
      try {
        closeSync(this.fd);
      } catch {
        /* already gone */
      }
      this.fd = null;
    }
  }
}
