// uPlot charts of one run: GPU memory (tolerance line, the area above it shaded: what the exact AUC
// counts), CPU utilisation and RAM against time, each with the time-limit marker.
/* global uPlot */

const COLORS = { gpu: '#1f77b4', device: '#d62728', cpu: '#2ca02c', ram: '#9467bd', tolerance: '#ff7f0e', limit: '#8c564b' };

/** Regions above the threshold with linear crossings, as the summary integrates them. */
export function regionsAbove(t, values, threshold) {
  const regions = [];
  let cur = [];
  const close = () => {
    if (cur.length > 1) regions.push([[cur[0][0], threshold], ...cur, [cur[cur.length - 1][0], threshold]]);
    cur = [];
  };
  for (let i = 0; i < t.length; i++) {
    const v = values[i];
    if (v === null || v === undefined) {
      close();
      continue;
    }
    const p = i > 0 ? values[i - 1] : null;
    if (p !== null && p !== undefined && (p - threshold) * (v - threshold) < 0) {
      cur.push([t[i - 1] + ((threshold - p) * (t[i] - t[i - 1])) / (v - p), threshold]);
      if (v < threshold) close();
    }
    if (v >= threshold) cur.push([t[i], v]);
  }
  close();
  return regions;
}

/** Host-normalised CPU % of the interval ending at each sample (FLARE unit), from the counter. */
export function cpuPctSeries(samples, nCpu) {
  const out = samples.map(() => null);
  let prev = null;
  samples.forEach((s, i) => {
    if (s.cpuSeconds === null) return;
    if (prev && s.tS > prev.tS && s.cpuSeconds >= prev.cpuSeconds) out[i] = (100 * (s.cpuSeconds - prev.cpuSeconds)) / (s.tS - prev.tS) / Math.max(1, nCpu);
    prev = s;
  });
  return out;
}

function drawHLine(u, y, color, dash) {
  const { ctx, bbox } = u;
  const py = u.valToPos(y, 'y', true);
  if (py < bbox.top || py > bbox.top + bbox.height) return;
  ctx.save();
  ctx.strokeStyle = color;
  ctx.lineWidth = 1.5 * devicePixelRatio;
  ctx.setLineDash(dash.map((d) => d * devicePixelRatio));
  ctx.beginPath();
  ctx.moveTo(bbox.left, py);
  ctx.lineTo(bbox.left + bbox.width, py);
  ctx.stroke();
  ctx.restore();
}

function drawLimit(u, limitSeconds) {
  if (limitSeconds === null) return;
  const { ctx, bbox } = u;
  const px = u.valToPos(limitSeconds, 'x', true);
  if (px < bbox.left || px > bbox.left + bbox.width + 1) return;
  ctx.save();
  ctx.strokeStyle = COLORS.limit;
  ctx.lineWidth = 2 * devicePixelRatio;
  ctx.setLineDash([3 * devicePixelRatio, 3 * devicePixelRatio]);
  ctx.beginPath();
  ctx.moveTo(px, bbox.top);
  ctx.lineTo(px, bbox.top + bbox.height);
  ctx.stroke();
  ctx.fillStyle = COLORS.limit;
  ctx.font = `${11 * devicePixelRatio}px sans-serif`;
  ctx.textAlign = 'right';
  ctx.fillText(`time limit ${limitSeconds} s`, px - 4 * devicePixelRatio, bbox.top + 12 * devicePixelRatio);
  ctx.restore();
}

function shadeAbove(u, t, values, threshold) {
  const { ctx } = u;
  ctx.save();
  ctx.fillStyle = 'rgba(31,119,180,0.25)';
  for (const region of regionsAbove(t, values, threshold)) {
    ctx.beginPath();
    region.forEach(([x, y], i) => (i === 0 ? ctx.moveTo : ctx.lineTo).call(ctx, u.valToPos(x, 'x', true), u.valToPos(y, 'y', true)));
    ctx.closePath();
    ctx.fill();
  }
  ctx.restore();
}

