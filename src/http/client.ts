// The client half of the handshake over HTTP: send this kernel's envelope with a fresh nonce,
// check that the answer is signed and carries THAT nonce, then accept it (verify and pin).
//
// The nonce check runs on the verified answer and before acceptEnvelope, so an answer made for
// another request (a replayed or misrouted one) is refused as STALE_ANSWER and nothing is pinned.
// It costs one extra signature check per handshake on the client: verifyEnvelopeBytes proves the
// nonce was signed by the key the answer declares, then acceptEnvelope checks that key is the
// expected one and pins.
import { displayPeerText } from "../handshake/errors.js";
import { verifyEnvelopeBytes } from "../handshake/verify-envelope.js";
import type { FederationPeer } from "../handshake/peer.js";
import type { KernelTrustExchange } from "../handshake/exchange.js";
import { charCodeAt, concatBytes, copyOfBytes, isArray, isReadableBytes, randomHex, readSettings, rejectedPromise, stringStartsWith, viewLength } from "../bytes.js";
import { describeThrown, InvalidTypeError, instanceOfOrFalse } from "../errors.js";
import { HandshakeHttpError } from "./errors.js";
import { HANDSHAKE_PATH } from "./path.js";
import { MAX_ENVELOPE_BYTES_LIMIT } from "../handshake/constants.js";

const apply = Reflect.apply;

/** Options of handshakeWith. */
export interface HandshakeClientOptions {
  /**
   * Time for the HTTP exchange (connect, send, the whole answer), in ms. Default 10000. The
   * accept of the answer that follows is bounded by the exchange's stores, as the Postgres and
   * Redis stores bound their calls, not by this: a race against it would report a timeout for a
   * pin that may still land (review 52). Node's own fetch also gives up by itself after 10 s of
   * connecting and 300 s of waiting for the headers or between body chunks; that is TIMEOUT too.
   */
  timeoutMs?: number;
  /** Largest answer read, in bytes. Default: the exchange's maxEnvelopeBytes. */
  maxResponseBytes?: number;
  /** The nonce to send (default 16 random bytes as hex). Never reuse one. */
  nonce?: string;
  /** The fetch to use (default globalThis.fetch). timeoutMs holds even if it ignores the signal. */
  fetch?: typeof fetch;
}

/** What a successful handshake produced. */
export interface HandshakeResult {
  /** The remote kernel as now pinned here. */
  peer: FederationPeer;
  /** The nonce this handshake used (both envelopes carry it). */
  nonce: string;
}

/** The members of HandshakeClientOptions (others are refused: a misspelt option would leave its default in force). */
const CLIENT_OPTION_KEYS = ["timeoutMs", "maxResponseBytes", "nonce", "fetch"] as const;

/**
 * Runs the mutual handshake with the kernel serving at `baseUrl` (POST baseUrl + /federation/handshake).
 * When it resolves, both kernels have pinned each other.
 * @throws HandshakeHttpError for transport failures (nothing pinned); PeerHandshakeError when
 * this side refuses the answer (e.g. UNEXPECTED_PEER_KEY, REPLAYED_NONCE; nothing pinned).
 */
export async function handshakeWith(
  baseUrl: string,
  exchange: KernelTrustExchange,
  remoteKernelId: string,
  options: HandshakeClientOptions = {},
): Promise<HandshakeResult> {
  const { answer, nonce, acceptEnvelope } = await handshakeAnswer(baseUrl, exchange, remoteKernelId, options);
  const peer = await apply(acceptEnvelope, exchange, [answer, remoteKernelId]);
  return { peer, nonce };
}

/**
 * @internal handshakeWith up to the accept: sends this kernel's envelope and returns the remote
 * kernel's answer, as the bytes that arrived, once it has passed the envelope's own checks and
 * carries this request's nonce; the caller accepts it (exchange.acceptEnvelope). Touches none of
 * the exchange's stores, so the CLI's `handshake` creates its store file only once an answer is
 * in and would be accepted (hunt 16: an unreachable peer left an empty store behind).
 * Also returns the exchange's acceptEnvelope as it was read and checked here, for handshakeWith.
 * @throws as handshakeWith, but no PeerHandshakeError: nothing is accepted here.
 */
