// Accuracy evaluation cost: one synthetic abdominal case (13 organs as ellipsoids, the prediction
// shifted and resized) at 128×128×48, 256×256×80 and 512×512×100 voxels, each scored by the built
// `flare-agent accuracy` (one case, one thread) as a child process: wall time and peak RSS, and the
// growth with the voxels. The official script's figures on this VM are printed beside them.
// Run: npm run build && node dist/bench/accuracy.js
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLI } from './agent-child.js';
import { writeNifti } from './nifti-writer.js';
import { makeCase } from './accuracy-case.js';

const dir = mkdtempSync(join(tmpdir(), 'flare-accuracy-bench-'));
try {
  const sizes: [number, number, number][] = [[128, 128, 48], [256, 256, 80], [512, 512, 100]];
  const bySize: Record<string, Record<string, number>> = {};
  for (const shape of sizes) {
    const name = shape.join('x');
    const [gtDir, predDir] = [join(dir, name, 'gt'), join(dir, name, 'pred')];
    mkdirSync(gtDir, { recursive: true });
    mkdirSync(predDir, { recursive: true });
    const { gt, pred } = makeCase(shape, 7);
    writeNifti(join(gtDir, 'case.nii.gz'), { shape, pixdim: [0.8, 0.8, 2.5], values: gt });
    writeNifti(join(predDir, 'case.nii.gz'), { shape, pixdim: [0.8, 0.8, 2.5], values: pred });
    const runs: { ms: number; rssMiB: number }[] = [];
    for (let rep = 0; rep < 3; rep++) {
      const t0 = performance.now();
      const r = spawnSync('/usr/bin/time', ['-f', '%M', process.execPath, CLI, 'accuracy', '--gt', gtDir, '--pred', predDir, '--threads', '1'], { encoding: 'utf8' });
      if (r.status !== 0) throw new Error(r.stderr);
      runs.push({ ms: performance.now() - t0, rssMiB: Number(r.stderr.trim().split('\n').pop()) / 1024 });
    }
    runs.sort((a, b) => a.ms - b.ms);
    bySize[name] = { voxels: shape[0] * shape[1] * shape[2], wallMsMedian: Math.round(runs[1].ms), peakRssMiB: Math.round(Math.max(...runs.map((x) => x.rssMiB))) };
  }
  const [small, large] = [bySize['128x128x48'], bySize['512x512x100']];
  process.stdout.write(
    JSON.stringify(
      {
        bySize,
        growth: { voxels: Math.round((large.voxels / small.voxels) * 10) / 10, wallMs: Math.round((large.wallMsMedian / small.wallMsMedian) * 10) / 10 },
        officialScriptAt512x512x100: { cpuSeconds: '4.4-5.4', peakRssMiB: 580, note: 'the issue\'s measurement on this 2-core VM' },
        targets: { wallMsAt512x512x100: '<= 1000 (process start included)', peakRssMiBAt512x512x100: '<= 250' },
      },
      null,
      2,
    ) + '\n',
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}
