// Code elsewhere in the realm that tampers with what the library shares with it (review 84): a
// polluted Object.prototype (the usual result of a prototype-pollution bug in some other
// package), replaced built-ins (the array iterator, Array.prototype.map, String.prototype.slice,
// charCodeAt and isWellFormed), and item lists whose `length` is not what an array holds. None
// may switch a check off, run between a call's checks and its copy, re-enter a call, or crash
// the process: answers stay the untampered ones, misuse stays a typed INVALID_TYPE. In thread
// (src/) and in the worker pool (the built entry, whose workers load dist/; `npm test` builds first).
//
// Each tampering is installed for the synchronous start of one call only (a call reads, checks
// and copies its input before it returns) and removed before anything is awaited, so the test
// runner never runs under it.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { ed25519 as noble } from "@noble/curves/ed25519.js";
import { createVerifierPool, type VerifierPool } from "../../dist/esm/pool/index.js";
import { ed25519, PreparedPublicKey } from "../../src/ed25519.js";
import { canonicalize, canonicalizeJson } from "../../src/canonical/index.js";
import canonicalizeOracle from "canonicalize";
import { verifyEnvelopeBatch, verifyEnvelopeBytes, type EnvelopeVerdict } from "../../src/handshake/verify-envelope.js";
import { FederationPeer, HandshakeChallenge, InMemoryPeerStore, KernelTrustExchange, Keypair, PeerHandshakeEnvelope, PublicKey, ReplayCache, Signature } from "../../src/handshake/index.js";
import { PreparedSecretKey } from "../../src/prepared-secret-key.js";
import { SqlitePeerStore, SqliteReplayStore } from "../../src/stores/sqlite/index.js";
import * as nobleDropIn from "../../src/compat/noble-ed25519.js";
import tweetnaclDropIn from "../../src/compat/tweetnacl.js";
import { nodeSign } from "../helpers/ed25519-oracles.js";
import { MAX_VERIFY_BATCH_ITEMS } from "../../src/bytes.js";
import { readEnvelopeAnswer } from "../../src/pool/answers.js";
import { rejectsWithCode, settledWithin, throwsWith } from "../helpers/assert-codes.js";
import { finished, repoRoot } from "../helpers/processes.js";

const utf8 = new TextEncoder();
const NOW = 1_764_000_000;

const seedOf = (n: number) => Uint8Array.from({ length: 32 }, (_, i) => (i * 29 + n * 7 + 3) & 0xff);
const message = utf8.encode("a message the realm's tampering must not change the verdict of");
const seed = seedOf(1);
const publicKey = ed25519.getPublicKey(seed);
// Signed by node:crypto, not by the library under test.
const signature = nodeSign(seed, message);

const validEnvelope = JSON.stringify(new KernelTrustExchange("kernel-a", Keypair.fromSeed(seedOf(2))).localEnvelope("kernel-b", "nonce-1", NOW));
// The identity point as the declared key, R = the identity, S = 0: [0]B = R + [k]A holds for any
// challenge, so only the weak-key check (rejectWeakKeys, on by default) refuses this envelope.
const IDENTITY_HEX = "01" + "00".repeat(31);
const forgedEnvelope = JSON.stringify({
  challenge: { schema: "chio.federation-kernel-handshake.v1", localKernelId: "victim", remoteKernelId: "kernel-b", nonce: "nonce-2", timestamp: NOW },
  declaredPublicKey: IDENTITY_HEX,
  signature: IDENTITY_HEX + "00".repeat(32),
});
// A signature only ZIP-215 accepts: the identity key, R the identity in its non-canonical
// encoding (y = p + 1), S = 0. The default rule refuses R bytes that do not re-encode.
const NON_CANONICAL_IDENTITY = Uint8Array.from({ length: 32 }, (_, i) => (i === 0 ? 0xee : i === 31 ? 0x7f : 0xff));
const identityKey = Uint8Array.from({ length: 32 }, (_, i) => (i === 0 ? 1 : 0));
const zip215OnlySignature = new Uint8Array(64);
zip215OnlySignature.set(NON_CANONICAL_IDENTITY);

const outcomeOf = (verdicts: EnvelopeVerdict[]) => verdicts.map((v) => (v.ok ? `ok ${v.envelope.challenge.localKernelId}` : v.code));

/**
 * Runs `fn` with Object.prototype carrying `members` (plain values, or accessors when `asAccessors`:
 * a getter answering the value and a setter that swallows writes), then removes them (also when it throws).
 */
function withPollutedObjectPrototype<T>(members: Record<string, unknown>, fn: () => T, asAccessors = false): T {
  const keys = Object.keys(members);
  for (const key of keys) assert.not.ok(Object.prototype.hasOwnProperty.call(Object.prototype, key), `Object.prototype.${key} is not set already`);
  try {
    for (const key of keys) {
      const value = members[key];
      Object.defineProperty(Object.prototype, key, asAccessors ? { get: () => value, set: () => {}, configurable: true } : { value, writable: true, configurable: true });
    }
    return fn();
  } finally {
    for (const key of keys) delete (Object.prototype as unknown as Record<string, unknown>)[key];
  }
}

test("oracles: the forged envelope is refused only as a weak key, and the ZIP-215-only signature is what its name says (@noble/curves)", () => {
  const verdict = verifyEnvelopeBytes(forgedEnvelope);
  assert.is(verdict.ok ? "ok" : verdict.code, "WEAK_PUBLIC_KEY");
  const unchecked = verifyEnvelopeBytes(forgedEnvelope, { rejectWeakKeys: false });
  assert.ok(unchecked.ok, "with the weak-key check switched off the forgery verifies");
  assert.ok(verifyEnvelopeBytes(validEnvelope).ok);
  assert.is(noble.verify(zip215OnlySignature, message, identityKey, { zip215: true }), true);
  assert.is(noble.verify(zip215OnlySignature, message, identityKey, { zip215: false }), false);
  assert.is(ed25519.verify(zip215OnlySignature, message, identityKey, { zip215: true }), true);
  assert.is(ed25519.verify(zip215OnlySignature, message, identityKey), false);
  assert.is(ed25519.verify(signature, message, publicKey), true);
});

test("a polluted Object.prototype changes no option: weak keys stay refused, the default rule stays, limits stay (in thread)", () => {
  for (const asAccessors of [false, true]) withPollutedObjectPrototype({ rejectWeakKeys: false, zip215: true, maxBytes: 10, maxDepth: 1 }, () => {
    for (const options of [undefined, {}]) {
      const verdict = verifyEnvelopeBytes(forgedEnvelope, options);
      assert.is(verdict.ok ? "ok" : verdict.code, "WEAK_PUBLIC_KEY", `verifyEnvelopeBytes(forged, ${JSON.stringify(options)})`);
      assert.ok(verifyEnvelopeBytes(validEnvelope, options).ok, "maxBytes 10 is not read from the prototype");
      assert.equal(outcomeOf(verifyEnvelopeBatch([forgedEnvelope, validEnvelope], options)), ["WEAK_PUBLIC_KEY", "ok kernel-a"]);
      assert.is(ed25519.verify(zip215OnlySignature, message, identityKey, options), false, "zip215 is not read from the prototype");
      assert.equal(ed25519.verifyBatch([{ signature: zip215OnlySignature, message, publicKey: identityKey }, { signature, message, publicKey }], options), [false, true]);
    }
    // An own member still counts, and canonical JSON's limits are not read from the prototype either.
    assert.is(ed25519.verify(zip215OnlySignature, message, identityKey, { zip215: true }), true);
    assert.is(new TextDecoder().decode(canonicalizeJson('{"b":[[1]],"a":2}', {})), '{"a":2,"b":[[1]]}');
    // A batch item without a key does not take one from the prototype.
    withPollutedObjectPrototype({ publicKey }, () => {
      throwsWith(() => ed25519.verifyBatch([{ signature, message } as never]), "INVALID_TYPE");
    }, asAccessors);
  }, asAccessors);
});

