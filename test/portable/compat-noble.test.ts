// chio-trust/ed25519 (src/compat/noble-ed25519.ts) against @noble/ed25519 3.x itself, export by
// export: the same export names and members, the same outputs on random and edge inputs
// (noble's own ZIP-215 and edge-case vectors, non-canonical encodings, small-order keys, S at
// and above L) in both zip215 settings, and the same error families for bad arguments.
import { test } from "uvu";
import * as assert from "uvu/assert";
import * as noble from "@noble/ed25519";
import { sha512 } from "@noble/hashes/sha2.js";
import * as ours from "../../src/compat/noble-ed25519.js";
import { scaled } from "../helpers/scale.js";
import edgeCases from "../vectors/noble/edge-cases.json" with { type: "json" };
import zip215Vectors from "../vectors/noble/zip215.json" with { type: "json" };
import rfc8032Vectors from "../vectors/noble/rfc8032-ed25519.json" with { type: "json" };

noble.hashes.sha512 = (m: Uint8Array) => sha512(m);

const P = 2n ** 255n - 19n;
const L = 2n ** 252n + 27742317777372353535851937790883648493n;
const hex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
const unhex = (h: string) => Uint8Array.from(h.match(/../g) ?? [], (x) => parseInt(x, 16));
const rand = (n: number) => globalThis.crypto.getRandomValues(new Uint8Array(n));
const le32 = (n: bigint) => Uint8Array.from({ length: 32 }, (_, i) => Number((n >> BigInt(8 * i)) & 255n));
const randScalar = () => (BigInt("0x" + hex(rand(40))) % (L - 1n)) + 1n;
const concat = (a: Uint8Array, b: Uint8Array) => {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
};

/** "TypeError" / "RangeError" / "Error" / "ok:<value>": the outcome compared between the two libraries. */
function outcome(fn: () => unknown): string {
  try {
    const v = fn();
    if (v instanceof Uint8Array) return "ok:" + hex(v);
    if (typeof v === "object" && v !== null && "toHex" in v) return "point:" + (v as { toHex(): string }).toHex();
    return "ok:" + String(v);
  } catch (e) {
    if (e instanceof TypeError) return "TypeError";
    if (e instanceof RangeError) return "RangeError";
    if (e instanceof Error) return "Error";
    return "thrown non-error";
  }
}

async function outcomeAsync(fn: () => Promise<unknown>): Promise<string> {
  let promise: Promise<unknown>;
  try {
    promise = fn();
  } catch (e) {
    return "sync " + outcome(() => { throw e; });
  }
  try {
    const value = await promise;
    return outcome(() => value);
  } catch (e) {
    return "rejected " + outcome(() => { throw e; });
  }
}

const ownKeys = (o: object) => Object.getOwnPropertyNames(o).sort();

test("the same export names, utils and etc members, Point statics and methods", () => {
  assert.equal(Object.keys(ours).sort(), Object.keys(noble).sort());
  assert.equal(Object.keys(ours.utils).sort(), Object.keys(noble.utils).sort());
  assert.equal(Object.keys(ours.etc).sort(), Object.keys(noble.etc).sort());
  assert.equal(Object.keys(ours.hashes).sort(), Object.keys(noble.hashes).sort());
  assert.equal(ownKeys(ours.Point).filter((k) => k !== "length" && k !== "name" && k !== "prototype"),
    ownKeys(noble.Point).filter((k) => k !== "length" && k !== "name" && k !== "prototype"));
  assert.equal(ownKeys(ours.Point.prototype), ownKeys(noble.Point.prototype));
  assert.equal(Object.keys(ours.Point.BASE).sort(), Object.keys(noble.Point.BASE).sort());
  assert.equal({ ...ours.Point.CURVE() }, { ...noble.Point.CURVE() });
  assert.ok(Object.isFrozen(ours.etc) && Object.isFrozen(ours.utils) && Object.isFrozen(ours.Point.BASE));
});

