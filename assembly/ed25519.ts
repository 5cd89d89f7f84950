// Ed25519 (RFC 8032 §5.1.5 key generation, §5.1.6 signing, §5.1.7 verification) and the wasm
// exports used by src/ed25519.ts. ABI (see memory.ts): secret seed at ARGS+ARG_SECRET, public
// key at ARGS+ARG_PUBLIC_KEY, signature R||S at ARGS+ARG_SIGNATURE, message at ioBase().
//
// Verification rules (chio-spec §3.2):
//   default  = ed25519-dalek 2.x `verify` = OpenSSL (node:crypto): S < L; A decoded with y taken
//              mod p; k = SHA-512(R || A as given || M) mod L; R' = [S]B - [k]A encoded
//              canonically and compared byte for byte with R (cofactorless). Small-order A and
//              R are accepted.
//   zip215   = @noble/curves default: S < L; A and R decoded with y taken mod p; accept iff
//              [8](R - R') is the neutral element (cofactored).
//
// How verification computes it: both rules reduce to X = [S]B - [k]A - R being the neutral
// element (default; R must then also be canonically encoded, as R' always is) or of order
// dividing 8 (zip215). The core checks [w]X with a half-size decomposition w k = u (mod 8L)
// (scalar.ts sc_half_size_vartime, group.ts ge_triple_scalarmult_vartime): ~128 doublings
// instead of ~253, exact for points with torsion components. Decoded public keys are cached.
//
// Signing and key generation are constant time (see group.ts / scalar.ts) and wipe every
// secret intermediate from linear memory before returning (values the engine keeps in
// registers or spills to its native stack are beyond reach). The public key used while
// signing is derived from the seed or taken from a cache indexed by a one-way tag of the seed,
// never from the caller. Verification is variable time (public inputs).
import { ARGS, ARG_PUBLIC_KEY, ARG_SIGNATURE, ARG_SECRET, ARG_RESULT, ioBase } from "./memory";
import { sha512_init, sha512_update, sha512_final, sha512_wipe, sha512_oneshot } from "./sha512";
import { sc_reduce, sc_muladd, sc_is_canonical, sc_wipe_scratch, sc_half_size_vartime } from "./curve25519/scalar";
import {
  P3_BYTES, P2_BYTES, ge_frombytes_vartime, ge_tobytes, ge_tobytes_pair, ge_p3_neg, ge_scalarmult_base,
  ge_double_scalarmult_vartime, ge_triple_scalarmult_vartime, ge_odd_multiples_cached, ge_p3_to_cached, ge_sub, ge_p1p1_to_p3, ge_mul_by_cofactor_vartime,
  ge_is_neutral_vartime, ge_wipe_scratch,
} from "./curve25519/group";
import {
  fe_frombytes, fe_tobytes, fe_mul, fe_sq, fe_sq2, fe_invert, fe_pow22523, fe_iszero, fe_wipe_scratch,
} from "./curve25519/field";

export { sha512 } from "./sha512";

// ---------------------------------------------------------------------------------------------
// Scratch.

const EXPANDED: usize = memory.data(64, 16); //    SHA-512(seed): scalar a (clamped) || prefix
const NONCE: usize = memory.data(64, 16); //       SHA-512(prefix || M), then r = that mod L
const CHALLENGE: usize = memory.data(64, 16); //   SHA-512(R || A || M), then k = that mod L
const POINT_A: usize = memory.data(160, 16);
const POINT_R: usize = memory.data(160, 16);
const POINT_CHECK: usize = memory.data(160, 16);
const POINT_DIFF: usize = memory.data(160, 16);
const CACHED_TMP: usize = memory.data(160, 16);
const P2_TMP: usize = memory.data(120, 16);
const P1P1_TMP: usize = memory.data(160, 16);

