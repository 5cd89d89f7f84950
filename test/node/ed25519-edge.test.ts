// Edge cases of Ed25519 verification and of the API, each decided by an oracle:
// node:crypto (OpenSSL; the chio default rule, = ed25519-dalek 2.x `verify`) for the default
// mode and @noble/curves (zip215: true) for the zip215 mode. Points are built here with
// @noble/curves and BigInt, never with the code under test.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { ed25519 as noble } from "@noble/curves/ed25519.js";
import { sha512 } from "@noble/hashes/sha2.js";
import { ed25519, isSmallOrderPublicKey, isValidPublicKey } from "../../src/ed25519.js";
import { heapU8 } from "../../src/wasm/instance.js";
import { bytesToHex, hexToBytes } from "../../src/bytes.js";
import { InvalidLengthError, InvalidTypeError } from "../../src/errors.js";
import { L, P, concat, encodingsOf, fromLE, fullLengthVerify, le, nobleZip215, nodeAccepts, torsionPoints, type NPoint } from "../helpers/ed25519-oracles.js";

const Point = noble.Point;
const msgs = ["", "a", "chio", "edge cases"].map((s) => new TextEncoder().encode(s)).concat([new Uint8Array(200).fill(7)]);

/** Asserts both modes (and both multiplication paths) agree with their oracles; returns [default, zip215]. */
function agree(sig: Uint8Array, msg: Uint8Array, pk: Uint8Array, what: string): [boolean, boolean] {
  const d = ed25519.verify(sig, msg, pk);
  const z = ed25519.verify(sig, msg, pk, { zip215: true });
  assert.is(d, nodeAccepts(sig, msg, pk), `${what}: default mode vs node:crypto`);
  assert.is(z, nobleZip215(sig, msg, pk), `${what}: zip215 mode vs @noble/curves`);
  assert.is(fullLengthVerify(sig, msg, pk, false), d, `${what}: full-length path, default mode`);
  assert.is(fullLengthVerify(sig, msg, pk, true), z, `${what}: full-length path, zip215 mode`);
  return [d, z];
}

// ---- The 8 small-order points and every 32-byte encoding of them that decodes ------------

const TORSION = torsionPoints();

const SMALL_ORDER_ENCODINGS = TORSION.flatMap(encodingsOf);

test("small-order encodings: 8 points, derived with @noble/curves; canonical ones are the known list", () => {
  assert.is(TORSION.length, 8);
  assert.ok(TORSION.every((t) => t.isSmallOrder()));
  const canonical = new Set(TORSION.map((t) => bytesToHex(t.toBytes())));
  // The widely published canonical small-order encodings (e.g. libsodium's blocklist, order 1, 2, 4, 8).
  for (const hex of [
    "0100000000000000000000000000000000000000000000000000000000000000",
    "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
    "0000000000000000000000000000000000000000000000000000000000000000",
    "0000000000000000000000000000000000000000000000000000000000000080",
    "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05",
    "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a",
    "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc85",
    "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa",
  ]) {
    assert.ok(canonical.has(hex), `${hex} is a canonical small-order encoding`);
  }
  // 8 canonical, plus sign-bit variants of x = 0 points and y + p variants for y < 19.
  assert.ok(SMALL_ORDER_ENCODINGS.length > 8);
});

test("isSmallOrderPublicKey / isValidPublicKey on every small-order encoding", () => {
  for (const enc of SMALL_ORDER_ENCODINGS) {
    assert.ok(isValidPublicKey(enc), `${bytesToHex(enc)} decodes`);
    assert.ok(isSmallOrderPublicKey(enc), `${bytesToHex(enc)} is small order`);
  }
});

test("isSmallOrderPublicKey is false for ordinary keys, mixed-order keys and bytes that do not decode", () => {
  for (let i = 0; i < 50; i++) {
    const pk = ed25519.getPublicKey(sha512(new Uint8Array([1, i])).slice(0, 32));
    assert.not.ok(isSmallOrderPublicKey(pk));
    assert.ok(isValidPublicKey(pk));
    const mixed = Point.fromBytes(pk).add(TORSION[1 + (i % 7)]).toBytes();
    assert.not.ok(isSmallOrderPublicKey(mixed), "mixed-order key");
    assert.ok(isValidPublicKey(mixed));
  }
  // y values whose x^2 = (y^2 - 1)/(d y^2 + 1) is not a square do not decode (noble agrees).
  let undecodable = 0;
  for (let y = 2n; undecodable < 20; y++) {
    const enc = le(y);
    let nobleOk = true;
    try {
      Point.fromBytes(enc, true);
    } catch {
      nobleOk = false;
    }
    assert.is(isValidPublicKey(enc), nobleOk, `y = ${y}`);
    if (!nobleOk) {
      undecodable++;
      assert.not.ok(isSmallOrderPublicKey(enc));
      // and verification simply fails (node agrees)
      agree(new Uint8Array(64), msgs[1], enc, `undecodable key y=${y}`);
    }
  }
});

