// Bounded memory of recently accepted (peer, nonce) pairs: the default ReplayStore
// (src/handshake/ports.ts; docs/protocol.md §7).
//
// The reference does not track nonces ("replay protection belongs to the transport"), so a
// captured envelope can be re-accepted until its timestamp leaves the skew window. Each pair is
// kept with its envelope's own timestamp `ts`, and is live while `now ≤ ts + skew` with the skew
// passed by the caller that asks, i.e. the skew in force at that moment: exactly as long as an
// identical replay could pass the clock-skew check. A retention computed once, when the pair was
// accepted, would re-open replay as soon as the skew is raised (defect 6). For the same reason
// pairs are NOT dropped just because they are past `ts + skew` today: a later, larger skew would
// make them replayable again. They are dropped only to stay within the bounds below, oldest first.
//
// Memory is bounded twice:
// - per peer, by `maxEntriesPerPeer` pairs and `maxKeyUnitsPerPeer` code units (peer id plus
//   nonce, per pair). A peer over its quota evicts only ITS OWN oldest pairs, so one trusted peer
//   sending many fresh envelopes cannot push other peers' pairs out and re-open replay of their
//   captured envelopes. It can re-open replay of its own oldest envelopes, which only a peer
//   handshaking faster than maxEntriesPerPeer per skew window (default 1024, where an honest
//   kernel handshakes about once per rotation window) can cause.
// - in total, by `maxEntries` pairs and `maxKeyUnits` code units; when either is exceeded the
//   oldest pairs of ANY peer are evicted first. The per-peer quota does not remove this bound:
//   many distinct trusted peers, each within its quota, can together still fill the cache and
//   evict each other's pairs (with the defaults, ten peers at their full entry quota). A pair
//   is protected from every other peer only while maxEntries ≥ (peers) × maxEntriesPerPeer and
//   maxKeyUnits ≥ (peers) × maxKeyUnitsPerPeer; size the bounds above the peak handshake rate
//   times the skew window.
// An evicted pair can be replayed again while its timestamp is still within the skew window.
// The bounds are fixed for a cache's life: KernelTrustExchange.withHardening refuses new limits
// while its cache holds a pair (recorded or in flight), as a new cache would start empty.
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
import { describeConfigValue, InvalidConfigError } from "./errors.js";
import { expectUnixSeconds } from "./time.js";
import { hardenClass, SetAtLoad, isSafeInteger, mapClear, mapGet, mapSet, mapSize, readSettings, setAdd } from "../bytes.js";
import { MapAtLoad, mapDelete, mapHas, mapIteratorStep, mapValues, setClear, setDelete, setIteratorStep, setSize, setValues } from "../collections.js";
import { InvalidLengthError } from "../errors.js";

/** The members of ReplayCacheLimits. */
const LIMIT_KEYS = ["maxEntries", "maxKeyUnits", "maxEntriesPerPeer", "maxKeyUnitsPerPeer"] as const;
import { expectReplayId as checkId, expectReplayPair as checkPair, type ReplayStore } from "./ports.js";

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
  /** The timestamp of the envelope that carried the pair; live while now ≤ timestamp + skew. */
  readonly timestamp: number;
  /** Code units charged for the pair: peer id plus nonce. */
  readonly units: number;
}

/** The pairs remembered for one peer; Map iteration order is insertion order, i.e. oldest first. */
interface PeerNonces {
  readonly peerId: string;
  readonly entries: Map<string, ReplayEntry>;
  units: number;
}

/** @internal True while the cache holds no pair, recorded or in flight (KernelTrustExchange.withHardening). */
export let replayCacheEmpty: (cache: ReplayCache) => boolean;

/** The default ReplayStore: bounded, in this process, synchronous (so `reserve` is atomic). */
export class ReplayCache implements ReplayStore {
  readonly maxEntries: number;
  readonly maxKeyUnits: number;
  readonly maxEntriesPerPeer: number;
  readonly maxKeyUnitsPerPeer: number;
  // Peer id → its pairs. A peer with no pair left is removed, so this is bounded by maxEntries.
  // These tables are read and written with Map's and Set's methods as captured at load
  // (src/bytes.ts, src/collections.ts):
  // a replaced Map.prototype.get would answer "never seen" for a replayed pair.
  readonly #peers = new MapAtLoad<string, PeerNonces>();
  // Every remembered pair, oldest first (a Set keeps insertion order and deletes in O(1)).
  readonly #byAge = new SetAtLoad<ReplayEntry>();
  // Pairs reserved by an accept in flight (between reserve and commit/release), by peer, with
  // their envelope timestamps. A second accept of the same pair meanwhile is a replay too, even
  // though the first is not recorded yet. Bounded by the number of accepts in flight.
  readonly #pending = new MapAtLoad<string, Map<string, number>>();
  #keyUnits = 0;

