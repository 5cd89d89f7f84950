// The server half of the handshake over HTTP (docs/protocol.md §5): POST /federation/handshake
// takes the caller's envelope, accepts it with the kernel's exchange (which verifies it and pins
// the caller), and answers with this kernel's envelope addressed to the caller and carrying the
// CALLER'S nonce, so the caller can tell the answer was made for its request.
//
// Hostile input is bounded before any work: the body is limited (default 64 KiB, refused as soon
// as Content-Length or the bytes read pass it), the whole request must arrive within
// requestTimeoutMs, the content type must be JSON. Every refusal is a 4xx (5xx only for a failing
// store) with a JSON body { "error": { "code", "message" } }; a malformed body never reaches the
// store (the exchange reads the store only after the envelope's signature holds, and writes it
// only on success), and no request can throw out of the handler.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { DEFAULT_MAX_ENVELOPE_BYTES } from "../handshake/constants.js";
import { PeerHandshakeError, type PeerHandshakeErrorCode } from "../handshake/errors.js";
import type { KernelTrustExchange } from "../handshake/exchange.js";
import { InvalidTypeError } from "../errors.js";

/** The path both halves use. */
export const HANDSHAKE_PATH = "/federation/handshake";

/** Options of createHandshakeServer. */
export interface HandshakeServerOptions {
  /** Largest request body in bytes. Default 65536 (the exchange's default envelope bound). */
  maxBodyBytes?: number;
  /** Time for a whole request (headers and body), in ms. Default 10000. */
  requestTimeoutMs?: number;
  /** Called with every refused or failed request (for logs); its throws are ignored. */
  onRequestError?: (info: { status: number; code: string; message: string }) => void;
}

/** HTTP status for each handshake refusal. */
const STATUS: Record<PeerHandshakeErrorCode, number> = {
  MALFORMED_ENVELOPE: 400,
  UNSUPPORTED_SCHEMA: 400,
  CANONICAL_JSON: 400,
  INVALID_SIGNATURE: 403,
  WEAK_PUBLIC_KEY: 403,
  ADDRESS_MISMATCH: 403,
  KERNEL_ID_MISMATCH: 403,
  CLOCK_SKEW_EXCEEDED: 403,
  MISSING_TRUST_ANCHOR: 403,
  UNEXPECTED_PEER_KEY: 403,
  PEER_NOT_PINNED: 403,
  PEER_STALE: 403,
  REPLAYED_NONCE: 409,
  STORE_FAILED: 503,
  SIGNING_FAILED: 500,
};

class RequestRefusal extends Error {
  constructor(readonly status: number, readonly code: string, message: string) {
    super(message);
  }
}

function positiveInteger(value: unknown, name: string, fallback: number, max: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 1 || value > max) {
    throw new InvalidTypeError(`${name} must be an integer in 1..${max}`);
  }
  return value;
}

/**
 * A node:http server (not yet listening) answering POST /federation/handshake for `exchange`.
 * Listen on it as usual (`server.listen(port, "127.0.0.1")`).
 */
