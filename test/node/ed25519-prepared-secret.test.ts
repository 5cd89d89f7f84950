// Prepared secret keys (src/prepared-secret-key.ts, assembly/ed25519/prepared-secret.ts):
// signatures equal node:crypto's, the slot is wiped by destroy() and by the FinalizationRegistry,
// a full slab is a typed error, a corrupted slot never signs under a wrong A, keys do not survive
// an instance rebuilt after a trap (typed error), and Keypair signs through a prepared key.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { createHash, getRandomValues } from "node:crypto";
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { sha512 } from "@noble/hashes/sha2.js";
import { ed25519, PreparedSecretKey, PREPARED_SECRET_KEY_CAPACITY } from "../../src/ed25519.js";
import { PreparedSecretKeyError } from "../../src/errors.js";
import { Keypair } from "../../src/handshake/keys.js";
import { argsBase, guarded, heapU8, liveCoreExports, resetInstance, type CoreExports } from "../../src/wasm/instance.js";
import {
  ARGS_BYTES, ARG_PUBLIC_KEY, ARG_SECRET, ARG_SIGNATURE, PREPARED_BAD_SLOT, PREPARED_CORRUPTED, PREPARED_OK, PREPARED_SECRET_SLOTS,
} from "../../src/wasm/abi.js";
import { fromLE, nodePublicKeyBytes, nodeSign } from "../helpers/ed25519-oracles.js";
import { rejectsWithCode, throwsWith } from "../helpers/assert-codes.js";
import { scaled } from "../helpers/scale.js";
import { expandSeed, scalarLimbs } from "../helpers/secret-forms.js";

const seedOf = (label: string): Uint8Array => new Uint8Array(createHash("sha256").update(label).digest());
const hex = (b: Uint8Array): string => Buffer.from(b).toString("hex");

/** Every offset where `needle` occurs in the library's linear memory, outside the ARGS block. */
function findAll(needle: Uint8Array): number[] {
  const heap = heapU8();
  const args = argsBase();
  const found: number[] = [];
  for (let at = heap.indexOf(needle[0]); at >= 0 && at + needle.length <= heap.length; at = heap.indexOf(needle[0], at + 1)) {
    if (at >= args && at < args + ARGS_BYTES) continue;
    if (Buffer.compare(heap.subarray(at, at + needle.length), needle) === 0) found.push(at);
  }
  return found;
}

// Start from a fresh instance: every slot free, whatever keys earlier suites left to the GC
// (their Keypairs re-prepare or sign from the seed, see src/handshake/keys.ts).
test.before(() => resetInstance());

const MESSAGE_LENGTHS = [0, 1, 31, 64, 111, 112, 127, 128, 169, 1000, 5000];

test(`signatures under prepared keys equal node:crypto's (${scaled(48)} seeds × ${MESSAGE_LENGTHS.length} message lengths), sync and async`, async () => {
  for (let i = 0; i < scaled(48); i++) {
    const seed = i < 2 ? new Uint8Array(32).fill(i * 255) : getRandomValues(new Uint8Array(32));
    const key = ed25519.prepareSecretKey(seed);
    try {
      assert.is(hex(key.publicKey), hex(nodePublicKeyBytes(seed)), `public key of seed ${i}`);
      assert.is(hex(key.publicKey), hex(ed25519.getPublicKey(seed)));
      for (const length of MESSAGE_LENGTHS) {
        const message = getRandomValues(new Uint8Array(length));
        const expected = hex(nodeSign(seed, message));
        assert.is(hex(ed25519.sign(message, key)), expected, `seed ${i}, ${length} bytes`);
        if (length === 169) assert.is(hex(await ed25519.signAsync(message, key)), expected, "signAsync");
      }
    } finally {
      key.destroy();
    }
  }
});

