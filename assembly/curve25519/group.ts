// The Ed25519 group: points of the twisted Edwards curve -x^2 + y^2 = 1 + d x^2 y^2 over
// GF(2^255 - 19) (RFC 8032 §5.1), in the coordinate systems of ref10 (Bernstein, Duif, Lange,
// Schwabe, Yang, "High-speed high-security signatures", 2011, §3; extended coordinates of
// Hisil, Wong, Carter, Dawson, "Twisted Edwards curves revisited", 2008):
//
//   p2     (X : Y : Z)            x = X/Z, y = Y/Z                      3 field elements
//   p3     (X : Y : Z : T)        as p2, plus T = XY/Z                  4
//   p1p1   ((X : Z), (Y : T))     x = X/Z, y = Y/T  (an addition's raw output)  4
//   cached (Y+X, Y-X, Z, 2dT)     a p3 point prepared as an addend       4
//   niels  (y+x, y-x, 2dxy)       an affine point prepared as an addend  3
//
// A point is a `usize` address of consecutive field elements (40 bytes each) in static memory.
// A p3 address is also a valid p2 address (same first three elements).
//
// Constant time: everything whose name does not end in `_vartime`. The `_vartime` functions
// (decoding, the verification multiplications, cofactor and neutral-element checks) take
// public data only. ge_tobytes / ge_tobytes_pair invert by a fixed exponentiation. The signing
// base multiplication is in scalar_mul/fixed_base.ts.
import {
  FE_BYTES, fe_0, fe_1, fe_add, fe_sub, fe_mul, fe_sq, fe_sq2, fe_neg, fe_copy,
  fe_invert, fe_invert_batch, fe_pow22523, fe_frombytes, fe_tobytes, fe_isnegative, fe_iszero,
} from "./field";
import { QUAD_BYTES, X4_MIN_LANES, fe_pow22523_x4 } from "./field_x4";
import { FE_D, FE_D2, FE_SQRTM1, BASE_ODD_MULTIPLES, BASE128_ODD_MULTIPLES, BASE_WNAF_WIDTH } from "./tables";

// Field-element offsets inside a point.
const X: usize = 0;
const Y: usize = 40;
const Z: usize = 80;
const T: usize = 120;
export const P2_BYTES: usize = 120;
export const P3_BYTES: usize = 160;
export const NIELS_BYTES: usize = 120;
export const CACHED_BYTES: usize = 160;

// ---------------------------------------------------------------------------------------------
// Scratch. Every function owns the temporaries it uses so calls can nest.

const ADD_T0: usize = memory.data(40, 16);
const DBL_T0: usize = memory.data(40, 16);
// Decoding's state across its exponentiation, per lane of ge_frombytes_x4_vartime (lane 0 for
// ge_frombytes_vartime): u, v and v^3; and the exponentiation's bases and results, one per lane.
const DEC_LANE_BYTES: usize = 3 * 40;
const DEC_LANES: usize = memory.data(4 * 3 * 40, 16); // 4 lanes of DEC_LANE_BYTES
const DEC_POW: usize = memory.data(<i32>QUAD_BYTES, 16);
const DEC_VXX: usize = memory.data(40, 16);
const DEC_CHECK: usize = memory.data(40, 16);
const ENC_RECIP: usize = memory.data(40, 16);
const ENC_X: usize = memory.data(40, 16);
const ENC_Y: usize = memory.data(40, 16);

/** Zeroes the scratch that can hold secret-derived values (after signing or key generation). */
export function ge_wipe_scratch(): void {
  memory.fill(ADD_T0, 0, 40);
  memory.fill(DBL_T0, 0, 40);
  memory.fill(ENC_RECIP, 0, 40);
  memory.fill(ENC_X, 0, 40);
  memory.fill(ENC_Y, 0, 40);
}

// ---------------------------------------------------------------------------------------------
// Conversions and constants.

/** h = the neutral element (0, 1) as p3. */
export function ge_p3_0(h: usize): void {
  fe_0(h + X);
  fe_1(h + Y);
  fe_1(h + Z);
  fe_0(h + T);
}

