// RFC 8785 (JCS) transcoder: UTF-8 JSON text (RFC 8259) in, canonical UTF-8 JSON out, in one
// pass over the input with an explicit container stack (no recursion, so nesting depth is
// bounded by the caller's limit, at most JSON_MAX_DEPTH_LIMIT, never by the wasm call stack).
//
// Values are written to the output as they are parsed. Each object member's output span is
// recorded; when the object closes, its members are checked for duplicates and, unless they
// already are in canonical order, rewritten in that order through a temporary area just past
// the output end (see members.ts for the order). Nothing is allocated on the AS heap.
//
// Numbers (RFC 8785 §3.2.2.3):
//  * An integer literal (no fraction, no exponent) whose value fits in i64 or u64 is copied
//    exactly as written, except that `-0` becomes `0`. chio's Rust canonicalizer holds such
//    values as serde_json i64/u64 and prints them exactly (e.g. 18446744073709551615 and
//    9007199254740993, where strict JCS would round through a double). Leading zeros and
//    `+` are excluded by the grammar, so the literal already is the canonical decimal.
//  * Every other literal is converted to the nearest binary64 (parseDouble) and printed the way
//    ECMAScript's Number::toString does (writeDouble). A literal that overflows binary64
//    (e.g. 1e400) is rejected as NUMBER_OUT_OF_RANGE (I-JSON, RFC 7493 §2.2); underflow to
//    zero is not an error.
//
// Arena layout for an input of N bytes at ioBase() (every region 16-byte aligned):
//   input        N bytes (written by JS)
//   key arena    N bytes: unescaped copies of member names whose canonical form has escapes
//                (each copy is no longer than its input token, and tokens are disjoint)
//   stack        (min(maxDepth, N) + 1) × 16 bytes of container entries
//   records      (N / 3 + 2) × (20 + 8) bytes: member records plus the sort index for the
//                closing object (each member owns a disjoint key token and colon: ≥ 3 bytes)
//   output       grows on demand up to the caller's output budget; the reorder temp follows it
import {
  STATUS_OK,
  STATUS_INVALID_JSON,
  STATUS_TRAILING_DATA,
  STATUS_INVALID_UTF8,
  STATUS_DUPLICATE_KEY,
  STATUS_TOO_DEEP,
  STATUS_TOO_LARGE,
  STATUS_NUMBER_OUT_OF_RANGE,
  ADDRESS_CEILING,
  errorStatus,
  fail,
  resetError,
  room,
  setRoomLimit,
  ensureAddressable,
  align16,
} from "./status";
import { transcodeString, unescapeCanonical, skipWhitespace, stringInputEnd, stringHasEscapes } from "./strings";
import { utf8SequenceLength } from "./utf8";
import { copyBytes } from "./copy";
import {
  RECORD_SIZE,
  REC_KEY_PTR,
  REC_KEY_LEN,
  REC_OUT_START,
  REC_OUT_END,
  REC_INPUT_AT,
  orderMembers,
  duplicateRecord,
} from "./members";
import { parseDouble } from "./number-parse";
import { writeDouble } from "./number-format";
// The flag bit (escape U+007F–U+009F like older chio Rust kernels, see strings.ts) and the depth bound.
import { JSON_FLAG_ESCAPE_DEL_AND_C1 as FLAG_ESCAPE_DEL_AND_C1, JSON_MAX_DEPTH_LIMIT } from "../abi"; // the ABI (assembly/abi.ts)

// Container stack entries.
const FRAME_SIZE: usize = 16;
const FRAME_KIND: usize = 0; //        u32: KIND_OBJECT or KIND_ARRAY
const FRAME_OUT_START: usize = 4; //   u32: output address of the opening bracket
const FRAME_RECORDS: usize = 8; //     u32: first member record of this object
const FRAME_KEYS: usize = 12; //       u32: key arena top when the object opened
const KIND_OBJECT: u32 = 1;
const KIND_ARRAY: u32 = 2;

/** Output of the last successful run. */
export let outputStart: usize = 0;
export let outputLength: usize = 0;

/**
 * How far past the output budget writers may put scratch bytes (room() requests at most
 * MAX_DOUBLE_TEXT = 25 bytes beyond what is already committed). Never part of the output.
 */
const OUTPUT_SLACK: u64 = 32;