export function createHandshakeServer(exchange: KernelTrustExchange, options: HandshakeServerOptions = {}): Server {
  if (exchange === null || typeof exchange !== "object" || typeof exchange.acceptEnvelope !== "function" || typeof exchange.localEnvelope !== "function") {
    throw new InvalidTypeError("exchange must be a KernelTrustExchange");
  }
  if (options === null || typeof options !== "object") throw new InvalidTypeError("options must be an object");
  const maxBodyBytes = positiveInteger(options.maxBodyBytes, "maxBodyBytes", DEFAULT_MAX_ENVELOPE_BYTES, 16 * 1024 * 1024);
  const requestTimeoutMs = positiveInteger(options.requestTimeoutMs, "requestTimeoutMs", 10_000, 3_600_000);
  const onRequestError = options.onRequestError;
  if (onRequestError !== undefined && typeof onRequestError !== "function") throw new InvalidTypeError("onRequestError must be a function");

  const fail = (response: ServerResponse, status: number, code: string, message: string, extraHeaders: Record<string, string> = {}) => {
    try {
      onRequestError?.({ status, code, message });
    } catch {
      // a logging hook must not change the answer
    }
    send(response, status, JSON.stringify({ error: { code, message } }), extraHeaders);
  };

  const handle = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    const url = request.url ?? "";
    const pathOnly = url.split("?", 1)[0];
    if (pathOnly !== HANDSHAKE_PATH) throw new RequestRefusal(404, "NOT_FOUND", `no route ${pathOnly.slice(0, 100)}`);
    if (request.method !== "POST") throw new RequestRefusal(405, "METHOD_NOT_ALLOWED", "use POST");
    if (!isJsonContentType(request.headers["content-type"])) {
      throw new RequestRefusal(415, "UNSUPPORTED_MEDIA_TYPE", "Content-Type must be application/json (UTF-8)");
    }
    const body = await readBody(request, maxBodyBytes);
    let text: string;
    try {
      text = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(body);
    } catch {
      throw new RequestRefusal(400, "MALFORMED_ENVELOPE", "body is not valid UTF-8");
    }
    // Who claims to be calling: read only to name the peer the exchange must check the envelope
    // against (its anchor or pin); nothing is trusted or stored until acceptEnvelope succeeds.
    let claimed: unknown;
    let nonce: unknown;
    try {
      const parsed = JSON.parse(text) as { challenge?: { localKernelId?: unknown; nonce?: unknown } } | null;
      claimed = parsed?.challenge?.localKernelId;
      nonce = parsed?.challenge?.nonce;
    } catch {
      throw new RequestRefusal(400, "MALFORMED_ENVELOPE", "body is not JSON");
    }
    if (typeof claimed !== "string" || typeof nonce !== "string") {
      throw new RequestRefusal(400, "MALFORMED_ENVELOPE", "body is not a handshake envelope (challenge.localKernelId and challenge.nonce must be strings)");
    }
    await exchange.acceptEnvelope(text, claimed);
    // Accepted: the text passed serde's rules (no duplicate members), so JSON.parse read the same
    // nonce the signature covers. The answer is addressed to the caller and carries its nonce.
    const answer = exchange.localEnvelope(claimed, nonce);
    send(response, 200, JSON.stringify(answer));
  };

  const server = createServer({
    requestTimeout: requestTimeoutMs,
    headersTimeout: Math.min(requestTimeoutMs, 60_000),
    // Node checks the two timeouts above only every connectionsCheckingInterval (30 s by default).
    connectionsCheckingInterval: Math.min(30_000, Math.max(50, Math.floor(requestTimeoutMs / 4))),
  }, (request, response) => {
    handle(request, response).catch((error: unknown) => {
      if (response.headersSent || response.destroyed) return;
      if (error instanceof RequestRefusal) {
        const headers: Record<string, string> = {};
        if (error.status === 413) headers.Connection = "close"; // the rest of the body is not read
        if (error.status === 405) headers.Allow = "POST";
        fail(response, error.status, error.code, error.message, headers);
      } else if (error instanceof PeerHandshakeError) {
        const status = STATUS[error.code as PeerHandshakeErrorCode] ?? 400;
        // Store failures are the server's business: the caller learns the code, not the cause.
        fail(response, status, error.code, status >= 500 ? "the server could not complete the handshake" : error.message);
      } else if (error !== null && typeof error === "object" && typeof (error as { code?: unknown }).code === "string") {
        const coded = error as { code: string; message?: string };
        fail(response, 400, coded.code, String(coded.message ?? coded.code));
      } else {
        fail(response, 500, "INTERNAL_ERROR", "the server could not complete the handshake");
      }
    });
  });
  // A malformed request line or headers: answer 400 and drop the connection (never throw).
  server.on("clientError", (error: NodeJS.ErrnoException, socket) => {
    if (socket.writable && !socket.destroyed) {
      const code = error.code === "ERR_HTTP_REQUEST_TIMEOUT" ? "REQUEST_TIMEOUT" : "BAD_REQUEST";
      const status = code === "REQUEST_TIMEOUT" ? 408 : 400;
      const body = JSON.stringify({ error: { code, message: code === "REQUEST_TIMEOUT" ? "request not received in time" : "malformed HTTP request" } });
      socket.end(`HTTP/1.1 ${status} ${status === 408 ? "Request Timeout" : "Bad Request"}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
    } else {
      socket.destroy();
    }
  });
  return server;
}

function isJsonContentType(header: string | undefined): boolean {
  if (typeof header !== "string") return false;
  const [type, ...params] = header.split(";").map((part) => part.trim().toLowerCase());
  if (type !== "application/json") return false;
  return params.every((param) => !param.startsWith("charset=") || param === "charset=utf-8" || param === 'charset="utf-8"');
}

/** The body, refused (413) as soon as Content-Length or the bytes received exceed `limit`. */
function readBody(request: IncomingMessage, limit: number): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    const declared = request.headers["content-length"];
    if (declared !== undefined && !(Number(declared) <= limit)) {
      request.resume(); // drain without keeping anything; the connection is closed after the answer
      reject(new RequestRefusal(413, "BODY_TOO_LARGE", `body over ${limit} bytes`));
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    request.on("data", (chunk: Buffer) => {
      if (done) return;
      size += chunk.length;
      if (size > limit) {
        done = true;
        chunks.length = 0;
        request.resume();
        reject(new RequestRefusal(413, "BODY_TOO_LARGE", `body over ${limit} bytes`));
        return;
      }
      chunks.push(chunk);
    });
    request.on("end", () => {
      if (done) return;
      done = true;
      resolve(Buffer.concat(chunks, size));
    });
    request.on("error", (error) => {
      if (done) return;
      done = true;
      reject(new RequestRefusal(400, "BAD_REQUEST", `request aborted: ${error.message}`));
    });
    request.on("aborted", () => {
      if (done) return;
      done = true;
      reject(new RequestRefusal(400, "BAD_REQUEST", "request aborted"));
    });
  });
}

function send(response: ServerResponse, status: number, body: string, extraHeaders: Record<string, string> = {}): void {
  response.writeHead(status, {
    "Content-Type": "application/json; charset=utf-8",
    "Content-Length": String(Buffer.byteLength(body)),
    "Cache-Control": "no-store",
    ...extraHeaders,
  });
  response.end(body);
}
