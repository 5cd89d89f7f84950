// Argument checks and hex helpers used at every public boundary.
import { InvalidHexError, InvalidLengthError, InvalidTypeError, RandomSourceError } from "./errors.js";

// Byte arguments are recognised and measured through the %TypedArray% intrinsics, captured once
// here, so no caller code runs while they are checked: a Proxy of a Uint8Array passes
// `instanceof` but has no typed-array slots (its `length` getter throws a plain TypeError), a
// DataView can be given Uint8Array.prototype, and a subclass can override `length` or `slice`.
//
// Each is called with its receiver as first argument (`call` bound to it once, here), never
// through `.call` or a prototype looked up when it runs: caller code that replaces a built-in
// after this module loaded (Function.prototype.call, Uint8Array.prototype.set or .slice, a
// Symbol.species getter, the global Uint8Array) must not be handed a view of the library's own
// memory, which holds prepared secret keys and the tables verification trusts (review 70 F1).
// Views of wasm memory are made and read only with what is captured here and in
// src/wasm/instance.ts.
export const uncurryThis = Function.prototype.bind.bind(Function.prototype.call) as <T, A extends unknown[], R>(
  method: (this: T, ...args: A) => R,
) => (self: T, ...args: A) => R;
/** This realm's Uint8Array constructor as this module loaded (the global binding can be replaced). */
const Bytes = Uint8Array;
const TYPED_ARRAY_PROTOTYPE = Object.getPrototypeOf(Uint8Array.prototype) as Uint8Array;
const typedArrayTag = uncurryThis(intrinsicGetter(Symbol.toStringTag) as (this: unknown) => string | undefined);
const typedArrayLength = uncurryThis(intrinsicGetter("length") as (this: Uint8Array) => number);
const typedArrayBuffer = uncurryThis(intrinsicGetter("buffer") as (this: Uint8Array) => ArrayBufferLike);
const typedArrayByteOffset = uncurryThis(intrinsicGetter("byteOffset") as (this: Uint8Array) => number);
const typedArrayIncludes = uncurryThis(TYPED_ARRAY_PROTOTYPE.includes as (this: Uint8Array, value: number) => boolean);
/** String.prototype.charCodeAt as this module loaded: (text, index). */
export const charCodeAt = uncurryThis(String.prototype.charCodeAt);
/** String.prototype.slice as this module loaded: (text, start, end). */
export const stringSlice = uncurryThis(String.prototype.slice as (this: string, start?: number, end?: number) => string);
// Value built-ins as this module loaded, for the code that reads caller values or writes the
// bytes that are signed (canonical JSON, the envelope object path, the wire text): a replacement
// made later must not change what they read or write (README "Hardening").
/** Array.isArray as this module loaded. */
export const isArray = Array.isArray;
/** Number.isInteger as this module loaded. */
export const isInteger = Number.isInteger;
/** Number.isSafeInteger as this module loaded. */
export const isSafeInteger = Number.isSafeInteger;
/** ToString (the global String as this module loaded): Number::toString for a number, decimal digits for a bigint. */
export const toText = String;
/** The global BigInt as this module loaded. */
export const toBigInt = BigInt;
/** 2^53 − 1 (Number.MAX_SAFE_INTEGER), a literal: the global `Number` binding can be replaced. */
export const MAX_SAFE_INTEGER = 9_007_199_254_740_991;
/** 2^53 − 1 as a bigint, a literal. */
export const MAX_SAFE_BIGINT = 9_007_199_254_740_991n;
/** The global Number as this module loaded (ToNumber). */
export const toNumber = Number;
/** JSON.stringify of a string (JSON's quoting) as this module loaded. */
export const quoteJsonString = JSON.stringify as (text: string) => string;
/** JSON.parse as this module loaded. */
export const parseJson = JSON.parse as (text: string) => unknown;
/** Promise.reject as this module loaded: the argument errors of promise-returning methods that are not async functions (the exchange's accepts, the pool's calls). */
export const rejectedPromise = Promise.reject.bind(Promise) as (reason: unknown) => Promise<never>;
/** Math.floor as this module loaded (the handshake's clock in seconds, the stores' deadlines). */
export const mathFloor = Math.floor;
/** String.prototype.startsWith as this module loaded: (text, prefix). */
export const stringStartsWith = uncurryThis(String.prototype.startsWith as (this: string, prefix: string) => boolean);
/** %TypedArray%.prototype.set, as this module loaded: (target, source, offset). */
export const typedArraySet: (self: Uint8Array, source: ArrayLike<number>, offset?: number) => void = uncurryThis(TYPED_ARRAY_PROTOTYPE.set as (this: Uint8Array, source: ArrayLike<number>, offset?: number) => void);
/** %TypedArray%.prototype.fill, as this module loaded: (target, value, start, end). */
export const typedArrayFill: (self: Uint8Array, value: number, start?: number, end?: number) => Uint8Array = uncurryThis(TYPED_ARRAY_PROTOTYPE.fill as (this: Uint8Array, value: number, start?: number, end?: number) => Uint8Array);

function intrinsicGetter(key: PropertyKey): () => unknown {
  const getter = Object.getOwnPropertyDescriptor(TYPED_ARRAY_PROTOTYPE, key)?.get;
  if (getter === undefined) throw new Error(`%TypedArray%.prototype has no ${String(key)} getter`);
  return getter;
}

