// Runs view: filters (team, case, status, node), the sort and the page in the URL; the agent sorts and
// pages (GET api/v1/runs?sort=&offset=&total=1), so a page costs one page of runs at any season size.
// Exact figures and FLARE22's formulas over each run's own span side by side, download links.
import { runPath, runsPage } from './api.js';
import { clear, el, fmt, fmtTime, statusCell } from './dom.js';

const PAGE_SIZE = 50;
const STATUSES = ['', 'running', 'completed', 'failed', 'oom', 'timeout', 'interrupted'];
const FILTERS = ['team', 'case', 'status', 'node'];
const get = (r, path) => path.split('.').reduce((v, k) => (v && typeof v === 'object' ? v[k] : undefined), r);

// [key, header, group, digits]
const COLUMNS = [
  ['startedWallMs', 'started', '', null],
  ['team', 'team', '', null],
  ['case', 'case', '', null],
  ['node', 'node', '', null],
  ['status', 'status', '', null],
  ['wallSeconds', 'wall s', 'exact', 1],
  ['scoring.aucGpuMiBs', 'AUC GPU MiB·s', 'exact', 0],
  ['maxGpuMiB', 'max GPU MiB', 'exact', 0],
  ['scoring.aucCpuPctS', 'AUC CPU %·s', 'exact', 0],
  ['aucRamMiBs', 'AUC RAM MiB·s', 'exact', 0],
  ['flareFormulas.aucGpuMiBs', 'AUC GPU MiB·s', 'flareFormulas', 0],
  ['flareFormulas.maxGpuStableMiB', 'max GPU MiB', 'flareFormulas', 0],
  ['flareFormulas.aucCpuPctS', 'AUC CPU %·s', 'flareFormulas', 0],
  ['flareFormulas.aucRamMiBs', 'AUC RAM MiB·s', 'flareFormulas', 0],
];

function setHash(params) {
  for (const [k, v] of [...params]) if (!v) params.delete(k);
  location.hash = `#/runs?${params}`;
}

function filterForm(params) {
  const inputs = {};
  const fields = FILTERS.map((name) => {
    const input =
      name === 'status'
        ? el('select', { name }, STATUSES.map((s) => el('option', { value: s, selected: params.get(name) === s }, s || 'any')))
        : el('input', { name, type: 'text', size: 14, maxlength: 256 });
    if (name !== 'status') input.value = params.get(name) ?? '';
    inputs[name] = input;
    return el('label', {}, name, input);
  });
  const form = el('form', { class: 'filters', id: 'run-filters' }, fields, el('button', { type: 'submit' }, 'Filter'));
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const next = new URLSearchParams();
    for (const name of FILTERS) next.set(name, inputs[name].value.trim());
    next.set('sort', params.get('sort') ?? '');
    setHash(next);
  });
  return form;
}

function downloadLinks(r) {
  const base = runPath(r.id);
  return el(
    'span',
    { class: 'links' },
    el('a', { href: `${base}/samples?format=csv` }, 'CSV'),
    ['gpu', 'cpu', 'ram'].map((p) => el('a', { href: `${base}/plot.svg?panel=${p}`, target: '_blank' }, p.toUpperCase())),
  );
}

function table(runs, params) {
  const sort = params.get('sort') || '-startedWallMs';
  const key = sort.replace(/^-/, '');
  const headerRow = el(
    'tr',
    {},
    COLUMNS.map(([k, label, , digits]) => {
      const mark = k === key ? (sort.startsWith('-') ? ' ▼' : ' ▲') : '';
      return el('th', {
        class: `sortable${digits !== null ? ' num' : ''}`,
        'data-sort': k,
        onclick: () => {
          const next = new URLSearchParams(params);
          next.set('sort', sort === k ? `-${k}` : k);
          next.delete('page');
          setHash(next);
        },
      }, label + mark);
    }),
    el('th', {}, 'downloads'),
  );
  const groups = el('tr', {}, el('th', { colspan: 5 }), el('th', { colspan: 5, class: 'group' }, 'exact (per container, penalties applied)'), el('th', { colspan: 4, class: 'group', title: "FLARE22's formulas over this run's own span and ticks. The official CSV models the organisers' monitor itself (its span and loop, docs/scoring.md), so its figures differ." }, 'FLARE22 formulas, run span (not the official CSV)'), el('th'));
  const rows = runs.map((r) =>
    el(
      'tr',
      { 'data-run-id': r.id },
      COLUMNS.map(([k, , , digits]) => {
        const v = get(r, k);
        if (k === 'startedWallMs') return el('td', {}, el('a', { href: `#/run/${encodeURIComponent(r.id)}` }, fmtTime(v)));
        if (k === 'status') return el('td', {}, statusCell(v));
        if (k === 'team') return el('td', { class: 'team' }, v);
        return digits === null ? el('td', {}, v ?? '—') : el('td', { class: 'num' }, fmt(v, digits));
      }),
      el('td', {}, downloadLinks(r)),
    ),
  );
  return el('div', { class: 'wrap' }, el('table', { id: 'runs-table' }, el('thead', {}, groups, headerRow), el('tbody', {}, rows)));
}

export function runsView(root, params) {
  const filter = {};
  for (const name of FILTERS) if (params.get(name)) filter[name] = params.get(name);
  const body = el('div', {}, el('p', { class: 'muted' }, 'Loading…'));
  root.append(el('h2', {}, 'Runs'), filterForm(params), body);
  let stopped = false;
  const sort = COLUMNS.some(([k]) => params.get('sort')?.replace(/^-/, '') === k) ? params.get('sort') : '-startedWallMs';
  const page = Math.max(1, Math.floor(Number(params.get('page'))) || 1);
  runsPage(filter, sort, (page - 1) * PAGE_SIZE, PAGE_SIZE)
    .then(({ runs, total }) => {
      if (stopped) return;
      const pages = Math.max(1, Math.ceil(total / PAGE_SIZE));
      const go = (p) => {
        const next = new URLSearchParams(params);
        next.set('page', String(p));
        setHash(next);
      };
      const exportParams = new URLSearchParams(filter);
      const pager = el(
        'div',
        { class: 'pager' },
        el('button', { disabled: page <= 1, onclick: () => go(Math.min(page, pages) - 1) }, '‹ previous'),
        el('span', { id: 'page-info' }, `page ${page} of ${pages} · ${total} runs`),
        el('button', { disabled: page >= pages, onclick: () => go(page + 1) }, 'next ›'),
        el('a', { href: `api/v1/export/flare22.csv?${exportParams}` }, 'FLARE22 CSV (exact)'),
        el('a', { href: `api/v1/export/flare22.csv?${new URLSearchParams({ ...filter, figures: 'official' })}` }, 'FLARE22 CSV (official)'),
      );
      const rows = runs.length > 0 || page === 1 ? table(runs, params) : el('p', { class: 'muted' }, `No page ${page}: the list has ${pages}.`);
      clear(body).append(pager, rows);
    })
    .catch((err) => {
      if (!stopped) clear(body).append(el('p', { class: 'error' }, `Could not load runs: ${err.message}`));
    });
  return () => {
    stopped = true;
  };
}
