// PostgresPeerStore and PostgresReplayStore on a real PostgreSQL (test/cluster/helpers/servers.ts):
// paths a mutation audit found no other test would notice going wrong. Each test names what it
// guards against; the helpers are those of postgres-stores.test.ts.
import { suite } from "uvu";
import * as assert from "uvu/assert";
import pg from "pg";
import { setTimeout as delay } from "node:timers/promises";
import { FederationPeer, InvalidConfigError, PublicKey } from "../../src/handshake/index.js";
import { PostgresPeerStore, PostgresReplayStore, SharedStoreError } from "../../src/stores/postgres.js";
import { atStartOfSecond, wallSecs } from "./helpers/clock.js";
import { startPostgres, startPostgresStandby, type TestServer } from "./helpers/servers.js";
import { rejects, sqlAt } from "./helpers/clients.js";
import { startDelayRelay } from "./helpers/delay-relay.js";

let started: Promise<TestServer> | undefined;
const server = () => (started ??= startPostgres());
let tables = 0;
const freshPrefix = () => `a${++tables}_`;
const T = wallSecs();
const KEY_A = PublicKey.fromHex("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a");

const t = suite("Postgres stores (audit)");

const sql = async (text: string, values: unknown[] = []): Promise<any[]> => sqlAt((await server()).url, text, values);

const peerRows = async (prefix: string) =>
  sql(`SELECT kernel_id, public_key, established_at::text AS e, rotation_due::text AS r FROM ${prefix}peers ORDER BY kernel_id`);

t("a table prefix that carries SQL on a second line is refused before connecting, and the statement never runs", async () => {
  // A mutation audit found that a multi-line prefix check (^ and $ matching at line ends) let
  // "x\n; DROP TABLE …" through to the schema statements, where the prefix is spliced into SQL.
  const url = (await server()).url;
  const canary = `${freshPrefix()}canary`;
  await sql(`CREATE TABLE ${canary} (id int)`);
  for (const tablePrefix of [`x\n; DROP TABLE ${canary}; --`, `x_\nDROP TABLE ${canary}`, "x_\n", `x_;DROP TABLE ${canary}`]) {
    await rejects(PostgresPeerStore.open(url, { tablePrefix }), (e) => e instanceof InvalidConfigError, JSON.stringify(tablePrefix));
    await rejects(PostgresReplayStore.open(url, { tablePrefix }), (e) => e instanceof InvalidConfigError, JSON.stringify(tablePrefix));
  }
  assert.equal(await sql(`SELECT count(*)::int AS n FROM ${canary}`), [{ n: 0 }], "the canary table is still there");
});

/**
 * A store on a pool passed in whose one connection carries a server-side bound (`setting`, 100 ms)
 * far below the store's own (20 s), set after the open; the statement meant to exceed it waits on
 * a lock another connection holds, so only the server can end the call: STORE_TIMEOUT with the
 * server's SQLSTATE `cause`, and the store works once the table is free. With the bound on the pool
 * from the start, a busy machine once had the open's schema statement cancelled instead (hunt 49).
 */
async function serverBoundIsStoreTimeout(setting: "statement_timeout" | "lock_timeout", sqlState: string): Promise<void> {
  const prefix = freshPrefix();
  const url = (await server()).url;
  const pool = new pg.Pool({ connectionString: url, max: 1, idleTimeoutMillis: 0 });
  pool.on("error", () => undefined); // a connection still ending when the last test stops the server (pool.end() does not wait for that)
  const store = await PostgresPeerStore.open(pool, { tablePrefix: prefix, operationTimeoutMs: 20_000 });
  await pool.query(`SET ${setting} = 100`);
  assert.equal((await pool.query(`SHOW ${setting}`)).rows, [{ [setting]: "100ms" }], "the bound is on the connection the store uses");
  const locker = new pg.Client({ connectionString: url });
  await locker.connect();
  try {
    await locker.query("BEGIN");
    await locker.query(`LOCK TABLE ${prefix}peers IN ACCESS EXCLUSIVE MODE`);
    const error = await rejects(store.get("k"), (e) => e instanceof SharedStoreError && e.code === "STORE_TIMEOUT", `ended at ${setting}`);
    assert.is(error.cause?.code, sqlState, "the server's refusal is the cause");
    await locker.query("ROLLBACK");
    assert.is(await store.get("k"), undefined, "works once the table is free");
  } finally {
    await locker.end();
    await store.close();
    await pool.end();
  }
}

t("a statement the server cancels at its statement_timeout is STORE_TIMEOUT, not STORE_UNAVAILABLE", async () => {
  // A mutation audit found that misreading the server's query_canceled (57014) went unnoticed:
  // the other timeout tests accept either code.
  await serverBoundIsStoreTimeout("statement_timeout", "57014");
});

t("a statement the server refuses at the connection's lock_timeout is STORE_TIMEOUT (55P03 lock_not_available), not STORE_UNAVAILABLE", async () => {
  // A user's lock_timeout (a role's, a database's, or a pool's setting) is a bound on waiting, as
  // statement_timeout is: the statement waited on a lock past it and the server gave up. It was
  // reported STORE_UNAVAILABLE (hunt 49).
  await serverBoundIsStoreTimeout("lock_timeout", "55P03");
});

