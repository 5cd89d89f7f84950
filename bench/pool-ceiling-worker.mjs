// The worker of bench/pool-ceiling.ts: the pool's per-chunk work (verifyEnvelopeBatchPacked, as
// src/pool/worker.ts runs it) on one half of the 256 envelopes, built here once, so a task
// carries only the half's number and answers with the packed verdicts' length. Loaded by
// piscina (its default export) and as a bare worker_threads worker (workerData.bare: a
// message { id, half } answered by { id, length }).
import { parentPort, workerData } from "node:worker_threads";
import { verifyEnvelopeBatchPacked } from "../dist/esm/handshake/verify-envelope.js";
import { CEILING_BATCH, ceilingEnvelopes } from "./pool-ceiling-envelopes.mjs";

const envelopes = ceilingEnvelopes();
const halves = [envelopes.slice(0, CEILING_BATCH / 2), envelopes.slice(CEILING_BATCH / 2)];

export default function verifyHalf(half) {
  const packed = verifyEnvelopeBatchPacked(halves[half]);
  if (packed === undefined) throw new Error("WebAssembly memory cannot grow for the batch");
  return packed.length;
}

if (workerData?.bare === true) parentPort.on("message", ({ id, half }) => parentPort.postMessage({ id, length: verifyHalf(half) }));