/** A new zero-filled Uint8Array of `length` bytes, by the constructor captured at load (the global binding can be replaced). */
export function newBytes(length: number): Uint8Array {
  return new Bytes(length);
}

/** A plain Uint8Array over `buffer` (from `offset`, `length` bytes or to its end), by the constructor captured at load: no species, no caller code. */
export function bytesOver(buffer: ArrayBufferLike, offset = 0, length?: number): Uint8Array {
  return new Bytes(buffer, offset, length);
}

/** A plain view of bytes [start, end) of `bytes` (its own slots read by the intrinsics: `subarray` would look up a species). */
export function subview(bytes: Uint8Array, start: number, end: number): Uint8Array {
  return new Bytes(typedArrayBuffer(bytes), typedArrayByteOffset(bytes) + start, end - start);
}

// The library's own lists. Writing index i of an ordinary array that has no element i yet goes
// through Array.prototype: an accessor caller code defined there for "0", "1", … runs, can keep
// the value, and answers what it likes when the index is read back. So between a call's checks
// and its copy, an item list, a chunk plan or a table of measured lengths could run caller code
// (which can detach or shrink a checked view) or read back a value no check saw. The lists those
// calls fill are made here instead, with no prototype: their writes and reads reach nothing but
// the list itself. Nor do they have methods (no push, map or iterator, which caller code can
// replace as well): OwnList has only indices and a length, so the compiler refuses a method call.
const setPrototypeOf = Object.setPrototypeOf;
const ARRAY_PROTOTYPE: object = Array.prototype;

// Map's and Set's methods as this module loaded, for the library's own tables read inside calls
// (the envelope verdicts' codes, canonical JSON's member-name cache, the trust anchors): a
// replaced Map.prototype.get or Set.prototype.has ran, and answered, while an envelope's verdict
// was read back from wasm memory, and could re-enter the library there (review 100).
const mapPrototype = Map.prototype;
/** Set as this module loaded: the global binding can be replaced, by a class that keeps a hand on every set made. */
export const SetAtLoad = Set;
/** Map.prototype.get as this module loaded: (map, key). */
export const mapGet = uncurryThis(mapPrototype.get) as <K, V>(map: ReadonlyMap<K, V>, key: K) => V | undefined;
/** Map.prototype.set as this module loaded: (map, key, value). */
export const mapSet = uncurryThis(mapPrototype.set) as <K, V>(map: Map<K, V>, key: K, value: V) => Map<K, V>;
/** Map.prototype.clear as this module loaded: (map). */
export const mapClear = uncurryThis(mapPrototype.clear) as (map: Map<unknown, unknown>) => void;
/** Map.prototype.size's getter as this module loaded: (map). */
export const mapSize = uncurryThis(Object.getOwnPropertyDescriptor(mapPrototype, "size")!.get!) as (map: ReadonlyMap<unknown, unknown>) => number;
/** Set.prototype.has as this module loaded: (set, value). */
export const setHas = uncurryThis(Set.prototype.has) as <T>(set: ReadonlySet<T>, value: T) => boolean;
/** Set.prototype.add as this module loaded: (set, value). */
export const setAdd = uncurryThis(Set.prototype.add) as <T>(set: Set<T>, value: T) => Set<T>;
// The other methods of Map and Set, and WeakMap's and WeakSet's, are in src/collections.ts, which
// the canonical JSON entry does not load.

/** A list with indices and a length and nothing else: see ownList. */
export interface OwnList<T> {
  [index: number]: T;
  length: number;
}

/**
 * An empty list of `length` holes (an Array with no prototype), whose writes and reads run no
 * caller code whatever Array.prototype carries. Allocates the list only.
 */
export function ownList<T>(length = 0): OwnList<T> {
  const list: unknown[] = []; // a literal: the global Array may be replaced
  setPrototypeOf(list, null);
  list.length = length;
  return list as OwnList<T>;
}

/**
 * `list` as an ordinary Array (Array.prototype given back; the same object, so nothing is
 * copied): for a list the library filled as an OwnList and hands to its caller. Its elements are
 * its own, so reading them runs no accessor of Array.prototype either.
 */
export function ownListAsArray<T>(list: OwnList<T>): T[] {
  setPrototypeOf(list, ARRAY_PROTOTYPE);
  return list as unknown as T[];
}

/** Up to this many bytes, copyOfRange copies element by element: no view object, so a call allocates only its result. */
const COPY_BY_ELEMENT_MAX = 256;

/**
 * A copy of bytes [start, end) of `bytes` in a plain array of its own (`slice` would look up a
 * species). Short ranges (keys, signatures, digests, most canonical outputs) are copied element
 * by element, so the call allocates its result and nothing else (test/node/js-allocation.test.ts);
 * longer ones through a view and the captured `set`.
 */
export function copyOfRange(bytes: Uint8Array, start: number, end: number): Uint8Array {
  const length = end - start;
  // The range must lie inside the view (a detached one has length 0): an element read outside it
  // would give undefined (0), where slice clamped or threw (review 73 F7).
  if (!(start >= 0 && length >= 0 && end <= typedArrayLength(bytes))) {
    throw new RangeError(`bytes [${start}, ${end}) are outside a view of ${typedArrayLength(bytes)} bytes`);
  }
  const copy = new Bytes(length);
  if (length <= COPY_BY_ELEMENT_MAX) {
    for (let i = 0; i < length; i++) copy[i] = bytes[start + i];
  } else {
    typedArraySet(copy, subview(bytes, start, end));
  }
  return copy;
}

