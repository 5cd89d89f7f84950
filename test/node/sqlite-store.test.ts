// The SQLite stores (chio-trust/sqlite) on real files: the shared port contracts, then what only a
// durable, shared file must show: pins and nonces survive a reopen (and a restarted exchange
// refuses an envelope it accepted before), two processes pinning at once leave one winner per
// id, a SIGKILL in the middle of a batch of writes leaves every completed pin intact and no torn
// row, and corrupted, foreign or newer files give typed errors without being written to.
import { test } from "uvu";
import * as assert from "uvu/assert";
import Database from "better-sqlite3";
import { createVersionOneTables } from "../helpers/sqlite-version-one.js";
import { createHash } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { tmpdir } from "node:os";
import path from "node:path";
import { FederationPeer, KernelTrustExchange, Keypair, PublicKey } from "../../src/index.js";
import { SqlitePeerStore, SqliteReplayStore, SqliteStoreError, SCHEMA_VERSION, CHIO_APPLICATION_ID } from "../../src/stores/sqlite/index.js";
import { CLOCK_GRACE_SECS } from "../../src/stores/sqlite/replay-store.js";
import { MAX_PLAUSIBLE_UNIX_SECONDS } from "../../src/stores/sqlite/schema.js";
import { peerStoreConformance, replayStoreConformance } from "../helpers/store-conformance.js";
import { rejectsWith } from "../helpers/assert-codes.js";
import { finished, repoRoot, spawnModule, runModule, waitForLine } from "../helpers/processes.js";

const dirs: string[] = [];
function tempFile(name = "trust.db"): string {
  const dir = mkdtempSync(path.join(tmpdir(), "chio-sqlite-"));
  dirs.push(dir);
  return path.join(dir, name);
}
function removeDir(file: string): void {
  rmSync(path.dirname(file), { recursive: true, force: true });
}

peerStoreConformance("SqlitePeerStore", async () => {
  const file = tempFile();
  const store = new SqlitePeerStore(file, { synchronous: "normal" });
  return { store, close: () => (store.close(), removeDir(file)) };
});
replayStoreConformance(
  "SqliteReplayStore",
  async () => {
    const file = tempFile();
    const store = new SqliteReplayStore(file, { synchronous: "normal" });
    return { store, close: () => (store.close(), removeDir(file)) };
  },
  async () => {
    const file = tempFile();
    const a = new SqliteReplayStore(file, { synchronous: "normal" });
    const b = new SqliteReplayStore(file, { synchronous: "normal" }); // a second process's connection to the file
    return { stores: [a, b], close: () => (a.close(), b.close(), removeDir(file)) };
  },
);

const seed = (byte: number) => new Uint8Array(32).fill(byte);
// Near the wall clock: the replay store prunes pairs older than its retention (7 days) on open.
const T = Math.floor(Date.now() / 1000);
/**
 * A day before T: tests that move a reserve's `now` past T + retention start here, since a reserve
 * prunes at most up to this host's clock (review 68 F1).
 */
const DAY_AGO = T - 86_400;

/**
 * This host's clock as the stores read it (Date.now, the realm's, which fake timers set) set so
 * that the store's own prunes run at `seconds` (the clock less CLOCK_GRACE_SECS) until `restore()`,
 * and moved by `set`: the tests that start at DAY_AGO move it along with their reserves' `now`,
 * since a reserve of a pair past its retention at that time is refused
 * (PAST_RETENTION_ON_HOST_CLOCK: its row could already have been pruned) and prunes stop there.
 */
function hostClockAt(seconds: number): { set(seconds: number): void; restore(): void } {
  const realNow = Date.now;
  let clock = seconds;
  Date.now = () => (clock + CLOCK_GRACE_SECS) * 1000 + 500;
  return { set: (to) => (clock = to), restore: () => (Date.now = realNow) };
}

function throwsStoreError(fn: () => unknown, code: string): SqliteStoreError {
  try {
    fn();
  } catch (error) {
    assert.instance(error, SqliteStoreError, String(error));
    assert.is((error as SqliteStoreError).code, code, (error as Error).message);
    return error as SqliteStoreError;
  }
  throw new assert.Assertion({ message: `expected SqliteStoreError ${code}`, operator: "throws", expects: code, actual: "returned" });
}

const sha256 = (file: string) => createHash("sha256").update(readFileSync(file)).digest("hex");

test("pins, their records and remembered nonces survive close and reopen; both stores share one file", () => {
  const file = tempFile();
  const key = Keypair.fromSeed(seed(1)).publicKey;
  const pin = new FederationPeer({ kernelId: "kernel.b", publicKey: key, establishedAt: T, rotationDue: T + 43_200 });
  {
    const peers = new SqlitePeerStore(file, { origin: "test-suite" });
    const replay = new SqliteReplayStore(file);
    assert.is(peers.compareAndSet("kernel.b", undefined, pin), true);
    assert.is(replay.reserve("kernel.b", "nonce-1", T, T, 300), true);
    replay.commit("kernel.b", "nonce-1");
    assert.is(replay.reserve("kernel.b", "nonce-in-flight", T, T, 300), true); // never committed
    peers.close();
    replay.close();
  }
  const peers = new SqlitePeerStore(file);
  const replay = new SqliteReplayStore(file);
  try {
    assert.ok(peers.get("kernel.b")?.equals(pin), "pin survived");
    const record = peers.record("kernel.b")!;
    assert.is(record.algorithm, "ed25519");
    assert.is(record.establishedVia, "compareAndSet");
    assert.is(record.origin, "test-suite");
    assert.is(peers.schemaVersion, SCHEMA_VERSION);
    assert.is(replay.reserve("kernel.b", "nonce-1", T, T + 10, 300), false, "committed nonce still refused");
    assert.is(replay.reserve("kernel.b", "nonce-in-flight", T, T + 10, 300), false, "a reservation left by a closed store stays held (fail closed)");
    assert.is(replay.reserve("kernel.b", "nonce-2", T, T + 10, 300), true);
  } finally {
    peers.close();
    replay.close();
  }
  const header = new Database(file, { readonly: true });
  assert.is(header.pragma("application_id", { simple: true }), CHIO_APPLICATION_ID);
  assert.is(header.pragma("journal_mode", { simple: true }), "wal");
  header.close();
});

test("a restarted exchange on the same file refuses the envelope it accepted before, and trusts its pin without the anchor", async () => {
  const file = tempFile();
  const a = Keypair.fromSeed(seed(2));
  const b = Keypair.fromSeed(seed(3));
  const sender = new KernelTrustExchange("kernel.a", a);
  const envelope = JSON.stringify(sender.localEnvelope("kernel.b", "restart-nonce", T));
  const open = () => {
    const peers = new SqlitePeerStore(file);
    const replay = new SqliteReplayStore(file);
    const exchange = new KernelTrustExchange("kernel.b", b, { store: peers, replayStore: replay });
    return { exchange, close: () => (peers.close(), replay.close()) };
  };
  const first = open();
  first.exchange.withTrustedPeer("kernel.a", a.publicKey);
  const pinned = await first.exchange.acceptEnvelope(envelope, "kernel.a", T);
  assert.ok(pinned.publicKey.equals(a.publicKey));
  first.close();

  const second = open(); // no anchor this time: the pin is the expected key
  try {
    await rejectsWith(second.exchange.acceptEnvelope(envelope, "kernel.a", T + 1), "REPLAYED_NONCE");
    const renewed = await second.exchange.acceptEnvelope(JSON.stringify(sender.localEnvelope("kernel.b", "next-nonce", T + 2)), "kernel.a", T + 2);
    assert.is(renewed.establishedAt, T + 2);
    const impostor = new KernelTrustExchange("kernel.a", Keypair.fromSeed(seed(4)));
    await rejectsWith(second.exchange.acceptEnvelope(JSON.stringify(impostor.localEnvelope("kernel.b", "x", T + 3)), "kernel.a", T + 3), "UNEXPECTED_PEER_KEY");
    assert.ok((await second.exchange.resolve("kernel.a", T + 3)).equals(renewed));
  } finally {
    second.close();
  }
});


test("an accept refused after its reservation whose release then fails (another connection holds the write lock) leaves that nonce held: the fourth fail-closed case the README lists; nothing is pinned, and a new nonce is accepted once the lock is gone", async () => {
  const file = tempFile();
  const a = Keypair.fromSeed(seed(2));
  const peers = new SqlitePeerStore(file, { busyTimeoutMs: 20 });
  const replay = new SqliteReplayStore(file, { busyTimeoutMs: 20 });
  const exchange = new KernelTrustExchange("kernel.b", Keypair.fromSeed(seed(3)), { store: peers, replayStore: replay, trustedPeers: { "kernel.a": a.publicKey } });
  const sender = new KernelTrustExchange("kernel.a", a);
  const envelope = JSON.stringify(sender.localEnvelope("kernel.b", "n-release", T));
  const other = new Database(file); // another connection to the file, as another process's would be
  try {
    const hook = new Error("refused in beforePin");
    let refused: unknown;
    try {
      await exchange.acceptEnvelope(envelope, "kernel.a", T, { beforePin: () => { other.exec("BEGIN IMMEDIATE"); throw hook; } });
    } catch (error) {
      refused = error;
    }
    assert.is(refused, hook, "the accept is refused with the hook's error");
    other.exec("ROLLBACK");
    assert.is(peers.size, 0, "nothing pinned");
    assert.equal(other.prepare("SELECT nonce, state FROM chio_trust_replay").all(), [{ nonce: "n-release", state: "reserved" }], "the release failed (DATABASE_BUSY): the reservation stays");
    await rejectsWith(exchange.acceptEnvelope(envelope, "kernel.a", T + 1), "REPLAYED_NONCE");
    const pinned = await exchange.acceptEnvelope(JSON.stringify(sender.localEnvelope("kernel.b", "n-next", T + 1)), "kernel.a", T + 1);
    assert.is(pinned.establishedAt, T + 1);
  } finally {
    other.close();
    peers.close();
    replay.close();
  }
});
test("release restores an expired committed pair; skew above retention and bad arguments are typed errors", () => {
  const file = tempFile();
  const replay = new SqliteReplayStore(file, { retentionSecs: 3600, maxKeyUnits: 16 });
  try {
    assert.is(replay.reserve("p", "n", T, T, 300), true);
    replay.commit("p", "n");
    assert.is(replay.reserve("p", "n", T, T + 301, 300), true, "expired under skew 300");
    replay.release("p", "n");
    assert.is(replay.reserve("p", "n", T, T + 301, 600), false, "the released reservation restored the old pair: a raised skew still refuses it");
    throwsStoreError(() => replay.reserve("p", "m", T, T, 3601), "SKEW_ABOVE_RETENTION");
    throwsStoreError(() => replay.reserve("p\uD800", "m", T, T, 300), "INVALID_ARGUMENT");
    assert.throws(() => replay.reserve("p", "m", 1.5, T, 300), (e: unknown) => (e as { code?: unknown }).code === "INVALID_TIME", "a time is INVALID_TIME, as every ReplayStore throws it (hunt 58)");
    assert.is(replay.fits("p", "x".repeat(15)), true);
    assert.is(replay.fits("p", "x".repeat(16)), false);
    // A pair it could never hold, as reserve refuses it above: false, not true (hunt 58).
    assert.is(replay.fits("p\uD800", "m"), false);
    assert.is(replay.fits("p", "m\uDC00x"), false);
    assert.is(replay.fits("p\uD83D\uDE00", "m"), true, "a surrogate pair is well-formed");
    assert.is(replay.prune(T + 3600), 0, "a pair is kept until retention has passed");
    assert.is(replay.prune(T + 3601), 1);
  } finally {
    replay.close();
  }
  throwsStoreError(() => replay.reserve("p", "n", T, T, 300), "STORE_CLOSED");
  const peers = new SqlitePeerStore(file);
  peers.close();
  throwsStoreError(() => peers.get("x"), "STORE_CLOSED");
  throwsStoreError(() => new SqlitePeerStore(file, { busyTimeoutMs: -1 }), "INVALID_ARGUMENT");
  throwsStoreError(() => new SqlitePeerStore(""), "INVALID_ARGUMENT");
  throwsStoreError(() => new SqlitePeerStore(path.join(path.dirname(file), "missing", "dir", "x.db")), "CANNOT_OPEN");
});

