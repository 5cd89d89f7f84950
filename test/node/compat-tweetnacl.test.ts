// chio-trust/tweetnacl (src/compat/tweetnacl.ts) against tweetnacl 1.x itself: the same shapes and
// outputs for keys, signatures and sign.open on random inputs and on the 1024 sign.input vectors
// (the data of tweetnacl's own sign tests); our two documented differences asserted explicitly:
// S >= L is refused (tweetnacl accepts it), and a 64-byte secret key whose public half is not the
// seed's key is refused (tweetnacl signs under it, which leaks the secret scalar).
import { test } from "uvu";
import * as assert from "uvu/assert";
import { readFileSync } from "node:fs";
import { randomBytes } from "node:crypto";
import nacl from "tweetnacl";
import oursDefault, { sign, InvalidKeyError } from "../../src/compat/tweetnacl.js";
import * as helpers from "../../src/compat/tweetnacl.js";
import { throwsWith } from "../helpers/assert-codes.js";
import { scaled } from "../helpers/scale.js";

const L = 2n ** 252n + 27742317777372353535851937790883648493n;
const hex = (b: Uint8Array | null) => (b === null ? "null" : Buffer.from(b).toString("hex"));
const rand = (n: number) => new Uint8Array(nacl.randomBytes(n));
const le32 = (n: bigint) => Uint8Array.from({ length: 32 }, (_, i) => Number((n >> BigInt(8 * i)) & 255n));
const toBig = (b: Uint8Array) => BigInt("0x" + Buffer.from(b).reverse().toString("hex"));

function outcome(fn: () => unknown): string {
  try {
    const v = fn();
    return v instanceof Uint8Array || v === null ? hex(v) : JSON.stringify(v);
  } catch (e) {
    return e instanceof TypeError ? "TypeError" : e instanceof Error ? "Error" : "non-error";
  }
}

test("the same members and constants; default export and named export are one object", () => {
  const members = (f: object) => Object.keys(f).sort();
  assert.equal(members(sign), members(nacl.sign));
  assert.equal(members(sign.detached), members(nacl.sign.detached));
  assert.equal(members(sign.keyPair), members(nacl.sign.keyPair));
  for (const k of ["publicKeyLength", "secretKeyLength", "seedLength", "signatureLength"] as const) assert.is(sign[k], nacl.sign[k]);
  assert.is(oursDefault.sign, sign);
});

test("sign.input vectors (tweetnacl's sign test data): keys, attached and detached signatures, open", () => {
  const lines = readFileSync(new URL("../vectors/rfc8032/sign.input", import.meta.url), "utf8").trim().split("\n");
  assert.is(lines.length, 1024);
  for (const line of lines) {
    const [sk, pk, msg, sm] = line.split(":").map((h) => new Uint8Array(Buffer.from(h, "hex")));
    const kp = sign.keyPair.fromSecretKey(sk);
    assert.is(hex(kp.publicKey), hex(pk));
    assert.is(hex(sign.keyPair.fromSeed(sk.slice(0, 32)).secretKey), hex(sk));
    const signed = sign(msg, sk);
    assert.is(hex(signed), hex(sm));
    assert.is(hex(sign.open(signed, pk)), hex(msg));
    assert.is(hex(sign.detached(msg, sk)), hex(sm.slice(0, 64)));
    assert.ok(sign.detached.verify(msg, sm.slice(0, 64), pk));
  }
});

test("random keys, messages, and mutated signatures: the same results as tweetnacl", () => {
  for (let i = 0; i < scaled(60); i++) {
    const seed = rand(32);
    const msg = rand(i % 97);
    const a = sign.keyPair.fromSeed(seed);
    const b = nacl.sign.keyPair.fromSeed(seed);
    assert.is(hex(a.secretKey) + hex(a.publicKey), hex(b.secretKey) + hex(b.publicKey));
    const sig = sign.detached(msg, a.secretKey);
    assert.is(hex(sig), hex(nacl.sign.detached(msg, b.secretKey)));
    const sm = sign(msg, a.secretKey);
    assert.is(hex(sm), hex(nacl.sign(msg, b.secretKey)));
    const bad = sm.slice();
    bad[i % bad.length] ^= 1 << (i % 8);
    assert.is(hex(sign.open(bad, a.publicKey)), hex(nacl.sign.open(bad, b.publicKey)));
    assert.is(sign.detached.verify(msg, bad.subarray(0, 64), a.publicKey), nacl.sign.detached.verify(msg, bad.subarray(0, 64), b.publicKey));
    const otherPk = rand(32);
    assert.is(sign.detached.verify(msg, sig, otherPk), nacl.sign.detached.verify(msg, sig, otherPk));
    assert.is(hex(sign.open(sm.subarray(0, i % 64), a.publicKey)), hex(nacl.sign.open(sm.subarray(0, i % 64), b.publicKey)));
  }
  const kp = sign.keyPair();
  assert.is(hex(kp.secretKey.slice(32)), hex(kp.publicKey));
  assert.is(hex(nacl.sign.keyPair.fromSecretKey(kp.secretKey).publicKey), hex(sign.keyPair.fromSecretKey(kp.secretKey).publicKey));
});

