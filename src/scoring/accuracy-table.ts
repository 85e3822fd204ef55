// The organiser's accuracy CSV (`team,case,metric,value`) as columns: each row's team, case and
// metric as an index into the names seen, its value and its line, in typed arrays. A season's
// per-organ DSC/NSD is 260 000 rows and a file may hold 1 000 000; as an object per row (with a
// string key per row for the duplicate check) that was over 300 MiB of V8 heap, so the heavy-read
// thread (96 MiB by default) answered every ranking 503. Typed arrays live outside V8's heap, the
// names are interned once, and the bytes are read line by line: the whole file never becomes one
// string. Pure (bytes in, columns out).
import { isDecimal } from '../core/text.js';
import type { MetricValue, ValueFeed } from './rank.js';

/** A malformed accuracy CSV; the message names the line and the field. */
export class AccuracyCsvError extends Error {}

/** One accuracy value with the line it came from (for the messages). */
export type AccuracyRow = MetricValue & { line: number };

export const MAX_ROWS = 1_000_000;
const MAX_FIELD_CHARS = 200;
/** Distinct metrics a file may name (the duplicate check packs the metric into 12 bits). */
const MAX_METRICS = 4096;
/** The metrics the runs give (efficiencyValues): an accuracy CSV must not hold them. */
export const EFFICIENCY_METRICS = ['time', 'aucGpu', 'aucCpu'] as const;

/** One CSV line into fields: RFC 4180 quotes ("" inside quotes), linear scan, no regex. */
export function splitCsvLine(line: string): string[] {
  const out: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i];
    if (quoted) {
      if (ch === '"' && line[i + 1] === '"') {
        field += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else field += ch;
    } else if (ch === '"' && field.length === 0) quoted = true;
    else if (ch === ',') {
      out.push(field);
      field = '';
    } else field += ch;
  }
  out.push(field);
  return out;
}

function name(v: string, line: number, what: string): string {
  const s = v.trim();
  if (s.length === 0 || s.length > MAX_FIELD_CHARS) throw new AccuracyCsvError(`line ${line}: ${what} must be 1 to ${MAX_FIELD_CHARS} characters`);
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) < 0x20 || s.charCodeAt(i) === 0x7f) throw new AccuracyCsvError(`line ${line}: ${what} has a control character`);
  return s;
}

/** Names → indices, in the order first seen. */
class Names {
  readonly list: string[] = [];
  private readonly index = new Map<string, number>();
  of(s: string): number {
    let i = this.index.get(s);
    if (i === undefined) {
      i = this.list.length;
      this.list.push(s);
      this.index.set(s, i);
    }
    return i;
  }
  find(s: string): number | undefined {
    return this.index.get(s);
  }
}

/** The rows, in file order, as columns. */
export class AccuracyTable {
  constructor(
    readonly teams: readonly string[],
    readonly cases: readonly string[],
    readonly metrics: readonly string[],
    readonly team: Uint32Array,
    readonly case_: Uint32Array,
    readonly metric: Uint16Array,
    readonly value: Float64Array,
    readonly line: Uint32Array,
  ) {}

  get length(): number {
    return this.value.length;
  }

  static empty(): AccuracyTable {
    return AccuracyTable.fromRows([]);
  }

  /** Rows as columns (names as given: parseAccuracyBytes has normalised them already). */
  static fromRows(rows: readonly (MetricValue & { line?: number })[]): AccuracyTable {
    const [teams, cases, metrics] = [new Names(), new Names(), new Names()];
    const cols = new Columns();
    for (const r of rows) cols.push(teams.of(r.team), cases.of(r.case), metrics.of(r.metric), r.value, r.line ?? 0);
    const n = cols.n;
    return new AccuracyTable(teams.list, cases.list, metrics.list, cols.team.slice(0, n), cols.case_.slice(0, n), cols.metric.slice(0, n), cols.value.slice(0, n), cols.line.slice(0, n));
  }

  /** The rows as objects (small files, tests). */
  rows(): AccuracyRow[] {
    return Array.from(this.value, (value, i) => ({ team: this.teams[this.team[i]], case: this.cases[this.case_[i]], metric: this.metrics[this.metric[i]], value, line: this.line[i] }));
  }

