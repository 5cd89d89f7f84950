// The Ed25519 wasm exports used by src/ed25519.ts, and nothing else: key generation
// (keygen.ts), signing (sign.ts), verification (verify.ts). Arguments and results go through
// the ARGS block at the offsets of assembly/abi.ts; messages at ioBase().
import { ARGS, ARG_PUBLIC_KEY, ARG_SIGNATURE, ARG_SECRET, ARG_RESULT, ioBase } from "../memory";
import {
  VERIFY_MODE_ZIP215, VERIFY_MODE_FULL_LENGTH, PREPARED_NOT_A_POINT, PREPARED_OFF, PREPARED_NOT_RESIDENT, PREPARED_RESULT_SLOT,
  PREPARED_RESULT_TORSION_FREE,
} from "../abi";
import {
  prepared_configure, prepared_slot_count, prepared_slot_for_key_vartime, prepared_free_vartime, prepared_release_vartime,
  prepared_torsion_free, verify_prepared_vartime, prepared_resident_slot_vartime, prepared_admits_vartime,
  prepared_insert_vartime, prepared_reindex,
} from "./prepared-public";
import { decoded_public_key_vartime, key_index_seed } from "./key-cache";
import { public_key_from_seed, wipe_secrets } from "./keygen";
import { sign_with_seed } from "./sign";
import { verify_impl_vartime, last_promoted_slot, inspect_public_key_vartime } from "./verify";
import { verify_batch_vartime } from "./batch";

/** Public key (ARGS+ARG_PUBLIC_KEY) from the 32-byte seed at ARGS+ARG_SECRET (RFC 8032 §5.1.5). Wipes the seed and every intermediate. */
export function ed25519_public_key(): void {
  public_key_from_seed(ARGS + ARG_SECRET, ARGS + ARG_PUBLIC_KEY);
  wipe_secrets();
}

/**
 * Signs msgLen bytes at ioBase() with the seed at ARGS+ARG_SECRET (RFC 8032 §5.1.6). The
 * public key is derived from the seed (never taken from the caller) and also written to
 * ARGS+ARG_PUBLIC_KEY; the signature goes to ARGS+ARG_SIGNATURE. Wipes every secret.
 */
export function ed25519_sign(msgLen: u32): void {
  sign_with_seed(ARGS + ARG_SECRET, ioBase(), <usize>msgLen, ARGS + ARG_PUBLIC_KEY, ARGS + ARG_SIGNATURE);
  wipe_secrets();
}

/**
 * 1 if the signature at ARGS+ARG_SIGNATURE on msgLen bytes at ioBase() verifies under
 * ARGS+ARG_PUBLIC_KEY, else 0. mode: VERIFY_MODE_* bits. Variable time (public inputs).
 */
export function ed25519_verify(msgLen: u32, mode: i32): i32 {
  const zip215 = (mode & VERIFY_MODE_ZIP215) != 0;
  const halfSize = (mode & VERIFY_MODE_FULL_LENGTH) == 0;
  return verify_impl_vartime(ARGS + ARG_SIGNATURE, ioBase(), <usize>msgLen, ARGS + ARG_PUBLIC_KEY, zip215, halfSize, false) ? 1 : 0;
}

/** inspect_public_key_vartime on ARGS+ARG_PUBLIC_KEY: an INSPECT_* code. */
export function ed25519_inspect_public_key(): i32 {
  return inspect_public_key_vartime(ARGS + ARG_PUBLIC_KEY);
}

// Prepared secret keys (slot slab of expanded secrets): ed25519_prepare_secret,
// ed25519_sign_prepared, ed25519_destroy_prepared.
export { ed25519_prepare_secret, ed25519_sign_prepared, ed25519_destroy_prepared } from "./prepared-secret";

/**
 * Takes the 16 bytes at ARGS+ARG_SECRET as the key of the key caches' position hash (key-cache.ts
 * key_index_hash) and wipes them; forgets the batch key cache and rebuilds the prepared-key
 * slab's index, whose positions the old key chose. The JS side calls it when it adopts an
 * instance, with random bytes drawn once per realm (src/wasm/instance.ts).
 */
export function ed25519_seed_key_index(): void {
  const seed = ARGS + ARG_SECRET;
  key_index_seed(load<u64>(seed), load<u64>(seed, 8));
  memory.fill(seed, 0, 16);
  prepared_reindex();
}

/**
 * Lays out the prepared-key slab for at most maxBytes bytes (assembly/ed25519/prepared-public.ts):
 * the slot count (0: prepared keys off), or -1 if memory cannot grow. Drops every prepared
 * key and moves the I/O arena: the caller re-reads io_base().
 */
export function ed25519_prepared_configure(maxBytes: u32): i32 {
  return prepared_configure(<usize>maxBytes);
}

