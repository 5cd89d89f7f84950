// Shared by the number tests: a seeded random source and IEEE-754 bit access for doubles.
// Random inputs come from a seeded generator; set CHIO_TEST_SEED to replay a failing run.

/** The seed of this run (printed by the tests that use it). */
export const SEED = Number(process.env.CHIO_TEST_SEED ?? Date.now() % 2 ** 31) >>> 0;

/** xoshiro128** (Blackman & Vigna), seeded through splitmix32: fast, reproducible 32-bit words. */
export function makeRandom(seed: number): () => number {
  let z = seed >>> 0;
  const split = (): number => {
    z = (z + 0x9e3779b9) >>> 0;
    let t = z;
    t = Math.imul(t ^ (t >>> 16), 0x85ebca6b);
    t = Math.imul(t ^ (t >>> 13), 0xc2b2ae35);
    return (t ^ (t >>> 16)) >>> 0;
  };
  let a = split(), b = split(), c = split(), d = split();
  return () => {
    const result = Math.imul(((Math.imul(b, 5) << 7) | (Math.imul(b, 5) >>> 25)) >>> 0, 9) >>> 0;
    const t = b << 9;
    c ^= a; d ^= b; b ^= c; a ^= d; c ^= t;
    d = (d << 11) | (d >>> 21);
    return result;
  };
}

const f64 = new Float64Array(1);
const words = new Uint32Array(f64.buffer); // little-endian: words[0] low, words[1] high
const bits64 = new BigUint64Array(f64.buffer);

/** The double whose IEEE-754 bits are high:low (two 32-bit words). */
export function fromWords(high: number, low: number): number {
  words[0] = low;
  words[1] = high;
  return f64[0];
}

/** The double with the given 64 IEEE-754 bits. */
export function fromBits(bits: bigint): number {
  bits64[0] = bits;
  return f64[0];
}

/** The IEEE-754 bits of x. */
export function toBits(x: number): bigint {
  f64[0] = x;
  return bits64[0];
}
