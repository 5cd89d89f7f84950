// One test per PeerHandshakeError code (message text = the reference's Display text where the
// reference has the variant; docs/protocol.md §9), plus the typed misuse errors. Every refused
// accept must leave the store as it was.
import { test } from "uvu";
import * as assert from "uvu/assert";
import canonicalize from "canonicalize";
import {
  DEFAULT_MAX_ENVELOPE_BYTES,
  FEDERATION_HANDSHAKE_SCHEMA,
  FederationPeer,
  HandshakeChallenge,
  InMemoryPeerStore,
  InvalidTimeError,
  KernelTrustExchange,
  Keypair,
  PeerHandshakeEnvelope,
  PeerHandshakeError,
  PublicKey,
  Signature,
  type HandshakeSigner,
} from "../../src/handshake/index.js";
import { expectCode, rejectsWith, rejectsWithCode, throwsWith } from "../helpers/assert-codes.js";
import { DEFAULT_ENVELOPE_MAX_BYTES, verifyEnvelopeBytes } from "../../src/handshake/verify-envelope.js";
import { InvalidTypeError } from "../../src/errors.js";
import { NOW, A, B } from "../helpers/kernels.js";
import { nodeSign } from "../helpers/ed25519-oracles.js";


/** A has B's anchor and an existing pin for B (so "store unchanged" is a real check). */
async function setup() {
  const seedB = new Uint8Array(32).fill(0x0b);
  const kpB = Keypair.fromSeed(seedB);
  const exchange = new KernelTrustExchange(A, Keypair.generate()).withTrustedPeer(B, kpB.publicKey);
  await exchange.acceptEnvelope(PeerHandshakeEnvelope.sign(B, A, "first", NOW - 100, kpB), B, NOW - 100);
  const before = JSON.stringify(await exchange.peers());
  const unchanged = async () => assert.is(JSON.stringify(await exchange.peers()), before);
  return { exchange, kpB, seedB, unchanged };
}

function signWithNode(challenge: object, seed: Uint8Array): string {
  return Buffer.from(nodeSign(seed, Buffer.from(canonicalize(challenge)!, "utf8"))).toString("hex");
}

test("UNSUPPORTED_SCHEMA (a correctly signed challenge with another schema)", async () => {
  const { exchange, kpB, seedB, unchanged } = await setup();
  const challenge = { schema: "chio.federation-kernel-handshake.v2", localKernelId: B, remoteKernelId: A, nonce: "n", timestamp: NOW };
  const envelope = { challenge, declaredPublicKey: kpB.publicKey.toHex(), signature: signWithNode(challenge, seedB) };
  for (const input of [envelope, JSON.stringify(envelope)]) {
    const error = await rejectsWith(exchange.acceptEnvelope(input, B, NOW), "UNSUPPORTED_SCHEMA");
    assert.is(error.message, "unsupported handshake schema: chio.federation-kernel-handshake.v2");
    assert.equal(error.fields, { schema: "chio.federation-kernel-handshake.v2" });
  }
  await unchanged();
});

test("CANONICAL_JSON (a lone surrogate cannot be canonicalized, so it cannot be signed)", () => {
  const kp = Keypair.generate();
  const exchange = new KernelTrustExchange(A, kp);
  const error = throwsWith(() => exchange.localEnvelope(B, "nonce-\ud800", NOW), "CANONICAL_JSON");
  assert.match(error.message, /^canonical JSON encoding failed: /);
  throwsWith(() => PeerHandshakeEnvelope.sign("\udc00", B, "n", NOW, kp), "CANONICAL_JSON");
  throwsWith(() => HandshakeChallenge.create(A, B, "\ud83d", NOW).canonicalBytes(), "CANONICAL_JSON");
  // A challenge object holding one is refused as MALFORMED_ENVELOPE before it gets that far.
});

