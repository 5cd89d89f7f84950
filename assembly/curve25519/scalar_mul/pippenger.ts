// Variable-time multi-scalar multiplication by Pippenger's bucket method, for large batches
// (assembly/ed25519/batch.ts picks it over Straus above a measured size):
//
//   out = [b]B + sum_t [s_t] P_t
//
// Each scalar is written in signed radix-2^c digits d_j in [-2^(c-1), 2^(c-1)]. For each window
// j, from the top: acc = [2^c] acc; every term adds (or subtracts) its point into bucket |d_j|;
// the buckets are summed as sum_k k * bucket_k with two running sums (2 * 2^(c-1) additions);
// acc += that sum. Cost ≈ (253/c) * (n + 2^c) additions + 253 doublings, against Straus's
// ≈ n * (8 + 253/6): it wins once n is large enough for a wide window. B is one more term.
//
// Memory: the caller passes `scratch` of pippenger_scratch_bytes(n) bytes. Variable time:
// only for public data (verification).
import {
  P3_BYTES, CACHED_BYTES, ge_p3_0, ge_p2_dbl, ge_p1p1_to_p2, ge_p1p1_to_p3, ge_p3_to_cached, ge_add, ge_sub,
  ge_madd, ge_msub, ge_base_point, ge_p3_neg,
} from "../group";
import { fe_add, fe_sub, fe_mul } from "../field";
import { FE_D2 } from "../tables";

/** Most windows: ceil(256 / c) + 1 for the smallest c used (a final carry digit). */
const MAX_DIGITS: usize = 64;
const MIN_WIDTH: i32 = 5;
const MAX_WIDTH: i32 = 9;

const BASE_POINT: usize = memory.data(<i32>P3_BYTES, 16);
const BASE_PTR: usize = memory.data(4, 16);
let basePointReady: bool = false;
const ACC_P1P1: usize = memory.data(160, 16);
const SUM: usize = memory.data(<i32>P3_BYTES, 16);
const TOTAL: usize = memory.data(<i32>P3_BYTES, 16);
const TMP_CACHED: usize = memory.data(<i32>CACHED_BYTES, 16);

/** The window width for n terms (fewer wide buckets pay off only for many terms). */
export function pippenger_width(n: usize): i32 {
  if (n < 96) return MIN_WIDTH;
  if (n < 288) return 6;
  if (n < 700) return 7;
  if (n < 1600) return 8;
  return MAX_WIDTH;
}

/** Scratch bytes for n terms (plus B): cached points, digits, buckets and their flags, the terms' forms. */
export function pippenger_scratch_bytes(n: usize): usize {
  const terms = n + 1;
  const buckets: usize = <usize>1 << <usize>(pippenger_width(n) - 1);
  return terms * CACHED_BYTES + terms * MAX_DIGITS * 2 + buckets * (P3_BYTES + 16) + ((terms + 15) & ~(<usize>15));
}

/** true if the p3 point P has Z = 1 exactly (as decoding leaves it), so (x, y) = (X, Y) and T = xy. */
function is_affine_vartime(P: usize): bool {
  if (load<i32>(P + 80) != 1) return false;
  for (let i: usize = 4; i < 40; i += 4) if (load<i32>(P + 80 + i) != 0) return false;
  return true;
}

/** r (niels: y+x, y-x, 2dxy) from a p3 point with Z = 1. */
function affine_p3_to_niels(r: usize, P: usize): void {
  fe_add(r, P + 40, P);
  fe_sub(r + 40, P + 40, P);
  fe_mul(r + 80, P + 120, FE_D2);
}

/** Signed radix-2^c digits of the 32-byte scalar s (< 2^255) into out (i16 each, `count` of them). */
function signed_digits(out: usize, s: usize, c: i32, count: i32): void {
  const mask: u32 = (<u32>1 << <u32>c) - 1;
  const half: i32 = 1 << (c - 1);
  let carry: i32 = 0;
  for (let j = 0; j < count; j++) {
    const bit = j * c;
    let window: u32 = 0;
    if (bit < 256) {
      // Read up to 32 bits covering [bit, bit + c) (the scalar buffer is 32 bytes: clamp the read).
      const byte = bit >> 3;
      let word: u64 = 0;
      for (let k = 0; k < 4 && byte + k < 32; k++) word |= (<u64>load<u8>(s + <usize>(byte + k))) << (<u64>(8 * k));
      window = (<u32>(word >> <u64>(bit & 7))) & mask;
    }
    let digit = <i32>window + carry;
    carry = (digit + half) >> c; //   1 if digit >= 2^(c-1)
    digit -= carry << c;
    store<i16>(out + (<usize>j << 1), <i16>digit);
  }
}

