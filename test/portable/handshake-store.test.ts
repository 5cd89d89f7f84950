// Peer stores: InMemoryPeerStore semantics (copies, compare-and-set), and how the exchange
// treats a store that throws, rejects or returns garbage (STORE_FAILED, never partial state).
import { test } from "uvu";
import * as assert from "uvu/assert";
import {
  FederationPeer,
  InMemoryPeerStore,
  KernelTrustExchange,
  Keypair,
  PeerHandshakeEnvelope,
  type FederationPeerJson,
  type FederationPeerStore,
} from "../../src/handshake/index.js";
import { rejectsWith } from "../helpers/assert-codes.js";
import { NOW, A, B } from "../helpers/kernels.js";

const key = Keypair.fromSeed(new Uint8Array(32).fill(3)).publicKey;
const peerB = new FederationPeer({ kernelId: B, publicKey: key, establishedAt: NOW, rotationDue: NOW + 100 });

test("InMemoryPeerStore: insert overwrites by kernel id, get/remove/snapshot", () => {
  const store = new InMemoryPeerStore();
  assert.is(store.get(B), undefined);
  store.insert(peerB);
  const renewed = new FederationPeer({ ...peerB.toJSON(), establishedAt: NOW + 5, rotationDue: NOW + 105 });
  store.insert(renewed);
  assert.is(store.size, 1);
  assert.ok(store.get(B)!.equals(renewed));
  assert.equal(store.snapshot().map((p) => p.toJSON()), [renewed.toJSON()]);
  assert.ok(store.remove(B)!.equals(renewed));
  assert.is(store.remove(B), undefined);
  assert.equal(store.snapshot(), []);
});

test("InMemoryPeerStore returns copies; peers are frozen, so callers cannot change stored state", () => {
  const store = new InMemoryPeerStore();
  store.insert(peerB);
  const got = store.get(B)!;
  assert.is.not(got, store.get(B));
  assert.throws(() => {
    (got as { rotationDue: number }).rotationDue = Number.MAX_SAFE_INTEGER;
  }, TypeError);
  const list = store.snapshot() as FederationPeer[];
  list.pop();
  assert.is(store.snapshot().length, 1);
  assert.is(store.get(B)!.rotationDue, NOW + 100);
});

test("InMemoryPeerStore.compareAndSet writes only when the current entry equals `expected`", () => {
  const store = new InMemoryPeerStore();
  const next = new FederationPeer({ ...peerB.toJSON(), establishedAt: NOW + 1, rotationDue: NOW + 101 });
  assert.not.ok(store.compareAndSet(B, peerB, next)); // expected an entry, there is none
  assert.ok(store.compareAndSet(B, undefined, peerB)); // first pin
  assert.not.ok(store.compareAndSet(B, undefined, next)); // no longer empty
  const lookalike = new FederationPeer({ ...peerB.toJSON(), rotationDue: NOW + 99 });
  assert.not.ok(store.compareAndSet(B, lookalike, next)); // any field differs → no write
  // establishedAt and the key count too: a pin renewed or re-keyed since it was read is not the
  // entry the writer saw (FederationPeer.equals compares all four fields, as Rust's PartialEq).
  const renewedSince = new FederationPeer({ ...peerB.toJSON(), establishedAt: NOW - 1 });
  assert.not.ok(renewedSince.equals(peerB));
  assert.not.ok(store.compareAndSet(B, renewedSince, next));
  const otherKey = new FederationPeer({ ...peerB.toJSON(), publicKey: Keypair.fromSeed(new Uint8Array(32).fill(9)).publicKey });
  assert.not.ok(otherKey.equals(peerB));
  assert.not.ok(store.compareAndSet(B, otherKey, next));
  assert.ok(store.get(B)!.equals(peerB), "none of the lookalikes wrote");
  assert.ok(store.compareAndSet(B, new FederationPeer(peerB.toJSON()), next)); // equal by value is enough
  assert.ok(store.get(B)!.equals(next));
  assert.throws(() => store.compareAndSet("kernel.org-z", undefined, next), /cannot be stored under/);
});

