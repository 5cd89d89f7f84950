// Ed25519 verify / sign / keygen: chio-trust (wasm) against node:crypto (OpenSSL), libsodium.js
// (wasm) and @noble/curves (pure JS). Message: the 169-byte canonical handshake challenge.
import { createPrivateKey, createPublicKey, verify as nodeVerify, sign as nodeSign } from "node:crypto";
import { ed25519 as noble } from "@noble/curves/ed25519.js";
import sodiumModule from "libsodium-wrappers";
import canonicalize from "canonicalize";
import { ed25519, type PreparedPublicKey } from "../dist/esm/index.js";
import { challengeObject, keyFixture, nodeSignature, seedFor, type KeyFixture } from "./fixtures.js";
import { keep, type Group } from "./harness.js";

const COUNT = 256;

export async function ed25519Groups(): Promise<Group[]> {
  await sodiumModule.ready;
  const sodium = sodiumModule;
  const keys: KeyFixture[] = [];
  const messages: Uint8Array[] = [];
  const signatures: Uint8Array[] = [];
  const sodiumSecretKeys: Uint8Array[] = [];
  for (let i = 0; i < COUNT; i++) {
    const key = keyFixture(seedFor(i));
    const message = new TextEncoder().encode(canonicalize(challengeObject(i))!);
    keys.push(key);
    messages.push(message);
    signatures.push(nodeSignature(message, key));
    sodiumSecretKeys.push(sodium.crypto_sign_seed_keypair(key.seed).privateKey);
  }
  // Sanity: every contender agrees with node:crypto before anything is timed.
  for (let i = 0; i < COUNT; i++) {
    const [k, m, s] = [keys[i], messages[i], signatures[i]];
    const bad = s.slice();
    bad[5] ^= 1;
    const checks: Array<[string, boolean]> = [
      ["chio verify", ed25519.verify(s, m, k.publicKey) && !ed25519.verify(bad, m, k.publicKey)],
      ["sodium verify", sodium.crypto_sign_verify_detached(s, m, k.publicKey) && !sodium.crypto_sign_verify_detached(bad, m, k.publicKey)],
      ["chio sign", Buffer.from(ed25519.sign(m, k.seed)).equals(s)],
      ["sodium sign", Buffer.from(sodium.crypto_sign_detached(m, sodiumSecretKeys[i])).equals(s)],
      ["chio keygen", Buffer.from(ed25519.getPublicKey(k.seed)).equals(k.publicKey)],
    ];
    if (i < 16) {
      checks.push(["noble verify", noble.verify(s, m, k.publicKey) && !noble.verify(bad, m, k.publicKey)]);
      checks.push(["noble sign", Buffer.from(noble.sign(m, k.seed)).equals(s)]);
      checks.push(["noble keygen", Buffer.from(noble.getPublicKey(k.seed)).equals(k.publicKey)]);
    }
    for (const [what, ok] of checks) if (!ok) throw new Error(`benchmark sanity check failed: ${what} on fixture ${i}`);
  }

  // Signatures of the first 16 messages under key 0, for the one-key rows.
  const oneKeySignatures = messages.slice(0, 16).map((m) => nodeSignature(m, keys[0]));
  for (let j = 0; j < 16; j++) {
    if (!ed25519.verify(oneKeySignatures[j], messages[j], keys[0].publicKey)) throw new Error("one-key verify sanity check failed");
  }

  // Signatures of the same messages under key 16, for the hot key passed as bytes: a key not
  // prepared on request, which the core promotes into the slab once it is hot.
  const hotKeySignatures = messages.slice(0, 16).map((m) => nodeSignature(m, keys[16]));
  for (let j = 0; j < 16; j++) {
    if (!ed25519.verify(hotKeySignatures[j], messages[j], keys[16].publicKey)) throw new Error("hot-key verify sanity check failed");
  }

  // Prepared keys (ed25519.preparePublicKey) for the first 16 keys, checked like the rest: they
  // fit the default slab (19 slots) and leave room for the hot key's promotion. (A promotion
  // never evicts a key prepared on request: README "Prepared public keys". So the case of more
  // prepared keys than slots, which fills every slot with keys prepared on request, is a group
  // of its own, whose keys are freed after it.)
  const preparedPublicKeys = keys.slice(0, 16).map((k) => ed25519.preparePublicKey(k.publicKey));
  for (let j = 0; j < 16; j++) {
    if (!ed25519.verify(signatures[j], messages[j], preparedPublicKeys[j])) throw new Error("prepared verify sanity check failed");
    if (!ed25519.verify(oneKeySignatures[j], messages[j], preparedPublicKeys[0])) throw new Error("prepared one-key sanity check failed");
  }

  // The cold rotation: 256 keys of their own, which no row prepares or makes hot (keys 0–15 are
  // prepared above and key 16 is the hot key, so a rotation over keys 0–255 found 17 of its 256
  // in the slab: review 62 F5). Every rotating row of the group (node, libsodium, noble) uses them.
  const coldKeys = Array.from({ length: COUNT }, (_, j) => keyFixture(seedFor(20_000 + j)));
  const coldSignatures = coldKeys.map((k, j) => nodeSignature(messages[j], k));
  for (let j = 0; j < COUNT; j++) {
    if (!ed25519.verify(coldSignatures[j], messages[j], coldKeys[j].publicKey)) throw new Error("cold-key verify sanity check failed");
    if (!sodium.crypto_sign_verify_detached(coldSignatures[j], messages[j], coldKeys[j].publicKey)) throw new Error("cold-key sodium sanity check failed");
    if (j < 16 && !noble.verify(coldSignatures[j], messages[j], coldKeys[j].publicKey)) throw new Error("cold-key noble sanity check failed");
  }

  let i = 0;
  const next = () => (i = (i + 1) & (COUNT - 1));
  const verify: Group = {
    title: "verify (169 B)",
    baseline: "node:crypto (OpenSSL, KeyObject made in advance)",
    cases: [
      { name: "chio-trust (wasm), 256 keys in rotation", fn: () => { const j = next(); keep(ed25519.verify(coldSignatures[j], messages[j], coldKeys[j].publicKey)); } },
      { name: "chio-trust (wasm), one key as bytes (hot: auto-prepared)", fn: () => { const j = next() & 15; keep(ed25519.verify(hotKeySignatures[j], messages[j], keys[16].publicKey)); } },
      { name: "chio-trust (wasm), prepared key, one key", fn: () => { const j = next() & 15; keep(ed25519.verify(oneKeySignatures[j], messages[j], preparedPublicKeys[0])); } },
      { name: "chio-trust (wasm), prepared keys, 16 hot keys", fn: () => { const j = next() & 15; keep(ed25519.verify(signatures[j], messages[j], preparedPublicKeys[j])); } },
      { name: "node:crypto (OpenSSL, KeyObject made in advance)", fn: () => { const j = next(); keep(nodeVerify(null, messages[j], coldKeys[j].publicKeyObject, coldSignatures[j])); } },
      { name: "libsodium-wrappers (wasm)", fn: () => { const j = next(); keep(sodium.crypto_sign_verify_detached(coldSignatures[j], messages[j], coldKeys[j].publicKey)); } },
      { name: "@noble/curves (pure JS)", fn: () => { const j = next(); keep(noble.verify(coldSignatures[j], messages[j], coldKeys[j].publicKey)); } },
    ],
  };
  // More prepared keys in use than the default slab's 19 slots: keys 32–63, prepared just before
  // the group is measured and freed after it, so that no other group runs with a slab full of
  // keys prepared on request.
  let rotation: PreparedPublicKey[] = [];
  const ROTATION_FIRST = 32;
  const preparedRotation: Group = {
    title: "verify (169 B), prepared keys beyond the slab",
    baseline: "node:crypto (OpenSSL, KeyObject made in advance)",
    setup: () => {
      rotation = keys.slice(ROTATION_FIRST, ROTATION_FIRST + 32).map((k) => ed25519.preparePublicKey(k.publicKey));
      for (let j = 0; j < 32; j++) {
        if (!ed25519.verify(signatures[ROTATION_FIRST + j], messages[ROTATION_FIRST + j], rotation[j])) throw new Error("prepared rotation sanity check failed");
      }
    },
    teardown: () => {
      for (const key of rotation) key.free();
    },
    cases: [
      { name: "chio-trust (wasm), prepared keys, 32 in rotation (more than the 19 slots)", fn: () => { const j = ROTATION_FIRST + (next() & 31); keep(ed25519.verify(signatures[j], messages[j], rotation[j - ROTATION_FIRST])); } },
      { name: "chio-trust (wasm), the same 32 keys as bytes", fn: () => { const j = ROTATION_FIRST + (next() & 31); keep(ed25519.verify(signatures[j], messages[j], keys[j].publicKey)); } },
      { name: "node:crypto (OpenSSL, KeyObject made in advance)", fn: () => { const j = ROTATION_FIRST + (next() & 31); keep(nodeVerify(null, messages[j], keys[j].publicKeyObject, signatures[j])); } },
    ],
  };
  // node has no raw "seed -> public key" or "sign with a seed" call. Its fastest seed -> public
  // key path imports the seed as a JWK (OpenSSL derives the public key when the key is made; x is
  // required by the parser but ignored) and exports the private key as a JWK, whose x is the
  // public key: about 2.8 times faster than a second KeyObject and an SPKI export, the baseline
  // of earlier runs (review 62 F1), which stays as a row of its own.
  const jwks = keys.map((k) => ({ kty: "OKP", crv: "Ed25519", d: Buffer.from(k.seed).toString("base64url"), x: "AA" }));
  const nodePublicKeyOfSeed = (j: number): Buffer => Buffer.from(createPrivateKey({ key: jwks[j], format: "jwk" }).export({ format: "jwk" }).x!, "base64url");
  for (let j = 0; j < COUNT; j++) {
    if (!nodePublicKeyOfSeed(j).equals(keys[j].publicKey)) throw new Error("node keygen (JWK export) sanity check failed");
  }
  for (let j = 0; j < 4; j++) {
    const spki = createPublicKey(createPrivateKey({ key: jwks[j], format: "jwk" })).export({ format: "der", type: "spki" });
    if (!Buffer.from(spki.subarray(12)).equals(keys[j].publicKey)) throw new Error("node keygen (SPKI export) sanity check failed");
  }
  for (let j = 0; j < 4; j++) {
    const sig = nodeSign(null, messages[j], createPrivateKey({ key: jwks[j], format: "jwk" }));
    if (!Buffer.from(sig).equals(signatures[j])) throw new Error("node JWK sign sanity check failed");
  }
  // Prepared secret keys (expanded secret and A held in wasm memory, like node's KeyObject).
  const preparedSecretKeys = keys.map((k) => ed25519.prepareSecretKey(k.seed));
  for (let j = 0; j < COUNT; j++) {
    if (!Buffer.from(ed25519.sign(messages[j], preparedSecretKeys[j])).equals(signatures[j])) throw new Error(`prepared-key sign sanity check failed on fixture ${j}`);
  }
  const sign: Group = {
    title: "sign (169 B)",
    baseline: "node:crypto (OpenSSL, KeyObject made in advance)",
    cases: [
      { name: "chio-trust (wasm), 256 keys in rotation (derives A each call)", fn: () => { const j = next(); keep(ed25519.sign(messages[j], keys[j].seed)); } },
      { name: "chio-trust (wasm), one key (A from the core's cache)", fn: () => { const j = next(); keep(ed25519.sign(messages[j], keys[0].seed)); } },
      { name: "chio-trust prepared key, 256 keys in rotation", fn: () => { const j = next(); keep(ed25519.sign(messages[j], preparedSecretKeys[j])); } },
      { name: "chio-trust prepared key, one key", fn: () => { const j = next(); keep(ed25519.sign(messages[j], preparedSecretKeys[0])); } },
      { name: "node:crypto (OpenSSL, KeyObject made in advance)", fn: () => { const j = next(); keep(nodeSign(null, messages[j], keys[j].privateKeyObject)); } },
      {
        name: "node:crypto, seed → KeyObject (JWK) on every call",
        fn: () => { const j = next(); keep(nodeSign(null, messages[j], createPrivateKey({ key: jwks[j], format: "jwk" }))); },
      },
      { name: "libsodium-wrappers (wasm)", fn: () => { const j = next(); keep(sodium.crypto_sign_detached(messages[j], sodiumSecretKeys[j])); } },
      { name: "@noble/curves (pure JS)", fn: () => { const j = next(); keep(noble.sign(messages[j], keys[j].seed)); } },
    ],
  };
  const keygen: Group = {
    title: "keygen (seed → public key)",
    baseline: "node:crypto (JWK import + JWK export of x)",
    cases: [
      { name: "chio-trust (wasm)", fn: () => { const j = next(); keep(ed25519.getPublicKey(keys[j].seed)); } },
      { name: "node:crypto (JWK import + JWK export of x)", fn: () => { const j = next(); keep(nodePublicKeyOfSeed(j)); } },
      {
        name: "node:crypto (JWK import, public KeyObject, SPKI export: a slower path)",
        fn: () => { const j = next(); keep(createPublicKey(createPrivateKey({ key: jwks[j], format: "jwk" })).export({ format: "der", type: "spki" })); },
      },
      { name: "libsodium-wrappers (wasm)", fn: () => { const j = next(); keep(sodium.crypto_sign_seed_keypair(keys[j].seed)); } },
      { name: "@noble/curves (pure JS)", fn: () => { const j = next(); keep(noble.getPublicKey(keys[j].seed)); } },
    ],
  };
  return [verify, preparedRotation, sign, keygen];
}
