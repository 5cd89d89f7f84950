// Prime-order subgroup membership ("is this point torsion-free?") for edwards25519, as the
// exact batch verifier (assembly/ed25519/batch.ts) needs it for every R and every distinct A it
// tests, or for an item's R + [k mod 8]A in their place.
//
// The group E(F_p) is cyclic of order 8L; P is torsion-free iff P lies in 8E, the subgroup of
// order L. Multiplying by L answers that but costs about as much as a whole verification. The
// test here is the "quartic-root test": one exponentiation z^((p+3)/16) = z^(2^251 - 1), which
// both decides whether z is a 4th power and extracts a 4th root, then one Legendre symbol. With
// the affine (x, y) that decoding produced:
//
//   0. x = 0, y = 0 or x = +-i*y: P is one of the 8 points of small order; only (0, 1) is in the subgroup
//   1. n = 1 - y;  F = 2 (i x - 1) n;  z = (1 + d)(1 + d y^2) F^2
//   2. R = z^(2^251 - 1);  R^4 != z (z is not a 4th power)  =>  not in 4G: torsion
//   3. Q = R^2 - 2(1 + d)(y - y^2);  W = R^2 n^2;  G = F Q (Q^2 - b W) - 2 x R^3 (Q^2 - 4 W)
//   4. torsion-free  <=>  F Q G is a non-square
//
// with i = sqrt(-1) (FE_SQRTM1) and b the even square root of 16(1 + d). Proven exact in
// docs/subgroup-test.md: z is (2n)^4 times the normalised function of divisor 4(T4) - 4(O)
// (T4 = (-i, 0), of order 4), so its quartic symbol is the reduced Tate pairing with T4, whose
// kernel is 4G (step 2); for P in 4G, R yields a preimage P2 of P under a 4-isogeny, and F Q G
// is 2 times a square times a 2-descent character of P2 whose kernel is the preimage of 8G
// (step 4). Off the 8 small-order points no factor is 0. test/node/torsion-proof.test.ts checks
// the proof's identities and finite facts; test/node/ed25519-torsion-batch.test.ts checks this
// code against [L]P on points of every torsion class (constants derived there too).
//
// The test is split around its exponentiation (torsion_begin, torsion_end) so that the batch
// verifier can run four points' exponentiations side by side (ge_affine_is_torsion_free_x4_vartime
// over field_x4.ts); each lane's verdict is the single test's.
//
// Variable time: only ever applied to public points (keys and signature R values).
import {
  fe_0, fe_1, fe_add, fe_sub, fe_mul, fe_sq, fe_iszero, fe_tobytes, fe_pow_2_251_minus_1,
} from "./field";
import { QUAD_BYTES, X4_MIN_LANES, fe_pow_2_251_minus_1_x4 } from "./field_x4";
import { FE_D, FE_SQRTM1 } from "./tables";
import { ge_frombytes_vartime, P3_BYTES } from "./group";

/** 1 + d. */
export const FE_ONE_PLUS_D: usize = memory.data<i32>([56195236, 13857412, 51736253, 6949390, 114729, 24766616, 60832955, 30306712, 48412415, 21499315], 16);
/** 2 (1 + d). */
export const FE_TWO_ONE_PLUS_D: usize = memory.data<i32>([45281627, 27714825, 36363642, 13898781, 229458, 15978800, 54557047, 27058993, 29715967, 9444199], 16);
/** b: the even square root of 16 (1 + d) (the other root gives wrong answers on about half the points). */
export const FE_QUARTIC_B: usize = memory.data<i32>([8291538, 5301419, 21028105, 22607231, 39802637, 20161439, 28525604, 8960002, 57408040, 609963], 16);
/** The field element 4. */
const FE_FOUR: usize = memory.data<i32>([4, 0, 0, 0, 0, 0, 0, 0, 0, 0], 16);

