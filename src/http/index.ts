// chio-trust/http: the kernel trust handshake over HTTP: the node:http server, and everything of
// the portable chio-trust/http/client (the fetch client, its error, the path), declared there once.
export { createHandshakeServer } from "./server.js";
export type { HandshakeServerOptions } from "./server.js";
export * from "./client-entry.js";