test("small-order and non-canonical public keys and R: judged as tweetnacl does", () => {
  const P = 2n ** 255n - 19n;
  const encodings: Uint8Array[] = [];
  for (const y of [0n, 1n, P - 1n, P, P + 1n, 2n ** 255n - 1n]) for (const s of [0, 0x80]) {
    if (y >= 2n ** 255n) continue;
    const b = le32(y);
    b[31] |= s;
    encodings.push(b);
  }
  const msg = new TextEncoder().encode("edge");
  for (const a of encodings) for (const r of encodings) for (const s of [0n, 1n]) {
    const sig = new Uint8Array(64);
    sig.set(r);
    sig.set(le32(s), 32);
    assert.is(sign.detached.verify(msg, sig, a), nacl.sign.detached.verify(msg, sig, a), `${hex(a)} ${hex(r)} ${s}`);
  }
});

test("documented difference 1: S >= L is refused here and accepted by tweetnacl (signature malleability)", () => {
  let differed = 0;
  for (let i = 0; i < scaled(20); i++) {
    const kp = nacl.sign.keyPair();
    const msg = rand(i);
    const sig = nacl.sign.detached(msg, kp.secretKey);
    const S = toBig(sig.slice(32));
    const malleated = sig.slice();
    malleated.set(le32(S + L), 32);
    if (S + L >= 2n ** 256n) continue;
    assert.is(nacl.sign.detached.verify(msg, malleated, kp.publicKey), true);
    assert.is(sign.detached.verify(msg, malleated, kp.publicKey), false);
    const sm = new Uint8Array(64 + msg.length);
    sm.set(malleated);
    sm.set(msg, 64);
    assert.is(hex(nacl.sign.open(sm, kp.publicKey)), hex(msg));
    assert.is(sign.open(sm, kp.publicKey), null);
    differed++;
  }
  assert.ok(differed > 0);
});

test("documented difference 2: a secret key whose public half is not the seed's key is refused (tweetnacl signs with it)", () => {
  const kp = nacl.sign.keyPair();
  const other = nacl.sign.keyPair();
  const forged = kp.secretKey.slice();
  forged.set(other.publicKey, 32);
  const msg = new TextEncoder().encode("one message");
  // tweetnacl: two signatures of one message with one seed under two public keys share R ...
  const s1 = nacl.sign.detached(msg, kp.secretKey);
  const s2 = nacl.sign.detached(msg, forged);
  assert.is(hex(s1.slice(0, 32)), hex(s2.slice(0, 32)));
  assert.is.not(hex(s1), hex(s2));
  // ... which is what the refusal prevents.
  for (const call of [() => sign(msg, forged), () => sign.detached(msg, forged), () => sign.keyPair.fromSecretKey(forged)]) {
    assert.throws(call, (e: unknown) => e instanceof InvalidKeyError && e instanceof RangeError && e.code === "INVALID_SECRET_KEY");
  }
  assert.is(hex(sign.detached(msg, kp.secretKey)), hex(s1));
});

test("bad arguments: TypeError for non-Uint8Array as tweetnacl, a size error (an Error) for wrong sizes", () => {
  const kp = nacl.sign.keyPair();
  const msg = rand(5);
  const sig = nacl.sign.detached(msg, kp.secretKey);
  const bad: unknown[] = [undefined, null, "x", [1], {}, new Uint16Array(32), new Uint8Array(0), new Uint8Array(31), new Uint8Array(33), new Uint8Array(63), new Uint8Array(65)];
  for (const v of bad) {
    const x = v as Uint8Array;
    const checks: [() => unknown, () => unknown][] = [
      [() => sign(x, kp.secretKey), () => nacl.sign(x, kp.secretKey)],
      [() => sign.detached(msg, x), () => nacl.sign.detached(msg, x)],
      [() => sign.detached.verify(msg, x, kp.publicKey), () => nacl.sign.detached.verify(msg, x, kp.publicKey)],
      [() => sign.detached.verify(msg, sig, x), () => nacl.sign.detached.verify(msg, sig, x)],
      [() => sign.detached.verify(x, sig, kp.publicKey), () => nacl.sign.detached.verify(x, sig, kp.publicKey)],
      [() => sign.open(x, kp.publicKey), () => nacl.sign.open(x, kp.publicKey)],
      [() => sign.keyPair.fromSeed(x), () => nacl.sign.keyPair.fromSeed(x)],
    ];
    for (const [o, t] of checks) {
      const theirs = outcome(t);
      const mine = outcome(o);
      // Zero-filled 64-byte "secret keys" would be refused by us (public half is not the seed's): not in this list.
      assert.is(mine, theirs, `${String(v)} ${o.toString()}`);
    }
  }
});

