// `chio-trust/ed25519`: the export list, call shapes, defaults and error classes of
// @noble/ed25519 3.x, so that migrating is one changed import. Our own code over our wasm core.
//
// Hot paths (getPublicKey, sign, verify, keygen, hash) run in the wasm core (src/ed25519.ts,
// src/sha512.ts). Verification, as in noble:
// - default / `{ zip215: true }`: ZIP-215 (cofactored equation, S < L, non-canonical A and R
//   encodings accepted, small-order A accepted) = our core's zip215 mode;
// - `{ zip215: false }`: noble's strict branch, which is NOT our main entry's default rule: it is
//   cofactored too, but A and R must be canonical encodings (RFC 8032 §5.1.3: y < p, no x = 0
//   with the sign bit) and A must not have small order. Built here from the canonical-encoding
//   check on the bytes, the core's small-order inspection and the core's zip215 verification.
//
// `hashes.sha512` / `hashes.sha512Async` are assignable as in noble. The built-in SHA-512 is always
// what computes; an assigned provider is checked once (per function) against it on a known answer,
// so a provider that is not SHA-512 (or returns anything but 64 bytes) makes the calls throw as
// noble's do, instead of being silently ignored.
//
// `Point` is BigInt arithmetic in extended coordinates (RFC 8032 §5.1.4), not in wasm (the core
// exposes no point API). Point.multiply runs a fixed 256-step double-and-add with a dummy addition
// on zero bits (the step count and the sequence of point operations do not depend on the scalar),
// but BigInt arithmetic itself is not constant time: do not multiply secrets with Point where
// timing is observable. multiplyUnsafe, toAffine, equals and decoding are variable time.
import { concatBytes as concatParts, copyInto, isUint8Array, isUnreadableView, newBytes, subview, viewLength, wipeBytes } from "../bytes.js";
import { ed25519 as core, isCanonicalPointEncoding_vartime, isSmallOrderPublicKey } from "../ed25519.js";
import { InvalidLengthError, InvalidTypeError } from "../errors.js";
import { sha512Digest } from "../sha512.js";

export type Bytes = Uint8Array;

// ---- byte types as noble 3.x declares them ----
// TypeScript 5.7 made typed arrays generic over their buffer. A fresh array is then
// `Uint8Array<ArrayBuffer>`, which APIs such as WebCrypto's `importKey` ask for, while a plain
// `Uint8Array` annotation means `Uint8Array<ArrayBufferLike>` (maybe shared memory).
// `ReturnType<typeof Uint8Array.of>` names the fresh type under every TypeScript version (plain
// `Uint8Array` before 5.7). noble 3.x types its outputs that way (TRet) and its inputs broadly
// (TArg), and exports those helpers; ours behave the same, so code typed against noble's
// declarations compiles unchanged against these (test/types/noble-compat.ts checks it with tsc).
// Every byte value this module returns is a fresh Uint8Array over an ArrayBuffer of its own.

/**
 * Each typed-array class with [its input form, its fresh output form], in the order the kinds
 * are told apart: Uint8Array last, so its subclasses (Buffer) and only they fall to it.
 */
type TypedArrayKinds = [
  [BigInt64Array, ReturnType<typeof BigInt64Array.of>],
  [BigUint64Array, ReturnType<typeof BigUint64Array.of>],
  [Float32Array, ReturnType<typeof Float32Array.of>],
  [Float64Array, ReturnType<typeof Float64Array.of>],
  [Int16Array, ReturnType<typeof Int16Array.of>],
  [Int32Array, ReturnType<typeof Int32Array.of>],
  [Int8Array, ReturnType<typeof Int8Array.of>],
  [Uint16Array, ReturnType<typeof Uint16Array.of>],
  [Uint32Array, ReturnType<typeof Uint32Array.of>],
  [Uint8ClampedArray, ReturnType<typeof Uint8ClampedArray.of>],
  [Uint8Array, ReturnType<typeof Uint8Array.of>],
];
/** The first entry of `Kinds` whose class T extends (for each member of a union T); never for other types. */
type KindOf<T, Kinds> = Kinds extends [infer K, ...infer Rest] ? (K extends [infer Class, unknown] ? (T extends Class ? K : KindOf<T, Rest>) : never) : never;
type TypedArrayForms<T> = KindOf<T, TypedArrayKinds>;
/** A typed-array type as an input: over any buffer. */
export type TypedArg<T> = TypedArrayForms<T>[0];
/** A typed-array type as an output: the fresh array's type (`Uint8Array<ArrayBuffer>` on TS ≥ 5.7). */
export type TypedRet<T> = TypedArrayForms<T>[1];
/** T as an input: typed arrays in it (in objects, arrays, tuples, promises, function results) broadened. */
export type TArg<T> = T | ([TypedArg<T>] extends [never] ? InputShape<T> : TypedArg<T>);
/** T as an output: typed arrays in it narrowed to the fresh array's type. */
export type TRet<T> = T extends unknown ? T & ([TypedRet<T>] extends [never] ? OutputShape<T> : TypedRet<T>) : never;
type InputShape<T> = T extends (...args: infer A) => infer R
  ? ((...args: { [K in keyof A]: TRet<A[K]> }) => TArg<R>) & { [K in keyof T]: T[K] extends (...args: any) => any ? T[K] : TArg<T[K]> }
  : T extends Promise<infer A>
    ? Promise<TArg<A>>
    : T extends object
      ? { [K in keyof T]: TArg<T[K]> }
      : T;
