// verifyEnvelopeBytes (src/handshake/verify-envelope.ts → assembly/handshake/envelope.ts) against
// independent oracles: the derived chio handshake example (test/vectors/chio/derived), envelopes
// signed here with node:crypto over challenge bytes built with JSON.stringify (whose string form
// is RFC 8785's), and @noble/curves for curve points.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { readFileSync } from "node:fs";
import { createHash } from "node:crypto";
import { ed25519 as noble } from "@noble/curves/ed25519.js";
import { verifyEnvelopeBatch, verifyEnvelopeBytes, type EnvelopeVerdict, type VerifiedEnvelope } from "../../src/handshake/verify-envelope.js";
import { canonicalizeJson } from "../../src/canonical/json.js";
import { InvalidTypeError } from "../../src/errors.js";
import * as publicApi from "../../src/index.js";
import { canonicalChallenge, type ChallengeFields } from "../helpers/envelope-builders.js";
import { nodePrivateKey, nodePublicKeyBytes, nodeSign } from "../helpers/ed25519-oracles.js";

const SCHEMA = "chio.federation-kernel-handshake.v1";
const utf8 = new TextEncoder();
const examples = JSON.parse(readFileSync(new URL("../vectors/chio/derived/handshake-examples.json", import.meta.url), "utf8")).examples;
const minimal = examples.find((e: { name: string }) => e.name === "minimal_v1_challenge");
const extended = examples.find((e: { name: string }) => e.name.startsWith("extended_challenge"));

// ---- Signing oracle: node:crypto from a 32-byte seed (PKCS#8 DER prefix + seed) ----

interface Signer {
  publicKeyHex: string;
  sign(message: Uint8Array): string;
}

function signerFromSeed(seed: Uint8Array): Signer {
  const privateKey = nodePrivateKey(seed);
  return {
    publicKeyHex: Buffer.from(nodePublicKeyBytes(seed)).toString("hex"),
    sign: (message) => Buffer.from(nodeSign(privateKey, message)).toString("hex"),
  };
}

const signer = signerFromSeed(new Uint8Array(32).fill(0x42));
const otherSigner = signerFromSeed(new Uint8Array(32).fill(0x07));

type Challenge = ChallengeFields;

/** The signed bytes as chio's Rust writes them, built independently of our canonicalizer (test/helpers/envelope-builders.ts). */
const expectedCanonical = (c: Challenge, escapeDelAndC1 = false): string => new TextDecoder().decode(canonicalChallenge(c, { escapeDelAndC1 }));

/** Envelope JSON text; the timestamp is spliced in as exact digits so bigints survive. */
function envelopeText(c: Challenge, key: string, signature: string): string {
  const challenge = JSON.stringify({ ...c, timestamp: 0 }).replace(/"timestamp":0}$/, `"timestamp":${c.timestamp.toString()}}`);
  return `{"challenge":${challenge},"declaredPublicKey":"${key}","signature":"${signature}"}`;
}

function signedEnvelope(c: Challenge, by: Signer = signer, escapeDelAndC1 = false): string {
  return envelopeText(c, by.publicKeyHex, by.sign(utf8.encode(expectedCanonical(c, escapeDelAndC1))));
}

const baseChallenge: Challenge = { schema: SCHEMA, localKernelId: "kernel.org-b", remoteKernelId: "kernel.org-a", nonce: "nonce-b", timestamp: 1800000000 };

function expectOk(verdict: EnvelopeVerdict, label = ""): VerifiedEnvelope {
  if (!verdict.ok) assert.unreachable(`${label}: expected ok, got ${verdict.code}: ${verdict.message}`);
  return (verdict as { ok: true; envelope: VerifiedEnvelope }).envelope;
}

function expectFailure(verdict: EnvelopeVerdict, code: string, label = ""): { message: string; offset?: number } {
  if (verdict.ok) assert.unreachable(`${label}: expected ${code}, got ok`);
  const failure = verdict as { ok: false; code: string; message: string; offset?: number };
  assert.is(failure.code, code, `${label}: ${failure.message}`);
  assert.type(failure.message, "string");
  return failure;
}

// ---------------------------------------------------------------------------------------------
// Vectors
// ---------------------------------------------------------------------------------------------

test("derived vector minimal_v1_challenge verifies; canonicalChallenge is byte-identical to chio's", () => {
  const envelope = expectOk(verifyEnvelopeBytes(JSON.stringify(minimal.envelope)), "minimal");
  assert.equal(envelope.canonicalChallenge, utf8.encode(minimal.canonicalChallenge));
  assert.is(createHash("sha256").update(envelope.canonicalChallenge).digest("hex"), minimal.canonicalChallengeSha256);
  assert.equal(envelope.challenge, minimal.envelope.challenge);
  assert.is(Buffer.from(envelope.declaredPublicKey).toString("hex"), minimal.envelope.declaredPublicKey);
  assert.is(Buffer.from(envelope.signature).toString("hex"), minimal.envelope.signature);
  // Bytes input, and the generic transcoder agrees on the challenge bytes.
  expectOk(verifyEnvelopeBytes(utf8.encode(JSON.stringify(minimal.envelope))), "minimal bytes");
  assert.equal(canonicalizeJson(JSON.stringify(minimal.envelope.challenge)), envelope.canonicalChallenge);
  assert.is(publicApi.verifyEnvelopeBytes, verifyEnvelopeBytes);
});

test("derived vector extended_challenge_*: extra challenge fields are MALFORMED_ENVELOPE under V0 rules", () => {
  const failure = expectFailure(verifyEnvelopeBytes(JSON.stringify(extended.envelope)), "MALFORMED_ENVELOPE", "extended");
  assert.match(failure.message, /unknown field/);
});

// ---------------------------------------------------------------------------------------------
// Envelopes signed here
// ---------------------------------------------------------------------------------------------

