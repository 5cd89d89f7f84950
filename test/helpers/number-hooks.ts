// Number <-> text through the test build of the core (format_f64 / parse_f64 hooks over
// assembly/json/number-format.ts, number-parse.ts): the ECMAScript String(x) form that RFC 8785 §3.2.2.3 requires, and
// correctly rounded parsing of JSON number literals. JavaScript already has both (String,
// Number); these wrappers exist so tests can check the wasm implementations that the JSON
// transcoder uses internally. Not part of the library (the release module has no such hooks).
//
// Not a suite: uvu imports every file under test/, this one included, but it registers no
// tests and never calls test.run() (see assert-codes.ts).
import { CanonicalJsonError, InvalidTypeError } from "../../src/errors.js";
import { coreExports, heapU8, ioArenaBase, reserveIo } from "./test-core.js";

/** RFC 8259 §6 number grammar. */
const JSON_NUMBER = /^-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?$/;

/**
 * The RFC 8785 / ECMAScript `String(x)` text of a finite number (`-0` gives `"0"`), computed by
 * the wasm core. Throws CanonicalJsonError("NON_FINITE_NUMBER") for NaN and ±Infinity and
 * InvalidTypeError for a non-number.
 */
export function formatDouble(x: number): string {
  if (typeof x !== "number") throw new InvalidTypeError(`expected a number, got ${typeof x}`);
  if (!Number.isFinite(x)) {
    throw new CanonicalJsonError("NON_FINITE_NUMBER", `${String(x)} is not a JSON number (RFC 8785 §3.2.2.3)`);
  }
  return formatNumber(x);
}

/**
 * The double nearest to a JSON number literal, as `Number(text)` gives it (±Infinity when the
 * literal overflows; a JSON parser reports that as NUMBER_OUT_OF_RANGE). A helper for tests and
 * benchmarks of the wasm parser: the literal must match the RFC 8259 §6 grammar, otherwise it
 * throws CanonicalJsonError("INVALID_JSON").
 */
export function parseDoubleLiteral(text: string): number {
  if (typeof text !== "string") throw new InvalidTypeError(`expected a string, got ${typeof text}`);
  if (!JSON_NUMBER.test(text)) throw new CanonicalJsonError("INVALID_JSON", `not a JSON number literal: ${JSON.stringify(text.slice(0, 40))}`, 0);
  return parseLiteralUnchecked(text);
}

function formatNumber(x: number): string {
  const length = coreExports().format_f64(x);
  const heap = heapU8();
  const base = ioArenaBase();
  // At most 25 ASCII bytes: a char-code loop beats TextDecoder and fromCharCode.apply here.
  let text = "";
  for (let i = 0; i < length; i++) text += String.fromCharCode(heap[base + i]);
  return text;
}

/**
 * The raw parse_f64 hook on `text` (Latin-1 code units written as bytes) with no grammar check:
 * for the parser's own tests, which also feed it malformed spans that must never trap.
 */
export function parseLiteralUnchecked(text: string): number {
  const core = coreExports();
  reserveIo(text.length);
  const heap = heapU8();
  const base = ioArenaBase();
  for (let i = 0; i < text.length; i++) heap[base + i] = text.charCodeAt(i);
  return core.parse_f64(text.length);
}
