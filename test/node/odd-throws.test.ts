// Caller code the library calls (a peer store, a replay store, a signer, a clock, an input's
// getters and Proxy traps, handshakeWith's fetch) may throw anything, not only an Error. Whatever
// it throws, the library's answer must be the typed error it gives for a thrown Error at the same
// place, and its state must be what it is then: a pin write that failed keeps the envelope's nonce
// (docs/protocol.md §6, the write may have landed), a read that failed releases it.
//
// Found in December 2026: the code that built STORE_FAILED, SIGNING_FAILED, MALFORMED_ENVELOPE and
// NETWORK_ERROR read the thrown value with `String(value)` or `value.message`, which throw for an
// object with no prototype, a revoked Proxy or an Error whose `message` getter throws. The caller
// then got that TypeError (or the thrown value itself) in place of the typed error, and a pin write
// that threw such a value lost its "outcome unknown" mark, so the same envelope sent again was
// accepted. Each case below is compared with a thrown Error, which the other suites check in detail.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { createServer } from "node:http";
import {
  FederationPeer,
  InMemoryPeerStore,
  KernelTrustExchange,
  Keypair,
  PeerHandshakeEnvelope,
  type FederationPeerStore,
  type HandshakeSigner,
  type ReplayStore,
} from "../../src/index.js";
import { createHandshakeServer, handshakeWith } from "../../src/http/index.js";
import { A, B, NOW } from "../helpers/kernels.js";

/** Values a caller's code can throw, each made fresh. The first is the control. */
const THROWN: readonly [string, () => unknown][] = [
  ["an Error", () => new Error("down")],
  ["an object with no prototype", () => Object.create(null)],
  ["a revoked Proxy", () => {
    const revocable = Proxy.revocable({}, {});
    revocable.revoke();
    return revocable.proxy;
  }],
  ["a Proxy whose getPrototypeOf trap throws", () => new Proxy({}, { getPrototypeOf: () => { throw new Error("trap"); } })],
  ["an Error whose message getter throws", () => Object.create(Error.prototype, { message: { get: () => { throw new Error("no"); } } })],
  ["an object whose Symbol.toPrimitive throws", () => ({ [Symbol.toPrimitive]: () => { throw new Error("no"); } })],
  ["a Symbol", () => Symbol("thrown")],
  ["undefined", () => undefined],
];

/**
 * "Class CODE" of what `run` threw, read without trusting the value (it may be any of THROWN, if
 * the library let it through), or "returned".
 */
async function outcome(run: () => unknown): Promise<string> {
  try {
    await run();
    return "returned";
  } catch (error) {
    try {
      if (error === null || typeof error !== "object") return `a thrown ${typeof error}`;
      const name = Object.getPrototypeOf(error)?.constructor?.name as unknown;
      const code = (error as { code?: unknown }).code;
      return `${typeof name === "string" ? name : "?"} ${typeof code === "string" ? code : "(no code)"}`;
    } catch {
      return "an unreadable value";
    }
  }
}

const peerKeys = Keypair.fromSeed(new Uint8Array(32).fill(0x0b));
let nonces = 0;
const envelopeFromB = () => PeerHandshakeEnvelope.sign(B, A, `odd-throws-${nonces++}`, NOW, peerKeys);

/** An in-memory peer store whose `method` throws `thrown()` once, the first time it is called. */
function storeFailingOnce(method: keyof FederationPeerStore, thrown: () => unknown): FederationPeerStore {
  const inner = new InMemoryPeerStore();
  let failed = false;
  const call = <T>(name: keyof FederationPeerStore, run: () => T): T => {
    if (name === method && !failed) {
      failed = true;
      throw thrown();
    }
    return run();
  };
  return {
    get: (id) => call("get", () => inner.get(id)),
    insert: (peer) => call("insert", () => inner.insert(peer)),
    compareAndSet: (id, expected, next) => call("compareAndSet", () => inner.compareAndSet(id, expected, next)),
    remove: (id) => call("remove", () => inner.remove(id)),
    snapshot: () => call("snapshot", () => inner.snapshot()),
  };
}

const exchangeOver = (store: FederationPeerStore) => new KernelTrustExchange(A, Keypair.generate(), { store, trustedPeers: [[B, peerKeys.publicKey]] });

test("a peer store's read that throws anything: STORE_FAILED, nothing pinned, and the nonce released (the same envelope is accepted next)", async () => {
  for (const [what, thrown] of THROWN) {
    const exchange = exchangeOver(storeFailingOnce("get", thrown));
    const envelope = envelopeFromB();
    assert.is(await outcome(() => exchange.acceptEnvelope(envelope, B, NOW)), "PeerHandshakeError STORE_FAILED", what);
    assert.equal(await exchange.peers(), [], what);
    const peer = await exchange.acceptEnvelope(envelope, B, NOW);
    assert.ok(peer.publicKey.equals(peerKeys.publicKey), what);
  }
});

