// The --profile option of the commands that score (export, rank, accuracy, evaluate): a built-in
// profile's name or a profile file, refused as bad usage when it cannot be loaded.
import { UsageError } from '../usage-error.js';
import type { ChallengeProfile } from './challenge-profile.js';
import { loadProfile } from './challenge-profile-load.js';

export function profileFromOption(arg: string): ChallengeProfile {
  try {
    return loadProfile(arg);
  } catch (err) {
    throw new UsageError(`--profile: ${(err as Error).message}`);
  }
}
