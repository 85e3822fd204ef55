// The Store on SQLite (better-sqlite3, synchronous).
//
// (open.ts opens the file and hands the connection here.)
//
// Durability: journal_mode=WAL with synchronous=NORMAL. A commit appends to the -wal file with a
// write() before returning, so once a transaction has committed it survives the death of THIS
// process (kill -9, OOM kill, crash): the data sits in the OS page cache and the next open replays
// the WAL. A process killed mid-transaction leaves an uncommitted WAL tail that is ignored on
// recovery: the file is never corrupted (test/store/crash.test.ts kills a writer for real).
// Power loss or an OS crash is different: NORMAL fsyncs the WAL only at checkpoints, so the last
// transactions before the outage may be rolled back, but the database stays consistent
// (not corrupted) provided the disk honours fsync. synchronous=FULL would close that window at the
// cost of one fsync per flush; at one flush per second the loss bound is about a second of samples
// plus whatever the page cache held.
// Samples are queued in memory and written at least every flushIntervalMs (default 1 s), so a crash
// loses at most the samples queued since the last flush.
import type Database from 'better-sqlite3';
import type { NodeInventory, NodeSample, OfficialFigures, Run, RunFilter, RunSample, RunSummary, ScoringRun } from '../core/types.js';
import { OfficialTable, type StoredOfficial } from './official-table.js';
import { decodeNodeChunk, decodeRunChunk, decodeRunChunkInto, MAX_NODE_CHUNK_SPAN_MS } from './codec.js';
import { Compactor } from './compaction.js';
import { isTransientWriteError, ReadOnlyStoreError, UnknownRunError } from './errors.js';
import { DEFAULT_MAX_QUEUED_SAMPLES, WriteQueue } from './queue.js';
import { PendingRuns } from './pending-runs.js';
import { containerRunSince, endLife, livesSince, recordLife } from './lives.js';
import type { AgentLife } from '../core/lives.js';
import { factsOf, mergeFacts, uniqueFlags } from '../core/run-facts.js';
import { countQuery, RUN_ORDERS, sortedRowsQuery, type SortedPageQuery, type Sql } from './run-order.js';
import { applyRetention, type DeletedRun, type RetentionOptions } from './retention.js';
import { encodeCursor, INSERT_RUN_WITH_WRITER_SQL, listRunsQuery, RUN_COLUMNS, rowToRun, rowToScoringRun, type RunRow, runToRow, scoringRunsQuery, type ScoringRunRow } from './rows.js';
import type { RunEnd, RunLateFacts, RunPage, Store } from './types.js';
import { thisWriter } from '../sources/writer.js';
import { ownTimer, type Every } from '../clock/rides.js';

export interface StoreOptions {
  /** Called after each flush that wrote something: its duration (s, encoding included) and size. */
  onWrite?: (seconds: number, samplesWritten: number) => void;
  /** Period of the background flush (ms). Default 1000. */
  flushIntervalMs?: number;
  /**
   * What schedules the background flush (fn about every everyMs; returns its cancel). Default: a timer
   * of the store's own. The agent passes its tick rides (clock/rides.ts): a timer of its own woke the
   * sampler's thread once more a second.
   */
  every?: Every;
  /**
   * A background flush or a verdict write failed (disk full, I/O error): what failed stays queued for
   * the next try (samples up to maxQueuedSamples, verdicts always). Default: a process warning.
   */
  onError?: (err: Error) => void;
  /** A write committed after onError had been called: the database works again. */
  onRecovered?: () => void;
  /** Cap on samples waiting for a write (default DEFAULT_MAX_QUEUED_SAMPLES); the oldest go first. */
  maxQueuedSamples?: number;
  /** Samples dropped because the queue was full: runId null for node samples. */
  onSamplesDropped?: (runId: string | null, n: number) => void;
  /** After the connection closed (removes a read-only copy). */
  onClose?: () => void;
}

/** Verdict retries back off from the flush period up to this (ms). */
const MAX_VERDICT_BACKOFF_MS = 4000;

/** Chunks read per query when streaming a trace: no statement stays open across a yield. */
const ITERATE_PAGE_CHUNKS = 64;

