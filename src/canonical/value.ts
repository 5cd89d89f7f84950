// RFC 8785 (JSON Canonicalization Scheme) of JavaScript values, in plain TypeScript.
//
// This is the "typed path" of chio's canonical.rs (docs/protocol.md §3): a value already in memory is
// written as canonical JSON. Text input goes through src/canonical/json.ts instead.
//
// Output rules (RFC 8785 §3.2):
// * objects: members sorted by the UTF-16 code units of their names (§3.2.3); JavaScript's `<` on
//   strings is exactly that order; no whitespace anywhere (§3.2.1);
// * strings (§3.2.2.2): only `"`, `\` and U+0000–U+001F are escaped, with the short forms
//   \b \f \n \r \t and lowercase \u00xx for the other controls. Everything else, including DEL,
//   C1 controls (U+007F–U+009F), U+2028/2029 and astral characters, is written raw. (Older chio
//   Rust kernels escape U+007F–U+009F; chio vector corpus a1486dbd pins that, 483bf3f1 pins RFC.
//   The `escapeDelAndC1` option reproduces the old form, as canonicalizeJson's switch does.)
// * numbers (§3.2.2.3): ECMAScript Number::toString, i.e. `String(x)`; -0 becomes "0";
// * BigInt (an extension, as chio's Rust writes its i64/u64 exactly): decimal digits, no rounding,
//   for values in −2^63…2^64−1, the integers the text path (canonicalizeJson) also keeps exactly;
//   others → NUMBER_OUT_OF_RANGE, so that no value has a canonical form the text path would
//   canonicalize again to other bytes (review-36 F3).
//
// JavaScript-specific semantics, chosen to match JSON.stringify where JSON.stringify is safe:
// * `toJSON(key)` is called once per value, as JSON.stringify does (ECMA-262 SerializeJSONProperty
//   step 2), with the member name or the array index as a string ("" at the top level). Its result
//   is not asked for toJSON again (the npm `canonicalize` package loops until no toJSON is left).
//   BigInt primitives are not asked for toJSON: they are always written as exact digits.
// * Boxed Number/String/Boolean/BigInt objects are written as their primitive value.
// * Other objects contribute their own enumerable string-keyed properties (Object.keys), read
//   through getters if any. So a Date is written via Date.prototype.toJSON (an ISO string or
//   null); Map, Set, WeakMap, RegExp, Error and class instances without own properties become
//   `{}`; typed arrays become `{"0":…,"1":…}` like JSON.stringify. Symbol keys are ignored.
// * Arrays are read by index 0…length-1; their other properties are ignored.
//
// Fail-closed differences from JSON.stringify (CanonicalJsonError codes):
// * `undefined`, functions and symbols are rejected wherever they appear (UNSUPPORTED_TYPE),
//   including as object member values and array holes, where JSON.stringify would silently drop
//   the member or write null: a signature must never cover less than the caller passed in.
// * NaN and ±Infinity → NON_FINITE_NUMBER (JSON.stringify writes null).
// * A boxed number or string whose own conversion answers a symbol (a bigint, for a number) or no
//   primitive → UNSUPPORTED_TYPE (JSON.stringify throws a TypeError).
// * A string or member name containing an unpaired UTF-16 surrogate → LONE_SURROGATE (it has no
//   UTF-8 encoding; RFC 8785 §3.2.2.2 requires valid Unicode).
// * Nesting deeper than `maxDepth` containers (default 64, like the text path) → TOO_DEEP.
// * An object that contains itself → CYCLE. Cycles are found when the depth limit is crossed
//   (there is no per-object bookkeeping on the fast path), so the error is raised only after
//   `maxDepth` levels have been walked, and a cycle longer than `maxDepth` objects is reported as
//   TOO_DEEP (which is also true of it). A value referenced twice without a cycle is fine.
// * Output longer than `maxOutputBytes` UTF-8 bytes (default 16 MiB) → TOO_LARGE, checked as the
//   output grows (after every array element and object member), so a small value that expands
//   (shared references, `let x = []; for (…) x = [x, x]`, or a Proxy whose length is 2^32 − 1)
//   stops after about maxOutputBytes of work, not when the engine runs out of memory (review-36
//   F1); output the engine cannot hold below that → TOO_LARGE too, and a walk deeper than the
//   engine's stack → TOO_DEEP. Exceptions thrown by the caller's own toJSON methods, getters or
//   proxies propagate unchanged.
// * An array's length is read once and taken as JSON.stringify takes it (ToLength: a Proxy's
//   "2.5" reads 2 elements, -1 or "abc" none), the same way by both writers.
import {
  MAX_SAFE_INTEGER, OBJECT_PROTOTYPE, SetAtLoad, charCodeAt, getPrototypeOf, isArray, isInteger, ownEnumerableKeys, quoteJsonString, toText, copyOfRange, loneSurrogateIndex, mapClear, mapGet, mapSet, mapSize, newBytes, ownList, readOptions, setAdd, setHas, stringSlice,
  subview, toNumber, typedArrayElementCount, typedArraySet, uncurryThis, utf8Length, viewLength, type OwnList,
} from "../bytes.js";
import { CanonicalJsonError, EngineRangeError, InvalidTypeError, isInstanceOf, isStackOverflowError } from "../errors.js";
import { byteLimitOption, DEFAULT_MAX_DEPTH, DEFAULT_MAX_OUTPUT_BYTES, MAX_DEPTH_LIMIT, MAX_OUTPUT_BYTES_LIMIT, maxDepthOption } from "./limits.js";

