// `chio-trust/tweetnacl`: the signing half of tweetnacl 1.x (`nacl.sign*`) with its shapes, and
// the helpers signing code calls beside it (`nacl.randomBytes`, `nacl.setPRNG`, `nacl.verify`,
// `nacl.hash`), over our wasm core: `import nacl from "tweetnacl"` becomes
// `import nacl from "chio-trust/tweetnacl"` (or `const { sign } = require(...)`).
//
// Shapes as tweetnacl: 64-byte secret keys are seed || public key; sign() returns
// signature || message; sign.open() returns the message, or null when the signature is invalid.
//
// Two deliberate differences (README "Migrating", "From tweetnacl (signing)"):
// - Secret keys: tweetnacl signs with whatever public key sits in the second half of the 64-byte
//   secret key. Two signatures of one message under two different public keys for one seed give
//   away the secret scalar (the nonce r depends only on the seed's prefix and the message, so
//   S1 - S2 = (k1 - k2) s). We REFUSE: sign, sign.detached and sign.keyPair.fromSecretKey throw
//   InvalidKeyError (a RangeError, code INVALID_SECRET_KEY) when the public half is not the key of
//   the seed half.
// - Verification is our main entry's rule (RFC 8032 §5.1.7 with S < L, cofactorless, R compared
//   byte for byte, as ed25519-dalek `verify` and OpenSSL). tweetnacl does not check S < L, so it
//   also accepts (R, S + L) for every valid (R, S): we return false / null for those. Everything
//   else (small-order and non-canonical public keys, non-canonical R) is judged the same way.
import { copyInto, copyOfRange, isUint8Array, isUnreadableView, newBytes, subview, viewLength, wipeBytes } from "../bytes.js";
import { ed25519 as core } from "../ed25519.js";
import { InvalidLengthError, InvalidTypeError, nameError } from "../errors.js";
import { sha512Digest } from "../sha512.js";

const PUBLIC_KEY_LENGTH = 32;
const SECRET_KEY_LENGTH = 64;
const SEED_LENGTH = 32;
const SIGNATURE_LENGTH = 64;

/** Thrown when the public half of a 64-byte secret key is not the public key of its seed half. */
export class InvalidKeyError extends RangeError {
  readonly code = "INVALID_SECRET_KEY" as const;
  constructor(message: string) {
    super(message);
    nameError(this, "InvalidKeyError");
  }
}

/** tweetnacl's checkArrayTypes: every argument's type is checked before any size. */
function checkTypes(...values: unknown[]): void {
  for (const v of values) {
    if (!isUint8Array(v) || isUnreadableView(v)) throw new InvalidTypeError("unexpected type, use Uint8Array");
  }
}

/** A private copy of a readable Uint8Array (tweetnacl's message for anything else). */
function bytes(value: unknown, length?: number, sizeMessage?: string): Uint8Array {
  if (!isUint8Array(value) || isUnreadableView(value)) throw new InvalidTypeError("unexpected type, use Uint8Array");
  const n = viewLength(value);
  if (length !== undefined && n !== length) throw new InvalidLengthError(sizeMessage ?? "bad size");
  const copy = newBytes(n); // the constructor captured at load: the realm's Uint8Array could keep a copy of a secret (hunt 22)
  copyInto(copy, value, 0, n);
  return copy;
}

/** The seed of a 64-byte secret key, after checking that its public half belongs to it. */
function seedOf(secretKey: unknown): Uint8Array {
  const sk = bytes(secretKey, SECRET_KEY_LENGTH, "bad secret key size");
  const seed = copyOfRange(sk, 0, SEED_LENGTH);
  let differ = 0;
  try {
    const derived = core.getPublicKey(seed);
    for (let i = 0; i < PUBLIC_KEY_LENGTH; i++) differ |= derived[i] ^ sk[SEED_LENGTH + i];
  } catch (error) {
    wipeBytes(seed); // the core failed (no WebAssembly, a trap): no copy of the secret is left behind
    throw error;
  } finally {
    wipeBytes(sk);
  }
  if (differ !== 0) {
    wipeBytes(seed);
    throw new InvalidKeyError("bad secret key: the public half is not the public key of the seed half");
  }
  return seed;
}

