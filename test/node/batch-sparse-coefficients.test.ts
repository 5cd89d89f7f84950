// The batch verifier's sparse coefficients (assembly/ed25519/sparse-coefficients.ts; README
// "Batch verification", step 4): under Straus's method each item's z_i is drawn as a width-4 NAF
// with 17 non-zero digits, the lowest at bit 0, from the item's 64-byte digest G_i. Checked here:
// the finite facts the soundness argument rests on (at least 2^128 coefficients, distinct mod L),
// the core's draws against a TypeScript implementation of the documented procedure on thousands
// of seeds, and real batches through the test build, whose coefficients are recomputed end to end
// with node:crypto (T, G_i, the draw) under a random source that leaves zeros, and under one that
// gives every item 16 bytes of its own (verifyBatch and verifyEnvelopeBatch), so that each ρ_i is
// seen to reach its own G_i whole.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { createHash, randomBytes } from "node:crypto";
import { ed25519 } from "../../src/ed25519.js";
import { verifyEnvelopeBatch } from "../../src/handshake/verify-envelope.js";
import { HANDSHAKE_SCHEMA, canonicalChallenge, envelopeText, type ChallengeFields } from "../helpers/envelope-builders.js";
import { L, fromLE, le, nodeSign } from "../helpers/ed25519-oracles.js";
import { coreExports, initSync, resetInstance } from "../../src/wasm/instance.js";
import { CHIO_WASM_BASE64 } from "../../src/generated/chio-wasm.js";
import { ARG_RESULT, TEST_HOOK_INPUT } from "../../src/wasm/abi.js";
import { testModule } from "../helpers/test-core.js";
import { withRandomSource } from "../helpers/random-source.js";
import { DIGITS, FREE_DIGITS, POSITIONS, SLOTS, WIDTH, batchCoefficientsHex, referenceDraw } from "../helpers/sparse-coefficients.js";


interface Hooks {
  readonly memory: WebAssembly.Memory;
  args_ptr(): number;
  io_base(): number;
  io_reserve(bytes: number): number;
  test_sparse_coefficient(): number;
  test_batch_coefficient(i: number): number;
  test_batch_term_digits(t: number): number;
  test_batch_checks_passed(): number;
  test_batch_checks_failed(): number;
  test_batch_cofactored_checks(): number;
}

function binomial(n: bigint, k: bigint): bigint {
  let r = 1n;
  for (let i = 0n; i < k; i++) r = (r * (n - i)) / (i + 1n);
  return r;
}

/** The value of a digit string, and the checks every coefficient's digits must pass. */
function checkedValue(digits: Int8Array, label: string): bigint {
  const positions: number[] = [];
  let z = 0n;
  for (let p = 0; p < 256; p++) {
    if (digits[p] === 0) continue;
    assert.ok(Math.abs(digits[p]) % 2 === 1 && Math.abs(digits[p]) <= 7, `${label}: digit ${digits[p]} at ${p} is odd and at most 7`);
    positions.push(p);
    z += BigInt(digits[p]) << BigInt(p);
  }
  assert.is(positions.length, DIGITS, `${label}: ${DIGITS} non-zero digits`);
  assert.is(positions[0], 0, `${label}: the lowest at bit 0 (z odd)`);
  assert.ok(positions[positions.length - 1] < POSITIONS, `${label}: all below bit ${POSITIONS}`);
  for (let j = 1; j < positions.length; j++) assert.ok(positions[j] - positions[j - 1] >= WIDTH, `${label}: digits ${WIDTH} apart`);
  return ((z % L) + L) % L;
}

/** Runs fn with a random source that writes zeros: every ρ_i is 0, as digestsOf assumes. */
const withZeroRandomSource = <T>(fn: () => T): T => withRandomSource((a) => a.fill(0), fn);

interface Item {
  signature: Uint8Array;
  message: Uint8Array;
  publicKey: Uint8Array;
}

function signed(seed: Buffer, message: Uint8Array): Item {
  return { signature: nodeSign(seed, message), message, publicKey: ed25519.getPublicKey(seed) };
}

/** i as a little-endian u32. */
const index = (i: number): Buffer => {
  const word = Buffer.alloc(4);
  word.writeUInt32LE(i);
  return word;
};

