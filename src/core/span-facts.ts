// The runtime's facts about a container's life (RunSpanFacts): which of them are known. Pure.
import type { RunSpanFacts } from './types.js';

/** The span facts that are known (an older summary, or a runtime that did not say, has none). */
export function spanFactsOf(facts: RunSpanFacts | null | undefined): RunSpanFacts {
  const out: RunSpanFacts = {};
  if (typeof facts?.createdBeforeStartSeconds === 'number') out.createdBeforeStartSeconds = facts.createdBeforeStartSeconds;
  if (typeof facts?.removedAfterEndSeconds === 'number') out.removedAfterEndSeconds = facts.removedAfterEndSeconds;
  return out;
}
