// verifyEnvelopeBatch (src/handshake/verify-envelope.ts): one verdict per envelope, deep-equal to
// verifyEnvelopeBytes on each, for mixes of valid envelopes (one signer and many), wrong
// signatures, torsion in R (invalid by default, valid under ZIP-215), the identity-key forgery
// (valid signature, WEAK_PUBLIC_KEY unless weak keys are allowed), malformed text, unsupported
// schemas, escapes and u64 timestamps, as strings and bytes, under every option combination.
// Signatures are made here with @noble/curves points and BigInt over challenge bytes built with
// JSON.stringify (RFC 8785's string form), never with the code under test.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { randomBytes } from "node:crypto";
import { ed25519 as noble } from "@noble/curves/ed25519.js";
import { sha512 } from "@noble/hashes/sha2.js";
import {
  readPackedEnvelopeVerdicts,
  singleCallVerdict,
  verifyEnvelopeBatch,
  verifyEnvelopeBatchPacked,
  verifyEnvelopeBytes,
  type VerifyEnvelopeOptions,
} from "../../src/handshake/verify-envelope.js";
import { ed25519 } from "../../src/ed25519.js";
import { WasmCoreError } from "../../src/errors.js";
import { concatBytes, readU32, writeU32 } from "../../src/bytes.js";
import { coreExports, heapU8, ioArenaBase, reserveIo } from "../../src/wasm/instance.js";
import * as abi from "../../src/wasm/abi.js";
import * as publicApi from "../../src/index.js";
import * as handshakeApi from "../../src/handshake/index.js";
import { L, concat, fromLE, torsionMultiple, torsionPoints, type NPoint, randomScalar } from "../helpers/ed25519-oracles.js";
import { scaled } from "../helpers/scale.js";
import { HANDSHAKE_SCHEMA, canonicalChallenge, envelopeText, signWithNonce, type ChallengeFields } from "../helpers/envelope-builders.js";

const Point = noble.Point;
const T = torsionPoints();
const utf8 = new TextEncoder();
const hex = (b: Uint8Array): string => Buffer.from(b).toString("hex");
const randomInt = (n: number): number => randomBytes(4).readUInt32LE(0) % n;
const pick = <V>(values: readonly V[]): V => values[randomInt(values.length)];

interface Key {
  a: bigint;
  pk: Uint8Array;
}
const newKey = (): Key => {
  const a = randomScalar();
  return { a, pk: Point.BASE.multiply(a).toBytes() };
};
const IDENTITY_KEY: Key = { a: 0n, pk: Point.ZERO.toBytes() };

/** S = r + k a (+ delta) over the canonical challenge, with R = [r]B + torsion and a fresh random r. */
const signOver = (key: Key, message: Uint8Array, torsion = Point.ZERO, delta = 0n): Uint8Array =>
  signWithNonce(key.a, key.pk, message, randomScalar(), torsion, delta);
const challenge = (): ChallengeFields => ({
  schema: HANDSHAKE_SCHEMA,
  localKernelId: pick(["kernel.a", "k\u00e9rnel-\u{1f600}", "tab\there", "del\u007fc1\u0085"]),
  remoteKernelId: `kernel.${randomInt(1000)}`,
  nonce: hex(randomBytes(8)),
  timestamp: pick([0n, 1700000000n, 2n ** 53n + 1n, 2n ** 64n - 1n]),
});

