// PublicKey, Signature and Keypair: chio's wire forms (docs/protocol.md §2, §4), typed errors, and
// secrets kept out of every printable form. Oracles: @noble/curves (point decoding, small
// order), node:crypto (keys and signatures), test/vectors/chio/signing/v1.json.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { readFileSync } from "node:fs";
import { inspect, isDeepStrictEqual } from "node:util";
import { randomBytes } from "node:crypto";
import { ed25519 as noble } from "@noble/curves/ed25519.js";
import { FederationPeer, Keypair, PublicKey, Signature } from "../../src/handshake/index.js";
import { nodePrivateKey, nodePublicKeyBytes, nodeSign, torsionEncodingsHex } from "../helpers/ed25519-oracles.js";

const signing = JSON.parse(readFileSync(new URL("../vectors/chio/signing/v1.json", import.meta.url), "utf8"));
const PK_09 = "fd1724385aa0c75b64fb78cd602fa1d991fdebf76b13c58ed702eac835e9f618";
const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString("hex");

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    return (error as { code?: string }).code;
  }
  return undefined;
}

function nodeKeys(seed: Uint8Array) {
  return { privateKey: nodePrivateKey(seed), publicKeyHex: hex(nodePublicKeyBytes(seed)) };
}

test("the signing vectors' default seed gives chio's public key and signatures", () => {
  const keypair = Keypair.fromSeed(Uint8Array.from(Buffer.from(signing.signing_key_seed_hex, "hex")));
  assert.is(keypair.publicKey.toHex(), PK_09);
  let checked = 0;
  for (const c of signing.utf8_cases) {
    if (c.public_key_hex !== PK_09 || !c.expected_verify) continue;
    const message = new TextEncoder().encode(c.input_utf8);
    assert.is(keypair.sign(message).toHex(), c.signature_hex, c.id);
    assert.ok(PublicKey.fromHex(c.public_key_hex).verify(message, Signature.fromHex(c.signature_hex)), c.id);
    checked++;
  }
  for (const c of [...signing.utf8_cases, ...signing.json_cases]) {
    const message = new TextEncoder().encode(c.input_utf8 ?? c.canonical_json);
    assert.is(PublicKey.fromHex(c.public_key_hex).verify(message, Signature.fromHex(c.signature_hex)), c.expected_verify, c.id);
  }
  assert.ok(checked > 3, `${checked} signing cases`);
});

test("PublicKey.fromHex accepts either case and an optional 0x; toHex is bare lowercase", () => {
  const forms = [PK_09, PK_09.toUpperCase(), "0x" + PK_09, "0x" + PK_09.toUpperCase()];
  for (const form of forms) {
    const key = PublicKey.fromHex(form);
    assert.is(key.toHex(), PK_09);
    assert.is(JSON.stringify(key), `"${PK_09}"`);
    assert.is(String(key), PK_09);
    assert.ok(key.equals(PublicKey.fromHex(PK_09)));
  }
  assert.not.ok(PublicKey.fromHex(PK_09).equals(Keypair.generate().publicKey));
  assert.match(inspect(PublicKey.fromHex(PK_09)), PK_09);
});

test("PublicKey holds a copy: mutating inputs or outputs changes nothing", () => {
  const bytes = Uint8Array.from(Buffer.from(PK_09, "hex"));
  const key = PublicKey.fromBytes(bytes);
  bytes[0] ^= 1;
  key.toBytes()[0] ^= 1;
  assert.is(key.toHex(), PK_09);
});

