// Validation of client-supplied query parameters. Pure: returns a value or the reason, naming the
// parameter, so every bad input becomes a 400 and never reaches the store.
import type { RunFilter, RunStatus } from '../core/types.js';
import { BUILTIN_PROFILES } from '../scoring/challenge-profile.js';
import type { FlareFigures } from '../export/flare-csv.js';
import { RUN_STATUSES } from './run-json.js';
import { DEFAULT_RUN_ORDER, RUN_ORDER_KEYS, type RunOrder } from '../store/index.js';

export const MAX_PAGE_LIMIT = 1000;
export const DEFAULT_PAGE_LIMIT = 100;
const MAX_TEXT_CHARS = 256;
const MAX_CURSOR_CHARS = 512;

export class QueryError extends Error {
  constructor(readonly param: string, message: string) {
    super(`${param}: ${message}`);
  }
}

export type RawQuery = Record<string, unknown>;

function only(query: RawQuery, allowed: readonly string[]): void {
  for (const key of Object.keys(query)) {
    if (!allowed.includes(key)) throw new QueryError(key.slice(0, 64), 'unknown parameter');
  }
}

function text(query: RawQuery, name: string): string | undefined {
  const v = query[name];
  if (v === undefined) return undefined;
  if (typeof v !== 'string') throw new QueryError(name, 'give it once, as a plain string');
  if (v.length === 0 || v.length > MAX_TEXT_CHARS) throw new QueryError(name, `must be 1 to ${MAX_TEXT_CHARS} characters`);
  return v;
}

/** Most values of one repeated filter (?team=a&team=b…): bounds the SQL a request builds. */
export const MAX_FILTER_VALUES = 100;

/** A filter given once or repeated: its distinct values, in the order given. */
function texts(query: RawQuery, name: string): string[] | undefined {
  const v = query[name];
  if (v === undefined) return undefined;
  const list = Array.isArray(v) ? v : [v];
  if (list.length > MAX_FILTER_VALUES) throw new QueryError(name, `at most ${MAX_FILTER_VALUES} values`);
  const out: string[] = [];
  for (const one of list) {
    if (typeof one !== 'string') throw new QueryError(name, 'give plain strings');
    if (one.length === 0 || one.length > MAX_TEXT_CHARS) throw new QueryError(name, `must be 1 to ${MAX_TEXT_CHARS} characters`);
    if (!out.includes(one)) out.push(one);
  }
  return out;
}

const ISO_DATE = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})?)?$/;

/** ISO 8601 date/time or integer epoch milliseconds → epoch ms. */
export function parseTime(name: string, v: string): number {
  if (/^\d{1,15}$/.test(v)) return Number(v);
  if (ISO_DATE.test(v)) {
    const ms = Date.parse(v);
    if (Number.isFinite(ms)) return ms;
  }
  throw new QueryError(name, 'expected ISO 8601 (2024-05-01T12:00:00Z) or epoch milliseconds');
}

export function parseStatus(name: string, v: string): RunStatus {
  const s = RUN_STATUSES.find((x) => x === v);
  if (!s) throw new QueryError(name, `expected one of ${RUN_STATUSES.join(', ')}`);
  return s;
}

export interface RunListQuery {
  filter: RunFilter;
  limit: number;
  cursor?: string;
  /** `sort` or `offset` given: a page by offset in this order (the cursor pages the default order only). */
  sorted?: { order: RunOrder; offset: number };
  /** `total=1`: the answer counts every matching run. */
  total: boolean;
}

const MAX_OFFSET = 1_000_000_000;

/** `sort=key` ascending, `sort=-key` descending; key: a list column (run-order.ts). */
function parseOrder(raw: string | undefined): RunOrder {
  if (raw === undefined) return DEFAULT_RUN_ORDER;
  const descending = raw.startsWith('-');
  const key = RUN_ORDER_KEYS.find((k) => k === (descending ? raw.slice(1) : raw));
  if (key === undefined) throw new QueryError('sort', `expected one of ${RUN_ORDER_KEYS.join(', ')}, each optionally preceded by - (descending)`);
  return { key, descending };
}

export const RUN_FILTER_PARAMS = ['team', 'case', 'status', 'node', 'since', 'until'] as const;

