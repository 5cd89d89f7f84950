// server.close() with a handshake in flight (its store slow to answer): the answer goes out and
// ends its connection, rather than keeping it alive for more requests on a closed server. Real
// server and a raw socket on 127.0.0.1.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { connect } from "node:net";
import { InMemoryPeerStore, KernelTrustExchange, Keypair } from "../../src/index.js";
import { createHandshakeServer } from "../../src/http/index.js";
import type { FederationPeerStore } from "../../src/handshake/ports.js";
import { listen } from "../helpers/http-servers.js";

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

test("an answer made after close() says Connection: close and ends its connection: close()'s callback does not wait on keep-alive, and nothing sent next on it is served", async () => {
  const a = Keypair.fromSeed(new Uint8Array(32).fill(87));
  const c = Keypair.fromSeed(new Uint8Array(32).fill(88));
  const b = Keypair.fromSeed(new Uint8Array(32).fill(89));
  const inner = new InMemoryPeerStore();
  let release!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  let reads = 0;
  // Reads wait for the gate: the accept is in flight when close() is called.
  const store: FederationPeerStore = {
    insert: (peer) => inner.insert(peer),
    get: async (id) => (reads++, await gate, inner.get(id)),
    remove: (id) => inner.remove(id),
    snapshot: () => inner.snapshot(),
    compareAndSet: (id, expected, next) => inner.compareAndSet(id, expected, next),
  };
  const exchange = new KernelTrustExchange("kernel.b", b, { store }).withTrustedPeer("kernel.a", a.publicKey).withTrustedPeer("kernel.c", c.publicKey);
  const server = createHandshakeServer(exchange);
  server.keepAliveTimeout = 60_000; // before the fix, close() waited this long on the answered connection
  const port = Number(new URL(await listen(server)).port);
  const request = (from: Keypair, id: string, nonce: string) => {
    const body = JSON.stringify(new KernelTrustExchange(id, from).localEnvelope("kernel.b", nonce));
    return `POST /federation/handshake HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
  };
  const socket = connect(port, "127.0.0.1");
  let out = "";
  let ended = false;
  socket.setEncoding("utf8").on("data", (chunk: string) => (out += chunk)).on("error", () => {});
  socket.on("end", () => (ended = true));
  let closed = false;
  try {
    await new Promise((resolve) => socket.once("connect", resolve));
    socket.write(request(a, "kernel.a", "n-close-1"));
    for (let i = 0; i < 100 && reads === 0; i++) await pause(20);
    assert.is(reads, 1, "the accept reached the store");
    server.close(() => (closed = true));
    release();
    for (let i = 0; i < 100 && !out.includes("\r\n\r\n{"); i++) await pause(20);
    assert.match(out, /^HTTP\/1\.1 200 /, "the request in flight is answered");
    assert.match(out, /\r\nConnection: close\r\n/i, "before: keep-alive, on a server already closed");
    // A second handshake on the same connection, as a client told keep-alive would send.
    if (!socket.destroyed && socket.writable) socket.write(request(c, "kernel.c", "n-close-2"));
    for (let i = 0; i < 60 && !(ended && closed); i++) await pause(50);
    assert.ok(ended, "the server ended the connection");
    assert.ok(closed, "close()'s callback ran (before: not until keepAliveTimeout)");
    assert.is(out.match(/^HTTP\/1\.1 /gm)?.length, 1, "nothing sent after the answer was answered");
    assert.is(await inner.get("kernel.c"), undefined, "nor served: kernel.c is not pinned");
  } finally {
    release();
    socket.destroy();
    server.closeAllConnections();
  }
});

test.run();
