// Builds the C NVML stub with the machine's gcc and writes the state file it answers from.
import { execFileSync } from 'node:child_process';
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export type StubVariant = 'default' | 'NO_V3' | 'ENTRY32' | 'LEGACY' | 'NO_ENERGY';

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
  /** The MIG instance the process runs in (absent: MIG off, both ids 0xFFFFFFFF). */
  mig?: { gpuInstanceId: number; computeInstanceId: number };
}
/** A MIG device of GPU `gpu` (its MIG mode is on once it has one). */
export interface StubMigDevice {
  gpu: number;
  gpuInstanceId: number;
  computeInstanceId: number;
  uuid: string;
  totalBytes: number;
  usedBytes: number;
}
/** One nvmlAccountingStats_t record the stub keeps for a pid (oldest first in StubState.accounting). */
export interface StubAccountingRecord {
  gpu: number;
  pid: number;
  maxBytes: number | 'NA';
  timeMs: number;
  startTimeUs: number;
  running: boolean;
  gpuUtilPct?: number;
  memUtilPct?: number;
}
/** Power P(t) = p0Mw + slopeMwPerS·(t − t0EpochMs) and energy e0Mj + ∫P, on the real clock. */
export interface StubRamp {
  gpu: number;
  t0EpochMs: number;
  p0Mw: number;
  slopeMwPerS: number;
  e0Mj: number;
}
export interface StubState {
  devices: StubDevice[];
  processes?: StubProcess[];
  mig?: StubMigDevice[];
  /** symbol → nvmlReturn_t the stub returns for every call of it. */
  errors?: Record<string, number>;
  /** Processes that appear between the count probe and the fill call (per device). */
  grow?: number;
  /** Accounting mode per GPU index (default 0, disabled). */
  accountingMode?: Record<number, 0 | 1 | 'NS'>;
  /** Accounting buffer size (records kept per device; default 4000). */
  accountingBuffer?: number;
  accounting?: StubAccountingRecord[];
  /** Per GPU index: energy counter (mJ) / power (mW); 'NS' = NOT_SUPPORTED. */
  energyMj?: Record<number, number | 'NS'>;
  powerMw?: Record<number, number | 'NS'>;
  ramps?: StubRamp[];
  /** Driver version string and CUDA driver version (e.g. 12040 = 12.4); the stub's defaults otherwise. */
  driver?: { version: string; cuda: number };
  persistenceMode?: Record<number, 0 | 1>;
  /** A GPU reset generation: raising it loses the handles fetched before (GPU_IS_LOST until re-init). */
  reset?: number;
}

export const MiB = 1048576;

/** Writes the state atomically (rename) so the stub, which re-reads on inode/mtime change, never sees half a file. */
export function writeStubState(path: string, state: StubState): void {
  const lines = [
    ...state.devices.map((d) => `device ${d.uuid} ${d.totalBytes} ${d.usedBytes} ${d.utilPct} ${d.name}`),
    ...state.devices.flatMap((d, i) => (d.pciBusId ? [`pci ${i} ${d.pciBusId}`] : [])),
    ...(state.processes ?? []).map((p) => `proc ${p.gpu} ${p.pid} ${p.usedBytes}${p.mig ? ` ${p.mig.gpuInstanceId} ${p.mig.computeInstanceId}` : ''}`),
    ...(state.mig ?? []).map((m) => `mig ${m.gpu} ${m.gpuInstanceId} ${m.computeInstanceId} ${m.uuid} ${m.totalBytes} ${m.usedBytes}`),
    ...Object.entries(state.errors ?? {}).map(([symbol, code]) => `err ${symbol} ${code}`),
    ...(state.grow ? [`grow ${state.grow}`] : []),
    ...Object.entries(state.accountingMode ?? {}).map(([gpu, mode]) => `acctmode ${gpu} ${mode}`),
    ...(state.accountingBuffer !== undefined ? [`acctbuf ${state.accountingBuffer}`] : []),
    ...(state.accounting ?? []).map((a) => `acct ${a.gpu} ${a.pid} ${a.maxBytes} ${a.timeMs} ${a.startTimeUs} ${a.running ? 1 : 0} ${a.gpuUtilPct ?? 0} ${a.memUtilPct ?? 0}`),
    ...Object.entries(state.energyMj ?? {}).map(([gpu, v]) => `energy ${gpu} ${v}`),
    ...Object.entries(state.powerMw ?? {}).map(([gpu, v]) => `power ${gpu} ${v}`),
    ...(state.reset ? [`reset ${state.reset}`] : []),
    ...(state.driver ? [`driver ${state.driver.version} ${state.driver.cuda}`] : []),
    ...Object.entries(state.persistenceMode ?? {}).map(([gpu, m]) => `persist ${gpu} ${m}`),
    ...(state.ramps ?? []).map((r) => `ramp ${r.gpu} ${r.t0EpochMs} ${r.p0Mw} ${r.slopeMwPerS} ${r.e0Mj}`),
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