/** r (p2) = p (p1p1): 3 multiplications. */
export function ge_p1p1_to_p2(r: usize, p: usize): void {
  fe_mul(r + X, p + X, p + T);
  fe_mul(r + Y, p + Y, p + Z);
  fe_mul(r + Z, p + Z, p + T);
}

/** r (p3) = p (p1p1): 4 multiplications. */
export function ge_p1p1_to_p3(r: usize, p: usize): void {
  fe_mul(r + X, p + X, p + T);
  fe_mul(r + Y, p + Y, p + Z);
  fe_mul(r + Z, p + Z, p + T);
  fe_mul(r + T, p + X, p + Y);
}

/** r (cached) = p (p3). */
export function ge_p3_to_cached(r: usize, p: usize): void {
  fe_add(r, p + Y, p + X);
  fe_sub(r + 40, p + Y, p + X);
  fe_copy(r + 80, p + Z);
  fe_mul(r + 120, p + T, FE_D2);
}

const BASE_P1P1: usize = memory.data(160, 16);

/** h (p3) = B, the base point (RFC 8032 §5.1): the neutral element plus the first niels entry of BASE_ODD_MULTIPLES. */
export function ge_base_point(h: usize): void {
  ge_p3_0(h);
  ge_madd(BASE_P1P1, h, BASE_ODD_MULTIPLES);
  ge_p1p1_to_p3(h, BASE_P1P1);
}

/** r (p3) = -p (p3); r may equal p. */
export function ge_p3_neg(r: usize, p: usize): void {
  fe_neg(r + X, p + X);
  fe_copy(r + Y, p + Y);
  fe_copy(r + Z, p + Z);
  fe_neg(r + T, p + T);
}

// ---------------------------------------------------------------------------------------------
// Doubling and addition (ref10 ge_p2_dbl, ge_add, ge_sub, ge_madd, ge_msub). Output r must not
// alias the inputs.

/** r (p1p1) = 2p for p in p2 (or p3) form: 3 squarings + 1 doubled squaring. */
export function ge_p2_dbl(r: usize, p: usize): void {
  fe_sq(r + X, p + X); //           XX
  fe_sq(r + Z, p + Y); //           YY
  fe_sq2(r + T, p + Z); //          2ZZ
  fe_add(r + Y, p + X, p + Y);
  fe_sq(DBL_T0, r + Y); //          (X+Y)^2
  fe_add(r + Y, r + Z, r + X); //   YY + XX
  fe_sub(r + Z, r + Z, r + X); //   YY - XX
  fe_sub(r + X, DBL_T0, r + Y); //  2XY
  fe_sub(r + T, r + T, r + Z); //   2ZZ - (YY - XX)
}

/** r (p1p1) = p + q, p in p3, q cached (unified formula: valid for any inputs, including p = q). */
export function ge_add(r: usize, p: usize, q: usize): void {
  fe_add(r + X, p + Y, p + X);
  fe_sub(r + Y, p + Y, p + X);
  fe_mul(r + Z, r + X, q); //        A = (Y1+X1)(Y2+X2)
  fe_mul(r + Y, r + Y, q + 40); //   B = (Y1-X1)(Y2-X2)
  fe_mul(r + T, q + 120, p + T); //  C = 2d T1 T2
  fe_mul(r + X, p + Z, q + 80); //   Z1 Z2
  fe_add(ADD_T0, r + X, r + X); //   D = 2 Z1 Z2
  fe_sub(r + X, r + Z, r + Y); //    A - B
  fe_add(r + Y, r + Z, r + Y); //    A + B
  fe_add(r + Z, ADD_T0, r + T); //   D + C
  fe_sub(r + T, ADD_T0, r + T); //   D - C
}