// Scratch (field elements, 40 bytes each).
const T_ONE: usize = memory.data(40, 16);
// The test's state across its exponentiation, per lane of ge_affine_is_torsion_free_x4_vartime
// (lane 0 for the single test): n, F and y^2; and the exponentiation's bases z and results R.
const TOR_LANE_BYTES: usize = 3 * 40;
const TOR_LANES: usize = memory.data(4 * 3 * 40, 16); // 4 lanes of TOR_LANE_BYTES
const TOR_Z: usize = memory.data(<i32>QUAD_BYTES, 16);
const TOR_R: usize = memory.data(<i32>QUAD_BYTES, 16);
const T_R2: usize = memory.data(40, 16);
const T_Q: usize = memory.data(40, 16);
const T_W: usize = memory.data(40, 16);
const T_G: usize = memory.data(40, 16);
const T_A: usize = memory.data(40, 16);
const T_B: usize = memory.data(40, 16);
const T_C: usize = memory.data(40, 16);
const DECODED: usize = memory.data(<i32>P3_BYTES, 16);

const LEGENDRE_BYTES: usize = memory.data(32, 16);

// The two operands of the Jacobi symbol: eight 32-bit limbs each, little-endian, plus one zero
// limb so that a 64-bit load at any limb index stays inside the value.
const JACOBI_A: usize = memory.data(36, 16);
const JACOBI_B: usize = memory.data(36, 16);
/** Steps per batch: at most 30, so that every matrix row has |f| + |g| <= 2^30 (see below). */
const JACOBI_BATCH: i32 = 30;
/** Two error bounds of the 64-bit approximations (2 * 2^32 units): a smaller gap is "too close to call". */
const JACOBI_MARGIN: u64 = 1 << 33;

/**
 * The Jacobi symbol (a / p) of the canonical 32-byte little-endian a < p, p = 2^255 - 19: 1 if
 * a is a nonzero square, -1 if not a square, 0 for a = 0. Variable time: public inputs only.
 *
 * The binary algorithm (Cohen, "A Course in Computational Algebraic Number Theory", Alg.
 * 1.4.10, subtraction for division) on (a, b), b odd, with a count of sign flips such that the
 * answer is (-1)^flips (a / b): strip factors of 2 from a (one flip per odd power when b = 3, 5
 * mod 8), swap to keep a >= b (a flip when a = b = 3 mod 4, reciprocity), subtract. Run in batches after Pornin,
 * "Optimized Binary GCD for Modular Inversion" (IACR ePrint 2020/972): up to 30 steps on 64-bit
 * approximations a^ = (top 32 bits of a) || (low 32 bits of a), the top bits taken at the same
 * position in a and b, that position set by the longer of the two. The steps accumulate a 2x2
 * matrix, applied once per batch to the full values: 2^j (a', b') = M (a, b).
 *
 * Why every sign flip is exact, unlike a GCD that may tolerate wrong steps:
 *  - low bits: a^ = a (mod 2^32) at the start, and every step is the same linear map on (a, b)
 *    and (a^, b^), so after j steps a^ = a (mod 2^(32-j)); j < 30 before each step, so the
 *    parities, a mod 4 and b mod 8 the rules read are the true ones;
 *  - comparisons: in units of 2^(s-32) (s the top bits' position) the error of a^ is below 2^32
 *    at the start, and each step maps the errors by a matrix row with |f| + |g| <= 2^j then
 *    divides by 2^j, so it stays below 2^32. A comparison is taken only when |a^ - b^| >= 2^33,
 *    where it is the true one; closer values end the batch (before any step: one exact step on
 *    the full values). So a and b stay positive and each step is exactly the exact algorithm's
 *    step, and the symbol rules are the classical ones for positive odd b.
 * Once both values fit in 64 bits, the exact algorithm finishes on u64. Rows: a halving of a
 * doubles b's row instead (so the matrix stays integral), a subtraction makes a's row the
 * difference of the rows; each row's |f| + |g| is at most 2^j <= 2^30, so a row fits one word
 * as f + 2^32 g, and with 32-bit limbs every product sum stays below 2^62. Measured in V8, the
 * branches on the comparisons beat branch-free selects and masks here, and a - b beats the
 * "a - b or a + b, whichever is 0 mod 4" variant (more batches for fewer steps).
 */
