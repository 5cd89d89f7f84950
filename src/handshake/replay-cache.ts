// Bounded memory of recently accepted (peer, nonce) pairs.
//
// The reference does not track nonces ("replay protection belongs to the transport"), so a
// captured envelope can be re-accepted until its timestamp leaves the skew window. An envelope
// stamped `ts` is acceptable while |ts − now| ≤ skew; if it was first accepted at local time t0,
// then ts ≥ t0 − skew, so a replay can succeed until now = ts + skew ≤ t0 + 2·skew. Remembering
// each pair for twice the skew window after acceptance therefore closes that gap
// (protocol-anchors.md §8 item 1(b); ACME's early ±5 min / 5 min design).
//
// Memory is bounded twice:
// - per peer, by `maxEntriesPerPeer` pairs and `maxKeyUnitsPerPeer` code units (peer id plus
//   nonce, per pair). A peer over its quota evicts only ITS OWN oldest pairs, so one trusted peer
//   sending many fresh envelopes within 2·skew cannot push other peers' pairs out and re-open
//   replay of their captured envelopes. It can re-open replay of its own oldest envelopes, which
//   only a peer handshaking faster than maxEntriesPerPeer per 2·skew (default 1024 per 600 s,
//   where an honest kernel handshakes about once per rotation window) can cause.
// - in total, by `maxEntries` pairs and `maxKeyUnits` code units; when either is exceeded the
//   oldest pairs of ANY peer are evicted first. The per-peer quota does not remove this bound:
//   many distinct trusted peers, each within its quota, can together still fill the cache and
//   evict each other's pairs (with the defaults, ten peers at their full entry quota). A pair
//   is protected from every other peer only while maxEntries ≥ (peers) × maxEntriesPerPeer and
//   maxKeyUnits ≥ (peers) × maxKeyUnitsPerPeer; size the bounds above the peak handshake rate
//   times 2·skew.
// An evicted pair can be replayed again while its timestamp is still within the skew window.
// A pair longer than maxKeyUnitsPerPeer on its own cannot be remembered at all: it is never
// recorded (rather than evicting every other entry to make room), and the exchange refuses such
// envelopes before pinning (see `fits`). Only envelopes that are authenticated by the expected
// key are ever recorded (see KernelTrustExchange.acceptEnvelope), so unauthenticated traffic
// cannot fill the cache.
import {
  DEFAULT_REPLAY_CACHE_ENTRIES,
  DEFAULT_REPLAY_CACHE_ENTRIES_PER_PEER,
  DEFAULT_REPLAY_CACHE_KEY_UNITS,
  DEFAULT_REPLAY_CACHE_KEY_UNITS_PER_PEER,
} from "./constants.js";
import { InvalidConfigError } from "./errors.js";

/** Bounds of a ReplayCache. */
export interface ReplayCacheLimits {
  /** Most pairs remembered at once, over all peers. Default 10,000. */
  maxEntries?: number;
  /** Most UTF-16 code units of peer ids plus nonces remembered at once, over all peers. Default 4 Mi. */
  maxKeyUnits?: number;
  /** Most pairs remembered for one peer; more evict that peer's own oldest. Default 1024 (at most maxEntries). */
  maxEntriesPerPeer?: number;
  /** Most code units (peer id plus nonce, per pair) remembered for one peer. Default 512 Ki (at most maxKeyUnits). */
  maxKeyUnitsPerPeer?: number;
}

/** One remembered pair. The same object sits in its peer's map and in the global age order. */
interface ReplayEntry {
  readonly peer: PeerNonces;
  readonly nonce: string;
  /** The last second (inclusive) to remember the pair. */
  readonly until: number;
  /** Code units charged for the pair: peer id plus nonce. */
  readonly units: number;
}

/** The pairs remembered for one peer; Map iteration order is insertion order, i.e. oldest first. */
interface PeerNonces {
  readonly peerId: string;
  readonly entries: Map<string, ReplayEntry>;
  units: number;
}

export class ReplayCache {
  readonly maxEntries: number;
  readonly maxKeyUnits: number;
  readonly maxEntriesPerPeer: number;
  readonly maxKeyUnitsPerPeer: number;
  // Peer id → its pairs. A peer with no pair left is removed, so this is bounded by maxEntries.
  readonly #peers = new Map<string, PeerNonces>();
  // Every remembered pair, oldest first (a Set keeps insertion order and deletes in O(1)).
  readonly #byAge = new Set<ReplayEntry>();
  // Pairs whose accept is in flight (between the replay check and the pin), by peer: the nonce
  // itself while a peer has one in flight (the common case, no allocation), a Set beyond. A second
  // accept of the same pair meanwhile is a replay too, even though the first is not recorded yet.
  readonly #pending = new Map<string, string | Set<string>>();
  #keyUnits = 0;

