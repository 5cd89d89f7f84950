// Makes the library's core impossible to instantiate, as a host out of memory would, and brings
// it back. The glue instantiates through WebAssembly.Instance as captured when it loaded (review
// 70 F1), so replacing the global no longer reaches it; instead initSync() is given a module that
// cannot be instantiated, which the glue keeps as its compiled module: every call that needs a
// new instance then fails with WASM_UNAVAILABLE until restoreCore() gives it the real module again.
// That module is the core itself with no memory to start with (its memory section's minimum set
// to 0 pages): it has the core's exports and no import, so the glue takes it as the core
// (src/wasm/instance.ts assertChioCore refuses and never keeps any other module, hunt 11 R1), and
// its instantiation traps writing its data segments out of bounds.
//
// Not a suite: uvu imports every file under test/, this one included; it registers no tests.
import { initSync, wipeAndDropInstance } from "../../src/wasm/instance.js";
import { defaultWasmBytesSync } from "../../src/wasm/source-embedded.js";

/** The core's bytes with its memory's minimum (the memory section's one-byte LEB128) set to 0 pages. */
function coreWithoutMemory(): Uint8Array {
  const bytes = defaultWasmBytesSync();
  let at = 8; // after the magic and version
  const leb = () => {
    let value = 0;
    for (let shift = 0; ; shift += 7) {
      const byte = bytes[at++];
      value += (byte & 0x7f) * 2 ** shift;
      if (byte < 0x80) return value;
    }
  };
  while (at < bytes.length) {
    const id = bytes[at++];
    const end = leb() + at;
    if (id === 5) {
      // count (1), then the limits: a flag byte, the minimum
      if (bytes[at] !== 1 || bytes[at + 2] >= 0x80) throw new Error("the core's memory section is not one memory with a one-byte minimum");
      bytes[at + 2] = 0;
      return bytes;
    }
    at = end;
  }
  throw new Error("the core has no memory section");
}

/** Drops the live instance (zeroing its memory) and leaves the glue unable to make another. */
export function dropCoreForGood(): void {
  wipeAndDropInstance();
  try {
    initSync(new WebAssembly.Module(coreWithoutMemory()));
  } catch (error) {
    if ((error as { code?: string }).code !== "WASM_UNAVAILABLE") throw error;
    return;
  }
  throw new Error("the uninstantiable module was instantiated");
}

/** Gives the glue the real core again and starts it. */
export function restoreCore(): void {
  initSync(new WebAssembly.Module(defaultWasmBytesSync()));
}
