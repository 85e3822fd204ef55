// The orders a run list can be read in (the web page's sortable columns, the API's `sort`), each one an
// index scan so that a page deep into 100 000 runs costs an index walk, not a sort of every run:
// the text columns by their filter indexes (column, started_wall_ms, id), the summary's figures by
// expression indexes (schema 11). SQLite uses an expression index only for the very same expression
// text, so the SQL below is the one the migration indexed.
import type { RunFilter } from '../core/types.js';
import { filterClause, RUN_COLUMNS, whereOf } from './rows.js';

interface OrderSpec {
  /** The SQL expression ordered by (the index's). */
  sql: string;
  /** A figure from the summary: unknown (NULL) on some runs. */
  figure: boolean;
}

const figure = (path: string): OrderSpec => ({ sql: `(summary ->> '$.${path}')`, figure: true });

/** API key (the run JSON's field path) → its order. */
export const RUN_ORDERS = {
  startedWallMs: { sql: 'started_wall_ms', figure: false },
  team: { sql: 'team', figure: false },
  case: { sql: 'case_name', figure: false },
  node: { sql: 'node', figure: false },
  status: { sql: 'status', figure: false },
  wallSeconds: figure('wallSeconds'),
  maxGpuMiB: figure('maxGpuMiB'),
  aucRamMiBs: figure('aucRamMiBs'),
  'scoring.aucGpuMiBs': figure('scoring.aucGpuMiBs'),
  'scoring.aucCpuPctS': figure('scoring.aucCpuPctS'),
  'flareFormulas.aucGpuMiBs': figure('flareFormulas.aucGpuMiBs'),
  'flareFormulas.maxGpuStableMiB': figure('flareFormulas.maxGpuStableMiB'),
  'flareFormulas.aucCpuPctS': figure('flareFormulas.aucCpuPctS'),
  'flareFormulas.aucRamMiBs': figure('flareFormulas.aucRamMiBs'),
} as const satisfies Record<string, OrderSpec>;

export type RunOrderKey = keyof typeof RUN_ORDERS;
export const RUN_ORDER_KEYS = Object.keys(RUN_ORDERS) as RunOrderKey[];

export interface RunOrder {
  key: RunOrderKey;
  descending: boolean;
}

/** The list's own order: newest first. */
export const DEFAULT_RUN_ORDER: RunOrder = { key: 'startedWallMs', descending: true };

/** The expression index of each figure (schema 11 creates them; the names are the migration's). */
export function figureIndexes(): { name: string; sql: string }[] {
  return RUN_ORDER_KEYS.filter((k) => RUN_ORDERS[k].figure).map((k) => ({ name: `runs_by_${k.replace('.', '_')}`, sql: RUN_ORDERS[k].sql }));
}

export interface SortedPageQuery {
  filter: RunFilter;
  order: RunOrder;
  offset: number;
  limit: number;
}

/**
 * ORDER BY for one order. Ties go by creation (rid for figures; started_wall_ms, id for columns: what
 * their indexes hold), in the order's direction, so every page boundary is stable. A figure's unknown
 * values come last in both directions: SQLite sorts NULL lowest, so descending leaves them last on its
 * own and ascending reads them as a segment of their own (the store's sortedPage).
 */
export function orderBy(order: RunOrder): string {
  const dir = order.descending ? 'DESC' : 'ASC';
  const spec = RUN_ORDERS[order.key];
  if (spec.figure) return `${spec.sql} ${dir}, rid ${dir}`;
  if (order.key === 'startedWallMs') return `started_wall_ms ${dir}, id ${dir}`;
  return `${spec.sql} ${dir}, started_wall_ms ${dir}, id ${dir}`;
}

export interface Sql {
  sql: string;
  params: (string | number)[];
}

/** `limit` rows of the filtered runs in `order` from `offset` (`nulls`: only a figure's unknown or known values). */
export function sortedRowsQuery(filter: RunFilter, order: RunOrder, offset: number, limit: number, nulls?: 'only' | 'none'): Sql {
  const { where, params } = filterClause(filter);
  const spec = RUN_ORDERS[order.key];
  if (nulls !== undefined) where.push(`${spec.sql} IS ${nulls === 'only' ? '' : 'NOT '}NULL`);
  // The unknown values' own segment goes by creation, in the order's direction.
  const by = nulls === 'only' ? `rid ${order.descending ? 'DESC' : 'ASC'}` : orderBy(order);
  return { sql: `SELECT ${RUN_COLUMNS} FROM runs ${whereOf(where)} ORDER BY ${by} LIMIT ? OFFSET ?`, params: [...params, limit, offset] };
}

/** How many runs match (with `knownFigure`: how many of them have that figure). */
export function countQuery(filter: RunFilter, knownFigure?: RunOrderKey): Sql {
  const { where, params } = filterClause(filter);
  if (knownFigure !== undefined) where.push(`${RUN_ORDERS[knownFigure].sql} IS NOT NULL`);
  return { sql: `SELECT count(*) FROM runs ${whereOf(where)}`, params };
}
