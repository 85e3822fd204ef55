// The store's one entry: what the layers above use of it. Nothing outside src/store/ imports another of
// its files (.dependency-cruiser.cjs, "store-through-its-index"); its tests may.
export { openStore, openStoreReadOnly } from './open.js';
export type { StoreOptions } from './sqlite.js';
export { InvalidCursorError, ReadOnlyStoreError, SchemaVersionError, UnknownRunError, ForeignDatabaseError } from './errors.js';
export type { RunEnd, RunPage, Store } from './types.js';
/** Every matching run, page by page (exports, rankings). */
export { allRuns, eachRunPage } from './all-runs.js';
/** The one agent per database file (daemon). */
export { acquireDbLock, DbLinkError, DbLockedError } from './lock.js';
/** The run list's orders, which the API's `order` parameter names. */
export { DEFAULT_RUN_ORDER, RUN_ORDER_KEYS, type RunOrder } from './run-order.js';
export type { StoredOfficial } from './official-table.js';
/** Retention in steps, driven by its own thread (agent/retention-side.ts). */
export { RetentionPass, sweepDeleted, usedBytes, vacuumStep, type DeletedRun, type RetentionOptions } from './retention.js';