test("self-signed envelopes with escapes, astral characters, DEL/C1 and u64 timestamps verify, fields decoded", () => {
  const challenges: Challenge[] = [
    baseChallenge,
    { ...baseChallenge, nonce: 'quote " backslash \\ newline \n tab \t nul \u0000 unit \u001f slash /' },
    { ...baseChallenge, localKernelId: "kernel.😂.org", remoteKernelId: "\u{10ffff}\ue000\uffff", nonce: "é€\u2028\u2029" },
    { ...baseChallenge, nonce: "del \u007f c1 \u0080 \u009f nbsp \u00a0" },
    { ...baseChallenge, timestamp: 0 },
    { ...baseChallenge, timestamp: 2 ** 53 - 1 },
    { ...baseChallenge, timestamp: 2n ** 53n + 1n },
    { ...baseChallenge, timestamp: 2n ** 64n - 1n },
    { ...baseChallenge, nonce: "", localKernelId: "", remoteKernelId: "" },
    { ...baseChallenge, nonce: "x".repeat(5000) },
  ];
  for (const c of challenges) {
    const text = signedEnvelope(c);
    const envelope = expectOk(verifyEnvelopeBytes(text), JSON.stringify(c.nonce).slice(0, 40));
    assert.is(new TextDecoder().decode(envelope.canonicalChallenge), expectedCanonical(c));
    assert.equal(envelope.challenge, c);
    assert.type(envelope.challenge.timestamp, typeof c.timestamp === "bigint" && c.timestamp > BigInt(Number.MAX_SAFE_INTEGER) ? "bigint" : "number");
    assert.is(Buffer.from(envelope.declaredPublicKey).toString("hex"), signer.publicKeyHex);
  }
});

test("the same challenge with its strings written as \\u escapes on the wire verifies (strings are unescaped first)", () => {
  const c: Challenge = { ...baseChallenge, localKernelId: "kernel.😂", nonce: "n\u007fé" };
  const signature = signer.sign(utf8.encode(expectedCanonical(c)));
  const escape = (s: string) => [...s].map((ch) => [...Array(ch.length).keys()].map((i) => "\\u" + ch.charCodeAt(i).toString(16).padStart(4, "0")).join("")).join("");
  const text = `{"challenge":{"s\\u0063hema":"${escape(c.schema)}","localKernelId":"${escape(c.localKernelId)}","remoteKernelId":"${c.remoteKernelId}","nonce":"${escape(c.nonce)}","timestamp":${c.timestamp}},"declaredPublicKey":"\\u0030x${signer.publicKeyHex}","signature":"${signature}"}`;
  const envelope = expectOk(verifyEnvelopeBytes(text), "escaped");
  assert.equal(envelope.challenge, c);
  assert.is(new TextDecoder().decode(envelope.canonicalChallenge), expectedCanonical(c));
});

test("escapeDelAndC1: DEL/C1 challenges signed by an old kernel verify only with the switch", () => {
  const c: Challenge = { ...baseChallenge, nonce: "old \u007f \u0085 kernel" };
  const oldStyle = signedEnvelope(c, signer, true);
  expectFailure(verifyEnvelopeBytes(oldStyle), "INVALID_SIGNATURE", "RFC mode");
  const envelope = expectOk(verifyEnvelopeBytes(oldStyle, { escapeDelAndC1: true }), "old mode");
  assert.is(new TextDecoder().decode(envelope.canonicalChallenge), expectedCanonical(c, true));
  assert.equal(envelope.challenge, c);
  // And a new-style signature fails in old mode.
  expectFailure(verifyEnvelopeBytes(signedEnvelope(c), { escapeDelAndC1: true }), "INVALID_SIGNATURE", "new sig, old mode");
});

test("member order permutations (all 6 × 120) and whitespace are accepted", () => {
  const signature = signer.sign(utf8.encode(expectedCanonical(baseChallenge)));
  const challengeMembers = Object.entries(baseChallenge).map(([k, v]) => `"${k}" : ${JSON.stringify(v)}`);
  const topMembers = (challenge: string) => [`"challenge":${challenge}`, `"declaredPublicKey":"${signer.publicKeyHex}"`, `"signature":"${signature}"`];
  let count = 0;
  for (const inner of permutations(challengeMembers)) {
    const challenge = "{\n\t" + inner.join(" ,\r\n ") + " }";
    const tops = count % 7 === 0 ? permutations(topMembers(challenge)) : [rotate(topMembers(challenge), count % 3)];
    for (const top of tops) {
      expectOk(verifyEnvelopeBytes(" \n{ " + top.join("\t,\t") + " }\r\n"), `permutation ${count}`);
      count++;
    }
  }
  assert.ok(count >= 120 + 17 * 5);
});

function permutations<T>(items: T[]): T[][] {
  if (items.length <= 1) return [items];
  return items.flatMap((item, i) => permutations([...items.slice(0, i), ...items.slice(i + 1)]).map((rest) => [item, ...rest]));
}
function rotate<T>(items: T[], by: number): T[] {
  return [...items.slice(by), ...items.slice(0, by)];
}

