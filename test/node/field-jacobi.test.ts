// The Jacobi symbol (a / p), p = 2^255 - 19, of assembly/curve25519/torsion.ts
// (jacobi_symbol_vartime, batched binary algorithm on 64-bit approximations), through the test
// build's hook test_fe_legendre (assembly/testing.ts: the 32 bytes at input+0, reduced mod p),
// against Euler's criterion a^((p-1)/2) mod p computed with BigInt. Cases: edges, small values,
// powers of two, long runs of zero and one bits, values sharing their top bits with p or with
// simple fractions of p (where the approximations are too close to call and the exact step runs),
// random values, and squares x^2 / non-squares 2 x^2 (2 is not a square mod p, p = 5 mod 8).
import { test } from "uvu";
import * as assert from "uvu/assert";
import { randomBytes } from "node:crypto";
import { argsBase, coreExports, heapU8 } from "../helpers/test-core.js";
import { ARG_RESULT, TEST_HOOK_INPUT } from "../../src/wasm/abi.js";
import { P, fromLE, le, powModP } from "../helpers/ed25519-oracles.js";
import { scaled } from "../helpers/scale.js";

interface JacobiHooks {
  test_fe_legendre(): number;
}
const hooks = (): JacobiHooks => coreExports() as unknown as JacobiHooks;
const IN = (): number => argsBase() + ARG_RESULT + TEST_HOOK_INPUT;

const mod = (a: bigint): bigint => ((a % P) + P) % P;
/** Euler's criterion: a^((p-1)/2) is 1 for a nonzero square, p - 1 for a non-square, 0 for 0. */
function euler(a: bigint): number {
  const e = powModP(a, (P - 1n) / 2n);
  if (e === 0n) return 0;
  if (e === 1n) return 1;
  assert.is(e, P - 1n, "Euler's criterion gives 0, 1 or -1");
  return -1;
}
const randomBelowP = (): bigint => fromLE(randomBytes(40)) % P;

function wasmJacobi(a: bigint): number {
  assert.ok(a >= 0n && a < P, "the hook is given canonical values here");
  heapU8().set(le(a), IN());
  return hooks().test_fe_legendre();
}

/** Checks every value against Euler's criterion; returns the answers. */
function checkAll(values: bigint[]): number[] {
  return values.map((a) => {
    const got = wasmJacobi(a);
    assert.is(got, euler(a), `a = 0x${a.toString(16)}`);
    return got;
  });
}

test("edges: 0, 1, 2, p - 1, p - 2, (p - 1) / 2, (p + 1) / 2", () => {
  const got = checkAll([0n, 1n, 2n, P - 1n, P - 2n, (P - 1n) / 2n, (P + 1n) / 2n]);
  // Known values: (0 / p) = 0, 1 a square, 2 not (p = 5 mod 8), -1 a square (p = 1 mod 4).
  assert.equal(got.slice(0, 4), [0, 1, -1, 1]);
});

test("small values 0..300 and their negatives", () => {
  const small = Array.from({ length: 301 }, (_, i) => BigInt(i));
  const got = checkAll([...small, ...small.slice(1).map((a) => P - a)]);
  assert.ok(got.includes(1) && got.includes(-1));
});

test("powers of two 2^k, k < 255, and p - 2^k", () => {
  const powers = Array.from({ length: 255 }, (_, k) => 2n ** BigInt(k));
  const got = checkAll([...powers, ...powers.map((x) => P - x)]);
  // (2^k / p) = (-1)^k since 2 is a non-square: a closed form besides Euler.
  for (let k = 0; k < 255; k++) assert.is(got[k], k % 2 === 0 ? 1 : -1, `2^${k}`);
});

test("long runs of zero and one bits", () => {
  const values: bigint[] = [];
  for (let k = 1; k < 255; k++) {
    values.push(2n ** BigInt(k) - 1n); //              k ones
    values.push(mod(2n ** 255n - 1n - 2n ** BigInt(k))); // ones with one zero (reduced)
    values.push(2n ** BigInt(k) + 1n); //              a one, k - 1 zeros, a one
  }
  for (let n = 0; n < scaled(300); n++) {
    // Ones from bit lo to bit hi (exclusive), then zeros or ones around, at random positions.
    const [lo, hi] = [randomBytes(1)[0] % 255, randomBytes(1)[0] % 255].sort((x, y) => x - y).map(BigInt);
    const run = 2n ** hi - 2n ** lo;
    values.push(run, mod(P - 1n - run), mod(run + 1n), mod(run * 2n ** 64n + 3n));
  }
  // Limb boundaries of the 32-bit and 64-bit representations.
  for (let k = 32; k < 255; k += 32) for (const d of [-3n, -1n, 0n, 1n, 5n]) values.push(mod(2n ** BigInt(k) + d));
  checkAll(values);
});

test("values whose top bits match those of p or of a fraction of p (close calls)", () => {
  const values: bigint[] = [];
  for (let v = 2n; v <= 24n; v++) {
    for (let u = 1n; u < v; u++) {
      const base = (P * u) / v;
      for (const d of [-2n, -1n, 0n, 1n, 2n, 2n ** 40n + 1n]) values.push(mod(base + d));
    }
  }
  for (let n = 0; n < scaled(200); n++) {
    values.push(P - 1n - (fromLE(randomBytes(32)) % 2n ** BigInt(1 + (n % 200)))); // shares 54+ top bits with p
    values.push(mod((P >> 1n) + (fromLE(randomBytes(16)) % 2n ** 100n) - 2n ** 99n)); // near p / 2
  }
  checkAll(values);
});

test("random values", () => {
  const got = checkAll(Array.from({ length: scaled(2000) }, randomBelowP));
  const squares = got.filter((x) => x === 1).length;
  assert.ok(squares > got.length / 4 && squares < (3 * got.length) / 4, "about half are squares");
});

test("squares x^2 are 1 and 2 x^2 are -1 (x != 0)", () => {
  for (let n = 0; n < scaled(500); n++) {
    const x = n < 40 ? BigInt(n + 1) : n < 80 ? P - BigInt(n) : randomBelowP() || 1n;
    const square = mod(x * x);
    const nonSquare = mod(2n * square);
    assert.is(wasmJacobi(square), 1, `x^2, x = 0x${x.toString(16)}`);
    assert.is(wasmJacobi(nonSquare), -1, `2 x^2, x = 0x${x.toString(16)}`);
    assert.is(euler(square), 1);
    assert.is(euler(nonSquare), -1);
  }
});

test.run();
