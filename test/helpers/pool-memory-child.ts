// Child process of test/node/pool-worker-memory.test.ts, started with a V8 cap on WebAssembly
// memory (--wasm-max-mem-pages, process-wide: the pool's workers get it too), so that a worker's
// batch path cannot grow its memory for a chunk of large envelopes and falls back to
// verifyEnvelopeBatch's single calls (src/pool/worker.ts). Runs the built package (dist/), as a
// deployment does, and prints one JSON line for the parent to check.
//
// Not a suite (no test registered, no test.run()).
import { isDeepStrictEqual } from "node:util";
import { ed25519, KernelTrustExchange, Keypair, verifyEnvelopeBytes } from "../../dist/esm/index.js";
import { verifyEnvelopeBatchPacked } from "../../dist/esm/handshake/verify-envelope.js";
import { createVerifierPool } from "../../dist/esm/pool/index.js";
import { poolInternals } from "../../dist/esm/pool/internals.js";

const [nonceUnits, hugeNonceUnits] = process.argv.slice(2).map(Number);
const options = { maxBytes: 1 << 20 };
const encoder = new TextEncoder();
const seed = (i: number) => Uint8Array.from({ length: 32 }, (_, j) => (i * 31 + j * 7) & 255);
const envelope = (i: number, units: number) =>
  encoder.encode(JSON.stringify(new KernelTrustExchange(`kernel-${i}`, Keypair.fromSeed(seed(i))).localEnvelope("kernel-local", `${"n".repeat(units)}-${i}`, 1_764_000_000)));

// Large envelopes, one with a signature bit flipped (INVALID_SIGNATURE), one cut short (MALFORMED_ENVELOPE), and a small one.
const large = Array.from({ length: 6 }, (_, i) => envelope(i, nonceUnits));
const tampered = envelope(6, nonceUnits);
const at = new TextDecoder().decode(tampered).lastIndexOf('"signature":"') + 14;
tampered[at] = tampered[at] === 0x30 ? 0x31 : 0x30;
const cut = envelope(7, nonceUnits).slice(0, 5000);
const inputs = [...large, tampered, cut, envelope(8, 8)];

const pool = createVerifierPool({ threads: 1 });
try {
  const inThread = inputs.map((input) => verifyEnvelopeBytes(input, options));
  const fromPool = await pool.verifyEnvelopeBatch(inputs, options);
  // One envelope too large for this memory even alone: its in-thread verdict is OUT_OF_MEMORY,
  // which the worker does not hand out as a verdict (it is the worker's memory, not the envelope).
  const huge = envelope(9, hugeNonceUnits);
  const hugeInThread = verifyEnvelopeBytes(huge, options);
  const hugeInPool = await pool.verifyEnvelopeBatch([envelope(10, 8), huge], options).then(
    () => "resolved",
    (error: { code?: string; message?: string }) => `${error.code}: ${error.message}`,
  );
  const after = await pool.verifyEnvelopeBatch([envelope(11, 8)], options);
  // Single verify() calls of one tick travel as one task: one whose message this memory cannot
  // hold fails alone, with the worker's code as the cause, as ed25519.verify throws for it alone
  // in the calling thread (review 48: every call of the tick failed). verifyBatch with it fails whole.
  const seed = (i: number) => Uint8Array.from({ length: 32 }, (_, j) => (i * 13 + j) & 255);
  const small = Array.from({ length: 10 }, (_, i) => {
    const message = encoder.encode(`single call ${i}`);
    const signature = ed25519.sign(message, seed(i));
    if (i === 3) signature[9] ^= 1;
    return { signature, message, publicKey: ed25519.getPublicKey(seed(i)) };
  });
  const hugeMessage = new Uint8Array(3 << 20);
  const outcome = (call: Promise<unknown>) =>
    call.then(
      (value) => value,
      (error: { name?: string; code?: string; cause?: { name?: string; code?: string } } | undefined) => `${error?.name} ${error?.code} (cause ${error?.cause?.name} ${error?.cause?.code})`,
    );
  const singles = await Promise.all([
    ...small.map((item) => outcome(pool.verify(item.signature, item.message, item.publicKey))),
    outcome(pool.verify(small[0].signature, hugeMessage, small[0].publicKey)),
  ]);
  const singlesInThread = [...small.map((item) => ed25519.verify(item.signature, item.message, item.publicKey)), outcome(Promise.resolve().then(() => ed25519.verify(small[0].signature, hugeMessage, small[0].publicKey)))];
  const batchWithHuge = await outcome(pool.verifyBatch([...small, { ...small[0], message: hugeMessage }]));
  // The same across chunks: on 2 threads one tick's 100 single calls go as 2 tasks of 50 (planCall),
  // and the huge message is call 75, item 25 of the second task, so its error is found under the
  // item's index in that task, not the call's index in the tick (mutation audit P38).
  const twoThreads = createVerifierPool({ threads: 2 });
  const piscina = poolInternals<{ piscina: { completed: number } }>(twoThreads).piscina; // tasks finished, read through the private field
  let twoChunkSingles: unknown[];
  let twoChunkTasks: number;
  try {
    twoChunkSingles = await Promise.all(
      Array.from({ length: 100 }, (_, i) => {
        const item = small[i % 10];
        return outcome(twoThreads.verify(item.signature, i === 75 ? hugeMessage : item.message, item.publicKey));
      }),
    );
    twoChunkTasks = piscina.completed;
  } finally {
    await twoThreads.close();
  }
  console.log(
    JSON.stringify({
      batchPathFitsHere: verifyEnvelopeBatchPacked(inputs, options) !== undefined,
      equal: isDeepStrictEqual(fromPool, inThread),
      verdicts: fromPool.map((v) => (v.ok ? "ok" : v.code)),
      hugeInThread: hugeInThread.ok ? "ok" : `${hugeInThread.code} ${"problem" in hugeInThread ? hugeInThread.problem : ""}`,
      hugeInPool,
      after: after.map((v) => v.ok),
      singles,
      singlesInThread: await Promise.all(singlesInThread),
      batchWithHuge,
      twoChunkSingles,
      twoChunkTasks,
    }),
  );
} finally {
  await pool.close();
}
