// Untrusted text (labels, names, case names from participants' images) made inert for every output:
// C0/C1 control characters and the Unicode bidirectional controls are removed. Pure.
// Bidi controls (U+202A–U+202E embeddings/overrides, U+2066–U+2069 isolates, U+200E/U+200F/U+061C
// marks) reorder how the text around them is displayed ("Trojan Source"), so a team name could make
// a table or CSV show something other than what it holds (docs/security.md).

/** Characters never kept from untrusted text. */
// eslint-disable-next-line no-control-regex
export const UNSAFE_CHARS = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

/** The bidi controls alone (for formats that escape other control characters themselves). */
export const BIDI_CHARS = /[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

/** Removes the unsafe characters. */
export function stripUnsafe(raw: string): string {
  return raw.replace(UNSAFE_CHARS, '');
}

/** Replaces each unsafe character (for terminal output, where a visible mark helps). */
export function maskUnsafe(raw: string, mark = '?'): string {
  return raw.replace(UNSAFE_CHARS, mark);
}

/** Whether the text holds any unsafe character. */
export function hasUnsafe(raw: string): boolean {
  UNSAFE_CHARS.lastIndex = 0;
  const found = UNSAFE_CHARS.test(raw);
  UNSAFE_CHARS.lastIndex = 0;
  return found;
}

/** A plain decimal number as people write one: `100`, `-2.5`, `1e3`; not `0x64`, `0b1`, ` `, `Infinity`. */
const DECIMAL = /^\s*[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?\s*$/;

export function isDecimal(raw: string): boolean {
  return DECIMAL.test(raw);
}
