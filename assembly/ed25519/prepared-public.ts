// Prepared public keys: decoded points with a large precomputed table, kept in a slab of
// linear memory between static data and the I/O arena (memory.ts reserveSlab), so that
// verification under a key used again and again costs less than a plain verification.
//
// Where the speed comes from. A plain verification (verify.ts) spends ~128 doublings on the
// half-size equation plus a per-call table for R, and decodes R (a square root). A prepared
// key carries a fixed-window comb table of A: row r holds j * 2^(COMB_W*COMB_G*r) A for
// j = 1 ... 2^(COMB_W-1), as affine niels points. The base point has the same table (computed
// once per instance, at configuration). Then R' = [S]B - [k]A is a sum of about 2 * 253/COMB_W
// mixed additions and COMB_W * (COMB_G - 1) doublings; the default rule encodes R' and compares
// it byte for byte with R (exactly ed25519-dalek's `verify`, RFC 8032 §5.1.7 with the
// cofactorless equation), so R is never decoded; ZIP-215 decodes R and checks [8](R' - R) = O.
// Both give the verdicts of verify.ts for every input (test/node/ed25519-prepared-public.test.ts).
//
// Batch verification (batch.ts) uses a second table: the width-8 wNAF table of A (its 64 odd
// multiples as affine niels points, scalar_mul/straus.ts), with which a prepared key's term in
// the batch's multi-scalar multiplication costs about 28 mixed additions and no per-call table
// instead of about 50 additions.
//
// Slab: [base-point table][slot headers][index][slot bodies]. A header (16 bytes) holds the
// first 8 key bytes and the slot's last-use tick (0: empty), for the LRU eviction scan, whose top
// bit (ON_REQUEST) marks a key prepared on request (preparePublicKey, or a PreparedPublicKey in
// use; cleared by prepared_release_vartime once no PreparedPublicKey of the key holds it) rather
// than promoted by verify as a hot key: a promotion takes an empty slot or evicts only another
// promoted key, so keys verify sees often (attacker-chosen ones included: a peer's
// declared key is verified before anything else is known of it) can never push the keys a
// caller prepared out of the slab; a preparation on request takes an empty slot, else the least
// recently used promoted key, else the least recently used key prepared on request. The index
// is an open-addressing hash table (linear probing, homes keyed per instance: key-cache.ts
// key_index_hash) from the key bytes to slots, so a lookup,
// which every verification makes, costs a few probes however many slots there are (the scan over
// every header it replaces added 1–2 µs to each verification of a key the slab does not hold, at
// 1,000 slots). It is only a guide: every slot it names is confirmed by its header, body key and
// check value, so a corrupted index can cost a preparation, never change a verdict.
//
// A body holds key bytes || flags || point A (p3) || comb table || comb check value ||
// odd-multiples table || batch check value. The comb check value covers everything before it,
// the batch one the key, flags, point and odd-multiples table. Single verification recomputes the
// comb check value on each lookup; a batch recomputes the batch one when it looks a key up, and
// confirms the key bytes again at each use within the same core call (prepared_batch_table). A
// slot whose check fails is emptied (the key is prepared afresh when next prepared or promoted; a
// batch decodes it meanwhile), and one whose body key differs from the key asked for is a miss,
// so a corrupted slot never changes a verdict (same reasoning as key-cache.ts's verification
// cache, with four hash lanes since a body is ~33 KB). The base-point table, like the static
// tables in tables.ts, is not checked. Every slot is evictable: callers holding a prepared key
// keep its 32 bytes and re-prepare transparently (src/ed25519.ts): at once when that evicts no
// other key prepared on request, else once the key is hot and comes back more often than the
// key it would evict (exports.ts ed25519_verify_prepared, prepared_may_evict_for_vartime).
//
// Everything here is variable time: keys, signatures and messages are public.
import { sha512_init, sha512_update, sha512_final } from "../sha512";
import { sc_reduce, sc_is_canonical_vartime } from "../curve25519/scalar";
import {
  P3_BYTES, NIELS_BYTES, ge_frombytes_vartime, ge_p3_to_cached, ge_add, ge_sub, ge_madd, ge_msub, ge_p2_dbl,
  ge_p1p1_to_p2, ge_p1p1_to_p3, ge_p3_0, ge_tobytes, ge_mul_by_cofactor_vartime, ge_is_neutral_vartime,
  ge_table_to_niels, ge_odd_multiples_niels_vartime,
} from "../curve25519/group";
import { PRECOMPUTED_WNAF_ENTRIES, PRECOMPUTED_TABLE_BYTES } from "../curve25519/scalar_mul/straus";
import { slabBase, reserveSlab } from "../memory";
import { vk_clear_stamps, key_index_hash } from "./key-cache";

