// Mapping between `Run` and its row in `runs`, the listRuns query and its opaque cursor.
import type { Run, RunFilter, RunPlacement, RunSettingsStored, RunStatus, RunSummary, ScoringRun } from '../core/types.js';
import { InvalidCursorError } from './errors.js';

export interface RunRow {
  rid: number;
  id: string;
  kind: string;
  team: string;
  case_name: string;
  node: string;
  container_id: string | null;
  container_name: string | null;
  image: string | null;
  image_id: string | null;
  gpu_devices: string | null;
  command: string | null;
  status: string;
  started_wall_ms: number;
  started_mono_ns: number;
  ended_wall_ms: number | null;
  ended_mono_ns: number | null;
  time_limit_s: number | null;
  n_cpu: number;
  interval_ms: number;
  previous_run_id: string | null;
  summary: string | null;
  settings: string | null;
  placement: string | null;
  runtime: string | null;
}

export const RUN_COLUMNS =
  'rid, id, kind, team, case_name, node, container_id, container_name, image, image_id, gpu_devices, ' +
  'command, status, started_wall_ms, started_mono_ns, ended_wall_ms, ended_mono_ns, time_limit_s, n_cpu, ' +
  'interval_ms, previous_run_id, summary, settings, placement, runtime';

export const INSERT_RUN_SQL =
  `INSERT INTO runs (${RUN_COLUMNS.replace('rid, ', '')}) VALUES ` +
  '(@id, @kind, @team, @case_name, @node, @container_id, @container_name, @image, @image_id, @gpu_devices, ' +
  '@command, @status, @started_wall_ms, @started_mono_ns, @ended_wall_ms, @ended_mono_ns, @time_limit_s, ' +
  '@n_cpu, @interval_ms, @previous_run_id, @summary, @settings, @placement, @runtime)';

/** The insert with the process that writes the run (sources/writer.ts): a storage fact, not part of Run. */
export const INSERT_RUN_WITH_WRITER_SQL = INSERT_RUN_SQL.replace(', runtime)', ', runtime, writer)').replace(', @runtime)', ', @runtime, @writer)');

export function runToRow(run: Run): Omit<RunRow, 'rid'> {
  return {
    id: run.id,
    kind: run.kind,
    team: run.team,
    case_name: run.case,
    node: run.node,
    container_id: run.containerId ?? null,
    container_name: run.containerName ?? null,
    image: run.image ?? null,
    image_id: run.imageId ?? null,
    gpu_devices: run.gpuDevices === undefined ? null : JSON.stringify(run.gpuDevices),
    command: run.command ?? null,
    status: run.status,
    started_wall_ms: run.startedWallMs,
    started_mono_ns: run.startedMonoNs,
    ended_wall_ms: run.endedWallMs,
    ended_mono_ns: run.endedMonoNs,
    time_limit_s: run.timeLimitSeconds,
    n_cpu: run.nCpu,
    interval_ms: run.intervalMs,
    previous_run_id: run.previousRunId,
    summary: run.summary === null ? null : JSON.stringify(run.summary),
    settings: run.settings === undefined ? null : JSON.stringify(run.settings),
    placement: run.placement === undefined ? null : JSON.stringify(run.placement),
    runtime: run.runtime ?? null,
  };
}

export function rowToRun(row: RunRow): Run {
  const run: Run = {
    id: row.id,
    kind: row.kind as Run['kind'],
    team: row.team,
    case: row.case_name,
    node: row.node,
    status: row.status as RunStatus,
    startedWallMs: row.started_wall_ms,
    startedMonoNs: row.started_mono_ns,
    endedWallMs: row.ended_wall_ms,
    endedMonoNs: row.ended_mono_ns,
    timeLimitSeconds: row.time_limit_s,
    nCpu: row.n_cpu,
    intervalMs: row.interval_ms,
    previousRunId: row.previous_run_id,
    summary: row.summary === null ? null : (JSON.parse(row.summary) as RunSummary),
  };
  // Optional identity fields are left out, not set to undefined, so a stored run deep-equals its input.
  if (row.container_id !== null) run.containerId = row.container_id;
  if (row.container_name !== null) run.containerName = row.container_name;
  if (row.image !== null) run.image = row.image;
  if (row.image_id !== null) run.imageId = row.image_id;
  if (row.gpu_devices !== null) run.gpuDevices = JSON.parse(row.gpu_devices) as string[];
  if (row.command !== null) run.command = row.command;
  if (row.settings !== null) run.settings = JSON.parse(row.settings) as RunSettingsStored;
  if (row.placement !== null) run.placement = JSON.parse(row.placement) as RunPlacement;
  if (row.runtime === 'docker' || row.runtime === 'containerd') run.runtime = row.runtime;
  return run;
}

