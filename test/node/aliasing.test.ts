// Buffer aliasing across the public surface: every byte value the library keeps is its own copy,
// and every byte value it hands out is a fresh copy. `Buffer#slice` is a VIEW of the caller's
// memory, and small `Buffer.from(...)` results share one pooled ArrayBuffer, so keeping
// `bytes.slice()` of a Buffer keeps the caller's memory. Each carrier below holds the same bytes
// in memory the caller later overwrites; the kept value must not move. Oracles: node:crypto
// (keys and signatures), the npm `canonicalize` package (canonical bytes).
import { test } from "uvu";
import * as assert from "uvu/assert";
import canonicalize from "canonicalize";
import {
  bytesToHex,
  canonicalizeJson,
  ed25519,
  FederationPeer,
  HandshakeChallenge,
  isSmallOrderPublicKey,
  isValidPublicKey,
  KernelTrustExchange,
  Keypair,
  PeerHandshakeEnvelope,
  PublicKey,
  Signature,
  verifyEnvelopeBatch,
  verifyEnvelopeBytes,
} from "../../src/index.js";
import { copyInto } from "../../src/bytes.js";
import { InvalidTypeError } from "../../src/errors.js";
import { CRASH_NONE, packEnvelopeChunk, packSignatureChunk, TASK_ENVELOPES, TASK_SIGNATURES, type PoolTask } from "../../src/pool/codec.js";
import runPoolTask from "../../src/pool/worker.js";
import { runInNewContext } from "node:vm";
import { Session } from "node:inspector";
import { rejectsWith, throwsWith } from "../helpers/assert-codes.js";
import { nodeAccepts, nodePublicKeyBytes, nodeSign } from "../helpers/ed25519-oracles.js";
import { NOW, X, Y, LOCAL } from "../helpers/kernels.js";


const hex = (bytes: Uint8Array): string => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("hex");
const seedOf = (fill: number): Uint8Array => Uint8Array.from({ length: 32 }, (_, i) => (fill + 7 * i) & 0xff);

/** A caller's memory holding `bytes`, and how the caller overwrites it afterwards. */
interface Carrier {
  name: string;
  value: Uint8Array;
}

/**
 * The same bytes in the shapes a Node caller passes: a pooled Buffer (Buffer.from of a small size
 * shares Buffer.poolSize's slab), Buffer.allocUnsafe (pooled too), a Buffer sliced out of a larger
 * one (a view), and an offset Uint8Array view into a larger ArrayBuffer.
 */
function carriers(bytes: Uint8Array): Carrier[] {
  const pooled = Buffer.from(bytes);
  assert.ok(pooled.buffer.byteLength > pooled.length, "Buffer.from of a small size is a view of the shared pool");
  const unsafe = Buffer.allocUnsafe(bytes.length);
  unsafe.set(bytes);
  const big = Buffer.alloc(bytes.length + 16);
  big.set(bytes, 5);
  const sliced = big.slice(5, 5 + bytes.length); // Buffer#slice: a view, not a copy
  const backing = new ArrayBuffer(bytes.length + 8);
  const offsetView = new Uint8Array(backing, 3, bytes.length);
  offsetView.set(bytes);
  return [
    { name: "pooled Buffer.from", value: pooled },
    { name: "Buffer.allocUnsafe", value: unsafe },
    { name: "Buffer#slice view", value: sliced },
    { name: "offset Uint8Array view", value: offsetView },
  ];
}

/** Overwrites the caller's memory behind `value` (all of its ArrayBuffer, not just the view). */
function scribble(value: Uint8Array): void {
  value.fill(0x5a);
}

