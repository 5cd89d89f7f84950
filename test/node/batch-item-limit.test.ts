// The batch calls' item limit (MAX_VERIFY_BATCH_ITEMS, src/bytes.ts): ed25519.verifyBatch (and
// verifyBatchAsync), verifyEnvelopeBatch (and verifyEnvelopeBatchPacked) and the worker pool's
// verifyBatch and verifyEnvelopeBatch refuse a list claiming more items with INVALID_LENGTH,
// from its `length` alone, before any item is read. Hunt 53: every item was read and checked
// before any was verified, so a list of VALID items claiming 2^32 − 1 of them (a Proxy answering
// one good item at every index, or a real array of hundreds of millions of references to one
// item) ran the process out of heap, a crash with no typed error. The Proxies here count their
// index reads and throw after a few thousand, so the old code fails these tests (an INVALID_TYPE
// naming that index) instead of filling the heap. The pool is the built entry (its workers load dist/).
import { test } from "uvu";
import * as assert from "uvu/assert";
import { randomBytes } from "node:crypto";
import { ed25519 } from "../../src/ed25519.js";
import { verifyEnvelopeBatch, verifyEnvelopeBatchPacked } from "../../src/handshake/verify-envelope.js";
import { KernelTrustExchange, Keypair } from "../../src/handshake/index.js";
import * as mainEntry from "../../src/index.js";
import * as handshakeEntry from "../../src/handshake/index.js";
import * as builtMain from "../../dist/esm/index.js";
import * as builtPool from "../../dist/esm/pool/index.js";
import { nodePrivateKey, nodeSign } from "../helpers/ed25519-oracles.js";
import { rejectsWithCode, throwsWith } from "../helpers/assert-codes.js";

const LIMIT = mainEntry.MAX_VERIFY_BATCH_ITEMS;
/** Index reads a claiming Proxy answers before it throws (the old code read every one). */
const READS_BEFORE_THROW = 4096;

const seed = randomBytes(32);
const message = new Uint8Array(randomBytes(16));
const goodItem = { signature: new Uint8Array(nodeSign(nodePrivateKey(seed), message)), message, publicKey: ed25519.getPublicKey(seed) };
const goodEnvelope = JSON.stringify(new KernelTrustExchange("kernel-a", Keypair.fromSeed(new Uint8Array(seed))).localEnvelope("kernel-b", "nonce-1", 1764000000));

/** A Proxy of an array claiming `length` elements, each `element`; reads counts its index reads. */
function claiming(length: number, element: unknown): { list: never; reads: () => number } {
  let reads = 0;
  const list = new Proxy([], {
    get(target, key, receiver) {
      if (key === "length") return length;
      if (typeof key === "string" && /^\d+$/.test(key)) {
        reads++;
        if (reads > READS_BEFORE_THROW) throw new Error(`index ${key} read: the list's length was not checked first`);
        return element;
      }
      return Reflect.get(target, key, receiver);
    },
  });
  return { list: list as never, reads: () => reads };
}

test("MAX_VERIFY_BATCH_ITEMS: one number, exported by the main, handshake and pool entries, at least 2^20 and below the array length bound", () => {
  assert.ok(Number.isSafeInteger(LIMIT) && LIMIT >= 2 ** 20 && LIMIT < 2 ** 32 - 1, String(LIMIT));
  assert.is(handshakeEntry.MAX_VERIFY_BATCH_ITEMS, LIMIT);
  assert.is(builtMain.MAX_VERIFY_BATCH_ITEMS, LIMIT);
  assert.is(builtPool.MAX_VERIFY_BATCH_ITEMS, LIMIT);
});

/** The four batch calls in thread and their variants, each as a function of the list; and the pool's two. */
const signatureCalls: [string, (list: never) => unknown][] = [
  ["ed25519.verifyBatch", (list) => ed25519.verifyBatch(list)],
  ["ed25519.verifyBatch (built)", (list) => builtMain.ed25519.verifyBatch(list)],
  ["ed25519.verifyBatchAsync", (list) => ed25519.verifyBatchAsync(list)],
];
const envelopeCalls: [string, (list: never) => unknown][] = [
  ["verifyEnvelopeBatch", (list) => verifyEnvelopeBatch(list)],
  ["verifyEnvelopeBatch (built)", (list) => builtMain.verifyEnvelopeBatch(list)],
  ["verifyEnvelopeBatchPacked", (list) => verifyEnvelopeBatchPacked(list)],
];

/** The error call() threw or its promise rejected with, which must have `code`. */
async function failure(call: () => unknown, code: string): Promise<Error & { code: string }> {
  try {
    await call();
  } catch (error) {
    assert.is((error as { code?: string }).code, code, String(error));
    return error as Error & { code: string };
  }
  throw new assert.Assertion({ message: `expected ${code}`, operator: "throws", expects: code, actual: "answered" });
}

