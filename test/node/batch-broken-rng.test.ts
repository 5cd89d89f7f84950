// Batch verification with a broken random source (README "Batch verification", step 4): the
// core hashes each item's 16 random bytes with a digest of every candidate of the call into its
// coefficient, so a crypto.getRandomValues that leaves zeros or writes a constant (a careless
// test shim or polyfill) still gives every item its own nonzero coefficient, and one that
// depends on every item (review-35: coefficients hashed from each item alone would let a forger
// build lists of items whose errors cancel, Wagner's k-list attack). Forgeries that a shared or zero
// coefficient would let through (tampered items, and pairs whose errors cancel: D_1 = B,
// D_2 = -B) must get the single answers, checked against node:crypto.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { randomBytes } from "node:crypto";
import { ed25519 } from "../../src/ed25519.js";
import { InvalidTypeError } from "../../src/errors.js";
import { verifyEnvelopeBatch, verifyEnvelopeBytes } from "../../src/handshake/verify-envelope.js";
import { KernelTrustExchange, Keypair } from "../../src/handshake/index.js";
import { L, fromLE, le, nodeAccepts, nodePrivateKey, nodeSign } from "../helpers/ed25519-oracles.js";
import { coreExports, initSync, resetInstance } from "../../src/wasm/instance.js";
import { CHIO_WASM_BASE64 } from "../../src/generated/chio-wasm.js";
import { testModule } from "../helpers/test-core.js";
import { withRandomSource } from "../helpers/random-source.js";
import { batchCoefficientsHex, type CoefficientHooks } from "../helpers/sparse-coefficients.js";

interface Item {
  signature: Uint8Array;
  message: Uint8Array;
  publicKey: Uint8Array;
}

const shims: [string, (a: Uint8Array) => Uint8Array][] = [
  ["leaves zeros", (a) => a],
  ["writes a constant", (a) => a.fill(7)],
  ["repeats one 16-byte block", (a) => { for (let i = 0; i < a.length; i++) a[i] = i & 15; return a; }],
];

/** S + delta (mod nothing: the caller keeps it below L), as 32 little-endian bytes. */
function shiftS(signature: Uint8Array, delta: bigint): Uint8Array {
  const out = signature.slice();
  out.set(le(fromLE(signature.subarray(32)) + delta), 32);
  return out;
}

function signedItems(count: number): Item[] {
  const seed = randomBytes(32);
  const privateKey = nodePrivateKey(seed);
  const publicKey = ed25519.getPublicKey(seed);
  return Array.from({ length: count }, () => {
    const message = new Uint8Array(randomBytes(32));
    return { signature: nodeSign(privateKey, message), message, publicKey };
  });
}

test("with a broken random source, batches with forged items still give every single answer", () => {
  for (const [name, shim] of shims) {
    for (let round = 0; round < 4; round++) {
      const items = signedItems(24);
      // Tampered S (D = [1]B), then a cancelling pair under one key: item 5 has D = [1]B and
      // item 6 has D = -[1]B, so equal coefficients would make the pair's sum O.
      const small = (s: Uint8Array) => fromLE(s.subarray(32)) < L - 2n && fromLE(s.subarray(32)) > 2n;
      for (const k of [2, 5, 6, 11]) if (!small(items[k].signature)) items[k] = signedItems(1)[0];
      items[2] = { ...items[2], signature: shiftS(items[2].signature, 1n) };
      items[5] = { ...items[5], signature: shiftS(items[5].signature, 1n) };
      items[6] = { ...items[6], publicKey: items[5].publicKey, signature: shiftS(items[6].signature, -1n) };
      items[11] = { ...items[11], message: new Uint8Array(items[11].message.length) }; // another message
      const expected = items.map((it) => nodeAccepts(it.signature, it.message, it.publicKey));
      assert.equal(expected.filter((ok) => !ok).length, 4, "four forged items");
      for (const zip215 of [false, true]) {
        const got = withRandomSource(shim, () => ed25519.verifyBatch(items, { zip215 }));
        assert.equal(got, expected, `${name}, zip215 ${zip215}`);
      }
    }
  }
});

test("with a broken random source, verifyEnvelopeBatch still equals verifyEnvelopeBytes on forged envelopes", () => {
  const encoder = new TextEncoder();
  const envelopes = Array.from({ length: 12 }, (_, i) => {
    const text = JSON.stringify(new KernelTrustExchange(`kernel-${i}`, Keypair.fromSeed(new Uint8Array(randomBytes(32)))).localEnvelope("kernel-local", `nonce-${i}`, 1764000000));
    if (i % 4 !== 1) return encoder.encode(text);
    // Forge: flip a bit of S's lowest byte in the hex signature (S stays below L).
    const envelope = JSON.parse(text);
    const sig = Buffer.from(envelope.signature, "hex");
    sig[32] ^= 1;
    envelope.signature = sig.toString("hex");
    return encoder.encode(JSON.stringify(envelope));
  });
  const expected = envelopes.map((e) => verifyEnvelopeBytes(e));
  assert.equal(expected.filter((v) => !v.ok).length, 3);
  for (const [name, shim] of shims) {
    assert.equal(withRandomSource(shim, () => verifyEnvelopeBatch(envelopes)), expected, name);
  }
});

