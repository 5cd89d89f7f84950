// A host with no WebAssembly at all (`node --jitless` removes the namespace; some locked-down
// runtimes have none): every entry point still loads, the parts that need no core still work,
// and each call that needs the core fails with the typed WasmCoreError WASM_UNAVAILABLE, saying
// why (src/wasm/host.ts). Before, reading `WebAssembly.compile` as the glue loaded made the
// import itself throw a ReferenceError: `require("chio-trust/tweetnacl")` failed, and with it
// the noble drop-in's pure-JS Point (found by a drop-in audit, 6 December 2026).
//
// Each case is a fresh `node --jitless` against the built package (dist/, which `npm test`
// builds first), in CommonJS and ESM, and the ESM browser build (--conditions=browser, whose core
// is fetched): what the child prints is compared with values computed here, with WebAssembly, by
// the npm `canonicalize` package and @noble/ed25519.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { execFileSync, spawnSync } from "node:child_process";
import path from "node:path";
import { pathToFileURL } from "node:url";
import canonicalizeNpm from "canonicalize";
import * as noble from "@noble/ed25519";
import { repoRoot } from "../helpers/processes.js";

const DOCUMENT = { b: [1, "é\u2028"], a: { z: null, y: 1.5e-7 } };
const expected = {
  canonical: canonicalizeNpm(DOCUMENT),
  base: noble.Point.BASE.multiply(5n).toHex(),
};

/** The child's body: `load(entry)` gives an entry point's module; `report` prints the result. */
const body = `
const describe = (e) => ({ name: e && e.name, code: e && e.code, noWasm: /no WebAssembly/.test(String(e && e.message)) });
const attempt = (f) => { try { f(); return "returned"; } catch (e) { return describe(e); } };
const out = { hasWasm: typeof WebAssembly !== "undefined" };
const entries = ["", "/canonical", "/handshake", "/ed25519", "/tweetnacl", "/http/client"];
out.loaded = {};
for (const entry of entries) {
  try { await load(entry); out.loaded[entry || "."] = true; } catch (e) { out.loaded[entry || "."] = String(e); }
}
const lib = await load("");
const canonical = await load("/canonical");
const ed = await load("/ed25519");
const nacl = await load("/tweetnacl");
out.canonical = canonical.canonicalize(${JSON.stringify(DOCUMENT)});
out.base = ed.Point.BASE.multiply(5n).toHex();
out.calls = {
  getPublicKey: attempt(() => lib.ed25519.getPublicKey(new Uint8Array(32))),
  // Through guarded(): its catch must pass the WASM_UNAVAILABLE on, not test it against a missing RuntimeError.
  preparePublicKey: attempt(() => lib.ed25519.preparePublicKey(new Uint8Array(32))),
  configurePreparedKeys: attempt(() => lib.ed25519.configurePreparedKeys({ maxBytes: 0 })),
  keypair: attempt(() => lib.Keypair.fromSeed(new Uint8Array(32))),
  verifyEnvelopeBytes: attempt(() => lib.verifyEnvelopeBytes("{}")),
  canonicalizeJson: attempt(() => canonical.canonicalizeJson("{}")),
  nobleSign: attempt(() => ed.sign(new Uint8Array(1), new Uint8Array(32))),
  naclFromSeed: attempt(() => nacl.sign.keyPair.fromSeed(new Uint8Array(32))),
};
out.init = await lib.init().then(() => "resolved", describe);
// A source init() cannot use here: its rejection is handled, not left to end the process (hunt 27).
out.initFailedFetch = await lib.init(Promise.reject(new Error("network down"))).then(() => "resolved", describe);
await new Promise((resolve) => setTimeout(resolve, 20));
out.nobleAsync = await ed.signAsync(new Uint8Array(1), new Uint8Array(32)).then(() => "resolved", describe);
process.stdout.write(JSON.stringify(out));
`;

