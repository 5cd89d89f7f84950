// Arithmetic modulo the group order L = 2^252 + 27742317777372353535851937790883648493
// (RFC 8032 §5.1), for the scalars of Ed25519: reducing the 64-byte SHA-512 outputs (§5.1.6
// step 2 and 4, §5.1.7 step 2) and computing S = (r + k*s) mod L (§5.1.6 step 5).
//
// Scalars are little-endian byte strings. Internally a scalar is split into signed 21-bit limbs
// held in i64 (the radix of ref10's sc_reduce), so that a limb times a constant below 2^21
// stays far inside 64 bits. Reduction uses 2^252 = -c (mod L), c = L - 2^252 < 2^125: a limb at
// position i >= 12 (weight 2^(21i) = 2^(21(i-12)) * 2^252) is folded into positions i-12..i-7
// by subtracting its product with the six 21-bit digits of c.
//
// sc_reduce and sc_muladd are constant time: fixed loop bounds, arithmetic shifts for carries,
// and a mask (not a branch) for the final conditional correction. sc_is_canonical_vartime is variable
// time and only ever sees public data (the S half of a signature).

// Digits of c = L - 2^252 in radix 2^21 (c = sum C_k 2^(21k)); re-derived in test/node/field.test.ts.
const C0: i64 = 1430509;
const C1: i64 = 1626855;
const C2: i64 = 1442968;
const C3: i64 = 997804;
const C4: i64 = 1960495;
const C5: i64 = 683900;

/** L, little-endian. */
const L_BYTES: usize = memory.data<u8>([
  0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14,
  0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10,
]);

const LIMB_BITS: i64 = 21;
const LIMB_MASK: i64 = (1 << 21) - 1;
const HALF_LIMB: i64 = 1 << 20;

// Working limbs (up to 25 used) and the three 13-limb operands of sc_muladd.
const LIMBS: usize = memory.data(32 * 8, 16);
const OPERANDS: usize = memory.data(3 * 13 * 8, 16);

/** Zeroes the scalar module's scratch (it holds secret scalars while signing). */
export function sc_wipe_scratch(): void {
  memory.fill(LIMBS, 0, 32 * 8);
  memory.fill(OPERANDS, 0, 3 * 13 * 8);
}

// @ts-ignore: decorator
@inline function limb(base: usize, i: i32): i64 {
  return load<i64>(base + (<usize>i << 3));
}
// @ts-ignore: decorator
@inline function set_limb(base: usize, i: i32, v: i64): void {
  store<i64>(base + (<usize>i << 3), v);
}

/** Splits the `bytes`-byte little-endian integer at s into `count` 21-bit limbs at dst (last limb takes the rest). */
function load_limbs(dst: usize, s: usize, bytes: u32, count: i32): void {
  for (let i = 0; i < count; i++) {
    const bit = <u32>i * 21;
    let byte = bit >> 3;
    if (byte > bytes - 8) byte = bytes - 8; // never read past the input
    let v = <i64>(load<u64>(s + <usize>byte) >> <u64>(bit - (byte << 3)));
    if (i < count - 1) v &= LIMB_MASK;
    set_limb(dst, i, v);
  }
}

/** Rounding carry from limb `from` up to limb `to - 1` into `to`: leaves limbs from..to-1 in [-2^20, 2^20). */
function carry_round(a: usize, from: i32, to: i32): void {
  for (let j = from; j < to; j++) {
    const v = limb(a, j);
    const c = (v + HALF_LIMB) >> LIMB_BITS;
    set_limb(a, j, v - (c << LIMB_BITS));
    set_limb(a, j + 1, limb(a, j + 1) + c);
  }
}

/** Floor carry from `from` up to `to - 1` into `to`: leaves limbs from..to-1 in [0, 2^21). */
function carry_floor(a: usize, from: i32, to: i32): void {
  for (let j = from; j < to; j++) {
    const v = limb(a, j);
    const c = v >> LIMB_BITS;
    set_limb(a, j, v & LIMB_MASK);
    set_limb(a, j + 1, limb(a, j + 1) + c);
  }
}

/** Replaces limb i (i >= 12) by its equivalent -a_i * c * 2^(21(i-12)) (mod L). */
// @ts-ignore: decorator
@inline function fold(a: usize, i: i32): void {
  const t = limb(a, i);
  set_limb(a, i, 0);
  const b = a + (<usize>(i - 12) << 3);
  store<i64>(b, load<i64>(b) - t * C0);
  store<i64>(b, load<i64>(b, 8) - t * C1, 8);
  store<i64>(b, load<i64>(b, 16) - t * C2, 16);
  store<i64>(b, load<i64>(b, 24) - t * C3, 24);
  store<i64>(b, load<i64>(b, 32) - t * C4, 32);
  store<i64>(b, load<i64>(b, 40) - t * C5, 40);
}

