// Browser tier, pages "esbuild", "esbuild-iife" and "vite": test/browser/consumer/ (a small app)
// bundled for the browser by esbuild (as a module and as a classic script) and by Vite out of the `npm pack` tarball installed into a scratch project,
// so the bundlers see exactly what users get: the "browser" condition of #wasm-source, the
// shipped chio.wasm, the declared exports. Each bundle runs in its own server with nothing else
// on it, so a page cannot borrow a file the bundler failed to place.
import { build } from "esbuild";
import { copyFileSync, cpSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { gzipSync } from "node:zlib";
import { serveStatic } from "./browser-harness.mjs";
import { importDevTool } from "./dev-tools.mjs";
import { installTarball, packTarball } from "./pack-install.mjs";

export async function runConsumerStages({ root, out, context, runPage, report, stageCrashed, wanted }) {
  let project;
  try {
    const { tarball } = packTarball();
    project = installTarball(tarball);
    cpSync(path.join(root, "test", "browser", "consumer"), project, { recursive: true });
  } catch (error) {
    for (const stage of ["esbuild", "esbuild-iife", "vite"]) if (wanted(stage)) stageCrashed(stage, error);
    return;
  }
  const installed = path.join(project, "node_modules", "chio-trust");
  const stagesRun = [];
  /**
   * The app bundled by esbuild in `format`, served with the page's script tag replaced by
   * `scriptTag`; chio.wasm copied beside it, as the README tells esbuild users to do.
   */
  const esbuildStage = (stage, entry, format, scriptTag) => [
    stage,
    async () => {
      const dir = path.join(out, `${stage}-app`);
      await build({
        entryPoints: [path.join(project, entry)],
        absWorkingDir: project,
        bundle: true,
        minify: true,
        format,
        platform: "browser",
        target: "es2022",
        outfile: path.join(dir, "app.js"),
        logLevel: "warning",
      });
      copyFileSync(path.join(installed, "dist", "chio.wasm"), path.join(dir, "chio.wasm"));
      const page = readFileSync(path.join(project, "index.html"), "utf8");
      const html = page.replace('<script type="module" src="./vite-main.js"></script>', scriptTag);
      if (html === page) throw new Error("index.html no longer has the script tag the esbuild stages replace");
      writeFileSync(path.join(dir, "index.html"), html);
      return { dir, js: [path.join(dir, "app.js")] };
    },
  ];
  if (wanted("esbuild")) stagesRun.push(esbuildStage("esbuild", "esbuild-main.js", "esm", '<script type="module" src="./app.js"></script>'));
  // The same app as a classic script (no import.meta): it must load, and init() it with a URL.
  if (wanted("esbuild-iife")) stagesRun.push(esbuildStage("esbuild-iife", "esbuild-classic-main.js", "iife", '<script src="./app.js"></script>'));
  if (wanted("vite")) {
    stagesRun.push([
      "vite",
      async () => {
        const vite = await importDevTool("vite");
        const dir = path.join(out, "vite-app");
        const result = await vite.build({ root: project, base: "./", configFile: false, logLevel: "warn", build: { outDir: dir, emptyOutDir: true, target: "es2022" } });
        const outputs = (Array.isArray(result) ? result : [result]).flatMap((r) => r.output ?? []);
        return { dir, js: outputs.filter((o) => o.type === "chunk").map((o) => path.join(dir, o.fileName)), assets: outputs.filter((o) => o.type === "asset").map((o) => o.fileName) };
      },
    ]);
  }
  for (const [stage, bundle] of stagesRun) {
    let server;
    try {
      const { dir, js, assets } = await bundle();
      server = await serveStatic({ "/": dir });
      const { results } = await runPage(context, `${server.origin}/`, { timeoutMs: 60_000 });
      report(stage, results);
      const jsBytes = js.reduce((n, f) => n + readFileSync(f).length, 0);
      const jsGzip = js.reduce((n, f) => n + gzipSync(readFileSync(f), { level: 9 }).length, 0);
      console.log(`    ${stage}: app JS ${jsBytes} bytes (${jsGzip} gzipped)${assets ? `; assets: ${assets.join(", ")}` : ""}`);
    } catch (error) {
      stageCrashed(stage, error);
    } finally {
      await server?.close();
    }
  }
  rmSync(project, { recursive: true, force: true });
}
