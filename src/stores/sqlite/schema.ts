// Opening a chio-trust SQLite file: connection settings, file identification and schema
// migrations. One file holds both the pinned peers and the remembered replay nonces, so a kernel
// restarted on the same file keeps refusing envelopes it accepted before (docs/protocol.md §7).
//
// - WAL journal, so readers never block the writer and several processes can share the file;
//   every write runs in a BEGIN IMMEDIATE transaction (the write lock is taken before the read
//   that decides the write, which makes compare-and-set atomic across processes) and waits up to
//   busyTimeoutMs for another process's lock.
// - synchronous=FULL by default: a committed pin survives a crash of the process AND of the
//   machine. NORMAL keeps it across process crashes (SIGKILL) only, and is faster.
// - The file is ours when its header's application_id is CHIO_APPLICATION_ID; an empty file is
//   claimed; any other database (tables but no id, or another id) is FOREIGN_DATABASE and is
//   never written to. The schema version is the highest row of chio_trust_schema; migrations run
//   in order, each in the one transaction that also records it.
import Database from "better-sqlite3";
import { accessSync, closeSync, constants as fsConstants, fstatSync, openSync, readSync, statSync } from "node:fs";
import { dirname, isAbsolute, resolve as resolvePath } from "node:path";
import { hasOwnMember, isSafeInteger, MAX_SAFE_BIGINT, MAX_SAFE_INTEGER, readSettings, stringStartsWith } from "../../bytes.js";
import { hasLoneSurrogate } from "../../handshake/wire.js";
import { sidecarStem } from "./sidecar-files.js";
import { mathFloor, toNumber } from "../builtins.js";
import { SqliteStoreError, toStoreError } from "./errors.js";

// Built-ins are taken at load (src/bytes.ts, src/stores/builtins.ts): caller code that replaces
// one later (a Number that answers 7, a Math.floor) must not change what a row reads as (README
// "Hardening").

/** "chio" in ASCII, written into the SQLite header (PRAGMA application_id) of files we create. */
export const CHIO_APPLICATION_ID = 0x6368696f;

/** Options shared by SqlitePeerStore and SqliteReplayStore. */
export interface SqliteOpenOptions {
  /**
   * How long a write waits for another connection's lock, in ms. Default 5000. The wait blocks
   * the calling thread (better-sqlite3 is synchronous): servers sharing the file with other
   * processes should keep it small (README, "Shared.").
   */
  busyTimeoutMs?: number;
  /** "full" (default): durable across power loss; "normal": across process crashes only, faster. */
  synchronous?: "full" | "normal";
}

interface Migration {
  version: number;
  description: string;
  sql: string;
}

