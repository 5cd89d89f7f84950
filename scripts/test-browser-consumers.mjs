// Browser tier, pages "esbuild", "esbuild-iife" and "vite": test/browser/consumer/ (a small app)
// bundled for the browser by esbuild (as a module and as a classic script) and by Vite out of the `npm pack` tarball installed into a scratch project,
// so the bundlers see exactly what users get: the "browser" condition of #wasm-source, the
// shipped chio.wasm, the declared exports. Each bundle runs in its own server with nothing else
// on it, so a page cannot borrow a file the bundler failed to place. That server also answers
// POST /federation/handshake with the installed package's chio-trust/http server (a kernel of its
// own, with the page's key as its anchor): the page's chio-trust/http/client handshakes with it
// on the page's origin (the handshake server sends no CORS headers), and the stage checks what
// that kernel pinned.
import { build } from "esbuild";
import { createPrivateKey, createPublicKey } from "node:crypto";
import { copyFileSync, cpSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { gzipSync } from "node:zlib";
import { serveStatic } from "./browser-harness.mjs";
import { importDevTool } from "./dev-tools.mjs";
import { installTarball, packTarball } from "./pack-install.mjs";
import { PAGE_KERNEL, SERVING_KERNEL } from "../test/browser/consumer/handshake-kernels.js";

/** The raw public key of a test seed, by node:crypto (PKCS#8 DER: a fixed prefix, then the seed). */
function publicKeyOfSeed(seedHex) {
  const key = createPrivateKey({ key: Buffer.from(`302e020100300506032b657004220420${seedHex}`, "hex"), format: "der", type: "pkcs8" });
  return createPublicKey(key).export({ format: "der", type: "spki" }).subarray(-32).toString("hex");
}

/**
 * The kernel serving a stage's page, from the installed tarball (CommonJS: one module graph):
 * its handshake server's request listener and a check of what it pinned once the page ran.
 */
function servingKernel(project) {
  const load = createRequire(path.join(project, "package.json"));
  const { KernelTrustExchange, Keypair, InMemoryPeerStore } = load("chio-trust/handshake");
  const { createHandshakeServer, HANDSHAKE_PATH } = load("chio-trust/http");
  const store = new InMemoryPeerStore();
  const pageKey = publicKeyOfSeed(PAGE_KERNEL.seed);
  const exchange = new KernelTrustExchange(SERVING_KERNEL.id, Keypair.fromSeed(Buffer.from(SERVING_KERNEL.seed, "hex")), { store, trustedPeers: { [PAGE_KERNEL.id]: pageKey } });
  const refusals = [];
  const server = createHandshakeServer(exchange, { onRequestError: (info) => refusals.push(info) });
  return {
    routes: { [HANDSHAKE_PATH]: (req, res) => server.emit("request", req, res) },
    /** Errors for the stage: the page's kernel must be pinned with its key, one refusal logged. */
    check() {
      const errors = [];
      const pinned = store.get(PAGE_KERNEL.id);
      if (pinned?.publicKey.toHex() !== pageKey) errors.push(`the serving kernel pinned ${pinned ? pinned.publicKey.toHex() : "nothing"} for ${PAGE_KERNEL.id}, expected ${pageKey}`);
      if (refusals.length !== 1 || refusals[0].code !== "UNEXPECTED_PEER_KEY") errors.push(`the serving kernel's refusals: ${JSON.stringify(refusals)}`);
      return errors;
    },
  };
}

export async function runConsumerStages({ root, out, context, runPage, report, stageCrashed, wanted }) {
  let project;
  try {
    const { tarball } = packTarball();
    try {
      project = installTarball(tarball);
    } finally {
      rmSync(path.dirname(tarball), { recursive: true, force: true }); // packTarball's own directory: installed, no longer needed
    }
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
      const kernel = servingKernel(project);
      server = await serveStatic({ "/": dir }, { routes: kernel.routes });
      const { results } = await runPage(context, `${server.origin}/`, { timeoutMs: 60_000 });
      report(stage, results, kernel.check());
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
