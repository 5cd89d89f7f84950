// Built-ins the shared stores' adapters (SQLite, Postgres, Redis, and their common parts in
// server-store.ts) take as this module loaded. Caller code that replaces one after chio-trust
// loaded must not change which nonce a replay store holds, how long it holds it, which key a pin
// holds, or whether a store's safety checks run (README "Hardening"; the values the handshake
// itself reads are captured in src/bytes.ts and src/collections.ts, which these sit beside: the
// stores are Node-only, so what only they need stays out of the browser entries).
import { uncurryThis } from "../bytes.js";

// Declared in src/bytes.ts beside the handshake's captures, which need them too.
export { MAX_SAFE_INTEGER, mathFloor, parseJson, toNumber } from "../bytes.js";

/** Math.ceil as this module loaded. */
export const mathCeil = Math.ceil;
/** WeakMap.prototype.delete as this module loaded: (map, key). */
export const weakMapDelete = uncurryThis(WeakMap.prototype.delete) as <K extends object>(map: WeakMap<K, unknown>, key: K) => boolean;
/** Math.min as this module loaded. */
export const mathMin = Math.min;
/** Math.max as this module loaded. */
export const mathMax = Math.max;
/** RegExp.prototype.exec as this module loaded: (pattern, text). `test` looks `exec` up as it runs. */
export const regExpExec = uncurryThis(RegExp.prototype.exec as (this: RegExp, text: string) => RegExpExecArray | null);
/** The global Promise as this module loaded. */
export const PromiseAtLoad = Promise;
/** Promise.prototype.then as this module loaded: (promise, onFulfilled, onRejected). */
export const promiseThen = uncurryThis(Promise.prototype.then as (
  this: Promise<unknown>,
  onFulfilled: (value: unknown) => unknown,
  onRejected: (reason: unknown) => unknown,
) => Promise<unknown>);
