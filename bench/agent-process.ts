// The agent's cost on the node as a node sees it: the built `flare-agent start` as a process of its own
// (every thread: sampler, HTTP, summaries, retention, libuv), attached through Docker to N sleeping
// containers, sampling at 10 Hz. Its CPU is read from /proc/<pid>/stat (all its threads and the
// commands it ran, in USER_HZ ticks of 10 ms), over a window after a warm-up, and over its first 20 s from
// spawn (start-up and JIT included), beside the FLARE22 monitor (bench/flare22_monitor.py) measuring a
// 20-s command the same way. Needs the Docker engine and the flare-test/busybox image the tests use;
// the monitor needs /usr/bin/time and python3 with psutil and numpy (left out without them).
import { execFileSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Docker from 'dockerode';
import { listeningPort, spawnBenchAgent, stopChild } from './agent-child.js';

const IMAGE = 'flare-test/busybox:latest';
const USER_HZ = 100;
const sleepMs = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const round = (x: number, digits = 3): number => Math.round(x * 10 ** digits) / 10 ** digits;

/**
 * CPU of a process and all its threads, and of the children it waited for (the commands it ran), in
 * seconds: utime + stime + cutime + cstime, fields 14 to 17 of /proc/<pid>/stat (proc(5)).
 */
function cpuSecondsOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
  // The command name (field 2) may hold spaces: the fields that follow start after its closing parenthesis.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14])) / USER_HZ;
}

/**
 * How often the agent's main thread (the sampler's) went to sleep and was woken: its voluntary context
 * switches (proc(5), /proc/<pid>/task/<pid>/status). At 10 Hz, 10 a second is one wake-up per tick; each
 * more is a timer or a message of its own, ~150 µs of CPU on a small VM (docs/performance.md).
 */
function mainThreadWakesOf(pid: number): number {
  const status = readFileSync(`/proc/${pid}/task/${pid}/status`, 'latin1');
  return Number(/^voluntary_ctxt_switches:\s+(\d+)$/m.exec(status)?.[1] ?? NaN);
}

/** A stretch of the agent's life to measure: from `fromSeconds` after its spawn, for `seconds`. */
export interface CpuWindow {
  fromSeconds: number;
  seconds: number;
}

export interface AgentProcessFigures {
  targets: number;
  intervalMs: number;
  /** CPU over each window asked for, % of one core, and the main thread's wake-ups a second, in the order asked. */
  windows: { fromSeconds: number; seconds: number; agentCpuPctOfOneCore: number; mainThreadWakesPerSecond: number }[];
  /** CPU from spawn to 20 s after it, seconds (start-up, attach, JIT and any command it ran included). */
  first20sCpuSeconds: number;
  /** Ticks missed from the first window's start to the last one's end. */
  missedTicks: number;
}

