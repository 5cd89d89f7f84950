// The wire format between the pool (src/pool/index.ts) and its workers (src/pool/worker.ts).
//
// A task carries one chunk of work as ONE SharedArrayBuffer, so a chunk of 64 items costs one
// postMessage of one buffer instead of a structured clone of 192 small Uint8Arrays. Shared, not
// transferred: the calling thread keeps the very bytes it sent for the one retry after a crash
// (src/pool/index.ts), so a call's input is held once; workers only read a chunk, and nothing
// else ever sees it. The answer comes back as one Uint8Array of verdicts, transferred (or, from a
// worker short of memory, as verdict objects; see the envelope chunk below).
//
// Signature chunk (SIGNATURE_CHUNK):
//   u32 count, then u32 × (count + 1) message offsets (relative to the message area),
//   then count × 64 signature bytes, count × 32 public-key bytes, then the messages end to end.
//   Result: count bytes, 1 = valid, 0 = invalid.
// Envelope chunk (ENVELOPE_CHUNK):
//   u32 count, then count × (u32 start, u32 byteLength, u32 isString), then the inputs. A string
//   is sent as its UTF-16 code units (2-byte aligned), so the worker rebuilds exactly the string
//   the caller passed, lone surrogates included, and its verdict (offsets, LONE_SURROGATE) is the
//   one verifyEnvelopeBytes gives the caller's string.
//   Result: the verdicts as the wasm batch call wrote them (verifyEnvelopeBatchPacked in
//   src/handshake/verify-envelope.ts: result blocks and the bytes they point into, one range per
//   wasm call), read back into verdict objects by readPackedEnvelopeVerdicts on the calling thread;
//   or, when the worker's memory could not grow for one envelope and the batch scratch, the
//   verdict objects of verifyEnvelopeBatch, structured-cloned (src/pool/worker.ts).
//
// Every u32 is little-endian (written by writeU32, read through a DataView), independent of the
// host's byte order.
import { bytesOver, charCodeAt, copyInto, ownList, viewLength, writeU32, type OwnList } from "../bytes.js";
import type { VerifyOptions } from "../ed25519.js";
import type { EnvelopeVerdict, VerifyEnvelopeOptions } from "../handshake/verify-envelope.js";

// What planning and packing use, as this module loaded: they run between a call's checks and
// its copy, where caller code that replaced a global (Math.floor, Uint16Array, SharedArrayBuffer)
// could shrink or detach a checked view (review 84 F3, review 85). For the same reason every
// list they fill is an OwnList (src/bytes.ts): an accessor on Array.prototype never sees it.
const { ceil, floor, max, min } = Math;
const Units = Uint16Array;
const Shared = globalThis.SharedArrayBuffer; // undefined on a host without it: the pool refuses to start there

/**
 * @internal Where chunks get their memory: a fresh SharedArrayBuffer of `size` bytes. A test
 * replaces `allocate` to make allocation fail as V8 fails it when memory is exhausted
 * (test/node/pool-hostile.test.ts, OUT_OF_MEMORY); nothing else does.
 */
export const chunkMemory = { allocate: (size: number): SharedArrayBuffer => new Shared(size) };

export const TASK_SIGNATURES = 0;
export const TASK_ENVELOPES = 1;
/** A task that only makes piscina start a worker (src/pool/index.ts watchWorkers); answered with an empty Uint8Array. */
export const TASK_START_WORKER = 2;

/**
 * What a worker posts to the calling thread once its module has loaded (src/pool/worker.ts;
 * piscina passes it on as a 'message' event). piscina counts the pool's first workers as started
 * before they have loaded anything, so without it a worker file that fails to load looked like a
 * worker that crashed on a chunk (review 93 F2): the pool tells the two apart by whether any
 * worker ever sent this.
 */
export const WORKER_LOADED_MESSAGE = "chio-trust/pool: worker loaded";

/** Test-only crash modes (see VerifierPoolOptions.crashWorkersForTesting). */
export const CRASH_NONE = 0;
export const CRASH_EXIT = 1; //      process.exit(1) in the worker thread
export const CRASH_UNCAUGHT = 2; //  an uncaught exception thrown outside the task
export const CRASH_OOM = 3; //       allocate until the worker's heap limit ends it

