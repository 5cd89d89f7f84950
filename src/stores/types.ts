// The pluggable pinned-peer store (Rust `FederationPeerStore`, chio-spec.md §1.A), widened in
// two ways: every method may return its result directly or as a promise, so a database-backed
// store fits; and `compareAndSet` lets the exchange pin atomically, so two concurrent handshakes
// cannot both "pin first" (protocol-anchors.md §8 item 11).
import type { FederationPeer } from "../handshake/peer.js";

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
