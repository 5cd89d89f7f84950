// The built `chio-trust` command line and the files it leaves (hunt 16): an interrupted keygen
// leaves no temporary seed file; a seed given as --key is not printed back; --store is always a
// file (`:memory:` too), never a device; an accept or handshake that is refused, or whose peer
// cannot be reached, creates no store file, while one that succeeds creates it and pins. Spawned
// processes, real files, a real `serve` on loopback; keys and public keys by @noble/curves.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, watch, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { ed25519 as noble } from "@noble/curves/ed25519.js";
import { runCli, spawnCli } from "../helpers/cli.js";
import { finished, waitForLine } from "../helpers/processes.js";

const dir = mkdtempSync(path.join(tmpdir(), "chio-cli-store-files-"));
const file = (name: string) => path.join(dir, name);
const cli = (args: string[], input?: string | Uint8Array, cwd = dir) => runCli(args, cwd, input);
const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString("hex");

/** A seed file for `fill` (mode 0600); its seed's hex and its public key's, by @noble/curves. */
function seedFile(name: string, fill: number): { seed: string; publicKey: string } {
  const seed = new Uint8Array(32).fill(fill);
  writeFileSync(file(name), hex(seed) + "\n", { mode: 0o600 });
  chmodSync(file(name), 0o600);
  return { seed: hex(seed), publicKey: hex(noble.getPublicKey(seed)) };
}

const a = seedFile("a.seed", 1);
const b = seedFile("b.seed", 2);
const stranger = seedFile("stranger.seed", 3);

/** kernel.a's envelope to `to` (printed by the CLI's own `envelope`). */
async function envelopeTo(to: string, nonce: string): Promise<string> {
  const r = await cli(["envelope", "--key", file("a.seed"), "--id", "kernel.a", "--to", to, "--nonce", nonce]);
  assert.is(r.code, 0, r.stderr);
  return r.stdout;
}

test("keygen interrupted by SIGINT or SIGTERM while its seed is written leaves no temporary file; a key file it leaves is whole", async () => {
  for (let run = 0; run < 6; run++) {
    const folder = file(`kg-${run}`);
    mkdirSync(folder);
    const child = spawnCli(["keygen", "--out", "k.seed"], folder);
    child.stdin!.end();
    // The signal as the temporary file is written (its second change: the mode, then the seed),
    // that is while the seed is flushed and before it takes its name: the window hunt 16 found.
    let changes = 0;
    const watcher = watch(folder, (event, name) => {
      if (event === "change" && name?.endsWith(".tmp") && ++changes === 2) child.kill(run % 2 === 0 ? "SIGINT" : "SIGTERM");
    });
    const ended = await finished(child, 30_000);
    watcher.close();
    const names = readdirSync(folder);
    assert.equal(names.filter((name) => name.endsWith(".tmp")), [], `run ${run}: ${names.join(", ")}`);
    if (names.includes("k.seed")) {
      const text = readFileSync(path.join(folder, "k.seed"), "utf8");
      assert.match(text, /^[0-9a-f]{64}\n$/, `run ${run}: a whole seed`);
      // An exit 0 printed the public key of that seed; a run ended by the signal may not have.
      if (ended.code === 0) assert.ok(ended.stdout.includes(hex(noble.getPublicKey(Buffer.from(text.trim(), "hex")))), `run ${run}: ${ended.stdout}`);
    }
  }
});

test("a seed given as --key (64 hex digits, with 0x or spaces) is not printed: its length and ENOENT instead", async () => {
  for (const value of [a.seed, `0x${a.seed}`, ` ${a.seed.toUpperCase()} `]) {
    const r = await cli(["envelope", "--key", value, "--id", "kernel.a", "--to", "kernel.b"]);
    assert.is(r.code, 2, r.stderr);
    assert.match(r.stderr, /^chio-trust: error KEY_FILE_UNREADABLE: cannot read the --key value \(\d+ characters, which look like a seed in hex[^)]*\): ENOENT\n$/);
    assert.not.ok(r.stderr.toLowerCase().includes(a.seed), "the seed is not on stderr");
  }
  // An ordinary path is still named, with Node's reason.
  const missing = await cli(["envelope", "--key", file("no-such.seed"), "--id", "kernel.a", "--to", "kernel.b"]);
  assert.match(missing.stderr, /cannot read .*no-such\.seed: ENOENT: no such file or directory/);
});

