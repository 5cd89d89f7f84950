// The exchange prepares its peers' keys for verification (issue 8: "the exchange prepares pinned
// peers' keys"): a trust anchor when it is added and a key when it is pinned, so the peer's next
// envelopes take the prepared path from the first one on. Observed through the test build's
// slab counter; the verdicts themselves are covered by the handshake suites.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { ed25519, ED25519_PREPARED_KEYS_DEFAULT_BYTES } from "../../src/ed25519.js";
import { FederationPeer, InMemoryPeerStore, KernelTrustExchange, Keypair } from "../../src/handshake/index.js";
import { argsBase, coreExports, heapU8, initSync, resetInstance } from "../../src/wasm/instance.js";
import { ARG_RESULT, TEST_HOOK_INPUT } from "../../src/wasm/abi.js";
import { testModule } from "../helpers/test-core.js";
import { A, B, C, NOW, X, Y } from "../helpers/kernels.js";
import { slabWithSlots } from "../helpers/prepared-slab.js";

const preparedSlotsInUse = (): number => (coreExports() as unknown as { test_prepared_used(): number }).test_prepared_used();
const seed = (n: number): Uint8Array => new Uint8Array(32).fill(n);
/** Whether the slab holds each key, found through its index with its check value (an emptied slot keeps its old bytes). */
const held = (...keys: Keypair[]): boolean[] =>
  keys.map((kp) => {
    heapU8().set(kp.publicKey.toBytes(), argsBase() + ARG_RESULT + TEST_HOOK_INPUT);
    return (coreExports() as unknown as { test_prepared_odd_table(): number }).test_prepared_odd_table() !== 0;
  });

test.before(() => {
  resetInstance();
  initSync(testModule());
});
test.after(() => resetInstance());

test("withTrustedPeer prepares the anchor; a pin prepares the pinned key", async () => {
  ed25519.configurePreparedKeys({ maxBytes: ED25519_PREPARED_KEYS_DEFAULT_BYTES }); // drops every prepared key
  assert.is(preparedSlotsInUse(), 0);
  const kpA = Keypair.fromSeed(seed(1));
  const kpB = Keypair.fromSeed(seed(2));
  const a = new KernelTrustExchange(A, kpA).withClock(() => NOW).withTrustedPeer(B, kpB.publicKey);
  assert.is(preparedSlotsInUse(), 1, "the anchor of B is prepared when it is added");
  const b = new KernelTrustExchange(B, kpB).withClock(() => NOW).withTrustedPeer(A, kpA.publicKey);
  assert.is(preparedSlotsInUse(), 2, "the anchor of A too");
  await a.acceptEnvelope(b.localEnvelope(A, "n-1").toJSONText(), B);
  assert.is(preparedSlotsInUse(), 2, "a renewed pin of an already prepared key prepares nothing more");
  assert.ok(await a.resolve(B));

  // A pin without an anchor: the exchange knows B only from its store.
  const store = new InMemoryPeerStore();
  store.insert(new FederationPeer({ kernelId: B, publicKey: kpB.publicKey, establishedAt: NOW - 10, rotationDue: NOW + 10 }));
  const pinnedOnly = new KernelTrustExchange(A, kpA).withClock(() => NOW).withStore(store);
  ed25519.configurePreparedKeys({ maxBytes: ED25519_PREPARED_KEYS_DEFAULT_BYTES });
  assert.is(preparedSlotsInUse(), 0);
  await pinnedOnly.acceptEnvelope(b.localEnvelope(A, "n-2").toJSONText(), B);
  assert.is(preparedSlotsInUse(), 1, "the pinned key of B is prepared when the pin is written");
});

test("an exchange prepares at most half the slab's slots; further peers are left to hot-key promotion", () => {
  ed25519.configurePreparedKeys({ maxBytes: ED25519_PREPARED_KEYS_DEFAULT_BYTES });
  const half = ed25519.preparedKeysLayout().slots >>> 1;
  assert.ok(half >= 2, `slots: ${ed25519.preparedKeysLayout().slots}`);
  const exchange = new KernelTrustExchange(A, Keypair.fromSeed(seed(1)));
  for (let i = 0; i < half + 5; i++) exchange.withTrustedPeer(`kernel.peer-${i}`, Keypair.fromSeed(seed(10 + i)).publicKey);
  assert.is(preparedSlotsInUse(), half);
});

