// The official figures of finished runs, computed once per run and profile and kept. Modelling one
// run decodes its trace and the host samples around it (~5 ms a run), so an export of a season's
// 10 000 runs recomputed on every request took ~40 s. A finished run's inputs change only when flags
// are added to it after its end (Docker's removal time moves the modelled span), so the entry is
// stamped with its end and flags and recomputed when they differ. One owner: the thread that answers
// the heavy reads (http/heavy-reads.ts); nothing else reads or writes it.
import { rememberBounded } from '../core/bounded-map.js';
import type { OfficialFigures } from '../core/official-figures.js';
import type { Run } from '../core/types.js';
import type { ChallengeProfile } from '../scoring/profile.js';

/** Entries kept (a season is ~10 000 runs per profile): past it the oldest are dropped first. */
const MAX_ENTRIES = 100_000;

export class OfficialCache {
  private readonly entries = new Map<string, { stamp: string; figures: OfficialFigures }>();
  /** A profile's whole content → a short id: an edited profile file is another profile. */
  private readonly profileIds = new Map<string, number>();
  private readonly idOfObject = new WeakMap<ChallengeProfile, number>();
  hits = 0;
  misses = 0;

  constructor(private readonly maxEntries = MAX_ENTRIES) {}

  /** The run's figures under the profile, from the cache or computed (and kept) now. */
  figures(run: Run, profile: ChallengeProfile, compute: () => OfficialFigures): OfficialFigures {
    if (run.status === 'running') return compute();
    const key = `${this.profileId(profile)}\u0000${run.id}`;
    const stamp = `${run.startedMonoNs}|${run.endedMonoNs}|${run.status}|${(run.summary?.flags ?? []).join('\u0000')}`;
    const hit = this.entries.get(key);
    if (hit && hit.stamp === stamp) {
      this.hits++;
      return hit.figures;
    }
    this.misses++;
    const figures = compute();
    rememberBounded(this.entries, key, { stamp, figures }, this.maxEntries);
    return figures;
  }

  get size(): number {
    return this.entries.size;
  }

  private profileId(profile: ChallengeProfile): number {
    const known = this.idOfObject.get(profile);
    if (known !== undefined) return known;
    const text = JSON.stringify(profile);
    let id = this.profileIds.get(text);
    if (id === undefined) {
      id = this.profileIds.size;
      this.profileIds.set(text, id);
    }
    this.idOfObject.set(profile, id);
    return id;
  }
}
