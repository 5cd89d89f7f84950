// Imported by ./sync-compile-limit.test.ts BEFORE chio-trust: replays the old Chromium main
// thread's rule (a synchronous `new WebAssembly.Module(bytes)` over 4 KiB throws RangeError) as
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
