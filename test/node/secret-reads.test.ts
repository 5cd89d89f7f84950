// A secret is read once, from a private copy (review 42): ed25519.utils.getExtendedPublicKey must
// not hash one seed and derive the public key of another when the caller's bytes change between
// its reads (shared memory another thread writes), and Keypair.generate must not keep the array
// crypto.getRandomValues filled (a replaced getRandomValues could hold on to it).
import { test } from "uvu";
import * as assert from "uvu/assert";
import { Worker } from "node:worker_threads";
import { ed25519 as nobleCurves } from "@noble/curves/ed25519.js";
import { ed25519 } from "../../src/index.js";
import { Keypair } from "../../src/handshake/index.js";
import { watchCopies } from "../helpers/copy-watch.js";
import { dropCoreForGood, restoreCore } from "../helpers/no-core.js";

test("getExtendedPublicKey on a seed another thread keeps rewriting: every answer's public key is its own scalar times B", async () => {
  // A seed in shared memory, flipped between two values by a worker for as long as the test runs.
  const shared = new SharedArrayBuffer(32 + 4);
  const seed = new Uint8Array(shared, 0, 32);
  const stop = new Int32Array(shared, 32, 1);
  const writer = new Worker(
    `const { workerData } = require("node:worker_threads");
     const seed = new Uint8Array(workerData, 0, 32);
     const stop = new Int32Array(workerData, 32, 1);
     for (let round = 0; Atomics.load(stop, 0) === 0; round++) seed.fill(round & 1 ? 0x11 : 0xee);`,
    { eval: true, workerData: shared },
  );
  try {
    await new Promise((resolve) => writer.once("online", resolve));
    const base = nobleCurves.Point.BASE;
    let mixed = 0;
    const calls = 400;
    for (let i = 0; i < calls; i++) {
      const extended = ed25519.utils.getExtendedPublicKey(seed);
      // The answer is one seed's: its public key is its own scalar times the base point (an
      // independent multiplication by @noble/curves), whatever seed the copy caught.
      if (base.multiply(extended.scalar).toHex() !== Buffer.from(extended.pointBytes).toString("hex")) mixed++;
    }
    assert.is(mixed, 0, `${mixed} of ${calls} answers paired one seed's scalar with another's public key`);
  } finally {
    Atomics.store(stop, 0, 1);
    await writer.terminate();
  }
});

test("Keypair.generate keeps its own copy of the drawn seed and wipes the array getRandomValues filled", () => {
  const webCrypto = globalThis.crypto;
  const realGetRandomValues = webCrypto.getRandomValues;
  let filled: Uint8Array | undefined;
  let drawn = "";
  webCrypto.getRandomValues = function <T extends ArrayBufferView | null>(array: T): T {
    const result = realGetRandomValues.call(webCrypto, array as never) as T;
    filled = array as unknown as Uint8Array; // a shim that keeps what it filled
    drawn = Buffer.from(filled).toString("hex");
    return result;
  };
  let keypair: Keypair;
  try {
    keypair = Keypair.generate();
  } finally {
    webCrypto.getRandomValues = realGetRandomValues;
  }
  assert.ok(filled !== undefined && filled.length === 32);
  assert.is(Buffer.from(keypair.seedBytes()).toString("hex"), drawn, "the keypair's seed is what was drawn");
  assert.ok(filled!.every((b) => b === 0), "the array getRandomValues filled is wiped");
  filled!.fill(0x42); // the shim writes to what it kept
  assert.is(Buffer.from(keypair.seedBytes()).toString("hex"), drawn, "the seed does not change with it");
  assert.is(keypair.publicKey.toHex(), Keypair.fromSeed(Buffer.from(drawn, "hex")).publicKey.toHex());
  keypair.destroy();
});

test("Keypair.fromSeed and generate zero their seed copy when the keypair cannot be built (no wasm core)", () => {
  const seed = Uint8Array.from({ length: 32 }, (_, i) => 0x3c ^ (i * 5));
  dropCoreForGood();
  const watch = watchCopies();
  const failures: string[] = [];
  try {
    for (const make of [() => Keypair.fromSeed(seed), () => Keypair.generate()]) {
      try {
        make();
      } catch (error) {
        failures.push((error as { code?: string }).code ?? String(error));
      }
    }
  } finally {
    watch.stop();
    restoreCore();
  }
  assert.equal(failures, ["WASM_UNAVAILABLE", "WASM_UNAVAILABLE"]);
  const seedCopies = watch.targets.filter((copy) => copy.byteLength === 32) as Uint8Array[];
  assert.ok(seedCopies.length >= 2, "fromSeed and generate each made a copy");
  for (const copy of seedCopies) assert.ok(copy.every((b) => b === 0), "a seed copy was left unwiped");
  assert.ok(Keypair.fromSeed(seed).publicKey, "the core comes back");
});

test.run();
