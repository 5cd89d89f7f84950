// Exact batch verification of Ed25519 signatures: every answer equals the single verify's
// (verify.ts) in both modes, up to the 2^-128 chance every randomised batch carries.
// The argument (README "Batch verification"):
//
//  * Single verify accepts iff the pre-checks pass (S < L; A decodes; R decodes and, in the
//    default mode, is canonically encoded) and D = [S]B - R - [k]A is O (default) or of order
//    dividing 8 (ZIP-215), with k = SHA-512(R || A || M) mod L over the bytes as given.
//  * If A and R are torsion-free (in the prime-order subgroup), so is D, and then [8]D = O iff
//    D = O: in both modes the single answer is "pre-checks pass and D = O". The same holds
//    whenever D itself is torsion-free, which for a key under one item new to the cache is
//    tested directly: D's torsion component is that of Q = R + [k mod 8]A (test_deferred_items),
//    one test instead of one for A and one for R.
//  * For candidates (items that pass the pre-checks with D torsion-free), with independent
//    z_i (each drawn from a hash of the caller's fresh random bytes and a digest of the whole
//    call's candidates: derive_coefficients), each from a set of at least 2^128 integers
//    distinct mod L (uniform on [0, 2^128) under Pippenger; under Straus a sparse width-4 NAF,
//    sparse-coefficients.ts, which costs fewer additions): if some D_j != O, sum z_i D_i = O for
//    at most one value of z_j mod L (D_j has prime order L), so a batch with a false item passes
//    with probability <= 2^-128. With a deferred key among the candidates the check is
//    cofactored, [8] sum z_i D_i = O, which is the same on the prime-order subgroup and removes
//    what reducing that key's merged coefficient mod L adds if it has torsion (combined_check).
//    A batch that passes therefore has every D_i = O, and each item's answer is true.
//  * Items that fail a pre-check get false (as single); under the default rule, an item whose R
//    (key torsion-free) or Q (deferred key) has a torsion component gets false too, since its D
//    has one and so is not O, and an item whose key has one goes to the single verifier itself.
//  * ZIP-215 needs none of that: single accepts iff [8]D = O, and the combined check is then
//    cofactored, [8] sum z_i D_i = sum z_i [8]D_i = O. Every [8]D_i lies in the subgroup of prime
//    order L whatever torsion A and R carry, so the same 2^-128 bound holds with no torsion test
//    (ZIP-215's cofactored rule admits batching for this reason; docs/protocol.md §4 states both rules).
//  * When the combined check fails, the single verifier answers every candidate. Halving the
//    set to find the failing items cost more than that: a combined check over m items costs
//    about a third of m single verifications plus a fixed part, so locating one failing item
//    among m by halving takes about half of m single verifications' time, two or more about as
//    much as verifying them all, and a batch where many items fail took up to 4.4x the time of
//    single verification (measured, README "Batch verification"); with singles it is about 1.5x.
//
// The combined check is one multi-scalar multiplication (scalar_mul/straus.ts while the terms
// weigh at most STRAUS_MAX_WEIGHT, scalar_mul/pippenger.ts above):
//   [sum z_i S_i]B + sum z_i (-R_i) + sum_keys (sum_{i under the key} z_i k_i)(-A) = O,
// with the terms of repeated keys merged into one (the pinned-peer case). Keys are decoded once
// per call (deduplicated by their bytes) and tested for torsion, if no cache below has them; a
// key new to the cache under one item only is not tested (its item's Q is).
//
// Keys: a key held in the prepared slab (prepared-public.ts) brings its decoded point, its
// torsion class, computed once at preparation, and a width-8 table of odd multiples that the
// Straus MSM adds from directly (no per-call table: about 28 instead of 50 additions;
// Pippenger's method takes the point). A key in the batch key cache (key-cache.ts), which
// remembers up to 1024 recently used keys that batches decoded, brings its point and class; a
// caller that has just decoded a key (the envelope batch, assembly/handshake/envelope-batch.ts)
// passes the point; any other key is decoded here.
//
// Decoding and the torsion test cost an exponentiation each (about 250 squarings): three per item
// with a key new to the call (A and R decoded, Q tested; four before the Q test), the largest part
// of a batch's cost. So batch_add_vartime only queues the keys no cache has, and the batch decodes
// and tests them when it settles, then the R values of the items whose key takes part, then the
// deferred items' Q, four at a time, the four exponentiations side by side in SIMD lanes
// (curve25519/field_x4.ts; each lane's result is the scalar function's, limb for limb).
//
// Memory: item records (layout in abi.ts, BATCH_ITEM_*) at a base address with their messages at
// offsets from it, and a scratch area of BATCH_SCRATCH_BYTES for up to BATCH_MAX_ITEMS items. The
// export ed25519_verify_batch puts both in the I/O arena (verify_batch_vartime); the envelope
// batch lays out its own. Variable time: public inputs.
import { ADDRESS_CEILING, ioBase, ioHolds, ensureIoCapacity } from "../memory";
import {
  BATCH_MAX_ITEMS, BATCH_ITEM_BYTES, BATCH_ITEM_PUBLIC_KEY, BATCH_ITEM_SIGNATURE, BATCH_ITEM_MESSAGE_OFFSET,
  BATCH_ITEM_MESSAGE_LENGTH, BATCH_ITEM_RANDOM, BATCH_ITEM_RESULT, BATCH_DONE, BATCH_OUT_OF_MEMORY, BATCH_BAD_LAYOUT,
} from "../abi";
import { sha512_init, sha512_update, sha512_final } from "../sha512";
import { sc_reduce, sc_muladd, sc_is_canonical_vartime } from "../curve25519/scalar";
import {
  P2_BYTES, P3_BYTES, ge_frombytes_x4_vartime, ge_p3_neg, ge_is_neutral_vartime, ge_mul_by_cofactor_vartime,
  ge_add_small_multiple_vartime, ge_p3_normalize_batch_vartime,
} from "../curve25519/group";
import { fe_iszero } from "../curve25519/field";
import { ge_affine_is_torsion_free_x4_vartime } from "../curve25519/torsion";
import { msm_straus_vartime, straus_preset_digits, straus_scratch_bytes } from "../curve25519/scalar_mul/straus";
import { msm_pippenger_vartime, pippenger_scratch_bytes } from "../curve25519/scalar_mul/pippenger";
import { verify_signature_vartime } from "./verify";
import { sparse_coefficient_vartime } from "./sparse-coefficients";
import { prepared_batch_slot_vartime, prepared_batch_point, prepared_batch_torsion_free, prepared_batch_table } from "./prepared-public";
import {
  batch_key_lookup_vartime, batch_key_store_vartime, BATCH_KEY_MISS, BATCH_KEY_TORSION_FREE, BATCH_KEY_HAS_TORSION,
  BATCH_KEY_CLASS_UNKNOWN,
} from "./key-cache";

