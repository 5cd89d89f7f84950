// Arithmetic in GF(p), p = 2^255 - 19, for Ed25519 (RFC 8032 §5.1).
//
// Representation (the "ref10" layout of Bernstein et al., "High-speed high-security signatures",
// 2011): an element is 10 signed limbs h0..h9 held as i32, alternating 26 and 25 bits, so that
//   value = h0 + h1*2^26 + h2*2^51 + h3*2^77 + h4*2^102 + h5*2^128 + h6*2^153 + h7*2^179
//           + h8*2^204 + h9*2^230   (mod p).
// Limb products are computed as i64(f_i) * i64(g_j); since 2^255 = 19 (mod p), products that
// overflow past limb 9 wrap around multiplied by 19, and a product of two odd (25-bit) limbs
// lands one bit above an even limb boundary, hence the factor 2. Both factors are
// pre-multiplied. Every result goes through a signed carry chain that leaves limbs within
// about 2^25 / 2^24 in magnitude.
//
// Bounds (the ref10 ones): fe_mul/fe_sq accept limbs of magnitude up to ~1.65*2^26 (even) /
// ~1.65*2^25 (odd), i.e. the sum or difference of up to three carried elements; fe_add and
// fe_sub do not carry, so callers must not chain more than that before a multiplication.
//
// Field elements are not objects: a field element is a `usize` address of 40 bytes (10 x i32)
// in static memory. All functions accept aliased arguments (outputs may equal inputs): they
// read every input limb before writing any output limb.
//
// Everything here is constant time except fe_iszero's callers' use of the result; no function
// branches on or indexes by limb values.

/** Bytes taken by one field element (10 limbs of i32). */
export const FE_BYTES: usize = 40;

// Private scratch for the exponentiation chains (fe_invert, fe_pow22523): 4 elements.
const CHAIN_SCRATCH: usize = memory.data(4 * 40, 16);
const CHAIN_T0: usize = CHAIN_SCRATCH;
const CHAIN_T1: usize = CHAIN_SCRATCH + 40;
const CHAIN_T2: usize = CHAIN_SCRATCH + 80;
const CHAIN_T3: usize = CHAIN_SCRATCH + 120;
// Private scratch of fe_tobytes.
const FE_TMP: usize = memory.data(40, 16);

/** Zeroes the field module's private scratch (it may hold secret-derived values after signing). */
export function fe_wipe_scratch(): void {
  memory.fill(CHAIN_SCRATCH, 0, 4 * 40);
  memory.fill(FE_TMP, 0, 40);
  memory.fill(PRED_BYTES, 0, 32);
}

// @ts-ignore: decorator
@inline function ld(p: usize, i: i32): i32 {
  return load<i32>(p + (<usize>i << 2));
}

/** h = 0 */
export function fe_0(h: usize): void {
  memory.fill(h, 0, 40);
}

/** h = 1 */
export function fe_1(h: usize): void {
  memory.fill(h, 0, 40);
  store<i32>(h, 1);
}

/** h = f */
// @ts-ignore: decorator
@inline export function fe_copy(h: usize, f: usize): void {
  memory.copy(h, f, 40);
}

/** h = f + g, limb-wise without carrying (limbs 0-3, 4-7 and 8-9 as i32x4 lanes). */
// @ts-ignore: decorator
@inline export function fe_add(h: usize, f: usize, g: usize): void {
  v128.store(h, i32x4.add(v128.load(f), v128.load(g)));
  v128.store(h, i32x4.add(v128.load(f, 16), v128.load(g, 16)), 16);
  v128.store64_lane(h, i32x4.add(v128.load64_zero(f, 32), v128.load64_zero(g, 32)), 0, 32);
}

/** h = f - g, limb-wise without carrying (limbs 0-3, 4-7 and 8-9 as i32x4 lanes). */
// @ts-ignore: decorator
@inline export function fe_sub(h: usize, f: usize, g: usize): void {
  v128.store(h, i32x4.sub(v128.load(f), v128.load(g)));
  v128.store(h, i32x4.sub(v128.load(f, 16), v128.load(g, 16)), 16);
  v128.store64_lane(h, i32x4.sub(v128.load64_zero(f, 32), v128.load64_zero(g, 32)), 0, 32);
}

