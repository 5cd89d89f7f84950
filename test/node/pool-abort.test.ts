// Cancelling pool calls (PoolCallOptions.signal, README "Worker pool", "Cancelling"): an aborted
// call rejects at once with VerifierPoolError ABORTED (the signal's reason as its cause), its
// chunks still queued are dropped and give their bytes back, a chunk already on a worker finishes
// there, the queue stays first in, first out, the pool listens to a signal once, and every call
// not aborted keeps the in-thread answer (ed25519.verify, verifyEnvelopeBytes; node:crypto signs).
// A call ended by a failed chunk drops its waiting chunks the same way (the last tests).
// Real worker threads from the built pool (dist/), as in pool.test.ts.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { randomBytes } from "node:crypto";
import { getEventListeners } from "node:events";
import { createVerifierPool, POOL_CALL_OVERHEAD_BYTES, POOL_TASK_OVERHEAD_BYTES, VerifierPoolError, type VerifierPool } from "../../dist/esm/pool/index.js";
import { poolInternals } from "../../dist/esm/pool/internals.js";
import { ed25519 } from "../../src/ed25519.js";
import { verifyEnvelopeBytes } from "../../src/handshake/verify-envelope.js";
import { KernelTrustExchange, Keypair } from "../../src/handshake/index.js";
import { nodeSign } from "../helpers/ed25519-oracles.js";
import { settledWithin } from "../helpers/assert-codes.js";
import { scaled } from "../helpers/scale.js";

interface Item {
  signature: Uint8Array;
  message: Uint8Array;
  publicKey: Uint8Array;
}

const u8 = (b: Buffer | Uint8Array) => new Uint8Array(b);

/** A node:crypto-signed item with a message of `bytes` random bytes; every third one tampered. */
function item(bytes: number, index = 0): Item {
  const seed = randomBytes(32);
  const message = u8(randomBytes(bytes));
  const signature = nodeSign(seed, message);
  if (index % 3 === 2) signature[5] ^= 1;
  return { signature, message, publicKey: ed25519.getPublicKey(seed) };
}

const items = (n: number, bytes = 169): Item[] => Array.from({ length: n }, (_, i) => item(bytes, i));
const inThread = (list: Item[]) => list.map((it) => ed25519.verify(it.signature, it.message, it.publicKey));

function envelopes(n: number): string[] {
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    const kp = Keypair.fromSeed(u8(randomBytes(32)));
    const text = JSON.stringify(new KernelTrustExchange(`kernel-${i}`, kp).localEnvelope("kernel-local", `nonce-${i}`, 1764000000 + i));
    out.push(i % 4 === 3 ? text.replace(`nonce-${i}`, `nonce-${i}x`) : text);
  }
  return out;
}

/** The error of a promise that must reject with VerifierPoolError ABORTED. */
async function abortedWith(promise: Promise<unknown>, what: string): Promise<VerifierPoolError> {
  const outcome = await settledWithin(promise, what);
  assert.instance(outcome, VerifierPoolError, `${what}: ${String(outcome)}`);
  assert.is((outcome as VerifierPoolError).code, "ABORTED", `${what}: ${(outcome as Error).message}`);
  return outcome as VerifierPoolError;
}

/** `promise`, marked handled: a test that fails early leaves no unhandled rejection behind it (each is awaited later). */
function handled<T>(promise: Promise<T>): Promise<T> {
  promise.catch(() => {});
  return promise;
}

/** Resolves true once the pool holds no bytes (polled every few milliseconds), false if it still holds some after 20 s. */
async function idle(p: VerifierPool): Promise<boolean> {
  const end = Date.now() + 20_000;
  while (p.queuedBytes !== 0 && Date.now() < end) await new Promise((resolve) => setTimeout(resolve, 5));
  return p.queuedBytes === 0;
}

const nextMacrotask = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * Lets the calls made so far hand out their chunks. A call checks, admits and copies its input on
 * the caller's stack but sends its chunks from a microtask queued as it is made (hunt 17: sent on
 * the caller's stack, a call made near its end could leave promises of the pool's rejected with no
 * handler, other calls pending and bytes counted for good), so an `await` lets them all go out,
 * in call order; no worker's answer is handled meanwhile (those come as macrotasks).
 */
const sent = () => Promise.resolve();

/** The pool's private queue state (src/pool/index.ts), read to check what the calls cannot show. */
interface PoolInternals {
  slotQueue: unknown[];
  slotHead: number;
  droppedWaiters: number;
  attemptsStarted: number;
}
const internals = (p: VerifierPool) => poolInternals<PoolInternals>(p);
const waitingChunks = (p: VerifierPool) => internals(p).slotQueue.length - internals(p).slotHead;

let pool: VerifierPool;
test.before(() => {
  pool = createVerifierPool({ threads: 1, chunkSize: 16 });
});
test.after(async () => {
  await pool.close();
});

