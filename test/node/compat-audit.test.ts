// Gaps a mutation audit of the drop-in compat entries (src/compat/noble-ed25519.ts,
// src/compat/tweetnacl.ts) found: paths where a wrong answer passed every other compat suite.
// Each test states what it guards against. Oracles: @noble/ed25519 3.x and tweetnacl 1.x
// themselves, on the same inputs.
import { test } from "uvu";
import * as assert from "uvu/assert";
import * as noble from "@noble/ed25519";
import { sha512 } from "@noble/hashes/sha2.js";
import nacl from "tweetnacl";
import * as ours from "../../src/compat/noble-ed25519.js";
import oursNacl, { InvalidKeyError } from "../../src/compat/tweetnacl.js";
import { L, P, le } from "../helpers/ed25519-oracles.js";
import { tsxChildResult } from "../helpers/processes.js";

noble.hashes.sha512 = (m: Uint8Array) => sha512(m);

const hex = (b: Uint8Array) => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString("hex");

/** "ok:<hex>" of a point or bytes, or the error family and message (noble's messages are kept as noble's). */
function outcome(fn: () => unknown): string {
  try {
    const v = fn();
    if (v instanceof Uint8Array) return "ok:" + hex(v);
    if (typeof v === "object" && v !== null && "toHex" in v) return "point:" + (v as { toHex(): string }).toHex();
    return "ok:" + String(v);
  } catch (e) {
    const family = e instanceof TypeError ? "TypeError" : e instanceof RangeError ? "RangeError" : e instanceof Error ? "Error" : "non-error";
    return `${family}: ${(e as Error).message}`;
  }
}

test("chio-trust/ed25519: etc.randomBytes, utils.randomSecretKey() and keygen() give random bytes, not a constant (a mutation audit found a zero-filled 'random' key passed)", async () => {
  // Distinct on every call and not all zero: with 32 random bytes a repeat has probability 2^-256.
  const seen = new Set<string>();
  const draws: Uint8Array[] = [ours.etc.randomBytes(), ours.etc.randomBytes(32), ours.utils.randomSecretKey(), ours.utils.randomSecretKey(), ours.keygen().secretKey, (await ours.keygenAsync()).secretKey];
  for (const d of draws) {
    assert.is(d.length, 32);
    assert.ok(d.some((b) => b !== 0), "not all zero");
    seen.add(hex(d));
  }
  assert.is(seen.size, draws.length, "every draw differs");
  const long = ours.etc.randomBytes(1000);
  assert.is(long.length, 1000);
  assert.ok(new Set(long).size > 100, "a long draw holds many byte values");
  // keygen()'s public key is the key of the random secret (checked against noble).
  const pair = ours.keygen();
  assert.is(hex(pair.publicKey), hex(noble.getPublicKey(pair.secretKey)));
});

test("chio-trust/ed25519: Point.fromHex passes its zip215 flag on, as noble's does (a mutation audit found the flag dropped)", () => {
  // Non-canonical y (y >= p) decodes only under zip215; x = 0 with the sign bit likewise.
  const encodings = [le(P), le(P + 1n), le(P + 4n), Uint8Array.from(le(1n), (b, i) => (i === 31 ? b | 0x80 : b)), le(1n), noble.Point.BASE.toBytes()];
  let separated = 0;
  for (const e of encodings) {
    const h = hex(e);
    for (const zip215 of [true, false, undefined]) {
      const theirs = outcome(() => noble.Point.fromHex(h, zip215));
      assert.is(outcome(() => ours.Point.fromHex(h, zip215)), theirs, `${h} zip215=${zip215}`);
      assert.is(outcome(() => ours.Point.fromBytes(e, zip215)), outcome(() => noble.Point.fromBytes(e, zip215)), `fromBytes ${h} zip215=${zip215}`);
    }
    if (outcome(() => noble.Point.fromHex(h, true)) !== outcome(() => noble.Point.fromHex(h, false))) separated++;
  }
  assert.ok(separated >= 3, "the encodings separate the two rules");
});

