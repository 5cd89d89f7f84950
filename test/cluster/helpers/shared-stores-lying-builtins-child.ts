// Run by test/cluster/shared-stores-lying-builtins.test.ts in a child process of its own, against
// the real PostgreSQL and Redis servers the parent started (CHIO_PG_URL, CHIO_REDIS_URL). After
// chio-trust has loaded, it replaces one built-in at a time with a version that answers wrongly
// (the routes an audit found through the Postgres and Redis stores: JSON.stringify,
// Object.prototype.toJSON, String.prototype.startsWith, Array.prototype.push, Promise.all,
// RegExp.prototype.test, Math.min, Promise.prototype.finally, Object.getPrototypeOf), runs store
// operations and exchange accepts under it, restores it, and reads back what the servers hold
// with fresh stores and raw clients. Each outcome under a lie is compared with the same
// operation's outcome without it (run first, on the same servers) and with what the protocol
// demands (README "Hardening"). It prints one JSON line: which results differed, and which
// replacements ran from the library's own code (src/), from a driver (pg, node-redis) or only
// from Node's internals. With the argument `hang` it runs the Object.getPrototypeOf case alone:
// at 16d6697 that case spun for ever, so the parent runs it in a process it can kill.
import { createClient } from "redis";
import pg from "pg";
import { FederationPeer, KernelTrustExchange, Keypair, PeerHandshakeEnvelope } from "../../../src/index.js";
import { PostgresPeerStore, PostgresReplayStore } from "../../../src/stores/postgres.js";
import { RedisPeerStore, RedisReplayStore } from "../../../src/stores/redis.js";
import { createLies } from "../../helpers/lies.js";
import { keyHex, sqlAt, withRawAt } from "./clients.js";

// This script's own tools, taken before anything is replaced.
const apply = Reflect.apply;
const defineProperty = Object.defineProperty;
const stringify = JSON.stringify;
const parse = JSON.parse;
const hasOwn = Object.hasOwn;
const ErrorAtLoad = Error;
const originalStartsWith = String.prototype.startsWith;
const stackOf = (): string => new ErrorAtLoad().stack ?? "";
ErrorAtLoad.stackTraceLimit = 40;

const pgUrl = process.env.CHIO_PG_URL!;
const redisUrl = process.env.CHIO_REDIS_URL!;
const SRC = new URL("../../../src/", import.meta.url).pathname;
const OWN_CHILD = new URL(import.meta.url).pathname;

/** Where each replacement ran while watching: "library" (src/), "driver" (node_modules), "node" (only Node's internals). */
const ran: Record<string, Record<string, true>> = Object.create(null);
const differed: string[] = [];
const lies = createLies((name) => {
  lies.watching = false;
  const kind = callerKind(stackOf());
  (ran[name] ??= Object.create(null))[kind] = true;
  if (process.env.LYING_TRACE) console.error(name, kind);
  lies.watching = true;
});
const replace = lies.replace;
/** test/helpers/lies.ts, whose wrapper is the replacement's own frame, as this script's are. */
const LIES_MODULE = new URL("../../helpers/lies.ts", import.meta.url).pathname;

/** The first frame after the replacement's own that is a file (not native, not node:): who called it. */
function callerKind(stack: string): string {
  const lines = stack.split("\n");
  for (let i = 2; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.includes(OWN_CHILD) || line.includes(LIES_MODULE)) continue; // the replacement's own wrapper and lie
    const file = /\((?:file:\/\/)?(\/[^):]+)[^)]*\)$|at (?:file:\/\/)?(\/[^:]+):\d+:\d+$/.exec(line);
    if (!file) continue;
    const path = file[1] ?? file[2]!;
    if (apply(originalStartsWith, path, [SRC])) return `library ${path.slice(SRC.length)}`;
    if (path.includes("/node_modules/")) return "driver";
  }
  return "node";
}

/** Defines an accessor `key` on Object.prototype answering `value`, recording who read it while watching. */
function accessorOnObjectPrototype(key: string, name: string, value: unknown): void {
  lies.remember(Object.prototype, key);
  defineProperty(Object.prototype, key, {
    configurable: true,
    get() {
      if (!lies.watching) return undefined;
      lies.watching = false;
      (ran[name] ??= Object.create(null))[callerKind(stackOf())] = true;
      lies.watching = true;
      return value;
    },
    set(this: object, written: unknown) {
      defineProperty(this, key, { value: written, writable: true, enumerable: true, configurable: true });
    },
  });
}


