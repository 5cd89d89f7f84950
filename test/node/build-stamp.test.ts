// scripts/build.mjs (`npm run build`) skips the build only when every file it reads and writes is
// as the last complete build left it. Run here on a copy of the script in a temporary project
// whose two build steps are small scripts that record each run and write an output, so that what
// is checked is the skip decision itself: a real child process, real files.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { execFileSync } from "node:child_process";
import { appendFileSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { repoRoot } from "../helpers/processes.js";

const project = mkdtempSync(path.join(tmpdir(), "chio-build-stamp-"));
const runs = path.join(project, "runs.log"); // outside every tracked folder
const write = (relative: string, text: string) => {
  mkdirSync(path.dirname(path.join(project, relative)), { recursive: true });
  writeFileSync(path.join(project, relative), text);
};
copyFileSync(path.join(repoRoot, "scripts", "build.mjs"), (mkdirSync(path.join(project, "scripts"), { recursive: true }), path.join(project, "scripts", "build.mjs")));
// The two steps: each appends its name to runs.log; the second writes dist/out.js from src/.
const step = (name: string, body = "") =>
  `import { appendFileSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";\nappendFileSync(${JSON.stringify(runs)}, "${name}\\n");\n${body}\n`;
write("scripts/build-wasm.mjs", step("wasm", `mkdirSync("build", { recursive: true }); writeFileSync("build/core.wasm", "core");`));
write("scripts/build-js.mjs", step("js", `mkdirSync("dist", { recursive: true }); writeFileSync("dist/out.js", readFileSync("src/index.ts", "utf8").toUpperCase());`));
write("src/index.ts", "export const a = 1;\n");
write("package.json", "{}\n");

/** Runs the build and returns the steps it ran ("wasm js" or ""). */
function build(...args: string[]): string {
  rmSync(runs, { force: true });
  execFileSync(process.execPath, [path.join(project, "scripts", "build.mjs"), ...args], { cwd: project, stdio: "ignore" });
  return existsSync(runs) ? readFileSync(runs, "utf8").trim().split("\n").join(" ") : "";
}

test("a build runs both steps, the next one nothing; any change to an input or an output, or --force, builds again", () => {
  try {
    assert.is(build(), "wasm js", "first build (no stamp)");
    assert.is(readFileSync(path.join(project, "dist", "out.js"), "utf8"), "EXPORT CONST A = 1;\n");
    assert.is(build(), "", "nothing changed: skipped");
    appendFileSync(path.join(project, "src", "index.ts"), "export const b = 2;\n");
    assert.is(build(), "wasm js", "an input changed");
    assert.match(readFileSync(path.join(project, "dist", "out.js"), "utf8"), "EXPORT CONST B = 2;");
    assert.is(build(), "", "skipped again");
    writeFileSync(path.join(project, "dist", "out.js"), "edited by hand");
    assert.is(build(), "wasm js", "an output changed");
    rmSync(path.join(project, "build", "core.wasm"));
    assert.is(build(), "wasm js", "an output missing");
    write("assembly/new.ts", "x");
    assert.is(build(), "wasm js", "a file added in a tracked folder");
    assert.is(build("--force"), "wasm js", "--force");
    assert.is(build(), "", "skipped after --force");
  } finally {
    rmSync(project, { recursive: true, force: true });
  }
});

test.run();
