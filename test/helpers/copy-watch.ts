// Finds the copies a call makes of a secret: every copy of bytes in src/ goes through
// src/bytes.ts copyInto, so while the watch is on, each array that receives one is recorded
// (through its internal observer: the glue calls %TypedArray%.prototype.set as captured at load,
// so replacing the prototype's `set` no longer sees them), and a test looks for the secret in
// them after the call.
//
// Not a suite: uvu imports every file under test/, this one included; it registers no tests.
import { observeCopies } from "../../src/bytes.js";

/** Records every typed array copyInto writes into, and each it copies from, until stop() (call it in a finally). */
export function watchCopies(): { targets: ArrayBufferView[]; sources: Uint8Array[]; stop: () => void } {
  const targets: ArrayBufferView[] = [];
  const sources: Uint8Array[] = [];
  observeCopies((target, source) => {
    targets.push(target);
    sources.push(source);
  });
  return { targets, sources, stop: () => observeCopies(undefined) };
}

/** How many of the targets (each counted once) still hold `secret` anywhere in their bytes. */
export function holding(targets: ArrayBufferView[], secret: Uint8Array): number {
  return [...new Set(targets)].filter((view) => view.byteLength > 0 && Buffer.from(view.buffer, view.byteOffset, view.byteLength).indexOf(secret) >= 0).length;
}