/** The Docker Engine the benches use: DOCKER_HOST's socket, else the default one. */
export function benchDocker(): Docker {
  return new Docker({ socketPath: process.env.DOCKER_HOST?.replace(/^unix:\/\//, '') ?? '/var/run/docker.sock' });
}

/** N sleeping containers labelled for one bench, running while `fn` runs (given their selector and the containers), removed after it. */
export async function withSleepingContainers<T>(targets: number, fn: (select: string, containers: readonly Docker.Container[]) => Promise<T>): Promise<T> {
  const docker = benchDocker();
  await docker.getImage(IMAGE).inspect();
  const tag = `bench-process-${process.pid}-${targets}-${Date.now()}`;
  const containers: Docker.Container[] = [];
  try {
    for (let i = 0; i < targets; i++) {
      const c = await docker.createContainer({ Image: IMAGE, Cmd: ['sleep', '3600'], Labels: { 'flare.bench': tag, 'flare.team': 'bench', 'flare.case': `c${i}` }, HostConfig: { NetworkMode: 'none' } });
      await c.start();
      containers.push(c);
    }
    return await fn(`label:flare.bench=${tag}`, containers);
  } finally {
    await Promise.all(containers.map((c) => c.remove({ force: true }).catch(() => undefined)));
  }
}

/** The built agent started on a fresh database, sampling what `select` takes at `intervalMs`; its output gathered. */
export function spawnAgent(dir: string, select: string, intervalMs: number, nodeFlags: string[] = []): { child: ChildProcess; output: () => string } {
  return spawnBenchAgent(join(dir, 'agent.db'), ['--interval-ms', String(intervalMs), '--select', select], nodeFlags);
}

/** The port the agent said it listens on. */
export function portOf(output: string): number {
  const port = listeningPort(output);
  if (!port) throw new Error(`agent did not listen: ${output.slice(-2000)}`);
  return port;
}

/** Waits until the agent samples `targets` runs (it found every container). */
export async function waitForRuns(port: number, targets: number, withinMs = 20_000): Promise<void> {
  const t0 = Date.now();
  for (;;) {
    const live = (await (await fetch(`http://127.0.0.1:${port}/api/v1/live`)).json()) as { runs?: unknown[] };
    if ((live.runs?.length ?? 0) === targets) return;
    if (Date.now() - t0 > withinMs) throw new Error(`agent samples ${live.runs?.length ?? 0} runs, not ${targets}`);
    await sleepMs(100);
  }
}

/** One built agent sampling `targets` sleeping containers; its CPU over its first 20 s and over each window (in order, not overlapping). */
export async function benchAgentProcess(targets: number, windows: CpuWindow[], intervalMs = 100): Promise<AgentProcessFigures> {
  const dir = mkdtempSync(join(tmpdir(), 'flare-bench-process-'));
  try {
    return await withSleepingContainers(targets, async (select) => {
      // The containers run before the agent starts: it finds them at its start, as after an agent restart.
      const t0 = performance.now();
      const untilSecond = (s: number): Promise<void> => sleepMs(Math.max(0, s * 1000 - (performance.now() - t0)));
      const { child, output } = spawnAgent(dir, select, intervalMs);
      const pid = child.pid!;
      try {
        await untilSecond(20);
        const first20sCpuSeconds = cpuSecondsOf(pid);
        const port = portOf(output());
        await waitForRuns(port, targets);
        const missed0 = await missedTicks(port);
        const measured: AgentProcessFigures['windows'] = [];
        for (const w of windows) {
          await untilSecond(w.fromSeconds);
          const cpu0 = cpuSecondsOf(pid);
          const wakes0 = mainThreadWakesOf(pid);
          const w0 = performance.now();
          await untilSecond(w.fromSeconds + w.seconds);
          const windowSeconds = (performance.now() - w0) / 1000;
          measured.push({
            fromSeconds: w.fromSeconds,
            seconds: round(windowSeconds, 1),
            agentCpuPctOfOneCore: round((100 * (cpuSecondsOf(pid) - cpu0)) / windowSeconds),
            mainThreadWakesPerSecond: round((mainThreadWakesOf(pid) - wakes0) / windowSeconds, 1),
          });
        }
        return { targets, intervalMs, windows: measured, first20sCpuSeconds: round(first20sCpuSeconds, 2), missedTicks: (await missedTicks(port)) - missed0 };
      } finally {
        await stopChild(child);
      }
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** flare_agent_missed_ticks_total from /metrics. */
export async function missedTicks(port: number): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const m = /^flare_agent_missed_ticks_total (\d+)/m.exec(text);
  if (!m) throw new Error('no flare_agent_missed_ticks_total in /metrics');
  return Number(m[1]);
}

/**
 * The FLARE22 monitor's CPU over a 20-s command (`sleep 20`, which costs nothing itself), every process
 * it starts included (its multiprocessing manager and monitor), measured by /usr/bin/time; null
 * when python3 lacks psutil or numpy.
 */
export function benchFlare22Monitor(seconds = 20): { monitorCpuSeconds: number } | null {
  const python = '/usr/bin/python3';
  if (!existsSync('/usr/bin/time') || !existsSync(python)) return null;
  try {
    execFileSync(python, ['-c', 'import psutil, numpy'], { stdio: 'ignore' });
  } catch {
    return null;
  }
  const dir = mkdtempSync(join(tmpdir(), 'flare-bench-monitor-'));
  try {
    const state = join(dir, 'state');
    writeFileSync(state, 'device 0 GPU-0 0\n');
    const timesFile = join(dir, 'times');
    execFileSync('/usr/bin/time', ['-f', '%U %S', '-o', timesFile, python, join(process.cwd(), 'bench/flare22_monitor.py'), state, 'bench', 'sleep', String(seconds)], { stdio: 'ignore' });
    const [user, system] = readFileSync(timesFile, 'utf8').trim().split('\n').at(-1)!.split(' ').map(Number);
    return { monitorCpuSeconds: round(user + system, 2) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
