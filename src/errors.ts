// Typed errors shared by every layer. Each carries a stable `code` that callers may switch on;
// messages may change between versions, codes do not.

/** Codes for misuse of the byte-level APIs (wrong argument types or sizes). */
export type ArgumentErrorCode = "INVALID_TYPE" | "INVALID_LENGTH" | "INVALID_HEX";

/** Thrown when an argument has the wrong type (for example a string where bytes are needed). */
export class InvalidTypeError extends TypeError {
  readonly code = "INVALID_TYPE" as const;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "InvalidTypeError";
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
    this.name = "InvalidLengthError";
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
    this.name = "InvalidPublicKeyError";
  }
}

/** Thrown when a hex string is malformed (odd length or a non-hex character). */
export class InvalidHexError extends TypeError {
  readonly code = "INVALID_HEX" as const;
  constructor(message: string) {
    super(message);
    this.name = "InvalidHexError";
  }
}

/**
 * Thrown when the WebAssembly core fails in a way input validation should have prevented
 * (a trap, or memory that cannot grow). The instance is discarded and rebuilt on next use, so
 * one failure never poisons later calls.
 */
export class WasmCoreError extends Error {
  readonly code: "WASM_TRAP" | "WASM_OUT_OF_MEMORY" | "WASM_UNAVAILABLE";
  constructor(code: WasmCoreError["code"], message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "WasmCoreError";
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
    this.name = "PreparedSecretKeyError";
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
    this.name = "CanonicalJsonError";
    this.code = code;
    this.offset = offset;
  }
}