// Helper 146 (7 December 2026): with retentionSecs equal to the skew, an envelope accepted with
// a `now` behind this host's clock (given by the caller) left a row whose keep_until the clock
// had already passed; the next store to open the file pruned it at the clock, and the same
// envelope, at the same lagging `now`, was accepted again and its pin renewed. Prunes now stay
// CLOCK_GRACE_SECS behind the clock, and a reserve of a pair further past its keep_until is
// refused; helper 151: within the grace, an accept at the edge of its window is still taken.
test("a reserve of a pair this host's clock puts past its retention by more than CLOCK_GRACE_SECS is refused (PAST_RETENTION_ON_HOST_CLOCK, nothing written), so a replay cannot follow its pruned row; within the grace it is taken, and no prune deletes it", async () => {
  const file = tempFile("past-retention.db");
  const wall = Math.floor(Date.now() / 1000);
  const replay = new SqliteReplayStore(file, { retentionSecs: 300 });
  const peers = new SqlitePeerStore(file);
  try {
    const old = wall - 300 - CLOCK_GRACE_SECS - 40; // kept until 40 s before the grace
    const refused = throwsStoreError(() => replay.reserve("kernel.a", "old", old, old, 300), "PAST_RETENTION_ON_HOST_CLOCK");
    assert.match(refused.message, /past timestamp/);
    assert.is(replay.size, 0, "nothing written");
    assert.is(replay.reserve("kernel.a", "recent", wall - 250, wall - 250, 300), true, "kept until wall + 50: taken");
    replay.commit("kernel.a", "recent");
    // At the edge of its window, `now` a second or two behind the clock (the second turned between
    // the exchange's read and the reserve): taken, and kept by every prune that runs by the clock.
    const edge = wall - 302; // kept until wall - 2
    assert.is(replay.reserve("kernel.a", "edge", edge, edge + 300, 300), true, "within the grace: taken");
    replay.commit("kernel.a", "edge");
    new SqliteReplayStore(file, { retentionSecs: 300 }).close(); // another process opens the file: it prunes
    assert.is(replay.prune(), 0, "prune() by default deletes nothing a reserve may still take");
    assert.is(replay.reserve("kernel.a", "edge", edge, edge + 300, 300), false, "the replay is refused: its row is there");
    replay.release("kernel.a", "edge");
    // Through the exchange: the envelope signed 301 s ago, accepted at its own timestamp.
    const signer = new KernelTrustExchange("kernel.a", Keypair.fromSeed(seed(41)));
    const exchange = new KernelTrustExchange("kernel.b", Keypair.fromSeed(seed(42)), {
      store: peers,
      replayStore: replay,
      trustedPeers: { "kernel.a": Keypair.fromSeed(seed(41)).publicKey },
      config: { maxHandshakeSkewSecs: 300 },
    });
    const ts = wall - 300 - CLOCK_GRACE_SECS - 40;
    const text = JSON.stringify(signer.localEnvelope("kernel.b", "nonce-1", ts));
    for (const at of [ts, ts + 300]) {
      new SqliteReplayStore(file, { retentionSecs: 300 }).close(); // another process opens the file: it prunes at the clock
      const error = await rejectsWith(exchange.acceptEnvelope(text, "kernel.a", at), "STORE_FAILED");
      assert.is((error.cause as { code?: string }).code, "PAST_RETENTION_ON_HOST_CLOCK", `at ${at - ts} s`);
      assert.is(peers.get("kernel.a"), undefined, `at ${at - ts} s: nothing pinned`);
    }
    assert.is(replay.size, 2, "only the recent and edge pairs");
    // At the second itself: a pair kept until exactly the clock less CLOCK_GRACE_SECS, where the
    // prunes run (they delete keep_until below it), is taken; one a second older is refused (a
    // mutation audit's `<=` in the reserve's check went unseen, hunt 63).
    const clock = hostClockAt(wall);
    try {
      throwsStoreError(() => replay.reserve("kernel.a", "at-edge-1", wall - 301, wall - 301, 300), "PAST_RETENTION_ON_HOST_CLOCK");
      assert.is(replay.reserve("kernel.a", "at-edge", wall - 300, wall - 300, 300), true, "kept until the prunes' own second: taken");
      assert.is(replay.size, 3, "the pair at the edge only");
    } finally {
      clock.restore();
    }
  } finally {
    replay.close();
    peers.close();
  }
});

// Helper 146 (7 December 2026): an accept made while Date.now() read before 1970 (fake timers;
// the exchange was given `now`) pinned with written_at -1, which every later read refuses as
// CORRUPT_ROW: resolve, the next accept and peers() failed for every peer from then on.
test("a pin written while this host's clock reads no plausible time is refused (HOST_CLOCK_IMPLAUSIBLE, STORE_FAILED), nothing written: the pins stay readable", async () => {
  const file = tempFile("clock.db");
  const peers = new SqlitePeerStore(file);
  const a = new KernelTrustExchange("kernel.a", Keypair.fromSeed(seed(51)));
  const exchange = new KernelTrustExchange("kernel.b", Keypair.fromSeed(seed(52)), {
    store: peers,
    trustedPeers: { "kernel.a": Keypair.fromSeed(seed(51)).publicKey, "kernel.c": Keypair.fromSeed(seed(53)).publicKey },
  });
  const c = new KernelTrustExchange("kernel.c", Keypair.fromSeed(seed(53)));
  try {
    await exchange.acceptEnvelope(JSON.stringify(c.localEnvelope("kernel.b", "c-1", T)), "kernel.c", T);
    const realNow = Date.now;
    for (const clock of [-1000, 1e15]) {
      Date.now = () => clock; // before 1970; in the year 33658 (a clock in µs)
      let error: unknown;
      try {
        error = await rejectsWith(exchange.acceptEnvelope(JSON.stringify(a.localEnvelope("kernel.b", `a-${clock}`, T)), "kernel.a", T), "STORE_FAILED");
        throwsStoreError(() => peers.compareAndSet("kernel.x", undefined, new FederationPeer({ kernelId: "kernel.x", publicKey: Keypair.fromSeed(seed(54)).publicKey, establishedAt: T, rotationDue: T + 60 })), "HOST_CLOCK_IMPLAUSIBLE");
      } finally {
        Date.now = realNow;
      }
      assert.is(((error as Error).cause as { code?: string }).code, "HOST_CLOCK_IMPLAUSIBLE", String(clock));
      assert.is(peers.get("kernel.a"), undefined, `${clock}: nothing pinned`);
      assert.is(peers.size, 1);
    }
    assert.equal((await exchange.peers()).map((p) => p.kernelId), ["kernel.c"], "the other pins read as ever");
    const pin = await exchange.acceptEnvelope(JSON.stringify(a.localEnvelope("kernel.b", "a-later", T)), "kernel.a", T);
    assert.is(pin.kernelId, "kernel.a", "with the clock back, the accept pins");
  } finally {
    peers.close();
  }
});

test("maxPairsPerPeer: a peer holding that many live pairs cannot reserve a new one (PEER_QUOTA_EXCEEDED, nothing written); replays, other peers, released and expired pairs are unaffected", () => {
  const T = DAY_AGO;
  const file = tempFile("quota.db");
  const replay = new SqliteReplayStore(file, { retentionSecs: 3600, maxPairsPerPeer: 3 });
  const other = new SqliteReplayStore(file, { retentionSecs: 3600, maxPairsPerPeer: 3 }); // a second process on the file
  const clock = hostClockAt(T);
  try {
    assert.is(replay.maxPairsPerPeer, 3);
    for (const nonce of ["n1", "n2"]) {
      assert.is(replay.reserve("flood", nonce, T, T, 300), true);
      replay.commit("flood", nonce);
    }
    assert.is(other.reserve("flood", "n3", T, T, 300), true, "reserved, not committed: it counts as well");
    const refused = throwsStoreError(() => replay.reserve("flood", "n4", T, T, 300), "PEER_QUOTA_EXCEEDED");
    assert.match(refused.message, /maxPairsPerPeer/);
    throwsStoreError(() => other.reserve("flood", "n4", T + 10, T + 10, 300), "PEER_QUOTA_EXCEEDED");
    assert.is(replay.size, 3, "nothing written by the refused reserves");
    assert.is(replay.reserve("flood", "n1", T, T + 10, 300), false, "a replay is still REPLAYED (false), not a quota error");
    assert.is(replay.reserve("calm", "n1", T, T, 300), true, "another peer has its own quota");
    other.release("flood", "n3");
    assert.is(replay.reserve("flood", "n4", T, T, 300), true, "a released reservation no longer counts");
    throwsStoreError(() => replay.reserve("flood", "n5", T, T, 300), "PEER_QUOTA_EXCEEDED");
    // An expired pair under the skew asked is reserved again in place: no new row, no quota check.
    assert.is(replay.reserve("flood", "n1", T, T + 301, 300), true, "expired under skew 300, taken again");
    replay.release("flood", "n1");
    // Pairs past retention (timestamp < now − 3600) no longer count, pruned or not.
    clock.set(T + 3601);
    assert.is(replay.reserve("flood", "n5", T + 3601, T + 3601, 300), true, "the pairs of T are past retention");
    assert.is(replay.reserve("flood", "n6", T + 3601, T + 3601, 300), true);
    assert.is(replay.reserve("flood", "n7", T + 3601, T + 3601, 300), true);
    throwsStoreError(() => replay.reserve("flood", "n8", T + 3601, T + 3601, 300), "PEER_QUOTA_EXCEEDED");
  } finally {
    clock.restore();
    replay.close();
    other.close();
  }
  for (const bad of [0, -1, 1.5, "3", Number.MAX_SAFE_INTEGER + 1]) {
    throwsStoreError(() => new SqliteReplayStore(tempFile("quota-bad.db"), { maxPairsPerPeer: bad as number }), "INVALID_ARGUMENT");
  }
});

/** Each peer's count in chio_trust_replay_peers, and the rows the file really holds per peer. */
function peerCounts(file: string): { counted: Record<string, number>; rows: Record<string, number>; oldestOk: boolean } {
  const db = new Database(file, { readonly: true });
  try {
    const counted = Object.fromEntries((db.prepare("SELECT peer_id, pairs FROM chio_trust_replay_peers").all() as { peer_id: string; pairs: number }[]).map((r) => [r.peer_id, r.pairs]));
    const rows = Object.fromEntries((db.prepare("SELECT peer_id, count(*) AS n FROM chio_trust_replay GROUP BY peer_id").all() as { peer_id: string; n: number }[]).map((r) => [r.peer_id, r.n]));
    // Every peer's first_keep_until is at or below all of its rows' keep_until (the quota's recount trigger relies on it).
    const oldestOk =
      (db.prepare("SELECT count(*) AS bad FROM chio_trust_replay r JOIN chio_trust_replay_peers p USING (peer_id) WHERE r.keep_until < p.first_keep_until").get() as { bad: number }).bad === 0;
    return { counted, rows, oldestOk };
  } finally {
    db.close();
  }
}

