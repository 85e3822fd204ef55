// Schemas 13 and 14 on a file written by the agent of eb9de28 (fixtures/v12-flags.db, made by
// fixtures/make-v12-flags.mjs with that build's own flag writers): every value its flags carried as
// text becomes a typed fact, every flag a word from the closed list, `official` is named
// `flareFormulas` with its sort indexes, and nothing else changes.
import { copyFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { FACT_KEYS, isRunFlag, type RunFacts } from '../../src/core/run-facts.js';
import type { RunSummary } from '../../src/core/types.js';
import { flagsToFacts } from '../../src/store/flag-migrations.js';
import { openStore } from '../../src/store/index.js';
import { migrate, SCHEMA_VERSION } from '../../src/store/schema.js';
import { tempDbPath } from './fixtures.js';

const FIXTURE = join(dirname(fileURLToPath(import.meta.url)), 'fixtures', 'v12-flags.db');

function rawSummaries(path: string): Map<string, Record<string, unknown>> {
  const db = new Database(path, { readonly: true });
  const rows = db.prepare<[], { id: string; summary: string }>('SELECT id, summary FROM runs').all();
  db.close();
  return new Map(rows.map((r) => [r.id, JSON.parse(r.summary) as Record<string, unknown>]));
}

/** A summary without its flags and facts: the figures, which the migration must leave as they were. */
function figures(summary: Record<string, unknown>): Record<string, unknown> {
  const out = { ...summary };
  delete out.flags;
  if ('official' in out) {
    out.flareFormulas = out.official; // schema 14's name
    delete out.official;
  }
  for (const key of FACT_KEYS) if (key !== 'createdBeforeStartSeconds' && key !== 'removedAfterEndSeconds') delete out[key];
  return out;
}

describe('schema 13: flags to facts', () => {
  it('moves each valued flag of a v12 file to its fact, keeps words, and changes no figure', () => {
    const path = tempDbPath();
    mkdirSync(dirname(path), { recursive: true });
    copyFileSync(FIXTURE, path);
    const before = rawSummaries(path);
    const to13 = new Database(path);
    migrate(to13, path, 13);
    const plain = to13.prepare("SELECT summary FROM runs WHERE id = 'plain'").pluck().get() as string;
    to13.close();
    expect(plain).toBe(JSON.stringify(before.get('plain'))); // nothing to move: the row is not rewritten
    const store = openStore(path);
    const get = (id: string): RunSummary => store.getRun(id)!.summary!;
    const facts = (id: string): RunFacts => Object.fromEntries(FACT_KEYS.filter((k) => get(id)[k] !== undefined).map((k) => [k, get(id)[k]]));

    expect(get('attached').flags).toEqual(['attached-late']);
    expect(facts('attached')).toEqual({ createdBeforeStartSeconds: 0.5, removedAfterEndSeconds: 0.25, attachedLateSeconds: 1.234, cgroupMethod: 'v2 at /sys/fs/cgroup/system.slice/docker-c.scope, memory there too' });
    expect(get('settled').flags).toEqual(['settled-from-runtime-after-agent-stop', 'created-from-runtime-record']);
    expect(get('settled-ctr').flags).toEqual(['settled-from-runtime-after-agent-stop', 'end-corrected-from-runtime-record']);
    expect(get('unreadable').flags).toEqual(['counter-unreadable', 'samples-dropped']);
    expect(facts('unreadable')).toEqual({ countersUnreadable: ['/sys/fs/cgroup/x/cpu.stat: ENODEV', '/sys/fs/cgroup/x/memory.current: EISDIR'], samplesDropped: 17 });
    expect(get('labels').flags).toEqual(['label-from-image', 'case-ambiguous', 'gpu-request-unresolved']);
    expect(facts('labels')).toEqual({ labelsFromImage: Array.from({ length: 8 }, (_, i) => `flare.x${i}`), labelsFromImageCount: 10, caseInputFiles: 3, gpuRequestsUnresolved: ['GPU-9'] });
    expect(get('oom').flags).toEqual(['settled-from-runtime-after-agent-stop', 'end-from-docker-event-log']);
    expect(facts('oom')).toEqual({ oomNamedBy: 'runtime-event-log' }); // the first witness, as written first
    expect(get('kill').flags).toEqual(['kill-impossible', 'killed-through-cgroup', 'spawn-error']);
    expect(facts('kill')).toEqual({ killDenied: 'cgroup.kill: EROFS, kill: EPERM', killedThroughCgroup: 'cgroup.procs', spawnError: 'spawn nope ENOENT' });
    expect(get('gpu').flags).toEqual(['gpu-unavailable', 'gpu-accounting-incomplete', 'gpu-unseen-processes', 'gpu-shared-at-start', 'shared-gpu', 'energy-from-power']);
    expect(facts('gpu')).toEqual({ gpuProcessesUnknown: 1, gpuProcessCount: 2, gpuUnseenProcesses: 2 });
    expect(get('gpu').gpuSharedAtStart).toEqual({ processes: 2, usedMiB: 1536.4 }); // the figures the flag's text repeated
    expect(get('recovered').flags).toEqual(['recovered-after-agent-stop', 'interrupted']);
    expect(facts('recovered')).toEqual({ legacyFlags: ['a-retired-flag'] });
    for (const run of store.listRuns({}, 100).runs) expect(run.summary!.flags.every(isRunFlag), run.id).toBe(true);
    store.close();

    const after = rawSummaries(path);
    for (const [id, summary] of before) expect(figures(after.get(id)!), id).toEqual(figures(summary));
    const db = new Database(path, { readonly: true });
    expect(db.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
    db.close();
  });

  it('names FLARE22\'s formulas flareFormulas, to the bit, and sorts by them through their new indexes', () => {
    const path = tempDbPath();
    mkdirSync(dirname(path), { recursive: true });
    copyFileSync(FIXTURE, path);
    const before = rawSummaries(path);
    openStore(path).close();
    const after = rawSummaries(path);
    for (const [id, summary] of before) {
      expect(summary.official, id).toBeTypeOf('object');
      expect(after.get(id)!.flareFormulas, id).toStrictEqual(summary.official);
      expect(after.get(id)!.official, id).toBeUndefined();
    }
    const db = new Database(path, { readonly: true });
    const indexes = db.prepare<[], string>("SELECT name FROM sqlite_master WHERE type = 'index' AND name LIKE 'runs_by_%'").pluck().all();
    expect(indexes.filter((n) => n.startsWith('runs_by_official_'))).toEqual([]);
    expect(indexes.filter((n) => n.startsWith('runs_by_flareFormulas_')).sort()).toEqual(['runs_by_flareFormulas_aucCpuPctS', 'runs_by_flareFormulas_aucGpuMiBs', 'runs_by_flareFormulas_aucRamMiBs', 'runs_by_flareFormulas_maxGpuStableMiB']);
    const plan = db.prepare("EXPLAIN QUERY PLAN SELECT id FROM runs ORDER BY (summary ->> '$.flareFormulas.aucGpuMiBs') DESC, rid DESC LIMIT 5").all() as { detail: string }[];
    db.close();
    expect(plan.map((p) => p.detail).join(' ')).toMatch(/INDEX runs_by_flareFormulas_aucGpuMiBs/);
  });

  it('reads each text only as its writer made it: malformed values are kept for humans, never guessed', () => {
    expect(flagsToFacts(['attached-late:1e9s', 'samples-dropped:-1', 'killed-through-cgroup:rm -rf', 'oom-named-by:image'])).toEqual({
      flags: [],
      facts: { legacyFlags: ['attached-late:1e9s', 'samples-dropped:-1', 'killed-through-cgroup:rm -rf', 'oom-named-by:image'] },
    });
    expect(flagsToFacts(['case-ambiguous:x-inputs', 'gpu-accounting-incomplete:1 of x processes unknown']).facts.legacyFlags).toHaveLength(2);
    expect(flagsToFacts(['label-from-image:a', 'label-from-image:a'])).toEqual({ flags: ['label-from-image'], facts: { labelsFromImage: ['a'], labelsFromImageCount: 1 } });
  });
});
