// Run by test/node/sqlite-lying-builtins.test.ts in a child process of its own: the SQLite stores
// (chio-trust/sqlite) on a real file, under built-ins replaced after chio-trust loaded (README
// "Hardening"). Everything expected is set up and checked before the replacements: an exchange
// whose pin for kernel-b (no anchor: the pin alone decides the key) is in the file, an envelope it
// accepted, and what a replay of it and a stranger's envelope give. Then, watched:
// - a global Number that answers 7; then BigInt 0n, String "lie" and an array iterator that
//   yields nothing: the replay, a committed pair reserved again through the port, a reserve with
//   a bad `now`, the pin read back, the stranger's envelope and the store's size;
// - Math.min and Math.max that answer 0: a new envelope accepted (its pair must be kept for the
//   retention); then a Math.floor that answers 10^12: a second replay store opened on the file (a
//   process starting; no pair may go); then, with everything restored, the stores are restarted
//   on the file (their prune at open) and both envelopes are still replays;
// - an accessor on Object.prototype named after each column the stores read (better-sqlite3
//   fills a row object by assignment under Node 20, so such an accessor takes the column's value
//   and answers for it): a replay, a fresh envelope and a stranger's envelope under each (none may
//   be accepted but the fresh one), and a foreign database opened under an `n` that answers 0n
//   (it must stay untouched); afterwards the pin on file, read by a fresh store and by a plain
//   better-sqlite3 connection, is still kernel-b's key, and after a restart every envelope
//   accepted is a replay;
// - accessors for the two columns that workload does not reach, `first` (the recount of a peer at
//   its quota) and `peer_id` (the prune's count per peer), on a second file: each peer's count
//   on file must stay its number of rows, and its earliest keep_until no later than its pairs'.
// It prints one JSON line: the replacements that ran in the library's code (`ran`), the results
// that differed, and the column setters on Object.prototype that better-sqlite3 itself ran
// (`driverWrites`: the driver's own assignments, allowed; what matters is that the library never
// reads the getter). LYING_TRACE=1 prints, on stderr, where each replacement first ran.
import Database from "better-sqlite3";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { FederationPeer, KernelTrustExchange, Keypair, PeerHandshakeEnvelope } from "../../src/index.js";
import { CHIO_APPLICATION_ID, SqlitePeerStore, SqliteReplayStore } from "../../src/stores/sqlite/index.js";
import { createLies } from "./lies.js";

// This script's own tools, taken before anything is replaced.
const apply = Reflect.apply;
const defineProperty = Object.defineProperty;
const stringify = JSON.stringify;
const ownKeys = Object.keys;

/** Names of the replacements that ran while `watching` (no Set: it could be replaced). */
const ran: Record<string, true> = Object.create(null) as Record<string, true>;
/** Column setters on Object.prototype that ran while watching (better-sqlite3 filling a row). */
const driverWrites: Record<string, true> = Object.create(null) as Record<string, true>;
const lies = createLies(trace);
const replace = lies.replace;

/** Records a replacement that ran; LYING_TRACE=1 also prints where it first ran. */
function trace(name: string): void {
  if (process.env.LYING_TRACE && !ran[name]) {
    lies.watching = false;
    console.error(name, new Error().stack!.split("\n").slice(2, 9).join("\n"));
    lies.watching = true;
  }
  ran[name] = true;
}

/** A constructor global replaced by a Proxy whose call answers wrongly while watching. */
function replaceConstructor(name: "BigInt" | "String" | "Number"): void {
  const global = globalThis as unknown as Record<string, unknown>;
  lies.remember(globalThis, name);
  const original = global[name] as (...args: unknown[]) => unknown;
  global[name] = new Proxy(original, {
    apply(target, self, args) {
      if (!lies.watching) return apply(target, self, args);
      trace(name);
      return name === "BigInt" ? 0n : name === "String" ? "lie" : 7;
    },
  });
}

