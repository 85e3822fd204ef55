// --runtime docker|containerd|auto: which attachments `start` runs. auto attaches to each runtime whose
// socket exists (a node may have both: Docker's containers live in containerd namespace "moby", the
// kubelet's in "k8s.io", so nothing is attached twice). The choice is pure; the socket test is passed in.
import type { AttachmentFactory } from '../agent/agent.js';
import type { AgentConfig } from '../config.js';
import { dockerAttachment } from '../docker/watcher.js';
import { containerdAttachment } from './watcher.js';
import { settleByRuntime, type Settler } from '../agent/recover.js';
import { createDockerClient } from '../docker/client.js';
import { dockerSettler } from '../docker/settle.js';
import { ContainerdClient } from './client.js';
import { containerdSettler } from './settle.js';

export type RuntimeName = 'docker' | 'containerd';

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

export function runtimeAttachments(config: AgentConfig, exists: (path: string) => boolean, env: NodeJS.ProcessEnv = process.env): AttachmentFactory[] {
  const names = chosen(config, exists, env);
  return names.map((n): AttachmentFactory =>
    n === 'docker' ? (ctx) => dockerAttachment(ctx) : (ctx) => containerdAttachment(ctx, { address: config.containerdAddress, namespace: config.containerdNamespace }),
  );
}

/**
 * How recovery settles a run an earlier agent left running: through the runtime that made it, for
 * each runtime this agent attaches to (a run of another runtime stays interrupted). Docker: the old
 * rows too, which record no runtime. The containerd client is made on first use and kept.
 */
export function runtimeSettler(config: AgentConfig, exists: (path: string) => boolean, env: NodeJS.ProcessEnv = process.env): Settler {
  const settlers: Partial<Record<RuntimeName, Settler>> = {};
  for (const n of chosen(config, exists, env)) {
    if (n === 'docker') settlers.docker = dockerSettler(createDockerClient(config.dockerHost));
    else {
      let client: ContainerdClient | null = null;
      settlers.containerd = containerdSettler({ getTask: (id) => (client ??= new ContainerdClient(config.containerdAddress, config.containerdNamespace)).getTask(id) });
    }
  }
  return settleByRuntime(settlers);
}