/**
 * Reduces the value in limbs a[0..top] (limbs below `top` in about [-2^21, 2^21], a[top] below
 * about 2^30 in magnitude) to its canonical residue mod L, written as 32 bytes at out.
 */
function reduce_limbs(out: usize, a: usize, top: i32): void {
  // Fold in two rounds with one carry chain each (bounds as in ref10's sc_reduce): limbs
  // 18..top are below ~2^29 and land in 6..17 as sums of at most 7 products below 2^50;
  // after the chain, limbs 12..16 are in [-2^20, 2^20) and limb 17 below ~2^33, so folding
  // 17..12 adds products below 2^54 to limbs 0..10.
  for (let i = top; i >= 18; i--) fold(a, i);
  carry_round(a, 6, 17);
  for (let i = 17; i >= 12; i--) fold(a, i);
  carry_round(a, 0, 11);
  // a[0..10] are now small, a[11] may hold ~2^36: push it into a[12] and fold twice more.
  // After the second fold a[12] is in {-1, 0, 1}, and after it |value| < 2^251 + 2^232 < L.
  set_limb(a, 12, 0);
  carry_round(a, 0, 12);
  fold(a, 12);
  carry_round(a, 0, 12);
  fold(a, 12);
  carry_round(a, 0, 11);
  // value is in (-L, L). Make the limbs 0..10 non-negative; the sign of the value is then the
  // sign of a[11]. Add L under a mask when negative (constant time), then normalise again.
  carry_floor(a, 0, 11);
  const negative = limb(a, 11) >> 63; // all ones if negative, else 0
  set_limb(a, 0, limb(a, 0) + (C0 & negative));
  set_limb(a, 1, limb(a, 1) + (C1 & negative));
  set_limb(a, 2, limb(a, 2) + (C2 & negative));
  set_limb(a, 3, limb(a, 3) + (C3 & negative));
  set_limb(a, 4, limb(a, 4) + (C4 & negative));
  set_limb(a, 5, limb(a, 5) + (C5 & negative));
  // 2^252 = limb 12 bit 0, i.e. bit 21 of limb 11.
  set_limb(a, 11, limb(a, 11) + ((<i64>1 << 21) & negative));
  carry_floor(a, 0, 11);
  // Pack 12 limbs (252 bits + the top limb's remaining bits) into 32 bytes.
  let acc: u64 = 0;
  let accBits: u32 = 0;
  let pos: usize = 0;
  for (let i = 0; i < 12; i++) {
    acc |= <u64>limb(a, i) << accBits;
    accBits += 21;
    while (accBits >= 8) {
      store<u8>(out + pos, <u8>acc);
      pos++;
      acc >>= 8;
      accBits -= 8;
    }
  }
  // 12 * 21 = 252 bits: the last 4 bits of limb 11's overflow (value < L < 2^253) remain.
  store<u8>(out + pos, <u8>acc);
}

/** out[0..32] = s[0..64] mod L (s is a little-endian 512-bit integer, e.g. a SHA-512 output). */
export function sc_reduce(out: usize, s: usize): void {
  load_limbs(LIMBS, s, 64, 24); // 23 limbs of 21 bits + a top limb of 29 bits
  set_limb(LIMBS, 24, 0);
  reduce_limbs(out, LIMBS, 23);
}

/** out[0..32] = (a * b + c) mod L, all three inputs 32-byte little-endian integers (any value below 2^256). */
export function sc_muladd(out: usize, a: usize, b: usize, c: usize): void {
  const A = OPERANDS, B = OPERANDS + 13 * 8, Cc = OPERANDS + 26 * 8;
  load_limbs(A, a, 32, 13);
  load_limbs(B, b, 32, 13);
  load_limbs(Cc, c, 32, 13);
  // Schoolbook product: 25 limbs, each a sum of at most 13 products below 2^42.
  for (let k = 0; k < 25; k++) {
    let sum: i64 = k < 13 ? limb(Cc, k) : 0;
    const lo = k < 13 ? 0 : k - 12;
    const hi = k < 13 ? k : 12;
    for (let i = lo; i <= hi; i++) sum += limb(A, i) * limb(B, k - i);
    set_limb(LIMBS, k, sum);
  }
  set_limb(LIMBS, 25, 0);
  carry_floor(LIMBS, 0, 25); // now limbs < 2^21, a[25] small (product < 2^512)
  // a[25] holds bits >= 525, which are zero for inputs below 2^256; fold from 24 after
  // absorbing it (it is 0, kept for clarity of the bound).
  set_limb(LIMBS, 24, limb(LIMBS, 24) + (limb(LIMBS, 25) << LIMB_BITS));
  set_limb(LIMBS, 25, 0);
  reduce_limbs(out, LIMBS, 24);
}