/**
 * An accessor on Object.prototype named `name`: its getter answers `value` (recorded: the library
 * read it), its setter swallows what is written (recorded apart: the driver filling a row).
 */
function accessor(name: string, value: unknown): void {
  lies.remember(Object.prototype, name);
  defineProperty(Object.prototype, name, {
    configurable: true,
    get() {
      if (lies.watching) trace(`Object.prototype.${name} getter`);
      return value;
    },
    set() {
      if (lies.watching) driverWrites[name] = true;
    },
  });
}


// ---- set up and checked before anything is replaced ----
const dir = mkdtempSync(path.join(tmpdir(), "chio-sqlite-lying-"));
const file = path.join(dir, "trust.db");
const foreignFile = path.join(dir, "foreign.db");
const foreign = new Database(foreignFile);
foreign.exec("CREATE TABLE other (x INTEGER)");
foreign.close();

const T = Math.floor(Date.now() / 1000); // near the wall clock: the stores prune at it when they open
const RETENTION = 604_800; // the default retentionSecs
const signer = Keypair.fromSeed(new Uint8Array(32).fill(7));
const stranger = Keypair.fromSeed(new Uint8Array(32).fill(9));
const local = Keypair.fromSeed(new Uint8Array(32).fill(8));
const pinHex = signer.publicKey.toHex();
const envelope = (nonce: string, by = signer, at = T): string => stringify(PeerHandshakeEnvelope.sign("kernel-b", "kernel-a", nonce, at, by).toJSON());
let nonceCount = 0;
/** A fresh 32-hex-digit nonce. */
const freshNonce = (): string => (0x10000000 + nonceCount++).toString(16).padStart(32, "0");

let peers = new SqlitePeerStore(file);
let replay = new SqliteReplayStore(file);
peers.insert(new FederationPeer({ kernelId: "kernel-b", publicKey: signer.publicKey, establishedAt: T, rotationDue: T + 86_400 }));
let exchange = new KernelTrustExchange("kernel-a", local, { store: peers, replayStore: replay });
function restart(): void {
  peers.close();
  replay.close();
  peers = new SqlitePeerStore(file);
  replay = new SqliteReplayStore(file);
  exchange = new KernelTrustExchange("kernel-a", local, { store: peers, replayStore: replay });
}

/** What acceptEnvelope gave: "accepted <key hex>", or the code it was refused with. */
async function outcome(text: string, at: number): Promise<string> {
  try {
    const peer = await exchange.acceptEnvelope(text, "kernel-b", at);
    return `accepted ${peer.publicKey.toHex()}`;
  } catch (error) {
    return `${(error as { code?: string }).code}`; // a template, not String (replaced below)
  }
}
/** What `call` returned, or the code it threw. */
function result(call: () => unknown): unknown {
  try {
    return call();
  } catch (error) {
    return `threw ${(error as { code?: string }).code}`;
  }
}
const differed: string[] = [];
const expect = (what: string, got: unknown, expected: unknown): void => {
  if (got !== expected) differed[differed.length] = `${what}: ${stringify(got)} instead of ${stringify(expected)}`;
};
const refused = (what: string, got: string): void => {
  if (got.startsWith("accepted")) differed[differed.length] = `${what}: ${got}`;
};

const e1 = envelope(freshNonce());
const ACCEPTED = `accepted ${pinHex}`;
expect("before: first accept", await outcome(e1, T), ACCEPTED);
expect("before: its replay", await outcome(e1, T + 1), "REPLAYED_NONCE");
expect("before: a stranger's key", await outcome(envelope(freshNonce(), stranger), T + 1), "UNEXPECTED_PEER_KEY");
expect("before: a port reserve", replay.reserve("kernel-x", "direct", T, T, 300), true);
replay.commit("kernel-x", "direct");
const sizeBefore = replay.size;
const pinText = (peer: FederationPeer | undefined): string => (peer === undefined ? "none" : `${peer.publicKey.toHex()}@${peer.establishedAt}/${peer.rotationDue}`);
// Each accept pins again (compareAndSet), with its own establishedAt and rotationDue: the whole
// pin is compared with a read made just before the lies, its key with kernel-b's always.
const pinKey = (text: unknown): string => `${text}`.slice(0, 64);
expect("before: the pin's key", pinKey(pinText(peers.get("kernel-b"))), pinHex);