/** Bits per comb digit (signed digits in [-2^(COMB_W-1), 2^(COMB_W-1)]). */
const COMB_W: i32 = 5;
/** Digit groups sharing one doubling chain: COMB_W * (COMB_G - 1) doublings per multiplication. */
const COMB_G: i32 = 4;
/** Table entries per row: j * row base for j = 1 ... 2^(COMB_W-1). */
const COMB_ENTRIES: i32 = 1 << (COMB_W - 1);
/** Digits of a scalar below 2^253 (one more bit for the last carry), rounded up to a multiple of COMB_G. */
const COMB_DIGITS: i32 = ((254 + COMB_W - 1) / COMB_W + COMB_G - 1) / COMB_G * COMB_G;
const COMB_ROWS: i32 = COMB_DIGITS / COMB_G;
const COMB_POINTS: i32 = COMB_ROWS * COMB_ENTRIES;
/** Bytes of one comb table (affine niels points). */
export const COMB_TABLE_BYTES: usize = <usize>COMB_POINTS * NIELS_BYTES;

// Slot body layout.
const BODY_KEY: usize = 0; //                  32 key bytes as given
const BODY_FLAGS: usize = 32; //               u32 torsion-free (1) or not (0); 32 bytes in all
/** Offset of the decoded point A (p3) in a slot body. */
const BODY_POINT: usize = 64;
const BODY_TABLE: usize = BODY_POINT + P3_BYTES;
const BODY_CHECK: usize = BODY_TABLE + COMB_TABLE_BYTES; //   32-byte check value over [0, BODY_CHECK)
const BODY_ODD_TABLE: usize = BODY_CHECK + 32; //             width-8 wNAF table (scalar_mul/straus.ts)
const BODY_ODD_CHECK: usize = BODY_ODD_TABLE + PRECOMPUTED_TABLE_BYTES; // over [0, BODY_TABLE) and the odd table
/** Bytes of one slot body. */
export const SLOT_BODY_BYTES: usize = BODY_ODD_CHECK + 32;
const HEADER_BYTES: usize = 16; //             u64 key prefix, u64 last-use tick (0: empty) | ON_REQUEST
/** Top bit of a header's tick word: the key was prepared on request, not promoted (see the file header). */
const ON_REQUEST: u64 = 0x8000000000000000;
/** Bytes one prepared key takes in the slab (header + body). */
export const SLOT_BYTES: usize = HEADER_BYTES + SLOT_BODY_BYTES;
/**
 * Index bytes a slot takes at the least: index_capacity gives 2 to 4 entries of 4 bytes a slot (and
 * at least 16 in all), so an estimate with 8 is never below the count that fits.
 */
const INDEX_BYTES_PER_SLOT: usize = 8;
/** Index entry of a removed slot (entries are slot + 1; 0 is empty). */
const INDEX_TOMBSTONE: u32 = 0xffffffff;

let slotCount: i32 = 0;
let headers: usize = 0;
let index: usize = 0;
let indexMask: u32 = 0;
let indexTombstones: u32 = 0;
let bodies: usize = 0;
let baseTable: usize = 0;
let tick: u64 = 0;

// Scratch.
const DIGITS_A: usize = memory.data(<i32>COMB_DIGITS, 16);
const DIGITS_B: usize = memory.data(<i32>COMB_DIGITS, 16);
const SCALAR_PAD: usize = memory.data(48, 16);
const ACC: usize = memory.data(<i32>P3_BYTES, 16);
const ACC_P1P1: usize = memory.data(<i32>P3_BYTES, 16);
const CUR: usize = memory.data(<i32>P3_BYTES, 16);
const CACHED_Q: usize = memory.data(160, 16);
/** ge_table_to_niels scratch, for the comb table and for the (smaller) odd-multiples table. */
const Z_PREFIX: usize = memory.data(<i32>(COMB_POINTS * 40), 16);
// @ts-ignore: compile-time check (ERROR is an AssemblyScript builtin)
if (<usize>COMB_POINTS < PRECOMPUTED_WNAF_ENTRIES) ERROR("Z_PREFIX must hold the odd-multiples table's prefixes too");
const POINT_R: usize = memory.data(<i32>P3_BYTES, 16);
const CACHED_R: usize = memory.data(160, 16);
const DIFF: usize = memory.data(<i32>P3_BYTES, 16);
const P2_TMP: usize = memory.data(120, 16);
const ENCODED: usize = memory.data(32, 16);
const CHALLENGE: usize = memory.data(64, 16);
const DECODED: usize = memory.data(<i32>P3_BYTES, 16);
/** The base point B = (x, 4/5) (RFC 8032 §5.1), encoded. */
const BASE_POINT_BYTES: usize = memory.data<u8>([
  0x58, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66,
  0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66,
]);
/** L = 2^252 + 27742317777372353535851937790883648493 (RFC 8032 §5.1), little-endian. */
const ORDER_L: usize = memory.data<u8>([
  0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14,
  0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10,
]);

