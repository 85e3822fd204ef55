// The owner posts the HTTP thread a snapshot of its live state when a reader asks for one, not after
// every tick (src/daemon/http-bridge.ts, src/http/live-cache.ts): nobody reading costs the sampler
// nothing, and a reader still gets state at most 100 ms old.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { join } from 'node:path';
import { startAgent, type RunningAgent } from '../../src/daemon/agent.js';
import { DEFAULTS } from '../../src/agent/config.js';
import { silentLogger } from '../../src/log.js';
import { FRESH_MS, FRESH_WAIT_MS, LiveCache, type Snapshot } from '../../src/http/live-cache.js';
import { tempDir } from '../helpers.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function snap(ticks: number): Snapshot {
  return { runs: [], node: null, devices: [], events: [], health: { ticks: { count: ticks, missed: 0 } } as unknown as Snapshot['health'] };
}

describe('the live cache asks its owner only when a reader needs fresher state', () => {
  it('serves a young snapshot as it is, asks once for many waiting readers, and serves what it has when no answer comes', async () => {
    let asked = 0;
    const cache = new LiveCache(snap(0), () => asked++);
    await cache.fresh();
    expect(asked).toBe(0); // just made: fresh
    await sleep(FRESH_MS + 10);
    const readers = [cache.fresh(), cache.fresh(), cache.fresh()];
    expect(asked).toBe(1); // one question for three readers
    cache.update(snap(5));
    await Promise.all(readers);
    expect(cache.health().ticks.count).toBe(5);
    await sleep(FRESH_MS + 10);
    const t0 = performance.now();
    await cache.fresh(); // the owner never answers: served after the bounded wait
    expect(performance.now() - t0).toBeGreaterThanOrEqual(FRESH_WAIT_MS - 5);
    expect(asked).toBe(2);
    await cache.fresh(); // asks again, rather than waiting on a question left unanswered
    expect(asked).toBe(3);
  });
});

describe('an agent with nobody reading', () => {
  let agent: RunningAgent | null = null;
  afterEach(async () => {
    await agent?.stop();
    agent = null;
  });

  it('builds no snapshot per tick; a request gets one as fresh as the ticks', async () => {
    agent = await startAgent({ ...DEFAULTS, db: join(tempDir(), 'agent.db'), listen: '127.0.0.1:0', gpuSource: 'none', intervalMs: 50 }, silentLogger);
    const built = vi.spyOn(agent.live, 'health');
    await sleep(1000); // 20 ticks
    expect(built.mock.calls.length).toBe(0);
    const base = `http://127.0.0.1:${agent.port}`;
    const text = await (await fetch(`${base}/metrics`)).text();
    expect(built.mock.calls.length).toBe(1);
    const ticksServed = Number(/^flare_agent_ticks_total (\d+)/m.exec(text)?.[1]);
    const ticksNow = agent.stack.sampler.ticks.ticks;
    expect(ticksServed).toBeGreaterThanOrEqual(ticksNow - 1); // every tick's event came with the snapshot
    expect(ticksServed).toBeLessThanOrEqual(ticksNow);
    // Requests within the freshness window share that snapshot.
    await Promise.all([fetch(`${base}/healthz`), fetch(`${base}/api/v1/live`)]);
    expect(built.mock.calls.length).toBeLessThanOrEqual(2);
    const health = (await (await fetch(`${base}/healthz`)).json()) as { ticks: { count: number } };
    expect(health.ticks.count).toBeGreaterThanOrEqual(agent.stack.sampler.ticks.ticks - 2);
  });
});