/** 1 if the 32-byte little-endian s is < L (RFC 8032 §5.1.7 step 1: reject S >= L), else 0. Variable time (public input). */
export function sc_is_canonical_vartime(s: usize): bool {
  // Compare from the most significant byte down against L's encoding.
  for (let i = 31; i >= 0; i--) {
    const x = <u32>load<u8>(s + <usize>i);
    const y = <u32>load<u8>(L_BYTES + <usize>i);
    if (x < y) return true;
    if (x > y) return false;
  }
  return false; // s == L
}


// ---------------------------------------------------------------------------------------------
// Half-size decomposition of the verification challenge (variable time, public data only).
//
// Verification checks X = [S]B - [k]A - R = O. With integers u, v such that u = v k (mod 8L)
// and |u|, |v| about 2^128, [v]X = [v S mod L]B - [u]A - [v]R exactly, for any A and R of the
// full group (whose order divides 8L), and if v is odd (so gcd(v, 8L) = 1) [v]X = O iff X = O.
// The right-hand side needs only ~128 doublings instead of ~253. (Same idea as T. Pornin,
// "Optimized Lattice Basis Reduction In Dimension 2, and Fast Schnorr and EdDSA Signature
// Verification", 2020, but with modulus 8L so that torsion components are handled exactly.)
//
// (u, v) comes from the extended Euclidean algorithm on (8L, k), stopped at the first
// remainder below 2^128: each step keeps r_i = s_i k (mod 8L), and |s_i| <= 8L / r_(i-1).
// Integers are 4 little-endian u64 words (two's complement for the s_i, mod 2^256).

/** 8L, little-endian. */
const EIGHT_L: usize = memory.data<u8>([
  0x68, 0x9f, 0xae, 0xe7, 0xd2, 0x18, 0x93, 0xc0, 0xb2, 0xe6, 0xbc, 0x17, 0xf5, 0xce, 0xf7, 0xa6,
  0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x80,
]);
const LAT: usize = memory.data(7 * 32, 16);

/** Number of significant bits of the unsigned 256-bit a (4 little-endian u64 words). */
function mp_bitlen(a: usize): i32 {
  for (let i = 3; i >= 0; i--) {
    const w = load<u64>(a + (<usize>i << 3));
    if (w != 0) return (i << 6) + 64 - <i32>clz<u64>(w);
  }
  return 0;
}

/** out = -v (mod 2^256), i.e. |v| for a negative two's complement v; out may equal v. */
function mp_negate(out: usize, v: usize): void {
  // -v = ~v + 1, with the +1 carried through the words.
  let carry: u64 = 1;
  for (let i: usize = 0; i < 32; i += 8) {
    const w = ~load<u64>(v + i) + carry;
    carry = <u64>(w < carry);
    store<u64>(out + i, w);
  }
}

/**
 * One step of the extended Euclidean algorithm by binary long division, with all four numbers
 * in locals: r0 <- r0 mod r1 and s0 <- s0 - q s1 (mod 2^256), q = floor(r0 / r1); r1 > 0.
 */