// Per-item state (scratch): -R (p3), k, the key's index, what R's checks found (R_* below), the
// coefficient z mod L (32 bytes).
const ITEM_NEG_R: usize = 0;
const ITEM_K: usize = P3_BYTES;
const ITEM_KEY: usize = ITEM_K + 32;
const ITEM_R_CLASS: usize = ITEM_KEY + 4;
const ITEM_Z: usize = ITEM_KEY + 16;
const ITEM_STATE_BYTES: usize = ITEM_Z + 32;
/** The item is answered false: S >= L, R does not decode, or (default rule) R is not canonically encoded. */
const R_REJECTED: u32 = 0;
/** R may join the combined check: torsion-free (default rule), or any point (ZIP-215). */
const R_JOINS: u32 = 1;
/** R (or, under a KEY_DEFERRED key, the item's Q) has a torsion component (default rule): D is not O, the item is false. */
const R_HAS_TORSION: u32 = 2;
/** R is decoded and tested when the batch settles, if the item's key takes part (resolve_points). */
const R_PENDING: u32 = 3;
/** R is decoded when the batch settles but not tested: its key is KEY_DEFERRED, and the item's Q is tested instead. */
const R_DECODE_ONLY: u32 = 4;
// Per-distinct-key state: -A (p3), its merged coefficient, its class, the last check that used
// it, its prepared slot.
const KEY_NEG_A: usize = 0;
const KEY_COEFFICIENT: usize = P3_BYTES;
const KEY_CLASS: usize = KEY_COEFFICIENT + 32; //   u32: KEY_* below
const KEY_STAMP: usize = KEY_CLASS + 4; //          u32
const KEY_RECORD: usize = KEY_STAMP + 4; //         u32: address of the first item record with these bytes
const KEY_SLOT: usize = KEY_RECORD + 4; //          i32: its prepared slot (prepared-public.ts), or -1
const KEY_USES: usize = KEY_SLOT + 4; //            u32: items under the key (counted when the batch settles)
const KEY_FRESH: usize = KEY_USES + 4; //           u32: 1 if no cache had the key (decoded in this call)
const KEY_STATE_BYTES: usize = KEY_FRESH + 4;
const KEY_NOT_A_POINT: u32 = 0;
const KEY_TORSION_FREE: u32 = 1;
const KEY_HAS_TORSION: u32 = 2;
/** Queued: the key is decoded (unless its point is already there) and tested when the batch settles. */
const KEY_PENDING: u32 = 3;
/** Queued, one item under it (default rule): decoded when the batch settles, not tested (resolve_points). */
const KEY_DECODE_ONLY: u32 = 4;
/** Decoded, class unknown: its one item joins the combined check if the item's Q is torsion-free (test_deferred_items). */
const KEY_DEFERRED: u32 = 5;

// The points a batch decodes and tests when it settles (resolve_points), 16 bytes each: where the
// point goes, its encoding (0: already decoded), the key or item state it belongs to, and which.
const WORK_POINT: usize = 0;
const WORK_ENCODING: usize = 4;
const WORK_OWNER: usize = 8;
const WORK_IS_KEY: usize = 12;
const WORK_ENTRY_BYTES: usize = 16;

const MAX_ITEMS: usize = <usize>BATCH_MAX_ITEMS;
const MAX_TERMS: usize = 2 * MAX_ITEMS;
// Scratch layout, from the 16-aligned end of the input.
const SCR_ITEMS: usize = 0;
const SCR_KEYS: usize = SCR_ITEMS + MAX_ITEMS * ITEM_STATE_BYTES;
const SCR_CANDIDATES: usize = SCR_KEYS + MAX_ITEMS * KEY_STATE_BYTES; //   u32 item indices
const SCR_KEY_LIST: usize = SCR_CANDIDATES + MAX_ITEMS * 4; //             u32 key indices of one check
const SCR_TERM_POINTS: usize = SCR_KEY_LIST + MAX_ITEMS * 4; //            u32 point addresses
const SCR_TERM_SCALARS: usize = SCR_TERM_POINTS + MAX_TERMS * 4; //        32-byte scalars
const SCR_TABLE_TERMS: usize = SCR_TERM_SCALARS + MAX_TERMS * 32; //       u32 prepared-table addresses
const SCR_TABLE_SCALARS: usize = SCR_TABLE_TERMS + MAX_ITEMS * 4; //       32-byte scalars
const SCR_WORK: usize = SCR_TABLE_SCALARS + MAX_ITEMS * 32; //            one R and at most one key per item
const SCR_MSM: usize = SCR_WORK + MAX_TERMS * WORK_ENTRY_BYTES;
// test_deferred_items' points Q (p3) and its inversion's prefix products, in the MSM's scratch,
// which is free until the combined check.
const SCR_DEFERRED_Q: usize = SCR_MSM;
const SCR_DEFERRED_PREFIX: usize = SCR_DEFERRED_Q + MAX_ITEMS * P3_BYTES;
const DEFERRED_SCRATCH_BYTES: usize = MAX_ITEMS * (P3_BYTES + 40);
/**
 * The MSM is Straus's while R terms + 2 x key terms is at most this, Pippenger's above: a key's
 * term (a 253-bit coefficient, about 50 additions with its table) costs Straus about twice an R
 * term (sparse, about 21), while Pippenger's cost per term hardly depends on which. Measured
 * crossover (README "Batch verification" step 4; the measurements in docs/batch-verification.md):
 * about 100 items under distinct keys (weight 300); a full chunk of 256 under one key (weight
 * 258) is cheaper by Straus.
 */
