// Public entry of the store: open functions, errors and the interface types.
export { openStore, openStoreReadOnly } from './open.js';
export type { StoreOptions } from './sqlite.js';
export { InvalidCursorError, ReadOnlyStoreError, SchemaVersionError, UnknownRunError, ForeignDatabaseError } from './errors.js';
export type { RunEnd, RunPage, Store } from './types.js';
