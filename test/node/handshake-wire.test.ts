// Wire compatibility with a Rust chio kernel: the derived example envelopes, byte-identical
// serde_json output, JSON escaping, and the MALFORMED_ENVELOPE rules (serde deny_unknown_fields).
// Oracles: test/vectors/chio/derived/handshake-examples.json, node:crypto (Ed25519, SHA-256), the
// npm `canonicalize` package (RFC 8785), and a transcription of serde_json's escape table.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { readFileSync } from "node:fs";
import { createHash } from "node:crypto";
import canonicalize from "canonicalize";
import {
  FederationPeer,
  HandshakeChallenge,
  KernelTrustExchange,
  Keypair,
  PeerHandshakeEnvelope,
  PeerHandshakeError,
  PublicKey,
} from "../../src/handshake/index.js";
import { expectCode, rejectsWith, throwsWith } from "../helpers/assert-codes.js";
import { verifyEnvelopeBytes, verifyEnvelopeFields } from "../../src/handshake/verify-envelope.js";
import { nodeSign } from "../helpers/ed25519-oracles.js";

const examples = JSON.parse(readFileSync(new URL("../vectors/chio/derived/handshake-examples.json", import.meta.url), "utf8")).examples;
const minimal = examples.find((e: { name: string }) => e.name === "minimal_v1_challenge");
const extended = examples.find((e: { name: string }) => e.name === "extended_challenge_t1_silver_ladder");
const SEED_09 = new Uint8Array(32).fill(9);
const utf8 = (text: string) => new TextEncoder().encode(text);

function nodeSignHex(message: Uint8Array, seed: Uint8Array): string {
  return Buffer.from(nodeSign(seed, message)).toString("hex");
}

/** serde_json's compact string form, transcribed from its ser.rs ESCAPE table (lowercase \u00xx). */
function serdeEscape(text: string): string {
  const short: Record<number, string> = { 0x08: "\\b", 0x09: "\\t", 0x0a: "\\n", 0x0c: "\\f", 0x0d: "\\r", 0x22: '\\"', 0x5c: "\\\\" };
  let out = '"';
  for (const ch of text) {
    const cp = ch.codePointAt(0)!;
    if (short[cp] !== undefined) out += short[cp];
    else if (cp < 0x20) out += "\\u00" + "0123456789abcdef"[cp >> 4] + "0123456789abcdef"[cp & 15];
    else out += ch;
  }
  return out + '"';
}

/** The compact serde form of an envelope, built field by field (struct declaration order). */
function serdeEnvelope(c: { schema: string; localKernelId: string; remoteKernelId: string; nonce: string; timestamp: number | bigint }, pk: string, sig: string): string {
  return (
    `{"challenge":{"schema":${serdeEscape(c.schema)},"localKernelId":${serdeEscape(c.localKernelId)},` +
    `"remoteKernelId":${serdeEscape(c.remoteKernelId)},"nonce":${serdeEscape(c.nonce)},"timestamp":${c.timestamp}},` +
    `"declaredPublicKey":"${pk}","signature":"${sig}"}`
  );
}

test("minimal example: text, bytes and object forms verify and re-serialize byte-identically", () => {
  const compact = JSON.stringify(minimal.envelope); // the file keeps serde's field order
  assert.is(compact, serdeEnvelope(minimal.envelope.challenge, minimal.envelope.declaredPublicKey, minimal.envelope.signature));
  for (const input of [compact, utf8(compact), minimal.envelope, JSON.stringify(minimal.envelope, null, 2)]) {
    const envelope = PeerHandshakeEnvelope.fromJSON(input);
    envelope.verifySignature();
    assert.is(JSON.stringify(envelope), compact);
    assert.is(envelope.toJSONText(), compact);
    const canonical = envelope.challenge.canonicalBytes();
    assert.is(new TextDecoder().decode(canonical), minimal.canonicalChallenge);
    assert.is(createHash("sha256").update(canonical).digest("hex"), minimal.canonicalChallengeSha256);
  }
});

