// `chio-trust/pool`: Ed25519 and envelope verification on a pool of worker threads (Node only).
//
// The pool runs on piscina (see the README, "Worker pool"). Calls are checked and copied on the
// calling thread with the typed errors of the in-thread API, split into chunks of at most
// `chunkSize` items (128 by default; equal chunks, and one per thread at least while each gets
// 32 items or more: planCall; at most POOL_CHUNK_BYTE_BUDGET bytes past a chunk's first item, codec.ts),
// all packed before any is sent, and each chunk travels to a worker as ONE SharedArrayBuffer
// (src/pool/codec.ts), which the worker reads in place; verdicts come back as one transferred
// Uint8Array (verdict objects from a worker short of memory), checked before use (answers.ts).
// Every answer equals the in-thread one: the workers run the same ed25519.verify /
// verifyEnvelopeBytes (src/pool/worker.ts).
//
// Crashes: a worker that dies while it holds a chunk (process.exit, an uncaught exception, out
// of memory) is replaced (by piscina, or, where piscina no longer does, by watchWorkers) and the
// chunk is sent again, once, to whichever worker takes it; if that attempt dies too, the call
// rejects with VerifierPoolError WORKER_CRASHED. The chunk's bytes
// stay on the calling thread until it settles, so nothing is lost and nothing waits forever.
//
// Cancelling: a call's options.signal (PoolCallOptions, abort.ts) rejects it at once with
// VerifierPoolError ABORTED and drops its chunks still waiting for a worker (acquireSlot).
//
// The caller's stack: a call checks, admits (maxQueuedBytes) and copies its input on the
// caller's stack, and sends nothing there. Its chunks are handed out by a microtask queued as it
// is made (a single call's by its bucket's flush, a batch call's by queueSend), which runs on a
// stack of its own. A call made near the end of the caller's stack may run out of it at any call
// it makes, so once a call holds bytes, every step that can throw is guarded and gives them back,
// and the step that commits it (hands it to its microtask) is plain stores. Hunt 17: sent on the
// caller's stack, a call made near its end could reject a promise of the pool's that nobody
// listened to (the process ended), leave the other single calls of its tick pending for good,
// and leave bytes counted in queuedBytes for the pool's life (a call larger than maxQueuedBytes
// was then refused QUEUE_FULL forever).
//
// Layering: this is a Node-only part on top of Ed25519 and the handshake; nothing imports it.
import { existsSync } from "node:fs";
import { availableParallelism } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { Piscina } from "piscina";
import { mapIteratorStep, mapValues } from "../collections.js";
import { arrayArgumentLength, assertBytes, copyBytes, expectBytes, isArrayArgument, measuredView, ownList, ownListAsArray, readOptions, rejectedPromise, stringSlice, uncurryThis, viewLength, viewPrefix, type OwnList } from "../bytes.js";
import { EngineRangeError, InvalidTypeError, isInstanceOf, STACK_OVERFLOW_MESSAGE } from "../errors.js";
import { assertFitsAnyCore } from "../wasm/instance.js";
import { booleanOption } from "../canonical/limits.js";
import { InvalidConfigError } from "../handshake/errors.js";
import { ENVELOPE_OPTION_KEYS, readEnvelopeInputs, readEnvelopeOptions, type EnvelopeVerdict, type VerifyEnvelopeOptions } from "../handshake/verify-envelope.js";
import { publicKeyArgumentBytes, readBatchItems, type PreparedPublicKey, type VerifyOptions } from "../ed25519.js";
import {
  CRASH_EXIT,
  CRASH_NONE,
  CRASH_OOM,
  CRASH_UNCAUGHT,
  PUBLIC_KEY_BYTES,
  SIGNATURE_BYTES,
  SIGNATURE_ITEM_FAILED,
  TASK_ENVELOPES,
  TASK_SIGNATURES,
  TASK_START_WORKER,
  WORKER_LOADED_MESSAGE,
  envelopeHeldBytes,
  packEnvelopeChunk,
  packSignatureChunk,
  planCall,
  planChunks,
  signatureChunkBytes,
  POOL_CHUNK_BYTE_BUDGET,
  type ChunkRange,
  type PoolTask,
  type TaskAnswer,
} from "./codec.js";
import { answerFailure, isVerdictBytes, readEnvelopeAnswer, readSignatureAnswer, type SignatureVerdicts } from "./answers.js";
import { VerifierPoolError, isEngineStackOverflow } from "./errors.js";
import { AbortWatch, signalOption, type AbortableCall } from "./abort.js";
import { registerPoolInternals } from "./internals.js";

export type { EnvelopeVerdict, VerifyEnvelopeOptions } from "../handshake/verify-envelope.js";
export type { VerifyOptions } from "../ed25519.js";

/**
 * Default largest number of signatures or envelopes per task. 128 rather than 64: two batches of
 * 128 envelopes cost 12% less than four of 64, and the pool's calls of 256 took 14–20% less time
 * (README "Worker pool", "Chunks").
 */
export const DEFAULT_POOL_CHUNK_SIZE = 128;
/** Largest accepted `chunkSize`. */
export const MAX_POOL_CHUNK_SIZE = 1024;
/** Default of VerifierPoolOptions.maxQueuedBytes: 256 MiB, sixteen chunks at the chunk byte budget. */
export const DEFAULT_POOL_MAX_QUEUED_BYTES = 256 * 1024 * 1024;
/** Smallest accepted maxQueuedBytes. */
const MIN_POOL_MAX_QUEUED_BYTES = 1024 * 1024;
/**
 * What maxQueuedBytes counts for each call besides its input: the heap a queued call holds however
 * small it is (its promise and settling functions, the closures that wait for its chunk, its place
 * in its bucket). Measured on Node 20.20 (--expose-gc, heapUsed + arrayBuffers + external after a
 * gc, 20,000–50,000 calls queued behind a busy worker): an empty-message verify() held 632–657
 * bytes, of which its input counted 96. Hunt 36: without it such calls counted 96 bytes each, and
 * a caller that never awaited could queue about 1.7 GB of heap under the default bound.
 */
export const POOL_CALL_OVERHEAD_BYTES = 576;
/**
 * What maxQueuedBytes counts for each task besides its items: a batch call's chunk, or a bucket of
 * single calls (opened by its first call): its SharedArrayBuffer, its runChunk frame, its place in
 * the slot queue, its part's promise and closures, and for a batch call the call's own state.
 * Measured as POOL_CALL_OVERHEAD_BYTES was: a one-envelope verifyEnvelopeBatch([""]) held 3,613–3,628
 * bytes (it counted 13), each further chunk of a call 1,874–1,883 (chunkSize 1), a verify() alone
 * in its bucket (chunkSize 1) 2,820; rounded up so that none of these counts less than it holds.
 * Hunt 36: one-envelope calls counted 13 bytes each, about 280 times too few (40 GB of heap
 * under the default bound).
 */
export const POOL_TASK_OVERHEAD_BYTES = 3072;
export { POOL_CHUNK_BYTE_BUDGET } from "./codec.js";
export { VerifierPoolError, type VerifierPoolErrorCode } from "./errors.js";
// The shared classes the pool's calls throw too, as the in-thread calls do (review 91 F8).
export { InvalidTypeError, InvalidLengthError, WasmCoreError, type WasmCoreErrorCode } from "../errors.js";
export { InvalidConfigError } from "../handshake/errors.js";
export { MAX_VERIFY_BATCH_ITEMS } from "../bytes.js";

export interface VerifierPoolOptions {
  /** Worker threads, started at once and kept (default: os.availableParallelism()). */
  threads?: number;
  /**
   * Largest number of items per task (default 128, at most 1024): large enough to amortise the
   * task's messages and the batch's fixed cost. A call is cut into equal tasks of at most this
   * many items, and a call too small to give every thread a full chunk is still spread over the
   * threads, in tasks of at least 32 items (codec.ts, taskCount).
   */
  chunkSize?: number;
  /** Old-generation heap limit of each worker in MiB (worker_threads resourceLimits); default: Node's. */
  maxWorkerHeapMb?: number;
  /**
   * Bytes the pool holds for calls not yet answered, queued or being verified: their input (each
   * item's signature, key and message; an envelope's bytes, or 2 per UTF-16 unit of a string, and
   * the 12 bytes of its row in its task's table, so that empty envelopes are not free), plus a
   * fixed overhead for what every call and every task holds however small its input
   * (POOL_CALL_OVERHEAD_BYTES per call, POOL_TASK_OVERHEAD_BYTES per batch call's chunk or bucket
   * of single calls; hunt 36: tiny calls were almost free, and callers that never awaited could
   * queue gigabytes of heap before any QUEUE_FULL), default DEFAULT_POOL_MAX_QUEUED_BYTES
   * (256 MiB), at least 1 MiB. A call that would take the pool past it rejects with
   * VerifierPoolError QUEUE_FULL before it copies anything, unless the pool holds nothing (so a
   * call of one item larger than the bound still runs, alone). A batch call of several items
   * that counts more than the bound by itself rejects with CALL_TOO_LARGE, whatever the pool
   * holds, before it copies anything: split it (an item the list holds n times counts, and is
   * copied, n times; hunt 55). Without a bound every
   * call waiting held its packed copy: 400 calls of 1 MiB held 410 MiB (review 93 F1).
   */
  maxQueuedBytes?: number;
  /**
   * FOR TESTS ONLY: every task makes its worker die after verifying half its chunk, by
   * `process.exit(1)` ("exit"), an uncaught exception ("uncaught") or heap exhaustion ("oom",
   * only with maxWorkerHeapMb set) — on the first attempt of each chunk only ("first": every
   * retry succeeds) or on every attempt ("every": every call rejects with WORKER_CRASHED).
   */
  crashWorkersForTesting?: { kind: "exit" | "uncaught" | "oom"; attempts: "first" | "every" };
}

