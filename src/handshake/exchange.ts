// KernelTrustExchange: one per local kernel. It owns the kernel's id and signing key, a peer
// store, a replay store, the trust anchors and a clock; it builds this kernel's envelopes and
// verifies and pins the remote kernel's (the reference's `KernelTrustExchange`, docs/protocol.md §5–§8).
//
// acceptEnvelope runs the reference's checks in the reference's order, with this port's
// hardening slotted in where it cannot change any reference outcome for honest traffic:
//
//   1. parse (MALFORMED_ENVELOPE), schema (UNSUPPORTED_SCHEMA), weak declared key
//      (WEAK_PUBLIC_KEY, new), canonical bytes (CANONICAL_JSON), signature against the
//      DECLARED key (INVALID_SIGNATURE); then a timestamp above 2^53−1 (MALFORMED_ENVELOPE, new)
//   2. addressee == local id                                  ADDRESS_MISMATCH
//   3. claimed sender == expected id                          KERNEL_ID_MISMATCH
//   4. |timestamp − now| ≤ skew (equal is accepted)           CLOCK_SKEW_EXCEEDED
//   5. store.get(expected)                                     STORE_FAILED
//   6. expected key = anchor, else existing pin (even stale)  MISSING_TRUST_ANCHOR
//   7. declared key == expected key                            UNEXPECTED_PEER_KEY
//   8. reserve (peer, nonce) in the replay store (new)         REPLAYED_NONCE
//      (a nonce too long for the store to hold                  MALFORMED_ENVELOPE;
//       a replay store that throws or rejects                   STORE_FAILED)
//   9. steps 6–7 again against the anchors in force now (new: anchors can be replaced while an
//      accept waits on its stores), then pin {now, now + window (saturating)} by
//      compare-and-set                                         STORE_FAILED
//      and the anchor once more after the write (new)          UNEXPECTED_PEER_KEY
//  10. commit the reservation (success, a pin write whose outcome is unknown, or one refused by
//      step 9's last anchor check) or release it (any other failure after step 8)
//
// The replay check sits after the key check, so only envelopes authenticated by the expected
// key can touch the replay store (and a forger learns nothing about which nonces a peer used).
// No path pins without the nonce reserved first. The peer store is written only in step 9, and
// a reservation whose accept fails is released, so a failed accept leaves the peer store and the
// replay store exactly as they were (docs/protocol.md §5, §7) — except after a pin write the
// store failed (threw, rejected, timed out) or one step 9's last anchor check refused: it may
// have landed, or did, so the nonce stays held; and after a reserve of unknown outcome.
//
// Concurrency: the pin is a compare-and-set against the entry read in step 5. If another accept
// for the same peer wrote in between (the CAS "loser"), the loser re-reads once and re-runs
// steps 6–7 against the new entry; if that entry pins the same key, is fresh, was established
// within the skew of the loser's now and is due no earlier than the loser's pin less the skew (a
// concurrent handshake's), the loser adopts it and returns it without writing (so N
// concurrent first contacts make exactly one pin); otherwise it tries the CAS once more, and if
// that also loses it fails with STORE_FAILED (operation "compareAndSet") rather than overwrite a
// pin it has not seen.
import { freezeAtLoad, hardenClass, isArray, isArrayArgument, isInteger, MAX_SAFE_INTEGER, mapClear, mapGet, mapSet, mapSize, ownEnumerableKeys, ownList, ownListAsArray, readSettings, rejectedPromise, stringSlice, stringStartsWith, type OwnList } from "../bytes.js";
import { arraySort, MapAtLoad, mapDelete, mapEntries, mapHas, mapIteratorStep, mapValues, weakSetAdd, weakSetHas } from "../collections.js";
import { InvalidTypeError, instanceOfOrFalse } from "../errors.js";
import { ed25519, type PreparedPublicKey } from "../ed25519.js";
import { preparedSlabLayoutCount } from "../wasm/instance.js";
import { InMemoryPeerStore } from "./memory-peer-store.js";
import type { FederationPeerStore, ReplayStore } from "./ports.js";
import { DEFAULT_HANDSHAKE_MAX_SKEW_SECS, DEFAULT_MAX_ENVELOPE_BYTES, DEFAULT_ROTATION_WINDOW_SECS, MAX_ANCHOR_KEYS } from "./constants.js";
import {
  describeConfigValue,
  describeThrown,
  handshakeErrors,
  InvalidConfigError,
  InvalidTimeError,
  PeerHandshakeError,
  type PeerHandshakeErrorCode,
  type PeerHandshakeErrorFields,
} from "./errors.js";
import { readEscapeDelAndC1 } from "./wire.js";
import { expectMaxEnvelopeBytes, PeerHandshakeEnvelope, readVerifiedEnvelopeFields } from "./envelope.js";
import type { HandshakeChallengeFields } from "./challenge.js";
import { isUint8Array } from "../canonical/json.js";
import { PublicKey, toPublicKey, type HandshakeSigner } from "./keys.js";
import { FederationPeer } from "./peer.js";
import { absorbRejection, isPromiseLike } from "./maybe-promise.js";
import { abortSignalOption, throwIfAborted } from "./abort-signal.js";
import { ReplayCache, replayCacheEmpty, type ReplayCacheLimits } from "./replay-cache.js";
import { driftExceeds, expectUnixSeconds, saturatingAddSeconds, systemClockSeconds } from "./time.js";

/** Rust `KernelTrustExchangeConfig`. */
export interface KernelTrustExchangeConfig {
  /** Pin lifetime in seconds. Default 43200 (12 h). */
  rotationWindowSecs: number;
  /** Largest accepted |envelope timestamp − now| in seconds. Default 300. */
  maxHandshakeSkewSecs: number;
}

/** Protections beyond the reference; each is on by default. */
export interface HandshakeHardening {
  /** Refuse small-order declared keys (and the identity) before the signature check. Default true. */
  rejectWeakKeys: boolean;
  /**
   * Refuse a (peer, nonce) pair while its envelope could still pass the skew check
   * (docs/protocol.md §7); `false` disables, `true` is a new default ReplayCache, an object sets
   * its bounds (totals and per-peer quotas; see ReplayCache for what they do and do not
   * guarantee) on a new, empty cache, refused once the cache in use holds a pair (see
   * withHardening). withReplayStore sets another ReplayStore. Default true.
   */
  replayCache: boolean | ReplayCacheLimits;
  /**
   * Require challenge timestamps in 0…2^53−1 (MALFORMED_ENVELOPE otherwise). When false, the full
   * u64 range is accepted and compared exactly as bigint, as the reference does. Default true.
   */
  requireSafeTimestamps: boolean;
  /**
   * Speak the challenge bytes older chio kernels sign, which escape U+007F–U+009F as \u00xx
   * (chio vector corpus a1486dbd; docs/protocol.md §3): verify over them, on the text and the
   * object path alike, and sign this kernel's own envelopes (localEnvelope) over them. The same
   * name as the canonicalizeJson / canonicalBytes / verifyEnvelopeBytes option. Only for interop
   * with such kernels; challenges without those characters give the same bytes either way.
   * Default false (RFC 8785 bytes, as chio's newest vectors are).
   */
  escapeDelAndC1: boolean;
  /** Pin with store.compareAndSet (no lost or racing first pins). `false` uses insert (last writer wins, as the reference). Default true. */
  compareAndSetPins: boolean;
  /**
   * Largest envelope accepted: UTF-8 bytes of text/bytes input, summed string lengths of an
   * object. An integer in 1 … MAX_ENVELOPE_BYTES_LIMIT (16 MiB), the same range on both paths. Default 65536.
   */
  maxEnvelopeBytes: number;
}

/**
 * What withHardening accepts: any subset of HandshakeHardening, plus the deprecated alias
 * `legacyControlEscapes` of `escapeDelAndC1` (the two must agree when both are given).
 */
export type HandshakeHardeningInput = Partial<HandshakeHardening> & {
  /** @deprecated Use `escapeDelAndC1`, the name every layer uses. */
  legacyControlEscapes?: boolean;
};

/**
 * Audit events. Handlers run synchronously; their throws and rejections are ignored. Messages
 * show peer-supplied text bounded and escaped (docs/protocol.md §11); `fields` and `kernelId`
 * hold the full values.
 */
