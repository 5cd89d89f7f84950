// `chio-trust verify`: NDJSON items {message | messageText, signature, publicKey} (hex strings),
// verified in batches on the worker pool (chio-trust/pool), with a summary and throughput. Exit 0
// when every item verifies, 1 when any does not, 2 when the input cannot be read, a line is not
// such an item or there is no item at all. Reading and decoding stay on the main thread; up to
// 2 × threads batches are in flight at once, so the workers never wait for the parser, and each
// batch holds at most --batch-size items and about MAX_BATCH_BYTES of them, so memory stays
// bounded by bytes too.
import { closeSync, createReadStream, fstatSync } from "node:fs";
import { hexToBytes, loneSurrogateIndex } from "../bytes.js";
import { createVerifierPool, type VerifierPool } from "../pool/index.js";
import { CliError, EXIT_OK, EXIT_REFUSED } from "./errors.js";
import { inputFileChunks, openInputFile, refuseDirectoryOnStdin } from "./kernel.js";

export interface VerifyOptions {
  batchSize: number;
  /** Worker threads (default: os.availableParallelism()). */
  threads?: number;
  json?: boolean;
  progress?: boolean;
  maxReport: number;
  zip215?: boolean;
}

interface Item {
  line: number;
  message: Uint8Array;
  signature: Uint8Array;
  publicKey: Uint8Array;
}

const PROGRESS_MIN_BYTES = 1 << 20;
const MAX_LINE_BYTES = 16 << 20;
/** A batch is sent once its items hold this many bytes, whatever --batch-size says: memory follows bytes, not item counts. */
const MAX_BATCH_BYTES = 4 << 20;

function decodeItem(text: string, line: number): Item {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new CliError("INVALID_ITEM", `line ${line}: not JSON`);
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) throw new CliError("INVALID_ITEM", `line ${line}: not a JSON object`);
  const item = value as Record<string, unknown>;
  const hex = (name: string, length?: number): Uint8Array => {
    const field = item[name];
    if (typeof field !== "string") throw new CliError("INVALID_ITEM", `line ${line}: ${name} must be a hex string`);
    if (length !== undefined && field.length !== length * 2) throw new CliError("INVALID_ITEM", `line ${line}: ${name} must be ${length} bytes (${length * 2} hex digits)`);
    try {
      return hexToBytes(field);
    } catch (error) {
      throw new CliError("INVALID_ITEM", `line ${line}: ${name}: ${(error as Error).message}`);
    }
  };
  let message: Uint8Array;
  if ("message" in item && "messageText" in item) throw new CliError("INVALID_ITEM", `line ${line}: give message or messageText, not both`);
  if (typeof item.messageText === "string") {
    // A lone surrogate (a "\ud800" escape) has no UTF-8 form: encoded as U+FFFD, other bytes than
    // were written would verify, as for a line that is not UTF-8 (helper 142).
    const lone = loneSurrogateIndex(item.messageText);
    if (lone >= 0) throw new CliError("INVALID_ITEM", `line ${line}: messageText has an unpaired UTF-16 surrogate at index ${lone} (no UTF-8 form)`);
    message = new TextEncoder().encode(item.messageText);
  } else if ("messageText" in item) throw new CliError("INVALID_ITEM", `line ${line}: messageText must be a string`);
  else message = hex("message");
  return { line, message, signature: hex("signature", 64), publicKey: hex("publicKey", 32) };
}