// Arena regions of the current run.
let outputLimit: usize = 0; // exact end of the output budget
let inputBase: usize = 0;
let inputEnd: usize = 0;
let keyTop: usize = 0;
let stackBase: usize = 0;
let depth: u32 = 0;
let recordTop: usize = 0;
let escapeDelAndC1: bool = false;

/**
 * Canonicalizes the `inputLength` bytes at `base`. Returns a STATUS_* code; on success the result
 * is at [outputStart, outputStart + outputLength), on failure `errorAt` says where. `maxDepth`
 * (clamped to JSON_MAX_DEPTH_LIMIT, which src/canonical/json.ts refuses to exceed; 0 admits no
 * container) bounds container nesting; `maxOutput` bounds the output size.
 */
export function canonicalizeText(base: usize, inputLength: usize, maxDepth: u32, flags: u32, maxOutput: usize): i32 {
  resetError();
  outputStart = 0;
  outputLength = 0;
  if (maxDepth > JSON_MAX_DEPTH_LIMIT) maxDepth = JSON_MAX_DEPTH_LIMIT;
  escapeDelAndC1 = (flags & FLAG_ESCAPE_DEL_AND_C1) != 0;

  // Lay out the arena (u64 arithmetic: nothing here can wrap).
  const n = <u64>inputLength;
  const keysAt = align16(<u64>base + n);
  const stackAt = align16(keysAt + n);
  const frames = min<u64>(<u64>maxDepth, n) + 1;
  const recordsAt = align16(stackAt + frames * <u64>FRAME_SIZE);
  const outAt = align16(recordsAt + (n / 3 + 2) * <u64>(RECORD_SIZE + 8));
  // The budget is exact: a run succeeds iff its output is at most maxOutput bytes. Writers ask
  // room() for a few bytes more than they end up writing (a whole 8-byte chunk, a 12-byte escape,
  // a 25-byte number), so they may write scratch up to OUTPUT_SLACK bytes past the budget; every
  // committed end is compared with the exact budget (see the value-end loop below).
  const outLimit = min<u64>(outAt + <u64>maxOutput, ADDRESS_CEILING);
  const scratchLimit = min<u64>(outLimit + OUTPUT_SLACK, ADDRESS_CEILING);
  inputBase = base; // first: errorOffset of the failure below counts from this call's input (review-36 F9)
  if (outAt + 64 > ADDRESS_CEILING || !ensureAddressable(outAt + 64)) {
    fail(STATUS_TOO_LARGE, base);
    return errorStatus;
  }
  inputEnd = base + inputLength;
  keyTop = <usize>keysAt;
  stackBase = <usize>stackAt;
  recordTop = <usize>recordsAt;
  depth = 0;
  outputLimit = <usize>outLimit;
  setRoomLimit(<usize>scratchLimit);

  const end = inputEnd;
  let p = skipWhitespace(base, end);
  let o = <usize>outAt;

  while (true) {
    // ---- A value starts at p ----
    if (p >= end) return status(fail(STATUS_INVALID_JSON, p));
    const c = <u32>load<u8>(p);
    if (c == 0x7b || c == 0x5b) {
      // '{' or '['
      if (depth >= maxDepth) return status(fail(STATUS_TOO_DEEP, p));
      if (!room(o, 1)) return status(fail(STATUS_TOO_LARGE, p));
      const frame = stackBase + <usize>depth * FRAME_SIZE;
      store<u32>(frame + FRAME_KIND, c == 0x7b ? KIND_OBJECT : KIND_ARRAY);
      store<u32>(frame + FRAME_OUT_START, <u32>o);
      store<u32>(frame + FRAME_RECORDS, <u32>recordTop);
      store<u32>(frame + FRAME_KEYS, <u32>keyTop);
      depth++;
      store<u8>(o, <u8>c);
      o++;
      p = skipWhitespace(p + 1, end);
      const closer: u32 = c + 2; // '}' or ']'
      if (p < end && <u32>load<u8>(p) == closer) {
        // Empty container: close it right away and continue after it.
        if (!room(o, 1)) return status(fail(STATUS_TOO_LARGE, p));
        store<u8>(o, <u8>closer);
        o++;
        p++;
        depth--;
        recordTop = load<u32>(frame + FRAME_RECORDS);
      } else {
        if (c == 0x7b) {
          o = beginMember(p, o);
          if (o == 0) return errorStatus;
          p = memberValueStart;
        }
        continue;
      }
    } else if (c == 0x22) {
      o = transcodeString(p, end, o, escapeDelAndC1);
      if (o == 0) return errorStatus;
      p = stringInputEnd;
    } else if (c == 0x2d || c - 0x30 < 10) {
      o = transcodeNumber(p, end, o);
      if (o == 0) return errorStatus;
      p = numberInputEnd;
    } else if (c == 0x74) {
      o = copyLiteral(p, end, o, 0x65757274, 4); // "true"
      if (o == 0) return errorStatus;
      p += 4;
    } else if (c == 0x66) {
      o = copyLiteral(p, end, o, 0x736c6166, 5); // "fals" + 'e' checked below
      if (o == 0) return errorStatus;
      p += 5;
    } else if (c == 0x6e) {
      o = copyLiteral(p, end, o, 0x6c6c756e, 4); // "null"
      if (o == 0) return errorStatus;
      p += 4;
    } else {
      return status(fail(c >= 0x80 && utf8SequenceLength(p, end) == 0 ? STATUS_INVALID_UTF8 : STATUS_INVALID_JSON, p));
    }

    // ---- A value just ended: commas, closing brackets, or the end of the text ----
    let expectValue = false;
    while (!expectValue) {
      // Every value and every closing bracket passes here: hold the output to the exact budget.
      if (o > outputLimit) return status(fail(STATUS_TOO_LARGE, p));
      p = skipWhitespace(p, end);
      if (depth == 0) {
        if (p != end) return status(fail(STATUS_TRAILING_DATA, p));
        outputStart = <usize>outAt;
        outputLength = o - <usize>outAt;
        return STATUS_OK;
      }
      const frame = stackBase + <usize>(depth - 1) * FRAME_SIZE;
      const isObject = load<u32>(frame + FRAME_KIND) == KIND_OBJECT;
      if (isObject) store<u32>(recordTop - RECORD_SIZE + REC_OUT_END, <u32>o);
      if (p >= end) return status(fail(STATUS_INVALID_JSON, p));
      const d = <u32>load<u8>(p);
      if (d == 0x2c) {
        // ',' then the next element or member
        if (!room(o, 1)) return status(fail(STATUS_TOO_LARGE, p));
        store<u8>(o, 0x2c);
        o++;
        p = skipWhitespace(p + 1, end);
        if (isObject) {
          o = beginMember(p, o);
          if (o == 0) return errorStatus;
          p = memberValueStart;
        }
        expectValue = true;
      } else if (isObject && d == 0x7d) {
        o = closeObject(frame, o);
        if (o == 0) return errorStatus;
        p++;
        depth--;
      } else if (!isObject && d == 0x5d) {
        if (!room(o, 1)) return status(fail(STATUS_TOO_LARGE, p));
        store<u8>(o, 0x5d);
        o++;
        p++;
        depth--;
      } else {
        return status(fail(d >= 0x80 && utf8SequenceLength(p, end) == 0 ? STATUS_INVALID_UTF8 : STATUS_INVALID_JSON, p));
      }
    }
  }
  return STATUS_OK; // unreachable: the loop only exits through returns
}

