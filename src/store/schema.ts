// Schema and its migrations. `PRAGMA user_version` holds the number of migrations applied; opening
// upgrades an older file step by step (each step in its own transaction) and refuses a newer one.
import type Database from 'better-sqlite3';
import { SchemaVersionError } from './errors.js';
import { packNodeChunks } from './node-compaction.js';
import { figureIndexes } from './run-order.js';
import { moveFlagsToFacts, moveSpanFlagsToFields } from './flag-migrations.js';

export interface Migration {
  /** Version the database has after this step. */
  version: number;
  up(db: Database.Database): void;
}

// Samples are packed per flush (codec.ts): one row per (run, flush), so appends never rewrite old
// rows; compaction.ts later merges small chunks (first_index = ordinal of the chunk's first sample
// in its run, the order of a trace). The run is referenced by its integer rowid.
export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    up(db) {
      db.exec(`
        CREATE TABLE node_inventory (
          node TEXT PRIMARY KEY,
          recorded_wall_ms INTEGER NOT NULL,
          inventory TEXT NOT NULL
        );
        CREATE TABLE runs (
          -- AUTOINCREMENT: a rowid is never reused after retention, so a reader's cached
          -- id → rowid mapping can never point at another run.
          rid INTEGER PRIMARY KEY AUTOINCREMENT,
          id TEXT NOT NULL UNIQUE,
          kind TEXT NOT NULL,
          team TEXT NOT NULL,
          case_name TEXT NOT NULL,
          node TEXT NOT NULL,
          container_id TEXT,
          container_name TEXT,
          image TEXT,
          image_id TEXT,
          gpu_devices TEXT,
          command TEXT,
          status TEXT NOT NULL,
          started_wall_ms INTEGER NOT NULL,
          started_mono_ns INTEGER NOT NULL,
          ended_wall_ms INTEGER,
          ended_mono_ns INTEGER,
          time_limit_s REAL,
          n_cpu INTEGER NOT NULL,
          interval_ms REAL NOT NULL,
          previous_run_id TEXT,
          summary TEXT
        );
        CREATE INDEX runs_by_start ON runs (started_wall_ms, id);
        CREATE TABLE run_chunks (
          id INTEGER PRIMARY KEY,
          rid INTEGER NOT NULL,
          first_index INTEGER NOT NULL,
          n INTEGER NOT NULL,
          data BLOB NOT NULL
        );
        CREATE INDEX run_chunks_by_run ON run_chunks (rid, first_index);
      `);
    },
  },
  {
    // Node-wide samples, and one index per listRuns filter of the API (team, case, status,
    // node), each ending in the sort key so a filtered page is an index range scan.
    version: 2,
    up(db) {
      db.exec(`
        CREATE TABLE node_chunks (
          id INTEGER PRIMARY KEY,
          first_wall_ms INTEGER NOT NULL,
          last_wall_ms INTEGER NOT NULL,
          n INTEGER NOT NULL,
          data BLOB NOT NULL
        );
        CREATE INDEX node_chunks_by_time ON node_chunks (first_wall_ms);
        CREATE INDEX runs_by_team ON runs (team, started_wall_ms, id);
        CREATE INDEX runs_by_case ON runs (case_name, started_wall_ms, id);
        CREATE INDEX runs_by_status ON runs (status, started_wall_ms, id);
        CREATE INDEX runs_by_node ON runs (node, started_wall_ms, id);
      `);
    },
  },
  {
    // The run's measurement settings (GPU tolerance, penalties) on its row, so a run summarised after
    // a crash is summarised exactly as it would have been at its end. NULL on rows from older agents.
    version: 3,
    up(db) {
      db.exec('ALTER TABLE runs ADD COLUMN settings TEXT');
    },
  },
  {
    // Where the organiser placed the run (CPU set, memory limit, NUMA node, pool slot) as JSON.
    version: 4,
    up(db) {
      db.exec('ALTER TABLE runs ADD COLUMN placement TEXT');
    },
  },
  {
    // The process that writes each run (sources/writer.ts: boot id, pid, start time), so start-up
    // recovery settles only runs whose writer is gone (NULL on older rows: gone).
    version: 5,
    up(db) {
      db.exec('ALTER TABLE runs ADD COLUMN writer TEXT');
    },
  },
  {
    // Each agent's life on a node (lives.ts): the spans some agent watched, so a container that ran in
    // one and has no run (its row never landed, or the event stream was down) is created from Docker's
    // record. The container index answers "has this container's life a run?" without a scan.
    version: 6,
    up(db) {
      db.exec(`
        CREATE TABLE agent_lives (
          id INTEGER PRIMARY KEY,
          node TEXT NOT NULL,
          writer TEXT,
          started_wall_ms INTEGER NOT NULL,
          stopped_wall_ms INTEGER
        );
        CREATE INDEX agent_lives_by_node ON agent_lives (node, started_wall_ms);
        CREATE INDEX runs_by_container ON runs (container_id, started_wall_ms);
      `);
    },
  },
  {
    // A counter of the changes that can change a ranking: a run created or deleted, a run finishing,
    // anything written to a finished run (flags, a corrected verdict), a run's team, case or start.
    // The partial summary a running run gets every few seconds is left out (a ranking skips running
    // runs). Readers keep what they derived from the runs until it moves (http/heavy-reads.ts);
    // triggers keep it whatever code writes the rows.
    version: 7,
    up(db) {
      db.exec(`
        CREATE TABLE runs_changes (one INTEGER PRIMARY KEY CHECK (one = 1), n INTEGER NOT NULL);
        INSERT INTO runs_changes VALUES (1, 0);
        CREATE TRIGGER runs_changed_by_insert AFTER INSERT ON runs BEGIN UPDATE runs_changes SET n = n + 1; END;
        CREATE TRIGGER runs_changed_by_delete AFTER DELETE ON runs BEGIN UPDATE runs_changes SET n = n + 1; END;
        CREATE TRIGGER runs_changed_by_update AFTER UPDATE ON runs
          WHEN OLD.status <> 'running' OR NEW.status <> 'running' OR OLD.id IS NOT NEW.id OR OLD.team IS NOT NEW.team
            OR OLD.case_name IS NOT NEW.case_name OR OLD.node IS NOT NEW.node OR OLD.started_wall_ms IS NOT NEW.started_wall_ms
          BEGIN UPDATE runs_changes SET n = n + 1; END;
      `);
    },
  },
  {
    // The runtime that ran each container (docker, containerd): recovery settles a run left running
    // through the runtime that made it. NULL on older rows (they were all settled through Docker).
    version: 8,
    up(db) {
      db.exec('ALTER TABLE runs ADD COLUMN runtime TEXT');
    },
  },
  {
    // The official figures of each finished run per challenge profile (store/official-table.ts),
    // computed once the host samples around the run are on disk: an export after a start reads them
    // rather than modelling every run again. They go with their run.
    version: 9,
    up(db) {
      db.exec(`
        CREATE TABLE official_figures (
          run_id TEXT NOT NULL,
          profile TEXT NOT NULL,
          stamp TEXT NOT NULL,
          figures TEXT NOT NULL,
          PRIMARY KEY (run_id, profile)
        ) WITHOUT ROWID;
        CREATE TRIGGER official_figures_of_deleted_run AFTER DELETE ON runs BEGIN DELETE FROM official_figures WHERE run_id = OLD.id; END;
      `);
    },
  },
  {
    // Node samples merged a minute at a time and deflated (node-compaction.ts), as run samples are
    // merged: packed = 1 on a merged chunk; the partial index finds the small chunks still to merge.
    // The node's chunks already on file are merged here, in place (the freed pages go back at open).
    version: 10,
    up(db) {
      db.exec(`
        ALTER TABLE node_chunks ADD COLUMN packed INTEGER NOT NULL DEFAULT 0;
        CREATE INDEX node_chunks_unpacked ON node_chunks (id) WHERE packed = 0;
      `);
      packNodeChunks(db, false);
    },
  },
  {
    // The run list in any column's order, a page at a time, at 100 000 runs (run-order.ts): an index on
    // each summary figure the list sorts by (the text columns have theirs since version 2).
    version: 11,
    up(db) {
      for (const { name, sql } of figureIndexes()) db.exec(`CREATE INDEX ${name} ON runs (${sql})`);
    },
  },
  {
    // Docker's create → start and end → removal times: from flag text to summary fields
    // (flag-migrations.ts), read as the official model's parser read them.
    version: 12,
    up(db) {
      moveSpanFlagsToFields(db);
    },
  },
  {
    // Every other value a flag carried as text (attached-late:<s>s, samples-dropped:<n>, …) to its typed
    // fact, and flags to words from one closed list (core/run-facts.ts; flag-migrations.ts).
    version: 13,
    up(db) {
      moveFlagsToFacts(db);
    },
  },
  {
    // summary.official (FLARE22's formulas over the run's own span) is named flareFormulas: "official"
    // is the profile model's figure alone (src/official/). Its sort indexes follow the key. The JSON is
    // rewritten by SQLite's own functions, which keep each number's text as it was.
    version: 14,
    up(db) {
      for (const key of ['aucGpuMiBs', 'maxGpuStableMiB', 'aucCpuPctS', 'aucRamMiBs']) db.exec(`DROP INDEX IF EXISTS runs_by_official_${key}`);
      db.exec(`UPDATE runs SET summary = json_set(json_remove(summary, '$.official'), '$.flareFormulas', json(summary -> '$.official'))
               WHERE summary IS NOT NULL AND json_type(summary, '$.official') = 'object'`);
      for (const { name, sql } of figureIndexes()) db.exec(`CREATE INDEX IF NOT EXISTS ${name} ON runs (${sql})`);
    },
  },
];