export async function runVerify(source: string | undefined, options: VerifyOptions): Promise<number> {
  const fromStdin = source === undefined || source === "-";
  const unreadable = (reason: string) => new CliError("INPUT_UNREADABLE", `cannot read ${fromStdin ? "stdin" : source}: ${reason}`);
  let size = 0;
  let stream: NodeJS.ReadableStream | AsyncGenerator<Buffer>;
  /** The descriptor inputFileChunks reads (a named pipe), closed when the read ends. */
  let pipeFd: number | undefined;
  const endRead = () => {
    if ("destroy" in stream && typeof stream.destroy === "function") stream.destroy();
    if (pipeFd !== undefined) closeSync(pipeFd);
    pipeFd = undefined;
  };
  if (fromStdin) {
    refuseDirectoryOnStdin(unreadable); // as accept refuses it (it read as no items)
    try {
      const stats = fstatSync(0);
      if (stats.isFile()) size = stats.size; // `verify - < file`: its size, as for a file named here
    } catch {
      // no stdin to inspect: the read that follows reports it
    }
    stream = process.stdin;
  } else {
    // Opened without waiting for a writer: a named pipe whose writer never comes is
    // INPUT_UNREADABLE after 10 s (inputFileChunks), as for accept's input, never a hang.
    const { fd, stats, waitsForWriter } = openInputFile(source, unreadable);
    size = stats.isFile() ? stats.size : 0; // a pipe (`verify <(…)`) or a device: read, with no known size
    if (stats.isFIFO()) {
      stream = inputFileChunks(fd, waitsForWriter, unreadable);
      pipeFd = fd;
    } else {
      stream = createReadStream("", { fd }); // the stream closes fd
    }
  }
  let readError: Error | undefined;
  if ("on" in stream) stream.on("error", (error: Error) => (readError = error));

  // By default on a terminal for input over PROGRESS_MIN_BYTES of known size: a file named here, or
  // stdin redirected from one (`verify - < file`: its size from fstat above), which drew no bar
  // where `verify file` did (hunt 44). A pipe's size is not known (0): no bar unless --progress.
  const showProgress = options.progress ?? (size >= PROGRESS_MIN_BYTES && process.stderr.isTTY === true);
  let bar: { start(total: number, value: number): void; update(value: number): void; stop(): void } | undefined;
  // Input of unknown size (a pipe, `verify <(…)`, stdin from one) shows the bytes read: a bar
  // over a total of 1 stayed at "0% | 0/1 bytes" to the end (hunt 38).
  const sized = size > 0;
  if (showProgress) {
    const { default: progress } = await import("cli-progress");
    bar = new progress.SingleBar(
      {
        stream: process.stderr,
        format: sized ? "verify [{bar}] {percentage}% | {value}/{total} bytes" : "verify {value} bytes read",
        hideCursor: false,
        noTTYOutput: true,
        notTTYSchedule: 250,
      },
      progress.Presets.shades_classic,
    );
    bar.start(sized ? size : 1, 0);
  }

  let pool: VerifierPool;
  try {
    // Its own bound on what it holds: at most 2 x threads calls in flight (maxInFlight below),
    // each under MAX_BATCH_BYTES plus one line, so the pool's byte bound would only refuse calls
    // this loop already waits for.
    pool = createVerifierPool({ ...(options.threads === undefined ? {} : { threads: options.threads }), maxQueuedBytes: Number.MAX_SAFE_INTEGER });
  } catch (error) {
    bar?.stop();
    endRead();
    throw new CliError((error as { code?: string }).code ?? "POOL_UNAVAILABLE", `cannot start the worker pool: ${(error as Error).message}`);
  }
  const started = performance.now();
  let total = 0;
  let valid = 0;
  // Only the failing lines that are printed: memory stays bounded however many items fail.
  const failed = new SmallestLines(options.maxReport);
  let bytesSeen = 0;
  let batch: Item[] = [];
  let batchBytes = 0;
  const inFlight: Promise<void>[] = [];
  const maxInFlight = pool.threads * 2;
  const flush = async () => {
    const items = batch;
    const seenAtSend = bytesSeen;
    batch = [];
    batchBytes = 0;
    const settled = pool.verifyBatch(items, { zip215: options.zip215 === true }).then((results) => {
      results.forEach((ok, index) => {
        total++;
        if (ok) valid++;
        else failed.add(items[index].line);
      });
      bar?.update(sized ? Math.min(seenAtSend, size) : seenAtSend);
    });
    settled.catch(() => undefined); // awaited below; never an unhandled rejection meanwhile
    inFlight.push(settled);
    if (inFlight.length >= maxInFlight) await inFlight.shift();
  };
  let lineNumber = 0;
  try {
    const tooLong = (line: number) => new CliError("INVALID_ITEM", `line ${line}: longer than ${MAX_LINE_BYTES} bytes`);
    const notUtf8 = (line: number) => new CliError("INVALID_ITEM", `line ${line}: not valid UTF-8`);
    for await (const text of boundedLines(stream as AsyncIterable<Buffer | string>, MAX_LINE_BYTES, tooLong, notUtf8)) {
      lineNumber++;
      bytesSeen += Buffer.byteLength(text) + 1;
      if (text.trim() === "") continue;
      const item = decodeItem(text, lineNumber);
      batch.push(item);
      batchBytes += item.message.length + 96;
      if (batch.length >= options.batchSize || batchBytes >= MAX_BATCH_BYTES) await flush();
    }
    if (readError) throw readError;
    if (batch.length > 0) await flush();
    await Promise.all(inFlight);
  } catch (error) {
    bar?.stop();
    await Promise.allSettled(inFlight);
    if (error instanceof CliError) throw error;
    const code = (error as { code?: unknown }).code;
    if (error instanceof Error && error.name === "VerifierPoolError" && typeof code === "string") throw new CliError(code, error.message);
    throw new CliError("INPUT_UNREADABLE", `cannot read ${fromStdin ? "stdin" : source}: ${(error as Error).message}`);
  } finally {
    endRead();
    await pool.close();
  }
  bar?.stop(); // before any return or throw: a running bar's timer keeps the process alive
  // Fail closed: input with no item (an empty file, a producer that died before writing) is not
  // "everything verified" for a script that only reads the exit code.
  if (total === 0) throw new CliError("NO_ITEMS", `no items in ${fromStdin ? "stdin" : source}: nothing was verified`);
  const failedLines = failed.sorted(); // the first --max-report failing lines, in input order (batches may settle out of order)
  const seconds = (performance.now() - started) / 1000;
  const rate = seconds > 0 ? total / seconds : 0;
  const invalid = total - valid;
  if (options.json) {
    process.stdout.write(JSON.stringify({ total, valid, invalid, failedLines, seconds, itemsPerSecond: Math.round(rate), engine: "pool", threads: pool.threads }) + "\n");
  } else {
    for (const line of failedLines) process.stdout.write(`line ${line}: signature does not verify\n`);
    if (failed.count > failedLines.length) process.stdout.write(`... and ${failed.count - failedLines.length} more\n`);
    process.stdout.write(`${total} items: ${valid} valid, ${invalid} invalid in ${seconds.toFixed(3)} s (${Math.round(rate)} items/s, ${pool.threads} worker thread${pool.threads === 1 ? "" : "s"})\n`);
  }
  return invalid === 0 ? EXIT_OK : EXIT_REFUSED;
}

