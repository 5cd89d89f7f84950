// Linear-memory layout shared by every export.
//
// The module runs under AssemblyScript's stub runtime and never allocates: all state lives
// either in static scratch blocks reserved with `memory.data` (each module file owns its own)
// or in the I/O arena, which starts at the first 16-byte boundary after `__heap_base` and
// grows on demand. JS writes variable-length input (messages, JSON text) at `ioBase()` and
// reads variable-length output from offsets that the export reports.
//
// Small fixed-size arguments (keys, signatures, seeds, digests) go through the ARGS block,
// whose offsets are part of the JS <-> wasm ABI (assembly/abi.ts, generated into src/wasm/abi.ts).
import { ARGS_BYTES, ADDRESS_CEILING as CEILING } from "./abi";

export { ARG_PUBLIC_KEY, ARG_SIGNATURE, ARG_SECRET, ARG_DIGEST, ARG_RESULT } from "./abi";

/** 512-byte block for fixed-size arguments and results. */
export const ARGS: usize = memory.data(<i32>ARGS_BYTES, 16);

const PAGE: usize = 65536;

/** Highest address any region may reach; keeps every `address + length` sum inside u32 (assembly/abi.ts). */
export const ADDRESS_CEILING: u64 = <u64>CEILING;

/** Bytes reserved for the prepared-public-key slab (assembly/ed25519/prepared-public.ts) between static data and the I/O arena. */
let slabReserved: usize = 0;

/** Start of the prepared-key slab (16-byte aligned, just past static data). */
// @ts-ignore: decorator
@inline
export function slabBase(): usize {
  return (__heap_base + 15) & ~(<usize>15);
}

/**
 * Moves the I/O arena so that `bytes` (a multiple of 16) bytes from slabBase() belong to the
 * prepared-key slab, growing memory to cover them. Returns false (nothing changed) if memory
 * cannot grow. Only between calls: JS re-reads io_base() afterwards (src/wasm/instance.ts).
 */
export function reserveSlab(bytes: usize): bool {
  const end = slabBase() + bytes;
  const have = (<usize>memory.size()) * PAGE;
  if (end > have && memory.grow(<i32>((end - have + PAGE - 1) / PAGE)) < 0) return false;
  slabReserved = bytes;
  return true;
}

/** Start of the I/O arena (16-byte aligned, just past static data and the prepared-key slab). */
// @ts-ignore: decorator
@inline
export function ioBase(): usize {
  return slabBase() + slabReserved;
}

/**
 * true if the `bytes` bytes from ioBase() lie inside linear memory as it is now: where an export
 * is told JS wrote its input (a length beyond memory is a bad layout, never wrapped around).
 */
export function ioHolds(bytes: usize): bool {
  return <u64>ioBase() + <u64>bytes <= (<u64>memory.size()) * <u64>PAGE;
}

/** Makes sure `bytes` bytes are addressable from ioBase(). Returns false if memory cannot grow. */
export function ensureIoCapacity(bytes: usize): bool {
  const end = ioBase() + bytes;
  const have = (<usize>memory.size()) * PAGE;
  if (end <= have) return true;
  const pages = <i32>((end - have + PAGE - 1) / PAGE);
  return memory.grow(pages) >= 0;
}