test("copyInto copies exactly the measured bytes of a view of shared memory that grew after it was measured (review-36 F5)", () => {
  // Another thread may grow a growable SharedArrayBuffer between a check and the copy into wasm
  // memory; a length-tracking view then reports the new length, and `set` would copy past what
  // was checked (or throw a RangeError). Grown here from this thread, between the two steps.
  const shared = new SharedArrayBuffer(8, { maxByteLength: 64 });
  const view = new Uint8Array(shared);
  view.set([1, 2, 3, 4, 5, 6, 7, 8]);
  const measured = view.length;
  shared.grow(16);
  view.fill(0x77, 8);
  const target = new Uint8Array(16).fill(0xee);
  copyInto(target, view, 0, measured);
  assert.equal([...target], [1, 2, 3, 4, 5, 6, 7, 8, ...new Array(8).fill(0xee)]);
  const tight = new Uint8Array(12).fill(0xee);
  copyInto(tight, view, 4, measured); // `set` would throw: 16 bytes do not fit at offset 4
  assert.equal([...tight], [0xee, 0xee, 0xee, 0xee, 1, 2, 3, 4, 5, 6, 7, 8]);
  // Shared memory from another realm, or dressed as an ArrayBuffer, is recognised too (review-37).
  const foreign = runInNewContext("new SharedArrayBuffer(8, { maxByteLength: 64 })") as SharedArrayBuffer;
  const disguised = new SharedArrayBuffer(8, { maxByteLength: 64 });
  Object.setPrototypeOf(disguised, ArrayBuffer.prototype);
  for (const buffer of [foreign, disguised]) {
    const grown = new Uint8Array(buffer);
    grown.fill(5);
    SharedArrayBuffer.prototype.grow.call(buffer, 16);
    grown.fill(0x77, 8);
    const into = new Uint8Array(16).fill(0xee);
    copyInto(into, grown, 0, 8);
    assert.equal([...into], [...new Array(8).fill(5), ...new Array(8).fill(0xee)]);
  }
  // Unshared views are copied as they are.
  const plain = new Uint8Array(4);
  copyInto(plain, new Uint8Array([9, 8, 7]), 1, 3);
  assert.equal([...plain], [0, 9, 8, 7]);
});

test("copyInto copies exactly `length` bytes of unshared memory too, and refuses a view that became shorter (detached or shrunk) than measured", () => {
  // Longer than measured (an unshared resizable buffer grown since): the measured prefix only.
  const resizable = new ArrayBuffer(4, { maxByteLength: 16 } as never) as ArrayBuffer & { resize(length: number): void };
  const tracking = new Uint8Array(resizable);
  tracking.set([1, 2, 3, 4]);
  resizable.resize(8);
  tracking.fill(0x77, 4);
  const target = new Uint8Array(8).fill(0xee);
  copyInto(target, tracking, 0, 4);
  assert.equal([...target], [1, 2, 3, 4, 0xee, 0xee, 0xee, 0xee]);
  // Shorter than measured: INVALID_TYPE, and the target is left as it was (no stale tail).
  resizable.resize(2);
  const untouched = new Uint8Array(8).fill(0xee);
  const shrunk = throwsWith(() => copyInto(untouched, tracking, 0, 4), "INVALID_TYPE");
  assert.instance(shrunk, InvalidTypeError);
  assert.match(shrunk.message, /detached or shrunk after its check: 2 of 4 bytes left/);
  assert.equal([...untouched], new Array(8).fill(0xee));
  const buffer = new ArrayBuffer(4);
  const detached = new Uint8Array(buffer);
  structuredClone(buffer, { transfer: [buffer] });
  assert.match(throwsWith(() => copyInto(untouched, detached, 0, 4), "INVALID_TYPE").message, /detached or shrunk/);
  // Nothing to copy: a detached empty view is no error (`set` would throw a TypeError).
  copyInto(untouched, detached, 0, 0);
  assert.equal([...untouched], new Array(8).fill(0xee));
});

/** Exceptions thrown in this thread while `run` runs, caught ones included (a same-thread inspector session). */
function exceptionsThrownDuring(run: () => void): number {
  const session = new Session();
  session.connect();
  let thrown = 0;
  session.on("Debugger.paused", () => {
    thrown++;
    session.post("Debugger.resume");
  });
  try {
    session.post("Debugger.enable");
    session.post("Debugger.setPauseOnExceptions", { state: "all" });
    run();
  } finally {
    session.post("Debugger.setPauseOnExceptions", { state: "none" });
    session.post("Debugger.disable");
    session.disconnect();
  }
  return thrown;
}

/** `bytes` copied into a SharedArrayBuffer of this realm, as the pool's workers receive every input. */
const sharedCopy = (bytes: Uint8Array): Uint8Array => {
  const view = new Uint8Array(new SharedArrayBuffer(bytes.length));
  view.set(bytes);
  return view;
};

