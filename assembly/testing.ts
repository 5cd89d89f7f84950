// Entry of the TEST build (build/chio.test.wasm, asconfig target "test"): every release export
// (./index) plus hooks that let the test suites check internals against BigInt oracles. The
// release module (assembly/index.ts, build/chio.wasm) does not contain these; test/node/wasm.test.ts
// checks its export list. Loaded by test/helpers/test-core.ts.
//
// Field and scalar hooks: inputs at ARGS+ARG_RESULT+TEST_HOOK_INPUT (+0, +32, +64), output at
// ARGS+ARG_RESULT+TEST_HOOK_OUTPUT.
import { ARGS, ARG_RESULT } from "./memory";
import { TEST_HOOK_INPUT, TEST_HOOK_OUTPUT } from "./abi";
import { sc_reduce, sc_muladd, sc_half_size_vartime } from "./curve25519/scalar";
import { ARG_PUBLIC_KEY, ARG_SIGNATURE, ARG_SECRET, ioBase } from "./memory";
import { sign_with_seed } from "./ed25519/sign";
import {
  prepared_used_count, prepared_body, prepared_point, prepared_torsion_free, prepared_batch_slot_vartime, prepared_batch_table,
} from "./ed25519/prepared-public";
import { batch_key_entry, batch_key_lookup_vartime, BATCH_KEY_MISS, vk_stamp_of_vartime, key_index_hash } from "./ed25519/key-cache";
import { siphash24 } from "./siphash";
import { fe_frombytes, fe_tobytes, fe_mul, fe_sq, fe_sq2, fe_invert, fe_pow22523 } from "./curve25519/field";
import { ge_bytes_torsion_class_vartime, jacobi_symbol_vartime, FE_ONE_PLUS_D, FE_QUARTIC_B, ge_affine_is_torsion_free_vartime, ge_affine_is_torsion_free_x4_vartime } from "./curve25519/torsion";
import { fe_pow22523_x4, fe_pow_2_251_minus_1_x4 } from "./curve25519/field_x4";
import { fe_pow_2_251_minus_1 } from "./curve25519/field";
import { P3_BYTES, ge_frombytes_vartime, ge_frombytes_x4_vartime, ge_tobytes, ge_p3_neg, ge_odd_multiples_niels_vartime, ge_is_neutral_vartime } from "./curve25519/group";
import {
  msm_straus_vartime, straus_preset_digits, straus_scratch_bytes, PRECOMPUTED_WNAF_ENTRIES, PRECOMPUTED_TABLE_BYTES,
} from "./curve25519/scalar_mul/straus";
import { msm_pippenger_vartime, pippenger_scratch_bytes } from "./curve25519/scalar_mul/pippenger";
import { ensureIoCapacity } from "./memory";
import {
  combinedChecksPassed, combinedChecksFailed, preparedTableTerms, pointsDecoded, pointsTested, itemsVerifiedSingly, cofactoredChecks,
  batch_item_coefficient, batch_term_digits,
} from "./ed25519/batch";
import { sparse_coefficient_vartime } from "./ed25519/sparse-coefficients";
import { fixed_base_table } from "./curve25519/scalar_mul/fixed_base";

export * from "./index";
// Number formatting/parsing hooks (assembly/json/number-format.ts, number-parse.ts): test/number-*.test.ts.
export { format_f64 } from "./json/number-format";
export { parse_f64 } from "./json/number-parse";

const TEST_IN: usize = ARGS + ARG_RESULT + TEST_HOOK_INPUT;
const TEST_OUT: usize = ARGS + ARG_RESULT + TEST_HOOK_OUTPUT;
const TEST_FE: usize = memory.data(3 * 40, 16);

/** ge_is_neutral_vartime of (X : Y : Z) given as three field encodings at the hook input (+0, +32, +64). */
export function test_ge_is_neutral(): bool {
  fe_frombytes(TEST_FE, TEST_IN);
  fe_frombytes(TEST_FE + 40, TEST_IN + 32);
  fe_frombytes(TEST_FE + 80, TEST_IN + 64);
  return ge_is_neutral_vartime(TEST_FE);
}