test("getPublicKey, sign, keygen(seed), getExtendedPublicKey, hash: equal on random seeds and messages (sync and async)", async () => {
  for (let i = 0; i < scaled(60); i++) {
    const seed = rand(32);
    const msg = rand(i % 7 === 0 ? 0 : (i * 37) % 300);
    assert.is(hex(ours.getPublicKey(seed)), hex(noble.getPublicKey(seed)));
    assert.is(hex(ours.sign(msg, seed)), hex(noble.sign(msg, seed)));
    assert.is(hex(await ours.signAsync(msg, seed)), hex(await noble.signAsync(msg, seed)));
    assert.is(hex(await ours.getPublicKeyAsync(seed)), hex(await noble.getPublicKeyAsync(seed)));
    assert.is(hex(ours.hash(msg)), hex(noble.hash(msg)));
    const a = ours.keygen(seed);
    const b = noble.keygen(seed);
    assert.is(hex(a.secretKey) + hex(a.publicKey), hex(b.secretKey) + hex(b.publicKey));
    const c = await ours.keygenAsync(seed);
    assert.is(hex(c.publicKey), hex(b.publicKey));
    assert.is(hex(ours.utils.randomSecretKey(seed)), hex(noble.utils.randomSecretKey(seed)));
    // noble returns the seed itself (review-33 C2): so do we.
    assert.is(noble.utils.randomSecretKey(seed), seed);
    assert.is(ours.utils.randomSecretKey(seed), seed);
    assert.is(ours.keygen(seed).secretKey, noble.keygen(seed).secretKey);
    assert.is((await ours.keygenAsync(seed)).secretKey, seed);
    const e = ours.utils.getExtendedPublicKey(seed);
    const f = noble.utils.getExtendedPublicKey(seed);
    assert.is(hex(e.head) + hex(e.prefix) + e.scalar.toString(16) + hex(e.pointBytes), hex(f.head) + hex(f.prefix) + f.scalar.toString(16) + hex(f.pointBytes));
    assert.is(e.point.toHex(), f.point.toHex());
    const g = await ours.utils.getExtendedPublicKeyAsync(seed);
    assert.is(g.scalar, f.scalar);
  }
  for (const v of rfc8032Vectors as { priv: string; pub: string; msg: string; sig: string }[]) {
    assert.is(hex(ours.getPublicKey(unhex(v.priv))), v.pub);
    assert.is(hex(ours.sign(unhex(v.msg), unhex(v.priv))), v.sig);
  }
});

/** Verdicts of both libraries, both zip215 settings, sync and async, must all agree. */
async function sameVerdicts(sig: Uint8Array, msg: Uint8Array, pk: Uint8Array, label: string): Promise<void> {
  for (const opts of [undefined, {}, { zip215: true }, { zip215: false }, { zip215: undefined }]) {
    const theirs = outcome(() => noble.verify(sig, msg, pk, opts));
    assert.is(outcome(() => ours.verify(sig, msg, pk, opts)), theirs, `${label} ${JSON.stringify(opts)}`);
    assert.is(await outcomeAsync(() => ours.verifyAsync(sig, msg, pk, opts)), await outcomeAsync(() => noble.verifyAsync(sig, msg, pk, opts)), `${label} async`);
  }
}

test("verify: noble's edge-case and ZIP-215 vectors, in both zip215 settings", async () => {
  for (const [i, v] of (edgeCases as { message: string; pub_key: string; signature: string }[]).entries()) {
    await sameVerdicts(unhex(v.signature), unhex(v.message), unhex(v.pub_key), `edge-cases[${i}]`);
  }
  const zcash = new TextEncoder().encode("Zcash");
  let zip215Accepted = 0;
  let strictAccepted = 0;
  for (const [i, v] of (zip215Vectors as { vk_bytes: string; sig_bytes: string }[]).entries()) {
    await sameVerdicts(unhex(v.sig_bytes), zcash, unhex(v.vk_bytes), `zip215[${i}]`);
    if (ours.verify(unhex(v.sig_bytes), zcash, unhex(v.vk_bytes))) zip215Accepted++;
    if (ours.verify(unhex(v.sig_bytes), zcash, unhex(v.vk_bytes), { zip215: false })) strictAccepted++;
  }
  // The vectors separate the rules: all 196 pass ZIP-215, few pass the strict branch.
  assert.is(zip215Accepted, 196);
  assert.ok(strictAccepted < zip215Accepted);
});

