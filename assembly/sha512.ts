// SHA-512 (FIPS 180-4 §6.4), streaming over linear memory, for Ed25519 (RFC 8032 §5.1 uses
// SHA-512 for key expansion, the nonce and the challenge).
//
// One context lives in a fixed static block (no allocation): sha512_init, any number of
// sha512_update(ptr, len), then sha512_final(out). The context can hold secret data (the
// signing key expansion and the nonce prefix), so signing wipes it with sha512_wipe().
// Straight-line code with no data-dependent branches or indices: constant time in the data.
// (Values held in wasm locals may be spilled to the native stack by the engine; only linear
// memory can be wiped from here.)
import { ARGS, ARG_DIGEST, ioBase } from "./memory";

/** Round constants: first 64 bits of the fractional parts of the cube roots of the first 80 primes (FIPS 180-4 §4.2.3). */
const K: usize = memory.data<u64>([
  0x428a2f98d728ae22, 0x7137449123ef65cd, 0xb5c0fbcfec4d3b2f, 0xe9b5dba58189dbbc,
  0x3956c25bf348b538, 0x59f111f1b605d019, 0x923f82a4af194f9b, 0xab1c5ed5da6d8118,
  0xd807aa98a3030242, 0x12835b0145706fbe, 0x243185be4ee4b28c, 0x550c7dc3d5ffb4e2,
  0x72be5d74f27b896f, 0x80deb1fe3b1696b1, 0x9bdc06a725c71235, 0xc19bf174cf692694,
  0xe49b69c19ef14ad2, 0xefbe4786384f25e3, 0x0fc19dc68b8cd5b5, 0x240ca1cc77ac9c65,
  0x2de92c6f592b0275, 0x4a7484aa6ea6e483, 0x5cb0a9dcbd41fbd4, 0x76f988da831153b5,
  0x983e5152ee66dfab, 0xa831c66d2db43210, 0xb00327c898fb213f, 0xbf597fc7beef0ee4,
  0xc6e00bf33da88fc2, 0xd5a79147930aa725, 0x06ca6351e003826f, 0x142929670a0e6e70,
  0x27b70a8546d22ffc, 0x2e1b21385c26c926, 0x4d2c6dfc5ac42aed, 0x53380d139d95b3df,
  0x650a73548baf63de, 0x766a0abb3c77b2a8, 0x81c2c92e47edaee6, 0x92722c851482353b,
  0xa2bfe8a14cf10364, 0xa81a664bbc423001, 0xc24b8b70d0f89791, 0xc76c51a30654be30,
  0xd192e819d6ef5218, 0xd69906245565a910, 0xf40e35855771202a, 0x106aa07032bbd1b8,
  0x19a4c116b8d2d0c8, 0x1e376c085141ab53, 0x2748774cdf8eeb99, 0x34b0bcb5e19b48a8,
  0x391c0cb3c5c95a63, 0x4ed8aa4ae3418acb, 0x5b9cca4f7763e373, 0x682e6ff3d6b2b8a3,
  0x748f82ee5defb2fc, 0x78a5636f43172f60, 0x84c87814a1f0ab72, 0x8cc702081a6439ec,
  0x90befffa23631e28, 0xa4506cebde82bde9, 0xbef9a3f7b2c67915, 0xc67178f2e372532b,
  0xca273eceea26619c, 0xd186b8c721c0c207, 0xeada7dd6cde0eb1e, 0xf57d4f7fee6ed178,
  0x06f067aa72176fba, 0x0a637dc5a2c898a6, 0x113f9804bef90dae, 0x1b710b35131c471b,
  0x28db77f523047d84, 0x32caab7b40c72493, 0x3c9ebe0a15c9bebc, 0x431d67c49c100d4c,
  0x4cc5d4becb3e42b6, 0x597f299cfc657e2a, 0x5fcb6fab3ad6faec, 0x6c44198c4a475817,
]);

/** Initial hash value: first 64 bits of the fractional parts of the square roots of the first 8 primes (FIPS 180-4 §5.3.5). */
const IV: usize = memory.data<u64>([
  0x6a09e667f3bcc908, 0xbb67ae8584caa73b, 0x3c6ef372fe94f82b, 0xa54ff53a5f1d36f1,
  0x510e527fade682d1, 0x9b05688c2b3e6c1f, 0x1f83d9abfb41bd6b, 0x5be0cd19137e2179,
]);

// Context layout: H[8] (64 bytes) | block buffer (128) | total length in bytes (u64) | buffered bytes (u32).
const CTX: usize = memory.data(64 + 128 + 16, 16);
const CTX_H: usize = CTX;
const CTX_BUF: usize = CTX + 64;
const CTX_TOTAL: usize = CTX + 192;
const CTX_FILL: usize = CTX + 200;
const CTX_BYTES: usize = 208;

