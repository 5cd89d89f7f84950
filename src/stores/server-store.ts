// What the stores on a database server (src/stores/postgres.ts, src/stores/redis.ts) share: their
// typed error, option reading, the per-call timeout, the exact encoding of ids, and the
// argument checks of the ReplayStore port (docs/protocol.md §7, §8).
//
// Every failure of a server-backed store is a thrown SharedStoreError (its `cause` is the
// driver's error, if any); the exchange turns any throw or rejection of a store into
// PeerHandshakeError STORE_FAILED with this error attached, so an unreachable, slow or strange
// engine makes accepts and resolves fail closed.
import { isSafeInteger, mapGet, mapSet, mapSize, quoteJsonString, randomHex, readSettings, SetAtLoad, setAdd } from "../bytes.js";
import { MapAtLoad, mapDelete, mapHas, setClear, setDelete, setIteratorStep, setValues } from "../collections.js";
import { describeThrown, instanceOfOrFalse, nameError } from "../errors.js";
import { describeConfigValue, InvalidConfigError } from "../handshake/errors.js";
import { expectReplayPair } from "../handshake/ports.js";
import { expectUnixSeconds } from "../handshake/time.js";
import { parseJson, PromiseAtLoad, promiseThen } from "./builtins.js";

/** Stable codes of SharedStoreError. */
export type SharedStoreErrorCode =
  | "STORE_UNAVAILABLE" //      the engine refused, dropped or failed the call (driver error attached)
  | "STORE_TIMEOUT" //          no answer within operationTimeoutMs, or the server ended the statement (Postgres: statement_timeout, lock_timeout, or a cancel such as pg_cancel_backend)
  | "STORE_UNEXPECTED_REPLY" // the engine answered something this store never writes or asks for
  | "STORE_CLOSED" //           the store was closed
  | "SCHEMA_TOO_NEW" //         the tables were created by a newer version of this library
  | "SKEW_ABOVE_RETENTION" //   asked with a skew above maxSkewSecs: entries may already be gone
  | "PAST_WINDOW_ON_ENGINE_CLOCK" // the engine's clock is past the envelope's timestamp + skew: a replica whose clock runs behind the engine's, whose pair may already be gone
  | "ENGINE_CLOCK_AHEAD" //     the same refusal, with the engine's clock more than the skew ahead of the replica's `now`: one of the two clocks is wrong, and no envelope the replica takes can pass
  | "PEER_QUOTA_EXCEEDED" //    a peer reserved more pairs in one window than its quota allows
  | "KEY_TOO_LONG" //           peer id plus nonce above maxKeyUnits (the exchange asks `fits` first)
  | "TOO_MANY_IN_FLIGHT" //     this store instance already holds DEFAULT_MAX_IN_FLIGHT reservations in flight
  | "EVICTING_ENGINE" //        Redis evicts keys the store must keep (maxmemory-policy): checked on open, after every reconnection and every 5 s
  | "NOT_A_PRIMARY"; //         Redis answers as a replica (ROLE), checked as EVICTING_ENGINE, or a Postgres connection reaches a standby (pg_is_in_recovery(), asked once per connection): its reads may be stale and its writes fail

/** A server-backed store could not do what was asked; nothing was changed by this call unless it says so. */
export class SharedStoreError extends Error {
  readonly code: SharedStoreErrorCode;
  constructor(code: SharedStoreErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    nameError(this, "SharedStoreError");
    this.code = code;
  }
}

/**
 * The end of the message of a remove() whose entry did not read back: the entry is deleted all
 * the same (a way to clear a corrupt pin), and the error says so, as SharedStoreError's contract
 * asks of a call that changed something (review 47).
 */
export const REMOVED_ANYWAY = "; the entry was removed";

/** Default bound on one store call, in milliseconds, connecting included. */
export const DEFAULT_STORE_TIMEOUT_MS = 2000;
/** Largest maxSkewSecs a server-backed replay store takes (ten years), and so the largest retention floor. */
export const MAX_STORE_SKEW_SECS = 10 * 365 * 86400;

/** Default largest skew a server-backed replay store is asked with (the exchange's default skew). */
export const DEFAULT_STORE_MAX_SKEW_SECS = 300;
/** Default largest peer id plus nonce, in UTF-16 code units, a server-backed replay store keeps. */
export const DEFAULT_STORE_MAX_KEY_UNITS = 1024;