type OutputShape<T> = T extends (...args: infer A) => infer R
  ? ((...args: { [K in keyof A]: TArg<A[K]> }) => TRet<R>) & { [K in keyof T]: T[K] extends (...args: any) => any ? T[K] : TRet<T[K]> }
  : T extends Promise<infer A>
    ? Promise<TRet<A>>
    : T extends object
      ? { [K in keyof T]: TRet<T[K]> }
      : T;
/** A byte value this module returns. */
type Out = TRet<Uint8Array>;
/** `bytes`, a Uint8Array this module made over an ArrayBuffer (never shared memory), typed as such. */
const fresh = (bytes: Uint8Array): Out => bytes as Out;
export type AffinePoint = { x: bigint; y: bigint };
export type EdwardsOpts = Readonly<{ p: bigint; n: bigint; h: bigint; a: bigint; d: bigint; Gx: bigint; Gy: bigint }>;
export type EdDSAVerifyOpts = { zip215?: boolean };

// Curve25519 in twisted Edwards form (RFC 8032 §5.1, RFC 7748 §4.1).
const P = 2n ** 255n - 19n;
const N = 2n ** 252n + 27742317777372353535851937790883648493n;
const D = 37095705934669439343138083508754565189542113879843219016388785533085940283555n;
const A_COEF = P - 1n; // a = -1
const GX = 15112221349535400772501151409588531511454012693041857206046113283949847762202n;
const GY = 46316835694926478169428394003475163141307993866256225615783033603165251855960n;
const SQRT_M1 = 19681161376707505956807079304988542015446066515923890162744021073123829784752n;
const TWO_256 = 2n ** 256n;
const CURVE: EdwardsOpts = Object.freeze({ p: P, n: N, h: 8n, a: A_COEF, d: D, Gx: GX, Gy: GY });

// ---- argument checks, with noble's messages and error families ----

/**
 * noble's abytes: TypeError family for a non-Uint8Array, RangeError family for a wrong length,
 * with noble's message text. Stricter than noble in two ways that only refuse input: a Proxy or a
 * view of a detached / out-of-bounds ArrayBuffer (which reads as empty) is a TypeError.
 */
function abytes(value: unknown, length?: number, title = ""): Uint8Array {
  const prefix = (title ? `"${title}" ` : "") + "expected Uint8Array" + (length !== undefined ? ` of length ${length}` : "");
  // A Uint8Array from another realm counts, as in noble (its isBytes); a Proxy does not.
  if (!isUint8Array(value)) throw new InvalidTypeError(`${prefix}, got type=${typeof value}`);
  if (isUnreadableView(value)) throw new InvalidTypeError(`${prefix}, got a view of a detached or out-of-bounds ArrayBuffer`);
  const actual = viewLength(value);
  if (length !== undefined && actual !== length) throw new InvalidLengthError(`${prefix}, got length=${actual}`);
  return value;
}

/** A private copy (own ArrayBuffer) of checked bytes. */
function snapshot(value: unknown, title: string, length?: number): Uint8Array {
  const checked = abytes(value, length, title);
  const measured = viewLength(checked);
  const copy = newBytes(measured); // the constructor captured at load: the realm's Uint8Array could keep a copy of a secret (hunt 22)
  copyInto(copy, checked, 0, measured);
  return copy;
}

