// The handshake's wire types: gaps a mutation audit of src/handshake/challenge.ts, envelope.ts,
// keys.ts, time.ts and errors.ts found no test for. Equality of challenges, envelopes, keys and
// signatures on the one field or byte that differs; which byte form (RFC 8785 or DEL/C1-escaped)
// a verified envelope's challenge reports and reuses when DEL/C1 sits only in the nonce or only in
// one kernel id; u64::MAX as a bigint on the object path; one representation (a number) for
// bigint timestamps up to 2^53−1; frozen error facts.
// Oracles: node:crypto (Ed25519 from the seed), @noble/curves (point decoding), the npm
// `canonicalize` package (RFC 8785) and test/helpers/envelope-builders.ts (the legacy bytes,
// written out by hand).
import { test } from "uvu";
import * as assert from "uvu/assert";
import canonicalize from "canonicalize";
import { ed25519 as noble } from "@noble/curves/ed25519.js";
import {
  FEDERATION_HANDSHAKE_SCHEMA,
  HandshakeChallenge,
  Keypair,
  PeerHandshakeEnvelope,
  PeerHandshakeError,
  PublicKey,
  Signature,
} from "../../src/handshake/index.js";
import { expectCode } from "../helpers/assert-codes.js";
import { nodePublicKeyBytes, nodeSign } from "../helpers/ed25519-oracles.js";
import { canonicalChallenge, type ChallengeFields } from "../helpers/envelope-builders.js";

const SEED = new Uint8Array(32).fill(0x5a);
const KEY_HEX = Buffer.from(nodePublicKeyBytes(SEED)).toString("hex");
const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString("hex");
const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
const U64_MAX = 18446744073709551615n;

const fields = (over: Partial<ChallengeFields> = {}): ChallengeFields => ({
  schema: FEDERATION_HANDSHAKE_SCHEMA,
  localKernelId: "kernel.org-a",
  remoteKernelId: "kernel.org-b",
  nonce: "nonce-1",
  timestamp: 1_800_000_000,
  ...over,
});

/** An envelope object signed by node:crypto over the RFC 8785 bytes, or the DEL/C1-escaped ones an older kernel signs. */
function signedObject(challenge: ChallengeFields, { escapeDelAndC1 = false } = {}) {
  return {
    challenge,
    declaredPublicKey: KEY_HEX,
    signature: hex(nodeSign(SEED, canonicalChallenge(challenge, { escapeDelAndC1 }))),
  };
}

// A mutation audit found that HandshakeChallenge.equals ignoring the timestamp, and
// PeerHandshakeEnvelope.equals ignoring the signature, went unnoticed.
test("HandshakeChallenge.equals and PeerHandshakeEnvelope.equals tell apart values that differ in one field", () => {
  const base = new HandshakeChallenge(fields());
  assert.ok(base.equals(new HandshakeChallenge(fields())));
  // The same timestamp as a number or as a bigint is one value.
  assert.ok(base.equals(new HandshakeChallenge(fields({ timestamp: 1_800_000_000n }))));
  const others: Partial<ChallengeFields>[] = [
    { schema: FEDERATION_HANDSHAKE_SCHEMA + "x" },
    { localKernelId: "kernel.org-b", remoteKernelId: "kernel.org-a" },
    { localKernelId: "kernel.org-c" },
    { remoteKernelId: "kernel.org-c" },
    { nonce: "nonce-2" },
    { timestamp: 1_800_000_001 },
    { timestamp: U64_MAX },
  ];
  for (const over of others) {
    const other = new HandshakeChallenge(fields(over));
    assert.not.ok(base.equals(other), JSON.stringify(over, (_k, v) => (typeof v === "bigint" ? `${v}n` : v)));
    assert.not.ok(other.equals(base));
  }
  const big = new HandshakeChallenge(fields({ timestamp: U64_MAX }));
  assert.not.ok(big.equals(new HandshakeChallenge(fields({ timestamp: U64_MAX - 1n }))));

  const envelope = PeerHandshakeEnvelope.fromJSON(JSON.stringify(signedObject(fields())));
  assert.ok(envelope.equals(PeerHandshakeEnvelope.fromJSON(signedObject(fields()))));
  // The same challenge and key with a signature that differs in its last bit.
  const bytes = envelope.signature.toBytes();
  bytes[63] ^= 0x01;
  const tampered = new PeerHandshakeEnvelope(envelope.challenge, envelope.declaredPublicKey, Signature.fromBytes(bytes));
  assert.not.ok(envelope.equals(tampered));
  assert.not.ok(tampered.equals(envelope));
  // ...or in the timestamp only.
  const later = PeerHandshakeEnvelope.fromJSON(signedObject(fields({ timestamp: 1_800_000_001 })));
  assert.not.ok(envelope.equals(new PeerHandshakeEnvelope(later.challenge, envelope.declaredPublicKey, envelope.signature)));
});

