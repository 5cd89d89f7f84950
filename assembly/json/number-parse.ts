// JSON number literal -> binary64 for RFC 8785 canonical JSON, without allocation.
//
// parseDouble: the correctly rounded (round-half-even) double of a JSON number literal, i.e.
//   what JavaScript's Number(text) / JSON.parse give. Three tiers:
//   1. Clinger's exact fast path (W. D. Clinger, "How to read floating point numbers
//      accurately", PLDI 1990): a mantissa below 2^53 times an exactly representable power of
//      ten is one correctly rounded IEEE multiply or divide.
//   2. A 64x128-bit product with the same power-of-ten table, in the spirit of Eisel-Lemire
//      (D. Lemire, "Number parsing at a gigabyte per second", Software: Practice and Experience
//      51(8), 2021): the exact value lies in a known interval [low, high]; if both ends round to
//      the same double, that double is the answer (rounding is monotone).
//   3. Otherwise the answer is one of two adjacent doubles, and an exact big-integer comparison
//      of the decimal input with their midpoint decides (the idea of Clinger's AlgorithmM/R).
//
// The 128-bit powers of ten are generated (pow10-table.ts, scripts/gen-pow10.ts); the helpers
// shared with the formatter live in number-common.ts.
import { ioBase, ensureIoCapacity } from "../memory";
import { POW10_MIN, POW10_EXACT_MAX } from "./pow10-table";
import { MANTISSA_MASK, HIDDEN_BIT, POW10_U64, BIG_A, pow10High, pow10Low, floorLog2Pow10, mul64x128, product2, product1, product0, bigMulAdd, compareDecimalWithBinary } from "./number-common";

/** 10^0 .. 10^22, every one exactly representable as a double (5^22 < 2^53). */
const EXACT_POW10_F64: usize = memory.data<f64>([
  1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
  1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
]);


// ---------------------------------------------------------------------------------------------
// Parsing: JSON number literal -> correctly rounded double
// ---------------------------------------------------------------------------------------------

/** Significant digits kept in the u64 mantissa (10^19 - 1 < 2^64). */
const MANTISSA_DIGITS: i64 = 19;
/**
 * Significant digits the exact comparison reads. A midpoint between adjacent doubles has at
 * most 767 significant digits and its last digit sits at or above the 800th digit of any input
 * near it, so digits past the 800th only matter through whether any of them is nonzero.
 */
const EXACT_DIGITS: i32 = 800;
/** Exponent digits are accumulated up to this magnitude, then ignored (saturation). */
const EXPONENT_SATURATION: i64 = 100000000000;
const INFINITY_BITS: u64 = 0x7ff0000000000000;

/**
 * Rounds Z * 2^binaryExponent to the nearest double (ties to even) and returns its bits. Z is
 * a 192-bit integer z2:z1:z0 with its top bit at position 190 or 191. Handles subnormal
 * results, overflow to infinity and underflow to zero.
 */
function roundProduct(z2: u64, z1: u64, z0: u64, binaryExponent: i32): u64 {
  const top = 190 + <i32>(z2 >> 63);
  const leading = top + binaryExponent; // value in [2^leading, 2^(leading+1))
  if (leading > 1023) return INFINITY_BITS;
  // Keep 53 bits, or fewer for a subnormal (whose last bit is worth 2^-1074).
  const normal = leading >= -1022;
  const shift = normal ? top - 52 : -1074 - binaryExponent; // >= 138
  const wordShift = shift - 128; // bits dropped from z2; z1 and z0 are always dropped
  let mantissa: u64 = 0;
  let roundBit: u64 = 0;
  let sticky = (z1 | z0) != 0;
  if (wordShift < 64) {
    mantissa = z2 >> wordShift;
    roundBit = (z2 >> (wordShift - 1)) & 1;
    sticky = sticky || (z2 & ((<u64>1 << (wordShift - 1)) - 1)) != 0;
  } else if (wordShift == 64) {
    roundBit = z2 >> 63;
    sticky = sticky || (z2 << 1) != 0;
  }
  if (roundBit != 0 && (sticky || (mantissa & 1) != 0)) mantissa++;
  // A normal mantissa carries the hidden bit, which adds one to the exponent field; a carry out
  // of 53 bits (or out of a subnormal into the smallest normal) lands in the exponent the same way.
  return normal ? (<u64>(leading + 1022) << 52) + mantissa : mantissa;
}

// Normalized mantissa and binary exponent of the last productOfPower call.
let normalizedMantissa: u64 = 0;
let productExponent: i32 = 0;

