// The challenge body one kernel signs (Rust `HandshakeChallenge`, docs/protocol.md §2, §3).
// What is signed is the RFC 8785 canonical JSON of this object alone: keys sorted
// (localKernelId < nonce < remoteKernelId < schema < timestamp), the timestamp as exact decimal
// digits (u64), no prefix, no prehash. Older chio kernels also escape U+007F–U+009F in those
// strings; `canonicalBytes({ legacyControlEscapes: true })` gives their bytes, for verifying
// envelopes such kernels signed (HandshakeHardening.legacyControlEscapes).
import { canonicalBytes, hasDelOrC1 as stringHasDelOrC1 } from "../canonical/value.js";
import { hardenClass, brandHasInstance, copyOfBytes, refuseSubclass, toBigInt, freezeAtLoad } from "../bytes.js";
import { describeThrown, InvalidTypeError } from "../errors.js";
import { FEDERATION_HANDSHAKE_SCHEMA } from "./constants.js";
import { handshakeErrors } from "./errors.js";
import { expectWireTimestamp } from "./time.js";
import { readEnvelopeSettings, serdeString, serdeU64 } from "./wire.js";

// Module-private: lets the envelope parser reuse the canonical bytes the wasm verifier rebuilt
// and signed-checked for these exact fields, instead of canonicalizing a second time. Not
// exported from the package, because bytes that do not match the fields would bypass verification.
let attachCanonicalBytes: (fields: HandshakeChallengeFields, canonical: Uint8Array, legacyControlEscapes: boolean) => HandshakeChallenge;

/**
 * @internal A challenge whose canonical bytes were produced and verified by the wasm envelope
 * verifier; `legacyControlEscapes` says which form they are (DEL/C1 escaped or not). Takes
 * ownership of `canonical` (the caller must hold no other reference to it).
 */
export function challengeWithVerifiedBytes(fields: HandshakeChallengeFields, canonical: Uint8Array, legacyControlEscapes = false): HandshakeChallenge {
  return attachCanonicalBytes(fields, canonical, legacyControlEscapes);
}

/** Options for HandshakeChallenge.canonicalBytes. */
export interface ChallengeBytesOptions {
  /** Escape U+007F–U+009F as \u00xx, as older chio kernels sign (not RFC 8785; docs/protocol.md §3). Default false. */
  escapeDelAndC1?: boolean;
  /** @deprecated Alias of `escapeDelAndC1`. */
  legacyControlEscapes?: boolean;
}


/**
 * @internal True if a string of the challenge holds U+007F–U+009F, i.e. its legacy bytes differ
 * from the canonical ones. A scan with the charCodeAt captured at load, not a regular expression,
 * whose `test` caller code can replace.
 */
export function hasDelOrC1(challenge: HandshakeChallengeFields): boolean {
  return (
    stringHasDelOrC1(challenge.schema) ||
    stringHasDelOrC1(challenge.localKernelId) ||
    stringHasDelOrC1(challenge.remoteKernelId) ||
    stringHasDelOrC1(challenge.nonce)
  );
}

/** The five challenge fields, in the order serde writes them. */
export interface HandshakeChallengeFields {
  schema: string;
  localKernelId: string;
  remoteKernelId: string;
  nonce: string;
  /** Unix seconds. A number (safe integer) or, above 2^53−1, an exact bigint up to u64::MAX. */
  timestamp: number | bigint;
}

/** An immutable handshake challenge. */
export class HandshakeChallenge implements HandshakeChallengeFields {
  readonly schema: string;
  readonly localKernelId: string;
  readonly remoteKernelId: string;
  readonly nonce: string;
  readonly timestamp: number | bigint;
  #canonical: Uint8Array | undefined;
  #legacyCanonical: Uint8Array | undefined;

  /** `instanceof HandshakeChallenge` is a brand check on its private #canonical (brandHasInstance in src/bytes.ts). */
  static [Symbol.hasInstance](value: unknown): boolean {
    return brandHasInstance(HandshakeChallenge, this, value, HandshakeChallenge.#hasBrand);
  }

  /** The brand test for [Symbol.hasInstance]: one function, where an arrow in its call would be a new closure on every `instanceof`. */
  static #hasBrand(value: object): boolean {
    return #canonical in value;
  }

  /**
   * From explicit fields (any schema; the schema is checked when verifying).
   * @throws InvalidTypeError for non-string fields, InvalidTimeError for a bad timestamp.
   */
  constructor(fields: HandshakeChallengeFields) {
    refuseSubclass(new.target, HandshakeChallenge, "HandshakeChallenge");
    if (fields === null || typeof fields !== "object") throw new InvalidTypeError("challenge fields must be an object");
    // Each member read once, in order; a read that throws (a getter, a Proxy's trap, a revoked
    // Proxy) is INVALID_TYPE with the thrown value as its cause (helper 146: it escaped as itself).
    let schema: unknown, localKernelId: unknown, remoteKernelId: unknown, nonce: unknown, timestamp: unknown;
    try {
      ({ schema, localKernelId, remoteKernelId, nonce, timestamp } = fields as unknown as Record<string, unknown>);
    } catch (cause) {
      throw new InvalidTypeError("challenge fields cannot be read", { cause });
    }
    this.schema = expectString(schema, "schema");
    this.localKernelId = expectString(localKernelId, "localKernelId");
    this.remoteKernelId = expectString(remoteKernelId, "remoteKernelId");
    this.nonce = expectString(nonce, "nonce");
    this.timestamp = expectWireTimestamp(timestamp, "timestamp");
    freezeAtLoad(this);
  }

