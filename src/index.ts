// chio-trust public surface. Everything exported from the package is listed here.

// The WebAssembly core: lazy synchronous instantiation, or explicit init for strict hosts.
export { init, initSync } from "./wasm/instance.js";
export type { WasmSource } from "./wasm/instance.js";

// Typed errors shared by every layer, and byte helpers.
export { InvalidTypeError, InvalidLengthError, InvalidHexError, WasmCoreError, CanonicalJsonError } from "./errors.js";
export type { CanonicalJsonErrorCode } from "./errors.js";
export { bytesToHex, hexToBytes } from "./bytes.js";

// Ed25519 (RFC 8032), @noble/ed25519-shaped.
export { ed25519, isValidPublicKey, isSmallOrderPublicKey } from "./ed25519.js";
export type { VerifyOptions, VerifyBatchItem } from "./ed25519.js";

// RFC 8785 canonical JSON and one-call envelope verification.
export { canonicalize, canonicalBytes } from "./canonical/value.js";
export { canonicalizeJson } from "./canonical/json.js";
export type { CanonicalizeJsonOptions } from "./canonical/json.js";
export { verifyEnvelopeBytes, verifyEnvelopeBatch } from "./handshake/verify-envelope.js";
export type {
  EnvelopeFailureCode,
  EnvelopeFieldPath,
  EnvelopeProblem,
  EnvelopeVerdict,
  VerifiedEnvelope,
  VerifyEnvelopeOptions,
} from "./handshake/verify-envelope.js";

// The chio kernel trust handshake and its peer stores.
export {
  FEDERATION_HANDSHAKE_SCHEMA,
  DEFAULT_ROTATION_WINDOW_SECS,
  DEFAULT_HANDSHAKE_MAX_SKEW_SECS,
  DEFAULT_MAX_ENVELOPE_BYTES,
  MAX_ENVELOPE_BYTES_LIMIT,
  DEFAULT_REPLAY_CACHE_ENTRIES,
  DEFAULT_REPLAY_CACHE_KEY_UNITS,
  DEFAULT_REPLAY_CACHE_ENTRIES_PER_PEER,
  DEFAULT_REPLAY_CACHE_KEY_UNITS_PER_PEER,
  PeerHandshakeError,
  InvalidTimeError,
  InvalidConfigError,
  InvalidPublicKeyError,
  PublicKey,
  Signature,
  Keypair,
  HandshakeChallenge,
  PeerHandshakeEnvelope,
  FederationPeer,
  ReplayCache,
  KernelTrustExchange,
  InMemoryPeerStore,
} from "./handshake/index.js";
export type {
  PeerHandshakeErrorCode,
  PeerHandshakeErrorFields,
  MalformedEnvelopeProblem,
  HandshakeSigner,
  HandshakeChallengeFields,
  ChallengeBytesOptions,
  PeerHandshakeEnvelopeJson,
  EnvelopeParseOptions,
  EnvelopeVerifyOptions,
  FederationPeerJson,
  FederationPeerFields,
  ReplayCacheLimits,
  KernelTrustExchangeConfig,
  KernelTrustExchangeOptions,
  HandshakeHardening,
  HandshakeHardeningInput,
  HandshakeEvent,
  HandshakeEventHandler,
  EnvelopeInput,
  FederationPeerStore,
  MaybePromise,
  ReplayStore,
} from "./handshake/index.js";