test("our envelope for the same inputs (seed 09×32) is byte-identical to the example", () => {
  const c = minimal.envelope.challenge;
  const keypair = Keypair.fromSeed(SEED_09);
  assert.is(keypair.publicKey.toHex(), minimal.envelope.declaredPublicKey);
  const ours = PeerHandshakeEnvelope.sign(c.localKernelId, c.remoteKernelId, c.nonce, c.timestamp, keypair);
  assert.is(JSON.stringify(ours), JSON.stringify(minimal.envelope));
  // Independently: node:crypto over the example's canonical bytes gives the same signature.
  assert.is(nodeSignHex(utf8(minimal.canonicalChallenge), SEED_09), ours.signature.toHex());
  // And the canonical bytes agree with the npm canonicalize package.
  assert.is(new TextDecoder().decode(ours.challenge.canonicalBytes()), canonicalize(c));
  // localEnvelope on an exchange gives the same bytes.
  const exchangeB = new KernelTrustExchange(c.localKernelId, keypair);
  assert.is(exchangeB.localEnvelope(c.remoteKernelId, c.nonce, c.timestamp).toJSONText(), JSON.stringify(minimal.envelope));
});

test("accepting the example yields the expected V0 peer", async () => {
  const by = minimal.acceptedBy;
  const exchange = new KernelTrustExchange(by.localKernelId, Keypair.generate())
    .withConfig(by.config)
    .withTrustedPeer(by.expectedRemoteKernelId, PublicKey.fromHex(by.trustedPeerPublicKey));
  const peer = await exchange.acceptEnvelope(JSON.stringify(minimal.envelope), by.expectedRemoteKernelId, by.now);
  const { kernelId, publicKey, establishedAt, rotationDue } = minimal.expectedPeer;
  const v0 = { kernelId, publicKey, establishedAt, rotationDue }; // V0 has only these four, in this order
  assert.equal(peer.toJSON(), v0);
  assert.is(JSON.stringify(peer), JSON.stringify(v0));
  assert.ok(FederationPeer.fromJSON(JSON.stringify(v0)).equals(peer));
  // The V1+ peer (extra conformanceTier/capabilities) is not a V0 peer: deny_unknown_fields.
  assert.throws(() => FederationPeer.fromJSON(minimal.expectedPeer), /unknown field `conformanceTier`/);
});

test("the extended (V1+) example is MALFORMED_ENVELOPE under V0 rules", () => {
  const error = expectCode(() => PeerHandshakeEnvelope.fromJSON(extended.envelope), "MALFORMED_ENVELOPE");
  assert.match(error.message, /unknown field `capabilities`/);
  expectCode(() => PeerHandshakeEnvelope.fromJSON(JSON.stringify(extended.envelope)), "MALFORMED_ENVELOPE");
});

test("JSON.stringify escapes exactly like serde_json for every BMP scalar value and astral samples", () => {
  let checked = 0;
  for (let cp = 0; cp <= 0xffff; cp++) {
    if (cp >= 0xd800 && cp <= 0xdfff) continue; // not scalar values; our parsers refuse them
    const s = String.fromCharCode(cp);
    if (JSON.stringify(s) !== serdeEscape(s)) assert.unreachable(`U+${cp.toString(16)}: ${JSON.stringify(s)} vs ${serdeEscape(s)}`);
    checked++;
  }
  for (const s of ["\u{1F600}", "\u{10437}", "\u{10FFFF}", "a\u{1F600}\u0000\u007f\u0085\u2028"]) assert.is(JSON.stringify(s), serdeEscape(s));
  assert.is(checked, 0x10000 - 0x800);
  assert.is(JSON.stringify("\u001f"), '"\\u001f"'); // lowercase hex digits, as serde_json's HEX_DIGITS
});

test("envelopes with escapes, DEL/C1, U+2028 and astral characters round-trip byte-identically", () => {
  const seed = new Uint8Array(32).fill(0x5a);
  const pk = Keypair.fromSeed(seed).publicKey.toHex();
  const nonces = ['q"b\\s/', "\u0000\u0001\b\t\n\f\r\u001f", "\u007f\u0080\u009f\u00a0", "\u2028\u2029", "\u{1F600}\u{10437}\uE000", "é中"];
  for (const nonce of nonces) {
    const challenge = { schema: "chio.federation-kernel-handshake.v1", localKernelId: "kernel.b\u0085", remoteKernelId: "kernel.a", nonce, timestamp: 1_800_000_123 };
    const signature = nodeSignHex(utf8(canonicalize(challenge)!), seed);
    const text = serdeEnvelope(challenge, pk, signature);
    const envelope = PeerHandshakeEnvelope.fromJSON(text);
    assert.is(envelope.challenge.nonce, nonce);
    assert.is(envelope.toJSONText(), text);
    assert.is(JSON.stringify(envelope), text);
    // Our own signing gives the same signature (deterministic Ed25519) and text.
    const ours = PeerHandshakeEnvelope.sign(challenge.localKernelId, challenge.remoteKernelId, nonce, challenge.timestamp, Keypair.fromSeed(seed));
    assert.is(ours.toJSONText(), text);
  }
});

