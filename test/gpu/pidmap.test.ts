import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseProcCgroup } from '../../src/cgroup/proc-cgroup.js';
import { PidTargetCache } from '../../src/gpu/pidmap.js';

const dirs: string[] = [];
const children: ChildProcess[] = [];
afterAll(() => {
  for (const c of children) c.kill('SIGKILL');
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** A proc-like tree whose cgroup files the test can rewrite. */
function fixtureProc(files: Record<number, string>): string {
  const root = mkdtempSync(join(tmpdir(), 'flare-proc-'));
  dirs.push(root);
  for (const [pid, text] of Object.entries(files)) {
    mkdirSync(join(root, pid), { recursive: true });
    writeFileSync(join(root, pid, 'cgroup'), text);
  }
  return root;
}

const v2Resolve = (text: string) => parseProcCgroup(text).v2Path;

describe('PidTargetCache', () => {
  it('reads a real process’s /proc/<pid>/cgroup', () => {
    const child = spawn('sleep', ['30'], { stdio: 'ignore' });
    children.push(child);
    const pid = child.pid!;
    const cache = new PidTargetCache({ resolve: (t) => t.trim() });
    expect(cache.targetOf(pid)).toBe(readFileSync(`/proc/${pid}/cgroup`, 'utf8').trim());
    child.kill('SIGKILL');
  });

  it('reads each pid once while it stays in the process list, and re-reads after it leaves', () => {
    const root = fixtureProc({ 100: '0::/docker/a\n', 200: '0::/docker/b\n' });
    const cache = new PidTargetCache({ resolve: v2Resolve, procRoot: root });
    const lookup = cache.update([{ pid: 100, gpuIndex: 0, usedMiB: 1 }, { pid: 200, gpuIndex: 0, usedMiB: 1 }]);
    expect([lookup(100), lookup(200)]).toEqual(['/docker/a', '/docker/b']);
    // pid 100 dies and is recycled by another container while pid 200 lives on.
    writeFileSync(join(root, '100', 'cgroup'), '0::/docker/c\n');
    writeFileSync(join(root, '200', 'cgroup'), '0::/docker/changed\n');
    expect(lookup(100)).toBe('/docker/a'); // still cached: it never left the list
    cache.update([{ pid: 200, gpuIndex: 0, usedMiB: 1 }]);
    expect(cache.size).toBe(1);
    expect(cache.targetOf(100)).toBe('/docker/c');
    expect(cache.targetOf(200)).toBe('/docker/b');
  });

  it('retries an unresolved pid after retryUnresolvedMs, not on every tick', () => {
    const root = fixtureProc({ 300: '0::/user.slice\n' });
    let nowMs = 0;
    const cache = new PidTargetCache({
      resolve: (t) => (t.includes('/docker/') ? 'container' : null),
      procRoot: root,
      retryUnresolvedMs: 1000,
      nowMs: () => nowMs,
    });
    expect(cache.targetOf(300)).toBeNull();
    writeFileSync(join(root, '300', 'cgroup'), '0::/docker/x\n'); // moved into the container's cgroup
    nowMs = 999;
    expect(cache.targetOf(300)).toBeNull();
    nowMs = 1000;
    expect(cache.targetOf(300)).toBe('container');
  });

  it('answers null for a pid with no /proc entry', () => {
    const cache = new PidTargetCache({ resolve: v2Resolve, procRoot: fixtureProc({}) });
    expect(cache.targetOf(12345)).toBeNull();
  });
});
