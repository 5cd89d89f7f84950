// Imported by ./sync-compile-limit.test.ts BEFORE chio-trust: replays the old Chromium main
// thread's rule (a synchronous `new WebAssembly.Module(bytes)` over 4 KiB throws RangeError, and
// so does `new WebAssembly.Instance` of a module compiled from over 4 KiB) as
// the engine itself would have it, that is, before the library loads and captures the
// WebAssembly constructors it uses (review 70 F1: replacing them later no longer reaches it).
//
// Not a suite: it registers no tests.
const W = WebAssembly as unknown as Record<string, unknown>;
const RealModule = WebAssembly.Module;

/** How many synchronous compiles the rule refused. */
export const refused = { count: 0 };

W.Module = new Proxy(RealModule, {
  construct(target, args: [BufferSource]) {
    if (args[0].byteLength > 4096) {
      refused.count++;
      throw new RangeError("WebAssembly.Compile is disallowed on the main thread, if the buffer size is larger than 4KB. Use WebAssembly.compile, or compile on a worker thread.");
    }
    return Reflect.construct(target, args);
  },
});

// The same Chromium refused `new WebAssembly.Instance(module)` for a module compiled from over
// 4 KiB (its wire bytes), asking for WebAssembly.instantiate. A module knows no size, so the
// asynchronous compiles record the modules they make from larger sources. A mutation audit found
// that only the Module rule was replayed, so init() could have stopped falling back to the
// asynchronous instantiate on that RangeError with no test failing.
const RealInstance = WebAssembly.Instance;
const realCompile = WebAssembly.compile;
const realCompileStreaming = WebAssembly.compileStreaming;
const largeModules = new WeakSet<WebAssembly.Module>();
W.compile = async (bytes: BufferSource) => {
  const module = await realCompile(bytes);
  if (bytes.byteLength > 4096) largeModules.add(module);
  return module;
};
W.compileStreaming = async (source: Response | PromiseLike<Response>) => {
  const response = await source;
  const size = (await response.clone().arrayBuffer()).byteLength;
  const module = await realCompileStreaming(response);
  if (size > 4096) largeModules.add(module);
  return module;
};
/** How many synchronous instantiations the rule refused. */
export const refusedInstances = { count: 0 };
W.Instance = new Proxy(RealInstance, {
  construct(target, args: [WebAssembly.Module, WebAssembly.Imports?]) {
    if (largeModules.has(args[0])) {
      refusedInstances.count++;
      throw new RangeError("WebAssembly.Instance is disallowed on the main thread, if the buffer size is larger than 4KB. Use WebAssembly.instantiate.");
    }
    return Reflect.construct(target, args);
  },
});
