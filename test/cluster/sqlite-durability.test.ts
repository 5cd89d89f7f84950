// The SQLite stores' durability setting, observed where it acts: the fsync calls SQLite makes on
// the write-ahead log. The README ("Durable pins: the SQLite store", **Durable**) promises
// synchronous=FULL by default (a committed pin or replay pair survives a crash of the machine,
// not only of the process: the WAL is synced at every commit), and `synchronous: "normal"` as the
// opt-out (the WAL synced only when a log starts and at checkpoints). Nothing else tells the two
// apart short of pulling the power, so each case runs a child process
// (test/helpers/sqlite-durability-child.ts, on src/ under tsx) under strace and counts the syncs
// of the `-wal` file: those of an open with no write are subtracted from those of an open
// followed by WRITES commits.
//
// In the cluster tier with the other suites that need system packages: .ci/run installs strace
// when it is missing (README "Set-up, tests, benchmark"). Against the default written as NORMAL,
// a mutant no earlier suite killed, the default cases fail.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, realpathSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { repoRoot } from "../helpers/processes.js";

const WRITES = 12;
const child = fileURLToPath(new URL("../helpers/sqlite-durability-child.ts", import.meta.url));

/** fsync/fdatasync calls on `<file>-wal` by a child doing `writes` commits (a fresh file each run). */
function walSyncs(kind: "peer" | "replay", mode: "default" | "full" | "normal", writes: number): number {
  // The real path: strace's -y prints each fd's path as /proc resolves it, so a TMPDIR reached
  // through a symbolic link would never match.
  const dir = realpathSync(mkdtempSync(path.join(tmpdir(), "chio-durability-")));
  try {
    const file = path.join(dir, "trust.db");
    const trace = path.join(dir, "trace");
    // -f: SQLite runs on the calling thread, but tsx's loader and Node's helpers are threads too;
    // -y: each fd's path.
    const args = ["-f", "-qq", "-y", "-e", "trace=fsync,fdatasync", "-o", trace, process.execPath, "--import", "tsx", child, file, kind, mode, String(writes)];
    const run = spawnSync("strace", args, { encoding: "utf8", timeout: 60_000, cwd: repoRoot });
    assert.is(run.error, undefined, `strace could not run: ${String(run.error)} (the cluster tier needs strace: README "Set-up, tests, benchmark")`);
    assert.is(run.status, 0, run.stderr);
    assert.is(run.stdout.trim(), "done");
    const wal = `${file}-wal>`;
    const syncs = readFileSync(trace, "utf8")
      .split("\n")
      .filter((line) => /\b(fsync|fdatasync)\(/.test(line) && /= 0$/.test(line));
    // Some sync of the database or its log must show: otherwise the trace or its paths are not
    // what this test reads.
    assert.ok(syncs.some((line) => line.includes(`${file}>`) || line.includes(wal)), `no sync of ${file} in the trace`);
    return syncs.filter((line) => line.includes(wal)).length;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

for (const kind of ["peer", "replay"] as const) {
  test(`${kind} store, default options: the WAL is synced at every commit (synchronous=FULL)`, () => {
    const extra = walSyncs(kind, "default", WRITES) - walSyncs(kind, "default", 0);
    assert.ok(extra >= WRITES, `${extra} syncs of the WAL for ${WRITES} commits`);
  });

  test(`${kind} store, synchronous "full" as the default and "normal": FULL syncs each commit, NORMAL none of them`, () => {
    const full = walSyncs(kind, "full", WRITES) - walSyncs(kind, "full", 0);
    const normal = walSyncs(kind, "normal", WRITES) - walSyncs(kind, "normal", 0);
    assert.ok(full >= WRITES, `full: ${full} syncs of the WAL for ${WRITES} commits`);
    // Under NORMAL SQLite syncs the WAL only when it starts one (its header) and at checkpoints,
    // which an open with no write makes as well, and 12 small commits do not reach the 1,000-page
    // auto-checkpoint: none of them is synced.
    assert.is(normal, 0, `normal: ${normal} syncs of the WAL for ${WRITES} commits`);
  });
}

test.run();