test("SIGNING_FAILED (the signing backend throws or returns garbage)", () => {
  const publicKey = Keypair.generate().publicKey;
  const offline: HandshakeSigner = { publicKey, sign: () => { throw new Error("hsm offline"); } };
  const error = throwsWith(() => PeerHandshakeEnvelope.sign(A, B, "n", NOW, offline), "SIGNING_FAILED");
  assert.is(error.message, "handshake signing failed: hsm offline");
  assert.instance((error as Error).cause, Error);
  const garbage = { publicKey, sign: () => new Uint8Array(64) } as unknown as HandshakeSigner;
  throwsWith(() => new KernelTrustExchange(A, garbage).localEnvelope(B, "n", NOW), "SIGNING_FAILED");
  // A working custom signer is fine.
  const kp = Keypair.generate();
  const wrapped: HandshakeSigner = { publicKey: kp.publicKey, sign: (m) => kp.sign(m) };
  PeerHandshakeEnvelope.sign(A, B, "n", NOW, wrapped).verifySignature();
});

// Helper 146 (7 December 2026): a signer's publicKey getter that throws once the exchange is
// made (an HSM that went away) let its own error out of localEnvelope and sign(), with no code,
// where a throw of sign() is SIGNING_FAILED; a challenge's fields whose read throws let that out too.
test("SIGNING_FAILED for a signer whose publicKey can no longer be read, the key read once; INVALID_TYPE for challenge fields whose read throws", () => {
  const kp = Keypair.generate();
  const gone = new Error("hsm disconnected");
  let up = true;
  let reads = 0;
  const device: HandshakeSigner = {
    get publicKey() {
      reads++;
      if (!up) throw gone;
      return kp.publicKey;
    },
    sign: (m) => kp.sign(m),
  };
  const exchange = new KernelTrustExchange(A, device);
  reads = 0;
  PeerHandshakeEnvelope.sign(A, B, "n", NOW, device).verifySignature();
  assert.is(reads, 1, "the key checked is the key declared: one read");
  up = false;
  for (const call of [() => exchange.localEnvelope(B, "n", NOW), () => PeerHandshakeEnvelope.sign(A, B, "n", NOW, device)]) {
    const error = throwsWith(call, "SIGNING_FAILED");
    assert.instance(error, PeerHandshakeError);
    assert.is(error.message, "handshake signing failed: signer.publicKey cannot be read: hsm disconnected");
    assert.is((error as Error).cause, gone);
  }
  const trap = new Error("trap");
  const revoked = Proxy.revocable({}, {});
  revoked.revoke();
  for (const fields of [new Proxy({}, { get: () => { throw trap; } }), { get schema() { throw trap; } }, revoked.proxy]) {
    const error = throwsWith(() => new HandshakeChallenge(fields as never), "INVALID_TYPE");
    assert.instance(error, InvalidTypeError);
    assert.is(error.message, "challenge fields cannot be read");
    if (fields !== revoked.proxy) assert.is((error as Error).cause, trap);
  }
});

test("INVALID_SIGNATURE (tampered timestamp, nonce, signature)", async () => {
  const { exchange, kpB, unchanged } = await setup();
  const good = PeerHandshakeEnvelope.sign(B, A, "n", NOW, kpB).toJSON();
  const tampered = [
    { ...good, challenge: { ...good.challenge, timestamp: NOW + 1 } },
    { ...good, challenge: { ...good.challenge, nonce: "m" } },
    { ...good, signature: good.signature.slice(0, 127) + (good.signature.endsWith("0") ? "1" : "0") },
  ];
  for (const envelope of tampered) {
    for (const input of [envelope, JSON.stringify(envelope), new TextEncoder().encode(JSON.stringify(envelope))]) {
      const error = await rejectsWith(exchange.acceptEnvelope(input, B, NOW), "INVALID_SIGNATURE");
      assert.is(error.message, "remote handshake signature is invalid");
    }
  }
  await unchanged();
});

test("ADDRESS_MISMATCH", async () => {
  const { exchange, kpB, unchanged } = await setup();
  const error = await rejectsWith(exchange.acceptEnvelope(PeerHandshakeEnvelope.sign(B, "kernel.org-c", "n", NOW, kpB), B, NOW), "ADDRESS_MISMATCH");
  assert.equal(error.fields, { addressedTo: "kernel.org-c", actual: A });
  await unchanged();
});

