// Typed errors shared by every layer. Each carries a stable `code` that callers may switch on;
// messages may change between versions, codes do not.

// Object.defineProperty as this module loaded.
const defineProperty = Object.defineProperty;

/**
 * Gives an error its `name`, as an own enumerable member as an assignment would make it (so
 * `JSON.stringify` and `Object.keys` show it), but defined: `this.name = …` runs a setter caller
 * code can define on Error.prototype, and the library makes some of its errors in the middle of
 * a call (an envelope batch's oversized input, while the batch copies its inputs: a setter there
 * re-entered the batch and made it answer for another envelope, review 99).
 */
export function nameError(error: Error, name: string): void {
  defineProperty(error, "name", { value: name, writable: true, enumerable: true, configurable: true });
}

// Function.prototype[Symbol.hasInstance] as this module loaded, bound to `call`. `x instanceof
// SomeError` first looks up Symbol.hasInstance on SomeError and its parents (Error, TypeError,
// RangeError among them), where caller code can define one: it would run, and answer, while the
// library tells its own errors apart in the middle of a call (review 98: inside an envelope
// batch's copy, a hook there re-entered the batch and made it answer for another envelope).
const ordinaryHasInstance = Function.prototype.call.bind(Function.prototype[Symbol.hasInstance]) as (cls: unknown, value: unknown) => boolean;

/**
 * `value instanceof cls` by the prototype chain alone (OrdinaryHasInstance): no Symbol.hasInstance
 * is looked up, so no caller code runs for the library's own errors. For tests made inside a call,
 * between its checks and its copy or while it writes into the core's memory.
 */
export function isInstanceOf<T>(cls: abstract new (...args: never[]) => T, value: unknown): value is T {
  return ordinaryHasInstance(cls, value);
}

/**
 * `value instanceof cls` as isInstanceOf tells it, and false, not a TypeError, for a value whose
 * prototype cannot be read: a revoked Proxy, or a Proxy whose getPrototypeOf trap throws. For
 * values caller code threw or passed: the catch blocks that pass the library's own errors through
 * and wrap anything else asked `instanceof`, which threw for those, so the caller got a TypeError
 * in place of the typed error (test/node/odd-throws.test.ts).
 */
export function instanceOfOrFalse<T>(cls: abstract new (...args: never[]) => T, value: unknown): value is T {
  try {
    return ordinaryHasInstance(cls, value);
  } catch {
    return false;
  }
}

/**
 * This realm's RangeError as this module loaded, for isInstanceOf where the library tells the
 * engine's own limits apart inside a call (an allocation that failed, a stack overflow): the
 * global binding can be replaced.
 */
export const EngineRangeError = RangeError;

// String.prototype.startsWith as this module loaded, bound to `call` (for isStackOverflowError).
const startsWith = Function.prototype.call.bind(String.prototype.startsWith) as (text: string, prefix: string) => boolean;

/** The start of V8's (and JavaScriptCore's) message for a stack overflow. */
export const STACK_OVERFLOW_MESSAGE = "Maximum call stack size exceeded";

/**
 * Whether `error` reads as the engine's stack overflow: an EngineRangeError by its prototype chain
 * (no Symbol.hasInstance is looked up) whose message, read once, is a string starting with
 * {@link STACK_OVERFLOW_MESSAGE}. Portable, for the layers that run in browsers too (canonical
 * JSON); the pool's isEngineStackOverflow (src/pool/errors.ts) adds Node's native-error test, so
 * that an object merely made to look like one is not taken for it. startsWith, not a regular
 * expression: this runs right after a stack overflow, where compiling one (on its first use, or
 * when the engine tiers it up) can throw a SyntaxError of its own or abort the process (V8:
 * "RegExpCompiler Allocation failed"; review 54).
 */
export function isStackOverflowError(error: unknown): error is RangeError {
  if (!ordinaryHasInstance(EngineRangeError, error)) return false;
  const message: unknown = (error as RangeError).message;
  return typeof message === "string" && startsWith(message, STACK_OVERFLOW_MESSAGE);
}

/** Codes for misuse of the byte-level APIs (wrong argument types or sizes). */
export type ArgumentErrorCode = "INVALID_TYPE" | "INVALID_LENGTH" | "INVALID_HEX";

/** Thrown when an argument has the wrong type (for example a string where bytes are needed). */
export class InvalidTypeError extends TypeError {
  readonly code = "INVALID_TYPE" as const;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    nameError(this, "InvalidTypeError");
  }
}

/**
 * The guard of a class whose instances only its factory may make: throws InvalidTypeError unless
 * `token` is the module-private `expected` its factory passes. TypeScript's `private constructor`
 * does not exist at run time, so `new X(…)` (or a subclass's `super()`) from outside would
 * otherwise build an instance that passes the class's brand check with contents nobody checked
 * (review 46). `madeBy` completes "a … is made by …".
 */
export function assertMadeByFactory(token: unknown, expected: symbol, madeBy: string): void {
  if (token !== expected) throw new InvalidTypeError(`a ${madeBy}, not by its constructor`);
}

