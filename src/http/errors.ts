// Typed errors of the HTTP transport (chio-trust/http). Refusals of the handshake itself stay
// PeerHandshakeError (the exchange's codes); these cover the transport around it.

/** Stable codes of HandshakeHttpError. */
export type HandshakeHttpErrorCode =
  | "INVALID_URL" //        baseUrl is not an http(s) URL
  | "NETWORK_ERROR" //      the request could not be sent or the answer not read
  | "TIMEOUT" //            no complete answer within timeoutMs
  | "RESPONSE_TOO_LARGE" // the answer exceeds maxResponseBytes
  | "INVALID_ANSWER" //     the answer is not a JSON envelope whose signature holds (`reason` says why)
  | "STALE_ANSWER" //       the answer's envelope does not carry this request's nonce (a replayed or misrouted answer)
  | "REFUSED_BY_PEER"; //   the server refused the request; `status` and `peerCode` carry its answer

/** A transport failure of handshakeWith; nothing is pinned when it is thrown. */
export class HandshakeHttpError extends Error {
  readonly code: HandshakeHttpErrorCode;
  /** HTTP status of the server's answer, when there was one. */
  readonly status: number | undefined;
  /** The `code` of the server's JSON error body (REFUSED_BY_PEER), or the envelope failure (INVALID_ANSWER). */
  readonly peerCode: string | undefined;
  constructor(code: HandshakeHttpErrorCode, message: string, details: { status?: number; peerCode?: string; cause?: unknown } = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = "HandshakeHttpError";
    this.code = code;
    this.status = details.status;
    this.peerCode = details.peerCode;
  }
}
