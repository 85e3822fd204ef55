// SVG drawing of one plot panel: pure string building, no native dependency. The same SVG is what
// `flare-agent plot` writes, what the PNG is rendered from, and what the web page offers to download.
import { niceTicks, regionsAbove, yMaxOf } from './geometry.js';
import type { Panel, RunPlot } from './series.js';

export const SVG_WIDTH = 960;
export const SVG_HEIGHT = 480;
const M = { left: 80, right: 24, top: 56, bottom: 120 };
const COLORS = ['#1f77b4', '#d62728', '#2ca02c'];
const FONT = 'DejaVu Sans, Arial, sans-serif';

/** Text from labels and names is untrusted: escaped for XML text and attribute values. */
export function escapeXml(s: string): string {
  // The control characters XML 1.0 forbids are dropped on purpose: matching them is the point.
  // eslint-disable-next-line no-control-regex -- these are the characters removed
  return s.replace(/[<>&"']/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[c] ?? c).replace(/[\x00-\x08\x0b\x0c\x0e-\x1f]/g, '');
}

const n = (v: number): string => (Math.round(v * 100) / 100).toString();

function text(x: number, y: number, s: string, attrs = ''): string {
  return `<text x="${n(x)}" y="${n(y)}" ${attrs}>${escapeXml(s)}</text>`;
}

function pathOf(points: { x: number; y: number }[]): string {
  return points.map((p, i) => `${i === 0 ? 'M' : 'L'}${n(p.x)},${n(p.y)}`).join('');
}

/** Line path with gaps (null values) as breaks. */
function linePath(t: readonly number[], values: readonly (number | null)[], sx: (t: number) => number, sy: (v: number) => number): string {
  let d = '';
  let pen = false;
  for (let i = 0; i < t.length; i++) {
    const v = values[i];
    if (v === null) {
      pen = false;
      continue;
    }
    d += `${pen ? 'L' : 'M'}${n(sx(t[i]))},${n(sy(v))}`;
    pen = true;
  }
  return d;
}

/** One panel of one run as a standalone SVG document. */
export function panelSvg(plot: RunPlot, panel: Panel): string {
  const W = SVG_WIDTH;
  const H = SVG_HEIGHT;
  const pw = W - M.left - M.right;
  const ph = H - M.top - M.bottom;
  const limit = plot.timeLimitSeconds;
  // The limit is drawn when it is within reach of the trace (a 3600 s limit would flatten a 20 s run).
  const limitShown = limit !== null && limit <= Math.max(plot.endSeconds, panel.tSeconds.at(-1) ?? 0) * 1.5;
  const xMax = Math.max(1e-3, plot.endSeconds, panel.tSeconds.at(-1) ?? 0, limitShown && limit !== null ? limit : 0);
  const all = panel.lines.flatMap((l) => l.values);
  const yMax = yMaxOf(all, panel.threshold?.value ?? null);
  const sx = (t: number): number => M.left + (t / xMax) * pw;
  const sy = (v: number): number => M.top + ph - (v / yMax) * ph;
  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="${FONT}" font-size="13">`);
  out.push(`<rect width="${W}" height="${H}" fill="#ffffff"/>`);
  out.push(text(M.left, 24, `${panel.title} — ${plot.title}`, 'font-size="16" font-weight="bold"'));
  out.push(text(M.left, 44, `run ${plot.runId}`, 'fill="#555"'));
  // Grid and axes.
  for (const v of niceTicks(0, yMax)) {
    if (v > yMax) continue;
    out.push(`<line x1="${M.left}" x2="${M.left + pw}" y1="${n(sy(v))}" y2="${n(sy(v))}" stroke="#e5e5e5"/>`);
    out.push(text(M.left - 6, sy(v) + 4, v.toLocaleString('en-US'), 'text-anchor="end" fill="#333"'));
  }
  for (const t of niceTicks(0, xMax)) {
    if (t > xMax) continue;
    out.push(`<line x1="${n(sx(t))}" x2="${n(sx(t))}" y1="${M.top + ph}" y2="${M.top + ph + 5}" stroke="#333"/>`);
    out.push(text(sx(t), M.top + ph + 20, t.toLocaleString('en-US'), 'text-anchor="middle" fill="#333"'));
  }
  out.push(`<rect x="${M.left}" y="${M.top}" width="${pw}" height="${ph}" fill="none" stroke="#333"/>`);
  out.push(text(M.left + pw / 2, M.top + ph + 40, 'time since start (s)', 'text-anchor="middle"'));
  out.push(text(18, M.top + ph / 2, panel.yUnit, `text-anchor="middle" transform="rotate(-90 18 ${n(M.top + ph / 2)})"`));
  // Shaded area above the threshold (what the exact AUC counts), then the threshold line.
  if (panel.threshold && panel.lines.length > 0) {
    for (const region of regionsAbove(panel.tSeconds, panel.lines[0].values, panel.threshold.value)) {
      out.push(`<path class="auc-area" d="${pathOf(region.map((p) => ({ x: sx(p.t), y: sy(p.v) })))}Z" fill="${COLORS[0]}" fill-opacity="0.25" stroke="none"/>`);
    }
    const y = sy(panel.threshold.value);
    out.push(`<line class="tolerance" x1="${M.left}" x2="${M.left + pw}" y1="${n(y)}" y2="${n(y)}" stroke="#ff7f0e" stroke-width="1.5" stroke-dasharray="6 4"/>`);
    out.push(text(M.left + pw - 4, y - 5, panel.threshold.label, 'text-anchor="end" fill="#ff7f0e"'));
  }
  panel.lines.forEach((line, i) => {
    const d = linePath(panel.tSeconds, line.values, sx, sy);
    if (d) out.push(`<path class="series" d="${d}" fill="none" stroke="${COLORS[i % COLORS.length]}" stroke-width="1.6"${line.dashed ? ' stroke-dasharray="5 3"' : ''}/>`);
  });
  if (panel.lines.length === 0 || all.every((v) => v === null)) {
    out.push(text(M.left + pw / 2, M.top + ph / 2, 'no data from this source for this run', 'text-anchor="middle" fill="#999" font-size="15"'));
  }
  if (limit !== null && limitShown) {
    const x = sx(limit);
    out.push(`<line class="time-limit" x1="${n(x)}" x2="${n(x)}" y1="${M.top}" y2="${M.top + ph}" stroke="#9467bd" stroke-width="2" stroke-dasharray="2 3"/>`);
    out.push(text(x - 4, M.top + 14, `time limit ${limit} s`, 'text-anchor="end" fill="#9467bd"'));
  }
  // Legend: series, then the figures (exact and official side by side).
  let ly = M.top + ph + 62;
  let lx = M.left;
  panel.lines.forEach((line, i) => {
    out.push(`<line x1="${lx}" x2="${lx + 24}" y1="${ly - 4}" y2="${ly - 4}" stroke="${COLORS[i % COLORS.length]}" stroke-width="2"${line.dashed ? ' stroke-dasharray="5 3"' : ''}/>`);
    out.push(text(lx + 30, ly, line.label));
    lx += 60 + line.label.length * 7;
  });
  if (limit !== null && !limitShown) out.push(text(lx, ly, `time limit ${limit} s (beyond the trace)`, 'fill="#9467bd"'));
  for (const row of panel.legend) {
    ly += 20;
    out.push(text(M.left, ly, row, 'class="legend"'));
  }
  out.push('</svg>');
  return out.join('\n') + '\n';
}
