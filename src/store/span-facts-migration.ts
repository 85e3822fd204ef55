// Schema 12: Docker's create → start and end → removal times were carried as flag text
// (`created-before-start:<s>s`, `removed-after-end:<s>s`, six decimals) that the official span model
// parsed back. They are summary fields now (RunSpanFacts, core/types.ts); this moves them, reading the
// text exactly as that parser did, so every official figure stays the same to the bit.
import type Database from 'better-sqlite3';
import type { RunSpanFacts, RunSummary } from '../core/types.js';

const FLAG_OF: Record<keyof RunSpanFacts, string> = {
  createdBeforeStartSeconds: 'created-before-start:',
  removedAfterEndSeconds: 'removed-after-end:',
};

/** The seconds of the first well-formed `<prefix><s>s` flag, as the old parser read it (it ignored an hour or more). */
function flagSeconds(flags: readonly string[], prefix: string): number | undefined {
  let fallback: number | undefined;
  for (const f of flags) {
    if (!f.startsWith(prefix)) continue;
    const v = Number(f.slice(prefix.length).replace(/s$/, ''));
    if (!Number.isFinite(v) || v < 0) continue;
    if (v < 3600) return v;
    fallback ??= v; // kept as the fact it is; the model ignores it as the old parser did
  }
  return fallback;
}

/** Moves the two flags of every run that has them into the summary's fields; returns the runs changed. */
export function moveSpanFlagsToFields(db: Database.Database): number {
  const rows = db
    .prepare<[], { rid: number; summary: string }>("SELECT rid, summary FROM runs WHERE summary LIKE '%created-before-start:%' OR summary LIKE '%removed-after-end:%'")
    .all();
  const update = db.prepare<[string, number]>('UPDATE runs SET summary = ? WHERE rid = ?');
  let changed = 0;
  for (const row of rows) {
    const summary = JSON.parse(row.summary) as RunSummary;
    if (!Array.isArray(summary.flags)) continue;
    let moved = false;
    for (const [field, prefix] of Object.entries(FLAG_OF) as [keyof RunSpanFacts, string][]) {
      if (!summary.flags.some((f) => f.startsWith(prefix))) continue;
      const seconds = flagSeconds(summary.flags, prefix);
      if (seconds !== undefined && summary[field] === undefined) summary[field] = seconds;
      summary.flags = summary.flags.filter((f) => !f.startsWith(prefix));
      moved = true;
    }
    if (!moved) continue;
    update.run(JSON.stringify(summary), row.rid);
    changed++;
  }
  return changed;
}
