// The one ranking use case: stored runs, a filter, a challenge profile and the organiser's accuracy in;
// the FLARE ranking, what its bootstraps draw from, and the warnings out. The CLI's `rank` and the
// API's /api/v1/ranking both call it, so they cannot rank differently: the CLI only parses options and
// prints, the HTTP side only parses the query and keeps answers (http/heavy-reads.ts).
import type { RunFilter, RunSample, ScoringRun } from '../core/types.js';
import type { AccuracyTable } from './accuracy-table.js';
import { bootstrapFrom, bootstrapInputOfTable, type BootstrapInput, type BootstrapResult } from './bootstrap.js';
import { accuracyOfRuns, checkAccuracy, efficiencyValues, filterActive, gpuAucAboveMiBs, needsGpuAuc, rankedRuns, withAccuracy } from './inputs.js';
import type { ChallengeProfile } from './challenge-profile.js';
import { rankTable, valueTable, type Ranking, type ValueFeed } from './rank.js';

/** The accuracy file does not fit the profile (a value outside a metric's range): the organiser's to fix. */
export class AccuracyFitError extends Error {}

export interface RankRunsInput {
  runs: readonly ScoringRun[];
  /** The filter the runs were read with: a filtered ranking ranks the filtered runs' teams and cases only. */
  filter: RunFilter;
  profile: ChallengeProfile;
  accuracy: AccuracyTable;
  /** Every finished run of a case is a repeat: the medians are ranked and the bootstrap draws repeats. */
  repeats: boolean;
  /**
   * GPU AUC above the profile's tolerance of the runs measured with another tolerance (runsNeedingTrace),
   * integrated again from their traces by the caller, which knows where the traces are.
   */
  gpuAucByRun: ReadonlyMap<string, number | null>;
}

export interface RankedRuns {
  ranking: Ranking;
  /** What bootstraps of this ranking draw from (a few hundred KiB; a server may keep it). */
  bootstrapInput: BootstrapInput;
  warnings: string[];
  /** The ranked values (the CLI's --long-csv); a caller that keeps the ranking need not keep these. */
  values: ValueFeed;
}

/** The runs whose GPU AUC must be integrated again from their trace under this profile. */
export function runsNeedingTrace(runs: readonly ScoringRun[], profile: ChallengeProfile, repeats: boolean): ScoringRun[] {
  return needsGpuAuc(rankedRuns(runs, repeats), profile);
}

/** A run's GPU AUC above the profile's tolerance, from its trace (for gpuAucByRun). */
export function gpuAucFromTrace(samples: Iterable<RunSample>, profile: ChallengeProfile): number | null {
  return gpuAucAboveMiBs(samples, profile.gpuToleranceMiB);
}

/** Ranks the runs; throws AccuracyFitError when the accuracy does not fit the profile. */
export function rankRuns(input: RankRunsInput): RankedRuns {
  const { runs, profile, repeats } = input;
  const accuracy = filterActive(input.filter) ? accuracyOfRuns(input.accuracy, runs) : input.accuracy;
  let warnings: string[];
  try {
    warnings = checkAccuracy(accuracy, profile, runs);
  } catch (err) {
    throw new AccuracyFitError((err as Error).message);
  }
  const values = withAccuracy(efficiencyValues(runs, profile, repeats, input.gpuAucByRun), accuracy, profile);
  // One table for the ranking and what its bootstraps draw from.
  const table = valueTable(values, profile.ranking.metrics);
  const ranking = rankTable(table, profile.ranking.metrics, profile.ranking.ties);
  return { ranking, bootstrapInput: bootstrapInputOfTable(table, profile.ranking.ties, repeats), warnings, values };
}

/** A seeded bootstrap of a ranking; null when nothing is drawn (0 resamples, or no case ranked). */
export function rankingBootstrap(ranked: Pick<RankedRuns, 'ranking' | 'bootstrapInput'>, resamples: number, seed: number): BootstrapResult | null {
  return resamples > 0 && ranked.ranking.cases.length > 0 ? bootstrapFrom(ranked.bootstrapInput, resamples, seed) : null;
}