export interface PoolTask {
  kind: typeof TASK_SIGNATURES | typeof TASK_ENVELOPES | typeof TASK_START_WORKER;
  /** The chunk (codec.ts), shared with the worker, which only reads it (none for TASK_START_WORKER). */
  buffer?: SharedArrayBuffer;
  /** Signature chunks: the options of ed25519.verify, normalised. */
  verify?: VerifyOptions;
  /** Envelope chunks: the options of verifyEnvelopeBytes, normalised. */
  envelope?: VerifyEnvelopeOptions;
  /** Test-only: crash after verifying half the chunk. */
  crash: number;
}

/** What a task returns when verification itself threw (not a crash: the worker lives on). */
export interface TaskFailure {
  failed: true;
  name: string;
  code: string | undefined;
  message: string;
}

/** A signature item's verdict byte when verifying it threw in the worker (SignatureItemFailures). */
export const SIGNATURE_ITEM_FAILED = 2;

/**
 * A signature chunk some of whose items threw when verified one by one in the worker (the batch
 * call had thrown: a message too large for the worker's memory, say): every item's verdict byte
 * (1 valid, 0 invalid, SIGNATURE_ITEM_FAILED), and what each failed item threw. Single verify()
 * calls sent together in one task then fail alone, as each does in the calling thread (review 48).
 */
export interface SignatureItemFailures {
  verdicts: Uint8Array;
  failures: (TaskFailure & { index: number })[];
}

/**
 * What a task returns: a signature chunk's verdict bytes or an envelope chunk's packed verdicts
 * (transferred), a signature chunk with items that failed, an envelope chunk's verdict objects (a
 * worker short of memory, structured-cloned), or a failure. The calling thread checks it before
 * use (src/pool/answers.ts).
 */
export type TaskAnswer = Uint8Array | SignatureItemFailures | EnvelopeVerdict[] | TaskFailure;


export const SIGNATURE_BYTES = 64;
export const PUBLIC_KEY_BYTES = 32;

/** A chunk of signature checks as the worker reads it (views into the shared chunk). */
export interface SignatureChunkItem {
  signature: Uint8Array;
  message: Uint8Array;
  publicKey: Uint8Array;
}

/**
 * Input bytes one task carries at most (a task always takes at least one item): large messages
 * or envelopes go in smaller tasks, so no single buffer grows with the whole call.
 */
export const POOL_CHUNK_BYTE_BUDGET = 16 << 20;

/**
 * Fewest items a call is cut into to give an otherwise idle thread a share of it: below this a
 * task's fixed cost (its messages and two thread wake-ups, 0.4–1 ms on a 2-vCPU VM) outweighs
 * what the second thread saves.
 */
export const MIN_SPLIT_ITEMS = 32;

/** A chunk's items, [start, end) in its call. */
export type ChunkRange = readonly [start: number, end: number];

/**
 * Tasks for a call of `count` items on `threads` workers: as few as keep every task at or below
 * `chunkSize` items, but at least one per thread while every task keeps MIN_SPLIT_ITEMS items.
 * So a large call goes in chunks close to `chunkSize` (larger batches cost less per item: README
 * "Worker pool"), and a call smaller than `threads × chunkSize` still reaches every thread: 256
 * items on 2 threads go as 2 tasks of 128, 128 items as 2 of 64, 300 items as 3 of 100.
 */
export function taskCount(count: number, chunkSize: number, threads: number): number {
  return max(ceil(count / chunkSize), min(threads, floor(count / MIN_SPLIT_ITEMS)), 1);
}

/**
 * The chunks of a call: taskCount equal ranges (their sizes differ by one item at most), each
 * cut further where its bytes exceed `budget` (planChunks).
 */
export function planCall(count: number, chunkSize: number, threads: number, bytesOf: (i: number) => number, budget = POOL_CHUNK_BYTE_BUDGET): OwnList<ChunkRange> {
  const tasks = taskCount(count, chunkSize, threads);
  const chunks = ownList<ChunkRange>();
  for (let task = 0; task < tasks; task++) {
    const start = floor((task * count) / tasks);
    const end = floor(((task + 1) * count) / tasks);
    // Indexed: `for…of` and the pair's destructuring run the array iterator, which caller code
    // may have replaced, between the calls' checks and their copy (review 84 F3).
    const parts = planChunks(end - start, end - start, (i) => bytesOf(start + i), budget);
    for (let k = 0; k < parts.length; k++) chunks[chunks.length] = [start + parts[k][0], start + parts[k][1]];
  }
  return chunks;
}

