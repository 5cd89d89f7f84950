// Ed25519 (RFC 8032 §5.1) over the WebAssembly core (assembly/ed25519/), with the call shapes
// of @noble/ed25519 v3: getPublicKey(secretKey), sign(message, secretKey),
// verify(signature, message, publicKey, { zip215 }).
//
// Verification rule (docs/protocol.md §4): by default the one of ed25519-dalek 2.x `verify` and of
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
import {
  hardenClass,
  brandHasInstance, bytesToHex, copyInto, newBytes, copyOfBytes, copyOfRange, expectBytes, isReadableBytes, assertBytes, copyBytes, isUint8Array, isUnreadableView, subview, typedArrayFill, typedArraySet, viewLength,
  mapGet, mapSet, toBigInt, arrayArgumentLength, fillRandomBytes, freshRandomBytes, isEnumerableOwnMember, memberOf, elementOf, ownList, ownListAsArray, readOptions, wipeBytes, writeU32,
  type OwnList,
} from "./bytes.js";
import { finalizerAtLoad, MapAtLoad, mapDelete } from "./collections.js";
import { sha512Digest } from "./sha512.js";
import { assertMadeByFactory, InvalidPublicKeyError, InvalidTypeError, WasmCoreError, isInstanceOf } from "./errors.js";
import {
  argsBase, coreCallInterrupted, coreExports, contained, guarded, heapU8, ioArenaBase, liveCoreExports, preparedSlabLayout, reserveIo, secretCall, setPreparedSlabBytes,
  DEFAULT_PREPARED_SLAB_BYTES, type CoreExports,
} from "./wasm/instance.js";
import {
  ARG_PUBLIC_KEY, ARG_RESULT, ARG_SECRET, ARG_SIGNATURE, INSPECT_NOT_A_POINT, INSPECT_SMALL_ORDER, PREPARED_NOT_A_POINT,
  PREPARED_RESULT_SLOT, VERIFY_MODE_ZIP215,
} from "./wasm/abi.js";
import {
  BATCH_MAX_ITEMS, BATCH_INPUT_BUDGET, BATCH_ITEM_BYTES, BATCH_ITEM_PUBLIC_KEY, BATCH_ITEM_SIGNATURE, BATCH_ITEM_MESSAGE_OFFSET,
  BATCH_ITEM_MESSAGE_LENGTH, BATCH_ITEM_RANDOM, BATCH_ITEM_RESULT, BATCH_DONE, BATCH_OUT_OF_MEMORY,
} from "./wasm/abi.js";
import { PreparedSecretKey, isPreparedSecretKey, prepareSecretKey, signPrepared } from "./prepared-secret-key.js";

export { PreparedSecretKey, PREPARED_SECRET_KEY_CAPACITY } from "./prepared-secret-key.js";

interface Ed25519Exports extends CoreExports {
  ed25519_public_key(): void;
  ed25519_sign(msgLen: number): void;
  ed25519_verify(msgLen: number, mode: number): number;
  ed25519_inspect_public_key(): number;
  ed25519_prepare_public_key(hint: number): number;
  ed25519_verify_prepared(msgLen: number, mode: number, hint: number): number;
  ed25519_prepared_free(hint: number): void;
  ed25519_prepared_release(slot: number): void;
  ed25519_verify_batch(count: number, inputBytes: number, mode: number): number;
}

/** Byte lengths (RFC 8032 §5.1.5, §5.1.6). */
export const ED25519_SECRET_KEY_BYTES = 32;
export const ED25519_PUBLIC_KEY_BYTES = 32;
export const ED25519_SIGNATURE_BYTES = 64;
/** Default memory bound of the prepared-key slab (configurePreparedKeys). */
export const ED25519_PREPARED_KEYS_DEFAULT_BYTES = DEFAULT_PREPARED_SLAB_BYTES;

/** Options of verify(). */
export interface VerifyOptions {
  /** Cofactored ZIP-215 rule (@noble/curves default) instead of the dalek/OpenSSL rule. Default false. */
  zip215?: boolean;
}

const core = (): Ed25519Exports => coreExports<Ed25519Exports>();

/**
 * Copies the message into the I/O arena (growing memory if needed); returns its length, read from
 * the view's internal slot (a subclass's `length` getter could name a prefix), and copies exactly
 * that many bytes (copyInto: a view of shared memory may grow meanwhile).
 */
function writeMessage(message: Uint8Array): number {
  const length = viewLength(message);
  if (length > 0) {
    reserveIo(length);
    copyInto(heapU8(), message, ioArenaBase(), length);
  }
  return length;
}

/**
 * Public key of a 32-byte secret key (seed) (RFC 8032 §5.1.5). Constant time.
 * @throws InvalidTypeError if secretKey is not a Uint8Array; InvalidLengthError if not 32 bytes.
 */
function getPublicKey(secretKey: Uint8Array): Uint8Array {
  expectBytes(secretKey, ED25519_SECRET_KEY_BYTES, "secretKey");
  try {
    const x = core();
    const base = argsBase();
    copyInto(heapU8(), secretKey, base + ARG_SECRET, ED25519_SECRET_KEY_BYTES);
    // The core wipes the seed and all intermediates; if the call fails, secretCall zeroes all memory.
    secretCall(x.ed25519_public_key, undefined);
    return copyOfRange(heapU8(), base + ARG_PUBLIC_KEY, base + ARG_PUBLIC_KEY + 32);
  } catch (cause) {
    coreCallInterrupted.set = true; // first, with no call (src/wasm/instance.ts)
    throw contained(cause);
  }
}