function divide_step(r0p: usize, r1p: usize, s0p: usize, s1p: usize): void {
  let r0 = load<u64>(r0p), r1 = load<u64>(r0p, 8), r2 = load<u64>(r0p, 16), r3 = load<u64>(r0p, 24);
  const a0 = load<u64>(r1p), a1 = load<u64>(r1p, 8), a2 = load<u64>(r1p, 16), a3 = load<u64>(r1p, 24);
  let s0 = load<u64>(s0p), s1 = load<u64>(s0p, 8), s2 = load<u64>(s0p, 16), s3 = load<u64>(s0p, 24);
  const b0 = load<u64>(s1p), b1 = load<u64>(s1p, 8), b2 = load<u64>(s1p, 16), b3 = load<u64>(s1p, 24);
  const len1 = mp_bitlen(r1p);
  for (let sh = mp_bitlen(r0p) - len1; sh >= 0; sh--) {
    const q = sh >> 6;
    const bits = <u64>(sh & 63);
    // (a << bits) word by word; (x >> 1) >> (63 - bits) is x >> (64 - bits), and 0 when bits = 0
    const z0 = a0 << bits;
    const z1 = (a1 << bits) | ((a0 >> 1) >> (63 - bits));
    const z2 = (a2 << bits) | ((a1 >> 1) >> (63 - bits));
    const z3 = (a3 << bits) | ((a2 >> 1) >> (63 - bits));
    const t0 = q == 0 ? z0 : 0;
    const t1 = q == 0 ? z1 : q == 1 ? z0 : 0;
    const t2 = q == 0 ? z2 : q == 1 ? z1 : q == 2 ? z0 : 0;
    const t3 = q == 0 ? z3 : q == 1 ? z2 : q == 2 ? z1 : z0;
    // trial r - t with borrow
    const d0 = r0 - t0;
    let borrow = <u64>(r0 < t0);
    let y = r1 - t1;
    const d1 = y - borrow;
    borrow = <u64>(r1 < t1) | <u64>(y < borrow);
    y = r2 - t2;
    const d2 = y - borrow;
    borrow = <u64>(r2 < t2) | <u64>(y < borrow);
    y = r3 - t3;
    const d3 = y - borrow;
    borrow = <u64>(r3 < t3) | <u64>(y < borrow);
    if (borrow != 0) continue;
    r0 = d0; r1 = d1; r2 = d2; r3 = d3;
    // s -= b << sh (mod 2^256)
    const e0 = b0 << bits;
    const e1 = (b1 << bits) | ((b0 >> 1) >> (63 - bits));
    const e2 = (b2 << bits) | ((b1 >> 1) >> (63 - bits));
    const e3 = (b3 << bits) | ((b2 >> 1) >> (63 - bits));
    const u0 = q == 0 ? e0 : 0;
    const u1 = q == 0 ? e1 : q == 1 ? e0 : 0;
    const u2 = q == 0 ? e2 : q == 1 ? e1 : q == 2 ? e0 : 0;
    const u3 = q == 0 ? e3 : q == 1 ? e2 : q == 2 ? e1 : e0;
    const n0 = s0 - u0;
    borrow = <u64>(s0 < u0);
    y = s1 - u1;
    const n1 = y - borrow;
    borrow = <u64>(s1 < u1) | <u64>(y < borrow);
    y = s2 - u2;
    const n2 = y - borrow;
    borrow = <u64>(s2 < u2) | <u64>(y < borrow);
    s3 = s3 - u3 - borrow;
    s0 = n0; s1 = n1; s2 = n2;
  }
  store<u64>(r0p, r0); store<u64>(r0p, r1, 8); store<u64>(r0p, r2, 16); store<u64>(r0p, r3, 24);
  store<u64>(s0p, s0); store<u64>(s0p, s1, 8); store<u64>(s0p, s2, 16); store<u64>(s0p, s3, 24);
}

/** Replaces the two's complement v by |v|; returns 1 if v was >= 0, -1 if negative. */
function abs_in_place(v: usize): i32 {
  if ((load<u64>(v, 24) >> 63) == 0) return 1;
  mp_negate(v, v);
  return -1;
}

/** Bit length of |v| for the two's complement v. */
function abs_bitlen(v: usize): i32 {
  if ((load<u64>(v, 24) >> 63) == 0) return mp_bitlen(v);
  const t = LAT + 192;
  mp_negate(t, v);
  return mp_bitlen(t);
}

/**
 * From the 32-byte scalar k < L, writes u (32 bytes, u >= 0) to uOut and |v| to vOut with
 * u = v k (mod 8L) and v odd; returns 1 if v > 0, -1 if v < 0, or 0 if no pair with both
 * below 2^250 was found (then the caller must use the full-length computation).
 */
export function sc_half_size_vartime(uOut: usize, vOut: usize, k: usize): i32 {
  let r0 = LAT, r1 = LAT + 32, s0 = LAT + 64, s1 = LAT + 96;
  memory.copy(r0, EIGHT_L, 32);
  memory.copy(r1, k, 32);
  memory.fill(s0, 0, 32);
  memory.fill(s1, 0, 32);
  store<u8>(s1, 1);
  let len1 = mp_bitlen(r1);
  while (len1 > 128) {
    divide_step(r0, r1, s0, s1);
    let x = r0; r0 = r1; r1 = x;
    x = s0; s0 = s1; s1 = x;
    len1 = mp_bitlen(r1);
  }
  // v must be odd. Consecutive s_i are coprime, so if s1 is even, s0 is odd, and so is the next
  // s2 = s0 - q s1 (r2 = r0 mod r1 < 2^128, |s2| about 8L / r1). Take whichever of (r0, s0),
  // (r2, s2) is shorter; both are valid.
  let u = r1, v = s1;
  if ((load<u8>(s1) & 1) == 0) {
    const r2 = LAT + 128, s2 = LAT + 160;
    memory.copy(r2, r0, 32);
    memory.copy(s2, s0, 32);
    if (mp_bitlen(r1) > 0) divide_step(r2, r1, s2, s1);
    const len0 = max<i32>(mp_bitlen(r0), abs_bitlen(s0));
    const len2 = max<i32>(mp_bitlen(r2), abs_bitlen(s2));
    if (len2 <= len0) {
      u = r2; v = s2;
    } else {
      u = r0; v = s0;
    }
  }
  const sign = abs_in_place(v);
  if (mp_bitlen(u) > 250 || mp_bitlen(v) > 250) return 0;
  memory.copy(uOut, u, 32);
  memory.copy(vOut, v, 32);
  return sign;
}