// Append only: a shipped migration is never edited, a change is a new version.
const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description: "pinned peers and replay nonces",
    sql: `
      CREATE TABLE chio_trust_peers (
        kernel_id       TEXT    NOT NULL PRIMARY KEY,
        public_key      BLOB    NOT NULL CHECK (length(public_key) = 32),
        algorithm       TEXT    NOT NULL CHECK (algorithm = 'ed25519'),
        established_at  INTEGER NOT NULL CHECK (established_at BETWEEN 0 AND 9007199254740991),
        rotation_due    INTEGER NOT NULL CHECK (rotation_due BETWEEN 0 AND 9007199254740991),
        established_via TEXT    NOT NULL CHECK (established_via IN ('compareAndSet', 'insert')),
        origin          TEXT    NOT NULL,
        written_at      INTEGER NOT NULL
      ) STRICT;
      CREATE TABLE chio_trust_replay (
        peer_id            TEXT    NOT NULL,
        nonce              TEXT    NOT NULL,
        timestamp          INTEGER NOT NULL CHECK (timestamp BETWEEN 0 AND 9007199254740991),
        state              TEXT    NOT NULL CHECK (state IN ('reserved', 'committed')),
        owner              TEXT,
        previous_timestamp INTEGER,
        PRIMARY KEY (peer_id, nonce)
      ) STRICT, WITHOUT ROWID;
      CREATE INDEX chio_trust_replay_by_timestamp ON chio_trust_replay (timestamp);
    `,
  },
  {
    // SqliteReplayStore's per-peer quota reads a peer's count here instead of counting its rows,
    // which read all of them, nonces included (55 ms at 10,000 pairs of 4,080-unit nonces).
    version: 2,
    description: "replay pairs counted per peer",
    sql: `
      CREATE TABLE chio_trust_replay_peers (
        peer_id TEXT    NOT NULL PRIMARY KEY,
        pairs   INTEGER NOT NULL CHECK (pairs >= 0),
        oldest  INTEGER NOT NULL
      ) STRICT;
      INSERT INTO chio_trust_replay_peers (peer_id, pairs, oldest)
        SELECT peer_id, count(*), min(timestamp) FROM chio_trust_replay GROUP BY peer_id;
    `,
  },
  {
    // A pair's lifetime is its writer's: kept until keep_until = timestamp + the retentionSecs of
    // the store that reserved it, whatever retention the process that prunes it runs with
    // (review 53: each store pruned at its own retention, so a process with a smaller one, or a
    // replica running an older, lower setting, deleted pairs another process's larger skew still
    // relied on, and their envelopes were accepted again). Pairs written before this version
    // get the default retention, 7 days (the retention they were written under is unknown).
    // Each peer's lower bound moves from the timestamps to the keep_until values (the quota's
    // recount trigger, replay-store.ts); the column's rename also makes a version-2 process still
    // running on the file fail its reserves of new pairs (no such column: fail closed) instead of
    // writing pairs with keep_until 0, which the next prune would delete.
    version: 3,
    description: "replay pairs kept for their writer's retention",
    sql: `
      ALTER TABLE chio_trust_replay ADD COLUMN keep_until INTEGER NOT NULL DEFAULT 0 CHECK (keep_until BETWEEN 0 AND 9007199254740991);
      ALTER TABLE chio_trust_replay ADD COLUMN previous_keep_until INTEGER CHECK (previous_keep_until BETWEEN 0 AND 9007199254740991);
      UPDATE chio_trust_replay SET keep_until = min(timestamp + 604800, 9007199254740991),
        previous_keep_until = CASE WHEN previous_timestamp IS NULL THEN NULL ELSE min(previous_timestamp + 604800, 9007199254740991) END;
      DROP INDEX chio_trust_replay_by_timestamp;
      CREATE INDEX chio_trust_replay_by_keep_until ON chio_trust_replay (keep_until);
      ALTER TABLE chio_trust_replay_peers RENAME COLUMN oldest TO first_keep_until;
      UPDATE chio_trust_replay_peers SET first_keep_until =
        coalesce((SELECT min(r.keep_until) FROM chio_trust_replay r WHERE r.peer_id = chio_trust_replay_peers.peer_id), 0);
    `,
  },
  {
    // The file's retention floor: the largest retentionSecs any SqliteReplayStore has registered
    // on it (each does when it opens), and every reserve keeps its pair for at least that long
    // (review 77 F3: with each pair kept for its writer's retention alone, a process restarted
    // with a lower one, while another still ran a larger skew, wrote pairs the next prune deleted
    // while that other process still accepted their envelopes; lowering replicas one at a time
    // let replays through). One row (id 1), raised by every store and lowered only by
    // SqliteReplayStore.lowerRetentionFloor(). Created empty: the first store that opens the
    // file registers its own retention (the retentions of the processes that wrote the pairs
    // already on the file are unknown; those pairs keep their keep_until).
    version: 4,
    description: "replay retention floor shared by the stores of the file",
    sql: `
      CREATE TABLE chio_trust_replay_retention (
        id             INTEGER NOT NULL PRIMARY KEY CHECK (id = 1),
        retention_secs INTEGER NOT NULL CHECK (retention_secs BETWEEN 0 AND 9007199254740991)
      ) STRICT;
    `,
  },
];

/** The schema version this build writes and reads. */
export const SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1].version;

/** The members of SqliteOpenOptions, which every store's options extend. */
export const SQLITE_OPEN_OPTION_KEYS = ["busyTimeoutMs", "synchronous"] as const;

/**
 * The listed members of a store's options, each read once (a getter or Proxy trap runs once);
 * undefined means none. Not an object, a member that throws when read (the thrown value is the
 * `cause`) or a member not listed (a misspelt option): INVALID_ARGUMENT.
 */
export function readSqliteOptions<K extends string>(options: unknown, keys: readonly K[]): Partial<Record<K, unknown>> {
  return readSettings(options, "options", keys, (message, cause) => new SqliteStoreError("INVALID_ARGUMENT", message, cause === undefined ? undefined : { cause }));
}

/** Checks the open options (as readSqliteOptions read them); bad values are INVALID_ARGUMENT. */
function checkOpenOptions(read: Partial<Record<(typeof SQLITE_OPEN_OPTION_KEYS)[number], unknown>>): Required<SqliteOpenOptions> {
  const { busyTimeoutMs = 5000, synchronous = "full" } = read;
  if (typeof busyTimeoutMs !== "number" || !isSafeInteger(busyTimeoutMs) || busyTimeoutMs < 0 || busyTimeoutMs > 2 ** 31 - 1) {
    throw new SqliteStoreError("INVALID_ARGUMENT", "busyTimeoutMs must be an integer in 0..2147483647");
  }
  if (synchronous !== "full" && synchronous !== "normal") throw new SqliteStoreError("INVALID_ARGUMENT", 'synchronous must be "full" or "normal"');
  return { busyTimeoutMs, synchronous };
}

/**
 * Opens (creating if needed) a chio-trust SQLite file and brings its schema to SCHEMA_VERSION;
 * `checkFile` throws FILE_MOVED once `path` no longer names the file opened (fileCheck).
 * @throws SqliteStoreError CANNOT_OPEN, NOT_A_DATABASE, CORRUPT_DATABASE, FOREIGN_DATABASE,
 * SCHEMA_TOO_NEW, DATABASE_BUSY, READ_ONLY, INVALID_ARGUMENT. The connection is closed on a throw.
 */
