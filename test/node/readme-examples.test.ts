// The README's examples, run as written against the BUILT package (dist/, resolved by its name
// "chio-trust" as an installed copy is): the quick start's commands in bash, and every ```ts block
// in its own Node process under tsx, after tsc has type-checked them all. The README's quick start
// raced its own server (a handshake sent before `serve` listened failed with NETWORK_ERROR) and its
// code held `…` placeholders that do not parse; nothing ran them.
//
// Only the free names a block uses are supplied, by a prelude kept per block in
// test/helpers/readme-examples.ts, plus literal substitutions for what a test cannot use as
// printed (a fixed port, a system path, an elided key) and for naming answers a block does not
// keep. An epilogue checks what the block's comments promise against oracles: @noble/curves for
// keys and signatures, the `canonicalize` reference for RFC 8785, the single-call API for the
// bulk ones, the other side of a handshake for pins. Each entry holds its block's digest, so an
// edit anywhere in a block fails here until its checks are reviewed. The Postgres block needs a
// server: it is type-checked here and run by test/cluster/readme-postgres.test.ts.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { spawnSync, type SpawnSyncReturns } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import path from "node:path";
import { ed25519 as noble } from "@noble/curves/ed25519.js";
import { cliPath } from "../helpers/cli.js";
import { freePort, repoRoot } from "../helpers/processes.js";
import { blockDigest, fenceLikeLines, README_TS_EXAMPLES, readmeBlocks, readmeExample, writeExampleModule, type ReadmeBlock } from "../helpers/readme-examples.js";

const readme = readFileSync(path.join(repoRoot, "README.md"), "utf8");
const blocks = readmeBlocks(readme);
const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString("hex");
const tsxLoader = import.meta.resolve("tsx");
const require = createRequire(import.meta.url);
const tsc = path.join(path.dirname(require.resolve("typescript/package.json")), "bin", "tsc");
const tempDirs: string[] = [];
const tempDir = (prefix: string) => {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  tempDirs.push(dir);
  return dir;
};
/** Attempts for a run that binds a port found free beforehand: another process may take it first. */
const PORT_ATTEMPTS = 3;

test("the README's fences all pair, in the languages this suite knows", () => {
  assert.is(fenceLikeLines(readme), 2 * blocks.length, "every fence-like line opens or closes a block");
  for (const block of blocks) assert.ok(["ts", "sh", "diff", ""].includes(block.lang), `README line ${block.line}: a block in ${JSON.stringify(block.lang)}, which this suite does not run`);
});

test("the quick start's commands run as written: both kernels end with the other's key pinned, serve stops cleanly, and the handshake through files pins on a fresh store", async () => {
  const start = blocks.findIndex((b) => b.heading.startsWith("Quick start"));
  assert.ok(start >= 0, "the README has its Quick start section");
  const block = blocks.slice(start).find((b) => b.lang === "sh" && b.code.includes("chio-trust keygen"));
  assert.ok(block, "the quick start's block with keygen, serve and handshake");
  for (const text of ["--port 8700", "127.0.0.1:8700", "SERVE=$!"]) assert.ok(block.code.includes(text), `the block holds ${text}`);
  // The paragraph after the block: the same handshake through files, as inline code; the accept
  // goes to a store of its own (c.db), so that it is a first contact too.
  const afterBlock = readme.slice(readme.indexOf(block.code) + block.code.length);
  const from = afterBlock.indexOf("Without HTTP");
  const fileCommands = [...afterBlock.slice(from, afterBlock.indexOf("\n\n", from)).replace(/\n/g, " ").matchAll(/`(chio-trust [^`]+)`/g)].map((m) => m[1]);
  assert.is(fileCommands.length, 2, "the envelope and the accept command");
  assert.ok(fileCommands[1].includes("--store b.db"), fileCommands[1]);
  let run: SpawnSyncReturns<string> | undefined;
  let workDir = "";
  let port = 0;
  for (let attempt = 1; attempt <= PORT_ATTEMPTS; attempt++) {
    workDir = tempDir("chio-readme-sh-");
    port = await freePort();
    const script = [
      "set -euo pipefail",
      "shopt -s expand_aliases",
      `alias chio-trust='"${process.execPath}" "${cliPath}"'`,
      // Not the README's: ends a serve the block left running when it failed part-way.
      "trap 'kill $(jobs -p) 2>/dev/null || true' EXIT",
      block.code.replaceAll("--port 8700", `--port ${port}`).replaceAll("127.0.0.1:8700", `127.0.0.1:${port}`),
      'status=0; wait $SERVE || status=$?; echo "serve ended with $status"',
      'echo "keys $A $B"',
      fileCommands[0],
      fileCommands[1].replace("--store b.db", "--store c.db"),
      "chio-trust peers --store c.db --json",
      "echo done",
    ].join("\n");
    run = spawnSync("bash", ["-c", script], { cwd: workDir, encoding: "utf8", timeout: 60_000 });
    if (!/LISTEN_FAILED|EADDRINUSE/.test(run.stderr)) break;
  }
  assert.ok(run);
  assert.is(run.status, 0, `exit ${run.status}; stderr: ${run.stderr}`);
  const publicA = hex(noble.getPublicKey(Buffer.from(readFileSync(path.join(workDir, "a.seed"), "utf8").trim(), "hex")));
  const publicB = hex(noble.getPublicKey(Buffer.from(readFileSync(path.join(workDir, "b.seed"), "utf8").trim(), "hex")));
  for (const seed of ["a.seed", "b.seed"]) assert.is(statSync(path.join(workDir, seed)).mode & 0o777, 0o600, `${seed} mode 0600`);
  const lines = run.stdout.split("\n");
  assert.ok(lines.includes(`keys ${publicA} ${publicB}`), `keygen printed the public keys @noble/curves derives from the seeds: ${run.stdout}`);
  // The listing of a.db names kernel.b with B's key.
  const pinnedB = lines.find((line) => line.startsWith('"kernel.b"'));
  assert.ok(pinnedB?.includes(publicB), `a.db pins kernel.b under B's key: ${run.stdout}`);
  assert.ok(lines.includes("1 pinned peer"), run.stdout);
  // JSON lines: the pin `handshake` made (B), `peers --store b.db --json` (A), the pin `accept` made
  // on c.db (A) and `peers --store c.db --json` (A, first contact through files).
  const pins = lines.filter((line) => line.startsWith("{")).map((line) => JSON.parse(line) as { kernelId?: string; publicKey?: string; fresh?: boolean });
  assert.equal(
    pins.map((pin) => [pin.kernelId, pin.publicKey, pin.fresh]),
    [["kernel.b", publicB, undefined], ["kernel.a", publicA, true], ["kernel.a", publicA, undefined], ["kernel.a", publicA, true]],
    run.stdout,
  );
  assert.match(readFileSync(path.join(workDir, "b.log"), "utf8"), new RegExp(`^listening http://127\\.0\\.0\\.1:${port}\\n`));
  assert.ok(lines.includes("serve ended with 0"), `serve stopped by kill $SERVE with exit 0: ${run.stdout}`);
  assert.ok(existsSync(path.join(workDir, "env.json")) && lines.at(-2) === "done", run.stdout);
});