/**
 * Deterministic 64-byte signature R || S of message under a 32-byte secret key, or under a
 * PreparedSecretKey from prepareSecretKey (same bytes, one base multiplication fewer) (RFC 8032
 * §5.1.6). Constant time in the secret key.
 * @throws InvalidTypeError if an argument is not a Uint8Array (or PreparedSecretKey); InvalidLengthError
 *   if secretKey is not 32 bytes; PreparedSecretKeyError for a destroyed, lost or corrupted prepared key.
 */
function sign(message: Uint8Array, secretKey: Uint8Array | PreparedSecretKey): Uint8Array {
  if (isPreparedSecretKey(secretKey)) return signPrepared(message, secretKey);
  assertBytes(message, "message");
  expectBytes(secretKey, ED25519_SECRET_KEY_BYTES, "secretKey");
  try {
    const x = core();
    const len = writeMessage(message);
    const base = argsBase();
    copyInto(heapU8(), secretKey, base + ARG_SECRET, ED25519_SECRET_KEY_BYTES);
    secretCall(x.ed25519_sign, len); // wipes every secret, also when the call fails
    return copyOfRange(heapU8(), base + ARG_SIGNATURE, base + ARG_SIGNATURE + 64);
  } catch (cause) {
    coreCallInterrupted.set = true; // first, with no call (src/wasm/instance.ts)
    throw contained(cause);
  }
}

// Module-private access to a PreparedPublicKey's key bytes and slot hint (set by its static block).
let makePrepared: (bytes: Uint8Array, slot: number) => PreparedPublicKey;
let preparedInternals: (key: PreparedPublicKey) => Uint8Array;
let preparedSlot: (key: PreparedPublicKey, slot?: number) => number;

/**
 * What a PreparedPublicKey's collection needs: its key bytes, their identity in livePrepared,
 * and its slot hint, kept apart from the object (a held value that referenced the object would
 * keep it alive).
 */
interface PreparedHome {
  readonly bytes: Uint8Array;
  readonly id: string;
  slot: number;
  /** Counted in livePrepared: from preparation, or from its first verification after free(), until free() or collection. */
  held: boolean;
}

/**
 * PreparedPublicKey objects per key (its 32 bytes in hex) that hold it: made
 * and neither freed nor collected since (a freed object holds it again once a verification
 * prepares it again). Counted only where preparedFinalizer exists to count them down; an entry
 * goes with its last holder.
 */
const livePrepared = new MapAtLoad<string, number>();

/** Counts `home` as a holder of its key (see livePrepared). */
function hold(home: PreparedHome): void {
  if (preparedFinalizer === undefined || home.held) return;
  home.held = true;
  mapSet(livePrepared, home.id, (mapGet(livePrepared, home.id) ?? 0) + 1);
}

/** Stops counting `home` as a holder; returns how many other holders the key has left. */
function letGo(home: PreparedHome): number {
  if (!home.held) return 0;
  home.held = false;
  const left = (mapGet(livePrepared, home.id) ?? 1) - 1;
  if (left > 0) mapSet(livePrepared, home.id, left);
  else mapDelete(livePrepared, home.id);
  return left;
}

/**
 * Releases the slot of a key whose last PreparedPublicKey was collected without free() (review
 * 46, finding 4): the slot keeps the key and its tables, but loses its "prepared on request"
 * mark, so a hot key's promotion may now evict it by LRU (assembly/ed25519/prepared-public.ts
 * prepared_release_vartime). Without this, keys prepared and dropped kept their slots from every
 * hot key until another preparation took them. Nothing is freed outright: callers who prepare a
 * key only to warm the slab still find it by its bytes while it stays hot. While another object
 * of the same key lives the slot keeps its mark (review 50: an exchange rebuilt with the same
 * anchors, or a caller's own short-lived preparation of an anchor key, made the live exchange's
 * anchors evictable, as it verifies by key bytes and never marked them again). It never starts
 * an instance (a rebuilt one lost the slot anyway). Errors are swallowed: a finalizer has nobody
 * to report to, and verdicts never depend on the slab.
 */
const preparedFinalizer = finalizerAtLoad<PreparedHome>((home) => {
  if (!home.held || letGo(home) > 0) return; // freed already, or another object holds the key
  const x = liveCoreExports<Ed25519Exports>();
  if (x === undefined) return;
  try {
    typedArraySet(heapU8(), home.bytes, argsBase() + ARG_PUBLIC_KEY);
    x.ed25519_prepared_release(home.slot);
  } catch (cause) {
    coreCallInterrupted.set = true; // first, with no call (src/wasm/instance.ts)
    contained(cause); // drops the instance, as after any failed call; nothing to throw to (above)
  }
});

/**
 * The one argument that lets PreparedPublicKey's constructor run (assertMadeByFactory), held by
 * this module only: a key built around unchecked bytes would have verify() write them into wasm
 * memory (review 46: any length, over the core's tables, enough to make verify accept forgeries).
 */
const CONSTRUCT_PREPARED = Symbol("PreparedPublicKey");

