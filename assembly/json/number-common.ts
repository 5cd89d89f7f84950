// Shared pieces of the binary64 <-> decimal conversions (number-format.ts, number-parse.ts):
// table lookups into the generated power-of-ten table (pow10-table.ts), integer logarithms,
// 64 x 64 -> 128-bit multiplication, and the exact big integers of the slow paths.
//
// Memory: tables are static data; scratch is two fixed big integers reserved with memory.data.
// Nothing is allocated on the AssemblyScript heap.
import { POW10_MIN, POW10_128 } from "./pow10-table";

export const MANTISSA_MASK: u64 = 0x000fffffffffffff;
export const HIDDEN_BIT: u64 = 0x0010000000000000;

/** 10^0 .. 10^19 as integers. */
export const POW10_U64: usize = memory.data<u64>([
  1, 10, 100, 1000, 10000, 100000, 1000000, 10000000, 100000000, 1000000000,
  10000000000, 100000000000, 1000000000000, 10000000000000, 100000000000000,
  1000000000000000, 10000000000000000, 100000000000000000, 1000000000000000000,
  10000000000000000000,
]);

// @ts-ignore: decorator
@inline
export function pow10High(j: i32): u64 {
  return load<u64>(POW10_128 + (<usize>(j - POW10_MIN) << 4));
}

// @ts-ignore: decorator
@inline
export function pow10Low(j: i32): u64 {
  return load<u64>(POW10_128 + (<usize>(j - POW10_MIN) << 4), 8);
}

// Integer logarithms by fixed-point multiplication. Each was checked with exact BigInt arithmetic
// over a range wider than the one used here (|j| <= 400, q in [-1100, 1000]).

/** floor(log2(10^j)) for |j| <= 400. */
// @ts-ignore: decorator
@inline
export function floorLog2Pow10(j: i32): i32 {
  return (j * 1741647) >> 19;
}

/** floor(log10(2^q)) for q in [-1100, 1000]. */
// @ts-ignore: decorator
@inline
export function floorLog10Pow2(q: i32): i32 {
  return (q * 78913) >> 18;
}

/** floor(log10(3/4 * 2^q)) for q in [-1100, 1000]. */
// @ts-ignore: decorator
@inline
export function floorLog10ThreeQuartersPow2(q: i32): i32 {
  return (q * 1262611 - 524031) >> 22;
}

// ---------------------------------------------------------------------------------------------
// 64 x 64 -> 128-bit multiplication (WebAssembly has no widening multiply)
// ---------------------------------------------------------------------------------------------

/** High half of the last umul128 product. */
export let productHigh: u64 = 0;

/** Returns the low 64 bits of a * b and leaves the high 64 bits in `productHigh`. */
// @ts-ignore: decorator
@inline
export function umul128(a: u64, b: u64): u64 {
  const a0 = a & 0xffffffff;
  const a1 = a >> 32;
  const b0 = b & 0xffffffff;
  const b1 = b >> 32;
  const p00 = a0 * b0;
  const p01 = a0 * b1;
  const p10 = a1 * b0;
  const p11 = a1 * b1;
  const middle = (p00 >> 32) + (p01 & 0xffffffff) + (p10 & 0xffffffff);
  productHigh = p11 + (p01 >> 32) + (p10 >> 32) + (middle >> 32);
  return (middle << 32) | (p00 & 0xffffffff);
}

// The 192-bit product x * POW10_128[j] as three words, most significant first.
export let product2: u64 = 0;
export let product1: u64 = 0;
export let product0: u64 = 0;

/** Sets product2:product1:product0 = x * (high:low). */
// @ts-ignore: decorator
@inline
export function mul64x128(x: u64, high: u64, low: u64): void {
  product0 = umul128(x, low);
  const carryWord = productHigh;
  const middle = umul128(x, high);
  const top = productHigh;
  const sum = middle + carryWord;
  product1 = sum;
  product2 = top + <u64>(sum < middle);
}

// ---------------------------------------------------------------------------------------------
// Exact big integers (slow paths only)
// ---------------------------------------------------------------------------------------------
//
// Little-endian u32 limbs with no leading zero limb (length 0 means zero). Capacity: the largest
// operand is a parse midpoint (2m+1) * 5^1123 (< 2^2663; 1123 = 342 + 800 - 19 is the most
// negative decimal exponent that reaches the comparison) or an 800-digit mantissa (< 2^2658); a
// shifted operand is only formed when it ends up exactly as long as the other one. 100 limbs
// (3200 bits) leave room, and every write is bounded by the capacity anyway.

export const BIG_CAPACITY: i32 = 100;
export const BIG_A: usize = memory.data(BIG_CAPACITY * 4, 16);
export const BIG_B: usize = memory.data(BIG_CAPACITY * 4, 16);

