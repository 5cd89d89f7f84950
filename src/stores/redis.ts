// chio-trust/redis: replay protection (ReplayStore) and pins (FederationPeerStore) in Redis,
// shared by every replica of a kernel (docs/protocol.md §6–§8).
//
// Client: node-redis (`redis`), an optional peer dependency: the client Redis itself maintains
// and recommends for Node, promise-based, with automatic reconnection. Commands are sent with
// `sendCommand`, so a client you pass in may be any node-redis v4+ client (or anything with the
// same `sendCommand(args) → Promise` shape).
//
// Replay reservations: one Lua script run by EVALSHA (Redis runs a script as one atomic command;
// on NOSCRIPT, after a server restart emptied the script cache, it is sent once with EVAL). The
// script does `SET key token:timestamp NX PX ttl`, and, only when the key exists, takes it over
// if the pair it holds is dead under the skew asked with (docs/protocol.md §7). The TTL keeps
// each pair until `timestamp + retention` (+1 s for whole-second clocks), by the later of the
// replica's `now` and the Redis server's clock: a replica running fast does not shorten a pair's
// life, and once the server's clock is past `timestamp + skew` the script refuses the
// reservation (PAST_WINDOW_ON_ENGINE_CLOCK), so a replica running slow cannot take a replay of a
// pair that expired (README, "Running a cluster", *Clocks*). The retention is the larger of
// this store's maxSkewSecs and the namespace's retention floor (`<namespace>:retention`, the
// largest maxSkewSecs any replay store registered there: each raises it when it opens, and a
// reserve raises it back if it finds it lower), so a replica running a smaller maxSkewSecs keeps
// its pairs as long as the replica with the largest one still takes their envelopes (review 77
// F3: lowering the replicas one at a time let a pair expire while a replica on the larger skew
// still took its envelope). That key is in no peer's hash slot: the reserve script spans two
// slots, one more reason these stores do not run on Redis Cluster.
//
// Memory is bounded: keys are namespaced (`<namespace>:{<peer>}:n:<nonce>`, the peer in a hash
// tag so a peer's keys share a Redis Cluster slot), each at most maxKeyUnits long, each expires,
// and a peer may reserve at most maxReservationsPerPeer pairs per window of the retention (a counter
// key that expires too; a released reservation gives its place back). A flooding peer, which must
// already sign with its pinned or anchored key to reach the store, is refused (STORE_FAILED) once
// over its quota instead of growing memory or evicting anyone's pairs.
//
// Pins: one hash `<namespace>:peers`, field = the kernel id's JSON string, value = the pin's
// JSON; compare-and-set and remove are Lua scripts too. Redis keeps pins only as durably as it
// is configured to (appendonly, appendfsync): prefer PostgresPeerStore for pins unless Redis is
// the only shared engine you run.
import { createHash } from "node:crypto";
import { createClient, ErrorReply, TimeoutError as RedisTimeoutError } from "redis";
import {
  hardenClass,
  charCodeAt,
  getPrototypeOf,
  hasOwnMember,
  isArray,
  isSafeInteger,
  mapGet,
  mapSet,
  ownEnumerableKeys,
  ownList,
  ownListAsArray,
  quoteJsonString,
  SetAtLoad,
  setAdd,
  stringSlice,
  stringStartsWith,
  toText,
  mapClear,
  type OwnList,
} from "../bytes.js";
import { MapAtLoad, mapDelete, mapEntries, mapIteratorStep, mapValues, setClear, setDelete, setIteratorStep, setSize, setValues, weakMapGet, weakMapSet, weakSetAdd, weakSetHas } from "../collections.js";
import { describeThrown, instanceOfOrFalse, InvalidTypeError } from "../errors.js";
import { InvalidConfigError } from "../handshake/errors.js";
import { FederationPeer } from "../handshake/peer.js";
import { expectCompareAndSet, expectReplayPair, type FederationPeerStore, type ReplayStore } from "../handshake/ports.js";
import {
  checkReserveArguments,
  DEFAULT_MAX_IN_FLIGHT,
  DEFAULT_STORE_MAX_KEY_UNITS,
  DEFAULT_STORE_MAX_SKEW_SECS,
  DEFAULT_STORE_TIMEOUT_MS,
  engineClockAhead,
  exactText,
  CallsInFlight,
  InFlightTokens,
  MAX_STORE_SKEW_SECS,
  integerOption,
  pairFits,
  pastWindowOnEngineClock,
  readOptions,
  REMOVED_ANYWAY,
  reservationToken,
  SharedStoreError,
  unavailable,
  whenSettled,
  withTimeout,
} from "./server-store.js";
import { MAX_SAFE_INTEGER, mathCeil, mathFloor, mathMax, mathMin, PromiseAtLoad, regExpExec, toNumber, weakMapDelete } from "./builtins.js";

const ERROR_PROTOTYPE: object = Error.prototype;
/** How deep isDriverError looks along an error's prototype chain (node-redis's classes are 2–3 deep). */
const DRIVER_ERROR_DEPTH = 16;

export { SharedStoreError } from "./server-store.js";
export type { SharedStoreErrorCode } from "./server-store.js";
// The shared classes its option and argument checks throw (review 91 F8).
export { InvalidTypeError } from "../errors.js";
export { InvalidConfigError, InvalidTimeError } from "../handshake/errors.js";

/** What the stores need of a client: node-redis's `sendCommand`. */
export interface RedisCommandClient {
  /**
   * node-redis's sendCommand. The stores pass `{ timeout, abortSignal }`: the time left of the
   * call's bound, so that node-redis drops a command still waiting to be written when the call
   * gives up (see Connection.command), and a signal the store aborts when the connection drops,
   * so that a command a client passed in still holds unwritten is not written to the server of
   * its next connection, which the store has not checked (review 64 F1).
   */
  sendCommand(args: string[], options?: { timeout?: number; abortSignal?: AbortSignal }): Promise<unknown>;
}

/** Options shared by both Redis stores. */
export interface RedisStoreOptions {
  /** Prefix of every key: 1–64 of [A-Za-z0-9_.-]. Default "chio". */
  namespace?: string;
  /** Bound on each store call, connecting included, in ms (1…600000). Default 2000. */
  operationTimeoutMs?: number;
}

/** Options of RedisReplayStore. */
export interface RedisReplayStoreOptions extends RedisStoreOptions {
  /**
   * The largest skew this store will ever be asked with (the exchange's maxHandshakeSkewSecs, on
   * every replica), registered in the namespace's retention floor when the store opens: keys
   * expire `floor + 1` s after their envelope's timestamp, the floor being the largest
   * maxSkewSecs registered (RedisReplayStore), and a reserve asked with a skew above this store's
   * own fails (SKEW_ABOVE_RETENTION → STORE_FAILED). Default 300.
   */
  maxSkewSecs?: number;
  /** Longest peer id plus nonce, in UTF-16 code units, kept (longer: `fits` is false). Default 1024. */
  maxKeyUnits?: number;
  /**
   * Most pairs one peer may reserve per window of the retention (the larger of maxSkewSecs and
   * the namespace's retention floor); more fail closed. Default 10000.
   */
  maxReservationsPerPeer?: number;
}

const NAMESPACE = /^[A-Za-z0-9_.-]{1,64}$/;
const DIGITS = /^[0-9]+$/;
const SHARED_OPTION_KEYS = ["namespace", "operationTimeoutMs"] as const;
// Spread as this module loads, not at call time: a replaced array iterator emptied the list (README "Hardening").
const REPLAY_OPTION_KEYS = [...SHARED_OPTION_KEYS, "maxSkewSecs", "maxKeyUnits", "maxReservationsPerPeer"] as const;

// KEYS[1] the pair, KEYS[2] the peer's quota counter for this window, KEYS[3] the retention floor.
// ARGV: 1 value "token:timestamp", 2 ttl ms, 3 now, 4 skew, 5 quota, 6 quota ttl ms, 7 the
// pair's keep-until time in unix ms (timestamp + retention + 1 s), 9 maxSkewSecs, 10 the
// retention the caller computed ARGV 2, 6 and 7 and the quota window with: the larger of
// maxSkewSecs and the floor it last saw. If the floor now gives another retention, nothing is
// read or written and the script returns {-4, retention}, and the caller asks again with it
// (review 77 F3: pairs are kept for the floor; review 78 F1: the quota's window follows it, or
// a peer could hold pairs for the floor while counted per shorter window). A floor found below
// maxSkewSecs (deleted, or lowered by lowerRetentionFloor) is raised back to it once the pair is
// written. The TTL is the longer of
// ARGV[2] (measured from the replica's now) and what is left until ARGV[7] on the server's clock
// (TIME), so a replica whose clock runs fast cannot shorten the pairs it writes below the time
// the other replicas still take their envelopes (review 59).
// ARGV[8]: the first unix ms past the envelope's window on the server's clock ((timestamp + the
// skew asked with + 1) * 1000). From then on the pair may have expired (every writer keeps it until
// timestamp + the retention floor + 1 s, the floor at least every replica's maxSkewSecs, so at
// least every replica's skew), so the
// reserve is refused (-3) before anything is read or written, whatever the replica's own clock
// says (review 75 F1: a replica running slow took such replays; docs/protocol.md §8).
// Returns 1 reserved, 0 held (replay), -1 over quota, -2 a value this store never writes (checked,
// the quota counter's and the floor's too, before anything is written: review 47; a floor above
// MAX_STORE_SKEW_SECS, which no store registers, included), -3 past the window, -5 past it with
// the server's clock also more than the skew ahead of the replica's now (ENGINE_CLOCK_AHEAD).
// A pair dead under the caller's skew is taken over with the value
// "<token><held timestamp's decimal digits>:<timestamp>": it may still be live under another
// replica's larger skew or clock, and a release of this reservation puts it back (RELEASE_SCRIPT;
// review 61 F2). Decimal digits are hex digits, so every value stays "<hex>:<timestamp>", which
// the scripts of earlier versions read as well (review 63 F2: a third field failed them during a
// rolling upgrade); the token is 32 hex digits, so what follows it is the held timestamp.
// Reads the retention floor at `key` into `floor`: a number, or false when there is none; any
// other value (not decimal digits, or above MAX_STORE_SKEW_SECS, which no store registers) makes
// the script return -2 before it writes anything. One check for every script that reads it.
const READ_FLOOR = (key: string) => `local floor = redis.call('GET', ${key})
if floor then
  if not string.match(floor, '^%d+$') or tonumber(floor) > ${MAX_STORE_SKEW_SECS} then return -2 end
  floor = tonumber(floor)
end`;