const KINDS: Record<string, (key: Key) => string> = {
  valid: (key) => {
    const c = challenge();
    return envelopeText(c, key.pk, signOver(key, canonicalChallenge(c)));
  },
  wrongSignature: (key) => {
    const c = challenge();
    return envelopeText(c, key.pk, signOver(key, canonicalChallenge(c), Point.ZERO, 1n));
  },
  torsionR: (key) => {
    const c = challenge();
    return envelopeText(c, key.pk, signOver(key, canonicalChallenge(c), pick(T.slice(1))));
  },
  identityKeyForgery: () => {
    const c = challenge();
    return envelopeText(c, IDENTITY_KEY.pk, signOver(IDENTITY_KEY, canonicalChallenge(c)));
  },
  otherSchema: (key) => {
    const c = { ...challenge(), schema: "chio.other.v9" };
    return envelopeText(c, key.pk, signOver(key, canonicalChallenge(c)));
  },
  // A key with a torsion component signed honestly: invalid by default (unless [k]T = O), valid under ZIP-215.
  mixedOrderKey: () => {
    const key = mixedOrderKey();
    const c = challenge();
    return envelopeText(c, key.pk, signOver(key, canonicalChallenge(c)));
  },
  malformed: (key) => KINDS.valid(key).slice(0, -1 - randomInt(20)),
  unknownField: (key) => KINDS.valid(key).replace('"nonce"', '"nonce2":"x","nonce"'),
};
const KIND_NAMES = Object.keys(KINDS);
/** A = [a]B + T for a torsion point T != O (the secret a still signs: S = r + k a). */
function mixedOrderKey(): Key {
  const a = randomScalar();
  return { a, pk: Point.BASE.multiply(a).add(pick(T.slice(1))).toBytes() };
}
/** A string input with a lone surrogate (refused before parsing, like verifyEnvelopeBytes does). */
const loneSurrogate = (key: Key): string => KINDS.valid(key).replace('"nonce":"', `"nonce":"${String.fromCharCode(0xd800)}`);

const OPTION_SETS: (VerifyEnvelopeOptions | undefined)[] = [
  undefined,
  { zip215: true },
  { rejectWeakKeys: false },
  { zip215: true, rejectWeakKeys: false, escapeDelAndC1: true },
  { maxBytes: 300 },
];

test("mixes of every kind, strings and bytes, every option set: deep-equal to verifyEnvelopeBytes", () => {
  const seen = new Set<string>();
  for (let round = 0; round < scaled(6); round++) {
    const keys = Array.from({ length: pick([1, 3, 40]) }, newKey);
    // The first round has one envelope of every kind; then random mixes, mostly valid.
    const kinds = round === 0 ? KIND_NAMES : Array.from({ length: pick([1, 5, 40]) }, () => (randomInt(3) === 0 ? pick(KIND_NAMES) : "valid"));
    const envelopes = kinds.map((kind) => {
      const text = KINDS[kind](pick(keys));
      return randomInt(2) === 0 ? text : utf8.encode(text);
    });
    for (const options of OPTION_SETS) {
      const batch = verifyEnvelopeBatch(envelopes, options);
      assert.is(batch.length, envelopes.length);
      envelopes.forEach((e, i) => {
        const single = verifyEnvelopeBytes(e, options);
        assert.equal(batch[i], single, `envelope ${i} with ${JSON.stringify(options)}`);
        seen.add(single.ok ? "ok" : single.code);
      });
    }
  }
  for (const code of ["ok", "INVALID_SIGNATURE", "MALFORMED_ENVELOPE", "UNSUPPORTED_SCHEMA", "WEAK_PUBLIC_KEY"]) assert.ok(seen.has(code), code);
});

test("mixes of every kind under a new key per envelope, weighty enough for Pippenger's method: deep-equal to verifyEnvelopeBytes", () => {
  // The rounds above stay under Straus's limit (R terms + 2 x key terms <= 300, batch.ts); 160
  // envelopes each signed by a key of its own, about 85% of them valid, weigh over 400 in their
  // valid envelopes alone, so the combined check takes Pippenger's method over the envelope
  // batch's own scratch layout (assembly/handshake/envelope-batch.ts), the crafted kinds beside it.
  for (let round = 0; round < scaled(2); round++) {
    const kinds = [...KIND_NAMES, ...Array.from({ length: 160 - KIND_NAMES.length }, () => (randomInt(8) === 0 ? pick(KIND_NAMES) : "valid"))];
    const envelopes = kinds.map((kind) => {
      const text = KINDS[kind](newKey());
      return randomInt(2) === 0 ? text : utf8.encode(text);
    });
    const validCount = kinds.filter((kind) => kind === "valid").length;
    assert.ok(validCount * 3 > 300, `${validCount} valid envelopes under their own keys weigh ${validCount * 3}`);
    for (const options of OPTION_SETS) {
      const batch = verifyEnvelopeBatch(envelopes, options);
      assert.is(batch.length, envelopes.length);
      envelopes.forEach((e, i) => assert.equal(batch[i], verifyEnvelopeBytes(e, options), `envelope ${i} (${kinds[i]}) with ${JSON.stringify(options)}`));
    }
    assert.ok(verifyEnvelopeBatch(envelopes).some((v) => v.ok) && verifyEnvelopeBatch(envelopes).some((v) => !v.ok));
  }
});

