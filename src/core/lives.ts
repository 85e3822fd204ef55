// The spans of wall time in which some agent watched a node, from the lives the database recorded.
// Pure. A life that crashed (or could not record its stop: a full disk) is taken to last until the
// next recorded start, since when it died is not known. A life that stopped cleanly does too when the
// next start follows within RESTART_GAP_MS (a restart, an upgrade: a container that ran in that gap is
// the agent's to record, as after a crash); after a longer pause it ends at its recorded stop (the
// organiser took the agent off the node). The newest life (this one) lasts until now and on.

export interface AgentLife {
  startedWallMs: number;
  /** null: the life crashed, was killed, or could not record its stop. */
  stoppedWallMs: number | null;
}

export interface WallWindow {
  fromWallMs: number;
  /** Exclusive; Infinity for the life still running. */
  toWallMs: number;
}

/** A clean stop followed by a start within this long is a restart: the gap counts as watched. */
export const RESTART_GAP_MS = 10 * 60_000;

/** Lives in any order → merged, sorted windows. `thisLifeStartedWallMs` is the running agent's start. */
export function watchedWindows(lives: readonly AgentLife[], thisLifeStartedWallMs: number): WallWindow[] {
  const sorted = [...lives].sort((a, b) => a.startedWallMs - b.startedWallMs);
  const raw: WallWindow[] = sorted.map((life, i) => {
    const nextStartMs = sorted[i + 1]?.startedWallMs ?? thisLifeStartedWallMs;
    const restarted = life.stoppedWallMs !== null && nextStartMs - life.stoppedWallMs <= RESTART_GAP_MS;
    return { fromWallMs: life.startedWallMs, toWallMs: life.stoppedWallMs === null || restarted ? Math.max(nextStartMs, life.stoppedWallMs ?? 0) : life.stoppedWallMs };
  });
  raw.push({ fromWallMs: thisLifeStartedWallMs, toWallMs: Infinity });
  const merged: WallWindow[] = [];
  for (const w of raw.sort((a, b) => a.fromWallMs - b.fromWallMs)) {
    const last = merged.at(-1);
    if (last && w.fromWallMs <= last.toWallMs) last.toWallMs = Math.max(last.toWallMs, w.toWallMs);
    else merged.push({ ...w });
  }
  return merged;
}

export function inWindows(windows: readonly WallWindow[], wallMs: number): boolean {
  return windows.some((w) => wallMs >= w.fromWallMs && wallMs < w.toWallMs);
}
