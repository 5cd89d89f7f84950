// The four-lane exponentiations (assembly/curve25519/field_x4.ts) and the four-lane point decoding
// and torsion test built on them (group.ts ge_frombytes_x4_vartime, torsion.ts
// ge_affine_is_torsion_free_x4_vartime), through the test build's hooks: each lane must equal the
// scalar function limb for limb and byte for byte, for every lane count, and the exponentiations
// must equal BigInt's; the torsion verdicts must equal [L]P = O (@noble/curves points).
import { test } from "uvu";
import * as assert from "uvu/assert";
import { randomBytes, randomInt } from "node:crypto";
import { ed25519 as noble } from "@noble/curves/ed25519.js";
import { coreExports, heapU8, ioArenaBase } from "../helpers/test-core.js";
import { L, P, encodingsOf, fieldFromLimbs, fromLE, le, mulL, powModP, torsionPoints, type NPoint, randomScalar } from "../helpers/ed25519-oracles.js";
import { scaled } from "../helpers/scale.js";

interface LaneHooks {
  test_fe_pow_x4(mode: number): number;
  test_point_lanes_x4(count: number, compare: number): number;
}
const hooks = (): LaneHooks => coreExports() as unknown as LaneHooks;
const Point = noble.Point;
const WIDTHS = [26, 25, 26, 25, 26, 25, 26, 25, 26, 25];

/** Ten limbs of v (0 <= v < 2^255) in the 26/25-bit layout, each then moved by a signed borrow so that limbs take both signs. */
function limbsOf(v: bigint): number[] {
  const limbs: number[] = [];
  for (const w of WIDTHS) {
    limbs.push(Number(v & ((1n << BigInt(w)) - 1n)));
    v >>= BigInt(w);
  }
  for (let i = 0; i < 9; i++) {
    if (randomInt(2) === 1) {
      limbs[i] -= 2 ** WIDTHS[i];
      limbs[i + 1] += 1;
    }
  }
  return limbs;
}

/** Limbs at the bounds fe_sq accepts (|even| < 1.65 * 2^26, |odd| < 1.65 * 2^25), random signs. */
function extremeLimbs(): number[] {
  return WIDTHS.map((w) => (randomInt(2) === 1 ? -1 : 1) * (Math.floor(1.65 * 2 ** w) - randomInt(4)));
}

function runPow(mode: number, lanes: number[][]): { x4: number[][]; scalar: number[][] } {
  const io = ioArenaBase();
  const heap = (): Int32Array => new Int32Array(heapU8().buffer);
  lanes.forEach((limbs, k) => heap().set(limbs, io / 4 + 10 * k));
  assert.is(hooks().test_fe_pow_x4(mode), 0);
  const read = (at: number): number[][] => [0, 1, 2, 3].map((k) => Array.from(heap().subarray(at / 4 + 10 * k, at / 4 + 10 * k + 10)));
  return { x4: read(io + 160), scalar: read(io + 320) };
}

test("four-lane z^((p-5)/8) and z^(2^251 - 1): each lane equals the scalar chain limb for limb, and BigInt's power", () => {
  const exponents = [(P - 5n) / 8n, 2n ** 251n - 1n];
  const cases: number[][][] = [];
  for (let c = 0; c < scaled(60); c++) cases.push([0, 1, 2, 3].map(() => limbsOf(fromLE(randomBytes(32)) & (2n ** 255n - 1n))));
  for (let c = 0; c < scaled(20); c++) cases.push([0, 1, 2, 3].map(() => extremeLimbs()));
  cases.push([limbsOf(0n), limbsOf(1n), limbsOf(P - 1n), limbsOf(2n ** 255n - 1n)]);
  for (const lanes of cases) {
    for (const mode of [0, 1]) {
      const { x4, scalar } = runPow(mode, lanes);
      for (let k = 0; k < 4; k++) {
        assert.equal(x4[k], scalar[k], `mode ${mode} lane ${k}`);
        const z = ((fieldFromLimbs(lanes[k]) % P) + P) % P;
        assert.is(((fieldFromLimbs(x4[k]) % P) + P) % P, powModP(z, exponents[mode]), `mode ${mode} lane ${k} against BigInt`);
      }
    }
  }
});