test("--store :memory: (and file:…) is a file of that name in the current folder: the pin persists, a replay is refused, peers lists it", async () => {
  const folder = file("memory-name");
  mkdirSync(folder);
  const envelope = await envelopeTo("kernel.b", "memory-name-nonce");
  for (const store of [":memory:", "file:pins.db"]) {
    const accept = ["accept", "--key", file("b.seed"), "--id", "kernel.b", "--from", "kernel.a", "--trust", `kernel.a=${a.publicKey}`, "--store", store];
    const first = await cli(accept, envelope, folder);
    assert.is(first.code, 0, `${store}: ${first.stderr}`);
    assert.ok(existsSync(path.join(folder, store)), `${store}: a file of that name`);
    const again = await cli(accept, envelope, folder);
    assert.is(again.code, 1, `${store}: the replay is refused`);
    assert.match(again.stderr, /error REPLAYED_NONCE/);
    const listed = await cli(["peers", "--store", store], undefined, folder);
    assert.is(listed.code, 0, listed.stderr);
    assert.match(listed.stdout, new RegExp(`^"kernel\\.a"  ${a.publicKey} .*\\n1 pinned peer\\n$`));
  }
});

test("--store that is not a regular file (/dev/null, a directory) is CANNOT_OPEN, exit 2, for peers, accept and serve; nothing made beside it", async () => {
  mkdirSync(file("store-dir"));
  const journalBefore = existsSync("/dev/null-journal"); // left by an older version, perhaps: not this run's
  const envelope = await envelopeTo("kernel.b", "device-nonce");
  for (const store of ["/dev/null", file("store-dir")]) {
    const runs = [
      await cli(["peers", "--store", store]),
      await cli(["accept", "--key", file("b.seed"), "--id", "kernel.b", "--from", "kernel.a", "--trust", `kernel.a=${a.publicKey}`, "--store", store], envelope),
      await cli(["serve", "--key", file("b.seed"), "--id", "kernel.b", "--port", "0", "--store", store]),
    ];
    for (const r of runs) {
      assert.is(r.code, 2, `${store}: ${r.stderr}`);
      assert.match(r.stderr, /^chio-trust: error CANNOT_OPEN: .* is not a regular file/);
    }
  }
  if (!journalBefore) assert.not.ok(existsSync("/dev/null-journal"), "no journal beside /dev/null");
  assert.equal(readdirSync(file("store-dir")), []);
});

