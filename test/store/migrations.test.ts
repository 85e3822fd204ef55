import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import type { RunFlag } from '../../src/core/run-facts.js';
import { encodeRunChunk } from '../../src/store/codec.js';
import { openStore, openStoreReadOnly, SchemaVersionError } from '../../src/store/index.js';
import { INSERT_RUN_SQL, runToRow } from '../../src/store/rows.js';
import { migrate, SCHEMA_VERSION } from '../../src/store/schema.js';
import { makeNodeTrace, makeRun, makeSummary, makeTrace, tempDbPath } from './fixtures.js';

/** A file as the first released schema wrote it, with one run and its samples. */
function makeV1File(path: string): void {
  mkdirSync(dirname(path), { recursive: true });
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  migrate(db, path, 1);
  // The columns version 1 had (later versions added `settings`, `placement` and `runtime`).
  const { settings: _settings, placement: _placement, runtime: _runtime, ...v1Row } = runToRow(makeRun('old-run'));
  const v1Sql = INSERT_RUN_SQL.replace(', settings, placement, runtime)', ')').replace(', @settings, @placement, @runtime)', ')');
  const rid = Number(db.prepare(v1Sql).run(v1Row).lastInsertRowid);
  const trace = makeTrace(30);
  db.prepare('INSERT INTO run_chunks (rid, first_index, n, data) VALUES (?, 0, ?, ?)').run(rid, trace.length, encodeRunChunk(trace));
  db.close();
}

function userVersion(path: string): number {
  const db = new Database(path, { readonly: true });
  const version = db.pragma('user_version', { simple: true }) as number;
  db.close();
  return version;
}

describe('schema migrations', () => {
  it('upgrades a file from an older version and keeps its data', () => {
    const path = tempDbPath();
    makeV1File(path);
    expect(userVersion(path)).toBe(1);
    expect(SCHEMA_VERSION).toBeGreaterThan(1);

    expect(() => openStoreReadOnly(path)).toThrow(/older than .*open it once read-write/);

    const store = openStore(path);
    expect(store.getRun('old-run')).toEqual(makeRun('old-run'));
    expect(store.getRunSamples('old-run')).toEqual(makeTrace(30));
    // What version 2 added works on the upgraded file.
    const nodes = makeNodeTrace(5);
    nodes.forEach((s) => store.appendNodeSample(s));
    store.flush();
    expect(store.getNodeSamples(0, Infinity)).toEqual(nodes);
    expect(store.listRuns({ team: ['team-a'] }, 10).runs.map((r) => r.id)).toEqual(['old-run']);
    store.close();

    expect(userVersion(path)).toBe(SCHEMA_VERSION);
    const db = new Database(path, { readonly: true });
    const plan = db
      .prepare("EXPLAIN QUERY PLAN SELECT id FROM runs WHERE team = ? ORDER BY started_wall_ms DESC, id DESC LIMIT 5")
      .all('team-a') as { detail: string }[];
    db.close();
    expect(plan.map((p) => p.detail).join(' ')).toMatch(/USING (COVERING )?INDEX runs_by_team/);
    expect(plan.map((p) => p.detail).join(' ')).not.toMatch(/TEMP B-TREE/); // no sort: the index is the order
  });

  it('version 12 moves Docker\'s create and removal times from flag text to summary fields, read as the old parser read them', () => {
    const path = tempDbPath();
    mkdirSync(dirname(path), { recursive: true });
    const db = new Database(path);
    db.pragma('journal_mode = WAL');
    migrate(db, path, 11);
    // Flag text as schema 12 stored it (no longer a RunFlag).
    const text = (flags: string[]): RunFlag[] => flags as RunFlag[];
    const flagged = makeRun('flagged', { status: 'completed', summary: makeSummary({ flags: text(['attached-late', 'created-before-start:0.123456s', 'removed-after-end:2.500000s', 'removed-after-end:9s']) }) });
    const plain = makeRun('plain', { status: 'completed', summary: makeSummary({ flags: ['attached-late'] }) });
    const hour = makeRun('hour', { status: 'completed', summary: makeSummary({ flags: text(['created-before-start:4000.000000s', 'removed-after-end:bad']) }) });
    for (const r of [flagged, plain, hour]) db.prepare(INSERT_RUN_SQL).run(runToRow(r));
    const plainText = db.prepare("SELECT summary FROM runs WHERE id = 'plain'").pluck().get();
    db.close();

    const store = openStore(path);
    const moved = store.getRun('flagged')!.summary!;
    expect(moved.createdBeforeStartSeconds).toBe(0.123456);
    expect(moved.removedAfterEndSeconds).toBe(2.5); // the first one, as the parser took it
    expect(moved.flags).toEqual(['attached-late']);
    expect(store.getRun('hour')!.summary).toMatchObject({ createdBeforeStartSeconds: 4000, flags: [] });
    expect(store.getRun('hour')!.summary!.removedAfterEndSeconds).toBeUndefined(); // malformed: no fact
    store.close();
    const check = new Database(path, { readonly: true });
    expect(check.prepare("SELECT summary FROM runs WHERE id = 'plain'").pluck().get()).toBe(plainText); // untouched
    check.close();
  });

  it('refuses a file from a newer version with a clear error and leaves it untouched', () => {
    const path = tempDbPath();
    openStore(path).close();
    const db = new Database(path);
    db.pragma(`user_version = ${SCHEMA_VERSION + 7}`);
    db.close();

    let error: unknown;
    try {
      openStore(path);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(SchemaVersionError);
    expect((error as Error).message).toMatch(
      new RegExp(`schema version ${SCHEMA_VERSION + 7} is newer than this agent supports \\(${SCHEMA_VERSION}\\)`),
    );
    expect(() => openStoreReadOnly(path)).toThrow(SchemaVersionError);
    expect(userVersion(path)).toBe(SCHEMA_VERSION + 7);
  });
});
