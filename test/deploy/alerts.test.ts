// The shipped Prometheus rules (deploy/prometheus/rules.yml): promtool accepts them, their unit tests
// pass (promtool test rules, deploy/prometheus/rules.test.yml: series that fire each alert and series
// that must not), every alert says how bad, what and where, waits out a single bad scrape, and is
// tested and documented; Prometheus (compose, the shipped config) and the Operator (the
// PrometheusRule) load the same rules. Under CI a missing promtool is a failure.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { requireServices } from '../helpers.js';

const ROOT = join(import.meta.dirname, '..', '..');
const RULES = join(ROOT, 'deploy', 'prometheus', 'rules.yml');
const RULE_TESTS = join(ROOT, 'deploy', 'prometheus', 'rules.test.yml');
const PROMTOOL = '/usr/bin/promtool';

interface Rule {
  alert?: string;
  record?: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}
interface Group {
  name: string;
  rules: Rule[];
}

const groups = (parse(readFileSync(RULES, 'utf8')) as { groups: Group[] }).groups;
const alerts = groups.flatMap((g) => g.rules.filter((r) => r.alert !== undefined));

function promtool(args: string[]): { status: number | null; out: string } {
  if (!existsSync(PROMTOOL) && !requireServices()) return { status: null, out: 'skipped: no promtool' };
  if (!existsSync(PROMTOOL)) throw new Error(`${PROMTOOL} is missing (apt-get install prometheus)`);
  const r = spawnSync(PROMTOOL, args, { encoding: 'utf8', cwd: join(ROOT, 'deploy', 'prometheus') });
  return { status: r.status, out: r.stdout + r.stderr };
}

const seconds = (d: string): number => {
  const m = /^(\d+)([smh])$/.exec(d);
  if (!m) throw new Error(`unexpected duration ${d}`);
  return Number(m[1]) * { s: 1, m: 60, h: 3600 }[m[2] as 's' | 'm' | 'h'];
};

describe('deploy/prometheus/rules.yml', () => {
  it('promtool check rules: clean', (ctx) => {
    const r = promtool(['check', 'rules', RULES]);
    if (r.status === null) return ctx.skip();
    expect(r.status, r.out).toBe(0);
    expect(r.out).toMatch(new RegExp(`SUCCESS: ${groups.reduce((n, g) => n + g.rules.length, 0)} rules found`));
    expect(r.out).not.toMatch(/WARNING/);
  });

  it('promtool test rules: every unit test passes', (ctx) => {
    const r = promtool(['test', 'rules', RULE_TESTS]);
    if (r.status === null) return ctx.skip();
    expect(r.status, r.out).toBe(0);
    expect(r.out).toMatch(/SUCCESS/);
  });

  it('has the alerts the organisers need, each with a severity, a summary and description naming the node, and a for: of at least 1 minute', () => {
    const names = alerts.map((a) => a.alert);
    for (const wanted of ['FlareAgentDown', 'FlareAgentSourceDown', 'FlareAgentMissedTicks', 'FlareAgentTickLagHigh', 'FlareAgentSamplesDropped', 'FlareAgentVerdictsPending', 'FlareAgentDatabaseDiskLow', 'FlareRunPastTimeLimit', 'FlareGpuSharedDuringRun', 'FlareGpuAccountingOff']) {
      expect(names).toContain(wanted);
    }
    for (const a of alerts) {
      expect(['critical', 'warning'], a.alert).toContain(a.labels?.severity);
      expect(a.annotations?.summary, a.alert).toBeTruthy();
      expect(a.annotations?.description, a.alert).toBeTruthy();
      expect(seconds(a.for ?? '0s'), `${a.alert}: a single bad scrape must not page`).toBeGreaterThanOrEqual(60);
      // The node: its name where the agent answers, its address where it does not.
      if (a.alert !== 'FlareAgentMissing') expect(`${a.annotations?.summary} ${a.annotations?.description}`, a.alert).toMatch(/\$labels\.(node|instance)/);
      // A run alert names the run.
      if (/flare_container_/.test(a.expr)) expect(a.annotations?.description, a.alert).toMatch(/\$labels\.team.*\$labels\.case/s);
    }
  });

  it('every alert has a unit test that fires it (and the file checks some that must not)', () => {
    const tests = (parse(readFileSync(RULE_TESTS, 'utf8')) as { tests: { alert_rule_test?: { alertname: string; exp_alerts: unknown[] }[] }[] }).tests;
    const cases = tests.flatMap((t) => t.alert_rule_test ?? []);
    for (const a of alerts) {
      expect(cases.some((c) => c.alertname === a.alert && c.exp_alerts.length > 0), `${a.alert} fires in a test`).toBe(true);
    }
    expect(cases.some((c) => c.exp_alerts.length === 0)).toBe(true);
  });

  it('is loaded by the shipped prometheus.yml and compose, and shipped to the Operator as a PrometheusRule with the same groups', () => {
    const prom = parse(readFileSync(join(ROOT, 'deploy', 'prometheus.yml'), 'utf8')) as { rule_files: string[] };
    expect(prom.rule_files).toEqual(['prometheus/rules.yml']);
    const compose = parse(readFileSync(join(ROOT, 'deploy', 'docker-compose.yml'), 'utf8')) as { services: { prometheus: { volumes: string[] } } };
    expect(compose.services.prometheus.volumes).toContain('./prometheus/rules.yml:/etc/prometheus/prometheus/rules.yml:ro');
    const docs = parseAllDocuments(readFileSync(join(ROOT, 'deploy', 'kubernetes', 'flare-agent.yaml'), 'utf8')).map((d) => d.toJS() as { kind: string; spec: { groups: Group[] } });
    const rule = docs.find((d) => d.kind === 'PrometheusRule');
    expect(rule?.spec.groups).toEqual(groups);
  });

  it('the README lists every alert in its Alerts table', () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const section = readme.slice(readme.indexOf('## Alerts'));
    expect(section.length).toBeGreaterThan(100);
    for (const a of alerts) expect(section, a.alert).toContain(`| \`${a.alert}\` |`);
  });
});
