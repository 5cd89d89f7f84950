// One-call verification of a chio federation handshake envelope from its JSON text
// (docs/protocol.md §2, §3, §5 step 1). Parsing (chio's serde rules), the schema and weak-key checks, the
// canonical challenge (RFC 8785) and the Ed25519 verification all run in ONE WebAssembly call
// (assembly/handshake/envelope.ts). JS decodes the challenge strings only after the signature holds.
//
// Differences from chio's Rust, all failing closed: a struct written as a JSON array (which serde
// would accept) is MALFORMED_ENVELOPE; keys/signatures with chio's `p256:`/`p384:`/`hybrid:`
// prefixes are MALFORMED_ENVELOPE (chio parses them and then fails verification with
// InvalidSignature, as the handshake only verifies Ed25519).
//
// Bad envelopes never throw: they yield `{ ok: false, code, message, offset? }`, plus the declared
// `schema` (bounded) on UNSUPPORTED_SCHEMA and `declaredPublicKeyHex` on WEAK_PUBLIC_KEY, so callers
// can name them without parsing the unverified input themselves. Only misuse throws:
// InvalidTypeError for wrong option types, or an input that is not a string or a Uint8Array (a Proxy
// of one does not count), or a view of a detached or out-of-bounds ArrayBuffer (which would
// otherwise read as the empty input); InvalidConfigError for a `maxBytes` outside 1 … 16 MiB.
import { CanonicalJsonError, InvalidTypeError, WasmCoreError, isInstanceOf } from "../errors.js";
import { argsBase, coreCallInterrupted, coreExports, contained, guarded, heapU8, ioArenaBase, reserveIo, type CoreExports } from "../wasm/instance.js";
import * as abi from "../wasm/abi.js";
import { DEFAULT_MAX_ENVELOPE_BYTES, FEDERATION_HANDSHAKE_SCHEMA, MAX_ENVELOPE_BYTES_LIMIT } from "./constants.js";
import { displayPeerText } from "./errors.js";
import {
  arrayArgumentLength, bytesToHex, charCodeAt, concatBytes, copyOfRange, elementOf, fillRandomBytes, isArrayArgument, isUint8Array, isUnreadableView, newBytes, ownList, ownListAsArray, readOptions, readU32, stringSlice, subview,
  typedArrayFill, typedArraySet, uncurryThis, viewLength, writeU32, hasOwnMember, mapGet, setHas, type OwnList,
} from "../bytes.js";
import { booleanOption } from "../canonical/limits.js";
import { expectMaxEnvelopeBytes } from "./wire.js";
import { loneSurrogateInInput, writeInput, writeInputAt } from "../canonical/json.js";

export type EnvelopeFailureCode = "MALFORMED_ENVELOPE" | "UNSUPPORTED_SCHEMA" | "WEAK_PUBLIC_KEY" | "INVALID_SIGNATURE";

/** Why an envelope is MALFORMED_ENVELOPE, as data (docs/protocol.md §9), so no caller reads the message text. */
export type EnvelopeProblem =
  | "INVALID_JSON"
  | "TRAILING_DATA"
  | "INVALID_UTF8"
  | "LONE_SURROGATE"
  | "TOO_LARGE"
  | "OUT_OF_MEMORY"
  | "NOT_AN_OBJECT"
  | "UNKNOWN_FIELD"
  | "DUPLICATE_FIELD"
  | "MISSING_FIELD"
  | "NOT_A_STRING"
  | "BAD_TIMESTAMP"
  | "BAD_HEX"
  | "BAD_LENGTH"
  | "NOT_A_CURVE_POINT"
  | "UNREADABLE";

/** Where in the envelope the problem is: the member's path (the containing object for UNKNOWN_FIELD). */
export type EnvelopeFieldPath =
  | "envelope"
  | "challenge"
  | "declaredPublicKey"
  | "signature"
  | "challenge.schema"
  | "challenge.localKernelId"
  | "challenge.remoteKernelId"
  | "challenge.nonce"
  | "challenge.timestamp";

export interface VerifiedEnvelope {
  challenge: {
    schema: string;
    localKernelId: string;
    remoteKernelId: string;
    nonce: string;
    /** A number when ≤ 2^53 − 1, otherwise an exact bigint (chio timestamps are u64). */
    timestamp: number | bigint;
  };
  /** The 32 key bytes as decoded from the envelope. */
  declaredPublicKey: Uint8Array;
  /** The 64 signature bytes (R ‖ S). */
  signature: Uint8Array;
  /** The exact bytes that were verified: the RFC 8785 canonical challenge. */
  canonicalChallenge: Uint8Array;
}

export type EnvelopeVerdict =
  | { ok: true; envelope: VerifiedEnvelope }
  | {
      ok: false;
      code: EnvelopeFailureCode;
      message: string;
      offset?: number;
      /** MALFORMED_ENVELOPE only: what is wrong, as a stable code. */
      problem?: EnvelopeProblem;
      /** MALFORMED_ENVELOPE only, when the problem is in one member: its path. */
      field?: EnvelopeFieldPath;
      /** MALFORMED_ENVELOPE only: the message without its "malformed envelope: " prefix. */
      detail?: string;
      /**
       * UNSUPPORTED_SCHEMA only: the schema the (unverified) envelope declares, for messages. At
       * most SCHEMA_SHOWN_UNITS UTF-16 units (never splitting a surrogate pair), followed by "…" when cut.
       */
      schema?: string;
      /** WEAK_PUBLIC_KEY only: the declared key as 64 lowercase hex digits. */
      declaredPublicKeyHex?: string;
    };

export interface VerifyEnvelopeOptions {
  /** Largest accepted envelope in UTF-8 bytes: an integer in 1 … MAX_ENVELOPE_BYTES_LIMIT (16 MiB), default 64 KiB, anything else InvalidConfigError (as for fromJSON); larger input is MALFORMED_ENVELOPE unparsed. */
  maxBytes?: number;
  /** Verify with the ZIP-215 (cofactored) rule instead of chio's default dalek/OpenSSL rule. Default false. */
  zip215?: boolean;
  /** Reject declared keys of small order (including the identity) as WEAK_PUBLIC_KEY. Default true. */
  rejectWeakKeys?: boolean;
  /** Rebuild the challenge with U+007F–U+009F escaped, as older chio Rust kernels sign it. Default false. */
  escapeDelAndC1?: boolean;
}

