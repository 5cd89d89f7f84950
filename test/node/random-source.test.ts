// A host without a CSPRNG (globalThis.crypto.getRandomValues missing, as in a page or runtime
// that does not provide Web Crypto): every call that needs fresh random bytes throws
// RandomSourceError RANDOM_SOURCE_UNAVAILABLE, which a caller can tell from a wrong argument
// (review 72 F4: it was InvalidTypeError INVALID_TYPE), before any work and with nothing
// fetched or stored; calls that need no randomness keep working.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { ed25519, InvalidTypeError, KernelTrustExchange, Keypair, RandomSourceError, verifyEnvelopeBatch, verifyEnvelopeBytes } from "../../src/index.js";
import { handshakeWith } from "../../src/http/client-entry.js";
import { reservationToken } from "../../src/stores/server-store.js";
import { nodePublicKeyBytes, nodeSign } from "../helpers/ed25519-oracles.js";

const SEED = Buffer.from("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60", "hex"); // RFC 8032 §7.1 TEST 1
const publicKey = nodePublicKeyBytes(SEED);
const message = new TextEncoder().encode("no CSPRNG here");
const signature = nodeSign(SEED, message);

/** Runs fn with globalThis.crypto missing (`undefined`), then puts the host's back. */
function withoutCrypto<T>(fn: () => T): T {
  const descriptor = Object.getOwnPropertyDescriptor(globalThis, "crypto");
  assert.ok(descriptor?.configurable, "globalThis.crypto can be replaced in this host");
  Object.defineProperty(globalThis, "crypto", { value: undefined, configurable: true, writable: true });
  try {
    return fn();
  } finally {
    Object.defineProperty(globalThis, "crypto", descriptor!);
  }
}

function assertRandomSourceError(error: unknown, what: string): void {
  assert.instance(error, RandomSourceError, what);
  assert.is((error as RandomSourceError).code, "RANDOM_SOURCE_UNAVAILABLE", what);
  assert.is((error as Error).name, "RandomSourceError", what);
  assert.not.instance(error, InvalidTypeError, `${what}: not the wrong-argument error`);
  assert.match((error as Error).message, "getRandomValues");
}

/** What fn threw, checked to be a RandomSourceError. */
function throwsRandomSourceError(fn: () => unknown, what: string): RandomSourceError {
  let caught: unknown;
  try {
    fn();
  } catch (error) {
    caught = error;
  }
  assertRandomSourceError(caught, what);
  return caught as RandomSourceError;
}

test("without a CSPRNG: batches, key generation and reservation tokens throw RandomSourceError; verify, sign and empty batches work", () => {
  const sender = new KernelTrustExchange("kernel.a", Keypair.fromSeed(SEED));
  const envelope = sender.localEnvelope("kernel.b", "nonce-1").toJSONText();
  withoutCrypto(() => {
    assert.is(globalThis.crypto, undefined);
    throwsRandomSourceError(() => ed25519.verifyBatch([{ signature, message, publicKey }]), "verifyBatch");
    throwsRandomSourceError(() => ed25519.verifyBatch([{ signature, message, publicKey }], { zip215: true }), "verifyBatch zip215");
    throwsRandomSourceError(() => verifyEnvelopeBatch([envelope]), "verifyEnvelopeBatch");
    throwsRandomSourceError(() => ed25519.utils.randomSecretKey(), "randomSecretKey");
    throwsRandomSourceError(() => Keypair.generate(), "Keypair.generate");
    throwsRandomSourceError(() => reservationToken(), "a store's reservation token");
    // Wrong arguments are still INVALID_TYPE, checked before the random source.
    let wrong: unknown;
    try {
      ed25519.verifyBatch("not an array" as never);
    } catch (error) {
      wrong = error;
    }
    assert.instance(wrong, InvalidTypeError);
    // What needs no random bytes works.
    assert.equal(ed25519.verifyBatch([]), []);
    assert.equal(verifyEnvelopeBatch([]), []);
    assert.ok(ed25519.verify(signature, message, publicKey));
    assert.equal(ed25519.sign(message, SEED), signature);
    assert.ok(verifyEnvelopeBytes(envelope).ok);
    assert.equal(ed25519.utils.randomSecretKey(SEED), new Uint8Array(SEED), "a given seed is only copied");
  });
  // And with the host's CSPRNG back, the same calls answer.
  assert.equal(ed25519.verifyBatch([{ signature, message, publicKey }, { signature, message: new Uint8Array(1), publicKey }]), [true, false]);
  assert.ok(verifyEnvelopeBatch([envelope])[0].ok);
  assert.match(reservationToken(), /^[0-9a-f]{32}$/);
});