// ---- the global Number alone (a BigInt lie as well would hide it); then BigInt, String and the array iterator ----
const PIN = pinText(peers.get("kernel-b"));
const got: Record<string, unknown> = Object.create(null) as Record<string, unknown>;
for (let phase = 0; phase < 2; phase++) {
  const label = phase === 0 ? "the Number lie" : "BigInt, String and array iterator lies";
  const strangerText = envelope(freshNonce(), stranger);
  if (phase === 0) {
    replaceConstructor("Number");
  } else {
    replaceConstructor("BigInt");
    replaceConstructor("String");
    replace(Array.prototype, Symbol.iterator, "Array.prototype[Symbol.iterator]", (original) => () => apply(original, [], []));
  }
  lies.watching = true;
  try {
    got.replay = await outcome(e1, T + 2);
    got.portReserve = result(() => replay.reserve("kernel-x", "direct", T, T + 1, 300));
    got.badNow = result(() => replay.reserve("kernel-x", "bad-now", T, -5, 300));
    got.pin = result(() => pinText(peers.get("kernel-b")));
    got.stranger = await outcome(strangerText, T + 2);
    got.size = result(() => replay.size);
  } finally {
    lies.watching = false;
    lies.restoreAll();
  }
  expect(`${label}: the replay`, got.replay, "REPLAYED_NONCE");
  expect(`${label}: a committed pair reserved again through the port`, got.portReserve, false);
  expect(`${label}: a reserve with now -5`, got.badNow, "threw INVALID_TIME");
  expect(`${label}: the pin read back`, got.pin, PIN);
  expect(`${label}: a stranger's key`, got.stranger, "UNEXPECTED_PEER_KEY");
  expect(`${label}: the store's size`, got.size, sizeBefore);
}

// ---- Math.min and Math.max (a new envelope accepted), then Math.floor (a store opened); then a restart ----
const e2 = envelope(freshNonce());
const e2Nonce = (JSON.parse(e2) as { challenge: { nonce: string } }).challenge.nonce;
replace(Math, "min", "Math.min", () => () => 0);
replace(Math, "max", "Math.max", () => () => 0);
lies.watching = true;
try {
  got.mathAccept = await outcome(e2, T);
} finally {
  lies.watching = false;
  lies.restoreAll();
}
expect("Math.min and Math.max lies: a new envelope", got.mathAccept, ACCEPTED);
const peek = new Database(file, { readonly: true });
const e2Row = peek.prepare("SELECT timestamp, keep_until FROM chio_trust_replay WHERE peer_id = 'kernel-b' AND nonce = ?").get(e2Nonce) as { timestamp: number; keep_until: number } | undefined;
peek.close();
expect("Math.min and Math.max lies: the new pair's keep_until minus its timestamp", e2Row === undefined ? "no row" : e2Row.keep_until - e2Row.timestamp, RETENTION);
replace(Math, "floor", "Math.floor", () => () => 1e12);
lies.watching = true;
try {
  // A process that opens the file meanwhile: its prune at open.
  got.mathOpen = result(() => {
    new SqliteReplayStore(file).close();
    return "opened";
  });
} finally {
  lies.watching = false;
  lies.restoreAll();
}
expect("Math.floor lie: a replay store opened on the file", got.mathOpen, "opened");
const count = new Database(file, { readonly: true });
const pairs = count.prepare("SELECT count(*) AS n FROM chio_trust_replay").get() as { n: number };
count.close();
expect("Math.floor lie: pairs on file after a store opened it", pairs.n, sizeBefore + 1);
restart();
expect("Math lies, then a restart: the first envelope", await outcome(e1, T + 3), "REPLAYED_NONCE");
expect("Math lies, then a restart: the envelope accepted under them", await outcome(e2, T + 3), "REPLAYED_NONCE");

