// Docker's timestamps (RFC 3339 with nanoseconds) to exact epoch nanoseconds. Date keeps milliseconds
// only, so the fractional seconds are parsed here. Pure.

const RFC3339 = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})$/;

/** Epoch ns of a Docker time; null for Go's zero time ("0001-01-01T00:00:00Z": not started/finished) or bad input. */
export function parseDockerTimeNs(text: string | undefined | null): bigint | null {
  if (!text) return null;
  const m = RFC3339.exec(text);
  if (!m) return null;
  const wholeMs = Date.parse(m[1] + m[3]);
  if (!Number.isFinite(wholeMs) || wholeMs <= 0) return null;
  const fracNs = BigInt((m[2] ?? '').padEnd(9, '0'));
  return BigInt(wholeMs) * 1_000_000n + fracNs;
}

