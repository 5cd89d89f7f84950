// The SQLite stores' durability setting, observed where it acts: the fsync calls SQLite makes on
// the write-ahead log. README "Durable pins" promises synchronous=FULL by default (a committed pin
// or replay pair survives a crash of the machine, not only of the process: the WAL is synced at
// every commit), and `synchronous: "normal"` as the opt-out (synced at checkpoints only). Nothing
// else tells the two apart short of pulling the power, so each case runs a child process under
// strace and counts the syncs of the `-wal` file: those of an open with no write are subtracted
// from those of an open followed by WRITES commits.
//
// In the cluster tier with the other suites that need system packages: .ci/run installs strace
// when it is missing (README "Tests"). Against the default written as NORMAL (a mutant the
// earlier suites did not kill, README "Hardening"), the default cases fail.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { repoRoot } from "../helpers/processes.js";

const WRITES = 12;

/**
 * Opens the store `kind` on `file` with the `synchronous` option given (none for "default"),
 * makes `writes` commits (pins by compare-and-set, or replay reservations, each its own
 * transaction) and closes it.
 */
const child = `
const { SqlitePeerStore, SqliteReplayStore } = require(${JSON.stringify(path.join(repoRoot, "dist", "cjs", "stores", "sqlite", "index.js"))});
const { FederationPeer, Keypair } = require(${JSON.stringify(path.join(repoRoot, "dist", "cjs", "index.js"))});
const [file, kind, mode, count] = process.argv.slice(1);
const options = mode === "default" ? {} : { synchronous: mode };
const writes = Number(count);
const T = 1764000000;
if (kind === "peer") {
  const store = new SqlitePeerStore(file, options);
  const key = Keypair.fromSeed(new Uint8Array(32).fill(7)).publicKey;
  for (let i = 0; i < writes; i++) {
    const peer = new FederationPeer({ kernelId: "kernel." + i, publicKey: key, establishedAt: T, rotationDue: T + 60 });
    if (!store.compareAndSet("kernel." + i, undefined, peer)) throw new Error("pin refused");
  }
  store.close();
} else {
  const store = new SqliteReplayStore(file, options);
  for (let i = 0; i < writes; i++) if (!store.reserve("kernel.a", "nonce-" + i, T, T, 300)) throw new Error("reserve refused");
  store.close();
}
console.log("done");
`;

/** fsync/fdatasync calls on `<file>-wal` by a child doing `writes` commits (a fresh file each run). */
function walSyncs(kind: "peer" | "replay", mode: "default" | "full" | "normal", writes: number): number {
  const dir = mkdtempSync(path.join(tmpdir(), "chio-durability-"));
  try {
    const file = path.join(dir, "trust.db");
    const trace = path.join(dir, "trace");
    // -f: SQLite runs on the calling thread, but Node's helpers are threads too; -y: each fd's path.
    const run = spawnSync("strace", ["-f", "-qq", "-y", "-e", "trace=fsync,fdatasync", "-o", trace, process.execPath, "-e", child, file, kind, mode, String(writes)], {
      encoding: "utf8",
      timeout: 60_000,
    });
    assert.is(run.error, undefined, `strace could not run: ${String(run.error)} (the cluster tier needs strace: README "Tests")`);
    assert.is(run.status, 0, run.stderr);
    assert.is(run.stdout.trim(), "done");
    const wal = `${file}-wal>`;
    return readFileSync(trace, "utf8")
      .split("\n")
      .filter((line) => /\b(fsync|fdatasync)\(/.test(line) && line.includes(wal) && /= 0$/.test(line)).length;
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
    // SQLite syncs the WAL under NORMAL only at a checkpoint, and 12 small commits do not reach
    // the 1,000-page auto-checkpoint: none of them is synced.
    assert.is(normal, 0, `normal: ${normal} syncs of the WAL for ${WRITES} commits`);
  });
}

test.run();