  /**
   * @param limits the bounds; omitted (or undefined) means the defaults.
   * @throws InvalidConfigError when `limits` is not an object, a bound is not a positive safe
   * integer, or reading `limits` throws (a getter or a Proxy trap).
   */
  constructor(limits: ReplayCacheLimits = {}) {
    const read = readSettings(limits, "replay cache limits", LIMIT_KEYS, (message, cause) =>
      new InvalidConfigError(message, cause === undefined ? undefined : { cause }),
    ) as ReplayCacheLimits;
    this.maxEntries = positiveInteger(read.maxEntries ?? DEFAULT_REPLAY_CACHE_ENTRIES, "maxEntries");
    this.maxKeyUnits = positiveInteger(read.maxKeyUnits ?? DEFAULT_REPLAY_CACHE_KEY_UNITS, "maxKeyUnits");
    // A peer's bounds at most the cache's, by comparison (not Math.min, which caller code can
    // replace after load: README "Hardening").
    const entriesPerPeer = positiveInteger(read.maxEntriesPerPeer ?? DEFAULT_REPLAY_CACHE_ENTRIES_PER_PEER, "maxEntriesPerPeer");
    this.maxEntriesPerPeer = entriesPerPeer < this.maxEntries ? entriesPerPeer : this.maxEntries;
    const keyUnitsPerPeer = positiveInteger(read.maxKeyUnitsPerPeer ?? DEFAULT_REPLAY_CACHE_KEY_UNITS_PER_PEER, "maxKeyUnitsPerPeer");
    this.maxKeyUnitsPerPeer = keyUnitsPerPeer < this.maxKeyUnits ? keyUnitsPerPeer : this.maxKeyUnits;
  }