function arange(n: unknown, min: bigint, max: bigint, message = "bad number: out of range"): bigint {
  if (typeof n !== "bigint") throw new TypeError(message);
  if (min <= n && n < max) return n;
  throw new RangeError(message);
}

// ---- etc: byte and number helpers ----

const HEX = "0123456789abcdef";
function bytesToHex(bytes: TArg<Uint8Array>): string {
  const b = abytes(bytes);
  // The length from the internal slot, as abytes checked it: not a `length` a subclass or a
  // changed prototype may report (noble iterates the array's own elements).
  const n = viewLength(b);
  let out = "";
  for (let i = 0; i < n; i++) out += HEX[b[i] >> 4] + HEX[b[i] & 15];
  return out;
}

function hexToBytes(hex: string): Out {
  if (typeof hex !== "string") throw new TypeError("hex invalid");
  if (hex.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(hex)) throw new RangeError("hex invalid");
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return out;
}

function concatBytes(...arrays: TArg<Uint8Array[]>): Out {
  for (let i = 0; i < arrays.length; i++) abytes(arrays[i]); // noble's type errors first; indexed: the array iterator can be replaced
  return fresh(concatParts(arrays));
}

function randomBytes(length = 32): Out {
  const c = (globalThis as { crypto?: { getRandomValues?(a: Uint8Array): Uint8Array } }).crypto;
  if (!c || typeof c.getRandomValues !== "function") throw new Error("crypto.getRandomValues must be defined, consider polyfill");
  return fresh(c.getRandomValues(newBytes(length))); // as snapshot copies: randomSecretKey and keygen take their secret from here
}

/** a mod b in [0, b). */
function mod(a: bigint, b: bigint = P): bigint {
  const r = a % b;
  return r >= 0n ? r : r + b;
}

/** Inverse of `number` modulo `modulo` (extended Euclid). Variable time. */
function invert(number: bigint, modulo: bigint): bigint {
  if (number === 0n) throw new Error("invert: expected non-zero number");
  if (modulo <= 1n) throw new Error("invert: expected modulus > 1, got " + modulo);
  let a = mod(number, modulo);
  let b = modulo;
  let x = 0n;
  let u = 1n;
  while (a !== 0n) {
    const q = b / a;
    [b, a] = [a, b - q * a];
    [x, u] = [u, x - q * u];
  }
  if (b !== 1n) throw new Error("invert: does not exist");
  return mod(x, modulo);
}

/** base^exponent mod P, square and multiply (public exponents only). */
function powP(base: bigint, exponent: bigint): bigint {
  let result = 1n;
  let b = mod(base);
  while (exponent > 0n) {
    if (exponent & 1n) result = (result * b) % P;
    b = (b * b) % P;
    exponent >>= 1n;
  }
  return result;
}

function bytesToNumberLE(bytes: Uint8Array): bigint {
  let n = 0n;
  for (let i = bytes.length - 1; i >= 0; i--) n = (n << 8n) | BigInt(bytes[i]);
  return n;
}

function numberTo32BytesLE(n: bigint): Uint8Array {
  const out = new Uint8Array(32);
  for (let i = 0; i < 32; i++, n >>= 8n) out[i] = Number(n & 255n);
  return out;
}

// ---- Point ----

function apoint(p: unknown): Point {
  if (p instanceof Point) return p;
  throw new TypeError("Point expected");
}

/** A point of edwards25519 in extended coordinates (X : Y : Z : T), x = X/Z, y = Y/Z, xy = T/Z. */
class Point {
  static BASE: Point;
  static ZERO: Point;
  readonly X: bigint;
  readonly Y: bigint;
  readonly Z: bigint;
  readonly T: bigint;

  /** Range-checks the coordinates (0 <= X, Y, T < 2^256, 1 <= Z < 2^256); does not check the curve equation. */
  constructor(X: bigint, Y: bigint, Z: bigint, T: bigint) {
    this.X = arange(X, 0n, TWO_256);
    this.Y = arange(Y, 0n, TWO_256);
    this.Z = arange(Z, 1n, TWO_256);
    this.T = arange(T, 0n, TWO_256);
    Object.freeze(this);
  }

  static CURVE(): EdwardsOpts {
    return CURVE;
  }

