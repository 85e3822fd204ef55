// What a challenge profile says about the official figures (its columns, max rules, rounding, the
// monitor's loop and span): the part of src/scoring/challenge-profile.ts's ChallengeProfile this folder reads,
// declared here so the official figures need nothing from the scoring layer above them.
import type { MaxRule, OfficialDecimals, OfficialRules } from './figures.js';
import type { LoopModel, SpanModel } from './model.js';

/** The official CSV's columns, in this order; a column left out is not written. */
export const COLUMN_KEYS = ['name', 'time', 'gpuMax', 'gpuAuc', 'cpuMax', 'cpuAuc', 'ramMax', 'ramAuc'] as const;
export type ColumnKey = (typeof COLUMN_KEYS)[number];

export interface OfficialProfile {
  columns: Partial<Record<ColumnKey, string>>;
  /** Appended to the case name in the Name column (FLARE22: the input file's ".nii.gz"). */
  nameSuffix: string;
  maxRule: { gpu: MaxRule; cpu: MaxRule; ram: MaxRule };
  stableMinShare: number;
  rounding: OfficialDecimals;
  loop: LoopModel;
  span: SpanModel;
}

/** The rules the official figures take from a profile. */
export function officialRulesOf(p: OfficialProfile): OfficialRules {
  return { maxRule: p.maxRule, stableMinShare: p.stableMinShare, decimals: p.rounding, nominalIntervalSeconds: p.loop.nominalIntervalSeconds };
}