export function openChioDatabase(
  path: string,
  options: Partial<Record<(typeof SQLITE_OPEN_OPTION_KEYS)[number], unknown>>,
): { db: Database.Database; checkFile: () => void } {
  if (typeof path !== "string" || path.length === 0 || path.includes("\0")) {
    throw new SqliteStoreError("INVALID_ARGUMENT", "path must be a non-empty string without NUL");
  }
  const { busyTimeoutMs, synchronous } = checkOpenOptions(options);
  refuseTooShortForSqlite(path);
  let db: Database.Database;
  try {
    // No prototype: better-sqlite3 reads `readonly`, `verbose`, `nativeBinding`, ... with `in`,
    // which would find members put on Object.prototype.
    db = new Database(path, { __proto__: null, timeout: busyTimeoutMs } as Database.Options);
  } catch (cause) {
    const error = toStoreError(cause, `cannot open ${path}`);
    throw readOnlyIfSo(error.code === "SQLITE_ERROR" ? new SqliteStoreError("CANNOT_OPEN", error.message, { cause }) : error, path);
  }
  const checkFile = fileCheck(path); // the file SQLite has just opened
  try {
    // The first statement reads the header: a file that is not a database fails here (NOT_A_DATABASE).
    identify(db, path);
    if (path !== ":memory:") {
      // SQLite's own busy handler off while whenNotBusy waits: with it on, each try could wait
      // busyTimeoutMs itself (a reader holding its lock), and the counted tries multiplied that
      // (300 ms took 19 s: review 159); back on for the connection's statements.
      db.pragma("busy_timeout = 0");
      const mode = whenNotBusy(busyTimeoutMs, () => db.pragma("journal_mode = WAL", { simple: true }));
      db.pragma(`busy_timeout = ${busyTimeoutMs}`);
      if (mode !== "wal") throw new SqliteStoreError("SQLITE_ERROR", `${path}: journal_mode is ${String(mode)}, WAL could not be set`);
    }
    db.pragma(`synchronous = ${synchronous === "full" ? "FULL" : "NORMAL"}`);
    db.defaultSafeIntegers(true); // integers come back as bigint and are range-checked when decoded
    migrate(db, path);
    // The -wal and -shm this connection now holds open, named after the file as SQLite resolved
    // it (through a symlink: the target's name), which is what SQLite names them after.
    const opened = column(db.prepare("SELECT file FROM pragma_database_list WHERE name = 'main'").get() as object, "file");
    const checkSidecars = sidecarCheck(path, typeof opened === "string" ? opened : "", checkFile);
    return { db, checkFile: () => (checkFile(), checkSidecars()) };
  } catch (cause) {
    try {
      db.close();
    } catch {
      // already failing; the original error is the one to report
    }
    throw readOnlyIfSo(toStoreError(cause, path), path);
  }
}

/**
 * @internal `read(db)` on a read-only connection to the chio-trust file at `path` that writes
 * nothing, in the file or beside it: the CLI's `peers`, on every file, whether this process can
 * write it or not (hunt 54: one it could not write was READ_ONLY; hunt 57: one it could was
 * opened as a store, and a listing upgraded an older schema). The connection is closed before
 * this returns or throws.
 * A read-only SQLite connection to a WAL file creates its -wal and -shm when they are missing and
 * cannot remove them again (nor could the read-write open, refused READ_ONLY, which left both
 * behind, owned by the listing user). So: with the -wal and -shm there (a store in use, or left
 * by a crash), SQLite reads through them and creates nothing; with neither, the writers have
 * checkpointed everything into the file, which is read whole into memory (unchanged while read,
 * by its fstat, else read again) and opened from there; a -wal without its -shm is READ_ONLY
 * (the reader would have to create it). No migration: the pins' table is the same in every
 * schema version; a newer one is SCHEMA_TOO_NEW.
 * The writer holding the -wal and -shm can close its last connection between that look and the
 * open, removing both; SQLite, opening the file, then makes a new pair, which it leaves behind
 * (hunt 57), or, in a folder this process cannot write, fails (SQLITE_READONLY_DIRECTORY). So the
 * -wal is held open from the look on (its inode cannot be reused meanwhile) and compared, after
 * the read, with the one at its name: another one (or none) means the read did not go through
 * it. The read is then kept if it succeeded (SQLite read the file under its own locks), and
 * retried once (by the copy, as nothing is there now) if it failed; and a new -wal still empty
 * is removed the way SQLite removes it, by the close of the file's last connection, here one
 * opened for that which writes nothing (query_only) and checkpoints nothing (an empty log): if
 * any other connection holds the file, the pair is its and stays. That close needs write access
 * to the file: a file only the folder lets this process write keeps the pair in that race.
 * For this process alone (the CLI): the -wal is opened and closed beside SQLite's connections,
 * which hold no lock on it.
 * @throws SqliteStoreError CANNOT_OPEN, NOT_A_DATABASE, CORRUPT_DATABASE, FOREIGN_DATABASE,
 * SCHEMA_TOO_NEW, DATABASE_BUSY, READ_ONLY, INVALID_ARGUMENT, and what `read` throws.
 */
