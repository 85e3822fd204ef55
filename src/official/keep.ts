// Which official figures are read from the store and which are computed, and which computed ones are
// final enough to be stored with their run. A run's figures are modelled from its trace and the host
// samples around its span (~5 ms a run). Computed while the host samples of that span were still in the
// writer's queue (they land up to a second after the verdict), they would be short, and kept they were
// served for ever (issue 36: AUC_CPU_Time 61.68 where the complete trace gives 68.65). So figures are
// stored only when a committed host sample lies a second past the run's modelled span, and they are
// read back only while the run's stamp (start, end, status, flags, and the span facts: Docker's
// removal time, moves the span) is the one they were computed from. The same rows serve the agent's
// API and `export --db`, so the two cannot disagree.
import { createHash } from 'node:crypto';
import type { OfficialFigures, Run } from '../core/types.js';
import { factsOf } from '../core/run-facts.js';
import type { OfficialProfile } from './profile.js';
import type { Store, StoredOfficial } from '../store/index.js';

/** Figures with the wall time (ms) from which on the host samples they read are all on disk. */
export interface ComputedOfficial {
  figures: OfficialFigures;
  finalAfterWallMs: number;
}

/** How far past the modelled span a committed host sample must lie before figures are final (ms). */
export const FINAL_MARGIN_MS = 1000;

const profileKeys = new WeakMap<OfficialProfile, string>();

/** A profile's whole content, hashed: an edited profile file is another profile. */
export function profileKeyOf(profile: OfficialProfile): string {
  let key = profileKeys.get(profile);
  if (key === undefined) {
    key = createHash('sha256').update(JSON.stringify(profile)).digest('hex').slice(0, 16);
    profileKeys.set(profile, key);
  }
  return key;
}

/** What a run's figures are computed from besides its samples: they stand while this is unchanged. */
export function officialStampOf(run: Run): string {
  const base = `${run.startedMonoNs}|${run.endedMonoNs}|${run.status}|${(run.summary?.flags ?? []).join('\u0000')}`;
  // The span facts, where known (a run without them keeps the stamp it had before they were fields).
  const { createdBeforeStartSeconds: created, removedAfterEndSeconds: removed } = factsOf(run.summary);
  return created === undefined && removed === undefined ? base : `${base}|c${created ?? ''}|r${removed ?? ''}`;
}

/** One request's use of the stored figures: read what stands, collect what became final, hand it on at the end. */
export class OfficialKeep {
  hits = 0;
  misses = 0;
  private readonly fresh: StoredOfficial[] = [];
  private untilMs: number | null | undefined;

  constructor(
    private readonly store: Pick<Store, 'storedOfficialFigures' | 'nodeSamplesUntilWallMs'>,
    /** Where final figures go: the store's writer (in the agent), or a message to it (the read thread). */
    private readonly persist: (rows: StoredOfficial[]) => void,
  ) {}

  figures(run: Run, profile: OfficialProfile, compute: () => ComputedOfficial): OfficialFigures {
    if (run.status === 'running') return compute().figures;
    const profileKey = profileKeyOf(profile);
    const stamp = officialStampOf(run);
    const stored = this.store.storedOfficialFigures(run.id, profileKey);
    if (stored && stored.stamp === stamp) {
      this.hits++;
      return stored.figures;
    }
    this.misses++;
    const { figures, finalAfterWallMs } = compute();
    // Read once per request: a sample committed during it only makes a later request store more.
    if (this.untilMs === undefined) this.untilMs = this.store.nodeSamplesUntilWallMs();
    if (this.untilMs !== null && this.untilMs >= finalAfterWallMs + FINAL_MARGIN_MS) this.fresh.push({ runId: run.id, profileKey, stamp, figures });
    return figures;
  }

  /** Figures that became final during this request: handed to persist, once. */
  done(): number {
    const n = this.fresh.length;
    if (n > 0) this.persist(this.fresh.splice(0));
    return n;
  }
}
