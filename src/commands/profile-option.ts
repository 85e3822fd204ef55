// The --profile option of the commands that score (export, rank, accuracy, evaluate): a built-in
// profile's name or a profile file, refused as bad usage when it cannot be loaded.
import { UsageError } from './action.js';
import type { ChallengeProfile } from '../scoring/profile.js';
import { loadProfile } from '../scoring/profile-load.js';

export function profileFromOption(arg: string): ChallengeProfile {
  try {
    return loadProfile(arg);
  } catch (err) {
    throw new UsageError(`--profile: ${(err as Error).message}`);
  }
}