test("a list of valid items claiming 2^32 − 1 or MAX_VERIFY_BATCH_ITEMS + 1 is INVALID_LENGTH in thread, no index read", async () => {
  for (const length of [2 ** 32 - 1, LIMIT + 1]) {
    for (const [name, call, element] of [
      ...signatureCalls.map(([n, c]) => [n, c, goodItem] as const),
      ...envelopeCalls.map(([n, c]) => [n, c, goodEnvelope] as const),
    ]) {
      const first = claiming(length, element);
      const error = await failure(() => call(first.list), "INVALID_LENGTH");
      assert.ok(error.message.includes(String(LIMIT)) && error.message.includes(String(length)), `${name}: ${error.message}`);
      assert.is(first.reads(), 0, `${name}, ${length}: items were read`);
    }
  }
  // A real array of references to one valid item, one above the limit: refused as well.
  const real = new Array(LIMIT + 1).fill(goodItem);
  throwsWith(() => ed25519.verifyBatch(real), "INVALID_LENGTH");
  throwsWith(() => verifyEnvelopeBatch(new Array(LIMIT + 1).fill(goodEnvelope)), "INVALID_LENGTH");
});

test("a list of exactly MAX_VERIFY_BATCH_ITEMS is admitted: a malformed first item is that item's error, naming it", async () => {
  const badItems = new Array(LIMIT).fill(goodItem);
  badItems[0] = { ...goodItem, publicKey: new Uint8Array(31) };
  for (const [name, call] of signatureCalls) {
    const error = await failure(() => call(badItems as never), "INVALID_LENGTH");
    assert.match(error.message, /^items\[0\]\.publicKey must be 32 bytes/, `${name}: ${error.message}`);
  }
  const badEnvelopes: unknown[] = new Array(LIMIT).fill(goodEnvelope);
  badEnvelopes[0] = 42;
  for (const [name, call] of envelopeCalls) {
    const error = await failure(() => call(badEnvelopes as never), "INVALID_TYPE");
    assert.match(error.message, /^envelopes\[0\] must be a string or a Uint8Array/, `${name}: ${error.message}`);
  }
  // A Proxy claiming exactly the limit is read (from its first index) and stops there.
  const proxied = claiming(LIMIT, {});
  throwsWith(() => ed25519.verifyBatch(proxied.list), "INVALID_TYPE");
  assert.is(proxied.reads(), 1);
});

test("the pool: a list claiming 2^32 − 1 or MAX_VERIFY_BATCH_ITEMS + 1 is INVALID_LENGTH, no index read, nothing held; exactly the limit is admitted", async () => {
  const pool = builtPool.createVerifierPool({ threads: 1 });
  try {
    for (const length of [2 ** 32 - 1, LIMIT + 1]) {
      const items = claiming(length, goodItem);
      const error = await rejectsWithCode(pool.verifyBatch(items.list), "INVALID_LENGTH");
      assert.instance(error, builtPool.InvalidLengthError);
      assert.is(items.reads(), 0, `verifyBatch, ${length}`);
      const envelopes = claiming(length, goodEnvelope);
      await rejectsWithCode(pool.verifyEnvelopeBatch(envelopes.list), "INVALID_LENGTH");
      assert.is(envelopes.reads(), 0, `verifyEnvelopeBatch, ${length}`);
    }
    await rejectsWithCode(pool.verifyBatch(new Array(LIMIT + 1).fill(goodItem)), "INVALID_LENGTH");
    const badItems = new Array(LIMIT).fill(goodItem);
    badItems[0] = { ...goodItem, signature: new Uint8Array(63) };
    const itemError = await rejectsWithCode(pool.verifyBatch(badItems), "INVALID_LENGTH");
    assert.match(itemError.message, /^items\[0\]\.signature must be 64 bytes/);
    const badEnvelopes: unknown[] = new Array(LIMIT).fill(goodEnvelope);
    badEnvelopes[0] = null;
    const envelopeError = await rejectsWithCode(pool.verifyEnvelopeBatch(badEnvelopes as never), "INVALID_TYPE");
    assert.match(envelopeError.message, /^envelopes\[0\] must be a string or a Uint8Array/);
    assert.is(pool.queuedBytes, 0);
    // The pool serves the next calls, and its answers are the in-thread ones.
    assert.equal(await pool.verifyBatch([goodItem, { ...goodItem, message: new Uint8Array(1) }]), [true, false]);
    assert.equal((await pool.verifyEnvelopeBatch([goodEnvelope])).map((v) => v.ok), [true]);
  } finally {
    await pool.close();
  }
});

test.run();
