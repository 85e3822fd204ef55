// Node view: GPUs, host, agent health and the runs in flight; polls the live endpoint every 1.5 s.
import { getJson } from './api.js';
import { clear, el, fmt, fmtDuration, limitBar } from './dom.js';

const POLL_MS = 1500;

function card(title, big, sub) {
  return el('div', { class: 'card' }, el('div', { class: 'muted' }, title), el('div', { class: 'big' }, big), sub ? el('div', { class: 'muted' }, sub) : null);
}

function healthCards(live) {
  const h = live.health;
  // A GPU is in use when a run in flight asked for it or holds memory on it.
  const usedBy = (g, r) => (r.gpuMiBByIndex && r.gpuMiBByIndex[g.index] > 0) || (Array.isArray(r.gpuDevices) && (r.gpuDevices.includes('all') || r.gpuDevices.includes(String(g.index)) || r.gpuDevices.includes(g.uuid)));
  const gpusUsed = live.gpus.filter((g) => live.runs.some((r) => usedBy(g, r))).length;
  const cards = [
    card('node', h.node, `agent ${h.version}, up ${fmtDuration((live.nowWallMs - h.startedWallMs) / 1000)}`),
    card('GPUs in use', `${gpusUsed} / ${live.gpus.length}`, `source: ${h.gpuSource.active}`),
    card('host CPU', live.host && live.host.cpuBusyPct !== null ? `${fmt(live.host.cpuBusyPct, 1)} %` : '—', 'busy, all cores'),
    card('host RAM', live.host ? `${fmt(live.host.memUsedMiB / 1024, 1)} / ${fmt(live.host.memTotalMiB / 1024, 1)} GiB` : '—'),
    card('runs in flight', String(live.runs.length)),
    card('sampling', `${h.intervalMs} ms`, `${h.ticks.count} ticks, ${h.ticks.missed} missed`),
  ];
  return el('div', { class: 'cards' }, cards);
}

function sourcesTable(health) {
  const rows = Object.entries(health.sources).map(([name, s]) =>
    el('tr', {}, el('td', {}, name), el('td', { class: s.up ? 'up' : 'down' }, s.up ? 'up' : 'down'), el('td', { class: 'muted' }, s.reason ?? '')),
  );
  return el('table', { id: 'sources' }, el('thead', {}, el('tr', {}, el('th', {}, 'source'), el('th', {}, 'state'), el('th', {}, 'reason'))), el('tbody', {}, rows));
}

function gpuTable(gpus) {
  if (gpus.length === 0) return el('p', { class: 'muted' }, 'No GPU seen by this agent.');
  return el(
    'table',
    {},
    el('thead', {}, el('tr', {}, ['GPU', 'name', 'used MiB', 'total MiB', 'util %'].map((h, i) => el('th', { class: i >= 2 ? 'num' : '' }, h)))),
    el('tbody', {}, gpus.map((g) => el('tr', {}, el('td', {}, String(g.index)), el('td', {}, g.name), el('td', { class: 'num' }, fmt(g.usedMiB)), el('td', { class: 'num' }, fmt(g.totalMiB)), el('td', { class: 'num' }, fmt(g.utilPct))))),
  );
}

function runsTable(runs) {
  if (runs.length === 0) return el('p', { class: 'muted', id: 'no-live-runs' }, 'No run in flight.');
  const head = ['team', 'case', 'container', 'GPU MiB', 'CPU % host', 'CPU % core', 'RAM MiB', 'elapsed / limit'];
  return el(
    'table',
    { id: 'live-runs' },
    el('thead', {}, el('tr', {}, head.map((h, i) => el('th', { class: i >= 3 && i <= 6 ? 'num' : '' }, h)))),
    el(
      'tbody',
      {},
      runs.map((r) =>
        el(
          'tr',
          { 'data-run-id': r.id },
          el('td', {}, el('a', { href: `#/run/${encodeURIComponent(r.id)}` }, r.team)),
          el('td', {}, r.case),
          el('td', {}, r.container ?? '—'),
          el('td', { class: 'num' }, fmt(r.gpuMiB)),
          el('td', { class: 'num' }, fmt(r.cpuHostPct, 1)),
          el('td', { class: 'num' }, fmt(r.cpuCorePct, 1)),
          el('td', { class: 'num' }, fmt(r.ramMiB, 1)),
          el('td', {}, limitBar(r.elapsedSeconds, r.timeLimitSeconds)),
        ),
      ),
    ),
  );
}

export function nodeView(root) {
  const body = el('div', { id: 'node-view' });
  root.append(el('h2', {}, 'Node'), body);
  const state = document.getElementById('agent-state');
  let timer = null;
  let stopped = false;
  const tick = async () => {
    try {
      const live = await getJson('api/v1/live');
      if (stopped) return;
      clear(body).append(healthCards(live), el('h3', {}, 'Runs in flight'), runsTable(live.runs), el('h3', {}, 'GPUs'), gpuTable(live.gpus), el('h3', {}, 'Agent health'), sourcesTable(live.health));
      state.textContent = `live · updated ${new Date(live.nowWallMs).toLocaleTimeString()}`;
    } catch (err) {
      if (stopped) return;
      const msg = err.status === 404 ? 'No agent is sampling here (database-only server): see the Runs view.' : `Agent unreachable: ${err.message}`;
      clear(body).append(el('p', { class: 'error' }, msg));
      state.textContent = 'offline';
    }
    if (!stopped) timer = setTimeout(tick, POLL_MS);
  };
  tick();
  return () => {
    stopped = true;
    clearTimeout(timer);
  };
}
