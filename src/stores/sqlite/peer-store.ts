// FederationPeerStore on an SQLite file (docs/protocol.md §6, §8): pins that survive restarts
// and are shared by every process that opens the same file (see schema.ts for the settings).
//
// A row records exactly what a pin is: kernel id, 32-byte key, algorithm (ed25519), establishedAt,
// rotationDue, how it was written (compareAndSet from a handshake, or a plain insert) and the
// store's `origin` label. Nothing else from an envelope is kept: the exchange calls the store
// only with a FederationPeer it built after the envelope's signature and key checks held.
import type Database from "better-sqlite3";
import { hardenClass, hasOwnMember, ownList, ownListAsArray, quoteJsonString, stringSlice } from "../../bytes.js";
import { FederationPeer } from "../../handshake/peer.js";
import { PublicKey } from "../../handshake/keys.js";
import { expectCompareAndSet, expectPin, expectPinKernelId, type FederationPeerStore } from "../../handshake/ports.js";
import { REMOVED_ANYWAY } from "../server-store.js";
import { instanceOfOrFalse } from "../../errors.js";
import { SqliteStoreError, toStoreError } from "./errors.js";
import {
  column, expectKeyText, hostClockSeconds, openChioDatabase, readChioDatabaseReadOnly, readSqliteOptions, rowAt, safeColumn, schemaVersion, SQLITE_OPEN_OPTION_KEYS,
  type SqliteOpenOptions,
} from "./schema.js";

/** Options of SqlitePeerStore. */
export interface SqlitePeerStoreOptions extends SqliteOpenOptions {
  /** A label stored with each pin this store writes (for example the service name). Default "chio-trust". */
  origin?: string;
}

/** A pin with everything the row records. */
export interface SqlitePeerRecord {
  peer: FederationPeer;
  algorithm: "ed25519";
  /** "compareAndSet" (how the exchange pins after a handshake) or "insert" (a direct write). */
  establishedVia: "compareAndSet" | "insert";
  origin: string;
  /** Wall-clock unix seconds of the write. */
  writtenAt: number;
}

interface PeerRow {
  kernel_id: string;
  public_key: Uint8Array;
  algorithm: string;
  established_at: bigint;
  rotation_due: bigint;
  established_via: string;
  origin: string;
  written_at: bigint;
}

const COLUMNS = "kernel_id, public_key, algorithm, established_at, rotation_due, established_via, origin, written_at";

/**
 * Durable pinned-peer store. Methods are synchronous (better-sqlite3), each write is one
 * IMMEDIATE transaction, and compareAndSet is atomic across every connection to the file.
 * Call close() when done; later calls throw SqliteStoreError STORE_CLOSED.
 */
/** The members of SqlitePeerStoreOptions, listed as this module loads (a spread at call time runs the realm's array iterator: README "Hardening"). */
const PEER_STORE_OPTION_KEYS = [...SQLITE_OPEN_OPTION_KEYS, "origin"] as const;

export class SqlitePeerStore implements FederationPeerStore {
  readonly path: string;
  readonly origin: string;
  readonly #db: Database.Database;
  /** FILE_MOVED once the path no longer names the file opened (schema.ts, fileCheck). */
  readonly #checkFile: () => void;
  readonly #select: Database.Statement;
  readonly #selectAll: Database.Statement;
  readonly #upsert: Database.Statement;
  readonly #delete: Database.Statement;
  readonly #cas: Database.Transaction<(kernelId: string, expected: FederationPeer | undefined, next: FederationPeer) => boolean>;
  readonly #remove: Database.Transaction<(kernelId: string) => { removed: FederationPeer | undefined; corrupt: unknown }>;
  #closed = false;