interface EnvelopeCoreExports extends CoreExports {
  envelope_verify(inputLength: number, flags: number): number;
  envelope_verify_batch(count: number, inputBytes: number, flags: number): number;
}

/** Default `maxBytes` (64 KiB): the handshake's DEFAULT_MAX_ENVELOPE_BYTES, of which this is an alias. */
export const DEFAULT_ENVELOPE_MAX_BYTES = DEFAULT_MAX_ENVELOPE_BYTES;
// Flags, verdicts, reasons, result words and field codes of assembly/handshake/envelope.ts (assembly/abi.ts).
const {
  ARG_RESULT,
  ENVELOPE_FLAG_ZIP215: FLAG_ZIP215,
  ENVELOPE_FLAG_REJECT_WEAK_KEYS: FLAG_REJECT_WEAK_KEYS,
  ENVELOPE_FLAG_ESCAPE_DEL_AND_C1: FLAG_ESCAPE_DEL_AND_C1,
  ENVELOPE_RESULT_REASON: RESULT_REASON,
  ENVELOPE_RESULT_OFFSET: RESULT_OFFSET,
  ENVELOPE_RESULT_FIELD: RESULT_FIELD,
  ENVELOPE_RESULT_STRINGS: RESULT_STRINGS,
  ENVELOPE_RESULT_TIMESTAMP: RESULT_TIMESTAMP,
  ENVELOPE_RESULT_CANONICAL: RESULT_CANONICAL,
  ENVELOPE_RESULT_PUBLIC_KEY: RESULT_PUBLIC_KEY,
  ENVELOPE_RESULT_SIGNATURE: RESULT_SIGNATURE,
} = abi;

const VERDICT_CODES = new Map<number, EnvelopeFailureCode>([
  [abi.ENVELOPE_MALFORMED, "MALFORMED_ENVELOPE"],
  [abi.ENVELOPE_UNSUPPORTED_SCHEMA, "UNSUPPORTED_SCHEMA"],
  [abi.ENVELOPE_WEAK_PUBLIC_KEY, "WEAK_PUBLIC_KEY"],
  [abi.ENVELOPE_INVALID_SIGNATURE, "INVALID_SIGNATURE"],
]);

// The wasm's reason numbers (assembly/abi.ts REASON_* and STATUS_*) as problem codes, and its
// field numbers (ENVELOPE_FIELD_*) as member paths and as names for messages.
const PROBLEMS = new Map<number, EnvelopeProblem>([
  [abi.STATUS_INVALID_JSON, "INVALID_JSON"],
  [abi.STATUS_TRAILING_DATA, "TRAILING_DATA"],
  [abi.STATUS_INVALID_UTF8, "INVALID_UTF8"],
  [abi.STATUS_LONE_SURROGATE, "LONE_SURROGATE"],
  [abi.STATUS_TOO_LARGE, "OUT_OF_MEMORY"],
  [abi.REASON_NOT_AN_OBJECT, "NOT_AN_OBJECT"],
  [abi.REASON_UNKNOWN_FIELD, "UNKNOWN_FIELD"],
  [abi.REASON_DUPLICATE_FIELD, "DUPLICATE_FIELD"],
  [abi.REASON_MISSING_FIELD, "MISSING_FIELD"],
  [abi.REASON_NOT_A_STRING, "NOT_A_STRING"],
  [abi.REASON_BAD_TIMESTAMP, "BAD_TIMESTAMP"],
  [abi.REASON_BAD_HEX, "BAD_HEX"],
  [abi.REASON_BAD_LENGTH, "BAD_LENGTH"],
  [abi.REASON_NOT_A_POINT, "NOT_A_CURVE_POINT"],
]);
const FIELDS = new Map<number, { path: EnvelopeFieldPath; name: string }>([
  [0, { path: "envelope", name: "the envelope" }],
  [abi.ENVELOPE_FIELD_CHALLENGE, { path: "challenge", name: "challenge" }],
  [abi.ENVELOPE_FIELD_DECLARED_PUBLIC_KEY, { path: "declaredPublicKey", name: "declaredPublicKey" }],
  [abi.ENVELOPE_FIELD_SIGNATURE, { path: "signature", name: "signature" }],
  [abi.ENVELOPE_FIELD_SCHEMA, { path: "challenge.schema", name: "schema" }],
  [abi.ENVELOPE_FIELD_LOCAL_KERNEL_ID, { path: "challenge.localKernelId", name: "localKernelId" }],
  [abi.ENVELOPE_FIELD_REMOTE_KERNEL_ID, { path: "challenge.remoteKernelId", name: "remoteKernelId" }],
  [abi.ENVELOPE_FIELD_NONCE, { path: "challenge.nonce", name: "nonce" }],
  [abi.ENVELOPE_FIELD_TIMESTAMP, { path: "challenge.timestamp", name: "timestamp" }],
]);

const strictUtf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
/** TextDecoder.prototype.decode as this module loaded: it reads views of wasm memory, which go to no replaceable built-in (src/bytes.ts, review 70 F1). */
const decodeUtf8 = uncurryThis(TextDecoder.prototype.decode as (this: TextDecoder, input: Uint8Array) => string);

/**
 * Parses and verifies a chio handshake envelope (`{challenge, declaredPublicKey, signature}`)
 * from its JSON text, with chio's rules, in one WebAssembly call.
 * @returns `{ ok: true, envelope }` or `{ ok: false, code, message, offset? }`; never throws for bad envelopes.
 * @throws InvalidTypeError if `input` is not a string or Uint8Array, is a view of a detached or
 *   out-of-bounds ArrayBuffer, or an option has the wrong type; InvalidConfigError if `maxBytes` is
 *   not an integer in 1 … MAX_ENVELOPE_BYTES_LIMIT (the rule of PeerHandshakeEnvelope.fromJSON).
 */
export function verifyEnvelopeBytes(input: Uint8Array | string, options?: VerifyEnvelopeOptions): EnvelopeVerdict {
  const { maxBytes, flags } = envelopeOptions(options);
  checkEnvelopeInput(input, "envelope");
  // The bytes are copied into wasm memory (writeInput) in this synchronous call: that is the copy.
  return runEnvelopeVerify(input, maxBytes, flags, true) as EnvelopeVerdict;
}

