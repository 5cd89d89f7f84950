// Defect 7: the wasm instance must not be reachable through the package. Code that could write
// linear memory could poison the core's caches or tables and make verify accept forgeries
// (test/node/ed25519-memory.test.ts shows the cache side), so init/initSync return nothing and no
// public export holds the instance, its exports or its memory.
import { test } from "uvu";
import * as assert from "uvu/assert";
import * as lib from "../../src/index.js";

/** Every value reachable from `root` through own properties (and prototypes' own properties), up to `depth` levels. */
function reachable(root: unknown, depth: number, seen = new Set<unknown>()): unknown[] {
  if (root === null || (typeof root !== "object" && typeof root !== "function") || seen.has(root) || depth < 0) return [];
  seen.add(root);
  const out: unknown[] = [root];
  for (const holder of [root, Object.getPrototypeOf(root)]) {
    if (holder === null || holder === Object.prototype || holder === Function.prototype) continue;
    for (const key of Reflect.ownKeys(holder as object)) {
      const descriptor = Object.getOwnPropertyDescriptor(holder, key);
      if (descriptor && "value" in descriptor) out.push(...reachable(descriptor.value, depth - 1, seen));
    }
  }
  return out;
}

const isWasmObject = (v: unknown): boolean =>
  v instanceof WebAssembly.Memory ||
  v instanceof WebAssembly.Instance ||
  v instanceof WebAssembly.Table ||
  v instanceof WebAssembly.Global ||
  (typeof v === "object" && v !== null && (v as { memory?: unknown }).memory instanceof WebAssembly.Memory);

test("initSync and init return nothing", async () => {
  assert.is(lib.initSync(), undefined);
  assert.is(lib.initSync(), undefined); // also once instantiated
  assert.is(await lib.init(), undefined);
});

test("no public export reaches the wasm instance or its memory", () => {
  lib.ed25519.verify(new Uint8Array(64), new Uint8Array(0), new Uint8Array(32)); // instantiate
  // A plain copy of the namespace: a bundler's namespace object (esbuild's, in the browser tier)
  // exposes the exports as getters, which the walk (own data properties) would not follow.
  const values = reachable({ ...lib }, 4);
  assert.ok(values.length > 50, "the walk sees the package's exports");
  const found = values.filter(isWasmObject);
  assert.is(found.length, 0, "a public export holds a WebAssembly object");
});

test.run();
