// A runtime adapter over plain child processes, for testing the generic watcher (src/runtime/watcher.ts)
// through the interface, with faults no real daemon makes on demand: a kill that fails, an OOM event
// that comes after the exit, a start that lies in the past. Each "container" is a real `sleep` process
// (so its pid, liveness and /proc are real); it has no cgroup of its own (the run says `no-cgroup`).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startAgent, type RunningAgent } from '../../src/daemon/agent.js';
import { DEFAULTS, type AgentConfig } from '../../src/agent/config.js';
import { silentLogger } from '../../src/log.js';
import type { ContainerEnd, ContainerFacts, GapOutcome, LifecycleEvent, RuntimeAdapter } from '../../src/runtime/adapter.js';
import type { KillSignal } from '../../src/runtime/kill.js';
import { watchRuntime, type RuntimeWatcher } from '../../src/runtime/watcher.js';
import { tempDir } from '../helpers.js';

interface FakeContainer {
  child: ChildProcess;
  startedAtNs: bigint;
  team: string;
  timeLimitSeconds: number | null;
  exited: { code: number; atNs: bigint } | null;
}

const nowNs = (): bigint => BigInt(Date.now()) * 1_000_000n;

export class FakeRuntime implements RuntimeAdapter {
  readonly name = 'docker' as const;
  readonly traits = { readAtExit: false, removalAfterEndFlag: false, killEvents: false };
  readonly containers = new Map<string, FakeContainer>();
  readonly kills: Array<{ id: string; signal: KillSignal; ok: boolean }> = [];
  /** The next this many kills fail as an unreachable daemon would. */
  failKills = 0;
  /** The next this many kills are never answered. */
  hangKills = 0;
  /** An OOM event this long after the exit event of a container whose exit code is 137 (null: none). */
  oomEventAfterExitMs: number | null = null;
  /** At the exit, the runtime's record cannot be read (a daemon shutting down): the end is the event's, this late. */
  recordUnreadableAtExitMs: number | null = null;
  private emit: ((e: LifecycleEvent) => void) | null = null;
  private readonly oomLogged = new Set<string>();
  private down: ((reason: string) => void) | null = null;
  private readonly cgroups: string[] = [];
  private held: LifecycleEvent[] | null = null;

  async subscribe(onEvent: (e: LifecycleEvent) => void, onDown: (reason: string) => void): Promise<() => void> {
    this.emit = onEvent;
    this.down = onDown;
    return () => {
      this.emit = null;
      this.down = null;
    };
  }

  /** The event stream fails (the daemon restarts); the watcher reconnects. */
  dropStream(): void {
    this.down?.('fake daemon restarted');
  }

  async listRunning(): Promise<Array<{ id: string; pid: number }>> {
    return [...this.containers].filter(([, c]) => !c.exited).map(([id, c]) => ({ id, pid: c.child.pid! }));
  }

  async inspect(id: string): Promise<ContainerFacts | null> {
    const c = this.containers.get(id);
    if (!c) return null;
    return {
      id,
      running: !c.exited,
      pid: c.exited ? 0 : c.child.pid!,
      startedAtNs: c.startedAtNs,
      selection: { labels: { 'flare.team': c.team }, name: id, image: 'fake' },
      neverRun: false,
      flags: [],
    createdBeforeStartSeconds: null,
      end: c.exited ? this.endFrom(c) : null,
      identify: async (env) => ({ identity: { kind: 'container', runtime: 'docker', team: c.team, case: id, node: env.node, containerId: id, containerName: id, image: 'fake', gpuDevices: [] }, timeLimitSeconds: c.timeLimitSeconds, flags: [] }),
    };
  }

  private endFrom(c: FakeContainer): ContainerEnd {
    return { finishedAtNs: c.exited!.atNs, exitCode: c.exited!.code, oomKilled: false, bySignal: false, flags: [] };
  }

  async endOf(id: string): Promise<ContainerEnd> {
    const end = this.endFrom(this.containers.get(id)!);
    if (this.recordUnreadableAtExitMs === null) return end;
    return { ...end, finishedAtNs: end.finishedAtNs! + BigInt(this.recordUnreadableAtExitMs) * 1_000_000n, flags: ['finished-at-from-event'], provisional: true };
  }

  /** Like Docker's event log: an `oom` this runtime sent names the OOM in its record afterwards. */
  async afterGap(id: string): Promise<GapOutcome> {
    const c = this.containers.get(id);
    if (!c?.exited) return { gone: 'container-vanished' };
    return { ended: this.oomLogged.has(id) ? { ...this.endFrom(c), oomKilled: true, oomNamedBy: 'runtime-event-log' } : this.endFrom(c) };
  }