test("an accept refused with no store file yet creates none: another addressee, a key the anchor does not hold, no anchor through a dangling link, a --now past the store's retention, a nonce over its 4,096 units", async () => {
  // Eight days ago, past the SQLite replay store's 7-day retention: its reserve refuses the pair
  // (PAST_RETENTION_ON_HOST_CLOCK), which the in-memory replay cache did not, so the file was
  // created for an accept that was then refused (hunt 25).
  const past = String(Math.floor(Date.now() / 1000) - 8 * 86_400);
  const old = await cli(["envelope", "--key", file("a.seed"), "--id", "kernel.a", "--to", "kernel.b", "--nonce", "refused-4", "--now", past]);
  assert.is(old.code, 0, old.stderr);
  const cases: [string, string, string[], string, RegExp][] = [
    ["mismatch.db", await envelopeTo("kernel.c", "refused-1"), ["--trust", `kernel.a=${a.publicKey}`], "mismatch.db", /error ADDRESS_MISMATCH/],
    ["wrong-key.db", await envelopeTo("kernel.b", "refused-2"), ["--trust", `kernel.a=${stranger.publicKey}`], "wrong-key.db", /error UNEXPECTED_PEER_KEY/],
    ["link.db", await envelopeTo("kernel.b", "refused-3"), [], "link-target.db", /error MISSING_TRUST_ANCHOR/],
    ["past.db", old.stdout, ["--trust", `kernel.a=${a.publicKey}`, "--now", past], "past.db", /error STORE_FAILED: [^\n]*past timestamp/],
    // A nonce the in-memory replay cache holds (512 Ki units a peer) but the file's store does not (4,096).
    ["long.db", await envelopeTo("kernel.b", "n".repeat(5000)), ["--trust", `kernel.a=${a.publicKey}`], "long.db", /error MALFORMED_ENVELOPE: [^\n]*nonce is too long/],
  ];
  symlinkSync("link-target.db", file("link.db")); // dangling: SQLite would create its target
  for (const [store, envelope, trust, created, error] of cases) {
    const r = await cli(["accept", "--key", file("b.seed"), "--id", "kernel.b", "--from", "kernel.a", ...trust, "--store", file(store)], envelope);
    assert.is(r.code, 1, `${store}: ${r.stderr}`);
    assert.match(r.stderr, error);
    assert.not.ok(existsSync(file(created)), `${created} not created`);
  }
  // The same accept with the right anchor passes the in-memory run and creates the store.
  const envelope = await envelopeTo("kernel.b", "accepted-1");
  const ok = await cli(["accept", "--key", file("b.seed"), "--id", "kernel.b", "--from", "kernel.a", "--trust", `kernel.a=${a.publicKey}`, "--store", file("link.db")], envelope);
  assert.is(ok.code, 0, ok.stderr);
  assert.ok(existsSync(file("link-target.db")), "created through the link");
  const listed = await cli(["peers", "--store", file("link.db")]);
  assert.match(listed.stdout, /1 pinned peer\n$/);
});

test("handshake creates a new store only once the answer passes: none for an unreachable or refused peer; a completed one pins in it", async () => {
  const unreachable = await cli(["handshake", "http://127.0.0.1:9", "--key", file("a.seed"), "--id", "kernel.a", "--remote", "kernel.b", "--trust", `kernel.b=${b.publicKey}`, "--store", file("h-unreachable.db")]);
  assert.is(unreachable.code, 1, unreachable.stderr);
  assert.match(unreachable.stderr, /error NETWORK_ERROR/);
  assert.not.ok(existsSync(file("h-unreachable.db")));
  const server = spawnCli(["serve", "--key", file("b.seed"), "--id", "kernel.b", "--trust", `kernel.a=${a.publicKey}`, "--port", "0"], dir);
  try {
    const [, url] = await waitForLine(server, /^listening (http:\/\/127\.0\.0\.1:\d+)/m);
    // The answer is kernel.b's, but this side's anchor holds another key: refused here, no file.
    const refused = await cli(["handshake", url, "--key", file("a.seed"), "--id", "kernel.a", "--remote", "kernel.b", "--trust", `kernel.b=${stranger.publicKey}`, "--store", file("h-refused.db")]);
    assert.is(refused.code, 1, refused.stderr);
    assert.match(refused.stderr, /error UNEXPECTED_PEER_KEY/);
    assert.not.ok(existsSync(file("h-refused.db")));
    const done = await cli(["handshake", url, "--key", file("a.seed"), "--id", "kernel.a", "--remote", "kernel.b", "--trust", `kernel.b=${b.publicKey}`, "--store", file("h-done.db")]);
    assert.is(done.code, 0, done.stderr);
    const listed = await cli(["peers", "--store", file("h-done.db")]);
    assert.match(listed.stdout, new RegExp(`^"kernel\\.b"  ${b.publicKey} .*\\n1 pinned peer\\n$`));
  } finally {
    server.kill("SIGTERM");
    await finished(server).catch(() => undefined);
  }
});

test.after(() => rmSync(dir, { recursive: true, force: true }));

test.run();
