// The README's Postgres example ("Replicas and shared stores"), run as written against the BUILT
// package on a real PostgreSQL, with DATABASE_URL naming it: the part of
// test/node/readme-examples.test.ts that needs a server (that suite type-checks this block too).
import { test } from "uvu";
import * as assert from "uvu/assert";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { repoRoot } from "../helpers/processes.js";
import { README_TS_EXAMPLES, readmeBlocks, writeExampleModule } from "../helpers/readme-examples.js";
import { sqlAt } from "./helpers/clients.js";
import { startPostgres } from "./helpers/servers.js";

test("the README's Postgres block runs as written: both stores open on DATABASE_URL with their chio_ tables, and the exchange refuses an unpinned peer", async () => {
  const blocks = readmeBlocks(readFileSync(path.join(repoRoot, "README.md"), "utf8")).filter(
    (b) => b.lang === "ts" && README_TS_EXAMPLES.get(b.code.split("\n")[0])?.tier === "cluster",
  );
  assert.is(blocks.length, 1, "one README block runs in this tier");
  const server = await startPostgres();
  try {
    const dir = mkdtempSync(path.join(tmpdir(), "chio-readme-pg-"));
    const file = writeExampleModule(dir, blocks[0], { port: 0, dir });
    const run = spawnSync(process.execPath, ["--import", import.meta.resolve("tsx"), file], {
      cwd: dir,
      encoding: "utf8",
      timeout: 60_000,
      env: { ...process.env, DATABASE_URL: server.url },
    });
    assert.is(run.status, 0, `exit ${run.status}; stderr: ${run.stderr}`);
    assert.is(run.stdout.trim().split("\n").at(-1), "example ok", run.stdout);
    const tables = await sqlAt(server.url, "SELECT tablename FROM pg_tables WHERE tablename IN ('chio_peers', 'chio_replay') ORDER BY tablename");
    assert.equal(tables, [{ tablename: "chio_peers" }, { tablename: "chio_replay" }], "the stores made their tables under the block's tablePrefix");
  } finally {
    await server.dispose();
  }
});

test.run();
