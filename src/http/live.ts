// Routes the web page needs beyond the read API: the node's live state (runs in flight, GPUs, host
// CPU/RAM, agent health) and a run's plots as SVG (the same drawing as `flare-agent plot`).
import { Router } from 'express';
import type { LiveView } from '../agent/types.js';
import type { HostCpuTimes } from '../core/types.js';
import { runPlot, PANEL_KINDS } from '../plot/series.js';
import { panelSvg } from '../plot/svg.js';
import { safeName } from '../export/file-names.js';
import type { Store } from '../store/index.js';
import { runSamples, type SampleTail } from './api.js';
import { handled } from './handled.js';

const MAX_ID_CHARS = 200;
/** Host CPU is computed over the node samples of this last window. */
const HOST_WINDOW_MS = 3000;

const busy = (c: HostCpuTimes): number => c.userSeconds + c.niceSeconds + c.systemSeconds + c.irqSeconds + c.softirqSeconds + c.stealSeconds;
const total = (c: HostCpuTimes): number => busy(c) + c.idleSeconds + c.iowaitSeconds;

/** Plain host busy % between two readings (not FLARE's +0.1 formula: this is for people to read). */
export function hostBusyPct(prev: HostCpuTimes, next: HostCpuTimes): number | null {
  const dTotal = total(next) - total(prev);
  return dTotal > 0 ? (100 * (busy(next) - busy(prev))) / dTotal : null;
}

export function liveRouter(store: Store, live: LiveView | null, tail?: SampleTail): Router {
  const r = Router();

  r.get('/live', (_req, res) => {
    if (!live) return void res.status(404).json({ error: 'no agent running here: live state is not available' });
    const nowWallMs = Date.now();
    const node = live.lastNodeSample();
    const recent = store.getNodeSamples(nowWallMs - HOST_WINDOW_MS, nowWallMs + 1);
    const first = recent[0];
    const last = recent.at(-1);
    const devices = live.gpuDevices();
    res.json({
      nowWallMs,
      health: live.health(),
      host: node && {
        cpuBusyPct: first && last && first !== last ? hostBusyPct(first.cpu, last.cpu) : null,
        memUsedMiB: node.memUsedMiB,
        memTotalMiB: node.memTotalMiB,
      },
      gpus: devices.map((d) => {
        const s = node?.gpus.find((g) => g.index === d.index);
        return { index: d.index, uuid: d.uuid, name: d.name, totalMiB: d.totalMiB, usedMiB: s?.usedMiB ?? null, utilPct: s?.utilPct ?? null };
      }),
      runs: live.liveRuns().map((l) => ({
        id: l.run.id,
        team: l.run.team,
        case: l.run.case,
        container: l.run.containerName ?? null,
        gpuDevices: l.run.gpuDevices ?? null,
        elapsedSeconds: l.elapsedSeconds,
        timeLimitSeconds: l.run.timeLimitSeconds,
        gpuMiB: l.last?.gpuMiB ?? null,
        gpuMiBByIndex: l.gpuMiBByIndex,
        ramMiB: l.last?.ramMiB ?? null,
        cpuCorePct: l.cpuCorePct,
        cpuHostPct: l.cpuCorePct === null ? null : l.cpuCorePct / Math.max(1, l.run.nCpu),
      })),
    });
  });

  r.get('/runs/:id/plot.svg', handled(async (req, res) => {
    const id = req.params.id ?? '';
    const raw = req.query.panel ?? 'gpu';
    const panelKind = PANEL_KINDS.find((k) => k === raw);
    if (!panelKind || Object.keys(req.query).some((k) => k !== 'panel')) return void res.status(400).json({ error: 'panel: expected gpu, cpu or ram (the only parameter)' });
    const run = id.length > 0 && id.length <= MAX_ID_CHARS ? store.getRun(id) : undefined;
    if (!run) return void res.status(404).json({ error: `run not found: ${id.slice(0, MAX_ID_CHARS)}` });
    const plot = runPlot(run, [...(await runSamples(store, run, tail))]);
    const panel = plot.panels.find((p) => p.kind === (panelKind));
    if (!panel) return void res.status(500).json({ error: 'internal error' });
    res.type('image/svg+xml');
    res.set('Content-Disposition', `inline; filename="${safeName(run.case)}_${safeName(run.id)}_${panelKind.toUpperCase()}.svg"`);
    // A served SVG runs scripts when opened directly: ours has none, and this forbids any.
    res.set('Content-Security-Policy', "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'");
    res.send(panelSvg(plot, panel));
  }));

  return r;
}
