// RFC 8785 (JCS) canonicalization of JSON *text*, running in the WebAssembly core
// (assembly/json/transcoder.ts): one copy in, one call, one slice out.
//
// Semantics (see the transcoder for details):
//  * Input is UTF-8 JSON text (RFC 8259). A leading byte-order mark is rejected (INVALID_JSON):
//    RFC 8259 §8.1 forbids adding one, and we do not guess.
//  * Output is the RFC 8785 canonical UTF-8: members sorted by UTF-16 code units, no
//    whitespace, minimal string escaping, numbers in ECMAScript form.
//  * Integer literals (no fraction, no exponent) that fit in i64/u64 are kept exactly as
//    written (chio's Rust canonicalizer does the same), except `-0` → `0`; every other number
//    goes through the nearest double. 9007199254740993 therefore stays 9007199254740993, where
//    strict JCS would print 9007199254740992.
//  * I-JSON (RFC 7493) is enforced: duplicate member names (compared after unescaping), lone
//    surrogates and numbers that overflow binary64 are errors.
import { charCodeAt, copyInto, copyOfRange, isUint8Array, isUnreadableView, mapGet, readOptions, readU32, stringSlice, subview, uncurryThis, utf8Length, viewLength } from "../bytes.js";
import { CanonicalJsonError, InvalidTypeError, WasmCoreError, isInstanceOf, type CanonicalJsonErrorCode } from "../errors.js";
import { argsBase, coreCallInterrupted, coreExports, contained, heapU8, ioArenaBase, reserveIo, type CoreExports } from "../wasm/instance.js";
import * as abi from "../wasm/abi.js";
import { byteLimitOption, DEFAULT_MAX_BYTES, DEFAULT_MAX_DEPTH, DEFAULT_MAX_OUTPUT_BYTES, MAX_DEPTH_LIMIT, MAX_OUTPUT_BYTES_LIMIT, maxDepthOption } from "./limits.js";

export { DEFAULT_MAX_BYTES, DEFAULT_MAX_DEPTH, DEFAULT_MAX_OUTPUT_BYTES };

/** Options for {@link canonicalizeJson}. Members not listed here are refused (InvalidTypeError). */
export interface CanonicalizeJsonOptions {
  /** Maximum container nesting (default 64, DEFAULT_MAX_DEPTH; 0…MAX_DEPTH_LIMIT = 1000, larger values are refused). */
  maxDepth?: number;
  /** Maximum input size in UTF-8 bytes (default 1 MiB = 1048576; values above 128 MiB are clamped to 128 MiB). */
  maxBytes?: number;
  /** Maximum output size in bytes (default 16 MiB, DEFAULT_MAX_OUTPUT_BYTES, as for canonicalize; at most 2^32 − 1). */
  maxOutputBytes?: number;
  /**
   * Escape U+007F–U+009F as \u007f…\u009f, as older chio Rust kernels do (`char::is_control`;
   * chio vectors a1486dbd). Default false: RFC 8785 writes them raw (chio vectors 483bf3f1).
   */
  escapeDelAndC1?: boolean;
}

interface JsonCoreExports extends CoreExports {
  json_canonicalize(inputLength: number, maxDepth: number, flags: number, maxOutput: number): number;
}

/** Same as MAX_DEPTH_LIMIT (kept under this name for existing imports). */
export const MAX_JSON_DEPTH = MAX_DEPTH_LIMIT;
const OPTION_KEYS = ["maxDepth", "maxBytes", "maxOutputBytes", "escapeDelAndC1"] as const;
/** Largest input the arena layout can address (it needs roughly 12× the input). */
const BYTES_CLAMP = 0x08000000;
const { JSON_FLAG_ESCAPE_DEL_AND_C1, ARG_RESULT, JSON_RESULT_OUTPUT, JSON_RESULT_LENGTH, JSON_RESULT_ERROR_OFFSET } = abi;

// Status codes of the transcoder (assembly/abi.ts STATUS_*): error code and message.
const STATUS_ERRORS = new Map<number, readonly [CanonicalJsonErrorCode, string]>([
  [abi.STATUS_INVALID_JSON, ["INVALID_JSON", "invalid JSON"]],
  [abi.STATUS_TRAILING_DATA, ["TRAILING_DATA", "unexpected data after the top-level JSON value"]],
  [abi.STATUS_INVALID_UTF8, ["INVALID_UTF8", "invalid UTF-8"]],
  [abi.STATUS_LONE_SURROGATE, ["LONE_SURROGATE", "lone UTF-16 surrogate in a \\u escape"]],
  [abi.STATUS_DUPLICATE_KEY, ["DUPLICATE_KEY", "duplicate object member name"]],
  [abi.STATUS_TOO_DEEP, ["TOO_DEEP", "JSON nesting is deeper than maxDepth"]],
  [abi.STATUS_TOO_LARGE, ["TOO_LARGE", "canonical JSON output exceeds the available space"]],
  [abi.STATUS_NUMBER_OUT_OF_RANGE, ["NUMBER_OUT_OF_RANGE", "number is outside the range of an IEEE 754 double"]],
]);