// @ts-ignore: decorator
@inline
function status(_: usize): i32 {
  return errorStatus;
}

/** Input position of the member value after beginMember. */
let memberValueStart: usize = 0;

/**
 * Parses `"name" :` at `p` inside an object, writes `"name":` and opens the member's record.
 * Returns the output end, or 0 on error; `memberValueStart` is where the value begins.
 */
function beginMember(p: usize, o: usize): usize {
  const end = inputEnd;
  if (p >= end || load<u8>(p) != 0x22) {
    return fail(p < end && load<u8>(p) >= 0x80 && utf8SequenceLength(p, end) == 0 ? STATUS_INVALID_UTF8 : STATUS_INVALID_JSON, p);
  }
  const record = recordTop;
  const keyEnd = transcodeString(p, end, o, escapeDelAndC1);
  if (keyEnd == 0) return 0;
  let keyPtr = o + 1;
  let keyLen = keyEnd - 1 - keyPtr;
  if (stringHasEscapes) {
    // Compare names by value, not by their escaped spelling: keep an unescaped copy.
    const n = unescapeCanonical(keyPtr, keyLen, keyTop);
    keyPtr = keyTop;
    keyLen = n;
    keyTop += n;
  }
  store<u32>(record + REC_KEY_PTR, <u32>keyPtr);
  store<u32>(record + REC_KEY_LEN, <u32>keyLen);
  store<u32>(record + REC_OUT_START, <u32>o);
  store<u32>(record + REC_INPUT_AT, <u32>p);
  recordTop = record + RECORD_SIZE;
  let q = skipWhitespace(stringInputEnd, end);
  if (q >= end || load<u8>(q) != 0x3a) return fail(STATUS_INVALID_JSON, q);
  if (!room(keyEnd, 1)) return fail(STATUS_TOO_LARGE, q);
  store<u8>(keyEnd, 0x3a);
  memberValueStart = skipWhitespace(q + 1, end);
  return keyEnd + 1;
}

