// Fixed-input vectors for the verification boundaries that were only reached by random tests:
// R encoded with y >= p (non-canonical), S = L - 1 / L / 2L - 1, and public keys encoded with
// y >= p. Each vector is built here from its definition (BigInt and @noble/curves), and the
// core's verdict in both modes (half-size and full-length paths) must equal node:crypto's
// (default rule: dalek/OpenSSL) and @noble/curves' with zip215 (ZIP-215 rule), and the
// verdict each vector is designed to produce (so a vector that tests nothing fails loudly).
import { test } from "uvu";
import * as assert from "uvu/assert";
import { ed25519 as noble } from "@noble/curves/ed25519.js";
import { sha512 } from "@noble/hashes/sha2.js";
import { ed25519, isSmallOrderPublicKey } from "../../src/ed25519.js";
import { L, P, concat, fromLE, fullLengthVerify, le, nobleZip215, nodeAccepts } from "../helpers/ed25519-oracles.js";

const Point = noble.Point;
const msg = new TextEncoder().encode("boundary vectors");
const seed = sha512(new TextEncoder().encode("boundary seed")).slice(0, 32);
const A = noble.getPublicKey(seed);
const a = (() => {
  const h = sha512(seed).slice(0, 32);
  h[0] &= 248;
  h[31] &= 127;
  h[31] |= 64;
  return fromLE(h) % L;
})();
const mod = (x: bigint, m: bigint): bigint => ((x % m) + m) % m;
const challenge = (R: Uint8Array, key: Uint8Array): bigint => fromLE(sha512(concat(R, key, msg))) % L;

function check(name: string, sig: Uint8Array, key: Uint8Array, expectDefault: boolean, expectZip215: boolean): void {
  assert.is(nodeAccepts(sig, msg, key), expectDefault, `${name}: node:crypto verdict is the designed one`);
  assert.is(nobleZip215(sig, msg, key), expectZip215, `${name}: noble zip215 verdict is the designed one`);
  assert.is(ed25519.verify(sig, msg, key), expectDefault, `${name}: default`);
  assert.is(ed25519.verify(sig, msg, key, { zip215: true }), expectZip215, `${name}: zip215`);
  assert.is(fullLengthVerify(sig, msg, key, false), expectDefault, `${name}: default, full-length path`);
  assert.is(fullLengthVerify(sig, msg, key, true), expectZip215, `${name}: zip215, full-length path`);
}

test("R with y >= p: default rejects, zip215 accepts when the (cofactored) equation holds", () => {
  // y = p + 1 with x = 0: the neutral element, non-canonically. S = k a makes [S]B - [k]A - R = O
  // exactly, so only the encoding check of the default rule rejects it.
  const identityNonCanonical = le(P + 1n);
  check("R = (0, p+1)", concat(identityNonCanonical, le(mod(challenge(identityNonCanonical, A) * a, L))), A, false, true);
  // y = p (≡ 0): a point of order 4; the cofactorless equation fails by that torsion part and
  // the cofactored one holds.
  const order4 = le(P);
  assert.ok(Point.fromBytes(order4, true).multiplyUnsafe(4n).is0() && !Point.fromBytes(order4, true).multiplyUnsafe(2n).is0(), "y = p decodes to a point of order 4");
  check("R = (x, p)", concat(order4, le(mod(challenge(order4, A) * a, L))), A, false, true);
  // The same R bytes with the equation broken: rejected by both.
  check("R = (0, p+1), wrong S", concat(identityNonCanonical, le(mod(challenge(identityNonCanonical, A) * a + 1n, L))), A, false, false);
  // Canonical control: R = (0, 1) encoded canonically is accepted by both.
  const identity = le(1n);
  check("R = (0, 1)", concat(identity, le(mod(challenge(identity, A) * a, L))), A, true, true);
});

// With A the neutral element, [k]A = O for every k, so (R, S) = ([s]B, s) verifies for any s
// in both modes (dalek/OpenSSL accept small-order keys): that lets S sit exactly at the bound.
test("S = L - 1 accepted; S = L and S = 2L - 1 (residues 0 and L - 1, plus L) rejected in both modes", () => {
  const neutral = le(1n);
  const minusB = Point.BASE.negate().toBytes(); // [L - 1]B
  check("S = L - 1", concat(minusB, le(L - 1n)), neutral, true, true);
  check("S = 2L - 1", concat(minusB, le(2n * L - 1n)), neutral, false, false);
  check("S = 0", concat(Point.ZERO.toBytes(), le(0n)), neutral, true, true);
  check("S = L", concat(Point.ZERO.toBytes(), le(L)), neutral, false, false);
  check("S = 2^256 - 1", concat(Point.ZERO.toBytes(), new Uint8Array(32).fill(0xff)), neutral, false, false);
  // And with a full-order key: a real signature, then S + L.
  const sig = noble.sign(msg, seed);
  const S = fromLE(sig.slice(32));
  check("real S", sig, A, true, true);
  check("real S + L", concat(sig.slice(0, 32), le(S + L)), A, false, false);
});

// Keys at the y boundary: y = p - 1 (order 2, canonical), y = p (order 4, non-canonical) and
// y = p + 1 (the neutral element, non-canonical). dalek/OpenSSL decode y mod p and accept; the
// cofactorless equation [S]B = R + [k]A with R = [s]B, S = s holds iff [k]A = O.
test("public keys with y = p - 1, p, p + 1: verdicts follow [k]A = O (default) and always hold (zip215)", () => {
  const s = fromLE(sha512(new TextEncoder().encode("boundary nonce"))) % L;
  const R = Point.BASE.multiply(s).toBytes();
  for (const [name, key, order] of [
    ["y = p - 1", le(P - 1n), 2n],
    ["y = p", le(P), 4n],
    ["y = p + 1", le(P + 1n), 1n],
  ] as const) {
    assert.ok(Point.fromBytes(key, true).multiplyUnsafe(order).is0(), `${name} has order dividing ${order}`);
    const k = challenge(R, key);
    check(name, concat(R, le(s)), key, k % order === 0n, true);
    assert.ok(isSmallOrderPublicKey(key), `${name} is reported as small order`);
  }
});

test.run();