/** r (p1p1) = p - q, p in p3, q cached. */
export function ge_sub(r: usize, p: usize, q: usize): void {
  fe_add(r + X, p + Y, p + X);
  fe_sub(r + Y, p + Y, p + X);
  fe_mul(r + Z, r + X, q + 40);
  fe_mul(r + Y, r + Y, q);
  fe_mul(r + T, q + 120, p + T);
  fe_mul(r + X, p + Z, q + 80);
  fe_add(ADD_T0, r + X, r + X);
  fe_sub(r + X, r + Z, r + Y);
  fe_add(r + Y, r + Z, r + Y);
  fe_sub(r + Z, ADD_T0, r + T);
  fe_add(r + T, ADD_T0, r + T);
}

/** r (p1p1) = p + q, p in p3, q niels (affine, so Z2 = 1 saves a multiplication). */
export function ge_madd(r: usize, p: usize, q: usize): void {
  fe_add(r + X, p + Y, p + X);
  fe_sub(r + Y, p + Y, p + X);
  fe_mul(r + Z, r + X, q);
  fe_mul(r + Y, r + Y, q + 40);
  fe_mul(r + T, q + 80, p + T);
  fe_add(ADD_T0, p + Z, p + Z);
  fe_sub(r + X, r + Z, r + Y);
  fe_add(r + Y, r + Z, r + Y);
  fe_add(r + Z, ADD_T0, r + T);
  fe_sub(r + T, ADD_T0, r + T);
}

/** r (p1p1) = p - q, p in p3, q niels. */
export function ge_msub(r: usize, p: usize, q: usize): void {
  fe_add(r + X, p + Y, p + X);
  fe_sub(r + Y, p + Y, p + X);
  fe_mul(r + Z, r + X, q + 40);
  fe_mul(r + Y, r + Y, q);
  fe_mul(r + T, q + 80, p + T);
  fe_add(ADD_T0, p + Z, p + Z);
  fe_sub(r + X, r + Z, r + Y);
  fe_add(r + Y, r + Z, r + Y);
  fe_sub(r + Z, ADD_T0, r + T);
  fe_add(r + T, ADD_T0, r + T);
}

// ---------------------------------------------------------------------------------------------
// Encoding (RFC 8032 §5.1.2) and decoding (§5.1.3).

/** s[0..32] = canonical encoding of h (p2 or p3): y with the sign of x in bit 255. */
export function ge_tobytes(s: usize, h: usize): void {
  fe_invert(ENC_RECIP, h + Z);
  encode_with_recip(s, h);
}

const ENC_ZZ: usize = memory.data(40, 16);

/**
 * Encodes two points with one field inversion (Montgomery's trick: 1/Z1 = Z2/(Z1 Z2),
 * 1/Z2 = Z1/(Z1 Z2)); same results as two ge_tobytes calls. Constant time.
 */
export function ge_tobytes_pair(s1: usize, h1: usize, s2: usize, h2: usize): void {
  fe_mul(ENC_ZZ, h1 + Z, h2 + Z);
  fe_invert(ENC_ZZ, ENC_ZZ);
  fe_mul(ENC_RECIP, ENC_ZZ, h2 + Z); //   1/Z1
  encode_with_recip(s1, h1);
  fe_mul(ENC_RECIP, ENC_ZZ, h1 + Z); //   1/Z2
  encode_with_recip(s2, h2);
  memory.fill(ENC_ZZ, 0, 40);
}

// s = encoding of h given ENC_RECIP = 1/Z.
function encode_with_recip(s: usize, h: usize): void {
  fe_mul(ENC_X, h + X, ENC_RECIP);
  fe_mul(ENC_Y, h + Y, ENC_RECIP);
  fe_tobytes(s, ENC_Y);
  store<u8>(s + 31, load<u8>(s + 31) ^ <u8>(fe_isnegative(ENC_X) << 7));
}

/**
 * Decodes s[0..32] into h (p3); returns false if it is not a curve point.
 *
 * The rule is the one of OpenSSL (node:crypto) and ed25519-dalek 2.x `VerifyingKey::from_bytes`
 * (and @noble/curves with zip215): y is taken mod p, so y in [p, 2^255) is accepted as
 * y - p; x = 0 with the sign bit set is accepted and decodes to x = 0 (negating 0 is a no-op).
 * Checked against node:crypto in test/node/ed25519-edge.test.ts and the differential tests.
 * Variable time (public inputs only).
 */
