// A request asking to upgrade the connection (Upgrade + Connection: upgrade, as `curl --http2`
// sends for h2c) on the handshake path. The server has no 'upgrade' listener, so Node serves it as
// a plain request, but its parser reads nothing more on that connection: what is pipelined behind
// it is never parsed. Raw sockets on 127.0.0.1 against a real server.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { connect } from "node:net";
import { InMemoryPeerStore, KernelTrustExchange, Keypair } from "../../src/index.js";
import { createHandshakeServer } from "../../src/http/index.js";
import { closeServer, listen } from "../helpers/http-servers.js";

const HEAD = "Host: x\r\nContent-Type: application/json\r\n";

test("an upgrade request is answered with Connection: close and its connection closed: a request pipelined behind it, which Node never parses, is not left waiting on a connection held open", async () => {
  const a = Keypair.fromSeed(new Uint8Array(32).fill(71));
  const b = Keypair.fromSeed(new Uint8Array(32).fill(72));
  const store = new InMemoryPeerStore();
  const exchange = new KernelTrustExchange("kernel.b", b, { store }).withTrustedPeer("kernel.a", a.publicKey);
  const server = createHandshakeServer(exchange);
  // Well past the wait below: before the fix the connection stayed open until this timeout.
  server.keepAliveTimeout = 60_000;
  const url = await listen(server);
  const port = Number(new URL(url).port);
  const sender = new KernelTrustExchange("kernel.a", a);
  const first = JSON.stringify(sender.localEnvelope("kernel.b", "n-upgrade-1"));
  const second = JSON.stringify(sender.localEnvelope("kernel.b", "n-upgrade-2"));
  const socket = connect(port, "127.0.0.1");
  let out = "";
  let ended = false;
  socket.setEncoding("utf8").on("data", (chunk: string) => (out += chunk)).on("error", () => {});
  socket.on("end", () => (ended = true));
  try {
    await new Promise((resolve) => socket.once("connect", resolve));
    socket.write(
      `POST /federation/handshake HTTP/1.1\r\n${HEAD}Connection: keep-alive, Upgrade\r\nUpgrade: h2c\r\nContent-Length: ${Buffer.byteLength(first)}\r\n\r\n${first}` +
      `POST /federation/handshake HTTP/1.1\r\n${HEAD}Content-Length: ${Buffer.byteLength(second)}\r\n\r\n${second}`,
    );
    for (let i = 0; i < 60 && !ended; i++) await new Promise((resolve) => setTimeout(resolve, 50));
    const answers = out.match(/^HTTP\/1\.1 \d{3}/gm) ?? [];
    assert.equal(answers, ["HTTP/1.1 200"], "the upgrade request is served; the one behind it is never parsed");
    assert.match(out, /\r\nConnection: close\r\n/i, "its answer tells the client nothing more is served on the connection (before: keep-alive)");
    assert.ok(ended, "the server closed the connection (before: held open until keepAliveTimeout)");
    assert.ok((await store.get("kernel.a")) !== undefined, "the upgrade request's caller is pinned");
    // The pipelined request was never accepted: its nonce is unused, and sent again on a new
    // connection it is accepted.
    const again = await fetch(url + "/federation/handshake", { method: "POST", headers: { "content-type": "application/json" }, body: second });
    assert.is(again.status, 200);
    await again.arrayBuffer();
  } finally {
    socket.destroy();
    await closeServer(server);
  }
});

test.run();
