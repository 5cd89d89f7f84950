// The Ed25519 hot path allocates nothing per call: 10,000 sign + verify calls (both modes,
// accepting and rejecting) leave wasm linear memory at the same size, with the same buffer.
// The core runs under the stub runtime, whose bump allocator never frees: a per-call
// allocation of even a few bytes would exhaust the headroom after the I/O arena within these
// calls and force memory.grow, which detaches the old buffer and changes its length.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { createHash } from "node:crypto";
import { ed25519, isSmallOrderPublicKey, isValidPublicKey } from "../../src/ed25519.js";
import { ed25519 as noble } from "@noble/curves/ed25519.js";
import { sha512 } from "@noble/hashes/sha2.js";
import { argsBase, coreExports, heapU8, initSync, ioArenaBase, resetInstance, secretCall } from "../../src/wasm/instance.js";
import { ARGS_BYTES, ARG_SECRET } from "../../src/wasm/abi.js";
import { CHIO_WASM_BASE64 } from "../../src/generated/chio-wasm.js";
import { testModule, type TestCoreExports } from "../helpers/test-core.js";
import { L, concat, fromLE, le, nodeSign } from "../helpers/ed25519-oracles.js";
import { expandSeed, fixedBaseDigits, scalarLimbs } from "../helpers/secret-forms.js";
import { FIXED_BASE_ENTRIES, FIXED_BASE_ENTRY_BYTES, FIXED_BASE_ROWS, fixedBaseTable } from "../../scripts/gen-tables.js";

const CALLS = 10_000;
const MAX_MESSAGE = 1024;

test(`linear memory does not grow across ${CALLS} sign + verify calls`, () => {
  const seeds = Array.from({ length: 20 }, (_, i) => createHash("sha256").update(`memory seed ${i}`).digest());
  const messages = Array.from({ length: 64 }, (_, i) => new Uint8Array((i * 97) % (MAX_MESSAGE + 1)).fill(i));
  // A fresh instance: earlier suites in this process may have grown memory far beyond what
  // these calls need, which would leave room for allocations to go unnoticed.
  resetInstance();
  const publicKeys = seeds.map((seed) => ed25519.getPublicKey(seed));
  // Warm up with the largest message so the I/O arena already has the room every call needs.
  const largest = new Uint8Array(MAX_MESSAGE).fill(1);
  assert.ok(ed25519.verify(ed25519.sign(largest, seeds[0]), largest, publicKeys[0]));

  const memory = coreExports().memory;
  const bufferBefore = memory.buffer;
  const bytesBefore = memory.buffer.byteLength;
  // Room left after the arena's largest message: under 64 KiB, i.e. under 7 bytes per call.
  assert.ok(bytesBefore - (ioArenaBase() + MAX_MESSAGE) < 65536, "headroom is small enough to notice allocations");
  let accepted = 0;
  let rejected = 0;
  for (let i = 0; i < CALLS; i++) {
    const key = i % seeds.length; // more keys than the core's 16-entry caches hold
    const msg = messages[i % messages.length];
    const sig = ed25519.sign(msg, seeds[key]);
    const zip215 = (i & 1) === 1;
    if (i % 5 === 4) {
      sig[i % 64] ^= 1 << (i % 8); // a rejecting verification takes other paths
      if (!ed25519.verify(sig, msg, publicKeys[key], { zip215 })) rejected++;
    } else if (ed25519.verify(sig, msg, publicKeys[key], { zip215 })) {
      accepted++;
    }
  }
  assert.is(accepted, CALLS - CALLS / 5, "every untouched signature verifies");
  assert.is(rejected, CALLS / 5, "every signature with a flipped bit is rejected");
  assert.is(memory.buffer.byteLength, bytesBefore, "linear memory size unchanged");
  assert.ok(memory.buffer === bufferBefore, "no memory.grow (it would detach the old buffer)");
});


