// Source of dashboards/*.json (Grafana, schemaVersion 39). Plain objects, no SDK: the JSON is small and
// test/deploy/dashboards.test.ts checks that the committed files equal this output.
// Regenerate: UPDATE_DASHBOARDS=1 npx vitest run test/deploy/dashboards.test.ts

type Unit = 'bytes' | 'percentunit' | 's' | 'none' | 'short' | 'ops' | 'bool_on_off';
interface Target {
  expr: string;
  legend: string;
  instant?: boolean;
}
interface PanelSpec {
  title: string;
  type: 'timeseries' | 'stat' | 'table' | 'bargauge' | 'alertlist';
  unit: Unit;
  targets: Target[];
  w?: number;
  h?: number;
  description?: string;
  max?: number;
  stack?: boolean;
}

const DS = { type: 'prometheus', uid: '${datasource}' };
const INST = 'instance=~"$instance"';
const SEL = `${INST}, team=~"$team"`;
const RI = '$__rate_interval';

/**
 * The alert-list panel: the shipped rules' alerts (deploy/prometheus/rules.yml) that fire or are
 * pending on the selected nodes, as the datasource's Prometheus evaluates them.
 */
const ALERT_LIST_OPTIONS = {
  viewMode: 'list',
  groupMode: 'default',
  groupBy: [],
  maxItems: 20,
  sortOrder: 1,
  dashboardAlerts: false,
  alertName: '',
  alertInstanceLabelFilter: `{${INST}}`,
  datasource: '${datasource}',
  stateFilter: { firing: true, pending: true, noData: false, normal: false, error: true },
};

function panel(spec: PanelSpec, id: number, x: number, y: number): Record<string, unknown> {
  const custom: Record<string, unknown> =
    spec.type === 'timeseries'
      ? { drawStyle: 'line', lineWidth: 1, fillOpacity: spec.stack ? 30 : 10, showPoints: 'never', stacking: { mode: spec.stack ? 'normal' : 'none', group: 'A' } }
      : {};
  const defaults: Record<string, unknown> = { unit: spec.unit, custom };
  if (spec.max !== undefined) defaults.max = spec.max;
  return {
    id,
    type: spec.type,
    title: spec.title,
    ...(spec.description ? { description: spec.description } : {}),
    datasource: DS,
    gridPos: { x, y, w: spec.w ?? 12, h: spec.h ?? 8 },
    fieldConfig: { defaults, overrides: [] },
    options:
      spec.type === 'alertlist'
        ? ALERT_LIST_OPTIONS
        : spec.type === 'timeseries'
        ? { legend: { displayMode: 'table', placement: 'bottom', showLegend: true, calcs: ['lastNotNull', 'max'] }, tooltip: { mode: 'multi', sort: 'desc' } }
        : spec.type === 'table'
          ? { showHeader: true }
          : { reduceOptions: { calcs: ['lastNotNull'], fields: '', values: false }, orientation: 'auto' },
    targets: spec.targets.map((t, i) => ({
      refId: String.fromCharCode(65 + i),
      datasource: DS,
      expr: t.expr,
      legendFormat: t.legend,
      ...(t.instant ? { instant: true, range: false, format: 'table' } : { range: true }),
    })),
  };
}

/** Lays panels out two per row (a panel with w 24 takes a row of its own). */
function layout(specs: PanelSpec[]): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  let x = 0;
  let y = 0;
  let rowH = 0;
  specs.forEach((s, i) => {
    const w = s.w ?? 12;
    if (x + w > 24) {
      x = 0;
      y += rowH;
      rowH = 0;
    }
    out.push(panel(s, i + 1, x, y));
    x += w;
    rowH = Math.max(rowH, s.h ?? 8);
  });
  return out;
}

function variables(teamQuery: string): Record<string, unknown> {
  const query = (name: string, label: string, q: string) => ({
    name,
    label,
    type: 'query',
    datasource: DS,
    query: { query: q, refId: `${name}-var` },
    definition: q,
    refresh: 2,
    multi: true,
    includeAll: true,
    allValue: '.*',
    current: { selected: true, text: ['All'], value: ['$__all'] },
    sort: 1,
  });
  return {
    list: [
      { name: 'datasource', label: 'Prometheus', type: 'datasource', query: 'prometheus', current: {}, hide: 0 },
      query('instance', 'Node', 'label_values(flare_agent_info, instance)'),
      query('team', 'Team', teamQuery),
    ],
  };
}

