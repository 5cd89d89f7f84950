// Runs the BUILT command line (dist/esm/cli/main.js) as a user would: a real process in a
// working folder, its exit code, stdout and stderr.
import { spawn, type ChildProcess } from "node:child_process";
import path from "node:path";
import { finished, repoRoot, type Finished } from "./processes.js";

export const cliPath = path.join(repoRoot, "dist", "esm", "cli", "main.js");

/** Starts the CLI (the caller ends stdin or keeps it open). */
export function spawnCli(args: string[], cwd: string): ChildProcess {
  return spawn(process.execPath, [cliPath, ...args], { cwd, stdio: ["pipe", "pipe", "pipe"] });
}

/** Runs the CLI to completion with `input` on stdin (empty by default). */
export function runCli(args: string[], cwd: string, input: string | Uint8Array = "", timeoutMs = 30_000): Promise<Finished> {
  return finished(spawnCli(args, cwd), timeoutMs, input);
}