test("torsion in R: invalid by default, valid under ZIP-215; identity-key forgery: valid signature, weak key unless allowed", () => {
  const key = newKey();
  const envelopes = [KINDS.torsionR(key), KINDS.valid(key), KINDS.identityKeyForgery(key), KINDS.torsionR(key)];
  const codes = (options?: VerifyEnvelopeOptions) => verifyEnvelopeBatch(envelopes, options).map((v) => (v.ok ? "ok" : v.code));
  assert.equal(codes(), ["INVALID_SIGNATURE", "ok", "WEAK_PUBLIC_KEY", "INVALID_SIGNATURE"]);
  assert.equal(codes({ zip215: true }), ["ok", "ok", "WEAK_PUBLIC_KEY", "ok"]);
  assert.equal(codes({ rejectWeakKeys: false }), ["INVALID_SIGNATURE", "ok", "ok", "INVALID_SIGNATURE"]);
});

test("more envelopes than one chunk, one signer; [] for none; typed errors name the index; exported", () => {
  const key = newKey();
  const envelopes = Array.from({ length: 300 }, (_, i) => (i % 97 === 5 ? KINDS.wrongSignature(key) : KINDS.valid(key)));
  const batch = verifyEnvelopeBatch(envelopes);
  envelopes.forEach((e, i) => assert.equal(batch[i], verifyEnvelopeBytes(e), `envelope ${i}`));
  assert.equal(batch.map((v) => v.ok), envelopes.map((_, i) => i % 97 !== 5));
  assert.equal(verifyEnvelopeBatch([]), []);
  assert.throws(() => verifyEnvelopeBatch("x" as never), /envelopes must be an array/);
  assert.throws(() => verifyEnvelopeBatch([envelopes[0], 5 as never]), (e: Error & { code?: string }) => e.code === "INVALID_TYPE" && /envelopes\[1\]/.test(e.message));
  assert.throws(() => verifyEnvelopeBatch([envelopes[0]], { zip215: "yes" as never }), /zip215/);
  assert.is(publicApi.verifyEnvelopeBatch, verifyEnvelopeBatch);
  assert.is(handshakeApi.verifyEnvelopeBatch, verifyEnvelopeBatch);
});

test("an input detached by getRandomValues (caller code) after the inputs' checks: InvalidTypeError naming its index, as verifyBatch names its item", () => {
  const key = newKey();
  const envelopes = Array.from({ length: 300 }, () => utf8.encode(KINDS.valid(key)));
  const original = globalThis.crypto.getRandomValues;
  let calls = 0;
  globalThis.crypto.getRandomValues = function <T extends ArrayBufferView | null>(this: Crypto, array: T): T {
    original.call(globalThis.crypto, array);
    // The second draw is the second segment's (envelopes 256 on): detach one of its inputs.
    if (++calls === 2) structuredClone(envelopes[280].buffer, { transfer: [envelopes[280].buffer] });
    return array;
  };
  try {
    assert.throws(
      () => verifyEnvelopeBatch(envelopes),
      (e: Error & { code?: string }) => e.code === "INVALID_TYPE" && /envelopes\[280\]/.test(e.message),
    );
  } finally {
    globalThis.crypto.getRandomValues = original;
  }
  assert.is(calls, 2);
});

