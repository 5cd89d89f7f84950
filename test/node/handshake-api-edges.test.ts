// The exchange as an application drives it, at the edges a review found: callbacks that answer
// with a promise (an async signer, clock or replay `fits`), a settings round trip through the
// `hardening` getter, ReplayCache used directly with bad arguments, FederationPeer fields read
// twice, untyped constructor errors, an envelope instance past maxEnvelopeBytes, a reassigned
// Keypair.publicKey and misspelt option members. Each case checks the typed error (or the
// answer the docs give) and that the stores are as they were.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { spawnSync } from "node:child_process";
import {
  FederationPeer,
  InMemoryPeerStore,
  KernelTrustExchange,
  Keypair,
  PeerHandshakeEnvelope,
  ReplayCache,
  type PublicKey,
  type ReplayStore,
} from "../../src/index.js";
import { createHandshakeServer, handshakeWith } from "../../src/http/index.js";
import { rejectsWith, rejectsWithCode, throwsWith } from "../helpers/assert-codes.js";
import { repoRoot } from "../helpers/processes.js";

const kA = Keypair.fromSeed(new Uint8Array(32).fill(61));
const kB = Keypair.fromSeed(new Uint8Array(32).fill(62));
const T = 1_800_000_000;

/** Runs `body` (ESM, with the built package's exports as `lib`) in a child; its exit code, stdout and stderr. */
function child(body: string): { status: number | null; stdout: string; stderr: string } {
  const code = `const lib = await import(${JSON.stringify(`${repoRoot}/dist/esm/index.js`)});\n${body}`;
  const r = spawnSync(process.execPath, ["--input-type=module", "-e", code], { encoding: "utf8", timeout: 30_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

test("an async signer or clock is refused with its typed error, and its rejection does not end the process", () => {
  const r = child(`
const { KernelTrustExchange, Keypair } = lib;
const k = Keypair.fromSeed(new Uint8Array(32).fill(61));
const out = [];
const signer = { publicKey: k.publicKey, async sign() { throw new Error("KMS unavailable"); } };
try { new KernelTrustExchange("A", signer).localEnvelope("B", "n1", 1000); } catch (e) { out.push(e.code + " " + e.message); }
const clocked = new KernelTrustExchange("A", k, { clock: async () => { throw new Error("time service down"); } });
try { await clocked.resolve("B"); } catch (e) { out.push(e.code); }
await new Promise((resolve) => setTimeout(resolve, 100));
out.push("still running");
console.log(JSON.stringify(out));`);
  assert.is(r.status, 0, r.stderr);
  assert.equal(JSON.parse(r.stdout), [
    "SIGNING_FAILED handshake signing failed: signer returned a promise (sign must be synchronous)",
    "INVALID_TIME",
    "still running",
  ]);
});

test("a replay store whose fits answers with a promise: false refuses (NONCE_TOO_LONG), a rejection is STORE_FAILED, nothing pinned", async () => {
  const envelope = new KernelTrustExchange("B", kB).localEnvelope("A", "n-fits", T).toJSONText();
  for (const [fits, expected] of [
    [async () => false, "MALFORMED_ENVELOPE"],
    [async () => Promise.reject(new Error("replay backend down")), "STORE_FAILED"],
  ] as const) {
    const inner = new ReplayCache();
    const store: ReplayStore = {
      reserve: (...args) => inner.reserve(...args),
      commit: (p, n) => inner.commit(p, n),
      release: (p, n) => inner.release(p, n),
      fits: fits as unknown as ReplayStore["fits"],
    };
    const peers = new InMemoryPeerStore();
    const a = new KernelTrustExchange("A", kA, { store: peers, replayStore: store, trustedPeers: { B: kB.publicKey } });
    const error = await rejectsWith(a.acceptEnvelope(envelope, "B", T), expected);
    if (expected === "MALFORMED_ENVELOPE") assert.is(error.fields.problem, "NONCE_TOO_LONG");
    assert.equal(peers.snapshot(), []);
    assert.is(inner.size, 0);
  }
  // And an async fits that says true accepts, as a synchronous one does.
  const inner = new ReplayCache();
  const a = new KernelTrustExchange("A", kA, {
    replayStore: { reserve: (...args) => inner.reserve(...args), commit: (p, n) => inner.commit(p, n), release: (p, n) => inner.release(p, n), fits: async () => true },
    trustedPeers: { B: kB.publicKey },
  });
  assert.ok((await a.acceptEnvelope(envelope, "B", T)).publicKey.equals(kB.publicKey));
});

test("withHardening({ ...exchange.hardening, flag }) changes that flag only: the replay store in use, and its nonces, stay", async () => {
  const shared = new ReplayCache();
  const a = new KernelTrustExchange("A", kA, { trustedPeers: [["B", kB.publicKey]], replayStore: shared });
  const envelope = new KernelTrustExchange("B", kB).localEnvelope("A", "n-round", T).toJSONText();
  await a.acceptEnvelope(envelope, "B", T);
  a.withHardening({ ...a.hardening, rejectWeakKeys: true });
  await rejectsWith(a.acceptEnvelope(envelope, "B", T + 1), "REPLAYED_NONCE");
  a.withHardening({ replayCache: true }); // true keeps the store in use
  await rejectsWith(a.acceptEnvelope(envelope, "B", T + 2), "REPLAYED_NONCE");
  // Limits that are the current setting itself keep the cache too; new limits, which would start
  // an empty one, are refused while it holds a pair (hunt 52: the replay was then accepted).
  const limits = { maxEntries: 100 };
  const b = new KernelTrustExchange("A", kA, { trustedPeers: [["B", kB.publicKey]], hardening: { replayCache: limits } });
  await b.acceptEnvelope(envelope, "B", T);
  b.withHardening({ ...b.hardening });
  await rejectsWith(b.acceptEnvelope(envelope, "B", T + 1), "REPLAYED_NONCE");
  throwsWith(() => b.withHardening({ replayCache: { maxEntries: 100 } }), "INVALID_CONFIG");
  await rejectsWith(b.acceptEnvelope(envelope, "B", T + 2), "REPLAYED_NONCE");
  // The getter reports a frozen copy of the bounds in force, not the caller's object: changing
  // that object and passing it again is a new setting (a new cache with the new bounds).
  const mine = { maxEntries: 1 };
  const c = new KernelTrustExchange("A", kA, { trustedPeers: [["B", kB.publicKey]], hardening: { replayCache: mine } });
  assert.ok(Object.isFrozen(c.hardening.replayCache));
  assert.is((c.hardening.replayCache as { maxEntries: number }).maxEntries, 1);
  mine.maxEntries = 50;
  assert.is((c.hardening.replayCache as { maxEntries: number }).maxEntries, 1, "what is in force");
  c.withHardening({ replayCache: mine });
  assert.is((c.hardening.replayCache as { maxEntries: number }).maxEntries, 50);
  b.withHardening({ replayCache: false });
  assert.is(b.hardening.replayCache, false);
});

test("ReplayCache refuses bad arguments with typed errors and stays as it was (a non-string id used to disable it for good)", () => {
  const cache = new ReplayCache();
  assert.is(cache.reserve("B", "a", T, T, 300), true);
  cache.commit("B", "a");
  for (const call of [
    () => cache.reserve(42 as unknown as string, "x", T, T, 300),
    () => cache.commit(42 as unknown as string, "x"),
    () => cache.release("B", null as unknown as string),
    () => cache.fits(undefined as unknown as string, "n"),
    () => cache.has("B", {} as unknown as string, T, 300),
  ]) throwsWith(call, "INVALID_TYPE");
  for (const call of [
    () => cache.reserve("B", "n1", NaN, T, 300),
    () => cache.reserve("B", "n1", T, -1, 300),
    () => cache.reserve("B", "n1", T, T, 1.5),
  ]) throwsWith(call, "INVALID_TIME");
  assert.is(cache.size, 1);
  // Still working: a new pair is held after its commit, the old one is still refused.
  assert.is(cache.reserve("B", "b", T, T, 300), true);
  cache.commit("B", "b");
  assert.is(cache.reserve("B", "b", T, T, 300), false);
  assert.is(cache.reserve("B", "a", T, T, 300), false);
});

test("FederationPeer reads each field once; fromJSON takes own members only and types every failure", () => {
  let idReads = 0;
  let keyReads = 0;
  const fields = {
    get kernelId() {
      return idReads++ === 0 ? "B" : ({ not: "a string" } as unknown as string);
    },
    get publicKey() {
      return keyReads++ === 0 ? kB.publicKey : ({ toHex: () => "??", equals: () => true } as never);
    },
    establishedAt: 1,
    rotationDue: 2,
  };
  for (const make of [() => new FederationPeer(fields), () => FederationPeer.fromJSON(fields as never)]) {
    idReads = keyReads = 0;
    const peer = make();
    assert.is(peer.kernelId, "B");
    assert.ok(peer.publicKey.equals(kB.publicKey) && !peer.publicKey.equals(kA.publicKey));
  }
  const boom = () => {
    throw new Error("getter says no");
  };
  const hostile: unknown[] = [
    { get kernelId() { return boom(); }, publicKey: kB.publicKey.toHex(), establishedAt: 1, rotationDue: 2 },
    new Proxy({}, { ownKeys: boom }),
    new Proxy({ kernelId: "B", publicKey: kB.publicKey.toHex(), establishedAt: 1, rotationDue: 2 }, { get: boom }),
    Object.create({ kernelId: "B", publicKey: kB.publicKey.toHex(), establishedAt: 1, rotationDue: 2 }),
  ];
  for (const value of hostile) throwsWith(() => FederationPeer.fromJSON(value as never), "INVALID_TYPE");
  throwsWith(() => new FederationPeer(hostile[0] as never), "INVALID_TYPE");
});

test("constructor and builder arguments that throw or are malformed get typed errors", () => {
  const boom = () => {
    throw new Error("no");
  };
  const cases: [() => unknown, string][] = [
    [() => new KernelTrustExchange("A", kA, { trustedPeers: [5] as never }), "INVALID_CONFIG"],
    [() => new KernelTrustExchange("A", kA, { trustedPeers: [null] as never }), "INVALID_CONFIG"],
    [() => new KernelTrustExchange("A", kA, { trustedPeers: { get B() { return boom(); } } as never }), "INVALID_CONFIG"],
    [() => new KernelTrustExchange("A", kA, { trustedPeers: { [Symbol.iterator]: boom } as never }), "INVALID_CONFIG"],
    [() => new KernelTrustExchange("A", kA, { trustedPeers: new Proxy({}, { ownKeys: boom }) as never }), "INVALID_CONFIG"],
    [() => new KernelTrustExchange("A", { get publicKey() { return boom(); }, sign: () => boom() } as never), "INVALID_TYPE"],
    [() => new KernelTrustExchange("A", kA, { store: new Proxy({}, { get: boom }) as never }), "INVALID_TYPE"],
    [() => new KernelTrustExchange("A", kA, { replayStore: new Proxy({}, { get: boom }) as never }), "INVALID_TYPE"],
    // Misspelt members: refused, not silently ignored.
    [() => new KernelTrustExchange("A", kA, { rotationWindowSecs: 60 } as never), "INVALID_CONFIG"],
    [() => new KernelTrustExchange("A", kA, { config: { rotationWindowSeconds: 60 } as never }), "INVALID_CONFIG"],
    [() => new KernelTrustExchange("A", kA, { hardening: { replayCahce: false } as never }), "INVALID_CONFIG"],
    [() => new KernelTrustExchange("A", kA).withConfig({ maxSkewSecs: 5 } as never), "INVALID_CONFIG"],
    [() => new ReplayCache({ maxEntry: 5 } as never), "INVALID_CONFIG"],
    [() => new KernelTrustExchange("A", kA, { hardening: { replayCache: { maxEntriesPerpeer: 5 } } as never }), "INVALID_CONFIG"],
    [() => createHandshakeServer(new KernelTrustExchange("A", kA), { requestTimeout: 500 } as never), "INVALID_TYPE"],
  ];
  for (const [make, code] of cases) throwsWith(make, code);
  // The getters' objects are accepted back as they are.
  void handshakeWith; // (the client's options: see the next test)
  const a = new KernelTrustExchange("A", kA);
  a.withConfig({ ...a.config }).withHardening({ ...a.hardening });
  assert.equal(a.config, new KernelTrustExchange("A", kA).config);
});

test("the HTTP client refuses a misspelt option before any request", async () => {
  await rejectsWithCode(handshakeWith("http://127.0.0.1:9/", new KernelTrustExchange("A", kA), "B", { timeout: 5 } as never), "INVALID_TYPE");
});

test("an envelope instance is held to the exchange's maxEnvelopeBytes like text and plain objects", async () => {
  const a = new KernelTrustExchange("A", kA, { trustedPeers: { B: kB.publicKey }, hardening: { maxEnvelopeBytes: 1000 } });
  const envelope = new KernelTrustExchange("B", kB).localEnvelope("A", "n".repeat(5000), T);
  const parsed = PeerHandshakeEnvelope.fromJSON(envelope.toJSONText(), { maxBytes: 1 << 20 });
  for (const input of [parsed, envelope.toJSONText(), JSON.parse(envelope.toJSONText())]) {
    await rejectsWith(a.acceptEnvelope(input, "B", T), "MALFORMED_ENVELOPE");
  }
  assert.equal(await a.peers(), []);
});

test("Keypair is frozen: its publicKey cannot be swapped under an exchange", () => {
  const k = Keypair.fromSeed(new Uint8Array(32).fill(77));
  assert.ok(Object.isFrozen(k));
  assert.throws(() => {
    (k as { publicKey: unknown }).publicKey = kB.publicKey;
  }, TypeError);
  const a = new KernelTrustExchange("A", k);
  a.localEnvelope("X", "n", T).verifySignature();
  assert.ok(a.localPublicKey.equals(Keypair.fromSeed(new Uint8Array(32).fill(77)).publicKey));
});

test("the options of fromJSON, verifySignature, canonicalBytes and sign are read once each: null, a throwing getter or Proxy, a misspelt or mistyped member are INVALID_TYPE (review 57 F4)", () => {
  const envelope = PeerHandshakeEnvelope.sign("kernel.b", "kernel.a", "opts", T, kB);
  const text = JSON.stringify(envelope.toJSON());
  const trap = new Proxy({}, { get() { throw new RangeError("trap"); }, ownKeys() { throw new RangeError("trap"); } });
  const throwingGetter = { get maxBytes(): number { throw new RangeError("getter"); } };
  const calls: [string, () => unknown][] = [];
  for (const options of [null, 7, trap]) {
    calls.push([`fromJSON(text, ${String(options && "proxy")})`, () => PeerHandshakeEnvelope.fromJSON(text, options as never)]);
    calls.push([`fromJSON(object, ${String(options && "proxy")})`, () => PeerHandshakeEnvelope.fromJSON(envelope.toJSON(), options as never)]);
    calls.push([`verifySignature(${String(options && "proxy")})`, () => envelope.verifySignature(options as never)]);
    calls.push([`canonicalBytes(${String(options && "proxy")})`, () => envelope.challenge.canonicalBytes(options as never)]);
    calls.push([`sign(${String(options && "proxy")})`, () => PeerHandshakeEnvelope.sign("kernel.b", "kernel.a", "n", T, kB, options as never)]);
  }
  calls.push(["fromJSON getter", () => PeerHandshakeEnvelope.fromJSON(text, throwingGetter as never)]);
  calls.push(["fromJSON { maxByte: 10 }", () => PeerHandshakeEnvelope.fromJSON(text, { maxByte: 10 } as never)]);
  calls.push(["verifySignature { rejectWeakKey: false }", () => envelope.verifySignature({ rejectWeakKey: false } as never)]);
  calls.push(["verifySignature { rejectWeakKeys: 0 }", () => envelope.verifySignature({ rejectWeakKeys: 0 } as never)]);
  calls.push(["fromJSON { rejectWeakKeys: \"no\" }", () => PeerHandshakeEnvelope.fromJSON(text, { rejectWeakKeys: "no" } as never)]);
  calls.push(["canonicalBytes { escapeDelAndC: true }", () => envelope.challenge.canonicalBytes({ escapeDelAndC: true } as never)]);
  for (const [what, call] of calls) assert.match(throwsWith(call, "INVALID_TYPE").name, /TypeError/, what);
  // One options object serves the object path's two steps, and sign and canonicalBytes take it
  // too (each uses the members it needs; review 59: maxBytes was refused by verifySignature).
  const parseOptions = { maxBytes: 4096, rejectWeakKeys: true, escapeDelAndC1: false };
  PeerHandshakeEnvelope.fromJSON(envelope.toJSON(), parseOptions).verifySignature(parseOptions);
  assert.ok(PeerHandshakeEnvelope.sign("kernel.b", "kernel.a", "opts", T, kB, parseOptions).equals(envelope));
  assert.equal(envelope.challenge.canonicalBytes(parseOptions), envelope.challenge.canonicalBytes());
  throwsWith(() => envelope.verifySignature({ maxBytes: 0 }), "INVALID_CONFIG");
  throwsWith(() => envelope.challenge.canonicalBytes({ rejectWeakKeys: "yes" } as never), "INVALID_TYPE");
  // The options that are right still work, and no options at all.
  assert.ok(PeerHandshakeEnvelope.fromJSON(text, { maxBytes: text.length, rejectWeakKeys: true, escapeDelAndC1: false }).equals(envelope));
  assert.ok(PeerHandshakeEnvelope.fromJSON(text).equals(envelope));
  envelope.verifySignature({ rejectWeakKeys: false, legacyControlEscapes: false });
  envelope.verifySignature();
  throwsWith(() => PeerHandshakeEnvelope.fromJSON(text, { maxBytes: text.length - 1 }), "MALFORMED_ENVELOPE");
});

test("the trustedPeers option: replaced Array.from, Object.entries or array iterator never make an anchor name another key (hunt 23)", async () => {
  // The constructor read trustedPeers with the realm's Array.from (and Object.entries for a
  // record), and took each entry apart by destructuring, which runs the realm's array iterator,
  // all looked up at each call: caller code that replaced one after load made the anchor of a
  // peer name a stranger's key, whose envelope was then accepted and pinned (withTrustedPeer
  // itself reads its keys with built-ins captured at load: reviews 98, 99).
  const now = 1_800_000_000;
  const stranger = Keypair.fromSeed(new Uint8Array(32).fill(63));
  const forged = [["kernel-b", stranger.publicKey]];
  const arrayPrototype = Array.prototype as unknown as Record<PropertyKey, unknown>;
  const replace = (owner: Record<PropertyKey, unknown>, key: PropertyKey, value: unknown) => () => {
    const original = owner[key];
    owner[key] = value;
    return () => void (owner[key] = original);
  };
  const from = Array.from;
  const routes: Array<[string, () => () => void, unknown]> = [
    ["Array.from answering a stranger's pair", replace(Array as unknown as Record<PropertyKey, unknown>, "from", (_: unknown, map: (entry: unknown) => unknown) => from(forged, map)), [["kernel-b", kB.publicKey]]],
    ["Object.entries answering a stranger's pair", replace(Object as unknown as Record<PropertyKey, unknown>, "entries", () => forged), { "kernel-b": kB.publicKey }],
    ["an array iterator answering a stranger's pair", replace(arrayPrototype, Symbol.iterator, function* () { yield "kernel-b"; yield stranger.publicKey; }), [["kernel-b", kB.publicKey]]],
    ["a Map's iterator answering a stranger's pair", replace(Map.prototype as unknown as Record<PropertyKey, unknown>, Symbol.iterator, function* () { yield ["kernel-b", stranger.publicKey]; }), new Map([["kernel-b", kB.publicKey]])],
  ];
  let nonce = 0;
  for (const [name, install, trustedPeers] of routes) {
    const undo = install();
    let exchange: KernelTrustExchange | undefined;
    let thrown: unknown;
    try {
      exchange = new KernelTrustExchange("kernel-a", kA, { trustedPeers: trustedPeers as Map<string, PublicKey> });
    } catch (error) {
      thrown = error;
    } finally {
      undo();
    }
    assert.is(thrown, undefined, `${name}: ${String(thrown)}`);
    assert.equal(Array.from(exchange!.trustedPeers(), ([id, key]) => [id, key.toHex()]), [["kernel-b", kB.publicKey.toHex()]], name);
    await rejectsWith(exchange!.acceptEnvelope(PeerHandshakeEnvelope.sign("kernel-b", "kernel-a", `s${++nonce}`, now, stranger), "kernel-b", now), "UNEXPECTED_PEER_KEY");
    await exchange!.acceptEnvelope(PeerHandshakeEnvelope.sign("kernel-b", "kernel-a", `p${nonce}`, now, kB), "kernel-b", now);
  }
  // The shapes still read: an array of pairs, a record, a Map, any other iterable; a bad entry is INVALID_CONFIG.
  function* pairs() { yield ["kernel-b", kB.publicKey] as const; }
  for (const trustedPeers of [[["kernel-b", kB.publicKey]], { "kernel-b": kB.publicKey }, new Map([["kernel-b", kB.publicKey]]), pairs()]) {
    const exchange = new KernelTrustExchange("kernel-a", kA, { trustedPeers: trustedPeers as Map<string, PublicKey> });
    assert.ok(exchange.trustedPeers().get("kernel-b")!.equals(kB.publicKey));
  }
  const sparse: unknown[] = [];
  sparse.length = 2 ** 32 - 1;
  for (const bad of [sparse, [1], [null]]) {
    throwsWith(() => new KernelTrustExchange("kernel-a", kA, { trustedPeers: bad as unknown as Map<string, PublicKey> }), "INVALID_CONFIG");
  }
});

test("trustedPeers() and trustedPeerKeys() answer the anchors in force whatever Array.from, the Map iterators and Map.prototype.set do (hunt 23)", () => {
  // Both built their answer with the realm's Array.from over the anchors (the Map iterator) and
  // `new Map`, which stores through Map.prototype.set, all looked up at each call: a replacement
  // answered a stranger's key for the anchor, and trustedPeerKeys() is how anchors are copied
  // from one exchange to another (README), so the copy trusted the stranger.
  const stranger = Keypair.fromSeed(new Uint8Array(32).fill(63));
  const exchange = new KernelTrustExchange("kernel-a", kA).withTrustedPeer("kernel-b", kB.publicKey);
  const mapPrototype = Map.prototype as unknown as Record<PropertyKey, unknown>;
  const from = Array.from;
  const set = Map.prototype.set;
  const routes: Array<[string, Record<PropertyKey, unknown>, PropertyKey, unknown]> = [
    ["Array.from", Array as unknown as Record<PropertyKey, unknown>, "from", (_: unknown, map: (entry: unknown) => unknown) => from([["kernel-b", [stranger.publicKey]]] as Iterable<unknown>, map)],
    ["Map's iterator", mapPrototype, Symbol.iterator, function* () { yield ["kernel-b", [stranger.publicKey]]; }],
    ["Map.prototype.entries", mapPrototype, "entries", function* () { yield ["kernel-b", [stranger.publicKey]]; }],
    ["Map.prototype.set", mapPrototype, "set", function (this: Map<unknown, unknown>, id: unknown, value: unknown) {
      return Reflect.apply(set, this, [id, Array.isArray(value) ? [stranger.publicKey] : stranger.publicKey]);
    }],
  ];
  for (const [name, owner, key, value] of routes) {
    const original = owner[key];
    owner[key] = value;
    let one: Map<string, PublicKey>, all: Map<string, PublicKey[]>;
    try {
      one = exchange.trustedPeers();
      all = exchange.trustedPeerKeys();
    } finally {
      owner[key] = original;
    }
    assert.equal(from(one, ([id, k]) => [id, k.toHex()]), [["kernel-b", kB.publicKey.toHex()]], `trustedPeers(), replaced ${name}`);
    assert.equal(from(all, ([id, ks]) => [id, ks.map((k) => k.toHex())]), [["kernel-b", [kB.publicKey.toHex()]]], `trustedPeerKeys(), replaced ${name}`);
  }
});

test("resolve, forget and acceptEnvelope refuse a non-string kernel id as INVALID_TYPE before the store is asked (not STORE_FAILED from it)", async () => {
  // A caller's mistake is INVALID_TYPE (the misuse class), never a store failure: the audit log
  // and a retrying transport tell the two apart (docs/protocol.md §9).
  const asked: string[] = [];
  const inner = new InMemoryPeerStore();
  const store = {
    insert: (peer: FederationPeer) => (asked.push("insert"), inner.insert(peer)),
    get: (id: string) => (asked.push("get"), inner.get(id)),
    remove: (id: string) => (asked.push("remove"), inner.remove(id)),
    snapshot: () => (asked.push("snapshot"), inner.snapshot()),
    compareAndSet: (id: string, expected: FederationPeer | undefined, next: FederationPeer) => (asked.push("compareAndSet"), inner.compareAndSet(id, expected, next)),
  };
  const exchange = new KernelTrustExchange("A", kA, { store }).withTrustedPeer("B", kB.publicKey);
  for (const id of [42, null, undefined, { toString: () => "B" }]) {
    await rejectsWithCode(exchange.resolve(id as never, 1_800_000_000), "INVALID_TYPE");
    await rejectsWithCode(exchange.forget(id as never), "INVALID_TYPE");
    await rejectsWithCode(exchange.acceptEnvelope(exchange.localEnvelope("A", "n", 1_800_000_000), id as never, 1_800_000_000), "INVALID_TYPE");
  }
  assert.equal(asked, [], "the store was never asked");
});

test("peersDueForRotation: withinSecs must be a unix-seconds count (INVALID_TIME otherwise); a horizon past 2^53−1 saturates and still lists every pin", async () => {
  const store = new InMemoryPeerStore();
  store.insert(new FederationPeer({ kernelId: "B", publicKey: kB.publicKey, establishedAt: 1_800_000_000, rotationDue: Number.MAX_SAFE_INTEGER }));
  const exchange = new KernelTrustExchange("A", kA, { store }).withTrustedPeer("B", kB.publicKey);
  for (const within of [-1, 0.5, "60", Number.NaN, Number.POSITIVE_INFINITY, 2 ** 53, 60n, null]) {
    await rejectsWithCode(exchange.peersDueForRotation(1_800_000_000, within as never), "INVALID_TIME");
  }
  assert.equal(await exchange.peersDueForRotation(1_800_000_000, 60), [], "due at 2^53−1: not within 60 s");
  const due = await exchange.peersDueForRotation(1_800_000_000, Number.MAX_SAFE_INTEGER);
  assert.equal(due.map((peer) => peer.kernelId), ["B"]);
});

test("withStore and withReplayStore refuse a port missing any one method (INVALID_TYPE), compareAndSet and release included, and keep the stores in use", async () => {
  // A peer store without compareAndSet, taken, failed only at the first pin write (STORE_FAILED,
  // its nonce held): a configuration mistake surfacing as a store outage.
  const inner = new InMemoryPeerStore();
  const full = {
    insert: (peer: FederationPeer) => inner.insert(peer),
    get: (id: string) => inner.get(id),
    remove: (id: string) => inner.remove(id),
    snapshot: () => inner.snapshot(),
    compareAndSet: (id: string, expected: FederationPeer | undefined, next: FederationPeer) => inner.compareAndSet(id, expected, next),
  };
  const cache = new ReplayCache();
  const replay = {
    reserve: (...args: Parameters<ReplayCache["reserve"]>) => cache.reserve(...args),
    commit: (peer: string, nonce: string) => cache.commit(peer, nonce),
    release: (peer: string, nonce: string) => cache.release(peer, nonce),
  };
  const exchange = new KernelTrustExchange("A", kA, { store: full, replayStore: replay }).withTrustedPeer("B", kB.publicKey);
  for (const method of Object.keys(full) as (keyof typeof full)[]) {
    const partial: Record<string, unknown> = { ...full };
    delete partial[method];
    assert.match(throwsWith(() => exchange.withStore(partial as never), "INVALID_TYPE").message, new RegExp(`missing ${method}`));
    partial[method] = "not a function";
    throwsWith(() => exchange.withStore(partial as never), "INVALID_TYPE");
  }
  for (const method of Object.keys(replay) as (keyof typeof replay)[]) {
    const partial: Record<string, unknown> = { ...replay };
    delete partial[method];
    assert.match(throwsWith(() => exchange.withReplayStore(partial as never), "INVALID_TYPE").message, new RegExp(`missing ${method}`));
  }
  throwsWith(() => exchange.withReplayStore({ ...replay, fits: 1 } as never), "INVALID_TYPE");
  // The stores in use are the ones given first: a handshake pins in `inner` and reserves in `cache`.
  const sender = new KernelTrustExchange("B", kB);
  await exchange.acceptEnvelope(sender.localEnvelope("A", "ports", 1_800_000_000).toJSONText(), "B", 1_800_000_000);
  assert.is(inner.size, 1);
  assert.is(cache.size, 1);
});

test("PeerHandshakeEnvelope.sign refuses a signer whose publicKey is not a PublicKey before asking it to sign", () => {
  let asked = 0;
  const signer = { publicKey: kB.publicKey.toHex(), sign: (bytes: Uint8Array) => (asked++, kB.sign(bytes)) };
  assert.match(throwsWith(() => PeerHandshakeEnvelope.sign("B", "A", "n", 1_800_000_000, signer as never), "INVALID_TYPE").message, /signer must be/);
  assert.is(asked, 0, "nothing was signed");
});

test.run();