test("u64 timestamps above 2^53−1 stay exact (bigint) through parse, canonical bytes and toJSONText", () => {
  const seed = new Uint8Array(32).fill(0x11);
  const keypair = Keypair.fromSeed(seed);
  for (const timestamp of [2n ** 53n, 2n ** 53n + 1n, 2n ** 64n - 1n]) {
    const base = { schema: "chio.federation-kernel-handshake.v1", localKernelId: "b", remoteKernelId: "a", nonce: "n", timestamp: 0 };
    const canonical = canonicalize(base)!.replace('"timestamp":0}', `"timestamp":${timestamp}}`);
    const text = serdeEnvelope({ ...base, timestamp }, keypair.publicKey.toHex(), nodeSignHex(utf8(canonical), seed));
    const envelope = PeerHandshakeEnvelope.fromJSON(text);
    assert.is(envelope.challenge.timestamp, timestamp);
    assert.is(new TextDecoder().decode(envelope.challenge.canonicalBytes()), canonical);
    assert.is(envelope.toJSONText(), text);
    assert.throws(() => JSON.stringify(envelope), TypeError); // never silently rounded
    assert.is(PeerHandshakeEnvelope.sign("b", "a", "n", timestamp, keypair).toJSONText(), text);
  }
  // A bigint that fits a safe integer is normalised to a number.
  assert.is(HandshakeChallenge.create("b", "a", "n", 5n).timestamp, 5);
  // Outside u64 (chio's type), nothing is signed: one past 2^64−1, and −1, are INVALID_TIME on
  // every constructor, as serde would refuse the text such a challenge writes.
  const fields = { schema: "chio.federation-kernel-handshake.v1", localKernelId: "b", remoteKernelId: "a", nonce: "n" };
  for (const timestamp of [2n ** 64n, -1n]) {
    throwsWith(() => HandshakeChallenge.create("b", "a", "n", timestamp), "INVALID_TIME");
    throwsWith(() => new HandshakeChallenge({ ...fields, timestamp }), "INVALID_TIME");
    throwsWith(() => PeerHandshakeEnvelope.sign("b", "a", "n", timestamp, keypair), "INVALID_TIME");
  }
});

test("field order and whitespace on the wire are free; output is always serde order", () => {
  const e = minimal.envelope;
  const shuffled = `{ "signature" : "${e.signature}",\n "challenge": {"timestamp": ${e.challenge.timestamp}, "nonce": "${e.challenge.nonce}", "schema": "${e.challenge.schema}", "remoteKernelId": "${e.challenge.remoteKernelId}", "localKernelId": "${e.challenge.localKernelId}"}, "declaredPublicKey": "${e.declaredPublicKey}" }`;
  assert.is(PeerHandshakeEnvelope.fromJSON(shuffled).toJSONText(), JSON.stringify(e));
  assert.is(PeerHandshakeEnvelope.fromJSON(JSON.parse(shuffled)).toJSONText(), JSON.stringify(e));
});

test("0x prefix and uppercase hex are accepted (chio from_hex) and re-serialize as bare lowercase", () => {
  const e = minimal.envelope;
  const variant = { ...e, declaredPublicKey: "0x" + e.declaredPublicKey.toUpperCase(), signature: e.signature.toUpperCase() };
  for (const input of [variant, JSON.stringify(variant)]) {
    const envelope = PeerHandshakeEnvelope.fromJSON(input);
    envelope.verifySignature();
    assert.is(envelope.toJSONText(), JSON.stringify(e));
  }
});

// MALFORMED_ENVELOPE: what serde would refuse, as text and as an object.
function malformedBoth(mutate: (envelope: any) => void, label: string) {
  const copy = JSON.parse(JSON.stringify(minimal.envelope));
  mutate(copy);
  expectCode(() => PeerHandshakeEnvelope.fromJSON(copy), "MALFORMED_ENVELOPE");
  expectCode(() => PeerHandshakeEnvelope.fromJSON(JSON.stringify(copy)), "MALFORMED_ENVELOPE");
  void label;
}

