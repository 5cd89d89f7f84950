// Prepared public keys (ed25519.preparePublicKey, assembly/ed25519/prepared-public.ts): the
// verdicts are those of verify() with the key bytes, of node:crypto (default rule) and of
// @noble/curves with zip215, for random keys and for every kind of edge key (small-order,
// mixed-order, non-canonical encodings); the slab stays within its configured bytes; freed,
// evicted, corrupted slots and a rebuilt instance all lead to re-preparation, never to another
// verdict; the torsion flag computed at preparation equals [L]A == O (BigInt model).
//
// The suite runs the library on the test build (same code plus hooks: slot addresses, a trap).
import { test } from "uvu";
import * as assert from "uvu/assert";
import { createHash } from "node:crypto";
import { ed25519 as noble } from "@noble/curves/ed25519.js";
import { sha512 } from "@noble/hashes/sha2.js";
import { ed25519, PreparedPublicKey } from "../../src/ed25519.js";
import { InvalidPublicKeyError, InvalidTypeError, WasmCoreError } from "../../src/errors.js";
import { coreExports, guarded, heapU8, initSync, resetInstance } from "../../src/wasm/instance.js";
import { CHIO_WASM_BASE64 } from "../../src/generated/chio-wasm.js";
import { testModule } from "../helpers/test-core.js";
import {
  L, concat, encodingsOf, fromLE, le, mulL, nobleZip215, nodeAccepts, torsionPoints, type NPoint,
} from "../helpers/ed25519-oracles.js";
import { scaled } from "../helpers/scale.js";

interface PreparedHooks {
  readonly memory: WebAssembly.Memory;
  test_prepared_used(): number;
  test_prepared_body(slot: number): number;
  test_prepared_torsion_free(slot: number): number;
  test_trap(): void;
}
const hooks = (): PreparedHooks => coreExports() as unknown as PreparedHooks;

const Point = noble.Point;
const G = Point.BASE;
const digest = (...parts: (string | number)[]): Uint8Array => new Uint8Array(createHash("sha512").update(parts.join("/")).digest());
const scalarOf = (...parts: (string | number)[]): bigint => fromLE(digest(...parts)) % L;
const enc = (p: NPoint): Uint8Array => p.toBytes();
const hramOf = (R: Uint8Array, A: Uint8Array, M: Uint8Array): bigint => fromLE(sha512(concat(R, A, M))) % L;
const torsion = torsionPoints();

/** A signature under the key bytes A (whatever point they encode) made with the secret scalar a of its [a]B part. */
function signWithScalar(a: bigint, A: Uint8Array, M: Uint8Array, nonce: bigint): Uint8Array {
  const R = enc(G.multiply(nonce));
  const S = (nonce + hramOf(R, A, M) * a) % L;
  return concat(R, le(S));
}

/** Every verdict for (sig, msg, key): prepared and bytes in both modes, against node:crypto and noble zip215. */
function checkAll(sig: Uint8Array, msg: Uint8Array, keyBytes: Uint8Array, prepared: PreparedPublicKey, what: string): boolean {
  const expectDefault = nodeAccepts(sig, msg, keyBytes);
  const expectZip = nobleZip215(sig, msg, keyBytes);
  assert.is(ed25519.verify(sig, msg, prepared), expectDefault, `${what}: prepared, default rule`);
  assert.is(ed25519.verify(sig, msg, keyBytes), expectDefault, `${what}: bytes, default rule`);
  assert.is(ed25519.verify(sig, msg, prepared, { zip215: true }), expectZip, `${what}: prepared, zip215`);
  assert.is(ed25519.verify(sig, msg, keyBytes, { zip215: true }), expectZip, `${what}: bytes, zip215`);
  return expectDefault || expectZip;
}

test.before(() => {
  resetInstance();
  initSync(testModule());
  ed25519.configurePreparedKeys({ maxBytes: ed25519.preparedKeysLayout().maxBytes });
});

test.after(() => {
  ed25519.configurePreparedKeys({ maxBytes: 512 * 1024 });
  resetInstance();
  initSync(new WebAssembly.Module(Buffer.from(CHIO_WASM_BASE64, "base64")));
});

