// Progress on the terminal: a redrawn bar on a TTY (case i/N, elapsed vs limit, ETA), plain lines
// otherwise. Case names are untrusted: control characters are dropped before printing.
import { maskUnsafe } from '../core/text.js';

export interface Progress {
  caseStarted(index: number, total: number, caseName: string, limitSeconds: number | null): void;
  caseFinished(line: string): void;
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

export function createProgress(out: NodeJS.WriteStream): Progress {
  const tty = out.isTTY === true;
  const durations: number[] = [];
  let timer: NodeJS.Timeout | null = null;
  let current: { i: number; total: number; name: string; limit: number | null; t0: number } | null = null;
  const draw = (): void => {
    if (!current) return;
    const elapsed = (Date.now() - current.t0) / 1000;
    out.write(`\r\x1b[2K${barLine(current.i, current.total, current.name, elapsed, current.limit, etaSeconds(durations, current.total - current.i + 1, elapsed))}`);
  };
  const endCurrent = (): void => {
    if (timer) clearInterval(timer);
    timer = null;
    if (current) durations.push((Date.now() - current.t0) / 1000);
    if (tty && current) out.write('\r\x1b[2K');
    current = null;
  };
  return {
    caseStarted(i, total, name, limit) {
      current = { i, total, name, limit, t0: Date.now() };
      if (tty) {
        draw();
        timer = setInterval(draw, 200);
      } else {
        out.write(`case ${i}/${total} ${clean(name)}: running${limit ? ` (limit ${limit} s)` : ''}\n`);
      }
    },
    caseFinished(line) {
      endCurrent();
      out.write(line + '\n');
    },
    note(line) {
      if (tty && current) out.write('\r\x1b[2K');
      out.write(line + '\n');
      if (tty) draw();
    },
    stop: endCurrent,
  };
}