test("unknown and missing members at each level are MALFORMED_ENVELOPE", () => {
  malformedBoth((e) => (e.extra = 1), "unknown top-level");
  malformedBoth((e) => (e.challenge.extra = "x"), "unknown in challenge");
  for (const key of ["challenge", "declaredPublicKey", "signature"]) malformedBoth((e) => delete e[key], `missing ${key}`);
  for (const key of ["schema", "localKernelId", "remoteKernelId", "nonce", "timestamp"]) malformedBoth((e) => delete e.challenge[key], `missing ${key}`);
});

test("wrong types are MALFORMED_ENVELOPE", () => {
  malformedBoth((e) => (e.challenge.timestamp = String(e.challenge.timestamp)), "timestamp as string");
  malformedBoth((e) => (e.challenge.nonce = 7), "nonce as number");
  malformedBoth((e) => (e.challenge.schema = null), "schema null");
  malformedBoth((e) => (e.challenge.localKernelId = ["x"]), "id as array");
  malformedBoth((e) => (e.challenge = [e.challenge]), "challenge as array");
  malformedBoth((e) => (e.declaredPublicKey = 1), "key as number");
  malformedBoth((e) => (e.signature = null), "signature null");
  malformedBoth((e) => (e.challenge.timestamp = -1), "negative timestamp");
  malformedBoth((e) => (e.challenge.timestamp = 1.5), "fractional timestamp");
  for (const input of [null, [], 42, "null", "[]", "", "{", utf8("{}")]) {
    expectCode(() => PeerHandshakeEnvelope.fromJSON(input as object), "MALFORMED_ENVELOPE");
  }
  // serde_json reads `-0` as the float -0.0, which is not a u64; JSON.parse keeps it as -0.
  const negativeZero = JSON.stringify(minimal.envelope).replace(/"timestamp":\d+/, '"timestamp":-0');
  expectCode(() => PeerHandshakeEnvelope.fromJSON(negativeZero), "MALFORMED_ENVELOPE");
  expectCode(() => PeerHandshakeEnvelope.fromJSON(JSON.parse(negativeZero)), "MALFORMED_ENVELOPE");
  // A timestamp above u64::MAX, as text (the object form cannot hold it exactly).
  const over = JSON.stringify(minimal.envelope).replace("1800000000", "18446744073709551616");
  expectCode(() => PeerHandshakeEnvelope.fromJSON(over), "MALFORMED_ENVELOPE");
  expectCode(() => PeerHandshakeEnvelope.fromJSON({ ...minimal.envelope, challenge: { ...minimal.envelope.challenge, timestamp: 2 ** 64 } }), "MALFORMED_ENVELOPE");
  expectCode(() => PeerHandshakeEnvelope.fromJSON({ ...minimal.envelope, challenge: { ...minimal.envelope.challenge, timestamp: 2n ** 64n } }), "MALFORMED_ENVELOPE");
});

test("bad hex, wrong hex length and keys that are not curve points are MALFORMED_ENVELOPE", () => {
  malformedBoth((e) => (e.declaredPublicKey = e.declaredPublicKey.slice(0, 62)), "short key");
  malformedBoth((e) => (e.declaredPublicKey = e.declaredPublicKey + "00"), "long key");
  malformedBoth((e) => (e.declaredPublicKey = "zz" + e.declaredPublicKey.slice(2)), "non-hex key");
  malformedBoth((e) => (e.signature = e.signature.slice(0, 127)), "odd signature");
  malformedBoth((e) => (e.signature = "g" + e.signature.slice(1)), "non-hex signature");
  malformedBoth((e) => (e.declaredPublicKey = "0X" + e.declaredPublicKey), "0X prefix");
  // y = 2 is not on the curve (x² = (y²−1)/(d·y²+1) is a non-square): dalek refuses to decompress it.
  malformedBoth((e) => (e.declaredPublicKey = "02" + "00".repeat(31)), "not a point");
});

