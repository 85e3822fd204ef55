// `flare-agent evaluate` options, validated into one typed object. Pure; bad input → UsageError (exit 2).
import { UsageError } from '../usage-error.js';
import { hasUnsafe, isDecimal } from '../core/text.js';
import { parseGpuList } from './topology.js';

export interface EvaluateOptions {
  /** A tarball path (docker load) or an image reference (name:tag). */
  image: string;
  casesDir: string;
  outDir: string;
  team: string | null;
  /** GPU index for the device request, or null for none. */
  gpu: string | null;
  /** --gpus: a pool (one container per GPU at a time); null = one container at a time on `gpu`. */
  gpus: 'all' | string[] | null;
  /** --cpus-per-run: CPUs pinned to each container (0: none); null = online CPUs ÷ slots. */
  cpusPerRun: number | null;
  /** false (--no-device-request): the GPU is assigned and recorded, but not requested from Docker. */
  deviceRequest: boolean;
  timeLimitSeconds: number | null;
  memoryBytes: number | null;
  shmSizeBytes: number | null;
  command: string;
  shell: string;
  network: string;
  agentUrl: string | null;
  token: string | null;
  resume: boolean;
  gpuSource: 'auto' | 'nvml' | 'nvidia-smi' | 'none';
  intervalMs: number;
  plotFormat: 'svg' | 'png';
  /** Before each case, wait for the GPU to have no other process and ≤ idleGpuFloorMiB used. */
  requireIdleGpu: boolean;
  idleGpuTimeoutSeconds: number;
  idleGpuFloorMiB: number;
  /** dlopen name or path of libnvidia-ml (the embedded agent and the guard). */
  nvmlLib: string;
  /** Challenge profile (name or file) for <team>_Efficiency.csv's official figures. */
  profile: string;
  /** Runs per case (1: once, in case order); above 1 the order is shuffled with `seed`. */
  repeat: number;
  seed: number;
  /** --gt: ground-truth label maps; the outputs are scored against them after the last case. */
  gtDir: string | null;
  /** --accuracy-csv: a shared long accuracy CSV this team's rows are merged into. */
  accuracyCsv: string | null;
}

const UNITS: Record<string, number> = { '': 1, b: 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 };

/** Docker-style sizes: 28g, 512m, 1073741824 (binary units, as `docker run -m`). */
export function parseSize(flag: string, raw: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([bkmgt]?)b?$/i.exec(raw.trim());
  if (!m) throw new UsageError(`--${flag}: expected a size like 28g or 512m, got ${JSON.stringify(raw)}`);
  const bytes = Math.round(Number(m[1]) * UNITS[m[2].toLowerCase()]);
  if (bytes < 6 * 1024 * 1024) throw new UsageError(`--${flag}: at least 6m (Docker's minimum), got ${JSON.stringify(raw)}`);
  return bytes;
}

/** Team from an image reference: registry/path/name:tag → name. */
export function teamFromImage(ref: string): string {
  const noDigest = ref.split('@')[0];
  const last = noDigest.split('/').at(-1) ?? noDigest;
  return last.replace(/:[^:]*$/, '') || 'team';
}

const str = (v: unknown): string | null => (typeof v === 'string' && v.length > 0 ? v : null);