test("ADDRESS_MISMATCH for every addressee that is not the local id byte for byte: empty, a prefix, an extension, another case", async () => {
  // Guards against an addressee check that is anything but exact equality: one that lets an
  // empty addressee through (an envelope "to nobody" would then be accepted by every kernel that
  // trusts the sender), or compares a prefix, or ignores case or trailing bytes. The other
  // ADDRESS_MISMATCH tests use ids of A's length differing in their last character, which such
  // checks still refuse. Signed by node:crypto over the `canonicalize` package's bytes, on the
  // object and the text path.
  const { exchange, kpB, seedB, unchanged } = await setup();
  for (const addressee of ["", "kernel.org-", A.slice(0, -1), `${A}.evil`, `${A} `, `${A}\u0000`, A.toUpperCase(), ` ${A}`]) {
    const challenge = { schema: FEDERATION_HANDSHAKE_SCHEMA, localKernelId: B, remoteKernelId: addressee, nonce: `to-${addressee.length}-${addressee.charCodeAt(addressee.length - 1)}`, timestamp: NOW };
    const envelope = { challenge, declaredPublicKey: kpB.publicKey.toHex(), signature: signWithNode(challenge, seedB) };
    for (const input of [envelope, JSON.stringify(envelope)]) {
      const error = await rejectsWith(exchange.acceptEnvelope(input, B, NOW), "ADDRESS_MISMATCH");
      assert.equal(error.fields, { addressedTo: addressee, actual: A });
      await rejectsWith(exchange.acceptClaimedEnvelope(input, NOW), "ADDRESS_MISMATCH");
    }
  }
  await unchanged();
  // The same bytes addressed to A exactly are accepted: the refusals above are the addressee's.
  const challenge = { schema: FEDERATION_HANDSHAKE_SCHEMA, localKernelId: B, remoteKernelId: A, nonce: "to-a", timestamp: NOW };
  const pinned = await exchange.acceptEnvelope(JSON.stringify({ challenge, declaredPublicKey: kpB.publicKey.toHex(), signature: signWithNode(challenge, seedB) }), B, NOW);
  assert.ok(pinned.publicKey.equals(kpB.publicKey));
});

test("KERNEL_ID_MISMATCH", async () => {
  const { exchange, kpB, unchanged } = await setup();
  const error = await rejectsWith(exchange.acceptEnvelope(PeerHandshakeEnvelope.sign("kernel.org-x", A, "n", NOW, kpB), B, NOW), "KERNEL_ID_MISMATCH");
  assert.equal(error.fields, { declared: "kernel.org-x", expected: B });
  await unchanged();
});

test("KERNEL_ID_MISMATCH when either side of the comparison is empty, a prefix or an extension of the other", async () => {
  // Guards against a claimed-id check that is skipped or loosened for an empty expected id (the
  // "" acceptClaimedEnvelope starts from before the challenge is read) or compares prefixes: with
  // an anchor under "" holding B's key, B's envelope would then be pinned as peer "". Signed by
  // node:crypto over the `canonicalize` package's bytes.
  const { exchange, kpB, seedB, unchanged } = await setup();
  exchange.withTrustedPeer("", kpB.publicKey).withTrustedPeer("kernel.org-", kpB.publicKey).withTrustedPeer(`${B}.evil`, kpB.publicKey);
  for (const [claimed, expected] of [[B, ""], ["", B], [B, "kernel.org-"], ["kernel.org-", B], [B, `${B}.evil`], [`${B}.evil`, B]]) {
    const challenge = { schema: FEDERATION_HANDSHAKE_SCHEMA, localKernelId: claimed, remoteKernelId: A, nonce: `from-${claimed}-to-${expected}`, timestamp: NOW };
    const envelope = { challenge, declaredPublicKey: kpB.publicKey.toHex(), signature: signWithNode(challenge, seedB) };
    for (const input of [envelope, JSON.stringify(envelope)]) {
      const error = await rejectsWith(exchange.acceptEnvelope(input, expected, NOW), "KERNEL_ID_MISMATCH");
      assert.equal(error.fields, { declared: claimed, expected });
    }
  }
  await unchanged();
});