function dashboard(uid: string, title: string, teamQuery: string, specs: PanelSpec[]): Record<string, unknown> {
  return {
    uid,
    title,
    tags: ['flare-agent'],
    editable: true,
    graphTooltip: 1,
    refresh: '10s',
    schemaVersion: 39,
    time: { from: 'now-1h', to: 'now' },
    timezone: 'browser',
    templating: variables(teamQuery),
    annotations: { list: [] },
    links: [],
    panels: layout(specs),
  };
}

const nodeOverview: PanelSpec[] = [
  {
    title: 'Alerts firing or pending (deploy/prometheus/rules.yml)',
    type: 'alertlist',
    unit: 'none',
    w: 24,
    h: 6,
    targets: [],
    description: "The shipped alert rules' alerts on the selected nodes; README, \"Alerts\", says what each means and what to do.",
  },
  {
    title: 'GPU memory used per GPU (device level)',
    type: 'timeseries',
    unit: 'bytes',
    targets: [
      { expr: `flare_gpu_memory_used_bytes{${INST}}`, legend: '{{instance}} GPU {{gpu}} used' },
      { expr: `flare_gpu_memory_total_bytes{${INST}}`, legend: '{{instance}} GPU {{gpu}} total' },
    ],
  },
  {
    title: 'GPU memory per container (own processes)',
    type: 'timeseries',
    unit: 'bytes',
    stack: true,
    targets: [{ expr: `flare:container_gpu_memory_bytes:sum{${SEL}}`, legend: '{{team}} {{case}} GPU {{gpu}}' }],
  },
  {
    title: 'CPU per container (1 = one core)',
    type: 'timeseries',
    unit: 'percentunit',
    targets: [{ expr: `flare:container_cpu_cores:rate1m{${SEL}}`, legend: '{{team}} {{case}}' }],
  },
  {
    title: 'Memory working set per container',
    type: 'timeseries',
    unit: 'bytes',
    targets: [{ expr: `flare_container_memory_working_set_bytes{${SEL}}`, legend: '{{team}} {{case}}' }],
  },
  {
    title: 'Node CPU busy',
    type: 'timeseries',
    unit: 'percentunit',
    max: 1,
    targets: [
      {
        expr: `1 - sum by (instance) (rate(flare_node_cpu_seconds_total{mode="idle", ${INST}}[${RI}])) / sum by (instance) (rate(flare_node_cpu_seconds_total{${INST}}[${RI}]))`,
        legend: '{{instance}}',
      },
    ],
  },
  {
    title: 'Node memory',
    type: 'timeseries',
    unit: 'bytes',
    targets: [
      { expr: `flare_node_memory_used_bytes{${INST}}`, legend: '{{instance}} used' },
      { expr: `flare_node_memory_total_bytes{${INST}}`, legend: '{{instance}} total' },
    ],
  },
  {
    title: 'GPU utilisation',
    type: 'timeseries',
    unit: 'percentunit',
    max: 1,
    targets: [{ expr: `flare_gpu_utilization_ratio{${INST}}`, legend: '{{instance}} GPU {{gpu}}' }],
  },
  {
    title: 'Runs in flight',
    type: 'stat',
    unit: 'none',
    w: 6,
    targets: [{ expr: `sum(flare_runs_running{${INST}})`, legend: 'runs' }],
  },
  {
    title: 'GPU source',
    type: 'stat',
    unit: 'none',
    w: 6,
    targets: [{ expr: `flare_agent_gpu_source_info{${INST}}`, legend: '{{instance}}: {{source}}' }],
  },
  {
    title: 'Containers running',
    type: 'table',
    unit: 's',
    w: 24,
    targets: [{ expr: `flare_container_elapsed_seconds{${SEL}}`, legend: '{{team}} {{case}}', instant: true }],
  },
  {
    title: 'Agent sources up',
    type: 'stat',
    unit: 'bool_on_off',
    targets: [{ expr: `flare_agent_source_up{${INST}}`, legend: '{{instance}} {{source}}' }],
  },
  {
    title: 'Source errors',
    type: 'timeseries',
    unit: 'short',
    targets: [{ expr: `sum by (instance, source) (increase(flare_agent_source_errors_total{${INST}}[${RI}]))`, legend: '{{instance}} {{source}}' }],
  },
  {
    title: 'Sampler tick lag (p99) and missed ticks',
    type: 'timeseries',
    unit: 's',
    targets: [
      { expr: `flare:agent_tick_lag_seconds:p99_5m{${INST}}`, legend: '{{instance}} p99 lag (5 min)' },
      { expr: `flare_agent_interval_seconds{${INST}}`, legend: '{{instance}} interval (alert above it)' },
    ],
  },
  {
    title: 'Missed ticks',
    type: 'timeseries',
    unit: 'short',
    targets: [{ expr: `increase(flare_agent_missed_ticks_total{${INST}}[${RI}])`, legend: '{{instance}}' }],
  },
  {
    title: 'Database write latency (p99)',
    type: 'timeseries',
    unit: 's',
    targets: [
      {
        expr: `histogram_quantile(0.99, sum by (le, instance) (rate(flare_agent_db_write_duration_seconds_bucket{${INST}}[${RI}])))`,
        legend: '{{instance}} p99',
      },
    ],
  },
  {
    title: 'Samples stored per second',
    type: 'timeseries',
    unit: 'ops',
    targets: [{ expr: `rate(flare_agent_samples_stored_total{${INST}}[${RI}])`, legend: '{{instance}}' }],
  },
];

