// Ed25519 key and signature value types with chio's wire form (docs/protocol.md §2, §4):
// a public key is 32 bytes shown as bare lowercase hex (64 chars), a signature 64 bytes (R‖S)
// as bare lowercase hex (128 chars). Parsing accepts what chio's `from_hex` accepts: either
// case, one optional leading "0x". A public key must decode as a curve point (dalek
// `VerifyingKey::from_bytes`); a signature never fails on value (S is range-checked at verify).
import { ed25519, isSmallOrderPublicKey, isValidPublicKey, type PreparedSecretKey } from "../ed25519.js";
import { PREPARED_SECRET_KEY_CAPACITY, prepareSecretKeyIfRoom } from "../prepared-secret-key.js";
import { hardenClass, brandHasInstance, bytesToHex, copyBytes, copyOfBytes, equalBytes, hasHexPrefix, hexToBytes, wipeBytes, freezeAtLoad } from "../bytes.js";
import { assertMadeByFactory, InvalidLengthError, InvalidTypeError, PreparedSecretKeyError } from "../errors.js";
import { InvalidPublicKeyError } from "./errors.js";

const INSPECT = Symbol.for("nodejs.util.inspect.custom");
const PUBLIC_KEY_BYTES = 32;
const SIGNATURE_BYTES = 64;
const SEED_BYTES = 32;

/** Decodes chio wire hex of exactly `bytes` bytes; checks the length before decoding anything. */
function decodeWireHex(hex: unknown, bytes: number, name: string): Uint8Array {
  if (typeof hex !== "string") throw new InvalidTypeError(`${name} must be a hex string, got ${typeof hex}`);
  const digits = hasHexPrefix(hex) ? hex.length - 2 : hex.length; // not hex.startsWith: captured rules only (src/bytes.ts)
  if (digits !== bytes * 2) {
    throw new InvalidLengthError(`${name} must be ${bytes * 2} hex digits (${bytes} bytes), got ${digits}`);
  }
  return hexToBytes(hex, { allowPrefix: true });
}

/**
 * The one argument that lets the constructors of PublicKey, Signature and Keypair run
 * (assertMadeByFactory), held by this module only: their factories copy and check what they keep.
 */
const CONSTRUCT = Symbol("chio-trust keys");

// Module-private door for bytes already proven to decode as a point (the wasm envelope parser
// and key derivation check that), so the public factories can always validate.
let wrapDecodedPublicKey: (bytes: Uint8Array) => PublicKey;
let wrapSignatureBytes: (bytes: Uint8Array) => Signature;
let signatureBytes: (signature: Signature) => Uint8Array;

/**
 * @internal Not exported from the package: wraps 32 bytes that are known to decode as a point;
 * with `owned`, takes the array itself (the caller must hold no other reference to it).
 */
export function publicKeyFromDecodedBytes(bytes: Uint8Array, owned = false): PublicKey {
  return wrapDecodedPublicKey(owned ? bytes : copyBytes(bytes, "public key", PUBLIC_KEY_BYTES));
}

/** @internal Not exported from the package: wraps a fresh 64-byte array nothing else references. */
export function signatureFromOwnedBytes(bytes: Uint8Array): Signature {
  return wrapSignatureBytes(bytes);
}

// Every byte value these classes keep is a private copy made by copyBytes before it is checked,
// and every getter hands out a fresh copy (the kept arrays are always plain Uint8Arrays made
// here or copied out of wasm memory, never a caller's Buffer, so their own `.slice()` is a real
// copy). Why it matters: `Buffer#slice` is a view, so a key read into a reused
// Buffer would otherwise change under its owner (one trust anchor turning into another), and a
// seed Buffer zeroed after Keypair.fromSeed would leave the keypair signing with the zero seed.

/** An Ed25519 public key that decodes as a curve point. Immutable. */
export class PublicKey {
  readonly #bytes: Uint8Array;
  /**
   * Bare lowercase hex of the 32 bytes, as toHex() gives it: an own enumerable property so that
   * deep equality (node:assert, util.isDeepStrictEqual, uvu, Jest and Vitest) tells two keys
   * apart, and a pin holding one compares by its key (helper 153: with the bytes in #bytes alone,
   * every two keys were deep-equal). A string: nothing in it can be changed.
   */
  readonly hex: string;

