// The README's fenced code blocks, and what test/node/readme-examples.test.ts (and, for the
// Postgres block, test/cluster/readme-postgres.test.ts) put around each ```ts block to run it as
// written: a prelude that defines the free names the block uses (never one it defines itself),
// literal substitutions for what a test cannot use as printed, and an epilogue that checks what
// the block's comments promise. Keyed by the block's first line: a block whose first line changes
// has to be covered again here, so no README example goes unrun.
import { mkdirSync, symlinkSync, writeFileSync, existsSync } from "node:fs";
import path from "node:path";
import { ed25519 as noble } from "@noble/curves/ed25519.js";
import { repoRoot } from "./processes.js";

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

/** Every fenced block of `markdown` (fences at the start of a line), in order. */
export function readmeBlocks(markdown: string): ReadmeBlock[] {
  const lines = markdown.split("\n");
  const blocks: ReadmeBlock[] = [];
  let heading = "";
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    if (/^#{1,6} /.test(line)) heading = line.replace(/^#+ /, "");
    const fence = /^```(\w*)\s*$/.exec(line);
    if (!fence) continue;
    const end = lines.indexOf("```", i + 1);
    if (end < 0) throw new Error(`README line ${i + 1}: a fence that is never closed`);
    blocks.push({ lang: fence[1], code: lines.slice(i + 1, end).join("\n"), line: i + 2, heading });
    i = end;
  }
  return blocks;
}

