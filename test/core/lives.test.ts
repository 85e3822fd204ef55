// The spans some agent watched, from the lives the database recorded.
import { describe, expect, it } from 'vitest';
import { inWindows, RESTART_GAP_MS, watchedWindows } from '../../src/core/lives.js';

/** An hour: lives this far apart are separate (longer than a restart's gap). */
const H = 3600_000;

describe('watched windows', () => {
  it('a clean stop ends its life (a long pause); a crash lasts until the next start; this life has no end', () => {
    const w = watchedWindows(
      [
        { startedWallMs: 1 * H, stoppedWallMs: 2 * H }, // clean stop, then an hour without an agent
        { startedWallMs: 3 * H, stoppedWallMs: null }, // crashed: until the next start
        { startedWallMs: 5 * H, stoppedWallMs: 6 * H },
      ],
      10 * H,
    );
    expect(w).toEqual([
      { fromWallMs: 1 * H, toWallMs: 2 * H },
      { fromWallMs: 3 * H, toWallMs: 6 * H },
      { fromWallMs: 10 * H, toWallMs: Infinity },
    ]);
    expect(inWindows(w, 1.5 * H)).toBe(true);
    expect(inWindows(w, 2.5 * H)).toBe(false); // no agent ran: nothing to recover from it
    expect(inWindows(w, 4.5 * H)).toBe(true);
    expect(inWindows(w, 8 * H)).toBe(false);
    expect(inWindows(w, 50 * H)).toBe(true);
  });

  it('a clean stop followed by a start within the restart gap is one watched span, as after a crash', () => {
    const stop = 2 * H;
    expect(watchedWindows([{ startedWallMs: H, stoppedWallMs: stop }], stop + 1000)).toEqual([{ fromWallMs: H, toWallMs: Infinity }]);
    expect(watchedWindows([{ startedWallMs: H, stoppedWallMs: stop }, { startedWallMs: stop + RESTART_GAP_MS, stoppedWallMs: 3 * H }], 4 * H)).toEqual([
      { fromWallMs: H, toWallMs: 3 * H },
      { fromWallMs: 4 * H, toWallMs: Infinity },
    ]);
    // One millisecond longer: a pause, not a restart.
    expect(watchedWindows([{ startedWallMs: H, stoppedWallMs: stop }], stop + RESTART_GAP_MS + 1)).toHaveLength(2);
  });

  it('an unrecorded life (a full disk at its start) is covered by the crashed one before it', () => {
    // The life before crashed; the one after it could not write its start; this one starts at 900.
    expect(watchedWindows([{ startedWallMs: 100, stoppedWallMs: null }], 900)).toEqual([{ fromWallMs: 100, toWallMs: Infinity }]);
  });

  it('no lives: only this one; lives in any order', () => {
    expect(watchedWindows([], 50)).toEqual([{ fromWallMs: 50, toWallMs: Infinity }]);
    expect(watchedWindows([{ startedWallMs: 30 * H, stoppedWallMs: 40 * H }, { startedWallMs: 10 * H, stoppedWallMs: 20 * H }], 50 * H)).toEqual([
      { fromWallMs: 10 * H, toWallMs: 20 * H },
      { fromWallMs: 30 * H, toWallMs: 40 * H },
      { fromWallMs: 50 * H, toWallMs: Infinity },
    ]);
  });
});
