// The public-key caches of the Ed25519 core:
//  * the signing cache: public keys of recently used seeds, indexed by a one-way tag of the seed;
//  * the verification cache: recently seen public keys, decoded, with their odd-multiples table;
//  * the batch key cache: decoded public keys with their torsion class, for batch verification
//    and the envelope batch (many senders, seen again and again).
// Each entry carries a check value that a hit must match; a hit that fails it is a miss.
import { sha512_init, sha512_update, sha512_final } from "../sha512";
import { P3_BYTES, ODD_MULTIPLES_BYTES, ge_frombytes_vartime, ge_odd_multiples_cached } from "../curve25519/group";
import { fe_1, fe_mul } from "../curve25519/field";
import { siphash24 } from "../siphash";

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

// ---------------------------------------------------------------------------------------------
// Signing cache.
//
// Signing needs A = [a]B, which costs as much as the rest of signing, and must not take A from
// the caller (signing one message under two different A values with the same seed reveals the
// secret scalar). So the core remembers the public keys of the last PK_CACHE_ENTRIES seeds,
// indexed by a tag: the first 32 bytes of SHA-512(PK_CACHE_DOMAIN || seed). The tag is a
// one-way function of the seed, like A itself, and reveals nothing A does not (both only let
// someone confirm a guessed seed), so the cache holds no secret and is not wiped. A hit saves
// one base multiplication; whether a call hits is visible in its timing, which tells which key
// was used recently, not anything about the key.
//
// Each entry also carries a check value, SHA-512(PK_CHECK_DOMAIN || seed || A) truncated to 16
// bytes, recomputed on every hit: if anything ever overwrote a cached A (a memory-safety bug
// elsewhere in the module), signing with that wrong A next to a correct signature on the same
// message would reveal the secret scalar, so a hit whose check fails counts as a miss and the
// entry is dropped. The check costs one short SHA-512 per cached signature, and it is keyed by
// the seed, which nobody without the seed can compute.

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
export function pk_cache_lookup(seed: usize, pkOut: usize): bool {
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

/** Remembers pk, with its check value, under the tag computed by the last pk_cache_lookup (round-robin replacement). */
export function pk_cache_insert(seed: usize, pk: usize): void {
  pk_check(seed, pk);
  const entry = PK_CACHE + cache_next_slot(PK_CACHE_USED, PK_CACHE_ENTRIES) * PK_ENTRY_BYTES;
  memory.copy(entry, PK_TAG, 32);
  memory.copy(entry + 32, pk, 32);
  memory.copy(entry + 64, PK_CHECK, 16);
}

// ---------------------------------------------------------------------------------------------
// Verification cache. Public keys are public: the cache keeps, for the last VK_CACHE_ENTRIES
// distinct 32-byte encodings that decoded, the point and its width-5 table of odd multiples,
// which saves the square root and 7 additions when a key is seen again.
//
// Each entry ends in a 16-byte check value over everything before it (key bytes || point ||
// table), recomputed on every hit; a hit whose check fails is decoded afresh and rewritten. The
// danger it addresses: an entry whose point or table no longer belongs to its key bytes makes
// verification answer for another key, e.g. accept a forgery made with the secret of the point
// actually stored there.
//
// Why this check and not a MAC or a re-derivation:
//  * Code that can write this module's linear memory can equally rewrite the base-point tables
//    and curve constants that verification reads from the same memory, so no value stored in
//    that memory can stop a deliberate attacker; and the module has no imports, hence no secret
//    randomness to key a MAC with that such code could not read. The defence against that
//    attacker is that nothing outside src/ can reach linear memory (src/wasm/instance.ts:
//    init/initSync return nothing and no public export exposes the instance).
//  * What remains is accidental or naive corruption (a memory-safety bug elsewhere in the
//    module, or a copy of another key's entry over this one): the check must catch any such
//    change with certainty for a single word and with overwhelming probability otherwise, and
//    cost next to nothing, since it runs on the verification hot path. Re-deriving the point
//    from the key bytes (a square root) or the table (7 additions) would cost what the cache saves.
//  * entry_check is two independent chains h = xorshift((h ^ w) * M) over the entry's u64
//    words (even and odd words). Each step is a bijection of h for a fixed word and of the word
//    for a fixed h, so changing any one word always changes the result, and the two 64-bit lanes
//    together leave a 2^-128 chance for an arbitrary (non-adversarial) change. One pass over
//    1472 bytes: a fraction of a microsecond, within the noise of a verification.

const VK_CACHE_ENTRIES: usize = 16;
/** Offset of the decoded point (p3) in an entry. */
export const VK_POINT: usize = 32; //    after the 32 key bytes
/** Offset of the odd-multiples table (ODD_MULTIPLES_BYTES). */
export const VK_TABLE: usize = VK_POINT + P3_BYTES;
/** Offset of the 16-byte check value, which covers bytes [0, VK_CHECK) of the entry. */
const VK_CHECK: usize = VK_TABLE + ODD_MULTIPLES_BYTES;
const VK_ENTRY_BYTES: usize = VK_CHECK + 16;
const VK_CACHE: usize = memory.data(<i32>(VK_CACHE_ENTRIES * VK_ENTRY_BYTES), 16);
const VK_CACHE_USED: usize = memory.data(16, 16); // u32 entries filled, u32 next slot to replace
// Per-entry use counters (u32 each), outside the checked entries: they only decide when a key
// is hot enough to be prepared (prepared-public.ts), never a verdict.
const VK_HITS: usize = memory.data(<i32>(VK_CACHE_ENTRIES * 4), 16);
// Per-entry stamps (u64 each), outside the checked entries too: the caller's clock (the prepared
// slab's tick) at the entry's last use by a PreparedPublicKey that had lost its slot, from which
// verify.ts reads how often such a key comes back. 0: none since the entry was filled.
const VK_STAMPS: usize = memory.data(<i32>(VK_CACHE_ENTRIES * 8), 16);
const VK_DECODED: usize = memory.data(160, 16);
/** 2^64 / golden ratio, odd: a multiplier of entry_check. */
const GOLDEN_RATIO_64: u64 = 0x9e3779b97f4a7c15;
const XXHASH64_PRIME_2: u64 = 0xc2b2ae3d27d4eb4f; // odd, the other check chain's multiplier

/**
 * Whether the 16-byte check value at entry + covered matches bytes [0, covered) of the entry
 * (covered: a multiple of 16), or, if `write`, stores it. Shared by the verification cache and
 * the batch key cache; why this check, above.
 */
function entry_check(entry: usize, covered: usize, write: bool): bool {
  let h0: u64 = 0x243f6a8885a308d3; // arbitrary distinct starting states (digits of pi)
  let h1: u64 = 0x13198a2e03707344;
  for (let i: usize = 0; i < covered; i += 16) {
    h0 = (h0 ^ load<u64>(entry + i)) * GOLDEN_RATIO_64;
    h0 ^= h0 >> 32;
    h1 = (h1 ^ load<u64>(entry + i, 8)) * XXHASH64_PRIME_2;
    h1 ^= h1 >> 29;
  }
  if (write) {
    store<u64>(entry + covered, h0);
    store<u64>(entry + covered, h1, 8);
    return true;
  }
  return load<u64>(entry + covered) == h0 && load<u64>(entry + covered, 8) == h1;
}

/**
 * Verification-cache entry for the public key at pkPtr (decoding it on a miss, or when the
 * entry fails its check), or 0 if the bytes do not decode (dalek `VerifyingKey::from_bytes`
 * rule: y taken mod p). The point is at entry + VK_POINT, its table at entry + VK_TABLE.
 */
export function decoded_public_key_vartime(pkPtr: usize): usize {
  const used = <usize>load<u32>(VK_CACHE_USED);
  let entry: usize = 0;
  for (let i: usize = 0; i < used; i++) {
    const candidate = VK_CACHE + i * VK_ENTRY_BYTES;
    if (memory.compare(candidate, pkPtr, 32) == 0) {
      if (entry_check(candidate, VK_CHECK, false)) {
        store<u32>(VK_HITS + i * 4, load<u32>(VK_HITS + i * 4) + 1);
        return candidate;
      }
      entry = candidate; // corrupted: rebuild in place
      break;
    }
  }
  if (!ge_frombytes_vartime(VK_DECODED, pkPtr)) {
    if (entry != 0) memory.fill(entry, 0, VK_ENTRY_BYTES); // cannot happen for bytes that once decoded
    return 0;
  }
  if (entry == 0) entry = VK_CACHE + cache_next_slot(VK_CACHE_USED, VK_CACHE_ENTRIES) * VK_ENTRY_BYTES;
  store<u32>(VK_HITS + (entry - VK_CACHE) / VK_ENTRY_BYTES * 4, 0);
  store<u64>(VK_STAMPS + (entry - VK_CACHE) / VK_ENTRY_BYTES * 8, 0);
  memory.copy(entry, pkPtr, 32);
  memory.copy(entry + VK_POINT, VK_DECODED, P3_BYTES);
  ge_odd_multiples_cached(entry + VK_TABLE, VK_DECODED);
  entry_check(entry, VK_CHECK, true);
  return entry;
}

/**
 * How many times the verification-cache entry (from decoded_public_key_vartime) was found again
 * since it was filled or last reset; resets the count when `reset`.
 */
export function vk_entry_hits(entry: usize, reset: bool): u32 {
  const counter = VK_HITS + (entry - VK_CACHE) / VK_ENTRY_BYTES * 4;
  const hits = load<u32>(counter);
  if (reset) store<u32>(counter, 0);
  return hits;
}

/**
 * Forgets every entry's stamp: the prepared-key slab's clock (prepared_tick), which stamps are
 * read against, starts again at 0 when the slab is configured (prepared_configure).
 */
export function vk_clear_stamps(): void {
  memory.fill(VK_STAMPS, 0, VK_CACHE_ENTRIES * 8);
}

/** The stamp of the cached key at pkPtr (0: none), or -1 if the key is not cached (for tests). */
export function vk_stamp_of_vartime(pkPtr: usize): i64 {
  const used = <usize>load<u32>(VK_CACHE_USED);
  for (let i: usize = 0; i < used; i++) {
    if (memory.compare(VK_CACHE + i * VK_ENTRY_BYTES, pkPtr, 32) == 0) return <i64>load<u64>(VK_STAMPS + i * 8);
  }
  return -1;
}

/**
 * The stamp of the verification-cache entry (0 if it has none since it was filled), replaced
 * by `now`.
 */
export function vk_entry_restamp(entry: usize, now: u64): u64 {
  const stamp = VK_STAMPS + (entry - VK_CACHE) / VK_ENTRY_BYTES * 8;
  const previous = load<u64>(stamp);
  store<u64>(stamp, now);
  return previous;
}

// ---------------------------------------------------------------------------------------------
// Positions of public keys in the key caches: the batch key cache's set (below) and the home
// slot of the prepared-key slab's index (prepared-public.ts). Both were once a multiplicative
// hash of a key's first 8 bytes, which a sender of envelopes chooses freely (any bytes followed
// by a suffix that decodes): its keys could then share a pinned peer's set, and evict it at
// will, or pile up on one probe sequence. SipHash-2-4 of all 32 bytes under a 128-bit key that
// the JS side draws from the platform's CSPRNG once per realm and gives every instance it adopts
// (src/wasm/instance.ts) makes the positions unpredictable without that key. Until seeded (a bare
// instance, or a host without a CSPRNG when the JS module loaded), the key is the fixed one
// below. Positions never decide a verdict: every entry found is confirmed by its key bytes and
// check value.

let keyIndexK0: u64 = 0x0706050403020100; // the reference vectors' key, until key_index_seed
let keyIndexK1: u64 = 0x0f0e0d0c0b0a0908;

/** The keyed position hash of the 32 key bytes at pk (SipHash-2-4). */
export function key_index_hash(pk: usize): u64 {
  return siphash24(keyIndexK0, keyIndexK1, pk, 32);
}

/**
 * Takes (k0, k1) as the position key and forgets the batch key cache, whose entries sit where the
 * old key put them. The prepared-key slab's index must be rebuilt too (prepared-public.ts
 * prepared_reindex; ed25519_seed_key_index in exports.ts does both).
 */
export function key_index_seed(k0: u64, k1: u64): void {
  keyIndexK0 = k0;
  keyIndexK1 = k1;
  bk_clear();
}

// ---------------------------------------------------------------------------------------------
// Batch key cache. Batch verification (batch.ts) needs, for every distinct key of a call, the
// decoded point and, under the default rule, whether it is torsion-free: a square root and the
// quartic-root test (curve25519/torsion.ts), two exponentiations, about 0.17 of a single
// verification (README, "Batch verification"). Kernels see the same senders again and again
// (pinned peers, docs/protocol.md §6, and the envelope batch's senders), so the core keeps both
// for up to BATCH_KEY_SETS * BATCH_KEY_WAYS recently used keys, set-associative by the key bytes
// with least-recently-used replacement within a set. The envelope parse (handshake/envelope.ts)
// takes the point from here too.
//
// An entry: key bytes (32) || affine x || affine y (40 each) || class (u32) || padding to 128
// || check value (16, entry_check). The point is stored as decoding produced it (Z = 1) and T = xy
// is recomputed on a hit. The class is BATCH_KEY_TORSION_FREE or BATCH_KEY_HAS_TORSION from the
// quartic-root test, or BATCH_KEY_CLASS_UNKNOWN when the key was decoded under ZIP-215, which
// needs no test, or by an envelope's parse, cached before the batch tests it, or when it was new
// to the cache under one item of a default-rule batch, whose item's R + [k mod 8]A was tested in
// its place (batch.ts); the default rule tests such a key when a batch takes it from here and
// stores the class.
// Bytes that do not decode are not cached (single verification rejects them anyway).
//
// A hit whose check fails is a miss (the key is decoded afresh), for the reasons given above for
// the verification cache: a point that no longer belongs to its key bytes would make the batch
// answer for another key. The last-use ticks sit outside the checked entries: they only choose
// which entry to replace, never a verdict. The set is chosen by key_index_hash (below), keyed at
// random per realm: a sender chooses its key bytes freely, but without the key it cannot choose
// keys that share a set with a given key (a pinned peer's), so it cannot target that key: pushing
// it out takes about as many new keys between two of its uses as the cache holds. Colliding keys
// would in any case cost time, not correctness.
// 1024 entries of 144 bytes and their 8-byte ticks: 152 KiB of static memory, fixed. Everything
// here is variable time (public keys).

/** The batch key cache has 2^BATCH_KEY_SET_BITS sets of BATCH_KEY_WAYS entries. */
const BATCH_KEY_SET_BITS: u64 = 8;
const BATCH_KEY_SETS: usize = 1 << <usize>BATCH_KEY_SET_BITS;
const BATCH_KEY_WAYS: usize = 4;
const BK_X: usize = 32; //                       after the 32 key bytes
const BK_Y: usize = BK_X + 40;
const BK_CLASS: usize = BK_Y + 40; //            u32, then 12 bytes of zeros
const BK_CHECK: usize = BK_CLASS + 16; //        check value over [0, BK_CHECK): 128 bytes, a multiple of 16
const BK_ENTRY_BYTES: usize = BK_CHECK + 16;
const BK_ENTRIES: usize = memory.data(<i32>(BATCH_KEY_SETS * BATCH_KEY_WAYS * BK_ENTRY_BYTES), 16);
// u64 last-use tick per entry, 0 for an empty one.
const BK_TICKS: usize = memory.data(<i32>(BATCH_KEY_SETS * BATCH_KEY_WAYS * 8), 16);
let bkTick: u64 = 0;

/** No entry for the key (batch_key_lookup_vartime). */
export const BATCH_KEY_MISS: u32 = 0;
export const BATCH_KEY_TORSION_FREE: u32 = 1;
export const BATCH_KEY_HAS_TORSION: u32 = 2;
/** Decoded, not yet tested for torsion. */
export const BATCH_KEY_CLASS_UNKNOWN: u32 = 3;

/** Index of the first entry of the set for the key bytes at pk: the top bits of key_index_hash. */
function bk_set_start(pk: usize): usize {
  return <usize>(key_index_hash(pk) >> (64 - BATCH_KEY_SET_BITS)) * BATCH_KEY_WAYS;
}

/** Forgets every entry of the batch key cache (key_index_seed: each sits in the set of the old key). */
function bk_clear(): void {
  memory.fill(BK_TICKS, 0, BATCH_KEY_SETS * BATCH_KEY_WAYS * 8);
}

/** Index of the valid entry for the key at pk, or -1 (an entry whose check fails is emptied). */
function bk_find(pk: usize): isize {
  return bk_find_in_set(pk, bk_set_start(pk));
}

/** bk_find within the set starting at `first` (bk_set_start(pk), computed once by the caller). */
function bk_find_in_set(pk: usize, first: usize): isize {
  for (let w: usize = 0; w < BATCH_KEY_WAYS; w++) {
    const index = first + w;
    if (load<u64>(BK_TICKS + (index << 3)) == 0) continue;
    const entry = BK_ENTRIES + index * BK_ENTRY_BYTES;
    if (memory.compare(entry, pk, 32) != 0) continue;
    if (entry_check(entry, BK_CHECK, false)) return <isize>index;
    store<u64>(BK_TICKS + (index << 3), 0); // corrupted: forget it
    return -1;
  }
  return -1;
}

/**
 * The cached class of the key whose 32 bytes are at pk (BATCH_KEY_MISS if not cached); on a hit
 * writes its decoded point to out (p3, Z = 1), exactly as ge_frombytes_vartime would.
 */
export function batch_key_lookup_vartime(pk: usize, out: usize): u32 {
  const index = bk_find(pk);
  if (index < 0) return BATCH_KEY_MISS;
  const entry = BK_ENTRIES + <usize>index * BK_ENTRY_BYTES;
  store<u64>(BK_TICKS + (<usize>index << 3), ++bkTick);
  memory.copy(out, entry + BK_X, 80); //      X, Y (p3 offsets 0 and 40)
  fe_1(out + 80); //                          Z = 1
  fe_mul(out + 120, out, out + 40); //        T = XY
  return load<u32>(entry + BK_CLASS);
}

/**
 * Remembers the key at pk with its point P (p3 with Z = 1, from ge_frombytes_vartime of those
 * bytes) and class (BATCH_KEY_TORSION_FREE, _HAS_TORSION or _CLASS_UNKNOWN), in its own entry
 * if the key is cached, else in its set's least recently used one.
 */
export function batch_key_store_vartime(pk: usize, P: usize, keyClass: u32): void {
  const first = bk_set_start(pk);
  let index = bk_find_in_set(pk, first);
  if (index < 0) {
    let oldest = load<u64>(BK_TICKS + (first << 3));
    index = <isize>first;
    for (let w: usize = 1; w < BATCH_KEY_WAYS && oldest != 0; w++) {
      const t = load<u64>(BK_TICKS + ((first + w) << 3));
      if (t < oldest) {
        oldest = t;
        index = <isize>(first + w);
      }
    }
  }
  const entry = BK_ENTRIES + <usize>index * BK_ENTRY_BYTES;
  memory.copy(entry, pk, 32);
  memory.copy(entry + BK_X, P, 80);
  memory.fill(entry + BK_CLASS, 0, BK_CHECK - BK_CLASS);
  store<u32>(entry + BK_CLASS, keyClass);
  entry_check(entry, BK_CHECK, true);
  store<u64>(BK_TICKS + (<usize>index << 3), ++bkTick);
}

/** Address of the batch key cache's entry for the key at pk, or 0 (test build: to read or corrupt it). */
export function batch_key_entry(pk: usize): usize {
  const index = bk_find(pk);
  return index < 0 ? 0 : BK_ENTRIES + <usize>index * BK_ENTRY_BYTES;
}