/** Stores `value` in the big integer at `big`; returns its length in limbs. */
export function bigSet(big: usize, value: u64): i32 {
  if (value == 0) return 0;
  store<u32>(big, <u32>value);
  if ((value >> 32) == 0) return 1;
  store<u32>(big, <u32>(value >> 32), 4);
  return 2;
}

/** big = big * factor + addend; returns the new length. */
export function bigMulAdd(big: usize, length: i32, factor: u32, addend: u32): i32 {
  let carry: u64 = addend;
  for (let i = 0; i < length; i++) {
    const limb = big + (<usize>i << 2);
    const t = <u64>load<u32>(limb) * <u64>factor + carry;
    store<u32>(limb, <u32>t);
    carry = t >> 32;
  }
  if (carry != 0 && length < BIG_CAPACITY) {
    store<u32>(big + (<usize>length << 2), <u32>carry);
    length++;
  }
  return length;
}

/** big = big * 5^exponent; returns the new length. */
export function bigMulPow5(big: usize, length: i32, exponent: i32): i32 {
  while (exponent >= 13) {
    length = bigMulAdd(big, length, 1220703125, 0); // 5^13, the largest power of five in a u32
    exponent -= 13;
  }
  if (exponent > 0) {
    let factor: u32 = 1;
    for (let i = 0; i < exponent; i++) factor *= 5;
    length = bigMulAdd(big, length, factor, 0);
  }
  return length;
}

/** Number of significant bits. */
export function bigBitLength(big: usize, length: i32): i32 {
  if (length == 0) return 0;
  return (length << 5) - <i32>clz<u32>(load<u32>(big + (<usize>(length - 1) << 2)));
}

/** big = big << bits; the caller guarantees the result fits the capacity. Returns the new length. */
export function bigShiftLeft(big: usize, length: i32, bits: i32): i32 {
  if (length == 0 || bits == 0) return length;
  const limbShift = bits >> 5;
  const bitShift = bits & 31;
  let newLength = length + limbShift;
  if (bitShift == 0) {
    for (let i = length - 1; i >= 0; i--) {
      store<u32>(big + (<usize>(i + limbShift) << 2), load<u32>(big + (<usize>i << 2)));
    }
  } else {
    const top = load<u32>(big + (<usize>(length - 1) << 2)) >> (32 - bitShift);
    if (top != 0 && newLength < BIG_CAPACITY) {
      store<u32>(big + (<usize>newLength << 2), top);
      newLength++;
    }
    for (let i = length - 1; i > 0; i--) {
      const hi = load<u32>(big + (<usize>i << 2));
      const lo = load<u32>(big + (<usize>(i - 1) << 2));
      store<u32>(big + (<usize>(i + limbShift) << 2), (hi << bitShift) | (lo >> (32 - bitShift)));
    }
    store<u32>(big + (<usize>limbShift << 2), load<u32>(big) << bitShift);
  }
  for (let i = 0; i < limbShift; i++) store<u32>(big + (<usize>i << 2), 0);
  return newLength;
}

/** Sign of a - b. */
export function bigCompare(a: usize, aLength: i32, b: usize, bLength: i32): i32 {
  if (aLength != bLength) return aLength > bLength ? 1 : -1;
  for (let i = aLength - 1; i >= 0; i--) {
    const x = load<u32>(a + (<usize>i << 2));
    const y = load<u32>(b + (<usize>i << 2));
    if (x != y) return x > y ? 1 : -1;
  }
  return 0;
}

/**
 * Exact sign of  A * 10^decimalExponent - binaryMantissa * 2^binaryExponent,  where A is the
 * nonzero big integer already in BIG_A (aLength limbs) and binaryMantissa is nonzero.
 * Both sides are scaled to integers by powers of 5 and 2: 10^e = 5^e * 2^e.
 */
export function compareDecimalWithBinary(aLength: i32, decimalExponent: i32, binaryMantissa: u64, binaryExponent: i32): i32 {
  let bLength = bigSet(BIG_B, binaryMantissa);
  // A*5^e*2^e vs B*2^f when e >= 0; multiplying both sides by 5^-e gives A*2^e vs B*5^-e*2^f when e < 0.
  if (decimalExponent >= 0) aLength = bigMulPow5(BIG_A, aLength, decimalExponent);
  else bLength = bigMulPow5(BIG_B, bLength, -decimalExponent);
  const aShift = decimalExponent;
  const bShift = binaryExponent;
  const aBits = bigBitLength(BIG_A, aLength) + aShift;
  const bBits = bigBitLength(BIG_B, bLength) + bShift;
  if (aBits != bBits) return aBits > bBits ? 1 : -1;
  // Same magnitude: align the binary exponents (the shifted side ends no longer than the other).
  if (aShift > bShift) aLength = bigShiftLeft(BIG_A, aLength, aShift - bShift);
  else if (bShift > aShift) bLength = bigShiftLeft(BIG_B, bLength, bShift - aShift);
  return bigCompare(BIG_A, aLength, BIG_B, bLength);
}
