// GF(2^255-19) and mod-L arithmetic of the wasm core against BigInt, with fast-check, through
// the test-only exports of assembly/testing.ts (the test build, test/helpers/test-core.ts; inputs
// at ARGS+ARG_RESULT+TEST_HOOK_INPUT +0/+32/+64, output at ARGS+ARG_RESULT+TEST_HOOK_OUTPUT).
// Also re-derives the curve constants used by the core.
import { test } from "uvu";
import * as assert from "uvu/assert";
import fc from "fast-check";
import { readFileSync } from "node:fs";
import { randomBytes } from "node:crypto";
import { argsBase, coreExports, heapU8 } from "../helpers/test-core.js";
import { ARG_RESULT, TEST_HOOK_INPUT, TEST_HOOK_OUTPUT } from "../../src/wasm/abi.js";
import { D, L, P, SQRT_M1, limbs, mod, pow } from "../../scripts/gen-tables.js";

const x = coreExports;
const IN = () => argsBase() + ARG_RESULT + TEST_HOOK_INPUT;
const OUT = () => argsBase() + ARG_RESULT + TEST_HOOK_OUTPUT;

function toLE(n: bigint, bytes = 32): Uint8Array {
  const out = new Uint8Array(bytes);
  for (let i = 0; i < bytes; i++) {
    out[i] = Number(n & 0xffn);
    n >>= 8n;
  }
  return out;
}
function fromLE(b: Uint8Array): bigint {
  let n = 0n;
  for (let i = b.length - 1; i >= 0; i--) n = (n << 8n) | BigInt(b[i]);
  return n;
}
function put(values: bigint[], bytes = 32): void {
  const heap = heapU8();
  values.forEach((v, i) => heap.set(toLE(v, bytes), IN() + i * bytes));
}
const out32 = (): bigint => fromLE(heapU8().slice(OUT(), OUT() + 32));

// Field inputs: any 255-bit integer (the decoder ignores bit 255 and accepts values >= p),
// biased towards the extremes where carries go wrong.
const edges = [0n, 1n, 2n, 18n, 19n, P - 2n, P - 1n, P, P + 1n, P + 18n, 2n ** 255n - 1n, 2n ** 254n, 2n ** 128n - 1n, 2n ** 26n - 1n];
const fieldInput = fc.oneof(
  fc.bigInt({ min: 0n, max: 2n ** 255n - 1n }),
  fc.constantFrom(...edges),
  // limb-extreme patterns: every limb all-ones / alternating
  fc.constantFrom(2n ** 255n - 2n ** 230n, (2n ** 255n - 1n) / 3n, ((2n ** 255n - 1n) / 3n) * 2n),
);
const runs = { numRuns: 2000 };

test("fe_mul matches BigInt (a*b mod p), including non-canonical inputs", () => {
  fc.assert(
    fc.property(fieldInput, fieldInput, (a, b) => {
      put([a, b]);
      x().test_fe_mul();
      return out32() === mod(a * b);
    }),
    runs,
  );
});

test("fe_sq and fe_sq2 match BigInt", () => {
  fc.assert(
    fc.property(fieldInput, (a) => {
      put([a]);
      x().test_fe_sq(0);
      const sq = out32();
      x().test_fe_sq(1);
      return sq === mod(a * a) && out32() === mod(2n * a * a);
    }),
    runs,
  );
});

test("fe_invert matches a^(p-2); a * (1/a) = 1 for a != 0", () => {
  fc.assert(
    fc.property(fieldInput, (a) => {
      put([a]);
      x().test_fe_invert();
      const r = out32();
      return r === pow(a, P - 2n) && (mod(a) === 0n ? r === 0n : mod(a * r) === 1n);
    }),
    { numRuns: 300 },
  );
});

test("fe_pow22523 matches a^((p-5)/8)", () => {
  fc.assert(
    fc.property(fieldInput, (a) => {
      put([a]);
      x().test_fe_pow22523();
      return out32() === pow(a, (P - 5n) / 8n);
    }),
    { numRuns: 300 },
  );
});

test("fe_frombytes/fe_tobytes: canonical encoding of (value mod 2^255) mod p", () => {
  fc.assert(
    fc.property(fc.bigInt({ min: 0n, max: 2n ** 256n - 1n }), (a) => {
      put([a]);
      x().test_fe_roundtrip();
      return out32() === mod(a % 2n ** 255n);
    }),
    runs,
  );
  for (const a of [...edges, 2n ** 256n - 1n]) {
    put([a]);
    x().test_fe_roundtrip();
    assert.is(out32(), mod(a % 2n ** 255n), `roundtrip ${a}`);
  }
});

