// Prepared Ed25519 secret keys: the seed is expanded (RFC 8032 §5.1.5) and its public key
// derived once, into a slot of the wasm core's slab (assembly/ed25519/prepared-secret.ts),
// the way node's KeyObject holds a private key. Signing under a prepared key then pays one
// base multiplication per signature instead of two, with no seed hashing.
//
// What JS holds: a slot index, the slot's generation, the instance epoch, and the public key
// (public). The expanded secret exists only in wasm linear memory; the seed passes through
// the ARGS block within one synchronous call and the core wipes it before returning (or, if the
// call fails, secretCall zeroes all of linear memory).
//
// Life cycle:
//  * destroy() zeroes the slot (idempotent); later use throws KEY_DESTROYED.
//  * A key garbage-collected without destroy() has its slot zeroed and freed by a
//    FinalizationRegistry, so slots do not leak (the wipe happens when the engine runs the
//    callback, some time after the key became unreachable; call destroy() for a prompt wipe).
//  * The slab has PREPARED_SECRET_SLOTS slots (512 × 112 bytes = 56 KiB); preparing one more
//    throws PREPARED_KEYS_EXHAUSTED. Nothing is ever evicted: dropping a caller's secret
//    silently would break it later, far from the cause.
//  * When the instance is rebuilt after a trap (src/wasm/instance.ts zeroes the old memory, every
//    slot included), prepared keys are NOT carried over: using one throws PREPARED_KEY_LOST.
//    A trap means the module's state can no longer be trusted, and copying secrets out of it
//    would both trust that state and put the secrets in JS-visible memory, if only for a moment.
//    Callers that can re-prepare (Keypair, which keeps its seed for seedBytes()) do so.
import { hardenClass, assertBytes, bytesToHex, copyInto, copyOfBytes, copyOfRange, expectBytes, typedArrayFill, typedArraySet, viewLength } from "./bytes.js";
import { assertMadeByFactory, PreparedSecretKeyError } from "./errors.js";
import { finalizerAtLoad } from "./collections.js";
import { argsBase, coreCallInterrupted, coreExports, contained, guarded, heapU8, ioArenaBase, liveCoreExports, reserveIo, secretCall, type CoreExports } from "./wasm/instance.js";
import { ARG_PUBLIC_KEY, ARG_SECRET, ARG_SIGNATURE, PREPARED_CORRUPTED, PREPARED_OK, PREPARED_SECRET_SLOTS } from "./wasm/abi.js";

interface PreparedExports extends CoreExports {
  ed25519_prepare_secret(slot: number): number;
  ed25519_sign_prepared(slot: number, msgLen: number): number;
  ed25519_destroy_prepared(slot: number): void;
}

/** Number of prepared secret keys that can be live at once (the wasm slab's slot count). */
export const PREPARED_SECRET_KEY_CAPACITY = PREPARED_SECRET_SLOTS;

const core = (): PreparedExports => coreExports<PreparedExports>();

// Slot bookkeeping for the slab of the current instance. `epoch` changes whenever the instance
// (recognised by its Memory object) changes: every slot of the new instance is free, and every
// handle of an older epoch is lost.
let slabMemory: WebAssembly.Memory | undefined;
let epoch = 0;
const generations = new Uint32Array(PREPARED_SECRET_SLOTS);
// Number.isInteger as this module loaded: signPrepared asks ownsSlot between its message's check
// and its copy, where a replacement could detach the message (review 99: it signed the empty one).
const isInteger = Number.isInteger;
// The free slots, as a stack: freeSlotStack[0 … freeSlotCount), the top last. A typed array and a
// count, not an Array: its `push` and `pop` are Array.prototype's, which caller code can replace
// (or take the writes through an accessor for an index there), and a replaced `push` that
// listed a slot twice gave two prepared keys one slot.
const freeSlotStack = new Uint32Array(PREPARED_SECRET_SLOTS);
let freeSlotCount = 0;

/** The live instance's exports, after resetting the bookkeeping if the instance changed. */
function currentSlab(): PreparedExports {
  const x = core();
  if (x.memory !== slabMemory) {
    slabMemory = x.memory;
    epoch++;
    typedArrayFill(generations as unknown as Uint8Array, 0);
    freeSlotCount = 0;
    for (let slot = PREPARED_SECRET_SLOTS - 1; slot >= 0; slot--) freeSlotStack[freeSlotCount++] = slot; // slot 0 on top
  }
  return x;
}

interface SlotRef {
  readonly epoch: number;
  readonly slot: number;
  readonly generation: number;
}

/** True if `ref` names a slot of the slab and still owns it in the live instance. */
function ownsSlot(ref: SlotRef): boolean {
  // Refs are made here only (the constructor below refuses other callers); the range check keeps
  // a slot outside the slab off the free list whatever a ref holds (review 46).
  return isInteger(ref.slot) && ref.slot >= 0 && ref.slot < PREPARED_SECRET_SLOTS && ref.epoch === epoch && generations[ref.slot] === ref.generation;
}

