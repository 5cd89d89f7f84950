import { test } from "uvu";
import * as assert from "uvu/assert";
import { readFileSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { CHIO_WASM_BASE64, CHIO_WASM_SHA256 } from "../../src/generated/chio-wasm.js";
import { CHIO_WASM_EXPORTS } from "../../src/generated/chio-wasm-exports.js";
import { coreExports, heapU8, ioArenaBase, reserveIo, argsBase, SIMD_PROBE, resetInstance } from "../../src/wasm/instance.js";
import { ed25519 } from "../../src/ed25519.js";
import { verifyEnvelopeBytes } from "../../src/handshake/verify-envelope.js";
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
    "ed25519_prepared_release",
    "ed25519_public_key",
    "ed25519_seed_key_index",
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

// init()/initSync() refuse a module without these (src/wasm/instance.ts assertChioCore;
// test/node/wasm-foreign-module.test.ts): the list must be the release module's own.
test("the export list modules are checked against is the release module's, names and kinds in order", () => {
  const mod = new WebAssembly.Module(Buffer.from(CHIO_WASM_BASE64, "base64"));
  assert.equal(
    Object.entries(CHIO_WASM_EXPORTS),
    WebAssembly.Module.exports(mod).map((e) => [e.name, e.kind]),
  );
  assert.is(Object.getPrototypeOf(CHIO_WASM_EXPORTS), null, "for…in over it must not see Object.prototype");
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

// The core needs fixed-width SIMD; instance.ts probes for it to explain a failed compile.
test("the SIMD probe validates here, and only because of its v128: the same module returning i32 does not", () => {
  assert.ok(WebAssembly.validate(SIMD_PROBE));
  const i32Result = SIMD_PROBE.slice();
  i32Result[14] = 0x7f; // the type's result v128 (0x7b) -> i32: the body now leaves the wrong type
  assert.is(WebAssembly.validate(i32Result), false);
  // The release core does use SIMD instructions (so a host without SIMD cannot compile it).
  assert.ok(/\bv128\.load\b/.test(readFileSync(new URL("../../build/chio.wat", import.meta.url), "utf8")));
});

test("a failed compile is WASM_UNAVAILABLE; it names missing SIMD only when the probe fails", () => {
  const run = (patch: string) => {
    const script =
      patch +
      `const { initSync } = await import(${JSON.stringify(new URL("../../src/wasm/instance.ts", import.meta.url).href)});` +
      "try { initSync(new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0, 99])); console.log('no error'); }" +
      "catch (e) { console.log(e.code + ' | ' + e.message); }";
    const r = spawnSync(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], { encoding: "utf8" });
    return r.stdout.trim() + r.stderr.trim();
  };
  const here = run("");
  assert.match(here, /^WASM_UNAVAILABLE \| cannot instantiate the chio-trust WebAssembly core: CompileError/);
  assert.not.match(here, /SIMD/);
  // A host whose engine lacks SIMD: its validate() refuses the probe (simulated by replacing validate).
  const noSimd = run("WebAssembly.validate = () => false;");
  assert.match(noSimd, /^WASM_UNAVAILABLE \| cannot instantiate the chio-trust WebAssembly core \(this host's WebAssembly has no fixed-width SIMD, which the core needs\): CompileError/);
});

// Instances are adopted inside API calls (the first call, or the one after a trap), after the
// call checked its arguments and before it copies them: no caller code may run in between. A
// getRandomValues shim that detaches whatever buffer it is handed next must never be called
// there (the key caches' position key is drawn when the module loads, src/wasm/instance.ts).
test("adopting an instance inside a call runs no caller code: a getRandomValues shim is not called, arguments stay as checked", () => {
  const seed = createHash("sha256").update("adopt seed").digest();
  const message = new TextEncoder().encode("hello");
  const publicKey = ed25519.getPublicKey(seed);
  const signature = ed25519.sign(message, seed);
  const crypto = globalThis.crypto;
  const original = crypto.getRandomValues;
  let calls = 0;
  let victim: Uint8Array | undefined;
  Object.defineProperty(crypto, "getRandomValues", {
    configurable: true,
    writable: true,
    value: <T extends ArrayBufferView | null>(array: T): T => {
      calls++;
      if (victim) structuredClone(victim.buffer, { transfer: [victim.buffer as ArrayBuffer] });
      return array;
    },
  });
  try {
    for (const call of [
      () => ed25519.sign((victim = Uint8Array.from(message)), seed),
      () => ed25519.verify(signature, (victim = Uint8Array.from(message)), publicKey),
      () => ed25519.verify((victim = Uint8Array.from(signature)), message, publicKey),
      () => ed25519.getPublicKey((victim = Uint8Array.from(seed))),
      () => verifyEnvelopeBytes((victim = new TextEncoder().encode("{}"))),
    ]) {
      resetInstance();
      const result = call();
      assert.ok(victim!.byteLength > 0, "the argument was not detached during the call");
      if (result instanceof Uint8Array) assert.ok(result.length > 0);
    }
    resetInstance();
    assert.equal(ed25519.sign(message, seed), signature, "the signature of the message as given");
    assert.ok(ed25519.verify(signature, message, publicKey));
    assert.is(calls, 0, "getRandomValues was never called by these calls");
  } finally {
    // The shim is an own property over Crypto.prototype's method (checked below).
    delete (crypto as { getRandomValues?: unknown }).getRandomValues;
  }
  assert.is(globalThis.crypto.getRandomValues, original, "the original is back");
});

test.run();