// Mutation audit (src/stores/sqlite): a pair is held through its keep_until second, so at that
// second it still counts against its peer's quota. A recount at the quota (one pair past its
// keep_until) that also deleted the pairs whose keep_until IS now freed their slots one second
// early (and dropped a pair prune(now) keeps): the peer could then hold more than maxPairsPerPeer
// live pairs.
test("maxPairsPerPeer at keep_until: a recount at the quota deletes the pairs before now, and a pair at its keep_until second still counts", () => {
  const T = DAY_AGO;
  const file = tempFile("quota-edge.db");
  const replay = new SqliteReplayStore(file, { retentionSecs: 3600, maxPairsPerPeer: 2 });
  const clock = hostClockAt(T);
  try {
    assert.is(replay.reserve("edge", "n1", T - 1, T, 300), true); // kept until T + 3599
    assert.is(replay.reserve("edge", "n2", T, T, 300), true); // kept until T + 3600
    for (const nonce of ["n1", "n2"]) replay.commit("edge", nonce);
    clock.set(T + 3599);
    throwsStoreError(() => replay.reserve("edge", "n3", T + 3599, T + 3599, 300), "PEER_QUOTA_EXCEEDED");
    // At T + 3600 n1 is past its keep_until, n2 at its own: the recount frees exactly one slot.
    clock.set(T + 3600);
    assert.is(replay.reserve("edge", "n3", T + 3600, T + 3600, 300), true, "n1's slot is free");
    assert.equal(peerCounts(file).counted, { edge: 2 }, "n2 and n3 held");
    assert.is(replay.size, 2, "n2, at its keep_until second, is not deleted");
    throwsStoreError(() => replay.reserve("edge", "n4", T + 3600, T + 3600, 300), "PEER_QUOTA_EXCEEDED");
    assert.is(replay.prune(T + 3600), 0, "prune agrees: nothing else is past keep_until");
    clock.set(T + 3601);
    assert.is(replay.reserve("edge", "n4", T + 3601, T + 3601, 300), true, "one second later n2 is past keep_until too");
    assert.equal(peerCounts(file).counted, { edge: 2 });
  } finally {
    clock.restore();
    replay.close();
  }
});

test("maxPairsPerPeer reads a per-peer count that every write keeps equal to the peer's rows, across processes, releases, reserves in place and prunes", () => {
  const file = tempFile("counts.db");
  const replay = new SqliteReplayStore(file, { retentionSecs: 3600, maxPairsPerPeer: 50 });
  const other = new SqliteReplayStore(file, { retentionSecs: 3600, maxPairsPerPeer: 50 });
  const check = (when: string) => {
    const { counted, rows, oldestOk } = peerCounts(file);
    assert.equal(counted, rows, `${when}: counts equal the rows`);
    assert.ok(oldestOk, `${when}: first_keep_until is a lower bound`);
  };
  try {
    for (let i = 0; i < 12; i++) {
      const store = i % 2 === 0 ? replay : other;
      assert.is(store.reserve(`peer-${i % 3}`, `n${i}`, T - 10 * i, T, 300), true);
      if (i % 4 !== 3) store.commit(`peer-${i % 3}`, `n${i}`);
    }
    check("after reserves and commits from two stores");
    other.release("peer-1", "n7"); // a reservation of `other`, never committed: its row goes
    replay.release("peer-0", "n0"); // committed: not a reservation, nothing changes
    check("after releases");
    assert.is(replay.reserve("peer-0", "n0", T + 400, T + 400, 300), true, "expired under skew 300: taken again in place");
    check("after a reserve in place");
    replay.release("peer-0", "n0"); // restored to its old timestamp
    check("after a release that restores");
    assert.is(replay.prune(T + 3600 - 60), 4, "the rows with timestamps before T − 60 (n8 to n11) are past retention");
    check("after prune()");
    // Everything pruned for a peer: its count row goes too.
    replay.prune(T + 3600 + 1000);
    check("after pruning every row");
    assert.equal(peerCounts(file).counted, {});
  } finally {
    replay.close();
    other.close();
  }
});

test("maxPairsPerPeer: a peer at its quota is refused from its count alone, and its rows are counted again only once one may be past its keep_until", () => {
  const T = DAY_AGO;
  const file = tempFile("counted.db");
  const replay = new SqliteReplayStore(file, { retentionSecs: 3600, maxPairsPerPeer: 3 });
  const setCount = (pairs: number, firstKeepUntil: number) => {
    const db = new Database(file);
    db.prepare("UPDATE chio_trust_replay_peers SET pairs = ?, first_keep_until = ? WHERE peer_id = 'p'").run(pairs, firstKeepUntil);
    db.close();
  };
  const clock = hostClockAt(T);
  try {
    assert.is(replay.reserve("p", "a", T, T, 300), true);
    // The count says 3 though the peer has one row: the reserve trusts the count (it does not
    // read the peer's rows, which is what made a refused reserve cost a scan of all of them).
    setCount(3, T + 3600);
    throwsStoreError(() => replay.reserve("p", "b", T, T, 300), "PEER_QUOTA_EXCEEDED");
    assert.equal(peerCounts(file).counted, { p: 3 }, "not counted again: no row of the peer can be past its keep_until");
    // Once first_keep_until has passed, a reserve at the quota counts the rows again (deleting those
    // past their keep_until) and goes by what it finds.
    setCount(3, T - 1);
    assert.is(replay.reserve("p", "b", T, T, 300), true, "counted again: 1 row, so room for more");
    assert.equal(peerCounts(file).counted, { p: 2 });
    assert.ok(peerCounts(file).oldestOk);
    // A release that restores an older timestamp keeps first_keep_until a lower bound even when the
    // rows were counted again while the pair was reserved in place (with its newer timestamp).
    for (const nonce of ["a", "b", "c"]) {
      assert.is(replay.reserve("q", nonce, nonce === "a" ? T - 3000 : T, T, 300), true);
      replay.commit("q", nonce);
    }
    assert.is(replay.reserve("q", "a", T, T - 2699, 300), true, "expired under skew 300: taken again in place, timestamp T");
    clock.set(T + 601);
    throwsStoreError(() => replay.reserve("q", "d", T + 601, T + 601, 300), "PEER_QUOTA_EXCEEDED");
    // Counted again, and kept though the reserve was refused: first_keep_until is exact (T + 3600),
    // so the next refusals read the count alone (a refusal that rolled the recount back would scan
    // every time).
    const firstKeepUntil = () => {
      const db = new Database(file, { readonly: true });
      const row = db.prepare("SELECT first_keep_until FROM chio_trust_replay_peers WHERE peer_id = 'q'").get() as { first_keep_until: number };
      db.close();
      return row.first_keep_until;
    };
    assert.is(firstKeepUntil(), T + 3600);
    replay.release("q", "a"); // back to T − 3000, kept until T + 600
    assert.ok(peerCounts(file).oldestOk, "first_keep_until lowered by the restore");
    assert.is(firstKeepUntil(), T + 600);
  } finally {
    clock.restore();
    replay.close();
  }
});

test("schema versions 2 and 3 count the pairs of a version-1 file and keep them 7 days past their timestamps when it opens it", () => {
  const file = tempFile("v1.db");
  // A version-1 file, as the previous release wrote it, holding pairs.
  const db = new Database(file);
  createVersionOneTables(db);
  const insert = db.prepare("INSERT INTO chio_trust_replay VALUES (?, ?, ?, 'committed', NULL, NULL)");
  for (const [peer, nonce, at] of [["x", "1", T - 5], ["x", "2", T - 9], ["x", "3", T], ["y", "1", T]] as const) insert.run(peer, nonce, at);
  db.close();
  const replay = new SqliteReplayStore(file, { retentionSecs: 3600, maxPairsPerPeer: 3 });
  try {
    assert.equal(peerCounts(file).counted, { x: 3, y: 1 });
    throwsStoreError(() => replay.reserve("x", "4", T, T, 300), "PEER_QUOTA_EXCEEDED");
    assert.is(replay.reserve("y", "2", T, T, 300), true);
    const version = new Database(file, { readonly: true });
    assert.is(Number((version.prepare("SELECT max(version) AS v FROM chio_trust_schema").get() as { v: number }).v), 4);
    assert.is(SCHEMA_VERSION, 4);
    // Pairs written before version 3 are kept for the default retention (their writer's is unknown).
    const kept = version.prepare("SELECT peer_id, nonce, timestamp, keep_until FROM chio_trust_replay WHERE peer_id = 'x' ORDER BY nonce").all() as { timestamp: number; keep_until: number }[];
    assert.equal(kept.map((row) => row.keep_until - row.timestamp), [604_800, 604_800, 604_800]);
    assert.is((version.prepare("SELECT first_keep_until AS f FROM chio_trust_replay_peers WHERE peer_id = 'x'").get() as { f: number }).f, T - 9 + 604_800);
    version.close();
    assert.ok(peerCounts(file).oldestOk);
  } finally {
    replay.close();
  }
});

test("a pair is kept for its writer's retention, whatever the retention of the store that prunes the file (review 53)", async () => {
  const file = tempFile("mixed-retention.db");
  // X keeps pairs 7 days and accepts with a skew of an hour; Y, another process on the file, runs
  // with retention and skew of 300 s. Before schema version 3 each store pruned at its own
  // retention, so Y deleted X's pairs and X accepted their envelopes again.
  const x = new SqliteReplayStore(file);
  assert.is(x.reserve("kernel.a", "n-x", T - 1000, T, 3600), true);
  x.commit("kernel.a", "n-x");
  const y = new SqliteReplayStore(file, { retentionSecs: 300 }); // its open prunes the file
  try {
    assert.is(y.prune(T), 0, "X's pair is not past the 7 days X keeps it for");
    assert.is(x.reserve("kernel.a", "n-x", T - 1000, T, 3600), false, "still held for X");
    // Y's own pairs are kept for the file's retention floor (X's 7 days, registered when X opened;
    // review 77 F3), not only Y's 300 s, by whichever store prunes.
    assert.is(y.reserve("kernel.a", "n-y", T - 100, T, 300), true);
    y.commit("kernel.a", "n-y");
    assert.is(x.prune(T + 201), 0, "Y's pair is kept past T − 100 + 300");
    assert.is(x.prune(T - 100 + 604_800), 1, "X's pair, kept until T − 1000 + 7 days, goes first");
    assert.is(x.prune(T - 100 + 604_801), 1, "then Y's, at the floor");
  } finally {
    x.close();
    y.close();
  }
  // The same through an exchange: the envelope accepted with a skew of an hour is refused again
  // after a store with retention 300 has opened (and pruned) the file.
  const file2 = tempFile("mixed-retention-exchange.db");
  const kpA = Keypair.fromSeed(seed(11));
  const kpB = Keypair.fromSeed(seed(12));
  const envelope = new KernelTrustExchange("kernel.a", kpA).localEnvelope("kernel.b", "n-1", T - 1000).toJSONText();
  const accept = async (retentionSecs?: number) => {
    const replay = new SqliteReplayStore(file2, retentionSecs === undefined ? {} : { retentionSecs });
    try {
      const exchange = new KernelTrustExchange("kernel.b", kpB).withConfig({ maxHandshakeSkewSecs: 3600 }).withReplayStore(replay).withTrustedPeer("kernel.a", kpA.publicKey);
      return await exchange.acceptEnvelope(envelope, "kernel.a", T);
    } finally {
      replay.close();
    }
  };
  await accept();
  new SqliteReplayStore(file2, { retentionSecs: 300 }).close();
  await rejectsWith(accept(), "REPLAYED_NONCE");
});

