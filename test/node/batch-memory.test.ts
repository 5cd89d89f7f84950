// verifyBatch and verifyEnvelopeBatch when WebAssembly memory cannot grow for a whole chunk.
//
// The library runs on the TEST build of the core, whose memory is capped at 32 MiB (asconfig.json,
// target "test": maximumMemory 512 pages); the release build has no cap below the engine's. A
// prepared-key slab sized to fill that cap leaves the I/O arena a known amount of room, less than
// one call over all the items needs, so the batch must split its work: the answers must still be
// the single verify / verifyEnvelopeBytes ones. With no room for even one item next to the batch's
// fixed scratch area, each item goes to the single call, whose answer (or WASM_OUT_OF_MEMORY)
// the batch then gives. (Without the single-call fallback in either batch, the last test fails;
// throwing instead of halving fails the first two.)
import { test } from "uvu";
import * as assert from "uvu/assert";
import { createHash } from "node:crypto";
import { isDeepStrictEqual } from "node:util";
import { ed25519, ED25519_PREPARED_KEYS_DEFAULT_BYTES } from "../../src/ed25519.js";
import { WasmCoreError } from "../../src/errors.js";
import { verifyEnvelopeBatch, verifyEnvelopeBatchPacked, verifyEnvelopeBytes } from "../../src/handshake/verify-envelope.js";
import { CRASH_NONE, packEnvelopeChunk, TASK_ENVELOPES } from "../../src/pool/codec.js";
import { readEnvelopeAnswer } from "../../src/pool/answers.js";
import runPoolTask from "../../src/pool/worker.js";
import { KernelTrustExchange, Keypair } from "../../src/index.js";
import { coreExports, initSync, ioArenaBase, resetInstance } from "../../src/wasm/instance.js";
import { CHIO_WASM_BASE64 } from "../../src/generated/chio-wasm.js";
import { testModule } from "../helpers/test-core.js";
import { throwsWith } from "../helpers/assert-codes.js";
import { ed25519 as noble } from "@noble/curves/ed25519.js";
import { L, fromLE, torsionPoints } from "../helpers/ed25519-oracles.js";
import { HANDSHAKE_SCHEMA, canonicalChallenge, envelopeText, signWithNonce } from "../helpers/envelope-builders.js";

const TEST_MEMORY_BYTES = 512 * 65536; // asconfig.json, target "test"
const DEFAULT_SLAB_BYTES = ED25519_PREPARED_KEYS_DEFAULT_BYTES;

const seedOf = (label: string): Uint8Array => createHash("sha256").update(label).digest();

/**
 * Sizes the prepared-key slab so that at least `room` bytes of memory, and at most one slab slot
 * (about 33 KB) more, are left above the I/O arena; returns the room left.
 */
function leaveRoom(room: number): number {
  ed25519.configurePreparedKeys({ maxBytes: 0 });
  const heapEnd = ioArenaBase();
  ed25519.configurePreparedKeys({ maxBytes: Math.max(0, TEST_MEMORY_BYTES - heapEnd - room) & ~15 });
  return TEST_MEMORY_BYTES - ioArenaBase();
}

/**
 * Memory above the I/O arena that `run` made the core grow to, on a fresh instance with no slab:
 * what its calls need, rounded up to whole 64 KiB pages (so at most 64 KiB over).
 */
function memoryNeededBy(run: () => void): number {
  resetInstance();
  initSync(testModule());
  ed25519.configurePreparedKeys({ maxBytes: 0 });
  run();
  return coreExports().memory.buffer.byteLength - ioArenaBase();
}

/** Runs `fn`, which must throw WasmCoreError WASM_OUT_OF_MEMORY. */
function throwsOutOfMemory(fn: () => unknown): void {
  assert.instance(throwsWith(fn, "WASM_OUT_OF_MEMORY"), WasmCoreError);
}

test.before(() => {
  resetInstance();
  initSync(testModule());
});

test.after(() => {
  resetInstance();
  initSync(new WebAssembly.Module(Buffer.from(CHIO_WASM_BASE64, "base64")));
  ed25519.configurePreparedKeys({ maxBytes: DEFAULT_SLAB_BYTES });
});

const T4 = torsionPoints()[2]; // a point of order 4