const STRAUS_MAX_WEIGHT: usize = 300;
/**
 * Straus's scratch at that weight, all keys per-call terms: largest at 256 R terms and 22 keys
 * (a key's term takes STRAUS_TERM_SCRATCH bytes, an R term's the smaller PRESET_TERM_SCRATCH).
 */
const STRAUS_SCRATCH_BYTES: usize = straus_scratch_bytes(MAX_ITEMS, MAX_ITEMS + ((STRAUS_MAX_WEIGHT - MAX_ITEMS) >> 1), 0);
const MSM_SCRATCH_BYTES: usize = max<usize>(max<usize>(STRAUS_SCRATCH_BYTES, pippenger_scratch_bytes(MAX_TERMS)), DEFERRED_SCRATCH_BYTES);
/** Scratch bytes one batch needs (batch_begin_vartime). */
export const BATCH_SCRATCH_BYTES: usize = SCR_MSM + MSM_SCRATCH_BYTES;
/** Sets this small are verified singly rather than by a combined check. */
const SINGLES_BELOW: usize = 3;

const DIGEST: usize = memory.data(64, 16);
/** The digest of the call's candidates (derive_coefficients). */
const TRANSCRIPT: usize = memory.data(64, 16);
/** "chio-batch-t/v1" (15 bytes): the domain of the candidates' digest. */
const T_DOMAIN: usize = memory.data<u8>([0x63, 0x68, 0x69, 0x6f, 0x2d, 0x62, 0x61, 0x74, 0x63, 0x68, 0x2d, 0x74, 0x2f, 0x76, 0x31]);
/** "chio-batch-z/v2" (15 bytes): domain || 16 random bytes || digest || u32 index is 99 bytes, one SHA-512 block. */
const Z_DOMAIN: usize = memory.data<u8>([0x63, 0x68, 0x69, 0x6f, 0x2d, 0x62, 0x61, 0x74, 0x63, 0x68, 0x2d, 0x7a, 0x2f, 0x76, 0x32]);
const DOMAIN_BYTES: usize = 15;
const INDEX_BYTES: usize = memory.data(4, 4);
const B_COEFFICIENT: usize = memory.data(32, 16);
const CHECK_POINT: usize = memory.data(<i32>P3_BYTES, 16);
const CHECK_P2: usize = memory.data(<i32>P2_BYTES, 16);

// Counters since the instance started, read only by the test build's hooks (assembly/testing.ts):
// a combined check cannot give a wrong verdict on its own (a failing one sends every candidate to
// the single verifier), so tests count checks by outcome, and key terms taken from prepared
// tables, to see that a path is taken and that its result is right.
export let combinedChecksPassed: u32 = 0;
export let combinedChecksFailed: u32 = 0;
export let preparedTableTerms: u32 = 0;
/** Points the batches decoded (keys and R values, resolve_points): a test sees which it skipped. */
export let pointsDecoded: u32 = 0;
/** Points the batches tested for torsion (keys, R values and deferred items' Q). */
export let pointsTested: u32 = 0;
/** Items the batches sent to the single verifier (a key with torsion, a failed or too small check). */
export let itemsVerifiedSingly: u32 = 0;
/** Combined checks made cofactored (ZIP-215, or a deferred key among the candidates); the others are exact. */
export let cofactoredChecks: u32 = 0;

let recordsBase: usize = 0;
let scratch: usize = 0;
let zip215Mode: bool = false;
let checkStamp: u32 = 0;
let keyCount: usize = 0;
let candidates: usize = 0;
/** Candidates under a KEY_DEFERRED key: the combined check is then cofactored (combined_check). */
let deferredCandidates: usize = 0;
let staged: usize = 0;
let workCount: usize = 0;
// Up to four lanes' addresses for ge_frombytes_x4_vartime / ge_affine_is_torsion_free_x4_vartime,
// and the work entries they belong to.
const LANE_POINTS: usize = memory.data(16, 16);
const LANE_ENCODINGS: usize = memory.data(16, 16);
const LANE_ENTRIES: usize = memory.data(16, 16);

// @ts-ignore: decorator
@inline function record(i: usize): usize {
  return recordsBase + i * BATCH_ITEM_BYTES;
}
// @ts-ignore: decorator
@inline function itemState(i: usize): usize {
  return scratch + SCR_ITEMS + i * ITEM_STATE_BYTES;
}
// @ts-ignore: decorator
@inline function candidate(c: usize): usize {
  return <usize>load<u32>(scratch + SCR_CANDIDATES + (c << 2));
}
// @ts-ignore: decorator
@inline function keyState(j: usize): usize {
  return scratch + SCR_KEYS + j * KEY_STATE_BYTES;
}

/** true if the 32 bytes at s are the canonical encoding of the point P decoded from them (RFC 8032 §5.1.2). */
function is_canonical_point_encoding_vartime(s: usize, P: usize): bool {
  // y >= p = 2^255 - 19 only if bytes 1..30 are 0xff, byte 31 is 0x7f (sign masked) and byte 0 >= 0xed.
  let yAtLeastP = (load<u8>(s + 31) & 0x7f) == 0x7f && load<u8>(s) >= 0xed;
  for (let i: usize = 1; i < 31 && yAtLeastP; i++) if (load<u8>(s + i) != 0xff) yAtLeastP = false;
  if (yAtLeastP) return false;
  // x = 0 must be encoded with sign bit 0.
  return (load<u8>(s + 31) >> 7) == 0 || fe_iszero(P) == 0;
}

/** The single verifier's answer for item i (its own decoding, hashing and check). */
function verify_single(i: usize): bool {
  itemsVerifiedSingly++;
  const r = record(i);
  const msg = recordsBase + <usize>load<u32>(r + BATCH_ITEM_MESSAGE_OFFSET);
  const len = <usize>load<u32>(r + BATCH_ITEM_MESSAGE_LENGTH);
  return verify_signature_vartime(r + BATCH_ITEM_SIGNATURE, msg, len, r + BATCH_ITEM_PUBLIC_KEY, zip215Mode);
}

/**
 * Index of the distinct key with item i's key bytes, taking it in as the next distinct key if
 * new (the caller then counts it): from the prepared slab if it is there (point and torsion class
 * from preparation), else from the batch key cache (point, and class once tested), else from
 * `decoded` (the key's point, p3 with Z = 1, or 0; cached at once, class unknown), else queued
 * for decoding. A key that still needs decoding or its torsion test is KEY_PENDING until the
 * batch settles (resolve_points).
 */
