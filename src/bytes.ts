// Argument checks and hex helpers used at every public boundary.
import { InvalidHexError, InvalidLengthError, InvalidTypeError } from "./errors.js";

/** Throws InvalidTypeError unless `value` is a Uint8Array (Buffer counts, other views do not). */
export function assertBytes(value: unknown, name: string): asserts value is Uint8Array {
  if (!(value instanceof Uint8Array)) {
    throw new InvalidTypeError(`${name} must be a Uint8Array, got ${describe(value)}`);
  }
}

/** Checks type and exact length; returns the value typed as bytes. */
export function expectBytes(value: unknown, length: number, name: string): Uint8Array {
  assertBytes(value, name);
  if (value.length !== length) {
    throw new InvalidLengthError(`${name} must be ${length} bytes, got ${value.length}`);
  }
  return value;
}

function describe(value: unknown): string {
  if (value === null) return "null";
  if (ArrayBuffer.isView(value)) return value.constructor.name;
  return typeof value === "object" ? (value.constructor?.name ?? "object") : typeof value;
}

const HEX_DIGITS = "0123456789abcdef";
const HEX_PAIRS: string[] = Array.from({ length: 256 }, (_, i) => HEX_DIGITS[i >> 4] + HEX_DIGITS[i & 15]);

/** Lowercase hex of `bytes`. */
export function bytesToHex(bytes: Uint8Array): string {
  assertBytes(bytes, "bytes");
  let out = "";
  for (let i = 0; i < bytes.length; i++) out += HEX_PAIRS[bytes[i]];
  return out;
}

function hexNibble(code: number): number {
  if (code >= 48 && code <= 57) return code - 48; // 0-9
  if (code >= 97 && code <= 102) return code - 87; // a-f
  if (code >= 65 && code <= 70) return code - 55; // A-F
  return -1;
}

/**
 * Decodes hex in either case. With `allowPrefix`, one leading "0x" is skipped (as chio's Rust
 * `from_hex` does). Throws InvalidHexError on odd length or a non-hex character.
 */
export function hexToBytes(hex: unknown, options: { allowPrefix?: boolean } = {}): Uint8Array {
  if (typeof hex !== "string") throw new InvalidTypeError(`hex must be a string, got ${describe(hex)}`);
  let start = 0;
  if (options.allowPrefix && hex.length >= 2 && hex[0] === "0" && hex[1] === "x") start = 2;
  const digits = hex.length - start;
  if (digits % 2 !== 0) throw new InvalidHexError(`hex must have an even number of digits, got ${digits}`);
  const out = new Uint8Array(digits / 2);
  for (let i = 0; i < out.length; i++) {
    const hi = hexNibble(hex.charCodeAt(start + 2 * i));
    const lo = hexNibble(hex.charCodeAt(start + 2 * i + 1));
    if (hi < 0 || lo < 0) throw new InvalidHexError(`hex contains a non-hex character at ${start + 2 * i}`);
    out[i] = (hi << 4) | lo;
  }
  return out;
}

/** Byte equality in time that depends only on the lengths. */
export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i] ^ b[i];
  return diff === 0;
}