export function ge_frombytes_vartime(h: usize, s: usize): bool {
  decode_begin(h, s, 0);
  fe_pow22523(DEC_POW, DEC_POW);
  return decode_end(h, s, 0);
}

/**
 * ge_frombytes_vartime of up to four encodings at once, its exponentiations run side by side
 * (field_x4.ts): for lane k < count, decodes the 32 bytes at the address held in the u32 at
 * encodings + 4k into the p3 point at the address in the u32 at points + 4k. Returns a mask
 * with bit k set if lane k decoded (the others are not curve points). Each lane's result is
 * ge_frombytes_vartime's, limb for limb. Below X4_MIN_LANES lanes it runs the scalar chain per lane.
 */
export function ge_frombytes_x4_vartime(points: usize, encodings: usize, count: usize): u32 {
  for (let k: usize = 0; k < count; k++) decode_begin(<usize>load<u32>(points + (k << 2)), <usize>load<u32>(encodings + (k << 2)), k);
  if (count >= X4_MIN_LANES) {
    for (let k = count; k < 4; k++) fe_0(DEC_POW + k * 40); // an unused lane computes 0^e
    fe_pow22523_x4(DEC_POW, DEC_POW);
  } else {
    for (let k: usize = 0; k < count; k++) fe_pow22523(DEC_POW + k * 40, DEC_POW + k * 40);
  }
  let decoded: u32 = 0;
  for (let k: usize = 0; k < count; k++) {
    if (decode_end(<usize>load<u32>(points + (k << 2)), <usize>load<u32>(encodings + (k << 2)), k)) decoded |= <u32>1 << <u32>k;
  }
  return decoded;
}

// Decoding before its exponentiation (RFC 8032 §5.1.3 steps 1-2): y into h, u and v into the
// lane's state, the base u v^7 into lane `lane` of DEC_POW.
function decode_begin(h: usize, s: usize, lane: usize): void {
  const u = DEC_LANES + lane * DEC_LANE_BYTES, v = u + 40, v3 = u + 80, base = DEC_POW + lane * 40;
  fe_frombytes(h + Y, s);
  fe_1(h + Z);
  fe_sq(u, h + Y);
  fe_mul(v, u, FE_D);
  fe_sub(u, u, h + Z); //            u = y^2 - 1
  fe_add(v, v, h + Z); //            v = d y^2 + 1
  fe_sq(v3, v);
  fe_mul(v3, v3, v); //              v^3
  fe_sq(base, v3);
  fe_mul(base, base, v);
  fe_mul(base, base, u); //          u v^7
}

// Decoding after it, with (u v^7)^((p-5)/8) in lane `lane` of DEC_POW (steps 2-4); false if no
// point has this y, and then h is all zeros: no point, which ge_is_neutral_vartime never takes
// for O and which every addition and doubling keeps all zeros. A caller that used h without
// looking at the result would so refuse; what the candidate x and y would leave there instead
// can be chosen to pass a check (test/node/ed25519-prepared-public.test.ts, R bytes that do not
// decode).
function decode_end(h: usize, s: usize, lane: usize): bool {
  const u = DEC_LANES + lane * DEC_LANE_BYTES, v = u + 40, v3 = u + 80, vxx = DEC_VXX, check = DEC_CHECK;
  fe_mul(h + X, DEC_POW + lane * 40, v3);
  fe_mul(h + X, h + X, u); //        x = u v^3 (u v^7)^((p-5)/8)
  fe_sq(vxx, h + X);
  fe_mul(vxx, vxx, v); //            v x^2
  fe_sub(check, vxx, u);
  if (!fe_iszero(check)) {
    fe_add(check, vxx, u);
    if (!fe_iszero(check)) {
      memory.fill(h, 0, P3_BYTES); //  u/v is not a square: no such point
      return false;
    }
    fe_mul(h + X, h + X, FE_SQRTM1);
  }
  if (fe_isnegative(h + X) != <u32>(load<u8>(s + 31) >> 7)) fe_neg(h + X, h + X);
  fe_mul(h + T, h + X, h + Y);
  return true;
}

