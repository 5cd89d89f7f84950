// One-call verification of a chio federation handshake envelope (docs/protocol.md §2, §3, §4).
//
// Parses the envelope JSON with the rules of chio's Rust types (serde `deny_unknown_fields`,
// camelCase): the top level has exactly `challenge`, `declaredPublicKey`, `signature`; the
// challenge exactly `schema`, `localKernelId`, `remoteKernelId`, `nonce` (strings) and
// `timestamp` (JSON integer 0…2^64−1). Member names are compared after unescaping, as serde
// does. Keys and signatures are chio `from_hex` strings: optional `0x`, hex in either case,
// exactly 32 / 64 bytes; a key that does not decode as a curve point fails to parse (dalek
// `VerifyingKey::from_bytes`). Then, in the order of chio's `verify_signature`: schema check,
// the optional weak-key check, the canonical challenge (RFC 8785, rebuilt from the parsed
// values, as the verifier re-serializes the struct) and the Ed25519 check over it, all in this
// one call.
//
// Deliberately stricter than chio in two respects (both fail closed): serde would also accept a
// struct written as a JSON array of its fields in declaration order, and chio's key/signature
// parser accepts `p256:`/`p384:`/`hybrid:` forms (which then fail verification); we accept only
// objects and Ed25519 hex, so those are MALFORMED_ENVELOPE here.
//
// Arena: the input at ioBase(), then a work area for canonical strings, unescaped values and
// the canonical challenge (bounded by the input size, see WORK_FACTOR).
import {
  STATUS_OK,
  STATUS_INVALID_JSON,
  STATUS_TRAILING_DATA,
  STATUS_TOO_LARGE,
  ADDRESS_CEILING,
  errorStatus,
  errorAt,
  fail,
  resetError,
  room,
  setRoomLimit,
  ensureAddressable,
  align16,
} from "../json/status";
import { transcodeString, unescapeCanonical, skipWhitespace, stringInputEnd, stringHasEscapes, hexValue } from "../json/strings";
import { utf8SequenceLength } from "../json/utf8";
import { copyBytes } from "../json/copy";
import { scanNumber, fitsInteger, numberInputEnd, numberNegative, numberIntegral, numberDigitsStart, numberDigitsEnd } from "../json/transcoder";
import { verify_signature_vartime, inspect_public_key_vartime, inspect_public_key_into_vartime } from "../ed25519/verify";
import { P3_BYTES } from "../curve25519/group";

// ---- Verdicts, malformed reasons, flags, result words and field codes: the JS <-> wasm ABI, declared
// once in assembly/abi.ts (REASON_* 1…8 are the transcoder's STATUS_* codes) ----
import {
  ENVELOPE_OK,
  ENVELOPE_MALFORMED,
  ENVELOPE_UNSUPPORTED_SCHEMA,
  ENVELOPE_WEAK_PUBLIC_KEY,
  ENVELOPE_INVALID_SIGNATURE,
  ENVELOPE_SIGNATURE_DEFERRED,
  REASON_NOT_AN_OBJECT,
  REASON_UNKNOWN_FIELD,
  REASON_DUPLICATE_FIELD,
  REASON_MISSING_FIELD,
  REASON_NOT_A_STRING,
  REASON_BAD_TIMESTAMP,
  REASON_BAD_HEX,
  REASON_BAD_LENGTH,
  REASON_NOT_A_POINT,
  ENVELOPE_FLAG_ZIP215,
  ENVELOPE_RESULT_BYTES,
  ENVELOPE_FLAG_REJECT_WEAK_KEYS,
  ENVELOPE_FLAG_ESCAPE_DEL_AND_C1,
  ENVELOPE_FLAG_DEFER_SIGNATURE,
  ENVELOPE_RESULT_REASON as RESULT_REASON,
  ENVELOPE_RESULT_OFFSET as RESULT_OFFSET,
  ENVELOPE_RESULT_FIELD as RESULT_FIELD,
  ENVELOPE_RESULT_STRINGS as RESULT_STRINGS,
  ENVELOPE_RESULT_TIMESTAMP as RESULT_TIMESTAMP,
  ENVELOPE_RESULT_CANONICAL as RESULT_CANONICAL,
  ENVELOPE_RESULT_PUBLIC_KEY as RESULT_PUBLIC_KEY,
  ENVELOPE_RESULT_SIGNATURE as RESULT_SIGNATURE,
  ENVELOPE_FIELD_CHALLENGE as FIELD_CHALLENGE,
  ENVELOPE_FIELD_DECLARED_PUBLIC_KEY as FIELD_DECLARED_PUBLIC_KEY,
  ENVELOPE_FIELD_SIGNATURE as FIELD_SIGNATURE,
  ENVELOPE_FIELD_SCHEMA as FIELD_SCHEMA,
  ENVELOPE_FIELD_LOCAL_KERNEL_ID as FIELD_LOCAL_KERNEL_ID,
  ENVELOPE_FIELD_REMOTE_KERNEL_ID as FIELD_REMOTE_KERNEL_ID,
  ENVELOPE_FIELD_NONCE as FIELD_NONCE,
  ENVELOPE_FIELD_TIMESTAMP as FIELD_TIMESTAMP,
} from "../abi";