/**
 * What each pool call takes besides the in-thread call's options (README "Worker pool", "Cancelling").
 */
export interface PoolCallOptions {
  /**
   * Cancels the call. If it aborts before the call is answered, the call rejects at once with
   * VerifierPoolError ABORTED (the signal's reason as its `cause`); its chunks still waiting for
   * a worker are dropped and their bytes given back (maxQueuedBytes), and a chunk a worker is
   * verifying finishes there (a worker is never interrupted) and its answer is dropped. A call
   * made with an aborted signal rejects ABORTED after its argument checks, before it copies
   * anything. A single verify() shares its chunk with the other calls of its tick, so aborting
   * it only settles its promise. The pool listens to a signal once, however many calls carry it,
   * and stops when the last of them settles.
   */
  signal?: AbortSignal;
}

/** One signature check, as ed25519.verify takes it. */
export interface SignatureItem {
  signature: Uint8Array;
  message: Uint8Array;
  publicKey: Uint8Array | PreparedPublicKey;
}

export interface VerifierPool {
  /** Worker threads in the pool. */
  readonly threads: number;
  /**
   * Bytes the pool holds now for calls not yet answered, queued or being verified (their input plus
   * a fixed overhead per call and per task: VerifierPoolOptions.maxQueuedBytes): what
   * `maxQueuedBytes` bounds (a caller can hold back before it is refused QUEUE_FULL).
   */
  readonly queuedBytes: number;
  /** ed25519.verify on a worker. Calls made in the same tick are sent together, up to chunkSize per task. */
  verify(signature: Uint8Array, message: Uint8Array, publicKey: Uint8Array | PreparedPublicKey, options?: VerifyOptions & PoolCallOptions): Promise<boolean>;
  /** One boolean per item, each equal to ed25519.verify(item.signature, item.message, item.publicKey, options). */
  verifyBatch(items: readonly SignatureItem[], options?: VerifyOptions & PoolCallOptions): Promise<boolean[]>;
  /** One verdict per envelope, each deep-equal to verifyEnvelopeBytes(envelope, options). */
  verifyEnvelopeBatch(envelopes: readonly (Uint8Array | string)[], options?: VerifyEnvelopeOptions & PoolCallOptions): Promise<EnvelopeVerdict[]>;
  /** Finishes every call already made, then ends the workers. Later calls reject with POOL_CLOSED. Idempotent. */
  close(): Promise<void>;
}

/**
 * The built CommonJS worker, dist/cjs/pool/worker.js, from either build: next to this module in
 * the CommonJS build (`__filename`), and from the ESM build (import.meta.url) too, when the
 * package has it, as published packages do. piscina loads a worker with require() first, and on
 * Node ≥ 20.19 a require() of the ESM worker goes through Node's require(esm) path, which aborted
 * the whole process with a native assertion (ModuleWrap::CreateRequiredModuleFacade) in a CI run
 * of `chio-trust verify`. dist/esm/pool/worker.js remains the fallback (piscina then imports it).
 * esbuild transpiles this file to both formats; the CommonJS copy never reaches the ESM branch.
 */
function workerFile(): string {
  if (typeof __filename === "string") return path.join(path.dirname(__filename), "worker.js");
  const commonJs = fileURLToPath(new URL("../../cjs/pool/worker.js", import.meta.url));
  return existsSync(commonJs) ? commonJs : fileURLToPath(new URL("./worker.js", import.meta.url));
}

const CRASH_KINDS = { exit: CRASH_EXIT, uncaught: CRASH_UNCAUGHT, oom: CRASH_OOM } as const;

function integerOption(value: unknown, name: string, min: number, max: number, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || !Number.isInteger(value)) throw new InvalidTypeError(`${name} must be an integer`);
  if (value < min || value > max) throw new InvalidConfigError(`${name} must be between ${min} and ${max}, got ${value}`);
  return value;
}

const POOL_OPTION_KEYS = ["threads", "chunkSize", "maxWorkerHeapMb", "maxQueuedBytes", "crashWorkersForTesting"] as const;
const CRASH_OPTION_KEYS = ["kind", "attempts"] as const;

const POOL_VERIFY_OPTION_KEYS = ["zip215", "signal"] as const;
const POOL_ENVELOPE_OPTION_KEYS = [...ENVELOPE_OPTION_KEYS, "signal"] as const;
const NO_VERIFY_OPTIONS = { verify: Object.freeze({ zip215: false }), signal: undefined };

/**
 * The options of verify() and verifyBatch(), each read once and checked as ed25519.verify checks
 * its own, plus `signal`: the normalised options sent to the workers, and the signal.
 */
function poolVerifyOptions(options: (VerifyOptions & PoolCallOptions) | undefined): { verify: { zip215: boolean }; signal: AbortSignal | undefined } {
  if (options === undefined) return NO_VERIFY_OPTIONS;
  const read = readOptions(options, POOL_VERIFY_OPTION_KEYS);
  // ed25519.verify's message for a zip215 of the wrong type.
  return { verify: { zip215: booleanOption(read.zip215, "options.zip215", false) }, signal: signalOption(read.signal) };
}

/** The options of verifyEnvelopeBatch(): verifyEnvelopeBytes's, read once and checked by its own reader, plus `signal`. */
function poolEnvelopeOptions(options: (VerifyEnvelopeOptions & PoolCallOptions) | undefined): { envelope: Required<VerifyEnvelopeOptions>; signal: AbortSignal | undefined } {
  if (options === undefined) return { envelope: readEnvelopeOptions(undefined), signal: undefined };
  const read = readOptions(options, POOL_ENVELOPE_OPTION_KEYS);
  // The values already read, without `signal`, for verifyEnvelopeBytes's reader (no prototype:
  // a setter on Object.prototype would take these writes, review 85).
  const envelopeMembers = Object.create(null) as Record<string, unknown>;
  for (let k = 0; k < ENVELOPE_OPTION_KEYS.length; k++) {
    const key = ENVELOPE_OPTION_KEYS[k];
    if (read[key] !== undefined) envelopeMembers[key] = read[key];
  }
  return { envelope: readEnvelopeOptions(envelopeMembers as VerifyEnvelopeOptions), signal: signalOption(read.signal) };
}

/** A chunk waiting for a place in piscina (acquireSlot), and the call it belongs to if that call carries a signal. */
interface SlotWaiter {
  resolve(): void;
  reject(reason: unknown): void;
  call: PoolCall | undefined;
  /** Its chunk's index in its call (or in its bucket of single calls, where it is not read): PoolCall.skipAfter drops the later ones. */
  chunk: number;
  /** Its call was aborted while it waited: it was rejected, and releaseSlot passes it over. */
  dropped: boolean;
}

/**
 * A batch call, or a single call made with a signal (PoolCallOptions): how its end reaches its
 * chunks still waiting, and an abort its promise. A call ends early when its signal aborts, or
 * when one of its chunks fails (fail): either way it has its answer (a rejection), so the chunks
 * that have not started are dropped and their bytes given back at once.
 */
class PoolCall implements AbortableCall {
  aborted: VerifierPoolError | undefined = undefined;
  /** The error of the call's first chunk to fail (fail), if it was not aborted first. */
  failed: unknown = undefined;
  /**
   * The first chunk known to hold an item that threw in its worker (skipAfter); Infinity while
   * none does. The chunks after it cannot change the call's answer.
   */
  private skippedAfter = Infinity;
  /** What the chunks that skipAfter drops reject with: never the call's answer (batchVerdicts does not read them). */
  private skipped: VerifierPoolError | undefined = undefined;
  /** Its chunks waiting for a place in piscina now. */
  readonly waiting = new Set<SlotWaiter>();
  /** Rejects the call's promise (set by abortable). */
  rejectCall: ((error: unknown) => void) | undefined = undefined;
  /** `signal`: undefined for a batch call made without one. `dropped` counts the waiters dropped (the pool's dropWaiters). */
  constructor(
    readonly signal: AbortSignal | undefined,
    private readonly dropped: (count: number) => void,
  ) {}

  /**
   * Throws the abort's error if the call was aborted, else the failed chunk's if one failed:
   * fields, so no caller code runs (AbortWatch.add). Its chunks check it before they run, before
   * a retry, and before their answers are read.
   */
  throwIfEnded(chunk = -1): void {
    if (this.aborted !== undefined) throw this.aborted;
    if (this.failed !== undefined) throw this.failed;
    if (chunk > this.skippedAfter) throw this.skipped; // after the first chunk with an item that threw: not needed
  }

  /** Whether `error` is what a chunk dropped or stopped by skipAfter rejects with. */
  skippedWith(error: unknown): boolean {
    return error !== undefined && error === this.skipped;
  }

  /** Whether `error` is what ended the call, or skipped a chunk of it (a waiter dropped with it), rather than a chunk's own error. */
  endedWith(error: unknown): boolean {
    return error !== undefined && (error === this.aborted || error === this.failed || error === this.skipped);
  }

  onAbort(error: VerifierPoolError): void {
    this.dropWaiting(error);
    this.rejectCall?.(error);
  }

  /**
   * One of the call's chunks failed (its workers crashed, no worker, verification threw in the
   * worker; an answer of the wrong shape, which the pool's own workers never give, is found only
   * as it is read): the call rejects with that error (allParts), so its chunks still waiting are dropped now instead
   * of each running in turn for an answer nobody reads while their bytes count against
   * maxQueuedBytes (a failed call of 600 MB refused every other call for 12 s). Chunks running
   * finish, as on an abort. The first failure counts; after an abort nothing does.
   */
  fail(error: unknown, chunk = -1): void {
    if (this.aborted !== undefined || this.failed !== undefined) return;
    if (chunk > this.skippedAfter) return; // a chunk whose outcome the call no longer reads (skipAfter)
    this.failed = error ?? new VerifierPoolError("TASK_FAILED", "a chunk of the call failed without an error");
    this.dropWaiting(this.failed);
  }

