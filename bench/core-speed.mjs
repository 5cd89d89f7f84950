// How fast each vCPU of this host runs the same work right now (docs/pool-scaling.md, "Per-core
// speed"): the process re-runs itself pinned to each CPU in turn (`taskset`, util-linux), ROUNDS
// times, and each pinned run times three kinds of work after a 2 s warm-up: 256 envelopes through
// the built core (verifyEnvelopeBatchPacked, as a pool worker runs it), a dependent integer loop
// in JavaScript, and node:crypto's SHA-512 over 64 KiB. `npm run build`, then
// `node bench/core-speed.mjs` (ROUNDS=5 by default). Linux only.
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { availableParallelism } from "node:os";
import { fileURLToPath } from "node:url";

const pinned = process.argv[2];
if (pinned === undefined) {
  const rounds = Number(process.env.ROUNDS ?? 5);
  console.log("cpu  time     envelopes (ms per 256)  JS loop (ms)  SHA-512 (ms per 25 MiB)");
  for (let round = 0; round < rounds; round++) {
    for (let cpu = 0; cpu < availableParallelism(); cpu++) {
      const line = execFileSync("taskset", ["-c", String(cpu), process.execPath, fileURLToPath(import.meta.url), String(cpu)], { encoding: "utf8" });
      console.log(line.trimEnd());
    }
  }
} else {
  const { verifyEnvelopeBatchPacked } = await import("../dist/esm/handshake/verify-envelope.js");
  const { ceilingEnvelopes } = await import("./pool-ceiling-envelopes.mjs");
  const envelopes = ceilingEnvelopes();
  for (const end = performance.now() + 2000; performance.now() < end; ) verifyEnvelopeBatchPacked(envelopes);
  const median = (values) => [...values].sort((a, b) => a - b)[values.length >> 1];
  const wasm = [];
  const loop = [];
  const sha = [];
  const block = Buffer.alloc(1 << 16);
  let x = 0;
  for (let i = 0; i < 3; i++) {
    let start = performance.now();
    let calls = 0;
    while (performance.now() - start < 250) {
      verifyEnvelopeBatchPacked(envelopes);
      calls++;
    }
    wasm.push((performance.now() - start) / calls);
    start = performance.now();
    for (let k = 0; k < 5e7; k++) x = (x * 31 + k) | 0; // each step waits for the last: latency-bound
    loop.push(performance.now() - start);
    start = performance.now();
    for (let k = 0; k < 400; k++) createHash("sha512").update(block).digest();
    sha.push(performance.now() - start);
  }
  const time = new Date().toISOString().slice(11, 19);
  console.log(`${pinned.padEnd(4)} ${time} ${median(wasm).toFixed(2).padStart(12)} ${median(loop).toFixed(0).padStart(22)} ${median(sha).toFixed(0).padStart(13)}`);
  globalThis.coreSpeedSink = x; // the loop's result is used, so it is not optimised away
}
