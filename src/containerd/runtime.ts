// --runtime docker|containerd|auto: which attachments `start` runs. auto attaches to each runtime whose
// socket exists (a node may have both: Docker's containers live in containerd namespace "moby", the
// kubelet's in "k8s.io", so nothing is attached twice). The choice is pure; the socket test is passed in.
import type { AttachmentFactory } from '../agent/agent.js';
import type { AgentConfig } from '../config.js';
import { dockerAttachment } from '../docker/watcher.js';
import { containerdAttachment } from './watcher.js';

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

export function runtimeAttachments(config: AgentConfig, exists: (path: string) => boolean, env: NodeJS.ProcessEnv = process.env): AttachmentFactory[] {
  const dockerPath = dockerSocketPath(config.dockerHost, env);
  const names = chooseRuntimes(config.runtime, { docker: dockerPath === null || exists(dockerPath), containerd: exists(config.containerdAddress) });
  return names.map((n): AttachmentFactory =>
    n === 'docker' ? (ctx) => dockerAttachment(ctx) : (ctx) => containerdAttachment(ctx, { address: config.containerdAddress, namespace: config.containerdNamespace }),
  );
}
