// chio-trust public surface. Everything exported from the package is listed here.
export { init, initSync } from "./wasm/instance.js";
export type { WasmSource } from "./wasm/instance.js";
export { InvalidTypeError, InvalidLengthError, InvalidHexError, WasmCoreError, CanonicalJsonError } from "./errors.js";
export type { CanonicalJsonErrorCode } from "./errors.js";
export { bytesToHex, hexToBytes } from "./bytes.js";
export { canonicalize, canonicalBytes } from "./canonical/value.js";
export { canonicalizeJson } from "./canonical/json.js";
export type { CanonicalizeJsonOptions } from "./canonical/json.js";
export { verifyEnvelopeBytes } from "./canonical/envelope.js";
export type { EnvelopeFailureCode, EnvelopeVerdict, VerifiedEnvelope, VerifyEnvelopeOptions } from "./canonical/envelope.js";
export { ed25519 } from "./ed25519.js";
