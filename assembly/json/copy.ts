// Copying between non-overlapping spans of linear memory.
//
// V8 compiles `memory.copy` to a call into the runtime, which costs more than the copy itself for
// the short spans JSON is made of (numbers, keys, members); those are copied inline instead.

const INLINE_LIMIT: usize = 64;

/** Copies `n` bytes from `src` to `dst`; the spans must not overlap. */
// @ts-ignore: decorator
@inline
export function copyBytes(dst: usize, src: usize, n: usize): void {
  if (n > INLINE_LIMIT) {
    memory.copy(dst, src, n);
    return;
  }
  while (n >= 8) {
    store<u64>(dst, load<u64>(src));
    dst += 8;
    src += 8;
    n -= 8;
  }
  if (n >= 4) {
    store<u32>(dst, load<u32>(src));
    dst += 4;
    src += 4;
    n -= 4;
  }
  while (n > 0) {
    store<u8>(dst, load<u8>(src));
    dst++;
    src++;
    n--;
  }
}