/**
 * Verifies many envelopes: one verdict per envelope, deep-equal to `verifyEnvelopeBytes(envelope,
 * options)` for each. Up to BATCH_MAX_ITEMS envelopes (and about 1 MiB of them) go to one wasm
 * call (assembly/handshake/envelope-batch.ts), which parses each and rebuilds its challenge as
 * verifyEnvelopeBytes does, then checks the signatures of those that get that far together with
 * the exact batch verifier (README "Batch verification").
 * @throws InvalidTypeError if `envelopes` is not an array, an element is not a string or a
 *   readable Uint8Array (the message names its index) or an option has the wrong type
 *   (InvalidConfigError for a `maxBytes` outside 1 … MAX_ENVELOPE_BYTES_LIMIT);
 *   InvalidLengthError if it holds more than MAX_VERIFY_BATCH_ITEMS (src/bytes.ts) envelopes;
 *   RandomSourceError where the host has no globalThis.crypto.getRandomValues (the batch's
 *   coefficients; checked before any work). When WebAssembly memory
 *   cannot grow for a call, fewer envelopes go to each; one that still does not fit gets
 *   verifyEnvelopeBytes's own call, so memory pressure never changes a verdict.
 */
export function verifyEnvelopeBatch(envelopes: readonly (Uint8Array | string)[], options?: VerifyEnvelopeOptions): EnvelopeVerdict[] {
  const { inputs, maxBytes, flags } = readEnvelopeBatch(envelopes, options);
  // Lists of the library's own (src/bytes.ts, ownList), handed out as an Array.
  const verdicts = ownList<EnvelopeVerdict>(inputs.length);
  for (let start = 0; start < inputs.length; ) {
    const segment = runEnvelopeSegment(inputs, start, maxBytes, flags);
    if (segment === undefined) {
      // Not even one envelope fits next to the batch's scratch area: verifyEnvelopeBytes's own
      // call, which needs memory only for the envelope (and, if even that fails, gives its verdict).
      verdicts[start] = runEnvelopeVerify(inputs[start], maxBytes, flags, true) as EnvelopeVerdict;
      start += 1;
      continue;
    }
    readEnvelopeSegment(segment, maxBytes, verdicts, start);
    start += segment.count;
  }
  return ownListAsArray(verdicts);
}

/**
 * @internal verifyEnvelopeBatch for the worker pool: the verdicts as bytes (packEnvelopeSegment
 * segments end to end), for readPackedEnvelopeVerdicts on the calling thread. Undefined when
 * WebAssembly memory cannot grow for even one envelope next to the batch's scratch area: only
 * wasm calls write packable verdicts, and verifyEnvelopeBatch's single-call fallback gives such
 * an envelope its verdict (the pool's worker then sends verifyEnvelopeBatch's verdicts instead).
 */
export function verifyEnvelopeBatchPacked(envelopes: readonly (Uint8Array | string)[], options?: VerifyEnvelopeOptions): Uint8Array | undefined {
  const { inputs, maxBytes, flags } = readEnvelopeBatch(envelopes, options);
  const parts = ownList<Uint8Array>(); // not Array.prototype.push (README "Hardening")
  for (let start = 0; start < inputs.length; ) {
    const segment = runEnvelopeSegment(inputs, start, maxBytes, flags);
    if (segment === undefined) return undefined;
    parts[parts.length] = packEnvelopeSegment(segment);
    start += segment.count;
  }
  return parts.length === 1 ? parts[0] : concatBytes(ownListAsArray(parts));
}

/**
 * @internal The verdicts of verifyEnvelopeBatchPacked's bytes, for the options it was given
 * (maxBytes goes into the TOO_LARGE message). Throws WasmCoreError on bytes it did not write.
 */
export function readPackedEnvelopeVerdicts(packed: Uint8Array, options?: VerifyEnvelopeOptions): EnvelopeVerdict[] {
  const { maxBytes } = envelopeOptions(options);
  const verdicts = ownList<EnvelopeVerdict>();
  for (let at = 0; at < packed.length; ) {
    if (at + SEGMENT_HEADER_BYTES > packed.length) throw badPacking();
    const count = readU32(packed, at);
    const results = readU32(packed, at + 4);
    const verdictWords = readU32(packed, at + 8);
    const length = readU32(packed, at + 12);
    const body = at + SEGMENT_HEADER_BYTES;
    const end = body + length;
    // The segment's bytes alone, from its first result block (address `results`) on: every span
    // read from them must point inside them (spanStart() checks), never into this segment's header
    // or an earlier segment (review-31 B3).
    const verdictsAt = verdictWords - results;
    if (end > packed.length || length < count * RESULT_BYTES || verdictsAt < count * RESULT_BYTES || verdictsAt + 4 * count > length) {
      throw badPacking();
    }
    const segment = { count, bytes: subview(packed, body, end), shift: results, results, verdicts: verdictWords };
    try {
      readEnvelopeSegment(segment, maxBytes, verdicts, verdicts.length);
    } catch (cause) {
      // Bytes this module wrote always read back; anything else (invalid UTF-8, a bad timestamp) is refused.
      throw isInstanceOf(WasmCoreError, cause) ? cause : new WasmCoreError("WASM_TRAP", `packed envelope verdicts are malformed: ${String(cause)}`, { cause });
    }
    at = (end + 3) & ~3;
  }
  return ownListAsArray(verdicts);
}

const badPacking = () => new WasmCoreError("WASM_TRAP", "packed envelope verdicts are malformed");

/** The batch's inputs (read once: a Proxy or getter runs here only) and options, checked. */
function readEnvelopeBatch(
  envelopes: readonly (Uint8Array | string)[],
  options: VerifyEnvelopeOptions | undefined,
): { inputs: OwnList<Uint8Array | string>; maxBytes: number; flags: number } {
  if (!isArrayArgument(envelopes)) throw new InvalidTypeError("envelopes must be an array");
  const { maxBytes, flags } = envelopeOptions(options); // the options first, then the list (README "Worker pool", Chunks)
  return { inputs: readEnvelopeInputs(envelopes, arrayArgumentLength(envelopes, "envelopes")), maxBytes, flags };
}