/**
 * Closes the object whose frame is `frame` and whose members end at output `o`: rejects
 * duplicate names, puts the members in canonical order, writes '}'. Returns the output end or 0.
 */
function closeObject(frame: usize, o: usize): usize {
  const records = <usize>load<u32>(frame + FRAME_RECORDS);
  const count = (recordTop - records) / RECORD_SIZE;
  if (count > 1) {
    const order = orderMembers(records, count, recordTop);
    if (duplicateRecord != 0) return fail(STATUS_DUPLICATE_KEY, load<u32>(duplicateRecord + REC_INPUT_AT));
    if (order != 0) {
      // Rebuild "m1,m2,…" in canonical order just past the output end, then move it back.
      const contentStart = <usize>load<u32>(frame + FRAME_OUT_START) + 1;
      const contentLength = o - contentStart;
      if (!ensureAddressable(<u64>o + <u64>contentLength)) return fail(STATUS_TOO_LARGE, inputEnd);
      let t = o;
      for (let i: usize = 0; i < count; i++) {
        const r = <usize>load<u32>(order + (i << 2));
        const from = <usize>load<u32>(r + REC_OUT_START);
        const length = <usize>load<u32>(r + REC_OUT_END) - from;
        if (i != 0) {
          store<u8>(t, 0x2c);
          t++;
        }
        copyBytes(t, from, length);
        t += length;
      }
      memory.copy(contentStart, o, contentLength);
    }
  }
  recordTop = records;
  keyTop = load<u32>(frame + FRAME_KEYS);
  if (!room(o, 1)) return fail(STATUS_TOO_LARGE, inputEnd);
  store<u8>(o, 0x7d);
  return o + 1;
}

/**
 * Checks the literal at `p` against the little-endian bytes `word` (and a final 'e' for
 * `false`) and copies it. Returns the output end or 0.
 */
function copyLiteral(p: usize, end: usize, o: usize, word: u32, length: usize): usize {
  if (p + length > end || load<u32>(p) != word || (length == 5 && load<u8>(p + 4) != 0x65)) {
    return fail(STATUS_INVALID_JSON, p);
  }
  if (!room(o, length)) return fail(STATUS_TOO_LARGE, p);
  store<u32>(o, word);
  if (length == 5) store<u8>(o + 4, 0x65);
  return o + length;
}

// Decimal digits of 2^64 − 1 and 2^63: the largest u64, and the magnitude of the smallest i64.
const U64_MAX_DIGITS: usize = memory.data<u8>([
  0x31, 0x38, 0x34, 0x34, 0x36, 0x37, 0x34, 0x34, 0x30, 0x37, 0x33, 0x37, 0x30, 0x39, 0x35, 0x35, 0x31, 0x36, 0x31, 0x35,
]);
const I64_MIN_MAGNITUDE_DIGITS: usize = memory.data<u8>([
  0x39, 0x32, 0x32, 0x33, 0x33, 0x37, 0x32, 0x30, 0x33, 0x36, 0x38, 0x35, 0x34, 0x37, 0x37, 0x35, 0x38, 0x30, 0x38,
]);

/** Results of scanNumber. */
export let numberInputEnd: usize = 0;
export let numberNegative: bool = false;
export let numberIntegral: bool = false; //      no fraction and no exponent
export let numberDigitsStart: usize = 0; //     integer-part digits, sign excluded
export let numberDigitsEnd: usize = 0;

/**
 * Scans the number literal at `p` against the RFC 8259 §6 grammar
 * `-? (0 | [1-9][0-9]*) (\.[0-9]+)? ([eE][+-]?[0-9]+)?`. Returns false (after recording
 * INVALID_JSON) if it does not match; otherwise sets the number* globals above.
 */
