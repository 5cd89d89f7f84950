// The replay port (ReplayStore, docs/protocol.md §7–§8): a custom store sees reserve, then
// commit or release; a store that throws or rejects is STORE_FAILED with nothing pinned; replay
// retention follows the skew in force (defect 6); and the handshake never imports src/stores/.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import {
  InMemoryPeerStore,
  KernelTrustExchange,
  Keypair,
  PeerHandshakeEnvelope,
  ReplayCache,
  FederationPeer,
  type ReplayStore,
} from "../../src/index.js";
import { rejectsWith } from "../helpers/assert-codes.js";
import { dropCoreForGood, restoreCore } from "../helpers/no-core.js";
import { NOW, A, B } from "../helpers/kernels.js";


/** A ReplayStore over a plain Map that answers asynchronously and logs every call. */
class LoggingReplayStore implements ReplayStore {
  readonly held = new Map<string, number>();
  readonly calls: string[] = [];
  failOn: "reserve" | "release" | "commit" | undefined;
  async reserve(peerId: string, nonce: string, timestamp: number, now: number, skewSecs: number): Promise<boolean> {
    this.calls.push(`reserve ${peerId} ${nonce} ${timestamp} ${now} ${skewSecs}`);
    if (this.failOn === "reserve") throw new Error("replay db down");
    const key = JSON.stringify([peerId, nonce]);
    const ts = this.held.get(key);
    if (ts !== undefined && now <= ts + skewSecs) return false;
    this.held.set(key, timestamp);
    return true;
  }
  async commit(peerId: string, nonce: string): Promise<void> {
    this.calls.push(`commit ${peerId} ${nonce}`);
    if (this.failOn === "commit") throw new Error("commit lost");
  }
  async release(peerId: string, nonce: string): Promise<void> {
    this.calls.push(`release ${peerId} ${nonce}`);
    this.held.delete(JSON.stringify([peerId, nonce]));
  }
}

function setup(replay?: ReplayStore) {
  const kpB = Keypair.generate();
  const store = new InMemoryPeerStore();
  const exchange = new KernelTrustExchange(A, Keypair.generate(), { store, trustedPeers: [[B, kpB.publicKey]] });
  if (replay) exchange.withReplayStore(replay);
  return { kpB, store, exchange };
}

test("withReplayStore: reserve (with the envelope timestamp and the skew in force) then commit; a replay is refused", async () => {
  const replay = new LoggingReplayStore();
  const { kpB, exchange } = setup(replay);
  const envelope = PeerHandshakeEnvelope.sign(B, A, "n1", NOW - 5, kpB);
  await exchange.acceptEnvelope(envelope, B, NOW);
  assert.equal(replay.calls, [`reserve ${B} n1 ${NOW - 5} ${NOW} 300`, `commit ${B} n1`]);
  await rejectsWith(exchange.acceptEnvelope(envelope, B, NOW + 1), "REPLAYED_NONCE");
  assert.is(exchange.hardening.replayCache, true);
});

test("a pin write the store failed commits the reservation (the write may have landed): the same envelope is refused, a fresh one accepted", async () => {
  const replay = new LoggingReplayStore();
  const kpB = Keypair.generate();
  const inner = new InMemoryPeerStore();
  let fail = true;
  const flaky = {
    insert: (p: FederationPeer) => inner.insert(p),
    get: (id: string) => inner.get(id),
    remove: (id: string) => inner.remove(id),
    snapshot: () => inner.snapshot(),
    compareAndSet: async (id: string, e: FederationPeer | undefined, n: FederationPeer) => {
      if (fail) throw new Error("disk full");
      return inner.compareAndSet(id, e, n);
    },
  };
  const exchange = new KernelTrustExchange(A, Keypair.generate(), { store: flaky, replayStore: replay, trustedPeers: [[B, kpB.publicKey]] });
  const envelope = PeerHandshakeEnvelope.sign(B, A, "n1", NOW, kpB);
  await rejectsWith(exchange.acceptEnvelope(envelope, B, NOW), "STORE_FAILED");
  assert.equal(replay.calls, [`reserve ${B} n1 ${NOW} ${NOW} 300`, `commit ${B} n1`]);
  assert.is(replay.held.size, 1);
  assert.is(inner.size, 0);
  fail = false;
  await rejectsWith(exchange.acceptEnvelope(envelope, B, NOW), "REPLAYED_NONCE");
  await exchange.acceptEnvelope(PeerHandshakeEnvelope.sign(B, A, "n2", NOW, kpB), B, NOW);
  assert.is(inner.size, 1);
});

