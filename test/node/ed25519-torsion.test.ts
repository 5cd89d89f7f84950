// Differential test of verification on points with torsion components: the half-size
// verification ([w]X = O with w k = u (mod 8L), assembly/curve25519/scalar.ts) must be exact
// for every A and R of the full group, not only the prime-order subgroup.
//
// Cases are built with @noble/curves' Point and BigInt (never with the code under test):
//   A = [a]B + [i]T,  R = [r]B + [j]T   (T a point of order 8, a or r sometimes 0),
//   k = SHA-512(R bytes || A bytes || M) mod L,  S = r + k a (+ delta) (mod L) (+ L sometimes),
// so X = [S]B - [k]A - R = [delta]B - [j + k i]T. Encodings of A and R are canonical or, where
// the point has them, non-canonical (y + p; x = 0 with the sign bit set).
// Oracles: node:crypto (OpenSSL = ed25519-dalek 2.x `verify`) for the default mode and
// @noble/curves `verify(..., { zip215: true })` for zip215. A BigInt model of both rules is
// checked too, and every class of case must occur, so the test cannot pass vacuously.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { randomBytes } from "node:crypto";
import { ed25519 as noble } from "@noble/curves/ed25519.js";
import { sha512 } from "@noble/hashes/sha2.js";
import { ed25519 } from "../../src/ed25519.js";
import { bytesToHex } from "../../src/bytes.js";
import { L, concat, encodingsOf, fromLE, fullLengthVerify, le, nobleZip215, nodeAccepts, torsionPoints, type NPoint } from "../helpers/ed25519-oracles.js";
import { scaled } from "../helpers/scale.js";

const Point = noble.Point;
const CASES = scaled(4000);

const mod = (x: bigint, m: bigint): bigint => ((x % m) + m) % m;
const randomScalar = (): bigint => fromLE(randomBytes(64)) % L;
const randomInt = (n: number): number => randomBytes(4).readUInt32LE(0) % n;

// ---- The torsion subgroup and the encodings of its points --------------------------------------

const T = torsionPoints();

const T_ENCODINGS = T.map(encodingsOf);

// ---- One case ----------------------------------------------------------------------------------

type SKind = "exact" | "off" | "plusL" | "nearL";
interface Case {
  sig: Uint8Array;
  msg: Uint8Array;
  pk: Uint8Array;
  /** The rule of each mode evaluated with BigInt on the known decomposition. */
  model: { default: boolean; zip215: boolean };
  canonicalR: boolean;
  canonicalA: boolean;
  torsionCancels: boolean;
  kind: SKind;
}

/**
 * A = [a]B + [i]T, R = [r]B + [j]T with the chosen encodings; S as given by kind. When
 * forceCancel, j is chosen (among the 8) so that j + k i = 0 (mod 8), if any does.
 */
function buildCase(forceCancel: boolean): Case | undefined {
  const a = randomInt(8) === 0 ? 0n : randomScalar();
  const i = randomInt(8);
  let r = randomInt(8) === 0 ? 0n : randomScalar();
  const kindRoll = randomInt(20);
  const kind: SKind = kindRoll < 12 ? "exact" : kindRoll < 16 ? "off" : kindRoll < 18 ? "plusL" : "nearL";
  // S close to L verifies only if r + k a = S (mod L) for a chosen S: take a = 0 and r = S.
  const aUsed = kind === "nearL" ? 0n : a;
  if (kind === "nearL") r = L - 1n - BigInt(randomInt(24));
  const A = aUsed === 0n ? T[i] : Point.BASE.multiply(aUsed).add(T[i]);
  const aEncodings = aUsed === 0n ? T_ENCODINGS[i] : [A.toBytes()];
  const pk = aEncodings[randomInt(aEncodings.length)];
  const canonicalA = bytesToHex(pk) === bytesToHex(A.toBytes());
  const msg = randomBytes(randomInt(80));
  const rB = r === 0n ? Point.ZERO : Point.BASE.multiply(r);

  const js = forceCancel ? [0, 1, 2, 3, 4, 5, 6, 7].sort(() => randomInt(3) - 1) : [randomInt(8)];
  for (const j of js) {
    const R = rB.add(T[j]);
    const rEncodings = r === 0n ? T_ENCODINGS[j] : [R.toBytes()];
    const rEnc = rEncodings[randomInt(rEncodings.length)];
    const canonicalR = bytesToHex(rEnc) === bytesToHex(R.toBytes());
    const k = fromLE(sha512(concat(rEnc, pk, msg))) % L;
    const torsionCancels = mod(BigInt(j) + k * BigInt(i), 8n) === 0n;
    if (forceCancel && !torsionCancels) continue;
    const base = mod(r + k * aUsed, L);
    let S: bigint;
    let primePartHolds = true;
    if (kind === "off") {
      const deltas = [1n, L - 1n, 8n, randomScalar() || 1n, L - 8n];
      S = mod(base + deltas[randomInt(deltas.length)], L);
      primePartHolds = false;
    } else if (kind === "plusL") {
      S = base + L * BigInt(1 + randomInt(14)); // S >= L, still below 2^256 (15 L < 2^256 < 16 L)
    } else {
      S = base;
    }
    const sInRange = S < L;
    const model = {
      // cofactorless, R compared byte for byte with the canonical encoding of R' = [S]B - [k]A
      default: sInRange && primePartHolds && torsionCancels && canonicalR,
      // cofactored, R decoded leniently
      zip215: sInRange && primePartHolds,
    };
    return { sig: concat(rEnc, le(S)), msg, pk, model, canonicalR, canonicalA, torsionCancels, kind };
  }
  return undefined;
}

