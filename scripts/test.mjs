// Runs one tier of uvu suites under tsx and ends with the plain line "N passed, N failed".
// uvu itself prints only Total/Passed, and nothing at all when a file throws on import.
//
//   node scripts/test.mjs                 the default tier (npm test): every *.test.ts under test/
//                                         except the tiers that need servers or a browser
//   node scripts/test.mjs --tier slow     the long differentials again at 10× their case counts
//   node scripts/test.mjs --tier cluster  test/cluster/ (needs postgresql and redis-server)
//   node scripts/test.mjs --tier hosts    test/hosts/: the npm pack tarball in Node ESM/CJS, Deno, Bun,
//                                         a no-compile host, and attw (needs the dev tools installed)
//   node scripts/test.mjs test <regex>    the default tier, only files whose path matches <regex>
//
// Tiers are declared here once; package.json's scripts and .ci/run name them.
import { spawn } from "node:child_process";
import { createRequire } from "node:module";
import path from "node:path";

const require = createRequire(import.meta.url);
const uvuBin = path.join(path.dirname(require.resolve("uvu")), "..", "bin.js"); // bin.js is not in uvu's exports map

/** Folders under test/ that hold their own tier and stay out of the default one. */
const SEPARATE_TIERS = ["cluster", "browser", "hosts"];
/** Suites whose case counts scale with CHIO_TEST_SCALE (test/helpers/scale.ts). */
const SLOW_SUITES = "(ed25519-differential|ed25519-torsion|number-format|number-parse|canonical-value|canonical-json-limits|batch)";

const TIERS = {
  default: { dir: "test", pattern: "\\.test\\.ts$", ignore: SEPARATE_TIERS.map((t) => `^${t}`), env: {} },
  slow: { dir: "test", pattern: `${SLOW_SUITES}[^/]*\\.test\\.ts$`, ignore: SEPARATE_TIERS.map((t) => `^${t}`), env: { CHIO_TEST_SCALE: "10" } },
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
const uvuArgs = ["--import", "tsx", uvuBin, dir, pattern, "--no-color", ...tier.ignore.flatMap((i) => ["--ignore", i])];

const child = spawn(process.execPath, uvuArgs, { stdio: ["inherit", "pipe", "inherit"], env: { ...process.env, ...tier.env } });
let out = "";
child.stdout.on("data", (chunk) => {
  out += chunk;
  process.stdout.write(chunk);
});
child.on("close", (code) => {
  const text = out.replace(/\x1b\[[0-9;]*m/g, "");
  const total = Number(text.match(/^\s*Total:\s+(\d+)/m)?.[1]);
  const passed = Number(text.match(/^\s*Passed:\s+(\d+)/m)?.[1]);
  const counted = !Number.isNaN(total) && !Number.isNaN(passed);
  let failed = counted ? total - passed : 1;
  if (code !== 0 && failed === 0) failed = 1; // exited early without a counted failure
  if (counted && total === 0) failed = Math.max(failed, 1); // a tier that ran nothing has failed
  console.log(`${counted ? passed : 0} passed, ${failed} failed`);
  process.exitCode = code || (failed ? 1 : 0);
});