export { MAX_DEPTH_LIMIT };

// Built-ins the walk calls, as this module loaded. canonicalBytes' output is what a kernel signs
// (HandshakeChallenge.canonicalBytes, docs/protocol.md §3): code that replaces JSON.stringify,
// Object.keys, String.prototype.charCodeAt, Uint8Array.prototype.slice, the global String and the
// like after chio-trust loaded must not change those bytes, nor be handed the objects being
// written (README "Hardening"). The value's own toJSON methods, getters, valueOf and proxies are
// part of the value and still run, where and as often as JSON.stringify runs them. The ones other
// modules read values with too (Array.isArray, Object.keys, String, ...) are src/bytes.ts's.
// A boxed number's or string's Symbol.toPrimitive, valueOf and toString (own or inherited) run, as in
// JSON.stringify, through checkedPrimitive (ToPrimitive written out), then toNumber / toText.
// MAX_SAFE_INTEGER is a literal, and a comparison stands where Math.min was.
const truncate = Math.trunc;
const apply = Reflect.apply;
const sortStrings = uncurryThis(Array.prototype.sort as (this: string[]) => string[]);
const bigintDigits = uncurryThis(BigInt.prototype.toString as (this: bigint) => string);
const NumberClass = Number;
const StringClass = String;
const BooleanClass = Boolean;
// Not a constructor, but OrdinaryHasInstance needs only its prototype (BigInt.prototype, for boxed bigints).
const BigIntClass = BigInt as unknown as abstract new () => object;
const ObjectClass = Object;
const numberValueOf = Number.prototype.valueOf;
const stringValueOf = String.prototype.valueOf;
const booleanValueOf = Boolean.prototype.valueOf;
const bigintValueOf = BigInt.prototype.valueOf;
const NO_ARGUMENTS: readonly unknown[] = Object.freeze([]);
const encodeUtf8 = uncurryThis(TextEncoder.prototype.encode as (this: TextEncoder, text: string) => Uint8Array);

/** Options for {@link canonicalize} and {@link canonicalBytes}. Members not listed here are refused (InvalidTypeError). */
export interface CanonicalizeOptions {
  /**
   * Largest number of nested arrays/objects accepted (the top-level container counts as 1).
   * Default 64. Must be an integer from 0 to 1000 (MAX_DEPTH_LIMIT), as for canonicalizeJson.
   */
  maxDepth?: number;
  /**
   * Largest output, in UTF-8 bytes (for canonicalize: of the string's UTF-8 form). Default 16 MiB
   * (DEFAULT_MAX_OUTPUT_BYTES), at most 2^32 − 1. Larger output → TOO_LARGE. canonicalize builds
   * its string from many small pieces, which the engine may hold as up to about 16 bytes of heap
   * per output byte until the result is flattened: raise this only as far as memory allows.
   */
  maxOutputBytes?: number;
  /**
   * Also escape U+007F–U+009F (DEL and the C1 controls) as lowercase \u00xx, as older chio Rust
   * kernels do (compatibility only: the output is then not RFC 8785). Default false. The same
   * switch as canonicalizeJson's, with the same output.
   */
  escapeDelAndC1?: boolean;
}


/**
 * RFC 8785 canonical JSON text of `value`.
 * @throws CanonicalJsonError with code UNSUPPORTED_TYPE, NON_FINITE_NUMBER, LONE_SURROGATE, TOO_DEEP,
 *   CYCLE, or TOO_LARGE (output beyond what the engine can hold in one string or byte array).
 * @throws InvalidTypeError / InvalidLengthError for a bad `maxDepth`.
 * @example canonicalize({ b: 1, a: [true, null] }) // '{"a":[true,null],"b":1}'
 */
export function canonicalize(value: unknown, options?: CanonicalizeOptions): string {
  const walk = newWalk(options);
  let text: string;
  try {
    text = valueText(value, "", 0, walk);
  } catch (error) {
    throw engineLimitError(error);
  } finally {
    endWalk(walk);
  }
  // UTF-8 takes 1 to 3 bytes per UTF-16 unit: only a text near the bound needs counting.
  if (text.length > walk.maxOutputBytes || (text.length * 3 > walk.maxOutputBytes && utf8Length(text) > walk.maxOutputBytes)) {
    throw outputTooLarge(walk);
  }
  return text;
}

/**
 * An engine's own error from the walk as the typed error it stands for, or the error itself: a
 * string past the engine's length limit (V8 "Invalid string length", JavaScriptCore "Out of
 * memory") → TOO_LARGE; a stack overflow (a call from deep in the stack, or a Worker with a
 * small stack, at maxDepth near 1000) → TOO_DEEP. Both also when raised inside the caller's code
 * (a toJSON building a string past the limit); the caller's own RangeErrors carry other messages
 * and pass through, except one thrown with exactly these messages, which reads as the engine's
 * (README "Canonical JSON").
 */
