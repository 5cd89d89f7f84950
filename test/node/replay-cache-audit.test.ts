// The in-memory replay cache (ReplayCache) and peer store (InMemoryPeerStore) at the edges a
// mutation audit found unguarded: each bound exactly reached, clear(), a commit with nothing in
// flight, a skew of zero, liveness decided by the clock rather than by the new envelope's
// timestamp, and the peer store's typed refusals. Bounds are counted as the docs define them
// (docs/protocol.md §7, src/handshake/ports.ts): a pair costs its peer id's plus its nonce's UTF-16
// code units, and is live while now ≤ its envelope's timestamp + the skew asked with. Envelopes
// come from a real signer (Keypair.fromSeed) through localEnvelope and go through acceptEnvelope
// as a transport would pass them.
import { test } from "uvu";
import * as assert from "uvu/assert";
import {
  FederationPeer,
  InMemoryPeerStore,
  KernelTrustExchange,
  Keypair,
  PeerHandshakeEnvelope,
  ReplayCache,
} from "../../src/handshake/index.js";
import { rejectsWith, throwsWith } from "../helpers/assert-codes.js";
import { NOW, A, B, C } from "../helpers/kernels.js";

const SKEW = 300; // DEFAULT_HANDSHAKE_MAX_SKEW_SECS, the skew the exchange passes by default

const seedB = new Uint8Array(32).fill(0x2b);
const seedC = new Uint8Array(32).fill(0x2c);

/** An acceptor A that trusts B and C, its replays kept in `cache`; and B's and C's senders. */
function kernels(cache: ReplayCache) {
  const kpB = Keypair.fromSeed(seedB);
  const kpC = Keypair.fromSeed(seedC);
  const acceptor = new KernelTrustExchange(A, Keypair.fromSeed(new Uint8Array(32).fill(0x2a)), {
    trustedPeers: [[B, kpB.publicKey], [C, kpC.publicKey]],
  }).withReplayStore(cache);
  return { acceptor, senderB: new KernelTrustExchange(B, kpB), senderC: new KernelTrustExchange(C, kpC) };
}

/** Reserves and commits one pair as an accept that succeeded would; the reserve must be granted. */
function remember(cache: ReplayCache, peer: string, nonce: string, at = NOW): void {
  assert.is(cache.reserve(peer, nonce, at, at, SKEW), true, `${peer}/${nonce.slice(0, 8)}… reservable`);
  cache.commit(peer, nonce);
}

test("a pair exactly maxKeyUnitsPerPeer long is remembered: its envelope is accepted once, then REPLAYED_NONCE; one unit more is MALFORMED_ENVELOPE", async () => {
  // A mutation audit found that a pair at the bound could be reserved and committed but never
  // recorded (fits said yes, the record step said no), so its envelope was accepted every time.
  const PER_PEER = 256;
  const cache = new ReplayCache({ maxKeyUnitsPerPeer: PER_PEER });
  const { acceptor, senderB } = kernels(cache);
  const atBound = "n".repeat(PER_PEER - B.length);
  const envelope = senderB.localEnvelope(A, atBound, NOW);
  const pin = await acceptor.acceptEnvelope(envelope, B, NOW);
  assert.is(pin.kernelId, B);
  await rejectsWith(acceptor.acceptEnvelope(envelope, B, NOW + 1), "REPLAYED_NONCE");
  assert.is(cache.size, 1, "the pair at the bound is recorded");
  await rejectsWith(acceptor.acceptEnvelope(JSON.stringify(envelope), B, NOW + SKEW), "REPLAYED_NONCE");
  await rejectsWith(acceptor.acceptEnvelope(senderB.localEnvelope(A, atBound + "n", NOW), B, NOW), "MALFORMED_ENVELOPE");
  assert.is(cache.size, 1);
});