test("chio-trust/ed25519: Point.multiply and multiplyUnsafe on scalars with the top bits set, up to L - 1 (a mutation audit found the high bits of a scalar ignored)", () => {
  // Random scalars below L almost never reach 2^252 (probability about 2^-127): these do.
  const scalars = [L - 1n, L - 2n, 2n ** 252n, 2n ** 252n + 1n, 2n ** 252n - 1n, 2n ** 251n + 3n, (L - 1n) / 2n + 1n];
  const other = noble.Point.BASE.multiply(0xdeadbeefn);
  const otherOurs = ours.Point.fromHex(other.toHex());
  for (const k of scalars) {
    assert.is(ours.Point.BASE.multiply(k).toHex(), noble.Point.BASE.multiply(k).toHex(), `BASE * ${k}`);
    assert.is(ours.Point.BASE.multiplyUnsafe(k).toHex(), noble.Point.BASE.multiplyUnsafe(k).toHex(), `BASE *unsafe ${k}`);
    assert.is(otherOurs.multiply(k).toHex(), other.multiply(k).toHex(), `Q * ${k}`);
  }
  // [L - 1]B = -B: an identity independent of the oracle.
  assert.ok(ours.Point.BASE.multiply(L - 1n).equals(ours.Point.BASE.negate()));
});

test("chio-trust/ed25519: with several bad arguments, verify and verifyAsync report the one noble checks first (a mutation audit found the order of checks changed)", async () => {
  const sk = new Uint8Array(32).fill(5);
  const msg = new Uint8Array(4);
  const pk = noble.getPublicKey(sk);
  const sig = noble.sign(msg, sk);
  const badSig = [sig, new Uint8Array(63), "sig"];
  const badMsg = [msg, 7];
  const badPk = [pk, new Uint8Array(31), null];
  let cases = 0;
  for (const s of badSig) for (const m of badMsg) for (const p of badPk) {
    const args = [s, m, p] as unknown as [Uint8Array, Uint8Array, Uint8Array];
    const theirs = outcome(() => noble.verify(...args));
    assert.is(outcome(() => ours.verify(...args)), theirs, theirs);
    let asyncOurs = "";
    let asyncTheirs = "";
    await ours.verifyAsync(...args).then((v) => (asyncOurs = "ok:" + v), (e) => (asyncOurs = outcome(() => { throw e; })));
    await noble.verifyAsync(...args).then((v) => (asyncTheirs = "ok:" + v), (e) => (asyncTheirs = outcome(() => { throw e; })));
    assert.is(asyncOurs, asyncTheirs, "async " + asyncTheirs);
    cases++;
  }
  assert.is(cases, 18);
});

test("chio-trust/ed25519: the async key functions check hashes.sha512Async, and a bad argument is reported before an unset hashes.sha512, as in noble (a mutation audit found keygenAsync skipping the async provider, and verify checking the provider before its arguments)", async () => {
  const seed = new Uint8Array(32).fill(1);
  const settle = (promise: Promise<unknown>) => promise.then((v) => "ok:" + String(v), (e) => outcome(() => { throw e; }));
  const saved = { sync: ours.hashes.sha512, async: ours.hashes.sha512Async, nSync: noble.hashes.sha512, nAsync: noble.hashes.sha512Async };
  try {
    for (const lib of [ours, noble] as const) {
      lib.hashes.sha512 = (m: Uint8Array) => sha512(m);
      lib.hashes.sha512Async = async () => new Uint8Array(3); // not SHA-512: the async calls refuse
    }
    const keygen = [await settle(ours.keygenAsync(seed).then((k) => hex(k.publicKey))), await settle(noble.keygenAsync(seed).then((k) => hex(k.publicKey)))];
    assert.is(keygen[0], keygen[1]);
    assert.ok(keygen[1].startsWith("RangeError"), keygen[1]);
    const extended = [await settle(ours.utils.getExtendedPublicKeyAsync(seed).then((e) => e.scalar)), await settle(noble.utils.getExtendedPublicKeyAsync(seed).then((e) => e.scalar))];
    assert.is(extended[0], extended[1]);
    // The sync calls still work with the sync provider.
    assert.is(hex(ours.keygen(seed).publicKey), hex(noble.keygen(seed).publicKey));
    // An unset sync provider and a bad argument: the argument's error, as noble orders its checks.
    for (const lib of [ours, noble] as const) lib.hashes.sha512 = undefined;
    const badArgs: [string, (lib: typeof ours | typeof noble) => unknown][] = [
      ["verify", (lib) => lib.verify(new Uint8Array(3), new Uint8Array(1), new Uint8Array(32))],
      ["verify pk", (lib) => lib.verify(new Uint8Array(64), new Uint8Array(1), new Uint8Array(31))],
      ["sign", (lib) => lib.sign(new Uint8Array(3), new Uint8Array(3))],
      ["getPublicKey", (lib) => lib.getPublicKey(new Uint8Array(3))],
      ["hash", (lib) => lib.hash("x" as never)],
    ];
    for (const [name, call] of badArgs) {
      const theirs = outcome(() => call(noble));
      assert.ok(!theirs.includes("not set"), theirs);
      assert.is(outcome(() => call(ours)), theirs, name);
    }
  } finally {
    ours.hashes.sha512 = saved.sync;
    ours.hashes.sha512Async = saved.async;
    noble.hashes.sha512 = saved.nSync;
    noble.hashes.sha512Async = saved.nAsync;
  }
});

