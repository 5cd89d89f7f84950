// Ed25519 (RFC 8032 §5.1) over the WebAssembly core (assembly/ed25519/), with the call shapes
// of @noble/ed25519 v3: getPublicKey(secretKey), sign(message, secretKey),
// verify(signature, message, publicKey, { zip215 }).
//
// Verification rule (chio-spec §3.2): by default the one of ed25519-dalek 2.x `verify` and of
// OpenSSL / node:crypto — S < L, cofactorless equation, R compared byte for byte, small-order
// and non-canonical public keys accepted. `{ zip215: true }` gives the cofactored ZIP-215 rule
// of @noble/curves' default. Callers that must refuse weak keys use isSmallOrderPublicKey().
//
// Signing and key generation run in constant time inside the wasm core and wipe the seed and
// every secret intermediate from wasm memory before returning. Verification is variable time.
// Arguments are checked by src/bytes.ts through the typed-array intrinsics: a Proxy of a
// Uint8Array, or a view of a detached or out-of-bounds ArrayBuffer (which reports length 0, so a
// detached message would otherwise be signed or verified as the empty message), is
// InvalidTypeError. They are not copied in JS: each is written into wasm memory within the same
// synchronous call, before any caller code can run, and that write is the defensive copy.
import { expectBytes, assertBytes } from "./bytes.js";
import { InvalidTypeError, WasmCoreError } from "./errors.js";
import { argsBase, coreExports, guarded, heapU8, ioArenaBase, reserveIo, secretCall, type CoreExports } from "./wasm/instance.js";
import { ARG_PUBLIC_KEY, ARG_SECRET, ARG_SIGNATURE, INSPECT_NOT_A_POINT, INSPECT_SMALL_ORDER, VERIFY_MODE_ZIP215 } from "./wasm/abi.js";
import {
  BATCH_MAX_ITEMS, BATCH_ITEM_BYTES, BATCH_ITEM_PUBLIC_KEY, BATCH_ITEM_SIGNATURE, BATCH_ITEM_MESSAGE_OFFSET,
  BATCH_ITEM_MESSAGE_LENGTH, BATCH_ITEM_RANDOM, BATCH_ITEM_RESULT, BATCH_DONE, BATCH_OUT_OF_MEMORY,
} from "./wasm/abi.js";

interface Ed25519Exports extends CoreExports {
  ed25519_public_key(): void;
  ed25519_sign(msgLen: number): void;
  ed25519_verify(msgLen: number, mode: number): number;
  ed25519_inspect_public_key(): number;
  ed25519_verify_batch(count: number, inputBytes: number, mode: number): number;
}

/** Byte lengths (RFC 8032 §5.1.5, §5.1.6). */
export const ED25519_SECRET_KEY_BYTES = 32;
export const ED25519_PUBLIC_KEY_BYTES = 32;
export const ED25519_SIGNATURE_BYTES = 64;

/** Options of verify(). */
export interface VerifyOptions {
  /** Cofactored ZIP-215 rule (@noble/curves default) instead of the dalek/OpenSSL rule. Default false. */
  zip215?: boolean;
}

const core = (): Ed25519Exports => coreExports<Ed25519Exports>();

/** Copies the message into the I/O arena (growing memory if needed); returns its length. */
function writeMessage(message: Uint8Array): number {
  if (message.length > 0) {
    reserveIo(message.length);
    heapU8().set(message, ioArenaBase());
  }
  return message.length;
}

/**
 * Public key of a 32-byte secret key (seed) (RFC 8032 §5.1.5). Constant time.
 * @throws InvalidTypeError if secretKey is not a Uint8Array; InvalidLengthError if not 32 bytes.
 */
function getPublicKey(secretKey: Uint8Array): Uint8Array {
  expectBytes(secretKey, ED25519_SECRET_KEY_BYTES, "secretKey");
  return guarded(() => {
    const x = core();
    const base = argsBase();
    heapU8().set(secretKey, base + ARG_SECRET);
    // The core wipes the seed and all intermediates; if the call fails, secretCall zeroes all memory.
    secretCall(x.ed25519_public_key, undefined);
    return heapU8().slice(base + ARG_PUBLIC_KEY, base + ARG_PUBLIC_KEY + 32);
  });
}

/**
 * Deterministic 64-byte signature R || S of message under a 32-byte secret key (RFC 8032
 * §5.1.6). Constant time in the secret key.
 * @throws InvalidTypeError if an argument is not a Uint8Array; InvalidLengthError if secretKey is not 32 bytes.
 */
function sign(message: Uint8Array, secretKey: Uint8Array): Uint8Array {
  assertBytes(message, "message");
  expectBytes(secretKey, ED25519_SECRET_KEY_BYTES, "secretKey");
  return guarded(() => {
    const x = core();
    const len = writeMessage(message);
    const base = argsBase();
    heapU8().set(secretKey, base + ARG_SECRET);
    secretCall(x.ed25519_sign, len); // wipes every secret, also when the call fails
    return heapU8().slice(base + ARG_SIGNATURE, base + ARG_SIGNATURE + 64);
  });
}

