// Prime-order subgroup membership ("is this point torsion-free?") for edwards25519, as the
// exact batch verifier (assembly/ed25519/batch.ts) needs it for every R and every distinct A.
//
// The group E(F_p) is cyclic of order 8L; P is torsion-free iff P lies in 8E, the subgroup of
// order L. Multiplying by L answers that but costs about as much as a whole verification. The
// test here is the "quartic-root test" (docs/protocol.md, batch verification): one
// exponentiation z^((p+3)/16) = z^(2^251 - 1), which both decides whether z is a 4th power and
// extracts a 4th root, then one Legendre symbol. Its derivation: a Tate-pairing (Kummer) map
// G -> mu_4 with kernel 4G (mu_4 lies in F_p since p = 1 mod 4) gives the torsion index mod 4;
// the 4th root it yields lets both 2-isogenies of the dual of a cyclic 4-isogeny be walked
// back, and one 2-descent Legendre symbol on the 4-isogenous curve decides the last bit (8G
// against T2 + 8G). With the affine (x, y) that decoding produced:
//
//   0. x = 0, y = 0 or x = +-i*y: P is one of the 8 points of small order; only (0, 1) is in the subgroup
//   1. n = 1 - y;  F = 2 (i x - 1) n;  z = (1 + d)(1 + d y^2) F^2
//   2. R = z^(2^251 - 1);  R^4 != z (z is not a 4th power)  =>  not in 4G: torsion
//   3. Q = R^2 - 2(1 + d)(y - y^2);  W = R^2 n^2;  G = F Q (Q^2 - b W) - 2 x R^3 (Q^2 - 4 W)
//   4. torsion-free  <=>  F Q G is a non-square
//
// with i = sqrt(-1) and b the even square root of 16(1 + d). Every factor (n, F, 1 + d y^2, R,
// Q, and the abscissa difference inside G) is nonzero outside the 8 small-order points, which
// step 0 removes. Checked against [L]P on thousands of points of every torsion class in
// test/node/ed25519-torsion-batch.test.ts (constants derived there too).
//
// Variable time: only ever applied to public points (keys and signature R values).
import {
  fe_1, fe_add, fe_sub, fe_mul, fe_sq, fe_iszero, fe_tobytes, fe_pow_2_251_minus_1,
} from "./field";
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
const T_N: usize = memory.data(40, 16);
const T_F: usize = memory.data(40, 16);
const T_Z: usize = memory.data(40, 16);
const T_R: usize = memory.data(40, 16);
const T_R2: usize = memory.data(40, 16);
const T_Q: usize = memory.data(40, 16);
const T_W: usize = memory.data(40, 16);
const T_G: usize = memory.data(40, 16);
const T_A: usize = memory.data(40, 16);
const T_B: usize = memory.data(40, 16);
const T_C: usize = memory.data(40, 16);
const DECODED: usize = memory.data(<i32>P3_BYTES, 16);

const LEGENDRE_BYTES: usize = memory.data(32, 16);

/**
 * The Jacobi symbol (a / p) of the canonical 32-byte little-endian a < p, p = 2^255 - 19: 1 if
 * a is a nonzero square, -1 if not a square, 0 for a = 0. Binary algorithm (Cohen, "A Course in
 * Computational Algebraic Number Theory", Algorithm 1.4.10, with subtraction for division) over
 * four 64-bit words: strip factors of 2 ((2 / n) = -1 iff n = 3, 5 mod 8), swap to keep a >= n
 * (reciprocity: a sign flip iff a = n = 3 mod 4), subtract. About a third of the cost of
 * a^((p-1)/2) by exponentiation. Variable time: public inputs only.
 */