// Encodings that separate the rules: every small-order point in every encoding that decodes
// (including y >= p and x = 0 with the sign bit), and non-canonical encodings of y < 19.
function edgeEncodings(): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let y = 0n; y < 19n; y++) {
    for (const sign of [0, 0x80]) {
      for (const value of [y, y + P]) {
        if (value >= 2n ** 255n) continue;
        const b = le32(value);
        b[31] |= sign;
        out.push(b);
      }
    }
  }
  for (const y of [P - 1n, P - 2n]) for (const sign of [0, 0x80]) {
    const b = le32(y);
    b[31] |= sign;
    out.push(b);
  }
  // The points of order 8 (y = ±sqrt of a root of the order-8 equation), both signs of x.
  for (const h of ["c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a", "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05"]) {
    for (const sign of [0, 0x80]) {
      const b = unhex(h);
      b[31] = (b[31] & 0x7f) | sign;
      out.push(b);
    }
  }
  return out;
}

test("verify: random valid signatures, mutations, and edge encodings of A and R, S at and above L", async () => {
  for (let i = 0; i < scaled(25); i++) {
    const seed = rand(32);
    const msg = rand(i * 5);
    const pk = noble.getPublicKey(seed);
    const sig = noble.sign(msg, seed);
    await sameVerdicts(sig, msg, pk, `valid ${i}`);
    const bad = sig.slice();
    bad[i % 64] ^= 1 << (i % 8);
    await sameVerdicts(bad, msg, pk, `mutated sig ${i}`);
    const S = BigInt("0x" + hex(sig.slice(32).reverse()));
    await sameVerdicts(concat(sig.slice(0, 32), le32(S + L)), msg, pk, `S + L ${i}`);
  }
  const msg = new TextEncoder().encode("edge");
  const encodings = edgeEncodings();
  const seed = rand(32);
  const goodPk = noble.getPublicKey(seed);
  const goodSig = noble.sign(msg, seed);
  const decodable = encodings.filter((b) => outcome(() => noble.Point.fromBytes(b, true)).startsWith("point"));
  const undecodable = encodings.filter((b) => !decodable.includes(b)).slice(0, 2);
  for (const a of [...decodable, ...undecodable]) {
    for (const r of [...decodable, ...undecodable]) {
      // With a small-order A and R the equation reduces to [8][S]B = 0: S = 0 is the forgery.
      for (const s of [0n, 1n]) {
        const sig = concat(r, le32(s));
        for (const opts of [undefined, { zip215: false }]) {
          assert.is(outcome(() => ours.verify(sig, msg, a, opts)), outcome(() => noble.verify(sig, msg, a, opts)), `A=${hex(a)} R=${hex(r)} S=${s} ${JSON.stringify(opts)}`);
        }
      }
    }
  }
  for (const a of encodings) {
    await sameVerdicts(goodSig, msg, a, `A=${hex(a)} with a foreign signature`);
    await sameVerdicts(concat(a, goodSig.slice(32)), msg, goodPk, `R=${hex(a)}`);
  }
  for (const s of [L, L + 1n, 2n ** 253n, 2n ** 256n - 1n]) await sameVerdicts(concat(goodSig.slice(0, 32), le32(s)), msg, goodPk, `S=${s}`);
});