test("declared key and signature hex: 0x prefix and upper case accepted; 0X, odd, non-hex and wrong lengths rejected", () => {
  const signature = signer.sign(utf8.encode(expectedCanonical(baseChallenge)));
  const key = signer.publicKeyHex;
  const ok = [
    [key.toUpperCase(), signature.toUpperCase()],
    ["0x" + key, "0x" + signature],
    ["0x" + key.toUpperCase(), signature],
  ];
  for (const [k, s] of ok) expectOk(verifyEnvelopeBytes(envelopeText(baseChallenge, k, s)), `${k.slice(0, 4)} ${s.slice(0, 4)}`);
  const bad = [
    ["0X" + key, signature, /declaredPublicKey` is not valid hex/],
    [key.slice(1), signature, /not valid hex/],
    [key.slice(0, 62) + "zz", signature, /not valid hex/],
    [key + "00", signature, /must be 32 bytes/],
    [key.slice(0, 62), signature, /must be 32 bytes/],
    ["", signature, /must be 32 bytes/],
    ["0x", signature, /must be 32 bytes/],
    [key, signature.slice(0, 126), /signature` must be 64 bytes/],
    [key, signature + "00", /must be 64 bytes/],
    [key, signature.slice(0, 127) + "g", /signature` is not valid hex/],
    [key, " " + signature.slice(1), /not valid hex/],
    ["p256:" + key, signature, /not valid hex/],
  ] as const;
  for (const [k, s, message] of bad) {
    const failure = expectFailure(verifyEnvelopeBytes(envelopeText(baseChallenge, k, s)), "MALFORMED_ENVELOPE", `${k.slice(0, 6)}/${s.slice(0, 6)}`);
    assert.match(failure.message, message);
  }
});

test("one non-hex character at any position of the key or the signature is BAD_HEX; mixed case decodes to the same bytes", () => {
  const c = { ...baseChallenge, nonce: "hex-positions" };
  const signature = signer.sign(utf8.encode(expectedCanonical(c)));
  const good = expectOk(verifyEnvelopeBytes(envelopeText(c, signer.publicKeyHex, signature)));
  const bad = ["g", "G", "x", " ", "/", ":", "@", "`", "\u00e9", "~"];
  for (const [field, hexText] of [["declaredPublicKey", signer.publicKeyHex], ["signature", signature]] as const) {
    for (let i = 0; i < hexText.length; i++) {
      const swapped = hexText.slice(0, i) + bad[i % bad.length] + hexText.slice(i + 1);
      const text = field === "signature" ? envelopeText(c, signer.publicKeyHex, swapped) : envelopeText(c, swapped, signature);
      const verdict = verifyEnvelopeBytes(text);
      assert.is(verdict.ok, false, `${field} position ${i}`);
      if (!verdict.ok) {
        assert.is(verdict.problem, "BAD_HEX", `${field} position ${i}`);
        assert.is(verdict.field, field);
      }
    }
    // A 2-byte UTF-8 character for two hex digits keeps the byte length: bytes >= 0x80 in the table.
    for (let i = 0; i + 2 <= hexText.length; i += 7) {
      const swapped = hexText.slice(0, i) + "\u00e9" + hexText.slice(i + 2);
      const text = field === "signature" ? envelopeText(c, signer.publicKeyHex, swapped) : envelopeText(c, swapped, signature);
      const verdict = verifyEnvelopeBytes(text); // é raw in the JSON text: 2 UTF-8 bytes for 2 hex digits
      assert.is(!verdict.ok && verdict.problem, "BAD_HEX", `${field}: é at ${i}`);
    }
    // Each position in either case: the same decoded bytes.
    const mixed = [...hexText].map((ch, i) => (i % 3 === 0 ? ch.toUpperCase() : ch)).join("");
    const text = field === "signature" ? envelopeText(c, signer.publicKeyHex, mixed) : envelopeText(c, mixed, signature);
    const ok = expectOk(verifyEnvelopeBytes(text));
    assert.equal(ok.declaredPublicKey, good.declaredPublicKey);
    assert.equal(ok.signature, good.signature);
  }
});

test("a declared key that is not a curve point is MALFORMED_ENVELOPE (dalek from_bytes fails at parse time)", () => {
  const notAPoint = "02" + "00".repeat(31);
  assert.throws(() => noble.Point.fromHex(notAPoint), undefined, "oracle: y = 2 has no x");
  const failure = expectFailure(verifyEnvelopeBytes(envelopeText(baseChallenge, notAPoint, "00".repeat(64))), "MALFORMED_ENVELOPE");
  assert.match(failure.message, /curve point/);
  // The parse failure wins over a bad schema, as in serde-then-verify order.
  expectFailure(verifyEnvelopeBytes(envelopeText({ ...baseChallenge, schema: "x" }, notAPoint, "00".repeat(64))), "MALFORMED_ENVELOPE");
});

// ---------------------------------------------------------------------------------------------
// Failure codes and their order
// ---------------------------------------------------------------------------------------------

test("UNSUPPORTED_SCHEMA before the signature is looked at; message carries the schema", () => {
  const c = { ...baseChallenge, schema: "chio.federation-kernel-handshake.v2" };
  const failure = expectFailure(verifyEnvelopeBytes(signedEnvelope(c)), "UNSUPPORTED_SCHEMA");
  assert.match(failure.message, /unsupported handshake schema: chio\.federation-kernel-handshake\.v2/);
  expectFailure(verifyEnvelopeBytes(envelopeText(c, signer.publicKeyHex, "00".repeat(64))), "UNSUPPORTED_SCHEMA");
  // Escaped spelling of the right schema is the right schema.
  const escaped = signedEnvelope(baseChallenge).replace('"chio.federation', '"\\u0063hio.federation');
  expectOk(verifyEnvelopeBytes(escaped), "escaped schema");
  expectFailure(verifyEnvelopeBytes(signedEnvelope({ ...baseChallenge, schema: SCHEMA + " " })), "UNSUPPORTED_SCHEMA");
  expectFailure(verifyEnvelopeBytes(signedEnvelope({ ...baseChallenge, schema: "" })), "UNSUPPORTED_SCHEMA");
});

test("WEAK_PUBLIC_KEY: small-order declared keys (by default), after the schema check; the identity-key forgery", () => {
  // The identity key with R = [s]B, S = s verifies for ANY message under the cofactorless rule
  // (node:crypto/OpenSSL and dalek accept it), which is why small-order keys are rejected by default.
  const s = 0x1234567890abcdefn;
  const forgery = Buffer.from(noble.Point.BASE.multiply(s).toBytes()).toString("hex") + s.toString(16).padStart(64, "0").match(/../g)!.reverse().join("");
  const identity = "01" + "00".repeat(31);
  const text = envelopeText(baseChallenge, identity, forgery);
  expectFailure(verifyEnvelopeBytes(text), "WEAK_PUBLIC_KEY");
  // With the check off, the forgery goes through exactly as it would in chio's Rust: the switch matters.
  expectOk(verifyEnvelopeBytes(text, { rejectWeakKeys: false }), "identity forgery accepted without the weak-key check");
  // Every small-order encoding that decodes is flagged.
  for (const point of smallOrderEncodings()) {
    expectFailure(verifyEnvelopeBytes(envelopeText(baseChallenge, point, forgery)), "WEAK_PUBLIC_KEY", point);
  }
  // Schema is checked first.
  expectFailure(verifyEnvelopeBytes(envelopeText({ ...baseChallenge, schema: "x" }, identity, forgery)), "UNSUPPORTED_SCHEMA");
});

function smallOrderEncodings(): string[] {
  const out: string[] = [];
  // The 8 torsion points, from the order-8 generator (noble exports the subgroup).
  const torsion = ["0100000000000000000000000000000000000000000000000000000000000000", "0000000000000000000000000000000000000000000000000000000000000000", "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f"];
  for (const hex of torsion) {
    const point = noble.Point.fromHex(hex);
    assert.ok(point.isSmallOrder(), `oracle: ${hex} has small order`);
    out.push(hex);
  }
  const gen = noble.Point.fromHex("c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa");
  assert.ok(gen.isSmallOrder() && !gen.is0());
  for (let k = 1n; k < 8n; k++) out.push(gen.multiply(k).toHex());
  return out;
}

test("INVALID_SIGNATURE: tampered nonce, timestamp, ids, key, signature bits", () => {
  const text = signedEnvelope(baseChallenge);
  expectOk(verifyEnvelopeBytes(text));
  const tampered = [
    text.replace('"nonce-b"', '"nonce-c"'),
    text.replace("1800000000", "1800000001"),
    text.replace('"kernel.org-a"', '"kernel.org-x"'),
    text.replace('"kernel.org-b"', '"kernel.org-B"'),
    text.replace(signer.publicKeyHex, otherSigner.publicKeyHex),
  ];
  for (const t of tampered) expectFailure(verifyEnvelopeBytes(t), "INVALID_SIGNATURE", t.slice(0, 80));
  const signature = /"signature":"([0-9a-f]{128})"/.exec(text)![1];
  for (const position of [0, 31, 32, 63, 100, 127]) {
    const flipped = signature.slice(0, position) + ((parseInt(signature[position], 16) ^ 1).toString(16)) + signature.slice(position + 1);
    const verdict = verifyEnvelopeBytes(text.replace(signature, flipped));
    assert.not.ok(verdict.ok, `bit flip at hex ${position}`);
  }
  // S ≥ L (S + L): malleability is rejected.
  const L = 2n ** 252n + 27742317777372353535851937790883648493n;
  const sBytes = Buffer.from(signature.slice(64), "hex").reverse();
  const sPlusL = BigInt("0x" + sBytes.toString("hex")) + L;
  const malleated = signature.slice(0, 64) + Buffer.from(sPlusL.toString(16).padStart(64, "0"), "hex").reverse().toString("hex");
  expectFailure(verifyEnvelopeBytes(text.replace(signature, malleated)), "INVALID_SIGNATURE", "S + L");
  // A signature over the RAW challenge text (not the canonical bytes) does not verify.
  const raw = JSON.stringify(baseChallenge);
  expectFailure(verifyEnvelopeBytes(envelopeText(baseChallenge, signer.publicKeyHex, signer.sign(utf8.encode(raw)))), "INVALID_SIGNATURE");
});

test("zip215 option: a mixed-order declared key verifies only under ZIP-215 (cofactored), not by default", () => {
  // A' = aB + T with T of order 8; S = r + k·a. Then [S]B − [k]A' = R − [k]T: equal to R only
  // if 8 | k (cofactorless rule), while [8]([S]B − [k]A' − R) = 0 always (cofactored rule).
  const L = 2n ** 252n + 27742317777372353535851937790883648493n;
  const torsion = noble.Point.fromHex("c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa");
  const a = 0x0123456789abcdef0123456789abcdefn;
  const mixedKey = noble.Point.BASE.multiply(a).add(torsion);
  assert.not.ok(mixedKey.isSmallOrder());
  const keyHex = mixedKey.toHex();
  const message = utf8.encode(expectedCanonical(baseChallenge));
  const le = (n: bigint) => Buffer.from(n.toString(16).padStart(64, "0"), "hex").reverse();
  for (let r = 1000n; ; r++) {
    const R = noble.Point.BASE.multiply(r).toBytes();
    const digest = createHash("sha512").update(R).update(Buffer.from(keyHex, "hex")).update(message).digest();
    const k = BigInt("0x" + Buffer.from(digest).reverse().toString("hex")) % L;
    if (k % 8n === 0n) continue;
    const S = (r + k * a) % L;
    const text = envelopeText(baseChallenge, keyHex, Buffer.from(R).toString("hex") + le(S).toString("hex"));
    expectFailure(verifyEnvelopeBytes(text), "INVALID_SIGNATURE", "cofactorless");
    expectOk(verifyEnvelopeBytes(text, { zip215: true }), "cofactored");
    break;
  }
  expectOk(verifyEnvelopeBytes(signedEnvelope(baseChallenge), { zip215: true }), "honest under zip215");
});

test("MALFORMED_ENVELOPE: unknown members at each level, duplicates, missing members", () => {
  const text = signedEnvelope(baseChallenge);
  const cases: [string, RegExp][] = [
    [text.replace('{"challenge"', '{"extra":1,"challenge"'), /unknown field in the envelope/],
    [text.replace(/}$/, ',"extra":null}'), /unknown field in the envelope/],
    [text.replace('"nonce":', '"extra":"x","nonce":'), /unknown field in the challenge/],
    [text.replace('"timestamp":1800000000', '"timestamp":1800000000,"conformanceTier":"bronze"'), /unknown field in the challenge/],
    [text.replace('"nonce":', '"Nonce":"x","nonce":'), /unknown field/], // names are case-sensitive
    [text.replace('"nonce":', '"nonce_":"x","nonce":'), /unknown field/],
    [text.replace('"nonce":"nonce-b"', '"nonce":"nonce-b","nonce":"nonce-b"'), /duplicate field challenge `nonce`/],
    [text.replace('"nonce":"nonce-b"', '"nonce":"nonce-b","n\\u006fnce":"nonce-b"'), /duplicate field/],
    [text.replace(/}$/, `,"signature":"${"0".repeat(128)}"}`), /duplicate field `signature`/],
    [text.replace('"nonce":"nonce-b",', ""), /missing field challenge `nonce`/],
    [text.replace(',"timestamp":1800000000', ""), /missing field challenge `timestamp`/],
    [text.replace(/,"signature":"[0-9a-f]+"/, ""), /missing field `signature`/],
    [`{"declaredPublicKey":"${signer.publicKeyHex}","signature":"${"0".repeat(128)}"}`, /missing field `challenge`/],
    ["{}", /missing field `challenge`/],
    ['{"challenge":{}}', /missing field challenge `schema`/],
  ];
  for (const [input, message] of cases) {
    const failure = expectFailure(verifyEnvelopeBytes(input), "MALFORMED_ENVELOPE", input.slice(0, 60));
    assert.match(failure.message, message, `${failure.message} for ${input.slice(0, 80)}`);
  }
});