test("a random source that detaches an item's bytes mid-batch: a typed error, never a TypeError from the copy or a verdict on stale bytes", () => {
  const items = signedItems(300); // two chunks: the second draws its random bytes after the first ran
  for (const field of ["message", "signature", "publicKey"] as const) {
    const victim = { ...items[280], [field]: items[280][field].slice() };
    const batch = [...items.slice(0, 280), victim, ...items.slice(281)];
    const original = globalThis.crypto.getRandomValues.bind(globalThis.crypto);
    let error: unknown;
    try {
      withRandomSource((a) => {
        const bytes = victim[field];
        if (bytes.byteLength > 0) structuredClone(bytes.buffer, { transfer: [bytes.buffer] }); // detaches it
        return original(a);
      }, () => ed25519.verifyBatch(batch));
    } catch (e) {
      error = e;
    }
    assert.instance(error, InvalidTypeError, field);
    assert.is((error as InvalidTypeError).code, "INVALID_TYPE");
    assert.match((error as Error).message, `items[280].${field}`);
  }
});

/**
 * Runs fn on the test build of the core (the release build again after), with a reader of the
 * last wasm call's first `count` coefficients z_i mod L, in hex.
 */
function withCoefficients(fn: (coefficients: (count: number) => string[]) => void): void {
  resetInstance();
  initSync(testModule());
  try {
    const hooks = coreExports() as unknown as CoefficientHooks;
    fn((count) => batchCoefficientsHex(hooks, count));
  } finally {
    resetInstance();
    initSync(new WebAssembly.Module(Buffer.from(CHIO_WASM_BASE64, "base64")));
  }
}

test("with a broken random source, each coefficient depends on every item of the call, and no two are equal", () => {
  withCoefficients((coefficients) => {
    const items = signedItems(8);
    const replaced = [...items];
    replaced[5] = signedItems(1)[0];
    // Only item 5's message changed: the same R, S and key, another k (k binds R, A and M).
    const otherMessage = [...items];
    otherMessage[5] = { ...items[5], message: new Uint8Array([...items[5].message, 1]) };
    for (const [name, shim] of shims) {
      for (const zip215 of [false, true]) {
        assert.equal(withRandomSource(shim, () => ed25519.verifyBatch(items, { zip215 })), items.map(() => true));
        const first = coefficients(items.length);
        assert.is(new Set(first).size, items.length, `${name}: distinct coefficients`);
        assert.ok(first.every((z) => z !== "00".repeat(32)), `${name}: nonzero`);
        withRandomSource(shim, () => ed25519.verifyBatch(items, { zip215 }));
        assert.equal(coefficients(items.length), first, `${name}: the same call, the same coefficients (deterministic shim)`);
        withRandomSource(shim, () => ed25519.verifyBatch(replaced, { zip215 }));
        const second = coefficients(items.length);
        for (const i of [0, 1, 2, 3, 4, 6, 7]) assert.is.not(second[i], first[i], `${name}: item ${i}'s coefficient changes with item 5`);
        withRandomSource(shim, () => ed25519.verifyBatch(otherMessage, { zip215 }));
        const third = coefficients(items.length);
        for (const i of [0, 1, 2, 3, 4, 6, 7]) assert.is.not(third[i], first[i], `${name}: item ${i}'s coefficient changes with item 5's message alone`);
      }
    }
    // A working source: fresh coefficients for the very same items, every one of them (a JS side
    // that drew random bytes for item 0 alone would leave the others' coefficients the same on
    // each call: functions of the public inputs). The exact ρ_i of each item are checked in
    // batch-sparse-coefficients.test.ts.
    ed25519.verifyBatch(items);
    const a = coefficients(items.length);
    ed25519.verifyBatch(items);
    const b = coefficients(items.length);
    for (let i = 0; i < items.length; i++) assert.is.not(b[i], a[i], `working source: item ${i}'s coefficient is fresh`);
  });
});

test("with a working source, verifyEnvelopeBatch gives every envelope a fresh coefficient on each call", () => {
  // The envelope batch draws its own random bytes (src/handshake/verify-envelope.ts), 16 per
  // envelope: a draw for the first envelope alone would leave the others' coefficients the same
  // on every call over the same envelopes.
  withCoefficients((coefficients) => {
    const encoder = new TextEncoder();
    const envelopes = Array.from({ length: 12 }, (_, i) =>
      encoder.encode(JSON.stringify(new KernelTrustExchange(`kernel-${i}`, Keypair.fromSeed(new Uint8Array(randomBytes(32)))).localEnvelope("kernel-local", `nonce-${i}`, 1764000000))),
    );
    assert.ok(verifyEnvelopeBatch(envelopes).every((v) => v.ok));
    const a = coefficients(envelopes.length);
    assert.ok(verifyEnvelopeBatch(envelopes).every((v) => v.ok));
    const b = coefficients(envelopes.length);
    for (let i = 0; i < envelopes.length; i++) assert.is.not(b[i], a[i], `envelope ${i}'s coefficient is fresh`);
  });
});

test.run();