function detached(message: Uint8Array, secretKey: Uint8Array): Uint8Array {
  checkTypes(message, secretKey);
  const m = bytes(message);
  const seed = seedOf(secretKey);
  try {
    return core.sign(m, seed);
  } finally {
    wipeBytes(seed);
  }
}

function verifyDetached(message: Uint8Array, signature: Uint8Array, publicKey: Uint8Array): boolean {
  checkTypes(message, signature, publicKey);
  const m = bytes(message);
  const sig = bytes(signature, SIGNATURE_LENGTH, "bad signature size");
  const pk = bytes(publicKey, PUBLIC_KEY_LENGTH, "bad public key size");
  return core.verify(sig, m, pk);
}

function signAttached(message: Uint8Array, secretKey: Uint8Array): Uint8Array {
  checkTypes(message, secretKey);
  const m = bytes(message);
  const sig = detached(m, secretKey);
  const length = viewLength(m); // its internal slot: %TypedArray%.prototype's length getter can be redefined
  const out = new Uint8Array(SIGNATURE_LENGTH + length);
  copyInto(out, sig, 0, SIGNATURE_LENGTH);
  copyInto(out, m, SIGNATURE_LENGTH, length);
  return out;
}

function open(signedMessage: Uint8Array, publicKey: Uint8Array): Uint8Array | null {
  checkTypes(signedMessage, publicKey);
  const sm = bytes(signedMessage);
  const pk = bytes(publicKey, PUBLIC_KEY_LENGTH, "bad public key size");
  // The copy's length, parts and message by internal slots and captured built-ins: `length`,
  // `slice` and `subarray` can be replaced by caller code, and would decide what is verified
  // and what is handed back (review 99).
  const length = viewLength(sm);
  if (length < SIGNATURE_LENGTH) return null;
  const m = copyOfRange(sm, SIGNATURE_LENGTH, length);
  return core.verify(subview(sm, 0, SIGNATURE_LENGTH), m, pk) ? m : null;
}

interface SignKeyPair {
  publicKey: Uint8Array;
  secretKey: Uint8Array;
}

function fromSeed(seed: Uint8Array): SignKeyPair {
  const s = bytes(seed, SEED_LENGTH, "bad seed size");
  try {
    const publicKey = core.getPublicKey(s);
    const secretKey = newBytes(SECRET_KEY_LENGTH); // as bytes() copies
    // Through copyInto, as every copy of a secret in src/ (the built-in `set` as captured at load).
    copyInto(secretKey, s, 0, SEED_LENGTH);
    copyInto(secretKey, publicKey, SEED_LENGTH, PUBLIC_KEY_LENGTH);
    return { publicKey, secretKey };
  } finally {
    wipeBytes(s); // also when the core failed
  }
}

function fromSecretKey(secretKey: Uint8Array): SignKeyPair {
  const seed = seedOf(secretKey); // refuses a public half that does not belong to the seed
  try {
    return fromSeed(seed);
  } finally {
    wipeBytes(seed);
  }
}

/** tweetnacl's sign.keyPair: a seed from the PRNG (setPRNG's, if one was set). */
function keyPair(): SignKeyPair {
  const seed = newBytes(SEED_LENGTH); // as bytes() copies
  try {
    prng(seed, SEED_LENGTH);
    return fromSeed(seed);
  } finally {
    wipeBytes(seed);
  }
}

// ---- the helpers beside `sign` (tweetnacl's randomBytes, setPRNG, verify, hash) ----

/** Largest request crypto.getRandomValues takes at once (Web Crypto's quota). */
const RANDOM_QUOTA = 65536;

/**
 * The default PRNG: globalThis.crypto.getRandomValues (Web Crypto, in browsers and in Node ≥ 19),
 * in 64 KiB requests; without it, as tweetnacl on a platform with no CSPRNG: "no PRNG".
 * tweetnacl itself takes getRandomValues in browsers only, and node:crypto's randomBytes on Node;
 * this module is the same everywhere and imports nothing of Node (README "From tweetnacl").
 */
function webCryptoPrng(x: Uint8Array, n: number): void {
  const c = (globalThis as { crypto?: { getRandomValues?(a: Uint8Array): Uint8Array } }).crypto;
  if (!c || typeof c.getRandomValues !== "function") throw new Error("no PRNG");
  // By subview and a comparison, not the realm's `subarray` and `Math.min`: a replacement of either
  // (caller code, after load) decided which bytes were filled, and one answering a fresh array or 0
  // left keyPair()'s seed all zero, silently (hunt 22).
  for (let i = 0; i < n; i += RANDOM_QUOTA) c.getRandomValues(subview(x, i, n - i < RANDOM_QUOTA ? n : i + RANDOM_QUOTA));
}

