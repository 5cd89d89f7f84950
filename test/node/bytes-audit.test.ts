// Byte-input handling and typed errors (src/bytes.ts, src/errors.ts, src/sha512.ts): cases a
// mutation audit found no test would notice going wrong. Each test names what it guards. Oracles:
// Buffer's hex, node:crypto's SHA-512, and the codes of docs/protocol.md §9.1.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { fileURLToPath } from "node:url";
import {
  bytesToHex,
  ed25519,
  hexToBytes,
  InvalidHexError,
  InvalidTypeError,
  Keypair,
  PublicKey,
  Signature,
  verifyEnvelopeBatch,
} from "../../src/index.js";
import nacl from "../../src/compat/tweetnacl.js";
import { throwsWith } from "../helpers/assert-codes.js";
import { hash as nobleHash } from "../../src/compat/noble-ed25519.js";

const bufferHex = (bytes: Uint8Array) => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("hex");

/** throwsWith (test/helpers/assert-codes.ts), and the error is also of `kind` and a TypeError. */
function throwsKind(fn: () => unknown, code: string, kind: new (...args: never[]) => Error, what?: string): Error {
  const error = throwsWith(fn, code);
  assert.instance(error, kind, what);
  assert.instance(error, TypeError, what);
  return error;
}
const expectHexError = (fn: () => unknown, what?: string) => throwsKind(fn, "INVALID_HEX", InvalidHexError, what);
const expectTypeError = (fn: () => unknown, what?: string) => throwsKind(fn, "INVALID_TYPE", InvalidTypeError, what);

// A mutation audit found that hexToBytes could drop the last digit of an odd-length string (and
// return the bytes before it) unnoticed: the documented behaviour is INVALID_HEX.
test("hexToBytes: an odd number of digits is INVALID_HEX, never the bytes before the last digit", () => {
  for (const hex of ["a", "abc", "0", "ab".repeat(32) + "f", "0x" + "ab".repeat(16) + "0"]) {
    expectHexError(() => hexToBytes(hex), JSON.stringify(hex));
  }
  expectHexError(() => hexToBytes("0xabc", { allowPrefix: true }));
  assert.equal(Array.from(hexToBytes("")), []);
  // The same digits, even: Buffer's hex agrees.
  assert.is(bufferHex(hexToBytes("ab".repeat(32) + "f0")), "ab".repeat(32) + "f0");
});

// A mutation audit found that hexToBytes could skip a "0x" prefix without `allowPrefix`
// unnoticed: only chio's wire hex (PublicKey/Signature.fromHex) takes one; the plain helper
// (and the CLI's NDJSON fields read through it) refuses it.
test("hexToBytes: a 0x prefix is INVALID_HEX unless allowPrefix, and then only lowercase 0x", () => {
  expectHexError(() => hexToBytes("0xab"));
  expectHexError(() => hexToBytes("0x" + "00".repeat(32)));
  expectHexError(() => hexToBytes("0xab", { allowPrefix: false }));
  assert.is(bufferHex(hexToBytes("0xab", { allowPrefix: true })), "ab");
  assert.is(bufferHex(hexToBytes("0xAbCd", { allowPrefix: true })), "abcd");
  expectHexError(() => hexToBytes("0Xab", { allowPrefix: true }));
});

// A mutation audit found that hexToBytes could answer a non-string with InvalidHexError
// (INVALID_HEX) unnoticed: a wrong type is INVALID_TYPE (docs/protocol.md §9.1), PublicKey.fromHex
// checks its own argument first, so only the exported helper showed it.
test("hexToBytes: anything but a string is InvalidTypeError (INVALID_TYPE), not INVALID_HEX", () => {
  for (const bad of [42, null, undefined, new Uint8Array(2), ["ab"], { length: 2 }, new String("ab")]) {
    const error = expectTypeError(() => hexToBytes(bad as unknown as string), String(bad));
    assert.not.ok(error instanceof InvalidHexError);
  }
});