const utf8Encoder = new TextEncoder();
/** TextEncoder.prototype.encodeInto as this module loaded: it writes into wasm memory, whose views go to no replaceable built-in (src/bytes.ts, review 70 F1). */
const encodeUtf8Into = uncurryThis(TextEncoder.prototype.encodeInto);

/**
 * Canonicalizes JSON text per RFC 8785 and returns the canonical UTF-8 bytes.
 * @param input JSON text, as a string or as UTF-8 bytes.
 * @throws CanonicalJsonError with code INVALID_JSON, TRAILING_DATA, INVALID_UTF8, LONE_SURROGATE,
 *   DUPLICATE_KEY, TOO_DEEP, TOO_LARGE or NUMBER_OUT_OF_RANGE; `offset` is the UTF-8 byte
 *   offset in the input (for string input: of its UTF-8 encoding).
 * @throws InvalidTypeError if `input` is neither a string nor a Uint8Array (a Proxy of one does
 *   not count), if it is a view of a detached or out-of-bounds ArrayBuffer, or if an option has the
 *   wrong type or is not one of the four listed; InvalidLengthError if `maxDepth` is outside
 *   0…MAX_DEPTH_LIMIT (1000).
 */
export function canonicalizeJson(input: string | Uint8Array, options?: CanonicalizeJsonOptions): Uint8Array {
  const read = readOptions(options, OPTION_KEYS);
  const maxDepth = maxDepthOption(read.maxDepth);
  const maxBytes = byteLimitOption(read.maxBytes, "maxBytes", DEFAULT_MAX_BYTES, BYTES_CLAMP);
  const maxOutput = byteLimitOption(read.maxOutputBytes, "maxOutputBytes", DEFAULT_MAX_OUTPUT_BYTES, MAX_OUTPUT_BYTES_LIMIT);
  if (read.escapeDelAndC1 !== undefined && typeof read.escapeDelAndC1 !== "boolean") throw new InvalidTypeError("escapeDelAndC1 must be a boolean");
  const flags = read.escapeDelAndC1 === true ? JSON_FLAG_ESCAPE_DEL_AND_C1 : 0;
  const length = writeInput(input, maxBytes);
  const core = coreExports<JsonCoreExports>();
  let status: number;
  try {
    status = core.json_canonicalize(length, maxDepth, flags, maxOutput);
  } catch (cause) {
    coreCallInterrupted.set = true; // first, with no call (src/wasm/instance.ts)
    throw contained(cause); // guarded()'s handling, without a closure per call
  }
  const heap = heapU8();
  const result = argsBase() + ARG_RESULT;
  if (status !== abi.STATUS_OK) {
    const offset = readU32(heap, result + JSON_RESULT_ERROR_OFFSET);
    const known = mapGet(STATUS_ERRORS, status); // captured: the realm's get would run caller code and pick the error (hunt 19)
    // A status this table does not know is a bug in the core (or a new status left out here):
    // a trap, not a syntax error in the caller's input (review-36 F7).
    if (known === undefined) throw new WasmCoreError("WASM_TRAP", `json_canonicalize returned the unknown status ${status}`);
    const code = known[0];
    const message = known[1];
    throw new CanonicalJsonError(code, `${message} at byte ${offset}`, offset);
  }
  const start = readU32(heap, result + JSON_RESULT_OUTPUT);
  return copyOfRange(heap, start, start + readU32(heap, result + JSON_RESULT_LENGTH));
}

/**
 * Copies `input` into the I/O arena as UTF-8 and returns its byte length. Shared with the
 * envelope verifier. Throws CanonicalJsonError TOO_LARGE / LONE_SURROGATE, or InvalidTypeError
 * (not a string or Uint8Array; a detached or out-of-bounds view, which would read as empty).
 * The bytes are validated and then copied into wasm memory in this synchronous call: that write
 * is the defensive copy, so no JS copy is made first.
 */
export function writeInput(input: string | Uint8Array, maxBytes: number): number {
  return writeInputAt(input, maxBytes, 0);
}

