// parseDouble (assembly/json/number-parse.ts) against JavaScript's Number(text), which rounds decimal
// literals to the nearest double, ties to even. The hard cases are built exactly with BigInt:
// midpoints between adjacent doubles (and values a hair above or below them), the subnormal
// and overflow boundaries, and inputs with hundreds of digits.
//
// Random inputs come from a seeded generator (test/helpers/doubles.ts); set CHIO_TEST_SEED to replay a failing run.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { parseDoubleLiteral, parseLiteralUnchecked } from "../helpers/number-hooks.js";
import { CanonicalJsonError, InvalidTypeError } from "../../src/errors.js";
import { SEED, makeRandom, fromWords, fromBits, toBits } from "../helpers/doubles.js";
import { scaled } from "../helpers/scale.js";

/** Parses `text` in wasm through the raw hook (no grammar check) and compares with Number(text). */
function parsesLikeNumber(text: string): boolean {
  return Object.is(parseLiteralUnchecked(text), Number(text));
}

function abbreviate(text: string): string {
  return text.length <= 90 ? text : `${text.slice(0, 50)}…${text.slice(-30)} (${text.length} chars)`;
}

/** Runs every literal through parsesLikeNumber; fails with the first few mismatches. */
function checkAll(label: string, literals: Iterable<string>, minimumCount: number): number {
  let count = 0;
  const failures: string[] = [];
  for (const text of literals) {
    count++;
    if (!parsesLikeNumber(text) && failures.length < 5) {
      failures.push(`${label}: ${abbreviate(text)}: got ${parseDoubleLiteral(text)}, Number() = ${Number(text)}`);
    }
  }
  assert.ok(failures.length === 0, `seed ${SEED}\n${failures.join("\n")}`);
  assert.ok(count >= minimumCount, `${label}: only ${count} literals`);
  return count;
}

/** Exact decimal text of digits * 10^-scale (digits >= 0), in plain JSON notation. */
function decimalText(digits: bigint, scale: number): string {
  const s = digits.toString();
  if (scale <= 0) return s + "0".repeat(-scale);
  const point = s.length - scale;
  return point > 0 ? `${s.slice(0, point)}.${s.slice(point)}` : `0.${"0".repeat(-point)}${s}`;
}

/** Exact midpoint between the positive finite double with these bits and the next one up, as text. */
function midpointText(bits: bigint): string {
  const biased = Number(bits >> 52n);
  const fraction = bits & ((1n << 52n) - 1n);
  const m = biased === 0 ? fraction : fraction | (1n << 52n);
  const e = biased === 0 ? -1074 : biased - 1075;
  const odd = 2n * m + 1n; // midpoint = odd * 2^(e-1)
  const f = e - 1;
  return f >= 0 ? (odd << BigInt(f)).toString() : decimalText(odd * 5n ** BigInt(-f), -f);
}

/** Text of the decimal one unit in the last place below a (positive) decimal text's value. */
function justBelow(text: string): string {
  const point = text.indexOf(".");
  const scale = point < 0 ? 0 : text.length - point - 1;
  const digits = BigInt(text.replace(".", ""));
  return decimalText(digits * 10n - 1n, scale + 1); // one more digit: ...d9
}

test("round trip: String(x) of 300,000 random doubles", () => {
  const next = makeRandom(SEED);
  function* literals(): Generator<string> {
    let produced = 0;
    while (produced < 300_000) {
      const x = fromWords(next(), next());
      if (!Number.isFinite(x)) continue;
      produced++;
      const text = String(x);
      // String() may use exponent and "+" forms JSON also allows; Object.is keeps the sign of -0.
      yield text;
    }
  }
  checkAll("round trip", literals(), 300_000);
});

test("random digit strings (1-40 digits, random point) with random exponents", () => {
  const next = makeRandom(SEED ^ 0x1111);
  function digitString(length: number): string {
    let s = String(1 + (next() % 9));
    while (s.length < length) s += String(next() % 10).repeat(1 + (next() % 3 === 0 ? next() % 6 : 0));
    return s.slice(0, length);
  }
  function* literals(): Generator<string> {
    for (let i = 0; i < scaled(350_000); i++) {
      const length = i % 2 === 0 ? 17 + (next() % 24) : 1 + (next() % 40); // half with 17-40 digits
      const digits = digitString(length);
      const point = next() % (length + 1);
      const mantissa = point === 0 || point === length ? digits : `${digits.slice(0, point)}.${digits.slice(point)}`;
      const exponent = (next() % 700) - 360;
      const sign = next() & 1 ? "-" : "";
      const form = next() & 3; // e, E, explicit "+", or no exponent at all
      const exponentText =
        form === 0 ? `e${exponent}` : form === 1 ? `E${exponent}` : form === 2 ? (exponent < 0 ? `e${exponent}` : `e+${exponent}`) : "";
      yield `${sign}${mantissa}${exponentText}`;
      // The same digits as 0.ddd with an exponent that lands in the normal range.
      yield `${sign}0.${digits}e${(next() % 616) - 307}`;
    }
  }
  checkAll("digit strings", literals(), 700_000);
});