/** The file's retention floor and the keep_until of one pair, read through a connection of their own. */
function onFile(file: string, peerId: string, nonce: string): { floor: number | undefined; keepUntil: number | undefined } {
  const db = new Database(file, { readonly: true });
  try {
    const floor = db.prepare("SELECT retention_secs AS r FROM chio_trust_replay_retention WHERE id = 1").get() as { r: number } | undefined;
    const row = db.prepare("SELECT keep_until AS k FROM chio_trust_replay WHERE peer_id = ? AND nonce = ?").get(peerId, nonce) as { k: number } | undefined;
    return { floor: floor?.r, keepUntil: row?.k };
  } finally {
    db.close();
  }
}

test("lowering one process's retention at a time lets no envelope through again: a pair is kept for the largest retention registered on the file (review 77 F3)", async () => {
  const T = Math.floor(Date.now() / 1000); // this test's own: its stores' opens prune at the wall clock
  // X and Y ran with retention and skew 300; X was restarted with 60 (the first replica lowered).
  // Kept for its writer's 60 s only, X's pair was pruned at ts + 61 while Y, still accepting a
  // skew of 300, took the same envelope again at ts + 100.
  const file = tempFile("lowered.db");
  new SqliteReplayStore(file, { retentionSecs: 300 }).close(); // X before its restart
  const y = new SqliteReplayStore(file, { retentionSecs: 300 });
  const x = new SqliteReplayStore(file, { retentionSecs: 60 });
  const ts = T - 200;
  try {
    assert.is(x.reserve("kernel.a", "n-1", ts, ts, 60), true);
    x.commit("kernel.a", "n-1");
    const pruned = x.prune(ts + 61);
    assert.is(y.reserve("kernel.a", "n-1", ts, ts + 100, 300), false, "held for Y's skew: no replay");
    assert.is(pruned, 0, "past X's 60 s, not past the floor");
    assert.is(onFile(file, "kernel.a", "n-1").keepUntil, ts + 300);
    assert.is(y.prune(ts + 300), 0);
    assert.is(y.prune(ts + 301), 1, "pruned once past the floor");
  } finally {
    x.close();
    y.close();
  }
  // The same through two exchanges on one file, X accepting a skew of 60, Y one of 300.
  const file2 = tempFile("lowered-exchange.db");
  const kpA = Keypair.fromSeed(seed(13));
  const kpB = Keypair.fromSeed(seed(14));
  const envelope = new KernelTrustExchange("kernel.a", kpA).localEnvelope("kernel.b", "n-1", ts).toJSONText();
  const storeY = new SqliteReplayStore(file2, { retentionSecs: 300 });
  const storeX = new SqliteReplayStore(file2, { retentionSecs: 60 });
  try {
    const exchange = (replay: SqliteReplayStore, skew: number) =>
      new KernelTrustExchange("kernel.b", kpB).withConfig({ maxHandshakeSkewSecs: skew }).withReplayStore(replay).withTrustedPeer("kernel.a", kpA.publicKey);
    await exchange(storeX, 60).acceptEnvelope(envelope, "kernel.a", ts + 10);
    storeX.prune(ts + 61);
    await rejectsWith(exchange(storeY, 300).acceptEnvelope(envelope, "kernel.a", ts + 100), "REPLAYED_NONCE");
  } finally {
    storeX.close();
    storeY.close();
  }
});

test("every replay store registers its retention when it opens: the floor is the largest, never lowered by a smaller one, and the pairs of every store are kept for it", () => {
  const T = Math.floor(Date.now() / 1000); // this test's own: its stores' opens prune at the wall clock
  const file = tempFile("floor.db");
  const x = new SqliteReplayStore(file, { retentionSecs: 60 });
  assert.is(x.retentionFloor(), 60);
  assert.is(onFile(file, "-", "-").floor, 60);
  const y = new SqliteReplayStore(file, { retentionSecs: 300 });
  const z = new SqliteReplayStore(file, { retentionSecs: 10 });
  try {
    for (const store of [x, y, z]) assert.is(store.retentionFloor(), 300);
    assert.is(x.retentionSecs, 60, "a store's own retention (its largest skew) is unchanged");
    throwsStoreError(() => x.reserve("p", "n", T, T, 61), "SKEW_ABOVE_RETENTION");
    assert.is(x.reserve("p", "x", T, T, 60), true);
    assert.is(z.reserve("p", "z", T, T, 10), true);
    assert.is(y.reserve("p", "y", T, T, 300), true);
    for (const nonce of ["x", "z", "y"]) assert.is(onFile(file, "p", nonce).keepUntil, T + 300, `${nonce} kept until T + 300`);
    assert.ok(peerCounts(file).oldestOk, "first_keep_until is the floor's");
    // A pair taken again in place, then released, gets its old keep_until back (unchanged).
    x.commit("p", "x");
    assert.is(x.reserve("p", "x", T + 100, T + 100, 60), true);
    assert.is(onFile(file, "p", "x").keepUntil, T + 400);
    x.release("p", "x");
    assert.is(onFile(file, "p", "x").keepUntil, T + 300);
  } finally {
    x.close();
    y.close();
    z.close();
  }
  // A store opened later with a smaller retention leaves the floor where it is.
  const w = new SqliteReplayStore(file, { retentionSecs: 5 });
  try {
    assert.is(w.retentionFloor(), 300);
    assert.is(w.reserve("p", "w", T, T, 5), true);
    assert.is(onFile(file, "p", "w").keepUntil, T + 300);
  } finally {
    w.close();
  }
  throwsStoreError(() => w.retentionFloor(), "STORE_CLOSED");
  throwsStoreError(() => w.lowerRetentionFloor(), "STORE_CLOSED");
});

test("lowerRetentionFloor sets the floor to the store's own retention and returns the previous one; a reserve by a store with a larger retention raises it back, as does one after the row was lowered or deleted by hand", () => {
  const T = Math.floor(Date.now() / 1000); // this test's own: its stores' opens prune at the wall clock
  const file = tempFile("lower-floor.db");
  const small = new SqliteReplayStore(file, { retentionSecs: 60 });
  const large = new SqliteReplayStore(file, { retentionSecs: 300 });
  try {
    assert.is(small.lowerRetentionFloor(), 300);
    assert.is(small.retentionFloor(), 60);
    assert.is(large.retentionFloor(), 60);
    assert.is(small.lowerRetentionFloor(), 60, "again: nothing to lower");
    // Written between the lowering and the next reserve of the larger store: kept for 60 s only
    // (why lowerRetentionFloor is safe only once every process runs the lower retention).
    assert.is(small.reserve("p", "a", T, T, 60), true);
    assert.is(onFile(file, "p", "a").keepUntil, T + 60);
    // The store still on 300 raises the floor on its next reserve, held or not, and keeps its pair for it.
    assert.is(large.reserve("p", "a", T, T, 300), false);
    assert.is(large.retentionFloor(), 300);
    assert.is(large.reserve("p", "b", T, T, 300), true);
    assert.is(onFile(file, "p", "b").keepUntil, T + 300);
    assert.is(small.reserve("p", "c", T, T, 60), true);
    assert.is(onFile(file, "p", "c").keepUntil, T + 300, "the smaller store writes under the raised floor");
    // The larger store lowers it to 300 (a raise here: lowerRetentionFloor sets the store's own).
    assert.is(large.lowerRetentionFloor(), 300);
    // Lowered below a store's own, or deleted, by hand: that store's next reserve puts its own back.
    const raw = new Database(file);
    raw.exec("UPDATE chio_trust_replay_retention SET retention_secs = 1");
    assert.is(small.retentionFloor(), 1);
    assert.is(small.reserve("p", "d", T, T, 60), true);
    assert.is(onFile(file, "p", "d").keepUntil, T + 60);
    assert.is(small.retentionFloor(), 60);
    raw.exec("DELETE FROM chio_trust_replay_retention");
    assert.is(small.retentionFloor(), 0);
    assert.is(small.lowerRetentionFloor(), 0, "no floor: 0 is the previous one");
    raw.exec("DELETE FROM chio_trust_replay_retention");
    assert.is(large.reserve("p", "e", T, T, 300), true);
    assert.is(onFile(file, "p", "e").keepUntil, T + 300);
    assert.is(small.retentionFloor(), 300);
    // A floor that is not a safe integer fails closed.
    raw.pragma("ignore_check_constraints = 1");
    raw.exec("UPDATE chio_trust_replay_retention SET retention_secs = 9007199254740993");
    raw.close();
    throwsStoreError(() => small.reserve("p", "f", T, T, 60), "CORRUPT_ROW");
    throwsStoreError(() => small.retentionFloor(), "CORRUPT_ROW");
    assert.is(onFile(file, "p", "f").keepUntil, undefined, "nothing written");
  } finally {
    small.close();
    large.close();
  }
});

test("a floor row deleted by hand is written again by the next reserve, starting at the retention the pairs show, and that reserve keeps its pair for it (review 78 F3)", () => {
  const T = Math.floor(Date.now() / 1000); // this test's own: its stores' opens prune at the wall clock
  const file = tempFile("floor-deleted.db");
  const large = new SqliteReplayStore(file, { retentionSecs: 300 });
  const small = new SqliteReplayStore(file, { retentionSecs: 60 });
  try {
    assert.is(large.reserve("p", "a", T, T, 300), true);
    const raw = new Database(file);
    raw.exec("DELETE FROM chio_trust_replay_retention");
    raw.close();
    assert.is(small.reserve("p", "b", T, T, 60), true);
    assert.equal(onFile(file, "p", "b"), { floor: 300, keepUntil: T + 300 }, "the floor the rows show, and the pair kept for it");
  } finally {
    small.close();
    large.close();
  }
});

test("schema version 4 adds the retention floor to a version-3 file: its pairs keep their keep_until, and the stores that open it register their retentions", () => {
  const T = Math.floor(Date.now() / 1000); // this test's own: its stores' opens prune at the wall clock
  const file = tempFile("v3.db");
  // A version-3 file (the migrations are append-only: this one's schema as the previous release
  // made it), holding a pair a 60 s store wrote.
  new SqliteReplayStore(file, { retentionSecs: 60 }).close();
  const v3 = new Database(file);
  v3.exec("DROP TABLE chio_trust_replay_retention; DELETE FROM chio_trust_schema WHERE version = 4;");
  v3.prepare("INSERT INTO chio_trust_replay (peer_id, nonce, timestamp, keep_until, state) VALUES ('p', 'old', ?, ?, 'committed')").run(T, T + 60);
  v3.prepare("INSERT INTO chio_trust_replay_peers (peer_id, pairs, first_keep_until) VALUES ('p', 1, ?)").run(T + 60);
  v3.close();
  // The first process to open it after the upgrade runs a lower retention (upgraded and lowered
  // in one restart): the floor starts at the retention the pairs show, 60, not at its 10, since a
  // version-3 process still running may rely on them (review 78 F3).
  const lowered = new SqliteReplayStore(file, { retentionSecs: 10 });
  try {
    assert.is(lowered.retentionFloor(), 60);
  } finally {
    lowered.close();
  }
  const y = new SqliteReplayStore(file, { retentionSecs: 300 });
  const x = new SqliteReplayStore(file, { retentionSecs: 60 });
  try {
    const db = new Database(file, { readonly: true });
    assert.is(Number((db.prepare("SELECT max(version) AS v FROM chio_trust_schema").get() as { v: number }).v), 4);
    db.close();
    assert.is(x.retentionFloor(), 300);
    assert.is(onFile(file, "p", "old").keepUntil, T + 60, "a pair already on the file keeps its keep_until");
    assert.is(x.reserve("p", "new", T, T, 60), true);
    assert.is(onFile(file, "p", "new").keepUntil, T + 300);
    assert.equal(peerCounts(file).counted, { p: 2 });
    assert.ok(peerCounts(file).oldestOk);
  } finally {
    x.close();
    y.close();
  }
});