/** Where a block runs: every tier needs nothing but Node, except the Postgres block. */
export interface ReadmeExample {
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

/** A fixed key for the Postgres block's elided anchor ("3d4017c3…"). */
const POSTGRES_ANCHOR_HEX = Buffer.from(noble.getPublicKey(new Uint8Array(32).fill(3))).toString("hex");

export const README_TS_EXAMPLES = new Map<string, ReadmeExample>([
  [
    'import { ed25519 } from "chio-trust"; // or: const { ed25519 } = require("chio-trust")',
    {
      prelude: `
import { ed25519 as oracle } from "@noble/curves/ed25519.js";
const message = new TextEncoder().encode("a message from the README");
const otherSeed = oracle.utils.randomSecretKey();
const moreItems = [{ signature: oracle.sign(message, otherSeed), message, publicKey: oracle.getPublicKey(otherSeed) }];`,
      epilogue: `
must(toHex(publicKey) === toHex(oracle.getPublicKey(secretKey)), "getPublicKey equals @noble/curves'");
must(toHex(signature) === toHex(oracle.sign(message, secretKey)), "sign equals @noble/curves' (deterministic)");
must(ed25519.verify(signature, message, publicKey) && (await ed25519.verifyAsync(signature, message, publicKey)), "verify and verifyAsync accept");
const wrong = new TextEncoder().encode("another message");
must(JSON.stringify(ed25519.verifyBatch([{ signature, message, publicKey }, ...moreItems, { signature, message: wrong, publicKey }])) === "[true,true,false]", "verifyBatch answers per item");`,
    },
  ],
  [
    "const key = ed25519.prepareSecretKey(secretKey);  // PreparedSecretKey: holds a slot index, not the secret",
    {
      prelude: `
import { ed25519 } from "chio-trust";
import { ed25519 as oracle } from "@noble/curves/ed25519.js";
const secretKey = ed25519.utils.randomSecretKey();
const message = new TextEncoder().encode("signed under a prepared key");`,
      epilogue: `
let code: unknown;
try {
  ed25519.sign(message, key);
} catch (error) {
  code = (error as { code?: unknown }).code;
}
must(code === "KEY_DESTROYED", "sign after destroy() throws KEY_DESTROYED, got " + String(code));
const again = ed25519.prepareSecretKey(secretKey);
must(toHex(again.publicKey) === toHex(oracle.getPublicKey(secretKey)), "publicKey equals @noble/curves'");
must(toHex(ed25519.sign(message, again)) === toHex(oracle.sign(message, secretKey)), "signatures under the prepared key equal @noble/curves'");
again.destroy();`,
    },
  ],
  [
    'import { canonicalize, canonicalBytes, canonicalizeJson, verifyEnvelopeBytes, verifyEnvelopeBatch } from "chio-trust";',
    {
      prelude: `
import { ed25519 as chioEd25519, KernelTrustExchange as Exchange, Keypair as Pair } from "chio-trust";
const sender = new Exchange("kernel.a", Pair.fromSeed(chioEd25519.utils.randomSecretKey()));
const requestBody = new TextEncoder().encode(JSON.stringify(sender.localEnvelope("kernel.b", "readme-nonce")));
const bodies = [requestBody, '{"not":"an envelope"}'];`,
      epilogue: `
must(canonicalize({ b: 1, a: [true, null] }) === '{"a":[true,null],"b":1}', "canonicalize as its comment says");
must(new TextDecoder().decode(canonicalizeJson('{"z": 1e20, "a": "\\\\u00e9"}')) === '{"a":"\\u00e9","z":100000000000000000000}', "canonicalizeJson as its comment says");
must(verdict.ok && verdict.envelope.challenge.localKernelId === "kernel.a", "the envelope verifies");
const verdicts = verifyEnvelopeBatch(bodies);
must(verdicts.length === 2 && verdicts[0].ok && !verdicts[1].ok && verdicts[1].code === "MALFORMED_ENVELOPE", "one verdict per body");`,
    },
  ],
  [
    'import { KernelTrustExchange, Keypair, PublicKey } from "chio-trust";',
    {
      prelude: `
import { ed25519 as chioEd25519, KernelTrustExchange as Exchange, Keypair as Pair, PublicKey as Key } from "chio-trust";
const seedA = chioEd25519.utils.randomSecretKey();
const seedB = chioEd25519.utils.randomSecretKey();
const anchorB = toHex(chioEd25519.getPublicKey(seedB));
const nonce = "readme-nonce-a";
let sent = "";
const send = (text: string): void => {
  sent = text;
};
const b = new Exchange("kernel.org-b", Pair.fromSeed(seedB)).withTrustedPeer("kernel.org-a", Key.fromBytes(chioEd25519.getPublicKey(seedA)));
const receivedJsonText = JSON.stringify(b.localEnvelope("kernel.org-a", "readme-nonce-b"));`,
      epilogue: `
must(peer.publicKey.toHex() === anchorB, "a pinned b's key");
must((await a.resolve("kernel.org-b")).publicKey.toHex() === anchorB, "resolve gives the pin");
const pinnedByB = await b.acceptEnvelope(sent, "kernel.org-a");
must(pinnedByB.publicKey.toHex() === toHex(chioEd25519.getPublicKey(seedA)), "b accepts what a sent, and pins a's key");`,
    },
  ],
  [
    'import { createVerifierPool } from "chio-trust/pool"; // or require("chio-trust/pool")',
    {
      prelude: `
import { ed25519 as chioEd25519, KernelTrustExchange as Exchange, Keypair as Pair } from "chio-trust";
const seed = chioEd25519.utils.randomSecretKey();
const message = new TextEncoder().encode("verified in a worker");
const signature = chioEd25519.sign(message, seed);
const publicKey = chioEd25519.getPublicKey(seed);
const zip215 = false;
const moreItems = [{ signature, message: new TextEncoder().encode("another message"), publicKey }];
const items = [{ signature, message, publicKey }];
const sender = new Exchange("kernel.a", Pair.fromSeed(seed));
const bytesOrText = JSON.stringify(sender.localEnvelope("kernel.b", "readme-nonce-1"));
const moreEnvelopes = [new TextEncoder().encode(JSON.stringify(sender.localEnvelope("kernel.b", "readme-nonce-2")))];
const options = { maxBytes: 65536 };`,
      // The block's answers are not kept by it; that each call resolved (none threw) is its check.
      epilogue: "",
    },
  ],
  [
    'import { ed25519, PreparedPublicKey } from "chio-trust";',
    {
      prelude: `
import { ed25519 as oracle } from "@noble/curves/ed25519.js";
const seed = oracle.utils.randomSecretKey();
const publicKeyBytes = oracle.getPublicKey(seed);
const message = new TextEncoder().encode("checked under a prepared key");
const signature = oracle.sign(message, seed);`,
      epilogue: `
const prepared = ed25519.preparePublicKey(publicKeyBytes);
must(ed25519.verify(signature, message, prepared) && !ed25519.verify(signature, new Uint8Array(1), prepared), "verdicts equal @noble/curves' signing");
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
      prelude: `
import { ed25519 as chioEd25519, Keypair as Pair } from "chio-trust";
import { fileURLToPath as toPath } from "node:url";
const keypair = Pair.fromSeed(chioEd25519.utils.randomSecretKey());`,
      substitute: [["/var/lib/kernel/trust.db", ({ dir }) => path.join(dir, "trust.db")]],
      epilogue: `
must(exchange.localKernelId === "kernel.org-a", "the exchange was made on the stores");
const reopened = new SqlitePeerStore(toPath(new URL("trust.db", import.meta.url)));
must(reopened.records().length === 0, "the file is a peer store, empty before any handshake");
reopened.close();`,
    },
  ],
  [
    'import { createHandshakeServer, handshakeWith } from "chio-trust/http";',
    {
      prelude: `
import { ed25519 as chioEd25519, KernelTrustExchange as Exchange, Keypair as Pair, PublicKey as Key } from "chio-trust";
const seedA = chioEd25519.utils.randomSecretKey();
const seedB = chioEd25519.utils.randomSecretKey();
const exchangeA = new Exchange("kernel.a", Pair.fromSeed(seedA)).withTrustedPeer("kernel.b", Key.fromBytes(chioEd25519.getPublicKey(seedB)));
const exchangeB = new Exchange("kernel.b", Pair.fromSeed(seedB)).withTrustedPeer("kernel.a", Key.fromBytes(chioEd25519.getPublicKey(seedA)));`,
      substitute: [["8700", ({ port }) => String(port)]],
      epilogue: `
must(peer.publicKey.toHex() === toHex(chioEd25519.getPublicKey(seedB)), "a pinned b's key");
must((await exchangeB.resolve("kernel.a")).publicKey.toHex() === toHex(chioEd25519.getPublicKey(seedA)), "b pinned a's key");`,
    },
  ],
  [
    'import { KernelTrustExchange, Keypair } from "chio-trust";',
    {
      tier: "cluster",
      prelude: `
const keypair = Keypair.fromSeed(new Uint8Array(32).fill(1));`,
      substitute: [['"3d4017c3…"', () => JSON.stringify(POSTGRES_ANCHOR_HEX)]],
      epilogue: `
must((await exchange.resolve("kernel.b").catch((error: { code?: string }) => error.code)) === "PEER_NOT_PINNED", "nothing pinned yet");`,
    },
  ],
]);

/**
 * Writes the example module for `block` into `dir` (example-L<line>.mts) and returns its path;
 * makes `dir`'s node_modules resolve chio-trust (this repository, as installed) and @noble/curves.
 */
export function writeExampleModule(dir: string, block: ReadmeBlock, context: ExampleContext): string {
  const example = README_TS_EXAMPLES.get(block.code.split("\n")[0]);
  if (!example) throw new Error(`no prelude for the README block at line ${block.line}`);
  const modules = path.join(dir, "node_modules");
  mkdirSync(path.join(modules, "@noble"), { recursive: true });
  if (!existsSync(path.join(modules, "chio-trust"))) symlinkSync(repoRoot, path.join(modules, "chio-trust"), "dir");
  const curves = path.join(modules, "@noble", "curves");
  if (!existsSync(curves)) symlinkSync(path.join(repoRoot, "node_modules", "@noble", "curves"), curves, "dir");
  let code = block.code;
  for (const [from, to] of example.substitute ?? []) {
    if (!code.includes(from)) throw new Error(`README block at line ${block.line} no longer holds ${JSON.stringify(from)}`);
    code = code.replaceAll(from, to(context));
  }
  const file = path.join(dir, `example-L${block.line}.mts`);
  writeFileSync(file, [HEADER, example.prelude, `// README.md line ${block.line}, as written:`, code, example.epilogue, FOOTER, ""].join("\n"));
  return file;
}
