import { parentPort } from "node:worker_threads";
import { verifyEnvelopeBatchPacked } from "../dist/esm/handshake/verify-envelope.js";
import { ceilingEnvelopes } from "./pool-ceiling-envelopes.mjs";
const envelopes = ceilingEnvelopes();
let counter;
parentPort.on("message", (m) => {
  if (m.counter) { counter = new Int32Array(m.counter); return; }
  const { id, mode, worker, threads, offsets } = m;
  let done = 0;
  if (mode === "static") {
    const per = 256 / threads;
    for (let s = worker * per; s < (worker + 1) * per; s += 128) { verifyEnvelopeBatchPacked(envelopes.slice(s, s + 128)); done += 128; }
  } else {
    for (;;) {
      const u = Atomics.add(counter, 0, 1);
      if (u >= offsets.length - 1) break;
      verifyEnvelopeBatchPacked(envelopes.slice(offsets[u], offsets[u + 1]));
      done += offsets[u + 1] - offsets[u];
    }
  }
  parentPort.postMessage({ id, done });
});
