// Four field elements at once: the exponentiation chains of point decoding and of the subgroup
// test, run on four independent elements in the lanes of WebAssembly SIMD registers.
//
// Batch verification (assembly/ed25519/batch.ts) decodes every R and every key new to the call
// and tests each key under several items, and each R or R + [k mod 8]A, for torsion: three
// exponentiations of about 250 squarings per item with a new key, the largest part of its cost.
// A squaring's 55 limb products are independent across elements, so four elements' squarings
// share one instruction stream: limb k of the four elements sits in the four
// i32 lanes of one v128, and i64x2.extmul_low/high_i32x4_s form two lanes' 64-bit products each.
// Measured in V8 (Node 20, x64), four exponentiations take about 0.65x the time of four scalar
// ones; with two elements per v128 (i64x2 lanes) the gain was within the noise.
//
// The arithmetic is fe_sq_n's (field.ts), limb for limb: the same products, the same signed
// carries (an arithmetic shift is a logical shift of the value plus 2^62, which is a multiple of
// 2^26, minus 2^(62 - bits): V8 has no SSE instruction for a 64-bit arithmetic shift), so each
// lane's result equals fe_sq_n's exactly (test/node/field-x4.test.ts).
//
// Layout: a "quad" is four field elements at consecutive addresses (4 x FE_BYTES = 160 bytes).
// Multiplies (11 per chain) stay scalar, one fe_mul per lane.
//
// Constant time like field.ts (no branch or index on limb values); its callers use it on public
// points only.
import { FE_BYTES, fe_mul, fe_sq } from "./field";

/** Bytes of a quad: four field elements. */
export const QUAD_BYTES: usize = 4 * FE_BYTES;

/**
 * Fewest elements worth a four-lane chain: below this, one scalar chain per element is faster
 * (four lanes cost about 0.65x four scalar chains, so more than two). For the callers that choose
 * (group.ts ge_frombytes_x4_vartime, torsion.ts ge_affine_is_torsion_free_x4_vartime).
 */
export const X4_MIN_LANES: usize = 3;

// Private scratch of the chains: four quads.
const QUAD_T0: usize = memory.data(<i32>QUAD_BYTES, 16);
const QUAD_T1: usize = memory.data(<i32>QUAD_BYTES, 16);
const QUAD_T2: usize = memory.data(<i32>QUAD_BYTES, 16);
const QUAD_T3: usize = memory.data(<i32>QUAD_BYTES, 16);

/** Rounded signed carry of 64-bit lanes: (h + 2^(bits - 1)) >> bits, arithmetic (see the header). */
// @ts-ignore: decorator
@inline function carry(h: v128, bits: i32): v128 {
  const shifted = i64x2.shr_u(i64x2.add(h, i64x2.splat((<i64>1 << (bits - 1)) + (<i64>1 << 62))), bits);
  return i64x2.sub(shifted, i64x2.splat((<i64>1 << 62) >> bits));
}

// @ts-ignore: decorator
@inline function lo(a: v128, b: v128): v128 {
  return i64x2.extmul_low_i32x4_s(a, b);
}

// @ts-ignore: decorator
@inline function hi(a: v128, b: v128): v128 {
  return i64x2.extmul_high_i32x4_s(a, b);
}

// @ts-ignore: decorator
@inline function add3(a: v128, b: v128, c: v128): v128 {
  return i64x2.add(i64x2.add(a, b), c);
}

/** Limb k of the four elements of the quad q, one per i32 lane. */
// @ts-ignore: decorator
@inline function gather(q: usize, k: usize): v128 {
  const o = k << 2;
  return i32x4(load<i32>(q + o), load<i32>(q + FE_BYTES + o), load<i32>(q + 2 * FE_BYTES + o), load<i32>(q + 3 * FE_BYTES + o));
}

// @ts-ignore: decorator
@inline function scatter(q: usize, k: usize, v: v128): void {
  const o = k << 2;
  store<i32>(q + o, i32x4.extract_lane(v, 0));
  store<i32>(q + FE_BYTES + o, i32x4.extract_lane(v, 1));
  store<i32>(q + 2 * FE_BYTES + o, i32x4.extract_lane(v, 2));
  store<i32>(q + 3 * FE_BYTES + o, i32x4.extract_lane(v, 3));
}

/**
 * h = f^(2^n) for each of the quad's four elements, n >= 1 (fe_sq_n on four lanes). h may equal f.
 *
 * Narrower input than fe_sq_n's: the multiples by 38 are formed in 32-bit lanes, so every limb
 * must be below 2^31 / 38 (about 1.68 x 2^25) in magnitude, which a carried limb, as fe_mul,
 * fe_sq and this function leave them (|even| <= ~2^25, |odd| <= ~2^24), always is; fe_sq accepts
 * about 1.65 x 2^26. Private to the chains below, whose first squaring is fe_sq's for that reason
 * (review 66 F2: past the bound, lanes come out wrong, silently).
 */
