// Helpers of the fault suite: a real small tmpfs (mounted as root, unmounted after), the agent as a
// child process (the built CLI), and its own /healthz and /metrics read back.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { CLI, requireServices, sleep, tempDir } from '../helpers.js';

export interface Tmpfs {
  dir: string;
  unmount(): void;
}

/** Whether this process may mount (root): the fault suite needs it, and fails under CI without it. */
export const canMount = process.getuid?.() === 0;
export const mustRun = requireServices();

export function mountTmpfs(sizeMiB: number): Tmpfs {
  const dir = tempDir('flare-fault-');
  const r = spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${sizeMiB}m,mode=0755`, 'tmpfs', dir], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`mount tmpfs on ${dir} failed: ${r.stderr}`);
  let mounted = true;
  return {
    dir,
    unmount(): void {
      if (!mounted) return;
      mounted = false;
      spawnSync('umount', ['-l', dir]);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export function remountReadOnly(dir: string): void {
  const r = spawnSync('mount', ['-o', 'remount,ro', dir], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`remount ro ${dir} failed: ${r.stderr}`);
}

export interface AgentChild {
  child: ChildProcess;
  pid: number;
  port: number;
  out(): string;
  health(): Promise<Health>;
  metrics(): Promise<Map<string, number>>;
  rssMiB(): number;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

export interface Health {
  sources: Record<string, { up: boolean; reason?: string }>;
  ticks: { count: number; missed: number };
  store?: { queuedSamples: number; pendingRuns: number; pendingVerdicts: number };
}

/** Starts `flare-agent start` with these flags; resolves once it listens (rejects when it exits first). */
export async function startAgentChild(args: string[], env: NodeJS.ProcessEnv = {}): Promise<AgentChild> {
  const child = spawn(process.execPath, [CLI, 'start', '--listen', '127.0.0.1:0', '--gpu-source', 'none', ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  let exited: number | null | undefined;
  const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve((exited = code))));
  for (let i = 0; i < 600 && !/"msg":"listening"/.test(out); i++) {
    if (exited !== undefined) throw new Error(`agent exited ${exited} before listening: ${out}`);
    await sleep(50);
  }
  const port = Number(/"msg":"listening".*?"port":(\d+)/.exec(out)?.[1]);
  if (!port) throw new Error(`agent did not listen: ${out}`);
  const base = `http://127.0.0.1:${port}`;
  return {
    child,
    pid: child.pid!,
    port,
    out: () => out,
    health: async () => (await (await fetch(`${base}/healthz`)).json()) as Health,
    metrics: async () => parseMetrics(await (await fetch(`${base}/metrics`)).text()),
    rssMiB: () => Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))?.[1]) / 1024,
    stop: async (signal = 'SIGTERM') => {
      if (exited === undefined) child.kill(signal);
      return exit;
    },
  };
}

/** Prometheus text → series (with labels, as written) → value. */
export function parseMetrics(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line.startsWith('#') || line.trim() === '') continue;
    const i = line.lastIndexOf(' ');
    out.set(line.slice(0, i), Number(line.slice(i + 1)));
  }
  return out;
}

/** The p-quantile (0..1) upper bound of a Prometheus histogram, from its cumulative buckets (seconds). */
export function histogramQuantile(m: Map<string, number>, name: string, q: number): number {
  const buckets: [number, number][] = [];
  for (const [k, v] of m) {
    const b = new RegExp(`^${name}_bucket\\{le="([^"]+)"\\}$`).exec(k);
    if (b) buckets.push([b[1] === '+Inf' ? Infinity : Number(b[1]), v]);
  }
  buckets.sort((a, b) => a[0] - b[0]);
  const total = buckets.at(-1)?.[1] ?? 0;
  for (const [le, count] of buckets) if (count >= q * total) return le;
  return Infinity;
}