  static fromAffine(p: AffinePoint): Point {
    const xy = p.x * p.y;
    if (xy < 0n) throw new RangeError("negative coordinate"); // noble's message (its modP refuses a negative product)
    return new Point(p.x, p.y, 1n, mod(xy));
  }

  /**
   * Decodes 32 bytes (RFC 8032 §5.1.3). Strict by default (y < p, no x = 0 with the sign bit);
   * `zip215 = true` takes y mod p and allows that form, as ZIP-215 requires. Variable time.
   */
  static fromBytes(bytes: TArg<Uint8Array>, zip215 = false): Point {
    const normed = snapshot(bytes, "point", 32);
    const signBit = (normed[31] & 0x80) !== 0;
    normed[31] &= 0x7f;
    const y = bytesToNumberLE(normed);
    if (!zip215) arange(y, 0n, P);
    const y2 = mod(y * y);
    const u = mod(y2 - 1n); // x² = (y² - 1) / (d y² + 1)
    const v = mod(D * y2 + 1n);
    // Candidate root x = u v³ (u v⁷)^((p-5)/8) (RFC 8032 §5.1.3 step 3).
    const v3 = mod(v * v * v);
    let x = mod(u * v3 * powP(u * v3 * v3 * v, (P - 5n) / 8n));
    const vx2 = mod(v * x * x);
    if (vx2 === mod(-u)) x = mod(x * SQRT_M1);
    else if (vx2 !== u) throw new Error("bad point: y not sqrt");
    if (!zip215 && x === 0n && signBit) throw new Error("bad point: x==0, isLastByteOdd");
    if (((x & 1n) === 1n) !== signBit) x = mod(-x);
    return new Point(x, y, 1n, mod(x * y));
  }

  static fromHex(hex: string, zip215?: boolean): Point {
    return Point.fromBytes(hexToBytes(hex), zip215);
  }

  get x(): bigint {
    return this.toAffine().x;
  }
  get y(): bigint {
    return this.toAffine().y;
  }

  /** Throws unless the point is on the curve, not the neutral element, and T = XY/Z. */
  assertValidity(): this {
    if (this.is0()) throw new Error("bad point: ZERO");
    const { X, Y, Z, T } = this;
    const X2 = mod(X * X);
    const Y2 = mod(Y * Y);
    const Z2 = mod(Z * Z);
    // (a X² + Y²) Z² = Z⁴ + d X² Y²
    if (mod(Z2 * (A_COEF * X2 + Y2)) !== mod(Z2 * Z2 + D * mod(X2 * Y2))) throw new Error("bad point: equation left != right (1)");
    if (mod(X * Y) !== mod(Z * T)) throw new Error("bad point: equation left != right (2)");
    return this;
  }

  equals(other: Point): boolean {
    const q = apoint(other);
    return mod(this.X * q.Z) === mod(q.X * this.Z) && mod(this.Y * q.Z) === mod(q.Y * this.Z);
  }

  is0(): boolean {
    return this.equals(ZERO_POINT);
  }

  negate(): Point {
    return new Point(mod(-this.X), this.Y, this.Z, mod(-this.T));
  }

  /** RFC 8032 §5.1.4 doubling (complete). */
  double(): Point {
    const { X, Y, Z } = this;
    const A = mod(X * X);
    const B = mod(Y * Y);
    const C = mod(2n * Z * Z);
    const H = mod(A + B);
    const E = mod(H - (X + Y) * (X + Y));
    const G = mod(A - B);
    const F = mod(C + G);
    return new Point(mod(E * F), mod(G * H), mod(F * G), mod(E * H));
  }

  /** RFC 8032 §5.1.4 addition (complete: also for equal points and the neutral element). */
  add(other: Point): Point {
    const q = apoint(other);
    const A = mod((this.Y - this.X) * (q.Y - q.X));
    const B = mod((this.Y + this.X) * (q.Y + q.X));
    const C = mod(2n * D * mod(this.T * q.T));
    const Dz = mod(2n * this.Z * q.Z);
    const E = mod(B - A);
    const F = mod(Dz - C);
    const G = mod(Dz + C);
    const H = mod(B + A);
    return new Point(mod(E * F), mod(G * H), mod(F * G), mod(E * H));
  }

  subtract(other: Point): Point {
    return this.add(apoint(other).negate());
  }