test("a failure before any pin write (beforePin) releases the reservation: the store is as before and the same envelope is accepted later", async () => {
  const replay = new LoggingReplayStore();
  const { kpB, store, exchange } = setup(replay);
  const envelope = PeerHandshakeEnvelope.sign(B, A, "n1", NOW, kpB);
  const beforePin = () => {
    throw new Error("signer down");
  };
  const refused = await exchange.acceptEnvelope(envelope, B, NOW, { beforePin }).then(
    () => "accepted",
    (error: Error) => error.message,
  );
  assert.is(refused, "signer down");
  assert.equal(replay.calls, [`reserve ${B} n1 ${NOW} ${NOW} 300`, `release ${B} n1`]);
  assert.is(replay.held.size, 0);
  assert.is((await store.snapshot()).length, 0);
  await exchange.acceptEnvelope(envelope, B, NOW);
  assert.is((await store.snapshot()).length, 1);
});

test("options.signal: an aborted accept sends no write from then on and is refused with the signal's reason (nothing pinned, nonce released); a signal aborted during beforePin stops the pin write; a non-signal is InvalidTypeError", async () => {
  const replay = new LoggingReplayStore();
  const { kpB, store, exchange } = setup(replay);
  const reasonOf = (promise: Promise<unknown>) => promise.then(() => "accepted", (error: unknown) => error);
  // Aborted before the call: refused at once, the store and the replay store never asked.
  const before = new AbortController();
  const why = new Error("caller gone");
  before.abort(why);
  assert.is(await reasonOf(exchange.acceptEnvelope(PeerHandshakeEnvelope.sign(B, A, "s1", NOW, kpB), B, NOW, { signal: before.signal })), why);
  assert.equal(replay.calls, []);
  // Aborted while beforePin runs (after the reservation): no pin write, the nonce released.
  const during = new AbortController();
  const envelope = PeerHandshakeEnvelope.sign(B, A, "s2", NOW, kpB);
  const refused = await reasonOf(exchange.acceptEnvelope(envelope, B, NOW, { signal: during.signal, beforePin: () => during.abort() }));
  assert.is((refused as DOMException).name, "AbortError");
  assert.equal(replay.calls, [`reserve ${B} s2 ${NOW} ${NOW} 300`, `release ${B} s2`]);
  assert.is((await store.snapshot()).length, 0, "nothing pinned");
  // A signal that never aborts changes nothing: the same envelope is accepted once.
  const peer = await exchange.acceptClaimedEnvelope(envelope, NOW, { signal: new AbortController().signal });
  assert.is(peer.kernelId, B);
  assert.is((await store.snapshot()).length, 1);
  // Anything but an AbortSignal is refused as the option is read (an object shaped like one too).
  const aborted = new AbortController();
  aborted.abort();
  for (const signal of [{ aborted: false, reason: undefined }, "signal", 1, null, Object.create(AbortSignal.prototype), Object.create(aborted.signal)]) {
    const error = await reasonOf(exchange.acceptEnvelope(envelope, B, NOW, { signal: signal as AbortSignal }));
    assert.is((error as { code?: string }).code, "INVALID_TYPE", String(signal));
  }
});

