// Child process of test/node/pool.test.ts, run with --expose-gc: whether a call in flight keeps
// the caller's input alive besides the pool's packed copy (review 48: verifyBatch and
// verifyEnvelopeBatch did, and a small view kept its whole buffer). A blocker keeps the pool's one
// worker busy so the probed call stays queued while collections run; a FinalizationRegistry tells
// whether the caller's buffer, dropped at once, was collected meanwhile. Prints one JSON line.
//
// Not a suite (no test registered, no test.run()).
import { createPrivateKey, sign as nodeSign } from "node:crypto";
import { createVerifierPool } from "../../dist/esm/pool/index.js";
import { ed25519 } from "../../dist/esm/index.js";

const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error("run with --expose-gc");
const seed = new Uint8Array(32).fill(5);
const privateKey = createPrivateKey({ key: Buffer.concat([Buffer.from("302e020100300506032b657004220420", "hex"), seed]), format: "der", type: "pkcs8" });
const publicKey = ed25519.getPublicKey(seed);
const small = new TextEncoder().encode("small");
const signature = new Uint8Array(nodeSign(null, small, privateKey));

const pool = createVerifierPool({ threads: 1 });
const collected = new Set<string>();
const registry = new FinalizationRegistry<string>((name) => collected.add(name));
const result: Record<string, { collectedInFlight: boolean; stillInFlight: boolean; answer: unknown }> = {};

async function probe(name: string, call: (buffer: Uint8Array) => Promise<unknown>): Promise<void> {
  // 48 MiB to hash: the worker is busy for a while with it.
  const blocker = pool.verifyBatch([{ signature, message: new Uint8Array(48 << 20), publicKey }]);
  let settled = false;
  let probed: Promise<unknown>;
  (() => {
    const buffer = new Uint8Array(16 << 20);
    buffer.set(small);
    registry.register(buffer.buffer, name);
    probed = call(buffer).finally(() => (settled = true));
  })();
  for (let i = 0; i < 6 && !collected.has(name); i++) {
    gc();
    await new Promise((resolve) => setImmediate(resolve));
  }
  const collectedInFlight = collected.has(name);
  const stillInFlight = !settled;
  await blocker;
  result[name] = { collectedInFlight, stillInFlight, answer: await probed! };
}

await probe("verify", (buffer) => pool.verify(signature, buffer.subarray(0, small.length), publicKey));
await probe("verifyBatch", (buffer) => pool.verifyBatch([{ signature, message: buffer.subarray(0, small.length), publicKey }]));
await probe("verifyEnvelopeBatch", (buffer) => pool.verifyEnvelopeBatch([buffer.subarray(0, 10)]).then((verdicts) => verdicts.map((verdict) => verdict.ok)));
await pool.close();
console.log(JSON.stringify(result));
