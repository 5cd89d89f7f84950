// The envelope one kernel sends the other (Rust `PeerHandshakeEnvelope`): the challenge, the
// key it claims to sign with, and the signature over the challenge's canonical bytes.
//
// Two ways in, one rule set (serde `deny_unknown_fields`, camelCase; docs/protocol.md §2):
// - JSON text or UTF-8 bytes go through `verifyEnvelopeBytes`, which parses, rebuilds the
//   canonical challenge and verifies the signature in ONE wasm call, and only then decodes the
//   strings ("verify before parse"). So text becomes an envelope only once its signature holds.
// - A JS object (for example from JSON.parse, or built in code) is checked structurally here;
//   its signature is checked by verifySignature() / KernelTrustExchange.acceptEnvelope.
import { boundedSchema, verifyEnvelopeBytes, verifyEnvelopeFields, type EnvelopeVerdict } from "./verify-envelope.js";
import {
  hardenClass,
  OBJECT_PROTOTYPE, brandHasInstance, getPrototypeOf, hasOwnMember, isArray, isInteger, isListed, isSafeInteger, isUint8Array, isUnreadableView, quoteJsonString,
  refuseSubclass, stringSlice, toBigInt, toText, freezeAtLoad,
} from "../bytes.js";
import { weakMapGet, weakMapSet } from "../collections.js";
import { describeThrown, InvalidTypeError, instanceOfOrFalse } from "../errors.js";
import { challengeWithVerifiedBytes, HandshakeChallenge, hasDelOrC1, type ChallengeBytesOptions, type HandshakeChallengeFields } from "./challenge.js";
import { FEDERATION_HANDSHAKE_SCHEMA, U64_MAX } from "./constants.js";
import { handshakeErrors, PeerHandshakeError } from "./errors.js";
import { publicKeyFromDecodedBytes, PublicKey, Signature, signatureFromOwnedBytes, type HandshakeSigner } from "./keys.js";
import { absorbRejection } from "./maybe-promise.js";
import { expectWireTimestamp } from "./time.js";
import { expectMaxEnvelopeBytes, hasLoneSurrogate, readEnvelopeSettings, serdeString } from "./wire.js";

export { expectMaxEnvelopeBytes };

/** Options for reading and verifying an envelope. */
export interface EnvelopeVerifyOptions {
  /** Refuse small-order declared keys with WEAK_PUBLIC_KEY before checking the signature. Default true. */
  rejectWeakKeys?: boolean;
  /**
   * Verify against the challenge bytes older chio kernels sign, with U+007F–U+009F escaped as
   * \u00xx (not RFC 8785). For challenges without those characters both forms are the same
   * bytes. Default false. The same name as the canonicalizeJson option (docs/protocol.md §3).
   */
  escapeDelAndC1?: boolean;
  /** @deprecated Alias of `escapeDelAndC1`. */
  legacyControlEscapes?: boolean;
}

/** Options for PeerHandshakeEnvelope.fromJSON. */
export interface EnvelopeParseOptions extends EnvelopeVerifyOptions {
  /**
   * Largest accepted input in UTF-8 bytes (text/bytes) or summed string length (objects): an
   * integer in 1 … MAX_ENVELOPE_BYTES_LIMIT (16 MiB) on both paths. Default 64 KiB.
   */
  maxBytes?: number;
}

/** The envelope's JSON shape (PeerHandshakeEnvelope on the wire), keys in serde order. */
export interface PeerHandshakeEnvelopeJson {
  challenge: HandshakeChallengeFields;
  declaredPublicKey: string;
  signature: string;
}

// Envelopes whose signature this library has already checked, whether weak keys were refused at
// the time, and which challenge bytes held (legacy DEL/C1 escapes or not). Instances are
// immutable, so the verdict cannot go out of date.
interface VerifiedPolicy {
  weakKeysRefused: boolean;
  legacyControlEscapes: boolean;
}
// Read and written with WeakMap's methods as captured at load (src/collections.ts): a replaced
// WeakMap.prototype.get answered "verified" for any envelope, and verifySignature passed a bad
// signature.
const verifiedEnvelopes = new WeakMap<PeerHandshakeEnvelope, VerifiedPolicy>();