test("random keys: prepared = bytes = node:crypto / noble zip215, valid and tampered signatures", () => {
  let accepted = 0;
  for (let i = 0; i < scaled(24); i++) {
    const seed = digest("seed", i).slice(0, 32);
    const pk = ed25519.getPublicKey(seed);
    const prepared = ed25519.preparePublicKey(pk);
    const msg = digest("msg", i).slice(0, i % 64);
    const sig = ed25519.sign(msg, seed);
    if (checkAll(sig, msg, pk, prepared, `key ${i}`)) accepted++;
    const bad = sig.slice();
    bad[i % 64] ^= 1 << (i % 8);
    checkAll(bad, msg, pk, prepared, `key ${i} tampered`);
    const other = msg.length > 0 ? msg.slice(1) : new Uint8Array([1]);
    checkAll(sig, other, pk, prepared, `key ${i} other message`);
    // S + L (not canonical): rejected by every rule.
    const sPlusL = concat(sig.slice(0, 32), le(fromLE(sig.slice(32)) + L));
    assert.is(ed25519.verify(sPlusL, msg, prepared), false);
    assert.is(ed25519.verify(sPlusL, msg, prepared, { zip215: true }), false);
  }
  assert.is(accepted, scaled(24), "every untampered signature verified");
});

test("edge keys: small-order, mixed-order and non-canonical encodings give the same verdicts", () => {
  let cases = 0;
  let accepts = 0;
  const a = scalarOf("mixed secret");
  for (let t = 0; t < 8; t++) {
    // Pure torsion points (every encoding that decodes) and [a]B + T_t (canonical and y + p encodings).
    const points: NPoint[] = [torsion[t], G.multiply(a).add(torsion[t])];
    for (const [which, point] of points.entries()) {
      for (const keyBytes of encodingsOf(point)) {
        const prepared = ed25519.preparePublicKey(keyBytes);
        for (let j = 0; j < 4; j++) {
          const msg = digest("edge msg", t, which, j);
          // Signed with a (meaningful for the mixed-order key), and forged R = small-order point, S = 0.
          const sigs = [signWithScalar(a, keyBytes, msg, scalarOf("nonce", t, j)), concat(enc(torsion[(t + j) % 8]), le(0n))];
          // Non-canonical R: the y + p encoding of a small-order point when there is one.
          const rAlt = encodingsOf(torsion[j]).find((e) => !Buffer.from(e).equals(Buffer.from(enc(torsion[j]))));
          if (rAlt) sigs.push(concat(rAlt, le(0n)));
          for (const sig of sigs) {
            if (checkAll(sig, msg, keyBytes, prepared, `torsion ${t} kind ${which} msg ${j}`)) accepts++;
            cases++;
          }
        }
      }
    }
  }
  assert.ok(cases > 100, `cases ${cases}`);
  assert.ok(accepts > 10 && accepts < cases, `a mix of accepted and rejected cases (${accepts}/${cases})`);
});

test("preparePublicKey: bytes that do not decode throw InvalidPublicKeyError; verify with them returns false", () => {
  let notAPoint: Uint8Array | undefined;
  for (let i = 0; notAPoint === undefined; i++) {
    const candidate = digest("not a point", i).slice(0, 32);
    try {
      Point.fromBytes(candidate, true);
    } catch {
      notAPoint = candidate;
    }
  }
  const err = (() => {
    try {
      ed25519.preparePublicKey(notAPoint);
    } catch (e) {
      return e;
    }
  })();
  assert.instance(err, InvalidPublicKeyError);
  assert.is((err as InvalidPublicKeyError).code, "INVALID_PUBLIC_KEY");
  assert.is(ed25519.verify(new Uint8Array(64), new Uint8Array(0), notAPoint), false);
  assert.throws(() => ed25519.preparePublicKey(new Uint8Array(31)), (e: unknown) => (e as { code?: string }).code === "INVALID_LENGTH");
  assert.throws(() => ed25519.preparePublicKey("00" as unknown as Uint8Array), (e: unknown) => e instanceof InvalidTypeError);
  // The key keeps its own copy: changing the caller's array afterwards changes nothing.
  const seed = digest("copy").slice(0, 32);
  const pk = Buffer.from(ed25519.getPublicKey(seed));
  const prepared = ed25519.preparePublicKey(pk);
  const msg = new Uint8Array([1, 2, 3]);
  const sig = ed25519.sign(msg, seed);
  pk.fill(0);
  assert.ok(ed25519.verify(sig, msg, prepared));
  assert.equal(prepared.publicKey, ed25519.getPublicKey(seed));
});