/** Zeroes every place a secret (seed, expanded key, nonce, partial sums) may have touched. */
function wipe_secrets(): void {
  memory.fill(ARGS + ARG_SECRET, 0, 32);
  memory.fill(EXPANDED, 0, 64);
  memory.fill(NONCE, 0, 64);
  memory.fill(CHALLENGE, 0, 64);
  memory.fill(POINT_R, 0, P3_BYTES);
  memory.fill(POINT_A, 0, P3_BYTES);
  sha512_wipe();
  sc_wipe_scratch();
  ge_wipe_scratch();
  fe_wipe_scratch();
}

/** EXPANDED = SHA-512(seed) with the scalar half clamped (RFC 8032 §5.1.5 steps 1-2). */
function expand_seed(seed: usize): void {
  sha512_oneshot(EXPANDED, seed, 32);
  store<u8>(EXPANDED, load<u8>(EXPANDED) & 248);
  store<u8>(EXPANDED + 31, (load<u8>(EXPANDED + 31) & 127) | 64);
}

// ---------------------------------------------------------------------------------------------
// Public-key cache.
//
// Signing needs A = [a]B, which costs as much as the rest of signing, and must not take A from
// the caller (signing one message under two different A values with the same seed reveals the
// secret scalar). So the core remembers the public keys of the last PK_CACHE_ENTRIES seeds,
// indexed by a tag: the first 32 bytes of SHA-512(PK_CACHE_DOMAIN || seed). The tag is a
// one-way function of the seed, like A itself, and reveals nothing A does not (both only let
// someone confirm a guessed seed), so the cache holds no secret and is not wiped. A hit saves
// one base multiplication; whether a call hits is visible in its timing, which tells which key
// was used recently, not anything about the key.

// Each entry also carries a check value, SHA-512(PK_CHECK_DOMAIN || seed || A) truncated to 16
// bytes, recomputed on every hit: if anything ever overwrote a cached A (a memory-safety bug
// elsewhere in the module), signing with that wrong A next to a correct signature on the same
// message would reveal the secret scalar, so a hit whose check fails counts as a miss and the
// entry is dropped. The check costs one short SHA-512 per cached signature.

const PK_CACHE_ENTRIES: usize = 16;
const PK_ENTRY_BYTES: usize = 80; //                  per entry: tag (32) || public key (32) || check (16)
const PK_CACHE: usize = memory.data(16 * 80, 16);
const PK_CACHE_USED: usize = memory.data(16, 16); //  u32 entries filled, u32 next slot to replace
const PK_TAG: usize = memory.data(32, 16);
const PK_CHECK: usize = memory.data(16, 16);
const PK_TAG_DIGEST: usize = memory.data(64, 16);
/** "chio-trust/ed25519/public-key-cache/v1" (38 bytes). */
const PK_CACHE_DOMAIN: usize = memory.data<u8>([
  0x63, 0x68, 0x69, 0x6f, 0x2d, 0x74, 0x72, 0x75, 0x73, 0x74, 0x2f, 0x65, 0x64, 0x32, 0x35, 0x35, 0x31, 0x39, 0x2f,
  0x70, 0x75, 0x62, 0x6c, 0x69, 0x63, 0x2d, 0x6b, 0x65, 0x79, 0x2d, 0x63, 0x61, 0x63, 0x68, 0x65, 0x2f, 0x76, 0x31,
]);
const PK_CACHE_DOMAIN_BYTES: usize = 38;
/** "chio-trust/ed25519/public-key-check/v1" (38 bytes). */
const PK_CHECK_DOMAIN: usize = memory.data<u8>([
  0x63, 0x68, 0x69, 0x6f, 0x2d, 0x74, 0x72, 0x75, 0x73, 0x74, 0x2f, 0x65, 0x64, 0x32, 0x35, 0x35, 0x31, 0x39, 0x2f,
  0x70, 0x75, 0x62, 0x6c, 0x69, 0x63, 0x2d, 0x6b, 0x65, 0x79, 0x2d, 0x63, 0x68, 0x65, 0x63, 0x6b, 0x2f, 0x76, 0x31,
]);
const PK_CHECK_DOMAIN_BYTES: usize = 38;

