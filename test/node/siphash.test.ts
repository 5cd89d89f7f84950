// SipHash-2-4 (assembly/siphash.ts), the core's keyed position hash for public keys in its key
// caches (assembly/ed25519/key-cache.ts key_index_hash): the 64 reference vectors of the SipHash
// authors (test/vectors/siphash/vectors.h) through a test-build hook, and the test's own BigInt
// SipHash (test/helpers/siphash-reference.ts, checked on the same vectors) on random keys and
// messages of every length up to 200 bytes.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { readFileSync } from "node:fs";
import { createHash } from "node:crypto";
import { siphash24Reference } from "../helpers/siphash-reference.js";
import { coreExports, heapU8 } from "../helpers/test-core.js";

interface SipHooks {
  io_base(): number;
  io_reserve(bytes: number): number;
  test_siphash24(k0: bigint, k1: bigint, len: number): bigint;
}
const hooks = (): SipHooks => coreExports() as unknown as SipHooks;

/** vectors_sip64 of the reference vectors.h: 64 outputs of 8 bytes (little-endian). */
function referenceVectors(): Uint8Array[] {
  const text = readFileSync(new URL("../vectors/siphash/vectors.h", import.meta.url), "utf8");
  const block = /vectors_sip64\[64\]\[8\] = \{([^;]*)\};/.exec(text);
  if (!block) throw new Error("vectors_sip64 not found in vectors.h");
  const rows = [...block[1].matchAll(/\{([^{}]*)\}/g)].map((row) => Uint8Array.from(row[1].match(/0x[0-9a-f]{2}/g)!.map((h) => parseInt(h, 16))));
  return rows;
}

const leWord = (bytes: Uint8Array): bigint => bytes.reduceRight((w, b) => (w << 8n) | BigInt(b), 0n);
const KEY = Uint8Array.from({ length: 16 }, (_, i) => i);
const MESSAGE = Uint8Array.from({ length: 64 }, (_, i) => i);

/** The hook's SipHash-2-4 of `message` under `key`. */
function wasmSiphash(key: Uint8Array, message: Uint8Array): bigint {
  const x = hooks();
  if (x.io_reserve(message.length) !== 1) throw new Error("io_reserve failed");
  heapU8().set(message, x.io_base());
  return BigInt.asUintN(64, x.test_siphash24(leWord(key.subarray(0, 8)), leWord(key.subarray(8, 16)), message.length));
}

test("the reference vectors: 64 messages of 0 to 63 bytes under the key 00..0f", () => {
  const vectors = referenceVectors();
  assert.is(vectors.length, 64);
  for (let n = 0; n < 64; n++) {
    assert.is(vectors[n].length, 8, `vector ${n} has 8 bytes`);
    const expected = leWord(vectors[n]);
    assert.is(siphash24Reference(KEY, MESSAGE.subarray(0, n)), expected, `BigInt reference, ${n} bytes`);
    assert.is(wasmSiphash(KEY, MESSAGE.subarray(0, n)), expected, `core, ${n} bytes`);
  }
});

test("random keys and messages of 0 to 200 bytes: the core equals the reference", () => {
  for (let n = 0; n <= 200; n++) {
    const seed = createHash("sha512").update(`siphash ${n}`).digest();
    const key = seed.subarray(0, 16);
    const message = Uint8Array.from({ length: n }, (_, i) => (seed[16 + (i % 48)] + 31 * i) & 0xff);
    assert.is(wasmSiphash(key, message), siphash24Reference(key, message), `${n} bytes`);
  }
});

test.run();
