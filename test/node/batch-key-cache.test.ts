// The batch key cache (assembly/ed25519/key-cache.ts): batch verification and the envelope batch
// remember, for the last keys they decoded, the point and its torsion class. Its entries are read
// here through a test-build hook and checked against @noble/curves (the affine point) and the
// BigInt model [L]A == O (the class); every batch answer is compared with single verify (itself
// checked against node:crypto and @noble/curves in the other suites), so that a key first seen
// under ZIP-215 (decoded, class not yet tested), a key evicted and seen again, and a corrupted
// entry all lead to the single answer.
//
// The suite runs the library on the test build (same code plus the hook).
import { test } from "uvu";
import * as assert from "uvu/assert";
import { createHash } from "node:crypto";
import { ed25519 as noble } from "@noble/curves/ed25519.js";
import { sha512 } from "@noble/hashes/sha2.js";
import { ed25519, ED25519_PREPARED_KEYS_DEFAULT_BYTES } from "../../src/ed25519.js";
import { verifyEnvelopeBatch, verifyEnvelopeBytes } from "../../src/handshake/verify-envelope.js";
import { bytesToHex } from "../../src/bytes.js";
import { argsBase, coreExports, heapU8, initSync, resetInstance } from "../../src/wasm/instance.js";
import { ARG_RESULT, ARG_SECRET, TEST_HOOK_INPUT } from "../../src/wasm/abi.js";
import { CHIO_WASM_BASE64 } from "../../src/generated/chio-wasm.js";
import { testModule } from "../helpers/test-core.js";
import { siphash24Reference } from "../helpers/siphash-reference.js";
import { positionOf, seedKeyIndex } from "../helpers/key-index.js";
import { L, concat, encodingsOf, fieldFromLimbs, fromLE, le, mulL, nobleZip215, torsionMultiple, torsionPoints, type NPoint } from "../helpers/ed25519-oracles.js";
import { tsxChildResult } from "../helpers/processes.js";

const Point = noble.Point;
const G = Point.BASE;
const T = torsionPoints();
const digest = (...parts: (string | number)[]): Uint8Array => new Uint8Array(createHash("sha512").update(parts.join("/")).digest());
const scalarOf = (...parts: (string | number)[]): bigint => (fromLE(digest(...parts)) % (L - 1n)) + 1n;

// Entry layout (key-cache.ts): key 32 || x 40 || y 40 || u32 class || padding to 128 || check 16.
const ENTRY_X = 32;
const ENTRY_Y = 72;
const ENTRY_CLASS = 112;
const ENTRY_CHECK = 128;
const CLASS_TORSION_FREE = 1;
const CLASS_HAS_TORSION = 2;
const CLASS_UNKNOWN = 3;
const CAPACITY = 1024;

interface Hooks {
  readonly memory: WebAssembly.Memory;
  test_batch_key_entry(): number;
  test_batch_key_lookup_exact(): number;
}
const hooks = (): Hooks => coreExports() as unknown as Hooks;

/** Address of the cache entry for pk, or 0 (a corrupted entry is emptied and reported as 0; the LRU order is untouched). */
function entryOf(pk: Uint8Array): number {
  heapU8().set(pk, argsBase() + ARG_RESULT + TEST_HOOK_INPUT);
  return hooks().test_batch_key_entry();
}

/** The class a lookup of pk returns, after the hook checked the restored point against decoding byte for byte (-1: it differs; 0: a miss). */
function lookupExact(pk: Uint8Array): number {
  heapU8().set(pk, argsBase() + ARG_RESULT + TEST_HOOK_INPUT);
  return hooks().test_batch_key_lookup_exact();
}

/** A position key of our choosing, for tests that predict sets (seedKeyIndex). */
const KNOWN_POSITION_KEY = Uint8Array.from(digest("position key").subarray(0, 16));

/** The set a key falls in under a position key (key-cache.ts bk_set_start: the top 8 bits of SipHash-2-4 of the key bytes). */
const setOf = (pk: Uint8Array, positionKey = KNOWN_POSITION_KEY): bigint => siphash24Reference(positionKey, pk) >> 56n;

/**
 * Seeds KNOWN_POSITION_KEY (which empties the cache) for a test that expects every one of `keys`
 * cached after one call, and checks that no set receives more of them than its 4 ways. Under the
 * realm's random key, which an instance rebuilt by test.before or an earlier test has, one call's
 * 103 new keys put 5 in one set (evicting one) in about 1.6% of runs (48 of 3,000 random
 * position keys), 13 keys in about 3 runs in 10^7.
 */
function seedSetsHolding(keys: Uint8Array[]): void {
  seedKeyIndex(KNOWN_POSITION_KEY);
  const perSet = new Map<bigint, number>();
  for (const pk of keys) {
    const set = setOf(pk);
    perSet.set(set, (perSet.get(set) ?? 0) + 1);
  }
  assert.ok(Math.max(...perSet.values()) <= 4, "no set receives more keys than its 4 ways");
}

