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
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { ed25519 as noble } from "@noble/curves/ed25519.js";
import { sha512 } from "@noble/hashes/sha2.js";
import { ed25519, ED25519_PREPARED_KEYS_DEFAULT_BYTES, PreparedPublicKey } from "../../src/ed25519.js";
import { InvalidPublicKeyError, InvalidTypeError, WasmCoreError } from "../../src/errors.js";
import { argsBase, coreExports, guarded, heapU8, initSync, ioArenaBase, liveCoreExports, resetInstance } from "../../src/wasm/instance.js";
import { ARG_RESULT, TEST_HOOK_INPUT } from "../../src/wasm/abi.js";
import { CHIO_WASM_BASE64 } from "../../src/generated/chio-wasm.js";
import { testModule } from "../helpers/test-core.js";
import { KernelTrustExchange, Keypair, verifyEnvelopeBatch, verifyEnvelopeBytes } from "../../src/handshake/index.js";
import { siphash24Reference } from "../helpers/siphash-reference.js";
import { seedKeyIndex } from "../helpers/key-index.js";
import {
  L, P, concat, encodingsOf, fieldFromLimbs, fromLE, fullLengthVerify, le, mulL, nobleZip215, nodeAccepts, torsionPoints, type NPoint,
} from "../helpers/ed25519-oracles.js";
import { scaled } from "../helpers/scale.js";
import { slabWithSlots } from "../helpers/prepared-slab.js";
import { D as CURVE_D, SQRT_M1, inv, mod, pow, sqrt } from "../../scripts/gen-tables.js";

interface PreparedHooks {
  readonly memory: WebAssembly.Memory;
  test_prepared_used(): number;
  test_prepared_body(slot: number): number;
  test_prepared_torsion_free(slot: number): number;
  test_prepared_odd_table(): number;
  test_prepared_batch_table(slot: number): number;
  test_vk_stamp(): bigint;
  test_batch_checks_passed(): number;
  test_batch_checks_failed(): number;
  test_batch_table_terms(): number;
  test_batch_points_decoded(): number;
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
  ed25519.configurePreparedKeys({ maxBytes: ED25519_PREPARED_KEYS_DEFAULT_BYTES });
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
  ed25519.configurePreparedKeys({ maxBytes: ED25519_PREPARED_KEYS_DEFAULT_BYTES });
});

test("the slab, index included, never takes more than maxBytes, also when only a few slots fit", () => {
  ed25519.configurePreparedKeys({ maxBytes: 0 });
  const base = ioArenaBase(); // the I/O arena starts right after the slab
  const bodyAndHeader = 33_000; // about one slot; the sizes below straddle 1, 2, 3, 4 and 40 slots
  for (const maxBytes of [30_000, 57_930, 58_000, 90_890, 91_000, 123_845, 124_000, 157_000, 40 * bodyAndHeader]) {
    for (const extra of [0, 16, 48, 64, 100]) {
      const { slots } = ed25519.configurePreparedKeys({ maxBytes: maxBytes + extra });
      assert.ok(ioArenaBase() - base <= maxBytes + extra, `${maxBytes + extra} bytes, ${slots} slots: slab of ${ioArenaBase() - base}`);
    }
  }
  ed25519.configurePreparedKeys({ maxBytes: ED25519_PREPARED_KEYS_DEFAULT_BYTES });
});

// The test above bounds the slab from above; this one from below: a bound is used up, so a
// caller who sizes it for n keys (by the size an n-slot slab takes) gets n slots, not n - 1.
test("a bound of exactly an n-slot slab's size lays out n slots; one byte less, n - 1", () => {
  ed25519.configurePreparedKeys({ maxBytes: 0 });
  const base = ioArenaBase(); // the I/O arena starts right after the slab
  for (const wanted of [1, 2, 3, 5, 40, 64]) {
    let bytes = 20_000 + 30_000 * wanted; // below an n-slot slab (a slot takes about 33 KB, the shared table about 25 KB)
    while (ed25519.configurePreparedKeys({ maxBytes: bytes }).slots < wanted) bytes += 1_000; // steps smaller than a slot
    assert.is(ed25519.preparedKeysLayout().slots, wanted);
    const size = ioArenaBase() - base;
    assert.is(ed25519.configurePreparedKeys({ maxBytes: size }).slots, wanted, `exactly ${size} bytes`);
    assert.is(ioArenaBase() - base, size, "the same slab");
    assert.is(ed25519.configurePreparedKeys({ maxBytes: size - 1 }).slots, wanted - 1, `${size - 1} bytes`);
    assert.ok(ioArenaBase() - base <= size - 1);
  }
  ed25519.configurePreparedKeys({ maxBytes: ED25519_PREPARED_KEYS_DEFAULT_BYTES });
});

// ed25519-glue-audit checks one byte over the ceiling; this, the ceiling itself: a valid bound,
// refused here only because the test build's memory stops at 32 MiB.
test("configurePreparedKeys: the ceiling itself (256 MiB) is a valid bound: on the test build (memory capped at 32 MiB) WASM_OUT_OF_MEMORY, the layout unchanged", () => {
  const before = ed25519.preparedKeysLayout();
  assert.throws(() => ed25519.configurePreparedKeys({ maxBytes: 256 * 1024 * 1024 }), (e: unknown) => e instanceof WasmCoreError && e.code === "WASM_OUT_OF_MEMORY");
  assert.equal(ed25519.preparedKeysLayout(), before);
});