  /** `instanceof PublicKey` is a brand check on its private #bytes (brandHasInstance in src/bytes.ts). */
  static [Symbol.hasInstance](value: unknown): boolean {
    return brandHasInstance(PublicKey, this, value, PublicKey.#hasBrand);
  }

  /** The brand test for [Symbol.hasInstance]: one function, where an arrow in its call would be a new closure on every `instanceof`. */
  static #hasBrand(value: object): boolean {
    return #bytes in value;
  }

  private constructor(token: symbol, bytes: Uint8Array) {
    assertMadeByFactory(token, CONSTRUCT, "PublicKey is made by PublicKey.fromBytes() or fromHex()");
    this.#bytes = bytes;
    this.hex = bytesToHex(bytes);
    // Frozen, as its class is (hardenClass): the exchange compares its anchors with their own
    // `equals`, and an anchor is handed out (trustedPeers()); an own `equals` defined on one had a
    // stranger's envelope accepted and pinned (helper 151). Private fields stay writable.
    freezeAtLoad(this);
  }

  /**
   * Wraps 32 bytes (copied). @throws InvalidTypeError / InvalidLengthError on a wrong argument,
   * InvalidPublicKeyError (code INVALID_PUBLIC_KEY) if the bytes do not decode as a point.
   */
  static fromBytes(bytes: Uint8Array): PublicKey {
    const copy = copyBytes(bytes, "public key", PUBLIC_KEY_BYTES); // validate what is kept
    if (!isValidPublicKey(copy)) {
      throw new InvalidPublicKeyError(`public key ${bytesToHex(copy)} does not decode as an Ed25519 point`);
    }
    return new PublicKey(CONSTRUCT, copy);
  }

  /** Parses 64 hex digits, either case, optional "0x". @throws INVALID_TYPE / INVALID_LENGTH / INVALID_HEX / INVALID_PUBLIC_KEY. */
  static fromHex(hex: string): PublicKey {
    return PublicKey.fromBytes(decodeWireHex(hex, PUBLIC_KEY_BYTES, "public key"));
  }

  static {
    wrapDecodedPublicKey = (bytes) => new PublicKey(CONSTRUCT, bytes);
  }