/** The field element held in ten signed limbs (i32 LE) at address at. */
const limbsValue = (at: number): bigint => fieldFromLimbs(new Int32Array(heapU8().slice(at, at + 40).buffer));

interface Key {
  a: bigint;
  point: NPoint;
  pk: Uint8Array;
}
/** A = [a]B + T[j] (T[0] = O): torsion-free for j = 0, else with a torsion component of order 8 / gcd(j, 8). */
function keyWithTorsion(label: string, j: number): Key {
  const a = scalarOf("key", label, j);
  const point = G.multiply(a).add(T[j]);
  return { a, point, pk: point.toBytes() };
}

interface Item {
  signature: Uint8Array;
  message: Uint8Array;
  publicKey: Uint8Array;
}
/** S = r + k a with R = [r]B: D = -k T[j], so default verify accepts iff k T[j] = O; ZIP-215 always. */
function signedBy(key: Key, label: string): Item {
  const message = digest("message", label).slice(0, 40);
  const r = scalarOf("nonce", label);
  const R = G.multiply(r).toBytes();
  const k = fromLE(sha512(concat(R, key.pk, message))) % L;
  return { signature: concat(R, le((r + k * key.a) % L)), message, publicKey: key.pk };
}

function expectSingles(items: Item[], zip215: boolean, what: string): void {
  const batch = ed25519.verifyBatch(items, { zip215 });
  items.forEach((it, i) => assert.is(batch[i], ed25519.verify(it.signature, it.message, it.publicKey, { zip215 }), `${what}: item ${i}, zip215 ${zip215}`));
}

// Keys verified often enough are prepared by single verify (the prepared slab), and the batch then
// takes them from the slab, not from this cache: with no slab, every key here goes through the cache.
test.before(() => {
  resetInstance();
  initSync(testModule());
  ed25519.configurePreparedKeys({ maxBytes: 0 });
});

test.after(() => {
  resetInstance();
  initSync(new WebAssembly.Module(Buffer.from(CHIO_WASM_BASE64, "base64")));
  ed25519.configurePreparedKeys({ maxBytes: ED25519_PREPARED_KEYS_DEFAULT_BYTES });
});

test("an entry holds the decoded point and the torsion class of [L]A; a key first seen under ZIP-215 is tested on its first default use", () => {
  // Keys with every torsion order (1, 2, 4, 8), first batched under ZIP-215 (class not tested),
  // then under the default rule. Per key, 12 signatures S = r + k a: under a mixed-order key the
  // default rule accepts only those with k T = O, and torsion terms of different items cancel in
  // a combined check half the time or more, so a key taken as torsion-free would be caught.
  // Plus every encoding of the identity and of the order-2 and order-4 points (non-canonical ones
  // included: y >= p, x = 0 with the sign bit set), as keys with a = 0.
  const keys: Key[] = [0, 1, 2, 4, 6].map((j) => keyWithTorsion("classes", j));
  for (const j of [0, 2, 4]) for (const pk of encodingsOf(T[j])) keys.push({ a: 0n, point: T[j], pk });
  seedSetsHolding(keys.map((key) => key.pk)); // test.before's instance has the realm's random key
  const items = keys.flatMap((key, n) => Array.from({ length: 12 }, (_, i) => signedBy(key, `classes ${n} ${i}`)));
  for (const key of keys) assert.is(entryOf(key.pk), 0, "not cached before");
  expectSingles(items, true, "ZIP-215 first");
  for (const key of keys) {
    const entry = entryOf(key.pk);
    assert.ok(entry !== 0, "cached by the ZIP-215 batch");
    assert.equal(heapU8().slice(entry, entry + 32), key.pk);
    const affine = key.point.toAffine();
    assert.is(limbsValue(entry + ENTRY_X), affine.x, "x");
    assert.is(limbsValue(entry + ENTRY_Y), affine.y, "y");
    assert.is(new DataView(heapU8().buffer).getUint32(entry + ENTRY_CLASS, true), CLASS_UNKNOWN, "ZIP-215 does not test the class");
    assert.is(lookupExact(key.pk), CLASS_UNKNOWN, "a hit restores exactly the decoded point (X, Y, Z = 1, T = XY)");
  }
  const defaultAnswers = items.map((it) => ed25519.verify(it.signature, it.message, it.publicKey));
  assert.ok(defaultAnswers.some((x) => x) && defaultAnswers.some((x) => !x), "both answers occur under the default rule");
  for (let round = 0; round < 3; round++) {
    expectSingles(items, false, `default, round ${round}`);
    for (const key of keys) {
      const expected = mulL(key.point).equals(Point.ZERO) ? CLASS_TORSION_FREE : CLASS_HAS_TORSION;
      assert.is(new DataView(heapU8().buffer).getUint32(entryOf(key.pk) + ENTRY_CLASS, true), expected, "class of [L]A");
      assert.is(lookupExact(key.pk), expected, "restored point and class");
    }
  }
  expectSingles(items, true, "ZIP-215 with the class known");
  items.forEach((it) => assert.is(ed25519.verify(it.signature, it.message, it.publicKey, { zip215: true }), nobleZip215(it.signature, it.message, it.publicKey)));
});