test("reserve refuses a peer id plus nonce over maxKeyUnits (KEY_TOO_LONG), not only fits(), and writes nothing", () => {
  const file = tempFile("key-units.db");
  const replay = new SqliteReplayStore(file, { maxKeyUnits: 64 });
  try {
    assert.is(replay.fits("p", "n".repeat(64)), false);
    const error = throwsStoreError(() => replay.reserve("p", "n".repeat(64), T, T, 300), "KEY_TOO_LONG");
    assert.match(error.message, /maxKeyUnits \(64\)/);
    assert.is(replay.size, 0);
    assert.is(replay.reserve("p", "n".repeat(63), T, T, 300), true, "at the bound");
  } finally {
    replay.close();
  }
});

test("options are read once each; a throwing getter or Proxy trap is INVALID_ARGUMENT with its error as cause, and no file is made", () => {
  const file = tempFile("options.db");
  const boom = new Error("getter says no");
  const throwing = [
    { get busyTimeoutMs(): number { throw boom; } },
    new Proxy({}, { get() { throw boom; } }),
  ];
  for (const options of throwing) {
    for (const open of [() => new SqlitePeerStore(file, options as object), () => new SqliteReplayStore(file, options as object)]) {
      const error = throwsStoreError(open, "INVALID_ARGUMENT");
      assert.is(error.cause, boom);
      assert.not.ok(existsSync(file), "nothing was created");
    }
  }
  for (const options of [null, 5, "x"]) throwsStoreError(() => new SqliteReplayStore(file, options as unknown as object), "INVALID_ARGUMENT");
  // A misspelt option is refused, not ignored (its default would be left in force).
  throwsStoreError(() => new SqlitePeerStore(file, { busyTimeout: 100 } as object), "INVALID_ARGUMENT");
  throwsStoreError(() => new SqliteReplayStore(file, { retentionSeconds: 60 } as object), "INVALID_ARGUMENT");
  assert.not.ok(existsSync(file), "nothing was created");
  // A getter that answers differently on a second read is only read once: the value checked is the value used.
  const counting = (values: Record<string, unknown>, reads: Record<string, number>) =>
    new Proxy(values, { get: (target, key: string) => ((reads[key] = (reads[key] ?? 0) + 1), reads[key] === 1 ? target[key] : -1) });
  const peerReads: Record<string, number> = {};
  const replayReads: Record<string, number> = {};
  const peers = new SqlitePeerStore(file, counting({ busyTimeoutMs: 100, synchronous: "normal", origin: "replica-1" }, peerReads));
  const replay = new SqliteReplayStore(file, counting({ busyTimeoutMs: 100, synchronous: "normal", retentionSecs: 60, maxKeyUnits: 64, maxPairsPerPeer: 50 }, replayReads));
  try {
    assert.is(peers.origin, "replica-1");
    assert.is(replay.retentionSecs, 60);
    assert.is(replay.maxKeyUnits, 64);
    assert.is(replay.maxPairsPerPeer, 50);
    assert.equal(peerReads, { busyTimeoutMs: 1, synchronous: 1, origin: 1 });
    assert.equal(replayReads, { busyTimeoutMs: 1, synchronous: 1, retentionSecs: 1, maxKeyUnits: 1, maxPairsPerPeer: 1 });
  } finally {
    peers.close();
    replay.close();
  }
});

test("prune takes unix seconds only; a chio file whose tables were dropped is a typed error and leaves no connection open", () => {
  const file = tempFile();
  const replay = new SqliteReplayStore(file, { retentionSecs: 3600 });
  try {
    replay.reserve("p", "n", T, T, 300);
    replay.commit("p", "n");
    // Infinity, 1e300 or a string would delete the live pair (or nothing) and let a replay through.
    for (const now of [Infinity, 1e300, -1, 1.5, "x", null, Date.now()]) throwsStoreError(() => replay.prune(now as number), "INVALID_ARGUMENT");
    assert.is(replay.size, 1, "the live pair is still held");
    assert.is(replay.reserve("p", "n", T, T + 10, 300), false);
    // The bound is inclusive: 10^11 s (MAX_PLAUSIBLE_UNIX_SECONDS, the year 5138) is unix seconds,
    // one more is not; nor is 0 refused (a mutation audit moved the bound unseen, hunt 63).
    throwsStoreError(() => replay.prune(MAX_PLAUSIBLE_UNIX_SECONDS + 1), "INVALID_ARGUMENT");
    assert.is(replay.prune(0), 0, "0 is unix seconds: nothing is kept until before it");
    assert.is(replay.size, 1, "still held");
    assert.is(replay.prune(MAX_PLAUSIBLE_UNIX_SECONDS), 1, "the largest plausible now prunes the pair");
    assert.is(replay.reserve("p", "n", T, T, 300), true, "taken again once pruned"); // held again for the checks below
    replay.commit("p", "n");
  } finally {
    replay.close();
  }
  // prune() without `now` goes by this host's clock less CLOCK_GRACE_SECS: its failures are the
  // clock's (HOST_CLOCK_IMPLAUSIBLE, as a pin's write), not an INVALID_ARGUMENT blaming an argument
  // never passed, and in the first minute after 1970 (sinon's fake timers start at 0) nothing can
  // be past that time: 0 pairs, not a refusal (hunt 51: both were INVALID_ARGUMENT).
  const reopened = new SqliteReplayStore(file, { retentionSecs: 3600 });
  const realNow = Date.now;
  try {
    for (const [ms, expected] of [[0, 0], [59_999, 0], [-1, "HOST_CLOCK_IMPLAUSIBLE"], [NaN, "HOST_CLOCK_IMPLAUSIBLE"], [1e15, "HOST_CLOCK_IMPLAUSIBLE"]] as const) {
      Date.now = () => ms;
      for (const prune of [() => reopened.prune(), () => reopened.prune(undefined)]) {
        if (typeof expected === "number") assert.is(prune(), expected, `Date.now() ${ms}: prunes nothing`);
        else assert.match(throwsStoreError(prune, expected).message, /clock/, `Date.now() ${ms}`);
      }
    }
  } finally {
    Date.now = realNow;
  }
  assert.is(reopened.reserve("p", "n", T, T + 10, 300), false, "the live pair is still held");
  reopened.close();
  new SqlitePeerStore(file).close(); // creates the peers table too
  const raw = new Database(file);
  raw.exec("DROP TABLE chio_trust_peers; DROP TABLE chio_trust_replay;");
  raw.close();
  const openFds = () => readdirSync("/proc/self/fd").length;
  const before = openFds();
  for (let i = 0; i < 5; i++) {
    const peerError = throwsStoreError(() => new SqlitePeerStore(file), "SQLITE_ERROR");
    assert.match(peerError.message, /no such table/);
    throwsStoreError(() => new SqliteReplayStore(file), "SQLITE_ERROR");
  }
  assert.is(openFds(), before, "every failed open closed its connection");
});

test("a reserve given a clock ahead of this host's (or milliseconds) prunes no live pair of the file, in its housekeeping or at a peer's quota (review 68 F1)", () => {
  const file = tempFile("fast-clock.db");
  const correct = new SqliteReplayStore(file, { retentionSecs: 3600, maxPairsPerPeer: 3 });
  const fast = new SqliteReplayStore(file, { retentionSecs: 3600, maxPairsPerPeer: 3 }); // another process, its clock wrong
  try {
    for (const nonce of ["captured", "b"]) {
      assert.is(correct.reserve("kernel.b", nonce, T, T, 300), true);
      correct.commit("kernel.b", nonce);
    }
    // Housekeeping: the fast process's 256th reserve prunes the file; in milliseconds, and a year
    // ahead, it would have deleted both pairs above.
    for (const now of [Date.now(), T + 365 * 86_400]) {
      for (let i = 0; i < 256; i++) {
        assert.is(fast.reserve(`kernel.c${now}`, `n${i % 3}`, now, now, 300), i < 3);
        if (i < 3) fast.commit(`kernel.c${now}`, `n${i}`);
      }
      assert.is(correct.reserve("kernel.b", "captured", T, T + 1, 300), false, `the captured pair is still held (now ${now})`);
    }
    // A peer at its quota: the fast process's reserve for it prunes that peer's pairs at most up to
    // the host's clock too, so the peer's live pairs stay and the new pair is refused.
    assert.is(correct.reserve("kernel.b", "c", T, T, 300), true);
    correct.commit("kernel.b", "c");
    throwsStoreError(() => fast.reserve("kernel.b", "d", Date.now(), Date.now(), 300), "PEER_QUOTA_EXCEEDED");
    for (const nonce of ["captured", "b", "c"]) assert.is(correct.reserve("kernel.b", nonce, T, T + 1, 300), false, `${nonce} still held`);
  } finally {
    correct.close();
    fast.close();
  }
});

test("a replay store opened by a process whose clock reads no plausible time (above 10^11 s: a clock in ms or µs) prunes no live pair at open: the envelope is still a replay", async () => {
  const file = tempFile("clock-ahead.db");
  const a = Keypair.fromSeed(seed(2));
  const b = Keypair.fromSeed(seed(3));
  const envelope = JSON.stringify(new KernelTrustExchange("kernel.a", a).localEnvelope("kernel.b", "clock-nonce", T));
  const open = () => {
    const peers = new SqlitePeerStore(file);
    const replay = new SqliteReplayStore(file);
    const exchange = new KernelTrustExchange("kernel.b", b, { store: peers, replayStore: replay });
    exchange.withTrustedPeer("kernel.a", a.publicKey);
    return { exchange, replay, close: () => (peers.close(), replay.close()) };
  };
  const first = open();
  let size = 1; // the pairs on file
  try {
    assert.ok((await first.exchange.acceptEnvelope(envelope, "kernel.a", T)).publicKey.equals(a.publicKey));
    // Another process opens the file, its Date.now set before chio-trust loads (no replaced
    // built-in: its clock itself). Its prune at open went to that clock, unbounded, and deleted
    // the pair; it now prunes only at a plausible time (at most 10^11 s, as prune() takes). It
    // then reserves 256 pairs at its own `now`, so its housekeeping prune runs too (pruneHorizon:
    // never past this host's clock, and not at all when that reads no plausible time).
    for (const clock of ["1e15", "realNow() * 1000"]) {
      const other = await runModule(
        `const realNow = Date.now.bind(Date);
Date.now = () => ${clock};
const { SqliteReplayStore } = await import("chio-trust/sqlite");
const store = new SqliteReplayStore(process.argv[1]);
const atOpen = store.size;
const now = Math.floor(Date.now() / 1000);
for (let i = 0; i < 256; i++) store.reserve("kernel.c", now + "-" + i, now, now, 300);
process.stdout.write(atOpen + " " + store.size);
store.close();`,
        [file],
      );
      assert.is(other.code, 0, other.stderr);
      assert.is(other.stdout, `${size} ${size + 256}`, `the pairs on file after a store opened it with Date.now() = ${clock}, then after its 256 reserves`);
      size += 256;
      await rejectsWith(first.exchange.acceptEnvelope(envelope, "kernel.a", T + 1), "REPLAYED_NONCE");
    }
  } finally {
    first.close();
  }
  const restarted = open(); // this process's clock: its prune at open keeps the live pair too
  try {
    await rejectsWith(restarted.exchange.acceptEnvelope(envelope, "kernel.a", T + 2), "REPLAYED_NONCE");
    assert.is(restarted.replay.size, size);
  } finally {
    restarted.close();
  }
});