// ---------------------------------------------------------------------------------------------
// Comb tables and multiplication.

/** Signed radix-2^COMB_W digits of the 32-byte scalar s < 2^253 into out[0..COMB_DIGITS]. */
function comb_digits_vartime(out: usize, s: usize): void {
  memory.copy(SCALAR_PAD, s, 32);
  memory.fill(SCALAR_PAD + 32, 0, 16);
  const mask: u32 = (1 << COMB_W) - 1;
  let carry: i32 = 0;
  for (let i: i32 = 0; i < COMB_DIGITS; i++) {
    const bit = <u32>(i * COMB_W);
    let d = <i32>((load<u32>(SCALAR_PAD + <usize>(bit >> 3)) >> (bit & 7)) & mask) + carry;
    if (d > COMB_ENTRIES) {
      d -= 1 << COMB_W;
      carry = 1;
    } else {
      carry = 0;
    }
    store<i8>(out + <usize>i, <i8>d);
  }
}

/**
 * Writes the comb table of P (p3) at table: entry (r, j-1) = j * 2^(COMB_W*COMB_G*r) P as an
 * affine niels point (y+x, y-x, 2dxy). The projective points are first stored as (X, Y, Z) in
 * place, then made affine with one inversion for the whole table (Montgomery's trick).
 */
function comb_table_vartime(table: usize, P: usize): void {
  memory.copy(CUR, P, P3_BYTES);
  for (let r: i32 = 0; r < COMB_ROWS; r++) {
    const row = table + <usize>(r * COMB_ENTRIES) * NIELS_BYTES;
    ge_p3_to_cached(CACHED_Q, CUR);
    memory.copy(row, CUR, 120);
    for (let j: i32 = 1; j < COMB_ENTRIES; j++) {
      ge_add(ACC_P1P1, CUR, CACHED_Q);
      ge_p1p1_to_p3(CUR, ACC_P1P1);
      memory.copy(row + <usize>j * NIELS_BYTES, CUR, 120);
    }
    if (r + 1 < COMB_ROWS) {
      // CUR = 2^(COMB_W-1) * row base; the next row base is 2^(COMB_W*COMB_G) * row base.
      const doublings = COMB_W * COMB_G - (COMB_W - 1);
      for (let d: i32 = 0; d < doublings; d++) {
        ge_p2_dbl(ACC_P1P1, CUR);
        if (d + 1 < doublings) ge_p1p1_to_p2(CUR, ACC_P1P1);
        else ge_p1p1_to_p3(CUR, ACC_P1P1);
      }
    }
  }
  ge_table_to_niels(table, <usize>COMB_POINTS, Z_PREFIX);
}

// ACC (p3) += sign(digit) * table entry (row, |digit|), negated if negate.
// @ts-ignore: decorator
@inline function comb_add(table: usize, row: i32, digit: i32, negate: bool): void {
  if (digit == 0) return;
  let d = digit;
  if (negate) d = -d;
  const entry = table + <usize>(row * COMB_ENTRIES + (d < 0 ? -d : d) - 1) * NIELS_BYTES;
  if (d > 0) ge_madd(ACC_P1P1, ACC, entry);
  else ge_msub(ACC_P1P1, ACC, entry);
  ge_p1p1_to_p3(ACC, ACC_P1P1);
}

/**
 * ACC (p3) = [a](±P) + [b]Q for comb digits a (of P's table, negated if aNeg) and b (of Q's
 * table; bTable = 0 to leave that term out). Exact integer multiples: valid for points with a
 * torsion component too.
 */