/**
 * Zeroes all of `bytes` with the `fill` captured at load: a secret's JS copy (a seed, a hashed
 * seed, a key file's text) is wiped through it, since a replaced `fill` would be handed the secret
 * and could skip the wipe (review 73 F6).
 */
export function wipeBytes(bytes: Uint8Array): void {
  typedArrayFill(bytes, 0);
}

/** A copy of all of `bytes` in a plain array of its own (copyOfRange: no species, no replaceable `slice`). */
export function copyOfBytes(bytes: Uint8Array): Uint8Array {
  return copyOfRange(bytes, 0, typedArrayLength(bytes));
}

/**
 * True for a real Uint8Array (a Buffer counts; other typed arrays, DataViews and Proxies do not),
 * of this realm or another one (a `vm` context, an iframe, a Jest environment), whatever its
 * prototype, judged only by its internal slot (the %TypedArray% toStringTag getter, which runs
 * no traps). Not `instanceof`: it walks the prototype chain, and a Proxy put in the chain of a
 * real Uint8Array runs its getPrototypeOf trap there, caller code in the middle of the checks
 * that could detach or rewrite an argument already checked (review 56). Every read of such an
 * array goes through the intrinsics below (viewLength, isUnreadableView, `set`), never through
 * its prototype. Says nothing about whether its buffer is still readable: see assertBytes.
 */
export function isUint8Array(value: unknown): value is Uint8Array {
  return typedArrayTag(value) === "Uint8Array";
}

/**
 * The element count of any typed array (Uint8Array, Float64Array, BigInt64Array, …) from its
 * internal slots, or undefined for anything else (a DataView, a Proxy, a plain object). Runs no
 * caller code.
 */
export function typedArrayElementCount(value: unknown): number | undefined {
  return typedArrayTag(value) === undefined ? undefined : typedArrayLength(value as Uint8Array);
}

/** The element count of a Uint8Array from its internal slot (a subclass cannot override it). */
export function viewLength(value: Uint8Array): number {
  return typedArrayLength(value);
}

/**
 * A plain Uint8Array view of the first min(`length`, its length) bytes of a readable Uint8Array,
 * made from its internal slots: `subarray` would build the result through the argument's species
 * constructor (caller code, for a subclass). A view, not a copy.
 */
export function viewPrefix(value: Uint8Array, length: number): Uint8Array {
  const own = typedArrayLength(value);
  // A comparison, not Math.min: a replaced Math.min could set how many caller bytes go into wasm memory (review 73 F2).
  return new Bytes(typedArrayBuffer(value), typedArrayByteOffset(value), length < own ? length : own);
}

// ArrayBuffer.prototype.byteLength's getter: a brand check that throws for anything but an
// unshared ArrayBuffer, of any realm and whatever its prototype (`instanceof` is neither).
const arrayBufferByteLength = uncurryThis(Object.getOwnPropertyDescriptor(ArrayBuffer.prototype, "byteLength")!.get! as (this: ArrayBufferLike) => number);

/** Object.getPrototypeOf as this module loaded: copyInto runs no caller code between its checks and its copy (review 73 F5). */
export const getPrototypeOf = Object.getPrototypeOf;

// This realm's SharedArrayBuffer.prototype, when the host has shared memory (browsers without
// cross-origin isolation do not).
const sharedArrayBufferPrototype: object | undefined =
  typeof SharedArrayBuffer === "function" ? (SharedArrayBuffer.prototype as object) : undefined;

/**
 * True only for an unshared ArrayBuffer (this realm or another, whatever its prototype); false
 * for shared memory. A buffer with this realm's SharedArrayBuffer prototype is answered false
 * without the brand check: the check throws for shared memory, and a throw costs microseconds,
 * which for the pool's workers (every byte view they copy is of a SharedArrayBuffer) was a
 * quarter of their time. "False" only sends the caller to copyInto's fixed-length view, which is
 * right for every buffer, so the prototype can decide speed but never correctness: a shared
 * buffer with ArrayBuffer's prototype, or another realm's, still fails the brand check.
 */
function isUnsharedArrayBuffer(buffer: ArrayBufferLike): boolean {
  if (sharedArrayBufferPrototype !== undefined && getPrototypeOf(buffer) === sharedArrayBufferPrototype) return false;
  try {
    arrayBufferByteLength(buffer);
    return true;
  } catch {
    return false;
  }
}

/**
 * Copies the first `length` bytes of `source` (checked and measured by the caller, with no
 * caller code since) into `target` at `at`. A length-tracking view of a growable
 * SharedArrayBuffer can grow between the check and the copy (another thread grows it), and `set`
 * copies the view's length at that moment: past the measured bytes into whatever follows in
 * `target`, or a RangeError. Views of shared memory are therefore copied through a fixed-length
 * view of the measured bytes (review-36 F5); others directly (a brand test of the buffer is
 * cheaper than a new view, and only shared memory can change under a synchronous call). The
 * test is by internal slot, so shared memory from another realm, or with its prototype changed,
 * is recognised too (review-37).
 * @throws InvalidTypeError if `source` now holds fewer than `length` bytes (see below).
 */