test("inputs refused before a wasm call (longer than maxBytes, a lone surrogate), in later wasm calls too: each verdict at its own envelope", () => {
  // The copy into wasm memory refuses these inputs, and their verdicts are written after each wasm
  // call, at the input's index within that call (tryEnvelopeSegment). They stand here at the first
  // and last places of later calls (BATCH_MAX_ITEMS envelopes each) as well as in the first, so
  // an index counted from the whole batch or shifted by the call's start would put a refused
  // verdict on another envelope and leave its own envelope with the verdict of an empty input.
  const key = newKey();
  const perCall = abi.BATCH_MAX_ITEMS;
  // Valid but for their length: 70,000 spaces of padding outweigh the default 64 KiB.
  const oversized = (i: number): string | Uint8Array => {
    const text = KINDS.valid(key).replace('{"challenge"', `{${" ".repeat(70_000)}"challenge"`);
    return i % 2 === 0 ? text : utf8.encode(text);
  };
  const refusedAt = new Map<number, (i: number) => string | Uint8Array>([
    [0, oversized],
    [5, () => loneSurrogate(key)],
    [perCall - 1, oversized],
    [perCall, () => loneSurrogate(key)],
    [perCall + 1, oversized],
    [perCall + 77, oversized],
    [2 * perCall - 1, () => loneSurrogate(key)],
    [2 * perCall, oversized],
    [2 * perCall + 30, () => loneSurrogate(key)],
  ]);
  const envelopes = Array.from({ length: 2 * perCall + 31 }, (_, i) => refusedAt.get(i)?.(i) ?? (i % 13 === 4 ? KINDS.wrongSignature(key) : KINDS.valid(key)));
  const singles = envelopes.map((e) => verifyEnvelopeBytes(e));
  const problems = singles.map((v) => (v.ok ? "ok" : v.problem));
  assert.equal([...refusedAt.keys()].map((i) => problems[i]), [...refusedAt.keys()].map((i) => (typeof envelopes[i] === "string" && (envelopes[i] as string).includes("\ud800") ? "LONE_SURROGATE" : "TOO_LARGE")), "premise: refused inputs");
  assert.ok(problems.filter((p) => p === "ok").length > 2 * perCall - 30, "premise: the rest mostly valid");
  assert.equal(verifyEnvelopeBatch(envelopes), singles, "verifyEnvelopeBatch");
  assert.equal(readPackedEnvelopeVerdicts(verifyEnvelopeBatchPacked(envelopes)), singles, "the pool's packed verdicts");
  assert.equal(verifyEnvelopeBatch(envelopes, { maxBytes: 80_000 }), envelopes.map((e) => verifyEnvelopeBytes(e, { maxBytes: 80_000 })), "with room for the padded ones");
});

test("the worker pool's packed verdicts read back deep-equal to verifyEnvelopeBytes, lone surrogates and oversized inputs included", () => {
  for (let round = 0; round < scaled(3); round++) {
    const keys = Array.from({ length: pick([1, 7]) }, newKey);
    const envelopes: (string | Uint8Array)[] = Array.from({ length: pick([3, 40, 70]) }, () => {
      const kind = randomInt(3) === 0 ? pick(KIND_NAMES) : "valid";
      const text = KINDS[kind](pick(keys));
      return randomInt(2) === 0 ? text : utf8.encode(text);
    });
    envelopes.splice(randomInt(envelopes.length), 0, loneSurrogate(pick(keys)));
    for (const options of OPTION_SETS) {
      const packed = verifyEnvelopeBatchPacked(envelopes, options);
      const verdicts = readPackedEnvelopeVerdicts(packed.slice(), options); // a copy, as a transfer gives the other thread
      assert.is(verdicts.length, envelopes.length);
      envelopes.forEach((e, i) => assert.equal(verdicts[i], verifyEnvelopeBytes(e, options), `envelope ${i} with ${JSON.stringify(options)}`));
      // (Under maxBytes 300 the length check comes first: TOO_LARGE.)
      if (options?.maxBytes === undefined) assert.ok(verdicts.some((v) => !v.ok && v.problem === "LONE_SURROGATE"));
    }
  }
  // Bytes it did not write: a typed error, never a wrong verdict.
  const packed = verifyEnvelopeBatchPacked([KINDS.valid(newKey())]);
  // Header (16 bytes), then the bytes from the first result block on: address a is at 16 + a - results.
  const index = (address: number): number => 16 + address - readU32(packed, 4);
  const verdictAt = index(readU32(packed, 8));
  const schemaAt = index(readU32(packed, 16 + abi.ENVELOPE_RESULT_STRINGS));
  const timestampAt = index(readU32(packed, 16 + abi.ENVELOPE_RESULT_TIMESTAMP));
  const nonceSpanAt = 16 + abi.ENVELOPE_RESULT_STRINGS + 8 * 3;
  const intoEarlierSegment = (): Uint8Array => {
    const two = concatBytes([packed, packed]); // each segment is 4-byte aligned, so this is two segments
    assert.is(readPackedEnvelopeVerdicts(two).length, 2);
    const second = packed.length; // where the second segment starts
    const shift = readU32(packed, 4) - (second + 16); // the second segment's address a is two[a - shift]...
    const firstNonce = readU32(packed, nonceSpanAt) - readU32(packed, 4) + 16; // ...and the first's nonce is at this index
    writeU32(two, second + nonceSpanAt, firstNonce + shift);
    return two;
  };
  const corrupt = (edit: (b: Uint8Array) => void): Uint8Array => {
    const b = packed.slice();
    edit(b);
    return b;
  };
  const bad = [
    packed.subarray(0, 10), //                                                            cut in the header
    packed.subarray(0, packed.length - 8), //                                             cut in the body
    Uint8Array.of(...packed.subarray(0, 4), 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0, 0, 0, 0, 1), // lengths that do not fit
    corrupt((b) => (b[7] ^= 0x10)), //                                                    spans 2^28 outside the segment
    corrupt((b) => (b[verdictAt] = 42)), //                                               a verdict word no one writes
    corrupt((b) => (b[verdictAt] = abi.ENVELOPE_SIGNATURE_DEFERRED)), //                  one only the wasm sees
    corrupt((b) => (b[schemaAt] = 0xff)), //                                              invalid UTF-8 in a string
    corrupt((b) => (b[timestampAt] = 0x41)), //                                          a timestamp that is not digits
    // A span whose bytes would read as valid UTF-8 but lie outside the segment's own bytes
    // (review-31 B3): into its header (4 bytes: count 1, "\x01\0\0\0"), and, after another
    // segment, into that earlier segment's nonce.
    corrupt((b) => (writeU32(b, nonceSpanAt, readU32(packed, 4) - 16), writeU32(b, nonceSpanAt + 4, 4))),
    intoEarlierSegment(),
  ];
  for (const [i, b] of bad.entries()) {
    assert.throws(() => readPackedEnvelopeVerdicts(b), (e: Error & { code?: string }) => e.code === "WASM_TRAP", `corruption ${i}`);
  }
  // The single call likewise takes only the words envelope_verify returns (review-31 B4).
  for (const word of [abi.ENVELOPE_OK, abi.ENVELOPE_MALFORMED, abi.ENVELOPE_UNSUPPORTED_SCHEMA, abi.ENVELOPE_WEAK_PUBLIC_KEY, abi.ENVELOPE_INVALID_SIGNATURE]) {
    assert.is(singleCallVerdict(word), word);
  }
  for (const word of [42, -1, abi.ENVELOPE_SIGNATURE_DEFERRED, abi.ENVELOPE_REFUSED_TOO_LARGE, abi.ENVELOPE_REFUSED_LONE_SURROGATE]) {
    assert.throws(() => singleCallVerdict(word), (e: Error & { code?: string }) => e instanceof WasmCoreError && e.code === "WASM_TRAP", `word ${word}`);
  }
});

