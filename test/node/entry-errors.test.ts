// Every error a call through an entry throws is of a class that entry exports, so a user of a
// sub-entry can tell errors apart with `instanceof` without importing another entry (review 91
// F8: chio-trust/canonical and chio-trust/handshake threw InvalidLengthError, chio-trust/postgres
// InvalidConfigError, and neither entry exported it). Each case provokes a real error through the
// entry's own API (no server is needed: the option checks run before any connection), and the
// classes are checked to be the main entry's own objects, not copies.
import { test } from "uvu";
import * as assert from "uvu/assert";
import * as main from "../../src/index.js";
import * as canonical from "../../src/canonical/index.js";
import * as handshake from "../../src/handshake/index.js";
import * as pool from "../../src/pool/index.js";
import * as httpClient from "../../src/http/client-entry.js";
import * as http from "../../src/http/index.js";
import * as postgres from "../../src/stores/postgres.js";
import * as redis from "../../src/stores/redis.js";
import * as sqlite from "../../src/stores/sqlite/index.js";

type Entry = Record<string, unknown>;

/** The error `run` throws or rejects with; fails the test if it returns normally. */
async function caught(run: () => unknown): Promise<Error> {
  try {
    await run();
  } catch (error) {
    return error as Error;
  }
  throw new Error("expected an error");
}

/** Asserts that the error's class is one of the entry's exports, by identity. */
function assertExported(entry: Entry, entryName: string, error: Error, what: string): void {
  const exported = Object.values(entry).includes(error.constructor);
  assert.ok(exported, `${entryName}: ${what} threw ${error.constructor.name} (${String((error as { code?: unknown }).code)}), which the entry does not export`);
}

/**
 * handshakeWith against an in-process fetch (the client's own option) whose answer is a real
 * envelope from a kernel this side has no anchor for: refused here with PeerHandshakeError
 * (review 94 F2: neither HTTP entry exported that class).
 */
async function answeredByUntrusted(handshakeWith: typeof httpClient.handshakeWith): Promise<unknown> {
  const ours = new handshake.KernelTrustExchange("kernel.a", handshake.Keypair.fromSeed(new Uint8Array(32).fill(1)));
  const theirs = new handshake.KernelTrustExchange("kernel.b", handshake.Keypair.fromSeed(new Uint8Array(32).fill(2)));
  const fetch = async (_url: unknown, init?: { body?: unknown }): Promise<Response> => {
    const sent = JSON.parse(String(init?.body));
    const answer = theirs.localEnvelope("kernel.a", sent.challenge.nonce);
    return new Response(answer.toJSONText(), { status: 200, headers: { "content-type": "application/json" } });
  };
  return handshakeWith("http://127.0.0.1:9", ours, "kernel.b", { fetch: fetch as typeof globalThis.fetch });
}

const cases: [string, Entry, string, () => unknown][] = [
  ["chio-trust/canonical", canonical, "maxDepth over its limit", () => canonical.canonicalize(1, { maxDepth: 1001 })],
  ["chio-trust/canonical", canonical, "a non-string, non-bytes JSON input", () => canonical.canonicalizeJson(5 as never)],
  ["chio-trust/canonical", canonical, "malformed JSON text", () => canonical.canonicalizeJson("{")],
  ["chio-trust/canonical", canonical, "an unknown option", () => canonical.canonicalizeJson("{}", { maxDepht: 3 } as never)],
  ["chio-trust/handshake", handshake, "a short key in hex", () => handshake.PublicKey.fromHex("zz")],
  ["chio-trust/handshake", handshake, "a key of non-hex digits", () => handshake.PublicKey.fromHex("z".repeat(64))],
  ["chio-trust/handshake", handshake, "a short seed", () => handshake.Keypair.fromSeed(new Uint8Array(31))],
  ["chio-trust/handshake", handshake, "an envelope that is not bytes or text", () => handshake.verifyEnvelopeBytes(5 as never)],
  ["chio-trust/handshake", handshake, "a malformed envelope's parse", () => handshake.PeerHandshakeEnvelope.fromJSON("{")],
  ["chio-trust/pool", pool, "an unknown option", () => pool.createVerifierPool({ thread: 2 } as never)],
  ["chio-trust/pool", pool, "zero threads", () => pool.createVerifierPool({ threads: 0 })],
  ["chio-trust/http/client", httpClient, "a URL that is not a string", () => httpClient.handshakeWith(5 as never, undefined as never, undefined as never)],
  ["chio-trust/http", http, "server options that are not an object", () => http.createHandshakeServer(5 as never)],
  ["chio-trust/http/client", httpClient, "an answer signed by a key this side does not trust (PeerHandshakeError)", () => answeredByUntrusted(httpClient.handshakeWith)],
  ["chio-trust/http", http, "an answer signed by a key this side does not trust (PeerHandshakeError)", () => answeredByUntrusted(http.handshakeWith)],
  ["chio-trust/postgres", postgres, "a misspelt option", () => postgres.PostgresPeerStore.open("postgres://chio@127.0.0.1:1/chio", { tablePrefx: "x" } as never)],
  ["chio-trust/postgres", postgres, "options that are not an object", () => postgres.PostgresReplayStore.open("postgres://chio@127.0.0.1:1/chio", 5 as never)],
  ["chio-trust/postgres", postgres, "a connection string that is not a URL (pg resolved it against postgres://base)", () => postgres.PostgresPeerStore.open("not a url")],
  ["chio-trust/redis", redis, "a misspelt option", () => redis.RedisPeerStore.open("redis://127.0.0.1:1", { keyPrefx: "x" } as never)],
  ["chio-trust/redis", redis, "a URL that is not a string or client", () => redis.RedisReplayStore.open(5 as never)],
  ["chio-trust/sqlite", sqlite, "a path that is not a string", () => new sqlite.SqlitePeerStore(5 as never)],
];