test("lone surrogates are refused rather than collapsed into U+FFFD (two ids would share a row)", () => {
  const file = tempFile();
  const store = new SqlitePeerStore(file);
  try {
    const key = Keypair.fromSeed(seed(5)).publicKey;
    throwsStoreError(() => store.insert(new FederationPeer({ kernelId: "k\uD800", publicKey: key, establishedAt: 1, rotationDue: 2 })), "INVALID_ARGUMENT");
    store.insert(new FederationPeer({ kernelId: "k\uFFFD", publicKey: key, establishedAt: 1, rotationDue: 2 }));
    throwsStoreError(() => store.get("k\uD800"), "INVALID_ARGUMENT");
    assert.is(store.size, 1);
  } finally {
    store.close();
  }
});

const CONCURRENT_IDS = 150;
const contender = `
import { SqlitePeerStore, SqliteReplayStore } from "chio-trust/sqlite";
import { FederationPeer, Keypair } from "chio-trust";
const [file, byte, at] = process.argv.slice(1);
const T = Number(at); // near the wall clock: a store refuses a pair its host's clock puts past retention
const key = Keypair.fromSeed(new Uint8Array(32).fill(Number(byte))).publicKey;
const peers = new SqlitePeerStore(file, { busyTimeoutMs: 20000 });
const replay = new SqliteReplayStore(file, { busyTimeoutMs: 20000 });
process.stdout.write("ready\\n");
await new Promise((resolve) => process.stdin.once("data", resolve)); // both start together
const wins = [], nonces = [];
for (let i = 0; i < ${CONCURRENT_IDS}; i++) {
  const next = new FederationPeer({ kernelId: "k" + i, publicKey: key, establishedAt: 1000 + i, rotationDue: 2000 + i });
  if (peers.compareAndSet("k" + i, undefined, next)) wins.push(i);
  if (replay.reserve("shared", "n" + i, T, T, 300)) { replay.commit("shared", "n" + i); nonces.push(i); }
}
peers.close(); replay.close();
process.stdout.write(JSON.stringify({ wins, nonces }) + "\\n");
`;

test("two processes pinning and reserving the same ids at once: exactly one winner each, and the file agrees", async () => {
  const file = tempFile();
  new SqlitePeerStore(file).close(); // created once, so both contenders open an existing schema
  const now = String(Math.floor(Date.now() / 1000));
  const children = [spawnModule(contender, [file, "7", now]), spawnModule(contender, [file, "8", now])];
  const done = children.map((child) => finished(child, 60_000));
  for (const d of done) d.catch(() => undefined); // awaited below; handled now so that a failed waitForLine is reported as itself
  await Promise.all(children.map((child) => waitForLine(child, /ready/)));
  for (const child of children) child.stdin!.end("go\n");
  const results = await Promise.all(done);
  for (const r of results) assert.is(r.code, 0, r.stderr);
  const [a, b] = results.map((r) => JSON.parse(r.stdout.trim().split("\n").pop()!) as { wins: number[]; nonces: number[] });
  assert.is(a.wins.length + b.wins.length, CONCURRENT_IDS, "every id pinned by exactly one process");
  assert.is(new Set([...a.wins, ...b.wins]).size, CONCURRENT_IDS);
  assert.is(a.nonces.length + b.nonces.length, CONCURRENT_IDS, "every nonce reserved by exactly one process");
  const keyA = Keypair.fromSeed(seed(7)).publicKey;
  const keyB = Keypair.fromSeed(seed(8)).publicKey;
  const store = new SqlitePeerStore(file);
  try {
    const winners = new Set(a.wins);
    for (let i = 0; i < CONCURRENT_IDS; i++) {
      const stored = store.get(`k${i}`)!;
      assert.ok(stored.publicKey.equals(winners.has(i) ? keyA : keyB), `k${i} holds its winner's key`);
      assert.is(stored.establishedAt, 1000 + i);
    }
    assert.is(store.size, CONCURRENT_IDS);
  } finally {
    store.close();
  }
});

const opener = `
import { SqlitePeerStore, SqliteReplayStore } from "chio-trust/sqlite";
import { createInterface } from "node:readline";
const kind = process.argv[1];
process.stdout.write("ready\\n");
for await (const file of createInterface({ input: process.stdin })) {
  try {
    (kind === "peer" ? new SqlitePeerStore(file) : new SqliteReplayStore(file)).close();
    process.stdout.write("ok\\n");
  } catch (error) {
    process.stdout.write(String(error.code) + ": " + String(error.message).replace(/\\n/g, " ") + "\\n");
  }
}
`;

test("four processes opening the same new file at once all open it: never FOREIGN_DATABASE for our own file being created, never an immediate DATABASE_BUSY", async () => {
  // Replicas started together (systemd, an orchestrator) on a path that does not exist yet.
  const children = ["peer", "peer", "replay", "replay"].map((kind) => spawnModule(opener, [kind]));
  const done = children.map((child) => finished(child, 120_000));
  for (const d of done) d.catch(() => undefined); // as above
  await Promise.all(children.map((child) => waitForLine(child, /ready/)));
  const lines: string[][] = children.map(() => []);
  const waiting: (() => void)[] = [];
  children.forEach((child, i) => {
    let buffered = "";
    child.stdout!.on("data", (chunk: Buffer) => {
      buffered += chunk.toString("utf8");
      for (let at = buffered.indexOf("\n"); at >= 0; at = buffered.indexOf("\n")) {
        const line = buffered.slice(0, at);
        buffered = buffered.slice(at + 1);
        if (line !== "ready") lines[i].push(line);
        waiting.splice(0).forEach((wake) => wake());
      }
    });
  });
  const rounds = 32;
  try {
    for (let round = 1; round <= rounds; round++) {
      const file = tempFile(`race-${round}.db`);
      for (const child of children) child.stdin!.write(file + "\n");
      while (lines.some((l) => l.length < round)) await new Promise<void>((resolve) => waiting.push(resolve));
    }
  } finally {
    for (const child of children) child.stdin!.end();
  }
  for (const r of await Promise.all(done)) assert.is(r.code, 0, r.stderr);
  const failures = lines.flatMap((l) => l.filter((line) => line !== "ok"));
  assert.equal(failures, [], `${failures.length} of ${4 * rounds} opens failed`);
});

test("a file this process cannot write (mode 0444 in a writable folder) is READ_ONLY at open for both stores, not at the first pin", () => {
  const file = tempFile("read-only.db");
  chmodSync(path.dirname(file), 0o777); // the folder stays writable: WAL can make its files
  new SqlitePeerStore(file).close();
  chmodSync(file, 0o444);
  const code = `
const { SqlitePeerStore, SqliteReplayStore } = require(${JSON.stringify(path.join(repoRoot, "dist", "cjs", "stores", "sqlite", "index.js"))});
for (const Store of [SqlitePeerStore, SqliteReplayStore]) {
  try { new Store(process.argv[1]).close(); console.log(Store.name + " opened"); } catch (error) { console.log(Store.name + " " + error.code); }
}`;
  // Root ignores file modes: as root, the stores are opened as the unprivileged user nobody.
  const asRoot = process.getuid?.() === 0;
  const command = asRoot ? ["runuser", ["-u", "nobody", "--", process.execPath, "-e", code, file]] : [process.execPath, ["-e", code, file]];
  const run = spawnSync(command[0] as string, command[1] as string[], { encoding: "utf8", cwd: tmpdir() });
  assert.is(run.status, 0, run.stderr);
  assert.equal(run.stdout.trim().split("\n"), ["SqlitePeerStore READ_ONLY", "SqliteReplayStore READ_ONLY"]);
});

test("a new file in a folder this process cannot write (mode 0555) is READ_ONLY at open for both stores, and a missing folder CANNOT_OPEN", () => {
  // SQLite answers SQLITE_CANTOPEN for both; the README promises READ_ONLY for a read-only folder
  // (hunt 40 found a new file there CANNOT_OPEN).
  const folder = path.dirname(tempFile());
  chmodSync(folder, 0o555);
  const code = `
const { SqlitePeerStore, SqliteReplayStore } = require(${JSON.stringify(path.join(repoRoot, "dist", "cjs", "stores", "sqlite", "index.js"))});
for (const file of process.argv.slice(1)) for (const Store of [SqlitePeerStore, SqliteReplayStore]) {
  try { new Store(file).close(); console.log(Store.name + " opened"); } catch (error) { console.log(Store.name + " " + error.code); }
}`;
  const files = [path.join(folder, "new.db"), path.join(folder, "missing", "new.db")];
  // Root ignores file modes: as root, the stores are opened as the unprivileged user nobody.
  const asRoot = process.getuid?.() === 0;
  const command = asRoot ? ["runuser", ["-u", "nobody", "--", process.execPath, "-e", code, ...files]] : [process.execPath, ["-e", code, ...files]];
  try {
    const run = spawnSync(command[0] as string, command[1] as string[], { encoding: "utf8", cwd: tmpdir() });
    assert.is(run.status, 0, run.stderr);
    assert.equal(run.stdout.trim().split("\n"), ["SqlitePeerStore READ_ONLY", "SqliteReplayStore READ_ONLY", "SqlitePeerStore CANNOT_OPEN", "SqliteReplayStore CANNOT_OPEN"]);
    assert.not.ok(existsSync(files[0]), "nothing created");
  } finally {
    chmodSync(folder, 0o755);
  }
});

const writer = `
import { SqlitePeerStore } from "chio-trust/sqlite";
import { FederationPeer, PublicKey } from "chio-trust";
import { writeSync } from "node:fs";
const [file, keyHex] = process.argv.slice(1);
const key = PublicKey.fromHex(keyHex);
const store = new SqlitePeerStore(file);
for (let i = 0; ; i++) {
  // A batch of writes: first pins, each then renewed by compare-and-set; a line is printed
  // only once both committed.
  const first = new FederationPeer({ kernelId: "k" + i, publicKey: key, establishedAt: i, rotationDue: i + 10 });
  if (!store.compareAndSet("k" + i, undefined, first)) throw new Error("unexpected");
  const renewed = new FederationPeer({ kernelId: "k" + i, publicKey: key, establishedAt: i + 1, rotationDue: i + 11 });
  if (!store.compareAndSet("k" + i, first, renewed)) throw new Error("unexpected");
  writeSync(1, i + "\\n");
}
`;

test("a file on a read-only file system is READ_ONLY at open for both stores, as is a new one there (needs root for the mount)", () => {
  // A read-only mount leaves no -shm to create, and SQLite answers SQLITE_CANTOPEN, which said
  // CANNOT_OPEN ("missing folder, permissions") where the README promises READ_ONLY (review 53).
  if (process.getuid?.() !== 0) {
    console.log("  (skipped: mounting a tmpfs needs root; CI runs as root)");
    return;
  }
  const mountPoint = path.dirname(tempFile());
  const mount = (...args: string[]) => spawnSync("mount", args, { encoding: "utf8" });
  const mounted = mount("-t", "tmpfs", "-o", "size=4m", "tmpfs", mountPoint);
  assert.is(mounted.status, 0, `mount: ${mounted.stderr}`);
  try {
    const file = path.join(mountPoint, "trust.db");
    const peers = new SqlitePeerStore(file);
    peers.insert(new FederationPeer({ kernelId: "kernel.a", publicKey: Keypair.fromSeed(seed(5)).publicKey, establishedAt: T, rotationDue: T + 60 }));
    peers.close();
    assert.is(mount("-o", "remount,ro", mountPoint).status, 0);
    const before = sha256(file);
    for (const open of [() => new SqlitePeerStore(file), () => new SqliteReplayStore(file), () => new SqliteReplayStore(path.join(mountPoint, "new.db"))]) {
      const error = throwsStoreError(open, "READ_ONLY");
      assert.match(error.message, /read-only file system/);
    }
    assert.is(sha256(file), before, "untouched");
    assert.not.ok(existsSync(path.join(mountPoint, "new.db")));
  } finally {
    spawnSync("umount", [mountPoint]);
  }
});