// ---- Small-order public keys: accepted in default mode, as dalek/OpenSSL do ---------------

test("small-order keys: forged (R = sB, S = s) signatures — every encoding, several messages, both modes vs oracles", () => {
  const table: Record<string, [number, number, number]> = {};
  for (const enc of SMALL_ORDER_ENCODINGS) {
    for (const [k, msg] of msgs.entries()) {
      const s = 1000n + BigInt(k);
      const sig = concat(Point.BASE.multiply(s).toBytes(), le(s));
      const [d, z] = agree(sig, msg, enc, `key ${bytesToHex(enc)} msg ${k}`);
      const row = (table[bytesToHex(enc)] ??= [0, 0, 0]);
      row[0]++;
      if (d) row[1]++;
      if (z) row[2]++;
    }
  }
  // The identity key 01 00..00 lets anyone forge for every message, in both modes (node does too).
  assert.equal(table["0100000000000000000000000000000000000000000000000000000000000000"], [msgs.length, msgs.length, msgs.length]);
  // zip215 (cofactored) accepts the forgery for every small-order key and message.
  for (const [hex, [n, , z]] of Object.entries(table)) assert.is(z, n, `zip215 accepts forgery under ${hex}`);
});

test("identity key: non-canonical encoding y = p + 1 also forges under node and under us", () => {
  const enc = le(P + 1n);
  const sig = concat(Point.BASE.multiply(77n).toBytes(), le(77n));
  const [d, z] = agree(sig, msgs[2], enc, "y = p + 1");
  assert.ok(d && z);
});

test("decoded-key cache: interleaved keys (more than it holds, two encodings of one point, undecodable ones) vs oracles", () => {
  const seeds = Array.from({ length: 20 }, (_, i) => sha512(new Uint8Array([6, i])).slice(0, 32)); // > 16 cache entries
  const keys = seeds.map((seed) => ed25519.getPublicKey(seed));
  const identityCanonical = le(1n);
  const identityNonCanonical = le(P + 1n);
  const undecodable = le(2n); // y = 2 is not on the curve (checked below against noble)
  assert.throws(() => Point.fromBytes(undecodable, true));
  const forgery = concat(Point.BASE.multiply(99n).toBytes(), le(99n));
  for (let round = 0; round < 4; round++) {
    for (const [i, seed] of seeds.entries()) {
      const msg = new Uint8Array([round, i]);
      const sig = ed25519.sign(msg, seed);
      agree(sig, msg, keys[i], `round ${round} key ${i}`);
      agree(sig, msg, keys[(i + round + 1) % keys.length], `round ${round} wrong key`);
      if (i % 2 === 0) {
        agree(forgery, msg, identityCanonical, "identity key");
        agree(forgery, msg, identityNonCanonical, "identity key, y = p + 1");
        agree(sig, msg, undecodable, "undecodable key");
      }
    }
  }
});

// ---- Signatures built by hand (RFC 8032 §5.1.6 with BigInt + @noble/hashes) ----------------

function expandSeed(seed: Uint8Array): { a: bigint; prefix: Uint8Array; A: NPoint } {
  const h = sha512(seed);
  const a = h.slice(0, 32);
  a[0] &= 248;
  a[31] &= 127;
  a[31] |= 64;
  const scalar = fromLE(a);
  return { a: scalar, prefix: h.slice(32), A: Point.BASE.multiply(scalar % L) };
}
const hashToScalar = (...parts: Uint8Array[]) => fromLE(sha512(concat(...parts))) % L;

/** Signs msg so that the verifier hashes the given R and A encodings: S = r + k a, k = H(Renc || Aenc || M). */
function handSign(seed: Uint8Array, msg: Uint8Array, encode: (R: NPoint, A: NPoint) => { R: Uint8Array; A: Uint8Array }) {
  const { a, prefix, A } = expandSeed(seed);
  const r = hashToScalar(prefix, msg);
  const enc = encode(Point.BASE.multiply(r), A);
  const k = hashToScalar(enc.R, enc.A, msg);
  return { sig: concat(enc.R, le((r + k * a) % L)), pk: enc.A };
}