// The same audit found hexToBytes reading `allowPrefix` through Object.prototype and its digits
// with the realm's String.prototype.charCodeAt as it was at the call, and PublicKey.fromHex (trust
// anchors, wire keys) testing the prefix with String.prototype.startsWith: caller code could then
// change which key an anchor names after the library had loaded (README "Hardening": built-ins
// captured at load, options read by memberOf). Oracle: Buffer's hex.
test("hexToBytes and PublicKey.fromHex: a polluted Object.prototype.allowPrefix and replaced charCodeAt / startsWith change nothing", () => {
  const keyHex = bufferHex(ed25519.getPublicKey(new Uint8Array(32).fill(3)));
  const protoHolder = Object.prototype as Record<string, unknown>;
  const stringProto = String.prototype as unknown as Record<string, unknown>;
  const realCharCodeAt = String.prototype.charCodeAt;
  const realStartsWith = String.prototype.startsWith;
  try {
    protoHolder.allowPrefix = true;
    expectHexError(() => hexToBytes("0xab"), "Object.prototype.allowPrefix is not an option");
    expectHexError(() => hexToBytes("0xab", {}), "nor through an empty options object");
    assert.equal(bufferHex(hexToBytes("0xab", Object.create({ allowPrefix: true }))), "ab", "a prototype of the caller's own counts");
    delete protoHolder.allowPrefix;
    stringProto.charCodeAt = () => 48;
    stringProto.startsWith = () => true;
    assert.is(bufferHex(hexToBytes("ffA0")), "ffa0");
    assert.is(PublicKey.fromHex(keyHex).toHex(), keyHex);
    assert.is(PublicKey.fromHex("0x" + keyHex).toHex(), keyHex);
  } finally {
    delete protoHolder.allowPrefix;
    stringProto.charCodeAt = realCharCodeAt;
    stringProto.startsWith = realStartsWith;
  }
  for (const options of [null, 1, "allowPrefix"]) {
    expectTypeError(() => hexToBytes("ab", options as never), `options ${String(options)}`);
  }
});

// A mutation audit found that bytesToHex could measure its argument by its `length` property
// (which a subclass or a changed prototype can make lie) unnoticed: it reads the internal slot,
// as the README's "what counts as a Uint8Array" row promises, so the hex is of all the elements.
test("bytesToHex: a Uint8Array whose length lies gives the hex of its real elements", () => {
  class Short extends Uint8Array {
    override get length(): number {
      return 1;
    }
  }
  class Long extends Uint8Array {
    override get length(): number {
      return 40;
    }
  }
  const elements = [0x01, 0xab, 0xff, 0x10, 0x00, 0x7e];
  assert.is(bytesToHex(Short.from(elements)), "01abff10007e");
  assert.is(bytesToHex(Long.from(elements)), "01abff10007e");
  const rebadged = Uint8Array.from(elements);
  Object.defineProperty(rebadged, "length", { value: 2 });
  assert.is(bytesToHex(rebadged), "01abff10007e");
  // A view into a pooled Buffer: only its own range, as Buffer's hex reads it.
  const pooled = Buffer.from("ffee" + "01abff10007e" + "ddcc", "hex").subarray(2, 8);
  assert.is(bytesToHex(pooled), pooled.toString("hex"));
});