  /**
   * An item of chunk `chunk` threw in its worker (SIGNATURE_ITEM_FAILED). A batch call then
   * rejects with the error of its first such item in item order (batchVerdicts), from this chunk
   * or an earlier one, so the chunks after this one cannot change its answer: those still waiting
   * are dropped now, their bytes given back, instead of each running for nothing (as fail() does
   * for a whole chunk's failure). The earlier chunks run on: places are handed out in order
   * (releaseSlot), so they all hold theirs already, and one of them may hold an earlier item.
   */
  skipAfter(chunk: number): void {
    if (chunk >= this.skippedAfter) return;
    this.skippedAfter = chunk;
    this.skipped ??= new VerifierPoolError("TASK_FAILED", "not run: an earlier chunk of the call has an item that failed");
    let count = 0;
    for (const waiter of this.waiting) {
      if (waiter.chunk <= chunk) continue;
      this.drop(waiter, this.skipped);
      count++;
    }
    this.dropped(count);
  }

  private dropWaiting(error: unknown): void {
    const count = this.waiting.size;
    for (const waiter of this.waiting) this.drop(waiter, error);
    this.dropped(count);
  }

  /** Rejects a waiting chunk with `error`: releaseSlot passes it over (`dropped`). */
  private drop(waiter: SlotWaiter, error: unknown): void {
    waiter.dropped = true;
    waiter.call = undefined;
    this.waiting.delete(waiter);
    waiter.reject(error);
  }
}

/**
 * Packs every chunk of a call before any is sent (so a call either starts whole or not at all):
 * the call's private copy of its input. An allocation failure becomes VerifierPoolError OUT_OF_MEMORY.
 */
function packAll(chunks: OwnList<ChunkRange>, pack: (start: number, end: number) => SharedArrayBuffer): OwnList<SharedArrayBuffer> {
  return allocating(() => {
    // Indexed, not `map` with a destructured pair: both run methods caller code may have
    // replaced (Array.prototype.map, the array iterator) between the checks and the copy (review
    // 84 F3); into an OwnList, which no accessor on Array.prototype sees (src/bytes.ts).
    const buffers = ownList<SharedArrayBuffer>(chunks.length);
    for (let c = 0; c < chunks.length; c++) buffers[c] = pack(chunks[c][0], chunks[c][1]);
    return buffers;
  });
}

// Promise's constructor and `then` as this module loaded. A call's synchronous start chains the
// pool's own promises (each chunk's answer, its bytes given back, the call's answer): a `then`
// caller code replaced there decided what the call answered (review 99: [false] became [true]).
// This closes that route, not every one: `then` still asks the promise for its constructor
// (Promise.prototype.constructor, Symbol.species), and a caller's own `await` runs the realm's
// Promise. The pool's answers travel through the realm's Promise, which no library can guard;
// the in-thread API answers synchronously.
const OwnPromise = Promise;
const callThen = uncurryThis(Promise.prototype.then as (this: Promise<unknown>, onFulfilled?: (value: never) => unknown, onRejected?: (reason: unknown) => unknown) => Promise<unknown>);
/** queueMicrotask as this module loaded: the pool's sends are queued with it (hunt 17, the header). */
const enqueueMicrotask = queueMicrotask;

/** `promise.then(onFulfilled, onRejected)` with the `then` captured at load. */
function then<T, R>(promise: Promise<T>, onFulfilled: (value: T) => R | PromiseLike<R>, onRejected?: (reason: unknown) => R | PromiseLike<R>): Promise<R> {
  return callThen(promise, onFulfilled as (value: never) => unknown, onRejected) as Promise<R>;
}

const ignore = (): void => undefined;

/**
 * A new promise of the pool's and its settling functions, for a call's answer, made on the
 * caller's stack. The constructor runs the executor, a function, which near the end of the stack
 * can fail to start: the constructor then returns the promise rejected with the engine's
 * RangeError rather than throwing it (3 of 12 million constructions swept across the stack's end,
 * measured while fixing hunt 17: a call committed after that could never be settled). Such a
 * promise gets a handler here (this runs shallower than the executor needed), and a RangeError
 * with the engine's message is thrown in its place: the caller gets no promise and holds nothing.
 * @throws RangeError when the stack is exhausted.
 */
function newDeferred<T>(): { promise: Promise<T>; settle: Settle<T> } {
  const made: { settle: Settle<T> | undefined } = { settle: undefined };
  const promise = new OwnPromise<T>((resolve, reject) => (made.settle = { resolve, reject }));
  if (made.settle === undefined) {
    callThen(promise, undefined, ignore);
    throw new EngineRangeError(STACK_OVERFLOW_MESSAGE);
  }
  return { promise, settle: made.settle };
}

/** Ends `call` when `part`, its chunk `chunk`, rejects (PoolCall.fail); the rejection itself goes on to the call's answer (allParts, batchVerdicts). */
function endsCallOnFailure(part: Promise<unknown>, call: PoolCall, chunk: number): void {
  then(part, () => undefined, (error: unknown) => call.fail(error, chunk));
}

/**
 * Each part's value, in order, once every part has one; the first rejection otherwise: as
 * Promise.all, but reading `parts` by index. Promise.all walks its argument with the array
 * iterator, which caller code can replace to answer for the parts (review 98: a call's [false]
 * became [true]). The parts are the pool's own promises; what a caller's `await` then does with
 * the call's promise is the realm's Promise, beyond any library's reach.
 */
function allParts<T>(parts: OwnList<Promise<T>>): Promise<OwnList<T>> {
  return new OwnPromise<OwnList<T>>((resolve, reject) => {
    const values = ownList<T>(parts.length);
    let left = parts.length;
    if (left === 0) resolve(values);
    for (let c = 0; c < parts.length; c++) {
      then(parts[c], (value) => {
        values[c] = value;
        if (--left === 0) resolve(values);
      }, reject);
    }
  });
}

/**
 * verifyBatch's answer from its chunks' parts: every chunk's verdicts, in order, once all have
 * answered and no item threw in a worker; else a rejection. A chunk that fails whole (its worker
 * crashed, no worker, a TaskFailure) rejects the call as it comes, as allParts does. An item that
 * threw (SIGNATURE_ITEM_FAILED) rejects it with that item's error once it is known to be the
 * first such item in item order, that is once every earlier chunk has answered without one:
 * ed25519.verifyBatch throws the first in this thread. The chunks after the first with such an
 * item cannot change the answer: their parts' outcomes are not read, and runChunk has dropped
 * those still waiting (PoolCall.skipAfter), whose parts reject with an error that is never the
 * call's (`call.skippedWith`), whichever part settles first.
 */
function batchVerdicts(parts: OwnList<Promise<SignatureVerdicts>>, call: PoolCall): Promise<OwnList<SignatureVerdicts>> {
  return new OwnPromise<OwnList<SignatureVerdicts>>((resolve, reject) => {
    const values = ownList<SignatureVerdicts>(parts.length);
    let firstFailed = parts.length; // the first chunk known to hold an item that threw
    let answered = 0; // chunks 0 .. answered - 1 have answered without one
    const decide = () => {
      while (answered < firstFailed && values[answered] !== undefined) answered++;
      if (answered === parts.length) resolve(values);
      else if (answered === firstFailed) reject(mapIteratorStep(mapValues(values[firstFailed].failed!)).value);
    };
    for (let c = 0; c < parts.length; c++) {
      then(
        parts[c],
        (value) => {
          values[c] = value;
          if (value.failed !== undefined && c < firstFailed) firstFailed = c;
          decide();
        },
        (error: unknown) => {
          if (c < firstFailed && !call.skippedWith(error)) reject(error);
        },
      );
    }
    if (parts.length === 0) resolve(values);
  });
}

/** Each chunk's sum of bytesOf over its items: with the overheads its caller adds, the bytes its answer gives back (maxQueuedBytes). */
function chunkByteSums(chunks: OwnList<ChunkRange>, bytesOf: (i: number) => number): OwnList<number> {
  const sums = ownList<number>(chunks.length);
  for (let c = 0; c < chunks.length; c++) {
    let sum = 0;
    for (let i = chunks[c][0]; i < chunks[c][1]; i++) sum += bytesOf(i);
    sums[c] = sum;
  }
  return sums;
}

/**
 * Bytes admit counted for a call (or a bucket of single calls) that none of its chunks has taken
 * yet: each chunk takes its share as it starts and gives it back to the pool's count when it
 * settles (runChunk), and whatever stops the call before all its chunks have started gives back
 * what is left here (hunt 17).
 */
interface Holding {
  bytes: number;
}

/** A call's chunks, packed, each one's bytes as admit counted them (lists of the pool's own: OwnList), and what no chunk has taken yet. */
interface PackedCall {
  chunks: OwnList<ChunkRange>;
  buffers: OwnList<SharedArrayBuffer>;
  held: OwnList<number>;
  holding: Holding;
}

/** Whether a batch call queued its send and then completed its commit (queueSend): else the send does nothing. */
interface SendTicket {
  committed: boolean;
}

/** A promise's settling functions, taken out of its executor. */
interface Settle<T> {
  resolve(value: T | PromiseLike<T>): void;
  reject(error: unknown): void;
}

/** Dead entries (spent or dropped waiters) slotQueue holds before it is compacted, if they are also half of it. */
const QUEUE_COMPACTION_MIN = 1024;

/** Why watchWorkers aborts the queued tasks, and the message of their calls' WORKER_UNAVAILABLE. */
const NO_WORKER = "no worker is running: the last one failed while starting";

/**
 * `copy()`, with an allocation failure as VerifierPoolError OUT_OF_MEMORY: the engine's own
 * RangeError, which (unlike this library's RangeError subclasses, InvalidLengthError and the
 * like) has no `code`.
 */
