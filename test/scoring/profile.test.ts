// Challenge profiles: the shipped ones load and say what each year did; malformed files are refused
// naming the field, and the CLI exits 2 on them.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BUILTIN_PROFILES, ProfileError, validateProfile } from '../../src/scoring/challenge-profile.js';
import { loadProfile, parseProfile, profilesDir } from '../../src/scoring/challenge-profile-load.js';
import { runCli } from '../helpers.js';

const flare22Text = (): string => readFileSync(join(profilesDir(), 'flare22.json'), 'utf8');

describe('shipped profiles', () => {
  it.each(BUILTIN_PROFILES)('%s loads and validates', (name) => {
    expect(loadProfile(name).name).toBe(name);
  });

  it('FLARE22: stable max for GPU only, numpy decimals, GPU and CPU ranked at half weight', () => {
    const p = loadProfile('flare22');
    expect(p.maxRule).toEqual({ gpu: 'stable', cpu: 'max', ram: 'max' });
    expect(p.rounding).toEqual({ time: 2, gpuMax: 0, gpuAuc: 0, cpuMax: 2, cpuAuc: 2, ramMax: 2, ramAuc: 0 });
    expect(p.columns.gpuMax).toBe('GPU_Mem');
    const w = Object.fromEntries(p.ranking.metrics.map((m) => [m.metric, m.weight]));
    expect(w).toEqual({ DSC: 1, NSD: 1, time: 1, aucGpu: 0.5, aucCpu: 0.5 });
  });

  it('FLARE23/24: plain max everywhere, Max* columns, CPU not ranked', () => {
    for (const name of ['flare23', 'flare24']) {
      const p = loadProfile(name);
      expect(p.maxRule).toEqual({ gpu: 'max', cpu: 'max', ram: 'max' });
      expect([p.columns.gpuMax, p.columns.cpuMax, p.columns.ramMax]).toEqual(['MaxGPU_Mem', 'MaxCPU_Utilization', 'MaxRAM']);
      expect(p.ranking.metrics.map((m) => m.metric)).toEqual(['DSC', 'NSD', 'time', 'aucGpu']);
    }
  });

  it('FLARE21: four columns, no rounding', () => {
    const p = loadProfile('flare21');
    expect(Object.keys(p.columns)).toEqual(['name', 'time', 'gpuMax', 'gpuAuc']);
    expect(Object.values(p.rounding).every((d) => d === null)).toBe(true);
  });
});

describe('malformed profiles are refused naming the field', () => {
  const mutate = (f: (o: Record<string, any>) => void): unknown => {
    const o = JSON.parse(flare22Text()) as Record<string, any>;
    f(o);
    return o;
  };
  it.each([
    ['a missing section', (o: Record<string, any>) => delete o.rounding, 'rounding'],
    ['a bad max rule', (o: Record<string, any>) => (o.maxRule.gpu = 'median'), 'maxRule.gpu'],
    ['fractional decimals', (o: Record<string, any>) => (o.rounding.time = 1.5), 'rounding.time'],
    ['a negative weight', (o: Record<string, any>) => (o.ranking.metrics[3].weight = -1), 'ranking.metrics[3].weight'],
    ['a duplicate metric', (o: Record<string, any>) => (o.ranking.metrics[1].metric = 'DSC'), 'ranking.metrics[1].metric'],
    ['a column name with a comma', (o: Record<string, any>) => (o.columns.time = 'Time,x'), 'columns.time'],
    ['an unknown field', (o: Record<string, any>) => (o.loop.extra = 1), 'loop.extra'],
    ['a zero loop interval', (o: Record<string, any>) => (o.loop.nominalIntervalSeconds = 0), 'loop.nominalIntervalSeconds'],
    ['a bad tie rule', (o: Record<string, any>) => (o.ranking.ties = 'random'), 'ranking.ties'],
    ['no name column', (o: Record<string, any>) => delete o.columns.name, 'columns.name'],
  ])('%s', (_what, f, field) => {
    let err: unknown;
    try {
      validateProfile(mutate(f));
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ProfileError);
    expect((err as ProfileError).field).toBe(field);
    expect((err as Error).message).toContain(field);
  });

  it('not JSON', () => {
    expect(() => parseProfile('{')).toThrow(/profile field \(root\): not JSON/);
  });
});

describe('--profile on the command line', () => {
  it('a malformed profile file: exit 2, naming the field', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'flare-profile-'));
    const file = join(dir, 'bad.json');
    const o = JSON.parse(flare22Text()) as Record<string, any>;
    o.rounding.gpuAuc = 'zero';
    writeFileSync(file, JSON.stringify(o));
    const r = await runCli(['export', '--format', 'flare22', '--figures', 'official', '--profile', file, '--db', join(dir, 'none.db')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('rounding.gpuAuc');
  });

  it('an unknown profile name: exit 2', async () => {
    const r = await runCli(['export', '--format', 'flare22', '--profile', 'flare99', '--db', '/nonexistent.db']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('unknown profile');
  });
});
