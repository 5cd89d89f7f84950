// The reference's own tests (docs/protocol.md §5, bb-connor/arc tests/trust_establishment.rs @ dc14a54),
// one uvu test per Rust test, same setup, same expectations.
import { test } from "uvu";
import * as assert from "uvu/assert";
import {
  DEFAULT_HANDSHAKE_MAX_SKEW_SECS,
  DEFAULT_ROTATION_WINDOW_SECS,
  FEDERATION_HANDSHAKE_SCHEMA,
  KernelTrustExchange,
  Keypair,
  PeerHandshakeEnvelope,
  PublicKey,
} from "../../src/handshake/index.js";
import { InMemoryPeerStore } from "../../src/stores/memory.js";
import { rejectsWith } from "../helpers/assert-codes.js";
import { NOW, A, B, C } from "../helpers/kernels.js";


test("constants match the reference", () => {
  assert.is(FEDERATION_HANDSHAKE_SCHEMA, "chio.federation-kernel-handshake.v1");
  assert.is(DEFAULT_ROTATION_WINDOW_SECS, 12 * 60 * 60);
  assert.is(DEFAULT_HANDSHAKE_MAX_SKEW_SECS, 5 * 60);
});

test("handshake_succeeds_and_pins_both_sides", async () => {
  const kpA = Keypair.generate();
  const kpB = Keypair.generate();
  const exchangeA = new KernelTrustExchange(A, kpA).withTrustedPeer(B, kpB.publicKey);
  const exchangeB = new KernelTrustExchange(B, kpB).withTrustedPeer(A, kpA.publicKey);
  const envelopeA = exchangeA.localEnvelope(B, "nonce-a", NOW);
  const envelopeB = exchangeB.localEnvelope(A, "nonce-b", NOW);
  const peerB = await exchangeA.acceptEnvelope(envelopeB, B, NOW);
  const peerA = await exchangeB.acceptEnvelope(envelopeA, A, NOW);
  assert.is(peerB.kernelId, B);
  assert.is(peerA.kernelId, A);
  assert.ok(peerB.rotationDue > NOW);
  assert.ok(peerA.rotationDue > NOW);
  const resolved = await exchangeA.resolve(B, NOW + 60);
  assert.is(resolved.publicKey.toHex(), kpB.publicKey.toHex());
});

test("stale_peer_is_rejected_fail_closed", async () => {
  const kpA = Keypair.generate();
  const kpB = Keypair.generate();
  const exchangeA = new KernelTrustExchange(A, kpA)
    .withConfig({ rotationWindowSecs: 3600, maxHandshakeSkewSecs: 300 })
    .withTrustedPeer(B, kpB.publicKey);
  const envelope = PeerHandshakeEnvelope.sign(B, A, "nonce-b", NOW, kpB);
  await exchangeA.acceptEnvelope(envelope, B, NOW);
  await rejectsWith(exchangeA.resolve(B, NOW + 3601), "PEER_STALE");
  // The boundary: fresh one second before rotationDue, stale at it (is_fresh is `now < rotation_due`).
  assert.is((await exchangeA.resolve(B, NOW + 3599)).rotationDue, NOW + 3600);
  await rejectsWith(exchangeA.resolve(B, NOW + 3600), "PEER_STALE");
});

test("freshness_rotation_reissues_pin", async () => {
  const kpA = Keypair.generate();
  const kpB = Keypair.generate();
  const exchangeA = new KernelTrustExchange(A, kpA)
    .withConfig({ rotationWindowSecs: 3600, maxHandshakeSkewSecs: 300 })
    .withTrustedPeer(B, kpB.publicKey);
  const peer1 = await exchangeA.acceptEnvelope(PeerHandshakeEnvelope.sign(B, A, "nonce-1", NOW, kpB), B, NOW);
  const later = NOW + 3610;
  const peer2 = await exchangeA.acceptEnvelope(PeerHandshakeEnvelope.sign(B, A, "nonce-2", later, kpB), B, later);
  assert.ok(peer2.rotationDue > peer1.rotationDue);
  assert.ok(peer2.isFresh(later + 60));
  assert.is((await exchangeA.resolve(B, later + 60)).establishedAt, later);
});

test("accept_rejects_clock_skew", async () => {
  const kpB = Keypair.generate();
  const exchangeA = new KernelTrustExchange(A, Keypair.generate()).withTrustedPeer(B, kpB.publicKey);
  const envelope = PeerHandshakeEnvelope.sign(B, A, "nonce-b", NOW + 300 + 60, kpB);
  const error = await rejectsWith(exchangeA.acceptEnvelope(envelope, B, NOW), "CLOCK_SKEW_EXCEEDED");
  assert.equal(error.fields, { envelope: NOW + 360, local: NOW, skew: 300 });
  assert.is(error.message, `remote envelope timestamp ${NOW + 360} drifts from local clock ${NOW} beyond 300s`);
});

