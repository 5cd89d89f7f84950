// Constant-time fixed-base multiplication [a]B: the nonce commitment R = [r]B of every signature
// (RFC 8032 §5.1.6 step 3) and the public key A = [s]B (§5.1.5 step 3). The scalars are secret.
//
// Method: a is written in 43 signed radix-2^6 digits e_i in [-32, 32), and
//   [a]B = sum_i e_i 64^i B,
// one mixed addition per digit with the entry |e_i| 64^i B of row i of a table, negated when
// e_i < 0. 43 additions (ref10's radix-16 method takes 64 and 4 doublings); no doublings at all,
// since every digit position has its own row. The price is the table: 43 rows of 32 niels points
// (176 KB), built in wasm memory on first use (under 1 ms, see build_table) instead of being
// shipped in the module, and 32 entries to scan per digit instead of 8.
//
// Constant time: the digits are computed without branches; each lookup reads all 32 entries of
// its row and keeps the wanted one with a mask (v128.bitselect, so the scan costs 8 vector
// operations per entry); the sign is applied by a masked swap and a masked negation. No branch
// and no address depends on the scalar. The dimensions come from tables.ts (FIXED_BASE_*);
// scripts/gen-tables.ts builds the same table with BigInt and test/node/tables.test.ts compares
// the two entry by entry.
import { FE_BYTES, fe_mul, fe_invert, fe_add, fe_sub, fe_tobytes, fe_frombytes, fe_copy } from "../field";
import {
  NIELS_BYTES, P2_BYTES, P3_BYTES, ge_madd, ge_add, ge_p2_dbl, ge_p1p1_to_p3, ge_p3_0, ge_p3_to_cached,
  ge_base_point,
} from "../group";
import { FE_D2, FIXED_BASE_ROWS, FIXED_BASE_ENTRIES, FIXED_BASE_ENTRY_BYTES } from "../tables";

const ROW_BYTES: usize = <usize>FIXED_BASE_ENTRIES * FIXED_BASE_ENTRY_BYTES;
const TABLE: usize = memory.data(<i32>(<usize>FIXED_BASE_ROWS * ROW_BYTES), 16);
let tableReady = false;

// Scratch for secret-derived values (wiped by fixed_base_wipe_scratch): digits, the selected
// entry, an addition's output.
const DIGITS: usize = memory.data(64, 16);
const ENTRY: usize = memory.data(<i32>NIELS_BYTES, 16);
const SUM: usize = memory.data(<i32>P3_BYTES, 16);

/** Zeroes the scratch that holds secret-derived values (after signing or key generation). */
export function fixed_base_wipe_scratch(): void {
  memory.fill(DIGITS, 0, 64);
  memory.fill(ENTRY, 0, NIELS_BYTES);
  memory.fill(SUM, 0, P3_BYTES);
}

// ---------------------------------------------------------------------------------------------
// The table (public data; built once per instance, variable time is fine).

// Scratch of build_table: one row's points in projective form, their running Z products, the
// row's base point and its cached form, and field temporaries.
const ROW_POINTS: usize = memory.data(<i32>(<usize>FIXED_BASE_ENTRIES * P2_BYTES), 16);
const ROW_PRODUCTS: usize = memory.data(<i32>(<usize>FIXED_BASE_ENTRIES * FE_BYTES), 16);
const ROW_BASE: usize = memory.data(<i32>P3_BYTES, 16);
const ROW_BASE_CACHED: usize = memory.data(160, 16);
const ROW_ACC: usize = memory.data(<i32>P3_BYTES, 16);
const ROW_P1P1: usize = memory.data(<i32>P3_BYTES, 16);
const INV: usize = memory.data(<i32>FE_BYTES, 16);
const ZINV: usize = memory.data(<i32>FE_BYTES, 16);
const AFF_X: usize = memory.data(<i32>FE_BYTES, 16);
const AFF_Y: usize = memory.data(<i32>FE_BYTES, 16);
const CANON: usize = memory.data(32, 16);

/** Stores f into dst as canonical limbs (the form scripts/gen-tables.ts writes). */
function store_canonical(dst: usize, f: usize): void {
  fe_tobytes(CANON, f);
  fe_frombytes(dst, CANON);
}

