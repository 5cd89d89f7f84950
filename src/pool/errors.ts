// The typed error of the verifier pool (chio-trust/pool). Argument errors stay the in-thread
// API's (InvalidTypeError, InvalidConfigError, ...); these cover the pool and its workers.
import { types } from "node:util";
import { stringStartsWith } from "../bytes.js";
import { EngineRangeError, nameError, STACK_OVERFLOW_MESSAGE } from "../errors.js";

/** Stable codes of VerifierPoolError. */
export type VerifierPoolErrorCode =
  | "POOL_CLOSED" //        the call came after close()
  | "WORKER_CRASHED" //     a chunk's worker died, and so did the fresh worker that retried it
  | "WORKER_UNAVAILABLE" // the built worker file is missing (the pool runs from dist/ only), the host has no SharedArrayBuffer, or no worker could start
  | "TASK_FAILED" //        verification threw inside a live worker (a wasm trap, memory exhausted), or its answer is unreadable
  | "OUT_OF_MEMORY" //      the calling thread could not allocate the call's private copy of its input
  | "QUEUE_FULL" //         the pool already holds maxQueuedBytes of calls not yet answered: retry once some have settled
  | "CALL_TOO_LARGE" //     a batch call of more than one item counts more than maxQueuedBytes by itself: never admitted as it is, split it (one item that large runs alone)
  | "ABORTED"; //           the call's options.signal aborted before the call was answered (the signal's reason is the cause)

/** Failures of the pool itself; argument errors are the in-thread API's (InvalidTypeError, ...). */
export class VerifierPoolError extends Error {
  readonly code: VerifierPoolErrorCode;
  constructor(code: VerifierPoolErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    nameError(this, "VerifierPoolError");
    this.code = code;
  }
}

// The pieces of isEngineStackOverflow, as this module loaded (caller code can replace the globals).
const isNativeError = types.isNativeError;
const getPrototypeOf = Object.getPrototypeOf;
const getOwnPropertyDescriptor = Object.getOwnPropertyDescriptor;
const ENGINE_RANGE_ERROR_PROTOTYPE: object = EngineRangeError.prototype;

/**
 * Whether `error` is the engine's own stack overflow: a native RangeError of this realm (an
 * internal slot, so not a Proxy, nor an object made with Object.create(RangeError.prototype), nor
 * the copy of a worker's error that piscina hands over, which is rebuilt as a plain object: a
 * worker that died of its own overflow is a crash) whose own `message` is a data member starting
 * "Maximum call stack size exceeded". The pool's catches that turn what they catch into a typed
 * error ask this first and rethrow such an error unchanged, as the in-thread API throws it: it is
 * the calling thread's own stack, not a failed allocation (allocating), a dead worker (runAttempts),
 * a missing worker (runChunk) or an unreadable signal (AbortWatch.add) (review 48; hunt 17 found
 * the last three). Runs no caller code, whatever `error` is (caller code may have thrown it: no
 * trap, getter or Symbol.hasInstance is reached), and catches nothing: when it runs out of stack
 * itself, that overflow goes on up, which is what its callers would do with it anyway.
 * Regular expressions are avoided: compiling one at the stack's limit throws a SyntaxError of
 * its own or aborts the process (review 54). The portable, looser test is isStackOverflowError
 * (src/errors.ts), which canonical JSON uses.
 */
export function isEngineStackOverflow(error: unknown): error is RangeError {
  if (!isNativeError(error) || getPrototypeOf(error) !== ENGINE_RANGE_ERROR_PROTOTYPE) return false;
  const message = getOwnPropertyDescriptor(error, "message");
  return message !== undefined && typeof message.value === "string" && stringStartsWith(message.value, STACK_OVERFLOW_MESSAGE);
}
