// The limits and options both canonical JSON paths share (canonicalize / canonicalBytes on JS
// values, canonicalizeJson on text): declared once in assembly/abi.ts, read and checked here, so
// the two paths accept the same options with the same errors.
import { describeConfigValue, InvalidLengthError, InvalidTypeError } from "../errors.js";
import { isInteger } from "../bytes.js";
import * as abi from "../wasm/abi.js";

/** Default nesting limit (containers; the top-level one counts as 1) of both paths. */
export const DEFAULT_MAX_DEPTH = abi.JSON_DEFAULT_MAX_DEPTH;
/** Largest `maxDepth` either path accepts. */
export const MAX_DEPTH_LIMIT = abi.JSON_MAX_DEPTH_LIMIT;
/** Default largest input of canonicalizeJson, in UTF-8 bytes (1 MiB). */
export const DEFAULT_MAX_BYTES = abi.JSON_DEFAULT_MAX_INPUT_BYTES;
/** Default largest canonical output of both paths, in UTF-8 bytes (16 MiB). */
export const DEFAULT_MAX_OUTPUT_BYTES = abi.JSON_DEFAULT_MAX_OUTPUT_BYTES;
/** Largest `maxOutputBytes` accepted (2^32 − 1). */
export const MAX_OUTPUT_BYTES_LIMIT = 0xffffffff;


/** `maxDepth`: an integer in 0…MAX_DEPTH_LIMIT (0 admits no container), or the default. */
export function maxDepthOption(value: unknown): number {
  if (value === undefined) return DEFAULT_MAX_DEPTH;
  if (typeof value !== "number" || !isInteger(value)) throw new InvalidTypeError(`maxDepth must be an integer, got ${describeConfigValue(value)}`);
  if (value < 0 || value > MAX_DEPTH_LIMIT) throw new InvalidLengthError(`maxDepth must be between 0 and ${MAX_DEPTH_LIMIT}, got ${value}`);
  return value;
}

/** `value` if it is an integer ≥ 0. @throws InvalidTypeError naming `name`. */
export function nonNegativeInteger(value: unknown, name: string): number {
  if (typeof value !== "number" || !isInteger(value) || value < 0) throw new InvalidTypeError(`${name} must be a non-negative integer`);
  return value;
}

/** A boolean option, or `fallback` when undefined. @throws InvalidTypeError naming `name`. */
export function booleanOption(value: unknown, name: string, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== "boolean") throw new InvalidTypeError(`${name} must be a boolean`);
  return value;
}

/** A byte bound: an integer ≥ 0 (clamped to `ceiling`), or `fallback`. */
export function byteLimitOption(value: unknown, name: string, fallback: number, ceiling: number): number {
  if (value === undefined) return fallback;
  const bound = nonNegativeInteger(value, name);
  return bound < ceiling ? bound : ceiling;
}