export const SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1].version;

export function schemaVersion(db: Database.Database): number {
  return db.pragma('user_version', { simple: true }) as number;
}

/** Throws SchemaVersionError for a file written by a newer agent. */
export function checkNotNewer(db: Database.Database, path: string): number {
  const version = schemaVersion(db);
  if (version > SCHEMA_VERSION) {
    throw new SchemaVersionError(
      version,
      SCHEMA_VERSION,
      `${path}: database schema version ${version} is newer than this agent supports (${SCHEMA_VERSION}); ` +
        'upgrade flare-agent to read it',
    );
  }
  return version;
}

/**
 * On a file with no tables yet, turns on incremental auto-vacuum, so retention can give pages back
 * to the OS with `PRAGMA incremental_vacuum` instead of a full VACUUM. SQLite accepts this only
 * before the first table exists and before the file switches to WAL: call it first.
 */
export function prepareNewFile(db: Database.Database): void {
  const tables = db.prepare("SELECT count(*) FROM sqlite_master WHERE type = 'table'").pluck().get();
  if (tables === 0) db.pragma('auto_vacuum = INCREMENTAL');
}

/** Applies the migrations after the file's version, up to `target` (default: the latest). */
export function migrate(db: Database.Database, path: string, target = SCHEMA_VERSION): void {
  const current = checkNotNewer(db, path);
  for (const step of MIGRATIONS) {
    if (step.version <= current || step.version > target) continue;
    db.transaction(() => {
      step.up(db);
      db.pragma(`user_version = ${step.version}`);
    }).immediate();
  }
}
