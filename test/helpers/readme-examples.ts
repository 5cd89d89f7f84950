// The README's fenced code blocks, and what test/node/readme-examples.test.ts (and, for the
// Postgres block, test/cluster/readme-postgres.test.ts) put around each ```ts block to run it as
// written: a prelude that defines the free names the block uses (never one it defines itself),
// literal substitutions for what a test cannot use as printed, and an epilogue that checks what
// the block's comments promise. Keyed by the block's first line and holding the digest of its
// whole text, so a new block, or an edit anywhere in one, fails until it is covered here. Also the
// quick start's runner and checks (checkQuickStart), which the default tier runs with the built CLI
// and the hosts tier with the installed tarball's command; and, keyed the same way, the two programs
// each "Migrating" ```diff stands for (README_DIFF_EXAMPLES, writeDiffModules).
import * as assert from "uvu/assert";
import { spawnSync, type SpawnSyncReturns } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import path from "node:path";
import { ed25519 as noble } from "@noble/curves/ed25519.js";
import { freePort, repoRoot } from "./processes.js";

export interface ReadmeBlock {
  /** The fence's language: "ts", "sh", "diff" or "". */
  lang: string;
  /** The lines between the fences, joined by "\n". */
  code: string;
  /** The README line of the block's first line (1-based). */
  line: number;
  /** The text of the nearest heading above the block, without its #s. */
  heading: string;
}

/** A fence's opening line: its run of ``` or ~~~ (at most three spaces in), then the info string's first word. */
const FENCE = /^ {0,3}(`{3,}|~{3,})\s*([^\s`]*)/;

/**
 * Every fenced block of `markdown`, in order, by CommonMark's rule: a fence is three or more
 * backticks or tildes indented at most three spaces, closed by a line of the same character at
 * least as long (and nothing else); the language is the info string's first word.
 */
export function readmeBlocks(markdown: string): ReadmeBlock[] {
  const lines = markdown.split("\n");
  const blocks: ReadmeBlock[] = [];
  let heading = "";
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    if (/^#{1,6} /.test(line)) heading = line.replace(/^#+ /, "");
    const open = FENCE.exec(line);
    if (!open) continue;
    const [, fence, lang] = open;
    let end = i + 1;
    while (end < lines.length && !(new RegExp(`^ {0,3}${fence[0]}{${fence.length},}\\s*$`).test(lines[end]))) end++;
    if (end === lines.length) throw new Error(`README line ${i + 1}: a fence that is never closed`);
    blocks.push({ lang, code: lines.slice(i + 1, end).join("\n"), line: i + 2, heading });
    i = end;
  }
  return blocks;
}

/** Lines that look like a fence (``` or ~~~ at most three spaces in): twice the blocks, when every fence pairs. */
export function fenceLikeLines(markdown: string): number {
  return markdown.split("\n").filter((line) => FENCE.test(line)).length;
}

/** The first 16 hex digits of the SHA-256 of a block's text (ReadmeExample.sha256). */
export function blockDigest(code: string): string {
  return createHash("sha256").update(code).digest("hex").slice(0, 16);
}

/** Attempts for a run that binds a port found free beforehand: another process may take it first. */
const PORT_ATTEMPTS = 3;

/**
 * `run(port)` with a port free when it is called, again with another (at most PORT_ATTEMPTS in
 * all) while its stderr says the port was taken meanwhile (EADDRINUSE, or the CLI's LISTEN_FAILED);
 * the last attempt's result.
 */
export async function runOnFreePort(run: (port: number) => SpawnSyncReturns<string>): Promise<SpawnSyncReturns<string>> {
  let result = run(await freePort());
  for (let attempt = 2; attempt <= PORT_ATTEMPTS && /LISTEN_FAILED|EADDRINUSE/.test(result.stderr); attempt++) result = run(await freePort());
  return result;
}

/**
 * Runs the README's quick start (the block with keygen, serve and handshake under "Quick start",
 * then the two commands of the "Without HTTP" paragraph after it) in bash, in a folder `workDir()`
 * makes for each attempt, with `chio-trust` aliased by `aliasLine` (run first, in `aliasDir` when
 * given: the README's alias for an installed package names `$PWD`) and port 8700 replaced by a
 * free one; then checks what it printed and left, with @noble/curves as the oracle for the keys.
 * The paragraph's accept goes to a store of its own (c.db), so that it is a first contact too.
 */
