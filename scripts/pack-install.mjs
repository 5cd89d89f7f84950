// `npm pack` of this package, installed into a scratch project the way a user would install it
// from the registry. Used by the hosts tier (test/hosts/) and the bundler pages of the browser
// tier. Its dependencies (piscina, commander, cli-progress and theirs) are pinned to the versions
// of our package-lock.json (`overrides`), so the tiers test what `npm ci` installed here, and come
// from npm's cache when it holds them (`--prefer-offline`), from the registry otherwise: `npm ci`
// fills the cache with the lockfile's tarballs but not with the registry documents `npm install`
// reads to resolve versions, so on a fresh machine `--offline` fails.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
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
  writeFileSync(path.join(dir, "package.json"), JSON.stringify({ name: "chio-consumer", private: true, type, version: "0.0.0", overrides: lockedRuntimeVersions() }, null, 2));
  execFileSync("npm", ["install", "--prefer-offline", "--no-audit", "--no-fund", "--ignore-scripts", "--no-package-lock", tarball], { cwd: dir, stdio: ["ignore", "ignore", "inherit"] });
  return dir;
}

/** name → version of every package our lockfile installs at the top level for production (not dev). */
function lockedRuntimeVersions() {
  const lock = JSON.parse(readFileSync(path.join(root, "package-lock.json"), "utf8"));
  const versions = {};
  for (const [where, entry] of Object.entries(lock.packages)) {
    const name = where.startsWith("node_modules/") ? where.slice("node_modules/".length) : "";
    if (name !== "" && !name.includes("node_modules/") && !entry.dev && !entry.devOptional) versions[name] = entry.version;
  }
  return versions;
}
