// Files an organiser names (--config, --token-file, --accuracy-csv, a --profile .json): read once,
// bounded, and only when they are regular files.
//
// A path's `stat` describes whatever the path names at that moment, and `readFileSync` then opens it
// again: a FIFO blocks the open (or the read) for ever, and /dev/zero reports size 0 and never ends
// (the process grew to 4.3 GB and aborted). So the file is opened once with O_NONBLOCK (which makes
// the open of a FIFO return at once; regular files ignore it, Linux open(2)), checked with fstat on
// that descriptor (the same file that will be read, whatever the path names meanwhile), and read up
// to its bound plus one byte, so a file that grows past the bound is refused, not read without end.
//
// A version of a file is its content (a SHA-256 of the bytes read), not its stat: `cp -p`, `rsync -t`,
// `tar x` and `touch -r` give an edited file its old mtime, a file edited in place keeps its inode,
// and an edit that keeps the size on a filesystem with 1-2 s timestamps (FAT, some network mounts)
// changes nothing fstat shows. Keyed on dev:ino:size:mtime, a corrected accuracy CSV was never re-read.
import { createHash } from 'node:crypto';
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
  /** What identifies this version of the file (a SHA-256 of its bytes): a reload's key. */
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

/** Bytes hashed per read while a file's key is taken: a bounded buffer, whatever the file's size. */
const KEY_CHUNK_BYTES = 1 << 20;

/**
 * The key of the file at `path` now: the SHA-256 of its bytes, read in 1-MiB pieces (no copy of the
 * whole file is held), or an error naming why not. The same rule as readOrganiserFile's key, so a
 * key that equals the last read's means the same bytes. At most maxBytes + 1 bytes are hashed.
 */
export function organiserFileKey(path: string, maxBytes: number): string {
  return withOpened(path, (fd, st) => {
    requireRegular(path, st);
    const hash = createHash('sha256');
    const buf = Buffer.alloc(Math.min(KEY_CHUNK_BYTES, maxBytes + 1));
    for (let total = 0; total <= maxBytes; ) {
      const n = readSync(fd, buf, 0, buf.length, null);
      if (n === 0) break;
      hash.update(buf.subarray(0, n));
      total += n;
    }
    return keyOfBytes(hash);
  });
}

/** Refuses a path that does not name a regular file (a library given by path, before dlopen opens it). */
export function checkRegularFile(path: string): void {
  withOpened(path, (_fd, st) => requireRegular(path, st));
}

const keyOfBytes = (hash: ReturnType<typeof createHash>): string => `sha256:${hash.digest('hex')}`;

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
  const { bytes, key } = readOrganiserBytes(path, maxBytes);
  return { text: bytes.toString('utf8'), key };
}

/** readOrganiserFile's bytes, not decoded (a large file need not become one string). */
export function readOrganiserBytes(path: string, maxBytes: number): { bytes: Buffer; key: string } {
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
    const bytes = buf.subarray(0, used);
    return { bytes, key: keyOfBytes(createHash('sha256').update(bytes)) };
  });
}
