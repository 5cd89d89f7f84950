// The host's WebAssembly namespace, captured once as the library loads, or undefined on a host
// that has none (`node --jitless`, some locked-down runtimes and interpreters). Without it the
// library still loads, and its pure-JS parts (errors, the noble drop-in's Point and etc, canonical
// JSON of JS values) still work; the first call that needs the core fails with WasmCoreError
// WASM_UNAVAILABLE (./instance.ts), where reading `WebAssembly.compile` at load made the import
// itself throw an untyped ReferenceError.
//
// Captured, not read when used, for the reason of src/bytes.ts (review 73 F4): a namespace
// replaced after load must not be handed the core's bytes.
export const hostWasm: typeof WebAssembly | undefined = typeof WebAssembly === "object" && WebAssembly !== null ? WebAssembly : undefined;

/** Why the core cannot start on a host without WebAssembly (the cause of its WASM_UNAVAILABLE). */
export const NO_WEBASSEMBLY = "this host has no WebAssembly";