export class SqliteStore implements Store {
  private readonly queue: WriteQueue | null;
  private readonly compactor: Compactor | null;
  private readonly rids = new Map<string, number>();
  /** Cancels the background flush's schedule (null: a read-only store has none). */
  private readonly stopFlushes: (() => void) | null = null;
  private closed = false;
  /** Run ends not yet committed, by rowid: never dropped, retried with backoff until they land. */
  private readonly verdicts = new Map<number, RunEnd>();
  private verdictRetryAtMs = 0;
  private verdictBackoffMs: number;
  /** Whether the last write attempt failed (onRecovered fires on the next success). */
  private failing = false;
  /** This process, recorded on every run it creates (sources/writer.ts). */
  private readonly writer = thisWriter();

  /** Runs whose row waits for the disk (null: read-only). */
  private readonly unborn: PendingRuns | null;
  private readonly selectRid: Database.Statement<[string], number>;
  private readonly selectRun: Database.Statement<[string], RunRow>;
  private readonly selectChunks: Database.Statement<[number], Buffer>;
  private readonly official: OfficialTable;

  constructor(
    private readonly db: Database.Database,
    readOnly: boolean,
    private readonly opts: StoreOptions,
  ) {
    this.selectRid = db.prepare<[string], number>('SELECT rid FROM runs WHERE id = ?').pluck();
    this.selectRun = db.prepare<[string], RunRow>(`SELECT ${RUN_COLUMNS} FROM runs WHERE id = ?`);
    this.selectChunks = db
      .prepare<[number], Buffer>('SELECT data FROM run_chunks WHERE rid = ? ORDER BY first_index')
      .pluck();
    this.compactor = readOnly ? null : new Compactor(db);
    this.official = new OfficialTable(db, readOnly);
    this.verdictBackoffMs = opts.flushIntervalMs ?? 1000;
    this.unborn = readOnly ? null : new PendingRuns(db);
    this.queue =
      this.compactor === null || this.unborn === null
        ? null
        : new WriteQueue(
            db,
            this.compactor,
            opts.maxQueuedSamples ?? DEFAULT_MAX_QUEUED_SAMPLES,
            (rid, n) => this.opts.onSamplesDropped?.(rid === null ? null : this.runIdOf(rid), n),
            { pending: this.unborn, onLanded: (landed) => this.runsLanded(landed) },
          );
    // On its own timer by default; it never keeps the process alive (close() flushes what is left).
    if (!readOnly) this.stopFlushes = (opts.every ?? ownTimer)(opts.flushIntervalMs ?? 1000, () => this.backgroundFlush());
  }

  private writable(operation: string): WriteQueue {
    if (this.queue === null) throw new ReadOnlyStoreError(operation);
    return this.queue;
  }

  /** Run id → rowid; SQL only the first time an id is seen by this process. */
  private ridOf(runId: string): number | undefined {
    let rid = this.rids.get(runId);
    if (rid === undefined) {
      rid = this.selectRid.get(runId);
      if (rid !== undefined) this.rids.set(runId, rid);
    }
    return rid;
  }

  private requireRid(runId: string): number {
    const rid = this.ridOf(runId);
    if (rid === undefined) throw new UnknownRunError(runId);
    return rid;
  }

  private runIdOf(rid: number): string | null {
    for (const [id, r] of this.rids) if (r === rid) return id;
    return null;
  }

  /** Best effort: an agent that starts on a full disk measures anyway (the next start records it). */
  recordInventory(inv: NodeInventory): void {
    this.writable('recordInventory');
    this.bestEffort(
      () =>
        this.db
          .prepare(
            'INSERT INTO node_inventory (node, recorded_wall_ms, inventory) VALUES (?, ?, ?) ' +
              'ON CONFLICT (node) DO UPDATE SET recorded_wall_ms = excluded.recorded_wall_ms, inventory = excluded.inventory',
          )
          .run(inv.node, inv.recordedWallMs, JSON.stringify(inv)),
      () => false,
    );
  }