function allocating<T>(copy: () => T): T {
  try {
    return copy();
  } catch (cause) {
    // V8's stack overflow is a RangeError without a code too: it is thrown as it is, as the
    // in-thread API would (review 48: it was reported as OUT_OF_MEMORY), told apart by the pool's
    // one test for it (isEngineStackOverflow, which the other catches that type errors ask too).
    if (isEngineStackOverflow(cause)) throw cause;
    if (isInstanceOf(EngineRangeError, cause) && (cause as { code?: unknown }).code === undefined) {
      throw new VerifierPoolError("OUT_OF_MEMORY", `cannot allocate the pool's copy of the call's input: ${cause.message}`, { cause });
    }
    throw cause;
  }
}

/**
 * Single verify() calls of one tick, one bucket per zip215 setting: lists of the pool's own
 * (OwnList, written by index: a replaced `push` or an accessor on Array.prototype could pair one
 * call's answer with another's item).
 */
interface Bucket {
  zip215: boolean;
  signatures: OwnList<Uint8Array>;
  messages: OwnList<Uint8Array>;
  publicKeys: OwnList<Uint8Array>;
  settle: OwnList<Settle<boolean>>;
  /** Chunk bytes of the items so far (signatureChunkBytes): what fills it up to POOL_CHUNK_BYTE_BUDGET. */
  bytes: number;
  /** What admit counted for the calls in it: their chunk bytes, POOL_CALL_OVERHEAD_BYTES each, and POOL_TASK_OVERHEAD_BYTES for the call that opened it. */
  held: number;
  /** It holds chunkSize items or POOL_CHUNK_BYTE_BUDGET bytes, and was detached for the next calls: its flush sends it as one task (cut only by the budget). */
  full: boolean;
}

class PiscinaVerifierPool implements VerifierPool {
  readonly threads: number;
  private readonly chunkSize: number;
  private readonly crash: { kind: number; every: boolean } | undefined;
  private readonly piscina: Piscina<PoolTask, TaskAnswer>;
  /**
   * Calls and chunks not settled yet; close() waits until none is left. A count rather than a
   * set of the promises: holding each call's promises in a Set made most of the calling thread's
   * young objects (the verdicts) survive scavenges and get promoted (measured with --trace-gc on
   * 256-envelope calls: 183 of 382 MB survived, 220 ms of scavenge pauses in 5 s; 13 MB and
   * 80–106 ms with the count), and those collections took CPU time from the workers.
   */
  private pending = 0;
  /** Ends the workers once `pending` drops to 0 after close() (finishClose). */
  private drained: (() => void) | undefined;
  private readonly buckets: (Bucket | undefined)[] = [undefined, undefined];
  private closing: Promise<void> | undefined;
  /**
   * One AbortController per task handed to piscina and not settled yet, aborted when no worker is
   * left (watchWorkers). One each, not one signal for all: piscina adds an abort listener per task
   * to the signal it gets, and Node's EventTarget checks a new listener against every listener
   * already there, so one shared signal made each task cost time in proportion to the tasks in
   * flight (review 48: 40,000 one-item calls took 21 s; 5.5 s with a signal each).
   */
  private readonly waiting = new Set<AbortController>();
  /** A TASK_START_WORKER task is out (watchWorkers): piscina has not reported a new worker since. */
  private startingWorker = false;
  /** VerifierPoolOptions.maxQueuedBytes. */
  private readonly maxQueuedBytes: number;
  /** Bytes of the calls not yet answered, input and overheads (counted by admit, given back by each chunk as it settles: runChunk): what maxQueuedBytes bounds. */
  private bytesHeld = 0;

  get queuedBytes(): number {
    return this.bytesHeld;
  }
  /** Whether any worker has ever loaded its module (codec.ts WORKER_LOADED_MESSAGE). */
  private aWorkerLoaded = false;
  /** The last error a worker ended with outside a chunk (piscina's 'error', a TASK_START_WORKER task): the cause watchWorkers gives. */
  private lastWorkerError: unknown = undefined;
  /**
   * Chunks waiting for one of the `threads` places in piscina, in call order (acquireSlot). All
   * our tasks carry an AbortSignal (watchWorkers), and piscina keeps those in an array where a
   * task whose worker is busy goes back to the tail, so a backlog handed to piscina whole ran
   * out of order: of 2,000 one-item calls on one thread, the third settled 1,954th (review 56).
   * Handed over only as workers free up, each task finds a free worker and nothing queues there.
   */
  private slotQueue = ownList<SlotWaiter>(); // the pool's own list (src/bytes.ts): no push or splice, no accessor on Array.prototype
  /** Waiters in slotQueue whose call was aborted (PoolCall.onAbort): removed at once when they are many. */
  private droppedWaiters = 0;
  /** The signals of pending calls (PoolCallOptions), one listener each. */
  private readonly aborts = new AbortWatch();
  /** Attempts handed to piscina (runAttempts): read by test/node/pool-abort.test.ts (no retry after an abort). */
  private attemptsStarted = 0;
  /** Index of slotQueue's first waiter (a moving head: Array#shift is O(n) for a long backlog). */
  private slotHead = 0;
  /** Chunks holding a place in piscina (at most `threads`). */
  private slotsTaken = 0;

  constructor(options: VerifierPoolOptions | undefined) {
    // Read once each; a member not listed (a misspelt `thread` would leave the default thread
    // count in force unnoticed) or a throwing read is InvalidTypeError (review 59).
    const o = readOptions(options, POOL_OPTION_KEYS) as VerifierPoolOptions;
    this.threads = integerOption(o.threads, "threads", 1, 256, Math.max(1, availableParallelism()));
    this.chunkSize = integerOption(o.chunkSize, "chunkSize", 1, MAX_POOL_CHUNK_SIZE, DEFAULT_POOL_CHUNK_SIZE);
    this.maxQueuedBytes = integerOption(o.maxQueuedBytes, "maxQueuedBytes", MIN_POOL_MAX_QUEUED_BYTES, Number.MAX_SAFE_INTEGER, DEFAULT_POOL_MAX_QUEUED_BYTES);
    const heapMb = o.maxWorkerHeapMb === undefined ? undefined : integerOption(o.maxWorkerHeapMb, "maxWorkerHeapMb", 8, 1 << 20, 0);
    const crash = o.crashWorkersForTesting === undefined ? undefined : (readOptions(o.crashWorkersForTesting, CRASH_OPTION_KEYS, "crashWorkersForTesting") as { kind?: unknown; attempts?: unknown });
    if (crash !== undefined) {
      const kind = typeof crash.kind === "string" && Object.hasOwn(CRASH_KINDS, crash.kind) ? CRASH_KINDS[crash.kind as keyof typeof CRASH_KINDS] : undefined;
      if (kind === undefined) throw new InvalidTypeError('crashWorkersForTesting.kind must be "exit", "uncaught" or "oom"');
      if (crash.attempts !== "first" && crash.attempts !== "every") throw new InvalidTypeError('crashWorkersForTesting.attempts must be "first" or "every"');
      // Without a heap limit, a worker's OOM would take the whole process down.
      if (kind === CRASH_OOM && heapMb === undefined) throw new InvalidConfigError('crashWorkersForTesting.kind "oom" needs maxWorkerHeapMb');
      this.crash = { kind, every: crash.attempts === "every" };
    }
    // Chunks travel as SharedArrayBuffers (codec.ts); a host started with SharedArrayBuffer
    // switched off (node --no-harmony-sharedarraybuffer) cannot run the pool.
    if (typeof SharedArrayBuffer !== "function") {
      throw new VerifierPoolError("WORKER_UNAVAILABLE", "the verifier pool needs SharedArrayBuffer, which this host has switched off");
    }
    const filename = workerFile();
    if (!existsSync(filename)) {
      throw new VerifierPoolError("WORKER_UNAVAILABLE", `the pool's worker file ${filename} does not exist (the pool runs from the built package, dist/)`);
    }
    this.piscina = new Piscina<PoolTask, TaskAnswer>({
      filename,
      minThreads: this.threads,
      maxThreads: this.threads,
      ...(heapMb === undefined ? {} : { resourceLimits: { maxOldGenerationSizeMb: heapMb } }),
    });
    // The methods work detached from the pool (`const { verify } = pool`), as ed25519's do.
    this.verify = this.verify.bind(this);
    this.verifyBatch = this.verifyBatch.bind(this);
    this.verifyEnvelopeBatch = this.verifyEnvelopeBatch.bind(this);
    this.close = this.close.bind(this);
    // A worker that dies while idle is replaced by piscina and emits 'error' here; no task was
    // lost (a task in flight is failed to its caller instead). Without a listener the
    // EventEmitter would throw it in the calling thread.
    this.piscina.on("error", (error: unknown) => (this.lastWorkerError = error));
    this.piscina.on("message", (message: unknown) => {
      if (message === WORKER_LOADED_MESSAGE) this.aWorkerLoaded = true;
    });
    this.piscina.on("workerCreate", () => (this.startingWorker = false));
    this.piscina.on("workerDestroy", () => this.watchWorkers());
  }