/** Starts a new hash. */
export function sha512_init(): void {
  memory.copy(CTX_H, IV, 64);
  store<u64>(CTX_TOTAL, 0);
  store<u32>(CTX_FILL, 0);
}

// @ts-ignore: decorator
@inline function big_sigma0(x: u64): u64 { return rotr<u64>(x, 28) ^ rotr<u64>(x, 34) ^ rotr<u64>(x, 39); }
// @ts-ignore: decorator
@inline function big_sigma1(x: u64): u64 { return rotr<u64>(x, 14) ^ rotr<u64>(x, 18) ^ rotr<u64>(x, 41); }
// @ts-ignore: decorator
@inline function small_sigma0(x: u64): u64 { return rotr<u64>(x, 1) ^ rotr<u64>(x, 8) ^ (x >> 7); }
// @ts-ignore: decorator
@inline function small_sigma1(x: u64): u64 { return rotr<u64>(x, 19) ^ rotr<u64>(x, 61) ^ (x >> 6); }

/**
 * Processes one 128-byte block at p (FIPS 180-4 §6.4.2). The 16-word message schedule lives in
 * locals and is extended in place (W[t] = sigma1(W[t-2]) + W[t-7] + sigma0(W[t-15]) + W[t-16],
 * indices mod 16); the eight working variables rotate by renaming, 16 rounds per iteration.
 */