  /**
   * One write outside the queue that may fail without stopping anyone: its result, or undefined
   * when it failed (reported through onError). An error `fatal` says so is thrown instead.
   */
  private bestEffort<T>(write: () => T, fatal: (err: unknown) => boolean): T | undefined {
    try {
      const result = write();
      this.succeeded();
      return result;
    } catch (err) {
      if (fatal(err)) throw err;
      this.failed(err);
      return undefined;
    }
  }

  getInventory(node: string): NodeInventory | undefined {
    const json = this.db.prepare('SELECT inventory FROM node_inventory WHERE node = ?').pluck().get(node);
    return json === undefined ? undefined : (JSON.parse(json as string) as NodeInventory);
  }

  /**
   * Inserts a run's row. Where the disk refuses it (full, I/O error), the row waits in the write queue
   * under a placeholder rowid and lands with the next write that works, before its samples: a run's
   * start is kept as its end is, never lost. A constraint violation (a duplicate id) is a bug: it throws.
   */
  createRun(run: Run): void {
    this.writable('createRun');
    const row = { ...runToRow(run), writer: this.writer };
    const isConstraint = (err: unknown): boolean => String((err as { code?: unknown }).code).startsWith('SQLITE_CONSTRAINT');
    const info = this.bestEffort(() => this.db.prepare(INSERT_RUN_WITH_WRITER_SQL).run(row), isConstraint);
    this.rids.set(run.id, info ? Number(info.lastInsertRowid) : this.unborn!.add(row));
  }

  /** Waiting rows landed: their runs' rowids are real now (the verdicts queued under them follow). */
  private runsLanded(landed: Map<number, number>): void {
    for (const [placeholder, rid] of landed) {
      const id = this.runIdOf(placeholder);
      if (id !== null) this.rids.set(id, rid);
      const verdict = this.verdicts.get(placeholder);
      if (verdict !== undefined) {
        this.verdicts.delete(placeholder);
        this.verdicts.set(rid, verdict);
      }
    }
  }

  beginAgentLife(node: string, startedWallMs: number): number | null {
    this.writable('beginAgentLife');
    // A file that refuses every write (read-only, no permission) cannot be measured into: thrown. A
    // full disk: unrecorded, this life widens the window of the one before (lives.ts).
    return this.bestEffort(() => recordLife(this.db, node, this.writer, startedWallMs), (err) => !isTransientWriteError(err)) ?? null;
  }

  endAgentLife(lifeId: number, stoppedWallMs: number): void {
    this.writable('endAgentLife');
    // A run whose row still waits started in this life: leave the life open, so the next agent
    // looks for that container in Docker (its row is lost with this process).
    if ((this.unborn?.size ?? 0) > 0) return;
    this.bestEffort(() => endLife(this.db, lifeId, stoppedWallMs), () => false);
  }

  agentLives(node: string, sinceWallMs: number): AgentLife[] {
    return livesSince(this.db, node, sinceWallMs);
  }

  hasContainerRunSince(containerId: string, sinceWallMs: number, exceptRunId?: string): boolean {
    return (this.unborn?.holdsContainerRunSince(containerId, sinceWallMs) ?? false) || containerRunSince(this.db, containerId, sinceWallMs, exceptRunId);
  }

  /** Runs whose row waits for a write (a failing disk). */
  pendingRuns(): number {
    return this.unborn?.size ?? 0;
  }

  appendRunSample(runId: string, sample: RunSample): void {
    this.writable('appendRunSample').pushRun(this.requireRid(runId), sample);
  }

  appendNodeSample(sample: NodeSample): void {
    this.writable('appendNodeSample').pushNode(sample);
  }

  updateRunningSummary(runId: string, summary: RunSummary): void {
    this.writable('updateRunningSummary').setSummary(this.requireRid(runId), summary);
  }

  /**
   * Commits a run's end by its own statement, apart from the sample chunks: a disk that refuses the
   * samples does not take the verdict with them. A verdict that does not land stays queued (never
   * dropped) and is retried with backoff by the background flush; returns whether it landed now.
   */
  finishRun(runId: string, end: RunEnd): boolean {
    const queue = this.writable('finishRun');
    const rid = this.requireRid(runId);
    queue.dropSummary(rid);
    this.verdicts.set(rid, end);
    this.tryFlush(); // the samples first, so a run whose verdict landed usually has its whole trace
    this.verdictRetryAtMs = 0;
    this.writeVerdicts();
    return !this.verdicts.has(rid);
  }