export async function checkQuickStart(readme: string, aliasLine: string, workDir: () => string, aliasDir?: string): Promise<void> {
  const blocks = readmeBlocks(readme);
  const start = blocks.findIndex((b) => b.heading.startsWith("Quick start"));
  assert.ok(start >= 0, "the README has its Quick start section");
  const block = blocks.slice(start).find((b) => b.lang === "sh" && b.code.includes("chio-trust keygen"));
  assert.ok(block, "the quick start's block with keygen, serve and handshake");
  for (const text of ["--port 8700", "127.0.0.1:8700", "SERVE=$!"]) assert.ok(block.code.includes(text), `the block holds ${text}`);
  const afterBlock = readme.slice(readme.indexOf(block.code) + block.code.length);
  const from = afterBlock.indexOf("Without HTTP");
  const fileCommands = [...afterBlock.slice(from, afterBlock.indexOf("\n\n", from)).replace(/\n/g, " ").matchAll(/`(chio-trust [^`]+)`/g)].map((m) => m[1]);
  assert.is(fileCommands.length, 2, "the envelope and the accept command");
  assert.ok(fileCommands[1].includes("--store b.db"), fileCommands[1]);
  let dir = "";
  let port = 0;
  const run = await runOnFreePort((freshPort) => {
    dir = workDir();
    port = freshPort;
    const script = [
      "set -euo pipefail",
      "shopt -s expand_aliases",
      aliasLine,
      // Not the README's: ends a serve the block left running when it failed part-way.
      "trap 'kill $(jobs -p) 2>/dev/null || true' EXIT",
      `cd "${dir}"`,
      block.code.replaceAll("--port 8700", `--port ${port}`).replaceAll("127.0.0.1:8700", `127.0.0.1:${port}`),
      'status=0; wait $SERVE || status=$?; echo "serve ended with $status"',
      'echo "keys $A $B"',
      fileCommands[0],
      fileCommands[1].replace("--store b.db", "--store c.db"),
      "chio-trust peers --store c.db --json",
      "echo done",
    ].join("\n");
    return spawnSync("bash", ["-c", script], { cwd: aliasDir ?? dir, encoding: "utf8", timeout: 60_000 });
  });
  assert.is(run.status, 0, `exit ${run.status}; stderr: ${run.stderr}`);
  const publicKeyOf = (seed: string) => Buffer.from(noble.getPublicKey(Buffer.from(readFileSync(path.join(dir, seed), "utf8").trim(), "hex"))).toString("hex");
  const [publicA, publicB] = [publicKeyOf("a.seed"), publicKeyOf("b.seed")];
  for (const seed of ["a.seed", "b.seed"]) assert.is(statSync(path.join(dir, seed)).mode & 0o777, 0o600, `${seed} mode 0600`);
  const lines = run.stdout.split("\n");
  assert.ok(lines.includes(`keys ${publicA} ${publicB}`), `keygen printed the public keys @noble/curves derives from the seeds: ${run.stdout}`);
  // The listing of a.db names kernel.b with B's key.
  const pinnedB = lines.find((line) => line.startsWith('"kernel.b"'));
  assert.ok(pinnedB?.includes(publicB), `a.db pins kernel.b under B's key: ${run.stdout}`);
  assert.ok(lines.includes("1 pinned peer"), run.stdout);
  // JSON lines: the pin `handshake` made (B), `peers --store b.db --json` (A), the pin `accept` made
  // on c.db (A) and `peers --store c.db --json` (A, first contact through files).
  const pins = lines.filter((line) => line.startsWith("{")).map((line) => JSON.parse(line) as { kernelId?: string; publicKey?: string; fresh?: boolean });
  assert.equal(
    pins.map((pin) => [pin.kernelId, pin.publicKey, pin.fresh]),
    [["kernel.b", publicB, undefined], ["kernel.a", publicA, true], ["kernel.a", publicA, undefined], ["kernel.a", publicA, true]],
    run.stdout,
  );
  assert.match(readFileSync(path.join(dir, "b.log"), "utf8"), new RegExp(`^listening http://127\\.0\\.0\\.1:${port}\\n`));
  assert.ok(lines.includes("serve ended with 0"), `serve stopped by kill $SERVE with exit 0: ${run.stdout}`);
  assert.ok(existsSync(path.join(dir, "env.json")) && lines.at(-2) === "done", run.stdout);
}

/** How one README ```ts block is run and checked. */
export interface ReadmeExample {
  /**
   * The first 16 hex digits of the SHA-256 of the block's whole text: a README edit anywhere in
   * the block fails the coverage test until its prelude and epilogue are reviewed and this updated.
   */
  sha256: string;
  /** TypeScript placed before the block: imports under names the block does not use, then the free names' values. */
  prelude: string;
  /** TypeScript placed after the block: checks, by `must(condition, what)`. */
  epilogue: string;
  /** Literal replacements in the block's text (all occurrences); functions get the run's context. */
  substitute?: [string, (context: ExampleContext) => string][];
  /** "cluster": run by test/cluster/readme-postgres.test.ts (a real server); type-checked in the default tier. */
  tier?: "cluster";
}

