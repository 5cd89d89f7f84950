// The browser build (package.json imports: #wasm-source → source-url.js, chosen here with Node's
// --conditions=browser) has no core to compile until init() runs. A call before it fails with
// WASM_UNAVAILABLE saying to call init(), and on a host whose WebAssembly lacks fixed-width SIMD
// (WebAssembly.validate of the SIMD probe false, as review 72 F9 simulated it) the message does
// not blame SIMD, which is not the cause of that failure.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { execFileSync } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), "..", "..");

function firstCallError(simd: boolean): [string, string, string] {
  const script = [
    simd ? "" : "WebAssembly.validate = () => false;",
    `const lib = await import(${JSON.stringify(path.join(root, "dist", "esm", "index.js"))});`,
    "try { lib.ed25519.getPublicKey(new Uint8Array(32)); console.log(JSON.stringify(null)); }",
    "catch (e) { console.log(JSON.stringify([e.name, e.code, e.message])); }",
  ].join("\n");
  const out = execFileSync(process.execPath, ["--conditions=browser", "--input-type=module", "-e", script], { encoding: "utf8", timeout: 60_000 });
  return JSON.parse(out.trim());
}

test("before init(), the browser build's first call says to call init(), and never blames SIMD", () => {
  for (const simd of [true, false]) {
    const error = firstCallError(simd);
    assert.ok(Array.isArray(error), `simd ${simd}: the call returned`);
    assert.equal(error.slice(0, 2), ["WasmCoreError", "WASM_UNAVAILABLE"], `simd ${simd}`);
    assert.match(error[2], "call `await init()` once before using it", `simd ${simd}`);
    assert.not.match(error[2], /SIMD/, `simd ${simd}: ${error[2]}`);
  }
});

test.run();
