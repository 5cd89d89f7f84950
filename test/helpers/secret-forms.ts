// The forms a secret takes inside the wasm core, computed independently in BigInt, so the memory
// suites can search linear memory for every one of them after a wipe: the clamped scalar and
// prefix of a seed (RFC 8032 §5.1.5), the 21-bit limbs the scalar arithmetic works on, and the
// signed digits of the base-point multiplication.
//
// Not a suite: uvu imports every file under test/, this one included; it registers no tests.
import { sha512 } from "@noble/hashes/sha2.js";
import { fromLE } from "./ed25519-oracles.js";

/** RFC 8032 §5.1.5: clamped scalar a and prefix of a seed. */
export function expandSeed(seed: Uint8Array): { scalar: Uint8Array; prefix: Uint8Array } {
  const h = sha512(seed);
  const scalar = h.slice(0, 32);
  scalar[0] &= 248;
  scalar[31] &= 127;
  scalar[31] |= 64;
  return { scalar, prefix: h.slice(32) };
}

/**
 * The 13 signed 21-bit limbs (i64 little-endian, 104 bytes) that assembly/curve25519/scalar.ts
 * load_limbs makes of a 32-byte scalar: limb i = bits 21i…21i+20, the last limb takes the rest.
 */
export function scalarLimbs(bytes: Uint8Array): Uint8Array {
  const n = fromLE(bytes);
  const out = new Uint8Array(13 * 8);
  const view = new DataView(out.buffer);
  for (let i = 0; i < 13; i++) {
    const limb = i < 12 ? (n >> BigInt(21 * i)) & 0x1fffffn : n >> BigInt(21 * i);
    view.setBigInt64(i * 8, limb, true);
  }
  return out;
}

/**
 * The 43 signed radix-2^6 digits (one i8 each) that assembly/curve25519/scalar_mul/fixed_base.ts
 * writes for a scalar a < 2^255: digit i in [-32, 32), sum of digit_i 64^i = a.
 */
export function fixedBaseDigits(bytes: Uint8Array): Uint8Array {
  let n = fromLE(bytes);
  const out = new Int8Array(43);
  for (let i = 0; i < 43; i++) {
    let d = Number(n & 63n);
    if (d >= 32 && i < 42) d -= 64;
    out[i] = d;
    n = (n - BigInt(d)) >> 6n;
  }
  return new Uint8Array(out.buffer);
}