export interface ExampleContext {
  /** A free port on 127.0.0.1 for the blocks that listen. */
  port: number;
  /** The folder the example runs in (a temporary one). */
  dir: string;
}

/** The lines every example starts with: its checks' helpers. */
const HEADER = [
  "const must = (ok: boolean, what: string): void => {",
  '  if (!ok) throw new Error("README example: " + what);',
  "};",
  'const toHex = (bytes: Uint8Array): string => Buffer.from(bytes).toString("hex");',
].join("\n");

/** The lines every example ends with: the line the tests wait for, then an exit (servers and pools the block leaves open). */
const FOOTER = ['console.log("example ok");', "process.exit(0);"].join("\n");

/** RFC 8032 §7.1 TEST 2 (test/vectors/rfc8032): its public key is the one the Postgres block's elided anchor "3d4017c3…" begins. */
const RFC8032_TEST2 = (
  JSON.parse(readFileSync(path.join(repoRoot, "test", "vectors", "rfc8032", "rfc8032-7.1.json"), "utf8")) as { tests: { name: string; secretKey: string; publicKey: string; message: string; signature: string }[] }
).tests.find((t) => t.name === "TEST 2")!;
const RFC8032_TEST2_SECRET = RFC8032_TEST2.secretKey;
const RFC8032_TEST2_PUBLIC = RFC8032_TEST2.publicKey;

