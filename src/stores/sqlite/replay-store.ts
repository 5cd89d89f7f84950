// ReplayStore on an SQLite file (docs/protocol.md §7): remembered (peer, nonce) pairs survive
// restarts and are shared by every process on the file, so an envelope accepted before a restart,
// or by another process, is refused as REPLAYED_NONCE.
//
// A pair is a row with its envelope's timestamp and a state:
// - "reserved" by an accept in flight (with the reserving store's random owner token): held,
//   whatever the time, until that accept commits or releases it. A process killed between reserve
//   and commit leaves its reservation held (fail closed: that nonce is never accepted again, and
//   honest kernels never reuse a nonce) until it is pruned like any other row.
// - "committed": held while `now ≤ timestamp + skewSecs`, with the skew asked at that moment.
// A row is kept until its `keep_until`, and pruned (on open, and every PRUNE_EVERY reserves, by
// any store on the file) once `keep_until < now`: a pair's lifetime is set by the store that
// reserved it, never shortened by a process on the same file that runs with a smaller retention
// (schema version 3; review 53: each store pruned at its own retention, and the pairs of a
// process with a larger skew were accepted again). That lifetime is `keep_until = timestamp +
// max(retentionSecs, floor)`, where the floor is the file's shared retention floor (schema
// version 4, review 77 F3): the largest retentionSecs any store has registered on the file. Each
// store registers its own when it opens (the floor becomes max(floor, own), in one IMMEDIATE
// transaction; never lowered), and each reserve reads the floor in its own transaction (putting
// its own retention back if the row is gone or below it). Kept for the writer's retention alone,
// the pairs of a replica restarted with a lower retention (lowering replicas one at a time) were
// pruned while a replica still on the larger skew accepted their envelopes again. A reserve asked
// with a skew above retentionSecs throws SKEW_ABOVE_RETENTION (the exchange fails closed with
// STORE_FAILED), because its pair could then be pruned while its envelope still passes the skew
// check; with the floor, every pair written after a store registered is kept at least that
// store's retention, so at least its largest skew. Not covered: pairs written before a store
// with a larger retention first opened the file keep the keep_until they were written with (and
// pairs already pruned are gone), and pairs written after lowerRetentionFloor() (an operator's
// call, for storage, once every process runs a retention at most that store's) keep the lower one
// until a store with a larger retention reserves again.
// A peer holds at most maxPairsPerPeer pairs not yet past keep_until (reserved or committed): a
// reserve of a new pair beyond that throws PEER_QUOTA_EXCEEDED (STORE_FAILED; 429 over HTTP), so
// an authenticated peer that loops cannot grow the file without bound (every accepted envelope
// keeps its row for max(retentionSecs, floor), up to about 25 KB at maxKeyUnits). The check reads one row of
// chio_trust_replay_peers (schema version 2): each peer's number of rows, kept by the same
// transactions that add and delete them, and a keep_until at or below all of theirs
// (`first_keep_until`). Counting the rows instead read every one of them, nonces included (55 ms
// measured for a peer at 10,000 pairs of 4,080-unit nonces), on every reserve, refused ones
// included. Only a peer at its quota whose `first_keep_until` has passed has its rows past
// keep_until deleted and counted again, refused or not, which makes `first_keep_until` exact; it
// falls behind again only when a pair is deleted (a release, a prune), so such recounts come at
// most once per pair deleted or past keep_until.
import { randomUUID } from "node:crypto";
import type Database from "better-sqlite3";
import { hardenClass, isSafeInteger, MAX_SAFE_INTEGER } from "../../bytes.js";
import { expectReplayPair, type ReplayStore } from "../../handshake/ports.js";
import { expectUnixSeconds } from "../../handshake/time.js";
import { hasLoneSurrogate } from "../../handshake/wire.js";
import { SqliteStoreError, toStoreError } from "./errors.js";
import {
  column, expectKeyText, hostClockSeconds, MAX_PLAUSIBLE_UNIX_SECONDS, openChioDatabase, readSqliteOptions, rowAt, safeColumn, SQLITE_OPEN_OPTION_KEYS,
  type SqliteOpenOptions,
} from "./schema.js";