const HANDSHAKE_SCHEMA = "chio.federation-kernel-handshake.v1";

/** Work area bytes per input byte (canonical strings ≤ 6×, unescaped copies ≤ 1×, challenge ≤ 6× + constants). */
const WORK_FACTOR: u64 = 16;

// Canonical string spans, indexed by field: (address, length) including the quotes.
const SPANS: usize = memory.data(16 * 8, 16);
// Input address where each field's value starts, indexed by field (for error offsets).
const VALUE_AT: usize = memory.data(16 * 4, 16);
// Decoded key and signature (private scratch; copied to the result block only on success).
const KEY_BYTES: usize = memory.data(32, 16);
const SIGNATURE_BYTES: usize = memory.data(64, 16);

/**
 * With ENVELOPE_FLAG_DEFER_SIGNATURE: the declared key as decoded by the parse (p3, Z = 1), for
 * the batch that then verifies the signature (envelope-batch.ts), so it is not decoded twice.
 */
export const DEFERRED_KEY_POINT: usize = memory.data(<i32>P3_BYTES, 16);

let inputBase: usize = 0;
let inputEnd: usize = 0;
let workTop: usize = 0;
let escapeDelAndC1: bool = false;
let timestampStart: usize = 0;
let timestampEnd: usize = 0;
let reason: u32 = 0;
let reasonField: u32 = 0;
let reasonAt: usize = 0;

/** Records why the envelope is malformed; returns 0 like `fail`. */
function malformed(why: u32, field: u32, at: usize): usize {
  reason = why;
  reasonField = field;
  reasonAt = at;
  return 0;
}

/** Turns a transcoder failure (errorStatus/errorAt) into a malformed reason. */
function malformedFromError(field: u32): usize {
  return malformed(<u32>errorStatus, field, errorAt);
}

/**
 * Verifies the envelope in the `inputLength` bytes at `base`; writes the result block at
 * `result` and returns an ENVELOPE_* verdict. The work area (unescaped strings, canonical
 * challenge) starts at `workAt`, or just past the input if 0; envelopeWorkEnd() is its end after
 * the call.
 */
