// Hosts tier (npm run test:hosts): the `npm pack` tarball installed into a scratch project, as a
// user installs it, and loaded by each host: Node as ESM and as CommonJS, Deno and Bun (their npm
// packages are devDependencies), and Node stubbed into a host that forbids compiling WebAssembly
// from bytes (Cloudflare-style: `init(module)` with a precompiled module), and Bun with its
// WebAssembly SIMD switched off (the core's typed refusal). Every entry is loaded
// and used; results are RFC 8032 §7.1 TEST 1, an RFC 8785 canonical form, and a handshake envelope
// that verifies (and fails once tampered). Also @arethetypeswrong/cli on the same tarball: types
// resolve for ESM and CommonJS consumers under node16 and bundler resolution. And the README's
// quick start with the installed command (node_modules/.bin/chio-trust), as its first block aliases it.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { checkQuickStart, readmeBlocks } from "../helpers/readme-examples.js";
import { repoRoot } from "../helpers/processes.js";
// @ts-expect-error -- plain .mjs scripts without declarations
import { installTarball, packTarball } from "../../scripts/pack-install.mjs";
// @ts-expect-error -- plain .mjs scripts without declarations
import { devToolBin } from "../../scripts/dev-tools.mjs";

const { tarball } = packTarball();
const project: string = installTarball(tarball);

const EXPECTED = {
  publicKey: "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a",
  signature: "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b",
  canonical: '{"a":"é","m":[true,null,0],"z":100000000000000000000}',
  envelope: [true, "INVALID_SIGNATURE"],
  sameClasses: true,
};

/** The body every host runs: `main`, `canonical`, `handshake` are the three entries. */
const CHECKS = `
const hex = (b) => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
const sk = main.hexToBytes("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60");
const pk = main.ed25519.getPublicKey(sk);
const sig = main.ed25519.sign(new Uint8Array(0), sk);
const exchange = new handshake.KernelTrustExchange("kernel.org-a", handshake.Keypair.generate());
const text = exchange.localEnvelope("kernel.org-b", "nonce-1").toJSONText();
const result = {
  publicKey: hex(pk),
  signature: main.ed25519.verify(sig, new Uint8Array(0), pk) ? hex(sig) : "verify failed",
  canonical: new TextDecoder().decode(canonical.canonicalizeJson('{"z":1e20,"a":"\\\\u00e9","m":[true,null,-0]}')),
  envelope: [main.verifyEnvelopeBytes(text).ok, main.verifyEnvelopeBytes(text.replace("nonce-1", "nonce-2")).code],
  sameClasses: main.KernelTrustExchange === handshake.KernelTrustExchange && main.CanonicalJsonError === canonical.CanonicalJsonError,
};
`;

const ESM = `
import * as main from "chio-trust";
import * as canonical from "chio-trust/canonical";
import * as handshake from "chio-trust/handshake";
${CHECKS}
const wasmPath = new URL(import.meta.resolve("chio-trust/chio.wasm"));
const { readFileSync } = await import("node:fs");
result.wasmExports = WebAssembly.Module.exports(new WebAssembly.Module(readFileSync(wasmPath))).length;
// import and require of the package in one program load one copy (dist/node/ wraps dist/cjs/ for Node).
const { createRequire } = await import("node:module");
result.oneCopy = createRequire(import.meta.url)("chio-trust").FederationPeer === main.FederationPeer;
console.log(JSON.stringify(result));
`;

const CJS = `
const main = require("chio-trust");
const canonical = require("chio-trust/canonical");
const handshake = require("chio-trust/handshake");
${CHECKS}
result.wasmExports = WebAssembly.Module.exports(new WebAssembly.Module(require("node:fs").readFileSync(require.resolve("chio-trust/chio.wasm")))).length;
console.log(JSON.stringify(result));
`;