export function jacobi_symbol_vartime(s: usize): i32 {
  // a, b = p as 32-bit limbs.
  for (let i: usize = 0; i < 32; i += 8) store<u64>(JACOBI_A + i, load<u64>(s + i));
  store<u32>(JACOBI_A + 32, 0);
  store<u64>(JACOBI_B, 0xffffffffffffffed);
  store<u64>(JACOBI_B + 8, 0xffffffffffffffff);
  store<u64>(JACOBI_B + 16, 0xffffffffffffffff);
  store<u64>(JACOBI_B + 24, 0x7fffffffffffffff);
  store<u32>(JACOBI_B + 32, 0);
  let flips: u64 = 0; // bit 0: the sign of the answer (1: negative)
  let len: i32 = 8; // limbs in use (both values are below 2^(32 len))
  for (;;) {
    // Shrink len to the longer value; a = 0 here means gcd(a, b) = b > 1.
    let top: u32 = 0;
    while (len > 0) {
      top = load<u32>(JACOBI_A + ((<usize>len - 1) << 2)) | load<u32>(JACOBI_B + ((<usize>len - 1) << 2));
      if (top != 0) break;
      len--;
    }
    if (len <= 2) break;
    let a0: u32 = 0;
    for (let i = 0; i < len; i++) a0 |= load<u32>(JACOBI_A + (<usize>i << 2));
    if (a0 == 0) return 0;

    // Approximations: bits [sh, sh + 32) and [0, 32) of each value, sh + 32 = bit length of the longer.
    const sh = ((len - 1) << 5) + 32 - clz<u32>(top) - 32;
    const at = <usize>(sh >> 5) << 2;
    const sb = <u64>(sh & 31);
    let ah: u64 = ((load<u64>(JACOBI_A + at) >> sb) << 32) | <u64>load<u32>(JACOBI_A);
    let bh: u64 = ((load<u64>(JACOBI_B + at) >> sb) << 32) | <u64>load<u32>(JACOBI_B);
    // 2^j (a^, b^) = [[f0, g0], [f1, g1]] (a^, b^ at the batch start), each row packed in one
    // word as f + 2^32 g (the updates are linear, so they apply to the packed word; |f| <= 2^30).
    let r0: i64 = 1, r1: i64 = 1 << 32;
    let j: i32 = 0;
    for (;;) {
      if ((ah & 1) == 0) {
        let z = <i32>ctz<u64>(ah);
        if (z > JACOBI_BATCH - j) z = JACOBI_BATCH - j;
        ah >>= <u64>z;
        r1 <<= <i64>z;
        j += z;
        // (2 / b) = -1 iff b = 3, 5 (mod 8): bit 1 xor bit 2 of b, once per odd power.
        flips ^= <u64>z & ((bh >> 1) ^ (bh >> 2));
        if (j == JACOBI_BATCH) break;
      }
      // a odd.
      if (ah >= bh) {
        if (ah - bh < JACOBI_MARGIN) break;
      } else {
        if (bh - ah < JACOBI_MARGIN) break;
        let w = ah; ah = bh; bh = w;
        const v = r0; r0 = r1; r1 = v;
        // Reciprocity: a flip iff a = b = 3 (mod 4).
        flips ^= (ah & bh) >> 1;
      }
      ah -= bh;
      r0 -= r1;
    }
    const f0 = <i64><i32>r0, g0 = (r0 - f0) >> 32;
    const f1 = <i64><i32>r1, g1 = (r1 - f1) >> 32;

    if (j == 0) {
      // a odd and too close to b to tell on the approximations: one exact step on the full values.
      let less = false;
      for (let i = len - 1; i >= 0; i--) {
        const x = load<u32>(JACOBI_A + (<usize>i << 2)), y = load<u32>(JACOBI_B + (<usize>i << 2));
        if (x != y) { less = x < y; break; }
      }
      if (less) {
        for (let i: usize = 0; i < 32; i += 8) {
          const w = load<u64>(JACOBI_A + i);
          store<u64>(JACOBI_A + i, load<u64>(JACOBI_B + i));
          store<u64>(JACOBI_B + i, w);
        }
        flips ^= <u64>(load<u32>(JACOBI_A) & load<u32>(JACOBI_B)) >> 1;
      }
      let borrow: i64 = 0;
      for (let i = 0; i < len; i++) {
        const d = <i64>load<u32>(JACOBI_A + (<usize>i << 2)) - <i64>load<u32>(JACOBI_B + (<usize>i << 2)) + borrow;
        store<u32>(JACOBI_A + (<usize>i << 2), <u32>d);
        borrow = d >> 32;
      }
      continue;
    }

    // (a, b) = M (a, b) / 2^j, exact divisions, both results positive.
    const sj = <i64>j, rj = <i64>(32 - j);
    let ca: i64 = 0, cb: i64 = 0, pa: i64 = 0, pb: i64 = 0;
    for (let i = 0; i < len; i++) {
      const x = <i64>load<u32>(JACOBI_A + (<usize>i << 2)), y = <i64>load<u32>(JACOBI_B + (<usize>i << 2));
      ca += f0 * x + g0 * y;
      cb += f1 * x + g1 * y;
      const la = ca & 0xffffffff, lb = cb & 0xffffffff;
      ca >>= 32;
      cb >>= 32;
      if (i > 0) {
        store<u32>(JACOBI_A + ((<usize>i - 1) << 2), <u32>((pa >> sj) | (la << rj)));
        store<u32>(JACOBI_B + ((<usize>i - 1) << 2), <u32>((pb >> sj) | (lb << rj)));
      }
      pa = la;
      pb = lb;
    }
    store<u32>(JACOBI_A + ((<usize>len - 1) << 2), <u32>((pa >> sj) | ((ca & 0xffffffff) << rj)));
    store<u32>(JACOBI_B + ((<usize>len - 1) << 2), <u32>((pb >> sj) | ((cb & 0xffffffff) << rj)));
  }

  // Both below 2^64: the exact algorithm on u64.
  let a = load<u64>(JACOBI_A), b = load<u64>(JACOBI_B);
  while (a != 0) {
    const z = ctz<u64>(a);
    a >>= z;
    flips ^= z & ((b >> 1) ^ (b >> 2));
    if (a < b) {
      const w = a; a = b; b = w;
      flips ^= (a & b) >> 1;
    }
    a -= b;
  }
  return b == 1 ? 1 - (<i32>(flips & 1) << 1) : 0;
}

