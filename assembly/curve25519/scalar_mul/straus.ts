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
// Memory: the caller passes `scratch`, straus_scratch_bytes(preset, n, m) bytes: the preset terms
// first, PRESET_TERM_SCRATCH bytes each (4 table entries, then the digits the caller writes at
// straus_preset_digits), then the other per-call terms, STRAUS_TERM_SCRATCH bytes each (8 table
// entries, then digits), then the precomputed terms' digits. A preset term needs little more than
// half of a per-call term's bytes, which lets a batch of 256 R terms under one key fit the scratch
// that 192 per-call terms took (assembly/ed25519/batch.ts). Variable time: only for public data
// (verification).
import {
  CACHED_BYTES, NIELS_BYTES, ODD_MULTIPLES_BYTES, ge_p3_0, ge_p2_dbl, ge_p1p1_to_p2, ge_p1p1_to_p3,
  ge_madd, ge_msub, ge_odd_multiples_cached, ge_odd_multiples_cached_first, ge_add_cached_digit_vartime, wnaf_vartime,
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
/** Entries of a preset term's table: the odd multiples P, 3P, 5P, 7P of a width-4 NAF. */
const PRESET_ENTRIES: usize = 1 << (PRESET_WNAF_WIDTH - 2);
/** Scratch bytes of a preset term: its 4-entry table, then its digits. */
export const PRESET_TERM_SCRATCH: usize = PRESET_ENTRIES * CACHED_BYTES + DIGITS_BYTES;
/** Scratch bytes of any other per-call term: its 8-entry odd-multiples table, then its digits. */
export const STRAUS_TERM_SCRATCH: usize = ODD_MULTIPLES_BYTES + DIGITS_BYTES;

/**
 * Scratch bytes msm_straus_vartime needs for n per-call terms, the first `preset` of them preset
 * (preset <= n), and m precomputed terms.
 */
export function straus_scratch_bytes(preset: usize, n: usize, m: usize): usize {
  return preset * PRESET_TERM_SCRATCH + (n - preset) * STRAUS_TERM_SCRATCH + m * DIGITS_BYTES;
}

const NAF_BASE: usize = memory.data(<i32>DIGITS_BYTES, 16);
const ACC_P1P1: usize = memory.data(160, 16);
const ACC_P3: usize = memory.data(160, 16);

/**
 * Where preset term t's digits go in `scratch` (256 signed bytes, one per bit position, as
 * wnaf_vartime writes them): the same address whatever the number of terms.
 */
export function straus_preset_digits(scratch: usize, t: usize): usize {
  return scratch + t * PRESET_TERM_SCRATCH + PRESET_ENTRIES * CACHED_BYTES;
}

/**
 * out (p3) = [b]B + sum_{t < n} [s_t] P_t - sum_{k < m} [u_k] Q_k, where P_t is the p3 point at
 * address load<u32>(pointPtrs + 4t) and s_t, for t >= preset, the 32-byte scalar (< 2^253) at
 * scalars + 32t; for t < preset, s_t is given by its width-PRESET_WNAF_WIDTH NAF, which the
 * caller wrote at straus_preset_digits(scratch, t), with no digit above position presetTop.
 * Q_k is given by its precomputed table (PRECOMPUTED_WNAF_ENTRIES affine niels odd multiples)
 * at load<u32>(tablePtrs + 4k), u_k is the 32-byte scalar (< 2^253) at tableScalars + 32k.
 * `scratch` holds straus_scratch_bytes(preset, n, m) bytes. Variable time.
 */
export function msm_straus_vartime(
  out: usize, pointPtrs: usize, scalars: usize, n: usize, preset: usize, presetTop: i32, tablePtrs: usize, tableScalars: usize, m: usize, b: usize,
  scratch: usize,
): void {
  let top = wnaf_vartime(NAF_BASE, b, BASE_WNAF_WIDTH);
  if (preset > 0 && presetTop > top) top = presetTop;
  for (let t: usize = 0; t < preset; t++) {
    ge_odd_multiples_cached_first(scratch + t * PRESET_TERM_SCRATCH, <usize>load<u32>(pointPtrs + (t << 2)), PRESET_ENTRIES);
  }
  const fullTerms = scratch + preset * PRESET_TERM_SCRATCH;
  for (let t = preset; t < n; t++) {
    const table = fullTerms + (t - preset) * STRAUS_TERM_SCRATCH;
    const termTop = wnaf_vartime(table + ODD_MULTIPLES_BYTES, scalars + (t << 5), POINT_WNAF_WIDTH);
    if (termTop > top) top = termTop;
    ge_odd_multiples_cached(table, <usize>load<u32>(pointPtrs + (t << 2)));
  }
  const precomputedDigits = fullTerms + (n - preset) * STRAUS_TERM_SCRATCH;
  for (let k: usize = 0; k < m; k++) {
    const termTop = wnaf_vartime(precomputedDigits + k * DIGITS_BYTES, tableScalars + (k << 5), PRECOMPUTED_WNAF_WIDTH);
    if (termTop > top) top = termTop;
  }
  ge_p3_0(out);
  if (top < 0) return;
  for (let i = top; i >= 0; i--) {
    ge_p2_dbl(ACC_P1P1, out);
    add_terms(scratch, preset, PRESET_TERM_SCRATCH, PRESET_ENTRIES * CACHED_BYTES, i);
    add_terms(fullTerms, n - preset, STRAUS_TERM_SCRATCH, ODD_MULTIPLES_BYTES, i);
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

// ACC_P1P1 += [digit at position i] P_t for the `count` per-call terms laid out `stride` bytes
// apart from `terms`, each a table of cached odd multiples with its digits `digits` bytes in.
// @ts-ignore: decorator
@inline function add_terms(terms: usize, count: usize, stride: usize, digits: usize, i: i32): void {
  for (let t: usize = 0, table = terms; t < count; t++, table += stride) {
    ge_add_cached_digit_vartime(ACC_P1P1, ACC_P3, table, <i32>load<i8>(table + digits + <usize>i));
  }
}