function compress(p: usize): void {
  let w0 = bswap<u64>(load<u64>(p, 0));
  let w1 = bswap<u64>(load<u64>(p, 8));
  let w2 = bswap<u64>(load<u64>(p, 16));
  let w3 = bswap<u64>(load<u64>(p, 24));
  let w4 = bswap<u64>(load<u64>(p, 32));
  let w5 = bswap<u64>(load<u64>(p, 40));
  let w6 = bswap<u64>(load<u64>(p, 48));
  let w7 = bswap<u64>(load<u64>(p, 56));
  let w8 = bswap<u64>(load<u64>(p, 64));
  let w9 = bswap<u64>(load<u64>(p, 72));
  let w10 = bswap<u64>(load<u64>(p, 80));
  let w11 = bswap<u64>(load<u64>(p, 88));
  let w12 = bswap<u64>(load<u64>(p, 96));
  let w13 = bswap<u64>(load<u64>(p, 104));
  let w14 = bswap<u64>(load<u64>(p, 112));
  let w15 = bswap<u64>(load<u64>(p, 120));
  let a = load<u64>(CTX_H), b = load<u64>(CTX_H, 8), c = load<u64>(CTX_H, 16), d = load<u64>(CTX_H, 24);
  let e = load<u64>(CTX_H, 32), f = load<u64>(CTX_H, 40), g = load<u64>(CTX_H, 48), h = load<u64>(CTX_H, 56);
  {
    h += big_sigma1(e) + ((e & f) ^ (~e & g)) + load<u64>(K, 0) + w0;
    d += h; h += big_sigma0(a) + ((a & b) ^ (a & c) ^ (b & c));
    g += big_sigma1(d) + ((d & e) ^ (~d & f)) + load<u64>(K, 8) + w1;
    c += g; g += big_sigma0(h) + ((h & a) ^ (h & b) ^ (a & b));
    f += big_sigma1(c) + ((c & d) ^ (~c & e)) + load<u64>(K, 16) + w2;
    b += f; f += big_sigma0(g) + ((g & h) ^ (g & a) ^ (h & a));
    e += big_sigma1(b) + ((b & c) ^ (~b & d)) + load<u64>(K, 24) + w3;
    a += e; e += big_sigma0(f) + ((f & g) ^ (f & h) ^ (g & h));
    d += big_sigma1(a) + ((a & b) ^ (~a & c)) + load<u64>(K, 32) + w4;
    h += d; d += big_sigma0(e) + ((e & f) ^ (e & g) ^ (f & g));
    c += big_sigma1(h) + ((h & a) ^ (~h & b)) + load<u64>(K, 40) + w5;
    g += c; c += big_sigma0(d) + ((d & e) ^ (d & f) ^ (e & f));
    b += big_sigma1(g) + ((g & h) ^ (~g & a)) + load<u64>(K, 48) + w6;
    f += b; b += big_sigma0(c) + ((c & d) ^ (c & e) ^ (d & e));
    a += big_sigma1(f) + ((f & g) ^ (~f & h)) + load<u64>(K, 56) + w7;
    e += a; a += big_sigma0(b) + ((b & c) ^ (b & d) ^ (c & d));
    h += big_sigma1(e) + ((e & f) ^ (~e & g)) + load<u64>(K, 64) + w8;
    d += h; h += big_sigma0(a) + ((a & b) ^ (a & c) ^ (b & c));
    g += big_sigma1(d) + ((d & e) ^ (~d & f)) + load<u64>(K, 72) + w9;
    c += g; g += big_sigma0(h) + ((h & a) ^ (h & b) ^ (a & b));
    f += big_sigma1(c) + ((c & d) ^ (~c & e)) + load<u64>(K, 80) + w10;
    b += f; f += big_sigma0(g) + ((g & h) ^ (g & a) ^ (h & a));
    e += big_sigma1(b) + ((b & c) ^ (~b & d)) + load<u64>(K, 88) + w11;
    a += e; e += big_sigma0(f) + ((f & g) ^ (f & h) ^ (g & h));
    d += big_sigma1(a) + ((a & b) ^ (~a & c)) + load<u64>(K, 96) + w12;
    h += d; d += big_sigma0(e) + ((e & f) ^ (e & g) ^ (f & g));
    c += big_sigma1(h) + ((h & a) ^ (~h & b)) + load<u64>(K, 104) + w13;
    g += c; c += big_sigma0(d) + ((d & e) ^ (d & f) ^ (e & f));
    b += big_sigma1(g) + ((g & h) ^ (~g & a)) + load<u64>(K, 112) + w14;
    f += b; b += big_sigma0(c) + ((c & d) ^ (c & e) ^ (d & e));
    a += big_sigma1(f) + ((f & g) ^ (~f & h)) + load<u64>(K, 120) + w15;
    e += a; a += big_sigma0(b) + ((b & c) ^ (b & d) ^ (c & d));
  }
  for (let kk = K + 128; kk < K + 640; kk += 128) {
    w0 += small_sigma1(w14) + w9 + small_sigma0(w1);
    h += big_sigma1(e) + ((e & f) ^ (~e & g)) + load<u64>(kk, 0) + w0;
    d += h; h += big_sigma0(a) + ((a & b) ^ (a & c) ^ (b & c));
    w1 += small_sigma1(w15) + w10 + small_sigma0(w2);
    g += big_sigma1(d) + ((d & e) ^ (~d & f)) + load<u64>(kk, 8) + w1;
    c += g; g += big_sigma0(h) + ((h & a) ^ (h & b) ^ (a & b));
    w2 += small_sigma1(w0) + w11 + small_sigma0(w3);
    f += big_sigma1(c) + ((c & d) ^ (~c & e)) + load<u64>(kk, 16) + w2;
    b += f; f += big_sigma0(g) + ((g & h) ^ (g & a) ^ (h & a));
    w3 += small_sigma1(w1) + w12 + small_sigma0(w4);
    e += big_sigma1(b) + ((b & c) ^ (~b & d)) + load<u64>(kk, 24) + w3;
    a += e; e += big_sigma0(f) + ((f & g) ^ (f & h) ^ (g & h));
    w4 += small_sigma1(w2) + w13 + small_sigma0(w5);
    d += big_sigma1(a) + ((a & b) ^ (~a & c)) + load<u64>(kk, 32) + w4;
    h += d; d += big_sigma0(e) + ((e & f) ^ (e & g) ^ (f & g));
    w5 += small_sigma1(w3) + w14 + small_sigma0(w6);
    c += big_sigma1(h) + ((h & a) ^ (~h & b)) + load<u64>(kk, 40) + w5;
    g += c; c += big_sigma0(d) + ((d & e) ^ (d & f) ^ (e & f));
    w6 += small_sigma1(w4) + w15 + small_sigma0(w7);
    b += big_sigma1(g) + ((g & h) ^ (~g & a)) + load<u64>(kk, 48) + w6;
    f += b; b += big_sigma0(c) + ((c & d) ^ (c & e) ^ (d & e));
    w7 += small_sigma1(w5) + w0 + small_sigma0(w8);
    a += big_sigma1(f) + ((f & g) ^ (~f & h)) + load<u64>(kk, 56) + w7;
    e += a; a += big_sigma0(b) + ((b & c) ^ (b & d) ^ (c & d));
    w8 += small_sigma1(w6) + w1 + small_sigma0(w9);
    h += big_sigma1(e) + ((e & f) ^ (~e & g)) + load<u64>(kk, 64) + w8;
    d += h; h += big_sigma0(a) + ((a & b) ^ (a & c) ^ (b & c));
    w9 += small_sigma1(w7) + w2 + small_sigma0(w10);
    g += big_sigma1(d) + ((d & e) ^ (~d & f)) + load<u64>(kk, 72) + w9;
    c += g; g += big_sigma0(h) + ((h & a) ^ (h & b) ^ (a & b));
    w10 += small_sigma1(w8) + w3 + small_sigma0(w11);
    f += big_sigma1(c) + ((c & d) ^ (~c & e)) + load<u64>(kk, 80) + w10;
    b += f; f += big_sigma0(g) + ((g & h) ^ (g & a) ^ (h & a));
    w11 += small_sigma1(w9) + w4 + small_sigma0(w12);
    e += big_sigma1(b) + ((b & c) ^ (~b & d)) + load<u64>(kk, 88) + w11;
    a += e; e += big_sigma0(f) + ((f & g) ^ (f & h) ^ (g & h));
    w12 += small_sigma1(w10) + w5 + small_sigma0(w13);
    d += big_sigma1(a) + ((a & b) ^ (~a & c)) + load<u64>(kk, 96) + w12;
    h += d; d += big_sigma0(e) + ((e & f) ^ (e & g) ^ (f & g));
    w13 += small_sigma1(w11) + w6 + small_sigma0(w14);
    c += big_sigma1(h) + ((h & a) ^ (~h & b)) + load<u64>(kk, 104) + w13;
    g += c; c += big_sigma0(d) + ((d & e) ^ (d & f) ^ (e & f));
    w14 += small_sigma1(w12) + w7 + small_sigma0(w15);
    b += big_sigma1(g) + ((g & h) ^ (~g & a)) + load<u64>(kk, 112) + w14;
    f += b; b += big_sigma0(c) + ((c & d) ^ (c & e) ^ (d & e));
    w15 += small_sigma1(w13) + w8 + small_sigma0(w0);
    a += big_sigma1(f) + ((f & g) ^ (~f & h)) + load<u64>(kk, 120) + w15;
    e += a; a += big_sigma0(b) + ((b & c) ^ (b & d) ^ (c & d));
  }
  store<u64>(CTX_H, load<u64>(CTX_H) + a);
  store<u64>(CTX_H, load<u64>(CTX_H, 8) + b, 8);
  store<u64>(CTX_H, load<u64>(CTX_H, 16) + c, 16);
  store<u64>(CTX_H, load<u64>(CTX_H, 24) + d, 24);
  store<u64>(CTX_H, load<u64>(CTX_H, 32) + e, 32);
  store<u64>(CTX_H, load<u64>(CTX_H, 40) + f, 40);
  store<u64>(CTX_H, load<u64>(CTX_H, 48) + g, 48);
  store<u64>(CTX_H, load<u64>(CTX_H, 56) + h, 56);
}