test("SIGKILL in the middle of a batch of writes: every completed pin intact, no torn row, integrity ok", async () => {
  const file = tempFile();
  const key = Keypair.fromSeed(seed(9)).publicKey;
  const child = spawnModule(writer, [file, key.toHex()]);
  const exit = finished(child, 60_000, "");
  await waitForLine(child, /(^|\n)150\n/, 30_000);
  child.kill("SIGKILL");
  const result = await exit;
  assert.is(result.signal, "SIGKILL");
  const completed = result.stdout.trim().split("\n").map(Number);
  assert.ok(completed.length >= 151, `completed ${completed.length}`);
  completed.forEach((n, index) => assert.is(n, index));

  const raw = new Database(file);
  assert.is(raw.pragma("integrity_check", { simple: true }), "ok");
  raw.close();
  const store = new SqlitePeerStore(file);
  try {
    const records = store.records(); // throws CORRUPT_ROW on any row that does not decode
    assert.ok(records.length >= completed.length && records.length <= completed.length + 1, `${records.length} rows for ${completed.length} completed`);
    for (const i of completed) {
      const pin = store.get(`k${i}`)!;
      assert.ok(pin.equals(new FederationPeer({ kernelId: `k${i}`, publicKey: key, establishedAt: i + 1, rotationDue: i + 11 })), `k${i} renewed`);
    }
    for (const { peer } of records) {
      const i = Number(peer.kernelId.slice(1));
      assert.ok(peer.publicKey.equals(key));
      assert.ok(peer.establishedAt === i || peer.establishedAt === i + 1, "a row is the first pin or its renewal, never a mix");
      assert.is(peer.rotationDue, peer.establishedAt + 10);
    }
  } finally {
    store.close();
  }
});

test("a file that is not a database, a foreign database or a newer schema: typed errors, files untouched", () => {
  const garbage = tempFile("garbage.db");
  writeFileSync(garbage, Buffer.alloc(8192, 0x5a));
  throwsStoreError(() => new SqlitePeerStore(garbage), "NOT_A_DATABASE");
  throwsStoreError(() => new SqliteReplayStore(garbage), "NOT_A_DATABASE");
  assert.is(readFileSync(garbage).equals(Buffer.alloc(8192, 0x5a)), true, "garbage left as it was");

  const foreign = tempFile("foreign.db");
  const other = new Database(foreign);
  other.exec("CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT); INSERT INTO users (name) VALUES ('ada')");
  other.close();
  const before = sha256(foreign);
  throwsStoreError(() => new SqlitePeerStore(foreign), "FOREIGN_DATABASE");
  assert.is(sha256(foreign), before, "foreign database not written to");

  const otherApp = tempFile("other-app.db");
  const tagged = new Database(otherApp);
  tagged.pragma("application_id = 1234");
  tagged.close();
  throwsStoreError(() => new SqlitePeerStore(otherApp), "FOREIGN_DATABASE");

  const newer = tempFile("newer.db");
  new SqlitePeerStore(newer).close();
  const bump = new Database(newer);
  bump.prepare("INSERT INTO chio_trust_schema (version, applied_at, description) VALUES (?, 0, 'from the future')").run(SCHEMA_VERSION + 1);
  bump.close();
  throwsStoreError(() => new SqliteReplayStore(newer), "SCHEMA_TOO_NEW");

  const noSchema = tempFile("no-schema.db");
  new SqlitePeerStore(noSchema).close();
  const drop = new Database(noSchema);
  drop.exec("DROP TABLE chio_trust_schema");
  drop.close();
  throwsStoreError(() => new SqlitePeerStore(noSchema), "CORRUPT_DATABASE");
});

test("a file deleted or replaced under open stores: every later call is FILE_MOVED, fail closed, nothing read from or written to the file that is gone; a relative path survives chdir", async () => {
  const key = Keypair.fromSeed(seed(12)).publicKey;
  const pin = (id: string) => new FederationPeer({ kernelId: id, publicKey: key, establishedAt: T, rotationDue: T + 43_200 });
  const calls = (peers: SqlitePeerStore, replay: SqliteReplayStore): [string, () => unknown][] => [
    ["get", () => peers.get("kernel.old")],
    ["records", () => peers.records()],
    ["compareAndSet", () => peers.compareAndSet("kernel.new", undefined, pin("kernel.new"))],
    ["insert", () => peers.insert(pin("kernel.new"))],
    ["remove", () => peers.remove("kernel.old")],
    ["reserve", () => replay.reserve("kernel.old", "nonce-1", T, T, 300)],
    ["commit", () => replay.commit("kernel.old", "nonce-2")],
    ["prune", () => replay.prune()],
  ];
  for (const how of ["deleted", "replaced"] as const) {
    const file = tempFile(`${how}.db`);
    const peers = new SqlitePeerStore(file);
    const replay = new SqliteReplayStore(file);
    peers.insert(pin("kernel.old"));
    assert.is(replay.reserve("kernel.old", "nonce-1", T, T, 300), true);
    replay.commit("kernel.old", "nonce-1");
    assert.is(replay.reserve("kernel.old", "nonce-2", T, T, 300), true);
    if (how === "deleted") {
      // `rm trust.db` (to start over, or by a clean-up job): the connections kept writing to the
      // unlinked file, which the next process never sees; the one on the path has none of it.
      for (const suffix of ["", "-wal", "-shm"]) rmSync(file + suffix, { force: true });
    } else {
      // Another file renamed over the path (a backup restored, a deployment's new file).
      const other = tempFile("other.db");
      new SqlitePeerStore(other).close();
      renameSync(other, file);
    }
    try {
      for (const [name, call] of calls(peers, replay)) assert.match(throwsStoreError(call, "FILE_MOVED").message, /no longer the file/, name);
      // The exchange on them fails closed: no replay accepted, no pin trusted or written.
      const exchange = new KernelTrustExchange("kernel.b", Keypair.fromSeed(seed(13)), { store: peers, replayStore: replay });
      await rejectsWith(exchange.resolve("kernel.old", T), "STORE_FAILED");
    } finally {
      peers.close();
      replay.close();
    }
    const reopened = new SqlitePeerStore(file);
    try {
      // Deleted: a new, empty file. Replaced: SQLite reads the -wal left at the path as the new
      // file's (the stores' writes before the rename: replacing a live store's file is unsafe
      // whatever the stores do), but no write refused after it is there.
      const ids = reopened.snapshot().map((p) => p.kernelId);
      if (how === "deleted") assert.equal(ids, [], "deleted: the file on the path holds nothing of the stores that lost it");
      assert.not.ok(ids.includes("kernel.new"), `${how}: no pin written after the file went`);
    } finally {
      reopened.close();
    }
  }
  // SQLite keeps the full path it opened: a store opened by a relative path still works after the
  // process changes folder (the check follows the file SQLite opened, not the cwd).
  const file = tempFile("relative.db");
  const cwd = process.cwd();
  process.chdir(path.dirname(file));
  let peers: SqlitePeerStore;
  try {
    peers = new SqlitePeerStore("relative.db");
  } finally {
    process.chdir(cwd);
  }
  try {
    peers.insert(pin("kernel.rel"));
    assert.ok(peers.get("kernel.rel")?.equals(pin("kernel.rel")));
  } finally {
    peers.close();
  }
});

test("a path with `..` after a symlinked folder: the FILE_MOVED check stats the file SQLite opened, not the path with `..` taken away as text", () => {
  // The kernel (and SQLite) take `link/..` as the parent of the link's target; path.resolve takes
  // it away as text. Checked against the lexical path, the store refused its own file at open, or,
  // with another file at the lexical path, watched that file instead of its own.
  const dir = path.dirname(tempFile());
  mkdirSync(path.join(dir, "real", "sub"), { recursive: true });
  symlinkSync(path.join(dir, "real", "sub"), path.join(dir, "link"));
  const key = Keypair.fromSeed(seed(12)).publicKey;
  const pin = new FederationPeer({ kernelId: "kernel.dots", publicKey: key, establishedAt: T, rotationDue: T + 43_200 });
  const cwd = process.cwd();
  // Written out: path.join too takes `link/..` away.
  for (const file of [`${dir}/link/../trust.db`, "link/../trust.db"]) {
    const decoy = path.join(dir, "trust.db"); // what path.resolve makes of the path
    writeFileSync(decoy, "");
    process.chdir(dir);
    let peers: SqlitePeerStore;
    let replay: SqliteReplayStore;
    try {
      peers = new SqlitePeerStore(file);
      replay = new SqliteReplayStore(file);
    } finally {
      process.chdir(cwd);
    }
    try {
      assert.ok(existsSync(path.join(dir, "real", "trust.db")), `${file}: SQLite opened real/trust.db`);
      peers.insert(pin);
      assert.is(replay.reserve("kernel.dots", "nonce-1", T, T, 300), true, file);
      rmSync(decoy); // not the store's file: nothing changes
      assert.ok(peers.get("kernel.dots")?.equals(pin), file);
      for (const suffix of ["", "-wal", "-shm"]) rmSync(path.join(dir, "real", "trust.db") + suffix, { force: true });
      throwsStoreError(() => peers.get("kernel.dots"), "FILE_MOVED");
      throwsStoreError(() => replay.reserve("kernel.dots", "nonce-2", T, T, 300), "FILE_MOVED");
    } finally {
      peers.close();
      replay.close();
    }
  }
});

test("a truncated file and a tampered row: typed errors, and the exchange fails closed with STORE_FAILED", async () => {
  const file = tempFile();
  const store = new SqlitePeerStore(file);
  const key = Keypair.fromSeed(seed(10)).publicKey;
  for (let i = 0; i < 200; i++) store.insert(new FederationPeer({ kernelId: `k${i}`.padEnd(200, "x"), publicKey: key, establishedAt: 1, rotationDue: 2 }));
  store.close();
  const whole = readFileSync(file);
  const cut = tempFile("cut.db");
  writeFileSync(cut, whole.subarray(0, Math.floor(whole.length / 2)));
  let code: string | undefined;
  try {
    const reopened = new SqlitePeerStore(cut);
    try {
      reopened.records();
    } finally {
      reopened.close();
    }
  } catch (error) {
    assert.instance(error, SqliteStoreError, String(error));
    code = (error as SqliteStoreError).code;
  }
  assert.ok(code === "CORRUPT_DATABASE" || code === "NOT_A_DATABASE", `truncated file: ${code}`);

  const tampered = tempFile("tampered.db");
  new SqlitePeerStore(tampered).close();
  const raw = new Database(tampered);
  raw.pragma("ignore_check_constraints = 1");
  raw.prepare("INSERT INTO chio_trust_peers VALUES ('kernel.a', ?, 'ed25519', 1, 2, 'insert', 'x', 0)").run(Buffer.alloc(31));
  raw.prepare("INSERT INTO chio_trust_peers VALUES ('kernel.c', ?, 'ed25519', 9007199254740993, 2, 'insert', 'x', 0)").run(Buffer.from(key.toBytes()));
  raw.close();
  const peers = new SqlitePeerStore(tampered);
  try {
    throwsStoreError(() => peers.get("kernel.a"), "CORRUPT_ROW");
    throwsStoreError(() => peers.get("kernel.c"), "CORRUPT_ROW");
    throwsStoreError(() => peers.snapshot(), "CORRUPT_ROW");
    const a = Keypair.fromSeed(seed(11));
    const exchange = new KernelTrustExchange("kernel.b", Keypair.fromSeed(seed(12)), { store: peers }).withTrustedPeer("kernel.a", a.publicKey);
    const envelope = JSON.stringify(new KernelTrustExchange("kernel.a", a).localEnvelope("kernel.b", "n", T));
    const error = await rejectsWith(exchange.acceptEnvelope(envelope, "kernel.a", T), "STORE_FAILED");
    assert.is((error.cause as SqliteStoreError).code, "CORRUPT_ROW");
    // With a Symbol.hasInstance on Error that answers "no" (caller code in the realm): the store
    // tells its own error by the prototype chain, so the message still says the row is gone, and
    // the hook never runs (helper 148: `instanceof` ran it, and the error went out without it).
    let ran = 0;
    Object.defineProperty(Error, Symbol.hasInstance, {
      configurable: true,
      value: () => {
        ran++;
        return false;
      },
    });
    let thrown: unknown;
    try {
      peers.remove("kernel.a");
    } catch (error) {
      thrown = error;
    } finally {
      delete (Error as unknown as Record<symbol, unknown>)[Symbol.hasInstance];
    }
    assert.is(ran, 0, "Error[Symbol.hasInstance] ran in the store");
    const removed = throwsStoreError(() => {
      throw thrown;
    }, "CORRUPT_ROW");
    assert.match(removed.message, /; the entry was removed$/, "the error says so (review 53)");
    assert.is(peers.get("kernel.a"), undefined, "the corrupt row was removed by remove()");
    assert.is(throwsStoreError(() => peers.get("kernel.c"), "CORRUPT_ROW").message.includes("removed"), false, "a get says nothing of removal");
  } finally {
    peers.close();
  }
});

