// The Docker client: --docker-host (or DOCKER_HOST) as a socket path, unix:// or tcp:// URL.
import { EngineClient, type DockerApi, type DockerTarget } from './engine-client.js';

export function dockerOptions(dockerHost: string | null, env: NodeJS.ProcessEnv = process.env): DockerTarget {
  const host = dockerHost ?? env.DOCKER_HOST ?? '/var/run/docker.sock';
  if (host.startsWith('unix://')) return { socketPath: host.slice('unix://'.length) };
  if (host.startsWith('/')) return { socketPath: host };
  const m = /^(tcp|http|https):\/\/([^:/]+)(?::(\d+))?\/?$/.exec(host);
  if (!m) throw new Error(`unsupported Docker host ${JSON.stringify(host)}: expected a socket path, unix://, tcp:// or http(s):// URL`);
  const protocol = m[1] === 'https' ? 'https' : 'http';
  return { host: m[2], port: Number(m[3] ?? (protocol === 'https' ? 2376 : 2375)), protocol };
}

/** The agent's client of the engine (engine-client.ts): the calls its Docker adapter makes, nothing more. */
export function createDockerClient(dockerHost: string | null): DockerApi {
  return new EngineClient(dockerOptions(dockerHost));
}