function find_or_add_key(i: usize, decoded: usize): usize {
  const pk = record(i) + BATCH_ITEM_PUBLIC_KEY;
  for (let j: usize = 0; j < keyCount; j++) {
    const other = <usize>load<u32>(keyState(j) + KEY_RECORD);
    if (memory.compare(other, pk, 32) == 0) return j;
  }
  const key = keyState(keyCount);
  store<u32>(key + KEY_RECORD, <u32>pk);
  // The last check's stamp: the next check (checkStamp + 1, wrapping) takes the key in afresh. A
  // fixed 0 would, once in 2^32 checks, make a check skip the new keys' terms (review-35).
  store<u32>(key + KEY_STAMP, checkStamp);
  const slot = prepared_batch_slot_vartime(pk);
  store<i32>(key + KEY_SLOT, slot);
  store<u32>(key + KEY_USES, 0);
  store<u32>(key + KEY_FRESH, 0);
  if (slot >= 0) {
    prepared_batch_point(slot, key + KEY_NEG_A);
    store<u32>(key + KEY_CLASS, zip215Mode || prepared_batch_torsion_free(slot) ? KEY_TORSION_FREE : KEY_HAS_TORSION);
    ge_p3_neg(key + KEY_NEG_A, key + KEY_NEG_A);
    return keyCount;
  }
  // The batch key cache (key-cache.ts) gives the point as decoding makes it and, once tested, the class.
  let cached = batch_key_lookup_vartime(pk, key + KEY_NEG_A);
  if (cached == BATCH_KEY_MISS) {
    store<u32>(key + KEY_FRESH, 1);
    if (decoded == 0) {
      queue_point(key + KEY_NEG_A, pk, key, true);
      store<u32>(key + KEY_CLASS, KEY_PENDING);
      return keyCount;
    }
    // Cached at once, class unknown until tested: the envelope batch parses its next envelopes
    // before the batch settles, and one from the same key takes the point from the cache
    // (inspect_public_key_into_vartime) instead of decoding it again.
    memory.copy(key + KEY_NEG_A, decoded, P3_BYTES);
    batch_key_store_vartime(pk, key + KEY_NEG_A, BATCH_KEY_CLASS_UNKNOWN);
    cached = BATCH_KEY_CLASS_UNKNOWN;
  }
  // The cofactored (ZIP-215) check needs no torsion test: every key takes part (see
  // combined_check). The default rule tests a key once and the cache keeps the class.
  if (!zip215Mode && cached == BATCH_KEY_CLASS_UNKNOWN) {
    queue_point(key + KEY_NEG_A, 0, key, true);
    store<u32>(key + KEY_CLASS, KEY_PENDING);
    return keyCount;
  }
  store<u32>(key + KEY_CLASS, zip215Mode || cached == BATCH_KEY_TORSION_FREE ? KEY_TORSION_FREE : KEY_HAS_TORSION);
  ge_p3_neg(key + KEY_NEG_A, key + KEY_NEG_A);
  return keyCount;
}

/** Queues a point for resolve_points: decoded from `encoding` into `point` unless encoding is 0, then tested (default rule). */
function queue_point(point: usize, encoding: usize, owner: usize, isKey: bool): void {
  const entry = scratch + SCR_WORK + workCount * WORK_ENTRY_BYTES;
  store<u32>(entry + WORK_POINT, <u32>point);
  store<u32>(entry + WORK_ENCODING, <u32>encoding);
  store<u32>(entry + WORK_OWNER, <u32>owner);
  store<u32>(entry + WORK_IS_KEY, isKey ? 1 : 0);
  workCount++;
}

// @ts-ignore: decorator
@inline function workEntry(w: usize): usize {
  return scratch + SCR_WORK + w * WORK_ENTRY_BYTES;
}

/**
 * Decodes and tests the queued keys, then the R values of the items whose key takes part, four
 * at a time so that their exponentiations run side by side (ge_frombytes_x4_vartime,
 * ge_affine_is_torsion_free_x4_vartime: each lane's answer is the scalar function's), and
 * settles each key's and each such R's class:
 *  - a key that does not decode is KEY_NOT_A_POINT; one that does is cached (key-cache.ts) with
 *    its class, tested under the default rule (unknown under ZIP-215, and for KEY_DEFERRED), and
 *    negated;
 *  - an R that does not decode, or (default rule) is not canonically encoded, is R_REJECTED;
 *    else R_JOINS or R_HAS_TORSION by its test (ZIP-215: R_JOINS untested), or, under a
 *    KEY_DEFERRED key, by its item's Q (test_deferred_items).
 * The verdicts are those of deciding each item on its own (batch_add_vartime's order of checks
 * only skipped work whose outcome did not matter).
 */
function resolve_points(): void {
  // Default rule: a key new to the cache under one item only is decoded but not tested; that
  // item's Q is tested instead (test_deferred_items), one test where the key's and R's would be
  // two. A key under several items is tested once, and then each R; so is a key the cache holds
  // with its class unknown (seen before, under one item or under ZIP-215): a key seen again is
  // likely to be seen more, and once tested the cache keeps its class.
  if (!zip215Mode) {
    for (let i: usize = 0; i < staged; i++) {
      const state = itemState(i);
      if (load<u32>(state + ITEM_R_CLASS) != R_PENDING) continue;
      const key = keyState(<usize>load<u32>(state + ITEM_KEY));
      store<u32>(key + KEY_USES, load<u32>(key + KEY_USES) + 1);
    }
    for (let j: usize = 0; j < keyCount; j++) {
      const key = keyState(j);
      if (load<u32>(key + KEY_CLASS) == KEY_PENDING && load<u32>(key + KEY_USES) == 1 && load<u32>(key + KEY_FRESH) != 0) store<u32>(key + KEY_CLASS, KEY_DECODE_ONLY);
    }
  }
  resolve_queue(); // the keys batch_add_vartime queued
  for (let j: usize = 0; j < keyCount; j++) {
    const key = keyState(j);
    if (load<u32>(key + KEY_CLASS) != KEY_DECODE_ONLY) continue; // (KEY_NOT_A_POINT if it did not decode)
    // Cached as decoded, class unknown (a later call tests it, or defers again), then negated.
    batch_key_store_vartime(<usize>load<u32>(key + KEY_RECORD), key + KEY_NEG_A, BATCH_KEY_CLASS_UNKNOWN);
    ge_p3_neg(key + KEY_NEG_A, key + KEY_NEG_A);
    store<u32>(key + KEY_CLASS, KEY_DEFERRED);
  }
  // Then the R values, only of items whose key takes part: an item whose key is not a point is
  // false, and one whose key has a torsion component goes to the single verifier, so neither
  // needs its R here (review 66 F1: a batch of keys that do not decode took 2.6x as long).
  for (let i: usize = 0; i < staged; i++) {
    const state = itemState(i);
    if (load<u32>(state + ITEM_R_CLASS) != R_PENDING) continue;
    const keyClass = load<u32>(keyState(<usize>load<u32>(state + ITEM_KEY)) + KEY_CLASS);
    if (keyClass == KEY_DEFERRED) store<u32>(state + ITEM_R_CLASS, R_DECODE_ONLY);
    else if (keyClass != KEY_TORSION_FREE) continue;
    queue_point(state + ITEM_NEG_R, record(i) + BATCH_ITEM_SIGNATURE, state, false);
  }
  resolve_queue();
  test_deferred_items();
}

