// Browser tier (scripts/test-browser.mjs), page "sync-compile-limit": the embedded-bytes build on
// a main thread that refuses synchronous compiles over 4 KiB, as Chromium did until ~M128 (and
// WebViews built from it still do; the Chromium tested here allows 8 MiB, see
// ./main-thread.test.ts). The rule is replayed exactly as Chromium enforced it: `new
// WebAssembly.Module(bytes)` and `new WebAssembly.Instance` of such a module throw RangeError
// over 4096 bytes. The lazy first use must then fail with a typed error, never a raw RangeError,
// and `await init()` must make everything work.
// The rule is installed by ./sync-compile-limit-rule.ts, imported first: an engine's rule is in
// place before any script runs, and the library captures the constructors as it loads.
import { refused, refusedInstances } from "./sync-compile-limit-rule.js";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { ed25519, init, bytesToHex, hexToBytes, canonicalizeJson, WasmCoreError } from "chio-trust";
import { heapU8, preparedSlabLayoutCount, wipeAndDropInstance } from "../../src/wasm/instance.js";

/** A call now fails with WasmCoreError WASM_UNAVAILABLE whose cause is the rule's RangeError. */
function expectUnavailableByTheRule(): void {
  let caught: unknown;
  try {
    ed25519.getPublicKey(new Uint8Array(32));
  } catch (error) {
    caught = error;
  }
  assert.instance(caught, WasmCoreError);
  assert.is((caught as WasmCoreError).code, "WASM_UNAVAILABLE");
  assert.instance((caught as WasmCoreError).cause, RangeError);
}

test("lazy first use: WasmCoreError WASM_UNAVAILABLE carrying the RangeError, never a raw error", () => {
  expectUnavailableByTheRule();
  assert.ok(refused.count >= 1);
});

test("await init() compiles asynchronously; then every API works synchronously (RFC 8032 §7.1 TEST 1)", async () => {
  await init();
  assert.is(refusedInstances.count, 1, "init() first tries the synchronous instance the rule refuses, then instantiates asynchronously");
  const sk = hexToBytes("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60");
  assert.is(bytesToHex(ed25519.getPublicKey(sk)), "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a");
  const sig = ed25519.sign(new Uint8Array(0), sk);
  assert.ok(ed25519.verify(sig, new Uint8Array(0), ed25519.getPublicKey(sk)));
  assert.is(new TextDecoder().decode(canonicalizeJson("[1e3]")), "[1000]");
});

// What the README ("The main thread") says of a trap on such a thread: the rebuild cannot be
// synchronous either, so calls fail typed until the page awaits init() again. A trap drops the
// instance through wipeAndDropInstance (src/wasm/instance.ts contained()).
test("after a trap drops the instance, calls are WASM_UNAVAILABLE (the RangeError as cause) until await init() again", async () => {
  const before = refusedInstances.count;
  wipeAndDropInstance();
  expectUnavailableByTheRule();
  assert.is(refusedInstances.count, before + 1, "the rebuild tried the synchronous instance");
  await init();
  const seed = hexToBytes("4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb"); // RFC 8032 §7.1 TEST 2
  assert.is(bytesToHex(ed25519.getPublicKey(seed)), "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c");
});

// Hunt 27: init() awaited the asynchronous instance after checking that none was running, and
// adopted it without checking again, so two init() calls at once (modules of one page that each
// `await init()`) adopted two instances; the second dropped the first unwiped, with a key prepared
// in it meanwhile, which was then PREPARED_KEY_LOST. test/node/wasm-source-audit.test.ts has the
// same case under Node with this rule simulated.
test("two init() calls at once adopt one instance: a key prepared when the first resolves still signs after both", async () => {
  wipeAndDropInstance();
  const layouts = preparedSlabLayoutCount();
  const seed = hexToBytes("4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb"); // RFC 8032 §7.1 TEST 2
  let key: ReturnType<typeof ed25519.prepareSecretKey> | undefined;
  let memory: ArrayBufferLike | undefined;
  const first = init().then(() => {
    memory = heapU8().buffer;
    key = ed25519.prepareSecretKey(seed);
  });
  await Promise.all([first, init()]);
  assert.is(preparedSlabLayoutCount(), layouts + 1, "one instance adopted");
  assert.ok(memory === heapU8().buffer, "the instance the key was prepared in is the live one");
  const message = hexToBytes("72");
  assert.is(bytesToHex(ed25519.sign(message, key!)), bytesToHex(ed25519.sign(message, seed)));
});

test.run();
