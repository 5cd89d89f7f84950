// Browser tier (scripts/test-browser.mjs), page "no-compile-host": a host that forbids compiling
// WebAssembly from bytes (as Cloudflare-style edge runtimes do) and hands the program a compiled
// WebAssembly.Module instead. ./no-compile-host-ban.ts, imported first, compiles the module (the
// host's part) and then makes every byte-compiling entry point of WebAssembly throw, before the
// library loads and captures them; `init(module)` must work without touching any of them.
// Bundle: the default (embedded-bytes) build, so a byte compile WOULD happen if init ignored the
// module.
import { attempts, hostModule } from "./no-compile-host-ban.js";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { ed25519, init, bytesToHex, hexToBytes, verifyEnvelopeBytes, WasmCoreError } from "chio-trust";
import { wipeAndDropInstance } from "../../src/wasm/instance.js";

test("the ban is in force, for the library too: a call before init() fails WASM_UNAVAILABLE after a refused compile", async () => {
  let before: unknown;
  try {
    ed25519.getPublicKey(new Uint8Array(32));
  } catch (error) {
    before = error;
  }
  assert.instance(before, WasmCoreError);
  assert.is((before as WasmCoreError).code, "WASM_UNAVAILABLE");
  assert.equal(attempts, ["new WebAssembly.Module"]);

  const bytes = new Uint8Array(await (await fetch("/chio.wasm")).arrayBuffer());
  let refused = false;
  try {
    await WebAssembly.compile(bytes);
  } catch {
    refused = true;
  }
  assert.ok(refused);
  attempts.length = 0;
});

test("init(module) with the host's compiled module works and compiles nothing", async () => {
  await init(hostModule);
  const seed = hexToBytes("4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb"); // RFC 8032 §7.1 TEST 2
  assert.is(bytesToHex(ed25519.getPublicKey(seed)), "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c");
  const sig = ed25519.sign(new Uint8Array([0x72]), seed);
  assert.is(bytesToHex(sig), "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00");
  assert.is(verifyEnvelopeBytes("{}").ok, false);
  assert.equal(attempts, []);
});

// A trap drops the instance (src/wasm/instance.ts contained()); the next call must rebuild it from
// the module init() was given, since this host refuses the embedded bytes. A mutation audit found
// that init() could have forgotten that module, leaving every later call WASM_UNAVAILABLE, with no
// test failing.
test("after the instance is dropped (as a trap drops it), the next call rebuilds it from the host's module, compiling nothing", () => {
  wipeAndDropInstance();
  const seed = hexToBytes("c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7"); // RFC 8032 §7.1 TEST 3
  assert.is(bytesToHex(ed25519.getPublicKey(seed)), "fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025");
  assert.is(
    bytesToHex(ed25519.sign(hexToBytes("af82"), seed)),
    "6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a",
  );
  assert.equal(attempts, []);
});

test.run();
