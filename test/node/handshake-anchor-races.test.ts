// Review 43's findings on the handshake's own additions to the reference (docs/protocol.md §5–§6):
// anchors replaced while an accept waits on its stores (step 9 checks them again, resolve refuses
// a pin that is not the anchor); a compare-and-set loser adopts only a concurrent pin; a replay
// store's non-boolean answer is never "undone" with release(); and escapeDelAndC1 in the
// hardening signs the old bytes too. Every store here is a real InMemoryPeerStore / ReplayCache
// with the order of its calls pinned down by gates, so each race runs the same way every time.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { createPublicKey, verify as nodeVerify } from "node:crypto";
import canonicalizeNpm from "canonicalize";
import {
  FederationPeer,
  InMemoryPeerStore,
  KernelTrustExchange,
  Keypair,
  PeerHandshakeEnvelope,
  ReplayCache,
  type HandshakeEvent,
} from "../../src/index.js";
import { withCompareAndSet } from "../helpers/peer-stores.js";
import { rejectsWith } from "../helpers/assert-codes.js";
import { A, B, NOW } from "../helpers/kernels.js";

const WINDOW = 43_200;
const keyOf = (byte: number) => Keypair.fromSeed(new Uint8Array(32).fill(byte));

/** A promise and the function that settles it. */
function gate(): { opened: Promise<void>; open: () => void } {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { opened, open };
}

/**
 * An InMemoryPeerStore whose first compareAndSet tells the test it was called (`entered`), then
 * waits for `release` before it applies; later ones apply at once.
 */
function heldWrites(inner = new InMemoryPeerStore()) {
  const entered = gate();
  const release = gate();
  let held = false;
  const store = withCompareAndSet(inner, async (id, expected, next) => {
    if (!held) {
      held = true;
      entered.open();
      await release.opened;
    }
    return inner.compareAndSet(id, expected, next);
  });
  return { inner, store, entered: entered.opened, release: release.open };
}

/**
 * A store whose first compareAndSet loses a race: `winner()` runs (it writes the winner's entry
 * into `inner`, say) and the write reports false; later ones apply, counted in `writes`.
 */
function firstWriteLoses(winner: (inner: InMemoryPeerStore) => void) {
  const inner = new InMemoryPeerStore();
  const counts = { writes: 0 };
  let raced = false;
  const store = withCompareAndSet(inner, (id, expected, next) => {
    if (!raced) {
      raced = true;
      winner(inner);
      return false;
    }
    counts.writes++;
    return inner.compareAndSet(id, expected, next);
  });
  return { inner, store, counts };
}

test("an anchor replaced while the replay store holds the accept refuses it: nothing pinned, the pair released", async () => {
  const oldKey = keyOf(2);
  const newKey = keyOf(4);
  const store = new InMemoryPeerStore();
  const cache = new ReplayCache();
  const reserved = gate();
  const answer = gate();
  const exchange = new KernelTrustExchange(A, keyOf(1), { store }).withTrustedPeer(B, oldKey.publicKey);
  exchange.withReplayStore({
    async reserve(peer, nonce, timestamp, now, skew) {
      reserved.open();
      await answer.opened;
      return cache.reserve(peer, nonce, timestamp, now, skew);
    },
    commit: (peer, nonce) => cache.commit(peer, nonce),
    release: (peer, nonce) => cache.release(peer, nonce),
  });
  const accept = exchange.acceptEnvelope(PeerHandshakeEnvelope.sign(B, A, "n1", NOW, oldKey).toJSONText(), B, NOW);
  await reserved.opened;
  exchange.withTrustedPeer(B, newKey.publicKey);
  answer.open();
  const error = await rejectsWith(accept, "UNEXPECTED_PEER_KEY");
  assert.equal(error.fields, { kernelId: B, expected: newKey.publicKey.toHex(), actual: oldKey.publicKey.toHex() });
  assert.is(store.size, 0);
  assert.is(cache.size, 0, "the reservation was released");
});

