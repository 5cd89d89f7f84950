// maxQueuedBytes and queuedBytes: what the pool counts for a queued call besides its input (hunt
// 36: a call counted only its input, so tiny calls queued without bound in memory).
import { test } from "uvu";
import * as assert from "uvu/assert";
import { randomBytes } from "node:crypto";
// A namespace import: on a build without the constants the tests fail on their assertions (which
// is how they were shown to fail on the old code), not at link time.
import * as poolModule from "../../dist/esm/pool/index.js";
import { createVerifierPool, VerifierPoolError, type VerifierPool } from "../../dist/esm/pool/index.js";
import { ed25519 } from "../../src/ed25519.js";

const { POOL_CALL_OVERHEAD_BYTES, POOL_TASK_OVERHEAD_BYTES } = poolModule as unknown as Record<string, number>;
const MiB = 1024 * 1024;

interface Item {
  signature: Uint8Array;
  message: Uint8Array;
  publicKey: Uint8Array;
}

/** Valid items with messages of 0 to 199 bytes. */
function items(n: number): Item[] {
  const seed = new Uint8Array(randomBytes(32));
  const publicKey = ed25519.getPublicKey(seed);
  return Array.from({ length: n }, () => {
    const message = new Uint8Array(randomBytes(randomBytes(1)[0] % 200));
    return { signature: ed25519.sign(message, seed), message, publicKey };
  });
}

const codeOf = (outcome: PromiseSettledResult<unknown>) => ((outcome as PromiseRejectedResult).reason as VerifierPoolError | undefined)?.code;

test("maxQueuedBytes bounds the heap of tiny calls too: behind one pending call, a flood of empty-message verify() calls, one-item batches and one-envelope batches is refused QUEUE_FULL after a bounded number (hunt 36)", async () => {
  // Before: a call counted only its input, 96 bytes for an empty-message verify(), 13 for a
  // one-envelope batch, while it held 632–657 and about 3,600 bytes of heap (promise, closures,
  // its task): under a 1 MiB bound every call of each flood below was admitted, and under the
  // default 256 MiB a caller that never awaited could queue 1.7 GB to 40 GB of heap before any
  // QUEUE_FULL. `heap` is a floor of what each call was measured to hold on Node 20
  // (POOL_CALL_OVERHEAD_BYTES, POOL_TASK_OVERHEAD_BYTES): what the admitted calls hold must stay
  // within the bound.
  const seed = new Uint8Array(32).fill(5);
  const empty = new Uint8Array(0);
  const signature = ed25519.sign(empty, seed);
  const publicKey = ed25519.getPublicKey(seed);
  const floods: { what: string; heap: number; call: (pool: VerifierPool) => Promise<unknown>; chunkSize?: number }[] = [
    { what: "empty-message verify()", heap: 600, call: (pool) => pool.verify(signature, empty, publicKey) },
    { what: "one-item verifyBatch", heap: 3_600, call: (pool) => pool.verifyBatch([{ signature, message: empty, publicKey }]) },
    { what: 'verifyEnvelopeBatch([""])', heap: 3_600, call: (pool) => pool.verifyEnvelopeBatch([""]) },
    // Each chunk holds its task (1,874–1,883 bytes measured), however few items it has.
    { what: "100 empty envelopes in chunks of 1", heap: 100 * 1_800, call: (pool) => pool.verifyEnvelopeBatch(Array.from({ length: 100 }, () => "")), chunkSize: 1 },
  ];
  for (const { what, heap, call, chunkSize } of floods) {
    const pool = createVerifierPool({ threads: 1, maxQueuedBytes: MiB, ...(chunkSize === undefined ? {} : { chunkSize }) });
    try {
      const holder = pool.verifyBatch(items(1)); // admit refuses only while the pool holds something
      const outcomes = await Promise.allSettled(Array.from({ length: 5_000 }, () => call(pool)));
      const admitted = outcomes.findIndex((o) => o.status === "rejected");
      assert.ok(admitted >= 0, `${what}: all 5,000 calls admitted under a 1 MiB bound (at least ${5_000 * heap} bytes of heap)`);
      assert.ok(admitted * heap <= MiB, `${what}: ${admitted} calls admitted, at least ${admitted * heap} bytes of heap, under a 1 MiB bound`);
      for (const [i, outcome] of outcomes.entries()) {
        if (i < admitted) assert.is(outcome.status, "fulfilled", `${what}: call ${i}: ${String((outcome as PromiseRejectedResult).reason)}`);
        else assert.is(codeOf(outcome), "QUEUE_FULL", `${what}: call ${i}`);
      }
      await holder;
      assert.is(pool.queuedBytes, 0, `${what}: every byte admitted given back`);
    } finally {
      await pool.close();
    }
  }
});

