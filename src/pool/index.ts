// `chio-trust/pool`: Ed25519 and envelope verification on a pool of worker threads (Node only).
//
// The pool runs on piscina (see the README, "Worker pool"). Calls are checked and copied on the
// calling thread with the typed errors of the in-thread API, split into chunks of `chunkSize`
// items (64 by default), and each chunk travels to a worker as ONE transferred ArrayBuffer
// (src/pool/codec.ts); verdicts come back the same way. Every answer equals the in-thread one:
// the workers run the same ed25519.verify / verifyEnvelopeBytes (src/pool/worker.ts).
//
// Crashes: a worker that dies while it holds a chunk (process.exit, an uncaught exception, out
// of memory) is replaced by piscina and the chunk is sent again, once, to a fresh worker; if that
// attempt dies too, the call rejects with VerifierPoolError WORKER_CRASHED. The chunk's bytes
// stay on the calling thread until it settles, so nothing is lost and nothing waits forever.
//
// Layering: this is a Node-only part on top of Ed25519 and the handshake; nothing imports it.
import { existsSync } from "node:fs";
import { availableParallelism } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { Piscina } from "piscina";
import { assertBytes, copyBytes, expectBytes, isUint8Array, isUnreadableView } from "../bytes.js";
import { InvalidTypeError } from "../errors.js";
import { nonNegativeInteger } from "../canonical/json.js";
import { InvalidConfigError } from "../handshake/errors.js";
import { MAX_ENVELOPE_BYTES_LIMIT } from "../handshake/constants.js";
import {
  DEFAULT_ENVELOPE_MAX_BYTES,
  readPackedEnvelopeVerdicts,
  type EnvelopeVerdict,
  type VerifyEnvelopeOptions,
} from "../handshake/verify-envelope.js";
import { readBatchItems, type VerifyOptions } from "../ed25519.js";
import {
  CRASH_EXIT,
  CRASH_NONE,
  CRASH_OOM,
  CRASH_UNCAUGHT,
  PUBLIC_KEY_BYTES,
  SIGNATURE_BYTES,
  TASK_ENVELOPES,
  TASK_SIGNATURES,
  packEnvelopeChunk,
  packSignatureChunk,
  type PoolTask,
  type TaskFailure,
} from "./codec.js";

export type { EnvelopeVerdict, VerifyEnvelopeOptions } from "../handshake/verify-envelope.js";
export type { VerifyOptions } from "../ed25519.js";

/** Default number of signatures or envelopes per task. */
export const DEFAULT_POOL_CHUNK_SIZE = 64;
/** Largest accepted `chunkSize`. */
export const MAX_POOL_CHUNK_SIZE = 1024;

export type VerifierPoolErrorCode =
  | "POOL_CLOSED" //        the call came after close()
  | "WORKER_CRASHED" //     a chunk's worker died, and so did the fresh worker that retried it
  | "WORKER_UNAVAILABLE" // the built worker file is missing (the pool runs from dist/ only)
  | "TASK_FAILED"; //       verification threw inside a live worker (a wasm trap, memory exhausted)

/** Failures of the pool itself; argument errors are the in-thread API's (InvalidTypeError, ...). */
export class VerifierPoolError extends Error {
  readonly code: VerifierPoolErrorCode;
  constructor(code: VerifierPoolErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "VerifierPoolError";
    this.code = code;
  }
}

export interface VerifierPoolOptions {
  /** Worker threads, started at once and kept (default: os.availableParallelism()). */
  threads?: number;
  /** Items per task (default 64, at most 1024): large enough to amortise the message, small enough to spread over threads. */
  chunkSize?: number;
  /** Old-generation heap limit of each worker in MiB (worker_threads resourceLimits); default: Node's. */
  maxWorkerHeapMb?: number;
  /**
   * FOR TESTS ONLY: every task makes its worker die after verifying half its chunk, by
   * `process.exit(1)` ("exit"), an uncaught exception ("uncaught") or heap exhaustion ("oom",
   * only with maxWorkerHeapMb set) — on the first attempt of each chunk only ("first": every
   * retry succeeds) or on every attempt ("every": every call rejects with WORKER_CRASHED).
   */
  crashWorkersForTesting?: { kind: "exit" | "uncaught" | "oom"; attempts: "first" | "every" };
}

/** One signature check, as ed25519.verify takes it. */
export interface SignatureItem {
  signature: Uint8Array;
  message: Uint8Array;
  publicKey: Uint8Array;
}