export function readChioDatabaseReadOnly<T>(path: string, read: (db: Database.Database) => T): T {
  return readSqliteReadOnly(path, (db) => {
    try {
      identify(db, path);
      db.defaultSafeIntegers(true);
      const table = db.prepare("SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = 'chio_trust_schema'").get();
      if (table === undefined) throw new SqliteStoreError("CORRUPT_DATABASE", `${path} carries no chio-trust schema table`);
      const current = schemaVersion(db);
      if (current > SCHEMA_VERSION) {
        throw new SqliteStoreError("SCHEMA_TOO_NEW", `${path} has schema version ${current}; this chio-trust reads up to ${SCHEMA_VERSION}`);
      }
    } catch (cause) {
      throw toStoreError(cause, path);
    }
    return read(db);
  });
}

/**
 * @internal readChioDatabaseReadOnly's read of any SQLite file, without its checks that the file
 * is a chio-trust store: also the CLI's `peers` check of a file that is not yet a store, when a
 * -wal lies beside it (src/cli/kernel.ts), whose own read-only connection made a -wal and -shm in
 * the same race (hunt 57).
 */
export function readSqliteReadOnly<T>(path: string, read: (db: Database.Database) => T): T {
  if (typeof path !== "string" || path.length === 0 || path.includes("\0") || path === ":memory:") {
    throw new SqliteStoreError("INVALID_ARGUMENT", "path must name a file");
  }
  refuseTooShortForSqlite(path);
  let readAgain = true;
  for (let looks = 1; ; looks++) {
    // Named as SQLite names them: after the file the path's links resolve to. After the link, a
    // store held by a writer was read from a copy of its file without the writer's log (hunt 57).
    const sidecar = sidecarStem(path);
    const log = openIfThere(`${sidecar}-wal`);
    try {
      if (log === "absent") return readOpened(openReadOnly(path, true), read);
      // A writer makes the -wal before the -shm when it opens the file, and removes the -shm
      // first when it closes it: a -wal alone is most often one of those moments, which failed
      // the listing READ_ONLY (hunt 57). Waited for, a while: the -shm comes, or the -wal goes
      // (look again); only a -wal alone that stays is READ_ONLY.
      if (!shmAppears(`${sidecar}-shm`, log, `${sidecar}-wal`)) {
        if (typeof log === "number" && !sameFile(log, `${sidecar}-wal`) && looks < MAX_LOOKS) continue;
        throw new SqliteStoreError("READ_ONLY", `${path}-wal lies beside ${path} without its -shm, which reading it would create: open the store once with write access`);
      }
      let result: { value: T } | { error: unknown };
      try {
        result = { value: readOpened(openReadOnly(path), read) };
      } catch (error) {
        result = { error };
      }
      if (log !== "unreadable" && !sameFile(log, `${sidecar}-wal`)) {
        removeEmptyLogOfNoConnection(path, `${sidecar}-wal`);
        if ("error" in result && readAgain && looks < MAX_LOOKS) {
          readAgain = false;
          continue;
        }
      }
      if ("error" in result) throw result.error;
      return result.value;
    } finally {
      if (typeof log === "number") closeSync(log);
    }
  }
}

/** How many times readChioDatabaseReadOnly looks for the -wal and -shm before it gives up. */
const MAX_LOOKS = 10;
/** How long (in BUSY_PAUSE_MS pauses: 1 s) it waits for the -shm of a -wal that is there alone. */
const SHM_WAIT_PAUSES = 200;

/**
 * Whether the -shm `shm` is there, or comes while the -wal `wal` stays the file open as `log`
 * (within SHM_WAIT_PAUSES). `log` "unreadable": only whether it is there now.
 */
function shmAppears(shm: string, log: number | "unreadable", wal: string): boolean {
  for (let pauses = SHM_WAIT_PAUSES; ; pauses--) {
    if (fileIdentity(shm) !== undefined) return true;
    if (log === "unreadable" || pauses <= 0 || !sameFile(log, wal)) return false;
    sleepSync(BUSY_PAUSE_MS);
  }
}

/** A read-only connection to the file `path`, or with `copy` to its bytes read into memory (fileSnapshot). */
function openReadOnly(path: string, copy = false): Database.Database {
  try {
    return copy
      ? new Database(fileSnapshot(path), { __proto__: null, readonly: true } as Database.Options)
      : new Database(path, { __proto__: null, readonly: true, fileMustExist: true } as Database.Options);
  } catch (cause) {
    const error = toStoreError(cause, `cannot open ${path}`);
    throw error.code === "SQLITE_ERROR" ? new SqliteStoreError("CANNOT_OPEN", error.message, { cause }) : error;
  }
}

