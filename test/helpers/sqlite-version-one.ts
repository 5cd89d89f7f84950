// A chio-trust SQLite file of schema version 1, as the release that had only that version wrote
// it: the tables and pragmas of its migration, frozen here (not derived from
// src/stores/sqlite/schema.ts, whose migrations move on), for the tests that open or list such a
// file (sqlite-store: the later migrations' upgrade of it; cli-peers-read-only: `peers` lists it
// without upgrading it).
import type Database from "better-sqlite3";
import { CHIO_APPLICATION_ID } from "../../src/stores/sqlite/index.js";

/** Makes `db`, a new empty database, a version-1 store with no rows: WAL, the application id, its three tables and index. */
export function createVersionOneTables(db: Database.Database): void {
  db.pragma("journal_mode = WAL");
  db.pragma(`application_id = ${CHIO_APPLICATION_ID}`);
  db.exec(`
    CREATE TABLE chio_trust_schema (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL, description TEXT NOT NULL) STRICT;
    INSERT INTO chio_trust_schema VALUES (1, 0, 'pinned peers and replay nonces');
    CREATE TABLE chio_trust_peers (kernel_id TEXT NOT NULL PRIMARY KEY, public_key BLOB NOT NULL CHECK (length(public_key) = 32), algorithm TEXT NOT NULL CHECK (algorithm = 'ed25519'), established_at INTEGER NOT NULL CHECK (established_at BETWEEN 0 AND 9007199254740991), rotation_due INTEGER NOT NULL CHECK (rotation_due BETWEEN 0 AND 9007199254740991), established_via TEXT NOT NULL CHECK (established_via IN ('compareAndSet', 'insert')), origin TEXT NOT NULL, written_at INTEGER NOT NULL) STRICT;
    CREATE TABLE chio_trust_replay (peer_id TEXT NOT NULL, nonce TEXT NOT NULL, timestamp INTEGER NOT NULL CHECK (timestamp BETWEEN 0 AND 9007199254740991), state TEXT NOT NULL CHECK (state IN ('reserved', 'committed')), owner TEXT, previous_timestamp INTEGER, PRIMARY KEY (peer_id, nonce)) STRICT, WITHOUT ROWID;
    CREATE INDEX chio_trust_replay_by_timestamp ON chio_trust_replay (timestamp);
  `);
}
