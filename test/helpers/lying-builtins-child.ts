// Run by test/node/lying-builtins.test.ts in a child process of its own. After chio-trust has
// loaded, it replaces built-ins with versions that answer wrongly (a JSON.stringify that quotes
// every string as "lie", a Map.prototype.get that finds nothing, a WeakMap.prototype.get that
// finds a verdict for everything, ...) and record that they ran. With them in place it makes
// canonical JSON, signs a handshake challenge, verifies a forged envelope, and asks the in-memory
// replay cache and peer store what they hold, and has an exchange accept an envelope, then refuse
// its replay, a flipped signature bit and a stranger's key (whose messages carry peer text through
// displayPeerText). Everything expected is computed before the replacements, by independent
// oracles where there is one (the npm `canonicalize` package, node:crypto). It prints one JSON
// line: which replacements ran, and which results differed. LYING_TRACE=1 also prints, on stderr,
// where each replacement first ran.
import canonicalizeNpm from "canonicalize";
import { createPublicKey, verify as nodeVerify } from "node:crypto";
import { createLies } from "./lies.js";
import {
  canonicalBytes, canonicalize, FederationPeer, HandshakeChallenge, InMemoryPeerStore, KernelTrustExchange, Keypair, PeerHandshakeEnvelope, ReplayCache,
} from "../../src/index.js";

// This script's own tools, taken before anything is replaced.
const apply = Reflect.apply;
const defineProperty = Object.defineProperty;
const stringify = JSON.stringify;
const OriginalUint8Array = Uint8Array;
const TYPED_ARRAY_PROTOTYPE = Object.getPrototypeOf(Uint8Array.prototype) as object;

/** Names of the replacements that ran while watching, as own keys of an object with no prototype (no Set: it is replaced). */
const ran: Record<string, true> = Object.create(null) as Record<string, true>;
const lies = createLies((name) => {
  if (process.env.LYING_TRACE && !ran[name]) {
    lies.watching = false;
    console.error(name, new Error().stack!.split("\n").slice(3, 8).join("\n"));
    lies.watching = true;
  }
  ran[name] = true;
});
const replace = lies.replace;

/** A constructor global replaced by a subclass that records its construction. */
function replaceConstructor(name: "Map" | "Set" | "Uint8Array" | "BigInt" | "String" | "Number"): void {
  const global = globalThis as unknown as Record<string, unknown>;
  lies.remember(globalThis, name);
  const original = global[name] as (...args: unknown[]) => unknown;
  global[name] = new Proxy(original, {
    construct(target, args, newTarget) {
      if (lies.watching) ran[`new ${name}`] = true;
      return Reflect.construct(target as unknown as new (...a: unknown[]) => object, args, newTarget);
    },
    apply(target, self, args) {
      if (!lies.watching) return apply(target, self, args);
      ran[name] = true;
      return name === "BigInt" ? 0n : name === "String" ? "lie" : name === "Number" ? 7 : apply(target, self, args);
    },
  });
}

/**
 * An accessor on Object.prototype named `key` whose getter answers `answer` and whose setter
 * swallows what is written (each recorded as it runs): an ordinary record filled by assignment
 * would lose the field and read the answer. The caller deletes it when done.
 */
function swallowingAccessor(key: string, answer: unknown): void {
  defineProperty(Object.prototype, key, {
    configurable: true,
    get() {
      ran[`Object.prototype.${key} getter`] = true;
      return answer;
    },
    set() {
      ran[`Object.prototype.${key} setter`] = true;
    },
  });
}


