// Binary64 -> decimal text for RFC 8785 canonical JSON, without allocation.
//
// writeDouble: the ECMAScript Number::toString form (ECMA-262 §6.1.6.1.20, which RFC 8785
//   §3.2.2.3 adopts) of a double: the shortest decimal that rounds back to the double, the one
//   closest to it when several are shortest (even digit on a tie, ECMA-262 note 2 of that
//   section), laid out as integer / fixed / exponential text. The shortest digits come from the
//   Schubfach method (R. Giulietti, "The Schubfach way to render doubles", 2020): scale the
//   rounding interval by 10^-k with a 128-bit power of ten, then the shortest candidate is either
//   a multiple of ten next to the value or one of the two integers around it.
//
// The 128-bit powers of ten are generated (pow10-table.ts, scripts/gen-pow10.ts); the helpers
// shared with the parser live in number-common.ts.
import { ioBase, ensureIoCapacity } from "../memory";
import { POW10_EXACT_MAX } from "./pow10-table";
import { MANTISSA_MASK, HIDDEN_BIT, POW10_U64, BIG_A, pow10High, pow10Low, floorLog2Pow10, floorLog10Pow2, floorLog10ThreeQuartersPow2, mul64x128, product2, product1, product0, bigSet, compareDecimalWithBinary } from "./number-common";

/** "00" "01" .. "99": two ASCII digits per entry, so digits are written two at a time. */
const DIGIT_PAIRS: usize = memory.data<u8>([
  48,48, 48,49, 48,50, 48,51, 48,52, 48,53, 48,54, 48,55, 48,56, 48,57,
  49,48, 49,49, 49,50, 49,51, 49,52, 49,53, 49,54, 49,55, 49,56, 49,57,
  50,48, 50,49, 50,50, 50,51, 50,52, 50,53, 50,54, 50,55, 50,56, 50,57,
  51,48, 51,49, 51,50, 51,51, 51,52, 51,53, 51,54, 51,55, 51,56, 51,57,
  52,48, 52,49, 52,50, 52,51, 52,52, 52,53, 52,54, 52,55, 52,56, 52,57,
  53,48, 53,49, 53,50, 53,51, 53,52, 53,53, 53,54, 53,55, 53,56, 53,57,
  54,48, 54,49, 54,50, 54,51, 54,52, 54,53, 54,54, 54,55, 54,56, 54,57,
  55,48, 55,49, 55,50, 55,51, 55,52, 55,53, 55,54, 55,55, 55,56, 55,57,
  56,48, 56,49, 56,50, 56,51, 56,52, 56,53, 56,54, 56,55, 56,56, 56,57,
  57,48, 57,49, 57,50, 57,51, 57,52, 57,53, 57,54, 57,55, 57,56, 57,57,
]);

// ---------------------------------------------------------------------------------------------
// Formatting: shortest digits (Schubfach), then the ECMAScript layout
// ---------------------------------------------------------------------------------------------

const EXPONENT_MASK: u64 = 0x7ff0000000000000;
const CHAR_0: u8 = 0x30;

// Result of shortestDecimal: the double equals-after-rounding  decimalDigits * 10^decimalExponent.
let decimalDigits: u64 = 0;
let decimalExponent: i32 = 0;

// Exactness flag set by scaledFloor next to the floor it returns.
let scaledIsInteger: bool = false;

/**
 * floor(X) for X = x * 2^q * 10^-k, given the 192-bit product P = x * T, where T is the
 * truncated table entry for 10^-k and X = x * beta / 2^fractionBits with beta in [T, T + 1).
 * So X * 2^fractionBits lies in [P, P + x), and P + x < 2^192 never overflows here
 * (x < 2^55, T < 2^128).
 *
 * Sets `scaledIsInteger`. Schubfach compares X with integers, so both the floor and the
 * integer-ness must be exact, including when the interval [P, P + x) straddles an integer:
 *  - an exact entry (10^j for j in [0, 55]) means beta == T, so P is exact;
 *  - otherwise X can be an integer only for k in [1, 23] and 5^k | x (X = x * 2^(q-k) / 5^k,
 *    q >= k there; for k < 0 the entry is exact or 2^(k-q) would have to divide x < 2^55);
 *  - any other straddle is settled by an exact big-integer comparison. Schubfach's paper
 *    proves that X is never that close to an integer, so this branch is a safety net.
 */
