// Built-ins replaced after chio-trust loaded change no verdict of the Postgres and Redis stores,
// on real servers (README "Hardening"; the in-memory stores and the exchange are covered by
// test/node/lying-builtins.test.ts). The child (helpers/shared-stores-lying-builtins-child.ts)
// runs each case first without the lie, then with it, and reads back what the servers hold with
// fresh stores and raw clients after restoring the built-ins: a JSON.stringify that answers
// '"lie"' (the old key's envelope is still refused UNEXPECTED_PEER_KEY, and no pin is written
// under another id), one that differs from call to call (a replay is still REPLAYED_NONCE), a
// toJSON on Object.prototype (the pin of the new key holds the new key), lies that emptied or
// skipped the Redis server check on an allkeys-lru server (String.prototype.startsWith,
// Array.prototype.find and push, Promise.all, RegExp.prototype.test: still EVICTING_ENGINE), a
// Promise.prototype.finally that rewrote Redis's replies (a replay still REPLAYED_NONCE), a
// Math.min that shortened a pair's TTL, accessors for `cause` and `code` on Object.prototype
// (a Postgres write of unknown outcome stays STORE_TIMEOUT, not a lost race), a Set iterator that
// yields nothing (a reconnection to a server now evicting is checked at once), and an
// Object.getPrototypeOf that made an error's prototype walk endless (a call while the server is
// paused ends in STORE_TIMEOUT, not a hang).
//
// A lie may still run inside pg or node-redis (their own JSON.stringify, push, finally, ...): the
// library cannot take the drivers' built-ins at load, so for those only the outcome is asserted;
// none may run from the library's own code (src/).
//
// Against the code before this test (16d6697, 6 December 2026), 24 results differed (the old key
// accepted and pinned under the id "lie", replays accepted, a pin holding the old key, stores
// opened on allkeys-lru, a 1 s TTL, writes of unknown outcome read as lost races, a reconnection
// left unchecked), 11 replaced built-ins ran from src/stores/, and the Object.getPrototypeOf case
// spun until the parent killed it.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { startPostgres, startRedis, type TestServer } from "./helpers/servers.js";

const child = fileURLToPath(new URL("./helpers/shared-stores-lying-builtins-child.ts", import.meta.url));
let servers: Promise<[TestServer, TestServer]> | undefined;
const started = () => (servers ??= Promise.all([startPostgres(), startRedis()]));

interface ChildResult {
  differed: string[];
  ran: Record<string, string[]>;
}

/** Runs the child with `args`; a child killed at its timeout (a hang) is reported as a result that differed. */
async function runChild(args: string[], timeoutMs: number): Promise<ChildResult> {
  const [postgres, redis] = await started();
  const run = spawnSync(process.execPath, ["--import", "tsx", child, ...args], {
    encoding: "utf8",
    timeout: timeoutMs,
    killSignal: "SIGKILL", // a spinning thread runs no handler
    env: { ...process.env, CHIO_PG_URL: postgres.url, CHIO_REDIS_URL: redis.url },
  });
  if (run.signal !== null) return { differed: [`the child (${args.join(" ") || "main"}) did not end within ${timeoutMs} ms (${run.signal}): it hung`], ran: {} };
  const last = run.stdout.trim().split("\n").pop() ?? "";
  assert.is(run.status, 0, `child failed: ${run.stderr}`);
  return JSON.parse(last) as ChildResult;
}

/** The replacements that ran from the library's own code (src/), by name and file. */
const fromLibrary = (result: ChildResult): string[] =>
  Object.entries(result.ran).flatMap(([name, kinds]) => kinds.filter((kind) => kind.startsWith("library")).map((kind) => `${name} from ${kind}`));

test("replaced built-ins change no verdict, pin or server check of the Postgres and Redis stores, and none runs in the library", async () => {
  const result = await runChild([], 60_000);
  assert.equal(result.differed, [], `results that differed:\n${result.differed.join("\n")}`);
  assert.equal(fromLibrary(result), [], "replaced built-ins that ran from src/");
});

test("an Object.getPrototypeOf that never reaches null does not hang a Redis call (STORE_TIMEOUT)", async () => {
  const result = await runChild(["hang"], 20_000);
  assert.equal(result.differed, [], `results that differed:\n${result.differed.join("\n")}`);
  assert.equal(fromLibrary(result), [], "replaced built-ins that ran from src/");
});

test("stop the servers", async () => {
  if (servers) await Promise.all((await servers).map((server) => server.dispose()));
});

test.run();