/**
 * A signature over `message` whose R carries a point of order 4 (R = [r]B + T4, S = r + k a, so
 * D = -T4), built with @noble/curves and BigInt: the default rule rejects it and ZIP-215 accepts
 * it, so a batch that lost its mode on the way to a smaller call or to the single one answers it
 * wrongly. Deterministic in `label`.
 */
function torsionRSigned(label: string, message: Uint8Array): { signature: Uint8Array; publicKey: Uint8Array } {
  const a = (fromLE(seedOf(`${label} a`)) % (L - 1n)) + 1n;
  const r = (fromLE(seedOf(`${label} r`)) % (L - 1n)) + 1n;
  const publicKey = noble.Point.BASE.multiply(a).toBytes();
  return { signature: signWithNonce(a, publicKey, message, r, T4), publicKey };
}

/** An envelope whose signature is torsionRSigned's over its canonical challenge (test/helpers/envelope-builders.ts). */
function torsionREnvelope(label: string): string {
  const challenge = { schema: HANDSHAKE_SCHEMA, localKernelId: "kernel-t", remoteKernelId: "kernel-local", nonce: label, timestamp: 1764000000 };
  const { signature, publicKey } = torsionRSigned(label, canonicalChallenge(challenge));
  return envelopeText(challenge, publicKey, signature);
}

// 64 signatures over 4 KiB messages under 8 keys, every fourth one broken (a flipped bit in S, R or
// the message), except that every eighth from i = 5 on is signed with torsion in R instead, under a
// key of its own (torsionRSigned: its verdict is the mode's).
function signatureItems(messageBytes = 4096): { signature: Uint8Array; message: Uint8Array; publicKey: Uint8Array }[] {
  const items = [];
  for (let i = 0; i < 64; i++) {
    if (i % 8 === 5) {
      const message = new Uint8Array(messageBytes).fill(i);
      items.push({ ...torsionRSigned(`batch-memory torsion ${i}`, message), message });
      continue;
    }
    const seed = seedOf(`batch-memory key ${i % 8}`);
    const message = new Uint8Array(messageBytes).fill(i);
    const signature = ed25519.sign(message, seed);
    if (i % 4 === 1) signature[40] ^= 1;
    if (i % 4 === 3) signature[3] ^= 0x10;
    const signed = i % 8 === 6 ? message.map((b, k) => (k === 100 ? b ^ 1 : b)) : message;
    items.push({ signature, message: signed, publicKey: ed25519.getPublicKey(seed) });
  }
  return items;
}

test("verifyBatch with room for only a few items per call: the single verdicts, in both modes", () => {
  const items = signatureItems(8192); // messages large enough that 56 of them outweigh a slab slot (about 33 KB) of slack
  const expected = [false, true].map((zip215) => items.map((it) => ed25519.verify(it.signature, it.message, it.publicKey, { zip215 })));
  assert.ok(expected[0].includes(true) && expected[0].includes(false));
  assert.ok(expected[0].some((ok, i) => ok !== expected[1][i]), "some verdicts differ between the modes");
  // Room for a call over 8 items (and at most 64 KiB + one slab slot more), not for one over all 64.
  const forEight = memoryNeededBy(() => ed25519.verifyBatch(items.slice(0, 8)));
  const forAll = memoryNeededBy(() => ed25519.verifyBatch(items));
  try {
    const room = leaveRoom(forEight);
    assert.ok(room < forAll - 65536, `room ${room} must be below what one call over all items needs (${forAll - 65536}+)`);
    assert.equal(ed25519.verifyBatch(items), expected[0]);
    assert.equal(ed25519.verifyBatch(items, { zip215: true }), expected[1]);
  } finally {
    ed25519.configurePreparedKeys({ maxBytes: DEFAULT_SLAB_BYTES });
  }
});

