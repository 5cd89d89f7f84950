// The built `chio-trust` command line, on paths a mutation audit found no test would notice going
// wrong: key file permissions for the group, the upper bounds and digits-only rule of integer
// options, --skew and --window reaching the exchange, peers' secondsLeft, verify's --zip215 and
// its item checks, --trust with an empty id, accept's input bound, serve's --host and
// --max-body-in-flight. Spawned processes, real files, real ports on loopback. Oracles:
// @noble/curves for keys and signatures, node:crypto (OpenSSL) for the default verify rules and
// @noble/curves { zip215: true } for ZIP-215.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { ed25519 as noble } from "@noble/curves/ed25519.js";
import { DEFAULT_MAX_ENVELOPE_BYTES, KernelTrustExchange, Keypair, MAX_ENVELOPE_BYTES_LIMIT } from "../../src/index.js";
import { runCli, spawnCli } from "../helpers/cli.js";
import { finished, waitForLine } from "../helpers/processes.js";
import { concat, le, nobleZip215, nodeAccepts, P } from "../helpers/ed25519-oracles.js";

const dir = mkdtempSync(path.join(tmpdir(), "chio-cli-audit-"));
const file = (name: string) => path.join(dir, name);
const cli = (args: string[], input?: string | Uint8Array) => runCli(args, dir, input);
const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString("hex");

/** A seed file for `fill` (mode 0600) and its public key by @noble/curves. */
function seedFile(name: string, fill: number): string {
  const seed = new Uint8Array(32).fill(fill);
  writeFileSync(file(name), hex(seed) + "\n", { mode: 0o600 });
  chmodSync(file(name), 0o600);
  return hex(noble.getPublicKey(seed));
}

test("a key file the group may read or write is KEY_FILE_PERMISSIONS, exit 2, as one others may read; 0600 and 0400 are read", async () => {
  // A mutation audit found that a check of the "others" bits alone passed every test (they used 0644).
  seedFile("perm.seed", 9);
  const args = ["envelope", "--key", file("perm.seed"), "--id", "kernel.a", "--to", "kernel.b", "--nonce", "n", "--now", "1000"];
  for (const mode of [0o640, 0o620, 0o660, 0o604, 0o602]) {
    chmodSync(file("perm.seed"), mode);
    const r = await cli(args);
    assert.is(r.code, 2, `mode ${mode.toString(8)}: ${r.stderr}`);
    assert.match(r.stderr, new RegExp(`^chio-trust: error KEY_FILE_PERMISSIONS: .*mode ${mode.toString(8)}\\)`), mode.toString(8));
    assert.is(r.stdout, "", `mode ${mode.toString(8)}: nothing signed`);
  }
  for (const mode of [0o600, 0o400]) {
    chmodSync(file("perm.seed"), mode);
    const r = await cli(args);
    assert.is(r.code, 0, `mode ${mode.toString(8)}: ${r.stderr}`);
  }
});

test("integer options: the largest documented value is taken, one more is USAGE; a value with anything but digits is USAGE", async () => {
  // A mutation audit found the upper bound off by one and a prefix-only digit check went unnoticed
  // (the tests tried 0 and 70000 only).
  seedFile("int.seed", 10);
  const envelope = (...extra: string[]) => cli(["envelope", "--key", file("int.seed"), "--id", "kernel.a", "--to", "kernel.b", "--nonce", "n", "--now", "1000", ...extra]);
  assert.is((await envelope("--skew", "604800")).code, 0, "--skew 604800 is in range");
  const usage = (r: { code: number | null; stdout: string; stderr: string }, message: string, what: string) => {
    assert.is(r.code, 2, `${what}: ${r.stderr}`);
    assert.match(r.stderr, /^chio-trust: error USAGE: [^\n]*\n$/, what);
    assert.ok(r.stderr.includes(message), `${what}: ${r.stderr}`);
    assert.is(r.stdout, "", `${what}: nothing printed`);
  };
  usage(await envelope("--skew", "604801"), "--skew must be an integer in 0..604800", "--skew 604801");
  usage(await envelope("--skew", "300s"), "--skew must be an integer in 0..604800", "--skew 300s");
  usage(await envelope("--skew", "3e2"), "--skew must be an integer in 0..604800", "--skew 3e2");
  usage(await cli(["serve", "--key", file("int.seed"), "--id", "kernel.b", "--port", "65536"]), "--port must be an integer in 0..65535", "--port 65536");
  usage(await cli(["verify", "--threads", "257"], ""), "--threads must be an integer in 1..256", "--threads 257");
  usage(await cli(["verify", "--threads", "2x"], ""), "--threads must be an integer in 1..256", "--threads 2x");
  usage(await cli(["verify", "--batch-size", String((1 << 20) + 1)], ""), "--batch-size must be an integer in 1..1048576", "--batch-size 2^20 + 1");
});