/** Options of SqliteReplayStore. */
export interface SqliteReplayStoreOptions extends SqliteOpenOptions {
  /**
   * Seconds a pair this store reserves is kept past its envelope timestamp, whichever store on the
   * file prunes it (longer when the file's retention floor is larger: the largest retentionSecs
   * registered on the file; see lowerRetentionFloor); also the largest skew accepted. Registered
   * on the file when the store opens. Default 604800 (7 days).
   */
  retentionSecs?: number;
  /**
   * Longest peer id plus nonce, in UTF-16 units, that `fits` (longer envelopes are refused) and
   * that reserve() takes (KEY_TOO_LONG beyond it). Default 4096.
   */
  maxKeyUnits?: number;
  /**
   * Most pairs one peer may hold at once, reserved or committed and not yet past their keep_until;
   * a reserve of a new pair beyond it throws PEER_QUOTA_EXCEEDED. Default 10000.
   */
  maxPairsPerPeer?: number;
}

const PRUNE_EVERY = 256;
/**
 * Most pairs one prune transaction deletes (about 2 ms of the file's write lock for short nonces
 * on this project's machine; README, "a write holds the lock for about a millisecond").
 */
const PRUNE_BATCH_PAIRS = 1000;
/** Batches the open prunes (each its own transaction); the rest goes a batch at a time with the reserves (PRUNE_EVERY). */
const PRUNE_BATCHES_AT_OPEN = 64;

/**
 * The `now` a reserve prunes at (every PRUNE_EVERY reserves, and a peer at its quota): the
 * caller's, but never past this host's clock less CLOCK_GRACE_SECS (graceClock), which every
 * process of the file shares. A reserve
 * given a clock of its own that runs ahead, or Date.now() in milliseconds, would otherwise delete
 * the live pairs of every process on the file, and a process with a correct clock would accept
 * their envelopes again (review 68 F1); the Postgres sweep stops at the server's clock for the
 * same reason. Undefined (prune nothing) if this host's clock reads no plausible time.
 */
function pruneHorizon(now: number): number | undefined {
  const wall = graceClock();
  if (wall === undefined) return undefined;
  return now < wall ? now : wall; // a comparison, not Math.min (README "Hardening")
}

/**
 * Seconds this store's own prunes stay behind this host's clock, and the most a reserve's pair may
 * be past its keep_until by that clock (PAST_RETENTION_ON_HOST_CLOCK). The two move together, so a
 * pair such a prune deleted is always refused; the grace lets an accept whose `now` was read a
 * little before the reserve (the second turned, an async peer store answered slowly) take a pair
 * at the very edge of its window when retentionSecs equals the skew (helper 151: it was refused).
 */
export const CLOCK_GRACE_SECS = 60;

/** This host's clock less CLOCK_GRACE_SECS, or undefined when it reads no plausible time (hostClockSeconds). */
function graceClock(): number | undefined {
  const wall = hostClockSeconds();
  return wall === undefined ? undefined : wall - CLOCK_GRACE_SECS;
}

/** What the reserve transaction returns for a new pair over the peer's quota. */
const OVER_QUOTA = "over quota";
/** What it returns for a pair this host's clock puts past its keep_until (PAST_RETENTION_ON_HOST_CLOCK). */
const PAST_RETENTION = "past retention";

/**
 * A safe-integer option of at least `min` (0 or 1), `fallback` when undefined; else (null
 * included, as busyTimeoutMs and every server-store option refuse it: hunt 18) INVALID_ARGUMENT.
 */
function countOption(given: unknown, fallback: number, min: 0 | 1, name: string): number {
  const value = given === undefined ? fallback : given;
  if (typeof value !== "number" || !isSafeInteger(value) || value < min) {
    throw new SqliteStoreError("INVALID_ARGUMENT", `${name} must be ${min === 0 ? "a safe integer >= 0" : "a positive safe integer"}`);
  }
  return value;
}