  /**
   * After a worker is gone: if none is left while tasks wait, have piscina start one, and if that
   * one fails while starting too, fail every task still queued. piscina replaces a worker that dies
   * once it was running, but not one that dies while starting (its file is missing or broken after
   * an in-place deploy, its heap limit is too small to load it); and once any worker has died while
   * starting it replaces none that die later either (piscina 5's workerFailsDuringBootstrap, which
   * never resets). It hands tasks only to started workers, but starts one for a task when none is
   * there: so a TASK_START_WORKER task gets the queue going again (review 48: calls queued behind a
   * crash were failed with WORKER_UNAVAILABLE although a fresh worker would have served them), and
   * only when the worker started for it dies before piscina reports it created are the waiting
   * tasks aborted, their calls rejecting with WORKER_UNAVAILABLE (a broken deploy: without this
   * they would wait forever, and close() with them). The check runs after piscina has started any
   * replacement (which counts as a thread while it starts).
   */
  private watchWorkers(): void {
    setImmediate(() => {
      if (this.piscina.threads.length > 0 || this.piscina.queueSize === 0) return;
      if (!this.startingWorker) {
        this.startingWorker = true;
        this.piscina.run({ kind: TASK_START_WORKER, crash: CRASH_NONE }).catch((error: unknown) => (this.lastWorkerError = error));
        return;
      }
      // Every call failed here gets the worker's own error as its cause (review 93 F3: only the
      // first did; the others got the bare message).
      const reason = this.lastWorkerError ?? new Error(NO_WORKER);
      const waiting = [...this.waiting];
      this.waiting.clear();
      for (const controller of waiting) controller.abort(reason);
      // The chunks behind them would be handed to piscina next, with no worker to take them either.
      const queue = this.slotQueue;
      const from = this.slotHead;
      const to = queue.length;
      this.slotQueue = ownList();
      this.slotHead = this.droppedWaiters = 0;
      for (let i = from; i < to; i++) {
        const waiter = queue[i];
        waiter.call?.waiting.delete(waiter);
        if (!waiter.dropped) waiter.reject(reason);
      }
    }).unref();
  }

  verify(signature: Uint8Array, message: Uint8Array, publicKey: Uint8Array | PreparedPublicKey, options?: VerifyOptions): Promise<boolean> {
    let call: PoolCall | undefined;
    try {
      this.assertOpen();
      // ed25519.verify's checks, in its order, here on the calling thread, on private copies (the
      // caller may reuse its buffers). The options are read first: their getters may run caller
      // code, which must not run between a check and its copy.
      const { verify: { zip215 }, signal } = poolVerifyOptions(options);
      call = this.watch(signal);
      // Every check before any copy, as ed25519.verify does (review 56: the signature was copied
      // before the key was checked).
      expectBytes(signature, SIGNATURE_BYTES, "signature");
      assertBytes(message, "message");
      const publicKeyBytes = publicKeyArgumentBytes(publicKey, "publicKey");
      // Measured once: the bytes admitted, the copy and the bytes its chunk gives back all come
      // from this length. Hunt 17: a length-tracking view of a growable SharedArrayBuffer that
      // another thread grew between two readings was admitted short and given back long, and
      // queuedBytes went below zero (loosening maxQueuedBytes by as much).
      const messageLength = viewLength(message);
      // A message no core could hold is refused here, as ed25519.verify refuses it, before it is
      // copied (and before its length could pass the chunk's 32-bit offsets).
      assertFitsAnyCore(messageLength);
      this.assertOpen(); // a getter may have closed the pool
      call?.throwIfEnded(); // before anything is held
      const index = zip215 ? 1 : 0;
      const itemBytes = SIGNATURE_BYTES + PUBLIC_KEY_BYTES + messageLength; // signatureChunkBytes of the copy
      // The call that opens its tick's bucket counts the task too (no caller code runs from here to
      // openBucket, so the bucket found here is the one it joins).
      const bytes = itemBytes + POOL_CALL_OVERHEAD_BYTES + (this.buckets[index] === undefined ? POOL_TASK_OVERHEAD_BYTES : 0);
      this.admit(bytes); // before the copy (maxQueuedBytes); given back when its chunk settles
      let copies: { signatureCopy: Uint8Array; messageCopy: Uint8Array; publicKeyCopy: Uint8Array };
      let bucket: Bucket;
      let settle: Settle<boolean>;
      let answer: Promise<boolean>;
      try {
        copies = allocating(() => ({
          signatureCopy: copyBytes(signature, "signature", SIGNATURE_BYTES),
          messageCopy: copyBytes(measuredView(message, messageLength), "message"),
          publicKeyCopy: copyBytes(publicKeyBytes, "publicKey", PUBLIC_KEY_BYTES),
        }));
        // The tick's bucket (opening one queues its flush) and the call's promise, made while a
        // throw can still give the bytes back (hunt 17: see the header).
        bucket = this.buckets[index] ?? this.openBucket(index, zip215);
        const result = newDeferred<boolean>();
        settle = result.settle;
        // An abort settles only this call: its item rides in the chunk it shares with the tick's other calls.
        answer = call === undefined ? result.promise : this.abortable(call, result.promise);
      } catch (error) {
        this.bytesHeld -= bytes;
        if (call !== undefined) call.rejectCall = undefined; // an abort must not reject the promise left behind (no one listens to it)
        throw error;
      }
      // The call joins its bucket: stores only, which cannot throw, so a call either holds its
      // bytes in the bucket, whose flush settles it, or holds nothing (hunt 17).
      const at = bucket.settle.length;
      bucket.signatures[at] = copies.signatureCopy;
      bucket.messages[at] = copies.messageCopy;
      bucket.publicKeys[at] = copies.publicKeyCopy;
      bucket.bytes += itemBytes;
      bucket.held += bytes;
      bucket.settle[at] = settle;
      if (at + 1 >= this.chunkSize || bucket.bytes >= POOL_CHUNK_BYTE_BUDGET) {
        // Full: the calls after this one fill a new bucket, flushed after this one.
        bucket.full = true;
        this.buckets[index] = undefined;
      }
      return answer;
    } catch (error) {
      this.unwatch(call);
      return rejectedPromise(error);
    }
  }

  /**
   * A new bucket of single calls for the zip215 setting `index`, its flush queued now: it runs
   * once the code that made the tick's calls has returned, on a stack of its own (hunt 17: a flush
   * run on the stack of the call that filled the bucket, or of a batch call made after the
   * bucket's calls, could run out of it half-way when that call was made near the stack's end,
   * and leave the bucket's other calls pending for good). Counted in `pending` until its flush has
   * run, so close() waits for it.
   */
  private openBucket(index: number, zip215: boolean): Bucket {
    const bucket: Bucket = { zip215, signatures: ownList(), messages: ownList(), publicKeys: ownList(), settle: ownList(), bytes: 0, held: 0, full: false };
    enqueueMicrotask(() => this.flush(index, bucket));
    // Stores last: a throw above leaves no bucket behind.
    this.buckets[index] = bucket;
    this.pending++;
    return bucket;
  }

  /**
   * Sends a bucket of single calls: the microtask openBucket queued, once for each bucket. Its
   * items were copied when each call was made; a bucket is detached from the calls that follow
   * when it is full (chunkSize items, or POOL_CHUNK_BYTE_BUDGET bytes), or when a batch call is
   * made (queueSend: that call's chunks go after this bucket's, as tasks run in call order; review
   * 59: a verify() made before a large verifyBatch in the same tick waited for the whole batch),
   * and else by this flush. A full bucket goes as one task (cut only where its bytes exceed the
   * budget): the calls after it fill the next bucket, for another thread. The last bucket of a
   * tick is cut as a call is (planCall), so a burst smaller than chunkSize still reaches every
   * thread.
   */
  private flush(index: number, bucket: Bucket): void {
    if (this.buckets[index] === bucket) this.buckets[index] = undefined;
    try {
      this.sendBucket(bucket);
    } finally {
      this.settledOne(); // openBucket's count: the chunks sent are counted on their own by now
    }
  }

  /**
   * flush's work. Every call of the bucket settles: with its answer, or with the error of packing
   * or sending it; whatever throws here, the bytes no chunk has taken are given back and every
   * call whose chunk has no handlers yet rejects with it (hunt 17: a throw after the bucket was
   * detached left its calls pending and, before its chunks ran, its bytes counted for good).
   */
  private sendBucket(bucket: Bucket): void {
    const { settle } = bucket;
    const count = settle.length;
    const holding: Holding = { bytes: bucket.held };
    let answered = 0; // the calls [0, answered) settle from their chunk's part
    try {
      if (count === 0) return; // every call that opened or joined it failed before it held anything
      const bytesOf = (i: number) => signatureChunkBytes(bucket.messages[i]);
      const chunks = bucket.full ? planChunks(count, count, bytesOf) : this.planCall(count, bytesOf);
      const buffers = packAll(chunks, (start, end) => packSignatureChunk(bucket.signatures, bucket.messages, bucket.publicKeys, start, end));
      const held = chunkByteSums(chunks, bytesOf);
      // Each chunk gives back its calls' overhead, and the first the bucket's task overhead: what
      // is left of bucket.held, so that the chunks give back exactly what admit counted. A bucket
      // the flush cuts in several tasks (one per thread, 32 calls each at least, or past the byte
      // budget) counts one task: the others are spread over at least 32 calls or 16 MiB.
      let left = bucket.held;
      for (let c = 0; c < chunks.length; c++) left -= held[c] += POOL_CALL_OVERHEAD_BYTES * (chunks[c][1] - chunks[c][0]);
      held[0] += left;
      // The packed chunks are the bucket's input from here on: let the per-call copies go, so a
      // call's input is held once while it is in flight (the closures below keep only `settle`).
      bucket.signatures.length = bucket.messages.length = bucket.publicKeys.length = 0;
      const verify = { zip215: bucket.zip215 };
      // Each call its own outcome, from its own chunk: a chunk that fails (its workers crashed, no
      // worker) rejects only its calls, and a call whose item threw in the worker
      // (SIGNATURE_ITEM_FAILED) rejects alone (review 56: one failed chunk rejected every call of
      // the tick, the answered ones too). The parts are tracked, so close() waits for them.
      for (let c = 0; c < chunks.length; c++) {
        const start = chunks[c][0];
        const end = chunks[c][1];
        const part = this.signaturePart(buffers[c], end - start, verify, holding, held[c]);
        then(
          part,
          ({ bits, failed }) => {
            const verdicts = viewLength(bits); // the slot: `length` can be redefined
            for (let k = 0; k < verdicts; k++) {
              if (bits[k] === SIGNATURE_ITEM_FAILED) settle[start + k].reject(failed!.get(k));
              else settle[start + k].resolve(bits[k] === 1);
            }
          },
          (error: unknown) => {
            for (let i = start; i < end; i++) settle[i].reject(error);
          },
        );
        answered = end;
      }
    } catch (error) {
      this.bytesHeld -= holding.bytes;
      holding.bytes = 0;
      for (let i = answered; i < count; i++) settle[i].reject(error);
    }
  }