test("bench --seconds: below 0.01, over 60, or not plain decimal digits (an exponent, a sign, a space, hex) is USAGE with nothing measured", async () => {
  // Hunt 65's mutation run: dropping decimal()'s lower bound or its digit check passed every test
  // (only .05 and 0.05 were ever given), and `--seconds 1e-1` or `--seconds 0` then ran the bench.
  const message = "--seconds must be a number in 0.01..60";
  for (const value of ["0", "0.009", "60.5", "1e-1", "-1", " 0.05", "0x1", "", "."]) {
    const r = await cli(["bench", "--seconds", value, "--json"]);
    assert.is(r.code, 2, `--seconds ${JSON.stringify(value)}: ${r.stderr}`);
    assert.match(r.stderr, /^chio-trust: error USAGE: [^\n]*\n$/, value);
    assert.ok(r.stderr.includes(message), `--seconds ${JSON.stringify(value)}: ${r.stderr}`);
    assert.is(r.stdout, "", `--seconds ${JSON.stringify(value)}: nothing measured`);
  }
});

test("accept --skew and --window reach the exchange: a skew of 301 s takes an envelope 301 s old that the default refuses (nothing pinned); --window sets the pin's lifetime", async () => {
  // A mutation audit found that dropping either option passed every test (neither was used).
  const a = seedFile("sk-a.seed", 11);
  seedFile("sk-b.seed", 12);
  const kernelA = Keypair.fromSeed(new Uint8Array(32).fill(11));
  // Near the wall clock: the SQLite replay store of `accept --store` refuses a pair its host's
  // clock already puts past retention (PAST_RETENTION_ON_HOST_CLOCK).
  const T0 = Math.floor(Date.now() / 1000) - 400;
  const envelope = (nonce: string) => JSON.stringify(new KernelTrustExchange("kernel.a", kernelA).localEnvelope("kernel.b", nonce, T0));
  const accept = (store: string, input: string, ...extra: string[]) =>
    cli(["accept", "--key", file("sk-b.seed"), "--id", "kernel.b", "--from", "kernel.a", "--trust", `kernel.a=${a}`, "--store", file(store), "--now", String(T0 + 301), ...extra], input);
  const refused = await accept("sk.db", envelope("s-1"));
  assert.is(refused.code, 1, refused.stderr);
  assert.match(refused.stderr, /^chio-trust: error CLOCK_SKEW_EXCEEDED: /);
  assert.is((await cli(["peers", "--store", file("sk.db"), "--json"])).stdout, "", "a refused envelope pins nothing");
  const taken = await accept("sk.db", envelope("s-2"), "--skew", "301");
  assert.is(taken.code, 0, taken.stderr);
  assert.equal(JSON.parse(taken.stdout), { kernelId: "kernel.a", publicKey: a, establishedAt: T0 + 301, rotationDue: T0 + 301 + 43200 });
  const windowed = await accept("win.db", envelope("w-1"), "--skew", "301", "--window", "60");
  assert.is(windowed.code, 0, windowed.stderr);
  assert.equal(JSON.parse(windowed.stdout), { kernelId: "kernel.a", publicKey: a, establishedAt: T0 + 301, rotationDue: T0 + 361 });
  // peers --json of a stale pin: fresh false and secondsLeft 0, never negative.
  const stale = await cli(["peers", "--store", file("win.db"), "--json", "--now", String(T0 + 1000)]);
  assert.is(stale.code, 0, stale.stderr);
  const listed = JSON.parse(stale.stdout);
  assert.equal([listed.kernelId, listed.rotationDue, listed.fresh, listed.secondsLeft], ["kernel.a", T0 + 361, false, 0]);
  const fresh = JSON.parse((await cli(["peers", "--store", file("win.db"), "--json", "--now", String(T0 + 341)])).stdout);
  assert.equal([fresh.fresh, fresh.secondsLeft], [true, 20]);
});