interface ReplayRow {
  timestamp: bigint;
  keep_until: bigint;
  state: string;
  owner: string | null;
  previous_timestamp: bigint | null;
  previous_keep_until: bigint | null;
}


/** Durable ReplayStore; methods are synchronous and each write is one IMMEDIATE transaction. */
/** The members of SqliteReplayStoreOptions, listed as this module loads (as PEER_STORE_OPTION_KEYS in peer-store.ts). */
const REPLAY_STORE_OPTION_KEYS = [...SQLITE_OPEN_OPTION_KEYS, "retentionSecs", "maxKeyUnits", "maxPairsPerPeer"] as const;

export class SqliteReplayStore implements ReplayStore {
  readonly path: string;
  readonly retentionSecs: number;
  readonly maxKeyUnits: number;
  readonly maxPairsPerPeer: number;
  readonly #db: Database.Database;
  /** FILE_MOVED once the path no longer names the file opened (schema.ts, fileCheck). */
  readonly #checkFile: () => void;
  readonly #owner = randomUUID();
  /** true: reserved; false: held (a replay or an accept in flight); OVER_QUOTA: refused, with only the peer's count refreshed. */
  readonly #reserve: Database.Transaction<
    (peerId: string, nonce: string, timestamp: number, now: number, skewSecs: number, pruneAt: number | undefined) => boolean | typeof OVER_QUOTA | typeof PAST_RETENTION
  >;
  readonly #release: Database.Transaction<(peerId: string, nonce: string) => void>;
  readonly #commit: Database.Statement;
  readonly #prune: Database.Transaction<(now: number) => number>;
  readonly #registerRetention: Database.Transaction<() => void>;
  readonly #floor: () => number | undefined;
  readonly #lowerFloor: Database.Transaction<() => number>;
  #reservesSincePrune = 0;
  #closed = false;