  addRunFacts(runId: string, facts: RunLateFacts): void {
    this.writable('addRunFacts');
    const rid = this.ridOf(runId);
    const flags = facts.flags ?? [];
    const late = factsOf(facts);
    if (rid === undefined || (flags.length === 0 && Object.keys(late).length === 0)) return;
    const withFacts = (summary: RunSummary): RunSummary => ({ ...summary, ...mergeFacts(factsOf(summary), late), flags: uniqueFlags(summary.flags, flags) });
    const pending = this.verdicts.get(rid);
    if (pending) {
      if (pending.summary) pending.summary = withFacts(pending.summary);
      return;
    }
    const run = this.getRun(runId);
    if (!run || run.status === 'running' || !run.summary) return;
    this.verdicts.set(rid, { status: run.status, endedWallMs: run.endedWallMs, endedMonoNs: run.endedMonoNs, summary: withFacts(run.summary) });
    this.writeVerdicts();
  }

  /** Verdicts waiting for a write (a failing disk). */
  pendingVerdicts(): number {
    return this.verdicts.size;
  }

  /** Samples waiting for a write. */
  queuedSamples(): number {
    return this.queue?.size ?? 0;
  }

  private writeVerdicts(): void {
    if (this.verdicts.size === 0 || Date.now() < this.verdictRetryAtMs) return;
    const update = this.db.prepare('UPDATE runs SET status = ?, ended_wall_ms = ?, ended_mono_ns = ?, summary = ? WHERE rid = ?');
    for (const [rid, end] of [...this.verdicts]) {
      if (rid < 0) continue; // its run's row has not landed yet: after it
      try {
        update.run(end.status, end.endedWallMs, end.endedMonoNs, JSON.stringify(end.summary), rid);
      } catch (err) {
        this.verdictRetryAtMs = Date.now() + this.verdictBackoffMs;
        this.verdictBackoffMs = Math.min(this.verdictBackoffMs * 2, MAX_VERDICT_BACKOFF_MS);
        this.failed(err);
        return;
      }
      this.verdicts.delete(rid);
      this.verdictBackoffMs = this.opts.flushIntervalMs ?? 1000;
      this.succeeded();
      // Its trace is final: pack it for reading, once all of it is on disk.
      if (!this.queue?.holds(rid)) this.tryCompact(rid);
    }
  }

  private tryCompact(rid: number): void {
    try {
      this.compactor?.compactRun(rid);
    } catch (err) {
      this.failed(err); // compaction is an optimisation: the chunks stay as they are
    }
  }

  private failed(err: unknown): void {
    this.failing = true;
    const error = err instanceof Error ? err : new Error(String(err));
    if (this.opts.onError !== undefined) this.opts.onError(error);
    else process.emitWarning(`flare-agent store: write failed: ${error.message}`);
  }

  private succeeded(): void {
    if (!this.failing) return;
    this.failing = false;
    this.opts.onRecovered?.();
  }

  getRun(runId: string): Run | undefined {
    const row = this.selectRun.get(runId);
    return row === undefined ? undefined : rowToRun(row);
  }

  listRuns(filter: RunFilter, limit: number, cursor?: string): RunPage {
    const { sql, params } = listRunsQuery(filter, limit, cursor);
    const rows = this.db.prepare<(string | number)[], RunRow>(sql).all(...params);
    const more = rows.length > limit;
    const runs = rows.slice(0, limit).map((row) => rowToRun(row));
    const last = runs[runs.length - 1];
    return { runs, nextCursor: more && last !== undefined ? encodeCursor(last) : null };
  }