// ---- what is expected, computed before anything is replaced ----
const bigDocument = { text: "x".repeat(3000) + "é\u2028😀", list: Array.from({ length: 200 }, (_, i) => i * 1.5 - 7) };
const manyMembers: Record<string, number> = {};
for (let i = 0; i < 20; i++) manyMembers[`member-${(i * 7) % 20}`] = i;
const values: { name: string; value: unknown; options?: { escapeDelAndC1: boolean }; expected: string }[] = [
  { name: "the handshake challenge", value: { schema: "chio.federation-kernel-handshake.v1", localKernelId: "kernel-a", remoteKernelId: "kernel-b", nonce: "00112233445566778899aabbccddeeff", timestamp: 1_764_000_000 }, expected: "" },
  { name: "nested arrays and escapes", value: { z: [1, [2, [3, { b: "é\u2028\n\"\\\u0001" }]]], a: "😀", m: -0, e: 1e21, f: 5e-7 }, expected: "" },
  { name: "20 members (the sort's own path)", value: manyMembers, expected: "" },
  { name: "output past the first buffer", value: bigDocument, expected: "" },
];
for (const entry of values) entry.expected = canonicalizeNpm(entry.value)!;
// Cases the npm package does not cover (bigints, boxed primitives, the old chio escapes): written out.
values.push(
  { name: "bigints", value: { max: 18_446_744_073_709_551_615n, min: -9_223_372_036_854_775_808n }, expected: '{"max":18446744073709551615,"min":-9223372036854775808}' },
  { name: "boxed primitives", value: { n: Object(1.5), s: Object("x"), b: Object(false), g: Object(5n) }, expected: '{"b":false,"g":5,"n":1.5,"s":"x"}' },
  { name: "DEL and C1 escaped (escapeDelAndC1)", value: { s: "a\u007fb\u0085c" }, options: { escapeDelAndC1: true }, expected: '{"s":"a\\u007fb\\u0085c"}' },
);
const errorCases: { name: string; value: unknown; options?: { maxOutputBytes: number }; code: string }[] = [
  { name: "a cycle", value: (() => { const a: Record<string, unknown> = {}; a.self = { a }; return a; })(), code: "CYCLE" },
  { name: "a lone surrogate", value: { s: "ok\ud800" }, code: "LONE_SURROGATE" },
  { name: "past maxOutputBytes", value: { s: "x".repeat(100) }, options: { maxOutputBytes: 50 }, code: "TOO_LARGE" },
];
const encoder = new TextEncoder();
const expectedBytes = values.map((entry) => encoder.encode(entry.expected));

