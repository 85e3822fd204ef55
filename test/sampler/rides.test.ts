// Periodic work riding the tick's wake-up (src/clock/rides.ts): on the ticks while the ticker runs, on
// timers of its own otherwise; and the store's background flush scheduled through it.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { TickRides } from '../../src/clock/rides.js';
import { Ticker } from '../../src/clock/ticker.js';
import { openStore } from '../../src/store/index.js';
import { makeRun, tempDbPath } from '../store/fixtures.js';
import { sleep } from '../helpers.js';

afterEach(() => vi.restoreAllMocks());

describe('tick rides', () => {
  it('runs a job on a timer of its own while no ticker runs, and cancels it', async () => {
    const rides = new TickRides();
    let runs = 0;
    const cancel = rides.every(20, () => runs++);
    await sleep(130);
    expect(runs).toBeGreaterThanOrEqual(4);
    expect(runs).toBeLessThanOrEqual(7);
    cancel();
    const atCancel = runs;
    await sleep(80);
    expect(runs).toBe(atCancel);
  });

  it('while the ticker runs, a job runs right after a tick, about once a period, with no timer of its own', async () => {
    const rides = new TickRides();
    const order: string[] = [];
    const ticker = new Ticker(10, () => order.push('tick'), rides);
    const every = vi.spyOn(globalThis, 'setInterval');
    ticker.start();
    expect(rides.onTicks).toBe(true);
    const cancel = rides.every(50, () => order.push('job'));
    // Something else on the loop between the ticks: a job on a timer of its own would follow it.
    const other = setInterval(() => order.push('other'), 3);
    await sleep(520);
    expect(every.mock.calls.filter(([, ms]) => ms === 50)).toHaveLength(0);
    ticker.stop();
    clearInterval(other);
    cancel();
    const jobs = order.flatMap((e, i) => (e === 'job' ? [i] : []));
    expect(jobs.length).toBeGreaterThanOrEqual(8);
    expect(jobs.length).toBeLessThanOrEqual(11);
    for (const i of jobs) expect(order[i - 1]).toBe('tick');
    // Never twice in one period: at least four ticks between two runs of a 50-ms job on 10-ms ticks.
    for (let k = 1; k < jobs.length; k++) expect(order.slice(jobs[k - 1], jobs[k]).filter((e) => e === 'tick').length).toBeGreaterThanOrEqual(4);
  });

  it('goes back to its own timer when the ticker stops, and back onto the ticks when it starts again', async () => {
    const rides = new TickRides();
    let runs = 0;
    rides.every(20, () => runs++);
    const ticker = new Ticker(10, () => {}, rides);
    ticker.start();
    await sleep(100);
    ticker.stop();
    expect(rides.onTicks).toBe(false);
    const atStop = runs;
    await sleep(110);
    expect(runs - atStop).toBeGreaterThanOrEqual(3); // its own timer again
    ticker.start();
    expect(rides.onTicks).toBe(true);
    const atStart = runs;
    await sleep(110);
    ticker.stop();
    expect(runs - atStart).toBeGreaterThanOrEqual(3);
  });

  it("a job that throws leaves the ticker's schedule and the other jobs' runs intact, and is reported", async () => {
    const thrown: unknown[] = [];
    const rides = new TickRides((err) => thrown.push(err));
    let ticks = 0;
    let second = 0;
    const ticker = new Ticker(10, () => ticks++, rides);
    ticker.start();
    const cancelFailing = rides.every(30, () => {
      throw new Error('job failed');
    });
    const cancelSecond = rides.every(30, () => second++);
    await sleep(200);
    cancelFailing();
    cancelSecond();
    ticker.stop();
    expect(thrown.length).toBeGreaterThanOrEqual(2);
    expect((thrown[0] as Error).message).toBe('job failed');
    expect(ticks).toBeGreaterThanOrEqual(15);
    expect(second).toBe(thrown.length);
  });

  it('by default, an exception of a job on the ticks leaves the tick as it left its own timer', () => {
    const rides = new TickRides();
    rides.ride(true);
    const cancel = rides.every(0, () => {
      throw new Error('job failed');
    });
    expect(() => rides.afterTick()).toThrow('job failed');
    cancel();
  });
});

describe("the store's background flush", () => {
  it('is scheduled through the given `every`, not on a timer of its own', () => {
    const scheduled: { everyMs: number; fn: () => void; cancelled: boolean }[] = [];
    const every = vi.spyOn(globalThis, 'setInterval');
    const store = openStore(tempDbPath(), {
      flushIntervalMs: 250,
      every: (everyMs, fn) => {
        const job = { everyMs, fn, cancelled: false };
        scheduled.push(job);
        return () => void (job.cancelled = true);
      },
    });
    try {
      expect(every).not.toHaveBeenCalled();
      expect(scheduled.map((j) => j.everyMs)).toEqual([250]);
      const run = makeRun('r1');
      store.createRun(run);
      store.appendRunSample(run.id, { monoNs: run.startedMonoNs + 1e8, wallMs: run.startedWallMs + 100, cpuSeconds: 0.1, ramMiB: 10, gpuMiB: null, gpuDeviceMiB: null });
      expect(store.queuedSamples()).toBe(1);
      scheduled[0].fn();
      expect(store.queuedSamples()).toBe(0);
      expect(store.getRunSamples(run.id)).toHaveLength(1);
    } finally {
      store.close();
    }
    expect(scheduled[0].cancelled).toBe(true);
  });
});
