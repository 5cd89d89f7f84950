// writeDouble (assembly/json/number-format.ts) against JavaScript's own String(x), which is the
// ECMAScript Number::toString that RFC 8785 §3.2.2.3 prescribes, plus the published ES6 number
// sample and an exact BigInt recomputation of the power-of-ten table.
//
// Random inputs come from a seeded generator (test/helpers/doubles.ts); set CHIO_TEST_SEED to replay a failing run.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { readFileSync } from "node:fs";
import { formatDouble } from "../helpers/number-hooks.js";
import { coreExports, heapU8, ioArenaBase } from "../helpers/test-core.js";
import { CanonicalJsonError, InvalidTypeError } from "../../src/errors.js";
import { SEED, makeRandom, fromWords, fromBits, toBits } from "../helpers/doubles.js";
import { scaled } from "../helpers/scale.js";

const core = coreExports;

/** Formats x in wasm and compares the bytes with String(x) without building a string. */
function formatsLikeString(x: number): boolean {
  const expected = String(x);
  const length = core().format_f64(x);
  if (length !== expected.length) return false;
  const heap = heapU8();
  const base = ioArenaBase();
  for (let i = 0; i < length; i++) if (heap[base + i] !== expected.charCodeAt(i)) return false;
  return true;
}

/** Runs every value through formatsLikeString; fails with the first few mismatches. */
function checkAll(label: string, values: Iterable<number>, minimumCount = 0): number {
  let count = 0;
  const failures: string[] = [];
  for (const x of values) {
    count++;
    if (!formatsLikeString(x) && failures.length < 5) {
      failures.push(`${label}: bits 0x${toBits(x).toString(16)}: got ${formatDouble(x)}, String(x) = ${String(x)}`);
    }
  }
  assert.ok(failures.length === 0, `seed ${SEED}\n${failures.join("\n")}`);
  assert.ok(count >= minimumCount, `${label}: only ${count} values`);
  return count;
}

/** x and its `radius` nearest neighbours on each side (finite, same sign). */
function* neighbours(x: number, radius: number): Generator<number> {
  const bits = toBits(x);
  for (let d = -radius; d <= radius; d++) {
    const b = bits + BigInt(d);
    if (b < 0n || b >= 0x7ff0000000000000n) continue;
    yield fromBits(b);
  }
}

test("POW10_128 table in pow10-table.ts equals floor(10^j * 2^(127 - floor(log2 10^j))), recomputed with BigInt", () => {
  const source = readFileSync(new URL("../../assembly/json/pow10-table.ts", import.meta.url), "utf8");
  const start = source.indexOf("export const POW10_128: usize = memory.data<u64>([");
  const end = source.indexOf("]);", start);
  assert.ok(start > 0 && end > start, "table not found");
  const entries = [...source.slice(start, end).matchAll(/(0x[0-9A-F]{16}), (0x[0-9A-F]{16}), \/\/ 1e(-?\d+)/g)];
  assert.is(entries.length, 324 + 342 + 1);
  const bitLength = (v: bigint): number => v.toString(2).length;
  entries.forEach((entry, index) => {
    const j = index - 342;
    assert.is(Number(entry[3]), j);
    let expected: bigint;
    if (j >= 0) {
      const p = 10n ** BigInt(j);
      const b = bitLength(p);
      expected = b > 128 ? p >> BigInt(b - 128) : p << BigInt(128 - b);
    } else {
      // 10^j = 1/d with d = 10^-j (not a power of two), so floor(log2 10^j) = -bitLength(d).
      const d = 10n ** BigInt(-j);
      expected = (1n << BigInt(127 + bitLength(d))) / d;
    }
    assert.is((BigInt(entry[1]) << 64n) | BigInt(entry[2]), expected, `1e${j}`);
  });
});

test("es6-numbers-sample.txt: all 10,000 lines (IEEE bits -> expected text)", () => {
  const lines = readFileSync(new URL("../vectors/jcs/es6-numbers-sample.txt", import.meta.url), "utf8").split("\n").filter((l) => l.length > 0);
  assert.is(lines.length, 10000);
  const failures: string[] = [];
  for (const line of lines) {
    const [hex, expected] = line.split(",");
    const x = fromBits(BigInt("0x" + hex));
    const got = formatDouble(x);
    if (got !== expected && failures.length < 5) failures.push(`${hex}: got ${got}, expected ${expected}`);
  }
  assert.equal(failures, []);
});

