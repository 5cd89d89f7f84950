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
// server: it is type-checked here and run by test/cluster/readme-postgres.test.ts. Each ```diff
// of "Migrating" is run as two programs, its "-" lines and its "+" lines, each followed by the same
// calls (an import-only diff keeps its call sites), checked against RFC 8032 TEST 2 and compared:
// the answers after the diff must equal those before it, which the replaced library gives.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import path from "node:path";
import { cliPath } from "../helpers/cli.js";
import { repoRoot } from "../helpers/processes.js";
import {
  blockDigest, checkQuickStart, diffSides, fenceLikeLines, README_DIFF_EXAMPLES, README_TS_EXAMPLES, readmeBlocks, readmeDiffExample, readmeExample, runOnFreePort, writeDiffModules,
  writeExampleModule, type ReadmeBlock,
} from "../helpers/readme-examples.js";

const readme = readFileSync(path.join(repoRoot, "README.md"), "utf8");
const blocks = readmeBlocks(readme);
const tsxLoader = import.meta.resolve("tsx");
const require = createRequire(import.meta.url);
const tsc = path.join(path.dirname(require.resolve("typescript/package.json")), "bin", "tsc");
const tempDirs: string[] = [];
const tempDir = (prefix: string) => {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  tempDirs.push(dir);
  return dir;
};

test("the README's fences all pair, in the languages this suite knows", () => {
  assert.is(fenceLikeLines(readme), 2 * blocks.length, "every fence-like line opens or closes a block");
  for (const block of blocks) assert.ok(["ts", "sh", "diff", ""].includes(block.lang), `README line ${block.line}: a block in ${JSON.stringify(block.lang)}, which this suite does not run`);
});

test("the quick start's commands run as written (the CLI built in dist/): both kernels end with the other's key pinned, serve stops cleanly, and the handshake through files pins on a fresh store", async () => {
  await checkQuickStart(readme, `alias chio-trust='"${process.execPath}" "${cliPath}"'`, () => tempDir("chio-readme-sh-"));
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

test("every ```diff block of the README (\"Migrating\") has its entry, with its digest, and every entry its block", () => {
  const diffBlocks = blocks.filter((b) => b.lang === "diff");
  for (const block of diffBlocks) {
    const example = readmeDiffExample(block);
    assert.ok(example, `no entry for the README diff at line ${block.line}, starting ${JSON.stringify(block.code.split("\n")[0])}`);
    assert.is(example.sha256, blockDigest(block.code), `the README diff at line ${block.line} changed: review its prelude and epilogue, then set its sha256`);
  }
  const firstLines = diffBlocks.map((b) => b.code.split("\n")[0]);
  for (const line of README_DIFF_EXAMPLES.keys()) assert.ok(firstLines.includes(line), `no README diff starts ${JSON.stringify(line)} any more`);
  assert.is(firstLines.length, README_DIFF_EXAMPLES.size, "one diff per first line");
});

const dir = tempDir("chio-readme-ts-");
const tsBlocks = blocks.filter((b) => b.lang === "ts" && readmeExample(b) !== undefined);
const diffBlocks = blocks.filter((b) => b.lang === "diff" && readmeDiffExample(b) !== undefined);

test("the ```ts blocks, and both sides of each \"Migrating\" diff, type-check as written (strict tsc, NodeNext, ES2022 with Node's types only, against the built declarations)", () => {
  for (const block of tsBlocks) writeExampleModule(dir, block, { port: 8700, dir });
  for (const block of diffBlocks) writeDiffModules(dir, block);
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
  assert.is(readdirSync(dir).filter((f) => f.endsWith(".mts")).length, tsBlocks.length + 2 * diffBlocks.length);
  const checked = spawnSync(process.execPath, [tsc, "-p", dir], { cwd: dir, encoding: "utf8", timeout: 120_000 });
  assert.is(checked.status, 0, `tsc: ${checked.stdout}${checked.stderr}`);
});

/** Runs a block's module (written anew with a free port for each attempt) to completion. */
function runExample(block: ReadmeBlock) {
  return runOnFreePort((port) => {
    const file = writeExampleModule(dir, block, { port, dir });
    return spawnSync(process.execPath, ["--import", tsxLoader, file], { cwd: dir, encoding: "utf8", timeout: 60_000 });
  });
}

for (const block of tsBlocks) {
  if (readmeExample(block)!.tier === "cluster") continue;
  test(`README line ${block.line} (${block.heading}): the block runs as written and does what its comments say`, async () => {
    const run = await runExample(block);
    assert.is(run.status, 0, `exit ${run.status}; stderr: ${run.stderr}`);
    assert.is(run.stdout.trim().split("\n").at(-1), "example ok", run.stdout);
  });
}

for (const block of diffBlocks) {
  test(`README line ${block.line} (${block.heading}): both sides of the diff run, and the calls it keeps give the same answers after it as before`, () => {
    // The "+" side imports chio-trust and the "-" side does not: a diff that kept the replaced
    // library would compare that library with itself.
    const sides = diffSides(block);
    assert.match(sides.after, /from "chio-trust(\/[a-z0-9]+)?";/);
    assert.not.match(sides.before, /chio-trust/);
    const files = writeDiffModules(dir, block);
    const outputs = (["before", "after"] as const).map((side) => {
      const run = spawnSync(process.execPath, ["--import", tsxLoader, files[side]], { cwd: dir, encoding: "utf8", timeout: 60_000 });
      assert.is(run.status, 0, `${side}: exit ${run.status}; stderr: ${run.stderr}`);
      const lines = run.stdout.trim().split("\n");
      assert.is(lines.at(-1), "example ok", `${side}: ${run.stdout}`);
      return lines.at(-2);
    });
    assert.ok(outputs[0]?.startsWith("{"), `the answers as JSON: ${outputs[0]}`);
    assert.is(outputs[1], outputs[0], "the same answers after the diff as before");
  });
}

test.after(() => {
  for (const temp of tempDirs) rmSync(temp, { recursive: true, force: true });
});

test.run();
