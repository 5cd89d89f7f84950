// pg, redis and better-sqlite3 are optional peer dependencies (chio-trust/postgres, chio-trust/redis,
// chio-trust/sqlite): the main entries must load, through import and require, where none is
// installed. The built package is copied into a temporary node_modules far from this repository's,
// so nothing else can resolve them.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { execFileSync, spawnSync } from "node:child_process";
import { chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), "..", "..");
const pkg = JSON.parse(readFileSync(path.join(root, "package.json"), "utf8"));

test("package.json declares pg and redis as optional peer dependencies only", () => {
  for (const name of ["pg", "redis"]) {
    assert.ok(pkg.peerDependencies?.[name], `${name} in peerDependencies`);
    assert.is(pkg.peerDependenciesMeta?.[name]?.optional, true, `${name} optional`);
    assert.not.ok(pkg.dependencies?.[name], `${name} not a dependency`);
  }
});

test("the main entries load without pg, redis and better-sqlite3; the store entries name what is missing, through require and import", () => {
  const dir = mkdtempSync(path.join(tmpdir(), "chio-peers-"));
  try {
    const installed = path.join(dir, "node_modules", "chio-trust");
    mkdirSync(installed, { recursive: true });
    cpSync(path.join(root, "dist"), path.join(installed, "dist"), { recursive: true });
    cpSync(path.join(root, "package.json"), path.join(installed, "package.json"));
    const code = `const lib = require("chio-trust"); require("chio-trust/handshake");
      const k = lib.Keypair.fromSeed(new Uint8Array(32)); process.stdout.write(String(k.publicKey.toHex().length));`;
    assert.is(execFileSync(process.execPath, ["-e", code], { cwd: dir, encoding: "utf8" }), "64", "require");
    const esm = `const lib = await import("chio-trust"); process.stdout.write(typeof lib.KernelTrustExchange);`;
    assert.is(execFileSync(process.execPath, ["--input-type=module", "-e", esm], { cwd: dir, encoding: "utf8" }), "function", "import");
    for (const [entry, missing] of [["chio-trust/postgres", "pg"], ["chio-trust/redis", "redis"], ["chio-trust/sqlite", "better-sqlite3"]]) {
      const run = spawnSync(process.execPath, ["-e", `require(${JSON.stringify(entry)})`], { cwd: dir, encoding: "utf8" });
      assert.is.not(run.status, 0, `${entry} cannot load without ${missing}`);
      assert.match(run.stderr, new RegExp(`Cannot find (module|package) '${missing}'`), `${entry}: ${run.stderr.slice(0, 300)}`);
      // import() rejects, and that is all: the program catches it and goes on (Node 20 also threw
      // an uncaught exception here when the entry was a static ESM re-export of CommonJS).
      const caught = `try { await import(${JSON.stringify(entry)}); process.stdout.write("loaded"); } catch (e) { process.stdout.write(e.message.split("\\n")[0]); }
        setTimeout(() => process.stdout.write(" | still running"), 20);`;
      const imported = spawnSync(process.execPath, ["--input-type=module", "-e", caught], { cwd: dir, encoding: "utf8" });
      assert.is(imported.status, 0, `${entry} import: ${imported.stderr.slice(0, 300)}`);
      assert.match(imported.stdout, new RegExp(`^Cannot find (module|package) '${missing}'.* \\| still running$`), `${entry} import`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

// better-sqlite3 installed without its native addon (its install script not run: --ignore-scripts,
// an npm that holds install scripts back; or built for another Node). The package loads and
// fails on the first open, so the CLI said CANNOT_OPEN "cannot open :memory:: Could not locate
// the bindings file. Tried: …" (accept's dry run in memory), blaming the store for what the
// driver lacks, where README "Install" says a missing driver is SQLITE_UNAVAILABLE (hunt 38).
test("the CLI with better-sqlite3 present but its native addon missing: SQLITE_UNAVAILABLE (exit 2), no store file", () => {
  const dir = mkdtempSync(path.join(tmpdir(), "chio-peers-"));
  try {
    const modules = path.join(dir, "node_modules");
    const installed = path.join(modules, "chio-trust");
    mkdirSync(installed, { recursive: true });
    cpSync(path.join(root, "dist"), path.join(installed, "dist"), { recursive: true });
    cpSync(path.join(root, "package.json"), path.join(installed, "package.json"));
    symlinkSync(path.join(root, "node_modules", "commander"), path.join(modules, "commander"), "dir");
    // What better-sqlite3 12 does without build/Release/better_sqlite3.node: it loads, and its
    // constructor throws bindings' error.
    const driver = path.join(modules, "better-sqlite3");
    mkdirSync(driver);
    writeFileSync(path.join(driver, "package.json"), JSON.stringify({ name: "better-sqlite3", version: "12.11.1", main: "index.js" }));
    writeFileSync(path.join(driver, "index.js"), `module.exports = class Database { constructor() { throw new Error("Could not locate the bindings file. Tried:\\n → " + __dirname + "/build/Release/better_sqlite3.node"); } };`);
    const cli = (args: string[]) => spawnSync(process.execPath, [path.join(installed, "dist", "esm", "cli", "main.js"), ...args], { cwd: dir, encoding: "utf8", timeout: 60_000 });
    const a = cli(["keygen", "--out", "a.seed"]);
    assert.is(a.status, 0, a.stderr);
    const envelope = cli(["envelope", "--key", "a.seed", "--id", "kernel.a", "--to", "kernel.b"]);
    assert.is(envelope.status, 0, envelope.stderr);
    writeFileSync(path.join(dir, "env.json"), envelope.stdout);
    assert.is(cli(["keygen", "--out", "b.seed"]).status, 0);
    chmodSync(path.join(dir, "b.seed"), 0o600);
    const accepted = cli(["accept", "--key", "b.seed", "--id", "kernel.b", "--from", "kernel.a", "--store", "b.db", "--trust", `kernel.a=${a.stdout.trim()}`, "--in", "env.json"]);
    assert.is(accepted.status, 2, accepted.stderr);
    assert.match(accepted.stderr, /^chio-trust: error SQLITE_UNAVAILABLE: better-sqlite3 is installed but its native addon does not load \(npm rebuild better-sqlite3[^\n]*Could not locate the bindings file\. Tried:\n$/);
    assert.not.ok(existsSync(path.join(dir, "b.db")), "no store file");
    writeFileSync(path.join(dir, "a.db"), "SQLite format 3\0".padEnd(4096, "\0"));
    const peers = cli(["peers", "--store", "a.db"]);
    assert.is(peers.status, 2, peers.stderr);
    assert.match(peers.stderr, /error SQLITE_UNAVAILABLE: better-sqlite3 is installed but its native addon does not load/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
