// Shared by scripts/test-browser.mjs and scripts/demo.mjs: a static file server on 127.0.0.1
// (node:http, a port the OS picks unless one is asked for) and Debian's Chromium driven by
// playwright-core. Playwright's own browser download cannot work here, so the executable is
// /usr/bin/chromium (CHROMIUM_PATH overrides), in a fresh profile, with background networking off.
import { createServer } from "node:http";
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

const TYPES = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json",
  ".wasm": "application/wasm",
  ".png": "image/png",
  ".svg": "image/svg+xml",
};

/**
 * Serves files: `mounts` maps a URL prefix ("/", "/vite-app/") to a folder, or an exact path
 * ("/chio.wasm") to a file. Longest prefix wins; "/x/" serves "/x/index.html". `routes` maps an
 * exact path to a request listener that answers it instead (any method). Returns the origin and a
 * close function.
 */
export async function serveStatic(mounts, { port = 0, routes = {} } = {}) {
  const entries = Object.entries(mounts).sort((a, b) => b[0].length - a[0].length);
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    const pathname = decodeURIComponent(url.pathname);
    if (Object.hasOwn(routes, pathname)) return routes[pathname](req, res);
    for (const [prefix, target] of entries) {
      let file;
      if (prefix.endsWith("/") && pathname.startsWith(prefix)) {
        file = path.join(target, pathname.slice(prefix.length) || "index.html");
        if (!file.startsWith(path.resolve(target))) break; // no climbing out of the mount
      } else if (pathname === prefix) file = target;
      else continue;
      if (existsSync(file) && statSync(file).isDirectory()) file = path.join(file, "index.html");
      if (!existsSync(file)) break;
      res.writeHead(200, { "content-type": TYPES[path.extname(file)] ?? "application/octet-stream", "cache-control": "no-store" });
      res.end(readFileSync(file));
      return;
    }
    res.writeHead(404, { "content-type": "text/plain" });
    res.end("not found");
  });
  await new Promise((resolve) => server.listen(port, "127.0.0.1", resolve));
  const { port: actual } = server.address();
  // close() also drops Chromium's keep-alive sockets: server.close() alone waits for them to time
  // out, which stalled runs by up to minutes.
  const close = () =>
    new Promise((resolve) => {
      server.close(resolve);
      server.closeAllConnections();
    });
  return { origin: `http://127.0.0.1:${actual}`, close };
}

export const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

/** Launches headless Chromium in a fresh profile; returns { context, close }. */
export async function launchChromium() {
  const executablePath = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
  if (!existsSync(executablePath)) {
    throw new Error(`${executablePath} is missing: install Debian's chromium (apt-get install -y chromium) or set CHROMIUM_PATH`);
  }
  const { chromium } = await import("playwright-core");
  const profile = mkdtempSync(path.join(tmpdir(), "chio-chromium-"));
  // launchPersistentContext passes the fresh profile as --user-data-dir.
  const context = await chromium.launchPersistentContext(profile, {
    executablePath,
    headless: true,
    args: CHROMIUM_ARGS,
    viewport: { width: 1100, height: 800 },
  });
  return {
    context,
    close: async () => {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
