// Finding and reading challenge profiles: a shipped one by name (profiles/<name>.json in the
// package) or an organiser's file by path. The checks live in profile.ts.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { OrganiserFileError, readOrganiserFile } from '../organiser-file.js';
import { BUILTIN_PROFILES, DEFAULT_PROFILE, ProfileError, validateProfile, type ChallengeProfile } from './challenge-profile.js';

export { BUILTIN_PROFILES, DEFAULT_PROFILE };
const MAX_PROFILE_BYTES = 256 * 1024;

/** The package's profiles/ folder: found upwards from this file (src/scoring in tests, dist/src/scoring when built). */
export function profilesDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    const candidate = join(dir, 'profiles');
    if (existsSync(join(candidate, `${DEFAULT_PROFILE}.json`))) return candidate;
    dir = dirname(dir);
  }
  throw new Error('the shipped profiles/ folder was not found');
}

/** Parses and validates profile text; `where` names the file in errors. */
export function parseProfile(text: string): ChallengeProfile {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new ProfileError('(root)', `not JSON: ${(err as Error).message.slice(0, 200)}`);
  }
  return validateProfile(raw);
}

const cache = new Map<string, ChallengeProfile>();

/**
 * A shipped profile by name, or a file when the argument has a '/' or ends in .json.
 * Throws ProfileError (bad content) or Error (unknown name, unreadable file).
 */
export function loadProfile(nameOrPath: string = DEFAULT_PROFILE): ChallengeProfile {
  const isPath = nameOrPath.includes('/') || nameOrPath.endsWith('.json');
  if (!isPath && !(BUILTIN_PROFILES as readonly string[]).includes(nameOrPath)) {
    throw new Error(`unknown profile ${JSON.stringify(nameOrPath.slice(0, 64))}: one of ${BUILTIN_PROFILES.join(', ')}, or a path to a .json file`);
  }
  const file = isPath ? nameOrPath : join(profilesDir(), `${nameOrPath}.json`);
  if (!isPath && cache.has(file)) return cache.get(file) as ChallengeProfile;
  let text: string;
  try {
    text = readOrganiserFile(file, MAX_PROFILE_BYTES).text; // a regular file, bounded: never a FIFO or /dev/zero
  } catch (err) {
    if (err instanceof OrganiserFileError && err.reason !== 'open') throw new ProfileError('(root)', err.message);
    throw err;
  }
  const profile = parseProfile(text);
  if (!isPath) cache.set(file, profile);
  return profile;
}
