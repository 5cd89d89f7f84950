// SipHash-2-4 in BigInt arithmetic, written from the paper (Aumasson and Bernstein, "SipHash: a
// fast short-input PRF", INDOCRYPT 2012, §2): the tests' oracle for the core's siphash.ts and its
// key caches' positions. Itself checked against the reference vectors in test/node/siphash.test.ts.
//
// Not a suite: uvu imports every file under test/, this one included, but it registers no tests.

const MASK = (1n << 64n) - 1n;
const rotl = (x: bigint, b: bigint): bigint => ((x << b) | (x >> (64n - b))) & MASK;

/** The little-endian u64 of bytes[at, at + 8). */
function word(bytes: Uint8Array, at: number): bigint {
  let w = 0n;
  for (let i = 7; i >= 0; i--) w = (w << 8n) | BigInt(bytes[at + i]);
  return w;
}

/** SipHash-2-4 of `message` under the 16-byte `key` (k0 = its first 8 bytes, little-endian). */
export function siphash24Reference(key: Uint8Array, message: Uint8Array): bigint {
  const k0 = word(key, 0);
  const k1 = word(key, 8);
  const v = [k0 ^ 0x736f6d6570736575n, k1 ^ 0x646f72616e646f6dn, k0 ^ 0x6c7967656e657261n, k1 ^ 0x7465646279746573n];
  const sipRound = (): void => {
    v[0] = (v[0] + v[1]) & MASK; v[1] = rotl(v[1], 13n); v[1] ^= v[0]; v[0] = rotl(v[0], 32n);
    v[2] = (v[2] + v[3]) & MASK; v[3] = rotl(v[3], 16n); v[3] ^= v[2];
    v[0] = (v[0] + v[3]) & MASK; v[3] = rotl(v[3], 21n); v[3] ^= v[0];
    v[2] = (v[2] + v[1]) & MASK; v[1] = rotl(v[1], 17n); v[1] ^= v[2]; v[2] = rotl(v[2], 32n);
  };
  const compress = (m: bigint): void => {
    v[3] ^= m;
    sipRound();
    sipRound();
    v[0] ^= m;
  };
  const whole = message.length - (message.length % 8);
  for (let at = 0; at < whole; at += 8) compress(word(message, at));
  // The last word: the remaining bytes, and the length mod 256 in its top byte.
  let last = BigInt(message.length & 0xff) << 56n;
  for (let i = 0; i < message.length % 8; i++) last |= BigInt(message[whole + i]) << BigInt(8 * i);
  compress(last);
  v[2] ^= 0xffn;
  for (let r = 0; r < 4; r++) sipRound();
  return v[0] ^ v[1] ^ v[2] ^ v[3];
}
