// Which entries a browser, Deno, Bun or edge-worker bundle can take: every JS entry of
// package.json's exports map is portable (no Node built-in reachable from it, through the
// "browser" conditions a site's bundler uses) unless it is one of the Node-only entries below,
// which the README names as such. A new entry is therefore portable until it is listed here, and
// an import that drags a Node built-in into a portable entry (review 72 F3: chio-trust/http's
// fetch client reached node:http through a constant) fails this test, as it fails a user's bundle.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { build } from "esbuild";
import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), "..", "..");
const pkg = JSON.parse(readFileSync(path.join(root, "package.json"), "utf8")) as { name: string; exports: Record<string, unknown> };

/** The entries that need Node (README "Layout"): native or socket clients, node:http, worker threads. */
const NODE_ONLY = new Set(["chio-trust/sqlite", "chio-trust/postgres", "chio-trust/redis", "chio-trust/http", "chio-trust/pool"]);

const entries = Object.entries(pkg.exports)
  .filter(([, target]) => typeof target === "object")
  .map(([subpath]) => (subpath === "." ? pkg.name : `${pkg.name}/${subpath.slice(2)}`));

/** esbuild's errors bundling `entry` for a browser page from the built dist/ (none: it bundles). */
async function browserBundleErrors(entry: string): Promise<string[]> {
  try {
    await build({
      stdin: { contents: `export * from ${JSON.stringify(entry)};`, resolveDir: root, loader: "js" },
      bundle: true,
      format: "esm",
      platform: "browser",
      write: false,
      logLevel: "silent",
    });
    return [];
  } catch (error) {
    return ((error as { errors?: { text: string }[] }).errors ?? [{ text: String(error) }]).map((e) => e.text);
  }
}

test("every entry but the Node-only ones bundles for the browser; each Node-only one needs a Node built-in", async () => {
  for (const name of NODE_ONLY) assert.ok(entries.includes(name), `${name} is not an entry any more: update NODE_ONLY`);
  const portable = entries.filter((e) => !NODE_ONLY.has(e));
  assert.ok(portable.includes("chio-trust/http/client") && portable.length >= 6, portable.join(", "));
  for (const entry of portable) assert.equal(await browserBundleErrors(entry), [], entry);
  for (const entry of NODE_ONLY) {
    const errors = await browserBundleErrors(entry);
    assert.ok(errors.some((text) => /Could not resolve "(node:)?[a-z_]+"/.test(text)), `${entry}: ${errors.join("; ") || "bundled for the browser"}`);
  }
});

test.run();