/** product2:product1:product0 = (w << lz) * T(10^q) with value w * 10^q = Z * 2^productExponent (w != 0). */
function productOfPower(w: u64, q: i32): void {
  const lz = <i32>clz<u64>(w);
  normalizedMantissa = w << lz;
  mul64x128(normalizedMantissa, pow10High(q), pow10Low(q));
  productExponent = floorLog2Pow10(q) - 127 - lz;
}

/**
 * Rounding of the upper end of the product interval: with T <= beta < T + 1 (beta the exact
 * scaled 10^q), w' * beta lies in [Z, Z + w'), so Z + w' bounds it from above.
 */
function roundProductUpper(): u64 {
  const z0 = product0 + normalizedMantissa;
  const c0 = <u64>(z0 < normalizedMantissa);
  const z1 = product1 + c0;
  const z2 = product2 + <u64>(z1 < c0);
  return roundProduct(z2, z1, z0, productExponent);
}

/**
 * Exact slow path: the answer is `lowerBits` or the next double up; compare the decimal value
 * (its first EXACT_DIGITS significant digits as an integer, times 10^exponent, plus a nonzero
 * tail when `tailNonzero`) with the midpoint between them.
 */
function decideByMidpoint(ptr: usize, end: usize, start: usize, decimalExponentOfAll: i64, significantDigits: i64, lowerBits: u64): u64 {
  // Read up to EXACT_DIGITS significant digits into BIG_A, nine at a time.
  let length = 0;
  let taken = 0;
  let chunk: u32 = 0;
  let chunkDigits = 0;
  let tailNonzero = false;
  let seenNonzero = false;
  for (let i = start; i < end; i++) {
    const d = <u32>load<u8>(ptr + i) - 0x30;
    if (d > 9) {
      if (d == 0x2e - 0x30) continue; // the decimal point
      break; // 'e' or 'E'
    }
    if (!seenNonzero) {
      if (d == 0) continue; // leading zeros are not significant
      seenNonzero = true;
    }
    if (taken < EXACT_DIGITS) {
      chunk = chunk * 10 + d;
      chunkDigits++;
      taken++;
      if (chunkDigits == 9) {
        length = bigMulAdd(BIG_A, length, 1000000000, chunk);
        chunk = 0;
        chunkDigits = 0;
      }
    } else if (d != 0) {
      tailNonzero = true;
      break;
    }
  }
  if (chunkDigits > 0) {
    length = bigMulAdd(BIG_A, length, <u32>load<u64>(POW10_U64 + (<usize>chunkDigits << 3)), chunk);
  }
  // value = N * 10^(exponent of the last digit read) (+ tail)
  const exponent = <i32>(decimalExponentOfAll + (significantDigits - <i64>taken));

  // Midpoint between lowerBits and the next double: (2m + 1) * 2^(e - 1).
  const biased = <i32>(lowerBits >> 52);
  const fraction = lowerBits & MANTISSA_MASK;
  const m = biased == 0 ? fraction : fraction | HIDDEN_BIT;
  const e = biased == 0 ? -1074 : biased - 1075;
  const sign = compareDecimalWithBinary(length, exponent, (m << 1) + 1, e - 1);
  if (sign > 0 || (sign == 0 && tailNonzero)) return lowerBits + 1;
  if (sign < 0) return lowerBits;
  return (lowerBits & 1) == 0 ? lowerBits : lowerBits + 1; // exactly halfway: ties to even
}

/**
 * Returns the double nearest to the JSON number literal at ptr[0..len) (round-half-even), as
 * JavaScript's Number(text) does: ±Infinity when it overflows, ±0 when it underflows.
 * The span must already match the RFC 8259 §6 grammar
 *   -? (0 | [1-9][0-9]*) (\.[0-9]+)? ([eE][+-]?[0-9]+)?
 * Other input never traps or loops, but its result is unspecified.
 */