test("options a caller's own prototype carries still count (a class's getter, Object.create(defaults)), and a Proxy's answers too", () => {
  class Options {
    get zip215() {
      return true;
    }
  }
  const viaProxy = new Proxy({}, { get: (_target, key) => (key === "zip215" ? true : undefined) });
  for (const options of [new Options(), Object.create({ zip215: true }), viaProxy]) {
    assert.is(ed25519.verify(zip215OnlySignature, message, identityKey, options), true);
  }
  assert.is(verifyEnvelopeBytes(forgedEnvelope, Object.create({ rejectWeakKeys: false })).ok, true, "a caller's own defaults object may switch the check off");
});

test("a polluted Object.prototype changes no option of the pool or of its calls", async () => {
  const pool = withPollutedObjectPrototype({ threads: "many", chunkSize: -1 }, () => createVerifierPool({}));
  try {
    const [envelopes, bare, signatures] = withPollutedObjectPrototype({ rejectWeakKeys: false, zip215: true, maxBytes: 10 }, () => [
      pool.verifyEnvelopeBatch([forgedEnvelope, validEnvelope], {}),
      pool.verifyEnvelopeBatch([forgedEnvelope]),
      pool.verifyBatch([{ signature: zip215OnlySignature, message, publicKey: identityKey }, { signature, message, publicKey }], {}),
    ]);
    assert.equal(outcomeOf((await settledWithin(envelopes, "pool.verifyEnvelopeBatch")) as EnvelopeVerdict[]), ["WEAK_PUBLIC_KEY", "ok kernel-a"]);
    assert.equal(outcomeOf((await settledWithin(bare, "pool.verifyEnvelopeBatch")) as EnvelopeVerdict[]), ["WEAK_PUBLIC_KEY"]);
    assert.equal(await settledWithin(signatures, "pool.verifyBatch"), [false, true]);
  } finally {
    await pool.close();
  }
});

/** Lists that Array.isArray accepts but whose length no array has, and a sparse one of the largest length. */
function strangeLists(): Array<[string, unknown[]]> {
  const lying = (length: unknown) => new Proxy([] as unknown[], { get: (target, key) => (key === "length" ? length : Reflect.get(target, key)) });
  const throwing = new Proxy([] as unknown[], {
    get: (target, key) => {
      if (key === "length") throw new Error("no length for you");
      return Reflect.get(target, key);
    },
  });
  return [
    // 2^32 - 1 holes is INVALID_LENGTH, from the length alone (MAX_VERIFY_BATCH_ITEMS; hunt 53).
    ["a sparse array of MAX_VERIFY_BATCH_ITEMS holes", new Array(MAX_VERIFY_BATCH_ITEMS)],
    ["length '{}'", lying("{}")],
    ["length -1", lying(-1)],
    ["length 1.5", lying(1.5)],
    ["length 2^32", lying(2 ** 32)],
    ["length NaN", lying(Number.NaN)],
    ["a throwing length", throwing],
  ];
}

test("batch item lists: a length no array has, or a million holes, is INVALID_TYPE at once, in thread and in the pool; billions of holes are INVALID_LENGTH", async () => {
  const pool = createVerifierPool({ threads: 1 });
  try {
    for (const [what, list] of strangeLists()) {
      throwsWith(() => ed25519.verifyBatch(list as never), "INVALID_TYPE");
      throwsWith(() => verifyEnvelopeBatch(list as never), "INVALID_TYPE");
      await rejectsWithCode(pool.verifyBatch(list as never), "INVALID_TYPE");
      await rejectsWithCode(pool.verifyEnvelopeBatch(list as never), "INVALID_TYPE");
      assert.ok(true, what);
    }
    // More holes than MAX_VERIFY_BATCH_ITEMS: INVALID_LENGTH, before any is read (hunt 53).
    const billions = new Array(2 ** 32 - 1);
    throwsWith(() => ed25519.verifyBatch(billions), "INVALID_LENGTH");
    throwsWith(() => verifyEnvelopeBatch(billions), "INVALID_LENGTH");
    await rejectsWithCode(pool.verifyBatch(billions), "INVALID_LENGTH");
    await rejectsWithCode(pool.verifyEnvelopeBatch(billions), "INVALID_LENGTH");
    // A hole after real items: the first hole is named.
    const holes: unknown[] = [validEnvelope];
    holes.length = MAX_VERIFY_BATCH_ITEMS;
    assert.match(throwsWith(() => verifyEnvelopeBatch(holes as never), "INVALID_TYPE").message, "envelopes[1]");
    assert.match((await rejectsWithCode(pool.verifyEnvelopeBatch(holes as never), "INVALID_TYPE")).message, "envelopes[1]");
    // The pool still serves.
    assert.equal(await pool.verifyBatch([{ signature, message, publicKey }]), [true]);
  } finally {
    await pool.close();
  }
});

test("batch item lists that claim MAX_VERIFY_BATCH_ITEMS items, each an object with bad fields: INVALID_TYPE / INVALID_LENGTH at the first, in thread and in the pool (child process, 64 MiB heap); 2^32 - 1 is INVALID_LENGTH", async () => {
  // A Proxy answers one object for every index, so the caller holds no memory for the items. Each
  // item's fields were checked only once every item had been read: the library filled its lists
  // with 2^32 - 1 entries first and the process died of heap exhaustion (hunt 43; as review 84 F2
  // for holes in the envelope batch's list). Since hunt 53 a list may claim at most
  // MAX_VERIFY_BATCH_ITEMS items: 2^32 - 1 is INVALID_LENGTH before any is read (the last case).
  const code = `
    import { ed25519, MAX_VERIFY_BATCH_ITEMS } from "chio-trust";
    import { createVerifierPool } from "chio-trust/pool";
    const claim = (item, length = MAX_VERIFY_BATCH_ITEMS) => new Proxy([], { get: (t, k) => (k === "length" ? length : typeof k === "string" && /^[0-9]+$/.test(k) ? item : Reflect.get(t, k)) });
    const bytes = (n) => new Uint8Array(n);
    const items = [
      {},
      { signature: bytes(64), message: "not bytes", publicKey: bytes(32) },
      { signature: bytes(64), message: bytes(1), publicKey: bytes(31) },
      { signature: bytes(63), message: bytes(1), publicKey: bytes(32) },
    ];
    const answers = [];
    const pool = createVerifierPool({ threads: 1 });
    try {
      for (const item of items) {
        try { ed25519.verifyBatch(claim(item)); answers.push("returned"); } catch (e) { answers.push(e.code + " " + e.message); }
        try { await pool.verifyBatch(claim(item)); answers.push("returned"); } catch (e) { answers.push(e.code + " " + e.message); }
      }
      try { ed25519.verifyBatch(claim({}, 2 ** 32 - 1)); answers.push("returned"); } catch (e) { answers.push(e.code + " " + e.message); }
      try { await pool.verifyBatch(claim({}, 2 ** 32 - 1)); answers.push("returned"); } catch (e) { answers.push(e.code + " " + e.message); }
    } finally {
      await pool.close();
    }
    console.log(JSON.stringify(answers));`;
  const child = spawn(process.execPath, ["--max-old-space-size=64", "--input-type=module", "-e", code], { cwd: repoRoot, stdio: ["pipe", "pipe", "pipe"] });
  const { code: exit, signal: killed, stdout, stderr } = await finished(child, 60_000, "");
  assert.is(exit, 0, `child exit ${exit} ${killed ?? ""}: ${stderr.slice(-400)}`);
  const answers = JSON.parse(stdout.trim().split("\n").pop()!) as string[];
  const expected = [
    "INVALID_TYPE items[0].signature must be a Uint8Array",
    "INVALID_TYPE items[0].message must be a Uint8Array",
    "INVALID_LENGTH items[0].publicKey must be 32 bytes",
    "INVALID_LENGTH items[0].signature must be 64 bytes",
    "INVALID_LENGTH items.length must be at most",
  ];
  assert.is(answers.length, 2 * expected.length);
  answers.forEach((answer, i) => assert.ok(answer.startsWith(expected[i >> 1]), `${answer} (expected ${expected[i >> 1]}…)`));
});

