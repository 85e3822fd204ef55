// Where a case's measurement comes from: an embedded agent (the real sampler and Docker attachment,
// in this process, over a database in the output folder) or the node's agent (--agent <url>), which
// attached to the container itself. Either way the run is found by its container id.
import { join } from 'node:path';
import { startAgent, type RunningAgent } from '../daemon/agent.js';
import { DEFAULTS, type AgentConfig } from '../agent/config.js';
import type { Run, RunSample } from '../core/types.js';
import { dockerAttachment } from '../runtime/docker/adapter.js';
import { AgentClient } from '../http/client.js';
import { runFromJson } from '../http/run-json.js';
import type { Logger } from '../log.js';
import { officialCsvOfRuns, type HarnessSpan, type TraceSource } from '../official/runs.js';
import { BUILTIN_PROFILES, type ChallengeProfile } from '../scoring/challenge-profile.js';

/** No traces: the header-only CSV of an evaluation that measured nothing. */
const agent0: TraceSource = { getRunSamples: () => [], getNodeSamples: () => [] };

export interface MeasuredRun {
  run: Run;
  samples: RunSample[];
}

export interface Measurer {
  /** Where people can watch (the embedded agent's page), or the agent's URL. */
  readonly url: string;
  /** The finished run of this container; waits for the agent to close it. */
  finishedRun(containerId: string, sinceWallMs: number, timeoutMs?: number): Promise<MeasuredRun>;
  /**
   * <team>_Efficiency.csv under a profile. Embedded: from the traces, with the harness's own spans.
   * Agent: the agent's official CSV for this team since the evaluation began (Docker-modelled spans).
   */
  officialCsv(runs: Run[], profile: ChallengeProfile, profileArg: string, harness: ReadonlyMap<string, HarnessSpan>, sinceWallMs: number): Promise<string>;
  /** A run measured earlier (for --resume). */
  runById(runId: string): Promise<MeasuredRun | null>;
  close(): Promise<void>;
}

const POLL_MS = 100;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function pollFinished(find: () => Promise<Run | undefined>, containerId: string, timeoutMs: number): Promise<Run> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const run = await find();
    if (run && run.status !== 'running' && run.summary) return run;
    if (Date.now() > deadline) throw new Error(`no finished run for container ${containerId.slice(0, 12)} after ${timeoutMs / 1000} s${run ? ` (status ${run.status})` : ' (never attached)'}`);
    await sleep(POLL_MS);
  }
}

export interface EmbeddedSettings {
  outDir: string;
  gpuSource: AgentConfig['gpuSource'];
  intervalMs: number;
  nvmlLib?: string;
}

export async function embeddedMeasurer(s: EmbeddedSettings, log: Logger): Promise<Measurer> {
  // The harness kills at the limit itself; the agent only measures (and marks) what it sees.
  const config: AgentConfig = { ...DEFAULTS, db: join(s.outDir, 'flare-agent.db'), listen: '127.0.0.1:0', select: 'label:flare.team', gpuSource: s.gpuSource, nvmlLib: s.nvmlLib ?? DEFAULTS.nvmlLib, intervalMs: s.intervalMs, enforceTimeLimit: false };
  const agent: RunningAgent = await startAgent(config, log, [(ctx) => dockerAttachment(ctx)]);
  // Labels are cleaned by the watcher, so the run is found by container id among the recent runs.
  const byContainer = async (containerId: string, sinceWallMs: number): Promise<Run | undefined> =>
    agent.store.listRuns({ sinceWallMs }, 1000).runs.find((r) => r.containerId === containerId);
  return {
    url: `http://127.0.0.1:${agent.port}/`,
    async finishedRun(containerId, sinceWallMs, timeoutMs = 30_000) {
      const run = await pollFinished(() => byContainer(containerId, sinceWallMs), containerId, timeoutMs);
      return { run, samples: agent.store.getRunSamples(run.id) };
    },
    async officialCsv(runs, profile, _arg, harness) {
      return officialCsvOfRuns(runs, agent.store, profile, false, harness);
    },
    async runById(runId) {
      const run = agent.store.getRun(runId);
      return run ? { run, samples: agent.store.getRunSamples(runId) } : null;
    },
    close: () => agent.stop(),
  };
}

export function agentMeasurer(url: string, token: string | null): Measurer {
  const client = new AgentClient(url, token ?? undefined);
  return {
    url: client.base,
    async finishedRun(containerId, sinceWallMs, timeoutMs = 60_000) {
      const run = await pollFinished(async () => (await client.runs({ sinceWallMs })).find((r) => r.containerId === containerId), containerId, timeoutMs);
      return { run, samples: await client.samples(run.id) };
    },
    async officialCsv(runs, profile, profileArg, _harness, sinceWallMs) {
      if (!(BUILTIN_PROFILES as readonly string[]).includes(profileArg)) throw new Error('--profile: with --agent, a shipped profile by name only');
      const team = runs[0]?.team;
      if (team === undefined) return officialCsvOfRuns([], agent0, profile, false);
      return client.officialCsv({ team: [team], sinceWallMs }, profile.name);
    },
    async runById(runId) {
      try {
        const run = runFromJson(await client.getJson(`/api/v1/runs/${encodeURIComponent(runId)}`));
        return { run, samples: await client.samples(runId) };
      } catch {
        return null;
      }
    },
    async close() {},
  };
}