test("an async beforePin is awaited: its rejection refuses the accept (nothing pinned, nonce released, no unhandled rejection); its resolution lets the pin be written after it", async () => {
  const replay = new LoggingReplayStore();
  const { kpB, store, exchange } = setup(replay);
  const events: string[] = [];
  exchange.withEventHandler((event) => events.push(event.type));
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown) => unhandled.push(reason);
  process.on("unhandledRejection", onUnhandled);
  try {
    const envelope = PeerHandshakeEnvelope.sign(B, A, "async-1", NOW, kpB);
    const refused = await exchange
      .acceptEnvelope(envelope, B, NOW, {
        beforePin: async () => {
          await new Promise((resolve) => setTimeout(resolve, 10));
          throw new Error("remote signer refused");
        },
      })
      .then(
        () => "accepted",
        (error: Error) => error.message,
      );
    assert.is(refused, "remote signer refused");
    assert.is((await store.snapshot()).length, 0, "nothing pinned");
    assert.equal(replay.calls.slice(-1), [`release ${B} async-1`], "nonce released");
    assert.equal(events, [], "no pinned event");
    // A hook that resolves: the pin is written only after it settled.
    let hookDone = false;
    const peer = await exchange.acceptEnvelope(envelope, B, NOW, {
      beforePin: () =>
        new Promise<void>((resolve) =>
          setTimeout(async () => {
            assert.is((await store.snapshot()).length, 0, "not pinned while the hook runs");
            hookDone = true;
            resolve();
          }, 10),
        ),
    });
    assert.ok(hookDone);
    assert.is(peer.kernelId, B);
    assert.is((await store.snapshot()).length, 1);
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(unhandled, [], "no unhandled rejection");
  } finally {
    process.off("unhandledRejection", onUnhandled);
  }
});

test("a pin written while the wasm core cannot be instantiated again: the accept resolves with it and emits pinned (preparing the key is best effort)", async () => {
  // A pin another replica wrote (no local anchor, so the key is new to this exchange's prepared
  // set); the store drops the core right after the write (as a trap elsewhere would) and the
  // core cannot come back: preparing the key fails after the pin and the nonce are committed.
  const kpB = Keypair.fromSeed(new Uint8Array(32).fill(71));
  const kpA = Keypair.fromSeed(new Uint8Array(32).fill(72));
  class DroppingStore extends InMemoryPeerStore {
    drop = true;
    override async compareAndSet(kernelId: string, expected: FederationPeer | undefined, next: FederationPeer): Promise<boolean> {
      const written = await super.compareAndSet(kernelId, expected, next);
      if (this.drop) {
        this.drop = false;
        dropCoreForGood();
      }
      return written;
    }
  }
  const store = new DroppingStore();
  await store.insert(new FederationPeer({ kernelId: B, publicKey: kpB.publicKey, establishedAt: NOW - 60, rotationDue: NOW + 3600 }));
  const exchange = new KernelTrustExchange(A, kpA, { store });
  const events: string[] = [];
  exchange.withEventHandler((event) => events.push(event.type));
  const envelope = PeerHandshakeEnvelope.sign(B, A, "drop-1", NOW, kpB);
  try {
    const outcome = await exchange.acceptEnvelope(envelope, B, NOW).then(
      (peer) => `pinned until ${peer.rotationDue}`,
      (error: Error) => `${error.name} ${(error as { code?: string }).code}`,
    );
    assert.is(outcome, `pinned until ${NOW + 43200}`);
    assert.equal(events, ["pinned"]);
  } finally {
    restoreCore();
  }
  assert.ok(await exchange.acceptEnvelope(PeerHandshakeEnvelope.sign(B, A, "drop-2", NOW, kpB), B, NOW), "the core comes back");
});