  verifyBatch(items: readonly SignatureItem[], options?: VerifyOptions): Promise<boolean[]> {
    let call: PoolCall | undefined;
    try {
      this.assertOpen();
      // ed25519.verifyBatch's order: the options, then every item read once and checked; then
      // the copy (packing) with no caller code in between.
      const { verify, signal } = poolVerifyOptions(options);
      call = this.watch(signal);
      const { signatures, messages, publicKeys } = readBatchItems(items);
      // As verify(), before any copy; an indexed loop, as `for…of` would run the array iterator,
      // which caller code may have replaced, after the checks (review 84 F3). Each message is
      // measured once: a view of shared memory is replaced by a fixed-length view of what was
      // measured, so that planning, admission and packing read the same length (hunt 17: see verify).
      for (let i = 0; i < messages.length; i++) {
        const length = viewLength(messages[i]);
        assertFitsAnyCore(length);
        messages[i] = measuredView(messages[i], length);
      }
      this.assertOpen(); // a getter may have closed the pool
      call?.throwIfEnded();
      // Packed (the copy) before anything is queued: queueing runs built-ins (the Promise methods)
      // which must not run between the checks above and the copy (review 98). Sent after the
      // tick's single calls made before it all the same: they were made first, and tasks run in
      // call order (queueSend).
      const state = this.callState(call);
      const packed = this.packSignatures(signatures, messages, publicKeys); // admits (given back if packing throws)
      try {
        return this.queueSend(packed, call, () => this.sendSignatures(packed, verify, state));
      } catch (error) {
        // Nothing was sent (queueSend commits last): the bytes go back (hunt 17).
        this.bytesHeld -= packed.holding.bytes;
        if (call !== undefined) call.rejectCall = undefined; // see verify
        throw error;
      }
    } catch (error) {
      this.unwatch(call);
      return rejectedPromise(error);
    }
  }

  /** A batch call's signature chunks sent (queueSend's microtask), and its answer from their parts. */
  private sendSignatures(packed: PackedCall, verify: VerifyOptions, state: PoolCall): Promise<boolean[]> {
    const parts = this.runSignatureChunks(packed, verify, state);
    // An item that threw fails the whole call, as it makes ed25519.verifyBatch throw in this
    // thread: batchVerdicts rejects with the first in item order.
    return then(batchVerdicts(parts, state), (results) => {
      // Filled as an OwnList and handed out as an Array, as ed25519.verifyBatch fills its answer.
      const out = ownList<boolean>();
      for (let c = 0; c < results.length; c++) {
        const { bits } = results[c];
        const verdicts = viewLength(bits); // the slot: `length` can be redefined
        for (let i = 0; i < verdicts; i++) out[out.length] = bits[i] === 1;
      }
      return ownListAsArray(out);
    });
  }

  verifyEnvelopeBatch(envelopes: readonly (Uint8Array | string)[], options?: VerifyEnvelopeOptions): Promise<EnvelopeVerdict[]> {
    let call: PoolCall | undefined;
    try {
      this.assertOpen();
      if (!isArrayArgument(envelopes)) throw new InvalidTypeError("envelopes must be an array");
      const { envelope, signal } = poolEnvelopeOptions(options); // verifyEnvelopeBytes's checks; the normalised options go to the workers
      call = this.watch(signal);
      const count = arrayArgumentLength(envelopes, "envelopes");
      // Every item read once (a getter or Proxy trap runs here only), then checked and cut: no
      // caller code runs between an item's check and the copy (verifyEnvelopeBatch's order).
      const inputs = readEnvelopeInputs(envelopes, count);
      for (let i = 0; i < count; i++) {
        const input = inputs[i];
        // Input longer than maxBytes (in bytes, or in UTF-16 units, each at least one UTF-8
        // byte) is refused by verifyEnvelopeBytes before it reads anything, with a verdict that
        // does not depend on the length: its first maxBytes + 1 units give that same verdict,
        // so an oversized input costs a bounded copy. Lengths and prefixes come from the views'
        // internal slots (a subclass's `length` or `subarray` is never called), and a string's
        // prefix from String.prototype.slice as this module loaded (review 84 F3). A view is
        // measured once (hunt 17: see verifyBatch).
        const limit = envelope.maxBytes + 1;
        if (typeof input === "string") {
          inputs[i] = input.length > limit ? stringSlice(input, 0, limit) : input;
        } else {
          const length = viewLength(input);
          inputs[i] = length > limit ? viewPrefix(input, limit) : measuredView(input, length);
        }
      }
      this.assertOpen(); // a getter may have closed the pool
      call?.throwIfEnded();
      const state = this.callState(call);
      const packed = this.packEnvelopes(inputs); // before anything is queued: see verifyBatch
      try {
        return this.queueSend(packed, call, () => this.sendEnvelopes(packed, envelope, state));
      } catch (error) {
        this.bytesHeld -= packed.holding.bytes; // see verifyBatch
        if (call !== undefined) call.rejectCall = undefined;
        throw error;
      }
    } catch (error) {
      this.unwatch(call);
      return rejectedPromise(error);
    }
  }

  /** A batch call's envelope chunks sent (queueSend's microtask), and its answer from their parts. */
  private sendEnvelopes(packed: PackedCall, envelope: Required<VerifyEnvelopeOptions>, state: PoolCall): Promise<EnvelopeVerdict[]> {
    const { chunks, buffers, held, holding } = packed;
    const parts = ownList<Promise<EnvelopeVerdict[]>>(buffers.length);
    for (let c = 0; c < buffers.length; c++) {
      const count = chunks[c][1] - chunks[c][0];
      parts[c] = this.track(
        then(this.runChunk({ kind: TASK_ENVELOPES, buffer: buffers[c], envelope, crash: CRASH_NONE }, holding, held[c], state, c), (answer) => {
          state.throwIfEnded(); // answered after the call was aborted or failed: no verdicts built
          return readEnvelopeAnswer(answer, envelope, count);
        }),
      );
      endsCallOnFailure(parts[c], state, c);
    }
    return then(allParts(parts), (results) => {
      const out = ownList<EnvelopeVerdict>(); // as verifyBatch's answer
      for (let c = 0; c < results.length; c++) {
        const verdicts = results[c];
        for (let i = 0; i < verdicts.length; i++) out[out.length] = verdicts[i];
      }
      return ownListAsArray(out);
    });
  }

  /**
   * Commits a batch call, packed and admitted: its promise, and its send queued as a microtask,
   * which hands out its chunks once the code that made the call has returned, on a stack of its
   * own (sendQueued). Queued after the flushes of the buckets of single calls made before it,
   * which it detaches, so the single calls made after it fill new buckets, flushed after it: the
   * calls' tasks go out in call order. If this throws (a stack overflow: the call was made near
   * the stack's end), nothing was committed and the caller gives the bytes back; past the
   * queueing only stores run, so a call either rejects holding nothing or is sent whole (hunt 17:
   * its chunks were handed to piscina on the caller's stack, where a promise of the pool's could
   * reject with no handler, ending the process, and a throw left the call's bytes counted for good).
   */
  private queueSend<T>(packed: PackedCall, call: PoolCall | undefined, send: () => Promise<T>): Promise<T> {
    const ticket: SendTicket = { committed: false };
    const { promise, settle } = newDeferred<T>();
    const answer = call === undefined ? promise : this.abortable(call, promise);
    enqueueMicrotask(() => this.sendQueued(ticket, packed, settle, send));
    ticket.committed = true;
    this.pending++; // close() waits for the send; sendQueued takes it back
    this.buckets[0] = this.buckets[1] = undefined;
    return answer;
  }

  /**
   * queueSend's microtask: sends the call's chunks (`send`) and settles the call's promise with
   * their answer. Whatever throws, the bytes no chunk has taken are given back and the call
   * rejects with it (the chunks that started give theirs back as they settle).
   */
  private sendQueued<T>(ticket: SendTicket, packed: PackedCall, settle: Settle<T>, send: () => Promise<T>): void {
    if (!ticket.committed) return; // the call threw before it was committed: it holds nothing, and its promise is no one's
    try {
      settle.resolve(this.track(send()));
    } catch (error) {
      this.bytesHeld -= packed.holding.bytes;
      packed.holding.bytes = 0;
      settle.reject(error);
    } finally {
      this.settledOne();
    }
  }

  close(): Promise<void> {
    try {
      if (this.closing === undefined) {
        // Its promise made and its work queued on the caller's stack, as a call's send is
        // (queueSend), then committed with a store: a close() made near the stack's end either
        // closes the pool or throws the engine's RangeError and leaves it open for a later
        // close(). Before, close() waited and ran piscina.destroy() on the caller's stack, and
        // kept its promise rejected with that RangeError as the pool's close: every call was
        // refused POOL_CLOSED and no close() could end the workers; and piscina's destroy, cut
        // short, left a promise of its own rejected unheard, which ended the process.
        const { promise, settle } = newDeferred<void>();
        enqueueMicrotask(() => this.finishClose(settle));
        this.closing = promise;
      }
      return this.closing;
    } catch (error) {
      return rejectedPromise(error);
    }
  }