test("torsion flag computed at preparation equals [L]A == O for keys of every torsion class", () => {
  for (let t = 0; t < 8; t++) {
    for (const point of [torsion[t], G.multiply(scalarOf("torsion class", t)).add(torsion[t])]) {
      const keyBytes = enc(point);
      const prepared = ed25519.preparePublicKey(keyBytes);
      const slot = preparedSlotOf(prepared, keyBytes);
      const expected = mulL(point).is0();
      assert.is(hooks().test_prepared_torsion_free(slot), expected ? 1 : 0, `torsion component ${t}`);
      assert.is(expected, t === 0, "model: torsion-free iff no torsion component");
    }
  }
});

/** The slot holding keyBytes: the one whose body starts with the key bytes. */
function preparedSlotOf(prepared: PreparedPublicKey, keyBytes: Uint8Array): number {
  const { slots } = ed25519.preparedKeysLayout();
  const heap = heapU8();
  for (let s = 0; s < slots; s++) {
    const body = hooks().test_prepared_body(s);
    if (Buffer.from(heap.subarray(body, body + 32)).equals(Buffer.from(keyBytes))) return s;
  }
  throw new Error("key not prepared");
}

test("the slab stays within its bytes however many keys pass; evicted keys re-prepare", () => {
  const slotsWanted = 4;
  const { slots } = ed25519.configurePreparedKeys({ maxBytes: 26_000 * (slotsWanted + 1) });
  assert.ok(slots >= 1 && slots <= slotsWanted, `slots ${slots}`);
  const memory = hooks().memory;
  const keys = Array.from({ length: slots * 6 }, (_, i) => {
    const seed = digest("lru", i).slice(0, 32);
    return { seed, prepared: ed25519.preparePublicKey(ed25519.getPublicKey(seed)) };
  });
  const bytesAfterPreparing = memory.buffer.byteLength;
  assert.ok(bytesAfterPreparing <= 26_000 * (slotsWanted + 1) + 4 * 65536 + 2 * 1024 * 1024, "bounded");
  const msg = new Uint8Array([7]);
  for (let round = 0; round < 2; round++) {
    for (const { seed, prepared } of keys) {
      assert.ok(ed25519.verify(ed25519.sign(msg, seed), msg, prepared), "an evicted key re-prepares");
      // Hot keys by bytes join the same slab (auto cache).
      for (let j = 0; j < 10; j++) ed25519.verify(ed25519.sign(msg, seed), msg, prepared.publicKey);
      assert.ok(hooks().test_prepared_used() <= slots);
    }
  }
  assert.is(memory.buffer.byteLength, bytesAfterPreparing, "no memory growth");
  assert.is(hooks().test_prepared_used(), slots, "all slots in use");
  ed25519.configurePreparedKeys({ maxBytes: 512 * 1024 });
});

test("hot keys given as bytes are prepared automatically after repeated use", () => {
  ed25519.configurePreparedKeys({ maxBytes: 512 * 1024 });
  assert.is(hooks().test_prepared_used(), 0);
  const seed = digest("hot").slice(0, 32);
  const pk = ed25519.getPublicKey(seed);
  const msg = new Uint8Array([9, 9]);
  const sig = ed25519.sign(msg, seed);
  for (let i = 0; i < 12; i++) assert.ok(ed25519.verify(sig, msg, pk));
  assert.is(hooks().test_prepared_used(), 1, "prepared after repeated use");
  const bad = sig.slice();
  bad[40] ^= 4;
  assert.is(ed25519.verify(bad, msg, pk), false);
});

test("free() releases the slot; the key stays usable", () => {
  ed25519.configurePreparedKeys({ maxBytes: 512 * 1024 });
  const seed = digest("free").slice(0, 32);
  const prepared = ed25519.preparePublicKey(ed25519.getPublicKey(seed));
  assert.is(hooks().test_prepared_used(), 1);
  prepared.free();
  assert.is(hooks().test_prepared_used(), 0);
  prepared.free(); // twice: no effect
  const msg = new Uint8Array([3]);
  assert.ok(ed25519.verify(ed25519.sign(msg, seed), msg, prepared));
  assert.is(hooks().test_prepared_used(), 1, "prepared again on use");
});

