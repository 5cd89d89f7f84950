// Variable-time multi-scalar multiplication by Straus's method (interleaved wNAF), for the
// small batches of the batch verifier (assembly/ed25519/batch.ts):
//
//   out = [b]B + sum_t [s_t] P_t
//
// One shared doubling chain as long as the longest scalar; each P_t contributes a width-5
// table of odd multiples (P, 3P, ..., 15P in cached form: 7 additions) and about bits/6
// additions; B uses the generated width-8 affine table (tables.ts). Per term that is about
// 8 + 253/6 ≈ 50 additions for a 253-bit scalar and 8 + 128/6 ≈ 29 for a 128-bit one, plus the
// chain's ~253 doublings shared by all terms. Pippenger (pippenger.ts) wins for large n.
//
// Memory: the caller passes `scratch`, STRAUS_TERM_SCRATCH bytes per term (its table and digits).
// Variable time: only for public data (verification).
import {
  CACHED_BYTES, NIELS_BYTES, ODD_MULTIPLES_BYTES, ge_p3_0, ge_p2_dbl, ge_p1p1_to_p2, ge_p1p1_to_p3, ge_add, ge_sub,
  ge_madd, ge_msub, ge_odd_multiples_cached, wnaf_vartime,
} from "../group";
import { BASE_ODD_MULTIPLES, BASE_WNAF_WIDTH } from "../tables";

/** Width of the signed window for per-call points (8 odd multiples). */
const POINT_WNAF_WIDTH: i32 = 5;
/** Bytes of one term's digits (one signed byte per bit position of a 256-bit scalar). */
const DIGITS_BYTES: usize = 256;
/** Scratch bytes per term: its odd-multiples table, then its digits. */
export const STRAUS_TERM_SCRATCH: usize = ODD_MULTIPLES_BYTES + DIGITS_BYTES;

const NAF_BASE: usize = memory.data(<i32>DIGITS_BYTES, 16);
const ACC_P1P1: usize = memory.data(160, 16);
const ACC_P3: usize = memory.data(160, 16);

/**
 * out (p3) = [b]B + sum_{t < n} [s_t] P_t, where P_t is the p3 point at address
 * load<u32>(pointPtrs + 4t) and s_t the 32-byte scalar (< 2^253) at scalars + 32t.
 * `scratch` holds n * STRAUS_TERM_SCRATCH bytes. Variable time.
 */
export function msm_straus_vartime(out: usize, pointPtrs: usize, scalars: usize, n: usize, b: usize, scratch: usize): void {
  let top = wnaf_vartime(NAF_BASE, b, BASE_WNAF_WIDTH);
  for (let t: usize = 0; t < n; t++) {
    const table = scratch + t * STRAUS_TERM_SCRATCH;
    const termTop = wnaf_vartime(table + ODD_MULTIPLES_BYTES, scalars + (t << 5), POINT_WNAF_WIDTH);
    if (termTop > top) top = termTop;
    ge_odd_multiples_cached(table, <usize>load<u32>(pointPtrs + (t << 2)));
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