/**
 * Fills TABLE: row i, entry j - 1 = the niels form (y + x, y - x, 2dxy) of j * 64^i * B. Each
 * row's 32 points come from 31 additions of the row's base; one doubling of the last gives the
 * next row's base; one inversion per row (Montgomery's trick) makes them affine. About 1,400
 * additions and 43 inversions.
 */
function build_table(): void {
  ge_base_point(ROW_BASE);
  for (let i: i32 = 0; i < FIXED_BASE_ROWS; i++) {
    ge_p3_to_cached(ROW_BASE_CACHED, ROW_BASE);
    memory.copy(ROW_ACC, ROW_BASE, P3_BYTES);
    for (let j: i32 = 0; j < FIXED_BASE_ENTRIES; j++) {
      const point = ROW_POINTS + <usize>j * P2_BYTES;
      memory.copy(point, ROW_ACC, P2_BYTES);
      // Running products Z_0 Z_1 ... Z_j.
      const product = ROW_PRODUCTS + <usize>j * FE_BYTES;
      if (j == 0) fe_copy(product, point + 80);
      else fe_mul(product, product - FE_BYTES, point + 80);
      if (j + 1 < FIXED_BASE_ENTRIES) {
        ge_add(ROW_P1P1, ROW_ACC, ROW_BASE_CACHED);
        ge_p1p1_to_p3(ROW_ACC, ROW_P1P1);
      }
    }
    // Next row's base: 64 * 64^i B = 2 * (32 * 64^i B), the last point of this row.
    ge_p2_dbl(ROW_P1P1, ROW_ACC);
    ge_p1p1_to_p3(ROW_BASE, ROW_P1P1);
    // Affine coordinates, last entry first: INV holds 1/(Z_0 ... Z_j) on entry to step j.
    fe_invert(INV, ROW_PRODUCTS + <usize>(FIXED_BASE_ENTRIES - 1) * FE_BYTES);
    const row = TABLE + <usize>i * ROW_BYTES;
    for (let j: i32 = FIXED_BASE_ENTRIES - 1; j >= 0; j--) {
      const point = ROW_POINTS + <usize>j * P2_BYTES;
      if (j > 0) {
        fe_mul(ZINV, INV, ROW_PRODUCTS + <usize>(j - 1) * FE_BYTES); // 1/Z_j
        fe_mul(INV, INV, point + 80); //                                  1/(Z_0 ... Z_{j-1})
      } else {
        fe_copy(ZINV, INV);
      }
      fe_mul(AFF_X, point, ZINV);
      fe_mul(AFF_Y, point + 40, ZINV);
      const entry = row + <usize>j * FIXED_BASE_ENTRY_BYTES;
      fe_add(entry, AFF_Y, AFF_X);
      store_canonical(entry, entry);
      fe_sub(entry + 40, AFF_Y, AFF_X);
      store_canonical(entry + 40, entry + 40);
      fe_mul(entry + 80, AFF_X, AFF_Y);
      fe_mul(entry + 80, entry + 80, FE_D2);
      store_canonical(entry + 80, entry + 80);
      // entry + 120 .. + 128 stays zero (padding).
    }
  }
  tableReady = true;
}

/** Builds the table on an instance's first use (it depends on nothing secret). */
function ensure_table(): void {
  if (!tableReady) build_table();
}

/** The table's address, built first if need be (for the regenerate-and-compare test). */
export function fixed_base_table(): usize {
  ensure_table();
  return TABLE;
}

// ---------------------------------------------------------------------------------------------
// The multiplication (secret scalar, constant time).

// @ts-ignore: decorator
@inline function ct_equal(b: u32, c: u32): u32 {
  // 1 if b == c, else 0, for b, c < 2^31, without a branch.
  return ((b ^ c) - 1) >> 31;
}

/**
 * Loads into ENTRY the niels point digit * 64^row * B, digit in [-32, 32], in constant time:
 * all 32 entries of the row are read and masked into eight 128-bit accumulators (v128.bitselect
 * keeps the entry where the mask is all ones), starting from the neutral element (1, 1, 0) for
 * digit 0; then the sign is applied: -(y+x, y-x, 2dxy) = (y-x, y+x, -2dxy), by a masked swap
 * and a masked negation.
 */