function engineLimitError(error: unknown): unknown {
  if (!isInstanceOf(EngineRangeError, error)) return error;
  if (error.message === "Invalid string length" || error.message === "Out of memory") {
    return new CanonicalJsonError("TOO_LARGE", "canonical text would exceed the engine's maximum string length", undefined, { cause: error });
  }
  if (isStackOverflowError(error)) {
    return new CanonicalJsonError("TOO_DEEP", "nesting is deeper than the engine's stack allows here", undefined, { cause: error });
  }
  return error;
}

function outputTooLarge(walk: Walk): CanonicalJsonError {
  return new CanonicalJsonError("TOO_LARGE", `canonical output is larger than maxOutputBytes (${walk.maxOutputBytes})`);
}

/**
 * UTF-8 bytes of {@link canonicalize}(value), produced directly without an intermediate string
 * (measured faster than canonicalize + TextEncoder on both small and 10 KB inputs).
 * These are the bytes to sign or hash. The result is a fresh Uint8Array that owns its
 * ArrayBuffer (byteOffset 0): results are deliberately not views into a shared pool, although
 * that would be faster for small outputs, because `result.buffer` would then expose other data.
 * @throws as {@link canonicalize}.
 */
export function canonicalBytes(value: unknown, options?: CanonicalizeOptions): Uint8Array {
  const walk = newWalk(options);
  // The sink's buffer is reused between calls; a nested call (from a toJSON) gets its own.
  const sink = idleSink ?? new ByteSink();
  idleSink = undefined;
  sink.pos = 0;
  try {
    try {
      writeValue(sink, value, "", 0, walk);
    } catch (error) {
      throw engineLimitError(error);
    }
    if (sink.pos > walk.maxOutputBytes) throw outputTooLarge(walk);
    return copyOfRange(sink.buf, 0, sink.pos);
  } finally {
    endWalk(walk);
    sink.release();
    idleSink = sink;
  }
}

const OPTION_KEYS = ["maxDepth", "maxOutputBytes", "escapeDelAndC1"] as const;

function newWalk(options: CanonicalizeOptions | undefined): Walk {
  // The common call passes no options: no reading, no checks (tens of ns on a small value).
  if (options === undefined) return { maxDepth: DEFAULT_MAX_DEPTH, maxOutputBytes: DEFAULT_MAX_OUTPUT_BYTES, ancestors: takeAncestors(), escapeDelAndC1: false };
  const read = readOptions(options, OPTION_KEYS);
  const maxDepth = maxDepthOption(read.maxDepth);
  const maxOutputBytes = byteLimitOption(read.maxOutputBytes, "maxOutputBytes", DEFAULT_MAX_OUTPUT_BYTES, MAX_OUTPUT_BYTES_LIMIT);
  const escape = read.escapeDelAndC1;
  if (escape !== undefined && typeof escape !== "boolean") throw new InvalidTypeError("escapeDelAndC1 must be a boolean");
  return { maxDepth, maxOutputBytes, ancestors: takeAncestors(), escapeDelAndC1: escape === true };
}

// The ancestors list of the last walk that ended, for the next one; a walk nested in another (a
// toJSON that canonicalizes) makes its own. Making an ownList costs about 80 ns, a seventh of
// canonicalize on the 169-byte handshake challenge.
let idleAncestors: OwnList<object> | undefined = ownList();

function takeAncestors(): OwnList<object> {
  const list = idleAncestors ?? ownList<object>();
  idleAncestors = undefined;
  return list;
}

/** Gives the walk's ancestors list back, emptied: it would otherwise keep the last value's containers alive. */
function endWalk(walk: Walk): void {
  walk.ancestors.length = 0;
  idleAncestors = walk.ancestors;
}

// ---------------------------------------------------------------------------------------------
// Shared by both writers: the walk state, value resolution and errors.

/**
 * Per-call state. `ancestors[i]` is the container at depth i on the current path (stale beyond),
 * in a list with no prototype: writing a new index of an ordinary array runs any setter defined
 * on Array.prototype for it, which would be handed the container about to be written.
 */
interface Walk {
  readonly maxDepth: number;
  /** Largest output in UTF-8 bytes (the text writer checks UTF-16 units as it goes: never more than the bytes). */
  readonly maxOutputBytes: number;
  readonly ancestors: OwnList<object>;
  /** Old chio form: U+007F–U+009F escaped too (CanonicalizeOptions.escapeDelAndC1). */
  readonly escapeDelAndC1: boolean;
}

type MemberKey = string | number;

/** Records `container` as the ancestor at `depth`, after checking the depth limit. */
function enterContainer(container: object, depth: number, walk: Walk): void {
  if (depth >= walk.maxDepth) throw depthOrCycleError(container, depth, walk);
  walk.ancestors[depth] = container;
}