/**
 * Replaces `owner[key]` for the synchronous start of a call: the replacement runs `hook` once (the
 * first time it is called), then behaves as the original; the original is back before `start`
 * returns. Returns what `start` returned and whether the hook ran during it.
 */
function withReplaced<T>(owner: object, key: PropertyKey, hook: () => void, start: () => T): { value: T; fired: boolean } {
  const target = owner as Record<PropertyKey, unknown>;
  const original = target[key] as (...args: unknown[]) => unknown;
  let fired = false;
  target[key] = function (this: unknown, ...args: unknown[]) {
    if (!fired) {
      fired = true;
      hook();
    }
    return new.target === undefined ? Reflect.apply(original, this, args) : Reflect.construct(original, args);
  };
  try {
    return { value: start(), fired };
  } finally {
    target[key] = original;
  }
}

/** A view of a resizable buffer holding `bytes`, and the function that shrinks the buffer under it. */
function shrinkable(bytes: Uint8Array): { view: Uint8Array; shrink: (length: number) => void } {
  const buffer = new ArrayBuffer(bytes.length, { maxByteLength: bytes.length } as never) as ArrayBuffer & { resize(length: number): void };
  const view = new Uint8Array(buffer);
  view.set(bytes);
  return { view, shrink: (length) => buffer.resize(length) };
}

/** A view holding `bytes`, and the function that detaches its buffer. */
function detachable(bytes: Uint8Array): { view: Uint8Array; detach: () => void } {
  const buffer = new ArrayBuffer(bytes.length);
  const view = new Uint8Array(buffer);
  view.set(bytes);
  return { view, detach: () => void structuredClone(buffer, { transfer: [buffer] }) };
}

test("replaced array and typed-array methods never run between the pool's checks and its copy: a signature cut to 10 bytes after its check is still the checked one", async () => {
  const pool = createVerifierPool({ threads: 1 });
  const typedArrayPrototype = Object.getPrototypeOf(Uint8Array.prototype) as object;
  const replaced: Array<[string, object, PropertyKey]> = [
    ["Array.prototype[Symbol.iterator]", Array.prototype, Symbol.iterator],
    ["Array.prototype.map", Array.prototype, "map"],
    ["Array.prototype.push", Array.prototype, "push"],
    ["%TypedArray%.prototype.set", typedArrayPrototype, "set"],
    ["%TypedArray%.prototype.subarray", typedArrayPrototype, "subarray"],
    ["DataView.prototype.setUint32", DataView.prototype, "setUint32"],
    ["Math.floor", Math, "floor"],
    ["Math.max", Math, "max"],
    ["the global SharedArrayBuffer", globalThis, "SharedArrayBuffer"],
  ];
  try {
    for (const [name, owner, key] of replaced) {
      const cut = shrinkable(signature);
      const started = withReplaced(owner, key, () => cut.shrink(10), () => pool.verifyBatch([{ signature: cut.view, message, publicKey }]));
      const answer = await settledWithin(started.value, `pool.verifyBatch with ${name} replaced`);
      // The copy was taken before the hook could run (if it ran at all, later, in piscina's or
      // Node's code): the 64 checked bytes were verified. Before review 84 the iterator, map,
      // push and setUint32 ran after the checks: the cut signature was zero-padded and answered false.
      assert.equal(answer, [true], `${name} (hook ran during the call's start: ${started.fired})`);
      const gone = detachable(utf8.encode(validEnvelope));
      const envelopes = withReplaced(owner, key, gone.detach, () => pool.verifyEnvelopeBatch([validEnvelope, gone.view]));
      assert.equal(outcomeOf((await settledWithin(envelopes.value, "pool.verifyEnvelopeBatch")) as EnvelopeVerdict[]), ["ok kernel-a", "ok kernel-a"], `${name}, envelopes`);
    }
  } finally {
    await pool.close();
  }
});

test("replaced string methods never run between the pool's checks and its copy, nor inside an in-thread envelope batch", async () => {
  const pool = createVerifierPool({ threads: 1 });
  const tampered = validEnvelope.replace('"kernel-a"', '"mallory"'); // its signature no longer matches
  const expected = outcomeOf(verifyEnvelopeBatch([tampered, validEnvelope]));
  assert.equal(expected, ["INVALID_SIGNATURE", "ok kernel-a"]);
  try {
    // charCodeAt (the pool packs strings by their UTF-16 units) and slice (it cuts a string over
    // maxBytes): caller code there could detach a view of the same call after its check.
    for (const key of ["charCodeAt", "slice"]) {
      const gone = detachable(utf8.encode(validEnvelope));
      const started = withReplaced(String.prototype, key, gone.detach, () => pool.verifyEnvelopeBatch([tampered, gone.view], { maxBytes: key === "slice" ? tampered.length - 2 : tampered.length }));
      const answer = await settledWithin(started.value, `pool.verifyEnvelopeBatch with String.prototype.${key} replaced`);
      const inThread = outcomeOf(verifyEnvelopeBatch([tampered, validEnvelope], { maxBytes: key === "slice" ? tampered.length - 2 : tampered.length }));
      assert.equal(outcomeOf(answer as EnvelopeVerdict[]), inThread, `String.prototype.${key}`);
    }
    // isWellFormed (canonical JSON's lone-surrogate test): a replacement that calls the library
    // again in the middle of the batch used to overwrite the batch's input in the core's memory
    // (WASM_TRAP); now the captured original runs and the replacement never does.
    const reentered = withReplaced(String.prototype, "isWellFormed", () => void verifyEnvelopeBytes(validEnvelope), () => outcomeOf(verifyEnvelopeBatch([utf8.encode(tampered), validEnvelope])));
    assert.equal(reentered.value, expected);
    assert.is(reentered.fired, false, "the replaced isWellFormed is not called");
    // The same re-entry through the other built-ins an envelope batch used while its inputs were
    // being written (review 85): push (an early verdict), slice, encode and charCodeAt (a lone
    // surrogate's offset). A batch with a lone surrogate, a weak key and two good envelopes.
    const batch = [validEnvelope, '{"a":"x\ud800"}', forgedEnvelope, utf8.encode(validEnvelope)];
    const untouched = outcomeOf(verifyEnvelopeBatch(batch));
    assert.equal(untouched, ["ok kernel-a", "MALFORMED_ENVELOPE", "WEAK_PUBLIC_KEY", "ok kernel-a"]);
    const reentry: Array<[string, object, PropertyKey]> = [
      ["Array.prototype.push", Array.prototype, "push"],
      ["String.prototype.slice", String.prototype, "slice"],
      ["String.prototype.charCodeAt", String.prototype, "charCodeAt"],
      ["TextEncoder.prototype.encode", TextEncoder.prototype, "encode"],
    ];
    for (const [name, owner, key] of reentry) {
      const run = withReplaced(owner, key, () => void verifyEnvelopeBytes(validEnvelope), () => {
        try {
          return outcomeOf(verifyEnvelopeBatch(batch));
        } catch (error) {
          return `${(error as Error).name} ${(error as { code?: string }).code}`;
        }
      });
      assert.equal(run.value, untouched, name);
    }
  } finally {
    await pool.close();
  }
});

/**
 * Runs `start` with accessors on Array.prototype for the indices 0 … count − 1: a write there is
 * swallowed, a read answers `lie`, and either one first runs `hook` (once). So a library list
 * written by index goes through them unless it is its own (src/bytes.ts, ownList): the call
 * would run caller code, lose what it wrote and read back `lie`. Returns how often they ran.
 */
function withIndexAccessors<T>(count: number, lie: unknown, hook: () => void, start: () => T): { value: T; touched: number } {
  let touched = 0;
  const touch = () => {
    if (touched++ === 0) hook();
  };
  for (let i = 0; i < count; i++) {
    assert.not.ok(Object.prototype.hasOwnProperty.call(Array.prototype, String(i)), `Array.prototype[${i}] is not set already`);
  }
  try {
    for (let i = 0; i < count; i++) {
      Object.defineProperty(Array.prototype, String(i), {
        configurable: true,
        get: () => (touch(), lie),
        set: () => touch(),
      });
    }
    return { value: start(), touched };
  } finally {
    for (let i = 0; i < count; i++) delete (Array.prototype as unknown as Record<string, unknown>)[String(i)];
  }
}