/**
 * The digests G_i = SHA-512(Z_DOMAIN || ρ_i || T || u32 i) the core derives for one wasm call whose
 * items (records, in order) are all candidates (README step 4); ρ_i = 0 unless `rho` gives them.
 */
function digestsOf(items: Item[], rho: (i: number) => Uint8Array = () => new Uint8Array(16)): Buffer[] {
  const transcript = createHash("sha512").update("chio-batch-t/v1");
  items.forEach((item, i) => {
    const k = fromLE(createHash("sha512").update(item.signature.subarray(0, 32)).update(item.publicKey).update(item.message).digest()) % L;
    transcript.update(index(i)).update(item.signature.subarray(32)).update(le(k));
  });
  const t = transcript.digest();
  return items.map((_, i) => {
    const r = rho(i);
    assert.is(r.length, 16);
    return createHash("sha512").update("chio-batch-z/v2").update(r).update(t).update(index(i)).digest();
  });
}

/**
 * Block b of a counting random source: 16 pseudo-random bytes (SHA-256 of b), so that no two
 * blocks agree in any byte range, none is zero, and a core that hashed only part of ρ_i (say 8
 * of its 16 bytes) or another item's block would get another G_i.
 */
const rhoOf = (b: number): Buffer => createHash("sha256").update("chio-test-rho").update(index(b)).digest().subarray(0, 16);

/**
 * A random source that writes rhoOf(0), rhoOf(1), ... into the bytes it is asked for, counting
 * 16-byte blocks across its calls: the JS side asks 16 bytes per item of a wasm call, in item
 * order, so item (or envelope) g of the whole batch should get rhoOf(g). `before(call)` runs at
 * the start of each non-empty call: from the second on, the previous wasm call has returned, and
 * its coefficients can be read before the next overwrites them.
 */
function countingSource(before: (call: number) => void): (a: Uint8Array) => Uint8Array {
  let blocks = 0;
  let calls = 0;
  return (a) => {
    if (a.length > 0) before(calls++);
    for (let at = 0; at < a.length; at += 16) a.set(rhoOf(blocks++).subarray(0, Math.min(16, a.length - at)), at);
    return a;
  };
}

/** z_i mod L (hex) as the core should draw it from G_i: sparse under Straus, G_i's first 16 bytes under Pippenger. */
const expectedCoefficient = (digest: Buffer, straus: boolean): string =>
  straus ? Buffer.from(le(referenceDraw(digest).z)).toString("hex") : digest.subarray(0, 16).toString("hex") + "00".repeat(16);

function withTestCore(fn: (hooks: Hooks) => void): void {
  resetInstance();
  initSync(testModule());
  try {
    fn(coreExports() as unknown as Hooks);
  } finally {
    resetInstance();
    initSync(new WebAssembly.Module(Buffer.from(CHIO_WASM_BASE64, "base64")));
  }
}

test("the soundness argument's finite facts: at least 2^128 coefficients, all distinct mod L", () => {
  assert.is(SLOTS, 200);
  const count = binomial(BigInt(SLOTS), BigInt(FREE_DIGITS)) * 8n ** BigInt(DIGITS);
  assert.ok(count >= 2n ** 128n, "C(200, 16) * 8^17 >= 2^128");
  assert.ok(count < 2n ** 129n, "and the figure the README gives, 2^128.16, is below 2^129");
  // The largest |z|: 7 at bits 0 and 248, 244, ..., 188 (the top 16 positions 4 apart).
  let largest = 7n;
  for (let j = 0; j < FREE_DIGITS; j++) largest += 7n << BigInt(POSITIONS - 1 - WIDTH * j);
  assert.ok(largest < 2n ** 251n && 2n ** 251n < L / 2n, "|z| < 2^251 < L/2: distinct integers are distinct mod L");
  // A width-4 NAF is unique: every string of a small analogue (16 positions) has its own value.
  const values = new Set<number>();
  let strings = 0;
  const walk = (p: number, value: number): void => {
    if (p >= 16) {
      strings++;
      values.add(value);
      return;
    }
    walk(p + 1, value); // a zero digit here
    for (const d of [-7, -5, -3, -1, 1, 3, 5, 7]) walk(p + WIDTH, value + d * 2 ** p); // a digit, then 3 zeros
  };
  walk(0, 0);
  assert.ok(strings > 10000);
  assert.is(values.size, strings, "distinct width-4 NAF strings are distinct integers");
});