test("options.signal must be an AbortSignal: anything else is InvalidTypeError, for each call, and nothing is held", async () => {
  const it = items(1)[0];
  const real = new AbortController().signal;
  const impostors: unknown[] = [null, 1, "signal", {}, { aborted: false, addEventListener() {}, removeEventListener() {} }, new Proxy(real, {}), Object.create(real), Object.create(AbortSignal.prototype), new EventTarget(), AbortSignal];
  for (const signal of impostors) {
    const calls = [
      handled(pool.verify(it.signature, it.message, it.publicKey, { signal } as never)),
      handled(pool.verifyBatch([it], { signal } as never)),
      handled(pool.verifyEnvelopeBatch(envelopes(1), { signal } as never)),
    ];
    for (const [k, call] of calls.entries()) {
      const error = await settledWithin(call, `call ${k}`);
      assert.is((error as { code?: string }).code, "INVALID_TYPE", `${String(signal)} call ${k}: ${String(error)}`);
      assert.match((error as Error).message, /options\.signal must be an AbortSignal/);
    }
  }
  // A Proxy is refused without running its traps (they would run caller code after the argument checks).
  let trapped = 0;
  const count = <T,>(result: T): T => (trapped++, result);
  const spy = new Proxy(real, { get: (t, k) => count(Reflect.get(t, k)), getPrototypeOf: (t) => count(Reflect.getPrototypeOf(t)), has: (t, k) => count(Reflect.has(t, k)) });
  const spied = await settledWithin(pool.verifyBatch([it], { signal: spy }), "proxy");
  assert.is((spied as { code?: string }).code, "INVALID_TYPE");
  assert.is(trapped, 0, "no trap ran");
  // The options are still checked as in-thread: a misspelt member, or a zip215 of the wrong type.
  for (const options of [{ signals: real }, { zip215: 1, signal: real }]) {
    const error = await settledWithin(pool.verifyBatch([it], options as never), "batch");
    assert.is((error as { code?: string }).code, "INVALID_TYPE", String(error));
  }
  const error = await settledWithin(pool.verifyEnvelopeBatch(envelopes(1), { maxBytes: -1, signal: real }), "envelopes");
  assert.ok((error as { code?: string }).code !== undefined && !(error instanceof VerifierPoolError), String(error));
  assert.is(pool.queuedBytes, 0);
  // A signal that never aborts changes nothing: every answer is the in-thread one, and no listener stays.
  const list = items(40);
  assert.equal(await pool.verifyBatch(list, { signal: real, zip215: false }), inThread(list));
  assert.equal(await Promise.all(list.map((x) => pool.verify(x.signature, x.message, x.publicKey, { signal: real }))), inThread(list));
  const envs = envelopes(6);
  assert.equal(await pool.verifyEnvelopeBatch(envs, { signal: real, maxBytes: 4096 }), envs.map((e) => verifyEnvelopeBytes(e, { maxBytes: 4096 })));
  assert.is(getEventListeners(real, "abort").length, 0, "no listener left once the calls settled");
});

test("a call made with an aborted signal rejects ABORTED with the signal's reason as its cause, after its argument checks and before it holds anything", async () => {
  const it = items(1)[0];
  const reason = { why: "shutting down" };
  const controller = new AbortController();
  controller.abort(reason);
  const calls = [
    handled(pool.verify(it.signature, it.message, it.publicKey, { signal: controller.signal })),
    handled(pool.verifyBatch([it, it], { signal: controller.signal, zip215: true })),
    handled(pool.verifyEnvelopeBatch(envelopes(2), { signal: controller.signal })),
  ];
  assert.is(pool.queuedBytes, 0, "nothing held");
  for (const [k, call] of calls.entries()) {
    const error = await abortedWith(call, `call ${k}`);
    assert.is(error.cause, reason, `call ${k}: the signal's own reason`);
  }
  // The default reason is the platform's AbortError; a timeout's, its TimeoutError.
  const byDefault = await abortedWith(pool.verifyBatch([it], { signal: AbortSignal.abort() }), "AbortSignal.abort()");
  assert.is((byDefault.cause as Error).name, "AbortError");
  // Argument errors come first, as the checks run before the signal is looked at.
  const bad = await settledWithin(pool.verify(new Uint8Array(63), it.message, it.publicKey, { signal: controller.signal }), "bad signature");
  assert.is((bad as { code?: string }).code, "INVALID_LENGTH", String(bad));
  assert.is(getEventListeners(controller.signal, "abort").length, 0);
});

test("aborting queued calls: they reject at once, their chunks are dropped and their bytes given back, the calls around them keep their answers in order", async () => {
  // One thread: the first call's chunks take the worker in turn; the calls behind it wait in the pool.
  const first = items(128); // 8 chunks of 16
  const heavy = items(4, 64 * 1024); // 256 KiB of messages: far more than the first call's chunks hold
  const after = items(32);
  const settled: string[] = [];
  const firstCall = handled(pool.verifyBatch(first).then((v) => (settled.push("first"), v)));
  const firstBytes = pool.queuedBytes;
  const controller = new AbortController();
  const queued = handled(pool.verifyBatch(heavy, { signal: controller.signal }));
  const queuedEnvelopes = handled(pool.verifyEnvelopeBatch(envelopes(40), { signal: controller.signal }));
  const single = handled(pool.verify(heavy[0].signature, heavy[0].message, heavy[0].publicKey, { signal: controller.signal }));
  const afterCall = handled(pool.verifyBatch(after).then((v) => (settled.push("after"), v)));
  assert.ok(pool.queuedBytes > firstBytes + 4 * 64 * 1024, "the queued calls hold their copies");
  assert.is(getEventListeners(controller.signal, "abort").length, 1, "one listener for the three calls");
  controller.abort();
  // Rejected before any worker answered: an answer needs a message from the worker (a macrotask).
  for (const [what, call] of [["batch", queued], ["envelopes", queuedEnvelopes], ["single", single]] as const) {
    await abortedWith(call, what);
  }
  assert.equal(settled, [], "the aborted calls settled before the calls around them");
  await nextMacrotask();
  // The single call's item still rides in its chunk (shared with its tick), so its bytes come back
  // with that chunk's answer; the batch calls' bytes are back now. Each call counts its overhead
  // and each of its tasks' (hunt 36): the single call its bucket's, the after call its two chunks'.
  const singleBytes = 64 * 1024 + 1024 + POOL_CALL_OVERHEAD_BYTES + POOL_TASK_OVERHEAD_BYTES;
  const afterBytes = after.length * 300 + POOL_CALL_OVERHEAD_BYTES + 2 * POOL_TASK_OVERHEAD_BYTES;
  assert.ok(pool.queuedBytes <= firstBytes + singleBytes + afterBytes, `dropped chunks gave their bytes back (${pool.queuedBytes})`);
  assert.is(getEventListeners(controller.signal, "abort").length, 0, "the listener went with the abort");
  assert.equal(await settledWithin(firstCall, "first"), inThread(first));
  assert.equal(await settledWithin(afterCall, "after"), inThread(after));
  assert.equal(settled, ["first", "after"], "first in, first out");
  assert.is(pool.queuedBytes, 0);
});