// Whether the quota counter read into `counted` is in a form INCR and DECR write: "0" or decimal
// digits without a leading zero, at most 15 of them. Redis reads an integer in that canonical
// spelling only: '^%d+$' alone let "05" and "00" through, and the reserve script wrote its pair
// before INCR refused them (as the release script deleted its pair before DECR did), so the call
// failed STORE_UNAVAILABLE with the store changed.
const COUNTER_WRITTEN = `(counted == '0' or (string.match(counted, '^[1-9]%d*$') ~= nil and #counted <= 15))`;
const COUNTER_CHECK = `if not ${COUNTER_WRITTEN} then return -2 end`;

const RESERVE_SCRIPT = `
local clock = redis.call('TIME')
local serverMs = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
if serverMs >= tonumber(ARGV[8]) then
  if serverMs >= (tonumber(ARGV[3]) + tonumber(ARGV[4]) + 1) * 1000 then return -5 end
  return -3
end
${READ_FLOOR("KEYS[3]")}
local own = tonumber(ARGV[9])
local retention = own
if floor and floor > own then retention = floor end
if retention ~= tonumber(ARGV[10]) then return {-4, retention} end
local held = redis.call('GET', KEYS[1])
local heldTs
if held then
  heldTs = string.match(held, '^%x+:(%d+)$')
  if heldTs == nil or #heldTs > 17 then return -2 end
  if tonumber(heldTs) + tonumber(ARGV[4]) >= tonumber(ARGV[3]) then return 0 end
end
local counted = redis.call('GET', KEYS[2]) or '0'
${COUNTER_CHECK}
local used = tonumber(counted)
if used >= tonumber(ARGV[5]) then return -1 end
local ttl = tonumber(ARGV[2])
local left = tonumber(ARGV[7]) - serverMs
if left > ttl then ttl = left end
ttl = string.format('%d', ttl)
if held then
  local token, ts = string.match(ARGV[1], '^(%x+):(%d+)$')
  redis.call('SET', KEYS[1], token .. heldTs .. ':' .. ts, 'XX', 'PX', ttl)
elseif not redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ttl) then
  return -2
end
if redis.call('INCR', KEYS[2]) == 1 then redis.call('PEXPIRE', KEYS[2], ARGV[6]) end
if not floor or floor < own then redis.call('SET', KEYS[3], ARGV[9]) end
return 1`;

// KEYS[1] the retention floor; ARGV[1] a store's maxSkewSecs. Raises the floor to it, never
// lowers it. Returns the floor now held, or -2 for a value no store writes. A TTL a floor key
// was given by hand is removed (review 78 F4: the floor then vanished later).
const REGISTER_RETENTION_SCRIPT = `
${READ_FLOOR("KEYS[1]")}
if not floor or floor < tonumber(ARGV[1]) then
  redis.call('SET', KEYS[1], ARGV[1])
  return tonumber(ARGV[1])
end
redis.call('PERSIST', KEYS[1])
return floor`;

// KEYS[1] the retention floor; ARGV[1] a store's maxSkewSecs. Sets the floor to it, whatever it
// was. Returns the floor it replaced (-1: none), or -2 for a value no store writes (left as is).
const LOWER_RETENTION_SCRIPT = `
${READ_FLOOR("KEYS[1]")}
redis.call('SET', KEYS[1], ARGV[1])
if not floor then return -1 end
return floor`;

// KEYS[1] the pair, KEYS[2] the quota counter of the window the reservation was counted in;
// ARGV[1] the reservation's "token:timestamp". Only if the pair still holds this reservation (the
// value, or after a takeover the token followed by the held timestamp's digits): a
// pair it took over is put back as it was ("0:previous timestamp", its TTL kept, which is at
// least the old one's), so another replica that still takes the old envelope finds it held
// (review 61 F2: the pair was deleted, and that envelope accepted a second time); a new pair is
// deleted. Then its place in the quota is given back (a counter that expired meanwhile is left
// alone, as is one in a form the reserve never writes, which the next reserve refuses: Lua's
// tonumber read " 5", "1.5" or "1e3", which DECR then refused after the pair was written; the
// one test of both scripts, COUNTER_WRITTEN).
const RELEASE_SCRIPT = `
local current = redis.call('GET', KEYS[1])
if not current then return 0 end
if current == ARGV[1] then
  redis.call('DEL', KEYS[1])
else
  local token, ts = string.match(ARGV[1], '^(%x+):(%d+)$')
  local hex, currentTs = string.match(current, '^(%x+):(%d+)$')
  if token == nil or hex == nil or currentTs ~= ts or #hex <= #token or string.sub(hex, 1, #token) ~= token then return 0 end
  local previous = string.sub(hex, #token + 1)
  if not string.match(previous, '^%d+$') then return 0 end
  redis.call('SET', KEYS[1], '0:' .. previous, 'XX', 'KEEPTTL')
end
local counted = redis.call('GET', KEYS[2]) or '0'
local written = ${COUNTER_WRITTEN}
if written and tonumber(counted) > 0 then redis.call('DECR', KEYS[2]) end
return 1`;

// KEYS[1] the hash; ARGV: 1 field, 2 expected value ('' = no entry), 3 next value. "No entry"
// matches no entry only, never a stored empty string (review 47).
const PEER_CAS_SCRIPT = `
local current = redis.call('HGET', KEYS[1], ARGV[1])
if ARGV[2] == '' then
  if current then return 0 end
elseif current ~= ARGV[2] then
  return 0
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
return 1`;

// KEYS[1] the hash; ARGV[1] field. Returns the removed value or nil.
const PEER_REMOVE_SCRIPT = `
local current = redis.call('HGET', KEYS[1], ARGV[1])
if current then redis.call('HDEL', KEYS[1], ARGV[1]) end
return current`;

// KEYS[1] the hash. HGETALL's flat list of fields and values: what a script returns is an array
// under RESP2 and RESP3 alike, where HGETALL sent as such answers RESP3's map, which node-redis
// (RESP3 by default since v5) reads into a plain object, on which a field named "__proto__" sets
// nothing: such an entry, one this store never writes, was left out of snapshot() unseen instead
// of refused (hunt 33).
const PEER_SNAPSHOT_SCRIPT = `return redis.call('HGETALL', KEYS[1])`;

interface Script {
  text: string;
  sha: string;
}

/**
 * Whether `error` is an instance of the class named `name` (or of a subclass), from this copy of
 * node-redis or another: a client passed in may come from a second copy of the package (another
 * version in the caller's dependency tree), whose classes `instanceof` does not recognise
 * (review 49: a server refusing CONFIG then failed the open). What reaches the checks is what a
 * client's sendCommand rejected with, so a class name is enough to tell the driver's errors apart.
 */
function isDriverError(error: unknown, name: string): error is Error {
  try {
    if (!instanceOfOrFalse(Error, error)) return false;
    // Object.getPrototypeOf as it was at load, and a bounded walk: a replaced one that answered
    // Number.prototype for ever spun this loop and hung the process (README "Hardening").
    let proto = getPrototypeOf(error) as object | null;
    for (let depth = 0; depth < DRIVER_ERROR_DEPTH && proto !== null && proto !== ERROR_PROTOTYPE; depth++) {
      if (hasOwnMember(proto, "constructor") && (proto as { constructor?: { name?: unknown } }).constructor?.name === name) return true;
      proto = getPrototypeOf(proto) as object | null;
    }
  } catch {
    // a client passed in that throws from an error's prototype chain: not the driver's error
  }
  return false;
}

/** The server's own error reply (node-redis ErrorReply, SimpleError, BlobError), from any copy of node-redis. */
const isErrorReply = (error: unknown): error is Error => instanceOfOrFalse(ErrorReply, error) || isDriverError(error, "ErrorReply");

/** node-redis's own command timeout (TimeoutError), from any copy of node-redis. */
const isRedisTimeout = (error: unknown): error is Error => instanceOfOrFalse(RedisTimeoutError, error) || isDriverError(error, "TimeoutError");