test("CLOCK_SKEW_EXCEEDED (past and future)", async () => {
  const { exchange, kpB, unchanged } = await setup();
  for (const ts of [NOW - 301, NOW + 301, 0]) {
    const error = await rejectsWith(exchange.acceptEnvelope(PeerHandshakeEnvelope.sign(B, A, `n${ts}`, ts, kpB), B, NOW), "CLOCK_SKEW_EXCEEDED");
    assert.is(error.message, `remote envelope timestamp ${ts} drifts from local clock ${NOW} beyond 300s`);
  }
  await unchanged();
});

test("PEER_NOT_PINNED", async () => {
  const { exchange } = await setup();
  const error = await rejectsWith(exchange.resolve("kernel.org-z", NOW), "PEER_NOT_PINNED");
  assert.is(error.message, "peer kernel.org-z is not pinned; run a handshake before resolving");
});

test("PEER_STALE", async () => {
  const { exchange } = await setup();
  const pin = (await exchange.peers())[0];
  const error = await rejectsWith(exchange.resolve(B, pin.rotationDue), "PEER_STALE");
  assert.is(error.message, "peer kernel.org-b is stale and must be re-handshaked before use");
  // Stale pins stay in the store: resolve never removes them.
  assert.is((await exchange.peers()).length, 1);
});

test("MISSING_TRUST_ANCHOR", async () => {
  const kpB = Keypair.generate();
  const exchange = new KernelTrustExchange(A, Keypair.generate());
  const error = await rejectsWith(exchange.acceptEnvelope(PeerHandshakeEnvelope.sign(B, A, "n", NOW, kpB), B, NOW), "MISSING_TRUST_ANCHOR");
  assert.equal(error.fields, { kernelId: B });
  assert.equal(await exchange.peers(), []);
});

test("UNEXPECTED_PEER_KEY", async () => {
  const { exchange, kpB, unchanged } = await setup();
  const intruder = Keypair.generate();
  const error = await rejectsWith(exchange.acceptEnvelope(PeerHandshakeEnvelope.sign(B, A, "n", NOW, intruder), B, NOW), "UNEXPECTED_PEER_KEY");
  assert.equal(error.fields, { kernelId: B, expected: kpB.publicKey.toHex(), actual: intruder.publicKey.toHex() });
  await unchanged();
});

test("STORE_FAILED (the reference's StorePoisoned, for any store failure)", async () => {
  const kpB = Keypair.generate();
  const store = {
    insert() {},
    get() { throw new Error("connection reset"); },
    remove() {},
    snapshot: () => [],
    compareAndSet: () => true,
  };
  const exchange = new KernelTrustExchange(A, Keypair.generate(), { store }).withTrustedPeer(B, kpB.publicKey);
  const error = await rejectsWith(exchange.acceptEnvelope(PeerHandshakeEnvelope.sign(B, A, "n", NOW, kpB), B, NOW), "STORE_FAILED");
  assert.is(error.message, "trust store failed and cannot service requests: get: connection reset");
  assert.equal(error.fields, { operation: "get", reason: "connection reset" });
  assert.is((error.cause as Error).message, "connection reset");
});

