// SHA-512 of the wasm core (assembly/sha512.ts, export `sha512(len)`: input at the I/O arena,
// digest at ARGS+ARG_DIGEST) against node:crypto, at every length 0..300 (all padding cases
// around the 112- and 128-byte boundaries) and at larger multi-block lengths.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { createHash, randomBytes } from "node:crypto";
import { ARG_DIGEST } from "../../src/wasm/abi.js";
import { argsBase, coreExports, heapU8, ioArenaBase, reserveIo, type CoreExports } from "../../src/wasm/instance.js";

interface ShaExports extends CoreExports {
  sha512(len: number): void;
}

function wasmSha512(data: Uint8Array): string {
  reserveIo(data.length);
  heapU8().set(data, ioArenaBase());
  coreExports<ShaExports>().sha512(data.length);
  const at = argsBase() + ARG_DIGEST;
  return Buffer.from(heapU8().slice(at, at + 64)).toString("hex");
}
const nodeSha512 = (data: Uint8Array) => createHash("sha512").update(data).digest("hex");

test("known answers: empty string and 'abc' (FIPS 180-4 examples)", () => {
  assert.is(
    wasmSha512(new Uint8Array(0)),
    "cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e",
  );
  assert.is(
    wasmSha512(new TextEncoder().encode("abc")),
    "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f",
  );
});

test("matches node:crypto at every length 0..300", () => {
  for (let n = 0; n <= 300; n++) {
    const data = randomBytes(n);
    assert.is(wasmSha512(data), nodeSha512(data), `length ${n}`);
  }
});

test("matches node:crypto at large multi-block lengths", () => {
  for (const n of [1023, 1024, 4096, 65535, 65536 + 17, 1 << 20, 3_000_001]) {
    const data = randomBytes(n);
    assert.is(wasmSha512(data), nodeSha512(data), `length ${n}`);
  }
});

test("all-0xff and all-zero blocks (no sign-extension or carry mistakes)", () => {
  for (const n of [111, 112, 128, 256, 1000]) {
    assert.is(wasmSha512(new Uint8Array(n).fill(0xff)), nodeSha512(new Uint8Array(n).fill(0xff)));
    assert.is(wasmSha512(new Uint8Array(n)), nodeSha512(new Uint8Array(n)));
  }
});

test.run();