  /** @throws SqliteStoreError (see openChioDatabase for the codes). */
  constructor(path: string, options: SqlitePeerStoreOptions = {}) {
    const read = readSqliteOptions(options, PEER_STORE_OPTION_KEYS);
    // The default on undefined only: null is refused like any other wrong type, as busyTimeoutMs
    // and synchronous refuse it (hunt 18 found `?? default` taking null in the server stores).
    const origin = read.origin === undefined ? "chio-trust" : read.origin;
    if (typeof origin !== "string" || origin.length > 200) throw new SqliteStoreError("INVALID_ARGUMENT", "origin must be a string of at most 200 units");
    expectKeyText(origin, "origin");
    ({ db: this.#db, checkFile: this.#checkFile } = openChioDatabase(path, read));
    this.path = path;
    this.origin = origin;
    // A chio file whose tables are gone (or any other statement that cannot be prepared) is a
    // typed error, and the connection is closed rather than left open.
    try {
      const db = this.#db;
      this.#select = db.prepare(`SELECT ${COLUMNS} FROM chio_trust_peers WHERE kernel_id = ?`);
      this.#selectAll = db.prepare(`SELECT ${COLUMNS} FROM chio_trust_peers ORDER BY kernel_id`);
      this.#upsert = db.prepare(
        `INSERT INTO chio_trust_peers (${COLUMNS}) VALUES (?, ?, 'ed25519', ?, ?, ?, ?, ?)
         ON CONFLICT (kernel_id) DO UPDATE SET public_key = excluded.public_key, algorithm = excluded.algorithm,
           established_at = excluded.established_at, rotation_due = excluded.rotation_due,
           established_via = excluded.established_via, origin = excluded.origin, written_at = excluded.written_at`,
      );
      this.#delete = db.prepare("DELETE FROM chio_trust_peers WHERE kernel_id = ?");
      this.#cas = db.transaction((kernelId, expected, next) => {
        const row = this.#select.get(kernelId) as PeerRow | undefined;
        const current = row === undefined ? undefined : decodeRow(row).peer;
        const matches = expected === undefined ? current === undefined : current !== undefined && current.equals(expected);
        if (!matches) return false;
        this.#write(next, "compareAndSet");
        return true;
      });
      this.#remove = db.transaction((kernelId) => {
        const row = this.#select.get(kernelId) as PeerRow | undefined;
        // A row that does not decode is still removed (that is how an operator clears it), and reported.
        let removed: FederationPeer | undefined;
        let corrupt: unknown;
        if (row !== undefined) {
          try {
            removed = decodeRow(row).peer;
          } catch (error) {
            corrupt = error;
          }
        }
        this.#delete.run(kernelId);
        return { removed, corrupt };
      });
    } catch (cause) {
      this.#db.close();
      throw toStoreError(cause, "open");
    }
  }

  // Each port method checks its arguments' types first, outside #run (which would wrap the error as
  // SQLITE_ERROR): INVALID_TYPE, as every FederationPeerStore throws it (ports.ts; hunt 58: this
  // store threw its own INVALID_ARGUMENT). A kernel id of ill-formed UTF-16 stays INVALID_ARGUMENT
  // (expectKeyText): a string of the right type this store cannot keep exactly.
  insert(peer: FederationPeer): void {
    expectPin(peer, "peer");
    this.#run("insert", () => {
      const checked = expectPeerText(peer, "peer");
      this.#db.transaction(() => this.#write(checked, "insert")).immediate();
    });
  }

  get(kernelId: string): FederationPeer | undefined {
    expectPinKernelId(kernelId);
    return this.#run("get", () => {
      const row = this.#select.get(expectKeyText(kernelId, "kernelId")) as PeerRow | undefined;
      return row === undefined ? undefined : decodeRow(row).peer;
    });
  }

  remove(kernelId: string): FederationPeer | undefined {
    expectPinKernelId(kernelId);
    return this.#run("remove", () => {
      const { removed, corrupt } = this.#remove.immediate(expectKeyText(kernelId, "kernelId"));
      // After the commit: the row is gone, and the caller learns it was corrupt and that it was
      // removed all the same (review 53: the error alone read as "nothing changed", as it said for
      // the Postgres and Redis stores before review 47).
      if (corrupt !== undefined) throw instanceOfOrFalse(SqliteStoreError, corrupt) ? new SqliteStoreError(corrupt.code, corrupt.message + REMOVED_ANYWAY, { cause: corrupt.cause, sqliteCode: corrupt.sqliteCode }) : corrupt;
      return removed;
    });
  }

  snapshot(): FederationPeer[] {
    const records = this.records();
    const peers = ownList<FederationPeer>(records.length); // not the realm's `map` (README "Hardening")
    for (let i = 0; i < records.length; i++) peers[i] = records[i].peer;
    return ownListAsArray(peers);
  }

  compareAndSet(kernelId: string, expected: FederationPeer | undefined, next: FederationPeer): boolean {
    expectCompareAndSet(kernelId, expected, next);
    return this.#run("compareAndSet", () => {
      expectKeyText(kernelId, "kernelId");
      const checkedNext = expectPeerText(next, "next"); // its kernel id is kernelId (expectCompareAndSet)
      const checkedExpected = expected === undefined ? undefined : expectPeerText(expected, "expected");
      return this.#cas.immediate(kernelId, checkedExpected, checkedNext);
    });
  }

  /** Every pin with its full row (algorithm, how and when it was written), ordered by kernel id. */
  records(): SqlitePeerRecord[] {
    return this.#run("snapshot", () => {
      // By index, each row an own element, into a list no accessor of Array.prototype reaches,
      // not the realm's `map` (README "Hardening").
      return decodeRows(this.#selectAll.all() as PeerRow[]);
    });
  }

  /** The full row of one pin, or undefined. */
  record(kernelId: string): SqlitePeerRecord | undefined {
    expectPinKernelId(kernelId);
    return this.#run("get", () => {
      const row = this.#select.get(expectKeyText(kernelId, "kernelId")) as PeerRow | undefined;
      return row === undefined ? undefined : decodeRow(row);
    });
  }

  /** The schema version of the file. */
  get schemaVersion(): number {
    return this.#run("schemaVersion", () => schemaVersion(this.#db));
  }

  /** Number of pins held. */
  get size(): number {
    return this.#run("size", () => safeColumn(column(this.#db.prepare("SELECT count(*) AS n FROM chio_trust_peers").get() as object, "n"), "count"));
  }

  /** Closes the connection (idempotent). Committed pins stay in the file. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#db.close();
  }

  /**
   * Writes a pin with written_at at this host's clock. A clock that reads no plausible time
   * (hostClockSeconds: before 1970, or in milliseconds) refuses the write, nothing changed: the
   * row would hold a written_at that every later read of the pins refuses as CORRUPT_ROW, so one
   * accept made under such a clock (fake timers set one; the exchange was given `now`) left
   * every peer's pin unreadable (helper 146).
   */
  #write(peer: FederationPeer, via: "compareAndSet" | "insert"): void {
    const writtenAt = hostClockSeconds();
    if (writtenAt === undefined) {
      throw new SqliteStoreError("HOST_CLOCK_IMPLAUSIBLE", `this host's clock reads ${String(Date.now())} ms, no plausible time to record as the pin's written_at`);
    }
    this.#upsert.run(peer.kernelId, peer.publicKey.toBytes(), peer.establishedAt, peer.rotationDue, via, this.origin, writtenAt);
  }

  #run<T>(operation: string, body: () => T): T {
    if (this.#closed) throw new SqliteStoreError("STORE_CLOSED", `SqlitePeerStore ${operation} after close()`);
    try {
      this.#checkFile();
      return body();
    } catch (cause) {
      throw toStoreError(cause, `SqlitePeerStore ${operation}`);
    }
  }
}
hardenClass(SqlitePeerStore); // its statics and methods stay its own: see hardenClass