/** Runs `body` with the replacements `install` makes in place, then restores them. */
async function underLies<R>(install: () => void, body: () => Promise<R>): Promise<R> {
  install();
  lies.watching = true;
  try {
    return await body();
  } finally {
    lies.watching = false;
    lies.restoreAll();
  }
}

// ---- keys, envelopes and outcomes, made before anything is replaced ----
const newKey = Keypair.fromSeed(new Uint8Array(32).fill(7)); // kernel-b's current key
const oldKey = Keypair.fromSeed(new Uint8Array(32).fill(9)); // its retired key, still an anchor
const keyA = Keypair.fromSeed(new Uint8Array(32).fill(8));
const NEW_HEX = newKey.publicKey.toHex();
const OLD_HEX = oldKey.publicKey.toHex();
const NOW = Math.floor(Date.now() / 1000);
let nonces = 0;
/** A fresh envelope from kernel-b to kernel-a, as JSON text. */
function envelope(signer: Keypair): string {
  const nonce = (++nonces).toString(16).padStart(32, "0");
  return stringify(PeerHandshakeEnvelope.sign("kernel-b", "kernel-a", nonce, NOW, signer).toJSON());
}

/** "accepted <key>" or "refused <code>[ (cause code)]": the outcome of an accept or a store call. */
async function outcome(call: () => Promise<unknown>): Promise<string> {
  try {
    const result = (await call()) as FederationPeer | undefined;
    return result && typeof result === "object" && "publicKey" in result ? `accepted ${result.publicKey.toHex()}` : `ok ${String(result)}`;
  } catch (error) {
    // Own members only: some cases put accessors for `cause` and `code` on Object.prototype.
    const e = error as { code?: string; cause?: { code?: string } };
    const code = hasOwn(e, "code") ? e.code : undefined;
    const cause = hasOwn(e, "cause") && e.cause !== null && typeof e.cause === "object" && hasOwn(e.cause, "code") ? e.cause.code : undefined;
    return `refused ${code}${cause ? ` (${cause})` : ""}`;
  }
}

function expect(label: string, got: string, wanted: string): void {
  if (got !== wanted) differed.push(`${label}: ${got}, expected ${wanted}`);
}

type Engine = "postgres" | "redis";
let spaces = 0;
interface Stores {
  peers: PostgresPeerStore | RedisPeerStore;
  replay: PostgresReplayStore | RedisReplayStore;
  name: string;
  close(): Promise<void>;
}
async function openStores(engine: Engine): Promise<Stores> {
  const name = `lie${process.pid}x${++spaces}`;
  if (engine === "postgres") {
    const peers = await PostgresPeerStore.open(pgUrl, { tablePrefix: `${name}_` });
    const replay = await PostgresReplayStore.open(pgUrl, { tablePrefix: `${name}_`, sweepEvery: 0 });
    return { peers, replay, name, close: async () => void (await Promise.all([peers.close(), replay.close()])) };
  }
  const peers = await RedisPeerStore.open(redisUrl, { namespace: name });
  const replay = await RedisReplayStore.open(redisUrl, { namespace: name });
  return { peers, replay, name, close: async () => void (await Promise.all([peers.close(), replay.close()])) };
}
const exchangeOn = (stores: Stores, anchors: unknown) =>
  new KernelTrustExchange("kernel-a", keyA, { store: stores.peers, replayStore: stores.replay, trustedPeers: anchors } as never);
const ROTATING = [["kernel-b", [oldKey.publicKey, newKey.publicKey]]];

// Raw clients, as the other cluster suites take them (./clients.ts), on this run's servers.
const withRedis = <R>(fn: (client: ReturnType<typeof createClient>) => Promise<R>): Promise<R> => withRawAt(redisUrl, fn);
const sql = (text: string): Promise<any[]> => sqlAt(pgUrl, text);

/** What each engine holds for kernel-b's pins, read with raw clients: "<stored id> <key>" per pin. */
async function storedPins(engine: Engine, stores: Stores): Promise<string> {
  if (engine === "postgres") {
    const rows = await sql(`SELECT kernel_id, public_key FROM ${stores.name}_peers ORDER BY kernel_id`);
    return rows.map((r) => `${r.kernel_id} ${r.public_key}`).join("; ");
  }
  const hash = await withRedis((c) => c.hGetAll(`${stores.name}:peers`));
  return Object.keys(hash).sort().map((field) => `${field} ${(parse(hash[field]!) as { publicKey: string }).publicKey}`).join("; ");
}