test("a pin write that throws anything: STORE_FAILED, and the nonce kept (the write may have landed: the same envelope is REPLAYED_NONCE)", async () => {
  for (const [what, thrown] of THROWN) {
    const exchange = exchangeOver(storeFailingOnce("compareAndSet", thrown));
    const envelope = envelopeFromB();
    assert.is(await outcome(() => exchange.acceptEnvelope(envelope, B, NOW)), "PeerHandshakeError STORE_FAILED", what);
    assert.is(await outcome(() => exchange.acceptEnvelope(envelope, B, NOW)), "PeerHandshakeError REPLAYED_NONCE", what);
    // Not the nonce being refused for good: a new envelope is accepted and pinned.
    await exchange.acceptEnvelope(envelopeFromB(), B, NOW);
    assert.is((await exchange.peers()).length, 1, what);
  }
});

test("a store's snapshot or remove that throws anything: STORE_FAILED", async () => {
  for (const [what, thrown] of THROWN) {
    assert.is(await outcome(() => exchangeOver(storeFailingOnce("snapshot", thrown)).peers()), "PeerHandshakeError STORE_FAILED", what);
    assert.is(await outcome(() => exchangeOver(storeFailingOnce("remove", thrown)).forget(B)), "PeerHandshakeError STORE_FAILED", what);
  }
});

test("a peer store that returns a pin whose getter throws anything: STORE_FAILED from accept, resolve, forget and peers, nothing pinned", async () => {
  for (const [what, thrown] of THROWN) {
    const inner = new InMemoryPeerStore();
    // An entry read from a database driver, say, whose kernelId accessor fails.
    const entry = () => Object.defineProperty({ publicKey: peerKeys.publicKey.toHex(), establishedAt: NOW, rotationDue: NOW + 60 }, "kernelId", { get: () => { throw thrown(); }, enumerable: true });
    const store: FederationPeerStore = {
      get: () => entry() as never,
      remove: () => entry() as never,
      snapshot: () => [entry()] as never,
      insert: (peer) => inner.insert(peer),
      compareAndSet: (id, expected, next) => inner.compareAndSet(id, expected, next),
    };
    const exchange = exchangeOver(store);
    assert.is(await outcome(() => exchange.acceptEnvelope(envelopeFromB(), B, NOW)), "PeerHandshakeError STORE_FAILED", `accept: ${what}`);
    assert.is(inner.size, 0, what);
    assert.is(await outcome(() => exchange.resolve(B, NOW)), "PeerHandshakeError STORE_FAILED", `resolve: ${what}`);
    assert.is(await outcome(() => exchange.forget(B)), "PeerHandshakeError STORE_FAILED", `forget: ${what}`);
    assert.is(await outcome(() => exchange.peers()), "PeerHandshakeError STORE_FAILED", `peers: ${what}`);
  }
});

test("a replay store's reserve or fits that throws anything: STORE_FAILED, nothing pinned", async () => {
  for (const method of ["reserve", "fits"] as const) {
    for (const [what, thrown] of THROWN) {
      const replay: ReplayStore = {
        reserve: () => (method === "reserve" ? (() => { throw thrown(); })() : true),
        fits: () => (method === "fits" ? (() => { throw thrown(); })() : true),
        commit: () => undefined,
        release: () => undefined,
      };
      const exchange = new KernelTrustExchange(A, Keypair.generate(), { replayStore: replay, trustedPeers: [[B, peerKeys.publicKey]] });
      assert.is(await outcome(() => exchange.acceptEnvelope(envelopeFromB(), B, NOW)), "PeerHandshakeError STORE_FAILED", `${method}: ${what}`);
      assert.equal(await exchange.peers(), [], `${method}: ${what}`);
    }
  }
});

test("a signer that throws anything: SIGNING_FAILED", async () => {
  for (const [what, thrown] of THROWN) {
    const signer: HandshakeSigner = { publicKey: peerKeys.publicKey, sign: () => { throw thrown(); } };
    assert.is(await outcome(() => PeerHandshakeEnvelope.sign(B, A, "nonce", NOW, signer)), "PeerHandshakeError SIGNING_FAILED", what);
  }
});

