// Compiles chio.wasm from a URL or a fetch Response: streaming when the server labels it
// application/wasm (the engine compiles while the bytes arrive), else from the whole body.
// Used by init(url | response) (./instance.ts) and by the browser build's default source
// (./source-url.ts).

import { hostWasm } from "./host.js";

// Captured as this module loads (review 73 F4): init() after load must not compile with a
// WebAssembly.compile caller code put there since. Undefined on a host without WebAssembly
// (./host.ts), where init() refuses before it calls this module.
const wasmCompile = hostWasm?.compile!;
const wasmCompileStreaming = typeof hostWasm?.compileStreaming === "function" ? hostWasm.compileStreaming : undefined;

/** Fetches (if given a URL) and compiles chio.wasm. */
export async function compileFetchedWasm(source: URL | Response | PromiseLike<Response>): Promise<WebAssembly.Module> {
  const response = source instanceof URL ? await fetch(source) : await source;
  if (!response.ok) throw new Error(`fetching ${response.url || "chio.wasm"} failed: HTTP ${response.status}`);
  const type = response.headers.get("content-type")?.split(";")[0].trim();
  return wasmCompileStreaming !== undefined && type === "application/wasm"
    ? wasmCompileStreaming(response)
    : wasmCompile(await response.arrayBuffer());
}
