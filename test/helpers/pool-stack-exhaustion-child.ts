// Child process of test/node/pool-stack-exhaustion.test.ts (hunt 17), run with a small stack
// (--stack-size) and Node's default --unhandled-rejections=throw: a promise of the pool's that
// rejects with no handler ends this process with code 1, which the parent reads. One operation,
// `process.argv[2]`, is made near the end of the stack, each time in a tick of its own in which
// other calls were made first at a normal depth (`process.argv[3]`: "singles", three
// pool.verify() calls; "busy", one verifyBatch, which takes the pool's one thread so that the
// operation's chunks queue for a place), at every depth from the stack's end up until the
// operation has answered a number of times in a row: a recursion counts its
// frames back up from the end and makes the call at the depth aimed at, through a function with
// 0, 4, 8, … 28 extra parameters (32 bytes each), which steps the stack left to the call by about
// 32 bytes between the recursion's frames (about 80 bytes each).
//
// After each tick: how the operation ended (a synchronous throw, a rejection, an answer, compared
// with the in-thread one), whether the earlier calls answered as in-thread, and pool.queuedBytes
// with nothing in flight. After the sweep: a call larger than maxQueuedBytes (it runs alone on an
// idle pool, README "Worker pool") and close(). Prints one JSON line. A call still pending after
// 2 s counts as hung and ends the sweep (the old code hung there).
//
// Not a suite (no test registered, no test.run()).
import { createPrivateKey, sign as nodeSign } from "node:crypto";
import { isDeepStrictEqual } from "node:util";
import { createVerifierPool } from "../../dist/esm/pool/index.js";
import { callNearStackEnd, isEngineStackOverflow, TIMEOUT, within } from "./stack-end.js";
import { ed25519, verifyEnvelopeBatch, KernelTrustExchange, Keypair } from "../../dist/esm/index.js";

const seed = new Uint8Array(32).fill(7);
const privateKey = createPrivateKey({ key: Buffer.concat([Buffer.from("302e020100300506032b657004220420", "hex"), seed]), format: "der", type: "pkcs8" });
const sign = (message: Uint8Array) => new Uint8Array(nodeSign(null, message, privateKey));
const publicKey = ed25519.getPublicKey(seed);
const message = new TextEncoder().encode("near the end of the stack");
const signature = sign(message);
// One good item and one whose message was not signed: the answer is [true, false].
const items = [
  { signature, message, publicKey },
  { signature, message: new TextEncoder().encode("near the end of the stacK"), publicKey },
];
const NOW = 1_700_000_000;
const envelope = JSON.stringify(new KernelTrustExchange("kernel-near-the-end", Keypair.fromSeed(seed)).localEnvelope("kernel-local", "nonce-1", NOW));
const envelopes = [envelope, "{}"];

const which = process.argv[2];
const before = process.argv[3];
if (before !== "singles" && before !== "busy") throw new Error(`unknown earlier calls ${before}`);
// chunkSize 4: the near-limit verify() of mode "verify" is the fourth of its tick, which fills
// the bucket (the old code sent a full bucket on that call's stack). maxQueuedBytes 1 MiB: the
// smallest, so that a call of 1.5 MiB runs only on a pool that holds nothing.
const pool = createVerifierPool({ threads: 1, chunkSize: 4, maxQueuedBytes: 1024 * 1024 });

type Op = () => Promise<unknown>;
/** The operation and its in-thread answer; `signal`: a fresh AbortSignal per call (never aborted), so each call adds the pool's listener to one. */
function operation(signal: boolean): { op: Op; expected: unknown } {
  const options = () => (signal ? { signal: new AbortController().signal } : undefined);
  switch (which) {
    case "verify":
    case "verifySignal":
      return { op: () => pool.verify(signature, message, publicKey, options()), expected: true };
    case "verifyBatch":
    case "verifyBatchSignal":
      return { op: () => pool.verifyBatch(items, options()), expected: ed25519.verifyBatch(items) };
    case "verifyEnvelopeBatch":
    case "verifyEnvelopeBatchSignal":
      return { op: () => pool.verifyEnvelopeBatch(envelopes, options()), expected: verifyEnvelopeBatch(envelopes) };
    default:
      throw new Error(`unknown operation ${which}`);
  }
}
const { op, expected } = operation(which.endsWith("Signal"));

// Each pad is called with as many arguments as it declares: V8 pushes every argument passed.
const PAD_EXTRAS = [0, 4, 8, 12, 16, 20, 24, 28];
const pads: ((op: Op, ...rest: number[]) => unknown)[] = [];
const padArgs: number[][] = [];
for (const extra of PAD_EXTRAS) {
  pads.push(new Function("op", ...Array.from({ length: extra }, (_, i) => `a${i}`), "return op();") as (op: Op, ...rest: number[]) => unknown);
  padArgs.push(Array.from({ length: extra }, (_, i) => i));
}