  /** Number of remembered pairs, live or not (in-flight ones not counted). */
  get size(): number {
    return setSize(this.#byAge);
  }

  /** Number of remembered pairs of one peer (in-flight ones not counted). */
  sizeOf(peerId: string): number {
    checkId(peerId, "peerId");
    const peer = mapGet(this.#peers, peerId);
    return peer === undefined ? 0 : mapSize(peer.entries);
  }

  /** True if an accept of the pair is in flight, or it was recorded and `now ≤ timestamp + skewSecs`. */
  has(peerId: string, nonce: string, now: number, skewSecs: number): boolean {
    checkPair(peerId, nonce);
    expectUnixSeconds(now, "now");
    expectUnixSeconds(skewSecs, "skewSecs");
    const pending = mapGet(this.#pending, peerId);
    if (pending !== undefined && mapHas(pending, nonce)) return true;
    const peer = mapGet(this.#peers, peerId);
    const entry = peer === undefined ? undefined : mapGet(peer.entries, nonce);
    // timestamp + skew may exceed 2^53 (a saturated timestamp); the comparison is then still
    // "live", which is the intent, even though the sum is rounded.
    return entry !== undefined && now <= entry.timestamp + skewSecs;
  }

  /** False if the pair alone is longer than maxKeyUnitsPerPeer, so it could never be remembered. */
  fits(peerId: string, nonce: string): boolean {
    checkPair(peerId, nonce);
    return peerId.length + nonce.length <= this.maxKeyUnitsPerPeer;
  }

  /**
   * Marks the pair as in flight with its envelope timestamp. Returns false if it is live or already
   * in flight.
   * @throws InvalidLengthError for a pair that does not fit (see `fits`): it could never be
   *   remembered, so holding it would let its envelope be accepted again after commit. The
   *   exchange asks `fits` first; this refusal keeps a wrapper that does not pass `fits` through
   *   failing closed (STORE_FAILED) rather than accepting the envelope every time (review 53).
   */
  reserve(peerId: string, nonce: string, timestamp: number, now: number, skewSecs: number): boolean {
    expectUnixSeconds(timestamp, "timestamp");
    if (this.has(peerId, nonce, now, skewSecs)) return false;
    if (!this.fits(peerId, nonce)) {
      throw new InvalidLengthError(`peer id plus nonce (${peerId.length + nonce.length} UTF-16 units) is longer than maxKeyUnitsPerPeer (${this.maxKeyUnitsPerPeer})`);
    }
    let pending = mapGet(this.#pending, peerId);
    if (pending === undefined) {
      pending = new MapAtLoad<string, number>();
      mapSet(this.#pending, peerId, pending);
    }
    mapSet(pending, nonce, timestamp);
    return true;
  }

  /** Ends an in-flight accept that succeeded: records the pair with its envelope timestamp. */
  commit(peerId: string, nonce: string): void {
    checkPair(peerId, nonce);
    const timestamp = this.#unpend(peerId, nonce);
    if (timestamp !== undefined) this.#record(peerId, nonce, timestamp);
  }

  /** Ends an in-flight accept that failed: forgets the reservation; recorded pairs are untouched. */
  release(peerId: string, nonce: string): void {
    checkPair(peerId, nonce);
    this.#unpend(peerId, nonce);
  }

  /** Forgets every recorded pair (for example after a key compromise is handled out of band). */
  clear(): void {
    mapClear(this.#peers);
    setClear(this.#byAge);
    this.#keyUnits = 0;
  }

  static {
    replayCacheEmpty = (cache) => setSize(cache.#byAge) + mapSize(cache.#pending) === 0;
  }

  #unpend(peerId: string, nonce: string): number | undefined {
    const pending = mapGet(this.#pending, peerId);
    if (pending === undefined) return undefined;
    const timestamp = mapGet(pending, nonce);
    if (mapDelete(pending, nonce) && mapSize(pending) === 0) mapDelete(this.#pending, peerId);
    return timestamp;
  }

  #record(peerId: string, nonce: string, timestamp: number): void {
    const units = peerId.length + nonce.length;
    if (units > this.maxKeyUnitsPerPeer) return; // see `fits`: recording it would evict everything else
    const known = mapGet(this.#peers, peerId);
    const previous = known === undefined ? undefined : mapGet(known.entries, nonce);
    if (previous !== undefined) this.#remove(previous); // re-recorded: it moves to the newest end
    let peer = mapGet(this.#peers, peerId);
    if (peer === undefined) {
      peer = { peerId, entries: new MapAtLoad<string, ReplayEntry>(), units: 0 };
      mapSet(this.#peers, peerId, peer);
    }
    const entry: ReplayEntry = { peer, nonce, timestamp, units };
    mapSet(peer.entries, nonce, entry);
    peer.units += units;
    setAdd(this.#byAge, entry);
    this.#keyUnits += units;
    // Over its own quota, the peer loses its own oldest pairs (`entry` is its newest and fits alone).
    while (mapSize(peer.entries) > this.maxEntriesPerPeer || peer.units > this.maxKeyUnitsPerPeer) {
      this.#remove(mapIteratorStep(mapValues(peer.entries)).value!);
    }
    // Over the totals, the oldest pairs of any peer go first (a Set iterates in insertion order,
    // and one that is deleted from as it iterates goes on with the next entry).
    const oldestFirst = setValues(this.#byAge);
    while (setSize(this.#byAge) > this.maxEntries || this.#keyUnits > this.maxKeyUnits) {
      const step = setIteratorStep(oldestFirst);
      if (step.done === true) break;
      this.#remove(step.value);
    }
  }

  #remove(entry: ReplayEntry): void {
    const peer = entry.peer;
    mapDelete(peer.entries, entry.nonce);
    peer.units -= entry.units;
    if (mapSize(peer.entries) === 0) mapDelete(this.#peers, peer.peerId);
    setDelete(this.#byAge, entry);
    this.#keyUnits -= entry.units;
  }
}
hardenClass(ReplayCache); // its statics and methods stay its own: see hardenClass

function positiveInteger(value: unknown, name: string): number {
  if (typeof value !== "number" || !isSafeInteger(value) || value < 1) {
    throw new InvalidConfigError(`replay cache ${name} must be a positive integer, got ${describeConfigValue(value)}`);
  }
  return value;
}

// Argument checks of the public methods: checkPair and checkId (ports.ts, shared by every adapter),
// times through expectUnixSeconds. The exchange always passes strings and safe integers; direct
// callers get a typed error and an unchanged cache: a non-string id would make the key accounting
// NaN and silently evict every pair from then on, a NaN timestamp would record a pair that is never held.