test("--trust with an empty kernel id (`=HEX`) is INVALID_TRUST_ANCHOR, exit 2", async () => {
  // A mutation audit found that taking `=HEX` as an anchor for the kernel "" passed every test.
  const a = seedFile("tr-a.seed", 13);
  const r = await cli(["envelope", "--key", file("tr-a.seed"), "--id", "kernel.a", "--to", "kernel.b", "--trust", `=${a}`]);
  assert.is(r.code, 2, r.stderr);
  assert.match(r.stderr, /^chio-trust: error INVALID_TRUST_ANCHOR: --trust wants ID=PUBLICKEYHEX/);
  assert.is(r.stdout, "");
});

test("accept reads at most --max-envelope bytes (64 KiB by default, line break included), the bound the exchange applies: one byte more, on stdin or --in, is INPUT_TOO_LARGE (exit 2) and creates no store; a larger --max-envelope takes it", async () => {
  // A mutation audit found that dropping the read's bound passed every test. The read's bound was
  // then 16 MiB against the exchange's 64 KiB, so an envelope between the two was read whole and
  // refused as malformed (exit 1, "refused") after the store had been created.
  const seed = new Uint8Array(32).fill(14);
  const a = seedFile("big-a.seed", 14);
  seedFile("big-b.seed", 15);
  // The size goes into the acceptor's id: the SQLite replay store of `accept --store` bounds the
  // sender's id plus the nonce at 4,096 units, and refuses a longer nonce whatever its size.
  const signer = new KernelTrustExchange("kernel.a", Keypair.fromSeed(seed));
  const T0 = Math.floor(Date.now() / 1000); // near the wall clock, as in the test of --skew
  const line = (acceptor: string, nonce = "n") => JSON.stringify(signer.localEnvelope(acceptor, nonce, T0)) + "\n";
  const largestId = "kernel.b" + "x".repeat(DEFAULT_MAX_ENVELOPE_BYTES - Buffer.byteLength(line("kernel.b")));
  const largest = line(largestId);
  const oneMore = line(largestId, "nx");
  assert.is(Buffer.byteLength(largest), DEFAULT_MAX_ENVELOPE_BYTES);
  assert.is(Buffer.byteLength(oneMore), DEFAULT_MAX_ENVELOPE_BYTES + 1);
  writeFileSync(file("big.json"), oneMore);
  const accept = (store: string, ...extra: string[]) =>
    ["accept", "--key", file("big-b.seed"), "--id", largestId, "--from", "kernel.a", "--trust", `kernel.a=${a}`, "--store", file(store), "--now", String(T0), ...extra];
  const pinned = (r: { code: number | null; stdout: string; stderr: string }, what: string) => {
    assert.is(r.code, 0, `${what}: ${r.stderr}`);
    assert.is(JSON.parse(r.stdout).publicKey, a, `${what}: the pin holds the key @noble/curves derives`);
  };

  pinned(await cli(accept("big-largest.db"), largest), "the largest envelope by default");
  for (const [what, args, input] of [
    ["stdin", accept("big-stdin.db"), oneMore],
    ["--in", accept("big-file.db", "--in", file("big.json")), undefined],
    ["stdin, --max-envelope 300", accept("big-small.db", "--max-envelope", "300"), line(largestId.slice(0, 8))],
  ] as const) {
    const limit = what.endsWith("300") ? 300 : DEFAULT_MAX_ENVELOPE_BYTES;
    const r = await runCli([...args], dir, input, 60_000);
    assert.is(r.code, 2, `${what}: ${r.stderr}`);
    assert.is(r.stderr, `chio-trust: error INPUT_TOO_LARGE: input over ${limit} bytes\n`, what);
    assert.not.ok(existsSync(args[args.indexOf("--store") + 1]), `${what}: no store file`);
  }
  // The option reaches the exchange too: with the read's bound alone, the exchange's default
  // would refuse this envelope as MALFORMED_ENVELOPE (exit 1).
  pinned(await cli(accept("big-raised.db", "--max-envelope", String(DEFAULT_MAX_ENVELOPE_BYTES + 1)), oneMore), "one byte more under --max-envelope 65537");
  pinned(await cli(accept("big-in.db", "--max-envelope", String(MAX_ENVELOPE_BYTES_LIMIT), "--in", file("big.json"))), "--in under the largest --max-envelope");
  for (const bad of ["0", String(MAX_ENVELOPE_BYTES_LIMIT + 1), "64k"]) {
    const r = await cli(accept("big-bad.db", "--max-envelope", bad), largest);
    assert.is(r.code, 2, `--max-envelope ${bad}: ${r.stderr}`);
    assert.match(r.stderr, new RegExp(`--max-envelope must be an integer in 1\\.\\.${MAX_ENVELOPE_BYTES_LIMIT}`), `--max-envelope ${bad}`);
    assert.not.ok(existsSync(file("big-bad.db")), `--max-envelope ${bad}: no store file`);
  }
});

