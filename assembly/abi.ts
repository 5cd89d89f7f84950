// The JS <-> wasm interface, written once: every offset, result word, status code, verdict,
// reason and flag bit that crosses the module boundary. The assembly code imports these names;
// scripts/gen-abi.ts turns this file into src/wasm/abi.ts for the TypeScript side (run by
// scripts/build-wasm.mjs; test/node/abi.test.ts fails if the committed copy is stale).
//
// Format the generator reads: `export const NAME: type = <integer literal>;`, optionally
// preceded by a `/** ... */` doc comment and/or followed by a `//` comment on the same line;
// `// ----` section lines are copied as comments. Nothing else belongs in this file.

// ---- ARGS block: fixed-size arguments and results (assembly/memory.ts ARGS, 512 bytes) ----

/** Size of the ARGS block. */
export const ARGS_BYTES: usize = 512;
/** 32 bytes: public key A (in for verify/inspect, out for keygen/sign). */
export const ARG_PUBLIC_KEY: usize = 0;
/** 64 bytes: signature R || S (in for verify, out for sign). */
export const ARG_SIGNATURE: usize = 32;
/** 32 bytes: RFC 8032 secret seed (in for keygen/sign), or the key caches' 16-byte position key (ed25519_seed_key_index); wiped by the core before it returns. */
export const ARG_SECRET: usize = 96;
/** 64 bytes: SHA-512 output. */
export const ARG_DIGEST: usize = 128;
/** 320 bytes: per-export structured results (the *_RESULT_* words below are offsets from here). */
export const ARG_RESULT: usize = 192;
/** Bytes of the result area. */
export const ARG_RESULT_BYTES: usize = 320;

// ---- Linear memory (assembly/memory.ts) ----

/**
 * Highest address any region of linear memory may reach, so that every `address + length` sum
 * stays inside u32. No input longer than this can be written to the core, whatever memory it has.
 */
export const ADDRESS_CEILING: u32 = 0x7fff0000;

// ---- Ed25519 (assembly/ed25519/exports.ts) ----

/** ed25519_verify mode bit: ZIP-215 (cofactored) rule instead of the dalek/OpenSSL rule. */
export const VERIFY_MODE_ZIP215: i32 = 1;
/** ed25519_verify mode bit (tests only): full-length multiplication instead of the half-size one. */
export const VERIFY_MODE_FULL_LENGTH: i32 = 2;
/** ed25519_inspect_public_key: the bytes do not decode as a curve point. */
export const INSPECT_NOT_A_POINT: i32 = -1;
/** ed25519_inspect_public_key: a point of order not dividing 8. */
export const INSPECT_FULL_ORDER: i32 = 0;
/** ed25519_inspect_public_key: one of the 8 points of small order. */
export const INSPECT_SMALL_ORDER: i32 = 1;

// ---- Prepared secret keys (assembly/ed25519/prepared-secret.ts) ----

/** Slots of the prepared-secret-key slab (112 bytes each: 56 KiB of linear memory). */
export const PREPARED_SECRET_SLOTS: u32 = 512;
/** ed25519_prepare_secret / ed25519_sign_prepared: done. */
export const PREPARED_OK: i32 = 0;
/** The slot index is out of range (the JS side never passes one). */
export const PREPARED_BAD_SLOT: i32 = 1;
/** The slot fails its check value or holds another public key: it was wiped, nothing was signed. */
export const PREPARED_CORRUPTED: i32 = 2;

// ---- Prepared public keys (assembly/ed25519/prepared-public.ts, exports.ts) ----