interface CursorKey {
  startedWallMs: number;
  id: string;
}

/** base64url of the last row's (startedWallMs, id). */
export function encodeCursor(key: CursorKey): string {
  return Buffer.from(JSON.stringify([key.startedWallMs, key.id]), 'utf8').toString('base64url');
}

export function decodeCursor(cursor: string): CursorKey {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw new InvalidCursorError();
  }
  if (
    !Array.isArray(parsed) ||
    parsed.length !== 2 ||
    typeof parsed[0] !== 'number' ||
    !Number.isFinite(parsed[0]) ||
    typeof parsed[1] !== 'string'
  ) {
    throw new InvalidCursorError();
  }
  return { startedWallMs: parsed[0], id: parsed[1] };
}

/** The WHERE clause of a filter (an empty string for none) and its parameters. */
export function filterClause(filter: RunFilter): { where: string[]; params: (string | number)[] } {
  const where: string[] = [];
  const params: (string | number)[] = [];
  const equal = [
    ['team', 'team'],
    ['case', 'case_name'],
    ['status', 'status'],
    ['node', 'node'],
  ] as const;
  for (const [key, column] of equal) {
    const values = filter[key];
    if (values === undefined) continue;
    // An empty list matches nothing; IN (…) keeps each filter an index range scan.
    where.push(values.length === 0 ? '0' : `${column} IN (${values.map(() => '?').join(', ')})`);
    params.push(...values);
  }
  if (filter.sinceWallMs !== undefined) {
    where.push('started_wall_ms >= ?');
    params.push(filter.sinceWallMs);
  }
  if (filter.untilWallMs !== undefined) {
    where.push('started_wall_ms < ?');
    params.push(filter.untilWallMs);
  }
  return { where, params };
}

export const whereOf = (where: string[]): string => (where.length === 0 ? '' : `WHERE ${where.join(' AND ')}`);

/** SQL and parameters for one page, newest first (startedWallMs DESC, id DESC). */
export function listRunsQuery(
  filter: RunFilter,
  limit: number,
  cursor: string | undefined,
): { sql: string; params: (string | number)[] } {
  const { where, params } = filterClause(filter);
  if (cursor !== undefined) {
    const key = decodeCursor(cursor);
    where.push('(started_wall_ms, id) < (?, ?)');
    params.push(key.startedWallMs, key.id);
  }
  if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`listRuns: limit must be a positive integer, got ${limit}`);
  // One extra row tells whether another page exists.
  params.push(limit + 1);
  return {
    sql: `SELECT ${RUN_COLUMNS} FROM runs ${whereOf(where)} ORDER BY started_wall_ms DESC, id DESC LIMIT ?`,
    params,
  };
}

export interface ScoringRunRow {
  id: string;
  team: string;
  case_name: string;
  status: string;
  started_wall_ms: number;
  previous_run_id: string | null;
  wall: string | null;
  tolerance: string | null;
  scoring: string | null;
}

/**
 * Every matching run's scoring fields, newest first, in one statement. SQLite's `->` (3.38+) hands
 * back each field's JSON text as stored (JSONB keeps a number's digits), so parsing it here gives the
 * very doubles that parsing the whole summary gives, without reading the rest of it into objects.
 */
export function scoringRunsQuery(filter: RunFilter): { sql: string; params: (string | number)[] } {
  const { where, params } = filterClause(filter);
  return {
    sql:
      "SELECT id, team, case_name, status, started_wall_ms, previous_run_id, summary -> '$.wallSeconds' AS wall, " +
      "summary -> '$.gpuToleranceMiB' AS tolerance, summary -> '$.scoring' AS scoring " +
      `FROM runs ${whereOf(where)} ORDER BY started_wall_ms DESC, id DESC`,
    params,
  };
}

export function rowToScoringRun(row: ScoringRunRow): ScoringRun {
  const summary =
    row.scoring === null
      ? null
      : { wallSeconds: JSON.parse(row.wall ?? 'null') as number, gpuToleranceMiB: JSON.parse(row.tolerance ?? 'null') as number, scoring: JSON.parse(row.scoring) as RunSummary['scoring'] };
  return { id: row.id, team: row.team, case: row.case_name, status: row.status as RunStatus, startedWallMs: row.started_wall_ms, previousRunId: row.previous_run_id, summary };
}