/**
 * The items under a KEY_DEFERRED key whose R decoded (R_DECODE_ONLY): k is computed now, and
 * Q = R + [k mod 8]A tested for torsion, four at a time; Q torsion-free makes R_JOINS, else
 * R_HAS_TORSION (the item is false: D is not O). Why Q decides (README "Batch verification",
 * step 2): with A = A' + T_A and R = R' + T_R (A', R' in G_L, T_A, T_R of order dividing 8),
 * D = [S]B - R - [k]A = ([S]B - R' - [k]A') - (T_R + [k]T_A), and T_R + [k]T_A = T_R + [k mod 8]T_A
 * is Q's torsion component. So Q is torsion-free iff D lies in G_L, which is what the combined
 * check needs of each candidate; the key's own class is never needed.
 */
function test_deferred_items(): void {
  let count: usize = 0;
  for (let i: usize = 0; i < staged; i++) {
    const state = itemState(i);
    if (load<u32>(state + ITEM_R_CLASS) != R_DECODE_ONLY) continue;
    hash_k(i);
    const key = keyState(<usize>load<u32>(state + ITEM_KEY));
    // Q = R + [m]A = R - [m](-A), with m = k mod 8 taken in -3..4 (m - 8 has the same effect on
    // a torsion component, whose order divides 8).
    let m = <i32>(load<u8>(state + ITEM_K) & 7);
    if (m > 4) m -= 8;
    const q = scratch + SCR_DEFERRED_Q + count * P3_BYTES;
    ge_add_small_multiple_vartime(q, state + ITEM_NEG_R, key + KEY_NEG_A, -m);
    // Tested by resolve_queue as R values are, through its Q (settle_point gives the item its class).
    store<u32>(state + ITEM_R_CLASS, R_PENDING);
    queue_point(q, 0, state, false);
    count++;
  }
  // The torsion test reads affine coordinates.
  ge_p3_normalize_batch_vartime(scratch + SCR_DEFERRED_Q, count, scratch + SCR_DEFERRED_PREFIX);
  resolve_queue();
}

/** k = SHA-512(R || A || M) mod L of item i, over the bytes as given (RFC 8032 §5.1.7 step 2), into its state. */
function hash_k(i: usize): void {
  const r = record(i);
  sha512_init();
  sha512_update(r + BATCH_ITEM_SIGNATURE, 32);
  sha512_update(r + BATCH_ITEM_PUBLIC_KEY, 32);
  sha512_update(recordsBase + <usize>load<u32>(r + BATCH_ITEM_MESSAGE_OFFSET), <usize>load<u32>(r + BATCH_ITEM_MESSAGE_LENGTH));
  sha512_final(DIGEST);
  sc_reduce(itemState(i) + ITEM_K, DIGEST);
}

/** resolve_points' work on the queued entries: decoding four at a time, then the test four at a time. */
function resolve_queue(): void {
  // Decoding: the entries that carry an encoding.
  let lanes: usize = 0;
  for (let w: usize = 0; w < workCount; w++) {
    const entry = workEntry(w);
    const encoding = load<u32>(entry + WORK_ENCODING);
    if (encoding == 0) continue;
    store<u32>(LANE_POINTS + (lanes << 2), load<u32>(entry + WORK_POINT));
    store<u32>(LANE_ENCODINGS + (lanes << 2), encoding);
    store<u32>(LANE_ENTRIES + (lanes << 2), <u32>w);
    if (++lanes == 4) {
      decode_lanes(lanes);
      lanes = 0;
    }
  }
  if (lanes > 0) decode_lanes(lanes);
  // The torsion test (default rule): every entry still pending.
  if (!zip215Mode) {
    lanes = 0;
    for (let w: usize = 0; w < workCount; w++) {
      const entry = workEntry(w);
      if (!is_pending(entry)) continue;
      store<u32>(LANE_POINTS + (lanes << 2), load<u32>(entry + WORK_POINT));
      store<u32>(LANE_ENTRIES + (lanes << 2), <u32>w);
      if (++lanes == 4) {
        test_lanes(lanes);
        lanes = 0;
      }
    }
    if (lanes > 0) test_lanes(lanes);
  }
  // ZIP-215: decoded keys and R values take part untested.
  for (let w: usize = 0; w < workCount; w++) {
    const entry = workEntry(w);
    if (is_pending(entry)) settle_point(entry, true);
  }
  workCount = 0;
}

// @ts-ignore: decorator
@inline function is_pending(entry: usize): bool {
  const owner = <usize>load<u32>(entry + WORK_OWNER);
  return load<u32>(entry + WORK_IS_KEY) != 0 ? load<u32>(owner + KEY_CLASS) == KEY_PENDING : load<u32>(owner + ITEM_R_CLASS) == R_PENDING;
}

