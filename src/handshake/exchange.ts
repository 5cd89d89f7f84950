// KernelTrustExchange: one per local kernel. It owns the kernel's id and signing key, a peer
// store, the trust anchors and a clock; it builds this kernel's envelopes and verifies and pins
// the remote kernel's (Rust `KernelTrustExchange`, chio-spec.md §1.A).
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
//   8. (peer, nonce) not seen within 2·skew (new)             REPLAYED_NONCE
//      (a nonce too long for the cache to hold                 MALFORMED_ENVELOPE)
//   9. pin {now, now + window (saturating)} by compare-and-set STORE_FAILED
//
// The replay check sits after the key check, so only envelopes authenticated by the expected
// key can touch the cache (and a forger learns nothing about which nonces a peer used). Nothing
// is written before step 9 and nothing can fail after it, so a failed accept leaves the store
// and the replay cache exactly as they were.
//
// Concurrency: the pin is a compare-and-set against the entry read in step 5. If another accept
// for the same peer wrote in between (the CAS "loser"), the loser re-reads once: if the new entry
// pins the same key and is fresh, the loser adopts it and returns it without writing (so N
// concurrent first contacts make exactly one pin); otherwise it re-runs steps 6–7 against the
// new entry and tries the CAS once more, and if that also loses it fails with STORE_FAILED
// (operation "compareAndSet") rather than overwrite a pin it has not seen.
import { InvalidTypeError } from "../errors.js";
import { InMemoryPeerStore } from "../stores/memory.js";
import type { FederationPeerStore } from "../stores/types.js";
import { DEFAULT_HANDSHAKE_MAX_SKEW_SECS, DEFAULT_MAX_ENVELOPE_BYTES, DEFAULT_ROTATION_WINDOW_SECS } from "./constants.js";
import { handshakeErrors, InvalidConfigError, InvalidTimeError, PeerHandshakeError, type PeerHandshakeErrorCode } from "./errors.js";
import { expectMaxEnvelopeBytes, PeerHandshakeEnvelope, readVerifiedEnvelopeFields } from "./envelope.js";
import type { HandshakeChallengeFields } from "./challenge.js";
import { isUint8Array } from "../canonical/json.js";
import { PublicKey, type HandshakeSigner } from "./keys.js";
import { FederationPeer } from "./peer.js";
import { ReplayCache, type ReplayCacheLimits } from "./replay-cache.js";
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
   * Refuse a (peer, nonce) pair accepted within 2·skew; `false` disables, an object sets the
   * bounds (totals and per-peer quotas; see ReplayCache for what they do and do not guarantee). Default true.
   */
  replayCache: boolean | ReplayCacheLimits;
  /**
   * Require challenge timestamps in 0…2^53−1 (MALFORMED_ENVELOPE otherwise). When false, the full
   * u64 range is accepted and compared exactly as bigint, as the reference does. Default true.
   */
  requireSafeTimestamps: boolean;
  /**
   * Verify signatures over the challenge bytes older chio kernels sign, which escape U+007F–U+009F
   * as \u00xx (chio vector corpus a1486dbd), on the text and the object path alike. Only for
   * interop with such kernels; challenges without those characters verify the same either way.
   * Default false (RFC 8785 bytes, as current kernels sign). Affects verification only: this
   * kernel's own envelopes are always signed over RFC 8785 bytes.
   */
  legacyControlEscapes: boolean;
  /** Pin with store.compareAndSet (no lost or racing first pins). `false` uses insert (last writer wins, as the reference). Default true. */
  compareAndSetPins: boolean;
  /**
   * Largest envelope accepted: UTF-8 bytes of text/bytes input, summed string lengths of an
   * object. An integer in 1 … MAX_ENVELOPE_BYTES_LIMIT (16 MiB), the same range on both paths. Default 65536.
   */
  maxEnvelopeBytes: number;
}

