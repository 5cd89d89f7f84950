#!/usr/bin/env node
// The `chio-trust` executable (package.json "bin"). Everything is in program.ts; this file only
// runs it and sets the exit code (no top-level await, so the CommonJS build works too).
import { runCli } from "./program.js";

// A closed pipe (`chio-trust peers | head`) ends the output quietly instead of crashing.
process.stdout.on("error", (error: NodeJS.ErrnoException) => {
  if (error.code === "EPIPE") process.exit(process.exitCode ?? 0);
  throw error;
});

runCli(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`chio-trust: error INTERNAL_ERROR: ${String(error)}\n`);
    process.exitCode = 2;
  },
);