export function parseRunFilter(query: RawQuery): RunFilter {
  const filter: RunFilter = {};
  const team = texts(query, 'team');
  if (team !== undefined) filter.team = team;
  const kase = texts(query, 'case');
  if (kase !== undefined) filter.case = kase;
  const node = texts(query, 'node');
  if (node !== undefined) filter.node = node;
  const status = texts(query, 'status');
  if (status !== undefined) filter.status = status.map((s) => parseStatus('status', s));
  // A time window is one bound each: a repeated since/until is refused ("give it once").
  const since = text(query, 'since');
  if (since !== undefined) filter.sinceWallMs = parseTime('since', since);
  const until = text(query, 'until');
  if (until !== undefined) filter.untilWallMs = parseTime('until', until);
  if (filter.sinceWallMs !== undefined && filter.untilWallMs !== undefined && filter.sinceWallMs > filter.untilWallMs) {
    throw new QueryError('until', 'must not be before since');
  }
  return filter;
}

export function parseRunList(query: RawQuery): RunListQuery {
  only(query, [...RUN_FILTER_PARAMS, 'limit', 'cursor', 'sort', 'offset', 'total']);
  const filter = parseRunFilter(query);
  let limit = DEFAULT_PAGE_LIMIT;
  const rawLimit = text(query, 'limit');
  if (rawLimit !== undefined) {
    if (!/^\d{1,5}$/.test(rawLimit)) throw new QueryError('limit', `expected an integer 1 to ${MAX_PAGE_LIMIT}`);
    limit = Number(rawLimit);
    if (limit < 1 || limit > MAX_PAGE_LIMIT) throw new QueryError('limit', `expected an integer 1 to ${MAX_PAGE_LIMIT}`);
  }
  const cursor = query.cursor;
  if (cursor !== undefined && (typeof cursor !== 'string' || cursor.length === 0 || cursor.length > MAX_CURSOR_CHARS)) {
    throw new QueryError('cursor', 'not a cursor this server returned');
  }
  const rawSort = text(query, 'sort');
  const rawOffset = text(query, 'offset');
  const rawTotal = text(query, 'total');
  if (rawTotal !== undefined && rawTotal !== '0' && rawTotal !== '1') throw new QueryError('total', 'expected 0 or 1');
  const total = rawTotal === '1';
  if (rawSort === undefined && rawOffset === undefined) return { filter, limit, cursor: cursor, total };
  if (cursor !== undefined) throw new QueryError('cursor', 'pages the default order only: give offset with sort');
  let offset = 0;
  if (rawOffset !== undefined) {
    if (!/^\d{1,10}$/.test(rawOffset) || Number(rawOffset) > MAX_OFFSET) throw new QueryError('offset', `expected an integer 0 to ${MAX_OFFSET}`);
    offset = Number(rawOffset);
  }
  return { filter, limit, total, sorted: { order: parseOrder(rawSort), offset } };
}

export function parseSampleFormat(query: RawQuery): 'json' | 'csv' {
  only(query, ['format']);
  const f = text(query, 'format') ?? 'json';
  if (f !== 'json' && f !== 'csv') throw new QueryError('format', 'expected json or csv');
  return f;
}

/** Whether a CSV over these runs needs its Team column: unless exactly one team is asked for. */
export function needsTeamColumn(filter: RunFilter): boolean {
  return filter.team?.length !== 1;
}

export interface ExportQuery {
  /** The CSV's leading Team column (needsTeamColumn). */
  withTeam: boolean;
  figures: FlareFigures;
  filter: RunFilter;
  /** A shipped profile's name; undefined: the layout's own year. */
  profile?: string;
}

export function parseExport(query: RawQuery): ExportQuery {
  only(query, [...RUN_FILTER_PARAMS, 'figures', 'profile']);
  const filter = parseRunFilter(query);
  const figures = text(query, 'figures') ?? 'exact';
  if (figures !== 'exact' && figures !== 'official') throw new QueryError('figures', 'expected exact or official');
  // Over HTTP only the shipped profiles, by name: a path would read the server's files.
  const profile = text(query, 'profile');
  if (profile !== undefined && !(BUILTIN_PROFILES as readonly string[]).includes(profile)) throw new QueryError('profile', `expected one of ${BUILTIN_PROFILES.join(', ')}`);
  return { withTeam: needsTeamColumn(filter), figures, filter, profile };
}