test("the core draws each coefficient exactly as the documented procedure does (3,000 seeds and edge seeds)", () => {
  withTestCore((hooks) => {
    assert.is(hooks.io_reserve(288), 1);
    const input = hooks.args_ptr() + ARG_RESULT + TEST_HOOK_INPUT;
    const seeds = [new Uint8Array(64), new Uint8Array(64).fill(0xff), new Uint8Array(64).fill(0xb9)];
    for (let i = 0; i < 3000; i++) seeds.push(new Uint8Array(randomBytes(64)));
    let extended = 0;
    for (const seed of seeds) {
      new Uint8Array(hooks.memory.buffer).set(seed, input);
      const top = hooks.test_sparse_coefficient();
      const heap = new Uint8Array(hooks.memory.buffer);
      const base = hooks.io_base();
      const digits = new Int8Array(heap.slice(base, base + 256).buffer);
      const z = fromLE(heap.slice(base + 256, base + 288));
      const expected = referenceDraw(seed);
      const label = Buffer.from(seed).toString("hex").slice(0, 16);
      assert.equal(Array.from(digits), Array.from(expected.digits), `${label}: digits`);
      assert.is(z, expected.z, `${label}: value mod L`);
      assert.is(z, checkedValue(digits, label), `${label}: the digits' value`);
      assert.is(top, expected.top, `${label}: highest position`);
      if (expected.blocks > 1) extended++;
    }
    // A seed of 0xff bytes rejects every draw from its first block, so at least that one reads
    // the stream's later blocks (SHA-512 of the domain, the seed and the block's index).
    assert.ok(referenceDraw(new Uint8Array(64).fill(0xff)).blocks > 1);
    assert.ok(extended >= 1);
  });
});

test("a combined check by Straus's method weighs each R by the sparse coefficient derived for it, and passes", () => {
  withTestCore((hooks) => {
    // [name, items, whether the check is cofactored (a deferred key among the candidates)]
    // 22 seeds, each key under 11 or 12 items (tested once per call, so the check stays exact).
    const seeds = Array.from({ length: 22 }, () => randomBytes(32));
    const batches: [string, Item[], boolean][] = [
      ["64 under one key (exact check)", Array.from({ length: 64 }, (_, i) => signed(Buffer.alloc(32, 1), new Uint8Array(randomBytes(40 + i)))), false],
      ["24 keys new to the call (cofactored check)", Array.from({ length: 24 }, () => signed(randomBytes(32), new Uint8Array(randomBytes(50)))), true],
      // A full chunk under one key: 256 R terms in the preset terms' smaller scratch.
      ["256 under one key (exact check)", Array.from({ length: 256 }, (_, i) => signed(Buffer.alloc(32, 2), new Uint8Array(randomBytes(1 + (i % 90))))), false],
      // The most scratch Straus's method may take: 256 R terms and 22 key terms, weight 256 + 2 x 22 = 300.
      ["256 under 22 keys (exact check)", Array.from({ length: 256 }, (_, i) => signed(seeds[i % 22], new Uint8Array(randomBytes(20)))), false],
      // 100 keys new to the call: weight 100 + 2 x 100 = 300.
      ["100 keys new to the call (cofactored check)", Array.from({ length: 100 }, () => signed(randomBytes(32), new Uint8Array(randomBytes(30)))), true],
    ];
    for (const [name, items, cofactoredCheck] of batches) {
      const passed = hooks.test_batch_checks_passed();
      const failed = hooks.test_batch_checks_failed();
      const cofactored = hooks.test_batch_cofactored_checks();
      assert.equal(withZeroRandomSource(() => ed25519.verifyBatch(items)), items.map(() => true), name);
      assert.is(hooks.test_batch_checks_passed() - passed, 1, `${name}: one combined check, passed`);
      assert.is(hooks.test_batch_checks_failed() - failed, 0, name);
      assert.is(hooks.test_batch_cofactored_checks() - cofactored, cofactoredCheck ? 1 : 0, name);
      const digests = digestsOf(items);
      const heap = new Uint8Array(hooks.memory.buffer);
      const seen = new Set<bigint>();
      items.forEach((_, i) => {
        const at = hooks.test_batch_term_digits(i);
        const digits = new Int8Array(heap.slice(at, at + 256).buffer);
        const zAt = hooks.test_batch_coefficient(i);
        const z = fromLE(heap.slice(zAt, zAt + 32));
        const expected = referenceDraw(digests[i]);
        assert.equal(Array.from(digits), Array.from(expected.digits), `${name}, item ${i}: the digits drawn from G_i`);
        assert.is(z, expected.z, `${name}, item ${i}: z_i mod L`);
        assert.is(checkedValue(digits, `${name}, item ${i}`), z);
        seen.add(z);
      });
      assert.is(seen.size, items.length, `${name}: distinct coefficients`);
    }
  });
});