// The host compiles chio.wasm itself (from the shipped file), then bans every byte compile; the
// program receives the module, as a Cloudflare Worker does from \`import wasm from "…/chio.wasm"\`.
const NO_COMPILE = `
import { readFileSync } from "node:fs";
const hostModule = new WebAssembly.Module(readFileSync(new URL(import.meta.resolve("chio-trust/chio.wasm"))));
const attempts = [];
const RealModule = WebAssembly.Module;
const realInstantiate = WebAssembly.instantiate;
const ban = (name) => { attempts.push(name); throw new Error(name + ": compiling WebAssembly from bytes is disallowed by the embedder"); };
WebAssembly.compile = async () => ban("compile");
WebAssembly.compileStreaming = async () => ban("compileStreaming");
WebAssembly.instantiateStreaming = async () => ban("instantiateStreaming");
WebAssembly.instantiate = (s, i) => (s instanceof RealModule ? realInstantiate(s, i) : Promise.reject(ban("instantiate(bytes)")));
WebAssembly.Module = new Proxy(RealModule, { construct: () => ban("new Module") });
const main = await import("chio-trust");
const canonical = await import("chio-trust/canonical");
const handshake = await import("chio-trust/handshake");
let before;
try { main.ed25519.getPublicKey(new Uint8Array(32)); before = "no error"; } catch (e) { before = e.name + " " + e.code; }
const attemptsBeforeInit = attempts.length;
await main.init(hostModule);
attempts.length = 0;
${CHECKS}
result.before = before;
result.attemptsBeforeInit = attemptsBeforeInit;
result.attemptsAfterInit = attempts.length;
console.log(JSON.stringify(result));
`;

function run(command: string, args: string[], file: string, source: string, env: Record<string, string> = {}) {
  writeFileSync(path.join(project, file), source);
  const out = execFileSync(command, [...args, file], {
    cwd: project,
    encoding: "utf8",
    env: { ...process.env, DENO_NO_UPDATE_CHECK: "1", NO_COLOR: "1", DO_NOT_TRACK: "1", ...env },
    stdio: ["ignore", "pipe", "pipe"],
    timeout: 120_000,
  });
  return JSON.parse(out.trim().split("\n").pop()!);
}

test("Node, ESM: every entry imports from the tarball and works", () => {
  const r = run(process.execPath, [], "esm.mjs", ESM);
  assert.equal({ ...r, wasmExports: undefined, oneCopy: undefined }, { ...EXPECTED, wasmExports: undefined, oneCopy: undefined });
  assert.ok(r.wasmExports > 10, "chio-trust/chio.wasm resolves to a compilable module");
  assert.is(r.oneCopy, true, "import and require give the same FederationPeer");
});

test("Node, CommonJS: every entry requires from the tarball and works", () => {
  const r = run(process.execPath, [], "cjs.cjs", CJS);
  assert.equal({ ...r, wasmExports: undefined }, { ...EXPECTED, wasmExports: undefined });
  assert.ok(r.wasmExports > 10);
});

test("a host that forbids compiling from bytes: lazy use fails typed, init(module) works, nothing compiled after", () => {
  const r = run(process.execPath, [], "no-compile.mjs", NO_COMPILE);
  assert.is(r.before, "WasmCoreError WASM_UNAVAILABLE");
  assert.ok(r.attemptsBeforeInit >= 1, "the ban was in force");
  assert.is(r.attemptsAfterInit, 0);
  const { before, attemptsBeforeInit, attemptsAfterInit, ...rest } = r;
  assert.equal(rest, EXPECTED);
});

test("Deno: the ESM entries from the project's node_modules", () => {
  const deno = devToolBin("deno");
  const r = run(deno, ["run", "--quiet", "--allow-read", "--allow-env", "--no-prompt"], "deno.mjs", ESM);
  assert.equal({ ...r, wasmExports: undefined, oneCopy: undefined }, { ...EXPECTED, wasmExports: undefined, oneCopy: undefined });
  assert.ok(r.wasmExports > 10);
  assert.is(r.oneCopy, true, "import and require give the same FederationPeer");
});

test("Bun: the ESM and the CommonJS entries", () => {
  const bun = devToolBin("bun");
  for (const [file, source] of [["bun.mjs", ESM], ["bun.cjs", CJS]]) {
    const r = run(bun, [], file, source);
    assert.equal({ ...r, wasmExports: undefined, oneCopy: undefined }, { ...EXPECTED, wasmExports: undefined, oneCopy: undefined }, file);
    assert.ok(r.wasmExports > 10);
    if (source === ESM) assert.is(r.oneCopy, true, "import and require give the same FederationPeer");
  }
});

