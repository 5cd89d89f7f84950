// `npm run build`: scripts/build-wasm.mjs, then scripts/build-js.mjs, unless every file the build
// reads and writes is exactly as the last complete build left it. The test commands
// (`npm run test:slow`, `test:hosts`, `test:cluster`, `test:browser`, `bench`) each start with a
// build, so that each runs on a fresh clone by itself; run one after another, as CI does after
// `npm test`, they rebuilt the same files four more times (about 30 s each, close to two of CI's 25
// minutes). The check is a SHA-256 over the contents of the build's inputs (assembly/, src/,
// scripts/, asconfig.json, package.json, package-lock.json, tsconfig.json, the Node version) and
// of its outputs (dist/, build/, src/generated/ inside src/), taken after each complete build and
// kept in build/.stamp; any difference, a missing or partial output included, rebuilds. `--force`
// rebuilds regardless.
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, lstatSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), "..");
const STAMP = path.join("build", ".stamp");
/** What the build reads or writes, files and folders (walked in sorted order). */
const TRACKED = ["asconfig.json", "package.json", "package-lock.json", "tsconfig.json", "assembly", "scripts", "src", "dist", "build"];

/** The SHA-256 of every tracked file's path and contents (the stamp itself left out), as hex. */
function treeDigest() {
  const hash = createHash("sha256").update(`node ${process.version}\0`);
  const visit = (relative) => {
    if (relative === STAMP) return;
    const absolute = path.join(root, relative);
    if (!existsSync(absolute)) {
      hash.update(`absent ${relative}\0`);
      return;
    }
    const stat = lstatSync(absolute);
    if (stat.isDirectory()) {
      for (const name of readdirSync(absolute).sort()) visit(path.join(relative, name));
    } else if (stat.isSymbolicLink()) {
      hash.update(`link ${relative}\0`);
    } else {
      const bytes = readFileSync(absolute);
      hash.update(`file ${relative} ${bytes.length}\0`).update(bytes);
    }
  };
  for (const entry of TRACKED) visit(entry);
  return hash.digest("hex");
}

const stampPath = path.join(root, STAMP);
if (!process.argv.includes("--force") && existsSync(stampPath) && readFileSync(stampPath, "utf8").trim() === treeDigest()) {
  console.log("build: up to date (nothing changed since the last build; `npm run build -- --force` rebuilds)");
} else {
  rmSync(stampPath, { force: true }); // a build that fails part-way leaves no stamp
  for (const script of ["build-wasm.mjs", "build-js.mjs"]) {
    execFileSync(process.execPath, [path.join(root, "scripts", script)], { cwd: root, stdio: "inherit" });
  }
  writeFileSync(stampPath, `${treeDigest()}\n`);
}