test("verify --zip215 applies the ZIP-215 rules and the default does not: an item only one of the two accepts (oracles: node:crypto, @noble/curves zip215)", async () => {
  // A mutation audit found that dropping --zip215 passed every test. The item: the identity key,
  // R the neutral element encoded non-canonically (y = p + 1), S = 0.
  const message = new TextEncoder().encode("zip215");
  const publicKey = le(1n);
  const signature = concat(le(P + 1n), le(0n));
  assert.is(nodeAccepts(signature, message, publicKey), false, "the default rules refuse it");
  assert.is(nobleZip215(signature, message, publicKey), true, "ZIP-215 accepts it");
  const line = JSON.stringify({ message: hex(message), signature: hex(signature), publicKey: hex(publicKey) }) + "\n";
  const byDefault = await cli(["verify", "--threads", "1", "--json"], line);
  assert.is(byDefault.code, 1, byDefault.stderr);
  assert.equal(JSON.parse(byDefault.stdout).failedLines, [1]);
  const zip215 = await cli(["verify", "--threads", "1", "--json", "--zip215"], line);
  assert.is(zip215.code, 0, zip215.stderr);
  assert.equal([JSON.parse(zip215.stdout).valid, JSON.parse(zip215.stdout).invalid], [1, 0]);
});

