import { test } from "uvu";
import * as assert from "uvu/assert";
import { readFileSync } from "node:fs";
import { createHash } from "node:crypto";
import { CHIO_WASM_BASE64, CHIO_WASM_SHA256 } from "../../src/generated/chio-wasm.js";
import { coreExports, heapU8, ioArenaBase, reserveIo, argsBase } from "../../src/wasm/instance.js";
import { ARGS_BYTES } from "../../src/wasm/abi.js";
import { TEST_WASM_PATH } from "../helpers/test-core.js";

test("embedded wasm matches its recorded digest and the built file", () => {
  const bytes = Buffer.from(CHIO_WASM_BASE64, "base64");
  assert.is(createHash("sha256").update(bytes).digest("hex"), CHIO_WASM_SHA256);
  // Compare digests, not arrays: uvu's diff of two 100 KB arrays that differ takes minutes.
  const built = readFileSync(new URL("../../build/chio.wasm", import.meta.url));
  assert.is(createHash("sha256").update(built).digest("hex"), CHIO_WASM_SHA256);
});

test("module has no imports", () => {
  const mod = new WebAssembly.Module(Buffer.from(CHIO_WASM_BASE64, "base64"));
  assert.equal(WebAssembly.Module.imports(mod), []);
});

// Test-only hooks (assembly/testing.ts) live in build/chio.test.wasm only: the shipped module
// exports exactly the library's entry points and its memory.
test("release module exports no test hook", () => {
  const mod = new WebAssembly.Module(Buffer.from(CHIO_WASM_BASE64, "base64"));
  const names = WebAssembly.Module.exports(mod).map((e) => e.name).sort();
  assert.equal(names, [
    "abortTrap",
    "args_ptr",
    "ed25519_destroy_prepared",
    "ed25519_inspect_public_key",
    "ed25519_prepare_public_key",
    "ed25519_prepare_secret",
    "ed25519_prepared_configure",
    "ed25519_prepared_free",
    "ed25519_public_key",
    "ed25519_sign",
    "ed25519_sign_prepared",
    "ed25519_verify",
    "ed25519_verify_batch",
    "ed25519_verify_prepared",
    "envelope_verify",
    "envelope_verify_batch",
    "io_base",
    "io_reserve",
    "json_canonicalize",
    "memory",
    "sha512",
  ]);
  for (const name of names) assert.not.match(name, /^test_|_f64$/, name);
  // and the test build does have them (so the list above is not vacuous)
  const testNames = WebAssembly.Module.exports(new WebAssembly.Module(readFileSync(TEST_WASM_PATH))).map((e) => e.name);
  for (const hook of ["test_fe_mul", "test_sc_muladd", "format_f64", "parse_f64", "ge_is_torsion_free_vartime", "test_msm"]) assert.ok(testNames.includes(hook), hook);
  for (const name of names) assert.ok(testNames.includes(name), `test build lacks ${name}`);
});

test("I/O arena grows on demand and the heap view follows", () => {
  const x = coreExports();
  const base = ioArenaBase();
  assert.ok(base >= argsBase() + ARGS_BYTES);
  assert.is(base % 16, 0);
  const before = x.memory.buffer.byteLength;
  reserveIo(before + 65536);
  assert.ok(x.memory.buffer.byteLength >= base + before + 65536);
  const view = heapU8();
  view[base + before] = 7;
  assert.is(heapU8()[base + before], 7);
});

test.run();
