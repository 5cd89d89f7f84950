// The drop-ins' private copies of secrets are wiped on every exit (review 41 F1): each function
// that takes a seed or secret key (and `hash`, whose input may be secret) copies it before it is
// checked or used, and that copy must not outlive the call, on success or failure, sync or async.
// The copies are found by watching src/bytes.ts copyInto, which every copy goes through
// (test/helpers/copy-watch.ts), and looking for the secret in each target after the call.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { sha512 } from "@noble/hashes/sha2.js";
import * as noble from "../../src/compat/noble-ed25519.js";
import nacl from "../../src/compat/tweetnacl.js";
import { holding, watchCopies } from "../helpers/copy-watch.js";
import { observeCopies } from "../../src/bytes.js";

/** Runs fn with every copy recorded (watchCopies); returns the arrays that received one (fn's own throw or rejection is swallowed). */
async function copiesMadeBy(fn: () => unknown): Promise<ArrayBufferView[]> {
  const watch = watchCopies();
  try {
    await fn();
  } catch {
    // failures are part of what is checked: the copy must be wiped then too
  } finally {
    watch.stop();
  }
  return watch.targets;
}

// The drop-in's own providers, before any test assigns others.
const builtinSha512 = noble.hashes.sha512!;
const builtinSha512Async = noble.hashes.sha512Async;

const seed = Uint8Array.from({ length: 32 }, (_, i) => 0xa0 ^ (i * 7));
const message = new TextEncoder().encode("a message that is not the seed");
const secretMessage = Uint8Array.from({ length: 48 }, (_, i) => 0x5c ^ (i * 13));

/** Every chio-trust/ed25519 function that takes the seed, called on it. */
const SEED_CALLS: [string, () => unknown][] = [
  ["sign", () => noble.sign(message, seed)],
  ["signAsync", () => noble.signAsync(message, seed)],
  ["getPublicKey", () => noble.getPublicKey(seed)],
  ["getPublicKeyAsync", () => noble.getPublicKeyAsync(seed)],
  ["utils.getExtendedPublicKey", () => noble.utils.getExtendedPublicKey(seed)],
  ["utils.getExtendedPublicKeyAsync", () => noble.utils.getExtendedPublicKeyAsync(seed)],
];

test("chio-trust/ed25519: no copy of the seed is left after sign, getPublicKey, getExtendedPublicKey and their async forms", async () => {
  noble.hashes.sha512 = (m: Uint8Array) => sha512(m);
  noble.hashes.sha512Async = async (m: Uint8Array) => sha512(m);
  for (const [name, call] of SEED_CALLS) {
    const targets = await copiesMadeBy(call);
    assert.ok(targets.length > 0, `${name} copies through set`);
    assert.is(holding(targets, seed), 0, `${name} left a copy of the seed`);
  }
  // The results are the same as before the wipes were added (the copy is wiped after use, not before).
  assert.is(Buffer.from(noble.getPublicKey(seed)).toString("hex"), Buffer.from(await noble.getPublicKeyAsync(seed)).toString("hex"));
  assert.ok(noble.verify(noble.sign(message, seed), message, noble.getPublicKey(seed)));
  assert.ok(noble.verify(await noble.signAsync(message, seed), message, noble.getPublicKey(seed)));
});

test("chio-trust/ed25519: the seed copy is wiped when the hash provider refuses the call, sync and async", async () => {
  const sync = noble.hashes.sha512;
  const async = noble.hashes.sha512Async;
  try {
    noble.hashes.sha512 = () => new Uint8Array(64); // not SHA-512: the provider check throws
    noble.hashes.sha512Async = async () => {
      throw new Error("provider down");
    };
    for (const [name, call] of SEED_CALLS) {
      let failed = false;
      const targets = await copiesMadeBy(async () => {
        try {
          await call();
        } catch {
          failed = true;
        }
      });
      assert.ok(failed, `${name} refuses with a broken provider`);
      assert.is(holding(targets, seed), 0, `${name} left a copy of the seed`);
    }
  } finally {
    noble.hashes.sha512 = sync;
    noble.hashes.sha512Async = async;
  }
});

