// Cancelling a pool call: the `signal` member of its options (VerifierPool, README "Worker pool",
// "Cancelling"). A signal is recognised as an object whose prototype is AbortSignal.prototype,
// not a Proxy, that AbortSignal's own accessor (as this module loaded it) accepts; its state is
// read only while the call reads its options (AbortWatch.add), and its reason when it aborts. One pool listens to one signal once, however many of its
// calls carry it: Node's EventTarget checks a new listener against every listener already there,
// so a listener per call would make each call cost time in proportion to the calls in flight
// (review 48 measured that on piscina's per-task listeners: 40,000 calls, 21 s against 5.5 s).
import { types } from "node:util";
import { InvalidTypeError } from "../errors.js";
import { uncurryThis } from "../bytes.js";
import { VerifierPoolError, isEngineStackOverflow } from "./errors.js";

const ABORT_SIGNAL_PROTOTYPE = AbortSignal.prototype;
const getPrototypeOf = Object.getPrototypeOf;
const isProxy = types.isProxy;
const abortSignalGetter = (name: "aborted" | "reason") => Object.getOwnPropertyDescriptor(ABORT_SIGNAL_PROTOTYPE, name)!.get!;
const signalAborted = uncurryThis(abortSignalGetter("aborted") as (this: AbortSignal) => boolean);
const signalReason = uncurryThis(abortSignalGetter("reason") as (this: AbortSignal) => unknown);
const addListener = uncurryThis(EventTarget.prototype.addEventListener as (this: EventTarget, type: string, listener: () => void) => void);
const removeListener = uncurryThis(EventTarget.prototype.removeEventListener as (this: EventTarget, type: string, listener: () => void) => void);

/**
 * The `signal` option of a pool call, checked: undefined, or an AbortSignal of this realm. Node's
 * own accessors recognise a signal by a symbol-keyed member, which a Proxy of a signal, or an
 * object whose prototype is one, also answers (running the Proxy's traps, caller code, wherever
 * the pool reads the signal: after the argument checks too); so a Proxy, or any object whose
 * prototype is not AbortSignal.prototype, is refused first, neither check running caller code.
 * @throws InvalidTypeError for anything else.
 */
export function signalOption(value: unknown): AbortSignal | undefined {
  if (value === undefined) return undefined;
  const refused = (cause?: unknown) => new InvalidTypeError("options.signal must be an AbortSignal", cause === undefined ? undefined : { cause });
  if (value === null || typeof value !== "object" || isProxy(value) || getPrototypeOf(value) !== ABORT_SIGNAL_PROTOTYPE) throw refused();
  try {
    signalAborted(value as AbortSignal); // a brand check: the accessor throws on an object that is not a signal
  } catch (cause) {
    if (isEngineStackOverflow(cause)) throw cause; // the calling thread's stack, not a bad signal (hunt 17)
    throw refused(cause);
  }
  return value as AbortSignal;
}

/**
 * The error an aborted call rejects with: VerifierPoolError ABORTED, with the signal's reason as
 * its cause. Node keeps a signal's state in symbol-keyed members of the signal itself, which
 * caller code can redefine as accessors (review 95 F1), so reading the reason runs caller code
 * and may throw: then the error has no cause (it is made inside the abort listener, which must
 * not throw).
 */
function abortedError(signal: AbortSignal): VerifierPoolError {
  let cause: unknown;
  try {
    cause = signalReason(signal);
  } catch {
    return new VerifierPoolError("ABORTED", "the call was aborted by its signal (whose reason could not be read)");
  }
  return new VerifierPoolError("ABORTED", "the call was aborted by its signal", { cause });
}

/** One call that carries a signal: what its abort must do. */
export interface AbortableCall {
  /**
   * Set once, when the signal aborts while the call is pending (or is found aborted when the call
   * starts watching it); the call reads this field, never the signal, once its arguments are checked.
   */
  aborted: VerifierPoolError | undefined;
  /** Runs once, on abort: rejects the call's promise and drops its chunks still waiting for a worker. */
  onAbort(error: VerifierPoolError): void;
}

/**
 * The pool's listeners: one per signal that pending calls carry, removed when the last of those
 * calls settles, so a long-lived signal (a server's shutdown signal, say) passed to every call
 * keeps nothing of the calls that have settled.
 */
