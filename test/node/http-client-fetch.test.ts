// handshakeWith with a caller's own `fetch` (HandshakeClientOptions.fetch), against real
// node:http servers on 127.0.0.1 that misbehave: the bounds the client promises (timeoutMs, the
// answer's byte limit) hold whatever that fetch does with the signal and whatever its Response
// body yields. The wrappers here are the slips a user's wrapper makes: one that does not pass the
// signal on, one that re-wraps the answer as text for logging.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { createServer } from "node:http";
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { KernelTrustExchange, Keypair } from "../../src/index.js";
import { handshakeWith, HandshakeHttpError } from "../../src/http/index.js";
import { closeServer, listen } from "../helpers/http-servers.js";


const exchangeA = () => new KernelTrustExchange("kernel.a", Keypair.fromSeed(new Uint8Array(32).fill(91))).withTrustedPeer("kernel.b", Keypair.fromSeed(new Uint8Array(32).fill(92)).publicKey);

/**
 * The HandshakeHttpError `promise` rejects with, or a failed assertion once `limitMs` has passed
 * without it settling (a liveness bound far above the timeoutMs used: not a speed check).
 */
async function settledFailure(promise: Promise<unknown>, limitMs: number): Promise<HandshakeHttpError> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const hung = new Promise<"hung">((resolve) => (timer = setTimeout(() => resolve("hung"), limitMs)));
  try {
    const outcome = await Promise.race([promise.then(() => "fulfilled" as const, (error: unknown) => error), hung]);
    if (outcome === "hung") assert.unreachable(`not settled ${limitMs} ms after the call`);
    assert.instance(outcome, HandshakeHttpError, String(outcome));
    return outcome as HandshakeHttpError;
  } finally {
    clearTimeout(timer);
  }
}

test("timeoutMs holds for a fetch that does not pass the signal on: before the headers and while the body stalls (TIMEOUT, nothing pinned)", async () => {
  const a = exchangeA();
  // A wrapper that drops the signal: undici then waits 300 s for headers or between body chunks.
  const signalDropped: typeof fetch = (url, init) => fetch(url, { ...init, signal: undefined });
  const silent = createServer((q) => q.resume()); // never answers
  const stalled = createServer((q, s) => (q.resume(), s.writeHead(200, { "content-type": "application/json" }).write("{"))); // headers, then nothing
  const [silentUrl, stalledUrl] = await Promise.all([listen(silent), listen(stalled)]);
  try {
    const before = await settledFailure(handshakeWith(silentUrl, a, "kernel.b", { timeoutMs: 300, fetch: signalDropped }), 5000);
    assert.is(before.code, "TIMEOUT", before.message);
    assert.is(before.status, undefined);
    const during = await settledFailure(handshakeWith(stalledUrl, a, "kernel.b", { timeoutMs: 300, fetch: signalDropped }), 5000);
    assert.is(during.code, "TIMEOUT", during.message);
    assert.is(during.status, 200, "the headers came");
  } finally {
    await Promise.all([silent, stalled].map(closeServer));
  }
  assert.equal(await a.peers(), []);
});

test("the answer's byte limit holds for a fetch whose body yields something other than bytes: refused at its first chunk (NETWORK_ERROR), not read without bound", async () => {
  const a = exchangeA();
  // A wrapper that re-wraps the answer's body as text (to log it, say): its chunks are strings,
  // which have no byteLength; the limit counted them as NaN and never refused (fatal OOM against
  // a server that does not stop).
  const asText: typeof fetch = async (url, init) => {
    const response = await fetch(url, init);
    return new Response(response.body!.pipeThrough(new TextDecoderStream()), { status: response.status, headers: response.headers });
  };
  const endless = createServer((q, s) => {
    q.resume();
    s.writeHead(200, { "content-type": "application/json" });
    const timer = setInterval(() => s.write(" ".repeat(16384)), 5);
    s.on("close", () => clearInterval(timer));
  });
  const url = await listen(endless);
  try {
    const error = await settledFailure(handshakeWith(url, a, "kernel.b", { timeoutMs: 2000, maxResponseBytes: 65536, fetch: asText }), 10_000);
    assert.is(error.code, "NETWORK_ERROR", error.message);
    assert.match(error.message, /not a Uint8Array/);
    assert.is(error.status, 200);
  } finally {
    await closeServer(endless);
  }
  assert.equal(await a.peers(), []);
});

