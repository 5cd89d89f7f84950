// The prime-order subgroup test of the batch verifier (assembly/curve25519/torsion.ts, the
// "quartic-root test") and its multi-scalar multiplication (assembly/curve25519/scalar_mul/),
// through the test build's hooks (assembly/testing.ts), against BigInt / @noble/curves models:
//  * points [r]B + T for each of the 8 points T of the torsion subgroup (class known by
//    construction: torsion-free iff T = O), r random and small (0..15);
//  * random 32-byte strings that decode (class from [L]P);
//  * every encoding (canonical and not) of the 8 small-order points and of y < 19 written as y + p;
//  * the test's constants re-derived from the curve equation.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { randomBytes } from "node:crypto";
import { ed25519 as noble } from "@noble/curves/ed25519.js";
import { argsBase, coreExports, heapU8, ioArenaBase, reserveIo } from "../helpers/test-core.js";
import { ARG_RESULT, TEST_HOOK_INPUT, TEST_HOOK_OUTPUT } from "../../src/wasm/abi.js";
import { L, P, concat, encodingsOf, fromLE, le, mulL, powModP, torsionPoints, type NPoint } from "../helpers/ed25519-oracles.js";
import { referenceDraw } from "../helpers/sparse-coefficients.js";
import { scaled } from "../helpers/scale.js";

interface TorsionHooks {
  ge_is_torsion_free_vartime(): number;
  test_torsion_constants(): void;
  test_msm(n: number, method: number): number;
  test_fe_legendre(): number;
  test_ge_is_neutral(): number;
}
const hooks = (): TorsionHooks => coreExports() as unknown as TorsionHooks;
const IN = (): number => argsBase() + ARG_RESULT + TEST_HOOK_INPUT;
const OUT = (): number => argsBase() + ARG_RESULT + TEST_HOOK_OUTPUT;
const Point = noble.Point;
const mod = (a: bigint, m = P): bigint => ((a % m) + m) % m;
const pow = powModP;
const randomScalar = (): bigint => fromLE(randomBytes(64)) % L;

/** The hook's class of 32 bytes: 1 torsion-free, 0 torsion component, -1 not a point. */
function wasmClass(encoding: Uint8Array): number {
  heapU8().set(encoding, IN());
  return hooks().ge_is_torsion_free_vartime();
}
/** Model: P is torsion-free iff [L]P = O. */
const modelTorsionFree = (p: NPoint): boolean => mulL(p).is0();

test("constants: 1 + d and b, the even square root of 16 (1 + d)", () => {
  hooks().test_torsion_constants();
  const out = heapU8().slice(OUT(), OUT() + 64);
  const d = mod(-121665n * pow(121666n, P - 2n));
  const onePlusD = fromLE(out.slice(0, 32));
  const b = fromLE(out.slice(32, 64));
  assert.is(onePlusD, mod(1n + d));
  assert.is(mod(b * b), mod(16n * (1n + d)));
  assert.is(b % 2n, 0n, "the even root");
  assert.ok(b < P);
});

test("Legendre symbol (binary Jacobi algorithm) against a^((p-1)/2)", () => {
  const edges = [0n, 1n, 2n, 3n, 4n, P - 1n, P - 2n, P, P + 1n, 2n ** 255n - 1n, 2n ** 128n, 2n ** 64n, (P - 1n) / 2n];
  const inputs = [...edges, ...Array.from({ length: scaled(3000) }, () => fromLE(randomBytes(32)) & (2n ** 255n - 1n))];
  const seen = new Set<number>();
  for (const a of inputs) {
    heapU8().set(le(a), IN());
    const got = hooks().test_fe_legendre();
    const e = pow(a, (P - 1n) / 2n);
    const expected = e === 0n ? 0 : e === 1n ? 1 : -1;
    assert.is(got, expected, `a = ${a}`);
    seen.add(got);
  }
  assert.equal([...seen].sort(), [-1, 0, 1]);
});

test("[r]B + T for every torsion point T: torsion-free exactly when T = O", () => {
  const torsion = torsionPoints();
  assert.is(torsion.length, 8);
  const perClass = scaled(300);
  for (let j = 0; j < 8; j++) {
    for (let n = 0; n < perClass; n++) {
      const r = n < 16 ? BigInt(n) : randomScalar();
      const point = (r === 0n ? Point.ZERO : Point.BASE.multiply(r)).add(torsion[j]);
      const got = wasmClass(point.toBytes());
      assert.is(got, j === 0 ? 1 : 0, `T index ${j}, r = ${r}`);
    }
  }
});

test("random decodable strings: same class as [L]P", () => {
  const seen = [0, 0];
  for (let n = 0; n < scaled(600); n++) {
    const bytes = new Uint8Array(randomBytes(32));
    let point: NPoint;
    try {
      point = Point.fromBytes(bytes, true);
    } catch {
      assert.is(wasmClass(bytes), -1, "does not decode");
      continue;
    }
    const expected = modelTorsionFree(point) ? 1 : 0;
    seen[expected]++;
    assert.is(wasmClass(bytes), expected);
  }
  assert.ok(seen[0] > 0 && seen[1] > 0, "both classes occur"); // a random point is torsion-free with probability 1/8
});