  /**
   * close()'s microtask: ends the workers once every call accepted before close() has been
   * answered. Every such call is counted in `pending`: a bucket of single calls until its flush
   * has run (openBucket), a batch call until its send has run (queueSend), and each chunk sent
   * and each call's answer until they settle (track); and nothing is counted once the pool is
   * closing but by those (every call checks assertOpen first, and a chunk's retry runs inside its
   * counted runChunk). So `pending` reaches 0 only once every such call has been answered.
   */
  private finishClose(settle: Settle<void>): void {
    const destroy = (): void => {
      this.drained = undefined;
      try {
        settle.resolve(this.piscina.destroy());
      } catch (error) {
        settle.reject(error);
      }
    };
    if (this.pending > 0) this.drained = destroy;
    else destroy();
  }

  /**
   * A call's signature chunks, packed. In a method of its own so that the callbacks that wait for
   * the call's answers are made in a scope that holds none of its input: the caller's arrays and
   * views (a small view keeps its whole buffer) go once packed, and a call in flight holds its
   * input once, in its chunks (review 48: both batch calls held the caller's input too).
   */
  private packSignatures(signatures: OwnList<Uint8Array>, messages: OwnList<Uint8Array>, publicKeys: OwnList<Uint8Array>): PackedCall {
    return this.admitAndPack(signatures.length, (i) => signatureChunkBytes(messages[i]), (start, end) => packSignatureChunk(signatures, messages, publicKeys, start, end));
  }

  /** A call's envelope chunks, packed (see packSignatures). */
  private packEnvelopes(inputs: OwnList<Uint8Array | string>): PackedCall {
    return this.admitAndPack(inputs.length, (i) => envelopeHeldBytes(inputs[i]), (start, end) => packEnvelopeChunk(inputs, start, end));
  }

  /** The chunks of a call (or a bucket of single calls) of `count` items: codec.ts, planCall. */
  private planCall(count: number, bytesOf: (i: number) => number): OwnList<ChunkRange> {
    return planCall(count, this.chunkSize, this.threads, bytesOf);
  }

  private assertOpen(): void {
    if (this.closing !== undefined) throw new VerifierPoolError("POOL_CLOSED", "the verifier pool is closed");
  }

  /** Counts `promise` in `pending` until it settles (close() waits for it). */
  private track<T>(promise: Promise<T>): Promise<T> {
    const done = () => this.settledOne();
    then(promise, done, done);
    this.pending++; // after `then`: counted only once its settling is sure to take it back
    return promise;
  }

  /** One of the things counted in `pending` is done; close() goes on once none is left. */
  private settledOne(): void {
    if (--this.pending === 0) this.drained?.();
  }

  /**
   * Sends a batch call's packed signature chunks; each part settles with its chunk's verdict
   * bytes. `call`: the call's state (callState), whose other chunks a failed one ends.
   */
  private runSignatureChunks(packed: PackedCall, verify: VerifyOptions, call: PoolCall): OwnList<Promise<SignatureVerdicts>> {
    const { chunks, buffers, held, holding } = packed;
    const parts = ownList<Promise<SignatureVerdicts>>(buffers.length);
    for (let c = 0; c < buffers.length; c++) {
      parts[c] = this.signaturePart(buffers[c], chunks[c][1] - chunks[c][0], verify, holding, held[c], call, c);
      endsCallOnFailure(parts[c], call, c);
    }
    return parts;
  }

  /**
   * Sends one signature chunk of `count` items: its part, tracked, which settles with the chunk's
   * verdict bytes. The chunk takes `bytes` from `holding` as it starts (runChunk). `call`: a batch
   * call's state; undefined for a bucket of single calls, each of which has its own outcome
   * (sendBucket).
   */
  private signaturePart(buffer: SharedArrayBuffer, count: number, verify: VerifyOptions, holding: Holding, bytes: number, call?: PoolCall, chunk = 0): Promise<SignatureVerdicts> {
    return this.track(
      then(this.runChunk({ kind: TASK_SIGNATURES, buffer, verify, crash: CRASH_NONE }, holding, bytes, call, chunk), (answer) => {
        call?.throwIfEnded(chunk); // answered after the call was aborted or failed, or no longer needed: not read
        return readSignatureAnswer(answer, count);
      }),
    );
  }

  /**
   * A batch call's state: `call` (its signal's) when it has one, else a PoolCall of its own, so
   * that a failed chunk drops the call's chunks still waiting (PoolCall.fail) either way.
   */
  private callState(call: PoolCall | undefined): PoolCall {
    return call ?? new PoolCall(undefined, (count) => this.dropWaiters(count));
  }

  /**
   * A call's abort state (PoolCallOptions), watching its signal from the moment its options are
   * read (AbortWatch.add: reading a signal can run caller code, allowed only there); `call.aborted`
   * is set already if the signal had aborted. undefined for a call without a signal.
   */
  private watch(signal: AbortSignal | undefined): PoolCall | undefined {
    if (signal === undefined) return undefined;
    const call = new PoolCall(signal, (count) => this.dropWaiters(count));
    this.aborts.add(signal, call);
    return call;
  }

  /** Stops watching a call's signal: the call failed its checks (or settled: abortable). */
  private unwatch(call: PoolCall | undefined): void {
    if (call?.signal !== undefined) this.aborts.remove(call.signal, call);
  }

  /**
   * The promise a call with a signal returns: `result`'s outcome, or ABORTED at once when the
   * signal aborts first (PoolCall.onAbort also drops the call's chunks still waiting). The pool
   * stops watching the signal for this call when `result` settles: a chunk that was running
   * when the call was aborted is still tracked (close() waits for it) and gives its bytes back.
   */
  private abortable<T>(call: PoolCall, result: Promise<T>): Promise<T> {
    // Its promise made, then `result` followed, then the abort wired, each step outside any
    // executor: a throw at any of them (out of stack) leaves nothing that an abort or `result`
    // could reject unheard (hunt 17's fix: a throw of `then` inside the executor would have
    // rejected the call's promise, with no handler, and left `result` with none either).
    const { promise, settle } = newDeferred<T>();
    then(
      result,
      (value) => {
        this.unwatch(call);
        settle.resolve(value);
      },
      (error: unknown) => {
        this.unwatch(call);
        settle.reject(error);
      },
    );
    call.rejectCall = settle.reject;
    // No caller code runs between the call's last throwIfEnded() and here; checked all the same.
    if (call.aborted !== undefined) settle.reject(call.aborted);
    return promise;
  }

  /**
   * Counts `bytes` of a call's input as held, or refuses the call with QUEUE_FULL when the pool
   * already holds some and these would take it past maxQueuedBytes (VerifierPoolOptions).
   */
  private admit(bytes: number): void {
    // An empty call adds nothing and is never refused (review 94 F3: it was, while a call larger
    // than the bound ran).
    if (bytes > 0 && this.bytesHeld > 0 && this.bytesHeld + bytes > this.maxQueuedBytes) {
      throw new VerifierPoolError(
        "QUEUE_FULL",
        `the pool holds ${this.bytesHeld} bytes of calls not yet answered, and ${bytes} more would pass its maxQueuedBytes (${this.maxQueuedBytes}); retry once calls have settled`,
      );
    }
    this.bytesHeld += bytes;
  }

  /**
   * Refuses with CALL_TOO_LARGE a call of `count` (> 1) items that counts `bytes` (at least) by
   * itself, past maxQueuedBytes: no pool state would ever admit it, so it is not QUEUE_FULL
   * ("retry later"). A single item that large still runs alone on an idle pool (admit).
   */
  private refuseTooLarge(count: number, bytes: number): void {
    if (bytes > this.maxQueuedBytes) {
      throw new VerifierPoolError(
        "CALL_TOO_LARGE",
        `a call of ${count} items counts ${bytes} bytes or more, past the pool's maxQueuedBytes (${this.maxQueuedBytes}): split it into smaller calls (each item counts as many times as it appears)`,
      );
    }
  }

  /**
   * A batch call's admission (admit), then its packing, which gives the bytes back if it throws;
   * with each chunk's share of the bytes. Called from packSignatures and packEnvelopes, whose
   * scopes hold the call's input (see there).
   */
  private admitAndPack(count: number, bytesOf: (i: number) => number, pack: (start: number, end: number) => SharedArrayBuffer): PackedCall {
    // A call of several items larger than the bound by itself is refused CALL_TOO_LARGE before it
    // is copied, and before it is planned when its lengths alone pass the bound (hunt 55:
    // admitted alone on an idle pool, a list of many references to one large message was copied
    // once per reference: 48 references to one 8 MiB message held 402,805,824 bytes, and 2^20 of
    // them would have needed 8 TiB). Each item counts as many
    // times as it appears, as it is copied that many times. The sum of the lengths measured once
    // (bytesOf) and the call's least overhead stops once past the bound: what it finds is at most
    // what admit counts, which the check below compares exactly once the chunks are planned.
    if (count > 1) {
      let least = POOL_CALL_OVERHEAD_BYTES + POOL_TASK_OVERHEAD_BYTES;
      for (let i = 0; i < count && least <= this.maxQueuedBytes; i++) least += bytesOf(i);
      this.refuseTooLarge(count, least);
    }
    // Planned first (planning copies nothing), so the total is the chunks' shares summed.
    const chunks = this.planCall(count, bytesOf);
    const held = chunkByteSums(chunks, bytesOf);
    // Each chunk counts its task's overhead and the first the call's too (an empty call has no
    // chunk: it counts nothing, and is never refused).
    let total = 0;
    for (let c = 0; c < held.length; c++) total += held[c] += POOL_TASK_OVERHEAD_BYTES + (c === 0 ? POOL_CALL_OVERHEAD_BYTES : 0);
    if (count > 1) this.refuseTooLarge(count, total);
    this.admit(total);
    try {
      return { chunks, buffers: packAll(chunks, pack), held, holding: { bytes: total } };
    } catch (error) {
      this.bytesHeld -= total;
      throw error;
    }
  }

