// UTF-8 validation and encoding (RFC 3629) over raw linear memory.

/**
 * Length (2, 3 or 4) of the well-formed UTF-8 sequence whose lead byte (≥ 0x80) is at `p`, or 0
 * when it is malformed. Follows the RFC 3629 §4 table of well-formed byte sequences exactly, so
 * it rejects stray continuation bytes, overlong forms (C0, C1, E0 80–9F, F0 80–8F), UTF-16
 * surrogates encoded as UTF-8 (ED A0–BF), code points above U+10FFFF (F4 90+, F5–FF) and
 * sequences cut off by `end`.
 */
export function utf8SequenceLength(p: usize, end: usize): usize {
  const lead = <u32>load<u8>(p);
  if (lead < 0xc2) return 0; // continuation byte or overlong 2-byte lead
  if (lead < 0xe0) {
    if (p + 2 > end) return 0;
    return isContinuation(load<u8>(p + 1)) ? 2 : 0;
  }
  if (lead < 0xf0) {
    if (p + 3 > end) return 0;
    const b1 = <u32>load<u8>(p + 1);
    // Second byte range depends on the lead: E0 excludes overlongs, ED excludes surrogates.
    const lo: u32 = lead == 0xe0 ? 0xa0 : 0x80;
    const hi: u32 = lead == 0xed ? 0x9f : 0xbf;
    if (b1 < lo || b1 > hi) return 0;
    return isContinuation(load<u8>(p + 2)) ? 3 : 0;
  }
  if (lead < 0xf5) {
    if (p + 4 > end) return 0;
    const b1 = <u32>load<u8>(p + 1);
    // F0 excludes overlongs, F4 stops at U+10FFFF.
    const lo: u32 = lead == 0xf0 ? 0x90 : 0x80;
    const hi: u32 = lead == 0xf4 ? 0x8f : 0xbf;
    if (b1 < lo || b1 > hi) return 0;
    return isContinuation(load<u8>(p + 2)) && isContinuation(load<u8>(p + 3)) ? 4 : 0;
  }
  return 0;
}

// @ts-ignore: decorator
@inline
function isContinuation(b: u8): bool {
  return (b & 0xc0) == 0x80;
}

/** Writes `cp` (a Unicode scalar value: ≤ U+10FFFF, not a surrogate) as UTF-8 at `out`; returns the byte count. */
export function writeUtf8(cp: u32, out: usize): usize {
  if (cp < 0x80) {
    store<u8>(out, <u8>cp);
    return 1;
  }
  if (cp < 0x800) {
    store<u8>(out, <u8>(0xc0 | (cp >> 6)));
    store<u8>(out + 1, <u8>(0x80 | (cp & 0x3f)));
    return 2;
  }
  if (cp < 0x10000) {
    store<u8>(out, <u8>(0xe0 | (cp >> 12)));
    store<u8>(out + 1, <u8>(0x80 | ((cp >> 6) & 0x3f)));
    store<u8>(out + 2, <u8>(0x80 | (cp & 0x3f)));
    return 3;
  }
  store<u8>(out, <u8>(0xf0 | (cp >> 18)));
  store<u8>(out + 1, <u8>(0x80 | ((cp >> 12) & 0x3f)));
  store<u8>(out + 2, <u8>(0x80 | ((cp >> 6) & 0x3f)));
  store<u8>(out + 3, <u8>(0x80 | (cp & 0x3f)));
  return 4;
}