test("accept_rejects_wrong_addressee", async () => {
  const kpB = Keypair.generate();
  const exchangeA = new KernelTrustExchange(A, Keypair.generate()).withTrustedPeer(B, kpB.publicKey);
  const envelope = PeerHandshakeEnvelope.sign(B, C, "nonce-x", NOW, kpB);
  const error = await rejectsWith(exchangeA.acceptEnvelope(envelope, B, NOW), "ADDRESS_MISMATCH");
  assert.is(error.message, "remote envelope is addressed to kernel_id kernel.org-c but we are kernel.org-a");
});

test("accept_rejects_tampered_signature (key swap is INVALID_SIGNATURE, not UNEXPECTED_PEER_KEY)", async () => {
  const kpB = Keypair.generate();
  const kpC = Keypair.generate();
  const exchangeA = new KernelTrustExchange(A, Keypair.generate()).withTrustedPeer(B, kpB.publicKey);
  const signed = PeerHandshakeEnvelope.sign(B, A, "nonce", NOW, kpB);
  const swapped = new PeerHandshakeEnvelope(signed.challenge, kpC.publicKey, signed.signature);
  await rejectsWith(exchangeA.acceptEnvelope(swapped, B, NOW), "INVALID_SIGNATURE");
  // Same through the wire form (text path) and the parsed-object path.
  await rejectsWith(exchangeA.acceptEnvelope(JSON.stringify(swapped), B, NOW), "INVALID_SIGNATURE");
  await rejectsWith(exchangeA.acceptEnvelope(JSON.parse(JSON.stringify(swapped)), B, NOW), "INVALID_SIGNATURE");
  assert.equal(await exchangeA.peers(), []);
});

test("resolve_unknown_peer_fails_closed", async () => {
  const exchangeA = new KernelTrustExchange(A, Keypair.generate());
  const error = await rejectsWith(exchangeA.resolve(B, NOW), "PEER_NOT_PINNED");
  assert.is(error.message, "peer kernel.org-b is not pinned; run a handshake before resolving");
});

test("accept_rejects_untrusted_first_contact", async () => {
  const kpB = Keypair.generate();
  const exchangeA = new KernelTrustExchange(A, Keypair.generate());
  const envelope = PeerHandshakeEnvelope.sign(B, A, "nonce-b", NOW, kpB);
  const error = await rejectsWith(exchangeA.acceptEnvelope(envelope, B, NOW), "MISSING_TRUST_ANCHOR");
  assert.is(
    error.message,
    "peer kernel.org-b is not trusted for first contact; configure a trust anchor before accepting handshakes",
  );
  assert.equal(await exchangeA.peers(), []);
});

// Details of the reference's accept_envelope that its tests do not pin, checked here.

test("drift exactly equal to the skew is accepted, in the past and the future", async () => {
  const kpB = Keypair.generate();
  const exchangeA = new KernelTrustExchange(A, Keypair.generate()).withTrustedPeer(B, kpB.publicKey);
  await exchangeA.acceptEnvelope(PeerHandshakeEnvelope.sign(B, A, "past", NOW - 300, kpB), B, NOW);
  await exchangeA.acceptEnvelope(PeerHandshakeEnvelope.sign(B, A, "future", NOW + 300, kpB), B, NOW);
  await rejectsWith(exchangeA.acceptEnvelope(PeerHandshakeEnvelope.sign(B, A, "past+1", NOW - 301, kpB), B, NOW), "CLOCK_SKEW_EXCEEDED");
  await rejectsWith(exchangeA.acceptEnvelope(PeerHandshakeEnvelope.sign(B, A, "future+1", NOW + 301, kpB), B, NOW), "CLOCK_SKEW_EXCEEDED");
  // Skew 0 still accepts ts == now (the fuzz harness's observation).
  const strict = new KernelTrustExchange(A, Keypair.generate()).withConfig({ maxHandshakeSkewSecs: 0 }).withTrustedPeer(B, kpB.publicKey);
  await strict.acceptEnvelope(PeerHandshakeEnvelope.sign(B, A, "n", NOW, kpB), B, NOW);
});

