// Variable-time multi-scalar multiplication by Straus's method (interleaved wNAF), for the
// small batches of the batch verifier (assembly/ed25519/batch.ts):
//
//   out = [b]B + sum_t [s_t] P_t - sum_k [u_k] Q_k
//
// One shared doubling chain as long as the longest scalar. Each per-call point P_t contributes
// a width-5 table of odd multiples (P, 3P, ..., 15P in cached form: 7 additions) and about
// bits/6 additions; per term that is about 8 + 253/6 ≈ 50 additions for a 253-bit scalar and
// 8 + 128/6 ≈ 29 for a 128-bit one, plus the chain's ~253 doublings shared by all terms. A
// point Q_k whose width-8 affine table of odd multiples is already made (a prepared key keeps
// one: ge_odd_multiples_niels_vartime, PRECOMPUTED_WNAF_ENTRIES entries) costs no table and
// about 253/9 ≈ 28 mixed additions, each a multiplication cheaper; B uses the generated width-8
// table (tables.ts) the same way. Pippenger (pippenger.ts) wins for large n.
//
// A per-call term whose digits the caller has written already (a "preset" term: the batch
// verifier's sparse coefficients, assembly/ed25519/sparse-coefficients.ts) is a width-4 NAF: it
// gets a table of 4 odd multiples (a doubling and 3 additions) and one addition per non-zero
// digit, about 4 + 17 = 21 additions for those coefficients against 29 for a uniform 128-bit one.
//
// Memory: the caller passes `scratch`, STRAUS_TERM_SCRATCH bytes per term (a per-call point's
// table and digits, a preset term's digits at straus_term_digits; a precomputed term needs only
// its digits). Variable time: only for public data (verification).
import {
  CACHED_BYTES, NIELS_BYTES, ODD_MULTIPLES_BYTES, ge_p3_0, ge_p2_dbl, ge_p1p1_to_p2, ge_p1p1_to_p3, ge_add, ge_sub,
  ge_madd, ge_msub, ge_odd_multiples_cached, ge_odd_multiples_cached_first, wnaf_vartime,
} from "../group";
import { BASE_ODD_MULTIPLES, BASE_WNAF_WIDTH } from "../tables";

/** Width of the signed window for per-call points (8 odd multiples). */
const POINT_WNAF_WIDTH: i32 = 5;
/** Width of the NAF of a preset term's digits (written by the caller): 4 odd multiples in its table. */
export const PRESET_WNAF_WIDTH: i32 = 4;
/** Width of the signed window for points with a precomputed affine table (as for B). */
const PRECOMPUTED_WNAF_WIDTH: i32 = 8;
/** Entries of a precomputed table: (2i+1) Q for i < 2^(PRECOMPUTED_WNAF_WIDTH - 2). */
export const PRECOMPUTED_WNAF_ENTRIES: usize = 1 << (PRECOMPUTED_WNAF_WIDTH - 2);
/** Bytes of a precomputed table (affine niels points). */
export const PRECOMPUTED_TABLE_BYTES: usize = PRECOMPUTED_WNAF_ENTRIES * NIELS_BYTES;
/** Bytes of one term's digits (one signed byte per bit position of a 256-bit scalar). */
const DIGITS_BYTES: usize = 256;
/** Scratch bytes per term: its odd-multiples table, then its digits. */
export const STRAUS_TERM_SCRATCH: usize = ODD_MULTIPLES_BYTES + DIGITS_BYTES;

const NAF_BASE: usize = memory.data(<i32>DIGITS_BYTES, 16);
const ACC_P1P1: usize = memory.data(160, 16);
const ACC_P3: usize = memory.data(160, 16);

/** Where term t's digits go in `scratch` (256 signed bytes, one per bit position, as wnaf_vartime writes them). */
export function straus_term_digits(scratch: usize, t: usize): usize {
  return scratch + t * STRAUS_TERM_SCRATCH + ODD_MULTIPLES_BYTES;
}