test("an anchor replaced while beforePin runs refuses the accept: nothing pinned", async () => {
  const oldKey = keyOf(2);
  const store = new InMemoryPeerStore();
  const exchange = new KernelTrustExchange(A, keyOf(1), { store }).withTrustedPeer(B, oldKey.publicKey);
  const beforePin = async () => {
    exchange.withTrustedPeer(B, keyOf(4).publicKey);
  };
  await rejectsWith(exchange.acceptEnvelope(PeerHandshakeEnvelope.sign(B, A, "n1", NOW, oldKey), B, NOW, { beforePin }), "UNEXPECTED_PEER_KEY");
  assert.is(store.size, 0);
});

test("anchor replaced and peer forgotten while a first pin's write is in flight (review 43): the accept is refused, resolve refuses the old key, a handshake under the new anchor replaces it", async () => {
  const oldKey = keyOf(2);
  const newKey = keyOf(4);
  const { inner, store, entered, release } = heldWrites();
  const events: HandshakeEvent[] = [];
  const exchange = new KernelTrustExchange(A, keyOf(1), { store, onEvent: (e) => events.push(e) }).withTrustedPeer(B, oldKey.publicKey);
  const accept = exchange.acceptEnvelope(PeerHandshakeEnvelope.sign(B, A, "n1", NOW, oldKey).toJSONText(), B, NOW);
  await entered; // checked against the old anchor; its compare-and-set is on its way
  exchange.withTrustedPeer(B, newKey.publicKey); // the operator's remediation, as the README gives it
  assert.is(await exchange.forget(B), undefined);
  release(); // the write lands after the forget
  await rejectsWith(accept, "UNEXPECTED_PEER_KEY");
  assert.ok(inner.get(B)!.publicKey.equals(oldKey.publicKey), "the write landed");
  const refused = await rejectsWith(exchange.resolve(B, NOW + 1), "UNEXPECTED_PEER_KEY");
  assert.match(refused.message, /holds a key that is not its trust anchor/);
  assert.equal(refused.fields, { kernelId: B, expected: newKey.publicKey.toHex(), actual: oldKey.publicKey.toHex() });
  // The audit log sees the write, then the refusal (review 44 F6).
  assert.equal(
    events.map((e) => `${e.type} ${"operation" in e ? e.operation : ""}${"code" in e ? e.code : ""}${"written" in e ? `written=${e.written}` : ""}`),
    ["pinned written=true", "refused acceptUNEXPECTED_PEER_KEY", "refused resolveUNEXPECTED_PEER_KEY"],
  );
  // The rotation list shows the refused pin as due now, whatever its deadline (review 44 F2).
  assert.equal((await exchange.peersDueForRotation(NOW + 1, 60)).map((p) => p.publicKey.toHex()), [oldKey.publicKey.toHex()]);
  // The old key stays refused; the new one replaces the pin (the anchor wins over it, step 6).
  await rejectsWith(exchange.acceptEnvelope(PeerHandshakeEnvelope.sign(B, A, "n2", NOW, oldKey), B, NOW), "UNEXPECTED_PEER_KEY");
  const pinned = await exchange.acceptEnvelope(PeerHandshakeEnvelope.sign(B, A, "n3", NOW + 2, newKey), B, NOW + 2);
  assert.ok(pinned.publicKey.equals(newKey.publicKey));
  assert.ok((await exchange.resolve(B, NOW + 3)).equals(pinned));
});

test("resolve refuses a durable pin whose key is not the anchor the exchange now has (a restart with a rotated anchor)", async () => {
  const oldKey = keyOf(2);
  const newKey = keyOf(4);
  const store = new InMemoryPeerStore(); // stands for the durable store both processes open
  const before = new KernelTrustExchange(A, keyOf(1), { store }).withTrustedPeer(B, oldKey.publicKey);
  await before.acceptEnvelope(PeerHandshakeEnvelope.sign(B, A, "n1", NOW, oldKey), B, NOW);
  assert.ok((await before.resolve(B, NOW + 1)).publicKey.equals(oldKey.publicKey));

  const after = new KernelTrustExchange(A, keyOf(1), { store }).withTrustedPeer(B, newKey.publicKey);
  await rejectsWith(after.resolve(B, NOW + 1), "UNEXPECTED_PEER_KEY");
  // Due now, and listed before pins that are merely near their deadline (review 44 F2).
  const c = keyOf(6);
  store.insert(new FederationPeer({ kernelId: "kernel.org-c", publicKey: c.publicKey, establishedAt: NOW - WINDOW + 30, rotationDue: NOW + 30 }));
  store.insert(new FederationPeer({ kernelId: "kernel.org-d", publicKey: keyOf(7).publicKey, establishedAt: NOW, rotationDue: NOW + WINDOW }));
  assert.equal((await after.peersDueForRotation(NOW + 1, 60)).map((p) => p.kernelId), [B, "kernel.org-c"]);
  assert.equal((await before.peersDueForRotation(NOW + 1, 60)).map((p) => p.kernelId), ["kernel.org-c"], "without the new anchor B is not due");
  // Without an anchor the pin is what names the key, as in the reference.
  assert.ok((await new KernelTrustExchange(A, keyOf(1), { store }).resolve(B, NOW + 1)).publicKey.equals(oldKey.publicKey));
  await after.acceptEnvelope(PeerHandshakeEnvelope.sign(B, A, "n2", NOW + 5, newKey), B, NOW + 5);
  assert.ok((await after.resolve(B, NOW + 6)).publicKey.equals(newKey.publicKey));
});