export async function handshakeAnswer(
  baseUrl: string,
  exchange: KernelTrustExchange,
  remoteKernelId: string,
  options: HandshakeClientOptions = {},
): Promise<{ answer: Uint8Array; nonce: string; acceptEnvelope: KernelTrustExchange["acceptEnvelope"] }> {
  // Checked by shape, not instanceof: an exchange from the other build (ESM or CommonJS) of this
  // package is just as good here. Its two methods are read once, and those are the ones called: read
  // again at the call, an object whose answer changed between reads (a Proxy, a getter) got a
  // TypeError with no code ("... is not a function"), and a throwing getter its own throw.
  let localEnvelope: unknown;
  let acceptEnvelope: unknown;
  if (exchange !== null && typeof exchange === "object") {
    try {
      localEnvelope = exchange.localEnvelope;
      acceptEnvelope = exchange.acceptEnvelope;
    } catch (cause) {
      throw new InvalidTypeError("exchange must be a KernelTrustExchange (its methods cannot be read)", { cause });
    }
  }
  if (typeof localEnvelope !== "function" || typeof acceptEnvelope !== "function") {
    throw new InvalidTypeError("exchange must be a KernelTrustExchange");
  }
  // Its limits, read once each (the default answer limit and the verification below use the same
  // values), where a foreign object of that shape with no readable hardening is refused as not an
  // exchange: the reads were a TypeError, or the getter's own throw, out of the client (hunt 31).
  let hardening: Pick<KernelTrustExchange["hardening"], "maxEnvelopeBytes" | "rejectWeakKeys" | "escapeDelAndC1">;
  try {
    const { maxEnvelopeBytes, rejectWeakKeys, escapeDelAndC1 } = exchange.hardening;
    hardening = { maxEnvelopeBytes, rejectWeakKeys, escapeDelAndC1 };
  } catch (cause) {
    throw new InvalidTypeError("exchange must be a KernelTrustExchange (its hardening cannot be read)", { cause });
  }
  // What an exchange's hardening always holds (withHardening checks it): anything else was
  // "maxResponseBytes must be an integer" (an option the caller may not have passed), or, with
  // maxResponseBytes given, an INVALID_TYPE from the verification after the envelope was sent.
  const { maxEnvelopeBytes, rejectWeakKeys, escapeDelAndC1 } = hardening;
  if (
    typeof maxEnvelopeBytes !== "number" || !Number.isSafeInteger(maxEnvelopeBytes) || maxEnvelopeBytes < 1 || maxEnvelopeBytes > MAX_ENVELOPE_BYTES_LIMIT ||
    typeof rejectWeakKeys !== "boolean" || typeof escapeDelAndC1 !== "boolean"
  ) {
    throw new InvalidTypeError("exchange must be a KernelTrustExchange (its hardening has no maxEnvelopeBytes in 1..16 MiB, or rejectWeakKeys or escapeDelAndC1 is not a boolean)");
  }
  if (typeof remoteKernelId !== "string") throw new InvalidTypeError("remoteKernelId must be a string");
  const read = readSettings(options, "options", CLIENT_OPTION_KEYS, (message, cause) => new InvalidTypeError(message, cause === undefined ? undefined : { cause }));
  const url = handshakeUrl(baseUrl);
  const timeoutMs = (read.timeoutMs ?? 10_000) as number; // checked below
  const maxResponseBytes = (read.maxResponseBytes ?? hardening.maxEnvelopeBytes) as number;
  // The timeout goes to a 32-bit timer (AbortSignal.timeout): a larger value would fire at once.
  for (const [name, value, max] of [["timeoutMs", timeoutMs, MAX_TIMEOUT_MS], ["maxResponseBytes", maxResponseBytes, Number.MAX_SAFE_INTEGER]] as const) {
    if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 1 || value > max) throw new InvalidTypeError(`${name} must be an integer in 1..${max}`);
  }
  const nonce = read.nonce ?? randomHex(16);
  if (typeof nonce !== "string") throw new InvalidTypeError("nonce must be a string");
  const doFetch = (read.fetch ?? globalThis.fetch) as typeof fetch;
  if (typeof doFetch !== "function") throw new InvalidTypeError("fetch must be a function");

  const body = JSON.stringify(apply(localEnvelope as KernelTrustExchange["localEnvelope"], exchange, [remoteKernelId, nonce]));
  const signal = AbortSignal.timeout(timeoutMs);
  // AbortSignal.timeout's timer does not keep Node's event loop alive: with a caller's fetch that
  // stalls holding no handle (a mock that never settles), the process exited before the TIMEOUT
  // (code 13 under a top-level await), although timeoutMs holds for such a fetch. This timer holds
  // the loop until just past the abort and goes once the exchange settles (finally, below).
  const holdOpen = setTimeout(keepWaiting, timeoutMs < MAX_TIMEOUT_MS ? timeoutMs + 1 : timeoutMs); // past 2^31-1 Node fires at 1 ms
  let raw: Uint8Array;
  let status: number | undefined; // once the headers are in: a timeout while reading the body reports it too
  try {
    // Adopted once: unlessAborted and cancelLateBody each resolving a thenable the fetch returned
    // called its `then` twice, and a lazy one (a request builder's) sent the envelope again.
    const fetching = Promise.resolve(doFetch(url, { method: "POST", headers: { "content-type": "application/json" }, body, signal, redirect: "error" }));
    const response = await unlessAborted(fetching, signal).catch((error: unknown) => {
      if (signal.aborted) cancelLateBody(fetching);
      throw error;
    });
    status = response.status;
    raw = await readBounded(response, maxResponseBytes, signal);
    if (!response.ok) {
      // Decoded leniently for the message only: the answer itself is verified as bytes (below).
      const text = new TextDecoder("utf-8", { fatal: false }).decode(raw);
      // Everything below is the server's text: shown escaped and cut (docs/protocol.md §11), so a
      // server cannot put line breaks or terminal escapes into our messages and logs.
      let peerCode: string | undefined;
      let message = displayPeerText(text, 200);
      try {
        const parsed = JSON.parse(text) as { error?: { code?: unknown; message?: unknown } };
        if (typeof parsed?.error?.code === "string") peerCode = parsed.error.code.slice(0, 100);
        if (typeof parsed?.error?.message === "string") message = displayPeerText(parsed.error.message, 500);
      } catch {
        // not our server's error shape; the status says enough
      }
      const shownCode = peerCode === undefined ? "" : ` ${displayPeerText(peerCode, 100)}`;
      throw new HandshakeHttpError("REFUSED_BY_PEER", `${url.host} refused the handshake (${status}${shownCode}): ${message}`, { status, peerCode });
    }
    if (!isJsonMediaType(response.headers.get("content-type"))) {
      throw new HandshakeHttpError("INVALID_ANSWER", "answer is not application/json", { status });
    }
  } catch (error) {
    if (instanceOfOrFalse(HandshakeHttpError, error)) throw error;
    if (signal.aborted) throw new HandshakeHttpError("TIMEOUT", `no answer from ${url.host} within ${timeoutMs} ms`, { status, cause: error });
    const fetchLimit = fetchTimeoutCode(error);
    if (fetchLimit !== undefined) {
      throw new HandshakeHttpError("TIMEOUT", `no answer from ${url.host}: the fetch gave up before ${timeoutMs} ms (${fetchLimit})`, { status, cause: error });
    }
    const systemCode = networkErrorCode(error) ?? plainCauseMessage(error);
    const reason = systemCode === undefined ? "" : ` (${systemCode})`;
    throw new HandshakeHttpError("NETWORK_ERROR", `${url.host}: ${describeThrown(error)}${reason}`, { status, cause: error });
  } finally {
    clearTimeout(holdOpen);
  }

  // The bytes that arrived, not a decoding of them: invalid UTF-8 is refused (MALFORMED_ENVELOPE,
  // INVALID_UTF8), as the server and a Rust kernel refuse it, where U+FFFD in its place could
  // verify and be pinned (review 52).
  const verdict = verifyEnvelopeBytes(raw, {
    maxBytes: hardening.maxEnvelopeBytes,
    rejectWeakKeys: hardening.rejectWeakKeys,
    escapeDelAndC1: hardening.escapeDelAndC1,
  });
  if (!verdict.ok) throw new HandshakeHttpError("INVALID_ANSWER", `answer refused: ${verdict.code}: ${displayPeerText(verdict.message, 500)}`, { status, peerCode: verdict.code });
  if (verdict.envelope.challenge.nonce !== nonce) {
    throw new HandshakeHttpError("STALE_ANSWER", "the answer does not carry this request's nonce (a replayed or misrouted answer)", { status });
  }
  return { answer: raw, nonce, acceptEnvelope: acceptEnvelope as KernelTrustExchange["acceptEnvelope"] };
}