test("256 keys in rotation: every signature equals node:crypto's, interleaved with seed signing", () => {
  const seeds = Array.from({ length: 256 }, (_, i) => seedOf(`rotation ${i}`));
  const keys = seeds.map((seed) => ed25519.prepareSecretKey(seed));
  try {
    for (let round = 0; round < 3; round++) {
      for (let i = 0; i < seeds.length; i++) {
        const message = new TextEncoder().encode(`round ${round} message ${i}`);
        const expected = hex(nodeSign(seeds[i], message));
        assert.is(hex(ed25519.sign(message, keys[i])), expected, `key ${i} round ${round}`);
        if (i % 17 === 0) assert.is(hex(ed25519.sign(message, seeds[(i * 7) % 256])), hex(nodeSign(seeds[(i * 7) % 256], message)));
      }
    }
  } finally {
    for (const key of keys) key.destroy();
  }
});

test("publicKey hands out copies; toJSON/toString/inspect show only the public key", () => {
  const seed = seedOf("copies");
  const key = ed25519.prepareSecretKey(seed);
  const pk = key.publicKey;
  pk.fill(0);
  assert.is(hex(key.publicKey), hex(nodePublicKeyBytes(seed)));
  const { scalar, prefix } = expandSeed(seed);
  const shown = JSON.stringify(key) + String(key) + Object.keys(key).join();
  for (const secret of [seed, scalar, prefix]) assert.not.ok(shown.includes(hex(secret)), "no secret in the JS representations");
  assert.ok(shown.includes(hex(nodePublicKeyBytes(seed))));
  key.destroy();
});

test("toJSON/toString/inspect hand the key's own public-key array to no caller code (a replaced typed-array iterator)", () => {
  const seed = seedOf("iterator");
  const key = ed25519.prepareSecretKey(seed);
  const expected = hex(nodePublicKeyBytes(seed));
  const typedArrayPrototype = Object.getPrototypeOf(Uint8Array.prototype) as { [Symbol.iterator]: (this: Uint8Array) => Iterator<number> };
  const values = typedArrayPrototype[Symbol.iterator];
  const seen: Uint8Array[] = [];
  typedArrayPrototype[Symbol.iterator] = function (this: Uint8Array) {
    seen.push(this);
    this.fill(0); // what a hostile iterator would do with the array it is handed
    return values.call(this);
  };
  let shown: string;
  try {
    shown = JSON.stringify(key) + String(key) + key[Symbol.for("nodejs.util.inspect.custom") as keyof typeof key];
  } finally {
    typedArrayPrototype[Symbol.iterator] = values;
  }
  assert.equal(seen, [], "no array handed to the replaced iterator");
  assert.ok(shown.includes(expected));
  assert.is(hex(key.publicKey), expected, "the public key is unchanged");
  const message = new TextEncoder().encode("after toString");
  assert.is(hex(ed25519.sign(message, key)), hex(nodeSign(seed, message)), "the key still signs");
  key.destroy();
});

test("FinalizationRegistry's register and unregister replaced after load are never called: they were handed the slot reference of each key", () => {
  const message = new TextEncoder().encode("victim");
  const victimSeed = seedOf("register victim");
  const registryPrototype = FinalizationRegistry.prototype as {
    register(target: object, held: unknown, token?: object): void;
    unregister(token: object): boolean;
  };
  const { register, unregister } = registryPrototype;
  const refs: { slot: number; generation: number; epoch: number }[] = [];
  let unregistered = 0;
  registryPrototype.register = function (this: FinalizationRegistry<unknown>, target: object, held: unknown, token?: object) {
    if (held !== null && typeof held === "object" && "slot" in held) refs.push(held as (typeof refs)[number]);
    return register.call(this, target, held, token);
  };
  registryPrototype.unregister = function (this: FinalizationRegistry<unknown>, token: object) {
    unregistered++;
    return unregister.call(this, token);
  };
  let victim: PreparedSecretKey;
  let attacker: PreparedSecretKey;
  try {
    victim = ed25519.prepareSecretKey(victimSeed);
    attacker = ed25519.prepareSecretKey(seedOf("register attacker"));
    // What caller code could do with the references it was handed: point the attacker's at the victim's slot.
    if (refs.length === 2) Object.assign(refs[1], refs[0]);
    attacker.destroy();
  } finally {
    registryPrototype.register = register;
    registryPrototype.unregister = unregister;
  }
  assert.is(refs.length, 0, "no slot reference handed to caller code");
  assert.is(unregistered, 0, "the replaced unregister never ran");
  assert.ok(victim.usable, "the victim's key is still usable");
  assert.is(hex(ed25519.sign(message, victim)), hex(nodeSign(victimSeed, message)));
  victim.destroy();
});