/** An immutable handshake envelope. */
export class PeerHandshakeEnvelope {
  readonly challenge: HandshakeChallenge;
  readonly declaredPublicKey: PublicKey;
  readonly signature: Signature;
  /** Brand: set only by this constructor (see Symbol.hasInstance). */
  readonly #constructed = true;

  /** `instanceof PeerHandshakeEnvelope` is a brand check on its private #constructed (brandHasInstance in src/bytes.ts). */
  static [Symbol.hasInstance](value: unknown): boolean {
    return brandHasInstance(PeerHandshakeEnvelope, this, value, PeerHandshakeEnvelope.#hasBrand);
  }

  /** The brand test for [Symbol.hasInstance]: one function, where an arrow in its call would be a new closure on every `instanceof`. */
  static #hasBrand(value: object): boolean {
    return #constructed in value;
  }

  constructor(challenge: HandshakeChallenge, declaredPublicKey: PublicKey, signature: Signature) {
    refuseSubclass(new.target, PeerHandshakeEnvelope, "PeerHandshakeEnvelope");
    if (!(challenge instanceof HandshakeChallenge)) throw new InvalidTypeError("challenge must be a HandshakeChallenge");
    if (!(declaredPublicKey instanceof PublicKey)) throw new InvalidTypeError("declaredPublicKey must be a PublicKey");
    if (!(signature instanceof Signature)) throw new InvalidTypeError("signature must be a Signature");
    this.challenge = challenge;
    this.declaredPublicKey = declaredPublicKey;
    this.signature = signature;
    freezeAtLoad(this);
  }

  /**
   * Rust `PeerHandshakeEnvelope::sign`: builds the challenge from `localKernelId` to
   * `remoteKernelId`, signs its canonical bytes and declares the signer's public key.
   * `options.escapeDelAndC1` signs the bytes older chio kernels sign instead (U+007F–U+009F
   * escaped, docs/protocol.md §3); the same bytes unless a string holds such a character.
   * @throws PeerHandshakeError CANONICAL_JSON (a string with a lone surrogate) or SIGNING_FAILED
   * (the signer threw or returned something that is not a Signature); InvalidTypeError /
   * InvalidTimeError for bad arguments.
   */
  static sign(
    localKernelId: string,
    remoteKernelId: string,
    nonce: string,
    timestamp: number | bigint,
    signer: HandshakeSigner,
    options?: ChallengeBytesOptions,
  ): PeerHandshakeEnvelope {
    const challenge = HandshakeChallenge.create(localKernelId, remoteKernelId, nonce, timestamp);
    const bytes = challenge.canonicalBytes(options);
    if (signer === null || typeof signer !== "object") throw new InvalidTypeError("signer must be a Keypair or another HandshakeSigner with a PublicKey");
    // Read once: the key checked is the key declared. A getter that throws (a signer whose device
    // went away after the exchange was made) fails the signing, as a throw of sign() does, with a
    // typed error (helper 146: the getter's own error escaped, with no code).
    let publicKey: unknown;
    try {
      publicKey = signer.publicKey;
    } catch (cause) {
      throw handshakeErrors.signingFailed(`signer.publicKey cannot be read: ${describeThrown(cause)}`, cause);
    }
    if (!(publicKey instanceof PublicKey)) throw new InvalidTypeError("signer must be a Keypair or another HandshakeSigner with a PublicKey");
    let signature: unknown;
    try {
      signature = signer.sign(bytes);
    } catch (cause) {
      throw handshakeErrors.signingFailed(describeThrown(cause), cause);
    }
    if (!(signature instanceof Signature)) {
      // A signer must answer synchronously. A promise (an async HSM or KMS signer) is refused
      // here, and its rejection must not then end the process as an unhandled one.
      const promised = absorbRejection(signature);
      throw handshakeErrors.signingFailed(promised ? "signer returned a promise (sign must be synchronous)" : "signer did not return a Signature");
    }
    return new PeerHandshakeEnvelope(challenge, publicKey, signature);
  }

