// Ed25519 verification (RFC 8032 §5.1.7) with the two rules chio uses (docs/protocol.md):
//   default  = ed25519-dalek 2.x `verify` = OpenSSL (node:crypto): S < L; A decoded with y taken
//              mod p; k = SHA-512(R || A as given || M) mod L; R' = [S]B - [k]A encoded
//              canonically and compared byte for byte with R (cofactorless). Small-order A and
//              R are accepted.
//   zip215   = @noble/curves default: S < L; A and R decoded with y taken mod p; accept iff
//              [8](R - R') is the neutral element (cofactored).
//
// How it is computed: both rules reduce to X = [S]B - [k]A - R being the neutral element
// (default; R must then also be canonically encoded, as R' always is) or of order dividing 8
// (zip215). The core checks [w]X with a half-size decomposition w k = u (mod 8L) (scalar.ts
// sc_half_size_vartime, group.ts ge_triple_scalarmult_vartime): ~128 doublings instead of ~253,
// exact for points with torsion components. Decoded public keys come from key-cache.ts.
//
// Everything here is variable time: its inputs (key, signature, message) are public.
import { sha512_init, sha512_update, sha512_final } from "../sha512";
import { sc_reduce, sc_muladd, sc_is_canonical_vartime, sc_half_size_vartime } from "../curve25519/scalar";
import {
  P2_BYTES, P3_BYTES, ge_frombytes_vartime, ge_p3_neg, ge_double_scalarmult_vartime, ge_triple_scalarmult_vartime,
  ge_odd_multiples_cached, ge_p3_to_cached, ge_sub, ge_p1p1_to_p3, ge_mul_by_cofactor_vartime, ge_is_neutral_vartime,
  ODD_MULTIPLES_BYTES,
} from "../curve25519/group";
import { fe_iszero } from "../curve25519/field";
import { decoded_public_key_vartime, vk_entry_hits, vk_entry_restamp, batch_key_lookup_vartime, BATCH_KEY_MISS, VK_POINT, VK_TABLE } from "./key-cache";
import {
  prepared_lookup_vartime, prepared_insert_vartime, verify_prepared_vartime, prepared_slot_count, prepared_tick, prepared_may_evict_for_vartime,
} from "./prepared-public";
import { INSPECT_NOT_A_POINT, INSPECT_FULL_ORDER, INSPECT_SMALL_ORDER } from "../abi";

const CHALLENGE: usize = memory.data(64, 16); //   SHA-512(R || A || M), then k = that mod L
const POINT_R: usize = memory.data(<i32>P3_BYTES, 16);
const POINT_NEG_A: usize = memory.data(<i32>P3_BYTES, 16);
const POINT_CHECK: usize = memory.data(<i32>P3_BYTES, 16);
const POINT_DIFF: usize = memory.data(<i32>P3_BYTES, 16);
const CACHED_TMP: usize = memory.data(160, 16);
const P2_TMP: usize = memory.data(<i32>P2_BYTES, 16);
const P1P1_TMP: usize = memory.data(160, 16);
const HALF_U: usize = memory.data(32, 16);
const HALF_V: usize = memory.data(32, 16);
const HALF_B: usize = memory.data(32, 16);
const ZERO_SCALAR: usize = memory.data(32, 16);
const R_TABLE: usize = memory.data(<i32>ODD_MULTIPLES_BYTES, 16);

/**
 * Uses of a key (found again in the decoded-key cache) after which verification prepares it.
 * Preparing costs about 3.5 plain verifications, so a key is prepared once it has shown it is
 * reused; in the worst access pattern (more hot keys than slots, cycling) at most one
 * preparation per PROMOTE_AFTER_HITS uses of a key. The same rule decides when a
 * PreparedPublicKey whose slot went to another key prepared on request is prepared again
 * (if it also comes back more often than the key it would evict).
 */
const PROMOTE_AFTER_HITS: u32 = 8;

