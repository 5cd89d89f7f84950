// esbuild build as a classic script (`format: "iife"`, as for a `<script>` tag or a classic Web
// Worker): such a bundle has no `import.meta`, so it must load without one (review 72 F1: it
// threw at load) and tell init() where chio.wasm is, here from the page's own address.
import { init, ed25519, WasmCoreError } from "chio-trust";
import { runChecks } from "./checks.js";

/**
 * Before init(), a call and init() with no argument fail WASM_UNAVAILABLE saying that this
 * bundle cannot find chio.wasm itself and init() must be told where it is (a mutation audit found
 * that the bundle could have said "Invalid URL" instead, from `new URL(…, undefined)`, with no
 * test failing).
 */
async function beforeInit() {
  const says = (error, what) => {
    const ok =
      error instanceof WasmCoreError &&
      error.code === "WASM_UNAVAILABLE" &&
      error.message.includes("this bundle has no URL of its own to find chio.wasm from: call `await init(urlOrBytesOrModule)`");
    if (!ok) throw new Error(`${what}: ${(error && error.stack) || error}`);
  };
  let call;
  try {
    call = ed25519.getPublicKey(new Uint8Array(32));
  } catch (error) {
    call = error;
  }
  says(call, "a call before init()");
  let noArgument;
  try {
    await init();
    noArgument = "init() resolved";
  } catch (error) {
    noArgument = error;
  }
  says(noArgument, "init() with no argument");
}

runChecks("esbuild-iife", () => init(new URL("./chio.wasm", document.baseURI)), beforeInit);
