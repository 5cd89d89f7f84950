// The worker pool (chio-trust/pool): every answer equals the in-thread one, argument errors are
// the in-thread API's, crashed workers lose no job, close() drains. Workers load the BUILT
// worker (dist/), so this suite uses the built entry; `npm test` builds first. The in-thread
// oracles run from src/ (ed25519.verify, verifyEnvelopeBytes), and node:crypto / @noble/curves
// check the signature answers independently.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { randomBytes } from "node:crypto";
import { execFileSync } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { createVerifierPool, POOL_CALL_OVERHEAD_BYTES, POOL_TASK_OVERHEAD_BYTES, VerifierPoolError, type VerifierPool } from "../../dist/esm/pool/index.js";
// The pool behind the object createVerifierPool returns, for the tests that read its private state.
import { poolInternals as internalsOf } from "../../dist/esm/pool/internals.js";
import { ed25519 } from "../../src/ed25519.js";
import { canonicalizeJson } from "../../src/canonical/json.js";
import { verifyEnvelopeBytes, type VerifyEnvelopeOptions } from "../../src/handshake/verify-envelope.js";
import { KernelTrustExchange, Keypair } from "../../src/handshake/index.js";
import { bytesToHex } from "../../src/bytes.js";
import { L, le, fromLE, nodeAccepts, nobleZip215, nodeSign, torsionPoints, randomScalar } from "../helpers/ed25519-oracles.js";
import { HANDSHAKE_SCHEMA, canonicalChallenge, envelopeText, signWithNonce, type ChallengeFields } from "../helpers/envelope-builders.js";
import { ed25519 as noble } from "@noble/curves/ed25519.js";
import { sha512 } from "@noble/hashes/sha2.js";
import { rejectsWithCode, settledWithin, throwsWith } from "../helpers/assert-codes.js";
import { scaled } from "../helpers/scale.js";

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), "..", "..");

interface Item {
  signature: Uint8Array;
  message: Uint8Array;
  publicKey: Uint8Array;
}

const u8 = (b: Buffer | Uint8Array) => new Uint8Array(b);

/** A node:crypto-signed item, then (by kind) tampered, or a crafted small-order item that the two rules judge differently. */
function randomItem(kind: number): Item {
  const seed = randomBytes(32);
  const message = u8(randomBytes(kind % 3 === 0 ? 0 : 1 + (randomBytes(1)[0] % 200)));
  const signature = nodeSign(seed, message);
  const publicKey = ed25519.getPublicKey(seed);
  switch (kind % 7) {
    case 0:
    case 1:
      return { signature, message, publicKey }; // valid
    case 2:
      signature[randomBytes(1)[0] % 64] ^= 1 << (randomBytes(1)[0] % 8); // tampered signature
      return { signature, message, publicKey };
    case 3: {
      const tampered = message.length > 0 ? message : new Uint8Array(1);
      if (message.length > 0) tampered[0] ^= 0x80;
      return { signature, message: tampered, publicKey };
    }
    case 4:
      publicKey[3] ^= 4; // another key (or one that does not decode)
      return { signature, message, publicKey };
    case 5: {
      // S + L: refused by both rules (S must be below L).
      const s = fromLE(signature.subarray(32)) + L;
      signature.set(le(s), 32);
      return { signature, message, publicKey };
    }
    default: {
      // A and R of small order, S = 0: ZIP-215 always accepts, the cofactorless rule about 1 time in 8.
      const torsion = torsionPoints();
      const a = torsion[1 + (randomBytes(1)[0] % 7)].toBytes();
      const r = torsion[randomBytes(1)[0] % 8].toBytes();
      const forged = new Uint8Array(64);
      forged.set(r, 0);
      return { signature: forged, message, publicKey: a };
    }
  }
}

const randomItems = (n: number): Item[] => Array.from({ length: n }, () => randomItem(randomBytes(1)[0]));

// ---- Envelopes ---------------------------------------------------------------------------

const NOW = 1764000000;
const encoder = new TextEncoder();

/** A signed envelope JSON text around any challenge text (canonicalized and signed here). */
function envelopeAround(challengeText: string, keypair: Keypair): string {
  const signature = keypair.sign(canonicalizeJson(challengeText));
  return `{"challenge":${challengeText},"declaredPublicKey":"${keypair.publicKey.toHex()}","signature":"${bytesToHex(signature.toBytes())}"}`;
}

function envelopeCorpus(): (Uint8Array | string)[] {
  const out: (Uint8Array | string)[] = [];
  for (let i = 0; i < 12; i++) {
    const kp = Keypair.fromSeed(u8(randomBytes(32)));
    const text = JSON.stringify(new KernelTrustExchange(`kernel-é-${i}-🙂`, kp).localEnvelope("kernel-local", `nonce-${i}`, NOW + i));
    out.push(text, encoder.encode(text)); // valid, as text and as bytes
    out.push(text.replace(`nonce-${i}`, `nonce-${i}x`)); // tampered challenge
    const sig = /"signature":"([0-9a-f]+)"/.exec(text)![1];
    out.push(encoder.encode(text.replace(sig, sig.slice(0, 10) + (sig[10] === "0" ? "1" : "0") + sig.slice(11)))); // tampered signature
    out.push(text.slice(0, 1 + (i * 37) % (text.length - 1))); // truncated
  }
  const kp = Keypair.fromSeed(u8(randomBytes(32)));
  const challenge = (schema: string, timestamp: string) =>
    `{"localKernelId":"a","nonce":"n","remoteKernelId":"b","schema":"${schema}","timestamp":${timestamp}}`;
  out.push(envelopeAround(challenge("chio.federation-kernel-handshake.v1", "18446744073709551615"), kp)); // u64 timestamp → bigint
  out.push(envelopeAround(challenge("chio.federation-kernel-handshake.v1", "9007199254740993"), kp));
  out.push(envelopeAround(challenge("some.other.schema", "1"), kp)); // UNSUPPORTED_SCHEMA
  out.push(envelopeAround(challenge("x".repeat(300), "1"), kp)); // schema cut to 200 units
  const weak = envelopeAround(challenge("chio.federation-kernel-handshake.v1", "1"), kp).replace(kp.publicKey.toHex(), "01" + "00".repeat(31));
  out.push(weak); // WEAK_PUBLIC_KEY (identity key)
  out.push('{"challenge":{},"extra":1}', "{", "", "\ud800", '"\\ud800"', "[1,2]", '{"challenge":1}');
  out.push(new Uint8Array([0xff, 0xfe, 0x7b]), new Uint8Array(0), u8(randomBytes(100)));
  out.push("x".repeat(70000), new Uint8Array(70000).fill(0x20)); // larger than the default maxBytes
  return out;
}

// ---- Pools (one shared, closed at the end) --------------------------------------------------

let shared: VerifierPool;
test.before(() => {
  shared = createVerifierPool({ threads: 2, chunkSize: 16 });
});
test.after(async () => {
  await shared.close();
});