function fe_sq_n_x4(h: usize, f: usize, n: i32): void {
  let f0 = gather(f, 0), f1 = gather(f, 1), f2 = gather(f, 2), f3 = gather(f, 3), f4 = gather(f, 4);
  let f5 = gather(f, 5), f6 = gather(f, 6), f7 = gather(f, 7), f8 = gather(f, 8), f9 = gather(f, 9);
  const k19 = i32x4.splat(19), k38 = i32x4.splat(38);
  for (let i = 0; i < n; i++) {
    const f0_2 = i32x4.shl(f0, 1), f1_2 = i32x4.shl(f1, 1), f2_2 = i32x4.shl(f2, 1), f3_2 = i32x4.shl(f3, 1);
    const f4_2 = i32x4.shl(f4, 1), f5_2 = i32x4.shl(f5, 1), f7_2 = i32x4.shl(f7, 1);
    const f5_38 = i32x4.mul(f5, k38), f6_19 = i32x4.mul(f6, k19), f7_38 = i32x4.mul(f7, k38);
    const f8_19 = i32x4.mul(f8, k19), f9_38 = i32x4.mul(f9, k38), f6_38 = i32x4.mul(f6, k38), f8_38 = i32x4.mul(f8, k38);
    // Lanes 0 and 1 (l*) and lanes 2 and 3 (h*): fe_sq_n's sums, term for term.
    let l0 = i64x2.add(add3(lo(f0, f0), lo(f1_2, f9_38), lo(f2, f8_38)), add3(lo(f3_2, f7_38), lo(f4, f6_38), lo(f5, f5_38)));
    let h0 = i64x2.add(add3(hi(f0, f0), hi(f1_2, f9_38), hi(f2, f8_38)), add3(hi(f3_2, f7_38), hi(f4, f6_38), hi(f5, f5_38)));
    let l1 = i64x2.add(add3(lo(f0_2, f1), lo(f2, f9_38), lo(f3, f8_38)), i64x2.add(lo(f4, f7_38), lo(f5, f6_38)));
    let h1 = i64x2.add(add3(hi(f0_2, f1), hi(f2, f9_38), hi(f3, f8_38)), i64x2.add(hi(f4, f7_38), hi(f5, f6_38)));
    let l2 = i64x2.add(add3(lo(f0_2, f2), lo(f1_2, f1), lo(f3_2, f9_38)), add3(lo(f4, f8_38), lo(f5_2, f7_38), lo(f6, f6_19)));
    let h2 = i64x2.add(add3(hi(f0_2, f2), hi(f1_2, f1), hi(f3_2, f9_38)), add3(hi(f4, f8_38), hi(f5_2, f7_38), hi(f6, f6_19)));
    let l3 = i64x2.add(add3(lo(f0_2, f3), lo(f1_2, f2), lo(f4, f9_38)), i64x2.add(lo(f5, f8_38), lo(f6, f7_38)));
    let h3 = i64x2.add(add3(hi(f0_2, f3), hi(f1_2, f2), hi(f4, f9_38)), i64x2.add(hi(f5, f8_38), hi(f6, f7_38)));
    let l4 = i64x2.add(add3(lo(f0_2, f4), lo(f1_2, f3_2), lo(f2, f2)), add3(lo(f5_2, f9_38), lo(f6, f8_38), lo(f7, f7_38)));
    let h4 = i64x2.add(add3(hi(f0_2, f4), hi(f1_2, f3_2), hi(f2, f2)), add3(hi(f5_2, f9_38), hi(f6, f8_38), hi(f7, f7_38)));
    let l5 = i64x2.add(add3(lo(f0_2, f5), lo(f1_2, f4), lo(f2_2, f3)), i64x2.add(lo(f6, f9_38), lo(f7, f8_38)));
    let h5 = i64x2.add(add3(hi(f0_2, f5), hi(f1_2, f4), hi(f2_2, f3)), i64x2.add(hi(f6, f9_38), hi(f7, f8_38)));
    let l6 = i64x2.add(add3(lo(f0_2, f6), lo(f1_2, f5_2), lo(f2_2, f4)), add3(lo(f3_2, f3), lo(f7_2, f9_38), lo(f8, f8_19)));
    let h6 = i64x2.add(add3(hi(f0_2, f6), hi(f1_2, f5_2), hi(f2_2, f4)), add3(hi(f3_2, f3), hi(f7_2, f9_38), hi(f8, f8_19)));
    let l7 = i64x2.add(add3(lo(f0_2, f7), lo(f1_2, f6), lo(f2_2, f5)), i64x2.add(lo(f3_2, f4), lo(f8, f9_38)));
    let h7 = i64x2.add(add3(hi(f0_2, f7), hi(f1_2, f6), hi(f2_2, f5)), i64x2.add(hi(f3_2, f4), hi(f8, f9_38)));
    let l8 = i64x2.add(add3(lo(f0_2, f8), lo(f1_2, f7_2), lo(f2_2, f6)), add3(lo(f3_2, f5_2), lo(f4, f4), lo(f9, f9_38)));
    let h8 = i64x2.add(add3(hi(f0_2, f8), hi(f1_2, f7_2), hi(f2_2, f6)), add3(hi(f3_2, f5_2), hi(f4, f4), hi(f9, f9_38)));
    let l9 = i64x2.add(add3(lo(f0_2, f9), lo(f1_2, f8), lo(f2_2, f7)), i64x2.add(lo(f3_2, f6), lo(f4_2, f5)));
    let h9 = i64x2.add(add3(hi(f0_2, f9), hi(f1_2, f8), hi(f2_2, f7)), i64x2.add(hi(f3_2, f6), hi(f4_2, f5)));
    // fe_sq_n's carry chain, on both halves.
    let c: v128, d: v128;
    c = carry(l0, 26); l1 = i64x2.add(l1, c); l0 = i64x2.sub(l0, i64x2.shl(c, 26));
    d = carry(h0, 26); h1 = i64x2.add(h1, d); h0 = i64x2.sub(h0, i64x2.shl(d, 26));
    c = carry(l4, 26); l5 = i64x2.add(l5, c); l4 = i64x2.sub(l4, i64x2.shl(c, 26));
    d = carry(h4, 26); h5 = i64x2.add(h5, d); h4 = i64x2.sub(h4, i64x2.shl(d, 26));
    c = carry(l1, 25); l2 = i64x2.add(l2, c); l1 = i64x2.sub(l1, i64x2.shl(c, 25));
    d = carry(h1, 25); h2 = i64x2.add(h2, d); h1 = i64x2.sub(h1, i64x2.shl(d, 25));
    c = carry(l5, 25); l6 = i64x2.add(l6, c); l5 = i64x2.sub(l5, i64x2.shl(c, 25));
    d = carry(h5, 25); h6 = i64x2.add(h6, d); h5 = i64x2.sub(h5, i64x2.shl(d, 25));
    c = carry(l2, 26); l3 = i64x2.add(l3, c); l2 = i64x2.sub(l2, i64x2.shl(c, 26));
    d = carry(h2, 26); h3 = i64x2.add(h3, d); h2 = i64x2.sub(h2, i64x2.shl(d, 26));
    c = carry(l6, 26); l7 = i64x2.add(l7, c); l6 = i64x2.sub(l6, i64x2.shl(c, 26));
    d = carry(h6, 26); h7 = i64x2.add(h7, d); h6 = i64x2.sub(h6, i64x2.shl(d, 26));
    c = carry(l3, 25); l4 = i64x2.add(l4, c); l3 = i64x2.sub(l3, i64x2.shl(c, 25));
    d = carry(h3, 25); h4 = i64x2.add(h4, d); h3 = i64x2.sub(h3, i64x2.shl(d, 25));
    c = carry(l7, 25); l8 = i64x2.add(l8, c); l7 = i64x2.sub(l7, i64x2.shl(c, 25));
    d = carry(h7, 25); h8 = i64x2.add(h8, d); h7 = i64x2.sub(h7, i64x2.shl(d, 25));
    c = carry(l4, 26); l5 = i64x2.add(l5, c); l4 = i64x2.sub(l4, i64x2.shl(c, 26));
    d = carry(h4, 26); h5 = i64x2.add(h5, d); h4 = i64x2.sub(h4, i64x2.shl(d, 26));
    c = carry(l8, 26); l9 = i64x2.add(l9, c); l8 = i64x2.sub(l8, i64x2.shl(c, 26));
    d = carry(h8, 26); h9 = i64x2.add(h9, d); h8 = i64x2.sub(h8, i64x2.shl(d, 26));
    // 19 c = 16 c + 2 c + c (i64x2.mul has no SSE instruction either).
    c = carry(l9, 25); l0 = i64x2.add(l0, add3(i64x2.shl(c, 4), i64x2.shl(c, 1), c)); l9 = i64x2.sub(l9, i64x2.shl(c, 25));
    d = carry(h9, 25); h0 = i64x2.add(h0, add3(i64x2.shl(d, 4), i64x2.shl(d, 1), d)); h9 = i64x2.sub(h9, i64x2.shl(d, 25));
    c = carry(l0, 26); l1 = i64x2.add(l1, c); l0 = i64x2.sub(l0, i64x2.shl(c, 26));
    d = carry(h0, 26); h1 = i64x2.add(h1, d); h0 = i64x2.sub(h0, i64x2.shl(d, 26));
    // Back to one i32 lane per element: the low halves of the four 64-bit results.
    f0 = i32x4.shuffle(l0, h0, 0, 2, 4, 6); f1 = i32x4.shuffle(l1, h1, 0, 2, 4, 6);
    f2 = i32x4.shuffle(l2, h2, 0, 2, 4, 6); f3 = i32x4.shuffle(l3, h3, 0, 2, 4, 6);
    f4 = i32x4.shuffle(l4, h4, 0, 2, 4, 6); f5 = i32x4.shuffle(l5, h5, 0, 2, 4, 6);
    f6 = i32x4.shuffle(l6, h6, 0, 2, 4, 6); f7 = i32x4.shuffle(l7, h7, 0, 2, 4, 6);
    f8 = i32x4.shuffle(l8, h8, 0, 2, 4, 6); f9 = i32x4.shuffle(l9, h9, 0, 2, 4, 6);
  }
  scatter(h, 0, f0); scatter(h, 1, f1); scatter(h, 2, f2); scatter(h, 3, f3); scatter(h, 4, f4);
  scatter(h, 5, f5); scatter(h, 6, f6); scatter(h, 7, f7); scatter(h, 8, f8); scatter(h, 9, f9);
}