/** Called when the limit is crossed: a repeated object on the path means the graph is cyclic. */
function depthOrCycleError(container: object, depth: number, walk: Walk): CanonicalJsonError {
  const onPath = new SetAtLoad<object>();
  setAdd(onPath, container);
  for (let i = 0; i < depth; i++) {
    const ancestor = walk.ancestors[i]!;
    if (setHas(onPath, ancestor)) {
      return new CanonicalJsonError("CYCLE", "the value contains itself (circular reference)");
    }
    setAdd(onPath, ancestor);
  }
  return new CanonicalJsonError("TOO_DEEP", `nesting exceeds maxDepth (${walk.maxDepth})`);
}

/**
 * Where a refused value sits, for messages: the top-level value at depth 0 (whose key is "", as
 * JSON.stringify's holder gives toJSON), else an array element or a member by its name; a member
 * named "" is `member ""`, not the top-level value (helper 140's D3).
 */
function describeKey(key: MemberKey, depth: number): string {
  return depth === 0 ? "top-level value" : typeof key === "number" ? `array element ${key}` : `member ${quoteJsonString(key)}`;
}

function unsupportedTypeError(value: unknown, key: MemberKey, depth: number): CanonicalJsonError {
  const what = value === undefined ? "undefined" : typeof value;
  return new CanonicalJsonError("UNSUPPORTED_TYPE", `${describeKey(key, depth)} is ${what}, which has no JSON form`);
}

function nonFiniteError(value: number, key: MemberKey, depth: number): CanonicalJsonError {
  return new CanonicalJsonError("NON_FINITE_NUMBER", `${describeKey(key, depth)} is ${value}, which JSON cannot represent`);
}

function loneSurrogateError(index: number): CanonicalJsonError {
  return new CanonicalJsonError("LONE_SURROGATE", `string has an unpaired UTF-16 surrogate at index ${index}`);
}

/** Calls value.toJSON(key) when present, like JSON.stringify; otherwise returns the value. */
function applyToJSON(value: object, key: MemberKey): unknown {
  const toJSON = (value as { toJSON?: unknown }).toJSON;
  if (typeof toJSON !== "function") return value;
  return apply(toJSON, value, [typeof key === "number" ? toText(key) : key]);
}

/**
 * For an object that is neither an array nor a plain object, the primitive a boxed
 * Number/String/Boolean/BigInt stands for (JSON.stringify's SerializeJSONProperty step 4),
 * or the object itself.
 */
function unboxPrimitive(value: object): unknown {
  // JSON.stringify tests the internal slot ([[NumberData]] etc.), not the prototype: an object
  // that merely inherits from Number.prototype is an ordinary object, and a boxed number from
  // another realm (vm, iframe) is a number. The prototype chain picks this realm's candidates
  // cheaply (isInstanceOf: no Symbol.hasInstance hook runs); an object from another realm is in
  // none of them, so its slots are probed directly.
  const foreign = !isInstanceOf(ObjectClass, value);
  if ((foreign || isInstanceOf(NumberClass, value)) && hasSlot(numberValueOf, value)) return toNumber(checkedPrimitive(value, NUMBER_HINT));
  if ((foreign || isInstanceOf(StringClass, value)) && hasSlot(stringValueOf, value)) return toText(checkedPrimitive(value, STRING_HINT));
  if ((foreign || isInstanceOf(BooleanClass, value)) && hasSlot(booleanValueOf, value)) return apply(booleanValueOf, value, NO_ARGUMENTS);
  if ((foreign || isInstanceOf(BigIntClass, value)) && hasSlot(bigintValueOf, value)) return apply(bigintValueOf, value, NO_ARGUMENTS);
  return value;
}

const NUMBER_HINT: readonly ["number"] = Object.freeze(["number"] as const);
const STRING_HINT: readonly ["string"] = Object.freeze(["string"] as const);
const TO_PRIMITIVE = Symbol.toPrimitive;

/**
 * ToPrimitive (ECMA-262 7.1.1) of a boxed number or string, for JSON.stringify's ToNumber /
 * ToString of it: the box's Symbol.toPrimitive (own or inherited, as every lookup below), else valueOf and toString (toString first for
 * a string), looked up and called as the engine does, once each, in its order. Written out because
 * the engine's conversion fails with an untyped TypeError of its own (a symbol answered, or a
 * bigint for a number; a Symbol.toPrimitive that is not a function; no method answering a
 * primitive), UNSUPPORTED_TYPE here, and because Number() read a bigint answer as a number (2n as
 * 2, 2n ** 70n rounded) where ToNumber, and so JSON.stringify, refuse it (hunt 27). The answer
 * left is one Number() and String() convert as ToNumber and ToString do.
 */
