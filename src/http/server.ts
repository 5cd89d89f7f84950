// The server half of the handshake over HTTP (docs/protocol.md §5): POST /federation/handshake
// takes the caller's envelope, accepts it with the kernel's exchange (which verifies it and pins
// the caller), and answers with this kernel's envelope addressed to the caller and carrying the
// CALLER'S nonce, so the caller can tell the answer was made for its request.
//
// Hostile input is bounded before any work: the body is limited (default 64 KiB, refused as soon
// as Content-Length or the bytes read pass it), the whole request must arrive within
// requestTimeoutMs, the content type must be JSON, and the path, method, type and declared length
// are checked before a byte of the body is read (a refusal there closes the connection, and an
// `Expect: 100-continue` request gets its refusal instead of "100 Continue"). Connections are
// capped (maxConnections), and so are accepts in progress across the server
// (maxAcceptsInFlight): one keep-alive connection can pipeline any number of requests, and Node
// emits each as it is parsed, so maxConnections alone does not bound them. Every refusal of the
// caller's request is a 4xx with a JSON body { "error": { "code", "message" } } (429 for a
// caller over its replay store's per-peer quota; 403 CLOCK_SKEW_EXCEEDED for an envelope past
// its window on a shared replay store's clock); 5xx means the server's own side failed or is
// full (its store, its signer, its clock, an accept that did not finish within
// handshakeTimeoutMs, or maxAcceptsInFlight reached), and its cause goes only to
// onRequestError. A malformed body never reaches the store (the exchange reads the store only
// after the envelope's signature holds, and writes it only on success), and no request can
// throw out of the handler.
//
// The answer is signed inside the accept, once every check has passed and right before the pin
// is written (acceptClaimedEnvelope's beforePin): a signer that fails (a remote or hardware signer, say)
// then leaves nothing pinned and no nonce used, where signing after the accept left the caller
// pinned behind a 500; and nothing is signed for a refused caller. Once handshakeTimeoutMs has
// passed, or the caller's connection has closed, the accept is abandoned (its signal, which the
// exchange checks before every pin write, the second one after a lost race included), so an
// accept whose store was slow up to there does not pin a caller that already got 503 or went
// away (only a pin write itself already in flight then can).
import { createServer, STATUS_CODES, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { Duplex } from "node:stream";
import { DEFAULT_MAX_ENVELOPE_BYTES } from "../handshake/constants.js";
import { displayPeerText, InvalidConfigError, PeerHandshakeError, type PeerHandshakeErrorCode } from "../handshake/errors.js";
import type { AcceptedChallenge, KernelTrustExchange } from "../handshake/exchange.js";
import { mapSet, readSettings } from "../bytes.js";
import { MapAtLoad, mapDelete, mapEntries, mapIteratorStep, weakMapGet, weakMapSet, weakSetAdd, weakSetHas } from "../collections.js";
import { absorbRejection } from "../handshake/maybe-promise.js";
import { abortController, throwIfAborted } from "../handshake/abort-signal.js";
import { InvalidTypeError, instanceOfOrFalse } from "../errors.js";
import { SharedStoreError } from "../stores/server-store.js";
import { SqliteStoreError } from "../stores/sqlite/errors.js";
import type { HandshakeServerAnswerCode } from "./errors.js";
import { HANDSHAKE_PATH } from "./path.js";

/**
 * How long a connection answered for a malformed or timed-out request (400 / 408 / 431) stays
 * open, ended on the server's side, for the client to read its answers and close its own side.
 */
const CLOSE_LINGER_MS = 500;

/** Default maxBodyBytesInFlight: 64 MiB. */
const DEFAULT_MAX_BODY_BYTES_IN_FLIGHT = 64 * 1024 * 1024;

/** Requests parsed on a connection after its 400 / 408 / 431 before it is destroyed (none is served). */
const MAX_REQUESTS_AFTER_ERROR = 16;

/** Options of createHandshakeServer. */
export interface HandshakeServerOptions {
  /**
   * Largest request body in bytes, up to 16 MiB. Default 65536 (the exchange's default envelope
   * bound). A body is never read past the exchange's own `maxEnvelopeBytes` either.
   */
  maxBodyBytes?: number;
  /**
   * Bytes of request bodies being received at once, across the server, counted as they arrive:
   * a body whose bytes would take the total above this is answered 503 TOO_MANY_BODIES with
   * `Retry-After: 1`, and its connection closed (a request arriving when the total is there
   * already, before its body is read). Default 64 MiB (about maxConnections × maxBodyBytes at the
   * defaults: 1000 × 64 KiB); at least maxBodyBytes.
   */
  maxBodyBytesInFlight?: number;
  /** Time for a whole request (headers and body), in ms. Default 10000. */
  requestTimeoutMs?: number;
  /**
   * Time the exchange has to accept a request once its body is in, in ms (the store calls,
   * mostly); past it the answer is 503 HANDSHAKE_TIMEOUT. Default 10000. An accept still running
   * then may yet pin the caller when its store answers (the exchange's `pinned` event says so);
   * stores with their own timeouts (the Postgres and Redis ones) end sooner.
   */
  handshakeTimeoutMs?: number;
  /** Open connections at most; more are closed as they arrive. Default 1000. */
  maxConnections?: number;
  /**
   * Handshake accepts in progress at most, across the whole server. A request arriving when
   * this many are in progress is answered 503 TOO_MANY_ACCEPTS with `Retry-After: 1`, before
   * its body is read. An accept is counted from the moment its body is in until the exchange
   * settles it, so one that outlives its 503 HANDSHAKE_TIMEOUT (a store still answering) keeps
   * its place until the store does. Default 256: each accept holds its body (up to
   * maxBodyBytes: 256 × 64 KiB = 16 MiB as received, at the defaults) and a store call, and 256
   * is far above what a store answering in tens of milliseconds needs at this server's rate (in
   * flight = rate × latency: about 1000 handshakes/s × 20 ms = 20), while bounding what one
   * keep-alive connection pipelining requests at a slow store can pile up.
   */
  maxAcceptsInFlight?: number;
  /** Called with every refused or failed request (for logs); its throws, and the rejection of a promise it returns, are ignored. */
  onRequestError?: (info: { status: number; code: string; message: string }) => void;
}

/** The members of HandshakeServerOptions (others are refused: a misspelt option would leave its default in force). */
const SERVER_OPTION_KEYS = ["maxBodyBytes", "maxBodyBytesInFlight", "requestTimeoutMs", "handshakeTimeoutMs", "maxConnections", "maxAcceptsInFlight", "onRequestError"] as const;

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
  constructor(
    readonly status: number,
    readonly code: HandshakeServerAnswerCode | PeerHandshakeErrorCode,
    message: string,
    /** Refused before the body was read: the connection is closed rather than drained. */
    readonly beforeBody = false,
    /** Seconds for a Retry-After header, if any. */
    readonly retryAfterSecs?: number,
  ) {
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
  if (exchange === null || typeof exchange !== "object" || typeof exchange.acceptClaimedEnvelope !== "function" || typeof exchange.localEnvelope !== "function") {
    throw new InvalidTypeError("exchange must be a KernelTrustExchange (with acceptClaimedEnvelope and localEnvelope)");
  }
  const read = readSettings(options, "options", SERVER_OPTION_KEYS, (message, cause) => new InvalidTypeError(message, cause === undefined ? undefined : { cause }));
  const maxBodyBytes = positiveInteger(read.maxBodyBytes, "maxBodyBytes", DEFAULT_MAX_ENVELOPE_BYTES, 16 * 1024 * 1024);
  const maxBodyBytesInFlight = positiveInteger(read.maxBodyBytesInFlight, "maxBodyBytesInFlight", DEFAULT_MAX_BODY_BYTES_IN_FLIGHT, Number.MAX_SAFE_INTEGER);
  if (maxBodyBytesInFlight < maxBodyBytes) {
    throw new InvalidConfigError(`maxBodyBytesInFlight (${maxBodyBytesInFlight}) must be at least maxBodyBytes (${maxBodyBytes}): a body that large could never be read`);
  }
  const requestTimeoutMs = positiveInteger(read.requestTimeoutMs, "requestTimeoutMs", 10_000, 3_600_000);
  const handshakeTimeoutMs = positiveInteger(read.handshakeTimeoutMs, "handshakeTimeoutMs", 10_000, 3_600_000);
  const maxConnections = positiveInteger(read.maxConnections, "maxConnections", 1000, 1_000_000);
  const maxAcceptsInFlight = positiveInteger(read.maxAcceptsInFlight, "maxAcceptsInFlight", 256, 1_000_000);
  const onRequestError = read.onRequestError as HandshakeServerOptions["onRequestError"];
  if (onRequestError !== undefined && typeof onRequestError !== "function") throw new InvalidTypeError("onRequestError must be a function");

  // The log hook hears every refusal, with the cause of a 5xx that the caller is not told.
  const log = (status: number, code: HandshakeServerAnswerCode | PeerHandshakeErrorCode, message: string) => {
    try {
      // An async hook's rejection (a log shipper that is down) is absorbed as its throw is: left
      // unhandled it would end the process, on any request, unauthenticated ones too (review 52).
      absorbRejection(onRequestError?.({ status, code, message }));
    } catch {
      // a logging hook must not change the answer
    }
  };
  const fail = (response: ServerResponse, status: number, code: HandshakeServerAnswerCode | PeerHandshakeErrorCode, message: string, extraHeaders: Record<string, string> = {}, logMessage = message) => {
    log(status, code, logMessage);
    // An answer that closes its connection: nothing after it on that connection is served (RFC
    // 9112 §9.6), as after a 'clientError' (the `closing` table below). A request pipelined
    // behind it was accepted and pinned, its 200 never sent (helper 142).
    if (extraHeaders.Connection === "close") closeAfter(response.req);
    deliver(response, status, JSON.stringify({ error: { code, message } }), extraHeaders);
  };
  // An answer the client has not taken handshakeTimeoutMs + CLOSE_LINGER_MS after it was made
  // ends its connection, as the hard stop after a 'clientError' does (the accepts ahead of it on
  // the connection end within handshakeTimeoutMs). A client that pipelined requests and never read
  // their answers filled the socket's buffers, Node stopped reading the connection, and no timeout
  // of Node's covers requests already in: the connection was held for as long as the client kept
  // it (hunt 21), and maxConnections such connections shut every other client out.
  const deliver = (response: ServerResponse, status: number, body: string, extraHeaders?: Record<string, string>) => {
    // A request asking to upgrade (Upgrade and Connection: upgrade) is served as a plain one, as
    // Node does with no 'upgrade' listener, but Node's parser reads nothing more on its
    // connection: a request pipelined behind it was dropped unanswered and unlogged, and the
    // connection, its answer saying keep-alive, held until keepAliveTimeout (hunt 39). Its answer
    // closes the connection instead, so the client knows to send the rest on another one.
    // So does an answer made once close() was called: Node kept its connection alive, so close()'s
    // callback waited for the client or keepAliveTimeout, and a request the client sent next on it
    // was served (accepted and pinned) by the closed server (hunt 39).
    if (upgradeRequested(response.req) || !server.listening) response.shouldKeepAlive = false;
    send(response, status, body, extraHeaders);
    const connection = response.req.socket;
    const untaken = setTimeout(() => connection.destroy(), handshakeTimeoutMs + CLOSE_LINGER_MS);
    untaken.unref();
    // 'close' follows 'finish' (the answer handed to the system) and the connection's end.
    response.once("close", () => clearTimeout(untaken));
  };

  // Accepts in progress: counted in `accept` below, from the body being in until the exchange
  // settles the accept (however it ends), never for a request still sending its body.
  let acceptsInFlight = 0;
  const checkAcceptSlot = (beforeBody: boolean) => {
    if (acceptsInFlight >= maxAcceptsInFlight) {
      throw new RequestRefusal(503, "TOO_MANY_ACCEPTS", `${maxAcceptsInFlight} handshakes already in progress (maxAcceptsInFlight)`, beforeBody, 1);
    }
  };
  /**
   * The largest body read: maxBodyBytes, and no more than the exchange accepts (its
   * maxEnvelopeBytes, read per request since withHardening may change it): a larger body would be
   * refused by the exchange anyway, after being read in full (review 67 F2).
   */
  const bodyLimit = () => Math.min(maxBodyBytes, exchange.hardening.maxEnvelopeBytes);
  // Everything checked before a byte of the body is read (the request handler and checkContinue).
  const checkArrival = (request: IncomingMessage, limit: number) => {
    checkBeforeBody(request, limit);
    checkAcceptSlot(true);
    checkBodyBudget();
  };
  // Bytes of the bodies being received, across the server, counted as they arrive (not as
  // declared: a Content-Length alone would let connections that send nothing hold the budget,
  // review 69 F1) until the body is in or refused, so bodies still arriving hold at most
  // maxBodyBytesInFlight, whatever maxConnections and maxBodyBytes allow (1000 connections of
  // 16 MiB bodies took 1 GB and more: review 67 F2).
  const bodyBudget = { inFlight: 0, max: maxBodyBytesInFlight };
  const checkBodyBudget = () => {
    if (bodyBudget.inFlight >= bodyBudget.max) throw tooManyBodies(bodyBudget.max, true);
  };
  /** The exchange's accept, holding one slot until it settles, whichever way. */
  const accept = async (body: Uint8Array, beforePin: (accepted: AcceptedChallenge) => void, signal: AbortSignal): Promise<unknown> => {
    acceptsInFlight++;
    try {
      return await exchange.acceptClaimedEnvelope(body, undefined, { beforePin, signal });
    } finally {
      acceptsInFlight--;
    }
  };

  const handle = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    const limit = bodyLimit();
    checkArrival(request, limit);
    const body = await readBody(request, limit, bodyBudget);
    // A request cut off by its connection's 'clientError' (a 408 while the body arrived) was
    // answered by that error: if its body completes afterwards, it is not accepted (and
    // onRequest's catch writes nothing for it).
    if (weakSetHas(cutOff, request)) throw new RequestRefusal(408, "REQUEST_TIMEOUT", "the body arrived after the request was answered 408");
    // Who is calling (the peer whose anchor or pin the envelope must match) is the sender the
    // envelope's verified challenge names: acceptClaimedEnvelope reads it once the signature has
    // verified, in its one bounded wasm call (no JSON.parse of the body on this thread: review 67
    // F2; no second verify: review 69 F2). The answer, addressed to that caller and carrying its
    // nonce, is signed in beforePin (see the file header), which the exchange gives both.
    // The accept is abandoned (AcceptOptions.signal: no pin write is sent from then on, the
    // second one after a lost race included) once its answer cannot reach the caller: at the
    // deadline (withinTime), and when the caller's connection closes. A caller whose connection
    // is gone never gets the answer, so never pins this kernel: it is not pinned here either, as
    // after a 503 HANDSHAKE_TIMEOUT (the exchange releases its nonce: the same envelope, sent
    // again in time, can still be accepted once).
    // AbortController's methods and AbortSignal's accessors as loaded (abort-signal.ts).
    const abandon = new AbortController();
    let gone: RequestRefusal | undefined;
    const abandonForGoneCaller = () => {
      gone ??= new RequestRefusal(400, "BAD_REQUEST", "the caller's connection closed before its pin was written");
      abortController(abandon, gone); // no effect once aborted: the deadline's refusal, if first, stands
    };
    let acceptEnded = false;
    let answer: unknown;
    const beforePin = ({ kernelId, nonce }: AcceptedChallenge) => {
      // The connection may be gone before its 'close' has been emitted.
      if (response.destroyed || request.socket.destroyed) abandonForGoneCaller();
      throwIfAborted(abandon.signal);
      // Nor when a request ahead of it on the same connection (pipelined) was answered with a
      // refusal that closes the connection: this answer would never be sent either. A request
      // parsed after that refusal is dropped on arrival (onRequest); one parsed with it, in the
      // same read, is refused here (helper 142: accepted and pinned, its 200 never sent).
      if (closedAhead(request)) {
        throw new RequestRefusal(400, "BAD_REQUEST", "a request ahead of this one on its connection was refused with Connection: close: nothing after it is served");
      }
      answer = exchange.localEnvelope(kernelId, nonce);
    };
    // Again now that the body is in: others may have started while this one was being sent.
    checkAcceptSlot(false);
    // Watched only while the accept runs: a response closes after every answer, and the refusal
    // would be made for nothing (as for a request refused just above).
    response.once("close", () => acceptEnded || abandonForGoneCaller());
    try {
      await withinTime(accept(body, beforePin, abandon.signal), handshakeTimeoutMs, abandon);
      acceptEnded = true;
    } catch (error) {
      acceptEnded = true;
      // No answer can reach a caller whose connection closed, so the log hook hears of it here
      // (onRequest's catch writes nothing on a closed response).
      if (gone !== undefined && error === gone) log(gone.status, gone.code, gone.message);
      throw error;
    }
    deliver(response, 200, JSON.stringify(answer));
  };

  // Connections that had a 'clientError', or a refusal that closes them (fail): their answer closes
  // them, and nothing more is served on them; and the requests such an error cut off (a 408 while
  // the body arrives), never served.
  // These tables are read with WeakSet's, WeakMap's and Map's methods as captured at load
  // (src/collections.ts): a `has` replaced after load let a request answered 408 be accepted and
  // pinned all the same (README "Hardening").
  const closing = new WeakSet<object>();
  const cutOff = new WeakSet<IncomingMessage>();
  // Per connection: its requests whose responses are not finished yet, and the answer to a
  // 'clientError' waiting for those of them that fully arrived before it and were not cut off
  // by it (the handler below); how many requests it brought to onRequest, and the place of the
  // first one answered with Connection: close (closeAfter).
  const connections = new WeakMap<object, ConnectionState>();
  const connectionOf = (socket: object): ConnectionState => {
    let connection = weakMapGet(connections, socket);
    if (connection === undefined) {
      // Every member an own one from the start: one put on Object.prototype is never read.
      connection = { unanswered: new MapAtLoad<IncomingMessage, ServerResponse>(), pendingAnswer: undefined, requests: 0, closedAt: undefined };
      weakMapSet(connections, socket, connection);
    }
    return connection;
  };
  const answersAhead = (connection: { unanswered: Map<IncomingMessage, ServerResponse> }): boolean => {
    const entries = mapEntries(connection.unanswered);
    for (let step = mapIteratorStep(entries); !step.done; step = mapIteratorStep(entries)) {
      if (step.value[0].complete && !weakSetHas(cutOff, step.value[0])) return true;
    }
    return false;
  };
  // Each request's place on its connection (1, 2, … in the order Node parsed them, onRequest): the
  // requests after the first one answered with Connection: close (fail) are never served (RFC 9112
  // §9.6), those ahead of it are answered first.
  const places = new WeakMap<IncomingMessage, number>();
  /** Records that `request`'s answer closes its connection: nothing parsed after it is served. */
  const closeAfter = (request: IncomingMessage) => {
    const connection = connectionOf(request.socket);
    // A request that never reached onRequest (a 417 from checkExpectation) has no place: the
    // requests after it on the connection are those not yet seen.
    const place = weakMapGet(places, request) ?? connection.requests + 0.5;
    if (connection.closedAt === undefined || place < connection.closedAt) connection.closedAt = place;
    weakSetAdd(closing, request.socket);
  };
  /** Whether a request ahead of `request` on its connection was answered with Connection: close. */
  const closedAhead = (request: IncomingMessage): boolean => {
    const closed = weakMapGet(connections, request.socket)?.closedAt;
    const place = weakMapGet(places, request);
    return closed !== undefined && (place === undefined || place > closed);
  };
  // Requests parsed after a connection's 'clientError' (once its answer is out and the connection
  // is read again), by connection: each is held by Node until the connection closes, so past
  // MAX_REQUESTS_AFTER_ERROR the client is flooding a closing connection, and it is destroyed
  // (what the read in progress held is still parsed; a reset may then drop answers the client
  // has not read yet, which a client that keeps sending after an error brings on itself).
  const requestsAfterError = new WeakMap<object, number>();
  const onRequest = (request: IncomingMessage, response: ServerResponse) => {
    if (weakSetHas(closing, request.socket)) {
      // Parsed after the connection's 'clientError': never served. Its body is read and dropped,
      // so the connection goes on reading until it closes (see the handler below).
      const count = (weakMapGet(requestsAfterError, request.socket) ?? 0) + 1;
      weakMapSet(requestsAfterError, request.socket, count);
      if (count > MAX_REQUESTS_AFTER_ERROR) request.socket.destroy();
      else request.resume();
      return;
    }
    const connection = connectionOf(request.socket);
    weakMapSet(places, request, ++connection.requests);
    mapSet(connection.unanswered, request, response);
    response.once("close", () => {
      mapDelete(connection.unanswered, request);
      if (connection.pendingAnswer !== undefined && !answersAhead(connection)) connection.pendingAnswer();
    });
    handle(request, response).catch((error: unknown) => {
      if (response.headersSent || response.destroyed || weakSetHas(cutOff, request)) return;
      if (instanceOfOrFalse(RequestRefusal, error)) {
        const headers: Record<string, string> = {};
        // Refused before (or while) reading the body: close rather than drain what the client still sends.
        if (error.beforeBody || error.status === 413 || error.code === "TOO_MANY_BODIES") headers.Connection = "close";
        if (error.status === 405) headers.Allow = "POST";
        if (error.retryAfterSecs !== undefined) headers["Retry-After"] = String(error.retryAfterSecs);
        if (error.status >= 500) fail(response, error.status, error.code, "the server could not complete the handshake", headers, error.message);
        else fail(response, error.status, error.code, error.message, headers);
      } else if (instanceOfOrFalse(PeerHandshakeError, error) && overPeerQuota(error)) {
        // The caller is flooding, not the server failing: a 503 would invite retries. No
        // Retry-After: when the store's window ends is the store's to know.
        fail(response, 429, "PEER_QUOTA_EXCEEDED", "this peer made more handshakes than its quota allows in the current window", {}, error.message);
      } else if (instanceOfOrFalse(PeerHandshakeError, error) && pastWindowOnEngine(error)) {
        // The envelope is too old by the replay store's clock: what a replica with an exact clock
        // answers for it. A 503 would invite sending the same envelope again, refused every time;
        // a fresh envelope is accepted.
        fail(response, 403, "CLOCK_SKEW_EXCEEDED", "the envelope's timestamp is past the accepted window on the replay store's clock: send a fresh envelope", {}, error.message);
      } else if (instanceOfOrFalse(PeerHandshakeError, error)) {
        const status = STATUS[error.code as PeerHandshakeErrorCode] ?? 400;
        // Store and signer failures are the server's business: the caller learns the code, not the cause.
        if (status >= 500) fail(response, status, error.code, "the server could not complete the handshake", {}, error.message);
        else fail(response, status, error.code, publicMessage(error), {}, error.message);
      } else {
        // Anything else is this server's own fault (a clock that reads -1, a broken exchange):
        // 500, with the cause for the log only.
        fail(response, 500, "INTERNAL_ERROR", "the server could not complete the handshake", {}, describeFault(error));
      }
    });
  };
  const server = createServer({
    // The Host line is checked by checkBeforeBody, so its refusal is this server's (logged, and
    // closing its connection with nothing after it served); Node's own check answered by itself.
    requireHostHeader: false,
    requestTimeout: requestTimeoutMs,
    headersTimeout: Math.min(requestTimeoutMs, 60_000),
    // Node checks the two timeouts above only every connectionsCheckingInterval (30 s by default).
    connectionsCheckingInterval: Math.min(30_000, Math.max(50, Math.floor(requestTimeoutMs / 4))),
  }, onRequest);
  server.maxConnections = maxConnections;
  // Every header line is kept (Node drops those past its maxHeadersCount, 2000 by default): a
  // second Host, or the Upgrade and Connection lines that make Node stop parsing the connection
  // (deliver), sent after 2000 padding lines went unseen by the checks here, and the request was
  // served (hunt 39). Their number is bounded by the header bytes Node reads (maxHeaderSize,
  // 16 KiB by default: about 4,000 lines at most).
  server.maxHeadersCount = 0;
  // Node's close() stops the timer that enforces requestTimeout and headersTimeout (the
  // connectionsCheckingInterval above) and ends only the idle connections: a client trickling its
  // headers or body held its connection, and close()'s callback, for as long as it went on sending
  // (hunt 21). A request under way at close() is complete within requestTimeoutMs or cut off, and
  // its accept ends within handshakeTimeoutMs, so what is still open CLOSE_LINGER_MS after that
  // is destroyed. The timer is unref'd: it keeps no process alive, but fires while a connection does.
  let closeDeadline: ReturnType<typeof setTimeout> | undefined;
  const nodeClose = server.close;
  server.close = function close(this: Server, callback?: (error?: Error) => void): Server {
    nodeClose.call(this, callback);
    clearTimeout(closeDeadline);
    closeDeadline = setTimeout(() => server.closeAllConnections(), requestTimeoutMs + handshakeTimeoutMs + CLOSE_LINGER_MS);
    closeDeadline.unref();
    return this;
  };
  // Listening again: its connections are new ones, held to the timeouts again. Closed (every
  // connection ended): nothing is left for the timer to end, and left running it held the closed
  // server, its exchange and its stores in memory for its whole delay (about 3 minutes with the
  // default timeouts; hunt 39).
  server.on("listening", () => clearTimeout(closeDeadline));
  server.on("close", () => clearTimeout(closeDeadline));
  // A connection over maxConnections is closed by Node on arrival, unanswered (no request was
  // read); 'drop' (Node ≥ 18.7) tells the log hook, with 503 as the status it stands for.
  server.on("drop", () => log(503, "TOO_MANY_CONNECTIONS", `connection closed on arrival: ${maxConnections} open (maxConnections)`));
  // Any other Expect value: Node would answer a bare 417 by itself, unlogged, and keep the
  // connection open (review 52); answered here as every refusal is, and closed, as the refusals
  // made before a body is read are.
  server.on("checkExpectation", (request: IncomingMessage, response: ServerResponse) => {
    if (weakSetHas(closing, request.socket)) return onRequest(request, response);
    fail(response, 417, "EXPECTATION_FAILED", "only the expectation 100-continue is supported", { Connection: "close" });
  });
  // Expect: 100-continue: invite the body only when the request could be served; otherwise the
  // handler refuses it (and closes) without "100 Continue" (Node sends that by itself otherwise).
  server.on("checkContinue", (request: IncomingMessage, response: ServerResponse) => {
    // A request parsed after its connection's 'clientError' gets nothing, not even "100 Continue".
    if (weakSetHas(closing, request.socket)) return onRequest(request, response);
    try {
      checkArrival(request, bodyLimit());
      response.writeContinue();
    } catch {
      // refused by onRequest's own call to checkArrival
    }
    onRequest(request, response);
  });
  // A malformed request line or headers, headers over Node's size limit (maxHeaderSize, 16 KiB by
  // default), or a request not complete in time: answer 400 / 431 / 408 as Node's own handler
  // does, and close the connection (never throw); the log hook hears it like any other refusal.
  // Unlike Node's own handler, the answer waits for the responses to the connection's earlier
  // (pipelined) requests that are still being made: HTTP/1.1 answers a connection's requests in
  // the order they came (RFC 9112 §9.3.2), and a client reads the first answer on the wire as the
  // answer to its first request. While it waits the connection is paused: nothing more is parsed
  // (so no request after the error is held, and Node answers none of them by itself ahead of
  // this answer), and TCP bounds what the client can send meanwhile. The answer is written with
  // end(), not followed by a destroy: closing a socket with unread input makes the kernel reset
  // the connection, and the reset drops what was written but not yet delivered (the waiting
  // answers and this one). So after the answer the connection is read again until it closes:
  // Node's parser drops input after a malformed request, and a request parsed after the error,
  // or the one a 408 cut off if its body completes, is never served (onRequest, handle; past
  // MAX_REQUESTS_AFTER_ERROR of them the connection is destroyed). An HTTP server allows half-open
  // sockets, so the connection is destroyed CLOSE_LINGER_MS after the answer if the client has
  // not closed its side, and in any case handshakeTimeoutMs + CLOSE_LINGER_MS after the error
  // (the accepts ahead of it end within handshakeTimeoutMs; a client that stops reading their
  // answers does not hold the connection longer). A request that had its answer already (a
  // refusal before its body, which closes the connection) and then timed out gets no 408 too.
  const onClientError = (nodeCode: string | undefined, socket: Duplex) => {
    if (weakSetHas(closing, socket)) return; // input after the error, on a connection already being answered
    weakSetAdd(closing, socket);
    const hardStop = setTimeout(() => socket.destroy(), handshakeTimeoutMs + CLOSE_LINGER_MS);
    hardStop.unref();
    socket.once("close", () => clearTimeout(hardStop));
    const connection = weakMapGet(connections, socket);
    // The request the error is about, if Node had emitted it (a 408 while its body arrives), is
    // not waited for: its answer is this one, unless it had one already.
    let answered = false;
    const entries = connection === undefined ? undefined : mapEntries(connection.unanswered);
    for (let step = entries && mapIteratorStep(entries); step !== undefined && !step.done; step = mapIteratorStep(entries!)) {
      const request = step.value[0];
      const response = step.value[1];
      if (request.complete) continue;
      weakSetAdd(cutOff, request);
      if (response.writableEnded) answered = true;
    }
    const reply = clientErrorAnswer(nodeCode); // by index: destructuring runs the realm's array iterator
    const status = reply[0];
    const code = reply[1];
    const message = reply[2];
    if (!answered && socket.writable && !socket.destroyed) log(status, code, message);
    const answer = () => {
      if (!socket.writable || socket.destroyed) {
        socket.destroy();
        return;
      }
      if (!answered) {
        const body = JSON.stringify({ error: { code, message } });
        const allow = status === 405 ? "Allow: POST\r\n" : "";
        socket.end(`HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\n${allow}Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
      } else {
        socket.end();
      }
      socket.resume();
      const linger = setTimeout(() => socket.destroy(), CLOSE_LINGER_MS);
      linger.unref();
      socket.once("close", () => clearTimeout(linger));
    };
    if (connection !== undefined && answersAhead(connection)) {
      socket.pause();
      connection.pendingAnswer ??= answer;
      return;
    }
    answer();
  };
  server.on("clientError", (error: NodeJS.ErrnoException, socket: Duplex) => onClientError(error.code, socket));
  // CONNECT (a proxy's tunnel request): Node hands it to 'connect' listeners only, its socket
  // taken off the parser, and with none it closed the connection unanswered and unlogged (helper
  // 142). Refused as any other method is (405, logged), and as a 'clientError' is: after the
  // answers ahead of it, closing the connection, nothing after it served.
  server.on("connect", (_request: IncomingMessage, socket: Duplex) => {
    // Node takes its own 'error' listener off a socket it hands to 'connect': without one, a
    // client that resets the connection before the answer is out ended the process with an
    // unhandled 'error' event (review of helper 144).
    socket.on("error", () => socket.destroy());
    onClientError(CONNECT_METHOD, socket);
  });
  return server;
}

/** What the server keeps per connection (createHandshakeServer's `connections`). */
interface ConnectionState {
  /** Its requests whose responses are not finished yet. */
  unanswered: Map<IncomingMessage, ServerResponse>;
  /** The answer to a 'clientError' waiting for the answers ahead of it. */
  pendingAnswer: (() => void) | undefined;
  /** Requests it brought to onRequest: the last one's place. */
  requests: number;
  /** The place of its first request answered with Connection: close, if any. */
  closedAt: number | undefined;
}

/**
 * Whether Node's parser took `request` as an upgrade: an Upgrade header and the `upgrade` token in
 * Connection (llhttp's rule). It stops parsing its connection after such a request.
 */
function upgradeRequested(request: IncomingMessage): boolean {
  const connection = request.headers.connection;
  return request.headers.upgrade !== undefined && typeof connection === "string" && /(?:^|,)[ \t]*upgrade[ \t]*(?:,|$)/i.test(connection);
}

/** clientErrorAnswer's code for a CONNECT request (not one of Node's). */
const CONNECT_METHOD = "CHIO_CONNECT_METHOD";

/** Status, code and message of the answer to a 'clientError' (by Node's error code) or a CONNECT. */
function clientErrorAnswer(nodeCode: string | undefined): readonly [number, HandshakeServerAnswerCode, string] {
  if (nodeCode === "ERR_HTTP_REQUEST_TIMEOUT") return [408, "REQUEST_TIMEOUT", "request not received in time"];
  if (nodeCode === "HPE_HEADER_OVERFLOW") return [431, "HEADERS_TOO_LARGE", "request line and headers over the server's size limit"];
  if (nodeCode === CONNECT_METHOD) return [405, "METHOD_NOT_ALLOWED", "use POST"];
  return [400, "BAD_REQUEST", "malformed HTTP request"];
}

/**
 * A STORE_FAILED whose cause is a replay store's PEER_QUOTA_EXCEEDED (SharedStoreError from the
 * Redis store's maxReservationsPerPeer, SqliteStoreError from the SQLite store's maxPairsPerPeer):
 * the exchange wraps whatever a store throws as the cause.
 */
function overPeerQuota(error: PeerHandshakeError): boolean {
  const cause = error.cause;
  return error.code === "STORE_FAILED" && (instanceOfOrFalse(SharedStoreError, cause) || instanceOfOrFalse(SqliteStoreError, cause)) && cause.code === "PEER_QUOTA_EXCEEDED";
}

/**
 * A STORE_FAILED whose cause is a shared replay store's PAST_WINDOW_ON_ENGINE_CLOCK: the engine's
 * clock is past the envelope's timestamp + skew while this replica's clock, running behind it,
 * still took the envelope (docs/protocol.md §8; review 76 F3: it was answered 503).
 */
function pastWindowOnEngine(error: PeerHandshakeError): boolean {
  const cause = error.cause;
  return error.code === "STORE_FAILED" && instanceOfOrFalse(SharedStoreError, cause) && cause.code === "PAST_WINDOW_ON_ENGINE_CLOCK";
}

/**
 * Path, method, content type and declared length, before any of the body is read. The target
 * may be in origin form (`/federation/handshake?x`) or absolute form
 * (`http://host/federation/handshake`, which RFC 9112 §3.2.2 says a server must accept).
 */
function checkBeforeBody(request: IncomingMessage, maxBodyBytes: number): void {
  // RFC 9112 §3.2: a 400 for an HTTP/1.1 request without a Host line, or with more than one.
  // Checked here rather than by Node (requireHostHeader is off, createServer below): Node answered
  // it by itself, unlogged, and the request pipelined behind it was accepted and pinned with its
  // 200 never sent (helper 154, as helper 142 found for the refusals made here).
  const hostLines = request.headersDistinct.host?.length ?? 0;
  if (hostLines > 1 || (hostLines === 0 && request.httpVersionMajor === 1 && request.httpVersionMinor >= 1)) {
    throw new RequestRefusal(400, "BAD_REQUEST", hostLines > 1 ? "more than one Host header" : "an HTTP/1.1 request must have a Host header", true);
  }
  const target = request.url ?? "";
  let path = target.split("?", 1)[0];
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(target)) {
    let url: URL;
    try {
      url = new URL(target);
    } catch {
      throw new RequestRefusal(400, "BAD_REQUEST", "malformed request target", true);
    }
    // RFC 9112 §3.2.2 is about http and https targets; `ftp://…/federation/handshake` was served
    // (review 52).
    if (url.protocol !== "http:" && url.protocol !== "https:") throw new RequestRefusal(400, "BAD_REQUEST", "request target scheme must be http or https", true);
    path = url.pathname;
  }
  if (path !== HANDSHAKE_PATH) throw new RequestRefusal(404, "NOT_FOUND", `no route ${displayPeerText(path, 100)}`, true);
  if (request.method !== "POST") throw new RequestRefusal(405, "METHOD_NOT_ALLOWED", "use POST", true);
  if (!isJsonContentType(request.headers["content-type"])) {
    throw new RequestRefusal(415, "UNSUPPORTED_MEDIA_TYPE", "Content-Type must be application/json (UTF-8)", true);
  }
  const declared = request.headers["content-length"];
  if (declared !== undefined && !(Number(declared) <= maxBodyBytes)) {
    throw new RequestRefusal(413, "BODY_TOO_LARGE", `body over ${maxBodyBytes} bytes`, true);
  }
}

/**
 * What an HTTP caller is told of a handshake refusal: its message, except where that holds this
 * server's trust configuration. UNEXPECTED_PEER_KEY's names the key this kernel expects for the id
 * (its anchor or pin), which any unauthenticated caller could read for every id it guesses
 * (review 67 F7); the caller gets the code and its own declared key's refusal, the log hook and
 * the exchange's 'refused' event the full message.
 */
function publicMessage(error: PeerHandshakeError): string {
  if (error.code === "UNEXPECTED_PEER_KEY") {
    return `peer ${displayPeerText((error.fields as { kernelId: string }).kernelId, 100)} declared a public key this kernel does not expect for it`;
  }
  return error.message;
}

/** "CODE: message" of a thrown value, for the log; never throws, whatever was thrown. */
function describeFault(error: unknown): string {
  try {
    const coded = error as { code?: unknown; message?: unknown } | null;
    return `${typeof coded?.code === "string" ? `${coded.code}: ` : ""}${typeof coded?.message === "string" ? coded.message : String(error)}`;
  } catch {
    return "an unprintable value was thrown";
  }
}

const handshakeTimeout = (ms: number) => new RequestRefusal(503, "HANDSHAKE_TIMEOUT", `the accept did not finish within ${ms} ms (handshakeTimeoutMs)`);

/**
 * `accept`, or a 503 HANDSHAKE_TIMEOUT refusal after `ms`, with which it also aborts `abandon`
 * (the accept then sends no pin write: AcceptOptions.signal). The accept's later rejection is absorbed, and the
 * timer does not keep a closed server's process alive.
 */
function withinTime<T>(accept: PromiseLike<T>, ms: number, abandon: AbortController): Promise<T> {
  const settled = Promise.resolve(accept); // a thenable too, not just a Promise
  settled.catch(() => undefined);
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const refusal = handshakeTimeout(ms);
      abortController(abandon, refusal);
      reject(refusal);
    }, ms);
    (timer as { unref?: () => void }).unref?.();
  });
  return Promise.race([settled, timeout]).finally(() => clearTimeout(timer));
}