test("Point: arithmetic, encodings, torsion checks and decoding agree on random and edge inputs", () => {
  const torsion = edgeEncodings().filter((b) => outcome(() => noble.Point.fromBytes(b, true)).startsWith("point"));
  for (let i = 0; i < scaled(12); i++) {
    const k = randScalar();
    const k2 = randScalar();
    const a = ours.Point.BASE.multiply(k);
    const b = noble.Point.BASE.multiply(k);
    assert.is(a.toHex(), b.toHex());
    assert.is(ours.Point.BASE.multiplyUnsafe(k2).toHex(), noble.Point.BASE.multiplyUnsafe(k2).toHex());
    const a2 = ours.Point.fromHex(a.toHex());
    const b2 = noble.Point.fromHex(b.toHex());
    assert.is(a2.multiply(k2).toHex(), b2.multiply(k2).toHex());
    assert.is(a.add(a2.double()).subtract(ours.Point.BASE).negate().toHex(), b.add(b2.double()).subtract(noble.Point.BASE).negate().toHex());
    assert.equal(a.toAffine(), b.toAffine());
    assert.is(a.x, b.x);
    assert.is(a.y, b.y);
    assert.ok(a.equals(ours.Point.fromAffine(b.toAffine())));
    assert.is(a.is0(), false);
    assert.ok(a.assertValidity() === a);
    const t = torsion[i % torsion.length];
    const dirtyOurs = a.add(ours.Point.fromBytes(t, true));
    const dirtyNoble = b.add(noble.Point.fromBytes(t, true));
    assert.is(dirtyOurs.toHex(), dirtyNoble.toHex());
    assert.is(dirtyOurs.isTorsionFree(), dirtyNoble.isTorsionFree());
    assert.is(dirtyOurs.clearCofactor().toHex(), dirtyNoble.clearCofactor().toHex());
    assert.is(dirtyOurs.isSmallOrder(), dirtyNoble.isSmallOrder());
    // Random 32 bytes: decodable or not, under both decoding rules, with the same error family.
    const bytes = rand(32);
    for (const zip215 of [false, true]) {
      assert.is(outcome(() => ours.Point.fromBytes(bytes, zip215)), outcome(() => noble.Point.fromBytes(bytes, zip215)));
    }
  }
  for (const e of edgeEncodings()) {
    for (const zip215 of [false, true]) {
      assert.is(outcome(() => ours.Point.fromBytes(e, zip215)), outcome(() => noble.Point.fromBytes(e, zip215)), hex(e));
      const p = outcome(() => ours.Point.fromBytes(e, zip215).isSmallOrder());
      assert.is(p, outcome(() => noble.Point.fromBytes(e, zip215).isSmallOrder()));
    }
  }
  assert.is(outcome(() => ours.Point.ZERO.toHex()), outcome(() => noble.Point.ZERO.toHex()));
  assert.equal(ours.Point.ZERO.toAffine(), noble.Point.ZERO.toAffine());
  const badScalars: unknown[] = [0n, -1n, L, L + 1n, 1, 1.5, "1", null, undefined];
  for (const s of badScalars) {
    assert.is(outcome(() => ours.Point.BASE.multiply(s as bigint)), outcome(() => noble.Point.BASE.multiply(s as bigint)), String(s));
    assert.is(outcome(() => ours.Point.BASE.multiplyUnsafe(s as bigint)), outcome(() => noble.Point.BASE.multiplyUnsafe(s as bigint)), String(s));
  }
  const coords: [unknown, unknown, unknown, unknown][] = [[0n, 1n, 1n, 0n], [0n, 0n, 0n, 0n], [-1n, 1n, 1n, 0n], [2n ** 256n, 1n, 1n, 0n], [1, 1n, 1n, 0n]];
  for (const c of coords) {
    assert.is(outcome(() => new ours.Point(...(c as [bigint, bigint, bigint, bigint]))), outcome(() => new noble.Point(...(c as [bigint, bigint, bigint, bigint]))));
  }
  const offCurve = { x: 3n, y: 5n };
  assert.is(outcome(() => ours.Point.fromAffine(offCurve).assertValidity()), outcome(() => noble.Point.fromAffine(offCurve).assertValidity()));
  // Negative and oversized affine coordinates: noble's errors and messages (review 58: a negative x·y).
  const thrown = (fn: () => unknown) => {
    try {
      return `ok:${String(fn())}`;
    } catch (e) {
      return `${(e as Error).constructor.name}: ${(e as Error).message}`;
    }
  };
  for (const p of [{ x: -1n, y: 5n }, { x: 3n, y: -2n }, { x: -3n, y: -2n }, { x: 2n ** 256n, y: 1n }, { x: 0n, y: 0n }]) {
    assert.is(thrown(() => ours.Point.fromAffine(p).toHex()), thrown(() => noble.Point.fromAffine(p).toHex()), `${p.x}, ${p.y}`);
  }
  assert.is(outcome(() => ours.Point.ZERO.assertValidity()), outcome(() => noble.Point.ZERO.assertValidity()));
  assert.is(outcome(() => ours.Point.BASE.add({} as never)), outcome(() => noble.Point.BASE.add({} as never)));
  assert.is(outcome(() => ours.Point.BASE.equals(noble.Point.BASE as never)), "TypeError");
});