/**
 * A public key prepared for repeated verification (assembly/ed25519/prepared-public.ts): its
 * decoded point and a precomputed table live in a bounded slab of wasm memory, so verify()
 * with it skips decoding the key and most of the multiplication work. It keeps its own copy of
 * the 32 key bytes (public), so it stays valid whatever happens to its slot: if the slot was
 * given to another key (least recently used eviction), freed, or the wasm instance was rebuilt
 * after a trap, verify prepares it again (when every slot holds another key prepared on request
 * and in use, only once this one is hot: README "Prepared public keys"; it is verified as key
 * bytes meanwhile). Verdicts are exactly those of verify() with the key bytes. Make one with
 * ed25519.preparePublicKey() (the constructor refuses every other caller with InvalidTypeError).
 * Once every object of a key is collected without free(), its slot is left to LRU eviction by hot
 * keys (preparedFinalizer).
 */
export class PreparedPublicKey {
  readonly #bytes: Uint8Array;
  /** The slot hint, in an object of its own that preparedFinalizer holds. */
  readonly #home: PreparedHome;

  private constructor(token: symbol, bytes: Uint8Array) {
    assertMadeByFactory(token, CONSTRUCT_PREPARED, "PreparedPublicKey is made by ed25519.preparePublicKey()");
    this.#bytes = bytes;
    // The id by bytesToHex (indexed reads, nothing looked up in the realm): the
    // `String.fromCharCode.apply(null, bytes)` of before handed these very bytes to whatever caller
    // code had been put at String.fromCharCode, which could rewrite them, and so the key this object
    // verifies under (a stranger's signature was accepted).
    this.#home = { bytes, id: bytesToHex(bytes), slot: -1, held: false };
  }