test("a corrupted slot never changes a verdict (it is prepared again)", () => {
  ed25519.configurePreparedKeys({ maxBytes: 512 * 1024 });
  const seed = digest("corrupt").slice(0, 32);
  const pk = ed25519.getPublicKey(seed);
  const victim = ed25519.preparePublicKey(pk);
  const attackerSeed = digest("attacker").slice(0, 32);
  const attacker = ed25519.preparePublicKey(ed25519.getPublicKey(attackerSeed));
  const msg = new TextEncoder().encode("corrupted slot");
  const good = ed25519.sign(msg, seed);
  const forged = ed25519.sign(msg, attackerSeed);
  const vSlot = preparedSlotOf(victim, pk);
  const aSlot = preparedSlotOf(attacker, attacker.publicKey);
  const bodyBytes = hooks().test_prepared_body(1) - hooks().test_prepared_body(0);
  // Offsets: flags, point, early / late table entries, check value.
  for (const offset of [32, 64, 100, 224, 5000, bodyBytes - 40, bodyBytes - 1]) {
    const body = hooks().test_prepared_body(vSlot);
    heapU8()[body + offset] ^= 0x10;
    assert.ok(ed25519.verify(good, msg, victim), `valid signature still accepted (offset ${offset})`);
    heapU8()[body + offset] ^= 0x10;
    heapU8()[hooks().test_prepared_body(vSlot) + offset] ^= 0x10;
    assert.is(ed25519.verify(forged, msg, victim), false, `forgery still rejected (offset ${offset})`);
    assert.is(ed25519.verify(good, msg, pk, { zip215: true }), true);
  }
  // The attacker's point and table copied over the victim's (key bytes kept): never accepted.
  const heap = heapU8();
  const v = hooks().test_prepared_body(vSlot);
  const a = hooks().test_prepared_body(aSlot);
  heap.copyWithin(v + 32, a + 32, a + bodyBytes - 32);
  assert.is(ed25519.verify(forged, msg, victim), false, "attacker's table under the victim's key");
  assert.is(ed25519.verify(forged, msg, pk), false, "same via the auto cache");
  assert.ok(ed25519.verify(good, msg, victim));
});

test("a prepared key survives the instance being rebuilt after a trap", () => {
  const seed = digest("trap").slice(0, 32);
  const prepared = ed25519.preparePublicKey(ed25519.getPublicKey(seed));
  const msg = new Uint8Array([5, 5]);
  const sig = ed25519.sign(msg, seed);
  assert.ok(ed25519.verify(sig, msg, prepared));
  const before = hooks().memory;
  assert.throws(() => guarded(() => hooks().test_trap()), (e: unknown) => e instanceof WasmCoreError && e.code === "WASM_TRAP");
  assert.ok(hooks().memory !== before, "a new instance");
  assert.is(hooks().test_prepared_used(), 0, "the new instance starts with an empty slab");
  assert.ok(ed25519.verify(sig, msg, prepared), "re-prepared on use");
  assert.is(ed25519.verify(sig, msg.slice(1), prepared), false);
  assert.is(hooks().test_prepared_used(), 1);
});

test("configurePreparedKeys: maxBytes 0 turns prepared keys off with the same verdicts; bad options are typed errors", () => {
  const seed = digest("off").slice(0, 32);
  const pk = ed25519.getPublicKey(seed);
  const prepared = ed25519.preparePublicKey(pk);
  assert.equal(ed25519.configurePreparedKeys({ maxBytes: 0 }), { maxBytes: 0, slots: 0 });
  const msg = new Uint8Array([1]);
  const sig = ed25519.sign(msg, seed);
  assert.ok(ed25519.verify(sig, msg, prepared));
  assert.ok(ed25519.verify(sig, msg, prepared, { zip215: true }));
  assert.is(ed25519.verify(sig, new Uint8Array([2]), prepared), false);
  assert.ok(ed25519.preparePublicKey(pk) instanceof PreparedPublicKey);
  for (const bad of [null, 5, {}, { maxBytes: -1 }, { maxBytes: 1.5 }, { maxBytes: "1" }, { maxBytes: 2 ** 40 }]) {
    assert.throws(() => ed25519.configurePreparedKeys(bad as never), (e: unknown) => e instanceof InvalidTypeError, JSON.stringify(bad));
  }
  ed25519.configurePreparedKeys({ maxBytes: 512 * 1024 });
  assert.ok(ed25519.preparedKeysLayout().slots > 10);
  assert.ok(ed25519.verify(sig, msg, prepared));
});

test.run();