const otherMessage = utf8.encode("another message, which the signature is not for");

test("accessors for Array.prototype's indices never run inside a batch, in thread or in the pool: no caller code between checks and copy, no value read back from them (review 85's gap)", async () => {
  // Items 0, 2 and 4 valid, 1 and 3 not (the signature is for another message), 5 valid; an
  // envelope batch with a lone surrogate and an oversized input (the early verdicts, a list
  // written while the inputs are copied), a weak key, and good envelopes as text and as bytes.
  const batchItems = () => {
    const views = [0, 1, 2, 3, 4, 5].map((i) => detachable(i === 1 || i === 3 ? otherMessage : message));
    return { views, items: views.map((v) => ({ signature, message: v.view, publicKey })) };
  };
  const expectedBatch = [true, false, true, false, true, true];
  const envelopeInputs = () => {
    const bytes = detachable(utf8.encode(validEnvelope));
    return { bytes, envelopes: [validEnvelope, '{"a":"x\ud800"}', "x".repeat(70_000), forgedEnvelope, bytes.view] };
  };
  const expectedEnvelopes = ["ok kernel-a", "MALFORMED_ENVELOPE", "MALFORMED_ENVELOPE", "WEAK_PUBLIC_KEY", "ok kernel-a"];
  {
    const { items } = batchItems();
    assert.equal(ed25519.verifyBatch(items), expectedBatch, "untampered, in thread");
    assert.equal(outcomeOf(verifyEnvelopeBatch(envelopeInputs().envelopes)), expectedEnvelopes, "untampered envelopes, in thread");
  }
  // The lie: a 64-byte view of zeros where a signature, message or key was written, a 1-byte
  // view for a length; the hook detaches every caller view of the call (its checks are done).
  const lie = new Uint8Array(64);
  {
    const { views, items } = batchItems();
    const run = withIndexAccessors(16, lie, () => views.forEach((v) => v.detach()), () => ed25519.verifyBatch(items));
    assert.is(run.touched, 0, "ed25519.verifyBatch touched Array.prototype's indices");
    assert.equal(run.value, expectedBatch);
    assert.is(Object.getPrototypeOf(run.value), Array.prototype, "the answer is an ordinary Array");
  }
  {
    const { bytes, envelopes } = envelopeInputs();
    const run = withIndexAccessors(16, lie, bytes.detach, () => verifyEnvelopeBatch(envelopes));
    assert.is(run.touched, 0, "verifyEnvelopeBatch touched Array.prototype's indices");
    assert.equal(outcomeOf(run.value), expectedEnvelopes);
  }
  const pool = createVerifierPool({ threads: 1 });
  try {
    // The synchronous start of each call (its checks, plan and copy) under the accessors; the
    // answers awaited once they are gone. Three single verify() calls share one bucket.
    const { views, items } = batchItems();
    const { bytes, envelopes } = envelopeInputs();
    const singles = [0, 1, 2].map((i) => detachable(i === 1 ? otherMessage : message));
    const run = withIndexAccessors(16, lie, () => [...views, ...singles, bytes].forEach((v) => v.detach()), () => ({
      batch: pool.verifyBatch(items),
      envelopes: pool.verifyEnvelopeBatch(envelopes),
      singles: singles.map((v) => pool.verify(signature, v.view, publicKey)),
    }));
    assert.is(run.touched, 0, "the pool's calls touched Array.prototype's indices");
    assert.equal(await settledWithin(run.value.batch, "pool.verifyBatch"), expectedBatch);
    assert.equal(outcomeOf((await settledWithin(run.value.envelopes, "pool.verifyEnvelopeBatch")) as EnvelopeVerdict[]), expectedEnvelopes);
    assert.equal(await settledWithin(Promise.all(run.value.singles), "pool.verify"), [true, false, true]);
  } finally {
    await pool.close();
  }
});

test("prepared secret keys keep their own slots whatever Array.prototype's push, pop and index accessors do", () => {
  const seedA = seedOf(11);
  const seedB = seedOf(12);
  // A push that lists every value twice and a pop that answers slot 0: once the slot list went
  // through them, a freed slot was listed twice and two live keys shared it (the second key's
  // preparation overwrote the first's secret; signing with the first failed its integrity check).
  const arrayPrototype = Array.prototype as unknown as Record<string, unknown>;
  const originalPush = arrayPrototype.push as (...items: unknown[]) => number;
  const originalPop = arrayPrototype.pop as () => unknown;
  // Held outside any array: the accessors would swallow the test's own writes too.
  let a: { destroy(): void } | undefined;
  let b: { destroy(): void } | undefined;
  try {
    const run = withIndexAccessors(8, 0, () => {}, () => {
      arrayPrototype.push = function (this: unknown[], ...items: unknown[]) {
        return Reflect.apply(originalPush, this, [...items, ...items]);
      };
      arrayPrototype.pop = function (this: unknown[]) {
        Reflect.apply(originalPop, this, []);
        return 0;
      };
      try {
        const first = ed25519.prepareSecretKey(seedA);
        first.destroy();
        const keyA = ed25519.prepareSecretKey(seedA);
        a = keyA;
        const keyB = ed25519.prepareSecretKey(seedB);
        b = keyB;
        return { a: ed25519.sign(message, keyA), b: ed25519.sign(message, keyB) };
      } finally {
        arrayPrototype.push = originalPush;
        arrayPrototype.pop = originalPop;
      }
    });
    assert.is(run.touched, 0, "prepared secret keys touched Array.prototype's indices");
    // Ed25519 signatures are deterministic: node:crypto signing with each seed is the oracle.
    assert.equal(run.value.a, nodeSign(seedA, message), "the first key signs as itself");
    assert.equal(run.value.b, nodeSign(seedB, message), "the second key signs as itself");
  } finally {
    a?.destroy();
    b?.destroy();
  }
});

test("a Symbol.hasInstance defined on Error never runs inside an envelope batch: re-entering the batch from there cannot make it answer for another envelope (review 98)", () => {
  // Same lengths, so a re-entrant batch of the same shape lands on the outer one's addresses.
  const mine = validEnvelope;
  const theirs = JSON.stringify(new KernelTrustExchange("kernel-x", Keypair.fromSeed(seedOf(9))).localEnvelope("kernel-b", "nonce-1", NOW));
  const badSignature = JSON.stringify({ ...JSON.parse(mine), signature: "00".repeat(64) });
  assert.is(theirs.length, badSignature.length);
  // The oversized input makes the batch tell its own CanonicalJsonError from others in the middle
  // of copying the inputs.
  const batch = [badSignature, "x".repeat(70_000)];
  const untampered = outcomeOf(verifyEnvelopeBatch(batch));
  assert.equal(untampered, ["INVALID_SIGNATURE", "MALFORMED_ENVELOPE"]);
  let ran = 0;
  Object.defineProperty(Error, Symbol.hasInstance, {
    configurable: true,
    value(this: unknown, value: unknown) {
      if (ran++ === 0) verifyEnvelopeBatch([theirs, "x".repeat(70_000)]);
      return Function.prototype[Symbol.hasInstance].call(this, value);
    },
  });
  let outcome: string[];
  try {
    outcome = outcomeOf(verifyEnvelopeBatch(batch));
  } finally {
    delete (Error as unknown as Record<symbol, unknown>)[Symbol.hasInstance];
  }
  // Before: the hook ran and the outer batch answered "ok kernel-x" for its bad signature.
  assert.equal(outcome, untampered);
  assert.is(ran, 0, "Error[Symbol.hasInstance] ran inside the batch");
});

