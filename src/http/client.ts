// The client half of the handshake over HTTP: send this kernel's envelope with a fresh nonce,
// check that the answer is signed and carries THAT nonce, then accept it (verify and pin).
//
// The nonce check runs on the verified answer and before acceptEnvelope, so an answer made for
// another request (a replayed or misrouted one) is refused as STALE_ANSWER and nothing is pinned.
// It costs one extra signature check per handshake on the client: verifyEnvelopeBytes proves the
// nonce was signed by the key the answer declares, then acceptEnvelope checks that key is the
// expected one and pins.
import { verifyEnvelopeBytes } from "../handshake/verify-envelope.js";
import type { FederationPeer } from "../handshake/peer.js";
import type { KernelTrustExchange } from "../handshake/exchange.js";
import { concatBytes } from "../bytes.js";
import { InvalidTypeError } from "../errors.js";
import { HandshakeHttpError } from "./errors.js";
import { HANDSHAKE_PATH } from "./server.js";

/** Options of handshakeWith. */
export interface HandshakeClientOptions {
  /** Time for the whole exchange (connect, send, answer), in ms. Default 10000. */
  timeoutMs?: number;
  /** Largest answer read, in bytes. Default: the exchange's maxEnvelopeBytes. */
  maxResponseBytes?: number;
  /** The nonce to send (default 16 random bytes as hex). Never reuse one. */
  nonce?: string;
  /** The fetch to use (default globalThis.fetch). */
  fetch?: typeof fetch;
}

/** What a successful handshake produced. */
export interface HandshakeResult {
  /** The remote kernel as now pinned here. */
  peer: FederationPeer;
  /** The nonce this handshake used (both envelopes carry it). */
  nonce: string;
}

function randomNonce(): string {
  const bytes = new Uint8Array(16);
  globalThis.crypto.getRandomValues(bytes);
  let hex = "";
  for (const byte of bytes) hex += byte.toString(16).padStart(2, "0");
  return hex;
}

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
  // Checked by shape, not instanceof: an exchange from the other build (ESM or CommonJS) of this
  // package is just as good here.
  if (exchange === null || typeof exchange !== "object" || typeof exchange.localEnvelope !== "function" || typeof exchange.acceptEnvelope !== "function") {
    throw new InvalidTypeError("exchange must be a KernelTrustExchange");
  }
  if (typeof remoteKernelId !== "string") throw new InvalidTypeError("remoteKernelId must be a string");
  if (options === null || typeof options !== "object") throw new InvalidTypeError("options must be an object");
  let url: URL;
  try {
    url = new URL(String(baseUrl).replace(/\/+$/, "") + HANDSHAKE_PATH);
  } catch (cause) {
    throw new HandshakeHttpError("INVALID_URL", `not a URL: ${String(baseUrl).slice(0, 200)}`, { cause });
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") throw new HandshakeHttpError("INVALID_URL", `not an http(s) URL: ${url.protocol}`);
  const hardening = exchange.hardening;
  const timeoutMs = options.timeoutMs ?? 10_000;
  const maxResponseBytes = options.maxResponseBytes ?? hardening.maxEnvelopeBytes;
  for (const [name, value] of [["timeoutMs", timeoutMs], ["maxResponseBytes", maxResponseBytes]] as const) {
    if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 1) throw new InvalidTypeError(`${name} must be a positive integer`);
  }
  const nonce = options.nonce ?? randomNonce();
  if (typeof nonce !== "string") throw new InvalidTypeError("nonce must be a string");
  const doFetch = options.fetch ?? globalThis.fetch;

  const body = JSON.stringify(exchange.localEnvelope(remoteKernelId, nonce));
  const signal = AbortSignal.timeout(timeoutMs);
  let text: string;
  let status: number;
  try {
    const response = await doFetch(url, { method: "POST", headers: { "content-type": "application/json" }, body, signal, redirect: "error" });
    status = response.status;
    const raw = await readBounded(response, maxResponseBytes);
    text = new TextDecoder("utf-8", { fatal: false }).decode(raw);
    if (!response.ok) {
      let peerCode: string | undefined;
      let message = text.slice(0, 200);
      try {
        const parsed = JSON.parse(text) as { error?: { code?: unknown; message?: unknown } };
        if (typeof parsed?.error?.code === "string") peerCode = parsed.error.code.slice(0, 100);
        if (typeof parsed?.error?.message === "string") message = parsed.error.message.slice(0, 500);
      } catch {
        // not our server's error shape; the status says enough
      }
      throw new HandshakeHttpError("REFUSED_BY_PEER", `${url.host} refused the handshake (${status}${peerCode ? ` ${peerCode}` : ""}): ${message}`, { status, peerCode });
    }
    if (!/^application\/json\b/i.test(response.headers.get("content-type") ?? "")) {
      throw new HandshakeHttpError("INVALID_ANSWER", "answer is not application/json", { status });
    }
  } catch (error) {
    if (error instanceof HandshakeHttpError) throw error;
    if (signal.aborted) throw new HandshakeHttpError("TIMEOUT", `no answer from ${url.host} within ${timeoutMs} ms`, { cause: error });
    throw new HandshakeHttpError("NETWORK_ERROR", `${url.host}: ${(error as Error)?.message ?? String(error)}`, { cause: error });
  }

  const verdict = verifyEnvelopeBytes(text, {
    maxBytes: hardening.maxEnvelopeBytes,
    rejectWeakKeys: hardening.rejectWeakKeys,
    escapeDelAndC1: hardening.escapeDelAndC1,
  });
  if (!verdict.ok) throw new HandshakeHttpError("INVALID_ANSWER", `answer refused: ${verdict.code}: ${verdict.message}`, { status, peerCode: verdict.code });
  if (verdict.envelope.challenge.nonce !== nonce) {
    throw new HandshakeHttpError("STALE_ANSWER", "the answer does not carry this request's nonce (a replayed or misrouted answer)", { status });
  }
  const peer = await exchange.acceptEnvelope(text, remoteKernelId);
  return { peer, nonce };
}

/** Reads a response body, refusing it once it passes `limit` bytes. */
async function readBounded(response: Response, limit: number): Promise<Uint8Array> {
  const declared = Number(response.headers.get("content-length"));
  if (Number.isFinite(declared) && declared > limit) {
    await response.body?.cancel().catch(() => undefined);
    throw new HandshakeHttpError("RESPONSE_TOO_LARGE", `answer over ${limit} bytes`, { status: response.status });
  }
  if (response.body === null) return new Uint8Array(0);
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel().catch(() => undefined);
      throw new HandshakeHttpError("RESPONSE_TOO_LARGE", `answer over ${limit} bytes`, { status: response.status });
    }
    chunks.push(value);
  }
  return concatBytes(chunks);
}