for (const zip215 of [false, true]) {
  test(`verifyBatch equals ed25519.verify on random mixes (zip215 ${zip215}), and node / noble agree`, async () => {
    const items = randomItems(scaled(300));
    const got = await shared.verifyBatch(items, { zip215 });
    assert.is(got.length, items.length);
    const oracle = zip215 ? nobleZip215 : nodeAccepts;
    items.forEach((it, i) => {
      const inThread = ed25519.verify(it.signature, it.message, it.publicKey, { zip215 });
      assert.is(got[i], inThread, `item ${i}`);
      assert.is(got[i], oracle(it.signature, it.message, it.publicKey), `item ${i} (independent oracle)`);
    });
    assert.ok(got.includes(true) && got.includes(false), "the mix has both answers");
  });

  test(`many concurrent verify() calls equal ed25519.verify (zip215 ${zip215})`, async () => {
    const items = randomItems(scaled(150));
    const got = await Promise.all(items.map((it) => shared.verify(it.signature, it.message, it.publicKey, { zip215 })));
    items.forEach((it, i) => assert.is(got[i], ed25519.verify(it.signature, it.message, it.publicKey, { zip215 }), `item ${i}`));
  });
}

test("the two rules really differ on the small-order items, and the pool follows each", async () => {
  const items = Array.from({ length: 64 }, () => randomItem(6));
  const [cofactorless, zip215] = await Promise.all([shared.verifyBatch(items), shared.verifyBatch(items, { zip215: true })]);
  assert.ok(zip215.every((v) => v));
  assert.ok(cofactorless.includes(false));
  items.forEach((it, i) => assert.is(cofactorless[i], ed25519.verify(it.signature, it.message, it.publicKey)));
});

test("an empty batch gives [] and single verify answers through each chunk size", async () => {
  assert.equal(await shared.verifyBatch([]), []);
  assert.equal(await shared.verifyEnvelopeBatch([]), []);
  const items = randomItems(5);
  for (const chunkSize of [1, 2, 1024]) {
    const pool = createVerifierPool({ threads: 1, chunkSize });
    try {
      assert.equal(await pool.verifyBatch(items), items.map((it) => ed25519.verify(it.signature, it.message, it.publicKey)));
    } finally {
      await pool.close();
    }
  }
});

test("calls are cut into tasks by planCall: by default 256 items on 2 threads are 2 tasks of 128, 64 items 2 of 32, 40 items one; single calls by bucket", async () => {
  const pool = createVerifierPool({ threads: 2 });
  // piscina's count of finished tasks, read through the pool's private field: what was sent.
  const piscina = internalsOf<{ piscina: { completed: number } }>(pool).piscina;
  const tasksOf = async (run: () => Promise<unknown>): Promise<number> => {
    const before = piscina.completed;
    await run();
    return piscina.completed - before;
  };
  try {
    const items = randomItems(256);
    const expected = items.map((it) => ed25519.verify(it.signature, it.message, it.publicKey));
    let answers: boolean[] = [];
    assert.is(await tasksOf(async () => (answers = await pool.verifyBatch(items))), 2);
    assert.equal(answers, expected);
    assert.is(await tasksOf(() => pool.verifyBatch(items.slice(0, 64))), 2);
    assert.is(await tasksOf(() => pool.verifyBatch(items.slice(0, 40))), 1);
    // Single calls made in one tick: a burst of 100 goes as 2 tasks of 50; one of 256 as two full
    // buckets of 128, a task each (not cut further); one of 300 as those and a task of 44.
    const singles = (n: number) => Promise.all(items.concat(items).slice(0, n).map((it) => pool.verify(it.signature, it.message, it.publicKey)));
    assert.is(await tasksOf(async () => (answers = await singles(100))), 2);
    assert.equal(answers, expected.slice(0, 100));
    assert.is(await tasksOf(async () => (answers = await singles(256))), 2);
    assert.equal(answers, expected);
    assert.is(await tasksOf(async () => (answers = await singles(300))), 3);
    assert.equal(answers, expected.concat(expected).slice(0, 300));
    const envelopes = envelopeCorpus().slice(0, 64);
    assert.ok(envelopes.length === 64, "the corpus has 64 envelopes");
    assert.is(await tasksOf(() => pool.verifyEnvelopeBatch(envelopes)), 2);
  } finally {
    await pool.close();
  }
});

const envelopeOptions: (VerifyEnvelopeOptions | undefined)[] = [undefined, { zip215: true, rejectWeakKeys: false }, { maxBytes: 300, escapeDelAndC1: true }];
for (const options of envelopeOptions) {
  test(`verifyEnvelopeBatch deep-equals verifyEnvelopeBytes (options ${JSON.stringify(options)})`, async () => {
    const corpus = envelopeCorpus();
    const got = await shared.verifyEnvelopeBatch(corpus, options);
    assert.is(got.length, corpus.length);
    const codes = new Set<string>();
    corpus.forEach((input, i) => {
      const expected = verifyEnvelopeBytes(input, options);
      assert.equal(got[i], expected, `envelope ${i}`);
      codes.add(expected.ok ? "OK" : expected.code);
    });
    if (options === undefined) {
      assert.equal([...codes].sort(), ["INVALID_SIGNATURE", "MALFORMED_ENVELOPE", "OK", "UNSUPPORTED_SCHEMA", "WEAK_PUBLIC_KEY"]);
      const bigint = got.find((v) => v.ok && typeof v.envelope.challenge.timestamp === "bigint");
      assert.ok(bigint, "a u64 timestamp comes back as a bigint");
    }
  });
}

// Envelopes signed outside the code under test (test/helpers/envelope-builders.ts): a secret
// scalar a and A = [a]B (+ a torsion point for a mixed-order key) over @noble/curves points.
const Point = noble.Point;
const T = torsionPoints(); // T[k] = [k]T1, T1 of order 8
const scalarKey = (torsion = Point.ZERO) => {
  const a = randomScalar();
  return { a, pk: Point.BASE.multiply(a).add(torsion).toBytes() };
};
const challengeWith = (fields: Partial<ChallengeFields>): ChallengeFields => ({
  schema: HANDSHAKE_SCHEMA,
  localKernelId: "kernel.a",
  remoteKernelId: "kernel.b",
  nonce: randomBytes(8).toString("hex"),
  timestamp: NOW,
  ...fields,
});

