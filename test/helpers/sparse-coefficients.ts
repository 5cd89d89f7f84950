// The batch verifier's sparse coefficients (assembly/ed25519/sparse-coefficients.ts), drawn again
// in TypeScript from the description in README "Batch verification", step 4: the oracle of
// test/node/batch-sparse-coefficients.test.ts and of the MSM tests' preset terms
// (test/node/ed25519-torsion-batch.test.ts).
import { createHash } from "node:crypto";
import { L } from "./ed25519-oracles.js";

export const WIDTH = 4;
export const DIGITS = 17;
export const POSITIONS = 249;
export const FREE_DIGITS = DIGITS - 1;
export const SLOTS = POSITIONS - WIDTH - (WIDTH - 1) * (FREE_DIGITS - 1);

export interface SparseDraw {
  /** One signed digit per bit position. */
  digits: Int8Array;
  /** The digits' value, a signed integer with |z| < L/2. */
  integer: bigint;
  /** Its value mod L. */
  z: bigint;
  /** The highest non-zero digit's position. */
  top: number;
  /** Stream blocks read: 1 when the seed's own 64 bytes sufficed. */
  blocks: number;
}

/** The draw from a 64-byte seed. */
export function referenceDraw(seed: Uint8Array): SparseDraw {
  let block = Uint8Array.from(seed);
  let at = 0;
  let index = 0;
  const nextByte = (): number => {
    if (at === 64) {
      index++;
      const word = Buffer.alloc(4);
      word.writeUInt32LE(index);
      block = createHash("sha512").update("chio-batch-s/v1").update(seed).update(word).digest();
      at = 0;
    }
    return block[at++];
  };
  const uniformBelow = (bound: number): number => {
    const limit = 256 - (256 % bound);
    for (;;) {
      const b = nextByte();
      if (b < limit) return b % bound;
    }
  };
  // Floyd's algorithm: a uniform FREE_DIGITS-subset of [0, SLOTS).
  const chosen = new Set<number>();
  for (let j = SLOTS - FREE_DIGITS; j < SLOTS; j++) {
    const t = uniformBelow(j + 1);
    chosen.add(chosen.has(t) ? j : t);
  }
  const slots = [...chosen].sort((a, b) => a - b);
  const positions = [0, ...slots.map((s, j) => WIDTH + s + (WIDTH - 1) * j)];
  const digits = new Int8Array(256);
  let integer = 0n;
  for (const p of positions) {
    const b = nextByte();
    const magnitude = ((b >> 1) & 3) * 2 + 1;
    const digit = b & 1 ? -magnitude : magnitude;
    digits[p] = digit;
    integer += BigInt(digit) << BigInt(p);
  }
  return { digits, integer, z: ((integer % L) + L) % L, top: positions[positions.length - 1], blocks: index + 1 };
}

/** What the test build of the core exposes of a batch call's coefficients (assembly/testing.ts). */
export interface CoefficientHooks {
  readonly memory: WebAssembly.Memory;
  test_batch_coefficient(i: number): number;
}

/** The last batch call's coefficients z_i mod L of its first `count` items, as hex, as the core left them. */
export function batchCoefficientsHex(hooks: CoefficientHooks, count: number): string[] {
  return Array.from({ length: count }, (_, i) => {
    const at = hooks.test_batch_coefficient(i);
    return Buffer.from(new Uint8Array(hooks.memory.buffer, at, 32)).toString("hex");
  });
}
