// The handshake over HTTP (chio-trust/http). Real processes on 127.0.0.1 with OS-chosen ports:
// a `chio-trust serve` kernel and a `chio-trust handshake` kernel bootstrap trust and end with
// each other pinned in their SQLite files; a third process with the wrong key is refused; a
// replayed envelope is refused; a stale answer (one not carrying the request's nonce) is refused
// by the client. Then the server's handling of malformed requests (typed 4xx, store untouched,
// server still up) and a bounded load test with a few hundred concurrent clients.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { createServer, type Server } from "node:http";
import { connect } from "node:net";
import { spawn } from "node:child_process";
import { chmodSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { FederationPeer, InMemoryPeerStore, InvalidTypeError, KernelTrustExchange, Keypair, PublicKey, ReplayCache } from "../../src/index.js";
import { closeServer, listen } from "../helpers/http-servers.js";
import type { FederationPeerStore, ReplayStore } from "../../src/handshake/ports.js";
import { createHandshakeServer, handshakeWith, HandshakeHttpError } from "../../src/http/index.js";
import { SqlitePeerStore, SqliteReplayStore } from "../../src/stores/sqlite/index.js";
import { pastWindowOnEngineClock, SharedStoreError } from "../../src/stores/server-store.js";
import canonicalize from "canonicalize";
import { rejectsWith, rejectsWithCode } from "../helpers/assert-codes.js";
import { runCli, spawnCli } from "../helpers/cli.js";
import { finished, neverAcceptingListener, waitForLine } from "../helpers/processes.js";

const dir = mkdtempSync(path.join(tmpdir(), "chio-http-"));
const file = (name: string) => path.join(dir, name);
const children: ReturnType<typeof spawnCli>[] = [];

async function keygen(name: string): Promise<PublicKey> {
  const r = await runCli(["keygen", "--out", file(name)], dir);
  assert.is(r.code, 0, r.stderr);
  return PublicKey.fromHex(r.stdout.trim());
}
const seedOf = (name: string) => Keypair.fromSeed(Buffer.from(readFileSync(file(name), "utf8").trim(), "hex"));


let keyA: PublicKey;
let keyB: PublicKey;
let serverUrl = "";
let recordedAnswer = "";
let serverLog = ""; // the serve process's stderr, collected from its start

test("two processes bootstrap trust over HTTP and end with each other pinned in their SQLite files", async () => {
  keyA = await keygen("a.seed");
  keyB = await keygen("b.seed");
  await keygen("wrong.seed");
  const server = spawnCli(["serve", "--key", file("b.seed"), "--id", "kernel.b", "--store", file("b.db"), "--trust", `kernel.a=${keyA.toHex()}`, "--port", "0"], dir);
  children.push(server);
  server.stderr!.setEncoding("utf8").on("data", (chunk: string) => (serverLog += chunk));
  const [, url] = await waitForLine(server, /listening (http:\/\/127\.0\.0\.1:\d+)\n/);
  serverUrl = url;
  const client = await runCli(["handshake", serverUrl, "--key", file("a.seed"), "--id", "kernel.a", "--remote", "kernel.b", "--store", file("a.db"), "--trust", `kernel.b=${keyB.toHex()}`], dir);
  assert.is(client.code, 0, client.stderr);
  const printed = FederationPeer.fromJSON(client.stdout.trim());
  assert.ok(printed.publicKey.equals(keyB));

  const a = new SqlitePeerStore(file("a.db"));
  const b = new SqlitePeerStore(file("b.db")); // the server still has it open: WAL lets both in
  try {
    assert.ok(a.get("kernel.b")!.publicKey.equals(keyB), "the client pinned the server");
    assert.ok(b.get("kernel.a")!.publicKey.equals(keyA), "the server pinned the client");
    assert.is(a.size, 1);
    assert.is(b.size, 1);
  } finally {
    a.close();
    b.close();
  }
});

test("a third process claiming kernel.a with the wrong key is refused and changes nothing", async () => {
  const before = new SqlitePeerStore(file("b.db"));
  const pinBefore = before.get("kernel.a")!;
  before.close();
  const r = await runCli(["handshake", serverUrl, "--key", file("wrong.seed"), "--id", "kernel.a", "--remote", "kernel.b", "--trust", `kernel.b=${keyB.toHex()}`], dir);
  assert.is(r.code, 1, r.stderr);
  assert.match(r.stderr, /error REFUSED_BY_PEER: .*403 UNEXPECTED_PEER_KEY/);
  const after = new SqlitePeerStore(file("b.db"));
  try {
    assert.ok(after.get("kernel.a")!.equals(pinBefore), "the server's pin is unchanged");
    assert.is(after.size, 1);
  } finally {
    after.close();
  }
});

test("a replayed envelope is refused (409 REPLAYED_NONCE) by the running server", async () => {
  const a = new KernelTrustExchange("kernel.a", seedOf("a.seed"));
  const body = JSON.stringify(a.localEnvelope("kernel.b", "replay-me"));
  const post = () => fetch(`${serverUrl}/federation/handshake`, { method: "POST", headers: { "content-type": "application/json" }, body });
  const first = await post();
  assert.is(first.status, 200);
  recordedAnswer = await first.text();
  const again = await post();
  assert.is(again.status, 409);
  assert.equal(((await again.json()) as { error: { code: string } }).error.code, "REPLAYED_NONCE");
});

test("a stale answer (not carrying this request's nonce) is refused by the client, and nothing is pinned", async () => {
  // A server that answers every request with the genuine answer recorded above, made for nonce "replay-me".
  const fake = createServer((request, response) => {
    request.resume();
    request.on("end", () => response.writeHead(200, { "content-type": "application/json" }).end(recordedAnswer));
  });
  const url = await listen(fake);
  try {
    const store = new InMemoryPeerStore();
    const a = new KernelTrustExchange("kernel.a", seedOf("a.seed"), { store }).withTrustedPeer("kernel.b", keyB);
    try {
      await handshakeWith(url, a, "kernel.b");
      assert.unreachable("a stale answer was accepted");
    } catch (error) {
      assert.instance(error, HandshakeHttpError);
      assert.is((error as HandshakeHttpError).code, "STALE_ANSWER");
    }
    assert.is(store.size, 0, "nothing pinned");
    // Control: the same answer IS accepted by a request that really carried its nonce, so the
    // refusal above is the nonce check and nothing else.
    const { peer } = await handshakeWith(url, a, "kernel.b", { nonce: "replay-me" });
    assert.ok(peer.publicKey.equals(keyB));
  } finally {
    await closeServer(fake);
  }
});

test("the server process stops cleanly on SIGTERM", async () => {
  const server = children.pop()!;
  const exit = finished(server, 10_000);
  server.kill("SIGTERM");
  const r = await exit;
  assert.is(r.code, 0, serverLog);
  assert.match(serverLog, /pinned "kernel\.a"/);
  assert.match(serverLog, /refused 403 UNEXPECTED_PEER_KEY/);
  assert.match(serverLog, /refused 409 REPLAYED_NONCE/);
});

/** A peer store that counts every call, around an in-memory one. */
function countingStore(): { store: FederationPeerStore; calls: () => number } {
  const inner = new InMemoryPeerStore();
  let calls = 0;
  const store: FederationPeerStore = {
    insert: (p) => (calls++, inner.insert(p)),
    get: (k) => (calls++, inner.get(k)),
    remove: (k) => (calls++, inner.remove(k)),
    snapshot: () => (calls++, inner.snapshot()),
    compareAndSet: (k, e, n) => (calls++, inner.compareAndSet(k, e, n)),
  };
  return { store, calls: () => calls };
}

function rawRequest(port: number, text: string, waitMs = 5000): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, "127.0.0.1", () => socket.write(text));
    let out = "";
    socket.setEncoding("utf8").on("data", (chunk) => (out += chunk));
    socket.on("close", () => resolve(out));
    socket.on("error", reject);
    setTimeout(() => (socket.destroy(), resolve(out)), waitMs);
  });
}

test("a request cut off with 408 is dropped, not half-closed: its connection is freed though the client keeps its side open, and the rest of its body pins nothing", async () => {
  const a = Keypair.fromSeed(new Uint8Array(32).fill(23));
  const b = Keypair.fromSeed(new Uint8Array(32).fill(24));
  const store = new InMemoryPeerStore();
  const exchange = new KernelTrustExchange("kernel.b", b, { store }).withTrustedPeer("kernel.a", a.publicKey);
  const server = createHandshakeServer(exchange, { requestTimeoutMs: 400 });
  const port = Number(new URL(await listen(server)).port);
  const good = JSON.stringify(new KernelTrustExchange("kernel.a", a).localEnvelope("kernel.b", "late"));
  const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
  // A client that keeps its side open after the server's FIN (allowHalfOpen), as a hostile one would.
  const socket = connect({ port, host: "127.0.0.1", allowHalfOpen: true });
  let out = "";
  socket.setEncoding("utf8").on("data", (chunk: string) => (out += chunk)).on("error", () => {});
  try {
    await new Promise((resolve) => socket.once("connect", resolve));
    socket.write(`POST /federation/handshake HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(good)}\r\n\r\n${good.slice(0, 10)}`);
    for (let i = 0; i < 100 && !out.includes("REQUEST_TIMEOUT"); i++) await pause(50);
    assert.match(out, /^HTTP\/1\.1 408 [\s\S]*"REQUEST_TIMEOUT"/);
    const open = await openConnectionsAfterClosing(server);
    assert.is(open, 0, "the server closed the connection it answered 408 (before: held half-open as long as the client's side)");
    // The rest of the body, after the 408: never read, so nothing is accepted or pinned.
    socket.write(good.slice(10));
    await pause(500);
    assert.is(await store.get("kernel.a"), undefined, "nothing pinned");
  } finally {
    socket.destroy();
    await closeServer(server);
  }
});

test("bodies are bounded across the server and by the exchange, and read by its parser, not JSON.parse (review 67 F2)", async () => {
  const a = Keypair.fromSeed(new Uint8Array(32).fill(25));
  const b = Keypair.fromSeed(new Uint8Array(32).fill(26));
  const { store, calls } = countingStore();
  const events: string[] = [];
  const exchange = new KernelTrustExchange("kernel.b", b, { store, onEvent: (e) => events.push(`${e.type} ${"code" in e ? e.code : ""}`) }).withTrustedPeer("kernel.a", a.publicKey);
  assert.throws(() => createHandshakeServer(exchange, { maxBodyBytes: 2048, maxBodyBytesInFlight: 2047 }), (e: Error) => (e as { code?: string }).code === "INVALID_CONFIG");
  const server = createHandshakeServer(exchange, { maxBodyBytes: 1 << 20, maxBodyBytesInFlight: 3 << 20, requestTimeoutMs: 5000 });
  const url = await listen(server);
  const port = Number(new URL(url).port);
  const post = (body: string) => fetch(url + "/federation/handshake", { method: "POST", headers: { "content-type": "application/json" }, body });
  const stalled: ReturnType<typeof connect>[] = [];
  /** A connection that sends `text` and then nothing more. */
  const stall = (text: string) => {
    const socket = connect(port, "127.0.0.1");
    socket.on("error", () => {});
    socket.write(text);
    stalled.push(socket);
  };
  try {
    // The server takes 1 MiB, the exchange 64 KiB (its default): a larger body is 413 before it is read.
    const large = await post("[" + " ".repeat(100_000) + "]");
    assert.is(large.status, 413);
    assert.is(((await large.json()) as { error: { code: string } }).error.code, "BODY_TOO_LARGE");
    exchange.withHardening({ maxEnvelopeBytes: 1 << 20 });
    // Within both limits, nested arrays are the exchange parser's refusal (its problem and
    // message, and its 'refused' event), not a JSON.parse of the whole body on this thread.
    const nested = await post("[".repeat(500_000) + "]".repeat(500_000));
    assert.is(nested.status, 400);
    const refusal = ((await nested.json()) as { error: { code: string; message: string } }).error;
    assert.is(refusal.code, "MALFORMED_ENVELOPE");
    assert.not.match(refusal.message, /body is not/);
    assert.ok(events.includes("refused MALFORMED_ENVELOPE"), events.join());
    // Connections that declare 1 MiB bodies and send none hold no budget (review 69 F1: counted
    // from Content-Length, four such connections blocked every handshake of a 64 MiB budget).
    const sender = new KernelTrustExchange("kernel.a", a);
    for (let i = 0; i < 4; i++) stall(`POST /federation/handshake HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${1 << 20}\r\n\r\n`);
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.is((await post(JSON.stringify(sender.localEnvelope("kernel.b", "beside-headers")))).status, 200, "served beside header-only connections");
    for (const socket of stalled.splice(0)) socket.destroy();
    // Three bodies of 1 MiB less 16 bytes, still arriving, take the budget (3 MiB) but for 48
    // bytes: a body of 1000 more is 503 as it arrives.
    for (let i = 0; i < 3; i++) stall(`POST /federation/handshake HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${1 << 20}\r\n\r\n${" ".repeat((1 << 20) - 16)}`);
    let busy = "";
    for (let attempt = 0; attempt < 50 && !/^HTTP\/1\.1 503/.test(busy); attempt++) {
      busy = await rawRequest(port, `POST /federation/handshake HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n${" ".repeat(1000)}`, 2000);
    }
    assert.match(busy, /^HTTP\/1\.1 503 [\s\S]*Retry-After: 1[\s\S]*"TOO_MANY_BODIES"/i);
    for (const socket of stalled) socket.destroy();
    // Their bytes are given back when they close: a genuine handshake (about 400 bytes, which
    // the 48 bytes left would refuse) is served again.
    let served = await post(JSON.stringify(sender.localEnvelope("kernel.b", "after")));
    for (let attempt = 0; attempt < 50 && served.status === 503; attempt++) {
      await new Promise((resolve) => setTimeout(resolve, 20)); // the server may not have seen the closes yet
      served = await post(JSON.stringify(sender.localEnvelope("kernel.b", `after-${attempt}`)));
    }
    assert.is(served.status, 200);
    assert.is(calls() > 0, true, "the genuine one reached the store");
  } finally {
    for (const socket of stalled) socket.destroy();
    await closeServer(server);
  }
});