function run(kind: "cjs" | "esm" | "browser"): any {
  const entryPath = (entry: string) => (entry === "" ? "chio-trust" : `chio-trust${entry}`);
  const load =
    kind === "cjs"
      ? `const { createRequire } = await import("node:module"); const req = createRequire(${JSON.stringify(pathToFileURL(path.join(repoRoot, "package.json")).href)}); const load = async (entry) => req((${entryPath.toString()})(entry));`
      : `const load = (entry) => import((${entryPath.toString()})(entry));`;
  const args = ["--jitless", ...(kind === "browser" ? ["--conditions=browser"] : []), "--no-warnings", "--input-type=module", "-e", `${load}\n${body}`];
  return JSON.parse(execFileSync(process.execPath, args, { cwd: repoRoot, encoding: "utf8", timeout: 60_000, stdio: ["ignore", "pipe", "pipe"] }));
}

const UNAVAILABLE = { name: "WasmCoreError", code: "WASM_UNAVAILABLE", noWasm: true };

for (const kind of ["cjs", "esm", "browser"] as const) {
  test(`no WebAssembly (${kind}): every entry loads, canonical JSON of values and the noble Point work, and each core call is WASM_UNAVAILABLE`, () => {
    const out = run(kind);
    assert.is(out.hasWasm, false, "--jitless removes WebAssembly");
    assert.equal(out.loaded, { ".": true, "/canonical": true, "/handshake": true, "/ed25519": true, "/tweetnacl": true, "/http/client": true });
    assert.is(out.canonical, expected.canonical);
    assert.is(out.base, expected.base);
    for (const [name, got] of Object.entries(out.calls)) assert.equal(got, UNAVAILABLE, name);
    assert.equal(out.init, UNAVAILABLE, "init()");
    assert.equal(out.initFailedFetch, UNAVAILABLE, "init(a fetch that fails)");
    assert.equal(out.nobleAsync, UNAVAILABLE, "signAsync");
  });
}

// The Node-only entries load too, and the process goes on. Except chio-trust/postgres on a Node
// without `navigator` (Node 20): pg 8 asks at load whether it runs in Cloudflare Workers by
// constructing a `Response`, which makes Node's fetch compile its HTTP parser, WebAssembly, and
// that rejection ends the process ("ReferenceError: WebAssembly is not defined", from undici) a
// moment after the import resolved (hunt 38: README said every entry loads). README
// ("No runtime dependencies…") says so; where `navigator` exists pg reads it first and loads.
for (const kind of ["cjs", "esm"] as const) {
  for (const entry of ["/http", "/pool", "/sqlite", "/redis", "/postgres"]) {
    test(`no WebAssembly (${kind}): chio-trust${entry} loads and the process goes on${entry === "/postgres" ? " (not on Node 20: pg)" : ""}`, () => {
      const specifier = JSON.stringify(`chio-trust${entry}`);
      const load =
        kind === "cjs"
          ? `const { createRequire } = await import("node:module"); createRequire(${JSON.stringify(pathToFileURL(path.join(repoRoot, "package.json")).href)})(${specifier});`
          : `await import(${specifier});`;
      const source = `${load}\nprocess.stdout.write(JSON.stringify({ hasWasm: typeof WebAssembly !== "undefined", navigator: typeof navigator }));\nawait new Promise((resolve) => setTimeout(resolve, 300));\nprocess.stdout.write("\\nstill running");`;
      const run = spawnSync(process.execPath, ["--jitless", "--no-warnings", "--input-type=module", "-e", source], { cwd: repoRoot, encoding: "utf8", timeout: 60_000 });
      const [first, second] = run.stdout.split("\n");
      const out = JSON.parse(first!);
      assert.is(out.hasWasm, false, "--jitless removes WebAssembly");
      if (entry === "/postgres" && out.navigator === "undefined") {
        assert.is.not(run.status, 0, "pg ends the process on a Node without navigator");
        assert.match(run.stderr, /WebAssembly is not defined/);
        assert.is(second, undefined);
      } else {
        assert.is(run.status, 0, run.stderr);
        assert.is(second, "still running");
      }
    });
  }
}

test.run();
