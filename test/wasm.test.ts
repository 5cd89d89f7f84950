import { test } from "uvu";
import * as assert from "uvu/assert";
import { readFileSync } from "node:fs";
import { createHash } from "node:crypto";
import { CHIO_WASM_BASE64, CHIO_WASM_SHA256 } from "../src/generated/chio-wasm.js";
import { coreExports, heapU8, ioArenaBase, reserveIo, argsBase } from "../src/wasm/instance.js";
import { ARGS_BYTES } from "../src/wasm/abi.js";

test("embedded wasm matches its recorded digest and the built file", () => {
  const bytes = Buffer.from(CHIO_WASM_BASE64, "base64");
  assert.is(createHash("sha256").update(bytes).digest("hex"), CHIO_WASM_SHA256);
  // Compare digests, not arrays: uvu's diff of two 100 KB arrays that differ takes minutes.
  const built = readFileSync(new URL("../build/chio.wasm", import.meta.url));
  assert.is(createHash("sha256").update(built).digest("hex"), CHIO_WASM_SHA256);
});

test("module has no imports", () => {
  const mod = new WebAssembly.Module(Buffer.from(CHIO_WASM_BASE64, "base64"));
  assert.equal(WebAssembly.Module.imports(mod), []);
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