/**
 * @internal The `count` inputs of an envelope batch (count from arrayArgumentLength), for
 * verifyEnvelopeBatch and the worker pool's: each read once (a getter or Proxy trap runs here
 * only) and its type checked as it is read, so a sparse or proxied list that claims billions of
 * items fails at its first hole instead of filling memory with them (review 84 F2: the process
 * ran out of heap); then every view checked readable once all are read (a later getter could
 * detach an earlier view), so no caller code runs between those checks and the copy. The list
 * is the library's own (ownList): its writes and reads reach no accessor on Array.prototype.
 * @throws InvalidTypeError naming the first input that is neither a string nor a readable Uint8Array.
 */
export function readEnvelopeInputs(envelopes: readonly unknown[], count: number): OwnList<Uint8Array | string> {
  const inputs = ownList<Uint8Array | string>(count);
  for (let i = 0; i < count; i++) {
    const input = elementOf(envelopes, i, "envelopes"); // a read that throws is INVALID_TYPE naming it
    if (typeof input !== "string" && !isUint8Array(input)) checkEnvelopeInput(input, `envelopes[${i}]`);
    inputs[i] = input as Uint8Array | string;
  }
  for (let i = 0; i < count; i++) checkEnvelopeInput(inputs[i], `envelopes[${i}]`);
  return inputs;
}

/** @internal The members of VerifyEnvelopeOptions (the worker pool reads them with its own `signal`). */
export const ENVELOPE_OPTION_KEYS = ["maxBytes", "zip215", "rejectWeakKeys", "escapeDelAndC1"] as const;

/**
 * @internal The options of verifyEnvelopeBytes / verifyEnvelopeBatch (and of the worker pool's
 * verifyEnvelopeBatch), each read once and checked, with the defaults filled in. A member not
 * listed (a misspelt `rejectWeakKey` would leave the default in force unnoticed) or a throwing
 * read is InvalidTypeError, as for the canonical JSON options (review 54). `maxBytes` follows the
 * handshake's one rule (expectMaxEnvelopeBytes): 0 or more than MAX_ENVELOPE_BYTES_LIMIT is refused,
 * never clamped, as fromJSON and maxEnvelopeBytes refuse it.
 * @throws InvalidTypeError on a non-object, an unknown member, a throwing read or a wrong type;
 *   InvalidConfigError for a `maxBytes` that is not an integer in 1 … MAX_ENVELOPE_BYTES_LIMIT.
 */
export function readEnvelopeOptions(options: VerifyEnvelopeOptions | undefined): Required<VerifyEnvelopeOptions> {
  const read = readOptions(options, ENVELOPE_OPTION_KEYS);
  return {
    maxBytes: read.maxBytes === undefined ? DEFAULT_ENVELOPE_MAX_BYTES : expectMaxEnvelopeBytes(read.maxBytes, "maxBytes"),
    zip215: booleanOption(read.zip215, "zip215", false),
    rejectWeakKeys: booleanOption(read.rejectWeakKeys, "rejectWeakKeys", true),
    escapeDelAndC1: booleanOption(read.escapeDelAndC1, "escapeDelAndC1", false),
  };
}

/** The defaults as envelopeOptions gives them: one object for every call without options. */
const DEFAULT_ENVELOPE_SETTINGS: { readonly maxBytes: number; readonly flags: number } = Object.freeze({ maxBytes: DEFAULT_ENVELOPE_MAX_BYTES, flags: FLAG_REJECT_WEAK_KEYS });

/** maxBytes and the envelope_verify flags of the options (readEnvelopeOptions). */
function envelopeOptions(options: VerifyEnvelopeOptions | undefined): { readonly maxBytes: number; readonly flags: number } {
  if (options === undefined) return DEFAULT_ENVELOPE_SETTINGS;
  const { maxBytes, zip215, rejectWeakKeys, escapeDelAndC1 } = readEnvelopeOptions(options);
  return {
    maxBytes,
    flags: (zip215 ? FLAG_ZIP215 : 0) | (rejectWeakKeys ? FLAG_REJECT_WEAK_KEYS : 0) | (escapeDelAndC1 ? FLAG_ESCAPE_DEL_AND_C1 : 0),
  };
}

/** Throws InvalidTypeError unless input is a string or a readable Uint8Array. */
function checkEnvelopeInput(input: unknown, name: string): void {
  if (typeof input !== "string") {
    if (!isUint8Array(input)) {
      throw new InvalidTypeError(`${name} must be a string or a Uint8Array, got ${input === null ? "null" : typeof input}`);
    }
    if (isUnreadableView(input)) throw new InvalidTypeError(`${name} is a view of a detached or out-of-bounds ArrayBuffer`);
  }
}

// ---- The batch call (assembly/handshake/envelope-batch.ts) --------------------------------------

const {
  BATCH_MAX_ITEMS,
  BATCH_DONE,
  BATCH_OUT_OF_MEMORY,
  ENVELOPE_BATCH_ENTRY_BYTES: ENTRY_BYTES,
  ENVELOPE_BATCH_ENTRY_OFFSET: ENTRY_OFFSET,
  ENVELOPE_BATCH_ENTRY_LENGTH: ENTRY_LENGTH,
  ENVELOPE_BATCH_ENTRY_RANDOM: ENTRY_RANDOM,
  ENVELOPE_RESULT_BYTES: RESULT_BYTES,
  ENVELOPE_BATCH_OUT_RESULTS: OUT_RESULTS,
  ENVELOPE_BATCH_OUT_VERDICTS: OUT_VERDICTS,
  ENVELOPE_BATCH_OUT_END: OUT_END,
  ENVELOPE_REFUSED_TOO_LARGE: EARLY_TOO_LARGE,
  ENVELOPE_REFUSED_LONE_SURROGATE: EARLY_LONE_SURROGATE,
} = abi;

/**
 * packEnvelopeSegment header: u32 count, u32 address of the result blocks, u32 address of the
 * verdict words, u32 length of what follows (the bytes from the result blocks to the end).
 */