/** `read(db)`, then `db` closed. */
function readOpened<T>(db: Database.Database, read: (db: Database.Database) => T): T {
  try {
    return read(db);
  } finally {
    db.close();
  }
}

/**
 * A read-only descriptor of `file`; "absent" when there is none; "unreadable" when one is there
 * that this process cannot open (SQLite's open says what it makes of it, as before: no check).
 */
function openIfThere(file: string): number | "absent" | "unreadable" {
  try {
    return openSync(file, "r");
  } catch (error) {
    return (error as { code?: unknown })?.code === "ENOENT" ? "absent" : "unreadable";
  }
}

/** Whether `file` names the file open as `fd` (the same device and inode). */
function sameFile(fd: number, file: string): boolean {
  const now = fileIdentity(file);
  const held = fstatSync(fd, { bigint: true });
  return now !== undefined && now.dev === held.dev && now.ino === held.ino;
}

/**
 * Removes the -wal `log` (and its -shm) of `path` if the log is empty and no connection holds
 * the file, as SQLite does: by closing the file's last connection, opened here to write nothing.
 * Errors are ignored: this only tidies what a read in a race made.
 */
function removeEmptyLogOfNoConnection(path: string, log: string): void {
  try {
    if (statSync(log).size !== 0) return; // frames a writer wrote: its, like a crash's
  } catch {
    return; // none
  }
  let db: Database.Database | undefined;
  try {
    db = new Database(path, { __proto__: null, fileMustExist: true } as Database.Options);
    db.pragma("query_only = 1");
    db.prepare("SELECT count(*) FROM sqlite_schema").get(); // opens the log, under SQLite's SHARED lock
  } catch {
    // nothing to tidy with
  } finally {
    try {
      db?.close(); // the last connection: an empty log checkpointed (nothing), then removed with its -shm
    } catch {
      // as above
    }
  }
}


/**
 * The bytes of the SQLite file at `path`, read while its fstat (size, mtime, ctime) stays the
 * same (a checkpoint writing into it meanwhile: read again, up to 5 times, then DATABASE_BUSY),
 * with a WAL file's header marked as a rollback one (bytes 18 and 19, 2 to 1: an in-memory copy
 * has no -shm to read a log through, and a checkpointed file needs none).
 */
function fileSnapshot(path: string): Buffer {
  const fd = openSync(path, "r");
  try {
    for (let attempt = 0; attempt < 5; attempt++) {
      const before = fstatSync(fd, { bigint: true });
      const size = toNumber(before.size);
      const bytes = Buffer.alloc(size);
      let read = 0;
      while (read < size) {
        const n = readSync(fd, bytes, read, size - read, read);
        if (n === 0) break;
        read += n;
      }
      const after = fstatSync(fd, { bigint: true });
      if (read !== size || after.size !== before.size || after.mtimeNs !== before.mtimeNs || after.ctimeNs !== before.ctimeNs) continue;
      if (size >= 100 && bytes[18] === 2 && bytes[19] === 2) {
        bytes[18] = 1;
        bytes[19] = 1;
      }
      return bytes;
    }
  } finally {
    closeSync(fd);
  }
  throw new SqliteStoreError("DATABASE_BUSY", `${path} kept changing while it was read`);
}

/**
 * A check that `path` still names the file SQLite opened (the same device and inode), else
 * SqliteStoreError FILE_MOVED; each store runs it before every call. SQLite goes on with the file
 * it opened: deleted under an open store (`rm trust.db`) or replaced (another file renamed over
 * it, a backup restored), the store kept trusting the pins and taking the nonces of a file no
 * other process opens again, while every process that opened the path got the other one, so an
 * envelope was accepted on each side and a deleted pin still trusted (hunt 25). The path is
 * resolved once, now, as SQLite resolves it at open: a later chdir moves neither. One stat per
 * call, beside its transaction (and two for the -wal and -shm: sidecarCheck).
 */
function fileCheck(path: string): () => void {
  if (path === ":memory:") return () => undefined;
  // Not path.resolve on POSIX: it takes `link/..` away as text, where the kernel and SQLite take
  // the parent of the link's target, so the check watched another file than the store's (or none,
  // FILE_MOVED at open). Only the cwd is prefixed; the kernel reads the rest as SQLite did.
  const absolute = process.platform === "win32" ? resolvePath(path) : isAbsolute(path) ? path : `${process.cwd()}/${path}`;
  const opened = fileIdentity(absolute);
  return () => {
    const now = fileIdentity(absolute);
    if (opened === undefined || now === undefined || now.dev !== opened.dev || now.ino !== opened.ino) {
      throw new SqliteStoreError("FILE_MOVED", `${path} is no longer the file this store opened (deleted, renamed or replaced since): nothing read or written; reopen the store`);
    }
  };
}