function comb_mul_vartime(aTable: usize, aDigits: usize, aNeg: bool, bTable: usize, bDigits: usize): void {
  ge_p3_0(ACC);
  for (let g: i32 = COMB_G - 1; g >= 0; g--) {
    if (g < COMB_G - 1) {
      for (let d: i32 = 0; d < COMB_W; d++) {
        ge_p2_dbl(ACC_P1P1, ACC);
        if (d + 1 < COMB_W) ge_p1p1_to_p2(ACC, ACC_P1P1);
        else ge_p1p1_to_p3(ACC, ACC_P1P1);
      }
    }
    for (let r: i32 = 0; r < COMB_ROWS; r++) {
      const i = <usize>(r * COMB_G + g);
      comb_add(aTable, r, <i32>load<i8>(aDigits + i), aNeg);
      if (bTable != 0) comb_add(bTable, r, <i32>load<i8>(bDigits + i), false);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Check values (see the file header and key-cache.ts entry_check): four independent chains
// h = xorshift((h ^ w) * M) over the body's u64 words; each step is a bijection of h for a fixed
// word and of the word for a fixed h, so changing any single word always changes the result.

const CHECK_MUL0: u64 = 0x9e3779b97f4a7c15;
const CHECK_MUL1: u64 = 0xc2b2ae3d27d4eb4f;
const CHECK_MUL2: u64 = 0x165667b19e3779f9;
const CHECK_MUL3: u64 = 0xd6e8feb86659fd93;

let h0: u64 = 0;
let h1: u64 = 0;
let h2: u64 = 0;
let h3: u64 = 0;

/** Starts the four chains from a check value's own seeds (the two check values use different ones). */
function check_begin(s0: u64, s1: u64, s2: u64, s3: u64): void {
  h0 = s0;
  h1 = s1;
  h2 = s2;
  h3 = s3;
}

/** Mixes the bytes [from, to) (a multiple of 32 long) into the four chains. */
function check_mix(from: usize, to: usize): void {
  for (let p = from; p < to; p += 32) {
    h0 = (h0 ^ load<u64>(p)) * CHECK_MUL0;
    h1 = (h1 ^ load<u64>(p, 8)) * CHECK_MUL1;
    h2 = (h2 ^ load<u64>(p, 16)) * CHECK_MUL2;
    h3 = (h3 ^ load<u64>(p, 24)) * CHECK_MUL3;
    h0 ^= h0 >> 32;
    h1 ^= h1 >> 29;
    h2 ^= h2 >> 31;
    h3 ^= h3 >> 27;
  }
}

/** Writes the chains' result at c (write) or compares it with the value there. */
function check_finish(c: usize, write: bool): bool {
  if (write) {
    store<u64>(c, h0);
    store<u64>(c, h1, 8);
    store<u64>(c, h2, 16);
    store<u64>(c, h3, 24);
    return true;
  }
  return load<u64>(c) == h0 && load<u64>(c, 8) == h1 && load<u64>(c, 16) == h2 && load<u64>(c, 24) == h3;
}

/** The check value of what single verification reads: [0, BODY_CHECK) (key, flags, point, comb table). */
function comb_check(body: usize, write: bool): bool {
  check_begin(0x243f6a8885a308d3, 0x13198a2e03707344, 0xa4093822299f31d0, 0x082efa98ec4e6c89);
  check_mix(body, body + BODY_CHECK);
  return check_finish(body + BODY_CHECK, write);
}

/** The check value of what a batch reads: key, flags, point and the odd-multiples table. */
function odd_check(body: usize, write: bool): bool {
  check_begin(0x452821e638d01377, 0xbe5466cf34e90c6c, 0xc0ac29b7c97c50dd, 0x3f84d5b5b5470917);
  check_mix(body, body + BODY_TABLE);
  check_mix(body + BODY_ODD_TABLE, body + BODY_ODD_CHECK);
  return check_finish(body + BODY_ODD_CHECK, write);
}

// ---------------------------------------------------------------------------------------------
// The slab.

/** Index entries for `slots` slots: the power of two from 2 * slots up (so at most 4 * slots), at least 16. */
function index_capacity(slots: i32): usize {
  let capacity: usize = 16;
  while (capacity < (<usize>slots << 1)) capacity <<= 1;
  return capacity;
}

/** Bytes the slab takes for `slots` prepared keys (base-point table and index included). */
function slab_bytes(slots: i32): usize {
  return slots == 0 ? 0 : COMB_TABLE_BYTES + <usize>slots * SLOT_BYTES + index_capacity(slots) * 4;
}

/**
 * Lays out the slab for as many prepared keys as fit in maxBytes (0 if not even one does, which
 * turns prepared keys off: everything then takes the plain path of verify.ts). Drops every
 * prepared slot and moves the I/O arena (between calls only). Returns the slot count, or -1 if
 * memory cannot grow (the previous layout is then kept).
 */
export function prepared_configure(maxBytes: usize): i32 {
  const perSlot = SLOT_BYTES + INDEX_BYTES_PER_SLOT;
  let slots: i32 = maxBytes < COMB_TABLE_BYTES + perSlot ? 0 : <i32>((maxBytes - COMB_TABLE_BYTES) / perSlot);
  if (slots > 0x10000) slots = 0x10000;
  // The estimate counts the index's least share of a slot (INDEX_BYTES_PER_SLOT), so it is never
  // too few; lowered while the slab does not fit, it is as many as fit. (With 16 bytes a slot it
  // was a slot short at bounds just above an n-slot slab for most n: hunt 61.) The index takes
  // more than its least share only by its rounding to a power of two, about a slot's worth in
  // ~SLOT_BYTES / 8 slots, so the loop runs a few times at most.
  while (slots > 0 && slab_bytes(slots) > maxBytes) slots--;
  if (!reserveSlab(slab_bytes(slots))) return -1;
  slotCount = slots;
  // A new clock: the decoded-key cache's stamps of the old one would read as recent uses.
  tick = 0;
  vk_clear_stamps();
  if (slots == 0) {
    baseTable = headers = index = bodies = 0;
    indexMask = 0;
    return 0;
  }
  baseTable = slabBase();
  headers = baseTable + COMB_TABLE_BYTES;
  index = headers + <usize>slots * HEADER_BYTES;
  indexMask = <u32>index_capacity(slots) - 1;
  bodies = index + index_capacity(slots) * 4;
  memory.fill(headers, 0, <usize>slots * HEADER_BYTES);
  index_clear();
  ge_frombytes_vartime(DECODED, BASE_POINT_BYTES);
  comb_table_vartime(baseTable, DECODED);
  return slots;
}

/** Number of slots of the current layout (0: prepared keys are off). */
export function prepared_slot_count(): i32 {
  return slotCount;
}

// @ts-ignore: decorator
@inline function header_of(slot: i32): usize {
  return headers + <usize>slot * HEADER_BYTES;
}

/** Address of the body of `slot` (no check). */
// @ts-ignore: decorator
@inline function body_of(slot: i32): usize {
  return bodies + <usize>slot * SLOT_BODY_BYTES;
}

// ---------------------------------------------------------------------------------------------
// The index (see the file header).

function index_clear(): void {
  memory.fill(index, 0, (<usize>indexMask + 1) * 4);
  indexTombstones = 0;
}

/** First probe position for the key at pk: key_index_hash (key-cache.ts), keyed per instance. */
// @ts-ignore: decorator
@inline function index_home(pk: usize): u32 {
  return <u32>key_index_hash(pk) & indexMask;
}

/** Rebuilds the index after key_index_seed changed every key's home (no-op without slots). */
export function prepared_reindex(): void {
  if (slotCount > 0) index_rebuild(-1);
}

/** Records that `slot` holds the key at pk. */
function index_add(pk: usize, slot: i32): void {
  let i = index_home(pk);
  for (let probes: u32 = 0; probes <= indexMask; probes++) {
    const entry = load<u32>(index + (<usize>i << 2));
    if (entry == 0 || entry == INDEX_TOMBSTONE) {
      if (entry == INDEX_TOMBSTONE) indexTombstones--;
      store<u32>(index + (<usize>i << 2), <u32>slot + 1);
      return;
    }
    i = (i + 1) & indexMask;
  }
  // No free entry: only entries a corruption left behind can fill half of the index. Rebuilt,
  // it holds at most one entry per slot, half its capacity.
  index_rebuild(slot);
  index_add(pk, slot);
}

/** Rebuilds the index from the headers and body keys of every slot in use except `skip`. */
function index_rebuild(skip: i32): void {
  index_clear();
  for (let s: i32 = 0; s < slotCount; s++) {
    if (s != skip && load<u64>(header_of(s), 8) != 0) index_add(body_of(s) + BODY_KEY, s);
  }
}

/**
 * Forgets that `slot` holds the key at pk (its entry becomes a tombstone); rebuilds the index
 * from the headers and bodies once tombstones fill a quarter of it, so that probes for keys that
 * are not there stay short.
 */
function index_remove(pk: usize, slot: i32): void {
  let i = index_home(pk);
  for (let probes: u32 = 0; probes <= indexMask; probes++) {
    const entry = load<u32>(index + (<usize>i << 2));
    if (entry == 0) break;
    if (entry == <u32>slot + 1) {
      store<u32>(index + (<usize>i << 2), INDEX_TOMBSTONE);
      indexTombstones++;
      break;
    }
    i = (i + 1) & indexMask;
  }
  if (indexTombstones > (indexMask + 1) >> 2) index_rebuild(slot);
}

/** Whether slot holds the key at pk (header and body key agree), not checking the tables. */
function slot_has_key_vartime(slot: i32, pk: usize): bool {
  if (slot < 0 || slot >= slotCount) return false;
  const h = header_of(slot);
  if (load<u64>(h, 8) == 0 || load<u64>(h) != load<u64>(pk)) return false;
  return memory.compare(body_of(slot) + BODY_KEY, pk, 32) == 0;
}

/** Whether slot holds the key at pk with an intact comb table (its check value agrees). */
function slot_holds_vartime(slot: i32, pk: usize): bool {
  return slot_has_key_vartime(slot, pk) && comb_check(body_of(slot), false);
}

/** Slot holding the key at pk, or -1; with forBatch its odd-multiples table is checked, else its comb table. Marks it used. */
function lookup_vartime(pk: usize, forBatch: bool): i32 {
  if (slotCount == 0) return -1;
  let i = index_home(pk);
  for (let probes: u32 = 0; probes <= indexMask; probes++) {
    const entry = load<u32>(index + (<usize>i << 2));
    if (entry == 0) break;
    i = (i + 1) & indexMask;
    if (entry == INDEX_TOMBSTONE || entry > <u32>slotCount) continue;
    const s = <i32>entry - 1;
    if (!slot_has_key_vartime(s, pk)) continue;
    if (!(forBatch ? odd_check(body_of(s), false) : comb_check(body_of(s), false))) {
      // Corrupted: emptied, so the key is prepared afresh (into a slot of its own) when next
      // prepared or promoted, instead of being skipped until evicted.
      empty_slot(s, pk);
      continue;
    }
    touch(s, false);
    return s;
  }
  return -1;
}

/** Marks `slot` used now, keeping its ON_REQUEST bit, and setting it if `onRequest`. */
function touch(slot: i32, onRequest: bool): void {
  const h = header_of(slot);
  store<u64>(h, (load<u64>(h, 8) & ON_REQUEST) | (onRequest ? ON_REQUEST : 0) | ++tick, 8);
}

/** Slot holding the key at pk (intact for single verification), or -1. Marks it used. */
export function prepared_lookup_vartime(pk: usize): i32 {
  return lookup_vartime(pk, false);
}

/**
 * Prepares the key at pk into a slot and returns the slot, or -1 if the bytes do not decode
 * (dalek `VerifyingKey::from_bytes` rule, as verify.ts), prepared keys are off, or (a promotion,
 * `onRequest` false) every slot holds a key prepared on request. The slot: an empty one, else the
 * least recently used promoted key, else (on request only) the least recently used key prepared
 * on request: with ON_REQUEST the top bit of the tick word, the smallest word is that slot.
 * decoded: the point if the caller already has it (p3), or 0.
 */
export function prepared_insert_vartime(pk: usize, decoded: usize, onRequest: bool): i32 {
  if (slotCount == 0) return -1;
  const victim = eviction_victim();
  if (!onRequest && (load<u64>(header_of(victim), 8) & ON_REQUEST) != 0) return -1;
  if (decoded == 0) {
    if (!ge_frombytes_vartime(DECODED, pk)) return -1;
    decoded = DECODED;
  }
  const body = body_of(victim);
  if (load<u64>(header_of(victim), 8) != 0) index_remove(body + BODY_KEY, victim);
  memory.copy(body + BODY_KEY, pk, 32);
  memory.fill(body + BODY_FLAGS, 0, 32);
  memory.copy(body + BODY_POINT, decoded, P3_BYTES);
  comb_table_vartime(body + BODY_TABLE, body + BODY_POINT);
  ge_odd_multiples_niels_vartime(body + BODY_ODD_TABLE, body + BODY_POINT, PRECOMPUTED_WNAF_ENTRIES, Z_PREFIX);
  // Torsion-free iff [L]A is the neutral element (the group has order 8L).
  comb_digits_vartime(DIGITS_A, ORDER_L);
  comb_mul_vartime(body + BODY_TABLE, DIGITS_A, false, 0, 0);
  store<u32>(body + BODY_FLAGS, ge_is_neutral_vartime(ACC) ? 1 : 0);
  comb_check(body, true);
  odd_check(body, true);
  const h = header_of(victim);
  store<u64>(h, load<u64>(pk));
  store<u64>(h, (onRequest ? ON_REQUEST : 0) | ++tick, 8);
  index_add(pk, victim);
  return victim;
}

/**
 * The slot a preparation takes (slotCount > 0): an empty one, else the least recently used
 * promoted key's, else the least recently used key prepared on request's. With ON_REQUEST the
 * top bit of the tick word (0: empty), that is the slot with the smallest word.
 */
function eviction_victim(): i32 {
  let victim: i32 = 0;
  let oldest: u64 = 0xffffffffffffffff;
  for (let s: i32 = 0; s < slotCount; s++) {
    const t = load<u64>(header_of(s), 8);
    if (t < oldest) {
      oldest = t;
      victim = s;
      if (t == 0) break;
    }
  }
  return victim;
}

/**
 * Uses of the slab, per slot, after which a key prepared on request and not used since counts
 * as stale: a PreparedPublicKey whose slot was lost may then take its slot at once.
 */
const STALE_USES_PER_SLOT: u64 = 16;

/**
 * For the verification of a PreparedPublicKey whose key the slab does not hold (exports.ts
 * ed25519_verify_prepared): counts that use of the slab, and says whether preparing the key
 * now is worth it: a slot is empty or holds a promoted key, or the least recently used key
 * prepared on request has not been used for STALE_USES_PER_SLOT * slots uses. Otherwise every
 * slot holds a key in use, and evicting one to prepare another (about 3.5 plain verifications)
 * would, with more keys in use than slots, happen at nearly every verification. False when
 * prepared keys are off.
 */
export function prepared_admits_vartime(): bool {
  if (slotCount == 0) return false;
  ++tick;
  const word = load<u64>(header_of(eviction_victim()), 8);
  return (word & ON_REQUEST) == 0 || tick - (word & ~ON_REQUEST) >= STALE_USES_PER_SLOT * <u64>slotCount;
}

/** The slab's clock: its uses so far (lookups that found a key, preparations, admission checks). */
export function prepared_tick(): u64 {
  return tick;
}

/**
 * For a PreparedPublicKey without a slot that has become hot (verify.ts): whether preparing it
 * again may evict the least recently used key, given `interval`, the slab uses between its own
 * last two uses. Yes if that slot is empty or holds a promoted key; if it holds a key prepared
 * on request, only if that key has gone unused for longer than `interval`, i.e. the candidate
 * comes back more often than the key it would evict. In an even rotation of more prepared keys
 * than slots, every key comes back after the same number of uses and the least recently used one
 * was used within that many, so no key evicts another: each eviction would cost a preparation
 * (about 3.5 plain verifications) and gain no hits, as the keys left out would evict one another
 * in turn (bench "prepared keys beyond the slab").
 */
export function prepared_may_evict_for_vartime(interval: u64): bool {
  if (slotCount == 0) return false;
  const word = load<u64>(header_of(eviction_victim()), 8);
  return (word & ON_REQUEST) == 0 || tick - (word & ~ON_REQUEST) > interval;
}

/**
 * Slot holding the key at pk intact: `hint` if it still does, else one found by lookup; -1 if
 * none. A slot found is marked used and as prepared on request.
 */
export function prepared_resident_slot_vartime(pk: usize, hint: i32): i32 {
  if (slot_holds_vartime(hint, pk)) {
    touch(hint, true);
    return hint;
  }
  const found = prepared_lookup_vartime(pk);
  if (found >= 0) touch(found, true); // a promoted key now asked for: it is kept as one prepared on request
  return found;
}

/**
 * Slot for the key at pk: `hint` if it still holds that key intact, else a slot found by
 * lookup, else a freshly prepared one. -1 if the bytes do not decode or prepared keys are off.
 */
export function prepared_slot_for_key_vartime(pk: usize, hint: i32): i32 {
  const resident = prepared_resident_slot_vartime(pk, hint);
  return resident >= 0 ? resident : prepared_insert_vartime(pk, 0, true);
}

/**
 * Slot holding the key at pk: `hint` if it does, else the slot a scan of the headers finds
 * (which, unlike a lookup, marks nothing used and checks no table); -1 if none. For the two
 * calls that let a key go, whose object's hint may be stale: the key moved to another slot after
 * an eviction or a new slab layout, and was prepared there again through another object.
 */
function slot_of_key_vartime(pk: usize, hint: i32): i32 {
  if (slot_has_key_vartime(hint, pk)) return hint;
  for (let s: i32 = 0; s < slotCount; s++) {
    if (slot_has_key_vartime(s, pk)) return s;
  }
  return -1;
}

/**
 * Empties the slot holding the key at pk (`hint` if it does, else the slot found by a scan):
 * the explicit free of the key's last PreparedPublicKey (review 90 F1: with the hint alone, a
 * stale hint left the key in a slot marked prepared on request that no object held, kept from
 * every hot key).
 */
export function prepared_free_vartime(pk: usize, hint: i32): void {
  const slot = slot_of_key_vartime(pk, hint);
  if (slot >= 0) empty_slot(slot, pk);
}

/**
 * Clears the ON_REQUEST bit of the slot holding the key at pk (`hint` if it does, else the slot
 * found by a scan of the headers, which marks nothing used), keeping the key, its tables and its
 * last use: the key stays found by every lookup, as a promoted key is, and a promotion may now
 * evict it by LRU. For the last PreparedPublicKey of a key collected without free()
 * (src/ed25519.ts preparedFinalizer): its slot no longer holds a key anybody asked to keep.
 */
export function prepared_release_vartime(pk: usize, hint: i32): void {
  const slot = slot_of_key_vartime(pk, hint);
  if (slot < 0) return;
  const h = header_of(slot);
  store<u64>(h, load<u64>(h, 8) & ~ON_REQUEST, 8);
}

/** Empties `slot`, which holds the key at pk. */
function empty_slot(slot: i32, pk: usize): void {
  index_remove(pk, slot);
  memory.fill(header_of(slot), 0, HEADER_BYTES);
  memory.fill(body_of(slot), 0, SLOT_BODY_BYTES);
}

/** Number of slots currently holding a key. */
export function prepared_used_count(): i32 {
  let n: i32 = 0;
  for (let s: i32 = 0; s < slotCount; s++) if (load<u64>(header_of(s), 8) != 0) n++;
  return n;
}

/**
 * Address of the decoded point A (p3) of `slot`, or 0 if the slot is empty, out of range or fails
 * its check value (test hooks, assembly/testing.ts). Valid until the next call that prepares or
 * frees a key.
 */
export function prepared_point(slot: i32): usize {
  if (slot < 0 || slot >= slotCount || load<u64>(header_of(slot), 8) == 0) return 0;
  const body = body_of(slot);
  return comb_check(body, false) ? body + BODY_POINT : 0;
}

/**
 * For batch verification (assembly/ed25519/batch.ts): the slot holding the key at pk with its
 * point, torsion class and odd-multiples table intact (one lookup, one check value over those),
 * or -1. Read them with prepared_batch_point, prepared_batch_torsion_free and
 * prepared_batch_table.
 */
export function prepared_batch_slot_vartime(pk: usize): i32 {
  return lookup_vartime(pk, true);
}

/** The decoded point A (p3) of a slot from prepared_batch_slot_vartime, copied to out. */
export function prepared_batch_point(slot: i32, out: usize): void {
  memory.copy(out, body_of(slot) + BODY_POINT, P3_BYTES);
}

/** Whether the point of a slot from prepared_batch_slot_vartime is torsion-free ([L]A = O, computed at preparation). */
export function prepared_batch_torsion_free(slot: i32): bool {
  return load<u32>(body_of(slot) + BODY_FLAGS) == 1;
}

/**
 * Address of the width-8 odd-multiples table of A (scalar_mul/straus.ts) of a slot that
 * prepared_batch_slot_vartime returned for the key at pk, or 0 if the slot no longer holds that
 * key. Within one core call only a preparation, which writes a whole body, and a lookup that
 * empties a slot failing its check write slots (free and configure are exports of their own);
 * so a slot whose key bytes still match holds the table that was checked (or a fresh one for
 * the same key), even after single verifications in between promoted other keys.
 */
export function prepared_batch_table(slot: i32, pk: usize): usize {
  return slot_has_key_vartime(slot, pk) ? body_of(slot) + BODY_ODD_TABLE : 0;
}

/** Whether the point of `slot` is torsion-free ([L]A = O, computed once at preparation); false for an invalid slot. */
export function prepared_torsion_free(slot: i32): bool {
  if (prepared_point(slot) == 0) return false;
  return load<u32>(body_of(slot) + BODY_FLAGS) == 1;
}

/** Address of the body of `slot` (test hooks; same validity as prepared_point). */
export function prepared_body(slot: i32): usize {
  return slot < 0 || slot >= slotCount ? 0 : body_of(slot);
}

// ---------------------------------------------------------------------------------------------
// Verification with a prepared key.

/**
 * verify.ts verify_signature_vartime for the key held (intact) by `slot`: the same verdict for
 * every signature and message (see the file header).
 */
export function verify_prepared_vartime(sigPtr: usize, msgPtr: usize, msgLen: usize, slot: i32, zip215: bool): bool {
  const body = body_of(slot);
  const sPtr = sigPtr + 32;
  if (!sc_is_canonical_vartime(sPtr)) return false; //   RFC 8032 §5.1.7 step 1: S < L
  if (zip215 && !ge_frombytes_vartime(POINT_R, sigPtr)) return false;
  sha512_init();
  sha512_update(sigPtr, 32);
  sha512_update(body + BODY_KEY, 32);
  sha512_update(msgPtr, msgLen);
  sha512_final(CHALLENGE);
  sc_reduce(CHALLENGE, CHALLENGE);
  // R' = [S]B - [k]A.
  comb_digits_vartime(DIGITS_A, CHALLENGE);
  comb_digits_vartime(DIGITS_B, sPtr);
  comb_mul_vartime(body + BODY_TABLE, DIGITS_A, true, baseTable, DIGITS_B);
  if (!zip215) {
    ge_tobytes(ENCODED, ACC);
    return memory.compare(ENCODED, sigPtr, 32) == 0;
  }
  // ZIP-215: [8](R' - R) = O.
  ge_p3_to_cached(CACHED_R, POINT_R);
  ge_sub(ACC_P1P1, ACC, CACHED_R);
  ge_p1p1_to_p3(DIFF, ACC_P1P1);
  ge_mul_by_cofactor_vartime(P2_TMP, DIFF);
  return ge_is_neutral_vartime(P2_TMP);
}