  /** The daemon hangs: kills get no answer and events wait, until `resume`. */
  hang(): void {
    this.held ??= [];
  }

  resume(): void {
    const held = this.held ?? [];
    this.held = null;
    for (const e of held) this.emit?.(e);
  }

  private send(e: LifecycleEvent): void {
    if (this.held) this.held.push(e);
    else this.emit?.(e);
  }

  async kill(id: string, signal: KillSignal): Promise<void> {
    if (this.held) {
      this.kills.push({ id, signal, ok: false });
      return new Promise<void>(() => {});
    }
    if (this.hangKills > 0) {
      // A daemon that takes the request and never answers (stopped, or deadlocked).
      this.hangKills--;
      this.kills.push({ id, signal, ok: false });
      return new Promise<void>(() => {});
    }
    const ok = this.failKills <= 0;
    this.kills.push({ id, signal, ok });
    if (!ok) {
      this.failKills--;
      throw new Error('connect ECONNREFUSED /var/run/docker.sock');
    }
    this.containers.get(id)?.child.kill('SIGKILL');
  }

  settler() {
    return async () => null;
  }

  close(): void {
    for (const c of this.containers.values()) c.child.kill('SIGKILL');
    // An empty cgroup can be removed; its last process may take a moment to leave it.
    for (const dir of this.cgroups) removeCgroupDir(dir);
  }

  /**
   * Starts a container `startedAgoMs` ago (its start event only when 0: an older one is found by the
   * listing). With `cgroupUnder` (a cgroup v2 mount) its process is moved into a cgroup of its own there,
   * named after the id, as a runtime would (removed by `close`).
   */
  start(id: string, opts: { team?: string; timeLimitSeconds?: number | null; startedAgoMs?: number; exitCode?: number; cgroupUnder?: string } = {}): void {
    const child = spawn('sleep', ['30'], { stdio: 'ignore' });
    if (opts.cgroupUnder) {
      const dir = join(opts.cgroupUnder, `flare-fake-${id}-${process.pid}`);
      mkdirSync(dir);
      writeFileSync(join(dir, 'cgroup.procs'), String(child.pid));
      this.cgroups.push(dir);
    }
    const c: FakeContainer = { child, startedAtNs: nowNs() - BigInt(opts.startedAgoMs ?? 0) * 1_000_000n, team: opts.team ?? 'fake', timeLimitSeconds: opts.timeLimitSeconds ?? null, exited: null };
    this.containers.set(id, c);
    child.on('exit', (code, signal) => {
      c.exited = { code: signal === 'SIGKILL' ? 137 : (code ?? 0), atNs: nowNs() };
      this.send({ kind: 'exit', containerId: id, timeNs: c.exited.atNs, exitCode: c.exited.code, exitedAtNs: c.exited.atNs });
      if (c.exited.code === 137 && this.oomEventAfterExitMs !== null) {
        setTimeout(() => {
          this.oomLogged.add(id);
          this.send({ kind: 'oom', containerId: id });
        }, this.oomEventAfterExitMs);
      }
    });
    if (!opts.startedAgoMs) this.send({ kind: 'start', containerId: id, timeNs: c.startedAtNs, pid: child.pid });
  }
}

export interface FakeAgent {
  agent: RunningAgent;
  watcher: RuntimeWatcher;
  stop(): Promise<void>;
}

/** An agent in this process with the generic watcher on `fake`, selecting every container. */
export async function startFakeAgent(fake: FakeRuntime, overrides: Partial<AgentConfig> = {}): Promise<FakeAgent> {
  let watcher: RuntimeWatcher | null = null;
  const config: AgentConfig = { ...DEFAULTS, db: join(tempDir('flare-fake-rt-'), 'agent.db'), listen: '127.0.0.1:0', gpuSource: 'none', intervalMs: 100, select: 'all', ...overrides };
  const agent = await startAgent(config, silentLogger, [async (ctx) => (watcher = watchRuntime(ctx, fake, { initialMs: 50, maxMs: 200 }))]);
  for (let i = 0; !agent.live.health().sources.docker.up; i++) {
    if (i > 200) throw new Error('fake runtime never up');
    await new Promise((r) => setTimeout(r, 10));
  }
  return { agent, watcher: watcher!, stop: () => agent.stop() };
}

/** The finished run of a container (the contract suite's poll). */
export { finished as finishedRun } from './contract.js';

/** Removes an emptied cgroup directory, waiting up to a second for its last process to leave it. */
export function removeCgroupDir(dir: string): void {
  for (let i = 0; i < 100; i++) {
    try {
      rmdirSync(dir);
      return;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
      spawnSync('sleep', ['0.01']);
    }
  }
}