/**
 * writeInput at `offset` bytes into the I/O arena (the envelope batch lays several inputs end to
 * end): the same checks, the same errors, the same bytes.
 */
export function writeInputAt(input: string | Uint8Array, maxBytes: number, offset: number): number {
  const base = ioArenaBase() + offset;
  if (typeof input === "string") {
    // UTF-8 needs at least one byte per UTF-16 unit, so a longer string cannot fit.
    if (input.length > maxBytes) throw tooLarge(input.length, maxBytes);
    const surrogate = loneSurrogateIndex(input);
    // The offset is the UTF-8 length of the well-formed prefix, measured with built-ins captured
    // at load (a replaced slice or encode could call the library again here: review 85).
    if (surrogate >= 0) throw loneSurrogateInInput(utf8Length(stringSlice(input, 0, surrogate)));
    let capacity = input.length * 3;
    let heap: Uint8Array;
    try {
      heap = ensureArena(offset, capacity);
    } catch (error) {
      // Memory cannot take 3 bytes per unit. The exact UTF-8 length decides whether the input is
      // too long for maxBytes (its own fault, whatever memory there is) or fits after all.
      if (!isInstanceOf(CanonicalJsonError, error)) throw error; // no Symbol.hasInstance looked up (review 98)
      capacity = utf8Length(input);
      if (capacity > maxBytes) throw tooLarge(capacity, maxBytes);
      heap = ensureArena(offset, capacity);
    }
    const written = encodeUtf8Into(utf8Encoder, input, subview(heap, base, base + capacity)).written;
    if (written > maxBytes) throw tooLarge(written, maxBytes);
    return written;
  }
  if (!isUint8Array(input)) {
    throw new InvalidTypeError(`input must be a string or a Uint8Array, got ${input === null ? "null" : typeof input}`);
  }
  if (isUnreadableView(input)) throw new InvalidTypeError("input is a view of a detached or out-of-bounds ArrayBuffer");
  const length = viewLength(input);
  if (length > maxBytes) throw tooLarge(length, maxBytes);
  copyInto(ensureArena(offset, length), input, base, length); // exactly the measured bytes (a view of shared memory may grow)
  return length;
}

/** The error writeInput throws for a string with an unpaired surrogate whose UTF-8 prefix is `offset` bytes. */
export function loneSurrogateInInput(offset: number): CanonicalJsonError {
  return new CanonicalJsonError("LONE_SURROGATE", `lone UTF-16 surrogate in the input string at byte ${offset}`, offset);
}

/** Re-exported for the handshake modules: see src/bytes.ts (a Proxy of a Uint8Array is not one). */
export { isUint8Array };

/** The heap, with the I/O arena holding at least offset + bytes bytes. */
function ensureArena(offset: number, bytes: number): Uint8Array {
  let heap = heapU8();
  if (ioArenaBase() + offset + bytes > viewLength(heap)) {
    try {
      reserveIo(offset + bytes);
    } catch (cause) {
      // TOO_LARGE for the canonical JSON API; the WasmCoreError cause tells the envelope verifier
      // that memory, not maxBytes, refused the input.
      if (isInstanceOf(WasmCoreError, cause)) throw new CanonicalJsonError("TOO_LARGE", `cannot reserve ${offset + bytes} bytes for the input`, undefined, { cause });
      throw cause;
    }
    heap = heapU8();
  }
  return heap;
}

function tooLarge(size: number, maxBytes: number): CanonicalJsonError {
  return new CanonicalJsonError("TOO_LARGE", `input is larger than maxBytes (${maxBytes})`, maxBytes);
}

/**
 * String.prototype.isWellFormed as this module loaded (ES2024; undefined on older hosts). Looked
 * up when a call ran, a replacement could call the library again in the middle of that call, over
 * its input in the core's memory (review 84: a WASM_TRAP).
 */
const isWellFormed = typeof (String.prototype as { isWellFormed?: unknown }).isWellFormed === "function"
  ? uncurryThis((String.prototype as unknown as { isWellFormed: (this: string) => boolean }).isWellFormed)
  : undefined;

/** Index of the first unpaired surrogate in `text`, or -1 (built-ins as this module loaded: isWellFormed, charCodeAt). */
export function loneSurrogateIndex(text: string): number {
  if (isWellFormed !== undefined && isWellFormed(text)) return -1;
  for (let i = 0; i < text.length; i++) {
    const unit = charCodeAt(text, i);
    if (unit < 0xd800 || unit > 0xdfff) continue;
    if (unit <= 0xdbff && i + 1 < text.length) {
      const next = charCodeAt(text, i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        i++;
        continue;
      }
    }
    return i;
  }
  return -1;
}