/** Thrown when a byte argument has the wrong length, or a string argument is longer than its bound. */
export class InvalidLengthError extends RangeError {
  readonly code = "INVALID_LENGTH" as const;
  constructor(message: string) {
    super(message);
    nameError(this, "InvalidLengthError");
  }
}

/**
 * Thrown when 32 bytes do not decode as an Ed25519 point (chio's `PublicKey` parse and
 * ed25519.preparePublicKey refuse them; verify with such bytes returns false).
 */
export class InvalidPublicKeyError extends RangeError {
  readonly code = "INVALID_PUBLIC_KEY" as const;
  constructor(message: string) {
    super(message);
    nameError(this, "InvalidPublicKeyError");
  }
}

/** Thrown when a hex string is malformed (odd length or a non-hex character). */
export class InvalidHexError extends TypeError {
  readonly code = "INVALID_HEX" as const;
  constructor(message: string) {
    super(message);
    nameError(this, "InvalidHexError");
  }
}

/**
 * Thrown when a call needs fresh random bytes (a batch verification's coefficients, a generated
 * key, a handshake nonce, a store's reservation token) and the host has no CSPRNG:
 * `globalThis.crypto.getRandomValues` is missing. A fault of the environment, not of an argument
 * (review 72 F4: it was INVALID_TYPE, which a caller could not tell from a wrong argument).
 */
export class RandomSourceError extends Error {
  readonly code = "RANDOM_SOURCE_UNAVAILABLE" as const;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    nameError(this, "RandomSourceError");
  }
}

/** Stable codes of WasmCoreError. */
export type WasmCoreErrorCode =
  | "WASM_TRAP" //          the core trapped or refused its input with a status it never returns for valid input; the instance is rebuilt on next use
  | "WASM_OUT_OF_MEMORY" // WebAssembly memory cannot grow for the call's input or work area (a refusal of this process's memory, not a verdict)
  | "WASM_UNAVAILABLE"; //  the core cannot be compiled or instantiated here (no WebAssembly, a missing SIMD feature, its file unreachable)

/**
 * Thrown when the WebAssembly core fails in a way input validation should have prevented
 * (a trap, or memory that cannot grow). The instance is discarded and rebuilt on next use, so
 * one failure never poisons later calls.
 */
export class WasmCoreError extends Error {
  readonly code: WasmCoreErrorCode;
  constructor(code: WasmCoreErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    nameError(this, "WasmCoreError");
    this.code = code;
  }
}

/** Codes of PreparedSecretKeyError (prepared Ed25519 secret keys, src/prepared-secret-key.ts). */
export type PreparedKeyErrorCode =
  | "KEY_DESTROYED" //            destroy() was called on the key (or on the Keypair holding it)
  | "PREPARED_KEY_LOST" //        the WebAssembly instance was rebuilt after a trap; its slots went with it
  | "PREPARED_KEYS_EXHAUSTED" //  every slot of the slab holds a live prepared key
  | "PREPARED_KEY_CORRUPTED"; //  the slot failed its integrity check; it was wiped and nothing was signed

/** Thrown when a prepared secret key cannot be made or used; `code` says why. */
export class PreparedSecretKeyError extends Error {
  readonly code: PreparedKeyErrorCode;
  constructor(code: PreparedKeyErrorCode, message: string) {
    super(message);
    nameError(this, "PreparedSecretKeyError");
    this.code = code;
  }
}

/** Codes for input that is not valid I-JSON (RFC 7493) or cannot be canonicalized (RFC 8785). */
export type CanonicalJsonErrorCode =
  | "INVALID_JSON" //        syntax error (includes NaN/Infinity literals, which the grammar excludes)
  | "TRAILING_DATA" //       anything but whitespace after the top-level value
  | "INVALID_UTF8" //        malformed UTF-8 in the input bytes
  | "LONE_SURROGATE" //      unpaired UTF-16 surrogate, raw or via \uD8xx escapes
  | "DUPLICATE_KEY" //       the same member name twice in one object (RFC 8785 §3.1, I-JSON §2.3)
  | "TOO_DEEP" //            nesting deeper than the configured limit
  | "TOO_LARGE" //           input (or output) larger than the configured limit
  | "NUMBER_OUT_OF_RANGE" // a literal that overflows binary64 (e.g. 1e400)
  | "NON_FINITE_NUMBER" //   NaN or ±Infinity in a JS value
  | "UNSUPPORTED_TYPE" //    undefined, function, symbol, or another non-JSON JS value
  | "CYCLE"; //              a JS object graph that refers to itself

/** Thrown by the canonical JSON APIs; `code` says which rule the input broke. */
export class CanonicalJsonError extends Error {
  readonly code: CanonicalJsonErrorCode;
  /** Byte offset in the input where the problem was found, when known. */
  readonly offset: number | undefined;
  constructor(code: CanonicalJsonErrorCode, message: string, offset?: number, options?: { cause?: unknown }) {
    super(message, options);
    nameError(this, "CanonicalJsonError");
    this.code = code;
    this.offset = offset;
  }
}