test("the default generator asks the realm only for crypto.getRandomValues: a subarray or Math.min replaced after load does not leave keyPair's seed or randomBytes all zero (hunt 22)", () => {
  const typedArrayPrototype = Object.getPrototypeOf(Uint8Array.prototype) as { subarray(this: Uint8Array, start?: number, end?: number): Uint8Array };
  const { subarray } = typedArrayPrototype;
  const min = Math.min;
  const zero = (bytes: Uint8Array): boolean => bytes.every((b) => b === 0);
  const replacements: [string, () => void, () => void][] = [
    // A stand-in that answers a fresh array of the right length instead of a view: getRandomValues fills that.
    ["subarray", () => { typedArrayPrototype.subarray = function (this: Uint8Array, start = 0, end = this.length) { return new Uint8Array(Math.max(0, end - start)); }; }, () => { typedArrayPrototype.subarray = subarray; }],
    ["Math.min", () => { Math.min = () => 0; }, () => { Math.min = min; }],
  ];
  for (const [name, replace, restore] of replacements) {
    let seedHalf: Uint8Array;
    let random: Uint8Array;
    replace();
    try {
      seedHalf = sign.keyPair().secretKey.slice(0, 32);
      random = helpers.randomBytes(64);
    } finally {
      restore();
    }
    assert.not.ok(zero(seedHalf), `${name}: keyPair() made the all-zero seed's key pair`);
    assert.not.ok(zero(random), `${name}: randomBytes gave zeros`);
  }
});

test("the helpers signing code calls beside sign: randomBytes, setPRNG, verify and hash, as tweetnacl's (review-33 C5)", () => {
  // The members we have are tweetnacl's, less the non-signing families (box, secretbox, scalarMult, lowlevel).
  assert.equal(Object.keys(oursDefault).sort(), Object.keys(nacl).filter((k) => !["box", "secretbox", "scalarMult", "lowlevel"].includes(k)).sort());
  for (const name of ["randomBytes", "setPRNG", "verify", "hash"] as const) assert.is(oursDefault[name], helpers[name], name);
  // hash: SHA-512, across the block boundaries.
  assert.is(helpers.hash.hashLength, nacl.hash.hashLength);
  for (const n of [0, 1, 111, 112, 127, 128, 129, 1000]) {
    const m = rand(n);
    assert.is(hex(helpers.hash(m)), hex(nacl.hash(m)), `hash of ${n} bytes`);
  }
  // verify: equal bytes, one byte off anywhere, other lengths, empty arrays, wrong types.
  const x = rand(48);
  const cases: [Uint8Array, Uint8Array][] = [[x, x.slice()], [new Uint8Array(0), new Uint8Array(0)], [x, x.slice(0, 47)], [new Uint8Array(0), x]];
  for (let i = 0; i < 48; i += 7) {
    const y = x.slice();
    y[i] ^= 1 << (i % 8);
    cases.push([x, y]);
  }
  for (const [a, b] of cases) assert.is(helpers.verify(a, b), nacl.verify(a, b));
  assert.is(helpers.verify(x, x.slice()), true);
  for (const bad of [[x, [...x]], ["ab", x], [x, null]] as unknown as [Uint8Array, Uint8Array][]) {
    assert.is(outcome(() => helpers.verify(...bad)), outcome(() => nacl.verify(...bad)));
  }
  // randomBytes: lengths (above Web Crypto's 64 KiB quota too), fresh bytes, tweetnacl's errors for a bad n.
  for (const n of [0, 1, 32, 65536 + 5]) assert.is(helpers.randomBytes(n).length, n);
  assert.is.not(hex(helpers.randomBytes(32)), hex(helpers.randomBytes(32)));
  assert.ok(helpers.randomBytes(65536 + 5).subarray(65536).some((b) => b !== 0), "the bytes past the first 64 KiB are filled too");
  // A bad n throws as tweetnacl on Node does (its PRNG is crypto.randomBytes): TypeError for a
  // non-number, RangeError for a number out of range (review 41 F3: these gave [] or coerced).
  for (const bad of [-1, Infinity, NaN, 2 ** 31, undefined, null, "32", {}, true]) {
    assert.is(outcome(() => helpers.randomBytes(bad as number)), outcome(() => nacl.randomBytes(bad as number)), String(bad));
  }
  throwsWith(() => helpers.randomBytes(undefined as unknown as number), "INVALID_TYPE");
  throwsWith(() => helpers.randomBytes(2 ** 31), "INVALID_LENGTH");
  // A fraction: tweetnacl on Node rounds 1.5 down to 1 byte; we refuse it (README "Migrating").
  assert.is(nacl.randomBytes(1.5).length, 1);
  throwsWith(() => helpers.randomBytes(1.5), "INVALID_LENGTH");
  assert.is(helpers.randomBytes(2 ** 16).length, 2 ** 16);
  // setPRNG: the same deterministic generator in both gives the same random bytes and key pairs.
  const counting = () => {
    let next = 0;
    return (out: Uint8Array, n: number) => {
      for (let i = 0; i < n; i++) out[i] = next++ & 255;
    };
  };
  const systemPrng = (out: Uint8Array, n: number) => out.set(randomBytes(n));
  try {
    helpers.setPRNG(counting());
    nacl.setPRNG(counting());
    assert.is(hex(helpers.randomBytes(40)), hex(nacl.randomBytes(40)));
    const a = sign.keyPair();
    const b = nacl.sign.keyPair();
    assert.is(hex(a.secretKey) + hex(a.publicKey), hex(b.secretKey) + hex(b.publicKey), "keyPair from the PRNG");
  } finally {
    helpers.setPRNG(systemPrng);
    nacl.setPRNG(systemPrng);
  }
  assert.throws(() => helpers.setPRNG("not a function" as never), (e: Error) => e instanceof TypeError);
});