export function jacobi_symbol_vartime(s: usize): i32 {
  let a0 = load<u64>(s), a1 = load<u64>(s, 8), a2 = load<u64>(s, 16), a3 = load<u64>(s, 24);
  let n0: u64 = 0xffffffffffffffed, n1: u64 = 0xffffffffffffffff, n2: u64 = 0xffffffffffffffff, n3: u64 = 0x7fffffffffffffff;
  let t: i32 = 1;
  for (;;) {
    if ((a0 | a1 | a2 | a3) == 0) return n0 == 1 && (n1 | n2 | n3) == 0 ? t : 0;
    // a = a / 2^z, one flip per odd power of two when n = 3, 5 (mod 8).
    while (a0 == 0) { // 64 zero bits: an even power, no sign change
      a0 = a1; a1 = a2; a2 = a3; a3 = 0;
    }
    const z = ctz<u64>(a0);
    if (z != 0) {
      a0 = (a0 >> z) | (a1 << (64 - z));
      a1 = (a1 >> z) | (a2 << (64 - z));
      a2 = (a2 >> z) | (a3 << (64 - z));
      a3 = a3 >> z;
      const n8 = n0 & 7;
      if ((z & 1) != 0 && (n8 == 3 || n8 == 5)) t = -t;
    }
    // Keep a >= n: swap (both odd), with the reciprocity sign.
    const less = a3 != n3 ? a3 < n3 : a2 != n2 ? a2 < n2 : a1 != n1 ? a1 < n1 : a0 < n0;
    if (less) {
      let w = a0; a0 = n0; n0 = w;
      w = a1; a1 = n1; n1 = w;
      w = a2; a2 = n2; n2 = w;
      w = a3; a3 = n3; n3 = w;
      if ((a0 & 3) == 3 && (n0 & 3) == 3) t = -t;
    }
    // a = a - n (even now, or zero).
    const b0: u64 = a0 < n0 ? 1 : 0;
    a0 -= n0;
    const b1: u64 = a1 < n1 || (a1 == n1 && b0 != 0) ? 1 : 0;
    a1 = a1 - n1 - b0;
    const b2: u64 = a2 < n2 || (a2 == n2 && b1 != 0) ? 1 : 0;
    a2 = a2 - n2 - b1;
    a3 = a3 - n3 - b2;
  }
  return 0;
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
  const x = P, y = P + 40;
  // Step 0: the 8 points of small order (x = 0, y = 0, x = +-i y); only the identity (0, 1) is torsion-free.
  const xZero = fe_iszero(x) != 0;
  if (xZero) {
    fe_1(T_ONE);
    fe_sub(T_A, y, T_ONE);
    return fe_iszero(T_A) != 0;
  }
  if (fe_iszero(y) != 0) return false;
  fe_mul(T_A, FE_SQRTM1, y);
  fe_sub(T_B, x, T_A);
  if (fe_iszero(T_B) != 0) return false;
  fe_add(T_B, x, T_A);
  if (fe_iszero(T_B) != 0) return false;

  // Step 1: n = 1 - y; F = 2 (i x - 1) n; z = (1 + d)(1 + d y^2) F^2.
  fe_1(T_ONE);
  fe_sub(T_N, T_ONE, y);
  fe_mul(T_A, FE_SQRTM1, x);
  fe_sub(T_A, T_A, T_ONE);
  fe_add(T_A, T_A, T_A);
  fe_mul(T_F, T_A, T_N);
  fe_sq(T_C, y); //                     y^2 (kept for step 3)
  fe_mul(T_A, T_C, FE_D);
  fe_add(T_A, T_A, T_ONE); //           1 + d y^2
  fe_mul(T_A, T_A, FE_ONE_PLUS_D);
  fe_sq(T_B, T_F);
  fe_mul(T_Z, T_A, T_B);

  // Step 2: R = z^(2^251 - 1); z must be a 4th power (R^4 = z).
  fe_pow_2_251_minus_1(T_R, T_Z);
  fe_sq(T_R2, T_R);
  fe_sq(T_A, T_R2);
  fe_sub(T_A, T_A, T_Z);
  if (fe_iszero(T_A) == 0) return false;

  // Step 3: Q = R^2 - 2(1 + d)(y - y^2); W = R^2 n^2.
  fe_sub(T_A, y, T_C);
  fe_mul(T_A, T_A, FE_TWO_ONE_PLUS_D);
  fe_sub(T_Q, T_R2, T_A);
  fe_sq(T_A, T_N);
  fe_mul(T_W, T_R2, T_A);
  // G = F Q (Q^2 - b W) - 2 x R^3 (Q^2 - 4 W)
  fe_sq(T_C, T_Q); //                   Q^2
  fe_mul(T_A, FE_QUARTIC_B, T_W);
  fe_sub(T_A, T_C, T_A); //             Q^2 - b W
  fe_mul(T_B, T_F, T_Q); //             F Q (kept for step 4)
  fe_mul(T_G, T_B, T_A); //             F Q (Q^2 - b W)
  fe_mul(T_A, T_W, FE_FOUR); //         4 W, carried (a doubled sum would exceed fe_mul's input bounds below)
  fe_sub(T_A, T_C, T_A); //             Q^2 - 4 W
  fe_mul(T_C, T_R2, T_R); //            R^3
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