test("verification throws nothing internally for bytes in shared memory or not: no exception on the hot path", () => {
  // A throw costs microseconds. Review-37's brand test threw (and caught) for every view of shared
  // memory, and every input a pool worker verifies is such a view: a quarter of the workers' time
  // went there, unseen by any test. Counted here with the inspector, caught exceptions included.
  const seed = seedOf(9);
  const message = new TextEncoder().encode("shared message");
  const signature = nodeSign(seed, message);
  const publicKey = nodePublicKeyBytes(seed);
  const wire = new TextEncoder().encode(JSON.stringify(new KernelTrustExchange(X, Keypair.fromSeed(seed)).localEnvelope(LOCAL, "nonce-shared", NOW)));
  for (const [shape, bytes] of [["unshared", (b: Uint8Array) => b.slice()], ["shared", sharedCopy]] as const) {
    const item = { signature: bytes(signature), message: bytes(message), publicKey: bytes(publicKey) };
    const items = Array.from({ length: 8 }, () => item);
    const envelopes = [bytes(wire), bytes(wire)];
    const calls = () => {
      assert.ok(ed25519.verify(item.signature, item.message, item.publicKey), `${shape}: verify`);
      assert.equal(ed25519.verifyBatch(items), new Array(8).fill(true), `${shape}: verifyBatch`);
      assert.ok(verifyEnvelopeBatch(envelopes).every((verdict) => verdict.ok), `${shape}: verifyEnvelopeBatch`);
      assert.ok(verifyEnvelopeBytes(envelopes[0]).ok, `${shape}: verifyEnvelopeBytes`);
    };
    calls(); // instantiation, tables and caches first: only the steady state is counted
    assert.is(exceptionsThrownDuring(calls), 0, `${shape}: exceptions thrown inside the calls`);
  }
  // A pool worker's task as the worker runs it: the chunk packed on the calling thread, then read
  // in place (views of a SharedArrayBuffer) and verified.
  const tasks = [
    { kind: TASK_SIGNATURES, buffer: packSignatureChunk([signature, signature], [message, message], [publicKey, publicKey], 0, 2), verify: { zip215: false }, crash: CRASH_NONE },
    { kind: TASK_ENVELOPES, buffer: packEnvelopeChunk([wire, wire], 0, 2), envelope: { maxBytes: 65536, zip215: false, rejectWeakKeys: true, escapeDelAndC1: false }, crash: CRASH_NONE },
  ];
  const runTasks = () => {
    for (const task of tasks) {
      const answer = runPoolTask(task as PoolTask) as unknown;
      assert.not.ok((answer as { failed?: boolean }).failed, `task kind ${task.kind} answered`);
    }
  };
  runTasks();
  assert.is(exceptionsThrownDuring(runTasks), 0, "exceptions thrown inside a pool worker's tasks");
  // The counter itself: a caught exception is seen.
  assert.is(exceptionsThrownDuring(() => { try { JSON.parse("{"); } catch { /* counted */ } }), 1);
});

test("PublicKey.fromBytes keeps a copy; toBytes hands out copies", () => {
  const seed = seedOf(1);
  const expected = nodePublicKeyBytes(seed);
  const message = new TextEncoder().encode("message");
  const signature = Signature.fromBytes(nodeSign(seed, message));
  for (const { name, value } of carriers(expected)) {
    const key = PublicKey.fromBytes(value);
    scribble(value);
    assert.is(hex(key.toBytes()), hex(expected), name);
    assert.ok(key.verify(message, signature), `${name}: still verifies under the original key`);
    assert.ok(key.equals(PublicKey.fromBytes(expected)), name);
    const out = key.toBytes();
    out.fill(0);
    assert.is(hex(key.toBytes()), hex(expected), `${name}: mutating toBytes() output`);
    assert.is(Object.getPrototypeOf(key.toBytes()), Uint8Array.prototype, `${name}: a plain Uint8Array`);
  }
});

test("Signature.fromBytes keeps a copy; toBytes hands out copies", () => {
  const seed = seedOf(2);
  const message = new TextEncoder().encode("signed");
  const expected = nodeSign(seed, message);
  const key = PublicKey.fromBytes(nodePublicKeyBytes(seed));
  for (const { name, value } of carriers(expected)) {
    const signature = Signature.fromBytes(value);
    scribble(value);
    assert.is(hex(signature.toBytes()), hex(expected), name);
    assert.ok(key.verify(message, signature), name);
    signature.toBytes().fill(0);
    assert.is(signature.toHex(), hex(expected), `${name}: mutating toBytes() output`);
  }
});