/** h = -f */
export function fe_neg(h: usize, f: usize): void {
  for (let i: usize = 0; i < 40; i += 4) store<i32>(h + i, -load<i32>(f + i));
}

/** f = g if b == 1, f unchanged if b == 0 (b must be 0 or 1). Constant time: a mask, no branch. */
export function fe_cmov(f: usize, g: usize, b: u32): void {
  const mask = -(<i32>b);
  for (let i: usize = 0; i < 40; i += 4) {
    const x = load<i32>(f + i);
    store<i32>(f + i, x ^ ((x ^ load<i32>(g + i)) & mask));
  }
}

// Signed carry chain shared by fe_mul, fe_sq and fe_sq2 (ref10 order: the two halves are
// carried in an interleaved sequence so every intermediate stays within i64, and the wrap
// from limb 9 back to limb 0 is multiplied by 19 since 2^255 = 19 mod p).
// @ts-ignore: decorator
@inline function carry_store(
  h: usize,
  h0: i64, h1: i64, h2: i64, h3: i64, h4: i64, h5: i64, h6: i64, h7: i64, h8: i64, h9: i64,
): void {
  let c: i64;
  c = (h0 + (1 << 25)) >> 26; h1 += c; h0 -= c << 26;
  c = (h4 + (1 << 25)) >> 26; h5 += c; h4 -= c << 26;
  c = (h1 + (1 << 24)) >> 25; h2 += c; h1 -= c << 25;
  c = (h5 + (1 << 24)) >> 25; h6 += c; h5 -= c << 25;
  c = (h2 + (1 << 25)) >> 26; h3 += c; h2 -= c << 26;
  c = (h6 + (1 << 25)) >> 26; h7 += c; h6 -= c << 26;
  c = (h3 + (1 << 24)) >> 25; h4 += c; h3 -= c << 25;
  c = (h7 + (1 << 24)) >> 25; h8 += c; h7 -= c << 25;
  c = (h4 + (1 << 25)) >> 26; h5 += c; h4 -= c << 26;
  c = (h8 + (1 << 25)) >> 26; h9 += c; h8 -= c << 26;
  c = (h9 + (1 << 24)) >> 25; h0 += c * 19; h9 -= c << 25;
  c = (h0 + (1 << 25)) >> 26; h1 += c; h0 -= c << 26;
  store<i32>(h, <i32>h0);
  store<i32>(h, <i32>h1, 4);
  store<i32>(h, <i32>h2, 8);
  store<i32>(h, <i32>h3, 12);
  store<i32>(h, <i32>h4, 16);
  store<i32>(h, <i32>h5, 20);
  store<i32>(h, <i32>h6, 24);
  store<i32>(h, <i32>h7, 28);
  store<i32>(h, <i32>h8, 32);
  store<i32>(h, <i32>h9, 36);
}

