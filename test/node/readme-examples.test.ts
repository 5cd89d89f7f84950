// The README's examples, run as written against the BUILT package (dist/, resolved by its name
// "chio-trust" as an installed copy is): the quick start's shell block in bash, and every ```ts
// block in its own Node process under tsx, after tsc has type-checked them all. The README's quick
// start raced its own server (a handshake sent before `serve` listened failed with NETWORK_ERROR)
// and its code held `…` placeholders that do not parse; nothing ran them.
//
// Only the free names a block uses are supplied, by a prelude kept here per block (keyed by the
// block's first line, so a changed or new block fails until it is covered), plus literal
// substitutions for what a test cannot use as printed (a fixed port, a system path, an elided
// key). An epilogue checks what the block's comments promise against oracles: @noble/curves for
// keys and signatures, the other side of the handshake for pins. The Postgres block needs a
// server: it is type-checked here and run by test/cluster/readme-postgres.test.ts.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import path from "node:path";
import { ed25519 as noble } from "@noble/curves/ed25519.js";
import { cliPath } from "../helpers/cli.js";
import { freePort, repoRoot } from "../helpers/processes.js";
import { README_TS_EXAMPLES, readmeBlocks, writeExampleModule, type ReadmeBlock } from "../helpers/readme-examples.js";

const readme = readFileSync(path.join(repoRoot, "README.md"), "utf8");
const blocks = readmeBlocks(readme);
const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString("hex");
const tsxLoader = import.meta.resolve("tsx");
const require = createRequire(import.meta.url);
const tsc = path.join(path.dirname(require.resolve("typescript/package.json")), "bin", "tsc");


test("the quick start's shell block runs as written: both kernels end with the other's key pinned, serve stops cleanly, and the file-based handshake after it works", async () => {
  const start = blocks.findIndex((b) => b.heading.startsWith("Quick start"));
  assert.ok(start >= 0, "the README has its Quick start section");
  const block = blocks.slice(start).find((b) => b.lang === "sh" && b.code.includes("chio-trust keygen"));
  assert.ok(block, "the quick start's block with keygen, serve and handshake");
  const dir = mkdtempSync(path.join(tmpdir(), "chio-readme-sh-"));
  const port = await freePort();
  assert.ok(block.code.includes("8700"), "the block names port 8700");
  // The paragraph after the block: the same handshake through files, as inline code.
  const afterBlock = readme.slice(readme.indexOf(block.code) + block.code.length);
  const filesParagraph = afterBlock.slice(afterBlock.indexOf("Without HTTP"), afterBlock.indexOf("\n\n", afterBlock.indexOf("Without HTTP")));
  const fileCommands = [...filesParagraph.replace(/\n/g, " ").matchAll(/`(chio-trust [^`]+)`/g)].map((m) => m[1]);
  assert.is(fileCommands.length, 2, "the envelope and the accept command");
  const script = [
    "set -euo pipefail",
    "shopt -s expand_aliases",
    `alias chio-trust='${process.execPath} ${cliPath}'`,
    // Not the README's: ends a serve the block left running when it failed part-way.
    "trap 'kill $(jobs -p) 2>/dev/null || true' EXIT",
    block.code.replaceAll("8700", String(port)),
    'status=0; wait %1 || status=$?; echo "serve ended with $status"',
    ...fileCommands,
    "echo done",
  ].join("\n");
  const run = spawnSync("bash", ["-c", script], { cwd: dir, encoding: "utf8", timeout: 60_000 });
  assert.is(run.status, 0, `exit ${run.status}; stderr: ${run.stderr}`);
  const publicA = hex(noble.getPublicKey(Buffer.from(readFileSync(path.join(dir, "a.seed"), "utf8").trim(), "hex")));
  const publicB = hex(noble.getPublicKey(Buffer.from(readFileSync(path.join(dir, "b.seed"), "utf8").trim(), "hex")));
  for (const seed of ["a.seed", "b.seed"]) assert.is(statSync(path.join(dir, seed)).mode & 0o777, 0o600, `${seed} mode 0600`);
  const lines = run.stdout.split("\n");
  // keygen's keys went into $A and $B; the peers listing of a.db names kernel.b with B's key.
  const pinnedB = lines.find((line) => line.startsWith('"kernel.b"'));
  assert.ok(pinnedB?.includes(publicB), `a.db pins kernel.b under B's key: ${run.stdout}`);
  assert.ok(lines.includes("1 pinned peer"), run.stdout);
  // JSON lines: the pin `handshake` made (B), `peers --store b.db --json` (A), the pin `accept` made (A).
  const pins = lines.filter((line) => line.startsWith("{")).map((line) => JSON.parse(line) as { kernelId?: string; publicKey?: string; fresh?: boolean });
  assert.equal(
    pins.map((pin) => [pin.kernelId, pin.publicKey, pin.fresh]),
    [["kernel.b", publicB, undefined], ["kernel.a", publicA, true], ["kernel.a", publicA, undefined]],
    run.stdout,
  );
  assert.match(readFileSync(path.join(dir, "b.log"), "utf8"), new RegExp(`^listening http://127\\.0\\.0\\.1:${port}\\n`));
  assert.ok(lines.includes("serve ended with 0"), `serve stopped by kill %1 with exit 0: ${run.stdout}`);
  assert.ok(existsSync(path.join(dir, "env.json")) && lines.at(-2) === "done", run.stdout);
});

