// Errors of the handshake layer. PeerHandshakeError mirrors the reference's `PeerHandshakeError`
// (docs/protocol.md §9): every variant becomes a stable `code`, the message is the reference's
// Display text with the same facts, and the facts themselves are also available, typed and in
// full, in `fields`. Every string interpolated into a message goes through displayPeerText
// (docs/protocol.md §11): much of it is chosen by the remote peer, and a message must not carry
// 60 KB of it or a line break that forges a log line. Misuse of the API (a `now` that is not a unix second, a
// bad config value, a key that is not a curve point) gets its own small error classes, so a
// caller can tell "the peer sent something bad" from "my code passed something bad".

import type { EnvelopeFieldPath, EnvelopeProblem } from "./verify-envelope.js";

// Display of peer text and of config values: in src/errors.ts, which the canonical layer (below
// this one) uses too; re-exported here for the handshake's modules.
import { freezeAtLoad } from "../bytes.js";
import { describeConfigValue, describeThrown, displayPeerText, nameError, PEER_TEXT_SHOWN_UNITS } from "../errors.js";
export { describeConfigValue, describeThrown, displayPeerText, PEER_TEXT_SHOWN_UNITS };

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
  /**
   * `problem` and `field` say, as data, what is wrong and where (docs/protocol.md §9); `reason`
   * is the same for humans. Set on every MALFORMED_ENVELOPE this library raises from text or
   * bytes, and from the exchange's own checks; an object input's structural errors may omit them.
   */
  MALFORMED_ENVELOPE: { reason: string; problem?: MalformedEnvelopeProblem; field?: EnvelopeFieldPath };
  WEAK_PUBLIC_KEY: { publicKey: string };
  REPLAYED_NONCE: { kernelId: string; nonce: string };
}

/**
 * Why an envelope is malformed: the envelope parser's problems (EnvelopeProblem), plus the
 * exchange's own: a timestamp above 2^53−1 under requireSafeTimestamps (UNSAFE_TIMESTAMP), a
 * nonce the replay store can never hold (NONCE_TOO_LONG).
 */
export type MalformedEnvelopeProblem = EnvelopeProblem | "UNSAFE_TIMESTAMP" | "NONCE_TOO_LONG";

/**
 * A handshake step failed; every failure is fail-closed: nothing is pinned and nothing changes,
 * except that a pin write the peer store failed may still have landed (docs/protocol.md §5 step
 * 10: its nonce then stays held).
 */
export class PeerHandshakeError<C extends PeerHandshakeErrorCode = PeerHandshakeErrorCode> extends Error {
  readonly code: C;
  readonly fields: Readonly<PeerHandshakeErrorFields[C]>;
  constructor(code: C, message: string, fields: PeerHandshakeErrorFields[C], options?: { cause?: unknown }) {
    super(message, options);
    nameError(this, "PeerHandshakeError");
    this.code = code;
    // Object.freeze as captured at load: the realm's can be replaced (README "Hardening").
    this.fields = freezeAtLoad({ ...fields });
  }
}