export interface VerifierPool {
  /** Worker threads in the pool. */
  readonly threads: number;
  /** ed25519.verify on a worker. Calls made in the same tick are sent together, up to chunkSize per task. */
  verify(signature: Uint8Array, message: Uint8Array, publicKey: Uint8Array, options?: VerifyOptions): Promise<boolean>;
  /** One boolean per item, each equal to ed25519.verify(item.signature, item.message, item.publicKey, options). */
  verifyBatch(items: readonly SignatureItem[], options?: VerifyOptions): Promise<boolean[]>;
  /** One verdict per envelope, each deep-equal to verifyEnvelopeBytes(envelope, options). */
  verifyEnvelopeBatch(envelopes: readonly (Uint8Array | string)[], options?: VerifyEnvelopeOptions): Promise<EnvelopeVerdict[]>;
  /** Finishes every call already made, then ends the workers. Later calls reject with POOL_CLOSED. Idempotent. */
  close(): Promise<void>;
}

/**
 * The built worker next to this module: dist/cjs/pool/worker.js from the CommonJS build (where
 * `__filename` is this file), dist/esm/pool/worker.js from the ESM build (import.meta.url).
 * esbuild transpiles this file to both formats; the CommonJS copy never reaches the ESM branch.
 */
function workerFile(): string {
  return typeof __filename === "string"
    ? path.join(path.dirname(__filename), "worker.js")
    : fileURLToPath(new URL("./worker.js", import.meta.url));
}

const CRASH_KINDS = { exit: CRASH_EXIT, uncaught: CRASH_UNCAUGHT, oom: CRASH_OOM } as const;

function integerOption(value: unknown, name: string, min: number, max: number, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || !Number.isInteger(value)) throw new InvalidTypeError(`${name} must be an integer`);
  if (value < min || value > max) throw new InvalidConfigError(`${name} must be between ${min} and ${max}, got ${value}`);
  return value;
}

function booleanOption(value: unknown, name: string, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== "boolean") throw new InvalidTypeError(`${name} must be a boolean`);
  return value;
}

function optionsObject<T>(options: T | undefined): T | undefined {
  if (options !== undefined && (options === null || typeof options !== "object")) throw new InvalidTypeError("options must be an object");
  return options;
}

/** ed25519.verify's option checks; returns the normalised options sent to the workers. */
function verifyOptions(options: VerifyOptions | undefined): { zip215: boolean } {
  const o = optionsObject(options);
  return { zip215: o === undefined ? false : booleanOption(o.zip215, "options.zip215", false) };
}

/** verifyEnvelopeBytes's option checks; returns the normalised options sent to the workers. */
function envelopeOptions(options: VerifyEnvelopeOptions | undefined): Required<VerifyEnvelopeOptions> {
  const o = optionsObject(options);
  return {
    maxBytes: o?.maxBytes === undefined ? DEFAULT_ENVELOPE_MAX_BYTES : Math.min(nonNegativeInteger(o.maxBytes, "maxBytes"), MAX_ENVELOPE_BYTES_LIMIT),
    zip215: booleanOption(o?.zip215, "zip215", false),
    rejectWeakKeys: booleanOption(o?.rejectWeakKeys, "rejectWeakKeys", true),
    escapeDelAndC1: booleanOption(o?.escapeDelAndC1, "escapeDelAndC1", false),
  };
}

/** The verdicts of one envelope chunk, from the bytes its worker sent (VerifierPoolError if they are not `count` verdicts). */
function readChunkVerdicts(bytes: Uint8Array, options: Required<VerifyEnvelopeOptions>, count: number): EnvelopeVerdict[] {
  let verdicts: EnvelopeVerdict[];
  try {
    verdicts = readPackedEnvelopeVerdicts(bytes, options);
  } catch (cause) {
    throw new VerifierPoolError("TASK_FAILED", `a worker's envelope verdicts are unreadable: ${String(cause)}`, { cause });
  }
  if (verdicts.length !== count) throw new VerifierPoolError("TASK_FAILED", `a worker returned ${verdicts.length} verdicts for ${count} envelopes`);
  return verdicts;
}

/** Single verify() calls of one tick, one bucket per zip215 setting. */
interface Bucket {
  zip215: boolean;
  signatures: Uint8Array[];
  messages: Uint8Array[];
  publicKeys: Uint8Array[];
  settle: { resolve(valid: boolean): void; reject(error: unknown): void }[];
}

class PiscinaVerifierPool implements VerifierPool {
  readonly threads: number;
  private readonly chunkSize: number;
  private readonly crash: { kind: number; every: boolean } | undefined;
  private readonly piscina: Piscina<PoolTask, Uint8Array | TaskFailure>;
  private readonly inFlight = new Set<Promise<unknown>>();
  private readonly buckets: (Bucket | undefined)[] = [undefined, undefined];
  private closing: Promise<void> | undefined;