test("after preparation the seed is gone from wasm memory and the expanded key exists once (in its slot); destroy() wipes it", () => {
  const seed = seedOf("wipe on destroy");
  const { scalar, prefix } = expandSeed(seed);
  const key = ed25519.prepareSecretKey(seed);
  assert.equal(findAll(seed), [], "seed left in memory");
  assert.is(findAll(scalar).length, 1, "the slot holds the scalar (positive control of the search)");
  assert.is(findAll(prefix).length, 1, "the slot holds the prefix");
  assert.is(findAll(prefix)[0] - findAll(scalar)[0], 32, "scalar || prefix");
  const message = new TextEncoder().encode("limbs");
  assert.is(hex(ed25519.sign(message, key)), hex(nodeSign(seed, message)));
  assert.equal(findAll(scalarLimbs(scalar)), [], "limb form of the scalar left after signing");
  key.destroy();
  for (const [name, secret] of [["scalar", scalar], ["prefix", prefix], ["scalar limbs", scalarLimbs(scalar)], ["prefix limbs", scalarLimbs(prefix)]] as const) {
    assert.equal(findAll(secret), [], `${name} left in memory after destroy()`);
  }
  key.destroy(); // idempotent
});

test("use after destroy throws KEY_DESTROYED (sign and signAsync); the public key stays readable", async () => {
  const seed = seedOf("use after destroy");
  const key = ed25519.prepareSecretKey(seed);
  key.destroy();
  assert.not.ok(key.usable);
  const error = throwsWith(() => ed25519.sign(new Uint8Array(3), key), "KEY_DESTROYED");
  assert.instance(error, PreparedSecretKeyError);
  await rejectsWithCode(ed25519.signAsync(new Uint8Array(3), key), "KEY_DESTROYED");
  assert.is(hex(key.publicKey), hex(nodePublicKeyBytes(seed)));
});

test("bad arguments are typed errors: seeds of the wrong type or length, Proxies and look-alikes of a prepared key, bad messages", () => {
  throwsWith(() => ed25519.prepareSecretKey(new Uint8Array(31)), "INVALID_LENGTH");
  throwsWith(() => ed25519.prepareSecretKey("00".repeat(32) as unknown as Uint8Array), "INVALID_TYPE");
  throwsWith(() => ed25519.prepareSecretKey(new Uint16Array(32) as unknown as Uint8Array), "INVALID_TYPE");
  const key = ed25519.prepareSecretKey(seedOf("bad arguments"));
  const proxy = new Proxy(key, {});
  assert.ok(proxy instanceof PreparedSecretKey, "the Proxy passes instanceof");
  throwsWith(() => ed25519.sign(new Uint8Array(1), proxy), "INVALID_TYPE");
  throwsWith(() => ed25519.sign(new Uint8Array(1), Object.create(PreparedSecretKey.prototype)), "INVALID_TYPE");
  throwsWith(() => ed25519.sign("text" as unknown as Uint8Array, key), "INVALID_TYPE");
  const detached = new Uint8Array(new ArrayBuffer(8));
  structuredClone(detached.buffer, { transfer: [detached.buffer] });
  throwsWith(() => ed25519.sign(detached, key), "INVALID_TYPE");
  assert.ok(key.usable, "failed calls leave the key usable");
  const message = new Uint8Array([1, 2, 3]);
  assert.is(hex(ed25519.sign(message, key)), hex(nodeSign(seedOf("bad arguments"), message)));
  key.destroy();
});