test("hot keys given as bytes are prepared automatically after repeated use", () => {
  ed25519.configurePreparedKeys({ maxBytes: ED25519_PREPARED_KEYS_DEFAULT_BYTES });
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

test("more prepared keys in use than slots: a lost slot is won back only by a hot key used more often than the key it evicts, or from a stale one, not at every use", () => {
  const slots = slabWithSlots(2);
  assert.is(slots, 2);
  const msg = new Uint8Array([5, 1]);
  const held = () => new Set(slabKeys().filter((hex) => hex !== "")); // the keys the slab holds
  const key = (name: string) => {
    const seed = digest("in use", name).slice(0, 32);
    const publicKey = ed25519.getPublicKey(seed);
    return { hex: Buffer.from(publicKey).toString("hex"), prepared: ed25519.preparePublicKey(publicKey), signature: ed25519.sign(msg, seed) };
  };
  const verifies = (k: ReturnType<typeof key>) => assert.ok(ed25519.verify(k.signature, msg, k.prepared), k.hex);
  const [p1, p2, p3] = [key("p1"), key("p2"), key("p3")]; // p3's preparation took p1's slot
  assert.equal(held(), new Set([p2.hex, p3.hex]));
  // p1 in use beside p2 and p3: preparing it again would evict a key in use, so it is verified
  // as key bytes are...
  for (let round = 0; round < 4; round++) {
    verifies(p1);
    assert.equal(held(), new Set([p2.hex, p3.hex]), "p1 not prepared again at each use");
    verifies(p2);
    verifies(p3);
  }
  // Nor once it is hot (found again in the decoded-key cache 8 times, as a key given as bytes
  // is promoted), as long as it comes back no more often than the keys it would evict: in an
  // even rotation every eviction would cost a preparation and the key evicted would take a slot
  // back in turn (bench "prepared keys beyond the slab").
  for (let round = 0; round < 20; round++) {
    for (const k of [p1, p2, p3]) verifies(k);
    assert.equal(held(), new Set([p2.hex, p3.hex]), `even rotation, round ${round}: no key evicts another`);
  }
  // Used more often than p2 (p1, p3, p1, p3, ...), the hot p1 takes p2's slot, long before p2
  // would count as stale (2 slots * 16 uses of the slab = 16 rounds).
  let rounds = 0;
  while (!held().has(p1.hex) && rounds < 12) {
    verifies(p1);
    verifies(p3);
    rounds++;
  }
  assert.equal(held(), new Set([p1.hex, p3.hex]), `the hot key was prepared again, evicting the key it came back more often than (${rounds} rounds)`);

  // Stale keys: two fresh keys take the slots, then go unused while 17 other prepared keys
  // (more than the decoded-key cache's 16 entries, so none gets hot) are verified in turn.
  const [q1, q2] = [key("q1"), key("q2")];
  assert.equal(held(), new Set([q1.hex, q2.hex]));
  const others = Array.from({ length: 17 }, (_, i) => key(`other ${i}`));
  assert.equal(held(), new Set([others[15].hex, others[16].hex]));
  const [o15, o16] = [others[15], others[16]];
  // Make q1 and q2 the slab's keys again, in use, then cycle the others.
  for (const k of [q1, q2]) k.prepared = ed25519.preparePublicKey(Buffer.from(k.hex, "hex"));
  assert.equal(held(), new Set([q1.hex, q2.hex]));
  for (const k of others.slice(0, 15)) verifies(k); // 15 uses of the slab since q1 and q2's last: not stale (2 slots * 16)
  assert.equal(held(), new Set([q1.hex, q2.hex]), "keys used recently keep their slots");
  for (let round = 0; round < 2; round++) for (const k of others) verifies(k);
  const after = held();
  assert.not.ok(after.has(q1.hex) || after.has(q2.hex), "stale keys gave their slots to keys in use");
  assert.ok(after.size === 2 && [...after].every((hex) => others.some((k) => k.hex === hex)));
  for (const k of [p1, p2, p3, q1, q2, o15, o16]) verifies(k); // every key still verifies, wherever it is
  const bad = p1.signature.slice();
  bad[3] ^= 1;
  assert.is(ed25519.verify(bad, msg, p1.prepared), false);
  ed25519.configurePreparedKeys({ maxBytes: ED25519_PREPARED_KEYS_DEFAULT_BYTES });
});

// The test above sees stale keys give way after 15 uses and before 49; this pins the boundary of
// the documented rule (prepared_admits_vartime: a key prepared on request is stale once unused for
// STALE_USES_PER_SLOT = 16 times the slot count uses of the slab, preparations and admission
// checks counted). With 2 slots: q1, prepared, then q2 prepared (one use), then admission checks
// of keys the slab does not hold, one per verification: q1 stays through the 30th (31 uses since
// its own) and gives its slot at the 31st (32 uses).
test("a key prepared on request is stale after exactly 16 uses of the slab per slot: not one use sooner or later", () => {
  assert.is(slabWithSlots(2), 2);
  const msg = new Uint8Array([7, 3]);
  const held = () => new Set(slabKeys().filter((hex) => hex !== ""));
  const key = (name: string) => {
    const seed = digest("stale boundary", name).slice(0, 32);
    const publicKey = ed25519.getPublicKey(seed);
    return { hex: Buffer.from(publicKey).toString("hex"), publicKey, signature: ed25519.sign(msg, seed) };
  };
  // More keys than the decoded-key cache's 16 entries, used in turn: none gets hot (promotion).
  const others = Array.from({ length: 20 }, (_, i) => key(`other ${i}`));
  const prepared = others.map((k) => ed25519.preparePublicKey(k.publicKey)); // leaves the last two in the slots
  const [q1, q2] = [key("q1"), key("q2")];
  const kept = [ed25519.preparePublicKey(q1.publicKey), ed25519.preparePublicKey(q2.publicKey)]; // held: a collected key's slot is released
  assert.equal(held(), new Set([q1.hex, q2.hex]));
  for (let use = 1; use <= 30; use++) {
    const k = others[use % others.length];
    assert.ok(ed25519.verify(k.signature, msg, prepared[use % others.length]));
    assert.ok(held().has(q1.hex), `use ${use}: q1 not stale yet`);
  }
  assert.ok(ed25519.verify(others[31 % others.length].signature, msg, prepared[31 % others.length]));
  assert.not.ok(held().has(q1.hex), "the 31st admission check (32 uses since q1's) finds q1 stale");
  assert.ok(held().has(q2.hex), "q2, used one later, is not stale yet");
  for (const k of [...kept, ...prepared]) k.free();
  ed25519.configurePreparedKeys({ maxBytes: ED25519_PREPARED_KEYS_DEFAULT_BYTES });
});

test("configurePreparedKeys starts the slab's clock again and forgets the stamps read against the old one", () => {
  slabWithSlots(2);
  const msg = new Uint8Array([7, 2]);
  const keys = ["s1", "s2", "s3"].map((name) => {
    const seed = digest("stamps", name).slice(0, 32);
    const publicKey = ed25519.getPublicKey(seed);
    return { publicKey, prepared: ed25519.preparePublicKey(publicKey), signature: ed25519.sign(msg, seed) };
  });
  const stampOf = (publicKey: Uint8Array): bigint => {
    setHookInput(publicKey);
    return hooks().test_vk_stamp();
  };
  // Three keys over two slots: the one left out is verified from the decoded-key cache, and each
  // such use stamps its entry with the slab's clock (the eviction rule reads the interval).
  for (let round = 0; round < 10; round++) for (const k of keys) assert.ok(ed25519.verify(k.signature, msg, k.prepared));
  const stamped = keys.filter((k) => stampOf(k.publicKey) > 0n);
  assert.ok(stamped.length > 0, "a slot-less key was stamped");
  // A stamp from the old clock would read, once the new clock passed it, as a use a few ticks
  // ago: the key could evict a slot's key used more often than it (review 38, finding 4).
  ed25519.configurePreparedKeys({ maxBytes: ED25519_PREPARED_KEYS_DEFAULT_BYTES });
  for (const k of stamped) assert.is(stampOf(k.publicKey), 0n, "its stamp was cleared with the clock");
  for (const k of keys) assert.ok(ed25519.verify(k.signature, msg, k.prepared));
});

/**
 * An anchor's key and a stranger's, and a message the stranger signed: the replaced built-ins
 * below try to swap the stranger's key into a prepared anchor key, so that `forged` verifies.
 */
function anchorAndForgery(label: string) {
  const anchorSeed = digest(`${label} anchor`).slice(0, 32);
  const strangerSeed = digest(`${label} stranger`).slice(0, 32);
  const message = new TextEncoder().encode("signed by the stranger");
  return { anchorSeed, anchor: ed25519.getPublicKey(anchorSeed), stranger: ed25519.getPublicKey(strangerSeed), message, forged: ed25519.sign(message, strangerSeed) };
}

test("preparePublicKey hands its own copy of the key to no caller code: a String.fromCharCode replaced after load cannot rewrite which key the object verifies under", () => {
  const { anchorSeed, anchor, stranger, message, forged } = anchorAndForgery("fromCharCode");
  const fromCharCode = String.fromCharCode;
  const handed: unknown[] = [];
  // An object whose `apply` is caller code: `String.fromCharCode.apply(null, bytes)` calls it with the array itself.
  (String as { fromCharCode: unknown }).fromCharCode = {
    apply(_self: unknown, list: Uint8Array): string {
      handed.push(list);
      if (list instanceof Uint8Array && list.length === 32) list.set(stranger);
      return fromCharCode.apply(null, Array.from(list));
    },
  };
  let prepared: PreparedPublicKey;
  try {
    prepared = ed25519.preparePublicKey(anchor);
  } finally {
    String.fromCharCode = fromCharCode;
  }
  assert.is(handed.length, 0, "no array handed to caller code");
  assert.equal(prepared.publicKey, anchor, "the object keeps the anchor's bytes");
  assert.not.ok(ed25519.verify(forged, message, prepared), "the stranger's signature is not accepted under the anchor's prepared key");
  assert.ok(ed25519.verify(ed25519.sign(message, anchorSeed), message, prepared));
  prepared.free();
});

test("a FinalizationRegistry.prototype.register replaced after load is never called: it was handed the object's own copy of the key bytes", () => {
  const { anchor, stranger, message, forged } = anchorAndForgery("register");
  const registryPrototype = FinalizationRegistry.prototype as { register(target: object, held: unknown, token?: object): void };
  const register = registryPrototype.register;
  const handed: unknown[] = [];
  registryPrototype.register = function (this: FinalizationRegistry<unknown>, target: object, held: unknown, token?: object) {
    handed.push(held);
    const bytes = (held as { bytes?: unknown } | undefined)?.bytes;
    if (bytes instanceof Uint8Array && bytes.length === 32) bytes.set(stranger);
    return register.call(this, target, held, token);
  };
  let prepared: PreparedPublicKey;
  try {
    prepared = ed25519.preparePublicKey(anchor);
  } finally {
    registryPrototype.register = register;
  }
  assert.is(handed.length, 0, "the replacement never ran");
  assert.equal(prepared.publicKey, anchor, "the object keeps the anchor's bytes");
  assert.not.ok(ed25519.verify(forged, message, prepared), "the stranger's signature is not accepted under the anchor's prepared key");
  prepared.free();
});

test("free() releases the slot; the key stays usable", () => {
  ed25519.configurePreparedKeys({ maxBytes: ED25519_PREPARED_KEYS_DEFAULT_BYTES });
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

test("free() of a key's last object empties its slot when the object's hint is stale: the key moved after a new layout or an eviction (review 90 F1)", () => {
  let bytes = 40_000;
  while (ed25519.configurePreparedKeys({ maxBytes: bytes }).slots < 2) bytes += 1_000;
  assert.is(ed25519.preparedKeysLayout().slots, 2);
  const pkOf = (name: string): Uint8Array => ed25519.getPublicKey(digest("stale-hint", name).slice(0, 32));
  const K = pkOf("K");
  // A new layout: the first object's hint (slot 1) no longer holds K, which a second object prepares into slot 0.
  const other = ed25519.preparePublicKey(pkOf("X"));
  const first = ed25519.preparePublicKey(K);
  ed25519.configurePreparedKeys({ maxBytes: bytes });
  const second = ed25519.preparePublicKey(K);
  assert.ok(oddTableOf(K) !== 0, "K prepared again");
  second.free(); // the first object still holds K: nothing freed (review 51)
  assert.ok(oddTableOf(K) !== 0, "kept for the first object");
  first.free(); // the last holder, with a stale hint
  assert.is(oddTableOf(K), 0, "K's slot emptied");
  assert.is(hooks().test_prepared_used(), 0);
  other.free();
  // An eviction: the first object's slot went to another key, and K came back into another slot.
  ed25519.configurePreparedKeys({ maxBytes: bytes });
  const e1 = ed25519.preparePublicKey(K);
  const a = ed25519.preparePublicKey(pkOf("A"));
  const b = ed25519.preparePublicKey(pkOf("B")); // evicts K (least recently used)
  assert.is(oddTableOf(K), 0, "K evicted");
  const e2 = ed25519.preparePublicKey(K); // evicts A
  a.free();
  b.free();
  e2.free();
  assert.ok(oddTableOf(K) !== 0, "kept for e1");
  e1.free();
  assert.is(oddTableOf(K), 0, "K's slot emptied");
  assert.is(hooks().test_prepared_used(), 0);
  // Freed keys stay usable, and a free() never empties another key's slot.
  const msg = new Uint8Array([9]);
  const seed = digest("stale-hint", "K").slice(0, 32);
  const keep = ed25519.preparePublicKey(pkOf("keep"));
  assert.ok(ed25519.verify(ed25519.sign(msg, seed), msg, first));
  first.free();
  e1.free(); // freed before: no effect
  assert.ok(oddTableOf(pkOf("keep")) !== 0, "another key's slot untouched");
  keep.free();
  ed25519.configurePreparedKeys({ maxBytes: ED25519_PREPARED_KEYS_DEFAULT_BYTES });
});

test("free() of a key's last object that held it without a slot of its own (made with the slab off, or verified while every slot was taken) empties the slot another object prepared since (review 94 F1)", () => {
  const pkOf = (name: string): Uint8Array => ed25519.getPublicKey(digest("no-hint", name).slice(0, 32));
  const seedK = digest("no-hint", "K").slice(0, 32);
  const K = pkOf("K");
  // Made while the slab was off: the object holds K with no slot.
  ed25519.configurePreparedKeys({ maxBytes: 0 });
  const off = ed25519.preparePublicKey(K);
  ed25519.configurePreparedKeys({ maxBytes: ED25519_PREPARED_KEYS_DEFAULT_BYTES });
  const later = ed25519.preparePublicKey(K);
  later.free(); // `off` still holds K: kept
  assert.ok(oddTableOf(K) !== 0, "kept for the first object");
  off.free();
  assert.is(oddTableOf(K), 0, "K's slot emptied (slab off at preparation)");
  // Verified while every slot held another key prepared on request: its slot went elsewhere.
  let bytes = 40_000;
  while (ed25519.configurePreparedKeys({ maxBytes: bytes }).slots < 2) bytes += 1_000;
  const msg = new Uint8Array([5]);
  const sig = ed25519.sign(msg, seedK);
  const a = ed25519.preparePublicKey(K);
  const x = ed25519.preparePublicKey(pkOf("X"));
  const y = ed25519.preparePublicKey(pkOf("Y")); // evicts K
  assert.ok(ed25519.verify(sig, msg, a), "verified as key bytes (no slot free for it)");
  assert.is(oddTableOf(K), 0);
  const b = ed25519.preparePublicKey(K); // evicts X
  x.free();
  b.free(); // `a` still holds K: kept
  assert.ok(oddTableOf(K) !== 0, "kept for a");
  a.free();
  assert.is(oddTableOf(K), 0, "K's slot emptied (no slot when last verified)");
  assert.ok(oddTableOf(pkOf("Y")) !== 0, "another key's slot untouched");
  y.free();
  ed25519.configurePreparedKeys({ maxBytes: ED25519_PREPARED_KEYS_DEFAULT_BYTES });
});

test("free() after a trap starts no instance: the dropped one took the slot with it (review 90 F2)", () => {
  const prepared = ed25519.preparePublicKey(ed25519.getPublicKey(digest("free-after-trap").slice(0, 32)));
  assert.throws(() => guarded(() => hooks().test_trap()), (e: unknown) => e instanceof WasmCoreError && e.code === "WASM_TRAP");
  assert.is(liveCoreExports(), undefined, "the trap dropped the instance");
  prepared.free();
  assert.is(liveCoreExports(), undefined, "free() started none");
  assert.is(hooks().test_prepared_used(), 0, "the next instance starts with an empty slab");
});

test("a corrupted slot never changes a verdict (it is prepared again)", () => {
  ed25519.configurePreparedKeys({ maxBytes: ED25519_PREPARED_KEYS_DEFAULT_BYTES });
  const seed = digest("corrupt").slice(0, 32);
  const pk = ed25519.getPublicKey(seed);
  const victim = ed25519.preparePublicKey(pk);
  const attackerSeed = digest("attacker").slice(0, 32);
  const attacker = ed25519.preparePublicKey(ed25519.getPublicKey(attackerSeed));
  const msg = new TextEncoder().encode("corrupted slot");
  const good = ed25519.sign(msg, seed);
  const forged = ed25519.sign(msg, attackerSeed);
  const bodyBytes = hooks().test_prepared_body(1) - hooks().test_prepared_body(0);
  // The comb check value sits just before the batch table (whose own check value ends the body).
  const combCheck = oddTableOf(pk) - hooks().test_prepared_body(preparedSlotOf(victim, pk)) - 32;
  assert.ok(combCheck > 20_000 && combCheck < bodyBytes - 32, `comb check value at ${combCheck}`);
  // Offsets: flags, point, early / late comb table entries, the comb check value, and the batch
  // table and its check value (which single verification does not read).
  for (const offset of [32, 64, 100, 224, 5000, combCheck - 8, combCheck, combCheck + 31, bodyBytes - 40, bodyBytes - 1]) {
    // Bytes up to the comb check value are covered by it: single verification finds the slot
    // corrupted, empties it and prepares the key afresh. The batch table after it is not read.
    const readBySingle = offset < combCheck + 32;
    for (const [sig, expected] of [[good, true], [forged, false]] as const) {
      const body = hooks().test_prepared_body(preparedSlotOf(victim, pk));
      const original = heapU8()[body + offset];
      heapU8()[body + offset] ^= 0x10;
      assert.is(ed25519.verify(sig, msg, victim), expected, `${expected ? "valid signature accepted" : "forgery rejected"} (offset ${offset})`);
      const now = hooks().test_prepared_body(preparedSlotOf(victim, pk));
      if (readBySingle) assert.is(heapU8()[now + offset], original, `prepared afresh (offset ${offset})`);
      else heapU8()[body + offset] ^= 0x10;
    }
    assert.is(ed25519.verify(good, msg, pk, { zip215: true }), true);
  }
  // The attacker's point and table copied over the victim's (key bytes kept): never accepted.
  const heap = heapU8();
  const v = hooks().test_prepared_body(preparedSlotOf(victim, pk));
  const a = hooks().test_prepared_body(preparedSlotOf(attacker, attacker.publicKey));
  heap.copyWithin(v + 32, a + 32, a + bodyBytes - 32);
  assert.is(ed25519.verify(forged, msg, victim), false, "attacker's table under the victim's key");
  assert.is(ed25519.verify(forged, msg, pk), false, "same via the auto cache");
  assert.ok(ed25519.verify(good, msg, victim));
});

// ---------------------------------------------------------------------------------------------
// Batch verification with prepared keys: the width-8 odd-multiples table each slot keeps
// (scalar_mul/straus.ts). A batch's combined check cannot give a wrong verdict on its own (a
// failing check sends every item to the single verifier), so these tests also count the combined
// checks (test_batch_checks): a table that is wrong, stale or another key's makes checks fail.

/** Writes key bytes where the test build's hooks read their input. */
function setHookInput(keyBytes: Uint8Array): void {
  heapU8().set(keyBytes, argsBase() + ARG_RESULT + TEST_HOOK_INPUT);
}

/** The odd-multiples table address of the prepared key with these bytes (0 if not held intact). */
function oddTableOf(keyBytes: Uint8Array): number {
  setHookInput(keyBytes);
  return hooks().test_prepared_odd_table();
}

/** Combined checks passed and failed, and key terms taken from prepared tables, since the instance started. */
function batchCounters(): { passed: number; failed: number; tableTerms: number } {
  const x = hooks();
  return { passed: x.test_batch_checks_passed() >>> 0, failed: x.test_batch_checks_failed() >>> 0, tableTerms: x.test_batch_table_terms() >>> 0 };
}

/** Runs verifyBatch and reports what its combined checks did. */
function batchWithChecks(items: { signature: Uint8Array; message: Uint8Array; publicKey: Uint8Array | PreparedPublicKey }[], zip215 = false) {
  const before = batchCounters();
  const verdicts = ed25519.verifyBatch(items, { zip215 });
  const after = batchCounters();
  return { verdicts, passed: after.passed - before.passed, failed: after.failed - before.failed, tableTerms: after.tableTerms - before.tableTerms };
}

test("an envelope batch of one or two signatures decodes nothing (the single verifier answers them), three or more go to the batch; verdicts are verifyEnvelopeBytes's (review 74 F1)", () => {
  const envelopes = (count: number, tamper: number): string[] =>
    Array.from({ length: count }, (_, i) => {
      const exchange = new KernelTrustExchange(`kernel.small-${count}-${i}`, Keypair.fromSeed(createHash("sha256").update(`small batch ${count} ${i} ${Math.random()}`).digest()));
      const text = exchange.localEnvelope("kernel.here", `nonce-${i}`, 1_800_000_000).toJSONText();
      return i === tamper ? text.replace(`nonce-${i}`, `nonce-x`) : text;
    });
  const decodedBy = (texts: string[]): number => {
    const before = hooks().test_batch_points_decoded() >>> 0;
    const verdicts = verifyEnvelopeBatch(texts);
    assert.equal(verdicts, texts.map((t) => verifyEnvelopeBytes(t)), "verifyEnvelopeBytes's verdicts");
    return (hooks().test_batch_points_decoded() >>> 0) - before;
  };
  for (const tamper of [-1, 0]) {
    assert.is(decodedBy(envelopes(1, tamper)), 0, `one envelope (tampered ${tamper})`);
    assert.is(decodedBy(envelopes(2, tamper)), 0, `two envelopes (tampered ${tamper})`);
    assert.ok(decodedBy(envelopes(3, tamper)) >= 3, `three envelopes go to the batch (tampered ${tamper})`);
  }
});

test("a batch decodes R only for items whose key takes part: keys that are not points, or have a torsion component and two items, cost their own decoding alone (review 66 F1), with single verify's verdicts", () => {
  const message = new TextEncoder().encode("points decoded");
  /** A signature with a canonical S (< L) and a random R: the pre-check S < L passes. */
  const anySignature = (): Uint8Array => {
    const signature = new Uint8Array(64);
    signature.set(digest("R", Math.random()).slice(0, 32), 0);
    signature.set(le(scalarOf("S", Math.random())), 32);
    return signature;
  };
  const decodedBy = (items: { signature: Uint8Array; message: Uint8Array; publicKey: Uint8Array }[]): number => {
    const before = hooks().test_batch_points_decoded() >>> 0;
    const verdicts = ed25519.verifyBatch(items);
    assert.equal(verdicts, items.map((it) => ed25519.verify(it.signature, it.message, it.publicKey)), "single verify's verdicts");
    return (hooks().test_batch_points_decoded() >>> 0) - before;
  };
  const n = 16;
  // Keys new to the call (fresh scalars), so no cache holds them.
  const fresh = (): bigint => scalarOf("fresh key", Math.random());
  const notPoints: Uint8Array[] = [];
  while (notPoints.length < n) {
    const bytes = digest("not a point", Math.random()).slice(0, 32);
    try {
      Point.fromBytes(bytes, true);
    } catch {
      notPoints.push(bytes);
    }
  }
  assert.is(decodedBy(notPoints.map((publicKey) => ({ signature: anySignature(), message, publicKey }))), n, "keys that are not points: only the keys");
  // A key under two or more items is tested once, and one with a torsion component sends its
  // items to the single verifier, so their R values are not decoded.
  const mixed = Array.from({ length: n }, (_, i) => enc(G.multiply(fresh()).add(torsion[1 + (i % 7)])));
  const twice = mixed.flatMap((publicKey) => [publicKey, publicKey]);
  assert.is(decodedBy(twice.map((publicKey) => ({ signature: anySignature(), message, publicKey }))), n, "keys with a torsion component, two items each: only the keys");
  // A key new to the call under one item only is decoded but not tested: its item's Q = R + [k mod 8]A
  // is (batch.ts test_deferred_items), so its R is decoded too.
  const mixedOnce = Array.from({ length: n }, (_, i) => enc(G.multiply(fresh()).add(torsion[1 + (i % 7)])));
  assert.is(decodedBy(mixedOnce.map((publicKey) => ({ signature: anySignature(), message, publicKey }))), 2 * n, "keys with a torsion component, one item each: each key and each R");
  const secrets = Array.from({ length: n }, () => noble.utils.randomSecretKey());
  const good = secrets.map((secret) => ({ signature: noble.sign(message, secret), message, publicKey: noble.getPublicKey(secret) }));
  assert.is(decodedBy(good), 2 * n, "keys that take part: each key and each R");
});

const ODD_ENTRIES = 64;
const ENTRY_LIMBS = 30; // an affine niels point: three field elements of ten 32-bit limbs

test("a prepared key's batch table holds (2i+1)A for i < 64 as affine niels points (@noble/curves), torsion components included", () => {
  const d = Point.CURVE().d;
  const a = scalarOf("odd table");
  for (const point of [G.multiply(a), G.multiply(a).add(torsion[3]), torsion[5]]) {
    const keyBytes = enc(point);
    ed25519.preparePublicKey(keyBytes);
    const address = oddTableOf(keyBytes);
    assert.ok(address > 0, "the slab holds the key");
    const limbs = new Int32Array(heapU8().slice(address, address + ODD_ENTRIES * ENTRY_LIMBS * 4).buffer);
    const twice = point.double();
    let multiple = point;
    for (let i = 0; i < ODD_ENTRIES; i++, multiple = multiple.add(twice)) {
      const { x, y } = multiple.toAffine();
      const at = i * ENTRY_LIMBS;
      assert.is(fieldFromLimbs(limbs, at), (y + x) % P, `y + x of ${2 * i + 1}A`);
      assert.is(fieldFromLimbs(limbs, at + 10), (((y - x) % P) + P) % P, `y - x of ${2 * i + 1}A`);
      assert.is(fieldFromLimbs(limbs, at + 20), (2n * d * x * y) % P, `2dxy of ${2 * i + 1}A`);
    }
  }
});

test("64 distinct prepared keys: one combined check from the slab's tables, the single verdicts in both modes", () => {
  ed25519.configurePreparedKeys({ maxBytes: 4 * 1024 * 1024 });
  const a = (i: number) => scalarOf("distinct prepared", i);
  // Every fourth key has a torsion component: the default rule sends its items to the single
  // verifier, ZIP-215 takes its table into the combined check like any other.
  const points = Array.from({ length: 64 }, (_, i) => G.multiply(a(i)).add(i % 4 === 3 ? torsion[1 + (i % 7)] : torsion[0]));
  const keys = points.map((point) => enc(point));
  const prepared = keys.map((k) => ed25519.preparePublicKey(k));
  for (const k of keys) assert.ok(oddTableOf(k) > 0, "every key in the slab");
  const items = keys.map((k, i) => {
    const message = digest("distinct prepared message", i).slice(0, 40);
    return { signature: signWithScalar(a(i), k, message, scalarOf("distinct nonce", i)), message, publicKey: prepared[i] };
  });
  for (const zip215 of [false, true]) {
    const singles = items.map((it, i) => ed25519.verify(it.signature, it.message, keys[i], { zip215 }));
    const run = batchWithChecks(items, zip215);
    assert.equal(run.verdicts, singles, `zip215 ${zip215}`);
    assert.is(run.passed, 1, `one combined check passes (zip215 ${zip215})`);
    assert.is(run.failed, 0, `no combined check fails (zip215 ${zip215})`);
    // Its key terms come from the tables: all 64 under ZIP-215; under the default rule the 48
    // torsion-free keys (items under the 16 mixed-order ones went to the single verifier).
    assert.is(run.tableTerms, zip215 ? 64 : 48, `key terms from prepared tables (zip215 ${zip215})`);
    // Default rule: a mixed-order key signed with a is accepted singly only when 8 | k; ZIP-215: always.
    if (zip215) assert.ok(singles.every(Boolean));
    else assert.ok(singles.some((v) => !v) && singles.filter(Boolean).length >= 48);
    // The same keys given as bytes find the same slots.
    assert.equal(ed25519.verifyBatch(items.map((it, i) => ({ ...it, publicKey: keys[i] })), { zip215 }), singles);
  }
  // Wrong signatures (one, then every other one): the single verdicts, after exactly one combined
  // check, which fails; the single verifier then answers every item, so a batch where many items
  // fail costs about 1.5× single verification, not the 3.5–4× halving took (README "Batch verification", step 5).
  for (const wrong of [[17], items.map((_, i) => i).filter((i) => i % 2 === 1)]) {
    const bad = items.slice();
    for (const i of wrong) {
      const sig = bad[i].signature.slice();
      sig[40] ^= 1;
      bad[i] = { ...bad[i], signature: sig };
    }
    for (const zip215 of [false, true]) {
      const run = batchWithChecks(bad, zip215);
      assert.equal(run.verdicts, bad.map((it, i) => ed25519.verify(it.signature, it.message, keys[i], { zip215 })));
      assert.equal([run.passed, run.failed], [0, 1], `${wrong.length} wrong: one combined check (zip215 ${zip215})`);
    }
  }
  for (const p of prepared) p.free();
  ed25519.configurePreparedKeys({ maxBytes: ED25519_PREPARED_KEYS_DEFAULT_BYTES });
});

test("a batch never uses a batch table that fails its check: another key's table copied into a slot cannot pass a forgery", () => {
  ed25519.configurePreparedKeys({ maxBytes: ED25519_PREPARED_KEYS_DEFAULT_BYTES });
  const victimSeed = digest("batch victim").slice(0, 32);
  const attackerSeed = digest("batch attacker").slice(0, 32);
  const victim = ed25519.getPublicKey(victimSeed);
  const attacker = ed25519.getPublicKey(attackerSeed);
  ed25519.preparePublicKey(victim);
  ed25519.preparePublicKey(attacker);
  const victimTable = oddTableOf(victim);
  const attackerTable = oddTableOf(attacker);
  assert.ok(victimTable > 0 && attackerTable > 0);
  // Forgeries: R and S made with the attacker's secret scalar over k = H(R || victim || M). They
  // verify against the attacker's point under the victim's name, which is what a table swap would do.
  const expanded = sha512(attackerSeed).slice(0, 32);
  expanded[0] &= 248;
  expanded[31] &= 127;
  expanded[31] |= 64;
  const x = fromLE(expanded) % L;
  assert.equal(enc(G.multiply(x)), attacker, "the attacker's scalar");
  const forged = Array.from({ length: 8 }, (_, i) => {
    const message = digest("forged", i).slice(0, 24);
    return { signature: signWithScalar(x, victim, message, scalarOf("forged nonce", i)), message, publicKey: victim };
  });
  const valid = Array.from({ length: 8 }, (_, i) => {
    const message = digest("valid", i).slice(0, 24);
    return { signature: ed25519.sign(message, victimSeed), message, publicKey: victim };
  });
  // Intact slot: the forgeries fail, the valid items pass.
  assert.equal(ed25519.verifyBatch([...forged, ...valid]), [...forged.map(() => false), ...valid.map(() => true)]);
  // The attacker's table (and its check value) copied over the victim's: the check value covers
  // the key bytes, so the slot is refused and the key taken by its point.
  const tableAndCheck = ODD_ENTRIES * ENTRY_LIMBS * 4 + 32;
  const heap = heapU8();
  heap.copyWithin(victimTable, attackerTable, attackerTable + tableAndCheck);
  assert.is(oddTableOf(victim), 0, "the slot fails its batch check");
  for (const zip215 of [false, true]) {
    const run = batchWithChecks([...forged, ...valid], zip215);
    assert.equal(run.verdicts, [...forged.map(() => false), ...valid.map(() => true)], `zip215 ${zip215}`);
  }
  const onlyValid = batchWithChecks(valid);
  assert.equal(onlyValid.verdicts, valid.map(() => true));
  assert.equal([onlyValid.passed, onlyValid.failed], [1, 0], "the victim's point, not the copied table");
  // The single verifications inside those batches may have promoted the victim's key again (a
  // fresh slot); a table the batch used must then be the victim's own, not the copy.
  const again = oddTableOf(victim);
  if (onlyValid.tableTerms > 0) {
    assert.ok(again > 0);
    assert.not.equal(heapU8().slice(again, again + 64), heapU8().slice(attackerTable, attackerTable + 64), "a fresh table");
  }
  // One flipped bit inside the table: refused the same way.
  ed25519.configurePreparedKeys({ maxBytes: ED25519_PREPARED_KEYS_DEFAULT_BYTES });
  ed25519.preparePublicKey(victim);
  const fresh = oddTableOf(victim);
  heapU8()[fresh + 5000] ^= 0x08;
  assert.is(oddTableOf(victim), 0);
  const flipped = batchWithChecks([...forged, ...valid]);
  assert.equal(flipped.verdicts, [...forged.map(() => false), ...valid.map(() => true)]);
  // The slot that failed its check was emptied; single verification is unaffected.
  assert.ok(ed25519.verify(valid[0].signature, valid[0].message, victim));
  assert.is(ed25519.verify(forged[0].signature, forged[0].message, victim), false);
});

test("a flipped torsion flag or point in a slot cannot change a batch verdict (the batch check value covers them)", () => {
  ed25519.configurePreparedKeys({ maxBytes: ED25519_PREPARED_KEYS_DEFAULT_BYTES });
  // A mixed-order key signed with a: the default rule accepts an item singly only when 8 | k.
  const a = scalarOf("flag flip");
  const keyBytes = enc(G.multiply(a).add(torsion[1]));
  const items = Array.from({ length: 32 }, (_, i) => {
    const message = digest("flag flip message", i).slice(0, 16);
    return { signature: signWithScalar(a, keyBytes, message, scalarOf("flag flip nonce", i)), message, publicKey: keyBytes };
  });
  for (const zip215 of [false, true]) {
    const singles = items.map((it) => ed25519.verify(it.signature, it.message, keyBytes, { zip215 }));
    if (!zip215) assert.ok(singles.includes(false) && singles.includes(true));
    // Offsets: the flag (0 = has torsion; 1 would send the key's items into the combined check),
    // the point's X and Z.
    for (const [offset, value] of [[32, 1], [64, -1], [64 + 80, -1]] as const) {
      const prepared = ed25519.preparePublicKey(keyBytes);
      const body = hooks().test_prepared_body(preparedSlotOf(prepared, keyBytes));
      const heap = heapU8();
      heap[body + offset] = value >= 0 ? value : heap[body + offset] ^ 0x04;
      const run = batchWithChecks(items, zip215);
      assert.equal(run.verdicts, singles, `zip215 ${zip215}, byte ${offset} changed`);
      assert.is(run.tableTerms, 0, "the slot failed its check and was not used");
      // Emptied, and possibly prepared afresh by the hot-key promotion of the single verifications.
      const again = oddTableOf(keyBytes);
      if (again > 0) assert.is(heapU8()[hooks().test_prepared_body(preparedSlotOf(prepared, keyBytes)) + 32], 0, "a fresh slot, with the right flag");
    }
  }
  ed25519.configurePreparedKeys({ maxBytes: ED25519_PREPARED_KEYS_DEFAULT_BYTES });
});

test("a batch's lookup empties a slot whose batch table fails its check (the key is not left half-usable)", () => {
  ed25519.configurePreparedKeys({ maxBytes: ED25519_PREPARED_KEYS_DEFAULT_BYTES });
  const seed = digest("batch empties").slice(0, 32);
  const pk = ed25519.getPublicKey(seed);
  ed25519.preparePublicKey(pk);
  const table = oddTableOf(pk); // looked up while intact
  assert.ok(table > 0);
  const used = hooks().test_prepared_used();
  heapU8()[table + 3000] ^= 0x20; // inside the batch table only: single verification would not notice
  const items = Array.from({ length: 4 }, (_, i) => {
    const message = digest("batch empties message", i).slice(0, 12);
    return { signature: ed25519.sign(message, seed), message, publicKey: pk };
  });
  // Valid items under one key: one combined check that passes, no single verification (so no promotion).
  const run = batchWithChecks(items);
  assert.equal(run.verdicts, [true, true, true, true]);
  assert.equal([run.passed, run.failed, run.tableTerms], [1, 0, 0]);
  assert.is(hooks().test_prepared_used(), used - 1, "the batch emptied the slot");
  assert.not.ok(slabKeys().includes(Buffer.from(pk).toString("hex")), "the key is no longer held");
});

test("a slot taken over by a key that shares all but its sign bit (A, then -A) is not the old key's: each PreparedPublicKey verifies as its own bytes", () => {
  // One slot: preparing -A evicts A, and A's object keeps its now stale slot hint. -A's encoding
  // differs from A's in bit 255 only, so a slot check that compared less than all 32 bytes (a
  // prefix, or the check value, which shows that a slot is consistent, not whose it is) would take
  // -A's table and bytes for A.
  const slots = slabWithSlots(1);
  assert.is(slots, 1);
  try {
    for (let round = 0; round < scaled(3); round++) {
      const a = scalarOf("sign bit", round) || 1n;
      const A = enc(G.multiply(a));
      const minusA = enc(G.multiply(L - a));
      assert.equal(minusA.slice(0, 31), A.slice(0, 31));
      assert.is(minusA[31], A[31] ^ 0x80);
      const message = digest("sign bit message", round).slice(0, 40);
      const byA = signWithScalar(a, A, message, scalarOf("sign bit nonce A", round));
      const byMinusA = signWithScalar(L - a, minusA, message, scalarOf("sign bit nonce -A", round));
      assert.equal([nodeAccepts(byA, message, A), nodeAccepts(byA, message, minusA)], [true, false]);
      assert.equal([nodeAccepts(byMinusA, message, minusA), nodeAccepts(byMinusA, message, A)], [true, false]);
      const preparedA = ed25519.preparePublicKey(A);
      assert.ok(ed25519.verify(byA, message, preparedA));
      const preparedMinusA = ed25519.preparePublicKey(minusA); // evicts A
      for (const zip215 of [false, true]) {
        const options = { zip215 };
        assert.is(ed25519.verify(byMinusA, message, preparedMinusA, options), true, `-A's signature under -A, zip215 ${zip215}`);
        assert.is(ed25519.verify(byMinusA, message, preparedA, options), false, `-A's signature under A's stale object, zip215 ${zip215}`);
        assert.is(ed25519.verify(byA, message, preparedMinusA, options), false, `A's signature under -A, zip215 ${zip215}`);
        assert.is(ed25519.verify(byA, message, preparedA, options), true, `A's signature under A (prepared again), zip215 ${zip215}`);
        assert.is(ed25519.verify(byMinusA, message, preparedA, options), false, `-A's signature under A, after A took the slot back, zip215 ${zip215}`);
      }
      preparedA.free();
      preparedMinusA.free();
    }
  } finally {
    ed25519.configurePreparedKeys({ maxBytes: ED25519_PREPARED_KEYS_DEFAULT_BYTES });
  }
});

test("a prepared key with R bytes that do not decode: false in both modes, as for the key's bytes", () => {
  const a = scalarOf("undecodable R");
  const A = enc(G.multiply(a));
  const prepared = ed25519.preparePublicKey(A);
  const message = digest("undecodable R message").slice(0, 24);
  let found = 0;
  for (let i = 0; found < scaled(8); i++) {
    const rBytes = digest("undecodable R bytes", i).slice(0, 32);
    try {
      Point.fromBytes(rBytes, true);
      continue; // decodes: not the case under test
    } catch {
      found++;
    }
    // S as an honest signer would make it for that R's bytes (k hashed over them), below L.
    const signature = concat(rBytes, le((scalarOf("undecodable R nonce", i) + hramOf(rBytes, A, message) * a) % L));
    assert.is(checkAll(signature, message, A, prepared, `R bytes ${i}`), false);
  }
  prepared.free();
});

// What a decoder that stopped at the failed square root would leave when R's bytes do not decode
// (assembly/curve25519/group.ts decode_end did so until it zeroed the point): X = u v^3
// (u v^7)^((p-5)/8), Y = y, Z = 1, and T untouched (whatever the last decoding into that point
// left). Used below to make R bytes for which those values would pass ZIP-215's check
// [8](R' - R) = O: a core that left them and ignored the decoding's result on a path accepted
// these bytes there. Field arithmetic: scripts/gen-tables.ts, the curve tables' generator.
/** decode_end's X for y when no point has this y (u/v not a square), else undefined. */
function failedDecodingX(y: bigint): bigint | undefined {
  const u = mod(y * y - 1n);
  const v = mod(CURVE_D * y * y + 1n);
  const x = mod(u * pow(v, 3n) * pow(mod(u * pow(v, 7n)), (P - 5n) / 8n));
  const vxx = mod(v * x * x);
  return vxx === u || vxx === mod(-u) ? undefined : x;
}
/**
 * [8](R' - G) = O as the core computes it (ge_p3_to_cached, ge_sub, ge_p1p1_to_p3,
 * ge_mul_by_cofactor_vartime, ge_is_neutral_vartime), for R' = (x1, y1) on the curve and
 * G = (xg, yg, 1, tg), any values.
 */
function cofactoredDifferenceIsNeutral(x1: bigint, y1: bigint, xg: bigint, yg: bigint, tg: bigint): boolean {
  const a = mod((y1 + x1) * (yg - xg));
  const b = mod((y1 - x1) * (yg + xg));
  const c = mod(2n * CURVE_D * tg * x1 * y1);
  const [X, Y, Z, T] = [mod(a - b), mod(a + b), mod(2n - c), mod(2n + c)];
  let [px, py, pz] = [mod(X * T), mod(Y * Z), mod(Z * T)];
  for (let i = 0; i < 3; i++) {
    const xx = mod(px * px);
    const yy = mod(py * py);
    const sum = mod(yy + xx);
    const diff = mod(yy - xx);
    const cross = mod((px + py) ** 2n - sum);
    const t = mod(2n * pz * pz - diff);
    [px, py, pz] = [mod(cross * t), mod(sum * diff), mod(diff * t)];
  }
  return px === 0n && pz !== 0n && py === pz;
}
/**
 * y values with no point, whose failed decoding's (X, y, 1, tg) passes that check against
 * R' = (x1, y1). The check passes when the difference H has y_H = ±i x_H (a point of order 8 on
 * the curve through it with a = -1; the doubling formula does not use d): with c fixed by R' and
 * tg that condition is linear in (xg, yg), xg = mu yg, and a failed decoding's X satisfies
 * v X^2 = chi u for chi = ±i, a quadratic in yg^2.
 */
function undecodableYsPassing(x1: bigint, y1: bigint, tg: bigint): bigint[] {
  const c = mod(2n * CURVE_D * tg * x1 * y1);
  const found: bigint[] = [];
  for (const sigma of [1n, -1n]) {
    const mu = mod((y1 * (2n - c) - sigma * SQRT_M1 * x1 * (2n + c)) * inv(mod(x1 * (2n - c) - sigma * SQRT_M1 * y1 * (2n + c))));
    for (const chi of [SQRT_M1, mod(-SQRT_M1)]) {
      // d mu^2 Y^2 + (mu^2 - chi) Y + chi = 0 for Y = yg^2.
      const qa = mod(CURVE_D * mu * mu);
      const qb = mod(mu * mu - chi);
      const root = sqrt(mod(qb * qb - 4n * qa * chi));
      if (root === undefined) continue;
      for (const Y of [mod((root - qb) * inv(2n * qa)), mod((-root - qb) * inv(2n * qa))]) {
        const y = sqrt(Y);
        if (y === undefined) continue;
        for (const yg of [y, mod(-y)]) {
          const x = failedDecodingX(yg);
          if (x !== undefined && x === mod(mu * yg) && cofactoredDifferenceIsNeutral(x1, y1, x, yg, tg)) found.push(yg);
        }
      }
    }
  }
  return found;
}

test("R bytes that do not decode, chosen so that what their failed decoding leaves would pass ZIP-215's check: false on the prepared and the full-length paths", () => {
  // The previous test's R bytes are random: a path that ignored R's decoding result would check
  // them against values that pass with negligible probability, and give false all the same. These
  // are made to pass against the candidate x and y: R' = [S]B - [k]A = [s]B for S = s + k a, and
  // R's bytes a y found above for that R' and the T the last ZIP-215 decoding on the path left.
  // (The all-zero point a failed decoding now leaves passes no check: field-x4.test.ts.)
  const a = scalarOf("failed decoding");
  const A = enc(G.multiply(a));
  const prepared = ed25519.preparePublicKey(A);
  const previousMessage = digest("failed decoding, previous").slice(0, 16);
  const previousNonce = scalarOf("failed decoding, previous nonce");
  const previous = signWithScalar(a, A, previousMessage, previousNonce);
  const previousR = G.multiply(previousNonce).toAffine();
  const staleT = mod(previousR.x * previousR.y); // decode_end's T = XY of that R
  const message = digest("failed decoding message").slice(0, 24);
  let forged = 0;
  for (let s = 1n; forged < 4; s++) {
    const { x, y } = G.multiply(s).toAffine();
    for (const yg of undecodableYsPassing(x, y, staleT)) {
      const rBytes = le(yg);
      assert.throws(() => Point.fromBytes(rBytes, true), undefined, "R does not decode, even under ZIP-215");
      const signature = concat(rBytes, le((s + hramOf(rBytes, A, message) * a) % L));
      assert.is(ed25519.verify(previous, previousMessage, prepared, { zip215: true }), true, "the previous signature, whose R sets T");
      assert.is(ed25519.verify(signature, message, prepared, { zip215: true }), false, `s = ${s}: prepared, zip215`);
      // The plain path's full-length check (test mode: [S]B - [k]A, then the same subtraction)
      // with its own R point, whose T the same previous R sets.
      assert.is(fullLengthVerify(previous, previousMessage, A, true), true, "the previous signature, full-length path");
      assert.is(fullLengthVerify(signature, message, A, true), false, `s = ${s}: full-length path, zip215`);
      assert.is(checkAll(signature, message, A, prepared, `s = ${s}`), false);
      forged++;
    }
  }
  prepared.free();
});

test("the batch's table check for a slot (prepared_batch_table) takes only the key with all 32 bytes equal, whichever byte differs", () => {
  // The batch asks for a key's table by the slot it found before its single verifications, which
  // may have given that slot to another key (next test); a check on fewer bytes than all 32 (a
  // prefix, or the header's copy of the first 8) would hand it the other key's table.
  const A = enc(G.multiply(scalarOf("table check")));
  const prepared = ed25519.preparePublicKey(A);
  const slot = preparedSlotOf(prepared, A);
  const tableFor = (keyBytes: Uint8Array): number => {
    setHookInput(keyBytes);
    return hooks().test_prepared_batch_table(slot);
  };
  assert.ok(tableFor(A) > 0, "the key's own bytes");
  assert.is(tableFor(A), oddTableOf(A), "the table the lookup finds");
  for (const [at, bit] of [[0, 0x01], [7, 0x80], [8, 0x01], [16, 0x10], [30, 0x40], [31, 0x01], [31, 0x80]] as const) {
    const other = A.slice();
    other[at] ^= bit;
    assert.is(tableFor(other), 0, `byte ${at} ^ ${bit}`);
  }
  assert.is(hooks().test_prepared_batch_table(-1), 0, "no slot");
  prepared.free();
});

test("a slab key evicted during a batch (its single verifications promote another key) is taken by its point", () => {
  const slots = slabWithSlots(2);
  assert.is(slots, 2);
  const seeds = [digest("evict p1").slice(0, 32), digest("evict p2").slice(0, 32)];
  const [p1, p2] = seeds.map((seed) => ed25519.getPublicKey(seed));
  // p1 and p2 in the slab as hot keys (promoted by verify): a promotion may evict only another
  // promoted key, never one prepared on request.
  for (const [j, pk] of [p1, p2].entries()) {
    const message = digest("evict warm", j);
    const signature = ed25519.sign(message, seeds[j]);
    for (let i = 0; i < 12; i++) assert.ok(ed25519.verify(signature, message, pk));
  }
  assert.equal([...slabKeys()].sort(), [p1, p2].map((pk) => Buffer.from(pk).toString("hex")).sort(), "both promoted");
  const kScalar = scalarOf("evict k");
  const k = enc(G.multiply(kScalar).add(torsion[4]));
  const items = [];
  for (const [j, pk] of [p1, p2].entries()) {
    for (let i = 0; i < 4; i++) {
      const message = digest("evict", j, i).slice(0, 20);
      items.push({ signature: ed25519.sign(message, seeds[j]), message, publicKey: pk });
    }
  }
  // 12 items under K, a key with a torsion component (of order 2): the default rule verifies each
  // singly (an item whose R has torsion under a torsion-free key is answered false without it), and
  // K, found again and again in the decoded-key cache, is prepared on the way (hot-key promotion),
  // which evicts the least recently used slot: p1's, looked up first.
  for (let i = 0; i < 12; i++) {
    const message = digest("evict torsion", i).slice(0, 20);
    const nonce = scalarOf("evict torsion nonce", i);
    const R = enc(G.multiply(nonce));
    const S = (nonce + hramOf(R, k, message) * kScalar) % L;
    items.push({ signature: concat(R, le(S)), message, publicKey: k });
  }
  const run = batchWithChecks(items);
  const expected = items.map((it) => nodeAccepts(it.signature, it.message, it.publicKey));
  assert.equal(run.verdicts, expected);
  assert.equal(expected.slice(0, 8), Array(8).fill(true));
  assert.ok(expected.slice(8).includes(true) && expected.slice(8).includes(false), "under K, D = -[k]T: both answers occur");
  assert.is(oddTableOf(p1), 0, "p1 was evicted during the batch");
  assert.ok(oddTableOf(k) > 0, "k took its slot");
  assert.equal([run.passed, run.failed], [1, 0], "p1's term came from its point, not from k's table in its old slot");
  assert.is(run.tableTerms, 1, "p2's term from its table");
  ed25519.configurePreparedKeys({ maxBytes: ED25519_PREPARED_KEYS_DEFAULT_BYTES });
});

test("promotions never evict keys prepared on request and in use: keys verify sees often (attacker-chosen ones included) cannot push them out", () => {
  let slots = slabWithSlots(3);
  assert.is(slots, 3);
  const hexOf = (pk: Uint8Array) => Buffer.from(pk).toString("hex");
  const keyOf = (label: string, i: number) => {
    const seed = digest(label, i).slice(0, 32);
    return { seed, pk: ed25519.getPublicKey(seed) };
  };
  // Keys prepared on request are also verified while hot keys hammer (in use, as a kernel's peers are).
  let inUse: { seed: Uint8Array; pk: Uint8Array; prepared: PreparedPublicKey }[] = [];
  const hammer = (keys: { seed: Uint8Array; pk: Uint8Array }[]) => {
    for (const { seed, pk } of keys) {
      const message = digest("hammer", hexOf(pk));
      const signature = ed25519.sign(message, seed);
      const forged = signature.slice();
      forged[5] ^= 1; // invalid signatures count as sightings too (only S < L is checked first)
      for (let i = 0; i < 12; i++) {
        assert.ok(ed25519.verify(signature, message, pk));
        assert.not.ok(ed25519.verify(forged, message, pk));
      }
      for (const key of inUse) {
        const used = digest("in use", hexOf(key.pk));
        assert.ok(ed25519.verify(ed25519.sign(used, key.seed), used, key.prepared));
      }
    }
  };
  // Two keys prepared on request, one slot left for hot keys.
  const asked = [keyOf("asked", 0), keyOf("asked", 1)];
  const prepared = asked.map(({ pk }) => ed25519.preparePublicKey(pk));
  inUse = asked.map((key, j) => ({ ...key, prepared: prepared[j] }));
  hammer(Array.from({ length: 6 }, (_, i) => keyOf("hot", i)));
  const held = slabKeys();
  for (const { pk } of asked) assert.ok(held.includes(hexOf(pk)), "a key prepared on request is still held");
  assert.ok(held.includes(hexOf(keyOf("hot", 5).pk)), "the free slot went to the latest hot key");
  // A third key asked for takes the promoted key's slot, not an older key asked for.
  const third = keyOf("asked", 2);
  inUse.push({ ...third, prepared: ed25519.preparePublicKey(third.pk) });
  assert.equal([...slabKeys()].sort(), [...asked, third].map(({ pk }) => hexOf(pk)).sort());
  // With every slot asked for and in use, hot keys are verified without the slab, with the same verdicts.
  hammer(Array.from({ length: 4 }, (_, i) => keyOf("hot again", i)));
  assert.equal([...slabKeys()].sort(), [...asked, third].map(({ pk }) => hexOf(pk)).sort(), "no promotion evicted one");
  // A promoted key that is then asked for counts as asked for.
  ed25519.configurePreparedKeys({ maxBytes: 0 });
  slots = slabWithSlots(2);
  const hot = keyOf("promoted then asked", 0);
  inUse = [];
  hammer([hot]);
  assert.ok(slabKeys().includes(hexOf(hot.pk)), "promoted");
  inUse = [{ ...hot, prepared: ed25519.preparePublicKey(hot.pk) }];
  hammer(Array.from({ length: 4 }, (_, i) => keyOf("later hot", i)));
  assert.ok(slabKeys().includes(hexOf(hot.pk)), "kept once asked for");
  // Verdicts through the kept slots are the single verdicts.
  for (const [j, { seed, pk }] of asked.entries()) {
    const message = digest("kept", j);
    assert.ok(ed25519.verify(ed25519.sign(message, seed), message, prepared[j]));
    assert.ok(ed25519.verify(ed25519.sign(message, seed), message, pk));
  }
  ed25519.configurePreparedKeys({ maxBytes: ED25519_PREPARED_KEYS_DEFAULT_BYTES });
});

test("configurePreparedKeys as the first call, with memory that cannot grow that far: WASM_OUT_OF_MEMORY, and the layout of an instance never configured (child processes with --wasm-max-mem-pages)", () => {
  // 12 pages (768 KiB) hold the core but no slab of 400,000 bytes, nor the default one; 32 pages
  // (2 MiB) hold the default slab but not one of 4,000,000 bytes; 70,000 bytes hold one key.
  // Review 46: the first call recorded the size, the instance then started with prepared keys
  // off, and the call returned { maxBytes: 400000, slots: 0 } as a success. Hunt 52: after that
  // fix the instance still ran without prepared keys, reporting { maxBytes: 655360, slots: 0 },
  // where an instance never configured lays out the default (19 keys at 32 pages).
  const child = fileURLToPath(new URL("../helpers/prepared-slab-memory-child.ts", import.meta.url));
  const run = (pages: number, first: string) => {
    const out = execFileSync(process.execPath, [`--wasm-max-mem-pages=${pages}`, "--import", "tsx", child, first, "70000"], { encoding: "utf8", timeout: 120_000 });
    return JSON.parse(out.trim().split("\n").pop()!);
  };
  for (const [pages, large, expected] of [
    [12, "400000", { maxBytes: 0, slots: 0 }],
    [32, "4000000", { maxBytes: ED25519_PREPARED_KEYS_DEFAULT_BYTES, slots: 19 }],
  ] as const) {
    const never = run(pages, "none");
    assert.is(never.configuredFirst, "not called");
    assert.equal(never.layoutAfter, expected, `${pages} pages: the layout of an instance never configured`);
    const result = run(pages, large);
    assert.is(result.configuredFirst, "WasmCoreError WASM_OUT_OF_MEMORY", `${pages} pages`);
    assert.equal(result.layoutAfter, never.layoutAfter, `${pages} pages: as if configurePreparedKeys had not been called`);
    for (const outcome of [never, result]) {
      assert.is(outcome.configuredSmall, JSON.stringify({ maxBytes: 70_000, slots: 1 }), "a size that fits is laid out on the live instance");
      assert.equal(outcome.layoutSmall, { maxBytes: 70_000, slots: 1 });
      assert.equal(outcome.verdicts, [true, true, false], "verdicts through it all: prepared, as bytes, a flipped bit");
    }
  }
});

test("free() empties the slot only when no other PreparedPublicKey of the key holds it: an exchange's anchor survives a caller's free() of its own copy", () => {
  ed25519.configurePreparedKeys({ maxBytes: ED25519_PREPARED_KEYS_DEFAULT_BYTES });
  const held = (pk: Uint8Array) => slabKeys().includes(Buffer.from(pk).toString("hex"));
  const seed = digest("free holders").slice(0, 32);
  const pk = ed25519.getPublicKey(seed);
  const message = digest("free holders message");
  const signature = ed25519.sign(message, seed);
  const [first, second] = [ed25519.preparePublicKey(pk), ed25519.preparePublicKey(pk)];
  first.free();
  assert.ok(held(pk), "the second object still holds the key");
  assert.ok(ed25519.verify(signature, message, second));
  second.free();
  assert.not.ok(held(pk), "the last holder's free() empties the slot");
  // A freed object verified again prepares the key again and holds it once more.
  assert.ok(ed25519.verify(signature, message, first));
  assert.ok(held(pk), "prepared again by its verification");
  second.free(); // freed already: holds nothing, so the slot stays
  assert.ok(held(pk));
  first.free();
  assert.not.ok(held(pk));
  // Review 51: a caller that prepares an anchor's key and frees its copy, as the README advises
  // for keys it drops, emptied the exchange's slot; the exchange's anchors then went to hot keys.
  const anchorSeed = digest("free holders anchor").slice(0, 32);
  const anchor = Keypair.fromSeed(anchorSeed).publicKey;
  const exchange = new KernelTrustExchange("kernel.local", Keypair.fromSeed(digest("free holders local").slice(0, 32))).withTrustedPeer("kernel.anchor", anchor);
  assert.ok(held(anchor.toBytes()), "the exchange prepared its anchor");
  ed25519.preparePublicKey(anchor.toBytes()).free();
  assert.ok(held(anchor.toBytes()), "the caller's free() left the exchange's slot");
  assert.is(exchange.localKernelId, "kernel.local");
});

// Review 46, finding 4: keys prepared and dropped without free() kept their slots from every hot
// key for good. A FinalizationRegistry now leaves a collected key's slot to LRU eviction;
// observable only after a forced collection, so this runs in a child with --expose-gc.
test("a PreparedPublicKey collected without free() leaves its slot to hot keys; keys still reachable keep theirs (child process with --expose-gc)", () => {
  const child = fileURLToPath(new URL("../helpers/prepared-public-gc-child.ts", import.meta.url));
  const out = execFileSync(process.execPath, ["--expose-gc", "--import", "tsx", child], { encoding: "utf8", timeout: 120_000 });
  const result = JSON.parse(out.trim().split("\n").pop()!);
  assert.is(result.slots, 4);
  assert.equal(result.collectedLabels, ["dropped 1", "dropped 2", "twin"], "the dropped objects were collected");
  assert.equal(result.heldBeforeCollection, ["dropped 1", "dropped 2", "kept", "twin"], "before: every slot prepared on request, the hot key left out");
  // After: two hot keys took the dropped keys' slots and the third evicted the first hot key;
  // the kept key and the twin (one of its two objects still alive, unused since) stayed.
  assert.equal(result.heldAfterCollection, ["hot 2", "hot 3", "kept", "twin"]);
  // An exchange's prepared anchors (half the slots) stay prepared on request while it lives, though
  // nobody else holds their objects and it verifies by key bytes, also once another object of an
  // anchor's key and a rebuilt exchange with the same anchors were collected (review 50): the same
  // hot keys take only the two dropped keys' slots.
  assert.equal(result.collectedAtTheEnd, [
    "a rebuilt exchange with the same anchors",
    "again dropped 1",
    "again dropped 2",
    "anchor 1's other object",
    "dropped 1",
    "dropped 2",
    "twin",
  ]);
  assert.equal(result.heldWithExchange, ["anchor 1", "anchor 2", "dropped 1", "dropped 2"]);
  assert.equal(result.heldAfterExchangeCollection, ["anchor 1", "anchor 2", "hot 2", "hot 3"]);
  assert.is(result.exchangeAlive, "kernel.local");
  assert.ok(result.allVerdictsRight, "every verdict the single verdict");
  assert.is(result.verdictCount, 116);
});

/** The key bytes (hex) each slot holds, "" for an empty slot. */
function slabKeys(): string[] {
  const { slots } = ed25519.preparedKeysLayout();
  const heap = heapU8();
  return Array.from({ length: slots }, (_, s) => {
    const body = hooks().test_prepared_body(s);
    const key = Buffer.from(heap.subarray(body, body + 32));
    return key.every((b) => b === 0) ? "" : key.toString("hex");
  });
}

test("lookups go through the slab's index: with many slots, through evictions and frees, every held key is found, never prepared twice", () => {
  const { slots } = ed25519.configurePreparedKeys({ maxBytes: 150 * 34_000 });
  assert.ok(slots >= 100, `slots ${slots}`);
  const keys = Array.from({ length: 3 * slots }, (_, i) => {
    const seed = digest("index", i).slice(0, 32);
    return { seed, pk: ed25519.getPublicKey(seed) };
  });
  const msg = new Uint8Array([4, 2]);
  const signatures = keys.map((k) => ed25519.sign(msg, k.seed));
  // Every object made is kept, so that "free a key" can free all its objects: free() empties a
  // slot only once no other object of the key holds it (nor an object dropped but not collected).
  const objectsOf = new Map<string, PreparedPublicKey[]>();
  const prepare = (pk: Uint8Array): PreparedPublicKey => {
    const object = ed25519.preparePublicKey(pk);
    const hex = Buffer.from(pk).toString("hex");
    objectsOf.set(hex, [...(objectsOf.get(hex) ?? []), object]);
    return object;
  };
  const freeAll = (pk: Uint8Array) => objectsOf.get(Buffer.from(pk).toString("hex"))?.forEach((object) => object.free());
  // Three slabs' worth of keys pass through (each eviction leaves a tombstone; the index is
  // rebuilt as they pile up). After each window the last `slots` keys must all be held, once each,
  // and verifying them again must find them all (a lookup that missed would prepare a key again,
  // evicting another one and changing the slab).
  for (let start = 0; start + slots <= keys.length; start += slots >> 1) {
    const window = keys.slice(start, start + slots);
    window.forEach((k) => prepare(k.pk));
    const held = slabKeys();
    const hex = window.map((k) => Buffer.from(k.pk).toString("hex"));
    assert.equal([...held].sort(), [...hex].sort(), `window from ${start}: the slab holds exactly its keys`);
    for (let round = 0; round < 2; round++) {
      window.forEach((k, i) => assert.ok(ed25519.verify(signatures[start + i], msg, k.pk), `key ${start + i}`));
    }
    assert.equal(slabKeys(), held, `window from ${start}: every lookup found its key (nothing prepared again)`);
  }
  // Free every other key of the last window, then prepare new keys into the freed slots.
  const last = keys.slice(keys.length - slots);
  last.forEach((k) => prepare(k.pk)); // found again: same slots
  last.forEach((k, i) => i % 2 === 0 && freeAll(k.pk));
  assert.is(hooks().test_prepared_used(), slots - Math.ceil(slots / 2));
  const fresh = Array.from({ length: Math.ceil(slots / 2) }, (_, i) => ed25519.getPublicKey(digest("index fresh", i).slice(0, 32)));
  fresh.forEach((pk) => prepare(pk));
  const held = slabKeys();
  assert.is(new Set(held).size, slots, "every slot in use, no key twice");
  last.forEach((k, i) => i % 2 === 1 && assert.ok(ed25519.verify(signatures[keys.length - slots + i], msg, k.pk)));
  assert.equal(slabKeys(), held, "the kept keys are found after the frees and the new preparations");
  // Freeing all but 10 keys leaves more tombstones than a quarter of the index (at most 4 entries
  // per slot), so it is rebuilt from the slots on the way; the 10 must still be found.
  const keep = last.filter((_, i) => i % 2 === 1).slice(0, 10);
  const keepHex = new Set(keep.map((k) => Buffer.from(k.pk).toString("hex")));
  [...last.filter((_, i) => i % 2 === 1), ...fresh.map((pk) => ({ pk }))]
    .filter((k) => !keepHex.has(Buffer.from(k.pk).toString("hex")))
    .forEach((k) => {
      prepare(k.pk);
      freeAll(k.pk);
    });
  assert.is(hooks().test_prepared_used(), 10);
  const afterFrees = slabKeys();
  keep.forEach((k) => {
    const i = keys.findIndex((other) => other === k);
    assert.ok(ed25519.verify(signatures[i], msg, k.pk));
  });
  assert.equal(slabKeys(), afterFrees, "the 10 kept keys are found after the index was rebuilt");
  ed25519.configurePreparedKeys({ maxBytes: ED25519_PREPARED_KEYS_DEFAULT_BYTES });
});

test("a corrupted index never changes a verdict: keys it no longer finds are prepared again", () => {
  const { slots } = ed25519.configurePreparedKeys({ maxBytes: 40 * 34_000 });
  const keys = Array.from({ length: slots }, (_, i) => {
    const seed = digest("index corrupt", i).slice(0, 32);
    return { seed, pk: ed25519.getPublicKey(seed), prepared: ed25519.preparePublicKey(ed25519.getPublicKey(seed)) };
  });
  const msg = new Uint8Array([8]);
  const { capacity, indexAt } = indexLayout(slots);
  for (const fill of ["random", "every entry slot 0", "all tombstones"]) {
    const heap = heapU8();
    for (let e = 0; e < capacity; e++) {
      const value = fill === "random" ? Buffer.from(digest("garbage", e)).readUInt32LE(0) : fill === "every entry slot 0" ? 1 : 0xffffffff;
      new DataView(heap.buffer).setUint32(indexAt + 4 * e, value, true);
    }
    keys.forEach((k, i) => {
      const sig = ed25519.sign(msg, k.seed);
      assert.ok(ed25519.verify(sig, msg, k.prepared), `${fill}: key ${i}`);
      assert.ok(ed25519.verify(sig, msg, k.pk, { zip215: true }), `${fill}: key ${i} as bytes`);
      const bad = sig.slice();
      bad[50] ^= 2;
      assert.is(ed25519.verify(bad, msg, k.prepared), false, `${fill}: key ${i} tampered`);
      assert.equal(ed25519.verifyBatch([{ signature: sig, message: msg, publicKey: k.prepared }, { signature: bad, message: msg, publicKey: k.prepared }, { signature: sig, message: msg, publicKey: k.pk }]), [true, false, true]);
    });
    assert.ok(hooks().test_prepared_used() <= slots, "still within its slots");
  }
  ed25519.configurePreparedKeys({ maxBytes: ED25519_PREPARED_KEYS_DEFAULT_BYTES });
});

/** Where the index lies: between the headers and the first body, capacity = the power of two from 2 * slots up (at least 16). */
function indexLayout(slots: number): { capacity: number; indexAt: number } {
  let capacity = 16;
  while (capacity < 2 * slots) capacity *= 2;
  return { capacity, indexAt: hooks().test_prepared_body(0) - 4 * capacity };
}

const POSITION_KEY = Uint8Array.from(digest("position key").subarray(0, 16));

/**
 * The index at indexAt (capacity entries) holds exactly the slab's keys, each once, at or after
 * its home position with no empty entry in between (so a lookup's probes reach it), and nothing
 * else but empty entries and tombstones. Home position (prepared-public.ts index_home): the low
 * bits of SipHash-2-4 of the key bytes under the position key `positionKey`.
 */
function assertIndexMatchesSlab(indexAt: number, capacity: number, positionKey: Uint8Array): void {
  const entry = (e: number) => new DataView(heapU8().buffer).getUint32(indexAt + 4 * e, true);
  const inSlab = slabKeys();
  const named = Array.from({ length: capacity }, (_, e) => entry(e)).filter((v) => v !== 0 && v !== 0xffffffff);
  assert.equal(named.slice().sort((a, b) => a - b), inSlab.flatMap((hex, s) => (hex === "" ? [] : [s + 1])), "one entry per prepared slot, no garbage");
  for (const [s, hex] of inSlab.entries()) {
    if (hex === "") continue;
    let e = Number(siphash24Reference(positionKey, Buffer.from(hex, "hex")) & BigInt(capacity - 1));
    while (entry(e) !== s + 1) {
      assert.is.not(entry(e), 0, `slot ${s}: an empty entry before its own`);
      e = (e + 1) % capacity;
    }
  }
}

test("an index left with no free entry (corruption) is rebuilt when a key is added: afterwards one entry per prepared key, where its probes find it", () => {
  const { slots } = ed25519.configurePreparedKeys({ maxBytes: 12 * 34_000 });
  seedKeyIndex(POSITION_KEY);
  const keys = Array.from({ length: slots + 1 }, (_, i) => {
    const seed = digest("index full", i).slice(0, 32);
    return { seed, pk: ed25519.getPublicKey(seed) };
  });
  const prepared = keys.slice(0, slots).map((k) => ed25519.preparePublicKey(k.pk));
  const { capacity, indexAt } = indexLayout(slots);
  // Every entry names slot 0: no empty entry, no tombstone. Slot 0 is then used, so the next
  // preparation evicts another slot, whose entry removal finds nothing to turn into a tombstone.
  for (let e = 0; e < capacity; e++) new DataView(heapU8().buffer).setUint32(indexAt + 4 * e, 1, true);
  const msg = new Uint8Array([4]);
  assert.ok(ed25519.verify(ed25519.sign(msg, keys[0].seed), msg, prepared[0]));
  const added = ed25519.preparePublicKey(keys[slots].pk);
  assert.ok(ed25519.verify(ed25519.sign(msg, keys[slots].seed), msg, added));
  assertIndexMatchesSlab(indexAt, capacity, POSITION_KEY);
  const inSlab = slabKeys();
  assert.ok(inSlab.includes(Buffer.from(keys[slots].pk).toString("hex")), "the added key is in the slab");
  ed25519.configurePreparedKeys({ maxBytes: ED25519_PREPARED_KEYS_DEFAULT_BYTES });
});

test("tombstones crossing a quarter of the index while a lookup empties a corrupted slot: the index is rebuilt mid-lookup, the verdict holds, the index matches the slab", () => {
  const { slots } = ed25519.configurePreparedKeys({ maxBytes: 12 * 34_000 });
  seedKeyIndex(POSITION_KEY);
  const { capacity, indexAt } = indexLayout(slots);
  const keys = Array.from({ length: slots }, (_, i) => {
    const seed = digest("index mid-lookup", i).slice(0, 32);
    return { seed, pk: ed25519.getPublicKey(seed) };
  });
  const prepared = keys.map((k) => ed25519.preparePublicKey(k.pk));
  const tombstones = () => Array.from({ length: capacity }, (_, e) => new DataView(heapU8().buffer).getUint32(indexAt + 4 * e, true)).filter((v) => v === 0xffffffff).length;
  // Frees leave tombstones; the index is rebuilt once they exceed a quarter of it.
  const quarter = capacity / 4;
  assert.ok(slots - 1 > quarter, "enough keys to reach the threshold");
  for (let i = 0; i < quarter; i++) prepared[i].free();
  assert.is(tombstones(), quarter, "at the threshold, not past it");
  // The last key's comb table corrupted: its lookup empties the slot, whose tombstone tips the count.
  const victim = keys[slots - 1];
  const body = hooks().test_prepared_body(preparedSlotOf(prepared[slots - 1], victim.pk));
  heapU8()[body + 100] ^= 0x10;
  const msg = new Uint8Array([6]);
  const sig = ed25519.sign(msg, victim.seed);
  assert.ok(ed25519.verify(sig, msg, prepared[slots - 1]));
  const bad = sig.slice();
  bad[40] ^= 1;
  assert.is(ed25519.verify(bad, msg, prepared[slots - 1]), false);
  assert.is(tombstones(), 0, "rebuilt: no tombstones left");
  assertIndexMatchesSlab(indexAt, capacity, POSITION_KEY);
  for (const [i, k] of keys.entries()) {
    if (i < quarter) continue;
    assert.ok(ed25519.verify(ed25519.sign(msg, k.seed), msg, prepared[i]), `key ${i}`);
  }
  assertIndexMatchesSlab(indexAt, capacity, POSITION_KEY);
  ed25519.configurePreparedKeys({ maxBytes: ED25519_PREPARED_KEYS_DEFAULT_BYTES });
});

test("a new position key moves every prepared key's index entry to its new home: all found, none prepared twice", () => {
  const { slots } = ed25519.configurePreparedKeys({ maxBytes: 12 * 34_000 });
  const { capacity, indexAt } = indexLayout(slots);
  seedKeyIndex(POSITION_KEY);
  const keys = Array.from({ length: slots }, (_, i) => {
    const seed = digest("index reseeded", i).slice(0, 32);
    return { seed, pk: ed25519.getPublicKey(seed) };
  });
  keys.forEach((k) => ed25519.preparePublicKey(k.pk));
  assertIndexMatchesSlab(indexAt, capacity, POSITION_KEY);
  const held = slabKeys();
  const otherKey = Uint8Array.from(digest("another position key").subarray(0, 16));
  seedKeyIndex(otherKey);
  assertIndexMatchesSlab(indexAt, capacity, otherKey);
  const msg = new Uint8Array([8]);
  keys.forEach((k, i) => assert.ok(ed25519.verify(ed25519.sign(msg, k.seed), msg, k.pk), `key ${i}`));
  keys.forEach((k) => ed25519.preparePublicKey(k.pk));
  assert.equal(slabKeys(), held, "every key found in its slot (a missed lookup would prepare it again)");
  ed25519.configurePreparedKeys({ maxBytes: ED25519_PREPARED_KEYS_DEFAULT_BYTES });
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
  ed25519.configurePreparedKeys({ maxBytes: ED25519_PREPARED_KEYS_DEFAULT_BYTES });
  assert.ok(ed25519.preparedKeysLayout().slots > 10);
  assert.ok(ed25519.verify(sig, msg, prepared));
});

test.run();
