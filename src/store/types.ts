// What the rest of the agent needs from storage. SQLite (better-sqlite3) implements it in sqlite.ts.
import type { NodeSample, Run, RunSample, RunStatus, RunSummary } from '../core/types.js';

export interface NodeInventory {
  node: string;
  cpuModel: string;
  cpuCores: number;
  memTotalMiB: number;
  os: string;
  kernel: string;
  gpus: { index: number; uuid: string; name: string; totalMiB: number }[];
  agentVersion: string;
  recordedWallMs: number;
}

export interface RunFilter {
  team?: string;
  case?: string;
  status?: RunStatus;
  node?: string;
  /** Runs started at or after this wall time (ms). */
  sinceWallMs?: number;
  /** Runs started before this wall time (ms). */
  untilWallMs?: number;
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
  finishRun(runId: string, end: RunEnd): void;
  getRun(runId: string): Run | undefined;
  /** Stable order: startedWallMs descending, then id. */
  listRuns(filter: RunFilter, limit: number, cursor?: string): RunPage;
  getRunSamples(runId: string): RunSample[];
  /** Streams samples without building the whole array (CSV/JSON export of long traces). */
  iterateRunSamples(runId: string): IterableIterator<RunSample>;
  getNodeSamples(fromWallMs: number, toWallMs: number): NodeSample[];
  /** Runs left 'running' (a crash, or this agent restarting). */
  runningRuns(): Run[];
  /** Writes every queued sample now. */
  flush(): void;
  /** Deletes runs (and their samples) older than maxAgeDays, then oldest first until under maxBytes. */
  applyRetention(opts: { maxAgeDays?: number; maxBytes?: number }): { deletedRuns: number };
  close(): void;
}
