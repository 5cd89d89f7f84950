// Calls made a chosen number of frames from the end of the stack, for the child processes of
// test/node/pool-stack-exhaustion.test.ts (pool-stack-exhaustion-child.ts, pool-close-stack-child.ts),
// which sweep a pool operation across the stack's end under a small --stack-size.
//
// Not a suite (no test registered, no test.run()).

/**
 * What the last call made by callNearStackEnd gave, recorded with stores into fields that exist
 * already: near the end of the stack, making an object (a literal) can run out of it too, and a
 * promise not recorded would be one the child never handles. One record, reset by each call.
 */
export const made: { state: "none" | "promise" | "thrown"; promise: Promise<unknown> | undefined; thrown: unknown } = {
  state: "none",
  promise: undefined,
  thrown: undefined,
};

let unwound = 0;
let target = 0;
let operation: () => unknown = () => undefined;

function dive(): void {
  try {
    dive();
  } catch {
    // the end of the stack: count the frames back up
  }
  if (++unwound === target) {
    try {
      made.promise = operation() as Promise<unknown>;
      made.state = "promise";
    } catch (thrown) {
      made.thrown = thrown;
      made.state = "thrown";
    }
  }
}

/**
 * Recurses to the end of the stack and makes `call` on the way back, `framesFromEnd` frames of
 * the recursion above it (0: never made, so a sweep can warm the recursion up); returns `made`.
 */
export function callNearStackEnd(framesFromEnd: number, call: () => unknown): typeof made {
  unwound = 0;
  target = framesFromEnd;
  operation = call;
  made.state = "none";
  made.promise = made.thrown = undefined;
  dive();
  return made;
}

/** What `within` answers for a promise still pending after its time. */
export const TIMEOUT = Symbol("timeout");

/** `promise`'s value, or TIMEOUT once `ms` have passed; rejects as `promise` does. */
export function within<T>(promise: Promise<T>, ms: number): Promise<T | typeof TIMEOUT> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([promise, new Promise<typeof TIMEOUT>((resolve) => (timer = setTimeout(() => resolve(TIMEOUT), ms)))]).finally(() => clearTimeout(timer));
}

/** True for the engine's own stack overflow (a RangeError without a library code). */
export function isEngineStackOverflow(error: unknown): boolean {
  const e = error as { code?: unknown; message?: unknown };
  return error instanceof RangeError && e.code === undefined && typeof e.message === "string" && e.message.startsWith("Maximum call stack size exceeded");
}