export function verifyEnvelopeText(base: usize, inputLength: usize, flags: u32, result: usize, workAt: usize = 0): i32 {
  resetError();
  reason = 0;
  reasonField = 0;
  reasonAt = base;
  memory.fill(result, 0, ENVELOPE_RESULT_BYTES);
  memory.fill(SPANS, 0, 16 * 8);
  memory.fill(VALUE_AT, 0, 16 * 4);
  escapeDelAndC1 = (flags & ENVELOPE_FLAG_ESCAPE_DEL_AND_C1) != 0;
  inputBase = base;
  inputEnd = base + inputLength;

  const workStart: u64 = workAt != 0 ? align16(<u64>workAt) : align16(<u64>base + <u64>inputLength);
  const workLimit = workStart + <u64>inputLength * WORK_FACTOR + 4096;
  workTop = <usize>workStart;
  if (workLimit > ADDRESS_CEILING || !ensureAddressable(workStart + 256)) {
    return finishMalformed(result, malformed(<u32>STATUS_TOO_LARGE, 0, base));
  }
  setRoomLimit(<usize>workLimit);

  // ---- Parse (every failure here is MALFORMED_ENVELOPE, like a serde error) ----
  let p = skipWhitespace(base, inputEnd);
  p = parseStruct(p, 0);
  if (p == 0) return finishMalformed(result, 0);
  p = skipWhitespace(p, inputEnd);
  if (p != inputEnd) return finishMalformed(result, malformed(<u32>STATUS_TRAILING_DATA, 0, p));
  if (!decodeHex(FIELD_DECLARED_PUBLIC_KEY, KEY_BYTES, 32)) return finishMalformed(result, 0);
  if (!decodeHex(FIELD_SIGNATURE, SIGNATURE_BYTES, 64)) return finishMalformed(result, 0);
  const keyKind = (flags & ENVELOPE_FLAG_DEFER_SIGNATURE) != 0
    ? inspect_public_key_into_vartime(KEY_BYTES, DEFERRED_KEY_POINT)
    : inspect_public_key_vartime(KEY_BYTES);
  if (keyKind < 0) {
    return finishMalformed(result, malformed(REASON_NOT_A_POINT, FIELD_DECLARED_PUBLIC_KEY, valueAt(FIELD_DECLARED_PUBLIC_KEY)));
  }

  // Unescaped challenge strings, reported to JS (decoded there only after verification).
  for (let field = FIELD_SCHEMA; field <= FIELD_NONCE; field++) {
    const span = SPANS + (<usize>field << 3);
    const from = <usize>load<u32>(span) + 1;
    const length = <usize>load<u32>(span + 4) - 2;
    if (!room(workTop, length)) return finishMalformed(result, malformed(<u32>STATUS_TOO_LARGE, field, base));
    const n = unescapeCanonical(from, length, workTop);
    const slot = result + RESULT_STRINGS + (<usize>(field - FIELD_SCHEMA) << 3);
    store<u32>(slot, <u32>workTop);
    store<u32>(slot + 4, <u32>n);
    workTop += n;
  }
  // The timestamp digits, copied next to the strings: every span of the result block then points
  // into the work area (envelope-batch.ts hands JS that area alone).
  const digits = timestampEnd - timestampStart;
  if (!room(workTop, digits)) return finishMalformed(result, malformed(<u32>STATUS_TOO_LARGE, FIELD_TIMESTAMP, base));
  memory.copy(workTop, timestampStart, digits);
  store<u32>(result + RESULT_TIMESTAMP, <u32>workTop);
  store<u32>(result + RESULT_TIMESTAMP + 4, <u32>digits);
  workTop += digits;

  // ---- chio verify_signature order: schema, (weak key), canonical bytes, signature ----
  const schemaAt = <usize>load<u32>(result + RESULT_STRINGS);
  const schemaLength = <usize>load<u32>(result + RESULT_STRINGS + 4);
  if (!equalsAscii(schemaAt, schemaLength, HANDSHAKE_SCHEMA)) return ENVELOPE_UNSUPPORTED_SCHEMA;
  if ((flags & ENVELOPE_FLAG_REJECT_WEAK_KEYS) != 0 && keyKind == 1) {
    // The declared key is public and already decoded: report it, so JS can name it in the
    // error without parsing the (unverified) input a second time.
    memory.copy(result + RESULT_PUBLIC_KEY, KEY_BYTES, 32);
    return ENVELOPE_WEAK_PUBLIC_KEY;
  }

  const canonical = workTop;
  const canonicalEnd = writeCanonicalChallenge(canonical);
  if (canonicalEnd == 0) return finishMalformed(result, malformed(<u32>STATUS_TOO_LARGE, FIELD_CHALLENGE, base));
  workTop = canonicalEnd;
  store<u32>(result + RESULT_CANONICAL, <u32>canonical);
  store<u32>(result + RESULT_CANONICAL + 4, <u32>(canonicalEnd - canonical));
  if ((flags & ENVELOPE_FLAG_DEFER_SIGNATURE) != 0) {
    // The batch path (verifyEnvelopeBatch): the caller verifies the signature over the
    // canonical bytes with the same rule, in a batch, and reports the verdict.
    memory.copy(result + RESULT_PUBLIC_KEY, KEY_BYTES, 32);
    memory.copy(result + RESULT_SIGNATURE, SIGNATURE_BYTES, 64);
    return ENVELOPE_SIGNATURE_DEFERRED;
  }
  const zip215 = (flags & ENVELOPE_FLAG_ZIP215) != 0;
  if (!verify_signature_vartime(SIGNATURE_BYTES, canonical, canonicalEnd - canonical, KEY_BYTES, zip215)) {
    return ENVELOPE_INVALID_SIGNATURE;
  }
  memory.copy(result + RESULT_PUBLIC_KEY, KEY_BYTES, 32);
  memory.copy(result + RESULT_SIGNATURE, SIGNATURE_BYTES, 64);
  return ENVELOPE_OK;
}

