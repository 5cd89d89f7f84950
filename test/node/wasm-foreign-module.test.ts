// init()/initSync() given a module that is not chio-trust's core (hunt 11 R1: another .wasm
// served at chio.wasm's URL, a stale or substituted file), and init(url) answered with something
// that is not WebAssembly at all (hunt 11 R2: a dev server's SPA fallback, index.html). The
// module is refused with WasmCoreError WASM_UNAVAILABLE saying what it is (src/wasm/instance.ts
// assertChioCore, src/wasm/fetch-wasm.ts), and nothing of it is kept: before, it was adopted
// half-way, every later call threw an engine TypeError with no code, init() with the right
// source resolved or failed without effect, and initSync(right bytes) returned doing nothing.
//
// Each case runs in a fresh process (the library has one instance per realm, and these tests
// must start before anything else has started it), against src/ through tsx.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { spawnSync } from "node:child_process";
import { CHIO_WASM_BASE64 } from "../../src/generated/chio-wasm.js";

const CORE = Buffer.from(CHIO_WASM_BASE64, "base64");
/** The smallest valid module: the header alone (it stands for any other .wasm file). */
const EMPTY = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];
/** A module whose only export is a memory named "abortTrap", the core's first function export. */
const MEMORY_AS_FUNCTION = [...EMPTY, 0x05, 0x03, 0x01, 0x00, 0x01, 0x07, 0x0d, 0x01, 0x09, ...Buffer.from("abortTrap"), 0x02, 0x00];

/**
 * The core with an import section after its type section: a table env.t, which shifts no
 * function, memory or global index, so the module still compiles and has every export.
 */
function coreWithImport(): number[] {
  let end = 9; // the type section (id 1) comes first, its size as LEB128 from here
  let size = 0;
  for (let shift = 0; ; shift += 7) {
    const byte = CORE[end++];
    size |= (byte & 0x7f) << shift;
    if (!(byte & 0x80)) break;
  }
  end += size;
  const entry = [3, ...Buffer.from("env"), 1, ...Buffer.from("t"), 0x01, 0x70, 0x00, 0x01]; // table funcref, min 1
  return [...CORE.subarray(0, end), 0x02, entry.length + 1, 0x01, ...entry, ...CORE.subarray(end)];
}

const src = (file: string) => JSON.stringify(new URL(`../../src/${file}`, import.meta.url).href);

/**
 * Runs `body` in a fresh Node with the library loaded, `core` (the core's bytes) and `foreign`
 * (the given bytes) defined; returns the lines it printed.
 */
function child(body: string, foreign: readonly number[] = []): string[] {
  const script =
    `const { init, initSync } = await import(${src("wasm/instance.ts")});` +
    `const { ed25519 } = await import(${src("ed25519.ts")});` +
    "const core = new Uint8Array(Buffer.from(process.env.CHIO_CORE, 'base64'));" +
    "const foreign = new Uint8Array(Buffer.from(process.env.CHIO_FOREIGN, 'base64'));" +
    "const show = (e) => (e && e.code ? e.code : 'no code') + ' | ' + (e && e.name) + ': ' + (e && e.message);" +
    "const attempt = async (f) => { try { await f(); return 'ok'; } catch (e) { return show(e); } };" +
    "const call = () => ed25519.getPublicKey(new Uint8Array(32)).length === 32 || Promise.reject(new Error('wrong key'));" +
    body;
  const r = spawnSync(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], {
    encoding: "utf8",
    env: { ...process.env, CHIO_CORE: CHIO_WASM_BASE64, CHIO_FOREIGN: Buffer.from(foreign).toString("base64") },
    timeout: 60_000,
  });
  assert.is(r.stderr.trim(), "", "the child wrote to stderr");
  return r.stdout.trim().split("\n");
}

const NOT_CORE = /^WASM_UNAVAILABLE \| WasmCoreError: cannot instantiate the chio-trust WebAssembly core: Error: this WebAssembly module is not chio-trust's core: /;