test("a corrupted entry is a miss: the key is decoded again, never another key's point or class used", () => {
  const victim = keyWithTorsion("victim", 0);
  const attacker = keyWithTorsion("attacker", 0);
  const mixed = keyWithTorsion("mixed victim", 4); // order-2 torsion: default answers depend on k's parity
  const valid = Array.from({ length: 6 }, (_, i) => signedBy(victim, `valid ${i}`));
  // Signed with the attacker's scalar, k hashed over the victim's bytes: valid only under the attacker's point.
  const forged = (i: number): Item => signedBy({ ...attacker, pk: victim.pk }, `forged ${i}`);
  const mixedItems = Array.from({ length: 12 }, (_, i) => signedBy(mixed, `mixed ${i}`));
  const own = signedBy(attacker, "the attacker's own"); // caches the attacker's key too
  const batch = (): Item[] => [valid[0], forged(0), valid[1], valid[2], forged(1), valid[3], valid[4], forged(2), valid[5], ...mixedItems, own];
  for (const zip215 of [false, true]) expectSingles(batch(), zip215, "warm-up");
  const heap = () => heapU8();
  // Bit flips in the key bytes, x, y, the class, the padding and the check value, found by the
  // batch's own lookup: afterwards the key's entry holds again exactly what it held before.
  const snapshot = (pk: Uint8Array): Uint8Array => {
    const entry = entryOf(pk);
    assert.ok(entry !== 0, "cached");
    return heap().slice(entry, entry + ENTRY_CHECK + 16);
  };
  const before = [victim, mixed].map((key) => snapshot(key.pk));
  for (const offset of [0, 31, ENTRY_X, ENTRY_X + 21, ENTRY_Y + 3, ENTRY_CLASS, ENTRY_CLASS + 8, ENTRY_CHECK, ENTRY_CHECK + 15]) {
    for (const key of [victim, mixed]) heap()[entryOf(key.pk) + offset] ^= offset === ENTRY_CLASS ? 3 : 0x10; // the class flips between torsion-free and has-torsion
    for (const zip215 of [false, true]) expectSingles(batch(), zip215, `flip at ${offset}`);
    [victim, mixed].forEach((key, k) => assert.equal(snapshot(key.pk), before[k], `entry restored after a flip at ${offset}`));
  }
  // The attacker's point copied over the victim's (key bytes and check value kept); the mixed
  // key's class overwritten as torsion-free.
  const v = entryOf(victim.pk);
  const a = entryOf(attacker.pk);
  assert.ok(v !== 0 && a !== 0);
  heap().copyWithin(v + ENTRY_X, a + ENTRY_X, a + ENTRY_CLASS);
  new DataView(heap().buffer).setUint32(entryOf(mixed.pk) + ENTRY_CLASS, CLASS_TORSION_FREE, true);
  const answers = ed25519.verifyBatch(batch());
  assert.equal(answers.slice(0, 9), [true, false, true, true, false, true, true, false, true], "forgeries refused");
  expectSingles(batch(), false, "after the copy");
});

test("the cache is bounded: a key used in every batch stays while thousands of others pass through, and evicted keys give the same answers", () => {
  // Under a known position key: under a random one, 4 of a batch's 64 new keys land in a hot
  // key's set (evicting it between two of its uses) in about 1% of runs.
  seedKeyIndex(KNOWN_POSITION_KEY);
  const hot = keyWithTorsion("hot", 0);
  const hotMixed = keyWithTorsion("hot mixed", 2);
  const cold = Array.from({ length: 3 * CAPACITY }, (_, i) => keyWithTorsion(`cold ${i}`, i % 5 === 0 ? 4 : 0));
  const first = cold.slice(0, 64).map((k, i) => signedBy(k, `first ${i}`));
  expectSingles(first, false, "first keys");
  for (let b = 0; b < cold.length; b += 64) {
    const items = [signedBy(hot, `hot ${b}`), signedBy(hotMixed, `hot mixed ${b}`), ...cold.slice(b, b + 64).map((k, i) => signedBy(k, `cold ${b} ${i}`))];
    expectSingles(items, b % 128 === 0, `batch at ${b}`);
    assert.ok(entryOf(hot.pk) !== 0 && entryOf(hotMixed.pk) !== 0, `the keys used in every batch are still cached (batch at ${b})`);
  }
  // Each set took about 12 keys: every set is full (a set left with fewer than 4 has probability ~0.2%).
  const cached = cold.filter((k) => entryOf(k.pk) !== 0).length + 2;
  assert.ok(cached <= CAPACITY && cached >= CAPACITY - 16, `${cached} keys cached (capacity ${CAPACITY})`);
  // Each set took about 12 later keys: nearly all of the first 64 are gone (LRU within a set).
  const evicted = first.filter((it) => entryOf(it.publicKey) === 0);
  assert.ok(evicted.length >= 48, `${evicted.length} of the first 64 keys evicted`);
  expectSingles(evicted, true, "evicted keys again under ZIP-215, decoded afresh");
  expectSingles(evicted, false, "and under the default rule");
});