t("a statement an operator cancels (pg_cancel_backend) is STORE_TIMEOUT, writes nothing, and its message does not claim a statement_timeout only (hunt 58)", async () => {
  // The server answers such a cancel with the same SQLSTATE as a statement_timeout (57014); the
  // message named statement_timeout alone. Each call waits on a lock a second connection holds
  // (the store's own bound, 20 s, far away), and a third connection cancels its backend.
  const prefix = freshPrefix();
  const url = (await server()).url;
  const peers = await PostgresPeerStore.open(url, { tablePrefix: prefix, operationTimeoutMs: 20_000 });
  const replay = await PostgresReplayStore.open(url, { tablePrefix: prefix, operationTimeoutMs: 20_000 });
  const locker = new pg.Client({ connectionString: url });
  await locker.connect();
  const pin = new FederationPeer({ kernelId: "k", publicKey: KEY_A, establishedAt: T, rotationDue: T + 100 });
  const cancelled = async (table: string, call: () => Promise<unknown>, label: string) => {
    await locker.query("BEGIN");
    await locker.query(`LOCK TABLE ${prefix}${table} IN ACCESS EXCLUSIVE MODE`);
    const outcome = rejects(call(), (e) => e instanceof SharedStoreError && e.code === "STORE_TIMEOUT", label);
    // The store's backend, once it waits on the lock (polled: it takes a moment to get there).
    let pids: { pid: number }[] = [];
    for (let tries = 0; pids.length === 0 && tries < 2000; tries++) {
      pids = await sql(
        "SELECT pid FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND pid <> pg_backend_pid() AND position($1 in query) > 0",
        [`${prefix}${table}`],
      );
      if (pids.length === 0) await delay(5);
    }
    assert.is(pids.length, 1, `${label}: one statement waits on the lock`);
    assert.equal(await sql("SELECT pg_cancel_backend($1) AS ok", [pids[0]!.pid]), [{ ok: true }], `${label}: cancelled`);
    const error = await outcome;
    await locker.query("ROLLBACK");
    assert.is(error.cause?.code, "57014", `${label}: the server's refusal is the cause`);
    assert.ok(/cancel/i.test(error.message) && /operator/.test(error.message), `${label}: the message names a cancel: ${error.message}`);
    assert.not.ok(/after its statement_timeout/.test(error.message), `${label}: the message does not claim a statement_timeout: ${error.message}`);
  };
  try {
    await cancelled("peers", () => peers.compareAndSet("k", undefined, pin), "compareAndSet");
    assert.is(await peers.get("k"), undefined, "nothing pinned");
    assert.equal(await peerRows(prefix), [], "the peers table is as it was");
    await cancelled("replay", () => replay.reserve("kernel.a", "n1", T, T, 300), "reserve");
    assert.equal(await sql(`SELECT count(*)::int AS n FROM ${prefix}replay`), [{ n: 0 }], "no pair written");
    assert.is(await replay.reserve("kernel.a", "n1", T, T, 300), true, "the pair is free: nothing was held");
    await replay.release("kernel.a", "n1");
    assert.is(await peers.compareAndSet("k", undefined, pin), true, "the store works once the table is free");
  } finally {
    await locker.end();
    await peers.close();
    await replay.close();
  }
});

t("a store opened on a pool passed in: close() leaves the pool open, and every call after close is STORE_CLOSED and writes nothing", async () => {
  // A mutation audit found that neither the closed-store check nor the ownership of a pool passed
  // in was tested: a closed store kept writing through the application's pool, or closing it
  // ended that pool.
  const prefix = freshPrefix();
  const pool = new pg.Pool({ connectionString: (await server()).url });
  pool.on("error", () => undefined); // a connection still ending when the last test stops the server (pool.end() does not wait for that)
  try {
    const peers = await PostgresPeerStore.open(pool, { tablePrefix: prefix });
    const replay = await PostgresReplayStore.open(pool, { tablePrefix: prefix });
    await Promise.all([peers.close(), replay.close()]);
    const closed = (e: any) => e instanceof SharedStoreError && e.code === "STORE_CLOSED";
    const pin = new FederationPeer({ kernelId: "k", publicKey: KEY_A, establishedAt: T, rotationDue: T + 100 });
    await rejects(peers.insert(pin), closed, "insert");
    await rejects(peers.compareAndSet("k", undefined, pin), closed, "compareAndSet");
    await rejects(peers.get("k"), closed, "get");
    await rejects(replay.reserve("p", "n", T, T, 300), closed, "reserve");
    await rejects(replay.sweep(T), closed, "sweep");
    assert.equal((await pool.query("SELECT 1 AS one")).rows, [{ one: 1 }], "the pool passed in is still open");
    assert.equal((await pool.query(`SELECT count(*)::int AS n FROM ${prefix}peers`)).rows, [{ n: 0 }], "no pin written");
    assert.equal((await pool.query(`SELECT count(*)::int AS n FROM ${prefix}replay`)).rows, [{ n: 0 }], "no pair written");
  } finally {
    await pool.end();
  }
});

t("retentionFloor() is 0 when the floor's row is gone, as documented, not an error", async () => {
  // A mutation audit found that only lowerRetentionFloor's reading of a missing row was tested.
  const prefix = freshPrefix();
  const store = await PostgresReplayStore.open((await server()).url, { tablePrefix: prefix, maxSkewSecs: 60, sweepEvery: 0 });
  try {
    assert.is(await store.retentionFloor(), 60);
    await sql(`DELETE FROM ${prefix}replay_retention`);
    assert.is(await store.retentionFloor(), 0);
  } finally {
    await store.close();
  }
});

t("a floor written for the first time starts from the bound of the rows that expire last, past the first 1000 rows (review 78 F3)", async () => {
  // A mutation audit found that reading the 1000 rows that expire first (not last) went
  // unnoticed with the few rows of the other tests: the latest rows, written under a larger
  // bound, were missed and the floor started at the opening store's smaller one.
  const prefix = freshPrefix();
  const url = (await server()).url;
  await (await PostgresReplayStore.open(url, { tablePrefix: prefix, maxSkewSecs: 30, sweepEvery: 0 })).close();
  const W = wallSecs();
  // 1000 rows written long ago under a 10 s bound, and 1 recent row under a 500 s bound.
  await sql(
    `INSERT INTO ${prefix}replay (peer_id, nonce, envelope_ts, expires_at, token)
     SELECT '"old"', '"n' || i || '"', $1::bigint - 5000 + i, $1::bigint - 4990 + i, '0' FROM generate_series(1, 1000) AS i`,
    [W],
  );
  await sql(`INSERT INTO ${prefix}replay (peer_id, nonce, envelope_ts, expires_at, token) VALUES ('"new"', '"n"', $1, $2, '0')`, [W, W + 500]);
  await sql(`DELETE FROM ${prefix}replay_retention`);
  const store = await PostgresReplayStore.open(url, { tablePrefix: prefix, maxSkewSecs: 30, sweepEvery: 0 });
  try {
    assert.is(await store.retentionFloor(), 500);
  } finally {
    await store.close();
  }
});

t("sweepEvery: N starts a background sweep on the N-th reservation", async () => {
  // A mutation audit found that sweeping one reservation late (after N + 1) went unnoticed: the
  // only background-sweep test reserves until the rows are gone.
  const prefix = freshPrefix();
  const store = await PostgresReplayStore.open((await server()).url, { tablePrefix: prefix, maxSkewSecs: 60, sweepEvery: 3 });
  try {
    const W = wallSecs();
    await sql(
      `INSERT INTO ${prefix}replay (peer_id, nonce, envelope_ts, expires_at, token)
       SELECT '"old"', '"n' || i || '"', $1::bigint - 1000, $1::bigint - 940, '0' FROM generate_series(1, 5) AS i`,
      [W],
    );
    const dead = async () => (await sql(`SELECT count(*)::int AS n FROM ${prefix}replay WHERE peer_id = '"old"'`))[0].n as number;
    for (let i = 0; i < 3; i++) assert.is(await store.reserve("new", `m${i}`, W, W, 60), true);
    // The sweep runs in the background: wait for it (at most 10 s); no further reservation is made.
    for (const deadline = Date.now() + 10_000; (await dead()) > 0; await delay(50)) assert.ok(Date.now() < deadline, "the third reservation swept the dead rows");
    assert.is(await dead(), 0);
  } finally {
    await store.close();
  }
});

