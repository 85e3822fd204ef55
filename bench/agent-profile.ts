// Where the agent's time goes: the built agent under `node --cpu-prof` (one profile per thread: the
// sampler's main thread, the HTTP thread, the summary and retention threads) for a run of N sleeping
// containers at 10 Hz, then each profile's self time by part (bench/cpu-profile.ts) and the inclusive
// time of the tick and of what runs beside it, both over the steady state (from `warm` seconds after
// the start: start-up is reported on its own). Usage: node dist/bench/agent-profile.js [seconds] [targets] [warm]
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stopChild } from './agent-child.js';
import { portOf, spawnAgent, waitForRuns, withSleepingContainers } from './agent-process.js';
import { inclusiveTime, readCpuProfile, selfTimeByPart } from './cpu-profile.js';

const seconds = Number(process.argv[2] ?? 60);
const targets = Number(process.argv[3] ?? 10);
const warmSeconds = Number(process.argv[4] ?? 20);
const sleepMs = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Functions whose whole subtree is worth a line: what a tick does, and what runs on its own timers. */
const INCLUSIVE: Record<string, (f: { functionName: string; url: string }) => boolean> = {
  'tick (Sampler.onTick)': (f) => f.functionName === 'onTick' && f.url.endsWith('agent/sampler.js'),
  'host /proc read': (f) => f.functionName === 'read' && f.url.endsWith('sources/host.js'),
  'runs sampled (sampleAll)': (f) => f.functionName === 'sampleAll',
  'snapshot posted (publish)': (f) => f.functionName === 'publish' && f.url.endsWith('daemon/http-bridge.js'),
  'live snapshot built (snapshot)': (f) => f.functionName === 'snapshot' && f.url.endsWith('daemon/http-bridge.js'),
  'store flush': (f) => f.functionName === 'flush' && f.url.endsWith('store/queue.js'),
  'store compaction': (f) => f.functionName === 'compactDue' && f.url.endsWith('store/compaction.js'),
  'partial summaries': (f) => f.functionName === 'refreshOnePartialSummary',
  'HTTP thread: snapshot applied': (f) => f.url.endsWith('http/live-cache.js') || f.url.endsWith('http/metrics-live.js'),
};

const dir = mkdtempSync(join(tmpdir(), 'flare-profile-'));
// FLARE_PROFILE_DIR keeps the .cpuprofile files there (for Chrome DevTools or speedscope).
const profDir = process.env.FLARE_PROFILE_DIR ?? join(dir, 'prof');
try {
  await withSleepingContainers(targets, async (select) => {
    const { child, output } = spawnAgent(dir, select, 100, ['--cpu-prof', '--cpu-prof-dir', profDir]);
    try {
      await sleepMs(3000);
      await waitForRuns(portOf(output()), targets);
      await sleepMs((warmSeconds - 3 + seconds) * 1000);
    } finally {
      await stopChild(child);
    }
  });
  const profiles = readdirSync(profDir)
    .filter((f) => f.endsWith('.cpuprofile'))
    .sort()
    // CPU.<date>.<time>.<pid>.<thread id>.<seq>.cpuprofile: thread 0 is the main thread.
    .map((f) => ({ threadId: Number(f.split('.')[4]), profile: readCpuProfile(join(profDir, f)) }));
  const main = profiles.find((p) => p.threadId === 0);
  if (!main) throw new Error('no profile of the main thread');
  const steadyFromUs = main.profile.startTime + warmSeconds * 1e6;
  const threads = profiles.map(({ threadId, profile }) => {
    const inclusive: Record<string, number> = {};
    for (const [name, match] of Object.entries(INCLUSIVE)) {
      const ms = inclusiveTime(profile, match, steadyFromUs);
      if (ms > 0) inclusive[name] = ms;
    }
    const startUp = selfTimeByPart(profile).totalMs - selfTimeByPart(profile, steadyFromUs).totalMs;
    return { threadId, startUpMs: Math.round(startUp * 10) / 10, steady: selfTimeByPart(profile, steadyFromUs), inclusive };
  });
  const steadyMs = threads.reduce((s, t) => s + t.steady.totalMs, 0);
  const wallMs = threads.find((t) => t.threadId === 0)!.steady.wallMs;
  process.stdout.write(JSON.stringify({ seconds, targets, warmSeconds, steadyCpuPctOfOneCore: Math.round((10000 * steadyMs) / wallMs) / 100, threads }, null, 2) + '\n');
} finally {
  rmSync(dir, { recursive: true, force: true });
}
