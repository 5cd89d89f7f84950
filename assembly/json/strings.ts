// JSON string transcoding: RFC 8259 §7 string literal in, RFC 8785 §3.2.2.2 canonical form out.
//
// Canonical escaping (RFC 8785 §3.2.2.2): only `"` and `\` and U+0000–U+001F are escaped;
// U+0008, U+0009, U+000A, U+000C and U+000D use their two-character forms (\b \t \n \f \r),
// the other controls use \u00xx with lowercase hex. Everything else, including U+007F–U+009F,
// U+2028/U+2029, and characters that arrived as \u escapes, is written as raw UTF-8.
//
// The compatibility switch `escapeDelAndC1` additionally escapes U+007F–U+009F as \u007f…\u009f,
// which is what older chio Rust kernels emit (they use `char::is_control`, Unicode category Cc;
// chio vector corpus a1486dbd pins that behaviour, 483bf3f1 the RFC one).
//
// Used by both the generic transcoder and the envelope verifier, so both produce byte-identical
// canonical strings.
import {
  STATUS_INVALID_JSON,
  STATUS_INVALID_UTF8,
  STATUS_LONE_SURROGATE,
  STATUS_TOO_LARGE,
  fail,
  room,
} from "./status";
import { utf8SequenceLength, writeUtf8 } from "./utf8";

const QUOTE: u32 = 0x22;
const BACKSLASH: u32 = 0x5c;
const DEL: u32 = 0x7f;

// SWAR constants: one byte lane per 8 bits of a u64 (Hacker's Delight §6-1 "find a zero byte").
const LANES_01: u64 = 0x0101010101010101;
const LANES_20: u64 = 0x2020202020202020;
const LANES_22: u64 = 0x2222222222222222;
const LANES_5C: u64 = 0x5c5c5c5c5c5c5c5c;
const LANES_7F: u64 = 0x7f7f7f7f7f7f7f7f;
const LANES_80: u64 = 0x8080808080808080;

/** Nonzero iff some byte lane of `v` is below `n` (n ≤ 0x80, `n` replicated in every lane). */
// @ts-ignore: decorator
@inline
function anyLaneBelow(v: u64, lanesN: u64): u64 {
  return (v - lanesN) & ~v & LANES_80;
}

/** Nonzero iff some byte lane of `v` is zero. */
// @ts-ignore: decorator
@inline
function anyLaneZero(v: u64): u64 {
  return (v - LANES_01) & ~v & LANES_80;
}

/** True if byte `c` is copied through unchanged (printable ASCII other than `"` and `\`). */
// @ts-ignore: decorator
@inline
function isPlainByte(c: u32, escapeDel: bool): bool {
  return c - 0x20 < 0x60 && c != QUOTE && c != BACKSLASH && !(escapeDel && c == DEL);
}

/** Input position just after the closing quote of the last string transcoded. */
export let stringInputEnd: usize = 0;
/** True if the last canonical string contains at least one escape sequence (so its bytes differ from the value). */
export let stringHasEscapes: bool = false;

const HEX_LOWER: usize = memory.data<u8>([
  0x30, 0x31, 0x32, 0x33, 0x34, 0x35, 0x36, 0x37, 0x38, 0x39, 0x61, 0x62, 0x63, 0x64, 0x65, 0x66,
]);

/**
 * Transcodes the JSON string literal whose opening quote is at `p` (input ends at `end`) into its
 * canonical form at `out`, quotes included. Returns the output end, or 0 after recording an
 * error (INVALID_JSON, INVALID_UTF8, LONE_SURROGATE, TOO_LARGE). On success `stringInputEnd` is
 * the input position after the closing quote.
 */