test("a caller claiming an anchored id with another key is refused without being told the key this kernel expects; the log hook hears it (review 67 F7)", async () => {
  const a = Keypair.fromSeed(new Uint8Array(32).fill(27));
  const b = Keypair.fromSeed(new Uint8Array(32).fill(28));
  const intruder = Keypair.fromSeed(new Uint8Array(32).fill(29));
  const logged: string[] = [];
  const exchange = new KernelTrustExchange("kernel.b", b).withTrustedPeer("kernel.a", a.publicKey);
  const server = createHandshakeServer(exchange, { onRequestError: (info) => logged.push(`${info.status} ${info.code} ${info.message}`) });
  const url = await listen(server);
  try {
    const forged = JSON.stringify(new KernelTrustExchange("kernel.a", intruder).localEnvelope("kernel.b", "probe"));
    const response = await fetch(url + "/federation/handshake", { method: "POST", headers: { "content-type": "application/json" }, body: forged });
    assert.is(response.status, 403);
    const body = await response.text();
    const { error } = JSON.parse(body) as { error: { code: string; message: string } };
    assert.is(error.code, "UNEXPECTED_PEER_KEY");
    assert.match(error.message, /kernel\.a declared a public key this kernel does not expect/);
    assert.not.ok(body.includes(a.publicKey.toHex()), "the anchor's key is not in the answer");
    assert.ok(logged.some((line) => line.startsWith("403 UNEXPECTED_PEER_KEY") && line.includes(a.publicKey.toHex())), logged.join("\n"));
  } finally {
    await closeServer(server);
  }
});

test("malformed requests get a 4xx with the error code in a JSON body, never touch the store, and the server stays up", async () => {
  const a = Keypair.fromSeed(new Uint8Array(32).fill(21));
  const b = Keypair.fromSeed(new Uint8Array(32).fill(22));
  const { store, calls } = countingStore();
  const exchange = new KernelTrustExchange("kernel.b", b, { store }).withTrustedPeer("kernel.a", a.publicKey);
  const server = createHandshakeServer(exchange, { requestTimeoutMs: 400 });
  const url = await listen(server);
  try {
    const port = Number(new URL(url).port);
    const sender = new KernelTrustExchange("kernel.a", a);
    const good = JSON.stringify(sender.localEnvelope("kernel.b", "good"));
    const tampered = good.replace('"good"', '"evil"');
    const cases: [string, RequestInit & { path?: string }, number, string][] = [
      ["wrong path", { method: "POST", path: "/federation/other", headers: { "content-type": "application/json" }, body: good }, 404, "NOT_FOUND"],
      ["GET", { method: "GET" }, 405, "METHOD_NOT_ALLOWED"],
      ["no content type", { method: "POST", body: good }, 415, "UNSUPPORTED_MEDIA_TYPE"],
      ["text/plain", { method: "POST", headers: { "content-type": "text/plain" }, body: good }, 415, "UNSUPPORTED_MEDIA_TYPE"],
      ["latin-1 charset", { method: "POST", headers: { "content-type": "application/json; charset=iso-8859-1" }, body: good }, 415, "UNSUPPORTED_MEDIA_TYPE"],
      ["64 KiB + 1", { method: "POST", headers: { "content-type": "application/json" }, body: "x".repeat(65537) }, 413, "BODY_TOO_LARGE"],
      ["invalid UTF-8", { method: "POST", headers: { "content-type": "application/json" }, body: new Uint8Array([0x7b, 0xff, 0x7d]) }, 400, "MALFORMED_ENVELOPE"],
      ["not JSON", { method: "POST", headers: { "content-type": "application/json" }, body: "{nope" }, 400, "MALFORMED_ENVELOPE"],
      ["JSON, not an envelope", { method: "POST", headers: { "content-type": "application/json" }, body: "[1,2]" }, 400, "MALFORMED_ENVELOPE"],
      ["deep nesting", { method: "POST", headers: { "content-type": "application/json" }, body: "[".repeat(60000) }, 400, "MALFORMED_ENVELOPE"],
      ["unknown field", { method: "POST", headers: { "content-type": "application/json" }, body: good.replace('{"challenge"', '{"extra":1,"challenge"') }, 400, "MALFORMED_ENVELOPE"],
      ["tampered signature", { method: "POST", headers: { "content-type": "application/json" }, body: tampered }, 403, "INVALID_SIGNATURE"],
    ];
    for (const [name, init, status, code] of cases) {
      const response = await fetch(url + (init.path ?? "/federation/handshake"), init);
      assert.is(response.status, status, name);
      assert.match(response.headers.get("content-type") ?? "", /^application\/json/, name);
      assert.is(((await response.json()) as { error: { code: string } }).error.code, code, name);
    }
    assert.is(calls(), 0, "no malformed or forged request reached the store");

    // Chunked body over the limit (no Content-Length to refuse early), malformed HTTP, a stalled body.
    const chunked = await rawRequest(port, `POST /federation/handshake HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n${(40000).toString(16)}\r\n${"x".repeat(40000)}\r\n${(40000).toString(16)}\r\n${"x".repeat(40000)}\r\n0\r\n\r\n`);
    assert.match(chunked, /^HTTP\/1\.1 413 [\s\S]*"BODY_TOO_LARGE"/);
    const garbage = await rawRequest(port, "NOT HTTP AT ALL\r\n\r\n");
    assert.match(garbage, /^HTTP\/1\.1 400 [\s\S]*"BAD_REQUEST"/);
    const started = Date.now();
    const stalled = await rawRequest(port, "POST /federation/handshake HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{", 5000);
    assert.match(stalled, /^HTTP\/1\.1 408 [\s\S]*"REQUEST_TIMEOUT"/);
    assert.ok(Date.now() - started < 4000, "the stalled request was cut off by requestTimeoutMs");
    assert.is(calls(), 0);

    // Still serving: the genuine envelope is accepted and answered.
    const response = await fetch(url + "/federation/handshake", { method: "POST", headers: { "content-type": "application/json" }, body: good });
    assert.is(response.status, 200);
    const answer = await response.text();
    await sender.withTrustedPeer("kernel.b", b.publicKey).acceptEnvelope(answer, "kernel.b");
    assert.is(JSON.parse(answer).challenge.nonce, "good", "the answer carries the caller's nonce");
    assert.is((await store.snapshot()).length, 1);
  } finally {
    await closeServer(server);
  }
});

test("client transport failures are typed and pin nothing", async () => {
  const a = new KernelTrustExchange("kernel.a", Keypair.fromSeed(new Uint8Array(32).fill(31))).withTrustedPeer("kernel.b", Keypair.fromSeed(new Uint8Array(32).fill(32)).publicKey);
  await expectHttp(handshakeWith("ftp://127.0.0.1/", a, "kernel.b"), "INVALID_URL");
  await expectHttp(handshakeWith("not a url", a, "kernel.b"), "INVALID_URL");
  // Something that is not an exchange: a typed error before any request (it was a TypeError).
  // Both methods but no readable hardening (none, or a getter that throws): a TypeError or the
  // getter's own throw came out of the client before (hunt 31).
  const hardeningThrows = { localEnvelope: () => undefined, acceptEnvelope: () => undefined, get hardening(): never { throw new Error("no hardening"); } };
  for (const notExchange of [null, undefined, {}, "exchange", { localEnvelope: () => undefined }, { localEnvelope: () => undefined, acceptEnvelope: () => undefined }, hardeningThrows]) {
    await rejectsWithCode(handshakeWith("http://127.0.0.1:9/", notExchange as unknown as KernelTrustExchange, "kernel.b"), "INVALID_TYPE");
  }
  const big = createServer((q, s) => (q.resume(), s.writeHead(200, { "content-type": "application/json" }).end("x".repeat(70000))));
  const slow = createServer((q) => q.resume()); // never answers
  const notJson = createServer((q, s) => (q.resume(), s.writeHead(200, { "content-type": "application/json" }).end("{}")));
  const stalled = createServer((q, s) => (q.resume(), s.writeHead(200, { "content-type": "application/json" }).write("{"))); // headers, then nothing
  const urls = await Promise.all([listen(big), listen(slow), listen(notJson), listen(stalled)]);
  try {
    await expectHttp(handshakeWith(urls[0], a, "kernel.b"), "RESPONSE_TOO_LARGE");
    assert.is((await expectHttp(handshakeWith(urls[1], a, "kernel.b", { timeoutMs: 200 }), "TIMEOUT")).status, undefined, "no headers came");
    await expectHttp(handshakeWith(urls[2], a, "kernel.b"), "INVALID_ANSWER");
    // A timeout while the body is read carries the status the headers gave (review 87).
    assert.is((await expectHttp(handshakeWith(urls[3], a, "kernel.b", { timeoutMs: 300 }), "TIMEOUT")).status, 200);
  } finally {
    await Promise.all([big, slow, notJson, stalled].map(closeServer));
  }
  const closedPort = createServer();
  const url = await listen(closedPort);
  await closeServer(closedPort);
  // Named by the system's code, which undici's "fetch failed" alone does not give.
  assert.is((await expectHttp(handshakeWith(url, a, "kernel.b"), "NETWORK_ERROR")).message, `${new URL(url).host}: fetch failed (ECONNREFUSED)`);
  // A port fetch refuses to reach (6000, on its "bad ports" list), where `serve` listens all the
  // same: named by undici's reason, which has no code (helper 142: "fetch failed", no reason).
  assert.is((await expectHttp(handshakeWith("http://127.0.0.1:6000", a, "kernel.b"), "NETWORK_ERROR")).message, "127.0.0.1:6000: fetch failed (bad port)");
  assert.is((await a.peers()).length, 0);
});

test("a host that never accepts the connection: TIMEOUT at timeoutMs, TIMEOUT too when fetch's own connect limit comes first, and the CLI exits when it reports (review 87)", async () => {
  const trusted = Keypair.fromSeed(new Uint8Array(32).fill(34)).publicKey;
  const a = new KernelTrustExchange("kernel.a", Keypair.fromSeed(new Uint8Array(32).fill(33))).withTrustedPeer("kernel.b", trusted);
  await keygen("never-accepted.seed");
  const listener = await neverAcceptingListener();
  try {
    // Past Node's fetch connect limit (10 s): that limit ends the call, reported as TIMEOUT.
    const beyondFetchLimit = expectHttp(handshakeWith(listener.url, a, "kernel.b", { timeoutMs: 60_000 }), "TIMEOUT");
    beyondFetchLimit.catch(() => undefined); // awaited below; this keeps an early failure from going unhandled
    const started = Date.now();
    const cli = await runCli(["handshake", listener.url, "--key", file("never-accepted.seed"), "--id", "kernel.a", "--remote", "kernel.b", "--trust", `kernel.b=${trusted.toHex()}`, "--timeout", "1000"], dir);
    const cliLifetime = Date.now() - started;
    assert.is(cli.code, 1, cli.stderr);
    assert.match(cli.stderr, /error TIMEOUT: no answer from 127\.0\.0\.1:\d+ within 1000 ms/);
    // Until review 87 the process printed that at 1 s and stayed until fetch's connection attempt
    // timed out, about 10 s after it started. A liveness bound, far from both: not a speed check.
    assert.ok(cliLifetime < 8000, `the CLI exited ${cliLifetime} ms after it started`);
    assert.match((await expectHttp(handshakeWith(listener.url, a, "kernel.b", { timeoutMs: 300 }), "TIMEOUT")).message, /within 300 ms/);
    assert.match((await beyondFetchLimit).message, /the fetch gave up before 60000 ms \(UND_ERR_CONNECT_TIMEOUT\)/);
  } finally {
    listener.stop();
  }
  assert.is((await a.peers()).length, 0);
});

/** The HandshakeHttpError of `code` that `promise` rejects with. */
async function expectHttp(promise: Promise<unknown>, code: string): Promise<HandshakeHttpError> {
  const error = await httpFailure(promise);
  assert.is(error.code, code, error.message);
  return error;
}

test("the client takes an answer only as application/json (parameters allowed), not application/json-seq or other types that start the same", async () => {
  const a = Keypair.fromSeed(new Uint8Array(32).fill(61));
  const b = Keypair.fromSeed(new Uint8Array(32).fill(62));
  const server = createHandshakeServer(new KernelTrustExchange("kernel.b", b).withTrustedPeer("kernel.a", a.publicKey));
  const serverUrl = await listen(server);
  // A relay that passes each request to the real server and its answer back under `type`.
  let type = "";
  const relay = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", async () => {
      const answer = await fetch(`${serverUrl}/federation/handshake`, { method: "POST", headers: { "content-type": "application/json" }, body: Buffer.concat(chunks) });
      response.writeHead(answer.status, { "content-type": type }).end(Buffer.from(await answer.arrayBuffer()));
    });
  });
  const relayUrl = await listen(relay);
  try {
    for (const refused of ["application/json-seq", "application/jsonx", "application/json+x", "text/json", ""]) {
      type = refused;
      const client = new KernelTrustExchange("kernel.a", a).withTrustedPeer("kernel.b", b.publicKey);
      const error = await httpFailure(handshakeWith(relayUrl, client, "kernel.b"));
      assert.is(error.code, "INVALID_ANSWER", `${refused}: ${error.message}`);
      assert.is((await client.peers()).length, 0, `${refused}: nothing pinned`);
    }
    for (const taken of ["application/json", "Application/JSON; charset=utf-8", "application/json ;charset=UTF-8"]) {
      type = taken;
      const client = new KernelTrustExchange("kernel.a", a).withTrustedPeer("kernel.b", b.publicKey);
      await handshakeWith(relayUrl, client, "kernel.b");
      assert.is((await client.peers()).length, 1, `${taken}: pinned`);
    }
  } finally {
    await Promise.all([server, relay].map(closeServer));
  }
});

/** The server's open connections once it has had up to a second to close them (0 as soon as it has). */
async function openConnectionsAfterClosing(server: Server): Promise<number> {
  const count = () => new Promise<number>((resolve, reject) => server.getConnections((error, n) => (error ? reject(error) : resolve(n))));
  let open = await count();
  for (let i = 0; i < 20 && open > 0; i++) open = (await pause(50), await count());
  return open;
}

/** The HandshakeHttpError `promise` rejects with. */
async function httpFailure(promise: Promise<unknown>): Promise<HandshakeHttpError> {
  try {
    await promise;
  } catch (error) {
    assert.instance(error, HandshakeHttpError, String(error));
    return error as HandshakeHttpError;
  }
  throw new assert.Assertion({ message: "expected a HandshakeHttpError", operator: "rejects", expects: "HandshakeHttpError", actual: "fulfilled" });
}

/** Sends `head` (and nothing more) and reports what came back and how long until the server closed. */
function refusedBeforeBody(port: number, head: string, keepSendingMs = 1500): Promise<{ answer: string; closedAfterMs: number; sentBytes: number }> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    let answer = "";
    let sentBytes = 0;
    let timer: ReturnType<typeof setInterval> | undefined;
    const socket = connect(port, "127.0.0.1", () => {
      socket.write(head);
      // Keep streaming body bytes, as a client ignoring the refusal would.
      const chunk = Buffer.alloc(16 * 1024, 0x78);
      timer = setInterval(() => {
        if (!socket.destroyed && socket.writable) (socket.write(chunk), (sentBytes += chunk.length));
      }, 5);
    });
    socket.setEncoding("utf8").on("data", (chunk) => (answer += chunk));
    const done = () => (clearInterval(timer), resolve({ answer, closedAfterMs: Date.now() - started, sentBytes }));
    socket.on("close", done);
    socket.on("error", () => undefined); // EPIPE / ECONNRESET once the server has closed
    setTimeout(() => (socket.destroy(), done()), keepSendingMs);
    void reject;
  });
}