const scalar512 = fc.oneof(
  fc.bigInt({ min: 0n, max: 2n ** 512n - 1n }),
  fc.constantFrom(0n, 1n, L - 1n, L, L + 1n, 2n * L, 2n ** 512n - 1n, 2n ** 256n - 1n, L * L, L * (2n ** 259n)),
);
const scalar256 = fc.oneof(
  fc.bigInt({ min: 0n, max: 2n ** 256n - 1n }),
  fc.constantFrom(0n, 1n, L - 1n, L, L + 1n, 2n ** 252n, 2n ** 255n - 1n, 2n ** 256n - 1n),
);

test("sc_reduce matches BigInt (x mod L) for 512-bit inputs", () => {
  fc.assert(
    fc.property(scalar512, (s) => {
      put([s], 64);
      x().test_sc_reduce();
      return out32() === s % L;
    }),
    runs,
  );
});

test("sc_muladd matches BigInt ((a*b + c) mod L) for 256-bit inputs", () => {
  fc.assert(
    fc.property(scalar256, scalar256, scalar256, (a, b, c) => {
      put([a, b, c]);
      x().test_sc_muladd();
      return out32() === (a * b + c) % L;
    }),
    runs,
  );
});

test("sc_half_size_vartime: u = v k (mod 8L), v odd, |u|, |v| < 2^250 or 'not found' (vs BigInt)", () => {
  // Returns the sign of v, or 0 when k is degenerate (e.g. 32 k = -8 mod 8L) and no short pair
  // exists; verification then takes the full-length path.
  const check = (k: bigint): { found: boolean; bits: number } => {
    put([k]);
    const sign = x().test_sc_half_size();
    if (sign === 0) return { found: false, bits: 256 };
    assert.ok(sign === 1 || sign === -1, `k = ${k}: sign`);
    const u = out32();
    const w = fromLE(heapU8().slice(OUT() + 32, OUT() + 64));
    const v = sign > 0 ? w : -w;
    assert.is(mod(u - v * k, 8n * L), 0n, `k = ${k}: u = v k mod 8L`);
    assert.is(w & 1n, 1n, `k = ${k}: v odd`);
    assert.ok(u < 2n ** 250n && w < 2n ** 250n, `k = ${k}: within the contract`);
    return { found: true, bits: Math.max(u.toString(2).length, w.toString(2).length) };
  };
  fc.assert(
    fc.property(fc.bigInt({ min: 0n, max: L - 1n }), (k) => {
      check(k);
      return true;
    }),
    { numRuns: 3000 },
  );
  for (const k of [0n, 1n, 2n, 3n, 2n ** 128n - 1n, 2n ** 128n, 2n ** 128n + 1n, L - 1n, L - 2n, (L - 1n) / 2n, 2n ** 252n, 8n, 2n ** 127n * 3n]) {
    check(k); // L - 1, for instance, is degenerate (8L = 8 (L - 1) + 8) and may report "not found"
  }
  // Challenges are uniform hash outputs: then a pair of about 128 bits is always found.
  let over = 0;
  for (let i = 0; i < 3000; i++) {
    const k = fromLE(new Uint8Array(randomBytes(64))) % L;
    const { found, bits } = check(k);
    assert.ok(found, `random k = ${k} found`);
    if (bits > 132) over++;
  }
  assert.ok(over < 30, `${over} of 3000 random k gave a pair above 2^132`);
});

test("curve constants re-derived from their definitions", () => {
  assert.is(P, 2n ** 255n - 19n);
  assert.is(mod(D * 121666n), mod(-121665n));
  assert.is(mod(SQRT_M1 * SQRT_M1), P - 1n);
  assert.is(L, 2n ** 252n + 27742317777372353535851937790883648493n);
  // the radix-2^21 digits of c = L - 2^252 hard-coded in assembly/curve25519/scalar.ts
  const c = L - 2n ** 252n;
  const digits = Array.from({ length: 6 }, (_, k) => Number((c >> BigInt(21 * k)) & 0x1fffffn));
  const source = readFileSync(new URL("../../assembly/curve25519/scalar.ts", import.meta.url), "utf8");
  const hardCoded = [0, 1, 2, 3, 4, 5].map((k) => Number(source.match(new RegExp(`const C${k}: i64 = (\\d+);`))?.[1]));
  assert.equal(hardCoded, digits);
  assert.equal(limbs(1n), [1, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
});

test.run();