/** h = f * g (100 limb products). */
export function fe_mul(h: usize, f: usize, g: usize): void {
  const f0 = <i64>load<i32>(f), f1 = <i64>load<i32>(f, 4), f2 = <i64>load<i32>(f, 8);
  const f3 = <i64>load<i32>(f, 12), f4 = <i64>load<i32>(f, 16), f5 = <i64>load<i32>(f, 20);
  const f6 = <i64>load<i32>(f, 24), f7 = <i64>load<i32>(f, 28), f8 = <i64>load<i32>(f, 32);
  const f9 = <i64>load<i32>(f, 36);
  const g0 = <i64>load<i32>(g), g1 = <i64>load<i32>(g, 4), g2 = <i64>load<i32>(g, 8);
  const g3 = <i64>load<i32>(g, 12), g4 = <i64>load<i32>(g, 16), g5 = <i64>load<i32>(g, 20);
  const g6 = <i64>load<i32>(g, 24), g7 = <i64>load<i32>(g, 28), g8 = <i64>load<i32>(g, 32);
  const g9 = <i64>load<i32>(g, 36);
  const g1_19 = g1 * 19, g2_19 = g2 * 19, g3_19 = g3 * 19, g4_19 = g4 * 19, g5_19 = g5 * 19;
  const g6_19 = g6 * 19, g7_19 = g7 * 19, g8_19 = g8 * 19, g9_19 = g9 * 19;
  const f1_2 = f1 << 1, f3_2 = f3 << 1, f5_2 = f5 << 1, f7_2 = f7 << 1, f9_2 = f9 << 1;
  let h0: i64 = f0 * g0 + f1_2 * g9_19 + f2 * g8_19 + f3_2 * g7_19 + f4 * g6_19 + f5_2 * g5_19 + f6 * g4_19 + f7_2 * g3_19 + f8 * g2_19 + f9_2 * g1_19;
  let h1: i64 = f0 * g1 + f1 * g0 + f2 * g9_19 + f3 * g8_19 + f4 * g7_19 + f5 * g6_19 + f6 * g5_19 + f7 * g4_19 + f8 * g3_19 + f9 * g2_19;
  let h2: i64 = f0 * g2 + f1_2 * g1 + f2 * g0 + f3_2 * g9_19 + f4 * g8_19 + f5_2 * g7_19 + f6 * g6_19 + f7_2 * g5_19 + f8 * g4_19 + f9_2 * g3_19;
  let h3: i64 = f0 * g3 + f1 * g2 + f2 * g1 + f3 * g0 + f4 * g9_19 + f5 * g8_19 + f6 * g7_19 + f7 * g6_19 + f8 * g5_19 + f9 * g4_19;
  let h4: i64 = f0 * g4 + f1_2 * g3 + f2 * g2 + f3_2 * g1 + f4 * g0 + f5_2 * g9_19 + f6 * g8_19 + f7_2 * g7_19 + f8 * g6_19 + f9_2 * g5_19;
  let h5: i64 = f0 * g5 + f1 * g4 + f2 * g3 + f3 * g2 + f4 * g1 + f5 * g0 + f6 * g9_19 + f7 * g8_19 + f8 * g7_19 + f9 * g6_19;
  let h6: i64 = f0 * g6 + f1_2 * g5 + f2 * g4 + f3_2 * g3 + f4 * g2 + f5_2 * g1 + f6 * g0 + f7_2 * g9_19 + f8 * g8_19 + f9_2 * g7_19;
  let h7: i64 = f0 * g7 + f1 * g6 + f2 * g5 + f3 * g4 + f4 * g3 + f5 * g2 + f6 * g1 + f7 * g0 + f8 * g9_19 + f9 * g8_19;
  let h8: i64 = f0 * g8 + f1_2 * g7 + f2 * g6 + f3_2 * g5 + f4 * g4 + f5_2 * g3 + f6 * g2 + f7_2 * g1 + f8 * g0 + f9_2 * g9_19;
  let h9: i64 = f0 * g9 + f1 * g8 + f2 * g7 + f3 * g6 + f4 * g5 + f5 * g4 + f6 * g3 + f7 * g2 + f8 * g1 + f9 * g0;
  carry_store(h, h0, h1, h2, h3, h4, h5, h6, h7, h8, h9);
}