let target = 0;
let pad = 0;
/** The operation through the pad in use (made near the end of the stack by callNearStackEnd). */
const nearEnd = () => pads[pad](op, ...padArgs[pad]);

/** How an error reads in the tallies: the engine's stack overflow, or the error's name and code. */
function describe(error: unknown): string {
  const e = error as { name?: unknown; code?: unknown; message?: unknown };
  if (isEngineStackOverflow(error)) return "RangeError (stack)";
  return `${String(e?.name)} ${String(e?.code)}: ${String(e?.message).slice(0, 80)}`;
}

const outcomes: Record<string, number> = {};
const count = (key: string) => void (outcomes[key] = (outcomes[key] ?? 0) + 1);
const earlierWrong: string[] = [];
const bytesLeft: number[] = [];
let hung = "";
let attempts = 0;
let answeredInARow = 0;
let failedOnce = false;

async function tick(): Promise<void> {
  attempts++;
  const earlier =
    before === "singles"
      ? [0, 1, 2].map(() => pool.verify(signature, message, publicKey).then((valid) => (valid === true ? "true" : JSON.stringify(valid)), describe))
      : [pool.verifyBatch(items).then((valid) => (isDeepStrictEqual(valid, [true, false]) ? "true" : JSON.stringify(valid)), describe)];
  const made = callNearStackEnd(target, nearEnd);
  let answered = false;
  if (made.state === "thrown") {
    count(`threw ${describe(made.thrown)}`);
  } else if (made.state === "promise" && made.promise !== undefined) {
    const settled = await within(made.promise.then((value) => ({ value }), (error: unknown) => ({ error })), 2000);
    if (settled === TIMEOUT) {
      hung ||= `the near-limit call itself, at ${target} frames from the end, pad ${pad}`;
    } else if ("error" in settled) {
      count(`rejected ${describe(settled.error)}`);
    } else if (isDeepStrictEqual(settled.value, expected)) {
      count("answered as in-thread");
      answered = true;
    } else {
      count(`answered WRONG ${JSON.stringify(settled.value).slice(0, 80)}`);
    }
  } else {
    count("not made (the recursion's own frame ran out of stack first)");
  }
  const others = await within(Promise.all(earlier), 2000);
  if (others === TIMEOUT) hung ||= `the earlier calls of the tick (${before}), near-limit call at ${target} frames from the end, pad ${pad}`;
  else if (others.some((o) => o !== "true") && earlierWrong.length < 5) earlierWrong.push(others.join(", "));
  await new Promise((resolve) => setImmediate(resolve));
  if (pool.queuedBytes !== 0 && bytesLeft.length < 5) bytesLeft.push(pool.queuedBytes);
  if (answered) answeredInARow++;
  else {
    answeredInARow = 0;
    failedOnce = true;
  }
}

// Warm-up: the recursion's frames shrink once it is optimised, and the pool's code paths too
// (the operation made at a normal depth: a target the recursion never counts up to).
for (let i = 0; i < 300; i++) {
  target = 0;
  pad = 0;
  await tick();
  if (i % 3 === 0) await op().catch(() => undefined);
}
for (const key of Object.keys(outcomes)) delete outcomes[key];
attempts = 0;
const started = Date.now();
// Three rounds (the engine's code and frames change as it optimises), each from the end of the
// stack up, until the call has answered at two depths in a row with every pad: past the limit.
// Bounded in time as well (12 s in all), and by the first hang.
let lastTarget = 0;
rounds: for (let round = 0; round < 3; round++) {
  failedOnce = false;
  answeredInARow = 0;
  for (target = 1; target < 20_000; target++) {
    for (pad = 0; pad < pads.length; pad++) {
      await tick();
      if (hung !== "" || Date.now() - started > 12_000) break rounds;
      if (failedOnce && answeredInARow >= 2 * pads.length) {
        lastTarget = Math.max(lastTarget, target);
        continue rounds;
      }
    }
  }
}

// A call larger than maxQueuedBytes: it runs alone once the pool holds nothing.
const big = new Uint8Array(1536 * 1024);
const bigCall = await within(pool.verifyBatch([{ signature: sign(big), message: big, publicKey }]).then((value) => JSON.stringify(value), describe), 5000);
const closed = await within(pool.close().then(() => "closed", describe), 5000);
console.log(
  JSON.stringify({
    which,
    before,
    attempts,
    lastTarget,
    ms: Date.now() - started,
    outcomes,
    earlierWrong,
    bytesLeft,
    hung,
    queuedBytesAtEnd: pool.queuedBytes,
    bigCall: bigCall === TIMEOUT ? "pending" : bigCall,
    closed: closed === TIMEOUT ? "pending" : closed,
  }),
);
// A pool that hung may keep the process up: end it, after a moment in which an unhandled
// rejection would still end it with code 1 first.
setTimeout(() => process.exit(0), 500).unref();
