// The time limit's last resort (src/runtime/cgroup-kill.ts): every process of a container's cgroup
// SIGKILLed by the agent itself, through a real cgroup v2 `cgroup.kill`, or pid by pid from `cgroup.procs`.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { holdsProcesses, killThroughCgroup } from '../../src/runtime/cgroup-kill.js';
import { detectCgroupMounts } from '../../src/sources/cgroup-mounts.js';
import { tempDir } from '../helpers.js';
import { removeCgroupDir } from './fake-runtime.js';

const exitOf = (c: ChildProcess): Promise<NodeJS.Signals | null> => new Promise((r) => (c.exitCode !== null || c.signalCode !== null ? r(c.signalCode) : c.once('exit', (_code, signal) => r(signal))));

describe('killing a container through its cgroup', () => {
  const children: ChildProcess[] = [];
  const dirs: string[] = [];
  afterEach(() => {
    for (const c of children.splice(0)) c.kill('SIGKILL');
    for (const d of dirs.splice(0)) removeCgroupDir(d);
  });

  it('a real cgroup v2 (hybrid or pure): every process in it is killed (cgroup.kill on Linux 5.14+)', async () => {
    const v2 = detectCgroupMounts().v2;
    expect(v2, 'a cgroup v2 mount (hybrid or pure v2)').not.toBeNull();
    const dir = join(v2!, `flare-test-kill-${process.pid}`);
    mkdirSync(dir);
    dirs.push(dir);
    const inside = [spawn('sleep', ['30']), spawn('sleep', ['30'])];
    const outside = spawn('sleep', ['30']);
    children.push(...inside, outside);
    for (const c of inside) writeFileSync(join(dir, 'cgroup.procs'), String(c.pid));
    expect(holdsProcesses([dir])).toBe(true);
    expect(killThroughCgroup([dir])).toMatch(/^cgroup\.(kill|procs)$/);
    expect(await Promise.all(inside.map(exitOf))).toEqual(['SIGKILL', 'SIGKILL']);
    expect(holdsProcesses([dir, '/nonexistent/flare'])).toBe(false);
    expect(outside.exitCode === null && outside.signalCode === null).toBe(true);
  });

  it('without cgroup.kill (v1, older kernels): each pid of cgroup.procs; lines that are not pids are not signalled', async () => {
    const dir = tempDir('flare-procs-');
    const c = spawn('sleep', ['30']);
    children.push(c);
    const signalled: number[] = [];
    writeFileSync(join(dir, 'cgroup.procs'), `${c.pid}\n0\n-1\n1e3\nabc\n\n`);
    expect(killThroughCgroup(['/nonexistent/flare', dir], (pid) => (signalled.push(pid), process.kill(pid, 'SIGKILL')))).toBe('cgroup.procs');
    expect(await exitOf(c)).toBe('SIGKILL');
    // Three passes over the list: the dying process is listed in each (a fixture does not forget it).
    expect(new Set(signalled)).toEqual(new Set([c.pid]));
  });

  it('no cgroup left (the container has ended): nothing is done, null', () => {
    expect(killThroughCgroup([])).toBeNull();
    expect(killThroughCgroup(['/nonexistent/flare-a', tempDir('flare-empty-')])).toBeNull();
  });
});