test("a single verify() before a batch in the same tick: sending it runs no replaceable built-in between the batch's checks and its copy (review 98)", async () => {
  const pool = createVerifierPool({ threads: 1 });
  try {
    await pool.verify(signature, message, publicKey); // workers up
    const routes: Array<[string, () => () => void]> = [
      ["the global AbortController", () => {
        const Original = globalThis.AbortController;
        (globalThis as { AbortController: unknown }).AbortController = class extends Original {
          constructor() {
            hook();
            super();
          }
        };
        return () => void ((globalThis as { AbortController: unknown }).AbortController = Original);
      }],
      ["Set.prototype.add", () => {
        const original = Set.prototype.add;
        Set.prototype.add = function (this: Set<unknown>, value: unknown) {
          hook();
          return original.call(this, value);
        } as typeof original;
        return () => void (Set.prototype.add = original);
      }],
      ["Promise.prototype.then", () => {
        const original = Promise.prototype.then;
        Promise.prototype.then = function (this: Promise<unknown>, ...args: unknown[]) {
          hook();
          return Reflect.apply(original, this, args);
        } as typeof original;
        return () => void (Promise.prototype.then = original);
      }],
    ];
    let hook = () => {};
    for (const [name, install] of routes) {
      const checked = detachable(message);
      let fired = false;
      hook = () => {
        if (!fired) {
          fired = true;
          checked.detach();
        }
      };
      const single = pool.verify(signature, message, publicKey); // waits in this tick's bucket
      const undo = install();
      let batch: Promise<boolean[]>;
      try {
        batch = pool.verifyBatch([{ signature, message: checked.view, publicKey }]);
      } finally {
        undo();
      }
      // The batch was copied before the bucket was sent: the checked message was verified (before,
      // the hook detached it first and the batch answered [false] for an empty message).
      assert.equal(await settledWithin(batch, `verifyBatch, ${name}`), [true], name);
      assert.is(await settledWithin(single, `verify, ${name}`), true, name);
    }
  } finally {
    await pool.close();
  }
});

test("a replaced array iterator cannot answer for the pool's chunks, nor switch the noble drop-in's strict mode off (review 98)", async () => {
  const iteratorPrototype = Object.getPrototypeOf([][Symbol.iterator]()) as { next(): IteratorResult<unknown> };
  const next = iteratorPrototype.next;
  const withIterator = <T>(replacement: (step: IteratorResult<unknown>) => IteratorResult<unknown>, start: () => T): T => {
    iteratorPrototype.next = function (this: unknown) {
      return replacement(Reflect.apply(next, this, []) as IteratorResult<unknown>);
    };
    try {
      return start();
    } finally {
      iteratorPrototype.next = next;
    }
  };
  const pool = createVerifierPool({ threads: 1 });
  try {
    // A chunk's answer swapped for one saying "valid", when the pool walked its parts with Promise.all.
    const notSigned = utf8.encode("a message nobody signed");
    const answer = withIterator(
      (step) => (!step.done && step.value instanceof Promise ? { done: false, value: Promise.resolve({ bits: new Uint8Array([1]) }) } : step),
      () => pool.verifyBatch([{ signature, message: notSigned, publicKey }]),
    );
    assert.equal(await settledWithin(answer, "pool.verifyBatch"), [false]);
  } finally {
    await pool.close();
  }
  // The ZIP-215-only signature (R the identity, non-canonical): strict mode refuses it. verify's
  // arguments came back as a tuple, taken apart by the iterator after the checks: one answering
  // true for false switched zip215 on.
  assert.is(nobleDropIn.verify(zip215OnlySignature, message, identityKey, { zip215: false }), false);
  assert.is(nobleDropIn.verify(zip215OnlySignature, message, identityKey, { zip215: true }), true);
  const strict = withIterator((step) => (step.value === false ? { done: false, value: true } : step), () => nobleDropIn.verify(zip215OnlySignature, message, identityKey, { zip215: false }));
  assert.is(strict, false);
});

test("trust anchors: a replaced findIndex or Map.prototype.get, index accessors, or a replaced Object.freeze never let another key through (reviews 98, 99)", async () => {
  const peer = Keypair.fromSeed(seedOf(21));
  const impostor = Keypair.fromSeed(seedOf(22));
  let nonce = 0;
  const envelopeFrom = (key: Keypair) => PeerHandshakeEnvelope.sign("kernel-b", "kernel-a", `anchor-${++nonce}`, NOW, key).toJSONText();
  const anchored = () => new KernelTrustExchange("kernel-a", Keypair.fromSeed(seedOf(20))).withTrustedPeer("kernel-b", [peer.publicKey, peer.publicKey.toHex()]);
  /** The accept's outcome with `install`'s replacement in place until the accept settles (its key check runs after an await). */
  const outcome = async (exchange: KernelTrustExchange, key: Keypair, install: () => () => void = () => () => {}) => {
    const undo = install();
    try {
      return await exchange.acceptEnvelope(envelopeFrom(key), "kernel-b", NOW).then(() => "accepted", (error: { code?: string }) => String(error.code));
    } finally {
      undo();
    }
  };
  const replace = <K extends string>(owner: Record<K, unknown>, key: K, value: unknown) => () => {
    const original = owner[key];
    owner[key] = value;
    return () => void (owner[key] = original);
  };
  const arrayPrototype = Array.prototype as unknown as Record<string, unknown>;
  const mapPrototype = Map.prototype as unknown as Record<string, unknown>;
  const mapGet = Map.prototype.get;
  const routes: Array<[string, () => () => void]> = [
    ["findIndex finding every key at index 0", replace(arrayPrototype, "findIndex", () => 0)],
    ["Map.prototype.get answering the impostor's key as the anchor", replace(mapPrototype, "get", function (this: Map<unknown, unknown>, key: unknown) {
      const value = Reflect.apply(mapGet, this, [key]);
      return Array.isArray(value) && value.length === 1 ? Object.freeze([impostor.publicKey]) : value;
    })],
    ["index accessors answering the impostor's key", () => {
      for (let i = 0; i < 4; i++) Object.defineProperty(Array.prototype, String(i), { configurable: true, get: () => impostor.publicKey, set: () => {} });
      return () => {
        for (let i = 0; i < 4; i++) delete arrayPrototype[String(i)];
      };
    }],
  ];
  for (const [name, install] of routes) {
    const exchange = anchored();
    assert.is(await outcome(exchange, impostor, install), "UNEXPECTED_PEER_KEY", name);
    assert.is(await outcome(exchange, peer), "accepted", `${name}: the peer still`);
  }
  // Accessors while the anchor is set (they swallowed its keys, leaving holes), then while it is read.
  {
    const exchange = withIndexAccessors(4, undefined, () => {}, anchored).value;
    assert.is(await outcome(exchange, impostor, routes[2][1]), "UNEXPECTED_PEER_KEY", "accessors while set and while read");
    assert.is(await outcome(exchange, peer), "accepted");
  }
  // A replaced Object.freeze while the anchor is set kept a live reference to its list, to rewrite later.
  {
    const freeze = Object.freeze;
    let kept: unknown[] | undefined;
    Object.freeze = ((value: unknown) => (Array.isArray(value) ? ((kept = value), value) : freeze(value))) as typeof Object.freeze;
    let exchange: KernelTrustExchange;
    try {
      exchange = anchored();
    } finally {
      Object.freeze = freeze;
    }
    assert.is(kept, undefined, "the replaced Object.freeze saw the anchor's list");
    assert.is(await outcome(exchange, impostor), "UNEXPECTED_PEER_KEY");
  }
});