/**
 * The chunks of a call: [start, end) ranges of at most `chunkSize` items and, beyond its first
 * item, at most `budget` bytes (`bytesOf(i)` for item i; default POOL_CHUNK_BYTE_BUDGET).
 */
export function planChunks(count: number, chunkSize: number, bytesOf: (i: number) => number, budget = POOL_CHUNK_BYTE_BUDGET): OwnList<ChunkRange> {
  const chunks = ownList<ChunkRange>();
  for (let start = 0; start < count; ) {
    let end = start + 1;
    let bytes = bytesOf(start);
    while (end < count && end - start < chunkSize) {
      const next = bytesOf(end);
      if (bytes + next > budget) break;
      bytes += next;
      end++;
    }
    chunks[chunks.length] = [start, end]; // a literal's elements are its own
    start = end;
  }
  return chunks;
}

// ---- Signature chunks ---------------------------------------------------------------------

/** Bytes a signature item takes in a chunk (besides its offsets-table entry). */
export function signatureChunkBytes(message: Uint8Array): number {
  return SIGNATURE_BYTES + PUBLIC_KEY_BYTES + viewLength(message);
}

/** Byte size of a signature chunk with `count` items and `messageBytes` bytes of messages in all. */
export function signatureChunkSize(count: number, messageBytes: number): number {
  return 4 + 4 * (count + 1) + count * (SIGNATURE_BYTES + PUBLIC_KEY_BYTES) + messageBytes;
}

/**
 * Packs already validated items into one fresh SharedArrayBuffer. `set` from a typed array copies
 * through internal slots and runs no caller code, so this is the defensive copy of every input.
 * Planning and packing run between a call's checks and this copy, so they call no method caller
 * code can replace (Array.prototype.push, DataView.prototype.setUint32, %TypedArray%.prototype.set,
 * Math, the global constructors): the captured ones of src/bytes.ts and above (review 84 F3).
 */
export function packSignatureChunk(
  signatures: OwnList<Uint8Array>,
  messages: OwnList<Uint8Array>,
  publicKeys: OwnList<Uint8Array>,
  start: number,
  end: number,
): SharedArrayBuffer {
  const count = end - start;
  // Measured once: the layout and the copies use these lengths (copyInto).
  const lengths = ownList<number>(count);
  let messageBytes = 0;
  for (let k = 0; k < count; k++) messageBytes += lengths[k] = viewLength(messages[start + k]);
  const buffer = chunkMemory.allocate(signatureChunkSize(count, messageBytes));
  const bytes = bytesOver(buffer);
  writeU32(bytes, 0, count);
  const signatureArea = 4 + 4 * (count + 1);
  const keyArea = signatureArea + count * SIGNATURE_BYTES;
  const messageArea = keyArea + count * PUBLIC_KEY_BYTES;
  let offset = 0;
  for (let k = 0; k < count; k++) {
    const i = start + k;
    writeU32(bytes, 4 + 4 * k, offset);
    const messageLength = lengths[k];
    copyInto(bytes, signatures[i], signatureArea + k * SIGNATURE_BYTES, SIGNATURE_BYTES);
    copyInto(bytes, publicKeys[i], keyArea + k * PUBLIC_KEY_BYTES, PUBLIC_KEY_BYTES);
    copyInto(bytes, messages[i], messageArea + offset, messageLength);
    offset += messageLength;
  }
  writeU32(bytes, 4 + 4 * count, offset);
  return buffer;
}

/** The items of a signature chunk, as views of `buffer` (no copies). */
export function unpackSignatureChunk(buffer: SharedArrayBuffer): SignatureChunkItem[] {
  const view = new DataView(buffer);
  const count = view.getUint32(0, true);
  const signatureArea = 4 + 4 * (count + 1);
  const keyArea = signatureArea + count * SIGNATURE_BYTES;
  const messageArea = keyArea + count * PUBLIC_KEY_BYTES;
  const items: SignatureChunkItem[] = new Array(count);
  for (let k = 0; k < count; k++) {
    const from = view.getUint32(4 + 4 * k, true);
    const to = view.getUint32(8 + 4 * k, true);
    items[k] = {
      signature: new Uint8Array(buffer, signatureArea + k * SIGNATURE_BYTES, SIGNATURE_BYTES),
      publicKey: new Uint8Array(buffer, keyArea + k * PUBLIC_KEY_BYTES, PUBLIC_KEY_BYTES),
      message: new Uint8Array(buffer, messageArea + from, to - from),
    };
  }
  return items;
}

