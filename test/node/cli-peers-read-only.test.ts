// `chio-trust peers` on a store this user can read but not write (hunt 54): it lists the pins and
// leaves nothing beside the file. Before, the store's read-write open failed READ_ONLY (exit 2)
// and left ro.db-wal and ro.db-shm behind, owned by that user, which a read-only SQLite
// connection cannot remove. The built CLI runs as a real child process under uid/gid 65534
// (setpriv), on real SQLite files written by the SqlitePeerStore, a writer holding one open in a
// process of its own. Needs root (to switch user); skipped with a message otherwise. The tests
// after those (hunt 57) run as the current user: a store it can write is read without a write
// too.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { spawn, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import fs, { chmodSync, copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { syncBuiltinESMExports } from "node:module";
import { tmpdir } from "node:os";
import path from "node:path";
import Database from "better-sqlite3";
import { createVersionOneTables } from "../helpers/sqlite-version-one.js";
import { cliPath, runCli } from "../helpers/cli.js";
import { finished, repoRoot, waitForLine } from "../helpers/processes.js";
import { readPeerRecordsReadOnly } from "../../src/stores/sqlite/peer-store.js";
import { isUnclaimedSqliteFile } from "../../src/cli/kernel.js";

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

// Every `peers` reads without a write, whoever runs it (hunt 57): a store this user can write
// was opened as a store, as `accept` opens it, so a listing upgraded a file of an older schema
// version to the current one (and, as the last connection, checkpointed and removed a -wal it
// found). These run as the current user, root or not.

/** The bytes, size and modification time of `file`, and the names in its folder. */
function fileAndFolder(file: string): { bytes: string; mtimeNs: bigint; names: string[] } {
  return {
    bytes: createHash("sha256").update(readFileSync(file)).digest("hex"),
    mtimeNs: statSync(file, { bigint: true }).mtimeNs,
    names: readdirSync(path.dirname(file)).sort(),
  };
}

/** The schema version of the store `file`, read by a connection that can write (a read-only one leaves a -wal and -shm behind). */
const schemaOf = (file: string) => {
  const db = new Database(file, { fileMustExist: true });
  try {
    return (db.prepare("SELECT max(version) AS v FROM chio_trust_schema").get() as { v: number }).v;
  } finally {
    db.close();
  }
};

/** A store of schema version 1 at `file`, as that version's migration wrote it, holding the pin kernel.b. */
function writeVersionOneStore(file: string): void {
  const db = new Database(file);
  createVersionOneTables(db);
  db.prepare("INSERT INTO chio_trust_peers VALUES ('kernel.b', ?, 'ed25519', 1000, 2000, 'insert', 'v1', 1700000000)").run(Buffer.from(KEY, "hex"));
  db.close(); // the last connection: its -wal and -shm go
}

test("peers on a store this user can write writes nothing: an older schema is listed as it is (not upgraded), a newer one is SCHEMA_TOO_NEW; the file's bytes and mtime and its folder's names stay the same (hunt 57)", async () => {
  const cases: [string, ((db: Database.Database) => void) | undefined, number][] = [
    ["current", undefined, 0],
    ["v1", undefined, 0], // written below as version 1 made it
    // Version 3: version 4 only added the retention floor's table.
    ["v3", (db) => db.exec("DROP TABLE chio_trust_replay_retention; DELETE FROM chio_trust_schema WHERE version > 3"), 0],
    ["v99", (db) => db.exec("INSERT INTO chio_trust_schema (version, applied_at, description) VALUES (99, 0, 'future')"), 2],
  ];
  for (const [name, change, code] of cases) {
    const folder = path.join(root, `writable-${name}`);
    mkdirSync(folder, { mode: 0o755 });
    const file = path.join(folder, "ro.db");
    if (name === "v1") writeVersionOneStore(file);
    else runWriter(file);
    if (change !== undefined) {
      const db = new Database(file);
      change(db);
      db.close(); // the last connection: its -wal and -shm go
    }
    const schema = schemaOf(file);
    const before = fileAndFolder(file);
    assert.equal(before.names, ["ro.db"], name);
    const r = await runCli(["peers", "--store", "ro.db", "--json", "--now", "1500"], folder);
    assert.is(r.code, code, `${name}: ${r.stderr}`);
    if (code === 0) assert.equal(ids(r.stdout), ["kernel.b"], name);
    else assert.match(r.stderr, /SCHEMA_TOO_NEW: ro\.db has schema version 99/, name);
    assert.equal(fileAndFolder(file), before, `${name}: the file and its folder as they were`);
    assert.is(schemaOf(file), schema, `${name}: the schema version as it was`);
  }
});