test("errors made inside a call, Number.isInteger, Promise's then and the typed arrays' length getter: none runs or answers inside a call (review 99)", async () => {
  // (1) An envelope batch makes a CanonicalJsonError for its oversized input while it copies its
  // inputs: its constructor assigned `name`, running a setter defined on Error.prototype, from
  // which a re-entrant batch of the same shape made the outer one answer for another envelope.
  {
    const theirs = JSON.stringify(new KernelTrustExchange("kernel-x", Keypair.fromSeed(seedOf(9))).localEnvelope("kernel-b", "nonce-1", NOW));
    const badSignature = JSON.stringify({ ...JSON.parse(validEnvelope), signature: "00".repeat(64) });
    const batch = [badSignature, "x".repeat(70_000)];
    const untampered = outcomeOf(verifyEnvelopeBatch(batch));
    const nameDescriptor = Object.getOwnPropertyDescriptor(Error.prototype, "name")!;
    let ran = 0;
    Object.defineProperty(Error.prototype, "name", {
      configurable: true,
      get: () => "Error",
      set(this: object, value: unknown) {
        if (ran++ === 0) verifyEnvelopeBatch([theirs, "x".repeat(70_000)]);
        Object.defineProperty(this, "name", { value, writable: true, configurable: true });
      },
    });
    let outcome: string[];
    try {
      outcome = outcomeOf(verifyEnvelopeBatch(batch));
    } finally {
      Object.defineProperty(Error.prototype, "name", nameDescriptor);
    }
    assert.equal(outcome, untampered);
    assert.is(ran, 0, "a setter on Error.prototype.name ran inside the batch");
  }
  // (2) Signing with a prepared key asked Number.isInteger between the message's check and its
  // copy: a replacement that detached the message made it sign the empty message.
  {
    const key = ed25519.prepareSecretKey(seed);
    try {
      const checked = detachable(message);
      const isInteger = Number.isInteger;
      let ran = false;
      Number.isInteger = ((value: unknown) => {
        if (!ran) {
          ran = true;
          checked.detach();
        }
        return isInteger(value);
      }) as typeof Number.isInteger;
      let signed: Uint8Array;
      try {
        signed = ed25519.sign(checked.view, key);
      } finally {
        Number.isInteger = isInteger;
      }
      assert.equal(signed, signature, "the checked message's signature (node:crypto's)");
      assert.is(ran, false, "Number.isInteger ran inside sign");
    } finally {
      key.destroy();
    }
  }
  const notSigned = utf8.encode("a message nobody signed");
  // (3) The pool's chunk answers chained through Promise.prototype.then as it was at the call's start.
  {
    const pool = createVerifierPool({ threads: 1 });
    try {
      const original = Promise.prototype.then;
      Promise.prototype.then = function (this: Promise<unknown>, onFulfilled?: (value: unknown) => unknown, onRejected?: (reason: unknown) => unknown) {
        // "Valid" wherever a chunk's verdict passes: the worker's byte, or the verdicts read from it.
        const forged = (value: unknown) =>
          value instanceof Uint8Array && value.length === 1
            ? new Uint8Array([1])
            : typeof value === "object" && value !== null && (value as { bits?: unknown }).bits instanceof Uint8Array
              ? { bits: new Uint8Array([1]) }
              : value;
        return Reflect.apply(original, this, [onFulfilled === undefined ? undefined : (value: unknown) => onFulfilled(forged(value)), onRejected]);
      } as typeof original;
      let answer: Promise<boolean[]>;
      try {
        answer = pool.verifyBatch([{ signature, message: notSigned, publicKey }]);
      } finally {
        Promise.prototype.then = original;
      }
      assert.equal(await settledWithin(answer, "pool.verifyBatch"), [false]);
    } finally {
      await pool.close();
    }
  }
  // (4) The pool joined its chunks' verdicts by their `length` getter: one that told the answer's
  // check the truth and the join 0 dropped a chunk, and the next chunk's verdict moved up.
  {
    const pool = createVerifierPool({ threads: 1, chunkSize: 1 });
    const items = [{ signature, message: notSigned, publicKey }, { signature, message, publicKey }];
    const typedArrayPrototype = Object.getPrototypeOf(Uint8Array.prototype) as object;
    const lengthDescriptor = Object.getOwnPropertyDescriptor(typedArrayPrototype, "length")!;
    const realLength = lengthDescriptor.get!;
    try {
      assert.equal(await pool.verifyBatch(items), [false, true]);
      // 0 for a chunk's "invalid" verdict byte (a buffer of its own, one byte, 0).
      Object.defineProperty(typedArrayPrototype, "length", {
        configurable: true,
        get(this: Uint8Array) {
          const length = Reflect.apply(realLength, this, []) as number;
          return length === 1 && this[0] === 0 && this.buffer.byteLength === 1 ? 0 : length;
        },
      });
      let answer: boolean[];
      try {
        answer = await settledWithin(pool.verifyBatch(items), "pool.verifyBatch");
      } finally {
        Object.defineProperty(typedArrayPrototype, "length", lengthDescriptor);
      }
      assert.equal(answer, [false, true]);
    } finally {
      await pool.close();
    }
  }
});

test("the drop-ins' answers are not decided by a replaced subarray, slice, length getter or Boolean (review 99)", () => {
  const withReplacedValue = <T>(owner: object, key: PropertyKey, value: unknown, start: () => T): T => {
    const descriptor = Object.getOwnPropertyDescriptor(owner, key)!;
    Object.defineProperty(owner, key, { ...descriptor, value });
    try {
      return start();
    } finally {
      Object.defineProperty(owner, key, descriptor);
    }
  };
  const typedArrayPrototype = Object.getPrototypeOf(Uint8Array.prototype) as Uint8Array;
  // A signature only ZIP-215 accepts, under an ordinary key: R the identity in its non-canonical
  // encoding, S = k·a, so [S]B = R + [k]A holds (k and a from node:crypto's SHA-512 and
  // @noble/curves' key expansion).
  const extended = noble.utils.getExtendedPublicKey(seedOf(31));
  const L = 2n ** 252n + 27742317777372353535851937790883648493n;
  const littleEndian = (bytes: Uint8Array) => bytes.reduceRight((n, byte) => (n << 8n) | BigInt(byte), 0n);
  const k = littleEndian(new Uint8Array(createHash("sha512").update(NON_CANONICAL_IDENTITY).update(extended.pointBytes).update(message).digest())) % L;
  const lenient = new Uint8Array(64);
  lenient.set(NON_CANONICAL_IDENTITY);
  lenient.set(Uint8Array.from({ length: 32 }, (_, i) => Number((((k * extended.scalar) % L) >> BigInt(8 * i)) & 0xffn)), 32);
  assert.is(noble.verify(lenient, message, extended.pointBytes, { zip215: true }), true, "oracle: ZIP-215 accepts it");
  assert.is(noble.verify(lenient, message, extended.pointBytes, { zip215: false }), false, "oracle: strict refuses it");
  assert.is(nobleDropIn.verify(lenient, message, extended.pointBytes, { zip215: false }), false);
  const subarray = typedArrayPrototype.subarray;
  // The canonical encoding of the identity handed to the strict check in place of the signature's R.
  const canonicalIdentity = Uint8Array.from({ length: 32 }, (_, i) => (i === 0 ? 1 : 0));
  const strictBySubarray = withReplacedValue(typedArrayPrototype, "subarray", function (this: Uint8Array, start?: number, end?: number) {
    return start === 0 && end === 32 ? canonicalIdentity : Reflect.apply(subarray, this, [start, end]);
  }, () => nobleDropIn.verify(lenient, message, extended.pointBytes, { zip215: false }));
  assert.is(strictBySubarray, false, "noble drop-in, subarray replaced");
  const strictByBoolean = withReplacedValue(globalThis, "Boolean", () => true, () => nobleDropIn.verify(lenient, message, extended.pointBytes, { zip215: false }));
  assert.is(strictByBoolean, false, "noble drop-in, Boolean replaced");
  // tweetnacl's open: the message it verifies and hands back came from `slice`.
  const keyPair = tweetnaclDropIn.sign.keyPair.fromSeed(seedOf(30));
  const signedMessage = tweetnaclDropIn.sign(message, keyPair.secretKey);
  const forged = utf8.encode("forged");
  const slice = typedArrayPrototype.slice;
  const opened = withReplacedValue(typedArrayPrototype, "slice", function (this: Uint8Array, ...args: number[]) {
    return args[0] === 64 ? forged : Reflect.apply(slice, this, args);
  }, () => tweetnaclDropIn.sign.open(signedMessage, keyPair.publicKey));
  assert.equal(opened, message, "tweetnacl drop-in's open, slice replaced");
});

