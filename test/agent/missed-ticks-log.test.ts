// Missed ticks in the log (src/agent/missed-ticks-log.ts): said when they happen, one line per 10 s at
// most, each line counting every tick missed since the one before; a real stalled loop is reported.
import { describe, expect, it } from 'vitest';
import { MissedTicksLog } from '../../src/agent/missed-ticks-log.js';
import { Ticker } from '../../src/clock/ticker.js';
import { sleep } from '../helpers.js';

function capture(): { lines: Array<Record<string, unknown>>; log: ConstructorParameters<typeof MissedTicksLog>[0] } {
  const lines: Array<Record<string, unknown>> = [];
  const warn = (msg: string, f?: Record<string, unknown>) => lines.push({ msg, ...f });
  return { lines, log: { debug() {}, info() {}, warn, error() {} } };
}

describe('missed ticks are logged when they happen', () => {
  it('one line at the first miss, the rest of 10 s folded into the next line', () => {
    const { lines, log } = capture();
    let now = 1_000_000;
    const m = new MissedTicksLog(log, 100, () => now);
    m.tick(0.001, 0); // on time: nothing
    expect(lines).toEqual([]);
    m.tick(0.02, 3); // a 320-ms stall
    expect(lines).toEqual([{ msg: 'sampler missed ticks', missedTicks: 3, stalledMs: 320 }]);
    now += 4000;
    m.tick(0.01, 1);
    now += 5000;
    m.tick(0.005, 2);
    expect(lines).toHaveLength(1);
    now += 1000; // 10 s after the first line
    m.tick(0, 1);
    expect(lines[1]).toEqual({ msg: 'sampler missed ticks', missedTicks: 4, stalledMs: 100 });
  });

  it('a real ticker whose loop is blocked for 350 ms: one line with at least 3 missed ticks', async () => {
    const { lines, log } = capture();
    const m = new MissedTicksLog(log, 50);
    let blocked = false;
    const ticker = new Ticker(50, (tick) => {
      m.tick(tick.lagNs / 1e9, tick.missed);
      if (!blocked) {
        blocked = true;
        const until = Date.now() + 350;
        while (Date.now() < until) {
          /* the loop is stalled, as by a synchronous read */
        }
      }
    });
    ticker.start();
    await sleep(700); // the stall, then the late tick that reports it
    ticker.stop();
    expect(lines).toHaveLength(1);
    expect(lines[0].missedTicks as number).toBeGreaterThanOrEqual(3);
    expect(lines[0].stalledMs as number).toBeGreaterThanOrEqual(300);
  });
});