test("Keypair.fromSeed keeps a copy; seedBytes hands out copies; signatures match node:crypto", () => {
  const seed = seedOf(3);
  const message = new TextEncoder().encode("hello");
  for (const { name, value } of carriers(seed)) {
    const keypair = Keypair.fromSeed(value);
    scribble(value);
    assert.is(hex(keypair.seedBytes()), hex(seed), name);
    assert.is(keypair.sign(message).toHex(), hex(nodeSign(seed, message)), name);
    keypair.seedBytes().fill(0);
    assert.is(keypair.sign(message).toHex(), hex(nodeSign(seed, message)), `${name}: mutating seedBytes() output`);
    assert.is(keypair.publicKey.toHex(), hex(nodePublicKeyBytes(seed)), name);
  }
});

test("attack: zeroing the seed Buffer after Keypair.fromSeed (hygiene) does not change what the kernel signs", async () => {
  const seed = seedOf(4);
  const seedBuffer = Buffer.from(seed); // e.g. read from a key file
  const keypair = Keypair.fromSeed(seedBuffer);
  seedBuffer.fill(0); // wipe the caller's copy, as one should
  const envelope = PeerHandshakeEnvelope.sign(X, LOCAL, "nonce-1", NOW, keypair);
  const canonical = new TextEncoder().encode(
    canonicalize({ schema: envelope.challenge.schema, localKernelId: X, remoteKernelId: LOCAL, nonce: "nonce-1", timestamp: NOW })!,
  );
  assert.is(envelope.signature.toHex(), hex(nodeSign(seed, canonical)), "signed with the original seed");
  const zeroSeedSignature = nodeSign(new Uint8Array(32), canonical);
  assert.is.not(envelope.signature.toHex(), hex(zeroSeedSignature));
  // The peer that anchors this kernel's key accepts the envelope.
  const peer = new KernelTrustExchange(LOCAL, Keypair.generate()).withTrustedPeer(X, PublicKey.fromBytes(nodePublicKeyBytes(seed)));
  const pinned = await peer.acceptEnvelope(envelope.toJSONText(), X, NOW);
  assert.is(pinned.publicKey.toHex(), hex(nodePublicKeyBytes(seed)));
});

test("attack: trust anchors read into one reused Buffer stay distinct, so Y cannot pass as X", async () => {
  const seedX = seedOf(5);
  const seedY = seedOf(6);
  const keyY = Keypair.fromSeed(seedY);
  // Anchors read one after another into the same reusable buffer (a file or socket reader).
  const scratch = Buffer.alloc(32);
  scratch.set(nodePublicKeyBytes(seedX));
  const anchorX = PublicKey.fromBytes(scratch);
  scratch.set(nodePublicKeyBytes(seedY));
  const anchorY = PublicKey.fromBytes(scratch);
  assert.is(anchorX.toHex(), hex(nodePublicKeyBytes(seedX)));
  const exchange = new KernelTrustExchange(LOCAL, Keypair.generate()).withTrustedPeer(X, anchorX).withTrustedPeer(Y, anchorY);
  assert.is(exchange.trustedPeers().get(X)!.toHex(), hex(nodePublicKeyBytes(seedX)));
  // Y signs (validly, with its own key) an envelope that claims to come from kernel X.
  const forged = PeerHandshakeEnvelope.sign(X, LOCAL, "nonce-x", NOW, keyY);
  for (const input of [forged, forged.toJSON(), forged.toJSONText(), Buffer.from(forged.toJSONText())]) {
    const error = await rejectsWith(exchange.acceptEnvelope(input, X, NOW), "UNEXPECTED_PEER_KEY");
    assert.equal(error.fields, { kernelId: X, expected: hex(nodePublicKeyBytes(seedX)), actual: hex(nodePublicKeyBytes(seedY)) });
  }
  assert.equal(await exchange.peers(), [], "nothing was pinned for X");
  // X itself and Y as itself are still accepted.
  await exchange.acceptEnvelope(PeerHandshakeEnvelope.sign(X, LOCAL, "nonce-x", NOW, Keypair.fromSeed(seedX)), X, NOW);
  await exchange.acceptEnvelope(PeerHandshakeEnvelope.sign(Y, LOCAL, "nonce-y", NOW, keyY), Y, NOW);
  const pins = Object.fromEntries((await exchange.peers()).map((p) => [p.kernelId, p.publicKey.toHex()]));
  assert.equal(pins, { [X]: hex(nodePublicKeyBytes(seedX)), [Y]: hex(nodePublicKeyBytes(seedY)) });
});

