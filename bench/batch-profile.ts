// Where the time of a batch verification goes, per signature: the steps of
// assembly/ed25519/batch.ts timed one by one through the test build's hooks
// (build/chio.test.wasm; run `node scripts/build-wasm.mjs` first), against one single verify
// with a cold key. `node --import tsx bench/batch-profile.ts`. Figures are µs per call, median
// of 7 runs of 300 ms; on a shared machine read them as ratios to the single verify.
import { ed25519 as noble } from "@noble/curves/ed25519.js";
import { randomBytes } from "node:crypto";
import { argsBase, coreExports, heapU8, ioArenaBase, reserveIo } from "../test/helpers/test-core.js";
import { ARG_PUBLIC_KEY, ARG_RESULT, ARG_SIGNATURE, TEST_HOOK_INPUT } from "../src/wasm/abi.js";

interface ProfileHooks {
  ed25519_verify(len: number, mode: number): number;
  ge_is_torsion_free_vartime(): number;
  test_point_lanes_x4(count: number, compare: number): number;
  test_point_decode_x4(count: number): number;
  test_fe_pow22523(): void;
  test_fe_legendre(): number;
  test_msm(n: number, method: number): number;
  sha512(len: number): void;
}
const x = coreExports() as unknown as ProfileHooks;

function time(fn: () => void): number {
  const runs: number[] = [];
  for (let r = 0; r < 7; r++) {
    const t0 = performance.now();
    let calls = 0;
    while (performance.now() - t0 < 300) {
      fn();
      calls++;
    }
    runs.push(((performance.now() - t0) * 1000) / calls);
  }
  return runs.sort((a, b) => a - b)[3];
}

const keys = Array.from({ length: 64 }, () => noble.utils.randomSecretKey());
const message = new Uint8Array(169).fill(0x61);
const signed = keys.map((sk) => ({ pk: noble.getPublicKey(sk), sig: noble.sign(message, sk) }));
let j = 0;
const single = time(() => {
  const s = signed[j++ & 63]; // 64 keys in rotation: beyond the 16-entry key cache
  reserveIo(169);
  heapU8().set(message, ioArenaBase());
  heapU8().set(s.pk, argsBase() + ARG_PUBLIC_KEY);
  heapU8().set(s.sig, argsBase() + ARG_SIGNATURE);
  x.ed25519_verify(169, 0);
});
const input = argsBase() + ARG_RESULT + TEST_HOOK_INPUT;
heapU8().set(randomBytes(32), input);
const exponentiation = time(() => x.test_fe_pow22523());
// The Jacobi symbol of the torsion test (two per signature in the exact batch verifier), on
// random field elements; the hook's fe_frombytes + fe_tobytes are included.
const jacobiInputs = Array.from({ length: 64 }, () => randomBytes(32));
let ji = 0;
const jacobi = time(() => {
  heapU8().set(jacobiInputs[ji++ & 63], input);
  x.test_fe_legendre();
});
heapU8().set(signed[0].pk, input);
const decodeAndTorsion = time(() => x.ge_is_torsion_free_vartime());
// The batch decodes and tests its points four at a time (field_x4.ts): per point.
reserveIo(1600);
for (let k = 0; k < 4; k++) heapU8().set(signed[k].pk, ioArenaBase() + 32 * k);
if (x.test_point_lanes_x4(4, 0) !== 0xf0f) throw new Error("four keys that decode, torsion-free");
const decodeAndTorsionX4 = time(() => x.test_point_lanes_x4(4, 0)) / 4;
if (x.test_point_decode_x4(4) !== 0xf) throw new Error("four keys that decode");
const decodeX4 = time(() => x.test_point_decode_x4(4)) / 4;
reserveIo(233);
const sha = time(() => x.sha512(169 + 64));

function msmPerItem(n: number, oneKey: boolean): number {
  const points = oneKey ? n + 1 : 2 * n;
  reserveIo(points * 64 + 32);
  const heap = heapU8();
  const base = ioArenaBase();
  for (let t = 0; t < points; t++) {
    heap.set(noble.Point.BASE.multiply(BigInt(t + 2) * 7919n).toBytes(), base + 32 * t);
    const scalar = new Uint8Array(randomBytes(32));
    if (t < n && points > 192) scalar.fill(0, 16); // z_i under Pippenger: 128 bits
    else scalar[31] &= 0x0f; // merged key coefficients: ~252 bits; under Straus the seeds of the sparse z_i
    heap.set(scalar, base + 32 * points + 32 * t);
  }
  const b = new Uint8Array(randomBytes(32));
  b[31] &= 0x0f;
  heap.set(b, base + 64 * points);
  // Under Straus the n R terms take sparse coefficients (32, their count in bits 16 and up), as the batch's do.
  const method = points > 192 ? 1 : 32 | (n << 16);
  x.test_msm(points, method); //                        decodes the points once
  return time(() => x.test_msm(points, method | 4)) / n; //   then the MSM alone (REUSE_POINTS)
}

const rows: Array<[string, number]> = [
  ["single verify, cold key (reference)", single],
  ["one field exponentiation (z^((p-5)/8))", exponentiation],
  ["Jacobi symbol (a / p) (one per torsion test)", jacobi],
  ["decode + torsion test, one point", decodeAndTorsion],
  ["decode + torsion test, four side by side (per point: per R, per tested key)", decodeAndTorsionX4],
  ["decode alone, four side by side (per key new to the call under one item)", decodeX4],
  ["SHA-512 of R || A || 169-byte message", sha],
];
for (const n of [16, 64, 256]) {
  rows.push([`MSM share, ${n} distinct keys`, msmPerItem(n, false)]);
  rows.push([`MSM share, ${n} under one key`, msmPerItem(n, true)]);
}
for (const [name, micros] of rows) console.log(`${name.padEnd(75)} ${micros.toFixed(2).padStart(8)} µs  ${(micros / single).toFixed(2)}× single`);