test("the envelope verdict tables, canonical JSON's name cache and an error's cause are read with no replaceable built-in, and errors keep an own enumerable name (review 100)", () => {
  // (1) Set.prototype.has and Map.prototype.get ran while a verdict was read back from wasm
  // memory: a hook that verified another envelope there overwrote the result blocks, and the bad
  // signature came back ok, in a batch and in a single call.
  const bad = JSON.stringify({ ...JSON.parse(validEnvelope), signature: "00".repeat(64) });
  const expectedSingle = outcomeOf([verifyEnvelopeBytes(bad)]);
  const expectedBatch = outcomeOf(verifyEnvelopeBatch(["{}", bad]));
  assert.equal(expectedSingle, ["INVALID_SIGNATURE"]);
  for (const [name, owner, key] of [["Set.prototype.has", Set.prototype, "has"], ["Map.prototype.get", Map.prototype, "get"]] as const) {
    const single = withReplaced(owner, key, () => void verifyEnvelopeBytes(validEnvelope), () => outcomeOf([verifyEnvelopeBytes(bad)]));
    assert.equal(single.value, expectedSingle, `${name}, verifyEnvelopeBytes`);
    assert.is(single.fired, false, `${name} ran inside verifyEnvelopeBytes`);
    const batch = withReplaced(owner, key, () => void verifyEnvelopeBatch(["{}", validEnvelope]), () => outcomeOf(verifyEnvelopeBatch(["{}", bad])));
    assert.equal(batch.value, expectedBatch, `${name}, verifyEnvelopeBatch`);
    assert.is(batch.fired, false, `${name} ran inside verifyEnvelopeBatch`);
  }
  // (2) An oversized input's error has no cause of its own: reading one reached Object.prototype.
  {
    let read = 0;
    const verdicts = withPollutedObjectPrototype({}, () => {
      Object.defineProperty(Object.prototype, "cause", { configurable: true, get: () => (read++, undefined) });
      try {
        return outcomeOf(verifyEnvelopeBatch(["x".repeat(70_000), validEnvelope]));
      } finally {
        delete (Object.prototype as unknown as Record<string, unknown>).cause;
      }
    });
    assert.equal(verdicts, ["MALFORMED_ENVELOPE", "ok kernel-a"]);
    assert.is(read, 0, "Object.prototype.cause was read inside the batch");
  }
  // (3) canonical JSON's cache of quoted member names used the realm's Map methods: a replaced
  // get answered for it, and a replaced set poisoned it for every later call.
  const value = { amount: 5, payee: "alice", zz_review_100: 1 };
  const expected = canonicalize(value);
  assert.is(expected, canonicalizeOracle(value), "the canonicalize package agrees");
  const mapSet = Map.prototype.set;
  withReplaced(Map.prototype, "set", () => {}, () => canonicalize({ zz_review_100_b: 1 }));
  Map.prototype.set = function (this: Map<unknown, unknown>, key: unknown, stored: unknown) {
    return Reflect.apply(mapSet, this, [key, key === "zz_review_100_c" ? '"zz_review_100_c":"mallory","memo":' : stored]);
  } as typeof mapSet;
  try {
    canonicalize({ zz_review_100_c: 1 });
  } finally {
    Map.prototype.set = mapSet;
  }
  assert.is(canonicalize({ zz_review_100_c: "alice" }), '{"zz_review_100_c":"alice"}', "the name cache was poisoned");
  const mapGet = Map.prototype.get;
  Map.prototype.get = function (this: Map<unknown, unknown>, key: unknown) {
    return key === "amount" ? '"amount":500,"y":' : Reflect.apply(mapGet, this, [key]);
  } as typeof mapGet;
  let answered: string;
  try {
    answered = canonicalize(value);
  } finally {
    Map.prototype.get = mapGet;
  }
  assert.is(answered, expected, "Map.prototype.get answered for the name cache");
  // (4) Errors are named without an assignment, and their name is still an own enumerable member.
  const error = throwsWith(() => ed25519.verify(new Uint8Array(3), message, publicKey), "INVALID_LENGTH");
  assert.is(error.name, "InvalidLengthError");
  assert.ok(Object.keys(error).includes("name"), "name is an own enumerable member");
  assert.is(JSON.parse(JSON.stringify(error)).name, "InvalidLengthError");
  assert.ok(String(error.stack).startsWith("InvalidLengthError: "));
});

test("a timestamp of 16 digits or more is decoded with no global function: a replaced BigInt, Number or String.fromCharCode cannot re-enter the verifier while it reads a verdict back (review 101)", () => {
  const exchange = new KernelTrustExchange("kernel-a", Keypair.fromSeed(seedOf(2)));
  const outcomes = (verdicts: EnvelopeVerdict[]) => verdicts.map((v) => (v.ok ? `ok ${v.envelope.challenge.nonce} ${String(v.envelope.challenge.timestamp)}` : v.code));
  // 16 digits (the longest a clock in seconds signs here; the decoder's bigint branch is the same loop).
  for (const timestamp of [1_764_000_000_000_000, 9_007_199_254_740_991]) {
    const first = JSON.stringify(exchange.localEnvelope("kernel-b", "nonce-1", timestamp));
    const second = JSON.stringify(exchange.localEnvelope("kernel-b", "nonce-2", timestamp));
    const bad = JSON.stringify({ ...JSON.parse(second), signature: JSON.parse(first).signature }); // the first's signature over the second's challenge
    const expected = outcomes(verifyEnvelopeBatch([first, bad]));
    assert.equal(expected, [`ok nonce-1 ${String(timestamp)}`, "INVALID_SIGNATURE"], `oracle for ${timestamp}`);
    assert.equal(outcomes([verifyEnvelopeBytes(second)]), [`ok nonce-2 ${String(timestamp)}`]);
    assert.is((verifyEnvelopeBytes(first) as { envelope: { challenge: { timestamp: unknown } } }).envelope.challenge.timestamp, timestamp);
    // Each replaced by a Proxy whose call runs the hook once: its other members (Number.isInteger,
    // which the argument checks use before any verdict is read) stay the real ones.
    const calledThrough = <T>(owner: Record<string, unknown>, key: string, hook: () => void, start: () => T) => {
      const original = owner[key] as (...args: unknown[]) => unknown;
      let fired = false;
      owner[key] = new Proxy(original, {
        apply(target, self, args) {
          if (!fired) {
            fired = true;
            hook();
          }
          return Reflect.apply(target, self, args);
        },
      });
      try {
        return { value: start(), fired };
      } finally {
        owner[key] = original;
      }
    };
    const routes: Array<[string, Record<string, unknown>, string]> = [
      ["BigInt", globalThis as unknown as Record<string, unknown>, "BigInt"],
      ["Number", globalThis as unknown as Record<string, unknown>, "Number"],
      ["String.fromCharCode", String as unknown as Record<string, unknown>, "fromCharCode"],
    ];
    for (const [name, owner, key] of routes) {
      const batch = calledThrough(owner, key, () => void verifyEnvelopeBatch([first, second]), () => outcomes(verifyEnvelopeBatch([first, bad])));
      assert.equal(batch.value, expected, `${name}, batch, ${timestamp}`);
      assert.is(batch.fired, false, `${name} ran inside verifyEnvelopeBatch`);
      const single = calledThrough(owner, key, () => void verifyEnvelopeBytes(second), () => outcomes([verifyEnvelopeBytes(first)]));
      assert.equal(single.value, [`ok nonce-1 ${String(timestamp)}`], `${name}, single, ${timestamp}`);
      assert.is(single.fired, false, `${name} ran inside verifyEnvelopeBytes`);
    }
  }
});