test("an existing pin (even stale) is the expected key when there is no anchor; the anchor wins over a pin", async () => {
  const kpB = Keypair.generate();
  const kpB2 = Keypair.generate();
  const exchangeA = new KernelTrustExchange(A, Keypair.generate())
    .withConfig({ rotationWindowSecs: 100 })
    .withTrustedPeer(B, kpB.publicKey);
  await exchangeA.acceptEnvelope(PeerHandshakeEnvelope.sign(B, A, "n1", NOW, kpB), B, NOW);
  // Replace the anchor by a new key: the anchor wins over the pin.
  exchangeA.withTrustedPeer(B, kpB2.publicKey);
  const error = await rejectsWith(exchangeA.acceptEnvelope(PeerHandshakeEnvelope.sign(B, A, "n2", NOW + 1, kpB), B, NOW + 1), "UNEXPECTED_PEER_KEY");
  assert.is(
    error.message,
    `peer kernel.org-b declared unexpected public key; expected ${kpB2.publicKey.toHex()}, got ${kpB.publicKey.toHex()}`,
  );
  const repinned = await exchangeA.acceptEnvelope(PeerHandshakeEnvelope.sign(B, A, "n3", NOW + 1, kpB2), B, NOW + 1);
  assert.ok(repinned.publicKey.equals(kpB2.publicKey));

  // Without anchors, a stale pin still names the key: the old key re-pins, another key does not.
  const pinnedOnly = new KernelTrustExchange(A, Keypair.generate()).withConfig({ rotationWindowSecs: 100 }).withTrustedPeer(B, kpB.publicKey);
  await pinnedOnly.acceptEnvelope(PeerHandshakeEnvelope.sign(B, A, "n1", NOW, kpB), B, NOW);
  // Move the pin into an exchange that has no anchor, through a shared store.
  const store = new InMemoryPeerStore();
  for (const peer of await pinnedOnly.peers()) store.insert(peer);
  const anchorless = new KernelTrustExchange(A, Keypair.generate(), { store, config: { rotationWindowSecs: 100 } });
  const later = NOW + 1000; // the pin expired at NOW + 100
  await rejectsWith(anchorless.resolve(B, later), "PEER_STALE");
  await rejectsWith(anchorless.acceptEnvelope(PeerHandshakeEnvelope.sign(B, A, "x", later, kpB2), B, later), "UNEXPECTED_PEER_KEY");
  const renewed = await anchorless.acceptEnvelope(PeerHandshakeEnvelope.sign(B, A, "y", later, kpB), B, later);
  assert.is(renewed.rotationDue, later + 100);
});

test("KERNEL_ID_MISMATCH: the envelope's sender is not the expected peer", async () => {
  const kpB = Keypair.generate();
  const exchangeA = new KernelTrustExchange(A, Keypair.generate()).withTrustedPeer(B, kpB.publicKey);
  const envelope = PeerHandshakeEnvelope.sign(C, A, "n", NOW, kpB);
  const error = await rejectsWith(exchangeA.acceptEnvelope(envelope, B, NOW), "KERNEL_ID_MISMATCH");
  assert.is(error.message, "remote envelope declares self as kernel_id kernel.org-c but we expected kernel.org-b");
});

test("rotationDue saturates at Number.MAX_SAFE_INTEGER (the JS analogue of u64 saturating_add)", async () => {
  const kpB = Keypair.generate();
  const big = Number.MAX_SAFE_INTEGER - 10;
  const exchangeA = new KernelTrustExchange(A, Keypair.generate())
    .withConfig({ rotationWindowSecs: Number.MAX_SAFE_INTEGER })
    .withTrustedPeer(B, kpB.publicKey);
  const peer = await exchangeA.acceptEnvelope(PeerHandshakeEnvelope.sign(B, A, "n", big, kpB), B, big);
  assert.is(peer.rotationDue, Number.MAX_SAFE_INTEGER);
  assert.ok(peer.isFresh(Number.MAX_SAFE_INTEGER - 1));
  assert.not.ok(peer.isFresh(Number.MAX_SAFE_INTEGER));
});

test("resolve never renews and forget removes", async () => {
  const kpB = Keypair.generate();
  const exchangeA = new KernelTrustExchange(A, Keypair.generate()).withTrustedPeer(B, kpB.publicKey);
  const pinned = await exchangeA.acceptEnvelope(PeerHandshakeEnvelope.sign(B, A, "n", NOW, kpB), B, NOW);
  const resolved = await exchangeA.resolve(B, NOW + 100);
  assert.ok(resolved.equals(pinned));
  const removed = await exchangeA.forget(B);
  assert.ok(removed?.equals(pinned));
  assert.is(await exchangeA.forget(B), undefined);
  await rejectsWith(exchangeA.resolve(B, NOW + 100), "PEER_NOT_PINNED");
});

test("getters mirror the reference", () => {
  const kp = Keypair.fromSeed(new Uint8Array(32).fill(9));
  const exchange = new KernelTrustExchange(A, kp);
  assert.is(exchange.localKernelId, A);
  assert.ok(exchange.localPublicKey.equals(kp.publicKey));
  assert.is(exchange.rotationWindowSecs, 43200);
  assert.is(exchange.withConfig({ rotationWindowSecs: 7 }).rotationWindowSecs, 7);
  assert.is(exchange.maxHandshakeSkewSecs, 300);
  assert.ok(PublicKey.fromHex(exchange.localPublicKey.toHex()).equals(kp.publicKey));
});

test.run();