/**
 * The listed members of an options object, read once (a getter or Proxy trap runs once).
 * undefined means "no options". @throws InvalidConfigError, also for a member not listed (a
 * misspelt option).
 */
export function readOptions<K extends string>(value: unknown, name: string, keys: readonly K[]): Partial<Record<K, unknown>> {
  return readSettings(value, name, keys, (message, cause) => new InvalidConfigError(message, cause === undefined ? undefined : { cause }));
}

/** An integer option in [min, max], or its default when undefined. @throws InvalidConfigError. */
export function integerOption(value: unknown, name: string, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || !isSafeInteger(value) || value < min || value > max) {
    throw new InvalidConfigError(`${name} must be an integer in ${min}…${max}, got ${describeConfigValue(value)}`);
  }
  return value;
}

/**
 * `promise`, or a STORE_TIMEOUT rejection after `ms`. The call itself may still complete on the
 * server later; every store here is written so that such a late write can only hold a pair or
 * leave a pin as some caller asked, never accept anything (see each store's notes).
 */
export function withTimeout<T>(promise: PromiseLike<T>, ms: number, operation: string): Promise<T> {
  // Built from Promise and its `then` as they were at load, with no Promise.race or
  // Promise.prototype.finally: a replaced `finally` rewrote the reply a replay reservation got
  // (Redis's 0, held, read as 1), and a race that never subscribed left the timeout's rejection
  // unhandled, which ends the process (README "Hardening"). Resolving this promise with a value
  // that is an object still looks up its `then` (Object.prototype's, for a plain one), which the
  // README lists as out of reach; the replies here are strings, numbers and arrays of them.
  return new PromiseAtLoad<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new SharedStoreError("STORE_TIMEOUT", `${operation}: no answer within ${ms} ms`)), ms);
    (timer as { unref?: () => void }).unref?.();
    whenSettled(
      promise,
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}

/**
 * Calls `onFulfilled` or `onRejected` once `promise` settles, through Promise.prototype.then as
 * it was at load; a thenable that is no promise of this realm (a client passed in may return
 * one) is first adopted by a promise of our own (README "Hardening").
 */
export function whenSettled<T>(promise: PromiseLike<T>, onFulfilled: (value: T) => void, onRejected: (error: unknown) => void): void {
  let native: Promise<unknown>;
  try {
    promiseThen(promise as Promise<unknown>, () => undefined, () => undefined); // a TypeError for anything but a promise
    native = promise as Promise<unknown>;
  } catch {
    native = new PromiseAtLoad<unknown>((resolve) => resolve(promise));
  }
  promiseThen(native, onFulfilled as (value: unknown) => void, onRejected);
}

/** A driver's error as STORE_UNAVAILABLE (our own errors pass through). */
export function unavailable(operation: string, cause: unknown): SharedStoreError {
  if (instanceOfOrFalse(SharedStoreError, cause)) return cause;
  const reason = describeThrown(cause);
  return new SharedStoreError("STORE_UNAVAILABLE", `${operation}: ${reason}`, { cause });
}

/**
 * The exact, injective text form of an id or nonce kept on a server: its JSON string literal.
 * It is well-formed UTF-16 even when the string is not (lone surrogates become \udxxx), holds no
 * NUL (Postgres text cannot), and distinct strings never share a form (no case or Unicode
 * folding, no separator confusion).
 */
export function exactText(value: string): string {
  // JSON.stringify as it was at load: a replaced one made ids collide or change from call to
  // call, so a pin was not found and a replay was reserved as new (README "Hardening").
  return quoteJsonString(value);
}

/**
 * The string a server gave back for exactText(x), or a STORE_UNEXPECTED_REPLY. Only the very text
 * exactText writes reads back: another JSON spelling of the same string (escapes, spaces) is
 * refused, since the stores look ids up by that exact text, and a row listed under a spelling
 * no lookup matches could be neither resolved nor forgotten (review 47).
 */
export function fromExactText(text: unknown, what: string): string {
  if (typeof text === "string") {
    try {
      const value: unknown = parseJson(text);
      if (typeof value === "string" && exactText(value) === text) return value;
    } catch {
      // reported below
    }
  }
  throw new SharedStoreError("STORE_UNEXPECTED_REPLY", `${what} is not a stored id`);
}