export const README_TS_EXAMPLES = new Map<string, ReadmeExample>([
  [
    'import { ed25519 } from "chio-trust"; // or: const { ed25519 } = require("chio-trust")',
    {
      sha256: "3b6e77dff30c33fb",
      prelude: `
import { ed25519 as oracle } from "@noble/curves/ed25519.js";
const message = new TextEncoder().encode("a message from the README");
const otherSeed = oracle.utils.randomSecretKey();
const moreItems = [{ signature: oracle.sign(message, otherSeed), message, publicKey: oracle.getPublicKey(otherSeed) }];`,
      epilogue: `
must(toHex(publicKey) === toHex(oracle.getPublicKey(secretKey)), "getPublicKey equals @noble/curves'");
must(toHex(signature) === toHex(oracle.sign(message, secretKey)), "sign equals @noble/curves' (deterministic)");
must(ed25519.verify(signature, message, publicKey) && ed25519.verify(signature, message, publicKey, { zip215: true }), "both rules accept");
must(await ed25519.verifyAsync(signature, message, publicKey), "verifyAsync accepts");
const wrong = new TextEncoder().encode("another message");
must(!ed25519.verify(signature, wrong, publicKey) && !oracle.verify(signature, wrong, publicKey), "a changed message is refused, as by @noble/curves");
must(JSON.stringify(ed25519.verifyBatch([{ signature, message, publicKey }, ...moreItems, { signature, message: wrong, publicKey }])) === "[true,true,false]", "verifyBatch answers per item");`,
    },
  ],
  [
    "const key = ed25519.prepareSecretKey(secretKey);  // PreparedSecretKey: holds a slot index, not the secret",
    {
      sha256: "1acbef11304058d9",
      prelude: `
import { ed25519 } from "chio-trust";
import { ed25519 as oracle } from "@noble/curves/ed25519.js";
const secretKey = ed25519.utils.randomSecretKey();
const message = new TextEncoder().encode("signed under a prepared key");`,
      epilogue: `
must(toHex(key.publicKey) === toHex(oracle.getPublicKey(secretKey)), "publicKey (a copy, still there after destroy) equals @noble/curves'");
must(!key.usable, "destroy() left it unusable");
let code: unknown;
try {
  ed25519.sign(message, key);
} catch (error) {
  code = (error as { code?: unknown }).code;
}
must(code === "KEY_DESTROYED", "sign after destroy() throws KEY_DESTROYED, got " + String(code));
const again = ed25519.prepareSecretKey(secretKey);
must(toHex(ed25519.sign(message, again)) === toHex(oracle.sign(message, secretKey)), "signatures under a prepared key equal @noble/curves'");
again.destroy();`,
    },
  ],
  [
    'import { canonicalize, canonicalBytes, canonicalizeJson, verifyEnvelopeBytes, verifyEnvelopeBatch } from "chio-trust";',
    {
      sha256: "3a05c15950b4f20f",
      prelude: `
import reference from "canonicalize";
import { isDeepStrictEqual } from "node:util";
import { ed25519 as oracle } from "@noble/curves/ed25519.js";
import { KernelTrustExchange as Exchange, Keypair as Pair } from "chio-trust";
const senderSeed = oracle.utils.randomSecretKey();
const envelopeText = JSON.stringify(new Exchange("kernel.a", Pair.fromSeed(senderSeed)).localEnvelope("kernel.b", "readme-nonce"));
const requestBody = new TextEncoder().encode(envelopeText);
const tampered = envelopeText.replace("readme-nonce", "readme-nonse");
const bodies = [requestBody, tampered, '{"not":"an envelope"}'];`,
      epilogue: `
must(canonicalize({ b: 1, a: [true, null] }) === reference({ b: 1, a: [true, null] }), "canonicalize equals the RFC 8785 reference");
must(toHex(canonicalBytes({ b: 1, a: [true, null] })) === toHex(new TextEncoder().encode(reference({ b: 1, a: [true, null] }))), "canonicalBytes are its UTF-8");
const text = '{"z": 1e20, "a": "\\\\u00e9"}';
must(toHex(canonicalizeJson(text)) === toHex(new TextEncoder().encode(reference(JSON.parse(text)))), "canonicalizeJson equals the reference on the parsed text");
must(verdict.ok && verdict.envelope.challenge.localKernelId === "kernel.a", "the envelope verifies");
must(verdict.ok && toHex(verdict.envelope.declaredPublicKey) === toHex(oracle.getPublicKey(senderSeed)), "under the sender's key, as @noble/curves derives it");
const verdicts = verifyEnvelopeBatch(bodies);
must(verdicts.length === 3 && bodies.every((body, i) => isDeepStrictEqual(verdicts[i], verifyEnvelopeBytes(body))), "verifyEnvelopeBatch equals verifyEnvelopeBytes on each");
must(verdicts.map((v) => (v.ok ? "ok" : v.code)).join() === "ok,INVALID_SIGNATURE,MALFORMED_ENVELOPE", "one verdict per body");`,
    },
  ],
  [
    'import { KernelTrustExchange, Keypair, PublicKey } from "chio-trust";',
    {
      sha256: "d8c783e22353727c",
      prelude: `
import { ed25519 as oracle } from "@noble/curves/ed25519.js";
import { KernelTrustExchange as Exchange, Keypair as Pair, PublicKey as Key } from "chio-trust";
const seedA = oracle.utils.randomSecretKey();
const seedB = oracle.utils.randomSecretKey();
const anchorB = toHex(oracle.getPublicKey(seedB));
const nonce = "readme-nonce-a";
let sent = "";
const send = (text: string): void => {
  sent = text;
};
const b = new Exchange("kernel.org-b", Pair.fromSeed(seedB)).withTrustedPeer("kernel.org-a", Key.fromBytes(oracle.getPublicKey(seedA)));
const receivedJsonText = JSON.stringify(b.localEnvelope("kernel.org-a", "readme-nonce-b"));`,
      epilogue: `
must(peer.kernelId === "kernel.org-b" && peer.publicKey.toHex() === anchorB, "a pinned b's key");
must((await a.resolve("kernel.org-b")).publicKey.toHex() === anchorB, "resolve gives the pin");
const unknown = await a.resolve("kernel.org-c").then(() => "resolved", (error: { code?: string }) => error.code);
must(unknown === "PEER_NOT_PINNED", "resolve refuses an unknown peer, got " + String(unknown));
must(JSON.parse(sent).challenge.nonce === nonce, "a sent its envelope with the nonce");
const pinnedByB = await b.acceptEnvelope(sent, "kernel.org-a");
must(pinnedByB.publicKey.toHex() === toHex(oracle.getPublicKey(seedA)), "b accepts what a sent, and pins a's key");`,
    },
  ],
  [
    'import { createVerifierPool } from "chio-trust/pool"; // or require("chio-trust/pool")',
    {
      sha256: "04b2ad6a819304cc",
      prelude: `
import { isDeepStrictEqual } from "node:util";
import { ed25519 as oracle } from "@noble/curves/ed25519.js";
import { KernelTrustExchange as Exchange, Keypair as Pair, verifyEnvelopeBytes } from "chio-trust";
const seed = oracle.utils.randomSecretKey();
const message = new TextEncoder().encode("verified in a worker");
const signature = oracle.sign(message, seed);
const publicKey = oracle.getPublicKey(seed);
const zip215 = false;
const moreItems = [{ signature, message: new TextEncoder().encode("another message"), publicKey }];
const items = [{ signature, message, publicKey }];
const sender = new Exchange("kernel.a", Pair.fromSeed(seed));
const bytesOrText = JSON.stringify(sender.localEnvelope("kernel.b", "readme-nonce-1"));
const moreEnvelopes = [new TextEncoder().encode(JSON.stringify(sender.localEnvelope("kernel.b", "readme-nonce-2"))), '{"not":"an envelope"}'];
const options = { maxBytes: 65536 };`,
      // The block keeps none of its answers: they are named here, and an aborted call and a
      // call after close() are added before and after its close().
      substitute: [
        ["await pool.verify(signature", () => "const single = await pool.verify(signature"],
        ["await pool.verifyBatch([{", () => "const batch = await pool.verifyBatch([{"],
        ["await pool.verifyEnvelopeBatch(", () => "const envelopes = await pool.verifyEnvelopeBatch("],
        ["await pool.verifyBatch(items, {", () => "const timed = await pool.verifyBatch(items, {"],
        [
          "await pool.close();",
          () => "const aborted = await pool.verifyBatch(items, { signal: AbortSignal.abort() }).then(() => \"resolved\", (error: { code?: string }) => error.code); await pool.close();",
        ],
      ],
      epilogue: `
must(single === oracle.verify(signature, message, publicKey) && single, "verify equals @noble/curves'");
const expected = [{ signature, message, publicKey }, ...moreItems].map((item) => oracle.verify(item.signature, item.message, item.publicKey));
must(JSON.stringify(batch) === JSON.stringify(expected) && JSON.stringify(expected) === "[true,false]", "verifyBatch equals @noble/curves' per item");
const inputs = [bytesOrText, ...moreEnvelopes];
must(envelopes.length === 3 && inputs.every((input, i) => isDeepStrictEqual(envelopes[i], verifyEnvelopeBytes(input, options))), "verifyEnvelopeBatch deep-equals verifyEnvelopeBytes on each");
must(JSON.stringify(timed) === "[true]", "a call with a signal that did not fire answers");
must(aborted === "ABORTED", "an aborted signal rejects ABORTED, got " + String(aborted));
const late = await Promise.resolve().then(() => pool.verify(signature, message, publicKey)).then(() => "resolved", (error: { code?: string }) => error.code);
must(late === "POOL_CLOSED", "a call after close() rejects POOL_CLOSED, got " + String(late));`,
    },
  ],
  [
    'import { ed25519, PreparedPublicKey } from "chio-trust";',
    {
      sha256: "5922a7ea96ba4902",
      prelude: `
import { ed25519 as oracle } from "@noble/curves/ed25519.js";
const seed = oracle.utils.randomSecretKey();
const publicKeyBytes = oracle.getPublicKey(seed);
const message = new TextEncoder().encode("checked under a prepared key");
const signature = oracle.sign(message, seed);`,
      substitute: [["ed25519.configurePreparedKeys({", () => "const bound = ed25519.configurePreparedKeys({"]],
      epilogue: `
must(key instanceof PreparedPublicKey, "preparePublicKey gives a PreparedPublicKey");
must(ed25519.verify(signature, message, key) && !ed25519.verify(signature, new Uint8Array(1), key), "a freed key still verifies (prepared again), as @noble/curves signed");
must(bound.maxBytes === 1 << 20, "configurePreparedKeys reports the bound it set");
const notAPoint = new Uint8Array(32);
notAPoint[0] = 2; // y = 2: (y^2 - 1) / (d y^2 + 1) is not a square
let oracleRefuses = false;
try {
  oracle.Point.fromBytes(notAPoint);
} catch {
  oracleRefuses = true;
}
let name = "";
try {
  ed25519.preparePublicKey(notAPoint);
} catch (error) {
  name = (error as Error).name;
}
must(oracleRefuses && name === "InvalidPublicKeyError", "a non-point (as @noble/curves says) is InvalidPublicKeyError, got " + name);`,
    },
  ],
  [
    'import { KernelTrustExchange } from "chio-trust";',
    {
      sha256: "4b568aca4ee47bbf",
      prelude: `
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { ed25519 as oracle } from "@noble/curves/ed25519.js";
import { Keypair as Pair, PublicKey as Key } from "chio-trust";
const seed = oracle.utils.randomSecretKey();
const keypair = Pair.fromSeed(seed);
const storeFile = fileURLToPath(new URL("trust.db", import.meta.url));
must(!existsSync(storeFile), "no store file before the block");`,
      substitute: [["/var/lib/kernel/trust.db", ({ dir }) => path.join(dir, "trust.db")]],
      epilogue: `
must(existsSync(storeFile), "the block made its store file");
// A handshake on the same file, through both stores, as the block's "... handshakes ..." would.
const remoteSeed = oracle.utils.randomSecretKey();
const remote = new KernelTrustExchange("kernel.org-b", Pair.fromSeed(remoteSeed));
const reopenedPeers = new SqlitePeerStore(storeFile, { origin: "kernel.org-a" });
const reopenedReplay = new SqliteReplayStore(storeFile);
const local = new KernelTrustExchange("kernel.org-a", keypair, { store: reopenedPeers, replayStore: reopenedReplay }).withTrustedPeer("kernel.org-b", Key.fromBytes(oracle.getPublicKey(remoteSeed)));
await local.acceptEnvelope(JSON.stringify(remote.localEnvelope("kernel.org-a", "readme-nonce")), "kernel.org-b");
reopenedPeers.close();
reopenedReplay.close();
const again = new SqlitePeerStore(storeFile);
const records = again.records();
again.close();
must(records.length === 1 && records[0].peer.kernelId === "kernel.org-b" && records[0].origin === "kernel.org-a", "the pin is in the file, with its origin");
must(records[0].peer.publicKey.toHex() === toHex(oracle.getPublicKey(remoteSeed)), "under the key @noble/curves derives");`,
    },
  ],
  [
    'import { createHandshakeServer, handshakeWith } from "chio-trust/http";',
    {
      sha256: "4664641cba15682d",
      prelude: `
import { ed25519 as oracle } from "@noble/curves/ed25519.js";
import { KernelTrustExchange as Exchange, Keypair as Pair, PublicKey as Key } from "chio-trust";
const seedA = oracle.utils.randomSecretKey();
const seedB = oracle.utils.randomSecretKey();
const exchangeA = new Exchange("kernel.a", Pair.fromSeed(seedA)).withTrustedPeer("kernel.b", Key.fromBytes(oracle.getPublicKey(seedB)));
const exchangeB = new Exchange("kernel.b", Pair.fromSeed(seedB)).withTrustedPeer("kernel.a", Key.fromBytes(oracle.getPublicKey(seedA)));`,
      substitute: [
        ["listen(8700,", ({ port }) => `listen(${port},`],
        ["127.0.0.1:8700", ({ port }) => `127.0.0.1:${port}`],
      ],
      epilogue: `
must(peer.kernelId === "kernel.b" && peer.publicKey.toHex() === toHex(oracle.getPublicKey(seedB)), "a pinned b's key");
must((await exchangeB.resolve("kernel.a")).publicKey.toHex() === toHex(oracle.getPublicKey(seedA)), "b pinned a's key");`,
    },
  ],
  [
    'import { KernelTrustExchange, Keypair } from "chio-trust";',
    {
      sha256: "cbb93205b86ceb45",
      tier: "cluster",
      // The block's elided anchor is RFC 8032 §7.1 TEST 2's public key (3d4017c3…); kernel.b
      // here signs with that test's secret key.
      prelude: `
import { ed25519 as oracle } from "@noble/curves/ed25519.js";
const keypair = Keypair.fromSeed(oracle.utils.randomSecretKey());
const seedB = Uint8Array.from(Buffer.from("${RFC8032_TEST2_SECRET}", "hex"));`,
      substitute: [['"3d4017c3…"', () => JSON.stringify(RFC8032_TEST2_PUBLIC)]],
      epilogue: `
must(toHex(oracle.getPublicKey(seedB)) === "${RFC8032_TEST2_PUBLIC}", "RFC 8032 TEST 2's key pair");
const unknown = await exchange.resolve("kernel.b").then(() => "resolved", (error: { code?: string }) => error.code);
must(unknown === "PEER_NOT_PINNED", "nothing pinned before the handshake, got " + String(unknown));
const envelope = JSON.stringify(new KernelTrustExchange("kernel.b", Keypair.fromSeed(seedB)).localEnvelope("kernel.a", "readme-nonce"));
await exchange.acceptEnvelope(envelope, "kernel.b");
must((await exchange.resolve("kernel.b")).publicKey.toHex() === "${RFC8032_TEST2_PUBLIC}", "kernel.b pinned under its anchor");
// A second replica on the same database: it sees the pin, and refuses the same envelope again.
const replica = new KernelTrustExchange("kernel.a", keypair, {
  config: { maxHandshakeSkewSecs: 300 },
  trustedPeers: { "kernel.b": "${RFC8032_TEST2_PUBLIC}" },
  store: await PostgresPeerStore.open(url, options),
  replayStore: await PostgresReplayStore.open(url, { ...options, maxSkewSecs: 300 }),
});
must((await replica.resolve("kernel.b")).publicKey.toHex() === "${RFC8032_TEST2_PUBLIC}", "the replica resolves the same pin");
const replayed = await replica.acceptEnvelope(envelope, "kernel.b").then(() => "accepted", (error: { code?: string }) => error.code);
must(replayed === "REPLAYED_NONCE", "the replica refuses the replayed envelope, got " + String(replayed));`,
    },
  ],
]);