test("the answer is signed before the accept: a failing signer or clock pins nothing and burns no nonce (500, cause only in the log)", async () => {
  const a = Keypair.fromSeed(new Uint8Array(32).fill(41));
  const b = Keypair.fromSeed(new Uint8Array(32).fill(42));
  let failures = 1;
  const flakySigner = { publicKey: b.publicKey, sign: (bytes: Uint8Array) => {
    if (failures > 0) {
      failures--;
      throw new Error("HSM session expired");
    }
    return b.sign(bytes);
  } };
  const store = new InMemoryPeerStore();
  const logged: { status: number; code: string; message: string }[] = [];
  const exchange = new KernelTrustExchange("kernel.b", flakySigner, { store }).withTrustedPeer("kernel.a", a.publicKey);
  const server = createHandshakeServer(exchange, { onRequestError: (info) => logged.push(info) });
  const url = await listen(server);
  const body = JSON.stringify(new KernelTrustExchange("kernel.a", a).localEnvelope("kernel.b", "n-flaky"));
  const post = () => fetch(url + "/federation/handshake", { method: "POST", headers: { "content-type": "application/json" }, body });
  try {
    const first = await post();
    assert.is(first.status, 500);
    const refusal = (await first.json()) as { error: { code: string; message: string } };
    assert.is(refusal.error.code, "SIGNING_FAILED");
    assert.not.match(refusal.error.message, /HSM/, "the cause is not told to the caller");
    assert.match(logged[0].message, /HSM session expired/, "the log hook hears the cause");
    assert.equal(await store.snapshot(), [], "nothing pinned");
    // Nothing is signed for a forged or junk body: the signer is reached only once every check has passed.
    const signerCalls = failures;
    failures = 100; // any signing now would throw and show up as SIGNING_FAILED
    for (const junk of [body.replace('"n-flaky"', '"n-forged"'), JSON.stringify({ challenge: { localKernelId: "kernel.a", nonce: "x" } })]) {
      const refused = await fetch(url + "/federation/handshake", { method: "POST", headers: { "content-type": "application/json" }, body: junk });
      const code = ((await refused.json()) as { error: { code: string } }).error.code;
      assert.ok(code === "INVALID_SIGNATURE" || code === "MALFORMED_ENVELOPE", code);
    }
    assert.is(failures, 100, "the signer was not called");
    failures = signerCalls;
    // The same envelope again, the signer working: its nonce was not used up (before: 409 REPLAYED_NONCE, pinned by the failed request).
    const second = await post();
    assert.is(second.status, 200, await second.clone().text());
    assert.is(JSON.parse(await second.text()).challenge.nonce, "n-flaky");
    assert.is((await store.snapshot()).length, 1);
  } finally {
    await closeServer(server);
  }

  // A clock that reads -1 is the server's fault: 500 INTERNAL_ERROR (before: 400 INVALID_TIME with the internal message).
  const broken = new KernelTrustExchange("kernel.b", b, { store: new InMemoryPeerStore(), clock: () => -1 }).withTrustedPeer("kernel.a", a.publicKey);
  const logged2: { code: string; message: string }[] = [];
  const server2 = createHandshakeServer(broken, { onRequestError: (info) => logged2.push(info) });
  const url2 = await listen(server2);
  try {
    const response = await fetch(url2 + "/federation/handshake", { method: "POST", headers: { "content-type": "application/json" }, body });
    assert.is(response.status, 500);
    assert.equal(await response.json(), { error: { code: "INTERNAL_ERROR", message: "the server could not complete the handshake" } });
    assert.match(logged2[0].message, /^INVALID_TIME: /);
    assert.equal(await broken.peers(), []);
  } finally {
    await closeServer(server2);
  }
});

