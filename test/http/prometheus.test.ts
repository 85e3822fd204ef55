// A real Prometheus scrapes the real agent (real cgroups, the NVML stub as driver) while a real process runs; every PromQL expression of the committed
// dashboards must parse and return at least one series, and promtool must accept a real scrape.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { startAgent, type RunningAgent } from '../../src/daemon/agent.js';
import { DEFAULTS } from '../../src/agent/config.js';
import { silentLogger } from '../../src/log.js';
import { createProfileCgroup, type ProfileCgroup } from '../../src/cgroup/profile-cgroup.js';
import { monoNowNs } from '../../src/clock/ticker.js';
import { CgroupReader } from '../../src/cgroup/counters.js';
import { buildStub, MiB, stubDevice, writeStubState } from '../gpu/stub/stub.js';
import { sleep } from '../helpers.js';
import { havePrometheus, startPrometheus, waitForScrapes, type RunningPrometheus } from './prometheus-helpers.js';

const DASHBOARDS = join(import.meta.dirname, '..', '..', 'dashboards');

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
let dir: string;
let agent: RunningAgent;
let prom: RunningPrometheus;
const children: ChildProcess[] = [];
const cgroups: ProfileCgroup[] = [];

/** A real process burning CPU in a cgroup of its own, measured by the real agent as a run. */
function startBurningRun(name: string, team: string, timeLimitSeconds: number | null): { runId: string; pid: number } {
  const cg = createProfileCgroup(agent.stack.mounts!, `${name}-${process.pid}`);
  cgroups.push(cg);
  const child = spawn('/bin/sh', ['-c', 'for f in "$@"; do echo $$ > "$f"; done; exec sh -c "while :; do :; done"', 'x', ...cg.procsFiles], { stdio: 'ignore' });
  children.push(child);
  const run = agent.stack.runs.start({
    identity: { kind: 'profile', team, case: `${name}_0001`, node: agent.stack.node, containerName: name },
    reader: new CgroupReader(cg.paths),
    gpuKey: cg.relPath,
    startedWallMs: Date.now(),
    startedMonoNs: monoNowNs(),
    timeLimitSeconds,
  });
  return { runId: run.id, pid: child.pid! };
}

beforeAll(async () => {
  if (!enabled) return;
  // The real agent, with the NVML stub as its driver library: real cgroup counters, real /proc, real HTTP.
  dir = mkdtempSync(join(tmpdir(), 'flare-prom-'));
  const lib = buildStub(dir, 'default');
  const state = join(dir, 'nvml-state');
  writeStubState(state, { devices: [stubDevice(0, 81559, 600)] });
  process.env.FLARE_NVML_STUB_STATE = state;
  agent = await startAgent({ ...DEFAULTS, db: join(dir, 'agent.db'), listen: '127.0.0.1:0', gpuSource: 'nvml', nvmlLib: lib }, silentLogger);
  const live = startBurningRun('alpha-case', 'alpha', 600);
  writeStubState(state, { devices: [stubDevice(0, 81559, 3600)], processes: [{ gpu: 0, pid: live.pid, usedBytes: 3000 * MiB }] });
  // A finished run over its limit, so the per-status and duration series exist.
  const done = startBurningRun('beta-case', 'beta', 0.3);
  await sleep(600);
  children[1].kill('SIGKILL');
  await agent.stack.runs.finish(done.runId, { status: 'failed', terminationReason: 'killed externally', exitCode: 137, endedWallMs: Date.now(), endedMonoNs: monoNowNs() });
  // The shipped rules, evaluated every second here: the dashboards read their recorded series.
  const rules = readFileSync(join(import.meta.dirname, '..', '..', 'deploy', 'prometheus', 'rules.yml'), 'utf8').replace(/interval: 15s/g, 'interval: 1s');
  prom = await startPrometheus([`127.0.0.1:${agent.port}`], 'flare-agent', undefined, rules);
  await waitForScrapes(prom, 'flare-agent', 1, 3);
  // Every recording rule has produced its series (rate()s need two scrapes in their window).
  const records = [...rules.matchAll(/^\s*- record: (\S+)$/gm)].map((m) => m[1]);
  const deadline = Date.now() + 60_000;
  for (const r of records) {
    while (((await prom.query(r)).data?.result.length ?? 0) === 0) {
      if (Date.now() > deadline) throw new Error(`recording rule ${r} produced no series`);
      await sleep(250);
    }
  }
});

afterAll(async () => {
  await prom?.stop();
  for (const c of children) c.kill('SIGKILL');
  await agent?.stop();
  for (const cg of cgroups) cg.remove();
  delete process.env.FLARE_NVML_STUB_STATE;
  if (dir) rmSync(dir, { recursive: true, force: true });
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

  it('the shipped alert rules load and evaluate without error against the real agent', async () => {
    const res = (await (await fetch(`${prom.url}/api/v1/rules`)).json()) as { data: { groups: { name: string; rules: { name: string; type: string; health: string; lastError?: string }[] }[] } };
    const rules = res.data.groups.flatMap((g) => g.rules);
    expect(rules.filter((r) => r.type === 'alerting').map((r) => r.name)).toContain('FlareAgentSourceDown');
    expect(rules.filter((r) => r.type === 'alerting').length).toBeGreaterThanOrEqual(10);
    for (const r of rules) expect(`${r.name}: ${r.health} ${r.lastError ?? ''}`).toBe(`${r.name}: ok `);
  });

  it('a real scrape passes promtool check metrics', async () => {
    expect(existsSync('/usr/bin/promtool')).toBe(true);
    const text = await (await fetch(`http://127.0.0.1:${agent.port}/metrics`)).text();
    const r = spawnSync('/usr/bin/promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
    expect(r.stdout + r.stderr).toBe('');
    expect(r.status).toBe(0);
  });
});
