// The README's Postgres example ("Replicas and shared stores"), run as written against the BUILT
// package on a real PostgreSQL, with DATABASE_URL naming it: the part of
// test/node/readme-examples.test.ts that needs a server (that suite type-checks this block too).
// Its epilogue (test/helpers/readme-examples.ts) hand-shakes with the block's anchor, RFC 8032
// TEST 2's key, and checks that a second replica on the same database sees the pin and refuses
// the same envelope again.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { finished, repoRoot } from "../helpers/processes.js";
import { readmeBlocks, readmeExample, writeExampleModule } from "../helpers/readme-examples.js";
import { sqlAt } from "./helpers/clients.js";
import { startPostgres } from "./helpers/servers.js";

test("the README's Postgres block runs as written: both stores open on DATABASE_URL, a handshake pins the anchor, and a second replica sees the pin and refuses the replay", async () => {
  const blocks = readmeBlocks(readFileSync(path.join(repoRoot, "README.md"), "utf8")).filter(
    (b) => b.lang === "ts" && readmeExample(b)?.tier === "cluster",
  );
  assert.is(blocks.length, 1, "one README block runs in this tier");
  const server = await startPostgres();
  const dir = mkdtempSync(path.join(tmpdir(), "chio-readme-pg-"));
  try {
    const file = writeExampleModule(dir, blocks[0], { port: 0, dir });
    const child = spawn(process.execPath, ["--import", import.meta.resolve("tsx"), file], {
      cwd: dir,
      env: { ...process.env, DATABASE_URL: server.url },
      stdio: ["ignore", "pipe", "pipe"],
    });
    const run = await finished(child, 60_000);
    assert.is(run.code, 0, `exit ${run.code}; stderr: ${run.stderr}`);
    assert.is(run.stdout.trim().split("\n").at(-1), "example ok", run.stdout);
    const pins = await sqlAt(server.url, "SELECT kernel_id, public_key FROM chio_peers");
    // Ids are kept as their JSON string literal (exactText in src/stores/server-store.ts).
    assert.equal(pins, [{ kernel_id: '"kernel.b"', public_key: "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c" }], "one pin, RFC 8032 TEST 2's key");
  } finally {
    rmSync(dir, { recursive: true, force: true });
    await server.dispose();
  }
});

test.run();