test("MALFORMED_ENVELOPE: wrong types (number as string, string as number, null, arrays, objects)", () => {
  const c = { ...baseChallenge } as Record<string, unknown>;
  const withChallenge = (patch: Record<string, unknown>) =>
    JSON.stringify({ challenge: { ...c, ...patch }, declaredPublicKey: signer.publicKeyHex, signature: "0".repeat(128) });
  const cases = [
    withChallenge({ timestamp: "1800000000" }),
    withChallenge({ timestamp: null }),
    withChallenge({ timestamp: [1800000000] }),
    withChallenge({ timestamp: true }),
    withChallenge({ nonce: 5 }),
    withChallenge({ nonce: null }),
    withChallenge({ nonce: ["n"] }),
    withChallenge({ nonce: { n: 1 } }),
    withChallenge({ schema: false }),
    withChallenge({ localKernelId: 1.5 }),
    JSON.stringify({ challenge: null, declaredPublicKey: signer.publicKeyHex, signature: "0".repeat(128) }),
    JSON.stringify({ challenge: [SCHEMA, "a", "b", "n", 1], declaredPublicKey: signer.publicKeyHex, signature: "0".repeat(128) }),
    JSON.stringify({ challenge: "{}", declaredPublicKey: signer.publicKeyHex, signature: "0".repeat(128) }),
    JSON.stringify({ challenge: c, declaredPublicKey: 5, signature: "0".repeat(128) }),
    JSON.stringify({ challenge: c, declaredPublicKey: [signer.publicKeyHex], signature: "0".repeat(128) }),
    JSON.stringify({ challenge: c, declaredPublicKey: signer.publicKeyHex, signature: null }),
    "null", "[]", '"envelope"', "42", "true",
  ];
  for (const input of cases) expectFailure(verifyEnvelopeBytes(input), "MALFORMED_ENVELOPE", input.slice(0, 80));
});