test("rows whose algorithm or established_via the schema's checks would refuse do not decode: CORRUPT_ROW, and the exchange fails closed", async () => {
  // A mutation audit found that decodeRow's own checks of these two columns had no test (the
  // tampered-row test above covers the key's length and the times): a file written with its
  // CHECK constraints off (another tool, an older build, a hand edit) must not yield a pin.
  const file = tempFile("tampered-columns.db");
  new SqlitePeerStore(file).close();
  const key = Keypair.fromSeed(seed(13));
  const raw = new Database(file);
  raw.pragma("ignore_check_constraints = 1");
  raw.prepare("INSERT INTO chio_trust_peers VALUES ('kernel.p256', ?, 'p256', 1, 2, 'insert', 'x', 0)").run(Buffer.from(key.publicKey.toBytes()));
  raw.prepare("INSERT INTO chio_trust_peers VALUES ('kernel.manual', ?, 'ed25519', 1, 2, 'manual', 'x', 0)").run(Buffer.from(key.publicKey.toBytes()));
  const rows = () => JSON.stringify(raw.prepare("SELECT * FROM chio_trust_peers ORDER BY kernel_id").raw().all());
  const before = rows();
  const peers = new SqlitePeerStore(file);
  try {
    assert.match(throwsStoreError(() => peers.get("kernel.p256"), "CORRUPT_ROW").message, /algorithm p256/);
    assert.match(throwsStoreError(() => peers.record("kernel.manual"), "CORRUPT_ROW").message, /established_via manual/);
    throwsStoreError(() => peers.records(), "CORRUPT_ROW");
    for (const [id, nonce] of [["kernel.p256", "n1"], ["kernel.manual", "n2"]]) {
      const exchange = new KernelTrustExchange("kernel.b", Keypair.fromSeed(seed(12)), { store: peers }).withTrustedPeer(id, key.publicKey);
      const envelope = JSON.stringify(new KernelTrustExchange(id, key).localEnvelope("kernel.b", nonce, T));
      const error = await rejectsWith(exchange.acceptEnvelope(envelope, id, T), "STORE_FAILED");
      assert.is((error.cause as SqliteStoreError).code, "CORRUPT_ROW", id);
      await rejectsWith(exchange.resolve(id, T), "STORE_FAILED");
    }
  } finally {
    peers.close();
  }
  assert.is(rows(), before, "reading and refusing changed no row");
  raw.close();
});

test("origin: at most 200 UTF-16 units of well-formed text, refused as INVALID_ARGUMENT before the file is opened; each pin records it, and writtenAt in unix seconds", () => {
  // A mutation audit found no test of the origin's bounds or of writtenAt's unit.
  const accepted = tempFile("origin-200.db");
  const store = new SqlitePeerStore(accepted, { origin: "o".repeat(198) + "\u{1F600}" }); // 200 units, a pair at the end
  store.close();
  const exact = new SqlitePeerStore(tempFile("origin-exact.db"), { origin: "r".repeat(200) });
  try {
    const key = Keypair.fromSeed(seed(14)).publicKey;
    const before = Math.floor(Date.now() / 1000);
    exact.insert(new FederationPeer({ kernelId: "kernel.o", publicKey: key, establishedAt: 5, rotationDue: 6 }));
    const after = Math.floor(Date.now() / 1000);
    const record = exact.record("kernel.o")!;
    assert.is(record.origin, "r".repeat(200));
    assert.ok(record.writtenAt >= before && record.writtenAt <= after, `writtenAt ${record.writtenAt} is the write's second (${before}..${after})`);
    assert.is(record.establishedVia, "insert");
  } finally {
    exact.close();
  }
  for (const [origin, why] of [["r".repeat(201), "201 units"], ["a\uD800b", "a lone surrogate"], ["\uDC00", "a lone low surrogate"]] as const) {
    const file = tempFile("origin-bad.db");
    throwsStoreError(() => new SqlitePeerStore(file, { origin }), "INVALID_ARGUMENT");
    assert.not.ok(existsSync(file), `${why}: no file made`);
  }
});

test("open options at their edges: busyTimeoutMs up to 2^31 − 1, synchronous only \"full\" or \"normal\", a path without NUL; refused ones make no file", () => {
  // A mutation audit found these bounds untested. A NUL would end the path where SQLite reads it
  // as a C string, so "x.db\0anything" would open x.db, a file the caller never named.
  const dir = path.dirname(tempFile());
  const opened = new SqlitePeerStore(path.join(dir, "busy-max.db"), { busyTimeoutMs: 2 ** 31 - 1, synchronous: "normal" });
  opened.close();
  const refused: [string, object][] = [
    ["busy-over.db", { busyTimeoutMs: 2 ** 31 }],
    ["busy-fraction.db", { busyTimeoutMs: 1.5 }],
    ["sync-off.db", { synchronous: "off" }],
    ["sync-upper.db", { synchronous: "FULL" }],
  ];
  for (const [name, options] of refused) {
    for (const Store of [SqlitePeerStore, SqliteReplayStore]) {
      throwsStoreError(() => new Store(path.join(dir, name), options), "INVALID_ARGUMENT");
      assert.not.ok(existsSync(path.join(dir, name)), `${JSON.stringify(options)}: no file`);
    }
  }
  for (const Store of [SqlitePeerStore, SqliteReplayStore]) {
    throwsStoreError(() => new Store(path.join(dir, "nul.db") + "\0.evil"), "INVALID_ARGUMENT");
    assert.not.ok(existsSync(path.join(dir, "nul.db")), "the path before the NUL was not opened");
  }
});

test("null for any option is INVALID_ARGUMENT, as a wrong type is, not the option's default, and makes no file (hunt 18 found `?? default` taking null in the server stores; here origin and the replay store's counts took it)", () => {
  const dir = path.dirname(tempFile());
  for (const name of ["busyTimeoutMs", "synchronous", "origin"]) {
    const file = path.join(dir, `peer-${name}.db`);
    throwsStoreError(() => new SqlitePeerStore(file, { [name]: null } as object), "INVALID_ARGUMENT");
    assert.not.ok(existsSync(file), `peer store, ${name}: null: no file`);
  }
  for (const name of ["busyTimeoutMs", "synchronous", "retentionSecs", "maxKeyUnits", "maxPairsPerPeer"]) {
    const file = path.join(dir, `replay-${name}.db`);
    throwsStoreError(() => new SqliteReplayStore(file, { [name]: null } as object), "INVALID_ARGUMENT");
    assert.not.ok(existsSync(file), `replay store, ${name}: null: no file`);
  }
});

test("written_at, which no CHECK bounds, must read back as a safe non-negative integer: a negative one is CORRUPT_ROW", () => {
  // A mutation audit found safeColumn's lower bound untested; written_at is the one column a
  // plain UPDATE can set negative, with every CHECK constraint in force.
  const file = tempFile("written-at.db");
  const store = new SqlitePeerStore(file);
  try {
    const key = Keypair.fromSeed(seed(17)).publicKey;
    store.insert(new FederationPeer({ kernelId: "kernel.w", publicKey: key, establishedAt: 7, rotationDue: 8 }));
    const raw = new Database(file);
    raw.prepare("UPDATE chio_trust_peers SET written_at = -1 WHERE kernel_id = 'kernel.w'").run();
    raw.close();
    assert.match(throwsStoreError(() => store.record("kernel.w"), "CORRUPT_ROW").message, /written_at holds -1/);
    throwsStoreError(() => store.records(), "CORRUPT_ROW");
  } finally {
    store.close();
  }
});

test("the main, canonical and handshake entries never import better-sqlite3 (an optional peer dependency)", async () => {
  const probe = `
import Module, { register } from "node:module";
// ESM imports go through the resolve hook, CommonJS requires (Node's import of an entry loads
// the CommonJS build, dist/node/) through Module._load.
register("data:text/javascript," + encodeURIComponent(
  'export async function resolve(s, c, next) { if (s === "better-sqlite3") throw new Error("better-sqlite3 was imported"); return next(s, c); }'));
const load = Module._load;
Module._load = function (request, ...rest) {
  if (request === "better-sqlite3") throw new Error("better-sqlite3 was imported");
  return load.call(this, request, ...rest);
};
const loaded = [];
for (const entry of ["chio-trust", "chio-trust/canonical", "chio-trust/handshake"]) { await import(entry); loaded.push(entry); }
let sqlite;
try { await import("chio-trust/sqlite"); sqlite = "loaded"; } catch (e) { sqlite = String(e.message); }
process.stdout.write(JSON.stringify({ loaded, sqlite }));`;
  const r = await runModule(probe);
  assert.is(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout);
  assert.equal(out.loaded, ["chio-trust", "chio-trust/canonical", "chio-trust/handshake"]);
  assert.match(out.sqlite, /better-sqlite3 was imported/, "the probe does catch an import of better-sqlite3");
});

test.after(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

test("opening a store is a write transaction bounded by busyTimeoutMs: under another connection's write lock the constructor throws DATABASE_BUSY after about that long, and opens once the lock is gone (README: retry at start-up)", () => {
  const file = tempFile("busy-open.db");
  new SqlitePeerStore(file).close();
  const other = new Database(file);
  try {
    other.exec("BEGIN IMMEDIATE");
    for (const open of [() => new SqlitePeerStore(file, { busyTimeoutMs: 50 }), () => new SqliteReplayStore(file, { busyTimeoutMs: 50 })]) {
      const started = performance.now();
      let error: unknown;
      try {
        open().close();
      } catch (caught) {
        error = caught;
      }
      assert.instance(error, SqliteStoreError);
      assert.is((error as SqliteStoreError).code, "DATABASE_BUSY");
      assert.ok(performance.now() - started >= 45, "it waited for the lock first");
    }
    other.exec("ROLLBACK");
    new SqlitePeerStore(file, { busyTimeoutMs: 50 }).close();
    new SqliteReplayStore(file, { busyTimeoutMs: 50 }).close();
  } finally {
    other.close();
  }
});

test.run();
