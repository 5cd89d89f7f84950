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
  // A promise of something else (the bytes, say, from fs.promises.readFile) read as a Response
  // failed with "HTTP undefined" (hunt 27's open item): say what init() wanted instead.
  if (typeof (response as Response | null)?.ok !== "boolean") {
    throw new TypeError(`init() was given a promise of ${response === null ? "null" : typeof response}, not of a fetch Response: pass bytes or a WebAssembly.Module to init() itself`);
  }
  const url = response.url || (source instanceof URL ? source.href : "chio.wasm");
  if (!response.ok) throw new Error(`fetching ${url} failed: HTTP ${response.status}`);
  const type = response.headers.get("content-type")?.split(";")[0].trim();
  if (wasmCompileStreaming !== undefined && type === "application/wasm") return wasmCompileStreaming(response);
  const bytes = new Uint8Array(await response.arrayBuffer());
  // Not the module at all: say what came instead, and why it usually does. Under a dev server
  // that pre-bundles dependencies (Vite's optimizeDeps), the module moves to node_modules/.vite/deps,
  // `new URL("../../chio.wasm", import.meta.url)` points at no file, and the server's SPA fallback
  // answers with index.html, which the engine reported only as "expected magic word 00 61 73 6d,
  // found 3c 21 64 6f" (hunt 11 R2).
  if (bytes[0] !== 0 || bytes[1] !== 0x61 || bytes[2] !== 0x73 || bytes[3] !== 0x6d) {
    const head = Array.from(bytes.subarray(0, 4), (b) => b.toString(16).padStart(2, "0")).join(" ");
    throw new Error(
      `${url} is not WebAssembly (${type || "no content type"}, ${head ? `starts ${head}` : "empty"}${bytes[0] === 0x3c ? ", looks like HTML" : ""}): ` +
        'a dev server that pre-bundles dependencies (Vite: optimizeDeps: { exclude: ["chio-trust"] }) or a missing chio.wasm is the usual cause; ' +
        "init(url) with the file's URL works",
    );
  }
  return wasmCompile(bytes);
}