const signer = Keypair.fromSeed(new Uint8Array(32).fill(7));
const publicKeyHex = signer.publicKey.toHex();
const nodePublicKey = createPublicKey({ key: Buffer.concat([Buffer.from("302a300506032b6570032100", "hex"), Buffer.from(publicKeyHex, "hex")]), format: "der", type: "spki" });
const challengeFields = { schema: "chio.federation-kernel-handshake.v1", localKernelId: "kernel-b", remoteKernelId: "kernel-a", nonce: "0f1e2d3c4b5a69788796a5b4c3d2e1f0", timestamp: 1_764_000_123 };
const challengeBytes = encoder.encode(canonicalizeNpm(challengeFields)!);
const good = PeerHandshakeEnvelope.sign(challengeFields.localKernelId, challengeFields.remoteKernelId, challengeFields.nonce, challengeFields.timestamp, signer).toJSON();
// A plain object (the shape JSON.parse gives), parsed by fromJSON under the replacements below.
const forgedObject = { ...good, signature: (good.signature[0] === "0" ? "1" : "0") + good.signature.slice(1) };
const extraFieldObject = { ...good, extra: true };
const accessorObject = Object.defineProperty({ challenge: good.challenge, declaredPublicKey: good.declaredPublicKey }, "signature", {
  enumerable: true,
  get: () => good.signature,
});
// An exchange that trusts `signer` for kernel-b: its envelope is accepted once, then refused as a
// replay; the same envelope with a flipped signature bit, and one from another key, are refused.
const exchange = new KernelTrustExchange("kernel-a", Keypair.fromSeed(new Uint8Array(32).fill(8)), { trustedPeers: [["kernel-b", signer.publicKey]] });
const acceptAt = 1_764_000_500;
const envelopeText = stringify(PeerHandshakeEnvelope.sign("kernel-b", "kernel-a", "a0a1a2a3a4a5a6a7a8a9aaabacadaeaf", acceptAt, signer).toJSON());
const flippedText = envelopeText.replace(/"signature":"(.)/, (_, first: string) => `"signature":"${first === "0" ? "1" : "0"}`);
const strangerText = stringify(PeerHandshakeEnvelope.sign("kernel-b", "kernel-a", "b0b1b2b3b4b5b6b7b8b9babbbcbdbebf", acceptAt, Keypair.fromSeed(new Uint8Array(32).fill(9))).toJSON());
// A store that writes the first pin and then fails the call (a connection lost after the write):
// the outcome is unknown, so the exchange keeps the nonce, and the same envelope sent again is a
// replay (docs/protocol.md §5 step 10), not a second try.
class WriteThenFailStore extends InMemoryPeerStore {
  failNext = true;
  #fail(): void {
    if (!this.failNext) return;
    this.failNext = false;
    throw new Error("connection lost after the write");
  }
  override insert(peer: FederationPeer): void {
    super.insert(peer);
    this.#fail();
  }
  override compareAndSet(kernelId: string, expected: FederationPeer | undefined, next: FederationPeer): boolean {
    const wrote = super.compareAndSet(kernelId, expected, next);
    this.#fail();
    return wrote;
  }
}
const flakyExchange = new KernelTrustExchange("kernel-a", Keypair.fromSeed(new Uint8Array(32).fill(8)), {
  store: new WriteThenFailStore(),
  trustedPeers: [["kernel-b", signer.publicKey]],
});
// Time: an envelope 100,000 s older than the accept's `now` is past any skew, at a `now` passed in
// and at the default clock's (Date.now, read at each call on purpose, through Math.floor); a `now`
// that is not an integer is INVALID_TIME.
const strangerSigner = Keypair.fromSeed(new Uint8Array(32).fill(9));
const staleText = stringify(PeerHandshakeEnvelope.sign("kernel-b", "kernel-a", "c0c1c2c3c4c5c6c7c8c9cacbcccdcecf", acceptAt - 100_000, signer).toJSON());
const clockNow = Math.floor(Date.now() / 1000);
const staleByClock = clockNow - 100_000;
const staleByClockText = stringify(PeerHandshakeEnvelope.sign("kernel-b", "kernel-a", "d0d1d2d3d4d5d6d7d8d9dadbdcdddedf", staleByClock, signer).toJSON());
const clockExchange = new KernelTrustExchange("kernel-a", Keypair.fromSeed(new Uint8Array(32).fill(8)), { trustedPeers: [["kernel-b", signer.publicKey]] });
const fractionText = stringify(PeerHandshakeEnvelope.sign("kernel-b", "kernel-a", "e0e1e2e3e4e5e6e7e8e9eaebecedeeef", acceptAt, signer).toJSON());
// A pin as the Redis store keeps it (FederationPeer JSON text), and the stranger's pin a lie would
// answer with.
const pinText = stringify(new FederationPeer({ kernelId: "kernel-b", publicKey: signer.publicKey, establishedAt: 1_764_000_000, rotationDue: 1_764_086_400 }).toJSON());
const strangerPin = { kernelId: "kernel-b", publicKey: strangerSigner.publicKey.toHex(), establishedAt: 1_764_000_000, rotationDue: 1_764_086_400 };
// An exchange with no anchor, where kernel-b's pin alone decides which key it may use.
const pinnedStore = new InMemoryPeerStore();
pinnedStore.insert(new FederationPeer({ kernelId: "kernel-b", publicKey: signer.publicKey, establishedAt: acceptAt, rotationDue: acceptAt + 86_400 }));
const pinOnlyExchange = new KernelTrustExchange("kernel-a", Keypair.fromSeed(new Uint8Array(32).fill(8)), { store: pinnedStore });
const strangerPinned = new FederationPeer({ kernelId: "kernel-b", publicKey: strangerSigner.publicKey, establishedAt: acceptAt, rotationDue: acceptAt + 86_400 });
const replay = new ReplayCache();
replay.reserve("kernel-b", "nonce-1", 1_764_000_000, 1_764_000_000, 300);
replay.commit("kernel-b", "nonce-1");
const peers = new InMemoryPeerStore();
peers.insert(new FederationPeer({ kernelId: "kernel-b", publicKey: signer.publicKey, establishedAt: 1_764_000_000, rotationDue: 1_764_086_400 }));

// ---- the replacements ----
const lieTrue = { weakKeysRefused: true, legacyControlEscapes: false };
replace(JSON, "stringify", "JSON.stringify", () => () => '"lie"');
replace(Object, "keys", "Object.keys", () => () => []);
replace(Array, "isArray", "Array.isArray", () => () => false);
replace(Object, "getPrototypeOf", "Object.getPrototypeOf", () => () => Number.prototype);
replace(Number, "isInteger", "Number.isInteger", () => () => false);
replace(Math, "trunc", "Math.trunc", () => () => 3);
replace(Math, "min", "Math.min", () => () => 0);
replace(Math, "abs", "Math.abs", () => () => 0);
replace(Math, "floor", "Math.floor", () => () => staleByClock);
replace(Number, "isSafeInteger", "Number.isSafeInteger", () => () => true);
replace(JSON, "parse", "JSON.parse", () => () => ({ ...strangerPin }));
replace(Array.prototype, "sort", "Array.prototype.sort", (original) => function (this: unknown) { return apply(original, this, [(a: string, b: string) => (a < b ? 1 : -1)]); });
replace(Array.prototype, "push", "Array.prototype.push", () => () => 0);
replace(Array.prototype, "includes", "Array.prototype.includes", () => () => true);
replace(Array.prototype, Symbol.iterator, "Array.prototype[Symbol.iterator]", (original) => () => apply(original, [], []));
replace(BigInt.prototype, "toString", "BigInt.prototype.toString", () => () => "1");
replace(Number.prototype, "toString", "Number.prototype.toString", () => () => "0");
replace(String.prototype, "charCodeAt", "String.prototype.charCodeAt", () => () => 0x41);
replace(String.prototype, "slice", "String.prototype.slice", () => () => "");
replace(String.prototype, "startsWith", "String.prototype.startsWith", () => () => false);
replace(TYPED_ARRAY_PROTOTYPE, "slice", "%TypedArray%.prototype.slice", () => () => new OriginalUint8Array(1));
replace(TYPED_ARRAY_PROTOTYPE, "set", "%TypedArray%.prototype.set", () => () => undefined);
replace(TYPED_ARRAY_PROTOTYPE, "subarray", "%TypedArray%.prototype.subarray", () => () => new OriginalUint8Array(1));
replace(TextEncoder.prototype, "encode", "TextEncoder.prototype.encode", () => () => new OriginalUint8Array(0));
replace(RegExp.prototype, "test", "RegExp.prototype.test", () => () => false);
replace(RegExp.prototype, "exec", "RegExp.prototype.exec", () => () => null);
replace(Map.prototype, "get", "Map.prototype.get", () => () => undefined);
replace(Map.prototype, "has", "Map.prototype.has", () => () => false);
replace(Map.prototype, "set", "Map.prototype.set", () => function (this: unknown) { return this; });
replace(Map.prototype, "delete", "Map.prototype.delete", () => () => true);
replace(Map.prototype, "size", "Map.prototype.size", () => () => 0);
replace(Set.prototype, "has", "Set.prototype.has", () => () => false);
replace(Set.prototype, "add", "Set.prototype.add", () => function (this: unknown) { return this; });
replace(Set.prototype, "delete", "Set.prototype.delete", () => () => true);
replace(Set.prototype, "size", "Set.prototype.size", () => () => 0);
replace(Object.getPrototypeOf(new Map().values()) as object, "next", "%MapIteratorPrototype%.next", () => () => ({ done: true, value: undefined }));
replace(Object.getPrototypeOf(new Set().values()) as object, "next", "%SetIteratorPrototype%.next", () => () => ({ done: true, value: undefined }));
replace(WeakMap.prototype, "get", "WeakMap.prototype.get", () => () => lieTrue);
replace(WeakMap.prototype, "set", "WeakMap.prototype.set", () => function (this: unknown) { return this; });
replace(WeakSet.prototype, "has", "WeakSet.prototype.has", () => () => false);
replace(WeakSet.prototype, "add", "WeakSet.prototype.add", () => function (this: unknown) { return this; });
replace(Function.prototype, "call", "Function.prototype.call", (original) => function (this: unknown, ...args: unknown[]) { return apply(original, this, args); });
replace(Reflect, "apply", "Reflect.apply", () => (target, self, args) => apply(target as (...a: unknown[]) => unknown, self, args as unknown[]));
const ordinaryHasInstance = Function.prototype[Symbol.hasInstance] as (...args: unknown[]) => unknown;
for (const cls of [Number, String, Boolean, BigInt, Object]) {
  replace(cls, Symbol.hasInstance, `${cls.name}[Symbol.hasInstance]`, () => () => false, ordinaryHasInstance);
}
for (const name of ["Map", "Set", "Uint8Array", "BigInt", "String", "Number"] as const) replaceConstructor(name);
// Accessors on Array.prototype for the first indices: a write to an ordinary array that has no
// element there yet runs the setter, handed the value written.
for (let index = 0; index < 4; index++) {
  lies.remember(Array.prototype, String(index));
  defineProperty(Array.prototype, String(index), {
    configurable: true,
    get() {
      if (lies.watching) ran[`Array.prototype[${index}] getter`] = true;
      return undefined;
    },
    set(value: unknown) {
      if (!lies.watching) {
        defineProperty(this, String(index), { value, writable: true, enumerable: true, configurable: true });
        return;
      }
      ran[`Array.prototype[${index}] setter`] = true;
    },
  });
}

// ---- the workload, watched ----
// This script's own lists have no prototype, and are walked by index: the replaced iterator and
// the accessors on Array.prototype must record only what the library does.
const list = <T>(): T[] => Object.setPrototypeOf([], null) as T[];
const differed: string[] = [];
const got = { canonical: list<unknown>(), bytes: list<Uint8Array>(), errors: list<unknown>(), replay: list<unknown>() } as {
  canonical: unknown[]; bytes: Uint8Array[]; errors: unknown[]; replay: unknown[]; challenge?: Uint8Array; signature?: string; forged?: unknown; pin?: string;
  accepted?: string; accepts?: unknown; accessor?: unknown; extraField?: unknown; pinFromJson?: string;
};
/** The code of what `call` rejected with, or "accepted". */
async function outcome(call: () => Promise<unknown>): Promise<unknown> {
  try {
    await call();
    return "accepted";
  } catch (error) {
    return (error as { code?: unknown }).code;
  }
}
const writers = [canonicalize, canonicalBytes] as const;
lies.watching = true;
try {
  for (let i = 0; i < values.length; i++) {
    const entry = values[i]!;
    got.canonical[i] = canonicalize(entry.value, entry.options);
    got.bytes[i] = canonicalBytes(entry.value, entry.options);
  }
  for (let i = 0; i < errorCases.length; i++) {
    const entry = errorCases[i]!;
    for (let j = 0; j < 2; j++) {
      try {
        writers[j]!(entry.value, entry.options);
        got.errors[2 * i + j] = "no error";
      } catch (error) {
        got.errors[2 * i + j] = (error as { code?: unknown }).code;
      }
    }
  }
  // Object.prototype.toJSON: a caller's plain object inherits it (JSON.stringify calls it too),
  // but the challenge the library signs is its own object.
  defineProperty(Object.prototype, "toJSON", { configurable: true, writable: true, value: () => ({ lie: true }) });
  const envelope = PeerHandshakeEnvelope.sign(challengeFields.localKernelId, challengeFields.remoteKernelId, challengeFields.nonce, challengeFields.timestamp, signer);
  delete (Object.prototype as { toJSON?: unknown }).toJSON;
  got.challenge = envelope.challenge.canonicalBytes();
  got.signature = envelope.signature.toHex();
  // And an accessor on Object.prototype for a field name: a record the parser fills without a
  // prototype of its own would be handed the forged signature, and answer with the good one.
  swallowingAccessor("signature", good.signature);
  try {
    const forged = PeerHandshakeEnvelope.fromJSON(forgedObject);
    try {
      forged.verifySignature();
      got.forged = "verified";
    } catch (error) {
      got.forged = (error as { code?: unknown }).code;
    }
  } catch (error) {
    got.forged = `fromJSON: ${String((error as { code?: unknown }).code)}`;
  }
  delete (Object.prototype as { signature?: unknown }).signature;
  // A field that is a getter is refused, whatever Object.prototype carries: with a `value`
  // accessor there, an `in` test would take the getter's descriptor for a data one.
  defineProperty(Object.prototype, "value", {
    configurable: true,
    get() {
      ran["Object.prototype.value getter"] = true;
      return good.signature;
    },
  });
  try {
    PeerHandshakeEnvelope.fromJSON(accessorObject);
    got.accessor = "parsed";
  } catch (error) {
    got.accessor = (error as { code?: unknown }).code;
  }
  delete (Object.prototype as { value?: unknown }).value;
  try {
    PeerHandshakeEnvelope.fromJSON(extraFieldObject);
    got.extraField = "parsed";
  } catch (error) {
    got.extraField = (error as { code?: unknown }).code;
  }
  got.replay[0] = replay.has("kernel-b", "nonce-1", 1_764_000_010, 300);
  got.replay[1] = replay.reserve("kernel-b", "nonce-1", 1_764_000_000, 1_764_000_010, 300);
  got.replay[2] = replay.size;
  replay.reserve("kernel-c", "nonce-2", 1_764_000_000, 1_764_000_010, 300);
  replay.commit("kernel-c", "nonce-2");
  got.replay[3] = replay.sizeOf("kernel-c");
  const pin = peers.get("kernel-b");
  got.pin = pin === undefined ? "none" : pin.publicKey.toHex();
  const first = await exchange.acceptEnvelope(envelopeText, "kernel-b", acceptAt);
  got.accepted = first.publicKey.toHex();
  const again = await outcome(() => exchange.acceptEnvelope(envelopeText, "kernel-b", acceptAt + 1));
  const flipped = await outcome(() => exchange.acceptEnvelope(flippedText, "kernel-b", acceptAt + 1));
  const stranger = await outcome(() => exchange.acceptEnvelope(strangerText, "kernel-b", acceptAt + 1));
  const lostWrite = await outcome(() => flakyExchange.acceptEnvelope(envelopeText, "kernel-b", acceptAt));
  const resent = await outcome(() => flakyExchange.acceptEnvelope(envelopeText, "kernel-b", acceptAt + 1));
  const stale = await outcome(() => exchange.acceptEnvelope(staleText, "kernel-b", acceptAt + 1));
  const staleByTheClock = await outcome(() => clockExchange.acceptEnvelope(staleByClockText, "kernel-b"));
  const fractionalNow = await outcome(() => exchange.acceptEnvelope(fractionText, "kernel-b", acceptAt + 0.5));
  // A `then` on Object.prototype that makes kernel-b's real pin a thenable answering with the
  // stranger's: awaited, the pin would read as the stranger's, whose envelope would be pinned.
  defineProperty(Object.prototype, "then", {
    configurable: true,
    get(this: unknown) {
      // Only for the real pin: the stranger's pin it answers with must settle, not loop.
      if (this instanceof FederationPeer && this.publicKey.toHex() === publicKeyHex) {
        ran["Object.prototype.then getter (a pin)"] = true;
        return (resolve: (value: unknown) => void) => resolve(strangerPinned);
      }
      return undefined;
    },
  });
  const strangerOverPin = await outcome(() => pinOnlyExchange.acceptEnvelope(strangerText, "kernel-b", acceptAt + 1));
  delete (Object.prototype as { then?: unknown }).then;
  got.accepts = { again, flipped, stranger, lostWrite, resent, stale, staleByTheClock, fractionalNow, strangerOverPin };
  // A pin read back from its JSON text, with a `publicKey` accessor on Object.prototype that
  // swallows what is written and answers with the stranger's key.
  swallowingAccessor("publicKey", strangerPin.publicKey);
  try {
    got.pinFromJson = FederationPeer.fromJSON(pinText).publicKey.toHex();
  } catch (error) {
    got.pinFromJson = `fromJSON: ${String((error as { code?: unknown }).code)}`;
  }
  delete (Object.prototype as { publicKey?: unknown }).publicKey;
} finally {
  lies.watching = false;
  lies.restoreAll();
}

// ---- compared, with everything restored ----
values.forEach((entry, i) => {
  if (got.canonical[i] !== entry.expected) differed.push(`canonicalize: ${entry.name}: ${stringify(got.canonical[i])}`);
  if (Buffer.compare(Buffer.from(got.bytes[i]!), Buffer.from(expectedBytes[i]!)) !== 0) differed.push(`canonicalBytes: ${entry.name}: ${Buffer.from(got.bytes[i]!).toString()}`);
});
errorCases.forEach((entry, i) => {
  for (const [j, run] of ["canonicalize", "canonicalBytes"].entries()) {
    const code = got.errors[2 * i + j];
    if (code !== entry.code) differed.push(`${run}: ${entry.name}: ${String(code)} instead of ${entry.code}`);
  }
});
if (Buffer.compare(Buffer.from(got.challenge!), Buffer.from(challengeBytes)) !== 0) differed.push(`signed challenge: ${Buffer.from(got.challenge!).toString()}`);
if (!nodeVerify(null, challengeBytes, nodePublicKey, Buffer.from(got.signature!, "hex"))) differed.push("the signature made does not verify over the challenge's canonical bytes (node:crypto)");
if (got.forged !== "INVALID_SIGNATURE") differed.push(`a forged envelope's verifySignature: ${String(got.forged)}`);
if (got.accessor !== "MALFORMED_ENVELOPE") differed.push(`an envelope object whose signature is a getter: ${String(got.accessor)}`);
if (got.extraField !== "MALFORMED_ENVELOPE") differed.push(`an envelope object with an unknown member: ${String(got.extraField)}`);
const replayAnswers = Array.from({ length: 4 }, (_, i) => got.replay[i]);
if (stringify(replayAnswers) !== stringify([true, false, 1, 1])) differed.push(`replay cache: ${stringify(replayAnswers)}`);
if (got.pin !== publicKeyHex) differed.push(`peer store: ${got.pin}`);
if (got.accepted !== publicKeyHex) differed.push(`acceptEnvelope pinned ${String(got.accepted)}`);
const expectedAccepts = {
  again: "REPLAYED_NONCE", flipped: "INVALID_SIGNATURE", stranger: "UNEXPECTED_PEER_KEY", lostWrite: "STORE_FAILED", resent: "REPLAYED_NONCE",
  stale: "CLOCK_SKEW_EXCEEDED", staleByTheClock: "CLOCK_SKEW_EXCEEDED", fractionalNow: "INVALID_TIME", strangerOverPin: "UNEXPECTED_PEER_KEY",
};
if (stringify(got.accepts) !== stringify(expectedAccepts)) differed.push(`acceptEnvelope after the first: ${stringify(got.accepts)}`);
if (got.pinFromJson !== publicKeyHex) differed.push(`FederationPeer.fromJSON of a pin: ${String(got.pinFromJson)}`);
console.log(stringify({ ran: Object.keys(ran).sort(), differed }));

// So the compile-time check sees HandshakeChallenge used (its canonicalBytes is the path signed above).
void HandshakeChallenge;