test("MALFORMED_ENVELOPE: timestamps outside u64 integer literals", () => {
  const text = signedEnvelope(baseChallenge);
  for (const ts of ["-1", "-0", "1.0", "1800000000.0", "1e3", "1E3", "18446744073709551616", "99999999999999999999999", "0x10", "01", "+1", "NaN", "Infinity", '"1"']) {
    const failure = expectFailure(verifyEnvelopeBytes(text.replace("1800000000", ts)), "MALFORMED_ENVELOPE", ts);
    assert.ok(failure.offset === undefined || failure.offset > 0);
  }
  const max = signedEnvelope({ ...baseChallenge, timestamp: 18446744073709551615n });
  assert.is(expectOk(verifyEnvelopeBytes(max)).challenge.timestamp, 18446744073709551615n);
});

test("MALFORMED_ENVELOPE: syntax, trailing data, invalid UTF-8, lone surrogates, size limit", () => {
  const text = signedEnvelope(baseChallenge);
  const syntax = ["", " ", "{", text.slice(0, -1), text + "}", text + " x", text.replace(":", " "), text.replace(",", ",,"), "\ufeff" + text, text.replace('"nonce-b"', "'nonce-b'")];
  for (const input of syntax) expectFailure(verifyEnvelopeBytes(input), "MALFORMED_ENVELOPE", input.slice(0, 40));
  assert.match(expectFailure(verifyEnvelopeBytes(text + " x"), "MALFORMED_ENVELOPE").message, /unexpected data after the envelope/);
  // Invalid UTF-8 inside a string value (bytes input).
  const bytes = utf8.encode(text);
  const at = Buffer.from(bytes).indexOf("nonce-b");
  for (const seq of [[0xc0, 0xaf], [0xed, 0xa0, 0x80], [0xf4, 0x90, 0x80, 0x80], [0xff]]) {
    const broken = new Uint8Array([...bytes.subarray(0, at), ...seq, ...bytes.subarray(at + seq.length)]);
    const failure = expectFailure(verifyEnvelopeBytes(broken), "MALFORMED_ENVELOPE", String(seq));
    assert.match(failure.message, /invalid UTF-8/);
    assert.is(failure.offset, at);
  }
  // Lone surrogates: escaped, and raw in a JS string.
  const lone = expectFailure(verifyEnvelopeBytes(text.replace('"nonce-b"', '"nonce\\ud800"')), "MALFORMED_ENVELOPE");
  assert.match(lone.message, /surrogate/);
  assert.match(expectFailure(verifyEnvelopeBytes(text.replace('"nonce-b"', '"nonce\ud800"')), "MALFORMED_ENVELOPE").message, /surrogate/);
  // Raw control character in a string.
  expectFailure(verifyEnvelopeBytes(text.replace('"nonce-b"', '"nonce\n"')), "MALFORMED_ENVELOPE");
  // Size: default 64 KiB, configurable; too large is rejected without parsing.
  const big = signedEnvelope({ ...baseChallenge, nonce: "x".repeat(70000) });
  assert.match(expectFailure(verifyEnvelopeBytes(big), "MALFORMED_ENVELOPE").message, /larger than maxBytes/);
  expectOk(verifyEnvelopeBytes(big, { maxBytes: 1 << 20 }));
  expectFailure(verifyEnvelopeBytes(text, { maxBytes: text.length - 1 }), "MALFORMED_ENVELOPE");
  expectOk(verifyEnvelopeBytes(text, { maxBytes: text.length }));
  expectFailure(verifyEnvelopeBytes("{" + " ".repeat(70000) + "}"), "MALFORMED_ENVELOPE");
  // Deeply nested garbage is rejected at the first unknown member without descending.
  expectFailure(verifyEnvelopeBytes('{"x":' + "[".repeat(30000) + "]".repeat(30000) + "}"), "MALFORMED_ENVELOPE");
  // And everything still works afterwards.
  expectOk(verifyEnvelopeBytes(text));
});