test("FederationPeer JSON: serde field order, deny_unknown_fields, typed errors", () => {
  assert.is(JSON.stringify(peerB), `{"kernelId":"${B}","publicKey":"${key.toHex()}","establishedAt":${NOW},"rotationDue":${NOW + 100}}`);
  assert.ok(FederationPeer.fromJSON(JSON.stringify(peerB)).equals(peerB));
  assert.throws(() => FederationPeer.fromJSON({ ...peerB.toJSON(), extra: 1 } as FederationPeerJson), /unknown field `extra`/);
  assert.throws(() => FederationPeer.fromJSON({ kernelId: B, publicKey: key.toHex(), establishedAt: NOW } as FederationPeerJson), /missing field `rotationDue`/);
  assert.throws(() => FederationPeer.fromJSON("{"), (e: { code?: string }) => e.code === "INVALID_TYPE");
  assert.throws(() => FederationPeer.fromJSON({ ...peerB.toJSON(), rotationDue: -1 }), (e: { code?: string }) => e.code === "INVALID_TIME");
  assert.throws(() => FederationPeer.fromJSON({ ...peerB.toJSON(), publicKey: "zz" }), (e: { code?: string }) => e.code === "INVALID_LENGTH");
  // A kernel id that is not a string is refused, not kept (a pin under 42 would never match an accept's id).
  for (const kernelId of [42, null, ["kernel.org-b"]]) {
    assert.throws(() => FederationPeer.fromJSON({ ...peerB.toJSON(), kernelId } as never), (e: { code?: string }) => e.code === "INVALID_TYPE");
    assert.throws(() => new FederationPeer({ ...peerB.toJSON(), kernelId } as never), (e: { code?: string }) => e.code === "INVALID_TYPE");
  }
  assert.ok(peerB.isFresh(NOW + 99));
  assert.not.ok(peerB.isFresh(NOW + 100));
});

/** Wraps an InMemoryPeerStore; `fail[method]` makes that method throw ("sync") or reject ("async"). */
function faultyStore(fail: Partial<Record<keyof FederationPeerStore, "sync" | "async">>) {
  const inner = new InMemoryPeerStore();
  const wrap =
    <K extends keyof FederationPeerStore>(method: K) =>
    (...args: unknown[]) => {
      const mode = fail[method];
      if (mode === "sync") throw new Error(`${method} exploded`);
      if (mode === "async") return Promise.reject(new Error(`${method} rejected`));
      return (inner[method] as (...a: unknown[]) => unknown)(...args);
    };
  const store = {
    insert: wrap("insert"),
    get: wrap("get"),
    remove: wrap("remove"),
    snapshot: wrap("snapshot"),
    compareAndSet: wrap("compareAndSet"),
  } as unknown as FederationPeerStore;
  return { inner, store };
}

for (const mode of ["sync", "async"] as const) {
  test(`a store whose methods ${mode === "sync" ? "throw" : "reject"} yields STORE_FAILED and no partial state`, async () => {
    const kpB = Keypair.generate();
    const cases: Array<[keyof FederationPeerStore, (x: KernelTrustExchange) => Promise<unknown>, Partial<Parameters<typeof faultyStore>[0]>?]> = [
      ["get", (x) => x.acceptEnvelope(PeerHandshakeEnvelope.sign(B, A, "n", NOW, kpB), B, NOW)],
      ["get", (x) => x.resolve(B, NOW)],
      ["compareAndSet", (x) => x.acceptEnvelope(PeerHandshakeEnvelope.sign(B, A, "n", NOW, kpB), B, NOW)],
      ["insert", (x) => x.acceptEnvelope(PeerHandshakeEnvelope.sign(B, A, "n", NOW, kpB), B, NOW)],
      ["remove", (x) => x.forget(B)],
      ["snapshot", (x) => x.peers()],
      ["snapshot", (x) => x.peersDueForRotation(NOW, 10)],
    ];
    for (const [method, call] of cases) {
      const { inner, store } = faultyStore({ [method]: mode });
      inner.insert(peerB); // an existing pin that must survive untouched
      const exchange = new KernelTrustExchange(A, Keypair.generate(), { store, hardening: { compareAndSetPins: method !== "insert" } }).withTrustedPeer(B, kpB.publicKey);
      const before = JSON.stringify(inner.snapshot());
      const error = await rejectsWith(call(exchange), "STORE_FAILED");
      assert.is(error.fields.operation, method);
      assert.is((error.cause as Error).message, `${method} ${mode === "sync" ? "exploded" : "rejected"}`);
      assert.is(JSON.stringify(inner.snapshot()), before, method);
    }
  });
}

/** A proxy trap that throws when the exchange reads the array (as a broken driver's result might). */
function throwingArrayTrap(target: FederationPeer[], key: string | symbol): unknown {
  if (key === "map" || key === "length" || key === Symbol.iterator) throw new Error("trap");
  return Reflect.get(target, key);
}