test("string envelopes longer than the worker's 4,096-unit slices (non-ASCII and astral characters, below maxBytes) arrive whole: verdicts deep-equal verifyEnvelopeBytes, the valid ones ok", async () => {
  // Mutation audit P4: the worker rebuilds a string input from its UTF-16 units 4,096 at a time
  // (codec.ts, unpackEnvelopeChunk); a slice step that overlaps (4,095) or skips units changed
  // every string longer than one slice, and a valid envelope came back INVALID_SIGNATURE. The
  // corpus's only inputs that long are over maxBytes (TOO_LARGE before any signature), so no
  // test saw it. Here strings of 4,097 to ~16,000 units, well below the default 64 KiB, with
  // é, € and astral 🙂 (UTF-8 and UTF-16 lengths differ), one pair across units 4,095/4,096.
  const key = scalarKey();
  const pieces = ["a", "é", "€", "🙂", "-", "z"];
  const idOfUnits = (units: number): string => {
    let id = "";
    while (id.length < units) id += pieces[randomBytes(1)[0] % pieces.length];
    return id;
  };
  const signed = (localKernelId: string): string => {
    const c = challengeWith({ localKernelId });
    return envelopeText(c, key.pk, signWithNonce(key.a, key.pk, canonicalChallenge(c), randomScalar()));
  };
  // The unit where localKernelId's value starts in the envelope text (the text before it is fixed).
  const idAt = signed("").indexOf('"localKernelId":"') + '"localKernelId":"'.length;
  const straddling = signed("x".repeat(4095 - idAt) + "🙂" + idOfUnits(900));
  assert.is(straddling.charCodeAt(4095), 0xd83d, "a surrogate pair across the first slice's end");
  const valid = [straddling, ...[4097, 5400, 8193, 12289, 16000].map((units) => signed(idOfUnits(units - idAt)))];
  const sig = /"signature":"([0-9a-f]+)"$/.exec(valid[2].slice(0, -1))![1];
  const tampered = valid[2].replace(sig, sig.slice(0, 70) + (sig[70] === "0" ? "1" : "0") + sig.slice(71));
  const inputs: (string | Uint8Array)[] = [...valid, tampered, encoder.encode(valid[3])];
  for (const text of [...valid, tampered]) {
    assert.ok(text.length > 4096, `${text.length} units: more than one slice`);
    assert.ok(encoder.encode(text).length < 65536 && encoder.encode(text).length !== text.length, "below the default maxBytes, UTF-8 longer than UTF-16");
  }
  const got = await shared.verifyEnvelopeBatch(inputs);
  const expected = inputs.map((input) => verifyEnvelopeBytes(input));
  inputs.forEach((_, i) => assert.equal(got[i], expected[i], `envelope ${i}`));
  assert.equal(expected.map((v) => (v.ok ? "ok" : v.code)), [...valid.map(() => "ok"), "INVALID_SIGNATURE", "ok"], "the in-thread verdicts: the signatures are right");
});

test("the envelope options reach the workers: envelopes whose verdicts change with zip215, rejectWeakKeys and escapeDelAndC1 deep-equal verifyEnvelopeBytes under each option set (the default maxBytes)", async () => {
  // Mutation audit P22, P23: poolEnvelopeOptions sending the workers escapeDelAndC1: false or
  // zip215: false whatever the caller asked passed every test: the pool's option sets used
  // escapeDelAndC1 only with maxBytes: 300 (every verdict TOO_LARGE), and the corpus had no
  // envelope whose verdict depends on the options. Each envelope below has a verdict that differs
  // between two option sets, and the table of in-thread verdicts is asserted, so options the
  // workers ignored cannot give the in-thread answers.
  const key = scalarKey();
  const sign = (message: Uint8Array, torsion = Point.ZERO) => signWithNonce(key.a, key.pk, message, randomScalar(), torsion);
  const del = challengeWith({ localKernelId: "a\u007fb" });
  const c1 = challengeWith({ remoteKernelId: "kernel\u0085", nonce: "n\u009f-\u0080" });
  // A mixed-order key A = [a]B + T1 signed honestly: [S]B - [k]A = R - [k]T1, so the cofactorless
  // rule refuses it unless 8 divides k (a new nonce then), ZIP-215 accepts.
  const mixed = scalarKey(T[1]);
  const mixedEnvelope = (): string => {
    for (;;) {
      const c = challengeWith({});
      const signature = signWithNonce(mixed.a, mixed.pk, canonicalChallenge(c), randomScalar());
      const k = fromLE(sha512(new Uint8Array([...signature.subarray(0, 32), ...mixed.pk, ...canonicalChallenge(c)]))) % L;
      if (k % 8n !== 0n) return envelopeText(c, mixed.pk, signature);
    }
  };
  const plain = challengeWith({});
  const smallOrder = challengeWith({});
  const forged = new Uint8Array(64);
  forged.set(T[3].toBytes(), 0); // R of small order, S = 0, A of small order: [8](S·B - R - k·A) = O
  const cases: [name: string, text: string][] = [
    ["DEL signed raw", envelopeText(del, key.pk, sign(canonicalChallenge(del)))],
    ["DEL signed escaped", envelopeText(del, key.pk, sign(canonicalChallenge(del, { escapeDelAndC1: true })))],
    ["C1 signed raw", envelopeText(c1, key.pk, sign(canonicalChallenge(c1)))],
    ["C1 signed escaped", envelopeText(c1, key.pk, sign(canonicalChallenge(c1, { escapeDelAndC1: true })))],
    ["R + T1 (order 8)", envelopeText(plain, key.pk, sign(canonicalChallenge(plain), T[1]))],
    ["R + T4 (order 2)", envelopeText(plain, key.pk, sign(canonicalChallenge(plain), T[4]))],
    ["mixed-order key", mixedEnvelope()],
    ["small-order key, R, S = 0", envelopeText(smallOrder, T[2].toBytes(), forged)],
    ["plain", envelopeText(plain, key.pk, sign(canonicalChallenge(plain)))],
  ];
  const optionSets: (VerifyEnvelopeOptions | undefined)[] = [
    undefined,
    { zip215: true },
    { escapeDelAndC1: true },
    { zip215: true, rejectWeakKeys: false },
    { zip215: true, rejectWeakKeys: false, escapeDelAndC1: true },
  ];
  // The verdicts the rules give (columns: the option sets above, in order).
  const I = "INVALID_SIGNATURE";
  const W = "WEAK_PUBLIC_KEY";
  const table: Record<string, string[]> = {
    "DEL signed raw": ["ok", "ok", I, "ok", I],
    "DEL signed escaped": [I, I, "ok", I, "ok"],
    "C1 signed raw": ["ok", "ok", I, "ok", I],
    "C1 signed escaped": [I, I, "ok", I, "ok"],
    "R + T1 (order 8)": [I, "ok", I, "ok", "ok"],
    "R + T4 (order 2)": [I, "ok", I, "ok", "ok"],
    "mixed-order key": [I, "ok", I, "ok", "ok"],
    "small-order key, R, S = 0": [W, W, W, "ok", "ok"],
    plain: ["ok", "ok", "ok", "ok", "ok"],
  };
  const inputs = cases.flatMap(([, text]) => [text, encoder.encode(text)]);
  const answers = await Promise.all(optionSets.map((options) => shared.verifyEnvelopeBatch(inputs, options)));
  optionSets.forEach((options, o) => {
    inputs.forEach((input, i) => {
      const expected = verifyEnvelopeBytes(input, options);
      const [name] = cases[i >> 1];
      assert.is(expected.ok ? "ok" : expected.code, table[name][o], `in-thread: ${name} with ${JSON.stringify(options)}`);
      assert.equal(answers[o][i], expected, `pool: ${name} (${i & 1 ? "bytes" : "text"}) with ${JSON.stringify(options)}`);
    });
  });
});