test("an envelope under the pinned key that the replaced anchor no longer lists is refused before any write: the pin is not renewed, no pinned event, the pair released", async () => {
  // Guards against consulting the pin before the anchor in steps 6–7 (a declared key equal to
  // the pinned one passing whatever the anchor now says). The error would still be
  // UNEXPECTED_PEER_KEY, from step 9's check after the write, but only once the old key's holder
  // had renewed its pin (new establishedAt and rotationDue) and burnt a nonce: the outcome the
  // anchor must prevent. Nothing here races; the anchor was replaced before the accept began.
  const oldKey = keyOf(2);
  const newKey = keyOf(4);
  const store = new InMemoryPeerStore();
  const cache = new ReplayCache();
  const events: HandshakeEvent[] = [];
  const exchange = new KernelTrustExchange(A, keyOf(1), { store, replayStore: cache, onEvent: (e) => events.push(e) }).withTrustedPeer(B, oldKey.publicKey);
  const first = await exchange.acceptEnvelope(PeerHandshakeEnvelope.sign(B, A, "n1", NOW, oldKey).toJSONText(), B, NOW);
  assert.is(cache.size, 1);
  exchange.withTrustedPeer(B, newKey.publicKey);
  events.length = 0;
  const error = await rejectsWith(exchange.acceptEnvelope(PeerHandshakeEnvelope.sign(B, A, "n2", NOW + 100, oldKey).toJSONText(), B, NOW + 100), "UNEXPECTED_PEER_KEY");
  assert.equal(error.fields, { kernelId: B, expected: newKey.publicKey.toHex(), actual: oldKey.publicKey.toHex() });
  assert.ok(store.get(B)!.equals(first), `pin renewed: ${JSON.stringify(store.get(B))}`);
  assert.is(store.get(B)!.rotationDue, NOW + WINDOW);
  assert.equal(events.map((e) => e.type), ["refused"]);
  assert.is(cache.size, 1, "only the first accept's pair is recorded");
  assert.not.ok(cache.has(B, "n2", NOW + 100, 300));
});

test("resolve names a replaced anchor before staleness: a stale pin of a key the anchor no longer lists is UNEXPECTED_PEER_KEY, not PEER_STALE", async () => {
  // Guards against resolve checking the anchor only for fresh pins. PEER_STALE tells the operator
  // "handshake again"; for a pin of a key the anchor no longer lists the answer is the anchor's
  // refusal, whose fields name the key now expected, at, after and long after the deadline.
  const oldKey = keyOf(2);
  const newKey = keyOf(4);
  const events: HandshakeEvent[] = [];
  const exchange = new KernelTrustExchange(A, keyOf(1), { onEvent: (e) => events.push(e) }).withTrustedPeer(B, oldKey.publicKey);
  const pin = await exchange.acceptEnvelope(PeerHandshakeEnvelope.sign(B, A, "n1", NOW, oldKey), B, NOW);
  await rejectsWith(exchange.resolve(B, pin.rotationDue), "PEER_STALE"); // under its own anchor: stale
  exchange.withTrustedPeer(B, newKey.publicKey);
  events.length = 0;
  for (const at of [pin.rotationDue - 1, pin.rotationDue, pin.rotationDue + 1, pin.rotationDue + 10 * WINDOW]) {
    const error = await rejectsWith(exchange.resolve(B, at), "UNEXPECTED_PEER_KEY");
    assert.equal(error.fields, { kernelId: B, expected: newKey.publicKey.toHex(), actual: oldKey.publicKey.toHex() });
  }
  assert.equal(events.map((e) => `${e.type} ${"code" in e ? e.code : ""}`), Array(4).fill("refused UNEXPECTED_PEER_KEY"));
});