// @ts-ignore: decorator
@inline
function scaledFloor(p2: u64, p1: u64, p0: u64, x: u64, fractionBits: i32, exactEntry: bool, k: i32, q: i32): u64 {
  const split = fractionBits - 64; // 60..63
  const floorValue = (p2 << (64 - split)) | (p1 >> split);
  const fractionMask = ((<u64>1) << split) - 1;
  const fractionHigh = p1 & fractionMask;
  if (exactEntry) {
    scaledIsInteger = (fractionHigh | p0) == 0;
    return floorValue;
  }
  // Safe unless fraction + x > 2^fractionBits, i.e. the fraction's high word is all ones and
  // its low word exceeds 2^64 - x.
  if (fractionHigh != fractionMask || p0 <= <u64>0 - x) {
    scaledIsInteger = false;
    return floorValue;
  }
  const next = floorValue + 1;
  if (k >= 1 && k <= 23) {
    let pow5: u64 = 1;
    for (let i = 0; i < k; i++) pow5 *= 5;
    if (x % pow5 == 0) {
      scaledIsInteger = true;
      return next;
    }
  }
  // sign(next * 10^k - x * 2^q): negative means X > next.
  const sign = compareDecimalWithBinary(bigSet(BIG_A, next), k, x, q);
  scaledIsInteger = sign == 0;
  return sign <= 0 ? next : floorValue;
}

/**
 * Shortest decimal for a positive finite double given by its bits (Schubfach).
 *
 * v = c * 2^q. Its rounding interval is [(c - 1/2) 2^q, (c + 1/2) 2^q], or with lower end
 * (c - 1/4) 2^q at the bottom of a binade (c = 2^52, where the spacing below halves); the ends
 * belong to it iff c is even (round-half-even reading). k is chosen so that the interval
 * scaled by 10^-k is between 1 and 10 wide; then (values scaled by 4 * 10^-k, kept as
 * floor + integer flag):
 *   1. at most one multiple of 10 can lie in the interval: if one does, it is the unique
 *      shortest candidate (the one just below or just above v);
 *   2. otherwise the shortest have the length of s = floor(v * 10^-k); of those, s or s + 1 is
 *      closest to v; take the one in the interval, or the closer one, or the even one on a tie.
 */