function select(row: i32, digit: i32): void {
  const negative = <u32>digit >>> 31; // 1 if digit < 0
  const magnitude = <u32>(digit - ((-(<i32>negative) & digit) << 1));
  // Limb 0 of y+x (i32 0) and of y-x (i32 10, lane 2 of the third vector) are 1.
  let a0 = i32x4(1, 0, 0, 0);
  let a1 = i32x4(0, 0, 0, 0);
  let a2 = i32x4(0, 0, 1, 0);
  let a3 = i32x4(0, 0, 0, 0);
  let a4 = i32x4(0, 0, 0, 0);
  let a5 = i32x4(0, 0, 0, 0);
  let a6 = i32x4(0, 0, 0, 0);
  let a7 = i32x4(0, 0, 0, 0);
  const base = TABLE + <usize>row * ROW_BYTES;
  for (let j: u32 = 0; j < <u32>FIXED_BASE_ENTRIES; j++) {
    const entry = base + <usize>j * FIXED_BASE_ENTRY_BYTES;
    const mask = i32x4.splat(-(<i32>ct_equal(magnitude, j + 1)));
    a0 = v128.bitselect(v128.load(entry, 0), a0, mask);
    a1 = v128.bitselect(v128.load(entry, 16), a1, mask);
    a2 = v128.bitselect(v128.load(entry, 32), a2, mask);
    a3 = v128.bitselect(v128.load(entry, 48), a3, mask);
    a4 = v128.bitselect(v128.load(entry, 64), a4, mask);
    a5 = v128.bitselect(v128.load(entry, 80), a5, mask);
    a6 = v128.bitselect(v128.load(entry, 96), a6, mask);
    a7 = v128.bitselect(v128.load(entry, 112), a7, mask);
  }
  const t = ENTRY;
  v128.store(t, a0, 0);
  v128.store(t, a1, 16);
  v128.store(t, a2, 32);
  v128.store(t, a3, 48);
  v128.store(t, a4, 64);
  v128.store(t, a5, 80);
  v128.store(t, a6, 96);
  v128.store64_lane(t, a7, 0, 112); // the last 8 bytes of an entry are padding
  const swapMask = <u64>0 - <u64>negative;
  for (let i: usize = 0; i < 40; i += 8) {
    const a = load<u64>(t + i), b = load<u64>(t + 40 + i);
    const d = (a ^ b) & swapMask;
    store<u64>(t + i, a ^ d);
    store<u64>(t + 40 + i, b ^ d);
  }
  const negMask = -(<i32>negative);
  for (let i: usize = 80; i < 120; i += 4) {
    const x = load<i32>(t + i);
    store<i32>(t + i, x ^ ((x ^ -x) & negMask));
  }
}

/**
 * h (p3) = [a]B for a 32-byte little-endian scalar a with a[31] <= 127 (clamped secret scalars
 * and scalars reduced mod L satisfy this). Constant time in a.
 */
export function ge_scalarmult_base(h: usize, a: usize): void {
  ensure_table();
  // Digit i is bits 6i .. 6i + 5 of a, read from the (at most) two bytes that hold them.
  const e = DIGITS;
  for (let i: i32 = 0; i < FIXED_BASE_ROWS; i++) {
    const bit = i * 6;
    const byte = bit >> 3;
    let v = <u32>load<u8>(a + <usize>byte);
    if (byte < 31) v |= <u32>load<u8>(a + <usize>byte + 1) << 8; // public index, not secret
    store<i8>(e + <usize>i, <i8>((v >> <u32>(bit & 7)) & 63));
  }
  // Recentre into [-32, 32) with carries; the last digit (bits 252..257 of a < 2^255) is at most
  // 7 before its carry, so at most 8 after.
  let carry: i32 = 0;
  for (let i: i32 = 0; i < FIXED_BASE_ROWS - 1; i++) {
    const d = <i32>load<i8>(e + <usize>i) + carry;
    carry = (d + 32) >> 6;
    store<i8>(e + <usize>i, <i8>(d - (carry << 6)));
  }
  const last = e + <usize>(FIXED_BASE_ROWS - 1);
  store<i8>(last, <i8>(<i32>load<i8>(last) + carry));

  ge_p3_0(h);
  for (let i: i32 = 0; i < FIXED_BASE_ROWS; i++) {
    select(i, <i32>load<i8>(e + <usize>i));
    ge_madd(SUM, h, ENTRY);
    ge_p1p1_to_p3(h, SUM);
  }
}
