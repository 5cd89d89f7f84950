// A pool worker whose WebAssembly memory cannot grow for a chunk's batch (src/pool/worker.ts):
// it verifies the chunk again with single calls and sends their verdict objects, equal to the
// in-thread ones; an envelope that does not fit even alone fails the call with TASK_FAILED
// (WASM_OUT_OF_MEMORY), not with a verdict that depends on where it ran; and the pool goes on.
// Real workers in a child process whose memory V8 caps (--wasm-max-mem-pages=30: 1.9 MiB; an
// instance starts at 1152 KiB), on the built package.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";

const child = fileURLToPath(new URL("../helpers/pool-memory-child.ts", import.meta.url));

test("a worker short of memory for the batch path answers with single calls: verdicts equal the in-thread ones; too large even alone is TASK_FAILED", () => {
  // 200,000-unit nonces: one envelope fits a capped instance, a chunk of them does not; 400,000 do not fit even alone.
  const out = execFileSync(process.execPath, ["--wasm-max-mem-pages=30", "--import", "tsx", child, "200000", "400000"], { encoding: "utf8", timeout: 300_000 });
  const result = JSON.parse(out.trim().split("\n").pop()!);
  assert.is(result.batchPathFitsHere, false, "the batch path cannot grow under the cap (else the fallback is not what runs)");
  assert.is(result.equal, true, "pool verdicts deep-equal verifyEnvelopeBytes in the calling thread");
  assert.equal(result.verdicts, ["ok", "ok", "ok", "ok", "ok", "ok", "INVALID_SIGNATURE", "MALFORMED_ENVELOPE", "ok"]);
  assert.is(result.hugeInThread, "MALFORMED_ENVELOPE OUT_OF_MEMORY");
  assert.match(result.hugeInPool, /^TASK_FAILED: .*WASM_OUT_OF_MEMORY/);
  // Single calls of one tick: only the one the worker cannot hold fails, with the worker's code as its cause.
  const failed = "VerifierPoolError TASK_FAILED (cause WasmCoreError WASM_OUT_OF_MEMORY)";
  assert.equal(result.singlesInThread.slice(0, 10), [true, true, true, false, true, true, true, true, true, true]);
  assert.is(result.singlesInThread[10], "WasmCoreError WASM_OUT_OF_MEMORY (cause undefined undefined)", "in this thread, the huge message throws for its own call");
  assert.equal(result.singles, [...result.singlesInThread.slice(0, 10), failed], "each call its own outcome");
  assert.is(result.batchWithHuge, failed, "verifyBatch fails whole, as ed25519.verifyBatch throws");
  // Mutation audit P38: the pool looked up a failed item's error by the call's index in the tick
  // instead of the item's index in its chunk, so a call failing in any chunk after the first
  // rejected with undefined (or another call's error). 100 calls on 2 threads, the huge message
  // at call 75, in the second chunk: that call alone fails, with the typed error.
  assert.is(result.twoChunkTasks, 2, "the tick's 100 calls went as two tasks (else the second chunk is not what is tested)");
  const expectedTwoChunks = Array.from({ length: 100 }, (_, i) => (i === 75 ? failed : result.singlesInThread[i % 10]));
  assert.equal(result.twoChunkSingles, expectedTwoChunks, "each call its own outcome, the failed call in the second chunk too");
  assert.equal(result.after, [true], "the pool serves the next call");
});

test.run();
