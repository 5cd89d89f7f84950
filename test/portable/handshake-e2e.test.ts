// Two kernels, two exchanges, envelopes crossing as JSON text (and bytes), through first
// contact, use, expiry and a re-handshake, with each side's clock injected.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { KernelTrustExchange, Keypair, PeerHandshakeError, type HandshakeEvent } from "../../src/handshake/index.js";
import * as chioTrust from "../../src/index.js";
import { bytesToHex } from "../../src/index.js";
import { A, B } from "../helpers/kernels.js";

const randomHex = (bytes: number): string => bytesToHex(globalThis.crypto.getRandomValues(new Uint8Array(bytes)));


test("mutual handshake with envelopes sent as JSON text, then expiry and re-handshake", async () => {
  const kpA = Keypair.generate();
  const kpB = Keypair.generate();
  let clockA = 1_800_000_000;
  let clockB = clockA + 42; // B's clock runs 42 s ahead: inside the 300 s skew
  const audit: HandshakeEvent[] = [];
  const exchangeA = new KernelTrustExchange(A, kpA, { clock: () => clockA, onEvent: (e) => audit.push(e), config: { rotationWindowSecs: 3600 } })
    .withTrustedPeer(B, kpB.publicKey.toHex());
  const exchangeB = new KernelTrustExchange(B, kpB, { clock: () => clockB, config: { rotationWindowSecs: 3600 } })
    .withTrustedPeer(A, kpA.publicKey);

  const round = async () => {
    // Each side sends its envelope over the "wire" as text; the receiver never sees our objects.
    const wireAtoB: string = JSON.stringify(exchangeA.localEnvelope(B, randomHex(16)));
    const wireBtoA: string = exchangeB.localEnvelope(A, randomHex(16)).toJSONText();
    const peerA = await exchangeB.acceptEnvelope(wireAtoB, A);
    const peerB = await exchangeA.acceptEnvelope(wireBtoA, B);
    return { peerA, peerB };
  };

  const first = await round();
  assert.ok(first.peerB.publicKey.equals(kpB.publicKey));
  assert.ok(first.peerA.publicKey.equals(kpA.publicKey));
  assert.is(first.peerB.establishedAt, clockA); // pins use the receiver's clock
  assert.is(first.peerA.establishedAt, clockB);
  assert.ok((await exchangeA.resolve(B)).equals(first.peerB));
  assert.ok((await exchangeB.resolve(A)).equals(first.peerA));

  // Due for rotation ten minutes before the deadline, stale after it.
  clockA += 3000;
  clockB += 3000;
  assert.equal((await exchangeA.peersDueForRotation(undefined, 600)).map((p) => p.kernelId), [B]);
  clockA += 600;
  clockB += 600;
  try {
    await exchangeA.resolve(B);
    assert.unreachable("stale pin resolved");
  } catch (error) {
    assert.is((error as PeerHandshakeError).code, "PEER_STALE");
  }

  const second = await round();
  assert.is(second.peerB.rotationDue, clockA + 3600);
  assert.ok((await exchangeA.resolve(B)).equals(second.peerB));
  assert.equal(audit.map((e) => e.type), ["pinned", "stale", "pinned"]);
});

test("envelopes as UTF-8 bytes, unicode kernel ids, and a wrong peer in the middle", async () => {
  const ids = { a: "kernel.örg-a/\u{1F310}", b: "kernel.\u4e2d-b" };
  const kpA = Keypair.generate();
  const kpB = Keypair.generate();
  const now = 1_900_000_000;
  const exchangeA = new KernelTrustExchange(ids.a, kpA).withTrustedPeer(ids.b, kpB.publicKey);
  const exchangeB = new KernelTrustExchange(ids.b, kpB).withTrustedPeer(ids.a, kpA.publicKey);
  const toBytes = (text: string) => new TextEncoder().encode(text);
  const peerB = await exchangeA.acceptEnvelope(toBytes(exchangeB.localEnvelope(ids.a, "n-b", now).toJSONText()), ids.b, now);
  const peerA = await exchangeB.acceptEnvelope(toBytes(exchangeA.localEnvelope(ids.b, "n-a", now).toJSONText()), ids.a, now);
  assert.is(peerB.kernelId, ids.b);
  assert.is(peerA.kernelId, ids.a);

  // A third kernel C relays B's envelope, addressed to A, to C itself: refused by addressee.
  const exchangeC = new KernelTrustExchange("kernel.org-c", Keypair.generate()).withTrustedPeer(ids.b, kpB.publicKey);
  const relayed = exchangeB.localEnvelope(ids.a, "n-relay", now).toJSONText();
  try {
    await exchangeC.acceptEnvelope(relayed, ids.b, now);
    assert.unreachable();
  } catch (error) {
    assert.is((error as PeerHandshakeError).code, "ADDRESS_MISMATCH");
  }
});

test("the package root exports the handshake surface", async () => {
  const names = [
    "FEDERATION_HANDSHAKE_SCHEMA", "DEFAULT_ROTATION_WINDOW_SECS", "DEFAULT_HANDSHAKE_MAX_SKEW_SECS",
    "PublicKey", "Signature", "Keypair", "HandshakeChallenge", "PeerHandshakeEnvelope", "FederationPeer",
    "KernelTrustExchange", "InMemoryPeerStore", "PeerHandshakeError", "ReplayCache",
  ];
  for (const name of names) assert.ok(name in chioTrust, name);
  assert.is(chioTrust.DEFAULT_ROTATION_WINDOW_SECS, 43200);
  assert.is(chioTrust.DEFAULT_HANDSHAKE_MAX_SKEW_SECS, 300);
  // Internal doors (trusted-bytes constructors) are not exported.
  for (const name of ["publicKeyFromDecodedBytes", "challengeWithVerifiedBytes", "verifiedWeakKeyPolicy"]) assert.not.ok(name in chioTrust, name);
  // The root's classes are the same ones the handshake folder exports.
  const kp = chioTrust.Keypair.generate();
  const x = new chioTrust.KernelTrustExchange(A, kp).withTrustedPeer(B, kp.publicKey);
  const peer = await x.acceptEnvelope(chioTrust.PeerHandshakeEnvelope.sign(B, A, "n", 1_800_000_000, kp).toJSONText(), B, 1_800_000_000);
  assert.instance(peer, chioTrust.FederationPeer);
});

test.run();