/** Audit events. Handlers run synchronously; their throws and rejections are ignored. */
export type HandshakeEvent =
  | {
      type: "pinned";
      kernelId: string;
      peer: FederationPeer;
      /** The entry this pin replaced (a renewal or a key change), or undefined on first contact. */
      previous: FederationPeer | undefined;
      /** False when this accept lost a concurrent compare-and-set and adopted the winner's identical pin. */
      written: boolean;
      nonce: string;
      at: number;
    }
  | { type: "refused"; operation: "accept" | "resolve"; kernelId: string; code: PeerHandshakeErrorCode; message: string; at: number }
  | { type: "stale"; kernelId: string; peer: FederationPeer; at: number };

/** Handler for audit events. */
export type HandshakeEventHandler = (event: HandshakeEvent) => void;

/** Constructor options; each has a matching builder. */
export interface KernelTrustExchangeOptions {
  config?: Partial<KernelTrustExchangeConfig>;
  hardening?: Partial<HandshakeHardening>;
  store?: FederationPeerStore;
  /** Trust anchors: kernel id → expected public key (PublicKey or hex). */
  trustedPeers?: Iterable<readonly [string, PublicKey | string]> | Readonly<Record<string, PublicKey | string>>;
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
  legacyControlEscapes: false,
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
  readonly #anchors = new Map<string, PublicKey>();
  #replay: ReplayCache | undefined = new ReplayCache();
  #clock: () => number = systemClockSeconds;
  #onEvent: HandshakeEventHandler | undefined;

  /**
   * @param localKernelId this kernel's id, compared byte for byte with incoming addressees.
   * @param keypair this kernel's signing key (a Keypair or another HandshakeSigner).
   * @throws InvalidTypeError, InvalidConfigError, InvalidTimeError on bad arguments.
   */
  constructor(localKernelId: string, keypair: HandshakeSigner, options: KernelTrustExchangeOptions = {}) {
    if (typeof localKernelId !== "string") throw new InvalidTypeError("localKernelId must be a string");
    if (keypair === null || typeof keypair !== "object" || !(keypair.publicKey instanceof PublicKey) || typeof keypair.sign !== "function") {
      throw new InvalidTypeError("keypair must be a Keypair or another HandshakeSigner");
    }
    this.#localKernelId = localKernelId;
    this.#signer = keypair;
    if (options.config) this.withConfig(options.config);
    if (options.hardening) this.withHardening(options.hardening);
    if (options.store) this.withStore(options.store);
    if (options.trustedPeers) {
      const entries = isIterable(options.trustedPeers) ? options.trustedPeers : Object.entries(options.trustedPeers);
      for (const [kernelId, key] of entries) this.withTrustedPeer(kernelId, key);
    }
    if (options.clock) this.withClock(options.clock);
    if (options.onEvent) this.withEventHandler(options.onEvent);
  }

  // --- builders (mutate and return this; each accept reads the settings once, at its start) ---

