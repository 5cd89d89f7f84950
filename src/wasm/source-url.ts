// The browser twin of ./source-embedded.ts (same exports; package.json "imports" → #wasm-source,
// condition "browser"): the core is NOT embedded in the JavaScript but fetched from the
// chio.wasm file shipped beside dist/ (its bytes travel once, uncompressed base64 would add a
// third). `new URL("../../chio.wasm", import.meta.url)` is the pattern bundlers (Vite, webpack,
// Rollup, Parcel) recognise: they copy the file into the build and rewrite the URL. Bundlers
// that do not (esbuild) leave the URL relative to the bundle, so chio.wasm is copied next to it,
// or the page passes the bytes or a compiled module to init().
//
// Nothing can be compiled synchronously from here: the page calls `await init()` once at start
// (which Chromium's main thread requires anyway for modules over 4 KiB). Until then every call
// fails with WasmCoreError("WASM_UNAVAILABLE") saying so.
//
// Never built to CommonJS (scripts/build-js.mjs): import.meta exists only in modules.
import { compileFetchedWasm } from "./fetch-wasm.js";

/** How this build finds the core: "embedded" (base64 in the JS) or "url" (fetches chio.wasm). */
export const WASM_SOURCE_KIND: "embedded" | "url" = "url";

/** Where the core is fetched from: dist/chio.wasm, two folders up from dist/esm/wasm/. */
export const WASM_URL: URL = new URL("../../chio.wasm", import.meta.url);

/** No embedded bytes here: a synchronous compile is impossible until init() has run. */
export function defaultWasmBytesSync(): Uint8Array<ArrayBuffer> {
  throw new Error(`this browser build of chio-trust fetches its WebAssembly core from ${WASM_URL.href}: call \`await init()\` once before using it`);
}

/** Fetches and compiles chio.wasm. */
export function compileDefaultWasm(): Promise<WebAssembly.Module> {
  return compileFetchedWasm(WASM_URL);
}