t("by default (no sweepEvery) a store sweeps in the background after its 1000th reservation", async () => {
  // A mutation audit found the documented default untested: with a default of 0 (never), a
  // store opened without the option would keep every row forever.
  const prefix = freshPrefix();
  const store = await PostgresReplayStore.open((await server()).url, { tablePrefix: prefix, maxSkewSecs: 60 });
  try {
    const W = wallSecs();
    await sql(
      `INSERT INTO ${prefix}replay (peer_id, nonce, envelope_ts, expires_at, token)
       SELECT '"old"', '"n' || i || '"', $1::bigint - 1000, $1::bigint - 940, '0' FROM generate_series(1, 5) AS i`,
      [W],
    );
    const dead = async () => (await sql(`SELECT count(*)::int AS n FROM ${prefix}replay WHERE peer_id = '"old"'`))[0].n as number;
    for (let k = 0; k < 1000; k += 50) {
      const granted = await Promise.all(Array.from({ length: 50 }, (_, i) => store.reserve("new", `m${k + i}`, W, W, 60)));
      assert.ok(granted.every((g) => g === true));
    }
    for (const deadline = Date.now() + 10_000; (await dead()) > 0; await delay(50)) assert.ok(Date.now() < deadline, "the 1000th reservation swept the dead rows");
  } finally {
    await store.close();
  }
});

t("fits is exact at the index bound: a pair of exactly 2600 stored bytes fits and is reserved, one byte more does not fit", async () => {
  // A mutation audit found the byte bound's edge untested: off by one, the exchange would refuse
  // as too long a nonce the store can hold.
  const store = await PostgresReplayStore.open((await server()).url, { tablePrefix: freshPrefix(), maxSkewSecs: 60, sweepEvery: 0 });
  try {
    const nonce = "\u4e00".repeat(865); // JSON form: 2 + 3 × 865 = 2597 bytes
    assert.is(Buffer.byteLength(JSON.stringify("p")) + Buffer.byteLength(JSON.stringify(nonce)), 2600);
    assert.is(store.fits("p", nonce), true, "2600 bytes");
    assert.is(store.fits("pq", nonce), false, "2601 bytes");
    const W = wallSecs();
    assert.is(await store.reserve("p", nonce, W, W, 60), true, "the server holds it");
  } finally {
    await store.close();
  }
});

t("a replay table at a newer schema version is refused (SCHEMA_TOO_NEW), as is a newer retention component", async () => {
  // A mutation audit found that only the peers component's version check was tested.
  const url = (await server()).url;
  for (const component of ["replay", "replay_retention"]) {
    const prefix = freshPrefix();
    await (await PostgresReplayStore.open(url, { tablePrefix: prefix })).close();
    await sql(`UPDATE ${prefix}schema_version SET version = 2 WHERE component = $1`, [component]);
    await rejects(PostgresReplayStore.open(url, { tablePrefix: prefix }), (e) => e instanceof SharedStoreError && e.code === "SCHEMA_TOO_NEW", component);
  }
});

t("a floor written for the first time from rows with a bound beyond ten years is capped at MAX_STORE_SKEW_SECS, and the store opens", async () => {
  // A mutation audit found the cap of the rows' bound untested: without it, one row with a far
  // expiry made every open fail on the floor's CHECK (STORE_UNAVAILABLE).
  const prefix = freshPrefix();
  const url = (await server()).url;
  await (await PostgresReplayStore.open(url, { tablePrefix: prefix, maxSkewSecs: 30, sweepEvery: 0 })).close();
  const W = wallSecs();
  await sql(`INSERT INTO ${prefix}replay (peer_id, nonce, envelope_ts, expires_at, token) VALUES ('"p"', '"n"', $1, $2, '0')`, [W, W + 400_000_000]);
  await sql(`DELETE FROM ${prefix}replay_retention`);
  const store = await PostgresReplayStore.open(url, { tablePrefix: prefix, maxSkewSecs: 30, sweepEvery: 0 });
  try {
    assert.is(await store.retentionFloor(), 10 * 365 * 86400);
  } finally {
    await store.close();
  }
});

t("a release by a store that holds no reservation of the pair changes nothing, also for a pair put back after a takeover (token '0')", async () => {
  // A mutation audit found that a release of a pair not in flight here was only tested against a
  // row carrying another reservation's token, never against a row put back by an undo.
  const prefix = freshPrefix();
  const url = (await server()).url;
  const a = await PostgresReplayStore.open(url, { tablePrefix: prefix, maxSkewSecs: 300, sweepEvery: 0 });
  const b = await PostgresReplayStore.open(url, { tablePrefix: prefix, maxSkewSecs: 300, sweepEvery: 0 });
  const rows = async () => sql(`SELECT envelope_ts::text AS ts, expires_at::text AS e, token FROM ${prefix}replay`);
  try {
    assert.is(await a.reserve("p", "n", T, T, 300), true);
    a.commit("p", "n");
    assert.is(await a.reserve("p", "n", T + 200, T + 200, 60), true, "taken over under skew 60");
    await a.release("p", "n");
    const putBack = await rows();
    assert.equal(putBack, [{ ts: String(T), e: String(T + 300), token: "0" }]);
    await a.release("p", "n"); // a second release: nothing in flight any more
    await b.release("p", "n"); // a store that never reserved it
    assert.equal(await rows(), putBack, "the put-back row stays");
    assert.is(await b.reserve("p", "n", T, T + 250, 300), false, "and still refuses the old envelope");
    await rejects(b.release(1 as never, "n"), (e) => e?.code === "INVALID_TYPE", "release of a non-string id");
  } finally {
    await Promise.all([a.close(), b.close()]);
  }
});

t("get and remove refuse an id that is not a string (INVALID_TYPE), and remove deletes nothing then", async () => {
  // A mutation audit found remove's type check untested: a String object or a number was looked
  // up by its JSON form, and `new String("k")` removed the pin of "k".
  const prefix = freshPrefix();
  const store = await PostgresPeerStore.open((await server()).url, { tablePrefix: prefix });
  try {
    await store.insert(new FederationPeer({ kernelId: "k", publicKey: KEY_A, establishedAt: T, rotationDue: T + 100 }));
    for (const id of [new String("k"), 1, null]) {
      await rejects(store.remove(id as never), (e) => e?.code === "INVALID_TYPE", `remove(${String(id)})`);
      await rejects(store.get(id as never), (e) => e?.code === "INVALID_TYPE", `get(${String(id)})`);
    }
    assert.is((await peerRows(prefix)).length, 1, "the pin of k is still there");
  } finally {
    await store.close();
  }
});