  /** Sets the rotation window and/or skew (safe integers ≥ 0). @throws InvalidTimeError. */
  withConfig(config: Partial<KernelTrustExchangeConfig>): this {
    const next = { ...this.#config };
    if (config.rotationWindowSecs !== undefined) next.rotationWindowSecs = expectUnixSeconds(config.rotationWindowSecs, "rotationWindowSecs");
    if (config.maxHandshakeSkewSecs !== undefined) next.maxHandshakeSkewSecs = expectUnixSeconds(config.maxHandshakeSkewSecs, "maxHandshakeSkewSecs");
    this.#config = next;
    return this;
  }

  /** Turns individual hardening rules on or off. A new replayCache setting starts an empty cache. @throws InvalidConfigError. */
  withHardening(hardening: Partial<HandshakeHardening>): this {
    const next = { ...this.#hardening };
    for (const flag of ["rejectWeakKeys", "requireSafeTimestamps", "compareAndSetPins", "legacyControlEscapes"] as const) {
      const value = hardening[flag];
      if (value === undefined) continue;
      if (typeof value !== "boolean") throw new InvalidConfigError(`${flag} must be a boolean`);
      next[flag] = value;
    }
    if (hardening.maxEnvelopeBytes !== undefined) next.maxEnvelopeBytes = expectMaxEnvelopeBytes(hardening.maxEnvelopeBytes, "maxEnvelopeBytes");
    if (hardening.replayCache !== undefined) {
      const setting = hardening.replayCache;
      if (setting === false) this.#replay = undefined;
      else if (setting === true) this.#replay = new ReplayCache();
      else if (setting !== null && typeof setting === "object") this.#replay = new ReplayCache(setting);
      else throw new InvalidConfigError("replayCache must be a boolean or { maxEntries, maxKeyUnits, maxEntriesPerPeer, maxKeyUnitsPerPeer }");
      next.replayCache = setting;
    }
    this.#hardening = next;
    return this;
  }

  /** Replaces the peer store (default: a non-durable InMemoryPeerStore). */
  withStore(store: FederationPeerStore): this {
    for (const method of ["insert", "get", "remove", "snapshot", "compareAndSet"] as const) {
      if (store === null || typeof store !== "object" || typeof store[method] !== "function") {
        throw new InvalidTypeError(`store must implement FederationPeerStore (missing ${method})`);
      }
    }
    this.#store = store;
    return this;
  }

  /** Adds (or replaces) the trust anchor for `kernelId`; it wins over any existing pin. */
  withTrustedPeer(kernelId: string, publicKey: PublicKey | string): this {
    if (typeof kernelId !== "string") throw new InvalidTypeError("kernelId must be a string");
    this.#anchors.set(kernelId, publicKey instanceof PublicKey ? publicKey : PublicKey.fromHex(publicKey));
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

  /** The configured anchors (a copy). */
  trustedPeers(): Map<string, PublicKey> {
    return new Map(this.#anchors);
  }

  // --- the handshake ---

  /**
   * This kernel's signed envelope addressed to `remoteKernelId` (synchronous).
   * @throws PeerHandshakeError CANONICAL_JSON / SIGNING_FAILED; InvalidTypeError / InvalidTimeError.
   */
  localEnvelope(remoteKernelId: string, nonce: string, now?: number): PeerHandshakeEnvelope {
    const at = this.#now(now);
    return PeerHandshakeEnvelope.sign(this.#localKernelId, remoteKernelId, nonce, at, this.#signer);
  }

  /**
   * Verifies an envelope received from `expectedRemoteKernelId` at local time `now` and pins
   * the remote key (see the file header for the exact order of checks). Resolves to the new
   * pin; rejects with PeerHandshakeError on any failed check, leaving all state unchanged.
   * Pass the JSON text or bytes as received, not JSON.parse output: see EnvelopeInput for what
   * the object path cannot check. Unreadable bytes (a Proxy, a detached view) are MALFORMED_ENVELOPE.
   */
  async acceptEnvelope(envelope: EnvelopeInput, expectedRemoteKernelId: string, now?: number): Promise<FederationPeer> {
    const at = this.#now(now);
    if (typeof expectedRemoteKernelId !== "string") throw new InvalidTypeError("expectedRemoteKernelId must be a string");
    // One async frame for the whole accept, and one await per store call: with an in-memory
    // store the handshake costs little more than its signature check (bench/envelope.ts).
    const expectedId = expectedRemoteKernelId;
    const config = this.#config;
    const hardening = this.#hardening;
    const replay = this.#replay;
    try {
      // 1. Signature against the declared key (and, new, weak keys and timestamp range).
      const { challenge, declaredPublicKey } = this.#authenticate(envelope, hardening);
      if (hardening.requireSafeTimestamps && typeof challenge.timestamp === "bigint") {
        throw handshakeErrors.malformedEnvelope(
          `timestamp ${challenge.timestamp} is above ${Number.MAX_SAFE_INTEGER} (requireSafeTimestamps)`,
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
      // cache could never hold is refused rather than accepted without replay protection.
      const nonce = challenge.nonce;
      if (replay && !replay.fits(expectedId, nonce)) {
        throw handshakeErrors.malformedEnvelope(`nonce is too long for the replay cache (maxKeyUnitsPerPeer ${replay.maxKeyUnitsPerPeer})`);
      }
      if (replay && !replay.reserve(expectedId, nonce, at)) throw handshakeErrors.replayedNonce(expectedId, nonce);
      // 9. Pin.
      const peer = new FederationPeer({
        kernelId: expectedId,
        publicKey: declaredPublicKey,
        establishedAt: at,
        rotationDue: saturatingAddSeconds(at, config.rotationWindowSecs),
      });
      let accepted = false;
      try {
        let outcome: PinOutcome;
        if (!hardening.compareAndSetPins) {
          try {
            await this.#store.insert(peer);
          } catch (cause) {
            throw storeFailure("insert", cause);
          }
          outcome = { peer, written: true, previous: pinned };
        } else if (await this.#compareAndSet(expectedId, pinned, peer)) {
          outcome = { peer, written: true, previous: pinned };
        } else {
          outcome = await this.#afterLostRace(expectedId, pinned, peer, at);
        }
        accepted = true;
        if (this.#onEvent) {
          this.#emit({ type: "pinned", kernelId: expectedId, peer: outcome.peer, previous: outcome.previous, written: outcome.written, nonce, at });
        }
        return outcome.peer;
      } finally {
        replay?.settle(expectedId, nonce, accepted, at, saturatingAddSeconds(at, 2 * config.maxHandshakeSkewSecs));
      }
    } catch (error) {
      if (error instanceof PeerHandshakeError && this.#onEvent) {
        this.#emit({ type: "refused", operation: "accept", kernelId: expectedId, code: error.code, message: error.message, at });
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
      return readVerifiedEnvelopeFields(input, hardening.maxEnvelopeBytes, hardening.rejectWeakKeys, hardening.legacyControlEscapes);
    }
    const envelope = PeerHandshakeEnvelope.fromJSON(input, { maxBytes: hardening.maxEnvelopeBytes });
    envelope.verifySignature({ rejectWeakKeys: hardening.rejectWeakKeys, legacyControlEscapes: hardening.legacyControlEscapes });
    return envelope;
  }

  /** Steps 6–7: the declared key must equal the anchor, else the pinned key. */
  #expectKey(kernelId: string, declared: PublicKey, pinned: FederationPeer | undefined): void {
    const expected = this.#anchors.get(kernelId) ?? pinned?.publicKey;
    if (expected === undefined) throw handshakeErrors.missingTrustAnchor(kernelId);
    if (!declared.equals(expected)) throw handshakeErrors.unexpectedPeerKey(kernelId, expected.toHex(), declared.toHex());
  }

  /** One store.compareAndSet; whether it wrote. */
  async #compareAndSet(kernelId: string, expected: FederationPeer | undefined, next: FederationPeer): Promise<boolean> {
    let wrote: unknown;
    try {
      wrote = await this.#store.compareAndSet(kernelId, expected, next);
    } catch (cause) {
      throw storeFailure("compareAndSet", cause);
    }
    if (typeof wrote !== "boolean") throw handshakeErrors.storeFailed("compareAndSet", "did not return a boolean");
    return wrote;
  }

  /** The first compare-and-set lost a race: look once at what the winner wrote (see the file header). */
  async #afterLostRace(kernelId: string, pinned: FederationPeer | undefined, peer: FederationPeer, at: number): Promise<PinOutcome> {
    const current = await this.#storeGet(kernelId);
    if (current !== undefined && current.publicKey.equals(peer.publicKey) && current.isFresh(at)) {
      return { peer: current, written: false, previous: pinned };
    }
    this.#expectKey(kernelId, peer.publicKey, current);
    if (await this.#compareAndSet(kernelId, current, peer)) return { peer, written: true, previous: current };
    throw handshakeErrors.storeFailed(
      "compareAndSet",
      `the entry for peer ${kernelId} changed concurrently twice; pin not written`,
    );
  }

  /**
   * Rust `resolve`: the pin for `kernelId`, refusing unknown (PEER_NOT_PINNED) and stale
   * (`now >= rotationDue`, PEER_STALE) peers. Never renews or removes a pin.
   */
  async resolve(kernelId: string, now?: number): Promise<FederationPeer> {
    const at = this.#now(now);
    if (typeof kernelId !== "string") throw new InvalidTypeError("kernelId must be a string");
    const peer = await this.#storeGet(kernelId);
    if (peer === undefined) {
      const error = handshakeErrors.peerNotPinned(kernelId);
      this.#emit({ type: "refused", operation: "resolve", kernelId, code: error.code, message: error.message, at });
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
    const removed = await this.#storeCall("remove", () => this.#store.remove(kernelId));
    return this.#checkPeer(removed, "remove", kernelId);
  }

  /** Every pin (fresh or stale), in no particular order. */
  async peers(): Promise<FederationPeer[]> {
    const all = await this.#storeCall("snapshot", () => this.#store.snapshot());
    let entries: unknown[];
    try {
      // Array.isArray is true for a Proxy of an array, whose traps may throw while it is copied.
      if (!Array.isArray(all)) throw new TypeError("did not return an array");
      entries = Array.from(all as unknown[]);
    } catch (cause) {
      throw handshakeErrors.storeFailed("snapshot", cause instanceof Error ? cause.message : String(cause), cause);
    }
    return entries.map((entry) => {
      const peer = this.#checkPeer(entry, "snapshot");
      if (peer === undefined) throw handshakeErrors.storeFailed("snapshot", "returned an empty entry");
      return peer;
    });
  }

  /**
   * Pins that need a new handshake soon: those with `rotationDue <= now + withinSecs`
   * (saturating), including ones already stale, ordered by deadline. Use it to re-handshake
   * before the hard deadline (a soft threshold, protocol-anchors.md §8 item 6).
   */
  async peersDueForRotation(now: number | undefined, withinSecs: number): Promise<FederationPeer[]> {
    const at = this.#now(now);
    const horizon = saturatingAddSeconds(at, expectUnixSeconds(withinSecs, "withinSecs"));
    const due = (await this.peers()).filter((peer) => peer.rotationDue <= horizon);
    return due.sort((a, b) => a.rotationDue - b.rotationDue || (a.kernelId < b.kernelId ? -1 : a.kernelId > b.kernelId ? 1 : 0));
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
      throw handshakeErrors.storeFailed(operation, `returned an invalid peer: ${(cause as Error).message}`, cause);
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
      const result: unknown = handler(event);
      if (result && typeof (result as PromiseLike<unknown>).then === "function") {
        (result as PromiseLike<unknown>).then(undefined, () => undefined);
      }
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

/** What a pin attempt produced (see the "pinned" event). */
interface PinOutcome {
  peer: FederationPeer;
  written: boolean;
  previous: FederationPeer | undefined;
}

/** STORE_FAILED for a store call that threw or rejected, with the cause attached. */
function storeFailure(operation: string, cause: unknown): PeerHandshakeError {
  return handshakeErrors.storeFailed(operation, cause instanceof Error ? cause.message : String(cause), cause);
}

/** A thrown value's message, without letting a hostile toString throw again. */
function describeThrown(cause: unknown): string {
  try {
    return cause instanceof Error ? cause.message : String(cause);
  } catch {
    return "an unprintable value";
  }
}

function isIterable(value: object): value is Iterable<readonly [string, PublicKey | string]> {
  return typeof (value as { [Symbol.iterator]?: unknown })[Symbol.iterator] === "function";
}