test("aborting a call whose chunk is on a worker: it rejects at once, the chunk finishes there and gives its bytes back, and the pool goes on", async () => {
  const list = items(16, 32 * 1024);
  const controller = new AbortController();
  const running = handled(pool.verifyBatch(list, { signal: controller.signal })); // a free thread: handed to the worker once sent
  const held = pool.queuedBytes;
  assert.ok(held > 16 * 32 * 1024);
  const behind = items(20);
  const behindCall = handled(pool.verifyBatch(behind));
  await sent();
  controller.abort("stop");
  const error = await abortedWith(running, "running call");
  assert.is(error.cause, "stop");
  assert.ok(pool.queuedBytes >= held, "the running chunk is held until its worker answers");
  assert.equal(await settledWithin(behindCall, "behind"), inThread(behind));
  assert.is(pool.queuedBytes, 0, "given back once the worker answered");
  // An abort after the answer changes nothing.
  const done = new AbortController();
  const answered = await pool.verifyEnvelopeBatch(envelopes(3), { signal: done.signal });
  done.abort();
  assert.is(answered.length, 3);
});

test("one signal shared by many calls: one listener while they are pending, none after; aborting it rejects every pending call with an error of its own", async () => {
  const controller = new AbortController();
  const { signal } = controller;
  const list = items(scaled(200));
  const batches = Array.from({ length: 10 }, (_, i) => list.slice(i * 20, i * 20 + 20));
  const calls: Promise<unknown>[] = [];
  const blocker = handled(pool.verifyBatch(items(64))); // keeps the signalled calls queued
  for (const x of list) calls.push(handled(pool.verify(x.signature, x.message, x.publicKey, { signal })));
  for (const batch of batches) calls.push(handled(pool.verifyBatch(batch, { signal })));
  assert.is(getEventListeners(signal, "abort").length, 1);
  controller.abort(new Error("deadline"));
  const errors = await Promise.all(calls.map((c, i) => abortedWith(c, `call ${i}`)));
  assert.is(new Set(errors).size, errors.length, "an error object per call");
  assert.ok(errors.every((e) => (e.cause as Error).message === "deadline"));
  assert.is(getEventListeners(signal, "abort").length, 0);
  await settledWithin(blocker, "blocker");
  // The same signal left pending on calls that all answer: the listener goes with the last one.
  const calm = new AbortController();
  const answers = await Promise.all(list.map((x) => pool.verify(x.signature, x.message, x.publicKey, { signal: calm.signal })));
  assert.equal(answers, inThread(list));
  assert.is(getEventListeners(calm.signal, "abort").length, 0);
  assert.is(pool.queuedBytes, 0);
});

test("thousands of queued calls aborted one after another behind a long call: the queue sheds them, stays in order, and loses no place", async () => {
  const long = items(256); // 16 chunks: the worker is busy while the calls below are made and aborted
  const longCall = handled(pool.verifyBatch(long));
  const aborted: Promise<unknown>[] = [];
  const kept: { call: Promise<boolean[]>; items: Item[]; index: number }[] = [];
  const order: number[] = [];
  const small = items(8);
  // The loop below yields only to microtasks (its calls' sends), so no worker's answer is handled
  // and no place in the pool frees up while it runs: every aborted call's chunk stays queued,
  // dropped, until compaction removes it.
  let mostWaiting = 0;
  for (let i = 0; i < 3000; i++) {
    const controller = new AbortController();
    const call = handled(pool.verifyBatch([small[i % 8]], { signal: controller.signal }));
    await sent(); // queued before it is aborted (and a kept call's chunk too, made the round before)
    mostWaiting = Math.max(mostWaiting, waitingChunks(pool));
    if (i % 500 === 499) {
      const it = [small[i % 8]];
      kept.push({ call: handled(pool.verifyBatch(it).then((v) => (order.push(i), v))), items: it, index: i });
    }
    controller.abort();
    aborted.push(call);
  }
  assert.ok(mostWaiting <= 1024 + 32, `dropped chunks are cleared from the queue once over 1,024 (at most ${mostWaiting} waited)`);
  assert.ok(mostWaiting > 1000, `the scenario happened: ${mostWaiting} chunks waited at most`);
  for (const [i, call] of aborted.entries()) await abortedWith(call, `aborted ${i}`);
  assert.equal(await settledWithin(longCall, "long"), inThread(long));
  for (const k of kept) assert.equal(await settledWithin(k.call, `kept ${k.index}`), inThread(k.items));
  assert.equal(order, kept.map((k) => k.index), "the calls not aborted settle first in, first out");
  assert.is(pool.queuedBytes, 0);
  assert.is(waitingChunks(pool), 0);
  assert.is(internals(pool).droppedWaiters, 0, "every dropped chunk counted out");
});