  listRunsSorted(q: SortedPageQuery): { runs: Run[]; more: boolean } {
    const rows = (sql: Sql): RunRow[] => this.db.prepare<(string | number)[], RunRow>(sql.sql).all(...sql.params);
    const { filter, order, offset, limit } = q;
    const want = limit + 1; // one extra row tells whether another page exists
    let got: RunRow[];
    if (!RUN_ORDERS[order.key].figure || order.descending) {
      got = rows(sortedRowsQuery(filter, order, offset, want));
    } else {
      // Ascending by a figure: the known values, then the unknown ones (run-order.ts).
      got = rows(sortedRowsQuery(filter, order, offset, want, 'none'));
      if (got.length < want) {
        const intoUnknown = got.length > 0 ? 0 : offset - this.count(countQuery(filter, order.key));
        got = got.concat(rows(sortedRowsQuery(filter, order, intoUnknown, want - got.length, 'only')));
      }
    }
    return { runs: got.slice(0, limit).map((row) => rowToRun(row)), more: got.length > limit };
  }

  countRuns(filter: RunFilter): number {
    return this.count(countQuery(filter));
  }

  private count(q: Sql): number {
    return this.db.prepare<(string | number)[], number>(q.sql).pluck().get(...q.params) ?? 0;
  }

  runsChanges(): number {
    return this.db.prepare<[], number>('SELECT n FROM runs_changes').pluck().get() ?? 0;
  }

  scoringRuns(filter: RunFilter): ScoringRun[] {
    const { sql, params } = scoringRunsQuery(filter);
    return this.db.prepare<(string | number)[], ScoringRunRow>(sql).all(...params).map(rowToScoringRun);
  }

  getRunSamples(runId: string): RunSample[] {
    const rid = this.ridOf(runId);
    if (rid === undefined) return [];
    const out: RunSample[] = [];
    for (const blob of this.selectChunks.all(rid)) decodeRunChunkInto(blob, out);
    return out;
  }

  committedSampleCount(runId: string): number {
    const rid = this.ridOf(runId);
    if (rid === undefined) return 0;
    return this.db.prepare<[number], number>('SELECT coalesce(max(first_index + n), 0) FROM run_chunks WHERE rid = ?').pluck().get(rid) ?? 0;
  }

  *iterateRunSamples(runId: string): IterableIterator<RunSample> {
    const rid = this.ridOf(runId);
    if (rid === undefined) return;
    // Paged by sample ordinal, so neither a flush (new chunks) nor a compaction (small chunks
    // replaced by a merged one) between two pages loses or repeats a sample, and no better-sqlite3
    // iterator stays open across a yield (it would lock the connection for the flush timer).
    // Each page starts at the chunk holding sample `yielded` (the last one starting at or before it).
    const page = this.db.prepare<[number, number, number, number], { first_index: number; n: number; data: Buffer }>(
      'SELECT first_index, n, data FROM run_chunks WHERE rid = ? AND first_index >= ' +
        '(SELECT max(first_index) FROM run_chunks WHERE rid = ? AND first_index <= ?) ORDER BY first_index LIMIT ?',
    );
    let yielded = 0;
    for (;;) {
      const rows = page.all(rid, rid, yielded, ITERATE_PAGE_CHUNKS);
      const fresh = rows.filter((row) => row.first_index + row.n > yielded);
      if (fresh.length === 0) break;
      for (const row of fresh) {
        if (row.first_index > yielded) throw new Error(`run ${runId}: samples ${yielded}..${row.first_index} missing`);
        const samples = decodeRunChunk(row.data);
        for (let i = yielded - row.first_index; i < samples.length; i++) {
          yielded++;
          yield samples[i];
        }
      }
    }
  }

  /** Node samples with fromWallMs ≤ wallMs ≤ toWallMs, in write order. */
  getNodeSamples(fromWallMs: number, toWallMs: number): NodeSample[] {
    const blobs = this.db
      .prepare<[number, number, number], Buffer>(
        'SELECT data FROM node_chunks WHERE first_wall_ms BETWEEN ? AND ? AND last_wall_ms >= ? ORDER BY id',
      )
      .pluck()
      .all(fromWallMs - MAX_NODE_CHUNK_SPAN_MS, toWallMs, fromWallMs);
    const inRange = (s: NodeSample): boolean => s.wallMs >= fromWallMs && s.wallMs <= toWallMs;
    const out: NodeSample[] = [];
    for (const blob of blobs) for (const s of decodeNodeChunk(blob)) if (inRange(s)) out.push(s);
    return out;
  }