/** The pin read back through a fresh store, opened after the built-ins were restored. */
async function pinThroughFreshStore(engine: Engine, stores: Stores): Promise<string> {
  const fresh = engine === "postgres" ? await PostgresPeerStore.open(pgUrl, { tablePrefix: `${stores.name}_` }) : await RedisPeerStore.open(redisUrl, { namespace: stores.name });
  try {
    const pin = await fresh.get("kernel-b");
    return pin === undefined ? "no pin" : pin.publicKey.toHex();
  } finally {
    await fresh.close();
  }
}

// ---- the cases ----

/** JSON.stringify answering '"lie"' for everything: every id collided, so the pin on the new key was not found. */
async function stringifyAnswersLie(engine: Engine): Promise<void> {
  const label = `${engine}, JSON.stringify answers '"lie"'`;
  const stores = await openStores(engine);
  try {
    const exchange = exchangeOn(stores, ROTATING);
    const first = envelope(newKey);
    expect(`${label}: the new key's first handshake`, await outcome(() => exchange.acceptEnvelope(first, "kernel-b", NOW)), `accepted ${NEW_HEX}`);
    const control = await outcome(() => exchange.acceptEnvelope(envelope(oldKey), "kernel-b", NOW));
    expect(`${label}: the old key without the lie`, control, "refused UNEXPECTED_PEER_KEY");
    const old = envelope(oldKey);
    const underLie = await underLies(
      () => replace(JSON, "stringify", "JSON.stringify", () => () => '"lie"'),
      () => outcome(() => exchange.acceptEnvelope(old, "kernel-b", NOW)),
    );
    expect(`${label}: the old key (rotation moves forward only)`, underLie, control);
    const replayed = await underLies(
      () => replace(JSON, "stringify", "JSON.stringify", () => () => '"lie"'),
      () => outcome(() => exchange.acceptEnvelope(first, "kernel-b", NOW + 1)),
    );
    expect(`${label}: a replay of the first handshake`, replayed, "refused REPLAYED_NONCE");
    expect(`${label}: pins on the server`, await storedPins(engine, stores), `"kernel-b" ${NEW_HEX}`);
    expect(`${label}: the pin through a fresh store`, await pinThroughFreshStore(engine, stores), NEW_HEX);
  } finally {
    await stores.close();
  }
}

/** A JSON.stringify that is no function of its input: every call gave a new key, so a replay was reserved as new. */
function stringifyChangesEachCall(engine: Engine): Promise<void> {
  let calls = 0;
  return replayRefusedUnderLie(engine, `${engine}, JSON.stringify differs from call to call`, () =>
    replace(JSON, "stringify", "JSON.stringify", (original) => function (this: unknown, value: unknown, ...rest: unknown[]) {
      return typeof value === "string" ? apply(original, JSON, [`${value}#${++calls}`]) : apply(original, JSON, [value, ...rest]);
    }));
}

/** A toJSON on Object.prototype that put the old key in whatever JSON.stringify wrote: the new key's pin held the old key. */
async function toJsonOnObjectPrototype(engine: Engine): Promise<void> {
  const label = `${engine}, Object.prototype.toJSON rewrites publicKey`;
  const stores = await openStores(engine);
  try {
    const exchange = exchangeOn(stores, ROTATING);
    const fresh = envelope(newKey);
    const accepted = await underLies(
      () => replace(Object.prototype, "toJSON", "Object.prototype.toJSON", () => function (this: Record<string, unknown>) {
        return typeof this.publicKey === "string" ? { ...this, publicKey: OLD_HEX, toJSON: undefined } : this;
      }),
      () => outcome(() => exchange.acceptEnvelope(fresh, "kernel-b", NOW)),
    );
    expect(`${label}: the new key's handshake`, accepted, `accepted ${NEW_HEX}`);
    expect(`${label}: pins on the server`, await storedPins(engine, stores), `"kernel-b" ${NEW_HEX}`);
    expect(`${label}: the pin through a fresh store`, await pinThroughFreshStore(engine, stores), NEW_HEX);
    expect(`${label}: then the old key (no lie)`, await outcome(() => exchange.acceptEnvelope(envelope(oldKey), "kernel-b", NOW)), "refused UNEXPECTED_PEER_KEY");
  } finally {
    await stores.close();
  }
}

