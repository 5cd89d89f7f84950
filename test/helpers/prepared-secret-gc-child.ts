// Child process of test/node/ed25519-prepared-secret.test.ts, run with --expose-gc: fills the
// prepared-key slab with keys it drops without destroy(), forces collections, and reports
// whether the FinalizationRegistry wiped and freed their slots. Prints one JSON line.
//
// Not a suite (no test registered, no test.run()).
import { createHash } from "node:crypto";
import { sha512 } from "@noble/hashes/sha2.js";
import { ed25519, PREPARED_SECRET_KEY_CAPACITY } from "../../src/ed25519.js";
import { heapU8 } from "../../src/wasm/instance.js";

const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error("run with --expose-gc");
const seedOf = (label: string): Uint8Array => new Uint8Array(createHash("sha256").update(label).digest());
const scalarOf = (seed: Uint8Array): Buffer => {
  const s = sha512(seed).slice(0, 32);
  s[0] &= 248;
  s[31] = (s[31] & 127) | 64;
  return Buffer.from(s);
};
const occurrences = (needle: Buffer): number => {
  const heap = Buffer.from(heapU8().buffer);
  let n = 0;
  for (let at = heap.indexOf(needle); at >= 0; at = heap.indexOf(needle, at + 1)) n++;
  return n;
};

function fill(round: string): number {
  let n = 0;
  try {
    for (;;) {
      ed25519.prepareSecretKey(seedOf(`${round} ${n}`)); // dropped at once
      n++;
    }
  } catch (error) {
    if ((error as { code?: string }).code !== "PREPARED_KEYS_EXHAUSTED") throw error;
  }
  return n;
}

const filledFirst = fill("first");
const scalarBefore = occurrences(scalarOf(seedOf("first 0")));
for (let i = 0; i < 10 && occurrences(scalarOf(seedOf("first 0"))) > 0; i++) {
  gc();
  await new Promise((resolve) => setTimeout(resolve, 20));
}
const scalarLeft = scalarBefore === 1 ? occurrences(scalarOf(seedOf("first 0"))) : -1;
const filledAgain = fill("second");
console.log(JSON.stringify({ filledFirst, filledAgain, scalarLeft, capacity: PREPARED_SECRET_KEY_CAPACITY }));
