// Bundles src/ into dist/index.js (ESM) and dist/index.cjs (CommonJS) with esbuild, then emits
// declarations with tsc and mirrors them as .d.cts for the require branch of the exports map.
import { build } from "esbuild";
import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync, writeFileSync, statSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), "..");
const require = createRequire(import.meta.url);
const common = {
  entryPoints: [path.join(root, "src", "index.ts")],
  bundle: true,
  platform: "neutral",
  target: "es2022",
  sourcemap: false,
  logLevel: "warning",
  external: ["node:*"],
};
await build({ ...common, format: "esm", outfile: path.join(root, "dist", "index.js") });
await build({ ...common, format: "cjs", outfile: path.join(root, "dist", "index.cjs") });

const tsc = path.join(path.dirname(require.resolve("typescript/package.json")), "bin", "tsc");
execFileSync(process.execPath, [tsc, "-p", "tsconfig.json"], { cwd: root, stdio: "inherit" });

// Mirror every .d.ts as .d.cts, rewriting relative ".js" specifiers to ".cjs".
const typesDir = path.join(root, "dist", "types");
function mirror(dir) {
  for (const name of readdirSync(dir)) {
    const full = path.join(dir, name);
    if (statSync(full).isDirectory()) mirror(full);
    else if (name.endsWith(".d.ts")) {
      const text = readFileSync(full, "utf8").replace(/(from\s+["']\.{1,2}\/[^"']*)\.js(["'])/g, "$1.cjs$2");
      writeFileSync(full.replace(/\.d\.ts$/, ".d.cts"), text);
    }
  }
}
mirror(typesDir);
console.log("dist/index.js, dist/index.cjs, dist/types/ written");
