// Every run matching a filter, following the store's cursor page by page (newest first).
import type { Run, RunFilter } from '../core/types.js';
import type { Store } from './types.js';

/** The store's largest page: one query per 1 000 runs. */
const PAGE = 1000;

/** Every matching run, newest first; with `limit`, the newest `limit` of them (read no further). */
export function allRuns(store: Pick<Store, 'listRuns'>, filter: RunFilter, limit = Infinity): Run[] {
  const runs: Run[] = [];
  let cursor: string | undefined;
  while (runs.length < limit) {
    const page = store.listRuns(filter, Math.min(PAGE, limit - runs.length), cursor);
    runs.push(...page.runs);
    if (!page.nextCursor) break;
    cursor = page.nextCursor;
  }
  return runs;
}

/**
 * Hands every matching run to `use` a page at a time, newest first, holding one page at once: what a
 * season-wide export keeps of each run is much smaller than the run.
 */
export function eachRunPage(store: Pick<Store, 'listRuns'>, filter: RunFilter, use: (runs: Run[]) => void, perPage = PAGE): void {
  let cursor: string | undefined;
  do {
    const page = store.listRuns(filter, perPage, cursor);
    use(page.runs);
    cursor = page.nextCursor ?? undefined;
  } while (cursor);
}
