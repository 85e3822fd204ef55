// Run detail: identity, charts, the summary (exact and FLARE22's formulas side by side) and how it was
// measured (interval, covered span, unsampled head and tail, flags). Refreshes while the run runs.
import { getJson, runPath } from './api.js';
import { drawRunCharts } from './charts.js';
import { clear, el, fmt, fmtTime, statusCell } from './dom.js';

const REFRESH_MS = 2000;

function kv(pairs) {
  return el('dl', { class: 'kv' }, pairs.flatMap(([k, v]) => [el('dt', {}, k), el('dd', {}, v)]));
}

function identity(r) {
  return kv([
    ['team', el('span', { id: 'detail-team' }, r.team)],
    ['case', r.case],
    ['status', statusCell(r.status)],
    ['container', r.container ?? '—'],
    ['image', r.image ?? '—'],
    ['node', r.node],
    ['GPUs requested', r.gpuDevices ? r.gpuDevices.join(', ') : '—'],
    ['started', fmtTime(r.startedWallMs)],
    ['ended', fmtTime(r.endedWallMs)],
    ['time limit', r.timeLimitSeconds === null ? 'none' : `${r.timeLimitSeconds} s${r.exceededTimeLimit ? ' — exceeded' : ''}`],
  ]);
}

function figures(r) {
  if (!r.hasSummary) return el('p', { class: 'muted' }, 'No summary yet.');
  const o = r.flareFormulas ?? {};
  const s = r.scoring ?? {};
  const row = (name, exact, official, unit) => el('tr', {}, el('td', {}, name), el('td', { class: 'num' }, exact), el('td', { class: 'num' }, official), el('td', { class: 'muted' }, unit));
  return el(
    'table',
    { id: 'figures' },
    el('thead', {}, el('tr', {}, el('th', {}, 'figure'), el('th', { class: 'num' }, 'exact'), el('th', { class: 'num', title: "FLARE22's formulas over this run's own span and ticks; the official CSV models the organisers' monitor (docs/scoring.md) and differs." }, 'FLARE22 formulas, run span'), el('th', {}, 'unit'))),
    el(
      'tbody',
      {},
      row('time (scoring)', fmt(s.timeSeconds, 3), fmt(r.wallSeconds, 3), 's'),
      row('AUC GPU (scoring)', fmt(s.aucGpuMiBs, 0), fmt(o.aucGpuMiBs, 0), 'MiB·s'),
      row('max GPU (FLARE22 stable max)', fmt(r.maxGpuMiB, 0), fmt(o.maxGpuStableMiB, 0), 'MiB'),
      row('AUC GPU device-level', fmt(r.aucGpuDeviceMiBs, 0), '', 'MiB·s'),
      // GPU counters (docs/gpu-accounting.md): absent without NVML.
      r.gpuAccountingMode === undefined ? null : el('tr', { id: 'gpu-accounting-peak' },
        el('td', {}, 'peak GPU, NVML accounting'),
        el('td', { class: 'num' }, fmt(r.peakGpuMiBAccounting, 0), r.gpuSpikeMissed ? ' — spike missed by the sampler' : ''),
        el('td', { class: 'num' }, ''),
        el('td', { class: 'muted' }, r.gpuAccountingMode === 'on' ? 'MiB' : `MiB (accounting ${r.gpuAccountingMode})`)),
      r.gpuEnergyJ === undefined ? null : el('tr', { id: 'gpu-energy' },
        el('td', {}, 'GPU energy'),
        el('td', { class: 'num' }, fmt(r.gpuEnergyJ, 1)),
        el('td', { class: 'num' }, ''),
        el('td', { class: 'muted' }, r.gpuEnergyMethod === 'power' ? 'J (integrated power)' : 'J')),
      row('AUC CPU (scoring)', fmt(s.aucCpuPctS, 0), fmt(o.aucCpuPctS, 0), '%·s'),
      row('max CPU', fmt(r.maxCpuPct, 1), fmt(o.maxCpuStablePct, 1), '%'),
      row('CPU time', fmt(r.cpuSeconds, 3), '', 's'),
      row('AUC RAM', fmt(r.aucRamMiBs, 0), fmt(o.aucRamMiBs, 0), 'MiB·s'),
      row('max RAM', fmt(r.maxRamMiB, 1), fmt(o.maxRamStableMiB, 1), 'MiB'),
    ),
  );
}

