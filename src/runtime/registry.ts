// --runtime docker|containerd|auto: which attachments `start` runs. auto attaches to each runtime whose
// socket exists (a node may have both: Docker's containers live in containerd namespace "moby", the
// kubelet's in "k8s.io", so nothing is attached twice). The choice is pure; the socket test is passed in.
import type { AttachmentFactory } from '../agent/context.js';
import { settleByRuntime, type Settler } from '../agent/recover.js';
import type { AgentConfig } from '../agent/config.js';
import type { ContainerRuntime } from '../core/types.js';
import type { Logger } from '../log.js';
import type { RuntimeAdapter } from './adapter.js';
import { watchRuntime } from './watcher.js';

/**
 * Every runtime the agent can attach to: its adapter, made from the agent's options. A new runtime is
 * one line here. Each is loaded only when chosen: containerd's gRPC stack costs ~100 ms of CPU to load, a
 * large part of a fresh agent's start (docs/performance.md); Docker's is the agent's own small client
 * (docker/engine-client.ts), which replaced a library that cost as much.
 */
const RUNTIMES: Record<ContainerRuntime, (config: AgentConfig, log: Logger) => Promise<RuntimeAdapter>> = {
  docker: async (config, log) => {
    const [{ DockerAdapter }, { createDockerClient }] = await Promise.all([import('./docker/adapter.js'), import('./docker/client.js')]);
    return new DockerAdapter(createDockerClient(config.dockerHost), log);
  },
  containerd: async (config) => {
    const [{ ContainerdAdapter }, { ContainerdClient }] = await Promise.all([import('./containerd/adapter.js'), import('./containerd/client.js')]);
    return new ContainerdAdapter(new ContainerdClient(config.containerdAddress, config.containerdNamespace));
  },
};

export type RuntimeName = ContainerRuntime;

/** Docker's socket path from --docker-host / DOCKER_HOST (unix only), else the default. */
export function dockerSocketPath(dockerHost: string | null, env: NodeJS.ProcessEnv): string | null {
  const raw = dockerHost ?? env.DOCKER_HOST ?? '/var/run/docker.sock';
  if (raw.startsWith('unix://')) return raw.slice('unix://'.length);
  return raw.startsWith('/') ? raw : null; // tcp:// etc.: not a local socket to test
}

export function chooseRuntimes(mode: AgentConfig['runtime'], have: { docker: boolean; containerd: boolean }): RuntimeName[] {
  if (mode !== 'auto') return [mode];
  const out: RuntimeName[] = [];
  if (have.docker) out.push('docker');
  if (have.containerd) out.push('containerd');
  // Neither socket: Docker, whose attachment keeps retrying and says why in /healthz.
  return out.length > 0 ? out : ['docker'];
}

function chosen(config: AgentConfig, exists: (path: string) => boolean, env: NodeJS.ProcessEnv): RuntimeName[] {
  const dockerPath = dockerSocketPath(config.dockerHost, env);
  return chooseRuntimes(config.runtime, { docker: dockerPath === null || exists(dockerPath), containerd: exists(config.containerdAddress) });
}

export interface Runtimes {
  /** One watcher per chosen runtime, started after the sampler. */
  attachments: AttachmentFactory[];
  /**
   * How recovery settles a run an earlier agent left running: through the runtime that made it (a run
   * of a runtime this agent does not attach to stays interrupted; old rows, which record none, are Docker's).
   */
  settle: Settler;
}

/** The chosen runtimes' adapters, each shared by its recovery and its watcher (which closes it at stop). */
export async function runtimesFor(config: AgentConfig, exists: (path: string) => boolean, log: Logger, env: NodeJS.ProcessEnv = process.env): Promise<Runtimes> {
  const adapters = await Promise.all(chosen(config, exists, env).map((n) => RUNTIMES[n](config, log)));
  return {
    attachments: adapters.map((a): AttachmentFactory => async (ctx) => watchRuntime(ctx, a)),
    settle: settleByRuntime(Object.fromEntries(adapters.map((a) => [a.name, a.settler()]))),
  };
}