test("aliasing: zeroing or reusing the seed buffer (also a Buffer view) after preparation changes nothing", () => {
  const seed = seedOf("aliasing");
  const pool = Buffer.alloc(96);
  pool.set(seed, 32);
  const view = pool.subarray(32, 64); // a Buffer view into a larger pool
  const key = ed25519.prepareSecretKey(view);
  pool.fill(0);
  const message = new TextEncoder().encode("aliased");
  assert.is(hex(ed25519.sign(message, key)), hex(nodeSign(seed, message)));
  assert.is(hex(key.publicKey), hex(nodePublicKeyBytes(seed)));
  key.destroy();
});

test(`a full slab (${PREPARED_SECRET_KEY_CAPACITY} live keys) is PREPARED_KEYS_EXHAUSTED; destroying one frees a slot; Keypair falls back to seed signing`, () => {
  resetInstance(); // a fresh instance: every slot free, whatever earlier suites left alive
  const keys: PreparedSecretKey[] = [];
  try {
    for (let i = 0; i < PREPARED_SECRET_KEY_CAPACITY / 2; i++) keys.push(ed25519.prepareSecretKey(seedOf(`full ${i}`)));
    // Keypairs leave the last half of the slab to explicit callers: this one signs from its seed.
    const halfSeed = seedOf("keypair on a half-full slab");
    const halfKeypair = Keypair.fromSeed(halfSeed);
    assert.equal(findAll(expandSeed(halfSeed).scalar), [], "no slot taken by the keypair");
    const m = new Uint8Array([7]);
    assert.is(halfKeypair.sign(m).toHex(), hex(nodeSign(halfSeed, m)));
    for (let i = PREPARED_SECRET_KEY_CAPACITY / 2; i < PREPARED_SECRET_KEY_CAPACITY; i++) keys.push(ed25519.prepareSecretKey(seedOf(`full ${i}`)));
    const error = throwsWith(() => ed25519.prepareSecretKey(seedOf("one too many")), "PREPARED_KEYS_EXHAUSTED");
    assert.instance(error, PreparedSecretKeyError);
    const message = new TextEncoder().encode("full slab");
    const keypair = Keypair.fromSeed(seedOf("keypair on a full slab"));
    assert.is(keypair.sign(message).toHex(), hex(nodeSign(seedOf("keypair on a full slab"), message)));
    keys[100].destroy();
    const again = ed25519.prepareSecretKey(seedOf("one too many"));
    assert.is(hex(ed25519.sign(message, again)), hex(nodeSign(seedOf("one too many"), message)));
    keys[100] = again;
    // every key still signs correctly: no slot was shared or overwritten
    for (const i of [0, 1, 99, 101, PREPARED_SECRET_KEY_CAPACITY - 1]) {
      assert.is(hex(ed25519.sign(message, keys[i])), hex(nodeSign(seedOf(`full ${i}`), message)), `key ${i}`);
    }
  } finally {
    for (const key of keys) key.destroy();
  }
});

/** The offset of the slot of a key prepared from `seed` (found by its scalar). */
function slotOf(seed: Uint8Array): number {
  const found = findAll(expandSeed(seed).scalar);
  assert.is(found.length, 1, "the slot is found");
  return found[0];
}

/** The slot's check value as the core computes it (assembly/ed25519/prepared-secret.ts). */
function slotCheck(scalarPrefixA: Uint8Array): Uint8Array {
  const domain = new TextEncoder().encode("chio-sk-slot/v1");
  return sha512(Buffer.concat([domain, scalarPrefixA])).slice(0, 16);
}