test("inputs are copied at the call: the caller may reuse its buffers at once", async () => {
  const items = randomItems(40).map((it, i) => (i % 2 ? it : randomItem(0)));
  const expected = items.map((it) => ed25519.verify(it.signature, it.message, it.publicKey));
  const batch = shared.verifyBatch(items);
  const singles = items.map((it) => shared.verify(it.signature, it.message, it.publicKey));
  const envelope = encoder.encode(JSON.stringify(new KernelTrustExchange("k", Keypair.fromSeed(u8(randomBytes(32)))).localEnvelope("l", "n", NOW)));
  const envelopeVerdict = shared.verifyEnvelopeBatch([envelope]);
  for (const it of items) {
    it.signature.fill(0);
    it.message.fill(1);
    it.publicKey.fill(2);
  }
  envelope.fill(0x20);
  assert.equal(await batch, expected);
  assert.equal(await Promise.all(singles), expected);
  assert.is((await envelopeVerdict)[0].ok, true);
});

test("argument errors are the in-thread API's typed errors", async () => {
  const good = randomItem(0);
  const inThreadCode = (fn: () => unknown) => {
    try {
      fn();
    } catch (error) {
      return (error as { code?: string }).code;
    }
    return undefined;
  };
  const detached = new Uint8Array(8);
  structuredClone(detached.buffer, { transfer: [detached.buffer] });
  const badVerifies: [Uint8Array, unknown, unknown, unknown][] = [
    [good.signature.subarray(1), good.message, good.publicKey, undefined],
    [good.signature, "text", good.publicKey, undefined],
    [good.signature, good.message, new Uint8Array(31), undefined],
    [good.signature, detached, good.publicKey, undefined],
    [good.signature, new Proxy(good.message, {}), good.publicKey, undefined],
    [good.signature, good.message, good.publicKey, { zip215: "yes" }],
    [good.signature, good.message, good.publicKey, null],
  ];
  for (const [s, m, k, o] of badVerifies) {
    const code = inThreadCode(() => ed25519.verify(s, m as Uint8Array, k as Uint8Array, o as never));
    assert.ok(code === "INVALID_TYPE" || code === "INVALID_LENGTH");
    await rejectsWithCode(shared.verify(s, m as Uint8Array, k as Uint8Array, o as never), code!);
    await rejectsWithCode(shared.verifyBatch([good, { signature: s, message: m, publicKey: k } as Item], o as never), code!);
  }
  await rejectsWithCode(shared.verifyBatch("items" as never), "INVALID_TYPE");
  await rejectsWithCode(shared.verifyBatch([null] as never), "INVALID_TYPE");
  await rejectsWithCode(shared.verifyEnvelopeBatch("{}" as never), "INVALID_TYPE");
  for (const bad of [42, null, new Uint16Array(4), detached, new Proxy(new Uint8Array(4), {})]) {
    const code = inThreadCode(() => verifyEnvelopeBytes(bad as never));
    assert.is(code, "INVALID_TYPE");
    await rejectsWithCode(shared.verifyEnvelopeBatch(["{}", bad] as never), code!);
  }
  for (const options of [{ zip215: 1 }, { rejectWeakKeys: "no" }, 7, { rejectWeakKey: false }, { get zip215(): boolean { throw new Error("getter"); } }]) {
    const code = inThreadCode(() => verifyEnvelopeBytes("{}", options as never));
    assert.is(code, "INVALID_TYPE");
    await rejectsWithCode(shared.verifyEnvelopeBatch(["{}"], options as never), code!);
  }
  // maxBytes follows fromJSON's rule (1 … 16 MiB, INVALID_CONFIG otherwise) here as in-thread:
  // 0 and values over the limit were accepted (0 refusing every envelope, the rest clamped).
  for (const maxBytes of [0, 16 * 1024 * 1024 + 1, 2 ** 53, -1, 1.5, "64"]) {
    const options = { maxBytes };
    const code = inThreadCode(() => verifyEnvelopeBytes("{}", options as never));
    assert.is(code, "INVALID_CONFIG", String(maxBytes));
    await rejectsWithCode(shared.verifyEnvelopeBatch(["{}"], options as never), code!);
  }
  throwsWith(() => createVerifierPool({ threads: 0 }), "INVALID_CONFIG");
  throwsWith(() => createVerifierPool({ threads: 1.5 }), "INVALID_TYPE");
  throwsWith(() => createVerifierPool({ chunkSize: 5000 }), "INVALID_CONFIG");
  throwsWith(() => createVerifierPool({ crashWorkersForTesting: { kind: "oom", attempts: "first" } }), "INVALID_CONFIG");
  throwsWith(() => createVerifierPool({ crashWorkersForTesting: { kind: "toString" as never, attempts: "first" } }), "INVALID_TYPE");
  throwsWith(() => createVerifierPool(3 as never), "INVALID_TYPE");
});

for (const [kind, extra] of [["exit", {}], ["uncaught", {}], ["oom", { maxWorkerHeapMb: 32 }]] as const) {
  test(`a worker that dies mid-chunk (${kind}) is replaced and the chunk retried: answers unchanged`, async () => {
    const pool = createVerifierPool({ threads: 2, chunkSize: 8, ...extra, crashWorkersForTesting: { kind, attempts: "first" } });
    try {
      const items = randomItems(kind === "oom" ? 24 : 60);
      const corpus = envelopeCorpus().slice(0, 20);
      const [batch, singles, envelopes] = await Promise.all([
        pool.verifyBatch(items),
        Promise.all(items.slice(0, 10).map((it) => pool.verify(it.signature, it.message, it.publicKey, { zip215: true }))),
        pool.verifyEnvelopeBatch(corpus),
      ]);
      assert.equal(batch, items.map((it) => ed25519.verify(it.signature, it.message, it.publicKey)));
      assert.equal(singles, items.slice(0, 10).map((it) => ed25519.verify(it.signature, it.message, it.publicKey, { zip215: true })));
      assert.equal(envelopes, corpus.map((e) => verifyEnvelopeBytes(e)));
    } finally {
      await pool.close();
    }
  });
}

test("a chunk whose retry dies too rejects with VerifierPoolError WORKER_CRASHED, for every kind of call", async () => {
  const pool = createVerifierPool({ threads: 2, chunkSize: 8, crashWorkersForTesting: { kind: "exit", attempts: "every" } });
  try {
    const items = randomItems(20);
    const calls = [pool.verifyBatch(items), pool.verify(items[0].signature, items[0].message, items[0].publicKey), pool.verifyEnvelopeBatch(["{}", "{"])];
    // Handled at once: the last two run side by side, each waiting for replacement workers, and
    // either may reject first; awaited one by one, the other was left unhandled meanwhile (with
    // the calls' sends queued, hunt 17, the envelope call rejected first in 10 of 40 rounds).
    for (const call of calls) call.catch(() => undefined);
    for (const call of calls) {
      const error = await rejectsWithCode(call, "WORKER_CRASHED");
      assert.instance(error, VerifierPoolError);
    }
  } finally {
    await pool.close();
  }
});