test("a compare-and-set loser checks the anchors in force before it adopts the winner's pin", async () => {
  const oldKey = keyOf(2);
  let exchange!: KernelTrustExchange;
  const { store } = firstWriteLoses((inner) => {
    // Another accept of the old key wins the first write, and the anchor is replaced just after.
    inner.insert(new FederationPeer({ kernelId: B, publicKey: oldKey.publicKey, establishedAt: NOW, rotationDue: NOW + WINDOW }));
    exchange.withTrustedPeer(B, keyOf(4).publicKey);
  });
  exchange = new KernelTrustExchange(A, keyOf(1), { store }).withTrustedPeer(B, oldKey.publicKey);
  await rejectsWith(exchange.acceptEnvelope(PeerHandshakeEnvelope.sign(B, A, "n1", NOW, oldKey), B, NOW), "UNEXPECTED_PEER_KEY");
});

test("a compare-and-set loser renews a winner's pin established before its skew window, and adopts one within it", async () => {
  const key = keyOf(2);
  const run = async (winnerEstablishedAt: number, now: number) => {
    // The winner: a replica whose clock differs, or an accept that stalled.
    const { inner, store, counts } = firstWriteLoses((held) =>
      held.insert(new FederationPeer({ kernelId: B, publicKey: key.publicKey, establishedAt: winnerEstablishedAt, rotationDue: winnerEstablishedAt + WINDOW })),
    );
    const exchange = new KernelTrustExchange(A, keyOf(1), { store }).withTrustedPeer(B, key.publicKey);
    const peer = await exchange.acceptEnvelope(PeerHandshakeEnvelope.sign(B, A, "n1", now, key), B, now);
    assert.ok(peer.equals(inner.get(B)!), "the accept returns what the store holds");
    return { peer, writes: counts.writes };
  };
  // The winner's pin, still fresh 5 s before its deadline, was established long before this accept:
  // adopting it would hand back a deadline 5 s away. It is renewed.
  const late = NOW + WINDOW - 5;
  const renewed = await run(NOW, late);
  assert.is(renewed.writes, 1);
  assert.is(renewed.peer.establishedAt, late);
  assert.is(renewed.peer.rotationDue, late + WINDOW);
  // A concurrent handshake's pin (established within the 300 s skew window) is adopted, unwritten.
  const adopted = await run(NOW, NOW + 300);
  assert.is(adopted.writes, 0);
  assert.is(adopted.peer.rotationDue, NOW + WINDOW);
  assert.is((await run(NOW + 300, NOW)).writes, 0, "300 s ahead, as far as the skew allows");
  // A pin established far ahead (a replica whose clock runs fast) is not a concurrent one: renewed (review 44 F3).
  const ahead = await run(NOW + 10_000, NOW);
  assert.is(ahead.writes, 1);
  assert.is(ahead.peer.rotationDue, NOW + WINDOW);
});

test("a compare-and-set loser renews a concurrent pin whose deadline is much earlier than its own (a shorter window elsewhere)", async () => {
  const key = keyOf(2);
  for (const [due, writes] of [
    [NOW + 60, 1], // a replica with a 60 s window, or an operator's pin: renewed
    [NOW + WINDOW - 300, 0], // due no earlier than ours less the skew: adopted
    [NOW + WINDOW - 301, 1],
  ] as const) {
    const { store, counts } = firstWriteLoses((held) =>
      held.insert(new FederationPeer({ kernelId: B, publicKey: key.publicKey, establishedAt: NOW, rotationDue: due })),
    );
    const exchange = new KernelTrustExchange(A, keyOf(1), { store }).withTrustedPeer(B, key.publicKey);
    const peer = await exchange.acceptEnvelope(PeerHandshakeEnvelope.sign(B, A, "n1", NOW, key), B, NOW);
    assert.is(counts.writes, writes, `winner due at now + ${due - NOW}`);
    assert.is(peer.rotationDue, writes ? NOW + WINDOW : due);
  }
});