// Products of a squaring (55 distinct limb products), shared by fe_sq and fe_sq2.
// @ts-ignore: decorator
@inline function sq_store(h: usize, f: usize, double: bool): void {
  const f0 = <i64>load<i32>(f), f1 = <i64>load<i32>(f, 4), f2 = <i64>load<i32>(f, 8);
  const f3 = <i64>load<i32>(f, 12), f4 = <i64>load<i32>(f, 16), f5 = <i64>load<i32>(f, 20);
  const f6 = <i64>load<i32>(f, 24), f7 = <i64>load<i32>(f, 28), f8 = <i64>load<i32>(f, 32);
  const f9 = <i64>load<i32>(f, 36);
  const f0_2 = f0 << 1, f1_2 = f1 << 1, f2_2 = f2 << 1, f3_2 = f3 << 1, f4_2 = f4 << 1;
  const f5_2 = f5 << 1, f7_2 = f7 << 1;
  const f5_38 = f5 * 38, f6_19 = f6 * 19, f7_38 = f7 * 38, f8_19 = f8 * 19, f9_38 = f9 * 38;
  const f6_38 = f6 * 38, f8_38 = f8 * 38;
  let h0: i64 = f0 * f0 + f1_2 * f9_38 + f2 * f8_38 + f3_2 * f7_38 + f4 * f6_38 + f5 * f5_38;
  let h1: i64 = f0_2 * f1 + f2 * f9_38 + f3 * f8_38 + f4 * f7_38 + f5 * f6_38;
  let h2: i64 = f0_2 * f2 + f1_2 * f1 + f3_2 * f9_38 + f4 * f8_38 + f5_2 * f7_38 + f6 * f6_19;
  let h3: i64 = f0_2 * f3 + f1_2 * f2 + f4 * f9_38 + f5 * f8_38 + f6 * f7_38;
  let h4: i64 = f0_2 * f4 + f1_2 * f3_2 + f2 * f2 + f5_2 * f9_38 + f6 * f8_38 + f7 * f7_38;
  let h5: i64 = f0_2 * f5 + f1_2 * f4 + f2_2 * f3 + f6 * f9_38 + f7 * f8_38;
  let h6: i64 = f0_2 * f6 + f1_2 * f5_2 + f2_2 * f4 + f3_2 * f3 + f7_2 * f9_38 + f8 * f8_19;
  let h7: i64 = f0_2 * f7 + f1_2 * f6 + f2_2 * f5 + f3_2 * f4 + f8 * f9_38;
  let h8: i64 = f0_2 * f8 + f1_2 * f7_2 + f2_2 * f6 + f3_2 * f5_2 + f4 * f4 + f9 * f9_38;
  let h9: i64 = f0_2 * f9 + f1_2 * f8 + f2_2 * f7 + f3_2 * f6 + f4_2 * f5;
  if (double) {
    h0 <<= 1; h1 <<= 1; h2 <<= 1; h3 <<= 1; h4 <<= 1;
    h5 <<= 1; h6 <<= 1; h7 <<= 1; h8 <<= 1; h9 <<= 1;
  }
  carry_store(h, h0, h1, h2, h3, h4, h5, h6, h7, h8, h9);
}

/** h = f^2 */
export function fe_sq(h: usize, f: usize): void {
  sq_store(h, f, false);
}

/** h = 2 * f^2 (used by point doubling). */
export function fe_sq2(h: usize, f: usize): void {
  sq_store(h, f, true);
}

/**
 * h = f^(2^n), n >= 1: n squarings with the limbs kept in locals between iterations (same
 * arithmetic as fe_sq; saves the loads, stores and calls of the exponentiation chains).
 */
