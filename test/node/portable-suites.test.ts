// The suites in test/portable/ must run outside Node (a browser bundle of them is the plan):
// none of them, and none of the helpers they import, may import a `node:` module, except the
// one host seam test/helpers/vectors.ts, whose browser twin serves the vector files.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";

const testRoot = path.join(process.cwd(), "test");
const HOST_SEAMS = new Set(["helpers/vectors.ts"]);

function localImports(file: string): string[] {
  const text = readFileSync(file, "utf8");
  return [...text.matchAll(/^\s*(?:import|export)[^'"]*from\s+["']([^"']+)["']/gm)].map((m) => m[1]);
}

test("portable suites and the helpers they reach import no node: module", () => {
  const seen = new Set<string>();
  const offenders: string[] = [];
  const visit = (file: string) => {
    const rel = path.relative(testRoot, file);
    if (seen.has(rel) || HOST_SEAMS.has(rel)) return;
    seen.add(rel);
    for (const spec of localImports(file)) {
      if (spec.startsWith("node:")) offenders.push(`${rel} imports ${spec}`);
      else if (spec.startsWith(".") && !spec.includes("/src/") && !spec.includes("/scripts/")) {
        visit(path.resolve(path.dirname(file), spec.replace(/\.js$/, ".ts")));
      }
    }
  };
  const suites = readdirSync(path.join(testRoot, "portable")).filter((f) => f.endsWith(".test.ts"));
  assert.ok(suites.length >= 10, `only ${suites.length} portable suites`);
  for (const f of suites) visit(path.join(testRoot, "portable", f));
  assert.equal(offenders, []);
});

// Node's globals are not imports, so the walk above cannot see them; a bare `Buffer.` or
// `process.` (not reached through `globalThis.…?.`) throws a ReferenceError in a browser.
const NODE_GLOBAL = /(?<![.?\w])(Buffer|process|require|setImmediate|clearImmediate|__dirname|__filename)\s*[.(]/;

test("portable suites and the helpers they reach use no Node-only global (Buffer, process, require, setImmediate, __dirname)", () => {
  const offenders: string[] = [];
  const seen = new Set<string>();
  const visit = (file: string) => {
    const rel = path.relative(testRoot, file);
    if (seen.has(rel) || HOST_SEAMS.has(rel)) return;
    seen.add(rel);
    const lines = readFileSync(file, "utf8").split("\n");
    lines.forEach((line, i) => {
      const code = line.replace(/\/\/.*$/, "");
      if (NODE_GLOBAL.test(code)) offenders.push(`${rel}:${i + 1}: ${line.trim()}`);
    });
    for (const spec of localImports(file)) {
      if (spec.startsWith(".") && !spec.includes("/src/") && !spec.includes("/scripts/")) visit(path.resolve(path.dirname(file), spec.replace(/\.js$/, ".ts")));
    }
  };
  for (const f of readdirSync(path.join(testRoot, "portable")).filter((f) => f.endsWith(".test.ts"))) visit(path.join(testRoot, "portable", f));
  assert.ok(seen.size >= 10);
  assert.equal(offenders, []);
});

test.run();
