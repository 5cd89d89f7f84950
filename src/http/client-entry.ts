// chio-trust/http/client: the fetch half of the handshake over HTTP, alone. It reaches no Node
// built-in (fetch, AbortSignal and crypto.getRandomValues only), so browsers, Deno, Bun and edge
// workers can bundle it; chio-trust/http adds the node:http server. Same module graph as every
// other entry: an exchange from chio-trust/handshake is accepted here.
export { handshakeWith } from "./client.js";
// The other classes handshakeWith throws: its argument checks', this side's refusal of the answer
// (PeerHandshakeError), its nonce's random source and the core (review 91 F8, review 94 F2).
export { InvalidTypeError, RandomSourceError, WasmCoreError, type WasmCoreErrorCode } from "../errors.js";
export { InvalidConfigError, PeerHandshakeError } from "../handshake/errors.js";
export type { PeerHandshakeErrorCode } from "../handshake/errors.js";
export type { HandshakeClientOptions, HandshakeResult } from "./client.js";
export { HandshakeHttpError } from "./errors.js";
export type { HandshakeHttpErrorCode, HandshakeServerAnswerCode } from "./errors.js";
export { HANDSHAKE_PATH } from "./path.js";