  /** A copy of the 32 encoded bytes. */
  toBytes(): Uint8Array {
    return copyOfBytes(this.#bytes); // not slice: a replaced one would be handed the key
  }

  /** Bare lowercase hex, 64 chars: chio's `PublicKey::to_hex()` for Ed25519. */
  toHex(): string {
    return this.hex;
  }

  /** Same encoded bytes (dalek `VerifyingKey` equality compares the compressed encoding). */
  equals(other: PublicKey): boolean {
    return other instanceof PublicKey && equalBytes(this.#bytes, other.#bytes);
  }

  /** True for the eight points of order dividing 8, including the identity ("weak" keys). */
  isSmallOrder(): boolean {
    return isSmallOrderPublicKey(this.#bytes);
  }

  /**
   * Checks an Ed25519 signature with chio's rule (dalek `verify`: S < L, cofactorless).
   * @throws InvalidTypeError if `signature` is not a Signature or `message` not a readable Uint8Array.
   */
  verify(message: Uint8Array, signature: Signature): boolean {
    if (!(signature instanceof Signature)) throw new InvalidTypeError("signature must be a Signature");
    // ed25519.verify copies both into wasm memory within this call, so no JS copy is needed.
    return ed25519.verify(signatureBytes(signature), message, this.#bytes);
  }

  /** JSON form is the bare hex string, as serde writes chio's `PublicKey`. */
  toJSON(): string {
    return this.toHex();
  }

  toString(): string {
    return this.toHex();
  }

  [INSPECT](): string {
    return `PublicKey(${this.toHex()})`;
  }
}
hardenClass(PublicKey); // its statics, methods and brand check stay its own: see hardenClass

/** A 64-byte Ed25519 signature (R‖S). Never rejected on value; S < L is checked at verify time. */
export class Signature {
  readonly #bytes: Uint8Array;
  /** Bare lowercase hex of the 64 bytes, as toHex() gives it: own and enumerable for deep equality, as PublicKey#hex. */
  readonly hex: string;

  /** `instanceof Signature` is a brand check on its private #bytes (brandHasInstance in src/bytes.ts). */
  static [Symbol.hasInstance](value: unknown): boolean {
    return brandHasInstance(Signature, this, value, Signature.#hasBrand);
  }

  /** The brand test for [Symbol.hasInstance]: one function, where an arrow in its call would be a new closure on every `instanceof`. */
  static #hasBrand(value: object): boolean {
    return #bytes in value;
  }

  private constructor(token: symbol, bytes: Uint8Array) {
    assertMadeByFactory(token, CONSTRUCT, "Signature is made by Signature.fromBytes() or fromHex()");
    this.#bytes = bytes;
    this.hex = bytesToHex(bytes);
    freezeAtLoad(this); // as PublicKey's instances
  }

  /** Wraps 64 bytes (copied). @throws InvalidTypeError / InvalidLengthError. */
  static fromBytes(bytes: Uint8Array): Signature {
    return new Signature(CONSTRUCT, copyBytes(bytes, "signature", SIGNATURE_BYTES));
  }

  static {
    wrapSignatureBytes = (bytes) => new Signature(CONSTRUCT, bytes);
    signatureBytes = (signature) => signature.#bytes;
  }

  /** Parses 128 hex digits, either case, optional "0x". @throws INVALID_TYPE / INVALID_LENGTH / INVALID_HEX. */
  static fromHex(hex: string): Signature {
    return new Signature(CONSTRUCT, decodeWireHex(hex, SIGNATURE_BYTES, "signature"));
  }

  /** A copy of the 64 bytes (R‖S). */
  toBytes(): Uint8Array {
    return copyOfBytes(this.#bytes); // not slice: a replaced one would be handed the signature
  }

  /** Bare lowercase hex, 128 chars. */
  toHex(): string {
    return this.hex;
  }

  equals(other: Signature): boolean {
    return other instanceof Signature && equalBytes(this.#bytes, other.#bytes);
  }

  toJSON(): string {
    return this.toHex();
  }

  toString(): string {
    return this.toHex();
  }

  [INSPECT](): string {
    return `Signature(${this.toHex()})`;
  }
}
hardenClass(Signature); // its statics, methods and brand check stay its own: see hardenClass

/**
 * A prepared key for `seed`, or undefined when at most half the slab is free (the seed path then
 * signs): keypairs leave half the slots to explicit ed25519.prepareSecretKey callers, since a
 * dropped keypair's slot is only freed once it is garbage-collected.
 */
function tryPrepare(seed: Uint8Array): PreparedSecretKey | undefined {
  return prepareSecretKeyIfRoom(seed, PREPARED_SECRET_KEY_CAPACITY >>> 1);
}

/**
 * What the handshake needs from a signing key: the public key it declares and a signature over
 * the canonical challenge bytes. `Keypair` is the in-process implementation; an HSM or KMS
 * wrapper can implement the same shape (chio's `SigningBackend`). A throw becomes SIGNING_FAILED.
 */
export interface HandshakeSigner {
  readonly publicKey: PublicKey;
  sign(message: Uint8Array): Signature;
}

/**
 * An Ed25519 signing key (RFC 8032 §5.1.5 32-byte seed). The seed is held in a private field
 * and never appears in toJSON, toString or util.inspect output.
 *
 * Signing goes through a PreparedSecretKey made once in the constructor (expanded secret and
 * public key in wasm memory, one base multiplication per signature). The seed copy is kept
 * because seedBytes() is public API (a generated key must be persistable), and it lets the
 * keypair re-prepare when the prepared key was lost with a WebAssembly instance rebuilt after a
 * trap. Keypairs take a slot only while more than half the slab is free (a dropped keypair's
 * slot waits for garbage collection, and the other half stays for explicit prepareSecretKey
 * callers); otherwise the keypair signs from the seed: same signatures, one more base
 * multiplication.
 * destroy() wipes both the prepared slot and the seed copy.
 */
export class Keypair implements HandshakeSigner {
  readonly #seed: Uint8Array;
  #prepared: PreparedSecretKey | undefined;
  #destroyed = false;
  readonly publicKey: PublicKey;

  private constructor(token: symbol, seed: Uint8Array) {
    assertMadeByFactory(token, CONSTRUCT, "Keypair is made by Keypair.fromSeed() or generate()");
    this.#seed = seed;
    this.#prepared = tryPrepare(seed);
    // A seed always yields a valid point, so no decode check is needed.
    const publicKeyBytes = this.#prepared?.publicKey ?? ed25519.getPublicKey(seed); // a fresh array
    this.publicKey = publicKeyFromDecodedBytes(publicKeyBytes, true);
    // Frozen like every other value here: a reassigned publicKey would make the exchange declare
    // one key and sign with another (envelopes that never verify).
    freezeAtLoad(this);
  }

  /** From a 32-byte secret seed (copied). @throws InvalidTypeError / InvalidLengthError. */
  static fromSeed(seed: Uint8Array): Keypair {
    return Keypair.#own(copyBytes(seed, "seed", SEED_BYTES));
  }

  /** A keypair over `seed`, a private copy it takes over; the copy is zeroed if construction throws (no wasm core, say). */
  static #own(seed: Uint8Array): Keypair {
    try {
      return new Keypair(CONSTRUCT, seed);
    } catch (error) {
      wipeBytes(seed);
      throw error;
    }
  }

  /** A fresh key from the platform CSPRNG (crypto.getRandomValues). @throws RandomSourceError where there is none. */
  static generate(): Keypair {
    // The array crypto.getRandomValues filled is not kept: a replaced getRandomValues could hold
    // on to it and change the seed later. The keypair keeps its own copy; the drawn one is wiped.
    const drawn = ed25519.utils.randomSecretKey();
    try {
      return Keypair.#own(copyBytes(drawn, "seed", SEED_BYTES));
    } finally {
      wipeBytes(drawn);
    }
  }

  /**
   * Deterministic pure Ed25519 signature (RFC 8032 §5.1.6) over `message`.
   * @throws PreparedSecretKeyError KEY_DESTROYED after destroy(); PREPARED_KEY_CORRUPTED if the
   *   prepared slot failed its integrity check (nothing signed; later calls prepare the seed
   *   again in a fresh slot, or sign from the seed when no slot can be had).
   */
  sign(message: Uint8Array): Signature {
    if (this.#destroyed) throw new PreparedSecretKeyError("KEY_DESTROYED", "the keypair was destroyed");
    const prepared = this.#prepared;
    if (prepared !== undefined) {
      if (prepared.usable) return wrapSignatureBytes(ed25519.sign(message, prepared)); // a fresh array out of wasm memory
      // Lost with an instance rebuilt after a trap (or wiped after a failed check): prepare again.
      this.#prepared = tryPrepare(this.#seed);
      if (this.#prepared !== undefined) return wrapSignatureBytes(ed25519.sign(message, this.#prepared));
    }
    return wrapSignatureBytes(ed25519.sign(message, this.#seed));
  }

  /**
   * A copy of the secret seed, for callers that must persist a generated key. Handle with care.
   * @throws PreparedSecretKeyError KEY_DESTROYED after destroy().
   */
  seedBytes(): Uint8Array {
    if (this.#destroyed) throw new PreparedSecretKeyError("KEY_DESTROYED", "the keypair was destroyed");
    return copyOfBytes(this.#seed);
  }

  /** Wipes the prepared key in wasm memory and the seed copy; sign() and seedBytes() then throw KEY_DESTROYED. Idempotent. */
  destroy(): void {
    this.#destroyed = true;
    this.#prepared?.destroy();
    this.#prepared = undefined;
    wipeBytes(this.#seed);
  }

  toJSON(): { publicKey: string } {
    return { publicKey: this.publicKey.toHex() };
  }

  toString(): string {
    return `Keypair(publicKey=${this.publicKey.toHex()})`;
  }

  [INSPECT](): string {
    return `Keypair { publicKey: ${this.publicKey.toHex()} }`;
  }
}
hardenClass(Keypair); // its statics and methods stay its own: see hardenClass

/** A PublicKey given as itself or as hex (anchors, peer fields); anything else is fromHex's typed error. */
export function toPublicKey(value: unknown): PublicKey {
  return value instanceof PublicKey ? value : PublicKey.fromHex(value as string);
}