test("a replay store that throws, rejects or answers a non-boolean is STORE_FAILED with the cause; nothing is pinned", async () => {
  const replay = new LoggingReplayStore();
  replay.failOn = "reserve";
  const { kpB, store, exchange } = setup(replay);
  const error = await rejectsWith(exchange.acceptEnvelope(PeerHandshakeEnvelope.sign(B, A, "n", NOW, kpB), B, NOW), "STORE_FAILED");
  assert.is(error.fields.operation, "replay.reserve");
  assert.is((error.cause as Error).message, "replay db down");
  assert.is(store.size, 0);

  const throwing = setup({ reserve: () => { throw new RangeError("sync boom"); }, commit() {}, release() {} });
  const sync = await rejectsWith(throwing.exchange.acceptEnvelope(PeerHandshakeEnvelope.sign(B, A, "n", NOW, throwing.kpB), B, NOW), "STORE_FAILED");
  assert.instance(sync.cause, RangeError);
  assert.is(throwing.store.size, 0);

  // A shared store's error message starts with the operation already: it is not repeated
  // (review 61 F7: "replay.reserve: replay.reserve: READONLY …").
  const prefixed = setup({ reserve: () => { throw new Error("replay.reserve: READONLY replica"); }, commit() {}, release() {} });
  const once = await rejectsWith(prefixed.exchange.acceptEnvelope(PeerHandshakeEnvelope.sign(B, A, "n", NOW, prefixed.kpB), B, NOW), "STORE_FAILED");
  assert.is(once.message, "trust store failed and cannot service requests: replay.reserve: READONLY replica");
  assert.is(once.fields.reason, "READONLY replica");

  // A non-boolean answer is not "undone" with release(): release cannot tell this accept's
  // reservation from a concurrent one's (review 43, finding 2; the replay test is below).
  const released: string[] = [];
  const odd = setup({ reserve: () => 1 as unknown as boolean, commit() {}, release: (_p, n) => void released.push(n) });
  await rejectsWith(odd.exchange.acceptEnvelope(PeerHandshakeEnvelope.sign(B, A, "n", NOW, odd.kpB), B, NOW), "STORE_FAILED");
  assert.equal(released, []);
  assert.is(odd.store.size, 0);

  const fitsThrows = setup({ reserve: () => true, commit() {}, release() {}, fits: () => { throw new Error("fits"); } });
  await rejectsWith(fitsThrows.exchange.acceptEnvelope(PeerHandshakeEnvelope.sign(B, A, "n", NOW, fitsThrows.kpB), B, NOW), "STORE_FAILED");
  assert.is(fitsThrows.store.size, 0);

  // fits answers only true (fits) or false (NONCE_TOO_LONG); anything else, sync or async, fails
  // closed before reserve is asked (review 57: 0, null, undefined and "no" were taken as "fits").
  for (const answer of [0, null, undefined, "no", 1, {}]) {
    for (const async of [false, true]) {
      let reserves = 0;
      const oddFits = setup({ reserve: () => ++reserves > 0, commit() {}, release() {}, fits: () => (async ? Promise.resolve(answer) : answer) as boolean });
      const error = await rejectsWith(oddFits.exchange.acceptEnvelope(PeerHandshakeEnvelope.sign(B, A, "n", NOW, oddFits.kpB), B, NOW), "STORE_FAILED");
      assert.is(error.fields.operation, "replay.fits", `${String(answer)} ${async}`);
      assert.is(reserves, 0);
      assert.is(oddFits.store.size, 0);
    }
  }
  const refuses = setup({ reserve: () => true, commit() {}, release() {}, fits: async () => false });
  const tooLong = await rejectsWith(refuses.exchange.acceptEnvelope(PeerHandshakeEnvelope.sign(B, A, "n", NOW, refuses.kpB), B, NOW), "MALFORMED_ENVELOPE");
  assert.is(tooLong.fields.problem, "NONCE_TOO_LONG");
});

test("a commit that fails after the pin does not undo the accept, and the pair stays held", async () => {
  const replay = new LoggingReplayStore();
  replay.failOn = "commit";
  const { kpB, store, exchange } = setup(replay);
  const envelope = PeerHandshakeEnvelope.sign(B, A, "n", NOW, kpB);
  await exchange.acceptEnvelope(envelope, B, NOW);
  assert.is(store.size, 1);
  await rejectsWith(exchange.acceptEnvelope(envelope, B, NOW), "REPLAYED_NONCE");
});