/** true if a (a field element) is not a square mod p. */
function is_nonsquare_vartime(a: usize): bool {
  fe_tobytes(LEGENDRE_BYTES, a);
  return jacobi_symbol_vartime(LEGENDRE_BYTES) < 0;
}

/**
 * true if the point P (p3 with Z = 1, i.e. affine X, Y, as ge_frombytes_vartime leaves it) lies
 * in the prime-order subgroup. See the file header. Variable time.
 */
export function ge_affine_is_torsion_free_vartime(P: usize): bool {
  const early = torsion_begin(P, 0);
  if (early != TORSION_PENDING) return early == TORSION_FREE;
  fe_pow_2_251_minus_1(TOR_R, TOR_Z);
  return torsion_end(P, 0);
}

/**
 * ge_affine_is_torsion_free_vartime of up to four points at once, their exponentiations run side
 * by side (field_x4.ts): lane k < count tests the point at the address held in the u32 at
 * points + 4k. Returns a mask with bit k set if lane k's point is torsion-free. Below
 * X4_MIN_LANES lanes that need the exponentiation, it runs the scalar chain per lane.
 */
export function ge_affine_is_torsion_free_x4_vartime(points: usize, count: usize): u32 {
  let free: u32 = 0, pending: u32 = 0, lanes: usize = 0;
  for (let k: usize = 0; k < count; k++) {
    const early = torsion_begin(<usize>load<u32>(points + (k << 2)), k);
    if (early == TORSION_FREE) free |= <u32>1 << <u32>k;
    else if (early == TORSION_PENDING) {
      pending |= <u32>1 << <u32>k;
      lanes++;
    } else fe_0(TOR_Z + k * 40); // decided: its lane computes 0^e
  }
  if (lanes >= X4_MIN_LANES) {
    for (let k = count; k < 4; k++) fe_0(TOR_Z + k * 40);
    fe_pow_2_251_minus_1_x4(TOR_R, TOR_Z);
  } else {
    for (let k: usize = 0; k < count; k++) if ((pending >> <u32>k) & 1) fe_pow_2_251_minus_1(TOR_R + k * 40, TOR_Z + k * 40);
  }
  for (let k: usize = 0; k < count; k++) {
    if ((pending >> <u32>k) & 1 && torsion_end(<usize>load<u32>(points + (k << 2)), k)) free |= <u32>1 << <u32>k;
  }
  return free;
}

const HAS_TORSION: i32 = 0;
const TORSION_FREE: i32 = 1;
const TORSION_PENDING: i32 = 2;

