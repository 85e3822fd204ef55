// A real SQLite store in a temporary directory.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Store } from '../../src/store/types.js';
import { openStore } from '../../src/store/index.js';

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