/** Absorbs len bytes at p. */
export function sha512_update(p: usize, len: usize): void {
  store<u64>(CTX_TOTAL, load<u64>(CTX_TOTAL) + <u64>len);
  let fill = <usize>load<u32>(CTX_FILL);
  if (fill > 0) {
    const take = min<usize>(128 - fill, len);
    memory.copy(CTX_BUF + fill, p, take);
    fill += take;
    p += take;
    len -= take;
    if (fill < 128) {
      store<u32>(CTX_FILL, <u32>fill);
      return;
    }
    compress(CTX_BUF);
    fill = 0;
  }
  while (len >= 128) {
    compress(p);
    p += 128;
    len -= 128;
  }
  if (len > 0) memory.copy(CTX_BUF, p, len);
  store<u32>(CTX_FILL, <u32>len);
}

/** Pads (FIPS 180-4 §5.1.2), writes the 64-byte digest to out. The context must be re-initialised before reuse. */
export function sha512_final(out: usize): void {
  let fill = <usize>load<u32>(CTX_FILL);
  const bitLength = load<u64>(CTX_TOTAL) << 3; // messages are below 2^61 bytes here
  store<u8>(CTX_BUF + fill, 0x80);
  fill++;
  if (fill > 112) {
    memory.fill(CTX_BUF + fill, 0, 128 - fill);
    compress(CTX_BUF);
    fill = 0;
  }
  memory.fill(CTX_BUF + fill, 0, 120 - fill); // includes the high 64 bits of the 128-bit length
  store<u64>(CTX_BUF + 120, bswap<u64>(bitLength));
  compress(CTX_BUF);
  for (let i: usize = 0; i < 64; i += 8) store<u64>(out + i, bswap<u64>(load<u64>(CTX_H + i)));
}

/** Zeroes the context (the message schedule lives in locals only). */
export function sha512_wipe(): void {
  memory.fill(CTX, 0, CTX_BYTES);
}

/** Hashes len bytes at p into out (one-shot). */
export function sha512_oneshot(out: usize, p: usize, len: usize): void {
  sha512_init();
  sha512_update(p, len);
  sha512_final(out);
}

/** Wasm export for tests: SHA-512 of len bytes at ioBase(), digest to ARGS + ARG_DIGEST. */
export function sha512(len: u32): void {
  sha512_oneshot(ARGS + ARG_DIGEST, ioBase(), <usize>len);
}
