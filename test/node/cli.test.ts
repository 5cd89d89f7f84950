// The built `chio-trust` command line, driven as a user would: spawned processes, real files in a
// temp folder, real ports on 127.0.0.1, exit codes 0/1/2, `--help` on every command, and every
// error line carrying its code. Oracles: @noble/curves for keys and signatures, `canonicalize`
// (the RFC 8785 reference) for the signed challenge bytes.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { chmodSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, truncateSync, writeFileSync } from "node:fs";
import { createServer as createHttpServer } from "node:http";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { ed25519 as noble } from "@noble/curves/ed25519.js";
import canonicalize from "canonicalize";
import { FEDERATION_HANDSHAKE_SCHEMA, FederationPeer } from "../../src/index.js";
import { cliPath, runCli } from "../helpers/cli.js";
import { finished } from "../helpers/processes.js";
import { execFileSync, spawn, spawnSync } from "node:child_process";

const dir = mkdtempSync(path.join(tmpdir(), "chio-cli-"));
const file = (name: string) => path.join(dir, name);
const cli = (args: string[], input?: string) => runCli(args, dir, input);
const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString("hex");
const COMMANDS = ["keygen", "envelope", "accept", "peers", "serve", "handshake", "verify", "bench"];

test("--help on the program and on every command: exit 0, usage and the exit codes", async () => {
  const top = await cli(["--help"]);
  assert.is(top.code, 0);
  for (const command of COMMANDS) assert.match(top.stdout, new RegExp(`\\n  ${command} `), `${command} listed`);
  const helps = await Promise.all(COMMANDS.map((command) => cli([command, "--help"])));
  for (const [index, command] of COMMANDS.entries()) {
    const r = helps[index];
    assert.is(r.code, 0, `${command} --help: ${r.stderr}`);
    assert.match(r.stdout, new RegExp(`^Usage: chio-trust ${command} `), command);
    assert.match(r.stdout, /Exit codes:\n  0 {2}success\n  1 {2}refused/, `${command} documents its exit codes`);
  }
});