test("a compare-and-set loser never adopts a winner's pin that is already stale, even when it passes the skew rules (a window shorter than the skew)", async () => {
  // Guards against dropping the freshness condition of the adopt rule. With a 100 s window and
  // the default 300 s skew, a concurrent pin established 100 s ago and due now passes both skew
  // conditions; adopting it would make the accept succeed with a pin resolve already refuses
  // (PEER_STALE), where renewing it gives one due now + 100.
  const key = keyOf(2);
  const { inner, store, counts } = firstWriteLoses((held) =>
    held.insert(new FederationPeer({ kernelId: B, publicKey: key.publicKey, establishedAt: NOW - 100, rotationDue: NOW })),
  );
  const exchange = new KernelTrustExchange(A, keyOf(1), { store, config: { rotationWindowSecs: 100 } }).withTrustedPeer(B, key.publicKey);
  const peer = await exchange.acceptEnvelope(PeerHandshakeEnvelope.sign(B, A, "n1", NOW, key).toJSONText(), B, NOW);
  assert.is(counts.writes, 1, "the stale winner was renewed");
  assert.equal([peer.establishedAt, peer.rotationDue], [NOW, NOW + 100]);
  assert.ok(inner.get(B)!.equals(peer));
  assert.ok((await exchange.resolve(B, NOW)).equals(peer));
});

test("the adopt rule uses the skew the accept read when it started (settings are read once per accept)", async () => {
  const key = keyOf(2);
  let exchange!: KernelTrustExchange;
  const { store, counts } = firstWriteLoses((inner) => {
    // A concurrent pin 100 s older, then the skew is lowered to 50 s.
    inner.insert(new FederationPeer({ kernelId: B, publicKey: key.publicKey, establishedAt: NOW - 100, rotationDue: NOW - 100 + WINDOW }));
    exchange.withConfig({ maxHandshakeSkewSecs: 50 });
  });
  exchange = new KernelTrustExchange(A, keyOf(1), { store }).withTrustedPeer(B, key.publicKey);
  await exchange.acceptEnvelope(PeerHandshakeEnvelope.sign(B, A, "n1", NOW, key), B, NOW);
  assert.is(counts.writes, 0, "adopted under the 300 s skew the accept started with");
});

test("an accept whose pin was adopted, or written and then refused by a replaced anchor, keeps its nonce: the same envelope is REPLAYED_NONCE", async () => {
  // Guards against step 10 keeping the reservation only for a pin this accept wrote under an
  // unchanged anchor. An accept that adopted a concurrent winner's pin succeeded without a write
  // of its own, and one refused after its write landed did pin: releasing either pair would let
  // the very same envelope be accepted again (docs/protocol.md §5, §7). Real ReplayCache.
  const key = keyOf(2);
  const cache = new ReplayCache();
  const { inner, store, counts } = firstWriteLoses((held) =>
    held.insert(new FederationPeer({ kernelId: B, publicKey: key.publicKey, establishedAt: NOW, rotationDue: NOW + WINDOW })),
  );
  const exchange = new KernelTrustExchange(A, keyOf(1), { store, replayStore: cache }).withTrustedPeer(B, key.publicKey);
  const text = PeerHandshakeEnvelope.sign(B, A, "adopted", NOW, key).toJSONText();
  const adopted = await exchange.acceptEnvelope(text, B, NOW);
  assert.is(counts.writes, 0, "the winner's pin was adopted, not written");
  assert.ok(adopted.equals(inner.get(B)!));
  assert.ok(cache.has(B, "adopted", NOW, 300));
  await rejectsWith(exchange.acceptEnvelope(text, B, NOW + 1), "REPLAYED_NONCE");

  // A first pin written while the anchor was replaced: refused, but written, so its pair stays.
  const oldKey = keyOf(2);
  const newKey = keyOf(4);
  const held = heldWrites();
  const replays = new ReplayCache();
  const racing = new KernelTrustExchange(A, keyOf(1), { store: held.store, replayStore: replays }).withTrustedPeer(B, oldKey.publicKey);
  const sent = PeerHandshakeEnvelope.sign(B, A, "written", NOW, oldKey).toJSONText();
  const accept = racing.acceptEnvelope(sent, B, NOW);
  await held.entered;
  racing.withTrustedPeer(B, newKey.publicKey);
  held.release();
  await rejectsWith(accept, "UNEXPECTED_PEER_KEY");
  assert.ok(held.inner.get(B)!.publicKey.equals(oldKey.publicKey), "the write landed");
  assert.ok(replays.has(B, "written", NOW, 300), "its pair is held");
  // Both keys trusted again: the same envelope is a replay, not a second accept.
  racing.withTrustedPeer(B, [oldKey.publicKey, newKey.publicKey]);
  await rejectsWith(racing.acceptEnvelope(sent, B, NOW + 1), "REPLAYED_NONCE");
});