/** out = a * b mod p */
export function test_fe_mul(): void {
  fe_frombytes(TEST_FE, TEST_IN);
  fe_frombytes(TEST_FE + 40, TEST_IN + 32);
  fe_mul(TEST_FE + 80, TEST_FE, TEST_FE + 40);
  fe_tobytes(TEST_OUT, TEST_FE + 80);
}

/** out = a^2 mod p, then (mode 1) 2a^2 */
export function test_fe_sq(mode: i32): void {
  fe_frombytes(TEST_FE, TEST_IN);
  if (mode == 1) fe_sq2(TEST_FE + 80, TEST_FE);
  else fe_sq(TEST_FE + 80, TEST_FE);
  fe_tobytes(TEST_OUT, TEST_FE + 80);
}

/** out = 1/a mod p */
export function test_fe_invert(): void {
  fe_frombytes(TEST_FE, TEST_IN);
  fe_invert(TEST_FE + 80, TEST_FE);
  fe_tobytes(TEST_OUT, TEST_FE + 80);
}

/** out = a^((p-5)/8) mod p */
export function test_fe_pow22523(): void {
  fe_frombytes(TEST_FE, TEST_IN);
  fe_pow22523(TEST_FE + 80, TEST_FE);
  fe_tobytes(TEST_OUT, TEST_FE + 80);
}

/** out = a mod p (decode then canonical encode; bit 255 ignored) */
export function test_fe_roundtrip(): void {
  fe_frombytes(TEST_FE, TEST_IN);
  fe_tobytes(TEST_OUT, TEST_FE);
}

/** out = (64-byte input) mod L */
export function test_sc_reduce(): void {
  sc_reduce(TEST_OUT, TEST_IN);
}

/** out = u, out+32 = |v| with u = v k (mod 8L), v odd; returns sign of v (0: not found). k at input+0. */
export function test_sc_half_size(): i32 {
  return sc_half_size_vartime(TEST_OUT, TEST_OUT + 32, TEST_IN);
}

/** out = (a * b + c) mod L */
export function test_sc_muladd(): void {
  sc_muladd(TEST_OUT, TEST_IN, TEST_IN + 32, TEST_IN + 64);
}

/**
 * ed25519_sign WITHOUT its final wipe: the state a signing call leaves when it is interrupted
 * just before returning (test/node/ed25519-memory.test.ts checks the JS side wipes it then).
 */
export function test_sign_unwiped(msgLen: u32): void {
  sign_with_seed(ARGS + ARG_SECRET, ioBase(), <usize>msgLen, ARGS + ARG_PUBLIC_KEY, ARGS + ARG_SIGNATURE);
}

// Prepared public keys (assembly/ed25519/prepared-public.ts): test/node/ed25519-prepared-public.test.ts.

/** Number of prepared slots holding a key. */
export function test_prepared_used(): i32 {
  return prepared_used_count();
}

/**
 * The decoded-key cache's stamp for the 32-byte key at the hook input (the slab's clock at its
 * last use as a slot-less PreparedPublicKey; 0: none), or -1 if that key is not cached.
 */
export function test_vk_stamp(): i64 {
  return vk_stamp_of_vartime(TEST_IN);
}

/** Address of the body of `slot` (to corrupt it in tests), or 0 if out of range. */
export function test_prepared_body(slot: i32): usize {
  return prepared_body(slot);
}

/**
 * Address of the width-8 odd-multiples table (batch verification) of the prepared key whose 32
 * bytes are at the hook input, through prepared_batch_slot_vartime (its check value verified), or
 * 0 if the slab does not hold that key intact.
 */
export function test_prepared_odd_table(): usize {
  const slot = prepared_batch_slot_vartime(TEST_IN);
  return slot < 0 ? 0 : prepared_batch_table(slot, TEST_IN);
}

/**
 * prepared_batch_table(slot, key at the hook input): the batch's check, after its single
 * verifications may have moved keys, that `slot` still holds that key (its table's address, or 0).
 */
export function test_prepared_batch_table(slot: i32): usize {
  return prepared_batch_table(slot, TEST_IN);
}