  /** @throws SqliteStoreError (see openChioDatabase for the codes; INVALID_ARGUMENT for bad options). */
  constructor(path: string, options: SqliteReplayStoreOptions = {}) {
    const read = readSqliteOptions(options, REPLAY_STORE_OPTION_KEYS);
    const retentionSecs = countOption(read.retentionSecs, 604_800, 0, "retentionSecs");
    const maxKeyUnits = countOption(read.maxKeyUnits, 4096, 1, "maxKeyUnits");
    const maxPairsPerPeer = countOption(read.maxPairsPerPeer, 10_000, 1, "maxPairsPerPeer");
    ({ db: this.#db, checkFile: this.#checkFile } = openChioDatabase(path, read));
    this.path = path;
    this.retentionSecs = retentionSecs;
    this.maxKeyUnits = maxKeyUnits;
    this.maxPairsPerPeer = maxPairsPerPeer;
    // A chio file whose tables are gone (or any other statement that cannot be prepared) is a
    // typed error, and the connection is closed rather than left open.
    try {
      const db = this.#db;
      const select = db.prepare(
        "SELECT timestamp, keep_until, state, owner, previous_timestamp, previous_keep_until FROM chio_trust_replay WHERE peer_id = ? AND nonce = ?",
      );
      const upsertReserved = db.prepare(
        `INSERT INTO chio_trust_replay (peer_id, nonce, timestamp, keep_until, state, owner, previous_timestamp, previous_keep_until)
           VALUES (?, ?, ?, ?, 'reserved', ?, ?, ?)
         ON CONFLICT (peer_id, nonce) DO UPDATE SET timestamp = excluded.timestamp, keep_until = excluded.keep_until, state = 'reserved',
           owner = excluded.owner, previous_timestamp = excluded.previous_timestamp, previous_keep_until = excluded.previous_keep_until`,
      );
      const restore = db.prepare(
        `UPDATE chio_trust_replay SET timestamp = ?, keep_until = ?, state = 'committed', owner = NULL, previous_timestamp = NULL, previous_keep_until = NULL
         WHERE peer_id = ? AND nonce = ?`,
      );
      const remove = db.prepare("DELETE FROM chio_trust_replay WHERE peer_id = ? AND nonce = ?");
      // Each peer's row count and a lower bound of its keep_until values (chio_trust_replay_peers).
      const peerCount = db.prepare("SELECT pairs, first_keep_until FROM chio_trust_replay_peers WHERE peer_id = ?");
      const countAdded = db.prepare(
        `INSERT INTO chio_trust_replay_peers (peer_id, pairs, first_keep_until) VALUES (?, 1, ?)
         ON CONFLICT (peer_id) DO UPDATE SET pairs = pairs + 1, first_keep_until = min(first_keep_until, excluded.first_keep_until)`,
      );
      const lowerFirstKeepUntil = db.prepare("UPDATE chio_trust_replay_peers SET first_keep_until = min(first_keep_until, ?) WHERE peer_id = ?");
      const countRemoved = db.prepare("UPDATE chio_trust_replay_peers SET pairs = max(pairs - ?, 0) WHERE peer_id = ?");
      const forgetEmpty = db.prepare("DELETE FROM chio_trust_replay_peers WHERE peer_id = ? AND pairs = 0");
      const prunePeer = db.prepare("DELETE FROM chio_trust_replay WHERE peer_id = ? AND keep_until < ?");
      const recountPeer = db.prepare("SELECT count(*) AS n, min(keep_until) AS first FROM chio_trust_replay WHERE peer_id = ?");
      const setCount = db.prepare("UPDATE chio_trust_replay_peers SET pairs = ?, first_keep_until = ? WHERE peer_id = ?");
      // The file's retention floor (schema version 4): one row, raised by every store, lowered only by lowerRetentionFloor.
      const selectFloor = db.prepare("SELECT retention_secs FROM chio_trust_replay_retention WHERE id = 1");
      // A floor written for the first time starts at least at the largest retention the latest
      // pairs were written with (keep_until − timestamp of the 1,000 that are kept longest, by the
      // keep_until index; pairs kept for good, at 2^53 − 1, left out): a version-3 process on the
      // file, which does not register, may still rely on them (review 78 F3: the first version-4
      // process, restarted with a lower retention, set the floor to it).
      const raiseFloor = db.prepare(
        `INSERT INTO chio_trust_replay_retention (id, retention_secs)
           SELECT 1, max(:retention, coalesce((SELECT max(keep_until - timestamp) FROM
             (SELECT keep_until, timestamp FROM chio_trust_replay WHERE keep_until < 9007199254740991 ORDER BY keep_until DESC LIMIT 1000)), 0)) WHERE true
         ON CONFLICT (id) DO UPDATE SET retention_secs = max(retention_secs, :retention)`,
      );
      const setFloor = db.prepare(
        "INSERT INTO chio_trust_replay_retention (id, retention_secs) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET retention_secs = excluded.retention_secs",
      );
      this.#floor = () => {
        const row = selectFloor.get() as { retention_secs: bigint } | undefined;
        return row === undefined ? undefined : safeColumn(column(row, "retention_secs"), "retention_secs");
      };
      this.#registerRetention = db.transaction(() => {
        raiseFloor.run({ retention: this.retentionSecs });
      });
      this.#lowerFloor = db.transaction(() => {
        const previous = this.#floor() ?? 0;
        setFloor.run(this.retentionSecs);
        return previous;
      });
      /**
       * What a pair reserved now is kept for: the floor, or this store's retention when the floor
       * is below it or gone (lowered by lowerRetentionFloor of a store with a smaller retention,
       * or deleted or lowered by hand), which then becomes the floor again. Run inside the
       * reserve's transaction, so the floor read is the one the pair is written under.
       */
      const retentionNow = (): number => {
        const floor = this.#floor();
        if (floor !== undefined && floor >= this.retentionSecs) return floor;
        raiseFloor.run({ retention: this.retentionSecs });
        const written = this.#floor() ?? 0; // a floor written afresh may start above it (the rows' retention)
        return written > this.retentionSecs ? written : this.retentionSecs; // not Math.max (README "Hardening")
      };
      /**
       * The peer's pairs as counted (its rows). When that reaches the quota and one of them may be
       * past its keep_until at `pruneAt` (`first_keep_until` below it; pruneHorizon), those are
       * deleted and the rest counted again.
       */
      const heldByPeer = (peerId: string, pruneAt: number | undefined): number => {
        const row = peerCount.get(peerId) as { pairs: bigint; first_keep_until: bigint } | undefined;
        if (row === undefined) return 0;
        const pairs = safeColumn(column(row, "pairs"), "pairs");
        if (pairs < this.maxPairsPerPeer || pruneAt === undefined || safeColumn(column(row, "first_keep_until"), "first_keep_until") >= pruneAt) return pairs;
        prunePeer.run(peerId, pruneAt);
        const counted = recountPeer.get(peerId) as { n: bigint; first: bigint | null };
        const n = safeColumn(column(counted, "n"), "count");
        setCount.run(n, n === 0 ? 0 : safeColumn(column(counted, "first"), "keep_until"), peerId);
        if (n === 0) forgetEmpty.run(peerId);
        return n;
      };
      this.#commit = db.prepare(
        "UPDATE chio_trust_replay SET state = 'committed', owner = NULL, previous_timestamp = NULL WHERE peer_id = ? AND nonce = ? AND state = 'reserved' AND owner = ?",
      );
      // One batch of the pairs past keep_until: the PRUNE_BATCH_PAIRS first by keep_until (on its
      // index, whose entries end with the key, so the order is total and both statements below
      // pick the same pairs), counted per peer before they go. A batch is a transaction of its
      // own: one DELETE of every such pair held the file's write lock for half a second after a
      // long stop (300,000 pairs), and the other processes' accepts failed DATABASE_BUSY (hunt 20).
      const batchOrder = "FROM chio_trust_replay WHERE keep_until < ? ORDER BY keep_until, peer_id, nonce LIMIT ?";
      const batchCount = db.prepare(`SELECT peer_id, count(*) AS n FROM (SELECT peer_id ${batchOrder}) GROUP BY peer_id`);
      const batchDelete = db.prepare(`DELETE FROM chio_trust_replay WHERE (peer_id, nonce) IN (SELECT peer_id, nonce ${batchOrder})`);
      this.#prune = db.transaction((now: number) => {
        let deleted = 0;
        // By index, each row an own element (not the realm's array iterator: README "Hardening").
        const rows = batchCount.all(now, PRUNE_BATCH_PAIRS) as object[];
        for (let i = 0; i < rows.length; i++) {
          const row = rowAt(rows, i, "the prune's count");
          const n = safeColumn(column(row, "n"), "count");
          const peerId = column(row, "peer_id");
          countRemoved.run(n, peerId);
          forgetEmpty.run(peerId);
          deleted += n;
        }
        if (deleted > 0) batchDelete.run(now, PRUNE_BATCH_PAIRS);
        return deleted;
      });
      this.#reserve = db.transaction((peerId, nonce, timestamp, now, skewSecs, pruneAt) => {
        const retention = retentionNow();
        // Each column read as the row's own member (column(): README "Hardening").
        const row = select.get(peerId, nonce) as ReplayRow | undefined;
        let previous: number | null = null;
        let previousKeepUntil: number | null = null;
        if (row !== undefined) {
          const state = column(row, "state");
          if (state === "reserved") return false; // an accept in flight (here or in another process)
          if (state !== "committed") throw new SqliteStoreError("CORRUPT_ROW", `replay row in state ${typeof state === "string" ? state : typeof state}`);
          const held = safeColumn(column(row, "timestamp"), "timestamp");
          if (now <= held + skewSecs) return false; // live (a saturated sum still compares as live)
          previous = held; // expired under this skew: reservable, and restored by release
          previousKeepUntil = safeColumn(column(row, "keep_until"), "keep_until");
        } else if (heldByPeer(peerId, pruneAt) >= this.maxPairsPerPeer) {
          // Returned, not thrown: the transaction commits what heldByPeer may have refreshed (the
          // peer's pairs past keep_until deleted, its count and first_keep_until made exact), so the next
          // refusal reads the count alone instead of counting the rows again.
          return OVER_QUOTA;
        }
        // Saturated: timestamp + retention above 2^53 − 1 keeps the pair for good (the column's range).
        // A comparison, not Math.min: a replaced one answering 0 wrote keep_until 0, and the next
        // prune (a restart) deleted the live pair (README "Hardening").
        const sum = timestamp + retention;
        const keepUntil = sum < MAX_SAFE_INTEGER ? sum : MAX_SAFE_INTEGER;
        // A pair whose keep_until is behind graceClock() would be pruned by the next prune of any
        // store on the file, which runs at that clock (at open; pruneHorizon), and so may already
        // have been: a replay whose `now` lags the clock (given by the caller) then found no row
        // and was accepted (helper 146). Refused, as the server stores refuse past the window on
        // the engine's clock. An accept whose `now` is within CLOCK_GRACE_SECS of this clock
        // passes: now <= timestamp + skew <= timestamp + retention.
        const wall = graceClock();
        if (wall !== undefined && keepUntil < wall) return PAST_RETENTION;
        upsertReserved.run(peerId, nonce, timestamp, keepUntil, this.#owner, previous, previousKeepUntil);
        if (row === undefined) countAdded.run(peerId, keepUntil);
        else lowerFirstKeepUntil.run(keepUntil, peerId); // the same row, taken again in place
        return true;
      });
      this.#release = db.transaction((peerId, nonce) => {
        const row = select.get(peerId, nonce) as ReplayRow | undefined;
        if (row === undefined || column(row, "state") !== "reserved" || column(row, "owner") !== this.#owner) return; // not ours to undo
        const previousTimestamp = column(row, "previous_timestamp");
        if (previousTimestamp === null) {
          remove.run(peerId, nonce);
          countRemoved.run(1, peerId);
          forgetEmpty.run(peerId);
        } else {
          const previous = safeColumn(previousTimestamp, "previous_timestamp");
          const previousKeepUntil = safeColumn(column(row, "previous_keep_until"), "previous_keep_until");
          restore.run(previous, previousKeepUntil, peerId, nonce);
          lowerFirstKeepUntil.run(previousKeepUntil, peerId);
        }
      });
      this.#run("open", () => this.#registerRetention.immediate());
      // At this host's clock (less CLOCK_GRACE_SECS), and only when it reads a plausible time
      // (hostClockSeconds): unbounded, a process whose Date.now() read above 10^11 s deleted every
      // live pair of the file as it opened it, and the other processes accepted those envelopes
      // again. The next reserve of a store whose clock reads one prunes instead.
      const wall = graceClock();
      if (wall !== undefined) this.#run("prune", () => this.#pruneBatches(wall, PRUNE_BATCHES_AT_OPEN));
    } catch (cause) {
      this.#db.close();
      throw toStoreError(cause, "open");
    }
  }

  // Each method checks the pair's types first, outside #run (which would wrap the error as
  // SQLITE_ERROR): a non-string id or nonce is InvalidTypeError INVALID_TYPE, as every ReplayStore
  // throws it (expectReplayPair; hunt 58: fits(5, "n") answered false, the other methods threw
  // INVALID_ARGUMENT). Ill-formed UTF-16 stays INVALID_ARGUMENT (expectKeyText): a string of the
  // right type this store cannot keep exactly.
  fits(peerId: string, nonce: string): boolean {
    expectReplayPair(peerId, nonce);
    // Nor can it ever hold a pair with a lone surrogate (TEXT is UTF-8: expectKeyText), which
    // reserve refuses INVALID_ARGUMENT: fits answered true for it (hunt 58), where the port asks
    // for false whenever the store could never hold the pair (ports.ts).
    return peerId.length + nonce.length <= this.maxKeyUnits && !hasLoneSurrogate(peerId) && !hasLoneSurrogate(nonce);
  }

  reserve(peerId: string, nonce: string, timestamp: number, now: number, skewSecs: number): boolean {
    expectReplayPair(peerId, nonce);
    // A time that is not a safe integer >= 0 is InvalidTimeError INVALID_TIME, as ReplayCache and
    // the server stores throw it (hunt 58: it was this store's INVALID_ARGUMENT), outside #run for
    // the same reason as the pair's types. One call each, not a loop over an array: the realm's
    // array iterator could skip them (README "Hardening").
    expectUnixSeconds(timestamp, "timestamp");
    expectUnixSeconds(now, "now");
    expectUnixSeconds(skewSecs, "skewSecs");
    return this.#run("reserve", () => {
      expectKeyText(peerId, "peerId");
      expectKeyText(nonce, "nonce");
      // Also refused here, not only by fits(): a wrapper that does not pass fits() through must not
      // store rows over the bound the per-peer quota's size estimate relies on (review 53).
      if (peerId.length + nonce.length > this.maxKeyUnits) {
        throw new SqliteStoreError("KEY_TOO_LONG", `peer id plus nonce is longer than maxKeyUnits (${this.maxKeyUnits})`);
      }
      if (skewSecs > this.retentionSecs) {
        throw new SqliteStoreError("SKEW_ABOVE_RETENTION", `skew ${skewSecs} s is above the store's retention of ${this.retentionSecs} s`);
      }
      const pruneAt = pruneHorizon(now);
      if (++this.#reservesSincePrune >= PRUNE_EVERY && pruneAt !== undefined) {
        this.#reservesSincePrune = 0;
        this.#prune.immediate(pruneAt); // one batch: PRUNE_BATCH_PAIRS a PRUNE_EVERY reserves outpaces the one pair each adds
      }
      const reserved = this.#reserve.immediate(peerId, nonce, timestamp, now, skewSecs, pruneAt);
      if (reserved === OVER_QUOTA) {
        throw new SqliteStoreError("PEER_QUOTA_EXCEEDED", `replay reserve: this peer holds ${this.maxPairsPerPeer} pairs (maxPairsPerPeer)`);
      }
      if (reserved === PAST_RETENTION) {
        throw new SqliteStoreError(
          "PAST_RETENTION_ON_HOST_CLOCK",
          `replay reserve: this host's clock is past timestamp ${timestamp} plus the pairs' retention, so its pair may already be pruned (now ${now} lags the clock?)`,
        );
      }
      return reserved;
    });
  }

  commit(peerId: string, nonce: string): void {
    expectReplayPair(peerId, nonce);
    this.#run("commit", () => {
      this.#db.transaction(() => this.#commit.run(expectKeyText(peerId, "peerId"), expectKeyText(nonce, "nonce"), this.#owner)).immediate();
    });
  }

  release(peerId: string, nonce: string): void {
    expectReplayPair(peerId, nonce);
    this.#run("release", () => this.#release.immediate(expectKeyText(peerId, "peerId"), expectKeyText(nonce, "nonce")));
  }

  /**
   * Deletes the pairs of the file past their keep_until (their timestamp plus the larger of the
   * retentionSecs of the store that reserved them and the file's retention floor then) at `now`
   * (unix seconds, a safe integer >= 0: anything else, Infinity or a string, would delete live
   * pairs or nothing, and is INVALID_ARGUMENT); returns how many. By default at this host's clock
   * less CLOCK_GRACE_SECS, where the store's own prunes run: a pair a reserve may still take is
   * never deleted by default; then a host clock that reads no plausible time (hostClockSeconds) is
   * HOST_CLOCK_IMPLAUSIBLE, not INVALID_ARGUMENT (no argument was given), and one less than
   * CLOCK_GRACE_SECS after 1970 (fake timers at 0) deletes nothing: no keep_until is below it.
   */
  prune(now?: number): number {
    return this.#run("prune", () => {
      if (now === undefined) {
        const wall = graceClock(); // below 0 in the first minute after 1970: deletes nothing
        if (wall === undefined) throw new SqliteStoreError("HOST_CLOCK_IMPLAUSIBLE", `prune(): this host's clock reads ${String(Date.now())} ms, no plausible time to prune at (pass now)`);
        return this.#pruneBatches(wall, Infinity);
      }
      if (typeof now !== "number" || !isSafeInteger(now) || now < 0) throw new SqliteStoreError("INVALID_ARGUMENT", "now must be a safe integer >= 0 (unix seconds)");
      // Date.now() (milliseconds) for unix seconds would delete every live pair of the file (review 59).
      if (now > MAX_PLAUSIBLE_UNIX_SECONDS) throw new SqliteStoreError("INVALID_ARGUMENT", `now ${now} is not unix seconds (milliseconds?): above ${MAX_PLAUSIBLE_UNIX_SECONDS}, the year 5138`);
      return this.#pruneBatches(now, Infinity);
    });
  }

  /** Up to `maxBatches` prune batches at `now`, each its own transaction, until one finds fewer than a batch; how many pairs went. */
  #pruneBatches(now: number, maxBatches: number): number {
    let deleted = 0;
    for (let batch = 0; batch < maxBatches; batch++) {
      const n = this.#prune.immediate(now);
      deleted += n;
      if (n < PRUNE_BATCH_PAIRS) break;
    }
    return deleted;
  }

  /**
   * The file's retention floor: the largest retentionSecs registered on the file by the stores
   * that opened it (or put back by a reserve), unless lowered since by lowerRetentionFloor(); 0
   * when the file holds none (its row deleted by hand: the next reserve puts its store's back).
   * A pair reserved now is kept until its timestamp plus the larger of this and retentionSecs.
   */
  retentionFloor(): number {
    return this.#run("retentionFloor", () => this.#floor() ?? 0);
  }

  /**
   * Sets the file's retention floor to this store's retentionSecs and returns the floor it
   * replaces (0 if none), for an operator who has lowered the retention of every process on the
   * file and wants the storage back: the floor never goes down by itself. Pairs already on the
   * file keep their keep_until; pairs reserved from now on are kept for the new floor.
   *
   * Safe only once EVERY process on the file runs a retentionSecs at most this store's (so a skew
   * at most it too). A process still on a larger one raises the floor again on its next reserve,
   * but the pairs other processes reserve in between are kept for the lower retention only, and
   * that process may accept their envelopes again once they are pruned.
   * @throws SqliteStoreError STORE_CLOSED, DATABASE_BUSY, READ_ONLY, CORRUPT_ROW (a floor that is not a safe integer).
   */
  lowerRetentionFloor(): number {
    return this.#run("lowerRetentionFloor", () => this.#lowerFloor.immediate());
  }

  /** Number of rows (reserved and committed). */
  get size(): number {
    return this.#run("size", () => safeColumn(column(this.#db.prepare("SELECT count(*) AS n FROM chio_trust_replay").get() as object, "n"), "count"));
  }

  /** Closes the connection (idempotent). Reservations of this store still in flight stay held. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#db.close();
  }

  #run<T>(operation: string, body: () => T): T {
    if (this.#closed) throw new SqliteStoreError("STORE_CLOSED", `SqliteReplayStore ${operation} after close()`);
    try {
      this.#checkFile();
      return body();
    } catch (cause) {
      throw toStoreError(cause, `SqliteReplayStore ${operation}`);
    }
  }
}
hardenClass(SqliteReplayStore); // its statics and methods stay its own: see hardenClass
