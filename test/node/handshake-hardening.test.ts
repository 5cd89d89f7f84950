// The protections this port adds beyond the reference, each on by default and switchable:
// weak-key refusal, the bounded replay cache, the timestamp range, compare-and-set pinning
// under concurrency, peersDueForRotation, and the audit event hook.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { createPublicKey, verify as nodeVerify } from "node:crypto";
import {
  FederationPeer,
  HandshakeChallenge,
  InMemoryPeerStore,
  KernelTrustExchange,
  Keypair,
  MAX_ENVELOPE_BYTES_LIMIT,
  PeerHandshakeEnvelope,
  PeerHandshakeError,
  PublicKey,
  ReplayCache,
  Signature,
  type FederationPeerStore,
  type HandshakeEvent,
  InvalidConfigError,
  verifyEnvelopeBatch,
  verifyEnvelopeBytes,
} from "../../src/handshake/index.js";
import { withCompareAndSet } from "../helpers/peer-stores.js";
import { rejectsWith, throwsWith } from "../helpers/assert-codes.js";
import { torsionEncodingsHex } from "../helpers/ed25519-oracles.js";
import { NOW, A, B, C } from "../helpers/kernels.js";

const SKEW = 300;

function pair() {
  const kpB = Keypair.generate();
  const exchange = new KernelTrustExchange(A, Keypair.generate()).withTrustedPeer(B, kpB.publicKey);
  return { kpB, exchange };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** An InMemoryPeerStore behind async methods that yield, counting successful writes. */
class SlowStore implements FederationPeerStore {
  readonly inner = new InMemoryPeerStore();
  writes = 0;
  async insert(peer: FederationPeer) {
    await sleep(1);
    this.inner.insert(peer);
    this.writes++;
  }
  async get(kernelId: string) {
    await sleep(Math.random() * 3);
    return this.inner.get(kernelId);
  }
  async remove(kernelId: string) {
    await sleep(1);
    return this.inner.remove(kernelId);
  }
  async snapshot() {
    await sleep(1);
    return this.inner.snapshot();
  }
  async compareAndSet(kernelId: string, expected: FederationPeer | undefined, next: FederationPeer) {
    await sleep(Math.random() * 3);
    const wrote = this.inner.compareAndSet(kernelId, expected, next);
    if (wrote) this.writes++;
    return wrote;
  }
}

// --- weak keys -------------------------------------------------------------------------------

test("every small-order declared key is WEAK_PUBLIC_KEY before the signature is looked at (object, text, bytes)", async () => {
  const { exchange } = pair();
  const challenge = HandshakeChallenge.create(B, A, "n", NOW);
  for (const encoding of torsionEncodingsHex()) {
    const envelope = new PeerHandshakeEnvelope(challenge, PublicKey.fromHex(encoding), Signature.fromBytes(new Uint8Array(64)));
    for (const input of [envelope, envelope.toJSON(), envelope.toJSONText(), new TextEncoder().encode(envelope.toJSONText())]) {
      await rejectsWith(exchange.acceptEnvelope(input, B, NOW), "WEAK_PUBLIC_KEY");
    }
    assert.throws(() => envelope.verifySignature(), (e: PeerHandshakeError) => e.code === "WEAK_PUBLIC_KEY");
  }
});

test("with rejectWeakKeys off, an identity-key forgery passes the signature check (as in the reference) and only the anchor stops it", async () => {
  const identity = "01" + "00".repeat(31);
  const forged = "58" + "66".repeat(31) + "01" + "00".repeat(31); // R = B, S = 1
  const challenge = HandshakeChallenge.create(B, A, "n", NOW);
  // Oracle: node:crypto (OpenSSL, cofactorless like dalek) accepts this forgery too.
  const spki = Buffer.concat([Buffer.from("302a300506032b6570032100", "hex"), Buffer.from(identity, "hex")]);
  const nodeAccepts = nodeVerify(null, challenge.canonicalBytes(), createPublicKey({ key: spki, format: "der", type: "spki" }), Buffer.from(forged, "hex"));
  const envelope = new PeerHandshakeEnvelope(challenge, PublicKey.fromHex(identity), Signature.fromHex(forged));
  const lenient = pair().exchange.withHardening({ rejectWeakKeys: false });
  await rejectsWith(lenient.acceptEnvelope(envelope.toJSONText(), B, NOW), nodeAccepts ? "UNEXPECTED_PEER_KEY" : "INVALID_SIGNATURE");
  await rejectsWith(lenient.acceptEnvelope(envelope.toJSON(), B, NOW), nodeAccepts ? "UNEXPECTED_PEER_KEY" : "INVALID_SIGNATURE");
  assert.not.throws(() => PeerHandshakeEnvelope.fromJSON(envelope.toJSONText(), { rejectWeakKeys: false }));
  // A misconfigured anchor equal to the identity would pin the forger without the hardening.
  const misanchored = new KernelTrustExchange(A, Keypair.generate()).withTrustedPeer(B, identity).withHardening({ rejectWeakKeys: false });
  if (nodeAccepts) assert.is((await misanchored.acceptEnvelope(envelope, B, NOW)).publicKey.toHex(), identity);
  await rejectsWith(misanchored.withHardening({ rejectWeakKeys: true }).acceptEnvelope(envelope.toJSON(), B, NOW), "WEAK_PUBLIC_KEY");
});

test("an envelope verified leniently is re-checked for weak keys by a strict exchange", async () => {
  const identity = "01" + "00".repeat(31);
  const forged = "58" + "66".repeat(31) + "01" + "00".repeat(31);
  const envelope = new PeerHandshakeEnvelope(HandshakeChallenge.create(B, A, "n", NOW), PublicKey.fromHex(identity), Signature.fromHex(forged));
  try {
    envelope.verifySignature({ rejectWeakKeys: false });
  } catch {
    return; // this verify rule refuses the forgery outright; nothing to re-check
  }
  const strict = new KernelTrustExchange(A, Keypair.generate()).withTrustedPeer(B, identity);
  await rejectsWith(strict.acceptEnvelope(envelope, B, NOW), "WEAK_PUBLIC_KEY");
});

// --- replay cache ----------------------------------------------------------------------------

test("a nonce is refused while its envelope could pass the skew check (timestamp + skew), per peer", async () => {
  const { kpB, exchange } = pair();
  const first = PeerHandshakeEnvelope.sign(B, A, "n1", NOW - 200, kpB);
  await exchange.acceptEnvelope(first, B, NOW);
  // The identical envelope is a replay up to its timestamp + skew inclusive; after that the skew check refuses it.
  await rejectsWith(exchange.acceptEnvelope(first, B, NOW - 200 + 300), "REPLAYED_NONCE");
  await rejectsWith(exchange.acceptEnvelope(first, B, NOW - 200 + 301), "CLOCK_SKEW_EXCEEDED");
  // The same nonce in another envelope is refused while the first pair is live, and accepted after.
  await rejectsWith(exchange.acceptEnvelope(PeerHandshakeEnvelope.sign(B, A, "n1", NOW + 100, kpB), B, NOW + 100), "REPLAYED_NONCE");
  await exchange.acceptEnvelope(PeerHandshakeEnvelope.sign(B, A, "n1", NOW + 101, kpB), B, NOW + 101);
  // Another nonce is fine at any time.
  await exchange.acceptEnvelope(PeerHandshakeEnvelope.sign(B, A, "n2", NOW + 10, kpB), B, NOW + 10);
  // The same nonce from another peer is not a replay.
  const kpC = Keypair.generate();
  exchange.withTrustedPeer("kernel.org-c", kpC.publicKey);
  await exchange.acceptEnvelope(PeerHandshakeEnvelope.sign("kernel.org-c", A, "n2", NOW + 10, kpC), "kernel.org-c", NOW + 10);
});

test("unauthenticated or refused envelopes never enter the replay cache", async () => {
  const { kpB, exchange } = pair();
  const intruder = Keypair.generate();
  await rejectsWith(exchange.acceptEnvelope(PeerHandshakeEnvelope.sign(B, A, "n", NOW, intruder), B, NOW), "UNEXPECTED_PEER_KEY");
  const tampered = { ...PeerHandshakeEnvelope.sign(B, A, "n", NOW, kpB).toJSON(), signature: "00".repeat(64) };
  await rejectsWith(exchange.acceptEnvelope(tampered, B, NOW), "INVALID_SIGNATURE");
  await rejectsWith(exchange.acceptEnvelope(PeerHandshakeEnvelope.sign(B, A, "n", NOW + 999, kpB), B, NOW), "CLOCK_SKEW_EXCEEDED");
  await rejectsWith(exchange.acceptEnvelope(PeerHandshakeEnvelope.sign(B, "kernel.org-z", "n", NOW, kpB), B, NOW), "ADDRESS_MISMATCH");
  // None of those recorded "n": the genuine envelope is accepted.
  await exchange.acceptEnvelope(PeerHandshakeEnvelope.sign(B, A, "n", NOW, kpB), B, NOW);
});

test("a pin write the store failed keeps its nonce held (it may have landed): a fresh envelope succeeds, the same one is refused", async () => {
  for (const landed of [false, true]) {
    const kpB = Keypair.generate();
    let failNext = true;
    const inner = new InMemoryPeerStore();
    // The store fails the write: before writing ("disk full"), or after it landed (a timeout
    // whose write went through), which the exchange cannot tell apart.
    const flaky = withCompareAndSet(inner, async (id, expected, next) => {
      if (failNext) {
        failNext = false;
        if (landed) await inner.compareAndSet(id, expected, next);
        throw new Error(landed ? "timeout" : "disk full");
      }
      return inner.compareAndSet(id, expected, next);
    });
    const exchange = new KernelTrustExchange(A, Keypair.generate(), { store: flaky }).withTrustedPeer(B, kpB.publicKey);
    const envelope = PeerHandshakeEnvelope.sign(B, A, "n", NOW, kpB);
    await rejectsWith(exchange.acceptEnvelope(envelope, B, NOW), "STORE_FAILED");
    assert.is(inner.size, landed ? 1 : 0);
    // Releasing the nonce would let this envelope be accepted a second time where the write landed.
    await rejectsWith(exchange.acceptEnvelope(envelope, B, NOW + 1), "REPLAYED_NONCE");
    await exchange.acceptEnvelope(PeerHandshakeEnvelope.sign(B, A, "n2", NOW + 1, kpB), B, NOW + 1);
    assert.is(inner.size, 1);
  }
});

test("concurrent accepts of the same envelope: one pins, the rest are REPLAYED_NONCE", async () => {
  const kpB = Keypair.generate();
  const store = new SlowStore();
  const exchange = new KernelTrustExchange(A, Keypair.generate(), { store }).withTrustedPeer(B, kpB.publicKey);
  const text = PeerHandshakeEnvelope.sign(B, A, "n", NOW, kpB).toJSONText();
  const results = await Promise.allSettled(Array.from({ length: 10 }, () => exchange.acceptEnvelope(text, B, NOW)));
  assert.is(results.filter((r) => r.status === "fulfilled").length, 1);
  for (const r of results) if (r.status === "rejected") assert.is((r.reason as PeerHandshakeError).code, "REPLAYED_NONCE");
  assert.is(store.writes, 1);
});

test("ReplayCache is bounded by entries and by key length, evicting the oldest", () => {
  const cache = new ReplayCache({ maxEntries: 3 });
  for (const nonce of ["a", "b", "c", "d"]) {
    assert.ok(cache.reserve(B, nonce, NOW, NOW, SKEW));
    cache.commit(B, nonce);
  }
  assert.is(cache.size, 3);
  assert.not.ok(cache.has(B, "a", NOW, SKEW)); // evicted
  for (const nonce of ["b", "c", "d"]) assert.ok(cache.has(B, nonce, NOW, SKEW));
  assert.not.ok(cache.reserve(B, "d", NOW, NOW, SKEW));

  const byUnits = new ReplayCache({ maxEntries: 1000, maxKeyUnits: 100 });
  for (let i = 0; i < 10; i++) {
    byUnits.reserve(B, `${i}`.padEnd(30, "x"), NOW, NOW, SKEW);
    byUnits.commit(B, `${i}`.padEnd(30, "x"));
  }
  assert.is(byUnits.size, 2); // each pair is 12 + 30 units
  assert.ok(byUnits.has(B, "8".padEnd(30, "x"), NOW, SKEW));
  assert.ok(byUnits.has(B, "9".padEnd(30, "x"), NOW, SKEW));
  // A pair longer than the whole budget cannot be remembered; it must not flush the others.
  assert.not.ok(byUnits.fits(B, "z".repeat(100)));
  assert.ok(byUnits.fits(B, "z".repeat(50)));
  throwsWith(() => byUnits.reserve(B, "z".repeat(100), NOW, NOW, SKEW), "INVALID_LENGTH"); // never held (review 53)
  byUnits.commit(B, "z".repeat(100));
  assert.is(byUnits.size, 2);
  assert.ok(byUnits.has(B, "8".padEnd(30, "x"), NOW, SKEW));
  assert.ok(byUnits.has(B, "9".padEnd(30, "x"), NOW, SKEW));

  // A pair is live while now ≤ its timestamp + the skew asked with; past that it is no longer a
  // replay, but it stays (within the bounds) in case a larger skew is asked with later.
  const expiring = new ReplayCache();
  expiring.reserve(B, "old", NOW, NOW, SKEW);
  expiring.commit(B, "old");
  assert.ok(expiring.has(B, "old", NOW + SKEW, SKEW));
  assert.not.ok(expiring.has(B, "old", NOW + SKEW + 1, SKEW));
  assert.ok(expiring.has(B, "old", NOW + SKEW + 1, 3600));
  expiring.reserve(B, "new", NOW + 311, NOW + 311, SKEW);
  expiring.commit(B, "new");
  assert.is(expiring.size, 2);
  // A nonce whose pair is no longer live may be used again; it moves to the newest end.
  assert.ok(expiring.reserve(B, "old", NOW + 400, NOW + 400, SKEW));
  expiring.commit(B, "old");
  assert.is(expiring.size, 2);
  assert.ok(expiring.has(B, "old", NOW + 700, SKEW));
  expiring.reserve(B, "failed", NOW, NOW, SKEW);
  assert.ok(expiring.has(B, "failed", NOW, SKEW)); // in flight counts
  expiring.release(B, "failed");
  assert.not.ok(expiring.has(B, "failed", NOW, SKEW));
  // Pair encoding is unambiguous.
  expiring.reserve("ab", "c", NOW, NOW, SKEW);
  expiring.commit("ab", "c");
  assert.not.ok(expiring.has("a", "bc", NOW, SKEW));
});

test("replay fairness: a trusted peer flooding fresh envelopes evicts only its own oldest nonces, never another peer's", async () => {
    const kpB = Keypair.generate();
  const kpC = Keypair.generate();
  const exchange = new KernelTrustExchange(A, Keypair.generate(), {
    trustedPeers: [[B, kpB.publicKey], [C, kpC.publicKey]],
    hardening: { replayCache: { maxEntries: 64, maxEntriesPerPeer: 16 } },
  });
  const capturedB = PeerHandshakeEnvelope.sign(B, A, "b-1", NOW, kpB).toJSONText();
  await exchange.acceptEnvelope(capturedB, B, NOW);
  const firstC = PeerHandshakeEnvelope.sign(C, A, "c-0", NOW, kpC).toJSONText();
  await exchange.acceptEnvelope(firstC, C, NOW);
  // C floods far more fresh envelopes than the whole cache holds, all within 2·skew.
  for (let i = 1; i <= 200; i++) {
    await exchange.acceptEnvelope(PeerHandshakeEnvelope.sign(C, A, `c-${i}`, NOW + (i % 300), kpC), C, NOW + (i % 300));
  }
  // B's captured envelope is still a replay (oldest-first eviction across peers let it through).
  await rejectsWith(exchange.acceptEnvelope(capturedB, B, NOW + 299), "REPLAYED_NONCE");
  // The remaining limit, documented: C's own oldest nonces were evicted, so C's first envelope
  // (still within the skew window) is accepted again.
  await exchange.acceptEnvelope(firstC, C, NOW + 1);
  await rejectsWith(exchange.acceptEnvelope(PeerHandshakeEnvelope.sign(C, A, "c-200", NOW + 200, kpC), C, NOW + 200), "REPLAYED_NONCE");
});

test("ReplayCache per-peer quotas (entries and code units); many distinct peers can still fill the total bound", () => {
  const cache = new ReplayCache({ maxEntries: 10, maxEntriesPerPeer: 3 });
  const remember = (peer: string, nonce: string, at = NOW) => {
    assert.ok(cache.reserve(peer, nonce, at, at, SKEW), `${peer}/${nonce} reservable`);
    cache.commit(peer, nonce);
  };
  remember("b", "kept");
  for (let i = 0; i < 50; i++) remember("c", `${i}`);
  assert.is(cache.sizeOf("c"), 3);
  assert.is(cache.size, 4);
  assert.ok(cache.has("b", "kept", NOW, SKEW));
  for (const nonce of ["47", "48", "49"]) assert.ok(cache.has("c", nonce, NOW, SKEW));
  assert.not.ok(cache.has("c", "46", NOW, SKEW));
  // A pair past its skew window is no longer live and may be remembered anew.
  remember("c", "47", NOW + 601);
  assert.ok(cache.has("c", "47", NOW + 601, SKEW));
  assert.not.ok(cache.has("c", "48", NOW + 601, SKEW));
  assert.is(cache.size, 4);
  remember("b", "kept-too", NOW + 601);
  // The total bound still applies: ten other peers at full quota push out b's pair, oldest first.
  for (let p = 0; p < 10; p++) for (let i = 0; i < 3; i++) remember(`p${p}`, `${i}`);
  assert.is(cache.size, 10);
  assert.not.ok(cache.has("b", "kept-too", NOW + 601, SKEW));
  assert.is(cache.sizeOf("b"), 0);

  // Per-peer code units: b's long nonces evict b's own, not c's.
  const units = new ReplayCache({ maxKeyUnits: 1000, maxKeyUnitsPerPeer: 100 });
  units.reserve("c", "short", NOW, NOW, SKEW);
  units.commit("c", "short");
  for (let i = 0; i < 20; i++) {
    const nonce = `${i}`.padEnd(40, "x"); // 41 units with the peer id "b"
    units.reserve("b", nonce, NOW, NOW, SKEW);
    units.commit("b", nonce);
  }
  assert.is(units.sizeOf("b"), 2);
  assert.ok(units.has("c", "short", NOW, SKEW));
  assert.not.ok(units.fits("b", "y".repeat(100)));
  assert.ok(units.fits("b", "y".repeat(99)));
  // Several nonces of one peer in flight at once: each is a replay until settled; a failed one is forgotten.
  const flight = new ReplayCache();
  assert.ok(flight.reserve("b", "n1", NOW, NOW, SKEW) && flight.reserve("b", "n2", NOW, NOW, SKEW) && flight.reserve("b", "n3", NOW, NOW, SKEW));
  assert.not.ok(flight.reserve("b", "n2", NOW, NOW, SKEW));
  flight.release("b", "n2");
  assert.ok(flight.has("b", "n1", NOW, SKEW) && !flight.has("b", "n2", NOW, SKEW) && flight.has("b", "n3", NOW, SKEW));
  flight.commit("b", "n1");
  flight.release("b", "n3");
  assert.ok(flight.has("b", "n1", NOW, SKEW) && !flight.has("b", "n3", NOW, SKEW));
  assert.ok(flight.reserve("b", "n3", NOW, NOW, SKEW));
  flight.release("b", "n3");
  assert.is(flight.size, 1);
  // Defaults, and per-peer bounds clamped to the totals.
  const defaults = new ReplayCache();
  assert.equal([defaults.maxEntries, defaults.maxEntriesPerPeer, defaults.maxKeyUnits, defaults.maxKeyUnitsPerPeer], [10_000, 1024, 4 * 1024 * 1024, 512 * 1024]);
  const small = new ReplayCache({ maxEntries: 5, maxKeyUnits: 50 });
  assert.equal([small.maxEntriesPerPeer, small.maxKeyUnitsPerPeer], [5, 50]);
  for (const bad of [0, -1, 1.5, NaN, "3"]) {
    throwsWith(() => new ReplayCache({ maxEntriesPerPeer: bad as number }), "INVALID_CONFIG");
    throwsWith(() => new ReplayCache({ maxKeyUnitsPerPeer: bad as number }), "INVALID_CONFIG");
  }
});

test("a nonce too long for the replay cache is refused (MALFORMED_ENVELOPE) instead of flushing the cache", async () => {
  const { kpB, exchange } = pair();
  exchange.withHardening({ replayCache: { maxKeyUnits: 200 }, maxEnvelopeBytes: 4096 });
  await exchange.acceptEnvelope(PeerHandshakeEnvelope.sign(B, A, "short", NOW, kpB), B, NOW);
  const long = PeerHandshakeEnvelope.sign(B, A, "n".repeat(500), NOW, kpB);
  const error = await rejectsWith(exchange.acceptEnvelope(long, B, NOW), "MALFORMED_ENVELOPE");
  assert.match(error.message, /replay cache/);
  // The short nonce is still remembered.
  await rejectsWith(exchange.acceptEnvelope(PeerHandshakeEnvelope.sign(B, A, "short", NOW, kpB), B, NOW), "REPLAYED_NONCE");
});

test("ReplayCache.reserve refuses a pair it could never remember, so a wrapper without fits() fails closed instead of accepting the envelope again", async () => {
  const cache = new ReplayCache({ maxKeyUnitsPerPeer: 256 });
  const long = "n".repeat(300);
  const error = throwsWith(() => cache.reserve(B, long, NOW, NOW, SKEW), "INVALID_LENGTH");
  assert.match(error.message, /maxKeyUnitsPerPeer \(256\)/);
  assert.is(cache.size, 0);
  assert.ok(cache.reserve(B, "n".repeat(256 - B.length), NOW, NOW, SKEW), "a pair at the bound is reserved");
  // Review 53: a metrics or logging wrapper that passes the three required methods through and
  // not the optional fits(). Before, reserve answered true and commit dropped the pair, so the same
  // long-nonce envelope was accepted every time.
  const wrapped = { reserve: cache.reserve.bind(cache), commit: cache.commit.bind(cache), release: cache.release.bind(cache) };
  const { kpB, exchange } = pair();
  exchange.withReplayStore(wrapped);
  const envelope = PeerHandshakeEnvelope.sign(B, A, long, NOW, kpB);
  const refused = await rejectsWith(exchange.acceptEnvelope(envelope, B, NOW), "STORE_FAILED");
  assert.is((refused.cause as { code?: string }).code, "INVALID_LENGTH");
  await rejectsWith(exchange.acceptEnvelope(envelope, B, NOW + 1), "STORE_FAILED");
  await rejectsWith(exchange.resolve(B, NOW), "PEER_NOT_PINNED"); // nothing pinned
});

test("replayCache limits while a store from withReplayStore is in use are INVALID_CONFIG: the shared store is not silently replaced by an empty cache (review 57 F3)", async () => {
  const shared = new ReplayCache();
  const kpB = Keypair.generate();
  const replica = () => new KernelTrustExchange(A, Keypair.fromSeed(new Uint8Array(32).fill(9))).withTrustedPeer(B, kpB.publicKey).withReplayStore(shared);
  const one = replica();
  const two = replica();
  for (const limits of [{ maxEntries: 50_000 }, { ...(two.hardening.replayCache as object), maxEntriesPerPeer: 10 }]) {
    const error = throwsWith(() => two.withHardening({ rejectWeakKeys: false, replayCache: limits }), "INVALID_CONFIG");
    assert.match(error.message, /withReplayStore/);
    assert.is(two.hardening.rejectWeakKeys, true, "nothing changed on the throw");
  }
  two.withHardening({ replayCache: true }); // keeps the store in use
  const envelope = PeerHandshakeEnvelope.sign(B, A, "shared-nonce", NOW, kpB);
  await one.acceptEnvelope(envelope, B, NOW);
  await rejectsWith(two.acceptEnvelope(envelope, B, NOW + 5), "REPLAYED_NONCE");
  // Dropping the store explicitly, then bounding a cache of its own, is allowed.
  two.withHardening({ replayCache: false }).withHardening({ replayCache: { maxEntries: 64 } });
  assert.is((two.hardening.replayCache as { maxEntries: number }).maxEntries, 64);
  await two.acceptEnvelope(envelope, B, NOW + 6); // its own, empty cache: the store it dropped is not consulted
  // The constructor's options mean the same (review 59: the limits were silently dropped there).
  throwsWith(() => new KernelTrustExchange(A, Keypair.fromSeed(new Uint8Array(32).fill(9)), { replayStore: shared, hardening: { replayCache: { maxEntries: 64 } } }), "INVALID_CONFIG");
  const kept = new KernelTrustExchange(A, Keypair.fromSeed(new Uint8Array(32).fill(9)), { replayStore: shared, hardening: { replayCache: true }, trustedPeers: [[B, kpB.publicKey]] });
  await rejectsWith(kept.acceptEnvelope(envelope, B, NOW + 7), "REPLAYED_NONCE");
});

test("replayCache limits over the exchange's own cache once it holds a pair, recorded or in flight, are INVALID_CONFIG: an empty cache would accept a captured envelope again (hunt 52)", async () => {
  const { kpB, exchange } = pair();
  // An empty cache may be re-bounded (nothing to lose).
  exchange.withHardening({ replayCache: { maxEntries: 500 } });
  const envelope = PeerHandshakeEnvelope.sign(B, A, "hunt52-nonce", NOW, kpB);
  await exchange.acceptEnvelope(envelope, B, NOW);
  const before = exchange.hardening;
  // Before, this started a new, empty cache and the replay below was accepted and renewed the pin.
  for (const limits of [{ maxEntries: 50_000 }, { maxEntries: 1 }, { ...(before.replayCache as object), maxEntriesPerPeer: 10 }]) {
    const error = throwsWith(() => exchange.withHardening({ rejectWeakKeys: false, replayCache: limits }), "INVALID_CONFIG");
    assert.match(error.message, /drop its nonces/);
    assert.equal(exchange.hardening, before, "nothing changed on the throw");
  }
  await rejectsWith(exchange.acceptEnvelope(envelope, B, NOW + 5), "REPLAYED_NONCE");
  // The setting in force, or true, keeps the cache and its nonces.
  exchange.withHardening({ replayCache: before.replayCache }).withHardening({ replayCache: true });
  await rejectsWith(exchange.acceptEnvelope(envelope, B, NOW + 6), "REPLAYED_NONCE");
  // A pair in flight counts too: limits set from beforePin, after the nonce's reservation and
  // before anything is recorded, are refused, and the accept completes on the cache in use.
  const fresh = pair();
  const second = PeerHandshakeEnvelope.sign(B, A, "hunt52-in-flight", NOW, fresh.kpB);
  let refusal: unknown;
  await fresh.exchange.acceptEnvelope(second, B, NOW, {
    beforePin: () => {
      try {
        fresh.exchange.withHardening({ replayCache: { maxEntries: 50_000 } });
      } catch (error) {
        refusal = error;
      }
    },
  });
  assert.is((refusal as { code?: string } | undefined)?.code, "INVALID_CONFIG");
  await rejectsWith(fresh.exchange.acceptEnvelope(second, B, NOW + 1), "REPLAYED_NONCE");
  // Dropping the cache explicitly, then bounding a new one, is allowed: the caller chose to lose
  // its nonces (README "Hardening", replay cache row).
  fresh.exchange.withHardening({ replayCache: false }).withHardening({ replayCache: { maxEntries: 64 } });
  assert.is((fresh.exchange.hardening.replayCache as { maxEntries: number }).maxEntries, 64);
});

test("replayCache: false restores the reference's behaviour (the same envelope is accepted twice)", async () => {
  const { kpB, exchange } = pair();
  exchange.withHardening({ replayCache: false });
  const envelope = PeerHandshakeEnvelope.sign(B, A, "n", NOW, kpB);
  const first = await exchange.acceptEnvelope(envelope, B, NOW);
  const second = await exchange.acceptEnvelope(envelope, B, NOW + 100);
  assert.is(second.establishedAt - first.establishedAt, 100);
});

// --- size limit ------------------------------------------------------------------------------

test("maxEnvelopeBytes and maxBytes: one accepted range, 1 … 16 MiB, for the exchange, fromJSON (text and object paths), verifyEnvelopeBytes and verifyEnvelopeBatch alike", async () => {
  const { kpB, exchange } = pair();
  assert.is(MAX_ENVELOPE_BYTES_LIMIT, 16 * 1024 * 1024);
  for (const bad of [MAX_ENVELOPE_BYTES_LIMIT + 1, 2 ** 53, 0, -1, 1.5, NaN, Infinity, "4096", 4096n]) {
    const error = throwsWith(() => exchange.withHardening({ maxEnvelopeBytes: bad as number }), "INVALID_CONFIG");
    assert.match(error.message, /maxEnvelopeBytes must be an integer in 1\.\.16777216/);
    throwsWith(() => new KernelTrustExchange(A, kpB, { hardening: { maxEnvelopeBytes: bad as number } }), "INVALID_CONFIG");
    const envelope = PeerHandshakeEnvelope.sign(B, A, "n", NOW, kpB);
    for (const input of [envelope.toJSONText(), envelope.toJSON()]) {
      throwsWith(() => PeerHandshakeEnvelope.fromJSON(input, { maxBytes: bad as number }), "INVALID_CONFIG");
    }
    // The one-call verifiers take the same option under the same rule: 0 used to give a
    // TOO_LARGE verdict for every envelope, and a value over the limit was silently clamped to it.
    const text = envelope.toJSONText();
    const single = throwsWith(() => verifyEnvelopeBytes(text, { maxBytes: bad as number }), "INVALID_CONFIG");
    assert.ok(single instanceof InvalidConfigError);
    assert.match(single.message, /maxBytes must be an integer in 1\.\.16777216/);
    throwsWith(() => verifyEnvelopeBatch([text], { maxBytes: bad as number }), "INVALID_CONFIG");
  }
  const signed = PeerHandshakeEnvelope.sign(B, A, "n", NOW, kpB).toJSONText();
  assert.ok(verifyEnvelopeBytes(signed, { maxBytes: MAX_ENVELOPE_BYTES_LIMIT }).ok);
  assert.ok(verifyEnvelopeBatch([signed], { maxBytes: MAX_ENVELOPE_BYTES_LIMIT })[0].ok);
  assert.ok(verifyEnvelopeBytes(signed, { maxBytes: signed.length }).ok);
  const over = verifyEnvelopeBytes(signed, { maxBytes: signed.length - 1 });
  assert.ok(!over.ok && over.code === "MALFORMED_ENVELOPE" && over.problem === "TOO_LARGE");
  assert.is(exchange.hardening.maxEnvelopeBytes, 64 * 1024); // unchanged by the refused settings
  exchange.withHardening({ maxEnvelopeBytes: MAX_ENVELOPE_BYTES_LIMIT });
  assert.is(exchange.hardening.maxEnvelopeBytes, MAX_ENVELOPE_BYTES_LIMIT);
  // At a small limit both paths refuse one unit over and accept the exact size.
  const envelope = PeerHandshakeEnvelope.sign(B, A, "n".repeat(100), NOW, kpB);
  const text = envelope.toJSONText();
  const objectUnits = [B, A, "n".repeat(100), envelope.challenge.schema, envelope.declaredPublicKey.toHex(), envelope.signature.toHex()].join("").length;
  for (const [input, size] of [[text, text.length], [envelope.toJSON(), objectUnits]] as const) {
    const strict = pair();
    strict.exchange.withTrustedPeer(B, kpB.publicKey).withHardening({ maxEnvelopeBytes: size - 1 });
    await rejectsWith(strict.exchange.acceptEnvelope(input, B, NOW), "MALFORMED_ENVELOPE");
    await strict.exchange.withHardening({ maxEnvelopeBytes: size }).acceptEnvelope(input, B, NOW);
  }
});

// --- timestamp range -------------------------------------------------------------------------

test("timestamps above 2^53−1 are MALFORMED_ENVELOPE by default, exact u64 comparisons when allowed", async () => {
  const kpB = Keypair.generate();
  const now = Number.MAX_SAFE_INTEGER; // 2^53 − 1
  const inside = 2n ** 53n + 299n; // drift 300 from now: accepted by the reference
  const outside = 2n ** 53n + 300n; // drift 301
  const strict = new KernelTrustExchange(A, Keypair.generate()).withTrustedPeer(B, kpB.publicKey);
  const envelope = PeerHandshakeEnvelope.sign(B, A, "n", inside, kpB);
  for (const input of [envelope, envelope.toJSONText()]) {
    const error = await rejectsWith(strict.acceptEnvelope(input, B, now), "MALFORMED_ENVELOPE");
    assert.match(error.message, /requireSafeTimestamps/);
  }
  const lenient = new KernelTrustExchange(A, Keypair.generate())
    .withTrustedPeer(B, kpB.publicKey)
    .withHardening({ requireSafeTimestamps: false });
  const peer = await lenient.acceptEnvelope(envelope.toJSONText(), B, now);
  assert.is(peer.rotationDue, Number.MAX_SAFE_INTEGER); // saturated
  const error = await rejectsWith(lenient.acceptEnvelope(PeerHandshakeEnvelope.sign(B, A, "m", outside, kpB).toJSONText(), B, now), "CLOCK_SKEW_EXCEEDED");
  assert.is(error.fields.envelope, outside);
  assert.is(error.message, `remote envelope timestamp ${outside} drifts from local clock ${now} beyond 300s`);
});

test("a pin's establishedAt and rotationDue count from the local clock, never from the envelope's timestamp", async () => {
  // Guards against pinning from challenge.timestamp: a peer stamping its envelope up to the skew
  // ahead would stretch its own pin past the rotation window (and one stamped behind would be
  // pinned as established in the past). Every other test signs at the accept's own `now`, where
  // the two readings agree. Text and object paths, first pin and renewal.
  const WINDOW = 43_200;
  const kpB = Keypair.generate();
  const store = new InMemoryPeerStore();
  const exchange = new KernelTrustExchange(A, Keypair.generate(), { store }).withTrustedPeer(B, kpB.publicKey);
  let n = 0;
  for (const [timestamp, now] of [[NOW + SKEW, NOW], [NOW + 10 - SKEW, NOW + 10], [NOW + 20 + 1, NOW + 20], [NOW + 30 - 1, NOW + 30]]) {
    for (const envelope of [PeerHandshakeEnvelope.sign(B, A, `ts-${n++}`, timestamp, kpB), PeerHandshakeEnvelope.sign(B, A, `ts-${n++}`, timestamp, kpB).toJSONText()]) {
      const peer = await exchange.acceptEnvelope(envelope, B, now);
      assert.equal([peer.establishedAt, peer.rotationDue], [now, now + WINDOW], `envelope at ${timestamp}, now ${now}`);
      assert.ok(store.get(B)!.equals(peer));
    }
  }
});

// --- compare-and-set pinning -----------------------------------------------------------------

test("many concurrent first contacts for the same peer with an async store make exactly one pin", async () => {
  // All N accepts read the empty entry before any of them writes (a barrier in get), then race
  // their compare-and-set: one wins, the other N − 1 adopt the winner's pin without writing.
  const N = 25;
  const kpB = Keypair.generate();
  const store = new SlowStore();
  let waiting = 0;
  let release!: () => void;
  const barrier = new Promise<void>((resolve) => (release = resolve));
  const get = store.get.bind(store);
  store.get = async (kernelId: string) => {
    const value = await get(kernelId);
    if (++waiting === N) release();
    await barrier;
    return value;
  };
  const events: HandshakeEvent[] = [];
  const exchange = new KernelTrustExchange(A, Keypair.generate(), { store, onEvent: (e) => events.push(e) }).withTrustedPeer(B, kpB.publicKey);
  const envelopes = Array.from({ length: N }, (_, i) => PeerHandshakeEnvelope.sign(B, A, `nonce-${i}`, NOW, kpB).toJSONText());
  const peers = await Promise.all(envelopes.map((text, i) => exchange.acceptEnvelope(text, B, NOW + (i % 3))));
  assert.is(store.writes, 1);
  assert.is(store.inner.size, 1);
  const stored = store.inner.get(B)!;
  for (const peer of peers) assert.ok(peer.equals(stored)); // every caller got the one stored entry
  const pinned = events.filter((e) => e.type === "pinned");
  assert.is(pinned.length, N);
  assert.is(pinned.filter((e) => e.type === "pinned" && e.written).length, 1);
});

test("with unsynchronised concurrent accepts, exactly one write creates the pin; later ones renew it", async () => {
  const kpB = Keypair.generate();
  const store = new SlowStore();
  let firstPins = 0;
  const cas = store.compareAndSet.bind(store);
  store.compareAndSet = async (id, expected, next) => {
    const wrote = await cas(id, expected, next);
    if (wrote && expected === undefined) firstPins++;
    return wrote;
  };
  const exchange = new KernelTrustExchange(A, Keypair.generate(), { store }).withTrustedPeer(B, kpB.publicKey);
  const results = await Promise.allSettled(
    Array.from({ length: 25 }, (_, i) => exchange.acceptEnvelope(PeerHandshakeEnvelope.sign(B, A, `n-${i}`, NOW, kpB), B, NOW + (i % 5))),
  );
  assert.is(firstPins, 1);
  assert.is(store.inner.size, 1);
  for (const r of results) {
    // Each accept either pinned/adopted, or lost two races in a row and said so.
    if (r.status === "fulfilled") assert.ok(r.value.publicKey.equals(kpB.publicKey));
    else assert.is((r.reason as PeerHandshakeError).code, "STORE_FAILED");
  }
  assert.ok(results.some((r) => r.status === "fulfilled"));
});

test("a CAS loser facing a pin it cannot adopt retries once, then fails with STORE_FAILED", async () => {
  const kpB = Keypair.generate();
  const inner = new InMemoryPeerStore();
  let casCalls = 0;
  const neverWins = withCompareAndSet(inner, () => {
    casCalls++;
    return false; // someone else always wrote first
  });
  const exchange = new KernelTrustExchange(A, Keypair.generate(), { store: neverWins }).withTrustedPeer(B, kpB.publicKey);
  const error = await rejectsWith(exchange.acceptEnvelope(PeerHandshakeEnvelope.sign(B, A, "n", NOW, kpB), B, NOW), "STORE_FAILED");
  assert.is(error.fields.operation, "compareAndSet");
  assert.match(error.message, /changed concurrently twice; pin not written/);
  assert.is(casCalls, 2);
  // And the nonce was not recorded: with a working store the same envelope pins.
  exchange.withStore(inner);
  await exchange.acceptEnvelope(PeerHandshakeEnvelope.sign(B, A, "n", NOW, kpB), B, NOW);
});

test("a CAS loser re-checks the key against what the winner pinned", async () => {
  // Without an anchor, a concurrent writer pinned another key (a rotation done out of band):
  // the loser must not overwrite it with the key it was checking against.
  const kpB = Keypair.generate();
  const rotated = Keypair.generate();
  const inner = new InMemoryPeerStore();
  inner.insert(new FederationPeer({ kernelId: B, publicKey: kpB.publicKey, establishedAt: NOW - 10, rotationDue: NOW + 1000 }));
  const racing = withCompareAndSet(inner, (id, expected, next) => {
    // The winner's write lands just before ours.
    inner.insert(new FederationPeer({ kernelId: B, publicKey: rotated.publicKey, establishedAt: NOW, rotationDue: NOW + 1000 }));
    return inner.compareAndSet(id, expected, next);
  });
  const exchange = new KernelTrustExchange(A, Keypair.generate(), { store: racing });
  const error = await rejectsWith(exchange.acceptEnvelope(PeerHandshakeEnvelope.sign(B, A, "n", NOW, kpB), B, NOW), "UNEXPECTED_PEER_KEY");
  assert.is(error.fields.expected, rotated.publicKey.toHex());
  assert.ok(inner.get(B)!.publicKey.equals(rotated.publicKey));
});

test("after a lost race and a successful retry, the pinned event names the entry actually replaced", async () => {
  const kpB = Keypair.generate();
  const inner = new InMemoryPeerStore();
  const original = new FederationPeer({ kernelId: B, publicKey: kpB.publicKey, establishedAt: NOW - 50, rotationDue: NOW + 1000 });
  const winner = new FederationPeer({ kernelId: B, publicKey: kpB.publicKey, establishedAt: NOW - 40, rotationDue: NOW - 1 });
  inner.insert(original);
  let raced = false;
  const racing = withCompareAndSet(inner, (id, expected, next) => {
    // Once, another writer lands a (stale, so not adoptable) pin just before ours.
    if (!raced) inner.insert(winner);
    raced = true;
    return inner.compareAndSet(id, expected, next);
  });
  const events: HandshakeEvent[] = [];
  const exchange = new KernelTrustExchange(A, Keypair.generate(), { store: racing, onEvent: (e) => events.push(e) }).withTrustedPeer(B, kpB.publicKey);
  const pinned = await exchange.acceptEnvelope(PeerHandshakeEnvelope.sign(B, A, "n", NOW, kpB), B, NOW);
  assert.ok(inner.get(B)!.equals(pinned));
  const event = events.find((e) => e.type === "pinned") as Extract<HandshakeEvent, { type: "pinned" }>;
  assert.ok(event.written);
  assert.ok(event.previous?.equals(winner), `previous: ${JSON.stringify(event.previous)}`);
});

test("compareAndSetPins: false pins with insert (last writer wins, as the reference)", async () => {
  const kpB = Keypair.generate();
  const store = new SlowStore();
  const exchange = new KernelTrustExchange(A, Keypair.generate(), { store, hardening: { compareAndSetPins: false } }).withTrustedPeer(B, kpB.publicKey);
  const envelopes = Array.from({ length: 5 }, (_, i) => PeerHandshakeEnvelope.sign(B, A, `n${i}`, NOW, kpB));
  await Promise.all(envelopes.map((e) => exchange.acceptEnvelope(e, B, NOW)));
  assert.is(store.writes, 5);
  assert.is(store.inner.size, 1);
});

// --- rotation planning and events ------------------------------------------------------------

test("peersDueForRotation lists pins due within the horizon (stale ones included), soonest first", async () => {
  const store = new InMemoryPeerStore();
  const key = Keypair.generate().publicKey;
  for (const [kernelId, rotationDue] of [["k.late", NOW + 5000], ["k.soon", NOW + 100], ["k.stale", NOW - 1], ["k.edge", NOW + 600]] as const) {
    store.insert(new FederationPeer({ kernelId, publicKey: key, establishedAt: NOW - 43200, rotationDue }));
  }
  const exchange = new KernelTrustExchange(A, Keypair.generate(), { store });
  assert.equal((await exchange.peersDueForRotation(NOW, 600)).map((p) => p.kernelId), ["k.stale", "k.soon", "k.edge"]);
  assert.equal((await exchange.peersDueForRotation(NOW, 0)).map((p) => p.kernelId), ["k.stale"]);
  assert.is((await exchange.peersDueForRotation(NOW, Number.MAX_SAFE_INTEGER)).length, 4);
  const clocked = new KernelTrustExchange(A, Keypair.generate(), { store, clock: () => NOW + 4401 });
  assert.equal((await clocked.peersDueForRotation(undefined, 600)).map((p) => p.kernelId), ["k.stale", "k.soon", "k.edge", "k.late"]);
});

test("events: resolve over a failing store emits refused with STORE_FAILED, as the caller sees it", async () => {
  class DownStore extends InMemoryPeerStore {
    override get(): never {
      throw new Error("peer db down");
    }
  }
  const exchange = new KernelTrustExchange(A, Keypair.generate(), { store: new DownStore() });
  const events: HandshakeEvent[] = [];
  exchange.withEventHandler((e) => events.push(e));
  await rejectsWith(exchange.resolve(B, NOW), "STORE_FAILED");
  assert.equal(
    events.map((e) => (e.type === "refused" ? [e.type, e.operation, e.code, e.kernelId] : [e.type])),
    [["refused", "resolve", "STORE_FAILED", B]],
  );
});

test("events: pinned (with the replaced pin), refused (with code), stale; a throwing handler changes nothing", async () => {
  const events: HandshakeEvent[] = [];
  const { kpB, exchange } = pair();
  exchange.withEventHandler((e) => events.push(e));
  const first = await exchange.acceptEnvelope(PeerHandshakeEnvelope.sign(B, A, "n1", NOW, kpB), B, NOW);
  const second = await exchange.acceptEnvelope(PeerHandshakeEnvelope.sign(B, A, "n2", NOW + 1, kpB), B, NOW + 1);
  await rejectsWith(exchange.acceptEnvelope(PeerHandshakeEnvelope.sign(B, A, "n3", NOW, Keypair.generate()), B, NOW), "UNEXPECTED_PEER_KEY");
  await rejectsWith(exchange.resolve(B, second.rotationDue), "PEER_STALE");
  await rejectsWith(exchange.resolve("kernel.org-q", NOW), "PEER_NOT_PINNED");
  assert.equal(events.map((e) => e.type), ["pinned", "pinned", "refused", "stale", "refused"]);
  const [p1, p2, refused, stale, notPinned] = events as any[];
  assert.is(p1.previous, undefined);
  assert.ok(p1.peer.equals(first));
  assert.ok(p2.previous.equals(first));
  assert.is(p2.nonce, "n2");
  assert.equal([refused.operation, refused.code, refused.kernelId], ["accept", "UNEXPECTED_PEER_KEY", B]);
  assert.ok(stale.peer.equals(second));
  assert.equal([notPinned.operation, notPinned.code], ["resolve", "PEER_NOT_PINNED"]);

  exchange.withEventHandler(() => {
    throw new Error("audit sink down");
  });
  await exchange.acceptEnvelope(PeerHandshakeEnvelope.sign(B, A, "n4", NOW + 2, kpB), B, NOW + 2);
  exchange.withEventHandler(async () => {
    throw new Error("async audit sink down");
  });
  await exchange.acceptEnvelope(PeerHandshakeEnvelope.sign(B, A, "n5", NOW + 3, kpB), B, NOW + 3);
  await rejectsWith(exchange.acceptEnvelope(PeerHandshakeEnvelope.sign(B, A, "n5", NOW + 3, kpB), B, NOW + 3), "REPLAYED_NONCE");
});

test("a failed accept leaves the store exactly as it was, whatever the failure", async () => {
  const kpB = Keypair.generate();
  const store = new SlowStore();
  const exchange = new KernelTrustExchange(A, Keypair.generate(), { store, config: { rotationWindowSecs: 1000 } }).withTrustedPeer(B, kpB.publicKey);
  await exchange.acceptEnvelope(PeerHandshakeEnvelope.sign(B, A, "seed", NOW, kpB), B, NOW);
  const snapshot = JSON.stringify(store.inner.snapshot());
  const writes = store.writes;
  const failing: Array<[unknown, string]> = [
    [PeerHandshakeEnvelope.sign(B, A, "seed", NOW, kpB), "REPLAYED_NONCE"],
    [PeerHandshakeEnvelope.sign(B, A, "x1", NOW, Keypair.generate()), "UNEXPECTED_PEER_KEY"],
    [PeerHandshakeEnvelope.sign(B, A, "x2", NOW + 400, kpB), "CLOCK_SKEW_EXCEEDED"],
    [PeerHandshakeEnvelope.sign("kernel.org-q", A, "x3", NOW, kpB), "KERNEL_ID_MISMATCH"],
    [PeerHandshakeEnvelope.sign(B, "kernel.org-q", "x4", NOW, kpB), "ADDRESS_MISMATCH"],
    [{ bogus: true }, "MALFORMED_ENVELOPE"],
  ];
  for (const [input, code] of failing) await rejectsWith(exchange.acceptEnvelope(input as object, B, NOW + 1), code);
  assert.is(JSON.stringify(store.inner.snapshot()), snapshot);
  assert.is(store.writes, writes);
});

test("an envelope parsed leniently from text (fromJSON rejectWeakKeys: false) is re-checked for weak keys by a strict exchange and by a strict verifySignature", async () => {
  // fromJSON of text verifies in wasm and remembers the policy it verified under; an envelope
  // verified without the weak-key rule must not count as checked by it.
  const identity = "01" + "00".repeat(31);
  const forged = "58" + "66".repeat(31) + "01" + "00".repeat(31);
  const text = new PeerHandshakeEnvelope(HandshakeChallenge.create(B, A, "n", NOW), PublicKey.fromHex(identity), Signature.fromHex(forged)).toJSONText();
  const verdict = verifyEnvelopeBytes(text, { rejectWeakKeys: false });
  if (!verdict.ok) return; // this verify rule refuses the forgery outright; nothing to re-check
  const lenient = PeerHandshakeEnvelope.fromJSON(text, { rejectWeakKeys: false });
  lenient.verifySignature({ rejectWeakKeys: false });
  throwsWith(() => lenient.verifySignature(), "WEAK_PUBLIC_KEY");
  const strict = new KernelTrustExchange(A, Keypair.generate()).withTrustedPeer(B, identity);
  await rejectsWith(strict.acceptEnvelope(lenient, B, NOW), "WEAK_PUBLIC_KEY");
  assert.equal(await strict.peers(), [], "nothing pinned");
});

test.run();
