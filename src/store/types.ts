// What the rest of the agent needs from storage. SQLite (better-sqlite3) implements it in sqlite.ts.
import type { NodeInventory, NodeSample, OfficialFigures, Run, RunFilter, RunSample, RunStatus, RunSummary, ScoringRun } from '../core/types.js';
import type { RunFacts, RunFlag } from '../core/run-facts.js';
import type { AgentLife } from '../core/lives.js';
import type { StoredOfficial } from './official-table.js';
import type { SortedPageQuery } from './run-order.js';


/** What may be learnt of a run after its end: facts (Docker's removal time), and flags for humans. */
export interface RunLateFacts extends RunFacts {
  flags?: RunFlag[];
}

export interface RunPage {
  runs: Run[];
  /** Opaque cursor for the next page, null when this is the last one. */
  nextCursor: string | null;
}

export interface RunEnd {
  status: RunStatus;
  endedWallMs: number | null;
  endedMonoNs: number | null;
  summary: RunSummary;
}

export interface Store {
  recordInventory(inv: NodeInventory): void;
  /** The latest inventory recorded for a node. */
  getInventory(node: string): NodeInventory | undefined;
  createRun(run: Run): void;
  /** Queued; written in a batch transaction off the tick path (flushed at least every second). */
  appendRunSample(runId: string, sample: RunSample): void;
  appendNodeSample(sample: NodeSample): void;
  /** Updates the stored partial summary of a running run (so a crash leaves something to recover). */
  updateRunningSummary(runId: string, summary: RunSummary): void;
  /**
   * Commits a run's end on its own (apart from sample chunks); one that cannot be written now is kept
   * and retried with backoff until it lands, never dropped. Returns whether it landed at once.
   */
  finishRun(runId: string, end: RunEnd): boolean;
  /**
   * Adds facts seen after a run's end to its summary (Docker's removal time, flags), in one call.
   * Written like a verdict (retried until it lands); a run that is unknown or still running is left alone.
   */
  addRunFacts(runId: string, facts: RunLateFacts): void;
  /** Run ends waiting for a write. */
  pendingVerdicts(): number;
  /** Run starts (rows) waiting for a write: runs that began while the disk refused writes. */
  pendingRuns(): number;
  /** Samples waiting for a write (bounded by the queue's cap). */
  queuedSamples(): number;
  getRun(runId: string): Run | undefined;
  /** Stable order: startedWallMs descending, then id. */
  listRuns(filter: RunFilter, limit: number, cursor?: string): RunPage;
  /** A page of the filtered runs in any list order (run-order.ts), from an offset; `more`: runs follow it. */
  listRunsSorted(q: SortedPageQuery): { runs: Run[]; more: boolean };
  /** How many runs match the filter. */
  countRuns(filter: RunFilter): number;
  /**
   * A count that moves whenever a run is created or deleted, finishes, or is written to after its end
   * (not on a running run's partial summary): what a reader derived from the runs holds until it moves.
   */
  runsChanges(): number;
  /** Every matching run's identity, status and scoring figures, newest first (a ranking reads only these). */
  scoringRuns(filter: RunFilter): ScoringRun[];
  /** The committed samples of a run (a running run's newest ones are its RunManager's to tell). */
  getRunSamples(runId: string): RunSample[];
  /** How many of a run's samples are committed (the ordinal its next chunk starts at). */
  committedSampleCount(runId: string): number;
  /** Streams samples without building the whole array (CSV/JSON export of long traces). */
  iterateRunSamples(runId: string): IterableIterator<RunSample>;
  getNodeSamples(fromWallMs: number, toWallMs: number): NodeSample[];
  /** Runs left 'running' (a crash, or this agent restarting). */
  runningRuns(): Run[];
  /** The process that created a run (sources/writer.ts); null for rows older than schema 5. */
  runWriter(runId: string): string | null;
  /** Records an agent's start on a node (lives.ts); null when it cannot be written (then it widens the life before). */
  beginAgentLife(node: string, startedWallMs: number): number | null;
  /** Records a clean stop; skipped while a run's row still waits (the next agent then looks in Docker). */
  endAgentLife(lifeId: number, stoppedWallMs: number): void;
  /** Agent lives on a node that started at or after sinceWallMs, oldest first. */
  agentLives(node: string, sinceWallMs: number): AgentLife[];
  /** Whether a run of this container started at or after sinceWallMs (stored, or waiting to be). */
  hasContainerRunSince(containerId: string, sinceWallMs: number, exceptRunId?: string): boolean;
  /** A run's stored official figures under a profile (profileKeyOf) and the stamp they were computed from. */
  storedOfficialFigures(runId: string, profileKey: string): { stamp: string; figures: OfficialFigures } | undefined;
  /** Queues final official figures to be stored with their runs (best effort; a read-only store ignores them). */
  saveOfficialFigures(rows: readonly StoredOfficial[]): void;
  /** The newest committed host sample's wall time (ms), null when none: what is final is decided against it. */
  nodeSamplesUntilWallMs(): number | null;
  /** Writes every queued sample now (throws when the write fails; what failed stays queued). */
  flush(): void;
  /** Deletes runs (and their samples) older than maxAgeDays, then oldest first until under maxBytes. */
  applyRetention(opts: { maxAgeDays?: number; maxBytes?: number }): { deletedRuns: number };
  /** Runs that retention on another connection deleted (`rid`: their row id): later writes for them are refused. */
  forgetDeletedRuns(deleted: readonly { id: string; rid: number }[]): void;
  close(): void;
}
