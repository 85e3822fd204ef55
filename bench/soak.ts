// The soak: the built agent (a child process, as on a node) follows N short container lifecycles on
// the real Docker engine, 1–3 at a time, through one dockerd restart and one agent restart (SIGTERM)
// with containers in flight. The mix: exit 0, exit 1, an OOM kill in an 8 MiB cgroup, and `sleep 10`
// past an enforced 3-s limit. Every verdict is compared with Docker's own record of the container
// (inspected when it ended): lost, wrong status, wrong exit code, wall time off by more than 20 ms,
// over its limit and not killed, interrupted with no final verdict. The agent's RSS, fds and threads
// are read every 100 lifecycles. Prints JSON.
// Usage: node dist/bench/soak.js [--lifecycles 2000] [--parallel 3] [--agent-log FILE]  (Docker, the
// flare-test/busybox image, root, and scripts/services.sh to restart dockerd: the test suite's setup.)
// With --agent-log, both agents' info-level logs are appended to FILE, to explain any mismatch.
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, existsSync, openSync, closeSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Docker from 'dockerode';
import { within } from '../src/agent/recover.js';
import { oomInEventLog } from '../src/runtime/docker/events.js';
import { parseDockerTimeNs } from '../src/runtime/docker/time.js';
import { openStoreReadOnly } from '../src/store/index.js';
import { allRuns } from '../src/store/all-runs.js';
import { compareWithDocker, type Lifecycle, type SoakCounts } from './soak-compare.js';

const IMAGE = 'flare-test/busybox:latest';
const LIMIT_SECONDS = 3;
const sleepMs = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** The mix, one kind per lifecycle index (of every 20: 8 exit 0, 6 exit 1, 3 OOM, 3 over the limit). */
function kindOf(k: number): Lifecycle['kind'] {
  const r = k % 20;
  return r < 8 ? 'ok' : r < 14 ? 'fail' : r < 17 ? 'oom' : 'limit';
}

const SPEC: Record<Lifecycle['kind'], { cmd: string; labels?: Record<string, string>; host?: Docker.HostConfig }> = {
  ok: { cmd: 'sleep 0.3' },
  fail: { cmd: 'sleep 0.2; exit 1' },
  oom: { cmd: 'dd if=/dev/zero of=/m/x bs=1M count=64', host: { Memory: 8 << 20, MemorySwap: 8 << 20, Tmpfs: { '/m': 'size=128m' } } },
  limit: { cmd: 'sleep 10', labels: { 'flare.time_limit_s': String(LIMIT_SECONDS) } },
};

export interface SoakOptions {
  lifecycles: number;
  parallel: number;
  /** The built CLI (dist/src/cli.js). */
  cli: string;
  log?: (line: string) => void;
  /** Where the agents' logs (info level) are appended; without it they are discarded. */
  agentLog?: string;
}

export interface ProcessFigures {
  atLifecycle: number;
  pid: number;
  rssMiB: number;
  fds: number;
  threads: number;
}

export interface SoakReport extends SoakCounts {
  lifecycles: number;
  lifecyclesPerMinute: number;
  missedTicks: number;
  dockerdRestartAt: number;
  agentRestartAt: number;
  /** When dockerd and the agent were away, epoch ms (from its SIGTERM to its return). */
  engineDown: { fromMs: number; toMs: number };
  agentDown: { fromMs: number; toMs: number };
  /** The agent process every 100 lifecycles (a new pid after its restart). */
  process: ProcessFigures[];
  /** The second agent once up with no container in flight, and at the end with every container done. */
  fdsAtStart: number;
  fdsAtEnd: number;
  threadsAtStart: number;
  threadsAtEnd: number;
  /** Descriptors open at the end and not at the baseline, and the reverse (what they point at). */
  fdsOpenedSinceStart: string[];
  fdsClosedSinceStart: string[];
  wallSeconds: number;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

/** What the process's descriptors point at (sockets and anonymous inodes by kind only). */
function fdTargets(pid: number): string[] {
  const out: string[] = [];
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      out.push(readlinkSync(`/proc/${pid}/fd/${fd}`).replace(/\[\d+\]$/, ''));
    } catch {
      /* closed meanwhile */
    }
  }
  return out.sort();
}

/** The multiset difference a − b. */
function without(a: string[], b: string[]): string[] {
  const left = [...b];
  return a.filter((x) => {
    const i = left.indexOf(x);
    if (i < 0) return true;
    left.splice(i, 1);
    return false;
  });
}

function figuresOf(pid: number, atLifecycle: number): ProcessFigures {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const field = (k: string): number => Number(new RegExp(`^${k}:\\s+(\\d+)`, 'm').exec(status)?.[1] ?? NaN);
  return { atLifecycle, pid, rssMiB: Math.round(field('VmRSS') / 102.4) / 10, fds: readdirSync(`/proc/${pid}/fd`).length, threads: field('Threads') };
}