/**
 * Error replies that refuse CONFIG itself, in the words servers and managed services use: a
 * renamed or removed command (`ERR unknown command`, as ElastiCache, Azure Cache for Redis and
 * Memorystore answer; `ERR unknown subcommand`), an ACL (`NOPERM`), Upstash's `ERR Command is not
 * available`. Any other error reply to CONFIG fails the open (evictionPolicy): a generic "not
 * available" could be a proxy's lost upstream (review 51).
 */
const CONFIG_REFUSED = /^(?:ERR unknown (?:sub)?command|NOPERM|ERR Command is not available)/i;

/**
 * WRONGTYPE met by a command inside one of the store's scripts, as Redis 6 answers it: the script's
 * error wrapped in a generic ERR (scripting.c, evalGenericCommand's "Error running script (call to
 * %s): %s" around the error handler's "<source>:<line>: <error>"), where Redis 7 passes the
 * command's own `WRONGTYPE …` through. Only that error of a script: any other wrapped error stays
 * STORE_UNAVAILABLE (hunt 37: on Redis 6, which the README supports, a key of another type met in
 * a script was STORE_UNAVAILABLE, which sends an operator to the server instead of to the key).
 */
const SCRIPT_WRONGTYPE_REDIS_6 = /^ERR Error running script \(call to f_[0-9a-f]{40}\): @user_script:\d+: WRONGTYPE /;

const script = (text: string): Script => ({ text, sha: createHash("sha1").update(text).digest("hex") });
const SCRIPTS = {
  reserve: script(RESERVE_SCRIPT),
  release: script(RELEASE_SCRIPT),
  registerRetention: script(REGISTER_RETENTION_SCRIPT),
  lowerRetention: script(LOWER_RETENTION_SCRIPT),
  peerCas: script(PEER_CAS_SCRIPT),
  peerRemove: script(PEER_REMOVE_SCRIPT),
  peerSnapshot: script(PEER_SNAPSHOT_SCRIPT),
};

/** What a connection does on its client's events (Connection.#watch). */
interface ClientWatcher {
  /** node-redis has connected ('ready'): the server may be another one. */
  ready(): void;
  /** node-redis lost the connection ('reconnecting', 'end'): commands not yet written must not reach the next server. */
  dropped(): void;
}

/**
 * Connections watching each client's events: one listener per event and client, whatever the
 * number of stores on it (review 63 F5: a listener per store passed Node's limit of 10 at 11
 * stores on one client passed in, with a warning).
 */
const clientWatchers = new WeakMap<object, { watchers: Set<ClientWatcher>; stop: () => void }>();

/** The node-redis events a connection watches, and which of its reactions each calls. */
const WATCHED_EVENTS = [
  ["ready", (w: ClientWatcher) => w.ready()],
  ["reconnecting", (w: ClientWatcher) => w.dropped()],
  ["end", (w: ClientWatcher) => w.dropped()],
] as const;

/**
 * Calls `watcher` on the events of `client` (WATCHED_EVENTS); returns how to stop, or undefined
 * when the client has no usable on/off (any object with sendCommand may be passed in; a client
 * whose on() throws is left alone).
 */
function watchClient(client: RedisCommandClient, watcher: ClientWatcher): (() => void) | undefined {
  // Set's, WeakMap's and the iterators' methods as they were at load, and index loops: replaced
  // ones lost the 'ready' and 'reconnecting' events, so a failed-over server was not checked again
  // (README "Hardening").
  let entry = weakMapGet(clientWatchers, client);
  if (entry === undefined) {
    const emitter = client as Partial<Pick<NodeJS.EventEmitter, "on" | "off">>;
    const watchers = new SetAtLoad<ClientWatcher>();
    const listeners: OwnList<readonly [string, () => void]> = ownList(WATCHED_EVENTS.length);
    for (let i = 0; i < WATCHED_EVENTS.length; i++) {
      const react = WATCHED_EVENTS[i]![1];
      listeners[i] = [WATCHED_EVENTS[i]![0], () => {
        const each = setValues(watchers);
        for (let step = setIteratorStep(each); !step.done; step = setIteratorStep(each)) react(step.value);
      }];
    }
    try {
      if (typeof emitter.on !== "function" || typeof emitter.off !== "function") return undefined;
      for (let i = 0; i < listeners.length; i++) emitter.on.call(client, listeners[i]![0], listeners[i]![1]);
    } catch {
      return undefined;
    }
    const watched = {
      watchers,
      stop: () => {
        weakMapDelete(clientWatchers, client);
        try {
          for (let i = 0; i < listeners.length; i++) emitter.off!.call(client, listeners[i]![0], listeners[i]![1]);
        } catch {
          // a client passed in whose off() throws keeps listeners that only mark servers unchecked
        }
      },
    };
    weakMapSet(clientWatchers, client, watched);
    entry = watched;
  }
  const watched = entry;
  setAdd(watched.watchers, watcher);
  return () => {
    if (!setDelete(watched.watchers, watcher)) return;
    if (setSize(watched.watchers) === 0) watched.stop();
  };
}

/** How long a passed server check holds, in ms (Connection.#serverChecked). */
const SERVER_CHECK_INTERVAL_MS = 5000;

/** What a store needs of the server, checked on open, after every reconnection and every SERVER_CHECK_INTERVAL_MS; throws when it is not so. */
type ServerCheck = (redis: Connection, client: RedisCommandClient, deadline: number) => Promise<void>;

/** A command refused as such (CONFIG_REFUSED), as opposed to a failed or unanswered one. */
function refusesCommand(error: unknown): boolean {
  return instanceOfOrFalse(SharedStoreError, error) && error.code === "STORE_UNAVAILABLE" && isErrorReply(error.cause) && regExpExec(CONFIG_REFUSED, error.cause.message) !== null;
}

/**
 * The server check of a store (README "Running a cluster", *Redis eviction and replicas*): the server must be a primary (a replica answers
 * reads from a copy that may lag, so a pin forgotten on the primary would still resolve: review
 * 61 F4) and must not evict what `what` names: `refused(policy)` says which maxmemory-policies
 * evict it (review 61 F1: checked on open only, a server that came back evicting after a
 * restart, a failover or CONFIG SET was used blind, and a replay was accepted again). A server
 * that refuses CONFIG or ROLE (some managed services) is used without that part of the check.
 */
function serverCheck(what: string, refused: (policy: string) => boolean): ServerCheck {
  return async (redis, client, deadline) => {
    // Both asked at once (as before: a client replaced meanwhile is closed, and a ROLE sent after
    // CONFIG's answer could find it gone), then awaited one by one, not through a destructured
    // Promise.all: a replaced Promise.all or array iterator read both as undefined, and the check
    // was skipped (README "Hardening").
    const asked = redis.evictionPolicy(client, deadline);
    const roleAsked = redis.role(client, deadline);
    whenSettled(roleAsked, () => undefined, () => undefined); // handled while the policy is awaited
    const policy = await asked;
    const role = await roleAsked;
    if (role !== undefined && role !== "master") {
      throw new SharedStoreError("NOT_A_PRIMARY", `the Redis server answers as a ${role === "slave" ? "replica" : role} (ROLE), not a primary: point the store at the primary`);
    }
    if (policy !== undefined && refused(policy)) {
      throw new SharedStoreError(
        "EVICTING_ENGINE",
        `Redis evicts keys under memory pressure (maxmemory-policy ${policy}), which would silently drop ${what}; set maxmemory-policy noeviction`,
      );
    }
  };
}

/** A client this store created, and so ends. */
interface OwnedClient {
  close(): Promise<void>;
  destroy(): void;
}

/**
 * A connected client from a URL, as the stores open it: see Connection.open. `created` is given
 * the client as soon as it exists, so that a close() while it connects can end it.
 */
async function connectClient(url: string, timeoutMs: number, created?: (client: OwnedClient) => void): Promise<RedisCommandClient & OwnedClient> {
  let client: ReturnType<typeof createClient>;
  // Aborted by destroyClient: node-redis passes its socket options to net/tls.connect, and a socket
  // given this signal is destroyed on abort even while its TCP connect is under way, which
  // node-redis's destroy() cannot reach (the socket is not yet its own): one whose SYN got no
  // answer kept the process alive until connectTimeout, operationTimeoutMs after close().
  const sockets = new AbortController();
  try {
    client = createClient({
      url,
      // Commands fail at once while disconnected (fail closed, STORE_FAILED) instead of queueing
      // until the server returns; the client keeps reconnecting in the background, so the
      // replicas recover without a restart of their own.
      disableOfflineQueue: true,
      socket: { connectTimeout: timeoutMs, reconnectStrategy: (retries: number) => mathMin(50 * 2 ** mathMin(retries, 10), 1000), signal: sockets.signal },
    });
  } catch {
    // A URL that parses but the driver cannot use (a path that is no database number, a bad
    // percent-escape): a configuration error, without the driver's message, which may quote the
    // URL and its password (review 61 F5: a bare TypeError or URIError escaped).
    throw new InvalidConfigError("the Redis URL cannot be used by the client: its database must be a number and its user and password well-escaped (not repeated here: it may hold a password)");
  }
  // While connecting, the driver reports each failed attempt here and tries again: the last one is
  // the cause of a connect that timed out, and the server's own refusal of the handshake (a wrong
  // password, NOAUTH, a database index out of range: an error reply) ends it at once, as
  // STORE_UNAVAILABLE, since retrying cannot help (review 61 F5: all were STORE_TIMEOUT, without a cause).
  let lastError: unknown;
  let refuse: (error: unknown) => void = () => undefined;
  const refused = new Promise<never>((_, reject) => {
    refuse = reject;
  });
  whenSettled(refused, () => undefined, () => undefined); // handled: it may reject after the connect
  client.on("error", (error: unknown) => {
    lastError = error;
    if (isErrorReply(error) && regExpExec(HANDSHAKE_REFUSED, error.message) !== null) refuse(error);
  }); // after the connect, reported through the failing calls; a listener keeps the process alive
  weakMapSet(socketAborts, client, sockets); // for destroyClient (see `sockets` above)
  // node-redis's destroy() during the TCP connect finds no socket to end, and the socket, once
  // connected, then waits on its handshake until this connect's bound, and close() finds none to
  // end either: a client ended meanwhile (destroyClient: a close(), or an open whose server check
  // failed; endClient: a replaced one) is ended again as it connects.
  client.on("connect", () => {
    if (weakSetHas(endedClients, client)) destroyClient(client as unknown as OwnedClient);
  });
  created?.(client as unknown as OwnedClient);
  try {
    // The first of the two to settle, without Promise.race (README "Hardening").
    const connected = new PromiseAtLoad<unknown>((resolve, reject) => {
      whenSettled(client.connect(), resolve, reject);
      whenSettled(refused, resolve, reject);
    });
    await withTimeout(connected, timeoutMs, "connect");
  } catch (cause) {
    destroyClient(client as unknown as OwnedClient); // perhaps destroyed already, by a close() while it connected
    if (instanceOfOrFalse(SharedStoreError, cause) && cause.code === "STORE_TIMEOUT" && lastError !== undefined) {
      throw new SharedStoreError("STORE_TIMEOUT", `connect: no connection within ${timeoutMs} ms; the last attempt failed: ${describeDriverError(lastError)}`, { cause: lastError });
    }
    throw unavailable("connect", cause);
  }
  return client as unknown as RedisCommandClient & OwnedClient;
}