test("etc helpers agree on random and bad inputs", () => {
  for (let i = 0; i < scaled(50); i++) {
    const b = rand(i);
    assert.is(ours.etc.bytesToHex(b), noble.etc.bytesToHex(b));
    const h = noble.etc.bytesToHex(b);
    assert.is(hex(ours.etc.hexToBytes(h.toUpperCase())), hex(noble.etc.hexToBytes(h.toUpperCase())));
    assert.is(hex(ours.etc.concatBytes(b, rand(3), b)).length, hex(noble.etc.concatBytes(b, rand(3), b)).length);
    const x = BigInt("0x" + hex(rand(40))) - 2n ** 300n;
    const m = randScalar();
    assert.is(ours.etc.mod(x), noble.etc.mod(x));
    assert.is(ours.etc.mod(x, m), noble.etc.mod(x, m));
    assert.is(ours.etc.invert(x, P), noble.etc.invert(x, P));
  }
  assert.is(ours.etc.randomBytes().length, 32);
  assert.is(ours.etc.randomBytes(7).length, 7);
  const badHex: unknown[] = ["0", "zz", "0x00", " 00", 12, null, undefined, "é0"];
  for (const h of badHex) assert.is(outcome(() => ours.etc.hexToBytes(h as string)), outcome(() => noble.etc.hexToBytes(h as string)), String(h));
  const badBytes: unknown[] = ["00", [1, 2], new Uint16Array(2), null, undefined, {}, new DataView(new ArrayBuffer(2))];
  for (const v of badBytes) {
    assert.is(outcome(() => ours.etc.bytesToHex(v as Uint8Array)), outcome(() => noble.etc.bytesToHex(v as Uint8Array)));
    assert.is(outcome(() => ours.etc.concatBytes(new Uint8Array(1), v as Uint8Array)), outcome(() => noble.etc.concatBytes(new Uint8Array(1), v as Uint8Array)));
  }
  for (const [a, m] of [[0n, P], [5n, 1n], [5n, 0n], [2n, 4n]] as [bigint, bigint][]) {
    assert.is(outcome(() => ours.etc.invert(a, m)), outcome(() => noble.etc.invert(a, m)));
  }
});

test("bad arguments: the same error family (TypeError / RangeError / Error), sync throw vs rejection as noble", async () => {
  const bad: unknown[] = [undefined, null, "00", 1, [0], {}, new Uint16Array(16), new Uint8Array(0), new Uint8Array(31), new Uint8Array(33), new Uint8Array(64), new Uint8Array(new ArrayBuffer(40), 3, 31)];
  const sk = rand(32);
  const msg = rand(10);
  const pk = noble.getPublicKey(sk);
  const sig = noble.sign(msg, sk);
  for (const v of bad) {
    const label = outcome(() => v);
    const x = v as Uint8Array;
    assert.is(outcome(() => ours.getPublicKey(x)), outcome(() => noble.getPublicKey(x)), `getPublicKey ${label}`);
    assert.is(outcome(() => ours.sign(msg, x)), outcome(() => noble.sign(msg, x)), `sign sk ${label}`);
    assert.is(outcome(() => ours.sign(x, sk)), outcome(() => noble.sign(x, sk)), `sign msg ${label}`);
    assert.is(outcome(() => ours.verify(x, msg, pk)), outcome(() => noble.verify(x, msg, pk)), `verify sig ${label}`);
    assert.is(outcome(() => ours.verify(sig, x, pk)), outcome(() => noble.verify(sig, x, pk)), `verify msg ${label}`);
    assert.is(outcome(() => ours.verify(sig, msg, x)), outcome(() => noble.verify(sig, msg, x)), `verify pk ${label}`);
    assert.is(outcome(() => ours.verify(sig, msg, pk, v as never)), outcome(() => noble.verify(sig, msg, pk, v as never)), `verify opts ${label}`);
    assert.is(outcome(() => ours.hash(x)), outcome(() => noble.hash(x)), `hash ${label}`);
    const family = (o: string) => (o.startsWith("ok:") ? "ok" : o); // undefined = fresh random key
    assert.is(family(outcome(() => ours.keygen(x).publicKey)), family(outcome(() => noble.keygen(x).publicKey)), `keygen ${label}`);
    assert.is(family(outcome(() => ours.utils.randomSecretKey(x))), family(outcome(() => noble.utils.randomSecretKey(x))), `randomSecretKey ${label}`);
    assert.is(outcome(() => ours.utils.getExtendedPublicKey(x)), outcome(() => noble.utils.getExtendedPublicKey(x)), `getExtendedPublicKey ${label}`);
    assert.is(outcome(() => ours.Point.fromBytes(x)), outcome(() => noble.Point.fromBytes(x)), `fromBytes ${label}`);
    assert.is(await outcomeAsync(() => ours.getPublicKeyAsync(x)), await outcomeAsync(() => noble.getPublicKeyAsync(x)), `getPublicKeyAsync ${label}`);
    assert.is(await outcomeAsync(() => ours.utils.getExtendedPublicKeyAsync(x)), await outcomeAsync(() => noble.utils.getExtendedPublicKeyAsync(x)), `getExtendedPublicKeyAsync ${label}`);
    assert.is(await outcomeAsync(() => ours.signAsync(msg, x)), await outcomeAsync(() => noble.signAsync(msg, x)), `signAsync ${label}`);
    assert.is(await outcomeAsync(() => ours.verifyAsync(sig, msg, x)), await outcomeAsync(() => noble.verifyAsync(sig, msg, x)), `verifyAsync ${label}`);
    const famA = (o: string) => (o.startsWith("ok:") ? "ok" : o);
    assert.is(famA(await outcomeAsync(() => ours.keygenAsync(x).then((k) => k.publicKey))), famA(await outcomeAsync(() => noble.keygenAsync(x).then((k) => k.publicKey))), `keygenAsync ${label}`);
  }
});