export function copyInto(target: Uint8Array, source: Uint8Array, at: number, length: number): void {
  if (copyObserver !== undefined) copyObserver(target, source);
  // Exactly `length` bytes, whatever became of the view since it was measured: the callers lay
  // out memory by that length. Only shared memory is known to change under a synchronous call
  // (it grows, never shrinks), and no caller code runs between a measurement and its copy; a
  // view found shorter all the same (detached or shrunk, which only caller code could do) is
  // refused rather than copied short, which would leave stale bytes of earlier calls in place.
  if (length === 0) return; // nothing to copy (and `set` would throw for a detached empty view)
  const own = typedArrayLength(source);
  if (own < length) throw new InvalidTypeError(`a byte argument was detached or shrunk after its check: ${own} of ${length} bytes left`);
  if (own === length && isUnsharedArrayBuffer(typedArrayBuffer(source))) typedArraySet(target, source, at);
  else typedArraySet(target, viewPrefix(source, length), at);
}

/**
 * `value` as measured: itself, or, when it is a view of shared memory, a fixed-length view of its
 * first `length` bytes (`length` being its length as the caller just read it). A length-tracking
 * view of a growable SharedArrayBuffer grows when another thread grows the buffer, so two
 * readings of its length can differ with no caller code in between; the pool reads a message's
 * length to count it against maxQueuedBytes, to plan its chunks and to pack it, and each must
 * see the one length (hunt 17: counted short and given back long, queuedBytes went below zero).
 * Other views keep their length under a synchronous call, and are returned as they are.
 */
export function measuredView(value: Uint8Array, length: number): Uint8Array {
  return isUnsharedArrayBuffer(typedArrayBuffer(value)) ? value : viewPrefix(value, length);
}

// The test suites' view of the copies above (test/helpers/copy-watch.ts: a secret's copies must
// be wiped after use). It watched %TypedArray%.prototype.set, which the glue no longer looks up
// (review 70 F1). Internal like src/wasm/instance.ts: no entry point exports it.
let copyObserver: ((target: Uint8Array, source: Uint8Array) => void) | undefined;

/** @internal For test/helpers/copy-watch.ts only: `observer` sees every array copyInto writes into, and what it copies from, until it is set to undefined. */
export function observeCopies(observer: ((target: Uint8Array, source: Uint8Array) => void) | undefined): void {
  copyObserver = observer;
}

/**
 * `Symbol.hasInstance` for a class whose instances carry a private field: for `cls` itself a
 * brand check (`hasBrand`, a `#field in value` test), so `instanceof` is true only for objects
 * the class constructed, never for a Proxy or an object made with Object.create(cls.prototype),
 * and runs no caller code; for a subclass (`self` !== `cls`) the usual prototype walk.
 */
export function brandHasInstance(cls: object, self: object, value: unknown, hasBrand: (value: object) => boolean): boolean {
  if (self !== cls) return Function.prototype[Symbol.hasInstance].call(self, value);
  return typeof value === "object" && value !== null && hasBrand(value);
}

/**
 * Object.freeze as this module loaded: the branded classes freeze their instances with it. With
 * the realm's, looked up at each construction, a no-op put in its place after load left an
 * envelope writable after its signature check (a verdict verifySignature caches), and an envelope
 * 100,000 s old, its timestamp and nonce rewritten, was accepted (hunt 23).
 */
export const freezeAtLoad = Object.freeze;

/**
 * Freezes an exported class and its prototype, as its module loads: its static methods, its
 * `[Symbol.hasInstance]` brand check (brandHasInstance), its methods and getters can then not be
 * replaced, nor new ones defined. The library's own code calls them in the middle of its calls
 * (the exchange compares keys with `equals`, checks signatures with `verifySignature` and
 * `verify`, parses anchors with `PublicKey.fromHex`, asks `isFresh`; `instanceof` runs the brand
 * check), and each was writable: a replaced one changed the outcome, a stranger's key pinned or a
 * bad signature passed (helper 148, 7 December 2026), and a replaced brand check ran between
 * verify()'s byte checks and its copy and made it check the empty message (helper 145). Callers
 * who want to observe a method (a test's spy) wrap the instance or the call instead.
 */
export function hardenClass(cls: { prototype: object }): void {
  Object.freeze(cls.prototype);
  Object.freeze(cls);
}

/**
 * Refuses `new` of a subclass of a branded class with a public constructor (HandshakeChallenge,
 * PeerHandshakeEnvelope, FederationPeer): a subclass instance passes the brand check, since
 * `super()` sets the private field, and would carry its own methods (a `verifySignature` that
 * returns, a `canonicalBytes` of other bytes) where the class's are trusted (review 57). Call it
 * first in the constructor, with `new.target`.
 */
export function refuseSubclass(newTarget: unknown, cls: object, name: string): void {
  if (newTarget !== cls) throw new InvalidTypeError(`${name} cannot be subclassed: its instances are trusted to run its own methods`);
}

/**
 * True if the view can no longer be read: its ArrayBuffer was detached (transferred, e.g. by
 * structuredClone(buf, { transfer: [buf] }) or postMessage), or a resizable buffer shrank below
 * the view's end. Such a view reports length 0, so a detached message would otherwise be read as
 * the empty message. Only a length-0 view can be in that state, so the hot path pays one getter
 * call; for length 0, `includes` runs the spec's ValidateTypedArray (which throws exactly for a
 * detached or out-of-bounds view) and reads nothing. Works on Node 20, which lacks
 * ArrayBuffer.prototype.detached.
 */
