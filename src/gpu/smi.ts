// nvidia-smi fallback: two long-lived `nvidia-smi … -lms <interval>` children (devices, compute apps)
// parsed line by line; sample() only returns the latest snapshot, so it stays cheap and synchronous.
// Children are spawned with an argument array (no shell) and restarted with backoff when they die.
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import type { GpuDevice, GpuDeviceSample, GpuProcess } from '../core/types.js';
import type { SourceStatus } from '../sources/types.js';
import type { GpuSnapshot, GpuSource } from './types.js';
import { LineBatcher } from './smi-batch.js';
import { LineSplitter, parseComputeAppLine, parseGpuLine, parseInventoryLine, type SmiAppRow, type SmiGpuRow } from './smi-parse.js';

export interface SmiSourceOptions {
  intervalMs: number;
  /** Executable name or path (default 'nvidia-smi', looked up on PATH). */
  binary?: string;
  /** First restart delay after a child dies; doubles up to maxRestartDelayMs (defaults 1000, 30000). */
  restartDelayMs?: number;
  maxRestartDelayMs?: number;
}

const INVENTORY_ARGS = ['--query-gpu=index,uuid,name,memory.total', '--format=csv,noheader,nounits'];
const GPU_QUERY = '--query-gpu=index,uuid,memory.used,memory.total,utilization.gpu';
const APPS_QUERY = '--query-compute-apps=pid,used_memory,gpu_uuid';
const FORMAT = '--format=csv,noheader,nounits';
const INVENTORY_TIMEOUT_MS = 30_000; // seconds without nvidia-persistenced (docs/measurement.md §6)
const FIRST_OUTPUT_WAIT_MS = 5000;

/** One looping nvidia-smi child, restarted with backoff until closed. */
class SmiStream {
  private child: ChildProcess | null = null;
  private timer: NodeJS.Timeout | null = null;
  private delayMs: number;
  private closed = false;
  /** Why the stream is not delivering, or null while it runs. */
  problem: string | null = 'starting';
  lastLineMs = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly label: string,
    private readonly binary: string,
    private readonly args: string[],
    private readonly onLine: (line: string, nowMs: number) => void,
    private readonly onStart: () => void,
    private readonly initialDelayMs: number,
    private readonly maxDelayMs: number,
  ) {
    this.delayMs = initialDelayMs;
    this.start();
  }

  private start(): void {
    this.timer = null;
    if (this.closed) return;
    this.onStart();
    const child = spawn(this.binary, this.args, { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    const splitter = new LineSplitter();
    let lastStderr = '';
    // Running is enough to be up: the compute-apps stream prints nothing while no process runs.
    child.on('spawn', () => {
      if (this.child === child) this.problem = null;
    });
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      const nowMs = performance.now();
      for (const line of splitter.push(chunk)) this.onLine(line, nowMs);
      this.lastLineMs = nowMs;
      this.problem = null;
      this.delayMs = this.initialDelayMs; // it works again: next failure starts the backoff afresh
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      lastStderr = chunk.trim().split('\n').pop()?.slice(0, 200) ?? lastStderr;
    });
    child.on('error', (err) => this.died(child, err.message));
    child.on('close', (code, signal) => this.died(child, `exited with ${signal ?? `code ${code}`}${lastStderr ? `: ${lastStderr}` : ''}`));
  }

  private died(child: ChildProcess, why: string): void {
    if (this.child !== child || this.closed) return;
    this.child = null;
    this.problem = `nvidia-smi (${this.label}) ${why}; restarting in ${this.delayMs} ms`;
    this.timer = setTimeout(() => this.start(), this.delayMs);
    this.delayMs = Math.min(this.maxDelayMs, this.delayMs * 2);
  }

  close(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.child?.kill('SIGTERM');
    this.child = null;
  }
}

class SmiGpuSource implements GpuSource {
  readonly name = 'nvidia-smi' as const;
  private readonly gpuRows = new Map<number, SmiGpuRow>();
  private readonly apps: LineBatcher<SmiAppRow>;
  private readonly indexOfUuid: Map<string, number>;
  private readonly gpuStream: SmiStream;
  private readonly appStream: SmiStream;
  private readonly staleAfterMs: number;
  private current: SourceStatus = { up: true };
  private closed = false;
  private readonly onExit = () => this.close();
  private markFirstDevicesLine: () => void = () => {};
  /** Resolves once the device stream has printed (so a fresh source does not start out "down"). */
  readonly firstDevicesLine = new Promise<void>((resolve) => (this.markFirstDevicesLine = resolve));

