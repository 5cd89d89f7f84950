// The path SQLite names a database file's -wal, -shm and -journal after. A module of its own, with
// no import of better-sqlite3 (schema.ts loads it), so that the CLI, which must run without that
// optional driver, can import it statically (src/cli/kernel.ts) beside the stores' read-only
// reader (schema.ts).
import { realpathSync } from "node:fs";

/**
 * `path` through its links (realpath), as SQLite resolves it to name the -wal, -shm and -journal;
 * `path` itself when it does not resolve (the open that follows reports that). Named after `path`
 * itself, a store given through a symbolic link was read without the -wal of the writer holding
 * it (hunt 57).
 */
export function sidecarStem(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return path;
  }
}