function method(r) {
  if (!r.hasSummary) return el('span');
  return kv([
    ['ended because', `${r.terminationReason ?? '—'}${r.exitCode !== null && r.exitCode !== undefined ? `, exit code ${r.exitCode}` : ''}`],
    ['penalties applied', r.scoring?.penalised ? 'yes (over the time limit)' : 'no'],
    ['sampling', `${r.sampleCount} samples every ${r.intervalMs} ms`],
    ['covered span', `${fmt(r.coveredSeconds, 3)} s of ${fmt(r.wallSeconds, 3)} s`],
    ['unsampled head / tail', `${fmt(r.unsampledHeadSeconds, 3)} s / ${fmt(r.unsampledTailSeconds, 3)} s`],
    ['CPU the tail could hide (bound)', `${fmt(r.tailCpuBoundSeconds, 3)} s`],
    ['CPU normalisation', `${r.nCpu} online CPUs`],
    ['GPU tolerance', `${r.gpuToleranceMiB} MiB`],
    ...(r.gpuSharedAtStart === undefined ? [] : [['other GPU processes at start', r.gpuSharedAtStart === null ? 'unknown' : `${r.gpuSharedAtStart.processes}, ${fmt(r.gpuSharedAtStart.usedMiB, 0)} MiB`]]),
    ...(r.gpuTimeSeconds === undefined ? [] : [['GPU time (accounting)', `${fmt(r.gpuTimeSeconds, 3)} s`]]),
    ['FLARE22 formulas: nominal interval', `${fmt(r.flareFormulas?.nominalIntervalSeconds, 3)} s, ${r.flareFormulas?.sampleCount ?? '—'} ticks`],
    ['flags', r.flags && r.flags.length ? r.flags.join(', ') : 'none'],
    ...facts(r),
  ]);
}

// The run's facts (src/core/run-facts.ts FACT_KEYS order), each under its own name: the values that
// flags only name. Values are set as text (el), never as HTML: some hold names from the image.
const FACT_KEYS = [
  'createdBeforeStartSeconds', 'removedAfterEndSeconds', 'attachedLateSeconds', 'samplesDropped', 'oomNamedBy',
  'cgroupMethod', 'countersUnreadable', 'caseInputFiles', 'labelsFromImage', 'labelsFromImageCount',
  'gpuRequestsUnresolved', 'killDenied', 'killedThroughCgroup', 'spawnError', 'gpuUnseenProcesses',
  'gpuProcessesUnknown', 'legacyFlags',
];

function facts(r) {
  return FACT_KEYS.filter((k) => r[k] !== undefined && r[k] !== null).map((k) => {
    const v = r[k];
    if (k === 'gpuProcessesUnknown') return [k, `${v} of ${r.gpuProcessCount ?? '?'}`];
    return [k, Array.isArray(v) ? v.join('; ') : String(v)];
  });
}

function downloads(r) {
  const base = runPath(r.id);
  return el(
    'p',
    { class: 'links' },
    el('a', { href: `${base}/samples?format=csv` }, 'samples CSV'),
    el('a', { href: `${base}/samples?format=json` }, 'samples JSON'),
    ['gpu', 'cpu', 'ram'].map((p) => el('a', { href: `${base}/plot.svg?panel=${p}`, target: '_blank' }, `${p.toUpperCase()} plot (SVG)`)),
  );
}

export function runDetailView(root, id) {
  let stopped = false;
  let timer = null;
  let plots = [];
  const load = async () => {
    try {
      const [run, trace] = await Promise.all([getJson(runPath(id)), getJson(`${runPath(id)}/samples?format=json`)]);
      if (stopped) return;
      for (const p of plots) p.destroy();
      clear(root);
      root.append(
        el('h2', {}, 'Run ', el('span', { class: 'muted' }, run.id)),
        el('div', { class: 'grid2' }, el('div', {}, el('h3', {}, 'Identity'), identity(run)), el('div', {}, el('h3', {}, 'How it was measured'), method(run))),
        el('h3', {}, 'Figures'),
        figures(run),
        downloads(run),
      );
      const charts = el('div', { id: 'charts' });
      root.append(el('h3', {}, 'Against time'), charts);
      plots = drawRunCharts(charts, run, trace.samples);
      if (run.status === 'running' && !stopped) timer = setTimeout(load, REFRESH_MS);
    } catch (err) {
      if (!stopped) clear(root).append(el('p', { class: 'error' }, `Could not load run: ${err.message}`));
    }
  };
  root.append(el('p', { class: 'muted' }, 'Loading…'));
  load();
  return () => {
    stopped = true;
    clearTimeout(timer);
    for (const p of plots) p.destroy();
  };
}
