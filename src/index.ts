// chio-trust's main entry: everything the package exports, layer by layer (errors → bytes → wasm →
// canonical JSON and Ed25519 → handshake). Each layer's own entry (chio-trust/canonical,
// chio-trust/handshake) lists its names once; this file re-exports those lists rather than
// repeating them. test/snapshots/exports.json pins the result.

// The WebAssembly core: lazy synchronous instantiation, or explicit init for strict hosts.
export { init, initSync } from "./wasm/instance.js";
export type { WasmSource, InitSource } from "./wasm/instance.js";

// Typed errors shared by every layer, and byte helpers.
export { InvalidTypeError, InvalidLengthError, InvalidHexError, WasmCoreError, CanonicalJsonError, RandomSourceError } from "./errors.js";
export type { CanonicalJsonErrorCode, WasmCoreErrorCode } from "./errors.js";
export { PreparedSecretKeyError } from "./errors.js";
export type { PreparedKeyErrorCode } from "./errors.js";
export { bytesToHex, hexToBytes } from "./bytes.js";

// Ed25519 (RFC 8032), @noble/ed25519-shaped.
export { ed25519, isValidPublicKey, isSmallOrderPublicKey, PreparedPublicKey } from "./ed25519.js";
export type { VerifyOptions, VerifyBatchItem, ExtendedSecretKey, PreparedKeysOptions } from "./ed25519.js";
export { PreparedSecretKey, PREPARED_SECRET_KEY_CAPACITY } from "./ed25519.js";

// RFC 8785 canonical JSON (chio-trust/canonical).
export * from "./canonical/index.js";

// The chio kernel trust handshake, one-call envelope verification and the in-memory stores
// (chio-trust/handshake).
export * from "./handshake/index.js";
