// Deterministic benchmark fixtures: seeds, keys, messages and signatures, made with node:crypto
// and checked against every contender before anything is timed.
import { createHash, createPrivateKey, createPublicKey, sign as nodeSign, type KeyObject } from "node:crypto";

const PKCS8_ED25519_PREFIX = Buffer.from("302e020100300506032b657004220420", "hex");

export interface KeyFixture {
  seed: Uint8Array;
  publicKey: Uint8Array;
  privateKeyObject: KeyObject;
  publicKeyObject: KeyObject;
}

/** The n-th deterministic seed: SHA-256("chio-bench-seed-" + n). */
export function seedFor(n: number): Uint8Array {
  return new Uint8Array(createHash("sha256").update(`chio-bench-seed-${n}`).digest());
}

export function keyFixture(seed: Uint8Array): KeyFixture {
  const privateKeyObject = createPrivateKey({ key: Buffer.concat([PKCS8_ED25519_PREFIX, seed]), format: "der", type: "pkcs8" });
  const publicKeyObject = createPublicKey(privateKeyObject);
  const spki = publicKeyObject.export({ format: "der", type: "spki" });
  return { seed, publicKey: new Uint8Array(spki.subarray(spki.length - 32)), privateKeyObject, publicKeyObject };
}

/** The canonical challenge the handshake signs (169 bytes for the 32-hex-digit nonce below). */
export function challengeObject(n: number) {
  return {
    schema: "chio.federation-kernel-handshake.v1",
    localKernelId: "kernel-a",
    remoteKernelId: "kernel-b",
    nonce: createHash("md5").update(`nonce-${n}`).digest("hex"),
    timestamp: 1764000000,
  };
}

/** node:crypto's KeyObject of a 32-byte Ed25519 public key given in hex (an envelope's declaredPublicKey), by a JWK import. */
export function nodePublicKeyFromHex(hex: string): KeyObject {
  return createPublicKey({ key: { kty: "OKP", crv: "Ed25519", x: Buffer.from(hex, "hex").toString("base64url") }, format: "jwk" });
}

export function nodeSignature(message: Uint8Array, key: KeyFixture): Uint8Array {
  return new Uint8Array(nodeSign(null, message, key.privateKeyObject));
}
