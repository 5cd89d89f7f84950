// The worker pool (chio-trust/pool): gaps a mutation audit by a helper found untested. Each test
// names what it guards against. Real worker threads from the built pool (dist/), as in
// pool.test.ts; the in-thread calls (src/) are the oracles where the pool must equal them, and
// node:crypto and @noble/curves sign the inputs outside the code under test.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { randomBytes } from "node:crypto";
import { createVerifierPool, VerifierPoolError, type VerifierPool } from "../../dist/esm/pool/index.js";
import { poolInternals } from "../../dist/esm/pool/internals.js";
import { observeCopies } from "../../dist/esm/bytes.js";
// The built pool's chunk allocator (its own module instance), for the OUT_OF_MEMORY fault injection (as pool-hostile.test.ts).
import { chunkMemory as builtChunkMemory } from "../../dist/esm/pool/codec.js";
import { readEnvelopeAnswer, readSignatureAnswer } from "../../src/pool/answers.js";
import { VerifierPoolError as SrcVerifierPoolError } from "../../src/pool/errors.js";
import { ed25519 } from "../../src/ed25519.js";
import { verifyEnvelopeBatch, verifyEnvelopeBytes } from "../../src/handshake/verify-envelope.js";
import { nodeSign, randomScalar, torsionPoints } from "../helpers/ed25519-oracles.js";
import { HANDSHAKE_SCHEMA, canonicalChallenge, envelopeText, signWithNonce, type ChallengeFields } from "../helpers/envelope-builders.js";
import { ed25519 as noble } from "@noble/curves/ed25519.js";
import { rejectsWithCode, settledWithin, throwsWith } from "../helpers/assert-codes.js";

interface Item {
  signature: Uint8Array;
  message: Uint8Array;
  publicKey: Uint8Array;
}

const u8 = (b: Buffer | Uint8Array) => new Uint8Array(b);

/** A node:crypto-signed item over `bytes` random bytes. */
function signed(bytes = 100): Item {
  const seed = randomBytes(32);
  const message = u8(randomBytes(bytes));
  return { signature: nodeSign(seed, message), message, publicKey: ed25519.getPublicKey(seed) };
}

const inThread = (list: Item[], zip215 = false) => list.map((it) => ed25519.verify(it.signature, it.message, it.publicKey, { zip215 }));

/** The pool's private counters (src/pool/index.ts), read where the calls cannot show them (as pool-abort.test.ts does). */
const internals = (p: VerifierPool) => poolInternals<{ attemptsStarted: number; piscina: { run(task: { buffer?: unknown }, options: unknown): Promise<unknown> } }>(p);

// ---- Worker answers (src/pool/answers.ts) ----------------------------------------------------

const Point = noble.Point;

/** A valid envelope over `fields`, signed outside the code under test (@noble/curves points). */
function envelopeOf(fields: Partial<ChallengeFields>): string {
  const a = randomScalar();
  const pk = Point.BASE.multiply(a).toBytes();
  const c: ChallengeFields = { schema: HANDSHAKE_SCHEMA, localKernelId: "kernel.a", remoteKernelId: "kernel.b", nonce: randomBytes(8).toString("hex"), timestamp: 1764000000, ...fields };
  return envelopeText(c, pk, signWithNonce(a, pk, canonicalChallenge(c), randomScalar()));
}

