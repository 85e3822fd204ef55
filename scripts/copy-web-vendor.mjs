// Copies the charting library (uPlot) into web/vendor/ so the page works offline (no CDN).
// Run by `npm run build`; web/vendor/ is generated, not committed.
import { copyFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(join(root, 'package.json'));
const uplotDist = dirname(require.resolve('uplot/dist/uPlot.iife.min.js'));
const vendor = join(root, 'web', 'vendor');
mkdirSync(vendor, { recursive: true });
for (const file of ['uPlot.iife.min.js', 'uPlot.min.css']) copyFileSync(join(uplotDist, file), join(vendor, file));