/** PK_CHECK = first 16 bytes of SHA-512(PK_CHECK_DOMAIN || seed || pk). */
function pk_check(seed: usize, pk: usize): void {
  sha512_init();
  sha512_update(PK_CHECK_DOMAIN, PK_CHECK_DOMAIN_BYTES);
  sha512_update(seed, 32);
  sha512_update(pk, 32);
  sha512_final(PK_TAG_DIGEST);
  memory.copy(PK_CHECK, PK_TAG_DIGEST, 16);
  memory.fill(PK_TAG_DIGEST, 0, 64);
}

/**
 * Computes the seed's tag into PK_TAG; on a hit whose check value still matches, copies the
 * cached public key to pkOut and returns true. A hit that fails its check is erased.
 */
function pk_cache_lookup(seed: usize, pkOut: usize): bool {
  sha512_init();
  sha512_update(PK_CACHE_DOMAIN, PK_CACHE_DOMAIN_BYTES);
  sha512_update(seed, 32);
  sha512_final(PK_TAG_DIGEST);
  memory.copy(PK_TAG, PK_TAG_DIGEST, 32);
  memory.fill(PK_TAG_DIGEST, 0, 64);
  const used = <usize>load<u32>(PK_CACHE_USED);
  for (let i: usize = 0; i < used; i++) {
    const entry = PK_CACHE + i * PK_ENTRY_BYTES;
    if (memory.compare(entry, PK_TAG, 32) == 0) {
      pk_check(seed, entry + 32);
      if (memory.compare(entry + 64, PK_CHECK, 16) == 0) {
        memory.copy(pkOut, entry + 32, 32);
        return true;
      }
      memory.fill(entry, 0, PK_ENTRY_BYTES);
      return false;
    }
  }
  return false;
}

/**
 * Slot for a new entry of a cache whose state (at `state`: u32 entries filled, u32 next slot to
 * replace) is updated: the next free slot, then round-robin replacement once all are filled.
 */
function cache_next_slot(state: usize, capacity: usize): usize {
  const used = <usize>load<u32>(state);
  if (used < capacity) {
    store<u32>(state, <u32>(used + 1));
    return used;
  }
  const slot = <usize>load<u32>(state, 4);
  store<u32>(state, <u32>((slot + 1) % capacity), 4);
  return slot;
}

/** Remembers pk, with its check value, under the tag computed by the last pk_cache_lookup (round-robin replacement). */
function pk_cache_insert(seed: usize, pk: usize): void {
  pk_check(seed, pk);
  const entry = PK_CACHE + cache_next_slot(PK_CACHE_USED, PK_CACHE_ENTRIES) * PK_ENTRY_BYTES;
  memory.copy(entry, PK_TAG, 32);
  memory.copy(entry + 32, pk, 32);
  memory.copy(entry + 64, PK_CHECK, 16);
}

// ---------------------------------------------------------------------------------------------
// AS-internal API (also used by assembly/json/).

/**
 * Verifies an Ed25519 signature (64 bytes at sigPtr) on msgLen bytes at msgPtr under the
 * 32-byte public key at pkPtr. zip215 = false: dalek/OpenSSL rule; true: ZIP-215 / noble rule
 * (see the file header). Variable time; never traps on any input bytes.
 */
export function verifySignature(sigPtr: usize, msgPtr: usize, msgLen: usize, pkPtr: usize, zip215: bool): bool {
  return verify_impl(sigPtr, msgPtr, msgLen, pkPtr, zip215, true);
}

const HALF_U: usize = memory.data(32, 16);
const HALF_V: usize = memory.data(32, 16);
const HALF_B: usize = memory.data(32, 16);
const ZERO_SCALAR: usize = memory.data(32, 16);