test("a worker's verdict objects are checked with no replaceable built-in: a replaced length getter cannot pass a 31-byte key or a 63-byte signature, nor a replaced every() a challenge without its nonce", () => {
  // The answer of a worker short of memory (src/pool/worker.ts): verdict objects, structured-cloned.
  const verdicts = structuredClone(verifyEnvelopeBatch([validEnvelope])) as EnvelopeVerdict[];
  assert.is(verdicts[0].ok, true);
  const options = { maxBytes: 65536, zip215: false, rejectWeakKeys: true, escapeDelAndC1: false };
  const accepted = verdicts[0] as Extract<EnvelopeVerdict, { ok: true }>;
  const cutKey = [{ ...accepted, envelope: { ...accepted.envelope, declaredPublicKey: accepted.envelope.declaredPublicKey.slice(0, 31) } }];
  const cutSignature = [{ ...accepted, envelope: { ...accepted.envelope, signature: accepted.envelope.signature.slice(0, 63) } }];
  assert.equal(readEnvelopeAnswer(verdicts, options, 1), verdicts);
  const typedArrayPrototype = Object.getPrototypeOf(Uint8Array.prototype) as object;
  const lengthDescriptor = Object.getOwnPropertyDescriptor(typedArrayPrototype, "length")!;
  const realLength = lengthDescriptor.get!;
  let asked = 0;
  Object.defineProperty(typedArrayPrototype, "length", {
    configurable: true,
    get(this: Uint8Array) {
      const length = Reflect.apply(realLength, this, []) as number;
      if (length === 31 || length === 63) asked++;
      return length === 31 ? 32 : length === 63 ? 64 : length;
    },
  });
  try {
    throwsWith(() => readEnvelopeAnswer(cutKey, options, 1), "TASK_FAILED");
    throwsWith(() => readEnvelopeAnswer(cutSignature, options, 1), "TASK_FAILED");
  } finally {
    Object.defineProperty(typedArrayPrototype, "length", lengthDescriptor);
  }
  assert.is(asked, 0, "the replaced getter was asked");
  // A challenge without its nonce, with Array.prototype.every answering true for anything.
  const { nonce: _dropped, ...noNonce } = accepted.envelope.challenge;
  const every = Array.prototype.every;
  Array.prototype.every = () => true;
  try {
    throwsWith(() => readEnvelopeAnswer([{ ...accepted, envelope: { ...accepted.envelope, challenge: noNonce } }], options, 1), "TASK_FAILED");
  } finally {
    Array.prototype.every = every;
  }
});

// Helper 145 (7 December 2026): a branded class's [Symbol.hasInstance] was a writable static
// method, and verify() looks it up (`publicKey instanceof PreparedPublicKey`) between its byte
// checks and its copy: a replacement that detached the message there made verify() check the
// signature of the empty message, and answer true for a message nobody signed.
test("the branded classes' brand checks cannot be replaced, so verify() runs no caller code between its checks and its copy: a signature of the empty message stays false for another", () => {
  for (const cls of [PreparedPublicKey, PublicKey, Signature, HandshakeChallenge, PeerHandshakeEnvelope, FederationPeer] as const) {
    const descriptor = Object.getOwnPropertyDescriptor(cls, Symbol.hasInstance)!;
    assert.equal([typeof descriptor.value, descriptor.writable, descriptor.configurable], ["function", false, false], cls.name);
    assert.throws(() => ((cls as unknown as Record<symbol, unknown>)[Symbol.hasInstance] = () => true), TypeError, `${cls.name}: assignment`);
    assert.throws(() => Object.defineProperty(cls, Symbol.hasInstance, { value: () => true }), TypeError, `${cls.name}: defineProperty`);
  }
  // The classes without a brand check of their own: none can be given one.
  for (const cls of [Keypair, KernelTrustExchange, InMemoryPeerStore, ReplayCache, PreparedSecretKey] as const) {
    assert.throws(() => Object.defineProperty(cls, Symbol.hasInstance, { value: () => true }), TypeError, `${cls.name}: defineProperty`);
  }
  const signatureOfEmpty = nodeSign(seed, new Uint8Array(0));
  for (const options of [undefined, { zip215: true }]) {
    const unsigned = utf8.encode("transfer 1000 to mallory");
    const detachOnce = function (this: unknown, value: unknown): boolean {
      structuredClone(unsigned.buffer, { transfer: [unsigned.buffer] });
      return Function.prototype[Symbol.hasInstance].call(PreparedPublicKey, value);
    };
    try {
      (PreparedPublicKey as unknown as Record<symbol, unknown>)[Symbol.hasInstance] = detachOnce;
    } catch {
      // refused: read-only
    }
    assert.is(ed25519.verify(signatureOfEmpty, unsigned, publicKey, options), false, JSON.stringify(options));
    assert.is(unsigned.length, 24, "the message was never detached: no replaced brand check ran");
  }
});

// Helper 148 (7 December 2026): the library calls methods of its own exported classes and of the
// `ed25519` object in the middle of its calls, and each was writable. Replacements changed the
// outcomes: PublicKey#equals let a stranger's envelope be accepted and pinned for an anchored
// peer, ReplayCache#has let a replay through, FederationPeer#isFresh resolved a stale pin,
// ed25519.verify passed a bad signature through PublicKey#verify and the drop-ins. The classes,
// their prototypes and the object are frozen as they load.
test("the exported classes, their prototypes and the ed25519 object are frozen: the methods the library calls cannot be replaced, and the outcomes they decide stay", async () => {
  const classes = [PreparedPublicKey, PreparedSecretKey, PublicKey, Signature, Keypair, HandshakeChallenge, PeerHandshakeEnvelope, FederationPeer, KernelTrustExchange, InMemoryPeerStore, ReplayCache, SqlitePeerStore, SqliteReplayStore];
  for (const cls of classes) {
    assert.ok(Object.isFrozen(cls) && Object.isFrozen(cls.prototype), `${cls.name} and its prototype are frozen`);
  }
  assert.ok(Object.isFrozen(ed25519) && Object.isFrozen(ed25519.utils), "ed25519 and ed25519.utils are frozen");
  const attempt = (replace: () => void, what: string) => assert.throws(replace, TypeError, what);
  attempt(() => ((PublicKey.prototype as unknown as Record<string, unknown>).equals = () => true), "PublicKey#equals");
  attempt(() => ((ReplayCache.prototype as unknown as Record<string, unknown>).has = () => false), "ReplayCache#has");
  attempt(() => ((FederationPeer.prototype as unknown as Record<string, unknown>).isFresh = () => true), "FederationPeer#isFresh");
  attempt(() => ((ed25519 as unknown as Record<string, unknown>).verify = () => true), "ed25519.verify");
  attempt(() => ((PublicKey as unknown as Record<string, unknown>).fromHex = () => undefined), "PublicKey.fromHex");
  attempt(() => Object.defineProperty(PreparedSecretKey.prototype, "usable", { get: () => true }), "PreparedSecretKey#usable");
  // The outcomes those replacements changed, with the methods as they are.
  const anchor = Keypair.fromSeed(seedOf(11));
  const stranger = Keypair.fromSeed(seedOf(12));
  const acceptor = new KernelTrustExchange("kernel-b", Keypair.fromSeed(seedOf(13)), { trustedPeers: { "kernel-a": anchor.publicKey } });
  const forged = JSON.stringify(new KernelTrustExchange("kernel-a", stranger).localEnvelope("kernel-b", "n-stranger", NOW));
  // Nor can an instance be given a method of its own: the anchor the exchange hands out is the
  // object whose `equals` it asks (helper 151: an own `equals` had the stranger accepted and pinned).
  const handedOut = acceptor.trustedPeers().get("kernel-a")!;
  assert.ok(Object.isFrozen(handedOut) && Object.isFrozen(Signature.fromBytes(signature)), "PublicKey and Signature instances are frozen");
  attempt(() => Object.defineProperty(handedOut, "equals", { value: () => true }), "an anchor's own equals");
  await rejectsWithCode(acceptor.acceptEnvelope(forged, "kernel-a", NOW), "UNEXPECTED_PEER_KEY");
  const honest = JSON.stringify(new KernelTrustExchange("kernel-a", anchor).localEnvelope("kernel-b", "n-1", NOW));
  await acceptor.acceptEnvelope(honest, "kernel-a", NOW);
  await rejectsWithCode(acceptor.acceptEnvelope(honest, "kernel-a", NOW + 1), "REPLAYED_NONCE");
  assert.is((await acceptor.resolve("kernel-a", NOW + 1)).publicKey.equals(anchor.publicKey), true);
  const unsigned = utf8.encode("never signed");
  assert.is(PublicKey.fromBytes(publicKey).verify(unsigned, Signature.fromBytes(signature)), false);
  assert.is(nobleDropIn.verify(signature, unsigned, publicKey), false);
  assert.is(tweetnaclDropIn.sign.detached.verify(unsigned, signature, publicKey), false);
});

test.run();