let prng: (x: Uint8Array, n: number) => void = webCryptoPrng;

/**
 * tweetnacl's setPRNG: `fn(x, n)` fills x[0, n) with random bytes, for randomBytes and
 * sign.keyPair from now on (as in tweetnacl, the module's one PRNG). Checked to be a function
 * (tweetnacl would fail only at the next use).
 */
function setPRNG(fn: (x: Uint8Array, n: number) => void): void {
  if (typeof fn !== "function") throw new InvalidTypeError("setPRNG expects a function (x: Uint8Array, n: number) => void");
  prng = fn;
}

/** Most bytes one randomBytes call gives: Node's crypto.randomBytes limit, which tweetnacl on Node inherits. */
const RANDOM_BYTES_MAX = 2 ** 31 - 1;

/**
 * tweetnacl's randomBytes: `n` bytes from the PRNG. `n` must be an integer in 0 … 2^31 − 1, as
 * tweetnacl on Node requires (its PRNG is crypto.randomBytes, which throws for anything else):
 * InvalidTypeError for a non-number, InvalidLengthError (a RangeError) for NaN, a fraction or a
 * number out of range. (tweetnacl in a browser coerces `n` as `new Uint8Array(n)` does, so a
 * typo such as `randomBytes(undefined)` would give an empty "random" array.)
 */
function randomBytes(n: number): Uint8Array {
  if (typeof n !== "number") throw new InvalidTypeError(`randomBytes expects a number of bytes, got ${n === null ? "null" : typeof n}`);
  if (!Number.isInteger(n) || n < 0 || n > RANDOM_BYTES_MAX) throw new InvalidLengthError(`randomBytes expects an integer in 0 … ${RANDOM_BYTES_MAX}, got ${n}`);
  const out = newBytes(n); // as bytes() copies: random bytes are often a secret
  prng(out, n);
  return out;
}

/**
 * tweetnacl's verify: whether x and y hold the same bytes, in time that depends only on their
 * lengths (tweetnacl's crypto_verify_n); arrays of length 0 are never equal.
 */
function verify(x: Uint8Array, y: Uint8Array): boolean {
  checkTypes(x, y);
  const n = viewLength(x);
  if (n === 0 || viewLength(y) === 0 || n !== viewLength(y)) return false;
  let differ = 0;
  for (let i = 0; i < n; i++) differ |= x[i] ^ y[i];
  return differ === 0;
}

/** tweetnacl's hash: SHA-512 of `message` (64 bytes; the wasm core's SHA-512). */
const hash: ((message: Uint8Array) => Uint8Array) & { hashLength: number } = Object.assign(
  (message: Uint8Array): Uint8Array => {
    checkTypes(message);
    const copy = bytes(message);
    try {
      return sha512Digest(copy);
    } finally {
      wipeBytes(copy); // the input may be secret (the core wipes its own copy too)
    }
  },
  { hashLength: 64 },
);

type SignFn = typeof signAttached & {
  open: typeof open;
  detached: typeof detached & { verify: typeof verifyDetached };
  keyPair: typeof keyPair & { fromSecretKey: typeof fromSecretKey; fromSeed: typeof fromSeed };
  publicKeyLength: number;
  secretKeyLength: number;
  seedLength: number;
  signatureLength: number;
};

/** tweetnacl's `nacl.sign` with its members. */
export const sign: SignFn = Object.assign(signAttached, {
  open,
  detached: Object.assign(detached, { verify: verifyDetached }),
  keyPair: Object.assign(keyPair, { fromSecretKey, fromSeed }),
  publicKeyLength: PUBLIC_KEY_LENGTH,
  secretKeyLength: SECRET_KEY_LENGTH,
  seedLength: SEED_LENGTH,
  signatureLength: SIGNATURE_LENGTH,
});

export { hash, randomBytes, setPRNG, verify };

/** `import nacl from "chio-trust/tweetnacl"`: `nacl.sign...`, `nacl.randomBytes`, … as with tweetnacl. */
const nacl = { sign, randomBytes, setPRNG, verify, hash };
export default nacl;