/** prepared_torsion_free(slot) (the internal API of batch verification): 1, 0, or -1 if prepared_point(slot) is 0. */
export function test_prepared_torsion_free(slot: i32): i32 {
  if (prepared_point(slot) == 0) return -1;
  return prepared_torsion_free(slot) ? 1 : 0;
}

/**
 * Address of the batch key cache's entry (assembly/ed25519/key-cache.ts) for the 32-byte key at
 * the hook input, or 0 if not cached. Entry: key || x || y (40-byte limbs) || u32 class || check.
 */
export function test_batch_key_entry(): usize {
  return batch_key_entry(TEST_IN);
}

/** SipHash-2-4 (siphash.ts) of the `len` bytes at the I/O arena under the key (k0, k1). */
export function test_siphash24(k0: u64, k1: u64, len: usize): u64 {
  ensureIoCapacity(len);
  return siphash24(k0, k1, ioBase(), len);
}

/** The key caches' position hash (key-cache.ts key_index_hash) of the 32-byte key at the hook input. */
export function test_key_index_hash(): u64 {
  return key_index_hash(TEST_IN);
}

/** Traps (unreachable), to test recovery of the library after a trap. */
export function test_trap(): void {
  unreachable();
}

/**
 * The four-lane exponentiations (curve25519/field_x4.ts) against the scalar ones, on the four
 * field elements given as raw limbs (4 x 10 i32) at ioBase(): writes the four-lane results
 * (4 x 10 limbs) at ioBase() + 160 and the scalar ones at ioBase() + 320. mode 0:
 * z^((p-5)/8) (fe_pow22523), 1: z^(2^251 - 1). Returns 0, -1 if memory cannot grow.
 */
export function test_fe_pow_x4(mode: i32): i32 {
  if (!ensureIoCapacity(480)) return -1;
  const io = ioBase();
  for (let k: usize = 0; k < 4; k++) {
    if (mode == 0) fe_pow22523(io + 320 + k * 40, io + k * 40);
    else fe_pow_2_251_minus_1(io + 320 + k * 40, io + k * 40);
  }
  if (mode == 0) fe_pow22523_x4(io + 160, io);
  else fe_pow_2_251_minus_1_x4(io + 160, io);
  return 0;
}

/**
 * ge_frombytes_x4_vartime and ge_affine_is_torsion_free_x4_vartime on `count` (1..4) encodings at
 * ioBase() (32 bytes each): the four-lane points at ioBase() + 128 (4 x 160 bytes), tested for
 * torsion four at a time. With `compare` != 0 also the scalar functions, points at ioBase() + 768.
 * Returns the four-lane decode mask, the scalar decode mask << 4, the four-lane torsion-free mask
 * << 8 and the scalar one << 12 (over the lanes that decoded, in order); -1 if memory cannot grow.
 * Without `compare` (bench/batch-profile.ts times it): the four-lane masks only.
 */
export function test_point_lanes_x4(count: u32, compare: i32): i32 {
  if (!ensureIoCapacity(1600)) return -1;
  const io = ioBase(), n = <usize>count;
  const tested = io + 1440;
  const decoded = decode_io_lanes_x4(n);
  let scalarDecoded: u32 = 0, scalarFree: u32 = 0, lanes: usize = 0;
  for (let k: usize = 0; k < n; k++) {
    if (compare != 0 && ge_frombytes_vartime(io + 768 + k * P3_BYTES, io + k * 32)) {
      scalarDecoded |= <u32>1 << <u32>k;
      if (ge_affine_is_torsion_free_vartime(io + 768 + k * P3_BYTES)) scalarFree |= <u32>1 << <u32>lanes;
    }
    if (((decoded >> <u32>k) & 1) == 0) continue;
    store<u32>(tested + (lanes << 2), <u32>(io + 128 + k * P3_BYTES));
    lanes++;
  }
  const free = ge_affine_is_torsion_free_x4_vartime(tested, lanes);
  return <i32>(decoded | (scalarDecoded << 4) | (free << 8) | (scalarFree << 12));
}