/**
 * Verifies an Ed25519 signature (64 bytes at sigPtr) on msgLen bytes at msgPtr under the
 * 32-byte public key at pkPtr. zip215 = false: dalek/OpenSSL rule; true: ZIP-215 / noble rule
 * (see the file header). Never traps on any input bytes.
 */
export function verify_signature_vartime(sigPtr: usize, msgPtr: usize, msgLen: usize, pkPtr: usize, zip215: bool): bool {
  return verify_impl_vartime(sigPtr, msgPtr, msgLen, pkPtr, zip215, true, false);
}

/** The slot verify_impl_vartime's last call prepared the key into (a promotion), or -1. */
let promotedSlot: i32 = -1;

/** The slot the last verify_impl_vartime call prepared its key into, or -1 if it did not. */
export function last_promoted_slot(): i32 {
  return promotedSlot;
}

/** true if the 32 bytes at s are the canonical encoding of the point already decoded into P (p3). */
function is_canonical_encoding_vartime(s: usize, P: usize): bool {
  // y < p = 2^255 - 19: y >= p only if bytes 1..30 are 0xff, byte 31 is 0x7f (sign masked) and byte 0 >= 0xed.
  let yAtLeastP = (load<u8>(s + 31) & 0x7f) == 0x7f && load<u8>(s) >= 0xed;
  for (let i: usize = 1; i < 31; i++) if (load<u8>(s + i) != 0xff) yAtLeastP = false;
  if (yAtLeastP) return false;
  // x = 0 is encoded with sign bit 0 (RFC 8032 §5.1.2).
  if ((load<u8>(s + 31) >> 7) != 0 && fe_iszero(P) != 0) return false;
  return true;
}

/**
 * verify_signature_vartime; halfSize = false forces the full-length multiplication (tests: same
 * results, slower). onRequest: the key is a PreparedPublicKey's whose slot was lost
 * (exports.ts ed25519_verify_prepared), so its promotion may evict a key prepared on request
 * and marks it as one; the slot it went to is last_promoted_slot().
 */