test("per-peer code units: a peer exactly at maxKeyUnitsPerPeer keeps every pair; one unit over evicts only its own oldest", () => {
  // A mutation audit found the per-peer unit quota could be off by one (a peer at its quota lost
  // a live pair, or, for a single pair of the full quota, the cache threw on commit) unseen.
  const cache = new ReplayCache({ maxKeyUnitsPerPeer: 100 });
  const half = (tag: string) => tag.padEnd(50 - B.length, "x"); // B + nonce = 50 units
  remember(cache, C, "other");
  remember(cache, B, half("1"));
  remember(cache, B, half("2")); // B holds exactly 100 units
  assert.is(cache.sizeOf(B), 2);
  for (const nonce of [half("1"), half("2")]) assert.ok(cache.has(B, nonce, NOW, SKEW));
  remember(cache, B, half("3")); // 150 > 100: B's oldest goes
  assert.is(cache.sizeOf(B), 2);
  assert.not.ok(cache.has(B, half("1"), NOW, SKEW));
  assert.ok(cache.has(B, half("2"), NOW, SKEW) && cache.has(B, half("3"), NOW, SKEW));
  assert.ok(cache.has(C, "other", NOW, SKEW), "another peer's pair is untouched");
  // One pair of the full quota alone: held, and it replaces B's others.
  const whole = "w".repeat(100 - B.length);
  remember(cache, B, whole);
  assert.is(cache.sizeOf(B), 1);
  assert.ok(cache.has(B, whole, NOW, SKEW));
  assert.not.ok(cache.reserve(B, whole, NOW, NOW + SKEW, SKEW), "still a replay at the edge of its window");
  assert.is(cache.size, 2);
  // Exactly one unit over (50 + 51 = 101 > 100): the oldest goes too, not only far over it.
  const tight = new ReplayCache({ maxKeyUnitsPerPeer: 100 });
  remember(tight, B, half("a"));
  remember(tight, B, half("b") + "y"); // 51 units
  assert.is(tight.sizeOf(B), 1);
  assert.not.ok(tight.has(B, half("a"), NOW, SKEW));
  assert.ok(tight.has(B, half("b") + "y", NOW, SKEW));
});

test("total code units: pairs summing exactly maxKeyUnits are all kept; one more evicts the oldest of any peer", () => {
  // A mutation audit found the total unit bound could be off by one (a live pair silently
  // forgotten with the cache exactly full) unseen.
  const cache = new ReplayCache({ maxKeyUnits: 120, maxEntries: 1000 });
  const pair = (peer: string, tag: string) => tag.padEnd(40 - peer.length, "y"); // 40 units each
  remember(cache, "p1", pair("p1", "a"));
  remember(cache, "p2", pair("p2", "b"));
  remember(cache, "p3", pair("p3", "c")); // 120 units: exactly the bound
  assert.is(cache.size, 3);
  for (const p of ["p1", "p2", "p3"]) assert.ok(cache.has(p, pair(p, p === "p1" ? "a" : p === "p2" ? "b" : "c"), NOW, SKEW), p);
  remember(cache, "p4", pair("p4", "d")); // 160 > 120: p1's pair, the oldest, goes
  assert.is(cache.size, 3);
  assert.not.ok(cache.has("p1", pair("p1", "a"), NOW, SKEW));
  assert.is(cache.sizeOf("p1"), 0);
  assert.ok(cache.has("p2", pair("p2", "b"), NOW, SKEW));
});

test("clear() forgets every pair and its code units: the full unit budget is free again", () => {
  // A mutation audit found clear() could keep the old unit count, so every pair recorded after it
  // was evicted at once (the cache silently stopped refusing replays) unseen.
  const cache = new ReplayCache({ maxKeyUnits: 100, maxEntries: 1000 });
  const nonce = (tag: string) => tag.padEnd(50 - B.length, "z"); // 50 units each
  remember(cache, B, nonce("1"));
  remember(cache, B, nonce("2"));
  cache.clear();
  assert.is(cache.size, 0);
  assert.is(cache.sizeOf(B), 0);
  assert.ok(cache.reserve(B, nonce("1"), NOW, NOW, SKEW), "a cleared pair may be reserved again");
  cache.commit(B, nonce("1"));
  remember(cache, B, nonce("3")); // 100 units in all, after the clear
  assert.is(cache.size, 2);
  assert.ok(cache.has(B, nonce("1"), NOW, SKEW));
  assert.ok(cache.has(B, nonce("3"), NOW, SKEW));
});