/** Checks the arguments of ReplayStore.reserve against the store's bounds. */
export function checkReserveArguments(
  peerId: unknown,
  nonce: unknown,
  timestamp: unknown,
  now: unknown,
  skewSecs: unknown,
  maxSkewSecs: number,
  maxKeyUnits: number,
): void {
  checkPair(peerId, nonce, maxKeyUnits);
  // One call per argument, not a loop over an array: a replaced array iterator skipped them all.
  // INVALID_TIME unless a safe integer ≥ 0, the check ReplayCache and the SQLite store make.
  expectUnixSeconds(timestamp, "timestamp");
  expectUnixSeconds(now, "now");
  expectUnixSeconds(skewSecs, "skewSecs");
  // A store that forgets pairs at timestamp + maxSkewSecs cannot answer for a larger skew: a pair
  // it already dropped could pass the exchange's skew check again (docs/protocol.md §7).
  if ((skewSecs as number) > maxSkewSecs) {
    throw new SharedStoreError(
      "SKEW_ABOVE_RETENTION",
      `asked with skew ${skewSecs as number}s above this store's maxSkewSecs of ${maxSkewSecs}s, the skew it registered pairs to be kept for; raise maxSkewSecs first`,
    );
  }
}

/**
 * The refusal of a reserve once the engine's clock (whole seconds) is past the envelope's
 * `timestamp + skewSecs`, the skew the replica asks with (docs/protocol.md §8). The exchange takes
 * an envelope while its own `now ≤ timestamp + skew`, and every store keeps a pair at least until
 * `timestamp +` the retention floor (the largest maxSkewSecs registered, so at least every
 * replica's skew) on the engine's clock, so a pair that could have
 * been dropped is asked for only by a replica whose clock runs behind the engine's (or in the
 * moment a call crosses the window's last second). The store cannot tell such a replay from a
 * first use, so it refuses (review 75 F1: a replica 3 s slow accepted a replay for 3 s after the
 * pair was dropped, and the replay renewed a stale pin). The bound is the asked skew, not this
 * store's maxSkewSecs: another replica with a smaller maxSkewSecs may have dropped the pair at its
 * own bound (review 76 F1).
 */
export function pastWindowOnEngineClock(timestamp: number, skewSecs: number): SharedStoreError {
  return new SharedStoreError(
    "PAST_WINDOW_ON_ENGINE_CLOCK",
    `the engine's clock is past the envelope's timestamp ${timestamp} + skew ${skewSecs}: its pair may have been held and dropped, ` +
      "so it is refused; this replica's clock runs behind the engine's, or the window's last second passed during the call (a slow or stalled store call) (docs/protocol.md §8)",
  );
}

/**
 * The refusal of pastWindowOnEngineClock when the engine's clock is also more than `skewSecs`
 * ahead of the `now` the replica sent: then even an envelope stamped at the replica's `now` is
 * past its window on the engine's clock, so the caller cannot help it (a fresh envelope is refused
 * too); one of the two clocks is wrong, the server's side's fault (review 79 F1: answered over
 * HTTP as the caller's, 403, when the engine's host ran 400 s ahead).
 */
export function engineClockAhead(now: number, skewSecs: number): SharedStoreError {
  return new SharedStoreError(
    "ENGINE_CLOCK_AHEAD",
    `the engine's clock is more than the skew ${skewSecs}s ahead of this replica's now ${now}: no envelope this replica takes can be reserved; ` +
      "check the clocks of the replicas and of the store's server (docs/protocol.md §8)",
  );
}

/** Checks a (peer, nonce) pair's types (INVALID_TYPE, as every ReplayStore: pairFits's expectReplayPair) and size. */
export function checkPair(peerId: unknown, nonce: unknown, maxKeyUnits: number): void {
  if (!pairFits(peerId as string, nonce as string, maxKeyUnits)) {
    throw new SharedStoreError("KEY_TOO_LONG", `peer id plus nonce is longer than maxKeyUnits (${maxKeyUnits})`);
  }
}

/**
 * Whether a pair is within the store's size bound (ReplayStore.fits). A pair that is not two
 * strings is INVALID_TYPE, as ReplayCache.fits throws, not false (hunt 58: the exchange would have
 * refused it as MALFORMED_ENVELOPE, a direct caller learnt "too long").
 */
export function pairFits(peerId: string, nonce: string, maxKeyUnits: number): boolean {
  expectReplayPair(peerId, nonce);
  return peerId.length + nonce.length <= maxKeyUnits;
}

/** A random reservation token: 128 bits, hex. */
export function reservationToken(): string {
  return randomHex(16);
}

