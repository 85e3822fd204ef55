// Builds the C NVML stub with the machine's gcc and writes the state file it answers from.
import { execFileSync } from 'node:child_process';
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export type StubVariant = 'default' | 'NO_V3' | 'ENTRY32' | 'LEGACY';

const SOURCE = join(dirname(fileURLToPath(import.meta.url)), 'nvml_stub.c');

/** Compiles one variant into <dir>/<variant>/libnvidia-ml.so.1 and returns that path. */
export function buildStub(dir: string, variant: StubVariant): string {
  const outDir = join(dir, variant);
  mkdirSync(outDir, { recursive: true });
  const out = join(outDir, 'libnvidia-ml.so.1');
  const flags = variant === 'default' ? [] : [`-D${variant}`];
  execFileSync('gcc', ['-O2', '-Wall', '-Werror', '-shared', '-fPIC', ...flags, '-o', out, SOURCE]);
  return out;
}

export interface StubDevice {
  uuid: string;
  name: string;
  totalBytes: number;
  usedBytes: number;
  /** 'NS' = the device answers NOT_SUPPORTED. */
  utilPct: number | 'NS';
  /** PCI bus id in NVML's form (default 00000000:<0x18 + index>:00.0). */
  pciBusId?: string;
}
export interface StubProcess {
  gpu: number;
  pid: number;
  /** 'NA' = NVML_VALUE_NOT_AVAILABLE. */
  usedBytes: number | 'NA';
}
export interface StubState {
  devices: StubDevice[];
  processes?: StubProcess[];
  /** symbol → nvmlReturn_t the stub returns for every call of it. */
  errors?: Record<string, number>;
  /** Processes that appear between the count probe and the fill call (per device). */
  grow?: number;
}

export const MiB = 1048576;

/** Writes the state atomically (rename) so the stub, which re-reads on inode/mtime change, never sees half a file. */
export function writeStubState(path: string, state: StubState): void {
  const lines = [
    ...state.devices.map((d) => `device ${d.uuid} ${d.totalBytes} ${d.usedBytes} ${d.utilPct} ${d.name}`),
    ...state.devices.flatMap((d, i) => (d.pciBusId ? [`pci ${i} ${d.pciBusId}`] : [])),
    ...(state.processes ?? []).map((p) => `proc ${p.gpu} ${p.pid} ${p.usedBytes}`),
    ...Object.entries(state.errors ?? {}).map(([symbol, code]) => `err ${symbol} ${code}`),
    ...(state.grow ? [`grow ${state.grow}`] : []),
  ];
  const tmp = `${path}.tmp`;
  writeFileSync(tmp, lines.join('\n') + '\n');
  renameSync(tmp, path);
}

export function stubDevice(i: number, totalMiB = 81559, usedMiB = 512): StubDevice {
  return {
    uuid: `GPU-0000000${i}-1111-2222-3333-444444444444`,
    name: 'NVIDIA H100 80GB HBM3',
    totalBytes: totalMiB * MiB,
    usedBytes: usedMiB * MiB,
    utilPct: 10 + i,
  };
}