  /**
   * [n]P. Safe mode (default) needs 1 <= n < L and always runs 256 double-and-add steps, adding
   * into a dummy accumulator on zero bits. Unsafe mode also allows n = 0 and stops at the top bit.
   */
  multiply(n: bigint, safe = true): Point {
    if (!safe && n === 0n) return ZERO_POINT;
    arange(n, 1n, N);
    if (!safe && this.is0()) return ZERO_POINT;
    if (n === 1n) return this;
    let acc = ZERO_POINT;
    let dummy = BASE_POINT;
    let addend: Point = this;
    let k = n;
    for (let i = 0; safe ? i < 256 : k > 0n; i++) {
      if (k & 1n) acc = acc.add(addend);
      else if (safe) dummy = dummy.add(addend);
      addend = addend.double();
      k >>= 1n;
    }
    return acc;
  }

  multiplyUnsafe(scalar: bigint): Point {
    return this.multiply(scalar, false);
  }

  toAffine(): AffinePoint {
    if (this.is0()) return { x: 0n, y: 1n };
    const iz = invert(this.Z, P);
    if (mod(this.Z * iz) !== 1n) throw new Error("invalid inverse");
    return { x: mod(this.X * iz), y: mod(this.Y * iz) };
  }

  toBytes(): Out {
    const { x, y } = this.toAffine();
    const out = numberTo32BytesLE(y);
    if (x & 1n) out[31] |= 0x80;
    return fresh(out);
  }

  toHex(): string {
    return bytesToHex(this.toBytes());
  }

  clearCofactor(): Point {
    return this.multiply(8n, false);
  }

  isSmallOrder(): boolean {
    return this.clearCofactor().is0();
  }

  /** [L]P = 0, computed as [2 * (L >> 1)]P + P because L itself is outside multiply's range. */
  isTorsionFree(): boolean {
    return this.multiply(N / 2n, false).double().add(this).is0();
  }
}

const BASE_POINT = new Point(GX, GY, 1n, mod(GX * GY));
const ZERO_POINT = new Point(0n, 1n, 1n, 0n);
Point.BASE = BASE_POINT;
Point.ZERO = ZERO_POINT;

// ---- hashes: assignable providers, checked against the built-in SHA-512 ----

function builtinSha512(message: TArg<Uint8Array>): Out {
  const copy = snapshot(message, "");
  try {
    return fresh(sha512Digest(copy));
  } finally {
    wipeBytes(copy); // the input may be secret (a seed hashed for an X25519 key, say)
  }
}
async function builtinSha512Async(message: TArg<Uint8Array>): Promise<Out> {
  return builtinSha512(message);
}

type Sha512 = (message: TArg<Uint8Array>) => Out;
type Sha512Async = (message: TArg<Uint8Array>) => Promise<Out>;

/**
 * Hash providers, assignable as in noble (typed as noble types them: `sha512` may be unset).
 * The built-in SHA-512 computes every result; checkSyncProvider / checkAsyncProvider refuse a
 * provider that is not SHA-512 and an unset one, whatever the types allowed.
 */
const hashes: { sha512Async: Sha512Async; sha512: Sha512 | undefined } = {
  sha512Async: builtinSha512Async, // noble's key order, which Object.keys shows
  sha512: builtinSha512,
};

// Known-answer input: 200 bytes, so a provider that mishandles a second block or the padding fails.
const PROBE = Uint8Array.from({ length: 200 }, (_, i) => (i * 131 + 7) & 255);
let probeDigest: Uint8Array | undefined;
let checkedSync: unknown = builtinSha512;
let checkedAsync: unknown = builtinSha512Async;

function expectProbeDigest(output: unknown, name: string): void {
  const digest = abytes(output, 64, "digest");
  probeDigest ??= sha512Digest(PROBE);
  for (let i = 0; i < 64; i++) {
    if (digest[i] !== probeDigest[i]) throw new Error(`hashes.${name}: digest differs from SHA-512 on a known answer`);
  }
}

/** Throws as noble would if hashes.sha512 is unset or is not SHA-512 (checked once per function). */
function checkSyncProvider(): void {
  const fn = hashes.sha512;
  if (fn === checkedSync) return;
  if (typeof fn !== "function") throw new Error("hashes.sha512 not set");
  expectProbeDigest(fn(PROBE.slice()), "sha512");
  checkedSync = fn;
}