// The signing core caches seed-derived public keys (assembly/ed25519/key-cache.ts). Signing with a wrong
// public key next to a correct signature on the same message reveals the secret scalar, so a
// cached key that was overwritten in memory must never be used: each entry carries a check value
// and a hit that fails it is treated as a miss.
test("a corrupted cached public key is detected and never signed with", () => {
  resetInstance();
  const seed = createHash("sha256").update("cache integrity seed").digest();
  const msg = new TextEncoder().encode("signed twice");
  const expected = Buffer.from(nodeSign(seed, msg));
  const publicKey = ed25519.getPublicKey(seed); // fills the cache
  // Corrupt every copy of the public key in linear memory outside the argument block.
  const heap = heapU8();
  const argsStart = argsBase();
  let corrupted = 0;
  for (let at = 0; at + 32 <= heap.length; at++) {
    if (at >= argsStart && at < argsStart + 512) continue;
    if (heap[at] === publicKey[0] && Buffer.compare(heap.subarray(at, at + 32), publicKey) === 0) {
      heap[at + 31] ^= 0x40;
      corrupted++;
    }
  }
  assert.ok(corrupted >= 1, "the cached public key was found in memory");
  const signature = ed25519.sign(msg, seed);
  assert.equal(Buffer.from(signature), expected);
  assert.equal(ed25519.getPublicKey(seed), publicKey);
  // And the cache refills: the next signature is still right.
  assert.equal(Buffer.from(ed25519.sign(msg, seed)), expected);
});

// ---- Shared helpers for the tests below ---------------------------------------------------

/** Every offset where `needle` occurs in `heap` (outside the ARGS block unless `includeArgs`). */
function findAll(heap: Uint8Array, needle: Uint8Array, includeArgs = false): number[] {
  const args = includeArgs ? -ARGS_BYTES : argsBase();
  const found: number[] = [];
  for (let at = heap.indexOf(needle[0]); at >= 0 && at + needle.length <= heap.length; at = heap.indexOf(needle[0], at + 1)) {
    if (at >= args && at < args + ARGS_BYTES) continue;
    if (Buffer.compare(heap.subarray(at, at + needle.length), needle) === 0) found.push(at);
  }
  return found;
}

/**
 * The 120 bytes of the table entry that [a]B selects last (top digit of a, positive for a clamped
 * scalar): the fixed-base multiplication leaves a copy of it in its ENTRY scratch until wiped.
 */
function lastSelectedEntry(scalar: Uint8Array): Uint8Array {
  const top = new Int8Array(fixedBaseDigits(scalar).buffer)[FIXED_BASE_ROWS - 1];
  assert.ok(top > 0, "a clamped scalar's top digit is positive");
  const at = ((FIXED_BASE_ROWS - 1) * FIXED_BASE_ENTRIES + top - 1) * FIXED_BASE_ENTRY_BYTES;
  return new Uint8Array(fixedBaseTable().buffer).slice(at, at + 120);
}

// ---- Defect 9a: the scalar module's scratch is wiped after signing -------------------------
//
// sc_muladd computes S = r + k a from 21-bit limbs of a (the secret scalar) and r (the nonce),
// left in the scalar module's scratch. The 32-byte search of test/node/ed25519-edge.test.ts cannot
// see them there; this one looks for the limb form. (Removing sc_wipe_scratch() from
// wipe_secrets in assembly/ed25519/keygen.ts makes this test fail.)
test("no limb form of the secret scalar or the nonce is left in memory after signing", () => {
  resetInstance();
  const seed = createHash("sha256").update("limb wipe seed").digest();
  const msg = new TextEncoder().encode("limb wipe message");
  const { scalar, prefix } = expandSeed(seed);
  const nonce = le(fromLE(sha512(concat(prefix, msg))) % L);
  const secrets: [string, Uint8Array][] = [
    ["scalar a as 21-bit limbs", scalarLimbs(scalar)],
    ["nonce r as 21-bit limbs", scalarLimbs(nonce)],
  ];
  // positive control: the limb encoding matches what the module builds (the public S is also
  // an input to sc_muladd during verification, and is not wiped there)
  const sig = ed25519.sign(msg, seed);
  assert.equal(Buffer.from(sig), Buffer.from(noble.sign(msg, seed)));
  const publicKey = ed25519.getPublicKey(seed);
  assert.ok(ed25519.verify(sig, msg, publicKey));
  assert.ok(findAll(heapU8(), scalarLimbs(sig.slice(32))).length > 0, "the search finds S's limbs left by verification");
  for (const cached of [true, false]) {
    if (!cached) for (let i = 0; i < 20; i++) ed25519.getPublicKey(sha512(new Uint8Array([9, i])).slice(0, 32));
    ed25519.sign(msg, seed);
    const heap = heapU8();
    for (const [name, limbs] of secrets) assert.equal(findAll(heap, limbs), [], `${name} left in memory (${cached ? "cached" : "derived"} public key)`);
    // The digits of the base multiplications (scalar_mul/fixed_base.ts): [r]B, and [a]B when A is derived.
    assert.equal(findAll(heap, fixedBaseDigits(nonce)), [], "digits of r left in memory");
    assert.equal(findAll(heap, fixedBaseDigits(scalar)), [], "digits of a left in memory");
    // The entry [a]B selected last (it reveals a's top digit) is in the table only, not in scratch.
    if (!cached) assert.is(findAll(heap, lastSelectedEntry(scalar)).length, 1, "the last selected entry of [a]B left in scratch");
    assert.equal(findAll(heap, scalar), [], "scalar a left in memory");
  }
});