  /**
   * Reads an envelope. Text and bytes are parsed and verified in one wasm call and come back
   * only if the signature holds; an object is checked for shape only (call verifySignature or
   * acceptEnvelope next). Unknown members, missing members, wrong types, bad hex, keys that are
   * not curve points, lone surrogates and oversize input are MALFORMED_ENVELOPE, and so are bytes
   * whose ArrayBuffer was detached or shrank below the view.
   *
   * Prefer text or bytes straight off the wire. An object (e.g. from JSON.parse) is looser: the
   * parser has already dropped all but the last of duplicate members and turned `1.8e9` into
   * 1800000000, both of which serde (and the text path) refuse. That cannot forge anything (the
   * signature is checked over canonical bytes rebuilt from the values either way), but the object
   * path accepts some texts a Rust kernel would refuse.
   * @throws PeerHandshakeError MALFORMED_ENVELOPE; for text/bytes also UNSUPPORTED_SCHEMA,
   * WEAK_PUBLIC_KEY, INVALID_SIGNATURE.
   */
  static fromJSON(input: string | Uint8Array | object, options?: EnvelopeParseOptions): PeerHandshakeEnvelope {
    const { maxBytes, rejectWeakKeys, escapeDelAndC1 } = readEnvelopeSettings(options);
    if (typeof input === "string" || isUint8Array(input)) return readVerifiedEnvelopeText(input, maxBytes, rejectWeakKeys, escapeDelAndC1);
    try {
      return readEnvelopeObject(input, maxBytes);
    } catch (cause) {
      // A Proxy's traps (or a revoked Proxy) can throw anywhere while the object is read; the
      // peer's input is malformed either way, and must not surface as an untyped error.
      if (instanceOfOrFalse(PeerHandshakeError, cause)) throw cause;
      throw handshakeErrors.malformedEnvelope(`envelope object cannot be read: ${describeThrown(cause)}`, cause);
    }
  }

  /**
   * Rust `verify_signature`, in its order: schema (UNSUPPORTED_SCHEMA), then, new here, a
   * small-order declared key (WEAK_PUBLIC_KEY, unless `rejectWeakKeys: false`), then the
   * canonical bytes (CANONICAL_JSON), then Ed25519 with chio's rule (INVALID_SIGNATURE).
   * Says nothing about addressing, time or trust; acceptEnvelope checks those.
   */
  verifySignature(options?: EnvelopeVerifyOptions): void {
    const { rejectWeakKeys, escapeDelAndC1: legacy } = readEnvelopeSettings(options);
    const known = weakMapGet(verifiedEnvelopes, this);
    // A verdict for the other byte form counts only when the two forms are the same bytes.
    if (known && (known.legacyControlEscapes === legacy || !hasDelOrC1(this.challenge))) {
      // The signature already held; only the weak-key rule may be stricter now.
      if (rejectWeakKeys && !known.weakKeysRefused && this.declaredPublicKey.isSmallOrder()) {
        throw handshakeErrors.weakPublicKey(this.declaredPublicKey.toHex());
      }
      return;
    }
    if (this.challenge.schema !== FEDERATION_HANDSHAKE_SCHEMA) {
      // Named in the message as the text path names it: cut to 200 units, so a huge schema cannot flood logs.
      throw handshakeErrors.unsupportedSchema(boundedSchema(this.challenge.schema));
    }
    if (rejectWeakKeys && this.declaredPublicKey.isSmallOrder()) {
      throw handshakeErrors.weakPublicKey(this.declaredPublicKey.toHex());
    }
    const bytes = this.challenge.canonicalBytes({ escapeDelAndC1: legacy });
    if (!this.declaredPublicKey.verify(bytes, this.signature)) throw handshakeErrors.invalidSignature();
    weakMapSet(verifiedEnvelopes, this, { weakKeysRefused: rejectWeakKeys, legacyControlEscapes: legacy });
  }