export function parseDouble(ptr: usize, len: usize): f64 {
  let i: usize = 0;
  let negative = false;
  if (len > 0 && load<u8>(ptr) == 0x2d) {
    negative = true;
    i = 1;
  }
  const digitsStart = i;
  // Significant digits: the first 19 go into w; beyond them only "any nonzero?" is kept.
  let w: u64 = 0;
  let significantDigits: i64 = 0;
  let fractionDigits: i64 = 0;
  let truncatedNonzero = false;
  let inFraction = false;
  for (; i < len; i++) {
    const d = <u32>load<u8>(ptr + i) - 0x30;
    if (d > 9) {
      if (d == 0x2e - 0x30 && !inFraction) {
        inFraction = true;
        continue;
      }
      break;
    }
    if (inFraction) fractionDigits++;
    if (significantDigits == 0 && d == 0) continue;
    if (significantDigits < MANTISSA_DIGITS) w = w * 10 + d;
    else if (d != 0) truncatedNonzero = true;
    significantDigits++;
  }
  const digitsEnd = i;
  let exponent: i64 = 0;
  if (i < len && (load<u8>(ptr + i) | 0x20) == 0x65) {
    i++;
    let exponentNegative = false;
    if (i < len) {
      const sign = load<u8>(ptr + i);
      if (sign == 0x2d || sign == 0x2b) {
        exponentNegative = sign == 0x2d;
        i++;
      }
    }
    for (; i < len; i++) {
      const d = <u32>load<u8>(ptr + i) - 0x30;
      if (d > 9) break;
      if (exponent < EXPONENT_SATURATION) exponent = exponent * 10 + d;
    }
    if (exponentNegative) exponent = -exponent;
  }
  const signBit: u64 = negative ? <u64>1 << 63 : 0;
  if (significantDigits == 0) return reinterpret<f64>(signBit); // ±0

  // value = (all significant digits) * 10^decimalExponentOfAll ~ w * 10^q
  const decimalExponentOfAll = exponent - fractionDigits;
  const kept = significantDigits < MANTISSA_DIGITS ? significantDigits : MANTISSA_DIGITS;
  const q64 = decimalExponentOfAll + (significantDigits - kept);
  // w >= 1 so value >= 10^q: q > 308 overflows. value < 10^19 * 10^q <= 10^-324, below half
  // of the smallest subnormal (2^-1075 ~ 2.47e-324), when q < -342.
  if (q64 > 308) return reinterpret<f64>(signBit | INFINITY_BITS);
  if (q64 < POW10_MIN) return reinterpret<f64>(signBit);
  const q = <i32>q64;

  // Tier 1 (Clinger): exact operands, one correctly rounded operation.
  if (!truncatedNonzero && w <= (<u64>1 << 53)) {
    let result: f64 = -1;
    if (q >= 0 && q <= 22) {
      result = <f64>w * load<f64>(EXACT_POW10_F64 + (<usize>q << 3));
    } else if (q < 0 && q >= -22) {
      result = <f64>w / load<f64>(EXACT_POW10_F64 + (<usize>(-q) << 3));
    } else if (q > 22 && q <= 22 + 15) {
      // Move the excess power into the integer while it stays below 2^53 (exact).
      const scale = load<u64>(POW10_U64 + (<usize>(q - 22) << 3));
      if (w <= ((<u64>1 << 53) / scale)) result = <f64>(w * scale) * 1e22;
    }
    if (result >= 0) return negative ? -result : result;
  }

  // Tier 2: the exact value lies in [low, high]; equal roundings decide it.
  productOfPower(w, q);
  const lowerBits = roundProduct(product2, product1, product0, productExponent);
  let upperBits: u64;
  if (truncatedNonzero) {
    productOfPower(w + 1, q); // the value is below (w + 1) * 10^q
    upperBits = roundProductUpper();
  } else if (q >= 0 && q <= POW10_EXACT_MAX) {
    upperBits = lowerBits; // exact table entry: the product is the value
  } else if (product1 != 0xffffffffffffffff && (product1 | product0) != 0) {
    // Adding w' < 2^64 cannot carry into z2, where the kept bits and the round bit live, and
    // the sticky part below is nonzero for both ends: Z + w' rounds exactly like Z.
    upperBits = lowerBits;
  } else {
    upperBits = roundProductUpper();
  }
  if (lowerBits == upperBits) return reinterpret<f64>(signBit | lowerBits);

  // Tier 3: exact comparison with the midpoint.
  const bits = decideByMidpoint(ptr, digitsEnd, digitsStart, decimalExponentOfAll, significantDigits, lowerBits);
  return reinterpret<f64>(signBit | bits);
}

// ---------------------------------------------------------------------------------------------
// Test hook (exported from assembly/index.ts): I/O through the arena at ioBase().
// ---------------------------------------------------------------------------------------------

/** Parses the `len`-byte JSON number literal at ioBase(). */
export function parse_f64(len: u32): f64 {
  if (!ensureIoCapacity(<usize>len)) return NaN;
  return parseDouble(ioBase(), <usize>len);
}