/**
 * Node's fetch (undici) has time limits of its own, whatever the signal allows: 10 s to connect,
 * 300 s for the headers and 300 s between body chunks. Past one, it fails with one of these codes
 * somewhere in the error's cause chain; that is a timeout too, not a network error (review 87).
 */
const FETCH_TIMEOUT_CODES: ReadonlySet<string> = new Set(["UND_ERR_CONNECT_TIMEOUT", "UND_ERR_HEADERS_TIMEOUT", "UND_ERR_BODY_TIMEOUT"]);

/** The undici timeout code in `error`'s causes, if any (firstCauseCode). */
function fetchTimeoutCode(error: unknown): string | undefined {
  return firstCauseCode(error, (code) => FETCH_TIMEOUT_CODES.has(code));
}

/**
 * The system's or undici's error code in `error`'s causes, for NETWORK_ERROR's message: undici's
 * own message is only "fetch failed", and "ECONNREFUSED" is what tells a user that nothing listens
 * there yet. Only a code of that shape is shown: E or UND_ERR_ first, or one of TLS_VERIFY_CODES,
 * 3 to 40 of A–Z, 0–9 and _.
 */
function networkErrorCode(error: unknown): string | undefined {
  return firstCauseCode(error, (code) => {
    if (code.length < 3 || code.length > 40) return false;
    for (let i = 0; i < code.length; i++) {
      const c = charCodeAt(code, i);
      if (!((c >= 0x41 && c <= 0x5a) || (c >= 0x30 && c <= 0x39) || c === 0x5f)) return false;
    }
    return charCodeAt(code, 0) === 0x45 /* E */ || stringStartsWith(code, "UND_ERR_") || TLS_VERIFY_CODES.has(code);
  });
}

