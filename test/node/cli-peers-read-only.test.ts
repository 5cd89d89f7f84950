// `chio-trust peers` on a store this user can read but not write (hunt 54): it lists the pins and
// leaves nothing beside the file. Before, the store's read-write open failed READ_ONLY (exit 2)
// and left ro.db-wal and ro.db-shm behind, owned by that user, which a read-only SQLite
// connection cannot remove. The built CLI runs as a real child process under uid/gid 65534
// (setpriv), on real SQLite files written by the SqlitePeerStore, a writer holding one open in a
// process of its own. Needs root (to switch user); skipped with a message otherwise.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { spawn, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { chmodSync, copyFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import Database from "better-sqlite3";
import { cliPath } from "../helpers/cli.js";
import { finished, repoRoot, waitForLine } from "../helpers/processes.js";

const asRoot = process.getuid?.() === 0 && spawnSync("setpriv", ["--version"]).status === 0;
const root = mkdtempSync(path.join(tmpdir(), "chio-cli-peers-ro-"));
chmodSync(root, 0o755);
const storeModule = path.join(repoRoot, "dist", "esm", "stores", "sqlite", "index.js");
const mainModule = path.join(repoRoot, "dist", "esm", "index.js");
const KEY = "52784e2fd609460fa9a4666ad3373041fd8331551c21aecdbb7dcb8731b12ab9";

// Writes pins kernel.b (and, given "hold", kernel.c after "held" is read back) into argv[1], then
// either closes the store or keeps it open, printing "held", until its stdin ends.
const writer = `
import { SqlitePeerStore } from ${JSON.stringify(storeModule)};
import { FederationPeer, PublicKey } from ${JSON.stringify(mainModule)};
const store = new SqlitePeerStore(process.argv[1]);
const pin = (id) => store.insert(new FederationPeer({ kernelId: id, publicKey: PublicKey.fromHex(${JSON.stringify(KEY)}), establishedAt: 1000, rotationDue: 2000 }));
pin("kernel.b");
if (process.argv[2] === "hold") {
  pin("kernel.c");
  process.stdout.write("held\\n");
  process.stdin.resume();
  process.stdin.on("end", () => { store.close(); process.exit(0); });
} else store.close();
`;

function runWriter(file: string): void {
  const r = spawnSync(process.execPath, ["--input-type=module", "-e", writer, file], { encoding: "utf8" });
  assert.is(r.status, 0, r.stderr);
}

/** A folder (mode 0777) holding ro.db, a store with the pin kernel.b, its -wal and -shm gone, mode 0444. */
function readOnlyStore(name: string): { folder: string; file: string } {
  const folder = path.join(root, name);
  spawnSync("mkdir", [folder]);
  chmodSync(folder, 0o777);
  const file = path.join(folder, "ro.db");
  runWriter(file);
  chmodSync(file, 0o444);
  return { folder, file };
}

/** `peers --store ro.db --json --now 1500` in `folder`, as uid/gid 65534. */
function peersAsNobody(folder: string) {
  const child = spawn("setpriv", ["--reuid=65534", "--regid=65534", "--clear-groups", process.execPath, cliPath, "peers", "--store", "ro.db", "--json", "--now", "1500"], {
    cwd: folder,
    stdio: ["pipe", "pipe", "pipe"],
  });
  return finished(child, 30_000);
}

/** Each entry of `folder` with its owner, mode and content hash. */
function folderState(folder: string): string[] {
  return readdirSync(folder)
    .sort()
    .map((name) => {
      const stats = statSync(path.join(folder, name));
      return `${name} ${stats.uid} ${(stats.mode & 0o777).toString(8)} ${createHash("sha256").update(readFileSync(path.join(folder, name))).digest("hex")}`;
    });
}

const ids = (stdout: string) => stdout.trim().split("\n").filter(Boolean).map((line) => JSON.parse(line).kernelId);

test("peers lists a store it cannot write, in a folder it can, and creates no -wal or -shm (hunt 54)", async () => {
  if (!asRoot) return console.log("  (skipped: switching to uid 65534 needs root and setpriv; CI runs as root)");
  const { folder } = readOnlyStore("writable-folder");
  const before = folderState(folder);
  const r = await peersAsNobody(folder);
  assert.is(r.code, 0, r.stderr);
  assert.equal(ids(r.stdout), ["kernel.b"]);
  assert.is(JSON.parse(r.stdout.trim()).publicKey, KEY);
  assert.equal(folderState(folder), before, "nothing made beside the store, the store unchanged");
});

