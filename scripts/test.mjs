// Runs one tier of uvu suites under tsx and ends with the plain line "N passed, N failed".
// uvu itself prints only Total/Passed, and nothing at all when a file throws on import.
//
//   node scripts/test.mjs                 the default tier (npm test): every *.test.ts under test/
//                                         except the tiers that need servers or a browser
//   node scripts/test.mjs --tier slow     the long differentials again at 10× their case counts,
//                                         two files at a time (one process each; CPU-bound suites
//                                         with no timing assertions, so they share the cores)
//   node scripts/test.mjs --tier cluster  test/cluster/ (needs postgresql, redis-server and strace)
//   node scripts/test.mjs --tier hosts    test/hosts/: the npm pack tarball in Node ESM/CJS, Deno, Bun,
//                                         a no-compile host, and attw (needs the dev tools installed)
//   node scripts/test.mjs test <regex>    the default tier, only files whose path matches <regex>
//
// Tiers are declared here once; package.json's scripts and .ci/run name them.
import { spawn } from "node:child_process";
import { readdirSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";

const require = createRequire(import.meta.url);
const uvuBin = path.join(path.dirname(require.resolve("uvu")), "..", "bin.js"); // bin.js is not in uvu's exports map

/** Folders under test/ that hold their own tier and stay out of the default one. */
const SEPARATE_TIERS = ["cluster", "browser", "hosts"];
/**
 * Suites the slow tier runs again with CHIO_TEST_SCALE=10 (test/helpers/scale.ts): the long
 * differentials, and the checks of the subgroup test's proof and of the code behind it
 * (docs/subgroup-test.md; review 91 F2). compat-tweetnacl, the prepared-key suites and pool also
 * read the scale but run at 1× only.
 */
const SLOW_SUITES = "(ed25519-differential|ed25519-torsion|torsion-proof|field-jacobi|field-x4|number-format|number-parse|canonical-value|canonical-json-limits|batch)";

const TIERS = {
  default: { dir: "test", pattern: "\\.test\\.ts$", ignore: SEPARATE_TIERS.map((t) => `^${t}`), env: {} },
  slow: { dir: "test", pattern: `${SLOW_SUITES}[^/]*\\.test\\.ts$`, ignore: SEPARATE_TIERS.map((t) => `^${t}`), env: { CHIO_TEST_SCALE: "10" }, jobs: 2 },
  cluster: { dir: "test/cluster", pattern: "\\.test\\.ts$", ignore: [], env: {} },
  hosts: { dir: "test/hosts", pattern: "\\.test\\.ts$", ignore: [], env: {} },
};

const args = process.argv.slice(2);
let tierName = "default";
const tierFlag = args.indexOf("--tier");
if (tierFlag >= 0) {
  tierName = args[tierFlag + 1];
  args.splice(tierFlag, 2);
}
const tier = TIERS[tierName];
if (!tier) {
  console.error(`unknown tier ${tierName}; tiers: ${Object.keys(TIERS).join(", ")}`);
  process.exit(2);
}
// `test <regex>`: narrow the tier to matching files (the regex is tested against the path under test/).
const dir = args[0] ?? tier.dir;
const pattern = args[1] ? `^(?=.*(?:${args[1]})).*${tier.pattern}` : tier.pattern;

/** Runs uvu over the files of `dir` matching `filePattern`; resolves with its exit code and output. */
function runUvu(filePattern, echo) {
  const uvuArgs = ["--import", "tsx", uvuBin, dir, filePattern, "--no-color", ...tier.ignore.flatMap((i) => ["--ignore", i])];
  const child = spawn(process.execPath, uvuArgs, { stdio: ["inherit", "pipe", "inherit"], env: { ...process.env, ...tier.env } });
  let out = "";
  child.stdout.on("data", (chunk) => {
    out += chunk;
    if (echo) process.stdout.write(chunk);
  });
  return new Promise((resolve) => child.on("close", (code) => resolve({ code, out: out.replace(/\x1b\[[0-9;]*m/g, "") })));
}

/** uvu's Total and Passed lines of one run, or undefined when it printed none (a file threw on import). */
function counts(text) {
  const total = Number(text.match(/^\s*Total:\s+(\d+)/m)?.[1]);
  const passed = Number(text.match(/^\s*Passed:\s+(\d+)/m)?.[1]);
  return Number.isNaN(total) || Number.isNaN(passed) ? undefined : { total, passed };
}

/** The files uvu would pick for `dir`, `pattern` and the tier's ignores (paths relative to dir, "/" separators). */
function tierFiles() {
  const match = new RegExp(pattern);
  const ignores = tier.ignore.map((i) => new RegExp(i));
  return readdirSync(dir, { recursive: true })
    .map((file) => String(file).split(path.sep).join("/"))
    .filter((file) => match.test(file) && !ignores.some((i) => i.test(file)) && !file.split("/").some((part) => part.startsWith(".") || part === "node_modules"))
    .sort();
}

/** Failures of one uvu run: its failed tests, or 1 if it printed no counts, exited early without a counted failure, or ran nothing. */
function failures(exitCode, c) {
  let failed = c ? c.total - c.passed : 1;
  if (exitCode !== 0 && failed === 0) failed = 1;
  if (c && c.total === 0) failed = Math.max(failed, 1);
  return failed;
}

const escapeRegExp = (text) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

let code = 0;
let passed = 0;
let failed = 0;
if ((tier.jobs ?? 1) > 1) {
  // One uvu process per file, `jobs` at a time; each file's output is printed whole when it ends.
  const files = tierFiles();
  let next = 0;
  const worker = async () => {
    while (next < files.length) {
      const file = files[next++];
      const run = await runUvu(`^${escapeRegExp(file)}$`, false);
      process.stdout.write(run.out);
      const c = counts(run.out);
      passed += c?.passed ?? 0;
      failed += failures(run.code, c);
      if (run.code !== 0) code = run.code;
    }
  };
  await Promise.all(Array.from({ length: tier.jobs }, worker));
  if (files.length === 0) failed = Math.max(failed, 1); // a tier that ran nothing has failed
} else {
  const run = await runUvu(pattern, true);
  const c = counts(run.out);
  code = run.code;
  passed = c?.passed ?? 0;
  failed = failures(code, c);
}
console.log(`${passed} passed, ${failed} failed`);
process.exitCode = code || (failed ? 1 : 0);