/**
 * out (p3) = [b]B + sum_{t < n} [s_t] P_t, where P_t is the p3 point at address
 * load<u32>(pointPtrs + 4t) and s_t the 32-byte scalar (< 2^253) at scalars + 32t.
 * `scratch` holds pippenger_scratch_bytes(n) bytes. Variable time.
 */
export function msm_pippenger_vartime(out: usize, pointPtrs: usize, scalars: usize, n: usize, b: usize, scratch: usize): void {
  if (!basePointReady) {
    ge_base_point(BASE_POINT);
    basePointReady = true;
  }
  const c = pippenger_width(n);
  const digitsCount: i32 = (253 + c - 1) / c + 1;
  const bucketCount: usize = <usize>1 << <usize>(c - 1);
  const terms = n + 1;
  const cached = scratch;
  const digits = cached + terms * CACHED_BYTES;
  const buckets = digits + terms * MAX_DIGITS * 2;
  const used = buckets + bucketCount * P3_BYTES;
  const niels = used + bucketCount; //  u8 per term: 1 if its point is kept in niels form
  for (let t: usize = 0; t < terms; t++) {
    const point = t < n ? <usize>load<u32>(pointPtrs + (t << 2)) : BASE_POINT;
    const scalar = t < n ? scalars + (t << 5) : b;
    // Points with Z = 1 (every decoded point) go in affine niels form: a mixed addition
    // (ge_madd) costs one multiplication less than the projective one (ge_add).
    if (is_affine_vartime(point)) {
      affine_p3_to_niels(cached + t * CACHED_BYTES, point);
      store<u8>(niels + t, 1);
    } else {
      ge_p3_to_cached(cached + t * CACHED_BYTES, point);
      store<u8>(niels + t, 0);
    }
    signed_digits(digits + t * MAX_DIGITS * 2, scalar, c, digitsCount);
  }
  ge_p3_0(out);
  for (let j = digitsCount - 1; j >= 0; j--) {
    // acc = [2^c] acc
    if (j != digitsCount - 1) {
      for (let k = 0; k < c; k++) {
        ge_p2_dbl(ACC_P1P1, out);
        if (k < c - 1) ge_p1p1_to_p2(out, ACC_P1P1);
        else ge_p1p1_to_p3(out, ACC_P1P1);
      }
    }
    memory.fill(used, 0, bucketCount);
    let any = false;
    for (let t: usize = 0; t < terms; t++) {
      const digit = <i32>load<i16>(digits + t * MAX_DIGITS * 2 + (<usize>j << 1));
      if (digit == 0) continue;
      any = true;
      const index = <usize>(digit > 0 ? digit - 1 : -digit - 1);
      const bucket = buckets + index * P3_BYTES;
      const point = cached + t * CACHED_BYTES;
      if (load<u8>(used + index) == 0) {
        // First entry of the bucket: a copy of +-P rather than an addition to the neutral element.
        store<u8>(used + index, 1);
        const p3 = t < n ? <usize>load<u32>(pointPtrs + (t << 2)) : BASE_POINT;
        if (digit > 0) memory.copy(bucket, p3, P3_BYTES);
        else ge_p3_neg(bucket, p3);
        continue;
      }
      if (load<u8>(niels + t) != 0) {
        if (digit > 0) ge_madd(ACC_P1P1, bucket, point);
        else ge_msub(ACC_P1P1, bucket, point);
      } else if (digit > 0) ge_add(ACC_P1P1, bucket, point);
      else ge_sub(ACC_P1P1, bucket, point);
      ge_p1p1_to_p3(bucket, ACC_P1P1);
    }
    if (!any) continue;
    // sum_k (k + 1) bucket_k = sum over k from the top of the running sum of buckets k..top.
    ge_p3_0(SUM);
    ge_p3_0(TOTAL);
    let started = false;
    for (let k = <i32>bucketCount - 1; k >= 0; k--) {
      if (load<u8>(used + <usize>k) != 0) {
        ge_p3_to_cached(TMP_CACHED, buckets + <usize>k * P3_BYTES);
        ge_add(ACC_P1P1, SUM, TMP_CACHED);
        ge_p1p1_to_p3(SUM, ACC_P1P1);
        started = true;
      }
      if (started) {
        ge_p3_to_cached(TMP_CACHED, SUM);
        ge_add(ACC_P1P1, TOTAL, TMP_CACHED);
        ge_p1p1_to_p3(TOTAL, ACC_P1P1);
      }
    }
    ge_p3_to_cached(TMP_CACHED, TOTAL);
    ge_add(ACC_P1P1, out, TMP_CACHED);
    ge_p1p1_to_p3(out, ACC_P1P1);
  }
}