/**
 * 1 if p (p2/p3) is the neutral element (X = 0 and Y = Z != 0), else 0. Z != 0 holds for every
 * point the complete formulas make; it is checked so that an all-zero (X : Y : Z), which is no
 * point and which a table entry never filled would spread through an MSM, is never taken for O
 * (a combined check that "passes" on it would accept every item).
 */
export function ge_is_neutral_vartime(p: usize): bool {
  if (!fe_iszero(p + X) || fe_iszero(p + Z)) return false;
  fe_sub(DEC_CHECK, p + Y, p + Z);
  return fe_iszero(DEC_CHECK) != 0;
}

const COFACTOR_P1P1: usize = memory.data(160, 16);
const COFACTOR_P2: usize = memory.data(120, 16);

/** r (p2) = [8]p for p in p2/p3 form (clears the cofactor). Variable time (used on public points). */
export function ge_mul_by_cofactor_vartime(r: usize, p: usize): void {
  ge_p2_dbl(COFACTOR_P1P1, p);
  ge_p1p1_to_p2(COFACTOR_P2, COFACTOR_P1P1);
  ge_p2_dbl(COFACTOR_P1P1, COFACTOR_P2);
  ge_p1p1_to_p2(COFACTOR_P2, COFACTOR_P1P1);
  ge_p2_dbl(COFACTOR_P1P1, COFACTOR_P2);
  ge_p1p1_to_p2(r, COFACTOR_P1P1);
}

const SMALL_P1P1: usize = memory.data(160, 16);
const SMALL_MULTIPLE: usize = memory.data(160, 16); // p3
const SMALL_CACHED: usize = memory.data(160, 16);

/**
 * r (p3) = p + [m]q for p, q in p3 and a small m, -4 <= m <= 4 (at most three point
 * operations: [|m|]q by one doubling and one addition, or two doublings, then the final
 * addition). r may equal p or q. Variable time (m public): the batch verifier's test of an
 * item's torsion (batch.ts) uses it on public points.
 */
export function ge_add_small_multiple_vartime(r: usize, p: usize, q: usize, m: i32): void {
  if (m == 0) {
    if (r != p) memory.copy(r, p, P3_BYTES);
    return;
  }
  const n = m < 0 ? -m : m;
  if (n == 1) {
    ge_p3_to_cached(SMALL_CACHED, q);
  } else {
    ge_p2_dbl(SMALL_P1P1, q);
    ge_p1p1_to_p3(SMALL_MULTIPLE, SMALL_P1P1); //      2q
    if (n == 3) {
      ge_p3_to_cached(SMALL_CACHED, q);
      ge_add(SMALL_P1P1, SMALL_MULTIPLE, SMALL_CACHED);
      ge_p1p1_to_p3(SMALL_MULTIPLE, SMALL_P1P1); //    3q
    } else if (n == 4) {
      ge_p2_dbl(SMALL_P1P1, SMALL_MULTIPLE);
      ge_p1p1_to_p3(SMALL_MULTIPLE, SMALL_P1P1); //    4q
    }
    ge_p3_to_cached(SMALL_CACHED, SMALL_MULTIPLE);
  }
  if (m > 0) ge_add(SMALL_P1P1, p, SMALL_CACHED);
  else ge_sub(SMALL_P1P1, p, SMALL_CACHED);
  ge_p1p1_to_p3(r, SMALL_P1P1);
}

/**
 * Brings `count` p3 points to Z = 1 (affine X, Y; T = XY), in place, with one field inversion
 * for all of them (fe_invert_batch: 6 multiplications per point in all). Point k is at
 * points + k * P3_BYTES; `scratch` holds `count` field elements. Every Z must be nonzero, as the
 * complete addition law keeps it for every p3 point. Variable time (public points).
 */