test("documented differences of review 86: error names, randomBytes after setPRNG, what keyPair hands the generator, views a shrunk buffer left out of bounds", () => {
  // Error names: the classes are ours, the families and messages tweetnacl's.
  const kp = nacl.sign.keyPair();
  assert.throws(() => nacl.sign(rand(1), new Uint8Array(3)), (e: Error) => String(e) === "Error: bad secret key size");
  const mine = throwsWith(() => sign(rand(1), new Uint8Array(3)), "INVALID_LENGTH");
  assert.is(String(mine), "InvalidLengthError: bad secret key size");
  assert.instance(mine, RangeError);
  const systemPrng = (out: Uint8Array, n: number) => out.set(randomBytes(n));
  try {
    // After setPRNG tweetnacl coerces n as new Uint8Array(n) does; we refuse what is not a number.
    const seeding = (out: Uint8Array, n: number) => out.fill(1, 0, n);
    nacl.setPRNG(seeding);
    helpers.setPRNG(seeding);
    for (const [n, length] of [["5", 5], [undefined, 0], [true, 1], [null, 0]] as const) {
      assert.is(nacl.randomBytes(n as unknown as number).length, length, String(n));
      throwsWith(() => helpers.randomBytes(n as unknown as number), "INVALID_TYPE");
    }
    // keyPair: tweetnacl hands the generator its 64-byte secret key; we hand a 32-byte seed array
    // and zero it afterwards. Both key pairs are the same.
    const seen: { length: number; kept: Uint8Array }[] = [];
    const recording = (out: Uint8Array, n: number) => {
      seen.push({ length: out.length, kept: out });
      out.fill(7, 0, n);
    };
    nacl.setPRNG(recording);
    helpers.setPRNG(recording);
    const a = nacl.sign.keyPair();
    const b = sign.keyPair();
    assert.is(hex(b.secretKey), hex(a.secretKey));
    assert.equal(seen.map((x) => x.length), [64, 32]);
    assert.ok(seen[0].kept === a.secretKey, "tweetnacl's generator filled the secret key it returns");
    assert.ok(seen[1].kept.every((x) => x === 0), "ours is zeroed once the key pair is made");
  } finally {
    helpers.setPRNG(systemPrng);
    nacl.setPRNG(systemPrng);
  }
  // A view a resizable ArrayBuffer left out of bounds: tweetnacl signs it as empty; ours refuses it.
  const buffer = new ArrayBuffer(72, { maxByteLength: 128 });
  const view = new Uint8Array(buffer, 8, 64);
  buffer.resize(4);
  assert.is(hex(nacl.sign.detached(view, kp.secretKey)), hex(nacl.sign.detached(new Uint8Array(0), kp.secretKey)));
  throwsWith(() => sign.detached(view, kp.secretKey), "INVALID_TYPE");
});

test.run();
