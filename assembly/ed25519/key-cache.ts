// The two public-key caches of the Ed25519 core, which share the slot bookkeeping:
//  * the signing cache: public keys of recently used seeds, indexed by a one-way tag of the seed;
//  * the verification cache: recently seen public keys, decoded, with their odd-multiples table.
// Each entry carries a check value that a hit must match; a hit that fails it is a miss.
import { sha512_init, sha512_update, sha512_final } from "../sha512";
import { P3_BYTES, ODD_MULTIPLES_BYTES, ge_frombytes_vartime, ge_odd_multiples_cached } from "../curve25519/group";

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
//  * vk_entry_check is two independent chains h = xorshift((h ^ w) * M) over the entry's u64
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
const VK_DECODED: usize = memory.data(160, 16);
const VK_CHECK_MUL0: u64 = 0x9e3779b97f4a7c15; // odd multipliers (golden ratio; xxHash64 prime 2)
const VK_CHECK_MUL1: u64 = 0xc2b2ae3d27d4eb4f;

/** Whether the check value stored in the verification-cache entry matches its contents (or, if `write`, stores it). */
function vk_entry_check(entry: usize, write: bool): bool {
  let h0: u64 = 0x243f6a8885a308d3; // arbitrary distinct starting states (digits of pi)
  let h1: u64 = 0x13198a2e03707344;
  for (let i: usize = 0; i < VK_CHECK; i += 16) {
    h0 = (h0 ^ load<u64>(entry + i)) * VK_CHECK_MUL0;
    h0 ^= h0 >> 32;
    h1 = (h1 ^ load<u64>(entry + i, 8)) * VK_CHECK_MUL1;
    h1 ^= h1 >> 29;
  }
  if (write) {
    store<u64>(entry + VK_CHECK, h0);
    store<u64>(entry + VK_CHECK, h1, 8);
    return true;
  }
  return load<u64>(entry + VK_CHECK) == h0 && load<u64>(entry + VK_CHECK, 8) == h1;
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
      if (vk_entry_check(candidate, false)) {
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
  memory.copy(entry, pkPtr, 32);
  memory.copy(entry + VK_POINT, VK_DECODED, P3_BYTES);
  ge_odd_multiples_cached(entry + VK_TABLE, VK_DECODED);
  vk_entry_check(entry, true);
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