test("a store that never answers: 503 HANDSHAKE_TIMEOUT after handshakeTimeoutMs, logged, connection not held", async () => {
  const a = Keypair.fromSeed(new Uint8Array(32).fill(43));
  const b = Keypair.fromSeed(new Uint8Array(32).fill(44));
  const inner = new InMemoryPeerStore();
  const hung: FederationPeerStore = {
    insert: (p) => inner.insert(p),
    get: () => new Promise(() => {}), // never settles
    remove: (k) => inner.remove(k),
    snapshot: () => inner.snapshot(),
    compareAndSet: (k, e, n) => inner.compareAndSet(k, e, n),
  };
  const logged: { status: number; code: string }[] = [];
  const exchange = new KernelTrustExchange("kernel.b", b, { store: hung }).withTrustedPeer("kernel.a", a.publicKey);
  const server = createHandshakeServer(exchange, { handshakeTimeoutMs: 300, onRequestError: (info) => logged.push(info) });
  const url = await listen(server);
  try {
    const started = Date.now();
    const body = JSON.stringify(new KernelTrustExchange("kernel.a", a).localEnvelope("kernel.b", "n-hung"));
    const response = await fetch(url + "/federation/handshake", { method: "POST", headers: { "content-type": "application/json" }, body });
    assert.is(response.status, 503);
    assert.is(((await response.json()) as { error: { code: string } }).error.code, "HANDSHAKE_TIMEOUT");
    assert.ok(Date.now() - started < 5000, "answered by the server's own bound");
    assert.equal(logged.map((l) => [l.status, l.code]), [[503, "HANDSHAKE_TIMEOUT"]]);
    assert.equal(inner.snapshot(), []);
  } finally {
    await closeServer(server);
  }
  // A store that is slow, not dead: it answers after the 503. The accept then refuses to pin
  // (its beforePin sees the deadline passed), so the caller that got 503 is not pinned later.
  const slow: FederationPeerStore = {
    insert: (p) => inner.insert(p),
    get: (k) => new Promise((resolve) => setTimeout(() => resolve(inner.get(k)), 600)),
    remove: (k) => inner.remove(k),
    snapshot: () => inner.snapshot(),
    compareAndSet: (k, e, n) => inner.compareAndSet(k, e, n),
  };
  const events: string[] = [];
  const slowExchange = new KernelTrustExchange("kernel.b", b, { store: slow, onEvent: (event) => events.push(event.type) }).withTrustedPeer("kernel.a", a.publicKey);
  const slowServer = createHandshakeServer(slowExchange, { handshakeTimeoutMs: 200 });
  const slowUrl = await listen(slowServer);
  try {
    const body = JSON.stringify(new KernelTrustExchange("kernel.a", a).localEnvelope("kernel.b", "n-slow"));
    const response = await fetch(slowUrl + "/federation/handshake", { method: "POST", headers: { "content-type": "application/json" }, body });
    assert.is(response.status, 503);
    await new Promise((resolve) => setTimeout(resolve, 900)); // the store has answered by now
    assert.equal(inner.snapshot(), [], "nothing pinned after the 503");
    assert.not.ok(events.includes("pinned"));
  } finally {
    await closeServer(slowServer);
  }
  // A caller that gives up (its connection closed) while the store is slow: the accept refuses to
  // pin it too, as it never gets the answer and never pins this kernel (review 67).
  const patientServer = createHandshakeServer(slowExchange, { handshakeTimeoutMs: 5000 });
  const patientPort = Number(new URL(await listen(patientServer)).port);
  try {
    const body = JSON.stringify(new KernelTrustExchange("kernel.a", a).localEnvelope("kernel.b", "n-gone"));
    const socket = connect(patientPort, "127.0.0.1");
    socket.on("error", () => {});
    socket.write(`POST /federation/handshake HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
    await new Promise((resolve) => setTimeout(resolve, 150));
    socket.destroy();
    await new Promise((resolve) => setTimeout(resolve, 900)); // the store has answered by now
    assert.equal(inner.snapshot(), [], "nothing pinned for a caller that left");
    assert.not.ok(events.includes("pinned"));
  } finally {
    await closeServer(patientServer);
  }
});

test("refusals before the body close the connection (no draining), Expect: 100-continue is refused without 100, timeouts are logged, connections are capped, absolute-form targets work", async () => {
  const a = Keypair.fromSeed(new Uint8Array(32).fill(45));
  const b = Keypair.fromSeed(new Uint8Array(32).fill(46));
  const logged: { status: number; code: string }[] = [];
  const exchange = new KernelTrustExchange("kernel.b", b, { store: new InMemoryPeerStore() }).withTrustedPeer("kernel.a", a.publicKey);
  const server = createHandshakeServer(exchange, { requestTimeoutMs: 3000, maxConnections: 4, onRequestError: (info) => logged.push(info) });
  const url = await listen(server);
  const port = Number(new URL(url).port);
  try {
    const heads: [string, string, RegExp][] = [
      ["404", "POST /elsewhere HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000000000\r\n\r\n", /^HTTP\/1\.1 404 /],
      ["405", "PUT /federation/handshake HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n", /^HTTP\/1\.1 405 /],
      ["415", "POST /federation/handshake HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\nContent-Length: 1000000000\r\n\r\n", /^HTTP\/1\.1 415 /],
      ["413", "POST /federation/handshake HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000000000\r\n\r\n", /^HTTP\/1\.1 413 /],
      ["413 with Expect", "POST /federation/handshake HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000000000\r\nExpect: 100-continue\r\n\r\n", /^HTTP\/1\.1 413 /],
    ];
    for (const [name, head, status] of heads) {
      const r = await refusedBeforeBody(port, head);
      assert.match(r.answer, status, name);
      assert.not.match(r.answer, /100 Continue/, `${name}: no invitation to send the body`);
      assert.match(r.answer, /connection: close/i, name);
      assert.ok(r.closedAfterMs < 1000, `${name}: closed after ${r.closedAfterMs} ms (before: drained until requestTimeoutMs)`);
    }
    // Expect: 100-continue on a request that can be served: "100 Continue", then the answer.
    const body = JSON.stringify(new KernelTrustExchange("kernel.a", a).localEnvelope("kernel.b", "n-continue"));
    const continued = await new Promise<string>((resolve, reject) => {
      let out = "";
      const socket = connect(port, "127.0.0.1", () => socket.write(`POST /federation/handshake HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n`));
      socket.setEncoding("utf8").on("data", (chunk) => {
        if (out === "" && chunk.startsWith("HTTP/1.1 100")) socket.write(body);
        out += chunk;
      });
      socket.on("close", () => resolve(out)).on("error", reject);
    });
    assert.match(continued, /^HTTP\/1\.1 100 Continue\r\n\r\nHTTP\/1\.1 200 /);
    // Absolute-form request target (RFC 9112 §3.2.2).
    const absoluteBody = JSON.stringify(new KernelTrustExchange("kernel.a", a).localEnvelope("kernel.b", "n-absolute"));
    const absolute = await rawRequest(port, `POST http://127.0.0.1:${port}/federation/handshake HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(absoluteBody)}\r\nConnection: close\r\n\r\n${absoluteBody}`);
    assert.match(absolute, /^HTTP\/1\.1 200 /);
    // Other schemes are refused (review 52: ftp://… was served), before the body is read.
    const ftp = await rawRequest(port, `POST ftp://127.0.0.1:${port}/federation/handshake HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(absoluteBody)}\r\nConnection: close\r\n\r\n${absoluteBody}`);
    assert.match(ftp, /^HTTP\/1\.1 400 /);
    assert.match(ftp, /request target scheme must be http or https/);
    // charset=utf8, the WHATWG label clients send, is UTF-8 too (review 52: 415).
    const utf8Body = JSON.stringify(new KernelTrustExchange("kernel.a", a).localEnvelope("kernel.b", "n-utf8"));
    for (const [charset, status] of [["utf8", 200], ['"utf8"', 409], ["latin1", 415]] as const) {
      const answer = await rawRequest(port, `POST /federation/handshake HTTP/1.1\r\nHost: x\r\nContent-Type: application/json; charset=${charset}\r\nContent-Length: ${Buffer.byteLength(utf8Body)}\r\nConnection: close\r\n\r\n${utf8Body}`);
      assert.match(answer, new RegExp(`^HTTP/1\\.1 ${status} `), charset);
    }
    // A stalled request is cut at requestTimeoutMs, and the log hook hears it (before: silent).
    logged.length = 0;
    const stalled = await rawRequest(port, "POST /federation/handshake HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{", 8000);
    assert.match(stalled, /^HTTP\/1\.1 408 /);
    assert.equal(logged.map((l) => [l.status, l.code]), [[408, "REQUEST_TIMEOUT"]]);
    // maxConnections: 4 held open, the fifth is closed on arrival, and the log hook hears it.
    logged.length = 0;
    const held = await Promise.all(Array.from({ length: 4 }, () => new Promise<ReturnType<typeof connect>>((resolve) => {
      const socket = connect(port, "127.0.0.1", () => resolve(socket));
      socket.on("error", () => undefined);
    })));
    await new Promise((resolve) => setTimeout(resolve, 100));
    const extra = await rawRequest(port, "POST /federation/handshake HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}", 2000);
    assert.is(extra, "", "the connection over maxConnections got no answer");
    assert.equal(logged.map((l) => [l.status, l.code]), [[503, "TOO_MANY_CONNECTIONS"]], "the dropped connection reached onRequestError (before: unheard)");
    for (const socket of held) socket.destroy();
  } finally {
    await closeServer(server);
  }
});

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
/** Polls `condition` every 10 ms until it holds, for at most `ms`. */
async function until(condition: () => boolean, ms = 5000): Promise<void> {
  for (const end = Date.now() + ms; !condition(); ) {
    if (Date.now() > end) throw new Error("condition not met in time");
    await pause(10);
  }
}
const postJson = (url: string, body: string) => fetch(url + "/federation/handshake", { method: "POST", headers: { "content-type": "application/json" }, body });

/**
 * A peer store whose `get` (step 5 of every accept) waits while the gate is held, so accepts
 * stall in the exchange; `waiting()` counts the stalled ones. `failing` makes `get` throw.
 */
function gatedStore() {
  const inner = new InMemoryPeerStore();
  let gate: Promise<void> | undefined;
  let open = () => {};
  let waiting = 0;
  const state = { failing: false };
  const store: FederationPeerStore = {
    insert: (p) => inner.insert(p),
    get: async (k) => {
      if (state.failing) throw new Error("peer store down");
      if (gate !== undefined) {
        waiting++;
        try {
          await gate;
        } finally {
          waiting--;
        }
      }
      return inner.get(k);
    },
    remove: (k) => inner.remove(k),
    snapshot: () => inner.snapshot(),
    compareAndSet: (k, e, n) => inner.compareAndSet(k, e, n),
  };
  return {
    store,
    inner,
    state,
    hold: () => void (gate = new Promise<void>((resolve) => (open = resolve))),
    release: () => ((gate = undefined), open()),
    waiting: () => waiting,
  };
}

test("an async onRequestError whose promise rejects is ignored like a throw, and an Expect other than 100-continue gets a logged 417 with a JSON body and a closed connection (review 52)", async () => {
  const b = Keypair.fromSeed(new Uint8Array(32).fill(61));
  const exchange = new KernelTrustExchange("kernel.b", b, { store: new InMemoryPeerStore() });
  const heard: string[] = [];
  // A log shipper that is down. Before, its rejection was unhandled and ended the process (here
  // the listener below would see it): any request, an unauthenticated GET / included.
  const server = createHandshakeServer(exchange, { onRequestError: async (info) => { heard.push(`${info.status} ${info.code}`); throw new Error("log shipper unavailable"); } });
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown) => unhandled.push(reason);
  process.on("unhandledRejection", onUnhandled);
  const url = await listen(server);
  const port = Number(new URL(url).port);
  try {
    for (let i = 0; i < 3; i++) {
      const answer = await fetch(`${url}/`);
      assert.is(answer.status, 404);
      await answer.arrayBuffer();
    }
    const expectation = await rawRequest(port, "POST /federation/handshake HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 2\r\nExpect: 200-ok\r\n\r\n", 3000);
    assert.match(expectation, /^HTTP\/1\.1 417 /);
    assert.match(expectation, /connection: close/i);
    assert.match(expectation, /\{"error":\{"code":"EXPECTATION_FAILED","message":"[^"]+"\}\}$/);
    await pause(100); // let any rejection reach the event loop's unhandled-rejection check
    assert.equal(heard, ["404 NOT_FOUND", "404 NOT_FOUND", "404 NOT_FOUND", "417 EXPECTATION_FAILED"]);
    assert.equal(unhandled, []);
  } finally {
    process.off("unhandledRejection", onUnhandled);
    await closeServer(server);
  }
});

test("handshakeWith verifies and accepts the answer's bytes: invalid UTF-8 is INVALID_ANSWER, not U+FFFD verified and pinned (review 52)", async () => {
  const a = Keypair.fromSeed(new Uint8Array(32).fill(62));
  const b = Keypair.fromSeed(new Uint8Array(32).fill(63));
  const nonce = "n-\uFFFD"; // the answer must carry the request's nonce; the server signs over U+FFFD
  const signed = Buffer.from(JSON.stringify(new KernelTrustExchange("kernel.b", b).localEnvelope("kernel.a", nonce)), "utf8");
  const at = signed.indexOf(Buffer.from(nonce, "utf8"));
  const wire = Buffer.concat([signed.subarray(0, at + 2), Buffer.from([0xff]), signed.subarray(at + 5)]); // 0xFF where EF BF BD was
  let answer = wire;
  const server = createServer((request, response) => {
    request.resume().on("end", () => response.writeHead(200, { "content-type": "application/json" }).end(answer));
  });
  const url = await listen(server);
  try {
    const client = new KernelTrustExchange("kernel.a", a, { store: new InMemoryPeerStore() }).withTrustedPeer("kernel.b", b.publicKey);
    const error = await httpFailure(handshakeWith(url, client, "kernel.b", { nonce }));
    assert.is(error.code, "INVALID_ANSWER");
    assert.match(error.message, /MALFORMED_ENVELOPE: .*invalid UTF-8/);
    await rejectsWith(client.resolve("kernel.b"), "PEER_NOT_PINNED");
    answer = signed; // the valid bytes of the same envelope are accepted
    const { peer } = await handshakeWith(url, client, "kernel.b", { nonce });
    assert.is(peer.publicKey.toHex(), b.publicKey.toHex());
  } finally {
    await closeServer(server);
  }
});

/**
 * An HTTP server over an exchange whose replay store is a real ReplayCache behind the port, whose
 * reserve throws what `fault` returns (the error a shared store throws), if anything; the
 * envelope `body` is from a trusted peer, under `nonce`.
 */
async function serverWithReplayFault(seed: number, nonce: string, fault: (timestamp: number, skew: number) => Error | undefined) {
  const a = Keypair.fromSeed(new Uint8Array(32).fill(seed));
  const b = Keypair.fromSeed(new Uint8Array(32).fill(seed + 1));
  const cache = new ReplayCache();
  const replayStore: ReplayStore = {
    reserve: async (peer, n, timestamp, now, skew) => {
      const error = fault(timestamp, skew);
      if (error !== undefined) throw error;
      return cache.reserve(peer, n, timestamp, now, skew);
    },
    commit: (peer, n) => cache.commit(peer, n),
    release: (peer, n) => cache.release(peer, n),
  };
  const store = new InMemoryPeerStore();
  const logged: { status: number; code: string; message: string }[] = [];
  const exchange = new KernelTrustExchange("kernel.b", b, { store, replayStore }).withTrustedPeer("kernel.a", a.publicKey);
  const server = createHandshakeServer(exchange, { onRequestError: (info) => logged.push(info) });
  const url = await listen(server);
  const body = JSON.stringify(new KernelTrustExchange("kernel.a", a).localEnvelope("kernel.b", nonce));
  return { url, body, store, logged, close: () => closeServer(server) };
}

test("a peer over its replay store's quota (SharedStoreError PEER_QUOTA_EXCEEDED) gets 429, not 503; other store failures stay 503", async () => {
  // In "quota" mode reserve rejects exactly as RedisReplayStore does over maxReservationsPerPeer
  // (the in-memory cache has no such quota; the SQLite store's maxPairsPerPeer has a test of its
  // own below).
  let mode: "ok" | "quota" | "down" = "quota";
  const { url, body, store, logged, close } = await serverWithReplayFault(51, "n-quota", () =>
    mode === "quota"
      ? new SharedStoreError("PEER_QUOTA_EXCEEDED", "replay.reserve: this peer reserved 3 pairs in this window (maxReservationsPerPeer)")
      : mode === "down"
        ? new SharedStoreError("STORE_UNAVAILABLE", "replay.reserve: connection refused")
        : undefined,
  );
  try {
    const flooded = await postJson(url, body);
    assert.is(flooded.status, 429, "over quota: the caller's doing, not the server failing (before: 503 STORE_FAILED)");
    assert.match(flooded.headers.get("content-type") ?? "", /^application\/json/);
    assert.is(flooded.headers.get("retry-after"), null, "no invented Retry-After: the window is the store's");
    const refusal = (await flooded.json()) as { error: { code: string; message: string } };
    assert.equal(Object.keys(refusal), ["error"]);
    assert.equal(Object.keys(refusal.error), ["code", "message"]);
    assert.is(refusal.error.code, "PEER_QUOTA_EXCEEDED");
    assert.equal(logged.map((l) => [l.status, l.code]), [[429, "PEER_QUOTA_EXCEEDED"]]);
    assert.match(logged[0].message, /maxReservationsPerPeer/, "the log hears the store's reason");
    assert.equal(await store.snapshot(), [], "nothing pinned");

    mode = "down";
    const down = await postJson(url, body);
    assert.is(down.status, 503, "any other store failure is still the server's: 503");
    assert.equal(await down.json(), { error: { code: "STORE_FAILED", message: "the server could not complete the handshake" } });

    mode = "ok";
    const accepted = await postJson(url, body);
    assert.is(accepted.status, 200, "the nonce refused over quota was not used up");
  } finally {
    await close();
  }
});

test("an envelope a shared replay store refuses as past its window on the engine's clock (PAST_WINDOW_ON_ENGINE_CLOCK) gets 403 CLOCK_SKEW_EXCEEDED, not 503; a fresh envelope is accepted (review 76 F3)", async () => {
  // Reserve rejects with the error the Postgres and Redis stores throw (test/cluster/redis-stores.test.ts
  // runs it against a real Redis).
  let late = true;
  const { url, body, store, logged, close } = await serverWithReplayFault(53, "n-late", (timestamp, skew) => (late ? pastWindowOnEngineClock(timestamp, skew) : undefined));
  try {
    const refused = await postJson(url, body);
    assert.is(refused.status, 403, "the caller's envelope is too old by the store's clock: before, 503 STORE_FAILED");
    assert.is(refused.headers.get("retry-after"), null);
    const answer = (await refused.json()) as { error: { code: string; message: string } };
    assert.equal(Object.keys(answer.error), ["code", "message"]);
    assert.is(answer.error.code, "CLOCK_SKEW_EXCEEDED");
    assert.match(answer.error.message, /fresh envelope/);
    assert.equal(logged.map((l) => [l.status, l.code]), [[403, "CLOCK_SKEW_EXCEEDED"]]);
    assert.match(logged[0].message, /engine's clock is past/, "the log hears the store's reason");
    assert.equal(await store.snapshot(), [], "nothing pinned");
    late = false;
    const accepted = await postJson(url, body);
    assert.is(accepted.status, 200, "the nonce was not used up");
  } finally {
    await close();
  }
});

test("a peer over the SQLite replay store's maxPairsPerPeer gets 429 PEER_QUOTA_EXCEEDED; another peer is still accepted", async () => {
  const [a, b, c] = [61, 62, 63].map((seed) => Keypair.fromSeed(new Uint8Array(32).fill(seed)));
  const replayStore = new SqliteReplayStore(file("quota.db"), { maxPairsPerPeer: 2 });
  const logged: { status: number; code: string; message: string }[] = [];
  const exchange = new KernelTrustExchange("kernel.b", b, { replayStore }).withTrustedPeer("kernel.a", a.publicKey).withTrustedPeer("kernel.c", c.publicKey);
  const server = createHandshakeServer(exchange, { onRequestError: (info) => logged.push(info) });
  const url = await listen(server);
  const envelope = (from: Keypair, id: string, nonce: string) => JSON.stringify(new KernelTrustExchange(id, from).localEnvelope("kernel.b", nonce));
  try {
    for (const nonce of ["q-1", "q-2"]) assert.is((await postJson(url, envelope(a, "kernel.a", nonce))).status, 200);
    const flooded = await postJson(url, envelope(a, "kernel.a", "q-3"));
    assert.is(flooded.status, 429);
    assert.is(((await flooded.json()) as { error: { code: string } }).error.code, "PEER_QUOTA_EXCEEDED");
    assert.equal(logged.map((l) => [l.status, l.code]), [[429, "PEER_QUOTA_EXCEEDED"]]);
    assert.match(logged[0].message, /maxPairsPerPeer/, "the log hears the store's reason");
    assert.is(replayStore.size, 2, "the refused accept left no pair");
    assert.is((await postJson(url, envelope(c, "kernel.c", "q-1"))).status, 200, "kernel.c has its own quota");
  } finally {
    await closeServer(server);
    replayStore.close();
  }
});

test("the hard stop: a 408 that cannot go out (answers ahead of it never drain) has its connection destroyed handshakeTimeoutMs + 0.5 s after the error (review 52 reached it)", async () => {
  // A client with a 4 KiB receive buffer (Python: Node cannot set SO_RCVBUF) pipelines small
  // requests and never reads. The server's answers back up, Node stops reading in the middle of a
  // request, requestTimeoutMs cuts that request off (408), and the 408 waits for the answers
  // ahead of it, which never drain: only the hard stop ends the connection.
  const b = Keypair.fromSeed(new Uint8Array(32).fill(64));
  const exchange = new KernelTrustExchange("kernel.b", b, { store: new InMemoryPeerStore() });
  let timedOutAt: number | undefined;
  const server = createHandshakeServer(exchange, {
    requestTimeoutMs: 1000,
    handshakeTimeoutMs: 1000,
    onRequestError: (info) => {
      if (info.status === 408) timedOutAt ??= Date.now();
    },
  });
  let closedAt: number | undefined;
  server.on("connection", (socket) => socket.on("close", () => (closedAt ??= Date.now())));
  const url = await listen(server);
  const client = spawn("python3", ["-c", `
import socket, sys, time
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
s.connect(("127.0.0.1", int(sys.argv[1])))
request = b"POST /federation/handshake HTTP/1.1\\r\\nHost: x\\r\\nContent-Type: application/json\\r\\nContent-Length: 1\\r\\n\\r\\nx" * 50
s.setblocking(False)
start = time.time()
while time.time() - start < 4:
    try:
        s.send(request)
    except BlockingIOError:
        time.sleep(0.05)
    except OSError:
        break
time.sleep(30)
`, new URL(url).port], { stdio: "ignore" });
  try {
    await until(() => closedAt !== undefined, 15_000);
    assert.ok(timedOutAt !== undefined, "a 408 was logged");
    // The hard stop (1000 + 500 ms after the 408) bounds it; the answers ahead of the 408, not
    // taken by the client, now end the connection 1000 + 500 ms after they were made, which is
    // sooner here (hunt 21).
    const after = closedAt! - timedOutAt!;
    assert.ok(after >= 0 && after <= 3000, `closed ${after} ms after the 408 (hard stop at 1000 + 500)`);
    assert.is(client.exitCode, null, "the client still holds its side open: the server closed it");
  } finally {
    client.kill("SIGKILL");
    await closeServer(server);
  }
});

test("request headers over Node's size limit get 431 HEADERS_TOO_LARGE (not 400), logged, and the connection is dropped", async () => {
  const b = Keypair.fromSeed(new Uint8Array(32).fill(54));
  const logged: { status: number; code: string }[] = [];
  const server = createHandshakeServer(new KernelTrustExchange("kernel.b", b), { onRequestError: (info) => logged.push(info) });
  const port = Number(new URL(await listen(server)).port);
  // The client keeps its side open after the server's FIN, so only the server can close the connection.
  const socket = connect({ port, host: "127.0.0.1", allowHalfOpen: true });
  let out = "";
  let ended = false;
  socket.setEncoding("utf8").on("data", (chunk: string) => (out += chunk)).on("end", () => (ended = true)).on("error", () => {});
  try {
    await new Promise((resolve) => socket.once("connect", resolve));
    // 20 000 bytes of one header: over Node's default maxHeaderSize (16 KiB).
    socket.write(`POST /federation/handshake HTTP/1.1\r\nHost: x\r\nX-Big: ${"a".repeat(20_000)}\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}`);
    await until(() => ended);
    assert.match(out, /^HTTP\/1\.1 431 Request Header Fields Too Large\r\n/, "431, as Node itself answers (before: 400 Bad Request)");
    assert.match(out, /\r\nContent-Type: application\/json\r\n/);
    assert.equal(JSON.parse(out.slice(out.indexOf("\r\n\r\n") + 4)), { error: { code: "HEADERS_TOO_LARGE", message: "request line and headers over the server's size limit" } });
    const open = await openConnectionsAfterClosing(server);
    assert.is(open, 0, "the server dropped the connection though the client kept its side open");
    assert.equal(logged.map((l) => [l.status, l.code]), [[431, "HEADERS_TOO_LARGE"]]);
  } finally {
    socket.destroy();
    await closeServer(server);
  }
});

/**
 * A server for kernel.a's handshakes whose store holds accepts on request (gatedStore), with one
 * raw keep-alive connection to it whose client keeps its side open, so only the server can close
 * it. `seen` collects what the server writes; `logged`, what its log hook hears; `pinned`, the
 * exchange's pinned events.
 */
async function heldConnection(seed: number, options: { requestTimeoutMs?: number } = {}) {
  const a = Keypair.fromSeed(new Uint8Array(32).fill(seed));
  const b = Keypair.fromSeed(new Uint8Array(32).fill(seed + 1));
  const gated = gatedStore();
  const logged: { status: number; code: string; message: string }[] = [];
  const pinned: string[] = [];
  const exchange = new KernelTrustExchange("kernel.b", b, { store: gated.store })
    .withTrustedPeer("kernel.a", a.publicKey)
    .withEventHandler((event) => void (event.type === "pinned" && pinned.push(event.nonce)));
  const server = createHandshakeServer(exchange, { ...options, onRequestError: (info) => logged.push(info) });
  const port = Number(new URL(await listen(server)).port);
  const sender = new KernelTrustExchange("kernel.a", a);
  const body = (nonce: string) => JSON.stringify(sender.localEnvelope("kernel.b", nonce));
  const head = (body: string) => `POST /federation/handshake HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n`;
  const socket = connect({ port, host: "127.0.0.1", allowHalfOpen: true });
  const seen = { out: "", ended: false };
  socket.setEncoding("utf8").on("data", (chunk: string) => (seen.out += chunk)).on("end", () => (seen.ended = true)).on("error", () => {});
  await new Promise((resolve) => socket.once("connect", resolve));
  const statuses = () => [...seen.out.matchAll(/HTTP\/1\.1 (\d+) /g)].map((m) => m[1]);
  const close = async () => {
    gated.release();
    socket.destroy();
    await closeServer(server);
  };
  return { gated, logged, pinned, server, socket, seen, body, head, statuses, close };
}

test("a malformed request pipelined behind one still being answered: its 400 goes out after that answer (in order, RFC 9112 §9.3.2), and nothing after it is served", async () => {
  const { gated, logged, pinned, server, socket, seen, body, head, statuses, close } = await heldConnection(57);
  try {
    gated.hold();
    // One write: an accept (held at the store), a request line Node cannot parse, another accept.
    const [first, after] = [body("q-1"), body("q-2")];
    socket.write(head(first) + first + "NOT HTTP\r\n\r\n" + head(after) + after);
    await until(() => gated.waiting() === 1 && logged.length === 1);
    assert.equal(logged, [{ status: 400, code: "BAD_REQUEST", message: "malformed HTTP request" }]);
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.is(seen.out, "", "nothing written while the first request is still being answered (before: the 400 at once, read as the first answer)");
    gated.release();
    await until(() => seen.ended);
    assert.equal(statuses(), ["200", "400"], "the accept's answer, then the 400; the request after the bad one not served");
    const answer = seen.out.slice(seen.out.indexOf("\r\n\r\n") + 4, seen.out.indexOf("HTTP/1.1 400"));
    assert.is((JSON.parse(answer) as { challenge: { nonce: string } }).challenge.nonce, "q-1");
    assert.match(seen.out.slice(seen.out.indexOf("HTTP/1.1 400")), /\r\nConnection: close\r\n\r\n\{"error":\{"code":"BAD_REQUEST"/);
    assert.equal(pinned, ["q-1"]);
    assert.is(await openConnectionsAfterClosing(server), 0, "the connection was dropped once answered");
    assert.is(logged.length, 1);
  } finally {
    await close();
  }
});

test("a handshake pipelined behind a refusal that closes the connection (405, 415, 400 for a missing or doubled Host) is never accepted: nothing pinned, no nonce used (RFC 9112 §9.6)", async () => {
  // Before: the refusal went out with Connection: close, but the handshake parsed behind it was
  // accepted and pinned all the same, its 200 never sent (helper 142). Node answered an HTTP/1.1
  // request without a Host line by itself (400, no JSON body, unlogged), and the handshake behind
  // it was accepted and pinned the same way (helper 154).
  const cases = [
    [61, "GET /federation/handshake HTTP/1.1\r\nHost: x\r\n\r\n", 405, "METHOD_NOT_ALLOWED"],
    [63, "POST /federation/handshake HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\n{}", 415, "UNSUPPORTED_MEDIA_TYPE"],
    [65, "GET /anything HTTP/1.1\r\n\r\n", 400, "BAD_REQUEST"],
    [67, "POST /federation/handshake HTTP/1.1\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}", 400, "BAD_REQUEST"],
    [69, "POST /federation/handshake HTTP/1.1\r\nHost: x\r\nhost: y\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}", 400, "BAD_REQUEST"],
  ] as const;
  for (const [seed, refused, status, code] of cases) {
    const { logged, pinned, server, socket, seen, body, head, statuses, close } = await heldConnection(seed);
    try {
      const envelope = body("after-refusal");
      socket.write(refused + head(envelope) + envelope);
      await until(() => seen.ended);
      await pause(100);
      assert.equal(statuses(), [String(status)], seen.out);
      assert.ok(seen.out.includes(`{"error":{"code":"${code}",`), seen.out);
      assert.equal(pinned, [], "the handshake behind the refusal was not accepted");
      assert.equal([logged[0]!.status, logged[0]!.code], [status, code], refused);
      if (status === 400) assert.match(logged[0]!.message, /Host header/);
      assert.is(await openConnectionsAfterClosing(server), 0);
    } finally {
      await close();
    }
  }
});

test("pipelined: a handshake ahead of a refusal that closes the connection is answered and pinned; the one after it is never served", async () => {
  const { gated, pinned, socket, seen, body, head, statuses, close } = await heldConnection(65);
  try {
    gated.hold();
    const [first, after] = [body("p-1"), body("p-2")];
    socket.write(head(first) + first + "GET /federation/handshake HTTP/1.1\r\nHost: x\r\n\r\n" + head(after) + after);
    await until(() => gated.waiting() >= 1);
    await pause(100);
    gated.release();
    await until(() => seen.ended);
    await pause(100);
    assert.equal(statuses(), ["200", "405"], seen.out);
    assert.equal(pinned, ["p-1"], "the accept ahead of the 405 pinned; the one after it did not");
  } finally {
    await close();
  }
});

test("CONNECT is refused as other methods are (405 with Allow: POST and a JSON body, logged, connection closed), after the answers ahead of it", async () => {
  // Before: Node hands CONNECT to 'connect' listeners only, and with none the connection was
  // closed unanswered and unlogged (helper 142).
  const alone = await heldConnection(67);
  try {
    alone.socket.write("CONNECT 127.0.0.1:22 HTTP/1.1\r\nHost: 127.0.0.1:22\r\n\r\n");
    await until(() => alone.seen.ended);
    assert.match(alone.seen.out, /^HTTP\/1\.1 405 Method Not Allowed\r\nAllow: POST\r\nContent-Type: application\/json\r\n/);
    assert.match(alone.seen.out, /\r\nConnection: close\r\n\r\n\{"error":\{"code":"METHOD_NOT_ALLOWED","message":"use POST"\}\}$/);
    assert.equal(alone.logged, [{ status: 405, code: "METHOD_NOT_ALLOWED", message: "use POST" }]);
  } finally {
    await alone.close();
  }
  const { gated, logged, pinned, socket, seen, body, head, statuses, close } = await heldConnection(69);
  try {
    gated.hold();
    const [first, after] = [body("c-1"), body("c-2")];
    socket.write(head(first) + first + "CONNECT 127.0.0.1:22 HTTP/1.1\r\nHost: 127.0.0.1:22\r\n\r\n" + head(after) + after);
    await until(() => gated.waiting() === 1 && logged.length === 1);
    await pause(50);
    assert.is(seen.out, "", "nothing written while the accept ahead is held");
    gated.release();
    await until(() => seen.ended);
    assert.equal(statuses(), ["200", "405"]);
    assert.equal(pinned, ["c-1"], "what follows the CONNECT is never served");
  } finally {
    await close();
  }
  // A CONNECT whose client resets the connection, alone or behind a held accept: the server
  // goes on serving. Node takes its own 'error' listener off a socket it hands to 'connect', so
  // the reset was an unhandled 'error' event that ended the process.
  const reset = await heldConnection(71);
  try {
    reset.gated.hold();
    const first = reset.body("r-1");
    reset.socket.write(reset.head(first) + first + "CONNECT 127.0.0.1:22 HTTP/1.1\r\nHost: 127.0.0.1:22\r\n\r\n");
    await until(() => reset.gated.waiting() === 1);
    const port = (reset.server.address() as { port: number }).port;
    const alone = connect(port, "127.0.0.1");
    alone.on("error", () => undefined);
    await new Promise((resolve) => alone.once("connect", resolve));
    alone.write("CONNECT 127.0.0.1:22 HTTP/1.1\r\nHost: 127.0.0.1:22\r\n\r\n");
    await pause(100);
    alone.resetAndDestroy();
    reset.socket.resetAndDestroy();
    await pause(200);
    reset.gated.release();
    const after = await postJson(`http://127.0.0.1:${port}`, reset.body("r-2"));
    assert.is(after.status, 200, "the server still serves");
  } finally {
    await reset.close();
  }
});

test("a request cut off with 408 behind one still being answered: the 408 follows that answer, and the rest of its body, sent meanwhile, is never accepted", async () => {
  const { gated, logged, pinned, server, socket, seen, body, head, statuses, close } = await heldConnection(59, { requestTimeoutMs: 400 });
  try {
    gated.hold();
    // The first accept is held at the store; the second request stops 10 bytes into its body.
    const [first, late] = [body("t-1"), body("t-2")];
    socket.write(head(first) + first + head(late) + late.slice(0, 10));
    await until(() => gated.waiting() === 1 && logged.length === 1);
    assert.equal(logged.map((l) => [l.status, l.code]), [[408, "REQUEST_TIMEOUT"]]);
    assert.is(seen.out, "", "the 408 waits for the first answer");
    // The rest of the cut-off body arrives while the 408 waits: it is not read until the 408 is out.
    socket.write(late.slice(10));
    await new Promise((resolve) => setTimeout(resolve, 100));
    gated.release();
    await until(() => seen.ended);
    assert.equal(statuses(), ["200", "408"]);
    assert.match(seen.out.slice(seen.out.indexOf("HTTP/1.1 408")), /"REQUEST_TIMEOUT"/);
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.equal(pinned, ["t-1"], "only the first request was accepted");
    assert.is(logged.length, 1, "the 408 logged once");
    assert.is(await openConnectionsAfterClosing(server), 0);
  } finally {
    await close();
  }
});

test("a 400 behind many pipelined answers still reaches the client when it keeps writing: the connection is closed after the answers, not reset over them", async () => {
  const { gated, logged, pinned, server, socket, seen, body, head, statuses, close } = await heldConnection(61);
  try {
    gated.hold();
    // One write: an accept held at the store, 40 requests each answered 400 MALFORMED_ENVELOPE
    // (queued behind the first answer), then a request line Node cannot parse.
    const junk = (head("{}") + "{}").repeat(40);
    socket.write(head(body("r-1")) + body("r-1") + junk + "NOT HTTP\r\n\r\n");
    await until(() => gated.waiting() === 1 && logged.some((l) => l.code === "BAD_REQUEST"));
    // The client goes on writing while the answers wait: unread input on a connection the server
    // closes makes the kernel reset it, dropping answers not yet delivered (before: 34 of 42 arrived).
    await new Promise((resolve) => setTimeout(resolve, 50));
    socket.write(head(body("r-2")) + body("r-2"));
    await new Promise((resolve) => setTimeout(resolve, 50));
    // Still writing when the answers go out: 4 MiB the server has not read yet when it closes.
    socket.write("x".repeat(4 << 20));
    gated.release();
    await until(() => seen.ended);
    assert.equal(statuses(), ["200", ...Array<string>(40).fill("400"), "400"], "every answer, in order, then the 400");
    assert.match(seen.out.slice(seen.out.lastIndexOf("HTTP/1.1 400")), /\r\nConnection: close\r\n\r\n\{"error":\{"code":"BAD_REQUEST"/);
    assert.equal(pinned, ["r-1"], "the request written after the error was not served");
    assert.is(logged.filter((l) => l.code === "BAD_REQUEST").length, 1, "the error logged once, though more input followed it");
    assert.is(await openConnectionsAfterClosing(server), 0, "the connection was closed though the client kept its side open");
  } finally {
    await close();
  }
});

test("a 408 behind many pipelined answers reaches the client though the rest of the body follows it, and that request is never served", async () => {
  const { gated, logged, pinned, server, socket, seen, body, head, statuses, close } = await heldConnection(63, { requestTimeoutMs: 400 });
  try {
    gated.hold();
    const [first, late] = [body("u-1"), body("u-2")];
    const junk = (head("{}") + "{}").repeat(40);
    socket.write(head(first) + first + junk + head(late) + late.slice(0, 10));
    await until(() => gated.waiting() === 1 && logged.some((l) => l.code === "REQUEST_TIMEOUT"));
    // The rest of the cut-off body, and another request, arrive while the 408 waits: neither is
    // read before the 408 is out (review 39's case: a request cut off while its body is read by
    // the handler, and input after it, which an unpaused connection parsed and held).
    let parsed = 0;
    server.on("request", () => parsed++);
    socket.write(late.slice(10) + head(body("u-3")) + body("u-3"));
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.is(parsed, 0, "nothing parsed while the 408 waits");
    gated.release();
    await until(() => seen.ended);
    assert.equal(statuses(), ["200", ...Array<string>(40).fill("400"), "408"]);
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.equal(pinned, ["u-1"], "neither the completed cut-off request nor the one after it was accepted");
    assert.is(logged.filter((l) => l.code === "REQUEST_TIMEOUT").length, 1);
    assert.is(await openConnectionsAfterClosing(server), 0);
  } finally {
    await close();
  }
});

test("after a 408 behind a held answer, what the client sends next is not parsed while the answer waits, and a client that floods the closing connection has it destroyed", async () => {
  const { gated, logged, pinned, server, socket, seen, body, head, statuses, close } = await heldConnection(65, { requestTimeoutMs: 400 });
  let parsed = 0;
  server.on("request", () => parsed++);
  try {
    gated.hold();
    const first = body("v-1");
    // The second request's headers stop half-way: the 408 is about a request Node never emitted.
    socket.write(head(first) + first + "POST /federation/handshake HTTP/1.1\r\nHost: x\r\n");
    await until(() => gated.waiting() === 1 && logged.some((l) => l.code === "REQUEST_TIMEOUT"));
    const before = parsed;
    // Then: the rest of those headers asking for "100 Continue", a request without Host (which
    // Node answered 400 by itself before helper 154; this server's to refuse now), and 10 more requests.
    socket.write("Content-Type: application/json\r\nContent-Length: 2\r\nExpect: 100-continue\r\n\r\n{}" + "GET / HTTP/1.1\r\n\r\n" + "GET / HTTP/1.1\r\nHost: x\r\n\r\n".repeat(10));
    await new Promise((resolve) => setTimeout(resolve, 150));
    assert.is(parsed, before, "nothing parsed while the 408 waits");
    gated.release();
    await until(() => seen.ended);
    assert.equal(statuses(), ["200", "408"], "no 100 Continue and no 400 of Node's ahead of the 408 (before: 200, 100, 408 and 200, 400, 408)");
    // Once the answer is out the connection is read again: the requests are parsed (none served;
    // the Expect one is Node's 'checkContinue'). A client that goes on sending (12,000 more requests, 384,000 bytes) has its
    // connection destroyed past 16 requests after the error: what the read in progress held is
    // parsed, the rest never is.
    assert.is(parsed - before, 11, "the 11 requests, the one without Host among them, parsed once the answer was out");
    socket.write("GET / HTTP/1.1\r\nHost: x\r\n\r\n".repeat(12_000));
    assert.is(await openConnectionsAfterClosing(server), 0);
    assert.ok(parsed - before < 6_000, `${parsed - before} requests parsed after the error (before: every one sent until the connection closed)`);
    assert.equal(pinned, ["v-1"]);
  } finally {
    await close();
  }
});

test("a request refused before its body that then times out gets its refusal only, not a 408 as well", async () => {
  const { gated, logged, server, socket, seen, body, head, statuses, close } = await heldConnection(67, { requestTimeoutMs: 400 });
  try {
    gated.hold();
    const first = body("w-1");
    // The second request declares a body over maxBodyBytes and waits for "100 Continue": it is
    // refused 413 at once (queued behind the held answer), and its body never comes.
    socket.write(head(first) + first + "POST /federation/handshake HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100000\r\nExpect: 100-continue\r\n\r\n");
    await until(() => gated.waiting() === 1 && logged.length === 1);
    await new Promise((resolve) => setTimeout(resolve, 600)); // past requestTimeoutMs: Node's 'clientError' (408) for it
    gated.release();
    await until(() => seen.ended);
    assert.equal(statuses(), ["200", "413"], "one answer per request (before: 200, 413, 408)");
    assert.equal(logged.map((l) => l.code), ["BODY_TOO_LARGE"], "the log hook hears the one refusal");
    assert.is(await openConnectionsAfterClosing(server), 0);
  } finally {
    await close();
  }
});

test("maxAcceptsInFlight: accepts in progress are capped across the server (pipelined ones too); over the cap 503 TOO_MANY_ACCEPTS with Retry-After: 1 before the body is read", async () => {
  const a = Keypair.fromSeed(new Uint8Array(32).fill(55));
  const b = Keypair.fromSeed(new Uint8Array(32).fill(56));
  const gated = gatedStore();
  const logged: { status: number; code: string }[] = [];
  const exchange = new KernelTrustExchange("kernel.b", b, { store: gated.store }).withTrustedPeer("kernel.a", a.publicKey);
  const server = createHandshakeServer(exchange, { maxAcceptsInFlight: 2, onRequestError: (info) => logged.push(info) });
  const url = await listen(server);
  const port = Number(new URL(url).port);
  const sender = new KernelTrustExchange("kernel.a", a);
  const envelope = (nonce: string) => JSON.stringify(sender.localEnvelope("kernel.b", nonce));
  try {
    gated.hold();
    const first = postJson(url, envelope("n-1"));
    const second = postJson(url, envelope("n-2"));
    for (const pending of [first, second]) pending.catch(() => undefined); // a failed assertion below must not end the run unreported
    await until(() => gated.waiting() === 2);
    // The third: refused on its head alone, while the client keeps streaming body bytes.
    const refused = await refusedBeforeBody(port, "POST /federation/handshake HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 60000\r\n\r\n");
    assert.match(refused.answer, /^HTTP\/1\.1 503 Service Unavailable\r\n/, "over the cap (before: accepted and held)");
    assert.match(refused.answer, /\r\nretry-after: 1\r\n/i);
    assert.match(refused.answer, /\r\nconnection: close\r\n/i);
    assert.ok(refused.closedAfterMs < 1000, `closed after ${refused.closedAfterMs} ms without reading the body`);
    assert.equal(JSON.parse(refused.answer.slice(refused.answer.indexOf("\r\n\r\n") + 4)), { error: { code: "TOO_MANY_ACCEPTS", message: "the server could not complete the handshake" } });
    // Expect: 100-continue over the cap: the refusal, no invitation to send the body.
    const continued = await refusedBeforeBody(port, "POST /federation/handshake HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\nExpect: 100-continue\r\n\r\n");
    assert.match(continued.answer, /^HTTP\/1\.1 503 /);
    assert.not.match(continued.answer, /100 Continue/);
    // A full request through fetch, same answer; none of the three reached the store.
    const third = await postJson(url, envelope("n-3"));
    assert.is(third.status, 503);
    assert.is(third.headers.get("retry-after"), "1");
    assert.is(((await third.json()) as { error: { code: string } }).error.code, "TOO_MANY_ACCEPTS");
    assert.is(gated.waiting(), 2);
    assert.equal(logged.map((l) => [l.status, l.code]), [[503, "TOO_MANY_ACCEPTS"], [503, "TOO_MANY_ACCEPTS"], [503, "TOO_MANY_ACCEPTS"]]);
    gated.release();
    assert.is((await first).status, 200);
    assert.is((await second).status, 200);
    const fourth = await postJson(url, envelope("n-4"));
    assert.is(fourth.status, 200, "the count went back down");
    assert.equal((await gated.inner.snapshot()).length, 1, "kernel.a pinned");

    // One keep-alive connection pipelining three requests in one write: the third is refused
    // while the first two are held (Node emits each pipelined request as it is parsed). All three
    // heads and bodies arrive at once, so all three pass the check on arrival and the third is
    // refused by the second check, once its body (already in) is read: answered in order after
    // the first two, keeping the connection.
    gated.hold();
    const pipelined = [envelope("p-1"), envelope("p-2"), envelope("p-3")]
      .map((body) => `POST /federation/handshake HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`)
      .join("");
    const socket = connect(port, "127.0.0.1", () => socket.write(pipelined));
    let out = "";
    socket.setEncoding("utf8").on("data", (chunk: string) => (out += chunk)).on("error", () => {});
    try {
      await until(() => gated.waiting() === 2);
      await until(() => logged.length === 4);
      assert.equal(logged[3], { status: 503, code: "TOO_MANY_ACCEPTS", message: "2 handshakes already in progress (maxAcceptsInFlight)" });
      gated.release();
      await until(() => /TOO_MANY_ACCEPTS.*\}\}$/.test(out));
      assert.equal([...out.matchAll(/HTTP\/1\.1 (\d+) /g)].map((m) => m[1]), ["200", "200", "503"], "before: three accepts at once");
      assert.match(out.slice(out.lastIndexOf("HTTP/1.1 ")), /\r\nRetry-After: 1\r\n/);
    } finally {
      socket.destroy();
    }
    const fifth = await postJson(url, envelope("n-5"));
    assert.is(fifth.status, 200, "the count went back down after the pipelined accepts");
  } finally {
    gated.release();
    await closeServer(server);
  }
});

test("maxAcceptsInFlight is validated like the other numeric options (InvalidTypeError)", () => {
  const exchange = new KernelTrustExchange("kernel.b", Keypair.fromSeed(new Uint8Array(32).fill(57)));
  for (const bad of [0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, 1_000_001, 2 ** 53, "2", null, true]) {
    try {
      createHandshakeServer(exchange, { maxAcceptsInFlight: bad as number });
      assert.unreachable(`accepted ${String(bad)}`);
    } catch (error) {
      assert.instance(error, InvalidTypeError, String(error));
      assert.is((error as InvalidTypeError).code, "INVALID_TYPE");
      assert.is((error as Error).message, "maxAcceptsInFlight must be an integer in 1..1000000", String(bad));
    }
  }
  for (const good of [1, 256, 1_000_000, undefined]) createHandshakeServer(exchange, { maxAcceptsInFlight: good }).close();
});

test("maxAcceptsInFlight does not leak: after refusals, store failures, client aborts and timeouts the whole cap is free again", async () => {
  const a = Keypair.fromSeed(new Uint8Array(32).fill(58));
  const b = Keypair.fromSeed(new Uint8Array(32).fill(59));
  const gated = gatedStore();
  const exchange = new KernelTrustExchange("kernel.b", b, { store: gated.store }).withTrustedPeer("kernel.a", a.publicKey);
  const logged: { status: number; code: string }[] = [];
  const server = createHandshakeServer(exchange, { maxAcceptsInFlight: 2, handshakeTimeoutMs: 300, onRequestError: (info) => logged.push(info) });
  const url = await listen(server);
  const port = Number(new URL(url).port);
  const sender = new KernelTrustExchange("kernel.a", a);
  const envelope = (nonce: string) => JSON.stringify(sender.localEnvelope("kernel.b", nonce));
  try {
    // Ten forged envelopes (403), then a replay (409), then failing store calls (503).
    for (let i = 0; i < 10; i++) {
      const forged = await postJson(url, envelope(`f-${i}`).replace(`"f-${i}"`, `"g-${i}"`));
      assert.is(forged.status, 403);
    }
    assert.is((await postJson(url, envelope("r"))).status, 200);
    assert.is((await postJson(url, envelope("r"))).status, 409);
    gated.state.failing = true;
    for (let i = 0; i < 3; i++) assert.is((await postJson(url, envelope(`d-${i}`))).status, 503);
    gated.state.failing = false;
    // Two clients that give up while their accepts are held.
    gated.hold();
    const aborters = [envelope("x-1"), envelope("x-2")].map((body) => {
      const socket = connect(port, "127.0.0.1", () => socket.write(`POST /federation/handshake HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`));
      socket.on("error", () => {});
      return socket;
    });
    await until(() => gated.waiting() === 2);
    for (const socket of aborters) socket.destroy();
    await pause(50);
    gated.release();
    await until(() => gated.waiting() === 0);
    // Two accepts that outlive handshakeTimeoutMs: each keeps its place until its store call ends.
    gated.hold();
    const late = await Promise.all([postJson(url, envelope("t-1")), postJson(url, envelope("t-2"))]);
    assert.equal(late.map((r) => r.status), [503, 503]);
    assert.is(((await late[0].json()) as { error: { code: string } }).error.code, "HANDSHAKE_TIMEOUT");
    const meanwhile = await postJson(url, envelope("t-3"));
    assert.is(meanwhile.status, 503);
    assert.is(((await meanwhile.json()) as { error: { code: string } }).error.code, "TOO_MANY_ACCEPTS", "the timed-out accepts still hold their places while their store calls run");
    gated.release();
    await until(() => gated.waiting() === 0);
    await pause(20);

    // The whole cap is free: two accepts both reach the store, a third is refused, and after
    // they finish the next one is accepted.
    logged.length = 0;
    gated.hold();
    const held = [postJson(url, envelope("c-1")), postJson(url, envelope("c-2"))];
    for (const pending of held) pending.catch(() => undefined);
    await until(() => gated.waiting() === 2);
    assert.is((await postJson(url, envelope("c-3"))).status, 503);
    assert.equal(logged.map((l) => l.code), ["TOO_MANY_ACCEPTS"]);
    gated.release();
    assert.equal(await Promise.all(held.map(async (r) => (await r).status)), [200, 200]);
    assert.is((await postJson(url, envelope("c-4"))).status, 200);
  } finally {
    gated.release();
    await closeServer(server);
  }
});

test("the client shows the server's text escaped, bounds timeoutMs to a 32-bit timer, and refuses URLs with credentials, a query or a fragment", async () => {
  const a = new KernelTrustExchange("kernel.a", Keypair.fromSeed(new Uint8Array(32).fill(47))).withTrustedPeer("kernel.b", Keypair.fromSeed(new Uint8Array(32).fill(48)).publicKey);
  const evilBody = JSON.stringify({ error: { code: "X\nchio-trust: ok", message: "denied\nchio-trust: pinned \"kernel.b\" ok\n\u001b[31mRED" } });
  const evil = createServer((q, s) => (q.resume(), s.writeHead(403, { "content-type": "application/json" }).end(evilBody)));
  const plain = createServer((q, s) => (q.resume(), s.writeHead(500, { "content-type": "text/plain" }).end("oops\r\nFAKE LOG LINE")));
  // A server that signs an answer with a schema holding a line break.
  const bKey = Keypair.fromSeed(new Uint8Array(32).fill(48));
  const schemaAnswer = createServer((q, s) => {
    q.resume();
    const envelope = new KernelTrustExchange("kernel.b", bKey).localEnvelope("kernel.a", "n").toJSON() as { challenge: Record<string, unknown>; signature: string };
    const challenge = { ...envelope.challenge, schema: "evil\nchio-trust: pinned ok" };
    const canonical = canonicalize(challenge)!;
    const signature = Buffer.from(bKey.sign(new TextEncoder().encode(canonical)).toBytes()).toString("hex");
    s.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ ...envelope, challenge, signature }));
  });
  const urls = await Promise.all([listen(evil), listen(plain), listen(schemaAnswer)]);
  try {
    for (const url of urls) {
      const error = await httpFailure(handshakeWith(url, a, "kernel.b"));
      assert.not.match(error.message, /[\n\r\u001b]/, `one line, no escapes: ${JSON.stringify(error.message)}`);
    }
    const refused = await httpFailure(handshakeWith(urls[0], a, "kernel.b"));
    assert.is(refused.peerCode, "X\nchio-trust: ok", "the field keeps the server's code as sent");
    assert.match(refused.message, /\(403 X\\nchio-trust: ok\): denied\\nchio-trust: pinned "kernel\.b" ok\\n\\u001b\[31mRED$/);
    const invalid = await httpFailure(handshakeWith(urls[2], a, "kernel.b"));
    assert.is(invalid.code, "INVALID_ANSWER");
    assert.match(invalid.message, /unsupported handshake schema: evil\\nchio-trust: pinned ok/);
  } finally {
    await Promise.all([evil, plain, schemaAnswer].map(closeServer));
  }
  for (const timeoutMs of [2 ** 31, Number.MAX_SAFE_INTEGER]) {
    await rejectsWithCode(handshakeWith("http://127.0.0.1:9/", a, "kernel.b", { timeoutMs }), "INVALID_TYPE");
  }
  // A base path starting with "//" stays a path on the named host (built from a string, it named another host).
  const seen: string[] = [];
  const pathServer = createServer((q, s) => (seen.push(q.url ?? ""), q.resume(), s.writeHead(404).end()));
  const pathUrl = await listen(pathServer);
  try {
    await httpFailure(handshakeWith(`${pathUrl}//elsewhere:1/`, a, "kernel.b"));
    assert.equal(seen, ["//elsewhere:1/federation/handshake"]);
  } finally {
    await closeServer(pathServer);
  }
  for (const base of ["http://deploy:s3cret@127.0.0.1:9", "http://127.0.0.1:9/?tenant=1", "http://127.0.0.1:9/#x", "not a url with s3cret"]) {
    const error = await httpFailure(handshakeWith(base, a, "kernel.b"));
    assert.is(error.code, "INVALID_URL", base);
    assert.not.match(error.message, /s3cret/, "the password is not repeated");
  }
  assert.equal(await a.peers(), []);
});

test("load: a few hundred concurrent clients against one server on SQLite, no lost or doubled pin", async () => {
  const CLIENTS = 300;
  const server = Keypair.fromSeed(new Uint8Array(32).fill(99));
  const peers = new SqlitePeerStore(file("load.db"), { synchronous: "normal" });
  const replay = new SqliteReplayStore(file("load.db"), { synchronous: "normal" });
  const exchange = new KernelTrustExchange("kernel.server", server, { store: peers, replayStore: replay });
  const clients = Array.from({ length: CLIENTS }, (_, i) => {
    const seed = new Uint8Array(32);
    seed[0] = 1;
    seed[1] = i >> 8;
    seed[2] = i & 0xff;
    const key = Keypair.fromSeed(seed);
    exchange.withTrustedPeer(`client.${i}`, key.publicKey);
    return new KernelTrustExchange(`client.${i}`, key).withTrustedPeer("kernel.server", server.publicKey);
  });
  let pinnedEvents = 0;
  exchange.withEventHandler((event) => {
    if (event.type === "pinned") pinnedEvents++;
  });
  const http = createHandshakeServer(exchange);
  const url = await listen(http);
  try {
    const started = performance.now();
    const first = await Promise.allSettled(clients.map((client) => handshakeWith(url, client, "kernel.server", { timeoutMs: 20_000 })));
    const second = await Promise.allSettled(clients.map((client) => handshakeWith(url, client, "kernel.server", { timeoutMs: 20_000 })));
    const seconds = (performance.now() - started) / 1000;
    const failures = [...first, ...second].filter((r) => r.status === "rejected") as PromiseRejectedResult[];
    assert.is(failures.length, 0, failures.slice(0, 3).map((f) => String(f.reason)).join("; "));
    assert.is(pinnedEvents, 2 * CLIENTS, "every accepted request produced exactly one pin outcome");
    const rows = peers.records();
    assert.is(rows.length, CLIENTS, "one row per client: none lost, none doubled");
    for (const { peer } of rows) {
      const i = Number(peer.kernelId.slice("client.".length));
      assert.ok(peer.publicKey.equals(clients[i].localPublicKey), `${peer.kernelId} holds its own key`);
    }
    for (const client of clients) {
      const pins = await client.peers();
      assert.is(pins.length, 1);
      assert.ok(pins[0].publicKey.equals(server.publicKey));
    }
    assert.is(replay.size, 2 * CLIENTS, "every nonce remembered");
    console.log(`  load: ${2 * CLIENTS} handshakes (${CLIENTS} concurrent clients, two rounds) in ${seconds.toFixed(2)} s = ${Math.round((2 * CLIENTS) / seconds)} handshakes/s`);
  } finally {
    await closeServer(http);
    peers.close();
    replay.close();
  }
});

// Mutation audit (src/http): a client that follows a redirect sends its envelope, and pins the
// answer of, whatever host the first server names; refused, the redirect is a NETWORK_ERROR (fetch's
// redirect: "error"), the named server never hears the request, and nothing is pinned.
test("the client follows no redirect: a 307 or 308 to a real kernel is NETWORK_ERROR, that kernel never hears the envelope, nothing is pinned", async () => {
  const a = Keypair.fromSeed(new Uint8Array(32).fill(71));
  const b = Keypair.fromSeed(new Uint8Array(32).fill(72));
  const heardByB: string[] = [];
  const exchangeB = new KernelTrustExchange("kernel.b", b, { onEvent: (event) => heardByB.push(event.type) }).withTrustedPeer("kernel.a", a.publicKey);
  const realB = createHandshakeServer(exchangeB);
  const realUrl = await listen(realB);
  let status = 307;
  const redirecting = createServer((q, s) => (q.resume(), s.writeHead(status, { location: `${realUrl}/federation/handshake` }).end()));
  const redirectUrl = await listen(redirecting);
  try {
    for (const code of [307, 308]) {
      status = code;
      const client = new KernelTrustExchange("kernel.a", a).withTrustedPeer("kernel.b", b.publicKey);
      const error = await expectHttp(handshakeWith(redirectUrl, client, "kernel.b"), "NETWORK_ERROR");
      assert.is(error.status, undefined, `${code}: no answer was taken`);
      assert.is(error.message, `${new URL(redirectUrl).host}: fetch failed (unexpected redirect)`, "named by undici's reason");
      assert.equal(await client.peers(), [], `${code}: nothing pinned by the client`);
    }
    assert.equal(heardByB, [], "the kernel the redirect named never received an envelope");
    assert.equal(await exchangeB.peers(), [], "nor pinned the caller");
  } finally {
    await Promise.all([realB, redirecting].map(closeServer));
  }
});

// Mutation audit (src/http): maxResponseBytes is the largest answer TAKEN, both when the answer
// declares its length (Content-Length) and when it is chunked (counted as read): an answer of
// exactly maxResponseBytes is verified and pinned, one byte over is RESPONSE_TOO_LARGE with
// nothing pinned. Guards against an off-by-one either way on either path.
test("maxResponseBytes at its edge: an answer of exactly that many bytes is pinned, one more is RESPONSE_TOO_LARGE, with Content-Length and chunked", async () => {
  const a = Keypair.fromSeed(new Uint8Array(32).fill(73));
  const b = Keypair.fromSeed(new Uint8Array(32).fill(74));
  const server = createHandshakeServer(new KernelTrustExchange("kernel.b", b).withTrustedPeer("kernel.a", a.publicKey));
  const serverUrl = await listen(server);
  // A relay passing each request to the real server and its answer back, framed by `framing`.
  let framing: "length" | "chunked" = "length";
  let lastLength = 0;
  const relay = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", async () => {
      const answer = await fetch(`${serverUrl}/federation/handshake`, { method: "POST", headers: { "content-type": "application/json" }, body: Buffer.concat(chunks) });
      const bytes = Buffer.from(await answer.arrayBuffer());
      lastLength = bytes.length;
      if (framing === "length") {
        response.writeHead(answer.status, { "content-type": "application/json", "content-length": String(bytes.length) }).end(bytes);
      } else {
        // No Content-Length: Node sends it chunked, in two chunks.
        response.writeHead(answer.status, { "content-type": "application/json" });
        response.write(bytes.subarray(0, 10));
        response.end(bytes.subarray(10));
      }
    });
  });
  const relayUrl = await listen(relay);
  // Nonces of one length: every answer has the same size (the timestamp's digits do not change).
  let n = 0;
  const nonce = () => `edge-nonce-${String(n++).padStart(4, "0")}`;
  try {
    const first = new KernelTrustExchange("kernel.a", a).withTrustedPeer("kernel.b", b.publicKey);
    await handshakeWith(relayUrl, first, "kernel.b", { nonce: nonce() });
    const size = lastLength;
    assert.ok(size > 100, `measured an answer of ${size} bytes`);
    for (const mode of ["length", "chunked"] as const) {
      framing = mode;
      const exact = new KernelTrustExchange("kernel.a", a).withTrustedPeer("kernel.b", b.publicKey);
      await handshakeWith(relayUrl, exact, "kernel.b", { nonce: nonce(), maxResponseBytes: size });
      assert.is(lastLength, size, `${mode}: the answer was ${size} bytes`);
      assert.is((await exact.peers()).length, 1, `${mode}: an answer of exactly maxResponseBytes is taken and pinned`);
      const over = new KernelTrustExchange("kernel.a", a).withTrustedPeer("kernel.b", b.publicKey);
      const error = await expectHttp(handshakeWith(relayUrl, over, "kernel.b", { nonce: nonce(), maxResponseBytes: size - 1 }), "RESPONSE_TOO_LARGE");
      assert.is(lastLength, size, `${mode}: the answer was ${size} bytes`);
      assert.is(error.status, 200);
      assert.equal(await over.peers(), [], `${mode}: one byte over pins nothing`);
    }
  } finally {
    await Promise.all([server, relay].map(closeServer));
  }
});

