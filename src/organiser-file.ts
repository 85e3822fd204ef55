// Files an organiser names (--config, --token-file, --accuracy-csv, a --profile .json): read once,
// bounded, and only when they are regular files.
//
// A path's `stat` describes whatever the path names at that moment, and `readFileSync` then opens it
// again: a FIFO blocks the open (or the read) for ever, and /dev/zero reports size 0 and never ends
// (the process grew to 4.3 GB and aborted). So the file is opened once with O_NONBLOCK (which makes
// the open of a FIFO return at once; regular files ignore it, Linux open(2)), checked with fstat on
// that descriptor (the same file that will be read, whatever the path names meanwhile), and read up
// to its bound plus one byte, so a file that grows past the bound is refused, not read without end.
import { closeSync, constants, fstatSync, openSync, readSync, type Stats } from 'node:fs';

/** open: the path cannot be opened; kind: not a regular file; size: over the bound (or grew while read). */
export class OrganiserFileError extends Error {
  constructor(readonly reason: 'open' | 'kind' | 'size', message: string) {
    super(message);
    this.name = 'OrganiserFileError';
  }
}

export interface OrganiserFile {
  text: string;
  /** What identifies this version of the file (device, inode, size, mtime): a reload's key. */
  key: string;
}

function kindOf(st: Stats): string {
  if (st.isFIFO()) return 'a FIFO';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  if (st.isDirectory()) return 'a directory';
  if (st.isSocket()) return 'a socket';
  return 'not a regular file';
}

/** Runs `fn` on a descriptor of `path` opened without blocking and its fstat; closes it after. */
function withOpened<T>(path: string, fn: (fd: number, st: Stats) => T): T {
  const fd = openNonBlocking(path);
  try {
    return fn(fd, fstatSync(fd));
  } finally {
    closeSync(fd);
  }
}

function requireRegular(path: string, st: Stats): void {
  if (!st.isFile()) throw new OrganiserFileError('kind', `${path} is ${kindOf(st)}: give a regular file`);
}

/** The key of the file at `path` now (fstat of a fresh descriptor), or an error naming why not. */
export function organiserFileKey(path: string): string {
  return withOpened(path, (_fd, st) => keyOf(st));
}

/** Refuses a path that does not name a regular file (a library given by path, before dlopen opens it). */
export function checkRegularFile(path: string): void {
  withOpened(path, (_fd, st) => requireRegular(path, st));
}

function keyOf(st: Stats): string {
  return `${st.dev}:${st.ino}:${st.size}:${st.mtimeMs}`;
}

function openNonBlocking(path: string): number {
  try {
    return openSync(path, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    throw new OrganiserFileError('open', `cannot open ${path}: ${e.code ?? e.message}`);
  }
}

/** Reads a regular file of at most `maxBytes` as UTF-8; OrganiserFileError for anything else. */
export function readOrganiserFile(path: string, maxBytes: number): OrganiserFile {
  return withOpened(path, (fd, st) => {
    requireRegular(path, st);
    if (st.size > maxBytes) throw new OrganiserFileError('size', `${path} is larger than ${maxBytes} bytes`);
    const buf = Buffer.alloc(Math.min(maxBytes + 1, st.size + 64 * 1024));
    let used = 0;
    for (;;) {
      if (used === buf.length) {
        throw new OrganiserFileError('size', used > maxBytes ? `${path} is larger than ${maxBytes} bytes` : `${path} grew while it was read`);
      }
      const n = readSync(fd, buf, used, buf.length - used, null);
      if (n === 0) break;
      used += n;
    }
    return { text: buf.subarray(0, used).toString('utf8'), key: keyOf(st) };
  });
}