// ---- Envelope chunks ----------------------------------------------------------------------

/** Bytes an envelope input takes in a chunk: its bytes, or a string's UTF-16 units plus one byte to align them. */
export function envelopeChunkBytes(input: Uint8Array | string): number {
  return typeof input === "string" ? 2 * input.length + 1 : viewLength(input);
}

/** Bytes of an envelope chunk's table per input (u32 start, byteLength, isString). */
export const ENVELOPE_ROW_BYTES = 12;

/**
 * Bytes an envelope input holds in its chunk, its row in the table included: what maxQueuedBytes
 * counts for it (src/pool/index.ts). Without the row an empty Uint8Array counted 0, and a call of
 * any number of them was admitted whatever the pool held (admit never refuses 0 bytes).
 */
export function envelopeHeldBytes(input: Uint8Array | string): number {
  return ENVELOPE_ROW_BYTES + envelopeChunkBytes(input);
}

/** Packs already validated envelope inputs (strings or readable Uint8Arrays) into one fresh SharedArrayBuffer. */
export function packEnvelopeChunk(inputs: OwnList<Uint8Array | string>, start: number, end: number): SharedArrayBuffer {
  const count = end - start;
  const tableEnd = 4 + ENVELOPE_ROW_BYTES * count;
  // Byte inputs are measured once: the size and the copies use these lengths (copyInto).
  const lengths = ownList<number>(count);
  let size = tableEnd;
  for (let k = 0; k < count; k++) {
    const input = inputs[start + k];
    lengths[k] = envelopeChunkBytes(input); // for bytes, their one measurement
    size += lengths[k];
  }
  const buffer = chunkMemory.allocate(size);
  const bytes = bytesOver(buffer);
  writeU32(bytes, 0, count);
  let at = tableEnd;
  for (let k = 0; k < count; k++) {
    const input = inputs[start + k];
    const row = 4 + ENVELOPE_ROW_BYTES * k;
    if (typeof input === "string") {
      at += at & 1;
      // The units straight into the chunk (at is even). Uint16Array uses the host's byte order;
      // the worker reads them back with the same order (same process).
      const units = new Units(buffer, at, input.length);
      for (let u = 0; u < input.length; u++) units[u] = charCodeAt(input, u);
      writeU32(bytes, row, at);
      writeU32(bytes, row + 4, 2 * input.length);
      writeU32(bytes, row + 8, 1);
      at += 2 * input.length;
    } else {
      const length = lengths[k];
      copyInto(bytes, input, at, length);
      writeU32(bytes, row, at);
      writeU32(bytes, row + 4, length);
      writeU32(bytes, row + 8, 0);
      at += length;
    }
  }
  return buffer;
}

/** The inputs of an envelope chunk: byte inputs as views of `buffer`, strings rebuilt unit for unit. */
export function unpackEnvelopeChunk(buffer: SharedArrayBuffer): (Uint8Array | string)[] {
  const view = new DataView(buffer);
  const count = view.getUint32(0, true);
  const inputs: (Uint8Array | string)[] = new Array(count);
  for (let k = 0; k < count; k++) {
    const row = 4 + ENVELOPE_ROW_BYTES * k;
    const start = view.getUint32(row, true);
    const length = view.getUint32(row + 4, true);
    if (view.getUint32(row + 8, true) === 1) {
      const units = new Uint16Array(buffer, start, length / 2);
      let text = "";
      // fromCharCode takes the units as arguments: go in slices that stay far below the engine's argument limit.
      for (let u = 0; u < units.length; u += 4096) {
        text += String.fromCharCode.apply(null, units.subarray(u, u + 4096) as unknown as number[]);
      }
      inputs[k] = text;
    } else {
      inputs[k] = new Uint8Array(buffer, start, length);
    }
  }
  return inputs;
}
