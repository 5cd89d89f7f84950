import { verifyEnvelopeBatchPacked, readPackedEnvelopeVerdicts } from "./src/handshake/verify-envelope.js";
import { seedFor } from "./bench/fixtures.js";
import { KernelTrustExchange, Keypair } from "./src/handshake/index.js";
const encoder = new TextEncoder();
const envelopeOf = (i: number) => encoder.encode(JSON.stringify(new KernelTrustExchange(`kernel-${i}`, Keypair.fromSeed(seedFor(i))).localEnvelope("kernel-local", `nonce-${i}`, 1765000000)));
const wire = Array.from({ length: 128 }, (_, i) => envelopeOf(i));
const packed = verifyEnvelopeBatchPacked(wire)!;
const end = performance.now() + 4000; let n = 0;
while (performance.now() < end) { readPackedEnvelopeVerdicts(packed); n++; }
console.log((4000 / n / 128 * 1000).toFixed(0), "ns per verdict");
