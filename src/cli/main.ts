#!/usr/bin/env node
// The `chio-trust` executable (package.json "bin"). Everything is in program.ts; this file only
// runs it and sets the exit code (no top-level await, so the CommonJS build works too).
import { CliError, EXIT_USAGE } from "./errors.js";
import { outputFailureCleanups, reportError, runCli } from "./program.js";

// A closed pipe (`chio-trust peers | head`) ends the output quietly instead of crashing. Any other
// write error (ENOSPC on a full disk, EDQUOT, EIO: stdout redirected to a file arrives here as an
// `error` event) is the usual one-line OUTPUT_FAILED error and exit 2 ("could not run"), never a
// stack trace and exit 1, which would read as "refused / does not verify".
process.stdout.on("error", (error: NodeJS.ErrnoException) => {
  if (error.code === "EPIPE") process.exit(process.exitCode ?? 0);
  let status = EXIT_USAGE;
  let undone = "";
  for (const cleanup of outputFailureCleanups.splice(0)) {
    try {
      undone += cleanup();
    } catch {
      // an undo step that fails leaves what it would have undone
    }
  }
  try {
    status = reportError(new CliError("OUTPUT_FAILED", `cannot write to stdout: ${error.message}${undone}`));
  } catch {
    // stderr is gone too: the exit code is all that is left
  }
  process.exit(status);
});

// A closed stderr (`chio-trust serve 2>&1 | logger`, and the logger died) would otherwise end the
// process at the next log line, an uncaught EPIPE on any request (review 52): a kernel that loses
// its log keeps serving, and a command's exit code still says how it ended.
process.stderr.on("error", () => undefined);

runCli(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`chio-trust: error INTERNAL_ERROR: ${String(error)}\n`);
    process.exitCode = 2;
  },
);