/**
 * Zeroes and frees the slot if `ref` still owns it in the live instance; false if it did not.
 * Never starts an instance: with none live, or another than the slab's, the slot went with the
 * memory it was in (zeroed when that instance was dropped; review 70 F5).
 */
function releaseSlot(ref: SlotRef): boolean {
  const x = liveCoreExports<PreparedExports>();
  if (x === undefined || x.memory !== slabMemory || !ownsSlot(ref)) return false;
  guarded(() => x.ed25519_destroy_prepared(ref.slot));
  generations[ref.slot] = (generations[ref.slot] + 1) >>> 0;
  freeSlotStack[freeSlotCount++] = ref.slot; // ownsSlot held: the slot was taken, so it is not in the stack
  return true;
}

// register and unregister as they were at load (finalizerAtLoad): a replaced one was handed each
// key's SlotRef, which it could point at another key's slot.
const finalizer = finalizerAtLoad<SlotRef>((ref) => {
  try {
    releaseSlot(ref);
  } catch {
    // nothing to report to: a failed wipe here means the instance was dropped (and zeroed)
  }
});

// Arguments of the wasm calls made through secretCall, kept in module variables so that a call
// allocates no closure.
let pendingSlot = 0;
const prepareCall = (slot: number): number => core().ed25519_prepare_secret(slot);
const signCall = (len: number): number => core().ed25519_sign_prepared(pendingSlot, len);

// Module-private doors into PreparedSecretKey, set by its static block.
let makePrepared: (ref: SlotRef, publicKey: Uint8Array) => PreparedSecretKey;
let isPrepared: (value: unknown) => value is PreparedSecretKey;
let usableRef: (key: PreparedSecretKey) => SlotRef;
let markDestroyed: (key: PreparedSecretKey) => void;
let publicKeyOf: (key: PreparedSecretKey) => Uint8Array;

/**
 * The one argument that lets PreparedSecretKey's constructor run (assertMadeByFactory), held by
 * this module only: a handle built from outside with a guessed slot, epoch and generation (small
 * integers) and the victim's public key would sign with another component's key or have its slot
 * wiped (review 46).
 */
const CONSTRUCT_PREPARED = Symbol("PreparedSecretKey");

/**
 * An Ed25519 secret key prepared in the wasm core (see the file header). Sign with
 * `ed25519.sign(message, key)`; wipe with `destroy()`. The secret never appears in JS. Made by
 * `ed25519.prepareSecretKey()` only: the constructor refuses every other caller with InvalidTypeError.
 */
export class PreparedSecretKey {
  readonly #ref: SlotRef;
  readonly #publicKey: Uint8Array;
  #destroyed = false;

  private constructor(token: symbol, ref: SlotRef, publicKey: Uint8Array) {
    assertMadeByFactory(token, CONSTRUCT_PREPARED, "PreparedSecretKey is made by ed25519.prepareSecretKey()");
    this.#ref = ref;
    this.#publicKey = publicKey;
  }

  static {
    makePrepared = (ref, publicKey) => new PreparedSecretKey(CONSTRUCT_PREPARED, ref, publicKey);
    isPrepared = (value): value is PreparedSecretKey => typeof value === "object" && value !== null && #ref in value;
    usableRef = (key) => key.#usableRef();
    publicKeyOf = (key) => key.#publicKey;
    markDestroyed = (key) => {
      key.#destroyed = true;
      finalizer?.unregister(key);
    };
  }