const CORRUPTIONS: [string, (heap: Uint8Array, slot: number) => void][] = [
  ["a byte of A", (heap, slot) => void (heap[slot + 64 + 5] ^= 0x01)],
  ["the top bit of A (sign of x)", (heap, slot) => void (heap[slot + 95] ^= 0x80)],
  ["a byte of the scalar", (heap, slot) => void (heap[slot + 7] ^= 0x10)],
  ["a byte of the prefix", (heap, slot) => void (heap[slot + 40] ^= 0x02)],
  ["a byte of the check value", (heap, slot) => void (heap[slot + 100] ^= 0x04)],
  [
    "A replaced by another key's A, with a check value recomputed to match",
    (heap, slot) => {
      heap.set(nodePublicKeyBytes(seedOf("another key")), slot + 64);
      heap.set(slotCheck(heap.slice(slot, slot + 96)), slot + 96);
    },
  ],
  [
    "the whole slot replaced by another key's consistent slot",
    (heap, slot) => {
      const other = seedOf("another key");
      const { scalar, prefix } = expandSeed(other);
      const body = Buffer.concat([scalar, prefix, nodePublicKeyBytes(other)]);
      heap.set(body, slot);
      heap.set(slotCheck(body), slot + 96);
    },
  ],
];

for (const [what, corrupt] of CORRUPTIONS) {
  test(`a slot with ${what} signs nothing (PREPARED_KEY_CORRUPTED) and is wiped`, () => {
    const seed = seedOf(`corruption: ${what}`);
    const message = new TextEncoder().encode("signed twice");
    const key = ed25519.prepareSecretKey(seed);
    assert.is(hex(ed25519.sign(message, key)), hex(nodeSign(seed, message)), "control: the intact slot signs");
    const slot = slotOf(seed);
    corrupt(heapU8(), slot);
    throwsWith(() => ed25519.sign(message, key), "PREPARED_KEY_CORRUPTED");
    assert.equal(Buffer.from(heapU8().subarray(slot, slot + 112)), Buffer.alloc(112), "slot zeroed");
    assert.not.ok(key.usable);
    throwsWith(() => ed25519.sign(message, key), "KEY_DESTROYED");
    key.destroy();
    // the freed slot is reusable and other keys are unaffected
    const fresh = ed25519.prepareSecretKey(seed);
    assert.is(hex(ed25519.sign(message, fresh)), hex(nodeSign(seed, message)));
    fresh.destroy();
  });
}

/** The core's prepared-secret exports (assembly/ed25519/prepared-secret.ts), called directly. */
interface PreparedSecretExports extends CoreExports {
  ed25519_prepare_secret(slot: number): number;
  ed25519_sign_prepared(slot: number, msgLen: number): number;
}

