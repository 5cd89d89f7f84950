// PostgresPeerStore and PostgresReplayStore on a real PostgreSQL (test/cluster/helpers/servers.ts):
// the port contracts every adapter meets (test/helpers/store-conformance.ts), then what is
// particular to Postgres: schema version and prefix, retention bound, bounded sweeps, timeouts,
// and failing closed while the server is down, recovering when it is back.
import { suite } from "uvu";
import * as assert from "uvu/assert";
import pg from "pg";
import { setTimeout as delay } from "node:timers/promises";
import { FederationPeer, InvalidConfigError, PublicKey } from "../../src/handshake/index.js";
import { PostgresPeerStore, PostgresReplayStore, SharedStoreError } from "../../src/stores/postgres.js";
import { peerStoreConformance, replayStoreConformance } from "../helpers/store-conformance.js";
import { atStartOfSecond, wallSecs } from "./helpers/clock.js";
import { startPostgres, type TestServer } from "./helpers/servers.js";
import { rejects, sqlAt } from "./helpers/clients.js";

let started: Promise<TestServer> | undefined;
const server = () => (started ??= startPostgres());
let tables = 0;
const freshPrefix = () => `t${++tables}_`;
// This machine's clock at load (the server runs on it): the store refuses a reservation once the
// server's clock is past its timestamp + skew (review 75 F1), so reservations are stamped now or
// later; rows from the past are written with `insertRows`.
const T = wallSecs();
const KEY = PublicKey.fromHex("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a");

peerStoreConformance("PostgresPeerStore", async () => {
  const store = await PostgresPeerStore.open((await server()).url, { tablePrefix: freshPrefix() });
  return { store, close: () => store.close() };
});
replayStoreConformance(
  "PostgresReplayStore",
  async () => {
    const store = await PostgresReplayStore.open((await server()).url, { tablePrefix: freshPrefix(), maxSkewSecs: 3600 });
    return { store, close: () => store.close() };
  },
  async () => {
    const tablePrefix = freshPrefix();
    const a = await PostgresReplayStore.open((await server()).url, { tablePrefix, maxSkewSecs: 3600 });
    const b = await PostgresReplayStore.open((await server()).url, { tablePrefix, maxSkewSecs: 3600 });
    return { stores: [a, b], close: async () => void (await Promise.all([a.close(), b.close()])) };
  },
);

const t = suite("Postgres stores");

const sql = async (text: string, values: unknown[] = []): Promise<any[]> => sqlAt((await server()).url, text, values);

/** Replay rows as a replica wrote them earlier (reserve refuses envelopes past their window). */
async function insertRows(prefix: string, rows: { peer: string; nonce: string; ts: number; expires: number }[]): Promise<void> {
  for (const row of rows) {
    await sql(`INSERT INTO ${prefix}replay (peer_id, nonce, envelope_ts, expires_at, token) VALUES ($1, $2, $3, $4, $5)`, [
      JSON.stringify(row.peer),
      JSON.stringify(row.nonce),
      row.ts,
      row.expires,
      "0123456789abcdef0123456789abcdef",
    ]);
  }
}
const pastWindow = (e: any) => e instanceof SharedStoreError && e.code === "PAST_WINDOW_ON_ENGINE_CLOCK";
const countRows = async (prefix: string) => (await sql(`SELECT count(*)::int AS n FROM ${prefix}replay`))[0].n as number;

t("fits says no to a pair Postgres could not index (multi-byte nonces), and reserve takes every pair fits accepts", async () => {
  const store = await PostgresReplayStore.open((await server()).url, { tablePrefix: freshPrefix(), maxSkewSecs: 3600 });
  try {
    const cjk = String.fromCodePoint(...Array.from({ length: 1000 }, (_, i) => 0x4e00 + ((i * 7919) % 20000))); // 3 UTF-8 bytes each
    assert.ok(1000 + "peer".length <= store.maxKeyUnits, "within the unit limit");
    assert.is(store.fits("peer", cjk), false, "3000+ bytes: more than a btree entry holds");
    // The largest pairs fits accepts are stored: 800 CJK characters (2400 bytes) and 1000 ASCII.
    for (const nonce of [cjk.slice(0, 800), "n".repeat(1000)]) {
      assert.is(store.fits("peer", nonce), true);
      assert.is(await store.reserve("peer", nonce, T, T, 60), true);
    }
    // What fits refused is indeed refused by the server, as a typed store error (fail closed).
    try {
      await store.reserve("peer", cjk, T, T, 60);
      assert.unreachable("reserved a pair over the index limit");
    } catch (error) {
      assert.instance(error, SharedStoreError, String(error));
    }
  } finally {
    await store.close();
  }
});

t("options are validated before connecting", async () => {
  const url = "postgres://nobody@127.0.0.1:1/none";
  for (const options of [{ tablePrefix: "Bad-Prefix" }, { tablePrefix: "" }, { tablePrefix: "x".repeat(33) }, { operationTimeoutMs: 0 }, { maxConnections: 1.5 }, { operationTimeout: 100 }, { maxSkewSecs: 60 }, { setStatementTimeout: "yes" }]) {
    await rejects(PostgresPeerStore.open(url, options as never), (e) => e instanceof InvalidConfigError, JSON.stringify(options));
  }
  for (const options of [{ maxSkewSecs: -1 }, { maxSkewSecs: "300" }, { sweepBatch: 0 }, { maxKeyUnits: 1 }, { maxSkewSeconds: 60 }]) {
    await rejects(PostgresReplayStore.open(url, options as never), (e) => e instanceof InvalidConfigError, JSON.stringify(options));
  }
  await rejects(PostgresPeerStore.open({} as never), (e) => e.code === "INVALID_TYPE", "not a client");
});

