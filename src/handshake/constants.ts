// Protocol constants of the chio federation kernel handshake (V0; docs/protocol.md §2, §6, §7),
// plus the defaults of the hardening this port adds on top (docs/protocol.md §10).
//
// The one TypeScript source of these values: src/handshake/verify-envelope.ts (verifyEnvelopeBytes)
// imports them too. The AssemblyScript verifier (assembly/handshake/envelope.ts) cannot import
// TypeScript and keeps its own copy of the schema string; test/node/handshake-errors.test.ts checks the two agree.

/** The only challenge schema a chio V0 kernel accepts (`FEDERATION_HANDSHAKE_SCHEMA`). */
export const FEDERATION_HANDSHAKE_SCHEMA = "chio.federation-kernel-handshake.v1";

/** Default pin lifetime: twelve hours (`DEFAULT_ROTATION_WINDOW_SECS` = 12 * 60 * 60). */
export const DEFAULT_ROTATION_WINDOW_SECS = 43200;

/** Default tolerated clock skew, in either direction: five minutes (`DEFAULT_HANDSHAKE_MAX_SKEW_SECS`). */
export const DEFAULT_HANDSHAKE_MAX_SKEW_SECS = 300;

/**
 * Largest envelope, in UTF-8 bytes, accepted as text or bytes (and the bound on the summed
 * string lengths of an envelope given as an object). The reference has no limit; a real
 * envelope is about 400 bytes, so 64 KiB leaves room for long ids while bounding the work an
 * unauthenticated sender can cause (docs/protocol.md §10).
 */
export const DEFAULT_MAX_ENVELOPE_BYTES = 64 * 1024;

/**
 * Largest `maxEnvelopeBytes` (and `maxBytes`) accepted: 16 MiB. The wasm verifier needs a work
 * area of about 16 bytes per input byte (assembly/handshake/envelope.ts, WORK_FACTOR), so this keeps
 * one call within 256 MiB of WebAssembly memory. Every envelope size option (verifyEnvelopeBytes,
 * verifyEnvelopeBatch, the pool, fromJSON, maxEnvelopeBytes) refuses 0 and larger settings with
 * InvalidConfigError (wire.ts, expectMaxEnvelopeBytes): one range, 1 … MAX_ENVELOPE_BYTES_LIMIT.
 */
export const MAX_ENVELOPE_BYTES_LIMIT = 16 * 1024 * 1024;

/**
 * Most keys one peer's trust anchor may list (KernelTrustExchange.withTrustedPeer): the old and
 * the new key of a rotation, with room for an overlap of two rotations. Every handshake compares
 * the declared key with each listed key.
 */
export const MAX_ANCHOR_KEYS = 4;

/** Default number of (peer, nonce) entries the replay cache remembers before evicting the oldest. */
export const DEFAULT_REPLAY_CACHE_ENTRIES = 10_000;

/**
 * Default number of (peer, nonce) entries the replay cache remembers for ONE peer before evicting
 * that peer's own oldest (so one flooding peer cannot evict the others' entries). An honest
 * kernel handshakes about once per rotation window; 1024 per 2·skew (600 s) is far above that.
 */
export const DEFAULT_REPLAY_CACHE_ENTRIES_PER_PEER = 1024;

/**
 * Default bound on the summed length (UTF-16 code units) of the peer ids and nonces the replay
 * cache holds, so a pinned peer sending very long nonces cannot grow memory without limit.
 */
export const DEFAULT_REPLAY_CACHE_KEY_UNITS = 4 * 1024 * 1024;

/** Default bound on the summed length of one peer's remembered pairs (an eighth of the total). */
export const DEFAULT_REPLAY_CACHE_KEY_UNITS_PER_PEER = 512 * 1024;

/**
 * u64::MAX, the largest `timestamp` a chio kernel can put on the wire (serde `u64`). Values
 * above Number.MAX_SAFE_INTEGER are carried as bigint so they stay exact.
 */
export const U64_MAX = (1n << 64n) - 1n;