const UTF8_CHARSETS = new Set(["charset=utf-8", 'charset="utf-8"', "charset=utf8", 'charset="utf8"']);

function isJsonContentType(header: string | undefined): boolean {
  if (typeof header !== "string") return false;
  const [type, ...params] = header.split(";").map((part) => part.trim().toLowerCase());
  if (type !== "application/json") return false;
  // "utf8" too: the WHATWG Encoding Standard's label for UTF-8 that clients send (review 52: 415 before).
  return params.every((param) => !param.startsWith("charset=") || UTF8_CHARSETS.has(param));
}

const tooManyBodies = (max: number, beforeBody: boolean) =>
  new RequestRefusal(503, "TOO_MANY_BODIES", `bodies of ${max} bytes already arriving (maxBodyBytesInFlight)`, beforeBody, 1);

/**
 * The body, refused (413) as soon as the bytes received exceed `limit` (a larger Content-Length
 * was refused before), or (503 TOO_MANY_BODIES) as soon as they would take the bytes of all the
 * bodies arriving, `budget.inFlight`, past `budget.max`. Its bytes count in `budget.inFlight` from
 * when they arrive until the body is in or refused, however that ends.
 */
function readBody(request: IncomingMessage, limit: number, budget: { inFlight: number; max: number }): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    const finish = () => {
      done = true;
      budget.inFlight -= size;
    };
    const refuse = (refusal: RequestRefusal) => {
      finish();
      chunks.length = 0;
      request.resume();
      reject(refusal);
    };
    request.on("data", (chunk: Buffer) => {
      if (done) return;
      if (size + chunk.length > limit) return refuse(new RequestRefusal(413, "BODY_TOO_LARGE", `body over ${limit} bytes`));
      if (budget.inFlight + chunk.length > budget.max) return refuse(tooManyBodies(budget.max, false));
      size += chunk.length;
      budget.inFlight += chunk.length;
      chunks.push(chunk);
    });
    request.on("end", () => {
      if (done) return;
      finish();
      resolve(Buffer.concat(chunks, size));
    });
    request.on("error", (error) => {
      if (done) return;
      finish();
      reject(new RequestRefusal(400, "BAD_REQUEST", `request aborted: ${error.message}`));
    });
    request.on("aborted", () => {
      if (done) return;
      finish();
      reject(new RequestRefusal(400, "BAD_REQUEST", "request aborted"));
    });
    // A request destroyed without 'aborted' or 'error' (its connection closed by the server)
    // still gives its bytes back.
    request.on("close", () => {
      if (done) return;
      finish();
      reject(new RequestRefusal(400, "BAD_REQUEST", "request closed before its body was in"));
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