test("duplicate members, lone surrogates and oversize input are MALFORMED_ENVELOPE", () => {
  const compact = JSON.stringify(minimal.envelope);
  expectCode(() => PeerHandshakeEnvelope.fromJSON(compact.replace('"nonce":', '"nonce":"dup","nonce":')), "MALFORMED_ENVELOPE");
  expectCode(() => PeerHandshakeEnvelope.fromJSON(compact.replace('"nonce-b"', '"\\ud800"')), "MALFORMED_ENVELOPE");
  expectCode(() => PeerHandshakeEnvelope.fromJSON({ ...minimal.envelope, challenge: { ...minimal.envelope.challenge, nonce: "\ud800" } }), "MALFORMED_ENVELOPE");
  const padded = compact.replace('"nonce-b"', `"${"x".repeat(70_000)}"`);
  expectCode(() => PeerHandshakeEnvelope.fromJSON(padded), "MALFORMED_ENVELOPE");
  expectCode(() => PeerHandshakeEnvelope.fromJSON(JSON.parse(padded)), "MALFORMED_ENVELOPE");
  expectCode(() => PeerHandshakeEnvelope.fromJSON(compact, { maxBytes: compact.length - 1 }), "MALFORMED_ENVELOPE");
  PeerHandshakeEnvelope.fromJSON(compact, { maxBytes: compact.length });
});

test("objects must be plain: class instances, accessors and symbol keys are refused", () => {
  class Fake {
    challenge = minimal.envelope.challenge;
    declaredPublicKey = minimal.envelope.declaredPublicKey;
    signature = minimal.envelope.signature;
  }
  expectCode(() => PeerHandshakeEnvelope.fromJSON(new Fake()), "MALFORMED_ENVELOPE");
  const withGetter = { ...minimal.envelope };
  Object.defineProperty(withGetter, "signature", { get: () => minimal.envelope.signature, enumerable: true });
  expectCode(() => PeerHandshakeEnvelope.fromJSON(withGetter), "MALFORMED_ENVELOPE");
  expectCode(() => PeerHandshakeEnvelope.fromJSON({ ...minimal.envelope, [Symbol("x")]: 1 }), "MALFORMED_ENVELOPE");
  // JSON.parse makes "__proto__" an own key: it is an unknown member, not a prototype.
  expectCode(() => PeerHandshakeEnvelope.fromJSON(JSON.parse(JSON.stringify(minimal.envelope).replace("{", '{"__proto__":{},'))), "MALFORMED_ENVELOPE");
  // Object.create(null) is a plain record and is fine.
  const bare = Object.assign(Object.create(null), minimal.envelope);
  PeerHandshakeEnvelope.fromJSON(bare).verifySignature();
});

test("text input is verified as it is parsed: a bad signature never becomes an envelope", () => {
  const tampered = JSON.stringify({ ...minimal.envelope, challenge: { ...minimal.envelope.challenge, nonce: "nonce-c" } });
  expectCode(() => PeerHandshakeEnvelope.fromJSON(tampered), "INVALID_SIGNATURE");
  const otherSchema = JSON.stringify({ ...minimal.envelope, challenge: { ...minimal.envelope.challenge, schema: "chio.federation-kernel-handshake.v2" } });
  const error = expectCode(() => PeerHandshakeEnvelope.fromJSON(otherSchema), "UNSUPPORTED_SCHEMA");
  assert.is(error.message, "unsupported handshake schema: chio.federation-kernel-handshake.v2");
  // The object form parses (shape only) and fails at verifySignature, in the same order.
  expectCode(() => PeerHandshakeEnvelope.fromJSON(JSON.parse(tampered)).verifySignature(), "INVALID_SIGNATURE");
  expectCode(() => PeerHandshakeEnvelope.fromJSON(JSON.parse(otherSchema)).verifySignature(), "UNSUPPORTED_SCHEMA");
});