test("midpoints between adjacent doubles, and values just above and below them", () => {
  const next = makeRandom(SEED ^ 0x2222);
  function* literals(): Generator<string> {
    for (let i = 0; i < 12_000; i++) {
      // Every third sample from the subnormal range, the rest from all finite doubles.
      const high = i % 3 === 0 ? next() & 0xfffff : next() & 0x7fefffff;
      const bits = toBits(fromWords(high, next()));
      const mid = midpointText(bits);
      yield mid;
      yield justBelow(mid);
      yield `${mid}${mid.includes(".") ? "" : ".0"}00000000000000000000000000001`;
      if (i % 8 === 0) yield `-${mid}e0`;
    }
  }
  checkAll("midpoints", literals(), 37_000);
});

test("near the subnormal boundary, the smallest subnormal, and overflow", () => {
  const next = makeRandom(SEED ^ 0x3333);
  const anchors = [
    midpointText(0n), // 2^-1075: half the smallest subnormal (rounds to 0, ties to even)
    midpointText(1n),
    midpointText(0x000fffffffffffffn), // just below the smallest normal
    midpointText(0x0010000000000000n),
    midpointText(0x7fefffffffffffffn), // between the largest double and "2^1024": overflow threshold
    midpointText(0x7feffffffffffffen),
    "2.2250738585072014e-308",
    "2.2250738585072011e-308",
    "4.9406564584124654e-324",
    "1.7976931348623157e308",
    "1.7976931348623158e308",
  ];
  function* literals(): Generator<string> {
    for (const anchor of anchors) {
      yield anchor;
      if (/^[0-9.]+$/.test(anchor)) yield justBelow(anchor);
      yield `${anchor}${anchor.includes(".") || anchor.includes("e") ? "" : ".0"}000000000000000000000000000000000001`;
    }
    // Random 17-40 digit literals within a few ulps of each boundary.
    for (let i = 0; i < scaled(60_000); i++) {
      const anchor = anchors[next() % anchors.length];
      const x = Number(anchor);
      const bits = x === 0 ? 0n : toBits(x);
      const near = fromBits(bits + BigInt((next() % 7) - 3));
      const base = Number.isFinite(near) && near > 0 ? near : x;
      if (!(base > 0) || !Number.isFinite(base)) continue;
      const digits = 17 + (next() % 24);
      const [m, e] = base.toExponential(Math.min(digits - 1, 100)).split("e");
      let mantissa = m;
      while (mantissa.replace(".", "").length < digits) mantissa += String(next() % 10);
      yield `${mantissa}e${e}`;
    }
  }
  checkAll("boundaries", literals(), 50_000);
});

test("long inputs: hundreds of digits, leading zeros, a nonzero digit past the 800th, huge exponents", () => {
  const next = makeRandom(SEED ^ 0x4444);
  const randomDigits = (n: number): string => {
    let s = "";
    while (s.length < n) s += String(next() % 1_000_000_000).padStart(9, "0");
    return s.slice(0, n);
  };
  function* literals(): Generator<string> {
    for (let i = 0; i < 4_000; i++) {
      const length = 100 + (next() % 1100);
      const digits = String(1 + (next() % 9)) + randomDigits(length - 1);
      yield `${digits}e${(next() % 660) - 330 - length}`;
      yield `0.${"0".repeat(next() % 400)}${digits}e${(next() % 600) - 50}`;
      yield `${digits.slice(0, 3)}.${digits.slice(3)}e${(next() % 600) - 300}`;
    }
    // A midpoint followed by zeros up to and past the 800-digit window, then a 1.
    for (let i = 0; i < 1_000; i++) {
      const mid = midpointText(toBits(fromWords(next() & 0x7fefffff, next())));
      const digitsInMid = mid.replace(".", "").replace(/^0+/, "").length;
      const pad = Math.max(0, 790 - digitsInMid) + (next() % 30);
      const tail = `${"0".repeat(pad)}1`;
      yield mid.includes(".") ? `${mid}${tail}` : `${mid}.${tail}`;
      yield mid.includes(".") ? `${mid}${"0".repeat(pad + 1)}` : `${mid}.${"0".repeat(pad + 1)}`;
    }
    for (const text of [
      "0", "-0", "0.0", "-0.0e-5", "0e999999999999", "-0e-999999999999", "0.000000000000000000000000000000e100",
      "1e999999999999", "-1e999999999999", "1e-999999999999", "-1e-999999999999",
      "1E+18446744073709551616", "1e-18446744073709551616", "123456789e-99999999999999999999",
      `0.${"0".repeat(5000)}1e5000`, `1${"0".repeat(5000)}e-5000`, `${"9".repeat(1000)}e-1000`,
      `${"9".repeat(310)}`, `-${"9".repeat(309)}`, `1${"0".repeat(308)}`, `1${"0".repeat(309)}`,
      "9007199254740993", "9007199254740993.0000000000000000000000000001", "9007199254740992.9999999999999999999999999",
      "1e23", "8.98846567431158e307", "0.1", "1.5", "-2.5e-3", "123.456e2", "1e22", "1e-22", "4.35", "0.3",
    ]) {
      yield text;
    }
  }
  checkAll("long inputs", literals(), 14_000);
});

