// Writing a run's plots to a folder: three files per run, as FLARE's scripts made (GPU, CPU, RAM).
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Run, RunSample } from '../core/types.js';
import { safeName } from '../export/file-names.js';
import { svgToPng } from './png.js';
import { runPlot, type PanelKind } from './series.js';
import { panelSvg } from './svg.js';

export type PlotFormat = 'svg' | 'png';

const FILE_SUFFIX: Record<PanelKind, string> = { gpu: 'GPU', cpu: 'CPU', ram: 'RAM' };

/** `<case>_<run id>_<GPU|CPU|RAM>.<format>`; returns the paths written. */
export function writeRunPlots(run: Run, samples: readonly RunSample[], outDir: string, format: PlotFormat): string[] {
  const plot = runPlot(run, samples);
  const paths: string[] = [];
  for (const panel of plot.panels) {
    const svg = panelSvg(plot, panel);
    const path = join(outDir, `${safeName(run.case)}_${safeName(run.id)}_${FILE_SUFFIX[panel.kind]}.${format}`);
    writeFileSync(path, format === 'svg' ? svg : svgToPng(svg));
    paths.push(path);
  }
  return paths;
}