test("within a set, the least recently used entry goes first", () => {
  seedKeyIndex(KNOWN_POSITION_KEY);
  // Keys [n]B for n = 1, 2, ... until six fall in the set of the first one.
  const sameSet: Key[] = [];
  let point = G;
  for (let n = 1n; sameSet.length < 6; n++, point = point.add(G)) {
    const pk = point.toBytes();
    if (sameSet.length === 0 || setOf(pk) === setOf(sameSet[0].pk)) sameSet.push({ a: n, point, pk });
  }
  const [k1, k2, k3, k4, k5, k6] = sameSet;
  // Three items per call: calls with fewer than three go to single verify, which leaves this cache alone.
  const use = (...keys: Key[]) => expectSingles(keys.flatMap((k) => [1, 2, 3].map((i) => signedBy(k, `lru ${i}`))), false, "LRU");
  use(k1, k2, k3, k4); //                     the set's four ways, k1 oldest
  use(k1); //                                 k1 now the most recent, k2 the oldest
  use(k5); //                                 evicts k2
  assert.equal([k1, k2, k3, k4, k5].map((k) => entryOf(k.pk) !== 0), [true, false, true, true, true]);
  use(k3, k4); //                             k1 and k5 now the oldest, k1 before k5
  use(k6); //                                 evicts k1
  assert.equal([k1, k2, k3, k4, k5, k6].map((k) => entryOf(k.pk) !== 0), [false, false, true, true, true, true]);
  use(k2); //                                 decoded again, evicts k5
  assert.equal([k1, k2, k3, k4, k5, k6].map((k) => entryOf(k.pk) !== 0), [false, true, true, true, false, true]);
});

test("the ways of a set keep their own classes: a key with torsion cached behind a torsion-free key of its set, and the reverse, give single verify's answers", () => {
  // A lookup that read another way's class (the set's first, say) would take the key with torsion
  // behind a torsion-free one as torsion-free: its items would join the combined check with their
  // R tested, and an item whose R's torsion cancels [k]T_A in D (valid under the default rule)
  // would be refused for R's torsion. The reverse order would send a torsion-free key's items to
  // the single verifier (same answers, caught by the classes and the counters below).
  seedKeyIndex(KNOWN_POSITION_KEY);
  const mixed = keyWithTorsion("set mates", 1); // a component of order 8
  const mates: Key[] = []; // torsion-free keys [n]B, n = start, start + 1, ..., in mixed's set
  const start = scalarOf("set mates start");
  let point = G.multiply(start);
  for (let n = start; mates.length < 2; n++, point = point.add(G)) {
    const pk = point.toBytes();
    if (setOf(pk) === setOf(mixed.pk)) mates.push({ a: n % L, point, pk });
  }
  const ENTRY_BYTES = ENTRY_CHECK + 16;
  // Three items per call: calls with fewer than three go to single verify, which leaves this cache alone.
  const cache = (key: Key, label: string): void => expectSingles([1, 2, 3].map((i) => signedBy(key, `${label} ${i}`)), false, `caching ${label}`);
  const check = (free: Key, label: string): void => {
    const cancelling = [1, 2, 3, 4].map((i) => signedWithTorsionR(mixed, `${label} cancelling ${i}`, 0, true, T[1]));
    const mixedItems = Array.from({ length: 8 }, (_, i) => signedBy(mixed, `${label} mixed ${i}`));
    const freeItems = [1, 2, 3].map((i) => signedBy(free, `${label} free ${i}`));
    const freeTorsionR = [1, 2].map((i) => signedWithTorsionR(free, `${label} free R ${i}`, 2 * i, false, Point.ZERO));
    const items = [cancelling[0], ...freeItems.slice(0, 2), cancelling[1], ...mixedItems, freeTorsionR[0], cancelling[2], freeItems[2], freeTorsionR[1], cancelling[3]];
    const singles = items.map((it) => ed25519.verify(it.signature, it.message, it.publicKey));
    assert.ok(cancelling.every((it) => ed25519.verify(it.signature, it.message, it.publicKey)), "R's torsion cancels [k]T_A: valid under the default rule");
    assert.ok(singles.some((x) => !x), "and items refused");
    const before = batchCounters();
    assert.equal(ed25519.verifyBatch(items), singles, `${label}: single verify's answers`);
    const counted = countersSince(before);
    assert.equal([counted.decoded, counted.tested, counted.singles], [5, 5, 12], `${label}: R decoded and tested under the torsion-free key only; the items under the key with torsion go to the single verifier`);
    expectSingles(items, true, `${label}, ZIP-215`);
  };
  // The torsion-free key in way 0, the key with torsion in way 1.
  cache(mates[0], "free first");
  cache(mixed, "mixed second");
  assert.is(entryOf(mixed.pk) - entryOf(mates[0].pk), ENTRY_BYTES, "the two keys share a set, in its first two ways");
  assert.equal([lookupExact(mates[0].pk), lookupExact(mixed.pk)], [CLASS_TORSION_FREE, CLASS_HAS_TORSION]);
  check(mates[0], "torsion-free key first");
  // A new position key empties the cache: the key with torsion in way 0, the other torsion-free key in way 1.
  seedKeyIndex(Uint8Array.from(KNOWN_POSITION_KEY));
  assert.is(entryOf(mixed.pk), 0, "emptied");
  cache(mixed, "mixed first");
  cache(mates[1], "free second");
  assert.is(entryOf(mates[1].pk) - entryOf(mixed.pk), ENTRY_BYTES, "the two keys share a set, in its first two ways");
  assert.equal([lookupExact(mixed.pk), lookupExact(mates[1].pk)], [CLASS_HAS_TORSION, CLASS_TORSION_FREE]);
  check(mates[1], "key with torsion first");
});