test("misuse throws InvalidTypeError; bad envelopes never throw", () => {
  // A Proxy of a Uint8Array passes instanceof, but its length getter throws a plain TypeError.
  for (const input of [null, undefined, 5, {}, [], new ArrayBuffer(4), new DataView(new ArrayBuffer(4)), new Proxy(new Uint8Array(4), {})]) {
    assert.throws(() => verifyEnvelopeBytes(input as never), (e: unknown) => e instanceof InvalidTypeError && e.code === "INVALID_TYPE");
  }
  // Misspelt members and throwing reads too, as for the canonical JSON options: a misspelt
  // rejectWeakKey would leave the default in force unnoticed (review 54). (A maxBytes outside
  // 1 … 16 MiB is INVALID_CONFIG, as for fromJSON: handshake-hardening.test.ts.)
  const throwing = { get maxBytes(): number { throw new Error("getter"); } };
  for (const options of [{ zip215: "yes" }, { rejectWeakKeys: 0 }, { escapeDelAndC1: null }, "x", null, { rejectWeakKey: false }, { zip_215: true }, { maxbytes: 1 }, throwing]) {
    const label = options === throwing ? "a throwing getter" : JSON.stringify(options);
    assert.throws(() => verifyEnvelopeBytes("{}", options as never), (e: unknown) => e instanceof InvalidTypeError && e.code === "INVALID_TYPE", label);
    assert.throws(() => verifyEnvelopeBatch(["{}"], options as never), (e: unknown) => e instanceof InvalidTypeError && e.code === "INVALID_TYPE", label);
  }
  const unknown = (() => { try { verifyEnvelopeBytes("{}", { rejectWeakKey: false } as never); } catch (error) { return error as Error; } })();
  assert.match(unknown!.message, /unknown member "rejectWeakKey"/);
  const getter = (() => { try { verifyEnvelopeBytes("{}", throwing as never); } catch (error) { return error as Error; } })();
  assert.is((getter!.cause as Error).message, "getter");
  // Random garbage of every kind yields verdicts, never exceptions.
  let seed = 7;
  const random = () => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 16) & 0xff;
  const text = utf8.encode(signedEnvelope(baseChallenge));
  for (let i = 0; i < 3000; i++) {
    const mutated = text.slice();
    for (let j = 0; j < 1 + (i % 4); j++) mutated[(random() << 8 | random()) % mutated.length] = random();
    const verdict = verifyEnvelopeBytes(mutated);
    assert.type(verdict.ok, "boolean");
  }
  expectOk(verifyEnvelopeBytes(text));
});


// ---- Stale bytes: the core's input buffer keeps an earlier call's bytes past the current input's
// end, so an end-of-input check moved by one byte reads them. Each case first leaves the bytes
// that would complete (or change) the cut input just past its end, then verifies the cut input.

/** Where verifying the prefix text.slice(0, k) of a well-formed envelope must fail: the opening quote of a string it cuts, else k (no escapes in `text`). */
function cutOffset(text: string, k: number): number {
  let open = -1;
  for (let i = 0; i < k; i++) if (text[i] === '"') open = open < 0 ? i : -1;
  return open < 0 ? k : open;
}

const zeros = (n: number): Uint8Array => new Uint8Array(n);
const malformedOf = (verdict: EnvelopeVerdict): { problem?: string; field?: string; offset?: number } => {
  if (verdict.ok) return assert.unreachable("expected MALFORMED_ENVELOPE, got ok") as never;
  const { problem, field, offset } = verdict as { problem?: string; field?: string; offset?: number };
  return { problem, field, offset };
};