test("chio-trust/ed25519 and chio-trust/tweetnacl: hash leaves no copy of its input", async () => {
  noble.hashes.sha512 = (m: Uint8Array) => sha512(m);
  const expected = Buffer.from(sha512(secretMessage)).toString("hex");
  for (const [name, hash] of [
    ["noble etc hash", (m: Uint8Array) => noble.hash(m)],
    ["tweetnacl hash", (m: Uint8Array) => nacl.hash(m)],
  ] as const) {
    let digest = "";
    const targets = await copiesMadeBy(() => (digest = Buffer.from(hash(secretMessage)).toString("hex")));
    assert.is(digest, expected, name);
    assert.is(holding(targets, secretMessage), 0, `${name} left a copy of its input`);
  }
});

test("chio-trust/ed25519: its built-in hashes.sha512 and sha512Async leave no copy of their input (review 44 F7)", async () => {
  const expected = Buffer.from(sha512(seed)).toString("hex");
  for (const [name, hash] of [
    ["hashes.sha512", (m: Uint8Array) => builtinSha512(m)],
    ["hashes.sha512Async", (m: Uint8Array) => builtinSha512Async(m)],
  ] as const) {
    let digest = "";
    const targets = await copiesMadeBy(async () => (digest = Buffer.from(await hash(seed)).toString("hex")));
    assert.is(digest, expected, name);
    assert.is(holding(targets, seed), 0, `${name} left a copy of its input`);
  }
});

test("chio-trust/tweetnacl: no copy of the seed is left after fromSeed, sign.detached and sign (the entry's existing wipes)", async () => {
  const { secretKey } = nacl.sign.keyPair.fromSeed(seed);
  for (const [name, call] of [
    ["keyPair.fromSeed", () => nacl.sign.keyPair.fromSeed(seed)],
    ["sign.detached", () => nacl.sign.detached(message, secretKey)],
    ["sign", () => nacl.sign(message, secretKey)],
  ] as const) {
    const targets = await copiesMadeBy(call);
    // The key pair it returns holds the seed by design (secretKey = seed || public key): skip it.
    const returned = name === "keyPair.fromSeed" ? 1 : 0;
    assert.is(holding(targets, seed), returned, `${name} left a copy of the seed`);
  }
});

// copyOfRange copies up to 256 bytes element by element, outside copyInto's watch: the seed that
// tweetnacl's entry cuts from a 64-byte secret key is such a copy. It is seen here as a source
// copyInto copies from (into the core's memory, for its getPublicKey) holding the seed then, which
// must be zero after the call. A mutation audit found that a refused key and fromSecretKey could
// leave it unwiped. (It was seen by replacing the core's getPublicKey, which the frozen `ed25519`
// object no longer allows: helper 148.)
test("chio-trust/tweetnacl: the seed cut from a 64-byte secret key is wiped, after fromSecretKey, sign, sign.detached, and when the key is refused", () => {
  const { secretKey } = nacl.sign.keyPair.fromSeed(seed);
  const forged = secretKey.slice();
  forged[63] ^= 1; // public half not the seed's key: refused
  const handed: Uint8Array[] = [];
  const isSeed = (bytes: Uint8Array) => bytes.byteLength === 32 && bytes.every((b, i) => b === seed[i]);
  // The 32-byte copies of the seed (not the caller's 64-byte key), seen as they are copied from.
  observeCopies((_target, source) => {
    if (source !== seed && isSeed(source) && !handed.includes(source)) handed.push(source);
  });
  try {
    for (const [name, call, refused] of [
      ["keyPair.fromSecretKey", () => nacl.sign.keyPair.fromSecretKey(secretKey), false],
      ["sign.detached", () => nacl.sign.detached(message, secretKey), false],
      ["sign", () => nacl.sign(message, secretKey), false],
      ["keyPair.fromSecretKey (refused)", () => nacl.sign.keyPair.fromSecretKey(forged), true],
      ["sign.detached (refused)", () => nacl.sign.detached(message, forged), true],
      ["sign (refused)", () => nacl.sign(message, forged), true],
    ] as const) {
      handed.length = 0;
      let threw = false;
      try {
        call();
      } catch {
        threw = true;
      }
      assert.is(threw, refused, name);
      assert.ok(handed.length > 0, `${name} derives the public key of the seed`);
      for (const sk of handed) assert.ok(sk.every((b) => b === 0), `${name} left a copy of the seed`);
    }
  } finally {
    observeCopies(undefined);
  }
  // Results unchanged: the seed is wiped after use, not before.
  assert.is(Buffer.from(nacl.sign.keyPair.fromSecretKey(secretKey).secretKey).toString("hex"), Buffer.from(secretKey).toString("hex"));
});

test.run();
