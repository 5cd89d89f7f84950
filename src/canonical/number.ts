// Number <-> text through the WebAssembly core (assembly/json/number-format.ts, number-parse.ts): the ECMAScript
// String(x) form that RFC 8785 §3.2.2.3 requires, and correctly rounded parsing of JSON number
// literals. JavaScript already has both (String, Number); these wrappers exist so tests and
// benchmarks can check the wasm implementations that the JSON transcoder uses internally.
import { CanonicalJsonError, InvalidTypeError } from "../errors.js";
import { coreExports, guarded, heapU8, ioArenaBase, reserveIo, type CoreExports } from "../wasm/instance.js";

interface NumberExports extends CoreExports {
  format_f64(value: number): number;
  parse_f64(length: number): number;
}

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
  pendingNumber = x;
  return guarded(formatPendingNumber);
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
  pendingText = text;
  return guarded(parsePendingText);
}

// Arguments for the guarded bodies below, passed through module state so that no closure is
// allocated per call.
let pendingNumber = 0;
let pendingText = "";

function formatPendingNumber(): string {
  const length = coreExports<NumberExports>().format_f64(pendingNumber);
  const heap = heapU8();
  const base = ioArenaBase();
  // At most 25 ASCII bytes: a char-code loop beats TextDecoder and fromCharCode.apply here.
  let text = "";
  for (let i = 0; i < length; i++) text += String.fromCharCode(heap[base + i]);
  return text;
}

function parsePendingText(): number {
  const text = pendingText;
  const core = coreExports<NumberExports>();
  reserveIo(text.length);
  const heap = heapU8();
  const base = ioArenaBase();
  for (let i = 0; i < text.length; i++) heap[base + i] = text.charCodeAt(i);
  return core.parse_f64(text.length);
}