/**
 * A check that `path`-wal and `path`-shm are still the files this connection opened, else
 * FILE_MOVED, run after fileCheck's. SQLite deletes them only when the last connection to the
 * file closes, so while this one is open a missing or other one was removed or replaced by
 * someone else (a clean-up of "stray" files, `rm trust.db-shm`): a process opening the file then
 * made a fresh -shm, rebuilt its index from the log, and from then on each process read and wrote
 * the log by an index of its own, so each accepted the same envelopes (both processes reserved
 * every new nonce: hunt 40), and a removed -wal left this connection logging into a file no
 * other process can read. Missing or other already at open (a store of this process still holds
 * the removed ones, which SQLite shares among the connections of a process): FILE_MOVED at once.
 * Not covered: a removal while a call runs (between the check and its transaction). `absolute`
 * is the file's name as SQLite holds it (PRAGMA database_list; "" if it gave none: FILE_MOVED).
 */
function sidecarCheck(path: string, absolute: string, checkFile: () => void): () => void {
  if (path === ":memory:") return () => undefined;
  const wal = fileIdentity(`${absolute}-wal`);
  const shm = fileIdentity(`${absolute}-shm`);
  const check = () => {
    const walNow = fileIdentity(`${absolute}-wal`);
    const shmNow = fileIdentity(`${absolute}-shm`);
    if (absolute === "" || wal === undefined || shm === undefined || walNow === undefined || shmNow === undefined || walNow.dev !== wal.dev || walNow.ino !== wal.ino || shmNow.dev !== shm.dev || shmNow.ino !== shm.ino) {
      throw new SqliteStoreError(
        "FILE_MOVED",
        `${path}-wal or ${path}-shm is no longer the file this store opened (deleted or replaced while the file was open): nothing read or written; close every store of this process on ${path} and reopen`,
      );
    }
  };
  checkFile();
  check();
  return check;
}

/** Device and inode of the file at `path` (bigints: a 64-bit inode can pass 2^53), undefined when there is none to stat. */
function fileIdentity(path: string): { dev: bigint; ino: bigint } | undefined {
  try {
    return statSync(path, { bigint: true, throwIfNoEntry: false });
  } catch {
    return undefined;
  }
}

/**
 * READ_ONLY for a CANNOT_OPEN on a read-only file system, or for a new file in a folder this
 * process cannot write. There SQLite cannot create a WAL file's `-shm` (or the file itself) and
 * answers SQLITE_CANTOPEN, which says nothing of why (review 53: the README promises READ_ONLY for
 * a read-only mount or folder, as for a file mode; a new file in a folder of mode 0555 was still
 * CANNOT_OPEN). Asked of the file, or of its folder when there is no file yet, only after the open
 * failed. A missing folder, or one this process cannot search, stays CANNOT_OPEN.
 */
function readOnlyIfSo(error: SqliteStoreError, path: string): SqliteStoreError {
  if (error.code !== "CANNOT_OPEN" || path === ":memory:") return error;
  const targets = [path, dirname(path)];
  for (let i = 0; i < 2; i++) {
    const target = targets[i];
    try {
      accessSync(target, fsConstants.W_OK);
      return error;
    } catch (cause) {
      const code = (cause as { code?: unknown })?.code;
      if (code === "EROFS") return new SqliteStoreError("READ_ONLY", `${error.message} (a read-only file system)`, { cause: error.cause ?? error, sqliteCode: error.sqliteCode });
      // The folder of a file not there yet: it exists (its access was not ENOENT) and can be
      // searched (the file's was ENOENT, not EACCES), but not written.
      if (i === 1 && (code === "EACCES" || code === "EPERM")) return new SqliteStoreError("READ_ONLY", `${error.message} (its folder is not writable)`, { cause: error.cause ?? error, sqliteCode: error.sqliteCode });
      if (code !== "ENOENT") return error;
    }
  }
  return error;
}

/**
 * @internal The application id in `db`'s header and the number of objects (tables, indexes, views,
 * triggers) in its schema, read by one statement, so from one snapshot (see identify). Also the
 * CLI's `peers` check of a file that is not yet a store (src/cli/kernel.ts).
 */
export function databaseIdentity(db: Database.Database): { applicationId: number; objects: number } {
  const row = db.prepare("SELECT (SELECT application_id FROM pragma_application_id()) AS id, (SELECT count(*) FROM sqlite_schema) AS n").get() as {
    id: number | bigint;
    n: number | bigint;
  };
  return { applicationId: toNumber(column(row, "id")), objects: toNumber(column(row, "n")) };
}

/**
 * NOT_A_DATABASE for a regular file of 1 to 99 bytes: shorter than an SQLite header (100 bytes),
 * so no database's, and SQLite's unix layer reads a 1-byte file as empty, so the open claimed it
 * and wrote a database over it (a flag file named by mistake: hunt 20). An empty file is a new
 * store's to claim; ":memory:" is SQLite's (better-sqlite3 opens no URI filenames: "file:x" is
 * a file of that name), and an unreadable path is the open's to report.
 */