test("a chunk handed its place from the queue before the abort runs to its end; the chunks behind it are dropped and counted out", async () => {
  const first = items(16); // one chunk: it takes the worker
  const controller = new AbortController();
  const firstCall = handled(pool.verifyBatch(first));
  const later = handled(pool.verifyBatch(items(48), { signal: controller.signal })); // three chunks, queued
  await sent();
  assert.is(waitingChunks(pool), 3);
  // The first call settles after its chunk handed the place to the later call's first chunk.
  assert.equal(await settledWithin(firstCall, "first"), inThread(first));
  assert.is(waitingChunks(pool), 2);
  controller.abort();
  await abortedWith(later, "later");
  assert.is(await settledWithin(idle(pool), "idle"), true);
  assert.is(waitingChunks(pool), 0);
  assert.is(internals(pool).droppedWaiters, 0, "the two dropped chunks, and not the one that ran, were counted and passed over");
});

test("a chunk whose worker crashed is not retried once its call was aborted", async () => {
  const crashing = createVerifierPool({ threads: 1, crashWorkersForTesting: { kind: "exit", attempts: "first" } });
  try {
    // Without an abort, each chunk's first attempt dies and its retry answers: two attempts.
    const list = items(8);
    assert.equal(await settledWithin(crashing.verifyBatch(list), "not aborted"), inThread(list));
    assert.is(internals(crashing).attemptsStarted, 2);
    // Aborted while its first attempt runs: that attempt dies, and no second is made.
    const controller = new AbortController();
    const call = handled(crashing.verifyBatch(items(8), { signal: controller.signal }));
    await sent(); // its first attempt is on the worker
    controller.abort();
    await abortedWith(call, "aborted");
    assert.is(await settledWithin(idle(crashing), "idle"), true);
    assert.is(internals(crashing).attemptsStarted, 3, "one attempt for the aborted call");
    // The pool still answers (a replacement worker).
    assert.equal(await settledWithin(crashing.verifyBatch(list), "after"), inThread(list));
  } finally {
    await crashing.close();
  }
});

test("a signal whose internal members are redefined as getters (review 95 F1): read only while the options are read, and a reason that throws still aborts every call", async () => {
  const controller = new AbortController();
  const { signal } = controller;
  const symbols = Object.getOwnPropertySymbols(signal);
  const kAborted = symbols.find((s) => s.description === "kAborted");
  const kReason = symbols.find((s) => s.description === "kReason");
  assert.ok(kAborted !== undefined && kReason !== undefined, `Node 20 keeps a signal's state in own symbol members (${symbols.map(String).join(", ")})`);
  let abortedValue = false;
  let itemsRead = false;
  let readsAfterItems = 0;
  Object.defineProperty(signal, kAborted, {
    get() {
      if (itemsRead) readsAfterItems++;
      return abortedValue;
    },
    set(value: boolean) {
      abortedValue = value;
    },
    configurable: true,
  });
  const list = items(3);
  const withGetter = list.map((x, i) => ({
    get signature() {
      if (i === list.length - 1) itemsRead = true; // from here on, no caller code may run before the copy
      return x.signature;
    },
    message: x.message,
    publicKey: x.publicKey,
  }));
  assert.equal(await settledWithin(pool.verifyBatch(withGetter, { signal }), "batch"), inThread(list));
  const envs = envelopes(3);
  itemsRead = false;
  const envelopeList = new Proxy(envs, { get: (t, k) => ((k === "2" ? (itemsRead = true) : 0), Reflect.get(t, k)) });
  assert.equal(await settledWithin(pool.verifyEnvelopeBatch(envelopeList, { signal }), "envelopes"), envs.map((e) => verifyEnvelopeBytes(e)));
  assert.is(readsAfterItems, 0, "the signal is not read after the items");
  // A getter for the aborted state that throws is refused as the options are read.
  const broken = new AbortController().signal;
  Object.defineProperty(broken, kAborted, { get: () => { throw new Error("boom"); }, configurable: true });
  const refused = await settledWithin(pool.verifyBatch(list, { signal: broken }), "broken");
  assert.is((refused as { code?: string }).code, "INVALID_TYPE", String(refused));
  // A reason that throws when read: every pending call still rejects ABORTED (without a cause), and nothing is thrown.
  const uncaught: unknown[] = [];
  const onUncaught = (error: unknown) => uncaught.push(error);
  process.on("uncaughtException", onUncaught);
  try {
    const second = new AbortController();
    Object.defineProperty(second.signal, kReason, { get: () => { throw new Error("no reason"); }, set: () => {}, configurable: true });
    const blocker = handled(pool.verifyBatch(items(32)));
    const calls = [handled(pool.verifyBatch(items(4), { signal: second.signal })), handled(pool.verifyEnvelopeBatch(envelopes(2), { signal: second.signal }))];
    second.abort();
    for (const [i, call] of calls.entries()) {
      const error = await abortedWith(call, `call ${i}`);
      assert.is(error.cause, undefined);
    }
    await settledWithin(blocker, "blocker");
    await nextMacrotask();
    assert.equal(uncaught, []);
  } finally {
    process.off("uncaughtException", onUncaught);
  }
  assert.is(await settledWithin(idle(pool), "idle"), true);
});