/** Every pin row decoded, by index into a list no accessor of Array.prototype reaches (records(), readPeerRecordsReadOnly). */
function decodeRows(rows: PeerRow[]): SqlitePeerRecord[] {
  const records = ownList<SqlitePeerRecord>(rows.length);
  for (let i = 0; i < rows.length; i++) records[i] = decodeRow(rowAt(rows, i, "the list of pins") as PeerRow);
  return ownListAsArray(records);
}

/**
 * @internal Every pin of the chio-trust file at `path` (as records() lists them), read without
 * writing anything in the file or beside it (readChioDatabaseReadOnly): the CLI's `peers`.
 * @throws SqliteStoreError (see readChioDatabaseReadOnly), CORRUPT_ROW.
 */
export function readPeerRecordsReadOnly(path: string): SqlitePeerRecord[] {
  return readChioDatabaseReadOnly(path, (db) => {
    try {
      return decodeRows(db.prepare(`SELECT ${COLUMNS} FROM chio_trust_peers ORDER BY kernel_id`).all() as PeerRow[]);
    } catch (cause) {
      throw toStoreError(cause, "read the pins");
    }
  });
}

/** `peer`, a FederationPeer (its type checked before: expectPin, expectCompareAndSet), once its kernel id is text this store keeps exactly. */
function expectPeerText(peer: FederationPeer, name: string): FederationPeer {
  expectKeyText(peer.kernelId, `${name}.kernelId`);
  return peer;
}

/**
 * A row as a fresh, validated record; anything that does not decode is CORRUPT_ROW. Each column is
 * read as the row's own member (column()): better-sqlite3 fills the row by assignment, and an
 * accessor on Object.prototype named `public_key` answered for the column, so a stranger's key
 * read as the pin, and compareAndSet, comparing against that read, wrote it (README "Hardening").
 */
function decodeRow(row: PeerRow): SqlitePeerRecord {
  try {
    const algorithm = column(row, "algorithm");
    if (algorithm !== "ed25519") throw new Error(`algorithm ${typeof algorithm === "string" ? algorithm : typeof algorithm}`);
    const via = column(row, "established_via");
    if (via !== "compareAndSet" && via !== "insert") throw new Error(`established_via ${typeof via === "string" ? via : typeof via}`);
    const origin = column(row, "origin");
    if (typeof origin !== "string") throw new Error(`origin of type ${typeof origin}`);
    const peer = new FederationPeer({
      kernelId: column(row, "kernel_id") as string,
      publicKey: PublicKey.fromBytes(column(row, "public_key") as Uint8Array), // copied; a 32-byte check and point decode
      establishedAt: safeColumn(column(row, "established_at"), "established_at"),
      rotationDue: safeColumn(column(row, "rotation_due"), "rotation_due"),
    });
    return { peer, algorithm: "ed25519", establishedVia: via, origin, writtenAt: safeColumn(column(row, "written_at"), "written_at") };
  } catch (cause) {
    const kernelId = hasOwnMember(row, "kernel_id") ? row.kernel_id : undefined;
    const id = typeof kernelId === "string" ? quoteJsonString(stringSlice(kernelId, 0, 200)) : "(not text)";
    throw new SqliteStoreError("CORRUPT_ROW", `pin ${id} does not decode: ${(cause as Error).message}`, { cause });
  }
}