test(`torsion components in A and R, ${CASES} cases: default vs node:crypto, zip215 vs @noble/curves`, () => {
  const seen: Record<string, number> = {};
  const bump = (key: string) => (seen[key] = (seen[key] ?? 0) + 1);
  let built = 0;
  for (let n = 0; built < CASES; n++) {
    const c = buildCase(n % 3 === 0);
    if (!c) continue;
    built++;
    const where = `case ${built} (${c.kind}): sig ${bytesToHex(c.sig)} pk ${bytesToHex(c.pk)} msg ${bytesToHex(c.msg)}`;
    const d = ed25519.verify(c.sig, c.msg, c.pk);
    const z = ed25519.verify(c.sig, c.msg, c.pk, { zip215: true });
    const nodeSays = nodeAccepts(c.sig, c.msg, c.pk);
    const nobleSays = nobleZip215(c.sig, c.msg, c.pk);
    assert.is(d, nodeSays, `${where}: default mode vs node:crypto`);
    assert.is(z, nobleSays, `${where}: zip215 mode vs @noble/curves`);
    assert.is(nodeSays, c.model.default, `${where}: node:crypto vs the BigInt model of the dalek rule`);
    assert.is(nobleSays, c.model.zip215, `${where}: @noble/curves vs the BigInt model of ZIP-215`);
    assert.is(fullLengthVerify(c.sig, c.msg, c.pk, false), d, `${where}: full-length path, default`);
    assert.is(fullLengthVerify(c.sig, c.msg, c.pk, true), z, `${where}: full-length path, zip215`);
    bump(`default ${d} zip215 ${z}`);
    bump(`kind ${c.kind} default ${d}`);
    if (!c.canonicalR) bump(`non-canonical R, zip215 ${z}`);
    if (!c.canonicalA) bump(`non-canonical A, default ${d}`);
    if (c.model.zip215 && !c.torsionCancels) bump("equation holds only up to torsion");
  }
  // Every class must have occurred (otherwise the test proves less than it claims).
  for (const key of [
    "default true zip215 true",
    "default false zip215 true",
    "default false zip215 false",
    "kind nearL default true",
    "kind plusL default false",
    "kind off default false",
    "non-canonical R, zip215 true",
    "non-canonical A, default true",
    "non-canonical A, default false",
    "equation holds only up to torsion",
  ]) {
    assert.ok((seen[key] ?? 0) > 0, `class "${key}" occurred (${JSON.stringify(seen)})`);
  }
});

test("every encoding of every torsion point as R and as A, with S = r + k a, against both oracles", () => {
  // Deterministic sweep of the non-canonical encodings (y + p for y in {0, 1}; x = 0 with the
  // sign bit set), each combined with each torsion component of the other point.
  let cases = 0;
  for (let i = 0; i < 8; i++) {
    for (const pk of T_ENCODINGS[i]) {
      for (let j = 0; j < 8; j++) {
        for (const rEnc of T_ENCODINGS[j]) {
          for (const r of [0n, 5n]) {
            // R = [r]B + [j]T: with r = 0 the encoding may be non-canonical
            const R = r === 0n ? rEnc : Point.BASE.multiply(r).add(T[j]).toBytes();
            const msg = new Uint8Array([i, j, Number(r)]);
            const k = fromLE(sha512(concat(R, pk, msg))) % L;
            const sig = concat(R, le(r % L)); // a = 0: S = r
            const d = ed25519.verify(sig, msg, pk);
            const z = ed25519.verify(sig, msg, pk, { zip215: true });
            const where = `A ${bytesToHex(pk)} R ${bytesToHex(R)} (k mod 8 = ${k % 8n})`;
            assert.is(d, nodeAccepts(sig, msg, pk), `${where}: default vs node:crypto`);
            assert.is(z, nobleZip215(sig, msg, pk), `${where}: zip215 vs @noble/curves`);
            assert.is(fullLengthVerify(sig, msg, pk, false), d, `${where}: full-length path, default`);
            assert.is(fullLengthVerify(sig, msg, pk, true), z, `${where}: full-length path, zip215`);
            assert.ok(z, `${where}: zip215 accepts (S = r + k a)`);
            cases++;
          }
        }
      }
    }
  }
  assert.ok(cases > 2 * 8 * 8);
});

test.run();