/** h = f g, element by element (four fe_mul). */
function fe_mul_x4(h: usize, f: usize, g: usize): void {
  for (let k: usize = 0; k < QUAD_BYTES; k += FE_BYTES) fe_mul(h + k, f + k, g + k);
}

// field.ts's pow_2_250_minus_1 on a quad: leaves z^(2^250 - 1) in QUAD_T1 (same addition chain).
function pow_2_250_minus_1_x4(z: usize): void {
  const t0 = QUAD_T0, t1 = QUAD_T1, t2 = QUAD_T2, t3 = QUAD_T3;
  // The first squaring is fe_sq's, which takes uncarried limbs too; every later squaring's input
  // is then an output of fe_sq or fe_mul, as fe_sq_n_x4 needs.
  for (let k: usize = 0; k < QUAD_BYTES; k += FE_BYTES) fe_sq(t0 + k, z + k); // z^2
  fe_sq_n_x4(t1, t0, 2); //              z^8
  fe_mul_x4(t1, z, t1); //               z^9
  fe_mul_x4(t0, t0, t1); //              z^11
  fe_sq_n_x4(t2, t0, 1); //              z^22
  fe_mul_x4(t1, t1, t2); //              z^(2^5 - 1)
  fe_sq_n_x4(t2, t1, 5);
  fe_mul_x4(t1, t2, t1); //              z^(2^10 - 1)
  fe_sq_n_x4(t2, t1, 10);
  fe_mul_x4(t2, t2, t1); //              z^(2^20 - 1)
  fe_sq_n_x4(t3, t2, 20);
  fe_mul_x4(t2, t3, t2); //              z^(2^40 - 1)
  fe_sq_n_x4(t2, t2, 10);
  fe_mul_x4(t1, t2, t1); //              z^(2^50 - 1)
  fe_sq_n_x4(t2, t1, 50);
  fe_mul_x4(t2, t2, t1); //              z^(2^100 - 1)
  fe_sq_n_x4(t3, t2, 100);
  fe_mul_x4(t2, t3, t2); //              z^(2^200 - 1)
  fe_sq_n_x4(t2, t2, 50);
  fe_mul_x4(t1, t2, t1); //              z^(2^250 - 1)
}

/** h = z^((p-5)/8) = z^(2^252 - 3) for each element of the quad (fe_pow22523 on four). h may equal z. */
export function fe_pow22523_x4(h: usize, z: usize): void {
  pow_2_250_minus_1_x4(z);
  fe_sq_n_x4(QUAD_T1, QUAD_T1, 2); //    z^(2^252 - 4)
  fe_mul_x4(h, QUAD_T1, z); //           z^(2^252 - 3)
}

/** h = z^(2^251 - 1) for each element of the quad (fe_pow_2_251_minus_1 on four). h may equal z. */
export function fe_pow_2_251_minus_1_x4(h: usize, z: usize): void {
  pow_2_250_minus_1_x4(z);
  fe_sq_n_x4(QUAD_T1, QUAD_T1, 1); //    z^(2^251 - 2)
  fe_mul_x4(h, QUAD_T1, z); //           z^(2^251 - 1)
}
