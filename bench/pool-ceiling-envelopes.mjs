// The envelopes of bench/pool-ceiling.ts, built the same way in the calling thread and in its
// bare workers (a plain ESM module, so a worker thread loads it without a TypeScript loader):
// the 256 envelopes of bench/pool-calls.ts, one per sender, JSON bytes.
import { createHash } from "node:crypto";
import { Keypair, KernelTrustExchange } from "../dist/esm/index.js";

export const CEILING_BATCH = 256;
const NOW = 1764000000;

/** Envelope n as JSON bytes: sender kernel-n with seed SHA-256("chio-bench-seed-" + n), as bench/fixtures.ts's seedFor. */
export function ceilingEnvelope(n) {
  const seed = new Uint8Array(createHash("sha256").update(`chio-bench-seed-${n}`).digest());
  const envelope = new KernelTrustExchange(`kernel-${n}`, Keypair.fromSeed(seed)).localEnvelope("kernel-local", `nonce-${n}`, NOW);
  return new TextEncoder().encode(JSON.stringify(envelope));
}

export function ceilingEnvelopes() {
  return Array.from({ length: CEILING_BATCH }, (_, n) => ceilingEnvelope(n));
}
