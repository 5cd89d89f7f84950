// Every suite file, in every tier, registers its tests before it runs them: uvu's `run()` takes the
// suite's tests as they stand, and a test registered after it is skipped without a word (two
// helpers of the mutation audit wrote tests below `test.run()` that never ran, and took the
// mutants they were meant to kill for survivors). A file that runs no suite of its own must
// call a helper that does (the store contracts in test/helpers/store-conformance.ts).
import { test } from "uvu";
import * as assert from "uvu/assert";
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";

const testRoot = path.join(process.cwd(), "test");

function suiteFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return suiteFiles(full);
    return entry.name.endsWith(".test.ts") ? [full] : [];
  });
}

/** The suite names a file runs (`name.run()` at the start of a line) and where each run is made. */
function runsOf(text: string): { name: string; end: number }[] {
  return [...text.matchAll(/^[ \t]*(\w+)\.run\(\)/gm)].map((m) => ({ name: m[1], end: m.index! + m[0].length }));
}

/**
 * Registrations of `name` (name(…), name.only(…), name.skip(…)) after `from`, each as its first 60
 * characters, up to the next suite made under that name (`const t = suite(…)` in a function
 * called once per backend, as test/cluster/replicas.test.ts does).
 */
function registrationsAfter(text: string, name: string, from: number): string[] {
  const nextSuite = new RegExp(`\\b${name}\\s*=\\s*suite\\(`, "g");
  nextSuite.lastIndex = from;
  const until = nextSuite.exec(text)?.index ?? text.length;
  const call = new RegExp(`\\b${name}(?:\\.only|\\.skip)?\\(`, "g");
  call.lastIndex = from;
  const found: string[] = [];
  for (let m = call.exec(text); m !== null && m.index < until; m = call.exec(text)) found.push(text.slice(m.index, m.index + 60).split("\n")[0]);
  return found;
}

test("no suite file registers a test after the run() of its suite", () => {
  const files = suiteFiles(testRoot);
  assert.ok(files.length >= 100, `only ${files.length} suite files under test/`);
  const offenders: string[] = [];
  for (const file of files) {
    const text = readFileSync(file, "utf8");
    for (const run of runsOf(text)) {
      for (const late of registrationsAfter(text, run.name, run.end)) offenders.push(`${path.relative(testRoot, file)}: ${late}`);
    }
  }
  assert.equal(offenders, []);
});

test("every suite file runs a suite, or calls a shared contract that runs its own", () => {
  const silent = suiteFiles(testRoot).filter((file) => {
    const text = readFileSync(file, "utf8");
    return runsOf(text).length === 0 && !/\b(peerStoreConformance|replayStoreConformance)\(/.test(text);
  });
  assert.equal(silent.map((file) => path.relative(testRoot, file)), []);
});

test("the check sees a test registered after run(), in a loop too", () => {
  const late = 'import { test } from "uvu";\ntest("a", () => {});\ntest.run();\nfor (const x of [1]) {\n  test(`b ${x}`, () => {});\n}\n';
  const runs = runsOf(late);
  assert.equal(runs.map((run) => run.name), ["test"]);
  assert.equal(registrationsAfter(late, "test", runs[0].end), ["test(`b ${x}`, () => {});"]);
  const named = 'const store = suite("s");\nstore("a", () => {});\nstore.run();\nstore.skip("b", () => {});\n';
  assert.equal(registrationsAfter(named, "store", runsOf(named)[0].end), ['store.skip("b", () => {});']);
  // A second suite made under the same name, in another call of a function, starts afresh.
  const twice = 'function each() {\n  const t = suite("s");\n  t("a", () => {});\n  t.run();\n}\nfunction other() {\n  const t = suite("o");\n  t("b", () => {});\n  t.run();\n}\n';
  assert.equal(runsOf(twice).map((run) => registrationsAfter(twice, run.name, run.end)), [[], []]);
});

test.run();