function checkedPrimitive(box: object, hint: readonly ["number"] | readonly ["string"]): unknown {
  const exotic = (box as { [TO_PRIMITIVE]?: unknown })[TO_PRIMITIVE];
  let answer: unknown = box;
  if (exotic != null) {
    if (typeof exotic === "function") answer = apply(exotic, box, hint);
  } else {
    for (let i = 0; i < 2 && isObjectLike(answer); i++) {
      const method = (box as Record<string, unknown>)[(i === 0) === (hint === NUMBER_HINT) ? "valueOf" : "toString"];
      if (typeof method === "function") answer = apply(method, box, NO_ARGUMENTS);
    }
  }
  const type = typeof answer;
  if (isObjectLike(answer) || type === "symbol" || (type === "bigint" && hint === NUMBER_HINT)) throw new CanonicalJsonError("UNSUPPORTED_TYPE", `a boxed ${hint[0]} converts to no ${hint[0]}`);
  return answer;
}

function isObjectLike(value: unknown): boolean {
  return (typeof value === "object" && value !== null) || typeof value === "function";
}

/** True if `value` has the internal slot that the built-in `valueOf` requires (it throws otherwise). */
function hasSlot(valueOf: (this: object) => unknown, value: object): boolean {
  try {
    apply(valueOf, value, NO_ARGUMENTS);
    return true;
  } catch {
    return false;
  }
}

const I64_MIN = -(2n ** 63n);
const U64_MAX = 2n ** 64n - 1n;

/** A BigInt's exact digits, within −2^63…2^64−1 (see the file header); NUMBER_OUT_OF_RANGE outside. */
function bigintText(value: bigint, key: MemberKey, depth: number): string {
  if (value < I64_MIN || value > U64_MAX) {
    throw new CanonicalJsonError("NUMBER_OUT_OF_RANGE", `${describeKey(key, depth)} is a bigint outside −2^63…2^64−1, which canonical JSON keeps exactly only in that range`);
  }
  return bigintDigits(value);
}

/**
 * An array's length as JSON.stringify reads it (ECMA-262 LengthOfArrayLike: ToLength of the
 * `length` member), read once. Only a Proxy can report something other than a valid length.
 */
function arrayLength(array: readonly unknown[]): number {
  const length: unknown = array.length;
  if (typeof length === "number" && length >= 0 && length <= 0xffffffff && isInteger(length)) return length;
  // ToNumber refuses a symbol and a bigint (JSON.stringify throws TypeError; Number() would read
  // 2n as 2, and a symbol threw an untyped TypeError from here: hunt 19): UNSUPPORTED_TYPE.
  if (typeof length === "symbol" || typeof length === "bigint") {
    throw new CanonicalJsonError("UNSUPPORTED_TYPE", `an array's length is a ${typeof length}, which is not a length`);
  }
  // Unary plus is ToNumber itself: an object's valueOf (caller code, as in JSON.stringify) runs,
  // and what it throws propagates unchanged, as the caller's other code does (file header).
  const n = truncate(+(length as number));
  return n > 0 ? (n < MAX_SAFE_INTEGER ? n : MAX_SAFE_INTEGER) : 0; // NaN and negatives → 0
}

function isPlainRecord(value: object): boolean {
  const proto = getPrototypeOf(value);
  return proto === OBJECT_PROTOTYPE || proto === null;
}

/**
 * An object's own enumerable member names (Object.keys), unless its members could not fit in
 * what is left of maxOutputBytes after `written` bytes: n members take at least 5n + 1 bytes
 * (`{"":0,…}`), so a larger n is TOO_LARGE before the names are listed and sorted. A typed array
 * (written as `{"0":…}`, like JSON.stringify) is judged by its length before Object.keys, which
 * would make a string for each of its elements (review-37: a Uint8Array of 10^8 zero bytes).
 */
function memberNames(object: object, written: number, walk: Walk): string[] {
  const room = walk.maxOutputBytes - written;
  const elements = typedArrayElementCount(object);
  if (elements !== undefined && 5 * elements + 1 > room) throw outputTooLarge(walk);
  const keys = ownEnumerableKeys(object);
  if (keys.length > 0 && 5 * keys.length + 1 > room) throw outputTooLarge(walk);
  return keys;
}

/**
 * Sorts member names by UTF-16 code units (RFC 8785 §3.2.3). Small objects dominate real
 * documents, and an insertion sort with `<` beats Array.prototype.sort's setup cost there.
 */
function sortKeys(keys: string[]): void {
  const n = keys.length;
  if (n > 12) {
    sortStrings(keys); // the default comparator compares UTF-16 code units
    return;
  }
  for (let i = 1; i < n; i++) {
    const key = keys[i]!;
    let j = i - 1;
    while (j >= 0 && keys[j]! > key) {
      keys[j + 1] = keys[j]!;
      j--;
    }
    keys[j + 1] = key;
  }
}

// ---------------------------------------------------------------------------------------------
// Text writer (canonicalize).

function valueText(value: unknown, key: MemberKey, depth: number, walk: Walk): string {
  switch (typeof value) {
    case "string":
      return walk.escapeDelAndC1 ? legacyStringText(value) : stringText(value);
    case "number":
      if (value - value !== 0) throw nonFiniteError(value, key, depth); // NaN and ±Infinity (x - x is NaN)
      return toText(value); // ECMAScript Number::toString; String(-0) is "0"
    case "boolean":
      return value ? "true" : "false";
    case "object":
      if (value === null) return "null";
      return containerText(applyToJSON(value, key), key, depth, walk);
    case "bigint":
      return bigintText(value, key, depth);
    case "function":
      // A function with a toJSON method is serialized through it, as by JSON.stringify.
      if (typeof (value as { toJSON?: unknown }).toJSON === "function") {
        return containerText(applyToJSON(value, key), key, depth, walk);
      }
      throw unsupportedTypeError(value, key, depth);
    default:
      throw unsupportedTypeError(value, key, depth);
  }
}

