// Progress on the terminal: a redrawn bar per slot on a TTY (case i/N, elapsed vs limit) and the
// overall ETA, plain lines otherwise. Case names are untrusted: control and bidi characters are masked.
import { maskUnsafe } from '../core/text.js';
import { poolEtaSeconds } from '../core/placement.js';

export interface Progress {
  /** `slot`: the pool slot running the case (0 without --gpus). */
  caseStarted(index: number, total: number, caseName: string, limitSeconds: number | null, slot?: number): void;
  caseFinished(line: string, slot?: number): void;
  /** Declares the pool's slots (before the first case): one display line each. */
  setSlots(labels: SlotLabels): void;
  note(line: string): void;
  stop(): void;
}

const clean = (s: string): string => maskUnsafe(s).slice(0, 80);

export function fmtSeconds(s: number): string {
  if (!Number.isFinite(s)) return '?';
  if (s < 60) return `${s.toFixed(1)}s`;
  const m = Math.floor(s / 60);
  return m < 60 ? `${m}m${String(Math.floor(s % 60)).padStart(2, '0')}s` : `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}

/** Remaining time: the mean duration of the finished cases × the cases left (the current one counts as half done). */
export function etaSeconds(doneDurations: readonly number[], remaining: number, currentElapsed: number): number | null {
  if (doneDurations.length === 0) return null;
  const mean = doneDurations.reduce((a, b) => a + b, 0) / doneDurations.length;
  return Math.max(0, mean * remaining - Math.min(currentElapsed, mean));
}

export function barLine(i: number, total: number, name: string, elapsed: number, limit: number | null, eta: number | null, width = 24): string {
  const share = limit ? Math.min(1, elapsed / limit) : ((i - 1) / total);
  const filled = Math.round(share * width);
  const bar = '█'.repeat(filled) + '░'.repeat(width - filled);
  return `[${i}/${total}] ${clean(name)} ${bar} ${fmtSeconds(elapsed)}${limit ? ` / ${fmtSeconds(limit)}` : ''}  ETA ${eta === null ? '?' : fmtSeconds(eta)}`;
}

/** Labels of the pool's slots, e.g. "slot 0 · gpu 0 · cpu 0-3" (one entry per slot). */
export type SlotLabels = readonly string[];

interface Current {
  i: number;
  total: number;
  name: string;
  limit: number | null;
  t0: number;
}

/**
 * One line per slot (what runs there, elapsed vs limit) and an overall line with the pool's ETA,
 * redrawn in place on a TTY; plain lines otherwise. One slot without labels draws the old single bar.
 */
export function createProgress(out: NodeJS.WriteStream): Progress {
  const tty = out.isTTY === true;
  let slotLabels: SlotLabels = [];
  let slots = 1;
  let pool = false;
  const durations: number[] = [];
  let current: (Current | null)[] = [null];
  let started = 0;
  let total = 0;
  let drawn = 0;
  let timer: NodeJS.Timeout | null = null;
  const erase = (): void => {
    if (!tty || drawn === 0) return;
    out.write(`\r\x1b[2K${'\x1b[1A\x1b[2K'.repeat(drawn - 1)}`);
    drawn = 0;
  };
  const lines = (): string[] => {
    const now = Date.now();
    const running = current.filter((c): c is Current => c !== null);
    const elapsed = running.map((c) => (now - c.t0) / 1000);
    if (!pool) {
      const c = current[0];
      if (!c) return [];
      return [barLine(c.i, c.total, c.name, elapsed[0], c.limit, etaSeconds(durations, c.total - c.i + 1, elapsed[0]))];
    }
    const eta = poolEtaSeconds(durations, Math.max(0, total - started), elapsed, slots);
    const perSlot = current.map((c, k) => {
      const label = slotLabels[k];
      if (!c) return `${label}  idle`;
      return `${label}  ${barLine(c.i, c.total, c.name, (now - c.t0) / 1000, c.limit, null, 16).replace(/\s+ETA \?$/, '')}`;
    });
    return [...perSlot, `overall ${durations.length}/${total} finished, ${running.length} running  ETA ${eta === null ? '?' : fmtSeconds(eta)}`];
  };
  const draw = (): void => {
    if (!tty) return;
    erase();
    const ls = lines();
    if (ls.length === 0) return;
    out.write(ls.join('\n'));
    drawn = ls.length;
  };
  const ensureTimer = (): void => {
    if (tty && !timer) timer = setInterval(draw, 200);
  };
  const prefix = (slot: number): string => (pool ? `[${slotLabels[slot]}] ` : '');
  return {
    setSlots(labels) {
      slotLabels = labels.map((l) => clean(l));
      slots = Math.max(1, labels.length);
      pool = labels.length > 0;
      current = Array.from({ length: slots }, () => null);
    },
    caseStarted(i, n, name, limit, slot = 0) {
      total = n;
      started++;
      current[slot] = { i, total: n, name, limit, t0: Date.now() };
      if (tty) {
        draw();
        ensureTimer();
      } else {
        out.write(`${prefix(slot)}case ${i}/${n} ${clean(name)}: running${limit ? ` (limit ${limit} s)` : ''}\n`);
      }
    },
    caseFinished(line, slot = 0) {
      const c = current[slot];
      if (c) durations.push((Date.now() - c.t0) / 1000);
      current[slot] = null;
      erase();
      out.write(line + '\n');
      draw();
    },
    note(line) {
      erase();
      out.write(line + '\n');
      draw();
    },
    stop() {
      if (timer) clearInterval(timer);
      timer = null;
      erase();
      current.fill(null);
    },
  };
}