test("FederationPeer and PeerHandshakeEnvelope built from reused Buffers keep their values", () => {
  const seed = seedOf(7);
  const publicBytes = nodePublicKeyBytes(seed);
  const scratch = Buffer.from(publicBytes);
  const peer = new FederationPeer({ kernelId: X, publicKey: PublicKey.fromBytes(scratch), establishedAt: NOW, rotationDue: NOW + 60 });
  const challenge = HandshakeChallenge.create(X, LOCAL, "n", NOW);
  const signatureBuffer = Buffer.from(nodeSign(seed, challenge.canonicalBytes()));
  const envelope = new PeerHandshakeEnvelope(challenge, PublicKey.fromBytes(scratch), Signature.fromBytes(signatureBuffer));
  scratch.fill(0xee);
  signatureBuffer.fill(0x11);
  assert.is(peer.publicKey.toHex(), hex(publicBytes));
  assert.is(FederationPeer.fromJSON(JSON.parse(JSON.stringify(peer))).publicKey.toHex(), hex(publicBytes));
  assert.is(envelope.declaredPublicKey.toHex(), hex(publicBytes));
  envelope.verifySignature(); // the kept signature and key still match
  envelope.signature.toBytes().fill(0);
  envelope.declaredPublicKey.toBytes().fill(0);
  assert.is(PeerHandshakeEnvelope.fromJSON(envelope.toJSONText()).signature.toHex(), envelope.signature.toHex());
});

test("a Uint8Array subclass whose species hands back shared memory cannot make a kept copy a view", () => {
  const seed = seedOf(11);
  const shared = new Uint8Array(64);
  class Sharing extends Uint8Array {
    // `slice`/`subarray`/`map` build their result through the species constructor.
    static get [Symbol.species]() {
      return function (length: number) {
        return new Uint8Array(shared.buffer, 0, length);
      };
    }
  }
  const key = PublicKey.fromBytes(Sharing.from(nodePublicKeyBytes(seed)));
  const keypair = Keypair.fromSeed(Sharing.from(seed));
  shared.fill(0x77);
  assert.is(key.toHex(), hex(nodePublicKeyBytes(seed)));
  assert.is(hex(keypair.seedBytes()), hex(seed));
});

test("HandshakeChallenge.canonicalBytes hands out a copy of its cached bytes (defect 9b)", () => {
  const signer = Keypair.fromSeed(seedOf(8));
  const fresh = HandshakeChallenge.create(X, LOCAL, "nonce", NOW);
  const verified = PeerHandshakeEnvelope.fromJSON(PeerHandshakeEnvelope.sign(X, LOCAL, "nonce", NOW, signer).toJSONText()).challenge;
  const expected = canonicalize({ schema: fresh.schema, localKernelId: X, remoteKernelId: LOCAL, nonce: "nonce", timestamp: NOW })!;
  for (const challenge of [fresh, verified]) {
    for (const options of [undefined, { legacyControlEscapes: true }]) {
      const first = challenge.canonicalBytes(options);
      first.fill(0x20);
      assert.is(new TextDecoder().decode(challenge.canonicalBytes(options)), expected);
      assert.is.not(challenge.canonicalBytes(options), challenge.canonicalBytes(options), "a new array per call");
    }
  }
  // And the envelope built on the challenge still verifies.
  PeerHandshakeEnvelope.fromJSON(PeerHandshakeEnvelope.sign(X, LOCAL, "nonce", NOW, signer).toJSON()).verifySignature();
});

test("ed25519.*: inputs from any carrier are read once, outputs are fresh arrays", async () => {
  const seed = seedOf(9);
  const message = new TextEncoder().encode("a message long enough to not be trivially short");
  const expectedPublic = hex(nodePublicKeyBytes(seed));
  const expectedSignature = hex(nodeSign(seed, message));
  const seedCarriers = carriers(seed);
  const messageCarriers = carriers(message);
  for (let i = 0; i < seedCarriers.length; i++) {
    const name = seedCarriers[i].name;
    const publicKey = ed25519.getPublicKey(seedCarriers[i].value);
    const signature = ed25519.sign(messageCarriers[i].value, seedCarriers[i].value);
    const asyncSignature = await ed25519.signAsync(messageCarriers[i].value, seedCarriers[i].value);
    const publicCarrier = carriers(publicKey)[i].value;
    const signatureCarrier = carriers(signature)[i].value;
    assert.ok(ed25519.verify(signatureCarrier, messageCarriers[i].value, publicCarrier), name);
    assert.ok(await ed25519.verifyAsync(signatureCarrier, messageCarriers[i].value, publicCarrier), name);
    assert.ok(isValidPublicKey(publicCarrier) && !isSmallOrderPublicKey(publicCarrier), name);
    for (const carrier of [seedCarriers[i].value, messageCarriers[i].value]) {
      assert.is.not(publicKey.buffer, carrier.buffer, name);
      assert.is.not(signature.buffer, carrier.buffer, name);
    }
    scribble(seedCarriers[i].value);
    scribble(messageCarriers[i].value);
    assert.is(hex(publicKey), expectedPublic, name);
    assert.is(hex(signature), expectedSignature, name);
    assert.is(hex(asyncSignature), expectedSignature, name);
    // Outputs are independent of each other and of later calls.
    signature.fill(0);
    assert.is(hex(ed25519.sign(message, seed)), expectedSignature, name);
    assert.ok(nodeAccepts(ed25519.sign(message, seed), message, nodePublicKeyBytes(seed)), name);
  }
});