// ---- accessors on Object.prototype named after the columns the stores read ----
// The lying values are the ones that would flip a verdict: a held pair's timestamp 0 (expired),
// a stranger's key for the pin's, counts of 0 (a quota or a foreign file's tables passed).
const REPLAY_COLUMNS: [string, unknown][] = [
  ["timestamp", 0n], ["keep_until", 0n], ["state", "committed"], ["owner", null], ["previous_timestamp", null], ["previous_keep_until", null],
  ["pairs", 0n], ["first_keep_until", 0n], ["retention_secs", 0n], ["n", 0n], ["first", 0n], ["peer_id", "kernel-none"],
];
const PEER_COLUMNS: [string, unknown][] = [
  ["public_key", Buffer.from(stranger.publicKey.toBytes())], ["kernel_id", "kernel-b"], ["algorithm", "ed25519"], ["established_at", 0n],
  ["rotation_due", 9_007_199_254_740_991n], ["established_via", "insert"], ["origin", "lie"], ["written_at", 0n],
];
const fresh: { name: string; text: string; got: string }[] = [];
lies.watching = true;
try {
  for (let i = 0; i < REPLAY_COLUMNS.length + PEER_COLUMNS.length; i++) {
    const entry = i < REPLAY_COLUMNS.length ? REPLAY_COLUMNS[i]! : PEER_COLUMNS[i - REPLAY_COLUMNS.length]!;
    const name = entry[0] as string;
    // Signed before the accessor is put in place: only the stores' calls run under it.
    const text = envelope(freshNonce());
    const strangerText = envelope(freshNonce(), stranger);
    accessor(name, entry[1]);
    try {
      got[`replay ${name}`] = await outcome(e1, T + 4);
      fresh[fresh.length] = { name, text, got: await outcome(text, T + 4) };
      got[`stranger ${name}`] = await outcome(strangerText, T + 4);
      got[`pin ${name}`] = result(() => pinText(peers.get("kernel-b")));
    } finally {
      lies.restoreAll();
    }
  }
  // A foreign database (tables, no chio id) opened while `n` (the count of its tables) answers 0n.
  accessor("n", 0n);
  try {
    got.foreign = result(() => {
      new SqlitePeerStore(foreignFile).close();
      return "opened";
    });
  } finally {
    lies.restoreAll();
  }
} finally {
  lies.watching = false;
  lies.restoreAll();
}
for (const key of ownKeys(got)) {
  if (key.startsWith("replay ") || key.startsWith("stranger ")) refused(`Object.prototype.${key.slice(key.indexOf(" ") + 1)}: the ${key.slice(0, key.indexOf(" "))}`, String(got[key]));
  if (key.startsWith("pin ")) {
    const pin = String(got[key]);
    if (!pin.startsWith("threw ") && pinKey(pin) !== pinHex) differed[differed.length] = `Object.prototype.${key.slice(4)}: the pin read back as ${pin}`;
  }
}
for (const { name, got: accepted } of fresh) {
  if (accepted !== ACCEPTED && accepted !== "STORE_FAILED") differed[differed.length] = `Object.prototype.${name}: a fresh envelope gave ${accepted}`;
}
if (got.foreign === "opened") differed[differed.length] = "Object.prototype.n: a foreign database opened as a chio file";
const foreignAfter = new Database(foreignFile, { readonly: true });
const foreignId = foreignAfter.pragma("application_id", { simple: true });
const foreignTables = (foreignAfter.prepare("SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name").all() as { name: string }[]).map((row) => row.name).join(",");
foreignAfter.close();
expect("Object.prototype.n: the foreign database's application_id afterwards", foreignId, 0);
expect("Object.prototype.n: the foreign database's tables afterwards", foreignTables, "other");