test("a replay store that answers undefined for a held pair (review 43): the same envelope is never accepted twice", async () => {
  const kpB = keyOf(2);
  const cache = new ReplayCache();
  const { store, entered, release } = heldWrites();
  const exchange = new KernelTrustExchange(A, keyOf(1), { store }).withTrustedPeer(B, kpB.publicKey);
  exchange.withReplayStore({
    // A sloppy store: "already held" comes back as undefined instead of false.
    reserve: (...args) => (cache.reserve(...args) ? true : (undefined as unknown as boolean)),
    commit: (peer, nonce) => cache.commit(peer, nonce),
    release: (peer, nonce) => cache.release(peer, nonce),
  });
  const text = PeerHandshakeEnvelope.sign(B, A, "once", NOW, kpB).toJSONText();
  const first = exchange.acceptEnvelope(text, B, NOW);
  await entered; // the first copy holds the pair and is writing its pin
  await rejectsWith(exchange.acceptEnvelope(text, B, NOW), "STORE_FAILED");
  await rejectsWith(exchange.acceptEnvelope(text, B, NOW), "STORE_FAILED"); // accepted before the fix
  release();
  await first;
  await rejectsWith(exchange.acceptEnvelope(text, B, NOW + 1), "STORE_FAILED");
  assert.is(cache.size, 1);
});