/**
 * Checks a 64-byte signature of message under a 32-byte public key (RFC 8032 §5.1.7, chio
 * rule; see the file header). Returns false for any well-formed but invalid input (including
 * S >= L and keys that do not decode). Variable time (public inputs).
 * @throws InvalidTypeError / InvalidLengthError on wrong argument types or lengths.
 */
function verify(signature: Uint8Array, message: Uint8Array, publicKey: Uint8Array, options?: VerifyOptions): boolean {
  expectBytes(signature, ED25519_SIGNATURE_BYTES, "signature");
  assertBytes(message, "message");
  expectBytes(publicKey, ED25519_PUBLIC_KEY_BYTES, "publicKey");
  const zip215 = zip215Option(options);
  return guarded(() => {
    const x = core();
    const len = writeMessage(message);
    const heap = heapU8();
    const base = argsBase();
    heap.set(publicKey, base + ARG_PUBLIC_KEY);
    heap.set(signature, base + ARG_SIGNATURE);
    return x.ed25519_verify(len, zip215 ? VERIFY_MODE_ZIP215 : 0) === 1;
  });
}

/** The zip215 flag of verify()/verifyBatch() options, type-checked. */
function zip215Option(options: VerifyOptions | undefined): boolean {
  if (options === undefined) return false;
  if (options === null || typeof options !== "object") throw new InvalidTypeError("options must be an object");
  const zip215: unknown = options.zip215;
  if (zip215 !== undefined && typeof zip215 !== "boolean") throw new InvalidTypeError("options.zip215 must be a boolean");
  return zip215 === true;
}

/** One signature to check in verifyBatch(). */
export interface VerifyBatchItem {
  /** 64 bytes R || S. */
  signature: Uint8Array;
  message: Uint8Array;
  /** 32 key bytes. (Seam: a PreparedPublicKey will be accepted here too; see batchKeyBytes.) */
  publicKey: Uint8Array;
}

/**
 * The 32 key bytes of a batch item's publicKey. Today only bytes; prepared public keys will be
 * resolved here (their decoded point and torsion flag then replace the per-batch decoding in
 * assembly/ed25519/batch.ts).
 */
function batchKeyBytes(publicKey: unknown, index: number): Uint8Array {
  return expectBytes(publicKey, ED25519_PUBLIC_KEY_BYTES, `items[${index}].publicKey`);
}

/** Reused buffer for the random coefficients of one chunk (16 bytes per item). */
const batchRandom = new Uint8Array(16 * BATCH_MAX_ITEMS);

/** 16 bytes per item from globalThis.crypto.getRandomValues into batchRandom (never derived from the inputs). */
function fillBatchRandom(count: number): void {
  const c = (globalThis as { crypto?: { getRandomValues?(a: Uint8Array): Uint8Array } }).crypto;
  if (!c || typeof c.getRandomValues !== "function") {
    throw new InvalidTypeError("globalThis.crypto.getRandomValues is not available in this environment");
  }
  c.getRandomValues(batchRandom.subarray(0, 16 * count));
}

/**
 * Checks many signatures at once: one boolean per item, each equal to
 * `verify(item.signature, item.message, item.publicKey, options)` in both modes, whatever the
 * inputs (README "Batch verification": exact, not a cofactored approximation). Items are
 * combined with random 128-bit coefficients from globalThis.crypto.getRandomValues in chunks of
 * BATCH_MAX_ITEMS, with the key terms of repeated keys merged; a failing chunk is halved to
 * find the failing items. An empty batch gives []. Variable time (public inputs).
 * @throws InvalidTypeError if items is not an array or an item is not an object with Uint8Array
 *   fields; InvalidLengthError on a wrong signature/key length (the message names the item's index).
 */