test("every ```ts block of the README has its entry, with its digest, and every entry its block", () => {
  const tsBlocks = blocks.filter((b) => b.lang === "ts");
  for (const block of tsBlocks) {
    const example = readmeExample(block);
    assert.ok(example, `no entry for the README block at line ${block.line}, starting ${JSON.stringify(block.code.split("\n")[0])}`);
    assert.is(example.sha256, blockDigest(block.code), `the README block at line ${block.line} changed: review its prelude, substitutions and epilogue, then set its sha256`);
  }
  const firstLines = tsBlocks.map((b) => b.code.split("\n")[0]);
  for (const line of README_TS_EXAMPLES.keys()) assert.ok(firstLines.includes(line), `no README block starts ${JSON.stringify(line)} any more`);
  assert.is(firstLines.length, README_TS_EXAMPLES.size, "one block per first line");
});

const dir = tempDir("chio-readme-ts-");
const tsBlocks = blocks.filter((b) => b.lang === "ts" && readmeExample(b) !== undefined);

test("the ```ts blocks type-check as written (strict tsc, NodeNext, ES2022 with Node's types only, against the built declarations)", () => {
  for (const block of tsBlocks) writeExampleModule(dir, block, { port: 8700, dir });
  writeFileSync(
    path.join(dir, "tsconfig.json"),
    JSON.stringify({
      compilerOptions: {
        target: "ES2022", module: "NodeNext", moduleResolution: "NodeNext", strict: true, noEmit: true, skipLibCheck: true,
        lib: ["ES2022"], types: ["node"], typeRoots: [path.join(repoRoot, "node_modules", "@types")],
      },
      include: ["*.mts"],
    }),
  );
  assert.is(readdirSync(dir).filter((f) => f.endsWith(".mts")).length, tsBlocks.length);
  const checked = spawnSync(process.execPath, [tsc, "-p", dir], { cwd: dir, encoding: "utf8", timeout: 120_000 });
  assert.is(checked.status, 0, `tsc: ${checked.stdout}${checked.stderr}`);
});

/** Runs a block's module (written anew with a free port for each attempt) to completion. */
async function runExample(block: ReadmeBlock) {
  let run: SpawnSyncReturns<string> | undefined;
  for (let attempt = 1; attempt <= PORT_ATTEMPTS; attempt++) {
    const file = writeExampleModule(dir, block, { port: await freePort(), dir });
    run = spawnSync(process.execPath, ["--import", tsxLoader, file], { cwd: dir, encoding: "utf8", timeout: 60_000 });
    if (!/EADDRINUSE/.test(run.stderr)) break;
  }
  return run!;
}

for (const block of tsBlocks) {
  if (readmeExample(block)!.tier === "cluster") continue;
  test(`README line ${block.line} (${block.heading}): the block runs as written and does what its comments say`, async () => {
    const run = await runExample(block);
    assert.is(run.status, 0, `exit ${run.status}; stderr: ${run.stderr}`);
    assert.is(run.stdout.trim().split("\n").at(-1), "example ok", run.stdout);
  });
}

test.after(() => {
  for (const temp of tempDirs) rmSync(temp, { recursive: true, force: true });
});

test.run();