test("special values and the public wrapper's errors", () => {
  assert.is(formatDouble(0), "0");
  assert.is(formatDouble(-0), "0");
  assert.is(formatDouble(5e-324), "5e-324");
  assert.is(formatDouble(-5e-324), "-5e-324");
  assert.is(formatDouble(1.7976931348623157e308), "1.7976931348623157e+308");
  assert.is(formatDouble(0.1 + 0.2), "0.30000000000000004");
  assert.is(formatDouble(1e21), "1e+21");
  assert.is(formatDouble(123456789012345680000), "123456789012345680000");
  assert.is(formatDouble(1e-7), "1e-7");
  assert.is(formatDouble(0.000001), "0.000001");
  assert.is(formatDouble(-1.5e-7), "-1.5e-7");
  assert.is(formatDouble(72057594037928600), "72057594037928600"); // lower end of an even double's interval
  for (const bad of [NaN, Infinity, -Infinity]) {
    const error = (() => {
      try {
        formatDouble(bad);
      } catch (e) {
        return e;
      }
    })();
    assert.instance(error, CanonicalJsonError);
    assert.is((error as CanonicalJsonError).code, "NON_FINITE_NUMBER");
  }
  assert.throws(() => formatDouble("1" as unknown as number), (e: unknown) => e instanceof InvalidTypeError && e.code === "INVALID_TYPE");
  // The raw hook writes String(x) for non-finite values too, and never more than 25 bytes.
  for (const x of [NaN, Infinity, -Infinity, -2.2250738585072014e-308, -1.2345678901234567e-7, -0.0000012345678901234567]) {
    assert.ok(formatsLikeString(x), String(x));
    assert.ok(core().format_f64(x) <= 25);
  }
});

test("1,000,000 uniformly random finite bit patterns", () => {
  const next = makeRandom(SEED);
  function* values(): Generator<number> {
    let produced = 0;
    while (produced < 1_000_000) {
      const x = fromWords(next(), next());
      if (!Number.isFinite(x)) continue;
      produced++;
      yield x;
    }
  }
  checkAll("uniform bits", values(), 1_000_000);
});

test("decimal-looking values: k / 10^j, short digit strings at every exponent", () => {
  const next = makeRandom(SEED ^ 0x1234567);
  function* values(): Generator<number> {
    for (let i = 0; i < scaled(100_000); i++) {
      const digits = 1 + (next() % 17);
      const k = Math.floor((next() / 2 ** 32) * 10 ** digits);
      yield k / 10 ** (next() % 23);
      yield (k * 10 ** (next() % 8)) / 10 ** (next() % 23);
    }
    for (let i = 0; i < scaled(100_000); i++) {
      const digits = String(1 + (next() % 999_999)).padStart(1 + (next() % 6), "0");
      const exponent = (next() % 650) - 330;
      yield Number(`${digits}e${exponent}`);
      yield Number(`0.${digits}e${exponent}`);
    }
  }
  checkAll("decimal-looking", values(), 400_000);
});

test("integers near 2^53, 2^64 and 1e21, and the 1e21 / 1e-7 layout switch points", () => {
  function* values(): Generator<number> {
    for (const centre of [2 ** 53, 2 ** 54, 2 ** 63, 2 ** 64, 1e15, 1e16, 1e17, 1e20, 1e21, 1e22, 1e23, 1e-6, 1e-7]) {
      yield* neighbours(centre, 2000);
    }
    for (let i = -5000; i <= 5000; i++) yield 2 ** 53 + i;
  }
  checkAll("integers", values(), 30_000);
});

test("subnormals, the normal/subnormal boundary, powers of two and powers of ten 1e-330..1e308 with neighbours", () => {
  const next = makeRandom(SEED ^ 0x7654321);
  function* values(): Generator<number> {
    for (let c = 1; c <= 20_000; c++) yield fromWords(0, c);
    for (let i = 0; i < scaled(100_000); i++) yield fromWords(next() & 0xfffff, next());
    yield* neighbours(2.2250738585072014e-308, 5000);
    for (let e = -1074; e <= 1023; e++) yield* neighbours(2 ** e, 3);
    for (let e = -330; e <= 308; e++) {
      const p = Number(`1e${e}`);
      if (p > 0) yield* neighbours(p, 20);
    }
  }
  checkAll("boundaries", values(), 150_000);
});

test("doubles whose rounding-interval end is exactly a short decimal (closed interval when even)", () => {
  // v = c * 2^q with (2c -+ 1) * 2^(q-1) divisible by 10^m: ECMAScript may answer with that end
  // itself (the interval is closed for even c), so exactness of the scaled ends matters.
  const next = makeRandom(SEED ^ 0x5a5a5a5);
  const randomBig = (limit: bigint): bigint => ((BigInt(next()) << 32n) | BigInt(next())) % limit;
  function* values(): Generator<number> {
    let produced = 0;
    while (produced < 50_000) {
      const q = 1 + (next() % 90);
      const power = 5n ** BigInt(next() % (Math.min(q - 1, 22) + 1));
      let end = (2n ** 53n / power + randomBig(2n ** 53n / power)) * power;
      if (end % 2n === 0n) end += power; // odd multiple of 5^m in [2^53, 2^54)
      const c = (end + (next() & 1 ? 1n : -1n)) / 2n;
      if (c < 2n ** 52n || c >= 2n ** 53n) continue;
      produced++;
      yield Number(c << BigInt(q));
    }
  }
  checkAll("interval ends", values(), 50_000);
});

test.run();
