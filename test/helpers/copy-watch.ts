// Finds the copies a call makes of a secret: every copy of bytes in src/ goes through
// %TypedArray%.prototype.set (src/bytes.ts copyInto), so while the watch is on, each array that
// receives one is recorded, and a test looks for the secret in them after the call.
//
// Not a suite: uvu imports every file under test/, this one included; it registers no tests.

const typedArrayPrototype = Object.getPrototypeOf(Uint8Array.prototype) as { set: (this: ArrayBufferView, source: ArrayLike<number>, offset?: number) => void };

/** Records every typed array `set` writes into until stop() (call it in a finally). */
export function watchCopies(): { targets: ArrayBufferView[]; stop: () => void } {
  const targets: ArrayBufferView[] = [];
  const realSet = typedArrayPrototype.set;
  typedArrayPrototype.set = function (this: ArrayBufferView, source, offset) {
    targets.push(this);
    return realSet.call(this, source, offset);
  };
  return { targets, stop: () => void (typedArrayPrototype.set = realSet) };
}

/** How many of the targets (each counted once) still hold `secret` anywhere in their bytes. */
export function holding(targets: ArrayBufferView[], secret: Uint8Array): number {
  return [...new Set(targets)].filter((view) => view.byteLength > 0 && Buffer.from(view.buffer, view.byteOffset, view.byteLength).indexOf(secret) >= 0).length;
}