  constructor(options: VerifierPoolOptions | undefined) {
    const o = optionsObject(options) ?? {};
    this.threads = integerOption(o.threads, "threads", 1, 256, Math.max(1, availableParallelism()));
    this.chunkSize = integerOption(o.chunkSize, "chunkSize", 1, MAX_POOL_CHUNK_SIZE, DEFAULT_POOL_CHUNK_SIZE);
    const heapMb = o.maxWorkerHeapMb === undefined ? undefined : integerOption(o.maxWorkerHeapMb, "maxWorkerHeapMb", 8, 1 << 20, 0);
    const crash = optionsObject(o.crashWorkersForTesting);
    if (crash !== undefined) {
      const kind = CRASH_KINDS[crash.kind as keyof typeof CRASH_KINDS];
      if (kind === undefined || !Object.hasOwn(CRASH_KINDS, crash.kind)) throw new InvalidTypeError('crashWorkersForTesting.kind must be "exit", "uncaught" or "oom"');
      if (crash.attempts !== "first" && crash.attempts !== "every") throw new InvalidTypeError('crashWorkersForTesting.attempts must be "first" or "every"');
      // Without a heap limit, a worker's OOM would take the whole process down.
      if (kind === CRASH_OOM && heapMb === undefined) throw new InvalidConfigError('crashWorkersForTesting.kind "oom" needs maxWorkerHeapMb');
      this.crash = { kind, every: crash.attempts === "every" };
    }
    const filename = workerFile();
    if (!existsSync(filename)) {
      throw new VerifierPoolError("WORKER_UNAVAILABLE", `the pool's worker file ${filename} does not exist (the pool runs from the built package, dist/)`);
    }
    this.piscina = new Piscina<PoolTask, Uint8Array | TaskFailure>({
      filename,
      minThreads: this.threads,
      maxThreads: this.threads,
      ...(heapMb === undefined ? {} : { resourceLimits: { maxOldGenerationSizeMb: heapMb } }),
    });
    // A worker that dies while idle is replaced by piscina and emits 'error' here; no task was
    // lost (a task in flight is failed to its caller instead). Without a listener the
    // EventEmitter would throw it in the calling thread.
    this.piscina.on("error", () => {});
  }