/** ed25519_prepare_public_key / ed25519_verify_prepared: the key bytes do not decode as a curve point. */
export const PREPARED_NOT_A_POINT: i32 = -1;
/** ed25519_prepare_public_key: the key decodes, but prepared keys are off (slab of 0 slots). */
export const PREPARED_OFF: i32 = -2;
/** ed25519_verify_prepared: the key's slot was lost and every slot holds another key prepared on request and in use (prepared_admits_vartime): verified as key bytes, not prepared again yet. */
export const PREPARED_NOT_RESIDENT: i32 = -3;
/** Result word (i32 LE at ARG_RESULT + this): the slot now holding the key, or a PREPARED_* code. */
export const PREPARED_RESULT_SLOT: usize = 0;
/** Result word of ed25519_prepare_public_key: 1 if the point is torsion-free ([L]A = O), else 0. */
export const PREPARED_RESULT_TORSION_FREE: usize = 4;

// ---- Ed25519 batch verification (assembly/ed25519/batch.ts): item records at ioBase(), then the messages ----

/** Most items one ed25519_verify_batch call takes (JS splits larger batches into chunks). */
export const BATCH_MAX_ITEMS: u32 = 256;
/**
 * Message (or envelope) bytes JS puts into one batch call, at most (one larger input goes alone):
 * WebAssembly memory never shrinks, so this, not the batch size, bounds what a batch grows it to.
 */
export const BATCH_INPUT_BUDGET: u32 = 1048576;
/** Bytes of one item record. */
export const BATCH_ITEM_BYTES: usize = 128;
/** 32 bytes: the item's public key A, as given. */
export const BATCH_ITEM_PUBLIC_KEY: usize = 0;
/** 64 bytes: the item's signature R || S. */
export const BATCH_ITEM_SIGNATURE: usize = 32;
/** u32 LE: offset of the item's message from ioBase(). */
export const BATCH_ITEM_MESSAGE_OFFSET: usize = 96;
/** u32 LE: length of the item's message. */
export const BATCH_ITEM_MESSAGE_LENGTH: usize = 100;
/** 16 bytes: the item's random bytes ρ, from which the core derives its coefficient z (from a CSPRNG, fresh for every call). */
export const BATCH_ITEM_RANDOM: usize = 104;
/** u8 (out): 1 if the item's signature verifies, else 0. */
export const BATCH_ITEM_RESULT: usize = 120;
/** ed25519_verify_batch: every item has its result. */
export const BATCH_DONE: i32 = 0;
/** ed25519_verify_batch: memory cannot grow to the scratch the batch needs (no result written). */
export const BATCH_OUT_OF_MEMORY: i32 = 1;
/** ed25519_verify_batch: count above BATCH_MAX_ITEMS or a message outside the input (no result written). */
export const BATCH_BAD_LAYOUT: i32 = 2;

// ---- Envelope batch (assembly/handshake/envelope-batch.ts, export envelope_verify_batch): entries at ioBase(), then the envelopes ----

/** Bytes of one entry. */
export const ENVELOPE_BATCH_ENTRY_BYTES: usize = 24;
/** u32 LE: offset of the envelope's bytes from ioBase(). */
export const ENVELOPE_BATCH_ENTRY_OFFSET: usize = 0;
/** u32 LE: length of the envelope in bytes. */
export const ENVELOPE_BATCH_ENTRY_LENGTH: usize = 4;
/** 16 bytes: the random bytes ρ from which the core derives the coefficient z of the envelope's signature (CSPRNG, fresh for every call). */
export const ENVELOPE_BATCH_ENTRY_RANDOM: usize = 8;
/** Bytes of one envelope's result block (the ENVELOPE_RESULT_* words of envelope_verify). */
export const ENVELOPE_RESULT_BYTES: usize = 160;
/** envelope_verify_batch output word (u32 LE at ARG_RESULT + this): offset from ioBase() of the result blocks, one per envelope. */
export const ENVELOPE_BATCH_OUT_RESULTS: usize = 0;
/** envelope_verify_batch output word: offset from ioBase() of the verdicts (i32 LE ENVELOPE_*, one per envelope). */
export const ENVELOPE_BATCH_OUT_VERDICTS: usize = 4;
/** envelope_verify_batch output word: offset from ioBase() of the end of everything the result blocks point into. */
export const ENVELOPE_BATCH_OUT_END: usize = 8;