// The tests above see the slot zeroed after ed25519.sign() returned, by which time the JS side
// has also released it (ed25519_destroy_prepared): they pass whether or not the core wipes a
// failing slot itself. The core's own guarantee (prepared-secret.ts: "a mismatch wipes the slot
// and signs nothing"), and its wipe of a seed handed with a slot index outside the slab, are
// checked here on the exports directly.
test("the core itself wipes a slot that fails its check and signs nothing; a slot index outside the slab is refused and the seed handed with it wiped", () => {
  resetInstance(); // a fresh slab: the first key prepared takes slot 0 (src/prepared-secret-key.ts)
  const seed = seedOf("the core's own wipe");
  const key = ed25519.prepareSecretKey(seed);
  const x = liveCoreExports<PreparedSecretExports>()!;
  const args = argsBase();
  const slot = slotOf(seed);
  const signature = (): Buffer => Buffer.from(heapU8().subarray(args + ARG_SIGNATURE, args + ARG_SIGNATURE + 64));
  const signDirectly = (index: number): number => {
    heapU8().set(key.publicKey, args + ARG_PUBLIC_KEY);
    heapU8().fill(0xaa, args + ARG_SIGNATURE, args + ARG_SIGNATURE + 64);
    return x.ed25519_sign_prepared(index, 0);
  };
  assert.is(signDirectly(0), PREPARED_OK, "control: slot 0 holds the key");
  assert.is(signature().toString("hex"), hex(nodeSign(seed, new Uint8Array(0))), "control: it signs the empty message as node:crypto does");
  for (const index of [PREPARED_SECRET_SLOTS, 0xffffffff]) {
    assert.is(signDirectly(index), PREPARED_BAD_SLOT, `sign with slot ${index}`);
    assert.equal(signature(), Buffer.alloc(64, 0xaa), `slot ${index}: nothing signed`);
  }
  heapU8()[slot + 7] ^= 0x10; // a byte of the scalar
  assert.is(signDirectly(0), PREPARED_CORRUPTED);
  assert.equal(Buffer.from(heapU8().subarray(slot, slot + 112)), Buffer.alloc(112), "the core zeroed the slot before returning");
  assert.equal(signature(), Buffer.alloc(64, 0xaa), "nothing signed");
  throwsWith(() => ed25519.sign(new Uint8Array(1), key), "PREPARED_KEY_CORRUPTED");
  key.destroy();
  for (const index of [PREPARED_SECRET_SLOTS, 0xffffffff]) {
    heapU8().set(seed, args + ARG_SECRET);
    assert.is(x.ed25519_prepare_secret(index), PREPARED_BAD_SLOT, `prepare into slot ${index}`);
    assert.equal(Buffer.from(heapU8().subarray(args + ARG_SECRET, args + ARG_SECRET + 32)), Buffer.alloc(32), `slot ${index}: the seed wiped`);
  }
  assert.equal(findAll(expandSeed(seed).scalar), [], "no expanded key left anywhere");
});

test("a trap rebuilds the instance: prepared keys are lost (PREPARED_KEY_LOST), new ones work, Keypair re-prepares", () => {
  const seed = seedOf("trap");
  const message = new TextEncoder().encode("after the trap");
  const key = ed25519.prepareSecretKey(seed);
  const keypair = Keypair.fromSeed(seed);
  assert.is(keypair.sign(message).toHex(), hex(nodeSign(seed, message)));
  // What src/wasm/instance.ts guarded() does on a trap: zero the memory, drop the instance.
  const trapped = throwsWith(() => guarded(() => { throw new WebAssembly.RuntimeError("unreachable (simulated trap)"); }), "WASM_TRAP");
  assert.ok(trapped);
  throwsWith(() => ed25519.sign(message, key), "PREPARED_KEY_LOST");
  assert.not.ok(key.usable);
  key.destroy(); // harmless on a lost key
  assert.is(keypair.sign(message).toHex(), hex(nodeSign(seed, message)), "Keypair re-prepared from its seed");
  assert.is(findAll(expandSeed(seed).scalar).length, 1, "Keypair signs through a fresh prepared slot");
  const again = ed25519.prepareSecretKey(seed);
  assert.is(hex(ed25519.sign(message, again)), hex(nodeSign(seed, message)));
  again.destroy();
  keypair.destroy();
});

// In the test above the lost key's slot had been used before (a generation above 0), so the
// generation alone told it apart from the new instance's slot. Here both are generation 0 of
// slot 0: only the instance epoch says the old key is lost. Taken for the new slot's owner, it
// would reach the core with its own A, fail the check there and wipe the new key's slot.
test("a key lost to a trap is lost even where the new instance's slot has its index and generation: the key prepared there keeps signing", () => {
  resetInstance(); // a fresh slab: slot 0 first, every generation 0
  const old = ed25519.prepareSecretKey(seedOf("before the trap"));
  throwsWith(() => guarded(() => { throw new WebAssembly.RuntimeError("unreachable (simulated trap)"); }), "WASM_TRAP");
  const seed = seedOf("after the trap");
  const fresh = ed25519.prepareSecretKey(seed); // slot 0 of the new instance, generation 0
  const message = new TextEncoder().encode("one slot index, two instances");
  throwsWith(() => ed25519.sign(message, old), "PREPARED_KEY_LOST");
  assert.not.ok(old.usable);
  old.destroy();
  assert.ok(fresh.usable);
  assert.is(hex(ed25519.sign(message, fresh)), hex(nodeSign(seed, message)), "the new key's slot is intact");
  fresh.destroy();
});