  static {
    makePrepared = (bytes, slot) => {
      const key = new PreparedPublicKey(CONSTRUCT_PREPARED, bytes);
      key.#home.slot = slot;
      hold(key.#home);
      preparedFinalizer?.register(key, key.#home);
      return key;
    };
    preparedInternals = (key) => key.#bytes;
    preparedSlot = (key, slot) => {
      if (slot !== undefined) {
        key.#home.slot = slot;
        if (slot >= 0 && !key.#home.held) hold(key.#home); // prepared again after free()
      }
      return key.#home.slot;
    };
  }

  /**
   * `instanceof PreparedPublicKey` is a brand check on its private #bytes (brandHasInstance in
   * src/bytes.ts): a Proxy's getPrototypeOf trap could otherwise run caller code after the byte
   * checks, and an impostor would reach the private field.
   */
  static [Symbol.hasInstance](value: unknown): boolean {
    return brandHasInstance(PreparedPublicKey, this, value, PreparedPublicKey.#hasBrand);
  }

  /** The brand test for [Symbol.hasInstance]: one function, where an arrow in its call would be a new closure on every `instanceof`. */
  static #hasBrand(value: object): boolean {
    return #bytes in value;
  }

  /** A copy of the 32 public-key bytes, exactly as given to preparePublicKey. */
  get publicKey(): Uint8Array {
    return copyOfBytes(this.#bytes); // not slice: a replaced one would be handed the key
  }

  /**
   * Releases the key's slot in wasm memory now, unless another PreparedPublicKey of the same key
   * still holds it (otherwise the slot goes when evicted; once every object of the key is
   * collected, hot keys may evict it too). The object stays usable: a later verify prepares it
   * again.
   */
  free(): void {
    const slot = this.#home.slot;
    const held = this.#home.held;
    this.#home.slot = -1;
    // Another object of the same key that is in use (a handshake exchange's, say) keeps the slot
    // (review 51: freeing a short-lived copy of an anchor's key emptied the exchange's slot). An
    // object that held the key without a slot of its own (made while the slab was off, or last
    // verified while every slot held another key prepared on request) still frees the key's slot
    // if another object prepared it since: the core then finds it by a scan (review 94 F1).
    if (letGo(this.#home) > 0 || (slot < 0 && !held)) return;
    guarded(() => {
      // No instance, no slot: one rebuilt after a trap lost it, so none is started for this
      // (review 90 F2, as PreparedSecretKey.destroy and the finalizer do).
      const x = liveCoreExports<Ed25519Exports>();
      if (x === undefined) return;
      typedArraySet(heapU8(), this.#bytes, argsBase() + ARG_PUBLIC_KEY);
      x.ed25519_prepared_free(slot); // the slot, or wherever the key moved since (a scan)
    });
  }
}
hardenClass(PreparedPublicKey); // its statics, methods and brand check stay its own: see hardenClass

/**
 * Prepares a 32-byte public key for repeated verification. Accepts every key that verify()
 * accepts as a key (y taken mod p, small-order and mixed-order points included).
 * @throws InvalidTypeError / InvalidLengthError on wrong type or length; InvalidPublicKeyError
 * if the bytes do not decode as a curve point (verify() with those bytes returns false).
 */
function preparePublicKey(publicKey: Uint8Array): PreparedPublicKey {
  expectBytes(publicKey, ED25519_PUBLIC_KEY_BYTES, "publicKey");
  // A plain copy (never a Buffer, whose slice() is a view), by the constructor captured at load:
  // one the realm's global `Uint8Array` was replaced by since would keep this object's key bytes,
  // and could rewrite them into a stranger's key (hunt 22).
  const bytes = newBytes(ED25519_PUBLIC_KEY_BYTES);
  copyInto(bytes, publicKey, 0, ED25519_PUBLIC_KEY_BYTES);
  const slot = guarded(() => {
    const x = core();
    typedArraySet(heapU8(), bytes, argsBase() + ARG_PUBLIC_KEY);
    return x.ed25519_prepare_public_key(-1);
  });
  if (slot === PREPARED_NOT_A_POINT) throw new InvalidPublicKeyError("publicKey does not decode as an Ed25519 point");
  return makePrepared(bytes, slot);
}

/** Options of configurePreparedKeys(). */
export interface PreparedKeysOptions {
  /**
   * Bytes of wasm memory for prepared keys (the shared base-point table plus one slot per key,
   * about 33 KB each); 0 turns prepared keys off (verify then takes the plain path, with the
   * same verdicts). Default 640 KiB (19 keys). At most 256 MiB.
   */
  maxBytes: number;
}

const MAX_PREPARED_BYTES = 256 * 1024 * 1024;
const PREPARED_KEYS_OPTION_KEYS = ["maxBytes"] as const;

/**
 * Sets the memory bound of the prepared-key slab (explicitly prepared keys and hot keys that
 * verify prepares by itself share it, least recently used first out). Drops every prepared
 * key; PreparedPublicKey objects re-prepare on next use. Returns the number of keys that fit.
 * @throws InvalidTypeError if options or maxBytes is malformed; WasmCoreError WASM_OUT_OF_MEMORY
 *   if memory cannot grow that far (the previous layout and its keys stay; as the first call, the
 *   default layout, as if it had not been called).
 */
function configurePreparedKeys(options: PreparedKeysOptions): { maxBytes: number; slots: number } {
  if (options === null || typeof options !== "object") throw new InvalidTypeError("options must be an object");
  const maxBytes = readOptions(options, PREPARED_KEYS_OPTION_KEYS).maxBytes;
  if (typeof maxBytes !== "number" || !Number.isSafeInteger(maxBytes) || maxBytes < 0 || maxBytes > MAX_PREPARED_BYTES) {
    throw new InvalidTypeError(`options.maxBytes must be an integer in 0 … ${MAX_PREPARED_BYTES}`);
  }
  guarded(() => setPreparedSlabBytes(maxBytes));
  return preparedSlabLayout();
}

/** The current bound (bytes) and how many prepared keys fit in it; 0 and 0 when the instance had no memory for even the default slab. */
function preparedKeysLayout(): { maxBytes: number; slots: number } {
  return preparedSlabLayout();
}

/**
 * Checks a 64-byte signature of message under a 32-byte public key (RFC 8032 §5.1.7, chio
 * rule; see the file header). Returns false for any well-formed but invalid input (including
 * S >= L and keys that do not decode). Variable time (public inputs).
 * @throws InvalidTypeError / InvalidLengthError on wrong argument types or lengths.
 */
function verify(
  signature: Uint8Array,
  message: Uint8Array,
  publicKey: Uint8Array | PreparedPublicKey,
  options?: VerifyOptions,
): boolean {
  // The options first (their getters may run caller code), then the bytes: nothing the caller
  // controls runs between the checks and the copy into wasm memory.
  const zip215 = zip215Option(options);
  expectBytes(signature, ED25519_SIGNATURE_BYTES, "signature");
  assertBytes(message, "message");
  const prepared = publicKey instanceof PreparedPublicKey ? publicKey : undefined; // a brand check: see the class
  if (prepared === undefined) expectBytes(publicKey as Uint8Array, ED25519_PUBLIC_KEY_BYTES, "publicKey");
  try {
    const x = core();
    const len = writeMessage(message);
    const heap = heapU8();
    const base = argsBase();
    copyInto(heap, signature, base + ARG_SIGNATURE, ED25519_SIGNATURE_BYTES);
    const mode = zip215 ? VERIFY_MODE_ZIP215 : 0;
    if (prepared === undefined) {
      copyInto(heap, publicKey as Uint8Array, base + ARG_PUBLIC_KEY, ED25519_PUBLIC_KEY_BYTES);
      return x.ed25519_verify(len, mode) === 1;
    }
    typedArraySet(heap, preparedInternals(prepared), base + ARG_PUBLIC_KEY);
    const verdict = x.ed25519_verify_prepared(len, mode, preparedSlot(prepared)) === 1;
    const at = base + ARG_RESULT + PREPARED_RESULT_SLOT; // i32 LE, read without allocating a view
    preparedSlot(prepared, heap[at] | (heap[at + 1] << 8) | (heap[at + 2] << 16) | (heap[at + 3] << 24));
    return verdict;
  } catch (cause) {
    coreCallInterrupted.set = true; // first, with no call (src/wasm/instance.ts)
    throw contained(cause);
  }
}

/**
 * The zip215 flag of verify()/verifyBatch() options, read once (the pool reads its calls' own,
 * which may carry a signal too, with readOptions: src/pool/index.ts poolVerifyOptions). This is
 * the per-signature path, which allocates nothing (test/node/js-allocation.test.ts), so it does
 * not go through readOptions (which builds an array and a record per call): a for-in over the
 * object's own members finds an unknown one (a misspelt `zip251`) without allocating, as V8
 * enumerates an ordinary object's keys from its shape's cache. A member other than `zip215`, a
 * throwing getter or Proxy trap, or a non-boolean, is InvalidTypeError (review 59 F6).
 */
function zip215Option(options: VerifyOptions | undefined): boolean {
  if (options === undefined) return false;
  if (options === null || typeof options !== "object") throw new InvalidTypeError("options must be an object");
  let zip215: unknown;
  let unknown: string | undefined;
  try {
    // Own enumerable string keys, as readSettings' Object.keys sees them (inherited ones are
    // not members of the object the caller wrote), and zip215 as readSettings reads options
    // (memberOf): an Object.prototype.zip215 = true set by any code in the realm must not switch
    // every call that passes `{}` to the ZIP-215 rules (review 84 F1).
    for (const key in options) {
      if (key !== "zip215" && isEnumerableOwnMember(options, key)) {
        unknown = key;
        break;
      }
    }
    zip215 = memberOf(options, "zip215");
  } catch (cause) {
    throw new InvalidTypeError("options cannot be read", { cause });
  }
  if (unknown !== undefined) throw new InvalidTypeError(`options has an unknown member ${JSON.stringify(unknown.slice(0, 60))} (known: zip215)`);
  if (zip215 !== undefined && typeof zip215 !== "boolean") throw new InvalidTypeError("options.zip215 must be a boolean");
  return zip215 === true;
}

/** One signature to check in verifyBatch(). */
export interface VerifyBatchItem {
  /** 64 bytes R || S. */
  signature: Uint8Array;
  message: Uint8Array;
  /** 32 key bytes, or a PreparedPublicKey (see publicKeyArgumentBytes). */
  publicKey: Uint8Array | PreparedPublicKey;
}

/**
 * @internal The 32 key bytes of a publicKey argument: the bytes themselves (checked: type, 32
 * bytes; not copied), or those a PreparedPublicKey was made from (its own copy: do not hand it
 * out). The batch core finds a prepared key's decoded point and torsion class by these bytes in
 * the prepared slab or the batch key cache (assembly/ed25519/batch.ts), and the worker pool
 * sends them to its workers (src/pool/index.ts).
 * @throws InvalidTypeError / InvalidLengthError naming `name`.
 */
export function publicKeyArgumentBytes(publicKey: unknown, name: string): Uint8Array {
  if (publicKey instanceof PreparedPublicKey) return preparedInternals(publicKey); // a brand check: see the class
  return expectBytes(publicKey, ED25519_PUBLIC_KEY_BYTES, name);
}

/** Reused buffer for the random coefficients of one chunk (16 bytes per item); replaced if detached (fillBatchRandom). */
let batchRandom: Uint8Array = new Uint8Array(16 * BATCH_MAX_ITEMS);
/** The message lengths of the chunk runBatchChunk is writing, measured once. */
const batchMessageLengths = new Float64Array(BATCH_MAX_ITEMS);

/** 16 bytes per item from globalThis.crypto.getRandomValues into batchRandom (never derived from the inputs). */
function fillBatchRandom(count: number): void {
  // getRandomValues (caller code) is handed a view of this buffer and may detach it, in this call
  // or keeping the view for later: that left every later batch a TypeError for good (hunt 24).
  if (isUnreadableView(batchRandom)) batchRandom = newBytes(16 * BATCH_MAX_ITEMS);
  fillRandomBytes(subview(batchRandom, 0, 16 * count)); // not the realm's subarray, which caller code can replace (hunt 19)
}

/**
 * The checked fields of a batch, index for index; keys as bytes (a PreparedPublicKey's own copy).
 * Lists of the library's own (ownList): a list written between the checks and the copy must not
 * reach an accessor on Array.prototype, which could run there or answer an unchecked value.
 */
export interface BatchFields {
  signatures: OwnList<Uint8Array>;
  messages: OwnList<Uint8Array>;
  publicKeys: OwnList<Uint8Array>;
}

/** memberOf of a batch item, or InvalidTypeError naming `items[index].key` when reading it throws (see elementOf), the name built only then. */
function batchItemMember(item: object, key: string, index: number): unknown {
  try {
    return memberOf(item, key);
  } catch (cause) {
    throw new InvalidTypeError(`items[${index}].${key} cannot be read`, { cause });
  }
}

/**
 * The checks of batch item `index`'s fields (expectBytes, assertBytes, publicKeyArgumentBytes),
 * the key as bytes; each field's name (`items[index].signature`, …) built only for its error.
 */
function checkBatchItem(signature: unknown, message: unknown, key: unknown, index: number): Uint8Array {
  if (!isReadableBytes(signature, ED25519_SIGNATURE_BYTES)) expectBytes(signature, ED25519_SIGNATURE_BYTES, `items[${index}].signature`);
  if (!isReadableBytes(message, -1)) assertBytes(message, `items[${index}].message`);
  if (key instanceof PreparedPublicKey) return preparedInternals(key); // a brand check: see the class
  if (isReadableBytes(key, ED25519_PUBLIC_KEY_BYTES)) return key as Uint8Array;
  return publicKeyArgumentBytes(key, `items[${index}].publicKey`);
}

/**
 * @internal Reads and checks the items of verifyBatch (and of the worker pool's verifyBatch,
 * src/pool/index.ts): every field is read once (getters and Proxies run here) and checked as it
 * is read, then every value is checked again once all are read (a later getter may have detached
 * an earlier view). The batch checks each chunk's values again after drawing its random bytes
 * (getRandomValues may be caller code), so none runs between those checks and the copy.
 * @throws InvalidTypeError / InvalidLengthError naming the item's index.
 */
export function readBatchItems(items: readonly VerifyBatchItem[]): BatchFields {
  const count = arrayArgumentLength(items, "items");
  const signatures = ownList<unknown>(count);
  const messages = ownList<unknown>(count);
  const keys = ownList<unknown>(count);
  for (let i = 0; i < count; i++) {
    // A read that throws (a getter, a Proxy's trap, a revoked Proxy) is INVALID_TYPE naming it.
    const item: unknown = elementOf(items, i, "items");
    if (item === null || typeof item !== "object") throw new InvalidTypeError(`items[${i}] must be an object`);
    // memberOf: an item without a publicKey does not take Object.prototype.publicKey (review 85).
    signatures[i] = batchItemMember(item, "signature", i);
    messages[i] = batchItemMember(item, "message", i);
    keys[i] = batchItemMember(item, "publicKey", i);
    // Checked as read too (and again below, once every getter has run): a list that claims
    // billions of items (a Proxy's length) fails at its first bad item, instead of after every
    // item was read into these lists, which ran the process out of memory (as review 84 F2 for
    // the envelope batch's list). In both loops the tests come first and the throwing checks,
    // which build the item's name, run only when one fails: this is verifyBatch's per-item path,
    // and naming every field of every item as it was read cost about 180 bytes per item (review 165).
    checkBatchItem(signatures[i], messages[i], keys[i], i);
  }
  const publicKeys = ownList<Uint8Array>(count);
  for (let i = 0; i < count; i++) {
    publicKeys[i] = checkBatchItem(signatures[i], messages[i], keys[i], i);
  }
  return { signatures: signatures as OwnList<Uint8Array>, messages: messages as OwnList<Uint8Array>, publicKeys };
}

/**
 * Checks many signatures at once: one boolean per item, each equal to
 * `verify(item.signature, item.message, item.publicKey, options)` in both modes, whatever the
 * inputs (README "Batch verification": exact, not a cofactored approximation). Items are
 * combined with random coefficients, each from a set of at least 2^128 values (drawn in the core
 * from 16 bytes per item from globalThis.crypto.getRandomValues, hashed with a digest of the
 * chunk's items, so a broken random source cannot zero or repeat them, nor let forgeries be
 * searched for item by item) in chunks of BATCH_MAX_ITEMS items
 * and at most BATCH_INPUT_BUDGET message bytes (one larger message goes alone), with the key
 * terms of repeated keys merged; when a chunk's combined check fails, the single verifier
 * answers each of its items. When WebAssembly memory cannot grow for a chunk, the chunk is
 * halved, down to one item, which then goes to verify(). An empty batch gives []. Variable time
 * (public inputs).
 * @throws InvalidTypeError if items is not an array or an item is not an object with Uint8Array
 *   fields; InvalidLengthError on a wrong signature/key length (the message names the item's index)
 *   or on more than MAX_VERIFY_BATCH_ITEMS items (src/bytes.ts; before any item is read);
 *   WasmCoreError WASM_OUT_OF_MEMORY where verify() of an item throws it (its message does not fit);
 *   RandomSourceError where the host has no globalThis.crypto.getRandomValues (checked before any work).
 */
function verifyBatch(items: readonly VerifyBatchItem[], options?: VerifyOptions): boolean[] {
  const zip215 = zip215Option(options);
  const fields = readBatchItems(items);
  const count = fields.signatures.length;
  // Filled as an OwnList and handed out as an Array: its writes come after the copy, but an
  // accessor on Array.prototype could still swallow a verdict and answer another.
  const results = ownList<boolean>(count);
  if (count === 0) return ownListAsArray(results);
  fillBatchRandom(0); // fails early (before any work) where there is no CSPRNG
  const mode = zip215 ? VERIFY_MODE_ZIP215 : 0;
  for (let start = 0; start < count; ) {
    // As many items as one call takes; when memory cannot grow for them (the call also needs a
    // fixed scratch area), half as many; one item that still does not fit is checked by verify()
    // itself, which needs memory only for its message: the same answer, or the same
    // WASM_OUT_OF_MEMORY, as verify.
    // Comparisons and shifts, not Math.min and Math.ceil: n decides how many records are written
    // into wasm memory, and Math is replaceable by caller code (review 73 F2).
    let n = count - start < BATCH_MAX_ITEMS ? count - start : BATCH_MAX_ITEMS;
    // ...and as many messages as BATCH_INPUT_BUDGET allows (at least one): memory grown for a call
    // is never given back, so 256 large messages would keep it that large (review-35).
    let messageBytes = viewLength(fields.messages[start]);
    for (let k = 1; k < n; k++) {
      messageBytes += viewLength(fields.messages[start + k]);
      if (messageBytes > BATCH_INPUT_BUDGET) n = k;
    }
    while (!runBatchChunk(fields, start, n, mode, results)) {
      if (n === 1) {
        results[start] = verify(fields.signatures[start], fields.messages[start], fields.publicKeys[start], { zip215: mode === VERIFY_MODE_ZIP215 });
        break;
      }
      n = (n + 1) >>> 1;
    }
    start += n;
  }
  return ownListAsArray(results);
}

/**
 * One ed25519_verify_batch call over items [start, start + n), answers into results; false
 * (nothing written) if memory cannot grow for it.
 */
function runBatchChunk(fields: BatchFields, start: number, n: number, mode: number, results: OwnList<boolean>): boolean {
  const { signatures, messages, publicKeys: keys } = fields;
  try {
    fillBatchRandom(n);
    // crypto.getRandomValues is caller code (a shim may replace it) and ran after readBatchItems'
    // checks: check this chunk's values again, so none was detached or resized unseen before its
    // bytes are copied into wasm memory below (no caller code runs in between).
    // Each message is measured once, here: the records and the copies below use that length (a
    // view of shared memory another thread grows would otherwise read longer at the copy).
    let inputBytes = n * BATCH_ITEM_BYTES;
    for (let t = 0; t < n; t++) {
      const i = start + t;
      if (!isReadableBytes(signatures[i], ED25519_SIGNATURE_BYTES)) expectBytes(signatures[i], ED25519_SIGNATURE_BYTES, `items[${i}].signature`);
      if (!isReadableBytes(keys[i], ED25519_PUBLIC_KEY_BYTES)) expectBytes(keys[i], ED25519_PUBLIC_KEY_BYTES, `items[${i}].publicKey`);
      if (!isReadableBytes(messages[i], -1)) assertBytes(messages[i], `items[${i}].message`);
      batchMessageLengths[t] = viewLength(messages[i]);
      inputBytes += batchMessageLengths[t];
    }
    return guarded(() => {
      const x = core();
      try {
        reserveIo(inputBytes);
      } catch (error) {
        if (isInstanceOf(WasmCoreError, error) && error.code === "WASM_OUT_OF_MEMORY") return false; // no Symbol.hasInstance looked up (review 98)
        throw error;
      }
      const heap = heapU8();
      const base = ioArenaBase();
      let messageAt = n * BATCH_ITEM_BYTES;
      for (let t = 0; t < n; t++) {
        const record = base + t * BATCH_ITEM_BYTES;
        const message = messages[start + t];
        const messageLength = batchMessageLengths[t];
        copyInto(heap, keys[start + t], record + BATCH_ITEM_PUBLIC_KEY, ED25519_PUBLIC_KEY_BYTES);
        copyInto(heap, signatures[start + t], record + BATCH_ITEM_SIGNATURE, ED25519_SIGNATURE_BYTES);
        typedArraySet(heap, subview(batchRandom, 16 * t, 16 * t + 16), record + BATCH_ITEM_RANDOM);
        writeU32(heap, record + BATCH_ITEM_MESSAGE_OFFSET, messageAt);
        writeU32(heap, record + BATCH_ITEM_MESSAGE_LENGTH, messageLength);
        copyInto(heap, message, base + messageAt, messageLength);
        messageAt += messageLength;
      }
      const status = x.ed25519_verify_batch(n, inputBytes, mode);
      if (status === BATCH_OUT_OF_MEMORY) return false;
      if (status !== BATCH_DONE) throw new WasmCoreError("WASM_TRAP", `batch verification refused its input (status ${status})`);
      const after = heapU8(); // the call may have grown memory (a new buffer)
      for (let t = 0; t < n; t++) results[start + t] = after[base + t * BATCH_ITEM_BYTES + BATCH_ITEM_RESULT] === 1;
      return true;
    });
  } finally {
    // This copy is not kept; the core's stays until later calls overwrite it (worthless by then).
    // The captured fill: the realm's would run caller code inside the call (hunt 19). Not over a
    // buffer getRandomValues detached: that TypeError would replace its RandomSourceError.
    if (!isUnreadableView(batchRandom)) typedArrayFill(batchRandom, 0, 0, 16 * n);
  }
}

function inspect(publicKey: Uint8Array): number {
  expectBytes(publicKey, ED25519_PUBLIC_KEY_BYTES, "publicKey");
  try {
    const x = core();
    copyInto(heapU8(), publicKey, argsBase() + ARG_PUBLIC_KEY, ED25519_PUBLIC_KEY_BYTES);
    return x.ed25519_inspect_public_key();
  } catch (cause) {
    coreCallInterrupted.set = true; // first, with no call (src/wasm/instance.ts)
    throw contained(cause);
  }
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

/**
 * A 32-byte secret key: `seed` itself (copied) when given, as @noble/ed25519 3.x does, otherwise
 * 32 bytes from globalThis.crypto.getRandomValues.
 * @throws InvalidTypeError / InvalidLengthError if seed is given and is not 32 bytes;
 *   RandomSourceError without seed where the host has no globalThis.crypto.getRandomValues, or
 *   one that left the array all zeros (freshRandomBytes).
 */
function randomSecretKey(seed?: Uint8Array): Uint8Array {
  if (seed !== undefined) return copyBytes(seed, "seed", ED25519_SECRET_KEY_BYTES);
  return freshRandomBytes(ED25519_SECRET_KEY_BYTES); // not the realm's Uint8Array, which could keep the secret (hunt 22); never all zeros
}

/** A key pair from randomSecretKey(seed) (the seed, when given, is the secret key). */
function keygen(seed?: Uint8Array): { secretKey: Uint8Array; publicKey: Uint8Array } {
  const secretKey = randomSecretKey(seed);
  return { secretKey, publicKey: getPublicKey(secretKey) };
}

/** Group order L (RFC 8032 §5.1). */
const GROUP_ORDER = 0x1000000000000000000000000000000014def9dea2f79cd65812631a5cf5d3edn;

/** The expanded secret key of RFC 8032 §5.1.5: these are secrets (except pointBytes); wipe them after use. */
export interface ExtendedSecretKey {
  /** Clamped first half of SHA-512(seed). */
  head: Uint8Array;
  /** Second half of SHA-512(seed), the nonce prefix. */
  prefix: Uint8Array;
  /** head as a little-endian integer, reduced mod L. */
  scalar: bigint;
  /** The 32-byte public key. */
  pointBytes: Uint8Array;
}

/**
 * RFC 8032 §5.1.5 key expansion. The digest comes from the wasm SHA-512 (which wipes its memory);
 * the BigInt scalar is not constant time and cannot be wiped: call it only where the caller needs
 * the scalar itself.
 */
function getExtendedPublicKey(secretKey: Uint8Array): ExtendedSecretKey {
  // One private copy for both reads (the hash and the public key): two reads of the caller's
  // bytes could see two seeds (shared memory another thread writes), and return one seed's
  // scalar with another's public key, the pair that gives the scalar away (review 42).
  const seed = copyBytes(secretKey, "secretKey", ED25519_SECRET_KEY_BYTES);
  try {
    const hashed = sha512Digest(seed);
    const head = copyOfRange(hashed, 0, 32);
    const prefix = copyOfRange(hashed, 32, 64);
    wipeBytes(hashed);
    head[0] &= 248; // clamp (RFC 8032 §5.1.5 step 2)
    head[31] &= 127;
    head[31] |= 64;
    let scalar = 0n;
    // toBigInt, BigInt as captured at load: the realm's global, replaced after load, was handed
    // every byte of the clamped scalar, the secret itself (hunt 22).
    for (let i = 31; i >= 0; i--) scalar = (scalar << 8n) | toBigInt(head[i]);
    return { head, prefix, scalar: scalar % GROUP_ORDER, pointBytes: getPublicKey(seed) };
  } finally {
    wipeBytes(seed);
  }
}

/** True for a readable 32-byte Uint8Array (every 32 bytes are a valid seed). Never throws. */
function isValidSecretKey(secretKey: unknown): boolean {
  return isUint8Array(secretKey) && !isUnreadableView(secretKey) && viewLength(secretKey) === ED25519_SECRET_KEY_BYTES;
}

/**
 * True if the 32 bytes are the canonical encoding of their point (RFC 8032 §5.1.3): y < p, and not
 * x = 0 with the sign bit set. x = 0 only for y = 1 and y = p - 1, so that test needs no decoding.
 * Says nothing about whether the bytes decode at all. Variable time (public inputs).
 */
export function isCanonicalPointEncoding_vartime(bytes: Uint8Array): boolean {
  // y < p = 2^255 - 19: with the sign bit cleared, y >= p only if bytes 1..30 are all 0xff, the
  // top byte is 0x7f and the low byte is >= 0xed.
  let high = (bytes[31] & 0x7f) === 0x7f && bytes[0] >= 0xed;
  for (let i = 1; high && i < 31; i++) high = bytes[i] === 0xff;
  if (high) return false;
  if ((bytes[31] & 0x80) === 0) return true;
  // Sign bit set: refuse y = 1 (01 00..00 80) and y = p - 1 (ec ff..ff ff).
  let yIsOne = bytes[0] === 1 && bytes[31] === 0x80;
  for (let i = 1; yIsOne && i < 31; i++) yIsOne = bytes[i] === 0;
  let yIsMinusOne = bytes[0] === 0xec && bytes[31] === 0xff;
  for (let i = 1; yIsMinusOne && i < 31; i++) yIsMinusOne = bytes[i] === 0xff;
  return !yIsOne && !yIsMinusOne;
}

/**
 * utils.isValidPublicKey of @noble/curves: true if the bytes decode to a curve point; with
 * `zip215: false` the encoding must also be canonical. Never throws (false for non-bytes).
 */
function utilsIsValidPublicKey(publicKey: unknown, zip215?: boolean): boolean {
  if (!isUint8Array(publicKey) || isUnreadableView(publicKey) || viewLength(publicKey) !== ED25519_PUBLIC_KEY_BYTES) return false;
  if (zip215 === false && !isCanonicalPointEncoding_vartime(publicKey)) return false;
  return inspect(publicKey) !== INSPECT_NOT_A_POINT;
}

/** Ed25519 with the @noble/ed25519 v3 call shapes. The async twins give the same results. */
export const ed25519 = {
  getPublicKey,
  sign,
  verify,
  verifyBatch,
  getPublicKeyAsync: async (secretKey: Uint8Array): Promise<Uint8Array> => getPublicKey(secretKey),
  signAsync: async (message: Uint8Array, secretKey: Uint8Array | PreparedSecretKey): Promise<Uint8Array> => sign(message, secretKey),
  /** Expands a 32-byte seed once into wasm memory; sign() accepts the result (src/prepared-secret-key.ts). */
  prepareSecretKey,
  preparePublicKey,
  configurePreparedKeys,
  preparedKeysLayout,
  verifyAsync: async (
    signature: Uint8Array,
    message: Uint8Array,
    publicKey: Uint8Array | PreparedPublicKey,
    options?: VerifyOptions,
  ): Promise<boolean> => verify(signature, message, publicKey, options),
  keygen,
  keygenAsync: async (seed?: Uint8Array): Promise<{ secretKey: Uint8Array; publicKey: Uint8Array }> => keygen(seed),
  utils: { randomSecretKey, getExtendedPublicKey, isValidSecretKey, isValidPublicKey: utilsIsValidPublicKey },
  verifyBatchAsync: async (items: readonly VerifyBatchItem[], options?: VerifyOptions): Promise<boolean[]> =>
    verifyBatch(items, options),
} as const;
// Frozen, with its utils, as the classes are (hardenClass): the library calls through this object
// (PublicKey#verify, the drop-ins' verify and sign), and a replaced member there passed bad
// signatures and was handed secret seeds (helper 148).
Object.freeze(ed25519.utils);
Object.freeze(ed25519);
