// The browser build's ways into the core, run in Node: dist/esm/index.js under
// --conditions=browser (package.json "imports": #wasm-source → source-url.js, which fetches
// chio.wasm), one fresh child process per case, since init() adopts one core per realm and keeps
// it. chio.wasm is served by a real HTTP server on loopback started here, with the headers a
// misconfigured or a correct server sends; the outputs are checked against node:crypto.
// A mutation audit found these paths without a test: init(Response) and init(Promise<Response>)
// (only init(URL) and init() ran, in the browser tier), the refusal of a non-ok response (a 404
// page, or one whose body is a module), the compile from the whole body when the server does not
// say application/wasm, init(bytes), the core after its instance is dropped (as a trap drops it),
// and where the default source looks for chio.wasm (../../chio.wasm from dist/esm/wasm/).
// Hunt 11 found two more: a page at chio.wasm's URL (a dev server's SPA fallback) was reported as
// the engine's "expected magic word", and another module there was adopted half-way, leaving the
// library broken until reload.
// The first call before init() must say to call init() and, on a host whose WebAssembly lacks
// fixed-width SIMD (WebAssembly.validate false, as review 72 F9 simulated it), must not blame SIMD,
// which is not the cause of that failure.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { execFile } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { nodePublicKeyBytes, nodeSign } from "../helpers/ed25519-oracles.js";

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), "..", "..");
const distIndex = path.join(root, "dist", "esm", "index.js");
const distInstance = path.join(root, "dist", "esm", "wasm", "instance.js");
const wasmFile = path.join(root, "dist", "chio.wasm");
const wasm = readFileSync(wasmFile);

const SEED = "833fe62409237b9d62ec77587520911e9a759cec1d19755b7da901b96dca3d42"; // RFC 8032 §7.1 TEST SHA(abc)'s key
const MESSAGE = "chio wasm source audit";

/** node:crypto's public key and signature for SEED over MESSAGE. */
const oracle = {
  publicKey: Buffer.from(nodePublicKeyBytes(Buffer.from(SEED, "hex"))).toString("hex"),
  signature: Buffer.from(nodeSign(Buffer.from(SEED, "hex"), Buffer.from(MESSAGE))).toString("hex"),
};

/** Paths the loopback server answers, each with its status, content type and body. */
const ROUTES: Record<string, { status: number; type: string; body: Buffer }> = {
  "/wasm/chio.wasm": { status: 200, type: "application/wasm", body: wasm },
  "/octet/chio.wasm": { status: 200, type: "application/octet-stream", body: wasm },
  "/missing/chio.wasm": { status: 404, type: "text/plain", body: Buffer.from("not found") },
  // A server that answers an error status with a module body (a stale cache, a catch-all):
  // an error response is refused whatever it carries.
  "/error-with-module/chio.wasm": { status: 503, type: "application/wasm", body: wasm },
  // A dev server's SPA fallback: any path it has no file for gets index.html (hunt 11 R2, Vite's
  // dev server with the package pre-bundled into node_modules/.vite/deps).
  "/node_modules/.vite/chio.wasm": { status: 200, type: "text/html", body: Buffer.from("<!doctype html>\n<title>app</title>\n") },
  // Another module at chio.wasm's URL (hunt 11 R1): the smallest valid one, the header alone.
  "/other/chio.wasm": { status: 200, type: "application/wasm", body: Buffer.from([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00]) },
};
let server: Server;
let origin = "";