/** The entry for a README block: by its first line (the entry's sha256 says whether the rest is the same). */
export function readmeExample(block: ReadmeBlock): ReadmeExample | undefined {
  return README_TS_EXAMPLES.get(block.code.split("\n")[0]);
}

/**
 * Makes `dir`'s node_modules resolve chio-trust (this repository, as installed) and, from this
 * repository's dev dependencies, the oracles the epilogues import and the libraries the
 * "Migrating" diffs replace.
 */
function linkExampleModules(dir: string): void {
  const modules = path.join(dir, "node_modules");
  mkdirSync(path.join(modules, "@noble"), { recursive: true });
  if (!existsSync(path.join(modules, "chio-trust"))) symlinkSync(repoRoot, path.join(modules, "chio-trust"), "dir");
  for (const name of ["@noble/curves", "@noble/hashes", "@noble/ed25519", "canonicalize", "tweetnacl"]) {
    const link = path.join(modules, name);
    if (!existsSync(link)) symlinkSync(path.join(repoRoot, "node_modules", name), link, "dir");
  }
}

/** Writes the example module for `block` into `dir` (example-L<line>.mts) and returns its path. */
export function writeExampleModule(dir: string, block: ReadmeBlock, context: ExampleContext): string {
  const example = readmeExample(block);
  if (!example) throw new Error(`no prelude for the README block at line ${block.line}`);
  linkExampleModules(dir);
  let code = block.code;
  for (const [from, to] of example.substitute ?? []) {
    if (!code.includes(from)) throw new Error(`README block at line ${block.line} no longer holds ${JSON.stringify(from)}`);
    code = code.replaceAll(from, to(context));
  }
  const file = path.join(dir, `example-L${block.line}.mts`);
  writeFileSync(file, [HEADER, example.prelude, `// README.md line ${block.line}, as written:`, code, example.epilogue, FOOTER, ""].join("\n"));
  return file;
}

