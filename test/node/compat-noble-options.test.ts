// chio-trust/ed25519 against @noble/ed25519 (the oracle) where a swap could change an answer
// silently: the `zip215` option read by truthiness as noble reads it (0, "" and NaN are the
// strict branch, not ZIP-215), and Uint8Arrays from another realm (a `vm` context, as Jest and
// iframes make them), which noble accepts. Node only: `vm` makes the other realm.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { randomFillSync } from "node:crypto";
import { runInNewContext } from "node:vm";
import * as noble from "@noble/ed25519";
import { sha512 } from "@noble/hashes/sha2.js";
import * as ours from "../../src/compat/noble-ed25519.js";
import { throwsWith } from "../helpers/assert-codes.js";

noble.hashes.sha512 = sha512;

// A signature that holds under ZIP-215 only: public key and R the identity (small order), S = 0.
const identity = new Uint8Array(32);
identity[0] = 1;
const weakSignature = new Uint8Array(64);
weakSignature.set(identity, 0);
const message = new TextEncoder().encode("any message at all");

test("verify's zip215 option: every value gives noble's answer (falsy values are the strict branch)", () => {
  const options: unknown[] = [{}, { zip215: undefined }, { zip215: true }, { zip215: false }, { zip215: 0 }, { zip215: "" }, { zip215: NaN }, { zip215: 0n }, { zip215: null }, { zip215: 1 }, { zip215: "no" }, { zip215: {} }];
  const answers: [string, boolean, boolean][] = [];
  for (const option of options) {
    const expected = noble.verify(weakSignature, message, identity, option as never);
    answers.push([String((option as { zip215?: unknown }).zip215), ours.verify(weakSignature, message, identity, option as never), expected]);
  }
  for (const [name, got, expected] of answers) assert.is(got, expected, `zip215: ${name}`);
  // The case really tells the branches apart.
  assert.equal([answers[2][2], answers[3][2]], [true, false]);
});

test("Uint8Arrays from another realm are taken as noble takes them; answers equal noble's", async () => {
  const seed = new Uint8Array(32).map((_, i) => i * 7 + 1);
  const foreign = (bytes: Uint8Array) => runInNewContext("Uint8Array.from(source)", { source: Array.from(bytes) }) as Uint8Array;
  assert.not.ok(foreign(seed) instanceof Uint8Array, "the array really is from another realm");
  const publicKey = ours.getPublicKey(foreign(seed));
  assert.equal(publicKey, noble.getPublicKey(seed));
  const signature = ours.sign(foreign(message), foreign(seed));
  assert.equal(signature, noble.sign(message, seed));
  assert.ok(signature instanceof Uint8Array, "outputs are this realm's");
  assert.is(ours.verify(foreign(signature), foreign(message), foreign(publicKey)), true);
  assert.is(noble.verify(foreign(signature), foreign(message), foreign(publicKey)), true);
  assert.equal(await ours.signAsync(foreign(message), foreign(seed)), signature);
  assert.is(ours.etc.bytesToHex(foreign(seed)), noble.etc.bytesToHex(foreign(seed)));
  // Still refused, as before: a Proxy, a DataView, other typed arrays.
  for (const bad of [new Proxy(new Uint8Array(32), {}), new DataView(new ArrayBuffer(32)), new Uint16Array(16), runInNewContext("new Uint16Array(16)")]) {
    assert.throws(() => ours.getPublicKey(bad as Uint8Array), (error: Error) => error instanceof TypeError);
  }
});


test("a Buffer seed comes back as that Buffer, and byte helpers read a view's own elements (review-33 C2, C4)", () => {
  const seed = Buffer.alloc(32, 7);
  for (const lib of [noble, ours] as const) {
    const { secretKey } = lib.keygen(seed);
    assert.is(secretKey, seed);
    assert.is((secretKey as Buffer).toString("hex"), "07".repeat(32)); // a key saved this way is hex
  }
  // A subclass whose `length` lies, and a Uint8Array whose prototype was changed: noble reads the
  // elements themselves (or refuses); a silently wrong answer would be worse than either.
  class Short extends Uint8Array {
    override get length() {
      return 1;
    }
  }
  const disguised = Uint8Array.of(1, 2, 3);
  Object.setPrototypeOf(disguised, Object.prototype);
  const outcome = (fn: () => unknown) => {
    try {
      const value = fn();
      return value instanceof Uint8Array ? `bytes ${Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString("hex")}` : String(value);
    } catch (error) {
      return error instanceof TypeError ? "TypeError" : error instanceof RangeError ? "RangeError" : "Error";
    }
  };
  for (const [label, value] of [["short", new Short([1, 2, 3])], ["disguised", disguised]] as const) {
    const bytes = value as unknown as Uint8Array;
    // noble refuses the disguised array (its constructor is not Uint8Array); ours reads it
    // through its internal slots, as it reads arrays from other realms: the right hex or
    // noble's answer, never other text (it gave "" before).
    const ourHex = ours.etc.bytesToHex(bytes);
    const nobleHex = outcome(() => noble.etc.bytesToHex(bytes));
    assert.ok(ourHex === "010203" && (nobleHex === "010203" || nobleHex === "TypeError"), `bytesToHex ${label}: ours ${ourHex}, noble ${nobleHex}`);
    const ourConcat = outcome(() => ours.etc.concatBytes(bytes, Uint8Array.of(9)));
    const nobleConcat = outcome(() => noble.etc.concatBytes(bytes, Uint8Array.of(9)));
    // Where noble fails (it sizes the output by `length`), ours may give the right bytes
    // instead, or noble's error family; never other bytes.
    if (nobleConcat.startsWith("bytes")) assert.is(ourConcat, nobleConcat, `concatBytes ${label}`);
    else assert.ok(ourConcat === nobleConcat || ourConcat === "bytes 01020309", `concatBytes ${label}: ours ${ourConcat}, noble ${nobleConcat}`);
  }
});

