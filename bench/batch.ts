// Batch verification (ed25519.verifyBatch, README "Batch verification"): cost per signature at
// batch sizes 1, 4, 16, 64, 256 and 1024, for distinct keys (every key new to the batch: decoded
// and tested for torsion in the call; 4096 keys in rotation, beyond the core's 1024-entry batch key
// cache, and walked so that hardly any is found there: below) and for one key (the pinned-peer case, key terms merged),
// against single verification by node:crypto (OpenSSL), libsodium.js and chio-trust itself with
// a cold key (4096 keys in rotation, beyond the core's 16-entry key cache). Message: the 169-byte
// canonical handshake challenge. Every row is time per SIGNATURE (a batch call divided by its size).
import { verify as nodeVerify } from "node:crypto";
import sodiumModule from "libsodium-wrappers";
import canonicalize from "canonicalize";
import { ed25519, type PreparedPublicKey } from "../dist/esm/index.js";
import { challengeObject, keyFixture, nodeSignature, seedFor, type KeyFixture } from "./fixtures.js";
import { keep, type Case, type Group } from "./harness.js";
import {
  BATCH_BASELINE, BATCH_GROUP_TITLE, BATCH_SIZES, CHIO_SINGLE, KNOWN_KEYS_BATCH, SODIUM_SINGLE, distinctName, knownKeysName, oneKeyName, preparedKeysName,
} from "./batch-names.js";

export * from "./batch-names.js";

/** Keys in rotation: 4 × the batch key cache's 1024 entries (assembly/ed25519/key-cache.ts), so every key is cold. */
const COUNT = 4096;
/**
 * Prepared-key slab while this group runs (its setup; teardown restores the default, so the other
 * groups, whose keys the large slab would let hot-key promotion keep, see the default): room for
 * the 128 prepared keys of the row above, about 33 KB each.
 */
const PREPARED_SLAB_BYTES = 6 * 1024 * 1024;

interface Item {
  signature: Uint8Array;
  message: Uint8Array;
  publicKey: Uint8Array;
}

