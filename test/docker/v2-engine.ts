// The pure cgroup v2 engine of the tests (scripts/dockerd-v2.sh): its client, an agent started as a
// child process inside the engine's mount namespace (or, for discovery, outside it), and the
// independent ground truth from the container's own v2 cgroup.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Docker from 'dockerode';
import type { Health } from '../../src/agent/types.js';
import { CLI, sleep, tempDir } from '../helpers.js';
import { IMAGE, TEST_LABEL, testTag } from './helpers.js';

export const V2_SOCK = '/var/run/flare-dockerd-v2.sock';
export const dockerV2 = new Docker({ socketPath: V2_SOCK });

/** Starts (or finds) the pure-v2 dockerd and imports the test image; dockerd's own error when it cannot. */
export function startV2Engine(): { pid: number } | { error: string } {
  const up = spawnSync('bash', ['scripts/dockerd-v2.sh', 'start'], { encoding: 'utf8', timeout: 60_000 });
  if (up.status !== 0) return { error: `scripts/dockerd-v2.sh start failed (${up.status}): ${up.stderr}${up.stdout}` };
  const img = spawnSync('bash', ['-c', '. scripts/services.sh; build_test_image'], { encoding: 'utf8', env: { ...process.env, DOCKER_HOST: `unix://${V2_SOCK}` }, timeout: 60_000 });
  if (img.status !== 0) return { error: `importing ${IMAGE} into the v2 engine failed: ${img.stderr}` };
  const pid = Number(spawnSync('bash', ['scripts/dockerd-v2.sh', 'pid'], { encoding: 'utf8' }).stdout.trim());
  return Number.isInteger(pid) && pid > 0 ? { pid } : { error: 'dockerd-v2 has no pid' };
}

/** The engine's cgroup root seen from here: its mount namespace's /sys/fs/cgroup through /proc/<pid>/root. */
export const v2Root = (dockerdPid: number): string => `/proc/${dockerdPid}/root/sys/fs/cgroup`;

/** Controllers the pure v2 root has (a hybrid host keeps cpu and memory on v1). */
export const v2Controllers = (dockerdPid: number): string[] => readFileSync(join(v2Root(dockerdPid), 'cgroup.controllers'), 'utf8').trim().split(/\s+/).filter(Boolean);

export async function createAndStartV2(cmd: string[], labels: Record<string, string> = {}, hostConfig: Docker.HostConfig = {}): Promise<Docker.Container> {
  const c = await dockerV2.createContainer({ Image: IMAGE, Cmd: cmd, Labels: { [TEST_LABEL]: testTag, ...labels }, HostConfig: { NetworkMode: 'none', ...hostConfig } });
  await c.start();
  return c;
}

/** Polls the container's cgroup (cgroup-truth.mjs) from now until `populated 0`; resolves usage_usec in s. */
export function cgroupTruth(dockerdPid: number, containerId: string): Promise<number> {
  return cgroupTruthAt(join(v2Root(dockerdPid), 'docker', containerId), containerId);
}

/** The same for any v2 cgroup directory (the hybrid host's unified hierarchy holds its containers too). */
export function cgroupTruthAt(dir: string, containerId: string): Promise<number> {
  const child = spawn(process.execPath, [join(process.cwd(), 'test/docker/cgroup-truth.mjs'), dir], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  return new Promise((resolve, reject) => {
    child.on('close', (code) => {
      const r = JSON.parse(out.trim() || '{}') as { usageUsec?: number; error?: string };
      if (code === 0 && typeof r.usageUsec === 'number') resolve(r.usageUsec / 1e6);
      else reject(new Error(`ground truth for ${containerId.slice(0, 12)}: ${out.trim()}`));
    });
  });
}

export interface ApiRun {
  id: string;
  containerId: string | null;
  status: string;
  terminationReason: string | null;
  wallSeconds: number;
  cpuSeconds: number | null;
  maxRamMiB: number | null;
  aucRamMiBs: number | null;
  sampleCount: number;
  exceededTimeLimit: boolean;
  flags: string[];
  cgroupMethod?: string;
  countersUnreadable?: string[];
  killedThroughCgroup?: string;
}

/** `flare-agent start` as a child: in the engine's mount namespace (nsenter), or in this one. */
export class ChildAgent {
  private constructor(private readonly child: ChildProcess, readonly port: number, readonly log: () => string) {}

  get pid(): number {
    return this.child.pid ?? 0;
  }

  /** inNamespace: nsenter the engine's mount namespace; 'private': a mount namespace of the agent's own (a copy of this one). */
  static async start(opts: { dockerdPid: number; inNamespace: boolean | 'private'; args?: string[] }): Promise<ChildAgent> {
    const db = join(tempDir('flare-v2-'), 'agent.db');
    const agentArgs = [CLI, 'start', '--db', db, '--listen', '127.0.0.1:0', '--gpu-source', 'none', '--interval-ms', '100',
      '--docker-host', `unix://${V2_SOCK}`, '--select', `label:${TEST_LABEL}=${testTag}`, ...(opts.args ?? [])];
    const [cmd, args] =
      opts.inNamespace === 'private'
        ? ['unshare', ['-m', '--propagation', 'private', '--', process.execPath, ...agentArgs]]
        : opts.inNamespace
          ? ['nsenter', [`--mount=/proc/${opts.dockerdPid}/ns/mnt`, '--', process.execPath, ...agentArgs]]
          : [process.execPath, agentArgs];
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let log = '';
    child.stdout!.on('data', (d: Buffer) => (log += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (log += d.toString()));
    const deadline = Date.now() + 20_000;
    let port = 0;
    while (port === 0) {
      const m = /"msg":"listening"[^\n]*"port":(\d+)/.exec(log);
      if (m) port = Number(m[1]);
      else if (child.exitCode !== null || Date.now() > deadline) throw new Error(`agent did not start: ${log}`);
      else await sleep(50);
    }
    const agent = new ChildAgent(child, port, () => log);
    const until = Date.now() + 10_000;
    while (!(await agent.health()).sources.docker.up) {
      if (Date.now() > until) throw new Error(`docker source never up: ${log}`);
      await sleep(50);
    }
    return agent;
  }

  private async get(path: string): Promise<Response> {
    return fetch(`http://127.0.0.1:${this.port}${path}`);
  }

  async health(): Promise<Health & { mode: string }> {
    return (await (await this.get('/healthz')).json()) as Health & { mode: string };
  }

  async metrics(): Promise<string> {
    return (await this.get('/metrics')).text();
  }

  /** The container's latest run once it is closed. */
  async finishedRun(containerId: string, timeoutMs = 15_000): Promise<ApiRun> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const { runs } = (await (await this.get('/api/v1/runs?limit=200')).json()) as { runs: ApiRun[] };
      const run = runs.find((r) => r.containerId === containerId && r.status !== 'running');
      if (run) return run;
      if (Date.now() > deadline) throw new Error(`run of ${containerId.slice(0, 12)} did not finish; agent log:\n${this.log().slice(-3000)}`);
      await sleep(50);
    }
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null) return;
    const closed = new Promise((r) => this.child.once('close', r));
    this.child.kill('SIGTERM');
    await Promise.race([closed, sleep(10_000)]);
    if (this.child.exitCode === null) this.child.kill('SIGKILL');
  }
}