// ---- Defect 8: a signing call that does not return normally still leaves no secret ----------
//
// The core wipes its secrets at the end of each export; an engine exception thrown partway
// through (a stack-overflow RangeError when the call starts near the JS stack limit) skips that
// wipe. secretCall (src/wasm/instance.ts, used by sign/getPublicKey) then zeroes all of linear
// memory and drops the instance. Simulated deterministically: the library is run on the test
// build, whose test_sign_unwiped hook is signing without the final wipe, and the call throws a
// RangeError after it. (With the wipe in secretCall disabled this test fails.)
test("a signing call interrupted by a RangeError leaves no secret in wasm memory", () => {
  const seed = createHash("sha256").update("interrupted seed").digest();
  const msg = new TextEncoder().encode("interrupted message");
  const { scalar, prefix } = expandSeed(seed);
  const nonce = le(fromLE(sha512(concat(prefix, msg))) % L);
  const secrets: [string, Uint8Array][] = [
    ["seed", seed],
    ["clamped scalar", scalar],
    ["prefix", prefix],
    ["nonce r as limbs", scalarLimbs(nonce)],
    ["scalar a as limbs", scalarLimbs(scalar)],
    // the last base multiplication of a signature whose public key is not cached is [a]B
    ["scalar a as base-multiplication digits", fixedBaseDigits(scalar)],
  ];
  resetInstance();
  initSync(testModule()); // the library, on the test build (same code plus hooks)
  try {
    const run = (wrap: boolean): Uint8Array => {
      const x = coreExports<ReturnType<typeof coreExports> & TestCoreExports>();
      const memory = x.memory;
      heapU8().set(msg, ioArenaBase());
      heapU8().set(seed, argsBase() + ARG_SECRET);
      const interrupted = (len: number): void => {
        x.test_sign_unwiped(len);
        throw new RangeError("Maximum call stack size exceeded (simulated)");
      };
      if (wrap) assert.throws(() => secretCall(interrupted, msg.length), RangeError);
      else assert.throws(() => interrupted(msg.length), RangeError);
      return new Uint8Array(memory.buffer);
    };
    // Positive control: without secretCall the secrets are all there (and the signature is right).
    const left = run(false);
    for (const [name, bytes] of secrets) assert.ok(findAll(left, bytes, true).length > 0, `control: ${name} present`);
    assert.is(findAll(left, lastSelectedEntry(scalar), true).length, 2, "control: the table entry and its selected copy");
    resetInstance();
    initSync(testModule());
    const after = run(true);
    for (const [name, bytes] of secrets) assert.equal(findAll(after, bytes, true), [], `${name} left in memory`);
    // The instance was dropped: the next call gets a fresh one and signs correctly.
    assert.ok(coreExports().memory.buffer !== after.buffer);
    assert.equal(Buffer.from(ed25519.sign(msg, seed)), Buffer.from(noble.sign(msg, seed)));
  } finally {
    resetInstance();
    initSync(new WebAssembly.Module(Buffer.from(CHIO_WASM_BASE64, "base64")));
  }
});

// ---- Every secret-touching call: no byte of linear memory depends on the seed ---------------
//
// The searches above look for the forms a secret is known to take (seed, scalar, prefix, limbs,
// digits). This one needs no list of forms: the same calls are made on two fresh instances with
// two seeds, and the two memories must be equal byte for byte once the public outputs are masked
// out (the public key and signature in the ARGS block, the seed-tagged public-key cache entry and
// the tag and check value of its last look-up, assembly/ed25519/key-cache.ts). Anything else that
// differs was computed from the secret and left behind: a partial sum of a base multiplication in
// the group module's scratch (ADD_T0; removing ge_wipe_scratch() from wipe_secrets in
// assembly/ed25519/keygen.ts makes this test fail, and every search above still passes), the
// inversion chain's powers of R's Z, or a form nobody thought to search for. Error paths too: a
// prepared key whose slot fails its check, and a prepared key used after destroy().
const PK_CACHE_DOMAIN = new TextEncoder().encode("chio-trust/ed25519/public-key-cache/v1");
const PK_CHECK_DOMAIN = new TextEncoder().encode("chio-trust/ed25519/public-key-check/v1");