test("a combined check by Pippenger's method keeps uniform 128-bit coefficients: the first 16 bytes of G_i", () => {
  withTestCore((hooks) => {
    // Above Straus's weight of 300 (R terms + 2 x key terms): 101 keys new to the call (303), and
    // 256 items under 23 keys (302), each key under 11 or 12 items.
    const seeds = Array.from({ length: 23 }, () => randomBytes(32));
    const batches: [string, Item[]][] = [
      ["101 keys new to the call", Array.from({ length: 101 }, () => signed(randomBytes(32), new Uint8Array(randomBytes(32))))],
      ["256 under 23 keys", Array.from({ length: 256 }, (_, i) => signed(seeds[i % 23], new Uint8Array(randomBytes(20))))],
    ];
    for (const [name, items] of batches) {
      const passed = hooks.test_batch_checks_passed();
      assert.equal(withZeroRandomSource(() => ed25519.verifyBatch(items)), items.map(() => true), name);
      assert.is(hooks.test_batch_checks_passed() - passed, 1, name);
      const digests = digestsOf(items);
      const heap = new Uint8Array(hooks.memory.buffer);
      items.forEach((_, i) => {
        const at = hooks.test_batch_coefficient(i);
        assert.is(Buffer.from(heap.slice(at, at + 32)).toString("hex"), digests[i].subarray(0, 16).toString("hex") + "00".repeat(16), `${name}, item ${i}`);
      });
    }
  });
});

// The tests above give every item ρ_i = 0, and the broken-source suite (batch-broken-rng) checks
// fresh coefficients for a working source on one item only: a JS side that drew random bytes for
// the first item of a call alone, a core that hashed 8 of an item's 16 bytes, or an envelope batch
// that copied one envelope's bytes to every item would pass them all, leaving the other items'
// coefficients a function of the public inputs (predictable: a forger could then search for items
// whose errors cancel). Here each item gets its own known 16 bytes, and every item's z_i is
// recomputed from them.