/**
 * Node's codes for a server certificate OpenSSL refused (Node's tls docs, "X509 certificate error
 * codes"; those starting with E pass anyway). They start with neither E nor UND_ERR_, so an https
 * peer with a self-signed, expired or unknown-CA certificate was NETWORK_ERROR "fetch failed" alone,
 * the one failure a user setting up https most needs named (hunt 31).
 */
const TLS_VERIFY_CODES: ReadonlySet<string> = new Set([
  "UNABLE_TO_GET_ISSUER_CERT", "UNABLE_TO_GET_CRL", "UNABLE_TO_DECRYPT_CERT_SIGNATURE", "UNABLE_TO_DECRYPT_CRL_SIGNATURE",
  "UNABLE_TO_DECODE_ISSUER_PUBLIC_KEY", "CERT_SIGNATURE_FAILURE", "CRL_SIGNATURE_FAILURE", "CERT_NOT_YET_VALID",
  "CERT_HAS_EXPIRED", "CRL_NOT_YET_VALID", "CRL_HAS_EXPIRED", "OUT_OF_MEM", "DEPTH_ZERO_SELF_SIGNED_CERT",
  "SELF_SIGNED_CERT_IN_CHAIN", "UNABLE_TO_GET_ISSUER_CERT_LOCALLY", "UNABLE_TO_VERIFY_LEAF_SIGNATURE", "CERT_CHAIN_TOO_LONG",
  "CERT_REVOKED", "INVALID_CA", "PATH_LENGTH_EXCEEDED", "INVALID_PURPOSE", "CERT_UNTRUSTED", "CERT_REJECTED", "HOSTNAME_MISMATCH",
]);