const SEGMENT_HEADER_BYTES = 16;
/** The verdict words envelope_verify returns (assembly/handshake/envelope.ts). */
const SINGLE_CALL_VERDICTS = new Set<number>([
  abi.ENVELOPE_OK,
  abi.ENVELOPE_MALFORMED,
  abi.ENVELOPE_UNSUPPORTED_SCHEMA,
  abi.ENVELOPE_WEAK_PUBLIC_KEY,
  abi.ENVELOPE_INVALID_SIGNATURE,
]);
/** The verdict words a segment may hold: envelope_verify's, and the two JS writes for refused inputs. */
const SEGMENT_VERDICTS = new Set<number>([...SINGLE_CALL_VERDICTS, EARLY_TOO_LARGE, EARLY_LONE_SURROGATE]);

/**
 * The verdicts of `count` envelopes as one wasm call left them: `count` result blocks at address
 * `results`, `count` verdict words at address `verdicts` (ENVELOPE_BATCH_OUT_*), and the work
 * areas the blocks point into. Address a is `bytes[a - shift]` (the heap itself, or a packed copy).
 */
interface EnvelopeSegment {
  count: number;
  bytes: Uint8Array;
  shift: number;
  results: number;
  verdicts: number;
  /** Address just past the last byte the verdicts need (in-heap segments). */
  end?: number;
}

/** The random bytes of one segment (16 per envelope); replaced if detached (tryEnvelopeSegment). */
let segmentRandom: Uint8Array = new Uint8Array(16 * BATCH_MAX_ITEMS);

/**
 * Runs the envelopes from `start` in one wasm call (as many as fit the limits and memory; at
 * least one), or undefined if memory cannot grow even for one envelope and the batch scratch.
 */
function runEnvelopeSegment(inputs: OwnList<Uint8Array | string>, start: number, maxBytes: number, flags: number): EnvelopeSegment | undefined {
  let end = start;
  let capacity = 0;
  while (end < inputs.length && end - start < BATCH_MAX_ITEMS) {
    const need = inputCapacity(inputs[end], maxBytes);
    if (end > start && capacity + need > abi.BATCH_INPUT_BUDGET) break;
    capacity += need;
    end++;
  }
  for (let count = end - start; ; count = (count + 1) >>> 1) {
    let segment: EnvelopeSegment | undefined;
    try {
      segment = tryEnvelopeSegment(inputs, start, count, maxBytes, flags);
    } finally {
      // This copy is not kept; the core's stays until later calls overwrite it (worthless by then).
      // The captured fill: the realm's runs caller code here, with the segment's verdicts written
      // and not yet read, and a replacement that verified another envelope overwrote them (a
      // forged envelope read `ok`: hunt 19, as review 100's route through other built-ins).
      // Not over a buffer getRandomValues detached: that TypeError would replace its RandomSourceError.
      if (!isUnreadableView(segmentRandom)) typedArrayFill(segmentRandom, 0, 0, 16 * count);
    }
    if (segment !== undefined || count === 1) return segment;
  }
}

/**
 * Bytes of the I/O arena that writeInputAt may take for `input`: what it writes, or for a string
 * up to 3 bytes per UTF-16 unit; none for an input refused unread as longer than maxBytes.
 */
function inputCapacity(input: Uint8Array | string, maxBytes: number): number {
  const size = typeof input === "string" ? input.length : viewLength(input);
  return size > maxBytes ? 0 : typeof input === "string" ? 3 * size : size;
}

/** One wasm call over inputs[start, start + count); undefined if memory cannot grow for it. */
function tryEnvelopeSegment(
  inputs: OwnList<Uint8Array | string>,
  start: number,
  count: number,
  maxBytes: number,
  flags: number,
): EnvelopeSegment | undefined {
  // getRandomValues (caller code) is handed a view of this buffer and may detach it, in this call
  // or keeping the view for later: that left every later batch a TypeError for good (hunt 24).
  if (isUnreadableView(segmentRandom)) segmentRandom = newBytes(16 * BATCH_MAX_ITEMS);
  fillRandomBytes(subview(segmentRandom, 0, 16 * count)); // not the realm's subarray: no caller code between the inputs' checks and their copy
  // getRandomValues is caller code and ran after readEnvelopeInputs' checks: an input it detached
  // is refused naming its index, as verifyBatch checks its chunk again (writeInputAt's own error
  // said "input", which left the caller to guess which of hundreds; hunt 24).
  for (let k = 0; k < count; k++) {
    const input = inputs[start + k];
    if (typeof input !== "string" && isUnreadableView(input)) checkEnvelopeInput(input, `envelopes[${start + k}]`);
  }
  // Written during the copy and read back for addresses in wasm memory: a list of the library's
  // own (ownList), so neither an accessor on Array.prototype nor a replaced `push` runs there.
  const early = ownList<{ index: number; verdict: number; offset: number }>();
  let inputBytes = count * ENTRY_BYTES;
  let capacity = inputBytes;
  for (let k = 0; k < count; k++) capacity += inputCapacity(inputs[start + k], maxBytes);
  const core = coreExports<EnvelopeCoreExports>();
  try {
    // All of it at once, so the writes below never grow memory: a TOO_LARGE from writeInputAt is
    // then always about the input (longer than maxBytes), never about memory.
    reserveIo(capacity);
  } catch (error) {
    if (isInstanceOf(WasmCoreError, error)) return undefined;
    throw error;
  }
  for (let k = 0; k < count; k++) {
    let length = 0;
    try {
      // The bytes are copied into wasm memory here, as verifyEnvelopeBytes copies its input.
      length = writeInputAt(inputs[start + k], maxBytes, inputBytes);
    } catch (error) {
      // isInstanceOf, not instanceof: a Symbol.hasInstance defined on Error would run here, in the
      // middle of the copy (review 98).
      if (!isInstanceOf(CanonicalJsonError, error)) throw error;
      // Not `push` (an OwnList has none): a replaced Array.prototype.push could call the library
      // again here, over this batch's input in the core's memory (review 85).
      early[early.length] = { index: k, verdict: error.code === "LONE_SURROGATE" ? EARLY_LONE_SURROGATE : EARLY_TOO_LARGE, offset: error.offset ?? 0 };
    }
    const heap = heapU8();
    const entry = ioArenaBase() + k * ENTRY_BYTES;
    writeU32(heap, entry + ENTRY_OFFSET, inputBytes);
    writeU32(heap, entry + ENTRY_LENGTH, length);
    typedArraySet(heap, subview(segmentRandom, 16 * k, 16 * k + 16), entry + ENTRY_RANDOM);
    inputBytes += length;
  }
  const status = guarded(() => core.envelope_verify_batch(count, inputBytes, flags));
  if (status === BATCH_OUT_OF_MEMORY) return undefined;
  if (status !== BATCH_DONE) throw new WasmCoreError("WASM_TRAP", `envelope batch refused its input (status ${status})`);
  const heap = heapU8(); // the call may have grown memory (a new buffer)
  const base = ioArenaBase();
  const out = argsBase() + ARG_RESULT;
  const results = base + readU32(heap, out + OUT_RESULTS);
  const verdicts = base + readU32(heap, out + OUT_VERDICTS);
  // An indexed loop: `for…of` would take its entries, which decide the addresses written, from
  // the array iterator as caller code may have replaced it (review 73 F1).
  for (let k = 0; k < early.length; k++) {
    const { index, verdict, offset } = early[k];
    // The wasm call saw an empty input there; the verdict is the one writeInput's error gives.
    writeU32(heap, verdicts + 4 * index, verdict >>> 0);
    writeU32(heap, results + index * RESULT_BYTES + RESULT_OFFSET, offset);
  }
  return { count, bytes: heap, shift: 0, results, verdicts, end: base + readU32(heap, out + OUT_END) };
}