// One constructor per variant keeps each message next to its reference text. Texts are the
// reference's `#[error(...)]` strings verbatim where the reference has the variant, with every
// interpolated string shown through displayPeerText (`shown`); `fields` keep the full values.
const shown = displayPeerText;
export const handshakeErrors = {
  unsupportedSchema: (schema: string) =>
    new PeerHandshakeError("UNSUPPORTED_SCHEMA", `unsupported handshake schema: ${shown(schema)}`, { schema }),
  canonicalJson: (reason: string, cause?: unknown) =>
    new PeerHandshakeError("CANONICAL_JSON", `canonical JSON encoding failed: ${shown(reason)}`, { reason }, { cause }),
  signingFailed: (reason: string, cause?: unknown) =>
    new PeerHandshakeError("SIGNING_FAILED", `handshake signing failed: ${shown(reason)}`, { reason }, { cause }),
  invalidSignature: () => new PeerHandshakeError("INVALID_SIGNATURE", "remote handshake signature is invalid", {}),
  addressMismatch: (addressedTo: string, actual: string) =>
    new PeerHandshakeError(
      "ADDRESS_MISMATCH",
      `remote envelope is addressed to kernel_id ${shown(addressedTo)} but we are ${shown(actual)}`,
      { addressedTo, actual },
    ),
  kernelIdMismatch: (declared: string, expected: string) =>
    new PeerHandshakeError(
      "KERNEL_ID_MISMATCH",
      `remote envelope declares self as kernel_id ${shown(declared)} but we expected ${shown(expected)}`,
      { declared, expected },
    ),
  clockSkewExceeded: (envelope: number | bigint, local: number, skew: number) =>
    new PeerHandshakeError(
      "CLOCK_SKEW_EXCEEDED",
      `remote envelope timestamp ${envelope} drifts from local clock ${local} beyond ${skew}s`,
      { envelope, local, skew },
    ),
  peerNotPinned: (kernelId: string) =>
    new PeerHandshakeError("PEER_NOT_PINNED", `peer ${shown(kernelId)} is not pinned; run a handshake before resolving`, {
      kernelId,
    }),
  peerStale: (kernelId: string) =>
    new PeerHandshakeError("PEER_STALE", `peer ${shown(kernelId)} is stale and must be re-handshaked before use`, { kernelId }),
  missingTrustAnchor: (kernelId: string) =>
    new PeerHandshakeError(
      "MISSING_TRUST_ANCHOR",
      `peer ${shown(kernelId)} is not trusted for first contact; configure a trust anchor before accepting handshakes`,
      { kernelId },
    ),
  unexpectedPeerKey: (kernelId: string, expected: string, actual: string) =>
    new PeerHandshakeError(
      "UNEXPECTED_PEER_KEY",
      `peer ${shown(kernelId)} declared unexpected public key; expected ${expected}, got ${actual}`,
      { kernelId, expected, actual },
    ),
  // Not in the reference, whose anchors cannot change once the exchange runs: a pin written
  // under an anchor that has since been replaced (docs/protocol.md §6).
  pinNotAnchor: (kernelId: string, expected: string, actual: string) =>
    new PeerHandshakeError(
      "UNEXPECTED_PEER_KEY",
      `pin for peer ${shown(kernelId)} holds a key that is not its trust anchor; expected ${expected}, got ${actual}`,
      { kernelId, expected, actual },
    ),
  // The reference's "trust store is poisoned and cannot service requests" covers only a
  // poisoned mutex; here any store failure lands here, so the text names the operation and why.
  storeFailed: (operation: string, reason: string, cause?: unknown) =>
    new PeerHandshakeError(
      "STORE_FAILED",
      `trust store failed and cannot service requests: ${shown(operation)}: ${shown(reason)}`,
      { operation, reason },
      { cause },
    ),
  malformedEnvelope: (reason: string, cause?: unknown, where?: { problem?: MalformedEnvelopeProblem; field?: EnvelopeFieldPath }) =>
    new PeerHandshakeError(
      "MALFORMED_ENVELOPE",
      `remote handshake envelope is malformed: ${shown(reason)}`,
      where?.problem === undefined ? { reason } : where.field === undefined ? { reason, problem: where.problem } : { reason, problem: where.problem, field: where.field },
      { cause },
    ),
  weakPublicKey: (publicKey: string) =>
    new PeerHandshakeError(
      "WEAK_PUBLIC_KEY",
      `remote envelope declares weak public key ${shown(publicKey)} (small order); refusing before signature checks`,
      { publicKey },
    ),
  replayedNonce: (kernelId: string, nonce: string) =>
    new PeerHandshakeError(
      "REPLAYED_NONCE",
      `peer ${shown(kernelId)} reused nonce "${shown(nonce)}" within the replay window`,
      { kernelId, nonce },
    ),
};

/** Thrown when a time argument (`now`, a timestamp to sign, a config duration) is not a valid unix-seconds integer. */
export class InvalidTimeError extends RangeError {
  readonly code = "INVALID_TIME" as const;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    nameError(this, "InvalidTimeError");
  }
}

/** Thrown when a configuration value is out of range or of the wrong kind. */
export class InvalidConfigError extends RangeError {
  readonly code = "INVALID_CONFIG" as const;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    nameError(this, "InvalidConfigError");
  }
}

// InvalidPublicKeyError lives in src/errors.ts (ed25519.preparePublicKey throws it too).
export { InvalidPublicKeyError } from "../errors.js";