/**
 * Error replies to the connection handshake that retrying cannot change: credentials (WRONGPASS,
 * NOAUTH, an AUTH the server does not take), an ACL, a database index out of range. Others
 * (`ERR max number of clients reached`, `BUSY`, LOADING) pass, and the driver tries again within
 * the bound (review 63 F3).
 */
const HANDSHAKE_REFUSED = /^(?:WRONGPASS|NOAUTH|NOPERM|ERR (?:DB index is out of range|invalid DB index|invalid password|AUTH|Client sent AUTH))/i;

/** A driver error's message for ours (never a URL: node-redis's socket errors name host and port only). */
function describeDriverError(error: unknown): string {
  return describeThrown(error);
}

/**
 * Closes a client this store replaced (Connection.#replaceHungClient): gracefully (calls still
 * waiting there get their answers) within `timeoutMs`, else destroys it. Never rejects: the
 * store ends a hung client without awaiting it, and a rejection there would end the caller's
 * process (review 65 F1: node-redis 5.x's destroy() throws once close() has begun). The store's
 * own close() does not come here: it destroys its clients at once (destroyClient).
 */
async function endClient(client: OwnedClient, timeoutMs: number): Promise<void> {
  // Marked ended first (see connectClient): a client replaced while its reconnection's TCP connect
  // is under way has no socket for close() to end, and close() resolves at once when nothing is
  // waiting; the socket then connected, did its handshake and stayed open with no owner, a server
  // connection nothing would end (hunt 37).
  weakSetAdd(endedClients, client);
  try {
    await withTimeout(client.close(), timeoutMs, "close");
  } catch {
    destroyClient(client);
  }
}

/** Clients destroyClient or endClient ended: one still connecting is ended once its socket connects (connectClient). */
const endedClients = new WeakSet<object>();

/** Per client connectClient made, the signal its sockets were given, which destroyClient aborts (see there). */
const socketAborts = new WeakMap<object, AbortController>();

/**
 * Ends a client this store created at once: node-redis's destroy() rejects what it still holds
 * and closes the socket, without a word to the server. Never throws (see endClient).
 */
function destroyClient(client: OwnedClient): void {
  weakSetAdd(endedClients, client); // see connectClient
  try {
    client.destroy();
  } catch {
    // already closed or closing: nothing more this store can end
  }
  // A socket still in its TCP connect, which destroy() does not reach (connectClient).
  weakMapGet(socketAborts, client)?.abort();
}

/** The connection and settings both stores use. */
class Connection {
  readonly namespace: string;
  readonly timeoutMs: number;
  #client: RedisCommandClient;
  #owned: OwnedClient | undefined;
  /** The URL of a client this store created (to replace it when it hangs); undefined for a client passed in. */
  readonly #url: string | undefined;
  /** When a command last got an answer from the server (performance.now()). */
  #lastAnswerAt = performance.now();
  /** When the current client lost its connection, or send() last began replacing it since (performance.now()); undefined while it is ready: see send(). */
  #droppedAt: number | undefined;
  /** Whether a replacement connection is being opened (see #replaceHungClient): one at a time. */
  #replacing = false;
  /** The client of that replacement while it connects, so that close() can end it. */
  #connecting: OwnedClient | undefined;
  /** Replaced clients still being closed gracefully (#replaceHungClient), so that close() can end them. */
  readonly #retiring = new SetAtLoad<OwnedClient>();
  #closed = false;
  /** The calls in flight, refused STORE_CLOSED when the store closes (hunt 18: they resolved after close() returned, their writes done). */
  readonly #inFlight = new CallsInFlight();
  /** What the store needs of the server (serverCheck), run before calls; undefined until the store sets it. */
  #check: ServerCheck | undefined;
  /** When the last check that passed started (performance.now()), and on which client: see #serverChecked. */
  #checkedAt = -Infinity;
  #checkedClient: RedisCommandClient | undefined;
  /** The check in progress, which every call waits for. */
  #checking: Promise<void> | undefined;
  /** 'ready' events seen: a check during which one came may have asked the server before it, and does not count. */
  #connections = 0;
  /** Commands sent and not yet settled, each with how to abort it (see #watch). */
  readonly #sending = new SetAtLoad<{ client: RedisCommandClient; abort: AbortController }>();
  /** Per client this connection watches (see #watch), how to stop: a replaced client's entry goes with it (review 63 F4). */
  readonly #unwatch = new MapAtLoad<RedisCommandClient, () => void>();

  /** When the store's open must be done by (performance.now()): see requireServer. */
  readonly #openDeadline: number;

  /** The open's deadline (performance.now() time), for what an open sends after the server check (RedisReplayStore.open). */
  get openDeadline(): number {
    return this.#openDeadline;
  }

  private constructor(client: RedisCommandClient, owned: OwnedClient | undefined, url: string | undefined, namespace: string, timeoutMs: number, openDeadline: number) {
    this.#openDeadline = openDeadline;
    this.#client = client;
    this.#owned = owned;
    this.#url = url;
    this.namespace = namespace;
    this.timeoutMs = timeoutMs;
    this.#watch(client);
  }