for (const [name, bytes, why] of [
  ["the empty module", EMPTY, 'it has no function export "abortTrap"'],
  ["a module whose export has another kind", MEMORY_AS_FUNCTION, 'it has no function export "abortTrap"'],
  ["the core with an import", coreWithImport(), "it has imports"],
] as const) {
  test(`initSync(${name}) is refused as not chio-trust's core, keeps nothing: calls, then initSync(the core's bytes), work`, () => {
    const [refused, callAfter, again, callAfterAgain] = child(
      "console.log(await attempt(() => initSync(foreign)));" +
        // The first call starts the embedded core (Node's default source), not the refused module.
        "console.log(await attempt(call));" +
        "console.log(await attempt(() => initSync(core)));" +
        "console.log(await attempt(call));",
      bytes,
    );
    assert.equal([callAfter, again, callAfterAgain], ["ok", "ok", "ok"], `nothing of the refused module may stay (it was refused with: ${refused})`);
    assert.match(refused, NOT_CORE);
    assert.ok(refused.endsWith(why), refused);
  });

  test(`init(${name}) rejects as not chio-trust's core, keeps nothing: init(the core's bytes) then works`, () => {
    const lines = child(
      "console.log(await attempt(() => init(foreign)));" +
        "console.log(await attempt(() => init(new WebAssembly.Module(foreign))));" +
        "console.log(await attempt(() => init(core)));" +
        "console.log(await attempt(call));",
      bytes,
    );
    assert.equal(lines.slice(2), ["ok", "ok"], `nothing of the refused module may stay (it was refused with: ${lines[0]})`);
    assert.match(lines[0], NOT_CORE);
    assert.ok(lines[0].endsWith(why), lines[0]);
    assert.is(lines[1], lines[0], "a compiled module is refused alike");
  });
}

test("init(a foreign module) then a call, as an app that catches init's error would: the call works on the embedded core", () => {
  // Before: the half-adopted foreign instance stayed current; this call threw
  // "TypeError: WebAssembly.Memory.buffer: Receiver is not a WebAssembly.Memory" (no code).
  const [refused, callAfter] = child(
    "console.log(await attempt(() => init(foreign)));" + "console.log(await attempt(call));",
    EMPTY,
  );
  assert.is(callAfter, "ok", `nothing of the refused module may stay (it was refused with: ${refused})`);
  assert.match(refused, NOT_CORE);
});

test("init(url) answered with HTML (a dev server's SPA fallback) names the URL, the content type, what came, the usual causes and the way out", () => {
  const lines = child(
    "const { createServer } = await import('node:http');" +
      "const server = createServer((req, res) => { res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }); res.end('<!doctype html><title>app</title>'); });" +
      "await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));" +
      "const url = new URL('/node_modules/.vite/chio.wasm', 'http://127.0.0.1:' + server.address().port);" +
      "console.log(url.href);" +
      "console.log(await attempt(() => init(url)));" +
      // Nothing was kept: the right bytes then work.
      "console.log(await attempt(() => init(core)));" +
      "server.close();",
  );
  const [url, refused, after] = lines;
  assert.is(after, "ok");
  assert.ok(refused.startsWith(`WASM_UNAVAILABLE | WasmCoreError: cannot instantiate the chio-trust WebAssembly core: Error: ${url} is not WebAssembly (text/html, starts 3c 21 64 6f, looks like HTML): a dev server that pre-bundles dependencies`), refused);
  assert.match(refused, 'Vite: optimizeDeps: { exclude: ["chio-trust"] }');
  assert.match(refused, "or a missing chio.wasm is the usual cause");
  assert.match(refused, "init(url) with the file's URL works");
});

test("init(a Response) whose body is empty and has no content type says so", () => {
  const [refused] = child("console.log(await attempt(() => init(new Response(new Uint8Array(0)))));");
  assert.match(refused, /Error: chio\.wasm is not WebAssembly \(no content type, empty\): a dev server/);
});

test("init(a promise of the bytes or of nothing) says it wanted a Response, then works given the bytes", () => {
  const lines = child(
    "console.log(await attempt(() => init(Promise.resolve(core))));" +
      "console.log(await attempt(() => init(Promise.resolve(null))));" +
      "console.log(await attempt(() => init(Promise.resolve(undefined))));" +
      "console.log(await attempt(() => init(core)));" +
      "console.log(await attempt(call));",
  );
  const wanted = (what: string) =>
    `WASM_UNAVAILABLE | WasmCoreError: cannot instantiate the chio-trust WebAssembly core: TypeError: init() was given a promise of ${what}, not of a fetch Response: pass bytes or a WebAssembly.Module to init() itself`;
  assert.equal(lines, [wanted("object"), wanted("null"), wanted("undefined"), "ok", "ok"]);
});

test.run();
