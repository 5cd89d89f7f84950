// The SQLite stores' open and prune on the paths hunt 20 found: a file of 1 to 99 bytes is no
// database (a 1-byte one was claimed and overwritten); an open that waits for another process's
// lock counts its pauses, not Date.now (frozen, it waited as long as the lock was held); a prune
// deletes in batches of 1,000 pairs, each its own transaction, at most 64 at open (one DELETE of
// 300,000 expired pairs held the write lock for half a second). Real files, a real second
// process holding the lock, rows checked with a connection of the test's own.
import { test } from "uvu";
import * as assert from "uvu/assert";
import Database from "better-sqlite3";
import { spawn } from "node:child_process";
import { createRequire } from "node:module";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { SqlitePeerStore, SqliteReplayStore, SqliteStoreError } from "../../src/stores/sqlite/index.js";
import { finished } from "../helpers/processes.js";

const dir = mkdtempSync(path.join(tmpdir(), "chio-sqlite-open-prune-"));
const file = (name: string) => path.join(dir, name);
const isCode = (code: string) => (error: unknown) => error instanceof SqliteStoreError && error.code === code;

test("a file of 1 to 99 bytes is NOT_A_DATABASE for both stores and left as it was; an empty file is still claimed", () => {
  for (const [name, bytes] of [["one.db", Buffer.from("1")], ["newline.db", Buffer.from("\n")], ["ninety-nine.db", Buffer.alloc(99, 0x20)]] as const) {
    writeFileSync(file(name), bytes);
    for (const Store of [SqlitePeerStore, SqliteReplayStore]) {
      assert.throws(() => new Store(file(name)), isCode("NOT_A_DATABASE"), `${Store.name} on ${name}`);
      assert.equal(readFileSync(file(name)), bytes, `${name} left as it was`);
    }
  }
  writeFileSync(file("empty.db"), "");
  const store = new SqlitePeerStore(file("empty.db"));
  store.close();
  assert.is(readFileSync(file("empty.db")).subarray(0, 16).toString("latin1"), "SQLite format 3\0");
});

/**
 * Starts a process that opens `store` with better-sqlite3, runs `hold` (a write lock: BEGIN
 * IMMEDIATE; a read lock: BEGIN and a SELECT) and keeps it for 8 s; resolves once it holds it.
 */
async function lockHolder(store: string, hold: "write" | "read"): Promise<{ output: () => string; stop: () => Promise<void> }> {
  const statements = hold === "write" ? `db.exec("BEGIN IMMEDIATE");` : `db.exec("BEGIN"); db.prepare("SELECT count(*) FROM sqlite_schema").get();`;
  const script = `const D = require(${JSON.stringify(createRequire(import.meta.url).resolve("better-sqlite3"))}); const db = new D(${JSON.stringify(store)});
    ${statements} console.log("locked");
    setTimeout(() => { db.exec("ROLLBACK"); db.close(); console.log("released"); }, 8000);`;
  const holder = spawn(process.execPath, ["-e", script], { stdio: ["ignore", "pipe", "inherit"] });
  let output = "";
  holder.stdout!.setEncoding("utf8").on("data", (chunk: string) => (output += chunk));
  const stop = async () => {
    holder.kill();
    await finished(holder).catch(() => undefined);
  };
  for (const giveUpAt = Date.now() + 15_000; !output.includes("locked"); ) {
    if (Date.now() > giveUpAt || holder.exitCode !== null) {
      await stop();
      throw new Error(`the lock holder did not start: ${output}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return { output: () => output, stop };
}

test("an open waiting for another process's lock gives up after busyTimeoutMs, before the lock is released: a write lock with Date.now frozen, a read lock", async () => {
  for (const hold of ["write", "read"] as const) {
    const store = file(`locked-${hold}.db`);
    writeFileSync(store, ""); // a new file, still in rollback mode: switching it to WAL is what waits
    const holder = await lockHolder(store, hold);
    try {
      const realNow = Date.now;
      const frozenAt = realNow();
      // Frozen, as fake timers leave it: the wait counted on it lasted as long as the lock (hunt 20).
      if (hold === "write") Date.now = () => frozenAt;
      try {
        // A read lock: SQLite's busy handler waited busyTimeoutMs on each counted try (review 159:
        // 300 ms took 19 s), longer than the holder's 8 s.
        assert.throws(() => new SqlitePeerStore(store, { busyTimeoutMs: 300 }), isCode("DATABASE_BUSY"), hold);
      } finally {
        Date.now = realNow;
      }
      // The open returned synchronously; the holder's stdout is read only now, so a release it
      // printed while the open waited is here.
      await new Promise((resolve) => setTimeout(resolve, 50));
      assert.not.ok(holder.output().includes("released"), `${hold}: the open gave up before the lock was released`);
    } finally {
      await holder.stop();
    }
  }
});

/** Writes `count` committed pairs past their keep_until (a day ago) over 20 peers, with the per-peer counts the store keeps. */
function seedExpiredPairs(store: string, count: number): void {
  new SqliteReplayStore(store, { retentionSecs: 600 }).close();
  const db = new Database(store);
  const now = Math.floor(Date.now() / 1000);
  const insert = db.prepare("INSERT INTO chio_trust_replay (peer_id, nonce, timestamp, keep_until, state) VALUES (?, ?, ?, ?, 'committed')");
  db.transaction(() => {
    for (let i = 0; i < count; i++) insert.run(`kernel.peer-${i % 20}`, `nonce-${i}`, now - 86_400 - 600, now - 86_400 - (i % 7));
  })();
  db.exec("INSERT OR REPLACE INTO chio_trust_replay_peers SELECT peer_id, count(*), min(keep_until) FROM chio_trust_replay GROUP BY peer_id");
  db.close();
}

/** The pairs on file and whether each peer's kept count equals its rows. */
function census(store: string): { pairs: number; countsExact: boolean } {
  const db = new Database(store, { readonly: true });
  try {
    const pairs = (db.prepare("SELECT count(*) AS n FROM chio_trust_replay").get() as { n: number }).n;
    const off = db
      .prepare(
        `SELECT count(*) AS n FROM chio_trust_replay_peers p
         WHERE p.pairs != (SELECT count(*) FROM chio_trust_replay r WHERE r.peer_id = p.peer_id)`,
      )
      .get() as { n: number };
    const missing = db.prepare("SELECT count(*) AS n FROM (SELECT DISTINCT peer_id FROM chio_trust_replay) r WHERE r.peer_id NOT IN (SELECT peer_id FROM chio_trust_replay_peers)").get() as { n: number };
    return { pairs, countsExact: off.n === 0 && missing.n === 0 };
  } finally {
    db.close();
  }
}

test("the open prunes at most 64 batches of 1,000 expired pairs; prune() takes the rest, batch by batch; the per-peer counts stay exact", () => {
  const store = file("prune.db");
  seedExpiredPairs(store, 70_500);
  assert.equal(census(store), { pairs: 70_500, countsExact: true });
  const replay = new SqliteReplayStore(store, { retentionSecs: 600 });
  try {
    assert.equal(census(store), { pairs: 6_500, countsExact: true }, "64,000 pruned at open");
    assert.is(replay.prune(), 6_500);
    assert.equal(census(store), { pairs: 0, countsExact: true });
    assert.is(replay.prune(), 0);
  } finally {
    replay.close();
  }
});

test.after(() => rmSync(dir, { recursive: true, force: true }));

test.run();