  /** Field-by-field equality. */
  equals(other: PeerHandshakeEnvelope): boolean {
    return (
      other instanceof PeerHandshakeEnvelope &&
      this.challenge.equals(other.challenge) &&
      this.declaredPublicKey.equals(other.declaredPublicKey) &&
      this.signature.equals(other.signature)
    );
  }

  /**
   * Plain object in serde field order; JSON.stringify of it is byte-identical to a Rust
   * kernel's serde_json::to_string (for timestamps up to 2^53−1; see toJSONText).
   */
  toJSON(): PeerHandshakeEnvelopeJson {
    return {
      challenge: this.challenge.toJSON(),
      declaredPublicKey: this.declaredPublicKey.toHex(),
      signature: this.signature.toHex(),
    };
  }

  /** serde_json compact text, byte-identical to a Rust kernel's, for any u64 timestamp. */
  toJSONText(): string {
    return (
      `{"challenge":${this.challenge.toJSONText()},"declaredPublicKey":${serdeString(this.declaredPublicKey.toHex())},` +
      `"signature":${serdeString(this.signature.toHex())}}`
    );
  }
}
hardenClass(PeerHandshakeEnvelope); // its statics, methods and brand check stay its own: see hardenClass

/** @internal Whether weak keys were refused when this envelope's signature was verified, or undefined if never verified. */
export function verifiedWeakKeyPolicy(envelope: PeerHandshakeEnvelope): boolean | undefined {
  return weakMapGet(verifiedEnvelopes, envelope)?.weakKeysRefused;
}

// ---------------------------------------------------------------------------------------------
// Text and bytes: one wasm call parses, canonicalizes and verifies.

/**
 * Bytes whose ArrayBuffer was detached (transferred) or shrank below the view read as empty;
 * from the peer's side that is an unreadable envelope, so MALFORMED_ENVELOPE, as fromJSON and
 * acceptEnvelope report for every other unreadable input (verifyEnvelopeBytes, a lower-level
 * API, throws InvalidTypeError for it instead).
 */
function expectReadableInput(input: string | Uint8Array): void {
  if (typeof input !== "string" && isUnreadableView(input)) {
    throw handshakeErrors.malformedEnvelope("envelope bytes are a view of a detached or out-of-bounds ArrayBuffer");
  }
}

function readVerifiedEnvelopeText(
  input: string | Uint8Array,
  maxBytes: number,
  rejectWeakKeys: boolean,
  legacyControlEscapes: boolean,
): PeerHandshakeEnvelope {
  expectReadableInput(input);
  const verdict = verifyEnvelopeBytes(input, { maxBytes, zip215: false, rejectWeakKeys, escapeDelAndC1: legacyControlEscapes });
  if (!verdict.ok) throw verdictError(verdict);
  // The verdict's arrays are fresh copies out of wasm memory that nothing else holds, so they
  // are handed over without copying again.
  const { challenge, declaredPublicKey, signature, canonicalChallenge } = verdict.envelope;
  const envelope = new PeerHandshakeEnvelope(
    challengeWithVerifiedBytes(challenge, canonicalChallenge, legacyControlEscapes),
    publicKeyFromDecodedBytes(declaredPublicKey, true),
    signatureFromOwnedBytes(signature),
  );
  weakMapSet(verifiedEnvelopes, envelope, { weakKeysRefused: rejectWeakKeys, legacyControlEscapes });
  return envelope;
}

/**
 * @internal What acceptEnvelope needs from verified text or bytes: the same one-call
 * verification and the same errors as fromJSON, but only the challenge fields and the declared
 * key come back (no envelope object, no copies of the signature or the canonical bytes).
 */
export function readVerifiedEnvelopeFields(
  input: string | Uint8Array,
  maxBytes: number,
  rejectWeakKeys: boolean,
  legacyControlEscapes: boolean,
): { challenge: HandshakeChallengeFields; declaredPublicKey: PublicKey } {
  expectReadableInput(input);
  const verdict = verifyEnvelopeFields(input, maxBytes, rejectWeakKeys, legacyControlEscapes);
  if (!verdict.ok) throw verdictError(verdict);
  return { challenge: verdict.envelope.challenge, declaredPublicKey: publicKeyFromDecodedBytes(verdict.envelope.declaredPublicKey, true) };
}

