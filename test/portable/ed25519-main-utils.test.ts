// The main entry's key helpers (src/ed25519.ts) against @noble/curves' ed25519: keygen(seed),
// utils.randomSecretKey(seed) (uses the seed, as noble does: it used to ignore it silently),
// utils.getExtendedPublicKey, utils.isValidSecretKey, utils.isValidPublicKey in both zip215 settings.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { ed25519 as curves } from "@noble/curves/ed25519.js";
import { ed25519 } from "../../src/ed25519.js";
import { scaled } from "../helpers/scale.js";

const hex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
const rand = (n: number) => globalThis.crypto.getRandomValues(new Uint8Array(n));
const P = 2n ** 255n - 19n;
const le32 = (n: bigint) => Uint8Array.from({ length: 32 }, (_, i) => Number((n >> BigInt(8 * i)) & 255n));

test("randomSecretKey(seed) and keygen(seed) use the seed (a copy); without a seed they are random", async () => {
  for (let i = 0; i < scaled(20); i++) {
    const seed = rand(32);
    const sk = ed25519.utils.randomSecretKey(seed);
    assert.is(hex(sk), hex(seed));
    assert.ok(sk !== seed);
    const kp = ed25519.keygen(seed);
    assert.is(hex(kp.secretKey) + hex(kp.publicKey), hex(seed) + hex(curves.getPublicKey(seed)));
    assert.is(hex((await ed25519.keygenAsync(seed)).publicKey), hex(kp.publicKey));
  }
  assert.is.not(hex(ed25519.utils.randomSecretKey()), hex(ed25519.utils.randomSecretKey()));
  assert.is.not(hex(ed25519.keygen().secretKey), hex(ed25519.keygen().secretKey));
  for (const bad of [new Uint8Array(31), "x", null]) {
    assert.throws(() => ed25519.utils.randomSecretKey(bad as Uint8Array), (e: unknown) => e instanceof TypeError || e instanceof RangeError);
    assert.throws(() => ed25519.keygen(bad as Uint8Array), (e: unknown) => e instanceof TypeError || e instanceof RangeError);
  }
});

test("getExtendedPublicKey equals @noble/curves' head, prefix, scalar and point bytes", () => {
  for (let i = 0; i < scaled(20); i++) {
    const seed = rand(32);
    const a = ed25519.utils.getExtendedPublicKey(seed);
    const b = curves.utils.getExtendedPublicKey(seed);
    assert.is(hex(a.head) + hex(a.prefix) + a.scalar.toString(16) + hex(a.pointBytes), hex(b.head) + hex(b.prefix) + b.scalar.toString(16) + hex(b.pointBytes));
  }
});

test("isValidSecretKey and isValidPublicKey(key, zip215?) agree with @noble/curves", () => {
  const keys: unknown[] = [rand(32), new Uint8Array(31), new Uint8Array(33), "x", null, new Uint16Array(16)];
  for (let y = 0n; y < 19n; y++) for (const s of [0, 0x80]) for (const v of [y, y + P]) {
    const b = le32(v);
    b[31] |= s;
    keys.push(b);
  }
  for (let i = 0; i < scaled(40); i++) keys.push(rand(32), curves.getPublicKey(rand(32)));
  for (const k of keys) {
    assert.is(ed25519.utils.isValidSecretKey(k), curves.utils.isValidSecretKey(k as Uint8Array));
    for (const zip215 of [undefined, true, false]) {
      assert.is(ed25519.utils.isValidPublicKey(k, zip215), curves.utils.isValidPublicKey(k as Uint8Array, zip215), `${String(k)} ${zip215}`);
    }
  }
});

test.run();
