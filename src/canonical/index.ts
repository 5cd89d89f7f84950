// RFC 8785 canonical JSON: every entry point of src/canonical/ in one place.
//  * value.ts    — JS values → canonical text/bytes (pure TypeScript)
//  * json.ts     — JSON text → canonical bytes (WebAssembly transcoder)
//  * limits.ts   — the limits and options both share
// Errors the canonical JSON APIs throw (every class a call through this entry can throw is
// exported here too: review 91 F8; test/node/entry-errors.test.ts).
export { CanonicalJsonError, InvalidTypeError, InvalidLengthError, WasmCoreError } from "../errors.js";
export type { WasmCoreErrorCode } from "../errors.js";
export type { CanonicalJsonErrorCode } from "../errors.js";
export { canonicalize, canonicalBytes, MAX_DEPTH_LIMIT } from "./value.js";
export type { CanonicalizeOptions } from "./value.js";
export { canonicalizeJson, DEFAULT_MAX_DEPTH, DEFAULT_MAX_BYTES, DEFAULT_MAX_OUTPUT_BYTES } from "./json.js";
export type { CanonicalizeJsonOptions } from "./json.js";