test("a commit that never settles does not hold the accept back: it answers once the pin is written (and its rejection, later, is absorbed); a release is waited for", async () => {
  // Before: the accept awaited commit in its finally, so a replay store whose commit hung hung
  // the accept after the pin was written, and a handshake server answered 503 HANDSHAKE_TIMEOUT
  // to a caller it had pinned (helper 141).
  const replay = new LoggingReplayStore();
  let rejectCommit: (error: Error) => void = () => undefined;
  replay.commit = (peerId: string, nonce: string) => {
    replay.calls.push(`commit ${peerId} ${nonce}`);
    return new Promise<void>((_, reject) => (rejectCommit = reject));
  };
  const { kpB, store, exchange } = setup(replay);
  const envelope = PeerHandshakeEnvelope.sign(B, A, "n", NOW, kpB);
  const accepted = await Promise.race([
    exchange.acceptEnvelope(envelope, B, NOW).then((peer) => peer.publicKey.toHex()),
    new Promise((resolve) => setTimeout(() => resolve("still waiting after 2 s"), 2000)),
  ]);
  assert.is(accepted, kpB.publicKey.toHex());
  assert.equal(replay.calls, [`reserve ${B} n ${NOW} ${NOW} 300`, `commit ${B} n`]);
  assert.is(store.size, 1);
  await rejectsWith(exchange.acceptEnvelope(envelope, B, NOW), "REPLAYED_NONCE"); // held by its reservation
  rejectCommit(new Error("commit lost")); // late, and handled: no unhandled rejection ends the test process
  await new Promise((resolve) => setImmediate(resolve));

  // A release that takes a while: the refusal comes after it, and the pair is free by then.
  const slow = new LoggingReplayStore();
  const release = slow.release.bind(slow);
  slow.release = async (peerId: string, nonce: string) => {
    await new Promise((resolve) => setTimeout(resolve, 50));
    await release(peerId, nonce);
  };
  const second = setup(slow);
  const refused = await second.exchange.acceptEnvelope(PeerHandshakeEnvelope.sign(B, A, "r", NOW, second.kpB), B, NOW, { beforePin: () => { throw new Error("refused"); } }).then(() => "accepted", (error: Error) => error.message);
  assert.is(refused, "refused");
  assert.is(slow.held.size, 0, "released before the refusal was answered");
});

test("one replay store shared by two exchanges (two processes) refuses a replay across them", async () => {
  const shared = new ReplayCache();
  const kpB = Keypair.generate();
  const make = () => new KernelTrustExchange(A, Keypair.generate(), { trustedPeers: [[B, kpB.publicKey]], replayStore: shared });
  const envelope = PeerHandshakeEnvelope.sign(B, A, "n", NOW, kpB);
  const results = await Promise.allSettled([make().acceptEnvelope(envelope, B, NOW), make().acceptEnvelope(envelope, B, NOW)]);
  assert.equal(results.map((r) => r.status).sort(), ["fulfilled", "rejected"]);
  await rejectsWith(make().acceptEnvelope(envelope, B, NOW + 10), "REPLAYED_NONCE");
});

test("withReplayStore refuses objects that are not ReplayStores", () => {
  const { exchange } = setup();
  for (const bad of [null, undefined, 1, "x", {}, { reserve() {}, commit() {} }, { reserve() {}, commit() {}, release() {}, fits: 1 }]) {
    assert.throws(() => exchange.withReplayStore(bad as unknown as ReplayStore), (e: { code?: string }) => e.code === "INVALID_TYPE");
  }
});