// Mutation audit (src/http): 429 PEER_QUOTA_EXCEEDED is for the SQLite store's quota only. Any
// other SqliteStoreError of the replay store (a skew above its retention, a closed store) is the
// server's own failure: 503 STORE_FAILED with the cause for the log only, nothing pinned, no pair
// left. Guards against taking every SqliteStoreError as the caller's flooding.
test("a SQLite replay store failing for another reason than its quota (SKEW_ABOVE_RETENTION, STORE_CLOSED) answers 503 STORE_FAILED, not 429", async () => {
  const a = Keypair.fromSeed(new Uint8Array(32).fill(75));
  const b = Keypair.fromSeed(new Uint8Array(32).fill(76));
  const envelope = (nonce: string) => JSON.stringify(new KernelTrustExchange("kernel.a", a).localEnvelope("kernel.b", nonce));
  // retentionSecs 1 is below the exchange's skew: every reserve throws SKEW_ABOVE_RETENTION.
  const shortLived = new SqliteReplayStore(file("short-retention.db"), { retentionSecs: 1 });
  const closed = new SqliteReplayStore(file("closed-replay.db"));
  closed.close();
  for (const [replayStore, reason] of [[shortLived, /SKEW_ABOVE_RETENTION|retention/], [closed, /STORE_CLOSED|after close/]] as const) {
    const store = new InMemoryPeerStore();
    const logged: { status: number; code: string; message: string }[] = [];
    const exchange = new KernelTrustExchange("kernel.b", b, { store, replayStore }).withTrustedPeer("kernel.a", a.publicKey);
    const server = createHandshakeServer(exchange, { onRequestError: (info) => logged.push(info) });
    const url = await listen(server);
    try {
      const answer = await postJson(url, envelope("n-store-fault"));
      assert.is(answer.status, 503, String(reason));
      assert.equal(await answer.json(), { error: { code: "STORE_FAILED", message: "the server could not complete the handshake" } });
      assert.equal(logged.map((l) => [l.status, l.code]), [[503, "STORE_FAILED"]]);
      assert.match(logged[0].message, reason, "the log hears the store's reason");
      assert.equal(store.snapshot(), [], "nothing pinned");
    } finally {
      await closeServer(server);
    }
  }
  assert.is(shortLived.size, 0, "no pair left");
  shortLived.close();
});

