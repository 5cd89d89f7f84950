// Handshake envelopes and Ed25519 signatures made outside the code under test, for the suites
// that build envelopes (envelope, envelope-batch, batch-memory, batch-sparse-coefficients, pool): the
// canonical challenge is written out by hand (RFC 8785 §3.2: members in code-unit order, strings
// as JSON.stringify writes them, integers in decimal), and signatures are BigInt over
// @noble/curves points, never chio-trust's own signing.
//
// Not a suite: uvu imports every file under test/, this one included, but it registers no tests.
import { ed25519 as noble } from "@noble/curves/ed25519.js";
import { sha512 } from "@noble/hashes/sha2.js";
import { L, concat, fromLE, le, type NPoint } from "./ed25519-oracles.js";

const Point = noble.Point;
const utf8 = new TextEncoder();
const hex = (b: Uint8Array): string => Buffer.from(b).toString("hex");

/** The schema of chio's kernel handshake (docs/protocol.md). */
export const HANDSHAKE_SCHEMA = "chio.federation-kernel-handshake.v1";

/** A handshake challenge's members (docs/protocol.md), the timestamp as an integer. */
export interface ChallengeFields {
  schema: string;
  localKernelId: string;
  remoteKernelId: string;
  nonce: string;
  timestamp: bigint | number;
}

/**
 * The challenge's canonical bytes, the message its signature covers. With escapeDelAndC1, the form
 * chio's older kernels sign (README "DEL and C1 controls"): U+007F–U+009F as lowercase \u007f…\u009f.
 */
export function canonicalChallenge(c: ChallengeFields, { escapeDelAndC1 = false } = {}): Uint8Array {
  const str = (s: string): string => {
    const text = JSON.stringify(s);
    return escapeDelAndC1 ? text.replace(/[\u007f-\u009f]/g, (ch) => `\\u00${ch.charCodeAt(0).toString(16)}`) : text;
  };
  return utf8.encode(`{"localKernelId":${str(c.localKernelId)},"nonce":${str(c.nonce)},"remoteKernelId":${str(c.remoteKernelId)},"schema":${str(c.schema)},"timestamp":${c.timestamp}}`);
}

/** The envelope's wire text: the challenge's members in the order chio's kernels write them (not canonical), key and signature in lowercase hex. */
export function envelopeText(c: ChallengeFields, publicKey: Uint8Array, signature: Uint8Array): string {
  const challenge = `{"schema":${JSON.stringify(c.schema)},"localKernelId":${JSON.stringify(c.localKernelId)},"remoteKernelId":${JSON.stringify(c.remoteKernelId)},"nonce":${JSON.stringify(c.nonce)},"timestamp":${c.timestamp}}`;
  return `{"challenge":${challenge},"declaredPublicKey":"${hex(publicKey)}","signature":"${hex(signature)}"}`;
}

/**
 * The signature R || S over `message` with R = [r]B + torsion, k = SHA-512(R || publicKey ||
 * message) mod L and S = (r + k·a + delta) mod L (RFC 8032 §5.1.6 with the nonce given). With a
 * the scalar of publicKey's prime-order part, D = [S]B - R - [k]A is [delta]B - torsion - [k]T_A.
 */
export function signWithNonce(a: bigint, publicKey: Uint8Array, message: Uint8Array, r: bigint, torsion: NPoint = Point.ZERO, delta = 0n): Uint8Array {
  const rEncoding = Point.BASE.multiply(r).add(torsion).toBytes();
  const k = fromLE(sha512(concat(rEncoding, publicKey, message))) % L;
  return concat(rEncoding, le((((r + k * a + delta) % L) + L) % L));
}