function verifyBatch(items: readonly VerifyBatchItem[], options?: VerifyOptions): boolean[] {
  if (!Array.isArray(items)) throw new InvalidTypeError("items must be an array");
  const zip215 = zip215Option(options);
  const count = items.length;
  // Read every field once (getters and Proxies run here, before anything is validated), then
  // validate: no caller code runs between the validation and the copy into wasm memory.
  const signatures: unknown[] = new Array(count);
  const messages: unknown[] = new Array(count);
  const keys: unknown[] = new Array(count);
  for (let i = 0; i < count; i++) {
    const item: unknown = items[i];
    if (item === null || typeof item !== "object") throw new InvalidTypeError(`items[${i}] must be an object`);
    const fields = item as Partial<VerifyBatchItem>;
    signatures[i] = fields.signature;
    messages[i] = fields.message;
    keys[i] = fields.publicKey;
  }
  const results: boolean[] = new Array(count);
  if (count === 0) return results;
  fillBatchRandom(0); // fails early (before any work) where there is no CSPRNG
  for (let i = 0; i < count; i++) {
    expectBytes(signatures[i], ED25519_SIGNATURE_BYTES, `items[${i}].signature`);
    assertBytes(messages[i], `items[${i}].message`);
    batchKeyBytes(keys[i], i);
  }
  const mode = zip215 ? VERIFY_MODE_ZIP215 : 0;
  for (let start = 0; start < count; start += BATCH_MAX_ITEMS) {
    const n = Math.min(BATCH_MAX_ITEMS, count - start);
    fillBatchRandom(n);
    let inputBytes = n * BATCH_ITEM_BYTES;
    for (let i = start; i < start + n; i++) inputBytes += (messages[i] as Uint8Array).length;
    guarded(() => {
      const x = core();
      reserveIo(inputBytes);
      const heap = heapU8();
      const base = ioArenaBase();
      let messageAt = n * BATCH_ITEM_BYTES;
      for (let t = 0; t < n; t++) {
        const record = base + t * BATCH_ITEM_BYTES;
        const message = messages[start + t] as Uint8Array;
        heap.set(keys[start + t] as Uint8Array, record + BATCH_ITEM_PUBLIC_KEY);
        heap.set(signatures[start + t] as Uint8Array, record + BATCH_ITEM_SIGNATURE);
        heap.set(batchRandom.subarray(16 * t, 16 * t + 16), record + BATCH_ITEM_RANDOM);
        writeU32(heap, record + BATCH_ITEM_MESSAGE_OFFSET, messageAt);
        writeU32(heap, record + BATCH_ITEM_MESSAGE_LENGTH, message.length);
        heap.set(message, base + messageAt);
        messageAt += message.length;
      }
      const status = x.ed25519_verify_batch(n, inputBytes, mode);
      if (status === BATCH_OUT_OF_MEMORY) {
        throw new WasmCoreError("WASM_OUT_OF_MEMORY", "cannot reserve WebAssembly memory for batch verification");
      }
      if (status !== BATCH_DONE) throw new WasmCoreError("WASM_TRAP", `batch verification refused its input (status ${status})`);
      const after = heapU8(); // the call may have grown memory (a new buffer)
      for (let t = 0; t < n; t++) results[start + t] = after[base + t * BATCH_ITEM_BYTES + BATCH_ITEM_RESULT] === 1;
    });
  }
  batchRandom.fill(0);
  return results;
}

function writeU32(heap: Uint8Array, at: number, value: number): void {
  heap[at] = value & 0xff;
  heap[at + 1] = (value >>> 8) & 0xff;
  heap[at + 2] = (value >>> 16) & 0xff;
  heap[at + 3] = value >>> 24;
}

function inspect(publicKey: Uint8Array): number {
  expectBytes(publicKey, ED25519_PUBLIC_KEY_BYTES, "publicKey");
  return guarded(() => {
    const x = core();
    heapU8().set(publicKey, argsBase() + ARG_PUBLIC_KEY);
    return x.ed25519_inspect_public_key();
  });
}

/**
 * True if the 32 bytes decode to a curve point under the verification rule (as dalek's
 * `VerifyingKey::from_bytes`: y taken mod p). Small-order points count as valid.
 * @throws InvalidTypeError / InvalidLengthError on wrong type or length.
 */
export function isValidPublicKey(publicKey: Uint8Array): boolean {
  return inspect(publicKey) !== INSPECT_NOT_A_POINT;
}

/**
 * True if the key decodes to one of the 8 points of small order (order dividing 8, including
 * the neutral element), in any encoding that decodes. Such keys let anyone forge signatures
 * that the default rule accepts. False for other points and for bytes that do not decode.
 * @throws InvalidTypeError / InvalidLengthError on wrong type or length.
 */
export function isSmallOrderPublicKey(publicKey: Uint8Array): boolean {
  return inspect(publicKey) === INSPECT_SMALL_ORDER;
}

/** 32 random bytes from globalThis.crypto.getRandomValues, usable as a secret key. */
function randomSecretKey(): Uint8Array {
  const c = (globalThis as { crypto?: { getRandomValues?(a: Uint8Array): Uint8Array } }).crypto;
  if (!c || typeof c.getRandomValues !== "function") {
    throw new InvalidTypeError("globalThis.crypto.getRandomValues is not available in this environment");
  }
  return c.getRandomValues(new Uint8Array(ED25519_SECRET_KEY_BYTES));
}

/** Ed25519 with the @noble/ed25519 v3 call shapes. The async twins give the same results. */
export const ed25519 = {
  getPublicKey,
  sign,
  verify,
  verifyBatch,
  getPublicKeyAsync: async (secretKey: Uint8Array): Promise<Uint8Array> => getPublicKey(secretKey),
  signAsync: async (message: Uint8Array, secretKey: Uint8Array): Promise<Uint8Array> => sign(message, secretKey),
  verifyAsync: async (
    signature: Uint8Array,
    message: Uint8Array,
    publicKey: Uint8Array,
    options?: VerifyOptions,
  ): Promise<boolean> => verify(signature, message, publicKey, options),
  verifyBatchAsync: async (items: readonly VerifyBatchItem[], options?: VerifyOptions): Promise<boolean[]> =>
    verifyBatch(items, options),
  utils: { randomSecretKey },
} as const;
