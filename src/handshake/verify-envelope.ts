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
// can name them without parsing the unverified input themselves. Only misuse throws
// InvalidTypeError: wrong option types, or an input that is not a string or a Uint8Array (a Proxy
// of one does not count), or a view of a detached or out-of-bounds ArrayBuffer (which would
// otherwise read as the empty input).
import { bytesToHex } from "../bytes.js";
import { CanonicalJsonError, InvalidTypeError } from "../errors.js";
import { argsBase, coreExports, guarded, heapU8, type CoreExports } from "../wasm/instance.js";
import * as abi from "../wasm/abi.js";
import { DEFAULT_MAX_ENVELOPE_BYTES, FEDERATION_HANDSHAKE_SCHEMA, MAX_ENVELOPE_BYTES_LIMIT } from "./constants.js";
import { isUint8Array, isUnreadableView } from "../bytes.js";
import { nonNegativeInteger, readU32, writeInput } from "../canonical/json.js";
import { ed25519 } from "../ed25519.js";
import { BATCH_MAX_ITEMS } from "../wasm/abi.js";

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
  /** Largest accepted envelope in UTF-8 bytes (default 64 KiB, clamped to MAX_ENVELOPE_BYTES_LIMIT = 16 MiB); larger input is MALFORMED_ENVELOPE unparsed. */
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
}