/** End of the work area the last verifyEnvelopeText call used. */
export function envelopeWorkEnd(): usize {
  return workTop;
}

function finishMalformed(result: usize, _: usize): i32 {
  store<u32>(result + RESULT_REASON, reason);
  store<u32>(result + RESULT_OFFSET, <u32>(reasonAt >= inputBase ? reasonAt - inputBase : 0));
  store<u32>(result + RESULT_FIELD, reasonField);
  return ENVELOPE_MALFORMED;
}

/**
 * Parses the struct at `p`: the envelope (`level` 0) or its challenge (`level` 1). Returns the
 * input position after its closing brace, or 0 after recording a malformed reason.
 */
function parseStruct(p: usize, level: i32): usize {
  const end = inputEnd;
  const owner: u32 = level == 0 ? 0 : FIELD_CHALLENGE;
  if (p >= end) return malformed(<u32>STATUS_INVALID_JSON, owner, p);
  if (load<u8>(p) != 0x7b) return notExpected(p, REASON_NOT_AN_OBJECT, owner);
  const first: u32 = level == 0 ? FIELD_CHALLENGE : FIELD_SCHEMA;
  const last: u32 = level == 0 ? FIELD_SIGNATURE : FIELD_TIMESTAMP;
  let seen: u32 = 0;
  p = skipWhitespace(p + 1, end);
  if (p < end && load<u8>(p) == 0x7d) {
    p++;
  } else {
    while (true) {
      // Member name, compared after unescaping (scratch just past workTop, not kept).
      if (p >= end || load<u8>(p) != 0x22) return syntaxError(p, owner);
      const nameAt = p;
      const nameEnd = transcodeString(p, end, workTop, false);
      if (nameEnd == 0) return malformedFromError(owner);
      let name = workTop + 1;
      let nameLength = nameEnd - 1 - name;
      if (stringHasEscapes) {
        if (!room(nameEnd, nameLength)) return malformed(<u32>STATUS_TOO_LARGE, owner, nameAt);
        nameLength = unescapeCanonical(name, nameLength, nameEnd);
        name = nameEnd;
      }
      const field = fieldId(name, nameLength, first, last);
      if (field == 0) return malformed(REASON_UNKNOWN_FIELD, owner, nameAt);
      const bit: u32 = 1 << field;
      if ((seen & bit) != 0) return malformed(REASON_DUPLICATE_FIELD, field, nameAt);
      seen |= bit;
      p = skipWhitespace(stringInputEnd, end);
      if (p >= end || load<u8>(p) != 0x3a) return syntaxError(p, owner);
      p = skipWhitespace(p + 1, end);

      // Member value.
      store<u32>(VALUE_AT + (<usize>field << 2), <u32>p);
      if (field == FIELD_CHALLENGE) {
        p = parseStruct(p, 1);
      } else if (field == FIELD_TIMESTAMP) {
        p = parseTimestamp(p);
      } else {
        p = parseStringField(p, field);
      }
      if (p == 0) return 0;

      p = skipWhitespace(p, end);
      if (p >= end) return malformed(<u32>STATUS_INVALID_JSON, owner, p);
      const c = load<u8>(p);
      if (c == 0x7d) {
        p++;
        break;
      }
      if (c != 0x2c) return syntaxError(p, owner);
      p = skipWhitespace(p + 1, end);
    }
  }
  for (let field = first; field <= last; field++) {
    if ((seen & (1 << field)) == 0) return malformed(REASON_MISSING_FIELD, field, p - 1);
  }
  return p;
}