test("queuedBytes is each call's input plus POOL_CALL_OVERHEAD_BYTES, and POOL_TASK_OVERHEAD_BYTES per task, and returns to 0 once calls settle, fail, are aborted or the pool closes (hunt 36)", async () => {
  const list = items(300);
  const inputs = list.reduce((n, it) => n + 96 + it.message.length, 0);
  const verdicts = list.map((it) => ed25519.verify(it.signature, it.message, it.publicKey));
  const pool = createVerifierPool({ threads: 2, maxQueuedBytes: MiB });
  try {
    // 300 single calls of one tick: three buckets of 128, 128 and 44 items, each counted once as a
    // task (by the call that opened it); each call counted once.
    const singles = list.map((it) => pool.verify(it.signature, it.message, it.publicKey));
    assert.is(pool.queuedBytes, inputs + 300 * POOL_CALL_OVERHEAD_BYTES + 3 * POOL_TASK_OVERHEAD_BYTES);
    assert.equal(await Promise.all(singles), verdicts);
    assert.is(pool.queuedBytes, 0, "single calls settled");
    // Batch calls: each its overhead once and each of its chunks' (300 items: three equal tasks,
    // planCall; 3 envelopes: one; each envelope its bytes, 2 per unit of a string plus 1, and its row).
    const batch = pool.verifyBatch(list);
    const envelopes = pool.verifyEnvelopeBatch(["", "ab", new Uint8Array(3)]);
    assert.is(pool.queuedBytes, inputs + POOL_CALL_OVERHEAD_BYTES + 3 * POOL_TASK_OVERHEAD_BYTES + (12 + 1) + (12 + 5) + (12 + 3) + POOL_CALL_OVERHEAD_BYTES + POOL_TASK_OVERHEAD_BYTES);
    assert.equal(await batch, verdicts);
    assert.is((await envelopes).length, 3);
    assert.is(pool.queuedBytes, 0, "batch calls settled");
    // Empty calls count nothing (and are never refused: review 94 F3).
    const none = [pool.verifyBatch([]), pool.verifyEnvelopeBatch([])];
    assert.is(pool.queuedBytes, 0);
    await Promise.all(none);
    // Aborted calls, single and batch, queued behind others: their bytes come back as their chunks settle or are dropped.
    const controller = new AbortController();
    const running = list.map((it) => pool.verify(it.signature, it.message, it.publicKey));
    const aborted = [
      ...list.slice(0, 50).map((it) => pool.verify(it.signature, it.message, it.publicKey, { signal: controller.signal })),
      pool.verifyBatch(list, { signal: controller.signal }),
      pool.verifyEnvelopeBatch(["", ""], { signal: controller.signal }),
    ];
    assert.ok(pool.queuedBytes > 0);
    controller.abort();
    for (const outcome of await Promise.allSettled(aborted)) assert.is(codeOf(outcome), "ABORTED");
    assert.equal(await Promise.all(running), verdicts);
    const end = Date.now() + 20_000;
    while (pool.queuedBytes !== 0 && Date.now() < end) await new Promise((resolve) => setTimeout(resolve, 5));
    assert.is(pool.queuedBytes, 0, "aborted calls gave their bytes back");
  } finally {
    await pool.close();
  }
  // Calls whose chunks crash on every attempt (WORKER_CRASHED), single and batch, in chunks of 2.
  const crashing = createVerifierPool({ threads: 1, chunkSize: 2, crashWorkersForTesting: { kind: "exit", attempts: "every" } });
  try {
    const few = list.slice(0, 3);
    const outcomes = await Promise.allSettled([...few.map((it) => crashing.verify(it.signature, it.message, it.publicKey)), crashing.verifyBatch(few), crashing.verifyEnvelopeBatch(["", ""])]);
    assert.equal(outcomes.map(codeOf), new Array(5).fill("WORKER_CRASHED"));
    assert.is(crashing.queuedBytes, 0, "failed calls gave their bytes back");
  } finally {
    await crashing.close();
  }
  // Calls still out when close() is called: answered, and nothing held once it resolves.
  const closing = createVerifierPool({ threads: 1 });
  const out = [...list.slice(0, 10).map((it) => closing.verify(it.signature, it.message, it.publicKey)), closing.verifyBatch(list), closing.verifyEnvelopeBatch([""])];
  assert.ok(closing.queuedBytes > 0);
  const closed = closing.close();
  await Promise.all(out);
  await closed;
  assert.is(closing.queuedBytes, 0, "closed with calls out");
});

test.run();