/** Writes a value that has already had its toJSON chance. */
function containerText(value: unknown, key: MemberKey, depth: number, walk: Walk): string {
  if (typeof value !== "object" || value === null) {
    if (typeof value === "function") throw unsupportedTypeError(value, key, depth);
    return valueText(value, key, depth, walk);
  }
  if (isArray(value)) return arrayText(value, depth, walk);
  if (!isPlainRecord(value)) {
    const primitive = unboxPrimitive(value);
    if (primitive !== value) return valueText(primitive, key, depth, walk);
  }
  return objectText(value as Record<string, unknown>, depth, walk);
}

function arrayText(array: readonly unknown[], depth: number, walk: Walk): string {
  enterContainer(array, depth, walk);
  const n = arrayLength(array);
  if (n === 0) return "[]";
  const childDepth = depth + 1;
  const max = walk.maxOutputBytes;
  let text = "[" + valueText(array[0], 0, childDepth, walk);
  for (let i = 1; i < n; i++) {
    if (text.length > max) throw outputTooLarge(walk); // UTF-16 units never exceed UTF-8 bytes
    text += "," + valueText(array[i], i, childDepth, walk);
  }
  if (text.length > max) throw outputTooLarge(walk);
  return text + "]";
}

function objectText(object: Record<string, unknown>, depth: number, walk: Walk): string {
  enterContainer(object, depth, walk);
  const keys = memberNames(object, 0, walk);
  const n = keys.length;
  if (n === 0) return "{}";
  sortKeys(keys);
  const childDepth = depth + 1;
  const max = walk.maxOutputBytes;
  let text = "{";
  for (let i = 0; i < n; i++) {
    const key = keys[i]!;
    if (i > 0) text += ",";
    text += (walk.escapeDelAndC1 ? legacyStringText(key) + ":" : quotedMemberName(key)) + valueText(object[key], key, childDepth, walk);
    if (text.length > max) throw outputTooLarge(walk);
  }
  return text + "}";
}

/**
 * Documents repeat the same member names many times, and the escape scan plus two
 * concatenations per name is a large share of the work on small objects (≈30% on the handshake
 * challenge, measured). So short names are cached as their finished `"name":` prefix. The cache
 * is bounded in entry count and entry length, and holds only names that passed validation.
 */
const MEMBER_NAME_CACHE_LIMIT = 4096;
const MEMBER_NAME_CACHE_MAX_LENGTH = 64;
const quotedMemberNames = new Map<string, string>();

function quotedMemberName(key: string): string {
  // Map's methods as captured at load (src/bytes.ts): a replaced get answered for the cache, and
  // a replaced set poisoned it for every later call (review 100).
  let quoted = mapGet(quotedMemberNames, key);
  if (quoted !== undefined) return quoted;
  quoted = stringText(key) + ":";
  if (key.length <= MEMBER_NAME_CACHE_MAX_LENGTH) {
    if (mapSize(quotedMemberNames) >= MEMBER_NAME_CACHE_LIMIT) mapClear(quotedMemberNames);
    mapSet(quotedMemberNames, key, quoted);
  }
  return quoted;
}

// The walk scans strings without regular expressions: it runs at any depth of
// the caller's stack, and a regular expression compiled there (on its first use, when the engine
// tiers it up, or after it flushed its code) can overflow inside the compiler, which V8 answers
// with a SyntaxError or, at some depths, by aborting the process (review 54).

/** @internal True if `s` holds DEL or a C1 control (U+007F–U+009F): the characters escapeDelAndC1 escapes. */
export function hasDelOrC1(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = charCodeAt(s, i);
    if (c >= 0x7f && c <= 0x9f) return true;
  }
  return false;
}

/**
 * Quoted string. For well-formed strings JSON.stringify escapes exactly the RFC 8785 set
 * (ECMA-262 QuoteJSONString: " \ \b \f \n \r \t, other controls as lowercase \u00xx) and
 * leaves every other character, surrogate pairs included, as it is; it escapes a lone surrogate
 * as \udxxx instead, which RFC 8785 refuses. So a quoted text two units longer than the string
 * escaped nothing and is the canonical form; any other length is checked for lone surrogates
 * (LONE_SURROGATE) before it is taken. Native, with no regular expression to compile (see below).
 * In the bench (169-byte challenge) canonicalize takes 0.54 µs this way, 0.35 µs with the
 * regular expression scan it replaces, 1.03 µs with a charCodeAt loop.
 */
function stringText(s: string): string {
  const quoted = quoteJsonString(s);
  if (quoted.length !== s.length + 2) assertWellFormed(s);
  return quoted;
}