test("chio-trust/ed25519: Point.assertValidity refuses coordinates whose T is not XY/Z, as noble's (a mutation audit found the second equation unchecked)", () => {
  const B = noble.Point.BASE;
  for (const T of [0n, 5n, (B.T + 1n) % P]) {
    const theirs = outcome(() => new noble.Point(B.X, B.Y, B.Z, T).assertValidity());
    assert.ok(theirs.startsWith("Error"), theirs);
    assert.is(outcome(() => new ours.Point(B.X, B.Y, B.Z, T).assertValidity()), theirs, `T = ${T}`);
  }
  // Projective coordinates with Z != 1 that are valid pass in both.
  const Z = 7n;
  const scaled = (lib: typeof ours | typeof noble) => new lib.Point((B.X * Z) % P, (B.Y * Z) % P, Z, (B.T * Z) % P).assertValidity();
  assert.is(outcome(() => scaled(ours)), outcome(() => scaled(noble)));
  assert.ok(outcome(() => scaled(ours)).startsWith("point:"));
});

test("chio-trust/tweetnacl: a secret key whose public half differs from the seed's key in any one byte is refused (a mutation audit found a byte of the comparison skipped)", () => {
  const kp = nacl.sign.keyPair.fromSeed(Uint8Array.from({ length: 32 }, (_, i) => 31 * i + 5));
  const msg = new TextEncoder().encode("one message");
  for (let i = 0; i < 32; i++) {
    for (const bit of [0x01, 0x80]) {
      const forged = kp.secretKey.slice();
      forged[32 + i] ^= bit;
      for (const [name, call] of [
        ["sign", () => oursNacl.sign(msg, forged)],
        ["sign.detached", () => oursNacl.sign.detached(msg, forged)],
        ["sign.keyPair.fromSecretKey", () => oursNacl.sign.keyPair.fromSecretKey(forged)],
      ] as const) {
        assert.throws(call, (e: unknown) => e instanceof InvalidKeyError && e.code === "INVALID_SECRET_KEY", `${name}: public byte ${i} ^ ${bit}`);
      }
    }
  }
  // The untouched key still signs as tweetnacl does.
  assert.is(hex(oursNacl.sign.detached(msg, kp.secretKey)), hex(nacl.sign.detached(msg, kp.secretKey)));
});