  verify(signature: Uint8Array, message: Uint8Array, publicKey: Uint8Array, options?: VerifyOptions): Promise<boolean> {
    try {
      this.assertOpen();
      // The checks of ed25519.verify, here on the calling thread, on private copies (the caller may reuse its buffers).
      const signatureCopy = copyBytes(signature, "signature", SIGNATURE_BYTES);
      const messageCopy = copyBytes(message, "message");
      const publicKeyCopy = copyBytes(publicKey, "publicKey", PUBLIC_KEY_BYTES);
      const { zip215 } = verifyOptions(options);
      const index = zip215 ? 1 : 0;
      let bucket = this.buckets[index];
      if (bucket === undefined) {
        bucket = { zip215, signatures: [], messages: [], publicKeys: [], settle: [] };
        this.buckets[index] = bucket;
        queueMicrotask(() => this.flush(index, bucket!));
      }
      bucket.signatures.push(signatureCopy);
      bucket.messages.push(messageCopy);
      bucket.publicKeys.push(publicKeyCopy);
      const result = new Promise<boolean>((resolve, reject) => bucket!.settle.push({ resolve, reject }));
      if (bucket.settle.length >= this.chunkSize) this.flush(index, bucket);
      return result;
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** Sends a bucket of single calls as one chunk (once: a flushed bucket is detached first). */
  private flush(index: number, bucket: Bucket): void {
    if (this.buckets[index] !== bucket) return;
    this.buckets[index] = undefined;
    const count = bucket.settle.length;
    const buffer = packSignatureChunk(bucket.signatures, bucket.messages, bucket.publicKeys, 0, count);
    this.track(
      this.runChunk({ kind: TASK_SIGNATURES, buffer, verify: { zip215: bucket.zip215 }, crash: CRASH_NONE }).then(
        (bits) => {
          for (let i = 0; i < count; i++) bucket.settle[i].resolve(bits[i] === 1);
        },
        (error) => {
          for (const s of bucket.settle) s.reject(error);
        },
      ),
    );
  }

  verifyBatch(items: readonly SignatureItem[], options?: VerifyOptions): Promise<boolean[]> {
    try {
      this.assertOpen();
      const { signatures, messages, publicKeys } = readBatchItems(items);
      const count = signatures.length;
      const verify = verifyOptions(options);
      const chunks: Promise<Uint8Array>[] = [];
      for (let start = 0; start < count; start += this.chunkSize) {
        const buffer = packSignatureChunk(signatures, messages, publicKeys, start, Math.min(count, start + this.chunkSize));
        chunks.push(this.runChunk({ kind: TASK_SIGNATURES, buffer, verify, crash: CRASH_NONE }));
      }
      return this.track(
        Promise.all(chunks).then((parts) => {
          const out: boolean[] = [];
          for (const bits of parts) for (let i = 0; i < bits.length; i++) out.push(bits[i] === 1);
          return out;
        }),
      );
    } catch (error) {
      return Promise.reject(error);
    }
  }

  verifyEnvelopeBatch(envelopes: readonly (Uint8Array | string)[], options?: VerifyEnvelopeOptions): Promise<EnvelopeVerdict[]> {
    try {
      this.assertOpen();
      if (!Array.isArray(envelopes)) throw new InvalidTypeError("envelopes must be an array");
      const envelope = envelopeOptions(options);
      const count = envelopes.length;
      const inputs: (Uint8Array | string)[] = new Array(count);
      for (let i = 0; i < count; i++) {
        const input: unknown = envelopes[i];
        if (typeof input !== "string") {
          if (!isUint8Array(input)) {
            throw new InvalidTypeError(`envelopes[${i}] must be a string or a Uint8Array, got ${input === null ? "null" : typeof input}`);
          }
          if (isUnreadableView(input)) throw new InvalidTypeError(`envelopes[${i}] is a view of a detached or out-of-bounds ArrayBuffer`);
        }
        // Input longer than maxBytes (in bytes, or in UTF-16 units, each at least one UTF-8
        // byte) is refused by verifyEnvelopeBytes before it reads anything, with a verdict that
        // does not depend on the length: its first maxBytes + 1 units give that same verdict,
        // so an oversized input costs a bounded copy.
        const limit = envelope.maxBytes + 1;
        inputs[i] = input.length > limit ? (typeof input === "string" ? input.slice(0, limit) : input.subarray(0, limit)) : input;
      }
      const chunks: Promise<EnvelopeVerdict[]>[] = [];
      for (let start = 0; start < count; start += this.chunkSize) {
        const end = Math.min(count, start + this.chunkSize);
        const buffer = packEnvelopeChunk(inputs, start, end);
        chunks.push(this.runChunk({ kind: TASK_ENVELOPES, buffer, envelope, crash: CRASH_NONE }).then((bytes) => readChunkVerdicts(bytes, envelope, end - start)));
      }
      return this.track(Promise.all(chunks).then((parts) => parts.flat()));
    } catch (error) {
      return Promise.reject(error);
    }
  }

  close(): Promise<void> {
    if (this.closing === undefined) {
      for (let index = 0; index < this.buckets.length; index++) {
        const bucket = this.buckets[index];
        if (bucket !== undefined) this.flush(index, bucket); // accepted before close: finish them
      }
      this.closing = (async () => {
        while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
        await this.piscina.destroy();
      })();
    }
    return this.closing;
  }

  private assertOpen(): void {
    if (this.closing !== undefined) throw new VerifierPoolError("POOL_CLOSED", "the verifier pool is closed");
  }

  private track<T>(promise: Promise<T>): Promise<T> {
    this.inFlight.add(promise);
    const done = () => this.inFlight.delete(promise);
    promise.then(done, done);
    return promise;
  }

  /**
   * Runs one chunk: at most two attempts, each on its own copy of the chunk (the transfer
   * detaches what it sends), the second only after the first one's worker died.
   */
  private async runChunk(task: PoolTask): Promise<Uint8Array> {
    let firstCrash: unknown;
    for (let attempt = 0; attempt < 2; attempt++) {
      const buffer = task.buffer.slice(0);
      const crash = this.crash !== undefined && (attempt === 0 || this.crash.every) ? this.crash.kind : CRASH_NONE;
      let result: Uint8Array | TaskFailure;
      try {
        result = await this.piscina.run({ ...task, buffer, crash }, { transferList: [buffer] });
      } catch (cause) {
        // piscina rejects a task only when its worker ended (exit, uncaught exception, heap
        // limit): runTask itself never throws. The worker has been replaced; try once more.
        if (attempt === 0) {
          firstCrash = cause;
          continue;
        }
        throw new VerifierPoolError("WORKER_CRASHED", `a worker ended while verifying a chunk, and so did the worker that retried it: ${String(cause)}`, {
          cause: new AggregateError([firstCrash, cause], "both attempts"),
        });
      }
      if (result instanceof Uint8Array) return result;
      throw new VerifierPoolError("TASK_FAILED", `verification failed in a worker: ${result.name}${result.code ? ` ${result.code}` : ""}: ${result.message}`);
    }
    throw new Error("unreachable"); // the loop returns or throws on its second attempt
  }
}

/**
 * A pool of `threads` workers that verify Ed25519 signatures and handshake envelopes with
 * exactly the in-thread answers. Call close() when done (idle workers do not keep the process alive).
 * @throws InvalidTypeError / InvalidConfigError on bad options; VerifierPoolError WORKER_UNAVAILABLE if the built worker is missing.
 */
export function createVerifierPool(options?: VerifierPoolOptions): VerifierPool {
  return new PiscinaVerifierPool(options);
}