// The old chio form (escapeDelAndC1): stringText's output, with DEL and C1 escaped as well. The
// canonical form writes them raw, so they can be found and replaced in the finished text.
function legacyStringText(s: string): string {
  const text = stringText(s);
  if (!hasDelOrC1(text)) return text;
  let out = "";
  let from = 0;
  for (let i = 0; i < text.length; i++) {
    const c = charCodeAt(text, i);
    if (c >= 0x7f && c <= 0x9f) {
      out += stringSlice(text, from, i) + "\\u00" + HEX[c >> 4] + HEX[c & 15];
      from = i + 1;
    }
  }
  return out + stringSlice(text, from);
}

function assertWellFormed(s: string): void {
  const at = loneSurrogateIndex(s);
  if (at >= 0) throw loneSurrogateError(at);
}

// ---------------------------------------------------------------------------------------------
// Byte writer (canonicalBytes): UTF-8 straight into a reused buffer.

class ByteSink {
  buf: Uint8Array = newBytes(1024);
  /**
   * buf's length, kept beside it: the realm's %TypedArray%.prototype.length getter can be replaced
   * after load (README "Hardening"), and one answering 0 made reserve() double 0 forever.
   */
  size = 1024;
  pos = 0;

  /** Makes room for `extra` more bytes. */
  reserve(extra: number): void {
    const need = this.pos + extra;
    if (need <= this.size) return;
    let size = this.size * 2;
    while (size < need) size *= 2;
    let grown: Uint8Array;
    try {
      grown = newBytes(size);
    } catch (error) {
      // A stack overflow here is the walk's depth, not the output's size: passed on, for
      // engineLimitError to call TOO_DEEP (it was TOO_LARGE when the walk reached the stack's
      // limit right at this allocation).
      if (isStackOverflowError(error)) throw error;
      // Beyond the engine's typed-array limit or out of memory (a RangeError from the engine).
      throw new CanonicalJsonError("TOO_LARGE", `canonical output needs more than ${this.pos} bytes, which cannot be allocated`);
    }
    typedArraySet(grown, subview(this.buf, 0, this.pos));
    this.buf = grown;
    this.size = size;
  }

  /** Appends an ASCII-only string (numbers, literals). */
  ascii(text: string): void {
    const n = text.length;
    this.reserve(n);
    const buf = this.buf;
    let pos = this.pos;
    for (let i = 0; i < n; i++) buf[pos++] = charCodeAt(text, i);
    this.pos = pos;
  }

  /** Drops an oversized buffer after a huge document so one call does not pin memory. */
  release(): void {
    if (this.size > 1 << 20) {
      this.buf = newBytes(1024);
      this.size = 1024;
    }
  }
}

let idleSink: ByteSink | undefined = new ByteSink();

const HEX = "0123456789abcdef";

/**
 * Writes `s` as a quoted, escaped JSON string in UTF-8, rejecting unpaired surrogates.
 * Unescaped, a UTF-16 code unit takes at most 3 UTF-8 bytes (a surrogate pair takes 4 for 2),
 * so 3 per unit is reserved up front; the rare escape (up to 6 bytes) re-reserves for the rest.
 */
function writeString(sink: ByteSink, s: string): void {
  const n = s.length;
  sink.reserve(n * 3 + 2);
  let buf = sink.buf;
  let pos = sink.pos;
  buf[pos++] = 0x22;
  for (let i = 0; i < n; i++) {
    let c = charCodeAt(s, i);
    if (c < 0x80) {
      if (c >= 0x20 && c !== 0x22 && c !== 0x5c) {
        buf[pos++] = c;
        continue;
      }
      sink.pos = pos;
      sink.reserve(6 + (n - i - 1) * 3 + 1); // this escape, the rest, the closing quote
      buf = sink.buf;
      buf[pos++] = 0x5c; // backslash
      switch (c) {
        case 0x22: buf[pos++] = 0x22; break; // \"
        case 0x5c: buf[pos++] = 0x5c; break; // \\
        case 0x08: buf[pos++] = 0x62; break; // \b
        case 0x0c: buf[pos++] = 0x66; break; // \f
        case 0x0a: buf[pos++] = 0x6e; break; // \n
        case 0x0d: buf[pos++] = 0x72; break; // \r
        case 0x09: buf[pos++] = 0x74; break; // \t
        default: // other C0 controls: \u00xx, lowercase hex (RFC 8785 §3.2.2.2)
          buf[pos++] = 0x75;
          buf[pos++] = 0x30;
          buf[pos++] = 0x30;
          buf[pos++] = charCodeAt(HEX, c >> 4);
          buf[pos++] = charCodeAt(HEX, c & 15);
      }
    } else if (c < 0x800) {
      buf[pos++] = 0xc0 | (c >> 6);
      buf[pos++] = 0x80 | (c & 0x3f);
    } else if ((c & 0xf800) !== 0xd800) {
      buf[pos++] = 0xe0 | (c >> 12);
      buf[pos++] = 0x80 | ((c >> 6) & 0x3f);
      buf[pos++] = 0x80 | (c & 0x3f);
    } else {
      const low = i + 1 < n ? charCodeAt(s, i + 1) : 0;
      if (c > 0xdbff || (low & 0xfc00) !== 0xdc00) throw loneSurrogateError(i);
      i++;
      c = 0x10000 + ((c - 0xd800) << 10) + (low - 0xdc00);
      buf[pos++] = 0xf0 | (c >> 18);
      buf[pos++] = 0x80 | ((c >> 12) & 0x3f);
      buf[pos++] = 0x80 | ((c >> 6) & 0x3f);
      buf[pos++] = 0x80 | (c & 0x3f);
    }
  }
  buf[pos++] = 0x22;
  sink.pos = pos;
}