function refuseTooShortForSqlite(path: string): void {
  if (path === ":memory:") return;
  let size: number;
  try {
    const stats = statSync(path, { throwIfNoEntry: false });
    if (stats === undefined || !stats.isFile()) return;
    size = stats.size;
  } catch {
    return;
  }
  if (size > 0 && size < SQLITE_HEADER_BYTES) {
    throw new SqliteStoreError("NOT_A_DATABASE", `${path} is ${size} bytes, shorter than an SQLite header: not a database`);
  }
}

/** Bytes of an SQLite database file's header (https://www.sqlite.org/fileformat2.html §1.3). */
const SQLITE_HEADER_BYTES = 100;

/**
 * Refuses files that belong to another application, before anything is written to them. The id
 * and the table count are read by one statement, so from one snapshot: read apart, a process
 * creating the same file at that moment (replicas started together) could commit between the two
 * reads, and our own file would read as one with tables but no id (review-34 C3).
 */
function identify(db: Database.Database, path: string): void {
  const { applicationId, objects } = databaseIdentity(db);
  if (applicationId === CHIO_APPLICATION_ID) return;
  if (applicationId !== 0) {
    throw new SqliteStoreError("FOREIGN_DATABASE", `${path} belongs to another application (application_id 0x${applicationId.toString(16)})`);
  }
  if (objects !== 0) {
    throw new SqliteStoreError("FOREIGN_DATABASE", `${path} is an SQLite database of another application (it has tables but no chio-trust id)`);
  }
}

/**
 * `run()`, tried again while SQLite answers SQLITE_BUSY, for up to `busyTimeoutMs`. Switching a
 * file to WAL answers BUSY at once, without the busy handler, while another connection converts
 * or migrates it; waiting here (synchronously, as the busy handler itself does) lets replicas
 * that open a new file together all open it instead of failing with DATABASE_BUSY.
 */
function whenNotBusy<T>(busyTimeoutMs: number, run: () => T): T {
  // Counted in pauses, not read off a clock: with Date.now frozen (fake timers) or stepped back,
  // a deadline on it kept the open waiting as long as another process held its lock, past
  // busyTimeoutMs (hunt 20). Each pause is BUSY_PAUSE_MS of real time (Atomics.wait).
  for (let pauses = ceilDiv(busyTimeoutMs, BUSY_PAUSE_MS); ; pauses--) {
    try {
      return run();
    } catch (error) {
      const code = (error as { code?: unknown })?.code;
      if (typeof code !== "string" || !stringStartsWith(code, "SQLITE_BUSY") || pauses <= 0) throw error;
      sleepSync(BUSY_PAUSE_MS);
    }
  }
}

const BUSY_PAUSE_MS = 5;
const ceilDiv = (a: number, b: number) => mathFloor((a + b - 1) / b);

/**
 * For sleepSync, made at load: code that hardens a process by deleting SharedArrayBuffer later
 * left the pause a loop on Date.now, which never ended with that clock frozen (hunt 20).
 */
const sleeper: Int32Array | undefined = typeof SharedArrayBuffer === "function" ? new Int32Array(new SharedArrayBuffer(4)) : undefined;
/**
 * Blocks the thread for about `ms`: Atomics.wait, or where SharedArrayBuffer was off from the
 * start a loop on performance.now (as loaded), bounded in turns too, so that a clock frozen by
 * fake timers cannot hold it for good (hunt 20).
 */
function sleepSync(ms: number): void {
  if (sleeper !== undefined) {
    atomicsWait(sleeper, 0, 0, ms);
    return;
  }
  const end = performanceNow() + ms;
  for (let turns = 0; turns < ms * SPIN_TURNS_PER_MS && performanceNow() < end; turns++);
}
const atomicsWait = Atomics.wait;
const performanceNow = performance.now.bind(performance);
/** Bound on sleepSync's loop: more turns per millisecond than a read of performance.now allows on current hardware (each takes tens of ns). */
const SPIN_TURNS_PER_MS = 100_000;

