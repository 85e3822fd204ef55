// The committed dashboards equal the generator's output, and every panel states its unit.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { dashboardText, dashboards } from '../../dashboards/generate.js';

const DIR = join(import.meta.dirname, '..', '..', 'dashboards');

describe('dashboards', () => {
  for (const [file, dash] of Object.entries(dashboards())) {
    it(`${file} is the generator's output`, () => {
      const path = join(DIR, file);
      if (process.env.UPDATE_DASHBOARDS === '1') writeFileSync(path, dashboardText(dash));
      expect(readFileSync(path, 'utf8')).toBe(dashboardText(dash));
    });

    it(`${file}: units, datasource variable, node and team variables`, () => {
      const d = JSON.parse(readFileSync(join(DIR, file), 'utf8')) as {
        panels: { title: string; datasource: { uid: string }; fieldConfig: { defaults: { unit?: string } }; targets: { expr: string }[] }[];
        templating: { list: { name: string; type: string }[] };
      };
      expect(d.templating.list.map((v) => v.name)).toEqual(['datasource', 'instance', 'team']);
      expect(d.panels.length).toBeGreaterThan(3);
      for (const p of d.panels) {
        expect(p.fieldConfig.defaults.unit, p.title).toBeTruthy();
        expect(p.datasource.uid).toBe('${datasource}');
        for (const t of p.targets) expect(t.expr).toMatch(/flare[_:]/);
      }
    });
  }

  it('the dashboards read every recording rule of deploy/prometheus/rules.yml, and the node overview lists the alerts', () => {
    const rules = readFileSync(join(DIR, '..', 'deploy', 'prometheus', 'rules.yml'), 'utf8');
    const records = [...rules.matchAll(/^\s*- record: (\S+)$/gm)].map((m) => m[1]);
    expect(records.length).toBeGreaterThan(5);
    const all = ['node-overview.json', 'runs.json'].map((f) => readFileSync(join(DIR, f), 'utf8')).join('\n');
    for (const r of records) expect(all, r).toContain(r);
    const overview = JSON.parse(readFileSync(join(DIR, 'node-overview.json'), 'utf8')) as { panels: { type: string; options: { alertInstanceLabelFilter?: string } }[] };
    const list = overview.panels.find((p) => p.type === 'alertlist');
    expect(list?.options.alertInstanceLabelFilter).toBe('{instance=~"$instance"}');
  });
});