  /**
   * Runs one chunk: at most two attempts, the second only after the first one's worker died.
   * Both read the same shared chunk: workers never write to it (codec.ts), so a worker that died
   * mid-chunk left it as packed, and the call's input exists once, not once more per attempt.
   * The chunk takes its `bytes` from its call's `holding` as it starts, and gives them back to
   * the pool's count once it settles, however it ends: from its first statement on, nothing can
   * keep them counted (hunt 17). An async function: a throw once it has started rejects its
   * promise, so a call that throws at once (out of stack) did not start and took nothing.
   */
  private async runChunk(task: PoolTask, holding: Holding, bytes: number, call?: PoolCall, chunk = 0): Promise<TaskAnswer> {
    holding.bytes -= bytes;
    try {
      // A call that ended before this chunk was sent (aborted, or failed, between the call and
      // its send: queueSend) sends nothing and waits for no place.
      call?.throwIfEnded(chunk);
      const wait = this.acquireSlot(call, chunk);
      if (wait !== undefined) {
        try {
          await wait;
        } catch (cause) {
          if (call?.endedWith(cause)) throw cause; // dropped: its call was aborted, another of its chunks failed, or an earlier one holds an item that threw
          // Out of stack while it queued itself (acquireSlot's executor): the engine's error, not
          // a missing worker (hunt 17: it was WORKER_UNAVAILABLE).
          if (isEngineStackOverflow(cause)) throw cause;
          throw new VerifierPoolError("WORKER_UNAVAILABLE", NO_WORKER, { cause });
        }
      }
      try {
        // The call may have been aborted after this chunk was handed its place, before it ran (a
        // window no caller code is known to reach: the continuation is queued as the place is
        // handed over, before the answers that could run caller code; checked all the same).
        call?.throwIfEnded(chunk);
        const answer = await this.runAttempts(task, call, chunk);
        // A worker's report that verification threw fails the call too: ended here as well, before
        // the place is handed on (helper 144: ended only once the answer was read, by when the place
        // had gone to the call's next chunk). The part's reading then throws this same error
        // (throwIfEnded comes first there).
        const failure = call === undefined ? undefined : answerFailure(answer);
        if (failure !== undefined) call!.fail(failure, chunk);
        // A batch call's signature chunk whose items did not all get a verdict (some threw, or the
        // answer has the wrong shape, which fails the call as it is read): the call's chunks after
        // this one cannot change its answer, so those waiting are dropped before this place is
        // handed on, not after one of them has taken it.
        else if (call !== undefined && task.kind === TASK_SIGNATURES && !isVerdictBytes(answer)) call.skipAfter(chunk);
        return answer;
      } catch (error) {
        // Ends the call before this chunk's place is handed on (releaseSlot), so it goes to the next
        // call's chunk, not to one of this call's, which would run for nothing.
        call?.fail(error, chunk);
        throw error;
      } finally {
        this.releaseSlot();
      }
    } finally {
      this.bytesHeld -= bytes;
    }
  }

  /** A place in piscina for one chunk, both its attempts: undefined when one is free now, else a promise of the next one freed (FIFO). */
  private acquireSlot(call: PoolCall | undefined, chunk: number): Promise<void> | undefined {
    if (this.slotsTaken < this.threads) {
      this.slotsTaken++;
      return undefined;
    }
    return new OwnPromise<void>((resolve, reject) => {
      const waiter: SlotWaiter = { resolve, reject, call, chunk, dropped: false };
      // Into the queue last, with a store: a throw before it (out of stack) rejects this promise
      // with no waiter queued, which would otherwise be handed a place no one takes (hunt 17).
      call?.waiting.add(waiter);
      this.slotQueue[this.slotQueue.length] = waiter;
    });
  }

  /** Hands the place to the first waiter not dropped, if any (it keeps slotsTaken as it is), else frees it. */
  private releaseSlot(): void {
    while (this.slotHead < this.slotQueue.length) {
      const next = this.slotQueue[this.slotHead];
      this.slotQueue[this.slotHead++] = undefined as never; // let the settled waiter go
      if (this.slotHead === this.slotQueue.length) {
        this.slotQueue.length = this.slotHead = 0;
      } else if (this.slotHead >= QUEUE_COMPACTION_MIN && this.slotHead * 2 >= this.slotQueue.length) {
        // Compact once half of the list is spent: the waiters left moved to its start, in order.
        const head = this.slotHead;
        const left = this.slotQueue.length - head;
        for (let i = 0; i < left; i++) this.slotQueue[i] = this.slotQueue[head + i];
        this.slotQueue.length = left;
        this.slotHead = 0;
      }
      if (next.dropped) {
        this.droppedWaiters--;
        continue; // its call was aborted while it waited (and rejected it then)
      }
      next.call?.waiting.delete(next);
      next.resolve();
      return;
    }
    this.slotsTaken--;
  }

  /**
   * Counts waiters just dropped by an abort, and removes every dropped one from slotQueue once they
   * are more than QUEUE_COMPACTION_MIN and half of it (the rule releaseSlot keeps for the spent
   * head): calls aborted behind a long chunk, one after another, would otherwise pile up there
   * until that chunk ends.
   */
  private dropWaiters(count: number): void {
    this.droppedWaiters += count;
    const waiting = this.slotQueue.length - this.slotHead;
    if (this.droppedWaiters <= QUEUE_COMPACTION_MIN || this.droppedWaiters * 2 <= waiting) return;
    let kept = 0;
    for (let i = this.slotHead; i < this.slotQueue.length; i++) {
      const waiter = this.slotQueue[i];
      if (!waiter.dropped) this.slotQueue[kept++] = waiter; // in order, in place
    }
    this.slotQueue.length = kept;
    this.slotHead = 0;
    this.droppedWaiters = 0;
  }

  /** A chunk's attempts; see runChunk. */
  private async runAttempts(task: PoolTask, call: PoolCall | undefined, chunk: number): Promise<TaskAnswer> {
    let firstCrash: unknown;
    for (let attempt = 0; attempt < 2; attempt++) {
      if (attempt === 1) call?.throwIfEnded(chunk); // no retry for a call aborted or failed meanwhile, or a chunk no longer needed
      const crash = this.crash !== undefined && (attempt === 0 || this.crash.every) ? this.crash.kind : CRASH_NONE;
      let result: TaskAnswer;
      const controller = new AbortController();
      const queue = controller.signal;
      this.waiting.add(controller);
      this.attemptsStarted++;
      try {
        result = await this.piscina.run({ ...task, crash }, { signal: queue });
      } catch (cause) {
        // piscina.run runs on this thread first: a stack overflow there is the engine's error, not
        // a worker's death, and a retry at once, at the same depth, would only overflow again
        // (hunt 17: a call made near the stack's end rejected WORKER_CRASHED, no worker having died).
        if (isEngineStackOverflow(cause)) throw cause;
        if (queue.aborted) {
          // Aborted by watchWorkers: no worker could take the task. The cause is the abort's
          // reason, the error the last worker ended with (piscina's own is an AbortError).
          const why: unknown = queue.reason;
          throw new VerifierPoolError("WORKER_UNAVAILABLE", NO_WORKER, { cause: attempt === 0 ? why : new AggregateError([firstCrash, why], "both attempts") });
        }
        // piscina rejects a task only when its worker ended (exit, uncaught exception, heap
        // limit): runTask itself never throws. Try once more, on whichever worker takes it (a
        // live one, a replacement, or one started for it: watchWorkers).
        if (attempt === 0) {
          firstCrash = cause;
          continue;
        }
        if (!this.aWorkerLoaded) {
          // No worker has ever loaded its module: the pool's first workers, which piscina counts
          // as started before they load, failed to start (a broken or missing build), and no
          // chunk ever ran (review 93 F2: this was WORKER_CRASHED, "this input kills workers").
          throw new VerifierPoolError("WORKER_UNAVAILABLE", `no worker could start: ${String(cause)}`, {
            cause: new AggregateError([firstCrash, cause], "both attempts"),
          });
        }
        throw new VerifierPoolError("WORKER_CRASHED", `a worker ended while verifying a chunk, and so did the worker that retried it: ${String(cause)}`, {
          cause: new AggregateError([firstCrash, cause], "both attempts"),
        });
      } finally {
        this.waiting.delete(controller);
      }
      return result; // a TaskFailure too: the caller's answer reader (answers.ts) turns it into TASK_FAILED
    }
    throw new Error("unreachable"); // the loop returns or throws on its second attempt
  }
}

/** Object.freeze as this module loaded (README "Hardening"). */
const objectFreeze = Object.freeze;

/**
 * A pool of `threads` workers that verify Ed25519 signatures and handshake envelopes with
 * exactly the in-thread answers. Call close() when done (idle workers do not keep the process alive).
 * @throws InvalidTypeError / InvalidConfigError on bad options; VerifierPoolError WORKER_UNAVAILABLE if the built worker is missing or the host has no SharedArrayBuffer.
 */
export function createVerifierPool(options?: VerifierPoolOptions): VerifierPool {
  const pool = new PiscinaVerifierPool(options);
  // The documented members only, frozen: the pool's state (piscina, its queue, its counters) was
  // reachable, and listed, on the object a program holds (helper 134's walkthrough). The methods
  // are the pool's bound ones, so they still work detached (`const { verify } = pool`).
  const facade: VerifierPool = objectFreeze({
    threads: pool.threads,
    get queuedBytes(): number {
      return pool.queuedBytes;
    },
    verify: pool.verify,
    verifyBatch: pool.verifyBatch,
    verifyEnvelopeBatch: pool.verifyEnvelopeBatch,
    close: pool.close,
  });
  registerPoolInternals(facade, pool);
  return facade;
}
