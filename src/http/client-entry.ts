// chio-trust/http/client: the fetch half of the handshake over HTTP, alone. It reaches no Node
// built-in (fetch, AbortSignal and crypto.getRandomValues only), so browsers, Deno, Bun and edge
// workers can bundle it; chio-trust/http adds the node:http server. Same module graph as every
// other entry: an exchange from chio-trust/handshake is accepted here.
export { handshakeWith } from "./client.js";
// The shared classes its argument checks throw (review 91 F8).
export { InvalidTypeError } from "../errors.js";
export { InvalidConfigError } from "../handshake/errors.js";
export type { HandshakeClientOptions, HandshakeResult } from "./client.js";
export { HandshakeHttpError } from "./errors.js";
export type { HandshakeHttpErrorCode, HandshakeServerAnswerCode } from "./errors.js";
export { HANDSHAKE_PATH } from "./path.js";