// The test before its exponentiation: step 0 decides the small-order points (HAS_TORSION or
// TORSION_FREE); for any other point, step 1 leaves z in lane `lane` of TOR_Z (TORSION_PENDING).
function torsion_begin(P: usize, lane: usize): i32 {
  const x = P, y = P + 40;
  // Step 0: the 8 points of small order (x = 0, y = 0, x = +-i y); only the identity (0, 1) is torsion-free.
  const xZero = fe_iszero(x) != 0;
  if (xZero) {
    fe_1(T_ONE);
    fe_sub(T_A, y, T_ONE);
    return fe_iszero(T_A) != 0 ? TORSION_FREE : HAS_TORSION;
  }
  if (fe_iszero(y) != 0) return HAS_TORSION;
  fe_mul(T_A, FE_SQRTM1, y);
  fe_sub(T_B, x, T_A);
  if (fe_iszero(T_B) != 0) return HAS_TORSION;
  fe_add(T_B, x, T_A);
  if (fe_iszero(T_B) != 0) return HAS_TORSION;

  const n = TOR_LANES + lane * TOR_LANE_BYTES, f = n + 40, y2 = n + 80, z = TOR_Z + lane * 40;
  // Step 1: n = 1 - y; F = 2 (i x - 1) n; z = (1 + d)(1 + d y^2) F^2.
  fe_1(T_ONE);
  fe_sub(n, T_ONE, y);
  fe_mul(T_A, FE_SQRTM1, x);
  fe_sub(T_A, T_A, T_ONE);
  fe_add(T_A, T_A, T_A);
  fe_mul(f, T_A, n);
  fe_sq(y2, y); //                      y^2 (kept for step 3)
  fe_mul(T_A, y2, FE_D);
  fe_add(T_A, T_A, T_ONE); //           1 + d y^2
  fe_mul(T_A, T_A, FE_ONE_PLUS_D);
  fe_sq(T_B, f);
  fe_mul(z, T_A, T_B);

  return TORSION_PENDING;
}

// The test after it, with z^(2^251 - 1) in lane `lane` of TOR_R (steps 2-4).
function torsion_end(P: usize, lane: usize): bool {
  const x = P, y = P + 40;
  const n = TOR_LANES + lane * TOR_LANE_BYTES, f = n + 40, y2 = n + 80, z = TOR_Z + lane * 40, R = TOR_R + lane * 40;
  // Step 2: R = z^(2^251 - 1) (computed by the caller); z must be a 4th power (R^4 = z).
  fe_sq(T_R2, R);
  fe_sq(T_A, T_R2);
  fe_sub(T_A, T_A, z);
  if (fe_iszero(T_A) == 0) return false;

  // Step 3: Q = R^2 - 2(1 + d)(y - y^2); W = R^2 n^2.
  fe_sub(T_A, y, y2);
  fe_mul(T_A, T_A, FE_TWO_ONE_PLUS_D);
  fe_sub(T_Q, T_R2, T_A);
  fe_sq(T_A, n);
  fe_mul(T_W, T_R2, T_A);
  // G = F Q (Q^2 - b W) - 2 x R^3 (Q^2 - 4 W)
  fe_sq(T_C, T_Q); //                   Q^2
  fe_mul(T_A, FE_QUARTIC_B, T_W);
  fe_sub(T_A, T_C, T_A); //             Q^2 - b W
  fe_mul(T_B, f, T_Q); //               F Q (kept for step 4)
  fe_mul(T_G, T_B, T_A); //             F Q (Q^2 - b W)
  fe_mul(T_A, T_W, FE_FOUR); //         4 W, carried (a doubled sum would exceed fe_mul's input bounds below)
  fe_sub(T_A, T_C, T_A); //             Q^2 - 4 W
  fe_mul(T_C, T_R2, R); //              R^3
  fe_mul(T_C, T_C, x);
  fe_add(T_C, T_C, T_C); //             2 x R^3
  fe_mul(T_A, T_A, T_C);
  fe_sub(T_G, T_G, T_A);

  // Step 4: torsion-free iff F Q G is not a square.
  fe_mul(T_C, T_B, T_G);
  return is_nonsquare_vartime(T_C);
}

/**
 * Decodes the 32 bytes at s (dalek rule, y taken mod p) and tests the point for torsion:
 * 1 torsion-free, 0 with a torsion component, -1 not a point.
 */
export function ge_bytes_torsion_class_vartime(s: usize): i32 {
  if (!ge_frombytes_vartime(DECODED, s)) return -1;
  return ge_affine_is_torsion_free_vartime(DECODED) ? 1 : 0;
}
