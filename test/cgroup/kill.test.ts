// The time limit's last resort (src/cgroup/kill.ts): every process of a container's cgroup
// SIGKILLed by the agent itself, through a real cgroup v2 `cgroup.kill`, or pid by pid from `cgroup.procs`.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { holdsProcesses, killThroughCgroup } from '../../src/cgroup/kill.js';
import { detectCgroupMounts } from '../../src/cgroup/mounts.js';
import { tempDir } from '../helpers.js';
import { removeCgroupDir } from '../runtime/fake-runtime.js';

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
    expect(killThroughCgroup([dir])).toEqual({ killed: expect.stringMatching(/^cgroup\.(kill|procs)$/) });
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
    expect(killThroughCgroup(['/nonexistent/flare', dir], (pid) => (signalled.push(pid), process.kill(pid, 'SIGKILL')))).toEqual({ killed: 'cgroup.procs' });
    expect(await exitOf(c)).toBe('SIGKILL');
    // Three passes over the list: the dying process is listed in each (a fixture does not forget it).
    expect(new Set(signalled)).toEqual(new Set([c.pid]));
  });

  it('no cgroup left (the container has ended): nothing is done, null', () => {
    expect(killThroughCgroup([])).toBeNull();
    expect(killThroughCgroup(['/nonexistent/flare-a', tempDir('flare-empty-')])).toBeNull();
  });

  it('not allowed to kill (EPERM, EROFS): "denied" with the reasons while processes remain, never "ended"', async () => {
    const dir = tempDir('flare-denied-');
    const c = spawn('sleep', ['30']);
    children.push(c);
    writeFileSync(join(dir, 'cgroup.procs'), `${c.pid}\n`);
    writeFileSync(join(dir, 'cgroup.kill'), '');
    const eperm = (): never => {
      throw Object.assign(new Error('kill EPERM'), { code: 'EPERM' });
    };
    // cgroup.kill is a directory here, so its write fails (EISDIR) the way a read-only mount's does (EROFS).
    const roDir = tempDir('flare-denied-ro-');
    mkdirSync(join(roDir, 'cgroup.kill'));
    writeFileSync(join(roDir, 'cgroup.procs'), `${c.pid}\n`);
    expect(killThroughCgroup([roDir], eperm)).toEqual({ denied: 'cgroup.kill: EISDIR, kill: EPERM' });
    expect(c.exitCode === null && c.signalCode === null).toBe(true);
    // The same process gone (ESRCH) is an end, not a refusal.
    const esrch = (): never => {
      throw Object.assign(new Error('kill ESRCH'), { code: 'ESRCH' });
    };
    writeFileSync(join(dir, 'cgroup.procs'), '');
    expect(killThroughCgroup(['/nonexistent/flare'], esrch)).toBeNull();
  });

  it('as an unprivileged user (the shipped units without the enforcement overlay): a real cgroup v2 says denied, its process lives', async () => {
    const v2 = detectCgroupMounts().v2;
    expect(v2, 'a cgroup v2 mount (hybrid or pure v2)').not.toBeNull();
    const dir = join(v2!, `flare-test-denied-${process.pid}`);
    mkdirSync(dir);
    dirs.push(dir);
    const c = spawn('sleep', ['30']);
    children.push(c);
    writeFileSync(join(dir, 'cgroup.procs'), String(c.pid));
    const mod = join(import.meta.dirname, '..', '..', 'dist', 'src', 'cgroup', 'kill.js');
    const script = `import(${JSON.stringify(mod)}).then((m) => console.log(JSON.stringify(m.killThroughCgroup([${JSON.stringify(dir)}]))))`;
    // nobody, no groups, no capabilities: what DynamicUser with an empty CapabilityBoundingSet has.
    const r = spawnSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', '--inh-caps=-all', '--bounding-set=-all', process.execPath, '-e', script], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as { denied?: string };
    expect(out.denied).toMatch(/kill: EPERM/);
    expect(c.exitCode === null && c.signalCode === null).toBe(true);
  });
});