function shortestDecimal(bits: u64): void {
  const biasedExponent = <i32>(bits >> 52);
  const fraction = bits & MANTISSA_MASK;
  let c: u64;
  let q: i32;
  let k: i32;
  let lowerIsQuarter = false;
  if (biasedExponent == 0) {
    c = fraction;
    q = -1074;
    k = floorLog10Pow2(q);
  } else {
    c = fraction | HIDDEN_BIT;
    q = biasedExponent - 1075;
    lowerIsQuarter = fraction == 0 && biasedExponent > 1;
    k = lowerIsQuarter ? floorLog10ThreeQuartersPow2(q) : floorLog10Pow2(q);
  }
  const j = -k; // in [-292, 324]
  // 10^j = T * 2^(floorLog2Pow10(j) - 127), so X = x * 2^q * 10^-k = x * T / 2^(127 - h), h in [0, 3].
  const fractionBits = 127 - (q + floorLog2Pow10(j));
  const tHigh = pow10High(j);
  const tLow = pow10Low(j);
  const exactEntry = j >= 0 && j <= POW10_EXACT_MAX;

  const cb = c << 2; // v scaled by 4
  mul64x128(cb, tHigh, tLow);
  const m2 = product2;
  const m1 = product1;
  const m0 = product0;

  // Upper end: (cb + 2) * T = P + 2T.
  const twoTLow = tLow << 1;
  const twoTHigh = (tHigh << 1) | (tLow >> 63);
  const twoTTop = tHigh >> 63;
  let r0 = m0 + twoTLow;
  let carry = <u64>(r0 < twoTLow);
  let r1 = m1 + twoTHigh;
  let carry1 = <u64>(r1 < twoTHigh);
  r1 += carry;
  carry1 += <u64>(r1 < carry);
  const r2 = m2 + twoTTop + carry1;

  // Lower end: (cb - 2) * T = P - 2T, or (cb - 1) * T = P - T at the bottom of a binade.
  const dLow = lowerIsQuarter ? tLow : twoTLow;
  const dHigh = lowerIsQuarter ? tHigh : twoTHigh;
  const dTop = lowerIsQuarter ? 0 : twoTTop;
  const l0 = m0 - dLow;
  let borrow = <u64>(m0 < dLow);
  let l1 = m1 - dHigh;
  let borrow1 = <u64>(m1 < dHigh);
  borrow1 += <u64>(l1 < borrow);
  l1 -= borrow;
  const l2 = m2 - dTop - borrow1;

  const floorMid = scaledFloor(m2, m1, m0, cb, fractionBits, exactEntry, k, q);
  const midIsInteger = scaledIsInteger;
  const floorUpper = scaledFloor(r2, r1, r0, cb + 2, fractionBits, exactEntry, k, q);
  const upperIsInteger = scaledIsInteger;
  const floorLower = scaledFloor(l2, l1, l0, lowerIsQuarter ? cb - 1 : cb - 2, fractionBits, exactEntry, k, q);
  const lowerIsInteger = scaledIsInteger;

  const even = (c & 1) == 0;
  const s = floorMid >> 2;

  // Step 1: the multiples of ten around v (in units of 10^k).
  const below10 = (s / 10) * 10;
  if (admitsFromBelow(below10 << 2, floorLower, lowerIsInteger, even)) {
    decimalDigits = below10;
    decimalExponent = k;
    return;
  }
  const above10 = below10 + 10;
  if (admitsFromAbove(above10 << 2, floorUpper, upperIsInteger, even)) {
    decimalDigits = above10;
    decimalExponent = k;
    return;
  }
  // Step 2: s or s + 1.
  decimalExponent = k;
  const t = s + 1;
  const sInside = admitsFromBelow(s << 2, floorLower, lowerIsInteger, even);
  const tInside = admitsFromAbove(t << 2, floorUpper, upperIsInteger, even);
  if (sInside && tInside) {
    const midpoint = (s << 2) + 2; // s + 1/2, scaled by 4
    if (floorMid < midpoint) decimalDigits = s;
    else if (floorMid > midpoint || !midIsInteger) decimalDigits = t;
    else decimalDigits = (s & 1) == 0 ? s : t; // exact tie: the even one (ECMA-262 note 2)
  } else {
    decimalDigits = sInside ? s : t;
  }
}

/** True if the candidate `scaled` (a multiple of 4) is not below the interval's lower end. */
// @ts-ignore: decorator
@inline
function admitsFromBelow(scaled: u64, floorLower: u64, lowerIsInteger: bool, closed: bool): bool {
  return floorLower < scaled || (closed && lowerIsInteger && floorLower == scaled);
}

/** True if the candidate `scaled` (a multiple of 4) is not above the interval's upper end. */
// @ts-ignore: decorator
@inline
function admitsFromAbove(scaled: u64, floorUpper: u64, upperIsInteger: bool, closed: bool): bool {
  return scaled < floorUpper || (scaled == floorUpper && (closed || !upperIsInteger));
}

