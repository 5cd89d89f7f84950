// Published Ed25519 vectors: RFC 8032 §7.1, the 1024 lines of the reference sign.input, and
// chio's signing corpus (test/vectors/chio/signing/v1.json), with the canonical-JSON cases
// canonicalized by the npm `canonicalize` package (the oracle, not our own encoder).
import { test } from "uvu";
import * as assert from "uvu/assert";
import canonicalize from "canonicalize";
import { ed25519 } from "../../src/ed25519.js";
import { bytesToHex, hexToBytes } from "../../src/bytes.js";
import { vectorJson, vectorText } from "../helpers/vectors.js";

const utf8 = new TextEncoder();

type RfcVector = { name: string; secretKey: string; publicKey: string; message: string; signature: string };
const rfc: { tests: RfcVector[] } = vectorJson("rfc8032/rfc8032-7.1.json");

test("RFC 8032 §7.1: 5 vectors — public key, signature and verification", () => {
  assert.is(rfc.tests.length, 5);
  for (const v of rfc.tests) {
    const sk = hexToBytes(v.secretKey);
    const msg = hexToBytes(v.message);
    assert.is(bytesToHex(ed25519.getPublicKey(sk)), v.publicKey, `${v.name} public key`);
    assert.is(bytesToHex(ed25519.sign(msg, sk)), v.signature, `${v.name} signature`);
    assert.ok(ed25519.verify(hexToBytes(v.signature), msg, hexToBytes(v.publicKey)), `${v.name} verify`);
    assert.ok(ed25519.verify(hexToBytes(v.signature), msg, hexToBytes(v.publicKey), { zip215: true }), `${v.name} verify zip215`);
  }
});

test("RFC 8032 §7.1: async twins give the same results", async () => {
  for (const v of rfc.tests) {
    const sk = hexToBytes(v.secretKey);
    const msg = hexToBytes(v.message);
    assert.is(bytesToHex(await ed25519.getPublicKeyAsync(sk)), v.publicKey);
    assert.is(bytesToHex(await ed25519.signAsync(msg, sk)), v.signature);
    assert.is(await ed25519.verifyAsync(hexToBytes(v.signature), msg, hexToBytes(v.publicKey)), true);
    assert.is(await ed25519.verifyAsync(hexToBytes(v.signature), utf8.encode("x"), hexToBytes(v.publicKey)), false);
  }
});

test("sign.input: all 1024 lines (keygen, sign, verify; flipped message rejected)", () => {
  const lines = vectorText("rfc8032/sign.input").split("\n").filter((l) => l.length > 0);
  assert.is(lines.length, 1024);
  lines.forEach((line, i) => {
    const [skpk, pkHex, msgHex, sigmsg] = line.split(":");
    const sk = hexToBytes(skpk.slice(0, 64));
    const msg = hexToBytes(msgHex);
    assert.is(msg.length, i);
    const sigHex = sigmsg.slice(0, 128);
    assert.is(skpk.slice(64), pkHex);
    assert.is(bytesToHex(ed25519.getPublicKey(sk)), pkHex, `line ${i} public key`);
    assert.is(bytesToHex(ed25519.sign(msg, sk)), sigHex, `line ${i} signature`);
    const pk = hexToBytes(pkHex);
    const sig = hexToBytes(sigHex);
    assert.ok(ed25519.verify(sig, msg, pk), `line ${i} verify`);
    assert.ok(ed25519.verify(sig, msg, pk, { zip215: true }), `line ${i} verify zip215`);
    if (msg.length > 0) {
      const bad = msg.slice();
      bad[i % msg.length] ^= 0x01;
      assert.not.ok(ed25519.verify(sig, bad, pk), `line ${i} tampered message`);
    }
  });
});

type ChioCase = {
  id: string;
  expected_verify: boolean;
  public_key_hex: string;
  signature_hex: string;
  signing_key_seed_hex?: string;
  input_json?: string;
  canonical_json?: string;
  input_utf8?: string;
};
const chio: { signing_key_seed_hex: string; json_cases: ChioCase[]; utf8_cases: ChioCase[] } = JSON.parse(
  vectorText("chio/signing/v1.json"),
);

function checkChioCase(c: ChioCase, message: Uint8Array): void {
  const seed = hexToBytes(c.signing_key_seed_hex ?? chio.signing_key_seed_hex);
  const pk = hexToBytes(c.public_key_hex);
  const sig = hexToBytes(c.signature_hex);
  assert.is(bytesToHex(ed25519.getPublicKey(seed)), c.public_key_hex, `${c.id} public key`);
  assert.is(ed25519.verify(sig, message, pk), c.expected_verify, `${c.id} verify`);
  assert.is(ed25519.verify(sig, message, pk, { zip215: true }), c.expected_verify, `${c.id} verify zip215`);
  if (c.expected_verify) {
    assert.is(bytesToHex(ed25519.sign(message, seed)), c.signature_hex, `${c.id} signature`);
  } else {
    // the corpus signature is over other bytes: our signature over these bytes must differ and verify
    const ours = ed25519.sign(message, seed);
    assert.is.not(bytesToHex(ours), c.signature_hex, `${c.id} signature differs`);
    assert.ok(ed25519.verify(ours, message, pk), `${c.id} own signature verifies`);
  }
}

test("chio signing corpus: all UTF-8 cases", () => {
  assert.is(chio.utf8_cases.length, 14);
  for (const c of chio.utf8_cases) checkChioCase(c, utf8.encode(c.input_utf8!));
});

test("chio signing corpus: all canonical-JSON cases (canonicalized by the `canonicalize` package)", () => {
  assert.is(chio.json_cases.length, 8);
  for (const c of chio.json_cases) {
    const canonical = canonicalize(JSON.parse(c.input_json!));
    assert.type(canonical, "string");
    assert.is(canonical, c.canonical_json, `${c.id} canonical form`);
    checkChioCase(c, utf8.encode(canonical!));
  }
});

test.run();