test("UNSUPPORTED_SCHEMA / WEAK_PUBLIC_KEY from text: the wasm verdict names the schema and key; the input is never parsed twice", async () => {
  const exchange = new KernelTrustExchange("kernel.org-a", Keypair.generate()).withTrustedPeer("kernel.org-b", Keypair.fromSeed(SEED_09).publicKey);
  const withChallenge = (patch: object, declaredPublicKey = minimal.envelope.declaredPublicKey) =>
    JSON.stringify({ ...minimal.envelope, declaredPublicKey, challenge: { ...minimal.envelope.challenge, ...patch } });
  // A schema written with escapes is reported unescaped, as serde hands it to chio's check.
  const escaped = withChallenge({ schema: "SCHEMA" }).replace('"SCHEMA"', '"chio.\\u00e9\\ud83d\\ude00.v9"');
  // The order-2 point (0, −1), written as chio's from_hex accepts it: 0x prefix, upper case.
  const weakKeyWire = "0x" + ("ec" + "ff".repeat(30) + "7f").toUpperCase();
  const weak = withChallenge({}, weakKeyWire);
  const verdicts = [verifyEnvelopeBytes(escaped), verifyEnvelopeBytes(utf8(weak))];
  assert.equal(verdicts.map((v) => (v.ok ? "ok" : [v.code, v.schema, v.declaredPublicKeyHex])), [
    ["UNSUPPORTED_SCHEMA", "chio.\u00e9\ud83d\ude00.v9", undefined],
    ["WEAK_PUBLIC_KEY", undefined, "ec" + "ff".repeat(30) + "7f"],
  ]);
  // With JSON.parse unavailable the handshake errors still name both (no second parse of the input).
  const realParse = JSON.parse;
  JSON.parse = () => {
    throw new Error("JSON.parse must not run on unverified input");
  };
  try {
    for (const input of [escaped, utf8(escaped)]) {
      const error = await rejectsWith(exchange.acceptEnvelope(input, "kernel.org-b", minimal.envelope.challenge.timestamp), "UNSUPPORTED_SCHEMA");
      assert.is(error.message, "unsupported handshake schema: chio.\u00e9\ud83d\ude00.v9");
      assert.is(error.fields.schema, "chio.\u00e9\ud83d\ude00.v9");
    }
    for (const input of [weak, utf8(weak)]) {
      const error = await rejectsWith(exchange.acceptEnvelope(input, "kernel.org-b", minimal.envelope.challenge.timestamp), "WEAK_PUBLIC_KEY");
      assert.is(error.fields.publicKey, "ec" + "ff".repeat(30) + "7f");
      assert.ok(error.message.includes("ec" + "ff".repeat(30) + "7f"), error.message);
    }
  } finally {
    JSON.parse = realParse;
  }
});

test("a long unsupported schema is cut to 200 UTF-16 units (never inside a surrogate pair) in verdicts and messages, on both paths", () => {
  const cases: [string, string][] = [
    ["s".repeat(199) + "\u{1f600}" + "t".repeat(100), "s".repeat(199) + "…"],
    ["\u00e9".repeat(5000), "\u00e9".repeat(200) + "…"],
    ["x".repeat(200), "x".repeat(200)],
    ["\u{1f600}".repeat(300), "\u{1f600}".repeat(100) + "…"],
  ];
  for (const [schema, shown] of cases) {
    const envelope = { ...minimal.envelope, challenge: { ...minimal.envelope.challenge, schema } };
    const verdict = verifyEnvelopeBytes(JSON.stringify(envelope));
    assert.ok(!verdict.ok && verdict.schema === shown, schema.slice(0, 10));
    assert.ok(!verdict.ok && verdict.message.startsWith(`unsupported handshake schema: ${shown} (expected`));
    const fromText = expectCode(() => PeerHandshakeEnvelope.fromJSON(JSON.stringify(envelope)), "UNSUPPORTED_SCHEMA");
    const fromObject = expectCode(() => PeerHandshakeEnvelope.fromJSON(envelope).verifySignature(), "UNSUPPORTED_SCHEMA");
    assert.is(fromText.message, `unsupported handshake schema: ${shown}`);
    assert.is(fromObject.message, fromText.message);
  }
});

// --- older chio kernels: DEL and C1 escaped in the signed bytes ----------------------------------

/** The challenge bytes an older chio kernel signs: RFC 8785 (npm canonicalize), then U+007F–U+009F as \u00xx. */
function legacyCanonical(challenge: object): string {
  return canonicalize(challenge)!.replace(/[\u007f-\u009f]/g, (c) => "\\u00" + c.charCodeAt(0).toString(16));
}

