// The accuracy rules a challenge profile carries (its `accuracy` block: the organs and the version of
// the official script), in the form the scoring takes them.
import type { ChallengeProfile } from '../scoring/challenge-profile.js';
import type { Organ } from './overlap.js';
import type { AccuracyRuleVersion } from './score.js';

export interface AccuracyRules {
  /** The profile's name. */
  name: string;
  organs: readonly Organ[];
  version: AccuracyRuleVersion;
  /** The per-case metrics written for the ranking: each the mean over the organs (FLARE22 ranks DSC and NSD). */
  rankedMetrics: readonly ('DSC' | 'NSD')[];
}

/** A profile without an accuracy block: it says how to rank DSC and NSD, not how to compute them. */
export class NoAccuracyRulesError extends Error {}

export function accuracyRulesOf(profile: ChallengeProfile): AccuracyRules {
  if (!profile.accuracy) throw new NoAccuracyRulesError(`profile ${profile.name} has no accuracy rules (an "accuracy" block): use flare22 or flare22-2022, or a profile file with one`);
  const ranked = new Set(profile.ranking.metrics.map((m) => m.metric));
  return {
    name: profile.name,
    organs: profile.accuracy.organs,
    version: profile.accuracy.rules,
    rankedMetrics: (['DSC', 'NSD'] as const).filter((m) => ranked.has(m)),
  };
}
