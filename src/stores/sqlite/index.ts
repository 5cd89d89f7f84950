// chio-trust/sqlite: durable stores for one kernel on an SQLite file (better-sqlite3 12.x, an
// optional peer dependency imported only by this entry). Both stores can share one file.
export { SqlitePeerStore } from "./peer-store.js";
export type { SqlitePeerStoreOptions, SqlitePeerRecord } from "./peer-store.js";
export { SqliteReplayStore } from "./replay-store.js";
export type { SqliteReplayStoreOptions } from "./replay-store.js";
export { SqliteStoreError } from "./errors.js";
export type { SqliteStoreErrorCode } from "./errors.js";
export { SCHEMA_VERSION, CHIO_APPLICATION_ID } from "./schema.js";
export type { SqliteOpenOptions } from "./schema.js";