test("escapeDelAndC1 (one name on every layer): envelopes an older kernel signed over DEL/C1-escaped bytes verify only with the switch, on every path", async () => {
  const seed = new Uint8Array(32).fill(0x42);
  const senderKey = Keypair.fromSeed(seed).publicKey;
  const challengeFor = (nonce: string) => ({
    schema: "chio.federation-kernel-handshake.v1",
    localKernelId: "kernel-old\u0085",
    remoteKernelId: "kernel-b",
    nonce,
    timestamp: 1_800_000_000,
  });
  // Signed with node:crypto from the seed (PKCS#8), over the legacy bytes.
  const legacyEnvelope = (nonce: string) => {
    const challenge = challengeFor(nonce);
    assert.ok(legacyCanonical(challenge).includes("\\u007f") && !canonicalize(challenge)!.includes("\\u007f"));
    return { challenge, declaredPublicKey: senderKey.toHex(), signature: nodeSignHex(utf8(legacyCanonical(challenge)), seed) };
  };
  const exchange = (escapeDelAndC1?: boolean) =>
    new KernelTrustExchange("kernel-b", Keypair.generate(), {
      trustedPeers: [["kernel-old\u0085", senderKey]],
      hardening: escapeDelAndC1 === undefined ? {} : { escapeDelAndC1 },
    });
  const inputs = (nonce: string) => {
    const object = legacyEnvelope(nonce);
    // The wire text carries DEL/C1 raw (serde_json) or escaped (any JSON writer); both mean the same string.
    const raw = JSON.stringify(object);
    const escaped = raw.replace(/[\u007f-\u009f]/g, (c) => "\\u00" + c.charCodeAt(0).toString(16).toUpperCase());
    return [raw, escaped, utf8(raw), object, PeerHandshakeEnvelope.fromJSON(object)];
  };
  assert.is(exchange().hardening.escapeDelAndC1, false);
  for (const [i, input] of inputs("n\u007f-\u0080-\u009f-\u00a0").entries()) {
    await rejectsWith(exchange().acceptEnvelope(input, "kernel-old\u0085", 1_800_000_000), "INVALID_SIGNATURE");
    await rejectsWith(exchange(false).acceptEnvelope(input, "kernel-old\u0085", 1_800_000_000), "INVALID_SIGNATURE");
    const peer = await exchange(true).acceptEnvelope(input, "kernel-old\u0085", 1_800_000_000);
    assert.ok(peer.publicKey.equals(senderKey), `input ${i}`);
  }
  // fromJSON / verifySignature take the same switch; a verdict in one form is not reused for the other.
  const [raw] = inputs("n\u007f");
  expectCode(() => PeerHandshakeEnvelope.fromJSON(raw as string), "INVALID_SIGNATURE");
  const verified = PeerHandshakeEnvelope.fromJSON(raw as string, { escapeDelAndC1: true });
  expectCode(() => verified.verifySignature(), "INVALID_SIGNATURE");
  verified.verifySignature({ escapeDelAndC1: true });
  await rejectsWith(exchange().acceptEnvelope(verified, "kernel-old\u0085", 1_800_000_000), "INVALID_SIGNATURE");
  await exchange(true).acceptEnvelope(verified, "kernel-old\u0085", 1_800_000_000);
  // The challenge still reports RFC 8785 bytes by default, and the legacy bytes on request.
  assert.is(new TextDecoder().decode(verified.challenge.canonicalBytes()), canonicalize(challengeFor("n\u007f")));
  assert.is(new TextDecoder().decode(verified.challenge.canonicalBytes({ escapeDelAndC1: true })), legacyCanonical(challengeFor("n\u007f")));
  // Current kernels' envelopes: refused in legacy mode when they hold DEL/C1, accepted when they do not.
  const rfc = (nonce: string) => {
    const challenge = challengeFor(nonce);
    return { challenge, declaredPublicKey: senderKey.toHex(), signature: nodeSignHex(utf8(canonicalize(challenge)!), seed) };
  };
  for (const input of [rfc("n\u0080"), JSON.stringify(rfc("n\u0080"))]) {
    await rejectsWith(exchange(true).acceptEnvelope(input, "kernel-old\u0085", 1_800_000_000), "INVALID_SIGNATURE");
    await exchange().acceptEnvelope(input, "kernel-old\u0085", 1_800_000_000);
  }
  // kernel-old\u0085 itself needs escaping, so use a plain sender for the "no DEL/C1 anywhere" case.
  const plain = JSON.stringify(minimal.envelope);
  for (const input of [plain, minimal.envelope]) {
    const legacy = new KernelTrustExchange("kernel.org-a", Keypair.generate(), {
      trustedPeers: [["kernel.org-b", Keypair.fromSeed(SEED_09).publicKey]],
      hardening: { escapeDelAndC1: true },
    });
    await legacy.acceptEnvelope(input, "kernel.org-b", minimal.envelope.challenge.timestamp);
  }
  for (const bad of ["yes", 1, null]) {
    expectConfig(() => exchange().withHardening({ escapeDelAndC1: bad as boolean }));
    assert.throws(() => verified.verifySignature({ escapeDelAndC1: bad as boolean }), (e: { code?: string }) => e.code === "INVALID_TYPE");
    assert.throws(() => PeerHandshakeEnvelope.fromJSON(raw as string, { escapeDelAndC1: bad as boolean }), (e: { code?: string }) => e.code === "INVALID_TYPE");
    assert.throws(() => verified.challenge.canonicalBytes({ escapeDelAndC1: bad as boolean }), (e: { code?: string }) => e.code === "INVALID_TYPE");
  }
  // The deprecated alias legacyControlEscapes still works everywhere, and must agree when both are given.
  assert.is(exchange().withHardening({ legacyControlEscapes: true }).hardening.escapeDelAndC1, true);
  assert.not.ok("legacyControlEscapes" in exchange().hardening);
  await exchange().withHardening({ legacyControlEscapes: true }).acceptEnvelope(verified, "kernel-old\u0085", 1_800_000_000);
  verified.verifySignature({ legacyControlEscapes: true });
  assert.is(new TextDecoder().decode(verified.challenge.canonicalBytes({ legacyControlEscapes: true })), legacyCanonical(challengeFor("n\u007f")));
  expectConfig(() => exchange().withHardening({ escapeDelAndC1: true, legacyControlEscapes: false }));
  assert.throws(() => verified.verifySignature({ escapeDelAndC1: false, legacyControlEscapes: true }), (e: { code?: string }) => e.code === "INVALID_TYPE");
});