  /** The rows whose (team, case) `keep` accepts (names in NFC, as stored), same names tables. */
  narrowed(keep: (team: string, c: string) => boolean): AccuracyTable {
    const pairOk = new Map<number, boolean>();
    const idx: number[] = [];
    for (let i = 0; i < this.length; i++) {
      const k = this.team[i] * 2 ** 20 + this.case_[i];
      let ok = pairOk.get(k);
      if (ok === undefined) pairOk.set(k, (ok = keep(this.teams[this.team[i]], this.cases[this.case_[i]])));
      if (ok) idx.push(i);
    }
    const pick = <A extends Uint32Array | Uint16Array | Float64Array>(a: A, make: (n: number) => A): A => {
      const out = make(idx.length);
      idx.forEach((i, j) => (out[j] = a[i]));
      return out;
    };
    return new AccuracyTable(
      this.teams,
      this.cases,
      this.metrics,
      pick(this.team, (n) => new Uint32Array(n)),
      pick(this.case_, (n) => new Uint32Array(n)),
      pick(this.metric, (n) => new Uint16Array(n)),
      pick(this.value, (n) => new Float64Array(n)),
      pick(this.line, (n) => new Uint32Array(n)),
    );
  }

  /** The values as a feed for valueTable, each marked failed where `failed(team, case)` says so. */
  feed(failed: (team: string, c: string) => boolean): ValueFeed {
    return {
      each: (visit) => {
        for (let i = 0; i < this.length; i++) {
          const team = this.teams[this.team[i]];
          const c = this.cases[this.case_[i]];
          visit(team, c, this.metrics[this.metric[i]], this.value[i], failed(team, c));
        }
      },
    };
  }
}

/** Typed columns that grow by doubling while the rows are read. */
class Columns {
  n = 0;
  team = new Uint32Array(1024);
  case_ = new Uint32Array(1024);
  metric = new Uint16Array(1024);
  value = new Float64Array(1024);
  line = new Uint32Array(1024);
  push(t: number, c: number, m: number, v: number, line: number): void {
    if (this.n === this.value.length) {
      const grow = <A extends Uint32Array | Uint16Array | Float64Array>(a: A, make: (n: number) => A): A => {
        const b = make(a.length * 2);
        b.set(a);
        return b;
      };
      this.team = grow(this.team, (n) => new Uint32Array(n));
      this.case_ = grow(this.case_, (n) => new Uint32Array(n));
      this.metric = grow(this.metric, (n) => new Uint16Array(n));
      this.value = grow(this.value, (n) => new Float64Array(n));
      this.line = grow(this.line, (n) => new Uint32Array(n));
    }
    const i = this.n++;
    this.team[i] = t;
    this.case_[i] = c;
    this.metric[i] = m;
    this.value[i] = v;
    this.line[i] = line;
  }
}

/** team, case, metric packed into one exact double (2^20 × 2^20 × 2^12 < 2^53): the duplicate check's key. */
const cellKey = (t: number, c: number, m: number): number => t * 2 ** 32 + c * 2 ** 12 + m;

/**
 * The first row (in file order) whose team, case and metric an earlier row has, as an error naming
 * both lines; null when there is none. Sorting the packed keys (a typed array's native sort) finds
 * whether any exists without a million-entry Map; only then are the rows walked for the first one.
 */
function firstDuplicate(cols: Columns, names: { teams: Names; cases: Names; metrics: Names }): AccuracyCsvError | null {
  const keys = new Float64Array(cols.n);
  for (let i = 0; i < cols.n; i++) keys[i] = cellKey(cols.team[i], cols.case_[i], cols.metric[i]);
  const sorted = keys.slice().sort();
  const repeated = new Set<number>();
  for (let i = 1; i < sorted.length; i++) if (sorted[i] === sorted[i - 1]) repeated.add(sorted[i]);
  if (repeated.size === 0) return null;
  const first = new Map<number, number>();
  for (let i = 0; i < cols.n; i++) {
    if (!repeated.has(keys[i])) continue;
    const seen = first.get(keys[i]);
    if (seen === undefined) {
      first.set(keys[i], cols.line[i]);
      continue;
    }
    const [team, c, metric] = [names.teams.list[cols.team[i]], names.cases.list[cols.case_[i]], names.metrics.list[cols.metric[i]]];
    return new AccuracyCsvError(`line ${cols.line[i]}: a second ${metric} for team ${JSON.stringify(team)}, case ${JSON.stringify(c)} (first on line ${seen})`);
  }
  return null;
}

