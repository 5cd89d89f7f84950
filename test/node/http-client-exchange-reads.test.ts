// handshakeWith reads the exchange's two methods once and calls the ones it checked. Read again at
// the call, an exchange whose answer changes between reads (an own getter) got a TypeError with
// no code out of the client, after the other kernel had already pinned this one. Real handshake server
// on 127.0.0.1.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { KernelTrustExchange, Keypair } from "../../src/index.js";
import { createHandshakeServer, handshakeWith } from "../../src/http/index.js";
import { InvalidTypeError } from "../../src/errors.js";
import { closeServer, listen } from "../helpers/http-servers.js";

const seedA = new Uint8Array(32).fill(101);
const seedB = new Uint8Array(32).fill(102);

/**
 * Gives `exchange` own getters for its two methods that count their reads and answer the class's
 * method on the first read only (undefined after): an exchange whose answer changes between reads.
 * (A Proxy cannot stand in: the class's methods refuse any receiver but an instance.)
 */
function readOnce(exchange: KernelTrustExchange, reads: Map<string, number>): KernelTrustExchange {
  for (const key of ["localEnvelope", "acceptEnvelope"] as const) {
    const method = KernelTrustExchange.prototype[key];
    Object.defineProperty(exchange, key, {
      get() {
        const count = (reads.get(key) ?? 0) + 1;
        reads.set(key, count);
        return count === 1 ? method : undefined;
      },
    });
  }
  return exchange;
}

test("each method is read once and the one read is called: the handshake completes and pins", async () => {
  const b = new KernelTrustExchange("kernel.b", Keypair.fromSeed(seedB)).withTrustedPeer("kernel.a", Keypair.fromSeed(seedA).publicKey);
  const server = createHandshakeServer(b);
  const url = await listen(server);
  try {
    const a = new KernelTrustExchange("kernel.a", Keypair.fromSeed(seedA)).withTrustedPeer("kernel.b", Keypair.fromSeed(seedB).publicKey);
    const reads = new Map<string, number>();
    const result = await handshakeWith(url, readOnce(a, reads), "kernel.b");
    assert.is(result.peer.kernelId, "kernel.b");
    assert.is(reads.get("localEnvelope"), 1, "localEnvelope read once");
    assert.is(reads.get("acceptEnvelope"), 1, "acceptEnvelope read once (before: twice, and the second read's undefined was called)");
    assert.equal((await a.peers()).map((peer) => peer.kernelId), ["kernel.b"], "this side pinned kernel.b");
  } finally {
    await closeServer(server);
  }
});

test("a method getter that throws is INVALID_TYPE, with the throw as its cause, and nothing is sent", async () => {
  let requests = 0;
  const b = new KernelTrustExchange("kernel.b", Keypair.fromSeed(seedB));
  const server = createHandshakeServer(b);
  server.prependListener("request", () => requests++);
  const url = await listen(server);
  try {
    const thrown = new Error("getter");
    const exchange = new KernelTrustExchange("kernel.a", Keypair.fromSeed(seedA));
    Object.defineProperty(exchange, "acceptEnvelope", {
      get() {
        throw thrown;
      },
    });
    const error = await handshakeWith(url, exchange, "kernel.b").then(() => undefined, (e: unknown) => e);
    assert.instance(error, InvalidTypeError, String(error));
    assert.is((error as InvalidTypeError).code, "INVALID_TYPE");
    assert.is((error as Error).cause, thrown);
    assert.is(requests, 0, "nothing sent");
  } finally {
    await closeServer(server);
  }
});

test.run();