test("after a new slab layout or a rebuilt instance, the exchange prepares its anchors and pins again when it next pins them", async () => {
  ed25519.configurePreparedKeys({ maxBytes: ED25519_PREPARED_KEYS_DEFAULT_BYTES });
  const kpA = Keypair.fromSeed(seed(1));
  const kpB = Keypair.fromSeed(seed(2));
  const kpC = Keypair.fromSeed(seed(3));
  const a = new KernelTrustExchange(A, kpA).withClock(() => NOW).withTrustedPeer(B, kpB.publicKey).withTrustedPeer(C, kpC.publicKey);
  const b = new KernelTrustExchange(B, kpB).withClock(() => NOW);
  const c = new KernelTrustExchange(C, kpC).withClock(() => NOW);
  assert.equal(held(kpB, kpC), [true, true]);
  let nonce = 0;
  const accept = (from: KernelTrustExchange, id: string) => a.acceptEnvelope(from.localEnvelope(A, `n-${++nonce}`).toJSONText(), id);

  // The slab laid out anew (the same size): it holds nothing, and B's next pin prepares B again
  // (with the exchange's objects of the old layout kept, it counted B as prepared: review 51 F3).
  ed25519.configurePreparedKeys({ maxBytes: ED25519_PREPARED_KEYS_DEFAULT_BYTES });
  assert.equal(held(kpB, kpC), [false, false]);
  await accept(b, B);
  assert.equal(held(kpB, kpC), [true, false], "B's pin prepared B again");
  await accept(c, C);
  assert.equal(held(kpB, kpC), [true, true], "and C's, C");
  await accept(b, B);
  assert.is(preparedSlotsInUse(), 2, "once per layout");

  // An instance rebuilt (as after a trap): the same.
  resetInstance();
  initSync(testModule());
  assert.equal(held(kpB, kpC), [false, false]);
  await accept(c, C);
  assert.equal(held(kpB, kpC), [false, true]);
  assert.is(preparedSlotsInUse(), 1);

  // A smaller slab: at most half its slots, in the order the keys are pinned again.
  const slots = slabWithSlots(2);
  assert.is(slots, 2);
  await accept(b, B);
  await accept(c, C);
  assert.equal(held(kpB, kpC), [true, false], "half of 2 slots: B only");
  assert.is(preparedSlotsInUse(), 1);
  ed25519.configurePreparedKeys({ maxBytes: ED25519_PREPARED_KEYS_DEFAULT_BYTES });
});

test("a replaced anchor list lets go of the prepared keys no anchor lists any more (review 82)", () => {
  // #forgetPrepared: speed only, so no verdict shows it; the slab's counter and index do.
  ed25519.configurePreparedKeys({ maxBytes: ED25519_PREPARED_KEYS_DEFAULT_BYTES });
  const [k1, k2, k3] = [21, 22, 23].map((n) => Keypair.fromSeed(seed(n)));
  const exchange = new KernelTrustExchange(A, Keypair.fromSeed(seed(1))).withTrustedPeer(B, [k1.publicKey, k2.publicKey]);
  assert.equal(held(k1, k2, k3), [true, true, false], "both keys of B's list are prepared");
  exchange.withTrustedPeer(C, k2.publicKey);
  assert.is(preparedSlotsInUse(), 2, "a key already prepared by this exchange is not prepared twice");
  // B rotated to k3: k1 is listed nowhere (released), k2 still by C's anchor (kept).
  exchange.withTrustedPeer(B, k3.publicKey);
  assert.equal(held(k1, k2, k3), [false, true, true]);
  assert.is(preparedSlotsInUse(), 2, "k1's slot is free again");
  exchange.withTrustedPeer(C, k3.publicKey);
  assert.equal(held(k1, k2, k3), [false, false, true], "k2 is released once no anchor lists it");
  assert.is(preparedSlotsInUse(), 1);
  // Dropping a list for the same list releases nothing.
  exchange.withTrustedPeer(B, [k3.publicKey]);
  assert.equal(held(k1, k2, k3), [false, false, true]);
  assert.is(preparedSlotsInUse(), 1);
});