test("chio-trust/tweetnacl: returned keys and opened messages are arrays of their own, as tweetnacl's (a mutation audit found a public key aliasing its secret key)", () => {
  const seed = Uint8Array.from({ length: 32 }, (_, i) => 200 - i);
  const expected = nacl.sign.keyPair.fromSeed(seed);
  const pairs = [oursNacl.sign.keyPair.fromSeed(seed), oursNacl.sign.keyPair.fromSecretKey(expected.secretKey), oursNacl.sign.keyPair()];
  for (const [i, pair] of pairs.entries()) {
    assert.ok(pair.publicKey.buffer !== pair.secretKey.buffer, `pair ${i}: separate buffers`);
    const secretBefore = hex(pair.secretKey);
    pair.publicKey.fill(0);
    assert.is(hex(pair.secretKey), secretBefore, `pair ${i}: writing the public key leaves the secret key`);
  }
  assert.is(hex(pairs[0].secretKey), hex(expected.secretKey));
  const input = expected.secretKey.slice();
  const fromSecret = oursNacl.sign.keyPair.fromSecretKey(input);
  fromSecret.secretKey.fill(0);
  assert.is(hex(input), hex(expected.secretKey), "fromSecretKey's secret key is a copy of the argument");
  // sign.open returns a new array, not a view of the signed message.
  const message = new TextEncoder().encode("opened");
  const signed = nacl.sign(message, expected.secretKey);
  const opened = oursNacl.sign.open(signed, expected.publicKey)!;
  assert.is(hex(opened), hex(nacl.sign.open(signed, expected.publicKey)!));
  opened.fill(0);
  assert.is(hex(signed.subarray(64)), hex(message), "writing the opened message leaves the signed message");
  const attached = oursNacl.sign(message, expected.secretKey);
  attached.fill(0);
  assert.is(hex(message), hex(new TextEncoder().encode("opened")));
});

test("chio-trust/tweetnacl: size errors carry tweetnacl's message for each argument (a mutation audit found a message swapped)", () => {
  const kp = nacl.sign.keyPair.fromSeed(new Uint8Array(32).fill(4));
  const msg = new Uint8Array(3);
  const sig = nacl.sign.detached(msg, kp.secretKey);
  const message = (fn: () => unknown) => {
    try {
      fn();
    } catch (e) {
      return (e as Error).message;
    }
    return "returned";
  };
  for (const n of [0, 31, 33, 63, 65]) {
    const x = new Uint8Array(n);
    const pairs: [() => unknown, () => unknown][] = [
      [() => oursNacl.sign(msg, x), () => nacl.sign(msg, x)],
      [() => oursNacl.sign.detached(msg, x), () => nacl.sign.detached(msg, x)],
      [() => oursNacl.sign.detached.verify(msg, x, kp.publicKey), () => nacl.sign.detached.verify(msg, x, kp.publicKey)],
      [() => oursNacl.sign.detached.verify(msg, sig, x), () => nacl.sign.detached.verify(msg, sig, x)],
      [() => oursNacl.sign.open(sig, x), () => nacl.sign.open(sig, x)],
      [() => oursNacl.sign.keyPair.fromSeed(x), () => nacl.sign.keyPair.fromSeed(x)],
      [() => oursNacl.sign.keyPair.fromSecretKey(x), () => nacl.sign.keyPair.fromSecretKey(x)],
    ];
    for (const [o, t] of pairs) {
      const theirs = message(t);
      assert.ok(theirs !== "returned" && theirs.startsWith("bad "), theirs);
      assert.is(message(o), theirs, `${n} bytes: ${o.toString()}`);
    }
  }
});

test("chio-trust/tweetnacl: with a wrong type and a wrong size among sign.detached.verify's arguments, the type is reported, as tweetnacl checks every type before any size (a mutation audit found the size checked first)", () => {
  const msg = new Uint8Array(3);
  const cases: unknown[][] = [
    [msg, new Uint8Array(63), "not bytes"],
    [msg, new Uint8Array(65), [1, 2, 3]],
    [msg, new Uint8Array(0), new Uint16Array(32)],
  ];
  const kind = (fn: () => unknown) => {
    try {
      fn();
    } catch (e) {
      return e instanceof TypeError ? "TypeError" : e instanceof Error ? `Error: ${e.message}` : "non-error";
    }
    return "returned";
  };
  for (const [m, s, p] of cases) {
    const theirs = kind(() => nacl.sign.detached.verify(m as Uint8Array, s as Uint8Array, p as Uint8Array));
    assert.is(theirs, "TypeError", "tweetnacl's answer");
    assert.is(kind(() => oursNacl.sign.detached.verify(m as Uint8Array, s as Uint8Array, p as Uint8Array)), theirs, String(p));
  }
});