export function fe_sq_n(h: usize, f: usize, n: i32): void {
  let f0 = <i64>load<i32>(f), f1 = <i64>load<i32>(f, 4), f2 = <i64>load<i32>(f, 8);
  let f3 = <i64>load<i32>(f, 12), f4 = <i64>load<i32>(f, 16), f5 = <i64>load<i32>(f, 20);
  let f6 = <i64>load<i32>(f, 24), f7 = <i64>load<i32>(f, 28), f8 = <i64>load<i32>(f, 32);
  let f9 = <i64>load<i32>(f, 36);
  for (let i = 0; i < n; i++) {
    const f0_2 = f0 << 1, f1_2 = f1 << 1, f2_2 = f2 << 1, f3_2 = f3 << 1, f4_2 = f4 << 1;
    const f5_2 = f5 << 1, f7_2 = f7 << 1;
    const f5_38 = f5 * 38, f6_19 = f6 * 19, f7_38 = f7 * 38, f8_19 = f8 * 19, f9_38 = f9 * 38;
    const f6_38 = f6 * 38, f8_38 = f8 * 38;
    let h0: i64 = f0 * f0 + f1_2 * f9_38 + f2 * f8_38 + f3_2 * f7_38 + f4 * f6_38 + f5 * f5_38;
    let h1: i64 = f0_2 * f1 + f2 * f9_38 + f3 * f8_38 + f4 * f7_38 + f5 * f6_38;
    let h2: i64 = f0_2 * f2 + f1_2 * f1 + f3_2 * f9_38 + f4 * f8_38 + f5_2 * f7_38 + f6 * f6_19;
    let h3: i64 = f0_2 * f3 + f1_2 * f2 + f4 * f9_38 + f5 * f8_38 + f6 * f7_38;
    let h4: i64 = f0_2 * f4 + f1_2 * f3_2 + f2 * f2 + f5_2 * f9_38 + f6 * f8_38 + f7 * f7_38;
    let h5: i64 = f0_2 * f5 + f1_2 * f4 + f2_2 * f3 + f6 * f9_38 + f7 * f8_38;
    let h6: i64 = f0_2 * f6 + f1_2 * f5_2 + f2_2 * f4 + f3_2 * f3 + f7_2 * f9_38 + f8 * f8_19;
    let h7: i64 = f0_2 * f7 + f1_2 * f6 + f2_2 * f5 + f3_2 * f4 + f8 * f9_38;
    let h8: i64 = f0_2 * f8 + f1_2 * f7_2 + f2_2 * f6 + f3_2 * f5_2 + f4 * f4 + f9 * f9_38;
    let h9: i64 = f0_2 * f9 + f1_2 * f8 + f2_2 * f7 + f3_2 * f6 + f4_2 * f5;
    let c: i64;
    c = (h0 + (1 << 25)) >> 26; h1 += c; h0 -= c << 26;
    c = (h4 + (1 << 25)) >> 26; h5 += c; h4 -= c << 26;
    c = (h1 + (1 << 24)) >> 25; h2 += c; h1 -= c << 25;
    c = (h5 + (1 << 24)) >> 25; h6 += c; h5 -= c << 25;
    c = (h2 + (1 << 25)) >> 26; h3 += c; h2 -= c << 26;
    c = (h6 + (1 << 25)) >> 26; h7 += c; h6 -= c << 26;
    c = (h3 + (1 << 24)) >> 25; h4 += c; h3 -= c << 25;
    c = (h7 + (1 << 24)) >> 25; h8 += c; h7 -= c << 25;
    c = (h4 + (1 << 25)) >> 26; h5 += c; h4 -= c << 26;
    c = (h8 + (1 << 25)) >> 26; h9 += c; h8 -= c << 26;
    c = (h9 + (1 << 24)) >> 25; h0 += c * 19; h9 -= c << 25;
    c = (h0 + (1 << 25)) >> 26; h1 += c; h0 -= c << 26;
    f0 = h0; f1 = h1; f2 = h2; f3 = h3; f4 = h4;
    f5 = h5; f6 = h6; f7 = h7; f8 = h8; f9 = h9;
  }
  store<i32>(h, <i32>f0);
  store<i32>(h, <i32>f1, 4);
  store<i32>(h, <i32>f2, 8);
  store<i32>(h, <i32>f3, 12);
  store<i32>(h, <i32>f4, 16);
  store<i32>(h, <i32>f5, 20);
  store<i32>(h, <i32>f6, 24);
  store<i32>(h, <i32>f7, 28);
  store<i32>(h, <i32>f8, 32);
  store<i32>(h, <i32>f9, 36);
}

// Shared prefix of the two exponentiation chains: leaves z^(2^250 - 1) in CHAIN_T1 and
// z^11 in CHAIN_T0 (addition chain of ref10 / curve25519-donna: 254 squarings, 11 multiplies).
function pow_2_250_minus_1(z: usize): void {
  const t0 = CHAIN_T0, t1 = CHAIN_T1, t2 = CHAIN_T2, t3 = CHAIN_T3;
  fe_sq(t0, z); //                      z^2
  fe_sq_n(t1, t0, 2); //                z^8
  fe_mul(t1, z, t1); //                 z^9
  fe_mul(t0, t0, t1); //                z^11
  fe_sq(t2, t0); //                     z^22
  fe_mul(t1, t1, t2); //                z^31 = z^(2^5 - 1)
  fe_sq_n(t2, t1, 5);
  fe_mul(t1, t2, t1); //                z^(2^10 - 1)
  fe_sq_n(t2, t1, 10);
  fe_mul(t2, t2, t1); //                z^(2^20 - 1)
  fe_sq_n(t3, t2, 20);
  fe_mul(t2, t3, t2); //                z^(2^40 - 1)
  fe_sq_n(t2, t2, 10);
  fe_mul(t1, t2, t1); //                z^(2^50 - 1)
  fe_sq_n(t2, t1, 50);
  fe_mul(t2, t2, t1); //                z^(2^100 - 1)
  fe_sq_n(t3, t2, 100);
  fe_mul(t2, t3, t2); //                z^(2^200 - 1)
  fe_sq_n(t2, t2, 50);
  fe_mul(t1, t2, t1); //                z^(2^250 - 1)
}