// A slot whose check failed is wiped by the core and must also go back to the free list: the
// key is retired (its destroy() then does nothing), so nothing else would ever free it.
test("a slot that failed its check is freed: the whole slab can be prepared again", () => {
  resetInstance();
  const seed = seedOf("freed after its check failed");
  const key = ed25519.prepareSecretKey(seed);
  heapU8()[slotOf(seed) + 7] ^= 0x10; // a byte of the scalar
  throwsWith(() => ed25519.sign(new Uint8Array(1), key), "PREPARED_KEY_CORRUPTED");
  key.destroy();
  const keys: PreparedSecretKey[] = [];
  try {
    for (let i = 0; i < PREPARED_SECRET_KEY_CAPACITY; i++) keys.push(ed25519.prepareSecretKey(seedOf(`refill ${i}`)));
    throwsWith(() => ed25519.prepareSecretKey(seedOf("one too many")), "PREPARED_KEYS_EXHAUSTED");
  } finally {
    for (const k of keys) k.destroy();
  }
  assert.is(keys.length, PREPARED_SECRET_KEY_CAPACITY);
});

test("after a trap, usable and destroy() of a lost key start no instance (review 70 F5)", () => {
  const key = ed25519.prepareSecretKey(seedOf("lost, no instance"));
  throwsWith(() => guarded(() => { throw new WebAssembly.RuntimeError("unreachable (simulated trap)"); }), "WASM_TRAP");
  assert.is(liveCoreExports(), undefined, "the trap dropped the instance");
  assert.not.ok(key.usable);
  key.destroy();
  assert.is(liveCoreExports(), undefined, "usable and destroy() left it dropped");
  // The next call that needs the core starts one, and the key stays lost on it.
  throwsWith(() => ed25519.sign(new Uint8Array(1), key), "KEY_DESTROYED");
});

test("Keypair signs through a prepared key; destroy() wipes the slot and the seed, then sign/seedBytes throw KEY_DESTROYED", () => {
  const seed = seedOf("keypair prepared");
  const { scalar, prefix } = expandSeed(seed);
  const keypair = Keypair.fromSeed(seed);
  assert.is(findAll(scalar).length, 1, "the expanded key sits in a slot");
  const message = new TextEncoder().encode("keypair");
  assert.is(keypair.sign(message).toHex(), hex(nodeSign(seed, message)));
  assert.is(hex(keypair.seedBytes()), hex(seed));
  keypair.destroy();
  assert.equal(findAll(scalar), []);
  assert.equal(findAll(prefix), []);
  throwsWith(() => keypair.sign(message), "KEY_DESTROYED");
  throwsWith(() => keypair.seedBytes(), "KEY_DESTROYED");
  keypair.destroy(); // idempotent
});

// FinalizationRegistry: observable only after a forced collection, so this runs in a child
// process started with --expose-gc (uvu's own process has no global.gc).
test("keys garbage-collected without destroy() have their slots wiped and freed (child process with --expose-gc)", () => {
  const child = fileURLToPath(new URL("../helpers/prepared-secret-gc-child.ts", import.meta.url));
  const out = execFileSync(process.execPath, ["--expose-gc", "--import", "tsx", child], { encoding: "utf8", timeout: 120_000 });
  const result = JSON.parse(out.trim().split("\n").pop()!) as { filledFirst: number; filledAgain: number; scalarLeft: number; capacity: number };
  assert.is(result.filledFirst, result.capacity, "the first round filled the slab");
  assert.is(result.scalarLeft, 0, "a collected key's scalar is gone from memory");
  assert.is(result.filledAgain, result.capacity, "after collection every slot could be prepared again");
});

test.run();