/** An in-heap segment as bytes of its own: header, then its result blocks to its end. */
function packEnvelopeSegment(segment: EnvelopeSegment): Uint8Array {
  const from = segment.results - segment.shift;
  const length = segment.end! - segment.results;
  const packed = new Uint8Array((SEGMENT_HEADER_BYTES + length + 3) & ~3);
  writeU32(packed, 0, segment.count);
  writeU32(packed, 4, segment.results);
  writeU32(packed, 8, segment.verdicts);
  writeU32(packed, 12, length);
  typedArraySet(packed, subview(segment.bytes, from, from + length), SEGMENT_HEADER_BYTES);
  return packed;
}

/** Verdicts of a segment into out[outStart, outStart + count). */
function readEnvelopeSegment(segment: EnvelopeSegment, maxBytes: number, out: OwnList<EnvelopeVerdict>, outStart: number): void {
  const { count, bytes, shift, results } = segment;
  const verdicts = segment.verdicts - shift;
  for (let k = 0; k < count; k++) {
    const verdict = readU32(bytes, verdicts + 4 * k) | 0;
    if (!setHas(SEGMENT_VERDICTS, verdict)) throw badPacking(); // captured: see src/bytes.ts (review 100)
    const block = results + k * RESULT_BYTES - shift;
    if (verdict === EARLY_TOO_LARGE) out[outStart + k] = unreadableInput(new CanonicalJsonError("TOO_LARGE", ""), maxBytes);
    else if (verdict === EARLY_LONE_SURROGATE) out[outStart + k] = unreadableInput(loneSurrogateInInput(readU32(bytes, block + RESULT_OFFSET)), maxBytes);
    else out[outStart + k] = verdictOf(verdict, bytes, block, shift, true) as EnvelopeVerdict;
  }
}

const invalidSignature = (): Extract<EnvelopeVerdict, { ok: false }> => failure("INVALID_SIGNATURE", "remote handshake signature is invalid");

/** The challenge and key of a verified envelope: VerifiedEnvelope without the signature and canonical bytes. */
export type VerifiedEnvelopeFields = Pick<VerifiedEnvelope, "challenge" | "declaredPublicKey">;

/** The verdict of verifyEnvelopeFields. */
export type EnvelopeFieldsVerdict = { ok: true; envelope: VerifiedEnvelopeFields } | Extract<EnvelopeVerdict, { ok: false }>;

/**
 * @internal The same verification as verifyEnvelopeBytes (chio's rules, never ZIP-215), for
 * callers that need only the challenge and the declared key: the signature and the canonical
 * bytes are not copied out of wasm memory. Arguments are not validated (internal callers only;
 * envelope.ts turns a detached view into MALFORMED_ENVELOPE first, and writeInput still throws
 * InvalidTypeError for one).
 */
export function verifyEnvelopeFields(
  input: Uint8Array | string,
  maxBytes: number,
  rejectWeakKeys: boolean,
  escapeDelAndC1: boolean,
): EnvelopeFieldsVerdict {
  const flags = (rejectWeakKeys ? FLAG_REJECT_WEAK_KEYS : 0) | (escapeDelAndC1 ? FLAG_ESCAPE_DEL_AND_C1 : 0);
  return runEnvelopeVerify(input, maxBytes < MAX_ENVELOPE_BYTES_LIMIT ? maxBytes : MAX_ENVELOPE_BYTES_LIMIT, flags, false) as EnvelopeFieldsVerdict;
}

/** One wasm call and its verdict; `full` also copies out the signature and the canonical challenge. */
function runEnvelopeVerify(input: Uint8Array | string, maxBytes: number, flags: number, full: boolean): EnvelopeFieldsVerdict | EnvelopeVerdict {
  let length: number;
  try {
    length = writeInput(input, maxBytes);
  } catch (error) {
    if (isInstanceOf(CanonicalJsonError, error)) return unreadableInput(error, maxBytes);
    throw error;
  }
  const core = coreExports<EnvelopeCoreExports>();
  let status: number;
  try {
    status = core.envelope_verify(length, flags);
  } catch (cause) {
    coreCallInterrupted.set = true; // first, with no call (src/wasm/instance.ts)
    throw contained(cause); // guarded()'s handling, without a closure per call
  }
  const verdict = singleCallVerdict(status);
  return verdictOf(verdict, heapU8(), argsBase() + ARG_RESULT, 0, full);
}

/**
 * @internal `verdict` if envelope_verify can return it; any other word (a bug in the core) is a
 * WasmCoreError WASM_TRAP, as the batch path refuses such words (SEGMENT_VERDICTS), rather than
 * a MALFORMED_ENVELOPE verdict read from whatever the result block holds (review-31 B4).
 */
export function singleCallVerdict(verdict: number): number {
  if (!setHas(SINGLE_CALL_VERDICTS, verdict)) throw new WasmCoreError("WASM_TRAP", `envelope_verify returned the unknown verdict ${verdict}`);
  return verdict;
}