export function verify_impl_vartime(sigPtr: usize, msgPtr: usize, msgLen: usize, pkPtr: usize, zip215: bool, halfSize: bool, onRequest: bool): bool {
  promotedSlot = -1;
  const sPtr = sigPtr + 32;
  if (!sc_is_canonical_vartime(sPtr)) return false; //                 §5.1.7 step 1: S < L
  // Hot keys (prepared-public.ts): a key already in the prepared slab, or found again in the
  // decoded-key cache PROMOTE_AFTER_HITS times, is verified through its prepared comb table
  // (same verdicts). The full-length test mode always takes the plain path.
  const slabOn = halfSize && prepared_slot_count() > 0;
  if (slabOn) {
    const slot = prepared_lookup_vartime(pkPtr);
    if (slot >= 0) return verify_prepared_vartime(sigPtr, msgPtr, msgLen, slot, zip215);
  }
  const key = decoded_public_key_vartime(pkPtr);
  if (key == 0) return false;
  // A PreparedPublicKey without a slot: how many slab uses ago it was last used so (the whole
  // clock when that is unknown: a new cache entry; prepared_configure clears every stamp).
  let interval: u64 = 0;
  if (slabOn && onRequest) {
    const now = prepared_tick();
    const previous = vk_entry_restamp(key, now);
    interval = previous == 0 || previous > now ? now : now - previous;
  }
  if (slabOn && vk_entry_hits(key, false) >= PROMOTE_AFTER_HITS) {
    vk_entry_hits(key, true);
    // A promotion never evicts a key prepared on request, unless it is one itself, and then only
    // a key used less often than it (prepared_may_evict_for_vartime).
    const slot = !onRequest || prepared_may_evict_for_vartime(interval) ? prepared_insert_vartime(pkPtr, key + VK_POINT, onRequest) : -1;
    if (slot >= 0) {
      promotedSlot = slot;
      return verify_prepared_vartime(sigPtr, msgPtr, msgLen, slot, zip215);
    }
  }
  // R' = [S]B - [k]A is always a point with a canonical encoding, so under the byte-compare rule
  // only R that decodes and is canonically encoded can match, and then "encoding of R' equals
  // R" is the same as "R' = R as points". ZIP-215 decodes R with the same (lenient) rule.
  if (!ge_frombytes_vartime(POINT_R, sigPtr)) return false;
  if (!zip215 && !is_canonical_encoding_vartime(sigPtr, POINT_R)) return false;
  // k = SHA-512(R || A || M) mod L, over the bytes exactly as given (§5.1.7 step 2).
  sha512_init();
  sha512_update(sigPtr, 32);
  sha512_update(pkPtr, 32);
  sha512_update(msgPtr, msgLen);
  sha512_final(CHALLENGE);
  sc_reduce(CHALLENGE, CHALLENGE);
  // Check X = [S]B - [k]A - R = O (default) or [8]X = O (zip215).
  const sign = halfSize ? sc_half_size_vartime(HALF_U, HALF_V, CHALLENGE) : 0;
  if (sign != 0) {
    // With u = v k (mod 8L), w = |v| odd: [w]X = [w S mod L]B - [sign u]A - [w]R, and
    // [w]X = O iff X = O (also after multiplying by 8), since gcd(w, 8L) = 1.
    sc_muladd(HALF_B, HALF_V, sPtr, ZERO_SCALAR);
    ge_odd_multiples_cached(R_TABLE, POINT_R);
    ge_triple_scalarmult_vartime(POINT_CHECK, HALF_U, key + VK_TABLE, sign > 0, HALF_V, R_TABLE, true, HALF_B);
  } else {
    // Full-length path: X = [k](-A) + [S]B - R.
    ge_p3_neg(POINT_NEG_A, key + VK_POINT);
    ge_double_scalarmult_vartime(POINT_DIFF, CHALLENGE, POINT_NEG_A, sPtr);
    ge_p3_to_cached(CACHED_TMP, POINT_R);
    ge_sub(P1P1_TMP, POINT_DIFF, CACHED_TMP);
    ge_p1p1_to_p3(POINT_CHECK, P1P1_TMP);
  }
  if (zip215) {
    ge_mul_by_cofactor_vartime(P2_TMP, POINT_CHECK);
    return ge_is_neutral_vartime(P2_TMP);
  }
  return ge_is_neutral_vartime(POINT_CHECK);
}

/**
 * Classifies the 32-byte public key at pkPtr: INSPECT_NOT_A_POINT if it does not decode (dalek
 * `VerifyingKey::from_bytes` rule, as in verification), INSPECT_SMALL_ORDER if [8]A is the
 * neutral element (the 8 torsion points, in any encoding that decodes), INSPECT_FULL_ORDER otherwise.
 */
export function inspect_public_key_vartime(pkPtr: usize): i32 {
  const key = decoded_public_key_vartime(pkPtr);
  if (key == 0) return INSPECT_NOT_A_POINT;
  ge_mul_by_cofactor_vartime(P2_TMP, key + VK_POINT);
  return ge_is_neutral_vartime(P2_TMP) ? INSPECT_SMALL_ORDER : INSPECT_FULL_ORDER;
}

/**
 * inspect_public_key_vartime for a key that a batch verifies next (the envelope batch): instead of
 * the verification cache (whose per-key table a batch does not use) it takes the point from the
 * batch key cache when that has it, else decodes; the point (p3 with Z = 1) is left at `out`
 * when the key decodes.
 */
export function inspect_public_key_into_vartime(pkPtr: usize, out: usize): i32 {
  if (batch_key_lookup_vartime(pkPtr, out) == BATCH_KEY_MISS && !ge_frombytes_vartime(out, pkPtr)) return INSPECT_NOT_A_POINT;
  ge_mul_by_cofactor_vartime(P2_TMP, out);
  return ge_is_neutral_vartime(P2_TMP) ? INSPECT_SMALL_ORDER : INSPECT_FULL_ORDER;
}