// ---- Canonical JSON (assembly/json/exports.ts) ----

/** Default nesting limit of canonical JSON, on both paths (canonicalize and canonicalizeJson). */
export const JSON_DEFAULT_MAX_DEPTH: u32 = 64;
/**
 * Largest nesting limit either path accepts. Closing an object whose members are out of order
 * moves its content (assembly/json/transcoder.ts closeObject), so nested out-of-order objects cost
 * up to 2 × depth × output bytes of copying: this keeps that linear in the output with a bounded
 * factor (README, "Canonical JSON"); the value path's recursive walk stays within the stack.
 */
export const JSON_MAX_DEPTH_LIMIT: u32 = 1000;
/** Default largest input of canonicalizeJson, in bytes. */
export const JSON_DEFAULT_MAX_INPUT_BYTES: u32 = 1048576;
/** Default largest canonical output, in UTF-8 bytes, on both paths (16 MiB). */
export const JSON_DEFAULT_MAX_OUTPUT_BYTES: u32 = 16777216;
/** json_canonicalize flag: escape U+007F–U+009F like older chio Rust kernels. */
export const JSON_FLAG_ESCAPE_DEL_AND_C1: u32 = 1;
/** json_canonicalize result word (u32 LE at ARG_RESULT + this): output address. */
export const JSON_RESULT_OUTPUT: usize = 0;
/** json_canonicalize result word: output length in bytes. */
export const JSON_RESULT_LENGTH: usize = 4;
/** json_canonicalize result word: byte offset of the error in the input (0 on success). */
export const JSON_RESULT_ERROR_OFFSET: usize = 8;

// ---- Status codes of the JSON transcoder (assembly/json/status.ts), returned by json_canonicalize ----

export const STATUS_OK: i32 = 0;
/** RFC 8259 grammar violation (also NaN/Infinity, BOM). */
export const STATUS_INVALID_JSON: i32 = 1;
/** Non-whitespace after the top-level value. */
export const STATUS_TRAILING_DATA: i32 = 2;
/** RFC 3629 §4 violation (overlong, surrogate, > U+10FFFF, truncated). */
export const STATUS_INVALID_UTF8: i32 = 3;
/** \uD800-style escape without its partner (RFC 8259 §8.2). */
export const STATUS_LONE_SURROGATE: i32 = 4;
/** Same member name twice after unescaping (RFC 7493 §2.3). */
export const STATUS_DUPLICATE_KEY: i32 = 5;
/** Nesting beyond the caller's limit. */
export const STATUS_TOO_DEEP: i32 = 6;
/** Input or output beyond its limit, or memory cannot grow. */
export const STATUS_TOO_LARGE: i32 = 7;
/** Literal overflows binary64 (RFC 7493 §2.2). */
export const STATUS_NUMBER_OUT_OF_RANGE: i32 = 8;

// ---- Handshake envelope verdicts (assembly/handshake/envelope.ts), returned by envelope_verify ----

export const ENVELOPE_OK: i32 = 0;
export const ENVELOPE_MALFORMED: i32 = 1;
export const ENVELOPE_UNSUPPORTED_SCHEMA: i32 = 2;
export const ENVELOPE_WEAK_PUBLIC_KEY: i32 = 3;
export const ENVELOPE_INVALID_SIGNATURE: i32 = 4;
/** Written by JS only (verifyEnvelopeBatch), never by wasm: the input was refused before the call, as too large. */
export const ENVELOPE_REFUSED_TOO_LARGE: i32 = -1;
/** Written by JS only (verifyEnvelopeBatch), never by wasm: the input string has a lone surrogate (offset in ENVELOPE_RESULT_OFFSET). */
export const ENVELOPE_REFUSED_LONE_SURROGATE: i32 = -2;
/** With ENVELOPE_FLAG_DEFER_SIGNATURE: everything but the signature holds; key, signature and canonical challenge are in the result block for the caller to verify. */
export const ENVELOPE_SIGNATURE_DEFERRED: i32 = 5;

