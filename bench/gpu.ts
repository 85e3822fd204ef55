// GPU source costs: the per-tick price of an NVML sample (against the C stub of libnvidia-ml, 4 GPUs ×
// 8 processes) and the CPU our side spends parsing the nvidia-smi fallback's streams (fake nvidia-smi).
// Target: ≤ 0.1 ms per NVML tick. Run alone: `node dist/bench/gpu.js`.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { openNvmlSource } from '../src/gpu/nvml.js';
import { openSmiSource } from '../src/gpu/smi.js';
import type { GpuSource } from '../src/gpu/types.js';

const DEVICES = 4;
const PROCS_PER_DEVICE = 8;
const MiB = 1048576;

/** The repository root (holds test/gpu/stub), from src or from dist. */
function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'test', 'gpu', 'stub', 'nvml_stub.c'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error('cannot find test/gpu/stub/nvml_stub.c above the bench');
    dir = up;
  }
  return dir;
}

function quantile(sorted: Float64Array, q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

function uuid(i: number): string {
  return `GPU-0000000${i}-1111-2222-3333-444444444444`;
}

function benchNvml(root: string, work: string, samples: number): Record<string, number> {
  const lib = join(work, 'libnvidia-ml.so.1');
  execFileSync('gcc', ['-O2', '-shared', '-fPIC', '-o', lib, join(root, 'test/gpu/stub/nvml_stub.c')]);
  const lines: string[] = [];
  for (let d = 0; d < DEVICES; d++) lines.push(`device ${uuid(d)} ${81559 * MiB} ${20000 * MiB} 50 NVIDIA H100 80GB HBM3`);
  for (let d = 0; d < DEVICES; d++) for (let p = 0; p < PROCS_PER_DEVICE; p++) lines.push(`proc ${d} ${10000 + d * 100 + p} ${(1000 + p) * MiB}`);
  process.env.FLARE_NVML_STUB_STATE = join(work, 'state');
  writeFileSync(process.env.FLARE_NVML_STUB_STATE, lines.join('\n') + '\n');

  // The stub stat()s its state file on every call (~2 µs here) so tests can change it live; 'static'
  // reads it once, which leaves the cost of our binding alone.
  const result: Record<string, number> = {};
  for (const mode of ['static', 'reloading'] as const) {
    if (mode === 'static') process.env.FLARE_NVML_STUB_STATIC = '1';
    else delete process.env.FLARE_NVML_STUB_STATIC;
    Object.assign(result, timeSamples(openNvmlSource({ libPath: lib }), samples, mode === 'static' ? 'nvml' : 'nvmlReloadingStub'));
  }
  // The headline figure keeps the stub's own cost in: conservative.
  result.gpuSampleMsPerTick = result.nvmlReloadingStubSampleMedianUs / 1000;
  return { nvmlDevices: DEVICES, nvmlProcesses: DEVICES * PROCS_PER_DEVICE, nvmlSamples: samples, ...result };
}

function timeSamples(src: GpuSource, samples: number, prefix: string): Record<string, number> {
  try {
    for (let i = 0; i < 1000; i++) src.sample(); // warm-up: JIT, buffer sizing
    if (src.sample().processes.length !== DEVICES * PROCS_PER_DEVICE || !src.status().up) throw new Error('stub sample incomplete');
    const costUs = new Float64Array(samples);
    const cpuBefore = process.cpuUsage();
    const wallStart = process.hrtime.bigint();
    for (let i = 0; i < samples; i++) {
      const t0 = process.hrtime.bigint();
      src.sample();
      costUs[i] = Number(process.hrtime.bigint() - t0) / 1000;
    }
    const wallUs = Number(process.hrtime.bigint() - wallStart) / 1000;
    const cpu = process.cpuUsage(cpuBefore);
    costUs.sort();
    return {
      [`${prefix}SampleMedianUs`]: quantile(costUs, 0.5),
      [`${prefix}SampleP99Us`]: quantile(costUs, 0.99),
      [`${prefix}SampleMaxUs`]: costUs[costUs.length - 1],
      [`${prefix}SampleMeanUs`]: wallUs / samples,
      [`${prefix}SampleCpuUsPerTick`]: (cpu.user + cpu.system) / samples,
    };
  } finally {
    src.close();
  }
}

async function benchSmi(root: string, work: string, seconds: number, intervalMs: number): Promise<Record<string, number>> {
  process.env.FLARE_FAKE_SMI_DIR = work;
  const inventory: string[] = [];
  const gpus: string[] = [];
  const apps: string[] = [];
  for (let d = 0; d < DEVICES; d++) {
    inventory.push(`${d}, ${uuid(d)}, NVIDIA H100 80GB HBM3, 81559`);
    gpus.push(`${d}, ${uuid(d)}, 20000, 81559, 50`);
    for (let p = 0; p < PROCS_PER_DEVICE; p++) apps.push(`${10000 + d * 100 + p}, ${1000 + p}, ${uuid(d)}`);
  }
  writeFileSync(join(work, 'inventory.csv'), inventory.join('\n') + '\n');
  writeFileSync(join(work, 'gpu.csv'), gpus.join('\n') + '\n');
  writeFileSync(join(work, 'apps.csv'), apps.join('\n') + '\n');
  const src = await openSmiSource({ intervalMs, binary: join(root, 'test/gpu/fake-nvidia-smi') });
  try {
    await new Promise((r) => setTimeout(r, 500)); // both children running and printing
    let seen = 0;
    const cpuBefore = process.cpuUsage();
    const wallStart = performance.now();
    await new Promise<void>((resolve) => {
      const timer = setInterval(() => {
        seen = Math.max(seen, src.sample().processes.length);
        if (performance.now() - wallStart >= seconds * 1000) {
          clearInterval(timer);
          resolve();
        }
      }, intervalMs);
    });
    const cpu = process.cpuUsage(cpuBefore);
    const wallS = (performance.now() - wallStart) / 1000;
    if (seen !== DEVICES * PROCS_PER_DEVICE) throw new Error(`fake nvidia-smi stream incomplete (${seen} processes)`);
    // Our process only (parsing + sampling); nvidia-smi's own cost is the driver's, not measured here.
    return { smiIntervalMs: intervalMs, smiCpuSecondsPerSecond: (cpu.user + cpu.system) / 1e6 / wallS };
  } finally {
    src.close();
  }
}

export async function benchGpu(opts: { samples?: number; smiSeconds?: number } = {}): Promise<Record<string, number>> {
  const root = repoRoot();
  const work = mkdtempSync(join(tmpdir(), 'flare-bench-gpu-'));
  try {
    return {
      ...benchNvml(root, work, opts.samples ?? 10_000),
      ...(await benchSmi(root, work, opts.smiSeconds ?? 5, 100)),
    };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.stdout.write(JSON.stringify(await benchGpu(), null, 2) + '\n');
}
