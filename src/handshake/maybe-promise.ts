// Values that may be promises: the store ports answer with a value or a promise of it
// (docs/protocol.md §8), and caller-supplied functions that must answer synchronously (a clock,
// a signer) may hand back a promise anyway.

/** True for anything with a callable `then` (a promise or a thenable). A `then` getter that throws propagates. */
export function isPromiseLike(value: unknown): value is PromiseLike<unknown> {
  return value !== null && (typeof value === "object" || typeof value === "function") && typeof (value as PromiseLike<unknown>).then === "function";
}

/**
 * Gives a promise that is about to be refused or dropped a rejection handler, so its rejection
 * does not end the process as an unhandled one after the caller already has a typed error (or,
 * for an event handler, after the handshake is decided). Returns whether `value` was a thenable.
 * Never throws; anything else is left alone.
 */
export function absorbRejection(value: unknown): boolean {
  try {
    if (!isPromiseLike(value)) return false;
    value.then(undefined, () => undefined);
    return true;
  } catch {
    return false; // a hostile thenable: nothing to absorb
  }
}
