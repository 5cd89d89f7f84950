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

/**
 * Where the core is fetched from by default: dist/chio.wasm, two folders up from dist/esm/wasm/.
 * Made when first needed, never as the module loads: a bundle without `import.meta` (esbuild's
 * `iife` and `cjs` formats leave it empty: a classic Web Worker, a `<script>` bundle) threw an
 * invalid-URL TypeError at load, before its page could call init() with the file's location
 * (review 72 F1). The `new URL(…, import.meta.url)` expression is kept literal for the bundlers
 * that rewrite it. Undefined where this module has no URL of its own.
 */
function defaultWasmUrl(): URL | undefined {
  try {
    return new URL("../../chio.wasm", import.meta.url);
  } catch {
    return undefined;
  }
}

/** What to do before any call, in the words of the two functions below. */
function initFirst(): string {
  const url = defaultWasmUrl();
  return url === undefined
    ? "this bundle has no URL of its own to find chio.wasm from: call `await init(urlOrBytesOrModule)` once before using it"
    : `this browser build of chio-trust fetches its WebAssembly core from ${url.href}: call \`await init()\` once before using it`;
}

/** No embedded bytes here: a synchronous compile is impossible until init() has run. */
export function defaultWasmBytesSync(): ReturnType<typeof Uint8Array.of> {
  throw new Error(initFirst());
}

/** Fetches and compiles chio.wasm. */
export function compileDefaultWasm(): Promise<WebAssembly.Module> {
  const url = defaultWasmUrl();
  if (url === undefined) return Promise.reject(new Error(initFirst()));
  return compileFetchedWasm(url);
}
