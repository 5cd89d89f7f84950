// The SQLite stores when a file's -shm or -wal is removed under a running store (a clean-up of
// "stray" files): every process must agree on one log and one index of it, or each accepts the
// same envelopes (hunt 40). Real files and a real second process: SQLite shares one -shm mapping
// among the connections of a process, so only another process shows two indexes.
import { test } from "uvu";
import * as assert from "uvu/assert";
import type { ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { FederationPeer, Keypair } from "../../src/index.js";
import { SqlitePeerStore, SqliteReplayStore, SqliteStoreError } from "../../src/stores/sqlite/index.js";
import { finished, spawnModule } from "../helpers/processes.js";

const T = Math.floor(Date.now() / 1000); // near the wall clock (PAST_RETENTION_ON_HOST_CLOCK)

// A replica: opens both stores on the file, then runs one command a line ("reserve NONCE",
// "get KERNEL") and answers each with one line: the result, or the error's code.
const replica = `
import { SqlitePeerStore, SqliteReplayStore } from "chio-trust/sqlite";
import { createInterface } from "node:readline";
const [file, t] = process.argv.slice(1);
const replay = new SqliteReplayStore(file);
const peers = new SqlitePeerStore(file);
process.stdout.write("ready\\n");
for await (const line of createInterface({ input: process.stdin })) {
  const [command, arg] = line.split(" ");
  try {
    if (command === "reserve") {
      const won = replay.reserve("kernel.p", arg, Number(t), Number(t), 300);
      if (won) replay.commit("kernel.p", arg);
      process.stdout.write(String(won) + "\\n");
    } else {
      process.stdout.write((peers.get(arg) === undefined ? "none" : "pinned") + "\\n");
    }
  } catch (error) {
    process.stdout.write(String(error.code) + "\\n");
  }
}
`;

function lines(child: ChildProcess): (command?: string) => Promise<string> {
  let buffered = "";
  const waiting: ((line: string) => void)[] = [];
  child.stdout!.on("data", (chunk: Buffer) => {
    buffered += chunk.toString("utf8");
    for (let i = buffered.indexOf("\n"); i >= 0; i = buffered.indexOf("\n")) {
      const line = buffered.slice(0, i);
      buffered = buffered.slice(i + 1);
      waiting.shift()?.(line);
    }
  });
  return (command) =>
    new Promise((resolve) => {
      waiting.push(resolve);
      if (command !== undefined) child.stdin!.write(`${command}\n`);
    });
}

function code(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    assert.ok(error instanceof SqliteStoreError, String(error));
    return error.code;
  }
  return "no error";
}

for (const sidecar of ["-shm", "-wal"] as const) {
  test(`${sidecar} removed under a running replica: that replica's next calls are FILE_MOVED, so no nonce is accepted by two processes`, async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "chio-sqlite-sidecar-"));
    const file = path.join(dir, "trust.db");
    const child = spawnModule(replica, [file, String(T)]);
    const done = finished(child, 30_000);
    done.catch(() => undefined); // awaited below
    const ask = lines(child);
    try {
      assert.is(await ask(), "ready");
      assert.is(await ask("reserve x"), "true");
      rmSync(file + sidecar);
      if (sidecar === "-shm") {
        // This process opens the file next and makes a new -shm from the log, which holds x.
        const replay = new SqliteReplayStore(file);
        const peers = new SqlitePeerStore(file);
        try {
          assert.is(replay.reserve("kernel.p", "x", T, T, 300), false, "x, accepted before the removal, is refused");
          // Before the fix the replica went on with the -shm it had mapped, each process read the
          // log by an index of its own, and both reserved every new nonce.
          const there = await ask("reserve y");
          const here = replay.reserve("kernel.p", "y", T, T, 300);
          assert.is(there, "FILE_MOVED", "the replica whose -shm was removed refuses");
          assert.is(here, true);
          peers.insert(new FederationPeer({ kernelId: "kernel.q", publicKey: Keypair.fromSeed(new Uint8Array(32).fill(3)).publicKey, establishedAt: T, rotationDue: T + 60 }));
          assert.is(await ask("get kernel.q"), "FILE_MOVED", "no read of pins by the other index either");
          // A third store of this process shares its -shm with the first two: it opens.
          new SqliteReplayStore(file).close();
        } finally {
          replay.close();
          peers.close();
        }
      } else {
        // The replica's connection logs into the removed file, which no process opening the
        // path can read: before the fix it went on reserving there.
        assert.is(await ask("reserve y"), "FILE_MOVED");
        assert.is(await ask("get kernel.q"), "FILE_MOVED");
      }
    } finally {
      child.stdin!.end();
      const result = await done;
      assert.is(result.code, 0, result.stderr);
      rmSync(dir, { recursive: true, force: true });
    }
  });
}

test("a store opened while another store of this process still holds a removed -shm is FILE_MOVED at open, and opens once both are closed", () => {
  const dir = mkdtempSync(path.join(tmpdir(), "chio-sqlite-sidecar-"));
  const file = path.join(dir, "trust.db");
  try {
    const first = new SqliteReplayStore(file);
    assert.ok(first.reserve("kernel.p", "x", T, T, 300));
    first.commit("kernel.p", "x");
    rmSync(file + "-shm");
    assert.is(code(() => first.reserve("kernel.p", "y", T, T, 300)), "FILE_MOVED");
    // SQLite shares the mapped (removed) -shm among the connections of a process and makes no new one.
    assert.is(code(() => new SqlitePeerStore(file)), "FILE_MOVED");
    first.close();
    const again = new SqliteReplayStore(file);
    try {
      assert.is(again.reserve("kernel.p", "x", T, T, 300), false, "x still refused");
      assert.is(again.reserve("kernel.p", "y", T, T, 300), true);
    } finally {
      again.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