/** Linear memory after `calls(seed)` on a fresh instance, with the seed's public outputs zeroed (each must be found where expected). */
function memoryAfter(seed: Uint8Array, calls: (seed: Uint8Array) => void, cached: boolean): Uint8Array {
  resetInstance();
  calls(seed);
  const memory = new Uint8Array(coreExports().memory.buffer).slice();
  const publicKey = noble.getPublicKey(seed);
  const args = argsBase();
  memory.fill(0, args, args + 96); // ARG_PUBLIC_KEY (32) and ARG_SIGNATURE (64): outputs
  if (cached) {
    // The cache entry, tag (32) || public key (32) || check (16), and the tag and check value of
    // the last look-up (PK_TAG, PK_CHECK): one-way functions of the seed, public like the key.
    const tag = sha512(concat(PK_CACHE_DOMAIN, seed)).slice(0, 32);
    const check = sha512(concat(PK_CHECK_DOMAIN, seed, publicKey)).slice(0, 16);
    const entries = findAll(memory, concat(tag, publicKey, check));
    assert.is(entries.length, 1, "the cache entry of the seed");
    memory.fill(0, entries[0], entries[0] + 80);
    const tags = findAll(memory, tag);
    const checks = findAll(memory, check);
    assert.is(tags.length, 1, "the tag of the last look-up");
    assert.is(checks.length, 1, "the check value of the last look-up");
    memory.fill(0, tags[0], tags[0] + 32);
    memory.fill(0, checks[0], checks[0] + 16);
  }
  return memory;
}

/** The ranges where `a` and `b` differ, as "start-end" (adjacent differences within 16 bytes merged). */
function differences(a: Uint8Array, b: Uint8Array): string[] {
  assert.is(a.length, b.length, "the two instances' memories have one size");
  const ranges: [number, number][] = [];
  for (let i = 0; i < a.length; i++) {
    if (a[i] === b[i]) continue;
    const last = ranges[ranges.length - 1];
    if (last !== undefined && i - last[1] <= 16) last[1] = i;
    else ranges.push([i, i]);
  }
  return ranges.map(([start, end]) => `${start}-${end}`);
}

test("no byte of linear memory depends on the seed after signing, key derivation or a prepared key's use, error paths included", () => {
  const message = new Uint8Array(300).fill(0x5a); // three SHA-512 blocks with the prefix
  const cases: [string, (seed: Uint8Array) => void, boolean][] = [
    ["sign (public key derived)", (seed) => void ed25519.sign(message, seed), true],
    ["sign twice (public key from the cache)", (seed) => void (ed25519.sign(message, seed), ed25519.sign(message, seed)), true],
    ["getPublicKey", (seed) => void ed25519.getPublicKey(seed), true],
    ["getExtendedPublicKey", (seed) => void ed25519.utils.getExtendedPublicKey(seed), true],
    [
      "prepareSecretKey, sign, destroy, sign after destroy",
      (seed) => {
        const key = ed25519.prepareSecretKey(seed);
        ed25519.sign(message, key);
        key.destroy();
        key.destroy();
        assert.throws(() => ed25519.sign(message, key), (error: { code?: string }) => error.code === "KEY_DESTROYED");
      },
      false,
    ],
    // Prepared and destroyed without a signature: a signature recomputes the slot's check value
    // and wipes its digest, which would hide a preparation that left that digest behind.
    ["prepareSecretKey, destroy (never used)", (seed) => ed25519.prepareSecretKey(seed).destroy(), false],
    [
      "a prepared key whose slot fails its check",
      (seed) => {
        const key = ed25519.prepareSecretKey(seed);
        const heap = heapU8();
        const [slotPublicKey] = findAll(heap, key.publicKey);
        assert.ok(slotPublicKey !== undefined, "the slot's public key found");
        heap[slotPublicKey - 64] ^= 1; // the scalar's first byte (slot layout: a || prefix || A || check)
        assert.throws(() => ed25519.sign(message, key), (error: { code?: string }) => error.code === "PREPARED_KEY_CORRUPTED");
      },
      false,
    ],
  ];
  const seedA = createHash("sha256").update("memory differential A").digest();
  const seedB = createHash("sha256").update("memory differential B").digest();
  try {
    for (const [name, calls, cached] of cases) {
      assert.equal(differences(memoryAfter(seedA, calls, cached), memoryAfter(seedB, calls, cached)), [], `${name}: bytes that depend on the seed`);
    }
  } finally {
    resetInstance();
  }
});

