// Builds dist/ from src/: every source file is transpiled on its own (no bundling) to ESM in
// dist/esm/ and to CommonJS in dist/cjs/ (with a package.json that says so), and tsc writes the
// declarations next to both. Unbundled output means every entry of the exports map shares one
// copy of each module, so a program that imports `chio-trust` and `chio-trust/handshake` gets one
// WebAssembly instance and one set of error classes.
//
// The entries themselves are declared once, in package.json's "exports": `./dist/esm/X.js` is
// built from `src/X.ts`. This script checks that every entry's source exists, so adding an entry
// is one line in package.json (and one in test/snapshots/exports.json, which test/node/exports.test.ts
// compares with what each entry really exports).
import { build } from "esbuild";
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync, copyFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), "..");
const require = createRequire(import.meta.url);
const dist = path.join(root, "dist");

function sourcesUnder(dir) {
  const out = [];
  for (const name of readdirSync(dir)) {
    const full = path.join(dir, name);
    if (statSync(full).isDirectory()) out.push(...sourcesUnder(full));
    else if (name.endsWith(".ts") && !name.endsWith(".d.ts")) out.push(full);
  }
  return out;
}

/** The source file of every JS target named in package.json's exports map. */
function entrySources(pkg) {
  const targets = [];
  const walk = (node) => {
    if (typeof node === "string") targets.push(node);
    else if (node && typeof node === "object") for (const v of Object.values(node)) walk(v);
  };
  walk(pkg.exports);
  const sources = new Set();
  for (const t of targets) {
    const m = /^\.\/dist\/(?:esm|cjs)\/(.+)\.(?:js|d\.ts)$/.exec(t);
    if (m) sources.add(path.join("src", `${m[1]}.ts`));
  }
  return [...sources];
}

const pkg = JSON.parse(readFileSync(path.join(root, "package.json"), "utf8"));
for (const source of entrySources(pkg)) {
  if (!existsSync(path.join(root, source))) throw new Error(`package.json exports an entry built from ${source}, which does not exist`);
}

// Keep dist/chio.wasm (written by build-wasm.mjs); rebuild the rest from scratch.
for (const sub of ["esm", "cjs", "types", "index.js", "index.cjs"]) rmSync(path.join(dist, sub), { recursive: true, force: true });

// The one module that differs between hosts is where the wasm bytes come from (src/wasm/): the
// ESM build of instance.js imports the package-internal specifier `#wasm-source`, which
// package.json's "imports" map resolves to source-url.js for browser bundles (fetches chio.wasm)
// and to source-embedded.js everywhere else. CommonJS keeps the embedded bytes (source-url.ts
// needs import.meta, so it is not built to CommonJS).
const WASM_SOURCE_FROM = '"./source-embedded.js"';
const WASM_SOURCE_TO = '"#wasm-source"';
const URL_SOURCE = path.join(root, "src", "wasm", "source-url.ts");
const common = {
  entryPoints: sourcesUnder(path.join(root, "src")),
  outbase: path.join(root, "src"),
  bundle: false,
  platform: "neutral",
  target: "es2022",
  sourcemap: false,
  logLevel: "warning",
};
await build({ ...common, format: "esm", outdir: path.join(dist, "esm") });
// src/pool/index.ts reads import.meta.url only where __filename is absent (the ESM build), so the
// empty import.meta of the CommonJS build is never read.
await build({
  ...common,
  entryPoints: common.entryPoints.filter((f) => f !== URL_SOURCE),
  format: "cjs",
  outdir: path.join(dist, "cjs"),
  logOverride: { "empty-import-meta": "silent" },
});
{
  const instanceJs = path.join(dist, "esm", "wasm", "instance.js");
  const text = readFileSync(instanceJs, "utf8");
  if (text.split(WASM_SOURCE_FROM).length !== 2) throw new Error(`expected one import of ${WASM_SOURCE_FROM} in ${instanceJs}`);
  writeFileSync(instanceJs, text.replace(WASM_SOURCE_FROM, WASM_SOURCE_TO));
  const imports = pkg.imports?.["#wasm-source"];
  if (imports?.browser !== "./dist/esm/wasm/source-url.js" || imports?.default !== "./dist/esm/wasm/source-embedded.js") {
    throw new Error('package.json "imports" must map #wasm-source: browser → ./dist/esm/wasm/source-url.js, default → ./dist/esm/wasm/source-embedded.js');
  }
}
// Inside dist/cjs, .js files (and the .d.ts beside them) are CommonJS.
writeFileSync(path.join(dist, "cjs", "package.json"), JSON.stringify({ type: "commonjs" }, null, 2) + "\n");

const tsc = path.join(path.dirname(require.resolve("typescript/package.json")), "bin", "tsc");
execFileSync(process.execPath, [tsc, "-p", "tsconfig.json"], { cwd: root, stdio: "inherit" });

function copyDeclarations(from, to) {
  for (const name of readdirSync(from)) {
    const full = path.join(from, name);
    if (statSync(full).isDirectory()) copyDeclarations(full, path.join(to, name));
    else if (name.endsWith(".d.ts")) {
      mkdirSync(to, { recursive: true });
      copyFileSync(full, path.join(to, name));
    }
  }
}
copyDeclarations(path.join(dist, "esm"), path.join(dist, "cjs"));
rmSync(path.join(dist, "cjs", "wasm", "source-url.d.ts")); // ESM only (see above)
console.log("dist/esm/ (ESM), dist/cjs/ (CommonJS), with declarations, written");
