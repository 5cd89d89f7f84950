// Key files of the command line (src/cli/kernel.ts), through its own functions: writeKeyFile
// leaves no copy of the seed in Node's shared Buffer pool (review 70 F2), and readKeyFile decodes
// the seed's 64 hex digits in either case, with whitespace and a byte-order mark around them,
// refusing anything else (review 70 F4 replaced the regex and hex string by a masked decoder).
import { test } from "uvu";
import * as assert from "uvu/assert";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readKeyFile, writeKeyFile } from "../../src/cli/kernel.js";
import { CliError } from "../../src/cli/errors.js";
import { watchCopies } from "../helpers/copy-watch.js";
import { nodePublicKeyBytes } from "../helpers/ed25519-oracles.js";

const dir = mkdtempSync(join(tmpdir(), "chio-key-file-"));
const file = (name: string) => join(dir, name);

/** node:crypto's public key for a seed, as hex: the independent oracle. */
const nodePublicKeyHex = (seed: Uint8Array): string => Buffer.from(nodePublicKeyBytes(seed)).toString("hex");

test("writeKeyFile leaves neither the seed nor its hex in Node's shared Buffer pool", () => {
  const pool = new Uint8Array(Buffer.from([1]).buffer); // the pool slab small Buffers are cut from now
  const { keypair } = writeKeyFile(file("pool.seed"), false);
  const snapshot = pool.slice(); // before this test makes Buffers of its own
  const seed = keypair.seedBytes();
  const hex = new Uint8Array(64);
  for (let i = 0; i < 32; i++) {
    hex[2 * i] = "0123456789abcdef".charCodeAt(seed[i] >> 4);
    hex[2 * i + 1] = "0123456789abcdef".charCodeAt(seed[i] & 15);
  }
  assert.is(readFileSync(file("pool.seed"), "latin1"), String.fromCharCode(...hex) + "\n", "the file holds the seed's hex and a line feed");
  const find = (haystack: Uint8Array, needle: Uint8Array) => {
    for (let i = 0; i + needle.length <= haystack.length; i++) if (needle.every((b, k) => haystack[i + k] === b)) return i;
    return -1;
  };
  assert.is(find(snapshot, seed), -1, "the raw seed is in the pool slab");
  assert.is(find(snapshot, hex), -1, "the seed's hex is in the pool slab");
  assert.is(keypair.publicKey.toHex(), nodePublicKeyHex(seed));
  keypair.destroy();
  seed.fill(0);
});

test("readKeyFile: 64 hex digits in either case, with ASCII whitespace and a BOM around them, give node:crypto's key; anything else is KEY_FILE_INVALID", () => {
  const seed = new Uint8Array(32).map((_, i) => (i * 37 + 200) & 0xff);
  const hex = Buffer.from(seed).toString("hex");
  const expected = nodePublicKeyHex(seed);
  const accepted = [hex + "\n", hex.toUpperCase(), `\ufeff${hex}\r\n`, ` \t${hex.slice(0, 10).toUpperCase()}${hex.slice(10)}\x0b\x0c\n`];
  for (const [i, text] of accepted.entries()) {
    writeFileSync(file(`ok-${i}.seed`), text, { mode: 0o600 });
    const keypair = readKeyFile(file(`ok-${i}.seed`));
    assert.is(keypair.publicKey.toHex(), expected, JSON.stringify(text));
    keypair.destroy();
  }
  const refused = [
    hex.slice(0, 63),
    hex + "0",
    hex.slice(0, 20) + "g" + hex.slice(21),
    hex.slice(0, 63) + "/",
    ":" + hex.slice(1),
    hex.slice(0, 31) + " " + hex.slice(32),
    hex.slice(0, 40) + "\u00e9" + hex.slice(42), // a two-byte character where two digits were
    "\u00a0" + hex, // a non-ASCII space
    "",
  ];
  for (const [i, text] of refused.entries()) {
    writeFileSync(file(`bad-${i}.seed`), text, { mode: 0o600 });
    try {
      readKeyFile(file(`bad-${i}.seed`));
      assert.unreachable(`accepted ${JSON.stringify(text)}`);
    } catch (error) {
      assert.instance(error, CliError, String(error));
      assert.is((error as CliError).code, "KEY_FILE_INVALID", JSON.stringify(text));
    }
  }
});

test("a keygen that fails leaves no copy of its seed: the keypair is destroyed (review 73 F8)", () => {
  const watch = watchCopies();
  let code: string | undefined;
  try {
    writeKeyFile(join(dir, "no-such-folder", "key.seed"), false);
  } catch (error) {
    code = (error as CliError).code;
  } finally {
    watch.stop();
  }
  assert.is(code, "KEY_FILE_UNWRITABLE");
  const seedSized = watch.targets.filter((copy) => copy.byteLength === 32) as Uint8Array[];
  assert.ok(seedSized.length >= 1, "the keypair's copy of its seed was seen");
  for (const copy of seedSized) assert.ok(copy.every((b) => b === 0), "a copy of the seed was left unwiped");
});

test.after(() => rmSync(dir, { recursive: true, force: true }));

test.run();
