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
import { bytesOver, charCodeAt, typedArraySet, viewLength } from "../bytes.js";
import { hostWasm } from "./host.js";

/** How this build finds the core: "embedded" (base64 in the JS) or "url" (fetches chio.wasm). */
export const WASM_SOURCE_KIND: "embedded" | "url" = "embedded";

// What decoding and compiling use, captured as this module loads: the core is decoded on first
// use, and code that replaced Buffer.from, atob or String.prototype.charCodeAt in between could
// otherwise hand the glue a core of its own (review 73 F4).
const bufferFrom = (globalThis as { Buffer?: { from(s: string, enc: string): Uint8Array } }).Buffer?.from;
const BufferClass = (globalThis as { Buffer?: unknown }).Buffer;
const decodeAtob = typeof atob === "function" ? atob : undefined;
const wasmCompile = hostWasm?.compile!; // undefined on a host without WebAssembly (./host.ts), where init() refuses first
const apply = Reflect.apply;

function decodeBase64(text: string): Uint8Array<ArrayBuffer> {
  if (bufferFrom !== undefined) {
    const decoded = apply(bufferFrom, BufferClass, [text, "base64"]) as Uint8Array;
    const out = bytesOver(new ArrayBuffer(viewLength(decoded))) as Uint8Array<ArrayBuffer>;
    typedArraySet(out, decoded);
    return out;
  }
  if (decodeAtob === undefined) throw new Error("this host has neither Buffer nor atob to decode the embedded core");
  const bin = decodeAtob(text);
  const out = bytesOver(new ArrayBuffer(bin.length)) as Uint8Array<ArrayBuffer>;
  for (let i = 0; i < bin.length; i++) out[i] = charCodeAt(bin, i);
  return out;
}

/** The core's bytes for a synchronous compile. */
export function defaultWasmBytesSync(): ReturnType<typeof Uint8Array.of> {
  return decodeBase64(CHIO_WASM_BASE64);
}

/** The core compiled asynchronously (hosts that refuse large synchronous compiles). */
export function compileDefaultWasm(): Promise<WebAssembly.Module> {
  return wasmCompile(decodeBase64(CHIO_WASM_BASE64));
}