async function checkAsyncProvider(): Promise<void> {
  const fn = hashes.sha512Async;
  if (fn === checkedAsync) return;
  if (typeof fn !== "function") throw new Error("hashes.sha512Async not set");
  expectProbeDigest(await fn(PROBE.slice()), "sha512Async");
  checkedAsync = fn;
}

/** SHA-512 of message (after checking an assigned hashes.sha512, as noble calls it). */
function hash(message: TArg<Uint8Array>): Out {
  const m = snapshot(message, "message");
  try {
    checkSyncProvider();
    return fresh(sha512Digest(m));
  } finally {
    wipeBytes(m); // the input may be secret (the core wipes its own copy too)
  }
}

// ---- keys, signatures ----

/** The expanded secret key of RFC 8032 §5.1.5; head, prefix and scalar are secrets. */
type ExtK = { head: Uint8Array; prefix: Uint8Array; scalar: bigint; point: Point; pointBytes: Uint8Array };
type KeysSecPub = { secretKey: Uint8Array; publicKey: Uint8Array };

/** The extended key of a copied secret key; its byte values are fresh arrays of the core's (typed as such). */
function extendedKey(secretKey: Uint8Array): TRet<ExtK> {
  const e = core.utils.getExtendedPublicKey(secretKey);
  return { head: e.head, prefix: e.prefix, scalar: e.scalar, point: Point.fromBytes(e.pointBytes), pointBytes: e.pointBytes } as TRet<ExtK>;
}

// The seed copies below (taken before the provider check, which runs caller code) are wiped on
// every exit, as the core and the tweetnacl entry wipe theirs (README "What is and is not
// constant-time": the glue zeroes its short-lived copies of secrets).

/** `use(copy)`, then the copy wiped (the secret-key snapshot of every function below). */
function withSeed<T>(sk: Uint8Array, use: (sk: Uint8Array) => T): T {
  try {
    return use(sk);
  } finally {
    wipeBytes(sk);
  }
}

/** `use(copy)` once the async provider checks out, the copy wiped however it ends. */
function withSeedAsync<T>(sk: Uint8Array, use: (sk: Uint8Array) => T): Promise<T> {
  // checkAsyncProvider is async: its failures come as a rejection, never a throw.
  return checkAsyncProvider().then(
    () => withSeed(sk, use),
    (error: unknown) => {
      wipeBytes(sk);
      throw error;
    },
  );
}

function getExtendedPublicKey(secretKey: TArg<Uint8Array>): TRet<ExtK> {
  return withSeed(snapshot(secretKey, "secretKey", 32), (sk) => {
    checkSyncProvider();
    return extendedKey(sk);
  });
}

// Not async, like noble's: a bad argument throws synchronously, a provider failure rejects.
function getExtendedPublicKeyAsync(secretKey: TArg<Uint8Array>): Promise<TRet<ExtK>> {
  return withSeedAsync(snapshot(secretKey, "secretKey", 32), extendedKey);
}

function getPublicKey(secretKey: TArg<Uint8Array>): Out {
  return withSeed(snapshot(secretKey, "secretKey", 32), (sk) => {
    checkSyncProvider();
    return fresh(core.getPublicKey(sk));
  });
}

function getPublicKeyAsync(secretKey: TArg<Uint8Array>): Promise<Out> {
  return withSeedAsync(snapshot(secretKey, "secretKey", 32), (sk) => fresh(core.getPublicKey(sk)));
}

function sign(message: TArg<Uint8Array>, secretKey: TArg<Uint8Array>): Out {
  const m = snapshot(message, "message");
  return withSeed(snapshot(secretKey, "secretKey", 32), (sk) => {
    checkSyncProvider();
    return fresh(core.sign(m, sk));
  });
}

// An async function, as noble's: a bad argument rejects, and signAsync.constructor is AsyncFunction.
async function signAsync(message: TArg<Uint8Array>, secretKey: TArg<Uint8Array>): Promise<Out> {
  const m = snapshot(message, "message");
  return withSeedAsync(snapshot(secretKey, "secretKey", 32), (sk) => fresh(core.sign(m, sk)));
}

/** noble's rule: `zip215` absent or undefined means true; any other value counts by truthiness (0, "" are the strict branch). */
function zip215Option(options: unknown): boolean {
  if (options === null || typeof options !== "object") throw new TypeError("expected valid options object");
  return !!((options as EdDSAVerifyOpts).zip215 ?? true); // not the global Boolean, which caller code can replace (review 99)
}

