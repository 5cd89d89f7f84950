// Ed25519 signing (RFC 8032 §5.1.6). Constant time in the seed; the public key is derived from
// the seed (or taken from the seed-tagged cache in key-cache.ts), never from the caller: signing
// one message under two different A values with the same seed reveals the secret scalar.
import { sha512_init, sha512_update, sha512_final } from "../sha512";
import { sc_reduce, sc_muladd } from "../curve25519/scalar";
import { ge_tobytes, ge_tobytes_pair } from "../curve25519/group";
import { ge_scalarmult_base } from "../curve25519/scalar_mul/fixed_base";
import { EXPANDED, NONCE, SIGN_CHALLENGE, POINT_PUBLIC, POINT_NONCE, expand_seed } from "./keygen";
import { pk_cache_lookup, pk_cache_insert } from "./key-cache";

/**
 * Signs the `len` bytes at `msg` with the 32-byte seed at `seed`: writes the public key to `pk`
 * and the signature R || S to `sig`. Leaves secrets in scratch: the caller wipes (keygen.ts wipe_secrets).
 */
export function sign_with_seed(seed: usize, msg: usize, len: usize, pk: usize, sig: usize): void {
  const cached = pk_cache_lookup(seed, pk);
  expand_seed(seed);
  derive_nonce(EXPANDED, msg, len);
  // R = [r]B (step 3); on a cache miss also A = [s]B, both encoded with one inversion
  ge_scalarmult_base(POINT_NONCE, NONCE);
  if (cached) {
    ge_tobytes(sig, POINT_NONCE);
  } else {
    ge_scalarmult_base(POINT_PUBLIC, EXPANDED);
    ge_tobytes_pair(pk, POINT_PUBLIC, sig, POINT_NONCE);
    pk_cache_insert(seed, pk);
  }
  finish_signature(EXPANDED, pk, msg, len, sig);
}

/**
 * Signs the `len` bytes at `msg` with an already expanded key: the clamped scalar a at
 * `expanded`, the prefix at `expanded + 32`, and its public key A = [a]B at `pk` (the prepared
 * keys of prepared-secret.ts, whose caller has checked that A belongs to a). Writes R || S to
 * `sig`. One base multiplication instead of two. Leaves secrets in scratch: the caller wipes.
 */
export function sign_with_expanded(expanded: usize, pk: usize, msg: usize, len: usize, sig: usize): void {
  derive_nonce(expanded, msg, len);
  // R = [r]B (step 3)
  ge_scalarmult_base(POINT_NONCE, NONCE);
  ge_tobytes(sig, POINT_NONCE);
  finish_signature(expanded, pk, msg, len, sig);
}

/** NONCE = r = SHA-512(prefix || M) mod L, with the prefix at `expanded + 32` (RFC 8032 §5.1.6 step 2). */
function derive_nonce(expanded: usize, msg: usize, len: usize): void {
  sha512_init();
  sha512_update(expanded + 32, 32);
  sha512_update(msg, len);
  sha512_final(NONCE);
  sc_reduce(NONCE, NONCE);
}

/**
 * Steps 4–5 of RFC 8032 §5.1.6, once R is at `sig`: k = SHA-512(R || A || M) mod L with A at
 * `pk`, then S = (r + k * a) mod L into `sig + 32`, with a at `expanded` and r in NONCE.
 */
function finish_signature(expanded: usize, pk: usize, msg: usize, len: usize, sig: usize): void {
  sha512_init();
  sha512_update(sig, 32);
  sha512_update(pk, 32);
  sha512_update(msg, len);
  sha512_final(SIGN_CHALLENGE);
  sc_reduce(SIGN_CHALLENGE, SIGN_CHALLENGE);
  sc_muladd(sig + 32, SIGN_CHALLENGE, expanded, NONCE);
}