/** Encodings of every kind: torsion-free points, points with each torsion component, small-order points, non-points, non-canonical encodings. */
function encodingPool(): { bytes: Uint8Array; torsionFree: boolean | undefined }[] {
  const pool: { bytes: Uint8Array; torsionFree: boolean | undefined }[] = [];
  const torsion = torsionPoints();
  for (let i = 0; i < scaled(24); i++) {
    const p: NPoint = Point.BASE.multiply(randomScalar());
    for (const t of [torsion[0], torsion[randomInt(1, 8)]]) {
      const q = p.add(t);
      pool.push({ bytes: q.toBytes(), torsionFree: mulL(q).is0() });
    }
  }
  for (const t of torsion) for (const bytes of encodingsOf(t)) pool.push({ bytes, torsionFree: t.is0() });
  // Random strings: about half decode (class from [L]P), the rest are not points.
  for (let i = 0; i < scaled(24); i++) {
    const bytes = new Uint8Array(randomBytes(32));
    let torsionFree: boolean | undefined;
    try {
      torsionFree = mulL(Point.fromBytes(bytes, true)).is0();
    } catch {
      torsionFree = undefined;
    }
    pool.push({ bytes, torsionFree });
  }
  // y >= p (non-canonical, decoded as y - p by this rule).
  pool.push({ bytes: le(P + 1n), torsionFree: undefined });
  return pool;
}

test("four-lane decoding and torsion test: for 1 to 4 lanes of every kind of encoding, each lane equals the scalar function's point and verdict, and [L]P = O", () => {
  const pool = encodingPool();
  const io = ioArenaBase();
  let laneRuns = 0, pendingMixes = 0;
  for (let round = 0; round < scaled(80); round++) {
    for (let count = 1; count <= 4; count++) {
      const picked = Array.from({ length: count }, () => pool[randomInt(pool.length)]);
      picked.forEach((e, k) => heapU8().set(e.bytes, io + 32 * k));
      heapU8().fill(0xa5, io + 128, io + 768 + 4 * 160); // both outputs, so that zeros below are written, not left
      const mask = hooks().test_point_lanes_x4(count, 1);
      assert.ok(mask >= 0, "memory");
      const decoded = mask & 15, scalarDecoded = (mask >> 4) & 15, free = (mask >> 8) & 15, scalarFree = (mask >> 12) & 15;
      assert.is(decoded, scalarDecoded, "decode masks");
      assert.is(free, scalarFree, "torsion masks");
      const heap = heapU8();
      let lane = 0;
      for (let k = 0; k < count; k++) {
        let decodes = true;
        try {
          Point.fromBytes(picked[k].bytes, true);
        } catch {
          decodes = false;
        }
        assert.is(((decoded >> k) & 1) === 1, decodes, `lane ${k} decodes as noble's zip215 rule says`);
        if (!decodes) {
          // No point: every coordinate zero (group.ts decode_end), in both decoders, never the
          // candidate x and y, which a caller that skipped the result could be led to accept.
          const zeros = new Uint8Array(160);
          assert.equal(heap.slice(io + 128 + 160 * k, io + 288 + 160 * k), zeros, `lane ${k}: four-lane output of a failed decoding`);
          assert.equal(heap.slice(io + 768 + 160 * k, io + 928 + 160 * k), zeros, `lane ${k}: scalar output of a failed decoding`);
          continue;
        }
        assert.equal(heap.slice(io + 128 + 160 * k, io + 288 + 160 * k), heap.slice(io + 768 + 160 * k, io + 928 + 160 * k), `lane ${k} point`);
        if (picked[k].torsionFree !== undefined) assert.is(((free >> lane) & 1) === 1, picked[k].torsionFree, `lane ${k} torsion verdict`);
        lane++;
      }
      laneRuns++;
      if (lane >= 3) pendingMixes++;
    }
  }
  assert.ok(pendingMixes > laneRuns / 8, `the four-lane chains ran (${pendingMixes} of ${laneRuns})`);
});

test.run();