/**
 * Parses `team,case,metric,value` (header required, any order of those four columns) from the file's
 * bytes, a line at a time (a line ends at LF, with an optional CR before it; LF never occurs inside a
 * UTF-8 sequence, so each line decodes as the whole file would). Refused, naming the first line at
 * fault: a value that is not a plain decimal number (`0x1`, `NaN`, empty), a metric the runs give
 * (time, aucGpu, aucCpu), a second row for one team, case and metric (naming both lines: averaging
 * them would hide a mistake), more than MAX_ROWS rows. Team and case names are NFC-normalised, so
 * one name typed in two forms is one team.
 */
export function parseAccuracyBytes(bytes: Uint8Array): AccuracyTable {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const names = { teams: new Names(), cases: new Names(), metrics: new Names() };
  const cols = new Columns();
  const efficiency = new Set(EFFICIENCY_METRICS.map((m) => m.toLowerCase()));
  let header: number[] | null = null;
  let lineNo = 0;
  const row = (text: string, line: number): void => {
    if (header === null) {
      const h = splitCsvLine(text).map((x) => x.trim().toLowerCase());
      header = ['team', 'case', 'metric', 'value'].map((want) => {
        const i = h.indexOf(want);
        if (i < 0) throw new AccuracyCsvError(`line 1: header must name team, case, metric and value (missing ${want})`);
        return i;
      });
      return;
    }
    if (text.trim() === '') return;
    if (cols.n >= MAX_ROWS) throw new AccuracyCsvError(`more than ${MAX_ROWS} rows`);
    const [ti, ci, mi, vi] = header;
    const f = splitCsvLine(text);
    const raw = (f[vi] ?? '').trim();
    const value = isDecimal(raw) ? Number(raw) : NaN;
    if (!Number.isFinite(value)) throw new AccuracyCsvError(`line ${line}: value must be a finite number, got ${JSON.stringify(raw.slice(0, 40))}`);
    const team = name(f[ti] ?? '', line, 'team').normalize('NFC');
    const c = name(f[ci] ?? '', line, 'case').normalize('NFC');
    const metric = name(f[mi] ?? '', line, 'metric');
    if (efficiency.has(metric.toLowerCase())) throw new AccuracyCsvError(`line ${line}: metric ${metric} is measured from the runs, not read from an accuracy CSV`);
    const m = names.metrics.of(metric);
    if (m >= MAX_METRICS) throw new AccuracyCsvError(`line ${line}: more than ${MAX_METRICS} distinct metrics`);
    cols.push(names.teams.of(team), names.cases.of(c), m, value, line);
  };
  try {
    let start = 0;
    for (;;) {
      const nl = buf.indexOf(0x0a, start);
      const end = nl < 0 ? buf.length : nl;
      const cut = end > start && buf[end - 1] === 0x0d ? end - 1 : end;
      row(buf.toString('utf8', start, cut), ++lineNo);
      if (nl < 0) break;
      start = nl + 1;
    }
  } catch (err) {
    // A duplicate on an earlier line is the first fault.
    throw (err instanceof AccuracyCsvError && firstDuplicate(cols, names)) || err;
  }
  const dup = firstDuplicate(cols, names);
  if (dup) throw dup;
  const n = cols.n;
  const { teams, cases, metrics } = names;
  return new AccuracyTable(teams.list, cases.list, metrics.list, cols.team.slice(0, n), cols.case_.slice(0, n), cols.metric.slice(0, n), cols.value.slice(0, n), cols.line.slice(0, n));
}

/** parseAccuracyBytes of a string, as rows (small files and tests). */
export function parseAccuracyCsv(text: string): AccuracyRow[] {
  return parseAccuracyBytes(Buffer.from(text, 'utf8')).rows();
}