/**
 * Prepares ARGS+ARG_PUBLIC_KEY (reusing slot `hint` if it still holds that key): returns the
 * slot, PREPARED_NOT_A_POINT, or PREPARED_OFF (the key decodes but there are no slots). Result
 * words: PREPARED_RESULT_SLOT (the same value), PREPARED_RESULT_TORSION_FREE.
 */
export function ed25519_prepare_public_key(hint: i32): i32 {
  const pk = ARGS + ARG_PUBLIC_KEY;
  let slot: i32;
  let torsionFree = 0;
  if (prepared_slot_count() == 0) {
    slot = decoded_public_key_vartime(pk) == 0 ? PREPARED_NOT_A_POINT : PREPARED_OFF;
  } else {
    slot = prepared_slot_for_key_vartime(pk, hint);
    if (slot < 0) slot = PREPARED_NOT_A_POINT;
    else torsionFree = prepared_torsion_free(slot) ? 1 : 0;
  }
  store<i32>(ARGS + ARG_RESULT + PREPARED_RESULT_SLOT, slot);
  store<i32>(ARGS + ARG_RESULT + PREPARED_RESULT_TORSION_FREE, torsionFree);
  return slot;
}

/**
 * ed25519_verify through the prepared slot of ARGS+ARG_PUBLIC_KEY; the same verdict as
 * ed25519_verify. The slot: `hint` if it still holds that key, else one found by lookup, else
 * the key is prepared again if that evicts no other key prepared on request in use
 * (prepared_admits_vartime). Otherwise the key is verified as key bytes are (ed25519_verify)
 * and prepared again once it is hot (verify.ts PROMOTE_AFTER_HITS) and comes back more often
 * than the key it would evict (prepared_may_evict_for_vartime): preparing costs about 3.5
 * plain verifications, so re-preparing at every use of more prepared keys than slots would make
 * each verification several times slower than no preparation at all. The slot used (or a
 * PREPARED_* code) goes to result word PREPARED_RESULT_SLOT.
 */
export function ed25519_verify_prepared(msgLen: u32, mode: i32, hint: i32): i32 {
  const zip215 = (mode & VERIFY_MODE_ZIP215) != 0;
  const pk = ARGS + ARG_PUBLIC_KEY;
  const result = ARGS + ARG_RESULT + PREPARED_RESULT_SLOT;
  if ((mode & VERIFY_MODE_FULL_LENGTH) != 0 || prepared_slot_count() == 0) {
    store<i32>(result, PREPARED_OFF);
    return verify_impl_vartime(ARGS + ARG_SIGNATURE, ioBase(), <usize>msgLen, pk, zip215, (mode & VERIFY_MODE_FULL_LENGTH) == 0, false) ? 1 : 0;
  }
  let slot = prepared_resident_slot_vartime(pk, hint);
  if (slot < 0 && prepared_admits_vartime()) {
    slot = prepared_insert_vartime(pk, 0, true);
    if (slot < 0) {
      store<i32>(result, PREPARED_NOT_A_POINT);
      return 0;
    }
  }
  if (slot >= 0) {
    store<i32>(result, slot);
    return verify_prepared_vartime(ARGS + ARG_SIGNATURE, ioBase(), <usize>msgLen, slot, zip215) ? 1 : 0;
  }
  const verdict = verify_impl_vartime(ARGS + ARG_SIGNATURE, ioBase(), <usize>msgLen, pk, zip215, true, true);
  const promoted = last_promoted_slot();
  store<i32>(result, promoted >= 0 ? promoted : PREPARED_NOT_RESIDENT);
  return verdict ? 1 : 0;
}

/** Empties the slot holding ARGS+ARG_PUBLIC_KEY (`hint` first, else found by a scan), if any holds it. */
export function ed25519_prepared_free(hint: i32): void {
  prepared_free_vartime(ARGS + ARG_PUBLIC_KEY, hint);
}

/** Lets promotions evict the slot holding ARGS+ARG_PUBLIC_KEY (`hint` first; the key's last PreparedPublicKey was collected). */
export function ed25519_prepared_release(hint: i32): void {
  prepared_release_vartime(ARGS + ARG_PUBLIC_KEY, hint);
}

/**
 * Batch verification (batch.ts) of the `count` item records and messages in the first
 * `inputBytes` bytes at ioBase() (assembly/abi.ts BATCH_ITEM_*): writes each item's result
 * byte, equal to ed25519_verify's answer for it. mode: VERIFY_MODE_ZIP215 or 0. Returns
 * BATCH_DONE, BATCH_OUT_OF_MEMORY or BATCH_BAD_LAYOUT. Variable time (public inputs).
 */
export function ed25519_verify_batch(count: u32, inputBytes: u32, mode: i32): i32 {
  return verify_batch_vartime(<usize>count, <usize>inputBytes, (mode & VERIFY_MODE_ZIP215) != 0);
}
