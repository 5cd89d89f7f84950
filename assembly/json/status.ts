// Status codes shared by the JSON transcoder and the envelope verifier, the error state they
// leave behind, and the "room" bookkeeping that bounds every write into the I/O arena.
//
// Nothing here allocates: the error state and the writable end are plain wasm globals, and
// the arena grows with memory.grow (see assembly/memory.ts for the layout).

// ---- Status codes returned by the exports: declared in assembly/abi.ts (the JS <-> wasm ABI) ----

import { STATUS_OK } from "../abi";
import { ADDRESS_CEILING } from "../memory";
export {
  STATUS_OK,
  STATUS_INVALID_JSON,
  STATUS_TRAILING_DATA,
  STATUS_INVALID_UTF8,
  STATUS_LONE_SURROGATE,
  STATUS_DUPLICATE_KEY,
  STATUS_TOO_DEEP,
  STATUS_TOO_LARGE,
  STATUS_NUMBER_OUT_OF_RANGE,
} from "../abi";

// ---- Error state: the first failure wins, callers return immediately after recording it ----

/** Status of the last failure (STATUS_OK while none). */
export let errorStatus: i32 = STATUS_OK;
/** Absolute address in the input where the last failure was detected. */
export let errorAt: usize = 0;

/** Records a failure and returns 0, so callers can write `return fail(...)` from address-returning code. */
export function fail(status: i32, at: usize): usize {
  errorStatus = status;
  errorAt = at;
  return 0;
}

export function resetError(): void {
  errorStatus = STATUS_OK;
  errorAt = 0;
}

// ---- Room: the writable end of the current output region ----
//
// `roomLimit` is the hard end the caller allows (its output budget); `roomEnd` caches
// min(roomLimit, end of linear memory) so the hot paths do one compare per write.

const PAGE_BITS: u64 = 16;
export { ADDRESS_CEILING } from "../memory";

let roomEnd: usize = 0;
let roomLimit: usize = 0;

/** Sets the output budget: writes may go up to (but not past) `limit`. */
export function setRoomLimit(limit: usize): void {
  roomLimit = limit;
  const memEnd = memoryEnd();
  roomEnd = <usize>min<u64>(<u64>limit, memEnd);
}

// @ts-ignore: decorator
@inline
function memoryEnd(): u64 {
  return (<u64>memory.size()) << PAGE_BITS;
}

/** True if `n` bytes may be written at `at` (growing memory if needed, within the budget). */
// @ts-ignore: decorator
@inline
export function room(at: usize, n: usize): bool {
  return <u64>at + <u64>n <= <u64>roomEnd || growRoom(<u64>at + <u64>n);
}

function growRoom(end: u64): bool {
  if (end > <u64>roomLimit) return false;
  if (!ensureAddressable(end)) return false;
  roomEnd = <usize>min<u64>(<u64>roomLimit, memoryEnd());
  return true;
}

/**
 * Grows linear memory so that addresses below `end` exist. Grows by at least half the current
 * size to keep the number of grow operations logarithmic; falls back to the exact need when the
 * engine refuses the larger request. Returns false when memory cannot grow that far.
 */
export function ensureAddressable(end: u64): bool {
  const have = memoryEnd();
  if (end <= have) return true;
  if (end > ADDRESS_CEILING) return false;
  const exactPages = <i32>((end - have + 0xffff) >> PAGE_BITS);
  const roomyPages = max<i32>(exactPages, <i32>(have >> (PAGE_BITS + 1)));
  if (memory.grow(roomyPages) >= 0) return true;
  return memory.grow(exactPages) >= 0;
}

/** Rounds an address up to the next 16-byte boundary. */
// @ts-ignore: decorator
@inline
export function align16(address: u64): u64 {
  return (address + 15) & ~(<u64>15);
}