test("forget() lets go of the forgotten pin's prepared key, so forgotten peers do not fill the exchange's half of the slab (hunt 29)", async () => {
  // Pinned-only peers (no anchor): their keys are prepared when their pins are written. Before,
  // forget() left each forgotten key prepared on request for the exchange's life: once half the
  // slots held forgotten keys, no later pin or anchor was prepared, and hot keys could not evict them.
  const slots = slabWithSlots(4);
  assert.is(slots, 4);
  const [kpB, kpC, kpD, kpX] = [31, 32, 33, 34].map((n) => Keypair.fromSeed(seed(n)));
  const store = new InMemoryPeerStore();
  const pin = (id: string, kp: Keypair) =>
    store.insert(new FederationPeer({ kernelId: id, publicKey: kp.publicKey, establishedAt: NOW - 10, rotationDue: NOW + 1000 }));
  const a = new KernelTrustExchange(A, Keypair.fromSeed(seed(1))).withClock(() => NOW).withStore(store);
  let nonce = 0;
  const accept = (id: string, kp: Keypair) =>
    a.acceptEnvelope(new KernelTrustExchange(id, kp).withClock(() => NOW).localEnvelope(A, `n-${++nonce}`).toJSONText(), id);
  pin(B, kpB);
  pin(C, kpC);
  await accept(B, kpB);
  await accept(C, kpC);
  assert.equal(held(kpB, kpC), [true, true], "each pin prepares its key (half of 4 slots: 2)");
  assert.ok(await a.forget(B));
  assert.equal(held(kpB, kpC), [false, true], "the forgotten pin's key is released");
  assert.ok(await a.forget(C));
  assert.is(preparedSlotsInUse(), 0);
  // The peers' new keys (pinned by an operator, say) are prepared at their next pins.
  pin(B, kpD);
  pin(C, kpX);
  await accept(B, kpD);
  await accept(C, kpX);
  assert.equal(held(kpB, kpC, kpD, kpX), [false, false, true, true], "new pins are prepared again");
  // A key an anchor lists stays prepared when a pin of it is forgotten.
  a.withTrustedPeer(X, kpD.publicKey);
  assert.ok(await a.forget(B));
  assert.equal(held(kpD), [true], "kept for X's anchor");
  assert.is(await a.forget(Y), undefined, "forgetting no pin releases nothing");
  assert.equal(held(kpD, kpX), [true, true]);
  // The anchors and the keys let go are read with what was captured at load: a replaced
  // Array.from, or array iterator, that throws does not fail a forget() whose pin is already removed.
  const arrayFrom = Array.from;
  const arrayIterator = Object.getPrototypeOf([][Symbol.iterator]()) as { next: () => unknown };
  const arrayNext = arrayIterator.next;
  Array.from = (() => {
    throw new Error("replaced Array.from ran");
  }) as typeof Array.from;
  arrayIterator.next = () => {
    throw new Error("replaced array iterator ran");
  };
  let forgotten: unknown;
  try {
    forgotten = await a.forget(C);
  } finally {
    Array.from = arrayFrom;
    arrayIterator.next = arrayNext;
  }
  assert.ok(forgotten);
  assert.equal(held(kpD, kpX), [true, false]);
  ed25519.configurePreparedKeys({ maxBytes: ED25519_PREPARED_KEYS_DEFAULT_BYTES });
});

test("with its half of the slab full, a new pin takes the place of the key pinned least recently, never an anchor's: keys whose pins another replica forgot do not hold it for good (hunt 29)", async () => {
  // Two replicas on one peer store: r1 forgets B's pin and an operator pins B's new key; r2 never
  // sees the old key go. Before, r2 kept every old key prepared on request, and once its half of
  // the slab was full the live pin's key was not prepared.
  const slots = slabWithSlots(4);
  assert.is(slots, 4);
  const store = new InMemoryPeerStore();
  const r1 = new KernelTrustExchange(A, Keypair.fromSeed(seed(1))).withClock(() => NOW).withStore(store);
  const anchor = Keypair.fromSeed(seed(40));
  const r2 = new KernelTrustExchange(A, Keypair.fromSeed(seed(1))).withClock(() => NOW).withStore(store).withTrustedPeer(X, anchor.publicKey);
  const keys = [41, 42, 43].map((n) => Keypair.fromSeed(seed(n)));
  let nonce = 0;
  for (const kp of keys) {
    store.insert(new FederationPeer({ kernelId: B, publicKey: kp.publicKey, establishedAt: NOW - 10, rotationDue: NOW + 1000 }));
    await r2.acceptEnvelope(new KernelTrustExchange(B, kp).withClock(() => NOW).localEnvelope(A, `lru-${++nonce}`).toJSONText(), B);
    assert.ok(held(kp)[0], "the live pin's key is prepared");
    assert.ok(await r1.forget(B));
  }
  assert.equal(held(anchor, ...keys), [true, false, false, true], "the anchor's key stays; the older pins' keys made room");
  ed25519.configurePreparedKeys({ maxBytes: ED25519_PREPARED_KEYS_DEFAULT_BYTES });
});

test.run();