/** A JSON value that has the wrong type gets `why`; anything that is not a JSON value is a syntax error. */
function notExpected(p: usize, why: u32, field: u32): usize {
  const c = <u32>load<u8>(p);
  const startsValue = c == 0x7b || c == 0x5b || c == 0x22 || c == 0x2d || c - 0x30 < 10 || c == 0x74 || c == 0x66 || c == 0x6e;
  return startsValue ? malformed(why, field, p) : syntaxError(p, field);
}

function syntaxError(p: usize, field: u32): usize {
  const bad = p < inputEnd && load<u8>(p) >= 0x80 && utf8SequenceLength(p, inputEnd) == 0;
  return malformed(<u32>(bad ? 3 /* STATUS_INVALID_UTF8 */ : STATUS_INVALID_JSON), field, p);
}

/** Transcodes a string member into the work area and remembers its canonical span. */
function parseStringField(p: usize, field: u32): usize {
  if (p >= inputEnd) return malformed(<u32>STATUS_INVALID_JSON, field, p);
  if (load<u8>(p) != 0x22) return notExpected(p, REASON_NOT_A_STRING, field);
  const o = transcodeString(p, inputEnd, workTop, escapeDelAndC1);
  if (o == 0) return malformedFromError(field);
  const span = SPANS + (<usize>field << 3);
  store<u32>(span, <u32>workTop);
  store<u32>(span + 4, <u32>(o - workTop));
  workTop = o;
  return stringInputEnd;
}

/** Accepts a JSON integer literal in 0…2^64−1 (serde u64); keeps its digits for the challenge. */
function parseTimestamp(p: usize): usize {
  const end = inputEnd;
  if (p >= end) return malformed(<u32>STATUS_INVALID_JSON, FIELD_TIMESTAMP, p);
  const c = <u32>load<u8>(p);
  if (c != 0x2d && c - 0x30 >= 10) return notExpected(p, REASON_BAD_TIMESTAMP, FIELD_TIMESTAMP);
  if (!scanNumber(p, end)) return malformedFromError(FIELD_TIMESTAMP);
  // serde_json reads negative literals as i64/f64, fractions and exponents as f64, and integers
  // above u64 as f64: none of them deserializes into u64.
  if (numberNegative || !numberIntegral) return malformed(REASON_BAD_TIMESTAMP, FIELD_TIMESTAMP, p);
  if (!fitsInteger(numberDigitsStart, numberDigitsEnd - numberDigitsStart, false)) {
    return malformed(REASON_BAD_TIMESTAMP, FIELD_TIMESTAMP, p);
  }
  timestampStart = numberDigitsStart;
  timestampEnd = numberDigitsEnd;
  return numberInputEnd;
}

/** Field id for the member name, among fields first…last, or 0 if it is not one of them. */
function fieldId(name: usize, length: usize, first: u32, last: u32): u32 {
  for (let field = first; field <= last; field++) {
    if (equalsAscii(name, length, fieldName(field))) return field;
  }
  return 0;
}

function fieldName(field: u32): string {
  switch (field) {
    case FIELD_CHALLENGE: return "challenge";
    case FIELD_DECLARED_PUBLIC_KEY: return "declaredPublicKey";
    case FIELD_SIGNATURE: return "signature";
    case FIELD_SCHEMA: return "schema";
    case FIELD_LOCAL_KERNEL_ID: return "localKernelId";
    case FIELD_REMOTE_KERNEL_ID: return "remoteKernelId";
    case FIELD_NONCE: return "nonce";
    default: return "timestamp";
  }
}

/** True if the `length` bytes at `p` equal the ASCII string `text` (a static literal: no allocation). */
function equalsAscii(p: usize, length: usize, text: string): bool {
  if (length != <usize>text.length) return false;
  for (let i: usize = 0; i < length; i++) {
    if (<u32>load<u8>(p + i) != <u32>text.charCodeAt(<i32>i)) return false;
  }
  return true;
}

function valueAt(field: u32): usize {
  return <usize>load<u32>(VALUE_AT + (<usize>field << 2));
}

/**
 * Decodes the hex string member `field` (chio `from_hex`: optional leading "0x", either case)
 * into exactly `size` bytes at `out`. The value is unescaped first, as serde hands the decoded
 * string to from_hex.
 */
