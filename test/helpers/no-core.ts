// Makes the library's core impossible to instantiate, as a host out of memory would, and brings
// it back. The glue instantiates through WebAssembly.Instance as captured when it loaded (review
// 70 F1), so replacing the global no longer reaches it; instead initSync() is given a module that
// cannot be instantiated (it imports a function, and the core is instantiated with no imports),
// which the glue keeps as its compiled module: every call that needs a new instance then fails
// with WASM_UNAVAILABLE until restoreCore() gives it the real module again.
//
// Not a suite: uvu imports every file under test/, this one included; it registers no tests.
import { initSync, wipeAndDropInstance } from "../../src/wasm/instance.js";
import { defaultWasmBytesSync } from "../../src/wasm/source-embedded.js";

// (module (import "a" "b" (func)))
const UNINSTANTIABLE = new Uint8Array([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x04, 0x01, 0x60, 0x00, 0x00, 0x02, 0x07, 0x01, 0x01, 0x61, 0x01, 0x62, 0x00, 0x00]);

/** Drops the live instance (zeroing its memory) and leaves the glue unable to make another. */
export function dropCoreForGood(): void {
  wipeAndDropInstance();
  try {
    initSync(new WebAssembly.Module(UNINSTANTIABLE));
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