// ---- Why an envelope is malformed (result word ENVELOPE_RESULT_REASON); 1…8 are the STATUS_* codes ----

/** A struct field (or the envelope) is not a JSON object. */
export const REASON_NOT_AN_OBJECT: u32 = 10;
/** serde deny_unknown_fields. */
export const REASON_UNKNOWN_FIELD: u32 = 11;
export const REASON_DUPLICATE_FIELD: u32 = 12;
export const REASON_MISSING_FIELD: u32 = 13;
export const REASON_NOT_A_STRING: u32 = 14;
/** Not a JSON integer literal in 0…2^64−1. */
export const REASON_BAD_TIMESTAMP: u32 = 15;
/** Odd number of digits or a non-hex character. */
export const REASON_BAD_HEX: u32 = 16;
/** Key not 32 bytes or signature not 64 bytes. */
export const REASON_BAD_LENGTH: u32 = 17;
/** Declared key does not decode as a curve point. */
export const REASON_NOT_A_POINT: u32 = 18;

// ---- envelope_verify flags ----

export const ENVELOPE_FLAG_ZIP215: u32 = 1;
export const ENVELOPE_FLAG_REJECT_WEAK_KEYS: u32 = 2;
export const ENVELOPE_FLAG_ESCAPE_DEL_AND_C1: u32 = 4;
/** Stop before the signature check and return ENVELOPE_SIGNATURE_DEFERRED (envelope_verify_batch then checks the signatures in a batch). */
export const ENVELOPE_FLAG_DEFER_SIGNATURE: u32 = 8;

// ---- envelope_verify result block, as u32 LE words from ARG_RESULT ----

/** Malformed reason (REASON_* or STATUS_*). */
export const ENVELOPE_RESULT_REASON: usize = 0;
/** Byte offset of the problem in the input. */
export const ENVELOPE_RESULT_OFFSET: usize = 4;
/** ENVELOPE_FIELD_* the problem concerns (0 if none). */
export const ENVELOPE_RESULT_FIELD: usize = 8;
/** 4 × (address, length): unescaped schema, localKernelId, remoteKernelId, nonce (also on UNSUPPORTED_SCHEMA). */
export const ENVELOPE_RESULT_STRINGS: usize = 12;
/** (address, length) of the timestamp digits in the input. */
export const ENVELOPE_RESULT_TIMESTAMP: usize = 44;
/** (address, length) of the canonical challenge bytes. */
export const ENVELOPE_RESULT_CANONICAL: usize = 52;
/** 32 bytes (on OK and on WEAK_PUBLIC_KEY). */
export const ENVELOPE_RESULT_PUBLIC_KEY: usize = 64;
/** 64 bytes (on OK). */
export const ENVELOPE_RESULT_SIGNATURE: usize = 96;

// ---- Envelope fields named by ENVELOPE_RESULT_FIELD (0: the envelope itself) ----

export const ENVELOPE_FIELD_CHALLENGE: u32 = 1;
export const ENVELOPE_FIELD_DECLARED_PUBLIC_KEY: u32 = 2;
export const ENVELOPE_FIELD_SIGNATURE: u32 = 3;
export const ENVELOPE_FIELD_SCHEMA: u32 = 4;
export const ENVELOPE_FIELD_LOCAL_KERNEL_ID: u32 = 5;
export const ENVELOPE_FIELD_REMOTE_KERNEL_ID: u32 = 6;
export const ENVELOPE_FIELD_NONCE: u32 = 7;
export const ENVELOPE_FIELD_TIMESTAMP: u32 = 8;

// ---- Test-only hooks (assembly/testing.ts; in build/chio.test.wasm, never in the release module) ----

/** Inputs of the test_fe_* / test_sc_* hooks: operands at ARG_RESULT + this, +32, +64. */
export const TEST_HOOK_INPUT: usize = 0;
/** Output of the test_fe_* / test_sc_* hooks, at ARG_RESULT + this. */
export const TEST_HOOK_OUTPUT: usize = 256;
