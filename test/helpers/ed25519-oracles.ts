// Oracles and byte helpers shared by the Ed25519 suites (test/ed25519-*.test.ts).
//
// Not a suite: uvu imports every file under test/, this one included, but it registers no
// tests and never calls test.run() (see assert-codes.ts).
import { KeyObject, createPrivateKey, createPublicKey, randomBytes, sign as nodeSignRaw, verify as nodeVerify } from "node:crypto";
import { ed25519 as noble } from "@noble/curves/ed25519.js";
import { sha512 } from "@noble/hashes/sha2.js";
import { argsBase, coreExports, heapU8, ioArenaBase, reserveIo, type CoreExports } from "../../src/wasm/instance.js";
import { ARG_PUBLIC_KEY, ARG_SIGNATURE, VERIFY_MODE_FULL_LENGTH, VERIFY_MODE_ZIP215 } from "../../src/wasm/abi.js";

/** The field prime and the group order (RFC 8032 §5.1). */
export const P = 2n ** 255n - 19n;
export const L = 2n ** 252n + 27742317777372353535851937790883648493n;

/** b^e mod p (square and multiply over BigInt), for field oracles. */
export function powModP(b: bigint, e: bigint): bigint {
  let r = 1n;
  b = ((b % P) + P) % P;
  for (; e > 0n; e >>= 1n, b = (b * b) % P) if (e & 1n) r = (r * b) % P;
  return r;
}

/** DER prefixes (RFC 8410) for node keys from raw bytes (not generateKeyPairSync + JWK, which can deadlock on Node 20). */
export const PKCS8_PREFIX = Buffer.from("302e020100300506032b657004220420", "hex");
export const SPKI_PREFIX = Buffer.from("302a300506032b6570032100", "hex");

/** node:crypto private key object for a 32-byte seed (PKCS#8 DER import). */
export const nodePrivateKey = (seed: Uint8Array): KeyObject => createPrivateKey({ key: Buffer.concat([PKCS8_PREFIX, seed]), format: "der", type: "pkcs8" });

/** node:crypto's signature on message by a 32-byte seed or a key from nodePrivateKey, as a plain Uint8Array copy (not a Buffer). */
export const nodeSign = (seed: Uint8Array | KeyObject, message: Uint8Array): Uint8Array =>
  new Uint8Array(nodeSignRaw(null, message, seed instanceof KeyObject ? seed : nodePrivateKey(seed)));

/** node:crypto's raw 32-byte public key of a seed (the last 32 bytes of its SPKI DER), as a plain Uint8Array copy. */
export const nodePublicKeyBytes = (seed: Uint8Array): Uint8Array =>
  new Uint8Array(createPublicKey(nodePrivateKey(seed)).export({ format: "der", type: "spki" }).subarray(-32));

/** node:crypto public key object for any 32 bytes (OpenSSL imports them as given and decides at verify time). */
export const nodePublicKey = (pk: Uint8Array): KeyObject =>
  createPublicKey({ key: Buffer.concat([SPKI_PREFIX, pk]), format: "der", type: "spki" });

/** node:crypto's verdict (OpenSSL = ed25519-dalek 2.x `verify`): the default-mode oracle. */
export function nodeAccepts(sig: Uint8Array, msg: Uint8Array, pk: Uint8Array): boolean {
  return nodeVerify(null, msg, nodePublicKey(pk), sig);
}

/** @noble/curves with { zip215: true }: the zip215-mode oracle (a throw on undecodable input is a rejection). */
export function nobleZip215(sig: Uint8Array, msg: Uint8Array, pk: Uint8Array): boolean {
  try {
    return noble.verify(sig, msg, pk, { zip215: true });
  } catch {
    return false;
  }
}

/**
 * The core's verification with the half-size multiplication disabled (ed25519_verify mode
 * VERIFY_MODE_FULL_LENGTH, test-only): the full-length [S]B - [k]A path, used when no short decomposition exists.
 */
