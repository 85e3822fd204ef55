// The built agent as a child process for the benches that read it over HTTP (season, official-stored,
// accuracy-large): started on a database with no GPU source and a selector no container matches, so
// it serves reads and samples only the host. Resolves once it listens and /healthz answers.
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** The built CLI; FLARE_BENCH_CLI names another build (an older one, for before/after figures). */
export const CLI = process.env.FLARE_BENCH_CLI ?? fileURLToPath(new URL('../src/cli.js', import.meta.url));

export interface BenchAgent {
  pid: number;
  base: string;
  /** Everything the agent wrote so far (its JSON log lines). */
  output(): string;
  stop(): Promise<void>;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** `flare-agent start --db DB` on a free loopback port with no GPU source, `args` after it; its output gathered. */
export function spawnBenchAgent(db: string, args: string[], nodeFlags: string[] = []): { child: ChildProcess; output(): string } {
  const child = spawn(process.execPath, [...nodeFlags, CLI, 'start', '--db', db, '--listen', '127.0.0.1:0', '--gpu-source', 'none', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  return { child, output: () => out };
}

/** The port the agent's log says it listens on; 0 until it says so. */
export function listeningPort(output: string): number {
  return Number(/"msg":"listening".*?"port":(\d+)/.exec(output)?.[1] ?? 0);
}

/** SIGTERM, then waits for the exit. */
export async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await exited;
}

/** `flare-agent start --db DB …extra`; throws with the agent's output if it exits or does not listen within a minute. */
export async function startBenchAgent(db: string, extra: string[] = []): Promise<BenchAgent> {
  const { child, output } = spawnBenchAgent(db, ['--select', 'label:flare.bench-none=1', ...extra]);
  let port = 0;
  for (let i = 0; i < 2400 && !port; i++) {
    if (child.exitCode !== null) throw new Error(`agent exited: ${output()}`);
    port = listeningPort(output());
    if (!port) await sleep(25);
  }
  if (!port) throw new Error(`agent did not listen: ${output()}`);
  const base = `http://127.0.0.1:${port}`;
  while ((await fetch(`${base}/healthz`)).status !== 200) await sleep(10);
  return { pid: child.pid!, base, output, stop: () => stopChild(child) };
}
