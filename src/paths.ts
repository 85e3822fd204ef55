// The package's own folder, found by walking up to package.json: the same answer whether the code runs
// compiled from dist/src/… or from source under a test runner.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
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
