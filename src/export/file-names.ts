// File names from untrusted text (team names), readable and unique within one export. Pure.
//
// Letters and digits of any script stay (北京大学 is a fine file name), as do '.', '_' and '-';
// everything else (separators, controls, bidi overrides, spaces) becomes '_'. Where that changed
// the name, or the name had to be shortened, a short hash of the original is added, so that `a/b`
// and `a_b` (or two long names sharing a prefix) get different files. Uniqueness is then checked
// over the whole export under the rules of the filesystems that fold names (foldFileName): NTFS,
// APFS and ext4 with casefold would merge `A` and `a`, `σ-team` and `ς-team`, `Straße` and `STRASSE`.
import { createHash } from 'node:crypto';

/** A file-name part from untrusted text: only ASCII letters, digits, '.', '_' and '-', at most 80 characters (plots, a case's logs and outputs). */
export function safeName(s: string): string {
  return s.replace(/[^A-Za-z0-9._-]/g, '_').replace(/^\.+/, '_').slice(0, 80) || '_';
}

/** Most UTF-8 bytes of the readable part: a Linux file name holds 255 bytes, and the suffix needs room. */
export const MAX_NAME_PART_BYTES = 120;
const HASH_HEX = 8;

function shortHash(text: string, hexDigits: number): string {
  return createHash('sha256').update(text, 'utf8').digest('hex').slice(0, hexDigits);
}

/** Cuts a string to at most maxBytes of UTF-8, never inside a character. */
function cutToBytes(s: string, maxBytes: number): string {
  let bytes = 0;
  let out = '';
  for (const ch of s) {
    bytes += Buffer.byteLength(ch, 'utf8');
    if (bytes > maxBytes) break;
    out += ch;
  }
  return out;
}

/** The safe form of `text` (letters, marks and digits of any script, `.`, `_`, `-`), cut to its byte bound. */
function safePart(text: string): string {
  return cutToBytes(text.normalize('NFC').replace(/[^\p{L}\p{M}\p{N}._-]/gu, '_').replace(/^\.+/, '_'), MAX_NAME_PART_BYTES);
}

/** The safe form with `-<hash>` of the original, `hexDigits` long. */
function hashedPart(text: string, hexDigits: number): string {
  return `${safePart(text) || '_'}-${shortHash(text, hexDigits)}`;
}

/**
 * The form two names take when a filesystem would treat them as one file: NFKC (compatibility forms:
 * `µ` micro sign → `μ`, `ſ` → `s`, `K` Kelvin sign → `K`, ligatures) then Unicode case folding.
 * JavaScript has no case fold; upper case then lower case gives the full fold's classes for what a
 * name part can hold (`ß` → `SS` → `ss`, `ς` and `σ` → `Σ` → `σ`, dotless `ı` → `I` → `i`, `ǅ` → `ǆ`),
 * and NFKC once more joins what that produces in two forms. Coarser than any one filesystem's rule,
 * which is the safe side: a name kept apart here is apart on each of them.
 */
export function foldFileName(name: string): string {
  return name.normalize('NFKC').toUpperCase().toLowerCase().normalize('NFKC');
}

/** A readable file-name part for `text`: the text itself when it is already safe, else hashedPart. */
export function fileNamePart(text: string): string {
  const safe = safePart(text);
  return safe === text && safe.length > 0 ? safe : hashedPart(text, HASH_HEX);
}

/**
 * One file name per key (`<part><suffix>`), distinct within the set even folded (foldFileName); the same
 * set of keys always gets the same names. Keys whose plain names collide all take the hashed form,
 * then a longer hash, then a counter.
 */
export function uniqueFileNames(keys: readonly string[], suffix: string): Map<string, string> {
  const sorted = [...new Set(keys)].sort();
  const tries: ((k: string) => string)[] = [fileNamePart, (k) => hashedPart(k, HASH_HEX), (k) => hashedPart(k, 16)];
  const names = new Map<string, string>();
  let pending = sorted;
  for (const name of tries) {
    const byFolded = new Map<string, string[]>();
    for (const k of pending) {
      const folded = foldFileName(name(k) + suffix);
      byFolded.set(folded, [...(byFolded.get(folded) ?? []), k]);
    }
    const taken = new Set([...names.values()].map(foldFileName));
    const next: string[] = [];
    for (const [folded, group] of byFolded) {
      if (group.length === 1 && !taken.has(folded)) names.set(group[0], name(group[0]) + suffix);
      else next.push(...group);
    }
    pending = next;
    if (pending.length === 0) return names;
  }
  // Hash collisions at 64 bits: a counter, in sorted order, settles what is left.
  const taken = new Set([...names.values()].map(foldFileName));
  for (const k of pending) {
    let n = 2;
    while (taken.has(foldFileName(`${fileNamePart(k)}-${n}${suffix}`))) n++;
    const name = `${fileNamePart(k)}-${n}${suffix}`;
    taken.add(foldFileName(name));
    names.set(k, name);
  }
  return names;
}
