// An exception inside a tick (or any guarded callback) is logged and counted; the ticks go on.
import { describe, expect, it } from 'vitest';
import { ErrorCounter, guarded } from '../../src/agent/errors.js';
import { Ticker } from '../../src/clock/ticker.js';
import { sleep } from '../helpers.js';

describe('errors after start are counted, never fatal', () => {
  it('a tick that throws every time: each one logged and counted, the ticker keeps its schedule', async () => {
    const lines: string[] = [];
    const log = { debug() {}, info() {}, warn() {}, error: (msg: string, f?: Record<string, unknown>) => lines.push(JSON.stringify({ msg, ...f })) };
    const errors = new ErrorCounter(log);
    let calls = 0;
    const ticker = new Ticker(10, guarded(errors, 'tick', () => {
      calls++;
      throw new Error('boom in a tick');
    }));
    ticker.start();
    await sleep(150);
    ticker.stop();
    expect(calls).toBeGreaterThanOrEqual(5);
    expect(errors.snapshot().tick).toBe(calls);
    expect(errors.snapshot().docker).toBe(0);
    expect(lines[0]).toContain('"where":"tick"');
    expect(lines[0]).toContain('boom in a tick');
    expect(lines[0]).toContain('"stack":"Error: boom in a tick');
  });

  it('without a counter (profile, tests) the error is thrown as before', () => {
    expect(() => guarded(null, 'tick', () => {
      throw new Error('thrown');
    })()).toThrow('thrown');
  });
});