test("peers lists a store in a folder it cannot write, creating nothing", async () => {
  if (!asRoot) return console.log("  (skipped: needs root and setpriv)");
  const { folder } = readOnlyStore("read-only-folder");
  chmodSync(folder, 0o555);
  const before = folderState(folder);
  const r = await peersAsNobody(folder);
  chmodSync(folder, 0o777);
  assert.is(r.code, 0, r.stderr);
  assert.equal(ids(r.stdout), ["kernel.b"]);
  assert.equal(folderState(folder), before);
});

test("peers lists a store a writer holds open (pins still in its -wal), through the writer's -wal and -shm, which stay as they were", async () => {
  if (!asRoot) return console.log("  (skipped: needs root and setpriv)");
  const folder = path.join(root, "held");
  spawnSync("mkdir", [folder]);
  chmodSync(folder, 0o777);
  const child = spawn(process.execPath, ["--input-type=module", "-e", writer, path.join(folder, "ro.db"), "hold"], { stdio: ["pipe", "pipe", "pipe"] });
  const ended = finished(child, 60_000);
  try {
    await waitForLine(child, /^held$/m, 30_000);
    chmodSync(path.join(folder, "ro.db"), 0o444);
    // A copy of the three files as the writer holds them: what a crashed writer leaves.
    const crashed = path.join(root, "crashed");
    spawnSync("mkdir", [crashed]);
    chmodSync(crashed, 0o777);
    for (const suffix of ["", "-wal", "-shm"]) copyFileSync(path.join(folder, "ro.db" + suffix), path.join(crashed, "ro.db" + suffix));
    chmodSync(path.join(crashed, "ro.db"), 0o444);
    for (const where of [folder, crashed]) {
      const before = folderState(where);
      assert.ok(before.some((line) => line.startsWith("ro.db-wal ")) && before.some((line) => line.startsWith("ro.db-shm ")), before.join("\n"));
      const r = await peersAsNobody(where);
      assert.is(r.code, 0, `${where}: ${r.stderr}`);
      assert.equal(ids(r.stdout), ["kernel.b", "kernel.c"], where);
      assert.equal(folderState(where), before, where);
    }
  } finally {
    child.stdin!.end();
    await ended;
  }
});

test("peers on a -wal without its -shm is READ_ONLY (exit 2), creating nothing", async () => {
  if (!asRoot) return console.log("  (skipped: needs root and setpriv)");
  const { folder } = readOnlyStore("wal-without-shm");
  writeFileSync(path.join(folder, "ro.db-wal"), "");
  const before = folderState(folder);
  const r = await peersAsNobody(folder);
  assert.is(r.code, 2, r.stderr);
  assert.match(r.stderr, /READ_ONLY: ro\.db-wal lies beside ro\.db without its -shm/);
  assert.equal(folderState(folder), before);
});

test("peers on a read-only store of an older schema version lists it without upgrading it; a newer one is SCHEMA_TOO_NEW; another application's FOREIGN_DATABASE", async () => {
  if (!asRoot) return console.log("  (skipped: needs root and setpriv)");
  const cases: [string, (db: Database.Database) => void, number, RegExp | undefined][] = [
    // Version 1 as recorded: the later migrations' rows and tables gone (the pins' table is version 1's).
    ["v1", (db) => db.exec("DROP TABLE chio_trust_replay_retention; DROP TABLE chio_trust_replay_peers; DELETE FROM chio_trust_schema WHERE version > 1"), 0, undefined],
    ["v99", (db) => db.exec("INSERT INTO chio_trust_schema (version, applied_at, description) VALUES (99, 0, 'future')"), 2, /SCHEMA_TOO_NEW: ro\.db has schema version 99/],
    ["foreign", (db) => db.pragma("application_id = 7"), 2, /FOREIGN_DATABASE/],
  ];
  for (const [name, change, code, error] of cases) {
    const { folder, file } = readOnlyStore(name);
    chmodSync(file, 0o644);
    const db = new Database(file);
    change(db);
    db.close(); // the last connection: its -wal and -shm go
    chmodSync(file, 0o444);
    const before = folderState(folder);
    const r = await peersAsNobody(folder);
    assert.is(r.code, code, `${name}: ${r.stderr}`);
    if (error === undefined) assert.equal(ids(r.stdout), ["kernel.b"], name);
    else assert.match(r.stderr, error, name);
    assert.equal(folderState(folder), before, name);
    if (name === "v1") {
      const check = new Database(file, { readonly: true });
      assert.is((check.prepare("SELECT max(version) AS v FROM chio_trust_schema").get() as { v: number }).v, 1, "not upgraded");
      check.close();
    }
  }
});

test.after(() => rmSync(root, { recursive: true, force: true }));
test.run();