test("verify: a publicKey that is not 32 bytes, or an item with both message and messageText, is INVALID_ITEM (exit 2), not a verdict", async () => {
  // A mutation audit found that dropping either check passed every test.
  const seed = new Uint8Array(32).fill(16);
  const text = "both";
  const signature = hex(noble.sign(new TextEncoder().encode(text), seed));
  const publicKey = hex(noble.getPublicKey(seed));
  for (const [item, why] of [
    [{ messageText: text, signature, publicKey: publicKey.slice(0, 62) }, "line 1: publicKey must be 32 bytes (64 hex digits)"],
    [{ messageText: text, signature, publicKey: publicKey + "00" }, "line 1: publicKey must be 32 bytes (64 hex digits)"],
    // messageText alone verifies; message says something else: which one was meant is not a guess.
    [{ message: "00", messageText: text, signature, publicKey }, "line 1: give message or messageText, not both"],
  ] as const) {
    const r = await cli(["verify", "--threads", "1"], JSON.stringify(item) + "\n");
    assert.is(r.code, 2, `${why}: ${r.stderr}`);
    assert.is(r.stderr, `chio-trust: error INVALID_ITEM: ${why}\n`);
    assert.is(r.stdout, "");
  }
  const alone = await cli(["verify", "--threads", "1"], JSON.stringify({ messageText: text, signature, publicKey }) + "\n");
  assert.is(alone.code, 0, alone.stderr);
});

test("verify: a messageText with an unpaired surrogate (a \\ud800 escape) is INVALID_ITEM (exit 2), not verified as its U+FFFD encoding", async () => {
  // Before: encoded with U+FFFD in its place, so a signature over EF BF BD verified it (helper 142),
  // where a line that is not UTF-8 was already refused for the same reason.
  const seed = new Uint8Array(32).fill(18);
  const replacement = new TextEncoder().encode("a\ufffdb"); // what the lone surrogate was encoded as
  const signature = hex(noble.sign(replacement, seed));
  const publicKey = hex(noble.getPublicKey(seed));
  for (const [escaped, index] of [["a\\ud800b", 1], ["a\\udc00b", 1], ["\\ud83d\\ude00a\\ud83db", 3]] as const) {
    const line = `{"messageText":"${escaped}","signature":"${signature}","publicKey":"${publicKey}"}\n`;
    const r = await cli(["verify", "--threads", "1"], line);
    assert.is(r.code, 2, r.stderr);
    assert.is(r.stderr, `chio-trust: error INVALID_ITEM: line 1: messageText has an unpaired UTF-16 surrogate at index ${index} (no UTF-8 form)\n`);
    assert.is(r.stdout, "");
  }
  // The same text with a real U+FFFD verifies, and a surrogate pair (an emoji) is text like any other.
  const good = await cli(["verify", "--threads", "1"], JSON.stringify({ messageText: "a\ufffdb", signature, publicKey }) + "\n");
  assert.is(good.code, 0, good.stderr);
  const emoji = "\u{1f600}";
  const pair = await cli(["verify", "--threads", "1"], JSON.stringify({ messageText: emoji, signature: hex(noble.sign(new TextEncoder().encode(emoji), seed)), publicKey }) + "\n");
  assert.is(pair.code, 0, pair.stderr);
});

test("serve listens on --host only (127.0.0.1 by default: not reachable at 127.0.0.2); --max-body-in-flight equal to --max-body is taken", async () => {
  // A mutation audit found that listening on every interface, and refusing an in-flight bound
  // equal to --max-body, passed every test.
  seedFile("host.seed", 17);
  const child = spawnCli(["serve", "--key", file("host.seed"), "--id", "kernel.b", "--port", "0", "--max-body", "2048", "--max-body-in-flight", "2048"], dir);
  try {
    const [, port] = await waitForLine(child, /^listening http:\/\/127\.0\.0\.1:(\d+)\n/m);
    const reach = (host: string) =>
      new Promise<string>((resolve) => {
        const socket = connect(Number(port), host);
        socket.once("connect", () => (socket.destroy(), resolve("connected")));
        socket.once("error", (error: NodeJS.ErrnoException) => resolve(error.code ?? "error"));
      });
    assert.is(await reach("127.0.0.1"), "connected");
    assert.is(await reach("127.0.0.2"), "ECONNREFUSED", "the kernel answers on 127.0.0.1 only");
  } finally {
    child.kill("SIGTERM");
    await finished(child).catch(() => undefined);
  }
});