export function transcodeString(p: usize, end: usize, out: usize, escapeDelAndC1: bool): usize {
  const start = p;
  if (!room(out, 1)) return fail(STATUS_TOO_LARGE, start);
  store<u8>(out, <u8>QUOTE);
  let o = out + 1;
  let q = p + 1;
  let escaped = false;
  const delLanes: u64 = escapeDelAndC1 ? LANES_7F : 0;
  while (true) {
    // Fast path: copy 8 plain bytes at a time while no lane needs attention.
    while (q + 8 <= end) {
      const v = load<u64>(q);
      let special = anyLaneBelow(v, LANES_20) | anyLaneZero(v ^ LANES_22) | anyLaneZero(v ^ LANES_5C) | (v & LANES_80);
      if (escapeDelAndC1) special |= anyLaneZero(v ^ delLanes);
      if (special != 0) break;
      if (!room(o, 8)) return fail(STATUS_TOO_LARGE, q);
      store<u64>(o, v);
      o += 8;
      q += 8;
    }
    // Slow path: plain bytes one at a time. A chunk that stopped the fast path holds a byte that
    // needs attention (the SWAR tests have no false negatives), so this runs at most 8 times.
    if (!room(o, 8)) return fail(STATUS_TOO_LARGE, q);
    const limit = min<usize>(q + 8, end);
    let c: u32 = 0;
    while (q < limit) {
      c = load<u8>(q);
      if (!isPlainByte(c, escapeDelAndC1)) break;
      store<u8>(o, <u8>c);
      o++;
      q++;
    }
    if (q >= end) return fail(STATUS_INVALID_JSON, start); // unterminated string
    if (q == limit) continue;
    if (!room(o, 12)) return fail(STATUS_TOO_LARGE, q);
    if (c == QUOTE) {
      store<u8>(o, <u8>QUOTE);
      stringInputEnd = q + 1;
      stringHasEscapes = escaped;
      return o + 1;
    }
    if (c == BACKSLASH) {
      if (q + 1 >= end) return fail(STATUS_INVALID_JSON, q);
      const e = <u32>load<u8>(q + 1);
      if (e == 0x75) {
        // \uXXXX, possibly the high half of a surrogate pair (RFC 8259 §7).
        const unit = readHex4(q + 2, end);
        if (unit < 0) return fail(STATUS_INVALID_JSON, q);
        let cp = <u32>unit;
        const escapeStart = q;
        q += 6;
        if (cp - 0xd800 < 0x800) {
          if (cp >= 0xdc00) return fail(STATUS_LONE_SURROGATE, escapeStart);
          if (q + 1 >= end || load<u8>(q) != BACKSLASH || load<u8>(q + 1) != 0x75) {
            return fail(STATUS_LONE_SURROGATE, escapeStart);
          }
          const low = readHex4(q + 2, end);
          if (low < 0) return fail(STATUS_INVALID_JSON, q);
          if (<u32>low - 0xdc00 >= 0x400) return fail(STATUS_LONE_SURROGATE, escapeStart);
          cp = 0x10000 + ((cp - 0xd800) << 10) + (<u32>low - 0xdc00);
          q += 6;
        }
        const w = writeCodePoint(cp, o, escapeDelAndC1);
        if (cp < 0x20 || cp == QUOTE || cp == BACKSLASH || (escapeDelAndC1 && cp - DEL <= 0x9f - DEL)) escaped = true;
        o += w;
        continue;
      }
      let short: u32 = 0;
      if (e == QUOTE || e == BACKSLASH) short = e;
      else if (e == 0x62) short = 0x62; // \b
      else if (e == 0x66) short = 0x66; // \f
      else if (e == 0x6e) short = 0x6e; // \n
      else if (e == 0x72) short = 0x72; // \r
      else if (e == 0x74) short = 0x74; // \t
      else if (e == 0x2f) {
        store<u8>(o, 0x2f); // "\/" is just "/" (RFC 8259 §7), never escaped canonically
        o++;
        q += 2;
        continue;
      } else return fail(STATUS_INVALID_JSON, q);
      store<u8>(o, <u8>BACKSLASH);
      store<u8>(o + 1, <u8>short);
      o += 2;
      q += 2;
      escaped = true;
      continue;
    }
    if (c < 0x20) return fail(STATUS_INVALID_JSON, q); // raw control characters are not allowed in strings
    if (c == DEL) {
      // Only reached with escapeDelAndC1 (otherwise DEL is a plain byte).
      o += writeUnicodeEscape(c, o);
      q++;
      escaped = true;
      continue;
    }
    // c >= 0x80: a run of well-formed UTF-8 sequences, copied raw (C1 escaped in compatibility
    // mode). Handled in this inner loop so non-ASCII text does not bounce through the fast path
    // once per character.
    while (true) {
      const n = utf8SequenceLength(q, end);
      if (n == 0) return fail(STATUS_INVALID_UTF8, q);
      if (n == 2) {
        if (escapeDelAndC1 && c == 0xc2 && load<u8>(q + 1) < 0xa0) {
          o += writeUnicodeEscape(<u32>load<u8>(q + 1), o); // U+0080–U+009F: second byte equals the code point
          escaped = true;
        } else {
          store<u16>(o, load<u16>(q));
          o += 2;
        }
      } else if (n == 3) {
        store<u16>(o, load<u16>(q));
        store<u8>(o + 2, load<u8>(q + 2));
        o += 3;
      } else {
        store<u32>(o, load<u32>(q));
        o += 4;
      }
      q += n;
      if (q >= end) break;
      c = load<u8>(q);
      if (c < 0x80) break;
      if (!room(o, 6)) return fail(STATUS_TOO_LARGE, q);
    }
  }
  return 0; // unreachable: the loop exits only through returns
}