test("a call that fails after its signal is watched leaves no listener: bad arguments, QUEUE_FULL, a pool closed by a getter (review 97)", async () => {
  const controller = new AbortController();
  const { signal } = controller;
  const [it] = items(1);
  const failures: [string, Promise<unknown>, string][] = [
    ["batch, short signature", pool.verifyBatch([{ ...it, signature: new Uint8Array(3) }], { signal }), "INVALID_LENGTH"],
    ["single, short signature", pool.verify(new Uint8Array(3), it.message, it.publicKey, { signal }), "INVALID_LENGTH"],
    ["envelopes, not bytes", pool.verifyEnvelopeBatch([1 as never], { signal }), "INVALID_TYPE"],
  ];
  const small = createVerifierPool({ threads: 1, maxQueuedBytes: 1 << 20 });
  try {
    // Nearly the whole bound: 4 items of 255 KiB and the overheads leave 448 bytes (a call of
    // several items past the bound by itself is refused CALL_TOO_LARGE: hunt 55).
    const large = handled(small.verifyBatch(items(4, 255 * 1024 - 96)));
    failures.push(["batch, queue full", small.verifyBatch([it], { signal }), "QUEUE_FULL"]);
    failures.push(["single, queue full", small.verify(it.signature, it.message, it.publicKey, { signal }), "QUEUE_FULL"]);
    const closing = createVerifierPool({ threads: 1 });
    const closer = [{ get signature() { void closing.close(); return it.signature; }, message: it.message, publicKey: it.publicKey }];
    failures.push(["batch, pool closed by a getter", closing.verifyBatch(closer, { signal }), "POOL_CLOSED"]);
    for (const [what, call, code] of failures) {
      const error = await settledWithin(call, what);
      assert.is((error as { code?: string }).code, code, `${what}: ${String(error)}`);
    }
    assert.is(getEventListeners(signal, "abort").length, 0, "no listener left");
    await settledWithin(large, "large");
    await closing.close();
  } finally {
    await small.close();
  }
});

test("an abort from an item's getter, while another call on the signal is queued: both reject ABORTED, the call holds nothing, no listener is left", async () => {
  for (const kind of ["signatures", "envelopes"] as const) {
    const controller = new AbortController();
    const { signal } = controller;
    const blocker = handled(pool.verifyBatch(items(64)));
    const queued = handled(pool.verifyBatch(items(16), { signal }));
    const before = pool.queuedBytes;
    let during: Promise<unknown>;
    if (kind === "signatures") {
      const list = items(3).map((x, i) => ({
        get signature() {
          if (i === 1) controller.abort();
          return x.signature;
        },
        message: x.message,
        publicKey: x.publicKey,
      }));
      during = handled(pool.verifyBatch(list, { signal }));
    } else {
      const envs = envelopes(3);
      during = handled(pool.verifyEnvelopeBatch(new Proxy(envs, { get: (t, k) => ((k === "1" ? controller.abort() : 0), Reflect.get(t, k)) }), { signal }));
    }
    assert.is(pool.queuedBytes, before, `${kind}: the call aborted while it read its items holds nothing`);
    await abortedWith(during, `${kind}: aborted while reading`);
    await abortedWith(queued, `${kind}: queued on the same signal`);
    assert.is(getEventListeners(signal, "abort").length, 0);
    await settledWithin(blocker, "blocker");
  }
  assert.is(await settledWithin(idle(pool), "idle"), true);
});

test("a signal whose addEventListener throws after adding the pool's listener (a redefined kNewListener hook, beside a listener of the caller's): INVALID_TYPE, and only the caller's listener is left", async () => {
  for (const kind of ["verify", "verifyBatch", "verifyEnvelopeBatch"] as const) {
    const controller = new AbortController();
    const { signal } = controller;
    // Node's EventTarget adds a listener to a type's list and then calls this[kNewListener]: when
    // the type has a listener already, the new one is in the list by the time the hook runs.
    let kNewListener: symbol | undefined;
    for (let o: object | null = signal; o !== null && kNewListener === undefined; o = Object.getPrototypeOf(o)) {
      kNewListener = Object.getOwnPropertySymbols(o).find((s) => s.description === "kNewListener");
    }
    assert.ok(kNewListener !== undefined, "Node's EventTarget has a kNewListener hook");
    const callers = () => undefined;
    signal.addEventListener("abort", callers);
    Object.defineProperty(signal, kNewListener, { value: () => { throw new Error("hook"); }, configurable: true });
    const before = pool.queuedBytes;
    const it = items(1)[0];
    const call =
      kind === "verify" ? pool.verify(it.signature, it.message, it.publicKey, { signal })
      : kind === "verifyBatch" ? pool.verifyBatch(items(2), { signal })
      : pool.verifyEnvelopeBatch(envelopes(2), { signal });
    const error = await settledWithin(handled(call as Promise<unknown>), kind);
    assert.is((error as { code?: string }).code, "INVALID_TYPE", `${kind}: ${String(error)}`);
    assert.match((error as Error).message, /options\.signal cannot be listened to/);
    const left = getEventListeners(signal, "abort");
    assert.ok(left.length === 1 && left[0] === callers, `${kind}: ${left.length} listeners on the signal, the caller's one expected (the pool's is not left)`);
    assert.is(pool.queuedBytes, before, `${kind}: nothing held`);
  }
  assert.is(await settledWithin(idle(pool), "idle"), true);
});