// Commits pins two at a time (p<n>.a and p<n>.b in one transaction) into the store argv[1],
// checkpointing every 10 pages, printing "writing" after the first, until its stdin ends.
const busyWriter = `
import Database from "better-sqlite3";
import { SqlitePeerStore } from ${JSON.stringify(storeModule)};
const store = new SqlitePeerStore(process.argv[1]);
const db = new Database(process.argv[1]);
db.pragma("wal_autocheckpoint = 10");
const key = Buffer.from(${JSON.stringify(KEY)}, "hex");
const insert = db.prepare("INSERT INTO chio_trust_peers (kernel_id, public_key, algorithm, established_at, rotation_due, established_via, origin, written_at) VALUES (?, ?, 'ed25519', 1000, 2000, 'insert', 'busy writer', 1700000000)");
const pair = db.transaction((n) => { insert.run("p" + n + ".a", key); insert.run("p" + n + ".b", key); });
let n = 0, stop = false;
process.stdin.resume();
process.stdin.on("end", () => (stop = true));
const step = () => {
  if (stop || n >= 20000) { db.close(); store.close(); process.exit(0); }
  pair(n++);
  if (n === 1) process.stdout.write("writing\\n");
  setTimeout(step, 1);
};
step();
`;

test("peers on a store another process is writing lists whole transactions only, through the writer's -wal and -shm, and leaves no other file (hunt 57)", async () => {
  const folder = path.join(root, "busy");
  mkdirSync(folder, { mode: 0o755 });
  const child = spawn(process.execPath, ["--input-type=module", "-e", busyWriter, path.join(folder, "ro.db")], { cwd: repoRoot, stdio: ["pipe", "pipe", "pipe"] });
  const ended = finished(child, 120_000);
  try {
    await waitForLine(child, /^writing$/m, 30_000);
    let last = 0;
    for (let run = 0; run < 6; run++) {
      const r = await runCli(["peers", "--store", "ro.db", "--json", "--now", "1500"], folder);
      assert.is(r.code, 0, r.stderr);
      const listed = new Set(ids(r.stdout));
      for (const id of listed) {
        const match = /^p(\d+)\.([ab])$/.exec(id);
        assert.ok(match, id);
        assert.ok(listed.has(`p${match![1]}.${match![2] === "a" ? "b" : "a"}`), `run ${run}: ${id} without the other pin of its transaction`);
      }
      assert.ok(listed.size >= last && listed.size % 2 === 0, `run ${run}: ${listed.size} pins after ${last}`);
      last = listed.size;
      assert.equal(readdirSync(folder).sort(), ["ro.db", "ro.db-shm", "ro.db-wal"], `run ${run}`);
    }
    assert.ok(last > 0);
  } finally {
    child.stdin!.end();
  }
  const r = await ended;
  assert.is(r.code, 0, r.stderr);
  assert.equal(readdirSync(folder).sort(), ["ro.db"], "the writer, the last connection, removed its -wal and -shm");
});

test("peers through a symbolic link to a store a writer holds open reads the writer's -wal, named after the link's target as SQLite names it (hunt 57)", async () => {
  // Fresh: the writer's tables and pins are all in its -wal still. Checkpointed: kernel.b is in
  // the file (a writer opened and closed it), kernel.c only in the -wal of the writer holding it.
  for (const [name, checkpointedFirst] of [["link-fresh", false], ["link-checkpointed", true]] as const) {
    const folder = path.join(root, name);
    mkdirSync(path.join(folder, "real"), { recursive: true, mode: 0o755 });
    const target = path.join(folder, "real", "ro.db");
    if (checkpointedFirst) runWriter(target);
    symlinkSync(path.join("real", "ro.db"), path.join(folder, "link.db"));
    const child = spawn(process.execPath, ["--input-type=module", "-e", writer, target, "hold"], { stdio: ["pipe", "pipe", "pipe"] });
    const ended = finished(child, 60_000);
    try {
      await waitForLine(child, /^held$/m, 30_000);
      const before = readdirSync(path.join(folder, "real")).sort();
      assert.equal(before, ["ro.db", "ro.db-shm", "ro.db-wal"], name);
      const r = await runCli(["peers", "--store", "link.db", "--json", "--now", "1500"], folder);
      assert.is(r.code, 0, `${name}: ${r.stderr}`);
      assert.equal(ids(r.stdout), ["kernel.b", "kernel.c"], name);
      assert.equal(readdirSync(path.join(folder, "real")).sort(), before, name);
      assert.equal(readdirSync(folder).sort(), ["link.db", "real"], `${name}: nothing made beside the link`);
    } finally {
      child.stdin!.end();
      await ended;
    }
  }
});

/**
 * Runs `read` with `moment` run right after the reader's first look for the store's -shm: the
 * moment of a race with a writer. In this process, through node:fs's statSync, which the
 * reader's module imports (syncBuiltinESMExports carries the replacement into ESM bindings).
 */
function atTheShmLook<T>(moment: () => void, read: () => T): T {
  const real = fs.statSync;
  let done = false;
  fs.statSync = function (this: unknown, ...args: unknown[]) {
    const result = (real as (...a: unknown[]) => unknown).apply(this, args);
    if (!done && String(args[0]).endsWith("ro.db-shm")) {
      done = true;
      moment();
    }
    return result;
  } as typeof fs.statSync;
  syncBuiltinESMExports();
  try {
    return read();
  } finally {
    fs.statSync = real;
    syncBuiltinESMExports();
    assert.ok(done, "the reader looked for the -shm");
  }
}

