// Byte arguments that look like bytes but are not readable ones: views of detached ArrayBuffers
// (transferred away), views left out of bounds by a shrunk resizable ArrayBuffer, a Proxy of a
// Uint8Array (it passes `instanceof` but every %TypedArray% method and getter throws a plain
// TypeError on it), and a DataView dressed as a Uint8Array. Each must produce the documented
// typed error or verdict, never a raw TypeError, and a detached message must never be signed or
// verified as the empty message. Also: the object path of acceptEnvelope is looser than the text
// path (defect 10), documented and shown here.
import { test } from "uvu";
import * as assert from "uvu/assert";
import {
  bytesToHex,
  canonicalizeJson,
  ed25519,
  InvalidTypeError,
  isSmallOrderPublicKey,
  isValidPublicKey,
  KernelTrustExchange,
  Keypair,
  PeerHandshakeEnvelope,
  PeerHandshakeError,
  PublicKey,
  Signature,
  verifyEnvelopeBytes,
} from "../../src/index.js";
import { expectCode, rejectsWith } from "../helpers/assert-codes.js";
import { nodeAccepts } from "../helpers/ed25519-oracles.js";
import { NOW, A, B } from "../helpers/kernels.js";

const utf8 = new TextEncoder();

/** Detaches `buffer` the way Node 20 can (ArrayBuffer.prototype.transfer arrived in Node 21). */
function detach(buffer: ArrayBuffer): void {
  const transfer = (buffer as { transfer?: () => ArrayBuffer }).transfer;
  if (typeof transfer === "function") transfer.call(buffer);
  else structuredClone(buffer, { transfer: [buffer] });
  assert.is(buffer.byteLength, 0, "detached");
}

/**
 * Views holding `bytes` that can no longer be read. Each reports length 0, which is why a plain
 * length check would take a detached message for the empty one.
 */
function unreadableViews(bytes: Uint8Array): { name: string; value: Uint8Array }[] {
  const detachedBuffer = new ArrayBuffer(bytes.length + 8);
  const detached = new Uint8Array(detachedBuffer, 4, bytes.length);
  detached.set(bytes);
  detach(detachedBuffer);
  const detachedWhole = new Uint8Array(bytes);
  detach(detachedWhole.buffer);
  const Resizable = ArrayBuffer as unknown as new (length: number, options: { maxByteLength: number }) => ArrayBuffer & { resize(n: number): void };
  const resizable = new Resizable(bytes.length + 8, { maxByteLength: 4096 });
  const fixed = new Uint8Array(resizable, 8, bytes.length); // fixed length, out of bounds once shrunk
  const tracking = new Uint8Array(resizable, 8); // length-tracking, out of bounds once shrunk below its offset
  fixed.set(bytes);
  resizable.resize(4);
  const views = [
    { name: "view of a detached ArrayBuffer", value: detached },
    { name: "whole detached Uint8Array", value: detachedWhole },
    { name: "fixed view of a shrunk resizable ArrayBuffer", value: fixed },
    { name: "length-tracking view past the end of a shrunk resizable ArrayBuffer", value: tracking },
  ];
  for (const { name, value } of views) assert.is(value.length, 0, `${name} reads as empty`);
  return views;
}

/** Look-alikes that are not Uint8Arrays at all. */
function impostors(length: number): { name: string; value: Uint8Array }[] {
  const proxy = new Proxy(new Uint8Array(length), {});
  assert.ok(proxy instanceof Uint8Array, "a Proxy passes instanceof");
  const dressedDataView = Object.setPrototypeOf(new DataView(new ArrayBuffer(length)), Uint8Array.prototype) as Uint8Array;
  assert.ok(dressedDataView instanceof Uint8Array);
  return [
    { name: "Proxy of a Uint8Array", value: proxy },
    { name: "DataView with Uint8Array.prototype", value: dressedDataView },
  ];
}

