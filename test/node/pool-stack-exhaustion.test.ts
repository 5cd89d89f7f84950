// Pool calls made with the calling thread's stack all but exhausted (hunt 17).
//
// The calling thread's own stack overflow is the engine's RangeError, thrown or as a rejection,
// as the in-thread API throws it, never a typed error that blames something else. Before the
// fix, runAttempts took a RangeError from piscina.run for a worker's death and retried at once,
// at the same depth (WORKER_CRASHED, no worker having died), runChunk turned one from its place
// in the queue into WORKER_UNAVAILABLE, and AbortWatch.add one from addEventListener into
// INVALID_TYPE ("options.signal cannot be listened to"). The first two tests inject a genuine
// overflow where it was met.
//
// A call made there either holds nothing or is sent whole, and the other calls of its tick get
// their answers. Before the fix, the pool sent the tick's single calls (and a batch call its own
// chunks) on the near-limit call's stack, where they ran out of it half-way: the earlier calls
// were left pending for good or rejected with the RangeError of a call they had nothing to do
// with, bytes stayed counted in queuedBytes (a call larger than maxQueuedBytes was then refused
// QUEUE_FULL on an idle pool), and a promise of the pool's could reject unheard (which ends the
// process).
//
// The sweeps make each call across the stack's end in a child process with a small stack
// (test/helpers/pool-stack-exhaustion-child.ts), under Node's default
// --unhandled-rejections=throw (a promise of the pool's that rejects unheard ends it with code 1).
import { test } from "uvu";
import * as assert from "uvu/assert";
import { spawnSync } from "node:child_process";
import { createPrivateKey, sign as nodeSign } from "node:crypto";
import { getEventListeners } from "node:events";
import { fileURLToPath } from "node:url";
import { createVerifierPool } from "../../dist/esm/pool/index.js";
import { poolInternals } from "../../dist/esm/pool/internals.js";
import { ed25519 } from "../../dist/esm/index.js";

interface Sweep {
  which: string;
  before: string;
  attempts: number;
  lastTarget: number;
  ms: number;
  outcomes: Record<string, number>;
  earlierWrong: string[];
  bytesLeft: number[];
  hung: string;
  queuedBytesAtEnd: number;
  bigCall: string;
  closed: string;
}

const child = fileURLToPath(new URL("../helpers/pool-stack-exhaustion-child.ts", import.meta.url));

/**
 * The child's sweep of `operation` made after `before` (the child's header), which must have
 * exited by itself with code 0 (no unhandled rejection).
 */
function sweep(operation: string, before: "singles" | "busy"): Sweep {
  // stderr piped, not shown: V8 reports overflows inside its promise hooks there ("Exception in
  // PromiseRejectCallback"), which are expected at these depths, and can run to megabytes (past
  // spawnSync's default maxBuffer, which ends the child with SIGTERM).
  const run = spawnSync(process.execPath, ["--stack-size=400", "--import", "tsx", child, operation, before], { encoding: "utf8", timeout: 60_000, maxBuffer: 256 * 1024 * 1024 });
  const tail = run.stderr.split("\n").filter((line) => line.trim() !== "").slice(-8).join("\n");
  assert.is(run.status, 0, `${operation}: the child ended with code ${run.status} (signal ${run.signal}): an unhandled rejection ends it with 1\n${tail}`);
  return JSON.parse(run.stdout.trim().split("\n").pop()!) as Sweep;
}

/** What a near-limit call may give: the engine's stack overflow, thrown or as a rejection, or the in-thread answer. */
const ALLOWED = new Set(["threw RangeError (stack)", "rejected RangeError (stack)", "answered as in-thread", "not made (the recursion's own frame ran out of stack first)"]);

