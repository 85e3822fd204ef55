// The owner's side of the HTTP thread: starts the HTTP server in a worker thread (or, when the agent
// runs from TypeScript sources as in tests, in-process over a MessageChannel: the same messages), posts
// the live snapshot and the metric events after the ticks, and answers "the samples of running run X
// from index N" from the RunManager, which alone holds what is not committed yet.
import type { StoredOfficial } from '../store/index.js';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { MessageChannel, Worker, type MessagePort } from 'node:worker_threads';
import type { Run } from '../core/types.js';
import type { AgentEvent, Snapshot, ToOwner, ToHttpThread } from '../http/live-cache.js';
import type { HttpThreadConfig } from '../http/http-thread.js';
import type { AgentEvents, LiveView, SourceName } from '../agent/types.js';

/**
 * Without a reader asking, a snapshot still goes out this often (ms), so the metric events since the
 * last one reach the HTTP thread's registry in bounded batches. A reader's request gets a fresh one
 * (the HTTP thread asks, http-thread.ts): cloning the live state for a thread nobody reads was most
 * of the agent's cost at 10 Hz (docs/performance.md, "The sampler's own cost").
 */
const HEARTBEAT_MS = 10_000;
/** A snapshot goes out as soon as this many metric events wait (10 Hz ticks: 60 s), whatever the heartbeat. */
const MAX_WAITING_EVENTS = 600;

export interface HttpBridge extends AgentEvents {
  port: number;
  /** Called after each tick (and whenever else): posts a snapshot when one is due, or now with force. */
  publish(force?: boolean): void;
  close(): Promise<void>;
}

export interface BridgeDeps {
  live: LiveView;
  /** A running run's samples from index fromIndex on (null: not running here). */
  samplesFrom(runId: string, fromIndex: number): import('../core/types.js').RunSample[] | null;
  config: Omit<HttpThreadConfig, 'initial'>;
  /** Official figures the HTTP thread found final: stored with their runs by the store's owner. */
  keepOfficial(rows: StoredOfficial[]): void;
}

const WORKER_JS = fileURLToPath(new URL('../http/http-worker.js', import.meta.url));

export async function startHttpBridge(deps: BridgeDeps): Promise<HttpBridge> {
  let events: AgentEvent[] = [];
  let lastPostMs = 0;
  const snapshot = (): Snapshot => {
    const s: Snapshot = { runs: deps.live.liveRuns(), node: deps.live.lastNodeSample(), devices: deps.live.gpuDevices(), health: deps.live.health(), events };
    events = [];
    return s;
  };
  const initial = snapshot();
  const config: HttpThreadConfig = { ...deps.config, initial };
  let port: MessagePort | Worker;
  let worker: Worker | null = null;
  if (existsSync(WORKER_JS)) {
    worker = new Worker(WORKER_JS, { workerData: config, resourceLimits: { maxYoungGenerationSizeMb: 8 } });
    port = worker;
  } else {
    const channel = new MessageChannel();
    port = channel.port1;
    // Loaded only here: express, prom-client and the routes are the HTTP thread's, and importing them at
    // the top cost the sampler's thread ~75 ms of CPU and ~9 MiB at every start, for nothing.
    const { runHttpThread } = await import('../http/http-thread.js');
    // In-process HTTP thread (no worker thread): it lives as long as the agent and reports through the channel.
    void runHttpThread(channel.port2, { ...config, lowerPriority: false });
  }
  const post = (m: ToHttpThread): void => port.postMessage(m);
  const postSnapshot = (): void => {
    lastPostMs = Date.now();
    post({ t: 'snap', snap: snapshot() });
  };
  let onClosed: (() => void) | null = null;
  const listening = new Promise<number>((resolve, reject) => {
    worker?.once('error', reject);
    worker?.once('exit', (code) => reject(new Error(`http worker exited (${code}) before listening`)));
    port.on('message', (m: ToOwner) => {
      if (m.t === 'listening') resolve(m.port);
      else if (m.t === 'listen-error') reject(new Error(m.message));
      else if (m.t === 'snap?') postSnapshot();
      else if (m.t === 'tail?') post({ t: 'tail', id: m.id, samples: deps.samplesFrom(m.runId, m.fromIndex) });
      else if (m.t === 'official') deps.keepOfficial(m.rows);
      else onClosed?.();
    });
  });
  let httpPort: number;
  try {
    httpPort = await listening;
  } catch (err) {
    await worker?.terminate();
    if (!worker) (port as MessagePort).close();
    throw err;
  }
  worker?.removeAllListeners('exit');
  worker?.removeAllListeners('error');
  worker?.on('error', (err) => console.error(JSON.stringify({ level: 'error', msg: 'http worker failed', error: String(err) })));
  if (!worker) (port as MessagePort).unref();
  const push = (e: AgentEvent): void => {
    events.push(e);
  };
  return {
    port: httpPort,
    publish(force = false): void {
      if (force || Date.now() - lastPostMs >= HEARTBEAT_MS || events.length >= MAX_WAITING_EVENTS) postSnapshot();
    },
    tick: (lagSeconds, missed) => push(['tick', lagSeconds, missed]),
    dbWrite: (seconds, n) => push(['db', seconds, n]),
    sourceError: (source: SourceName) => push(['src', source]),
    runFinished: (run: Run) => push(['fin', run]),
    samplesDropped: (n: number) => push(['drop', n]),
    async close(): Promise<void> {
      const closed = new Promise<void>((resolve) => {
        onClosed = resolve;
        setTimeout(resolve, 5000).unref();
      });
      post({ t: 'close' });
      await closed;
      if (worker) await worker.terminate();
      else (port as MessagePort).close();
    },
  };
}
