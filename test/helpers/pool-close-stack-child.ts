// Child process of test/node/pool-stack-exhaustion.test.ts: close() made near the end of the
// stack, run with a small stack (--stack-size) and Node's default --unhandled-rejections=throw (a
// promise that rejects with no handler, the pool's or piscina's, ends this process with code 1).
// `process.argv[2]`: "idle" (the pool holds nothing when close() is made) or "busy" (a call was
// made just before, in the same tick). For each depth from the stack's end up (in strides of 8
// while close() throws at once: below), a fresh pool of one thread is closed there, and then
// again at a normal depth: the second close() must resolve with the workers ended, whatever the first did (a RangeError thrown or as a rejection, or
// resolved). Goes up until the first close() has resolved at 4 depths in a row, bounded in time
// (15 s). Prints one JSON line.
//
// Not a suite (no test registered, no test.run()).
import { createVerifierPool, type VerifierPool } from "../../dist/esm/pool/index.js";
import { poolInternals } from "../../dist/esm/pool/internals.js";
import { callNearStackEnd, isEngineStackOverflow, TIMEOUT, within } from "./stack-end.js";

const mode = process.argv[2];
if (mode !== "idle" && mode !== "busy") throw new Error(`unknown mode ${mode}`);

let pool: VerifierPool;
const closeNearEnd = () => pool.close();

/** How a close() settled within `ms`: "resolved", "RangeError (stack)", "rejected …" or "pending". */
async function settledWithin(promise: Promise<unknown>, ms: number): Promise<string> {
  const settled = await within(
    promise.then(
      () => "resolved",
      (error: unknown) => (isEngineStackOverflow(error) ? "RangeError (stack)" : `rejected ${String(error)}`),
    ),
    ms,
  );
  return settled === TIMEOUT ? "pending" : settled;
}

const outcomes: Record<string, number> = {};
const wrong: string[] = [];
const started = Date.now();
let resolvedInARow = 0;
let lastTarget = 0;
// Near the end close() throws at once, further up it runs to completion; what is tested lies where
// one turns into the other. The sweep walks the nearest depths in strides of 8 until a first
// close() does anything but throw at once, then goes back a stride and walks on depth by depth:
// one pool per depth (20–40 ms each) reached that change in time on a quiet host only (a default
// tier beside three other test processes stopped at 408 depths, all RangeError, after 15 s).
let stride = 8;
for (let target = 1; target < 20_000 && Date.now() - started < 15_000; target += stride) {
  lastTarget = target;
  pool = createVerifierPool({ threads: 1 });
  const call = mode === "busy" ? pool.verifyBatch([]) : undefined;
  const made = callNearStackEnd(target, closeNearEnd);
  let first: string;
  if (made.state === "thrown") first = made.thrown instanceof RangeError ? "RangeError (stack)" : `threw ${String(made.thrown)}`;
  else if (made.state === "promise") first = await settledWithin(made.promise!, 5000);
  else first = "not made";
  outcomes[first] = (outcomes[first] ?? 0) + 1;
  if (call !== undefined) await settledWithin(call, 5000);
  const second = await settledWithin(pool.close(), 5000);
  const threads = poolInternals<{ piscina: { threads: unknown[] } }>(pool).piscina.threads.length;
  if (second !== "resolved" || threads !== 0) {
    if (wrong.length < 5) wrong.push(`${target} frames from the end: first close() ${first}, second ${second}, ${threads} worker(s) left`);
    await settledWithin(pool.close(), 100);
  }
  if (stride > 1 && made.state !== "thrown") {
    stride = 1;
    target = Math.max(0, target - 8); // the loop adds 1: the stride's depths again, one by one
    continue;
  }
  resolvedInARow = first === "resolved" ? resolvedInARow + 1 : 0;
  if (resolvedInARow >= 4 && (outcomes["RangeError (stack)"] ?? 0) > 0) break;
}
console.log(JSON.stringify({ mode, lastTarget, outcomes, wrong }));
// A pool left open would keep nothing up (idle workers are unref'd), but end promptly all the same.
setTimeout(() => process.exit(0), 500).unref();
