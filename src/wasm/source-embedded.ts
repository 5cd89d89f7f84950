// Where the WebAssembly core comes from when the caller passes nothing to init()/initSync():
// the bytes embedded as base64 in src/generated/chio-wasm.ts (written by scripts/build-wasm.mjs).
// This is the default for Node, Deno, Bun and CommonJS consumers: no file path, no fetch, and
// synchronous instantiation on first use works.
//
// Its twin ./source-url.ts has the same exports and serves browser bundles (package.json
// "imports" → #wasm-source, condition "browser"). The ESM build's instance.js imports
// `#wasm-source` instead of this file (scripts/build-js.mjs rewrites that one specifier), so the
// embedded bytes are the only module that differs between hosts: one module graph everywhere.
import { CHIO_WASM_BASE64 } from "../generated/chio-wasm.js";

/** How this build finds the core: "embedded" (base64 in the JS) or "url" (fetches chio.wasm). */
export const WASM_SOURCE_KIND: "embedded" | "url" = "embedded";

function decodeBase64(text: string): Uint8Array<ArrayBuffer> {
  const B = (globalThis as { Buffer?: { from(s: string, enc: string): Uint8Array } }).Buffer;
  if (B) {
    const buf = B.from(text, "base64");
    return new Uint8Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength) as ArrayBuffer);
  }
  const bin = atob(text);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

/** The core's bytes for a synchronous compile. */
export function defaultWasmBytesSync(): Uint8Array<ArrayBuffer> {
  return decodeBase64(CHIO_WASM_BASE64);
}

/** The core compiled asynchronously (hosts that refuse large synchronous compiles). */
export function compileDefaultWasm(): Promise<WebAssembly.Module> {
  return WebAssembly.compile(decodeBase64(CHIO_WASM_BASE64));
}