test("an envelope object or a peer whose Proxy trap or getter throws anything: MALFORMED_ENVELOPE, InvalidTypeError", async () => {
  const good = envelopeFromB().toJSON() as unknown as Record<string, unknown>;
  const peer = new FederationPeer({ kernelId: B, publicKey: peerKeys.publicKey, establishedAt: NOW, rotationDue: NOW + 60 }).toJSON() as unknown as Record<string, unknown>;
  for (const [what, thrown] of THROWN) {
    const trapped = (value: object) => new Proxy(value, { ownKeys: () => { throw thrown(); } });
    const getter = (value: Record<string, unknown>, key: string) => Object.defineProperty({ ...value }, key, { get: () => { throw thrown(); }, enumerable: true });
    assert.is(await outcome(() => PeerHandshakeEnvelope.fromJSON(trapped({ ...good }) as never)), "PeerHandshakeError MALFORMED_ENVELOPE", what);
    assert.is(await outcome(() => PeerHandshakeEnvelope.fromJSON({ ...good, challenge: trapped({ ...(good.challenge as object) }) } as never)), "PeerHandshakeError MALFORMED_ENVELOPE", what);
    assert.is(await outcome(() => exchangeOver(new InMemoryPeerStore()).acceptEnvelope(trapped({ ...good }) as never, B, NOW)), "PeerHandshakeError MALFORMED_ENVELOPE", what);
    assert.is(await outcome(() => FederationPeer.fromJSON(trapped({ ...peer }) as never)), "InvalidTypeError INVALID_TYPE", what);
    assert.is(await outcome(() => FederationPeer.fromJSON(getter(peer, "kernelId") as never)), "InvalidTypeError INVALID_TYPE", what);
  }
});

test("a clock, a trustedPeers iterable or a store's method lookup that throws anything: the typed misuse error", async () => {
  for (const [what, thrown] of THROWN) {
    const exchange = new KernelTrustExchange(A, Keypair.generate(), { trustedPeers: [[B, peerKeys.publicKey]] }).withClock(() => { throw thrown(); });
    assert.is(await outcome(() => exchange.acceptEnvelope(envelopeFromB(), B)), "InvalidTimeError INVALID_TIME", what);
    const iterable = { [Symbol.iterator]: () => ({ next: () => { throw thrown(); } }) };
    assert.is(await outcome(() => new KernelTrustExchange(A, Keypair.generate(), { trustedPeers: iterable as never })), "InvalidConfigError INVALID_CONFIG", what);
    const store = Object.defineProperty({}, "get", { get: () => { throw thrown(); } });
    assert.is(await outcome(() => new KernelTrustExchange(A, Keypair.generate(), { store: store as never })), "InvalidTypeError INVALID_TYPE", what);
  }
});

test("handshakeWith's fetch that rejects with anything: NETWORK_ERROR, nothing pinned", async () => {
  // A real server on loopback whose URL the fetch is handed; the fetch never reaches it.
  const server = createServer((_request, response) => response.writeHead(500).end());
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  try {
    const url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
    for (const [what, thrown] of THROWN) {
      const exchange = exchangeOver(new InMemoryPeerStore());
      const fetch = (() => Promise.reject(thrown())) as unknown as typeof globalThis.fetch;
      assert.is(await outcome(() => handshakeWith(url, exchange, B, { fetch })), "HandshakeHttpError NETWORK_ERROR", what);
      assert.equal(await exchange.peers(), [], what);
    }
  } finally {
    server.close();
  }
});

