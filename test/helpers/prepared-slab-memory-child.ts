// Child process of test/node/ed25519-prepared-public.test.ts, started with a V8 cap on
// WebAssembly memory (--wasm-max-mem-pages) that leaves room for the core but not for a large
// prepared-key slab. Its first call into the library is configurePreparedKeys with such a size,
// so the instance starts for it (review 46: this reported success with 0 slots). Prints one JSON
// line for the parent to check.
//
// Not a suite (no test registered, no test.run()).
import { createHash, createPrivateKey, sign as nodeSign } from "node:crypto";
import { ed25519 } from "../../src/ed25519.js";

const [largeBytes, smallBytes] = process.argv.slice(2).map(Number);
const outcome = (run: () => unknown): string => {
  try {
    return JSON.stringify(run());
  } catch (error) {
    return `${(error as Error).name} ${(error as { code?: string }).code}`;
  }
};
// A first argument "none" skips the first configure: the layout of an instance never configured.
const configuredFirst = Number.isNaN(largeBytes) ? "not called" : outcome(() => ed25519.configurePreparedKeys({ maxBytes: largeBytes }));
const layoutAfter = ed25519.preparedKeysLayout();
const configuredSmall = outcome(() => ed25519.configurePreparedKeys({ maxBytes: smallBytes }));
const layoutSmall = ed25519.preparedKeysLayout();
// Verdicts through it all: a node:crypto signature, prepared and as bytes, and a flipped bit.
const seed = createHash("sha256").update("slab memory").digest();
const privateKey = createPrivateKey({ key: Buffer.concat([Buffer.from("302e020100300506032b657004220420", "hex"), seed]), format: "der", type: "pkcs8" });
const message = new TextEncoder().encode("prepared keys under a memory cap");
const signature = new Uint8Array(nodeSign(null, message, privateKey));
const publicKey = ed25519.getPublicKey(seed);
const prepared = ed25519.preparePublicKey(publicKey);
const forged = signature.slice();
forged[7] ^= 1;
const verdicts = [ed25519.verify(signature, message, prepared), ed25519.verify(signature, message, publicKey), ed25519.verify(forged, message, prepared)];
console.log(JSON.stringify({ configuredFirst, layoutAfter, configuredSmall, layoutSmall, verdicts }));