t("null for any option is InvalidConfigError before connecting, as a wrong type is, not the option's default (hunt 18: tablePrefix null opened on the shared prefix chio_, setStatementTimeout null sent the statement_timeout)", async () => {
  const url = "postgres://nobody@127.0.0.1:1/none"; // nothing listens: an option taken would fail later, as STORE_UNAVAILABLE
  for (const name of ["tablePrefix", "operationTimeoutMs", "maxConnections", "setStatementTimeout"]) {
    await rejects(PostgresPeerStore.open(url, { [name]: null } as never), (e) => e instanceof InvalidConfigError, `peer store, ${name}: null`);
  }
  for (const name of ["tablePrefix", "operationTimeoutMs", "maxConnections", "setStatementTimeout", "maxSkewSecs", "maxKeyUnits", "sweepEvery", "sweepBatch"]) {
    await rejects(PostgresReplayStore.open(url, { [name]: null } as never), (e) => e instanceof InvalidConfigError, `replay store, ${name}: null`);
  }
});

t("an unreachable server is a typed STORE_UNAVAILABLE / STORE_TIMEOUT on open", async () => {
  const port = (await server()).port;
  const error = await rejects(
    PostgresPeerStore.open(`postgres://postgres@127.0.0.1:${port + 1 === 65536 ? 1 : port + 1}/postgres`, { operationTimeoutMs: 1500 }),
    (e) => e instanceof SharedStoreError && (e.code === "STORE_UNAVAILABLE" || e.code === "STORE_TIMEOUT"),
    "closed port",
  );
  assert.ok(error.message.length > 0);
});

t("schema: version table per prefix, idempotent concurrent open, a newer schema is refused", async () => {
  const prefix = freshPrefix();
  const url = (await server()).url;
  const stores = await Promise.all(Array.from({ length: 4 }, () => PostgresPeerStore.open(url, { tablePrefix: prefix })));
  await Promise.all(stores.map((s) => s.close()));
  assert.equal(await sql(`SELECT component, version FROM ${prefix}schema_version`), [{ component: "peers", version: 1 }]);
  const other = freshPrefix();
  const a = await PostgresPeerStore.open(url, { tablePrefix: prefix });
  const b = await PostgresPeerStore.open(url, { tablePrefix: other });
  await a.insert(new FederationPeer({ kernelId: "k", publicKey: KEY, establishedAt: 1, rotationDue: 2 }));
  assert.is((await b.snapshot()).length, 0, "prefixes do not share tables");
  await Promise.all([a.close(), b.close()]);
  await sql(`UPDATE ${prefix}schema_version SET version = 2 WHERE component = 'peers'`);
  await rejects(PostgresPeerStore.open(url, { tablePrefix: prefix }), (e) => e.code === "SCHEMA_TOO_NEW", "newer schema");
});

t("replicas opening at once on a fresh prefix all open under a REPEATABLE READ or SERIALIZABLE default too, with one schema row per component (helper 157)", async () => {
  // Before: the migration read the version table with a snapshot taken before its advisory lock
  // was granted, so under a stricter default the waiters ran CREATE TABLE again ("relation
  // already exists"), and concurrent replay stores aborted each other's retention registration.
  const url = (await server()).url;
  const database = (await sql("SELECT current_database() AS d"))[0].d as string;
  try {
    for (const level of ["repeatable read", "serializable"]) {
      await sql(`ALTER DATABASE "${database}" SET default_transaction_isolation = '${level}'`);
      for (let round = 0; round < 3; round++) {
        const prefix = freshPrefix();
        const opens = await Promise.allSettled([
          ...Array.from({ length: 10 }, () => PostgresPeerStore.open(url, { tablePrefix: prefix })),
          ...Array.from({ length: 10 }, () => PostgresReplayStore.open(url, { tablePrefix: prefix, maxSkewSecs: 300 })),
        ]);
        const failures = opens.flatMap((open) => (open.status === "rejected" ? [`${(open.reason as SharedStoreError).code}: ${(open.reason as Error).message}`] : []));
        await Promise.all(opens.map((open) => (open.status === "fulfilled" ? open.value.close() : undefined)));
        assert.equal(failures, [], `${level}, round ${round}`);
        assert.equal(await sql(`SELECT component, version FROM ${prefix}schema_version ORDER BY component`), [
          { component: "peers", version: 1 },
          { component: "replay", version: 1 },
          { component: "replay_retention", version: 1 },
        ]);
        assert.equal(await sql(`SELECT max_skew_secs::int AS secs FROM ${prefix}replay_retention`), [{ secs: 300 }]);
      }
    }
  } finally {
    await sql(`ALTER DATABASE "${database}" RESET default_transaction_isolation`);
  }
});

t("a row this store never writes is STORE_UNEXPECTED_REPLY, not a pin", async () => {
  const prefix = freshPrefix();
  const store = await PostgresPeerStore.open((await server()).url, { tablePrefix: prefix });
  try {
    await sql(`INSERT INTO ${prefix}peers VALUES ($1, $2, 1, 99999999999999999)`, [JSON.stringify("k"), "ab".repeat(32)]);
    await rejects(store.get("k"), (e) => e.code === "STORE_UNEXPECTED_REPLY", "unsafe rotation_due");
    await sql(`INSERT INTO ${prefix}peers VALUES ('not json', $1, 1, 2)`, ["ab".repeat(32)]);
    await rejects(store.snapshot(), (e) => e.code === "STORE_UNEXPECTED_REPLY", "bad kernel_id");
  } finally {
    await store.close();
  }
});