  runWriter(runId: string): string | null {
    return this.db.prepare<[string], string | null>('SELECT writer FROM runs WHERE id = ?').pluck().get(runId) ?? null;
  }

  runningRuns(): Run[] {
    return this.db
      .prepare<[], RunRow>(`SELECT ${RUN_COLUMNS} FROM runs WHERE status = 'running' ORDER BY started_wall_ms, id`)
      .all()
      .map((row) => rowToRun(row));
  }

  flush(): void {
    if (this.queue === null) return;
    const t0 = process.hrtime.bigint();
    const written = this.queue.flush();
    if (written > 0) this.opts.onWrite?.(Number(process.hrtime.bigint() - t0) / 1e9, written);
    this.succeeded();
    // Bounded (one run's last ~64 small chunks, ~1 ms), in its own transaction after the write.
    this.compactor?.compactDue();
  }

  /** flush() that reports a failure instead of throwing (what stays queued is retried later). */
  private tryFlush(): void {
    try {
      this.flush();
    } catch (err) {
      this.failed(err);
    }
  }

  /** While writes fail, background sample flushes back off (1 s doubling to MAX_VERDICT_BACKOFF_MS). */
  private flushRetryAtMs = 0;
  private flushBackoffMs = 0;

  private backgroundFlush(): void {
    // A verdict due for a retry takes the samples with it first (as finishRun does), so a run whose
    // verdict lands has its whole trace whenever the disk allows it.
    const verdictDue = this.verdicts.size > 0 && Date.now() >= this.verdictRetryAtMs;
    if (Date.now() >= this.flushRetryAtMs || verdictDue) {
      const wasFailing = this.failing;
      this.tryFlush();
      if (this.failing) {
        this.flushBackoffMs = wasFailing ? Math.min(Math.max(this.flushBackoffMs * 2, this.opts.flushIntervalMs ?? 1000), MAX_VERDICT_BACKOFF_MS) : this.opts.flushIntervalMs ?? 1000;
        this.flushRetryAtMs = Date.now() + this.flushBackoffMs;
      } else {
        this.flushBackoffMs = 0;
        this.flushRetryAtMs = 0;
      }
    }
    this.writeVerdicts();
    this.official.writeDue();
  }

  storedOfficialFigures(runId: string, profileKey: string): { stamp: string; figures: OfficialFigures } | undefined {
    return this.official.get(runId, profileKey);
  }

  saveOfficialFigures(rows: readonly StoredOfficial[]): void {
    this.official.save(rows);
  }

  nodeSamplesUntilWallMs(): number | null {
    return this.official.nodeSamplesUntilWallMs();
  }

  applyRetention(opts: RetentionOptions): { deletedRuns: number } {
    this.writable('applyRetention');
    this.flush();
    const { deleted } = applyRetention(this.db, opts, Date.now());
    this.forgetDeletedRuns(deleted);
    return { deletedRuns: deleted.length };
  }

  /** Runs deleted (here, or by retention on another connection) leave the id cache: a later append for them must fail, not write orphans. */
  forgetDeletedRuns(deleted: readonly DeletedRun[]): void {
    const queue = this.writable('forgetDeletedRuns');
    for (const { id, rid } of deleted) {
      if (this.rids.get(id) !== rid) continue;
      this.rids.delete(id);
      queue.forget(rid);
      this.compactor?.forget(rid);
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.stopFlushes?.();
    try {
      this.flush();
      this.verdictRetryAtMs = 0;
      this.writeVerdicts();
      for (let i = 0; i < 100 && this.official.waiting > 0; i++) this.official.writeDue();
      if (this.verdicts.size > 0) process.emitWarning(`flare-agent store: ${this.verdicts.size} run verdict(s) could not be written before close`);
      const unborn = this.unborn?.size ?? 0;
      if (unborn > 0) process.emitWarning(`flare-agent store: ${unborn} run(s) could not be created before close (the next agent settles them from Docker)`);
    } finally {
      this.db.close();
      this.opts.onClose?.();
    }
  }
}