test("single verify() calls of one tick settle by their own chunk: when one chunk's workers die, the other chunk's calls keep their answers (review 56)", async () => {
  const pool = createVerifierPool({ threads: 2 });
  // The second chunk handed to piscina really crashes its worker (process.exit in the worker
  // thread), on both attempts: the pool's own crash switch, set for that chunk's buffer only.
  const piscina = internalsOf<{ piscina: { run(task: { buffer: unknown; crash: number }, options: unknown): Promise<unknown> } }>(pool).piscina;
  const run = piscina.run.bind(piscina);
  const buffers: unknown[] = [];
  piscina.run = (task, options) => {
    if (task.buffer !== undefined && !buffers.includes(task.buffer)) buffers.push(task.buffer);
    return run(buffers.indexOf(task.buffer) === 1 ? { ...task, crash: 1 /* CRASH_EXIT */ } : task, options);
  };
  try {
    const items = randomItems(100);
    const outcomes = await Promise.all(
      items.map((item) => pool.verify(item.signature, item.message, item.publicKey).then((valid) => valid, (error: { code?: string }) => error.code)),
    );
    assert.is(buffers.length, 2, "one tick's 100 calls went as two chunks");
    const expected = items.map((it) => ed25519.verify(it.signature, it.message, it.publicKey));
    assert.equal(outcomes.slice(0, 50), expected.slice(0, 50), "the first chunk's calls: their answers");
    assert.equal(outcomes.slice(50), new Array(50).fill("WORKER_CRASHED"), "the crashed chunk's calls: WORKER_CRASHED");
  } finally {
    await pool.close();
  }
});

test("calls are served in call order: a backlog of one-item calls settles first in, first out (review 56: piscina's queue of signalled tasks reordered them)", async () => {
  const pool = createVerifierPool({ threads: 1 });
  try {
    const items = randomItems(300);
    const order: number[] = [];
    const answers = await Promise.all(items.map((item, i) => pool.verifyBatch([item]).then((answer) => (order.push(i), answer))));
    assert.equal(answers.flat(), items.map((it) => ed25519.verify(it.signature, it.message, it.publicKey)));
    assert.equal(order, items.map((_, i) => i));
    // A single verify() made before a batch call in the same tick goes first too (review 59: it
    // waited in its bucket until the end of the tick, behind the batch's tasks).
    const settled: string[] = [];
    const batch = randomItems(1024);
    const [single] = randomItems(1);
    await Promise.all([
      pool.verify(single.signature, single.message, single.publicKey).then(() => settled.push("verify")),
      pool.verifyBatch(batch).then(() => settled.push("verifyBatch")),
      pool.verify(single.signature, single.message, single.publicKey).then(() => settled.push("verify after")),
      pool.verifyEnvelopeBatch(["{"]).then(() => settled.push("verifyEnvelopeBatch")),
    ]);
    assert.equal(settled, ["verify", "verifyBatch", "verify after", "verifyEnvelopeBatch"]);
  } finally {
    await pool.close();
  }
});

test("the pool's methods work detached from it (const { verify } = pool), as ed25519's do", async () => {
  const pool = createVerifierPool({ threads: 1 });
  const { verify, verifyBatch, verifyEnvelopeBatch, close } = pool;
  const [item] = randomItems(1);
  const expected = ed25519.verify(item.signature, item.message, item.publicKey);
  assert.is(await verify(item.signature, item.message, item.publicKey), expected);
  assert.equal(await verifyBatch([item]), [expected]);
  assert.equal((await verifyEnvelopeBatch(["{"])).map((v) => v.ok), [false]);
  await close();
  await rejectsWithCode(verify(item.signature, item.message, item.publicKey), "POOL_CLOSED");
});

test("a replacement worker that fails while starting (a broken deploy): the retried call rejects with WORKER_UNAVAILABLE, and close() settles", async () => {
  // piscina does not replace a worker that dies while starting, and gives tasks only to started
  // workers, so a retry queued then would wait forever (and close() with it). The pool runs here
  // from a copy of dist/ under test-output/ (node_modules still resolves from there), whose
  // worker files are broken after its first worker started, as an in-place deploy could leave them.
  mkdirSync(path.join(root, "test-output"), { recursive: true });
  const copy = mkdtempSync(path.join(root, "test-output", "broken-deploy-"));
  cpSync(path.join(root, "dist"), copy, { recursive: true });
  const load = (await import(pathToFileURL(path.join(copy, "esm", "pool", "index.js")).href)) as typeof import("../../dist/esm/pool/index.js");
  const pool = load.createVerifierPool({ threads: 1, crashWorkersForTesting: { kind: "exit", attempts: "first" } });
  try {
    const items = randomItems(4);
    // The first attempt kills the worker; its replacement, started from the intact files, answers.
    assert.equal(await pool.verifyBatch(items), items.map((it) => ed25519.verify(it.signature, it.message, it.publicKey)));
    for (const worker of ["esm", "cjs"]) writeFileSync(path.join(copy, worker, "pool", "worker.js"), 'throw new Error("broken deploy");\n');
    // Now the replacement cannot start: the retry must fail, not wait.
    // A backlog behind it: the first call's task goes to piscina, the others wait in the pool for
    // a place. When the worker started for them dies while starting, they fail with it, without
    // each being handed to piscina in turn to start (and lose) a worker of its own (review 59).
    // The copy's own record of its pools (its internals module, beside its index.js).
    const copied = (await import(pathToFileURL(path.join(copy, "esm", "pool", "internals.js")).href)) as typeof import("../../dist/esm/pool/internals.js");
    const piscina = copied.poolInternals<{ piscina: { on(event: string, listener: () => void): void } }>(pool).piscina;
    let workersLost = 0;
    piscina.on("workerDestroy", () => workersLost++);
    const backlog = Array.from({ length: 12 }, () => settledWithin(pool.verifyBatch(items).then(() => "fulfilled"), "a call"));
    const outcomes = await Promise.all(backlog);
    assert.equal(outcomes.map((o) => (o as { code?: string }).code), new Array(12).fill("WORKER_UNAVAILABLE"));
    assert.is((outcomes[0] as Error).name, "VerifierPoolError");
    assert.ok(workersLost <= 3, `${workersLost} workers started and lost for 12 queued calls`);
  } finally {
    const closed = await settledWithin(pool.close().then(() => "closed"), "close()");
    rmSync(copy, { recursive: true, force: true });
    assert.is(closed, "closed");
  }
});

