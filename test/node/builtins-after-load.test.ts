// Built-ins replaced after the library loaded never see wasm memory (review 70 F1): the child
// process (test/helpers/builtins-after-load-child.ts) replaces every built-in the JS glue could
// hand a view of linear memory, its buffer, the Memory or the Instance to, runs every API that
// touches linear memory, and reports what the replacements caught. Before the glue captured its
// intrinsics at load, 13 of them did (`slice` and `set` on the heap view, a Symbol.species
// getter, TextDecoder#decode, the Memory's `buffer` getter, the global Uint8Array, ...), and
// through them the expanded secret of a prepared key. The child also tries, actively, the routes
// review 73 found through built-ins that are never handed memory but compute what the glue reads
// or writes (the array iterator behind a spread, Math.min, Object.getPrototypeOf, the base64
// decoding of the core on first use): four of them worked at 7dc2d75, none now. And it watches
// the JS copies of secrets (a Keypair's seed, expanded keys, tweetnacl's secret key): the
// replaced typed-array methods must never be handed one (review 73 F6: `slice` and `fill` were).
import { test } from "uvu";
import * as assert from "uvu/assert";
import { createPublicKey, verify as nodeVerify } from "node:crypto";
import { tsxChildResult } from "../helpers/processes.js";

test("no replaced built-in receives wasm memory, and every API still answers correctly under them", () => {
  const result = tsxChildResult<{ caught: string[]; checks: boolean[]; signature: string; publicKey: string }>(new URL("../helpers/builtins-after-load-child.ts", import.meta.url));
  assert.equal(result.caught, [], `replaced built-ins that were handed wasm memory: ${result.caught.join(", ")}`);
  assert.is(result.checks.length, 23);
  assert.ok(result.checks.every(Boolean), `checks: ${JSON.stringify(result.checks)}`);
  // The prepared key's signature, made under the replaced built-ins, verified by node:crypto.
  const key = createPublicKey({ key: Buffer.concat([Buffer.from("302a300506032b6570032100", "hex"), Buffer.from(result.publicKey, "hex")]), format: "der", type: "spki" });
  const message = Buffer.from("a message signed after the built-ins were replaced");
  assert.ok(nodeVerify(null, message, key, Buffer.from(result.signature, "hex")));
});

test.run();