test("caller code run while the pool adds its listener (a redefined event-map member, review 97): a nested call on the same signal shares the listener, and an abort there is not missed", async () => {
  const make = () => {
    const controller = new AbortController();
    const kEvents = Object.getOwnPropertySymbols(controller.signal).find((s) => s.description === "kEvents");
    assert.ok(kEvents !== undefined, "Node 20 keeps a signal's listeners in an own symbol member");
    const events = (controller.signal as unknown as Record<symbol, unknown>)[kEvents];
    let hook: (() => void) | undefined;
    Object.defineProperty(controller.signal, kEvents, {
      get() {
        const run = hook;
        hook = undefined;
        run?.();
        return events;
      },
      configurable: true,
    });
    return { controller, arm: (f: () => void) => (hook = f) };
  };
  // A call made from inside the pool's addEventListener, on the same signal.
  const first = make();
  const outerItems = items(4);
  const innerItems = items(2);
  let inner: Promise<boolean[]> | undefined;
  first.arm(() => (inner = handled(pool.verifyBatch(innerItems, { signal: first.controller.signal }))));
  const outer = handled(pool.verifyBatch(outerItems, { signal: first.controller.signal }));
  assert.ok(inner !== undefined, "the nested call was made while the listener was added");
  assert.equal(await settledWithin(outer, "outer"), inThread(outerItems));
  assert.equal(await settledWithin(inner!, "inner"), inThread(innerItems));
  assert.is(getEventListeners(first.controller.signal, "abort").length, 0, "no listener left behind");
  // A nested call from inside the pool's addEventListener, then an abort from the next read of the
  // member (the pool removing its spare listener): both calls reject ABORTED.
  const third = make();
  let nested: Promise<boolean[]> | undefined;
  third.arm(() => {
    nested = handled(pool.verifyBatch(items(2), { signal: third.controller.signal }));
    third.arm(() => third.controller.abort("later"));
  });
  const joined = handled(pool.verifyBatch(items(3), { signal: third.controller.signal }));
  assert.ok(nested !== undefined);
  assert.is((await abortedWith(joined, "the call that joined the nested call's listener")).cause, "later");
  assert.is((await abortedWith(nested!, "the nested call")).cause, "later");
  assert.is(getEventListeners(third.controller.signal, "abort").length, 0);
  // An abort from inside the pool's addEventListener: the call still sees it.
  const second = make();
  second.arm(() => second.controller.abort("now"));
  const error = await abortedWith(pool.verifyBatch(items(2), { signal: second.controller.signal }), "aborted while the listener was added");
  assert.is(error.cause, "now");
  assert.is(getEventListeners(second.controller.signal, "abort").length, 0);
});

test("random mixes: every call either answers as in-thread or, if its signal aborted first, rejects ABORTED; then the pool is idle and close() settles", async () => {
  const local = createVerifierPool({ threads: 2, chunkSize: 8 });
  try {
    for (let round = 0; round < scaled(4); round++) {
      const jobs: { call: Promise<unknown>; expect: unknown; controller?: AbortController; when: number }[] = [];
      for (let c = 0; c < 40; c++) {
        const kind = randomBytes(1)[0] % 3;
        const when = randomBytes(1)[0] % 4; // 0: never aborted, 1: at once, 2: after a microtask, 3: after a macrotask
        const controller = when === 0 && randomBytes(1)[0] % 2 === 0 ? undefined : new AbortController();
        const options = controller === undefined ? undefined : { signal: controller.signal };
        if (kind === 0) {
          const list = items(1 + (randomBytes(1)[0] % 40));
          jobs.push({ call: handled(local.verifyBatch(list, options)), expect: inThread(list), controller, when });
        } else if (kind === 1) {
          const [x] = items(1);
          jobs.push({ call: handled(local.verify(x.signature, x.message, x.publicKey, options)), expect: inThread([x])[0], controller, when });
        } else {
          const envs = envelopes(1 + (randomBytes(1)[0] % 6));
          jobs.push({ call: handled(local.verifyEnvelopeBatch(envs, options)), expect: envs.map((e) => verifyEnvelopeBytes(e)), controller, when });
        }
      }
      for (const job of jobs) if (job.when === 1) job.controller?.abort();
      await Promise.resolve();
      for (const job of jobs) if (job.when === 2) job.controller?.abort();
      await nextMacrotask();
      for (const job of jobs) if (job.when === 3) job.controller?.abort();
      for (const [i, job] of jobs.entries()) {
        const outcome = await settledWithin(job.call, `round ${round} call ${i}`);
        if (outcome instanceof VerifierPoolError) {
          assert.is(outcome.code, "ABORTED", outcome.message);
          assert.ok(job.controller !== undefined && job.when > 0, `call ${i} rejected ABORTED although never aborted`);
        } else {
          assert.equal(outcome, job.expect, `round ${round} call ${i}`);
        }
        if (job.controller !== undefined) assert.is(getEventListeners(job.controller.signal, "abort").length, 0);
      }
      const mustAbort = jobs.filter((j) => j.when === 1);
      for (const job of mustAbort) assert.instance(await settledWithin(job.call, "aborted at once"), VerifierPoolError);
      // An aborted single verify() gave up only its promise: its chunk still holds its bytes until answered.
      assert.is(await settledWithin(idle(local), `round ${round}: idle`), true);
    }
  } finally {
    assert.is(await settledWithin(local.close(), "close"), undefined);
  }
});

