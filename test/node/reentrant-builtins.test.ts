// Built-ins replaced after load by versions that call the library again (hunt 19). A batch
// verifier writes its verdicts into wasm memory and then reads them back one by one: caller code
// that ran in between and verified something else overwrote them, so a forged envelope read `ok`.
// Each case replaces one built-in on its prototype for the length of one call (restored in a
// finally, so the other suites of this process never see it), asserts that the replacement did
// not run inside the call, and that the call's answer equals the one computed before the
// replacement (verdicts) or the oracle's (JSON.stringify, for array lengths).
import { test } from "uvu";
import * as assert from "uvu/assert";
import { createPrivateKey, sign as nodeSign } from "node:crypto";
import { verifyEnvelopeBatch, verifyEnvelopeBytes, type EnvelopeVerdict } from "../../src/handshake/verify-envelope.js";
import { Keypair, PeerHandshakeEnvelope } from "../../src/index.js";
import { ed25519 } from "../../src/ed25519.js";
import { canonicalBytes, canonicalize, canonicalizeJson } from "../../src/canonical/index.js";
import { CanonicalJsonError } from "../../src/errors.js";

const TYPED_ARRAY_PROTOTYPE = Object.getPrototypeOf(Uint8Array.prototype) as Record<string, unknown>;
const signer = Keypair.fromSeed(new Uint8Array(32).fill(7));
const valid = PeerHandshakeEnvelope.sign("kernel-b", "kernel-a", "nonce-0001", 1_700_000_000, signer).toJSONText();
// The same length, another addressee: its signature does not hold.
const forged = valid.replace('"remoteKernelId":"kernel-a"', '"remoteKernelId":"kernel-x"');
// UNSUPPORTED_SCHEMA with a schema longer than the 200 units a verdict's message shows (boundedSchema).
const longSchema = valid.replace("chio.federation-kernel-handshake.v1", "x".repeat(300));

const summary = (verdicts: EnvelopeVerdict[]) => verdicts.map((v) => (v.ok ? `ok ${v.envelope.challenge.remoteKernelId}` : v.code));

/**
 * Runs `call` with `owner[name]` replaced by a function that, the first time it runs, calls
 * `reenter` (the library again) and then does what the original does. Returns the call's result
 * and how many times the replacement ran.
 */
function withReentrantMethod<T>(owner: Record<string, unknown>, name: string, reenter: () => void, call: () => T): { result: T; ran: number } {
  const original = owner[name] as (...args: unknown[]) => unknown;
  let ran = 0;
  owner[name] = function (this: unknown, ...args: unknown[]) {
    if (ran++ === 0) reenter();
    return Reflect.apply(original, this, args);
  };
  try {
    return { result: call(), ran };
  } finally {
    owner[name] = original;
  }
}

test("the oracle: the forged envelope is INVALID_SIGNATURE alone and in a batch, the valid one ok", () => {
  assert.is(verifyEnvelopeBytes(forged).ok, false);
  assert.equal(summary(verifyEnvelopeBatch([forged, valid, longSchema])), ["INVALID_SIGNATURE", "ok kernel-a", "UNSUPPORTED_SCHEMA"]);
});

test("%TypedArray%.prototype.fill replaced to verify another envelope: not run inside verifyEnvelopeBatch, verdicts unchanged", () => {
  const expected = summary(verifyEnvelopeBatch([forged]));
  const { result, ran } = withReentrantMethod(TYPED_ARRAY_PROTOTYPE, "fill", () => void verifyEnvelopeBatch([valid]), () => verifyEnvelopeBatch([forged]));
  assert.equal(summary(result), expected);
  assert.is(ran, 0);
});

test("String.prototype.charCodeAt and slice replaced to verify another batch: not run while verdicts are read back", () => {
  const expected = summary(verifyEnvelopeBatch([longSchema, forged]));
  for (const name of ["charCodeAt", "slice"]) {
    const owner = String.prototype as unknown as Record<string, unknown>;
    const { result, ran } = withReentrantMethod(owner, name, () => void verifyEnvelopeBatch([longSchema, valid]), () => verifyEnvelopeBatch([longSchema, forged]));
    assert.equal(summary(result), expected, name);
    assert.is(ran, 0, name);
  }
});