test("keygen --out takes a file name up to the 255 bytes the file system allows (ASCII or UTF-8): its temporary file's name stays within that too (hunt 44)", async () => {
  // The temporary file was named ".<name>.<12 hex digits>.tmp": a name of 238 bytes or more was
  // KEY_FILE_UNWRITABLE (ENAMETOOLONG) although the file system takes it.
  for (const name of ["k".repeat(238), "k".repeat(255), "é".repeat(127) + "k"]) {
    assert.is(Buffer.byteLength(name), name.length === 128 ? 255 : name.length);
    const r = await cli(["keygen", "--out", name]);
    assert.is(r.code, 0, `${Buffer.byteLength(name)} bytes: ${r.stderr}`);
    const text = readFileSync(file(name), "latin1");
    assert.match(text, /^[0-9a-f]{64}\n$/);
    assert.is(r.stdout, hex(noble.getPublicKey(Buffer.from(text.trim(), "hex"))) + "\n", "the public key of the seed written");
    assert.is(statSync(file(name)).mode & 0o777, 0o600);
    const forced = await cli(["keygen", "--out", name, "--force"]);
    assert.is(forced.code, 0, forced.stderr);
    assert.is(forced.stdout, hex(noble.getPublicKey(Buffer.from(readFileSync(file(name), "latin1").trim(), "hex"))) + "\n", "replaced with --force");
    rmSync(file(name));
  }
  // One byte more than the file system takes is still refused, with nothing left behind.
  const r = await cli(["keygen", "--out", "k".repeat(256)]);
  assert.is(r.code, 2);
  assert.match(r.stderr, /^chio-trust: error KEY_FILE_UNWRITABLE: .*ENAMETOOLONG/);
  assert.equal(readdirSync(dir).filter((entry) => entry.endsWith(".tmp")), []);
});