export type HandshakeEvent =
  | {
      type: "pinned";
      kernelId: string;
      peer: FederationPeer;
      /**
       * The entry the accept read before writing (a renewal or a key change), or undefined on first
       * contact. With insert mode (`compareAndSetPins: false`) the write may have replaced a later one.
       */
      previous: FederationPeer | undefined;
      /**
       * False when this accept lost a concurrent compare-and-set and adopted the winner's pin (same
       * key, a concurrent handshake's: docs/protocol.md §6). A `refused` event for the same accept
       * may follow a written pin, when the peer's anchor was replaced during the write (§5 step 9).
       */
      written: boolean;
      nonce: string;
      at: number;
    }
  | {
      type: "refused";
      operation: "accept" | "resolve";
      /**
       * The peer: the expected id of acceptEnvelope and resolve; for acceptClaimedEnvelope the
       * sender its envelope's verified challenge names, or "" when the envelope was refused
       * before its signature verified (an unverified claim is never reported as a caller). A
       * peer whose id is itself "" cannot be told from that case: give peers non-empty ids.
       */
      kernelId: string;
      code: PeerHandshakeErrorCode;
      /** The error's message: peer-supplied text in it is bounded and escaped. */
      message: string;
      /** The error's typed facts, in full (PeerHandshakeError.fields). */
      fields: Readonly<PeerHandshakeErrorFields[PeerHandshakeErrorCode]>;
      at: number;
    }
  | { type: "stale"; kernelId: string; peer: FederationPeer; at: number };

/** The challenge-bytes option of an exchange with hardening.escapeDelAndC1 on (one object for every call). */
const ESCAPED_BYTES = Object.freeze({ escapeDelAndC1: true });

/** Handler for audit events. */
export type HandshakeEventHandler = (event: HandshakeEvent) => void;

/** Options of one acceptEnvelope or acceptClaimedEnvelope call. */
export interface AcceptOptions {
  /**
   * Runs after every check of the envelope and the nonce's reservation, before the pin is
   * written (the key is checked against the anchors once more after it, in case one was replaced
   * meanwhile); a throw, or a returned promise that rejects, refuses the accept (nothing pinned,
   * nonce released). A returned promise is awaited (a remote or hardware signer, say): the
   * accept holds its reservation until it settles.
   */
  beforePin?: (accepted: AcceptedChallenge) => void | PromiseLike<void>;
  /**
   * Abandons the accept: once it has aborted, the accept sends no write from then on and is
   * refused with the signal's reason (nothing pinned, nonce released) at its next step: before
   * it reads the store, before the nonce's reservation, before and after beforePin, and before
   * each compare-and-set, including the second one that follows a lost race (docs/protocol.md
   * §6). A write already sent is not recalled. A transport aborts it when the answer can no
   * longer reach the caller: src/http/server.ts at its deadline and when the caller's
   * connection closes (helper 154: a second compare-and-set, sent after the server's 503, pinned).
   */
  signal?: AbortSignal;
}

/** What beforePin is told (a frozen object): the verified challenge's caller and nonce. */
export interface AcceptedChallenge {
  /** The peer being accepted: the verified challenge's localKernelId (the expected id). */
  readonly kernelId: string;
  /** The verified challenge's nonce, reserved in the replay store by now. */
  readonly nonce: string;
}

/** Constructor options; each has a matching builder. */
export interface KernelTrustExchangeOptions {
  config?: Partial<KernelTrustExchangeConfig>;
  hardening?: HandshakeHardeningInput;
  store?: FederationPeerStore;
  /**
   * The replay store (default: a ReplayCache per hardening.replayCache); see withReplayStore.
   * Applied before `hardening`: replayCache limits beside it are INVALID_CONFIG, and
   * `replayCache: false` turns replay protection off, as withHardening after withReplayStore does.
   */
  replayStore?: ReplayStore;
  /**
   * Trust anchors: kernel id → expected public key (PublicKey or hex), or a list of up to
   * MAX_ANCHOR_KEYS keys any of which is trusted (a key rotation in progress; see withTrustedPeer).
   */
  trustedPeers?: Iterable<readonly [string, AnchorKeys]> | Readonly<Record<string, AnchorKeys>>;
  /** Unix seconds; used whenever `now` is omitted. Default Math.floor(Date.now() / 1000). */
  clock?: () => number;
  onEvent?: HandshakeEventHandler;
}

/**
 * Anything acceptEnvelope reads: an envelope, its JSON object form, JSON text or UTF-8 bytes.
 * Prefer the text or bytes as received: they are read with serde's rules in wasm. An object
 * (e.g. JSON.parse output) cannot show the duplicate members or `1.8e9`-style timestamps serde
 * refuses (JSON.parse has folded them away), so the object path accepts some inputs the text path
 * refuses; it cannot forge anything, as the signature covers the canonical bytes rebuilt from
 * the values on both paths.
 */
export type EnvelopeInput = PeerHandshakeEnvelope | string | Uint8Array | object;

const INSPECT = Symbol.for("nodejs.util.inspect.custom");

const DEFAULT_HARDENING: HandshakeHardening = {
  rejectWeakKeys: true,
  replayCache: true,
  requireSafeTimestamps: true,
  compareAndSetPins: true,
  maxEnvelopeBytes: DEFAULT_MAX_ENVELOPE_BYTES,
  escapeDelAndC1: false,
};