/** How one ```diff block of the README's "Migrating" section is run and checked. */
export interface ReadmeDiffExample {
  /** As ReadmeExample.sha256: the first 16 hex digits of the SHA-256 of the block's whole text. */
  sha256: string;
  /**
   * TypeScript placed before either side of the diff: imports under names neither side uses,
   * then the values the diff's lines and the epilogue use.
   */
  prelude: string;
  /**
   * TypeScript placed after either side, the same for both: the call sites an import-only diff
   * keeps, checks by `must`, and last a line of JSON that must read the same before and after.
   */
  epilogue: string;
}

/** RFC 8032 §7.1 TEST 2: a seed, its public key, and its signature of the one-byte message 0x72. */
const RFC8032_TEST2_VALUES = `
const seed = Uint8Array.from(Buffer.from("${RFC8032_TEST2.secretKey}", "hex"));
const expectedPublicKey = "${RFC8032_TEST2.publicKey}";
const message = Uint8Array.of(0x${RFC8032_TEST2.message});
const expectedSignature = "${RFC8032_TEST2.signature}";
const otherMessage = Uint8Array.of(0x73);`;

export const README_DIFF_EXAMPLES = new Map<string, ReadmeDiffExample>([
  [
    '- import * as ed from "@noble/ed25519";',
    {
      sha256: "2a44b7d2a12507fc",
      prelude: `
import { sha512 as sha512Provider } from "@noble/hashes/sha2.js";${RFC8032_TEST2_VALUES}`,
      epilogue: `
// noble's README sets up its hash for the synchronous API; ours needs none and still takes it.
ed.hashes.sha512 = sha512Provider;
const publicKey = ed.getPublicKey(seed);
const signature = ed.sign(message, seed);
let wrongLength = "no error";
try {
  ed.sign(message, seed.subarray(1));
} catch (error) {
  wrongLength = error instanceof RangeError ? "RangeError" : String(error);
}
const results = {
  publicKey: ed.etc.bytesToHex(publicKey),
  signature: ed.etc.bytesToHex(signature),
  verifies: ed.verify(signature, message, publicKey),
  strict: ed.verify(signature, message, publicKey, { zip215: false }),
  tampered: ed.verify(signature, otherMessage, publicKey),
  asyncPublicKey: ed.etc.bytesToHex(await ed.getPublicKeyAsync(seed)),
  asyncSignature: ed.etc.bytesToHex(await ed.signAsync(message, seed)),
  asyncVerifies: await ed.verifyAsync(signature, message, publicKey),
  keygen: ed.etc.bytesToHex(ed.keygen(seed).publicKey),
  hash: ed.etc.bytesToHex(ed.hash(message)),
  point: ed.Point.fromBytes(publicKey).toHex(),
  wrongLength,
};
must(results.publicKey === expectedPublicKey && results.signature === expectedSignature, "RFC 8032 TEST 2's key and signature");
must(results.verifies && results.strict && results.asyncVerifies && !results.tampered, "verify accepts the signature, not another message's");
console.log(JSON.stringify(results));`,
    },
  ],
  [
    '- import nacl from "tweetnacl";',
    {
      sha256: "498ce5493a27b1ae",
      prelude: RFC8032_TEST2_VALUES,
      epilogue: `
const pair = nacl.sign.keyPair.fromSeed(seed);
const signature = nacl.sign.detached(message, pair.secretKey);
const signed = nacl.sign(message, pair.secretKey);
const forged = signed.slice();
forged[0] ^= 1;
const opened = nacl.sign.open(signed, pair.publicKey);
const results = {
  publicKey: toHex(pair.publicKey),
  secretKey: toHex(pair.secretKey),
  signature: toHex(signature),
  verifies: nacl.sign.detached.verify(message, signature, pair.publicKey),
  tampered: nacl.sign.detached.verify(otherMessage, signature, pair.publicKey),
  signed: toHex(signed),
  opened: opened === null ? null : toHex(opened),
  forged: nacl.sign.open(forged, pair.publicKey),
  fromSecretKey: toHex(nacl.sign.keyPair.fromSecretKey(pair.secretKey).publicKey),
  lengths: [nacl.sign.publicKeyLength, nacl.sign.secretKeyLength, nacl.sign.seedLength, nacl.sign.signatureLength],
  hash: toHex(nacl.hash(message)),
  equal: [nacl.verify(signature, signature.slice()), nacl.verify(signature, signed.subarray(0, 64).reverse())],
  randomLength: nacl.randomBytes(16).length,
};
must(results.publicKey === expectedPublicKey && results.signature === expectedSignature, "RFC 8032 TEST 2's key and signature");
must(results.verifies && !results.tampered && results.opened === toHex(message) && results.forged === null, "verify and open accept the signature only");
console.log(JSON.stringify(results));`,
    },
  ],
  [
    '- import { sign, verify, createPrivateKey, createPublicKey } from "node:crypto";',
    {
      sha256: "cef9309fecde8317",
      prelude: `
import { createPrivateKey as makePrivateKey, createPublicKey as makePublicKey } from "node:crypto";${RFC8032_TEST2_VALUES}
// The KeyObjects of the seed (PKCS#8 DER: a fixed prefix, then the seed) and the raw public key.
const privateKeyObject = makePrivateKey({ key: Buffer.concat([Buffer.from("302e020100300506032b657004220420", "hex"), seed]), format: "der", type: "pkcs8" });
const publicKeyObject = makePublicKey(privateKeyObject);
const publicKey = new Uint8Array(publicKeyObject.export({ format: "der", type: "spki" }).subarray(12));`,
      epilogue: `
must(toHex(publicKey) === expectedPublicKey, "RFC 8032 TEST 2's public key");
must(toHex(sig) === expectedSignature, "RFC 8032 TEST 2's signature");
must(ok === true, "verify accepts it");
console.log(JSON.stringify({ signature: toHex(sig), ok }));`,
    },
  ],
]);