t("retention: reserve asked with a skew above maxSkewSecs fails; a dead pair can be taken over", async () => {
  const store = await PostgresReplayStore.open((await server()).url, { tablePrefix: freshPrefix(), maxSkewSecs: 300 });
  try {
    await rejects(store.reserve("p", "n", T, T, 301), (e) => e.code === "SKEW_ABOVE_RETENTION", "skew 301 > 300");
    assert.is(await store.reserve("p", "n", T, T, 300), true);
    store.commit("p", "n");
    assert.is(await store.reserve("p", "n", T, T + 300, 300), false, "live at the edge");
    assert.is(await store.reserve("p", "n", T + 301, T + 301, 300), true, "dead under the asked skew: reservable again");
    assert.is(await store.reserve("p", "n", T + 301, T + 302, 300), false, "and held by the new reservation");
    assert.is(store.fits("p", "x".repeat(1023)), true);
    assert.is(store.fits("p", "x".repeat(1024)), false, "longer than maxKeyUnits");
  } finally {
    await store.close();
  }
});

t("a reserve once the server's clock is past timestamp + the asked skew is PAST_WINDOW_ON_ENGINE_CLOCK and keeps nothing, whatever the replica's clock or maxSkewSecs: a replica running slow cannot take a replay of a swept pair (reviews 75 F1, 76 F1 and F3)", async () => {
  const url = (await server()).url;
  const prefix = freshPrefix();
  const store = await PostgresReplayStore.open(url, { tablePrefix: prefix, maxSkewSecs: 300, sweepEvery: 0 });
  // Another replica's store on the same table with a smaller bound, as while maxSkewSecs is raised.
  const small = await PostgresReplayStore.open(url, { tablePrefix: prefix, maxSkewSecs: 3, sweepEvery: 0 });
  try {
    const W = wallSecs();
    await rejects(store.reserve("p", "late", W - 310, W - 10, 300), pastWindow, "a replica 10 s slow, an envelope 300 s old by its clock");
    await rejects(store.reserve("p", "skew60", W - 62, W - 2, 60), pastWindow, "the bound is the asked skew, not maxSkewSecs");
    // The server's clock more than the skew ahead of the replica's now: a fresh envelope is past
    // its window too, so the refusal says the clocks are wrong (review 79 F1).
    await rejects(store.reserve("p", "ahead", W - 400, W - 400, 300), (e) => e instanceof SharedStoreError && e.code === "ENGINE_CLOCK_AHEAD", "engine 400 s ahead");
    assert.is(await countRows(prefix), 0, "nothing written");
    // Exact clocks: an envelope exactly `skew` old is still taken (review 76 F3: it was refused).
    const edge = await atStartOfSecond();
    assert.is(await store.reserve("p", "edge", edge - 300, edge, 300), true, "on time at now = timestamp + skew");
    // The review's case: an on-time replica accepts; the pair is swept once timestamp + 3 has
    // passed (deleted here: the store with maxSkewSecs 3 now sweeps at the table's retention floor,
    // 300 since `store` opened, review 77 F3; a replica of an earlier version swept at its own 3 s);
    // a replica 1-2 s slow still sees the envelope within its skew and asks again, through either
    // store. Before: the pair was free, the replay accepted.
    const ts = wallSecs();
    assert.is(await small.reserve("p", "replayed", ts, ts, 3), true);
    small.commit("p", "replayed");
    while (wallSecs() <= ts + 3) await delay(50);
    assert.is(await small.sweep(wallSecs()), 1, "swept at the floor: the edge pair, not this row");
    await sql(`DELETE FROM ${prefix}replay WHERE nonce = $1`, [JSON.stringify("replayed")]);
    await rejects(small.reserve("p", "replayed", ts, ts + 3, 3), pastWindow, "the replay through the slow replica");
    await rejects(store.reserve("p", "replayed", ts, ts + 3, 3), pastWindow, "and through one whose maxSkewSecs is 300 (review 76 F1)");
    assert.is(await countRows(prefix), 0, "nothing written again");
  } finally {
    await Promise.all([store.close(), small.close()]);
  }
});