t("close() while calls are in flight, most still waiting for the one connection: each is refused STORE_CLOSED at once, none left unsettled (helper 143)", async () => {
  // pg's pool serves no call still waiting for a connection once it is ended, and the store's
  // timer does not keep the process alive: such calls never settled (or settled STORE_TIMEOUT,
  // unsent, had something else kept the process up).
  const peers = await PostgresPeerStore.open((await server()).url, { tablePrefix: freshPrefix(), maxConnections: 1, operationTimeoutMs: 20_000 });
  const calls = Array.from({ length: 10 }, (_, i) => peers.get(`k${i}`).then(() => "answered", (e: { code?: string }) => e.code));
  await peers.close();
  const outcomes = await Promise.race([Promise.all(calls), delay(5000).then(() => "not settled within 5 s of close()")]);
  assert.equal(outcomes, Array.from({ length: 10 }, () => "STORE_CLOSED"));
});

t("close() of a store from a URL while its statements wait on a lock returns at once and refuses them with STORE_CLOSED, though operationTimeoutMs (and so statement_timeout) is 20 s: its pool's sockets are ended without waiting for the statements (pg's end() waited for them, so close() took until the lock was released)", async () => {
  const srv = await server();
  const prefix = freshPrefix();
  const replay = await PostgresReplayStore.open(srv.url, { tablePrefix: prefix, operationTimeoutMs: 20_000 });
  const peers = await PostgresPeerStore.open(srv.url, { tablePrefix: prefix, operationTimeoutMs: 20_000 });
  // A transaction of the test's own holds both tables: the stores' statements wait on the lock
  // (a stalled backend, as far as a client can tell).
  const locker = new pg.Client({ connectionString: srv.url });
  await locker.connect();
  try {
    assert.is(await replay.reserve("p", "warm", T, T, 300), true);
    await locker.query(`BEGIN; LOCK TABLE ${prefix}replay, ${prefix}peers IN ACCESS EXCLUSIVE MODE`);
    const calls = [replay.reserve("p", "n", T, T, 300), peers.get("kernel.x")].map((call) => call.then(() => "answered", (e: { code?: string }) => e.code));
    for (const deadline = Date.now() + 5000; ; await delay(20)) {
      const waiting = await locker.query(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND pid <> pg_backend_pid()`);
      if (waiting.rows[0].n === 2) break;
      assert.ok(Date.now() < deadline, "both statements reach the lock");
    }
    const closing = performance.now();
    // Raced against a timer too: a close() that waits would hold the test for 20 s.
    const closed = await Promise.race([Promise.all([replay.close(), peers.close()]).then(() => "closed"), delay(3000).then(() => "still closing")]);
    const closeTook = performance.now() - closing;
    const outcomes = await Promise.race([Promise.all(calls), delay(3000).then(() => "unsettled")]);
    assert.is(closed, "closed", "close() returned");
    // A generous bound: this is about not waiting for operationTimeoutMs (20 s), not about speed.
    assert.ok(closeTook < 2000, `close() took ${closeTook.toFixed(0)} ms`);
    assert.equal(outcomes, ["STORE_CLOSED", "STORE_CLOSED"]);
    // The server ends the two backends once it notices their clients gone (at the latest when the lock is released).
    await locker.query("ROLLBACK");
    for (const deadline = Date.now() + 5000; ; await delay(20)) {
      const left = await locker.query(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE backend_type = 'client backend' AND pid <> pg_backend_pid() AND query LIKE '%${prefix}%'`);
      if (left.rows[0].n === 0) break;
      assert.ok(Date.now() < deadline, "the store's backends end");
    }
  } finally {
    await locker.query("ROLLBACK").catch(() => undefined);
    await locker.end();
    await Promise.all([replay.close(), peers.close()]);
  }
});

t("an open is bounded by operationTimeoutMs as a whole: over a link that holds each request 450 ms, a bound of 1000 ms is STORE_TIMEOUT, not an open after 1.4–2.7 s (each statement had a bound of its own: helper 143)", async () => {
  const relay = await startDelayRelay(Number(new URL((await server()).url).port), 450);
  const url = `postgres://postgres@127.0.0.1:${relay.port}/postgres`;
  // An open that resolves after all is closed again, so that a failure here ends the test.
  const outcome = (opening: Promise<{ close(): Promise<void> }>) =>
    opening.then(async (opened) => (await opened.close(), "opened"), (e: unknown) => (e instanceof SharedStoreError ? e.code : String(e)));
  try {
    assert.is(await outcome(PostgresPeerStore.open(url, { tablePrefix: freshPrefix(), operationTimeoutMs: 1000 })), "STORE_TIMEOUT", "peer store open");
    assert.is(await outcome(PostgresReplayStore.open(url, { tablePrefix: freshPrefix(), operationTimeoutMs: 1000 })), "STORE_TIMEOUT", "replay store open");
    // The same link with room for every statement: the opens go through it.
    const peers = await PostgresPeerStore.open(url, { tablePrefix: freshPrefix(), operationTimeoutMs: 10_000 });
    await peers.close();
  } finally {
    await relay.close();
  }
});

t("a reserve that stalls past the envelope's window and then undoes its row stays within its one bound: STORE_TIMEOUT, not PAST_WINDOW_ON_ENGINE_CLOCK at about 1.2 × the bound (helper 143)", async () => {
  // Another session holds the pair's row (uncommitted) for 2.2 s, so the reserve's insert waits
  // and lands past the window; the undo that follows is slowed 1.5 s by the pool passed in. With
  // a bound of 3 s, the undo has about 0.8 s left.
  const url = (await server()).url;
  const prefix = freshPrefix();
  const pool = new pg.Pool({ connectionString: url });
  pool.on("error", () => undefined); // a connection still ending when the last test stops the server (pool.end() does not wait for that)
  const slowUndo = { query: async (config: pg.QueryConfig) => (config.text.includes("restored AS") && (await delay(1500)), pool.query(config)) };
  const store = await PostgresReplayStore.open(slowUndo as unknown as pg.Pool, { tablePrefix: prefix, operationTimeoutMs: 3000, maxSkewSecs: 300 });
  const locker = new pg.Client({ connectionString: url });
  await locker.connect();
  try {
    const now = await atStartOfSecond();
    const timestamp = now - 300 + 1; // its window ends within 2 s
    await locker.query("BEGIN");
    await locker.query(`INSERT INTO ${prefix}replay (peer_id, nonce, envelope_ts, expires_at, token) VALUES ($1, $2, 0, 0, 'x')`, [JSON.stringify("kernel.b"), JSON.stringify("n1")]);
    const rollback = delay(2200).then(() => locker.query("ROLLBACK"));
    await rejects(store.reserve("kernel.b", "n1", timestamp, now, 300), (e: any) => e instanceof SharedStoreError && e.code === "STORE_TIMEOUT", "reserve");
    await rollback;
  } finally {
    await locker.end();
    await store.close();
    await pool.end();
  }
});

