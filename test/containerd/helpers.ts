// A standalone containerd for the tests (its own --root, --state and socket, from a config file; the
// CRI plugin off), the flare-test/busybox image imported into namespace k8s.io from `docker save`,
// and pods made as kubelet makes them: a sandbox container carrying the pod's labels and a workload
// container with kubelet's io.kubernetes.* labels, in a kubepods cgroup. Created with `ctr`.
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { startAgent, type RunningAgent } from '../../src/daemon/agent.js';
import { DEFAULTS, type AgentConfig } from '../../src/agent/config.js';
import { containerdAttachment } from '../../src/runtime/containerd/adapter.js';
import { silentLogger } from '../../src/log.js';
import { tempDir } from '../helpers.js';

export const NAMESPACE = 'k8s.io';
export const IMAGE = 'docker.io/flare-test/busybox:latest';
const V1 = existsSync('/sys/fs/cgroup/cpuacct');

export function containerdInstalled(): boolean {
  try {
    execFileSync('containerd', ['--version'], { stdio: 'ignore' });
    execFileSync('docker', ['image', 'inspect', 'flare-test/busybox:latest'], { stdio: 'ignore' });
    return process.getuid?.() === 0;
  } catch {
    return false;
  }
}

export interface Containerd {
  address: string;
  ctr(args: string[], timeoutMs?: number): string;
  stop(): Promise<void>;
}