// Helper 145 (7 December 2026): a host whose getRandomValues exists but throws let its own Error
// out of verifyBatch, randomSecretKey and Keypair.generate, with no code.
test("a CSPRNG that throws: the same calls throw RandomSourceError, the host's error as its cause", () => {
  const refusal = new Error("Disallowed operation called within global scope");
  const original = globalThis.crypto.getRandomValues;
  globalThis.crypto.getRandomValues = () => {
    throw refusal;
  };
  try {
    for (const [what, call] of [
      ["verifyBatch", () => ed25519.verifyBatch([{ signature, message, publicKey }])],
      ["randomSecretKey", () => ed25519.utils.randomSecretKey()],
      ["Keypair.generate", () => Keypair.generate()],
      ["a store's reservation token", () => reservationToken()],
    ] as const) {
      assert.is(throwsRandomSourceError(call, what).cause, refusal, what);
    }
  } finally {
    globalThis.crypto.getRandomValues = original;
  }
  assert.equal(ed25519.verifyBatch([{ signature, message, publicKey }]), [true]);
});

test("a CSPRNG that detaches the array it is handed (a transfer): RandomSourceError, and later batches draw into a new array", () => {
  // getRandomValues is caller code, handed a view of the batch's module-wide buffer: detached,
  // that buffer broke every later verifyBatch / verifyEnvelopeBatch in the realm with a TypeError
  // (no code), also once the host's getRandomValues was back (hunt 24).
  const sender = new KernelTrustExchange("kernel.a", Keypair.fromSeed(SEED));
  const envelope = sender.localEnvelope("kernel.b", "nonce-1").toJSONText();
  const expected = verifyEnvelopeBytes(envelope);
  assert.ok(expected.ok);
  const original = globalThis.crypto.getRandomValues;
  for (const [what, call] of [
    ["verifyBatch", () => ed25519.verifyBatch([{ signature, message, publicKey }, { signature, message, publicKey }])],
    ["verifyEnvelopeBatch", () => verifyEnvelopeBatch([envelope, envelope])],
  ] as const) {
    globalThis.crypto.getRandomValues = function <T extends ArrayBufferView | null>(this: Crypto, array: T): T {
      original.call(globalThis.crypto, array);
      structuredClone(array!.buffer, { transfer: [array!.buffer] });
      return array;
    };
    try {
      throwsRandomSourceError(call, `${what}, its array detached`);
    } finally {
      globalThis.crypto.getRandomValues = original;
    }
  }
  assert.equal(ed25519.verifyBatch([{ signature, message, publicKey }, { signature, message, publicKey }]), [true, true]);
  assert.equal(verifyEnvelopeBatch([envelope, envelope]), [expected, expected]);
  // A view kept by the shim and detached after its call: the next batches work all the same.
  const kept: ArrayBufferView[] = [];
  globalThis.crypto.getRandomValues = function <T extends ArrayBufferView | null>(this: Crypto, array: T): T {
    kept.push(array!);
    return original.call(globalThis.crypto, array) as T;
  };
  try {
    ed25519.verifyBatch([{ signature, message, publicKey }]);
    verifyEnvelopeBatch([envelope]);
  } finally {
    globalThis.crypto.getRandomValues = original;
  }
  for (const view of kept) if (view.buffer.byteLength > 0) structuredClone(view.buffer, { transfer: [view.buffer] });
  assert.equal(ed25519.verifyBatch([{ signature, message, publicKey }, { signature, message, publicKey }]), [true, true]);
  assert.equal(verifyEnvelopeBatch([envelope, envelope]), [expected, expected]);
});