/** Number of decimal digits of value (value < 10^19). */
// @ts-ignore: decorator
@inline
function decimalLength(value: u64): i32 {
  // log10 estimate from the bit length (1233/4096 ~ log10 2), then one correction.
  const estimate = ((64 - <i32>clz<u64>(value | 1)) * 1233) >> 12;
  return estimate + 1 - <i32>(value < load<u64>(POW10_U64 + (<usize>estimate << 3)));
}

/** Writes the two ASCII digits of pair (< 100) at p. */
// @ts-ignore: decorator
@inline
function writePair(p: usize, pair: u32): void {
  store<u16>(p, load<u16>(DIGIT_PAIRS + (<usize>pair << 1)));
}

/**
 * Writes exactly `count` decimal digits of value (zero-padded) ending at end; value < 10^count
 * and value < 10^17. One u64 division splits off the low eight digits; the rest is u32 work,
 * which engines turn into multiplications.
 */
function writeDigitsBefore(value: u64, end: usize, count: i32): void {
  let p = end;
  let remaining = count;
  if (value > 0xffffffff) {
    const high = value / 100000000;
    const low = <u32>(value - high * 100000000);
    const lowHigh = low / 10000;
    const lowLow = low - lowHigh * 10000;
    writePair(p - 2, lowLow % 100);
    writePair(p - 4, lowLow / 100);
    writePair(p - 6, lowHigh % 100);
    writePair(p - 8, lowHigh / 100);
    p -= 8;
    remaining -= 8;
    value = high; // < 10^9
  }
  let small = <u32>value;
  while (remaining >= 2) {
    const next = small / 100;
    p -= 2;
    writePair(p, small - next * 100);
    small = next;
    remaining -= 2;
  }
  if (remaining > 0) store<u8>(p - 1, <u8>(CHAR_0 + small));
}

/** Divides decimalDigits by 10 while it ends in a zero, adding one to decimalExponent each time. */
function removeTrailingZeros(): void {
  let digits = decimalDigits;
  if (digits == 0) return; // not produced by shortestDecimal; guards the loops below
  if (digits > 0xffffffff) {
    // digits < 10^17: split off eight digits; if they are not all zero, the zeros are among them.
    const high = digits / 100000000;
    let low = <u32>(digits - high * 100000000);
    if (low != 0) {
      let zeros = 0;
      while (low % 10 == 0) {
        low /= 10;
        zeros++;
      }
      if (zeros != 0) {
        decimalDigits = high * load<u64>(POW10_U64 + (<usize>(8 - zeros) << 3)) + low;
        decimalExponent += zeros;
      }
      return;
    }
    digits = high; // < 10^9
    decimalExponent += 8;
  }
  let small = <u32>digits;
  while (small % 10 == 0) {
    small /= 10;
    decimalExponent++;
  }
  decimalDigits = small;
}

/**
 * Lays out digits * 10^exponent (digits without trailing zeros) as ECMA-262 Number::toString
 * step 6-12: with n digits and point position P = exponent + n,
 *   n <= P <= 21    digits then P - n zeros            123000
 *   0 < P <= 21     digits with a point after P        1.25
 *   -6 < P <= 0     "0." then -P zeros then digits     0.00125
 *   otherwise       d[.ddd]e(+|-)(P - 1)               1.25e+21, 5e-324
 * Returns the number of bytes written at out.
 */