test("positions are keyed at random per realm (another process has another key), kept by a rebuilt instance; a known key gives the reference SipHash-2-4, its bytes wiped", () => {
  const keys = Array.from({ length: 32 }, (_, i) => keyWithTorsion(`position ${i}`, 0).pk);
  const freshInstance = (): bigint[] => {
    resetInstance();
    initSync(testModule());
    ed25519.configurePreparedKeys({ maxBytes: 0 });
    return keys.map(positionOf);
  };
  const first = freshInstance();
  const second = freshInstance();
  // The core's key until seeded (key-cache.ts): the reference vectors' key 00..0f.
  const unseeded = keys.map((pk) => siphash24Reference(Uint8Array.from({ length: 16 }, (_, i) => i), pk));
  const otherRealm = tsxChildResult<string[]>(new URL("../helpers/key-index-child.ts", import.meta.url), keys.map(bytesToHex)).map(BigInt);
  // Random 128-bit keys: equal positions for any of these keys have probability about 2^-59.
  assert.ok(keys.every((_, i) => first[i] !== unseeded[i]), "an instance does not keep the core's fixed key");
  assert.equal(second, first, "an instance rebuilt in the same realm (after a trap, say) gets the realm's key");
  assert.is(otherRealm.length, keys.length);
  assert.ok(keys.every((_, i) => otherRealm[i] !== first[i] && otherRealm[i] !== unseeded[i]), "another process draws its own key");
  seedKeyIndex(KNOWN_POSITION_KEY);
  assert.equal(keys.map(positionOf), keys.map((pk) => siphash24Reference(KNOWN_POSITION_KEY, pk)));
  assert.equal(heapU8().slice(argsBase() + ARG_SECRET, argsBase() + ARG_SECRET + 16), new Uint8Array(16), "the seed bytes are wiped");
});

test("a new position key empties the batch key cache, also the entries whose set it keeps", () => {
  // Keys [n]B whose set is the same under both position keys: without the emptying their entries
  // would still be found after the change.
  const nextKey = Uint8Array.from(digest("yet another position key").subarray(0, 16));
  const keys: Key[] = [];
  let point = G;
  for (let n = 1n; keys.length < 3; n++, point = point.add(G)) {
    const pk = point.toBytes();
    if (setOf(pk) === setOf(pk, nextKey)) keys.push({ a: n, point, pk });
  }
  seedKeyIndex(KNOWN_POSITION_KEY);
  expectSingles(keys.flatMap((k) => [1, 2].map((i) => signedBy(k, `reseed ${i}`))), false, "cached");
  assert.ok(keys.every((k) => entryOf(k.pk) !== 0), "all cached");
  seedKeyIndex(nextKey);
  assert.ok(keys.every((k) => entryOf(k.pk) === 0), "none left");
  expectSingles(keys.flatMap((k) => [1, 2].map((i) => signedBy(k, `reseed again ${i}`))), true, "decoded afresh");
  assert.ok(keys.every((k) => entryOf(k.pk) !== 0), "cached again");
});

// A lookup must match all 32 key bytes: A and -A differ only in the top bit (the sign of x), and
// a signature made with A's secret under the key bytes of -A is valid for the point A. A cache
// that took -A's bytes for A's entry would hand the batch A's point for them and accept it. Within
// one call the batch keeps them apart itself (ed25519-batch.test.ts); across calls only the
// cache's comparison does, and only when both fall in one set, so the key is chosen (under a
// position key of our choosing) to put A and -A in the same set.
test("a key whose bytes differ from a cached key's only in the top bit (-A for A) is not taken for it: items signed with A's secret under -A stay false", () => {
  seedKeyIndex(KNOWN_POSITION_KEY);
  let key: Key | undefined;
  let negated = new Uint8Array(32);
  for (let n = 0; key === undefined; n++) {
    const candidate = keyWithTorsion(`sign bit ${n}`, 0);
    negated = Uint8Array.from(candidate.pk);
    negated[31] ^= 0x80;
    if (setOf(candidate.pk) === setOf(negated)) key = candidate;
  }
  assert.equal(negated, key.point.negate().toBytes(), "the flipped bytes are -A's encoding");
  expectSingles([1, 2, 3].map((i) => signedBy(key, `A itself ${i}`)), false, "items under A");
  assert.is(lookupExact(key.pk), CLASS_TORSION_FREE, "A is cached, torsion-free");
  // S = r + k a with k over the bytes of -A: [S]B - [k](-A) = R + [2k]A, not R: single verify says false.
  const forged = (label: string): Item => {
    const message = digest("message", label).slice(0, 40);
    const r = scalarOf("nonce", label);
    const R = G.multiply(r).toBytes();
    const k = fromLE(sha512(concat(R, negated, message))) % L;
    return { signature: concat(R, le((r + k * key!.a) % L)), message, publicKey: negated };
  };
  for (const zip215 of [false, true]) {
    const items = [1, 2, 3, 4].map((i) => forged(`under -A ${i} ${zip215}`));
    assert.equal(ed25519.verifyBatch(items, { zip215 }), [false, false, false, false], `zip215 ${zip215}`);
    items.forEach((it) => assert.not.ok(ed25519.verify(it.signature, it.message, it.publicKey, { zip215 }), "single verify refuses it"));
    const [first] = items;
    const k = fromLE(sha512(concat(first.signature.subarray(0, 32), negated, first.message))) % L;
    const R = Point.fromBytes(first.signature.subarray(0, 32));
    assert.ok(G.multiply(fromLE(first.signature.subarray(32))).equals(R.add(key!.point.multiply(k))), "control: [S]B = R + [k]A, so with A's point the item would pass");
  }
});