test("mantissas at the edge of the exact one-operation path (w near 2^53 with |q| ≤ 37), and decimal exponents at the table's lower end", () => {
  // Guards two cut-offs that random literals rarely hit exactly. Clinger's path is exact only for
  // w ≤ 2^53: w just above it is rounded once to a double and again by the multiply or divide
  // (double rounding), so a bound of 2^54 gives wrong last bits for some w * 10^q. And at the
  // smallest decimal exponent the table holds (w * 10^-342 with a 19-digit w is ~1e-323, still a
  // subnormal), a cut-off one too early returns 0.
  const next = makeRandom(SEED ^ 0x6666);
  const twoTo53 = 2n ** 53n;
  function* literals(): Generator<string> {
    for (let q = -22; q <= 37; q++) {
      for (let d = -4n; d <= 300n; d++) yield `${twoTo53 + d}e${q}`;
      for (let i = 0; i < 300; i++) {
        const w = twoTo53 + BigInt(next() % 2 ** 26) * 2n ** 27n + BigInt(next() % 2 ** 27); // in (2^53, 2^54)
        yield `${w}e${q}`;
        yield `-${w.toString().slice(0, 10)}.${w.toString().slice(10)}e${q + 6}`;
      }
    }
    for (let exponent = -345; exponent <= -320; exponent++) {
      for (const digits of ["1", "5", "9999999999999999999", "4940656458412465442", "2470328229206232720", "2470328229206232721"]) yield `${digits}e${exponent}`;
      for (let i = 0; i < 50; i++) yield `${String(1 + (next() % 9))}${String(next()).padStart(9, "0")}${String(next()).padStart(9, "0")}e${exponent}`;
    }
  }
  checkAll("edges", literals(), 55_000);
});

test("raw hook on 50,000 malformed spans: never traps, always returns a number", () => {
  // parseDouble's contract is grammar-valid input; anything else must still be harmless.
  const next = makeRandom(SEED ^ 0x5555);
  const alphabet = "0123456789012345678900.eE+-x \u0000";
  for (let i = 0; i < scaled(50_000); i++) {
    let text = "";
    const length = next() % (i % 100 === 0 ? 2000 : 30);
    for (let k = 0; k < length; k++) text += alphabet[next() % alphabet.length];
    const value = parseLiteralUnchecked(text);
    assert.type(value, "number", JSON.stringify(text));
  }
});

test("parseDoubleLiteral: grammar check and typed errors", () => {
  assert.is(parseDoubleLiteral("1e23"), 1e23);
  assert.ok(Object.is(parseDoubleLiteral("-0"), -0));
  assert.is(parseDoubleLiteral("1e400"), Infinity);
  assert.is(parseDoubleLiteral("-1e400"), -Infinity);
  for (const bad of ["", "-", "01", "1.", ".5", "+1", "1e", "1e+", "0x10", "NaN", "Infinity", " 1", "1 ", "1.2.3", "١"]) {
    assert.throws(
      () => parseDoubleLiteral(bad),
      (e: unknown) => e instanceof CanonicalJsonError && e.code === "INVALID_JSON",
      JSON.stringify(bad),
    );
  }
  assert.throws(() => parseDoubleLiteral(1 as unknown as string), (e: unknown) => e instanceof InvalidTypeError);
});

test.run();
