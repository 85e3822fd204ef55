// The agent's settings as one typed object, and their defaults. Every layer that runs the agent reads
// this type; the option table that fills it from flags, environment and a file (src/config.ts) sits at
// the top, beside the commands, since it validates with the runtime, HTTP and scoring modules.
import { DEFAULT_GPU_TOLERANCE_MIB, FLARE22_PENALTIES } from '../core/types.js';

export interface AgentConfig {
  db: string;
  listen: string;
  intervalMs: number;
  select: string;
  timeLimit: number | null;
  enforceTimeLimit: boolean;
  killGraceSeconds: number;
  gpuToleranceMib: number;
  gpuSource: 'auto' | 'nvml' | 'nvidia-smi' | 'none';
  nvmlLib: string;
  dockerHost: string | null;
  /** Container runtime(s) to attach to: docker, containerd, or auto (each whose socket exists). */
  runtime: 'docker' | 'containerd' | 'auto';
  containerdAddress: string;
  containerdNamespace: string;
  token: string | null;
  tokenFile: string | null;
  metricsOpen: boolean;
  /** The organiser's accuracy CSV that /api/v1/ranking ranks with (null: efficiency only). */
  accuracyCsv: string | null;
  unsafeListenWithoutToken: boolean;
  unsafeTrustImageLabels: boolean;
  retentionDays: number | null;
  retentionMaxMib: number | null;
  penaltyTimeSeconds: number;
  penaltyAucGpuMibs: number;
  penaltyAucCpuPcts: number;
  logLevel: 'debug' | 'info' | 'warn' | 'error';
  /** Cap on samples waiting for a database write; past it the oldest are dropped (and counted). */
  maxQueuedSamples: number;
  /** Heap (old generation) the heavy-read thread may use: the ranking and the exports (http/heavy-read-thread.ts). */
  readHeapMib: number;
}

export const DEFAULTS: AgentConfig = {
  db: './flare-agent.db',
  listen: '127.0.0.1:9465',
  intervalMs: 100,
  select: 'label:flare.team',
  timeLimit: null,
  enforceTimeLimit: false,
  killGraceSeconds: 0,
  gpuToleranceMib: DEFAULT_GPU_TOLERANCE_MIB,
  gpuSource: 'auto',
  nvmlLib: 'libnvidia-ml.so.1',
  dockerHost: null,
  runtime: 'docker',
  containerdAddress: '/run/containerd/containerd.sock',
  containerdNamespace: 'k8s.io',
  token: null,
  tokenFile: null,
  metricsOpen: false,
  accuracyCsv: null,
  unsafeListenWithoutToken: false,
  unsafeTrustImageLabels: false,
  retentionDays: null,
  retentionMaxMib: null,
  penaltyTimeSeconds: FLARE22_PENALTIES.timeSeconds,
  penaltyAucGpuMibs: FLARE22_PENALTIES.aucGpuMiBs,
  penaltyAucCpuPcts: FLARE22_PENALTIES.aucCpuPctS,
  logLevel: 'info',
  maxQueuedSamples: 200_000,
  readHeapMib: 96,
};