function expectConfig(fn: () => unknown): void {
  assert.throws(fn, (e: { code?: string }) => e.code === "INVALID_CONFIG");
}

test("accept's field-only text path agrees with verifyEnvelopeBytes and fromJSON on every outcome", async () => {
  const compact = JSON.stringify(minimal.envelope);
  const challenge = minimal.envelope.challenge;
  const variants = [
    compact,
    compact.replace('"nonce-b"', '"nonce-c"'), // INVALID_SIGNATURE
    compact.replace(challenge.schema, "chio.other"), // UNSUPPORTED_SCHEMA
    compact.replace(minimal.envelope.declaredPublicKey, "01" + "00".repeat(31)), // WEAK_PUBLIC_KEY
    compact.replace('"nonce":', '"nonce":1,"x":'), // MALFORMED_ENVELOPE
    compact.slice(0, -1),
    compact.replace(String(challenge.timestamp), "18446744073709551615"), // INVALID_SIGNATURE (signed over another time)
  ];
  for (const text of variants) {
    for (const input of [text, utf8(text)]) {
      for (const options of [
        { rejectWeakKeys: true, escapeDelAndC1: false },
        { rejectWeakKeys: false, escapeDelAndC1: true },
      ]) {
        const full = verifyEnvelopeBytes(input, { ...options, maxBytes: 4096 });
        const fields = verifyEnvelopeFields(input, 4096, options.rejectWeakKeys, options.escapeDelAndC1);
        if (full.ok && fields.ok) {
          assert.equal(fields.envelope, { challenge: full.envelope.challenge, declaredPublicKey: full.envelope.declaredPublicKey });
        } else {
          assert.equal(fields, full);
        }
      }
      // The exchange reports exactly what fromJSON reports for the same text.
      const exchange = new KernelTrustExchange(challenge.remoteKernelId, Keypair.generate()).withTrustedPeer(challenge.localKernelId, Keypair.fromSeed(SEED_09).publicKey);
      let parsed: PeerHandshakeEnvelope | Error;
      try {
        parsed = PeerHandshakeEnvelope.fromJSON(input);
      } catch (error) {
        parsed = error as Error;
      }
      const accepted = await exchange.acceptEnvelope(input, challenge.localKernelId, challenge.timestamp).then(
        (peer) => peer,
        (error: Error) => error,
      );
      if (parsed instanceof Error) {
        assert.instance(accepted, Error);
        assert.equal([(accepted as PeerHandshakeError).code, (accepted as Error).message], [(parsed as PeerHandshakeError).code, parsed.message]);
      } else {
        assert.not.instance(accepted, Error, String(accepted));
        assert.ok((accepted as FederationPeer).publicKey.equals(parsed.declaredPublicKey));
      }
    }
  }
});

test.run();