test("chio-trust/tweetnacl: randomBytes and keyPair fill every byte they hand out, the last one too (a mutation audit found the last byte of each request left zero)", () => {
  // Each byte below is random: all 24 draws zero has probability 2^-192.
  const last = (b: Uint8Array) => b[b.length - 1];
  for (const n of [1, 2, 32, 65536, 65537]) {
    const draws = Array.from({ length: 24 }, () => last(oursNacl.randomBytes(n)));
    assert.ok(draws.some((b) => b !== 0), `randomBytes(${n}): the last byte is filled`);
  }
  const seeds = Array.from({ length: 24 }, () => oursNacl.sign.keyPair().secretKey);
  assert.ok(seeds.some((sk) => sk[31] !== 0), "keyPair: the last seed byte is filled");
  assert.ok(seeds.some((sk) => sk[0] !== 0), "keyPair: the first seed byte is filled");
});

test("chio-trust/tweetnacl: verify is false for arrays of different lengths, a prefix included, as tweetnacl's (a mutation audit found a prefix compared equal)", () => {
  const x = Uint8Array.from({ length: 48 }, (_, i) => i * 5 + 1);
  const cases: [Uint8Array, Uint8Array][] = [[x.slice(0, 47), x], [x, x.slice(0, 47)], [x.slice(0, 1), x], [x.slice(0, 32), x], [x, x.slice()]];
  for (const [a, b] of cases) assert.is(oursNacl.verify(a, b), nacl.verify(a, b), `${a.length} vs ${b.length}`);
  assert.is(oursNacl.verify(x.slice(0, 16), x), false);
  assert.is(oursNacl.verify(x, x.slice()), true);
});

test("chio-trust/ed25519: every function has noble's kind (async where noble's is async: signAsync was a plain function returning a promise) and hashes lists its providers in noble's order (a drop-in audit found both)", () => {
  const kinds = (lib: Record<string, unknown>, prefix = ""): string[] => {
    const out: string[] = [];
    for (const name of Object.keys(lib).sort()) {
      const value = lib[name];
      if (typeof value === "function" && name !== "Point") out.push(`${prefix}${name}: ${(value as { constructor: { name: string } }).constructor.name}`);
      else if (value !== null && typeof value === "object" && prefix === "") out.push(...kinds(value as Record<string, unknown>, `${name}.`));
    }
    return out;
  };
  // hashes.sha512 differs by design: noble ships it unset (this file sets it, line 14); ours is the built-in one.
  const compared = (lib: unknown) => kinds(lib as Record<string, unknown>).filter((kind) => !kind.startsWith("hashes.sha512:"));
  const theirs = compared(noble);
  assert.ok(theirs.includes("signAsync: AsyncFunction") && theirs.includes("sign: Function") && theirs.includes("hashes.sha512Async: AsyncFunction"), theirs.join(", "));
  assert.equal(compared(ours), theirs);
  assert.is(typeof ours.hashes.sha512, "function");
  assert.equal(Object.keys(ours.hashes), Object.keys(noble.hashes));
  assert.equal(Object.keys(ours.hashes), ["sha512Async", "sha512"]);
});


test("chio-trust/tweetnacl: randomBytes takes the largest documented n, 2^31 - 1, and refuses 2^31 (a mutation audit found the upper bound off by one)", () => {
  // In a child process (test/helpers/random-bytes-bound-child.ts): the generator it sets cannot be
  // taken back, and this suite shares its process with compat-tweetnacl's tests of the default.
  const result = tsxChildResult<{ length: number; refused: string; requests: number[] }>(new URL("../helpers/random-bytes-bound-child.ts", import.meta.url));
  assert.equal(result, { length: 2 ** 31 - 1, refused: "RangeError", requests: [2 ** 31 - 1] });
});

test.run();
