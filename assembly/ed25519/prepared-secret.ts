// Prepared secret keys: a fixed slab of slots, each holding one expanded Ed25519 secret key
// (RFC 8032 §5.1.5: clamped scalar a and prefix) with its public key A = [a]B, so signing
// under a prepared key pays one base multiplication ([r]B) instead of two, and hashes no seed.
// The JS side (src/prepared-secret-key.ts) owns the allocation of slot indices; the slab only
// stores, checks and wipes.
//
// Slot layout (SLOT_BYTES = 112): a (32) || prefix (32) || A (32) || check (16).
// PREPARED_SECRET_SLOTS slots: 512 × 112 bytes = 56 KiB of linear memory, reserved statically.
//
// Integrity. Signing one message under two different A values with the same a reveals a, and
// two signatures of one message with the same r and A but a different scalar reveal the
// difference of the scalars. So a slot whose A no longer belongs to its a, or whose a changed,
// must never sign. Each slot carries a check value: the first 16 bytes of
// SHA-512(SLOT_CHECK_DOMAIN || a || prefix || A), written at preparation (when A has just been
// derived from a in the same call, so the slot is consistent by construction) and recomputed
// before every signature; a mismatch wipes the slot and signs nothing. Why this check:
//  * Recomputing A = [a]B on use would be exact but costs the very multiplication the slot exists
//    to save; the check costs one SHA-512 compression (the domain is 15 bytes so that domain ||
//    a || prefix || A is 111 bytes, one block with its padding): about 1% of a signature.
//  * A cryptographic hash rather than the cheap multiply-xorshift chains of key-cache.ts: the
//    check is computed over the secret and stored next to it, and a hash output reveals nothing
//    about a or the prefix, while a 128-bit non-cryptographic digest of them would.
//  * Any accidental change (one word or many) is caught except with probability 2^-128. As in
//    key-cache.ts, no value in this memory can stop code that deliberately writes it (it could
//    rewrite the base-point tables just as well); that code is kept out by src/wasm/instance.ts.
//  * The caller also passes the A it expects (the public key its handle was issued with) and a
//    slot holding any other A, even a self-consistent one, signs nothing: a stale or mixed-up
//    slot index can never make one handle sign under another key.
// Comparisons of the check value are constant time (xor/or over words, one branch on the
// result, which only reveals that a slot was corrupted).
import { ARGS, ARG_PUBLIC_KEY, ARG_SECRET, ARG_SIGNATURE, ioBase } from "../memory";
import { PREPARED_SECRET_SLOTS, PREPARED_OK, PREPARED_BAD_SLOT, PREPARED_CORRUPTED } from "../abi";
import { sha512_init, sha512_update, sha512_final } from "../sha512";
import { ge_tobytes } from "../curve25519/group";
import { ge_scalarmult_base } from "../curve25519/scalar_mul/fixed_base";
import { EXPANDED, POINT_PUBLIC, expand_seed, wipe_secrets } from "./keygen";
import { sign_with_expanded } from "./sign";

const SLOT_BYTES: usize = 112;
const SLOT_PREFIX: usize = 32;
const SLOT_PUBLIC_KEY: usize = 64;
const SLOT_CHECK: usize = 96;
const SLAB: usize = memory.data(<i32>(<usize>PREPARED_SECRET_SLOTS * SLOT_BYTES), 16);
/** SHA-512 output of the check computation (secret-derived: wiped after each use). */
const CHECK_DIGEST: usize = memory.data(64, 16);
/** "chio-sk-slot/v1" (15 bytes). */
const SLOT_CHECK_DOMAIN: usize = memory.data<u8>([0x63, 0x68, 0x69, 0x6f, 0x2d, 0x73, 0x6b, 0x2d, 0x73, 0x6c, 0x6f, 0x74, 0x2f, 0x76, 0x31]);
const SLOT_CHECK_DOMAIN_BYTES: usize = 15;

/** CHECK_DIGEST = SHA-512(SLOT_CHECK_DOMAIN || a || prefix || A) of the slot at `entry`. */
function slot_check_digest(entry: usize): void {
  sha512_init();
  sha512_update(SLOT_CHECK_DOMAIN, SLOT_CHECK_DOMAIN_BYTES);
  sha512_update(entry, SLOT_CHECK); // a || prefix || A
  sha512_final(CHECK_DIGEST);
}

/**
 * Prepares slot `slot` from the 32-byte seed at ARGS+ARG_SECRET: expands it, derives A = [a]B
 * (also written to ARGS+ARG_PUBLIC_KEY), stores a || prefix || A || check. Wipes the seed and
 * every intermediate. PREPARED_OK, or PREPARED_BAD_SLOT if the index is out of range.
 */
export function ed25519_prepare_secret(slot: u32): i32 {
  if (slot >= PREPARED_SECRET_SLOTS) {
    wipe_secrets();
    return PREPARED_BAD_SLOT;
  }
  const entry = SLAB + <usize>slot * SLOT_BYTES;
  expand_seed(ARGS + ARG_SECRET);
  ge_scalarmult_base(POINT_PUBLIC, EXPANDED);
  ge_tobytes(ARGS + ARG_PUBLIC_KEY, POINT_PUBLIC);
  memory.copy(entry, EXPANDED, 64);
  memory.copy(entry + SLOT_PUBLIC_KEY, ARGS + ARG_PUBLIC_KEY, 32);
  slot_check_digest(entry);
  memory.copy(entry + SLOT_CHECK, CHECK_DIGEST, 16);
  memory.fill(CHECK_DIGEST, 0, 64);
  wipe_secrets();
  return PREPARED_OK;
}

/**
 * Signs msgLen bytes at ioBase() under slot `slot` (RFC 8032 §5.1.6), if the slot passes its
 * check and holds the public key the caller expects at ARGS+ARG_PUBLIC_KEY; the signature goes
 * to ARGS+ARG_SIGNATURE. A slot that fails is wiped and PREPARED_CORRUPTED returned, with
 * nothing signed. Wipes every secret intermediate (the slot itself stays).
 */
export function ed25519_sign_prepared(slot: u32, msgLen: u32): i32 {
  if (slot >= PREPARED_SECRET_SLOTS) return PREPARED_BAD_SLOT;
  const entry = SLAB + <usize>slot * SLOT_BYTES;
  slot_check_digest(entry);
  const expected = ARGS + ARG_PUBLIC_KEY;
  let diff: u64 = (load<u64>(entry + SLOT_CHECK) ^ load<u64>(CHECK_DIGEST)) | (load<u64>(entry + SLOT_CHECK, 8) ^ load<u64>(CHECK_DIGEST, 8));
  for (let i: usize = 0; i < 32; i += 8) diff |= load<u64>(entry + SLOT_PUBLIC_KEY + i) ^ load<u64>(expected + i);
  memory.fill(CHECK_DIGEST, 0, 64);
  if (diff != 0) {
    memory.fill(entry, 0, SLOT_BYTES);
    wipe_secrets();
    return PREPARED_CORRUPTED;
  }
  sign_with_expanded(entry, entry + SLOT_PUBLIC_KEY, ioBase(), <usize>msgLen, ARGS + ARG_SIGNATURE);
  wipe_secrets();
  return PREPARED_OK;
}

/** Zeroes slot `slot` (idempotent; out-of-range indices are ignored). */
export function ed25519_destroy_prepared(slot: u32): void {
  if (slot < PREPARED_SECRET_SLOTS) memory.fill(SLAB + <usize>slot * SLOT_BYTES, 0, SLOT_BYTES);
}