export function scanNumber(p: usize, end: usize): bool {
  const start = p;
  const negative = load<u8>(p) == 0x2d;
  if (negative) p++;
  if (p >= end) return fail(STATUS_INVALID_JSON, start) != 0;
  const digitsStart = p;
  const c = <u32>load<u8>(p);
  if (c == 0x30) {
    p++;
    if (p < end && <u32>load<u8>(p) - 0x30 < 10) return fail(STATUS_INVALID_JSON, start) != 0; // leading zero
  } else if (c - 0x31 < 9) {
    p++;
    while (p < end && <u32>load<u8>(p) - 0x30 < 10) p++;
  } else {
    return fail(STATUS_INVALID_JSON, start) != 0;
  }
  const digitsEnd = p;
  let integral = true;
  if (p < end && load<u8>(p) == 0x2e) {
    p++;
    const fractionStart = p;
    while (p < end && <u32>load<u8>(p) - 0x30 < 10) p++;
    if (p == fractionStart) return fail(STATUS_INVALID_JSON, start) != 0;
    integral = false;
  }
  if (p < end && (load<u8>(p) | 0x20) == 0x65) {
    p++;
    if (p < end && (load<u8>(p) == 0x2b || load<u8>(p) == 0x2d)) p++;
    const exponentStart = p;
    while (p < end && <u32>load<u8>(p) - 0x30 < 10) p++;
    if (p == exponentStart) return fail(STATUS_INVALID_JSON, start) != 0;
    integral = false;
  }
  numberInputEnd = p;
  numberNegative = negative;
  numberIntegral = integral;
  numberDigitsStart = digitsStart;
  numberDigitsEnd = digitsEnd;
  return true;
}

/**
 * Writes the canonical form of the number literal at `p` (see the file comment). Returns the
 * output end or 0; `numberInputEnd` is the input position after the literal.
 */
function transcodeNumber(p: usize, end: usize, o: usize): usize {
  if (!scanNumber(p, end)) return 0;
  const length = numberInputEnd - p;
  if (numberIntegral) {
    const digits = numberDigitsEnd - numberDigitsStart;
    if (fitsInteger(numberDigitsStart, digits, numberNegative)) {
      if (numberNegative && digits == 1 && load<u8>(numberDigitsStart) == 0x30) {
        // -0 → 0 (RFC 8785 §3.2.2.3 via ECMAScript: String(-0) is "0")
        if (!room(o, 1)) return fail(STATUS_TOO_LARGE, p);
        store<u8>(o, 0x30);
        return o + 1;
      }
      if (!room(o, length)) return fail(STATUS_TOO_LARGE, p);
      copyBytes(o, p, length);
      return o + length;
    }
  }
  const value = parseDouble(p, length);
  if (!isFinite(value)) return fail(STATUS_NUMBER_OUT_OF_RANGE, p);
  if (room(o, MAX_DOUBLE_TEXT)) return o + writeDouble(value, o);
  // Near the end of the output budget: format aside and check the exact length.
  const n = writeDouble(value, DOUBLE_SCRATCH);
  if (!room(o, n)) return fail(STATUS_TOO_LARGE, p);
  copyBytes(o, DOUBLE_SCRATCH, n);
  return o + n;
}

/** Longest text writeDouble produces (e.g. -1.2345678901234567e-308 is 24 bytes). */
const MAX_DOUBLE_TEXT: usize = 25;
const DOUBLE_SCRATCH: usize = memory.data(32, 16);

/** True if the decimal digits (no sign, no leading zeros) fit u64, or i64 when negative. */
export function fitsInteger(digits: usize, count: usize, negative: bool): bool {
  const limit = negative ? I64_MIN_MAGNITUDE_DIGITS : U64_MAX_DIGITS;
  const limitCount: usize = negative ? 19 : 20;
  if (count < limitCount) return true;
  if (count > limitCount) return false;
  // Same length: compare digit strings lexicographically.
  for (let i: usize = 0; i < count; i++) {
    const a = load<u8>(digits + i);
    const b = load<u8>(limit + i);
    if (a != b) return a < b;
  }
  return true;
}

/** Offset of the last failure from the input start. */
export function errorOffset(errorAddress: usize): usize {
  return errorAddress >= inputBase ? errorAddress - inputBase : 0;
}