/**
 * The verdict for an input writeInput refused: too long, a string with a lone surrogate, or no
 * WebAssembly memory for it (OUT_OF_MEMORY, as when the wasm call's work area is full: the input
 * may be well within maxBytes).
 */
function unreadableInput(error: CanonicalJsonError, maxBytes: number): EnvelopeVerdict {
  // `cause` only as the error's own member: one it was made without would be read from
  // Object.prototype, where caller code can put a getter (review 100).
  if (error.code === "TOO_LARGE" && hasOwnMember(error, "cause") && isInstanceOf(WasmCoreError, error.cause)) {
    const why = `envelope does not fit in WebAssembly memory (${error.message})`;
    return { ...failure("MALFORMED_ENVELOPE", why), problem: "OUT_OF_MEMORY", field: "envelope", detail: why };
  }
  const why = error.code === "TOO_LARGE" ? `envelope is larger than maxBytes (${maxBytes})` : error.message;
  const problem: EnvelopeProblem = error.code === "TOO_LARGE" || error.code === "LONE_SURROGATE" ? error.code : "UNREADABLE";
  return { ...failure("MALFORMED_ENVELOPE", why, error.code === "TOO_LARGE" ? undefined : error.offset), problem, field: "envelope", detail: why };
}

/**
 * The verdict for the ENVELOPE_* code `verdict` and the result block at bytes[block] (the
 * addresses in it are wasm addresses: address a is bytes[a - shift]).
 */
function verdictOf(verdict: number, bytes: Uint8Array, block: number, shift: number, full: boolean): EnvelopeFieldsVerdict | EnvelopeVerdict {
  if (verdict === abi.ENVELOPE_OK) return { ok: true, envelope: full ? readEnvelope(bytes, block, shift) : readEnvelopeFields(bytes, block, shift) };
  const code = mapGet(VERDICT_CODES, verdict) ?? "MALFORMED_ENVELOPE";
  switch (code) {
    case "MALFORMED_ENVELOPE": {
      const offset = readU32(bytes, block + RESULT_OFFSET);
      const reason = readU32(bytes, block + RESULT_REASON);
      const field = readU32(bytes, block + RESULT_FIELD);
      const why = malformedMessage(reason, field, offset);
      const problem = mapGet(PROBLEMS, reason) ?? "UNREADABLE";
      return { ...failure(code, `malformed envelope: ${why}`, offset), problem, field: mapGet(FIELDS, field)?.path ?? "envelope", detail: why };
    }
    case "UNSUPPORTED_SCHEMA": {
      // chio's message includes the schema; the wasm call left its unescaped bytes in the work area.
      // The message shows it escaped (docs/protocol.md §11: a peer could put line breaks in it);
      // `schema` keeps the (bounded) text itself.
      const schemaStart = spanStart(bytes, block + RESULT_STRINGS, shift);
      const schema = schemaPrefix(bytes, schemaStart, spanEnd(bytes, block + RESULT_STRINGS, schemaStart));
      return {
        ok: false,
        code,
        message: `unsupported handshake schema: ${displayPeerText(schema)} (expected ${FEDERATION_HANDSHAKE_SCHEMA})`,
        schema,
      };
    }
    case "WEAK_PUBLIC_KEY":
      return {
        ok: false,
        code,
        message: "declared public key has small order (weak key); rejected",
        declaredPublicKeyHex: bytesToHex(copyOfRange(bytes, block + RESULT_PUBLIC_KEY, block + RESULT_PUBLIC_KEY + 32)),
      };
    default:
      return invalidSignature();
  }
}

function failure(code: EnvelopeFailureCode, message: string, offset?: number): Extract<EnvelopeVerdict, { ok: false }> {
  return offset === undefined ? { ok: false, code, message } : { ok: false, code, message, offset };
}

/** Longest schema, in UTF-16 units, that a failure verdict (and so an error message) repeats. */
export const SCHEMA_SHOWN_UNITS = 200;

/**
 * The schema bytes [start, end) as text, cut to SCHEMA_SHOWN_UNITS units plus "…". Only a
 * bounded prefix is decoded (4 bytes per unit cover any text), cut back to a character boundary;
 * the parser already checked the bytes are valid UTF-8.
 */
function schemaPrefix(heap: Uint8Array, start: number, end: number): string {
  let stop = end < start + 4 * SCHEMA_SHOWN_UNITS ? end : start + 4 * SCHEMA_SHOWN_UNITS;
  while (stop < end && stop > start && (heap[stop] & 0xc0) === 0x80) stop--; // not inside a sequence
  return boundedSchema(decodeUtf8(strictUtf8, subview(heap, start, stop)), stop < end);
}

/**
 * @internal `schema` cut to SCHEMA_SHOWN_UNITS UTF-16 units (never between the halves of a
 * surrogate pair) with "…" appended when anything was cut; shared with the handshake's object path.
 */
export function boundedSchema(schema: string, cut = false): string {
  if (schema.length <= SCHEMA_SHOWN_UNITS) return cut ? `${schema}…` : schema;
  // The captured string methods: this runs while a batch's later verdicts are still unread in
  // wasm memory, where the realm's could run caller code that overwrites them (hunt 19).
  const last = charCodeAt(schema, SCHEMA_SHOWN_UNITS - 1);
  const keep = last >= 0xd800 && last <= 0xdbff ? SCHEMA_SHOWN_UNITS - 1 : SCHEMA_SHOWN_UNITS;
  return `${stringSlice(schema, 0, keep)}…`;
}

/**
 * Where the (address, length) pair at `at` starts and ends in `bytes` (address a is
 * bytes[a - shift]), each checked to lie inside it: only packed bytes we did not write can point
 * outside. Two numbers, never an array to spread: a spread takes its values from the array
 * iterator, which caller code may have replaced, after the check (review 73 F1).
 */
function spanStart(bytes: Uint8Array, at: number, shift: number): number {
  const start = readU32(bytes, at) - shift;
  if (start < 0 || start + readU32(bytes, at + 4) > viewLength(bytes)) throw badPacking();
  return start;
}

/** The end of the pair at `at`, given the start spanStart returned for it (which checked both). */
function spanEnd(bytes: Uint8Array, at: number, start: number): number {
  return start + readU32(bytes, at + 4);
}

