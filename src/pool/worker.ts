// The worker side of the verifier pool (src/pool/index.ts), run by piscina in a worker thread.
// Each worker has its own WebAssembly instance (src/wasm/instance.ts instantiates it on first use).
//
// A task is one chunk in the format of src/pool/codec.ts. Inputs were validated and copied on
// the calling thread, so the per-item calls below never see a bad argument; whatever else
// throws (a wasm trap, memory that cannot grow) comes back as a TaskFailure, not as a crash.
import { parentPort } from "node:worker_threads";
import { move } from "piscina";
import { ed25519, type VerifyOptions } from "../ed25519.js";
import { WasmCoreError } from "../errors.js";
import { verifyEnvelopeBatch, verifyEnvelopeBatchPacked, type EnvelopeVerdict, type VerifyEnvelopeOptions } from "../handshake/verify-envelope.js";
import {
  CRASH_EXIT,
  CRASH_NONE,
  CRASH_OOM,
  SIGNATURE_ITEM_FAILED,
  TASK_SIGNATURES,
  TASK_START_WORKER,
  WORKER_LOADED_MESSAGE,
  unpackEnvelopeChunk,
  unpackSignatureChunk,
  type PoolTask,
  type SignatureChunkItem,
  type SignatureItemFailures,
  type TaskAnswer,
  type TaskFailure,
} from "./codec.js";

/**
 * The per-chunk verification of signatures: the exact batch verifier (README "Batch
 * verification"), whose answer for every item equals ed25519.verify's, as verdict bytes. When
 * the batch call throws (WasmCoreError: memory that cannot grow, a trap), every item is verified
 * alone, as ed25519.verify would be in the calling thread, and only the items that throw then
 * fail (review 48: one caller's oversized message failed every single verify() call of its tick).
 */
function verifySignatureChunk(items: SignatureChunkItem[], options: VerifyOptions | undefined): Uint8Array | SignatureItemFailures {
  const verdicts = new Uint8Array(items.length);
  let valid: boolean[];
  try {
    valid = ed25519.verifyBatch(items, options);
  } catch (error) {
    if (!(error instanceof WasmCoreError)) throw error;
    return verifyOneByOne(items, options, verdicts);
  }
  for (let i = 0; i < valid.length; i++) verdicts[i] = valid[i] ? 1 : 0;
  return verdicts;
}

function verifyOneByOne(items: SignatureChunkItem[], options: VerifyOptions | undefined, verdicts: Uint8Array): Uint8Array | SignatureItemFailures {
  const failures: SignatureItemFailures["failures"] = [];
  for (let i = 0; i < items.length; i++) {
    const { signature, message, publicKey } = items[i];
    try {
      verdicts[i] = ed25519.verify(signature, message, publicKey, options) ? 1 : 0;
    } catch (error) {
      verdicts[i] = SIGNATURE_ITEM_FAILED;
      failures.push({ index: i, ...taskFailure(error) });
    }
  }
  return failures.length === 0 ? verdicts : { verdicts, failures };
}

/** What a task answers for an error: its name, code and message (structured-clone safe). */
function taskFailure(error: unknown): TaskFailure {
  const e = error as { name?: unknown; code?: unknown; message?: unknown };
  return {
    failed: true,
    name: typeof e?.name === "string" ? e.name : "Error",
    code: typeof e?.code === "string" ? e.code : undefined,
    message: typeof e?.message === "string" ? e.message : String(error),
  };
}

/**
 * The per-chunk verification of envelopes: verifyEnvelopeBatch's wasm calls, whose verdicts are
 * deep-equal to verifyEnvelopeBytes on each input, sent back as the bytes the calls wrote (the
 * calling thread builds the verdict objects from them with the same code as verifyEnvelopeBatch).
 */
function verifyEnvelopeChunk(inputs: (Uint8Array | string)[], options: VerifyEnvelopeOptions | undefined): Uint8Array | EnvelopeVerdict[] {
  const packed = verifyEnvelopeBatchPacked(inputs, options);
  if (packed !== undefined) return packed;
  // This worker's memory cannot grow for even one envelope next to the batch's scratch area. The
  // chunk is verified again from its start (work already done is redone: a rare path) by
  // verifyEnvelopeBatch, whose single calls need room for one envelope only; its verdict objects
  // are sent as they are (a structured clone keeps them deep-equal).
  const verdicts = verifyEnvelopeBatch(inputs, options);
  // An envelope that does not fit even alone gets a verdict of this worker's memory (problem
  // OUT_OF_MEMORY), which the caller's own verifyEnvelopeBytes need not give: the task fails
  // instead (TASK_FAILED, which the caller may retry), so no verdict depends on where it ran.
  if (verdicts.some((verdict) => !verdict.ok && verdict.problem === "OUT_OF_MEMORY")) {
    throw new WasmCoreError("WASM_OUT_OF_MEMORY", "an envelope does not fit in this worker's WebAssembly memory");
  }
  return verdicts;
}

function crashNow(mode: number): Promise<never> {
  if (mode === CRASH_EXIT) process.exit(1);
  if (mode === CRASH_OOM) {
    const hog: number[][] = [];
    for (;;) hog.push(new Array(1 << 20).fill(hog.length));
  }
  // CRASH_UNCAUGHT: thrown from a later macrotask, outside piscina's task handling, so it is
  // the worker's uncaught exception; the task itself never settles.
  setImmediate(() => {
    throw new Error("chio-trust pool: test-only uncaught exception in a worker");
  });
  return new Promise<never>(() => {});
}

export default function runTask(task: PoolTask): TaskAnswer | Promise<never> {
  try {
    if (task.kind === TASK_START_WORKER) return new Uint8Array(0); // piscina started this worker for it: done
    if (task.kind === TASK_SIGNATURES) {
      const items = unpackSignatureChunk(task.buffer!);
      if (task.crash !== CRASH_NONE) {
        verifySignatureChunk(items.slice(0, items.length >> 1), task.verify);
        return crashNow(task.crash);
      }
      const answer = verifySignatureChunk(items, task.verify);
      return answer instanceof Uint8Array ? (move(answer) as Uint8Array) : answer;
    }
    const inputs = unpackEnvelopeChunk(task.buffer!);
    if (task.crash !== CRASH_NONE) {
      verifyEnvelopeChunk(inputs.slice(0, inputs.length >> 1), task.envelope);
      return crashNow(task.crash);
    }
    const verdicts = verifyEnvelopeChunk(inputs, task.envelope);
    return verdicts instanceof Uint8Array ? (move(verdicts) as Uint8Array) : verdicts;
  } catch (error) {
    return taskFailure(error);
  }
}

// Last, so that it says the whole module graph loaded (codec.ts WORKER_LOADED_MESSAGE).
parentPort?.postMessage(WORKER_LOADED_MESSAGE);