export function fullLengthVerify(sig: Uint8Array, msg: Uint8Array, pk: Uint8Array, zip215: boolean): boolean {
  const x = coreExports<CoreExports & { ed25519_verify(len: number, mode: number): number }>();
  reserveIo(msg.length);
  const heap = heapU8();
  heap.set(msg, ioArenaBase());
  heap.set(pk, argsBase() + ARG_PUBLIC_KEY);
  heap.set(sig, argsBase() + ARG_SIGNATURE);
  return x.ed25519_verify(msg.length, VERIFY_MODE_FULL_LENGTH | (zip215 ? VERIFY_MODE_ZIP215 : 0)) === 1;
}

/** n as `bytes` little-endian bytes (mod 2^(8 bytes)). */
export function le(n: bigint, bytes = 32): Uint8Array {
  const out = new Uint8Array(bytes);
  for (let i = 0; i < bytes; i++) {
    out[i] = Number(n & 0xffn);
    n >>= 8n;
  }
  return out;
}

/** The little-endian integer in b. */
export const fromLE = (b: Uint8Array): bigint => b.reduceRight((acc, x) => (acc << 8n) | BigInt(x), 0n);

/** A uniform scalar in [1, L) (64 random bytes reduced: bias below 2^-250), for secret keys and nonces built outside the library. */
export const randomScalar = (): bigint => (fromLE(randomBytes(64)) % (L - 1n)) + 1n;

/** The field element (mod P) held in ten signed ref10 limbs of 26, 25, 26, … bits, limbs[at … at + 9]. */
export function fieldFromLimbs(limbs: ArrayLike<number>, at = 0): bigint {
  let value = 0n;
  let shift = 0n;
  for (let i = 0; i < 10; i++) {
    value += BigInt(limbs[at + i]) << shift;
    shift += i % 2 === 0 ? 26n : 25n;
  }
  return ((value % P) + P) % P;
}

export function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

// ---- The small-order (torsion) points, derived rather than hard-coded ------------------------

const Point = noble.Point;
export type NPoint = InstanceType<typeof Point>;

/** [L]P for a point of any order (noble's multiplyUnsafe takes scalars below L): O iff P is torsion-free. */
export const mulL = (p: NPoint): NPoint => p.multiplyUnsafe(L - 1n).add(p);

/** [n]T for a point T of order dividing 8 and any n >= 0, as [n mod 8]T by additions (noble's multiply takes 1 <= n < L only). */
export function torsionMultiple(t: NPoint, n: bigint): NPoint {
  let sum = Point.ZERO;
  for (let m = 0n; m < n % 8n; m++) sum = sum.add(t);
  return sum;
}

/**
 * [0]T, [1]T, …, [7]T for a point T of order 8: T = [L]Q for a point Q outside the prime-order
 * subgroup (the group has order 8L, so [L]Q lies in the torsion subgroup).
 */
export function torsionPoints(): NPoint[] {
  for (let i = 0; ; i++) {
    let q: NPoint;
    try {
      q = Point.fromBytes(sha512(new Uint8Array([0x70, i])).slice(0, 32), true);
    } catch {
      continue;
    }
    const t = mulL(q);
    const multiples = [Point.ZERO];
    for (let m = t; !m.is0(); m = m.add(t)) multiples.push(m);
    if (multiples.length === 8) return multiples;
  }
}

/** Every 32-byte string that decodes (y taken mod p, any sign bit that decodes) to the point p. */
export function encodingsOf(p: NPoint): Uint8Array[] {
  const { x, y } = p.toAffine();
  const out: Uint8Array[] = [];
  for (const yy of [y, y + P]) {
    if (yy >= 2n ** 255n) continue;
    for (const signBit of [0n, 1n]) {
      if (x === 0n || (x & 1n) === signBit) {
        const encoding = le(yy | (signBit << 255n));
        if (Point.fromBytes(encoding, true).equals(p)) out.push(encoding);
      }
    }
  }
  return out;
}

/** The canonical encodings of the eight small-order points, as lowercase hex. */
export const torsionEncodingsHex = (): string[] => torsionPoints().map((t) => Buffer.from(t.toBytes()).toString("hex"));