test("verifyBatch: every item's z_i comes from its own 16 random bytes, whole (Straus, Pippenger, and both chunks of a 300-item batch)", () => {
  withTestCore((hooks) => {
    const seeds = Array.from({ length: 23 }, () => randomBytes(32));
    // [name, items, each chunk's method in order (true: Straus)]. Chunks are BATCH_MAX_ITEMS = 256 items.
    const batches: [string, Item[], boolean[]][] = [
      ["24 keys new to the call (Straus, weight 72)", Array.from({ length: 24 }, () => signed(randomBytes(32), new Uint8Array(randomBytes(40)))), [true]],
      ["101 keys new to the call (Pippenger, weight 303)", Array.from({ length: 101 }, () => signed(randomBytes(32), new Uint8Array(randomBytes(30)))), [false]],
      // Two wasm calls: items 256..299 are items 0..43 of the second, with ρ from blocks 256..299.
      ["300 under 23 keys: 256 (Pippenger, weight 302), then 44 (Straus, weight 90)", Array.from({ length: 300 }, (_, i) => signed(seeds[i % 23], new Uint8Array(randomBytes(20)))), [false, true]],
    ];
    for (const [name, items, methods] of batches) {
      const chunks = methods.map((straus, k) => ({ start: 256 * k, end: Math.min(items.length, 256 * (k + 1)), straus }));
      // Each chunk's coefficients, read when the next chunk asks for its random bytes (its wasm
      // call has returned by then), and the last chunk's after the batch.
      const seen: string[][] = [];
      const snapshot = (): void => {
        assert.ok(seen.length < chunks.length, `${name}: one wasm call per chunk`);
        seen.push(batchCoefficientsHex(hooks, chunks[seen.length].end - chunks[seen.length].start));
      };
      const passed = hooks.test_batch_checks_passed();
      const got = withRandomSource(countingSource((call) => { if (call > 0) snapshot(); }), () => ed25519.verifyBatch(items));
      snapshot();
      assert.equal(got, items.map(() => true), name);
      assert.is(hooks.test_batch_checks_passed() - passed, chunks.length, `${name}: one combined check per chunk, passed`);
      chunks.forEach((chunk, k) => {
        const chunkItems = items.slice(chunk.start, chunk.end);
        const digests = digestsOf(chunkItems, (t) => rhoOf(chunk.start + t));
        chunkItems.forEach((_, t) => {
          assert.is(seen[k][t], expectedCoefficient(digests[t], chunk.straus), `${name}, item ${chunk.start + t} (call ${k}, record ${t}): z_i from its own ρ_i`);
        });
      });
    }
  });
});

test("verifyEnvelopeBatch: every envelope's z_i comes from its own 16 random bytes (two calls of 256 and 44, Pippenger then Straus)", () => {
  withTestCore((hooks) => {
    const encoder = new TextEncoder();
    // Envelopes 3 and 270 do not parse, so they get no batch item: from there on an envelope's
    // record index is one below its own, and its ρ must still be its envelope's (envelope-batch.ts
    // copies the entry's bytes into the item, not the first entry's nor the record's neighbour's).
    const malformed = new Set([3, 270]);
    const items: (Item | undefined)[] = [];
    const envelopes = Array.from({ length: 300 }, (_, e) => {
      if (malformed.has(e)) {
        items.push(undefined);
        return encoder.encode("{}");
      }
      // The batch item of an envelope: its signature (node:crypto) over the canonical challenge, under a key of its own.
      const c: ChallengeFields = { schema: HANDSHAKE_SCHEMA, localKernelId: `kernel-${e}`, remoteKernelId: "kernel-local", nonce: randomBytes(8).toString("hex"), timestamp: 1764000000 };
      const item = signed(randomBytes(32), canonicalChallenge(c));
      items.push(item);
      return encoder.encode(envelopeText(c, item.publicKey, item.signature));
    });
    // Calls of BATCH_MAX_ITEMS envelopes: 255 items under 255 keys (weight 765, Pippenger), then 43 under 43 (weight 129, Straus).
    const calls = [{ start: 0, end: 256, straus: false }, { start: 256, end: 300, straus: true }];
    const owners = calls.map(({ start, end }) => Array.from({ length: end - start }, (_, k) => start + k).filter((e) => !malformed.has(e)));
    const seen: string[][] = [];
    const snapshot = (): void => {
      assert.ok(seen.length < calls.length, "one wasm call per 256 envelopes");
      seen.push(batchCoefficientsHex(hooks, owners[seen.length].length));
    };
    const passed = hooks.test_batch_checks_passed();
    const verdicts = withRandomSource(countingSource((call) => { if (call > 0) snapshot(); }), () => verifyEnvelopeBatch(envelopes));
    snapshot();
    verdicts.forEach((v, e) => assert.is(v.ok, !malformed.has(e), `envelope ${e}`));
    assert.is(hooks.test_batch_checks_passed() - passed, calls.length, "one combined check per call, passed");
    calls.forEach((call, k) => {
      // T and k_i over the call's items, in record order; G_i with the record's index and its envelope's ρ.
      const digests = digestsOf(owners[k].map((e) => items[e] as Item), (t) => rhoOf(owners[k][t]));
      owners[k].forEach((e, t) => {
        assert.is(seen[k][t], expectedCoefficient(digests[t], call.straus), `envelope ${e} (call ${k}, record ${t}): z_i from its own ρ_i`);
      });
    });
  });
});

test.run();