export function ge_p3_normalize_batch_vartime(points: usize, count: usize, scratch: usize): void {
  fe_invert_batch(scratch, points + Z, P3_BYTES, count);
  for (let k: usize = 0; k < count; k++) {
    const point = points + k * P3_BYTES, zInverse = scratch + k * 40;
    fe_mul(point + X, point + X, zInverse);
    fe_mul(point + Y, point + Y, zInverse);
    fe_1(point + Z);
    fe_mul(point + T, point + X, point + Y);
  }
}

// ---------------------------------------------------------------------------------------------
// Variable-time double-scalar multiplication for verification.

const NAF_A: usize = memory.data(256, 16);
const NAF_B: usize = memory.data(256, 16);
const NAF_PAD: usize = memory.data(40, 16);
/** Width of the signed window for the per-call point A: odd multiples A, 3A, ..., 15A. */
const A_WNAF_WIDTH: i32 = 5;
const A_TABLE: usize = memory.data(8 * 160, 16);
const DSM_T: usize = memory.data(160, 16); //   p1p1
const DSM_U: usize = memory.data(160, 16); //   p3
const DSM_A2: usize = memory.data(160, 16); //  p3
const DSM_CACHED_2P: usize = memory.data(160, 16); // cached

/**
 * out[0..256] = width-w non-adjacent form of the 32-byte scalar s (s < 2^255): digits are 0 or
 * odd in (-2^(w-1), 2^(w-1)), any w consecutive digits hold at most one non-zero, and
 * s = sum out[i] 2^i. Returns the index of the highest non-zero digit (-1 for s = 0), so
 * multi-scalar loops can start there. Variable time (public scalars only).
 */
export function wnaf_vartime(out: usize, s: usize, w: i32): i32 {
  memory.fill(out, 0, 256);
  memory.copy(NAF_PAD, s, 32);
  memory.fill(NAF_PAD + 32, 0, 8);
  const windowMask: u32 = (1 << w) - 1;
  const half: u32 = 1 << (w - 1);
  let carry: u32 = 0;
  let pos: u32 = 0;
  let top: i32 = -1;
  while (pos < 256) {
    // At least 57 scalar bits from pos (NAF_PAD has 8 zero bytes past the scalar).
    const word = load<u64>(NAF_PAD + <usize>(pos >> 3)) >> <u64>(pos & 7);
    const window = carry + (<u32>word & windowMask);
    if ((window & 1) == 0) {
      // Digits 0 up to the next bit that differs from the carry (a 0 bit without a carry, a 1
      // bit with one, whose carry moves up with us): skip that run at once.
      const run = <u32>ctz<u64>(carry == 0 ? word : ~word);
      pos += run < 57 ? run : 57;
      continue;
    }
    if (window < half) {
      carry = 0;
      store<i8>(out + <usize>pos, <i8>window);
    } else {
      carry = 1;
      store<i8>(out + <usize>pos, <i8>(<i32>window - (1 << w)));
    }
    top = <i32>pos;
    pos += <u32>w;
  }
  return top;
}

/** Bytes of a table made by ge_odd_multiples_cached. */
export const ODD_MULTIPLES_BYTES: usize = 8 * 160;

/** table[i] = (2i+1) P in cached form, i < 8: the width-5 wNAF table of a per-call point P (p3). */
export function ge_odd_multiples_cached(table: usize, P: usize): void {
  ge_odd_multiples_cached_first(table, P, 8);
}

/**
 * table[i] = (2i+1) P in cached form, i < count (1 <= count <= 8): the width-w wNAF table of a
 * per-call point P (p3) for count = 2^(w-2).
 */
export function ge_odd_multiples_cached_first(table: usize, P: usize, count: usize): void {
  ge_p3_to_cached(table, P);
  if (count < 2) return;
  ge_p2_dbl(DSM_T, P);
  ge_p1p1_to_p3(DSM_A2, DSM_T);
  for (let i: usize = 1; i < count; i++) {
    ge_add(DSM_T, DSM_A2, table + (i - 1) * CACHED_BYTES);
    ge_p1p1_to_p3(DSM_U, DSM_T);
    ge_p3_to_cached(table + i * CACHED_BYTES, DSM_U);
  }
}