/** Runs `read` with the writer's last connection closing right after the reader's look for the -shm (the -wal and -shm then removed). */
function withWriterClosingAfterTheCheck<T>(file: string, writer: Database.Database, read: () => T): T {
  return atTheShmLook(() => {
    writer.close(); // the last connection: checkpoints, removes the -wal and -shm
    assert.equal(readdirSync(path.dirname(file)).sort(), ["ro.db"], "the writer's close removed its -wal and -shm");
  }, read);
}

test("the reader, when the writer holding the store's -wal and -shm closes between its check and its open, lists the pins and leaves no -wal or -shm of its own behind (hunt 57)", () => {
  const folder = path.join(root, "race");
  mkdirSync(folder, { mode: 0o755 });
  const file = path.join(folder, "ro.db");
  runWriter(file);
  const writer = new Database(file); // holds the store: its -wal and -shm are there
  writer.prepare("SELECT count(*) FROM chio_trust_peers").get();
  assert.equal(readdirSync(folder).sort(), ["ro.db", "ro.db-shm", "ro.db-wal"]);
  const records = withWriterClosingAfterTheCheck(file, writer, () => readPeerRecordsReadOnly(file));
  assert.equal(records.map((record) => record.peer.kernelId), ["kernel.b"]);
  assert.equal(readdirSync(folder).sort(), ["ro.db"], "nothing left beside the store");
});

test("the reader, finding a -wal without its -shm as a writer opens or closes the store, waits for the -shm to come (or the -wal to go) and lists the pins; READ_ONLY only for a -wal alone that stays (hunt 57)", () => {
  // Opening: the writer has made its -wal, its -shm comes a moment later.
  const opening = path.join(root, "shm-coming");
  mkdirSync(opening, { mode: 0o755 });
  const file = path.join(opening, "ro.db");
  runWriter(file);
  const writer = new Database(file);
  writer.prepare("SELECT count(*) FROM chio_trust_peers").get();
  fs.renameSync(`${file}-shm`, `${file}-shm.away`);
  try {
    const records = atTheShmLook(() => fs.renameSync(`${file}-shm.away`, `${file}-shm`), () => readPeerRecordsReadOnly(file));
    assert.equal(records.map((record) => record.peer.kernelId), ["kernel.b"]);
    assert.equal(readdirSync(opening).sort(), ["ro.db", "ro.db-shm", "ro.db-wal"]);
  } finally {
    writer.close();
  }
  // Closing: the writer has removed its -shm, its -wal goes a moment later.
  const closing = path.join(root, "wal-going");
  mkdirSync(closing, { mode: 0o755 });
  const closed = path.join(closing, "ro.db");
  runWriter(closed);
  writeFileSync(`${closed}-wal`, "");
  const records = atTheShmLook(() => rmSync(`${closed}-wal`), () => readPeerRecordsReadOnly(closed));
  assert.equal(records.map((record) => record.peer.kernelId), ["kernel.b"]);
  assert.equal(readdirSync(closing).sort(), ["ro.db"]);
  // A -wal alone that stays: READ_ONLY, and nothing made.
  writeFileSync(`${closed}-wal`, "");
  assert.throws(() => readPeerRecordsReadOnly(closed), (error: { code?: string }) => error.code === "READ_ONLY");
  assert.equal(readdirSync(closing).sort(), ["ro.db", "ro.db-wal"]);
});

test("peers' check of a file that is not yet a store, when the writer holding the -wal closes right after its look for it, leaves no -wal or -shm of its own behind (hunt 57)", async () => {
  const folder = path.join(root, "unclaimed-race");
  mkdirSync(folder, { mode: 0o755 });
  const file = path.join(folder, "ro.db");
  const writer = new Database(file); // a new store's tables, all in the writer's -wal still
  writer.pragma("journal_mode = WAL");
  writer.pragma(`application_id = ${0x6368696f}`);
  writer.exec("CREATE TABLE chio_trust_schema (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL, description TEXT NOT NULL) STRICT");
  assert.equal(readdirSync(folder).sort(), ["ro.db", "ro.db-shm", "ro.db-wal"]);
  // The check looks for the -wal (twice: alone, then to choose how to read); the writer closes after the last look.
  const real = fs.existsSync;
  let walLooks = 0;
  fs.existsSync = (name: fs.PathLike) => {
    const there = real(name);
    if (String(name).endsWith("ro.db-wal") && ++walLooks === 2) writer.close();
    return there;
  };
  syncBuiltinESMExports();
  let unclaimed;
  try {
    unclaimed = await isUnclaimedSqliteFile(file);
  } finally {
    fs.existsSync = real;
    syncBuiltinESMExports();
  }
  assert.is(walLooks >= 2, true);
  assert.is(unclaimed, false, "a chio-trust file");
  assert.equal(readdirSync(folder).sort(), ["ro.db"], "nothing left beside it");
});

test.after(() => rmSync(root, { recursive: true, force: true }));
test.run();
