// Runs the uvu suites under tsx and ends with the plain line "N passed, N failed".
// uvu itself prints only Total/Passed, and nothing at all when a file throws on import.
import { spawn } from "node:child_process";
import { createRequire } from "node:module";
import path from "node:path";

const require = createRequire(import.meta.url);
const uvuBin = path.join(path.dirname(require.resolve("uvu")), "..", "bin.js"); // bin.js is not in uvu's exports map
const targets = process.argv.length > 2 ? process.argv.slice(2) : ["test"];
// uvu takes one dir and an optional file pattern: `test` or `test <regex>`.
const args = ["--import", "tsx", uvuBin, ...targets, "--no-color"];
const child = spawn(process.execPath, args, { stdio: ["inherit", "pipe", "inherit"] });
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
  console.log(`${counted ? passed : 0} passed, ${failed} failed`);
  process.exitCode = code || (failed ? 1 : 0);
});
