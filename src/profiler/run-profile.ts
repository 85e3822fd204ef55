// `flare-agent profile -- <command…>`: run one command in a cgroup of its own, sample it like a container,
// store the run, return its summary. The participant's self-check, and the ground-truth tool of the tests.
import { spawn } from 'node:child_process';
import { basename } from 'node:path';
import type { AgentConfig } from '../agent/config.js';
import type { Run, RunStatus, TerminationReason } from '../core/types.js';
import { factText, type RunFacts, type RunFlag } from '../core/run-facts.js';
import { CgroupReader } from '../cgroup/counters.js';
import type { Store } from '../store/index.js';
import { createSamplingStack, noEvents } from '../agent/stack.js';
import { newRunId } from '../agent/runs.js';
import type { CounterReader } from '../agent/run-spec.js';
import { monoNowNs } from '../clock/ticker.js';
import { createProfileCgroup, type ProfileCgroup } from '../cgroup/profile-cgroup.js';
import { ProcTreeReader } from './proctree.js';
import type { Logger } from '../log.js';

export interface ProfileOptions {
  command: string[];
  team?: string;
  caseName?: string;
  /** Follow the process tree through /proc instead of creating a cgroup (no root, or cgroups not wanted). */
  noCgroup?: boolean;
  /** Forwarded to the child's stdio (inherit for the CLI; 'ignore' in tests). */
  stdio?: 'inherit' | 'ignore';
}

export interface ProfileResult {
  run: Run;
  /** The command's exit code, 128 + signal number when killed by a signal. */
  exitCode: number;
  /** How the run was measured: 'cgroup v1 at <dir>, memory: …', 'cgroup v2 at <dir>, …' or 'proc-tree (cgroups not writable: …)'. */
  method: string;
}

const SIGNALS: Record<string, number> = { SIGHUP: 1, SIGINT: 2, SIGQUIT: 3, SIGABRT: 6, SIGKILL: 9, SIGSEGV: 11, SIGPIPE: 13, SIGALRM: 14, SIGTERM: 15 };

// The child shell joins the cgroup(s) before exec, so the command and everything it forks is counted
// from its first instruction. Paths come through the environment; the command through "$@" (no parsing).
const JOIN_AND_EXEC = 'IFS=:; for f in $FLARE_PROFILE_PROCS; do echo $$ > "$f" || exit 125; done; unset IFS FLARE_PROFILE_PROCS; exec "$@"';

export async function runProfile(config: AgentConfig, store: Store, opts: ProfileOptions, log: Logger): Promise<ProfileResult> {
  const stack = await createSamplingStack(config, store, noEvents);
  let cgroup: ProfileCgroup | null = null;
  let method: string;
  const cgroupName = newRunId(Date.now());
  try {
    if (opts.noCgroup) throw new Error('--no-cgroup');
    if (!stack.mounts) throw new Error(stack.mountsError ?? 'no cgroup mounts');
    cgroup = createProfileCgroup(stack.mounts, cgroupName);
    const { cpu, memory } = cgroup.paths;
    method = `cgroup v${cpu.version} at ${cpu.dir}, ${memory ? `memory: v${memory.version} at ${memory.dir}` : 'memory: no memory controller holds it (RAM unknown)'}`;
    stack.cgroupLayout.lastPicked = method;
  } catch (e) {
    const why = opts.noCgroup ? 'asked for with --no-cgroup' : `cgroups not writable: ${(e as Error).message}`;
    method = `proc-tree (${why})`;
    if (!opts.noCgroup) log.warn('profile: cgroups not writable, following the process tree through /proc instead', { reason: (e as Error).message });
  }

  // Whatever happens from here, the sampler, the stack's threads and the cgroup go (finally).
  let ended: { run: Run | undefined; exitCode: number };
  try {
    ended = await measureChild();
  } finally {
    stack.sampler.stop();
    await stack.close().catch((err: Error) => log.error('profile: closing the sampling stack failed', { error: err.message }));
    cgroup?.remove();
  }
  if (!ended.run) throw new Error('profile: run vanished before it finished');
  return { run: ended.run, exitCode: ended.exitCode, method };

  async function measureChild(): Promise<{ run: Run | undefined; exitCode: number }> {
    const startedWallMs = Date.now();
    const startedMonoNs = monoNowNs();
    const child = spawn('/bin/sh', ['-c', cgroup ? JOIN_AND_EXEC : 'exec "$@"', 'flare-profile', ...opts.command], {
      stdio: opts.stdio ?? 'inherit',
      env: { ...process.env, FLARE_PROFILE_PROCS: cgroup ? cgroup.procsFiles.join(':') : '' },
    });
    const reader: CounterReader = cgroup ? new CgroupReader(cgroup.paths) : new ProcTreeReader(child.pid ?? -1);

    let killedAtLimit = false;
    // The target's enforcement: the run manager's one deadline calls it once, after its last read.
    const killAtLimit = (): void => {
      killedAtLimit = true;
      if (cgroup) cgroup.killAll();
      else child.kill('SIGKILL');
    };
    const run = stack.runs.start({
      identity: { kind: 'profile', team: opts.team ?? 'profile', case: opts.caseName ?? basename(opts.command[0] ?? ''), node: stack.node, command: opts.command.join(' ') },
      reader,
      gpuKey: cgroup ? cgroup.relPath : null,
      startedWallMs,
      startedMonoNs,
      timeLimitSeconds: config.timeLimit,
      flags: cgroup ? [] : ['proc-tree-fallback'],
      enforce: killAtLimit,
    });
    stack.sampler.start();
    stack.sampler.sampleRunNow(run.id);

    const { code, signal, error } = await new Promise<{ code: number | null; signal: NodeJS.Signals | null; error?: Error }>((resolve) => {
      child.once('error', (err) => resolve({ code: null, signal: null, error: err }));
      child.once('exit', (c, s) => resolve({ code: c, signal: s }));
    });
    const endedMonoNs = monoNowNs();
    const endedWallMs = Date.now();
    stack.sampler.stop();

    const flags: RunFlag[] = [];
    const facts: RunFacts = {};
    if (cgroup && cgroup.pids().length > 0) {
      // Processes the command left behind would otherwise run on unmeasured: end them with the run.
      flags.push('killed-leftover-processes');
      cgroup.killAll();
    }
    const exitCode = code ?? (signal ? 128 + (SIGNALS[signal] ?? 0) : 1);
    let status: RunStatus = exitCode === 0 ? 'completed' : 'failed';
    let reason: TerminationReason = 'exited';
    if (killedAtLimit) reason = 'killed at time limit';
    else if (signal) reason = 'killed externally';
    if (error) {
      status = 'failed';
      flags.push('spawn-error');
      facts.spawnError = factText(error.message);
    }
    return { run: await stack.runs.finish(run.id, { status, terminationReason: reason, exitCode, endedWallMs, endedMonoNs, flags, facts }), exitCode: error ? 127 : exitCode };
  }
}
