// Child process of test/node/batch-key-cache.test.ts: the key caches' positions
// (key-cache.ts key_index_hash) of the 32-byte keys given as hex arguments, in a realm of its own
// (its own position key, drawn when src/wasm/instance.ts loads), on the test build. Prints one
// JSON line: the positions as decimal strings.
//
// Not a suite (no test registered, no test.run()).
import { argsBase, coreExports, heapU8, initSync } from "../../src/wasm/instance.js";
import { ARG_RESULT, TEST_HOOK_INPUT } from "../../src/wasm/abi.js";
import { testModule } from "./test-core.js";

initSync(testModule());
const hook = coreExports() as unknown as { test_key_index_hash(): bigint };
const positions = process.argv.slice(2).map((hex) => {
  heapU8().set(Buffer.from(hex, "hex"), argsBase() + ARG_RESULT + TEST_HOOK_INPUT);
  return String(BigInt.asUintN(64, hook.test_key_index_hash()));
});
console.log(JSON.stringify(positions));
