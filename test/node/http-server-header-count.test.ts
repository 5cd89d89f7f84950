// Header lines past Node's default maxHeadersCount (2000) are dropped from request.headers by
// Node, though its parser still acts on them. The server's checks of the Host line (RFC 9112
// §3.2: more than one is a 400) and of an upgrade request (answered with Connection: close, since
// Node reads nothing more on its connection) must see them all. Raw sockets on 127.0.0.1.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { connect } from "node:net";
import { InMemoryPeerStore, KernelTrustExchange, Keypair } from "../../src/index.js";
import { createHandshakeServer } from "../../src/http/index.js";
import { closeServer, listen } from "../helpers/http-servers.js";

// 2000 header lines of 6 bytes: 12 KB, under Node's 16 KiB header limit.
const PADDING = "X: 1\r\n".repeat(2000);

/** Sends `text` on a new connection; resolves with what came back once the server ends it or after `ms`. */
function exchangeRaw(port: number, text: string, ms = 3000): Promise<{ out: string; ended: boolean }> {
  return new Promise((resolve) => {
    const socket = connect(port, "127.0.0.1", () => socket.write(text));
    let out = "";
    socket.setEncoding("utf8").on("data", (chunk: string) => (out += chunk)).on("error", () => {});
    const timer = setTimeout(() => (socket.destroy(), resolve({ out, ended: false })), ms);
    socket.on("end", () => (clearTimeout(timer), socket.destroy(), resolve({ out, ended: true })));
  });
}

function setup(seed: number) {
  const a = Keypair.fromSeed(new Uint8Array(32).fill(seed));
  const b = Keypair.fromSeed(new Uint8Array(32).fill(seed + 1));
  const store = new InMemoryPeerStore();
  const logged: string[] = [];
  const exchange = new KernelTrustExchange("kernel.b", b, { store }).withTrustedPeer("kernel.a", a.publicKey);
  const server = createHandshakeServer(exchange, { onRequestError: (info) => logged.push(`${info.status} ${info.code}`) });
  server.keepAliveTimeout = 60_000; // well past the waits here: a connection left open stays open
  const envelope = (nonce: string) => JSON.stringify(new KernelTrustExchange("kernel.a", a).localEnvelope("kernel.b", nonce));
  return { store, logged, server, envelope };
}

test("a second Host line after 2000 other header lines is still a 400 BAD_REQUEST, and nothing is pinned", async () => {
  const { store, logged, server, envelope } = setup(81);
  const port = Number(new URL(await listen(server)).port);
  try {
    const body = envelope("n-host");
    const { out } = await exchangeRaw(port, `POST /federation/handshake HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n${PADDING}Host: y\r\n\r\n${body}`);
    assert.match(out, /^HTTP\/1\.1 400 [\s\S]*"BAD_REQUEST"[\s\S]*more than one Host header/, "before: 200, the second Host dropped by Node unseen");
    assert.equal(logged, ["400 BAD_REQUEST"]);
    assert.is(await store.get("kernel.a"), undefined, "nothing pinned");
  } finally {
    await closeServer(server);
  }
});

test("an upgrade request whose Upgrade and Connection lines come after 2000 other header lines is still answered with Connection: close, its connection ended", async () => {
  const { server, envelope } = setup(83);
  const port = Number(new URL(await listen(server)).port);
  try {
    const body = envelope("n-upgrade-padded");
    const { out, ended } = await exchangeRaw(port, `POST /federation/handshake HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n${PADDING}Connection: keep-alive, Upgrade\r\nUpgrade: h2c\r\n\r\n${body}`);
    assert.match(out, /^HTTP\/1\.1 200 /);
    assert.match(out, /\r\nConnection: close\r\n/i, "before: keep-alive, on a connection Node no longer reads");
    assert.ok(ended, "the server ended the connection (before: held until keepAliveTimeout)");
  } finally {
    await closeServer(server);
  }
});

test.run();
