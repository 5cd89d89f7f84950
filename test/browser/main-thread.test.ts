// Browser tier (scripts/test-browser.mjs), page "main-thread": the browser build of the package
// (package.json "imports" #wasm-source → source-url.js, which fetches chio.wasm) on Chromium's
// main thread, which refuses synchronous compiles over a size limit (4 KiB until Chromium ~M128,
// 8 MiB in the build tested here; ./sync-compile-limit.test.ts replays the 4 KiB rule). Nothing
// has called init() when these tests start: the first ones pin what happens before it (and after
// an init() given the wrong file), then `await init()` must make every API usable synchronously.
// Vector: RFC 8032 §7.1 TEST 1.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { ed25519, init, initSync, bytesToHex, hexToBytes, canonicalizeJson, WasmCoreError } from "chio-trust";

const RFC8032_TEST1 = {
  secretKey: "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
  publicKey: "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a",
  signature: "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b",
};

function wasmUnavailable(fn: () => unknown): WasmCoreError {
  try {
    fn();
  } catch (error) {
    assert.instance(error, WasmCoreError);
    assert.is((error as WasmCoreError).code, "WASM_UNAVAILABLE");
    return error as WasmCoreError;
  }
  throw new assert.Assertion({ message: "expected WasmCoreError WASM_UNAVAILABLE, got a result", operator: "throws", generated: false, expects: "", actual: "" });
}

/** A valid module of exactly `size` bytes: the header and one custom section of padding. */
function paddedModule(size: number): Uint8Array {
  const uleb = (n: number) => {
    const out: number[] = [];
    do {
      let byte = n & 0x7f;
      n = Math.floor(n / 128);
      if (n) byte |= 0x80;
      out.push(byte);
    } while (n);
    return out;
  };
  const bytes = new Uint8Array(size);
  bytes.set([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0, 0]); // header, then custom section id 0
  let payload = size - 10;
  while (9 + uleb(payload).length + payload !== size) payload += size - (9 + uleb(payload).length + payload);
  bytes.set(uleb(payload), 9); // section size; the name (length 0) and zero padding follow
  return bytes;
}

test("this main thread refuses a synchronous compile over its limit, and compiles the same bytes asynchronously", async () => {
  const big = paddedModule(8 * 1024 * 1024 + 1);
  let refused: unknown;
  try {
    new WebAssembly.Module(big);
  } catch (error) {
    refused = error;
  }
  assert.instance(refused, RangeError);
  assert.match(String(refused), /disallowed on the main thread/);
  assert.instance(await WebAssembly.compile(big), WebAssembly.Module);
});

test("before init(): a call fails with WASM_UNAVAILABLE that says to await init(), never a raw error", () => {
  const error = wasmUnavailable(() => ed25519.getPublicKey(hexToBytes(RFC8032_TEST1.secretKey)));
  assert.match(error.message, /await init\(\)/);
  wasmUnavailable(() => canonicalizeJson('{"b":1,"a":2}'));
});

test("before init(): initSync() fails with WASM_UNAVAILABLE (this build has no bytes to compile synchronously)", () => {
  const error = wasmUnavailable(() => initSync());
  assert.match(error.message, /await init\(\)/);
});

async function initRefused(source: Parameters<typeof init>[0]): Promise<WasmCoreError> {
  try {
    await init(source);
  } catch (error) {
    assert.instance(error, WasmCoreError);
    assert.is((error as WasmCoreError).code, "WASM_UNAVAILABLE");
    return error as WasmCoreError;
  }
  throw new assert.Assertion({ message: "expected init() to reject with WASM_UNAVAILABLE, it resolved", operator: "rejects", generated: false, expects: "", actual: "" });
}

// Hunt 11 R1: a valid module that is not the core was adopted half-way; every later call threw
// an engine TypeError with no code, and init() with chio.wasm (the next test) failed too.
test("init(another module) and initSync(it) are refused as not chio-trust's core, and keep nothing: calls still say to await init()", async () => {
  const empty = new Uint8Array([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00]);
  const refused = await initRefused(empty);
  assert.match(refused.message, /this WebAssembly module is not chio-trust's core: it has no function export "abortTrap"$/);
  assert.match(wasmUnavailable(() => initSync(empty)).message, /not chio-trust's core/);
  assert.match(wasmUnavailable(() => ed25519.getPublicKey(hexToBytes(RFC8032_TEST1.secretKey))).message, /await init\(\)/);
});

// Hunt 11 R2: under a dev server that pre-bundles the package, chio.wasm's URL gets the SPA
// fallback's index.html, which the engine reported only as "expected magic word".
test("init(a page's URL) says what came instead of chio.wasm, and the usual causes", async () => {
  const page = new URL("./index.html", location.href);
  const refused = await initRefused(page);
  assert.match(refused.message, `${page.href} is not WebAssembly (text/html, starts 3c 21 64 6f, looks like HTML)`);
  assert.match(refused.message, 'optimizeDeps: { exclude: ["chio-trust"] }');
});

test("await init() fetches chio.wasm and then every API works synchronously (RFC 8032 §7.1 TEST 1)", async () => {
  await init();
  const sk = hexToBytes(RFC8032_TEST1.secretKey);
  assert.is(bytesToHex(ed25519.getPublicKey(sk)), RFC8032_TEST1.publicKey);
  const signature = ed25519.sign(new Uint8Array(0), sk);
  assert.is(bytesToHex(signature), RFC8032_TEST1.signature);
  assert.ok(ed25519.verify(signature, new Uint8Array(0), hexToBytes(RFC8032_TEST1.publicKey)));
  signature[0] ^= 1;
  assert.not.ok(ed25519.verify(signature, new Uint8Array(0), hexToBytes(RFC8032_TEST1.publicKey)));
  assert.is(new TextDecoder().decode(canonicalizeJson('{"b":1,"a":2}')), '{"a":2,"b":1}');
});

test("the page fetched chio.wasm itself: no base64 copy of the core is in this bundle", async () => {
  const script = document.querySelector("script[type=module]") as HTMLScriptElement;
  const bundle = await (await fetch(script.src)).text();
  const wasmBase64Head = btoa(String.fromCharCode(0, 0x61, 0x73, 0x6d, 1, 0, 0, 0)); // "AGFzbQEAAAA"
  assert.not.ok(bundle.includes(wasmBase64Head.slice(0, 10)), "the bundle embeds a wasm module as base64");
  const fetched = performance.getEntriesByType("resource").map((e) => new URL(e.name).pathname);
  assert.ok(fetched.includes("/chio.wasm"), fetched.join(", "));
});

test.run();