test("hashes: a real SHA-512 provider is accepted; providers that are not SHA-512 or unset make every call throw, as in noble", async () => {
  const sk = rand(32);
  const msg = rand(9);
  const sig = ours.sign(msg, sk);
  const pk = ours.getPublicKey(sk);
  const saved = { sync: ours.hashes.sha512, async: ours.hashes.sha512Async, nSync: noble.hashes.sha512, nAsync: noble.hashes.sha512Async };
  const providers: [string, unknown][] = [
    ["@noble/hashes sha512", (m: Uint8Array) => sha512(m)],
    ["short digest", () => new Uint8Array(3)],
    ["not bytes", () => "x"],
    ["unset", undefined],
  ];
  try {
    for (const [name, fn] of providers) {
      ours.hashes.sha512 = fn as never;
      noble.hashes.sha512 = fn as never;
      assert.is(outcome(() => ours.getPublicKey(sk)), outcome(() => noble.getPublicKey(sk)), name);
      assert.is(outcome(() => ours.sign(msg, sk)), outcome(() => noble.sign(msg, sk)), name);
      assert.is(outcome(() => ours.verify(sig, msg, pk)), outcome(() => noble.verify(sig, msg, pk)), name);
      assert.is(outcome(() => ours.hash(msg)), outcome(() => noble.hash(msg)), name);
      const asyncFn = typeof fn === "function" ? async (m: Uint8Array) => (fn as (m: Uint8Array) => unknown)(m) : fn;
      ours.hashes.sha512Async = asyncFn as never;
      noble.hashes.sha512Async = asyncFn as never;
      assert.is(await outcomeAsync(() => ours.signAsync(msg, sk)), await outcomeAsync(() => noble.signAsync(msg, sk)), name);
      assert.is(await outcomeAsync(() => ours.verifyAsync(sig, msg, pk)), await outcomeAsync(() => noble.verifyAsync(sig, msg, pk)), name);
      assert.is(await outcomeAsync(() => ours.getPublicKeyAsync(sk)), await outcomeAsync(() => noble.getPublicKeyAsync(sk)), name);
    }
    // A provider that is 64 bytes but not SHA-512: noble computes garbage; we refuse (documented).
    ours.hashes.sha512 = () => new Uint8Array(64);
    assert.throws(() => ours.sign(msg, sk), /known answer/);
  } finally {
    ours.hashes.sha512 = saved.sync;
    ours.hashes.sha512Async = saved.async;
    noble.hashes.sha512 = saved.nSync;
    noble.hashes.sha512Async = saved.nAsync;
  }
  assert.is(hex(ours.sign(msg, sk)), hex(sig));
});

test("detached views and Proxies of a Uint8Array are TypeErrors, as in noble", () => {
  const buf = new ArrayBuffer(32);
  const view = new Uint8Array(buf);
  structuredClone(buf, { transfer: [buf] });
  assert.throws(() => ours.sign(view, rand(32)), (e: unknown) => e instanceof TypeError);
  assert.is(outcome(() => ours.hash(view)), "TypeError");
  assert.is(outcome(() => noble.hash(view)), "TypeError");
  const sk = rand(32);
  assert.is(outcome(() => ours.getPublicKey(new Proxy(sk, {}))), "TypeError");
  assert.is(outcome(() => noble.getPublicKey(new Proxy(sk, {}))), "TypeError");
});

test.run();