test("a worker file broken before the pool starts: every call rejects WORKER_UNAVAILABLE with the load error as its cause, never WORKER_CRASHED (review 93 F2, F3)", async () => {
  // piscina counts the pool's first workers as started before they load anything, so a task
  // handed to one that then fails to load was rejected as if the worker had crashed on it; after
  // the retry that was WORKER_CRASHED ("this input kills workers") in about 6 pools of 10 with 2
  // threads, although no worker ever ran a chunk. Only the first call queued got the load error
  // as its cause.
  mkdirSync(path.join(root, "test-output"), { recursive: true });
  const copy = mkdtempSync(path.join(root, "test-output", "broken-start-"));
  cpSync(path.join(root, "dist"), copy, { recursive: true });
  for (const worker of ["esm", "cjs"]) writeFileSync(path.join(copy, worker, "pool", "worker.js"), 'throw new Error("broken from the start");\n');
  const load = (await import(pathToFileURL(path.join(copy, "esm", "pool", "index.js")).href)) as typeof import("../../dist/esm/pool/index.js");
  const items = randomItems(4);
  const causes = (error: unknown): string[] => {
    const out: string[] = [];
    const walk = (e: unknown) => {
      if (e instanceof AggregateError) e.errors.forEach(walk);
      else if (e instanceof Error) out.push(e.message);
      if (e instanceof Error && e.cause !== undefined) walk(e.cause);
    };
    walk((error as Error).cause);
    return out;
  };
  try {
    for (let round = 0; round < 6; round++) {
      const pool = load.createVerifierPool({ threads: 2 });
      try {
        const outcomes = await Promise.all([0, 1, 2].map(() => settledWithin(pool.verifyBatch(items).then(() => "fulfilled"), "a call")));
        for (const [i, outcome] of outcomes.entries()) {
          assert.is((outcome as { code?: string }).code, "WORKER_UNAVAILABLE", `round ${round}, call ${i}: ${String(outcome)}`);
          assert.ok(causes(outcome).some((m) => m.includes("broken from the start")), `round ${round}, call ${i}: the load error among its causes (${causes(outcome).join(" | ")})`);
        }
      } finally {
        assert.is(await settledWithin(pool.close().then(() => "closed"), "close()"), "closed");
      }
    }
  } finally {
    rmSync(copy, { recursive: true, force: true });
  }
});

test("maxQueuedBytes bounds the input the pool holds: a call past it rejects QUEUE_FULL at once, a call on an idle pool always runs, and the bytes come back as calls settle (review 93 F1)", async () => {
  const MiB = 1024 * 1024;
  // Items of 252 KiB: a message of 252 KiB - 96 bytes, signed by node:crypto; four of them, with
  // the overheads of their calls and tasks (hunt 36), fit in 1 MiB, five do not.
  const itemBytes = 252 * 1024;
  const bigItem = (): Item => {
    const seed = randomBytes(32);
    const message = u8(randomBytes(itemBytes - 96));
    return { signature: nodeSign(seed, message), message, publicKey: ed25519.getPublicKey(seed) };
  };
  const items = Array.from({ length: 4 }, bigItem); // 1008 KiB of input in all
  const pool = createVerifierPool({ threads: 1, maxQueuedBytes: MiB });
  const held = () => pool.queuedBytes;
  try {
    // One call of nearly the whole bound (its input, its overhead and its one task's), then more:
    // each later call would pass it while the first is held.
    const first = pool.verifyBatch(items);
    const firstHeld = 4 * itemBytes + POOL_CALL_OVERHEAD_BYTES + POOL_TASK_OVERHEAD_BYTES;
    assert.is(held(), firstHeld);
    assert.ok(MiB - firstHeld < 2 * 10_000 + 1 + 12 + POOL_CALL_OVERHEAD_BYTES + POOL_TASK_OVERHEAD_BYTES, "the envelope call below does not fit");
    const refused = await Promise.allSettled([pool.verifyBatch(items.slice(0, 1)), pool.verify(items[0].signature, items[0].message, items[0].publicKey), pool.verifyEnvelopeBatch(["x".repeat(10_000)])]);
    for (const [i, outcome] of refused.entries()) {
      assert.is(outcome.status, "rejected", `call ${i}`);
      const error = (outcome as PromiseRejectedResult).reason as VerifierPoolError;
      assert.instance(error, VerifierPoolError);
      assert.is(error.code, "QUEUE_FULL", `call ${i}: ${error.message}`);
    }
    assert.is(held(), firstHeld, "a refused call holds nothing");
    assert.equal(await first, [true, true, true, true]);
    assert.is(held(), 0, "given back when answered");
    // A call of one item larger than the bound runs on an idle pool; while it is held, even a small
    // call is refused. A call of several items larger than the bound by itself never runs: CALL_TOO_LARGE (hunt 55).
    const tooLarge = await Promise.allSettled([pool.verifyBatch(items.concat(items))]);
    assert.is(((tooLarge[0] as PromiseRejectedResult).reason as VerifierPoolError).code, "CALL_TOO_LARGE");
    assert.is(held(), 0);
    const seed = randomBytes(32);
    const largeMessage = u8(randomBytes(MiB + 1));
    const large = pool.verifyBatch([{ signature: nodeSign(seed, largeMessage), message: largeMessage, publicKey: ed25519.getPublicKey(seed) }]);
    const small = await Promise.allSettled([pool.verifyBatch([randomItems(1)[0]])]);
    assert.is(((small[0] as PromiseRejectedResult).reason as VerifierPoolError).code, "QUEUE_FULL");
    // An empty call adds nothing and is never refused, even now (review 94 F3).
    assert.equal(await pool.verifyBatch([]), []);
    assert.equal(await pool.verifyEnvelopeBatch([]), []);
    assert.equal(await large, [true]);
    // Single calls of one tick: admitted one by one until the bound, the rest refused; the admitted ones answered.
    const singles = await Promise.allSettled(items.concat(items).map((it) => pool.verify(it.signature, it.message, it.publicKey)));
    assert.equal(
      singles.map((o) => (o.status === "fulfilled" ? o.value : ((o as PromiseRejectedResult).reason as VerifierPoolError).code)),
      [true, true, true, true, "QUEUE_FULL", "QUEUE_FULL", "QUEUE_FULL", "QUEUE_FULL"],
    );
    assert.is(held(), 0);
    // Small calls far below the bound are never refused, and a crashed or failed chunk gives its bytes back too.
    const many = randomItems(40);
    assert.equal(await Promise.all(many.map((it) => pool.verify(it.signature, it.message, it.publicKey))), many.map((it) => ed25519.verify(it.signature, it.message, it.publicKey)));
    assert.is(held(), 0);
  } finally {
    await pool.close();
  }
  for (const bad of [0, MiB - 1, 1.5, "1"]) {
    assert.throws(() => createVerifierPool({ threads: 1, maxQueuedBytes: bad as never }), (e: unknown) => (e as { code?: string }).code === "INVALID_TYPE" || (e as { code?: string }).code === "INVALID_CONFIG", String(bad));
  }
});