t("a store on a pool passed in sends nothing for a call refused before the pool gave it a connection: neither after close() nor after STORE_TIMEOUT (hunt 26: both were written once the application released its connection)", async () => {
  // The application's pool has one connection, held by the application's own work; the stores'
  // calls wait for it in pg's queue. A Redis store drops a command not yet written when its call
  // is refused (hunt 18); pg's queue cannot be emptied from outside, so these ran as soon as the
  // application released its connection: a pin and a pair written after close() had returned, or
  // long after their callers were told STORE_TIMEOUT (this pool has no connection timeout).
  const url = (await server()).url;
  const pool = new pg.Pool({ connectionString: url, max: 1 });
  pool.on("error", () => undefined); // a connection still ending when the last test stops the server (pool.end() does not wait for that)
  const pin = new FederationPeer({ kernelId: "k", publicKey: KEY_A, establishedAt: T, rotationDue: T + 100 });
  try {
    for (const ending of ["close", "timeout"] as const) {
      const prefix = freshPrefix();
      // The tables made first, with the default bound: the short one is for the calls, not the open.
      await Promise.all([PostgresPeerStore.open(pool, { tablePrefix: prefix }), PostgresReplayStore.open(pool, { tablePrefix: prefix })]).then((made) => Promise.all(made.map((store) => store.close())));
      const operationTimeoutMs = ending === "close" ? 20_000 : 1000;
      const peers = await PostgresPeerStore.open(pool, { tablePrefix: prefix, operationTimeoutMs });
      const replay = await PostgresReplayStore.open(pool, { tablePrefix: prefix, operationTimeoutMs });
      const held = await pool.connect(); // the application's own work
      try {
        const calls = [peers.compareAndSet("k", undefined, pin), peers.insert(pin), replay.reserve("p", "n", T, T, 300)];
        const outcomes = calls.map((call) => call.then(() => "answered", (e: { code?: string }) => e.code));
        if (ending === "close") {
          await delay(50);
          await Promise.all([peers.close(), replay.close()]);
        }
        const expected = ending === "close" ? "STORE_CLOSED" : "STORE_TIMEOUT";
        assert.equal(await Promise.all(outcomes), [expected, expected, expected], ending);
      } finally {
        held.release();
      }
      await pool.query("SELECT 1"); // served after every call still queued (pg's queue is first in, first out)
      assert.equal(await sql(`SELECT kernel_id FROM ${prefix}peers`), [], `${ending}: no pin written`);
      assert.equal(await sql(`SELECT nonce FROM ${prefix}replay`), [], `${ending}: no pair written`);
      assert.equal(await peers.get("k").catch((e) => e.code), ending === "close" ? "STORE_CLOSED" : undefined, `${ending}: the store after`);
      await Promise.all([peers.close(), replay.close()]);
    }
    assert.is(pool.totalCount, 1, "the application's pool keeps its connection (released, not destroyed)");
  } finally {
    await pool.end();
  }
});

t("type parsers the application set process-wide in pg (bool as 0/1, int4 and int8 as BigInt) change nothing: each store reads its rows with its own parsers, on a URL's pool and on a pool passed in (they were refused as STORE_UNEXPECTED_REPLY)", async () => {
  const url = (await server()).url;
  const saved = [16, 20, 23].map((oid) => [oid, pg.types.getTypeParser(oid, "text")] as const);
  pg.types.setTypeParser(16, (v: string) => (v === "t" ? 1 : 0));
  pg.types.setTypeParser(20, (v: string) => BigInt(v));
  pg.types.setTypeParser(23, (v: string) => BigInt(v));
  const pool = new pg.Pool({ connectionString: url });
  pool.on("error", () => undefined);
  try {
    for (const source of [url, pool]) {
      const prefix = freshPrefix();
      const peers = await PostgresPeerStore.open(source, { tablePrefix: prefix });
      const replay = await PostgresReplayStore.open(source, { tablePrefix: prefix });
      try {
        const pin = new FederationPeer({ kernelId: "k", publicKey: KEY_A, establishedAt: T, rotationDue: T + 100 });
        await peers.insert(pin);
        const read = await peers.get("k");
        assert.ok(read?.equals(pin), `the pin reads back on ${source === url ? "a URL" : "a pool"}: ${JSON.stringify(read)}`);
        const next = new FederationPeer({ kernelId: "k", publicKey: KEY_A, establishedAt: T, rotationDue: T + 200 });
        assert.is(await peers.compareAndSet("k", pin, next), true, "compareAndSet");
        assert.is(await replay.reserve("p", "n1", T, T, 300), true, "a first reserve");
        assert.is(await replay.reserve("p", "n1", T, T, 300), false, "the pair again");
        assert.is(await replay.retentionFloor(), 300, "the floor");
      } finally {
        await Promise.all([peers.close(), replay.close()]);
      }
    }
  } finally {
    for (const [oid, parse] of saved) pg.types.setTypeParser(oid, parse);
    await pool.end();
  }
});

t("results in pg's binary format are refused at open (pg.defaults.binary, or a pool or client with binary: true), and nothing is written: pg decodes them as UTF-8 text, and a pin read back from a binary pool had its rotationDue equal to its establishedAt", async () => {
  const url = (await server()).url;
  const prefix = freshPrefix();
  const binaryPool = new pg.Pool({ connectionString: url, binary: true });
  const binaryClient = new pg.Client({ connectionString: url, binary: true });
  binaryPool.on("error", () => undefined);
  const refused = (e: unknown) => e instanceof InvalidConfigError && /binary: true/.test((e as Error).message);
  try {
    for (const source of [binaryPool, binaryClient]) {
      await rejects(PostgresPeerStore.open(source, { tablePrefix: prefix }), refused, "peer store");
      await rejects(PostgresReplayStore.open(source, { tablePrefix: prefix }), refused, "replay store");
    }
    const defaultBinary = pg.defaults.binary;
    pg.defaults.binary = true;
    try {
      await rejects(PostgresPeerStore.open(url, { tablePrefix: prefix }), refused, "pg.defaults.binary, from a URL");
    } finally {
      pg.defaults.binary = defaultBinary;
    }
    assert.equal(await sql(`SELECT count(*)::int AS n FROM pg_tables WHERE tablename LIKE '${prefix}%'`), [{ n: 0 }], "no table was made");
  } finally {
    await binaryPool.end();
  }
});

