// The spans some agent watched, from the lives the database recorded.
import { describe, expect, it } from 'vitest';
import { inWindows, watchedWindows } from '../../src/core/lives.js';

describe('watched windows', () => {
  it('a clean stop ends its life; a crash lasts until the next start; this life has no end', () => {
    const w = watchedWindows(
      [
        { startedWallMs: 100, stoppedWallMs: 200 }, // clean stop
        { startedWallMs: 300, stoppedWallMs: null }, // crashed: until the next start
        { startedWallMs: 500, stoppedWallMs: 600 },
      ],
      1000,
    );
    expect(w).toEqual([
      { fromWallMs: 100, toWallMs: 200 },
      { fromWallMs: 300, toWallMs: 600 },
      { fromWallMs: 1000, toWallMs: Infinity },
    ]);
    expect(inWindows(w, 150)).toBe(true);
    expect(inWindows(w, 250)).toBe(false); // no agent ran: nothing to recover from it
    expect(inWindows(w, 450)).toBe(true);
    expect(inWindows(w, 800)).toBe(false);
    expect(inWindows(w, 5000)).toBe(true);
  });

  it('an unrecorded life (a full disk at its start) is covered by the crashed one before it', () => {
    // The life before crashed; the one after it could not write its start; this one starts at 900.
    expect(watchedWindows([{ startedWallMs: 100, stoppedWallMs: null }], 900)).toEqual([{ fromWallMs: 100, toWallMs: Infinity }]);
  });

  it('no lives: only this one; lives in any order', () => {
    expect(watchedWindows([], 50)).toEqual([{ fromWallMs: 50, toWallMs: Infinity }]);
    expect(watchedWindows([{ startedWallMs: 30, stoppedWallMs: 40 }, { startedWallMs: 10, stoppedWallMs: 20 }], 50)).toEqual([
      { fromWallMs: 10, toWallMs: 20 },
      { fromWallMs: 30, toWallMs: 40 },
      { fromWallMs: 50, toWallMs: Infinity },
    ]);
  });
});