// Defect 6: the retention of a nonce was fixed at accept time (2 × the skew then in force).
test("raising maxHandshakeSkewSecs keeps accepted nonces refused for as long as their envelopes pass the new skew", async () => {
  for (const raise of ["withConfig", "other accepts in between"] as const) {
    const { kpB, exchange } = setup();
    const captured = PeerHandshakeEnvelope.sign(B, A, "n1", NOW, kpB);
    await exchange.acceptEnvelope(captured, B, NOW);
    if (raise === "other accepts in between") {
      // Later accepts (past the old window) must not drop the pair either.
      for (let i = 0; i < 20; i++) await exchange.acceptEnvelope(PeerHandshakeEnvelope.sign(B, A, `m${i}`, NOW + 400 + i, kpB), B, NOW + 400 + i);
    }
    exchange.withConfig({ maxHandshakeSkewSecs: 3600 });
    await rejectsWith(exchange.acceptEnvelope(captured, B, NOW + 601), "REPLAYED_NONCE");
    await rejectsWith(exchange.acceptEnvelope(captured, B, NOW + 3600), "REPLAYED_NONCE");
    await rejectsWith(exchange.acceptEnvelope(captured, B, NOW + 3601), "CLOCK_SKEW_EXCEEDED");
  }
  // The same through a fresh exchange sharing the replay store, configured with the larger skew.
  const shared = new ReplayCache();
  const kpB = Keypair.generate();
  const captured = PeerHandshakeEnvelope.sign(B, A, "n1", NOW, kpB);
  await new KernelTrustExchange(A, Keypair.generate(), { trustedPeers: [[B, kpB.publicKey]], replayStore: shared }).acceptEnvelope(captured, B, NOW);
  const restarted = new KernelTrustExchange(A, Keypair.generate(), {
    trustedPeers: [[B, kpB.publicKey]],
    replayStore: shared,
    config: { maxHandshakeSkewSecs: 3600 },
  });
  await rejectsWith(restarted.acceptEnvelope(captured, B, NOW + 601), "REPLAYED_NONCE");
});

test("layering: the handshake imports nothing from src/stores/", () => {
  const dir = join(process.cwd(), "src", "handshake");
  const files = readdirSync(dir).filter((f) => f.endsWith(".ts"));
  assert.ok(files.length > 5);
  for (const file of files) {
    const text = readFileSync(join(dir, file), "utf8");
    const imports = [...text.matchAll(/\bfrom\s+["']([^"']+)["']/g)].map((m) => m[1]);
    for (const spec of imports) assert.not.ok(/(^|\/)stores\//.test(spec), `${file} imports ${spec}`);
  }
  // The historical entry points still give the same classes.
  return import("../../src/stores/memory.js").then((m) => assert.is(m.InMemoryPeerStore, InMemoryPeerStore));
});

test("options.signal: aborted before the call, the peer store is not read either; aborted while the store is read, the replay store is never asked", async () => {
  // docs/protocol.md §5: the signal is checked before step 5's read and before step 8's reservation.
  const replay = new LoggingReplayStore();
  const { kpB, store, exchange } = setup(replay);
  const reads: string[] = [];
  const during = new AbortController();
  let abortOnRead = false;
  exchange.withStore({
    insert: (peer) => store.insert(peer),
    get: async (id) => {
      reads.push(id);
      if (abortOnRead) during.abort(new Error("caller gone while the pin was read"));
      return store.get(id);
    },
    remove: (id) => store.remove(id),
    snapshot: () => store.snapshot(),
    compareAndSet: (id, expected, next) => store.compareAndSet(id, expected, next),
  });
  const reasonOf = (promise: Promise<unknown>) => promise.then(() => "accepted", (error: unknown) => error);
  const before = new AbortController();
  const why = new Error("caller gone");
  before.abort(why);
  assert.is(await reasonOf(exchange.acceptEnvelope(PeerHandshakeEnvelope.sign(B, A, "a1", NOW, kpB), B, NOW, { signal: before.signal })), why);
  assert.equal(reads, [], "the peer store was not read");
  abortOnRead = true;
  const refused = await reasonOf(exchange.acceptEnvelope(PeerHandshakeEnvelope.sign(B, A, "a2", NOW, kpB), B, NOW, { signal: during.signal }));
  assert.is((refused as Error).message, "caller gone while the pin was read");
  assert.equal(reads, [B]);
  assert.equal(replay.calls, [], "no reservation was made (nor released)");
  assert.is((await store.snapshot()).length, 0, "nothing pinned");
});

test.run();