const NIELS_X: usize = memory.data(40, 16);
const NIELS_Y: usize = memory.data(40, 16);
const NIELS_XY: usize = memory.data(40, 16);

/**
 * Turns entries [0, count) of `table` (NIELS_BYTES apart), each holding a projective point as
 * (X : Y : Z), the first three elements of its p3 form, into affine niels points (y+x, y-x,
 * 2dxy), with one inversion for all of them (Montgomery's trick). `prefix`: count * 40 bytes of
 * scratch. Every Z must be nonzero, as it is for any point the complete formulas produce.
 */
export function ge_table_to_niels(table: usize, count: usize, prefix: usize): void {
  fe_invert_batch(prefix, table + Z, NIELS_BYTES, count); // prefix[i] = 1/Z_i
  for (let i: usize = 0; i < count; i++) {
    const e = table + i * NIELS_BYTES, zInverse = prefix + i * 40;
    fe_mul(NIELS_X, e + X, zInverse);
    fe_mul(NIELS_Y, e + Y, zInverse);
    fe_add(e, NIELS_Y, NIELS_X);
    fe_sub(e + 40, NIELS_Y, NIELS_X);
    fe_mul(NIELS_XY, NIELS_X, NIELS_Y);
    fe_mul(e + 80, NIELS_XY, FE_D2);
  }
}

/**
 * table[i] = (2i+1) P as an affine niels point for i < count: a wNAF table of width w for
 * count = 2^(w-2), kept with a prepared key (assembly/ed25519/prepared-public.ts) and added with
 * mixed additions (scalar_mul/straus.ts). `prefix`: count * 40 bytes of scratch. Variable time.
 */
export function ge_odd_multiples_niels_vartime(table: usize, P: usize, count: usize, prefix: usize): void {
  ge_p2_dbl(DSM_T, P);
  ge_p1p1_to_p3(DSM_A2, DSM_T);
  ge_p3_to_cached(DSM_CACHED_2P, DSM_A2); //   2P
  memory.copy(DSM_U, P, P3_BYTES);
  memory.copy(table, DSM_U, 120); //            (X : Y : Z) of P
  for (let i: usize = 1; i < count; i++) {
    ge_add(DSM_T, DSM_U, DSM_CACHED_2P);
    ge_p1p1_to_p3(DSM_U, DSM_T);
    memory.copy(table + i * NIELS_BYTES, DSM_U, 120);
  }
  ge_table_to_niels(table, count, prefix);
}

/**
 * acc (p1p1) += digit * P, digit 0 or odd, from `table`, P's cached odd multiples (entry i is
 * (2i+1) P); `p3` is the caller's scratch for the accumulator in p3 form. The step of every
 * wNAF loop over per-call tables (here and scalar_mul/straus.ts). Variable time.
 */
// @ts-ignore: decorator
@inline export function ge_add_cached_digit_vartime(acc: usize, p3: usize, table: usize, digit: i32): void {
  if (digit > 0) {
    ge_p1p1_to_p3(p3, acc);
    ge_add(acc, p3, table + <usize>(digit >> 1) * CACHED_BYTES);
  } else if (digit < 0) {
    ge_p1p1_to_p3(p3, acc);
    ge_sub(acc, p3, table + <usize>((-digit) >> 1) * CACHED_BYTES);
  }
}

// Adds digit * (odd multiple from a cached table) to the p1p1 accumulator in DSM_T; with
// negate, subtracts it (i.e. uses the table of -P).
// @ts-ignore: decorator
@inline function add_cached_digit(table: usize, digit: i32, negate: bool): void {
  ge_add_cached_digit_vartime(DSM_T, DSM_U, table, negate ? -digit : digit);
}

// Same for an affine (niels) table.
// @ts-ignore: decorator
@inline function add_niels_digit(table: usize, digit: i32): void {
  if (digit > 0) {
    ge_p1p1_to_p3(DSM_U, DSM_T);
    ge_madd(DSM_T, DSM_U, table + <usize>(digit >> 1) * NIELS_BYTES);
  } else if (digit < 0) {
    ge_p1p1_to_p3(DSM_U, DSM_T);
    ge_msub(DSM_T, DSM_U, table + <usize>((-digit) >> 1) * NIELS_BYTES);
  }
}