test("verifyBatch takes at most BATCH_INPUT_BUDGET message bytes into one call: large messages grow memory about as single verify does (review-35)", () => {
  // 12 messages of 1.5 MiB: each goes into a call of its own. Before the budget, one call took all
  // 12 (18 MiB), and WebAssembly memory is never given back.
  const seed = seedOf("batch-memory budget");
  const publicKey = ed25519.getPublicKey(seed);
  const items = Array.from({ length: 12 }, (_, i) => {
    const message = new Uint8Array(3 << 19).fill(i);
    const signature = ed25519.sign(message, seed);
    if (i % 3 === 1) signature[40] ^= 1;
    return { signature, message, publicKey };
  });
  const expected = items.map((it) => ed25519.verify(it.signature, it.message, it.publicKey));
  assert.ok(expected.includes(true) && expected.includes(false));
  const single = memoryNeededBy(() => ed25519.verify(items[0].signature, items[0].message, publicKey));
  let verdicts: boolean[] = [];
  const batch = memoryNeededBy(() => (verdicts = ed25519.verifyBatch(items)));
  assert.equal(verdicts, expected);
  // One message, its record and the batch's fixed scratch (433 KiB), in whole pages.
  assert.ok(batch <= single + (1 << 20), `batch grew memory to ${batch} bytes above the arena, single verify to ${single}`);
  // Smaller messages share calls up to the budget: 40 of 100 KiB fit in 4 calls of 10 (checked by the verdicts only).
  const small = Array.from({ length: 40 }, (_, i) => {
    const message = new Uint8Array(100 << 10).fill(i);
    const signature = ed25519.sign(message, seed);
    if (i % 5 === 2) signature[1] ^= 4;
    return { signature, message, publicKey };
  });
  assert.equal(ed25519.verifyBatch(small), small.map((it) => ed25519.verify(it.signature, it.message, publicKey)));
});