test("a worker's verdict objects: a refusal without its message, an acceptance without its canonical bytes or with a 31-byte key, and verdicts without a failure's report are TASK_FAILED; a u64 (bigint) timestamp is a verdict", () => {
  // A mutation audit found that readEnvelopeAnswer took a refusing verdict with no message, and an
  // accepting one whose canonicalChallenge was not bytes, as verdicts; that it refused an honest
  // verdict with a bigint timestamp (the answer of a worker short of memory, structured-cloned);
  // and that readSignatureAnswer took {verdicts, failures: []} as verdicts with an empty failure
  // map (verifyBatch then rejected with `undefined`).
  const options = { maxBytes: 65536, zip215: false, rejectWeakKeys: true, escapeDelAndC1: false };
  const envelopes = [envelopeOf({}), envelopeOf({ timestamp: 18446744073709551615n }), "{ not json"];
  const expected = envelopes.map((e) => verifyEnvelopeBytes(e, options));
  assert.equal(expected.map((v) => (v.ok ? typeof v.envelope.challenge.timestamp : v.code)), ["number", "bigint", "MALFORMED_ENVELOPE"], "the in-thread verdicts");
  // verifyEnvelopeBatch's own verdicts after postMessage's structured clone: taken as they are.
  assert.equal(readEnvelopeAnswer(structuredClone(verifyEnvelopeBatch(envelopes, options)), options, 3), expected);
  const accepted = structuredClone(expected[0]) as { ok: true; envelope: Record<string, unknown> };
  const refusedVerdict = structuredClone(expected[2]) as Record<string, unknown>;
  const refused: [unknown, string][] = [
    [[{ ok: false, code: "MALFORMED_ENVELOPE" }], "a refusal without its message"],
    [[{ ...refusedVerdict, message: 7 }], "a refusal whose message is not a string"],
    [[{ ...accepted, envelope: { ...accepted.envelope, canonicalChallenge: "bytes" } }], "an acceptance whose canonicalChallenge is not bytes"],
    [[{ ...accepted, envelope: { ...accepted.envelope, canonicalChallenge: undefined } }], "an acceptance without its canonicalChallenge"],
    [[{ ...accepted, envelope: { ...accepted.envelope, declaredPublicKey: new Uint8Array(31) } }], "an acceptance with a 31-byte key"],
  ];
  for (const [answer, what] of refused) assert.instance(throwsWith(() => readEnvelopeAnswer(answer, options, 1), "TASK_FAILED"), SrcVerifierPoolError, what);
  assert.instance(throwsWith(() => readSignatureAnswer({ verdicts: new Uint8Array([1, 0, 1]), failures: [] }, 3), "TASK_FAILED"), SrcVerifierPoolError, "verdicts with an empty failure list");
  assert.instance(throwsWith(() => readSignatureAnswer({ verdicts: new Uint8Array([1, 0, 1]) }, 3), "TASK_FAILED"), SrcVerifierPoolError, "verdicts without a failure list");
});


test("a worker's signature answer of the wrong length or shape is TASK_FAILED, never verdicts: a byte too many or too few, a failed byte without its report, a report for a verdict byte or twice for one item", () => {
  // Hunt 65's mutation run: readSignatureAnswer with `length < count` in place of `!== count`
  // passed every test, and sendSignatures reads every byte of the answer, so a worker's extra
  // byte would have become an extra verdict in verifyBatch's answer.
  const report = (index: number) => ({ index, failed: true as const, name: "WasmCoreError", code: "WASM_OUT_OF_MEMORY", message: "no room" });
  const wrong: [unknown, string][] = [
    [new Uint8Array([1, 0, 1, 1]), "four verdict bytes for three items"],
    [new Uint8Array([1, 0]), "two verdict bytes for three items"],
    [new Uint8Array([1, 2, 1]), "a failed byte in a plain answer"],
    [{ verdicts: new Uint8Array([1, 2, 1, 0]), failures: [report(1)] }, "four bytes with failures, for three items"],
    [{ verdicts: new Uint8Array([1, 2, 2]), failures: [report(1)] }, "a failed byte without its report"],
    [{ verdicts: new Uint8Array([1, 0, 2]), failures: [report(1), report(2)] }, "a report for an item whose byte is a verdict"],
    [{ verdicts: new Uint8Array([1, 2, 1]), failures: [report(1), report(1)] }, "two reports for one item"],
    [{ verdicts: new Uint8Array([1, 3, 1]), failures: [report(0)] }, "a byte that is neither verdict nor failure"],
  ];
  for (const [answer, what] of wrong) assert.instance(throwsWith(() => readSignatureAnswer(answer, 3), "TASK_FAILED"), SrcVerifierPoolError, what);
  // The answers the checks must still take, as the worker sends them.
  assert.equal([...readSignatureAnswer(new Uint8Array([1, 0, 1]), 3).bits], [1, 0, 1]);
  const partly = readSignatureAnswer({ verdicts: new Uint8Array([1, 2, 0]), failures: [report(1)] }, 3);
  assert.equal([...partly.bits], [1, 2, 0]);
  assert.equal([...partly.failed!.keys()], [1]);
  assert.is((partly.failed!.get(1)!.cause as { code?: string }).code, "WASM_OUT_OF_MEMORY");
});