/** `fn` must throw InvalidTypeError with code INVALID_TYPE (a TypeError subclass, never a bare one). */
function throwsInvalidType(fn: () => unknown, what: string): void {
  try {
    fn();
  } catch (error) {
    assert.ok(error instanceof InvalidTypeError, `${what}: expected InvalidTypeError, got ${String(error)}`);
    assert.is((error as InvalidTypeError).code, "INVALID_TYPE", what);
    return;
  }
  assert.unreachable(`${what}: did not throw`);
}

async function rejectsInvalidType(promise: Promise<unknown>, what: string): Promise<void> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof InvalidTypeError, `${what}: expected InvalidTypeError, got ${String(error)}`);
    return;
  }
  assert.unreachable(`${what}: did not reject`);
}

const seed = Uint8Array.from({ length: 32 }, (_, i) => i * 3 + 1);
const keypair = Keypair.fromSeed(seed);
const publicBytes = keypair.publicKey.toBytes();
const message = utf8.encode("the message");
const signatureBytes = ed25519.sign(message, seed);

/** Every Ed25519 entry point, with `bad` in argument position `slot` and valid values elsewhere. */
function ed25519Calls(bad: Uint8Array): { name: string; call: () => unknown }[] {
  return [
    { name: "getPublicKey(secretKey)", call: () => ed25519.getPublicKey(bad) },
    { name: "sign(message)", call: () => ed25519.sign(bad, seed) },
    { name: "sign(secretKey)", call: () => ed25519.sign(message, bad) },
    { name: "verify(signature)", call: () => ed25519.verify(bad, message, publicBytes) },
    { name: "verify(message)", call: () => ed25519.verify(signatureBytes, bad, publicBytes) },
    { name: "verify(publicKey)", call: () => ed25519.verify(signatureBytes, message, bad) },
    { name: "isValidPublicKey", call: () => isValidPublicKey(bad) },
    { name: "isSmallOrderPublicKey", call: () => isSmallOrderPublicKey(bad) },
    { name: "PublicKey.fromBytes", call: () => PublicKey.fromBytes(bad) },
    { name: "Signature.fromBytes", call: () => Signature.fromBytes(bad) },
    { name: "Keypair.fromSeed", call: () => Keypair.fromSeed(bad) },
    { name: "Keypair#sign", call: () => keypair.sign(bad) },
    { name: "PublicKey#verify", call: () => keypair.publicKey.verify(bad, Signature.fromBytes(signatureBytes)) },
    { name: "bytesToHex", call: () => bytesToHex(bad) },
  ];
}

test("ed25519.*, PublicKey/Signature/Keypair and bytesToHex: Proxies and dressed DataViews are InvalidTypeError", async () => {
  for (const { name, value } of [...impostors(32), ...impostors(64)]) {
    for (const { name: call, call: fn } of ed25519Calls(value)) throwsInvalidType(fn, `${call} with a ${name}`);
    await rejectsInvalidType(ed25519.getPublicKeyAsync(value), `getPublicKeyAsync with a ${name}`);
    await rejectsInvalidType(ed25519.signAsync(value, seed), `signAsync with a ${name}`);
    await rejectsInvalidType(ed25519.verifyAsync(signatureBytes, value, publicBytes), `verifyAsync with a ${name}`);
  }
  // A PublicKey#verify signature argument that is not a Signature is a typed error too.
  for (const notSignature of [signatureBytes, null, {}, "00"]) {
    throwsInvalidType(() => keypair.publicKey.verify(message, notSignature as never), `PublicKey#verify(${String(notSignature)})`);
  }
  assert.ok(ed25519.verify(signatureBytes, message, publicBytes), "still works");
});

test("ed25519.*, PublicKey/Signature/Keypair and bytesToHex: detached and out-of-bounds views are InvalidTypeError", async () => {
  for (const source of [seed, signatureBytes, message]) {
    for (const { name, value } of unreadableViews(source)) {
      for (const { name: call, call: fn } of ed25519Calls(value)) throwsInvalidType(fn, `${call} with a ${name}`);
      await rejectsInvalidType(ed25519.signAsync(value, seed), `signAsync with a ${name}`);
      await rejectsInvalidType(ed25519.verifyAsync(signatureBytes, value, publicBytes), `verifyAsync with a ${name}`);
    }
  }
  // The empty message itself is fine, signed and verified as node:crypto does.
  const empty = ed25519.sign(new Uint8Array(0), seed);
  assert.ok(nodeAccepts(empty, new Uint8Array(0), publicBytes));
  assert.ok(ed25519.verify(empty, Buffer.alloc(0), publicBytes));
  assert.is(bytesToHex(new Uint8Array(0)), "");
});