test("an envelope cut at every byte, after a call that left the rest of it past the end: INVALID_JSON where the input ends (or at the cut string)", () => {
  const compact = signedEnvelope(baseChallenge);
  const spaced = compact.replace(/([{:,])/g, "$1 ").replace(/}/g, " }");
  for (const text of [compact, spaced]) {
    assert.not.throws(() => JSON.parse(text));
    const bytes = utf8.encode(text);
    expectOk(verifyEnvelopeBytes(bytes));
    for (let k = 0; k < bytes.length; k++) {
      const cut = bytes.slice(0, k);
      assert.throws(() => JSON.parse(text.slice(0, k)), undefined, `oracle: prefix ${k} is not JSON`);
      verifyEnvelopeBytes(bytes); // leaves bytes[k…] just past the cut input's end
      const afterWhole = verifyEnvelopeBytes(cut);
      verifyEnvelopeBytes(zeros(bytes.length)); // leaves zero bytes there instead
      const afterZeros = verifyEnvelopeBytes(cut);
      const expected = { problem: "INVALID_JSON", offset: cutOffset(text, k) };
      const got = malformedOf(afterWhole);
      assert.equal({ problem: got.problem, offset: got.offset }, expected, `prefix ${k}: ${text.slice(Math.max(0, k - 20), k)}`);
      assert.equal(afterWhole, afterZeros, `prefix ${k}: the verdict does not depend on the earlier call`);
    }
  }
});

test("a cut envelope whose stale next byte would start a value, a brace or an invalid UTF-8 sequence: the cut input's own verdict", () => {
  // [earlier input, cut input, expected problem, field, offset]
  const cases: [string | Uint8Array, string, string, string, number][] = [
    ["[", "", "INVALID_JSON", "envelope", 0],
    ["{}", "{", "INVALID_JSON", "envelope", 1],
    ['{"challenge":{}}', '{"challenge":{', "INVALID_JSON", "challenge", 14],
    ['{"declaredPublicKey":true}', '{"declaredPublicKey":', "INVALID_JSON", "declaredPublicKey", 21],
    ['{"signature":[]}', '{"signature":', "INVALID_JSON", "signature", 13],
    ['{"challenge":{"nonce":1}}', '{"challenge":{"nonce":', "INVALID_JSON", "challenge.nonce", 22],
    ['{"challenge":{"timestamp":"1"}}', '{"challenge":{"timestamp":', "INVALID_JSON", "challenge.timestamp", 26],
    ['{"challenge":{"timestamp":[]}}', '{"challenge":{"timestamp":', "INVALID_JSON", "challenge.timestamp", 26],
    ['{"challenge":{"timestamp":12}}', '{"challenge":{"timestamp":1', "INVALID_JSON", "challenge", 27],
    ['{"challenge":{"timestamp":1.5}}', '{"challenge":{"timestamp":1', "INVALID_JSON", "challenge", 27],
    ['{"challenge":{"timestamp":1e5}}', '{"challenge":{"timestamp":1', "INVALID_JSON", "challenge", 27],
    ['{"challenge":{"nonce":"a"}}', '{"challenge":{"nonce":"a"', "INVALID_JSON", "challenge", 25],
    ['{"challenge":{"nonce":"a",}}', '{"challenge":{"nonce":"a"', "INVALID_JSON", "challenge", 25],
    ['{"challenge":{"nonce" :"a"}}', '{"challenge":{"nonce"', "INVALID_JSON", "challenge", 21],
    ['{"challenge":{"nonce":"a"}}', '{"challenge":{"nonce"', "INVALID_JSON", "challenge", 21],
    [new Uint8Array([...utf8.encode('{"challenge"'), 0xff]), '{"challenge"', "INVALID_JSON", "envelope", 12],
    [new Uint8Array([...utf8.encode('{"challenge":{"nonce":"a"'), 0xff]), '{"challenge":{"nonce":"a"', "INVALID_JSON", "challenge", 25],
    ['{"challenge":{"nonce":"a"}  ', '{"challenge":{"nonce":"a" ', "INVALID_JSON", "challenge", 26],
  ];
  for (const [earlier, cut, problem, field, offset] of cases) {
    assert.throws(() => JSON.parse(cut), undefined, `oracle: ${cut} is not JSON`);
    verifyEnvelopeBytes(earlier);
    assert.equal(malformedOf(verifyEnvelopeBytes(utf8.encode(cut))), { problem, field, offset }, `${cut} after ${String(earlier)}`);
    verifyEnvelopeBytes(earlier);
    assert.equal(malformedOf(verifyEnvelopeBytes(cut)), { problem, field, offset }, `${cut} (string) after ${String(earlier)}`);
  }
});

test("verifyEnvelopeBatch: an envelope cut at every byte, packed right before the rest of it: each verdict is verifyEnvelopeBytes's", () => {
  const text = signedEnvelope(baseChallenge);
  const other = signedEnvelope({ ...baseChallenge, nonce: "nonce-c" }, otherSigner);
  const bytes = utf8.encode(text);
  for (let k = 0; k < bytes.length; k++) {
    // The packed input holds the whole envelope: the first item's end is where the second starts.
    const head = bytes.slice(0, k);
    const tail = bytes.slice(k);
    const batch = verifyEnvelopeBatch([head, tail, other]);
    assert.is(batch.length, 3);
    const single = [verifyEnvelopeBytes(head), verifyEnvelopeBytes(tail), verifyEnvelopeBytes(other)];
    assert.equal(batch, single, `cut at ${k}`);
    assert.equal({ problem: malformedOf(batch[0]).problem, offset: malformedOf(batch[0]).offset }, { problem: "INVALID_JSON", offset: cutOffset(text, k) }, `cut at ${k}`);
    expectOk(batch[2], `cut at ${k}`);
  }
});

