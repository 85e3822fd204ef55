// A run's facts and flags (src/core/run-facts.ts): words from one closed list, facts checked and bounded.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { addToFactList, FACT_KEYS, factLines, factsOf, malformedFact, MAX_FACT_LIST, MAX_FACT_TEXT, mergeFacts, RUN_FLAGS } from '../../src/core/run-facts.js';

describe('run facts', () => {
  it('flags are words: no value, no space, each once', () => {
    expect(new Set(RUN_FLAGS).size).toBe(RUN_FLAGS.length);
    for (const f of RUN_FLAGS) expect(f).toMatch(/^[a-z0-9]+(-[a-z0-9]+)*$/);
  });

  it('factsOf keeps the well-formed facts and nothing else', () => {
    const mixed = { createdBeforeStartSeconds: 0.5, samplesDropped: -1, oomNamedBy: 'the-image', killedThroughCgroup: 'cgroup.kill', countersUnreadable: ['a: ENOENT'], status: 'completed' } as Record<string, unknown>;
    expect(factsOf(mixed)).toEqual({ createdBeforeStartSeconds: 0.5, killedThroughCgroup: 'cgroup.kill', countersUnreadable: ['a: ENOENT'] });
    expect(malformedFact(mixed)).toBe('samplesDropped');
    expect(malformedFact({ attachedLateSeconds: 1 })).toBeNull();
    expect(factsOf(null)).toEqual({});
  });

  it('text facts are bounded: lists to MAX_FACT_LIST items, each text to MAX_FACT_TEXT', () => {
    let list: string[] | undefined;
    for (let i = 0; i < 20; i++) list = addToFactList(list, `x${i}`);
    expect(list).toHaveLength(MAX_FACT_LIST);
    expect(addToFactList(['a'], 'a')).toEqual(['a']);
    expect(addToFactList(undefined, 'y'.repeat(5000))[0]).toHaveLength(MAX_FACT_TEXT);
  });

  it('merging: the later value wins, lists are joined', () => {
    expect(mergeFacts({ attachedLateSeconds: 1, countersUnreadable: ['a'] }, { attachedLateSeconds: 2, countersUnreadable: ['b', 'a'], samplesDropped: 3 })).toEqual({ attachedLateSeconds: 2, countersUnreadable: ['a', 'b'], samplesDropped: 3 });
  });

  it('factLines: each present fact under its own name', () => {
    expect(factLines({ samplesDropped: 4, gpuProcessesUnknown: 1, gpuProcessCount: 3, labelsFromImage: ['flare.a', 'flare.b'] })).toEqual([
      ['samplesDropped', '4'],
      ['labelsFromImage', 'flare.a; flare.b'],
      ['gpuProcessesUnknown', '1 of 3'],
    ]);
  });

  it('the run page names every fact the summary can carry', () => {
    const page = readFileSync(new URL('../../web/js/run-detail.js', import.meta.url), 'utf8');
    const listed = /const FACT_KEYS = \[([^\]]*)\]/.exec(page)![1].match(/'[A-Za-z]+'/g)!.map((k) => k.slice(1, -1));
    expect(listed).toEqual(FACT_KEYS.filter((k) => k !== 'gpuProcessCount'));
  });
});