/**
 * The message of the first of `error`'s causes (three deep) that is plain words only, for
 * NETWORK_ERROR's message when no code names the failure: undici says "bad port" (a port its
 * fetch refuses, 6000 say, where `serve` listens all the same) and "unexpected redirect", without
 * a code, behind its "fetch failed" (helper 142). Only 3 to 40 lowercase letters and spaces pass:
 * no URL, host, path or secret a caller's own fetch could put in an error. `error` itself is not
 * read: its message is in NETWORK_ERROR's already.
 */
function plainCauseMessage(error: unknown): string | undefined {
  return firstInCauseChain(error, 1, (node) => {
    const message = (node as { message?: unknown }).message;
    return typeof message === "string" && isPlainWords(message) ? message : undefined;
  });
}

/** 3 to 40 characters, each a lowercase ASCII letter or a space, starting with a letter. */
function isPlainWords(text: string): boolean {
  if (text.length < 3 || text.length > 40) return false;
  for (let i = 0; i < text.length; i++) {
    const c = charCodeAt(text, i);
    if (!((c >= 0x61 && c <= 0x7a) || (c === 0x20 && i > 0))) return false;
  }
  return true;
}

/**
 * The first string `code` that `accepts` takes among `error` and its first three causes, and the
 * first error of an AggregateError among them (a refused connection to every address of a name).
 */
function firstCauseCode(error: unknown, accepts: (code: string) => boolean): string | undefined {
  return firstInCauseChain(error, 0, (node) => {
    const code = (node as { code?: unknown }).code;
    if (typeof code === "string" && accepts(code)) return code;
    const errors = (node as { errors?: unknown }).errors;
    if (isArray(errors) && errors.length > 0) {
      const first = (errors[0] as { code?: unknown } | null)?.code;
      if (typeof first === "string" && accepts(first)) return first;
    }
    return undefined;
  });
}

/**
 * What `read` finds first along `error` (depth 0) and its causes, up to depth 3, from depth
 * `from` on. Reads nothing that can throw out: a caller's fetch may reject with anything, and a
 * member that throws ends the walk with nothing found.
 */
function firstInCauseChain(error: unknown, from: number, read: (node: object) => string | undefined): string | undefined {
  let current = error;
  for (let depth = 0; depth < 4 && typeof current === "object" && current !== null; depth++) {
    try {
      if (depth >= from) {
        const found = read(current);
        if (found !== undefined) return found;
      }
      current = (current as { cause?: unknown }).cause;
    } catch {
      return undefined;
    }
  }
  return undefined;
}

/** Largest timeoutMs: what a 32-bit signed timer holds. */
const MAX_TIMEOUT_MS = 2 ** 31 - 1;

/**
 * baseUrl + /federation/handshake. Refused (INVALID_URL): not a URL, not http(s), credentials
 * (fetch refuses them, and its message would repeat the password), a query or a fragment (the
 * path cannot be appended after them). A malformed baseUrl is not repeated in the message: it may
 * hold a secret.
 */
/**
 * @internal The handshake URL of a kernel's base URL (POST <base>/federation/handshake), or
 * HandshakeHttpError INVALID_URL: http(s) only, no credentials, query or fragment. The CLI checks
 * its URL argument with it before it opens a store.
 */
export function handshakeUrl(baseUrl: unknown): URL {
  let base: URL;
  try {
    base = new URL(String(baseUrl));
  } catch {
    // Not even the parser's error is kept: it carries the input (Node's `input` property).
    throw new HandshakeHttpError("INVALID_URL", "baseUrl is not a URL");
  }
  if (base.protocol !== "http:" && base.protocol !== "https:") throw new HandshakeHttpError("INVALID_URL", `not an http(s) URL: ${displayPeerText(base.protocol, 20)}`);
  if (base.username !== "" || base.password !== "") throw new HandshakeHttpError("INVALID_URL", "baseUrl must not hold credentials (user:password@)");
  if (base.search !== "" || base.hash !== "") throw new HandshakeHttpError("INVALID_URL", "baseUrl must not have a query or a fragment");
  // Only the path changes: built from a string, a path starting with "//" would name another host.
  const url = new URL(base.href);
  url.pathname = base.pathname.replace(/\/+$/, "") + HANDSHAKE_PATH;
  return url;
}