test("STORE_FAILED when the peer store answers get(B) with another peer's entry: that pin never names B's key", async () => {
  // Guards against dropping the kernel-id check on the entries the accept reads (step 5, and the
  // re-read after a lost compare-and-set). Without it, a store (or a key mix-up in one) that
  // hands back C's pin for B lets B be accepted under C's key with no anchor for B, and the
  // accept can even adopt and return C's pin. Nothing is written; resolve refuses too.
  const C = "kernel.org-c";
  const kpC = Keypair.generate();
  const inner = new InMemoryPeerStore();
  const pinOfC = new FederationPeer({ kernelId: C, publicKey: kpC.publicKey, establishedAt: NOW - 10, rotationDue: NOW + 43_200 });
  inner.insert(pinOfC);
  const mixedUp = {
    insert: (peer: FederationPeer) => inner.insert(peer),
    get: (_kernelId: string) => inner.get(C),
    remove: (kernelId: string) => inner.remove(kernelId),
    snapshot: () => inner.snapshot(),
    compareAndSet: (kernelId: string, expected: FederationPeer | undefined, next: FederationPeer) => inner.compareAndSet(kernelId, expected, next),
  };
  const exchange = new KernelTrustExchange(A, Keypair.generate(), { store: mixedUp });
  for (const input of [PeerHandshakeEnvelope.sign(B, A, "n", NOW, kpC), PeerHandshakeEnvelope.sign(B, A, "m", NOW, kpC).toJSONText()]) {
    const error = await rejectsWith(exchange.acceptEnvelope(input, B, NOW), "STORE_FAILED");
    assert.equal(error.fields, { operation: "get", reason: `returned peer ${C} for ${B}` });
  }
  assert.equal(inner.snapshot().map((peer) => peer.kernelId), [C]);
  assert.ok(inner.get(C)!.equals(pinOfC));
  await rejectsWith(exchange.resolve(B, NOW), "STORE_FAILED");
});

test("STORE_FAILED when snapshot() answers a list with a hole: refused at its first bad entry, not after copying every index", async () => {
  // peers() copied the store's answer whole (Array.from) before checking any entry, so a sparse
  // array of length 2^32-1 (one malformed answer) had it build a four-billion-element array: the
  // process died of heap exhaustion (abort, exit code 134) in peers() and peersDueForRotation().
  // A Proxy of a 1,000,000-hole array counts the indices read; the old code read all of them.
  const inner = new InMemoryPeerStore();
  let reads = 0;
  const holes: unknown[] = [];
  holes.length = 1_000_000;
  const counted = new Proxy(holes, {
    get(target, key, receiver) {
      if (typeof key === "string" && /^[0-9]+$/.test(key)) reads++;
      return Reflect.get(target, key, receiver);
    },
  });
  let answer: unknown = counted;
  const store = {
    insert: (peer: FederationPeer) => inner.insert(peer),
    get: (kernelId: string) => inner.get(kernelId),
    remove: (kernelId: string) => inner.remove(kernelId),
    snapshot: () => answer as FederationPeer[],
    compareAndSet: (kernelId: string, expected: FederationPeer | undefined, next: FederationPeer) => inner.compareAndSet(kernelId, expected, next),
  };
  const exchange = new KernelTrustExchange(A, Keypair.generate(), { store });
  let error = await rejectsWith(exchange.peers(), "STORE_FAILED");
  assert.equal(error.fields, { operation: "snapshot", reason: "returned an empty entry" });
  assert.ok(reads <= 1, `${reads} indices read`);
  reads = 0;
  await rejectsWith(exchange.peersDueForRotation(NOW, 60), "STORE_FAILED");
  assert.ok(reads <= 1, `${reads} indices read`);
  // The length of a real sparse array at its maximum: refused at once.
  const sparse: unknown[] = [];
  sparse.length = 2 ** 32 - 1;
  answer = sparse;
  error = await rejectsWith(exchange.peers(), "STORE_FAILED");
  assert.equal(error.fields, { operation: "snapshot", reason: "returned an empty entry" });
  // A valid list is still copied whole, and the copy is the caller's.
  const kpB = Keypair.generate();
  const pin = new FederationPeer({ kernelId: B, publicKey: kpB.publicKey, establishedAt: NOW, rotationDue: NOW + 60 });
  answer = [pin];
  const peers = await exchange.peers();
  assert.ok(Array.isArray(peers) && peers.length === 1 && peers[0]!.equals(pin) && peers[0] !== pin);
  // A Proxy whose reads throw is STORE_FAILED too.
  answer = new Proxy([pin], { get() { throw new Error("trap"); } });
  error = await rejectsWith(exchange.peers(), "STORE_FAILED");
  assert.is(error.fields.operation, "snapshot");
});

