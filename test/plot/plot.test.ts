// Plots: the SVG parses, draws the tolerance line, the shaded area, the limit and the hand-computed
// figures in its legend; PNG renders; the CLI writes three files per run from a real database.
import { Resvg } from '@resvg/resvg-js';
import { readFileSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { regionsAbove } from '../../src/plot/geometry.js';
import { svgToPng } from '../../src/plot/png.js';
import { cpuHostPctSeries, runPlot } from '../../src/plot/series.js';
import { panelSvg } from '../../src/plot/svg.js';
import { openStore } from '../../src/store/index.js';
import { runCli, tempDir } from '../helpers.js';
import { gpuCurveSamples, storeGpuRun } from './fixture.js';

const dir = tempDir('flare-plot-');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

function stored(team: string, id: string) {
  const store = openStore(join(dir, `${id}.db`));
  const run = storeGpuRun(store, { id, team, case: 'FLARE22_Tr_0001', timeLimitSeconds: 12 });
  const samples = store.getRunSamples(id);
  store.close();
  return { run, samples, db: join(dir, `${id}.db`) };
}

describe('plot drawing', () => {
  it('GPU panel: well-formed SVG with tolerance line, shaded area, limit marker and both AUCs', () => {
    const { run, samples } = stored('alpha', 'run-gpu-1');
    const plot = runPlot(run, samples);
    const svg = panelSvg(plot, plot.panels[0]);
    // resvg's XML parser rejects malformed documents.
    expect(() => new Resvg(svg)).not.toThrow();
    expect(svg).toContain('class="tolerance"');
    expect(svg).toContain('tolerance 2,048 MiB');
    expect(svg.match(/class="auc-area"/g)).toHaveLength(1);
    expect(svg).toContain('class="time-limit"');
    expect(svg).toContain('exact AUC above tolerance: 11,264 MiB·s, max 4,096 MiB');
    expect(svg).toContain('FLARE22 formulas AUC (device, sum × 0.50 s): 31,822 MiB·s');
  });

  it('CPU panel: 25 % of a 2-CPU host from the counter; legend has the exact AUC', () => {
    const { run, samples } = stored('alpha', 'run-cpu-1');
    const plot = runPlot(run, samples);
    const cpu = plot.panels[1];
    expect(cpu.lines[0].values[0]).toBeNull();
    for (const v of cpu.lines[0].values.slice(1)) expect(v).toBeCloseTo(25, 9);
    // 100 × 5 cpu-s / 2 CPUs = 250 %·s.
    expect(panelSvg(plot, cpu)).toContain('exact AUC: 250 %·s (cpu 5.00 s), max 25.0 %');
  });

  it('labels are escaped in the SVG', () => {
    const { run, samples } = stored('<img src=x onerror=alert(1)>', 'run-xss-1');
    const plot = runPlot(run, samples);
    const svg = panelSvg(plot, plot.panels[2]);
    expect(svg).not.toContain('<img');
    expect(svg).toContain('&lt;img src=x onerror=alert(1)&gt;');
    expect(() => new Resvg(svg)).not.toThrow();
  });

  it('shaded regions cross the threshold where the curve does', () => {
    const t = [0, 1, 2, 3];
    const regions = regionsAbove(t, [0, 200, 200, 0], 100);
    expect(regions).toHaveLength(1);
    expect(regions[0][0]).toEqual({ t: 0.5, v: 100 });
    expect(regions[0].at(-1)).toEqual({ t: 2.5, v: 100 });
    expect(regionsAbove(t, [200, null, 200, 200], 100)).toHaveLength(1);
    expect(cpuHostPctSeries([0, 1, 2], [0, null, 2], 4)).toEqual([null, null, 25]);
  });

  it('PNG renders with the PNG signature', () => {
    const start = 5e9;
    const samples = gpuCurveSamples(start, Date.now());
    const { run } = stored('alpha', 'run-png-1');
    const png = svgToPng(panelSvg(runPlot(run, samples), runPlot(run, samples).panels[0]));
    expect(png.length).toBeGreaterThan(5000);
    expect(png.subarray(0, 8).equals(PNG_SIGNATURE)).toBe(true);
  });
});

describe('flare-agent plot', () => {
  it('writes three SVGs and three PNGs per run from a database', async () => {
    const { db } = stored('alpha', 'run-cli-1');
    const outSvg = join(dir, 'svg');
    const r1 = await runCli(['plot', 'run-cli-1', '--db', db, '--out', outSvg]);
    expect(r1.stderr).toBe('');
    expect(r1.code).toBe(0);
    expect(readdirSync(outSvg).sort()).toEqual(['FLARE22_Tr_0001_run-cli-1_CPU.svg', 'FLARE22_Tr_0001_run-cli-1_GPU.svg', 'FLARE22_Tr_0001_run-cli-1_RAM.svg']);
    expect(readFileSync(join(outSvg, 'FLARE22_Tr_0001_run-cli-1_GPU.svg'), 'utf8')).toContain('11,264 MiB·s');
    const outPng = join(dir, 'png');
    const r2 = await runCli(['plot', 'run-cli-1', '--db', db, '--out', outPng, '--format', 'png']);
    expect(r2.code).toBe(0);
    for (const f of readdirSync(outPng)) expect(readFileSync(join(outPng, f)).subarray(0, 8).equals(PNG_SIGNATURE)).toBe(true);
    const missing = await runCli(['plot', 'no-such-run', '--db', db, '--out', outPng]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('run not found: no-such-run');
    const bad = await runCli(['plot', 'run-cli-1', '--db', db, '--out', outPng, '--format', 'gif']);
    expect(bad.code).toBe(2);
  });
});