test("bad usage: exit 2 and `error USAGE` (unknown command, unknown option, missing or bad value)", async () => {
  const cases = [["frobnicate"], ["keygen"], ["verify", "--batch-size", "0"], ["serve", "--key", "k", "--id", "x", "--port", "70000"], ["peers", "--store", "x", "--bogus"]];
  const results = await Promise.all(cases.map((args) => cli(args)));
  for (const [index, args] of cases.entries()) {
    const r = results[index];
    assert.is(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
    assert.match(r.stderr, /^chio-trust: error USAGE: [^\n]*\n$/, `${args.join(" ")}: one line`);
    assert.not.match(r.stderr, /\\n/, "no escaped line break from commander's hint lines");
  }
});

test("keygen writes a 0600 seed whose public key (checked with @noble/curves) it prints; never overwrites without --force", async () => {
  const r = await cli(["keygen", "--out", file("k.seed")]);
  assert.is(r.code, 0, r.stderr);
  assert.is(statSync(file("k.seed")).mode & 0o777, 0o600);
  const seed = Buffer.from(readFileSync(file("k.seed"), "utf8").trim(), "hex");
  assert.is(seed.length, 32);
  assert.is(r.stdout.trim(), hex(noble.getPublicKey(seed)));
  const again = await cli(["keygen", "--out", file("k.seed")]);
  assert.is(again.code, 2);
  assert.match(again.stderr, /error KEY_FILE_EXISTS/);
  assert.ok(readFileSync(file("k.seed")).equals(Buffer.from(hex(seed) + "\n")), "the existing seed is untouched");
  chmodSync(file("k.seed"), 0o644);
  const forced = await cli(["keygen", "--out", file("k.seed"), "--force"]);
  assert.is(forced.code, 0, forced.stderr);
  assert.is(statSync(file("k.seed")).mode & 0o777, 0o600, "--force resets the mode");
  assert.is.not(forced.stdout.trim(), r.stdout.trim(), "a new key");
});

test("key files readable by others, with junk, or missing: exit 2 with their codes", async () => {
  writeFileSync(file("open.seed"), "11".repeat(32) + "\n", { mode: 0o644 });
  chmodSync(file("open.seed"), 0o644);
  writeFileSync(file("junk.seed"), "not a seed\n", { mode: 0o600 });
  for (const [name, code] of [["open.seed", "KEY_FILE_PERMISSIONS"], ["junk.seed", "KEY_FILE_INVALID"], ["missing.seed", "KEY_FILE_UNREADABLE"]]) {
    const r = await cli(["envelope", "--key", file(name), "--id", "a", "--to", "b"]);
    assert.is(r.code, 2, name);
    assert.match(r.stderr, new RegExp(`^chio-trust: error ${code}: `), name);
  }
});

test("key files that are a directory, a named pipe without a writer or huge are refused with their codes, without a hang or a whole read; a key piped in is read", async () => {
  mkdirSync(file("keydir"), { mode: 0o700 });
  execFileSync("mkfifo", ["-m", "600", file("fifo.seed")]);
  writeFileSync(file("big.seed"), "");
  truncateSync(file("big.seed"), 600 * 1024 * 1024); // sparse: 600 MB that take no disk
  chmodSync(file("big.seed"), 0o600);
  for (const [name, code] of [["keydir", "KEY_FILE_UNREADABLE"], ["fifo.seed", "KEY_FILE_INVALID"], ["big.seed", "KEY_FILE_INVALID"]]) {
    const r = await runCli(["envelope", "--key", file(name), "--id", "a", "--to", "b"], dir, "", 10_000);
    assert.is(r.code, 2, `${name}: ${r.stderr}`);
    assert.match(r.stderr, new RegExp(`^chio-trust: error ${code}: `), name);
  }
  // A key given through process substitution (a pipe), as from a secrets manager, is read.
  writeFileSync(file("piped.seed"), "42".repeat(32) + "\n", { mode: 0o600 });
  const piped = spawnSync("bash", ["-c", `"$0" "$1" envelope --key <(sleep 0.2; cat "$2") --id a --to b --nonce n --now 1000`, process.execPath, cliPath, file("piped.seed")], { cwd: dir, encoding: "utf8" });
  assert.is(piped.status, 0, piped.stderr);
  assert.is(JSON.parse(piped.stdout).declaredPublicKey, hex(noble.getPublicKey(Buffer.from("42".repeat(32), "hex"))));
});

test("keygen writes through a temporary file: a failed write (file size limit) leaves the old key whole, with --force too, and no stray file", async () => {
  const first = await cli(["keygen", "--out", file("keep.seed")]);
  assert.is(first.code, 0, first.stderr);
  const before = readFileSync(file("keep.seed"));
  // `ulimit -f 0` makes every write past 0 bytes fail (SIGXFSZ, as a full disk would fail it).
  for (const args of [["--force"], []]) {
    const r = spawnSync("bash", ["-c", `ulimit -f 0; exec "$0" "$@"`, process.execPath, cliPath, "keygen", "--out", file("keep.seed"), ...args], { cwd: dir, encoding: "utf8" });
    assert.ok(r.status !== 0, `keygen ${args.join(" ")} failed: ${r.status} ${r.signal}`);
    assert.ok(readFileSync(file("keep.seed")).equals(before), `keygen ${args.join(" ")}: the old key is intact`);
  }
  const forced = await cli(["keygen", "--out", file("keep.seed"), "--force"]);
  assert.is(forced.code, 0, forced.stderr);
  assert.not.ok(readFileSync(file("keep.seed")).equals(before), "a working --force replaces it");
  // --force through a symlink replaces the file it points to, and the link stays a link.
  symlinkSync(file("keep.seed"), file("link.seed"));
  const viaLink = await cli(["keygen", "--out", file("link.seed"), "--force"]);
  assert.is(viaLink.code, 0, viaLink.stderr);
  assert.ok(lstatSync(file("link.seed")).isSymbolicLink(), "still a link");
  assert.is(readFileSync(file("keep.seed"), "utf8").trim(), hex(Buffer.from(readFileSync(file("link.seed"), "utf8").trim(), "hex")));
  assert.is(viaLink.stdout.trim(), hex(noble.getPublicKey(Buffer.from(readFileSync(file("keep.seed"), "utf8").trim(), "hex"))), "the target holds the new key");
  // A file system without hard links (FAT, some SMB mounts), simulated by a link() that fails
  // with EPERM: the key is copied into place, still never over an existing file.
  const noLinks = file("no-links.cjs");
  writeFileSync(noLinks, `const fs = require("node:fs");
fs.linkSync = () => { const e = new Error("EPERM: operation not permitted, link"); e.code = "EPERM"; throw e; };
require("node:module").syncBuiltinESMExports();\n`);
  const copied = spawnSync(process.execPath, ["--require", noLinks, cliPath, "keygen", "--out", file("copied.seed")], { cwd: dir, encoding: "utf8" });
  assert.is(copied.status, 0, copied.stderr);
  assert.is(statSync(file("copied.seed")).mode & 0o777, 0o600);
  assert.is(copied.stdout.trim(), hex(noble.getPublicKey(Buffer.from(readFileSync(file("copied.seed"), "utf8").trim(), "hex"))));
  const copiedAgain = spawnSync(process.execPath, ["--require", noLinks, cliPath, "keygen", "--out", file("copied.seed")], { cwd: dir, encoding: "utf8" });
  assert.is(copiedAgain.status, 2);
  assert.match(copiedAgain.stderr, /error KEY_FILE_EXISTS/);
  // A killed process can leave its temporary file; a finished one never does.
  for (const name of readdirSync(dir)) if (name.startsWith(".keep.seed.")) rmSync(file(name));
  const none = await cli(["keygen", "--out", file("other.seed")]);
  assert.is(none.code, 0);
  assert.equal(readdirSync(dir).filter((name) => name.endsWith(".tmp")), []);
});

test("envelope prints a signed envelope: the signature verifies (@noble/curves) over the RFC 8785 bytes (canonicalize)", async () => {
  const seed = new Uint8Array(32).fill(3);
  writeFileSync(file("e.seed"), hex(seed) + "\n", { mode: 0o600 });
  const r = await cli(["envelope", "--key", file("e.seed"), "--id", "kernel.a", "--to", "kernel.b", "--nonce", "n-1", "--now", "1764000000"]);
  assert.is(r.code, 0, r.stderr);
  const envelope = JSON.parse(r.stdout);
  assert.equal(envelope.challenge, { schema: FEDERATION_HANDSHAKE_SCHEMA, localKernelId: "kernel.a", remoteKernelId: "kernel.b", nonce: "n-1", timestamp: 1764000000 });
  assert.is(envelope.declaredPublicKey, hex(noble.getPublicKey(seed)));
  const signed = new TextEncoder().encode(canonicalize(envelope.challenge)!);
  assert.ok(noble.verify(Buffer.from(envelope.signature, "hex"), signed, noble.getPublicKey(seed)));
});

test("accept pins into SQLite (then peers lists it, fresh then stale); a replay, a wrong anchor and junk are refused with exit 1", async () => {
  const a = (await cli(["keygen", "--out", file("a.seed")])).stdout.trim();
  const b = (await cli(["keygen", "--out", file("b.seed")])).stdout.trim();
  const other = (await cli(["keygen", "--out", file("o.seed")])).stdout.trim();
  const envelope = (await cli(["envelope", "--key", file("a.seed"), "--id", "kernel.a", "--to", "kernel.b"])).stdout;
  const accept = (extra: string[], input = envelope) =>
    cli(["accept", "--key", file("b.seed"), "--id", "kernel.b", "--from", "kernel.a", "--store", file("b.db"), ...extra], input);
  const ok = await accept(["--trust", `kernel.a=${a}`]);
  assert.is(ok.code, 0, ok.stderr);
  const pin = FederationPeer.fromJSON(ok.stdout.trim());
  assert.is(pin.publicKey.toHex(), a);
  assert.is(pin.rotationDue - pin.establishedAt, 43200);

  const replay = await accept([]); // no anchor needed any more: the pin is the expected key
  assert.is(replay.code, 1);
  assert.match(replay.stderr, /^chio-trust: error REPLAYED_NONCE: /);
  const wrong = await accept(["--trust", `kernel.a=${other}`]);
  assert.is(wrong.code, 1);
  assert.match(wrong.stderr, /error UNEXPECTED_PEER_KEY/);
  const junk = await accept([], "{not json");
  assert.is(junk.code, 1);
  assert.match(junk.stderr, /error MALFORMED_ENVELOPE/);
  const fromFile = file("env.json");
  writeFileSync(fromFile, (await cli(["envelope", "--key", file("a.seed"), "--id", "kernel.a", "--to", "kernel.b"])).stdout);
  const viaFile = await cli(["accept", "--key", file("b.seed"), "--id", "kernel.b", "--from", "kernel.a", "--store", file("b.db"), "--in", fromFile]);
  assert.is(viaFile.code, 0, viaFile.stderr);

  const peers = await cli(["peers", "--store", file("b.db"), "--json"]);
  assert.is(peers.code, 0, peers.stderr);
  const listed = peers.stdout.trim().split("\n").map((line) => JSON.parse(line));
  assert.is(listed.length, 1);
  assert.is(listed[0].kernelId, "kernel.a");
  assert.is(listed[0].publicKey, a);
  assert.is(listed[0].fresh, true);
  assert.is(listed[0].establishedVia, "compareAndSet");
  const stale = await cli(["peers", "--store", file("b.db"), "--now", String(listed[0].rotationDue)]);
  assert.match(stale.stdout, /"kernel\.a" {2}[0-9a-f]{64} .* STALE since 0m 0s\n1 pinned peer\n/);
  const fresh = await cli(["peers", "--store", file("b.db"), "--now", String(listed[0].rotationDue - 3600)]);
  assert.match(fresh.stdout, /fresh, 1h 0m left/);
  assert.ok(b.length === 64);
});

test("stores that are not ours or not databases: exit 2 with the store's code, files untouched", async () => {
  writeFileSync(file("garbage.db"), Buffer.alloc(4096, 0x41));
  const r = await cli(["peers", "--store", file("garbage.db")]);
  assert.is(r.code, 2);
  assert.match(r.stderr, /^chio-trust: error NOT_A_DATABASE: /);
  assert.ok(readFileSync(file("garbage.db")).equals(Buffer.alloc(4096, 0x41)));
  const h = await cli(["handshake", "http://127.0.0.1:9/", "--key", file("a.seed"), "--id", "kernel.a", "--remote", "kernel.b", "--store", file("garbage.db")]);
  assert.is(h.code, 2);
  assert.match(h.stderr, /error NOT_A_DATABASE/);
});

test("usage slips are exit 2 and change nothing: serve --host \"\", peers on a missing store, a handshake URL that is not one or holds a password", async () => {
  const host = await cli(["serve", "--key", file("b.seed"), "--id", "kernel.b", "--host", ""]);
  assert.is(host.code, 2, host.stderr);
  assert.match(host.stderr, /^chio-trust: error USAGE: .*--host must not be empty/);
  const peers = await cli(["peers", "--store", file("typo.db")]);
  assert.is(peers.code, 2, peers.stderr);
  assert.match(peers.stderr, /^chio-trust: error CANNOT_OPEN: /);
  assert.not.ok(existsSync(file("typo.db")), "listing created no file");
  for (const url of ["notaurl", "ftp://127.0.0.1/", "http://deploy:s3cret@127.0.0.1:9", "http://127.0.0.1:9/?tenant=1"]) {
    const r = await cli(["handshake", url, "--key", file("a.seed"), "--id", "kernel.a", "--remote", "kernel.b"]);
    assert.is(r.code, 2, `${url}: ${r.stderr}`);
    assert.match(r.stderr, /^chio-trust: error INVALID_URL: /, url);
    assert.not.match(r.stderr, /s3cret/, "the password is not printed");
  }
});

test("a server's text reaches stderr escaped: one line, no forged log line or terminal escape", async () => {
  const evil = createHttpServer((q, s) => {
    q.resume();
    s.writeHead(403, { "content-type": "application/json" }).end(JSON.stringify({ error: { code: "UNEXPECTED_PEER_KEY", message: "denied\nchio-trust: pinned \"kernel.b\" ok\n\u001b[31mRED" } }));
  });
  await new Promise<void>((resolve) => evil.listen(0, "127.0.0.1", () => resolve()));
  try {
    const r = await cli(["handshake", `http://127.0.0.1:${(evil.address() as { port: number }).port}`, "--key", file("a.seed"), "--id", "kernel.a", "--remote", "kernel.b"]);
    assert.is(r.code, 1, r.stderr);
    assert.is(r.stderr.split("\n").length, 2, `one line: ${JSON.stringify(r.stderr)}`);
    assert.not.match(r.stderr, /\u001b/);
    assert.match(r.stderr, /^chio-trust: error REFUSED_BY_PEER: .*denied\\nchio-trust: pinned/);
  } finally {
    await new Promise<void>((resolve) => evil.close(() => resolve()));
  }
});

test("serve on a port in use: exit 2 LISTEN_FAILED; handshake to a closed port: exit 1 NETWORK_ERROR", async () => {
  const blocker = createServer();
  await new Promise<void>((resolve) => blocker.listen(0, "127.0.0.1", () => resolve()));
  const port = (blocker.address() as { port: number }).port;
  try {
    const r = await cli(["serve", "--key", file("b.seed"), "--id", "kernel.b", "--port", String(port)]);
    assert.is(r.code, 2, r.stderr);
    assert.match(r.stderr, /error LISTEN_FAILED/);
  } finally {
    await new Promise<void>((resolve) => blocker.close(() => resolve()));
  }
  const h = await cli(["handshake", `http://127.0.0.1:${port}`, "--key", file("a.seed"), "--id", "kernel.a", "--remote", "kernel.b"]);
  assert.is(h.code, 1, h.stderr);
  assert.match(h.stderr, /error NETWORK_ERROR/);
});

/** NDJSON items signed by @noble/curves; `bad` lists item indexes whose signature is broken. */
function items(count: number, bad: Set<number>): string {
  const lines: string[] = [];
  for (let i = 0; i < count; i++) {
    const seed = new Uint8Array(32).fill((i % 250) + 1);
    const text = `message ${i}`;
    const message = new TextEncoder().encode(text);
    const signature = noble.sign(message, seed);
    if (bad.has(i)) signature[5] ^= 1;
    const publicKey = hex(noble.getPublicKey(seed));
    lines.push(JSON.stringify(i % 2 ? { messageText: text, signature: hex(signature), publicKey } : { message: hex(message), signature: hex(signature), publicKey }));
  }
  return lines.join("\n") + "\n";
}

test("verify on the worker pool: every item valid → exit 0 with a summary; two broken → exit 1 naming their lines; stdin, batch sizes, thread counts and --json agree", async () => {
  writeFileSync(file("good.ndjson"), items(300, new Set()));
  const good = await cli(["verify", file("good.ndjson"), "--threads", "2"]);
  assert.is(good.code, 0, good.stderr);
  assert.match(good.stdout, /^300 items: 300 valid, 0 invalid in [\d.]+ s \(\d+ items\/s, 2 worker threads\)\n$/);
  writeFileSync(file("bad.ndjson"), items(300, new Set([41, 250])));
  const bad = await cli(["verify", file("bad.ndjson"), "--batch-size", "7", "--threads", "2"]); // 43 batches, settling out of order
  assert.is(bad.code, 1);
  assert.match(bad.stdout, /^line 42: signature does not verify\nline 251: signature does not verify\n300 items: 298 valid, 2 invalid/);
  const piped = await cli(["verify", "--json", "--threads", "1"], readFileSync(file("bad.ndjson"), "utf8"));
  assert.is(piped.code, 1);
  const summary = JSON.parse(piped.stdout);
  assert.equal([summary.total, summary.valid, summary.invalid, summary.failedLines], [300, 298, 2, [42, 251]]);
  assert.ok(summary.itemsPerSecond > 0);
  assert.equal([summary.engine, summary.threads], ["pool", 1]);
  const dash = await cli(["verify", "-"], readFileSync(file("good.ndjson"), "utf8"));
  assert.is(dash.code, 0);
});

test("verify: input with no item (empty stdin, an empty file, blank lines only) → exit 2 NO_ITEMS, no summary", async () => {
  writeFileSync(file("empty.ndjson"), "");
  writeFileSync(file("blank.ndjson"), "\n  \n\r\n");
  for (const [args, input, where] of [
    [["verify", "--threads", "1"], "", "stdin"],
    [["verify", "-", "--json", "--threads", "1"], "\n\n", "stdin"],
    [["verify", "--progress", "--threads", "1"], "", "stdin"], // the bar's timer must not keep the process alive
    [["verify", file("empty.ndjson"), "--threads", "1"], undefined, file("empty.ndjson")],
    [["verify", file("blank.ndjson"), "--threads", "1"], undefined, file("blank.ndjson")],
  ] as const) {
    const r = await cli([...args], input);
    assert.is(r.code, 2, args.join(" "));
    assert.is(r.stdout, "", "no summary: nothing was verified");
    const error = `chio-trust: error NO_ITEMS: no items in ${where}: nothing was verified\n`;
    if (args.includes("--progress")) assert.ok(r.stderr.endsWith(error), r.stderr); // after the bar's last frame
    else assert.is(r.stderr, error);
  }
});

test("verify: unreadable input or a line that is not an item → exit 2 with the code and line", async () => {
  const missing = await cli(["verify", file("nope.ndjson")]);
  assert.is(missing.code, 2);
  assert.match(missing.stderr, /^chio-trust: error INPUT_UNREADABLE: /);
  const folder = await cli(["verify", dir]);
  assert.is(folder.code, 2);
  assert.match(folder.stderr, /error INPUT_UNREADABLE/);
  const good = items(3, new Set()).split("\n");
  for (const [line, why] of [
    ["{nope", /line 2: not JSON/],
    ['{"message":"00","signature":"00","publicKey":"00"}', /line 2: signature must be 64 bytes/],
    ['{"message":"0g","signature":"' + "00".repeat(64) + '","publicKey":"' + "00".repeat(32) + '"}', /line 2: message: hex contains a non-hex character/],
    ['{"messageText":7,"signature":"' + "00".repeat(64) + '","publicKey":"' + "00".repeat(32) + '"}', /line 2: messageText must be a string/],
    ["[1]", /line 2: not a JSON object/],
  ] as const) {
    const r = await cli(["verify"], [good[0], line, good[1]].join("\n"));
    assert.is(r.code, 2, line);
    assert.match(r.stderr, /^chio-trust: error INVALID_ITEM: /, line);
    assert.match(r.stderr, why, line);
  }
});

test("verify reads a pipe (process substitution, a named pipe) as it reads a file", async () => {
  const r = spawnSync("bash", ["-c", `"$0" "$1" verify <(printf '%s' "$2")`, process.execPath, cliPath, items(5, new Set([3]))], { cwd: dir, encoding: "utf8" });
  assert.is(r.status, 1, r.stderr);
  assert.match(r.stdout, /5 items: 4 valid, 1 invalid/);
  execFileSync("mkfifo", [file("items.fifo")]);
  const reader = runCli(["verify", file("items.fifo")], dir);
  writeFileSync(file("items.fifo"), items(4, new Set()));
  const fromFifo = await reader;
  assert.is(fromFifo.code, 0, fromFifo.stderr);
  assert.match(fromFifo.stdout, /4 items: 4 valid, 0 invalid/);
});

test("verify: a line over 16 MiB is refused while it streams in (a 100 MB line under a 64 MB heap), and CRLF lines are read", async () => {
  // Before: readline held the whole line as one string first, past the heap limit here.
  const child = spawn(process.execPath, ["--max-old-space-size=64", cliPath, "verify", "--threads", "1"], { cwd: dir, stdio: ["pipe", "pipe", "pipe"] });
  const huge = Buffer.alloc(100 << 20, 0x78);
  huge[0] = 0x7b; // "{xxxx..." with no newline
  const r = await finished(child, 60_000, huge);
  assert.is(r.code, 2, r.stderr.slice(0, 300));
  assert.match(r.stderr, /^chio-trust: error INVALID_ITEM: line 1: longer than 16777216 bytes/);
  const crlf = await cli(["verify", "--threads", "1"], items(5, new Set()).split("\n").join("\r\n"));
  assert.is(crlf.code, 0, crlf.stderr);
  assert.match(crlf.stdout, /5 items: 5 valid, 0 invalid/);
});

test("verify --progress draws the progress bar on stderr (off by default when stderr is not a terminal)", async () => {
  const withBar = await cli(["verify", file("good.ndjson"), "--progress"]);
  assert.is(withBar.code, 0);
  assert.match(withBar.stderr, /verify \[[^\]]*\] 100% \| \d+\/\d+ bytes/);
  const without = await cli(["verify", file("good.ndjson")]);
  assert.is(without.stderr, "");
});

test("bench runs every case, checks its results and reports positive rates", async () => {
  const r = await cli(["bench", "--seconds", "0.05", "--json"]);
  assert.is(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout) as { rows: { name: string; opsPerSecond: number; operations: number }[] };
  assert.equal(out.rows.map((row) => row.name), ["ed25519 sign (64 B)", "ed25519 verify (64 B)", "canonicalizeJson (envelope)", "verifyEnvelopeBytes", "handshake, both halves in memory"]);
  for (const row of out.rows) assert.ok(row.opsPerSecond > 0 && row.operations >= 16, row.name);
});

test.after(() => rmSync(dir, { recursive: true, force: true }));

test.run();
