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
    const n = this.readBytes(maxBytes);
    return typeof n === 'number' ? this.buf.toString('latin1', 0, n) : n;
  }

  /**
   * Reads the file into `bytes` (at most `maxBytes`) and returns how many bytes it holds, or why it
   * could not be read. The tick's parsers read numbers from the bytes: no string per read.
   */
  readBytes(maxBytes = this.buf.length): number | ReadFailure {
    try {
      this.fd ??= openSync(this.path, 'r');
      return readSync(this.fd, this.buf, 0, Math.min(maxBytes, this.buf.length), 0);
    } catch (e) {
      this.close();
      return { path: this.path, code: (e as NodeJS.ErrnoException).code ?? String(e) };
    }
  }

  /** The buffer readBytes fills (shared with other files of the same reader: read it before the next read). */
  get bytes(): Buffer {
    return this.buf;
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

// Numbers from a pseudo-file's bytes, as the string parsers read them. The kernel writes counters as
// unsigned decimals; the fast paths below take exactly that, and anything else (a sign, spaces
// inside, more than 15 digits, where a double stops being exact) goes to Number() on the same text,
// so the result is the same to the bit as parsing the text.

const DIGIT_0 = 48;
/** The bytes the kernel separates its counters with. */
export const NEWLINE = 10;
export const SPACE = 32;
/** Up to 15 decimal digits accumulate exactly in a double (< 2^53). */
const EXACT_DIGITS = 15;

/** Where the run of decimal digits that starts at `from` ends (the first other byte, or `to`). */
export function digitsEnd(buf: Buffer, from: number, to: number): number {
  let i = from;
  while (i < to && buf[i] >= DIGIT_0 && buf[i] <= DIGIT_0 + 9) i++;
  return i;
}

/** The value of bytes [from, to) when they are 1 to 15 decimal digits (exact in a double); -1 otherwise. */
export function exactDecimal(buf: Buffer, from: number, to: number): number {
  if (to <= from || to - from > EXACT_DIGITS || digitsEnd(buf, from, to) !== to) return -1;
  let v = 0;
  for (let i = from; i < to; i++) v = v * 10 + (buf[i] - DIGIT_0);
  return v;
}

/** Number(text) of bytes [from, to): the decimal it holds, or what Number() makes of the text. */
export function numberAt(buf: Buffer, from: number, to: number): number {
  const v = exactDecimal(buf, from, to);
  return v >= 0 ? v : Number(buf.toString('latin1', from, to));
}

/**
 * Number(text.trim()) of a file holding one number (`123\n`), and whether the trimmed text is empty
 * (the callers take an empty file as unreadable, not as 0). Bytes [0, n).
 */
export function soleNumber(buf: Buffer, n: number): number | null {
  const v = exactDecimal(buf, 0, n > 0 && buf[n - 1] === NEWLINE ? n - 1 : n);
  if (v >= 0) return v;
  const text = buf.toString('latin1', 0, n).trim();
  return text === '' ? null : Number(text);
}

/**
 * The value of `key` in a "key value\n" file (memory.stat, cpu.stat) held in bytes [0, n), as
 * `Number(<the rest of its line>)`; null when the key is not there. `needle` is
 * Buffer.from('\n' + key + ' ') (made once by the caller).
 */
export function keyedNumber(buf: Buffer, n: number, needle: Buffer): number | null {
  const keyLength = needle.length - 2;
  let at: number;
  if (n >= keyLength + 1 && buf[keyLength] === SPACE && buf.compare(needle, 1, needle.length - 1, 0, keyLength) === 0) {
    at = 0;
  } else {
    // indexOf has no end, and stale bytes past n are not the file's: a match that does not end by n is
    // none (a later one would end later still). No view of [0, n) is made: this runs at every tick.
    const found = buf.indexOf(needle);
    if (found < 0 || found + needle.length > n) return null;
    at = found + 1;
  }
  const from = at + keyLength + 1;
  let end = buf.indexOf(NEWLINE, from);
  if (end < 0 || end >= n) end = n;
  return numberAt(buf, from, end);
}
