// The batch group's title and case names (bench/batch.ts), in a module of their own so that the
// README generator (scripts/gen-bench-readme.ts) reads the same names without loading the built
// package, which bench/batch.ts does.

/** Batch sizes measured (and charted). */
export const BATCH_SIZES = [1, 4, 16, 64, 256, 1024] as const;
export const BATCH_GROUP_TITLE = "batch verify, per signature (169 B)";
export const BATCH_BASELINE = "node:crypto single verify (KeyObject made in advance)";
export const SODIUM_SINGLE = "libsodium-wrappers single verify";
export const CHIO_SINGLE = "chio-trust single verify, cold key (4096 keys in rotation)";
export const distinctName = (n: number): string => `chio-trust verifyBatch, ${n} distinct keys`;
export const oneKeyName = (n: number): string => `chio-trust verifyBatch, ${n} under one key`;
/** The distinct-key batch of 64 again, from 256 keys the batch key cache holds (a kernel's known peers). */
export const KNOWN_KEYS_BATCH = 64;
export const knownKeysName = `chio-trust verifyBatch, ${KNOWN_KEYS_BATCH} distinct keys seen before (256 in rotation, in the batch key cache)`;
/** The same again with every key prepared (ed25519.preparePublicKey: a kernel's pinned peers), 128 in rotation. */
export const preparedKeysName = `chio-trust verifyBatch, ${KNOWN_KEYS_BATCH} distinct prepared keys (128 in rotation)`;