export async function startContainerd(): Promise<Containerd> {
  const dir = tempDir('flare-containerd-');
  const address = join(dir, 'containerd.sock');
  const config = join(dir, 'config.toml');
  writeFileSync(config, [
    'version = 2',
    `root = "${dir}/root"`,
    `state = "${dir}/state"`,
    'disabled_plugins = ["io.containerd.grpc.v1.cri"]',
    '[grpc]',
    `  address = "${address}"`,
    '[ttrpc]',
    `  address = "${address}.ttrpc"`,
  ].join('\n') + '\n');
  const child: ChildProcess = spawn('containerd', ['--config', config], { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  child.stderr?.on('data', (d: Buffer) => (log = (log + d.toString()).slice(-4000)));
  const ctr = (args: string[], timeoutMs = 60_000): string => execFileSync('ctr', ['--address', address, '-n', NAMESPACE, ...args], { encoding: 'utf8', timeout: timeoutMs, stdio: ['ignore', 'pipe', 'pipe'] });
  for (let i = 0; !existsSync(address); i++) {
    if (i > 100 || child.exitCode !== null) throw new Error(`containerd did not start: ${log}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  const tar = join(dir, 'busybox.tar');
  execFileSync('docker', ['save', '-o', tar, 'flare-test/busybox:latest']);
  ctr(['images', 'import', '--snapshotter', 'native', tar]);
  return {
    address,
    ctr,
    async stop() {
      child.kill('SIGTERM');
      await new Promise((r) => (child.exitCode !== null ? r(null) : child.once('exit', r)));
      // Snapshots of the native snapshotter are plain directories; tasks are gone with containerd.
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The pod's cgroup parent, as kubelet's cgroupfs driver lays it out (v1: per controller). */
function podCgroup(uid: string): { parent: string; hostCpuDir: string } {
  const parent = `/kubepods/besteffort/pod${uid}`;
  return { parent, hostCpuDir: V1 ? `/sys/fs/cgroup/cpuacct${parent}` : `/sys/fs/cgroup${parent}` };
}

export interface PodSpec {
  /** The pod's labels (the organiser's), put on the sandbox as kubelet does. */
  podLabels: Record<string, string>;
  cmd: string;
  /** Labels on the workload container itself (as from the team's image). */
  containerLabels?: Record<string, string>;
}

export interface Pod {
  uid: string;
  sandboxId: string;
  containerId: string;
  /** Inside the workload: a shell function `cpu_ns` printing its own cgroup's CPU (ns). */
  cpuFn: string;
  remove(): void;
}

export function makePod(c: Containerd, spec: PodSpec): Pod {
  const uid = randomBytes(8).toString('hex');
  const sandboxId = `sb-${uid}`;
  const containerId = `ctr-${uid}`;
  const podName = `flare-eval-${uid.slice(0, 6)}`;
  const { parent, hostCpuDir } = podCgroup(uid);
  mkdirSync(hostCpuDir, { recursive: true });
  const kubelet = { 'io.kubernetes.pod.uid': uid, 'io.kubernetes.pod.name': podName, 'io.kubernetes.pod.namespace': 'flare-eval' };
  const labelArgs = (l: Record<string, string>): string[] => Object.entries(l).flatMap(([k, v]) => ['--label', `${k}=${v}`]);
  c.ctr(['run', '-d', '--snapshotter', 'native', '--cgroup', `${parent}/${sandboxId}`, ...labelArgs({ ...spec.podLabels, ...kubelet, 'io.cri-containerd.kind': 'sandbox' }), IMAGE, sandboxId, 'sleep', '3600']);
  // The workload reads its own CPU counter through the pod's cgroup folder, bound read-only.
  const cpuFn = V1
    ? `cpu_ns() { cat /podcg/${containerId}/cpuacct.usage; }`
    : `cpu_ns() { read k v < /podcg/${containerId}/cpu.stat; echo $((v * 1000)); }`;
  return {
    uid,
    sandboxId,
    containerId,
    cpuFn,
    remove() {
      for (const id of [containerId, sandboxId]) {
        try {
          c.ctr(['task', 'kill', '-s', 'KILL', id], 10_000);
        } catch {
          /* not running */
        }
        for (let i = 0; i < 50; i++) {
          try {
            c.ctr(['task', 'rm', id], 10_000);
            break;
          } catch {
            /* exiting */
          }
        }
        try {
          c.ctr(['container', 'rm', id], 10_000);
        } catch {
          /* never created */
        }
      }
      // runc made the pod's cgroups in every hierarchy: remove them bottom-up (a parent still in use stays).
      const roots = V1 ? readdirSync('/sys/fs/cgroup').map((h) => join('/sys/fs/cgroup', h)) : ['/sys/fs/cgroup'];
      for (const root of roots) {
        for (const rel of [`${parent}/${containerId}`, `${parent}/${sandboxId}`, parent, '/kubepods/besteffort', '/kubepods']) {
          try {
            rmdirSync(join(root, rel));
          } catch {
            /* absent, or still in use */
          }
        }
      }
    },
  };
}

/**
 * `ctr run` of the workload container of `pod`, asynchronously (the agent under test shares this
 * process's event loop); resolves when ctr returns (at the exit, or at once with detach), whatever
 * the workload's exit status, with its stdout.
 */
export function runWorkload(c: Containerd, pod: Pod, spec: PodSpec, detach: boolean): Promise<string> {
  const { parent, hostCpuDir } = podCgroup(pod.uid);
  const kubelet = {
    'io.kubernetes.pod.uid': pod.uid,
    'io.kubernetes.pod.name': `flare-eval-${pod.uid.slice(0, 6)}`,
    'io.kubernetes.pod.namespace': 'flare-eval',
    'io.kubernetes.container.name': 'predict',
    'io.cri-containerd.kind': 'container',
  };
  const labels = { ...spec.containerLabels, ...kubelet };
  const args = [
    '--address', c.address, '-n', NAMESPACE,
    'run', ...(detach ? ['-d'] : []), '--snapshotter', 'native', '--cgroup', `${parent}/${pod.containerId}`,
    '--mount', `type=bind,src=${hostCpuDir},dst=/podcg,options=rbind:ro`,
    ...Object.entries(labels).flatMap(([k, v]) => ['--label', `${k}=${v}`]),
    IMAGE, pod.containerId, 'sh', '-c', `${pod.cpuFn}; ${spec.cmd}`,
  ];
  return new Promise((resolve) => execFile('ctr', args, { timeout: 120_000 }, (_err, stdout) => resolve(String(stdout))));
}

/** An agent in this process attached to containerd `c` only, selecting `label:flare.test=<tag>`; resolves once the source is up. */
export async function startContainerdAgent(c: Containerd, tag: string, overrides: Partial<AgentConfig> = {}): Promise<RunningAgent> {
  const config: AgentConfig = { ...DEFAULTS, db: join(tempDir('flare-ctd-agent-'), 'agent.db'), listen: '127.0.0.1:0', gpuSource: 'none', intervalMs: 100, select: `label:flare.test=${tag}`, runtime: 'containerd', containerdAddress: c.address, containerdNamespace: NAMESPACE, ...overrides };
  const agent = await startAgent(config, silentLogger, [(ctx) => containerdAttachment(ctx, { address: c.address, namespace: NAMESPACE })]);
  for (let i = 0; !agent.live.health().sources.containerd.up; i++) {
    if (i > 200) throw new Error('containerd source never up');
    await new Promise((r) => setTimeout(r, 25));
  }
  return agent;
}
