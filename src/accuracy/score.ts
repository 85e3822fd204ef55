// One case's accuracy, organ by organ, under a version of the FLARE22 rules. Pure.
//
// The rules (docs/scoring.md, "Accuracy"): both masks empty → DSC 1, NSD 1; a prediction of an organ
// the ground truth lacks → 0, 0; otherwise DSC on the (for the aorta, IVC and esophagus: slice-cut)
// masks and the surface Dice at the organ's tolerance. The current official script adds two rules
// (`flare22`): a ground truth with an empty prediction → 0, 0 without computing, and an NSD of 0
// without computing when the unrounded DSC is below 0.2; the script of the 2022 challenge
// (`flare22-2022`) has neither. Where the official script cannot score (a slice-cut organ whose ground
// truth lies on one slice: its range is empty and the script stops with an error), the organ is
// scored on that one slice, and the score says so.
import type { LabelVolume } from './nifti.js';
import { surfaceDice } from './nsd.js';
import { Scratch } from './scratch.js';
import { countLabels, dice, type Box, type Organ, scoredSlices, sumSlices } from './overlap.js';

export type AccuracyRuleVersion = 'flare22' | 'flare22-2022';

export interface OrganScore {
  organ: string;
  /** Unrounded; the official CSV rounds to 4 decimals (roundLikeNumpy). */
  dsc: number;
  nsd: number;
  /** Why this organ was not scored the official way, when it was not. */
  note?: 'single-slice-range';
  /** The rule that set a figure without computing it (the official script writes such a figure as an integer). */
  rule?: 'both-empty' | 'gt-empty' | 'pred-empty' | 'dsc-below-0.2';
}

/** Ground truth and prediction of different shapes: the case cannot be scored. */
export class CaseShapeError extends Error {}

/** Every organ's scores; `scratch` holds the working arrays (a thread that scores many cases passes its own). */
export function scoreCase(gt: LabelVolume, pred: LabelVolume, organs: readonly Organ[], version: AccuracyRuleVersion, scratch: Scratch = new Scratch()): OrganScore[] {
  if (gt.shape.some((n, i) => n !== pred.shape[i])) throw new CaseShapeError(`ground truth is ${gt.shape.join('×')}, prediction ${pred.shape.join('×')}`);
  const shape = gt.shape;
  const counts = countLabels(gt.labels, pred.labels, shape, organs.map((o) => o.label));
  const current = version === 'flare22';
  return organs.map((organ): OrganScore => {
    const c = counts.get(organ.label)!;
    const all: [number, number] = [0, shape[2]];
    const gtVoxels = sumSlices(c.gtPerSlice, all);
    const predVoxels = sumSlices(c.predPerSlice, all);
    if (gtVoxels === 0) return predVoxels === 0 ? { organ: organ.name, dsc: 1, nsd: 1, rule: 'both-empty' } : { organ: organ.name, dsc: 0, nsd: 0, rule: 'gt-empty' };
    if (current && predVoxels === 0) return { organ: organ.name, dsc: 0, nsd: 0, rule: 'pred-empty' };
    let range = scoredSlices(organ, c, shape[2]);
    let note: OrganScore['note'];
    if (range[1] <= range[0]) {
      range = [range[0], range[0] + 1];
      note = 'single-slice-range';
    }
    const d = dice(sumSlices(c.gtPerSlice, range), sumSlices(c.predPerSlice, range), sumSlices(c.bothPerSlice, range)) ?? 1;
    const box: Box = [c.box![0], c.box![1], [Math.max(c.box![2][0], range[0]), Math.min(c.box![2][1], range[1])]];
    const gated = current && d < 0.2;
    const nsd = gated ? 0 : surfaceDice(gt.labels, pred.labels, shape, gt.spacingMm, box, organ.label, organ.toleranceMm, scratch);
    return { organ: organ.name, dsc: d, nsd, ...(note ? { note } : {}), ...(gated ? { rule: 'dsc-below-0.2' as const } : {}) };
  });
}
