// Entry of the heavy-read thread (heavy-read-thread.ts): its own read-only SQLite connection, the accuracy
// CSV and the official-figures cache, answering one read at a time at the lowest priority (nice 19).
import { parentPort, workerData } from 'node:worker_threads';
import { openStoreReadOnly } from '../store/index.js';
import { answerHeavyRead, heavyContext, type HeavyAnswer, type HeavyRead } from './heavy-reads.js';
import { HEAVY_READ_NICE, lowerThisThreadPriority } from '../agent/thread-priority.js';

export interface HeavyReadWorkerData {
  db: string;
  accuracyCsv: string | null;
  lowerPriority: boolean;
}

if (!parentPort) throw new Error('http/heavy-read-worker.js runs as a worker thread only');
const port = parentPort;
const cfg = workerData as HeavyReadWorkerData;
if (cfg.lowerPriority) lowerThisThreadPriority(HEAVY_READ_NICE);
// Its store is read-only: final official figures go to the store's owner (heavy-read-thread.ts onKeep).
const ctx = heavyContext(openStoreReadOnly(cfg.db), cfg.accuracyCsv ?? undefined, (rows) => port.postMessage({ t: 'keep', rows }));
port.on('message', (m: { t: 'read'; id: number; read: HeavyRead }) => {
  let answer: HeavyAnswer;
  try {
    answer = answerHeavyRead(ctx, m.read);
  } catch (err) {
    console.error(JSON.stringify({ level: 'error', msg: 'heavy read failed', route: m.read.route, error: String(err).slice(0, 500) }));
    answer = { status: 500, type: 'json', body: JSON.stringify({ error: 'internal error' }) };
  }
  port.postMessage({ t: 'answer', id: m.id, answer });
});