test("an answer that comes after timeoutMs from a fetch that does not pass the signal on has its body cancelled: its connection is not held for undici's 300 s body limit", async () => {
  const a = exchangeA();
  const signalDropped: typeof fetch = (url, init) => fetch(url, { ...init, signal: undefined });
  let closed!: () => void;
  const connectionClosed = new Promise<void>((resolve) => (closed = resolve));
  // Headers 400 ms after the request (past timeoutMs 200), then a space every 100 ms, for ever.
  const late = createServer((q, s) => {
    q.resume();
    const timer = setTimeout(() => s.writeHead(200, { "content-type": "application/json" }).write(" "), 400);
    const trickle = setInterval(() => s.headersSent && s.write(" "), 100);
    s.on("close", () => (clearTimeout(timer), clearInterval(trickle), closed()));
  });
  const url = await listen(late);
  try {
    const error = await settledFailure(handshakeWith(url, a, "kernel.b", { timeoutMs: 200, fetch: signalDropped }), 5000);
    assert.is(error.code, "TIMEOUT", error.message);
    // A liveness bound (the old client held it until undici gave up, 300 s on), not a speed check.
    let bound: ReturnType<typeof setTimeout> | undefined;
    const held = await Promise.race([connectionClosed.then(() => false), new Promise<boolean>((resolve) => (bound = setTimeout(() => resolve(true), 5000)))]);
    clearTimeout(bound);
    assert.not.ok(held, "the late answer's connection was still open 5 s after its headers");
  } finally {
    await closeServer(late);
  }
  assert.equal(await a.peers(), []);
});

test("a fetch that returns a thenable has its `then` called once, timeout included: a lazy one (a request builder's) is not sent twice", async () => {
  const a = exchangeA();
  let thens = 0;
  let requests = 0;
  // Each `then` starts the request, as a lazy request builder does; it ignores the signal.
  const lazy = ((url: URL, init: RequestInit) => ({
    then(ok: (response: Response) => void, failed: (error: unknown) => void) {
      thens++;
      fetch(url, { ...init, signal: undefined }).then(ok, failed);
    },
  })) as unknown as typeof fetch;
  // Answers 400 ms after each request: past timeoutMs 150, so the late answer is cancelled.
  const slow = createServer((q, s) => (requests++, q.resume(), setTimeout(() => s.writeHead(500).end("no"), 400)));
  const url = await listen(slow);
  try {
    const error = await settledFailure(handshakeWith(url, a, "kernel.b", { timeoutMs: 150, fetch: lazy }), 5000);
    assert.is(error.code, "TIMEOUT", error.message);
    await new Promise((resolve) => setTimeout(resolve, 700)); // past the late answer
    assert.is(thens, 1, "the thenable's then");
    assert.is(requests, 1, "requests the server saw");
  } finally {
    await closeServer(slow);
  }
});

test("an exchange whose hardening holds the wrong types is INVALID_TYPE naming the exchange, before anything is sent", async () => {
  let calls = 0;
  const counting = (() => (calls++, Promise.reject(new Error("not to be called")))) as unknown as typeof fetch;
  const real = exchangeA().hardening;
  for (const hardening of [{}, 5, { ...real, maxEnvelopeBytes: "65536" }, { ...real, maxEnvelopeBytes: 0 }, { ...real, rejectWeakKeys: "yes" }, { ...real, escapeDelAndC1: 1 }]) {
    const foreign = { localEnvelope: () => ({}), acceptEnvelope: () => undefined, hardening } as unknown as KernelTrustExchange;
    for (const options of [{}, { maxResponseBytes: 1000 }]) {
      const error = await handshakeWith("http://127.0.0.1:9/", foreign, "kernel.b", { ...options, fetch: counting }).then(() => undefined, (e: unknown) => e as { code?: string; message?: string });
      assert.is(error?.code, "INVALID_TYPE", `${JSON.stringify(hardening)}: ${error?.message}`);
      assert.match(String(error?.message), /exchange must be a KernelTrustExchange/);
    }
  }
  assert.is(calls, 0, "fetch calls");
  // The same shape with a real exchange's hardening gets as far as the fetch.
  const copied = { localEnvelope: () => ({}), acceptEnvelope: () => undefined, hardening: { ...real } } as unknown as KernelTrustExchange;
  const error = await handshakeWith("http://127.0.0.1:9/", copied, "kernel.b", { fetch: counting }).then(() => undefined, (e: unknown) => e as { code?: string });
  assert.is(error?.code, "NETWORK_ERROR");
  assert.is(calls, 1, "fetch calls");
});

test("timeoutMs holds in a process with nothing else to wait for: a fetch that never settles and holds no handle is TIMEOUT, not an exit before it", () => {
  // AbortSignal.timeout's timer does not keep the event loop alive: the child exited at once with
  // code 13 (a top-level await left pending), its TIMEOUT never reported.
  const client = JSON.stringify(fileURLToPath(new URL("../../src/http/index.ts", import.meta.url)));
  const lib = JSON.stringify(fileURLToPath(new URL("../../src/index.ts", import.meta.url)));
  const code = `const { handshakeWith } = await import(${client});
const { KernelTrustExchange, Keypair } = await import(${lib});
const a = new KernelTrustExchange("kernel.a", Keypair.fromSeed(new Uint8Array(32).fill(91)));
const started = Date.now();
try {
  await handshakeWith("http://127.0.0.1:9/", a, "kernel.b", { timeoutMs: 300, fetch: () => new Promise(() => {}) });
  console.log("fulfilled");
} catch (error) {
  console.log(error.code, Date.now() - started >= 290);
}`;
  const r = spawnSync(process.execPath, ["--import", "tsx", "--input-type=module", "-e", code], { encoding: "utf8", timeout: 30_000 });
  assert.is(r.stdout.trim(), "TIMEOUT true", r.stderr);
  assert.is(r.status, 0, r.stderr);
});

test.run();