export async function batchGroups(): Promise<Group[]> {
  await sodiumModule.ready;
  const sodium = sodiumModule;
  const keys: KeyFixture[] = [];
  const distinct: Item[] = [];
  const oneKey: Item[] = [];
  // The one-key rows' key is none of the distinct rows' keys: the core auto-prepares a hot key,
  // and with keys[0] as that key 1 in 4096 items of the cold rows (1 in 256 of the "seen before"
  // row) took the prepared path (review 166).
  const pinned = keyFixture(seedFor(30_000));
  for (let i = 0; i < COUNT; i++) {
    const key = keyFixture(seedFor(10_000 + i));
    const message = new TextEncoder().encode(canonicalize(challengeObject(i))!);
    keys.push(key);
    distinct.push({ signature: nodeSignature(message, key), message, publicKey: key.publicKey });
    oneKey.push({ signature: nodeSignature(message, pinned), message, publicKey: pinned.publicKey });
  }
  // Sanity: every batch size accepts the valid items and rejects a tampered one.
  for (const items of [distinct, oneKey]) {
    for (const n of BATCH_SIZES) {
      const batch = items.slice(0, n);
      if (!ed25519.verifyBatch(batch).every((ok) => ok)) throw new Error(`batch sanity check failed (n = ${n})`);
      const bad = batch.slice();
      const sig = bad[n - 1].signature.slice();
      sig[3] ^= 1;
      bad[n - 1] = { ...bad[n - 1], signature: sig };
      const got = ed25519.verifyBatch(bad);
      if (got[n - 1] || !got.slice(0, n - 1).every((ok) => ok)) throw new Error(`batch tamper check failed (n = ${n})`);
    }
  }

  let i = 0;
  const next = () => (i = (i + 1) & (COUNT - 1));
  const windows = (items: Item[], n: number): Item[][] =>
    Array.from({ length: COUNT / n }, (_, w) => items.slice(w * n, w * n + n)); // disjoint windows: new items every call
  const cases: Case[] = [
    { name: BATCH_BASELINE, fn: () => { const j = next(); keep(nodeVerify(null, distinct[j].message, keys[j].publicKeyObject, distinct[j].signature)); } },
    { name: SODIUM_SINGLE, fn: () => { const j = next(); keep(sodium.crypto_sign_verify_detached(distinct[j].signature, distinct[j].message, distinct[j].publicKey)); } },
    { name: CHIO_SINGLE, fn: () => { const j = next(); keep(ed25519.verify(distinct[j].signature, distinct[j].message, distinct[j].publicKey)); } },
  ];
  // The distinct-key rows walk the 4096 keys with one cursor between them: each call takes the n keys
  // after the last key any of these rows used (the cursor first moved up to a multiple of n, so that
  // the call is one of the precomputed windows), so every key a row meets was last used 4096 - n
  // keys or more before. The batch key cache has 256 sets of 4 ways, so about (4096 - n) / 256
  // other keys have come to its set since, and it is still there with a chance of about 1 in 9,000
  // at n = 64 and 1 in 440 at n = 1024 (Poisson, at most 3 of them). With a cursor per row, a
  // row could start over keys the row before it had just left in the cache (review 166: the batch of
  // 4 found a few percent of its keys there, the batch of 64 about 0.1%). The sanity checks above
  // used keys 0 … 1023, so the walk starts at 1024.
  let cursor = 1024;
  for (const n of BATCH_SIZES) {
    const batches = windows(distinct, n);
    cases.push({
      name: distinctName(n),
      opsPerCall: n,
      fn: () => {
        const aligned = (cursor + n - 1) & ~(n - 1) & (COUNT - 1);
        cursor = (aligned + n) & (COUNT - 1);
        keep(ed25519.verifyBatch(batches[aligned / n]).every(Boolean));
      },
    });
  }
  for (const n of BATCH_SIZES) {
    const batches = windows(oneKey, n);
    let w = 0;
    cases.push({
      name: oneKeyName(n),
      opsPerCall: n,
      fn: () => {
        w = (w + 1) % batches.length;
        keep(ed25519.verifyBatch(batches[w]).every(Boolean));
      },
    });
  }
  // 64 distinct keys as a kernel sees its known peers: 4 windows of 64 over 256 keys of their own
  // (none of the cold rows' keys, which these would otherwise leave cached for them), which the
  // batch key cache keeps (the warm-up fills it; the cold rows evict some of them between rounds,
  // and the first calls of a round decode those again). R is decoded and tested for torsion in
  // every call as always (no cache holds R values).
  const knownItems = Array.from({ length: 4 * KNOWN_KEYS_BATCH }, (_, i) => {
    const key = keyFixture(seedFor(40_000 + i));
    const message = new TextEncoder().encode(canonicalize(challengeObject(2 * COUNT + i))!);
    return { signature: nodeSignature(message, key), message, publicKey: key.publicKey };
  });
  const known = Array.from({ length: 4 }, (_, w) => knownItems.slice(w * KNOWN_KEYS_BATCH, (w + 1) * KNOWN_KEYS_BATCH));
  let k = 0;
  cases.push({
    name: knownKeysName,
    opsPerCall: KNOWN_KEYS_BATCH,
    fn: () => {
      k = (k + 1) & 3;
      keep(ed25519.verifyBatch(known[k]).every(Boolean));
    },
  });
  // 64 distinct prepared keys: 2 windows of 64 over keys 4096 + 0 … 127 (their own items, so the
  // rows above never meet these keys). The slab brings each key's point, subgroup flag and width-8
  // table of odd multiples (batch.ts); R is decoded and tested in every call as above. The keys
  // are prepared in the group's setup, once the slab that holds them all is laid out.
  const preparedFixtures = Array.from({ length: 128 }, (_, i) => {
    const key = keyFixture(seedFor(10_000 + COUNT + i));
    const message = new TextEncoder().encode(canonicalize(challengeObject(COUNT + i))!);
    return { signature: nodeSignature(message, key), message, publicKey: key.publicKey };
  });
  let preparedWindows: { signature: Uint8Array; message: Uint8Array; publicKey: PreparedPublicKey }[][] = [];
  const slabBefore = ed25519.preparedKeysLayout().maxBytes;
  const setup = (): void => {
    ed25519.configurePreparedKeys({ maxBytes: PREPARED_SLAB_BYTES });
    const items = preparedFixtures.map((f) => ({ ...f, publicKey: ed25519.preparePublicKey(f.publicKey) }));
    preparedWindows = [items.slice(0, KNOWN_KEYS_BATCH), items.slice(KNOWN_KEYS_BATCH, 2 * KNOWN_KEYS_BATCH)];
    if (!preparedWindows.every((w) => ed25519.verifyBatch(w).every((ok) => ok))) throw new Error("prepared-key batch sanity check failed");
  };
  const teardown = (): void => {
    ed25519.configurePreparedKeys({ maxBytes: slabBefore });
  };
  let p = 0;
  cases.push({
    name: preparedKeysName,
    opsPerCall: KNOWN_KEYS_BATCH,
    fn: () => {
      p ^= 1;
      keep(ed25519.verifyBatch(preparedWindows[p]).every(Boolean));
    },
  });
  return [{ title: BATCH_GROUP_TITLE, baseline: BATCH_BASELINE, cases, setup, teardown }];
}
