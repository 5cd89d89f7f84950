// The pool groups' titles (bench/pool.ts), in a module of their own so that the README generator
// (scripts/gen-bench-readme.ts) reads the same titles without loading the built package, which
// bench/pool.ts does (as bench/batch-names.ts does for the batch group).

/** Items per call in every case of the pool groups. */
export const POOL_BATCH = 256;
export const POOL_SIGNATURES_GROUP = `pool verify (${POOL_BATCH} signatures of 169 B per op)`;
export const POOL_ENVELOPES_GROUP = `pool envelopes (${POOL_BATCH} envelopes, JSON bytes in, per op)`;
