// chio-trust/postgres: pins (FederationPeerStore) and replay protection (ReplayStore) in
// PostgreSQL, shared by every replica of a kernel (docs/protocol.md §6–§8).
//
// Client: node-postgres (`pg`), an optional peer dependency. It is the most used PostgreSQL
// client for Node, maintained since 2010, pure JavaScript (no native build), with a connection
// pool, parameterized queries and client-side query timeouts; it accepts a URL or an existing
// pool or client, so applications that already run pg share their pool. postgres.js would do
// too; pg is what most deployments already have.
//
// Every write is one SQL statement, so its atomicity is PostgreSQL's, across processes:
// - compareAndSet is a conditional INSERT … ON CONFLICT DO NOTHING (expected none) or an
//   UPDATE … WHERE all four fields equal (expected entry). Under READ COMMITTED a concurrent
//   UPDATE re-checks its WHERE against the row the winner wrote, so exactly one of N wins; under
//   a stricter default isolation the losers are aborted with a serialization failure, read as a
//   lost race (rowsOrLostRace).
// - reserve is one INSERT … ON CONFLICT DO UPDATE … WHERE the held pair is dead under the skew
//   asked with: it inserts a new pair, takes over a dead one, or returns no row (held); it keeps
//   nothing once the server's clock is past `timestamp + skew` (PAST_WINDOW_ON_ENGINE_CLOCK; a
//   row written after a stall is undone, and stays held until swept if the undo fails).
// - the schema is created and migrated inside one DO block under a transaction-scoped advisory
//   lock, so replicas opening at once do not race (under any default isolation: migrate).
// Kernel ids and nonces are kept as their JSON string literal (src/stores/server-store.ts
// exactText): exact, NUL-free, compared byte for byte under COLLATE "C".
import { Socket } from "node:net";
import pg from "pg";
import type { Pool, PoolClient, Client, QueryResult, QueryResultRow } from "pg";
import { hardenClass, hasOwnMember, isArray, isSafeInteger, MAX_SAFE_BIGINT, ownCode, ownList, ownListAsArray, SetAtLoad, setAdd, stringStartsWith, utf8Length, type OwnList } from "../bytes.js";
import { describeThrown, instanceOfOrFalse, InvalidTypeError } from "../errors.js";
import { InvalidConfigError, InvalidTimeError } from "../handshake/errors.js";
import { FederationPeer } from "../handshake/peer.js";
import { expectCompareAndSet, expectReplayPair, type FederationPeerStore, type ReplayStore } from "../handshake/ports.js";
import {
  checkReserveArguments,
  DEFAULT_MAX_IN_FLIGHT,
  DEFAULT_STORE_MAX_KEY_UNITS,
  DEFAULT_STORE_MAX_SKEW_SECS,
  DEFAULT_STORE_TIMEOUT_MS,
  engineClockAhead,
  exactText,
  fromExactText,
  MAX_STORE_SKEW_SECS,
  CallsInFlight,
  InFlightTokens,
  integerOption,
  pairFits,
  pastWindowOnEngineClock,
  readOptions,
  REMOVED_ANYWAY,
  reservationToken,
  SharedStoreError,
  unavailable,
  whenSettled,
  withTimeout,
} from "./server-store.js";
import { mathCeil, mathMax, mathMin, PromiseAtLoad, regExpExec, toNumber } from "./builtins.js";
import { setDelete, setIteratorStep, setValues, weakSetAdd, weakSetHas } from "../collections.js";

export { SharedStoreError } from "./server-store.js";
export type { SharedStoreErrorCode } from "./server-store.js";
// The shared classes its option and argument checks throw (review 91 F8).
export { InvalidTypeError } from "../errors.js";
export { InvalidConfigError, InvalidTimeError } from "../handshake/errors.js";

/** Anything with pg's `query(text, values)`: a pg.Pool (preferred), a pg.Client or a PoolClient. */
export type PostgresQueryable = Pick<Pool, "query"> | Pick<Client, "query"> | Pick<PoolClient, "query">;

/** Options shared by both Postgres stores. */
export interface PostgresStoreOptions {
  /** Prefix of every table name: lowercase letters, digits and `_`, starting with a letter or `_`, ≤ 32 chars. Default "chio_". */
  tablePrefix?: string;
  /**
   * Bound on each store call, connecting included, in ms (1…600000). Default 2000. A store opened
   * from a URL also sets it as the server's `statement_timeout` (see setStatementTimeout); on a
   * pool or client you pass in, set that yourself.
   */
  operationTimeoutMs?: number;
  /**
   * Opened from a URL: send operationTimeoutMs as the server's `statement_timeout` (a startup
   * parameter), so that the server cancels a statement its caller has stopped waiting for.
   * Default true. Set false behind a pooler that refuses startup parameters (PgBouncer), and set
   * `statement_timeout` on the role instead (`ALTER ROLE … SET statement_timeout = …`).
   */
  setStatementTimeout?: boolean;
  /** Pool size when opened from a URL (1…1000). Default 10. */
  maxConnections?: number;
}

/** Options of PostgresReplayStore. */
export interface PostgresReplayStoreOptions extends PostgresStoreOptions {
  /**
   * The largest skew this store will ever be asked with (the exchange's maxHandshakeSkewSecs, on
   * every replica). Registered in the shared retention floor when the store opens: rows are swept
   * only after `timestamp + ` the largest maxSkewSecs any store on the table prefix registered
   * (PostgresReplayStore); a reserve asked with a skew above this store's own fails
   * (SKEW_ABOVE_RETENTION → STORE_FAILED). Default 300.
   */
  maxSkewSecs?: number;
  /** Longest peer id plus nonce, in UTF-16 code units, kept (longer: `fits` is false). Default 1024. */
  maxKeyUnits?: number;
  /** Sweep expired rows after every this many reservations (0: never; call sweep() yourself). Default 1000. */
  sweepEvery?: number;
  /** Most rows one sweep deletes (one bounded statement). Default 1000. */
  sweepBatch?: number;
}

/** Current schema version of each component; a database at a higher version is refused. */
const SCHEMA_VERSIONS = { peers: 1, replay: 1, replay_retention: 1 } as const;
/**
 * The connection strings pg parses as such (pg-connection-string): a URL with any scheme and an
 * authority (`postgres://`, `postgresql://`, `pg://`, a framework's `postgis://`: pg takes any
 * scheme but `socket:` as TCP), a `socket:` URL, or a socket directory path; and "", with which
 * pg connects as the PG* environment variables say.
 */
const CONNECTION_STRING = /^(?:$|[a-z][a-z0-9+.-]*:\/\/|socket:|\/)/i;
const TABLE_PREFIX = /^[a-z_][a-z0-9_]{0,31}$/;
const SHARED_OPTION_KEYS = ["tablePrefix", "operationTimeoutMs", "maxConnections", "setStatementTimeout"] as const;
// Spread as this module loads, not at call time: a replaced array iterator emptied the list (README "Hardening").
const REPLAY_OPTION_KEYS = [...SHARED_OPTION_KEYS, "maxSkewSecs", "maxKeyUnits", "sweepEvery", "sweepBatch"] as const;
/**
 * The SQLSTATEs of a statement the server ended before it finished, which the stores report as
 * STORE_TIMEOUT, as their own timer's (a stable code callers retry on; the statement did not
 * commit): query_canceled (57014), what it answers at statement_timeout, and also to a cancel
 * request (an operator's pg_cancel_backend(), a client's cancel); lock_not_available (55P03), what
 * it answers at lock_timeout, a user's bound on waiting for a lock (a role's, a database's or a
 * pool's setting; the stores never ask NOWAIT, its other source). 55P03 was STORE_UNAVAILABLE
 * (hunt 49). The code alone cannot tell a statement_timeout from a cancel (the server's message
 * can, but it is localized), so the message names both (hunt 58: it named statement_timeout only,
 * untrue after an operator's cancel).
 */