test("batch verdicts own their bytes: each byte value its own ArrayBuffer, none a view of wasm memory or of the packed verdicts", () => {
  const keys = Array.from({ length: 3 }, newKey);
  // Envelopes of one peer in a row and of others between them.
  const envelopes = Array.from({ length: 300 }, (_, i) => KINDS.valid(keys[(i >> 2) % 3]));
  const long = { ...challenge(), nonce: "n".repeat(5000) };
  envelopes.push(envelopeText(long, keys[0].pk, signOver(keys[0], canonicalChallenge(long))));
  const singles = envelopes.map((e) => verifyEnvelopeBytes(e));
  const batch = verifyEnvelopeBatch(envelopes);
  const packed = verifyEnvelopeBatchPacked(envelopes);
  const pooled = readPackedEnvelopeVerdicts(packed);
  for (const verdicts of [batch, pooled]) {
    assert.equal(verdicts, singles);
    for (const v of verdicts) {
      if (!v.ok) assert.unreachable("valid");
      else for (const own of [v.envelope.declaredPublicKey, v.envelope.signature, v.envelope.canonicalChallenge]) assert.ok(own.byteOffset === 0 && own.buffer.byteLength === own.length, "owns its buffer");
    }
  }
  // Copies, not views: later calls overwrite the wasm memory, and the packed bytes are scribbled.
  verifyEnvelopeBatch(envelopes.slice().reverse());
  packed.fill(0x20);
  assert.equal(batch, singles);
  assert.equal(pooled, singles);
  // Strings of the same length and other bytes, in runs, in one wasm call.
  const [a, b] = [{ ...challenge(), localKernelId: "kernel.a" }, { ...challenge(), localKernelId: "tab\there" }];
  const texts = [a, a, b, b, a].map((c) => envelopeText(c, keys[1].pk, signOver(keys[1], canonicalChallenge(c))));
  assert.equal(
    verifyEnvelopeBatch(texts).map((v) => (v.ok ? v.envelope.challenge.localKernelId : v.code)),
    ["kernel.a", "kernel.a", "tab\there", "tab\there", "kernel.a"],
  );
});

