// The ports of the handshake: the storage it needs, declared here by the layer that uses it
// (docs/protocol.md §8). Adapters (the in-memory defaults in this folder, database-backed stores
// in src/stores/ or in applications) implement them; the handshake never imports an adapter
// outside this folder.
//
// FederationPeerStore is the reference's pluggable pinned-peer store, widened in two ways: every
// method may return its result directly or as a promise, so a database-backed store fits; and
// `compareAndSet` lets the exchange pin atomically, so two concurrent handshakes cannot both
// "pin first" (docs/protocol.md §6).
import { InvalidTypeError } from "../errors.js";
import { FederationPeer } from "./peer.js";

/** A value, or a promise of it. */
export type MaybePromise<T> = T | PromiseLike<T>;

/**
 * Storage for pinned peers, keyed by kernel id.
 *
 * Contract:
 * - Returned peers must not alias stored state: a caller mutating (or holding) a returned value
 *   must never change what the store holds. FederationPeer instances are frozen, so returning
 *   the stored instance is enough; stores that rebuild records (from rows, JSON) return new ones.
 * - `compareAndSet(kernelId, expected, next)` writes `next` only if the current entry equals
 *   `expected` (all four fields, see FederationPeer.equals), with `undefined` meaning "no entry",
 *   and returns whether it wrote. It must be atomic with respect to every other write.
 * - Any throw or rejection is reported by the exchange as PeerHandshakeError STORE_FAILED.
 */
export interface FederationPeerStore {
  /** Stores `peer`, replacing any entry with the same kernel id. */
  insert(peer: FederationPeer): MaybePromise<void>;
  /** The entry for `kernelId`, or undefined (null is accepted as "none" too). */
  get(kernelId: string): MaybePromise<FederationPeer | undefined | null>;
  /** Removes and returns the entry for `kernelId`, or undefined if there was none. */
  remove(kernelId: string): MaybePromise<FederationPeer | undefined | null>;
  /** Every entry, in no particular order. */
  snapshot(): MaybePromise<readonly FederationPeer[]>;
  /** Atomic conditional write; see the contract above. */
  compareAndSet(kernelId: string, expected: FederationPeer | undefined, next: FederationPeer): MaybePromise<boolean>;
}

/**
 * Memory of the (peer, nonce) pairs this kernel has accepted, so a captured envelope cannot be
 * accepted twice (docs/protocol.md §7). The default is the bounded in-memory ReplayCache; a
 * store shared by several processes (a database table, a key-value store with expiry) makes
 * replay protection hold across them.
 *
 * Each pair is kept with the timestamp of the envelope that carried it, not with an expiry
 * computed when it was accepted: an identical replay carries the same timestamp and passes the
 * exchange's clock-skew check exactly while `now ≤ timestamp + skewSecs` under the skew in force
 * at THAT moment, so a pair is live while `now ≤ timestamp + skewSecs` with the `skewSecs` passed
 * to the call that asks. Raising the skew later therefore keeps old pairs refused for as long as
 * their envelopes could pass again. A store that expires entries by itself must keep each one at
 * least until `timestamp + (largest skew it will ever be asked with)` on the clock of the slowest
 * replica that asks; a store on a server of its own keeps them until that bound on the server's
 * clock and refuses (throws) a reserve once the server's clock is past `timestamp + skewSecs`,
 * whatever `now` says, since the pair may be gone then (docs/protocol.md §8; review 75 F1).
 *
 * Protocol, per accept (the exchange calls these only after the envelope is authenticated by the
 * expected key, docs/protocol.md §5 step 8):
 * 1. `reserve` — one atomic step: if the pair is held (live, or reserved by an accept in flight)
 *    return false (REPLAYED_NONCE); otherwise hold it and return true. Two concurrent accepts of
 *    one pair: exactly one gets true. (The shared server stores know "in flight" only per handle:
 *    past the pair's window another replica's handle may take over a pair whose accept stalled,
 *    for a new envelope reusing the nonce; an identical replay is never past its own window.)
 * 2. then exactly one of
 *    - `release` — the accept failed after reserving, before any pin write was sent: undo the
 *      reservation so the store is as it was before `reserve` (the same envelope may be accepted later);
 *    - `commit` — the pin was written, or a pin write failed in the peer store (threw, rejected,
 *      timed out) and may still have landed: keep the pair. A store that already recorded the pair in
 *      `reserve` may do nothing here. `commit` runs after the pin is written, so its failure
 *      cannot undo the accept; the exchange ignores it, and the pair stays held by its reservation.
 *      The exchange does not wait for a promise `commit` returns: the accept answers once the pin
 *      is written. It waits for `release`'s, so the pair is free when the refusal is answered.
 *
 * Timestamps above 2^53−1 (possible only with `requireSafeTimestamps: false`) are passed as
 * Number.MAX_SAFE_INTEGER, i.e. "live until evicted". A throw or a rejection from `reserve`
 * makes the accept fail with PeerHandshakeError STORE_FAILED (cause attached) and nothing is
 * pinned; one from `release` or `commit` is ignored (the accept keeps its own outcome, and the
 * pair stays held until it expires).
 */
