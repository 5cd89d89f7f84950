// Child process of test/node/builtins-after-load.test.ts (review 70 F1): loads the library, then,
// as hostile code running later in the same realm would, replaces the built-ins a JS glue could
// hand a view of wasm memory to (typed-array methods and getters, Symbol.species, the global
// Uint8Array, Function.prototype.call/apply, Reflect.apply, TextEncoder/TextDecoder methods, the
// WebAssembly getters and constructors, ArrayBuffer methods). Each replacement records anything
// it receives that is, or views, wasm memory, and calls the original. Then it runs every API
// that reads or writes wasm memory (signing with a prepared key and with a seed, verify, batches,
// canonical JSON, SHA-512, envelopes, the handshake, the drop-ins, an instance rebuilt after a
// drop) and prints one JSON line: what was caught, and the signature made with the prepared key.
//
// Wasm memory is recognised by shape: an ArrayBuffer (or a view of one) of at least 16 pages
// that is a whole number of 64 KiB pages; this script makes no buffer that large itself.
//
// Not a suite (no test registered, no test.run()).
import { createHash } from "node:crypto";
import { canonicalize, canonicalizeJson, ed25519, KernelTrustExchange, Keypair, PeerHandshakeEnvelope, verifyEnvelopeBytes } from "../../src/index.js";
import * as nobleDropIn from "../../src/compat/noble-ed25519.js";
import nacl from "../../src/compat/tweetnacl.js";
import { sha512Digest } from "../../src/sha512.js";
import { argsBase, heapU8, wipeAndDropInstance } from "../../src/wasm/instance.js";

const seed = new Uint8Array(createHash("sha256").update("builtins after load").digest());
// The seed's SHA-512 (RFC 8032 §5.1.5): its halves are the secret scalar's bytes and the prefix.
const expanded = new Uint8Array(createHash("sha512").update(seed).digest());
const SECRETS = [seed, expanded.slice(0, 32), expanded.slice(32, 64)];
const message = new TextEncoder().encode("a message signed after the built-ins were replaced");
// The core is not started yet: the replacements below are in place before its first use, when
// the embedded core is decoded, compiled and instantiated (review 73 F4).

// ---- the replacements (after load, as hostile code would run) ----
const caught = new Set<string>();
const PAGE = 65536;
// The inspection itself uses only originals captured here, and does not inspect its own calls.
const apply = Reflect.apply;
const arrayBufferByteLength = Object.getOwnPropertyDescriptor(ArrayBuffer.prototype, "byteLength")!.get!;
const typedArrayBufferGetter = Object.getOwnPropertyDescriptor(Object.getPrototypeOf(Uint8Array.prototype), "buffer")!.get!;
const isView = ArrayBuffer.isView;
const MemoryClass = WebAssembly.Memory;
const InstanceClass = WebAssembly.Instance;
const typedArrayLengthGetter = Object.getOwnPropertyDescriptor(Object.getPrototypeOf(Uint8Array.prototype), "length")!.get!;
let inspecting = false;
/**
 * Whether `value` is a typed array whose first 32 bytes are a secret of this script's seed
 * (review 73 F6: the JS copies of secrets, a Keypair's seed, a hashed seed, tweetnacl's 64-byte
 * secret key, must not go to replaceable `slice`/`fill` either). Read by index, which runs no
 * replaced method.
 */
const holdsSecret = (value: unknown): boolean => {
  if (!isView(value) || value instanceof DataView) return false;
  let length: number;
  try {
    length = apply(typedArrayLengthGetter, value, []) as number;
  } catch {
    return false;
  }
  if (length < 32) return false;
  const view = value as Uint8Array;
  return SECRETS.some((secret) => {
    for (let i = 0; i < 32; i++) if (view[i] !== secret[i]) return false;
    return true;
  });
};
const isWasmSized = (buffer: unknown): boolean => {
  try {
    const length = apply(arrayBufferByteLength, buffer, []) as number;
    return length >= 16 * PAGE && length % PAGE === 0;
  } catch {
    return false;
  }
};
const looksLikeWasm = (value: unknown): boolean => {
  if (value instanceof MemoryClass || value instanceof InstanceClass) return true;
  if (isWasmSized(value)) return true;
  if (isView(value)) {
    try {
      return isWasmSized(apply(typedArrayBufferGetter, value, []));
    } catch {
      return false;
    }
  }
  return false;
};
const inspect = (name: string, self: unknown, args: ArrayLike<unknown>) => {
  if (inspecting) return;
  inspecting = true;
  try {
    if (looksLikeWasm(self)) caught.add(`${name} (receiver)`);
    for (let i = 0; i < args.length; i++) if (looksLikeWasm(args[i])) caught.add(`${name} (argument ${i})`);
    if (holdsSecret(self)) caught.add(`${name} (receiver: a JS copy of a secret)`);
    for (let i = 0; i < args.length; i++) if (holdsSecret(args[i])) caught.add(`${name} (argument ${i}: a JS copy of a secret)`);
  } finally {
    inspecting = false;
  }
};