test("PublicKey typed errors: INVALID_TYPE, INVALID_LENGTH, INVALID_HEX, INVALID_PUBLIC_KEY", () => {
  assert.is(codeOf(() => PublicKey.fromHex(42 as unknown as string)), "INVALID_TYPE");
  assert.is(codeOf(() => PublicKey.fromBytes("ab" as unknown as Uint8Array)), "INVALID_TYPE");
  assert.is(codeOf(() => PublicKey.fromBytes(new DataView(new ArrayBuffer(32)) as unknown as Uint8Array)), "INVALID_TYPE");
  assert.is(codeOf(() => PublicKey.fromHex(PK_09.slice(2))), "INVALID_LENGTH");
  assert.is(codeOf(() => PublicKey.fromHex(PK_09 + "00")), "INVALID_LENGTH");
  assert.is(codeOf(() => PublicKey.fromHex("a".repeat(1_000_000))), "INVALID_LENGTH");
  assert.is(codeOf(() => PublicKey.fromBytes(new Uint8Array(31))), "INVALID_LENGTH");
  assert.is(codeOf(() => PublicKey.fromHex("g" + PK_09.slice(1))), "INVALID_HEX");
  assert.is(codeOf(() => PublicKey.fromHex(" " + PK_09.slice(1))), "INVALID_HEX");
  assert.is(codeOf(() => PublicKey.fromHex("0X" + PK_09.slice(2))), "INVALID_HEX"); // only lowercase 0x, as Rust strip_prefix("0x")
});

test("PublicKey accepts exactly the encodings that decode as points (vs @noble/curves)", () => {
  let valid = 0;
  let invalid = 0;
  for (let i = 0; i < 400; i++) {
    const bytes = new Uint8Array(randomBytes(32));
    let nobleDecodes = true;
    try {
      noble.Point.fromBytes(bytes, true); // zip215 decoding = dalek's: y taken mod p
    } catch {
      nobleDecodes = false;
    }
    const code = codeOf(() => PublicKey.fromBytes(bytes));
    if (nobleDecodes) {
      assert.is(code, undefined, hex(bytes));
      valid++;
    } else {
      assert.is(code, "INVALID_PUBLIC_KEY", hex(bytes));
      invalid++;
    }
  }
  assert.ok(valid > 100 && invalid > 100, `${valid} valid, ${invalid} invalid`);
});

test("isSmallOrder is true for exactly the eight torsion points", () => {
  const torsion = torsionEncodingsHex();
  assert.is(new Set(torsion).size, 8);
  for (const encoding of torsion) assert.ok(PublicKey.fromHex(encoding).isSmallOrder(), encoding);
  assert.not.ok(PublicKey.fromHex(PK_09).isSmallOrder());
  for (let i = 0; i < 20; i++) assert.not.ok(Keypair.generate().publicKey.isSmallOrder());
});

test("Signature: 64 bytes of any value, hex either case with optional 0x, bare lowercase out", () => {
  const any = new Uint8Array(64).fill(0xff); // S >= L: still a Signature; verify rejects it later
  const signature = Signature.fromBytes(any);
  assert.is(signature.toHex(), "ff".repeat(64));
  assert.ok(Signature.fromHex("0x" + "FF".repeat(64)).equals(signature));
  assert.is(JSON.stringify(signature), `"${"ff".repeat(64)}"`);
  any[0] = 0;
  assert.is(signature.toBytes()[0], 0xff);
  assert.is(codeOf(() => Signature.fromHex("ff".repeat(63))), "INVALID_LENGTH");
  assert.is(codeOf(() => Signature.fromHex("zz".repeat(64))), "INVALID_HEX");
  assert.is(codeOf(() => Signature.fromBytes(new Uint8Array(65))), "INVALID_LENGTH");
  assert.is(codeOf(() => Signature.fromBytes([1, 2] as unknown as Uint8Array)), "INVALID_TYPE");
  assert.is(codeOf(() => Signature.fromHex(null as unknown as string)), "INVALID_TYPE");
});

test("Keypair signs like node:crypto and verifies with chio's rule", () => {
  for (let i = 0; i < 20; i++) {
    const seed = new Uint8Array(randomBytes(32));
    const keypair = Keypair.fromSeed(seed);
    const { privateKey, publicKeyHex } = nodeKeys(seed);
    assert.is(keypair.publicKey.toHex(), publicKeyHex);
    const message = new Uint8Array(randomBytes(i * 13));
    const signature = keypair.sign(message);
    assert.is(signature.toHex(), hex(nodeSign(privateKey, message)));
    assert.ok(keypair.publicKey.verify(message, signature));
    const flipped = signature.toBytes();
    flipped[i % 64] ^= 1;
    assert.not.ok(keypair.publicKey.verify(message, Signature.fromBytes(flipped)));
  }
});

