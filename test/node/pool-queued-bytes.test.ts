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


test("a call of several items that counts more than maxQueuedBytes by itself is refused CALL_TOO_LARGE before anything is copied, repeated references counted each time; a single item that large still runs alone (hunt 55)", async () => {
  // Before: such a call was admitted alone on an idle pool and its whole input copied first, one
  // copy per reference: 48 references to one 8 MiB message held 402,805,824 bytes (384 MiB of
  // copies), 2,048 references to one 65,532-unit string 256 MiB, and a call of
  // MAX_VERIFY_BATCH_ITEMS references would have needed terabytes, so the process died.
  const { MAX_VERIFY_BATCH_ITEMS } = poolModule as unknown as Record<string, number>;
  const seed = new Uint8Array(randomBytes(32));
  const publicKey = ed25519.getPublicKey(seed);
  const signed = (message: Uint8Array): Item => ({ signature: ed25519.sign(message, seed), message, publicKey });
  const tooLarge = (outcome: unknown, what: string) => {
    assert.instance(outcome, VerifierPoolError, `${what}: ${String(outcome)}`);
    assert.is((outcome as VerifierPoolError).code, "CALL_TOO_LARGE", `${what}: ${(outcome as Error).message}`);
    assert.match((outcome as Error).message, "split it");
  };
  const refusal = async (pool: VerifierPool, call: () => Promise<unknown>, what: string) => {
    const before = pool.queuedBytes;
    const promise = call();
    assert.is(pool.queuedBytes, before, `${what}: nothing held`);
    tooLarge(await promise.then(() => "admitted", (error: unknown) => error), what);
    assert.is(pool.queuedBytes, before, `${what}: nothing held`);
  };
  const pool = createVerifierPool({ threads: 1 }); // the default bound, 256 MiB
  try {
    const large = signed(new Uint8Array(8 * MiB).fill(7));
    await refusal(pool, () => pool.verifyBatch(new Array(48).fill(large)), "48 references to one 8 MiB message");
    const envelope = "x".repeat(65_532); // within the default maxBytes (65,536): counted whole, 131,076 bytes
    await refusal(pool, () => pool.verifyEnvelopeBatch(new Array(2048).fill(envelope)), "2,048 references to one 65,532-unit string");
    // At the item cap, refused as fast (the sum stops once past the bound).
    assert.is(MAX_VERIFY_BATCH_ITEMS, 2 ** 20);
    await refusal(pool, () => pool.verifyBatch(new Array(MAX_VERIFY_BATCH_ITEMS).fill(large)), "2^20 references to one 8 MiB message");
    await refusal(pool, () => pool.verifyEnvelopeBatch(new Array(MAX_VERIFY_BATCH_ITEMS).fill(envelope)), "2^20 references to one string");
    // The pool answers the next calls, one reference that large among them.
    const few = items(5);
    assert.equal(await pool.verifyBatch([...few, large]), [...few.map((it) => ed25519.verify(it.signature, it.message, it.publicKey)), true]);
    assert.is((await pool.verifyEnvelopeBatch(new Array(2047).fill(envelope))).length, 2047, "2,047 references fit the bound (268,312,572 bytes and the overheads)");
    assert.is(pool.queuedBytes, 0);
    // Refused CALL_TOO_LARGE, not QUEUE_FULL ("retry later"), while the pool holds another call too.
    const held = pool.verifyBatch([large]);
    assert.ok(pool.queuedBytes > 8 * MiB);
    await refusal(pool, () => pool.verifyBatch(new Array(48).fill(large)), "48 references, the pool busy");
    assert.equal(await held, [true]);
    assert.is(pool.queuedBytes, 0);
  } finally {
    await pool.close();
  }
  // A small bound: one item larger than it runs alone on the idle pool (verify, verifyBatch,
  // verifyEnvelopeBatch), as documented; two of them, or two references to it, are refused.
  const small = createVerifierPool({ threads: 1, chunkSize: 1, maxQueuedBytes: MiB });
  try {
    const big = signed(new Uint8Array(1.5 * MiB).fill(3));
    assert.is(await small.verify(big.signature, big.message, big.publicKey), true);
    assert.equal(await small.verifyBatch([big]), [true]);
    assert.is((await small.verifyEnvelopeBatch(["y".repeat(600_000)], { maxBytes: 600_000 })).length, 1);
    await refusal(small, () => small.verifyBatch([big, big]), "two references to a 1.5 MiB message");
    await refusal(small, () => small.verifyBatch([big, signed(new Uint8Array(0))]), "a 1.5 MiB message and an empty one");
    await refusal(small, () => small.verifyEnvelopeBatch(["y".repeat(300_000), "y".repeat(300_000)], { maxBytes: 600_000 }), "two 300,000-unit strings");
    // The exact count decides: input and one task's overhead within the bound, but four tasks
    // (chunkSize 1) past it.
    const share = Math.floor((MiB - POOL_CALL_OVERHEAD_BYTES - 2 * POOL_TASK_OVERHEAD_BYTES) / 4);
    const four = Array.from({ length: 4 }, () => signed(new Uint8Array(share - 96)));
    await refusal(small, () => small.verifyBatch(four), "four items counting one task's overhead within the bound, four tasks' past it");
    // Ordinary calls within the bound are unchanged.
    const fits = four.slice(0, 3);
    assert.equal(await small.verifyBatch(fits), [true, true, true]);
    assert.is(small.queuedBytes, 0);
  } finally {
    await small.close();
  }
});
test.run();