function decodeHex(field: u32, out: usize, size: usize): bool {
  const span = SPANS + (<usize>field << 3);
  const canonicalAt = <usize>load<u32>(span);
  let length = <usize>load<u32>(span + 4) - 2;
  let text = canonicalAt + 1;
  if (stringSpanHasBackslash(text, length)) {
    if (!room(workTop, length)) return malformed(<u32>STATUS_TOO_LARGE, field, valueAt(field)) != 0;
    length = unescapeCanonical(text, length, workTop);
    text = workTop;
  }
  if (length >= 2 && load<u8>(text) == 0x30 && load<u8>(text + 1) == 0x78) {
    text += 2;
    length -= 2;
  }
  if ((length & 1) != 0) return malformed(REASON_BAD_HEX, field, valueAt(field)) != 0;
  if (length == size << 1) {
    if (!hexValuesReady) fillHexValues();
    // One pass: decode through the table; any non-hex character (0xff) shows in `bad`.
    let bad: u32 = 0;
    for (let i: usize = 0; i < size; i++) {
      const hi = <u32>load<u8>(HEX_VALUES + <usize>load<u8>(text + (i << 1)));
      const lo = <u32>load<u8>(HEX_VALUES + <usize>load<u8>(text + (i << 1) + 1));
      bad |= hi | lo;
      store<u8>(out + i, <u8>((hi << 4) | lo));
    }
    if ((bad & 0x80) != 0) return malformed(REASON_BAD_HEX, field, valueAt(field)) != 0;
    return true;
  }
  // Wrong length: BAD_HEX if a character is not hex (that is reported first), else BAD_LENGTH.
  for (let i: usize = 0; i < length; i++) {
    if (hexValue(<u32>load<u8>(text + i)) < 0) return malformed(REASON_BAD_HEX, field, valueAt(field)) != 0;
  }
  return malformed(REASON_BAD_LENGTH, field, valueAt(field)) != 0;
}

/** Value of each byte as a hex digit (either case), 0xff if it is not one (filled on first use from hexValue). */
const HEX_VALUES: usize = memory.data(256, 16);
let hexValuesReady = false;
function fillHexValues(): void {
  for (let c: u32 = 0; c < 256; c++) {
    const v = hexValue(c);
    store<u8>(HEX_VALUES + <usize>c, <u8>(v < 0 ? 0xff : v));
  }
  hexValuesReady = true;
}

function stringSpanHasBackslash(p: usize, length: usize): bool {
  for (let i: usize = 0; i < length; i++) if (load<u8>(p + i) == 0x5c) return true;
  return false;
}

/**
 * Writes the canonical challenge at `o`: members in RFC 8785 order (localKernelId < nonce <
 * remoteKernelId < schema < timestamp, all ASCII so UTF-16 order is byte order), canonical
 * strings, and the timestamp's exact decimal digits. Returns the end, or 0 if out of room.
 */
function writeCanonicalChallenge(o: usize): usize {
  o = writeAscii(o, '{"localKernelId":');
  if (o != 0) o = writeSpan(o, FIELD_LOCAL_KERNEL_ID);
  if (o != 0) o = writeAscii(o, ',"nonce":');
  if (o != 0) o = writeSpan(o, FIELD_NONCE);
  if (o != 0) o = writeAscii(o, ',"remoteKernelId":');
  if (o != 0) o = writeSpan(o, FIELD_REMOTE_KERNEL_ID);
  if (o != 0) o = writeAscii(o, ',"schema":');
  if (o != 0) o = writeSpan(o, FIELD_SCHEMA);
  if (o != 0) o = writeAscii(o, ',"timestamp":');
  if (o == 0) return 0;
  const digits = timestampEnd - timestampStart;
  if (!room(o, digits + 1)) return 0;
  copyBytes(o, timestampStart, digits);
  store<u8>(o + digits, 0x7d);
  return o + digits + 1;
}

function writeAscii(o: usize, text: string): usize {
  const n = <usize>text.length;
  if (!room(o, n)) return 0;
  for (let i: usize = 0; i < n; i++) store<u8>(o + i, <u8>text.charCodeAt(<i32>i));
  return o + n;
}

function writeSpan(o: usize, field: u32): usize {
  const span = SPANS + (<usize>field << 3);
  const from = <usize>load<u32>(span);
  const length = <usize>load<u32>(span + 4);
  if (!room(o, length)) return 0;
  copyBytes(o, from, length);
  return o + length;
}