test("commit records only a pair in flight: a stray commit (none reserved, or after its release) leaves the cache as it was", () => {
  // A mutation audit found a commit without a reservation could record the pair (held for good,
  // refusing an envelope that was never accepted) unseen.
  const cache = new ReplayCache();
  cache.commit(B, "never-reserved");
  assert.is(cache.size, 0);
  assert.not.ok(cache.has(B, "never-reserved", NOW, SKEW));
  assert.ok(cache.reserve(B, "failed", NOW, NOW, SKEW));
  cache.release(B, "failed");
  cache.commit(B, "failed");
  assert.is(cache.size, 0);
  assert.ok(cache.reserve(B, "failed", NOW, NOW + 1, SKEW), "reservable: the failed accept left nothing");
  assert.ok(cache.reserve(B, "never-reserved", NOW, NOW + 1, SKEW));
});

test("with a skew of 0 a reservation in flight still holds its pair: concurrent accepts of one envelope, exactly one wins", async () => {
  // A mutation audit found the in-flight check could be skipped for skew 0 unseen (two concurrent
  // accepts of one envelope both succeeded).
  const cache = new ReplayCache();
  const { acceptor, senderB } = kernels(cache);
  acceptor.withConfig({ maxHandshakeSkewSecs: 0 });
  const envelope = senderB.localEnvelope(A, "zero-skew", NOW);
  const results = await Promise.allSettled(Array.from({ length: 4 }, () => acceptor.acceptEnvelope(envelope, B, NOW)));
  assert.is(results.filter((r) => r.status === "fulfilled").length, 1, JSON.stringify(results.map((r) => r.status)));
  for (const r of results) if (r.status === "rejected") assert.is((r.reason as { code?: string }).code, "REPLAYED_NONCE");
  assert.is(cache.size, 1);

  const direct = new ReplayCache();
  assert.ok(direct.reserve(B, "n", NOW, NOW, 0));
  assert.not.ok(direct.reserve(B, "n", NOW, NOW, 0), "in flight: held");
  assert.ok(direct.has(B, "n", NOW + 1000, 0), "in flight: held whatever the clock");
  direct.commit(B, "n");
  assert.not.ok(direct.reserve(B, "n", NOW, NOW, 0), "committed: held at now = timestamp");
  assert.ok(direct.reserve(B, "n", NOW + 1, NOW + 1, 0), "past timestamp + 0: free");
  direct.release(B, "n");
});

test("a reused nonce is judged live by the clock, not by the new envelope's timestamp", async () => {
  // A mutation audit found reserve could ask whether the pair is live at the NEW envelope's
  // timestamp instead of now: a peer's envelope reusing a nonce, dated ahead of the clock (within
  // the skew), was then accepted while the first envelope's pair was still live.
  const cache = new ReplayCache();
  const { acceptor, senderB } = kernels(cache);
  await acceptor.acceptEnvelope(senderB.localEnvelope(A, "reused", NOW), B, NOW);
  // At NOW + 200 the first pair is live (NOW + 200 ≤ NOW + 300); the new envelope is dated NOW + 400,
  // within the skew of the clock, and reuses the nonce.
  await rejectsWith(acceptor.acceptEnvelope(senderB.localEnvelope(A, "reused", NOW + 400), B, NOW + 200), "REPLAYED_NONCE");
  assert.not.ok(cache.reserve(B, "reused", NOW + 400, NOW + 200, SKEW));
  // Past the first pair's window, the same nonce in a new envelope is accepted.
  const pin = await acceptor.acceptEnvelope(senderB.localEnvelope(A, "reused", NOW + SKEW + 1), B, NOW + SKEW + 1);
  assert.is(pin.establishedAt, NOW + SKEW + 1);
  await rejectsWith(acceptor.acceptEnvelope(senderB.localEnvelope(A, "reused", NOW + SKEW + 1), B, NOW + SKEW + 2), "REPLAYED_NONCE");
});

