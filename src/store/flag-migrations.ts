// Flags that carried values as text, moved into the summary's typed fields (core/run-facts.ts).
// Schema 12: Docker's create → start and end → removal times (`created-before-start:<s>s`,
// `removed-after-end:<s>s`, six decimals), read exactly as the official span model's parser read
// them, so every official figure stays the same to the bit. Schema 13: every other valued flag, each
// to its fact and its word from the closed list; what no rule takes is kept in `legacyFlags`.
// The only code that reads a flag's text: once, at migration.
import type Database from 'better-sqlite3';
import { addToFactList, CGROUP_KILL_HOWS, factText, isRunFlag, OOM_WITNESSES, uniqueFlags, type CgroupKillHow, type OomWitness, type RunFacts, type RunFlag } from '../core/run-facts.js';
import type { RunSummary } from '../core/types.js';

type SpanFact = 'createdBeforeStartSeconds' | 'removedAfterEndSeconds';

const FLAG_OF: Record<SpanFact, string> = {
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
    const summary = JSON.parse(row.summary) as Omit<RunSummary, 'flags'> & { flags: string[] };
    if (!Array.isArray(summary.flags)) continue;
    let moved = false;
    for (const [field, prefix] of Object.entries(FLAG_OF) as [SpanFact, string][]) {
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

const count = (text: string): number | null => (/^\d{1,9}$/.test(text) ? Number(text) : null);

/** A flag's text after `prefix` (null: the flag is not one of these). */
const after = (flag: string, prefix: string): string | null => (flag.startsWith(prefix) ? flag.slice(prefix.length) : null);

/** A runtime's word inside a flag (`settled-from-<runtime>-after-agent-stop`): docker or containerd. */
const RUNTIME_WORDS: [RegExp, RunFlag][] = [
  [/^settled-from-(docker|containerd)-after-agent-stop$/, 'settled-from-runtime-after-agent-stop'],
  [/^end-corrected-from-(docker|containerd)-record$/, 'end-corrected-from-runtime-record'],
  [/^created-from-(docker|containerd)-record$/, 'created-from-runtime-record'],
];

/**
 * One summary's flags as schema 13 keeps them: words from RUN_FLAGS and the facts their text carried,
 * as each writer formatted it (src/runtime, src/agent, src/core/gpu-run.ts before schema 13).
 * Facts already in the summary win over those read back from text.
 */
export function flagsToFacts(old: readonly string[]): { flags: RunFlag[]; facts: RunFacts } {
  const flags: RunFlag[] = [];
  const facts: RunFacts = {};
  let labelsMore = 0;
  const legacy: string[] = [];
  for (const flag of old) {
    if (isRunFlag(flag)) {
      flags.push(flag);
      continue;
    }
    let v: string | null;
    const runtimeWord = RUNTIME_WORDS.find(([re]) => re.test(flag));
    if (runtimeWord) flags.push(runtimeWord[1]);
    else if ((v = after(flag, 'attached-late:')) !== null && /^\d{1,9}(\.\d{1,9})?s$/.test(v)) {
      flags.push('attached-late');
      facts.attachedLateSeconds = Number(v.slice(0, -1));
    } else if ((v = after(flag, 'samples-dropped:')) !== null && count(v) !== null) {
      flags.push('samples-dropped');
      facts.samplesDropped = count(v)!;
    } else if ((v = after(flag, 'gpu-unseen-processes:')) !== null && count(v) !== null) {
      flags.push('gpu-unseen-processes');
      facts.gpuUnseenProcesses = count(v)!;
    } else if ((v = after(flag, 'gpu-accounting-incomplete:')) !== null && /^\d{1,9} of \d{1,9} processes unknown$/.test(v)) {
      const [unknown, of] = v.split(' of ');
      flags.push('gpu-accounting-incomplete');
      facts.gpuProcessesUnknown = Number(unknown);
      facts.gpuProcessCount = Number(of.split(' ')[0]);
    } else if (flag.startsWith('gpu-shared:')) flags.push('gpu-shared-at-start'); // its figures are gpuSharedAtStart's
    else if ((v = after(flag, 'oom-named-by:')) !== null && (OOM_WITNESSES as readonly string[]).includes(v)) facts.oomNamedBy ??= v as OomWitness;
    else if ((v = after(flag, 'method: cgroup ')) !== null) facts.cgroupMethod = factText(v);
    else if ((v = after(flag, 'counter-unreadable: ')) !== null) {
      flags.push('counter-unreadable');
      facts.countersUnreadable = addToFactList(facts.countersUnreadable, v);
    } else if ((v = after(flag, 'case-ambiguous:')) !== null && v.endsWith('-inputs') && count(v.slice(0, -'-inputs'.length)) !== null) {
      flags.push('case-ambiguous');
      facts.caseInputFiles = count(v.slice(0, -'-inputs'.length))!;
    } else if ((v = after(flag, 'label-from-image-more:')) !== null && count(v) !== null) labelsMore += count(v)!;
    else if ((v = after(flag, 'label-from-image:')) !== null) {
      flags.push('label-from-image');
      facts.labelsFromImage = addToFactList(facts.labelsFromImage, v);
    } else if ((v = after(flag, 'gpu-request-unresolved:')) !== null) {
      flags.push('gpu-request-unresolved');
      facts.gpuRequestsUnresolved = addToFactList(facts.gpuRequestsUnresolved, v);
    } else if ((v = after(flag, 'kill-impossible:')) !== null) {
      flags.push('kill-impossible');
      facts.killDenied = factText(v);
    } else if ((v = after(flag, 'killed-through-cgroup:')) !== null && (CGROUP_KILL_HOWS as readonly string[]).includes(v)) {
      flags.push('killed-through-cgroup');
      facts.killedThroughCgroup = v as CgroupKillHow;
    } else if ((v = after(flag, 'spawn-error: ')) !== null) {
      flags.push('spawn-error');
      facts.spawnError = factText(v);
    } else legacy.push(factText(flag));
  }
  if (facts.labelsFromImage) facts.labelsFromImageCount = facts.labelsFromImage.length + labelsMore;
  if (legacy.length > 0) facts.legacyFlags = legacy;
  return { flags: uniqueFlags(flags), facts };
}

/** Moves every summary's valued and retired flags to facts and words (schema 13); returns the runs changed. */
export function moveFlagsToFacts(db: Database.Database): number {
  const rows = db.prepare<[], { rid: number; flags: string | null }>("SELECT rid, json_extract(summary, '$.flags') AS flags FROM runs WHERE summary IS NOT NULL").all();
  const read = db.prepare<[number], { summary: string }>('SELECT summary FROM runs WHERE rid = ?');
  const update = db.prepare<[string, number]>('UPDATE runs SET summary = ? WHERE rid = ?');
  let changed = 0;
  for (const row of rows) {
    const old = row.flags === null ? null : (JSON.parse(row.flags) as unknown);
    if (!Array.isArray(old) || old.every(isRunFlag)) continue;
    const summary = JSON.parse(read.get(row.rid)!.summary) as Record<string, unknown>;
    const moved = flagsToFacts(old.filter((f): f is string => typeof f === 'string'));
    for (const [key, value] of Object.entries(moved.facts)) if (summary[key] === undefined) summary[key] = value;
    summary.flags = moved.flags;
    update.run(JSON.stringify(summary), row.rid);
    changed++;
  }
  return changed;
}
