// The chio federation kernel trust handshake: everything the package exports from this folder.
export {
  FEDERATION_HANDSHAKE_SCHEMA,
  DEFAULT_ROTATION_WINDOW_SECS,
  DEFAULT_HANDSHAKE_MAX_SKEW_SECS,
  DEFAULT_MAX_ENVELOPE_BYTES,
  MAX_ENVELOPE_BYTES_LIMIT,
  MAX_ANCHOR_KEYS,
  DEFAULT_REPLAY_CACHE_ENTRIES,
  DEFAULT_REPLAY_CACHE_KEY_UNITS,
  DEFAULT_REPLAY_CACHE_ENTRIES_PER_PEER,
  DEFAULT_REPLAY_CACHE_KEY_UNITS_PER_PEER,
} from "./constants.js";
export { PeerHandshakeError, InvalidTimeError, InvalidConfigError, InvalidPublicKeyError } from "./errors.js";
// The shared classes the handshake's calls throw too (argument checks, the core, the random
// source, prepared secret keys, canonical JSON), so this entry alone can tell them apart (review 91 F8).
export {
  InvalidTypeError,
  InvalidLengthError,
  InvalidHexError,
  WasmCoreError,
  RandomSourceError,
  PreparedSecretKeyError,
  CanonicalJsonError,
} from "../errors.js";
export type { WasmCoreErrorCode, PreparedKeyErrorCode, CanonicalJsonErrorCode } from "../errors.js";
export { MAX_VERIFY_BATCH_ITEMS } from "../bytes.js";
export type { PeerHandshakeErrorCode, PeerHandshakeErrorFields, MalformedEnvelopeProblem } from "./errors.js";
export { PublicKey, Signature, Keypair } from "./keys.js";
export type { HandshakeSigner } from "./keys.js";
export { HandshakeChallenge } from "./challenge.js";
export type { HandshakeChallengeFields, ChallengeBytesOptions } from "./challenge.js";
export { verifyEnvelopeBytes, verifyEnvelopeBatch } from "./verify-envelope.js";
export type {
  EnvelopeFailureCode,
  EnvelopeFieldPath,
  EnvelopeProblem,
  EnvelopeVerdict,
  VerifiedEnvelope,
  VerifyEnvelopeOptions,
} from "./verify-envelope.js";
export { PeerHandshakeEnvelope } from "./envelope.js";
export type { PeerHandshakeEnvelopeJson, EnvelopeParseOptions, EnvelopeVerifyOptions } from "./envelope.js";
export { FederationPeer } from "./peer.js";
export type { FederationPeerJson, FederationPeerFields } from "./peer.js";
export { ReplayCache } from "./replay-cache.js";
export type { ReplayCacheLimits } from "./replay-cache.js";
export { KernelTrustExchange } from "./exchange.js";
export type {
  KernelTrustExchangeConfig,
  KernelTrustExchangeOptions,
  AcceptOptions,
  AcceptedChallenge,
  HandshakeHardening,
  HandshakeHardeningInput,
  HandshakeEvent,
  HandshakeEventHandler,
  EnvelopeInput,
  AnchorKeys,
} from "./exchange.js";
export { InMemoryPeerStore } from "./memory-peer-store.js";
export type { FederationPeerStore, MaybePromise, ReplayStore } from "./ports.js";