interface PiscinaTask {
  buffer?: unknown;
  crash: number;
}

/**
 * `p`'s piscina.run wrapped: every task's chunk buffer is recorded, in the order the tasks are
 * handed over (the array returned), and `change(task, run, isFirstChunk)` runs each task, the
 * original run at hand.
 */
function wrapRuns(p: VerifierPool, change: (task: PiscinaTask, run: (task: PiscinaTask) => Promise<unknown>, isFirstChunk: boolean) => Promise<unknown>): unknown[] {
  const piscina = poolInternals<{ piscina: { run(task: PiscinaTask, options: unknown): Promise<unknown> } }>(p).piscina;
  const run = piscina.run.bind(piscina);
  const runs: unknown[] = [];
  piscina.run = (task, options) => {
    runs.push(task.buffer);
    return change(task, (t) => run(t, options), task.buffer !== undefined && task.buffer === runs[0]);
  };
  return runs;
}

/** The tasks of the first chunk handed over crash their worker (process.exit in the worker thread: the pool's CRASH_EXIT), on both attempts. */
const crashFirstChunk = (p: VerifierPool): unknown[] => wrapRuns(p, (task, run, first) => run(first ? { ...task, crash: 1 /* CRASH_EXIT */ } : task));

for (const kind of ["verifyBatch", "verifyEnvelopeBatch"] as const) {
  test(`${kind}: a call whose chunk failed drops its chunks still waiting (never run, bytes given back at once); a call queued behind them keeps its answer`, async () => {
    // Before: only an abort dropped a call's waiting chunks. A call rejected with WORKER_CRASHED
    // still ran each of its other chunks in turn, for an answer nobody reads, and their bytes
    // counted against maxQueuedBytes all that time (a failed call of 600 MB refused every other
    // call with QUEUE_FULL for 12 s).
    const local = createVerifierPool({ threads: 1, chunkSize: 8 });
    try {
      const runs = crashFirstChunk(local);
      const signatures = items(24);
      const texts = envelopes(24);
      const laterItems = items(8);
      const failing = handled<unknown>(kind === "verifyBatch" ? local.verifyBatch(signatures) : local.verifyEnvelopeBatch(texts)); //  3 chunks
      const later = handled(local.verifyBatch(laterItems)); //                                                               1 chunk, queued behind them
      await sent();
      assert.is(waitingChunks(local), 3, "the failing call's last two chunks and the later call's chunk wait");
      const outcome = await settledWithin(failing, "the failing call");
      assert.instance(outcome, VerifierPoolError, String(outcome));
      assert.is((outcome as VerifierPoolError).code, "WORKER_CRASHED");
      await nextMacrotask();
      assert.is(waitingChunks(local), 0, "the failed call's chunks were dropped and passed over: the later call's chunk took the place");
      assert.is(internals(local).droppedWaiters, 0);
      assert.equal(await settledWithin(later, "the later call"), inThread(laterItems));
      assert.is(await settledWithin(idle(local), "idle"), true);
      assert.is(runs.length, 3, "the failed chunk's two attempts, then the later call's chunk: the failed call's other chunks never ran");
      assert.is(runs[0], runs[1]);
    } finally {
      await local.close();
    }
  });
}

test("a chunk whose worker reports that verification threw (TASK_FAILED) ends its call at once too: the call's waiting chunks never run, the next call's chunk takes the place", async () => {
  const local = createVerifierPool({ threads: 1, chunkSize: 8 });
  try {
    // The first chunk's answer is a worker's report of a throw (a TaskFailure, codec.ts), as for
    // WASM_OUT_OF_MEMORY; every other chunk runs as usual.
    const runs = wrapRuns(local, async (task, run, first) => {
      const answer = await run(task);
      return first ? { failed: true, name: "WasmCoreError", code: "WASM_OUT_OF_MEMORY", message: "out of memory (reported)" } : answer;
    });
    const laterItems = items(5);
    const failing = handled(local.verifyBatch(items(24))); // 3 chunks
    const later = handled(local.verifyBatch(laterItems));
    const outcome = await settledWithin(failing, "the failing call");
    assert.is((outcome as VerifierPoolError).code, "TASK_FAILED", String(outcome));
    assert.is(((outcome as VerifierPoolError).cause as { code?: string }).code, "WASM_OUT_OF_MEMORY");
    assert.equal(await settledWithin(later, "the later call"), inThread(laterItems));
    assert.is(await settledWithin(idle(local), "idle"), true);
    assert.is(runs.length, 2, "the failed chunk, then the later call's chunk: the failed call's other chunks never ran");
  } finally {
    await local.close();
  }
});

test("a failed call's bytes come back when it rejects: the pool takes a call that its waiting chunks' bytes would have refused (QUEUE_FULL)", async () => {
  // threads 1, chunks of 1 item of 512 KiB: the failing call holds 4 MiB in 8 chunks, within the
  // 5 MiB bound (a call of several items larger than the bound is refused CALL_TOO_LARGE: hunt
  // 55), but with a call of 1.5 MiB past it. Once it has rejected, the pool holds only what still
  // runs, and that call is taken.
  const local = createVerifierPool({ threads: 1, chunkSize: 1, maxQueuedBytes: 5 * 1024 * 1024 });
  try {
    crashFirstChunk(local);
    const failing = handled(local.verifyBatch(items(8, 512 * 1024)));
    assert.ok(local.queuedBytes > 4 * 1024 * 1024, String(local.queuedBytes));
    const outcome = await settledWithin(failing, "the failing call");
    assert.is((outcome as VerifierPoolError).code, "WORKER_CRASHED");
    await nextMacrotask();
    assert.is(local.queuedBytes, 0, "nothing of the failed call is held");
    const next = items(3, 512 * 1024);
    assert.equal(await settledWithin(local.verifyBatch(next), "the next call"), inThread(next));
  } finally {
    await local.close();
  }
});

