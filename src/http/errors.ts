// Typed errors of the HTTP transport (chio-trust/http). Refusals of the handshake itself stay
// PeerHandshakeError (the exchange's codes); these cover the transport around it.
import { nameError } from "../errors.js";

/** Stable codes of HandshakeHttpError. */
export type HandshakeHttpErrorCode =
  | "INVALID_URL" //        baseUrl is not an http(s) URL
  | "NETWORK_ERROR" //      the request could not be sent or the answer not read
  | "TIMEOUT" //            no complete answer within timeoutMs, or before one of fetch's own time limits
  | "RESPONSE_TOO_LARGE" // the answer exceeds maxResponseBytes
  | "INVALID_ANSWER" //     the answer is not a JSON envelope whose signature holds (`peerCode` names the envelope check that failed, when one did)
  | "STALE_ANSWER" //       the answer's envelope does not carry this request's nonce (a replayed or misrouted answer)
  | "REFUSED_BY_PEER"; //   the server refused the request; `status` and `peerCode` carry its answer

/**
 * The codes of createHandshakeServer's own answers, `{"error": {"code", "message"}}`, beside the
 * handshake refusals, which carry PeerHandshakeError's codes (MALFORMED_ENVELOPE 400,
 * INVALID_SIGNATURE … 403, REPLAYED_NONCE 409, STORE_FAILED 503, SIGNING_FAILED 500).
 */
export type HandshakeServerAnswerCode =
  | "NOT_FOUND" //              404: a path other than /federation/handshake
  | "METHOD_NOT_ALLOWED" //     405: a method other than POST
  | "UNSUPPORTED_MEDIA_TYPE" // 415: not application/json in UTF-8
  | "BODY_TOO_LARGE" //         413: Content-Length or the body past the smaller of maxBodyBytes and the exchange's maxEnvelopeBytes
  | "REQUEST_TIMEOUT" //        408: the request was not complete within requestTimeoutMs
  | "HEADERS_TOO_LARGE" //      431: request line and headers over Node's maxHeaderSize
  | "EXPECTATION_FAILED" //     417: an Expect other than 100-continue
  | "BAD_REQUEST" //            400: other malformed HTTP, a request target of another scheme, an aborted body
  | "PEER_QUOTA_EXCEEDED" //    429: the caller is over its replay store's per-peer quota
  | "TOO_MANY_ACCEPTS" //       503 with Retry-After: 1: maxAcceptsInFlight handshakes already in progress
  | "TOO_MANY_BODIES" //        503 with Retry-After: 1, connection closed: the bytes of the bodies arriving would pass maxBodyBytesInFlight
  | "HANDSHAKE_TIMEOUT" //      503: the accept took longer than handshakeTimeoutMs (nothing is pinned after it)
  | "INTERNAL_ERROR" //         500: the server's own fault (the cause goes to the log hook only)
  | "TOO_MANY_CONNECTIONS"; //  never sent: what the log hook hears for a connection closed on arrival over maxConnections

/** A transport failure of handshakeWith; nothing is pinned when it is thrown. */
export class HandshakeHttpError extends Error {
  readonly code: HandshakeHttpErrorCode;
  /** HTTP status of the server's answer, when there was one. */
  readonly status: number | undefined;
  /** The `code` of the server's JSON error body (REFUSED_BY_PEER), or the envelope failure (INVALID_ANSWER). */
  readonly peerCode: string | undefined;
  constructor(code: HandshakeHttpErrorCode, message: string, details: { status?: number; peerCode?: string; cause?: unknown } = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    nameError(this, "HandshakeHttpError");
    this.code = code;
    this.status = details.status;
    this.peerCode = details.peerCode;
  }
}