test("MALFORMED_ENVELOPE problem, field and offset for each kind, at each member (docs/protocol.md §9 names)", () => {
  const text = signedEnvelope(baseChallenge);
  assert.ok(text.startsWith('{"challenge":{"schema":'), text.slice(0, 30));
  const at = (s: string, needle: string, from = 0): number => {
    const i = s.indexOf(needle, from);
    assert.ok(i >= 0, needle);
    return i;
  };
  const valueOf = (s: string, name: string): number => at(s, `"${name}":`) + name.length + 3;
  // A 32-byte string that is no curve point (the oracle: @noble/curves refuses it).
  let notPoint = "";
  for (let y = 2; notPoint === ""; y++) {
    const candidate = Buffer.alloc(32);
    candidate[0] = y;
    try {
      noble.Point.fromHex(candidate.toString("hex"));
    } catch {
      notPoint = candidate.toString("hex");
    }
  }
  const cases: [string | Uint8Array, string, string, number | undefined][] = [];
  const challengeEnd = at(text, "}");
  const stringPaths: [string, string][] = [["schema", "challenge.schema"], ["localKernelId", "challenge.localKernelId"], ["remoteKernelId", "challenge.remoteKernelId"], ["nonce", "challenge.nonce"], ["declaredPublicKey", "declaredPublicKey"], ["signature", "signature"]];
  for (const [name, path] of stringPaths) {
    const from = valueOf(text, name);
    const to = at(text, '"', from + 1) + 1;
    const member = text.slice(at(text, `"${name}":`), to);
    // A number where the string goes.
    cases.push([text.slice(0, from) + "7" + text.slice(to), "NOT_A_STRING", path, from]);
    // The member twice: reported at the second name.
    const twice = text.slice(0, to) + "," + member + text.slice(to);
    cases.push([twice, "DUPLICATE_FIELD", path, to + 1]);
    // The member left out: reported at the closing brace of its object.
    const comma = text[to] === "," ? 1 : 0;
    const without = text.slice(0, at(text, `"${name}":`) - (comma ? 0 : 1)) + text.slice(to + comma);
    const holderEnd = path.startsWith("challenge.") ? at(without, "}") : without.length - 1;
    cases.push([without, "MISSING_FIELD", path, holderEnd]);
  }
  const tsAt = valueOf(text, "timestamp");
  cases.push([text.replace('"timestamp":1800000000', '"timestamp":-1'), "BAD_TIMESTAMP", "challenge.timestamp", tsAt]);
  cases.push([text.replace('"timestamp":1800000000', '"timestamp":"1"'), "BAD_TIMESTAMP", "challenge.timestamp", tsAt]);
  cases.push([text.replace(',"timestamp":1800000000', ""), "MISSING_FIELD", "challenge.timestamp", challengeEnd - ',"timestamp":1800000000'.length]);
  cases.push([text.replace('"timestamp":1800000000', '"timestamp":1,"timestamp":2'), "DUPLICATE_FIELD", "challenge.timestamp", tsAt + 2]);
  cases.push(["[]", "NOT_AN_OBJECT", "envelope", 0]);
  cases.push([text.replace(/"challenge":\{[^}]*\}/, '"challenge":[]'), "NOT_AN_OBJECT", "challenge", 13]);
  cases.push([text.replace(/"challenge":\{[^}]*\},/, ""), "MISSING_FIELD", "challenge", text.replace(/"challenge":\{[^}]*\},/, "").length - 1]);
  cases.push([text.replace('{"challenge":{', '{"challenge":{"x":1,'), "UNKNOWN_FIELD", "challenge", 14]);
  cases.push([text.replace('{"challenge":{', '{"x":1,"challenge":{'), "UNKNOWN_FIELD", "envelope", 1]);
  cases.push([text + " x", "TRAILING_DATA", "envelope", text.length + 1]);
  const keyAt = valueOf(text, "declaredPublicKey");
  const sigAt = valueOf(text, "signature");
  cases.push([text.replace(signer.publicKeyHex, "zz" + signer.publicKeyHex.slice(2)), "BAD_HEX", "declaredPublicKey", keyAt]);
  cases.push([text.replace(signer.publicKeyHex, signer.publicKeyHex.slice(2)), "BAD_LENGTH", "declaredPublicKey", keyAt]);
  cases.push([text.replace(signer.publicKeyHex, notPoint), "NOT_A_CURVE_POINT", "declaredPublicKey", keyAt]);
  cases.push([text.slice(0, sigAt + 1) + text.slice(sigAt + 3), "BAD_LENGTH", "signature", sigAt]);
  cases.push([text.slice(0, sigAt + 1) + "g" + text.slice(sigAt + 2), "BAD_HEX", "signature", sigAt]);
  const bytes = utf8.encode(text);
  const schemaByte = valueOf(text, "schema") + 1;
  cases.push([new Uint8Array([...bytes.subarray(0, schemaByte), 0xff, ...bytes.subarray(schemaByte + 1)]), "INVALID_UTF8", "challenge.schema", schemaByte]);
  const remoteAt = valueOf(text, "remoteKernelId");
  cases.push([text.replace('"kernel.org-a"', '"\\ud800"'), "LONE_SURROGATE", "challenge.remoteKernelId", remoteAt + 1]);
  const localAt = valueOf(text, "localKernelId");
  cases.push([text.replace('"kernel.org-b"', '"\\q"'), "INVALID_JSON", "challenge.localKernelId", localAt + 1]);
  for (const [input, problem, field, offset] of cases) {
    const label = typeof input === "string" ? input.slice(0, 120) : "bytes";
    if (typeof input === "string" && problem !== "LONE_SURROGATE" && problem !== "INVALID_JSON" && problem !== "TRAILING_DATA") assert.not.throws(() => JSON.parse(input), label);
    const verdict = expectFailure(verifyEnvelopeBytes(input), "MALFORMED_ENVELOPE", label) as { problem?: string; field?: string; offset?: number };
    assert.equal({ problem: verdict.problem, field: verdict.field, offset: verdict.offset }, { problem, field, offset }, label);
    // The batch gives the same verdict at the same index, between two valid envelopes.
    const batch = verifyEnvelopeBatch([text, input, text]);
    assert.equal(batch[1], verifyEnvelopeBytes(input), label);
    expectOk(batch[0]);
    expectOk(batch[2]);
  }
});

test.run();