/** The old chio form of `s` (see legacyStringText), as UTF-8. A compatibility path, not tuned. */
function writeLegacyString(sink: ByteSink, s: string): void {
  if (!hasDelOrC1(s)) {
    writeString(sink, s);
    return;
  }
  const bytes = encodeUtf8(legacyUtf8, legacyStringText(s)); // well-formed: legacyStringText refuses lone surrogates
  const n = viewLength(bytes); // by its internal slot, as ByteSink.size (a replaced length getter answered a byte short)
  sink.reserve(n);
  typedArraySet(sink.buf, bytes, sink.pos);
  sink.pos += n;
}

const legacyUtf8 = new TextEncoder();

function writeValue(sink: ByteSink, value: unknown, key: MemberKey, depth: number, walk: Walk): void {
  switch (typeof value) {
    case "string":
      // At least one byte per unit plus the quotes: refused before reserving 3 bytes per unit.
      if (sink.pos + value.length + 2 > walk.maxOutputBytes) throw outputTooLarge(walk);
      if (walk.escapeDelAndC1) writeLegacyString(sink, value);
      else writeString(sink, value);
      return;
    case "number":
      if (value - value !== 0) throw nonFiniteError(value, key, depth);
      sink.ascii(toText(value));
      return;
    case "boolean":
      sink.ascii(value ? "true" : "false");
      return;
    case "object":
      if (value === null) sink.ascii("null");
      else writeResolved(sink, applyToJSON(value, key), key, depth, walk);
      return;
    case "bigint":
      sink.ascii(bigintText(value, key, depth));
      return;
    case "function":
      if (typeof (value as { toJSON?: unknown }).toJSON === "function") {
        writeResolved(sink, applyToJSON(value, key), key, depth, walk);
        return;
      }
      throw unsupportedTypeError(value, key, depth);
    default:
      throw unsupportedTypeError(value, key, depth);
  }
}

function writeResolved(sink: ByteSink, value: unknown, key: MemberKey, depth: number, walk: Walk): void {
  if (typeof value !== "object" || value === null) {
    if (typeof value === "function") throw unsupportedTypeError(value, key, depth);
    writeValue(sink, value, key, depth, walk);
    return;
  }
  if (isArray(value)) {
    writeArray(sink, value, depth, walk);
    return;
  }
  if (!isPlainRecord(value)) {
    const primitive = unboxPrimitive(value);
    if (primitive !== value) {
      writeValue(sink, primitive, key, depth, walk);
      return;
    }
  }
  writeObject(sink, value as Record<string, unknown>, depth, walk);
}

function writeArray(sink: ByteSink, array: readonly unknown[], depth: number, walk: Walk): void {
  enterContainer(array, depth, walk);
  const n = arrayLength(array);
  const max = walk.maxOutputBytes;
  const childDepth = depth + 1;
  sink.reserve(1);
  sink.buf[sink.pos++] = 0x5b; // [
  for (let i = 0; i < n; i++) {
    if (i > 0) {
      sink.reserve(1);
      sink.buf[sink.pos++] = 0x2c; // ,
    }
    writeValue(sink, array[i], i, childDepth, walk);
    if (sink.pos > max) throw outputTooLarge(walk);
  }
  sink.reserve(1);
  sink.buf[sink.pos++] = 0x5d; // ]
}

function writeObject(sink: ByteSink, object: Record<string, unknown>, depth: number, walk: Walk): void {
  enterContainer(object, depth, walk);
  const keys = memberNames(object, sink.pos, walk);
  const n = keys.length;
  sortKeys(keys);
  const childDepth = depth + 1;
  sink.reserve(1);
  sink.buf[sink.pos++] = 0x7b; // {
  for (let i = 0; i < n; i++) {
    const key = keys[i]!;
    if (i > 0) {
      sink.reserve(1);
      sink.buf[sink.pos++] = 0x2c; // ,
    }
    if (sink.pos + key.length + 2 > walk.maxOutputBytes) throw outputTooLarge(walk);
    if (walk.escapeDelAndC1) writeLegacyString(sink, key);
    else writeString(sink, key);
    sink.reserve(1);
    sink.buf[sink.pos++] = 0x3a; // :
    writeValue(sink, object[key], key, childDepth, walk);
    if (sink.pos > walk.maxOutputBytes) throw outputTooLarge(walk);
  }
  sink.reserve(1);
  sink.buf[sink.pos++] = 0x7d; // }
}