test("maxQueuedBytes bounds calls of empty envelopes too: each envelope counts its row in its task's table, so a pool at its bound refuses them QUEUE_FULL", async () => {
  // Before: an empty Uint8Array envelope counted 0 bytes, so a call of any number of them was
  // admitted whatever the pool held (admit never refuses 0 bytes): 100 calls of 10,000 empty
  // envelopes were all queued behind a pool at its bound, holding 12 MB of packed tables.
  const MiB = 1024 * 1024;
  const pool = createVerifierPool({ threads: 1, maxQueuedBytes: MiB });
  try {
    // 20,000 empty envelopes count 240,000 bytes of rows and 157 tasks' overhead, 722,880 in all:
    // within the bound alone, past it beside the call of 600,001 bytes below. 100,000 of them
    // count more than the bound by themselves: CALL_TOO_LARGE (hunt 55), whatever the pool holds.
    const empties = Array.from({ length: 20_000 }, () => new Uint8Array(0));
    const tooMany = await Promise.allSettled([pool.verifyEnvelopeBatch(Array.from({ length: 100_000 }, () => new Uint8Array(0)))]);
    assert.is(((tooMany[0] as PromiseRejectedResult).reason as VerifierPoolError).code, "CALL_TOO_LARGE");
    assert.is(pool.queuedBytes, 0);
    const alone = pool.verifyEnvelopeBatch(empties.slice(0, 10));
    assert.ok(pool.queuedBytes > 0, `a call of empty envelopes holds their rows (${pool.queuedBytes})`);
    await alone;
    assert.is(pool.queuedBytes, 0);
    const first = pool.verifyEnvelopeBatch(["x".repeat(300_000)], { maxBytes: 300_000 }); // 600,001 bytes and its row held
    const outcome = await settledWithin(pool.verifyEnvelopeBatch(empties), "a call of 20,000 empty envelopes");
    assert.instance(outcome, VerifierPoolError, Array.isArray(outcome) ? `admitted: answered ${outcome.length} verdicts` : String(outcome));
    assert.is((outcome as VerifierPoolError).code, "QUEUE_FULL");
    assert.is((await first).length, 1);
    assert.is(pool.queuedBytes, 0);
    assert.is((await pool.verifyEnvelopeBatch(empties)).length, 20_000, "admitted alone");
    assert.is(pool.queuedBytes, 0);
  } finally {
    await pool.close();
  }
});

test("a crashed chunk gives its bytes back (maxQueuedBytes)", async () => {
  const pool = createVerifierPool({ threads: 1, crashWorkersForTesting: { kind: "exit", attempts: "every" } });
  try {
    const outcome = await Promise.allSettled([pool.verifyBatch(randomItems(3))]);
    assert.is(((outcome[0] as PromiseRejectedResult).reason as VerifierPoolError).code, "WORKER_CRASHED");
    assert.is(pool.queuedBytes, 0);
  } finally {
    await pool.close();
  }
});

test("once a worker died while starting, piscina replaces no crashed worker: calls queued behind a chunk whose retry died still run (a worker is started for them)", async () => {
  // piscina 5 stops replacing crashed workers for good after any worker died while starting
  // (workerFailsDuringBootstrap). Review 48: the pool then failed calls merely queued behind a
  // crashed chunk with WORKER_UNAVAILABLE ("the last one failed while starting"), although a new
  // worker would have run them. Every attempt crashes here, so each call must end WORKER_CRASHED:
  // its own two attempts ran.
  const pool = createVerifierPool({ threads: 1, crashWorkersForTesting: { kind: "exit", attempts: "every" } });
  const piscina = internalsOf<{ piscina: { threads: { terminate(): Promise<number> }[] } }>(pool).piscina;
  const nextWorker = async (old: unknown) => {
    for (;;) {
      const worker = piscina.threads[0];
      if (worker !== undefined && worker !== old) return worker;
      await new Promise((resolve) => setImmediate(resolve));
    }
  };
  try {
    await new Promise((resolve) => setTimeout(resolve, 300)); // the first worker has started
    const first = piscina.threads[0];
    await first.terminate(); // a started worker: piscina replaces it
    await (await nextWorker(first)).terminate(); // its replacement, while it starts
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.is(piscina.threads.length, 0, "piscina replaced neither (the case this test is about)");
    const items = randomItems(3);
    const outcomes = await Promise.all(items.map((item) => settledWithin(pool.verifyBatch([item]).then(() => "fulfilled"), "a call")));
    assert.equal(outcomes.map((o) => (o as { code?: string }).code), ["WORKER_CRASHED", "WORKER_CRASHED", "WORKER_CRASHED"]);
  } finally {
    assert.is(await settledWithin(pool.close().then(() => "closed"), "close()"), "closed");
  }
});

test("every task gets an abort signal of its own: none collects a listener per task in flight", async () => {
  // Review 48: one signal shared by every task got one 'abort' listener per task from piscina, and
  // Node's EventTarget checks each new listener against all those already there, so the calling
  // thread's cost per task grew with the tasks in flight (40,000 one-item calls: 21 s, against 8 s).
  const live = new Map<EventTarget, number>();
  let most = 0;
  const add = EventTarget.prototype.addEventListener;
  const remove = EventTarget.prototype.removeEventListener;
  EventTarget.prototype.addEventListener = function (this: EventTarget, type: string, ...rest: unknown[]) {
    if (this instanceof AbortSignal && type === "abort") {
      live.set(this, (live.get(this) ?? 0) + 1);
      most = Math.max(most, live.get(this)!);
    }
    return (add as (...a: unknown[]) => void).call(this, type, ...rest);
  } as typeof add;
  EventTarget.prototype.removeEventListener = function (this: EventTarget, type: string, ...rest: unknown[]) {
    if (this instanceof AbortSignal && type === "abort" && live.has(this)) live.set(this, live.get(this)! - 1);
    return (remove as (...a: unknown[]) => void).call(this, type, ...rest);
  } as typeof remove;
  const pool = createVerifierPool({ threads: 1 });
  try {
    const items = randomItems(200);
    const answers = await Promise.all(items.map((item) => pool.verifyBatch([item]))); // 200 tasks in flight at once
    assert.equal(answers.flat(), items.map((it) => ed25519.verify(it.signature, it.message, it.publicKey)));
    assert.ok(live.size >= 200, `a signal per task (${live.size} signals)`);
    assert.is(most, 1, "at most one abort listener on any signal");
  } finally {
    EventTarget.prototype.addEventListener = add;
    EventTarget.prototype.removeEventListener = remove;
    await pool.close();
  }
});

test("a stack overflow while a call copies its input is the engine's RangeError, not OUT_OF_MEMORY (child process)", () => {
  // Review 48: the pool took every RangeError without a code for an allocation failure.
  const child = fileURLToPath(new URL("../helpers/pool-stack-child.ts", import.meta.url));
  const out = execFileSync(process.execPath, ["--stack-size=400", "--import", "tsx", child], { encoding: "utf8", timeout: 120_000, stdio: ["ignore", "pipe", "pipe"] });
  const outcomes = JSON.parse(out.trim().split("\n").pop()!) as Record<string, number>;
  assert.not.ok("VerifierPoolError OUT_OF_MEMORY" in outcomes, JSON.stringify(outcomes));
  assert.ok(outcomes["RangeError undefined"] > 0, `the overflow was reached inside calls: ${JSON.stringify(outcomes)}`);
  assert.ok(outcomes["resolved true"] > 0, JSON.stringify(outcomes));
  assert.equal(Object.keys(outcomes).sort(), ["RangeError undefined", "resolved true"], JSON.stringify(outcomes));
});

