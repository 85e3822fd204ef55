// The accuracy rule sets the `accuracy` command scores with: the organs (labels, names, NSD
// tolerances, which are cut to the ground truth's slices) and the version of the official script.
import { FLARE22_ORGANS, type Organ } from './overlap.js';
import type { AccuracyRuleVersion } from './score.js';

export interface AccuracyRules {
  name: string;
  organs: readonly Organ[];
  version: AccuracyRuleVersion;
  /** The per-case metrics the ranking reads (profile flare22 ranks DSC and NSD): each the mean over the organs. */
  rankedMetrics: readonly ('DSC' | 'NSD')[];
}

export const ACCURACY_RULES: Record<string, AccuracyRules> = {
  // The current official script (2024): an empty prediction scores 0, 0; a DSC under 0.2 has NSD 0.
  flare22: { name: 'flare22', organs: FLARE22_ORGANS, version: 'flare22', rankedMetrics: ['DSC', 'NSD'] },
  // The script as the 2022 challenge ran it: neither of those two rules.
  'flare22-2022': { name: 'flare22-2022', organs: FLARE22_ORGANS, version: 'flare22-2022', rankedMetrics: ['DSC', 'NSD'] },
};
