import { ed25519 as noble } from "@noble/curves/ed25519.js";
import { randomBytes } from "node:crypto";
import { coreExports, heapU8, ioArenaBase, reserveIo } from "../test/helpers/test-core.js";
const x = coreExports() as any;
function time(fn: () => void): number {
  const runs: number[] = [];
  for (let r = 0; r < 7; r++) { const t0 = performance.now(); let c = 0; while (performance.now() - t0 < 300) { fn(); c++; } runs.push(((performance.now() - t0) * 1000) / c); }
  return runs.sort((a, b) => a - b)[3];
}
function setup(points: number, bits: (t: number) => number, bBits: number) {
  reserveIo(points * 64 + 32);
  const heap = heapU8(); const base = ioArenaBase();
  for (let t = 0; t < points; t++) {
    heap.set(noble.Point.BASE.multiply(BigInt(t + 2) * 7919n).toBytes(), base + 32 * t);
    const s = new Uint8Array(randomBytes(32)); s[31] &= 0x0f;
    const nb = bits(t); for (let i = 0; i < 256; i++) if (i >= nb) s[i >> 3] &= ~(1 << (i & 7));
    heap.set(s, base + 32 * points + 32 * t);
  }
  const b = new Uint8Array(randomBytes(32)); b[31] &= 0x0f; for (let i = 0; i < 256; i++) if (i >= bBits) b[i >> 3] &= ~(1 << (i & 7));
  heap.set(b, base + 64 * points);
  x.test_msm(points, 0);
  return time(() => x.test_msm(points, 4));
}
const n = 64;
const full = setup(128, (t) => (t < n ? 128 : 252), 252);
const zeroTerms = setup(128, () => 0, 252);
const onlyB = setup(1, () => 0, 252);
const halfOnly = setup(128, (t) => (t < n ? 128 : 0), 252);
console.log({ full, zeroTerms, onlyB, halfOnly, perItem: full / n });