function replaceMethod(owner: object, key: PropertyKey, name: string): void {
  const original = (owner as Record<PropertyKey, unknown>)[key] as (...args: unknown[]) => unknown;
  Object.defineProperty(owner, key, {
    configurable: true,
    writable: true,
    value: function (this: unknown, ...args: unknown[]) {
      inspect(name, this, args);
      return apply(original, this, args);
    },
  });
}
function replaceGetter(owner: object, key: PropertyKey, name: string): void {
  const original = Object.getOwnPropertyDescriptor(owner, key)!.get!;
  Object.defineProperty(owner, key, {
    configurable: true,
    get(this: unknown) {
      inspect(name, this, []);
      return apply(original, this, []);
    },
  });
}

const typedArrayPrototype = Object.getPrototypeOf(Uint8Array.prototype) as object;
for (const key of ["set", "slice", "subarray", "fill", "copyWithin", "includes", "indexOf", "at", "every", "some", "toString"]) {
  replaceMethod(typedArrayPrototype, key, `%TypedArray%.prototype.${key}`);
}
for (const key of ["buffer", "length", "byteLength", "byteOffset", Symbol.toStringTag]) replaceGetter(typedArrayPrototype, key, `%TypedArray%.prototype.${String(key)}`);
replaceMethod(ArrayBuffer.prototype, "slice", "ArrayBuffer.prototype.slice");
replaceGetter(ArrayBuffer.prototype, "byteLength", "ArrayBuffer.prototype.byteLength");
replaceMethod(TextEncoder.prototype, "encodeInto", "TextEncoder.prototype.encodeInto");
replaceMethod(TextEncoder.prototype, "encode", "TextEncoder.prototype.encode");
replaceMethod(TextDecoder.prototype, "decode", "TextDecoder.prototype.decode");
replaceGetter(WebAssembly.Memory.prototype, "buffer", "WebAssembly.Memory.prototype.buffer");
replaceMethod(WebAssembly.Memory.prototype, "grow", "WebAssembly.Memory.prototype.grow");
replaceGetter(WebAssembly.Instance.prototype, "exports", "WebAssembly.Instance.prototype.exports");
replaceMethod(Function.prototype, "call", "Function.prototype.call");
replaceMethod(Function.prototype, "apply", "Function.prototype.apply");
replaceMethod(Reflect, "apply", "Reflect.apply");
for (const constructor of [Uint8Array, typedArrayPrototype.constructor]) {
  Object.defineProperty(constructor, Symbol.species, {
    configurable: true,
    get(this: new (...args: unknown[]) => unknown) {
      const target = this;
      return function (...args: unknown[]) {
        inspect("Symbol.species", undefined, args);
        return new target(...args);
      };
    },
  });
}
const OriginalUint8Array = Uint8Array;
(globalThis as { Uint8Array: unknown }).Uint8Array = new Proxy(OriginalUint8Array, {
  construct(target, args, newTarget) {
    inspect("new Uint8Array", undefined, args);
    return Reflect.construct(target, args, newTarget);
  },
});
const OriginalInstance = WebAssembly.Instance;
(WebAssembly as { Instance: unknown }).Instance = new Proxy(OriginalInstance, {
  construct(target, args, newTarget) {
    const instance = Reflect.construct(target, args, newTarget);
    caught.add("new WebAssembly.Instance");
    return instance;
  },
});