// ---- the quota's recount (`first`) and the prune's per-peer count (`peer_id`), under accessors ----
// Columns only these two paths read. A peer at its quota whose earliest pair is past its
// keep_until makes the next reserve delete that peer's expired pairs and count the rest again,
// reading `first`: kernel-q holds two expired and three live pairs, written by a store with room
// for them, and a second store on the file whose quota is 3 reserves one more (still over the
// quota after the recount: refused, and the recount kept). prune() counts the expired pairs per
// peer, reading `peer_id`: kernel-r holds two expired pairs and one live one, there to prune
// whatever the first step did. Under each accessor the store must not read it (`ran`), and each
// peer's count on file must stay its number of rows (a count left too high refuses the peer
// before its quota) and its first_keep_until at most its earliest pair's (one above it would
// never let the count be made again as its pairs expire).
const quotaFile = path.join(dir, "quota.db");
const quota = new SqliteReplayStore(quotaFile, { retentionSecs: 60, maxPairsPerPeer: 10 });
const quotaTight = new SqliteReplayStore(quotaFile, { retentionSecs: 60, maxPairsPerPeer: 3 });
const QUOTA_PEERS = ["kernel-q", "kernel-r"];
const heldPairs: [string, string, number][] = [
  ["kernel-q", "old-1", T - 1000], ["kernel-q", "old-2", T - 1000], ["kernel-q", "live-1", T], ["kernel-q", "live-2", T], ["kernel-q", "live-3", T],
  ["kernel-r", "old-1", T - 1000], ["kernel-r", "old-2", T - 1000], ["kernel-r", "live-1", T],
];
const realDateNow = Date.now;
for (let i = 0; i < heldPairs.length; i++) {
  const [peer, nonce, at] = [heldPairs[i]![0], heldPairs[i]![1], heldPairs[i]![2]];
  // Written with this host's clock (the realm's Date.now, which the store reads) at their own
  // time: a store refuses a pair the clock already puts past retention (PAST_RETENTION_ON_HOST_CLOCK).
  Date.now = () => at * 1000;
  quota.reserve(peer, nonce, at, at, 60);
  quota.commit(peer, nonce);
}
Date.now = realDateNow;
/** A peer's count and earliest keep_until as the store keeps them, against its rows (a plain connection). */
function quotaCounts(peer: string): { pairs: number; rows: number; firstKeepUntil: number; earliest: number | null } {
  const db = new Database(quotaFile, { readonly: true });
  try {
    const kept = db.prepare("SELECT pairs, first_keep_until FROM chio_trust_replay_peers WHERE peer_id = ?").get(peer) as { pairs: number; first_keep_until: number } | undefined;
    const held = db.prepare("SELECT count(*) AS n, min(keep_until) AS earliest FROM chio_trust_replay WHERE peer_id = ?").get(peer) as { n: number; earliest: number | null };
    return { pairs: kept?.pairs ?? 0, rows: held.n, firstKeepUntil: kept?.first_keep_until ?? 0, earliest: held.earliest };
  } finally {
    db.close();
  }
}
const checkQuota = (when: string): void => {
  for (let p = 0; p < QUOTA_PEERS.length; p++) {
    const counts = quotaCounts(QUOTA_PEERS[p]!);
    expect(`${when}: ${QUOTA_PEERS[p]}'s count on file against its rows`, counts.pairs, counts.rows);
    // first_keep_until may lag below the earliest pair (it only decides when to count again), never above it.
    if (counts.earliest !== null && counts.firstKeepUntil > counts.earliest) {
      differed[differed.length] = `${when}: ${QUOTA_PEERS[p]}'s first_keep_until ${counts.firstKeepUntil} above its earliest keep_until ${counts.earliest}`;
    }
  }
};
checkQuota("before the quota accessors");
expect("before the quota accessors: kernel-q's rows", quotaCounts("kernel-q").rows, 5);
lies.watching = true;
try {
  // The earliest keep_until answered as 2^53 − 1: taken, it puts the peer's bound above its pairs.
  accessor("first", 9_007_199_254_740_991n);
  try {
    got.recount = result(() => quotaTight.reserve("kernel-q", "new-1", T, T, 60));
  } finally {
    lies.restoreAll();
  }
  lies.watching = false;
  checkQuota("after a reserve at the quota under Object.prototype.first");
  lies.watching = true;
  accessor("peer_id", "kernel-none");
  try {
    got.prune = result(() => quota.prune(T));
  } finally {
    lies.restoreAll();
  }
} finally {
  lies.watching = false;
  lies.restoreAll();
}
checkQuota("after prune() under Object.prototype.peer_id");
// The accessor took the column from the row the driver filled: a row without it is CORRUPT_ROW,
// and the transaction leaves the file as it was. With everything restored the recount refuses
// kernel-q (three live pairs: its quota) and keeps the count it made, the expired pairs go, and
// each peer reserves again within the first store's quota.
expect("Object.prototype.first: the reserve at the quota", got.recount, "threw CORRUPT_ROW");
expect("Object.prototype.peer_id: prune()", got.prune, "threw CORRUPT_ROW");
expect("after both: kernel-q's rows, none deleted", quotaCounts("kernel-q").rows, 5);
expect("after both: kernel-r's rows, none deleted", quotaCounts("kernel-r").rows, 3);
expect("with everything restored: the reserve at the quota", result(() => quotaTight.reserve("kernel-q", "new-1", T, T, 60)), "threw PEER_QUOTA_EXCEEDED");
checkQuota("after the reserve at the quota with everything restored");
expect("with everything restored: prune() deletes kernel-r's two expired pairs (kernel-q's went in the recount)", quota.prune(T), 2);
checkQuota("after prune() with everything restored");
for (let p = 0; p < QUOTA_PEERS.length; p++) {
  const peer = QUOTA_PEERS[p]!;
  expect(`with everything restored: ${peer}'s live pairs are kept`, quotaCounts(peer).earliest, T + 60);
  expect(`with everything restored: ${peer} reserves within the first store's quota`, result(() => quota.reserve(peer, "new-2", T, T, 60)), true);
}
checkQuota("after the last reserves");
quotaTight.close();
quota.close();