/** The PeerHandshakeError for a failed one-call verification. */
function verdictError(verdict: Extract<EnvelopeVerdict, { ok: false }>): PeerHandshakeError {
  switch (verdict.code) {
    // The verdict carries the (bounded) schema and the declared key: the unverified input is
    // never parsed a second time.
    case "UNSUPPORTED_SCHEMA":
      return handshakeErrors.unsupportedSchema(verdict.schema ?? "<unreadable>");
    case "WEAK_PUBLIC_KEY":
      return handshakeErrors.weakPublicKey(verdict.declaredPublicKeyHex ?? "<unreadable>");
    case "INVALID_SIGNATURE":
      return handshakeErrors.invalidSignature();
    default:
      return handshakeErrors.malformedEnvelope(verdict.detail ?? verdict.message, undefined, { problem: verdict.problem, field: verdict.field });
  }
}

// ---------------------------------------------------------------------------------------------
// Objects: serde's rules, checked in JS.

const ENVELOPE_FIELDS = ["challenge", "declaredPublicKey", "signature"] as const;
const CHALLENGE_FIELDS = ["schema", "localKernelId", "remoteKernelId", "nonce", "timestamp"] as const;
const CHALLENGE_STRINGS = ["schema", "localKernelId", "remoteKernelId", "nonce"] as const;

// The built-ins the object path reads a caller's envelope with, as this module loaded: a
// replacement made later must not change what is read, nor which values reach the checks
// (README "Hardening"; test/node/lying-builtins.test.ts). The caller's own getters and Proxy
// traps still run, and are refused or read once, as before. The rest are src/bytes.ts's.
const ownKeys = Reflect.ownKeys;
const getOwnPropertyDescriptor = Object.getOwnPropertyDescriptor;

function readEnvelopeObject(input: unknown, maxBytes: number): PeerHandshakeEnvelope {
  const budget = { remaining: maxBytes };
  if (input instanceof PeerHandshakeEnvelope) {
    // An envelope made elsewhere (fromJSON with a larger maxBytes, say) is held to this bound too,
    // as its challenge would be on the text and plain-object paths.
    readChallenge(input.challenge, budget);
    return input;
  }
  const record = expectRecord(input, "envelope", ENVELOPE_FIELDS);
  const challenge = readChallenge(record.challenge, budget);
  const declaredPublicKey = readWireValue(record.declaredPublicKey, "declaredPublicKey", budget, PublicKey);
  const signature = readWireValue(record.signature, "signature", budget, Signature);
  return new PeerHandshakeEnvelope(challenge, declaredPublicKey, signature);
}

function readChallenge(value: unknown, budget: { remaining: number }): HandshakeChallenge {
  if (value instanceof HandshakeChallenge) {
    for (let i = 0; i < CHALLENGE_STRINGS.length; i++) readString(value[CHALLENGE_STRINGS[i]!], CHALLENGE_STRINGS[i]!, budget);
    return value;
  }
  const record = expectRecord(value, "challenge", CHALLENGE_FIELDS);
  return new HandshakeChallenge({
    schema: readString(record.schema, "schema", budget),
    localKernelId: readString(record.localKernelId, "localKernelId", budget),
    remoteKernelId: readString(record.remoteKernelId, "remoteKernelId", budget),
    nonce: readString(record.nonce, "nonce", budget),
    timestamp: readTimestamp(record.timestamp),
  });
}

