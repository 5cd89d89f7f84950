// Bounded memory of recently accepted (peer, nonce) pairs.
//
// The reference does not track nonces ("replay protection belongs to the transport"), so a
// captured envelope can be re-accepted until its timestamp leaves the skew window. An envelope
// stamped `ts` is acceptable while |ts − now| ≤ skew; if it was first accepted at local time t0,
// then ts ≥ t0 − skew, so a replay can succeed until now = ts + skew ≤ t0 + 2·skew. Remembering
// each pair for twice the skew window after acceptance therefore closes that gap
// (protocol-anchors.md §8 item 1(b); ACME's early ±5 min / 5 min design).
//
// Memory is bounded by an entry count and by the summed key length; when either is exceeded
// the oldest entries are evicted first. An evicted pair can be replayed again while its
// timestamp is still within the skew window, so size the bounds above the peak handshake rate
// times 2·skew. A pair longer than maxKeyUnits on its own cannot be remembered at all: it is
// never recorded (rather than evicting every other entry to make room), and the exchange
// refuses such envelopes before pinning (see `fits`). Only envelopes that are authenticated by the expected key are ever recorded
// (see KernelTrustExchange.acceptEnvelope), so unauthenticated traffic cannot fill the cache.
import { DEFAULT_REPLAY_CACHE_ENTRIES, DEFAULT_REPLAY_CACHE_KEY_UNITS } from "./constants.js";
import { InvalidConfigError } from "./errors.js";

/** Bounds of a ReplayCache. */
export interface ReplayCacheLimits {
  /** Most pairs remembered at once. Default 10,000. */
  maxEntries?: number;
  /** Most UTF-16 code units of peer ids plus nonces remembered at once. Default 4 Mi. */
  maxKeyUnits?: number;
}

export class ReplayCache {
  readonly maxEntries: number;
  readonly maxKeyUnits: number;
  // Map iteration order is insertion order, i.e. oldest first. Value: the last second (inclusive) to remember the pair.
  readonly #expiry = new Map<string, number>();
  // Pairs whose accept is in flight (between the replay check and the pin). A second accept of
  // the same pair meanwhile is a replay too, even though the first has not been recorded yet.
  readonly #pending = new Set<string>();
  #keyUnits = 0;

  constructor(limits: ReplayCacheLimits = {}) {
    this.maxEntries = positiveInteger(limits.maxEntries ?? DEFAULT_REPLAY_CACHE_ENTRIES, "maxEntries");
    this.maxKeyUnits = positiveInteger(limits.maxKeyUnits ?? DEFAULT_REPLAY_CACHE_KEY_UNITS, "maxKeyUnits");
  }

  /** Number of remembered pairs (in-flight ones not counted). */
  get size(): number {
    return this.#expiry.size;
  }

  /** True if the pair was recorded and `now` is not past its retention, or an accept of it is in flight. */
  has(peerId: string, nonce: string, now: number): boolean {
    const key = pairKey(peerId, nonce);
    if (this.#pending.has(key)) return true;
    const until = this.#expiry.get(key);
    return until !== undefined && now <= until;
  }

  /** False if the pair alone is longer than maxKeyUnits, so it could never be remembered. */
  fits(peerId: string, nonce: string): boolean {
    return pairKey(peerId, nonce).length <= this.maxKeyUnits;
  }

  /** Marks the pair as in flight. Returns false if it is already remembered or in flight. */
  reserve(peerId: string, nonce: string, now: number): boolean {
    if (this.has(peerId, nonce, now)) return false;
    this.#pending.add(pairKey(peerId, nonce));
    return true;
  }

  /** Ends an in-flight accept; records the pair until `rememberUntil` when the accept succeeded. */
  settle(peerId: string, nonce: string, accepted: boolean, now: number, rememberUntil: number): void {
    const key = pairKey(peerId, nonce);
    this.#pending.delete(key);
    if (accepted) this.#record(key, now, rememberUntil);
  }

  /** Forgets everything (for example after a key compromise is handled out of band). */
  clear(): void {
    this.#expiry.clear();
    this.#keyUnits = 0;
  }

  #record(key: string, now: number, until: number): void {
    if (key.length > this.maxKeyUnits) return; // see `fits`: recording it would evict everything else
    const previous = this.#expiry.get(key);
    if (previous !== undefined) {
      this.#expiry.delete(key);
      this.#keyUnits -= key.length;
    }
    this.#expiry.set(key, until);
    this.#keyUnits += key.length;
    this.#evict(now);
  }

  #evict(now: number): void {
    for (const [key, until] of this.#expiry) {
      const overBudget = this.#expiry.size > this.maxEntries || this.#keyUnits > this.maxKeyUnits;
      // Stop at the first live entry once within bounds; expired ones at the front go anyway.
      if (!overBudget && now <= until) break;
      this.#expiry.delete(key);
      this.#keyUnits -= key.length;
    }
  }
}

// Length-prefixing the peer id makes the pair encoding unambiguous ("ab"+"c" vs "a"+"bc").
function pairKey(peerId: string, nonce: string): string {
  return `${peerId.length}:${peerId}${nonce}`;
}

function positiveInteger(value: unknown, name: string): number {
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 1) {
    throw new InvalidConfigError(`replay cache ${name} must be a positive integer, got ${String(value)}`);
  }
  return value;
}
