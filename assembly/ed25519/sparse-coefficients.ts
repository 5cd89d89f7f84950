// Sparse random coefficients for the batch verifier's combined check (batch.ts; README "Batch
// verification", step 4).
//
// The combined check is sound as long as each item's coefficient z_i is drawn from a set of at
// least 2^128 values that are distinct mod L: if some D_j != O, sum z_i D_i = O holds for at
// most one value of z_j mod L (D_j has prime order L), so a false item passes with probability
// at most 1 / (number of values). Nothing needs z_i to be a uniform 128-bit integer, and under
// Straus's method (scalar_mul/straus.ts) a term costs one point addition per non-zero digit
// plus its table: a uniform 128-bit z in width-5 NAF has about 128/6 = 21.3 non-zero digits
// and a table of 8 odd multiples (a doubling and 7 additions), about 29 additions in all.
//
// So under Straus the batch draws z_i directly as a width-4 NAF with exactly SPARSE_DIGITS = 17
// non-zero digits at bit positions below SPARSE_POSITIONS = 249: digits odd in [-7, 7], any two
// non-zero ones at least 4 positions apart, and the lowest at position 0 (so z_i is odd; the
// soundness argument does not need it, and it is no safeguard against a faulty subgroup test:
// one wrongly cleared item with a small-order component in R would still fail the check, but
// two with the same component of order 2 would always cancel, where uniform 128-bit
// coefficients let them cancel half the time). That costs 17 additions and a table of 4 odd
// multiples (a doubling and 3 additions), about 21 in all. The count of such digit strings is
// C(200, 16) * 8^17 > 2^128.16 (the 16 digits after the first take positions 4 to 248; once each
// of them but the last has taken the 3 zeros after it, 200 free slots remain), and each is drawn
// with the same probability:
//  * a width-w NAF of an integer is unique, so distinct strings are distinct integers;
//  * |z| <= 7 * (2^248 + 2^244 + ...) < 7.5 * 2^248 < 2^251 < L / 2, so distinct integers are
//    distinct mod L;
// hence max_v Pr[z_i = v mod L] = 1 / (C(200, 16) * 8^17) < 2^-128: the bound holds.
// test/node/batch-sparse-coefficients.test.ts computes that count and checks the digits and the
// value against an implementation of this file's procedure in TypeScript.
//
// The positions are a uniform 16-subset of the 200 free slots (Floyd's algorithm: one draw per
// digit), slot s_j (the j-th smallest, from 0) placed at bit 4 + s_j + 3j; each digit's sign and
// magnitude come from one byte, the lowest digit's first. Draws are uniform by rejection, from a
// byte stream: the 64-byte seed (the item's SHA-512 digest, derive_coefficients in batch.ts),
// then SHA-512(STREAM_DOMAIN || seed || u32 block) for blocks 1, 2, ... (a draw is rejected with
// probability under 28%, so one block almost always suffices). Variable time: the coefficients
// only weigh public data, and a call's coefficients are fresh for every call.
import { sha512_init, sha512_update, sha512_final } from "../sha512";
import { PRESET_WNAF_WIDTH } from "../curve25519/scalar_mul/straus";

/** Width of the NAF the coefficients are drawn in (digits odd in (-2^(w-1), 2^(w-1))): Straus's preset terms'. */
export const SPARSE_WIDTH: i32 = PRESET_WNAF_WIDTH;
/** Non-zero digits of every coefficient. */
export const SPARSE_DIGITS: i32 = 17;
/** Bit positions the digits may take: 0 to SPARSE_POSITIONS - 1. */
export const SPARSE_POSITIONS: i32 = 249;
/** Digits after the lowest one (at position 0), whose positions are drawn: 16. */
const FREE_DIGITS: i32 = SPARSE_DIGITS - 1;
/** Slots for them: positions SPARSE_WIDTH to SPARSE_POSITIONS - 1, less SPARSE_WIDTH - 1 zeros after each but the last: 200. */
const SLOTS: i32 = SPARSE_POSITIONS - SPARSE_WIDTH - (SPARSE_WIDTH - 1) * (FREE_DIGITS - 1);

/** "chio-batch-s/v1" (15 bytes): the domain of the stream's later blocks. */
const STREAM_DOMAIN: usize = memory.data<u8>([0x63, 0x68, 0x69, 0x6f, 0x2d, 0x62, 0x61, 0x74, 0x63, 0x68, 0x2d, 0x73, 0x2f, 0x76, 0x31]);
/** L, little-endian, as four u64 words: (P - N) mod L is L - (N - P) when N > P. */
const L_WORDS: usize = memory.data<u8>([
  0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14,
  0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10,
], 16);

const SEED: usize = memory.data(64, 16);
const BLOCK: usize = memory.data(64, 16);
const BLOCK_INDEX: usize = memory.data(4, 4);
/** The chosen slots (u32 each), kept in increasing order. */
const SLOT_LIST: usize = memory.data(<i32>FREE_DIGITS * 4, 4);
/** The digits' positive and negative parts, four little-endian u64 words each. */
const POSITIVE: usize = memory.data(32, 16);
const NEGATIVE: usize = memory.data(32, 16);

let streamAt: u32 = 0;
let streamBlock: u32 = 0;

