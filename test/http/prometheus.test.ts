// A real Prometheus scrapes a server built with createApp; every PromQL expression of the committed
// dashboards must parse and return at least one series, and promtool must accept a real scrape.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NodeSample } from '../../src/core/types.js';
import { AgentMetrics } from '../../src/http/metrics.js';
import { createApp, listen, type Listening } from '../../src/http/server.js';
import { DataLiveView, liveRun, nodeSample, run } from './helpers.js';
import { havePrometheus, startPrometheus, waitForScrapes, type RunningPrometheus } from './prometheus-helpers.js';
import { tempStore } from './store-helpers.js';

const DASHBOARDS = join(import.meta.dirname, '..', '..', 'dashboards');

/** The node's counters advance with real time, like a busy host, so rates are not all zero. */
class MovingLiveView extends DataLiveView {
  private readonly t0 = Date.now();
  override lastNodeSample(): NodeSample {
    const s = nodeSample();
    const dt = (Date.now() - this.t0) / 1000;
    s.cpu.userSeconds += 1.5 * dt;
    s.cpu.idleSeconds += 0.5 * dt;
    return s;
  }
}

/** Grafana's template variables, as an organiser with "All" selected would send them. */
function substitute(expr: string): string {
  return expr
    .replaceAll('$__rate_interval', '1m')
    .replaceAll('$__range', '1h')
    .replaceAll('$__interval', '15s')
    .replaceAll('$instance', '.*')
    .replaceAll('$team', '.*');
}

function dashboardExprs(): { file: string; title: string; expr: string }[] {
  const out: { file: string; title: string; expr: string }[] = [];
  for (const file of readdirSync(DASHBOARDS).filter((f) => f.endsWith('.json'))) {
    const d = JSON.parse(readFileSync(join(DASHBOARDS, file), 'utf8')) as { panels: { title: string; targets?: { expr?: string }[] }[] };
    for (const p of d.panels) for (const t of p.targets ?? []) if (t.expr) out.push({ file, title: p.title, expr: t.expr });
  }
  return out;
}

const enabled = havePrometheus();
let db: ReturnType<typeof tempStore>;
let agent: Listening;
let prom: RunningPrometheus;

beforeAll(async () => {
  if (!enabled) return;
  db = tempStore();
  const live = new MovingLiveView();
  live.runs = [liveRun('live-1', { timeLimitSeconds: 600 })];
  const metrics = new AgentMetrics({ live });
  metrics.runFinished(run('done-1'));
  metrics.runFinished(run('done-2', { status: 'timeout', team: 'beta' }));
  metrics.tick(0.001, 0);
  metrics.dbWrite(0.002, 10);
  agent = await listen(createApp({ store: db.store, live, metrics }), '127.0.0.1:0');
  prom = await startPrometheus([`127.0.0.1:${agent.port}`]);
  await waitForScrapes(prom, 'flare-agent', 1, 3);
});

afterAll(async () => {
  await prom?.stop();
  await agent?.close();
  db?.cleanup();
});

describe.skipIf(!enabled)('dashboards against a real Prometheus', () => {
  const exprs = dashboardExprs();
  it('finds the dashboards expressions', () => {
    expect(exprs.length).toBeGreaterThan(15);
  });

  it.each(exprs.map((e) => [`${e.file}: ${e.title}: ${e.expr}`, e.expr]))('%s', async (_name, expr) => {
    const r = await prom.query(substitute(expr));
    expect(r.error ?? '').toBe('');
    expect(r.status).toBe('success');
    expect(r.data?.result.length).toBeGreaterThanOrEqual(1);
  });

  it('a real scrape passes promtool check metrics', async () => {
    expect(existsSync('/usr/bin/promtool')).toBe(true);
    const text = await (await fetch(`http://127.0.0.1:${agent.port}/metrics`)).text();
    const r = spawnSync('/usr/bin/promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
    expect(r.stdout + r.stderr).toBe('');
    expect(r.status).toBe(0);
  });
});