export function isUnreadableView(value: Uint8Array): boolean {
  if (typedArrayLength(value) !== 0) return false;
  try {
    typedArrayIncludes(value, 0);
    return false;
  } catch {
    return true;
  }
}

/**
 * The test of assertBytes (`length` -1: a readable Uint8Array) and expectBytes (`length` ≥ 0: of
 * exactly that length) as a boolean, without building a message: they call it first, and hot
 * loops call them only when it fails, for their errors.
 */
export function isReadableBytes(value: unknown, length: number): boolean {
  if (!isUint8Array(value)) return false;
  const actual = typedArrayLength(value);
  if (length >= 0 && actual !== length) return false;
  return actual !== 0 || !isUnreadableView(value);
}

/**
 * Throws InvalidTypeError unless `value` is a readable Uint8Array (Buffer counts; other views,
 * Proxies and views of detached or out-of-bounds buffers do not). Copies nothing: for bytes that
 * go straight into wasm memory in the same synchronous call, that write is the copy.
 */
export function assertBytes(value: unknown, name: string): asserts value is Uint8Array {
  if (isReadableBytes(value, -1)) return;
  if (!isUint8Array(value)) throw new InvalidTypeError(`${name} must be a Uint8Array, got ${describe(value)}`);
  throw new InvalidTypeError(`${name} is a view of a detached or out-of-bounds ArrayBuffer`);
}

/** Checks type and exact length; returns the value typed as bytes (not a copy: see copyBytes). */
export function expectBytes(value: unknown, length: number, name: string): Uint8Array {
  if (isReadableBytes(value, length)) return value as Uint8Array;
  assertBytes(value, name);
  throw new InvalidLengthError(`${name} must be ${length} bytes, got ${typedArrayLength(value)}`);
}

/**
 * A private copy of `value` as a plain Uint8Array with its own ArrayBuffer, after the checks of
 * assertBytes (and, with `length`, of expectBytes). Use it for every byte value that is kept
 * beyond the call, and validate the copy, not the argument: `Buffer#slice` and `subarray` return
 * views of the caller's memory (a reused or pooled Buffer would change the kept value later),
 * and `Uint8Array.prototype.slice` builds its result through the argument's species constructor
 * (a Buffer for a Buffer, anything at all for a hostile subclass). `set` from a typed array
 * copies through internal slots and runs no caller code.
 * @throws InvalidTypeError (INVALID_TYPE) / InvalidLengthError (INVALID_LENGTH).
 */
export function copyBytes(value: unknown, name: string, length?: number): Uint8Array {
  assertBytes(value, name);
  const actual = typedArrayLength(value);
  if (length !== undefined && actual !== length) {
    throw new InvalidLengthError(`${name} must be ${length} bytes, got ${actual}`);
  }
  const copy = new Bytes(actual);
  copyInto(copy, value, 0, actual);
  return copy;
}

function describe(value: unknown): string {
  if (value === null) return "null";
  if (typeof value !== "object") return typeof value;
  // Reading `constructor` could run a Proxy trap or a getter: name only what the intrinsics tell.
  const tag = typedArrayTag(value);
  if (tag !== undefined) return tag;
  return ArrayBuffer.isView(value) ? "DataView" : "object";
}

const HEX_DIGITS = "0123456789abcdef";
const HEX_PAIRS: string[] = Array.from({ length: 256 }, (_, i) => HEX_DIGITS[i >> 4] + HEX_DIGITS[i & 15]);

/** Lowercase hex of `bytes`. @throws InvalidTypeError unless `bytes` is a readable Uint8Array (see assertBytes). */
export function bytesToHex(bytes: Uint8Array): string {
  assertBytes(bytes, "bytes");
  let out = "";
  const length = typedArrayLength(bytes);
  for (let i = 0; i < length; i++) out += HEX_PAIRS[bytes[i]];
  return out;
}

/** Whether `hex` starts with a lowercase "0x" (element reads of a primitive string run no caller code). */
export function hasHexPrefix(hex: string): boolean {
  return hex.length >= 2 && hex[0] === "0" && hex[1] === "x";
}

function hexNibble(code: number): number {
  if (code >= 48 && code <= 57) return code - 48; // 0-9
  if (code >= 97 && code <= 102) return code - 87; // a-f
  if (code >= 65 && code <= 70) return code - 55; // A-F
  return -1;
}

/**
 * Decodes hex in either case. With `allowPrefix`, one leading "0x" is skipped (as chio's Rust
 * `from_hex` does). Throws InvalidHexError on odd length or a non-hex character. Trust anchors
 * and wire keys are read through it, so neither the option nor the digits come from what caller
 * code can change after load: `allowPrefix` is read by memberOf (one on Object.prototype counts
 * as absent, review 84 F1) and the digits by the charCodeAt captured at load.
 */
