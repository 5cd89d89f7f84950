// Linear-memory layout shared by every export.
//
// The module runs under AssemblyScript's stub runtime and never allocates: all state lives
// either in static scratch blocks reserved with `memory.data` (each module file owns its own)
// or in the I/O arena, which starts at the first 16-byte boundary after `__heap_base` and
// grows on demand. JS writes variable-length input (messages, JSON text) at `ioBase()` and
// reads variable-length output from offsets that the export reports.
//
// Small fixed-size arguments (keys, signatures, seeds, digests) go through the ARGS block,
// whose offsets below are part of the JS <-> wasm ABI (see src/wasm/abi.ts).

/** 512-byte block for fixed-size arguments and results. */
export const ARGS: usize = memory.data(512, 16);

export const ARG_PUBLIC_KEY: usize = 0; //   32 bytes: public key A (in), or derived key (out)
export const ARG_SIGNATURE: usize = 32; //  64 bytes: R || S (in for verify, out for sign)
export const ARG_SECRET: usize = 96; //     32 bytes: RFC 8032 secret seed (wiped after use)
export const ARG_DIGEST: usize = 128; //    64 bytes: SHA-512 output
export const ARG_RESULT: usize = 192; //   320 bytes: per-export structured results

const PAGE: usize = 65536;

/** Start of the I/O arena (16-byte aligned, just past static data). */
// @ts-ignore: decorator
@inline
export function ioBase(): usize {
  return (__heap_base + 15) & ~(<usize>15);
}

/** Makes sure `bytes` bytes are addressable from ioBase(). Returns false if memory cannot grow. */
export function ensureIoCapacity(bytes: usize): bool {
  const end = ioBase() + bytes;
  const have = (<usize>memory.size()) * PAGE;
  if (end <= have) return true;
  const pages = <i32>((end - have + PAGE - 1) / PAGE);
  return memory.grow(pages) >= 0;
}