test("small-order points in every encoding; y < 19 written as y + p", () => {
  for (const [j, t] of torsionPoints().entries()) {
    const encodings = encodingsOf(t);
    assert.ok(encodings.length >= 1);
    for (const e of encodings) assert.is(wasmClass(e), j === 0 ? 1 : 0, `T index ${j}`);
  }
  for (let y = 0n; y < 19n; y++) {
    for (const sign of [0n, 1n]) {
      const bytes = le((y + P) | (sign << 255n));
      let point: NPoint | undefined;
      try {
        point = Point.fromBytes(bytes, true);
      } catch {
        point = undefined;
      }
      if (point === undefined) {
        // noble refuses x = 0 with the sign bit set, which the dalek rule decodes (to the same point)
        if (y === 1n || y === P - 1n) continue;
        assert.is(wasmClass(bytes), -1, `y = ${y} + p does not decode`);
      } else {
        assert.is(wasmClass(bytes), modelTorsionFree(point) ? 1 : 0, `y = ${y} + p`);
      }
    }
  }
});

test("the neutral-element check (every combined check's last step) takes (0 : Y : Y) with Y != 0, never the all-zero triple", () => {
  const neutral = (x: bigint, y: bigint, z: bigint): boolean => {
    heapU8().set(concat(le(x), le(y), le(z)), IN());
    return hooks().test_ge_is_neutral() === 1;
  };
  assert.ok(neutral(0n, 1n, 1n));
  assert.ok(neutral(0n, 5n, 5n));
  assert.ok(neutral(0n, P - 1n, P - 1n));
  // (0 : 0 : 0) is no point: an MSM that met an unfilled (all-zero) table entry ends there, and a
  // check taking it for O would accept every item of the batch.
  assert.not.ok(neutral(0n, 0n, 0n));
  assert.not.ok(neutral(1n, 1n, 1n));
  assert.not.ok(neutral(0n, 1n, 2n));
  assert.not.ok(neutral(0n, P - 1n, 1n));
});

/** [s]P for any s < 2^256 (noble takes s < L only; P may have a torsion component, so s is not reduced mod L). */
function mulAny(p: NPoint, s: bigint): NPoint {
  if (s === 0n) return Point.ZERO;
  if (s < L) return p.multiplyUnsafe(s);
  return mulAny(p, s - L).add(mulL(p));
}

/** [b]B + sum [s_t] P_t through the hook. */
function wasmMsm(points: NPoint[], scalars: bigint[], b: bigint, method: number): Uint8Array {
  const n = points.length;
  reserveIo(n * 64 + 32);
  const heap = heapU8();
  const base = ioArenaBase();
  points.forEach((p, t) => heap.set(p.toBytes(), base + 32 * t));
  scalars.forEach((s, t) => heap.set(le(s), base + 32 * n + 32 * t));
  heap.set(le(b), base + 64 * n);
  // Preset sparse terms (32): the first half, rounded up, their count in bits 16 and up.
  assert.is(hooks().test_msm(n, (method & 32) !== 0 ? method | (((n + 1) >> 1) << 16) : method), 0);
  return heapU8().slice(OUT(), OUT() + 32);
}

for (const [method, name, sizes] of [
  [0, "Straus", [0, 1, 2, 3, 7, 16, 33]],
  [1, "Pippenger", [0, 1, 2, 5, 40, 100, 300]],
  // Every other point with Z != 1: Pippenger's projective additions next to its affine (mixed) ones.
  [0 | 8, "Straus, points with Z != 1", [2, 7, 33]],
  [1 | 8, "Pippenger, points with Z != 1", [2, 5, 40, 300]],
  // Every third point through a width-8 affine table (a prepared key's), subtracted as -[s](-P).
  [0 | 16, "Straus, precomputed tables", [1, 2, 3, 7, 16, 33]],
  [0 | 8 | 16, "Straus, precomputed tables and points with Z != 1", [4, 33]],
  // The first half of the terms with sparse coefficients drawn from their scalar bytes (the batch's R terms).
  [0 | 32, "Straus, preset sparse terms", [1, 2, 3, 7, 16, 33]],
  [0 | 8 | 32, "Straus, preset sparse terms and points with Z != 1", [4, 33]],
] as const) test(`multi-scalar multiplication (${name}) against @noble/curves`, () => {
  const torsion = torsionPoints();
  for (const n of sizes) {
    for (let round = 0; round < scaled(3); round++) {
      const points = Array.from({ length: n }, (_, t) =>
        Point.BASE.multiply(randomScalar() || 1n).add(torsion[t % 8]),
      );
      const edge = [L - 1n, 2n ** 253n - 1n, 1n, 2n ** 252n];
      const scalars = points.map((_, t) =>
        t % 3 === 0 ? fromLE(randomBytes(16)) : t % 5 === 1 ? 0n : t % 7 === 2 ? edge[t % 4] : randomScalar(),
      );
      const b = round === 0 ? 0n : randomScalar();
      let expected = b === 0n ? Point.ZERO : Point.BASE.multiply(b);
      points.forEach((p, t) => {
        if ((method & 32) !== 0 && t < (n + 1) >> 1) {
          // A preset term: the signed integer z its digits spell (not z mod L: P may carry torsion).
          const z = referenceDraw(concat(le(scalars[t]), new Uint8Array(32))).integer;
          expected = expected.add(z < 0n ? mulAny(p.negate(), -z) : mulAny(p, z));
        } else expected = expected.add(mulAny(p, scalars[t]));
      });
      assert.equal(wasmMsm(points, scalars, b, method), expected.toBytes(), `n = ${n}`);
    }
  }
});

test.run();