test("Keypair keeps its seed out of toJSON, toString, util.inspect and own keys", () => {
  const seed = new Uint8Array(randomBytes(32));
  const keypair = Keypair.fromSeed(seed);
  const seedHex = hex(seed);
  for (const text of [JSON.stringify(keypair), String(keypair), inspect(keypair, { showHidden: true, depth: 5 }), JSON.stringify(Object.entries(keypair))]) {
    assert.not.ok(text.includes(seedHex), text);
    assert.not.ok(text.toLowerCase().includes(seedHex.slice(0, 16)), text);
  }
  assert.equal(JSON.parse(JSON.stringify(keypair)), { publicKey: keypair.publicKey.toHex() });
  // The explicit export gives a copy.
  const exported = keypair.seedBytes();
  assert.is(hex(exported), seedHex);
  exported.fill(0);
  seed.fill(0);
  assert.is(hex(keypair.seedBytes()), seedHex);
});

test("deep equality tells keys, signatures, pins and keypairs apart by their bytes (an own enumerable hex)", () => {
  const seeds = [new Uint8Array(32).fill(1), new Uint8Array(32).fill(2)];
  const [a, b] = seeds.map((seed) => Keypair.fromSeed(seed));
  const [aAgain] = seeds.map((seed) => Keypair.fromSeed(seed));
  const pin = (publicKey: PublicKey) => new FederationPeer({ kernelId: "peer-1", publicKey, establishedAt: 1_000, rotationDue: 2_000 });
  const message = new Uint8Array([1, 2, 3]);
  // Different bytes: unequal to node:assert's rule and to uvu's (dequal), which this repository's
  // store snapshots are compared with; the same bytes in other instances: equal.
  const pairs: Array<[string, unknown, unknown, unknown]> = [
    ["public keys", a!.publicKey, b!.publicKey, PublicKey.fromHex(a!.publicKey.toHex())],
    ["signatures", a!.sign(message), b!.sign(message), Signature.fromHex(a!.sign(message).toHex())],
    ["pins", pin(a!.publicKey), pin(b!.publicKey), pin(PublicKey.fromBytes(a!.publicKey.toBytes()))],
    ["keypairs", a, b, aAgain],
  ];
  for (const [name, one, other, same] of pairs) {
    assert.not.ok(isDeepStrictEqual(one, other), name);
    let uvuSawDifference = false; // not assert.throws: it rethrows an assertion's own error
    try {
      assert.equal(one, other);
    } catch {
      uvuSawDifference = true;
    }
    assert.ok(uvuSawDifference, name);
    assert.ok(isDeepStrictEqual(one, same), name);
    assert.equal(one, same, name);
  }
  // The property is the hex toHex() gives (node:crypto's key bytes as the oracle), read-only.
  assert.is(a!.publicKey.hex, hex(nodePublicKeyBytes(seeds[0]!)));
  assert.equal(Object.keys(a!.publicKey), ["hex"]);
  assert.throws(() => ((a!.publicKey as { hex: string }).hex = b!.publicKey.hex), TypeError);
  assert.is(a!.publicKey.toHex(), hex(nodePublicKeyBytes(seeds[0]!)));
  // A structured clone (postMessage) carries the key's hex instead of an empty object.
  assert.equal(structuredClone(a!.publicKey), { hex: a!.publicKey.toHex() });
  assert.equal(structuredClone(a!.sign(message)), { hex: hex(nodeSign(seeds[0]!, message)) });
});

test("Keypair.generate gives distinct keys; fromSeed checks its argument", () => {
  const keys = new Set(Array.from({ length: 10 }, () => Keypair.generate().publicKey.toHex()));
  assert.is(keys.size, 10);
  assert.is(codeOf(() => Keypair.fromSeed(new Uint8Array(31))), "INVALID_LENGTH");
  assert.is(codeOf(() => Keypair.fromSeed("09".repeat(32) as unknown as Uint8Array)), "INVALID_TYPE");
});

test.run();