export function parseEvaluateOptions(o: Record<string, unknown>): EvaluateOptions {
  const image = str(o.image);
  const casesDir = str(o.cases);
  const outDir = str(o.out);
  if (!image || !casesDir || !outDir) throw new UsageError('--image, --cases and --out are required');
  const team = str(o.team);
  if (team !== null && (team.length > 100 || hasUnsafe(team))) throw new UsageError('--team: at most 100 printable characters');
  const gpuRaw = str(o.gpu) ?? '0';
  if (gpuRaw !== 'none' && !/^\d{1,3}$/.test(gpuRaw)) throw new UsageError(`--gpu: expected a GPU index or none, got ${JSON.stringify(gpuRaw)}`);
  let timeLimitSeconds: number | null = null;
  if (o.timeLimit !== undefined) {
    const given = typeof o.timeLimit === 'string' || typeof o.timeLimit === 'number' ? String(o.timeLimit) : '';
    timeLimitSeconds = isDecimal(given) ? Number(given) : NaN;
    if (!Number.isFinite(timeLimitSeconds) || timeLimitSeconds <= 0 || timeLimitSeconds > 604800) throw new UsageError(`--time-limit: expected seconds in (0, 604800], got ${JSON.stringify(o.timeLimit)}`);
  }
  const intervalMs = o.intervalMs === undefined ? 100 : Number(o.intervalMs);
  if (!Number.isInteger(intervalMs) || intervalMs < 10 || intervalMs > 10000) throw new UsageError('--interval-ms: expected an integer 10 to 10000');
  const gpuSource = str(o.gpuSource) ?? 'auto';
  if (gpuSource !== 'auto' && gpuSource !== 'nvml' && gpuSource !== 'nvidia-smi' && gpuSource !== 'none') throw new UsageError('--gpu-source: expected auto, nvml, nvidia-smi or none');
  const plotFormat = str(o.plotFormat) ?? 'png';
  if (plotFormat !== 'svg' && plotFormat !== 'png') throw new UsageError('--plot-format: expected svg or png');
  const idleGpuTimeoutSeconds = o.idleGpuTimeout === undefined ? 120 : Number(o.idleGpuTimeout);
  if (!Number.isFinite(idleGpuTimeoutSeconds) || idleGpuTimeoutSeconds < 0 || idleGpuTimeoutSeconds > 86400) throw new UsageError('--idle-gpu-timeout: expected seconds in [0, 86400]');
  const idleGpuFloorMiB = o.idleGpuFloorMib === undefined ? 1024 : Number(o.idleGpuFloorMib);
  if (!Number.isFinite(idleGpuFloorMiB) || idleGpuFloorMiB < 0) throw new UsageError('--idle-gpu-floor-mib: expected MiB ≥ 0');
  let gpus: 'all' | string[] | null = null;
  if (str(o.gpus)) {
    try {
      gpus = parseGpuList(o.gpus as string);
    } catch (e) {
      throw new UsageError((e as Error).message);
    }
  }
  let cpusPerRun: number | null = null;
  if (o.cpusPerRun !== undefined) {
    cpusPerRun = Number(o.cpusPerRun);
    if (!Number.isInteger(cpusPerRun) || cpusPerRun < 0 || cpusPerRun > 4096) throw new UsageError(`--cpus-per-run: expected an integer 0 to 4096, got ${JSON.stringify(o.cpusPerRun)}`);
  }
  const network = str(o.network) ?? 'none';
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/.test(network)) throw new UsageError('--network: expected a Docker network name');
  const repeat = o.repeat === undefined ? 1 : Number(o.repeat);
  if (!Number.isInteger(repeat) || repeat < 1 || repeat > 100) throw new UsageError('--repeat: expected an integer 1 to 100');
  const seed = o.seed === undefined ? 1 : Number(o.seed);
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) throw new UsageError('--seed: expected an integer 0 to 4294967295');
  if (repeat > 1 && o.resume === true) throw new UsageError('--resume works with --repeat 1 only');
  if (str(o.gt) === null && o.accuracyCsv !== undefined) throw new UsageError('--accuracy-csv needs --gt');
  return {
    image,
    casesDir,
    outDir,
    team,
    gpu: gpuRaw === 'none' ? null : gpuRaw,
    gpus,
    cpusPerRun,
    deviceRequest: o.deviceRequest !== false,
    nvmlLib: str(o.nvmlLib) ?? 'libnvidia-ml.so.1',
    timeLimitSeconds,
    memoryBytes: str(o.memory) ? parseSize('memory', o.memory as string) : null,
    shmSizeBytes: str(o.shmSize) ? parseSize('shm-size', o.shmSize as string) : null,
    command: str(o.command) ?? 'sh predict.sh',
    shell: str(o.shell) ?? '/bin/bash',
    network,
    agentUrl: str(o.agent),
    token: str(o.token) ?? str(process.env.FLARE_AGENT_TOKEN),
    resume: o.resume === true,
    gpuSource,
    intervalMs,
    plotFormat,
    requireIdleGpu: o.requireIdleGpu !== false,
    idleGpuTimeoutSeconds,
    idleGpuFloorMiB,
    profile: str(o.profile) ?? 'flare22',
    repeat,
    seed,
    gtDir: str(o.gt),
    accuracyCsv: str(o.accuracyCsv),
  };
}