test("store results that are not peers are STORE_FAILED", async () => {
  const kpB = Keypair.generate();
  const base = { insert() {}, remove() {}, snapshot: () => [], compareAndSet: () => true };
  const envelope = PeerHandshakeEnvelope.sign(B, A, "n", NOW, kpB);
  const bad: Array<[Partial<FederationPeerStore>, (x: KernelTrustExchange) => Promise<unknown>, string]> = [
    [{ get: () => ({ kernelId: B }) as unknown as FederationPeer }, (x) => x.resolve(B, NOW), "get"],
    [{ get: () => new FederationPeer({ ...peerB.toJSON(), kernelId: "kernel.org-z" }) }, (x) => x.resolve(B, NOW), "get"],
    [{ get: () => undefined, compareAndSet: () => "yes" as unknown as boolean }, (x) => x.acceptEnvelope(envelope, B, NOW), "compareAndSet"],
    [{ get: () => undefined, snapshot: () => "many" as unknown as FederationPeer[] }, (x) => x.peers(), "snapshot"],
    [{ get: () => undefined, snapshot: () => [null as unknown as FederationPeer] }, (x) => x.peers(), "snapshot"],
    [{ get: () => undefined, snapshot: () => new Proxy([peerB], { get: throwingArrayTrap }) }, (x) => x.peers(), "snapshot"],
  ];
  for (const [override, call, operation] of bad) {
    const exchange = new KernelTrustExchange(A, Keypair.generate(), { store: { ...base, ...override } as FederationPeerStore }).withTrustedPeer(B, kpB.publicKey);
    const error = await rejectsWith(call(exchange), "STORE_FAILED");
    assert.is(error.fields.operation, operation);
  }
});

test("a database-like async store holding JSON rows works end to end (plain records are accepted)", async () => {
  const rows = new Map<string, string>();
  const tick = () => new Promise((resolve) => setTimeout(resolve, 0));
  const store: FederationPeerStore = {
    async insert(peer) {
      await tick();
      rows.set(peer.kernelId, JSON.stringify(peer));
    },
    async get(kernelId) {
      await tick();
      const row = rows.get(kernelId);
      return row === undefined ? undefined : (JSON.parse(row) as FederationPeer); // hex key, plain object
    },
    async remove(kernelId) {
      const row = rows.get(kernelId);
      rows.delete(kernelId);
      return row === undefined ? undefined : FederationPeer.fromJSON(row);
    },
    async snapshot() {
      return [...rows.values()].map((row) => FederationPeer.fromJSON(row));
    },
    async compareAndSet(kernelId, expected, next) {
      await tick();
      const row = rows.get(kernelId);
      const current = row === undefined ? undefined : FederationPeer.fromJSON(row);
      if (expected === undefined ? current !== undefined : !expected.equals(current)) return false;
      rows.set(kernelId, JSON.stringify(next));
      return true;
    },
  };
  const kpB = Keypair.generate();
  const exchange = new KernelTrustExchange(A, Keypair.generate(), { store, trustedPeers: { [B]: kpB.publicKey.toHex() } });
  const pinned = await exchange.acceptEnvelope(PeerHandshakeEnvelope.sign(B, A, "n", NOW, kpB), B, NOW);
  assert.instance(pinned, FederationPeer);
  assert.ok((await exchange.resolve(B, NOW + 1)).equals(pinned));
  const renewed = await exchange.acceptEnvelope(PeerHandshakeEnvelope.sign(B, A, "m", NOW + 50, kpB), B, NOW + 50);
  assert.is(renewed.establishedAt, NOW + 50);
  assert.equal((await exchange.peers()).map((p) => p.toJSON()), [renewed.toJSON()]);
  assert.ok((await exchange.forget(B))!.equals(renewed));
  assert.is(rows.size, 0);
});

test("the default store is a fresh InMemoryPeerStore per exchange", async () => {
  const kpB = Keypair.generate();
  const one = new KernelTrustExchange(A, Keypair.generate()).withTrustedPeer(B, kpB.publicKey);
  const two = new KernelTrustExchange(A, Keypair.generate()).withTrustedPeer(B, kpB.publicKey);
  await one.acceptEnvelope(PeerHandshakeEnvelope.sign(B, A, "n", NOW, kpB), B, NOW);
  assert.is((await one.peers()).length, 1);
  assert.equal(await two.peers(), []);
});

test.run();