test("NETWORK_ERROR's message names the error code in the fetch error's causes (undici says only \"fetch failed\"), and only a code of a system error's or undici's shape; without one, a cause's message of plain words", async () => {
  const server = createServer((_request, response) => response.writeHead(500).end());
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  try {
    const host = `127.0.0.1:${(server.address() as { port: number }).port}`;
    // Node's own message for such an error (not plain words: it names the address).
    const coded = (code: unknown) => Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:1"), { code });
    const said = (message: string) => new Error(message);
    const fetchFailed = (cause: unknown) => new TypeError("fetch failed", { cause });
    const cases: [string, () => unknown, string][] = [
      ["a refused connection", () => fetchFailed(coded("ECONNREFUSED")), " (ECONNREFUSED)"],
      ["every address refused (AggregateError)", () => fetchFailed(new AggregateError([coded("ECONNREFUSED"), coded("EHOSTUNREACH")], "all failed")), " (ECONNREFUSED)"],
      ["undici's own", () => fetchFailed(coded("UND_ERR_SOCKET")), " (UND_ERR_SOCKET)"],
      ["the code on the error itself", () => Object.assign(new TypeError("fetch failed"), { code: "ENOTFOUND" }), " (ENOTFOUND)"],
      ["the third cause", () => fetchFailed({ cause: { cause: coded("ECONNRESET") } }), " (ECONNRESET)"],
      ["the fourth cause: not read", () => fetchFailed({ cause: { cause: { cause: coded("ECONNRESET") } } }), ""],
      ["lower case", () => fetchFailed(coded("econnrefused")), ""],
      ["a line break", () => fetchFailed(coded("ECONN\nREFUSED")), ""],
      ["too long", () => fetchFailed(coded(`E${"X".repeat(40)}`)), ""],
      ["not E or UND_ERR_", () => fetchFailed(coded("XCONNREFUSED")), ""],
      // Node's codes for a server certificate OpenSSL refused, as undici nests them (hunt 31: an
      // https peer with a self-signed certificate was "fetch failed" alone).
      ["a self-signed certificate", () => fetchFailed(Object.assign(new Error("self-signed certificate"), { code: "DEPTH_ZERO_SELF_SIGNED_CERT" })), " (DEPTH_ZERO_SELF_SIGNED_CERT)"],
      ["an expired certificate", () => fetchFailed(Object.assign(new Error("certificate has expired"), { code: "CERT_HAS_EXPIRED" })), " (CERT_HAS_EXPIRED)"],
      ["an unknown issuer", () => fetchFailed(coded("UNABLE_TO_VERIFY_LEAF_SIGNATURE")), " (UNABLE_TO_VERIFY_LEAF_SIGNATURE)"],
      ["not one of Node's certificate codes", () => fetchFailed(coded("CERT_HAS_EXPIRED_X")), ""],
      ["a number", () => fetchFailed(coded(111)), ""],
      ["a code getter that throws", () => fetchFailed(Object.defineProperty({}, "code", { get: () => { throw new Error("no"); } })), ""],
      ["a revoked Proxy as the cause", () => { const { proxy, revoke } = Proxy.revocable({}, {}); revoke(); return fetchFailed(proxy); }, ""],
      // No code anywhere: a cause's message of plain words names it (undici's, for a port its
      // fetch refuses and for a redirect), and nothing else does.
      ["undici's bad port", () => fetchFailed(said("bad port")), " (bad port)"],
      ["undici's redirect", () => fetchFailed(said("unexpected redirect")), " (unexpected redirect)"],
      ["plain words in the second cause", () => fetchFailed({ cause: said("other side closed") }), " (other side closed)"],
      ["a code comes first", () => fetchFailed(Object.assign(said("bad port"), { cause: coded("ECONNRESET") })), " (ECONNRESET)"],
      ["a URL", () => fetchFailed(said("http://user:secret@host/")), ""],
      ["upper case", () => fetchFailed(said("Bad Port")), ""],
      ["digits", () => fetchFailed(said("port 6000 refused")), ""],
      ["too short", () => fetchFailed(said("no")), ""],
      ["too long", () => fetchFailed(said("a".repeat(41))), ""],
      ["a leading space", () => fetchFailed(said(" bad port")), ""],
      ["the fourth cause: not read", () => fetchFailed({ cause: { cause: { cause: said("bad port") } } }), ""],
      ["a message getter that throws", () => fetchFailed(Object.defineProperty({}, "message", { get: () => { throw new Error("no"); } })), ""],
    ];
    for (const [what, thrown, suffix] of cases) {
      const exchange = exchangeOver(new InMemoryPeerStore());
      const fetch = (() => Promise.reject(thrown())) as unknown as typeof globalThis.fetch;
      const error = await handshakeWith(`http://${host}`, exchange, B, { fetch }).then(() => undefined, (e: { code?: string; message?: string }) => e);
      assert.is(error?.code, "NETWORK_ERROR", what);
      assert.is(error?.message, `${host}: fetch failed${suffix}`, what);
    }
  } finally {
    server.close();
  }
});

test("the HTTP server over a peer store whose read throws anything: 503 STORE_FAILED, and the next request is served", async () => {
  // Before the fix, building STORE_FAILED threw a TypeError, which the server answered as its own
  // fault (500 INTERNAL_ERROR); and telling a revoked Proxy apart with `instanceof` threw inside
  // its rejection handler.
  for (const [what, thrown] of THROWN) {
    const server = createHandshakeServer(exchangeOver(storeFailingOnce("get", thrown)).withClock(() => NOW));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    try {
      const url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
      const post = async () => {
        const response = await fetch(`${url}/federation/handshake`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify(envelopeFromB().toJSON()),
        });
        const body = (await response.json()) as { error?: { code?: string } };
        return `${response.status} ${body.error?.code ?? "answered"}`;
      };
      assert.is(await post(), "503 STORE_FAILED", what);
      assert.is(await post(), "200 answered", what);
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  }
});

test.run();
