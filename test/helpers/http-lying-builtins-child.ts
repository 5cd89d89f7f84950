// Run by test/node/lying-builtins.test.ts in a child process of its own: the HTTP server's tables
// under replaced built-ins (README "Hardening"). The server keeps, per connection, the requests a
// 408 cut off (a WeakSet), the connections being closed after an error (a WeakSet), and each
// connection's unanswered requests (a WeakMap of Maps). With WeakSet's, WeakMap's and Map's
// methods replaced after load by versions that find nothing and keep nothing, a client sends a
// request's headers and the first bytes of its body, waits for the server's 408, and sends the
// rest of the body at once: the late body must pin nothing (the server never serves a request it
// answered 408). The server destroys such a connection CLOSE_LINGER_MS (500 ms) after the 408, and
// a late body that arrives after that is never read, which would pass without reaching the check
// this is about: the child records, on the server, whether the late body was read while its
// connection was open, and tries up to three times; if no try got that far, that is a failure.
// A control run with nothing replaced and a long request timeout shows the same late body,
// when no 408 came first, is accepted and pinned.
//
// Prints one JSON line: which replacements ran inside the server's calls, and what differed.
import { connect } from "node:net";
import type { AddressInfo } from "node:net";
import type { IncomingMessage } from "node:http";
import { createLies } from "./lies.js";
import { InMemoryPeerStore, KernelTrustExchange, Keypair } from "../../src/index.js";
import { createHandshakeServer } from "../../src/http/index.js";

const ran: Record<string, true> = Object.create(null) as Record<string, true>;
const lies = createLies((name) => {
  ran[name] = true;
});
const differed: string[] = [];
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const a = Keypair.fromSeed(new Uint8Array(32).fill(23));
const b = Keypair.fromSeed(new Uint8Array(32).fill(24));

/**
 * One connection to a fresh server (requestTimeoutMs `timeoutMs`): the headers and the first 10
 * bytes of a good envelope, then the rest as soon as a 408 arrives (or after `waitMs` when none
 * is expected). Resolves with what the server answered, the pin it holds afterwards, the
 * statuses its log hook heard, and whether it read the whole body while the connection was open.
 */
async function lateBody(timeoutMs: number, waitMs: number, watch: boolean): Promise<{ answer: string; pinned: boolean; logged: number[]; bodyRead: boolean }> {
  const store = new InMemoryPeerStore();
  const exchange = new KernelTrustExchange("kernel.b", b, { store }).withTrustedPeer("kernel.a", a.publicKey);
  const logged: number[] = [];
  const server = createHandshakeServer(exchange, { requestTimeoutMs: timeoutMs, onRequestError: (info) => void logged.push(info.status) });
  // Whether the whole body was read while its connection was still open (see the header).
  let bodyRead = false;
  server.on("request", (request: IncomingMessage) => request.once("end", () => (bodyRead ||= !request.socket.destroyed)));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  const good = JSON.stringify(new KernelTrustExchange("kernel.a", a).localEnvelope("kernel.b", `late-${timeoutMs}`));
  const socket = connect({ port, host: "127.0.0.1", allowHalfOpen: true });
  let answer = "";
  socket.setEncoding("utf8").on("data", (chunk: string) => (answer += chunk)).on("error", () => {});
  try {
    await new Promise((resolve) => socket.once("connect", resolve));
    lies.watching = watch;
    socket.write(`POST /federation/handshake HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(good)}\r\n\r\n${good.slice(0, 10)}`);
    for (let i = 0; i < waitMs / 10 && !answer.includes("408"); i++) await pause(10);
    socket.write(good.slice(10)); // at once: the server keeps reading a connection it answered until it closes
    for (let i = 0; i < 100 && !answer.includes("\r\n\r\n{"); i++) await pause(10);
    await pause(300);
    lies.watching = false;
    return { answer, pinned: (await store.get("kernel.a")) !== undefined, logged, bodyRead };
  } finally {
    lies.watching = false;
    socket.destroy();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
}

// The control, before any replacement: without a 408 the late body is a good request.
const control = await lateBody(10_000, 500, false);
if (!/^HTTP\/1\.1 200 /.test(control.answer) || !control.pinned || !control.bodyRead) differed.push(`control: a body completed in time was not accepted (${control.answer.split("\r\n")[0]})`);

// The replacements: tables that find nothing and keep nothing.
lies.replace(WeakSet.prototype, "has", "WeakSet.prototype.has", () => () => false);
lies.replace(WeakSet.prototype, "add", "WeakSet.prototype.add", () => function (this: unknown) {
  return this;
});
lies.replace(WeakMap.prototype, "get", "WeakMap.prototype.get", () => () => undefined);
lies.replace(WeakMap.prototype, "set", "WeakMap.prototype.set", () => function (this: unknown) {
  return this;
});
lies.replace(WeakMap.prototype, "has", "WeakMap.prototype.has", () => () => false);
lies.replace(Map.prototype, "get", "Map.prototype.get", () => () => undefined);
lies.replace(Map.prototype, "set", "Map.prototype.set", () => function (this: unknown) {
  return this;
});
lies.replace(Map.prototype, "delete", "Map.prototype.delete", () => () => false);
lies.replace(Map.prototype, "entries", "Map.prototype.entries", () => () => [][Symbol.iterator]());

let cut = await lateBody(300, 3000, true);
for (let attempt = 1; attempt < 3 && !cut.bodyRead; attempt++) cut = await lateBody(300, 3000, true);
lies.restoreAll();
if (!cut.bodyRead) differed.push("in three tries, the late body never arrived while its connection was open: the check was not reached");
if (!/^HTTP\/1\.1 408 [\s\S]*"REQUEST_TIMEOUT"/.test(cut.answer)) differed.push(`no 408 for the request cut off: ${JSON.stringify(cut.answer.slice(0, 80))}`);
if (cut.pinned) differed.push("the body that arrived after the 408 was accepted and pinned");
if (/HTTP\/1\.1 200 /.test(cut.answer)) differed.push("the request answered 408 was answered 200 as well");
if (cut.logged.join() !== "408") differed.push(`the log hook heard ${cut.logged.join(", ")}, not one 408`);

console.log(JSON.stringify({ ran: Object.keys(ran), differed }));
