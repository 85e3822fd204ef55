// The watcher's stream keeper (src/runtime/reconnect.ts), the same for every runtime: backoff that
// doubles to its bound and resets after a good connect, a stream that fails before it is handed over,
// a listing that fails, and stop.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Reconnector, type StreamLink } from '../../src/runtime/reconnect.js';

interface Script {
  /** Per open call: 'reject', 'ok', or 'fail-during-open' (the stream reports down before open resolves). */
  opens: Array<'reject' | 'ok' | 'fail-during-open'>;
  listFails?: number;
}

function fakeLink(script: Script) {
  const log: string[] = [];
  const openAt: number[] = [];
  let streamDown: ((reason: string) => void) | null = null;
  let cancels = 0;
  let listFails = script.listFails ?? 0;
  const link: StreamLink = {
    async open(onDown) {
      openAt.push(Date.now());
      const what = script.opens.shift() ?? 'ok';
      if (what === 'reject') throw new Error('ECONNREFUSED');
      streamDown = onDown;
      if (what === 'fail-during-open') onDown('stream reset');
      return () => {
        cancels++;
      };
    },
    async onConnected() {
      if (listFails-- > 0) throw new Error('list timed out');
      log.push('connected');
    },
    onDown(reason) {
      log.push(`down: ${reason}`);
    },
  };
  return { link, log, openAt, down: (r: string) => streamDown?.(r), cancels: () => cancels };
}

describe('Reconnector', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('retries an unreachable runtime with a backoff that doubles to its bound, then resets after a good connect', async () => {
    const f = fakeLink({ opens: ['reject', 'reject', 'reject', 'reject', 'ok'] });
    const r = new Reconnector('docker', f.link, { initialMs: 100, maxMs: 400 });
    const t0 = Date.now();
    r.start();
    await vi.advanceTimersByTimeAsync(100 + 200 + 400 + 400);
    expect(f.openAt.map((t) => t - t0)).toEqual([0, 100, 300, 700, 1100]);
    expect(f.log).toEqual([...Array(4).fill('down: cannot reach docker: ECONNREFUSED'), 'connected']);
    // Connected: the next failure waits the initial delay again.
    f.down('Docker events stream ended');
    expect(f.cancels()).toBe(1);
    await vi.advanceTimersByTimeAsync(99);
    expect(f.openAt).toHaveLength(5);
    await vi.advanceTimersByTimeAsync(1);
    expect(f.openAt).toHaveLength(6);
    expect(f.log.slice(-2)).toEqual(['down: Docker events stream ended', 'connected']);
    r.stop();
    expect(f.cancels()).toBe(2);
  });

  it('a stream that fails before it is handed over is cancelled and not listed; one retry, not two', async () => {
    const f = fakeLink({ opens: ['fail-during-open', 'ok'] });
    const r = new Reconnector('containerd', f.link, { initialMs: 50, maxMs: 50 });
    r.start();
    await vi.advanceTimersByTimeAsync(0);
    expect(f.log).toEqual(['down: stream reset']);
    expect(f.cancels()).toBe(1);
    await vi.advanceTimersByTimeAsync(50);
    expect(f.openAt).toHaveLength(2);
    expect(f.log).toEqual(['down: stream reset', 'connected']);
    r.stop();
  });

  it('a failed listing drops the stream and retries; stop ends the retries', async () => {
    const f = fakeLink({ opens: ['ok', 'ok', 'ok'], listFails: 1 });
    const r = new Reconnector('docker', f.link, { initialMs: 50, maxMs: 50 });
    r.start();
    await vi.advanceTimersByTimeAsync(0);
    expect(f.log).toEqual(['down: listing containers failed: list timed out']);
    expect(f.cancels()).toBe(1);
    await vi.advanceTimersByTimeAsync(50);
    expect(f.log.at(-1)).toBe('connected');
    f.down('gone');
    r.stop();
    await vi.advanceTimersByTimeAsync(500);
    expect(f.openAt).toHaveLength(2);
  });
});
