// Pulls runs and their samples from agents into one store, idempotently: finished runs already
// present are skipped; runs stored as running get the samples they lack and their end once known.
import type { Run } from '../core/types.js';
import type { Store } from '../store/index.js';
import type { AgentClient } from './client.js';

export interface CollectReport {
  agent: string;
  runsNew: number;
  runsRefreshed: number;
  runsSkipped: number;
  samplesAdded: number;
}

export async function collectFrom(store: Store, client: AgentClient): Promise<CollectReport> {
  const report: CollectReport = { agent: client.base, runsNew: 0, runsRefreshed: 0, runsSkipped: 0, samplesAdded: 0 };
  // Oldest first, so a continued run (previousRunId) lands after the run it continues.
  const remote = (await client.runs()).sort((a, b) => a.startedWallMs - b.startedWallMs);
  for (const run of remote) {
    const local = store.getRun(run.id);
    if (local && local.status !== 'running') {
      report.runsSkipped++;
      continue;
    }
    const samples = await client.samples(run.id);
    let lastMonoNs = -Infinity;
    if (local) {
      for (const s of store.iterateRunSamples(run.id)) lastMonoNs = Math.max(lastMonoNs, s.monoNs);
      report.runsRefreshed++;
    } else {
      store.createRun(asRunning(run));
      report.runsNew++;
    }
    for (const s of samples) {
      if (s.monoNs > lastMonoNs) {
        store.appendRunSample(run.id, s);
        report.samplesAdded++;
      }
    }
    store.flush();
    if (run.status !== 'running' && run.summary) {
      store.finishRun(run.id, { status: run.status, endedWallMs: run.endedWallMs, endedMonoNs: run.endedMonoNs, summary: run.summary });
    } else if (run.summary) {
      store.updateRunningSummary(run.id, run.summary);
    }
  }
  store.flush();
  return report;
}

/** A run is created as running and then finished, as the agent itself does. */
function asRunning(run: Run): Run {
  return { ...run, status: 'running', endedWallMs: null, endedMonoNs: null, summary: null };
}