t("a pg Client made before the application set pg.defaults.binary reads text, and is not refused: its queries follow its own binary (false), not the default", async () => {
  const url = (await server()).url;
  const prefix = freshPrefix();
  const textClient = new pg.Client({ connectionString: url });
  await textClient.connect();
  const defaultBinary = pg.defaults.binary;
  pg.defaults.binary = true;
  try {
    assert.is(textClient.binary, false, "the client's own setting");
    const peers = await PostgresPeerStore.open(textClient, { tablePrefix: prefix });
    const pin = new FederationPeer({ kernelId: "k", publicKey: KEY_A, establishedAt: T, rotationDue: T + 100 });
    await peers.insert(pin);
    assert.ok((await peers.get("k"))?.equals(pin), "the pin reads back");
    await peers.close();
    // A Pool makes its clients later, with the default: still refused.
    const pool = new pg.Pool({ connectionString: url });
    await rejects(PostgresPeerStore.open(pool, { tablePrefix: prefix }), (e) => e instanceof InvalidConfigError, "a pool under pg.defaults.binary");
    await pool.end();
  } finally {
    pg.defaults.binary = defaultBinary;
    await textClient.end();
  }
});

t("the tables are named with the schema the store opened in: a pooled connection whose search_path the application changed since still reaches them (hunt 45)", async () => {
  // With unqualified names every statement found its tables through the search_path of the
  // connection it ran on. An application sharing its pool with the stores (schema-per-tenant, a
  // pooler's shared sessions) that ran SET search_path on a connection sent the store's next
  // statements to another schema's tables of the same prefix: the same store took the same pair
  // twice, and read another schema's pins.
  const url = (await server()).url;
  const prefix = freshPrefix();
  const [home, other] = [`Home_${prefix}`, `other_${prefix}`]; // the first needs quoting (an uppercase letter)
  await sql(`CREATE SCHEMA "${home}"; CREATE SCHEMA ${other}`);
  const otherPool = new pg.Pool({ connectionString: url, options: `-c search_path=${other}` });
  otherPool.on("error", () => undefined);
  const pool = new pg.Pool({ connectionString: url, max: 1, options: `-c search_path="${home}"` });
  pool.on("error", () => undefined);
  const opened: { close(): Promise<void> }[] = [];
  try {
    const otherPeers = await PostgresPeerStore.open(otherPool, { tablePrefix: prefix });
    const otherReplay = await PostgresReplayStore.open(otherPool, { tablePrefix: prefix });
    const peers = await PostgresPeerStore.open(pool, { tablePrefix: prefix });
    const replay = await PostgresReplayStore.open(pool, { tablePrefix: prefix });
    opened.push(otherPeers, otherReplay, peers, replay);
    const pin = new FederationPeer({ kernelId: "k", publicKey: KEY_A, establishedAt: T, rotationDue: T + 100 });
    assert.is(await peers.compareAndSet("k", undefined, pin), true);
    assert.is(await replay.reserve("p", "n", T, T, 300), true);
    replay.commit("p", "n");
    // The application, on the one connection of the pool it shares with the stores:
    const client = await pool.connect();
    await client.query(`SET search_path TO ${other}`);
    client.release();
    assert.is(await replay.reserve("p", "n", T, T + 1, 300), false, "the replay is refused (it was reserved again in the other schema)");
    assert.ok((await peers.get("k"))?.equals(pin), "the pin is read from the store's own schema");
    assert.is(await otherPeers.get("k"), undefined, "nothing pinned in the other schema");
    assert.equal(await sql(`SELECT nonce FROM ${other}.${prefix}replay`), [], "nothing reserved in the other schema");
    assert.equal((await sql(`SELECT nonce FROM "${home}".${prefix}replay`)).map((r) => r.nonce), [JSON.stringify("n")]);
    // A search_path naming no schema that exists leaves no schema for the tables: refused, as before.
    const nowhere = new pg.Pool({ connectionString: url, options: "-c search_path=no_such_schema" });
    nowhere.on("error", () => undefined);
    try {
      await rejects(PostgresPeerStore.open(nowhere, { tablePrefix: prefix }), (e) => e instanceof SharedStoreError && e.code === "STORE_UNAVAILABLE", "no schema");
    } finally {
      await nowhere.end();
    }
  } finally {
    for (const store of opened) await store.close();
    await pool.end();
    await otherPool.end();
  }
});

t("a statement that ran inside a transaction the application opened on the store's connection is refused STORE_UNAVAILABLE, so a rollback cannot undo a reservation the caller was told of (hunt 45)", async () => {
  // A PoolClient (or Client) passed in is the application's: a BEGIN it sent on it put the
  // store's statements inside its transaction. A reserve answered true, its envelope was accepted,
  // and the application's ROLLBACK undid the pair: the same envelope was accepted again.
  const url = (await server()).url;
  const prefix = freshPrefix();
  const pool = new pg.Pool({ connectionString: url, max: 2 });
  pool.on("error", () => undefined);
  const client = await pool.connect();
  client.on("error", () => undefined);
  let held = true; // released to the pool by the test, or ended in the finally (pool.end() waits for it)
  const inTransaction = (e: any) => e instanceof SharedStoreError && e.code === "STORE_UNAVAILABLE" && /inside a transaction/.test(e.message);
  try {
    const replay = await PostgresReplayStore.open(client, { tablePrefix: prefix });
    const peers = await PostgresPeerStore.open(client, { tablePrefix: prefix });
    const pin = new FederationPeer({ kernelId: "k", publicKey: KEY_A, establishedAt: T, rotationDue: T + 100 });
    await client.query("BEGIN");
    await rejects(replay.reserve("p", "n", T, T, 300), inTransaction, "reserve inside the application's transaction");
    await rejects(peers.compareAndSet("k", undefined, pin), inTransaction, "compareAndSet inside it");
    await client.query("ROLLBACK");
    assert.equal(await sql(`SELECT count(*)::int AS n FROM ${prefix}replay`), [{ n: 0 }], "nothing reserved");
    assert.is(await replay.reserve("p", "n", T, T, 300), true, "outside a transaction: reserved");
    replay.commit("p", "n");
    assert.is(await replay.reserve("p", "n", T, T + 1, 300), false, "and held");
    assert.is(await peers.compareAndSet("k", undefined, pin), true);
    await Promise.all([replay.close(), peers.close()]);
    // A pool passed in whose connection was released inside a transaction: refused, and that
    // connection is discarded (its transaction ends with it), so the next call works.
    client.release();
    held = false;
    const onPool = await PostgresReplayStore.open(pool, { tablePrefix: prefix });
    const [first, second] = [await pool.connect(), await pool.connect()];
    await first.query("BEGIN");
    first.release();
    second.release();
    const results = await Promise.allSettled([onPool.reserve("p", "a", T, T, 300), onPool.reserve("p", "b", T, T, 300)]);
    assert.is(results.filter((r) => r.status === "rejected" && inTransaction(r.reason)).length, 1, "the call on that connection is refused");
    assert.is(await onPool.reserve("p", "c", T, T, 300), true, "the next call works");
    assert.equal((await sql(`SELECT nonce FROM ${prefix}replay ORDER BY nonce`)).map((r) => r.nonce).length, 3, "n, c and the one of a and b not refused");
    await onPool.close();
  } finally {
    if (held) client.release(true);
    await pool.end();
  }
});