// Mutation audit (src/http): each refusal of a signed envelope by the exchange has its own status,
// and a caller's envelope that is too old, too new, addressed elsewhere or from an id with no
// anchor is the caller's fault (403), never a 400 (malformed) or a 5xx (invites retries). Guards
// against a wrong entry in the server's status table.
test("refusals of well-formed, signed envelopes carry their status: CLOCK_SKEW_EXCEEDED, ADDRESS_MISMATCH and MISSING_TRUST_ANCHOR are 403, logged, nothing pinned", async () => {
  const a = Keypair.fromSeed(new Uint8Array(32).fill(77));
  const b = Keypair.fromSeed(new Uint8Array(32).fill(78));
  const stranger = Keypair.fromSeed(new Uint8Array(32).fill(79));
  const store = new InMemoryPeerStore();
  const logged: { status: number; code: string }[] = [];
  const server = createHandshakeServer(new KernelTrustExchange("kernel.b", b, { store }).withTrustedPeer("kernel.a", a.publicKey), { onRequestError: (info) => logged.push(info) });
  const url = await listen(server);
  const now = Math.floor(Date.now() / 1000);
  const fromA = new KernelTrustExchange("kernel.a", a);
  const cases: [string, string, string][] = [
    ["an hour old", JSON.stringify(fromA.localEnvelope("kernel.b", "n-old", now - 3600)), "CLOCK_SKEW_EXCEEDED"],
    ["an hour ahead", JSON.stringify(fromA.localEnvelope("kernel.b", "n-ahead", now + 3600)), "CLOCK_SKEW_EXCEEDED"],
    ["addressed to another kernel", JSON.stringify(fromA.localEnvelope("kernel.c", "n-elsewhere")), "ADDRESS_MISMATCH"],
    ["from an id with no anchor", JSON.stringify(new KernelTrustExchange("kernel.z", stranger).localEnvelope("kernel.b", "n-stranger")), "MISSING_TRUST_ANCHOR"],
  ];
  try {
    for (const [what, body, code] of cases) {
      const answer = await postJson(url, body);
      assert.is(answer.status, 403, what);
      assert.is(((await answer.json()) as { error: { code: string } }).error.code, code, what);
    }
    assert.equal(logged.map((l) => [l.status, l.code]), cases.map(([, , code]) => [403, code]));
    assert.equal(store.snapshot(), [], "nothing pinned");
  } finally {
    await closeServer(server);
  }
});

