// Every run matching a filter, following the store's cursor page by page (newest first).
import type { Run } from '../core/types.js';
import type { RunFilter, Store } from './types.js';

/** The store's largest page: one query per 1 000 runs. */
const PAGE = 1000;

export function allRuns(store: Pick<Store, 'listRuns'>, filter: RunFilter): Run[] {
  const runs: Run[] = [];
  let cursor: string | undefined;
  do {
    const page = store.listRuns(filter, PAGE, cursor);
    runs.push(...page.runs);
    cursor = page.nextCursor ?? undefined;
  } while (cursor);
  return runs;
}