/** The entry for a README ```diff block: by its first line. */
export function readmeDiffExample(block: ReadmeBlock): ReadmeDiffExample | undefined {
  return README_DIFF_EXAMPLES.get(block.code.split("\n")[0]);
}

/**
 * The two programs a ```diff block stands for: its "- " lines (before) and its "+ " lines (after),
 * with any unchanged lines ("  ") in both. Any other line is an error: the block is not a diff
 * this can run.
 */
export function diffSides(block: ReadmeBlock): { before: string; after: string } {
  const before: string[] = [];
  const after: string[] = [];
  for (const line of block.code.split("\n")) {
    if (line.startsWith("- ")) before.push(line.slice(2));
    else if (line.startsWith("+ ")) after.push(line.slice(2));
    else if (line.startsWith("  ")) {
      before.push(line.slice(2));
      after.push(line.slice(2));
    } else throw new Error(`README line ${block.line}: a diff line that is neither "- ", "+ " nor "  ": ${JSON.stringify(line)}`);
  }
  return { before: before.join("\n"), after: after.join("\n") };
}

/**
 * Writes the two modules of a "Migrating" diff into `dir` (diff-L<line>-before.mts and
 * -after.mts): each the prelude, that side's lines as written, then the epilogue. Returns their paths.
 */
export function writeDiffModules(dir: string, block: ReadmeBlock): { before: string; after: string } {
  const example = readmeDiffExample(block);
  if (!example) throw new Error(`no entry for the README diff at line ${block.line}`);
  linkExampleModules(dir);
  const sides = diffSides(block);
  const write = (side: "before" | "after") => {
    const file = path.join(dir, `diff-L${block.line}-${side}.mts`);
    writeFileSync(file, [HEADER, example.prelude, `// README.md line ${block.line}, the diff's ${side === "before" ? '"-"' : '"+"'} side as written:`, sides[side], example.epilogue, FOOTER, ""].join("\n"));
    return file;
  };
  return { before: write("before"), after: write("after") };
}
