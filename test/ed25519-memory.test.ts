// The Ed25519 hot path allocates nothing per call: 10,000 sign + verify calls (both modes,
// accepting and rejecting) leave wasm linear memory at the same size, with the same buffer.
// The core runs under the stub runtime, whose bump allocator never frees: a per-call
// allocation of even a few bytes would exhaust the headroom after the I/O arena within these
// calls and force memory.grow, which detaches the old buffer and changes its length.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { createHash, createPrivateKey, sign as nodeSign } from "node:crypto";
import { ed25519 } from "../src/ed25519.js";
import { argsBase, coreExports, heapU8, ioArenaBase, resetInstance } from "../src/wasm/instance.js";

const PKCS8_PREFIX = Buffer.from("302e020100300506032b657004220420", "hex");

const CALLS = 10_000;
const MAX_MESSAGE = 1024;

test(`linear memory does not grow across ${CALLS} sign + verify calls`, () => {
  const seeds = Array.from({ length: 20 }, (_, i) => createHash("sha256").update(`memory seed ${i}`).digest());
  const messages = Array.from({ length: 64 }, (_, i) => new Uint8Array((i * 97) % (MAX_MESSAGE + 1)).fill(i));
  // A fresh instance: earlier suites in this process may have grown memory far beyond what
  // these calls need, which would leave room for allocations to go unnoticed.
  resetInstance();
  const publicKeys = seeds.map((seed) => ed25519.getPublicKey(seed));
  // Warm up with the largest message so the I/O arena already has the room every call needs.
  const largest = new Uint8Array(MAX_MESSAGE).fill(1);
  assert.ok(ed25519.verify(ed25519.sign(largest, seeds[0]), largest, publicKeys[0]));

  const memory = coreExports().memory;
  const bufferBefore = memory.buffer;
  const bytesBefore = memory.buffer.byteLength;
  // Room left after the arena's largest message: under 64 KiB, i.e. under 7 bytes per call.
  assert.ok(bytesBefore - (ioArenaBase() + MAX_MESSAGE) < 65536, "headroom is small enough to notice allocations");
  let accepted = 0;
  let rejected = 0;
  for (let i = 0; i < CALLS; i++) {
    const key = i % seeds.length; // more keys than the core's 16-entry caches hold
    const msg = messages[i % messages.length];
    const sig = ed25519.sign(msg, seeds[key]);
    const zip215 = (i & 1) === 1;
    if (i % 5 === 4) {
      sig[i % 64] ^= 1 << (i % 8); // a rejecting verification takes other paths
      if (!ed25519.verify(sig, msg, publicKeys[key], { zip215 })) rejected++;
    } else if (ed25519.verify(sig, msg, publicKeys[key], { zip215 })) {
      accepted++;
    }
  }
  assert.is(accepted, CALLS - CALLS / 5, "every untouched signature verifies");
  assert.is(rejected, CALLS / 5, "every signature with a flipped bit is rejected");
  assert.is(memory.buffer.byteLength, bytesBefore, "linear memory size unchanged");
  assert.ok(memory.buffer === bufferBefore, "no memory.grow (it would detach the old buffer)");
});


// The signing core caches seed-derived public keys (assembly/ed25519.ts). Signing with a wrong
// public key next to a correct signature on the same message reveals the secret scalar, so a
// cached key that was overwritten in memory must never be used: each entry carries a check value
// and a hit that fails it is treated as a miss.
test("a corrupted cached public key is detected and never signed with", () => {
  resetInstance();
  const seed = createHash("sha256").update("cache integrity seed").digest();
  const msg = new TextEncoder().encode("signed twice");
  const expected = nodeSign(null, msg, createPrivateKey({ key: Buffer.concat([PKCS8_PREFIX, seed]), format: "der", type: "pkcs8" }));
  const publicKey = ed25519.getPublicKey(seed); // fills the cache
  // Corrupt every copy of the public key in linear memory outside the argument block.
  const heap = heapU8();
  const argsStart = argsBase();
  let corrupted = 0;
  for (let at = 0; at + 32 <= heap.length; at++) {
    if (at >= argsStart && at < argsStart + 512) continue;
    if (heap[at] === publicKey[0] && Buffer.compare(heap.subarray(at, at + 32), publicKey) === 0) {
      heap[at + 31] ^= 0x40;
      corrupted++;
    }
  }
  assert.ok(corrupted >= 1, "the cached public key was found in memory");
  const signature = ed25519.sign(msg, seed);
  assert.equal(Buffer.from(signature), expected);
  assert.equal(ed25519.getPublicKey(seed), publicKey);
  // And the cache refills: the next signature is still right.
  assert.equal(Buffer.from(ed25519.sign(msg, seed)), expected);
});

test.run();
