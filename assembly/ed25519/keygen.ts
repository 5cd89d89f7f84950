// Ed25519 key generation (RFC 8032 §5.1.5): seed expansion, the public key of a seed, and the
// secret scratch that key generation and signing (sign.ts) share, with the one function that
// wipes it.
//
// Constant time (see curve25519/scalar_mul/fixed_base.ts, group.ts, scalar.ts). Every secret
// intermediate lives in the scratch blocks below or in the scratch of sha512.ts / curve25519/*,
// and wipe_secrets() zeroes all of it before an export returns (values the engine keeps in
// registers or spills to its native stack are beyond reach). src/ed25519.ts zeroes the whole
// of linear memory and drops the instance if a call ever fails to return normally, so the
// wipe does not depend on reaching the end of an export.
import { ARGS, ARG_SECRET } from "../memory";
import { sha512_oneshot, sha512_wipe } from "../sha512";
import { sc_wipe_scratch } from "../curve25519/scalar";
import { P3_BYTES, ge_tobytes, ge_wipe_scratch } from "../curve25519/group";
import { ge_scalarmult_base, fixed_base_wipe_scratch } from "../curve25519/scalar_mul/fixed_base";
import { fe_wipe_scratch } from "../curve25519/field";
import { pk_cache_lookup, pk_cache_insert } from "./key-cache";

/** SHA-512(seed): scalar a (clamped) || prefix. */
export const EXPANDED: usize = memory.data(64, 16);
/** SHA-512(prefix || M), then r = that mod L. */
export const NONCE: usize = memory.data(64, 16);
/** SHA-512(R || A || M), then k = that mod L (public, but next to secrets in the same computation). */
export const SIGN_CHALLENGE: usize = memory.data(64, 16);
/** [a]B (p3). */
export const POINT_PUBLIC: usize = memory.data(160, 16);
/** [r]B (p3). */
export const POINT_NONCE: usize = memory.data(160, 16);

/** Zeroes every place a secret (seed, expanded key, nonce, partial sums) may have touched. */
export function wipe_secrets(): void {
  memory.fill(ARGS + ARG_SECRET, 0, 32);
  memory.fill(EXPANDED, 0, 64);
  memory.fill(NONCE, 0, 64);
  memory.fill(SIGN_CHALLENGE, 0, 64);
  memory.fill(POINT_NONCE, 0, P3_BYTES);
  memory.fill(POINT_PUBLIC, 0, P3_BYTES);
  sha512_wipe();
  sc_wipe_scratch();
  ge_wipe_scratch();
  fixed_base_wipe_scratch();
  fe_wipe_scratch();
}

/** EXPANDED = SHA-512(seed) with the scalar half clamped (RFC 8032 §5.1.5 steps 1-2). */
export function expand_seed(seed: usize): void {
  sha512_oneshot(EXPANDED, seed, 32);
  store<u8>(EXPANDED, load<u8>(EXPANDED) & 248);
  store<u8>(EXPANDED + 31, (load<u8>(EXPANDED + 31) & 127) | 64);
}

/**
 * Writes the public key of the 32-byte seed at `seed` to `pk` (RFC 8032 §5.1.5), from the
 * seed-tagged cache (key-cache.ts) when it holds it. Leaves secrets in scratch: the caller wipes.
 */
export function public_key_from_seed(seed: usize, pk: usize): void {
  if (pk_cache_lookup(seed, pk)) return;
  expand_seed(seed);
  ge_scalarmult_base(POINT_PUBLIC, EXPANDED);
  ge_tobytes(pk, POINT_PUBLIC);
  pk_cache_insert(seed, pk);
}
