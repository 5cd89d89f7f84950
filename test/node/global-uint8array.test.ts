// The global `Uint8Array` binding can be replaced after the library loads, by a constructor that
// keeps every array it makes (a Proxy with a construct trap, here). The arrays the library keeps
// or hands out that hold a secret, or a PreparedPublicKey's own key bytes, must not come from it
// (hunt 22): they are made by the constructor captured at load (src/bytes.ts newBytes).
import { test } from "uvu";
import * as assert from "uvu/assert";
import { createHash } from "node:crypto";
import { ed25519 } from "../../src/ed25519.js";
import * as noble from "../../src/compat/noble-ed25519.js";
import nacl from "../../src/compat/tweetnacl.js";
import { randomHex } from "../../src/bytes.js";

const seedOf = (label: string): Uint8Array => new Uint8Array(createHash("sha256").update(label).digest());
const RealUint8Array = Uint8Array;

/** Runs fn with the global Uint8Array replaced by a constructor that keeps what it makes; returns fn's result and those arrays. */
function withKeepingUint8Array<T>(fn: () => T): { result: T; made: Uint8Array[] } {
  const made: Uint8Array[] = [];
  const keeping = new Proxy(RealUint8Array, {
    construct(target, args, newTarget) {
      const array = Reflect.construct(target, args, newTarget === keeping ? target : newTarget) as Uint8Array;
      made.push(array);
      return array;
    },
  });
  (globalThis as { Uint8Array: unknown }).Uint8Array = keeping;
  try {
    return { result: fn(), made };
  } finally {
    (globalThis as { Uint8Array: unknown }).Uint8Array = RealUint8Array;
  }
}

const same = (a: Uint8Array, b: Uint8Array): boolean => a.length === b.length && a.every((x, i) => x === b[i]);

test("a PreparedPublicKey's own key bytes are not made by a replaced Uint8Array: it cannot be made to verify under a stranger's key", () => {
  const anchorSeed = seedOf("global Uint8Array anchor");
  const strangerSeed = seedOf("global Uint8Array stranger");
  const anchor = ed25519.getPublicKey(anchorSeed);
  const stranger = ed25519.getPublicKey(strangerSeed);
  const message = new TextEncoder().encode("signed by the stranger");
  const forged = ed25519.sign(message, strangerSeed);
  const { result: prepared, made } = withKeepingUint8Array(() => ed25519.preparePublicKey(anchor));
  for (const array of made) if (array.length === 32) array.set(stranger); // what the keeper can do with what it kept
  assert.equal(prepared.publicKey, anchor, "the object keeps the anchor's bytes");
  assert.not.ok(ed25519.verify(forged, message, prepared), "the stranger's signature is not accepted under the anchor's prepared key");
  assert.ok(ed25519.verify(ed25519.sign(message, anchorSeed), message, prepared));
  prepared.free();
});

test("secret keys made by keygen, randomSecretKey, the drop-ins' key pairs and tweetnacl's randomBytes are not made by a replaced Uint8Array", () => {
  const seed = seedOf("global Uint8Array seed");
  const cases: [string, () => Uint8Array][] = [
    ["ed25519.keygen()", () => ed25519.keygen().secretKey],
    ["ed25519.utils.randomSecretKey()", () => ed25519.utils.randomSecretKey()],
    ["chio-trust/ed25519 keygen()", () => noble.keygen().secretKey],
    ["chio-trust/tweetnacl sign.keyPair()", () => nacl.sign.keyPair().secretKey],
    ["chio-trust/tweetnacl sign.keyPair.fromSeed(seed)", () => nacl.sign.keyPair.fromSeed(seed).secretKey],
    ["chio-trust/tweetnacl randomBytes(32)", () => nacl.randomBytes(32)],
  ];
  for (const [name, make] of cases) {
    const { result: secretKey, made } = withKeepingUint8Array(make);
    const seedHalf = secretKey.subarray(0, 32);
    const kept = made.filter((array) => array === secretKey || (array.length >= 32 && same(array.subarray(0, 32), seedHalf)));
    assert.is(kept.length, 0, `${name}: the replaced constructor kept an array holding the secret`);
  }
});

test("handshake nonces and reservation tokens (randomHex) are not made by a replaced Uint8Array: one that answers empty arrays does not make them empty", () => {
  const empty = new Proxy(RealUint8Array, { construct: (target) => Reflect.construct(target, [0]) as object });
  (globalThis as { Uint8Array: unknown }).Uint8Array = empty;
  let made: string[];
  try {
    made = [randomHex(16), randomHex(16)];
  } finally {
    (globalThis as { Uint8Array: unknown }).Uint8Array = RealUint8Array;
  }
  for (const hex of made) assert.match(hex, /^[0-9a-f]{32}$/);
  assert.is.not(made[0], made[1]);
});

test.run();