test("escapeDelAndC1 in the hardening signs the old bytes too: a kernel with it speaks the old form both ways", async () => {
  const kpA = keyOf(1);
  const kpB = keyOf(2);
  const nodeKey = createPublicKey({ key: Buffer.concat([Buffer.from("302a300506032b6570032100", "hex"), kpB.publicKey.toBytes()]), format: "der", type: "spki" });
  const nonce = "n\u007f\u0085\u009f1";
  const fields = { localKernelId: B, nonce, remoteKernelId: A, schema: "chio.federation-kernel-handshake.v1", timestamp: NOW };
  const rfc = Buffer.from(canonicalizeNpm(fields)!);
  // The bytes old chio Rust kernels sign: RFC 8785 with U+007F–U+009F escaped (char::is_control).
  const old = Buffer.from(canonicalizeNpm(fields)!.replace(/[\u007f-\u009f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`));
  assert.not.equal(rfc, old);

  const legacy = new KernelTrustExchange(B, kpB, { hardening: { escapeDelAndC1: true } }).localEnvelope(A, nonce, NOW);
  const modern = new KernelTrustExchange(B, kpB).localEnvelope(A, nonce, NOW);
  assert.ok(nodeVerify(null, old, nodeKey, legacy.signature.toBytes()), "the legacy kernel signs the old bytes");
  assert.not.ok(nodeVerify(null, rfc, nodeKey, legacy.signature.toBytes()));
  assert.ok(nodeVerify(null, rfc, nodeKey, modern.signature.toBytes()), "by default, RFC 8785 bytes");
  assert.not.ok(nodeVerify(null, old, nodeKey, modern.signature.toBytes()));

  const receiver = (escapeDelAndC1: boolean) =>
    new KernelTrustExchange(A, kpA, { hardening: { escapeDelAndC1 } }).withTrustedPeer(B, kpB.publicKey);
  await receiver(true).acceptEnvelope(legacy.toJSONText(), B, NOW);
  await rejectsWith(receiver(false).acceptEnvelope(legacy.toJSONText(), B, NOW), "INVALID_SIGNATURE");
  await receiver(false).acceptEnvelope(modern.toJSONText(), B, NOW);

  // Without such characters both forms are the same bytes, and so the same envelope.
  const plain = (escapeDelAndC1: boolean) => new KernelTrustExchange(B, kpB, { hardening: { escapeDelAndC1 } }).localEnvelope(A, "n1", NOW).toJSONText();
  assert.is(plain(true), plain(false));
});


test("peersDueForRotation: replaced Array.prototype.map, filter and sort and a replaced Number decide neither which pins are due nor their order (hunt 23)", async () => {
  // It listed the due pins with the realm's map, filter and sort, and ordered them with the
  // global Number, all looked up at each call: caller code that replaced filter (answering []) hid
  // every due pin, a superseded one (whose key is not its peer's anchor) included, from the list
  // an operator re-handshakes from, and a replaced sort or Number decided the order.
  const store = new InMemoryPeerStore();
  const exchange = new KernelTrustExchange(A, keyOf(1), { store }).withTrustedPeer(B, keyOf(4).publicKey);
  store.insert(new FederationPeer({ kernelId: B, publicKey: keyOf(2).publicKey, establishedAt: NOW, rotationDue: NOW + WINDOW }));
  store.insert(new FederationPeer({ kernelId: "kernel.org-d", publicKey: keyOf(7).publicKey, establishedAt: NOW - WINDOW + 50, rotationDue: NOW + 50 }));
  store.insert(new FederationPeer({ kernelId: "kernel.org-c", publicKey: keyOf(6).publicKey, establishedAt: NOW - WINDOW + 30, rotationDue: NOW + 30 }));
  store.insert(new FederationPeer({ kernelId: "kernel.org-e", publicKey: keyOf(8).publicKey, establishedAt: NOW, rotationDue: NOW + WINDOW }));
  const expected = [B, "kernel.org-c", "kernel.org-d"];
  assert.equal((await exchange.peersDueForRotation(NOW + 1, 60)).map((p) => p.kernelId), expected);
  const arrayPrototype = Array.prototype as unknown as Record<string, unknown>;
  const globals = globalThis as unknown as Record<string, unknown>;
  const replacements: Array<[Record<string, unknown>, string, unknown]> = [
    [arrayPrototype, "filter", () => []],
    [arrayPrototype, "map", () => []],
    [arrayPrototype, "sort", function (this: unknown[]) { return this.reverse(); }],
    [globals, "Number", () => 0],
  ];
  for (const [owner, key, value] of replacements) {
    const original = owner[key];
    owner[key] = value;
    let due: FederationPeer[];
    try {
      due = await exchange.peersDueForRotation(NOW + 1, 60);
    } finally {
      owner[key] = original;
    }
    assert.equal(due.map((p) => p.kernelId), expected, `replaced ${key}`);
  }
});


test("a pin write that answers neither true nor false, or an insert that throws, keeps its nonce held (the write may have landed): the same envelope is REPLAYED_NONCE", async () => {
  // docs/protocol.md §5 step 10: a write of unknown outcome commits the reservation. Releasing it
  // would let the same envelope be accepted again once the store recovers. Real ReplayCache; the
  // store fails its first write only.
  const key = keyOf(2);
  for (const mode of ["compareAndSet answers undefined", "insert throws"] as const) {
    const cache = new ReplayCache();
    const inner = new InMemoryPeerStore();
    let failed = false;
    const store = withCompareAndSet(inner, (id, expected, next) => {
      if (!failed) {
        failed = true;
        inner.compareAndSet(id, expected, next); // it landed, and the answer was lost
        return undefined as unknown as boolean;
      }
      return inner.compareAndSet(id, expected, next);
    });
    store.insert = (peer) => {
      if (!failed) {
        failed = true;
        inner.insert(peer);
        throw new Error("connection reset after the write");
      }
      inner.insert(peer);
    };
    const exchange = new KernelTrustExchange(A, keyOf(1), {
      store,
      replayStore: cache,
      hardening: { compareAndSetPins: mode !== "insert throws" },
    }).withTrustedPeer(B, key.publicKey);
    const text = PeerHandshakeEnvelope.sign(B, A, "lost-answer", NOW, key).toJSONText();
    const error = await rejectsWith(exchange.acceptEnvelope(text, B, NOW), "STORE_FAILED");
    assert.is(error.fields.operation, mode === "insert throws" ? "insert" : "compareAndSet", mode);
    assert.ok(cache.has(B, "lost-answer", NOW, 300), `${mode}: the pair stays held`);
    await rejectsWith(exchange.acceptEnvelope(text, B, NOW + 1), "REPLAYED_NONCE");
    // A fresh envelope of the same peer is accepted: only the one pair is held.
    const peer = await exchange.acceptEnvelope(PeerHandshakeEnvelope.sign(B, A, "fresh", NOW + 1, key).toJSONText(), B, NOW + 1);
    assert.ok(peer.equals(inner.get(B)!), mode);
  }
});

test("a signal aborted while the first compare-and-set loses stops the second one: nothing written over the winner, refused with the signal's reason, the pair released", async () => {
  // docs/protocol.md §5: the signal is checked before each compare-and-set, the second one after
  // a lost race included (helper 154: a second write sent after the transport gave up pinned).
  const key = keyOf(2);
  const controller = new AbortController();
  const reason = new Error("the transport gave up");
  const winner = new FederationPeer({ kernelId: B, publicKey: key.publicKey, establishedAt: NOW - 10_000, rotationDue: NOW - 10_000 + WINDOW });
  const cache = new ReplayCache();
  const { inner, store, counts } = firstWriteLoses((held) => {
    // A pin from long before this accept's skew window: not adopted, so a second write would follow.
    held.insert(winner);
    controller.abort(reason);
  });
  const exchange = new KernelTrustExchange(A, keyOf(1), { store, replayStore: cache }).withTrustedPeer(B, key.publicKey);
  const text = PeerHandshakeEnvelope.sign(B, A, "aborted", NOW, key).toJSONText();
  const refused = await exchange.acceptEnvelope(text, B, NOW, { signal: controller.signal }).then(
    () => undefined,
    (error: unknown) => error,
  );
  assert.is(refused, reason);
  assert.is(counts.writes, 0, "no second compare-and-set was sent");
  assert.ok(inner.get(B)!.equals(winner), "the winner's pin is as it was");
  assert.not.ok(cache.has(B, "aborted", NOW, 300), "the pair was released");
  // Not aborted, the same envelope renews the winner's pin with one write.
  const peer = await exchange.acceptEnvelope(text, B, NOW);
  assert.is(counts.writes, 1);
  assert.equal([peer.establishedAt, peer.rotationDue], [NOW, NOW + WINDOW]);
});

test("a compare-and-set loser never adopts a winner's pin of another key: under an anchor [old, new], a concurrent old-key pin is renewed with the new key", async () => {
  // The adopt rule requires the winner's pin to hold this accept's key (docs/protocol.md §6).
  // Step 6-7 against the winner's entry cannot stand in for it here: an anchor listing both keys
  // lets the new key follow an old-key pin. Adopted, the accept would answer a pin of the old key
  // for an envelope verified under the new one, and the rotation would not happen.
  const oldKey = keyOf(2);
  const newKey = keyOf(4);
  const { inner, store, counts } = firstWriteLoses((held) =>
    held.insert(new FederationPeer({ kernelId: B, publicKey: oldKey.publicKey, establishedAt: NOW, rotationDue: NOW + WINDOW })),
  );
  const exchange = new KernelTrustExchange(A, keyOf(1), { store }).withTrustedPeer(B, [oldKey.publicKey, newKey.publicKey]);
  const peer = await exchange.acceptEnvelope(PeerHandshakeEnvelope.sign(B, A, "rotate", NOW, newKey).toJSONText(), B, NOW);
  assert.is(counts.writes, 1, "the winner's old-key pin was replaced, not adopted");
  assert.ok(peer.publicKey.equals(newKey.publicKey));
  assert.ok(inner.get(B)!.equals(peer));
  // From here on the old key is refused: the rotation moved forward.
  await rejectsWith(exchange.acceptEnvelope(PeerHandshakeEnvelope.sign(B, A, "back", NOW, oldKey).toJSONText(), B, NOW), "UNEXPECTED_PEER_KEY");
});

test.run();