/**
 * Decodes `count` (<= 4) encodings at ioBase() (32 bytes each) into points at ioBase() + 128, the
 * exponentiations side by side, and tests none (bench/batch-profile.ts times it: a key new to the
 * call under one item is decoded alone, batch.ts). Returns the decode mask; -1 if memory cannot grow.
 */
export function test_point_decode_x4(count: u32): i32 {
  if (!ensureIoCapacity(1600)) return -1;
  return <i32>decode_io_lanes_x4(<usize>count);
}

// The two hooks' shared layout: n (<= 4) encodings at ioBase(), decoded four-lane into points at
// ioBase() + 128 (P3_BYTES apart), the lanes' address lists at ioBase() + 1408 and + 1424.
// Returns ge_frombytes_x4_vartime's decode mask. The caller has reserved 1600 bytes.
function decode_io_lanes_x4(n: usize): u32 {
  const io = ioBase();
  const points = io + 1408, encodings = io + 1424;
  for (let k: usize = 0; k < n; k++) {
    store<u32>(points + (k << 2), <u32>(io + 128 + k * P3_BYTES));
    store<u32>(encodings + (k << 2), <u32>(io + k * 32));
  }
  return ge_frombytes_x4_vartime(points, encodings, n);
}

/**
 * Torsion class of the 32 bytes at input+0 (curve25519/torsion.ts): 1 in the prime-order
 * subgroup, 0 with a torsion component, -1 not a point (dalek decoding rule).
 */
export function ge_is_torsion_free_vartime(): i32 {
  return ge_bytes_torsion_class_vartime(TEST_IN);
}

/** Jacobi symbol (a / p) of the field element a at input+0 (any 255-bit value; reduced mod p first): 1, -1 or 0. */
export function test_fe_legendre(): i32 {
  fe_frombytes(TEST_FE, TEST_IN);
  fe_tobytes(TEST_OUT, TEST_FE);
  return jacobi_symbol_vartime(TEST_OUT);
}

/** The torsion test's constants 1 + d (output+0) and b (output+32), canonically encoded. */
export function test_torsion_constants(): void {
  fe_tobytes(TEST_OUT, FE_ONE_PLUS_D);
  fe_tobytes(TEST_OUT + 32, FE_QUARTIC_B);
}

/**
 * Multi-scalar multiplication hook: at ioBase(), n encoded points (32 bytes each), then n
 * scalars (32 bytes each, < 2^253), then the base-point scalar b. Writes the encoding of
 * [b]B + sum [s_t] P_t to output+0. method 0: Straus, 1: Pippenger; plus TEST_MSM_PROJECTIVE (8):
 * every odd-indexed point is given with Z != 1 (its coordinates scaled by t + 2); plus
 * TEST_MSM_PRECOMPUTED (16, Straus only): every third point (t = 0, 3, ...) enters as a
 * subtracted term -[s_t](-P_t) through the width-8 affine table ge_odd_multiples_niels_vartime
 * makes of -P_t (a prepared key's table); plus TEST_MSM_SPARSE (32, Straus only, not with
 * TEST_MSM_PRECOMPUTED) with a count k in bits 16 and up: the first k terms are preset terms whose
 * coefficient is the sparse one drawn from their 32 scalar bytes and 32 zero bytes
 * (sparse-coefficients.ts, as the batch draws R's); plus TEST_MSM_REUSE_POINTS
 * (4): keep the points the previous call with the same n decoded (for timing the MSM alone). Returns 0, or -1 if a point does not
 * decode or memory cannot grow.
 */
