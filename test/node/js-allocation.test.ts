// The single-call paths of the JavaScript glue allocate nothing beyond what the call returns (README "The JS ↔ wasm boundary"):
// verify allocates nothing at all; sign, getPublicKey and canonicalizeJson allocate exactly
// their result, measured against a slice of the same length (the shape they return). Until this
// test, every such call allocated a closure for guarded() (about 100–170 bytes) and every
// `instanceof` of a branded class another (56 bytes), unseen by the wasm-memory test beside it.
//
// Measured as the growth of process.memoryUsage().heapUsed over a round of calls, in bytes per
// call; the median of several rounds, so a round in which a scavenge ran (its growth negative)
// cannot decide the outcome either way. No timing is involved.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { createHash } from "node:crypto";
import { ed25519, readBatchItems } from "../../src/ed25519.js";
import { sha512Digest } from "../../src/sha512.js";
import { canonicalizeJson, Keypair, KernelTrustExchange, PublicKey, Signature, HandshakeChallenge, FederationPeer, PeerHandshakeEnvelope } from "../../src/index.js";

const CALLS_PER_ROUND = 500;
const ROUNDS = 7;

/** Median growth of the JS heap per call of `run`, in bytes, after a warm-up. */
function bytesPerCall(run: () => unknown): number {
  for (let i = 0; i < 4 * CALLS_PER_ROUND; i++) run();
  const rounds: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    const before = process.memoryUsage().heapUsed;
    for (let i = 0; i < CALLS_PER_ROUND; i++) run();
    rounds.push((process.memoryUsage().heapUsed - before) / CALLS_PER_ROUND);
  }
  rounds.sort((a, b) => a - b);
  return rounds[ROUNDS >> 1];
}

const seed = createHash("sha256").update("js allocation seed").digest().subarray(0, 32);
const message = new TextEncoder().encode("m".repeat(169));
const publicKey = ed25519.getPublicKey(seed);
const signature = ed25519.sign(message, seed);
// Prepared keys are made inside each test: uvu loads every file of the run before running any,
// and other files' tests rebuild the wasm instance (which loses a prepared secret key).
const wasmLike = new Uint8Array(4096).fill(7);
/** What a call that hands out `n` fresh bytes (a slice of wasm memory) must allocate. */
const sliceOf = (n: number): number => bytesPerCall(() => wasmLike.slice(100, 100 + n));

test("verify allocates nothing per call: bytes, prepared key, both rules, rejecting", () => {
  const prepared = ed25519.preparePublicKey(publicKey);
  const bad = signature.slice();
  bad[9] ^= 1;
  const zip215 = { zip215: true };
  const cases: [string, () => unknown][] = [
    ["key bytes", () => ed25519.verify(signature, message, publicKey)],
    ["prepared key", () => ed25519.verify(signature, message, prepared)],
    ["zip215", () => ed25519.verify(signature, message, publicKey, zip215)],
    ["rejecting", () => ed25519.verify(bad, message, publicKey)],
  ];
  for (const [name, run] of cases) {
    assert.ok(run() === (name !== "rejecting"), `${name}: the verdict`);
    const bytes = bytesPerCall(run);
    assert.ok(bytes <= 4, `${name}: ${bytes} bytes per verify`);
  }
});

test("sign, getPublicKey, sha512 and canonicalizeJson allocate their result and nothing more", () => {
  const preparedSecret = ed25519.prepareSecretKey(seed);
  const canonical = canonicalizeJson(new TextEncoder().encode('{"b":[1,2.5],"a":"x"}'));
  const text = new TextEncoder().encode('{"b":[1,2.5],"a":"x"}');
  const cases: [string, () => Uint8Array, number][] = [
    ["sign with a seed", () => ed25519.sign(message, seed), 64],
    ["sign with a prepared key", () => ed25519.sign(message, preparedSecret), 64],
    ["getPublicKey", () => ed25519.getPublicKey(seed), 32],
    ["sha512", () => sha512Digest(message), 64],
    ["canonicalizeJson", () => canonicalizeJson(text), canonical.length],
  ];
  for (const [name, run, resultBytes] of cases) {
    assert.is(run().length, resultBytes, `${name}: the result`);
    const bytes = bytesPerCall(run);
    const result = sliceOf(resultBytes);
    assert.ok(result > 0, `${name}: the slice allocates (${result} bytes), so the measure sees allocations`);
    assert.ok(bytes <= result + 4, `${name}: ${bytes} bytes per call against ${result} for its result alone`);
  }
  preparedSecret.destroy();
});

test("instanceof of the branded classes allocates nothing", () => {
  const prepared = ed25519.preparePublicKey(publicKey);
  const exchange = new KernelTrustExchange("kernel-alloc", Keypair.fromSeed(seed));
  const envelope = exchange.localEnvelope("kernel-other", "nonce-alloc", 1_764_000_000);
  const values: [string, unknown, { [Symbol.hasInstance](value: unknown): boolean }][] = [
    ["PreparedPublicKey", prepared, prepared.constructor as never],
    ["PublicKey", PublicKey.fromBytes(publicKey), PublicKey],
    ["Signature", Signature.fromBytes(signature), Signature],
    ["HandshakeChallenge", envelope.challenge, HandshakeChallenge],
    ["PeerHandshakeEnvelope", envelope, PeerHandshakeEnvelope],
    ["FederationPeer", new FederationPeer({ kernelId: "kernel-alloc", publicKey: PublicKey.fromBytes(publicKey), establishedAt: 1, rotationDue: 2 }), FederationPeer],
  ];
  for (const [name, value, cls] of values) {
    assert.ok(value instanceof (cls as never), `${name}: an instance`);
    assert.not.ok({} instanceof (cls as never), `${name}: a plain object is not`);
    const bytes = bytesPerCall(() => value instanceof (cls as never));
    assert.ok(bytes <= 4, `${name}: ${bytes} bytes per instanceof`);
  }
});

test("verifyBatch's item reading allocates its lists and no name per item: bytes and prepared keys", () => {
  // readBatchItems (verifyBatch's and the pool's per-item path) names an item's field only when
  // its check fails. Checked as read by building `items[i].signature` and its siblings for every
  // item, it allocated about 180 more bytes per item (review 165); its four lists take 32.
  const prepared = ed25519.preparePublicKey(publicKey);
  const count = 256;
  for (const [name, key] of [["key bytes", publicKey], ["prepared keys", prepared]] as const) {
    const items = Array.from({ length: count }, () => ({ signature, message, publicKey: key }));
    assert.is(readBatchItems(items).publicKeys.length, count, `${name}: every item read`);
    // bytesPerCall's rounds, of fewer calls: 500 calls of tens of KB would span scavenges.
    for (let i = 0; i < 2000; i++) readBatchItems(items);
    const rounds: number[] = [];
    for (let r = 0; r < 2 * ROUNDS + 1; r++) {
      const before = process.memoryUsage().heapUsed;
      for (let i = 0; i < 10; i++) readBatchItems(items);
      rounds.push((process.memoryUsage().heapUsed - before) / 10);
    }
    rounds.sort((a, b) => a - b);
    const perItem = rounds[ROUNDS] / count;
    assert.ok(perItem <= 64, `${name}: ${perItem} bytes per item read`);
  }
});

test.run();
