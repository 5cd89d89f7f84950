// How the CLI fails: every error prints one line `chio-trust: error CODE: message` on stderr
// and sets the exit code: 1 when the operation ran and the answer is "no" (a signature that does
// not verify, a refused handshake), 2 when it could not run (bad usage, unreadable input or key
// file, a store that cannot be opened, stdout that cannot be written: OUTPUT_FAILED).
import { nameError } from "../errors.js";
export const EXIT_OK = 0;
export const EXIT_REFUSED = 1;
export const EXIT_USAGE = 2;

/** A CLI failure with a stable code and its exit status. */
export class CliError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly exitCode: number = EXIT_USAGE,
  ) {
    super(message);
    nameError(this, "CliError");
  }
}