test("keys that share a cached key's first 8 bytes (any sender can make them) do not evict it", () => {
  seedKeyIndex(KNOWN_POSITION_KEY);
  const pinned = keyWithTorsion("pinned", 0);
  expectSingles([1, 2, 3].map((i) => signedBy(pinned, `pinned ${i}`)), false, "the pinned key");
  assert.ok(entryOf(pinned.pk) !== 0, "the pinned key is cached");
  // Points whose encodings start with the pinned key's 8 bytes: the rest of the bytes varied
  // until they decode (about half do). Signed with arbitrary values: each batch fails its combined
  // check and goes to single verify, after the batch decoded and cached every key.
  const colliding: Uint8Array[] = [];
  for (let n = 0; colliding.length < 16; n++) {
    const pk = Uint8Array.from(pinned.pk);
    pk.set(digest("collide", n).subarray(0, 23), 8);
    pk[31] &= 0x7f;
    try {
      Point.fromBytes(pk);
      colliding.push(pk);
    } catch {
      // not a point
    }
  }
  for (let round = 0; round < 4; round++) {
    const items = colliding.map((publicKey, i) => ({ signature: concat(G.multiply(scalarOf("r", round, i)).toBytes(), le(scalarOf("s", round, i))), message: digest("m", round, i), publicKey }));
    expectSingles(items, false, `colliding keys, round ${round}`);
  }
  assert.ok(colliding.filter((pk) => entryOf(pk) !== 0).length >= 12, "the colliding keys were cached");
  assert.ok(entryOf(pinned.pk) !== 0, "the pinned key is still cached");
});

test("envelopes: the key the parse takes from the cache gives verifyEnvelopeBytes's verdicts, weak keys included", () => {
  const identity = T[0].toBytes();
  const order2 = T[4].toBytes();
  const plain = keyWithTorsion("envelope", 0);
  const mixed = keyWithTorsion("envelope mixed", 4);
  const envelope = (key: Key | { a: bigint; pk: Uint8Array }, n: number): string => {
    // Members in RFC 8785 order and plain ASCII, so JSON.stringify gives the canonical bytes.
    const challenge = { localKernelId: `kernel-${n}`, nonce: `nonce-${n}`, remoteKernelId: "kernel-local", schema: "chio.federation-kernel-handshake.v1", timestamp: 1764000000 };
    const message = new TextEncoder().encode(JSON.stringify(challenge));
    const r = scalarOf("envelope nonce", n);
    const R = G.multiply(r).toBytes();
    const k = fromLE(sha512(concat(R, key.pk, message))) % L;
    const signature = concat(R, le((r + k * key.a) % L));
    return JSON.stringify({ challenge, declaredPublicKey: bytesToHex(key.pk), signature: bytesToHex(signature) });
  };
  const envelopes = [
    envelope(plain, 1), envelope({ a: 0n, pk: identity }, 2), envelope(mixed, 3), envelope({ a: 0n, pk: order2 }, 4),
    envelope(plain, 5), envelope(mixed, 6), envelope(mixed, 7), envelope(mixed, 8),
  ];
  const expected = [undefined, { zip215: true }].map((options) => envelopes.map((e) => verifyEnvelopeBytes(e, options)));
  assert.ok(expected[0].some((v) => v.ok) && expected[0].some((v) => !v.ok && v.code === "WEAK_PUBLIC_KEY"), "valid and weak-key verdicts occur");
  // Cold, warm, first seen under ZIP-215 (class unknown) and then default.
  for (const order of [[0, 1], [1, 0]]) {
    resetInstance();
    initSync(testModule());
    ed25519.configurePreparedKeys({ maxBytes: 0 });
    for (let round = 0; round < 2; round++) {
      for (const o of order) {
        const options = o === 1 ? { zip215: true } : undefined;
        assert.equal(verifyEnvelopeBatch(envelopes, options), expected[o], `order ${order}, round ${round}, zip215 ${o === 1}`);
      }
    }
  }
  assert.ok(entryOf(plain.pk) !== 0 && entryOf(mixed.pk) !== 0, "the envelope batch cached its keys");
});