test("a worker's envelope answer with a verdict too many or too few, or an accepted envelope with a 63-byte signature, is TASK_FAILED", () => {
  const options = { maxBytes: 65536, zip215: false, rejectWeakKeys: true, escapeDelAndC1: false };
  const envelopes = [envelopeOf({}), envelopeOf({})];
  const verdicts = structuredClone(verifyEnvelopeBatch(envelopes, options));
  assert.ok(verdicts.every((v) => v.ok), "both envelopes verify in this thread");
  assert.equal(readEnvelopeAnswer(structuredClone(verdicts), options, 2), verdicts);
  throwsWith(() => readEnvelopeAnswer(structuredClone(verdicts), options, 3), "TASK_FAILED");
  throwsWith(() => readEnvelopeAnswer(structuredClone(verdicts), options, 1), "TASK_FAILED");
  const accepted = verdicts[0] as { ok: true; envelope: Record<string, unknown> };
  const shortSignature = { ...accepted, envelope: { ...accepted.envelope, signature: new Uint8Array(63) } };
  throwsWith(() => readEnvelopeAnswer([shortSignature, verdicts[1]], options, 2), "TASK_FAILED");
});
// ---- Options and calls after close() ----------------------------------------------------------

test("createVerifierPool refuses each option just past its bounds: threads 257, chunkSize 0 and 1025, maxWorkerHeapMb 7, with INVALID_CONFIG before any worker starts", () => {
  // A mutation audit found that a wider bound for threads (256) or maxWorkerHeapMb (at least 8),
  // or a chunkSize of 0 (an infinite loop at the first call: ceil(n / 0) tasks), passed every test.
  for (const options of [{ threads: 257 }, { threads: -1 }, { chunkSize: 0 }, { chunkSize: 1025 }, { maxWorkerHeapMb: 7 }, { maxWorkerHeapMb: 0 }]) {
    throwsWith(() => createVerifierPool(options), "INVALID_CONFIG");
  }
});

test("the object createVerifierPool returns has VerifierPool's members only, frozen: no piscina, queue or counters on it (helper 134's walkthrough listed them); queuedBytes is live and the methods work detached", async () => {
  const pool = createVerifierPool({ threads: 1 });
  try {
    assert.equal(Object.keys(pool).sort(), ["close", "queuedBytes", "threads", "verify", "verifyBatch", "verifyEnvelopeBatch"]);
    assert.equal(Reflect.ownKeys(pool).length, 6);
    assert.ok(Object.isFrozen(pool));
    for (const name of ["piscina", "pending", "bytesHeld", "crash", "slotQueue", "attemptsStarted"]) assert.not.ok(name in pool, name);
    assert.is(pool.threads, 1);
    const { verifyBatch } = pool; // detached
    const seed = new Uint8Array(32).fill(9);
    const message = new Uint8Array(3000);
    const signature = ed25519.sign(message, seed);
    const publicKey = ed25519.getPublicKey(seed);
    const answer = verifyBatch([{ signature, message, publicKey }]);
    assert.is(pool.queuedBytes > 3000, true, "the call's input is counted while it is out");
    assert.equal(await answer, [true]);
    assert.is(pool.queuedBytes, 0);
    assert.is(poolInternals<{ threads: number }>(pool).threads, 1, "the implementation is still reachable for tests");
    assert.throws(() => poolInternals({}), /not a pool/);
  } finally {
    await pool.close();
  }
});

test("calls after close() reject POOL_CLOSED before their arguments or options are read", async () => {
  // A mutation audit found that verifyBatch without its first open check passed every test: a
  // call after close() with bad items then rejected INVALID_TYPE (and ran the caller's getters)
  // instead of POOL_CLOSED, which the README promises for every call after close().
  const pool = createVerifierPool({ threads: 1 });
  await pool.close();
  let read = 0;
  const options = {
    get zip215(): boolean {
      read++;
      return false;
    },
  };
  const item = signed();
  await rejectsWithCode(pool.verifyBatch("items" as never), "POOL_CLOSED");
  await rejectsWithCode(pool.verifyBatch([item], options), "POOL_CLOSED");
  await rejectsWithCode(pool.verify(item.signature.subarray(1), item.message, item.publicKey, options), "POOL_CLOSED");
  await rejectsWithCode(pool.verifyEnvelopeBatch("{}" as never), "POOL_CLOSED");
  await rejectsWithCode(pool.verifyEnvelopeBatch(["{}"], options as never), "POOL_CLOSED");
  assert.is(read, 0, "no option getter ran");
  assert.is(pool.queuedBytes, 0);
});