test("hand-built signature equals ours (the construction is right)", () => {
  const seed = new Uint8Array(32).fill(3);
  const { sig, pk } = handSign(seed, msgs[2], (R, A) => ({ R: R.toBytes(), A: A.toBytes() }));
  assert.is(bytesToHex(ed25519.sign(msgs[2], seed)), bytesToHex(sig));
  assert.is(bytesToHex(ed25519.getPublicKey(seed)), bytesToHex(pk));
});

test("mixed-order A (A + T, T torsion): default vs zip215 table, each vs its oracle", () => {
  const rows: string[] = [];
  let zipAccepted = 0;
  let defaultAccepted = 0;
  let n = 0;
  for (let t = 1; t < 8; t++) {
    for (let i = 0; i < 8; i++) {
      const seed = sha512(new Uint8Array([2, t, i])).slice(0, 32);
      const { sig, pk } = handSign(seed, msgs[i % msgs.length], (R, A) => ({ R: R.toBytes(), A: A.add(TORSION[t]).toBytes() }));
      const [d, z] = agree(sig, msgs[i % msgs.length], pk, `A + T${t}, case ${i}`);
      n++;
      if (d) defaultAccepted++;
      if (z) zipAccepted++;
      rows.push(`T${t}#${i}: default ${d} zip215 ${z}`);
    }
  }
  // Cofactored check always holds; cofactorless holds only when [k]T = O (k divisible by ord(T)).
  assert.is(zipAccepted, n);
  assert.ok(defaultAccepted < n / 2, rows.join("\n"));
});

test("mixed-order R (R + T): default rejects, zip215 accepts (vs oracles)", () => {
  for (let t = 1; t < 8; t++) {
    const seed = sha512(new Uint8Array([3, t])).slice(0, 32);
    const { sig, pk } = handSign(seed, msgs[3], (R, A) => ({ R: R.add(TORSION[t]).toBytes(), A: A.toBytes() }));
    const [d, z] = agree(sig, msgs[3], pk, `R + T${t}`);
    assert.not.ok(d);
    assert.ok(z);
  }
});

test("non-canonical R (y + p): never equal to the canonical R' in default mode; zip215 decodes it", () => {
  // Neutral element R encoded as y = p + 1, with the identity key and S = 0: R' = O.
  const identity = le(1n);
  for (const R of [le(P + 1n), le((P + 1n) | (1n << 255n)), le(1n | (1n << 255n))]) {
    const sig = concat(R, le(0n));
    const [d, z] = agree(sig, msgs[0], identity, `R ${bytesToHex(R)}`);
    assert.not.ok(d);
    assert.ok(z);
  }
  // A canonical R with the same setup is accepted by both.
  const [d, z] = agree(concat(le(1n), le(0n)), msgs[0], identity, "canonical neutral R");
  assert.ok(d && z);
});

test("non-canonical A (y + p for the 19 y values that allow it): both modes vs oracles", () => {
  for (let y = 0n; y < 19n; y++) {
    for (const signBit of [0n, 1n]) {
      const enc = le((y + P) | (signBit << 255n));
      const sig = concat(Point.BASE.multiply(5n).toBytes(), le(5n));
      agree(sig, msgs[1], enc, `A = ${y} + p, sign ${signBit}`);
      // a real signature verified under a non-canonical key never uses that key's hash
      agree(ed25519.sign(msgs[1], new Uint8Array(32)), msgs[1], enc, `foreign sig, A = ${y} + p`);
    }
  }
});

test("S >= L is rejected in both modes (S + L, S + 2L, S = L, L + 1, 2^256 - 1)", () => {
  const seed = new Uint8Array(32).fill(9);
  const pk = ed25519.getPublicKey(seed);
  const sig = ed25519.sign(msgs[2], seed);
  const S = fromLE(sig.slice(32));
  for (const bad of [S + L, L, 2n ** 256n - 1n, L + 1n, S + 2n * L + 0n]) {
    if (bad >= 2n ** 256n) continue;
    const forged = concat(sig.slice(0, 32), le(bad));
    const [d, z] = agree(forged, msgs[2], pk, `S = ${bad}`);
    assert.not.ok(d);
    assert.not.ok(z);
  }
  assert.ok(ed25519.verify(sig, msgs[2], pk));
});

// ---- Signing internals: public-key cache and wiping ----------------------------------------