// Decoding the core on first use (review 73 F4), and copyInto's prototype test (F5): these are
// never handed wasm memory, so they are recorded whenever the glue calls them at all.
const BufferClass = Buffer as unknown as { from: (...args: unknown[]) => unknown };
const bufferFrom = BufferClass.from;
BufferClass.from = function (this: unknown, ...args: unknown[]) {
  if (args[1] === "base64" && typeof args[0] === "string" && (args[0] as string).length > 100_000) caught.add("Buffer.from (decoding the core)");
  return apply(bufferFrom, this, args);
};
replaceMethod(String.prototype, "charCodeAt", "String.prototype.charCodeAt");
const getPrototypeOf = Object.getPrototypeOf;
let inWorkload = false;
Object.getPrototypeOf = function (value: unknown) {
  if (inWorkload && value instanceof SharedArrayBuffer) caught.add("Object.getPrototypeOf (copyInto's shared-memory test)");
  return getPrototypeOf(value);
};

// ---- the workload ----
inWorkload = true;
const prepared = ed25519.prepareSecretKey(seed);
const publicKey = ed25519.getPublicKey(seed);
const preparedPublic = ed25519.preparePublicKey(publicKey);
// A message in shared memory: copyInto's path for views of it.
const sharedMessage = new Uint8Array(new SharedArrayBuffer(message.length));
sharedMessage.set(message);
const signature = ed25519.sign(message, prepared);
const checks: boolean[] = [];
checks.push(ed25519.verify(signature, message, publicKey));
checks.push(ed25519.verify(signature, message, preparedPublic));
checks.push(ed25519.verify(signature, sharedMessage, publicKey));
checks.push(ed25519.sign(message, seed).every((byte, i) => byte === signature[i]));
checks.push(ed25519.verifyBatch(Array.from({ length: 8 }, () => ({ signature, message, publicKey }))).every(Boolean));
checks.push(canonicalizeJson('{"b":[1,2e3],"a":"\\u00e9"}').length > 0);
checks.push(canonicalizeJson(new TextEncoder().encode('{"z":1,"y":2}')).length > 0);
checks.push(canonicalize({ b: 1, a: [true, null, "x"] }).length > 0);
checks.push(sha512Digest(message).length === 64);
const peerKey = Keypair.fromSeed(new Uint8Array(32).fill(9));
const envelope = PeerHandshakeEnvelope.sign("kernel.b", "kernel.a", "nonce-1", 1_800_000_000, peerKey);
const envelopeText = JSON.stringify(envelope.toJSON());
checks.push(verifyEnvelopeBytes(new TextEncoder().encode(envelopeText)).ok);
checks.push(PeerHandshakeEnvelope.fromJSON(envelopeText).challenge.nonce === "nonce-1");
const exchange = new KernelTrustExchange("kernel.a", Keypair.fromSeed(seed), { trustedPeers: [["kernel.b", peerKey.publicKey]] });
const pinned = await exchange.acceptEnvelope(envelopeText, "kernel.b", 1_800_000_000);
checks.push(pinned.kernelId === "kernel.b");
checks.push(exchange.localEnvelope("kernel.b", "n2", 1_800_000_000).challenge.nonce === "n2");
checks.push(nobleDropIn.verify(nobleDropIn.sign(message, seed), message, nobleDropIn.getPublicKey(seed)));
const naclPair = nacl.sign.keyPair.fromSeed(seed);
checks.push(nacl.sign.detached.verify(message, nacl.sign.detached(message, naclPair.secretKey), naclPair.publicKey));
// The JS copies of secrets (review 73 F6): a Keypair's seed handed out and wiped, the main
// entry's and the noble drop-in's expanded keys, tweetnacl's seed taken out of its 64-byte secret
// key, and SHA-512 of a secret input; compared here by index only (no replaced method).
const sameBytes = (a: Uint8Array, b: Uint8Array): boolean => {
  inspecting = true; // this script's own reads (the length getter) are not the glue's
  try {
    if (a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
    return true;
  } finally {
    inspecting = false;
  }
};
const keypair = Keypair.fromSeed(seed);
checks.push(sameBytes(keypair.seedBytes(), seed));
keypair.destroy();
const extendedMain = ed25519.utils.getExtendedPublicKey(seed);
checks.push(sameBytes(extendedMain.prefix, SECRETS[2]) && sameBytes(extendedMain.pointBytes, publicKey));
checks.push(sameBytes(nobleDropIn.utils.getExtendedPublicKey(seed).pointBytes, publicKey));
checks.push(sameBytes(nacl.sign.keyPair.fromSecretKey(naclPair.secretKey).publicKey, naclPair.publicKey));
checks.push(nacl.sign(message, naclPair.secretKey).length === 64 + message.length);
checks.push(sameBytes(nacl.hash(seed), expanded));
// A rebuilt instance (as after a trap): the prepared key is lost, a new one is prepared on it.
wipeAndDropInstance();
const again = ed25519.prepareSecretKey(seed);
checks.push(ed25519.sign(message, again).every((byte, i) => byte === signature[i]));
checks.push(ed25519.verify(signature, message, publicKey));


// ---- review 73: built-ins that are never handed a view, but steer which bytes of wasm memory
// the glue copies out or in (active: each route is tried, and recorded if it worked) ----
{
  // (1) The spread of span()'s [start, end] in verify-envelope.ts goes through the array iterator:
  // a replaced one chooses the range copied out as canonicalChallenge (any range of memory).
  inspecting = true; // this script's own copy
  const prefix = Buffer.from(SECRETS[2]);
  inspecting = false;
  const keyNow = ed25519.prepareSecretKey(seed); // the live instance's prepared key
  const canonicalLength = (verifyEnvelopeBytes(envelopeText) as { envelope: { canonicalChallenge: Uint8Array } }).envelope.canonicalChallenge.length;
  const arrayIterator = Array.prototype[Symbol.iterator];
  let range: number[] | undefined;
  Object.defineProperty(Array.prototype, Symbol.iterator, {
    configurable: true,
    writable: true,
    value: function (this: unknown[]) {
      if (range !== undefined && this.length === 2 && typeof this[0] === "number" && (this[1] as number) - (this[0] as number) === canonicalLength) return apply(arrayIterator, range, []);
      return apply(arrayIterator, this, []);
    },
  });
  const pages: Buffer[] = [];
  try {
    for (let page = 0; page < 1024; page++) {
      range = [page * PAGE, (page + 1) * PAGE];
      pages.push(Buffer.from((verifyEnvelopeBytes(envelopeText) as { envelope: { canonicalChallenge: Uint8Array } }).envelope.canonicalChallenge));
    }
  } catch {
    // past the end of memory
  } finally {
    range = undefined;
    Object.defineProperty(Array.prototype, Symbol.iterator, { configurable: true, writable: true, value: arrayIterator });
  }
  inspecting = true; // the dump is this script's own copy (wasm-sized): not a route
  let found = false;
  try {
    found = Buffer.concat(pages).indexOf(prefix) >= 0;
  } finally {
    inspecting = false;
  }
  if (found) caught.add("Array.prototype[Symbol.iterator] (spread of span(): a prepared key's prefix read out as canonicalChallenge)");
  keyNow.destroy();

  // (2) copyInto's fixed-length view of a shared-memory argument takes its length from Math.min
  // as looked up at call time: a replaced one writes past the measured bytes into wasm memory.
  const shared = new SharedArrayBuffer(4096);
  new Uint8Array(shared).fill(0xab);
  const min = Math.min;
  let armed = true;
  Math.min = function (this: unknown, ...args: number[]) {
    if (armed && args[0] === 64 && args[1] === 64) {
      armed = false;
      return 2048;
    }
    return apply(min, this, args);
  } as typeof Math.min;
  const countAbPastArgs = () => {
    const heapNow = heapU8();
    let n = 0;
    for (let i = argsBase() + 512; i < argsBase() + 32 + 2048; i++) if (heapNow[i] === 0xab) n++;
    return n;
  };
  const before = countAbPastArgs(); // bytes of that value there already (static data)
  try {
    ed25519.verify(new Uint8Array(shared, 0, 64), message, publicKey);
  } catch {
    // a RangeError if memory ends first
  } finally {
    Math.min = min;
  }
  const written = countAbPastArgs() - before;
  if (written > 0) caught.add(`Math.min (viewPrefix: ${written} bytes of caller data written past the ARGS block)`);
  wipeAndDropInstance();
}

console.log(JSON.stringify({ caught: [...caught].sort(), checks, signature: Buffer.from(signature).toString("hex"), publicKey: Buffer.from(publicKey).toString("hex") }));