test("single verify() calls of one tick with different zip215 settings each get their own rule", async () => {
  // A mutation audit found that putting every single call of a tick in one bucket (the first
  // call's zip215 for all) passed every test: no test mixed the settings in one tick on items the
  // two rules judge differently. Here small-order A and R with S = 0: ZIP-215 accepts each, and
  // only items the cofactorless rule refuses (checked in thread) are kept.
  const T = torsionPoints();
  const items: Item[] = [];
  while (items.length < 12) {
    const a = T[1 + (randomBytes(1)[0] % 7)].toBytes();
    const forged = new Uint8Array(64);
    forged.set(T[randomBytes(1)[0] % 8].toBytes(), 0);
    const it = { signature: forged, message: u8(randomBytes(20)), publicKey: a };
    if (!ed25519.verify(it.signature, it.message, it.publicKey) && ed25519.verify(it.signature, it.message, it.publicKey, { zip215: true })) items.push(it);
  }
  const pool = createVerifierPool({ threads: 2 });
  try {
    for (const firstZip215 of [false, true]) {
      const zip215Of = (i: number) => (i % 2 === 0) === firstZip215;
      const got = await Promise.all(items.map((it, i) => pool.verify(it.signature, it.message, it.publicKey, { zip215: zip215Of(i) })));
      assert.equal(got, items.map((_, i) => zip215Of(i)), `each call by its own rule (first call zip215 ${firstZip215})`);
    }
  } finally {
    await pool.close();
  }
});

// ---- Retries, close() and the bytes held ----------------------------------------------------

test("a chunk whose workers keep dying is tried exactly twice (once retried), then rejects WORKER_CRASHED", async () => {
  // A mutation audit found that a third attempt passed every test: the calls still rejected
  // WORKER_CRASHED, and nothing counted the attempts (the README: "sent again, once").
  const pool = createVerifierPool({ threads: 1, crashWorkersForTesting: { kind: "exit", attempts: "every" } });
  const piscina = internals(pool).piscina;
  const run = piscina.run.bind(piscina);
  let chunkRuns = 0;
  piscina.run = (task, options) => {
    if (task.buffer !== undefined) chunkRuns++; // not the pool's worker-starting tasks
    return run(task, options);
  };
  try {
    const error = await rejectsWithCode(pool.verifyBatch([signed(), signed()]), "WORKER_CRASHED");
    assert.instance(error, VerifierPoolError);
    assert.is(chunkRuns, 2, "one chunk, two attempts");
    assert.is(internals(pool).attemptsStarted, 2);
    assert.is(((error.cause as AggregateError).errors ?? []).length, 2, "both attempts' errors as the cause");
  } finally {
    await pool.close();
  }
});

test("close() with a single verify() call as the only call in flight waits for its answer", async () => {
  // A mutation audit found that close() skipping its wait when one tracked chunk was left passed
  // every test (each close() test had two or more in flight): the one call was then cut off by
  // the workers' end instead of answered.
  const item = signed();
  const bad = { ...item, signature: item.signature.slice() };
  bad.signature[9] ^= 1;
  for (const it of [item, bad]) {
    const p = createVerifierPool({ threads: 1 });
    const call = p.verify(it.signature, it.message, it.publicKey);
    let settledFirst = false;
    call.then(() => (settledFirst = true), () => undefined);
    await settledWithin(p.close(), "close()");
    assert.ok(settledFirst, "the call settled before close() resolved");
    assert.is(await settledWithin(call, "the call"), inThread([it])[0]);
  }
});