test("a CSPRNG that detaches the fresh array it fills: RandomSourceError, never an empty secret key, token or nonce", () => {
  // fillRandomBytes returned the detached array as filled: randomSecretKey answered a detached
  // 0-byte key, silently, and randomHex (reservation tokens, HTTP client nonces) threw
  // InvalidTypeError about "bytes", an argument the caller never passed (hunt 24).
  const original = globalThis.crypto.getRandomValues;
  globalThis.crypto.getRandomValues = function <T extends ArrayBufferView | null>(this: Crypto, array: T): T {
    original.call(globalThis.crypto, array);
    structuredClone(array!.buffer, { transfer: [array!.buffer] });
    return array;
  };
  try {
    for (const [what, call] of [
      ["randomSecretKey", () => ed25519.utils.randomSecretKey()],
      ["Keypair.generate", () => Keypair.generate()],
      ["a store's reservation token", () => reservationToken()],
    ] as const) {
      throwsRandomSourceError(call, what);
    }
  } finally {
    globalThis.crypto.getRandomValues = original;
  }
  assert.is(ed25519.utils.randomSecretKey().length, 32);
});

test("a CSPRNG that answers its own array and leaves the one it is handed zeros: RandomSourceError, never a secret key, token or nonce of zeros; batches still work", async () => {
  // A careless polyfill or test shim: `getRandomValues = (a) => randomFillSync(new Uint8Array(a.length))`.
  // Before (hunt 46): randomSecretKey answered 32 zero bytes, Keypair.generate a key anyone can
  // derive, and every reservation token and client nonce was the same run of zeros.
  const original = globalThis.crypto.getRandomValues;
  globalThis.crypto.getRandomValues = function <T extends ArrayBufferView | null>(this: Crypto, array: T): T {
    return original.call(globalThis.crypto, new Uint8Array((array as unknown as Uint8Array).length)) as unknown as T;
  };
  try {
    for (const [what, call] of [
      ["randomSecretKey", () => ed25519.utils.randomSecretKey()],
      ["keygen", () => ed25519.keygen()],
      ["Keypair.generate", () => Keypair.generate()],
      ["a store's reservation token", () => reservationToken()],
    ] as const) {
      const error = throwsRandomSourceError(call, what);
      assert.match(error.message, "all zeros", what);
    }
    let fetched = 0;
    const exchange = new KernelTrustExchange("kernel.a", Keypair.fromSeed(SEED));
    const error = await handshakeWith("http://127.0.0.1:9/", exchange, "kernel.b", {
      fetch: (async () => {
        fetched++;
        throw new Error("not reached");
      }) as typeof fetch,
    }).then(() => undefined, (e: unknown) => e);
    assertRandomSourceError(error, "handshakeWith without a nonce");
    assert.is(fetched, 0, "nothing sent");
    // The batches hash their draws with the items (README "Batch verification", step 4): they
    // still give the single answers, here a valid item and a tampered one.
    const tampered = Uint8Array.from(signature);
    tampered[0] ^= 1;
    assert.equal(ed25519.verifyBatch([{ signature, message, publicKey }, { signature: tampered, message, publicKey }]), [true, false]);
  } finally {
    globalThis.crypto.getRandomValues = original;
  }
  assert.is(ed25519.utils.randomSecretKey().length, 32);
});

test("without a CSPRNG: handshakeWith with no nonce given rejects with RandomSourceError before anything is sent", async () => {
  const exchange = new KernelTrustExchange("kernel.a", Keypair.fromSeed(SEED));
  let fetched = 0;
  const fetchSpy = (async () => {
    fetched++;
    throw new Error("not reached");
  }) as typeof fetch;
  const pending = withoutCrypto(() => handshakeWith("http://127.0.0.1:9", exchange, "kernel.b", { fetch: fetchSpy }).then(() => undefined, (error: unknown) => error));
  assertRandomSourceError(await pending, "handshakeWith");
  assert.is(fetched, 0, "nothing was sent");
});

test.run();