export function test_msm(n: u32, method: i32): i32 {
  const count = <usize>n;
  const input = ioBase();
  const inputBytes = (count * 64 + 32 + 15) & ~(<usize>15);
  const pointBytes = count * P3_BYTES;
  const ptrBytes = (count * 4 + 15) & ~(<usize>15);
  const straus = straus_scratch_bytes(0, count, 0); // every term a per-call one: the most any mode below takes
  const pippenger = pippenger_scratch_bytes(count);
  const scratchBytes = straus > pippenger ? straus : pippenger;
  // Precomputed-table mode: term lists (pointers and scalars twice over), the tables, their scratch.
  const listBytes: usize = (ptrBytes + count * 32) << 1;
  const precomputedBytes: usize = listBytes + count * PRECOMPUTED_TABLE_BYTES + PRECOMPUTED_WNAF_ENTRIES * 40;
  if (!ensureIoCapacity(inputBytes + pointBytes + ptrBytes + scratchBytes + precomputedBytes + 16)) return -1;
  const points = input + inputBytes;
  const ptrs = points + pointBytes;
  const scratch = ptrs + ptrBytes;
  if ((method & TEST_MSM_REUSE_POINTS) == 0) {
    for (let t: usize = 0; t < count; t++) {
      if (!ge_frombytes_vartime(points + t * P3_BYTES, input + t * 32)) return -1;
      store<u32>(ptrs + (t << 2), <u32>(points + t * P3_BYTES));
    }
  }
  if ((method & TEST_MSM_PROJECTIVE) != 0) {
    for (let t: usize = 1; t < count; t += 2) {
      memory.fill(TEST_MSM_FACTOR, 0, 32);
      store<u8>(TEST_MSM_FACTOR, <u8>(t + 2));
      fe_frombytes(TEST_FE, TEST_MSM_FACTOR);
      const P = points + t * P3_BYTES;
      for (let c: usize = 0; c < 160; c += 40) fe_mul(P + c, P + c, TEST_FE); // (X, Y, Z, T) * λ: the same point
    }
  }
  const precomputed = (method & TEST_MSM_PRECOMPUTED) != 0;
  const sparse = (method & TEST_MSM_SPARSE) != 0;
  const preset = <usize>(<u32>method >> 16);
  method &= ~(TEST_MSM_REUSE_POINTS | TEST_MSM_PROJECTIVE | TEST_MSM_PRECOMPUTED | TEST_MSM_SPARSE) & 0xffff;
  if (sparse) {
    // The first `preset` terms enter as preset terms, with the sparse coefficient drawn from the
    // 64-byte seed (their 32 scalar bytes, then 32 zeros), as the batch's R terms do.
    if (method != 0 || precomputed || preset > count) return -1;
    let presetTop: i32 = -1;
    for (let t: usize = 0; t < preset; t++) {
      memory.copy(TEST_MSM_SEED, input + count * 32 + (t << 5), 32);
      memory.fill(TEST_MSM_SEED + 32, 0, 32);
      const top = sparse_coefficient_vartime(straus_preset_digits(scratch, t), TEST_MSM_FACTOR, TEST_MSM_SEED);
      if (top > presetTop) presetTop = top;
    }
    msm_straus_vartime(TEST_MSM_OUT, ptrs, input + count * 32, count, preset, presetTop, 0, 0, 0, input + count * 64, scratch);
    ge_tobytes(TEST_OUT, TEST_MSM_OUT);
    return 0;
  }
  if (precomputed) {
    if (method != 0) return -1;
    const pointList = scratch + scratchBytes;
    const scalarList = pointList + ptrBytes;
    const tableList = scalarList + count * 32;
    const tableScalarList = tableList + ptrBytes;
    const tables = tableScalarList + count * 32;
    const prefix = tables + count * PRECOMPUTED_TABLE_BYTES;
    let n: usize = 0;
    let m: usize = 0;
    for (let t: usize = 0; t < count; t++) {
      const P = <usize>load<u32>(ptrs + (t << 2));
      if (t % 3 == 0) {
        ge_p3_neg(TEST_MSM_NEG, P);
        ge_odd_multiples_niels_vartime(tables + m * PRECOMPUTED_TABLE_BYTES, TEST_MSM_NEG, PRECOMPUTED_WNAF_ENTRIES, prefix);
        store<u32>(tableList + (m << 2), <u32>(tables + m * PRECOMPUTED_TABLE_BYTES));
        memory.copy(tableScalarList + (m << 5), input + count * 32 + (t << 5), 32);
        m++;
      } else {
        store<u32>(pointList + (n << 2), <u32>P);
        memory.copy(scalarList + (n << 5), input + count * 32 + (t << 5), 32);
        n++;
      }
    }
    msm_straus_vartime(TEST_MSM_OUT, pointList, scalarList, n, 0, -1, tableList, tableScalarList, m, input + count * 64, scratch);
  } else if (method == 0) msm_straus_vartime(TEST_MSM_OUT, ptrs, input + count * 32, count, 0, -1, 0, 0, 0, input + count * 64, scratch);
  else if (method == 1) msm_pippenger_vartime(TEST_MSM_OUT, ptrs, input + count * 32, count, input + count * 64, scratch);
  else return -1;
  ge_tobytes(TEST_OUT, TEST_MSM_OUT);
  return 0;
}
const TEST_MSM_REUSE_POINTS: i32 = 4;
const TEST_MSM_PROJECTIVE: i32 = 8;
const TEST_MSM_PRECOMPUTED: i32 = 16;
const TEST_MSM_SPARSE: i32 = 32;
const TEST_MSM_SEED: usize = memory.data(64, 16);
const TEST_MSM_NEG: usize = memory.data(<i32>P3_BYTES, 16);
const TEST_MSM_FACTOR: usize = memory.data(32, 16);
const TEST_MSM_OUT: usize = memory.data(<i32>P3_BYTES, 16);

