// `npm pack` of this package, installed into a scratch project the way a user would install it
// from the registry. Used by the hosts tier (test/hosts/) and the bundler pages of the browser
// tier. Its dependencies (piscina, commander, cli-progress and theirs) come from npm's cache when
// it holds them (`--prefer-offline`) and from the registry otherwise: `npm ci` fills the cache
// with the tarballs of the lockfile but not with the registry documents that `npm install` reads
// to resolve a version range, so on a fresh machine `--offline` fails.
import { execFileSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), "..");

/** Packs dist/ as `npm pack` would publish it; returns the tarball's path and npm's file list. */
export function packTarball(destination = mkdtempSync(path.join(tmpdir(), "chio-pack-"))) {
  const [info] = JSON.parse(execFileSync("npm", ["pack", "--json", "--pack-destination", destination], { cwd: root, encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] }));
  return { tarball: path.join(destination, info.filename), files: info.files.map((f) => f.path).sort(), info };
}

/** A scratch project with the tarball installed as its dependency `chio-trust`; returns its folder. */
export function installTarball(tarball, { type = "module" } = {}) {
  const dir = mkdtempSync(path.join(tmpdir(), "chio-consumer-"));
  writeFileSync(path.join(dir, "package.json"), JSON.stringify({ name: "chio-consumer", private: true, type, version: "0.0.0" }, null, 2));
  execFileSync("npm", ["install", "--prefer-offline", "--no-audit", "--no-fund", "--ignore-scripts", "--no-package-lock", tarball], { cwd: dir, stdio: ["ignore", "ignore", "inherit"] });
  return dir;
}
