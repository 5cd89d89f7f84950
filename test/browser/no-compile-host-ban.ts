// Imported by ./no-compile-host.test.ts BEFORE chio-trust: the host's part of the "no-compile-host"
// page. It compiles chio.wasm itself (as a Cloudflare-style host does at deploy time), then bans
// every byte-compiling entry point of WebAssembly, as the embedder's rule is, before any program
// code (the library included) runs. The library captures the WebAssembly functions it uses as it
// loads (review 70 F1, review 73 F4), so a ban put in place after that load would never reach its
// compiles: a mutation audit found that with the ban installed by the suite itself, init(module)
// could have compiled the embedded bytes anyway, or dropped the module it was given, with no
// test in this page failing.
//
// Not a suite: it registers no tests.
export const hostModule = await WebAssembly.compileStreaming(fetch("/chio.wasm"));

/** Every byte compile attempted since the ban (the suite empties it where it starts counting). */
export const attempts: string[] = [];
const W = WebAssembly as unknown as Record<string, unknown>;
const RealModule = WebAssembly.Module;
const realInstantiate = WebAssembly.instantiate;
function banned(name: string): never {
  attempts.push(name);
  throw new Error(`${name}: compiling WebAssembly from bytes is disallowed by the embedder`);
}
W.compile = () => Promise.reject(banned("WebAssembly.compile"));
W.compileStreaming = () => Promise.reject(banned("WebAssembly.compileStreaming"));
W.instantiateStreaming = () => Promise.reject(banned("WebAssembly.instantiateStreaming"));
W.instantiate = (source: unknown, imports?: WebAssembly.Imports) =>
  source instanceof RealModule ? realInstantiate(source, imports) : Promise.reject(banned("WebAssembly.instantiate(bytes)"));
W.Module = new Proxy(RealModule, { construct: () => banned("new WebAssembly.Module") });