/**
 * h = z^(2^251 - 1) = z^((p + 3) / 16): the one exponentiation of the subgroup test for batch
 * verification (assembly/curve25519/torsion.ts), the z^(2^250 - 1) chain plus a squaring and a
 * multiply. Constant time (its callers only need variable time).
 */
export function fe_pow_2_251_minus_1(h: usize, z: usize): void {
  pow_2_250_minus_1(z);
  fe_sq(CHAIN_T1, CHAIN_T1); //         z^(2^251 - 2)
  fe_mul(h, CHAIN_T1, z); //            z^(2^251 - 1)
}

/** h = z^(p-2) = 1/z (Fermat; 0 maps to 0). Constant time. */
export function fe_invert(h: usize, z: usize): void {
  pow_2_250_minus_1(z);
  fe_sq_n(CHAIN_T1, CHAIN_T1, 5); //    z^(2^255 - 32)
  fe_mul(h, CHAIN_T1, CHAIN_T0); //     z^(2^255 - 21) = z^(p - 2)
}

const INVERT_BATCH_T: usize = memory.data(40, 16);

/**
 * inverses[k] = 1 / z_k for the `count` field elements z_k at elements + k * stride, with one
 * inversion for all of them (Montgomery's trick: 3 multiplications each). `inverses` holds
 * `count` field elements (40 bytes apart) and must not overlap the z_k. Every z_k must be nonzero
 * (a zero makes every answer 0). Constant time for a given count; its callers (group.ts) make
 * points affine.
 */
export function fe_invert_batch(inverses: usize, elements: usize, stride: usize, count: usize): void {
  if (count == 0) return;
  fe_copy(inverses, elements);
  for (let k: usize = 1; k < count; k++) fe_mul(inverses + k * 40, inverses + (k - 1) * 40, elements + k * stride);
  fe_invert(INVERT_BATCH_T, inverses + (count - 1) * 40); //  1 / (z_0 ... z_{count-1})
  for (let k = count - 1; k > 0; k--) {
    const zk = elements + k * stride;
    fe_mul(inverses + k * 40, INVERT_BATCH_T, inverses + (k - 1) * 40); // 1 / z_k
    fe_mul(INVERT_BATCH_T, INVERT_BATCH_T, zk); //                    1 / (z_0 ... z_{k-1})
  }
  fe_copy(inverses, INVERT_BATCH_T);
  memory.fill(INVERT_BATCH_T, 0, 40);
}

/** h = z^((p-5)/8) = z^(2^252 - 3), the exponent of the square-root step in RFC 8032 §5.1.3. */
export function fe_pow22523(h: usize, z: usize): void {
  // z may alias h; keep z alive through the chain by reading it only at the start and end.
  pow_2_250_minus_1(z);
  fe_sq_n(CHAIN_T1, CHAIN_T1, 2); //    z^(2^252 - 4)
  fe_mul(h, CHAIN_T1, z); //            z^(2^252 - 3)
}

// Bit offset of each limb inside the 256-bit little-endian encoding.
// @ts-ignore: decorator
@inline function limb_offset(i: i32): u32 {
  // 0, 26, 51, 77, 102, 128, 153, 179, 204, 230
  return <u32>((i >> 1) * 51 + (i & 1) * 26);
}

/**
 * h = the integer encoded little-endian in s[0..32], with bit 255 ignored (RFC 8032 §5.1.3).
 * Values in [p, 2^255) are accepted and represent their residue mod p (they are not reduced
 * here; the arithmetic is mod p anyway).
 */
export function fe_frombytes(h: usize, s: usize): void {
  for (let i = 0; i < 10; i++) {
    const bit = limb_offset(i);
    // Read 8 bytes at or before the limb's first byte, never past s[31].
    let byte = bit >> 3;
    if (byte > 24) byte = 24;
    const word = load<u64>(s + <usize>byte) >> <u64>(bit - (byte << 3));
    const width: u64 = (i & 1) ? 25 : 26;
    store<i32>(h + (<usize>i << 2), <i32>(word & ((<u64>1 << width) - 1)));
  }
}