test("every `npm run` the README and docs/ name is a script of package.json, and every script they run with node is in the repository", () => {
  const scripts = Object.keys((JSON.parse(readFileSync(path.join(repoRoot, "package.json"), "utf8")) as { scripts: Record<string, string> }).scripts);
  const docs = [readme, ...readdirSync(path.join(repoRoot, "docs")).filter((f) => f.endsWith(".md")).map((f) => readFileSync(path.join(repoRoot, "docs", f), "utf8"))].join("\n");
  const named = new Set([...docs.matchAll(/npm run ([\w:-]+)/g)].map((m) => m[1]));
  assert.ok(named.has("bench") && named.has("test:cluster"), "the README names its scripts");
  for (const name of named) assert.ok(scripts.includes(name), `npm run ${name}: no such script in package.json`);
  for (const [, file] of docs.matchAll(/\bnode (?:--import tsx )?((?:bench|scripts)\/[\w./-]+\.(?:ts|mjs|js))/g)) {
    assert.ok(existsSync(path.join(repoRoot, file)), `node ${file}: no such file`);
  }
});

test("every ```ts block of the README has its prelude here, and every prelude its block", () => {
  const firstLines = blocks.filter((b) => b.lang === "ts").map((b) => b.code.split("\n")[0]);
  for (const line of firstLines) assert.ok(README_TS_EXAMPLES.has(line), `no prelude for the README block starting ${JSON.stringify(line)}`);
  for (const line of README_TS_EXAMPLES.keys()) assert.ok(firstLines.includes(line), `no README block starts ${JSON.stringify(line)} any more`);
  assert.is(firstLines.length, README_TS_EXAMPLES.size, "one block per first line");
});

const dir = mkdtempSync(path.join(tmpdir(), "chio-readme-ts-"));
const files = new Map<ReadmeBlock, string>();
const tsBlocks = blocks.filter((b) => b.lang === "ts" && README_TS_EXAMPLES.has(b.code.split("\n")[0]));
let port = 0;

test("the ```ts blocks type-check as written (strict tsc, NodeNext, against the built declarations)", async () => {
  port = await freePort();
  for (const block of tsBlocks) files.set(block, writeExampleModule(dir, block, { port, dir }));
  writeFileSync(
    path.join(dir, "tsconfig.json"),
    JSON.stringify({
      compilerOptions: {
        target: "ES2022", module: "NodeNext", moduleResolution: "NodeNext", strict: true, noEmit: true, skipLibCheck: true,
        lib: ["ES2022", "DOM"], types: ["node"], typeRoots: [path.join(repoRoot, "node_modules", "@types")],
      },
      include: ["*.mts"],
    }),
  );
  const checked = spawnSync(process.execPath, [tsc, "-p", dir], { cwd: dir, encoding: "utf8", timeout: 120_000 });
  assert.is(checked.status, 0, `tsc: ${checked.stdout}${checked.stderr}`);
});

for (const block of tsBlocks) {
  const example = README_TS_EXAMPLES.get(block.code.split("\n")[0])!;
  if (example.tier === "cluster") continue;
  test(`README line ${block.line} (${block.heading}): the block runs as written and does what its comments say`, () => {
    const file = files.get(block);
    assert.ok(file, "written by the type-check test");
    const run = spawnSync(process.execPath, ["--import", tsxLoader, file], { cwd: dir, encoding: "utf8", timeout: 60_000 });
    assert.is(run.status, 0, `exit ${run.status}; stderr: ${run.stderr}`);
    assert.is(run.stdout.trim().split("\n").at(-1), "example ok", run.stdout);
  });
}

test.run();
