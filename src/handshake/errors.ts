// Errors of the handshake layer. PeerHandshakeError mirrors the Rust `PeerHandshakeError`
// (trust_establishment.rs; chio-spec.md §1.A): every variant becomes a stable `code`, the
// message is the reference's Display text with the same facts, and the facts themselves are
// also available, typed, in `fields`. Misuse of the API (a `now` that is not a unix second, a
// bad config value, a key that is not a curve point) gets its own small error classes, so a
// caller can tell "the peer sent something bad" from "my code passed something bad".

/** Stable codes of PeerHandshakeError. The first twelve are the reference's variants. */
export type PeerHandshakeErrorCode =
  | "UNSUPPORTED_SCHEMA"
  | "CANONICAL_JSON"
  | "SIGNING_FAILED"
  | "INVALID_SIGNATURE"
  | "ADDRESS_MISMATCH"
  | "KERNEL_ID_MISMATCH"
  | "CLOCK_SKEW_EXCEEDED"
  | "PEER_NOT_PINNED"
  | "PEER_STALE"
  | "MISSING_TRUST_ANCHOR"
  | "UNEXPECTED_PEER_KEY"
  | "STORE_FAILED" // replaces the reference's StorePoisoned: any store throw or rejection
  | "MALFORMED_ENVELOPE" // new: what serde would refuse to deserialize, plus size and timestamp-range rules
  | "WEAK_PUBLIC_KEY" // new: declared key of small order (including the identity)
  | "REPLAYED_NONCE"; // new: the same (peer, nonce) accepted within twice the skew window

/** The facts each code carries, named after the reference's variant fields (camelCase). */
export interface PeerHandshakeErrorFields {
  UNSUPPORTED_SCHEMA: { schema: string };
  CANONICAL_JSON: { reason: string };
  SIGNING_FAILED: { reason: string };
  INVALID_SIGNATURE: Record<string, never>;
  ADDRESS_MISMATCH: { addressedTo: string; actual: string };
  KERNEL_ID_MISMATCH: { declared: string; expected: string };
  CLOCK_SKEW_EXCEEDED: { envelope: number | bigint; local: number; skew: number };
  PEER_NOT_PINNED: { kernelId: string };
  PEER_STALE: { kernelId: string };
  MISSING_TRUST_ANCHOR: { kernelId: string };
  UNEXPECTED_PEER_KEY: { kernelId: string; expected: string; actual: string };
  STORE_FAILED: { operation: string; reason: string };
  MALFORMED_ENVELOPE: { reason: string };
  WEAK_PUBLIC_KEY: { publicKey: string };
  REPLAYED_NONCE: { kernelId: string; nonce: string };
}

/** A handshake step failed; every failure is fail-closed (nothing is pinned, nothing changes). */
export class PeerHandshakeError<C extends PeerHandshakeErrorCode = PeerHandshakeErrorCode> extends Error {
  readonly code: C;
  readonly fields: Readonly<PeerHandshakeErrorFields[C]>;
  constructor(code: C, message: string, fields: PeerHandshakeErrorFields[C], options?: { cause?: unknown }) {
    super(message, options);
    this.name = "PeerHandshakeError";
    this.code = code;
    this.fields = Object.freeze({ ...fields });
  }
}

