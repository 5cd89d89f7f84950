// Typed errors shared by every layer. Each carries a stable `code` that callers may switch on;
// messages may change between versions, codes do not.

/** Codes for misuse of the byte-level APIs (wrong argument types or sizes). */
export type ArgumentErrorCode = "INVALID_TYPE" | "INVALID_LENGTH" | "INVALID_HEX";

/** Thrown when an argument has the wrong type (for example a string where bytes are needed). */
export class InvalidTypeError extends TypeError {
  readonly code = "INVALID_TYPE" as const;
  constructor(message: string) {
    super(message);
    this.name = "InvalidTypeError";
  }
}

/** Thrown when a byte argument has the wrong length. */
export class InvalidLengthError extends RangeError {
  readonly code = "INVALID_LENGTH" as const;
  constructor(message: string) {
    super(message);
    this.name = "InvalidLengthError";
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