/**
 * The server check on an allkeys-lru Redis, under lies that emptied or skipped it. Under
 * Array.prototype.push and Promise.all node-redis itself breaks (its reply parser pushes; its
 * connect awaits a Promise.all, and the lie left a rejection unhandled that ended the process),
 * so for those two the store is given a client that answers CONFIG GET and ROLE with the
 * replies the real server gave a moment before, read by node-redis without a lie (the stores take
 * any client with node-redis's sendCommand), CONFIG GET's in its RESP2 form, the flat
 * [name, value] array redis-server sends and node-redis 4 returns (node-redis 5 makes it an
 * object): the form the store's `push` read. The other lies run against the server itself.
 */
async function evictingServer(): Promise<void> {
  const label = "redis on allkeys-lru";
  const opened = (store: Promise<{ close(): Promise<void> }>) =>
    outcome(async () => {
      await (await store).close();
      return "opened";
    });
  const namespace = `lie${process.pid}lru`;
  await withRedis((c) => c.configSet("maxmemory-policy", "allkeys-lru"));
  try {
    const replies = await withRedis(async (c) => {
      const config = (await c.sendCommand(["CONFIG", "GET", "maxmemory-policy"])) as unknown;
      const flat = Array.isArray(config) ? config : Object.entries(config as Record<string, unknown>).flat();
      return { config: flat, role: await c.sendCommand(["ROLE"]) };
    });
    expect(`${label}: CONFIG GET's reply`, stringify(replies.config), '["maxmemory-policy","allkeys-lru"]');
    const recorded = {
      async sendCommand(args: string[]): Promise<unknown> {
        if (args[0] === "CONFIG") return replies.config;
        if (args[0] === "ROLE") return replies.role;
        throw new ErrorAtLoad(`unexpected ${args[0]}`);
      },
    };
    const cases: [string, () => void, "server" | "recorded"][] = [
      ["String.prototype.startsWith answers false", () => replace(String.prototype, "startsWith", "String.prototype.startsWith", () => () => false), "server"],
      ["Array.prototype.find finds nothing", () => replace(Array.prototype, "find", "Array.prototype.find", () => () => undefined), "server"],
      ["RegExp.prototype.test answers true", () => replace(RegExp.prototype, "test", "RegExp.prototype.test", () => () => true), "server"],
      ["Array.prototype.push does nothing", () => replace(Array.prototype, "push", "Array.prototype.push", () => function (this: unknown[]) { return this.length; }), "recorded"],
      ["Promise.all answers [undefined, undefined]", () => replace(Promise, "all", "Promise.all", () => async () => [undefined, undefined]), "recorded"],
    ];
    for (const [which, target] of [["server", redisUrl], ["recorded", recorded]] as const) {
      expect(`${label}: RedisPeerStore.open on the ${which} replies without a lie`, await opened(RedisPeerStore.open(target, { namespace })), "refused EVICTING_ENGINE");
      expect(`${label}: RedisReplayStore.open on the ${which} replies without a lie`, await opened(RedisReplayStore.open(target, { namespace })), "refused EVICTING_ENGINE");
    }
    for (const [lie, install, where] of cases) {
      const target = where === "server" ? redisUrl : recorded;
      expect(`${label}: RedisPeerStore.open, ${lie}`, await underLies(install, () => opened(RedisPeerStore.open(target, { namespace }))), "refused EVICTING_ENGINE");
      expect(`${label}: RedisReplayStore.open, ${lie}`, await underLies(install, () => opened(RedisReplayStore.open(target, { namespace }))), "refused EVICTING_ENGINE");
    }
  } finally {
    await withRedis((c) => c.configSet("maxmemory-policy", "noeviction"));
  }
}

/**
 * A first handshake on `engine`, then its replay under the replacements `install` makes: still
 * REPLAYED_NONCE, as it is without them.
 */
async function replayRefusedUnderLie(engine: Engine, label: string, install: () => void): Promise<void> {
  const stores = await openStores(engine);
  try {
    const exchange = exchangeOn(stores, [["kernel-b", newKey.publicKey]]);
    const first = envelope(newKey);
    expect(`${label}: first handshake`, await outcome(() => exchange.acceptEnvelope(first, "kernel-b", NOW)), `accepted ${NEW_HEX}`);
    const control = await outcome(() => exchange.acceptEnvelope(first, "kernel-b", NOW + 1));
    expect(`${label}: its replay without the lie`, control, "refused REPLAYED_NONCE");
    const replayed = await underLies(install, () => outcome(() => exchange.acceptEnvelope(first, "kernel-b", NOW + 2)));
    expect(`${label}: its replay`, replayed, control);
  } finally {
    await stores.close();
  }
}