export class AbortWatch {
  private readonly bySignal = new Map<AbortSignal, { calls: Set<AbortableCall>; listener: () => void }>();

  /**
   * Starts watching `signal` for `call`, or, if it has already aborted, sets `call.aborted` now.
   * Called while the call reads its options, where caller code may run: reading the signal's
   * state can (F1 of review 95, in abortedError's comment), and from here on the call reads only
   * `call.aborted`, so no such code runs after its argument checks.
   * @throws InvalidTypeError if the signal's state cannot be read.
   */
  add(signal: AbortSignal, call: AbortableCall): void {
    let aborted: boolean;
    try {
      aborted = signalAborted(signal);
    } catch (cause) {
      if (isEngineStackOverflow(cause)) throw cause; // see addListener below (hunt 17)
      throw new InvalidTypeError("options.signal cannot be read", { cause });
    }
    if (aborted) {
      call.aborted = abortedError(signal);
      return;
    }
    let entry = this.bySignal.get(signal);
    if (entry === undefined) {
      const own: { calls: Set<AbortableCall>; listener: () => void } = {
        calls: new Set<AbortableCall>(),
        listener: (): void => {
          // Only its own entry: a listener whose removal threw (unlisten) may fire beside a newer one.
          if (this.bySignal.get(signal) === own) this.bySignal.delete(signal);
          this.unlisten(signal, own.listener);
          for (const pending of own.calls) {
            const error = abortedError(signal); // an error of its own for each call
            pending.aborted = error;
            pending.onAbort(error);
          }
          own.calls.clear();
        },
      };
      try {
        addListener(signal, "abort", own.listener);
      } catch (cause) {
        // A call made near the end of the calling thread's stack overflows in Node's EventTarget
        // code as easily as in caller code there: that is the engine's RangeError, thrown as the
        // in-thread API throws it, not a signal that "cannot be listened to" (hunt 17: a
        // near-limit call rejected INVALID_TYPE). isEngineStackOverflow runs no caller code.
        // addEventListener may have added the listener before it threw (an overflow or a throwing
        // member read after the add): removed, so no listener of a failed call stays on the signal
        // holding this pool (best effort: unlisten catches its own failure).
        this.unlisten(signal, own.listener);
        if (isEngineStackOverflow(cause)) throw cause;
        throw new InvalidTypeError("options.signal cannot be listened to", { cause });
      }
      // Adding a listener reads members of the signal that caller code can redefine too (review
      // 97), so caller code may have run just now: it may have made another call on this signal,
      // which stored an entry of its own, or aborted the signal before this listener was there.
      const other = this.bySignal.get(signal);
      if (other !== undefined) {
        this.unlisten(signal, own.listener);
        entry = other;
      } else {
        let abortedMeanwhile: boolean;
        try {
          abortedMeanwhile = signalAborted(signal);
        } catch (cause) {
          this.unlisten(signal, own.listener);
          if (isEngineStackOverflow(cause)) throw cause; // as above (hunt 17)
          throw new InvalidTypeError("options.signal cannot be read", { cause });
        }
        if (abortedMeanwhile) {
          this.unlisten(signal, own.listener);
          call.aborted = abortedError(signal);
          return;
        }
        entry = own;
        this.bySignal.set(signal, own);
      }
    }
    entry.calls.add(call);
    // Removing the spare listener (above) reads those members as well: if caller code aborted the
    // signal there, the entry's listener has fired and left the map without this call.
    if (this.bySignal.get(signal) !== entry) call.aborted = abortedError(signal);
  }

  /** Stops watching `signal` for `call` (it settled, or failed its checks); the listener goes with the signal's last call. */
  remove(signal: AbortSignal, call: AbortableCall): void {
    const entry = this.bySignal.get(signal);
    if (entry === undefined || !entry.calls.delete(call) || entry.calls.size > 0) return;
    this.bySignal.delete(signal);
    this.unlisten(signal, entry.listener);
  }

  /**
   * Removes the listener. It runs where nothing may throw (the abort listener, a call's
   * settlement), and removing can run caller code (the members of the signal that Node's
   * EventTarget reads): if that throws, the listener stays on the signal, finds no entry when the
   * signal aborts, and does nothing.
   */
  private unlisten(signal: AbortSignal, listener: () => void): void {
    try {
      removeListener(signal, "abort", listener);
    } catch {
      // see above
    }
  }
}