test("two wasm calls laid out alike, other kernel ids at the same addresses: each verdict reads its own call's text", () => {
  // Every envelope the same length, so the second wasm call (envelopes BATCH_MAX_ITEMS on) writes
  // its strings where the first wrote its own: anything that remembered text across calls by
  // address (a cache of decoded strings, say) would hand back the first call's text.
  const key = newKey();
  const text = (localKernelId: string, i: number): string => {
    const c = { schema: HANDSHAKE_SCHEMA, localKernelId, remoteKernelId: "kernel.remote", nonce: i.toString(16).padStart(8, "0"), timestamp: 1700000000n };
    return envelopeText(c, key.pk, signOver(key, canonicalChallenge(c)));
  };
  const perCall = abi.BATCH_MAX_ITEMS;
  const envelopes = Array.from({ length: 2 * perCall }, (_, i) => text(i < perCall ? "kernel.a" : "kernel.b", i));
  verifyEnvelopeBatch(envelopes); // memory grown for this size, so the timed call below keeps one heap view
  const heapBefore = heapU8();
  const ids = verifyEnvelopeBatch(envelopes).map((v) => (v.ok ? v.envelope.challenge.localKernelId : v.code));
  assert.is(heapU8(), heapBefore, "premise: both wasm calls wrote through the same heap view");
  assert.equal(ids, envelopes.map((_, i) => (i < perCall ? "kernel.a" : "kernel.b")));
});

test("more envelope bytes than one wasm call takes (1 MiB): several calls, the same verdicts", () => {
  const key = newKey();
  const pad = (text: string, spaces: number): string => text.replace('{"challenge"', `{${" ".repeat(spaces)}"challenge"`);
  // Six envelopes of ~300 KB, one of 1.5 MiB (alone in its call), small ones between them.
  const envelopes: (string | Uint8Array)[] = [];
  for (let i = 0; i < 6; i++) {
    envelopes.push(pad(KINDS.valid(key), 300_000));
    envelopes.push(utf8.encode(i === 3 ? pad(KINDS.wrongSignature(key), 1_500_000) : KINDS.valid(key)));
  }
  const options = { maxBytes: 2 * 1024 * 1024 };
  const batch = verifyEnvelopeBatch(envelopes, options);
  const packed = readPackedEnvelopeVerdicts(verifyEnvelopeBatchPacked(envelopes, options), options);
  envelopes.forEach((e, i) => {
    const single = verifyEnvelopeBytes(e, options);
    assert.equal(batch[i], single, `envelope ${i}`);
    assert.equal(packed[i], single, `packed envelope ${i}`);
  });
  assert.equal(batch.map((v) => v.ok), envelopes.map((_, i) => i !== 7));
});

test("prepared keys in the batch (slab path), mixed-order ones included: the single verdicts, in both modes", () => {
  const plain = Array.from({ length: 3 }, newKey);
  const mixed = Array.from({ length: 3 }, mixedOrderKey);
  const prepared = [...plain, ...mixed].map((k) => ed25519.preparePublicKey(k.pk));
  try {
    const envelopes: string[] = [];
    for (let i = 0; i < 60; i++) {
      const key = pick([...plain, ...mixed]);
      const kind = pick(["valid", "valid", "wrongSignature", "torsionR"]);
      envelopes.push(KINDS[kind](key));
    }
    for (const options of [undefined, { zip215: true }]) {
      const batch = verifyEnvelopeBatch(envelopes, options);
      envelopes.forEach((e, i) => assert.equal(batch[i], verifyEnvelopeBytes(e, options), `envelope ${i} with ${JSON.stringify(options)}`));
    }
  } finally {
    for (const p of prepared) p.free();
  }
});

/**
 * An envelope by `key` = [a]B + T_A whose R = [r]B + T_R carries the torsion point that cancels
 * [k]T_A (k depends on R's bytes, so each T_R is tried until one does): D = O, valid in both modes
 * although R has torsion (the challenge redrawn when none cancels).
 */