// A mutation audit found that a Uint8ClampedArray could pass for a Uint8Array unnoticed (a check
// on the tag's "Uint8" prefix, say): only the Uint8Array slot counts (README: "another typed
// array is a TypeError"); ed25519-edge's list of non-bytes has an Int8Array but no clamped one.
test("a Uint8ClampedArray is not bytes: INVALID_TYPE at every byte argument", () => {
  const seed = new Uint8Array(32).fill(3);
  const publicKey = ed25519.getPublicKey(seed);
  const message = new Uint8Array([1, 2, 3]);
  const signature = ed25519.sign(message, seed);
  const clamped = (bytes: Uint8Array) => new Uint8ClampedArray(bytes) as unknown as Uint8Array;
  const calls: [string, () => unknown][] = [
    ["getPublicKey", () => ed25519.getPublicKey(clamped(seed))],
    ["sign message", () => ed25519.sign(clamped(message), seed)],
    ["sign secretKey", () => ed25519.sign(message, clamped(seed))],
    ["verify signature", () => ed25519.verify(clamped(signature), message, publicKey)],
    ["verify message", () => ed25519.verify(signature, clamped(message), publicKey)],
    ["verify publicKey", () => ed25519.verify(signature, message, clamped(publicKey))],
    ["verifyBatch", () => ed25519.verifyBatch([{ signature, message: clamped(message), publicKey }])],
    ["keygen(seed)", () => ed25519.keygen(clamped(seed))],
    ["randomSecretKey(seed)", () => ed25519.utils.randomSecretKey(clamped(seed))],
    ["getExtendedPublicKey", () => ed25519.utils.getExtendedPublicKey(clamped(seed))],
    ["preparePublicKey", () => ed25519.preparePublicKey(clamped(publicKey))],
    ["PublicKey.fromBytes", () => PublicKey.fromBytes(clamped(publicKey))],
    ["Signature.fromBytes", () => Signature.fromBytes(clamped(signature))],
    ["Keypair.fromSeed", () => Keypair.fromSeed(clamped(seed))],
    ["bytesToHex", () => bytesToHex(clamped(seed))],
  ];
  for (const [name, call] of calls) expectTypeError(call, name);
  assert.is(ed25519.utils.isValidSecretKey(clamped(seed)), false);
  assert.is(ed25519.utils.isValidPublicKey(clamped(publicKey)), false);
});

// A mutation audit found that the InvalidTypeError for an item list whose length cannot be read
// could lose what the read threw unnoticed: it is documented as the error's `cause`.
test("a batch item list whose length throws: INVALID_TYPE with the thrown error as cause", () => {
  const boom = new Error("length read refused");
  const list = new Proxy([], {
    get(target, key, receiver) {
      if (key === "length") throw boom;
      return Reflect.get(target, key, receiver);
    },
  });
  for (const [name, call] of [
    ["verifyBatch", () => ed25519.verifyBatch(list as never)],
    ["verifyEnvelopeBatch", () => verifyEnvelopeBatch(list as never)],
  ] as const) {
    const error = expectTypeError(call, name);
    assert.is(error.cause, boom, name);
  }
});

// A mutation audit found that the JS side of SHA-512 could skip growing the I/O arena for its
// input unnoticed (test/node/sha512.test.ts drives the wasm export directly, and the suites run
// in one process whose memory earlier suites have grown). So: a fresh process whose first call is
// a hash larger than the initial memory, through the public hash entries, against node:crypto;
// and the block-boundary lengths through the same path from views into a pooled Buffer.
test("SHA-512 through the public entries: an input larger than the initial memory on the first call, and block boundaries from Buffer views", () => {
  const tweetnacl = fileURLToPath(new URL("../../src/compat/tweetnacl.ts", import.meta.url));
  const noble = fileURLToPath(new URL("../../src/compat/noble-ed25519.ts", import.meta.url));
  const script = `
    import nacl from ${JSON.stringify(tweetnacl)};
    import * as noble from ${JSON.stringify(noble)};
    const big = new Uint8Array(3_000_001);
    for (let i = 0; i < big.length; i++) big[i] = (i * 7 + 1) & 255;
    const first = Buffer.from(nacl.hash(big)).toString("hex");
    const second = Buffer.from(noble.hash(big.subarray(1))).toString("hex");
    process.stdout.write(JSON.stringify({ first, second }));
  `;
  const out = JSON.parse(execFileSync(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], { encoding: "utf8", timeout: 120_000 }));
  const big = new Uint8Array(3_000_001);
  for (let i = 0; i < big.length; i++) big[i] = (i * 7 + 1) & 255;
  assert.is(out.first, createHash("sha512").update(big).digest("hex"));
  assert.is(out.second, createHash("sha512").update(big.subarray(1)).digest("hex"));
  for (const n of [0, 1, 111, 112, 127, 128, 239, 240, 255, 256, 257]) {
    const pool = Buffer.alloc(n + 37);
    for (let i = 0; i < pool.length; i++) pool[i] = (i * 29 + n) & 255;
    const view = pool.subarray(13, 13 + n);
    const expected = createHash("sha512").update(view).digest("hex");
    assert.is(bufferHex(nacl.hash(view)), expected, `tweetnacl hash, ${n} bytes`);
    assert.is(bufferHex(nobleHash(view)), expected, `noble hash, ${n} bytes`);
  }
});

test.run();