  /**
   * A (re)connection may lead to another server (a failover to a replica or to a server with
   * another maxmemory-policy, a restart with another configuration): node-redis emits 'ready'
   * each time it has connected, and the server is checked again before the next call (review 61
   * F1). A client without `on` (any object with sendCommand may be passed in) is checked every
   * SERVER_CHECK_INTERVAL_MS only.
   */
  #watch(client: RedisCommandClient): void {
    // Either event: the server is checked again before the next call, and a check in progress does not count.
    const unverify = () => {
      this.#connections++;
      if (client === this.#client) this.#checkedAt = -Infinity;
    };
    const unwatch = watchClient(client, {
      ready: () => {
        unverify();
        if (client === this.#client) this.#droppedAt = undefined;
      },
      // A client passed in keeps the commands not yet written in its offline queue and writes
      // them on the next connection, with its handshake, before 'ready' and any check of the
      // server it reached: they fail instead (closed; review 64 F1: a reserve was written on an
      // allkeys-lru server). Commands sent while it is not ready are refused in send(). A client
      // this store made has no offline queue: its commands of a dropped connection fail anyway.
      dropped: () => {
        unverify();
        if (client === this.#client) this.#droppedAt ??= performance.now();
        // Set's iterator as it was at load: a replaced one left unwritten commands unaborted.
        const each = setValues(this.#sending);
        for (let step = setIteratorStep(each); !step.done; step = setIteratorStep(each)) if (step.value.client === client) step.value.abort.abort();
      },
    });
    if (unwatch !== undefined) mapSet(this.#unwatch, client, unwatch);
  }

  /** Stops watching `client` (a replaced client). */
  #unwatchClient(client: RedisCommandClient): void {
    mapGet(this.#unwatch, client)?.();
    mapDelete(this.#unwatch, client);
  }

  /** Stops watching every client (close, or a failed open). */
  #unwatchAll(): void {
    const stops: OwnList<() => void> = ownList();
    const each = mapValues(this.#unwatch);
    for (let step = mapIteratorStep(each); !step.done; step = mapIteratorStep(each)) stops[stops.length] = step.value;
    mapClear(this.#unwatch as Map<unknown, unknown>);
    for (let i = 0; i < stops.length; i++) stops[i]!();
  }

  /**
   * Sets what the store needs of the server and checks it now (the store's open): on failure the
   * connection is closed and the open fails with the check's error.
   */
  async requireServer(check: ServerCheck): Promise<void> {
    this.#check = check;
    try {
      // The open's one bound, connecting included (review 64 F2: the check got a full bound of
      // its own after the connect's).
      await this.#serverChecked(this.#openDeadline);
    } catch (error) {
      this.#abandon(); // the open fails: nothing is left connected, at once
      throw error;
    }
  }

  /** Ends a connection whose open failed: no graceful close (nothing of the caller's is waiting on it). */
  #abandon(): void {
    this.#closed = true; // a replacement that connects after all is destroyed there
    this.#unwatchAll();
    // A replacement still connecting, begun when the check's command timed out, is ended too: left
    // to its own bound, it stayed connected up to another operationTimeoutMs after the open failed.
    if (this.#connecting !== undefined) destroyClient(this.#connecting);
    if (this.#owned !== undefined) destroyClient(this.#owned);
  }

  /**
   * Runs the server check unless one passed on the current client less than
   * SERVER_CHECK_INTERVAL_MS ago and no reconnection happened since: a policy changed at run time
   * (CONFIG SET) is seen within that interval, a reconnection before the next call. Calls wait for
   * a check in progress and fail with its error (fail closed: EVICTING_ENGINE, NOT_A_PRIMARY, or
   * why the check got no answer).
   */
  async #serverChecked(deadline: number): Promise<RedisCommandClient> {
    // A loop, not one wait: a check that ran on a client replaced meanwhile (#replaceHungClient)
    // passes for that client only, and the new one is checked next (review 63 F1: the calls
    // waiting on it went on to the new, unchecked client). The check's own commands throw
    // STORE_TIMEOUT once the deadline passes, which ends the loop.
    for (;;) {
      const check = this.#check;
      const client = this.#client;
      if (check === undefined) return client;
      if (this.#checkedClient === client && performance.now() - this.#checkedAt < SERVER_CHECK_INTERVAL_MS) return client;
      // Each call waits within its own deadline, whoever started the check (review 64 F2). The
      // deadline is read before a check starts: a check nobody awaits would end the process on
      // an unhandled rejection when it fails (an open whose connect used up the bound).
      const left = mathCeil(deadline - performance.now());
      if (left <= 0) throw this.#timedOut("server check");
      if (this.#checking === undefined) {
        const startedAt = performance.now();
        const connections = this.#connections;
        // Settled through Promise's `then` as it was at load, with no `finally`, which caller code
        // can replace (README "Hardening").
        this.#checking = new PromiseAtLoad<void>((resolve, reject) => {
          whenSettled(
            check(this, client, deadline),
            () => {
              this.#checking = undefined;
              if (this.#connections === connections) {
                // else reconnected meanwhile: the loop checks again
                this.#checkedAt = startedAt;
                this.#checkedClient = client;
              }
              resolve();
            },
            (error) => {
              this.#checking = undefined;
              reject(error);
            },
          );
        });
      }
      await withTimeout(this.#checking, left, "server check");
    }
  }

  static async open(urlOrClient: unknown, read: Partial<Record<(typeof SHARED_OPTION_KEYS)[number], unknown>>): Promise<Connection> {
    // The default on undefined only: null is refused like any other value that is no namespace,
    // as every other option refuses it (hunt 18: `namespace: null` opened on the shared default
    // "chio", so a kernel whose setting came out null shared another kernel's pins and pairs).
    const namespace = read.namespace === undefined ? "chio" : read.namespace;
    if (typeof namespace !== "string" || regExpExec(NAMESPACE, namespace) === null) throw new InvalidConfigError("namespace must be 1–64 of [A-Za-z0-9_.-]");
    const timeoutMs = integerOption(read.operationTimeoutMs, "operationTimeoutMs", DEFAULT_STORE_TIMEOUT_MS, 1, 600_000);
    const deadline = performance.now() + timeoutMs;
    if (typeof urlOrClient !== "string") {
      if (urlOrClient === null || typeof urlOrClient !== "object" || typeof (urlOrClient as RedisCommandClient).sendCommand !== "function") {
        throw new InvalidTypeError("Redis stores open from a redis:// URL or a node-redis client");
      }
      return new Connection(urlOrClient as RedisCommandClient, undefined, undefined, namespace, timeoutMs, deadline);
    }
    let url: URL;
    try {
      url = new URL(urlOrClient);
    } catch {
      // Neither the text nor the parser's error (whose `input` is the whole text) goes into the
      // error: a connection URL may carry a password.
      throw new InvalidConfigError("the Redis URL does not parse (not repeated here: it may hold a password)");
    }
    if (url.protocol !== "redis:" && url.protocol !== "rediss:") throw new InvalidConfigError(`Redis stores open from a redis:// or rediss:// URL, got ${url.protocol}`);
    const client = await connectClient(urlOrClient, timeoutMs);
    return new Connection(client, client, urlOrClient, namespace, timeoutMs, deadline);
  }

  /**
   * One command, bounded by the call's deadline (default: operationTimeoutMs from now); client
   * errors become STORE_UNAVAILABLE, a timeout STORE_TIMEOUT.
   *
   * node-redis gets the same bound as its own per-command `timeout`. Its timer drops a command
   * that is still waiting to be written (a backpressured socket, or the offline queue of a client
   * passed in while it reconnects), so a call that gave up cannot be written later and land
   * after its caller was told STORE_TIMEOUT; and node-redis's default (5000 ms) no longer cuts
   * an operationTimeoutMs above it short with a different error. A command already written can
   * still land late (README "Running a cluster", "What they guarantee").
   */
  async command(operation: string, args: string[], deadline = performance.now() + this.timeoutMs): Promise<unknown> {
    if (this.#closed) throw new SharedStoreError("STORE_CLOSED", `${operation}: the store is closed`);
    // `return await`, not `return`: an async function that returns a promise settles its own
    // through that promise's `then`, looked up as it runs, which caller code can replace after load
    // (one mapping a reply of 0 to 1 reserved a replayed nonce); awaiting a native promise looks
    // nothing up (README "Hardening").
    return await this.#inFlight.unlessClosed(this.#checkedSend(operation, args, deadline), operation);
  }

  /** The server check, then the command on the client that was checked. */
  async #checkedSend(operation: string, args: string[], deadline: number): Promise<unknown> {
    // Sent on the client that was checked, even if another replaced it meanwhile (a replaced
    // client is closed: the call then fails, closed).
    const checked = await this.#serverChecked(deadline);
    return await this.send(operation, args, deadline, checked); // as in command(); send() refuses once closed
  }

  /** command() without the server check, on `client`: the check's own commands. */
  async send(operation: string, args: string[], deadline: number, client: RedisCommandClient): Promise<unknown> {
    if (this.#closed) throw new SharedStoreError("STORE_CLOSED", `${operation}: the store is closed`);
    const sentAt = performance.now();
    const left = mathCeil(deadline - sentAt);
    if (left <= 0) throw this.#timedOut(operation);
    const answered = () => {
      if (client === this.#client) this.#lastAnswerAt = performance.now();
    };
    // node-redis's isReady: false while it is reconnecting, when a client passed in would queue
    // the command for whichever server it reaches next (see #watch).
    if ((client as { isReady?: unknown }).isReady === false) {
      // node-redis bounds a reconnection's TCP connect, not the handshake after it: on a connection
      // accepted and then silent (a proxy whose server hangs, a NAT that forgot it), a client this
      // store made stays not ready until the operating system gives up on the socket, and its
      // calls are refused here without ever timing out; so past the bound it is replaced as a
      // hung one is (one attempt at a time), or the store never worked again with the server back.
      // The bound then counts again from this attempt: a replacement refused at once (WRONGPASS
      // after a password change) left the way free for the next call's, and every call made a
      // connection (review 164: 385 in 1 s).
      if (this.#droppedAt !== undefined && performance.now() - this.#droppedAt > this.timeoutMs) {
        this.#droppedAt = performance.now();
        this.#replaceHungClient(client);
      }
      throw new SharedStoreError("STORE_UNAVAILABLE", `${operation}: the client is not connected`);
    }
    const sending = { client, abort: new AbortController() };
    setAdd(this.#sending, sending);
    try {
      const reply = client.sendCommand(args, { timeout: left, abortSignal: sending.abort.signal });
      // Subscribed before withTimeout, so `answered` runs first; Promise's `then` as it was at
      // load (README "Hardening").
      whenSettled(reply, answered, (error: unknown) => {
        if (isErrorReply(error)) answered(); // the server's own error reply: it is there
      });
      return await withTimeout(reply, left, operation);
    } catch (cause) {
      const timedOut = (instanceOfOrFalse(SharedStoreError, cause) && cause.code === "STORE_TIMEOUT") || isRedisTimeout(cause);
      if (!timedOut) {
        // A key of another Redis type under one of ours (a hash where a string belongs, say) is
        // data this store never writes, as is a value it cannot read (review 47, nit 8a).
        if (isErrorReply(cause) && (stringStartsWith(cause.message, "WRONGTYPE") || regExpExec(SCRIPT_WRONGTYPE_REDIS_6, cause.message) !== null)) {
          throw new SharedStoreError("STORE_UNEXPECTED_REPLY", `${operation}: a key of this store holds another Redis type (${cause.message})`, { cause });
        }
        throw unavailable(operation, cause);
      }
      if (this.#lastAnswerAt < sentAt) this.#replaceHungClient(client);
      throw this.#timedOut(operation, isRedisTimeout(cause) ? cause : undefined);
    } finally {
      setDelete(this.#sending, sending);
    }
  }

  /**
   * A command got no answer within its bound, and no other command got one since it was sent:
   * the connection may be hung without an error (its traffic silently dropped, by a NAT or load
   * balancer that forgot it, or a failed-over primary's address gone), which the client would
   * not notice until the operating system gives up on the socket, minutes later; every call
   * meanwhile fails with STORE_TIMEOUT. So a client this store created is replaced by a fresh
   * connection to the same URL (one attempt at a time; on failure the old one stays and the next
   * such timeout tries again), and the old one is closed: calls still waiting on it get their
   * answers if it answers after all, else it is destroyed after operationTimeoutMs and they fail
   * (closed). A server that is merely slow is reconnected to as well, at most once per timed-out
   * call, and so is a client this store made that stays not ready past the bound (see send()).
   * A client passed in is the caller's to manage (README "Running a cluster", *A connection that hangs without an error*).
   */
  #replaceHungClient(hung: RedisCommandClient): void {
    if (this.#url === undefined || this.#closed || this.#replacing || hung !== this.#client) return;
    this.#replacing = true;
    const connecting = connectClient(this.#url, this.timeoutMs, (client) => (this.#connecting = client));
    // Through Promise's `then` as it was at load (README "Hardening"). Not awaited by close(),
    // which ends the client still connecting instead (hunt 18: close() waited for it, up to
    // operationTimeoutMs against a frozen server).
    whenSettled(
      connecting,
      (fresh) => {
        this.#replacing = false;
        this.#connecting = undefined;
        if (this.#closed) {
          destroyClient(fresh); // closed while it connected
          return;
        }
        const old = this.#owned;
        this.#client = fresh;
        this.#owned = fresh;
        this.#droppedAt = undefined;
        this.#watch(fresh); // and checked before the next call: it is not #checkedClient
        if (old !== undefined) this.#unwatchClient(old as unknown as RedisCommandClient);
        this.#lastAnswerAt = performance.now();
        // Commands still waiting on the old connection get their answers there if it answers
        // after all (a server that was only slow, or frozen and thawed); one that stays silent
        // is destroyed after operationTimeoutMs, failing its waiting calls (closed), or at
        // once by close().
        if (old !== undefined) {
          setAdd(this.#retiring, old);
          const retired = () => void setDelete(this.#retiring, old);
          whenSettled(endClient(old, this.timeoutMs), retired, retired); // it does not reject; kept handled all the same
        }
      },
      () => {
        // no fresh connection either: the old client stays, and the next such timeout tries again
        this.#replacing = false;
        this.#connecting = undefined;
      },
    );
  }

  #timedOut(operation: string, cause?: unknown): SharedStoreError {
    return new SharedStoreError("STORE_TIMEOUT", `${operation}: no answer within ${this.timeoutMs} ms`, cause === undefined ? undefined : { cause });
  }

  /**
   * The server's maxmemory-policy, or undefined when it does not say: CONFIG refused or renamed,
   * as some managed services do (an error reply that refuses the command: CONFIG_REFUSED). A
   * timeout, a lost connection or any other error reply (BUSY while another client's script runs,
   * or a proxy's own error: the server would answer later) is thrown: the policy is then unknown,
   * not unreadable, and an open that went on would run a replay store on a server that may evict
   * its pairs (review 47: a server slow for a moment opened one on allkeys-lru; review 50: so did
   * a BUSY reply).
   */
  async evictionPolicy(client: RedisCommandClient, deadline: number): Promise<string | undefined> {
    let reply: unknown;
    try {
      reply = await this.send("config", ["CONFIG", "GET", "maxmemory-policy"], deadline, client);
    } catch (error) {
      if (refusesCommand(error)) return undefined;
      throw error;
    }
    // RESP2 answers [name, value]; RESP3 a map (an object, or a Map under a client's typeMapping):
    // the shapes of HGETALL's reply (hashEntries), empty when the server has no such parameter,
    // as CONFIG refused. Anything else is an answer this store cannot read: the check fails
    // (closed), where taking it for "CONFIG refused" opened the stores on an allkeys-lru server
    // (review 64 F3).
    const entries = hashEntries(reply, "config");
    if (entries.length === 0) return undefined;
    // An index loop, not `find`, which caller code can replace (README "Hardening").
    let value: unknown;
    for (let i = 0; i < entries.length; i++) {
      if (entries[i]!.name === "maxmemory-policy") {
        value = entries[i]!.value;
        break;
      }
    }
    if (typeof value !== "string") throw unexpected("config", reply);
    return value;
  }

  /**
   * The server's replication role (ROLE: "master", "slave", "sentinel"), or undefined when ROLE
   * is refused (as CONFIG may be: CONFIG_REFUSED). A timeout or any other error is thrown.
   */
  async role(client: RedisCommandClient, deadline: number): Promise<string | undefined> {
    let reply: unknown;
    try {
      reply = await this.send("role", ["ROLE"], deadline, client);
    } catch (error) {
      if (refusesCommand(error)) return undefined;
      throw error;
    }
    if (isArray(reply) && typeof reply[0] === "string") return reply[0];
    throw unexpected("role", reply);
  }
  /**
   * Runs a script by its SHA1, loading it once with EVAL when the server does not have it. Both
   * attempts share one deadline: the call stays within operationTimeoutMs (review-32 D2).
   */
  async run(operation: string, s: Script, keys: string[], args: string[], deadline = performance.now() + this.timeoutMs): Promise<unknown> {
    try {
      return await this.command(operation, scriptCommand("EVALSHA", s.sha, keys, args), deadline);
    } catch (error) {
      const cause = (error as SharedStoreError).cause;
      if (!instanceOfOrFalse(Error, cause) || !stringStartsWith(cause.message, "NOSCRIPT")) throw error;
      return await this.command(operation, scriptCommand("EVAL", s.text, keys, args), deadline); // as in command()
    }
  }

  /**
   * Refuses every call in flight with STORE_CLOSED at once (CallsInFlight) and keeps what they
   * have not yet written from being written: on a client passed in, which stays open for its
   * owner, their unwritten commands are aborted (a call whose server check is still waiting sends
   * nothing afterwards: send() refuses once closed); a client this store created is destroyed,
   * without waiting on the server, as are a replacement still connecting and replaced clients
   * still closing (hunt 18: a graceful close waited for the server's answers, up to
   * operationTimeoutMs against a frozen server, and the calls it waited for resolved after it).
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#unwatchAll();
    this.#inFlight.refuseAll();
    const sending = setValues(this.#sending);
    for (let step = setIteratorStep(sending); !step.done; step = setIteratorStep(sending)) step.value.abort.abort();
    // A replacement that connects after all is destroyed where it lands (#replaceHungClient).
    if (this.#connecting !== undefined) destroyClient(this.#connecting);
    const retiring = setValues(this.#retiring);
    for (let step = setIteratorStep(retiring); !step.done; step = setIteratorStep(retiring)) destroyClient(step.value);
    setClear(this.#retiring);
    if (this.#owned) destroyClient(this.#owned);
  }
}

/**
 * `[command, script, number of keys, ...keys, ...args]`, filled by index into a list of our own and
 * given Array.prototype back only for the driver: spreads run the array iterator, which caller
 * code can replace (README "Hardening").
 */
function scriptCommand(command: string, script: string, keys: readonly string[], args: readonly string[]): string[] {
  const list: OwnList<string> = ownList(3 + keys.length + args.length);
  list[0] = command;
  list[1] = script;
  list[2] = toText(keys.length);
  for (let i = 0; i < keys.length; i++) list[3 + i] = keys[i]!;
  for (let i = 0; i < args.length; i++) list[3 + keys.length + i] = args[i]!;
  return ownListAsArray(list);
}

const HEX_DIGITS = "0123456789abcdef";
const hexByte = (byte: number): string => HEX_DIGITS[byte >> 4]! + HEX_DIGITS[byte & 15]!;

/**
 * Hex of the UTF-8 of exactText(value): injective, and free of `{`, `}` and `:`. Encoded here, not
 * by Buffer.from(…).toString("hex"), which caller code can replace (README "Hardening");
 * exactText's text is well-formed UTF-16, so every surrogate is one of a pair.
 */
function keyPart(value: string): string {
  const text = exactText(value);
  let out = "";
  for (let i = 0; i < text.length; i++) {
    let unit = charCodeAt(text, i);
    if (unit >= 0xd800 && unit <= 0xdbff && i + 1 < text.length) {
      const low = charCodeAt(text, i + 1);
      if (low >= 0xdc00 && low <= 0xdfff) {
        unit = 0x10000 + ((unit - 0xd800) << 10) + (low - 0xdc00);
        i++;
      }
    }
    if (unit < 0x80) out += hexByte(unit);
    else if (unit < 0x800) out += hexByte(0xc0 | (unit >> 6)) + hexByte(0x80 | (unit & 63));
    else if (unit < 0x10000) out += hexByte(0xe0 | (unit >> 12)) + hexByte(0x80 | ((unit >> 6) & 63)) + hexByte(0x80 | (unit & 63));
    else out += hexByte(0xf0 | (unit >> 18)) + hexByte(0x80 | ((unit >> 12) & 63)) + hexByte(0x80 | ((unit >> 6) & 63)) + hexByte(0x80 | (unit & 63));
  }
  return out;
}

/**
 * A script's -2: a key it read before writing anything holds a value no store writes (`what` names
 * the keys it reads), left as it is. Said as such: it came out as "unexpected reply number", as if
 * the server had answered oddly, which sent an operator nowhere near the key to fix or delete.
 */
function valueNoStoreWrites(operation: string, what: string): SharedStoreError {
  // Not "delete it": a pair's key deleted lets its nonce be reserved again, and an envelope still
  // in its window be accepted twice (review 164).
  return new SharedStoreError("STORE_UNEXPECTED_REPLY", `${operation}: ${what} holds a value no store writes; nothing was written (fix it by hand)`);
}

function unexpected(operation: string, reply: unknown): SharedStoreError {
  const shown = typeof reply === "string" ? quoteJsonString(stringSlice(reply, 0, 40)) : typeof reply;
  return new SharedStoreError("STORE_UNEXPECTED_REPLY", `${operation}: unexpected reply ${shown}`);
}

/** Replay protection in Redis; see the file header. */
export class RedisReplayStore implements ReplayStore {
  readonly maxSkewSecs: number;
  readonly maxKeyUnits: number;
  readonly maxReservationsPerPeer: number;
  readonly #redis: Connection;
  /** The retention floor as last seen (registration, reserve, retentionFloor, lowerRetentionFloor). */
  #floorSeen = 0;
  /** Per reservation in flight: the pair's value and the quota counter it was counted in. */
  readonly #inFlight = new InFlightTokens<{ value: string; quotaKey: string }>(DEFAULT_MAX_IN_FLIGHT);

  private constructor(redis: Connection, maxSkewSecs: number, maxKeyUnits: number, maxReservationsPerPeer: number) {
    this.#redis = redis;
    this.maxSkewSecs = maxSkewSecs;
    this.maxKeyUnits = maxKeyUnits;
    this.maxReservationsPerPeer = maxReservationsPerPeer;
  }

  /**
   * Connects (from a redis:// URL, or on an existing node-redis client, which close() then leaves
   * open). Options are validated before connecting. @throws InvalidConfigError / InvalidTypeError
   * on bad arguments, SharedStoreError when the server cannot be reached in time.
   */
  static async open(urlOrClient: string | RedisCommandClient, options?: RedisReplayStoreOptions): Promise<RedisReplayStore> {
    const read = readOptions(options, "options", REPLAY_OPTION_KEYS);
    const maxSkewSecs = integerOption(read.maxSkewSecs, "maxSkewSecs", DEFAULT_STORE_MAX_SKEW_SECS, 0, MAX_STORE_SKEW_SECS);
    const maxKeyUnits = integerOption(read.maxKeyUnits, "maxKeyUnits", DEFAULT_STORE_MAX_KEY_UNITS, 2, 65536);
    const quota = integerOption(read.maxReservationsPerPeer, "maxReservationsPerPeer", 10_000, 1, 1_000_000_000);
    const redis = await Connection.open(urlOrClient, read);
    // Every pair has a TTL, so any evicting policy (volatile-* as well as allkeys-*) drops held
    // nonces first, and a replay of an envelope accepted seconds ago would be accepted again.
    await redis.requireServer(serverCheck("held nonces (a replay would be accepted)", (policy) => policy !== "noeviction"));
    const store = new RedisReplayStore(redis, maxSkewSecs, maxKeyUnits, quota);
    try {
      // Within the open's one bound, connecting included (helper 143: a bound of its own after them).
      await store.#registerRetention(redis.openDeadline);
    } catch (error) {
      try {
        await store.close();
      } catch {
        // the open's own error is the one to report
      }
      throw error;
    }
    return store;
  }

  get #retentionKey(): string {
    return `${this.#redis.namespace}:retention`;
  }

  /** Raises the namespace's retention floor to this store's maxSkewSecs (never lowers it). */
  async #registerRetention(deadline?: number): Promise<void> {
    const reply = await this.#redis.run("replay.registerRetention", SCRIPTS.registerRetention, [this.#retentionKey], [toText(this.maxSkewSecs)], deadline);
    if (reply === -2) throw valueNoStoreWrites("replay.registerRetention", `the retention floor ${this.#retentionKey}`);
    if (typeof reply !== "number" || !isSafeInteger(reply) || reply < this.maxSkewSecs) throw unexpected("replay.registerRetention", reply);
    this.#floorSeen = reply;
  }

  /**
   * The namespace's retention floor: the largest maxSkewSecs registered there by the stores that
   * opened it (or put back by a reserve), unless lowered since by lowerRetentionFloor(); 0 when
   * the namespace holds none (its key deleted by hand). A pair reserved now is kept until its
   * timestamp plus the larger of this and maxSkewSecs, plus a second.
   */
  async retentionFloor(): Promise<number> {
    const reply = await this.#redis.command("replay.retentionFloor", ["GET", this.#retentionKey]);
    if (reply === null) return 0;
    // The scripts' check (READ_FLOOR): decimal digits, at most MAX_STORE_SKEW_SECS.
    if (typeof reply !== "string" || regExpExec(DIGITS, reply) === null || toNumber(reply) > MAX_STORE_SKEW_SECS) throw unexpected("replay.retentionFloor", reply);
    this.#floorSeen = toNumber(reply);
    return this.#floorSeen;
  }

  /**
   * Sets the namespace's retention floor to this store's maxSkewSecs, for an operator who has
   * lowered maxSkewSecs (and the skew) on every replica and wants pairs to expire sooner;
   * resolves to the floor it replaced (0 if there was none). Safe only once every replica on the
   * namespace runs a maxSkewSecs at most this store's: a replica still on a larger one raises the
   * floor again when it next opens or reserves, but the pairs other replicas write before that
   * expire at the lower bound, and that replica could accept their envelopes again.
   */
  async lowerRetentionFloor(): Promise<number> {
    const reply = await this.#redis.run("replay.lowerRetentionFloor", SCRIPTS.lowerRetention, [this.#retentionKey], [toText(this.maxSkewSecs)]);
    if (reply === -2) throw valueNoStoreWrites("replay.lowerRetentionFloor", `the retention floor ${this.#retentionKey}`);
    if (typeof reply !== "number" || reply < -1) throw unexpected("replay.lowerRetentionFloor", reply);
    this.#floorSeen = this.maxSkewSecs;
    return reply < 0 ? 0 : reply;
  }

  fits(peerId: string, nonce: string): boolean {
    return pairFits(peerId, nonce, this.maxKeyUnits);
  }

  #pairKey(peerId: string, nonce: string): string {
    return `${this.#redis.namespace}:{${keyPart(peerId)}}:n:${keyPart(nonce)}`;
  }

  async reserve(peerId: string, nonce: string, timestamp: number, now: number, skewSecs: number): Promise<boolean> {
    checkReserveArguments(peerId, nonce, timestamp, now, skewSecs, this.maxSkewSecs, this.maxKeyUnits);
    const inFlightKey = InFlightTokens.key(peerId, nonce);
    if (!this.#inFlight.admit(inFlightKey)) return false; // held by an accept in flight here (InFlightTokens)
    const token = reservationToken();
    const key = this.#pairKey(peerId, nonce);
    // Where the server's clock refuses the envelope: past its window under the asked skew.
    // Math, Number and String as they were at load: a replaced Math.min gave a short TTL, and the
    // pair expired while its envelope was still taken (README "Hardening").
    const windowEndMs = mathMin((timestamp + skewSecs + 1) * 1000, MAX_SAFE_INTEGER);
    let reply: unknown;
    let quotaKey = "";
    // At most three tries, all within one operationTimeoutMs: the first with the floor last seen,
    // then with the one the script answered (a floor raised or lowered meanwhile; a third for one
    // changed again during that).
    const deadline = performance.now() + this.#redis.timeoutMs;
    for (let attempt = 0; ; attempt++) {
      const retention = mathMax(this.maxSkewSecs, this.#floorSeen);
      const window = mathMax(retention, 1);
      quotaKey = `${this.#redis.namespace}:{${keyPart(peerId)}}:q:${mathFloor(now / window)}`;
      // Kept until timestamp + retention (+1 s); at least 1 s, at most 2^53−1 ms (which Redis can
      // add to its clock without overflow).
      const ttlMs = mathMin(mathMax((timestamp - now + retention + 1) * 1000, 1000), MAX_SAFE_INTEGER);
      // The same bound as a time on the server's clock (the script keeps the longer of the two).
      const keepUntilMs = mathMin((timestamp + retention + 1) * 1000, MAX_SAFE_INTEGER);
      reply = await this.#redis.run("replay.reserve", SCRIPTS.reserve, [key, quotaKey, this.#retentionKey], [
        `${token}:${timestamp}`,
        toText(ttlMs),
        toText(now),
        toText(skewSecs),
        toText(this.maxReservationsPerPeer),
        toText(window * 2000),
        toText(keepUntilMs),
        toText(windowEndMs),
        toText(this.maxSkewSecs),
        toText(retention),
      ], deadline);
      if (!isArray(reply)) break;
      const code: unknown = reply[0];
      const current: unknown = reply[1];
      if (code !== -4 || typeof current !== "number" || !isSafeInteger(current) || current < this.maxSkewSecs) {
        throw unexpected("replay.reserve", code);
      }
      if (attempt === 2) {
        throw new SharedStoreError("STORE_UNEXPECTED_REPLY", "replay.reserve: the retention floor changed on each of 3 tries (someone is rewriting it)");
      }
      this.#floorSeen = current;
    }
    if (reply === 0) return false;
    if (reply === -3) throw pastWindowOnEngineClock(timestamp, skewSecs);
    if (reply === -5) throw engineClockAhead(now, skewSecs);
    if (reply === 1) return this.#inFlight.claim(inFlightKey, { value: `${token}:${timestamp}`, quotaKey });
    if (reply === -1) {
      throw new SharedStoreError("PEER_QUOTA_EXCEEDED", `replay.reserve: this peer reserved ${this.maxReservationsPerPeer} pairs in this window (maxReservationsPerPeer)`);
    }
    // The script does not say which of its keys: the pair's and the counter's names are up to about 12 bytes per unit of maxKeyUnits, too long to quote.
    if (reply === -2) throw valueNoStoreWrites("replay.reserve", `the pair, this peer's quota counter or the retention floor ${this.#retentionKey}`);
    throw unexpected("replay.reserve", reply);
  }

  /** The key is the record: nothing to write. */
  commit(peerId: string, nonce: string): void {
    expectReplayPair(peerId, nonce); // INVALID_TYPE, as ReplayCache.commit: not ignored (hunt 58)
    this.#inFlight.take(InFlightTokens.key(peerId, nonce));
  }

  async release(peerId: string, nonce: string): Promise<void> {
    expectReplayPair(peerId, nonce);
    const reservation = this.#inFlight.take(InFlightTokens.key(peerId, nonce));
    if (reservation === undefined) return; // not ours (or dropped from the bound): the pair stays held
    const reply = await this.#redis.run("replay.release", SCRIPTS.release, [this.#pairKey(peerId, nonce), reservation.quotaKey], [reservation.value]);
    if (reply !== 0 && reply !== 1) throw unexpected("replay.release", reply);
  }

  /**
   * Refuses the calls still in flight with STORE_CLOSED at once and ends the client this store
   * opened without waiting on the server; a client passed in stays open (Connection.close).
   */
  close(): Promise<void> {
    return this.#redis.close();
  }
}
hardenClass(RedisReplayStore); // its statics and methods stay its own: see hardenClass

/** Pins in one Redis hash; see the file header. */
export class RedisPeerStore implements FederationPeerStore {
  readonly #redis: Connection;
  readonly #hash: string;

  private constructor(redis: Connection) {
    this.#redis = redis;
    this.#hash = `${redis.namespace}:peers`;
  }

  /** See RedisReplayStore.open. */
  static async open(urlOrClient: string | RedisCommandClient, options?: RedisStoreOptions): Promise<RedisPeerStore> {
    const redis = await Connection.open(urlOrClient, readOptions(options, "options", SHARED_OPTION_KEYS));
    // Pins have no TTL: volatile-* policies never evict them, allkeys-* ones do.
    await redis.requireServer(serverCheck("pins", (policy) => stringStartsWith(policy, "allkeys-")));
    return new RedisPeerStore(redis);
  }

  async insert(peer: FederationPeer): Promise<void> {
    const encoded = encodePeer(peer); // checks the peer before anything reads it
    const reply = await this.#redis.command("insert", ["HSET", this.#hash, field(peer.kernelId), encoded]);
    if (reply !== 0 && reply !== 1) throw unexpected("insert", reply);
  }

  async get(kernelId: string): Promise<FederationPeer | undefined> {
    const reply = await this.#redis.command("get", ["HGET", this.#hash, field(kernelId)]);
    return reply === null ? undefined : decodePeer(reply, "get", kernelId);
  }

  async remove(kernelId: string): Promise<FederationPeer | undefined> {
    const reply = await this.#redis.run("remove", SCRIPTS.peerRemove, [this.#hash], [field(kernelId)]);
    return reply === null ? undefined : decodePeer(reply, "remove", kernelId, REMOVED_ANYWAY);
  }

  /**
   * Every pin, each checked against the field it is stored under: a pin under another peer's
   * field is STORE_UNEXPECTED_REPLY, as get() refuses it (review 47: it was listed, while
   * resolve() and forget() could never reach it).
   */
  async snapshot(): Promise<readonly FederationPeer[]> {
    const reply = await this.#redis.run("snapshot", SCRIPTS.peerSnapshot, [this.#hash], []);
    const entries = hashEntries(reply, "snapshot");
    const peers: OwnList<FederationPeer> = ownList(entries.length);
    for (let i = 0; i < entries.length; i++) {
      const peer = decodePeer(entries[i]!.value, "snapshot");
      if (entries[i]!.name !== field(peer.kernelId)) throw new SharedStoreError("STORE_UNEXPECTED_REPLY", "snapshot: a stored pin sits under another peer's field");
      peers[i] = peer;
    }
    return ownListAsArray(peers);
  }

  async compareAndSet(kernelId: string, expected: FederationPeer | undefined, next: FederationPeer): Promise<boolean> {
    expectCompareAndSet(kernelId, expected, next); // INVALID_TYPE, the check every adapter makes (ports.ts)
    if (expected !== undefined && expected.kernelId !== kernelId) return false;
    const reply = await this.#redis.run("compareAndSet", SCRIPTS.peerCas, [this.#hash], [
      field(kernelId),
      expected === undefined ? "" : encodePeer(expected),
      encodePeer(next),
    ]);
    if (reply !== 0 && reply !== 1) throw unexpected("compareAndSet", reply);
    return reply === 1;
  }

  /**
   * Refuses the calls still in flight with STORE_CLOSED at once and ends the client this store
   * opened without waiting on the server; a client passed in stays open (Connection.close).
   */
  close(): Promise<void> {
    return this.#redis.close();
  }
}
hardenClass(RedisPeerStore); // its statics and methods stay its own: see hardenClass

function field(kernelId: string): string {
  if (typeof kernelId !== "string") throw new InvalidTypeError("kernelId must be a string");
  return exactText(kernelId);
}

/** The pin's JSON (serde field order, lowercase hex): equal pins have equal text, which compare-and-set compares. */
function encodePeer(peer: FederationPeer): string {
  if (!(peer instanceof FederationPeer)) throw new InvalidTypeError("peer must be a FederationPeer");
  // Written by hand, in toJSON's member order: JSON.stringify over an object reads toJSON and
  // members through Object.prototype, and a toJSON defined there made the pin of an accepted new
  // key hold the old key (README "Hardening"). The times are safe integers (FederationPeer).
  return `{"kernelId":${quoteJsonString(peer.kernelId)},"publicKey":${quoteJsonString(peer.publicKey.toHex())},"establishedAt":${toText(peer.establishedAt)},"rotationDue":${toText(peer.rotationDue)}}`;
}

/**
 * A stored pin, read back only in the exact text encodePeer writes (and, given `kernelId`, only
 * the pin of that peer). FederationPeer.fromJSON alone also takes other member orders, uppercase
 * hex or `1.7e9`, but compare-and-set compares the stored text with encodePeer(expected): such a
 * pin (seeded by hand) would never compare equal, so it would never be renewed and, once stale,
 * fail every accept as "changed concurrently". It is refused on read instead, as any value the
 * store never writes (review-32 D1).
 */
/** `note` ends the message of a pin that does not read back (remove's: it is deleted all the same). */
function decodePeer(value: unknown, operation: string, kernelId?: string, note = ""): FederationPeer {
  if (typeof value !== "string") throw unexpected(operation, value);
  let peer: FederationPeer;
  try {
    peer = FederationPeer.fromJSON(value); // which parses with JSON.parse as it was at load (README "Hardening")
  } catch (cause) {
    throw new SharedStoreError("STORE_UNEXPECTED_REPLY", `${operation}: a stored pin does not read back: ${(cause as Error).message}${note}`, { cause });
  }
  if (encodePeer(peer) !== value) throw new SharedStoreError("STORE_UNEXPECTED_REPLY", `${operation}: a stored pin is not in the form this store writes${note}`);
  if (kernelId !== undefined && peer.kernelId !== kernelId) throw new SharedStoreError("STORE_UNEXPECTED_REPLY", `${operation}: the pin stored for one peer names another${note}`);
  return peer;
}

/**
 * The field/value pairs of an HGETALL reply: a flat array (RESP2), or a map or object (RESP3).
 * Filled by index into a list of our own, with the built-ins as they were at load: a replaced
 * `push`, spread or Object.entries emptied it, and the server check read no maxmemory-policy
 * (README "Hardening").
 */
function hashEntries(reply: unknown, operation: string): OwnList<{ name: unknown; value: unknown }> {
  const entries: OwnList<{ name: unknown; value: unknown }> = ownList();
  if (isArray(reply)) {
    if (reply.length % 2 !== 0) throw unexpected(operation, reply);
    for (let i = 0; i < reply.length; i += 2) entries[entries.length] = { name: reply[i], value: reply[i + 1] };
    return entries;
  }
  if (instanceOfOrFalse(MapAtLoad, reply)) {
    const each = mapEntries(reply as Map<unknown, unknown>);
    for (let step = mapIteratorStep(each); !step.done; step = mapIteratorStep(each)) entries[entries.length] = { name: step.value[0], value: step.value[1] };
    return entries;
  }
  if (reply !== null && typeof reply === "object") {
    const names = ownEnumerableKeys(reply);
    for (let i = 0; i < names.length; i++) entries[entries.length] = { name: names[i], value: (reply as Record<string, unknown>)[names[i]!] };
    return entries;
  }
  throw unexpected(operation, reply);
}
