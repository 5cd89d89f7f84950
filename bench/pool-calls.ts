// How the time of single pool calls is spread (README "Worker pool"): the pool of 1 and of 2
// threads, one call of 256 signatures or envelopes at a time (the calls of the "pool" groups of
// `npm run bench`), each call timed on its own. The bench reports a mean over many calls; this
// shows the distribution under it: on this 2-core machine most calls of 2 threads take about half
// the time of 1 thread, and a minority take up to as long as 1 thread (both workers' chunks ran
// one after the other). `npm run build`, then `node --import tsx bench/pool-calls.ts`.
// Figures are ms per call; each pool runs 2.5 s of warm-up and 3 s of timed calls.
import canonicalizeNpm from "canonicalize";
import { Keypair, KernelTrustExchange } from "../dist/esm/index.js";
import { createVerifierPool, type VerifierPool } from "../dist/esm/pool/index.js";
import { challengeObject, keyFixture, nodeSignature, seedFor } from "./fixtures.js";

const BATCH = 256;
const NOW = 1764000000;
const encoder = new TextEncoder();

const items = Array.from({ length: BATCH }, (_, i) => {
  const key = keyFixture(seedFor(i));
  const message = encoder.encode(canonicalizeNpm(challengeObject(i))!);
  return { signature: nodeSignature(message, key), message, publicKey: key.publicKey };
});
const wire = Array.from({ length: BATCH }, (_, i) =>
  encoder.encode(JSON.stringify(new KernelTrustExchange(`kernel-${i}`, Keypair.fromSeed(seedFor(i))).localEnvelope("kernel-local", `nonce-${i}`, NOW))),
);

interface Spread {
  p10: number;
  p50: number;
  p90: number;
  p99: number;
  mean: number;
}

async function callTimes(call: () => Promise<boolean>): Promise<Spread> {
  for (const end = performance.now() + 2500; performance.now() < end; ) if (!(await call())) throw new Error("a benchmark item does not verify");
  const times: number[] = [];
  for (const end = performance.now() + 3000; performance.now() < end; ) {
    const start = performance.now();
    if (!(await call())) throw new Error("a benchmark item does not verify");
    times.push(performance.now() - start);
  }
  times.sort((a, b) => a - b);
  const at = (q: number) => times[Math.floor(q * (times.length - 1))];
  return { p10: at(0.1), p50: at(0.5), p90: at(0.9), p99: at(0.99), mean: times.reduce((s, t) => s + t, 0) / times.length };
}

const kinds: [string, (pool: VerifierPool) => Promise<boolean>][] = [
  ["signatures", (pool) => pool.verifyBatch(items).then((r) => r.every((ok) => ok))],
  ["envelopes", (pool) => pool.verifyEnvelopeBatch(wire).then((r) => r.every((v) => v.ok))],
];
const fmt = (x: number) => x.toFixed(2).padStart(6);
console.log("kind         threads    p10    p50    p90    p99   mean   (ms per call of 256)");
for (const [kind, call] of kinds) {
  const spread: Spread[] = [];
  for (const threads of [1, 2]) {
    const pool = createVerifierPool({ threads });
    try {
      spread.push(await callTimes(() => call(pool)));
    } finally {
      await pool.close();
    }
    const s = spread[spread.length - 1];
    console.log(`${kind.padEnd(12)} ${String(threads).padStart(7)} ${fmt(s.p10)} ${fmt(s.p50)} ${fmt(s.p90)} ${fmt(s.p99)} ${fmt(s.mean)}`);
  }
  const [one, two] = spread;
  console.log(`${kind.padEnd(12)} 2 threads against 1: ${(one.p50 / two.p50).toFixed(2)}× by the median call, ${(one.mean / two.mean).toFixed(2)}× by the mean`);
}