async function get(port: number, path: string): Promise<string> {
  const res = await fetch(`http://127.0.0.1:${port}${path}`, { headers: { connection: 'close' } });
  return res.text();
}

class AgentProcess {
  child: ChildProcess | null = null;
  constructor(private readonly cli: string, private readonly db: string, private readonly port: number, private readonly tag: string, private readonly logFile?: string) {}

  async start(): Promise<void> {
    const logFd = this.logFile ? openSync(this.logFile, 'a') : null;
    const args = [this.cli, 'start', '--db', this.db, '--listen', `127.0.0.1:${this.port}`, '--runtime', 'docker', '--gpu-source', 'none', '--interval-ms', '100', '--select', `label:flare.soak=${this.tag}`, '--enforce-time-limit', '--log-level', logFd === null ? 'warn' : 'info'];
    this.child = spawn(process.execPath, args, { stdio: ['ignore', logFd ?? 'ignore', logFd ?? 'inherit'] });
    if (logFd !== null) closeSync(logFd); // the child holds its own copy
    for (let i = 0; ; i++) {
      try {
        if ((JSON.parse(await get(this.port, '/healthz')) as { sources: { docker: { up: boolean } } }).sources.docker.up) return;
      } catch {
        /* not listening yet */
      }
      if (i > 300 || this.child.exitCode !== null) throw new Error('agent did not come up');
      await sleepMs(50);
    }
  }

  async missedTicks(): Promise<number> {
    const m = /^flare_agent_missed_ticks_total\s+(\S+)/m.exec(await get(this.port, '/metrics'));
    return m ? Number(m[1]) : NaN;
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    await exited;
  }
}

/** SIGTERM to the engine (it stops its containers, as on a reboot), then a new one through scripts/services.sh. */
async function restartDockerd(window: { fromMs: number; toMs: number }): Promise<void> {
  window.fromMs = Date.now();
  const pid = Number(readFileSync('/var/run/docker.pid', 'utf8').trim());
  process.kill(pid, 'SIGTERM');
  for (let i = 0; existsSync(`/proc/${pid}`); i++) {
    if (i > 600) throw new Error('dockerd did not stop');
    await sleepMs(50);
  }
  // In a session of its own: the engine must outlive this process and whatever signals its group.
  execFileSync('setsid', ['bash', '-c', '. scripts/services.sh; start_dockerd'], { stdio: 'ignore', timeout: 60_000 });
  window.toMs = Date.now();
}

/** A Docker call retried while the engine is away (its restart), each try bounded, for up to a minute or so. */
async function retried<T>(what: () => Promise<T>): Promise<T> {
  for (let i = 0; ; i++) {
    try {
      return await within(10_000, 'docker call', what());
    } catch (e) {
      if (i > 300) throw e;
      await sleepMs(200);
    }
  }
}