function check(result: Sweep): void {
  const { which } = result;
  const summary = JSON.stringify(result);
  assert.is(result.hung, "", `${which}: nothing may stay pending: ${summary}`);
  assert.equal(result.earlierWrong, [], `${which}: the calls made earlier in each tick get their answers: ${summary}`);
  assert.equal(result.bytesLeft, [], `${which}: queuedBytes is back to 0 once every call of a tick has settled: ${summary}`);
  assert.is(result.queuedBytesAtEnd, 0, summary);
  assert.is(result.bigCall, "[true]", `${which}: a call larger than maxQueuedBytes runs on the idle pool afterwards: ${summary}`);
  assert.is(result.closed, "closed", summary);
  const unexpected = Object.keys(result.outcomes).filter((key) => !ALLOWED.has(key));
  assert.equal(unexpected, [], `${which}: only the engine's RangeError or the in-thread answer, never WORKER_CRASHED, WORKER_UNAVAILABLE or INVALID_TYPE: ${summary}`);
  // The sweep went through the stack's end: calls failed there, and answered above it.
  const failed = (result.outcomes["threw RangeError (stack)"] ?? 0) + (result.outcomes["rejected RangeError (stack)"] ?? 0);
  assert.ok(failed >= 10, `${which}: the limit was reached (${failed} calls ran out of stack): ${summary}`);
  assert.ok((result.outcomes["answered as in-thread"] ?? 0) >= 16, `${which}: the sweep got past the limit: ${summary}`);
}

/** A genuine stack overflow of this thread: the engine's own RangeError, as a call near the stack's end meets it. */
function engineStackOverflow(): RangeError {
  const recurse = (depth: number): number => recurse(depth + 1) + 1;
  try {
    recurse(0);
  } catch (error) {
    return error as RangeError;
  }
  throw new Error("the recursion did not overflow");
}

const seed = new Uint8Array(32).fill(5);
const privateKey = createPrivateKey({ key: Buffer.concat([Buffer.from("302e020100300506032b657004220420", "hex"), seed]), format: "der", type: "pkcs8" });
const message = new TextEncoder().encode("an overflow on the calling thread");
const item = { signature: new Uint8Array(nodeSign(null, message, privateKey)), message, publicKey: ed25519.getPublicKey(seed) };

/** `promise`'s rejection reason; fails if it resolves. */
async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    (value) => assert.unreachable(`resolved with ${JSON.stringify(value)}`),
    (error: unknown) => error,
  );
}

test("piscina.run running out of stack on the calling thread rejects the call with that RangeError, once: not WORKER_CRASHED, no retry", async () => {
  // Before: runAttempts took any throw of piscina.run for its worker's death and retried at once,
  // at the same depth, then rejected WORKER_CRASHED (or WORKER_UNAVAILABLE, "no worker could
  // start", before any worker had loaded), the overflow buried in an AggregateError.
  const pool = createVerifierPool({ threads: 1 });
  const internals = poolInternals<{ attemptsStarted: number; piscina: { run(task: unknown, options: unknown): Promise<unknown> } }>(pool);
  const run = internals.piscina.run.bind(internals.piscina);
  try {
    assert.equal(await pool.verifyBatch([item]), [true]); // a worker has loaded
    const overflow = engineStackOverflow();
    internals.piscina.run = () => {
      throw overflow;
    };
    const before = internals.attemptsStarted;
    for (const call of [() => pool.verifyBatch([item]), () => pool.verify(item.signature, item.message, item.publicKey), () => pool.verifyEnvelopeBatch(["{}"])]) {
      const started = internals.attemptsStarted;
      assert.is(await rejection(call()), overflow, "the engine's RangeError itself");
      assert.is(internals.attemptsStarted - started, 1, "no retry");
    }
    assert.is(internals.attemptsStarted - before, 3);
    internals.piscina.run = run;
    assert.is(pool.queuedBytes, 0);
    assert.equal(await pool.verifyBatch([item]), [true], "the pool serves the next call");
  } finally {
    internals.piscina.run = run;
    await pool.close();
  }
});