/** Decodes the points of LANE_* (lanes of them); a failure settles its entry, a decoded non-canonical R (default rule) too. */
function decode_lanes(lanes: usize): void {
  pointsDecoded += <u32>lanes;
  const decoded = ge_frombytes_x4_vartime(LANE_POINTS, LANE_ENCODINGS, lanes);
  for (let k: usize = 0; k < lanes; k++) {
    const entry = workEntry(<usize>load<u32>(LANE_ENTRIES + (k << 2)));
    const owner = <usize>load<u32>(entry + WORK_OWNER);
    const isKey = load<u32>(entry + WORK_IS_KEY) != 0;
    if (((decoded >> <u32>k) & 1) == 0) {
      store<u32>(isKey ? owner + KEY_CLASS : owner + ITEM_R_CLASS, isKey ? KEY_NOT_A_POINT : R_REJECTED);
    } else if (!isKey && !zip215Mode && !is_canonical_point_encoding_vartime(<usize>load<u32>(entry + WORK_ENCODING), <usize>load<u32>(entry + WORK_POINT))) {
      store<u32>(owner + ITEM_R_CLASS, R_REJECTED);
    }
  }
}

/** Tests the points of LANE_POINTS (lanes of them) for torsion and settles their entries. */
function test_lanes(lanes: usize): void {
  pointsTested += <u32>lanes;
  const free = ge_affine_is_torsion_free_x4_vartime(LANE_POINTS, lanes);
  for (let k: usize = 0; k < lanes; k++) settle_point(workEntry(<usize>load<u32>(LANE_ENTRIES + (k << 2))), ((free >> <u32>k) & 1) != 0);
}

/** Settles a decoded point's entry: a key is cached with its class and negated; an R gets its class. */
function settle_point(entry: usize, torsionFree: bool): void {
  const owner = <usize>load<u32>(entry + WORK_OWNER);
  if (load<u32>(entry + WORK_IS_KEY) == 0) {
    store<u32>(owner + ITEM_R_CLASS, torsionFree ? R_JOINS : R_HAS_TORSION);
    return;
  }
  const pk = <usize>load<u32>(owner + KEY_RECORD);
  // The point is exactly ge_frombytes_vartime's of these bytes (decoded here, or by the caller
  // of batch_add_vartime, or from the cache), so the cache may keep it under them.
  batch_key_store_vartime(pk, owner + KEY_NEG_A, zip215Mode ? BATCH_KEY_CLASS_UNKNOWN : torsionFree ? BATCH_KEY_TORSION_FREE : BATCH_KEY_HAS_TORSION);
  store<u32>(owner + KEY_CLASS, zip215Mode || torsionFree ? KEY_TORSION_FREE : KEY_HAS_TORSION);
  ge_p3_neg(owner + KEY_NEG_A, owner + KEY_NEG_A);
}

/**
 * The combined check over every candidate item:
 * [sum z_i S_i]B - sum z_i R_i - sum_keys c_key A = O. Variable time.
 */
function combined_check(): bool {
  checkStamp++;
  memory.fill(B_COEFFICIENT, 0, 32);
  const points = scratch + SCR_TERM_POINTS;
  const scalars = scratch + SCR_TERM_SCALARS;
  const keyList = scratch + SCR_KEY_LIST;
  const msmScratch = scratch + SCR_MSM;
  // The distinct keys, which decide the method: one term per candidate's R and one per key.
  let keys: usize = 0;
  for (let c: usize = 0; c < candidates; c++) {
    const j = <usize>load<u32>(itemState(candidate(c)) + ITEM_KEY);
    const key = keyState(j);
    if (load<u32>(key + KEY_STAMP) != checkStamp) {
      store<u32>(key + KEY_STAMP, checkStamp);
      memory.fill(key + KEY_COEFFICIENT, 0, 32);
      store<u32>(keyList + (keys << 2), <u32>j);
      keys++;
    }
  }
  // (The scratch bound holds at every weight allowed; checked all the same, with every key
  // counted as a per-call term, so that a change of either constant cannot overrun it.)
  const straus = candidates + (keys << 1) <= STRAUS_MAX_WEIGHT && straus_scratch_bytes(candidates, candidates + keys, 0) <= MSM_SCRATCH_BYTES;
  // Under Straus the R terms' coefficients are drawn sparse, their digits written straight into
  // the MSM's scratch (term c is candidate c's R); under Pippenger uniform on [0, 2^128).
  const presetTop = derive_coefficients(straus ? msmScratch : 0);
  let terms: usize = 0;
  for (let c: usize = 0; c < candidates; c++) {
    const i = candidate(c);
    const r = record(i);
    const state = itemState(i);
    // Term z_i (-R_i).
    store<u32>(points + (terms << 2), <u32>(state + ITEM_NEG_R));
    if (!straus) memory.copy(scalars + (terms << 5), state + ITEM_Z, 32);
    terms++;
    // Merged key coefficient += z_i k_i; B coefficient += z_i S_i (mod L).
    const key = keyState(<usize>load<u32>(state + ITEM_KEY));
    sc_muladd(key + KEY_COEFFICIENT, state + ITEM_Z, state + ITEM_K, key + KEY_COEFFICIENT);
    sc_muladd(B_COEFFICIENT, state + ITEM_Z, r + BATCH_ITEM_SIGNATURE + 32, B_COEFFICIENT);
  }
  // Key terms: -[c]A. Under Straus a prepared key's term is added from its slot's table (which
  // prepared_batch_table confirms still belongs to the key), any other key's from its point -A.
  const tables = scratch + SCR_TABLE_TERMS;
  const tableScalars = scratch + SCR_TABLE_SCALARS;
  let tableTerms: usize = 0;
  for (let t: usize = 0; t < keys; t++) {
    const key = keyState(<usize>load<u32>(keyList + (t << 2)));
    const table = straus ? prepared_batch_table(load<i32>(key + KEY_SLOT), <usize>load<u32>(key + KEY_RECORD)) : 0;
    if (table != 0) {
      store<u32>(tables + (tableTerms << 2), <u32>table);
      memory.copy(tableScalars + (tableTerms << 5), key + KEY_COEFFICIENT, 32);
      tableTerms++;
    } else {
      store<u32>(points + (terms << 2), <u32>(key + KEY_NEG_A));
      memory.copy(scalars + (terms << 5), key + KEY_COEFFICIENT, 32);
      terms++;
    }
  }
  preparedTableTerms += <u32>tableTerms;
  if (straus) msm_straus_vartime(CHECK_POINT, points, scalars, terms, candidates, presetTop, tables, tableScalars, tableTerms, B_COEFFICIENT, msmScratch);
  else msm_pippenger_vartime(CHECK_POINT, points, scalars, terms, B_COEFFICIENT, msmScratch);
  // Default rule with no deferred key: every term lies in the subgroup of prime order L (A and R
  // tested torsion-free), where reducing coefficients mod L is exact: sum z_i D_i = O itself.
  // (Exact rather than cofactored: a lone candidate wrongly taken as torsion-free would still fail
  // the check, and so reach the single verifier, unless ord(D_j) divided z_j. That margin is for
  // one such item only: two whose components cancel pass for some coefficients, with any
  // coefficients. Exactness rests on the subgroup test, docs/subgroup-test.md.)
  if (!zip215Mode && deferredCandidates == 0) return ge_is_neutral_vartime(CHECK_POINT);
  cofactoredChecks++;
  // Cofactored otherwise. ZIP-215 (single: [8]D_i = O): [8] sum z_i D_i = sum z_i [8]D_i, and
  // every [8]D_i lies in the subgroup of prime order L, so a false item survives for at most one
  // z_j mod L (2^-128), whatever torsion A and R carry; no torsion test and no single-path detour
  // is needed. Default rule with deferred keys: every candidate's D_i lies in that subgroup (its
  // A and R torsion-free, or its Q), where [8] is injective, so [8] sum z_i D_i = O iff
  // sum z_i D_i = O; the [8] removes what reducing a deferred key's coefficient mod L adds when
  // the key has torsion (a multiple of L times A: a point of order dividing 8).
  ge_mul_by_cofactor_vartime(CHECK_P2, CHECK_POINT);
  return ge_is_neutral_vartime(CHECK_P2);
}