/** A Promise.prototype.finally that turned Redis's 0 into 1: the stores' time bound used it, and a replay was accepted. */
const finallyRewritesReplies = () =>
  replayRefusedUnderLie("redis", "redis, Promise.prototype.finally maps 0 to 1", () =>
    replace(Promise.prototype, "finally", "Promise.prototype.finally", (original) => function (this: Promise<unknown>, onFinally?: () => void) {
      return apply(original, this.then((value) => (value === 0 ? 1 : value)), [onFinally]);
    }));

/**
 * A Promise.prototype.then that turned Redis's 0 into 1: the store's command path returned the
 * reply's promise from an async function, which settles through that `then`, and a replay was
 * accepted (found by review after the other cases; the path now awaits).
 */
const thenRewritesReplies = () =>
  replayRefusedUnderLie("redis", "redis, Promise.prototype.then maps 0 to 1", () =>
    replace(Promise.prototype, "then", "Promise.prototype.then", (original) => function (this: Promise<unknown>, onFulfilled?: (value: unknown) => unknown, onRejected?: (reason: unknown) => unknown) {
      const rewrite = typeof onFulfilled === "function" ? (value: unknown) => onFulfilled(value === 0 ? 1 : value) : onFulfilled;
      return apply(original, this, [rewrite, onRejected]);
    }));

/** A Math.min answering 1000: the pair's TTL was 1 s, and its replay was taken a second later. */
async function mathMinShortensTtl(): Promise<void> {
  const label = "redis, Math.min answers 1000";
  const stores = await openStores("redis");
  try {
    const reserved = await underLies(
      () => replace(Math, "min", "Math.min", () => () => 1000),
      () => outcome(() => (stores.replay as RedisReplayStore).reserve("kernel-b", "ttl-nonce", NOW, NOW, 300)),
    );
    expect(`${label}: reserve`, reserved, "ok true");
    // Kept until the envelope's timestamp + 301 s on the server's clock: well over a minute left.
    const ttl = await withRedis((c) => c.pTTL(`${stores.name}:{${keyHex("kernel-b")}}:n:${keyHex("ttl-nonce")}`));
    expect(`${label}: the pair's TTL is over 200 s`, ttl > 200_000 ? "over 200 s" : `${ttl} ms`, "over 200 s");
  } finally {
    await stores.close();
  }
}

/**
 * Object.getPrototypeOf answering Number.prototype for ever: isDriverError walked node-redis's
 * TimeoutError (a command the server did not answer in time: here, CLIENT PAUSE) without end,
 * and the process hung. The outcome must be a refusal, STORE_TIMEOUT.
 */
async function getPrototypeOfLoops(): Promise<void> {
  const label = "redis, Object.getPrototypeOf answers Number.prototype";
  const peers = await RedisPeerStore.open(redisUrl, { namespace: `lie${process.pid}proto`, operationTimeoutMs: 300 });
  try {
    expect(`${label}: get without the lie`, await outcome(() => peers.get("kernel-b")), "ok undefined");
    await withRedis((c) => c.sendCommand(["CLIENT", "PAUSE", "1500", "ALL"]));
    const got = await underLies(
      () => replace(Object, "getPrototypeOf", "Object.getPrototypeOf", () => () => Number.prototype),
      () => outcome(() => peers.get("kernel-b")),
    );
    expect(`${label}: get while the server is paused`, got, "refused STORE_TIMEOUT");
  } finally {
    await withRedis((c) => c.sendCommand(["CLIENT", "UNPAUSE"]));
    await peers.close();
  }
}

/**
 * Accessors on Object.prototype for `cause` and `code` answering serialization_failure (40001):
 * a compare-and-set whose outcome is unknown (no answer in time, the statement still waiting on a
 * lock and free to commit later) read as a lost race, false, and the exchange then released the
 * envelope's nonce after a write that may land. It must stay STORE_TIMEOUT.
 */