test("a signal whose listener cannot be added for want of stack: the call rejects with the engine's RangeError, not INVALID_TYPE, and holds nothing", async () => {
  // Before: AbortWatch.add wrapped whatever addEventListener threw in InvalidTypeError
  // "options.signal cannot be listened to". Node's EventTarget reads the signal's own event map
  // (kEvents) as it adds a listener; a getter there stands for the code that ran out of stack.
  const pool = createVerifierPool({ threads: 1 });
  try {
    for (const call of [
      (signal: AbortSignal) => pool.verifyBatch([item], { signal }),
      (signal: AbortSignal) => pool.verify(item.signature, item.message, item.publicKey, { signal }),
      (signal: AbortSignal) => pool.verifyEnvelopeBatch(["{}"], { signal }),
    ]) {
      const { signal } = new AbortController();
      const kEvents = Object.getOwnPropertySymbols(signal).find((symbol) => symbol.description === "kEvents");
      assert.ok(kEvents !== undefined, "Node 20 keeps a signal's listeners in an own symbol member");
      const events = (signal as unknown as Record<symbol, unknown>)[kEvents];
      let overflow: RangeError | undefined;
      Object.defineProperty(signal, kEvents, {
        get() {
          if (overflow === undefined) throw (overflow = engineStackOverflow());
          return events;
        },
        configurable: true,
      });
      const error = await rejection(call(signal));
      assert.ok(overflow !== undefined, "addEventListener read the member");
      assert.is(error, overflow, String(error));
      assert.is(getEventListeners(signal, "abort").length, 0);
      assert.is(pool.queuedBytes, 0);
    }
    assert.equal(await pool.verifyBatch([item]), [true]);
  } finally {
    await pool.close();
  }
});

test("a call made near the end of the stack while the pool's thread is busy never reports its own stack overflow as WORKER_CRASHED, WORKER_UNAVAILABLE or INVALID_TYPE: the engine's RangeError or the in-thread answer (child process, --stack-size=400)", () => {
  // Before: runAttempts took a RangeError from piscina.run on this thread for a worker's death
  // and retried at once, at the same depth (WORKER_CRASHED, no worker having died); runChunk
  // turned one from its place in the queue into WORKER_UNAVAILABLE; AbortWatch.add one from
  // addEventListener into INVALID_TYPE.
  for (const which of ["verifyBatch", "verifyBatchSignal", "verifyEnvelopeBatch", "verifyEnvelopeBatchSignal", "verifySignal"]) check(sweep(which, "busy"));
});

for (const operation of ["verify", "verifyBatch", "verifyEnvelopeBatch"]) {
  test(`${operation} made near the end of the stack after three verify() calls in its tick, without and with a signal: those calls get their answers, the call the engine's RangeError or the in-thread answer, no unhandled rejection, no bytes left held (child process, --stack-size=400)`, () => {
    for (const which of [operation, `${operation}Signal`]) check(sweep(which, "singles"));
  });
}

const closeChild = fileURLToPath(new URL("../helpers/pool-close-stack-child.ts", import.meta.url));

for (const mode of ["idle", "busy"] as const) {
  test(`close() made near the end of the stack (${mode === "idle" ? "nothing in flight" : "a call made just before"}): it closes the pool, or throws or rejects the engine's RangeError and leaves it open for a later close(); no unhandled rejection (child process, --stack-size=400)`, () => {
    // Before: close() ran piscina.destroy() on its caller's stack (at once when nothing was in
    // flight), and made its wait for the calls there: near the stack's end one of them ran out
    // of it, close() rejected with the RangeError and kept that rejected promise as the pool's
    // close, so the pool refused every call (POOL_CLOSED) and no later close() could end its
    // workers; and piscina's destroy, cut short, left a promise of its own rejected unheard,
    // which ended the process.
    const run = spawnSync(process.execPath, ["--stack-size=400", "--import", "tsx", closeChild, mode], { encoding: "utf8", timeout: 60_000, maxBuffer: 256 * 1024 * 1024 });
    const tail = run.stderr.split("\n").filter((line) => line.trim() !== "").slice(-8).join("\n");
    assert.is(run.status, 0, `${mode}: the child ended with code ${run.status} (signal ${run.signal}): an unhandled rejection ends it with 1\n${tail}`);
    const result = JSON.parse(run.stdout.trim().split("\n").pop()!) as { outcomes: Record<string, number>; wrong: string[] };
    const summary = JSON.stringify(result);
    assert.equal(result.wrong, [], `${mode}: a later close() resolves and ends the workers: ${summary}`);
    const unexpected = Object.keys(result.outcomes).filter((key) => key !== "RangeError (stack)" && key !== "resolved" && key !== "not made");
    assert.equal(unexpected, [], summary);
    assert.ok((result.outcomes["RangeError (stack)"] ?? 0) >= 1, `${mode}: the limit was reached: ${summary}`);
    assert.ok((result.outcomes.resolved ?? 0) >= 4, `${mode}: the sweep got past the limit: ${summary}`);
  });
}

test.run();