  constructor(private readonly inventory: GpuDevice[], opts: SmiSourceOptions) {
    const binary = opts.binary ?? 'nvidia-smi';
    const interval = String(Math.max(1, Math.round(opts.intervalMs)));
    const restartMs = opts.restartDelayMs ?? 1000;
    const maxRestartMs = opts.maxRestartDelayMs ?? 30_000;
    this.indexOfUuid = new Map(inventory.map((d) => [d.uuid, d.index]));
    this.apps = new LineBatcher({ intervalMs: opts.intervalMs });
    this.staleAfterMs = Math.max(2000, 10 * opts.intervalMs);
    this.gpuStream = new SmiStream('devices', binary, [GPU_QUERY, FORMAT, '-lms', interval], (line) => {
      const row = parseGpuLine(line);
      if (row) {
        this.gpuRows.set(row.index, row);
        this.markFirstDevicesLine();
      }
    }, () => this.gpuRows.clear(), restartMs, maxRestartMs);
    this.appStream = new SmiStream('compute apps', binary, [APPS_QUERY, FORMAT, '-lms', interval], (line, nowMs) => {
      const row = parseComputeAppLine(line);
      if (row) this.apps.push(row, nowMs);
    }, () => this.apps.reset(), restartMs, maxRestartMs);
    // Never leave looping nvidia-smi children behind if the agent exits without close().
    process.once('exit', this.onExit);
  }

  devices(): GpuDevice[] {
    return this.inventory.map((d) => ({ ...d }));
  }

  status(): SourceStatus {
    if (!this.closed) this.refreshStatus(performance.now());
    return this.current;
  }

  sample(): GpuSnapshot {
    const devices: GpuDeviceSample[] = [];
    const processes: GpuProcess[] = [];
    if (this.closed) return { devices, processes };
    const nowMs = performance.now();
    const gpuFresh = nowMs - this.gpuStream.lastLineMs <= this.staleAfterMs;
    for (const d of this.inventory) {
      const row = gpuFresh ? this.gpuRows.get(d.index) : undefined;
      devices.push({
        index: d.index,
        uuid: d.uuid,
        usedMiB: row ? row.usedMiB : null,
        totalMiB: row ? (row.totalMiB ?? d.totalMiB) : d.totalMiB,
        utilPct: row ? row.utilPct : null,
      });
    }
    const appsUp = this.appStream.problem === null;
    if (appsUp) {
      for (const app of this.apps.current(nowMs)) {
        const gpuIndex = this.indexOfUuid.get(app.gpuUuid);
        if (gpuIndex !== undefined) processes.push({ pid: app.pid, gpuIndex, usedMiB: app.usedMiB });
      }
    }
    this.refreshStatus(nowMs);
    return { devices, processes };
  }

  private refreshStatus(nowMs: number): void {
    const gpuFresh = nowMs - this.gpuStream.lastLineMs <= this.staleAfterMs;
    const reason =
      this.appStream.problem ??
      this.gpuStream.problem ??
      (gpuFresh
        ? null
        : Number.isFinite(this.gpuStream.lastLineMs)
          ? `nvidia-smi (devices) silent for more than ${this.staleAfterMs} ms`
          : 'waiting for the first nvidia-smi output');
    if (reason === null) {
      if (!this.current.up) this.current = { up: true };
    } else if (this.current.reason !== reason) {
      this.current = { up: false, reason };
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    process.removeListener('exit', this.onExit);
    this.gpuStream.close();
    this.appStream.close();
    this.current = { up: false, reason: 'closed' };
  }
}

/** One-shot inventory; rejects with a one-line reason when nvidia-smi is missing or fails. */
function readInventory(binary: string): Promise<GpuDevice[]> {
  return new Promise((resolve, reject) => {
    execFile(binary, INVENTORY_ARGS, { timeout: INVENTORY_TIMEOUT_MS, encoding: 'utf8' }, (err, stdout, stderr) => {
      if (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'ENOENT') return reject(new Error(`${binary}: not found${binary.includes('/') ? '' : ' on PATH'}`));
        const detail = stderr.trim().split('\n')[0] || stdout.trim().split('\n')[0] || err.message;
        return reject(new Error(`${binary} failed: ${detail.slice(0, 300)}`));
      }
      const devices: GpuDevice[] = [];
      for (const line of stdout.split('\n')) {
        const row = parseInventoryLine(line);
        if (row) devices.push({ index: row.index, uuid: row.uuid, name: row.name, totalMiB: row.totalMiB ?? 0 });
      }
      if (devices.length === 0) return reject(new Error(`${binary}: lists no GPU`));
      resolve(devices);
    });
  });
}

/** Starts the nvidia-smi fallback. Rejects if nvidia-smi is missing, fails, or lists no GPU. */
export async function openSmiSource(opts: SmiSourceOptions): Promise<GpuSource> {
  const inventory = await readInventory(opts.binary ?? 'nvidia-smi');
  const source = new SmiGpuSource(inventory, opts);
  // Give the device stream a moment to print its first iteration; a slow driver just starts out down.
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([source.firstDevicesLine, new Promise((resolve) => (timer = setTimeout(resolve, FIRST_OUTPUT_WAIT_MS)))]);
  clearTimeout(timer);
  return source;
}