export async function soak(opts: SoakOptions): Promise<SoakReport> {
  const log = opts.log ?? (() => {});
  const docker = new Docker({ socketPath: '/var/run/docker.sock' });
  await docker.getImage(IMAGE).inspect();
  const dir = mkdtempSync(join(tmpdir(), 'flare-soak-'));
  const tag = `soak-${process.pid}-${Date.now() % 100000}`;
  const agent = new AgentProcess(opts.cli, join(dir, 'soak.db'), await freePort(), tag, opts.agentLog);
  const dockerdRestartAt = Math.floor(opts.lifecycles * 0.4);
  const agentRestartAt = Math.floor(opts.lifecycles * 0.7);
  const done: Lifecycle[] = [];
  const figures: ProcessFigures[] = [];
  const toRemove: Array<{ id: string; endedMs: number }> = [];
  let next = 0;
  let missedTicks = 0;
  /** The second agent once it has settled in, with no container in flight. */
  let baseline: ProcessFigures | null = null;
  let baselineFds: string[] = [];
  let pause: Promise<void> | null = null;
  let inFlight = 0;
  const logQueries: Promise<unknown>[] = [];
  const engineDown = { fromMs: NaN, toMs: NaN };
  const agentDown = { fromMs: NaN, toMs: NaN };
  const t0 = Date.now();
  await agent.start();

  const one = async (k: number): Promise<void> => {
    const kind = kindOf(k);
    const spec = SPEC[kind];
    const c = await retried(() => docker.createContainer({ Image: IMAGE, Cmd: ['sh', '-c', spec.cmd], Labels: { 'flare.soak': tag, 'flare.team': `soak-${kind}`, 'flare.case': `c${k}`, ...spec.labels }, HostConfig: { NetworkMode: 'none', ...spec.host } }));
    // A start refused while dockerd stops: its record says so. 304: an earlier try started it.
    await retried(() => c.start().catch((e: { statusCode?: number }) => { if (e.statusCode !== 304) throw e; })).catch(() => undefined);
    // Polled, not Docker's long-polling wait: a wait open across an engine restart can hang for good.
    let info = await retried(() => c.inspect());
    while (info.State.Running || info.State.Restarting) {
      await sleepMs(100);
      info = await retried(() => c.inspect());
    }
    const l: Lifecycle = { id: c.id, kind, limitSeconds: kind === 'limit' ? LIMIT_SECONDS : null, state: info.State, dockerLoggedOom: null };
    done.push(l);
    if (kind === 'oom' && !info.State.OOMKilled) {
      // Docker's own log, asked once its late `oom` (if any) has surely come: for the judge only.
      const startedNs = parseDockerTimeNs(info.State.StartedAt);
      const finishedNs = parseDockerTimeNs(info.State.FinishedAt);
      if (startedNs !== null && finishedNs !== null) logQueries.push(sleepMs(2000).then(async () => (l.dockerLoggedOom = await oomInEventLog(docker, c.id, startedNs, finishedNs))));
    }
    toRemove.push({ id: c.id, endedMs: Date.now() });
  };

  const worker = async (): Promise<void> => {
    for (;;) {
      if (pause) await pause;
      const k = next++;
      if (k >= opts.lifecycles) return;
      if (k === dockerdRestartAt) pause = restartDockerd(engineDown).then(() => log(`dockerd restarted at lifecycle ${k}`)).finally(() => (pause = null));
      if (k === agentRestartAt) {
        // With containers in flight: the others keep running while no agent runs.
        void (async () => {
          missedTicks += await agent.missedTicks();
          agentDown.fromMs = Date.now();
          await agent.stop();
          await sleepMs(1000);
          await agent.start();
          agentDown.toMs = Date.now();
          log(`agent restarted at lifecycle ${k}`);
          // A quiet moment for the new agent's baseline: no container in flight, its late attaches settled.
          pause = (async () => {
            while (inFlight > 0) await sleepMs(50);
            await sleepMs(1500);
            baseline = figuresOf(agent.child!.pid!, done.length);
            baselineFds = fdTargets(agent.child!.pid!);
          })().finally(() => (pause = null));
        })();
      }
      inFlight++;
      await one(k).finally(() => inFlight--);
      if (done.length % 10 === 0) log(`${done.length} lifecycles`);
      const alive = agent.child?.exitCode === null;
      if (done.length % 100 === 0 && alive) figures.push(figuresOf(agent.child!.pid!, done.length));
      // Docker's record is kept until the agent has surely had it (its verdict, or a restart's settling).
      while (toRemove.length > 0 && Date.now() - toRemove[0].endedMs > 30_000) await docker.getContainer(toRemove.shift()!.id).remove({ force: true }).catch(() => undefined);
    }
  };
  await Promise.all(Array.from({ length: opts.parallel }, () => worker()));
  log(`${done.length} lifecycles done`);
  await Promise.all(logQueries);
  await sleepMs(7000); // the last verdicts, and the 5-s recheck of an exit 137 (runtime/watcher.ts)
  const end = figuresOf(agent.child!.pid!, done.length);
  const endFds = fdTargets(agent.child!.pid!);
  figures.push(end);
  missedTicks += await agent.missedTicks();
  await agent.stop();
  log('agent stopped');
  const wallSeconds = (Date.now() - t0) / 1000;
  const start = baseline as ProcessFigures | null; // set inside the workers
  const store = openStoreReadOnly(join(dir, 'soak.db'));
  const known = (w: { fromMs: number; toMs: number }) => (Number.isNaN(w.toMs) ? null : w);
  const counts = compareWithDocker(done, allRuns(store, {}), { engineDown: known(engineDown), agentDown: known(agentDown) });
  store.close();
  for (const { id } of toRemove) await docker.getContainer(id).remove({ force: true }).catch(() => undefined);
  rmSync(dir, { recursive: true, force: true });
  return {
    lifecycles: done.length,
    ...counts,
    lifecyclesPerMinute: Math.round((done.length / wallSeconds) * 60 * 10) / 10,
    missedTicks,
    dockerdRestartAt,
    agentRestartAt,
    engineDown,
    agentDown,
    process: figures,
    fdsAtStart: start?.fds ?? NaN,
    fdsAtEnd: end.fds,
    threadsAtStart: start?.threads ?? NaN,
    threadsAtEnd: end.threads,
    fdsOpenedSinceStart: without(endFds, baselineFds),
    fdsClosedSinceStart: without(baselineFds, endFds),
    wallSeconds: Math.round(wallSeconds),
  };
}

if (process.argv[1]?.endsWith('soak.js')) {
  const arg = (name: string): string | undefined => {
    const i = process.argv.indexOf(`--${name}`);
    return i > 0 ? process.argv[i + 1] : undefined;
  };
  const report = await soak({ lifecycles: Number(arg('lifecycles') ?? 2000), parallel: Number(arg('parallel') ?? 3), cli: join(process.cwd(), 'dist/src/cli.js'), agentLog: arg('agent-log'), log: (l) => process.stderr.write(l + '\n') });
  process.stdout.write(JSON.stringify(report, null, 2) + '\n');
}