function cancellingEnvelope(key: Key, tA: NPoint): string {
  for (;;) {
    const c = challenge();
    const message = canonicalChallenge(c);
    const r = randomScalar();
    for (const tR of T.slice(1)) {
      const signature = signWithNonce(key.a, key.pk, message, r, tR);
      if (tR.add(torsionMultiple(tA, challengeScalar(signature, key.pk, message))).equals(Point.ZERO)) return envelopeText(c, key.pk, signature);
    }
  }
}

/** k = SHA-512(R ‖ A ‖ M) mod L of a signature (RFC 8032 §5.1.7). */
const challengeScalar = (signature: Uint8Array, publicKey: Uint8Array, message: Uint8Array): bigint =>
  fromLE(sha512(concat(signature.subarray(0, 32), publicKey, message))) % L;

/**
 * An honest envelope by `key` = [a]B + T_A (R = [r]B, S = r + k·a) whose D = −[k]T_A is not O:
 * refused by default, valid under ZIP-215 (the challenge redrawn until [k]T_A ≠ O).
 */
function refusedByDefaultEnvelope(key: Key, tA: NPoint): string {
  for (;;) {
    const c = challenge();
    const message = canonicalChallenge(c);
    const signature = signWithNonce(key.a, key.pk, message, randomScalar());
    if (!torsionMultiple(tA, challengeScalar(signature, key.pk, message)).equals(Point.ZERO)) return envelopeText(c, key.pk, signature);
  }
}

test("a sender whose key has torsion, under several envelopes, beside senders of one envelope each: verifyEnvelopeBytes's verdicts, its key prepared or not", () => {
  // The envelope parse hands the batch each sender's decoded key, so the batch must still learn a
  // repeated sender's torsion (by its test, or from the prepared slab) and send its envelopes to
  // the single verifier; the one-envelope senders make the combined check cofactored (their keys
  // deferred: batch.ts), where a key with torsion taken as torsion-free would pass every one of
  // its envelopes, so such a mistake shows in the verdicts on every run, not by chance.
  for (let round = 0; round < scaled(2); round++) {
    const tA = pick(T.slice(1));
    const a = randomScalar();
    const torsionKey: Key = { a, pk: Point.BASE.multiply(a).add(tA).toBytes() };
    const plain = newKey();
    const envelopes = [
      // Honest: D = -[k]T_A, valid by default only where [k]T_A = O. One is built with
      // [k]T_A ≠ O, so that the key's envelopes always get both verdicts by default: with six
      // drawn at random, all six had [k]T_A = O in about 1 round of 430 (T_A of order 2 in 1 of 7
      // rounds, then 2^-6), which failed the check below in a slow-tier run (20 rounds).
      ...Array.from({ length: 5 }, () => KINDS.valid(torsionKey)),
      refusedByDefaultEnvelope(torsionKey, tA),
      ...Array.from({ length: 3 }, () => cancellingEnvelope(torsionKey, tA)),
      ...Array.from({ length: 3 }, () => KINDS.valid(newKey())),
      ...Array.from({ length: 4 }, () => KINDS.valid(plain)),
    ];
    for (let i = envelopes.length - 1; i > 0; i--) {
      const j = randomInt(i + 1);
      [envelopes[i], envelopes[j]] = [envelopes[j], envelopes[i]];
    }
    const torsionKeyHex = hex(torsionKey.pk);
    const check = (label: string) => {
      for (const options of [undefined, { zip215: true }, { rejectWeakKeys: false }]) {
        // The batch first, so that its first call meets every key cold: the single calls that
        // follow verify the torsion key nine times, which makes it a hot key that verify prepares
        // in the slab (assembly/ed25519/verify.ts, PROMOTE_AFTER_HITS), and the later calls take
        // it from there as the prepared round does.
        const batch = verifyEnvelopeBatch(envelopes, options);
        const singles = envelopes.map((e) => verifyEnvelopeBytes(e, options));
        if (options === undefined) {
          const underTorsionKey = singles.filter((v, i) => envelopes[i].includes(torsionKeyHex));
          assert.ok(underTorsionKey.some((v) => v.ok) && underTorsionKey.some((v) => !v.ok), "the torsion key's envelopes get both verdicts by default");
        }
        envelopes.forEach((e, i) => assert.equal(batch[i], singles[i], `${label}: envelope ${i} with ${JSON.stringify(options)}`));
      }
    };
    check("key not prepared");
    const prepared = ed25519.preparePublicKey(torsionKey.pk);
    try {
      check("key prepared");
    } finally {
      prepared.free();
    }
  }
});

