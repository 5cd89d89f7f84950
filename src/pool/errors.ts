// The typed error of the verifier pool (chio-trust/pool). Argument errors stay the in-thread
// API's (InvalidTypeError, InvalidConfigError, ...); these cover the pool and its workers.
import { nameError } from "../errors.js";

/** Stable codes of VerifierPoolError. */
export type VerifierPoolErrorCode =
  | "POOL_CLOSED" //        the call came after close()
  | "WORKER_CRASHED" //     a chunk's worker died, and so did the fresh worker that retried it
  | "WORKER_UNAVAILABLE" // the built worker file is missing (the pool runs from dist/ only), the host has no SharedArrayBuffer, or no worker could start
  | "TASK_FAILED" //        verification threw inside a live worker (a wasm trap, memory exhausted), or its answer is unreadable
  | "OUT_OF_MEMORY" //      the calling thread could not allocate the call's private copy of its input
  | "QUEUE_FULL" //         the pool already holds maxQueuedBytes of calls not yet answered: retry once some have settled
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
