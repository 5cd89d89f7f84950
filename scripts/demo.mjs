// npm run demo: builds demo/ (esbuild bundles demo/app.ts with the package's browser build and
// @noble/curves, copies chio.wasm beside it) into test-output/demo/ and serves it on
// http://127.0.0.1:8785/ (--port N to change; 0 picks a free port). Needs dist/ (npm run build).
// scripts/test-browser-demo.mjs drives the same page in headless Chromium.
import { build } from "esbuild";
import { copyFileSync, existsSync, mkdirSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { serveStatic } from "./browser-harness.mjs";

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), "..");

/** Builds the demo into `outDir`; returns outDir. */
export async function buildDemo(outDir = path.join(root, "test-output", "demo")) {
  const dist = path.join(root, "dist", "esm", "index.js");
  if (!existsSync(dist)) throw new Error("dist/ is not built: run npm run build");
  mkdirSync(outDir, { recursive: true });
  await build({
    entryPoints: [path.join(root, "demo", "app.ts")],
    bundle: true,
    minify: true,
    format: "esm",
    platform: "browser",
    target: "es2022",
    outfile: path.join(outDir, "app.js"),
    logLevel: "warning",
    // The demo uses the package as a site would: "chio-trust" is the built package (its browser build).
    plugins: [{ name: "chio-trust-self", setup: (b) => b.onResolve({ filter: /^chio-trust$/ }, () => ({ path: dist })) }],
  });
  copyFileSync(path.join(root, "demo", "index.html"), path.join(outDir, "index.html"));
  copyFileSync(path.join(root, "dist", "chio.wasm"), path.join(outDir, "chio.wasm"));
  return outDir;
}

/** Builds and serves the demo; returns { origin, close }. */
export async function serveDemo({ port = 8785, outDir } = {}) {
  const dir = await buildDemo(outDir);
  return serveStatic({ "/": dir }, { port });
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const flag = process.argv.indexOf("--port");
  const port = flag >= 0 ? Number(process.argv[flag + 1]) : Number(process.env.PORT ?? 8785);
  const { origin } = await serveDemo({ port });
  console.log(`chio-trust demo: ${origin}/  (verify view)  ·  ${origin}/#bench  (benchmark); Ctrl-C stops it`);
}