test("a detached message is never signed or verified as the empty message", () => {
  const emptySignature = ed25519.sign(new Uint8Array(0), seed);
  for (const { name, value } of unreadableViews(message)) {
    throwsInvalidType(() => ed25519.sign(value, seed), `sign(${name})`);
    throwsInvalidType(() => ed25519.verify(emptySignature, value, publicBytes), `verify(${name}) with a signature of the empty message`);
    throwsInvalidType(() => keypair.publicKey.verify(value, Signature.fromBytes(emptySignature)), `PublicKey#verify(${name})`);
  }
});

test("still-readable resizable views are read at their current length", () => {
  const Resizable = ArrayBuffer as unknown as new (length: number, options: { maxByteLength: number }) => ArrayBuffer & { resize(n: number): void };
  const buffer = new Resizable(message.length + 10, { maxByteLength: 1024 });
  const tracking = new Uint8Array(buffer, 2);
  tracking.set(message);
  buffer.resize(message.length + 2); // shrinks, but the view stays in bounds
  assert.is(tracking.length, message.length);
  assert.is(bytesToHex(ed25519.sign(tracking, seed)), bytesToHex(signatureBytes));
  assert.ok(ed25519.verify(signatureBytes, tracking, publicBytes));
  buffer.resize(2); // in bounds with zero length: the empty message, legitimately
  assert.is(bytesToHex(ed25519.sign(tracking, seed)), bytesToHex(ed25519.sign(new Uint8Array(0), seed)));
});

test("verifyEnvelopeBytes and canonicalizeJson: unreadable views are misuse (InvalidTypeError), as documented", () => {
  const envelopeText = utf8.encode(PeerHandshakeEnvelope.sign(B, A, "n", NOW, keypair).toJSONText());
  for (const { name, value } of unreadableViews(envelopeText)) {
    throwsInvalidType(() => verifyEnvelopeBytes(value), `verifyEnvelopeBytes(${name})`);
    throwsInvalidType(() => canonicalizeJson(value), `canonicalizeJson(${name})`);
  }
  // The empty (readable) input is a bad envelope, reported as a verdict, and bad JSON for canonicalizeJson.
  const verdict = verifyEnvelopeBytes(new Uint8Array(0));
  assert.is(verdict.ok ? "ok" : verdict.code, "MALFORMED_ENVELOPE");
  assert.throws(() => canonicalizeJson(new Uint8Array(0)), (e: unknown) => (e as { code?: string }).code === "INVALID_JSON");
  assert.ok(verifyEnvelopeBytes(envelopeText).ok, "still works");
});

test("PeerHandshakeEnvelope.fromJSON and acceptEnvelope: unreadable views are MALFORMED_ENVELOPE; nothing is pinned", async () => {
  const envelopeText = utf8.encode(PeerHandshakeEnvelope.sign(B, A, "n", NOW, keypair).toJSONText());
  const exchange = new KernelTrustExchange(A, Keypair.generate()).withTrustedPeer(B, keypair.publicKey);
  for (const { name, value } of unreadableViews(envelopeText)) {
    const error = expectCode(() => PeerHandshakeEnvelope.fromJSON(value), "MALFORMED_ENVELOPE");
    assert.match(error.message, /detached or out-of-bounds/, name);
    await rejectsWith(exchange.acceptEnvelope(value, B, NOW), "MALFORMED_ENVELOPE");
  }
  assert.equal(await exchange.peers(), []);
  await exchange.acceptEnvelope(envelopeText, B, NOW);
  assert.is((await exchange.peers()).length, 1, "still works");
});

