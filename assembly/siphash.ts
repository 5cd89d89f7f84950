// SipHash-2-4 (Aumasson and Bernstein, "SipHash: a fast short-input PRF", INDOCRYPT 2012): a
// keyed pseudorandom function of a short input, 64-bit output. Used for the positions of public
// keys in the core's key caches (ed25519/key-cache.ts key_index_hash), under a key chosen at
// random when the instance starts, so that nobody who does not know it can choose public keys
// that land on the same cache positions (before it, the positions were a fixed function of a
// key's first 8 bytes, which a sender chooses freely).
//
// The SipRound is written out at its two sites (compression, finalization) on locals: a shared
// round over module globals, tried, made the hash twice as slow (50 against 25 ns a call through
// the test hook), and every verification computes one.
//
// Variable time in the input's length only. Checked against the reference implementation's 64
// vectors (test/node/siphash.test.ts).

/** SipHash-2-4 of bytes [msg, msg + len) under the 128-bit key (k0, k1) (each read little-endian). */
export function siphash24(k0: u64, k1: u64, msg: usize, len: usize): u64 {
  // The initial state: the key XORed with "somepseudorandomlygeneratedbytes" (§2).
  let v0: u64 = k0 ^ 0x736f6d6570736575;
  let v1: u64 = k1 ^ 0x646f72616e646f6d;
  let v2: u64 = k0 ^ 0x6c7967656e657261;
  let v3: u64 = k1 ^ 0x7465646279746573;
  const whole = len & ~(<usize>7);
  // Compression: every 8-byte word, then the last word (the 0–7 remaining bytes, and the
  // length's low byte in its top byte), each with c = 2 SipRounds.
  for (let at: usize = 0; at <= whole; at += 8) {
    let m: u64;
    if (at < whole) {
      m = load<u64>(msg + at);
    } else {
      m = <u64>(len & 0xff) << 56;
      for (let i: usize = 0; i < (len & 7); i++) m |= <u64>load<u8>(msg + at + i) << (<u64>i << 3);
    }
    v3 ^= m;
    for (let round = 0; round < 2; round++) {
      v0 += v1; v1 = rotl<u64>(v1, 13); v1 ^= v0; v0 = rotl<u64>(v0, 32);
      v2 += v3; v3 = rotl<u64>(v3, 16); v3 ^= v2;
      v0 += v3; v3 = rotl<u64>(v3, 21); v3 ^= v0;
      v2 += v1; v1 = rotl<u64>(v1, 17); v1 ^= v2; v2 = rotl<u64>(v2, 32);
    }
    v0 ^= m;
  }
  // Finalization: d = 4 SipRounds.
  v2 ^= 0xff;
  for (let round = 0; round < 4; round++) {
    v0 += v1; v1 = rotl<u64>(v1, 13); v1 ^= v0; v0 = rotl<u64>(v0, 32);
    v2 += v3; v3 = rotl<u64>(v3, 16); v3 ^= v2;
    v0 += v3; v3 = rotl<u64>(v3, 21); v3 ^= v0;
    v2 += v1; v1 = rotl<u64>(v1, 17); v1 ^= v2; v2 = rotl<u64>(v2, 32);
  }
  return v0 ^ v1 ^ v2 ^ v3;
}
