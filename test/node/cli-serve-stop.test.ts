// `chio-trust serve` stopped as soon as it says it is ready (hunt 44): a supervisor, a test or
// the README's Quick start waits for the `listening` line and may stop the kernel at once. The
// built command line as a real process on loopback, with a real SQLite store file.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { chmodSync, existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { spawnCli } from "../helpers/cli.js";
import { finished } from "../helpers/processes.js";

const dir = mkdtempSync(path.join(tmpdir(), "chio-cli-serve-stop-"));
const file = (name: string) => path.join(dir, name);
writeFileSync(file("b.seed"), "02".repeat(32) + "\n", { mode: 0o600 });
chmodSync(file("b.seed"), 0o600);

test("serve stopped by SIGTERM or SIGINT the moment its `listening` line arrives stops cleanly: exit 0, store closed (no -wal or -shm left)", async () => {
  // The old code armed its stop only after printing the line: about half of these runs ended by
  // the signal's default action (status 143 / 130) with the store's -wal and -shm left behind.
  for (let run = 0; run < 16; run++) {
    const store = file(`b-${run}.db`);
    const child = spawnCli(["serve", "--key", file("b.seed"), "--id", "kernel.b", "--store", store], dir);
    child.stdin!.end();
    const signal = run % 2 === 0 ? "SIGTERM" : "SIGINT";
    // No await between the line's arrival and the signal: sent from the data event itself.
    child.stdout!.once("data", (chunk: Buffer) => {
      if (chunk.toString("utf8").startsWith("listening ")) child.kill(signal);
    });
    const ended = await finished(child, 30_000);
    assert.match(ended.stdout, /^listening http:\/\/127\.0\.0\.1:\d+\n$/, `run ${run}: ${ended.stderr}`);
    assert.equal([ended.code, ended.signal], [0, null], `run ${run} (${signal}): ${ended.stderr}`);
    assert.ok(existsSync(store), `run ${run}: the store was created`);
    assert.ok(!existsSync(`${store}-wal`) && !existsSync(`${store}-shm`), `run ${run}: the store was closed`);
  }
});

test.after(() => rmSync(dir, { recursive: true, force: true }));
test.run();