/**
 * Checked copies of verify's arguments and the rule, in noble's order of checks. An object, not
 * a tuple: taking a tuple apart runs the array iterator, which caller code can replace, after
 * the checks (review 98: one that answered zip215 true let a signature only ZIP-215 accepts
 * through strict mode).
 */
function verifyArgs(signature: unknown, message: unknown, publicKey: unknown, options: unknown): { sig: Uint8Array; msg: Uint8Array; pk: Uint8Array; zip215: boolean } {
  const sig = snapshot(signature, "signature", 64);
  const msg = snapshot(message, "message");
  const pk = snapshot(publicKey, "publicKey", 32);
  return { sig, msg, pk, zip215: zip215Option(options) };
}

/**
 * ZIP-215 when zip215 is true. Otherwise noble's strict branch: canonical A and R, A not of small
 * order, then the same cofactored equation. Variable time (public inputs).
 */
function verifyChecked(sig: Uint8Array, msg: Uint8Array, pk: Uint8Array, zip215: boolean): boolean {
  if (!zip215) {
    // R by subview (captured at load), not `subarray`, which caller code can replace (review 99).
    if (!isCanonicalPointEncoding_vartime(pk) || !isCanonicalPointEncoding_vartime(subview(sig, 0, 32))) return false;
    if (isSmallOrderPublicKey(pk)) return false;
  }
  return core.verify(sig, msg, pk, { zip215: true });
}

function verify(signature: TArg<Uint8Array>, message: TArg<Uint8Array>, publicKey: TArg<Uint8Array>, options: TArg<EdDSAVerifyOpts> = {}): boolean {
  const { sig, msg, pk, zip215 } = verifyArgs(signature, message, publicKey, options);
  checkSyncProvider();
  return verifyChecked(sig, msg, pk, zip215);
}

async function verifyAsync(signature: TArg<Uint8Array>, message: TArg<Uint8Array>, publicKey: TArg<Uint8Array>, options: TArg<EdDSAVerifyOpts> = {}): Promise<boolean> {
  const { sig, msg, pk, zip215 } = verifyArgs(signature, message, publicKey, options);
  await checkAsyncProvider();
  return verifyChecked(sig, msg, pk, zip215);
}

/**
 * `seed` itself when given (after its checks), as noble returns it verbatim: a Buffer seed stays a
 * Buffer (`keygen(seed).secretKey.toString("hex")` is hex, as with noble); else 32 random bytes.
 * Either way checked as noble checks it: randomBytes hands back what `crypto.getRandomValues`
 * returns, and a polyfill that returns nothing (or a short or plain array) is refused here, not
 * handed out as a secret key.
 */
function randomSecretKey(seed?: TArg<Uint8Array>): Out {
  return abytes(seed === undefined ? randomBytes(32) : seed, 32, "seed") as Out;
}

function keygen(seed?: TArg<Uint8Array>): TRet<KeysSecPub> {
  const secretKey = randomSecretKey(seed);
  return { secretKey, publicKey: getPublicKey(secretKey) };
}

async function keygenAsync(seed?: TArg<Uint8Array>): Promise<TRet<KeysSecPub>> {
  const secretKey = randomSecretKey(seed);
  return { secretKey, publicKey: await getPublicKeyAsync(secretKey) };
}

// Frozen as noble freezes them at run time; typed as noble declares them (plain objects), so
// code that compiles against noble's declarations compiles here.
const etc: {
  bytesToHex: typeof bytesToHex;
  hexToBytes: typeof hexToBytes;
  concatBytes: typeof concatBytes;
  mod: typeof mod;
  invert: typeof invert;
  randomBytes: typeof randomBytes;
} = Object.freeze({ bytesToHex, hexToBytes, concatBytes, mod, invert, randomBytes });
const utils: {
  getExtendedPublicKeyAsync: typeof getExtendedPublicKeyAsync;
  getExtendedPublicKey: typeof getExtendedPublicKey;
  randomSecretKey: typeof randomSecretKey;
} = Object.freeze({ getExtendedPublicKeyAsync, getExtendedPublicKey, randomSecretKey });

export {
  etc,
  getPublicKey,
  getPublicKeyAsync,
  hash,
  hashes,
  keygen,
  keygenAsync,
  Point,
  sign,
  signAsync,
  utils,
  verify,
  verifyAsync,
};