/** Counters of the test build (batch.ts): combined checks (and of them the cofactored), points decoded and tested, items sent to the single verifier. */
interface BatchCounters {
  passed: number;
  failed: number;
  cofactored: number;
  decoded: number;
  tested: number;
  singles: number;
}
function batchCounters(): BatchCounters {
  const x = coreExports() as unknown as Record<string, () => number>;
  return {
    passed: x.test_batch_checks_passed() >>> 0,
    failed: x.test_batch_checks_failed() >>> 0,
    cofactored: x.test_batch_cofactored_checks() >>> 0,
    decoded: x.test_batch_points_decoded() >>> 0,
    tested: x.test_batch_points_tested() >>> 0,
    singles: x.test_batch_singles() >>> 0,
  };
}
const countersSince = (before: BatchCounters): BatchCounters => {
  const after = batchCounters();
  return {
    passed: after.passed - before.passed,
    failed: after.failed - before.failed,
    cofactored: after.cofactored - before.cofactored,
    decoded: after.decoded - before.decoded,
    tested: after.tested - before.tested,
    singles: after.singles - before.singles,
  };
};

/**
 * The signature S = r + k a of `message` under the key, with R = [r]B + T[j] and r = nonce(attempt):
 * D = -(T[j] + [k]T_A), T_A (torsionOfKey) the key's torsion component. With cancel, the attempt
 * and j (1..7) are the first that make D = O (valid under the default rule although both A and R
 * carry torsion), else the given j.
 */
function signatureWithTorsionR(key: Key, message: Uint8Array, nonce: (attempt: number) => bigint, j: number, cancel: boolean, torsionOfKey: NPoint): Uint8Array {
  for (let attempt = 0; attempt < 64; attempt++) {
    const r = nonce(attempt);
    for (let t = 1; t < 8; t++) {
      const jj = cancel ? t : j;
      const R = G.multiply(r).add(T[jj]).toBytes();
      const k = fromLE(sha512(concat(R, key.pk, message))) % L;
      if (cancel && !T[jj].add(torsionMultiple(torsionOfKey, k)).equals(Point.ZERO)) continue;
      return concat(R, le((r + k * key.a) % L));
    }
  }
  throw new Error("no cancelling R");
}

/** An item signed by signatureWithTorsionR over a message and nonces derived from `label`. */
function signedWithTorsionR(key: Key, label: string, j: number, cancel: boolean, torsionOfKey: NPoint): Item {
  const message = digest("message", label).slice(0, 40);
  return { signature: signatureWithTorsionR(key, message, (attempt) => scalarOf("nonce", label, attempt), j, cancel, torsionOfKey), message, publicKey: key.pk };
}