/** The x range: the trace, and the limit when it is within reach (a far limit would flatten the curves). */
function xRange(t, endSeconds, limitSeconds) {
  const last = Math.max(endSeconds ?? 0, t.length ? t[t.length - 1] : 0, 1e-3);
  const withLimit = limitSeconds !== null && limitSeconds <= last * 1.5 ? Math.max(last, limitSeconds * 1.02) : last;
  return [0, withLimit];
}

function chart(target, { title, yLabel, t, series, endSeconds, limitSeconds, threshold, width }) {
  const [xMin, xMax] = xRange(t, endSeconds, limitSeconds);
  const yMaxData = Math.max(1, threshold ? threshold * 1.15 : 0, ...series.flatMap((s) => s.values.filter((v) => v !== null)));
  const opts = {
    title,
    width,
    height: 260,
    scales: { x: { time: false, range: () => [xMin, xMax] }, y: { range: () => [0, yMaxData * 1.08] } },
    axes: [{ label: 'time since start (s)' }, { label: yLabel, size: 70 }],
    series: [{ label: 't (s)', value: (_u, v) => (v === null ? '—' : v.toFixed(2)) }, ...series.map((s) => ({ label: s.label, stroke: s.color, width: 1.6, dash: s.dash, spanGaps: false, points: { show: false } }))],
    hooks: {
      draw: [
        (u) => {
          if (threshold !== null && series.length > 0) {
            shadeAbove(u, t, series[0].values, threshold);
            drawHLine(u, threshold, COLORS.tolerance, [6, 4]);
          }
          drawLimit(u, limitSeconds);
        },
      ],
    },
  };
  return new uPlot(opts, [t, ...series.map((s) => s.values)], target);
}

/** Draws the three charts into `root`; returns the uPlot instances (destroy them on the next draw). */
export function drawRunCharts(root, run, samples) {
  const t = samples.map((s) => s.tS);
  const endSeconds = run.endedMonoNs !== null ? (run.endedMonoNs - run.startedMonoNs) / 1e9 : null;
  const width = Math.max(360, Math.min(1300, root.clientWidth - 24));
  const common = { t, endSeconds, limitSeconds: run.timeLimitSeconds, width };
  const tolerance = run.gpuToleranceMiB ?? 2048;
  const gpuSeries = [];
  if (samples.some((s) => s.gpuMiB !== null)) gpuSeries.push({ label: 'GPU MiB (run processes)', color: COLORS.gpu, values: samples.map((s) => s.gpuMiB) });
  if (samples.some((s) => s.gpuDeviceMiB !== null)) gpuSeries.push({ label: 'GPU MiB (device, official)', color: COLORS.device, dash: [5, 3], values: samples.map((s) => s.gpuDeviceMiB) });
  const boxes = ['gpu', 'cpu', 'ram'].map((k) => {
    const box = document.createElement('div');
    box.className = 'chart';
    box.id = `chart-${k}`;
    root.append(box);
    return box;
  });
  if (gpuSeries.length === 0) {
    const note = document.createElement('p');
    note.className = 'muted';
    note.textContent = 'No GPU memory was measured for this run (no GPU source, or none visible to it).';
    boxes[0].append(note);
  }
  return [
    chart(boxes[0], { ...common, title: `GPU memory (tolerance ${tolerance} MiB, shaded: counted in the exact AUC)`, yLabel: 'MiB', series: gpuSeries, threshold: tolerance }),
    chart(boxes[1], { ...common, title: `CPU utilisation (% of host, ${run.nCpu} CPUs)`, yLabel: '%', series: [{ label: 'CPU % (cgroup counter)', color: COLORS.cpu, values: cpuPctSeries(samples, run.nCpu) }], threshold: null }),
    chart(boxes[2], { ...common, title: 'RAM (working set)', yLabel: 'MiB', series: [{ label: 'RAM MiB', color: COLORS.ram, values: samples.map((s) => s.ramMiB) }], threshold: null }),
  ];
}