/** true if the 32 bytes at s are the canonical encoding of the point already decoded into P (p3). */
function is_canonical_encoding(s: usize, P: usize): bool {
  // y < p = 2^255 - 19: y >= p only if bytes 1..30 are 0xff, byte 31 is 0x7f (sign masked) and byte 0 >= 0xed.
  let yAtLeastP = (load<u8>(s + 31) & 0x7f) == 0x7f && load<u8>(s) >= 0xed;
  for (let i: usize = 1; i < 31; i++) if (load<u8>(s + i) != 0xff) yAtLeastP = false;
  if (yAtLeastP) return false;
  // x = 0 is encoded with sign bit 0 (RFC 8032 §5.1.2).
  if ((load<u8>(s + 31) >> 7) != 0 && fe_iszero(P) != 0) return false;
  return true;
}

// ---------------------------------------------------------------------------------------------
// Decoded-public-key cache (verification). Public keys are public: the cache keeps, for the last
// VK_CACHE_ENTRIES distinct 32-byte encodings that decoded, the point and its width-5 table of
// odd multiples, which saves the square root and 7 additions when a key is seen again.

const VK_CACHE_ENTRIES: usize = 16;
const VK_POINT: usize = 32; //   offset of the decoded point (p3) in an entry
const VK_TABLE: usize = 192; //  offset of the odd-multiples table (ODD_MULTIPLES_BYTES)
const VK_ENTRY_BYTES: usize = 192 + 8 * 160;
const VK_CACHE: usize = memory.data(16 * (192 + 8 * 160), 16);
const VK_CACHE_USED: usize = memory.data(16, 16); // u32 entries filled, u32 next slot to replace

/** Cache entry for the public key at pkPtr (decoding it on a miss), or 0 if it does not decode. */
function decoded_public_key(pkPtr: usize): usize {
  const used = <usize>load<u32>(VK_CACHE_USED);
  for (let i: usize = 0; i < used; i++) {
    const entry = VK_CACHE + i * VK_ENTRY_BYTES;
    if (memory.compare(entry, pkPtr, 32) == 0) return entry;
  }
  if (!ge_frombytes_vartime(POINT_A, pkPtr)) return 0;
  const slot = cache_next_slot(VK_CACHE_USED, VK_CACHE_ENTRIES);
  const entry = VK_CACHE + slot * VK_ENTRY_BYTES;
  memory.copy(entry, pkPtr, 32);
  memory.copy(entry + VK_POINT, POINT_A, P3_BYTES);
  ge_odd_multiples_cached(entry + VK_TABLE, POINT_A);
  return entry;
}

const R_TABLE: usize = memory.data(8 * 160, 16);