export function hexToBytes(hex: unknown, options: { allowPrefix?: boolean } = {}): Uint8Array {
  if (typeof hex !== "string") throw new InvalidTypeError(`hex must be a string, got ${describe(hex)}`);
  if (options === null || typeof options !== "object") throw new InvalidTypeError(`options must be an object, got ${describe(options)}`);
  let start = 0;
  if (hasHexPrefix(hex) && memberOf(options, "allowPrefix")) start = 2;
  const digits = hex.length - start;
  if (digits % 2 !== 0) throw new InvalidHexError(`hex must have an even number of digits, got ${digits}`);
  const out = new Bytes(digits / 2);
  for (let i = 0; i < out.length; i++) {
    const hi = hexNibble(charCodeAt(hex, start + 2 * i));
    const lo = hexNibble(charCodeAt(hex, start + 2 * i + 1));
    if (hi < 0 || lo < 0) throw new InvalidHexError(`hex contains a non-hex character at ${start + 2 * i}`);
    out[i] = (hi << 4) | lo;
  }
  return out;
}

/** Byte equality in time that depends only on the lengths. */
export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i] ^ b[i];
  return diff === 0;
}

/**
 * Fills `target` from globalThis.crypto.getRandomValues (the batch verifiers' coefficients, fresh
 * secret keys, handshake nonces and reservation tokens: never derived from any input).
 * @throws RandomSourceError (RANDOM_SOURCE_UNAVAILABLE) where the host has no CSPRNG.
 */
export function fillRandomBytes(target: Uint8Array): Uint8Array {
  const c = (globalThis as { crypto?: { getRandomValues?(a: Uint8Array): Uint8Array } }).crypto;
  if (!c || typeof c.getRandomValues !== "function") {
    throw new RandomSourceError("globalThis.crypto.getRandomValues is not available in this environment: a CSPRNG is needed for this call");
  }
  // A host may have the function and refuse to run it (a worker runtime outside a request
  // handler, a sandbox): the same typed error, with the host's as its cause (helper 145: the
  // host's own Error escaped, with no code).
  try {
    c.getRandomValues(target);
  } catch (cause) {
    throw new RandomSourceError("globalThis.crypto.getRandomValues threw: a CSPRNG is needed for this call", { cause });
  }
  // A shim is caller code and may detach (transfer) the array's buffer: there are no bytes to
  // use then, and callers that fill a module-wide buffer replace it before their next draw (hunt 24).
  if (isUnreadableView(target)) throw new RandomSourceError("globalThis.crypto.getRandomValues detached the array it was to fill: a CSPRNG is needed for this call");
  return target;
}

/**
 * `byteCount` (16 or more) fresh random bytes for a secret key, a nonce or a token, in an array
 * made by the constructor captured at load (newBytes). A draw that is all zeros is refused: a
 * getRandomValues that returns a filled array of its own instead of filling the one it is handed
 * (a careless polyfill or test shim) left it so, and a secret key of zeros (or the same nonce
 * and token on every call) was handed out silently (hunt 46). A real CSPRNG gives that with
 * probability 2^-128 at most. The bytes are OR-ed together before the one comparison, so the
 * only thing about a secret that decides a branch is whether it is all zeros.
 * @throws RandomSourceError without a CSPRNG, or from one that left the array unfilled.
 */
export function freshRandomBytes(byteCount: number): Uint8Array {
  const bytes = fillRandomBytes(newBytes(byteCount));
  let any = 0;
  for (let i = 0; i < byteCount; i++) any |= bytes[i];
  if (any === 0) throw new RandomSourceError("globalThis.crypto.getRandomValues left the array it was to fill all zeros (a shim that returns its own array?): a CSPRNG is needed for this call");
  return bytes;
}

/**
 * `byteCount` fresh random bytes as lowercase hex (handshake nonces, reservation tokens): see
 * freshRandomBytes (a global Uint8Array replaced after load that answered an empty array made
 * every nonce and token "": hunt 22).
 * @throws RandomSourceError without a CSPRNG, or from one that left the array unfilled.
 */
export function randomHex(byteCount: number): string {
  return bytesToHex(freshRandomBytes(byteCount));
}

/** The u32 stored little-endian at bytes[at] (the wasm ABI's words; assembly/abi.ts). */
export function readU32(bytes: Uint8Array, at: number): number {
  return (bytes[at] | (bytes[at + 1] << 8) | (bytes[at + 2] << 16) | (bytes[at + 3] << 24)) >>> 0;
}

/** Stores the u32 `value` little-endian at bytes[at]. */
export function writeU32(bytes: Uint8Array, at: number, value: number): void {
  bytes[at] = value & 0xff;
  bytes[at + 1] = (value >>> 8) & 0xff;
  bytes[at + 2] = (value >>> 16) & 0xff;
  bytes[at + 3] = value >>> 24;
}

/**
 * The parts end to end, in a new array (for already checked Uint8Arrays). Lengths come from the
 * internal slots, as `set` copies: never a `length` a subclass or a changed prototype reports.
 */
export function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  // Measured into a list of our own, not with `map`: caller code can replace it, and a drop-in's
  // concatBytes runs this right after its checks (review 98).
  const lengths = ownList<number>(parts.length);
  for (let i = 0; i < parts.length; i++) lengths[i] = viewLength(parts[i]);
  let total = 0;
  for (let i = 0; i < lengths.length; i++) total += lengths[i];
  const out = new Bytes(total);
  let at = 0;
  for (let i = 0; i < parts.length; i++) {
    copyInto(out, parts[i], at, lengths[i]);
    at += lengths[i];
  }
  return out;
}