/** Runs every missing migration; the check and the migrations share one IMMEDIATE transaction. */
function migrate(db: Database.Database, path: string): void {
  const run = db.transaction(() => {
    const applicationId = toNumber(db.pragma("application_id", { simple: true })); // simple: the value itself, no row object
    let current = 0;
    if (applicationId === 0) {
      // Re-checked under the write lock: another process may have claimed the file meanwhile.
      const objects = db.prepare("SELECT count(*) AS n FROM sqlite_schema").get() as { n: bigint };
      if (toNumber(column(objects, "n")) !== 0) throw new SqliteStoreError("FOREIGN_DATABASE", `${path} is an SQLite database of another application`);
      db.pragma(`application_id = ${CHIO_APPLICATION_ID}`);
      db.exec("CREATE TABLE chio_trust_schema (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL, description TEXT NOT NULL) STRICT");
    } else {
      const table = db.prepare("SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = 'chio_trust_schema'").get();
      if (table === undefined) throw new SqliteStoreError("CORRUPT_DATABASE", `${path} carries the chio-trust id but no schema table`);
      const row = db.prepare("SELECT max(version) AS v FROM chio_trust_schema").get() as { v: bigint | null };
      const v = column(row, "v");
      current = v === null ? 0 : toNumber(v);
    }
    if (current > SCHEMA_VERSION) {
      throw new SqliteStoreError("SCHEMA_TOO_NEW", `${path} has schema version ${current}; this chio-trust reads up to ${SCHEMA_VERSION}`);
    }
    const record = db.prepare("INSERT INTO chio_trust_schema (version, applied_at, description) VALUES (?, ?, ?)");
    // By index, not the realm's array iterator, which caller code can replace (README "Hardening").
    for (let i = 0; i < MIGRATIONS.length; i++) {
      const migration = MIGRATIONS[i];
      if (migration.version <= current) continue;
      db.exec(migration.sql);
      record.run(migration.version, mathFloor(Date.now() / 1000), migration.description);
    }
    // A write that changes nothing, so that a file this connection cannot write (mode 0444 in a
    // writable folder) is READ_ONLY at open for every store, not at the first pin (review-34 C6).
    db.prepare("DELETE FROM chio_trust_schema WHERE 0").run();
  });
  run.immediate();
}

/** The schema version recorded in an open chio-trust file. */
export function schemaVersion(db: Database.Database): number {
  const row = db.prepare("SELECT max(version) AS v FROM chio_trust_schema").get() as { v: bigint | null };
  const v = column(row, "v");
  return v === null ? 0 : toNumber(v);
}

/**
 * The column `name` of a row better-sqlite3 returned, read only as the row's own member, else
 * CORRUPT_ROW (fail closed). The driver fills a row object by assignment (under Node 20), so an
 * accessor put on Object.prototype under a column's name takes the column's value, which then
 * is no member of the row, and would answer for it: a held pair read as expired, a stranger's
 * key read as the pin (README "Hardening").
 */
export function column(row: object, name: string): unknown {
  if (!hasOwnMember(row, name)) throw new SqliteStoreError("CORRUPT_ROW", `the row read has no column ${name} of its own (a member of Object.prototype took it)`);
  return (row as Record<string, unknown>)[name];
}

/**
 * Row `index` of the rows `.all()` returned, read only as the list's own element, else CORRUPT_ROW
 * (`what` names the list): the driver fills that array by assignment too, so an accessor on
 * Array.prototype for an index would answer for the row (README "Hardening").
 */
export function rowAt(rows: readonly object[], index: number, what: string): object {
  if (!hasOwnMember(rows, index)) throw new SqliteStoreError("CORRUPT_ROW", `row ${index} of ${what} is no element of its own (a member of Array.prototype took it)`);
  return rows[index]!;
}

/** A bigint column as a safe non-negative integer, else CORRUPT_ROW. */
export function safeColumn(value: unknown, column: string): number {
  if (typeof value === "bigint" && value >= 0n && value <= MAX_SAFE_BIGINT) return toNumber(value);
  if (typeof value === "number" && isSafeInteger(value) && value >= 0) return value;
  throw new SqliteStoreError("CORRUPT_ROW", `column ${column} holds ${typeof value === "bigint" ? `${value}` : typeof value}, not a safe non-negative integer`);
}

/** A string usable as a key: well-formed UTF-16 (SQLite stores UTF-8, where lone surrogates would collapse into U+FFFD). */
export function expectKeyText(value: unknown, name: string): string {
  if (typeof value !== "string") throw new SqliteStoreError("INVALID_ARGUMENT", `${name} must be a string`);
  if (hasLoneSurrogate(value)) throw new SqliteStoreError("INVALID_ARGUMENT", `${name} holds a lone surrogate and cannot be stored exactly`);
  return value;
}

/** Largest `now` prune() takes (unix seconds in the year 5138): Date.now() in milliseconds is far above it. */
export const MAX_PLAUSIBLE_UNIX_SECONDS = 1e11;

/**
 * This host's clock in unix seconds, or undefined when it reads no plausible time: not a safe
 * integer >= 0, or above MAX_PLAUSIBLE_UNIX_SECONDS, as the replay store's prune() refuses (and
 * as a pin's written_at, which the peer store reads back as such, must not be). Date.now() is the
 * realm's on purpose (fake timers set it); Math.floor is the one captured at load (README
 * "Hardening": a replaced one answering 10^12 would prune every pair). The prunes a store runs
 * by itself (at open, and pruneHorizon's) go no further than this, so a process whose clock reads
 * above 10^11 s (a clock in ms or µs) deletes no live pair of the file when it opens it; one ahead
 * by less still prunes what it takes to be past (README "Durable pins").
 */
export function hostClockSeconds(): number | undefined {
  const wall = mathFloor(Date.now() / 1000);
  return isSafeInteger(wall) && wall >= 0 && wall <= MAX_PLAUSIBLE_UNIX_SECONDS ? wall : undefined;
}
