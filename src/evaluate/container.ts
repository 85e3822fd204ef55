// One case in one container, as the official harness ran it, with the FLARE mounts, the labels the
// agent reads, the GPU request and the memory/shm limits; the harness enforces the time limit and
// removes the container. The command never goes through a shell on our side: it is an argv.
import type Docker from 'dockerode';
import { LABEL_CASE, LABEL_NUMA_NODE, LABEL_SLOT, LABEL_TEAM, LABEL_TIME_LIMIT } from '../runtime/labels.js';
import { monoNowNs } from '../clock/ticker.js';

export interface CaseRunSpec {
  imageRef: string;
  team: string;
  caseName: string;
  inputsDir: string;
  outputsDir: string;
  shell: string;
  command: string;
  gpu: string | null;
  memoryBytes: number | null;
  shmSizeBytes: number | null;
  network: string;
  timeLimitSeconds: number | null;
  containerName: string;
  /** Pool slot placement (--gpus): CPUs for --cpuset-cpus and what the labels record; absent = none. */
  placement?: { slot: number; cpuset: string | null; numaNode: number | null; gpu: string; deviceRequest: boolean; memsLocal: boolean };
}

/**
 * Labels recording a pool slot's placement. The agent stores the slot and NUMA node in the run's
 * placement (with the HostConfig's CPU set and memory); GPU and CPU set labels are for `docker ps`.
 */
export { LABEL_NUMA_NODE, LABEL_SLOT };
export const LABEL_GPU = 'flare.gpu';
export const LABEL_CPUSET = 'flare.cpuset';

export type CaseEnd = 'exited' | 'killed at time limit' | 'interrupted';

export interface CaseExecution {
  containerId: string;
  end: CaseEnd;
  exitCode: number | null;
  oomKilled: boolean;
  /** Wall time around create → start → wait (FLARE's "Time" is the wall time around `docker run`). */
  harnessWallSeconds: number;
  /** CLOCK_MONOTONIC just before create and just after removal: the official span (docs/scoring.md). */
  beforeCreateMonoNs: number;
  afterRemoveMonoNs: number;
}

export function containerConfig(spec: CaseRunSpec): Docker.ContainerCreateOptions {
  const labels: Record<string, string> = { [LABEL_TEAM]: spec.team, [LABEL_CASE]: spec.caseName };
  if (spec.timeLimitSeconds !== null) labels[LABEL_TIME_LIMIT] = String(spec.timeLimitSeconds);
  const hostConfig: Docker.HostConfig = {
    Binds: [`${spec.inputsDir}:/workspace/inputs/`, `${spec.outputsDir}:/workspace/outputs/`],
    NetworkMode: spec.network,
  };
  const p = spec.placement;
  const requestGpu = p ? p.deviceRequest : spec.gpu !== null;
  if (spec.gpu !== null && requestGpu) hostConfig.DeviceRequests = [{ Driver: 'nvidia', DeviceIDs: [spec.gpu], Capabilities: [['gpu']] }];
  if (p) {
    labels[LABEL_SLOT] = String(p.slot);
    labels[LABEL_GPU] = p.gpu;
    if (p.cpuset !== null) {
      labels[LABEL_CPUSET] = p.cpuset;
      hostConfig.CpusetCpus = p.cpuset;
    }
    if (p.numaNode !== null) {
      labels[LABEL_NUMA_NODE] = String(p.numaNode);
      // Memory from the GPU's node too, but only when every CPU is on it (else remote CPUs would pay).
      if (p.memsLocal && p.cpuset !== null) hostConfig.CpusetMems = String(p.numaNode);
    }
  }
  if (spec.memoryBytes !== null) hostConfig.Memory = spec.memoryBytes;
  if (spec.shmSizeBytes !== null) hostConfig.ShmSize = spec.shmSizeBytes;
  return { Image: spec.imageRef, name: spec.containerName, Cmd: [spec.shell, '-c', spec.command], Labels: labels, HostConfig: hostConfig };
}

async function removeQuietly(container: Docker.Container): Promise<void> {
  await container.remove({ force: true }).catch(() => {
    /* removed already */
  });
}

/** Runs the case to its end, kills it at the limit or when `signal` aborts, and removes it. */
export async function runCaseContainer(docker: Docker, spec: CaseRunSpec, signal: AbortSignal): Promise<CaseExecution> {
  const t0 = monoNowNs();
  const container = await docker.createContainer(containerConfig(spec));
  let end: CaseEnd = 'exited';
  let timer: NodeJS.Timeout | null = null;
  const kill = (why: CaseEnd): void => {
    if (end !== 'exited') return;
    end = why;
    container.kill({ signal: 'SIGKILL' }).catch(() => {
      /* already gone */
    });
  };
  const onAbort = (): void => kill('interrupted');
  try {
    const waiting = container.wait({ condition: 'next-exit' });
    await container.start();
    // Our timer starts after Docker's StartedAt, so Docker's own span is at least the limit when it fires.
    if (spec.timeLimitSeconds !== null) timer = setTimeout(() => kill('killed at time limit'), spec.timeLimitSeconds * 1000);
    if (signal.aborted) onAbort();
    signal.addEventListener('abort', onAbort);
    const result = (await waiting) as { StatusCode?: number };
    const harnessWallSeconds = (monoNowNs() - t0) / 1e9;
    const state = (await container.inspect()).State;
    await removeQuietly(container);
    const afterRemoveMonoNs = monoNowNs();
    return {
      containerId: container.id,
      end,
      exitCode: result.StatusCode ?? state.ExitCode ?? null,
      oomKilled: state.OOMKilled === true,
      harnessWallSeconds,
      beforeCreateMonoNs: t0,
      afterRemoveMonoNs,
    };
  } finally {
    if (timer) clearTimeout(timer);
    signal.removeEventListener('abort', onAbort);
    await removeQuietly(container);
  }
}