test("a nonce in flight for one peer does not hold the same nonce of another peer", async () => {
  // A mutation audit found the in-flight check could match the nonce alone, whatever the peer,
  // unseen: C's envelope was refused (REPLAYED_NONCE) while B's accept with the same nonce waited.
  const direct = new ReplayCache();
  assert.ok(direct.reserve(B, "shared", NOW, NOW, SKEW));
  assert.not.ok(direct.has(C, "shared", NOW, SKEW), "C's pair is not in flight");
  assert.ok(direct.reserve(C, "shared", NOW, NOW, SKEW), "C's pair is free");
  assert.not.ok(direct.reserve(B, "shared", NOW, NOW, SKEW), "B's is still held");

  const cache = new ReplayCache();
  const { acceptor, senderB, senderC } = kernels(cache);
  let letB!: () => void;
  let bWaiting!: () => void;
  const bReserved = new Promise<void>((resolve) => (bWaiting = resolve));
  const gate = new Promise<void>((resolve) => (letB = resolve));
  // beforePin runs after the nonce is reserved: B's accept stays in flight until the gate opens.
  const acceptB = acceptor.acceptEnvelope(senderB.localEnvelope(A, "shared", NOW), B, NOW, {
    beforePin: () => {
      bWaiting();
      return gate;
    },
  });
  await bReserved;
  const pinC = await acceptor.acceptEnvelope(senderC.localEnvelope(A, "shared", NOW), C, NOW);
  assert.is(pinC.kernelId, C);
  letB();
  assert.is((await acceptB).kernelId, B);
  assert.is(cache.size, 2);
});

test("InMemoryPeerStore refuses a non-string kernel id and a next peer that is not a FederationPeer (INVALID_TYPE), changing nothing", () => {
  // A mutation audit found get, remove and compareAndSet could take these unseen (a plain object
  // written as a pin by compareAndSet, where insert refuses it).
  const store = new InMemoryPeerStore();
  const key = Keypair.fromSeed(seedB).publicKey;
  const pinned = new FederationPeer({ kernelId: B, publicKey: key, establishedAt: NOW, rotationDue: NOW + 43200 });
  store.insert(pinned);
  for (const id of [42, undefined, null, { toString: () => B }]) {
    throwsWith(() => store.get(id as never), "INVALID_TYPE");
    throwsWith(() => store.remove(id as never), "INVALID_TYPE");
  }
  const plain = { kernelId: C, publicKey: key, establishedAt: NOW, rotationDue: NOW + 43200 };
  throwsWith(() => store.compareAndSet(C, undefined, plain as never), "INVALID_TYPE");
  throwsWith(() => store.insert(plain as never), "INVALID_TYPE");
  assert.is(store.get(C), undefined, "nothing written under C");
  assert.is(store.size, 1);
  assert.ok(store.get(B)!.equals(pinned), "B's pin unchanged");
});


test("a timestamp above 2^53−1 (requireSafeTimestamps off) is held as 2^53−1: the same envelope is REPLAYED_NONCE, not accepted twice", async () => {
  // docs/protocol.md §7: such a pair is stored with the timestamp 2^53−1, live until evicted.
  // Stored as anything lower (0, say), `now ≤ timestamp + skew` is false at every now such an
  // envelope passes the skew check at, and its replay would be accepted.
  const cache = new ReplayCache();
  const { acceptor } = kernels(cache);
  acceptor.withHardening({ requireSafeTimestamps: false });
  const now = Number.MAX_SAFE_INTEGER;
  const stamp = 2n ** 53n + 200n; // 201 s ahead of now: within the skew
  const text = PeerHandshakeEnvelope.sign(B, A, "big", stamp, Keypair.fromSeed(seedB)).toJSONText();
  assert.ok(text.includes(`"timestamp":${stamp}}`), text);
  await acceptor.acceptEnvelope(text, B, now);
  assert.ok(cache.has(B, "big", now, SKEW), "held at the accept's now");
  await rejectsWith(acceptor.acceptEnvelope(text, B, now), "REPLAYED_NONCE");
});

test.run();