t("a reserve that stalls past the window while a sweep deletes the row is refused by its second reading of the clock, and keeps nothing (review 76 F2)", async () => {
  const url = (await server()).url;
  const prefix = freshPrefix();
  const store = await PostgresReplayStore.open(url, { tablePrefix: prefix, maxSkewSecs: 3, sweepEvery: 0, operationTimeoutMs: 8000 });
  const sweeper = await PostgresReplayStore.open(url, { tablePrefix: prefix, maxSkewSecs: 3, sweepEvery: 0 });
  try {
    const ts = wallSecs();
    assert.is(await store.reserve("p", "n", ts, ts, 3), true);
    store.commit("p", "n");
    // A stall between the statement's first clock reading and its insert: a trigger sleeps 2.5 s
    // in every insert (standing in for a descheduled backend).
    await sql(`CREATE FUNCTION ${prefix}stall() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN PERFORM pg_sleep(2.5); RETURN NEW; END $$`);
    await sql(`CREATE TRIGGER ${prefix}stall BEFORE INSERT ON ${prefix}replay FOR EACH ROW EXECUTE FUNCTION ${prefix}stall()`);
    while (wallSecs() < ts + 3) await delay(20);
    // In the window's last second a replica (slow, or just late) asks again: its first reading passes.
    const replay = store.reserve("p", "n", ts, ts + 3, 3).then(
      (granted) => ({ granted, error: undefined as unknown }),
      (error: unknown) => ({ granted: undefined, error }),
    );
    // Once it sleeps in the trigger and the window has passed, the row is swept from under it.
    for (const deadline = Date.now() + 2000; ; await delay(20)) {
      const sleeping = await sql(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE wait_event = 'PgSleep' AND query LIKE '%${prefix}replay%'`);
      if (sleeping[0].n === 1) break;
      assert.ok(Date.now() < deadline, "the reserve reaches the stall");
    }
    while (wallSecs() <= ts + 3) await delay(20);
    assert.is(await sweeper.sweep(wallSecs()), 1, "swept while the reserve stalls");
    const { granted, error } = await replay;
    assert.is(granted, undefined, "not granted (before: true, the replay accepted)");
    assert.ok(pastWindow(error), String(error));
    assert.is(await countRows(prefix), 0, "the row it wrote is undone");
  } finally {
    await sql(`DROP TRIGGER IF EXISTS ${prefix}stall ON ${prefix}replay`).catch(() => undefined);
    await Promise.all([store.close(), sweeper.close()]);
  }
});

t("release removes only this store's own reservation (a taken-over pair stays held)", async () => {
  const url = (await server()).url;
  const prefix = freshPrefix();
  const a = await PostgresReplayStore.open(url, { tablePrefix: prefix });
  const b = await PostgresReplayStore.open(url, { tablePrefix: prefix });
  try {
    assert.is(await a.reserve("p", "n", T, T, 300), true);
    assert.is(await b.reserve("p", "n", T + 400, T + 400, 300), true, "b takes over a's dead pair");
    await a.release("p", "n"); // a's late release must not free b's reservation
    assert.is(await a.reserve("p", "n", T + 400, T + 401, 300), false, "still held by b (asked through a, whose own reservation ended: the server answers, not b's in-flight table)");
    await b.release("p", "n");
    assert.is(await a.reserve("p", "n", T + 400, T + 402, 300), true, "free after b's own release");
  } finally {
    await Promise.all([a.close(), b.close()]);
  }
});

t("a taken-over pair's row keeps the old pair in its token, and a release puts it back as it was (review 61 F2; the behaviour is the ReplayStore contract's)", async () => {
  const url = (await server()).url;
  const prefix = freshPrefix();
  const store = await PostgresReplayStore.open(url, { tablePrefix: prefix });
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  const row = async () => (await client.query(`SELECT envelope_ts::text AS ts, expires_at::text AS expires, token FROM ${prefix}replay`)).rows;
  try {
    assert.is(await store.reserve("p", "n", T, T, 300), true);
    store.commit("p", "n");
    assert.is(await store.reserve("p", "n", T + 200, T + 200, 60), true, "taken over under skew 60");
    const [taken] = await row();
    assert.match(taken.token, new RegExp(`^[0-9a-f]{32}:${T}:${T + 300}$`));
    await store.release("p", "n");
    assert.equal(await row(), [{ ts: String(T), expires: String(T + 300), token: "0" }], "put back as it was");
  } finally {
    await client.end();
    await store.close();
  }
});

t("sweep deletes only rows dead under maxSkewSecs, in bounded batches", async () => {
  const prefix = freshPrefix();
  const store = await PostgresReplayStore.open((await server()).url, { tablePrefix: prefix, maxSkewSecs: 100, sweepEvery: 0 });
  try {
    const W = wallSecs(); // the server's clock is at W or later: a sweep at W sweeps at W
    const old = W - 200;
    await insertRows(prefix, Array.from({ length: 25 }, (_, i) => ({ peer: "p", nonce: `old${i}`, ts: old, expires: old + 100 })));
    for (let i = 0; i < 5; i++) assert.is(await store.reserve("p", `new${i}`, W, W, 100), true);
    assert.is(await store.sweep(old + 100), 0, "nothing is dead at timestamp + maxSkewSecs");
    assert.is(await store.sweep(old + 101, 10), 10, "one batch");
    assert.is(await store.sweep(old + 101, 10), 10);
    assert.is(await store.sweep(old + 101, 10), 5);
    assert.is(await store.sweep(W, 10), 0, "the live rows are not dead at the server's now");
    assert.is(await countRows(prefix), 5, "the live rows stay");
    assert.is(await store.reserve("p", "new0", W, W + 1, 100), false, "a kept row still refuses its pair");
  } finally {
    await store.close();
  }
});

t("sweep deletes by the earlier of its now and the server's clock: a replica with a fast clock or a sweep(Date.now()) in ms deletes no live pair (review 57 F2)", async () => {
  const url = (await server()).url;
  const prefix = freshPrefix();
  const wall = Math.floor(Date.now() / 1000); // the server runs on this machine's clock
  const good = await PostgresReplayStore.open(url, { tablePrefix: prefix, maxSkewSecs: 300, sweepEvery: 0 });
  const fast = await PostgresReplayStore.open(url, { tablePrefix: prefix, maxSkewSecs: 300, sweepEvery: 0 });
  try {
    assert.is(await good.reserve("b", "live", wall, wall, 300), true);
    good.commit("b", "live");
    await insertRows(prefix, [{ peer: "b", nonce: "dead", ts: wall - 1000, expires: wall - 700 }]); // dead by every clock
    // The fast replica (an hour ahead) accepts an envelope from a peer as fast, then sweeps at
    // its own now, as its background sweep does (sweepEvery runs this same sweep()).
    assert.is(await fast.reserve("c", "ahead", wall + 3600, wall + 3600, 300), true);
    fast.commit("c", "ahead");
    assert.is(await fast.sweep(wall + 3600), 1, "the fast now deletes only the pair dead by the server's clock too");
    assert.is(await good.sweep(Date.now()), 0, "milliseconds delete nothing live");
    const rows = await sql(`SELECT count(*)::int AS n FROM ${prefix}replay`);
    assert.is(rows[0].n, 2, "the two live pairs stay");
    assert.is(await fast.reserve("c", "ahead", wall + 3600, wall + 3610, 300), false);
    assert.is(await good.reserve("b", "live", wall, wall + 10, 300), false, "the replay to the good replica is still refused");
  } finally {
    await Promise.all([good.close(), fast.close()]);
  }
});

t("raising maxSkewSecs: a replica on the larger bound sweeps nothing the larger skew still needs, so a replay stays refused", async () => {
  // Review 47: the sweep deleted by the expiry stored when the row was written (the writer's
  // maxSkewSecs), so after the README's procedure (raise maxSkewSecs on every replica, then the
  // skew) an envelope accepted under the old bound was accepted again.
  const url = (await server()).url;
  const prefix = freshPrefix();
  const before = await PostgresReplayStore.open(url, { tablePrefix: prefix, maxSkewSecs: 300, sweepEvery: 0 });
  await before.close(); // creates the table
  const W = wallSecs(); // the server's clock is at W or later: a sweep at W sweeps at W
  // Rows written under the old bound (expires_at = timestamp + 300): one accepted 400 s ago, one
  // at the new bound's edge, one just past it.
  await insertRows(prefix, [
    { peer: "p", nonce: "n", ts: W - 400, expires: W - 100 },
    { peer: "p", nonce: "edge", ts: W - 600, expires: W - 300 },
    { peer: "p", nonce: "gone", ts: W - 601, expires: W - 301 },
  ]);
  const after = await PostgresReplayStore.open(url, { tablePrefix: prefix, maxSkewSecs: 600, sweepEvery: 0 });
  try {
    assert.is(await after.sweep(W - 50), 0, "dead under the old bound, alive under the new one");
    assert.is(await after.reserve("p", "n", W - 400, W, 600), false, "the replay is refused under the raised skew");
    assert.is(await after.sweep(W), 1, "swept once the new bound passed, and only then");
    assert.equal((await sql(`SELECT nonce FROM ${prefix}replay ORDER BY nonce`)).map((r) => r.nonce), [JSON.stringify("edge"), JSON.stringify("n")]);
  } finally {
    await after.close();
  }
});

t("lowering maxSkewSecs one replica at a time: rows are kept and swept at the table's retention floor, the largest maxSkewSecs registered, so the replica still on the larger skew refuses the replay (review 77 F3)", async () => {
  const url = (await server()).url;
  const prefix = freshPrefix();
  const floorRow = async () => (await sql(`SELECT max_skew_secs::int AS s FROM ${prefix}replay_retention`)).map((r) => r.s);
  const large = await PostgresReplayStore.open(url, { tablePrefix: prefix, maxSkewSecs: 300, sweepEvery: 0 });
  // The replica lowered first: skew and maxSkewSecs 3.
  const small = await PostgresReplayStore.open(url, { tablePrefix: prefix, maxSkewSecs: 3, sweepEvery: 0 });
  try {
    assert.equal(await floorRow(), [300], "each store registers its maxSkewSecs when it opens; a smaller one does not lower the floor");
    assert.is(await small.retentionFloor(), 300);
    const W = wallSecs();
    const ts = W - 1; // within the small replica's 3 s on the server's clock
    assert.is(await small.reserve("p", "n", ts, W, 3), true, "accepted by the lowered replica");
    small.commit("p", "n");
    const [row] = await sql(`SELECT envelope_ts::int AS ts, expires_at::int AS e FROM ${prefix}replay`);
    assert.equal(row, { ts, e: ts + 300 }, "kept until timestamp + the floor, not + its writer's 3 s");
    while (wallSecs() <= ts + 4) await delay(50);
    // Before: the lowered replica swept the row at its own bound, and the replica still on the
    // larger skew (its clock exact, the envelope 5 s old) accepted the envelope a second time.
    assert.is(await small.sweep(wallSecs()), 0, "the lowered replica sweeps nothing the floor keeps");
    assert.is(await large.reserve("p", "n", ts, ts + 5, 300), false, "the replay is refused");
    assert.is(await countRows(prefix), 1);
    // A third store with a smaller bound still leaves the floor alone; a larger one raises it.
    const tiny = await PostgresReplayStore.open(url, { tablePrefix: prefix, maxSkewSecs: 10, sweepEvery: 0 });
    await tiny.close();
    assert.equal(await floorRow(), [300]);
    // lowerRetentionFloor: the operator's explicit step once every replica runs the smaller bound.
    assert.is(await small.lowerRetentionFloor(), 300, "returns the floor it replaced");
    assert.equal(await floorRow(), [3]);
    assert.is(await small.retentionFloor(), 3);
    assert.is(await large.retentionFloor(), 3, "the floor as stored, whichever store reads it");
    const W2 = wallSecs();
    assert.is(await small.reserve("p", "after", W2, W2, 3), true);
    assert.equal((await sql(`SELECT expires_at::int AS e FROM ${prefix}replay WHERE nonce = $1`, [JSON.stringify("after")]))[0].e, W2 + 3, "kept for the lowered floor");
    // A replica still on the larger bound that reserves finds the floor below its own and raises
    // it back (in the background); its own row is kept for its own bound meanwhile.
    assert.is(await large.reserve("p", "large", W2, W2, 300), true);
    assert.equal((await sql(`SELECT expires_at::int AS e FROM ${prefix}replay WHERE nonce = $1`, [JSON.stringify("large")]))[0].e, W2 + 300);
    for (const deadline = Date.now() + 5000; (await floorRow())[0] !== 300; await delay(20)) assert.ok(Date.now() < deadline, "the floor is raised back");
    // A floor row deleted by hand is written again by the next store that opens, starting from
    // the largest bound the latest rows show (review 78 F3), here the 300 s of `large`'s rows.
    await sql(`DELETE FROM ${prefix}replay_retention`);
    assert.is(await small.lowerRetentionFloor(), 0, "no floor: 0");
    await sql(`DELETE FROM ${prefix}replay_retention`);
    await (await PostgresReplayStore.open(url, { tablePrefix: prefix, maxSkewSecs: 30, sweepEvery: 0 })).close();
    assert.equal(await floorRow(), [300], "registered on open, at least the rows' bound");
    // A floor edited by hand past what any store registers (its CHECK dropped): refused before
    // anything is written (review 78 F2: the row was written with a far expiry, then refused).
    await sql(`ALTER TABLE ${prefix}replay_retention DROP CONSTRAINT ${prefix}replay_retention_max_skew_secs_check`);
    await sql(`UPDATE ${prefix}replay_retention SET max_skew_secs = 4611686018427387904`);
    const rowsBefore = await countRows(prefix);
    await rejects(small.reserve("p", "odd", W2, W2, 3), (e) => e instanceof SharedStoreError && e.code === "STORE_UNEXPECTED_REPLY", "a floor out of range");
    assert.is(await countRows(prefix), rowsBefore, "nothing written");
  } finally {
    await Promise.all([large.close(), small.close()]);
  }
});

t("a replay table made before the retention floor existed gets it on the next open, without a new replay schema version (replicas of earlier versions still open)", async () => {
  const url = (await server()).url;
  const prefix = freshPrefix();
  const earlier = await PostgresReplayStore.open(url, { tablePrefix: prefix, maxSkewSecs: 120 });
  const W0 = wallSecs();
  assert.is(await earlier.reserve("p", "old", W0, W0, 120), true); // a row kept until W0 + 120
  earlier.commit("p", "old");
  await earlier.close();
  // As an earlier version left it: no retention table, no version row for it.
  await sql(`DROP TABLE ${prefix}replay_retention`);
  await sql(`DELETE FROM ${prefix}schema_version WHERE component = 'replay_retention'`);
  // The first store to open after the upgrade runs a lower bound (upgraded and lowered in one
  // restart): the floor starts at the bound the rows show, 120, not at its 30 (review 78 F3).
  const lowered = await PostgresReplayStore.open(url, { tablePrefix: prefix, maxSkewSecs: 30 });
  try {
    assert.is(await lowered.retentionFloor(), 120);
  } finally {
    await lowered.close();
  }
  const store = await PostgresReplayStore.open(url, { tablePrefix: prefix, maxSkewSecs: 240 });
  try {
    assert.equal(await sql(`SELECT component, version FROM ${prefix}schema_version ORDER BY component`), [
      { component: "replay", version: 1 },
      { component: "replay_retention", version: 1 },
    ]);
    assert.is(await store.retentionFloor(), 240);
    const W = wallSecs();
    assert.is(await store.reserve("p", "n", W, W, 240), true);
  } finally {
    await store.close();
  }
});

t("pins are listed only in the very spelling lookups match; a row that does not read back is removed with an error that says so", async () => {
  const prefix = freshPrefix();
  const store = await PostgresPeerStore.open((await server()).url, { tablePrefix: prefix });
  try {
    // Review 47: another JSON spelling of "k" was listed by snapshot, while get and remove (which
    // look the id up by its exact text) never reached it.
    await sql(`INSERT INTO ${prefix}peers VALUES ($1, $2, 1, 2)`, ['"\\u006b"', "ab".repeat(32)]);
    await rejects(store.snapshot(), (e) => e instanceof SharedStoreError && e.code === "STORE_UNEXPECTED_REPLY", "another spelling of k");
    assert.is(await store.get("k"), undefined, "not the pin of k");
    await sql(`DELETE FROM ${prefix}peers`);
    await sql(`INSERT INTO ${prefix}peers VALUES ($1, $2, 1, 2)`, [' "k"', "ab".repeat(32)]);
    await rejects(store.snapshot(), (e) => e instanceof SharedStoreError && e.code === "STORE_UNEXPECTED_REPLY", "k with a leading space");
    await sql(`DELETE FROM ${prefix}peers`);
    // Review 47: remove deleted such a row and then threw as if nothing had changed.
    await sql(`INSERT INTO ${prefix}peers VALUES ($1, $2, 1, 99999999999999999)`, [JSON.stringify("bad"), "ab".repeat(32)]);
    const error = await rejects(store.remove("bad"), (e) => e instanceof SharedStoreError && e.code === "STORE_UNEXPECTED_REPLY", "remove of an unreadable row");
    assert.match(error.message, "the entry was removed");
    assert.is((await sql(`SELECT count(*)::int AS n FROM ${prefix}peers`))[0].n, 0);
  } finally {
    await store.close();
  }
});

t("an application that parses int8 as BigInt (pg's process-wide type parsers) still reads its pins", async () => {
  const int8 = pg.types.getTypeParser(20);
  pg.types.setTypeParser(20, (text: string) => BigInt(text));
  const store = await PostgresPeerStore.open((await server()).url, { tablePrefix: freshPrefix() });
  try {
    const pin = new FederationPeer({ kernelId: "k", publicKey: KEY, establishedAt: T, rotationDue: T + 86_400 });
    assert.is(await store.compareAndSet("k", undefined, pin), true);
    assert.ok((await store.get("k"))?.equals(pin), "review 47: every pin was STORE_UNEXPECTED_REPLY");
    assert.equal((await store.snapshot()).map((p) => p.kernelId), ["k"]);
  } finally {
    await store.close();
    pg.types.setTypeParser(20, int8);
  }
});

t("a database whose default isolation is SERIALIZABLE: a compare-and-set or reserve that loses a race returns false, not a serialization error", async () => {
  // Review 47: the single-statement design counts on READ COMMITTED; under a stricter default a
  // loser is aborted with 40001, which was STORE_UNAVAILABLE. The stores read it as the lost race.
  const url = (await server()).url;
  const database = (await sql("SELECT current_database() AS d"))[0].d as string;
  await sql(`ALTER DATABASE "${database}" SET default_transaction_isolation = 'serializable'`);
  const prefix = freshPrefix();
  let store: PostgresPeerStore | undefined;
  let replay: PostgresReplayStore | undefined;
  const locker = new pg.Client({ connectionString: url });
  try {
    store = await PostgresPeerStore.open(url, { tablePrefix: prefix });
    await locker.connect();
    assert.is((await locker.query("SHOW default_transaction_isolation")).rows[0].default_transaction_isolation, "serializable", "the database default applies to new sessions");
    const first = new FederationPeer({ kernelId: "k", publicKey: KEY, establishedAt: T, rotationDue: T + 10 });
    const renewed = new FederationPeer({ kernelId: "k", publicKey: KEY, establishedAt: T + 1, rotationDue: T + 20 });
    assert.is(await store.compareAndSet("k", undefined, first), true);
    // A concurrent writer holds the row while the store's compare-and-set waits for it, then commits a change.
    await locker.query("BEGIN");
    await locker.query(`UPDATE ${prefix}peers SET rotation_due = rotation_due + 5 WHERE kernel_id = $1`, [JSON.stringify("k")]);
    const race = store.compareAndSet("k", first, renewed);
    race.catch(() => undefined); // awaited below; handled now so that a stall cannot end the run on an unhandled rejection
    await delay(150);
    await locker.query("COMMIT");
    assert.is(await race, false, "lost to the concurrent writer: false, as under READ COMMITTED");
    // A takeover of a dead pair while a concurrent writer takes it over first.
    replay = await PostgresReplayStore.open(url, { tablePrefix: prefix, maxSkewSecs: 300 });
    assert.is(await replay.reserve("p", "n", T, T, 300), true);
    replay.commit("p", "n");
    await locker.query("BEGIN");
    await locker.query(`UPDATE ${prefix}replay SET envelope_ts = $1, expires_at = $2, token = 'theirs' WHERE peer_id = $3`, [T + 400, T + 700, JSON.stringify("p")]);
    const takeover = replay.reserve("p", "n", T + 400, T + 400, 300);
    takeover.catch(() => undefined); // as race above
    await delay(150);
    await locker.query("COMMIT");
    assert.is(await takeover, false, "the pair is held by the concurrent writer: false (a replay), as under READ COMMITTED");
  } finally {
    await locker.end().catch(() => undefined);
    await store?.close();
    await replay?.close();
    await sql(`ALTER DATABASE "${database}" RESET default_transaction_isolation`);
  }
});

t("a locked table past operationTimeoutMs is STORE_TIMEOUT, and the store works again once it is free", async () => {
  const prefix = freshPrefix();
  const url = (await server()).url;
  await (await PostgresPeerStore.open(url, { tablePrefix: prefix })).close(); // tables first (see below)
  const store = await PostgresPeerStore.open(url, { tablePrefix: prefix, operationTimeoutMs: 300 });
  const locker = new pg.Client({ connectionString: url });
  await locker.connect();
  try {
    await locker.query("BEGIN");
    await locker.query(`LOCK TABLE ${prefix}peers IN ACCESS EXCLUSIVE MODE`);
    await rejects(store.get("k"), (e) => e instanceof SharedStoreError && (e.code === "STORE_TIMEOUT" || e.code === "STORE_UNAVAILABLE"), "locked");
    await locker.query("ROLLBACK");
    assert.is(await store.get("k"), undefined, "recovered");
  } finally {
    await locker.end();
    await store.close();
  }
});

t("calls that need a new connection to a server that does not answer are STORE_TIMEOUT, as documented, not pg's own connect timeout", async () => {
  // Review 47: pg's connection timer, armed with the same bound just before the store's, won
  // about half of such races, and the call was STORE_UNAVAILABLE ("timeout exceeded when trying
  // to connect"). The server's postmaster is frozen: the connection the pool already has still
  // answers, new ones are never accepted.
  const srv = await server();
  // The tables are made first under the default bound: on a loaded machine the migration alone
  // could take more than 300 ms, and the test failed at open instead of checking its calls.
  const prefix = freshPrefix();
  await (await PostgresPeerStore.open(srv.url, { tablePrefix: prefix })).close();
  const store = await PostgresPeerStore.open(srv.url, { tablePrefix: prefix, operationTimeoutMs: 300 });
  srv.freeze(true);
  try {
    const outcomes = await Promise.all(Array.from({ length: 6 }, () => store.get("k").then(() => "answered", (e) => `${e?.name} ${e?.code}`)));
    assert.ok(outcomes.some((o) => o !== "answered"), `some calls needed a new connection: ${outcomes}`);
    for (const outcome of outcomes) assert.ok(outcome === "answered" || outcome === "SharedStoreError STORE_TIMEOUT", `every other call is STORE_TIMEOUT: ${outcomes}`);
  } finally {
    srv.freeze(false);
    await store.close();
  }
});

t("a write that timed out on our side is cancelled by the server, not committed when its lock is released", async () => {
  // pg's query_timeout only stops waiting; the store also sets the server's statement_timeout
  // (operationTimeoutMs), so a statement still blocked when the caller got STORE_TIMEOUT is
  // cancelled by the server instead of landing whenever the lock is freed.
  const prefix = freshPrefix();
  const url = (await server()).url;
  // Tables made first under the default bound (see the test before).
  await (await PostgresPeerStore.open(url, { tablePrefix: prefix })).close();
  await (await PostgresReplayStore.open(url, { tablePrefix: prefix })).close();
  const peers = await PostgresPeerStore.open(url, { tablePrefix: prefix, operationTimeoutMs: 300 });
  const replay = await PostgresReplayStore.open(url, { tablePrefix: prefix, operationTimeoutMs: 300 });
  const locker = new pg.Client({ connectionString: url });
  await locker.connect();
  const timedOut = (e: any) => e instanceof SharedStoreError && e.code === "STORE_TIMEOUT";
  const pin = new FederationPeer({ kernelId: "late", publicKey: KEY, establishedAt: T, rotationDue: T + 10 });
  try {
    await locker.query("BEGIN");
    await locker.query(`LOCK TABLE ${prefix}peers, ${prefix}replay IN ACCESS EXCLUSIVE MODE`);
    await rejects(peers.compareAndSet("late", undefined, pin), timedOut, "pin");
    await rejects(peers.insert(pin), timedOut, "insert");
    await rejects(replay.reserve("late", "n1", T, T, 60), timedOut, "reserve");
    await delay(1000); // well past the server's 300 ms per statement
    await locker.query("ROLLBACK");
    // Any statement of the stores still running would now take its lock and commit: wait until
    // the server runs none (at most 5 s), then look.
    for (let i = 0; i < 50; i++) {
      const running = await sql(
        `SELECT count(*)::int AS n FROM pg_stat_activity WHERE pid <> pg_backend_pid() AND state = 'active' AND query LIKE $1`,
        [`%${prefix}%`],
      );
      if (running[0].n === 0) break;
      await delay(100);
    }
    assert.equal(await sql(`SELECT kernel_id FROM ${prefix}peers`), [], "no late pin");
    assert.equal(await sql(`SELECT peer_id FROM ${prefix}replay`), [], "no late pair");
    assert.is(await peers.compareAndSet("late", undefined, pin), true, "the store works once the tables are free");
  } finally {
    await locker.end();
    await peers.close();
    await replay.close();
  }
});

t("setStatementTimeout: false leaves statements unbounded on the server: a timed-out pin commits once its lock is released", async () => {
  // The counterpart of the test above (for a pooler that refuses the startup parameter): without
  // the server's bound, the statement pg stopped waiting for still runs and lands later.
  const prefix = freshPrefix();
  const url = (await server()).url;
  await (await PostgresPeerStore.open(url, { tablePrefix: prefix })).close(); // tables first (see below)
  const peers = await PostgresPeerStore.open(url, { tablePrefix: prefix, operationTimeoutMs: 300, setStatementTimeout: false });
  const locker = new pg.Client({ connectionString: url });
  await locker.connect();
  const pin = new FederationPeer({ kernelId: "late", publicKey: KEY, establishedAt: T, rotationDue: T + 10 });
  try {
    await locker.query("BEGIN");
    await locker.query(`LOCK TABLE ${prefix}peers IN ACCESS EXCLUSIVE MODE`);
    await rejects(peers.compareAndSet("late", undefined, pin), (e) => e instanceof SharedStoreError && e.code === "STORE_TIMEOUT", "pin");
    await delay(1000);
    await locker.query("ROLLBACK");
    let rows: any[] = [];
    for (let i = 0; i < 50 && rows.length === 0; i++) {
      await delay(100);
      rows = await sql(`SELECT kernel_id FROM ${prefix}peers`);
    }
    assert.equal(rows, [{ kernel_id: JSON.stringify("late") }], "the late pin landed");
  } finally {
    await locker.end();
    await peers.close();
  }
});

t("a background sweep the server cancels is retried with half the batch, so expired rows still go", async () => {
  // Every deleted row costs 25 ms here (a trigger), so a sweep of 64 rows (1.6 s) can never
  // finish within operationTimeoutMs (400 ms) and the server cancels it, deleting nothing; one of
  // 8 rows (0.2 s) can. Without halving, the expired rows would stay forever.
  const prefix = freshPrefix();
  const store = await PostgresReplayStore.open((await server()).url, {
    tablePrefix: prefix,
    operationTimeoutMs: 400,
    maxSkewSecs: 60,
    sweepEvery: 1,
    sweepBatch: 64,
  });
  try {
    const W = wallSecs();
    await insertRows(prefix, Array.from({ length: 64 }, (_, i) => ({ peer: "old", nonce: `n${i}`, ts: W - 1000, expires: W - 940 })));
    await sql(`CREATE FUNCTION ${prefix}slow() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN PERFORM pg_sleep(0.025); RETURN OLD; END $$`);
    await sql(`CREATE TRIGGER ${prefix}slow BEFORE DELETE ON ${prefix}replay FOR EACH ROW EXECUTE FUNCTION ${prefix}slow()`);
    const expired = async () => (await sql(`SELECT count(*)::int AS n FROM ${prefix}replay WHERE peer_id = $1`, [JSON.stringify("old")]))[0].n as number;
    // Reservations now, when the 64 pairs are long dead: each starts a background sweep unless
    // one is running. At most 15 s.
    let left = 64;
    for (let k = 0; k < 150 && left > 0; k++) {
      await store.reserve("new", `m${k}`, W, W, 60);
      await delay(100);
      left = await expired();
    }
    assert.is(left, 0, "every expired row was swept");
  } finally {
    await store.close();
  }
});

t("server down: typed failures; server back: the same store recovers by itself", async () => {
  const srv = await server();
  const prefix = freshPrefix();
  const peers = await PostgresPeerStore.open(srv.url, { tablePrefix: prefix, operationTimeoutMs: 1000 });
  const replay = await PostgresReplayStore.open(srv.url, { tablePrefix: prefix, operationTimeoutMs: 1000 });
  const pin = new FederationPeer({ kernelId: "k", publicKey: KEY, establishedAt: T, rotationDue: T + 10 });
  try {
    await peers.insert(pin);
    await srv.stop();
    const down = (e: any) => e instanceof SharedStoreError && (e.code === "STORE_UNAVAILABLE" || e.code === "STORE_TIMEOUT");
    await rejects(peers.get("k"), down, "get while down");
    await rejects(replay.reserve("p", "n", T, T, 300), down, "reserve while down");
    await srv.start();
    assert.ok((await peers.get("k"))?.equals(pin), "the pin written before the outage is there");
    assert.is(await replay.reserve("p", "n", T, T, 300), true, "the failed reserve left nothing behind");
  } finally {
    await Promise.all([peers.close(), replay.close()]);
  }
});

t("stop the server", async () => {
  if (started) await (await started).dispose();
});

t.run();