/**
 * r (p3) = [a]A + [b]B, for 32-byte scalars a, b < 2^253 and A in p3 form (Straus–Shamir: one
 * shared doubling chain, width-5 wNAF over per-call odd multiples of A in cached form,
 * width-8 wNAF over the generated affine table of B). Variable time: inputs must be public.
 */
export function ge_double_scalarmult_vartime(r: usize, a: usize, A: usize, b: usize): void {
  wnaf_vartime(NAF_A, a, A_WNAF_WIDTH);
  wnaf_vartime(NAF_B, b, BASE_WNAF_WIDTH);
  ge_odd_multiples_cached(A_TABLE, A);
  ge_p3_0(r);
  let i = 255;
  while (i >= 0 && load<i8>(NAF_A + <usize>i) == 0 && load<i8>(NAF_B + <usize>i) == 0) i--;
  if (i < 0) return;
  for (; i >= 0; i--) {
    ge_p2_dbl(DSM_T, r);
    add_cached_digit(A_TABLE, <i32>load<i8>(NAF_A + <usize>i), false);
    add_niels_digit(BASE_ODD_MULTIPLES, <i32>load<i8>(NAF_B + <usize>i));
    if (i > 0) ge_p1p1_to_p2(r, DSM_T);
  }
  ge_p1p1_to_p3(r, DSM_T);
}

const NAF_C: usize = memory.data(256, 16);
const NAF_D: usize = memory.data(256, 16);
const HALF_LO: usize = memory.data(32, 16);
const HALF_HI: usize = memory.data(32, 16);

/**
 * r (p3) = [a](±A) + [c](±C) + [b]B for 32-byte scalars a, c below 2^250 and b < 2^253, with A
 * and C given by their ge_odd_multiples_cached tables (negated when aNeg / cNeg): the
 * half-size verification equation (see scalar.ts sc_half_size_vartime). b is split as
 * b_lo + 2^128 b_hi over the generated tables of B and 2^128 B, so the shared doubling chain
 * is only as long as the longest of a, c, b_lo, b_hi (~128 for verification).
 * Variable time: inputs must be public.
 */
export function ge_triple_scalarmult_vartime(
  r: usize, a: usize, aTable: usize, aNeg: bool, c: usize, cTable: usize, cNeg: bool, b: usize,
): void {
  memory.copy(HALF_LO, b, 16);
  memory.fill(HALF_LO + 16, 0, 16);
  memory.copy(HALF_HI, b + 16, 16);
  memory.fill(HALF_HI + 16, 0, 16);
  wnaf_vartime(NAF_A, a, A_WNAF_WIDTH);
  wnaf_vartime(NAF_C, c, A_WNAF_WIDTH);
  wnaf_vartime(NAF_B, HALF_LO, BASE_WNAF_WIDTH);
  wnaf_vartime(NAF_D, HALF_HI, BASE_WNAF_WIDTH);
  ge_p3_0(r);
  let i = 255;
  while (
    i >= 0 &&
    load<i8>(NAF_A + <usize>i) == 0 && load<i8>(NAF_C + <usize>i) == 0 &&
    load<i8>(NAF_B + <usize>i) == 0 && load<i8>(NAF_D + <usize>i) == 0
  ) i--;
  if (i < 0) return;
  for (; i >= 0; i--) {
    ge_p2_dbl(DSM_T, r);
    add_cached_digit(aTable, <i32>load<i8>(NAF_A + <usize>i), aNeg);
    add_cached_digit(cTable, <i32>load<i8>(NAF_C + <usize>i), cNeg);
    add_niels_digit(BASE_ODD_MULTIPLES, <i32>load<i8>(NAF_B + <usize>i));
    add_niels_digit(BASE128_ODD_MULTIPLES, <i32>load<i8>(NAF_D + <usize>i));
    if (i > 0) ge_p1p1_to_p2(r, DSM_T);
  }
  ge_p1p1_to_p3(r, DSM_T);
}