  /** Rust `HandshakeChallenge::new`: the current schema and the given addressing, nonce and time. */
  static create(localKernelId: string, remoteKernelId: string, nonce: string, timestamp: number | bigint): HandshakeChallenge {
    return new HandshakeChallenge({ schema: FEDERATION_HANDSHAKE_SCHEMA, localKernelId, remoteKernelId, nonce, timestamp });
  }

  static {
    attachCanonicalBytes = (fields, canonical, legacyControlEscapes) => {
      const challenge = new HandshakeChallenge(fields);
      if (!legacyControlEscapes) {
        challenge.#canonical = canonical;
      } else {
        challenge.#legacyCanonical = canonical;
        // Without DEL/C1 in the strings the two forms are the same bytes.
        if (!hasDelOrC1(challenge)) challenge.#canonical = canonical;
      }
      return challenge;
    };
  }

  /**
   * The signed bytes: RFC 8785 canonical UTF-8 JSON of the challenge (a copy). With
   * `legacyControlEscapes`, the bytes older chio kernels sign: the same, except U+007F–U+009F
   * are escaped as \u00xx.
   * @throws PeerHandshakeError CANONICAL_JSON if a string holds a lone surrogate; InvalidTypeError for a bad option.
   */
  canonicalBytes(options?: ChallengeBytesOptions): Uint8Array {
    // Read once each; an unknown member or a throwing read is InvalidTypeError (readSettings).
    const legacy = options === undefined ? false : readEnvelopeSettings(options).escapeDelAndC1;
    // A copy of the cache (defect 9b: handing out the cached array let a caller change what later
    // calls, and verifySignature, saw). Copied by copyOfBytes, not the realm's replaceable slice:
    // these are the bytes HandshakeChallenge.sign signs.
    return copyOfBytes(legacy ? (this.#legacyCanonical ??= this.#encode(true)) : (this.#canonical ??= this.#encode(false)));
  }

  #encode(escapeDelAndC1: boolean): Uint8Array {
    try {
      return canonicalBytes(
        {
          // No prototype: a toJSON, or an accessor, defined on Object.prototype by caller code
          // must not reach the object whose bytes are signed.
          __proto__: null,
          schema: this.schema,
          localKernelId: this.localKernelId,
          remoteKernelId: this.remoteKernelId,
          nonce: this.nonce,
          timestamp: typeof this.timestamp === "bigint" ? this.timestamp : toBigInt(this.timestamp), // BigInt as captured at load
        },
        { escapeDelAndC1 },
      );
    } catch (cause) {
      throw handshakeErrors.canonicalJson(describeThrown(cause), cause);
    }
  }

  /** Field-by-field equality (Rust derives PartialEq). */
  equals(other: HandshakeChallenge): boolean {
    return (
      other instanceof HandshakeChallenge &&
      this.schema === other.schema &&
      this.localKernelId === other.localKernelId &&
      this.remoteKernelId === other.remoteKernelId &&
      this.nonce === other.nonce &&
      toBigInt(this.timestamp) === toBigInt(other.timestamp)
    );
  }

  /**
   * Plain object in serde field order. JSON.stringify of it is the Rust wire form when the
   * timestamp is a number; a bigint timestamp (> 2^53−1) makes JSON.stringify throw rather than
   * round, so use toJSONText() for those.
   */
  toJSON(): HandshakeChallengeFields {
    return {
      schema: this.schema,
      localKernelId: this.localKernelId,
      remoteKernelId: this.remoteKernelId,
      nonce: this.nonce,
      timestamp: this.timestamp,
    };
  }

  /** serde_json compact text, byte-identical to a Rust kernel's, for any timestamp. */
  toJSONText(): string {
    return (
      `{"schema":${serdeString(this.schema)},"localKernelId":${serdeString(this.localKernelId)},` +
      `"remoteKernelId":${serdeString(this.remoteKernelId)},"nonce":${serdeString(this.nonce)},` +
      `"timestamp":${serdeU64(this.timestamp)}}`
    );
  }
}
hardenClass(HandshakeChallenge); // its statics, methods and brand check stay its own: see hardenClass

function expectString(value: unknown, name: string): string {
  if (typeof value !== "string") throw new InvalidTypeError(`${name} must be a string, got ${value === null ? "null" : typeof value}`);
  return value;
}