function layoutDecimal(out: usize, digits: u64, exponent: i32): usize {
  const n = decimalLength(digits);
  const point = exponent + n;
  if (n <= point && point <= 21) {
    writeDigitsBefore(digits, out + n, n);
    for (let i = n; i < point; i++) store<u8>(out + i, CHAR_0);
    return <usize>point;
  }
  if (0 < point && point <= 21) {
    // Write the digits one byte to the right, slide the integer part left, put the point in.
    // (A byte loop: at most 21 bytes, cheaper than the engine's memory.copy call.)
    writeDigitsBefore(digits, out + 1 + n, n);
    for (let i = 0; i < point; i++) store<u8>(out + i, load<u8>(out + i + 1));
    store<u8>(out + point, 0x2e);
    return <usize>(n + 1);
  }
  if (-6 < point && point <= 0) {
    store<u8>(out, CHAR_0);
    store<u8>(out + 1, 0x2e);
    const zeros = -point;
    for (let i = 0; i < zeros; i++) store<u8>(out + 2 + i, CHAR_0);
    writeDigitsBefore(digits, out + 2 + zeros + n, n);
    return <usize>(2 + zeros + n);
  }
  // Exponential form: first digit, then ".rest" if there is a rest.
  writeDigitsBefore(digits, out + 1 + n, n);
  let length: usize = 1;
  store<u8>(out, load<u8>(out + 1));
  if (n > 1) {
    store<u8>(out + 1, 0x2e);
    length = <usize>(n + 1);
  }
  let e = point - 1;
  store<u8>(out + length, 0x65); // e
  store<u8>(out + length + 1, e < 0 ? 0x2d : 0x2b);
  length += 2;
  if (e < 0) e = -e;
  const eDigits = e >= 100 ? 3 : e >= 10 ? 2 : 1;
  writeDigitsBefore(<u64>e, out + length + eDigits, eDigits);
  return length + eDigits;
}

/** Writes "NaN", "Infinity" or "-Infinity" (String(x) for non-finite x; callers reject those first). */
function writeNonFinite(bits: u64, out: usize): usize {
  if ((bits & MANTISSA_MASK) != 0) {
    store<u8>(out, 0x4e); // N
    store<u8>(out + 1, 0x61); // a
    store<u8>(out + 2, 0x4e); // N
    return 3;
  }
  let p = out;
  if ((bits >> 63) != 0) {
    store<u8>(p, 0x2d);
    p++;
  }
  // "Infinity"
  store<u64>(p, 0x7974696e69666e49);
  return p + 8 - out;
}

/**
 * Writes the ECMAScript String(value) form of a finite double at `out` as ASCII and returns the
 * number of bytes written (at most 25: "-" + 17 digits + "." + "e-308" style exponent, or
 * "-0.00000" + 17 digits). -0 is written as "0". (NaN and ±Infinity are written as String()
 * would, though JSON has no such numbers and callers reject them.)
 */
export function writeDouble(value: f64, out: usize): usize {
  let bits = reinterpret<u64>(value);
  if ((bits & EXPONENT_MASK) == EXPONENT_MASK) return writeNonFinite(bits, out);
  if ((bits << 1) == 0) {
    store<u8>(out, CHAR_0); // 0 and -0 both print as "0"
    return 1;
  }
  let p = out;
  if ((bits >> 63) != 0) {
    store<u8>(p, 0x2d);
    p++;
    bits &= ~(<u64>1 << 63);
  }
  const magnitude = reinterpret<f64>(bits);
  // Integers below 2^53: the shortest digits are the integer itself (the rounding interval is
  // at most 1 wide, so no shorter decimal fits), and n <= 16 <= 21 means plain digits.
  if (magnitude < 9007199254740992.0 && magnitude == Math.floor(magnitude)) {
    const integer = <u64>magnitude;
    const n = decimalLength(integer);
    writeDigitsBefore(integer, p + n, n);
    return p + n - out;
  }
  shortestDecimal(bits);
  removeTrailingZeros();
  return p + layoutDecimal(p, decimalDigits, decimalExponent) - out;
}

// ---------------------------------------------------------------------------------------------
// Test hooks (exported from assembly/index.ts): I/O through the arena at ioBase().
// ---------------------------------------------------------------------------------------------

/** Writes String(value) at ioBase() and returns its length in bytes. */
export function format_f64(value: f64): u32 {
  if (!ensureIoCapacity(32)) return 0;
  return <u32>writeDouble(value, ioBase());
}
