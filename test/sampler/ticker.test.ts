import { describe, expect, it } from 'vitest';
import { monoNowNs, Ticker, type Tick } from '../../src/clock/ticker.js';
import { sleep } from '../helpers.js';

describe('ticker', () => {
  it('does not drift: tick count = elapsed / interval ± 1, each tick on its due time', async () => {
    const ticks: Tick[] = [];
    const t = new Ticker(10, (tick) => {
      ticks.push(tick);
      // Work inside the tick must not push later ticks back (the official loop's drift).
      const until = monoNowNs() + 2e6;
      while (monoNowNs() < until);
    });
    const start = monoNowNs();
    t.start();
    await sleep(3000);
    t.stop();
    const elapsedMs = (ticks.at(-1)!.monoNs - start) / 1e6;
    const served = ticks.length + t.missed;
    expect(Math.abs(served - (Math.floor(elapsedMs / 10) + 1))).toBeLessThanOrEqual(1);
    // Due times are exact multiples of the interval from the start: no accumulated offset.
    for (let i = 1; i < ticks.length; i++) {
      expect((ticks[i].dueMonoNs - ticks[0].dueMonoNs) / 1e7).toBeCloseTo(ticks[i].index - ticks[0].index, 6);
      expect(ticks[i].monoNs).toBeGreaterThanOrEqual(ticks[i].dueMonoNs);
    }
    expect(t.lag.percentileMs(50)).toBeLessThan(10);
  });

  it('counts skipped ticks when the loop is blocked, and never serves a due time twice', async () => {
    const ticks: Tick[] = [];
    const t = new Ticker(20, (tick) => ticks.push(tick));
    t.start();
    await sleep(100);
    const blockUntil = monoNowNs() + 250e6; // block the event loop for 250 ms ≈ 12 intervals
    while (monoNowNs() < blockUntil);
    await sleep(100);
    t.stop();
    expect(t.missed).toBeGreaterThanOrEqual(10);
    expect(t.missed).toBeLessThanOrEqual(13);
    const indices = ticks.map((x) => x.index);
    expect(new Set(indices).size).toBe(indices.length);
    expect(indices).toEqual([...indices].sort((a, b) => a - b));
    const late = ticks.find((x) => x.missed > 0)!;
    expect(late.missed).toBe(t.missed);
  });
});