test("MALFORMED_ENVELOPE through acceptEnvelope (object, text, bytes, wrong input types)", async () => {
  const { exchange, kpB, unchanged } = await setup();
  const good = PeerHandshakeEnvelope.sign(B, A, "n", NOW, kpB).toJSON();
  const bad = { ...good, role: "initiator" };
  for (const input of [bad, JSON.stringify(bad), new TextEncoder().encode(JSON.stringify(bad)), "not json", 42, null, undefined, true]) {
    const error = await rejectsWith(exchange.acceptEnvelope(input as object, B, NOW), "MALFORMED_ENVELOPE");
    assert.match(error.message, /^remote handshake envelope is malformed: /);
  }
  await unchanged();
});

test("MALFORMED_ENVELOPE for exotic objects: proxies whose traps throw, revoked proxies, proxied bytes", async () => {
  const { exchange, kpB, unchanged } = await setup();
  const good = PeerHandshakeEnvelope.sign(B, A, "n", NOW, kpB).toJSON();
  const boom = () => {
    throw new Error("trap");
  };
  const revoked = Proxy.revocable({ ...good }, {});
  revoked.revoke();
  const inputs: object[] = [
    new Proxy({ ...good }, { ownKeys: boom }),
    new Proxy({ ...good }, { getPrototypeOf: boom }),
    new Proxy({ ...good }, { getOwnPropertyDescriptor: boom }),
    { ...good, challenge: new Proxy({ ...good.challenge }, { ownKeys: boom }) },
    revoked.proxy,
    new Proxy(new TextEncoder().encode(JSON.stringify(good)), {}),
  ];
  for (const input of inputs) {
    const error = await rejectsWith(exchange.acceptEnvelope(input, B, NOW), "MALFORMED_ENVELOPE");
    assert.match(error.message, /^remote handshake envelope is malformed: /);
    assert.throws(() => PeerHandshakeEnvelope.fromJSON(input), (e: unknown) => e instanceof PeerHandshakeError && e.code === "MALFORMED_ENVELOPE");
  }
  await unchanged();
});

test("FederationPeer.fromJSON refuses a revoked Proxy with InvalidTypeError (INVALID_TYPE), not the engine's TypeError", () => {
  const { proxy, revoke } = Proxy.revocable({}, {});
  revoke();
  assert.throws(() => FederationPeer.fromJSON(proxy as never), (e: unknown) => e instanceof InvalidTypeError && (e as InvalidTypeError).code === "INVALID_TYPE" && /^peer cannot be read: /.test((e as Error).message));
});

test("WEAK_PUBLIC_KEY (the identity key, with a signature forged for it)", async () => {
  const identity = "01" + "00".repeat(31);
  const { exchange, unchanged } = await setup();
  const challenge = HandshakeChallenge.create(B, A, "n", NOW);
  // R = encode(B), S = 1: [S]B − [k]·identity = B = R, so the cofactorless equation holds for any message.
  const forged = "58" + "66".repeat(31) + "01" + "00".repeat(31);
  const envelope = new PeerHandshakeEnvelope(challenge, PublicKey.fromHex(identity), Signature.fromHex(forged));
  for (const input of [envelope, envelope.toJSON(), envelope.toJSONText()]) {
    const error = await rejectsWith(exchange.acceptEnvelope(input, B, NOW), "WEAK_PUBLIC_KEY");
    assert.equal(error.fields, { publicKey: identity });
  }
  await unchanged();
});

test("REPLAYED_NONCE", async () => {
  const { exchange, kpB } = await setup();
  const envelope = PeerHandshakeEnvelope.sign(B, A, "nonce-r", NOW, kpB);
  const pinned = await exchange.acceptEnvelope(envelope, B, NOW);
  const before = JSON.stringify(await exchange.peers());
  const error = await rejectsWith(exchange.acceptEnvelope(envelope.toJSONText(), B, NOW + 5), "REPLAYED_NONCE");
  assert.is(error.message, 'peer kernel.org-b reused nonce "nonce-r" within the replay window');
  assert.equal(error.fields, { kernelId: B, nonce: "nonce-r" });
  assert.is(JSON.stringify(await exchange.peers()), before); // the pin was not renewed
  assert.is((await exchange.resolve(B, NOW + 5)).establishedAt, pinned.establishedAt);
});

