// The package's own folder, found by walking up to package.json: the same answer whether the code runs
// compiled from dist/src/… or from source under a test runner.
import { existsSync, mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

function findPackageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    const up = dirname(dir);
    if (up === dir) throw new Error('flare-agent: package.json not found above ' + fileURLToPath(import.meta.url));
    dir = up;
  }
}

export const PACKAGE_ROOT = findPackageRoot();
/** Static files of the web page (uPlot is copied into web/vendor by the build). */
export const WEB_DIR = join(PACKAGE_ROOT, 'web');

/**
 * `mkdir -p` that always ends. Node 20's `mkdirSync(dir, { recursive: true })` loops for ever, at
 * 100 % CPU in native code where no signal handler can run, on a path under /proc whose parent
 * exists (`/proc/nope/a.db`: mkdir answers ENOENT, and it retries the parent, which exists). Here the
 * missing folders are made one by one, top down, and the first refusal is thrown with its path.
 */
export function ensureDir(dir: string): void {
  const missing: string[] = [];
  for (let d = resolve(dir); !existsSync(d); d = dirname(d)) {
    missing.push(d);
    if (dirname(d) === d) break;
  }
  for (const d of missing.reverse()) {
    try {
      mkdirSync(d);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
  }
}
