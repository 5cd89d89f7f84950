// Child process of test/node/batch-key-cache.test.ts: the key caches' positions
// (key-cache.ts key_index_hash) of the 32-byte keys given as hex arguments, in a realm of its own
// (its own position key, drawn when src/wasm/instance.ts loads), on the test build. Prints one
// JSON line: the positions as decimal strings.
//
// Not a suite (no test registered, no test.run()).
import { initSync } from "../../src/wasm/instance.js";
import { testModule } from "./test-core.js";
import { positionOf } from "./key-index.js";

initSync(testModule());
console.log(JSON.stringify(process.argv.slice(2).map((hex) => String(positionOf(Buffer.from(hex, "hex"))))));