// A mutation audit found that PublicKey.equals and Signature.equals comparing all but the last
// bytes went unnoticed: two anchors differing only in the x sign bit (byte 31) compared equal.
test("PublicKey.equals and Signature.equals compare every byte, the last one included", () => {
  const key = PublicKey.fromHex(KEY_HEX);
  const flipped = nodePublicKeyBytes(SEED);
  flipped[31] ^= 0x80; // the sign of x: the negated point, which still decodes
  noble.Point.fromHex(hex(flipped)); // oracle: a valid encoding (throws otherwise)
  const negated = PublicKey.fromBytes(flipped);
  assert.is(negated.toHex(), hex(flipped));
  assert.is.not(negated.toHex(), key.toHex());
  assert.not.ok(key.equals(negated));
  assert.not.ok(negated.equals(key));
  assert.ok(key.equals(PublicKey.fromBytes(nodePublicKeyBytes(SEED))));
  assert.ok(key.equals(Keypair.fromSeed(SEED).publicKey));

  const signature = nodeSign(SEED, new Uint8Array([1, 2, 3]));
  for (const at of [0, 31, 32, 63]) {
    const other = signature.slice();
    other[at] ^= 0x01;
    assert.not.ok(Signature.fromBytes(signature).equals(Signature.fromBytes(other)), `byte ${at}`);
  }
  assert.ok(Signature.fromBytes(signature).equals(Signature.fromHex(hex(signature))));
});

// A mutation audit found that a DEL/C1 character only in the nonce (or only in one kernel id) was
// not covered: the legacy verdict and bytes were then taken for the RFC 8785 ones, so
// canonicalBytes() returned the escaped bytes and verifySignature() without the switch passed
// (fail-open) for an envelope only an older kernel's bytes verify.
test("DEL/C1 in one string only: a verified envelope reports and reuses the byte form it was verified in, never the other", () => {
  const cases: [string, Partial<ChallengeFields>][] = [
    ["nonce", { nonce: "n\u007f" }],
    ["nonce (C1)", { nonce: "n-\u009f" }],
    ["localKernelId", { localKernelId: "kernel.org-a\u0085" }],
    ["remoteKernelId", { remoteKernelId: "kernel.org-b\u0080" }],
  ];
  for (const [where, over] of cases) {
    const challenge = fields(over);
    const rfcBytes = new TextEncoder().encode(canonicalize(challenge)!);
    const legacyBytes = canonicalChallenge(challenge, { escapeDelAndC1: true });
    assert.is.not(text(legacyBytes), text(rfcBytes), where); // the two forms differ here

    // Signed by an older kernel (escaped bytes): verifies only with the switch, on text and objects.
    const legacy = signedObject(challenge, { escapeDelAndC1: true });
    expectCode(() => PeerHandshakeEnvelope.fromJSON(JSON.stringify(legacy)), "INVALID_SIGNATURE");
    const fromText = PeerHandshakeEnvelope.fromJSON(JSON.stringify(legacy), { escapeDelAndC1: true });
    const fromObject = PeerHandshakeEnvelope.fromJSON(legacy);
    fromObject.verifySignature({ escapeDelAndC1: true });
    for (const envelope of [fromText, fromObject]) {
      assert.is(text(envelope.challenge.canonicalBytes()), text(rfcBytes), where);
      assert.is(text(envelope.challenge.canonicalBytes({ escapeDelAndC1: true })), text(legacyBytes), where);
      expectCode(() => envelope.verifySignature(), "INVALID_SIGNATURE");
      envelope.verifySignature({ escapeDelAndC1: true });
    }

    // Signed by a current kernel (RFC 8785 bytes): the verdict is not reused for the legacy form.
    const current = signedObject(challenge);
    const verified = PeerHandshakeEnvelope.fromJSON(JSON.stringify(current));
    assert.is(text(verified.challenge.canonicalBytes()), text(rfcBytes), where);
    expectCode(() => verified.verifySignature({ escapeDelAndC1: true }), "INVALID_SIGNATURE");
    verified.verifySignature();
    expectCode(() => PeerHandshakeEnvelope.fromJSON(JSON.stringify(current), { escapeDelAndC1: true }), "INVALID_SIGNATURE");
  }
});