  /** A copy of the 32-byte public key (RFC 8032 §5.1.5). Available after destroy() too. */
  get publicKey(): Uint8Array {
    return copyOfBytes(this.#publicKey); // not slice: a replaced one would be handed the key
  }

  /** False after destroy(), after a failed integrity check, or once the instance was rebuilt. */
  get usable(): boolean {
    // Never starts an instance to answer (review 70 F5): with none live, the key is lost.
    const live = liveCoreExports();
    return !this.#destroyed && live !== undefined && live.memory === slabMemory && ownsSlot(this.#ref);
  }

  /** Zeroes the slot in wasm memory and frees it. Idempotent. */
  destroy(): void {
    if (this.#destroyed) return;
    // Released first, marked after: a release that throws before the core is called (the engine's
    // stack all but exhausted) has wiped nothing, and marked destroyed, every later destroy()
    // returned at once, leaving the secret in its slot and the slot taken (hunt 34). A release
    // that throws after that has wiped the slot, or the whole instance (guarded()).
    releaseSlot(this.#ref);
    this.#destroyed = true;
    finalizer?.unregister(this);
  }

  #usableRef(): SlotRef {
    if (this.#destroyed) throw new PreparedSecretKeyError("KEY_DESTROYED", "the prepared secret key was destroyed");
    currentSlab();
    if (!ownsSlot(this.#ref)) {
      throw new PreparedSecretKeyError(
        "PREPARED_KEY_LOST",
        "the prepared secret key was lost when the WebAssembly instance was rebuilt after a failure; prepare it again",
      );
    }
    return this.#ref;
  }

  toJSON(): { publicKey: string } {
    return { publicKey: bytesToHex(this.#publicKey) };
  }

  toString(): string {
    // bytesToHex reads by index: a `for…of` here handed this key's own array to the typed-array
    // iterator, which caller code can replace (it could rewrite the public key the core is told
    // to expect, and the key then signed nothing).
    return `PreparedSecretKey(publicKey=${bytesToHex(this.#publicKey)})`;
  }

  [Symbol.for("nodejs.util.inspect.custom")](): string {
    return this.toString();
  }
}
hardenClass(PreparedSecretKey); // its statics and methods stay its own: see hardenClass


/** True for a PreparedSecretKey made by prepareSecretKey (a Proxy of one is not). */
export function isPreparedSecretKey(value: unknown): value is PreparedSecretKey {
  return isPrepared(value);
}

/**
 * Expands a 32-byte seed into a slot of the wasm core and derives its public key, once.
 * Constant time; the seed is wiped from wasm memory before this returns.
 * @throws InvalidTypeError / InvalidLengthError on a wrong argument;
 *   PreparedSecretKeyError PREPARED_KEYS_EXHAUSTED when all PREPARED_SECRET_KEY_CAPACITY slots are live.
 */
export function prepareSecretKey(seed: Uint8Array): PreparedSecretKey {
  return prepareInSlab(seed, 0)!;
}

/**
 * @internal For Keypair: a prepared key, or undefined (nothing prepared) when no more than
 * `reserve` slots are free. Keypairs are made casually and wait for garbage collection to free
 * their slots, so they leave `reserve` slots to explicit prepareSecretKey callers.
 */
export function prepareSecretKeyIfRoom(seed: Uint8Array, reserve: number): PreparedSecretKey | undefined {
  return prepareInSlab(seed, reserve);
}

function prepareInSlab(seed: Uint8Array, reserve: number): PreparedSecretKey | undefined {
  expectBytes(seed, 32, "seed");
  const x = currentSlab();
  if (reserve > 0 && freeSlotCount <= reserve) return undefined;
  if (freeSlotCount === 0) {
    throw new PreparedSecretKeyError(
      "PREPARED_KEYS_EXHAUSTED",
      `all ${PREPARED_SECRET_SLOTS} prepared secret key slots are in use; destroy() keys no longer needed`,
    );
  }
  const slot = freeSlotStack[--freeSlotCount];
  let status = -1;
  const publicKey = guarded(() => {
    const base = argsBase();
    copyInto(heapU8(), seed, base + ARG_SECRET, 32);
    // The core wipes the seed and all intermediates; if the call fails, secretCall zeroes all memory.
    status = secretCall(prepareCall, slot);
    return copyOfRange(heapU8(), base + ARG_PUBLIC_KEY, base + ARG_PUBLIC_KEY + 32);
  });
  if (status !== PREPARED_OK || x.memory !== slabMemory) {
    // Cannot happen for an index from the free list; fail closed without reusing the slot.
    throw new PreparedSecretKeyError("PREPARED_KEY_CORRUPTED", `preparing slot ${slot} failed (status ${status})`);
  }
  const ref: SlotRef = { epoch, slot, generation: generations[slot] };
  const key = makePrepared(ref, publicKey);
  finalizer?.register(key, ref, key);
  return key;
}

/**
 * RFC 8032 §5.1.6 signature of `message` under a prepared key: the same bytes as signing with
 * its seed. @throws PreparedSecretKeyError KEY_DESTROYED / PREPARED_KEY_LOST /
 * PREPARED_KEY_CORRUPTED (the slot failed its integrity check: it is wiped, nothing is signed).
 */
export function signPrepared(message: Uint8Array, key: PreparedSecretKey): Uint8Array {
  assertBytes(message, "message");
  const ref = usableRef(key);
  const expectedPublicKey = publicKeyOf(key); // written into wasm memory, never handed out
  let status = -1;
  let signature: Uint8Array | undefined;
  try {
    const len = viewLength(message); // the internal slot: copyInto below copies that many bytes
    if (len > 0) {
      reserveIo(len);
      copyInto(heapU8(), message, ioArenaBase(), len);
    }
    const base = argsBase();
    typedArraySet(heapU8(), expectedPublicKey, base + ARG_PUBLIC_KEY); // the core refuses a slot holding another A
    pendingSlot = ref.slot;
    status = secretCall(signCall, len); // wipes every secret intermediate, also when the call fails
    if (status === PREPARED_OK) signature = copyOfRange(heapU8(), base + ARG_SIGNATURE, base + ARG_SIGNATURE + 64);
  } catch (cause) {
    coreCallInterrupted.set = true; // first, with no call (src/wasm/instance.ts)
    throw contained(cause); // guarded()'s handling, without a closure per signature
  }
  if (signature === undefined) {
    // The core wiped the slot; free it and retire the key.
    markDestroyed(key);
    releaseSlot(ref);
    throw new PreparedSecretKeyError(
      status === PREPARED_CORRUPTED ? "PREPARED_KEY_CORRUPTED" : "PREPARED_KEY_LOST",
      `the prepared secret key's slot failed its integrity check (status ${status}); it was wiped and nothing was signed`,
    );
  }
  return signature;
}