test.before(async () => {
  server = createServer((req, res) => {
    const route = ROUTES[new URL(req.url ?? "/", "http://127.0.0.1").pathname];
    if (!route) {
      res.writeHead(500, { "content-type": "text/plain" }).end("no such route");
      return;
    }
    res.writeHead(route.status, { "content-type": route.type, "cache-control": "no-store" }).end(route.body);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  origin = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
});

test.after(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

/**
 * Runs `body` in a fresh Node (browser build) with `lib` (dist/esm/index.js), `origin`, `wasmFile`,
 * `use()` (the key and signature of SEED over MESSAGE, or the error of that call) and
 * `describe(error)` in scope; returns what it passed to `done`. `prelude` runs before the library
 * loads (to change the host it finds).
 */
function inBrowserBuild(body: string, prelude = ""): Promise<any> {
  const script = [
    prelude,
    `const lib = await import(${JSON.stringify(pathToFileURL(distIndex).href)});`,
    `const origin = ${JSON.stringify(origin)};`,
    `const wasmFile = ${JSON.stringify(wasmFile)};`,
    `const describe = (e) => e instanceof lib.WasmCoreError ? { code: e.code, message: e.message } : { raw: String(e && e.stack || e) };`,
    `const use = () => { try { const seed = lib.hexToBytes(${JSON.stringify(SEED)}); return { publicKey: lib.bytesToHex(lib.ed25519.getPublicKey(seed)), signature: lib.bytesToHex(lib.ed25519.sign(new TextEncoder().encode(${JSON.stringify(MESSAGE)}), seed)) }; } catch (e) { return describe(e); } };`,
    `const done = (value) => process.stdout.write(JSON.stringify(value));`,
    body,
  ].join("\n");
  return new Promise((resolve, reject) => {
    execFile(process.execPath, ["--conditions=browser", "--input-type=module", "-e", script], { encoding: "utf8", timeout: 60_000 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`${error.message}\n${stderr}`));
      else resolve(JSON.parse(stdout));
    });
  });
}

const works = { publicKey: oracle.publicKey, signature: oracle.signature };

test("before init(), the first call says to call init(), and never blames SIMD, with SIMD or without", async () => {
  for (const prelude of ["", "WebAssembly.validate = () => false;"]) {
    const r = await inBrowserBuild(`done(use());`, prelude);
    assert.is(r.code, "WASM_UNAVAILABLE", `${prelude}: ${JSON.stringify(r)}`);
    assert.match(r.message, "call `await init()` once before using it", prelude);
    assert.not.match(r.message, /SIMD/, `${prelude}: ${r.message}`);
  }
});

test("this is the browser build: before init() a call fails WASM_UNAVAILABLE naming dist/chio.wasm, the file the package ships", async () => {
  const r = await inBrowserBuild(`done(use());`);
  assert.is(r.code, "WASM_UNAVAILABLE", JSON.stringify(r));
  const named = /fetches its WebAssembly core from (\S+): call `await init\(\)`/.exec(r.message);
  assert.ok(named, r.message);
  assert.is(named![1], pathToFileURL(wasmFile).href);
  assert.ok(existsSync(fileURLToPath(named![1])));
});

test("init(URL) served as application/wasm", async () => {
  assert.equal(await inBrowserBuild(`await lib.init(new URL("/wasm/chio.wasm", origin)); done(use());`), works);
});

test("init(Response) whose server did not say application/wasm compiles the whole body", async () => {
  assert.equal(await inBrowserBuild(`await lib.init(await fetch(origin + "/octet/chio.wasm")); done(use());`), works);
});

test("init(Response) of a file read here (no URL, no content type)", async () => {
  const r = await inBrowserBuild(`const fs = await import("node:fs"); await lib.init(new Response(fs.readFileSync(wasmFile))); done(use());`);
  assert.equal(r, works);
});

test("init(Promise<Response>): a fetch not awaited, for both content types", async () => {
  for (const where of ["/wasm/chio.wasm", "/octet/chio.wasm"]) {
    assert.equal(await inBrowserBuild(`await lib.init(fetch(origin + ${JSON.stringify(where)})); done(use());`), works, where);
  }
});

test("init(bytes): a Uint8Array and an ArrayBuffer of chio.wasm", async () => {
  for (const form of ["new Uint8Array(fs.readFileSync(wasmFile))", "new Uint8Array(fs.readFileSync(wasmFile)).buffer"]) {
    const r = await inBrowserBuild(`const fs = await import("node:fs"); await lib.init(${form}); done(use());`);
    assert.equal(r, works, form);
  }
});

test("a 404 is refused with WASM_UNAVAILABLE naming the URL and the status; nothing is adopted, and a later init(good URL) works", async () => {
  const r = await inBrowserBuild(`
    let first;
    try { await lib.init(new URL("/missing/chio.wasm", origin)); first = "resolved"; } catch (e) { first = describe(e); }
    const between = use();
    await lib.init(new URL("/wasm/chio.wasm", origin));
    done({ first, between, after: use() });`);
  assert.is(r.first.code, "WASM_UNAVAILABLE", JSON.stringify(r.first));
  assert.ok(r.first.message.includes(`fetching ${origin}/missing/chio.wasm failed: HTTP 404`), r.first.message);
  assert.is(r.between.code, "WASM_UNAVAILABLE", JSON.stringify(r.between));
  assert.equal(r.after, works);
});

test("a page (a dev server's SPA fallback) at chio.wasm's URL is refused naming the URL, the content type, HTML, the usual causes and init(url); a later init(good URL) works", async () => {
  const r = await inBrowserBuild(`
    let first;
    try { await lib.init(new URL("/node_modules/.vite/chio.wasm", origin)); first = "resolved"; } catch (e) { first = describe(e); }
    await lib.init(new URL("/wasm/chio.wasm", origin));
    done({ first, after: use() });`);
  assert.is(r.first.code, "WASM_UNAVAILABLE", JSON.stringify(r.first));
  assert.match(r.first.message, `${origin}/node_modules/.vite/chio.wasm is not WebAssembly (text/html, starts 3c 21 64 6f, looks like HTML)`);
  assert.match(r.first.message, 'a dev server that pre-bundles dependencies (Vite: optimizeDeps: { exclude: ["chio-trust"] }) or a missing chio.wasm is the usual cause');
  assert.match(r.first.message, "init(url) with the file's URL works");
  assert.equal(r.after, works);
});

test("another module at chio.wasm's URL is refused as not chio-trust's core, and nothing of it is kept: calls stay WASM_UNAVAILABLE, init(good URL) works", async () => {
  const r = await inBrowserBuild(`
    let first;
    try { await lib.init(new URL("/other/chio.wasm", origin)); first = "resolved"; } catch (e) { first = describe(e); }
    const between = use();
    let again;
    try { await lib.init(new URL("/wasm/chio.wasm", origin)); again = "resolved"; } catch (e) { again = describe(e); }
    done({ first, between, again, after: use() });`);
  // Before: the module was adopted half-way; the call between was a raw TypeError (no code) and init(good URL) failed alike.
  assert.equal([r.again, r.after], ["resolved", works], JSON.stringify(r));
  assert.is(r.between.code, "WASM_UNAVAILABLE", JSON.stringify(r.between));
  assert.match(r.between.message, "call `await init()` once before using it");
  assert.is(r.first.code, "WASM_UNAVAILABLE", JSON.stringify(r.first));
  assert.match(r.first.message, /this WebAssembly module is not chio-trust's core: it has no function export "abortTrap"$/);
});

test("an error status is refused even when its body is a valid module (URL, Response and Promise<Response>)", async () => {
  const r = await inBrowserBuild(`
    const url = new URL("/error-with-module/chio.wasm", origin);
    const out = [];
    const attempt = async (source) => { try { await lib.init(source); out.push("resolved"); } catch (e) { out.push(describe(e)); } };
    await attempt(url);
    await attempt(await fetch(url));
    await attempt(fetch(url));
    done({ out, after: use() });`);
  assert.is(r.out.length, 3);
  for (const outcome of r.out) {
    assert.is(outcome.code, "WASM_UNAVAILABLE", JSON.stringify(outcome));
    assert.match(outcome.message, "HTTP 503");
  }
  assert.is(r.after.code, "WASM_UNAVAILABLE", JSON.stringify(r.after));
});

test("after init(Response), the dropped instance (as a trap drops it) is rebuilt from the module init() compiled", async () => {
  const r = await inBrowserBuild(`
    const instance = await import(${JSON.stringify(pathToFileURL(distInstance).href)});
    await lib.init(await fetch(origin + "/octet/chio.wasm"));
    const first = use();
    instance.wipeAndDropInstance();
    done({ first, again: use() });`);
  assert.equal(r, { first: works, again: works });
});

// Hunt 27: init() given a promise it does not need (the core already running, or compiled before
// and its instance dropped) returned without looking at it, so a fetch that failed later was an
// unhandled rejection, which ends a Node process (its default) although init() had resolved: an
// app that calls `await init(fetch(url))` at each start-up path died when the network failed.
test("init(Promise<Response>) that is not needed (the core running, or compiled before) handles its rejection: no unhandled rejection ends the process", async () => {
  const r = await inBrowserBuild(`
    const instance = await import(${JSON.stringify(pathToFileURL(distInstance).href)});
    const unhandled = [];
    process.on("unhandledRejection", (reason) => unhandled.push(String(reason)));
    await lib.init(new URL("/wasm/chio.wasm", origin));
    const outcome = (p) => p.then(() => "resolved", describe);
    const running = await outcome(lib.init(Promise.reject(new Error("network down (running)"))));
    instance.wipeAndDropInstance(); // as a trap drops it: the compiled module stays
    const dropped = await outcome(lib.init(Promise.reject(new Error("network down (dropped)"))));
    await new Promise((resolve) => setTimeout(resolve, 50));
    done({ running, dropped, unhandled, after: use() });`);
  assert.equal(r, { running: "resolved", dropped: "resolved", unhandled: [], after: works });
});

/** A prelude: a host that refuses synchronous instantiation, as a browser's main thread does (README "The main thread"), with the RangeError it throws. */
// Review of hunt 27 (dbcba0d, b484c6f): init() called its source's `then` with no fulfilment
// handler, and on every source, used or not. A thenable that settles later (a hand-written or lazy
// one, which calls what it was given) then called `undefined`: an uncaught TypeError that ends a
// Node process, after init() had resolved; and a source init() used had its `then` (caller code: a
// lazy thenable starts its fetch there) run twice, once synchronously inside init().
test("init(thenable) that settles later: its then runs once when used and once when not, with callable handlers; nothing uncaught", async () => {
  const r = await inBrowserBuild(`
    const bytes = (await import("node:fs")).readFileSync(wasmFile);
    const uncaught = [];
    process.on("uncaughtException", (error) => uncaught.push(String(error)));
    process.on("unhandledRejection", (reason) => uncaught.push(String(reason)));
    const thenable = () => {
      const t = { calls: 0, then(resolve, reject) { t.calls++; setTimeout(() => resolve(new Response(bytes, { headers: { "content-type": "application/wasm" } })), 10); } };
      return t;
    };
    const used = thenable();
    const first = await lib.init(used).then(() => "resolved", describe);
    const unused = thenable();
    const second = await lib.init(unused).then(() => "resolved", describe);
    await new Promise((resolve) => setTimeout(resolve, 50));
    done({ first, second, calls: [used.calls, unused.calls], uncaught, after: use() });`);
  assert.equal(r, { first: "resolved", second: "resolved", calls: [1, 1], uncaught: [], after: works });
});

const MAIN_THREAD = `
  const RealInstance = WebAssembly.Instance;
  const Instance = function () { throw new RangeError("WebAssembly.Instance is disallowed on the main thread (simulated)"); };
  Instance.prototype = RealInstance.prototype;
  WebAssembly.Instance = Instance;`;

// Hunt 27: where the host refuses a synchronous instantiation (a browser's main thread: README
// "The main thread"; simulated here, before the library loads, by a WebAssembly.Instance that
// throws the RangeError such a host throws), init() awaited WebAssembly.instantiate after checking
// that no instance was running, and adopted what it got without checking again. Two init() calls
// at once (two modules of a page that each `await init()`) then adopted two instances: the second
// replaced the first, whose memory, with any key prepared in it meanwhile, was dropped without
// being zeroed, and that key was PREPARED_KEY_LOST ("after a failure") moments after it was made.
test("two init() calls at once, where synchronous instantiation is refused, adopt one instance: a key prepared after the first resolves keeps working", async () => {
  for (const source of ["mod", "bytes"]) {
    const r = await inBrowserBuild(`
      const instance = await import(${JSON.stringify(pathToFileURL(distInstance).href)});
      const bytes = new Uint8Array((await import("node:fs")).readFileSync(wasmFile));
      const mod = await WebAssembly.compile(bytes);
      const seed = lib.hexToBytes(${JSON.stringify(SEED)});
      const message = new TextEncoder().encode(${JSON.stringify(MESSAGE)});
      let key, memory;
      const first = lib.init(${source}).then(() => { memory = instance.heapU8().buffer; key = lib.ed25519.prepareSecretKey(seed); });
      await Promise.all([first, lib.init(${source})]);
      let signed;
      try { signed = lib.bytesToHex(lib.ed25519.sign(message, key)); } catch (e) { signed = e.code ?? String(e); }
      done({ layouts: instance.preparedSlabLayoutCount(), sameMemory: memory === instance.heapU8().buffer, signed, result: use() });`, MAIN_THREAD);
    assert.equal(r, { layouts: 1, sameMemory: true, signed: oracle.signature, result: works }, source);
  }
});

// Hunt 27: a call into the core that the engine's stack interrupted where contained() could not
// run leaves coreCallInterrupted set and the instance `current` (src/wasm/instance.ts): the next
// entry into the core wipes and drops it. init() returned at once for that instance, so on a host
// that refuses synchronous instantiation the call after `await init()` rebuilt synchronously and
// failed WASM_UNAVAILABLE, where README "The main thread" says calls work again after init().
// The flag is set here as that interrupted call leaves it.
test("init() after an interrupted core call, where synchronous instantiation is refused, rebuilds the instance: the next call works", async () => {
  const r = await inBrowserBuild(`
    const instance = await import(${JSON.stringify(pathToFileURL(distInstance).href)});
    await lib.init(new URL("/wasm/chio.wasm", origin));
    const before = use();
    const memory = instance.heapU8().buffer;
    instance.coreCallInterrupted.set = true;
    await lib.init();
    done({ before, after: use(), wiped: new Uint8Array(memory).every((b) => b === 0) });`, MAIN_THREAD);
  assert.equal(r, { before: works, after: works, wiped: true });
});

// Review of hunt 27 (563fdb3, 87fb8fe): init() checks again after awaiting its instance that none
// was adopted meanwhile, but not that the one adopted meanwhile was since interrupted (the flag
// set as a call the engine's stack interrupted leaves it). It then resolved without adopting its
// own, and the next call dropped the interrupted instance and rebuilt synchronously, which such a
// host refuses: WASM_UNAVAILABLE right after `await init()`, as 87fb8fe fixed for an init() that
// starts after the interruption.
test("init() whose instance arrives after the one adopted meanwhile was interrupted, where synchronous instantiation is refused, adopts its own: the next call works", async () => {
  const r = await inBrowserBuild(`
    const instance = await import(${JSON.stringify(pathToFileURL(distInstance).href)});
    await lib.init(new URL("/wasm/chio.wasm", origin));
    instance.wipeAndDropInstance(); // as a trap drops it: the compiled module stays
    const first = lib.init().then(() => { instance.coreCallInterrupted.set = true; });
    await Promise.all([first, lib.init()]);
    done({ after: use() });`, MAIN_THREAD);
  assert.equal(r, { after: works });
});

// Review 73 F4: compiling uses the WebAssembly functions captured as the library loaded, so code
// that replaces them later cannot hand init() a core of its own.
test("init(URL | Response | bytes) never calls a WebAssembly.compile, compileStreaming or instantiate replaced after load", async () => {
  for (const source of [`new URL("/wasm/chio.wasm", origin)`, `await fetch(origin + "/octet/chio.wasm")`, `new Uint8Array((await import("node:fs")).readFileSync(wasmFile))`]) {
    const r = await inBrowserBuild(`
      await (await fetch(origin + "/octet/chio.wasm")).arrayBuffer(); // Node's fetch compiles its HTTP parser on first use
      const called = [];
      for (const name of ["compile", "compileStreaming", "instantiate", "instantiateStreaming"]) {
        WebAssembly[name] = () => { called.push(name); return Promise.reject(new Error("replaced " + name)); };
      }
      await lib.init(${source});
      done({ called, result: use() });`);
    assert.equal(r, { called: [], result: works }, source);
  }
});

test.run();
