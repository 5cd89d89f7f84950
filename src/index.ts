// chio-trust public surface. Everything exported from the package is listed here.
export { init, initSync } from "./wasm/instance.js";
export type { WasmSource } from "./wasm/instance.js";
export { InvalidTypeError, InvalidLengthError, InvalidHexError, WasmCoreError } from "./errors.js";
export { bytesToHex, hexToBytes } from "./bytes.js";