test("verifyEnvelopeBatch with room for only a few envelopes per call: deep-equal to verifyEnvelopeBytes", () => {
  const utf8 = new TextEncoder();
  const envelopes: (Uint8Array | string)[] = [];
  for (let i = 0; i < 64; i++) {
    const exchange = new KernelTrustExchange(`kernel-${i}`, Keypair.fromSeed(seedOf(`batch-memory envelope ${i % 16}`)));
    // 8 KB each: whitespace after the object is allowed JSON.
    const text = JSON.stringify(exchange.localEnvelope("kernel-local", `nonce-${i}`, 1764000000 + i)).padEnd(8192, " ");
    // Every fifth a wrong signature, every seventh not JSON; strings and bytes alternate.
    // Every ninth (from i = 4) with torsion in R instead, which ZIP-215 accepts and the default rule does not.
    const edited =
      i % 9 === 4 ? torsionREnvelope(`envelope ${i}`).padEnd(8192, " ")
      : i % 5 === 2 ? text.replace(/"signature":"(.)/, (_, c: string) => `"signature":"${c === "0" ? "1" : "0"}`)
      : i % 7 === 3 ? text.replace(":", "::")
      : text;
    envelopes.push(i % 2 === 0 ? utf8.encode(edited) : edited);
  }
  const expected = envelopes.map((e) => verifyEnvelopeBytes(e));
  assert.ok(expected.some((v) => v.ok) && expected.some((v) => !v.ok && v.code === "INVALID_SIGNATURE") && expected.some((v) => !v.ok && v.code === "MALFORMED_ENVELOPE"));
  const expectedZip215 = envelopes.map((e) => verifyEnvelopeBytes(e, { zip215: true }));
  assert.ok(expected.some((v, i) => v.ok !== expectedZip215[i].ok), "some verdicts differ between the modes");
  const forEight = memoryNeededBy(() => verifyEnvelopeBatch(envelopes.slice(0, 8)));
  const forAll = memoryNeededBy(() => verifyEnvelopeBatch(envelopes));
  try {
    const room = leaveRoom(forEight);
    assert.ok(room < forAll - 65536, `room ${room} must be below what one call over all envelopes needs (${forAll - 65536}+)`);
    assert.equal(verifyEnvelopeBatch(envelopes), expected);
    assert.equal(verifyEnvelopeBatch(envelopes, { zip215: true }), expectedZip215);
  } finally {
    ed25519.configurePreparedKeys({ maxBytes: DEFAULT_SLAB_BYTES });
  }
});

test("no room for even one item next to the batch scratch: each item gets the single call's answer, WASM_OUT_OF_MEMORY only where verify throws it", () => {
  const small = signatureItems().slice(0, 6);
  const large = signatureItems(64 * 1024).slice(0, 2);
  const expected = small.map((it) => ed25519.verify(it.signature, it.message, it.publicKey));
  const exchange = new KernelTrustExchange("kernel-a", Keypair.fromSeed(seedOf("batch-memory lone")));
  const envelope = JSON.stringify(exchange.localEnvelope("kernel-b", "n", 1764000000));
  const forged = envelope.replace(/"signature":"(.)/, (_, c: string) => `"signature":"${c === "0" ? "1" : "0"}`);
  const padded = envelope.padEnd(60_000, " "); // within the default maxBytes (64 KiB): whitespace after the object
  const envelopes = [envelope, padded, forged, "{", envelope, torsionREnvelope("lone torsion")];
  const zip215 = { zip215: true };
  try {
    // Room for verify's 4 KiB message and its arguments (at least 8 KiB), far below the batch's
    // fixed scratch area (at most one slab slot more: under 40 KB).
    const room = leaveRoom(8192);
    assert.ok(room < 40_000, `room ${room}`);
    // Small messages: the batch cannot run even for one item, verify can; so can verifyBatch, through verify.
    assert.equal(ed25519.verifyBatch(small), expected);
    const expectedZip215 = small.map((it) => ed25519.verify(it.signature, it.message, it.publicKey, { zip215: true }));
    assert.ok(expected.some((ok, i) => ok !== expectedZip215[i]), "some verdicts differ between the modes");
    assert.equal(ed25519.verifyBatch(small, { zip215: true }), expectedZip215);
    // 64 KiB messages: verify itself cannot reserve the message, and verifyBatch throws the same error.
    throwsOutOfMemory(() => ed25519.verify(large[0].signature, large[0].message, large[0].publicKey));
    throwsOutOfMemory(() => ed25519.verifyBatch(large));
    // Envelopes: verifyEnvelopeBytes's verdicts, the one it cannot reserve included.
    const singles = envelopes.map((e) => verifyEnvelopeBytes(e));
    assert.equal(singles.map((v) => v.ok), [true, false, false, false, true, false]);
    assert.equal(verifyEnvelopeBatch(envelopes), singles);
    // ZIP-215 accepts the envelope with torsion in R: the fallback must pass the mode on.
    const singlesZip215 = envelopes.map((e) => verifyEnvelopeBytes(e, zip215));
    assert.equal(singlesZip215.map((v) => v.ok), [true, false, false, false, true, true]);
    assert.equal(verifyEnvelopeBatch(envelopes, zip215), singlesZip215);
  } finally {
    ed25519.configurePreparedKeys({ maxBytes: DEFAULT_SLAB_BYTES });
  }
  // With memory back, the padded envelope verifies, in both calls.
  assert.is(verifyEnvelopeBytes(padded).ok, true);
  assert.equal(verifyEnvelopeBatch(envelopes).map((v) => v.ok), [true, true, false, false, true, false]);
});

const verdictSummary = (v: ReturnType<typeof verifyEnvelopeBytes>) => (v.ok ? "ok" : `${v.code} ${v.problem ?? ""}`);

test("one envelope whose batch call finds no work memory gets verifyEnvelopeBytes's verdict, which needs less", () => {
  // A one-envelope batch call needs the batch's records, scratch and results besides the
  // envelope's work area (here large: a 30,000-character nonce of 2-byte characters goes into the
  // canonical challenge written past the input). So there is a band of free memory in which it
  // cannot finish while envelope_verify can: the call must then be out of memory (JS falls back
  // to envelope_verify), not give the work area's OUT_OF_MEMORY verdict as the envelope's.
  const exchange = new KernelTrustExchange("kernel-a", Keypair.fromSeed(seedOf("batch-memory one envelope")));
  const envelope = new TextEncoder().encode(JSON.stringify(exchange.localEnvelope("kernel-b", "é".repeat(30_000), 1764000000)));
  assert.ok(envelope.length < 65536, "within the default maxBytes");
  assert.is(verifyEnvelopeBytes(envelope).ok, true);
  const single = memoryNeededBy(() => verifyEnvelopeBytes(envelope));
  const batch = memoryNeededBy(() => verifyEnvelopeBatch([envelope]));
  let inBand = 0;
  try {
    // From no room at all: memoryNeededBy's figures are upper bounds (whole pages, and the
    // arena's growth steps), so the band can lie well below `single`.
    for (let room = 0; room <= batch + 65536; room += 8192) {
      leaveRoom(room);
      const expected = verifyEnvelopeBytes(envelope);
      if (expected.ok && verifyEnvelopeBatchPacked([envelope]) === undefined) inBand++;
      // isDeepStrictEqual, not assert.equal: uvu's diff of two 60 KB verdicts would take minutes.
      const [got] = verifyEnvelopeBatch([envelope]);
      assert.ok(isDeepStrictEqual(got, expected), `room ${room}: ${verdictSummary(got)} against ${verdictSummary(expected)}`);
    }
  } finally {
    ed25519.configurePreparedKeys({ maxBytes: DEFAULT_SLAB_BYTES });
  }
  assert.ok(inBand > 0, `no room in ${single}…${batch} let envelope_verify finish but not the batch call`);
});

test("a string memory cannot hold at 3 bytes per unit: its exact UTF-8 length decides, TOO_LARGE or a verdict of the envelope", () => {
  // A string's UTF-8 takes up to 3 bytes per UTF-16 unit, and that much is reserved for it. When
  // memory cannot give that much, the string is not refused for memory's sake if its exact
  // UTF-8 length is over maxBytes (TOO_LARGE, as with any memory) or fits in what memory has.
  const exchange = new KernelTrustExchange("kernel-a", Keypair.fromSeed(seedOf("batch-memory wide strings")));
  const envelope = JSON.stringify(exchange.localEnvelope("kernel-b", "n", 1764000000));
  const wide = "é".repeat(40_000); // 40,000 units, within maxBytes (65536); 80,000 bytes of UTF-8, over it
  let padded = "";
  let verdicts: ReturnType<typeof verifyEnvelopeBytes>[];
  try {
    const room = leaveRoom(8192);
    padded = envelope.padEnd(Math.floor(room / 2), " "); // fits as UTF-8, not at 3 bytes per unit
    assert.ok(3 * padded.length > room && 3 * wide.length > room && wide.length <= 65536, `room ${room}`);
    verdicts = [verifyEnvelopeBytes(padded), verifyEnvelopeBytes(wide)];
    assert.is(verdicts[0].ok, true, verdictSummary(verdicts[0]));
    assert.equal([verdicts[1].ok, (verdicts[1] as { problem?: string }).problem], [false, "TOO_LARGE"], verdictSummary(verdicts[1]));
    assert.ok(isDeepStrictEqual(verifyEnvelopeBatch([padded, wide]), verdicts), "the batch gives the same verdicts");
  } finally {
    ed25519.configurePreparedKeys({ maxBytes: DEFAULT_SLAB_BYTES });
  }
  // With memory back: the same verdicts.
  assert.ok(isDeepStrictEqual([verifyEnvelopeBytes(padded), verifyEnvelopeBytes(wide)], verdicts));
});

test("a pool worker short of memory: verdicts deep-equal to verifyEnvelopeBytes where one envelope fits, TASK_FAILED where none does", () => {
  const seed = seedOf("batch-memory pool worker");
  const exchange = new KernelTrustExchange("kernel-a", Keypair.fromSeed(seed));
  const envelope = JSON.stringify(exchange.localEnvelope("kernel-b", "n", 1764000000));
  const forged = envelope.replace(/"signature":"(.)/, (_, c: string) => `"signature":"${c === "0" ? "1" : "0"}`);
  // A u64 timestamp above 2^53: its verdict carries a bigint, which the structured clone must keep.
  // The canonical challenge is written out by hand (RFC 8785: members sorted, no whitespace).
  const { challenge, declaredPublicKey } = JSON.parse(envelope) as { challenge: Record<string, string>; declaredPublicKey: string };
  const strings = ["localKernelId", "nonce", "remoteKernelId", "schema"].map((k) => `${JSON.stringify(k)}:${JSON.stringify(challenge[k])}`).join(",");
  const bigChallenge = `{${strings},"timestamp":18446744073709551615}`;
  const bigSignature = Buffer.from(ed25519.sign(new TextEncoder().encode(bigChallenge), seed)).toString("hex");
  const bigTimestamp = `{"challenge":${bigChallenge},"declaredPublicKey":"${declaredPublicKey}","signature":"${bigSignature}"}`;
  const fits: (Uint8Array | string)[] = [envelope, bigTimestamp, forged, "{", new TextEncoder().encode(envelope)];
  const padded = envelope.padEnd(60_000, " "); // within the default maxBytes (64 KiB): whitespace after the object
  const options = { maxBytes: 65536, zip215: false, rejectWeakKeys: true, escapeDelAndC1: false };
  const task = (envelopes: (Uint8Array | string)[]) => ({ kind: TASK_ENVELOPES, buffer: packEnvelopeChunk(envelopes, 0, envelopes.length), envelope: options, crash: CRASH_NONE }) as const;
  try {
    const room = leaveRoom(8192); // as in the test above: no room for the batch's scratch area, room for a small single call
    assert.ok(room < 40_000, `room ${room}`);
    const singles = fits.map((e) => verifyEnvelopeBytes(e, options));
    assert.equal(singles.map((v) => v.ok), [true, true, false, false, true]);
    assert.is((singles[1] as { envelope: { challenge: { timestamp: unknown } } }).envelope.challenge.timestamp, 18446744073709551615n);
    assert.is(verifyEnvelopeBatchPacked(fits, options), undefined, "no wasm call wrote packable verdicts");
    // The worker's task function, in this thread on the memory-capped core (before this fallback it
    // failed the task where verifyEnvelopeBatch gives verdicts); then postMessage's structured clone
    // and the calling thread's reading of the answer.
    const answer = runPoolTask(task(fits));
    assert.ok(Array.isArray(answer), "verdict objects, not a failure");
    assert.equal(readEnvelopeAnswer(structuredClone(answer), options, fits.length), singles);
    // The padded envelope does not fit even alone: its verdict here (OUT_OF_MEMORY) is this
    // memory's, not the envelope's, so the worker fails the task instead of sending it.
    // (It used to read TOO_LARGE, "envelope is larger than maxBytes", for this 60,000-byte envelope.)
    const outOfMemory = verifyEnvelopeBytes(padded, options) as { problem?: string; message: string };
    assert.is(outOfMemory.problem, "OUT_OF_MEMORY");
    assert.match(outOfMemory.message, /^envelope does not fit in WebAssembly memory \(cannot reserve \d+ bytes for the input\)$/);
    const failure = runPoolTask(task([envelope, padded])) as { failed?: boolean; code?: string };
    assert.equal([failure.failed, failure.code], [true, "WASM_OUT_OF_MEMORY"]);
  } finally {
    ed25519.configurePreparedKeys({ maxBytes: DEFAULT_SLAB_BYTES });
  }
  // With memory back: packed verdicts (piscina's move() wraps them, under this registered
  // symbol), and the padded envelope verifies.
  const packed = (runPoolTask(task([...fits, padded])) as unknown as Record<symbol, unknown>)[Symbol.for("Piscina.valueOf")];
  assert.instance(packed, Uint8Array);
  assert.equal(readEnvelopeAnswer(packed, options, fits.length + 1), [...fits, padded].map((e) => verifyEnvelopeBytes(e, options)));
  assert.is(verifyEnvelopeBytes(padded, options).ok, true);
});

test("configurePreparedKeys beyond what memory can grow to: WASM_OUT_OF_MEMORY, and the previous layout and its keys stay (review-33 D2)", () => {
  resetInstance();
  initSync(testModule());
  const before = ed25519.configurePreparedKeys({ maxBytes: DEFAULT_SLAB_BYTES });
  assert.ok(before.slots > 0);
  const seed = seedOf("batch-memory configure");
  const message = new TextEncoder().encode("kept through a refused configure");
  const signature = ed25519.sign(message, seed);
  const prepared = ed25519.preparePublicKey(ed25519.getPublicKey(seed));
  assert.ok(ed25519.verify(signature, message, prepared));
  throwsOutOfMemory(() => ed25519.configurePreparedKeys({ maxBytes: 64 * 1024 * 1024 })); // the test core stops at 32 MiB
  assert.equal(ed25519.preparedKeysLayout(), before, "the previous layout, not prepared keys turned off");
  assert.ok(ed25519.verify(signature, message, prepared));
  assert.not.ok(ed25519.verify(signature, message.subarray(1), prepared));
  assert.equal(ed25519.verifyBatch([{ signature, message, publicKey: prepared }]), [true]);
});

test.run();
