// Finds a development tool package (vite, @arethetypeswrong/cli, bun, deno) for the tiers that
// use one: from the project's node_modules (they are devDependencies), else from the folder
// named by CHIO_DEV_TOOLS (a scratch install, e.g. /tmp/tools, for working before they are).
// A missing tool is an error, never a skipped check.
import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), "..");

/** The folder of the installed package `name`. */
export function devToolDir(name) {
  const bases = [root, ...(process.env.CHIO_DEV_TOOLS ?? "").split(path.delimiter).filter(Boolean)];
  for (const base of bases) {
    const dir = path.join(base, "node_modules", ...name.split("/"));
    if (existsSync(path.join(dir, "package.json"))) return dir;
  }
  throw new Error(`${name} is not installed: it is a devDependency (npm ci), or set CHIO_DEV_TOOLS to a folder where it is`);
}

/** An executable from `name`'s package (its "bin" entry `bin`, default the package's own name). */
export function devToolBin(name, bin = name.split("/").pop()) {
  const dir = devToolDir(name);
  const pkg = JSON.parse(readFileSync(path.join(dir, "package.json"), "utf8"));
  const rel = typeof pkg.bin === "string" ? pkg.bin : pkg.bin?.[bin];
  if (!rel) throw new Error(`${name} has no bin ${bin}`);
  return path.join(dir, rel);
}

/** Imports `name` (its main ES module) from wherever devToolDir found it. */
export async function importDevTool(name) {
  const dir = devToolDir(name);
  const req = createRequire(path.join(dir, "package.json"));
  return import(pathToFileURL(req.resolve(name)).href);
}