/** A copy of the bytes of the pair at `at` (spanStart's check). */
function copySpan(bytes: Uint8Array, at: number, shift: number): Uint8Array {
  const start = spanStart(bytes, at, shift);
  return copyOfRange(bytes, start, spanEnd(bytes, at, start));
}

function readEnvelope(bytes: Uint8Array, block: number, shift: number): VerifiedEnvelope {
  return {
    challenge: readChallenge(bytes, block, shift),
    declaredPublicKey: copyOfRange(bytes, block + RESULT_PUBLIC_KEY, block + RESULT_PUBLIC_KEY + 32),
    signature: copyOfRange(bytes, block + RESULT_SIGNATURE, block + RESULT_SIGNATURE + 64),
    canonicalChallenge: copySpan(bytes, block + RESULT_CANONICAL, shift),
  };
}

function readEnvelopeFields(bytes: Uint8Array, block: number, shift: number): VerifiedEnvelopeFields {
  return {
    challenge: readChallenge(bytes, block, shift),
    declaredPublicKey: copyOfRange(bytes, block + RESULT_PUBLIC_KEY, block + RESULT_PUBLIC_KEY + 32),
  };
}

function readChallenge(bytes: Uint8Array, block: number, shift: number): VerifiedEnvelope["challenge"] {
  return {
    schema: challengeString(bytes, block, shift, 0),
    localKernelId: challengeString(bytes, block, shift, 1),
    remoteKernelId: challengeString(bytes, block, shift, 2),
    nonce: challengeString(bytes, block, shift, 3),
    timestamp: timestampAt(bytes, block + RESULT_TIMESTAMP, shift),
  };
}

/** The timestamp whose ASCII digits are bytes [digitsStart, digitsEnd): a number when it is a safe integer, else a bigint (chio timestamps are u64). */
function timestampFromDigits(bytes: Uint8Array, digitsStart: number, digitsEnd: number): number | bigint {
  if (digitsEnd <= digitsStart || digitsEnd - digitsStart > 20) throw badPacking();
  for (let i = digitsStart; i < digitsEnd; i++) if (bytes[i] < 0x30 || bytes[i] > 0x39) throw badPacking();
  // Exact whenever the value is a safe integer: every running value is at most the final one.
  // Up to 15 decimal digits it always is (below 2^53).
  let timestamp = 0;
  for (let i = digitsStart; i < digitsEnd; i++) timestamp = timestamp * 10 + (bytes[i] - 0x30);
  if (digitsEnd - digitsStart <= 15) return timestamp;
  // Longer: whether it is safe is decided on a bigint, by arithmetic on literals alone.
  // String.fromCharCode, BigInt and Number are looked up when they run, and this runs while a
  // verdict is read back from the core's memory: a replacement re-entered the library there and
  // overwrote the results (review 101).
  let big = 0n;
  for (let i = digitsStart; i < digitsEnd; i++) big = big * 10n + DIGIT_VALUES[bytes[i] - 0x30];
  return big > MAX_SAFE_BIG ? big : timestamp;
}

/** The digits' values as bigints (a literal: its elements are its own). */
const DIGIT_VALUES: readonly bigint[] = [0n, 1n, 2n, 3n, 4n, 5n, 6n, 7n, 8n, 9n];
/** Number.MAX_SAFE_INTEGER, 2^53 − 1, as a bigint. */
const MAX_SAFE_BIG = 9007199254740991n;

/** The timestamp whose digits the pair at `at` points to. */
function timestampAt(bytes: Uint8Array, at: number, shift: number): number | bigint {
  const start = spanStart(bytes, at, shift);
  return timestampFromDigits(bytes, start, spanEnd(bytes, at, start));
}

/** The `index`-th unescaped challenge string of the result block (validated UTF-8). */
function challengeString(bytes: Uint8Array, block: number, shift: number, index: number): string {
  const at = block + RESULT_STRINGS + 8 * index;
  const start = spanStart(bytes, at, shift);
  return decodeUtf8(strictUtf8, subview(bytes, start, spanEnd(bytes, at, start)));
}

function malformedMessage(reason: number, field: number, offset: number): string {
  const name = mapGet(FIELDS, field)?.name ?? "the envelope";
  const where = field === 0 ? "the envelope" : field <= abi.ENVELOPE_FIELD_SIGNATURE ? `\`${name}\`` : `challenge \`${name}\``;
  switch (reason) {
    case abi.STATUS_INVALID_JSON:
      return `invalid JSON at byte ${offset}`;
    case abi.STATUS_TRAILING_DATA:
      return `unexpected data after the envelope at byte ${offset}`;
    case abi.STATUS_INVALID_UTF8:
      return `invalid UTF-8 at byte ${offset}`;
    case abi.STATUS_LONE_SURROGATE:
      return `lone UTF-16 surrogate in a \\u escape at byte ${offset}`;
    case abi.STATUS_TOO_LARGE:
      return "envelope does not fit in WebAssembly memory";
    case abi.REASON_NOT_AN_OBJECT:
      return `${field === 0 ? "the envelope" : where} must be a JSON object (byte ${offset})`;
    case abi.REASON_UNKNOWN_FIELD:
      return `unknown field in ${field === 0 ? "the envelope" : "the challenge"} at byte ${offset}`;
    case abi.REASON_DUPLICATE_FIELD:
      return `duplicate field ${where} at byte ${offset}`;
    case abi.REASON_MISSING_FIELD:
      return `missing field ${where}`;
    case abi.REASON_NOT_A_STRING:
      return `${where} must be a string (byte ${offset})`;
    case abi.REASON_BAD_TIMESTAMP:
      return `challenge \`timestamp\` must be an integer between 0 and 2^64-1 (byte ${offset})`;
    case abi.REASON_BAD_HEX:
      return `${where} is not valid hex`;
    case abi.REASON_BAD_LENGTH:
      return `${where} must be ${field === abi.ENVELOPE_FIELD_DECLARED_PUBLIC_KEY ? "32 bytes (64 hex digits)" : "64 bytes (128 hex digits)"}`;
    case abi.REASON_NOT_A_POINT:
      return `${where} does not decode as an Ed25519 curve point`;
    default:
      return `unreadable envelope (reason ${reason}) at byte ${offset}`;
  }
}

