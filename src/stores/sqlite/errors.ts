// Typed errors of the SQLite stores. Each carries a stable `code`; the exchange reports any store
// throw as PeerHandshakeError STORE_FAILED with this error as its cause (docs/protocol.md §8).
import { ownCode, stringStartsWith } from "../../bytes.js";
import { describeThrown, instanceOfOrFalse, nameError } from "../../errors.js";

/** Stable codes of SqliteStoreError. */
export type SqliteStoreErrorCode =
  | "CANNOT_OPEN" //           the file cannot be opened or created (missing folder, permissions)
  | "NOT_A_DATABASE" //        the file exists but is not an SQLite database (SQLITE_NOTADB)
  | "CORRUPT_DATABASE" //      SQLite reports the file damaged (SQLITE_CORRUPT)
  | "FOREIGN_DATABASE" //      an SQLite database that belongs to another application
  | "SCHEMA_TOO_NEW" //        written by a newer chio-trust whose schema this version cannot read
  | "CORRUPT_ROW" //           a stored row that does not decode into a valid pin or nonce record
  | "DATABASE_BUSY" //         another process held the write lock longer than busyTimeoutMs
  | "READ_ONLY" //             the file or its folder is not writable
  | "STORE_CLOSED" //          a method called after close()
  | "FILE_MOVED" //            the store's path no longer names the file it opened, or its -wal or -shm another (deleted, renamed or replaced): reopen it
  | "INVALID_ARGUMENT" //      a bad option or argument (wrong type, ill-formed UTF-16, out of range)
  | "SKEW_ABOVE_RETENTION" //  a replay reserve asked with a skew larger than the store keeps pairs for
  | "PEER_QUOTA_EXCEEDED" //   a replay reserve of a new pair by a peer that holds maxPairsPerPeer already
  | "KEY_TOO_LONG" //          a replay reserve whose peer id plus nonce is above maxKeyUnits (the exchange asks `fits` first)
  | "HOST_CLOCK_IMPLAUSIBLE" // a pin written, or a prune() without `now`, while this host's clock reads no plausible unix time (before 1970, or in ms): nothing written or deleted
  | "PAST_RETENTION_ON_HOST_CLOCK" // a replay reserve of a pair this host's clock puts past its retention: it may already be pruned, a replay unseen
  | "SQLITE_ERROR"; //         any other SQLite failure (the SQLite code is in `sqliteCode`)

/** A SQLite store failure; `code` says which, `sqliteCode` carries SQLite's own code when there is one. */
export class SqliteStoreError extends Error {
  readonly code: SqliteStoreErrorCode;
  readonly sqliteCode: string | undefined;
  constructor(code: SqliteStoreErrorCode, message: string, options?: { cause?: unknown; sqliteCode?: string }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    nameError(this, "SqliteStoreError");
    this.code = code;
    this.sqliteCode = options?.sqliteCode;
  }
}

/** Maps anything thrown by better-sqlite3 to a SqliteStoreError (an existing one passes through). */
export function toStoreError(cause: unknown, context: string): SqliteStoreError {
  if (instanceOfOrFalse(SqliteStoreError, cause)) return cause;
  const driverCode = ownCode(cause); // the driver's own, as the Postgres store reads it
  const sqliteCode = typeof driverCode === "string" ? driverCode : undefined;
  const message = `${context}: ${describeThrown(cause)}`;
  // startsWith as captured at load (README "Hardening"): a replaced one would change the code.
  const is = (prefix: string) => sqliteCode !== undefined && stringStartsWith(sqliteCode, prefix);
  let code: SqliteStoreErrorCode = "SQLITE_ERROR";
  if (sqliteCode === "SQLITE_NOTADB") code = "NOT_A_DATABASE";
  else if (is("SQLITE_CORRUPT")) code = "CORRUPT_DATABASE";
  else if (is("SQLITE_BUSY") || is("SQLITE_LOCKED")) code = "DATABASE_BUSY";
  else if (is("SQLITE_CANTOPEN")) code = "CANNOT_OPEN";
  else if (is("SQLITE_READONLY")) code = "READ_ONLY";
  return new SqliteStoreError(code, message, { cause, sqliteCode });
}
