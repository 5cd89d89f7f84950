// Sizing the prepared-key slab by its slot count, for tests that need exactly a few slots.
import { ed25519 } from "../../src/ed25519.js";

/**
 * Configures the smallest prepared-key slab, from 30,000 bytes up in 4 KiB steps, that has at least
 * `wanted` slots, and returns its slot count (callers assert it is exactly `wanted`).
 */
export function slabWithSlots(wanted: number): number {
  let slots = 0;
  for (let bytes = 30_000; slots < wanted; bytes += 4096) slots = ed25519.configurePreparedKeys({ maxBytes: bytes }).slots;
  return slots;
}
