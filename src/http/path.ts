// The one route of the handshake over HTTP, shared by the server (node:http) and the fetch client.
// A module of its own so that the client, and the portable entry chio-trust/http/client, never
// reach node:http through it (review 72 F3).

/** The path both halves use: the client POSTs its envelope to baseUrl + HANDSHAKE_PATH. */
export const HANDSHAKE_PATH = "/federation/handshake";