/** Drives the mutual handshake for one local kernel. */
export class KernelTrustExchange {
  readonly #localKernelId: string;
  readonly #signer: HandshakeSigner;
  #config: KernelTrustExchangeConfig = {
    rotationWindowSecs: DEFAULT_ROTATION_WINDOW_SECS,
    maxHandshakeSkewSecs: DEFAULT_HANDSHAKE_MAX_SKEW_SECS,
  };
  #hardening: HandshakeHardening = { ...DEFAULT_HARDENING };
  #store: FederationPeerStore = new InMemoryPeerStore();
  /** Each anchored peer's trusted keys: one, or up to MAX_ANCHOR_KEYS during a rotation. */
  readonly #anchors = new Map<string, readonly PublicKey[]>();
  /**
   * The keys this exchange has prepared, by hex (see #prepareForVerification); bounded by the
   * slab. The objects are kept so that their slots stay prepared on request while the exchange
   * lives: once every PreparedPublicKey of a key is freed or collected, its slot is left to LRU
   * eviction by hot keys (src/ed25519.ts preparedFinalizer), which could be attacker-chosen.
   */
  readonly #preparedKeys = new MapAtLoad<string, PreparedPublicKey>();
  /** The slab layout #preparedKeys were prepared in (preparedSlabLayoutCount; -1: none yet). */
  #preparedLayout = -1;
  #replay: ReplayStore | undefined = new ReplayCache();
  /** #replay is a store given to withReplayStore (one shared by replicas, say), not a cache of ours. */
  #replayFromCaller = false;
  #clock: () => number = systemClockSeconds;
  #onEvent: HandshakeEventHandler | undefined;

  /**
   * @param localKernelId this kernel's id, compared byte for byte with incoming addressees.
   * @param keypair this kernel's signing key (a Keypair or another HandshakeSigner).
   * @param options optional settings; undefined (or omitted) means the defaults.
   * @throws InvalidTypeError, InvalidConfigError, InvalidTimeError on bad arguments.
   */
  constructor(localKernelId: string, keypair: HandshakeSigner, options: KernelTrustExchangeOptions = {}) {
    if (typeof localKernelId !== "string") throw new InvalidTypeError("localKernelId must be a string");
    let isSigner = false;
    try {
      isSigner = keypair !== null && typeof keypair === "object" && keypair.publicKey instanceof PublicKey && typeof keypair.sign === "function";
    } catch (cause) {
      throw new InvalidTypeError(`keypair cannot be read: ${describeThrown(cause)}`, { cause });
    }
    if (!isSigner) throw new InvalidTypeError("keypair must be a Keypair or another HandshakeSigner");
    this.#localKernelId = localKernelId;
    this.#signer = keypair;
    const read = readConfigObject(options, "options", [
      "config", "hardening", "store", "replayStore", "trustedPeers", "clock", "onEvent",
    ] as const) as KernelTrustExchangeOptions;
    if (read.config !== undefined) this.withConfig(read.config);
    // The stores before the hardening, so both options together mean what the two calls mean in
    // that order: replayCache limits beside a replayStore are INVALID_CONFIG (they would replace
    // it; review 59: they were silently dropped), `replayCache: false` turns replay protection off.
    if (read.store !== undefined) this.withStore(read.store);
    if (read.replayStore !== undefined) this.withReplayStore(read.replayStore);
    if (read.hardening !== undefined) this.withHardening(read.hardening);
    if (read.trustedPeers !== undefined) {
      const trusted: unknown = read.trustedPeers;
      const shape = "trustedPeers must be an iterable of [kernelId, key] or a record";
      if (trusted === null || typeof trusted !== "object") throw new InvalidConfigError(shape);
      // Read whole first: an entry that is not a pair, or an iterator, getter or trap that throws,
      // is InvalidConfigError (the key checks below keep their own typed errors). Arrays (the list
      // and each pair) by index, a Map through its entries iterator as captured at load, a record
      // through Object.keys as captured (ownEnumerableKeys), each entry checked as it is read: the
      // realm's Array.from, Object.entries and array iterator, looked up at each call, answered
      // for the anchors, and a replacement made one name a stranger's key (hunt 23). Any other
      // iterable is read through its own iterator, the caller's.
      const pairs = ownList<unknown>();
      try {
        const add = (entry: unknown) => {
          if (entry === null || typeof entry !== "object") throw new InvalidConfigError(`${shape}; an entry is ${describeConfigValue(entry)}`);
          pairs[pairs.length] = (entry as unknown[])[0];
          pairs[pairs.length] = (entry as unknown[])[1];
        };
        if (isArrayArgument(trusted)) {
          const length = (trusted as unknown[]).length;
          for (let i = 0; i < length; i++) add((trusted as unknown[])[i]);
        } else if (instanceOfOrFalse(MapAtLoad, trusted)) {
          const entries = mapEntries(trusted as Map<unknown, unknown>);
          for (let step = mapIteratorStep(entries); step.done !== true; step = mapIteratorStep(entries)) add(step.value);
        } else if (isIterable(trusted)) {
          for (const entry of trusted as Iterable<unknown>) add(entry);
        } else {
          const keys = ownEnumerableKeys(trusted);
          for (let i = 0; i < keys.length; i++) {
            pairs[pairs.length] = keys[i];
            pairs[pairs.length] = (trusted as Record<string, unknown>)[keys[i]!];
          }
        }
      } catch (cause) {
        if (instanceOfOrFalse(InvalidConfigError, cause)) throw cause;
        throw new InvalidConfigError(`trustedPeers cannot be read: ${describeThrown(cause)}`, { cause });
      }
      for (let i = 0; i < pairs.length; i += 2) this.withTrustedPeer(pairs[i] as string, pairs[i + 1] as AnchorKeys);
    }
    if (read.clock !== undefined) this.withClock(read.clock);
    if (read.onEvent !== undefined) this.withEventHandler(read.onEvent);
  }

  // --- builders (mutate and return this; each accept reads the settings once, at its start) ---

  /**
   * Sets the rotation window and/or skew (safe integers ≥ 0); omitted members keep their values.
   * The new skew applies to replay retention too: a nonce stays refused while its envelope could
   * pass the skew check under the skew in force (docs/protocol.md §7).
   * @throws InvalidConfigError when `config` is not an object (undefined and null included) or
   * cannot be read; InvalidTimeError when a value is not a safe integer ≥ 0. Nothing changes on a throw.
   */
  withConfig(config: Partial<KernelTrustExchangeConfig>): this {
    const read = readConfigObject(config, "config", ["rotationWindowSecs", "maxHandshakeSkewSecs"] as const);
    const next = { ...this.#config };
    if (read.rotationWindowSecs !== undefined) next.rotationWindowSecs = expectUnixSeconds(read.rotationWindowSecs, "rotationWindowSecs");
    if (read.maxHandshakeSkewSecs !== undefined) next.maxHandshakeSkewSecs = expectUnixSeconds(read.maxHandshakeSkewSecs, "maxHandshakeSkewSecs");
    this.#config = next;
    return this;
  }

  /**
   * Turns individual hardening rules on or off (docs/protocol.md §10); omitted members keep
   * their values, and so do members passed with the value they already have, so
   * `withHardening({ ...exchange.hardening, rejectWeakKeys: true })` changes one rule only.
   * replayCache: `true` keeps the replay store in use (a shared one set by withReplayStore
   * included, with every nonce it holds) and starts a default ReplayCache only when there is none;
   * limits start a new, empty ReplayCache with them unless they are the current setting itself,
   * and are refused while a store given to withReplayStore is in use, or the ReplayCache in use
   * holds a pair, recorded or in flight (they would drop it, and an envelope accepted within the
   * skew window could be accepted again): `replayCache: false` first drops them knowingly;
   * `false` turns replay protection off.
   * @throws InvalidConfigError when `hardening` is not an object (undefined and null included),
   * cannot be read, or holds a bad value. Nothing changes on a throw.
   */
  withHardening(hardening: HandshakeHardeningInput): this {
    const read = readConfigObject(hardening, "hardening", [
      "rejectWeakKeys", "requireSafeTimestamps", "compareAndSetPins", "escapeDelAndC1", "legacyControlEscapes", "maxEnvelopeBytes", "replayCache",
    ] as const);
    const next = { ...this.#hardening };
    for (const flag of ["rejectWeakKeys", "requireSafeTimestamps", "compareAndSetPins"] as const) {
      const value = read[flag];
      if (value === undefined) continue;
      if (typeof value !== "boolean") throw new InvalidConfigError(`${flag} must be a boolean, got ${describeConfigValue(value)}`);
      next[flag] = value;
    }
    let escape: boolean | undefined;
    try {
      escape = readEscapeDelAndC1(read);
    } catch (cause) {
      throw new InvalidConfigError((cause as Error).message, { cause });
    }
    if (escape !== undefined) next.escapeDelAndC1 = escape;
    if (read.maxEnvelopeBytes !== undefined) next.maxEnvelopeBytes = expectMaxEnvelopeBytes(read.maxEnvelopeBytes, "maxEnvelopeBytes");
    let replay = this.#replay;
    if (read.replayCache !== undefined) {
      const setting = read.replayCache;
      const current = this.#hardening.replayCache;
      if (setting === false) {
        replay = undefined;
        next.replayCache = false;
      } else if (replay !== undefined && (setting === true || setting === current)) {
        // The store in use stays, nonces and all (a round trip of the getter must not drop a shared store).
      } else if (setting === true) {
        replay = new ReplayCache();
        next.replayCache = true;
      } else if (setting !== null && typeof setting === "object") {
        // Limits start a new, empty in-memory cache. Over a store given to withReplayStore that
        // would silently drop it, and with it the replay protection shared with other replicas
        // (review 57): refused; `replayCache: false` (or withReplayStore) is how it is replaced.
        // The same over our own cache once it holds a pair, recorded or in flight: an empty cache
        // would accept again every envelope accepted within the skew window (hunt 52).
        if (replay !== undefined && (this.#replayFromCaller || !replayCacheEmpty(replay as ReplayCache))) {
          throw new InvalidConfigError("replayCache limits would replace the replay store in use and drop its nonces: bound a store given to withReplayStore, or set replayCache: false first");
        }
        replay = new ReplayCache(setting);
        // A frozen copy of the bounds the cache took: the caller's object may change later, and
        // the getter must report what is in force (and round-trip to "keep this cache").
        const cache = replay as ReplayCache;
        next.replayCache = freezeAtLoad({
          maxEntries: cache.maxEntries,
          maxKeyUnits: cache.maxKeyUnits,
          maxEntriesPerPeer: cache.maxEntriesPerPeer,
          maxKeyUnitsPerPeer: cache.maxKeyUnitsPerPeer,
        });
      } else {
        throw new InvalidConfigError("replayCache must be a boolean or { maxEntries, maxKeyUnits, maxEntriesPerPeer, maxKeyUnitsPerPeer }");
      }
    }
    if (replay !== this.#replay) this.#replayFromCaller = false;
    this.#replay = replay;
    this.#hardening = next;
    return this;
  }

  /**
   * Replaces the replay store (default: a bounded in-memory ReplayCache) with another
   * ReplayStore, for example one shared by several processes (docs/protocol.md §7, §8). Sets
   * hardening.replayCache to true. @throws InvalidTypeError if `store` lacks a method.
   */
  withReplayStore(store: ReplayStore): this {
    checkPort(store, "replay store", "ReplayStore", ["reserve", "commit", "release"], ["fits"]);
    this.#replay = store;
    this.#replayFromCaller = true;
    this.#hardening = { ...this.#hardening, replayCache: true };
    return this;
  }

  /** Replaces the peer store (default: a non-durable InMemoryPeerStore). */
  withStore(store: FederationPeerStore): this {
    checkPort(store, "store", "FederationPeerStore", ["insert", "get", "remove", "snapshot", "compareAndSet"], []);
    this.#store = store;
    return this;
  }

  /**
   * Adds (or replaces) the trust anchor for `kernelId`; it wins over any existing pin. Give an
   * array of keys, oldest first (at most MAX_ANCHOR_KEYS, PublicKey or hex), to trust any of them
   * while the peer rotates its key across replicas: list [old, new] on every replica, let the peer
   * switch, then drop the old key (README "Rotating a peer's key"). A handshake must declare one
   * of the listed keys, and never one listed before the key its current pin holds (a rotation only
   * moves forward: a holder of the old key cannot take the pin back once the peer has switched);
   * a pin of any listed key resolves; a pin of a key dropped from the list is refused, as a
   * replaced anchor's is. The whole list is checked before anything changes.
   */
  withTrustedPeer(kernelId: string, publicKey: AnchorKeys): this {
    if (typeof kernelId !== "string") throw new InvalidTypeError("kernelId must be a string");
    const keys = readAnchorKeys(publicKey);
    const previous = mapGet(this.#anchors, kernelId);
    mapSet(this.#anchors, kernelId, keys);
    if (previous !== undefined) this.#forgetPrepared(previous);
    for (const key of keys) this.#prepareForVerification(key);
    return this;
  }

  /**
   * Sets the clock used when `now` is omitted (unix seconds). A reading that is not a safe
   * integer ≥ 0, or a clock that throws, makes the call that needed it fail with InvalidTimeError.
   */
  withClock(clock: () => number): this {
    if (typeof clock !== "function") throw new InvalidTypeError("clock must be a function returning unix seconds");
    this.#clock = clock;
    return this;
  }

  /** Sets (or with undefined, removes) the audit event handler. */
  withEventHandler(handler: HandshakeEventHandler | undefined): this {
    if (handler !== undefined && typeof handler !== "function") throw new InvalidTypeError("event handler must be a function");
    this.#onEvent = handler;
    return this;
  }

  /**
   * Lets go of the prepared keys of a replaced anchor, or of a forgotten pin, that no anchor lists
   * any more, so that rotations and forgotten peers do not fill the exchange's half of the slab for
   * good (review 82, hunt 29). Speed only: a pin that still holds such a key verifies by its
   * bytes, and the core may promote it again.
   */
  #forgetPrepared(keys: readonly PublicKey[]): void {
    // By index: a for…of would step the realm's array iterator, which caller code can replace.
    for (let i = 0; i < keys.length; i++) {
      const key = keys[i]!;
      const hex = key.toHex();
      const prepared = mapGet(this.#preparedKeys, hex);
      if (prepared === undefined) continue;
      if (this.#anchoredHex(hex)) continue;
      mapDelete(this.#preparedKeys, hex);
      try {
        prepared.free();
      } catch {
        // speed only, as in #prepareForVerification
      }
    }
  }

  /**
   * Lets go of the prepared key pinned least recently that no anchor lists, to make room for a new
   * one; false if every key held is an anchor's. forget() lets go of its pin's key, but a key whose
   * pin another replica forgot or replaced (a shared store) was never seen to go: kept, such keys
   * filled the exchange's half of the slab for good, and no later pin was prepared (hunt 29).
   * Speed only, as #forgetPrepared: a live peer's key let go here is prepared again at its next pin.
   */
  #releaseLeastRecentlyPinned(): boolean {
    const entries = mapEntries(this.#preparedKeys);
    for (let step = mapIteratorStep(entries); step.done !== true; step = mapIteratorStep(entries)) {
      const hex = step.value[0];
      const prepared = step.value[1];
      if (this.#anchoredHex(hex)) continue;
      mapDelete(this.#preparedKeys, hex);
      try {
        prepared.free();
      } catch {
        // speed only
      }
      return true;
    }
    return false;
  }

  /**
   * Whether an anchor lists the key whose hex is `hex`. Through Map's iterator as captured at load,
   * not the realm's Array.from and `some`: forget() asks after the pin is removed, where a replaced
   * one that threw would fail a call whose store write is done (README "Hardening").
   */
  #anchoredHex(hex: string): boolean {
    const anchors = mapValues(this.#anchors);
    for (let step = mapIteratorStep(anchors); step.done !== true; step = mapIteratorStep(anchors)) {
      const keys = step.value;
      for (let i = 0; i < keys.length; i++) if (keys[i]!.toHex() === hex) return true;
    }
    return false;
  }

  /**
   * Prepares a trusted or freshly pinned peer's key in the verification slab (decoded point and
   * precomputed tables; src/ed25519.ts preparePublicKey), so that the peer's envelopes verify on
   * the prepared path from the first one on. Preparing costs about five verifications, so an
   * exchange prepares at most half the slab's slots' worth of distinct keys (the other half stays
   * for keys the core promotes when they get hot): with more peers than that, the rest are left to
   * that promotion rather than evicting each other on every pin. Each key is prepared once per
   * exchange and slab layout (a renewal of the same pin costs nothing here); if the LRU evicts it
   * later, the core's promotion of hot keys prepares it again. A new layout (configurePreparedKeys,
   * or an instance started after a trap) holds none of them, and as the exchange verifies
   * envelopes by the key bytes they carry, no verify() of its objects would prepare them again
   * (review 51, finding 3): they are forgotten then, and each is prepared again when it is next
   * pinned or added, up to half the new layout's slots. Purely a speed measure with no bearing on
   * any verdict, so a failure here (the wasm core unavailable) must not undo a pin already
   * written: it is ignored, and verification then takes the plain path with the same answers.
   */
  #prepareForVerification(key: PublicKey): void {
    try {
      // The layout read is inside the try too: it instantiates the core when a trap elsewhere
      // dropped it, and that may fail after this accept's pin is written (review-34 C5).
      const hex = key.toHex();
      const layout = preparedSlabLayoutCount(); // a number read: nothing allocated on a renewal
      if (layout !== this.#preparedLayout) {
        // The objects dropped here release nothing while a new one of their key holds it (src/ed25519.ts livePrepared).
        mapClear(this.#preparedKeys);
        this.#preparedLayout = layout;
      }
      const held = mapGet(this.#preparedKeys, hex);
      if (held !== undefined) {
        // Most recently pinned last: the order #releaseLeastRecentlyPinned goes by.
        mapDelete(this.#preparedKeys, hex);
        mapSet(this.#preparedKeys, hex, held);
        return;
      }
      if (mapSize(this.#preparedKeys) >= ed25519.preparedKeysLayout().slots >>> 1 && !this.#releaseLeastRecentlyPinned()) return;
      // An instance the layout read above started (after a trap) counts as a new layout at the
      // next pin, which prepares this key once more: a cost only after a trap.
      mapSet(this.#preparedKeys, hex, ed25519.preparePublicKey(key.toBytes()));
    } catch {
      // see above: verdicts do not depend on it
    }
  }

  // --- getters ---

  get localKernelId(): string {
    return this.#localKernelId;
  }

  get localPublicKey(): PublicKey {
    return this.#signer.publicKey;
  }

  get rotationWindowSecs(): number {
    return this.#config.rotationWindowSecs;
  }

  get maxHandshakeSkewSecs(): number {
    return this.#config.maxHandshakeSkewSecs;
  }

  get config(): Readonly<KernelTrustExchangeConfig> {
    return { ...this.#config };
  }

  get hardening(): Readonly<HandshakeHardening> {
    return { ...this.#hardening };
  }

  /**
   * The configured anchors (a copy): each anchored peer's key, and for a peer trusted under
   * several (a rotation in progress) only the newest, the last listed. Use trustedPeerKeys() to
   * copy anchors from one exchange to another: this map drops the older keys of a rotation.
   */
  trustedPeers(): Map<string, PublicKey> {
    const copy = new MapAtLoad<string, PublicKey>();
    this.#eachAnchor((kernelId, keys) => mapSet(copy, kernelId, keys[keys.length - 1]));
    return copy;
  }

  /** The configured anchors (a copy): each anchored peer's trusted keys, in the order given. */
  trustedPeerKeys(): Map<string, PublicKey[]> {
    const copy = new MapAtLoad<string, PublicKey[]>();
    this.#eachAnchor((kernelId, keys) => {
      const list = ownList<PublicKey>(keys.length);
      for (let i = 0; i < keys.length; i++) list[i] = keys[i];
      mapSet(copy, kernelId, ownListAsArray(list));
    });
    return copy;
  }

  /**
   * Calls `visit` for each anchor, through Map's entries iterator as captured at load: the copies
   * above were made with the realm's Array.from, Map iterator, spread and `new Map` (which stores
   * through Map.prototype.set), and a replacement answered a stranger's key for an anchor, which
   * a copy to another exchange then trusted (hunt 23).
   */
  #eachAnchor(visit: (kernelId: string, keys: readonly PublicKey[]) => void): void {
    const entries = mapEntries(this.#anchors);
    for (let step = mapIteratorStep(entries); step.done !== true; step = mapIteratorStep(entries)) visit(step.value[0], step.value[1]);
  }

  // --- the handshake ---

  /**
   * This kernel's signed envelope addressed to `remoteKernelId` (synchronous).
   * @throws PeerHandshakeError CANONICAL_JSON / SIGNING_FAILED; InvalidTypeError / InvalidTimeError.
   */
  localEnvelope(remoteKernelId: string, nonce: string, now?: number): PeerHandshakeEnvelope {
    const at = this.#now(now);
    return PeerHandshakeEnvelope.sign(this.#localKernelId, remoteKernelId, nonce, at, this.#signer, this.#hardening.escapeDelAndC1 ? ESCAPED_BYTES : undefined);
  }

  /**
   * Verifies an envelope received from `expectedRemoteKernelId` at local time `now` and pins
   * the remote key (see the file header for the exact order of checks). Resolves to the new
   * pin; rejects with PeerHandshakeError on any failed check, leaving all state unchanged but
   * for the fail-closed cases of docs/protocol.md §5 (a write or reservation of unknown outcome,
   * or a release that failed, keeps its nonce held; a pin written while the peer's anchor was
   * replaced stays, refused).
   * Pass the JSON text or bytes as received, not JSON.parse output: see EnvelopeInput for what
   * the object path cannot check. Unreadable bytes (a Proxy, a detached view) are MALFORMED_ENVELOPE.
   *
   * `options.beforePin` runs once every check has passed and the nonce is reserved, right before
   * the pin is written: a transport signs its answer there (src/http/server.ts), so the answer
   * exists only for an accepted caller, and a signer that fails, or a deadline already past,
   * refuses the accept with nothing pinned and the nonce released. What it throws (or its promise
   * rejects with: a returned promise is awaited) is what the accept rejects with.
   */
  acceptEnvelope(envelope: EnvelopeInput, expectedRemoteKernelId: string, now?: number, options?: AcceptOptions): Promise<FederationPeer> {
    // Its argument errors reject, as an async method's would (no second async frame on the hot path).
    try {
      const at = this.#now(now);
      if (typeof expectedRemoteKernelId !== "string") throw new InvalidTypeError("expectedRemoteKernelId must be a string");
      return this.#accept(envelope, expectedRemoteKernelId, at, readAcceptOptions(options));
    } catch (error) {
      return rejectedPromise(error);
    }
  }

  /**
   * acceptEnvelope for a caller known only by its envelope: the expected id is the one the
   * envelope's challenge names as its sender (localKernelId), read once its signature has been
   * verified, never from the unverified bytes; every other check, against that id's anchor or
   * pin, is acceptEnvelope's (docs/protocol.md §5, step 3 holds by construction). For a
   * transport that learns who calls from the envelope alone (src/http/server.ts): reading the id
   * first would verify the signature twice. An envelope that does not verify is refused with
   * its `refused` event naming the kernel id `""` (nothing unverified is reported as a caller).
   */
  acceptClaimedEnvelope(envelope: EnvelopeInput, now?: number, options?: AcceptOptions): Promise<FederationPeer> {
    try {
      return this.#accept(envelope, undefined, this.#now(now), readAcceptOptions(options));
    } catch (error) {
      return rejectedPromise(error);
    }
  }

  /** acceptEnvelope's checks; `expected` undefined: the verified challenge's sender. */
  async #accept(envelope: EnvelopeInput, expected: string | undefined, at: number, options: AcceptOptions | undefined): Promise<FederationPeer> {
    // One async frame for the whole accept, and one await per store call: with an in-memory
    // store the handshake costs little more than its signature check (bench/envelope.ts).
    let expectedId = expected ?? "";
    const config = this.#config;
    const hardening = this.#hardening;
    const replay = this.#replay;
    const beforePin = options?.beforePin;
    const signal = options?.signal;
    try {
      throwIfAborted(signal); // before the store is read: nothing between here and there awaits
      // 1. Signature against the declared key (and, new, weak keys and timestamp range).
      const { challenge, declaredPublicKey } = this.#authenticate(envelope, hardening);
      if (expected === undefined) expectedId = challenge.localKernelId;
      if (hardening.requireSafeTimestamps && typeof challenge.timestamp === "bigint") {
        throw handshakeErrors.malformedEnvelope(
          `timestamp ${challenge.timestamp} is above ${MAX_SAFE_INTEGER} (requireSafeTimestamps)`,
          undefined,
          { problem: "UNSAFE_TIMESTAMP", field: "challenge.timestamp" },
        );
      }
      // 2–4. Addressing and time.
      if (challenge.remoteKernelId !== this.#localKernelId) {
        throw handshakeErrors.addressMismatch(challenge.remoteKernelId, this.#localKernelId);
      }
      if (challenge.localKernelId !== expectedId) throw handshakeErrors.kernelIdMismatch(challenge.localKernelId, expectedId);
      if (driftExceeds(challenge.timestamp, at, config.maxHandshakeSkewSecs)) {
        throw handshakeErrors.clockSkewExceeded(challenge.timestamp, at, config.maxHandshakeSkewSecs);
      }
      // 5–7. Which key this peer must use: the anchor first, else the existing pin, even if stale.
      let found: unknown;
      try {
        found = await this.#store.get(expectedId);
      } catch (cause) {
        throw storeFailure("get", cause);
      }
      const pinned = this.#checkPeer(found, "get", expectedId);
      this.#expectKey(expectedId, declaredPublicKey, pinned);
      // 8. Replay, only now that the envelope is authenticated by the expected key. A nonce the
      // store could never hold is refused rather than accepted without replay protection.
      const nonce = challenge.nonce;
      throwIfAborted(signal);
      if (replay) await this.#reserveNonce(replay, expectedId, nonce, challenge.timestamp, at, config.maxHandshakeSkewSecs);
      // 9. Pin; 10. keep the reservation on success, release it on any failure before a pin
      // write was sent. A write the store failed (threw, rejected, timed out) may still have
      // landed, so its nonce stays held: releasing it could let the same envelope be accepted
      // twice (docs/protocol.md §5). The pair expires like any other.
      let keepNonce = false;
      try {
        throwIfAborted(signal);
        if (beforePin !== undefined) {
          // Awaited when it returns a promise: an async hook's rejection must refuse the accept
          // (and be handled), not leave a pin behind and an unhandled rejection (review-34 C1).
          const hooked: unknown = beforePin(freezeAtLoad({ kernelId: expectedId, nonce }));
          if (isPromiseLike(hooked)) await hooked;
        }
        throwIfAborted(signal);
        // 6–7 again: an anchor replaced (withTrustedPeer) while this accept waited on the replay
        // store or the hook is in force from here on (docs/protocol.md §6).
        this.#expectKey(expectedId, declaredPublicKey, pinned);
        const peer = new FederationPeer({
          kernelId: expectedId,
          publicKey: declaredPublicKey,
          establishedAt: at,
          rotationDue: saturatingAddSeconds(at, config.rotationWindowSecs),
        });
        let outcome: PinOutcome;
        if (!hardening.compareAndSetPins) {
          try {
            await this.#store.insert(peer);
          } catch (cause) {
            throw unknownWriteOutcome(storeFailure("insert", cause));
          }
          outcome = { peer, written: true, previous: pinned };
        } else if (await this.#compareAndSet(expectedId, pinned, peer)) {
          outcome = { peer, written: true, previous: pinned };
        } else {
          outcome = await this.#afterLostRace(expectedId, pinned, peer, at, config.maxHandshakeSkewSecs, signal);
        }
        keepNonce = true;
        // An anchor replaced while the write was on its way: refuse. The pin it wrote stays (resolve
        // refuses it, and the next handshake under the new anchor replaces it), and the audit log
        // sees that write as a `pinned` event before the refusal.
        const anchor = this.#anchorOtherThan(expectedId, declaredPublicKey);
        const replaced = anchor && handshakeErrors.unexpectedPeerKey(expectedId, anchorText(anchor), declaredPublicKey.toHex());
        if (replaced === undefined && outcome.written) this.#prepareForVerification(outcome.peer.publicKey);
        if (this.#onEvent && (replaced === undefined || outcome.written)) {
          this.#emit({ type: "pinned", kernelId: expectedId, peer: outcome.peer, previous: outcome.previous, written: outcome.written, nonce, at });
        }
        if (replaced !== undefined) throw replaced;
        return outcome.peer;
      } catch (error) {
        if (weakSetHas(writesOfUnknownOutcome, error as object)) keepNonce = true;
        throw error;
      } finally {
        if (replay) await settleNonce(replay, expectedId, nonce, keepNonce);
      }
    } catch (error) {
      if (instanceOfOrFalse(PeerHandshakeError, error) && this.#onEvent) {
        this.#emit({ type: "refused", operation: "accept", kernelId: expectedId, code: error.code, message: error.message, fields: error.fields, at });
      }
      throw error;
    }
  }

  /** Step 1: the authenticated challenge and declared key (the signature has been checked). */
  #authenticate(input: EnvelopeInput, hardening: HandshakeHardening): { challenge: HandshakeChallengeFields; declaredPublicKey: PublicKey } {
    if (input === null || input === undefined || (typeof input !== "object" && typeof input !== "string")) {
      throw handshakeErrors.malformedEnvelope(`expected an envelope object, JSON text or bytes, got ${input === null ? "null" : typeof input}`);
    }
    // Text and bytes are verified in one wasm call, exactly as fromJSON does, but only the fields
    // this accept reads come back: the envelope itself never leaves acceptEnvelope.
    if (typeof input === "string" || isUint8Array(input)) {
      return readVerifiedEnvelopeFields(input, hardening.maxEnvelopeBytes, hardening.rejectWeakKeys, hardening.escapeDelAndC1);
    }
    const envelope = PeerHandshakeEnvelope.fromJSON(input, { maxBytes: hardening.maxEnvelopeBytes });
    envelope.verifySignature({ rejectWeakKeys: hardening.rejectWeakKeys, escapeDelAndC1: hardening.escapeDelAndC1 });
    return envelope;
  }

  /**
   * Step 8: reserve (peer, nonce) with the envelope's own timestamp, so the pair stays refused
   * while the envelope could pass the skew check under whatever skew is in force when a replay
   * arrives (docs/protocol.md §7). Any throw or rejection of the store is STORE_FAILED.
   */
  async #reserveNonce(replay: ReplayStore, kernelId: string, nonce: string, timestamp: number | bigint, at: number, skew: number): Promise<void> {
    let fits: unknown = true;
    try {
      // Like every store method, fits may answer with a promise (docs/protocol.md §8).
      if (replay.fits !== undefined) {
        const answer: unknown = replay.fits(kernelId, nonce);
        fits = isPromiseLike(answer) ? await answer : answer;
      }
    } catch (cause) {
      throw storeFailure("replay.fits", cause);
    }
    // Only `true` is "fits": an async fits that forgot its `return` (undefined), 0 or null fails
    // closed, as any answer of reserve but a boolean does (review 57).
    if (typeof fits !== "boolean") throw handshakeErrors.storeFailed("replay.fits", "did not return a boolean");
    if (!fits) {
      const limit = instanceOfOrFalse(ReplayCache, replay) ? ` (maxKeyUnitsPerPeer ${replay.maxKeyUnitsPerPeer})` : "";
      throw handshakeErrors.malformedEnvelope(`nonce is too long for the replay cache${limit}`, undefined, {
        problem: "NONCE_TOO_LONG",
        field: "challenge.nonce",
      });
    }
    // A bigint timestamp (only with requireSafeTimestamps off) is above every safe `now + skew`:
    // passed as MAX_SAFE_INTEGER, it is live until evicted.
    const stamp = typeof timestamp === "bigint" ? MAX_SAFE_INTEGER : timestamp;
    let reserved: unknown;
    try {
      const result = replay.reserve(kernelId, nonce, stamp, at, skew);
      // The default ReplayCache answers synchronously: no extra await on the hot path.
      reserved = isPromiseLike(result) ? await result : result;
    } catch (cause) {
      throw storeFailure("replay.reserve", cause);
    }
    if (reserved === false) throw handshakeErrors.replayedNonce(kernelId, nonce);
    // Any other answer fails closed and leaves the pair as the store has it: release() cannot
    // tell this accept's reservation from another's, so "undoing" an answer that meant "held"
    // would free a concurrent accept's pair and let its envelope be accepted twice (review 43).
    if (reserved !== true) throw handshakeErrors.storeFailed("replay.reserve", "did not return a boolean");
  }

  /**
   * Steps 6–7: the declared key must be the anchor (one of its keys), else the pinned key. Of an
   * anchor's keys, one listed before the key the pin holds is refused too: a rotation moves
   * forward only (docs/protocol.md §6).
   */
  #expectKey(kernelId: string, declared: PublicKey, pinned: FederationPeer | undefined): void {
    const anchor = mapGet(this.#anchors, kernelId);
    if (anchor !== undefined) {
      const at = indexOfKey(anchor, declared);
      if (at < 0) throw handshakeErrors.unexpectedPeerKey(kernelId, anchorText(anchor), declared.toHex());
      const pinnedAt = pinned === undefined ? -1 : indexOfKey(anchor, pinned.publicKey);
      if (at < pinnedAt) throw handshakeErrors.unexpectedPeerKey(kernelId, anchorText(anchor, pinnedAt), declared.toHex());
      return;
    }
    if (pinned === undefined) throw handshakeErrors.missingTrustAnchor(kernelId);
    if (!declared.equals(pinned.publicKey)) throw handshakeErrors.unexpectedPeerKey(kernelId, pinned.publicKey.toHex(), declared.toHex());
  }

  /**
   * The anchor's keys of `kernelId` if it has an anchor and `key` is none of them; else
   * undefined. An accept of `key` whose write returned is then refused, and a pin of `key` is
   * refused by resolve and due now (the anchor wins over any pin, docs/protocol.md §6).
   */
  #anchorOtherThan(kernelId: string, key: PublicKey): readonly PublicKey[] | undefined {
    const anchor = mapGet(this.#anchors, kernelId);
    return anchor !== undefined && indexOfKey(anchor, key) < 0 ? anchor : undefined;
  }

  /** One store.compareAndSet; whether it wrote. */
  async #compareAndSet(kernelId: string, expected: FederationPeer | undefined, next: FederationPeer): Promise<boolean> {
    let wrote: unknown;
    try {
      wrote = await this.#store.compareAndSet(kernelId, expected, next);
    } catch (cause) {
      throw unknownWriteOutcome(storeFailure("compareAndSet", cause));
    }
    if (typeof wrote !== "boolean") throw unknownWriteOutcome(handshakeErrors.storeFailed("compareAndSet", "did not return a boolean"));
    return wrote;
  }

  /** The first compare-and-set lost a race: look once at what the winner wrote (see the file header). */
  async #afterLostRace(kernelId: string, pinned: FederationPeer | undefined, peer: FederationPeer, at: number, skew: number, signal: AbortSignal | undefined): Promise<PinOutcome> {
    const current = await this.#storeGet(kernelId);
    // The key is checked against the winner's entry and the anchors in force now before
    // anything is adopted or written. The winner's pin is adopted only if it is a concurrent
    // handshake's: established within the skew of this accept's `now`, and due no earlier than
    // this accept's pin less the skew. Anything else (a stalled accept's, a replica's whose clock
    // or window differs, an operator's) is renewed, as every accept renews (docs/protocol.md §6).
    this.#expectKey(kernelId, peer.publicKey, current);
    if (
      current !== undefined &&
      current.publicKey.equals(peer.publicKey) &&
      current.isFresh(at) &&
      !driftExceeds(current.establishedAt, at, skew) &&
      current.rotationDue >= peer.rotationDue - skew
    ) {
      return { peer: current, written: false, previous: pinned };
    }
    // A second write, after a store read that may have been slow: not sent for an accept its
    // transport has abandoned meanwhile (helper 154: sent after the server's 503, it pinned).
    throwIfAborted(signal);
    if (await this.#compareAndSet(kernelId, current, peer)) return { peer, written: true, previous: current };
    throw handshakeErrors.storeFailed(
      "compareAndSet",
      `the entry for peer ${kernelId} changed concurrently twice; pin not written`,
    );
  }

  /**
   * Rust `resolve`: the pin for `kernelId`, refusing unknown (PEER_NOT_PINNED) and stale
   * (`now >= rotationDue`, PEER_STALE) peers, and (new) a pin whose key is not the peer's trust
   * anchor (UNEXPECTED_PEER_KEY). Never renews or removes a pin.
   */
  async resolve(kernelId: string, now?: number): Promise<FederationPeer> {
    const at = this.#now(now);
    if (typeof kernelId !== "string") throw new InvalidTypeError("kernelId must be a string");
    let peer: FederationPeer | undefined;
    try {
      peer = await this.#storeGet(kernelId);
    } catch (error) {
      // A store that fails is a refusal the audit log must see too (review-34 C8).
      if (instanceOfOrFalse(PeerHandshakeError, error)) {
        this.#emit({ type: "refused", operation: "resolve", kernelId, code: error.code, message: error.message, fields: error.fields, at });
      }
      throw error;
    }
    if (peer === undefined) {
      const error = handshakeErrors.peerNotPinned(kernelId);
      this.#emit({ type: "refused", operation: "resolve", kernelId, code: error.code, message: error.message, fields: error.fields, at });
      throw error;
    }
    // An anchor wins over any pin (step 6), here too: a pin whose key is not the peer's anchor
    // (written before the anchor was replaced, or kept by a durable store across a restart with
    // new anchors) is refused until a handshake under the anchor replaces it.
    const anchor = this.#anchorOtherThan(kernelId, peer.publicKey);
    if (anchor !== undefined) {
      const error = handshakeErrors.pinNotAnchor(kernelId, anchorText(anchor), peer.publicKey.toHex());
      this.#emit({ type: "refused", operation: "resolve", kernelId, code: error.code, message: error.message, fields: error.fields, at });
      throw error;
    }
    if (!peer.isFresh(at)) {
      this.#emit({ type: "stale", kernelId, peer, at });
      throw handshakeErrors.peerStale(kernelId);
    }
    return peer;
  }

  /** Removes a pin without waiting for rotation; resolves to the removed entry, if any. */
  async forget(kernelId: string): Promise<FederationPeer | undefined> {
    if (typeof kernelId !== "string") throw new InvalidTypeError("kernelId must be a string");
    const removed = this.#checkPeer(await this.#storeCall("remove", () => this.#store.remove(kernelId)), "remove", kernelId);
    // Its key, prepared when the pin was written, is let go unless an anchor lists it: kept, the
    // forgotten keys of a long-running kernel filled its half of the slab for good, prepared on
    // request (no hot key evicts them), and no later pin or anchor was prepared (hunt 29).
    if (removed !== undefined) this.#forgetPrepared([removed.publicKey]);
    return removed;
  }

  /** Every pin (fresh or stale), in no particular order. */
  async peers(): Promise<FederationPeer[]> {
    const all = await this.#storeCall("snapshot", () => this.#store.snapshot());
    // Read by index, each entry checked as it is read: copied whole first (Array.from), a sparse
    // answer of length 2^32−1 built a four-billion-element array and the process died of heap
    // exhaustion before the first hole was seen. Its length is read once; Array.isArray is true
    // for a Proxy of an array, whose traps may throw while it is read.
    const peers = ownList<FederationPeer>();
    try {
      if (!isArray(all)) throw new TypeError("did not return an array");
      const length: unknown = (all as unknown[]).length;
      if (typeof length !== "number" || !isInteger(length) || length < 0) throw new TypeError("returned an array without a valid length");
      for (let i = 0; i < length; i++) {
        const peer = this.#checkPeer((all as unknown[])[i], "snapshot");
        if (peer === undefined) throw handshakeErrors.storeFailed("snapshot", "returned an empty entry");
        peers[peers.length] = peer;
      }
    } catch (cause) {
      if (instanceOfOrFalse(PeerHandshakeError, cause)) throw cause;
      throw handshakeErrors.storeFailed("snapshot", describeThrown(cause), cause);
    }
    return ownListAsArray(peers);
  }

  /**
   * Pins that need a new handshake soon: those with `rotationDue <= now + withinSecs`
   * (saturating), including ones already stale, ordered by deadline, after every pin whose key
   * is not its peer's anchor (resolve refuses those until a handshake replaces them). Use it to
   * re-handshake before the hard deadline (a soft threshold, docs/protocol.md §6).
   */
  async peersDueForRotation(now: number | undefined, withinSecs: number): Promise<FederationPeer[]> {
    const at = this.#now(now);
    const horizon = saturatingAddSeconds(at, expectUnixSeconds(withinSecs, "withinSecs"));
    // A pin of a key that is not its peer's anchor is due now, whatever its deadline: resolve
    // refuses it until a handshake under the anchor replaces it. Such pins come first.
    // Loops, lists of our own and the sort as captured at load (src/collections.ts): the realm's
    // map, filter and sort and the global Number, looked up at each call, decided which pins were
    // listed and in what order (a replaced filter answering [] hid every due pin).
    const all = await this.peers();
    const due = ownList<{ peer: FederationPeer; superseded: number }>();
    for (let i = 0; i < all.length; i++) {
      const peer = all[i]!;
      const superseded = this.#anchorOtherThan(peer.kernelId, peer.publicKey) !== undefined ? 1 : 0;
      if (superseded === 1 || peer.rotationDue <= horizon) due[due.length] = { peer, superseded };
    }
    arraySort(due, (a, b) => b.superseded - a.superseded || a.peer.rotationDue - b.peer.rotationDue || (a.peer.kernelId < b.peer.kernelId ? -1 : a.peer.kernelId > b.peer.kernelId ? 1 : 0));
    const listed = ownList<FederationPeer>(due.length);
    for (let i = 0; i < due.length; i++) listed[i] = due[i]!.peer;
    return ownListAsArray(listed);
  }

  // --- plumbing ---

  /** `now`, else the clock's reading; a bad value, or a clock that throws, is InvalidTimeError. */
  #now(now: number | undefined): number {
    if (now !== undefined) return expectUnixSeconds(now, "now");
    let reading: unknown;
    try {
      reading = this.#clock();
    } catch (cause) {
      throw new InvalidTimeError(`clock() threw: ${describeThrown(cause)}`, { cause });
    }
    // The clock must answer synchronously; a promise is refused below, and its rejection must not
    // end the process as an unhandled one after the caller has its typed error.
    absorbRejection(reading);
    return expectUnixSeconds(reading, "clock()");
  }

  async #storeGet(kernelId: string): Promise<FederationPeer | undefined> {
    const found = await this.#storeCall("get", () => this.#store.get(kernelId));
    return this.#checkPeer(found, "get", kernelId);
  }

  /** Runs one store call; any throw or rejection becomes STORE_FAILED with the cause attached. */
  async #storeCall<T>(operation: string, call: () => T | PromiseLike<T>): Promise<T> {
    try {
      return await call();
    } catch (cause) {
      throw storeFailure(operation, cause);
    }
  }

  /** Store results are rebuilt into fresh, validated peers, so nothing aliases the store's state. */
  #checkPeer(value: unknown, operation: string, kernelId?: string): FederationPeer | undefined {
    if (value === undefined || value === null) return undefined;
    let peer: FederationPeer;
    try {
      const record = value as FederationPeer;
      peer = new FederationPeer({
        kernelId: record.kernelId,
        publicKey: record.publicKey,
        establishedAt: record.establishedAt,
        rotationDue: record.rotationDue,
      });
    } catch (cause) {
      // describeThrown, not `.message`: a record's getter may throw anything (undefined, a revoked
      // Proxy, an Error whose message getter throws), and reading it here escaped untyped.
      throw handshakeErrors.storeFailed(operation, `returned an invalid peer: ${describeThrown(cause)}`, cause);
    }
    if (kernelId !== undefined && peer.kernelId !== kernelId) {
      throw handshakeErrors.storeFailed(operation, `returned peer ${peer.kernelId} for ${kernelId}`);
    }
    return peer;
  }

  #emit(event: HandshakeEvent): void {
    const handler = this.#onEvent;
    if (!handler) return;
    try {
      absorbRejection(handler(event));
    } catch {
      // An audit sink must not change the handshake's outcome.
    }
  }

  toJSON(): { localKernelId: string; localPublicKey: string; config: KernelTrustExchangeConfig } {
    return { localKernelId: this.#localKernelId, localPublicKey: this.localPublicKey.toHex(), config: { ...this.#config } };
  }

  [INSPECT](): string {
    return `KernelTrustExchange { localKernelId: ${JSON.stringify(this.#localKernelId)}, config: ${JSON.stringify(this.#config)}, .. }`;
  }
}
hardenClass(KernelTrustExchange); // its statics and methods stay its own: see hardenClass

/** What a pin attempt produced (see the "pinned" event). */
interface PinOutcome {
  peer: FederationPeer;
  written: boolean;
  previous: FederationPeer | undefined;
}

/**
 * Errors of pin writes the store failed after they were sent: whether they landed is unknown.
 * WeakSet's methods as captured at load (src/collections.ts): a replaced `has` would release the nonce
 * of an accept whose pin may have landed.
 */
const writesOfUnknownOutcome = new WeakSet<object>();

/** Marks `error` as the failure of a pin write that may still have landed (step 10 keeps the nonce). */
function unknownWriteOutcome(error: PeerHandshakeError): PeerHandshakeError {
  weakSetAdd(writesOfUnknownOutcome, error);
  return error;
}

/**
 * Step 10: keep (commit: success, or a pin write of unknown outcome) or release (any other
 * failure) a reservation. Neither may change the accept's outcome: a commit runs after the pin
 * is written, and a release runs while another error is already on its way out; if either
 * fails, the pair simply stays reserved (fail closed).
 */
async function settleNonce(replay: ReplayStore, kernelId: string, nonce: string, keep: boolean): Promise<void> {
  try {
    const result = keep ? replay.commit(kernelId, nonce) : replay.release(kernelId, nonce);
    // A commit is not awaited: the pin is written (or its write's outcome is unknown), so what the
    // accept answers cannot change, and a commit that is slow or never settles must not hold the
    // answer back. It did: a handshake server whose replay store's commit hung answered 503
    // HANDSHAKE_TIMEOUT to a caller it had pinned, and the two kernels disagreed (helper 141).
    // Its rejection is absorbed. A release is awaited, so that a refused envelope's pair is free
    // again when the refusal reaches the caller (a retry is not taken for a replay); the shipped
    // stores bound it (operationTimeoutMs), and a release that never settles delays only a refusal.
    if (keep) absorbRejection(result);
    else if (isPromiseLike(result)) await result;
  } catch {
    // See above: the pair stays held, so no replay of it can be accepted.
  }
}


/**
 * The listed members of a settings object, each read once (readSettings in src/bytes.ts: a
 * getter or Proxy trap runs once and cannot change its answer between validation and use; a
 * misspelt member is refused). Unlike the stores' options, undefined is refused too.
 * @throws InvalidConfigError when `value` is not an object, reading it throws, or it has an unknown member.
 */
function readConfigObject<K extends string>(value: unknown, name: string, keys: readonly K[]): Partial<Record<K, unknown>> {
  if (value === null || typeof value !== "object") {
    throw new InvalidConfigError(`${name} must be an object, got ${describeConfigValue(value)}`);
  }
  return readSettings(value, name, keys, (message, cause) =>
    cause === undefined ? new InvalidConfigError(message) : new InvalidConfigError(`${message}: ${describeThrown(cause)}`, { cause }),
  );
}

/**
 * `store` has every method of a port (and each optional one it has is a function). A Proxy or
 * getter that throws while they are looked up is InvalidTypeError, as a missing method is.
 */
function checkPort(store: unknown, name: string, port: string, methods: readonly string[], optional: readonly string[]): void {
  if (store === null || typeof store !== "object") throw new InvalidTypeError(`${name} must implement ${port} (got ${describeConfigValue(store)})`);
  try {
    for (const method of methods) {
      if (typeof (store as Record<string, unknown>)[method] !== "function") throw new InvalidTypeError(`${name} must implement ${port} (missing ${method})`);
    }
    for (const method of optional) {
      const value = (store as Record<string, unknown>)[method];
      if (value !== undefined && typeof value !== "function") throw new InvalidTypeError(`${name} ${method} must be a function`);
    }
  } catch (cause) {
    if (instanceOfOrFalse(InvalidTypeError, cause)) throw cause;
    throw new InvalidTypeError(`${name} cannot be read: ${describeThrown(cause)}`, { cause });
  }
}

/** The accept methods' options, checked; read only when options are given (the hot path passes none). */
function readAcceptOptions(options: AcceptOptions | undefined): AcceptOptions | undefined {
  if (options === undefined) return undefined;
  const { beforePin, signal } = readConfigObject(options, "options", ["beforePin", "signal"] as const);
  if (beforePin !== undefined && typeof beforePin !== "function") throw new InvalidTypeError("options.beforePin must be a function");
  return { beforePin: beforePin as AcceptOptions["beforePin"], signal: abortSignalOption(signal) };
}

/** STORE_FAILED for a store call that threw or rejected, with the cause attached. */
function storeFailure(operation: string, cause: unknown): PeerHandshakeError {
  const message = describeThrown(cause);
  // The shared stores' errors already start with the operation ("replay.reserve: READONLY …"):
  // not repeated (review 61 F7).
  // (String methods as captured at load: test/node/lying-builtins.test.ts).
  const reason = stringStartsWith(message, `${operation}: `) ? stringSlice(message, operation.length + 2) : message;
  return handshakeErrors.storeFailed(operation, reason, cause);
}

/** A trust anchor's key, or the keys any of which it trusts (at most MAX_ANCHOR_KEYS). */
export type AnchorKeys = PublicKey | string | readonly (PublicKey | string)[];

/**
 * withTrustedPeer's keys, read whole before anything changes: one key (PublicKey or hex), or an
 * array of 1 to MAX_ANCHOR_KEYS keys, duplicates dropped, copied. The array's length is read
 * once and checked before its elements (so a huge or lying length costs nothing), and its
 * elements by index (an Array subclass's own iterator is not consulted); a read that throws (a
 * Proxy's trap, a getter) is InvalidConfigError, a hole or a value that is not a key is that
 * key's own typed error, and any other object (a Set, say) InvalidTypeError.
 */
function readAnchorKeys(value: unknown): readonly PublicKey[] {
  if (value instanceof PublicKey || typeof value === "string") return freezeAtLoad([toPublicKey(value)]);
  if (!isArrayArgument(value)) throw new InvalidTypeError(`a trust anchor is a key (PublicKey or hex) or an array of keys, got ${describeConfigValue(value)}`);
  let listed: OwnList<unknown>;
  try {
    const length: unknown = (value as unknown[]).length;
    if (typeof length !== "number" || !isInteger(length) || length < 1 || length > MAX_ANCHOR_KEYS) {
      throw new InvalidConfigError(`a trust anchor lists 1 to ${MAX_ANCHOR_KEYS} keys, got ${typeof length === "number" ? length : describeConfigValue(length)}`);
    }
    // Lists of our own (ownList): `push`, and an accessor on Array.prototype for an index, are
    // caller code's to replace, and the anchor is read back at every handshake (review 98).
    listed = ownList<unknown>(length);
    for (let i = 0; i < length; i++) listed[i] = (value as unknown[])[i];
  } catch (cause) {
    if (instanceOfOrFalse(InvalidConfigError, cause)) throw cause;
    throw new InvalidConfigError(`trust anchor keys cannot be read: ${describeThrown(cause)}`, { cause });
  }
  const keys = ownList<PublicKey>();
  for (let i = 0; i < listed.length; i++) {
    const key = toPublicKey(listed[i]);
    if (indexOfKey(keys, key) < 0) keys[keys.length] = key;
  }
  return freezeAtLoad(ownListAsArray(keys)); // an ordinary frozen Array, its elements its own
}

// The trust anchors' lists are frozen with Object.freeze as captured at load (freezeAtLoad): a
// replaced Object.freeze kept a live reference to an anchor's list, to rewrite later (review 99).
// They are read and written with Map's methods as captured at load (mapGet, mapSet: src/bytes.ts),
// for the same reason.

/**
 * Where `key` stands in `keys`, or -1. A loop, not `findIndex`: a replaced findIndex would
 * decide which keys an anchor accepts (review 98).
 */
function indexOfKey(keys: OwnList<PublicKey> | readonly PublicKey[], key: PublicKey): number {
  for (let i = 0; i < keys.length; i++) if (keys[i].equals(key)) return i;
  return -1;
}

/**
 * An anchor's keys from index `from` on as an error's `expected`: the key's hex, or the hex of
 * each joined by " or ". A loop, not map, join and slice: replaced, they turned the refusal into
 * what they threw, or chose the keys the audit log was told to expect (hunt 23).
 */
function anchorText(keys: readonly PublicKey[], from = 0): string {
  let text = "";
  for (let i = from; i < keys.length; i++) text += (i > from ? " or " : "") + keys[i].toHex();
  return text;
}

function isIterable(value: object): value is Iterable<readonly [string, AnchorKeys]> {
  return typeof (value as { [Symbol.iterator]?: unknown })[Symbol.iterator] === "function";
}