test("a call in flight holds its input once, in its chunks: the caller's buffer can be collected (child process with --expose-gc)", () => {
  // Review 48: verifyBatch and verifyEnvelopeBatch kept the caller's input reachable until the call
  // settled, so a 10-byte view of a large buffer held the whole buffer besides the packed copy.
  const child = fileURLToPath(new URL("../helpers/pool-retention-child.ts", import.meta.url));
  const out = execFileSync(process.execPath, ["--expose-gc", "--import", "tsx", child], { encoding: "utf8", timeout: 120_000 });
  const result = JSON.parse(out.trim().split("\n").pop()!) as Record<string, { collectedInFlight: boolean; stillInFlight: boolean; answer: unknown }>;
  assert.equal(Object.keys(result), ["verify", "verifyBatch", "verifyEnvelopeBatch"]);
  for (const [call, { collectedInFlight, stillInFlight }] of Object.entries(result)) {
    assert.ok(stillInFlight, `${call}: still in flight when the collections ran (else the check says nothing)`);
    assert.ok(collectedInFlight, `${call}: the caller's buffer was collected while the call was in flight`);
  }
  assert.equal([result.verify.answer, result.verifyBatch.answer, result.verifyEnvelopeBatch.answer], [true, [true], [false]], "the answers");
});

test("close() finishes every call already made, then later calls reject with POOL_CLOSED", async () => {
  const pool = createVerifierPool({ threads: 2, chunkSize: 8 });
  const items = randomItems(100);
  const batch = pool.verifyBatch(items);
  const single = pool.verify(items[1].signature, items[1].message, items[1].publicKey); // still waiting in its bucket
  const envelopes = pool.verifyEnvelopeBatch(envelopeCorpus().slice(0, 10));
  const closed = pool.close();
  assert.is(pool.close(), closed, "close is idempotent");
  await rejectsWithCode(pool.verify(items[0].signature, items[0].message, items[0].publicKey), "POOL_CLOSED");
  await rejectsWithCode(pool.verifyBatch(items), "POOL_CLOSED");
  await rejectsWithCode(pool.verifyEnvelopeBatch([]), "POOL_CLOSED");
  let settledBeforeClose = 0;
  for (const p of [batch, single, envelopes]) p.then(() => settledBeforeClose++, () => undefined); // a rejection counts as not settled: the assertion below reports it
  await closed;
  assert.is(settledBeforeClose, 3, "every earlier call settled before close() resolved");
  assert.equal(await batch, items.map((it) => ed25519.verify(it.signature, it.message, it.publicKey)));
  assert.is(await single, ed25519.verify(items[1].signature, items[1].message, items[1].publicKey));
});

test("close() with only single verify() calls waiting in their buckets (both zip215 settings) answers them all", async () => {
  // Nothing is in flight yet when close() runs: only its flush of the buckets sends these.
  const pool = createVerifierPool({ threads: 1 });
  const items = randomItems(6);
  const answers = items.map((it, i) => pool.verify(it.signature, it.message, it.publicKey, { zip215: i % 2 === 1 }));
  await pool.close();
  assert.equal(await Promise.all(answers), items.map((it, i) => ed25519.verify(it.signature, it.message, it.publicKey, { zip215: i % 2 === 1 })));
});

test("close() after a call rejected early still waits for that call's other chunks", async () => {
  // Every attempt crashes: the call rejects with the first chunk's WORKER_CRASHED while its
  // sibling chunks are still running or retrying. close() must not end piscina under them.
  // The pool's piscina instance is private: the test wraps its run/destroy to count tasks.
  const pool = createVerifierPool({ threads: 2, chunkSize: 1, crashWorkersForTesting: { kind: "exit", attempts: "every" } });
  const inner = internalsOf<{ piscina: { run: (...a: unknown[]) => Promise<unknown>; destroy: () => Promise<void> } }>(pool).piscina;
  let running = 0;
  let runningAtDestroy = -1;
  const run = inner.run.bind(inner);
  inner.run = (...a: unknown[]) => {
    running++;
    const done = () => void running--;
    const p = run(...a);
    p.then(done, done);
    return p;
  };
  const destroy = inner.destroy.bind(inner);
  inner.destroy = () => {
    runningAtDestroy = running;
    return destroy();
  };
  await rejectsWithCode(pool.verifyBatch(randomItems(6)), "WORKER_CRASHED");
  await pool.close();
  assert.is(runningAtDestroy, 0, "no chunk was still running when the workers were ended");
});

test("random concurrent mixes of all three calls on one pool equal the in-thread answers", async () => {
  const corpus = envelopeCorpus();
  const jobs: Promise<void>[] = [];
  for (let j = 0; j < scaled(40); j++) {
    const pick = randomBytes(1)[0] % 3;
    if (pick === 0) {
      const items = randomItems(1 + (randomBytes(1)[0] % 40));
      jobs.push(shared.verifyBatch(items).then((got) => assert.equal(got, items.map((it) => ed25519.verify(it.signature, it.message, it.publicKey)))));
    } else if (pick === 1) {
      const it = randomItem(randomBytes(1)[0]);
      jobs.push(shared.verify(it.signature, it.message, it.publicKey).then((got) => assert.is(got, ed25519.verify(it.signature, it.message, it.publicKey))));
    } else {
      const some = corpus.filter(() => randomBytes(1)[0] < 64);
      jobs.push(shared.verifyEnvelopeBatch(some).then((got) => assert.equal(got, some.map((e) => verifyEnvelopeBytes(e)))));
    }
  }
  await Promise.all(jobs);
});

test("the CommonJS build finds its worker, and a process exits by itself with or without close()", () => {
  const item = randomItem(0);
  const args = JSON.stringify([Buffer.from(item.signature).toString("hex"), Buffer.from(item.message).toString("hex"), Buffer.from(item.publicKey).toString("hex")]);
  const body = (close: boolean) => `
const [s, m, k] = ${args}.map((h) => new Uint8Array(Buffer.from(h, "hex")));
const pool = createVerifierPool({ threads: 2 });
Promise.all([pool.verify(s, m, k), pool.verifyBatch([{ signature: s, message: m, publicKey: k }, { signature: s, message: new Uint8Array([1]), publicKey: k }])])
  .then(async (r) => { ${close ? "await pool.close();" : ""} process.stdout.write(JSON.stringify(r)); });`;
  const expected = JSON.stringify([true, [true, false]]);
  const cjs = `const { createVerifierPool } = require("chio-trust/pool");${body(true)}`;
  const esm = `import { createVerifierPool } from "chio-trust/pool";${body(false)}`;
  assert.is(execFileSync(process.execPath, ["-e", cjs], { cwd: root, encoding: "utf8", timeout: 30_000 }), expected);
  assert.is(execFileSync(process.execPath, ["--input-type=module", "-e", esm], { cwd: root, encoding: "utf8", timeout: 30_000 }), expected);
});

test.run();