test("an envelope signed by another key than it declares is refused next to valid ones by that key, with either key prepared or not", () => {
  // S = r + k·a1 with k hashed over A2: valid under A1's point, invalid under the declared A2. A
  // batch that took a wrong key point for it (a stale decoded key, a wrong slab slot) would accept it.
  const [k1, k2] = [newKey(), newKey()];
  const forged = (): string => {
    const c = challenge();
    return envelopeText(c, k2.pk, signWithNonce(k1.a, k2.pk, canonicalChallenge(c), randomScalar()));
  };
  for (const prepare of [[], [k1], [k2], [k1, k2]]) {
    const prepared = prepare.map((k) => ed25519.preparePublicKey(k.pk));
    try {
      const envelopes = [KINDS.valid(k1), forged(), KINDS.valid(k1), forged(), KINDS.valid(k2), KINDS.valid(k1), forged()];
      for (const options of [undefined, { zip215: true }]) {
        const batch = verifyEnvelopeBatch(envelopes, options);
        const packed = readPackedEnvelopeVerdicts(verifyEnvelopeBatchPacked(envelopes, options), options);
        envelopes.forEach((e, i) => {
          const single = verifyEnvelopeBytes(e, options);
          assert.equal(batch[i], single, `envelope ${i}, ${prepare.length} prepared, ${JSON.stringify(options)}`);
          assert.equal(packed[i], single);
        });
        assert.equal(batch.map((v) => (v.ok ? "ok" : v.code)), ["ok", "INVALID_SIGNATURE", "ok", "INVALID_SIGNATURE", "ok", "ok", "INVALID_SIGNATURE"]);
      }
    } finally {
      for (const p of prepared) p.free();
    }
  }
});

test("the wasm export refuses layouts outside its input or memory (never wraps around)", () => {
  const core = coreExports() as unknown as {
    envelope_verify_batch(count: number, inputBytes: number, flags: number): number;
    ed25519_verify_batch(count: number, inputBytes: number, mode: number): number;
  };
  const text = utf8.encode(KINDS.valid(newKey()));
  const entry = abi.ENVELOPE_BATCH_ENTRY_BYTES;
  const layout = (offset: number, length: number): number => {
    reserveIo(entry + text.length);
    const heap = heapU8();
    const base = ioArenaBase();
    heap.fill(0, base, base + entry);
    heap.set(text, base + entry);
    new DataView(heap.buffer).setUint32(base + abi.ENVELOPE_BATCH_ENTRY_OFFSET, offset, true);
    new DataView(heap.buffer).setUint32(base + abi.ENVELOPE_BATCH_ENTRY_LENGTH, length, true);
    return entry + text.length;
  };
  const slabEnd = heapU8().slice(ioArenaBase() - 64, ioArenaBase());
  const bytes = layout(entry, text.length);
  assert.is(core.envelope_verify_batch(1, bytes, 0), abi.BATCH_DONE);
  assert.is(core.envelope_verify_batch(0, 0, 0), abi.BATCH_DONE);
  for (const [count, inputBytes, offset, length] of [
    [1, 0xfffffff0, entry, text.length], //      an input longer than memory (would wrap around)
    [1, bytes, entry, text.length + 1], //       an envelope past the input
    [1, bytes, 0, text.length], //               an envelope over the entries
    [1, bytes, 0xffffffff, 2], //                offset + length past 2^32
    [abi.BATCH_MAX_ITEMS + 1, bytes, entry, 1], // too many
    [2, entry, entry, 0], //                     entries past the input
  ]) {
    layout(offset, length);
    assert.is(core.envelope_verify_batch(count, inputBytes, 0), abi.BATCH_BAD_LAYOUT, `envelope batch ${count} ${inputBytes} ${offset} ${length}`);
  }
  for (const inputBytes of [0xfffffff0, 0x7fffffff]) assert.is(core.ed25519_verify_batch(1, inputBytes, 0), abi.BATCH_BAD_LAYOUT);
  assert.equal(heapU8().slice(ioArenaBase() - 64, ioArenaBase()), slabEnd, "nothing written below the I/O arena");
});

test.run();