function verify_impl(sigPtr: usize, msgPtr: usize, msgLen: usize, pkPtr: usize, zip215: bool, halfSize: bool): bool {
  const sPtr = sigPtr + 32;
  if (!sc_is_canonical(sPtr)) return false; //                          §5.1.7 step 1: S < L
  const key = decoded_public_key(pkPtr);
  if (key == 0) return false;
  // R' = [S]B - [k]A is always a point with a canonical encoding, so under the byte-compare rule
  // only R that decodes and is canonically encoded can match, and then "encoding of R' equals
  // R" is the same as "R' = R as points". ZIP-215 decodes R with the same (lenient) rule.
  if (!ge_frombytes_vartime(POINT_R, sigPtr)) return false;
  if (!zip215 && !is_canonical_encoding(sigPtr, POINT_R)) return false;
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
    ge_p3_neg(POINT_A, key + VK_POINT);
    ge_double_scalarmult_vartime(POINT_DIFF, CHALLENGE, POINT_A, sPtr);
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
 * Classifies the 32-byte public key at pkPtr: -1 if it does not decode (dalek
 * `VerifyingKey::from_bytes` rule, as in verification), 1 if the point has small order ([8]A
 * is the neutral element; the 8 torsion points, in any encoding that decodes), 0 otherwise.
 */
export function inspectPublicKey(pkPtr: usize): i32 {
  const key = decoded_public_key(pkPtr);
  if (key == 0) return -1;
  ge_mul_by_cofactor_vartime(P2_TMP, key + VK_POINT);
  return ge_is_neutral_vartime(P2_TMP) ? 1 : 0;
}

// ---------------------------------------------------------------------------------------------
// Wasm exports.

/** Public key (ARGS+ARG_PUBLIC_KEY) from the 32-byte seed at ARGS+ARG_SECRET (RFC 8032 §5.1.5). Wipes the seed. */
export function ed25519_public_key(): void {
  const seed = ARGS + ARG_SECRET;
  const pk = ARGS + ARG_PUBLIC_KEY;
  if (!pk_cache_lookup(seed, pk)) {
    expand_seed(seed);
    ge_scalarmult_base(POINT_A, EXPANDED);
    ge_tobytes(pk, POINT_A);
    pk_cache_insert(seed, pk);
  }
  wipe_secrets();
}

/**
 * Signs msgLen bytes at ioBase() with the seed at ARGS+ARG_SECRET (RFC 8032 §5.1.6). The
 * public key is derived from the seed (or taken from the seed-tagged cache above; never from
 * the caller) and also written to ARGS+ARG_PUBLIC_KEY; the signature goes to
 * ARGS+ARG_SIGNATURE. Wipes every secret.
 */
export function ed25519_sign(msgLen: u32): void {
  const msg = ioBase();
  const len = <usize>msgLen;
  const seed = ARGS + ARG_SECRET;
  const pk = ARGS + ARG_PUBLIC_KEY;
  const sig = ARGS + ARG_SIGNATURE;
  const cached = pk_cache_lookup(seed, pk);
  expand_seed(seed);
  // r = SHA-512(prefix || M) mod L (step 2)
  sha512_init();
  sha512_update(EXPANDED + 32, 32);
  sha512_update(msg, len);
  sha512_final(NONCE);
  sc_reduce(NONCE, NONCE);
  // R = [r]B (step 3); on a cache miss also A = [s]B, both encoded with one inversion
  ge_scalarmult_base(POINT_R, NONCE);
  if (cached) {
    ge_tobytes(sig, POINT_R);
  } else {
    ge_scalarmult_base(POINT_A, EXPANDED);
    ge_tobytes_pair(pk, POINT_A, sig, POINT_R);
    pk_cache_insert(seed, pk);
  }
  // k = SHA-512(R || A || M) mod L (step 4)
  sha512_init();
  sha512_update(sig, 32);
  sha512_update(pk, 32);
  sha512_update(msg, len);
  sha512_final(CHALLENGE);
  sc_reduce(CHALLENGE, CHALLENGE);
  // S = (r + k * s) mod L (step 5)
  sc_muladd(sig + 32, CHALLENGE, EXPANDED, NONCE);
  wipe_secrets();
}

/**
 * 1 if the signature at ARGS+ARG_SIGNATURE on msgLen bytes at ioBase() verifies under
 * ARGS+ARG_PUBLIC_KEY, else 0. mode bit 0: zip215 rule. mode bit 1 (tests only): force the
 * full-length multiplication instead of the half-size one (same results, slower).
 */
export function ed25519_verify(msgLen: u32, mode: i32): i32 {
  const zip215 = (mode & 1) != 0;
  const halfSize = (mode & 2) == 0;
  return verify_impl(ARGS + ARG_SIGNATURE, ioBase(), <usize>msgLen, ARGS + ARG_PUBLIC_KEY, zip215, halfSize) ? 1 : 0;
}

/** inspectPublicKey on ARGS+ARG_PUBLIC_KEY. */
export function ed25519_inspect_public_key(): i32 {
  return inspectPublicKey(ARGS + ARG_PUBLIC_KEY);
}

// ---------------------------------------------------------------------------------------------
// Test-only exports (test/field.test.ts): field and scalar operations on 32-byte encodings.
// Inputs at ARGS+ARG_RESULT+0, +32, +64; output at ARGS+ARG_RESULT+256.

const TEST_IN: usize = ARGS + ARG_RESULT;
const TEST_OUT: usize = ARGS + ARG_RESULT + 256;
const TEST_FE: usize = memory.data(3 * 40, 16);

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
