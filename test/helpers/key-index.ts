// The key caches' position key (assembly/ed25519/key-cache.ts key_index_hash) in tests: set it to
// a key of the test's choosing through the export the library calls with random bytes when it
// adopts an instance (src/wasm/instance.ts), so that a test can predict positions with the BigInt
// SipHash of ./siphash-reference.ts (the core wipes the bytes, empties the batch key cache and
// rebuilds the prepared-key slab's index); and read a key's position on the test build.
//
// Not a suite: uvu imports every file under test/, this one included, but it registers no tests.
import { argsBase, coreExports, heapU8 } from "../../src/wasm/instance.js";
import { ARG_RESULT, ARG_SECRET, TEST_HOOK_INPUT } from "../../src/wasm/abi.js";

/** Makes the 16 bytes `key` the live instance's position key. */
export function seedKeyIndex(key: Uint8Array): void {
  heapU8().set(key, argsBase() + ARG_SECRET);
  (coreExports() as unknown as { ed25519_seed_key_index(): void }).ed25519_seed_key_index();
}

/** The live instance's position hash of the 32 bytes pk (key_index_hash, through the test build's hook). */
export function positionOf(pk: Uint8Array): bigint {
  heapU8().set(pk, argsBase() + ARG_RESULT + TEST_HOOK_INPUT);
  return BigInt.asUintN(64, (coreExports() as unknown as { test_key_index_hash(): bigint }).test_key_index_hash());
}