// A mutation audit found that the object path refusing u64::MAX given as a bigint (an exact
// wire value) went unnoticed; one above it must stay MALFORMED_ENVELOPE.
test("object path: a bigint timestamp of exactly u64::MAX is read exactly and verifies; u64::MAX + 1 and −1 are MALFORMED_ENVELOPE", () => {
  const challenge = fields({ timestamp: U64_MAX });
  const object = signedObject(challenge);
  const envelope = PeerHandshakeEnvelope.fromJSON(object);
  assert.is(envelope.challenge.timestamp, U64_MAX);
  envelope.verifySignature();
  assert.is(text(envelope.challenge.canonicalBytes()), text(canonicalChallenge(challenge)));
  assert.ok(envelope.toJSONText().includes(`"timestamp":18446744073709551615}`));
  // The text path agrees.
  assert.ok(PeerHandshakeEnvelope.fromJSON(envelope.toJSONText()).equals(envelope));
  for (const bad of [U64_MAX + 1n, -1n]) {
    const error = expectCode(() => PeerHandshakeEnvelope.fromJSON({ ...object, challenge: { ...challenge, timestamp: bad } }), "MALFORMED_ENVELOPE");
    assert.ok(error.message.includes("timestamp"), error.message);
  }
});

// A mutation audit found that a bigint timestamp of exactly 2^53−1 kept as a bigint went
// unnoticed: every timestamp up to 2^53−1 is a number (one representation), so toJSON stays
// JSON.stringify-able and matches what the text path decodes.
test("bigint timestamps up to 2^53−1 become numbers on every way in; 2^53 stays a bigint", () => {
  const maxSafe = BigInt(Number.MAX_SAFE_INTEGER);
  const keypair = Keypair.fromSeed(SEED);
  for (const ts of [0n, 1_800_000_000n, maxSafe]) {
    const made = [
      HandshakeChallenge.create("kernel.org-a", "kernel.org-b", "n", ts),
      new HandshakeChallenge(fields({ timestamp: ts })),
      PeerHandshakeEnvelope.fromJSON(signedObject(fields({ timestamp: ts }))).challenge,
      PeerHandshakeEnvelope.sign("kernel.org-a", "kernel.org-b", "n", ts, keypair).challenge,
    ];
    for (const challenge of made) {
      assert.is(typeof challenge.timestamp, "number", `${ts}`);
      assert.is(challenge.timestamp, Number(ts));
    }
    const envelope = PeerHandshakeEnvelope.sign("kernel.org-a", "kernel.org-b", "n", ts, keypair);
    assert.is(JSON.stringify(envelope), envelope.toJSONText());
    const decoded = PeerHandshakeEnvelope.fromJSON(envelope.toJSONText());
    assert.is(decoded.challenge.timestamp, envelope.challenge.timestamp);
  }
  const past = HandshakeChallenge.create("kernel.org-a", "kernel.org-b", "n", maxSafe + 1n);
  assert.is(past.timestamp, maxSafe + 1n);
});

// A mutation audit found that PeerHandshakeError's facts left mutable went unnoticed: code that
// is handed the error (an event handler, a logger) could rewrite what later readers see.
test("PeerHandshakeError.fields are frozen on every code this layer raises", () => {
  const errors = [
    expectCode(() => PeerHandshakeEnvelope.fromJSON(JSON.stringify(signedObject(fields({ schema: "other.v1" })))), "UNSUPPORTED_SCHEMA"),
    expectCode(() => PeerHandshakeEnvelope.fromJSON("{}"), "MALFORMED_ENVELOPE"),
    expectCode(() => PeerHandshakeEnvelope.fromJSON({ challenge: fields(), declaredPublicKey: KEY_HEX }), "MALFORMED_ENVELOPE"),
  ];
  for (const error of errors) {
    assert.instance(error, PeerHandshakeError);
    assert.ok(Object.isFrozen(error.fields), error.code);
    const before = JSON.stringify(error.fields);
    assert.throws(() => {
      (error.fields as Record<string, unknown>).reason = "rewritten";
    }, TypeError);
    assert.is(JSON.stringify(error.fields), before);
  }
  assert.is((errors[0].fields as { schema: string }).schema, "other.v1");
});

test.run();