/** Value of the four hex digits at `p` (any case), or -1 if they are missing or not hex. */
function readHex4(p: usize, end: usize): i32 {
  if (p + 4 > end) return -1;
  let value: i32 = 0;
  for (let i: usize = 0; i < 4; i++) {
    const d = hexValue(<u32>load<u8>(p + i));
    if (d < 0) return -1;
    value = (value << 4) | d;
  }
  return value;
}

// @ts-ignore: decorator
@inline
export function hexValue(c: u32): i32 {
  if (c - 0x30 < 10) return <i32>(c - 0x30);
  const lower = c | 0x20;
  if (lower - 0x61 < 6) return <i32>(lower - 0x61 + 10);
  return -1;
}

/** Writes the canonical form of scalar value `cp` at `o` (≤ 6 bytes); returns the byte count. */
function writeCodePoint(cp: u32, o: usize, escapeDelAndC1: bool): usize {
  if (cp < 0x20) {
    let short: u32 = 0;
    if (cp == 0x08) short = 0x62;
    else if (cp == 0x09) short = 0x74;
    else if (cp == 0x0a) short = 0x6e;
    else if (cp == 0x0c) short = 0x66;
    else if (cp == 0x0d) short = 0x72;
    if (short != 0) {
      store<u8>(o, <u8>BACKSLASH);
      store<u8>(o + 1, <u8>short);
      return 2;
    }
    return writeUnicodeEscape(cp, o);
  }
  if (cp == QUOTE || cp == BACKSLASH) {
    store<u8>(o, <u8>BACKSLASH);
    store<u8>(o + 1, <u8>cp);
    return 2;
  }
  if (escapeDelAndC1 && cp - DEL <= 0x9f - DEL) return writeUnicodeEscape(cp, o);
  return writeUtf8(cp, o);
}

/** Writes `\u00xx` (lowercase hex) for `cp` < 0x100 at `o`; returns 6. */
function writeUnicodeEscape(cp: u32, o: usize): usize {
  store<u8>(o, <u8>BACKSLASH);
  store<u8>(o + 1, 0x75);
  store<u8>(o + 2, 0x30);
  store<u8>(o + 3, 0x30);
  store<u8>(o + 4, load<u8>(HEX_LOWER + (cp >> 4)));
  store<u8>(o + 5, load<u8>(HEX_LOWER + (cp & 15)));
  return 6;
}

/**
 * Decodes the content of a canonical string (between its quotes, as written by transcodeString)
 * back to the raw UTF-8 of its value at `dst`; returns the byte count. Only the escapes that
 * canonical form can contain occur here: \" \\ \b \f \n \r \t and \u00xx.
 */
export function unescapeCanonical(src: usize, len: usize, dst: usize): usize {
  let i: usize = 0;
  let o = dst;
  while (i < len) {
    const c = <u32>load<u8>(src + i);
    if (c != BACKSLASH) {
      store<u8>(o, <u8>c);
      o++;
      i++;
      continue;
    }
    const e = <u32>load<u8>(src + i + 1);
    if (e == 0x75) {
      const cp = ((<u32>hexValue(<u32>load<u8>(src + i + 4))) << 4) | <u32>hexValue(<u32>load<u8>(src + i + 5));
      o += writeUtf8(cp, o);
      i += 6;
      continue;
    }
    let raw: u32 = e; // \" and \\ stand for themselves
    if (e == 0x62) raw = 0x08;
    else if (e == 0x66) raw = 0x0c;
    else if (e == 0x6e) raw = 0x0a;
    else if (e == 0x72) raw = 0x0d;
    else if (e == 0x74) raw = 0x09;
    store<u8>(o, <u8>raw);
    o++;
    i += 2;
  }
  return o - dst;
}

/** First position at or after `p` that is not JSON whitespace (RFC 8259 §2: space, tab, LF, CR). */
// @ts-ignore: decorator
@inline
export function skipWhitespace(p: usize, end: usize): usize {
  while (p < end) {
    const c = <u32>load<u8>(p);
    if (c != 0x20 && c != 0x0a && c != 0x0d && c != 0x09) break;
    p++;
  }
  return p;
}