test("a key new to the call under one item is decoded, not tested, and cached with its class unknown; the item's Q = R + [k mod 8]A is tested instead, and every answer is single verify's", () => {
  // One key per item, every key new: the batch tests one point per item (Q), not two (A and R).
  // Kinds: torsion-free A and R; A with torsion and R = [r]B (default accepts iff [k]T_A = O);
  // A and R with torsion that cancels in D (default accepts); that does not cancel; R alone with torsion.
  const items: Item[] = [];
  const keys: Key[] = [];
  const add = (key: Key, item: Item): void => {
    keys.push(key);
    items.push(item);
  };
  for (let i = 0; i < 12; i++) {
    const plain = keyWithTorsion(`deferred plain ${i}`, 0);
    add(plain, signedBy(plain, `deferred plain ${i}`));
  }
  for (let j = 1; j < 8; j++) {
    for (let i = 0; i < 4; i++) {
      const key = keyWithTorsion(`deferred A ${i}`, j);
      add(key, signedBy(key, `deferred A ${j} ${i}`));
      const cancelling = keyWithTorsion(`deferred AR ${i}`, j);
      add(cancelling, signedWithTorsionR(cancelling, `deferred AR ${j} ${i}`, 0, true, T[j]));
      const both = keyWithTorsion(`deferred AR no ${i}`, j);
      add(both, signedWithTorsionR(both, `deferred AR no ${j} ${i}`, 1 + ((j + i) % 7), false, T[j]));
    }
    const plain = keyWithTorsion(`deferred R ${j}`, 0);
    add(plain, signedWithTorsionR(plain, `deferred R ${j}`, j, false, Point.ZERO));
  }
  seedSetsHolding(keys.map((key) => key.pk));
  for (const key of keys) assert.is(entryOf(key.pk), 0, "a key new to the call");
  const singles = items.map((it) => ed25519.verify(it.signature, it.message, it.publicKey));
  // The model: D = -(T_R + [k]T_A) once the prime-order parts agree, as they do here by construction.
  assert.ok(singles.filter(Boolean).length > 12 + 7 * 4 && singles.some((x) => !x), "accepts with torsion in A, and rejects, both occur");
  const before = batchCounters();
  const batch = ed25519.verifyBatch(items);
  const counted = countersSince(before);
  items.forEach((it, i) => assert.is(batch[i], singles[i], `item ${i}: single verify's answer`));
  assert.is(counted.decoded, 2 * items.length, "each key and each R decoded");
  assert.is(counted.tested, items.length, "one torsion test per item: its Q");
  // An item whose Q has torsion has D != O: false, without the single verifier (the answers above
  // are single verify's); none here goes to it.
  assert.is(counted.singles, 0, "no item goes to the single verifier");
  assert.equal([counted.passed, counted.failed, counted.cofactored], [1, 0, 1], "the rest, keys with torsion included, pass one combined check, cofactored");
  for (const key of keys) {
    assert.ok(entryOf(key.pk) !== 0, "cached");
    assert.is(lookupExact(key.pk), CLASS_UNKNOWN, "cached as decoded, class unknown");
  }
  // Seen again: the cache holds each key with its class unknown, and a key seen again is tested
  // (once: the cache then keeps its class); its item's R too if the key is torsion-free, while an
  // item under a key with torsion goes to the single verifier.
  const torsionFree = keys.map((key) => mulL(key.point).equals(Point.ZERO));
  const freeItems = torsionFree.filter(Boolean).length;
  const again = batchCounters();
  assert.equal(ed25519.verifyBatch(items), singles, "second call, keys from the cache");
  const second = countersSince(again);
  assert.equal([second.decoded, second.tested, second.singles], [freeItems, keys.length + freeItems, items.length - freeItems], "each key tested, R decoded and tested under torsion-free keys, items under keys with torsion singly");
  // With every key tested (no deferred key), the combined check is exact, not cofactored: a
  // candidate wrongly taken as torsion-free would still fail it unless ord(D) divided z.
  assert.equal([second.passed, second.failed, second.cofactored], [1, 0, 0], "one exact combined check");
  for (const [i, key] of keys.entries()) assert.is(lookupExact(key.pk), torsionFree[i] ? CLASS_TORSION_FREE : CLASS_HAS_TORSION, "class of [L]A, cached");
  const third = batchCounters();
  assert.equal(ed25519.verifyBatch(items), singles, "third call, classes known");
  const thirdCounted = countersSince(third);
  assert.equal([thirdCounted.decoded, thirdCounted.tested], [freeItems, freeItems], "only the R values under torsion-free keys");
  const zip = batchCounters();
  expectSingles(items, true, "ZIP-215");
  assert.is(countersSince(zip).cofactored, 1, "ZIP-215: cofactored");
});

test("envelopes from senders new to the call, one each, with keys of every torsion order: the parse's key is deferred and each envelope's Q tested; verifyEnvelopeBytes's verdicts", () => {
  // A challenge signed under A = [a]B + T_A with R = [r]B + T_R: cancel picks the first nonce and
  // T_R that make D = O (valid under the default rule although A and R carry torsion), else T_R = O.
  const envelope = (n: number, j: number, cancel: boolean): { text: string; pk: Uint8Array } => {
    const key = keyWithTorsion(`fresh sender ${n}`, j);
    const challenge = { localKernelId: `sender-${n}`, nonce: `n-${n}`, remoteKernelId: "kernel-local", schema: "chio.federation-kernel-handshake.v1", timestamp: 1764000000 };
    const message = new TextEncoder().encode(JSON.stringify(challenge));
    const signature = signatureWithTorsionR(key, message, (attempt) => scalarOf("fresh sender nonce", n, attempt), 0, cancel, T[j]);
    return { text: JSON.stringify({ challenge, declaredPublicKey: bytesToHex(key.pk), signature: bytesToHex(signature) }), pk: key.pk };
  };
  const made = Array.from({ length: 21 }, (_, n) => envelope(n, 1 + (n % 7), n % 3 !== 2));
  const texts = made.map((e) => e.text);
  const expected = texts.map((t) => verifyEnvelopeBytes(t));
  assert.ok(expected.some((v) => v.ok) && expected.some((v) => !v.ok), "valid and invalid envelopes from keys with torsion");
  seedSetsHolding(made.map(({ pk }) => pk));
  for (const { pk } of made) assert.is(entryOf(pk), 0, "a sender new to the call");
  const before = batchCounters();
  assert.equal(verifyEnvelopeBatch(texts), expected, "verifyEnvelopeBytes's verdicts");
  const counted = countersSince(before);
  assert.equal([counted.decoded, counted.tested, counted.singles], [texts.length, texts.length, 0], "each R decoded (the parse decoded the key) and each Q tested, none singly");
  assert.equal([counted.passed, counted.failed, counted.cofactored], [1, 0, 1], "one cofactored combined check");
  for (const { pk } of made) assert.is(lookupExact(pk), CLASS_UNKNOWN, "cached by the parse, class unknown");
  assert.equal(verifyEnvelopeBatch(texts), expected, "again, the keys from the cache (tested now)");
});

test.run();