/**
 * The tokens of this process's reservations in flight (between reserve and commit/release), so
 * `release` removes only the reservation it made, never one another replica took over after the
 * first went dead. Bounded: when full, new reservations are refused (TOO_MANY_IN_FLIGHT, before
 * the server is asked) rather than an older token dropped, which would let that accept's pair be
 * taken over here and its late `release` delete the newer reservation (review-37).
 *
 * A pair in flight here is held, whatever the time, as the ReplayStore port says and as
 * ReplayCache and the SQLite store do: the server's rows expire at timestamp + skew, but an
 * accept of this process that stalled past that is not dead, and taking its pair over would let
 * its late `release` (keyed by pair, not by accept) delete the newer reservation, making that
 * envelope replayable (review-32 D5). So `reserve` asks `admit` before the server, and `claim`
 * refuses a second reservation of a pair that began in flight meanwhile.
 */
export class InFlightTokens<Token = string> {
  // Map and its methods as they were at load (README "Hardening").
  readonly #tokens = new MapAtLoad<string, Token>();
  readonly #max: number;
  constructor(max: number) {
    this.#max = max;
  }
  static key(peerId: string, nonce: string): string {
    return `${exactText(peerId)}\u0000${exactText(nonce)}`; // exactText holds no NUL: unambiguous
  }
  /** Whether a reservation of the pair is in flight in this process. */
  has(key: string): boolean {
    return mapHas(this.#tokens, key);
  }
  /** Throws SharedStoreError TOO_MANY_IN_FLIGHT when no further reservation can be remembered. */
  assertRoom(): void {
    if (mapSize(this.#tokens) >= this.#max) {
      throw new SharedStoreError("TOO_MANY_IN_FLIGHT", `${this.#max} reservations are in flight in this store instance; refused until some end`);
    }
  }
  /**
   * What a store's `reserve` asks before the server: false if the pair is in flight here (held:
   * the caller answers REPLAYED_NONCE), TOO_MANY_IN_FLIGHT if the table is full, else true.
   */
  admit(key: string): boolean {
    if (mapHas(this.#tokens, key)) return false;
    this.assertRoom();
    return true;
  }
  /**
   * Records the token of a reservation the server granted, unless another reservation of the
   * same pair is already in flight here (two reserves raced past `admit`) or the bound was reached
   * meanwhile (reserves raced past its room check): then false, and the caller refuses, leaving the
   * server's row held until it expires (fail closed). Never drops another token.
   */
  claim(key: string, token: Token): boolean {
    if (mapHas(this.#tokens, key) || mapSize(this.#tokens) >= this.#max) return false;
    mapSet(this.#tokens, key, token);
    return true;
  }
  take(key: string): Token | undefined {
    const token = mapGet(this.#tokens, key);
    mapDelete(this.#tokens, key);
    return token;
  }
  get size(): number {
    return mapSize(this.#tokens);
  }
}

/** Default bound on reservations in flight per store instance. */
export const DEFAULT_MAX_IN_FLIGHT = 65536;

/**
 * A store's calls in flight, for close(): each call's answer goes through unlessClosed, and
 * refuseAll() rejects every one still pending with STORE_CLOSED at once. An engine's pool or
 * client may hold a call after its close (pg serves none still waiting for a connection;
 * node-redis answers what it already sent): without this such calls never settled, or settled
 * after close() returned, their writes done (helper 143 for Postgres, hunt 18 for Redis). A
 * statement already sent may still run; its caller learns STORE_CLOSED, a failure, whose write
 * the exchange treats as of unknown outcome (docs/protocol.md §5).
 */
export class CallsInFlight {
  readonly #refusals = new SetAtLoad<() => void>();

  /** `answer`, or STORE_CLOSED as soon as refuseAll() runs while it is pending. */
  unlessClosed<T>(answer: Promise<T>, operation: string): Promise<T> {
    return new PromiseAtLoad<T>((resolve, reject) => {
      const refuse = () => reject(new SharedStoreError("STORE_CLOSED", `${operation}: the store was closed while this call was in flight`));
      setAdd(this.#refusals, refuse);
      whenSettled(
        answer,
        (value) => {
          setDelete(this.#refusals, refuse);
          resolve(value);
        },
        (error) => {
          setDelete(this.#refusals, refuse);
          reject(error);
        },
      );
    });
  }

  /** Refuses every call still pending (close()). */
  refuseAll(): void {
    const refusals = setValues(this.#refusals);
    for (let step = setIteratorStep(refusals); !step.done; step = setIteratorStep(refusals)) step.value();
    setClear(this.#refusals);
  }
}
