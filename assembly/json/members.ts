// Object members: the per-member record, RFC 8785 key order, and an O(n log n) stable sort.
//
// RFC 8785 §3.2.3 orders member names by their UTF-16 code units. The keys we compare are the
// raw UTF-8 bytes of the unescaped names. UTF-8 byte order equals code point order, which equals
// UTF-16 order except for one case: a BMP character in U+E000–U+FFFF (UTF-16 unit ≥ 0xE000)
// sorts AFTER any supplementary character (which UTF-16 encodes with a high surrogate
// 0xD800–0xDBFF), while by code point it sorts before. Since the first byte that differs
// between two valid UTF-8 strings with an equal prefix sits at the same offset inside the
// character in both, that case shows up exactly as lead bytes EE/EF against F0–F4, and
// lifting EE/EF above F4 fixes the order.

/** Bytes per member record. */
export const RECORD_SIZE: usize = 20;
export const REC_KEY_PTR: usize = 0; //    u32: address of the unescaped key bytes
export const REC_KEY_LEN: usize = 4; //    u32: their length
export const REC_OUT_START: usize = 8; //  u32: output address of the member ("key":value), quote included
export const REC_OUT_END: usize = 12; //   u32: output address just after the member's value
export const REC_INPUT_AT: usize = 16; //  u32: input address of the key's opening quote (for errors)

// @ts-ignore: decorator
@inline
function utf16Rank(b: u32): u32 {
  // Lead bytes of U+E000–U+FFFF move above the 4-byte leads F0–F4 (see the file comment).
  return b == 0xee || b == 0xef ? b + 0x10 : b;
}

/** Compares two UTF-8 keys in UTF-16 code unit order: negative, zero or positive. */
export function compareKeys(a: usize, aLen: usize, b: usize, bLen: usize): i32 {
  const n = min<usize>(aLen, bLen);
  let i: usize = 0;
  while (i + 8 <= n && load<u64>(a + i) == load<u64>(b + i)) i += 8;
  while (i < n) {
    const x = <u32>load<u8>(a + i);
    const y = <u32>load<u8>(b + i);
    if (x != y) return utf16Rank(x) < utf16Rank(y) ? -1 : 1;
    i++;
  }
  return aLen < bLen ? -1 : aLen > bLen ? 1 : 0;
}

// @ts-ignore: decorator
@inline
function compareRecords(ra: usize, rb: usize): i32 {
  return compareKeys(
    load<u32>(ra + REC_KEY_PTR),
    load<u32>(ra + REC_KEY_LEN),
    load<u32>(rb + REC_KEY_PTR),
    load<u32>(rb + REC_KEY_LEN),
  );
}

/** Set by orderMembers when two members have the same name: the record seen later in the input. */
export let duplicateRecord: usize = 0;

/**
 * Puts the `count` records at `records` into canonical order. Returns 0 if the input order is
 * already canonical (nothing to move), otherwise the address of an array of `count` u32 record
 * addresses in canonical order, written at `scratch` (which must have room for 8 × count bytes).
 * If two names are equal, sets `duplicateRecord` and returns 0 with it nonzero.
 */
export function orderMembers(records: usize, count: usize, scratch: usize): usize {
  duplicateRecord = 0;
  // Already ordered (the common case for canonical or machine-written JSON): one linear pass.
  let ordered = true;
  for (let i: usize = 1; i < count; i++) {
    const prev = records + (i - 1) * RECORD_SIZE;
    const cur = prev + RECORD_SIZE;
    const c = compareRecords(prev, cur);
    if (c == 0) {
      duplicateRecord = cur;
      return 0;
    }
    if (c > 0) {
      ordered = false;
      break;
    }
  }
  if (ordered) return 0;

  const index = scratch;
  const spare = scratch + (count << 2);
  for (let i: usize = 0; i < count; i++) store<u32>(index + (i << 2), <u32>(records + i * RECORD_SIZE));
  const sorted = mergeSort(index, spare, count);
  // Adjacent equal names after sorting are duplicates; report the one that came later in the input.
  for (let i: usize = 1; i < count; i++) {
    const a = <usize>load<u32>(sorted + ((i - 1) << 2));
    const b = <usize>load<u32>(sorted + (i << 2));
    if (compareRecords(a, b) == 0) {
      duplicateRecord = a > b ? a : b;
      return 0;
    }
  }
  return sorted;
}

const RUN: usize = 12;

/**
 * Stable bottom-up merge sort of `count` u32 record addresses: insertion-sorted runs of RUN,
 * then log2(count / RUN) merge passes alternating between `a` and `b`. Returns whichever of
 * the two buffers holds the result. O(n log n) comparisons in the worst case.
 */
function mergeSort(a: usize, b: usize, count: usize): usize {
  for (let lo: usize = 0; lo < count; lo += RUN) {
    const hi = min<usize>(lo + RUN, count);
    for (let i = lo + 1; i < hi; i++) {
      const r = load<u32>(a + (i << 2));
      let j = i;
      while (j > lo) {
        const left = load<u32>(a + ((j - 1) << 2));
        if (compareRecords(left, r) <= 0) break;
        store<u32>(a + (j << 2), left);
        j--;
      }
      store<u32>(a + (j << 2), r);
    }
  }
  let src = a;
  let dst = b;
  for (let width = RUN; width < count; width <<= 1) {
    for (let lo: usize = 0; lo < count; lo += width << 1) {
      const mid = min<usize>(lo + width, count);
      const hi = min<usize>(lo + (width << 1), count);
      let i = lo;
      let j = mid;
      let k = lo;
      while (i < mid && j < hi) {
        const x = load<u32>(src + (i << 2));
        const y = load<u32>(src + (j << 2));
        if (compareRecords(y, x) < 0) {
          store<u32>(dst + (k << 2), y);
          j++;
        } else {
          store<u32>(dst + (k << 2), x);
          i++;
        }
        k++;
      }
      if (i < mid) memory.copy(dst + (k << 2), src + (i << 2), (mid - i) << 2);
      else if (j < hi) memory.copy(dst + (k << 2), src + (j << 2), (hi - j) << 2);
    }
    const t = src;
    src = dst;
    dst = t;
  }
  return src;
}
