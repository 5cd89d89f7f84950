// server.close() arms a timer that ends the connections still open after the request and
// handshake timeouts (src/http/server.ts). Once the server has closed, that timer is cleared: it
// held the closed server, its exchange and its stores in memory for its whole delay. Real server
// on 127.0.0.1, a real keep-alive connection, V8's own garbage collector.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { connect } from "node:net";
import { KernelTrustExchange, Keypair } from "../../src/index.js";
import { createHandshakeServer } from "../../src/http/index.js";
import { listen } from "../helpers/http-servers.js";

setFlagsFromString("--expose-gc");
const gc = runInNewContext("gc") as () => void;
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A server that served one request on a kept-alive connection, closed; only a WeakRef to it is returned. */
async function closedServer(): Promise<WeakRef<object>> {
  const exchange = new KernelTrustExchange("kernel.b", Keypair.fromSeed(new Uint8Array(32).fill(91)));
  const server = createHandshakeServer(exchange);
  const port = Number(new URL(await listen(server)).port);
  const socket = connect(port, "127.0.0.1");
  await new Promise((resolve) => socket.once("connect", resolve));
  let out = "";
  socket.setEncoding("utf8").on("data", (chunk: string) => (out += chunk)).on("error", () => {});
  socket.write("GET /federation/handshake HTTP/1.1\r\nHost: x\r\n\r\n");
  for (let i = 0; i < 100 && !out.includes("\r\n\r\n"); i++) await pause(20);
  assert.match(out, /^HTTP\/1\.1 \d{3} /, "the request was answered");
  const closed = new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve())));
  socket.end(); // the client goes: every connection is ended, close()'s callback runs
  await closed;
  socket.destroy();
  return new WeakRef(server);
}

test("a closed server is not held by close()'s deadline timer once it has closed", async () => {
  const ref = await closedServer();
  for (let i = 0; i < 20 && ref.deref() !== undefined; i++) {
    await pause(20);
    gc();
  }
  assert.is(ref.deref(), undefined, "the closed server was collected (before: held by the timer for requestTimeoutMs + handshakeTimeoutMs + linger)");
});

test.run();