const SERVER_TIMEOUTS: Readonly<Record<string, string>> = {
  "57014": "cancelled by the server (SQLSTATE 57014 query_canceled): its statement_timeout passed, or an operator or client cancelled it (pg_cancel_backend)",
  "55P03": "refused by the server (SQLSTATE 55P03 lock_not_available): the statement waited for a lock past its lock_timeout",
};
/** How much later than the store's own timer pg's connection and query timers fire (Connection.create). */
const PG_TIMER_MARGIN_MS = 100;
/** SQLSTATE serialization_failure. */
const SERIALIZATION_FAILURE = "40001";
const DECIMAL = /^[0-9]{1,16}$/;
/** An identifier as quote_ident writes it: bare (lowercase letters, digits, _) or in double quotes, each " doubled. */
const QUOTED_IDENTIFIER = /^(?:[a-z_][a-z0-9_]*|"(?:[^"]|"")+")$/;
/** The quote of migrate's DO block body. */
const DO_BLOCK_QUOTE = /\$chio\$/;


/**
 * The rows of a compare-and-set or reserve statement, or none when the server aborted it with a
 * serialization failure. Under READ COMMITTED a statement that waited for a concurrent writer of
 * its row re-checks its WHERE against the row written; under a stricter default isolation (a
 * database's or role's setting, or a pool passed in) it is aborted instead. Nothing was written
 * then, and a concurrent writer changed the row, so the statement lost its race: false, as under
 * READ COMMITTED (review 47: a STORE_UNAVAILABLE, so a replica that lost a first contact failed
 * instead of adopting the winner's pin). Any other error is thrown as it is.
 */
async function rowsOrLostRace<R>(statement: Promise<R[]>): Promise<R[]> {
  try {
    return await statement;
  } catch (error) {
    if (isSerializationFailure(error)) return [];
    throw error;
  }
}

/** Whether `error` is Connection.query's error for a statement the server aborted with a serialization failure. */
function isSerializationFailure(error: unknown): boolean {
  return instanceOfOrFalse(SharedStoreError, error) && hasOwnMember(error, "cause") && ownCode(error.cause) === SERIALIZATION_FAILURE;
}

/**
 * How many times a statement that only raises a shared value (the replay retention floor) is sent,
 * outside an open, when concurrent writers abort it with serialization failures under a stricter
 * default isolation (an open retries within its own bound).
 */
const SERIALIZATION_RETRIES = 8;
const mathRandom = Math.random; // the pause between those tries: no secret, only spread

/** The connection and settings both stores use. */
class Connection {
  readonly prefix: string;
  readonly timeoutMs: number;
  /**
   * The schema the tables are in, as the server quotes it (quote_ident): current_schema() when the
   * store opened (resolveSchema), the schema an unqualified CREATE TABLE uses. Every statement
   * names its tables with it, so a connection whose search_path was changed since (a `SET
   * search_path` an application ran on a pooled connection of a pool passed in, a pooler's shared
   * session, an `ALTER ROLE … SET search_path`) still reaches the same tables: with unqualified
   * names a replay store reserved a pair in one schema and took the same pair again in another
   * that held tables of the same prefix (hunt 45).
   */
  #schema: string | undefined;
  readonly #db: PostgresQueryable;
  /** #db when it is a pg Pool (opened from a URL, or passed in): statements go through #send's own checkout. */
  readonly #pool: Pool | undefined;
  readonly #owned: Pool | undefined;
  /** The sockets of the pool the store opened (from a URL), ended by close(): see OwnSockets. */
  readonly #sockets: OwnSockets | undefined;
  #closed = false;
  /** How each call in flight is refused if the store is closed under it (close). */
  /** The calls in flight, refused STORE_CLOSED when the store closes (pg's pool serves none still waiting for a connection once ended: helper 143). */
  readonly #inFlight = new CallsInFlight();

  private constructor(db: PostgresQueryable, owned: Pool | undefined, sockets: OwnSockets | undefined, prefix: string, timeoutMs: number) {
    this.#db = db;
    this.#pool = owned ?? (isPgPool(db) ? db : undefined);
    this.#owned = owned;
    this.#sockets = sockets;
    this.prefix = prefix;
    this.timeoutMs = timeoutMs;
  }

  static create(urlOrClient: unknown, read: Partial<Record<(typeof SHARED_OPTION_KEYS)[number], unknown>>): Connection {
    // Defaults on undefined only: null is refused like any other wrong value, as the integer
    // options refuse it (hunt 18: `tablePrefix: null` opened on the shared default "chio_").
    const prefix = read.tablePrefix === undefined ? "chio_" : read.tablePrefix;
    if (typeof prefix !== "string" || regExpExec(TABLE_PREFIX, prefix) === null) {
      throw new InvalidConfigError("tablePrefix must be 1–32 of [a-z0-9_], starting with a letter or _");
    }
    const timeoutMs = integerOption(read.operationTimeoutMs, "operationTimeoutMs", DEFAULT_STORE_TIMEOUT_MS, 1, 600_000);
    const maxConnections = integerOption(read.maxConnections, "maxConnections", 10, 1, 1000);
    const setStatementTimeout = read.setStatementTimeout === undefined ? true : read.setStatementTimeout;
    if (typeof setStatementTimeout !== "boolean") throw new InvalidConfigError("setStatementTimeout must be a boolean");
    // pg decodes results in binary format as UTF-8 text (pg 8.23's pg-protocol), which corrupts
    // every integer whose bytes are not valid UTF-8: a pin read back with its rotationDue equal to
    // its establishedAt, say. Refused rather than misread (pg.defaults.binary applies to the
    // store's own pool too; a Pool, Client or PoolClient passed in carries its own setting).
    if (typeof urlOrClient === "object" && urlOrClient !== null ? readsBinary(urlOrClient) : pg.defaults.binary === true) {
      throw new InvalidConfigError("Postgres stores need pg's text result format: binary: true (in pg.defaults or the pool or client given) is refused, as pg decodes binary results as UTF-8 text and misreads integers");
    }
    if (typeof urlOrClient === "string") {
      // pg resolves any other text against "postgres://base" (pg-connection-string), so "not a url",
      // "db.example:5432/chio" or libpq's "host=… dbname=…" became STORE_UNAVAILABLE "getaddrinfo
      // ENOTFOUND base" at the first query (helper 135's walkthrough). Not repeated: it may hold a password.
      if (regExpExec(CONNECTION_STRING, urlOrClient) === null) {
        throw new InvalidConfigError("the Postgres connection string is neither a URL (scheme://…, as postgres://user@host/db), a socket: URL nor a socket path starting with / (not repeated here: it may hold a password)");
      }
      const sockets = new OwnSockets();
      const pool = new pg.Pool({
        connectionString: urlOrClient,
        // pg's default is a new net.Socket too (a TLS connection wraps it): made here so close() can end it.
        stream: sockets.make,
        max: maxConnections,
        // pg's own timers a little later than the store's (Connection.query): the store's fires
        // first and the call is STORE_TIMEOUT, as documented; with equal bounds, pg's timer, armed
        // first, won half the races with its own error, STORE_UNAVAILABLE (review 47).
        connectionTimeoutMillis: timeoutMs + PG_TIMER_MARGIN_MS,
        query_timeout: timeoutMs + PG_TIMER_MARGIN_MS,
        // The server's own bound on each statement. pg's query_timeout only stops waiting: the
        // statement keeps running, and one blocked on a lock would commit whenever the lock is
        // released, long after the caller was told STORE_TIMEOUT. With statement_timeout the
        // server cancels it instead, so a write can commit at most operationTimeoutMs after it
        // reached the server (README, "What they guarantee"). Parameters in the URL's query
        // string take precedence over these (pg's rule).
        ...(setStatementTimeout ? { statement_timeout: timeoutMs } : {}),
        idleTimeoutMillis: 10_000,
      });
      // An idle connection dropped by the server (a restart) is reported here; the pool discards
      // it and the next call connects again. Without a listener the error would end the process.
      pool.on("error", () => undefined);
      return new Connection(pool, pool, sockets, prefix, timeoutMs);
    }
    if (urlOrClient === null || typeof urlOrClient !== "object" || typeof (urlOrClient as { query?: unknown }).query !== "function") {
      throw new InvalidTypeError("Postgres stores open from a connection URL or a pg Pool / Client");
    }
    return new Connection(urlOrClient as PostgresQueryable, undefined, undefined, prefix, timeoutMs);
  }