/**
 * Writes every candidate's result: one combined check over them all, with their coefficients
 * derived first; if it fails (or there are too few for one to pay), the single verifier answers
 * each (see the file header).
 */
function settle(): void {
  if (candidates >= SINGLES_BELOW) {
    if (combined_check()) {
      combinedChecksPassed++;
      for (let c: usize = 0; c < candidates; c++) store<u8>(record(candidate(c)) + BATCH_ITEM_RESULT, 1);
      return;
    }
    combinedChecksFailed++;
  }
  for (let c: usize = 0; c < candidates; c++) {
    const i = candidate(c);
    store<u8>(record(i) + BATCH_ITEM_RESULT, verify_single(i) ? 1 : 0);
  }
}

/**
 * Starts a batch over the item records at `base` (messages at offsets from it), with the
 * BATCH_SCRATCH_BYTES bytes at `scratchAt` (16-aligned, addressable) as scratch. zip215: the
 * ZIP-215 rule instead of the default one. Items are then added with batch_add_vartime, in index
 * order from 0, and settled with batch_settle_vartime.
 */
export function batch_begin_vartime(base: usize, scratchAt: usize, zip215: bool): void {
  recordsBase = base;
  scratch = scratchAt;
  zip215Mode = zip215;
  keyCount = 0;
  candidates = 0;
  deferredCandidates = 0;
  staged = 0;
  workCount = 0;
}

/**
 * Takes in item i (< BATCH_MAX_ITEMS; records and messages must stay in place until the batch
 * settles): answers it false at once when S >= L, else registers its key (queued for decoding
 * and the torsion test if no cache has it); batch_settle_vartime then resolves the keys of all
 * items together, and the R values of the items whose key takes part (resolve_points).
 * decodedKey: the item's key decoded (p3, Z = 1) by a caller that already did so, or 0. It must
 * be exactly ge_frombytes_vartime of the item's key bytes: it is also cached under those bytes
 * for later calls.
 */
export function batch_add_vartime(i: usize, decodedKey: usize): void {
  const r = record(i);
  const sig = r + BATCH_ITEM_SIGNATURE;
  const state = itemState(i);
  store<u8>(r + BATCH_ITEM_RESULT, 0);
  store<u32>(state + ITEM_R_CLASS, R_REJECTED);
  staged = i + 1;
  // Pre-checks: exactly those of the single verifier, answered false (finish_item).
  if (!sc_is_canonical_vartime(sig + 32)) return; //                       S < L
  const j = find_or_add_key(i, decodedKey);
  if (j == keyCount) keyCount++;
  store<u32>(state + ITEM_KEY, <u32>j);
  store<u32>(state + ITEM_R_CLASS, R_PENDING); // decoded and tested when the batch settles, if its key takes part
}

/**
 * Item i once its points are resolved: false when a pre-check failed (S < L, A decodes, R
 * decodes and, by default, is canonically encoded); the single verifier's answer when its key
 * has a torsion component (default rule: it is exact for them; ZIP-215: the cofactored combined
 * check is exact for every point, combined_check); false when R (key torsion-free) or, under a
 * KEY_DEFERRED key, Q has one (D is then not O); else a candidate of the combined check.
 */
function finish_item(i: usize): void {
  const r = record(i);
  const state = itemState(i);
  const rClass = load<u32>(state + ITEM_R_CLASS);
  if (rClass == R_REJECTED) return;
  const j = <usize>load<u32>(state + ITEM_KEY);
  const keyClass = load<u32>(keyState(j) + KEY_CLASS);
  if (keyClass == KEY_NOT_A_POINT) return; //                              A decodes
  if (keyClass == KEY_HAS_TORSION) {
    store<u8>(r + BATCH_ITEM_RESULT, verify_single(i) ? 1 : 0);
    return;
  }
  // R with a torsion component under a torsion-free key, or Q with one under a deferred key: D
  // has a component outside the prime-order subgroup (README "Batch verification", step 2), so
  // D != O and the single verifier rejects the item; false, without verifying it again.
  if (rClass == R_HAS_TORSION) return;
  ge_p3_neg(state + ITEM_NEG_R, state + ITEM_NEG_R);
  if (keyClass == KEY_DEFERRED) deferredCandidates++; // (its k is hashed: test_deferred_items)
  else hash_k(i);
  store<u32>(scratch + SCR_CANDIDATES + (candidates << 2), <u32>i);
  candidates++;
}

