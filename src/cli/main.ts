#!/usr/bin/env node
// The `chio-trust` executable (package.json "bin"). Everything is in program.ts; this file only
// runs it and exits with its code (no top-level await, so the CommonJS build works too).
import { CliError, EXIT_USAGE } from "./errors.js";
import { stdoutFailures, outputFailureCleanups, reportError, runCli } from "./program.js";

// A closed pipe (`chio-trust peers | head`) ends the output quietly instead of crashing. Any other
// write error (ENOSPC on a full disk, EDQUOT, EIO: stdout redirected to a file arrives here as an
// `error` event) is the usual one-line OUTPUT_FAILED error and exit 2 ("could not run"), never a
// stack trace and exit 1, which would read as "refused / does not verify". `serve`, past its
// `listening` line, ignores them all and keeps serving (stdoutFailures in program.ts: a closed
// terminal's EIO made its SIGHUP stop exit 2, and `serve | true` ended it with exit 0).
process.stdout.on("error", (error: NodeJS.ErrnoException) => {
  if (stdoutFailures.ignored) return;
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
  (code) => exitOnceWritten(code),
  (error: unknown) => {
    process.stderr.write(`chio-trust: error INTERNAL_ERROR: ${String(error)}\n`);
    exitOnceWritten(2);
  },
);

// The command has ended: exit once stdout and stderr have taken what it wrote, rather than when
// nothing is left pending. Node's fetch keeps a connection attempt it has started until it
// connects or its own 10 s connect timeout passes, even after `handshake --timeout` has aborted
// the request, so `handshake` against a host that never accepts printed TIMEOUT at --timeout and
// exited 10 s later (review 87). A stdout write that failed is left to the `error` handler above
// (OUTPUT_FAILED, exit 2): its event comes after the write's callback, hence the setImmediate.
function exitOnceWritten(code: number): void {
  process.exitCode = code;
  process.stdout.write("", (stdoutError) => {
    // A failed write is the `error` handler's to end (OUTPUT_FAILED), unless `serve` ignores it.
    if (stdoutError && !stdoutFailures.ignored) return;
    process.stderr.write("", () => setImmediate(() => process.exit(code)));
  });
}