// Read back with everything restored: a fresh store, and a plain connection (not the library's decode).
const reader = new SqlitePeerStore(file);
expect("accessors: the pin's key on file, read by a fresh store", pinKey(pinText(reader.get("kernel-b"))), pinHex);
reader.close();
const plain = new Database(file, { readonly: true });
const key = plain.prepare("SELECT public_key FROM chio_trust_peers WHERE kernel_id = 'kernel-b'").get() as { public_key: Buffer } | undefined;
plain.close();
expect("accessors: the pin's key on file (plain connection)", key === undefined ? "none" : key.public_key.toString("hex"), pinHex);
expect("CHIO_APPLICATION_ID (the file is ours)", CHIO_APPLICATION_ID, 0x6368696f);
restart();
expect("accessors, then a restart: the first envelope", await outcome(e1, T + 5), "REPLAYED_NONCE");
for (const { name, text, got: accepted } of fresh) {
  if (accepted === ACCEPTED) expect(`accessors, then a restart: the envelope accepted under Object.prototype.${name}`, await outcome(text, T + 5), "REPLAYED_NONCE");
}
expect("accessors, then a restart: a stranger's key", await outcome(envelope(freshNonce(), stranger), T + 5), "UNEXPECTED_PEER_KEY");
peers.close();
replay.close();
rmSync(dir, { recursive: true, force: true });

if (process.env.LYING_TRACE) console.error(stringify(got, (_, value: unknown) => (typeof value === "bigint" ? `${value}n` : value)));
console.log(stringify({ ran: ownKeys(ran).sort(), differed, driverWrites: ownKeys(driverWrites).sort() }));