/**
 * The `limit` smallest line numbers added (the failing lines verify prints) and how many were
 * added in all. A max-heap of at most `limit` numbers: memory does not grow with the number of
 * failures, and a line above the largest kept (the usual case once the heap is full, since
 * batches go out in input order) costs one comparison.
 */
export class SmallestLines {
  readonly #heap: number[] = [];
  #count = 0;

  constructor(readonly limit: number) {}

  /** How many lines were added. */
  get count(): number {
    return this.#count;
  }

  /** How many lines are kept (at most `limit`). */
  get size(): number {
    return this.#heap.length;
  }

  add(line: number): void {
    this.#count++;
    const heap = this.#heap;
    if (heap.length < this.limit) {
      let at = heap.push(line) - 1;
      while (at > 0) {
        const parent = (at - 1) >> 1;
        if (heap[parent] >= heap[at]) break;
        [heap[parent], heap[at]] = [heap[at], heap[parent]];
        at = parent;
      }
    } else if (heap.length > 0 && line < heap[0]) {
      heap[0] = line;
      for (let at = 0; ; ) {
        const left = 2 * at + 1;
        const right = left + 1;
        let largest = at;
        if (left < heap.length && heap[left] > heap[largest]) largest = left;
        if (right < heap.length && heap[right] > heap[largest]) largest = right;
        if (largest === at) break;
        [heap[largest], heap[at]] = [heap[at], heap[largest]];
        at = largest;
      }
    }
  }

  /** The kept lines, smallest first. */
  sorted(): number[] {
    return [...this.#heap].sort((a, b) => a - b);
  }
}

const strictUtf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/**
 * The lines of `input` as UTF-8 text (ended by \n, a \r before it dropped; a UTF-8 byte order
 * mark at the very start of the input is dropped, as Notepad and PowerShell 5 `Out-File -Encoding
 * utf8` write one). A line that is not valid UTF-8 throws `notUtf8(its number)`: decoded with
 * U+FFFD for the invalid bytes, as readline decodes them, a `messageText` of other bytes than
 * were signed verified as the message (accept refuses such input for the same reason, review 52). A line longer than `maxBytes` throws `tooLong(its number)` as
 * soon as its bytes pass the limit, holding at most `maxBytes` of it: readline would buffer the
 * whole line first (about 500 MB of memory for a 200 MB line, and a RangeError past V8's string
 * length limit).
 */
async function* boundedLines(input: AsyncIterable<Buffer | string>, maxBytes: number, tooLong: (line: number) => Error, notUtf8: (line: number) => Error): AsyncGenerator<string> {
  let parts: Buffer[] = [];
  let length = 0;
  let line = 0;
  const text = () => {
    let bytes = parts.length === 1 ? parts[0] : Buffer.concat(parts, length);
    if (bytes.length > 0 && bytes[bytes.length - 1] === 0x0d) bytes = bytes.subarray(0, bytes.length - 1);
    parts = [];
    length = 0;
    let decoded: string;
    try {
      decoded = strictUtf8.decode(bytes);
    } catch {
      throw notUtf8(line);
    }
    return line === 1 && decoded.charCodeAt(0) === 0xfeff ? decoded.slice(1) : decoded;
  };
  for await (const chunk of input) {
    const bytes = typeof chunk === "string" ? Buffer.from(chunk, "utf8") : chunk;
    let start = 0;
    for (;;) {
      const newline = bytes.indexOf(0x0a, start);
      const end = newline < 0 ? bytes.length : newline;
      length += end - start;
      if (length > maxBytes) throw tooLong(line + 1);
      if (end > start) parts.push(bytes.subarray(start, end));
      if (newline < 0) break;
      line++;
      yield text();
      start = newline + 1;
    }
  }
  if (length > 0) {
    line++;
    yield text();
  }
}
