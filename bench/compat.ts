// The drop-in entries against the libraries they replace, on the 169-byte handshake challenge:
// chio-trust/ed25519 vs @noble/ed25519 3.x (default zip215 verify, and zip215: false) and
// chio-trust/tweetnacl vs tweetnacl (nacl.sign.detached / .verify / keyPair.fromSeed).
import * as noble from "@noble/ed25519";
import { sha512 } from "@noble/hashes/sha2.js";
import nacl from "tweetnacl";
import canonicalize from "canonicalize";
import * as chioNoble from "../dist/esm/compat/noble-ed25519.js";
import chioNacl from "../dist/esm/compat/tweetnacl.js";
import { challengeObject, keyFixture, seedFor } from "./fixtures.js";
import {
  CHIO_NACL_KEYGEN, CHIO_NACL_SIGN, CHIO_NACL_VERIFY, CHIO_NOBLE_KEYGEN, CHIO_NOBLE_SIGN, CHIO_NOBLE_VERIFY, CHIO_NOBLE_VERIFY_STRICT,
  COMPAT_KEYGEN_GROUP, COMPAT_SIGN_GROUP, COMPAT_VERIFY_GROUP, NACL_KEYGEN, NACL_SIGN, NACL_VERIFY, NOBLE_KEYGEN, NOBLE_SIGN, NOBLE_VERIFY, NOBLE_VERIFY_STRICT,
} from "./compat-names.js";
import { keep, type Group } from "./harness.js";

const COUNT = 64;

export function compatGroups(): Group[] {
  noble.hashes.sha512 = (m: Uint8Array) => sha512(m);
  const seeds: Uint8Array[] = [];
  const publicKeys: Uint8Array[] = [];
  const naclSecretKeys: Uint8Array[] = [];
  const messages: Uint8Array[] = [];
  const signatures: Uint8Array[] = [];
  for (let i = 0; i < COUNT; i++) {
    const key = keyFixture(seedFor(i));
    seeds.push(key.seed);
    publicKeys.push(key.publicKey);
    naclSecretKeys.push(nacl.sign.keyPair.fromSeed(key.seed).secretKey);
    messages.push(new TextEncoder().encode(canonicalize(challengeObject(i))!));
    signatures.push(noble.sign(messages[i], key.seed));
  }
  // Sanity: the drop-ins give the replaced libraries' results before anything is timed.
  for (let i = 0; i < COUNT; i++) {
    const ok =
      Buffer.from(chioNoble.sign(messages[i], seeds[i])).equals(signatures[i]) &&
      Buffer.from(chioNacl.sign.detached(messages[i], naclSecretKeys[i])).equals(signatures[i]) &&
      chioNoble.verify(signatures[i], messages[i], publicKeys[i]) &&
      chioNoble.verify(signatures[i], messages[i], publicKeys[i], { zip215: false }) &&
      chioNacl.sign.detached.verify(messages[i], signatures[i], publicKeys[i]);
    if (!ok) throw new Error(`compat benchmark sanity check failed on fixture ${i}`);
  }
  let i = 0;
  const next = () => (i = (i + 1) % COUNT);
  return [
    {
      title: COMPAT_VERIFY_GROUP,
      baseline: NOBLE_VERIFY,
      cases: [
        { name: NOBLE_VERIFY, fn: () => { const j = next(); keep(noble.verify(signatures[j], messages[j], publicKeys[j])); } },
        { name: CHIO_NOBLE_VERIFY, fn: () => { const j = next(); keep(chioNoble.verify(signatures[j], messages[j], publicKeys[j])); } },
        { name: NOBLE_VERIFY_STRICT, fn: () => { const j = next(); keep(noble.verify(signatures[j], messages[j], publicKeys[j], { zip215: false })); } },
        { name: CHIO_NOBLE_VERIFY_STRICT, fn: () => { const j = next(); keep(chioNoble.verify(signatures[j], messages[j], publicKeys[j], { zip215: false })); } },
        { name: NACL_VERIFY, fn: () => { const j = next(); keep(nacl.sign.detached.verify(messages[j], signatures[j], publicKeys[j])); } },
        { name: CHIO_NACL_VERIFY, fn: () => { const j = next(); keep(chioNacl.sign.detached.verify(messages[j], signatures[j], publicKeys[j])); } },
      ],
    },
    {
      title: COMPAT_SIGN_GROUP,
      baseline: NOBLE_SIGN,
      cases: [
        { name: NOBLE_SIGN, fn: () => { const j = next(); keep(noble.sign(messages[j], seeds[j])); } },
        { name: CHIO_NOBLE_SIGN, fn: () => { const j = next(); keep(chioNoble.sign(messages[j], seeds[j])); } },
        { name: NACL_SIGN, fn: () => { const j = next(); keep(nacl.sign.detached(messages[j], naclSecretKeys[j])); } },
        { name: CHIO_NACL_SIGN, fn: () => { const j = next(); keep(chioNacl.sign.detached(messages[j], naclSecretKeys[j])); } },
      ],
    },
    {
      title: COMPAT_KEYGEN_GROUP,
      baseline: NOBLE_KEYGEN,
      cases: [
        { name: NOBLE_KEYGEN, fn: () => { const j = next(); keep(noble.getPublicKey(seeds[j])); } },
        { name: CHIO_NOBLE_KEYGEN, fn: () => { const j = next(); keep(chioNoble.getPublicKey(seeds[j])); } },
        { name: NACL_KEYGEN, fn: () => { const j = next(); keep(nacl.sign.keyPair.fromSeed(seeds[j])); } },
        { name: CHIO_NACL_KEYGEN, fn: () => { const j = next(); keep(chioNacl.sign.keyPair.fromSeed(seeds[j])); } },
      ],
    },
  ];
}