/** Longest peer-supplied text, in UTF-16 units after escaping, that a message or event repeats. */
export const PEER_TEXT_SHOWN_UNITS = 200;

// Captured at load (this bottom layer cannot take src/bytes.ts's): peer text goes into messages
// and events through displayPeerText, and a replaced String.prototype.charCodeAt, RegExp exec or
// Number.prototype.toString must not let it through unescaped. No regular expression: its test
// looks up `exec` on the object as it runs.
const charCodeAtOf = Function.prototype.call.bind(String.prototype.charCodeAt) as (text: string, index: number) => number;
const HEX_DIGITS = "0123456789abcdef";
// No prototype: a member defined on Object.prototype for a control character must not answer.
const SHORT_ESCAPES: Readonly<Record<string, string>> = { __proto__: null, "\b": "\\b", "\t": "\\t", "\n": "\\n", "\f": "\\f", "\r": "\\r" } as unknown as Record<string, string>;

/** True for a unit displayPeerText escapes on its own: C0 controls, DEL, C1 controls and the two JS/JSON line terminators JSON leaves raw. */
function isControlUnit(unit: number): boolean {
  return unit < 0x20 || (unit >= 0x7f && unit <= 0x9f) || unit === 0x2028 || unit === 0x2029;
}

/** True if the surrogate at `i` of `text` is the high half of a pair (displayPeerText keeps pairs whole). */
function startsPair(text: string, i: number, unit: number): boolean {
  return unit <= 0xdbff && i + 1 < text.length && (charCodeAtOf(text, i + 1) & 0xfc00) === 0xdc00;
}

/** True if `text` holds a unit displayPeerText escapes: a control (isControlUnit) or an unpaired surrogate (the parsers refuse them in peer input; escaped here too, in case). */
function hasUnsafeUnit(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const unit = charCodeAtOf(text, i);
    if (isControlUnit(unit)) return true;
    if ((unit & 0xf800) !== 0xd800) continue;
    if (!startsPair(text, i, unit)) return true;
    i++;
  }
  return false;
}

/**
 * `text` made safe to put in a message, a log line or an event (docs/protocol.md §11): control
 * characters (U+0000–U+001F, U+007F–U+009F), U+2028/U+2029 and unpaired surrogates escaped
 * JSON-style (\n, \u0085, …), then cut to `maxUnits` UTF-16 units, never inside an escape or a
 * surrogate pair, with "…" appended when anything was cut. The result is at most maxUnits + 1 units.
 */
export function displayPeerText(text: string, maxUnits = PEER_TEXT_SHOWN_UNITS): string {
  if (text.length <= maxUnits && !hasUnsafeUnit(text)) return text;
  let out = "";
  for (let i = 0; i < text.length; ) {
    const unit = charCodeAtOf(text, i);
    let piece: string;
    if ((unit & 0xf800) === 0xd800 && startsPair(text, i, unit)) {
      piece = text[i]! + text[i + 1]!; // a surrogate pair is one character: kept whole
      i += 2;
    } else {
      const unsafe = isControlUnit(unit) || (unit & 0xf800) === 0xd800;
      piece = unsafe
        ? SHORT_ESCAPES[text[i]!] ?? "\\u" + HEX_DIGITS[(unit >> 12) & 15] + HEX_DIGITS[(unit >> 8) & 15] + HEX_DIGITS[(unit >> 4) & 15] + HEX_DIGITS[unit & 15]
        : text[i]!;
      i += 1;
    }
    if (out.length + piece.length > maxUnits) return `${out}…`;
    out += piece;
  }
  return out;
}

/**
 * A thrown value's text, for an error message: its `message` when that is a string (an Error's,
 * one from another realm, a driver's plain object), else the value as a string. Never throws, whatever was thrown: a store, a signer or an input Proxy's trap that throws
 * `Object.create(null)`, a revoked Proxy, or an Error whose `message` getter throws made the code
 * that built the typed error throw a TypeError (or the value itself) in its place, and a pin write
 * of unknown outcome lost its mark and released its nonce, so the same envelope sent again was
 * accepted (test/node/odd-throws.test.ts). What cannot be read is "an unprintable value".
 */
export function describeThrown(cause: unknown): string {
  try {
    const message: unknown = typeof cause === "object" && cause !== null ? (cause as { message?: unknown }).message : undefined;
    return typeof message === "string" ? message : String(cause);
  } catch {
    return "an unprintable value";
  }
}

/** A config value for an error message, bounded and without calling user code (no toString of objects). */
export function describeConfigValue(value: unknown): string {
  switch (typeof value) {
    case "number":
    case "boolean":
    case "undefined":
      return String(value);
    case "bigint":
      return `${value}n`;
    case "string":
      return JSON.stringify(displayPeerText(value, 40));
    default:
      return value === null ? "null" : typeof value;
  }
}