test("verifyEnvelopeBytes and fromJSON: byte input from any carrier; the verdict's arrays are fresh", () => {
  const seed = seedOf(10);
  const signer = Keypair.fromSeed(seed);
  const text = PeerHandshakeEnvelope.sign(X, LOCAL, "nonce", NOW, signer).toJSONText();
  const utf8 = new TextEncoder().encode(text);
  for (const { name, value } of carriers(utf8)) {
    const verdict = verifyEnvelopeBytes(value);
    const envelope = PeerHandshakeEnvelope.fromJSON(value);
    assert.ok(verdict.ok, name);
    if (!verdict.ok) continue;
    const { declaredPublicKey, signature, canonicalChallenge } = verdict.envelope;
    for (const out of [declaredPublicKey, signature, canonicalChallenge]) assert.is.not(out.buffer, value.buffer, name);
    scribble(value);
    assert.is(hex(declaredPublicKey), hex(nodePublicKeyBytes(seed)), name);
    assert.is(envelope.declaredPublicKey.toHex(), hex(nodePublicKeyBytes(seed)), name);
    assert.is(new TextDecoder().decode(canonicalChallenge), new TextDecoder().decode(envelope.challenge.canonicalBytes()), name);
    declaredPublicKey.fill(0);
    signature.fill(0);
    canonicalChallenge.fill(0);
    envelope.verifySignature();
    const again = verifyEnvelopeBytes(utf8);
    assert.ok(again.ok && hex(again.envelope.declaredPublicKey) === hex(nodePublicKeyBytes(seed)), name);
  }
});

test("canonicalizeJson and bytesToHex: any carrier in, fresh output, views read only their own range", () => {
  const json = new TextEncoder().encode('{"b":[1,2,{"d":4,"c":3}],"a":"x"}');
  const expected = canonicalize(JSON.parse(new TextDecoder().decode(json)))!;
  for (const { name, value } of carriers(json)) {
    const out = canonicalizeJson(value);
    assert.is.not(out.buffer, value.buffer, name);
    const hexOfView = bytesToHex(value);
    assert.is(hexOfView, hex(json), `${name}: only the view's bytes`);
    scribble(value);
    assert.is(new TextDecoder().decode(out), expected, name);
    out.fill(0);
    assert.is(new TextDecoder().decode(canonicalizeJson(json)), expected, name);
  }
});

test("acceptEnvelope reads byte input within the call: a buffer the caller overwrites before the accept settles changes nothing", async () => {
  // The accept is asynchronous (it waits on its stores); a transport reusing its read buffer
  // right after the call must not change, or break, what is verified and pinned.
  const kpB = Keypair.fromSeed(new Uint8Array(32).fill(0x42));
  const exchange = new KernelTrustExchange("kernel-a", Keypair.fromSeed(new Uint8Array(32).fill(0x41))).withTrustedPeer("kernel-b", kpB.publicKey);
  const text = PeerHandshakeEnvelope.sign("kernel-b", "kernel-a", "buffered", 1_800_000_000, kpB).toJSONText();
  const bytes = new TextEncoder().encode(text);
  const accepted = exchange.acceptEnvelope(bytes, "kernel-b", 1_800_000_000);
  bytes.fill(0x20); // the transport reads its next request into the same buffer
  const peer = await accepted;
  assert.ok(peer.publicKey.equals(kpB.publicKey));
  assert.is(peer.establishedAt, 1_800_000_000);
  // The same bytes once more are a replay: the nonce read was the original one.
  const replay = await exchange.acceptEnvelope(new TextEncoder().encode(text), "kernel-b", 1_800_000_001).then(() => undefined, (error: { code?: string }) => error);
  assert.is(replay?.code, "REPLAYED_NONCE");
});

test.run();
