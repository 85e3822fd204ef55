// A real SQLite store in a temporary directory.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Store } from '../../src/store/types.js';
import { openStore } from '../../src/store/index.js';
import type { Run } from '../../src/core/types.js';
import { createApp, listen } from '../../src/http/server.js';
import { fill } from './helpers.js';

export function tempStore(): { store: Store; path: string; dir: string; cleanup(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'flare-http-'));
  const path = join(dir, 'agent.db');
  const store = openStore(path);
  return {
    store,
    path,
    dir,
    cleanup() {
      try {
        store.close();
      } catch {
        /* already closed */
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}


/** A store filled with `runs` (one sample each) behind the API on a free loopback port. */
export async function servedRuns(runs: Run[]): Promise<{ store: Store; path: string; port: number; close(): Promise<void> }> {
  const db = tempStore();
  fill(db.store, runs, 1);
  const open = await listen(createApp({ store: db.store, live: null, metrics: null }), '127.0.0.1:0');
  return {
    store: db.store,
    path: db.path,
    port: open.port,
    async close() {
      await open.close();
      db.cleanup();
    },
  };
}
