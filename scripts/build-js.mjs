// Builds dist/ from src/: every source file is transpiled on its own (no bundling) to ESM in
// dist/esm/ and to CommonJS in dist/cjs/ (with a package.json that says so), and tsc writes the
// declarations next to both; dist/node/ gets one ESM wrapper per entry over dist/cjs/, which is
// what Node's `import` loads (see below). Unbundled output means every entry of the exports map shares one
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
for (const sub of ["esm", "cjs", "node", "types", "index.js", "index.cjs"]) rmSync(path.join(dist, sub), { recursive: true, force: true });

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
  // "node": esbuild then ends each file with the annotation Node's cjs-module-lexer reads
  // (`0 && (module.exports = { … })`), so the ESM wrappers in dist/node/ can re-export by name.
  platform: "node",
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

// Node's `import` of an entry resolves to dist/node/X.mjs (package.json: exports → import → node),
// an ESM wrapper over the CommonJS build, so `import` and `require` in one Node process share one
// module graph: one copy of every class and one wasm instance. Two graphs would make every
// brand check (`instanceof FederationPeer`, PublicKey, ...) fail across them, and a store opened
// through one would refuse the peers of an exchange from the other (the dual-package hazard, Node
// docs "Dual CommonJS/ES module packages"). Browsers, bundlers and other hosts keep dist/esm/.
// The wrappers are written from the exports map, which declares them. They load the CommonJS
// module with require() rather than `import … from`: on Node 20 a static import of a CommonJS
// module that throws (an optional peer dependency not installed) rejects the import and then
// also ends the process with an uncaught exception; a throwing require() only rejects it. ESM
// needs its export names written out, so they are read from the built module in a child process.
const wrappers = [];
for (const [subpath, target] of Object.entries(pkg.exports)) {
  if (typeof target !== "object") continue;
  const wrapper = target.import?.node;
  const m = /^\.\/dist\/node\/(.+)\.mjs$/.exec(wrapper ?? "");
  // "module" (bundlers: esbuild, webpack, Rollup) comes before "node", so a bundle made for Node
  // takes dist/esm/ and never meets the wrapper's runtime require().
  const conditions = Object.keys(target.import).filter((c) => c !== "types");
  if (
    !m ||
    conditions.join(",") !== "module,node,default" ||
    target.import.module !== `./dist/esm/${m[1]}.js` ||
    target.import.default !== `./dist/esm/${m[1]}.js` ||
    target.require?.default !== `./dist/cjs/${m[1]}.js`
  ) {
    throw new Error(`package.json exports ${subpath}: import must be { types, module: ./dist/esm/X.js, node: ./dist/node/X.mjs, default: ./dist/esm/X.js } and require ./dist/cjs/X.js`);
  }
  wrappers.push({ file: path.join(dist, "node", `${m[1]}.mjs`), cjs: path.join(dist, "cjs", `${m[1]}.js`) });
}
const names = JSON.parse(
  execFileSync(
    process.execPath,
    ["-e", `process.stdout.write(JSON.stringify(${JSON.stringify(wrappers.map((w) => w.cjs))}.map((f) => Object.keys(require(f)))))`],
    { cwd: root, encoding: "utf8" },
  ),
);
wrappers.forEach(({ file, cjs }, i) => {
  const relative = path.relative(path.dirname(file), cjs).split(path.sep).join("/"); // always "../…"
  const named = names[i].filter((name) => name !== "default");
  for (const name of named) if (!/^[A-Za-z_$][\w$]*$/.test(name)) throw new Error(`${cjs} exports ${name}, which is not an identifier`);
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(
    file,
    `// GENERATED by scripts/build-js.mjs from package.json "exports" — do not edit.\n` +
      `// Node's import of this entry: the CommonJS build, so import and require share one module graph.\n` +
      `import { createRequire } from "node:module";\n` +
      `const entry = createRequire(import.meta.url)("${relative}");\n` +
      named.map((name) => `export const ${name} = entry.${name};\n`).join("") +
      (names[i].includes("default") ? `export default entry.default;\n` : ""),
  );
});
rmSync(path.join(dist, "cjs", "wasm", "source-url.d.ts")); // ESM only (see above)
console.log("dist/esm/ (ESM), dist/cjs/ (CommonJS), with declarations, and dist/node/ (ESM wrappers over dist/cjs/ for Node) written");