/** A plain object with exactly `fields` as own keys, or MALFORMED_ENVELOPE in serde's words. */
function expectRecord<K extends string>(value: unknown, what: string, fields: readonly K[]): Record<K, unknown> {
  if (value === null || typeof value !== "object" || isArray(value)) {
    throw handshakeErrors.malformedEnvelope(`${what}: invalid type: ${describeJson(value)}, expected struct`);
  }
  const proto = getPrototypeOf(value);
  if (proto !== OBJECT_PROTOTYPE && proto !== null) {
    throw handshakeErrors.malformedEnvelope(`${what}: expected a plain JSON object`);
  }
  const keys = ownKeys(value);
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i]!;
    if (typeof key !== "string" || !isListed<string>(fields, key)) {
      let expected = "";
      for (let j = 0; j < fields.length; j++) expected += `${j > 0 ? ", " : ""}\`${fields[j]!}\``;
      throw handshakeErrors.malformedEnvelope(`${what}: unknown field \`${toText(key)}\`, expected one of ${expected}`);
    }
  }
  // No prototype: a setter or getter on Object.prototype for a field name must not see or answer
  // the values read here. Each field is read from its own data descriptor (a getter is refused).
  const out = { __proto__: null } as unknown as Record<K, unknown>;
  for (let i = 0; i < fields.length; i++) {
    const field = fields[i]!;
    const descriptor = getOwnPropertyDescriptor(value, field);
    if (descriptor === undefined) throw handshakeErrors.malformedEnvelope(`${what}: missing field \`${field}\``);
    if (!hasOwnMember(descriptor, "value")) throw handshakeErrors.malformedEnvelope(`${what}: field \`${field}\` is an accessor`);
    out[field] = descriptor.value;
  }
  return out;
}

function readString(value: unknown, name: string, budget: { remaining: number }): string {
  if (typeof value !== "string") {
    throw handshakeErrors.malformedEnvelope(`${name}: invalid type: ${describeJson(value)}, expected a string`);
  }
  budget.remaining -= value.length; // UTF-16 units never exceed UTF-8 bytes
  if (budget.remaining < 0) throw handshakeErrors.malformedEnvelope("envelope exceeds the size limit");
  if (hasLoneSurrogate(value)) throw handshakeErrors.malformedEnvelope(`${name}: contains a lone UTF-16 surrogate`);
  return value;
}

/** serde u64: a non-negative integer up to u64::MAX; kept exact (bigint above 2^53−1). */
function readTimestamp(value: unknown): number | bigint {
  if (typeof value === "number") {
    // -0 too: serde_json reads the literal `-0` as a float, which no u64 field accepts.
    if (!isInteger(value) || value < 0 || (value === 0 && 1 / value < 0)) {
      throw handshakeErrors.malformedEnvelope(`timestamp: invalid value: ${value}, expected u64`);
    }
    if (isSafeInteger(value)) return value;
    const exact = toBigInt(value); // an integral double converts exactly
    if (exact > U64_MAX) throw handshakeErrors.malformedEnvelope(`timestamp: invalid value: ${value}, expected u64`);
    return expectWireTimestamp(exact, "timestamp");
  }
  if (typeof value === "bigint") {
    if (value < 0n || value > U64_MAX) throw handshakeErrors.malformedEnvelope(`timestamp: invalid value: ${value}, expected u64`);
    return expectWireTimestamp(value, "timestamp");
  }
  throw handshakeErrors.malformedEnvelope(`timestamp: invalid type: ${describeJson(value)}, expected u64`);
}

function readWireValue<T extends PublicKey | Signature>(
  value: unknown,
  name: string,
  budget: { remaining: number },
  kind: { fromHex(hex: string): T; prototype: T },
): T {
  if (value instanceof (kind as unknown as new () => T)) return value as T;
  const hex = readString(value, name, budget);
  try {
    return kind.fromHex(hex);
  } catch (cause) {
    if (instanceOfOrFalse(PeerHandshakeError, cause)) throw cause;
    throw handshakeErrors.malformedEnvelope(`${name}: ${describeThrown(cause)}`, cause);
  }
}

function describeJson(value: unknown): string {
  if (value === null) return "null";
  if (isArray(value)) return "sequence";
  if (typeof value === "number" || typeof value === "bigint") return `number ${value}`;
  if (typeof value === "string") return `string ${quoteJsonString(value.length > 40 ? stringSlice(value, 0, 40) + "…" : value)}`;
  return typeof value === "object" ? "map" : typeof value;
}
