// The nvidia-smi fallback against a fake nvidia-smi (test/gpu/fake-nvidia-smi) run as a real child.
import { existsSync, mkdtempSync, readFileSync, readdirSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import type { GpuSource } from '../../src/gpu/types.js';
import { openSmiSource } from '../../src/gpu/smi.js';

const FAKE = join(dirname(fileURLToPath(import.meta.url)), 'fake-nvidia-smi');
const U0 = 'GPU-00000000-aaaa-bbbb-cccc-000000000000';
const U1 = 'GPU-11111111-aaaa-bbbb-cccc-111111111111';
let dir: string;
const opened: GpuSource[] = [];

function put(name: string, text: string): void {
  writeFileSync(join(dir, `${name}.tmp`), text);
  renameSync(join(dir, `${name}.tmp`), join(dir, name));
}

async function until<T>(what: string, fn: () => T | undefined | false, timeoutMs = 5000): Promise<T> {
  const start = Date.now();
  for (;;) {
    const v = fn();
    if (v) return v;
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Our live fake-nvidia-smi children (ppid = this process). */
function ourSmiChildren(): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      const state = stat.slice(stat.lastIndexOf(')') + 2)[0];
      if (ppid === process.pid && state !== 'Z' && readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes('fake-nvidia-smi')) pids.push(Number(entry));
    } catch {
      // raced with an exit
    }
  }
  return pids;
}

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'flare-smi-'));
  process.env.FLARE_FAKE_SMI_DIR = dir;
  put('inventory.csv', `0, ${U0}, NVIDIA A100-SXM4-40GB, 40960\n1, ${U1}, NVIDIA A100-SXM4-40GB, 40960\n`);
  put('gpu.csv', `0, ${U0}, 3600, 40960, 87\n1, ${U1}, [N/A], 40960, [Not Supported]\n`);
  put('apps.csv', `4242, 3000, ${U0}\n4243, [N/A], ${U0}\n4242, 512, ${U1}\n99, 5, GPU-unknown\n`);
});
afterAll(() => {
  for (const s of opened) s.close();
});

describe('nvidia-smi source', () => {
  it('rejects when nvidia-smi is not on PATH', async () => {
    await expect(openSmiSource({ intervalMs: 100, binary: 'nvidia-smi-flare-missing' })).rejects.toThrow(
      'nvidia-smi-flare-missing: not found on PATH',
    );
  });

  it('rejects with nvidia-smi’s own message when it fails', async () => {
    put('fail', '');
    await expect(openSmiSource({ intervalMs: 100, binary: FAKE })).rejects.toThrow(/failed: NVIDIA-SMI has failed because it couldn't communicate/);
  });

  it('streams devices and processes ([N/A] and [Not Supported] → null), follows changes, and stops its children on close', async () => {
    const src = await openSmiSource({ intervalMs: 50, binary: FAKE });
    opened.push(src);
    expect(src.name).toBe('nvidia-smi');
    expect(src.devices()).toEqual([
      { index: 0, uuid: U0, name: 'NVIDIA A100-SXM4-40GB', totalMiB: 40960 },
      { index: 1, uuid: U1, name: 'NVIDIA A100-SXM4-40GB', totalMiB: 40960 },
    ]);
    // open waits for the device stream's first iteration: no "down" blip at the start of a run.
    expect(src.sample().devices[0].usedMiB).toBe(3600);
    expect(src.status()).toEqual({ up: true });
    const snap = await until('first snapshot', () => {
      const s = src.sample();
      return s.processes.length > 0 && s.devices[0].usedMiB !== null && s;
    });
    expect(snap.devices).toEqual([
      { index: 0, uuid: U0, usedMiB: 3600, totalMiB: 40960, utilPct: 87 },
      { index: 1, uuid: U1, usedMiB: null, totalMiB: 40960, utilPct: null },
    ]);
    expect(snap.processes).toEqual([
      { pid: 4242, gpuIndex: 0, usedMiB: 3000 },
      { pid: 4243, gpuIndex: 0, usedMiB: null },
      { pid: 4242, gpuIndex: 1, usedMiB: 512 },
    ]);
    expect(src.status()).toEqual({ up: true });
    // Long-lived children: one per stream, never one per sample.
    const calls = () => readFileSync(join(dir, 'calls'), 'utf8').trim().split('\n');
    for (let i = 0; i < 10; i++) src.sample();
    expect(calls().map((l) => l.split(' ')[0]).sort()).toEqual(['apps', 'gpu', 'inventory']);
    expect(calls().find((l) => l.startsWith('apps'))).toBe('apps --query-compute-apps=pid,used_memory,gpu_uuid --format=csv,noheader,nounits -lms 50');

    put('apps.csv', ''); // every process ended: nvidia-smi prints nothing
    await until('empty process list', () => src.sample().processes.length === 0);
    expect(src.status().up).toBe(true);
    put('apps.csv', `5000, 100, ${U1}\n`);
    expect(await until('new process', () => src.sample().processes.find((p) => p.pid === 5000))).toEqual({
      pid: 5000, gpuIndex: 1, usedMiB: 100,
    });

    expect(ourSmiChildren()).toHaveLength(2);
    src.close();
    await until('children gone', () => ourSmiChildren().length === 0);
    expect(src.status()).toEqual({ up: false, reason: 'closed' });
  });

  it('restarts a child that dies, with the reason in status meanwhile', async () => {
    const src = await openSmiSource({ intervalMs: 50, binary: FAKE, restartDelayMs: 300 });
    opened.push(src);
    await until('processes', () => src.sample().processes.length === 3);
    put('die-apps', '');
    const down = await until('status down', () => !src.status().up && src.status(), 3000) || src.status();
    expect(down.reason).toMatch(/^nvidia-smi \(compute apps\) exited with code 1: fake nvidia-smi: dying; restarting in 300 ms$/);
    expect(src.sample().processes).toEqual([]); // unknown while the stream is down: never a stale list
    await until('restarted and up', () => {
      const s = src.sample();
      return src.status().up && s.processes.length === 3;
    });
    expect(existsSync(join(dir, 'die-apps'))).toBe(false);
    const starts = readFileSync(join(dir, 'calls'), 'utf8').split('\n').filter((l) => l.startsWith('apps'));
    expect(starts).toHaveLength(2);
    src.close();
  });
});
