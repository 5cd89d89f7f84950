// Child process of test/node/pool.test.ts: calls pool.verify() at every depth of a recursion down
// to the end of the stack, so that near it the call's own copying overflows, and prints how the
// calls ended as one JSON line. A child, because V8 reports overflows inside promise callbacks on
// stderr ("Exception in PromiseRejectCallback"), which the parent keeps out of the test output.
//
// Not a suite (no test registered, no test.run()).
import { createPrivateKey, sign as nodeSign } from "node:crypto";
import { createVerifierPool } from "../../dist/esm/pool/index.js";
import { ed25519 } from "../../dist/esm/index.js";

const seed = new Uint8Array(32).fill(9);
const privateKey = createPrivateKey({ key: Buffer.concat([Buffer.from("302e020100300506032b657004220420", "hex"), seed]), format: "der", type: "pkcs8" });
const message = new TextEncoder().encode("near the end of the stack");
const signature = new Uint8Array(nodeSign(null, message, privateKey));
const publicKey = ed25519.getPublicKey(seed);

const pool = createVerifierPool({ threads: 1 });
const outcomes: Record<string, number> = {};
const count = (key: string) => void (outcomes[key] = (outcomes[key] ?? 0) + 1);
const calls: Promise<void>[] = [];
const dive = (): void => {
  try {
    dive();
  } catch {
    // the stack is exhausted below this frame: call from here
  }
  calls.push(pool.verify(signature, message, publicKey).then((valid) => count(`resolved ${valid}`), (error: Error & { code?: string }) => count(`${error.name} ${error.code}`)));
};
for (let i = 0; i < 3; i++) {
  try {
    dive();
  } catch {
    // an overflow in this frame itself
  }
}
await Promise.all(calls);
await pool.close();
console.log(JSON.stringify(outcomes));