// Mutation audit (src/http): maxBodyBytes is the largest body ACCEPTED, whether the request
// declares it (Content-Length, checked before the body is read) or streams it chunked (counted as
// read): a body of exactly maxBodyBytes is accepted and pinned, one byte more is 413
// BODY_TOO_LARGE with nothing pinned. Guards against an off-by-one on either path.
test("maxBodyBytes at its edge: a body of exactly that many bytes is accepted, one more is 413, declared or chunked", async () => {
  const a = Keypair.fromSeed(new Uint8Array(32).fill(81));
  const b = Keypair.fromSeed(new Uint8Array(32).fill(82));
  let n = 0;
  const body = () => JSON.stringify(new KernelTrustExchange("kernel.a", a).localEnvelope("kernel.b", `body-edge-${String(n++).padStart(4, "0")}`));
  const size = Buffer.byteLength(body());
  const chunked = (url: string, text: string) =>
    fetch(url + "/federation/handshake", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: new ReadableStream({ start: (c) => (c.enqueue(new TextEncoder().encode(text)), c.close()) }),
      duplex: "half",
    } as RequestInit);
  for (const [framing, post] of [["Content-Length", postJson], ["chunked", chunked]] as const) {
    for (const [limit, expected] of [[size, 200], [size - 1, 413]] as const) {
      const store = new InMemoryPeerStore();
      const server = createHandshakeServer(new KernelTrustExchange("kernel.b", b, { store }).withTrustedPeer("kernel.a", a.publicKey), { maxBodyBytes: limit });
      const url = await listen(server);
      try {
        const text = body();
        assert.is(Buffer.byteLength(text), size);
        const answer = await post(url, text);
        assert.is(answer.status, expected, `${framing}, body ${size} bytes, maxBodyBytes ${limit}`);
        if (expected === 413) assert.is(((await answer.json()) as { error: { code: string } }).error.code, "BODY_TOO_LARGE");
        else await answer.arrayBuffer();
        assert.is(store.snapshot().length, expected === 200 ? 1 : 0, `${framing}, maxBodyBytes ${limit}: pinned only when accepted`);
      } finally {
        await closeServer(server);
      }
    }
  }
});