// ---- Verification-cache integrity ------------------------------------------------------------
//
// The core caches decoded public keys with their odd-multiples tables (assembly/ed25519/key-cache.ts).
// An entry whose point and table belong to another key would make verify answer for that other
// key: replacing the victim's cached point with the attacker's lets the attacker's secret sign
// for the victim. Each entry carries a check value; a hit that fails it is decoded afresh.
const POINT_AND_TABLE_BYTES = 160 + 8 * 160; // p3 point + 8 cached odd multiples

/** A signature under the key bytes `victim` made with the secret scalar of another point (valid only if verify uses that point for `victim`). */
function forgeWithSwappedKey(victim: Uint8Array, attackerScalar: bigint, msg: Uint8Array): Uint8Array {
  const r = fromLE(sha512(concat(new TextEncoder().encode("forgery nonce"), msg))) % L;
  const R = noble.Point.BASE.multiply(r).toBytes();
  const k = fromLE(sha512(concat(R, victim, msg))) % L;
  return concat(R, le((r + k * attackerScalar) % L));
}

test("a cached verification key whose point and table were overwritten cannot change a verdict", () => {
  resetInstance();
  const victimSeed = createHash("sha256").update("victim seed").digest();
  const attackerSeed = createHash("sha256").update("attacker seed").digest();
  const victim = noble.getPublicKey(victimSeed);
  const attacker = noble.getPublicKey(attackerSeed);
  const attackerScalar = fromLE(expandSeed(attackerSeed).scalar) % L;
  const msg = new TextEncoder().encode("transfer everything");
  const valid = noble.sign(msg, victimSeed);
  const forged = forgeWithSwappedKey(victim, attackerScalar, msg);
  // Oracles: the forgery is invalid for the victim and its equation holds for the attacker's point.
  assert.not.ok(noble.verify(forged, msg, victim));
  const k = fromLE(sha512(concat(forged.slice(0, 32), victim, msg))) % L;
  assert.ok(noble.Point.BASE.multiply(fromLE(forged.slice(32))).equals(noble.Point.fromBytes(forged.slice(0, 32)).add(noble.Point.fromBytes(attacker).multiply(k))));
  // Fill the cache with both keys (verification only: the signing cache never sees them).
  assert.ok(ed25519.verify(valid, msg, victim));
  assert.not.ok(ed25519.verify(forged, msg, victim));
  assert.ok(ed25519.verify(noble.sign(msg, attackerSeed), msg, attacker));
  const heap = heapU8();
  const [victimEntry] = findAll(heap, victim);
  const [attackerEntry] = findAll(heap, attacker);
  assert.ok(victimEntry !== undefined && attackerEntry !== undefined, "both cache entries found");
  // The attacker's point and table copied over the victim's, key bytes (and check value) left alone.
  heap.copyWithin(victimEntry + 32, attackerEntry + 32, attackerEntry + 32 + POINT_AND_TABLE_BYTES);
  assert.not.ok(ed25519.verify(forged, msg, victim), "forgery accepted through the poisoned cache entry");
  assert.ok(ed25519.verify(valid, msg, victim), "valid signature after the entry was rebuilt");
  assert.not.ok(ed25519.verify(forged, msg, victim, { zip215: true }));
  // A single flipped byte anywhere in the point or table is also caught.
  for (const offset of [32, 32 + 80, 192, 192 + 700, 32 + POINT_AND_TABLE_BYTES - 1]) {
    heapU8()[victimEntry + offset] ^= 0x10;
    assert.ok(ed25519.verify(valid, msg, victim), `valid signature after flipping entry byte ${offset}`);
    assert.not.ok(ed25519.verify(forged, msg, victim), `forgery after flipping entry byte ${offset}`);
  }
  assert.ok(isValidPublicKey(victim));
  assert.not.ok(isSmallOrderPublicKey(victim));
});

test.run();