test("documented differences of review 86: our byte-argument errors carry their own name; a view a shrunk buffer left out of bounds is refused, where noble reads it as empty", () => {
  assert.throws(() => noble.sign("x" as never, new Uint8Array(32)), (e: Error) => e.name === "TypeError");
  const mine = throwsWith(() => ours.sign("x" as never, new Uint8Array(32)), "INVALID_TYPE");
  assert.is(mine.name, "InvalidTypeError");
  assert.instance(mine, TypeError);
  const secret = new Uint8Array(32).fill(9);
  const publicKey = noble.getPublicKey(secret);
  const signature = noble.sign(message, secret);
  const buffer = new ArrayBuffer(72, { maxByteLength: 128 });
  const view = new Uint8Array(buffer, 8, 64);
  buffer.resize(4);
  assert.is(noble.verify(signature, view, publicKey), false);
  assert.throws(() => noble.verify(view, message, publicKey), (e: Error) => e instanceof RangeError && /got length=0/.test(e.message));
  for (const call of [() => ours.verify(signature, view, publicKey), () => ours.verify(view, message, publicKey)]) {
    assert.instance(throwsWith(call, "INVALID_TYPE"), TypeError);
  }
});

test("a crypto.getRandomValues that returns nothing, a short array or a plain array: randomSecretKey(), keygen() and keygenAsync() throw noble's error, not hand the value out as a secret key (hunt 46)", async () => {
  // Web Crypto's getRandomValues returns the array it filled; a hand-written polyfill may not.
  // noble checks what it got ("seed", 32 bytes); utils.randomSecretKey() here returned it as the
  // secret key (undefined, 16 bytes, an Array), and keygen() refused it later as "secretKey".
  const crypto = globalThis.crypto;
  const polyfills: [string, (array: Uint8Array) => unknown, string][] = [
    ["returns nothing", (array) => void randomFillSync(array), "INVALID_TYPE"],
    ["returns 16 of the bytes", (array) => randomFillSync(array).subarray(0, 16), "INVALID_LENGTH"],
    ["returns a plain array", (array) => Array.from(randomFillSync(array)), "INVALID_TYPE"],
  ];
  const outcome = async (call: () => unknown): Promise<[string, string] | "no error"> => {
    try {
      await call();
      return "no error";
    } catch (error) {
      return [error instanceof RangeError ? "RangeError" : error instanceof TypeError ? "TypeError" : "other", (error as Error).message];
    }
  };
  for (const [name, polyfill, code] of polyfills) {
    Object.defineProperty(crypto, "getRandomValues", { value: polyfill, configurable: true, writable: true });
    try {
      for (const [fn, call] of [
        ["utils.randomSecretKey()", (lib: typeof ours) => lib.utils.randomSecretKey()],
        ["keygen()", (lib: typeof ours) => lib.keygen()],
        ["keygenAsync()", (lib: typeof ours) => lib.keygenAsync()],
      ] as const) {
        const expected = await outcome(() => call(noble as unknown as typeof ours));
        assert.not.equal(expected, "no error", `${name}: noble refuses ${fn}`);
        assert.equal(await outcome(() => call(ours)), expected, `${name}: ${fn}`);
      }
      throwsWith(() => ours.utils.randomSecretKey(), code);
    } finally {
      delete (crypto as { getRandomValues?: unknown }).getRandomValues;
    }
  }
  // With the host's own getRandomValues back, random keys are made as before.
  assert.is(crypto.getRandomValues, Object.getPrototypeOf(crypto).getRandomValues);
  const secretKey = ours.utils.randomSecretKey();
  assert.is(secretKey.length, 32);
  assert.equal(ours.keygen(secretKey).publicKey, noble.getPublicKey(secretKey));
});

test.run();