// Mutation audit (src/http): an accept whose store answers only after its 503 HANDSHAKE_TIMEOUT
// is refused by the deadline itself, whatever state the caller's connection is in: nothing is
// pinned, its nonce is released (the same envelope is accepted once, later), and the log hook
// hears the timeout once, not a second refusal ("the caller's connection closed") that never
// happened. Guards against beforePin dropping its deadline check and leaning on the
// connection-gone check, which fires only because Node marks a finished response destroyed.
test("an accept that outlives its 503 HANDSHAKE_TIMEOUT is refused by the deadline: nothing pinned, nonce released, one log entry", async () => {
  const a = Keypair.fromSeed(new Uint8Array(32).fill(83));
  const b = Keypair.fromSeed(new Uint8Array(32).fill(84));
  const gated = gatedStore();
  const cache = new ReplayCache();
  let released = 0;
  const replayStore: ReplayStore = {
    reserve: (peer, n, timestamp, now, skew) => cache.reserve(peer, n, timestamp, now, skew),
    commit: (peer, n) => cache.commit(peer, n),
    release: (peer, n) => (released++, cache.release(peer, n)),
  };
  const events: string[] = [];
  const exchange = new KernelTrustExchange("kernel.b", b, { store: gated.store, replayStore, onEvent: (event) => events.push(event.type) }).withTrustedPeer("kernel.a", a.publicKey);
  const logged: { status: number; code: string; message: string }[] = [];
  const server = createHandshakeServer(exchange, { handshakeTimeoutMs: 200, onRequestError: (info) => logged.push(info) });
  const url = await listen(server);
  const body = JSON.stringify(new KernelTrustExchange("kernel.a", a).localEnvelope("kernel.b", "n-outlived"));
  try {
    gated.hold();
    const timedOut = await postJson(url, body);
    assert.is(timedOut.status, 503);
    assert.is(((await timedOut.json()) as { error: { code: string } }).error.code, "HANDSHAKE_TIMEOUT");
    assert.is(gated.waiting(), 1, "the accept is still waiting on the store");
    gated.release(); // the store answers now, after the 503
    await until(() => gated.waiting() === 0);
    await pause(50);
    // Abandoned at the deadline (AcceptOptions.signal), the accept stops at its next step, before
    // the nonce's reservation: nothing reserved, so nothing to release.
    assert.is(released, 0);
    assert.equal(gated.inner.snapshot(), [], "nothing pinned after the 503");
    assert.not.ok(events.includes("pinned"));
    assert.equal(logged.map((l) => [l.status, l.code]), [[503, "HANDSHAKE_TIMEOUT"]], "the timeout, logged once");
    const again = await postJson(url, body);
    assert.is(again.status, 200, "the nonce was released: the same envelope is accepted once");
    await again.arrayBuffer();
    assert.is(gated.inner.snapshot().length, 1);
  } finally {
    gated.release();
    await closeServer(server);
  }
});

/**
 * A peer store whose first compare-and-set loses a race: a replica's pin for the same key,
 * established an hour earlier (so the accept renews it rather than adopting it), lands just
 * before it. The accept then reads the store again, and that read waits while `gate` is held.
 */
function storeThatLosesTheFirstRace(now: number) {
  const inner = new InMemoryPeerStore();
  const counts = { compareAndSet: 0, gets: 0 };
  let open!: () => void;
  let gate: Promise<void> | undefined = new Promise<void>((resolve) => (open = resolve));
  const store: FederationPeerStore = {
    insert: (p) => inner.insert(p),
    get: async (k) => {
      counts.gets++;
      if (counts.compareAndSet > 0 && gate !== undefined) await gate; // the re-read after the lost race
      return inner.get(k);
    },
    remove: (k) => inner.remove(k),
    snapshot: () => inner.snapshot(),
    compareAndSet: (k, expected, next) => {
      if (counts.compareAndSet++ === 0) {
        inner.insert(new FederationPeer({ kernelId: k, publicKey: next.publicKey, establishedAt: now - 3_600, rotationDue: now + 3_600 }));
      }
      return inner.compareAndSet(k, expected, next);
    },
  };
  return { store, inner, counts, release: () => ((gate = undefined), open()) };
}

test("an accept abandoned while it re-reads the store after a lost race sends no second write: not after its 503, nor after its caller's connection closed (helper 154)", async () => {
  const a = Keypair.fromSeed(new Uint8Array(32).fill(87));
  const b = Keypair.fromSeed(new Uint8Array(32).fill(88));
  for (const how of ["disconnect", "deadline"] as const) {
    const now = Math.floor(Date.now() / 1000);
    const racing = storeThatLosesTheFirstRace(now);
    const events: string[] = [];
    const exchange = new KernelTrustExchange("kernel.b", b, { store: racing.store, onEvent: (event) => events.push(event.type) }).withTrustedPeer("kernel.a", a.publicKey);
    const logged: { status: number; code: string; message: string }[] = [];
    const server = createHandshakeServer(exchange, { handshakeTimeoutMs: how === "deadline" ? 200 : 10_000, onRequestError: (info) => logged.push(info) });
    const url = await listen(server);
    const body = JSON.stringify(new KernelTrustExchange("kernel.a", a).localEnvelope("kernel.b", `n-race-${how}`));
    try {
      if (how === "deadline") {
        const timedOut = await postJson(url, body);
        assert.is(timedOut.status, 503, how);
        await timedOut.arrayBuffer();
      } else {
        const socket = connect({ port: Number(new URL(url).port), host: "127.0.0.1" });
        socket.on("error", () => {});
        await new Promise((resolve) => socket.once("connect", resolve));
        socket.write(`POST /federation/handshake HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
        await until(() => racing.counts.gets === 2); // the accept waits on its re-read
        socket.destroy();
        await pause(100);
      }
      assert.is(racing.counts.compareAndSet, 1, `${how}: the first write was sent and lost`);
      racing.release(); // the re-read answers now, after the accept was abandoned
      await pause(100);
      assert.is(racing.counts.compareAndSet, 1, `${how}: no second compare-and-set`);
      const [pin] = racing.inner.snapshot();
      assert.is(pin!.establishedAt, now - 3_600, `${how}: the replica's pin stands, not renewed`);
      assert.not.ok(events.includes("pinned"), how);
      assert.equal(
        logged.map((entry) => [entry.status, entry.code]),
        how === "deadline" ? [[503, "HANDSHAKE_TIMEOUT"]] : [[400, "BAD_REQUEST"]],
        how,
      );
      if (how === "disconnect") assert.match(logged[0]!.message, /connection closed/);
    } finally {
      racing.release();
      await closeServer(server);
    }
  }
});

test("close() does not wait on a client trickling its request: Node stops enforcing requestTimeout at close(), so what is still open requestTimeoutMs + handshakeTimeoutMs + 0.5 s later is destroyed (hunt 21)", async () => {
  const b = Keypair.fromSeed(new Uint8Array(32).fill(91));
  const server = createHandshakeServer(new KernelTrustExchange("kernel.b", b), { requestTimeoutMs: 400, handshakeTimeoutMs: 300 });
  const port = Number(new URL(await listen(server)).port);
  const sockets: ReturnType<typeof connect>[] = [];
  const trickles: ReturnType<typeof setInterval>[] = [];
  let received = 0; // bytes the server sent them: a 408 (a machine stalled before close()) and nothing else
  /** A connection that sends `head`, then one byte of `drip` every 100 ms, never finishing. */
  const trickle = async (head: string, drip: string) => {
    const socket = connect(port, "127.0.0.1");
    socket.on("error", () => {});
    socket.on("data", (chunk: Buffer) => (received += chunk.length));
    sockets.push(socket);
    await new Promise((resolve) => socket.once("connect", resolve));
    socket.write(head);
    trickles.push(setInterval(() => socket.writable && socket.write(drip), 100));
    return socket;
  };
  try {
    const body = await trickle("POST /federation/handshake HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 60000\r\n\r\n{", " ");
    const headers = await trickle("POST /federation/handshake HTTP/1.1\r\nHost: x\r\nX-Slow: ", "a");
    await pause(50);
    const started = Date.now();
    let closedAt = 0;
    server.close(() => (closedAt = Date.now()));
    // Old code: both held for as long as they kept sending (the timer that enforced
    // requestTimeoutMs stopped at close()), and close()'s callback never ran.
    for (let i = 0; i < 60 && closedAt === 0; i++) await pause(50);
    assert.ok(body.destroyed && headers.destroyed, "both trickling connections were ended");
    assert.ok(closedAt > 0, "close()'s callback ran");
    if (received === 0) assert.ok(closedAt - started >= 400 + 300, `not before the grace: ${closedAt - started} ms`);
  } finally {
    for (const timer of trickles) clearInterval(timer);
    for (const socket of sockets) socket.destroy();
    server.closeAllConnections();
  }
});

test("a client that pipelines requests and never reads their answers does not hold its connection: an answer not taken handshakeTimeoutMs + 0.5 s after it is made ends the connection (hunt 21)", async () => {
  const b = Keypair.fromSeed(new Uint8Array(32).fill(94));
  const server = createHandshakeServer(new KernelTrustExchange("kernel.b", b), { requestTimeoutMs: 1000, handshakeTimeoutMs: 500 });
  const port = Number(new URL(await listen(server)).port);
  const socket = connect(port, "127.0.0.1");
  socket.on("error", () => {});
  socket.pause(); // never reads
  try {
    await new Promise((resolve) => socket.once("connect", resolve));
    // Requests refused at once (400 MALFORMED_ENVELOPE, keep-alive), until their answers fill the
    // buffers and the server stops reading: this client's own buffer then grows. Under load (two
    // helpers' test runs beside this one, load average 10) filling them took more than 5 s.
    const requests = "POST /federation/handshake HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}".repeat(100);
    for (const end = Date.now() + 20_000; socket.writableLength < 1_000_000 && Date.now() < end; ) {
      socket.write(requests);
      await new Promise((resolve) => setImmediate(resolve));
    }
    assert.ok(socket.writableLength >= 1_000_000, "the server stopped reading");
    // Old code: every request was complete, so no timeout of Node's applied, and the connection
    // stayed open for as long as the client kept it (17 s and counting in the hunt).
    const count = () => new Promise<number>((resolve, reject) => server.getConnections((error, n) => (error ? reject(error) : resolve(n))));
    let open = await count();
    for (const end = Date.now() + 4000; open > 0 && Date.now() < end; ) open = (await pause(50), await count());
    assert.is(open, 0, "the server ended the connection whose answers were not taken");
  } finally {
    socket.destroy();
    await closeServer(server);
  }
});

test("every answer of the server, a 200, a refusal of the envelope and one before the body, says Cache-Control: no-store and application/json; charset=utf-8", async () => {
  // Hunt 65's mutation run: dropping Cache-Control: no-store from send() passed every test. An
  // answer is signed for one caller's nonce: a cache between the kernels that kept it would hand
  // it to the next caller, whose nonce it does not carry (STALE_ANSWER at best).
  const a = Keypair.fromSeed(new Uint8Array(32).fill(71));
  const b = Keypair.fromSeed(new Uint8Array(32).fill(72));
  const exchange = new KernelTrustExchange("kernel.b", b).withTrustedPeer("kernel.a", a.publicKey);
  const server = createHandshakeServer(exchange);
  const url = await listen(server);
  try {
    const body = JSON.stringify(new KernelTrustExchange("kernel.a", a).localEnvelope("kernel.b", "n-no-store"));
    const answers = [
      [await postJson(url, body), 200],
      [await postJson(url, body), 409], // the same nonce again: REPLAYED_NONCE
      [await fetch(url + "/federation/handshake"), 405], // refused before its body
    ] as const;
    for (const [response, status] of answers) {
      assert.is(response.status, status);
      assert.is(response.headers.get("cache-control"), "no-store", `${status}`);
      assert.is(response.headers.get("content-type"), "application/json; charset=utf-8", `${status}`);
      await response.arrayBuffer();
    }
  } finally {
    await closeServer(server);
  }
});

test("the client reads an answer up to its exchange's maxEnvelopeBytes by default: a raised bound takes a 70,000-byte answer, a lowered one refuses a normal answer RESPONSE_TOO_LARGE", async () => {
  // Hunt 65's mutation run: a fixed 65536 in place of the exchange's maxEnvelopeBytes as
  // maxResponseBytes's default passed every test (every exchange in them had the default bound).
  const a = Keypair.fromSeed(new Uint8Array(32).fill(73));
  const b = Keypair.fromSeed(new Uint8Array(32).fill(74));
  const serving = new KernelTrustExchange("kernel.b", b).withTrustedPeer("kernel.a", a.publicKey).withHardening({ maxEnvelopeBytes: 1 << 20 });
  const server = createHandshakeServer(serving, { maxBodyBytes: 1 << 20 });
  const url = await listen(server);
  try {
    const raised = new KernelTrustExchange("kernel.a", a).withTrustedPeer("kernel.b", b.publicKey).withHardening({ maxEnvelopeBytes: 1 << 20 });
    const nonce = "n".repeat(70_000); // both envelopes carry it: the answer is over 65,536 bytes
    const { peer } = await handshakeWith(url, raised, "kernel.b", { nonce });
    assert.is(peer.kernelId, "kernel.b");
    const lowered = new KernelTrustExchange("kernel.a", a).withTrustedPeer("kernel.b", b.publicKey).withHardening({ maxEnvelopeBytes: 64 });
    const refused = await rejectsWithCode(handshakeWith(url, lowered, "kernel.b"), "RESPONSE_TOO_LARGE");
    assert.match(refused.message, /answer over 64 bytes/);
  } finally {
    await closeServer(server);
  }
});

test.after(() => {
  for (const child of children) child.kill("SIGKILL");
  rmSync(dir, { recursive: true, force: true });
});

test.run();