test("keygen --out with a trailing slash is refused, with or without --force: the file before the slash is left as it was and nothing is created (hunt 44)", async () => {
  // The name was taken without its slash: `--out a.seed/ --force` replaced the file a.seed (POSIX
  // says ENOTDIR), and without --force the message named the hidden temporary file.
  writeFileSync(file("slash.seed"), "the old key\n");
  for (const args of [["keygen", "--out", "slash.seed/", "--force"], ["keygen", "--out", "slash.seed/"], ["keygen", "--out", "fresh.seed/"]]) {
    const r = await cli(args);
    assert.is(r.code, 2, `${args.join(" ")}: ${r.stdout}`);
    assert.match(r.stderr, /^chio-trust: error KEY_FILE_UNWRITABLE: cannot write [a-z.]+\/: a key file's name cannot end with a path separator/);
    assert.is(r.stdout, "", "no public key printed");
  }
  assert.is(readFileSync(file("slash.seed"), "utf8"), "the old key\n", "not replaced");
  assert.not.ok(existsSync(file("fresh.seed")));
  assert.equal(readdirSync(dir).filter((entry) => entry.endsWith(".tmp")), []);
  rmSync(file("slash.seed"));
});

test("keygen --out in a folder that does not exist, or under a file: KEY_FILE_UNWRITABLE naming the --out and its folder, never the hidden temporary file", async () => {
  // Before: "cannot write nodir/x.seed: ENOENT: no such file or directory, open 'nodir/.x.seed.<hex>.tmp'".
  writeFileSync(file("plain"), "a file, not a folder\n");
  const cases: [string[], string][] = [
    [["keygen", "--out", "nodir/x.seed"], "cannot write nodir/x.seed: ENOENT: no such file or directory (the folder nodir does not exist)"],
    [["keygen", "--out", "nodir/x.seed", "--force"], "cannot write nodir/x.seed: ENOENT: no such file or directory (the folder nodir does not exist)"],
    [["keygen", "--out", "a/b/x.seed"], "cannot write a/b/x.seed: ENOENT: no such file or directory (the folder a/b does not exist)"],
    [["keygen", "--out", "plain/x.seed"], "cannot write plain/x.seed: ENOTDIR: not a directory (plain is not a folder)"],
  ];
  for (const [args, message] of cases) {
    const r = await cli(args);
    assert.is(r.code, 2, `${args.join(" ")}: ${r.stdout}`);
    assert.is(r.stderr, `chio-trust: error KEY_FILE_UNWRITABLE: ${message}\n`, args.join(" "));
    assert.is(r.stdout, "", "no public key printed");
  }
  assert.is(readFileSync(file("plain"), "utf8"), "a file, not a folder\n");
  assert.not.ok(existsSync(file("nodir")));
  assert.equal(readdirSync(dir).filter((entry) => entry.endsWith(".tmp")), []);
  rmSync(file("plain"));
});

test("kernel ids with DEL, C1 controls and U+2028/U+2029 reach the terminal escaped: peers, peers --json, accept's and handshake's pins, serve's pinned line (hunt 48)", async () => {
  // Before: printed through JSON.stringify, which leaves U+007F-U+009F (U+009B is a terminal's
  // CSI) and U+2028/U+2029 raw. The JSON printed still parses to the same id.
  const weird = "k\u007f\u0085\u009b2J\u2028\u2029x";
  const escaped = '"k\\u007f\\u0085\\u009b2J\\u2028\\u2029x"';
  const raw = /[\u007f-\u009f\u2028\u2029]/;
  const weirdKey = seedFile("weird.seed", 41);
  const localKey = seedFile("local.seed", 42);
  const sent = await cli(["envelope", "--key", file("weird.seed"), "--id", weird, "--to", "kernel.local", "--nonce", "n1"]);
  assert.is(sent.code, 0, sent.stderr);
  const accepted = await cli(["accept", "--key", file("local.seed"), "--id", "kernel.local", "--from", weird, "--trust", `${weird}=${weirdKey}`, "--store", file("weird.db")], sent.stdout);
  assert.is(accepted.code, 0, accepted.stderr);
  const listed = await cli(["peers", "--store", file("weird.db")]);
  const listedJson = await cli(["peers", "--store", file("weird.db"), "--json"]);
  // serve as the weird kernel, the client another weird id: serve logs the client's pin, handshake prints the server's.
  const client = "j\u0080\u2028y";
  const child = spawnCli(["serve", "--key", file("weird.seed"), "--id", weird, "--trust", `${client}=${localKey}`, "--port", "0"], dir);
  const served = finished(child, 60_000);
  let handshake;
  try {
    const [, url] = await waitForLine(child, /^listening (http:\/\/\S+)\n/m);
    handshake = await cli(["handshake", url!, "--key", file("local.seed"), "--id", client, "--remote", weird, "--trust", `${weird}=${weirdKey}`]);
  } finally {
    child.kill("SIGTERM");
  }
  const log = (await served).stderr;
  assert.is(handshake.code, 0, handshake.stderr);
  for (const [what, text] of [["accept", accepted.stdout], ["peers", listed.stdout], ["peers --json", listedJson.stdout], ["serve's log", log], ["handshake", handshake.stdout]] as const) {
    assert.not.match(text, raw, `${what}: no raw control or line separator`);
  }
  assert.ok(listed.stdout.startsWith(`${escaped}  ${weirdKey}  established `), listed.stdout);
  assert.match(log, new RegExp(`^pinned "j\\\\u0080\\\\u2028y" ${localKey}$`, "m"));
  assert.is(JSON.parse(accepted.stdout).kernelId, weird, "accept's pin parses to the id");
  assert.is(JSON.parse(listedJson.stdout).kernelId, weird, "peers --json parses to the id");
  assert.is(JSON.parse(handshake.stdout).kernelId, weird, "handshake's pin parses to the id");
});

test.after(() => rmSync(dir, { recursive: true, force: true }));

test.run();