const runs: PanelSpec[] = [
  {
    title: 'Runs finished by status (time range)',
    type: 'bargauge',
    unit: 'short',
    targets: [{ expr: `sum by (team, status) (increase(flare_runs_finished_total{${SEL}}[$__range]))`, legend: '{{team}} {{status}}', instant: true }],
  },
  {
    title: 'Time-limit exceedances (time range)',
    type: 'bargauge',
    unit: 'short',
    targets: [{ expr: `sum by (team) (increase(flare_runs_finished_total{status="timeout", ${SEL}}[$__range]))`, legend: '{{team}}', instant: true }],
  },
  {
    title: 'Runs finished over time',
    type: 'timeseries',
    unit: 'short',
    stack: true,
    targets: [{ expr: `sum by (status) (increase(flare_runs_finished_total{${SEL}}[${RI}]))`, legend: '{{status}}' }],
  },
  {
    title: 'Run duration distribution (time range)',
    type: 'bargauge',
    unit: 'short',
    description: 'Finished runs per duration bucket (le = at most this many seconds).',
    targets: [{ expr: `sum by (le) (increase(flare_run_duration_seconds_bucket{${SEL}}[$__range]))`, legend: '≤ {{le}} s', instant: true }],
  },
  {
    title: 'Run duration median and p95 per team',
    type: 'timeseries',
    unit: 's',
    targets: [
      { expr: `histogram_quantile(0.5, sum by (le, team) (rate(flare_run_duration_seconds_bucket{${SEL}}[$__range])))`, legend: '{{team}} median' },
      { expr: `histogram_quantile(0.95, sum by (le, team) (rate(flare_run_duration_seconds_bucket{${SEL}}[$__range])))`, legend: '{{team}} p95' },
    ],
  },
  {
    title: 'GPU memory and working set per team (running containers)',
    type: 'timeseries',
    unit: 'bytes',
    targets: [
      { expr: `sum by (team) (flare:team_gpu_memory_bytes:sum{${SEL}})`, legend: '{{team}} GPU memory' },
      { expr: `sum by (team) (flare:team_memory_working_set_bytes:sum{${SEL}})`, legend: '{{team}} working set' },
    ],
  },
  {
    title: 'CPU per team (1 = one core, running containers)',
    type: 'timeseries',
    unit: 'short',
    targets: [{ expr: `sum by (team) (flare:team_cpu_cores:rate1m{${SEL}})`, legend: '{{team}}' }],
  },
  {
    title: 'Runs in flight per team',
    type: 'timeseries',
    unit: 'short',
    targets: [{ expr: `sum by (team) (flare:team_runs_running:count{${SEL}})`, legend: '{{team}}' }],
  },
  {
    title: 'Running containers: share of their time limit used',
    type: 'timeseries',
    unit: 'percentunit',
    w: 24,
    targets: [
      { expr: `flare:container_time_limit_used:ratio{${SEL}}`, legend: '{{instance}} {{team}} {{case}}' },
    ],
  },
];

export function dashboards(): Record<string, Record<string, unknown>> {
  return {
    'node-overview.json': dashboard('flare-node-overview', 'FLARE agent: node overview', 'label_values(flare_container_elapsed_seconds{instance=~"$instance"}, team)', nodeOverview),
    'runs.json': dashboard('flare-runs', 'FLARE agent: runs', 'label_values(flare_runs_finished_total{instance=~"$instance"}, team)', runs),
  };
}

export function dashboardText(d: Record<string, unknown>): string {
  return JSON.stringify(d, null, 2) + '\n';
}