test("%TypedArray%.prototype.subarray replaced to detach an input: not run between the inputs' checks and their copy", () => {
  const bytes = new TextEncoder().encode(valid);
  const { result, ran } = withReentrantMethod(
    TYPED_ARRAY_PROTOTYPE,
    "subarray",
    () => void structuredClone(bytes.buffer, { transfer: [bytes.buffer] }),
    () => verifyEnvelopeBatch([forged, bytes]),
  );
  assert.equal(summary(result), ["INVALID_SIGNATURE", "ok kernel-a"]);
  assert.is(ran, 0);
});

test("ed25519.verifyBatch: fill and subarray replaced to verify other batches do not run inside it, verdicts equal single verify", () => {
  // Keys and signatures from node:crypto (PKCS#8 DER of a seed), flipped bits for the invalid ones.
  const items = Array.from({ length: 6 }, (_, i) => {
    const seed = new Uint8Array(32).fill(i + 1);
    const key = createPrivateKey({ key: Buffer.concat([Buffer.from("302e020100300506032b657004220420", "hex"), seed]), format: "der", type: "pkcs8" });
    const message = new TextEncoder().encode(`message ${i}`);
    const signature = new Uint8Array(nodeSign(null, message, key));
    if (i % 2 === 1) signature[5] ^= 1;
    return { signature, message, publicKey: ed25519.getPublicKey(seed) };
  });
  const expected = items.map((item) => ed25519.verify(item.signature, item.message, item.publicKey));
  assert.equal(expected, [true, false, true, false, true, false]);
  const other = items.map((item) => ({ ...item, message: new Uint8Array(3) }));
  for (const name of ["fill", "subarray"]) {
    const { result, ran } = withReentrantMethod(TYPED_ARRAY_PROTOTYPE, name, () => void ed25519.verifyBatch(other), () => ed25519.verifyBatch(items));
    assert.equal(result, expected, name);
    assert.is(ran, 0, name);
  }
});

test("canonicalizeJson: Map.prototype.get replaced does not run in its error path, the error stays DUPLICATE_KEY", () => {
  const owner = Map.prototype as unknown as Record<string, unknown>;
  const { result, ran } = withReentrantMethod(owner, "get", () => undefined, () => {
    try {
      canonicalizeJson('{"a":1,"a":2}');
      return "no error";
    } catch (error) {
      return `${(error as Error).name} ${(error as { code?: string }).code}`;
    }
  });
  assert.is(result, "CanonicalJsonError DUPLICATE_KEY");
  assert.is(ran, 0);
});

test("an array Proxy whose length is a symbol or a bigint: UNSUPPORTED_TYPE, where JSON.stringify throws TypeError", () => {
  for (const length of [Symbol("n"), 2n]) {
    const array = new Proxy([1, 2], { get: (target, key) => (key === "length" ? length : Reflect.get(target, key)) });
    assert.throws(() => JSON.stringify(array), (error: unknown) => error instanceof TypeError, typeof length);
    for (const write of [canonicalize, canonicalBytes]) {
      assert.throws(() => write(array), (error: unknown) => error instanceof CanonicalJsonError && error.code === "UNSUPPORTED_TYPE", `${write.name} ${typeof length}`);
    }
  }
  // A length that converts (a string, an object whose valueOf answers a number) reads as JSON.stringify reads it.
  const stringLength = new Proxy([1, 2, 3], { get: (target, key) => (key === "length" ? "2.5" : Reflect.get(target, key)) });
  assert.is(canonicalize(stringLength), JSON.stringify(stringLength));
  const boxedLength = new Proxy([1, 2, 3], { get: (target, key) => (key === "length" ? { valueOf: () => 1 } : Reflect.get(target, key)) });
  assert.is(canonicalize(boxedLength), JSON.stringify(boxedLength));
  // An object whose valueOf (caller code) answers a bigint: ToNumber's TypeError, as JSON.stringify
  // throws it (README: what the caller's own code throws propagates); before, Number() read 2n as 2.
  const bigintValueOf = new Proxy([1, 2, 3], { get: (target, key) => (key === "length" ? { valueOf: () => 2n } : Reflect.get(target, key)) });
  assert.throws(() => JSON.stringify(bigintValueOf), (error: unknown) => error instanceof TypeError);
  for (const write of [canonicalize, canonicalBytes]) assert.throws(() => write(bigintValueOf), (error: unknown) => error instanceof TypeError, write.name);
});

test.run();
