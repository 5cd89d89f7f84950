// The one way a generator under scripts/ writes its file: only when run as a program (tests import
// the generators to regenerate in memory and compare), and only when the content changed, so a
// build that regenerates leaves timestamps alone.
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

/** The repository root (the parent of scripts/). */
export const REPO_ROOT = path.join(path.dirname(fileURLToPath(import.meta.url)), "..");

/**
 * When the module at `generatorUrl` is the program being run, writes `generate()` to
 * `relativeOut` (relative to the repository root) if it differs from what is there.
 */
export function writeWhenRunAsProgram(generatorUrl: string, relativeOut: string, generate: () => string): void {
  const isMain = process.argv[1] !== undefined && path.resolve(process.argv[1]) === fileURLToPath(generatorUrl);
  if (!isMain) return;
  const out = path.join(REPO_ROOT, relativeOut);
  const text = generate();
  let old = "";
  try {
    old = readFileSync(out, "utf8");
  } catch {
    // first generation
  }
  if (old !== text) writeFileSync(out, text);
  console.log(`${relativeOut}: ${old === text ? "unchanged" : "written"}`);
}