t("a hot standby is refused NOT_A_PRIMARY (its reads may lag, its writes fail): on open from a URL, on a Client passed in, and on a pool's connection that reaches it after the open; once promoted it is used", async () => {
  // After a failover, or with a URL naming the wrong host, a pool may reach a hot standby. Its
  // reads were answered (a pin removed on the primary but not yet replayed there would still
  // resolve) and its writes failed STORE_UNAVAILABLE. Each connection is now asked
  // pg_is_in_recovery() on its first use, as the Redis stores read ROLE (hunt 49). A real standby:
  // pg_basebackup -R of the primary, streaming from it.
  const primary = await server();
  const prefix = freshPrefix();
  const pin = new FederationPeer({ kernelId: "k", publicKey: KEY_A, establishedAt: T, rotationDue: T + 100 });
  const onPrimary = await PostgresPeerStore.open(primary.url, { tablePrefix: prefix });
  await onPrimary.insert(pin);
  await onPrimary.close();
  const standby = await startPostgresStandby(primary);
  const pool = new pg.Pool({ connectionString: primary.url, max: 1, idleTimeoutMillis: 50 });
  pool.on("error", () => undefined);
  const client = new pg.Client({ connectionString: standby.url });
  client.on("error", () => undefined);
  try {
    // The pin reached the standby: what it would have answered.
    for (let tries = 0; (await sqlAt(standby.url, `SELECT count(*)::int AS n FROM ${prefix}peers`).catch(() => [{ n: 0 }]))[0].n !== 1; tries++) {
      assert.ok(tries < 200, "the standby replays the pin within 10 s");
      await delay(50);
    }
    const notPrimary = (e: any) => e instanceof SharedStoreError && e.code === "NOT_A_PRIMARY";
    await rejects(PostgresPeerStore.open(standby.url, { tablePrefix: prefix }), notPrimary, "peer store open from a URL on the standby");
    await rejects(PostgresReplayStore.open(standby.url, { tablePrefix: prefix }), notPrimary, "replay store open from a URL on the standby");
    await client.connect();
    await rejects(PostgresPeerStore.open(client, { tablePrefix: prefix }), notPrimary, "peer store open on a Client connected to the standby");

    // A pool opened on the primary whose next connection reaches the standby (pg makes each one
    // from the pool's options): the pin is not read from it.
    const onPool = await PostgresPeerStore.open(pool, { tablePrefix: prefix });
    assert.ok((await onPool.get("k"))?.equals(pin), "read from the primary");
    for (let tries = 0; pool.totalCount !== 0; tries++) {
      assert.ok(tries < 200, "the pool ends its idle connection");
      await delay(50);
    }
    (pool as unknown as { options: { port?: number; connectionString?: string } }).options.connectionString = standby.url;
    await rejects(onPool.get("k"), notPrimary, "get on a pool connection to the standby");
    await rejects(onPool.insert(new FederationPeer({ kernelId: "k2", publicKey: KEY_A, establishedAt: T, rotationDue: T + 100 })), notPrimary, "insert on a pool connection to the standby");
    assert.is(pool.totalCount, 0, "the standby's connections were released with the refusal and ended");

    // Promoted, the same server is a primary: the refusal was not remembered.
    await sqlAt(standby.url, "SELECT pg_promote(true, 60)");
    const promoted = await PostgresPeerStore.open(standby.url, { tablePrefix: prefix });
    assert.ok((await promoted.get("k"))?.equals(pin), "open and read on the promoted server");
    await promoted.close();
    const onClient = await PostgresPeerStore.open(client, { tablePrefix: prefix });
    assert.ok((await onClient.get("k"))?.equals(pin), "the same Client, checked again, is used");
    await onClient.close();
    assert.ok((await onPool.get("k"))?.equals(pin), "the pool's store is used");
    await onPool.close();
  } finally {
    await client.end().catch(() => undefined);
    await pool.end();
    await standby.dispose();
  }
});

/** The database server's clock, in whole seconds. */
const serverSecs = async (): Promise<number> => Number((await sql("SELECT floor(extract(epoch FROM clock_timestamp()))::bigint::text AS s"))[0].s);

/** What `call(E)` threw, E being the server's second, from a try the server's clock did not turn a second during. */
async function refusalWithinOneServerSecond(call: (E: number, attempt: number) => Promise<unknown>): Promise<unknown> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const before = await serverSecs();
    let error: unknown = undefined;
    try {
      await call(before, attempt);
    } catch (caught) {
      error = caught;
    }
    if ((await serverSecs()) === before) return error;
  }
  throw new Error("the server's clock turned a second during each of 20 calls");
}

t("the engine's clock exactly the skew ahead of the replica's now is PAST_WINDOW_ON_ENGINE_CLOCK; one second more is ENGINE_CLOCK_AHEAD (hunt 66: the boundary of `ahead` moved by a second unseen)", async () => {
  // As the Redis store's edge (redis-audit.test.ts): a replica whose clock is exactly `skew`
  // behind the engine's holds an envelope that is merely late (403), not clocks that are wrong (503).
  const prefix = freshPrefix();
  const store = await PostgresReplayStore.open((await server()).url, { tablePrefix: prefix, maxSkewSecs: 300, sweepEvery: 0 });
  try {
    const exact = await refusalWithinOneServerSecond((E, i) => store.reserve("p", `exact${i}`, E - 301, E - 300, 300));
    assert.ok(exact instanceof SharedStoreError && exact.code === "PAST_WINDOW_ON_ENGINE_CLOCK", `engine exactly the skew ahead: ${(exact as SharedStoreError)?.code}`);
    const ahead = await refusalWithinOneServerSecond((E, i) => store.reserve("p", `ahead${i}`, E - 301, E - 301, 300));
    assert.ok(ahead instanceof SharedStoreError && ahead.code === "ENGINE_CLOCK_AHEAD", `engine 301 s ahead: ${(ahead as SharedStoreError)?.code}`);
    assert.equal(await sql(`SELECT count(*)::int AS n FROM ${prefix}replay`), [{ n: 0 }], "nothing written");
  } finally {
    await store.close();
  }
});