/** Points batch verification decoded so far (keys and R values; batch.ts counters). */
export function test_batch_points_decoded(): u32 {
  return pointsDecoded;
}

/** Points batch verification tested for torsion so far (keys, R values, deferred items' Q; batch.ts counters). */
export function test_batch_points_tested(): u32 {
  return pointsTested;
}

/** Items batch verification sent to the single verifier so far (batch.ts counters). */
export function test_batch_singles(): u32 {
  return itemsVerifiedSingly;
}

/** Batch verification's combined checks that passed so far (batch.ts counters). */
export function test_batch_checks_passed(): u32 {
  return combinedChecksPassed;
}
/** Batch verification's combined checks that failed so far. */
export function test_batch_checks_failed(): u32 {
  return combinedChecksFailed;
}
/** Combined checks made cofactored so far (ZIP-215, or a deferred key among the candidates; batch.ts). */
export function test_batch_cofactored_checks(): u32 {
  return cofactoredChecks;
}
/** Key terms that combined checks took from prepared keys' tables so far. */
export function test_batch_table_terms(): u32 {
  return preparedTableTerms;
}
/** Address of the digits of MSM term t (256 signed bytes) as the last batch's combined check used them, if by Straus's method. */
export function test_batch_term_digits(t: u32): usize {
  return batch_term_digits(<usize>t);
}

/**
 * sparse_coefficient_vartime on the 64-byte seed at the hook input: its digits (256 signed bytes)
 * at the I/O arena's start, the value mod L (32 bytes) after them; returns the highest digit's
 * position. The caller reserves 288 bytes of the arena.
 */
export function test_sparse_coefficient(): i32 {
  return sparse_coefficient_vartime(ioBase(), ioBase() + 256, TEST_IN);
}

/** Address of item i's coefficient z_i mod L (32 bytes) as the last batch derived it (its scratch is not wiped). */
export function test_batch_coefficient(i: u32): usize {
  return batch_item_coefficient(<usize>i);
}

/**
 * batch_key_lookup_vartime for the 32-byte key at the hook input, checked against decoding: the
 * cached class (1 torsion-free, 2 with torsion, 3 not yet tested) if the point it restores is
 * byte for byte the p3 point ge_frombytes_vartime makes of the key, -1 if it differs, 0 on a miss.
 */
export function test_batch_key_lookup_exact(): i32 {
  const keyClass = batch_key_lookup_vartime(TEST_IN, TEST_POINT_A);
  if (keyClass == BATCH_KEY_MISS) return 0;
  if (!ge_frombytes_vartime(TEST_POINT_B, TEST_IN)) return -1;
  return memory.compare(TEST_POINT_A, TEST_POINT_B, P3_BYTES) == 0 ? <i32>keyClass : -1;
}
const TEST_POINT_A: usize = memory.data(<i32>P3_BYTES, 16);
const TEST_POINT_B: usize = memory.data(<i32>P3_BYTES, 16);

/** The signing table of scalar_mul/fixed_base.ts (built on first use): its address. */
export function test_fixed_base_table(): usize {
  return fixed_base_table();
}