  constructor(limits: ReplayCacheLimits = {}) {
    this.maxEntries = positiveInteger(limits.maxEntries ?? DEFAULT_REPLAY_CACHE_ENTRIES, "maxEntries");
    this.maxKeyUnits = positiveInteger(limits.maxKeyUnits ?? DEFAULT_REPLAY_CACHE_KEY_UNITS, "maxKeyUnits");
    this.maxEntriesPerPeer = Math.min(
      positiveInteger(limits.maxEntriesPerPeer ?? DEFAULT_REPLAY_CACHE_ENTRIES_PER_PEER, "maxEntriesPerPeer"),
      this.maxEntries,
    );
    this.maxKeyUnitsPerPeer = Math.min(
      positiveInteger(limits.maxKeyUnitsPerPeer ?? DEFAULT_REPLAY_CACHE_KEY_UNITS_PER_PEER, "maxKeyUnitsPerPeer"),
      this.maxKeyUnits,
    );
  }

  /** Number of remembered pairs (in-flight ones not counted). */
  get size(): number {
    return this.#byAge.size;
  }

  /** Number of remembered pairs of one peer (in-flight ones not counted). */
  sizeOf(peerId: string): number {
    return this.#peers.get(peerId)?.entries.size ?? 0;
  }

  /** True if the pair was recorded and `now` is not past its retention, or an accept of it is in flight. */
  has(peerId: string, nonce: string, now: number): boolean {
    const pending = this.#pending.get(peerId);
    if (pending !== undefined && (typeof pending === "string" ? pending === nonce : pending.has(nonce))) return true;
    const entry = this.#peers.get(peerId)?.entries.get(nonce);
    return entry !== undefined && now <= entry.until;
  }

  /** False if the pair alone is longer than maxKeyUnitsPerPeer, so it could never be remembered. */
  fits(peerId: string, nonce: string): boolean {
    return peerId.length + nonce.length <= this.maxKeyUnitsPerPeer;
  }

  /** Marks the pair as in flight. Returns false if it is already remembered or in flight. */
  reserve(peerId: string, nonce: string, now: number): boolean {
    if (this.has(peerId, nonce, now)) return false;
    const pending = this.#pending.get(peerId);
    if (pending === undefined) this.#pending.set(peerId, nonce);
    else if (typeof pending === "string") this.#pending.set(peerId, new Set([pending, nonce]));
    else pending.add(nonce);
    return true;
  }

  /** Ends an in-flight accept; records the pair until `rememberUntil` when the accept succeeded. */
  settle(peerId: string, nonce: string, accepted: boolean, now: number, rememberUntil: number): void {
    const pending = this.#pending.get(peerId);
    if (pending === nonce || (typeof pending === "object" && pending.delete(nonce) && pending.size === 0)) this.#pending.delete(peerId);
    if (accepted) this.#record(peerId, nonce, now, rememberUntil);
  }

  /** Forgets everything (for example after a key compromise is handled out of band). */
  clear(): void {
    this.#peers.clear();
    this.#byAge.clear();
    this.#keyUnits = 0;
  }

  #record(peerId: string, nonce: string, now: number, until: number): void {
    const units = peerId.length + nonce.length;
    if (units > this.maxKeyUnitsPerPeer) return; // see `fits`: recording it would evict everything else
    const previous = this.#peers.get(peerId)?.entries.get(nonce);
    if (previous !== undefined) this.#remove(previous); // re-recorded: it moves to the newest end
    let peer = this.#peers.get(peerId);
    if (peer === undefined) {
      peer = { peerId, entries: new Map(), units: 0 };
      this.#peers.set(peerId, peer);
    }
    const entry: ReplayEntry = { peer, nonce, until, units };
    peer.entries.set(nonce, entry);
    peer.units += units;
    this.#byAge.add(entry);
    this.#keyUnits += units;
    // Over its own quota, the peer loses its own oldest pairs (`entry` is its newest and fits alone).
    while (peer.entries.size > this.maxEntriesPerPeer || peer.units > this.maxKeyUnitsPerPeer) {
      this.#remove(peer.entries.values().next().value!);
    }
    this.#evictGlobally(now);
  }

  #evictGlobally(now: number): void {
    for (const entry of this.#byAge) {
      const overBudget = this.#byAge.size > this.maxEntries || this.#keyUnits > this.maxKeyUnits;
      // Stop at the first live entry once within bounds; expired ones at the front go anyway.
      if (!overBudget && now <= entry.until) break;
      this.#remove(entry);
    }
  }

  #remove(entry: ReplayEntry): void {
    const peer = entry.peer;
    peer.entries.delete(entry.nonce);
    peer.units -= entry.units;
    if (peer.entries.size === 0) this.#peers.delete(peer.peerId);
    this.#byAge.delete(entry);
    this.#keyUnits -= entry.units;
  }
}

function positiveInteger(value: unknown, name: string): number {
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 1) {
    throw new InvalidConfigError(`replay cache ${name} must be a positive integer, got ${String(value)}`);
  }
  return value;
}