/** A chunk's real answer (its verdict bytes) with item `index` turned into one that threw in the worker, as WASM_OUT_OF_MEMORY makes it (worker.ts verifyOneByOne). */
function itemThrew(answer: unknown, index: number, message: string): unknown {
  const verdicts = Uint8Array.prototype.slice.call(answer as Uint8Array);
  verdicts[index] = 2; // SIGNATURE_ITEM_FAILED
  return { verdicts, failures: [{ failed: true, name: "WasmCoreError", code: "WASM_OUT_OF_MEMORY", message, index }] };
}

const delay = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

for (const answered of ["an item that threw", "an answer of the wrong shape"] as const) {
  test(`verifyBatch: ${answered} in the first chunk rejects the call before its place is handed on: the call's waiting chunks never run, the next call's chunk takes the place`, async () => {
    // Before: only a whole chunk's failure ended the call early. An item that threw
    // (SIGNATURE_ITEM_FAILED) rejected verifyBatch only once every chunk had run, each in turn,
    // for an answer nobody reads, its bytes held against maxQueuedBytes all that time; an answer
    // of the wrong shape (which the pool's own workers never give) let the next chunk take the place.
    const local = createVerifierPool({ threads: 1, chunkSize: 8 });
    try {
      const runs = wrapRuns(local, async (task, run, first) => {
        const answer = await run(task);
        if (!first) return answer;
        return answered === "an item that threw" ? itemThrew(answer, 3, "the first chunk's item 3") : { verdicts: "none" };
      });
      const laterItems = items(5);
      const failing = handled(local.verifyBatch(items(24))); // 3 chunks
      const later = handled(local.verifyBatch(laterItems));
      const outcome = await settledWithin(failing, "the failing call");
      assert.instance(outcome, VerifierPoolError, String(outcome));
      assert.is((outcome as VerifierPoolError).code, "TASK_FAILED");
      if (answered === "an item that threw") {
        assert.is(((outcome as VerifierPoolError).cause as { code?: string }).code, "WASM_OUT_OF_MEMORY");
        assert.is(((outcome as VerifierPoolError).cause as { message?: string }).message, "the first chunk's item 3");
      } else {
        assert.match((outcome as VerifierPoolError).message, "a worker's answer is not 8 signature verdicts");
      }
      await nextMacrotask();
      assert.is(waitingChunks(local), 0, "the failed call's chunks were dropped and passed over: the later call's chunk took the place");
      assert.equal(await settledWithin(later, "the later call"), inThread(laterItems));
      assert.is(await settledWithin(idle(local), "idle"), true);
      assert.is(runs.length, 2, "the failed chunk, then the later call's chunk: the failed call's other chunks never ran");
    } finally {
      await local.close();
    }
  });
}

for (const earlier of ["answers", "has an item that threw too"] as const) {
  test(`verifyBatch: an item that threw in a later chunk drops the chunks after it, and the call waits for the earlier chunk, which ${earlier}: the error is the first item's in item order`, async () => {
    // 2 threads, 3 chunks of 8: chunks 0 and 1 run together, chunk 2 waits. Chunk 1 reports an
    // item that threw at once; chunk 0 answers 300 ms later. ed25519.verifyBatch throws the first
    // failing item in item order, so the call cannot answer before chunk 0 has; chunk 2 cannot
    // change its answer, so it is dropped without running.
    const local = createVerifierPool({ threads: 2, chunkSize: 8 });
    try {
      let firstAnsweredAt = 0;
      const runs = wrapRuns(local, async (task, run) => {
        const chunk = runs.indexOf(task.buffer);
        const answer = await run(task);
        if (chunk === 0) {
          await delay(300);
          firstAnsweredAt = Date.now();
          return earlier === "answers" ? answer : itemThrew(answer, 6, "chunk 0's item 6");
        }
        return chunk === 1 ? itemThrew(answer, 1, "chunk 1's item 1") : answer;
      });
      const failing = handled(local.verifyBatch(items(24)));
      await sent();
      assert.is(waitingChunks(local), 1, "chunk 2 waits for a place");
      const outcome = await settledWithin(failing, "the failing call");
      const rejectedAt = Date.now();
      assert.instance(outcome, VerifierPoolError, String(outcome));
      assert.is((outcome as VerifierPoolError).code, "TASK_FAILED");
      const cause = (outcome as VerifierPoolError).cause as { message?: string };
      assert.is(cause.message, earlier === "answers" ? "chunk 1's item 1" : "chunk 0's item 6");
      assert.ok(firstAnsweredAt > 0 && rejectedAt >= firstAnsweredAt, "the call answered only after chunk 0 had");
      await nextMacrotask();
      assert.is(local.queuedBytes, 0);
      assert.is(await settledWithin(idle(local), "idle"), true);
      assert.is(runs.length, 2, "chunk 2 never ran");
      const next = items(9);
      assert.equal(await settledWithin(local.verifyBatch(next), "the next call"), inThread(next), "the pool serves the next call");
    } finally {
      await local.close();
    }
  });
}

test.run();