/**
 * out (p3) = [b]B + sum_{t < n} [s_t] P_t - sum_{k < m} [u_k] Q_k, where P_t is the p3 point at
 * address load<u32>(pointPtrs + 4t) and s_t, for t >= preset, the 32-byte scalar (< 2^253) at
 * scalars + 32t; for t < preset, s_t is given by its width-PRESET_WNAF_WIDTH NAF, which the
 * caller wrote at straus_term_digits(scratch, t), with no digit above position presetTop.
 * Q_k is given by its precomputed table (PRECOMPUTED_WNAF_ENTRIES affine niels odd multiples)
 * at load<u32>(tablePtrs + 4k), u_k is the 32-byte scalar (< 2^253) at tableScalars + 32k.
 * `scratch` holds (n + m) * STRAUS_TERM_SCRATCH bytes. Variable time.
 */
export function msm_straus_vartime(
  out: usize, pointPtrs: usize, scalars: usize, n: usize, preset: usize, presetTop: i32, tablePtrs: usize, tableScalars: usize, m: usize, b: usize,
  scratch: usize,
): void {
  let top = wnaf_vartime(NAF_BASE, b, BASE_WNAF_WIDTH);
  if (preset > 0 && presetTop > top) top = presetTop;
  for (let t: usize = 0; t < n; t++) {
    const table = scratch + t * STRAUS_TERM_SCRATCH;
    const point = <usize>load<u32>(pointPtrs + (t << 2));
    if (t < preset) {
      ge_odd_multiples_cached_first(table, point, 1 << (PRESET_WNAF_WIDTH - 2));
      continue;
    }
    const termTop = wnaf_vartime(table + ODD_MULTIPLES_BYTES, scalars + (t << 5), POINT_WNAF_WIDTH);
    if (termTop > top) top = termTop;
    ge_odd_multiples_cached(table, point);
  }
  const precomputedDigits = scratch + n * STRAUS_TERM_SCRATCH;
  for (let k: usize = 0; k < m; k++) {
    const termTop = wnaf_vartime(precomputedDigits + k * DIGITS_BYTES, tableScalars + (k << 5), PRECOMPUTED_WNAF_WIDTH);
    if (termTop > top) top = termTop;
  }
  ge_p3_0(out);
  if (top < 0) return;
  for (let i = top; i >= 0; i--) {
    ge_p2_dbl(ACC_P1P1, out);
    for (let t: usize = 0; t < n; t++) {
      const table = scratch + t * STRAUS_TERM_SCRATCH;
      const digit = <i32>load<i8>(table + ODD_MULTIPLES_BYTES + <usize>i);
      if (digit > 0) {
        ge_p1p1_to_p3(ACC_P3, ACC_P1P1);
        ge_add(ACC_P1P1, ACC_P3, table + <usize>(digit >> 1) * CACHED_BYTES);
      } else if (digit < 0) {
        ge_p1p1_to_p3(ACC_P3, ACC_P1P1);
        ge_sub(ACC_P1P1, ACC_P3, table + <usize>((-digit) >> 1) * CACHED_BYTES);
      }
    }
    for (let k: usize = 0; k < m; k++) {
      // Subtracted: a positive digit takes the entry away, a negative one adds it.
      const digit = <i32>load<i8>(precomputedDigits + k * DIGITS_BYTES + <usize>i);
      if (digit == 0) continue;
      const table = <usize>load<u32>(tablePtrs + (k << 2));
      ge_p1p1_to_p3(ACC_P3, ACC_P1P1);
      if (digit > 0) ge_msub(ACC_P1P1, ACC_P3, table + <usize>(digit >> 1) * NIELS_BYTES);
      else ge_madd(ACC_P1P1, ACC_P3, table + <usize>((-digit) >> 1) * NIELS_BYTES);
    }
    const digit = <i32>load<i8>(NAF_BASE + <usize>i);
    if (digit > 0) {
      ge_p1p1_to_p3(ACC_P3, ACC_P1P1);
      ge_madd(ACC_P1P1, ACC_P3, BASE_ODD_MULTIPLES + <usize>(digit >> 1) * NIELS_BYTES);
    } else if (digit < 0) {
      ge_p1p1_to_p3(ACC_P3, ACC_P1P1);
      ge_msub(ACC_P1P1, ACC_P3, BASE_ODD_MULTIPLES + <usize>((-digit) >> 1) * NIELS_BYTES);
    }
    if (i > 0) ge_p1p1_to_p2(out, ACC_P1P1);
  }
  ge_p1p1_to_p3(out, ACC_P1P1);
}
