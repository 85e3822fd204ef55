// A season's run list for the page tests: teams × cases finished runs written through the store's API
// (no samples: the list and the leaderboard read the runs' rows), with figures that vary, ties, a few
// unknown ones, and failures and timeouts among them.
import type { Run, RunStatus } from '../../src/core/types.js';
import { openStore } from '../../src/store/index.js';
import { run, summary, T0 } from '../http/helpers.js';

export const SEASON_TEAMS = 50;

export function writeSeason(path: string, runs: number): void {
  const store = openStore(path);
  try {
    for (let i = 0; i < runs; i++) {
      const team = `team-${String((i % SEASON_TEAMS) + 1).padStart(2, '0')}`;
      const kase = `FLARETs_${String(Math.floor(i / SEASON_TEAMS) + 1).padStart(4, '0')}`;
      const status: RunStatus = i % 37 === 5 ? 'timeout' : i % 53 === 7 ? 'failed' : 'completed';
      const wallSeconds = 8 + ((i * 7919) % 2900) / 10;
      const s = summary({
        status,
        wallSeconds,
        maxGpuMiB: i % 41 === 3 ? null : 1500 + ((i * 104_729) % 7000),
        aucRamMiBs: 1000 * wallSeconds,
        scoring: { timeSeconds: wallSeconds, aucGpuMiBs: ((i * 15_485_863) % 2_000_000) + 5000, aucCpuPctS: (i % 97) * 40 + 300, penalised: status === 'timeout' },
      });
      const startedWallMs = T0 + i * 15_000;
      const startedMonoNs = 1e12 + i * 15e9;
      const r: Run = run(`s${String(i).padStart(6, '0')}`, {
        team, case: kase, containerName: `${team}-${kase}`, status, summary: s,
        startedWallMs, startedMonoNs, endedWallMs: startedWallMs + wallSeconds * 1000, endedMonoNs: startedMonoNs + wallSeconds * 1e9,
      });
      store.createRun({ ...r, status: 'running', endedWallMs: null, endedMonoNs: null, summary: null });
      store.finishRun(r.id, { status, endedWallMs: r.endedWallMs, endedMonoNs: r.endedMonoNs, summary: s });
    }
  } finally {
    store.close();
  }
}