// ---------------------------------------------------------------------------------------------
// Defect 10: the object path (acceptEnvelope(JSON.parse(text))) cannot see what serde refuses in
// the text (a duplicate member, a `1.8e9` timestamp), because JSON.parse has already folded it
// away. It cannot forge anything: the signature is checked over canonical bytes rebuilt from the
// values, exactly as on the text path. Pass bytes or text to get serde's rules.

function signedParts(nonce: string) {
  const envelope = PeerHandshakeEnvelope.sign(B, A, nonce, NOW, keypair);
  return { key: envelope.declaredPublicKey.toHex(), sig: envelope.signature.toHex(), schema: envelope.challenge.schema };
}

const envelopeText = (schema: string, challengeMembers: string, key: string, sig: string): string =>
  `{"challenge":{"schema":${JSON.stringify(schema)},"localKernelId":"${B}","remoteKernelId":"${A}",${challengeMembers}},` +
  `"declaredPublicKey":"${key}","signature":"${sig}"}`;

test("defect 10: text refuses `1.8e9` and duplicate members (serde); the parsed object is accepted with the same signature check", async () => {
  const { key, sig, schema } = signedParts("n");
  const exponent = envelopeText(schema, `"nonce":"n","timestamp":1.8e9`, key, sig);
  const duplicate = envelopeText(schema, `"nonce":"other","nonce":"n","timestamp":${NOW}`, key, sig);
  assert.is(JSON.parse(exponent).challenge.timestamp, NOW);
  for (const [text, reason] of [
    [exponent, /timestamp/],
    [duplicate, /duplicate field/],
  ] as const) {
    const verdict = verifyEnvelopeBytes(text);
    assert.ok(!verdict.ok && verdict.code === "MALFORMED_ENVELOPE" && reason.test(verdict.message), verdict.ok ? "ok" : verdict.message);
    expectCode(() => PeerHandshakeEnvelope.fromJSON(text), "MALFORMED_ENVELOPE");
    const exchange = new KernelTrustExchange(A, Keypair.generate()).withTrustedPeer(B, keypair.publicKey);
    await rejectsWith(exchange.acceptEnvelope(text, B, NOW), "MALFORMED_ENVELOPE");
    await rejectsWith(exchange.acceptEnvelope(utf8.encode(text), B, NOW), "MALFORMED_ENVELOPE");
    // The object path sees only JSON.parse's result (the last duplicate, the number 1.8e9 === 1800000000)...
    const parsed = JSON.parse(text);
    PeerHandshakeEnvelope.fromJSON(parsed).verifySignature();
    const peer = await exchange.acceptEnvelope(parsed, B, NOW);
    assert.is(peer.publicKey.toHex(), key);
  }
});

test("defect 10: the object path cannot forge: a duplicate member that JSON.parse keeps must still carry the signature", async () => {
  const { key, sig, schema } = signedParts("signed-nonce");
  // The signed value first, a different one last: JSON.parse keeps the last, which was never signed.
  const text = envelopeText(schema, `"nonce":"signed-nonce","nonce":"forged-nonce","timestamp":${NOW}`, key, sig);
  const exchange = new KernelTrustExchange(A, Keypair.generate()).withTrustedPeer(B, keypair.publicKey);
  await rejectsWith(exchange.acceptEnvelope(text, B, NOW), "MALFORMED_ENVELOPE");
  const parsed = JSON.parse(text);
  assert.is(parsed.challenge.nonce, "forged-nonce");
  await rejectsWith(exchange.acceptEnvelope(parsed, B, NOW), "INVALID_SIGNATURE");
  assert.throws(() => PeerHandshakeEnvelope.fromJSON(parsed).verifySignature(), (e: unknown) => e instanceof PeerHandshakeError && e.code === "INVALID_SIGNATURE");
  // A timestamp written as 1.8e9 over a signature for another time fails the same way.
  const { key: k2, sig: s2 } = signedParts("n");
  const shifted = JSON.parse(envelopeText(schema, `"nonce":"n","timestamp":1.8000001e9`, k2, s2));
  await rejectsWith(exchange.acceptEnvelope(shifted, B, NOW), "INVALID_SIGNATURE");
  assert.equal(await exchange.peers(), []);
});

test.run();