  /**
   * One statement, bounded by the timeout, or by `deadline` (performance.now() time) when a call of
   * several statements shares one bound (an open, a reserve and its undo: helper 143, each statement
   * had a full bound of its own); driver errors become STORE_UNAVAILABLE, and a close() while it is
   * in flight STORE_CLOSED at once.
   */
  async query<R extends QueryResultRow>(operation: string, text: string, values: unknown[] = [], deadline?: number): Promise<R[]> {
    if (this.#closed) throw new SharedStoreError("STORE_CLOSED", `${operation}: the store is closed`);
    const bound = deadline === undefined ? this.timeoutMs : mathCeil(deadline - performance.now());
    if (bound <= 0) throw new SharedStoreError("STORE_TIMEOUT", `${operation}: no time left of the call's ${this.timeoutMs} ms`);
    const call = { refused: false };
    try {
      // withTimeout adopts a thenable itself, with no Promise.resolve looked up at call time.
      const result = await this.#inFlight.unlessClosed(withTimeout(this.#send<R>(operation, text, values, call), bound, operation), operation);
      if (result === null || typeof result !== "object" || !isArray(result.rows)) {
        throw new SharedStoreError("STORE_UNEXPECTED_REPLY", `${operation}: the driver returned no rows array`);
      }
      return result.rows;
    } catch (cause) {
      call.refused = true; // a statement still waiting for a pool connection is not sent (#send)
      // The server's statement_timeout can fire a moment before our own timer, its lock_timeout
      // long before: the same timeout. An operator's cancel gives the same 57014, and is reported
      // the same way (the statement did not commit), with a message that names both causes.
      const code = ownCode(cause);
      const serverEnded = typeof code === "string" && hasOwnMember(SERVER_TIMEOUTS, code) ? SERVER_TIMEOUTS[code] : undefined;
      if (serverEnded !== undefined) {
        throw new SharedStoreError("STORE_TIMEOUT", `${operation}: ${serverEnded}`, { cause });
      }
      throw unavailable(operation, cause);
    }
  }

  /**
   * Sends one statement. On a pg Pool through a connection taken with connect(), so that a call
   * refused while it waited in the pool's queue for one (the store closed, or the call's bound
   * passed) is not sent at all: Pool.query sent it once a connection freed, and pg's queue cannot
   * be emptied from outside, so on a pool passed in (which close() leaves open) a pin or pair was
   * written after close() had returned, or long after its caller was told STORE_TIMEOUT (hunt 26;
   * a Redis store drops its unwritten commands the same way). The checkout is Pool.query's own:
   * an error listener while the connection is out (a connection lost mid-statement emits one,
   * which unheard would end the process), and a connection whose statement failed is released
   * with the error, so the pool discards it. A Client or PoolClient passed in queues statements
   * itself, beyond reach: they are sent as they are. A statement that ran inside a transaction
   * block open on its connection is refused (inTransaction).
   */
  #send<R extends QueryResultRow>(operation: string, text: string, values: unknown[], call: { refused: boolean }): PromiseLike<QueryResult<R>> {
    const pool = this.#pool;
    if (pool === undefined) {
      const db = this.#db as Client;
      return new PromiseAtLoad<QueryResult<R>>((resolve, reject) => {
        // A thenable from a queryable passed in is adopted (whenSettled); a throw rejects.
        const send = () => {
          let answer: Promise<QueryResult<R>>;
          try {
            answer = db.query<R>({ text, values, types: STORE_TYPES });
          } catch (thrown) {
            return reject(thrown); // sent after the check, from a callback: a throw there would be lost
          }
          whenSettled(answer, (result) => (inTransaction(db) ? reject(ranInTransaction(operation)) : resolve(result)), reject);
        };
        if (weakSetHas(PRIMARIES, db)) return send();
        checkPrimary(db, operation, () => (call.refused || this.#closed ? reject(new SharedStoreError("STORE_CLOSED", "not sent: the call was refused while its connection was checked")) : send()), reject);
      });
    }
    return new PromiseAtLoad<QueryResult<R>>((resolve, reject) => {
      // The callback form: the listener is on before anything else can run (after an `await`
      // of connect(), an error the connection reported in the same tick would go unheard).
      pool.connect((error, client, release) => {
        if (error || client === undefined) return reject(error);
        let failure: Error | undefined;
        const onError = (lost: Error) => void (failure ??= lost);
        client.on("error", onError);
        const done = () => {
          client.removeListener("error", onError);
          release(failure);
        };
        if (call.refused || this.#closed) {
          done();
          return reject(new SharedStoreError("STORE_CLOSED", "not sent: the call was refused while it waited for a connection")); // nobody awaits it
        }
        const failed = (thrown: unknown) => {
          failure ??= instanceOfOrFalse(Error, thrown) ? (thrown as Error) : new Error("the statement failed");
          done();
          reject(thrown);
        };
        const send = () => {
          let answer: Promise<QueryResult<R>>;
          try {
            answer = client.query<R>({ text, values, types: STORE_TYPES });
          } catch (thrown) {
            return failed(thrown); // not into pg's callback, which would lose the connection
          }
          whenSettled(
            answer,
            (result) => {
              if (!inTransaction(client)) {
                done();
                return resolve(result);
              }
              const refusal = ranInTransaction(operation);
              failure ??= refusal; // released with it: the pool ends that connection, and its transaction
              done();
              reject(refusal);
            },
            failed,
          );
        };
        if (weakSetHas(PRIMARIES, client)) return send();
        // A connection's first use: released with the refusal on a standby, so the pool ends it
        // and the next call connects afresh (after a failover, perhaps to the new primary).
        checkPrimary(client, operation, () => {
          if (call.refused || this.#closed) {
            done();
            return reject(new SharedStoreError("STORE_CLOSED", "not sent: the call was refused while its connection was checked")); // nobody awaits it
          }
          send();
        }, failed);
      });
    });
  }

  /**
   * Fixes the schema of the tables (#schema) to current_schema() on the connection the open's
   * first statement takes. None (a search_path naming no schema that exists) is STORE_UNAVAILABLE,
   * as the CREATE TABLE was before ("no schema has been selected to create in").
   */
  async resolveSchema(deadline: number): Promise<void> {
    const rows = await this.query<{ schema: unknown }>("open", "SELECT quote_ident(current_schema()) AS schema", [], deadline);
    const schema = rows.length === 1 ? rows[0]?.schema : undefined;
    if (schema === null) throw new SharedStoreError("STORE_UNAVAILABLE", "open: the search_path names no schema that exists (current_schema() is null), so there is no schema for the tables");
    if (typeof schema !== "string" || regExpExec(QUOTED_IDENTIFIER, schema) === null) {
      throw new SharedStoreError("STORE_UNEXPECTED_REPLY", "open: current_schema() did not read back as a quoted identifier");
    }
    // The name goes into migrate's DO block, whose body is quoted as $chio$…$chio$.
    if (regExpExec(DO_BLOCK_QUOTE, schema) !== null) throw new SharedStoreError("STORE_UNAVAILABLE", "open: the name of the tables' schema holds $chio$, which the schema statement cannot carry");
    this.#schema = schema;
  }

  /** The schema-qualified name of table `<prefix><name>` (after resolveSchema). */
  table(name: string): string {
    if (this.#schema === undefined) throw new SharedStoreError("STORE_UNEXPECTED_REPLY", "the tables' schema was not resolved"); // resolveSchema runs first in every open
    return `${this.#schema}.${this.prefix}${name}`;
  }

  /** Creates or migrates one component's tables (idempotent, serialized across processes). */
  async migrate(component: keyof typeof SCHEMA_VERSIONS, create: string, deadline: number): Promise<void> {
    const p = this.prefix;
    const versions = this.table("schema_version");
    // One DO block is one transaction: the lock, the version table and the component's tables
    // appear together or not at all. The prefix is validated above, so it is safe in the text.
    await this.query(
      "migrate",
      `DO $chio$
DECLARE current integer;
BEGIN
  PERFORM pg_advisory_xact_lock(hashtext('chio-trust schema ${p}'));
  CREATE TABLE IF NOT EXISTS ${versions} (component text COLLATE "C" PRIMARY KEY, version integer NOT NULL);
  SELECT version INTO current FROM ${versions} WHERE component = '${component}';
  IF current IS NULL THEN
    -- Under a REPEATABLE READ or SERIALIZABLE default this block reads with the snapshot its
    -- statement took before the lock was granted: a process that waited for the one creating the
    -- tables sees no version row, and its own creation fails as a duplicate. Then the tables are
    -- the other's, and its subtransaction is undone (helper 157: opens failed with "relation
    -- already exists"); the version check below is a statement of its own, with a snapshot taken
    -- after that commit.
    BEGIN
      ${create}
      INSERT INTO ${versions} (component, version) VALUES ('${component}', ${SCHEMA_VERSIONS[component]});
    EXCEPTION WHEN duplicate_table OR unique_violation THEN
      NULL;
    END;
  END IF;
END
$chio$`,
      [],
      deadline,
    );
    const rows = await this.query<{ version: number }>("migrate", `SELECT version FROM ${versions} WHERE component = $1`, [component], deadline);
    const version = rows[0]?.version;
    if (typeof version !== "number") throw new SharedStoreError("STORE_UNEXPECTED_REPLY", `migrate: no schema version for ${component}`);
    if (version > SCHEMA_VERSIONS[component]) {
      throw new SharedStoreError(
        "SCHEMA_TOO_NEW",
        `${p}${component} is at schema version ${version}; this library knows up to ${SCHEMA_VERSIONS[component]}`,
      );
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#inFlight.refuseAll();
    if (this.#owned) {
      // end() ends the idle connections (a Terminate message each) and waits for the others to be
      // released: one running a statement (waiting on a lock, or on a stalled server) held close()
      // until the statement ended, up to statement_timeout, operationTimeoutMs, long after its
      // call had been refused STORE_CLOSED. The store's own sockets are ended at once instead, as
      // a Redis store ends its connection (README "Running a cluster", operationTimeoutMs); a statement already
      // running may still commit, the failed write of unknown outcome STORE_CLOSED stands for.
      const ending = this.#owned.end();
      this.#sockets?.destroyAll();
      await ending;
    }
  }
}

/**
 * The connections (pooled, or a Client or PoolClient passed in) found to be on a primary: a
 * server not in recovery (checkPrimary). A server leaves recovery (a promotion) but never enters
 * it while a connection stays open, so each connection is asked once, on its first use.
 */
const PRIMARIES = new WeakSet<object>();
const IS_STANDBY = "SELECT pg_is_in_recovery() AS standby";

/**
 * Asks a connection not yet checked whether its server is in recovery, and calls `then` when it is
 * a primary (remembered in PRIMARIES), or `refuse` with NOT_A_PRIMARY on a standby, whose reads
 * may lag the primary (a pin removed or replaced there would still resolve) and whose writes fail
 * (hunt 49: after a failover or a misdirected URL the stores read from a hot standby), or with
 * STORE_UNEXPECTED_REPLY on an answer that is neither. The Redis stores refuse a replica the same way.
 */
function checkPrimary(db: Pick<Client, "query">, operation: string, then: () => void, refuse: (error: unknown) => void): void {
  let answer: Promise<QueryResult<{ standby: unknown }>>;
  try {
    answer = db.query<{ standby: unknown }>({ text: IS_STANDBY, values: [], types: STORE_TYPES });
  } catch (thrown) {
    return refuse(thrown);
  }
  whenSettled(
    answer,
    (result) => {
      let standby: unknown;
      try {
        const rows = result === null || typeof result !== "object" ? undefined : result.rows;
        standby = isArray(rows) && rows.length === 1 ? rows[0]?.standby : undefined;
      } catch (cause) {
        return refuse(new SharedStoreError("STORE_UNEXPECTED_REPLY", `${operation}: pg_is_in_recovery() did not read back`, { cause }));
      }
      if (standby === false) {
        weakSetAdd(PRIMARIES, db);
        return then();
      }
      if (standby === true) {
        return refuse(new SharedStoreError("NOT_A_PRIMARY", `${operation}: the PostgreSQL server is a standby (pg_is_in_recovery()), not a primary: point the store at the primary`));
      }
      refuse(new SharedStoreError("STORE_UNEXPECTED_REPLY", `${operation}: pg_is_in_recovery() did not read back as a boolean`));
    },
    refuse,
  );
}

/**
 * Whether a pool or client passed in is a pg Pool (pg-pool, from this copy of pg or another): it
 * has connect() and counts its connections; a Client has no totalCount, a PoolClient has release.
 */
function isPgPool(db: PostgresQueryable): db is Pool {
  const candidate = db as Partial<Record<"connect" | "release" | "totalCount", unknown>>;
  return typeof candidate.connect === "function" && typeof candidate.release !== "function" && typeof candidate.totalCount === "number";
}

/**
 * Whether `client` (a pg Client or PoolClient: one passed in, or the connection a pool gave) is
 * inside a transaction block after a statement: one an application opened on it (BEGIN) and has
 * not ended. The statement's write is then part of that transaction, undone if it rolls back: a
 * reserve that returned true, its envelope accepted, was rolled back with the application's work
 * and the same envelope accepted again (hunt 45). A client without pg's getTransactionStatus
 * (pg before 8.21, its native client, a wrapper) cannot tell, and is not checked.
 */
function inTransaction(client: object): boolean {
  const candidate = client as { getTransactionStatus?: () => unknown };
  let status: unknown;
  try {
    if (typeof candidate.getTransactionStatus !== "function") return false;
    status = candidate.getTransactionStatus(); // a method call: no Function.prototype.call looked up (README "Hardening")
  } catch {
    // A wrapper whose status read throws cannot say it is outside one: refused, as inside one (the
    // throw left in the settle callback was an unhandled rejection and a call left to its timeout).
    return true;
  }
  return status === "T" || status === "E";
}

/** The refusal of a statement that ran inside a transaction block open on its connection (inTransaction). */
function ranInTransaction(operation: string): SharedStoreError {
  return new SharedStoreError(
    "STORE_UNAVAILABLE",
    `${operation}: the statement ran inside a transaction open on its connection (BEGIN with no COMMIT or ROLLBACK yet), which could undo its write; give the store a connection outside any transaction`,
  );
}

/**
 * Whether a pool or client passed in asks pg for results in binary format (Connection.create). A
 * pg Client (a PoolClient too) has its own `binary`, pg.defaults.binary folded in when it was made,
 * and its queries follow that alone: one made before an application set pg.defaults.binary reads
 * text, and was refused. Anything else (a Pool, whose clients are made later and read the default
 * then; a wrapper) follows its options and pg.defaults.binary.
 */
function readsBinary(db: object): boolean {
  const candidate = db as { binary?: unknown; options?: { binary?: unknown } };
  if (typeof candidate.binary === "boolean") return candidate.binary;
  return pg.defaults.binary === true || (typeof candidate.options === "object" && candidate.options !== null && candidate.options.binary === true);
}

/**
 * The sockets of a pg Pool the store opened, made by the pool's `stream` factory (make) and kept
 * until they close, so that close() can end them without waiting on the server (destroyAll).
 */
class OwnSockets {
  readonly #open = new SetAtLoad<Socket>();
  readonly make = (): Socket => {
    const socket = new Socket();
    setAdd(this.#open, socket);
    socket.once("close", () => setDelete(this.#open, socket));
    return socket;
  };
  destroyAll(): void {
    const open = setValues(this.#open);
    for (let step = setIteratorStep(open); !step.done; step = setIteratorStep(open)) step.value.destroy();
  }
}

/** Pins in PostgreSQL: table `<prefix>peers`, one row per kernel id. */
export class PostgresPeerStore implements FederationPeerStore {
  readonly #db: Connection;
  readonly #table: string;

  private constructor(db: Connection) {
    this.#db = db;
    this.#table = db.table("peers");
  }

  /**
   * Connects (from a URL, or on an existing pg Pool/Client, which close() then leaves open) and
   * creates or migrates the schema. @throws InvalidConfigError / InvalidTypeError on bad
   * arguments, SharedStoreError when the server cannot be used.
   */
  static async open(urlOrClient: string | PostgresQueryable, options?: PostgresStoreOptions): Promise<PostgresPeerStore> {
    const db = Connection.create(urlOrClient, readOptions(options, "options", SHARED_OPTION_KEYS));
    const deadline = performance.now() + db.timeoutMs; // the open's one bound, all its statements included
    try {
      await db.resolveSchema(deadline);
      const t = db.table("peers");
      await db.migrate(
        "peers",
        `CREATE TABLE ${t} (
      kernel_id text COLLATE "C" PRIMARY KEY,
      public_key text NOT NULL CHECK (public_key ~ '^[0-9a-f]{64}$'),
      established_at bigint NOT NULL CHECK (established_at >= 0),
      rotation_due bigint NOT NULL CHECK (rotation_due >= 0));`,
        deadline,
      );
    } catch (error) {
      try {
        await db.close();
      } catch {
        // the open's own error is the one to report
      }
      throw error;
    }
    return new PostgresPeerStore(db);
  }

  async insert(peer: FederationPeer): Promise<void> {
    const row = peerRow(peer);
    await this.#db.query(
      "insert",
      `INSERT INTO ${this.#table} (kernel_id, public_key, established_at, rotation_due) VALUES ($1, $2, $3, $4)
       ON CONFLICT (kernel_id) DO UPDATE SET public_key = EXCLUDED.public_key, established_at = EXCLUDED.established_at, rotation_due = EXCLUDED.rotation_due`,
      row,
    );
  }

  async get(kernelId: string): Promise<FederationPeer | undefined> {
    if (typeof kernelId !== "string") throw new InvalidTypeError("kernelId must be a string");
    const rows = await this.#db.query<PeerRow>("get", `SELECT * FROM ${this.#table} WHERE kernel_id = $1`, [exactText(kernelId)]);
    return rows.length === 0 ? undefined : rowPeer(rows[0], "get");
  }

  async remove(kernelId: string): Promise<FederationPeer | undefined> {
    if (typeof kernelId !== "string") throw new InvalidTypeError("kernelId must be a string");
    const rows = await this.#db.query<PeerRow>("remove", `DELETE FROM ${this.#table} WHERE kernel_id = $1 RETURNING *`, [exactText(kernelId)]);
    return rows.length === 0 ? undefined : rowPeer(rows[0], "remove", REMOVED_ANYWAY);
  }

  async snapshot(): Promise<readonly FederationPeer[]> {
    const rows = await this.#db.query<PeerRow>("snapshot", `SELECT * FROM ${this.#table}`);
    const peers: OwnList<FederationPeer> = ownList(rows.length); // no `map`, which caller code can replace
    for (let i = 0; i < rows.length; i++) peers[i] = rowPeer(rows[i]!, "snapshot");
    return ownListAsArray(peers);
  }

  async compareAndSet(kernelId: string, expected: FederationPeer | undefined, next: FederationPeer): Promise<boolean> {
    expectCompareAndSet(kernelId, expected, next); // INVALID_TYPE, the check every adapter makes (ports.ts)
    const row = peerRow(next);
    let rows: unknown[];
    if (expected === undefined || expected.kernelId !== kernelId) {
      if (expected !== undefined) return false; // an entry for kernelId can never equal a peer of another id
      rows = await rowsOrLostRace(
        this.#db.query(
          "compareAndSet",
          `INSERT INTO ${this.#table} (kernel_id, public_key, established_at, rotation_due) VALUES ($1, $2, $3, $4)
           ON CONFLICT (kernel_id) DO NOTHING RETURNING 1 AS wrote`,
          row,
        ),
      );
    } else {
      const old = peerRow(expected);
      rows = await rowsOrLostRace(
        this.#db.query(
          "compareAndSet",
          `UPDATE ${this.#table} SET public_key = $2, established_at = $3, rotation_due = $4
           WHERE kernel_id = $1 AND public_key = $5 AND established_at = $6 AND rotation_due = $7 RETURNING 1 AS wrote`,
          // By index, not a spread: a replaced array iterator could send other parameters (README "Hardening").
          [row[0], row[1], row[2], row[3], old[1], old[2], old[3]],
        ),
      );
    }
    if (rows.length > 1) throw new SharedStoreError("STORE_UNEXPECTED_REPLY", "compareAndSet: more than one row written");
    return rows.length === 1;
  }

  /** Ends the pool this store opened (a pool or client passed in stays open). */
  close(): Promise<void> {
    return this.#db.close();
  }
}
hardenClass(PostgresPeerStore); // its statics and methods stay its own: see hardenClass

/**
 * Bytes of stored text the replay table's key (peer_id, nonce) may take. Postgres refuses a btree
 * entry larger than about a third of a page (2704 bytes with the usual 8 KiB pages: "index row
 * size exceeds btree maximum"); this leaves room for the entry's headers.
 */
const POSTGRES_MAX_KEY_BYTES = 2600;

/** UTF-8 bytes of the stored forms (exactText) of a replay pair. */
function storedKeyBytes(peerId: string, nonce: string): number {
  return utf8Length(exactText(peerId)) + utf8Length(exactText(nonce)); // well-formed text: its exact UTF-8 length
}

// OIDs of the result types the statements return (pg_type; PostgreSQL's catalog numbers).
const BOOL_OID = 16;
const INT2_OID = 21;
const INT4_OID = 23;

/**
 * The stores' own result parsers, given with every statement: pg's default parsers are
 * process-wide (pg.types.setTypeParser), so an application that had booleans read as 0/1 or
 * integers as BigInt made every reserve and open refuse as STORE_UNEXPECTED_REPLY. Booleans are
 * booleans, int2/int4 numbers (the schema version), everything else the server's text
 * (bigint columns are decimal strings, read by decimal()).
 */
const STORE_TYPES = {
  getTypeParser: ((oid: number, format?: string) =>
    format === "binary"
      ? refuseBinary // refused at open (Connection.create); a client switched to binary since reads nothing
      : oid === BOOL_OID
        ? parseBool
        : oid === INT4_OID || oid === INT2_OID
          ? toNumber
          : keepText) as unknown as typeof pg.types.getTypeParser,
};

/** A value no row check accepts: the call is STORE_UNEXPECTED_REPLY. */
function refuseBinary(): undefined {
  return undefined;
}

function parseBool(text: string): boolean {
  return text === "t";
}

function keepText(text: string): string {
  return text;
}

interface PeerRow {
  kernel_id: unknown;
  public_key: unknown;
  established_at: unknown;
  rotation_due: unknown;
}

function peerRow(peer: FederationPeer): [string, string, number, number] {
  if (!(peer instanceof FederationPeer)) throw new InvalidTypeError("peer must be a FederationPeer");
  return [exactText(peer.kernelId), peer.publicKey.toHex(), peer.establishedAt, peer.rotationDue];
}

/**
 * A fresh, validated peer from a row (bigint columns arrive as decimal strings, STORE_TYPES's
 * reading; bigints too, from a queryable passed in that ignores a statement's `types`). `note` ends the
 * message of a row that does not read back (remove's: the row is deleted all the same).
 */
function rowPeer(row: PeerRow, operation: string, note = ""): FederationPeer {
  try {
    return new FederationPeer({
      kernelId: fromExactText(row.kernel_id, "kernel_id"),
      publicKey: row.public_key as string,
      establishedAt: decimal(row.established_at),
      rotationDue: decimal(row.rotation_due),
    });
  } catch (cause) {
    // describeThrown, not `.message`: a row from a queryable passed in may have a getter that
    // throws anything (undefined, a revoked Proxy), and reading `.message` of it escaped as a
    // TypeError with no code (review 165, as the exchange's pins in 75286b8).
    throw new SharedStoreError("STORE_UNEXPECTED_REPLY", `${operation}: a stored pin does not read back: ${describeThrown(cause)}${note}`, { cause });
  }
}

function decimal(value: unknown): number {
  // RegExp's exec and Number as they were at load (README "Hardening").
  if (typeof value === "string" && regExpExec(DECIMAL, value) !== null) return toNumber(value);
  if (typeof value === "number") return value;
  if (typeof value === "bigint" && value >= 0n && value <= MAX_SAFE_BIGINT) return toNumber(value); // review 47
  return NaN; // refused by FederationPeer
}

/** sweep()'s "now": the caller's `now` ($1), but never later than the database server's clock. */
const SWEEP_NOW = "LEAST($1::bigint, floor(extract(epoch FROM now()))::bigint)";

/**
 * Replay protection in PostgreSQL: table `<prefix>replay`, one row per (peer, nonce) held, with
 * the envelope's timestamp and `expires_at = timestamp + retention`, where the retention is the
 * larger of this store's maxSkewSecs and the shared retention floor.
 *
 * The retention floor (table `<prefix>replay_retention`, one row) is the largest maxSkewSecs any
 * store on the prefix has registered: each store raises it to its own when it opens (never
 * lowers it), every reserve writes `expires_at` with it and every sweep keeps rows until
 * `envelope_ts + floor`. So a replica running a smaller maxSkewSecs keeps the pairs it writes as
 * long as the replica with the largest one still takes their envelopes, and replicas can be
 * lowered in any order (review 77 F3: a replica lowered first swept pairs at its own bound, and
 * a replica still on the larger skew accepted their envelopes a second time). Only
 * lowerRetentionFloor() brings the floor down.
 *
 * A pair is refused while `now ≤ timestamp + skew` under the skew asked with (docs/protocol.md
 * §7); rows are deleted only after `expires_at`, in bounded batches. The reservation is the row
 * itself, so `commit` writes nothing; `release` deletes the row only if it still carries this
 * reservation's token, or puts back the pair it took over (its token holds that pair's
 * timestamps). If a reserve times out on our side but completes on the server, the pair
 * stays held until it expires: the envelope is refused, never accepted twice.
 */
export class PostgresReplayStore implements ReplayStore {
  readonly maxSkewSecs: number;
  readonly maxKeyUnits: number;
  readonly #db: Connection;
  readonly #table: string;
  /** The one-row table of the shared retention floor. */
  readonly #retention: string;
  /** The floor as the reserve and the sweep read it: a scalar subquery, NULL when the row is gone. */
  readonly #floorRead: string;
  /** A registration started because a reserve found the floor below this store's maxSkewSecs. */
  #reregistering = false;
  readonly #sweepEvery: number;
  readonly #sweepBatch: number;
  readonly #inFlight = new InFlightTokens(DEFAULT_MAX_IN_FLIGHT);
  #sinceSweep = 0;
  #sweeping = false;
  /**
   * Rows the next background sweep deletes at most: sweepBatch, halved after a sweep that timed
   * out (the server cancels it, so it deleted nothing), doubled back after one that finished.
   * Without this a batch too big for operationTimeoutMs would never delete a row, and the table
   * would grow without bound.
   */
  #backgroundBatch: number;

  private constructor(db: Connection, maxSkewSecs: number, maxKeyUnits: number, sweepEvery: number, sweepBatch: number) {
    this.#db = db;
    this.#table = db.table("replay");
    this.#retention = db.table("replay_retention");
    this.#floorRead = `(SELECT max_skew_secs FROM ${this.#retention} WHERE id = 1)`;
    this.maxSkewSecs = maxSkewSecs;
    this.maxKeyUnits = maxKeyUnits;
    this.#sweepEvery = sweepEvery;
    this.#sweepBatch = sweepBatch;
    this.#backgroundBatch = sweepBatch;
  }

  /** See PostgresPeerStore.open; options are validated before connecting. */
  static async open(urlOrClient: string | PostgresQueryable, options?: PostgresReplayStoreOptions): Promise<PostgresReplayStore> {
    const read = readOptions(options, "options", REPLAY_OPTION_KEYS);
    const maxSkewSecs = integerOption(read.maxSkewSecs, "maxSkewSecs", DEFAULT_STORE_MAX_SKEW_SECS, 0, MAX_STORE_SKEW_SECS);
    const maxKeyUnits = integerOption(read.maxKeyUnits, "maxKeyUnits", DEFAULT_STORE_MAX_KEY_UNITS, 2, 65536);
    const sweepEvery = integerOption(read.sweepEvery, "sweepEvery", 1000, 0, 1_000_000_000);
    const sweepBatch = integerOption(read.sweepBatch, "sweepBatch", 1000, 1, 100_000);
    const db = Connection.create(urlOrClient, read);
    const deadline = performance.now() + db.timeoutMs; // the open's one bound, all its statements included
    try {
      await db.resolveSchema(deadline);
      const t = db.table("replay");
      await db.migrate(
        "replay",
        `CREATE TABLE ${t} (
      peer_id text COLLATE "C" NOT NULL,
      nonce text COLLATE "C" NOT NULL,
      envelope_ts bigint NOT NULL,
      expires_at bigint NOT NULL,
      token text NOT NULL,
      PRIMARY KEY (peer_id, nonce));
    CREATE INDEX ${db.prefix}replay_expires_at ON ${t} (expires_at);`,
        deadline,
      );
      // A component of its own (not replay version 2), so that replicas of earlier versions,
      // which check the replay component's version, still open during a rolling upgrade.
      await db.migrate(
        "replay_retention",
        `CREATE TABLE ${db.table("replay_retention")} (
      id smallint PRIMARY KEY CHECK (id = 1),
      max_skew_secs bigint NOT NULL CHECK (max_skew_secs BETWEEN 0 AND ${MAX_STORE_SKEW_SECS}));`,
        deadline,
      );
      const store = new PostgresReplayStore(db, maxSkewSecs, maxKeyUnits, sweepEvery, sweepBatch);
      await store.#registerRetention(deadline);
      return store;
    } catch (error) {
      try {
        await db.close();
      } catch {
        // the open's own error is the one to report
      }
      throw error;
    }
  }

  /**
   * Raises the shared retention floor to this store's maxSkewSecs (never lowers it). A floor
   * written for the first time starts at least at the largest bound the latest rows were written
   * with (`expires_at − envelope_ts` of the 1,000 rows that expire last, by the index): rows from
   * replicas of earlier versions, which do not register, may still be relied on by such a replica
   * (review 78 F3: the first upgraded replica, restarted with a lower bound, set the floor to it,
   * and a replica still on the earlier version and the larger skew accepted an envelope again).
   */
  async #registerRetention(deadline?: number): Promise<void> {
    // Under a REPEATABLE READ or SERIALIZABLE default, replicas registering at once abort each
    // other with serialization failures (helper 157: an open failed STORE_UNAVAILABLE). The
    // statement only raises the floor, so it is sent again after a short random pause: within an
    // open's bound until it goes through (N replicas opening together can need N − 1 tries; past the
    // bound the next statement is STORE_TIMEOUT), and SERIALIZATION_RETRIES times for a call without one.
    for (let attempt = 1; ; attempt++) {
      try {
        await this.#registerRetentionOnce(deadline);
        return;
      } catch (error) {
        if (!isSerializationFailure(error) || (deadline === undefined && attempt >= SERIALIZATION_RETRIES)) throw error;
      }
      await new Promise((resolve) => setTimeout(resolve, 1 + mathRandom() * 10));
    }
  }

  async #registerRetentionOnce(deadline?: number): Promise<void> {
    await this.#db.query(
      "replay.registerRetention",
      `INSERT INTO ${this.#retention} AS f (id, max_skew_secs)
       SELECT 1, LEAST(GREATEST($1::numeric, COALESCE(max(latest.expires_at::numeric - latest.envelope_ts::numeric), 0)), ${MAX_STORE_SKEW_SECS})::bigint
         FROM (SELECT expires_at, envelope_ts FROM ${this.#table} ORDER BY expires_at DESC LIMIT 1000) AS latest
       ON CONFLICT (id) DO UPDATE SET max_skew_secs = $1::bigint WHERE f.max_skew_secs < $1::bigint`,
      [this.maxSkewSecs],
      deadline,
    );
  }

  /**
   * The shared retention floor: the largest maxSkewSecs registered on this table prefix by the
   * stores that opened it (or put back by a reserve), unless lowered since by
   * lowerRetentionFloor(); 0 when the table holds none (its row deleted by hand). A row reserved
   * now is kept until `envelope_ts +` the larger of this and maxSkewSecs.
   */
  async retentionFloor(): Promise<number> {
    const rows = await this.#db.query<{ secs: unknown }>("replay.retentionFloor", `SELECT ${this.#floorRead} AS secs`);
    const floor = rows.length !== 1 ? NaN : rows[0]?.secs === null ? 0 : decimal(rows[0]?.secs);
    if (!isSafeInteger(floor) || floor < 0) throw new SharedStoreError("STORE_UNEXPECTED_REPLY", "replay.retentionFloor: unexpected rows");
    return floor;
  }

  /**
   * Sets the shared retention floor to this store's maxSkewSecs, for an operator who has lowered
   * maxSkewSecs (and the skew) on every replica and wants rows swept sooner; resolves to the floor
   * it replaced. Safe only once every replica on the prefix runs a maxSkewSecs at most this
   * store's: a replica still on a larger one raises the floor again when it next opens or finds
   * the floor below its own on a reserve, but the rows other replicas write before that are kept
   * only until the lower bound, and that replica could accept their envelopes again.
   */
  async lowerRetentionFloor(): Promise<number> {
    const rows = await this.#db.query<{ previous: unknown }>(
      "replay.lowerRetentionFloor",
      `WITH previous AS (SELECT max_skew_secs FROM ${this.#retention} WHERE id = 1 FOR UPDATE),
       written AS (
         INSERT INTO ${this.#retention} (id, max_skew_secs) VALUES (1, $1::bigint)
         ON CONFLICT (id) DO UPDATE SET max_skew_secs = EXCLUDED.max_skew_secs RETURNING 1)
       SELECT (SELECT max_skew_secs FROM previous) AS previous, (SELECT count(*) FROM written) AS written`,
      [this.maxSkewSecs],
    );
    const previous = rows.length === 1 ? rows[0]?.previous : undefined;
    const floor = previous === null ? 0 : decimal(previous);
    if (!isSafeInteger(floor) || floor < 0) throw new SharedStoreError("STORE_UNEXPECTED_REPLY", "replay.lowerRetentionFloor: unexpected rows");
    return floor;
  }

  /**
   * Within maxKeyUnits, and within what a Postgres index entry can hold (POSTGRES_MAX_KEY_BYTES of
   * stored text): a pair over that could never be reserved, so the exchange refuses its envelope
   * (MALFORMED_ENVELOPE NONCE_TOO_LONG) instead of failing on the store (STORE_FAILED).
   */
  fits(peerId: string, nonce: string): boolean {
    return pairFits(peerId, nonce, this.maxKeyUnits) && storedKeyBytes(peerId, nonce) <= POSTGRES_MAX_KEY_BYTES;
  }

  async reserve(peerId: string, nonce: string, timestamp: number, now: number, skewSecs: number): Promise<boolean> {
    checkReserveArguments(peerId, nonce, timestamp, now, skewSecs, this.maxSkewSecs, this.maxKeyUnits);
    const inFlightKey = InFlightTokens.key(peerId, nonce);
    if (!this.#inFlight.admit(inFlightKey)) return false; // held by an accept in flight here (InFlightTokens)
    const token = reservationToken();
    const deadline = performance.now() + this.#db.timeoutMs; // the reserve's one bound, its undo included
    // Insert, or take over a pair that is dead under the skew asked with; no token back = held. A
    // takeover keeps the pair it replaced in its token ("token:envelope_ts:expires_at"): that pair
    // may still be live under another replica's larger skew, and release() puts it back (review 61 F2).
    // Once the server's clock is past timestamp + skew, the pair may have been swept (every row is
    // kept until timestamp + the retention floor, at least every replica's maxSkewSecs, so at
    // least every replica's skew), so a replica whose clock runs behind would take a replay (review 75 F1):
    // refused (docs/protocol.md §8). The clock is read before the write (`before`: nothing is
    // written) and again after the conflict arbitration (`after`): a statement that stalled
    // between the two while a sweep deleted the row sees the sweep's time then (review 76 F2).
    // The row is kept until timestamp + the larger of maxSkewSecs and the shared retention floor
    // (review 77 F3), read in the same statement; the floor is only read here, not written, so
    // reserves do not queue on its row.
    const rows = await rowsOrLostRace(this.#db.query<{ before: unknown; after: unknown; ahead: unknown; token: unknown; floor: unknown }>(
      "replay.reserve",
      `WITH clock AS (SELECT floor(extract(epoch FROM clock_timestamp()))::bigint AS now_s),
       kept AS (SELECT ${this.#floorRead} AS floor_s),
       written AS (
         INSERT INTO ${this.#table} AS r (peer_id, nonce, envelope_ts, expires_at, token)
         SELECT $1::text, $2::text, $3::bigint, $3::bigint + GREATEST($4::bigint, COALESCE(kept.floor_s, 0)), $5::text FROM clock, kept
          WHERE $3::bigint + $6::bigint >= clock.now_s AND COALESCE(kept.floor_s, 0) BETWEEN 0 AND ${MAX_STORE_SKEW_SECS}
         ON CONFLICT (peer_id, nonce) DO UPDATE
           SET envelope_ts = EXCLUDED.envelope_ts, expires_at = EXCLUDED.expires_at,
               token = EXCLUDED.token || ':' || r.envelope_ts || ':' || r.expires_at
           WHERE r.envelope_ts + $6::bigint < $7::bigint
         RETURNING r.token, floor(extract(epoch FROM clock_timestamp()))::bigint AS after_s)
       SELECT (SELECT $3::bigint + $6::bigint < now_s FROM clock) AS before,
              (SELECT $3::bigint + $6::bigint < after_s FROM written) AS after,
              (SELECT $7::bigint + $6::bigint < GREATEST(now_s, COALESCE((SELECT after_s FROM written), 0)) FROM clock) AS ahead,
              (SELECT token FROM written) AS token,
              (SELECT floor_s FROM kept) AS floor`,
      [exactText(peerId), exactText(nonce), timestamp, this.maxSkewSecs, token, skewSecs, now],
      deadline,
    ));
    if (rows.length === 0) {
      this.#maybeSweep(now); // a serialization failure: a concurrent writer of the pair won
      return false;
    }
    const { before, after, ahead, token: written, floor } = rows[0] ?? {};
    const floorSecs = floor === null ? 0 : decimal(floor);
    if (
      rows.length !== 1 ||
      !isSafeInteger(floorSecs) ||
      floorSecs > MAX_STORE_SKEW_SECS || // refused before writing (the INSERT's condition); review 78 F2
      typeof before !== "boolean" ||
      typeof ahead !== "boolean" ||
      (written === null ? after !== null : typeof written !== "string" || typeof after !== "boolean" || (written !== token && !stringStartsWith(written, `${token}:`)))
    ) {
      throw new SharedStoreError("STORE_UNEXPECTED_REPLY", "replay.reserve: unexpected rows");
    }
    if (floorSecs < this.maxSkewSecs) this.#reregister(); // the floor's row was deleted or lowered meanwhile
    // Refused with the engine's clock more than the skew ahead of the replica's now: a fresh
    // envelope would be refused too (review 79 F1).
    const refusal = () => (ahead ? engineClockAhead(now, skewSecs) : pastWindowOnEngineClock(timestamp, skewSecs));
    if (before) throw refusal();
    if (written === null) {
      this.#maybeSweep(now);
      return false;
    }
    if (after) {
      // Written past the window: put the row back as it was (the undo release() does), then refuse.
      await this.#undo(peerId, nonce, token, deadline);
      throw refusal();
    }
    this.#maybeSweep(now);
    return this.#inFlight.claim(inFlightKey, token);
  }

  /**
   * Raises the floor back to this store's maxSkewSecs in the background, one registration at a
   * time; a failure is ignored (the next reserve that finds the floor low retries). The reserve
   * that noticed has already kept its own row long enough (GREATEST with maxSkewSecs).
   */
  #reregister(): void {
    if (this.#reregistering) return;
    this.#reregistering = true;
    whenSettled(
      this.#registerRetention(),
      () => (this.#reregistering = false),
      () => (this.#reregistering = false),
    );
  }

  /** The row is the record: nothing to write. */
  commit(peerId: string, nonce: string): void {
    expectReplayPair(peerId, nonce); // INVALID_TYPE, as ReplayCache.commit: not ignored (hunt 58)
    this.#inFlight.take(InFlightTokens.key(peerId, nonce));
  }

  async release(peerId: string, nonce: string): Promise<void> {
    expectReplayPair(peerId, nonce);
    const token = this.#inFlight.take(InFlightTokens.key(peerId, nonce));
    if (token === undefined) return; // not ours (or dropped from the bound): the pair stays held
    await this.#undo(peerId, nonce, token);
  }

  /**
   * Undoes the row a reservation wrote: a new pair is deleted; a pair it took over is put back as
   * it was (token '0', which no reservation has), so a replica that still takes the old envelope
   * finds it held (review 61 F2: it was deleted, and that envelope accepted again).
   */
  async #undo(peerId: string, nonce: string, token: string, deadline?: number): Promise<void> {
    await this.#db.query(
      "replay.release",
      `WITH restored AS (
         UPDATE ${this.#table}
            SET envelope_ts = split_part(token, ':', 2)::bigint, expires_at = split_part(token, ':', 3)::bigint, token = '0'
          WHERE peer_id = $1 AND nonce = $2 AND left(token, length($3) + 1) = $3 || ':'
          RETURNING 1)
       DELETE FROM ${this.#table} WHERE peer_id = $1 AND nonce = $2 AND token = $3`,
      [exactText(peerId), exactText(nonce), token],
      deadline,
    );
  }

  /**
   * Deletes at most `batch` rows dead under every skew up to the retention (the larger of
   * maxSkewSecs and the shared floor), oldest first; resolves to how many. A row is dead when both
   * its writer's bound (`expires_at < now`) and this store's (`envelope_ts + retention < now`)
   * have passed: after maxSkewSecs was raised, rows written
   * under the old bound stay until the new one passes (review 47: before, a replica already on
   * the larger bound swept them at the old one, and the envelope was accepted again once the skew
   * was raised, as the README says to do next). Replicas sweeping at once skip each other's rows
   * (SKIP LOCKED) rather than wait. "Now" is the earlier of `now` and the database server's clock
   * (review 57): the rows are every replica's, so one replica's fast clock (a background sweep
   * runs at the `now` of the accept that triggered it) or a `sweep(Date.now())` in milliseconds
   * must not delete the pairs other replicas still refuse replays by.
   */
  async sweep(now: number, batch: number = this.#sweepBatch): Promise<number> {
    if (typeof now !== "number" || !isSafeInteger(now) || now < 0) throw new InvalidTimeError("now must be a safe integer ≥ 0 (unix seconds)");
    const limit = integerOption(batch, "batch", this.#sweepBatch, 1, 100_000);
    const rows = await this.#db.query(
      "replay.sweep",
      `DELETE FROM ${this.#table} WHERE ctid = ANY (ARRAY(
         SELECT ctid FROM ${this.#table}
         WHERE expires_at < ${SWEEP_NOW}
           AND envelope_ts + GREATEST($3::bigint, COALESCE(${this.#floorRead}, 0)) < ${SWEEP_NOW}
         ORDER BY expires_at LIMIT $2 FOR UPDATE SKIP LOCKED))
       RETURNING 1`,
      [now, limit, this.maxSkewSecs],
    );
    return rows.length;
  }

  /**
   * A background sweep every sweepEvery reservations; one at a time, its failure ignored (the
   * next one retries, with half the batch after a timeout).
   */
  #maybeSweep(now: number): void {
    if (this.#sweepEvery === 0 || ++this.#sinceSweep < this.#sweepEvery || this.#sweeping) return;
    this.#sinceSweep = 0;
    this.#sweeping = true;
    const batch = this.#backgroundBatch;
    // Promise's `then` as it was at load (README "Hardening").
    whenSettled(
      this.sweep(now, batch),
      () => {
        this.#backgroundBatch = mathMin(this.#sweepBatch, 2 * batch);
        this.#sweeping = false;
      },
      (error: unknown) => {
        if (instanceOfOrFalse(SharedStoreError, error) && error.code === "STORE_TIMEOUT") this.#backgroundBatch = mathMax(1, batch >> 1);
        this.#sweeping = false;
      },
    );
  }

  /** Ends the pool this store opened (a pool or client passed in stays open). */
  close(): Promise<void> {
    return this.#db.close();
  }
}
hardenClass(PostgresReplayStore); // its statics and methods stay its own: see hardenClass