/**
 * s[0..32] = canonical little-endian encoding of h, fully reduced to [0, p).
 * Method (ref10): q = floor((h + 19) / 2^255) is 0 or 1 once h is carried; then h - q*p is
 * computed as h + 19q with the 2^255 bit dropped.
 */
export function fe_tobytes(s: usize, h: usize): void {
  // Carry first so sums/differences that were not carried (fe_add/fe_sub outputs) are accepted.
  carry_store(FE_TMP, <i64>ld(h, 0), <i64>ld(h, 1), <i64>ld(h, 2), <i64>ld(h, 3), <i64>ld(h, 4),
    <i64>ld(h, 5), <i64>ld(h, 6), <i64>ld(h, 7), <i64>ld(h, 8), <i64>ld(h, 9));
  let h0 = ld(FE_TMP, 0), h1 = ld(FE_TMP, 1), h2 = ld(FE_TMP, 2), h3 = ld(FE_TMP, 3), h4 = ld(FE_TMP, 4);
  let h5 = ld(FE_TMP, 5), h6 = ld(FE_TMP, 6), h7 = ld(FE_TMP, 7), h8 = ld(FE_TMP, 8), h9 = ld(FE_TMP, 9);
  let q = (19 * h9 + (1 << 24)) >> 25;
  q = (h0 + q) >> 26;
  q = (h1 + q) >> 25;
  q = (h2 + q) >> 26;
  q = (h3 + q) >> 25;
  q = (h4 + q) >> 26;
  q = (h5 + q) >> 25;
  q = (h6 + q) >> 26;
  q = (h7 + q) >> 25;
  q = (h8 + q) >> 26;
  q = (h9 + q) >> 25;
  // Now q is floor(h / p) for the carried value; subtract q*p = q*2^255 - 19q.
  h0 += 19 * q;
  let c: i32;
  c = h0 >> 26; h1 += c; h0 -= c << 26;
  c = h1 >> 25; h2 += c; h1 -= c << 25;
  c = h2 >> 26; h3 += c; h2 -= c << 26;
  c = h3 >> 25; h4 += c; h3 -= c << 25;
  c = h4 >> 26; h5 += c; h4 -= c << 26;
  c = h5 >> 25; h6 += c; h5 -= c << 25;
  c = h6 >> 26; h7 += c; h6 -= c << 26;
  c = h7 >> 25; h8 += c; h7 -= c << 25;
  c = h8 >> 26; h9 += c; h8 -= c << 26;
  c = h9 >> 25; h9 -= c << 25; // drops the 2^255 multiple
  // Pack the now non-negative limbs into four 64-bit words.
  const w0 = <u64>h0 | (<u64>h1 << 26) | (<u64>h2 << 51);
  const w1 = (<u64>h2 >> 13) | (<u64>h3 << 13) | (<u64>h4 << 38);
  const w2 = <u64>h5 | (<u64>h6 << 25) | (<u64>h7 << 51);
  const w3 = (<u64>h7 >> 13) | (<u64>h8 << 12) | (<u64>h9 << 38);
  store<u64>(s, w0);
  store<u64>(s, w1, 8);
  store<u64>(s, w2, 16);
  store<u64>(s, w3, 24);
}

// Scratch for the encoding-based predicates.
const PRED_BYTES: usize = memory.data(32, 16);

/** 1 if the canonical encoding of f is odd ("negative" in RFC 8032 §5.1.2), else 0. */
export function fe_isnegative(f: usize): u32 {
  fe_tobytes(PRED_BYTES, f);
  return load<u8>(PRED_BYTES) & 1;
}

/** 1 if f = 0 (mod p), else 0. Constant time in f. */
export function fe_iszero(f: usize): u32 {
  fe_tobytes(PRED_BYTES, f);
  const x = load<u64>(PRED_BYTES) | load<u64>(PRED_BYTES, 8) | load<u64>(PRED_BYTES, 16) | load<u64>(PRED_BYTES, 24);
  // (x | -x) has its top bit set iff x != 0.
  return <u32>(((x | (0 - x)) >> 63) ^ 1);
}