/**
 * The coefficients z_i of the candidates (README "Batch verification", step 4): first
 * T = SHA-512(T_DOMAIN || for each candidate in order: u32 index i || S_i || k_i), then the
 * digest G_i = SHA-512(Z_DOMAIN || the caller's 16 random bytes ρ_i || T || u32 i), and from it
 * z_i: with `sparseDigits` 0 (Pippenger), the first 16 bytes of G_i; else (Straus) the sparse
 * coefficient drawn from G_i (sparse-coefficients.ts), its digits written for candidate c at
 * straus_preset_digits(sparseDigits, c). Each item's z_i mod L goes to its ITEM_Z. Returns the
 * highest position of a sparse coefficient's digit (-1 without them).
 * With fresh ρ_i the G_i are uniform and independent, and so are the z_i, as the 2^-128 bound
 * needs. With a broken or predictable random source they are still pseudo-random functions of the
 * whole set (k_i binds R_i, A_i and the message): changing any item changes every z, so a forger
 * cannot build lists of items whose errors cancel independently (Wagner's k-list attack, which
 * coefficients hashed from each item alone would allow: review-35), and no two items share a
 * coefficient but by a hash collision.
 */
function derive_coefficients(sparseDigits: usize): i32 {
  let highest: i32 = -1;
  sha512_init();
  sha512_update(T_DOMAIN, DOMAIN_BYTES);
  for (let c: usize = 0; c < candidates; c++) {
    const i = candidate(c);
    store<u32>(INDEX_BYTES, <u32>i);
    sha512_update(INDEX_BYTES, 4);
    sha512_update(record(i) + BATCH_ITEM_SIGNATURE + 32, 32);
    sha512_update(itemState(i) + ITEM_K, 32);
  }
  sha512_final(TRANSCRIPT);
  for (let c: usize = 0; c < candidates; c++) {
    const i = candidate(c);
    store<u32>(INDEX_BYTES, <u32>i);
    sha512_init();
    sha512_update(Z_DOMAIN, DOMAIN_BYTES);
    sha512_update(record(i) + BATCH_ITEM_RANDOM, 16);
    sha512_update(TRANSCRIPT, 64);
    sha512_update(INDEX_BYTES, 4);
    sha512_final(DIGEST);
    const z = itemState(i) + ITEM_Z;
    if (sparseDigits == 0) {
      memory.copy(z, DIGEST, 16);
      memory.fill(z + 16, 0, 16);
    } else {
      const top = sparse_coefficient_vartime(straus_preset_digits(sparseDigits, c), z, DIGEST);
      if (top > highest) highest = top;
    }
  }
  return highest;
}

/**
 * Answers every item added since batch_begin_vartime: resolves their points (decoding and torsion
 * tests, four at a time), then a combined check over the candidates, singles if it fails or for
 * small sets.
 */
export function batch_settle_vartime(): void {
  if (staged < SINGLES_BELOW) {
    // Too few for a combined check (as verify_batch_vartime decides for count < SINGLES_BELOW):
    // the single verifier answers each item that passed the pre-checks, with no decoding or
    // torsion test first, which it would only repeat (review 74 F1: an envelope batch of one or
    // two signatures took 1.3-2x the time of verifyEnvelopeBytes).
    for (let i: usize = 0; i < staged; i++) {
      if (load<u32>(itemState(i) + ITEM_R_CLASS) == R_REJECTED) continue;
      store<u8>(record(i) + BATCH_ITEM_RESULT, verify_single(i) ? 1 : 0);
    }
    workCount = 0;
    candidates = 0;
    staged = 0;
    return;
  }
  resolve_points();
  for (let i: usize = 0; i < staged; i++) finish_item(i);
  settle();
  candidates = 0;
  deferredCandidates = 0;
  staged = 0;
}

/**
 * @internal Address of the digits (256 signed bytes) of MSM term t in the last batch's scratch:
 * for a combined check by Straus's method, term c < candidates is candidate c's R, with the
 * sparse coefficient's digits. For the test build's hooks.
 */
export function batch_term_digits(t: usize): usize {
  return straus_preset_digits(scratch + SCR_MSM, t);
}

/** @internal Address of item i's coefficient z_i mod L (32 bytes) in the last batch's scratch: for the test build's hooks. */
export function batch_item_coefficient(i: usize): usize {
  return itemState(i) + ITEM_Z;
}

/**
 * Verifies the `count` item records at ioBase() (abi.ts BATCH_ITEM_*; inputBytes = bytes of
 * records and messages) and writes each item's result byte. zip215: the ZIP-215 rule instead
 * of the default one. Returns BATCH_DONE, BATCH_OUT_OF_MEMORY or BATCH_BAD_LAYOUT.
 */
export function verify_batch_vartime(count: usize, inputBytes: usize, zip215: bool): i32 {
  if (count > MAX_ITEMS || inputBytes < count * BATCH_ITEM_BYTES || !ioHolds(inputBytes)) return BATCH_BAD_LAYOUT;
  for (let i: usize = 0; i < count; i++) {
    const r = ioBase() + i * BATCH_ITEM_BYTES;
    const offset = <u64>load<u32>(r + BATCH_ITEM_MESSAGE_OFFSET);
    const length = <u64>load<u32>(r + BATCH_ITEM_MESSAGE_LENGTH);
    if (length > 0 && (offset < <u64>(count * BATCH_ITEM_BYTES) || offset + length > <u64>inputBytes)) return BATCH_BAD_LAYOUT;
  }
  const scratchOffset = (inputBytes + 15) & ~(<usize>15);
  if (<u64>ioBase() + <u64>inputBytes + 16 + <u64>BATCH_SCRATCH_BYTES > ADDRESS_CEILING || !ensureIoCapacity(scratchOffset + BATCH_SCRATCH_BYTES)) return BATCH_OUT_OF_MEMORY;
  batch_begin_vartime(ioBase(), ioBase() + scratchOffset, zip215);
  if (count < SINGLES_BELOW) {
    // Too few for a combined check to pay: the single verifier answers each directly.
    for (let i: usize = 0; i < count; i++) store<u8>(record(i) + BATCH_ITEM_RESULT, verify_single(i) ? 1 : 0);
    return BATCH_DONE;
  }
  for (let i: usize = 0; i < count; i++) batch_add_vartime(i, 0);
  batch_settle_vartime();
  return BATCH_DONE;
}