async function causeAccessors(): Promise<void> {
  const label = "postgres, Object.prototype.cause and .code answer 40001";
  const tablePrefix = `lie${process.pid}cause_`;
  const peers = await PostgresPeerStore.open(pgUrl, { tablePrefix, operationTimeoutMs: 300, setStatementTimeout: false });
  const replay = await PostgresReplayStore.open(pgUrl, { tablePrefix, operationTimeoutMs: 300, setStatementTimeout: false, sweepEvery: 0 });
  const locker = new pg.Client({ connectionString: pgUrl });
  await locker.connect();
  try {
    const pin = new FederationPeer({ kernelId: "kernel-b", publicKey: NEW_HEX, establishedAt: NOW, rotationDue: NOW + 86_400 });
    // Writers of both tables wait until the locker's transaction ends.
    await locker.query(`BEGIN; LOCK TABLE ${tablePrefix}peers, ${tablePrefix}replay IN SHARE MODE`);
    const serialization = { code: "40001" };
    const install = () => {
      accessorOnObjectPrototype("cause", "Object.prototype.cause", serialization);
      accessorOnObjectPrototype("code", "Object.prototype.code", "40001");
    };
    expect(`${label}: compareAndSet on a locked table`, await underLies(install, () => outcome(() => peers.compareAndSet("kernel-b", undefined, pin))), "refused STORE_TIMEOUT");
    expect(`${label}: reserve on a locked table`, await underLies(install, () => outcome(() => replay.reserve("kernel-b", "locked", NOW, NOW, 300))), "refused STORE_TIMEOUT");
  } finally {
    await locker.query("ROLLBACK");
    await locker.end();
    await Promise.all([peers.close(), replay.close()]);
  }
}

/**
 * A Set iterator that yields nothing: the connection's watchers were walked with for…of, so the
 * 'ready' of a reconnection reached none, and a server that came back evicting (here: CONFIG SET
 * allkeys-lru, then the store's connection killed) was used unchecked until the next periodic
 * check, up to 5 s later. The first call after the reconnection must be EVICTING_ENGINE.
 */
async function setIteratorLosesEvents(): Promise<void> {
  const label = "redis, Set iterators yield nothing";
  const peers = await RedisPeerStore.open(redisUrl, { namespace: `lie${process.pid}set` });
  const setIteratorPrototype = Object.getPrototypeOf(new Set().values()) as object;
  try {
    expect(`${label}: get before`, await outcome(() => peers.get("kernel-b")), "ok undefined"); // the check passed just now
    const got = await underLies(
      () => replace(setIteratorPrototype, "next", "%SetIteratorPrototype%.next", () => () => ({ value: undefined, done: true })),
      async () => {
        await withRedis(async (c) => {
          await c.configSet("maxmemory-policy", "allkeys-lru");
          await c.sendCommand(["CLIENT", "KILL", "TYPE", "normal", "SKIPME", "yes"]);
        });
        // Until the store's client has reconnected (calls meanwhile: STORE_UNAVAILABLE, not connected).
        for (let attempt = 0; attempt < 100; attempt++) {
          const result = await outcome(() => peers.get("kernel-b"));
          if (result !== "refused STORE_UNAVAILABLE") return result;
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
        return "never reconnected";
      },
    );
    expect(`${label}: the first call after the reconnection`, got, "refused EVICTING_ENGINE");
  } finally {
    await withRedis((c) => c.configSet("maxmemory-policy", "noeviction"));
    await peers.close();
  }
}

/** Runs one case; one that throws (a store that would not open, a lost connection) is a result that differed. */
async function run(name: string, body: () => Promise<void>): Promise<void> {
  try {
    await body();
  } catch (error) {
    differed.push(`${name} threw ${(error as { code?: string }).code ?? ""} ${(error as Error).message}`);
  }
}

if (process.argv[2] === "hang") {
  await run("getPrototypeOf", getPrototypeOfLoops);
} else {
  for (const engine of ["postgres", "redis"] as const) {
    await run(`${engine} stringify "lie"`, () => stringifyAnswersLie(engine));
    await run(`${engine} stringify per call`, () => stringifyChangesEachCall(engine));
    await run(`${engine} toJSON`, () => toJsonOnObjectPrototype(engine));
  }
  await run("evicting server", evictingServer);
  await run("finally", finallyRewritesReplies);
  await run("then", thenRewritesReplies);
  await run("Math.min", mathMinShortensTtl);
  await run("cause accessors", causeAccessors);
  await run("Set iterators", setIteratorLosesEvents);
}

// Replacements that ran, by who called them.
const ranBy: Record<string, string[]> = {};
for (const name of Object.keys(ran)) ranBy[name] = Object.keys(ran[name]!).sort();
console.log(stringify({ differed, ran: ranBy }));
process.exit(0); // pools' idle timers and clients closed above; nothing left to wait for
