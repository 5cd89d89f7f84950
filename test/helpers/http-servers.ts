// Real node:http servers on loopback for the HTTP tests (test/node/http-handshake.test.ts,
// test/node/http-client-fetch.test.ts): listen on a free port, and close with every connection.

import type { Server } from "node:http";

/** Listens on 127.0.0.1, a port the system picks; resolves with the server's base URL. */
export function listen(server: Server): Promise<string> {
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => {
    const address = server.address();
    resolve(`http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}`);
  }));
}

/** Closes the server and ends its connections, keep-alive ones included, at once. */
export const closeServer = (server: Server) => new Promise<void>((resolve) => {
  server.close(() => resolve());
  server.closeAllConnections();
});