/** Object.keys as this module loaded. */
export const ownEnumerableKeys = Object.keys as (object: object) => string[];

/** True if `value` is one of `list` (===), by a loop: the realm's `includes` can be replaced. */
export function isListed<T>(list: readonly T[], value: T): boolean {
  for (let i = 0; i < list.length; i++) if (list[i] === value) return true;
  return false;
}

/**
 * The first own enumerable member of a settings object that is not in `known`, or undefined.
 * Settings objects refuse unknown members, so a misspelt option (`rotationWindowSeconds`,
 * `operationTimeout`) is an error rather than a default silently left in force. May throw what a
 * Proxy's ownKeys trap throws: readSettings reads it inside its guard.
 */
function unknownMember(value: object, known: readonly string[]): string | undefined {
  // Object.keys as captured at load, and loops, not find/includes: replaced ones could wave a misspelt option through.
  const keys = ownEnumerableKeys(value);
  for (let i = 0; i < keys.length; i++) if (!isListed(known, keys[i]!)) return keys[i];
  return undefined;
}

/**
 * Whether a caller's argument is an array (Array.isArray as this module loaded); false for a
 * revoked Proxy, on which Array.isArray throws a TypeError of the engine's, so that the caller
 * refuses it with its own typed INVALID_TYPE, as any other value that is no array (helper 140's D2:
 * the batch calls let that TypeError out, without a code).
 */
export function isArrayArgument(value: unknown): value is unknown[] {
  try {
    return isArray(value);
  } catch {
    return false; // only a revoked Proxy makes IsArray throw (ECMAScript 7.2.2)
  }
}

/** The largest length of an Array (ECMAScript: 2^32 − 1). */
const MAX_ARRAY_LENGTH = 2 ** 32 - 1;

/**
 * Most items one batch call takes (ed25519.verifyBatch, verifyEnvelopeBatch and the worker pool's
 * two batch calls): 2^20. Every item is read and checked before any is verified, and the answer
 * holds one verdict per item, so a list of valid items claiming more (a Proxy whose `length` is
 * 2^32 − 1, or an array of millions of references to one item) ran the process out of heap.
 * Measured on Node 20.20: 2^20 one-key items with empty messages peaked at about 65 MB over
 * the base, and 2^20 valid envelopes of 359 bytes at about 930 MB of heap (their verdicts),
 * under a quarter of the default heap limit (4,144 MiB) of a 24 GB machine.
 */
export const MAX_VERIFY_BATCH_ITEMS = 2 ** 20;

/**
 * The length of an array argument (the batch calls' item lists), read once and checked to be an
 * array length, an integer in 0 … 2^32 − 1: a Proxy of an array passes Array.isArray and can
 * report anything (a string made `new Array(length)` a one-item list holding it, -1 a plain
 * RangeError; review 84 F4). A throwing read is InvalidTypeError with it as `cause`. A length
 * above MAX_VERIFY_BATCH_ITEMS is refused here, before any item is read.
 * @throws InvalidTypeError if `value` is not an array or its length is not an array length;
 *   InvalidLengthError if it is above MAX_VERIFY_BATCH_ITEMS.
 */
export function arrayArgumentLength(value: unknown, name: string): number {
  if (!isArrayArgument(value)) throw new InvalidTypeError(`${name} must be an array`);
  let length: unknown;
  try {
    length = value.length;
  } catch (cause) {
    throw new InvalidTypeError(`${name}.length cannot be read`, { cause });
  }
  if (typeof length !== "number" || !Number.isInteger(length) || length < 0 || length > MAX_ARRAY_LENGTH) {
    throw new InvalidTypeError(`${name}.length must be an integer in 0 … 2^32 − 1, got ${typeof length === "number" ? String(length) : typeof length}`);
  }
  if (length > MAX_VERIFY_BATCH_ITEMS) throw new InvalidLengthError(`${name}.length must be at most ${MAX_VERIFY_BATCH_ITEMS}, got ${length}`);
  return length;
}

/**
 * What readSettings reads when no options were passed: nothing, frozen, one object for every
 * call, with no prototype, so a member added to Object.prototype is not read from it.
 */
const NO_SETTINGS: Readonly<Record<string, unknown>> = Object.freeze(Object.create(null) as Record<string, unknown>);

/** Object.prototype.hasOwnProperty as this module loaded: (object, key). */
export const hasOwnMember = uncurryThis(Object.prototype.hasOwnProperty as (this: object, key: PropertyKey) => boolean);
/** Object.prototype.propertyIsEnumerable as this module loaded: (object, key). */
export const isEnumerableOwnMember = uncurryThis(Object.prototype.propertyIsEnumerable as (this: object, key: PropertyKey) => boolean);
/** This realm's Object.prototype, as this module loaded. */
export const OBJECT_PROTOTYPE: object = Object.prototype;

/**
 * `object[key]`, read once (a getter or Proxy trap runs, and may throw), or undefined when the
 * member it came from is defined on Object.prototype: options and batch items are read through
 * this, so a polluted Object.prototype (`Object.prototype.rejectWeakKeys = false`, or a
 * getter there, left by a prototype-pollution bug in any package of the realm) switches no check
 * off and fills no field for a caller that passed `{}` (review 84 F1). A member of the object
 * itself or of a prototype of its own (a class's getter, `Object.create(defaults)`) counts as
 * before. Allocates nothing (verify's options are read on its per-signature path).
 */