for (const [entryName, entry, what, run] of cases) {
  test(`${entryName}: ${what} throws a class the entry exports`, async () => {
    const error = await caught(run);
    assert.ok(error instanceof Error, "an Error");
    assert.type((error as { code?: unknown }).code, "string", `a typed error with a code (${error.constructor.name}: ${error.message})`);
    assertExported(entry, entryName, error, what);
  });
}

test("chio-trust/postgres: a connection string is a URL with an authority (any scheme, as pg takes it), a socket: URL, a socket path or \"\" (pg's PG* variables); other text is INVALID_CONFIG before any connection, and is not repeated", async () => {
  // pg resolves other text against "postgres://base": it was STORE_UNAVAILABLE "getaddrinfo
  // ENOTFOUND base" (helper 135's walkthrough). No server listens on port 1: a string let through
  // fails to connect (STORE_UNAVAILABLE or STORE_TIMEOUT), never INVALID_CONFIG.
  for (const text of ["not a url", "db.example:5432/chio", "host=127.0.0.1 dbname=chio password=s3cret", "chio:s3cret@127.0.0.1:1/chio", "postgres:chio@127.0.0.1"]) {
    for (const open of [postgres.PostgresPeerStore.open, postgres.PostgresReplayStore.open]) {
      const error = (await caught(() => open.call(undefined, text, { operationTimeoutMs: 200 }))) as { code?: unknown; message: string };
      assert.is(error.code, "INVALID_CONFIG", `${JSON.stringify(text)}: ${error.message}`);
      assert.not.ok(text !== "" && error.message.includes(text), "the string is not repeated");
      assert.not.ok(error.message.includes("s3cret"));
    }
  }
  // Accepted as pg accepts them (a review of the first version, which refused pg://, postgis://,
  // cockroachdb:// and ""): "" with PGHOST and PGPORT pointing at port 1.
  const saved = { PGHOST: process.env.PGHOST, PGPORT: process.env.PGPORT };
  process.env.PGHOST = "127.0.0.1";
  process.env.PGPORT = "1";
  try {
    const accepted = ["postgres://chio@127.0.0.1:1/chio", "POSTGRESQL://chio@127.0.0.1:1/chio", "pg://chio@127.0.0.1:1/chio", "postgis://chio@127.0.0.1:1/chio", "cockroachdb://chio@127.0.0.1:1/chio", "socket:/tmp/nowhere?db=chio", "/tmp/nowhere chio", ""];
    for (const text of accepted) {
      const error = (await caught(() => postgres.PostgresPeerStore.open(text, { operationTimeoutMs: 200 }))) as { code?: unknown; message: string };
      assert.ok(error.code === "STORE_UNAVAILABLE" || error.code === "STORE_TIMEOUT", `${JSON.stringify(text)}: ${String(error.code)} ${error.message}`);
    }
  } finally {
    for (const [name, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  }
});

test("the shared classes an entry re-exports are the main entry's own objects", () => {
  const shared = ["InvalidTypeError", "InvalidLengthError", "InvalidHexError", "WasmCoreError", "RandomSourceError", "PreparedSecretKeyError", "CanonicalJsonError"];
  const entries: [string, Entry][] = [["canonical", canonical], ["handshake", handshake], ["pool", pool], ["http/client", httpClient], ["http", http], ["postgres", postgres], ["redis", redis]];
  let compared = 0;
  for (const [name, entry] of entries) {
    for (const cls of shared) {
      if (!(cls in entry)) continue;
      assert.is(entry[cls], (main as Entry)[cls], `${name}.${cls}`);
      compared++;
    }
    for (const cls of ["InvalidConfigError", "InvalidTimeError"]) {
      if (cls in entry) {
        assert.is(entry[cls], (handshake as Entry)[cls], `${name}.${cls}`);
        compared++;
      }
    }
  }
  assert.ok(compared >= 20, `compared ${compared}`);
});

test.run();