test("a call that fails after it was admitted gives its bytes back: queuedBytes is 0 again, and a call of the whole bound then runs", async () => {
  // A mutation audit found that the bytes admitted for a call were never given back (queuedBytes
  // stayed above 0 for good, and with it QUEUE_FULL for any call larger than what was left) when
  // a call's copy could not be allocated (verify, verifyBatch, verifyEnvelopeBatch, or a tick's
  // single calls), or when a getter closed the pool during verify(); no test read queuedBytes then.
  const MiB = 1024 * 1024;
  const pool = createVerifierPool({ threads: 1, maxQueuedBytes: MiB });
  const item = signed(777);
  try {
    // verify(): its own copy fails (the copy observer of src/bytes.ts, as pool-hostile.test.ts).
    observeCopies((target) => {
      if (target.length === 777) throw new RangeError("Array buffer allocation failed");
    });
    let single: Promise<unknown>;
    try {
      single = pool.verify(item.signature, item.message, item.publicKey);
    } finally {
      observeCopies(undefined);
    }
    await rejectsWithCode(single, "OUT_OF_MEMORY");
    assert.is(pool.queuedBytes, 0, "after verify's copy failed");
    // The batch calls and a tick's single calls: the packed chunk cannot be allocated.
    const realAllocate = builtChunkMemory.allocate;
    let calls: Promise<unknown>[];
    builtChunkMemory.allocate = () => {
      throw new RangeError("Array buffer allocation failed");
    };
    try {
      calls = [pool.verifyBatch([item, item]), pool.verifyEnvelopeBatch([envelopeOf({}), "{}"]), pool.verify(item.signature, item.message, item.publicKey)];
      for (const call of calls) call.catch(() => undefined);
      await new Promise((resolve) => setImmediate(resolve)); // the single call's bucket is packed at the end of its tick
    } finally {
      builtChunkMemory.allocate = realAllocate;
    }
    for (const call of calls) await rejectsWithCode(call, "OUT_OF_MEMORY");
    assert.is(pool.queuedBytes, 0, "after the packed copies failed");
    // Once the bytes are back, a call of the whole bound runs (admitted only when it fits, or when
    // the pool holds nothing and it is one item: a call of several items past the bound by itself
    // is CALL_TOO_LARGE, hunt 55): four items of 255 KiB and the overheads leave 448 bytes.
    const whole = Array.from({ length: 4 }, () => signed(255 * 1024 - 96));
    assert.equal(await settledWithin(pool.verifyBatch(whole), "a call of the whole bound"), [true, true, true, true]);
    assert.is(pool.queuedBytes, 0);
  } finally {
    observeCopies(undefined);
    await pool.close();
  }
  // A getter that closes the pool while verify() reads its options: POOL_CLOSED, nothing held.
  const closing = createVerifierPool({ threads: 1 });
  let closed: Promise<void> | undefined;
  const options = {
    get zip215(): boolean {
      closed = closing.close();
      return false;
    },
  };
  await rejectsWithCode(closing.verify(item.signature, item.message, item.publicKey, options), "POOL_CLOSED");
  assert.is(closing.queuedBytes, 0, "after a getter closed the pool");
  await closed;
});

// ---- Cancelling -------------------------------------------------------------------------------

test("a signal shared by a pending call and a call refused at its checks: aborting it still rejects the pending call ABORTED", async () => {
  // A mutation audit found that the pool stopped listening to a signal when any one of its calls
  // settled, though others on it were pending: no test settled one call on a shared signal before
  // aborting it. Here the second call fails its argument check after its signal is watched, while
  // the first waits for its worker; the abort must still reach the first. Nothing yields between
  // the calls and the abort, so the first cannot have been answered.
  const pool = createVerifierPool({ threads: 1 });
  try {
    const controller = new AbortController();
    const items = [signed(), signed()];
    const pending = pool.verifyBatch(items, { signal: controller.signal });
    pending.catch(() => undefined);
    const refused = pool.verify(items[0].signature.subarray(1), items[0].message, items[0].publicKey, { signal: controller.signal });
    refused.catch(() => undefined);
    controller.abort(new Error("stop"));
    await rejectsWithCode(refused, "INVALID_LENGTH");
    const error = await rejectsWithCode(pending, "ABORTED");
    assert.is((error.cause as Error).message, "stop");
    // The pool goes on.
    assert.equal(await pool.verifyBatch(items), [true, true]);
  } finally {
    await pool.close();
  }
});

test.run();