/** Default `maxBytes` (64 KiB): the handshake's DEFAULT_MAX_ENVELOPE_BYTES, of which this is an alias. */
export const DEFAULT_ENVELOPE_MAX_BYTES = DEFAULT_MAX_ENVELOPE_BYTES;
// Flags, verdicts, reasons, result words and field codes of assembly/handshake/envelope.ts (assembly/abi.ts).
const {
  ARG_RESULT,
  ENVELOPE_FLAG_ZIP215: FLAG_ZIP215,
  ENVELOPE_FLAG_REJECT_WEAK_KEYS: FLAG_REJECT_WEAK_KEYS,
  ENVELOPE_FLAG_ESCAPE_DEL_AND_C1: FLAG_ESCAPE_DEL_AND_C1,
  ENVELOPE_FLAG_DEFER_SIGNATURE: FLAG_DEFER_SIGNATURE,
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

/**
 * Parses and verifies a chio handshake envelope (`{challenge, declaredPublicKey, signature}`)
 * from its JSON text, with chio's rules, in one WebAssembly call.
 * @returns `{ ok: true, envelope }` or `{ ok: false, code, message, offset? }`; never throws for bad envelopes.
 * @throws InvalidTypeError if `input` is not a string or Uint8Array, is a view of a detached or
 *   out-of-bounds ArrayBuffer, or an option has the wrong type.
 */
export function verifyEnvelopeBytes(input: Uint8Array | string, options?: VerifyEnvelopeOptions): EnvelopeVerdict {
  const { maxBytes, flags } = envelopeOptions(options);
  checkEnvelopeInput(input, "envelope");
  // The bytes are copied into wasm memory (writeInput) in this synchronous call: that is the copy.
  return runEnvelopeVerify(input, maxBytes, flags, true) as EnvelopeVerdict;
}

/**
 * Verifies many envelopes: one verdict per envelope, deep-equal to `verifyEnvelopeBytes(envelope,
 * options)` for each. Each envelope is parsed and its challenge rebuilt in wasm as there; the
 * signatures of those that get that far are then checked together by the exact batch verifier
 * (ed25519.verifyBatch, README "Batch verification"), BATCH_MAX_ITEMS envelopes at a time.
 * @throws InvalidTypeError if `envelopes` is not an array, an element is not a string or a
 *   readable Uint8Array (the message names its index), or an option has the wrong type.
 */
export function verifyEnvelopeBatch(envelopes: readonly (Uint8Array | string)[], options?: VerifyEnvelopeOptions): EnvelopeVerdict[] {
  if (!Array.isArray(envelopes)) throw new InvalidTypeError("envelopes must be an array");
  const { maxBytes, flags } = envelopeOptions(options);
  const count = envelopes.length;
  const inputs: (Uint8Array | string)[] = new Array(count);
  for (let i = 0; i < count; i++) inputs[i] = envelopes[i]; // read once (a Proxy or getter runs here only)
  for (let i = 0; i < count; i++) checkEnvelopeInput(inputs[i], `envelopes[${i}]`);
  const verdicts: EnvelopeVerdict[] = new Array(count);
  const zip215 = (flags & FLAG_ZIP215) !== 0;
  for (let start = 0; start < count; start += BATCH_MAX_ITEMS) {
    const end = Math.min(count, start + BATCH_MAX_ITEMS);
    const pending: { index: number; parts: DeferredSignature }[] = [];
    for (let i = start; i < end; i++) {
      const outcome = runEnvelopeVerify(inputs[i], maxBytes, flags | FLAG_DEFER_SIGNATURE, true);
      if (outcome instanceof DeferredSignature) pending.push({ index: i, parts: outcome });
      else verdicts[i] = outcome as EnvelopeVerdict;
    }
    if (pending.length === 0) continue;
    const valid = ed25519.verifyBatch(
      pending.map(({ parts }) => ({ signature: parts.signature, message: parts.canonicalChallenge, publicKey: parts.declaredPublicKey })),
      { zip215 },
    );
    pending.forEach(({ index, parts }, t) => {
      verdicts[index] = valid[t] ? { ok: true, envelope: parts.toVerifiedEnvelope() } : invalidSignature();
    });
  }
  return verdicts;
}

/** maxBytes and the envelope_verify flags of the options, type-checked. */
function envelopeOptions(options: VerifyEnvelopeOptions | undefined): { maxBytes: number; flags: number } {
  let maxBytes = DEFAULT_ENVELOPE_MAX_BYTES;
  let flags = FLAG_REJECT_WEAK_KEYS;
  if (options !== undefined) {
    if (options === null || typeof options !== "object") throw new InvalidTypeError("options must be an object");
    if (options.maxBytes !== undefined) maxBytes = Math.min(nonNegativeInteger(options.maxBytes, "maxBytes"), MAX_ENVELOPE_BYTES_LIMIT);
    if (booleanOption(options.zip215, "zip215", false)) flags |= FLAG_ZIP215;
    if (!booleanOption(options.rejectWeakKeys, "rejectWeakKeys", true)) flags &= ~FLAG_REJECT_WEAK_KEYS;
    if (booleanOption(options.escapeDelAndC1, "escapeDelAndC1", false)) flags |= FLAG_ESCAPE_DEL_AND_C1;
  }
  return { maxBytes, flags };
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

/**
 * An envelope that passed everything but the signature check (ENVELOPE_SIGNATURE_DEFERRED):
 * copies of what its OK verdict needs, still undecoded (the strings are decoded only once the
 * signature holds, as in the single path).
 */
class DeferredSignature {
  constructor(
    readonly strings: Uint8Array[],
    readonly timestampDigits: Uint8Array,
    readonly declaredPublicKey: Uint8Array,
    readonly signature: Uint8Array,
    readonly canonicalChallenge: Uint8Array,
  ) {}

  static read(heap: Uint8Array, result: number): DeferredSignature {
    const strings = [0, 1, 2, 3].map((index) => heap.slice(...span(heap, result + RESULT_STRINGS + 8 * index)));
    return new DeferredSignature(
      strings,
      heap.slice(...span(heap, result + RESULT_TIMESTAMP)),
      heap.slice(result + RESULT_PUBLIC_KEY, result + RESULT_PUBLIC_KEY + 32),
      heap.slice(result + RESULT_SIGNATURE, result + RESULT_SIGNATURE + 64),
      heap.slice(...span(heap, result + RESULT_CANONICAL)),
    );
  }

  toVerifiedEnvelope(): VerifiedEnvelope {
    const [schema, localKernelId, remoteKernelId, nonce] = this.strings.map((bytes) => strictUtf8.decode(bytes));
    return {
      challenge: { schema, localKernelId, remoteKernelId, nonce, timestamp: timestampFromDigits(this.timestampDigits, 0, this.timestampDigits.length) },
      declaredPublicKey: this.declaredPublicKey,
      signature: this.signature,
      canonicalChallenge: this.canonicalChallenge,
    };
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
  return runEnvelopeVerify(input, Math.min(maxBytes, MAX_ENVELOPE_BYTES_LIMIT), flags, false) as EnvelopeFieldsVerdict;
}

/** One wasm call and its verdict; `full` also copies out the signature and the canonical challenge. */
function runEnvelopeVerify(
  input: Uint8Array | string,
  maxBytes: number,
  flags: number,
  full: boolean,
): EnvelopeFieldsVerdict | EnvelopeVerdict | DeferredSignature {
  let length: number;
  try {
    length = writeInput(input, maxBytes);
  } catch (error) {
    if (error instanceof CanonicalJsonError) {
      const why = error.code === "TOO_LARGE" ? `envelope is larger than maxBytes (${maxBytes})` : error.message;
      const problem: EnvelopeProblem = error.code === "TOO_LARGE" || error.code === "LONE_SURROGATE" ? error.code : "UNREADABLE";
      return { ...failure("MALFORMED_ENVELOPE", why, error.code === "TOO_LARGE" ? undefined : error.offset), problem, field: "envelope", detail: why };
    }
    throw error;
  }

  const core = coreExports<EnvelopeCoreExports>();
  const verdict = guarded(() => core.envelope_verify(length, flags));
  const heap = heapU8();
  const result = argsBase() + ARG_RESULT;
  const code = VERDICT_CODES.get(verdict) ?? "MALFORMED_ENVELOPE";
  if (verdict === abi.ENVELOPE_OK) return { ok: true, envelope: full ? readEnvelope(heap, result) : readEnvelopeFields(heap, result) };
  if (verdict === abi.ENVELOPE_SIGNATURE_DEFERRED) return DeferredSignature.read(heap, result);
  switch (code) {
    case "MALFORMED_ENVELOPE": {
      const offset = readU32(heap, result + RESULT_OFFSET);
      const reason = readU32(heap, result + RESULT_REASON);
      const field = readU32(heap, result + RESULT_FIELD);
      const why = malformedMessage(reason, field, offset);
      const problem = PROBLEMS.get(reason) ?? "UNREADABLE";
      return { ...failure(code, `malformed envelope: ${why}`, offset), problem, field: FIELDS.get(field)?.path ?? "envelope", detail: why };
    }
    case "UNSUPPORTED_SCHEMA": {
      // chio's message includes the schema; the wasm call left its unescaped bytes in the work area.
      const schema = schemaPrefix(heap, ...span(heap, result + RESULT_STRINGS));
      return {
        ok: false,
        code,
        message: `unsupported handshake schema: ${schema} (expected ${FEDERATION_HANDSHAKE_SCHEMA})`,
        schema,
      };
    }
    case "WEAK_PUBLIC_KEY":
      return {
        ok: false,
        code,
        message: "declared public key has small order (weak key); rejected",
        declaredPublicKeyHex: bytesToHex(heap.subarray(result + RESULT_PUBLIC_KEY, result + RESULT_PUBLIC_KEY + 32)),
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
  let stop = Math.min(end, start + 4 * SCHEMA_SHOWN_UNITS);
  while (stop < end && stop > start && (heap[stop] & 0xc0) === 0x80) stop--; // not inside a sequence
  return boundedSchema(strictUtf8.decode(heap.subarray(start, stop)), stop < end);
}

/**
 * @internal `schema` cut to SCHEMA_SHOWN_UNITS UTF-16 units (never between the halves of a
 * surrogate pair) with "…" appended when anything was cut; shared with the handshake's object path.
 */
export function boundedSchema(schema: string, cut = false): string {
  if (schema.length <= SCHEMA_SHOWN_UNITS) return cut ? `${schema}…` : schema;
  const last = schema.charCodeAt(SCHEMA_SHOWN_UNITS - 1);
  const keep = last >= 0xd800 && last <= 0xdbff ? SCHEMA_SHOWN_UNITS - 1 : SCHEMA_SHOWN_UNITS;
  return `${schema.slice(0, keep)}…`;
}

/** [start, end) of the (address, length) pair at `at`. */
function span(heap: Uint8Array, at: number): [number, number] {
  const start = readU32(heap, at);
  return [start, start + readU32(heap, at + 4)];
}

function readEnvelope(heap: Uint8Array, result: number): VerifiedEnvelope {
  const canonicalStart = readU32(heap, result + RESULT_CANONICAL);
  const canonicalEnd = canonicalStart + readU32(heap, result + RESULT_CANONICAL + 4);
  return {
    challenge: readChallenge(heap, result),
    declaredPublicKey: heap.slice(result + RESULT_PUBLIC_KEY, result + RESULT_PUBLIC_KEY + 32),
    signature: heap.slice(result + RESULT_SIGNATURE, result + RESULT_SIGNATURE + 64),
    canonicalChallenge: heap.slice(canonicalStart, canonicalEnd),
  };
}

function readEnvelopeFields(heap: Uint8Array, result: number): VerifiedEnvelopeFields {
  return {
    challenge: readChallenge(heap, result),
    declaredPublicKey: heap.slice(result + RESULT_PUBLIC_KEY, result + RESULT_PUBLIC_KEY + 32),
  };
}

function readChallenge(heap: Uint8Array, result: number): VerifiedEnvelope["challenge"] {
  return {
    schema: challengeString(heap, result, 0),
    localKernelId: challengeString(heap, result, 1),
    remoteKernelId: challengeString(heap, result, 2),
    nonce: challengeString(heap, result, 3),
    timestamp: timestampFromDigits(heap, ...span(heap, result + RESULT_TIMESTAMP)),
  };
}

/** The timestamp whose ASCII digits are bytes [digitsStart, digitsEnd): a number when safe, else a bigint. */
function timestampFromDigits(bytes: Uint8Array, digitsStart: number, digitsEnd: number): number | bigint {
  if (digitsEnd - digitsStart <= 15) {
    // Up to 15 decimal digits the running value stays below 2^53, so the arithmetic is exact.
    let timestamp = 0;
    for (let i = digitsStart; i < digitsEnd; i++) timestamp = timestamp * 10 + (bytes[i] - 0x30);
    return timestamp;
  }
  let digits = "";
  for (let i = digitsStart; i < digitsEnd; i++) digits += String.fromCharCode(bytes[i]);
  return exactInteger(digits);
}

/** The `index`-th unescaped challenge string of the result block (validated UTF-8). */
function challengeString(heap: Uint8Array, result: number, index: number): string {
  const at = result + RESULT_STRINGS + 8 * index;
  const start = readU32(heap, at);
  return strictUtf8.decode(heap.subarray(start, start + readU32(heap, at + 4)));
}

/** A number when it is a safe integer, else a bigint (chio timestamps are u64). */
function exactInteger(digits: string): number | bigint {
  const big = BigInt(digits);
  return big <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(big) : big;
}

function malformedMessage(reason: number, field: number, offset: number): string {
  const name = FIELDS.get(field)?.name ?? "the envelope";
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

function booleanOption(value: unknown, name: string, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== "boolean") throw new InvalidTypeError(`${name} must be a boolean`);
  return value;
}