/** The next byte of the stream (see the file header). */
function next_byte(): u32 {
  if (streamAt == 64) {
    streamBlock++;
    store<u32>(BLOCK_INDEX, streamBlock);
    sha512_init();
    sha512_update(STREAM_DOMAIN, 15);
    sha512_update(SEED, 64);
    sha512_update(BLOCK_INDEX, 4);
    sha512_final(BLOCK);
    streamAt = 0;
  }
  const b = <u32>load<u8>(BLOCK + <usize>streamAt);
  streamAt++;
  return b;
}

/** A uniform integer in [0, bound), bound <= 256, by rejection from the stream's bytes. */
function uniform_below(bound: u32): u32 {
  const limit: u32 = 256 - 256 % bound; // the largest multiple of bound not above 256
  let b = next_byte();
  while (b >= limit) b = next_byte();
  return b % bound;
}

/** Adds m * 2^p (m < 8, p < 256) to the 256-bit integer of four u64 words at `words`. */
function add_shifted(words: usize, m: u64, p: i32): void {
  const word = <usize>(p >> 6);
  const shift = <u64>(p & 63);
  let carry: u64 = shift > 60 ? m >> (64 - shift) : 0;
  let sum = load<u64>(words + (word << 3)) + (m << shift);
  if (sum < (m << shift)) carry++;
  store<u64>(words + (word << 3), sum);
  for (let w = word + 1; w < 4 && carry != 0; w++) {
    sum = load<u64>(words + (w << 3)) + carry;
    carry = sum < carry ? 1 : 0;
    store<u64>(words + (w << 3), sum);
  }
}

/** out = a - b over four little-endian u64 words, mod 2^256; returns whether it borrowed (a < b). out may be a or b. */
function sub_words(out: usize, a: usize, b: usize): bool {
  let borrow: u64 = 0;
  for (let w: usize = 0; w < 32; w += 8) {
    const x = load<u64>(a + w);
    const y = load<u64>(b + w);
    const d = x - y - borrow;
    borrow = x < y || (x == y && borrow != 0) ? 1 : 0;
    store<u64>(out + w, d);
  }
  return borrow != 0;
}

/**
 * Draws a coefficient from the 64-byte `seed` (see the file header): writes its width-4 NAF to
 * digits[0..256] (one signed byte per bit position, as wnaf_vartime lays digits out for
 * scalar_mul/straus.ts) and its value mod L to scalar[0..32]. Returns the highest non-zero
 * digit's position. Variable time.
 */
export function sparse_coefficient_vartime(digits: usize, scalar: usize, seed: usize): i32 {
  memory.copy(SEED, seed, 64);
  memory.copy(BLOCK, seed, 64);
  streamAt = 0;
  streamBlock = 0;
  // Floyd's algorithm: for j = SLOTS - FREE_DIGITS .. SLOTS - 1, draw t in [0, j]; take t, or j
  // if t is taken already. Every 16-subset of [0, SLOTS) comes out with the same probability.
  // The list is kept sorted by insertion (j is larger than every slot taken so far).
  let taken: i32 = 0;
  for (let j: i32 = SLOTS - FREE_DIGITS; j < SLOTS; j++) {
    const t = <i32>uniform_below(<u32>(j + 1));
    let at = 0;
    while (at < taken && load<i32>(SLOT_LIST + (<usize>at << 2)) < t) at++;
    const slot = at < taken && load<i32>(SLOT_LIST + (<usize>at << 2)) == t ? j : t;
    if (slot == j) at = taken; // j goes last
    for (let k = taken; k > at; k--) store<i32>(SLOT_LIST + (<usize>k << 2), load<i32>(SLOT_LIST + (<usize>(k - 1) << 2)));
    store<i32>(SLOT_LIST + (<usize>at << 2), slot);
    taken++;
  }
  memory.fill(digits, 0, 256);
  memory.fill(POSITIVE, 0, 32);
  memory.fill(NEGATIVE, 0, 32);
  let position: i32 = 0;
  for (let j: i32 = 0; j < SPARSE_DIGITS; j++) {
    if (j > 0) position = SPARSE_WIDTH + load<i32>(SLOT_LIST + (<usize>(j - 1) << 2)) + (SPARSE_WIDTH - 1) * (j - 1);
    const b = next_byte();
    const magnitude = ((b >> 1) & ((1 << (SPARSE_WIDTH - 2)) - 1)) * 2 + 1; // 1, 3, 5 or 7
    if ((b & 1) != 0) {
      store<i8>(digits + <usize>position, <i8>(-<i32>magnitude));
      add_shifted(NEGATIVE, <u64>magnitude, position);
    } else {
      store<i8>(digits + <usize>position, <i8>magnitude);
      add_shifted(POSITIVE, <u64>magnitude, position);
    }
  }
  // z mod L from z = P - N, where P, N < 2^251 < L: P - N if P >= N, else L - (N - P).
  const negative = sub_words(scalar, POSITIVE, NEGATIVE);
  if (negative) {
    sub_words(scalar, NEGATIVE, POSITIVE);
    sub_words(scalar, L_WORDS, scalar);
  }
  return position; // the last digit's, the highest
}