// One constructor per variant keeps each message next to its reference text. Texts are the
// reference's `#[error(...)]` strings verbatim where the reference has the variant.
export const handshakeErrors = {
  unsupportedSchema: (schema: string) =>
    new PeerHandshakeError("UNSUPPORTED_SCHEMA", `unsupported handshake schema: ${schema}`, { schema }),
  canonicalJson: (reason: string, cause?: unknown) =>
    new PeerHandshakeError("CANONICAL_JSON", `canonical JSON encoding failed: ${reason}`, { reason }, { cause }),
  signingFailed: (reason: string, cause?: unknown) =>
    new PeerHandshakeError("SIGNING_FAILED", `handshake signing failed: ${reason}`, { reason }, { cause }),
  invalidSignature: () => new PeerHandshakeError("INVALID_SIGNATURE", "remote handshake signature is invalid", {}),
  addressMismatch: (addressedTo: string, actual: string) =>
    new PeerHandshakeError(
      "ADDRESS_MISMATCH",
      `remote envelope is addressed to kernel_id ${addressedTo} but we are ${actual}`,
      { addressedTo, actual },
    ),
  kernelIdMismatch: (declared: string, expected: string) =>
    new PeerHandshakeError(
      "KERNEL_ID_MISMATCH",
      `remote envelope declares self as kernel_id ${declared} but we expected ${expected}`,
      { declared, expected },
    ),
  clockSkewExceeded: (envelope: number | bigint, local: number, skew: number) =>
    new PeerHandshakeError(
      "CLOCK_SKEW_EXCEEDED",
      `remote envelope timestamp ${envelope} drifts from local clock ${local} beyond ${skew}s`,
      { envelope, local, skew },
    ),
  peerNotPinned: (kernelId: string) =>
    new PeerHandshakeError("PEER_NOT_PINNED", `peer ${kernelId} is not pinned; run a handshake before resolving`, {
      kernelId,
    }),
  peerStale: (kernelId: string) =>
    new PeerHandshakeError("PEER_STALE", `peer ${kernelId} is stale and must be re-handshaked before use`, { kernelId }),
  missingTrustAnchor: (kernelId: string) =>
    new PeerHandshakeError(
      "MISSING_TRUST_ANCHOR",
      `peer ${kernelId} is not trusted for first contact; configure a trust anchor before accepting handshakes`,
      { kernelId },
    ),
  unexpectedPeerKey: (kernelId: string, expected: string, actual: string) =>
    new PeerHandshakeError(
      "UNEXPECTED_PEER_KEY",
      `peer ${kernelId} declared unexpected public key; expected ${expected}, got ${actual}`,
      { kernelId, expected, actual },
    ),
  // The reference's "trust store is poisoned and cannot service requests" covers only a
  // poisoned mutex; here any store failure lands here, so the text names the operation and why.
  storeFailed: (operation: string, reason: string, cause?: unknown) =>
    new PeerHandshakeError(
      "STORE_FAILED",
      `trust store failed and cannot service requests: ${operation}: ${reason}`,
      { operation, reason },
      { cause },
    ),
  malformedEnvelope: (reason: string, cause?: unknown) =>
    new PeerHandshakeError("MALFORMED_ENVELOPE", `remote handshake envelope is malformed: ${reason}`, { reason }, { cause }),
  weakPublicKey: (publicKey: string) =>
    new PeerHandshakeError(
      "WEAK_PUBLIC_KEY",
      `remote envelope declares weak public key ${publicKey} (small order); refusing before signature checks`,
      { publicKey },
    ),
  replayedNonce: (kernelId: string, nonce: string) =>
    new PeerHandshakeError(
      "REPLAYED_NONCE",
      `peer ${kernelId} reused nonce ${JSON.stringify(nonce)} within the replay window`,
      { kernelId, nonce },
    ),
};

/** Thrown when a time argument (`now`, a timestamp to sign, a config duration) is not a valid unix-seconds integer. */
export class InvalidTimeError extends RangeError {
  readonly code = "INVALID_TIME" as const;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "InvalidTimeError";
  }
}

/** Thrown when a configuration value is out of range or of the wrong kind. */
export class InvalidConfigError extends RangeError {
  readonly code = "INVALID_CONFIG" as const;
  constructor(message: string) {
    super(message);
    this.name = "InvalidConfigError";
  }
}

/** Thrown when 32 bytes do not decode as an Ed25519 point (chio's `PublicKey` parse refuses them). */
export class InvalidPublicKeyError extends RangeError {
  readonly code = "INVALID_PUBLIC_KEY" as const;
  constructor(message: string) {
    super(message);
    this.name = "InvalidPublicKeyError";
  }
}