t("sweep keeps a row until its own expires_at, though its timestamp + every bound now registered has passed (a floor lowered since it was written) (hunt 66: the expires_at condition dropped went unseen)", async () => {
  // A row written while the floor was 3600 carries expires_at = timestamp + 3600; once an operator
  // lowers the floor to 300, the writer's own bound still holds it (PostgresReplayStore.sweep: dead
  // only when both have passed).
  const prefix = freshPrefix();
  const store = await PostgresReplayStore.open((await server()).url, { tablePrefix: prefix, maxSkewSecs: 300, sweepEvery: 0 });
  try {
    const W = wallSecs();
    await sql(`INSERT INTO ${prefix}replay (peer_id, nonce, envelope_ts, expires_at, token) VALUES ($1, $2, $3, $4, '0'), ($1, $5, $3, $6, '0')`, [
      JSON.stringify("p"),
      JSON.stringify("kept"),
      W - 1000,
      W + 2600,
      JSON.stringify("dead"),
      W - 700,
    ]);
    assert.is(await store.sweep(W), 1, "only the row past both bounds");
    assert.equal(await sql(`SELECT nonce FROM ${prefix}replay`), [{ nonce: JSON.stringify("kept") }], "the row within its own expires_at stays");
  } finally {
    await store.close();
  }
});

t("sweep refuses a now or batch out of range with a typed error before the server is asked, and deletes nothing (hunt 66)", async () => {
  const prefix = freshPrefix();
  const store = await PostgresReplayStore.open((await server()).url, { tablePrefix: prefix, maxSkewSecs: 300, sweepEvery: 0 });
  try {
    const W = wallSecs();
    await sql(`INSERT INTO ${prefix}replay (peer_id, nonce, envelope_ts, expires_at, token) VALUES ($1, $2, $3, $3, '0')`, [JSON.stringify("p"), JSON.stringify("dead"), W - 1000]);
    for (const now of [-1, 1.5, Number.NaN, 2 ** 53, "1700000000"]) {
      await rejects(store.sweep(now as number), (e) => e instanceof Error && (e as { code?: unknown }).code === "INVALID_TIME", `now ${String(now)}`);
    }
    for (const batch of [0, -1, 1.5, 100_001]) {
      await rejects(store.sweep(W, batch), (e) => e instanceof InvalidConfigError, `batch ${batch}`);
    }
    assert.is((await sql(`SELECT count(*)::int AS n FROM ${prefix}replay`))[0].n, 1, "nothing deleted by a refused sweep");
    assert.is(await store.sweep(W, 1), 1, "a batch of 1 is taken");
  } finally {
    await store.close();
  }
});

t("a store opened from a URL: every call after close() is STORE_CLOSED, not the ended pool's STORE_UNAVAILABLE, and writes nothing; a second close() resolves (hunt 66)", async () => {
  // The pool-passed-in case above is answered by #send's own check; from a URL the store's pool is
  // ended, and without the closed-store check in query() each call became pg's "Cannot use a pool
  // after calling end on the pool", STORE_UNAVAILABLE: a code callers retry on.
  const prefix = freshPrefix();
  const url = (await server()).url;
  const peers = await PostgresPeerStore.open(url, { tablePrefix: prefix });
  const replay = await PostgresReplayStore.open(url, { tablePrefix: prefix, sweepEvery: 0 });
  await Promise.all([peers.close(), replay.close()]);
  const closed = (e: any) => e instanceof SharedStoreError && e.code === "STORE_CLOSED";
  const pin = new FederationPeer({ kernelId: "k", publicKey: KEY_A, establishedAt: T, rotationDue: T + 100 });
  await rejects(peers.insert(pin), closed, "insert");
  await rejects(peers.compareAndSet("k", undefined, pin), closed, "compareAndSet");
  await rejects(peers.get("k"), closed, "get");
  await rejects(peers.remove("k"), closed, "remove");
  await rejects(peers.snapshot(), closed, "snapshot");
  await rejects(replay.reserve("p", "n", wallSecs(), wallSecs(), 300), closed, "reserve");
  await rejects(replay.sweep(T), closed, "sweep");
  await rejects(replay.retentionFloor(), closed, "retentionFloor");
  await rejects(replay.lowerRetentionFloor(), closed, "lowerRetentionFloor");
  await Promise.all([peers.close(), replay.close()]); // idempotent
  assert.equal(await sql(`SELECT count(*)::int AS n FROM ${prefix}peers`), [{ n: 0 }], "no pin written");
  assert.equal(await sql(`SELECT count(*)::int AS n FROM ${prefix}replay`), [{ n: 0 }], "no pair written");
  assert.equal(await sql(`SELECT max_skew_secs::int AS s FROM ${prefix}replay_retention`), [{ s: 300 }], "the floor as the open registered it");
});

t("a table prefix of exactly 32 characters, the documented longest, opens both stores and names their tables (hunt 66: the bound could shrink unseen)", async () => {
  const prefix = `z${"9".repeat(30)}_`;
  assert.is(prefix.length, 32);
  const url = (await server()).url;
  const peers = await PostgresPeerStore.open(url, { tablePrefix: prefix });
  const replay = await PostgresReplayStore.open(url, { tablePrefix: prefix, sweepEvery: 0 });
  try {
    await peers.insert(new FederationPeer({ kernelId: "k", publicKey: KEY_A, establishedAt: T, rotationDue: T + 100 }));
    assert.is(await replay.reserve("p", "n", wallSecs(), wallSecs(), 300), true);
    replay.commit("p", "n");
    assert.equal(await sql(`SELECT count(*)::int AS n FROM ${prefix}peers`), [{ n: 1 }], "the pin, in the prefix's table");
    assert.equal(await sql(`SELECT count(*)::int AS n FROM ${prefix}replay`), [{ n: 1 }], "the pair, in the prefix's table");
  } finally {
    await Promise.all([peers.close(), replay.close()]);
  }
  await rejects(PostgresPeerStore.open(url, { tablePrefix: `${prefix}x` }), (e) => e instanceof InvalidConfigError, "33 characters");
});

t("stop the server", async () => {
  if (started) await (await started).dispose();
});

t.run();
