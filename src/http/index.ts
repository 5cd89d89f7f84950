// chio-trust/http: the kernel trust handshake over HTTP (node:http server, fetch client).
export { createHandshakeServer } from "./server.js";
export { HANDSHAKE_PATH } from "./path.js";
export type { HandshakeServerOptions } from "./server.js";
export { handshakeWith } from "./client.js";
export type { HandshakeClientOptions, HandshakeResult } from "./client.js";
export { HandshakeHttpError } from "./errors.js";
export type { HandshakeHttpErrorCode, HandshakeServerAnswerCode } from "./errors.js";