test("misuse gets typed errors: INVALID_TIME, INVALID_CONFIG, INVALID_TYPE", async () => {
  const kpB = Keypair.generate();
  const exchange = new KernelTrustExchange(A, Keypair.generate()).withTrustedPeer(B, kpB.publicKey);
  const envelope = PeerHandshakeEnvelope.sign(B, A, "n", NOW, kpB);
  for (const now of [-1, 1.5, 2 ** 53, NaN, Infinity, "1800000000", 10n]) {
    for (const call of [
      () => exchange.acceptEnvelope(envelope, B, now as number),
      () => exchange.resolve(B, now as number),
      () => exchange.peersDueForRotation(now as number, 0),
    ]) {
      await rejectsWithCode(call(), "INVALID_TIME");
    }
    throwsWith(() => exchange.localEnvelope(B, "n", now as number), "INVALID_TIME");
    throwsWith(() => exchange.withConfig({ rotationWindowSecs: now as number }), "INVALID_TIME");
  }
  // A clock in fractional seconds: always half a second past the wall clock's second (Date.now() / 1000
  // alone is a whole number once in every 1000 milliseconds, which the check rightly accepts).
  const badClock = new KernelTrustExchange(A, Keypair.generate(), { clock: () => Math.floor(Date.now() / 1000) + 0.5 });
  throwsWith(() => badClock.localEnvelope(B, "n"), "INVALID_TIME");
  throwsWith(() => exchange.withHardening({ maxEnvelopeBytes: 0 }), "INVALID_CONFIG");
  throwsWith(() => exchange.withHardening({ rejectWeakKeys: "yes" as unknown as boolean }), "INVALID_CONFIG");
  throwsWith(() => exchange.withHardening({ replayCache: { maxEntries: -5 } }), "INVALID_CONFIG");
  throwsWith(() => new KernelTrustExchange(42 as unknown as string, Keypair.generate()), "INVALID_TYPE");
  throwsWith(() => new KernelTrustExchange(A, {} as HandshakeSigner), "INVALID_TYPE");
  throwsWith(() => exchange.withStore({} as never), "INVALID_TYPE");
  throwsWith(() => exchange.localEnvelope(7 as unknown as string, "n", NOW), "INVALID_TYPE");
  await rejectsWithCode(exchange.acceptEnvelope(envelope, 7 as unknown as string, NOW), "INVALID_TYPE");
  // The default clock is the system clock in unix seconds.
  const sys = new KernelTrustExchange(A, Keypair.generate()).localEnvelope(B, "n");
  assert.ok(Math.abs(Number(sys.challenge.timestamp) - Date.now() / 1000) < 5);
});

test("the shared assertion helpers fail on the wrong code, the wrong class, or no error at all", async () => {
  const refused = () => PeerHandshakeEnvelope.fromJSON("{}");
  const malformed = expectCode(refused, "MALFORMED_ENVELOPE");
  const fails = async (run: () => unknown) => {
    try {
      await run();
    } catch (error) {
      assert.instance(error, assert.Assertion);
      return;
    }
    assert.unreachable("the helper accepted a mismatch");
  };
  await fails(() => expectCode(refused, "INVALID_SIGNATURE"));
  await fails(() => expectCode(() => undefined, "MALFORMED_ENVELOPE"));
  await fails(() => expectCode(() => PublicKey.fromHex("zz"), "INVALID_HEX")); // right code, not a PeerHandshakeError
  assert.is(throwsWith(() => PublicKey.fromHex("zz"), "INVALID_LENGTH").code, "INVALID_LENGTH");
  await fails(() => throwsWith(() => 1, "INVALID_HEX"));
  await rejectsWith(Promise.reject(malformed), "MALFORMED_ENVELOPE");
  await fails(() => rejectsWith(Promise.resolve(1), "MALFORMED_ENVELOPE"));
  await fails(() => rejectsWith(Promise.reject(malformed), "STORE_FAILED"));
  await fails(() => rejectsWithCode(Promise.resolve(1), "INVALID_TIME"));
  await fails(() => rejectsWithCode(Promise.reject(new Error("plain")), "INVALID_TIME"));
});