/**
 * `list[index]` of a caller's list, or InvalidTypeError naming the element when the read throws
 * (a getter, a Proxy's trap, a revoked Proxy), with the thrown value as its cause, as
 * arrayArgumentLength treats the list's `length` (helper 145: a revoked Proxy as a batch item
 * escaped as the engine's TypeError, with no code).
 */
export function elementOf(list: readonly unknown[], index: number, name: string): unknown {
  try {
    return list[index];
  } catch (cause) {
    throw new InvalidTypeError(`${name}[${index}] cannot be read`, { cause });
  }
}

export function memberOf(object: object, key: string): unknown {
  const value = (object as Record<string, unknown>)[key];
  if (value === undefined || hasOwnMember(object, key)) return value;
  for (let holder = getPrototypeOf(object) as object | null; holder !== null; holder = getPrototypeOf(holder) as object | null) {
    if (hasOwnMember(holder, key)) return holder === OBJECT_PROTOTYPE ? undefined : value;
  }
  return value; // a Proxy's get trap answered for a member no object of the chain has
}

/**
 * A driver error's own `code` (pg and better-sqlite3 set it on the error itself), else undefined,
 * also for a thrown value whose members cannot be read (a revoked Proxy): a `code` defined on
 * Object.prototype made a Postgres write of unknown outcome read as a lost race (README "Hardening").
 */
export function ownCode(error: unknown): unknown {
  try {
    if (error === null || typeof error !== "object" || !hasOwnMember(error, "code")) return undefined;
    return (error as { code?: unknown }).code;
  } catch {
    return undefined;
  }
}

/**
 * The listed members of a settings object, each read once (a getter or Proxy trap runs once), for
 * the option readers of the stores and the HTTP transport. undefined means none. A member
 * defined on Object.prototype counts as absent (memberOf). Anything but
 * an object, a member that throws when read (passed on as `cause`) or an unknown member is
 * `fail(message, cause)`: the calling module's own typed error.
 */
export function readSettings<K extends string>(
  value: unknown,
  name: string,
  known: readonly K[],
  fail: (message: string, cause?: unknown) => Error,
): Partial<Record<K, unknown>> {
  if (value === undefined) return NO_SETTINGS as Partial<Record<K, unknown>>; // shared: an options-free call allocates nothing
  if (value === null || typeof value !== "object") throw fail(`${name} must be an object, got ${value === null ? "null" : typeof value}`);
  // No prototype: a setter on Object.prototype would take the writes below and leave a polluted
  // getter to answer the reads of the result (review 85).
  const read = Object.create(null) as Partial<Record<K, unknown>>;
  let unknown: string | undefined;
  try {
    unknown = unknownMember(value, known);
    for (let k = 0; k < known.length; k++) read[known[k]] = memberOf(value, known[k]);
  } catch (cause) {
    throw fail(`${name} cannot be read`, cause);
  }
  if (unknown !== undefined) throw fail(`${name} has an unknown member ${JSON.stringify(unknown.slice(0, 60))} (known: ${known.join(", ")})`);
  return read;
}

/**
 * The listed members of an options object of the library's own calls (canonical JSON, ed25519,
 * envelope verification, the worker pool), each read once (a getter or Proxy trap runs once):
 * readSettings with InvalidTypeError as its error. undefined means none. @throws
 * InvalidTypeError for a non-object, a member not listed (a misspelt limit would otherwise be
 * silently left at its default), or a throwing read. `name` is how the messages call the object.
 */
export function readOptions<K extends string>(options: unknown, known: readonly K[], name = "options"): Partial<Record<K, unknown>> {
  return readSettings(options, name, known, invalidOptions);
}

/** readOptions' error: one function, not a closure per call (canonicalizeJson's and verify's paths). */
const invalidOptions = (message: string, cause?: unknown): Error => new InvalidTypeError(message, cause === undefined ? undefined : { cause });

/**
 * The index of the first unpaired UTF-16 surrogate of `text`, or -1 when it is well formed (it
 * has a UTF-8 form). By the charCodeAt captured at load: no regular expression, whose `test`
 * looks up `exec` as it runs.
 */
export function loneSurrogateIndex(text: string): number {
  const n = text.length;
  for (let i = 0; i < n; i++) {
    const unit = charCodeAt(text, i);
    if ((unit & 0xf800) !== 0xd800) continue; // not a surrogate
    if (unit > 0xdbff || i + 1 >= n || (charCodeAt(text, i + 1) & 0xfc00) !== 0xdc00) return i;
    i++; // a high surrogate followed by a low one: a valid pair
  }
  return -1;
}

/** Bytes of `text` in UTF-8 (a lone surrogate counted as 3 bytes, as its replacement character would take). */
export function utf8Length(text: string): number {
  let bytes = text.length;
  for (let i = 0; i < text.length; i++) {
    const unit = charCodeAt(text, i);
    if (unit < 0x80) continue;
    if (unit < 0x800) bytes += 1;
    else if (unit >= 0xd800 && unit <= 0xdbff && i + 1 < text.length && (charCodeAt(text, i + 1) & 0xfc00) === 0xdc00) {
      bytes += 2; // a pair: 4 bytes for 2 units
      i++;
    } else bytes += 2;
  }
  return bytes;
}
