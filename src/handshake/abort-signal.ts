// The `signal` option of an accept (AcceptOptions.signal in exchange.ts): a transport abandons an
// accept whose answer can no longer reach its caller (its deadline passed, its connection closed),
// and from then on the accept sends no pin write (docs/protocol.md §6). Portable: AbortSignal is a
// web platform class that Node, Deno, Bun and browsers all have; this module reads it through the
// accessors it found at load, so a replaced `aborted` or `reason` getter on AbortSignal.prototype
// cannot tell an accept that its signal still stands (README "Hardening").
import { InvalidTypeError } from "../errors.js";
import { uncurryThis } from "../bytes.js";

const ABORT_SIGNAL_PROTOTYPE: object | undefined = typeof AbortSignal === "function" ? AbortSignal.prototype : undefined;
const getPrototypeOf = Object.getPrototypeOf;
const abortSignalGetter = (name: "aborted" | "reason") =>
  ABORT_SIGNAL_PROTOTYPE !== undefined ? Object.getOwnPropertyDescriptor(ABORT_SIGNAL_PROTOTYPE, name)?.get : undefined;
const readAborted = abortSignalGetter("aborted");
const readReason = abortSignalGetter("reason");
const signalAborted = readAborted && uncurryThis(readAborted as (this: AbortSignal) => boolean);
const signalReason = readReason && uncurryThis(readReason as (this: AbortSignal) => unknown);
const abortMethod = typeof AbortController === "function" ? AbortController.prototype.abort : undefined;

/**
 * `controller.abort(reason)` through AbortController's method as loaded: a transport that
 * abandons its accepts (src/http/server.ts) does not depend on a method caller code can replace.
 */
export const abortController: (controller: AbortController, reason: unknown) => void = abortMethod
  ? uncurryThis(abortMethod as (this: AbortController, reason: unknown) => void)
  : () => {
      throw new TypeError("this host has no AbortController");
    };

/**
 * `value` checked as an accept's signal: undefined, or an AbortSignal of this realm: its prototype
 * AbortSignal.prototype itself (not an object made from a signal, Object.create(signal), which
 * Node's accessors would read through), and AbortSignal's own `aborted` accessor (as loaded)
 * accepting it, which throws for any other object. So an object that only looks like a signal is
 * refused rather than trusted to say it was never aborted. As the pool's signalOption
 * (src/pool/abort.ts), but portable: a Proxy of a signal is not told apart here (node:util's
 * isProxy is Node's), and its traps, the caller's own code, answer for the caller's own accept.
 * @throws InvalidTypeError for anything else, or where the host has no AbortSignal.
 */
export function abortSignalOption(value: unknown): AbortSignal | undefined {
  if (value === undefined) return undefined;
  const refused = (cause?: unknown) => new InvalidTypeError("options.signal must be an AbortSignal", cause === undefined ? undefined : { cause });
  if (value === null || typeof value !== "object" || signalAborted === undefined) throw refused();
  if (getPrototypeOf(value) !== ABORT_SIGNAL_PROTOTYPE) throw refused();
  try {
    signalAborted(value as AbortSignal);
  } catch (cause) {
    throw refused(cause);
  }
  return value as AbortSignal;
}

/**
 * Throws the signal's reason if it has aborted (as AbortSignal#throwIfAborted does, through the
 * accessors loaded here). A signal whose state cannot be read (a Proxy's trap that throws, say)
 * counts as aborted, with what it threw as the reason: an accept fails closed.
 */
export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal === undefined) return;
  let reason: unknown;
  try {
    if (!signalAborted!(signal)) return;
    reason = signalReason!(signal);
  } catch (thrown) {
    reason = thrown;
  }
  // A signal always has a reason once aborted (abort() without one gives an AbortError).
  throw reason ?? new DOMException("This operation was aborted", "AbortError");
}