test("many interleaved seeds (more than the core's public-key cache holds), incl. one-bit neighbours, match @noble/curves", () => {
  const seeds: Uint8Array[] = [];
  for (let i = 0; i < 10; i++) {
    const seed = sha512(new Uint8Array([4, i])).slice(0, 32);
    seeds.push(seed);
    const neighbour = seed.slice();
    neighbour[i] ^= 1 << (i % 8);
    seeds.push(neighbour);
  }
  for (let round = 0; round < 3; round++) {
    for (const [i, seed] of seeds.entries()) {
      const msg = new Uint8Array([round, i]);
      if ((round + i) % 3 === 0) assert.is(bytesToHex(ed25519.getPublicKey(seed)), bytesToHex(noble.getPublicKey(seed)));
      assert.is(bytesToHex(ed25519.sign(msg, seed)), bytesToHex(noble.sign(msg, seed)), `round ${round} seed ${i}`);
    }
  }
});

/** Index of `needle` in `hay`, or -1. */
function find(hay: Uint8Array, needle: Uint8Array): number {
  outer: for (let i = 0; i + needle.length <= hay.length; i++) {
    for (let j = 0; j < needle.length; j++) if (hay[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
}

test("after getPublicKey and sign, wasm memory holds no seed, expanded key, clamped scalar or nonce", () => {
  const seed = sha512(new TextEncoder().encode("wipe test seed")).slice(0, 32);
  const msg = new TextEncoder().encode("wipe test message");
  const h = sha512(seed);
  const clamped = h.slice(0, 32);
  clamped[0] &= 248;
  clamped[31] &= 127;
  clamped[31] |= 64;
  const nonce = le(fromLE(sha512(concat(h.slice(32), msg))) % L);
  const secrets: [string, Uint8Array][] = [
    ["seed", seed],
    ["SHA-512(seed) low half", h.slice(0, 32)],
    ["clamped scalar", clamped],
    ["prefix", h.slice(32)],
    ["nonce r", nonce],
    ["nonce digest", sha512(concat(h.slice(32), msg)).slice(0, 32)],
  ];
  const check = (when: string) => {
    const memory = heapU8();
    for (const [name, bytes] of secrets) assert.is(find(memory, bytes), -1, `${name} found in wasm memory after ${when}`);
  };
  ed25519.getPublicKey(seed);
  check("getPublicKey");
  const sig = ed25519.sign(msg, seed); // cache hit path
  check("sign (cached public key)");
  assert.is(bytesToHex(sig), bytesToHex(noble.sign(msg, seed)));
  // the positive control: the search does find bytes that are present
  assert.ok(find(heapU8(), sig.slice(0, 32)) >= 0, "search finds the (public) R just written");
  // cache miss path: push the seed out of the cache with other seeds, then sign again
  for (let i = 0; i < 20; i++) ed25519.getPublicKey(sha512(new Uint8Array([5, i])).slice(0, 32));
  ed25519.sign(msg, seed);
  check("sign (public key derived)");
});

// ---- API misuse: typed errors, never a trap or a wrong answer ------------------------------

const notBytes: [string, unknown][] = [
  ["string", "00".repeat(32)],
  ["number array", Array.from({ length: 32 }, () => 0)],
  ["DataView", new DataView(new ArrayBuffer(32))],
  ["ArrayBuffer", new ArrayBuffer(32)],
  ["Uint16Array", new Uint16Array(16)],
  ["Int8Array", new Int8Array(32)],
  ["null", null],
  ["undefined", undefined],
  ["number", 42],
  ["object", { length: 32 }],
];
const isType = (e: unknown) => e instanceof InvalidTypeError && e.code === "INVALID_TYPE" && e instanceof TypeError;
const isLength = (e: unknown) => e instanceof InvalidLengthError && e.code === "INVALID_LENGTH" && e instanceof RangeError;

test("wrong types → InvalidTypeError (INVALID_TYPE) for every argument of every function", () => {
  const sk = new Uint8Array(32).fill(1);
  const pk = ed25519.getPublicKey(sk);
  const sig = ed25519.sign(msgs[1], sk);
  for (const [name, bad] of notBytes) {
    const b = bad as Uint8Array;
    assert.throws(() => ed25519.getPublicKey(b), isType, `getPublicKey(${name})`);
    assert.throws(() => ed25519.sign(b, sk), isType, `sign(message: ${name})`);
    assert.throws(() => ed25519.sign(msgs[1], b), isType, `sign(secretKey: ${name})`);
    assert.throws(() => ed25519.verify(b, msgs[1], pk), isType, `verify(signature: ${name})`);
    assert.throws(() => ed25519.verify(sig, b, pk), isType, `verify(message: ${name})`);
    assert.throws(() => ed25519.verify(sig, msgs[1], b), isType, `verify(publicKey: ${name})`);
    assert.throws(() => isValidPublicKey(b), isType, `isValidPublicKey(${name})`);
    assert.throws(() => isSmallOrderPublicKey(b), isType, `isSmallOrderPublicKey(${name})`);
  }
  assert.throws(() => ed25519.verify(sig, msgs[1], pk, { zip215: "yes" as unknown as boolean }), isType, "zip215 not boolean");
  assert.throws(() => ed25519.verify(sig, msgs[1], pk, null as unknown as object), isType, "options null");
  // a Buffer is a Uint8Array and is accepted
  assert.ok(ed25519.verify(Buffer.from(sig), Buffer.from(msgs[1]), Buffer.from(pk)));
});

test("async twins reject with the same typed errors", async () => {
  for (const [, bad] of notBytes) {
    const b = bad as Uint8Array;
    await ed25519.getPublicKeyAsync(b).then(
      () => assert.unreachable("resolved"),
      (e) => assert.ok(isType(e)),
    );
    await ed25519.signAsync(b, new Uint8Array(32)).then(
      () => assert.unreachable("resolved"),
      (e) => assert.ok(isType(e)),
    );
    await ed25519.verifyAsync(b, msgs[0], new Uint8Array(32)).then(
      () => assert.unreachable("resolved"),
      (e) => assert.ok(isType(e)),
    );
  }
});

test("wrong lengths → InvalidLengthError (INVALID_LENGTH)", () => {
  const sk = new Uint8Array(32).fill(1);
  const pk = ed25519.getPublicKey(sk);
  const sig = ed25519.sign(msgs[1], sk);
  for (const n of [0, 1, 31, 33, 64]) {
    assert.throws(() => ed25519.getPublicKey(new Uint8Array(n)), isLength, `secret key ${n}`);
    assert.throws(() => ed25519.sign(msgs[1], new Uint8Array(n)), isLength, `sign secret key ${n}`);
    assert.throws(() => ed25519.verify(sig, msgs[1], new Uint8Array(n)), isLength, `public key ${n}`);
    assert.throws(() => isValidPublicKey(new Uint8Array(n)), isLength, `isValidPublicKey ${n}`);
    assert.throws(() => isSmallOrderPublicKey(new Uint8Array(n)), isLength, `isSmallOrderPublicKey ${n}`);
  }
  for (const n of [0, 32, 63, 65, 128]) {
    assert.throws(() => ed25519.verify(new Uint8Array(n), msgs[1], pk), isLength, `signature ${n}`);
  }
});

test("structurally valid garbage returns false, never throws; the instance keeps working", () => {
  const sk = new Uint8Array(32).fill(5);
  const pk = ed25519.getPublicKey(sk);
  for (let i = 0; i < 200; i++) {
    const sig = sha512(new Uint8Array([9, i]));
    const key = i % 2 ? pk : sha512(new Uint8Array([8, i])).slice(0, 32);
    assert.is(ed25519.verify(sig, msgs[i % msgs.length], key), false);
    assert.is(ed25519.verify(sig, msgs[i % msgs.length], key, { zip215: true }), false);
  }
  assert.ok(ed25519.verify(ed25519.sign(msgs[4], sk), msgs[4], pk));
});

test("randomSecretKey: 32 fresh random bytes that work as a key", () => {
  const a = ed25519.utils.randomSecretKey();
  const b = ed25519.utils.randomSecretKey();
  assert.ok(a instanceof Uint8Array && a.length === 32);
  assert.is.not(bytesToHex(a), bytesToHex(b));
  const pk = ed25519.getPublicKey(a);
  assert.ok(ed25519.verify(ed25519.sign(msgs[2], a), msgs[2], pk));
});

test("large messages (memory growth between calls) sign and verify like node", () => {
  const sk = hexToBytes("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60");
  const pk = ed25519.getPublicKey(sk);
  for (const n of [70_000, 1 << 20, 3_000_017]) {
    const msg = new Uint8Array(n).map((_, i) => (i * 31) & 255);
    const sig = ed25519.sign(msg, sk);
    assert.ok(ed25519.verify(sig, msg, pk));
    assert.ok(nodeAccepts(sig, msg, pk));
  }
});

test.run();
