// A slow link for the tests of a store call's one bound (operationTimeoutMs covers every statement
// of an open, connecting included): a TCP relay on 127.0.0.1 that holds each chunk the client sends
// for `delayMs` before passing it to the server, in order; the server's replies pass at once.
import { connect, createServer, type Socket } from "node:net";

export interface DelayRelay {
  /** The port to connect to instead of the server's. */
  port: number;
  /** Stops listening and ends every relayed connection. */
  close(): Promise<void>;
}

export async function startDelayRelay(targetPort: number, delayMs: number): Promise<DelayRelay> {
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    const upstream = connect(targetPort, "127.0.0.1");
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on("error", () => undefined);
      socket.on("close", () => {
        sockets.delete(socket);
        client.destroy();
        upstream.destroy();
      });
    }
    client.on("data", (chunk: Buffer) => setTimeout(() => upstream.destroyed || upstream.write(chunk), delayMs));
    upstream.pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    port: (server.address() as { port: number }).port,
    close: () => {
      for (const socket of sockets) socket.destroy();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
