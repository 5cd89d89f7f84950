// Browser tier (scripts/test-browser.mjs), page "no-compile-host": a host that forbids compiling
// WebAssembly from bytes (as Cloudflare-style edge runtimes do) and hands the program a compiled
// WebAssembly.Module instead. The module is compiled before the ban (the host's part), then every
// byte-compiling entry point of WebAssembly throws; `init(module)` must work without touching any
// of them. Bundle: the default (embedded-bytes) build, so a byte compile WOULD happen if init
// ignored the module.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { ed25519, init, bytesToHex, hexToBytes, verifyEnvelopeBytes } from "chio-trust";

const hostModule = await WebAssembly.compileStreaming(fetch("/chio.wasm"));
const attempts: string[] = [];
const W = WebAssembly as unknown as Record<string, unknown>;
const RealModule = WebAssembly.Module;
const realInstantiate = WebAssembly.instantiate;
function banned(name: string): never {
  attempts.push(name);
  throw new Error(`${name}: compiling WebAssembly from bytes is disallowed by the embedder`);
}
W.compile = () => Promise.reject(banned("WebAssembly.compile"));
W.compileStreaming = () => Promise.reject(banned("WebAssembly.compileStreaming"));
W.instantiateStreaming = () => Promise.reject(banned("WebAssembly.instantiateStreaming"));
W.instantiate = (source: unknown, imports?: WebAssembly.Imports) =>
  source instanceof RealModule ? realInstantiate(source, imports) : Promise.reject(banned("WebAssembly.instantiate(bytes)"));
W.Module = new Proxy(RealModule, { construct: () => banned("new WebAssembly.Module") });

test("the ban is in force: compiling bytes throws", async () => {
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

test.run();