/**
 * `promise`, or a rejection with `signal`'s reason once it aborts, whichever comes first. fetch and
 * its body honour the signal themselves, but a caller's fetch need not (a wrapper that does not
 * pass `signal` on, a Response made over a stream of its own): timeoutMs bounds the exchange all
 * the same, where such a fetch left handshakeWith pending for as long as the server kept still
 * (hunt 31). The listener goes once the promise settles.
 */
function unlessAborted<T>(promise: T | PromiseLike<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return rejectedPromise(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    Promise.resolve(promise).then(
      (value) => (signal.removeEventListener("abort", onAbort), resolve(value)),
      (error: unknown) => (signal.removeEventListener("abort", onAbort), reject(error)),
    );
  });
}

/** holdOpen's callback in handshakeAnswer: the timer is there to keep the event loop alive, not to act. */
function keepWaiting(): void {}

/**
 * Cancels the body of a response that arrives after the call gave up waiting for it (a fetch that
 * ignores the signal): nothing reads it, and its connection stayed open, keeping the process
 * alive, until the server closed it or undici's 300 s body limit (hunt 31). Throws nothing.
 */
function cancelLateBody(fetching: Promise<Response>): void {
  Promise.resolve(fetching).then((late) => late.body?.cancel()).catch(() => undefined);
}

/**
 * Reads a response body, refusing it once it passes `limit` bytes; each wait ends when `signal`
 * aborts (unlessAborted), and the body is then cancelled without waiting for it.
 */
async function readBounded(response: Response, limit: number, signal: AbortSignal): Promise<Uint8Array> {
  const declared = Number(response.headers.get("content-length"));
  if (Number.isFinite(declared) && declared > limit) {
    await unlessAborted(response.body?.cancel(), signal).catch(() => undefined);
    throw new HandshakeHttpError("RESPONSE_TOO_LARGE", `answer over ${limit} bytes`, { status: response.status });
  }
  if (response.body === null) return new Uint8Array(0);
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    let next: ReadableStreamReadResult<Uint8Array>;
    try {
      next = await unlessAborted(reader.read(), signal);
    } catch (error) {
      if (signal.aborted) reader.cancel(signal.reason).catch(() => undefined);
      throw error;
    }
    const { done, value } = next;
    if (done) break;
    // A caller's fetch may hand back a body of anything (a Response over a text stream yields
    // strings): one without a byteLength counted NaN, which never passed the limit (hunt 31).
    // Counted by its internal slot and kept as a copy, so the bytes counted are the bytes kept.
    if (!isReadableBytes(value, -1)) {
      reader.cancel().catch(() => undefined);
      throw new TypeError("a chunk of the answer's body is not a Uint8Array");
    }
    size += viewLength(value);
    if (size > limit) {
      await unlessAborted(reader.cancel(), signal).catch(() => undefined);
      throw new HandshakeHttpError("RESPONSE_TOO_LARGE", `answer over ${limit} bytes`, { status: response.status });
    }
    chunks.push(copyOfBytes(value));
  }
  return concatBytes(chunks);
}

/**
 * Whether a Content-Type names application/json itself (RFC 8259 §11), parameters allowed: its
 * media type, before any `;`, compared case-insensitively (RFC 9110 §8.3.1). A prefix test also
 * took application/json-seq or application/jsonx.
 */
function isJsonMediaType(contentType: string | null): boolean {
  if (contentType === null) return false;
  const semicolon = contentType.indexOf(";");
  return (semicolon < 0 ? contentType : contentType.slice(0, semicolon)).trim().toLowerCase() === "application/json";
}