test("one default size limit: verifyEnvelopeBytes and the handshake share 64 KiB and the schema constant", async () => {
  assert.is(DEFAULT_ENVELOPE_MAX_BYTES, DEFAULT_MAX_ENVELOPE_BYTES);
  assert.is(DEFAULT_MAX_ENVELOPE_BYTES, 64 * 1024);
  // An envelope padded to one byte over the default is refused unparsed by both entry points.
  const kpB = Keypair.generate();
  const text = PeerHandshakeEnvelope.sign(B, A, "n", NOW, kpB).toJSONText();
  const oversize = text + " ".repeat(DEFAULT_MAX_ENVELOPE_BYTES + 1 - text.length);
  const verdict = verifyEnvelopeBytes(oversize);
  assert.is(verdict.ok ? "ok" : verdict.code, "MALFORMED_ENVELOPE");
  expectCode(() => PeerHandshakeEnvelope.fromJSON(oversize), "MALFORMED_ENVELOPE");
  const exact = text + " ".repeat(DEFAULT_MAX_ENVELOPE_BYTES - text.length);
  assert.ok(verifyEnvelopeBytes(exact).ok);
  assert.ok(PeerHandshakeEnvelope.fromJSON(exact).challenge.equals(PeerHandshakeEnvelope.fromJSON(text).challenge));
  // The wasm verifier's own copy of the schema agrees with FEDERATION_HANDSHAKE_SCHEMA.
  const other = verifyEnvelopeBytes(
    JSON.stringify({ ...JSON.parse(text), challenge: { ...JSON.parse(text).challenge, schema: "x" } }),
  );
  assert.ok(!other.ok && other.message.endsWith(`(expected ${FEDERATION_HANDSHAKE_SCHEMA})`));
  assert.ok(verifyEnvelopeBytes(text).ok);
});

test("a clock that throws or returns a bad reading is INVALID_TIME (InvalidTimeError) for every call that reads it", async () => {
  const kpB = Keypair.generate();
  const envelope = PeerHandshakeEnvelope.sign(B, A, "n", NOW, kpB);
  const failure = new Error("clock source offline");
  const unprintable = { toString: () => { throw new Error("no"); } };
  const clocks: [() => unknown, string, unknown][] = [
    [() => { throw failure; }, "clock() threw: clock source offline", failure],
    [() => { throw "down"; }, "clock() threw: down", "down"],
    [() => { throw unprintable; }, "clock() threw: an unprintable value", unprintable],
    [() => 1.5, "clock() must be", undefined],
    [() => "1800000000", "clock() must be", undefined],
    [() => -1, "clock() must be", undefined],
    [() => NaN, "clock() must be", undefined],
    [() => 10n, "clock() must be", undefined],
    [() => Promise.resolve(NOW), "clock() must be", undefined],
    [() => undefined, "clock() must be", undefined],
  ];
  for (const [clock, message, cause] of clocks) {
    const exchange = new KernelTrustExchange(A, Keypair.generate(), { clock: clock as () => number }).withTrustedPeer(B, kpB.publicKey);
    const errors = [
      throwsWith(() => exchange.localEnvelope(B, "n"), "INVALID_TIME"),
      await rejectsWithCode(exchange.acceptEnvelope(envelope, B), "INVALID_TIME"),
      await rejectsWithCode(exchange.resolve(B), "INVALID_TIME"),
      await rejectsWithCode(exchange.peersDueForRotation(undefined, 0), "INVALID_TIME"),
    ];
    for (const error of errors) {
      assert.instance(error, InvalidTimeError);
      assert.ok(error.message.startsWith(message), error.message);
      assert.is((error as Error & { cause?: unknown }).cause, cause);
    }
    // An explicit `now` does not consult the clock.
    assert.is((await exchange.acceptEnvelope(envelope, B, NOW)).establishedAt, NOW);
  }
});

test.run();