// The core needs WebAssembly fixed-width SIMD (README "What is and is not constant-time"). Bun with JavaScriptCore's
// SIMD switched off (BUN_JSC_useWasmSIMD=0) is a real engine without it: the first synchronous
// call and the async init() must both fail typed, and say that SIMD is what is missing.
const NO_SIMD = `
import * as main from "chio-trust";
import { readFileSync } from "node:fs";
const describe = (e) => [e.name, e.code, String(e.message)];
const shipped = readFileSync(new URL(import.meta.resolve("chio-trust/chio.wasm")));
const result = {};
try { new WebAssembly.Module(shipped); result.compiles = true; } catch (e) { result.compiles = e.name; }
try { main.ed25519.getPublicKey(new Uint8Array(32)); result.sync = "no error"; } catch (e) { result.sync = describe(e); }
try { await main.init(); result.init = "no error"; } catch (e) { result.init = describe(e); }
console.log(JSON.stringify(result));
`;

test("Bun without WebAssembly SIMD: the first call and init() fail WASM_UNAVAILABLE, naming SIMD", () => {
  const bun = devToolBin("bun");
  const without = run(bun, [], "bun-no-simd.mjs", NO_SIMD, { BUN_JSC_useWasmSIMD: "0" });
  assert.is(without.compiles, "CompileError", "the engine really cannot compile the shipped module");
  for (const [name, error] of [["first call", without.sync], ["init()", without.init]] as const) {
    assert.equal(error.slice(0, 2), ["WasmCoreError", "WASM_UNAVAILABLE"], name);
    assert.match(error[2], /no fixed-width SIMD, which the core needs/, name);
  }
  // Control: the same program with SIMD on compiles the module and runs the core.
  const withSimd = run(bun, [], "bun-no-simd.mjs", NO_SIMD, { BUN_JSC_useWasmSIMD: "1" });
  assert.equal(withSimd, { compiles: true, sync: "no error", init: "no error" });
});

test("@arethetypeswrong/cli: types resolve for every entry under node10, node16 (CJS and ESM) and bundler", () => {
  const attw = devToolBin("@arethetypeswrong/cli", "attw");
  let output = "";
  let failed = false;
  try {
    // chio.wasm is an asset, not a module with types (hosts import it as a WebAssembly.Module their own way).
    output = execFileSync(process.execPath, [attw, tarball, "--format", "json", "--exclude-entrypoints", "chio.wasm", "package.json"], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
  } catch (error) {
    failed = true;
    output = String((error as { stdout?: string }).stdout ?? error);
  }
  const report = JSON.parse(output);
  const problems = report.analysis?.problems ?? report.problems ?? [];
  assert.equal(problems, [], JSON.stringify(problems).slice(0, 2000));
  assert.not.ok(failed);
  const entrypoints = Object.keys(report.analysis?.entrypoints ?? {});
  const declared = Object.keys(
    (JSON.parse(readFileSync(path.join(process.cwd(), "package.json"), "utf8")) as { exports: Record<string, unknown> }).exports,
  ).filter((subpath) => subpath !== "./chio.wasm" && subpath !== "./package.json");
  assert.equal(entrypoints.sort(), declared.sort(), "attw checked every entry package.json declares");
});

test("the README's quick start with the installed command, aliased as its install block says ($PWD/node_modules/.bin/chio-trust): both kernels pin each other", async () => {
  const readme = readFileSync(path.join(repoRoot, "README.md"), "utf8");
  const install = readmeBlocks(readme).find((b) => b.lang === "sh" && b.code.includes("npm install chio-trust") && b.code.includes("alias chio-trust="));
  const aliasLine = install?.code.split("\n").find((line) => line.startsWith("alias chio-trust=") && line.includes("node_modules/.bin/chio-trust"));
  assert.ok(aliasLine, "the install block aliases the installed command");
  // The block's `npm install better-sqlite3@12` needs the registry; this repository's built copy
  // (a dev dependency, the same major) stands in for it.
  symlinkSync(path.join(repoRoot, "node_modules", "better-sqlite3"), path.join(project, "node_modules", "better-sqlite3"), "dir");
  await checkQuickStart(readme, aliasLine, () => mkdtempSync(path.join(project, "quick-start-")), project);
});

test.after(() => {
  rmSync(project, { recursive: true, force: true });
  rmSync(path.dirname(tarball), { recursive: true, force: true }); // packTarball's own directory (each run left a 600 KB tarball in /tmp)
});

test.run();