export interface ReplayStore {
  /** Atomically holds (peerId, nonce) unless it is already held; see the protocol above. */
  reserve(peerId: string, nonce: string, timestamp: number, now: number, skewSecs: number): MaybePromise<boolean>;
  /** Keeps a reserved pair after a successful accept. */
  commit(peerId: string, nonce: string): MaybePromise<void>;
  /** Undoes a reservation whose accept failed. */
  release(peerId: string, nonce: string): MaybePromise<void>;
  /**
   * Optional: false if the store could never hold this pair (for example it is longer than a
   * per-peer bound). The exchange refuses such envelopes (MALFORMED_ENVELOPE) rather than accept
   * them without replay protection. Like the other methods it may answer with a promise; a throw,
   * a rejection or an answer that is not a boolean is STORE_FAILED.
   */
  fits?(peerId: string, nonce: string): MaybePromise<boolean>;
}

/**
 * The type check of a ReplayStore method's (peerId, nonce), declared once for every adapter (the
 * in-memory ReplayCache, the SQLite, Postgres and Redis stores): a non-string id or nonce throws
 * InvalidTypeError INVALID_TYPE from each method, `fits` included, before the store is read or
 * changed. The exchange always passes strings; a direct caller gets the same typed error whichever
 * store it holds (hunt 58: the SQLite store's `fits(5, "n")` answered false, the server stores'
 * `commit` ignored such a pair, the SQLite store threw its own INVALID_ARGUMENT).
 */
export function expectReplayPair(peerId: unknown, nonce: unknown): void {
  expectReplayId(peerId, "peerId");
  expectReplayId(nonce, "nonce");
}

/** One of them (ReplayCache.sizeOf takes a peer id alone). */
export function expectReplayId(value: unknown, name: string): void {
  if (typeof value !== "string") throw new InvalidTypeError(`${name} must be a string`);
}

/**
 * The type checks of a FederationPeerStore method's arguments, declared once for every adapter (the
 * in-memory store, the SQLite, Postgres and Redis stores): a kernel id that is not a string, a peer
 * (or compareAndSet's `next`, or an `expected` other than undefined) that is not a FederationPeer,
 * and a `next` of another kernel id throw InvalidTypeError INVALID_TYPE before the store is read or
 * changed (hunt 58: the SQLite store threw its own INVALID_ARGUMENT for them).
 */
export function expectPinKernelId(kernelId: unknown): string {
  if (typeof kernelId !== "string") throw new InvalidTypeError("kernelId must be a string");
  return kernelId;
}

/** See expectPinKernelId. */
export function expectPin(peer: unknown, name = "peer"): FederationPeer {
  if (!(peer instanceof FederationPeer)) throw new InvalidTypeError(`${name} must be a FederationPeer`);
  return peer;
}

/** compareAndSet's arguments (see expectPinKernelId). */
export function expectCompareAndSet(kernelId: unknown, expected: unknown, next: unknown): void {
  expectPinKernelId(kernelId);
  const checked = expectPin(next, "next");
  // Undefined is "no entry"; anything else but a FederationPeer (null, a plain object) is refused,
  // not answered false (a pin that could never be written).
  if (expected !== undefined) expectPin(expected, "expected");
  if (checked.kernelId !== kernelId) throw new InvalidTypeError(`peer ${checked.kernelId} cannot be stored under ${kernelId as string}`);
}
