// Owns the one WebAssembly instance: lazy synchronous instantiation from the embedded bytes,
// async `init()` for hosts that refuse large synchronous compiles, `init(module)` for edge
// hosts that forbid compiling from bytes, and trap containment.
//
// The module has no imports and allocates nothing per call (stub runtime, fixed scratch), so
// a single instance per JS realm serves every caller. Each module of src/ declares the exports
// it uses as an interface and reads them through `coreExports<T>()`.
//
// The instance and its linear memory never leave src/: `init`/`initSync` return nothing, and
// this module is internal (src/index.ts re-exports only init, initSync and WasmSource). Code
// that could write linear memory could make verification accept forgeries (for instance by
// replacing a decoded public key in the core's cache, or the base-point tables), so reaching
// the memory must take a deliberate import of this internal file, as the tests do. Nor does it
// leave through a built-in: views of it are made and read only with the intrinsics captured at
// load (here and in src/bytes.ts), so code that replaces a built-in afterwards never sees it
// (review 70 F1).
//
// Offsets and codes that cross the boundary come from ./abi.ts, generated from assembly/abi.ts.
//
// The default bytes come from ./source-embedded.ts (base64 in the JS); the ESM build imports
// `#wasm-source` in its place, which browser bundles resolve to ./source-url.ts (fetches
// chio.wasm, needs `await init()`), see scripts/build-js.mjs.
import { compileDefaultWasm, defaultWasmBytesSync } from "./source-embedded.js";
import { compileFetchedWasm } from "./fetch-wasm.js";
import { CHIO_WASM_EXPORTS } from "../generated/chio-wasm-exports.js";
import { describeThrown, instanceOfOrFalse, WasmCoreError } from "../errors.js";
import { bytesOver, fillRandomBytes, typedArrayFill, typedArraySet, uncurryThis } from "../bytes.js";
import { hostWasm, NO_WEBASSEMBLY } from "./host.js";
import { ADDRESS_CEILING, ARG_SECRET } from "./abi.js";

// WebAssembly.Module, WebAssembly.Memory and BufferSource are declared by TypeScript's DOM
// library alone (not by ES20xx nor @types/node 20), so naming them in these exported types broke
// Node-only projects compiling with skipLibCheck off (hunt 27: three errors in this file's
// declarations). They are read through globalThis instead: exactly those types wherever the host's
// WebAssembly is declared, else `never` for a module and memory (no such value can be named
// there) and an ArrayBuffer or a view for the bytes.
type HostWasmModule = typeof globalThis extends { WebAssembly: { Module: { prototype: infer M } } } ? M : never;
type HostWasmMemory = typeof globalThis extends { WebAssembly: { Memory: { prototype: infer M } } } ? M : never;
type HostBufferSource = typeof globalThis extends { WebAssembly: { validate(bytes: infer B): boolean } } ? B : ArrayBuffer | ArrayBufferView;

/** The exports every part of the library relies on (see assembly/index.ts). */
export interface CoreExports {
  readonly memory: HostWasmMemory;
  args_ptr(): number;
  io_base(): number;
  io_reserve(bytes: number): number;
}

/** Anything `initSync` accepts: a compiled module, or the raw .wasm bytes. */
export type WasmSource = HostWasmModule | HostBufferSource;

/**
 * Anything `init` accepts: a WasmSource, or where to fetch chio.wasm from (a URL, a fetch
 * Response or a promise of one), for pages whose bundler does not place the file itself.
 */
export type InitSource = WasmSource | URL | Response | PromiseLike<Response>;

function isFetchSource(source: InitSource): source is URL | Response | PromiseLike<Response> {
  return (
    source instanceof URL ||
    (typeof Response === "function" && source instanceof Response) ||
    (typeof (source as PromiseLike<Response>).then === "function")
  );
}

// The WebAssembly intrinsics this module uses, captured as it loads (see src/bytes.ts): caller
// code that replaces WebAssembly.Instance, the `exports` or `buffer` getters afterwards is never
// handed an instance, its memory or its buffer (review 70 F1). On a host without WebAssembly
// (./host.ts) there are none: every way to start the core refuses first (noWebAssembly), and
// nothing below is reached.
const wasm = hostWasm ?? ({} as Partial<typeof WebAssembly>);
const WasmInstance = wasm.Instance!;
const WasmModule = wasm.Module!;
const WasmRuntimeError = wasm.RuntimeError;
const wasmCompile = wasm.compile!;
const wasmInstantiate = wasm.instantiate as (module: WebAssembly.Module, imports: WebAssembly.Imports) => Promise<WebAssembly.Instance>;
const wasmValidate = wasm.validate;
const moduleExports = WasmModule?.exports;
const moduleImports = WasmModule?.imports;
// Without WebAssembly these wrap undefined: never called, as noted above.
const instanceExports = uncurryThis(Object.getOwnPropertyDescriptor(WasmInstance?.prototype ?? {}, "exports")?.get as (this: WebAssembly.Instance) => WebAssembly.Exports);
const memoryBuffer = uncurryThis(Object.getOwnPropertyDescriptor(wasm.Memory?.prototype ?? {}, "buffer")?.get as (this: WebAssembly.Memory) => ArrayBuffer);

/** WASM_UNAVAILABLE on a host without WebAssembly, thrown before anything reads the intrinsics above. */
function noWebAssembly(): never {
  throw unavailable(new Error(NO_WEBASSEMBLY), false);
}

let compiled: WebAssembly.Module | undefined;
let current: CoreExports | undefined;
/** An instance dropped whose wipe has not finished (wipeAndDropInstance). */
let dropping: CoreExports | undefined;
let heap: Uint8Array = bytesOver(new ArrayBuffer(0));
/** The buffer `heap` views (memory.grow replaces the memory's buffer). */
let heapBuffer: ArrayBuffer | undefined;
let argsPtr = 0;
let ioBase = 0;

/**
 * Bytes of linear memory for prepared public keys (assembly/ed25519/prepared-public.ts), laid
 * out between static data and the I/O arena when an instance is adopted (and again by
 * setPreparedSlabBytes). Default 640 KiB: the base-point table and 19 keys (about 33 KB each).
 */
export const DEFAULT_PREPARED_SLAB_BYTES = 640 * 1024;
let preparedSlabBytes = DEFAULT_PREPARED_SLAB_BYTES;
let preparedSlabSlots = 0;
/** True when the last layout was turned off for want of memory (layOutSlab's "turn off"). */
let slabTurnedOff = false;
/** Slabs laid out so far, each empty when laid out (see preparedSlabLayoutCount). */
let slabLayouts = 0;

interface SlabExports {
  ed25519_prepared_configure(maxBytes: number): number;
}

/**
 * Lays out a slab of `bytes` on `x`. When memory cannot grow that far, the core keeps its previous
 * layout: an instance starting ("turn off") then runs without prepared keys rather than not at
 * all; for a new size asked for ("refuse") this returns false, the previous layout and its keys
 * staying (review-33 D2). The error is built by the caller, so entries that never resize the
 * slab (chio-trust/canonical) do not carry its text.
 */
function layOutSlab(x: CoreExports, bytes: number, ifMemoryShort: "turn off" | "refuse"): boolean {
  // Every core has the export: assertChioCore refuses a module without it.
  const configure = (x as CoreExports & SlabExports).ed25519_prepared_configure;
  let slots = configure(bytes >>> 0);
  if (slots < 0) {
    if (ifMemoryShort === "refuse") return false;
    slots = configure(0);
    slabTurnedOff = true;
  } else {
    slabTurnedOff = false;
  }
  preparedSlabSlots = slots;
  slabLayouts++;
  ioBase = x.io_base();
  return true;
}

interface KeyIndexExports {
  ed25519_seed_key_index(): void;
}

/** Bytes of the key caches' position key (assembly/ed25519/exports.ts ed25519_seed_key_index). */
const KEY_INDEX_SEED_BYTES = 16;

/**
 * The key caches' position key of every instance of this realm (assembly/ed25519/key-cache.ts
 * key_index_hash): random bytes drawn once, when this module loads, or undefined where the host
 * has no CSPRNG then (or its getRandomValues throws, as a host that refuses random numbers outside
 * a request handler would): the instances then keep the core's fixed key, which costs only the
 * protection against chosen colliding keys. Drawn here rather than when an instance is adopted, because adoption happens
 * inside API calls (the first one, or the one after a trap), after they checked their arguments
 * and before they copy them: getRandomValues may be caller code (a shim) and could detach or
 * change an argument in between. Kept in JS for the realm's life, so that an instance rebuilt
 * after a trap gets it too; it decides cache positions only, never a verdict.
 */
const realmKeyIndexSeed: Uint8Array | undefined = (() => {
  try {
    return fillRandomBytes(new Uint8Array(KEY_INDEX_SEED_BYTES));
  } catch {
    return undefined;
  }
})();

/**
 * Throws unless `mod` has the core's interface: every export of CHIO_WASM_EXPORTS (written by
 * scripts/build-wasm.mjs from the release build) with its kind, and no import. Checked before a
 * module is instantiated or kept: another .wasm served at chio.wasm's URL was adopted half-way
 * (hunt 11 R1), and every later call failed with an engine TypeError, init() with the right
 * source included. A build with more exports (build/chio.test.wasm) passes. It runs inside the
 * first API call (coreExports), where no caller code may run (review 84): an indexed loop and
 * for…in over objects without a prototype, no array iterator or method.
 */
function assertChioCore(mod: WebAssembly.Module): void {
  const have = { __proto__: null } as unknown as Record<string, string>;
  const found = moduleExports!(mod);
  for (let i = 0; i < found.length; i++) have[found[i].name] = found[i].kind;
  let why = moduleImports!(mod).length > 0 ? "it has imports" : "";
  for (const name in CHIO_WASM_EXPORTS) if (!why && have[name] !== CHIO_WASM_EXPORTS[name]) why = `it has no ${CHIO_WASM_EXPORTS[name]} export "${name}"`;
  if (why) throw new Error(`this WebAssembly module is not chio-trust's core: ${why}`);
}

/**
 * Makes `instance` the live one. Nothing of it is kept until every step succeeded: before, a
 * throw here left it `current`, half set up (hunt 11 R1).
 */
function adopt(instance: WebAssembly.Instance): CoreExports {
  const x = instanceExports(instance) as unknown as CoreExports;
  const buffer = memoryBuffer(x.memory);
  const view = bytesOver(buffer);
  const args = x.args_ptr();
  // No caller code runs from here to the end: the position key and the slab are set before
  // anything can reach this instance.
  if (realmKeyIndexSeed !== undefined) {
    typedArraySet(view, realmKeyIndexSeed, args + ARG_SECRET); // the core takes them and wipes its copy
    (x as CoreExports & KeyIndexExports).ed25519_seed_key_index();
  }
  layOutSlab(x, preparedSlabBytes, "turn off");
  heapBuffer = buffer; // heapU8() makes a new view if the layout grew memory
  heap = view;
  argsPtr = args;
  current = x;
  return x;
}

/**
 * @internal Sets the prepared-key slab size (bytes) and lays it out again on the live instance
 * (dropping every prepared key; holders re-prepare on next use), or, with no instance yet, starts
 * one with that size (laid out once: memory never shrinks, so no default slab first). Returns the
 * slot count.
 * @throws WasmCoreError WASM_OUT_OF_MEMORY when memory cannot grow to that size: on a live
 *   instance size, layout and keys stay as they were (see layOutSlab); an instance started for it
 *   gets the previous size laid out, as if the call had not been made (review 46: before, this was
 *   reported as success with 0 slots; later the instance ran without prepared keys and its layout
 *   reported the previous size).
 */
export function setPreparedSlabBytes(bytes: number): number {
  if (coreCallInterrupted.set) wipeAndDropInstance();
  if (!current) {
    const previous = preparedSlabBytes;
    preparedSlabBytes = bytes;
    try {
      instantiateSync();
    } catch (error) {
      preparedSlabBytes = previous; // no instance: nothing was laid out
      throw error;
    }
    if (!slabTurnedOff) return preparedSlabSlots;
    // As if never called: the previous size (the default) laid out, or prepared keys off when
    // even that does not fit, as for an instance started short of memory (before, the instance
    // ran without prepared keys while its layout reported the previous size).
    preparedSlabBytes = previous;
    layOutSlab(current!, previous, "turn off");
    throw new WasmCoreError("WASM_OUT_OF_MEMORY", `WebAssembly memory cannot grow to ${bytes} bytes of prepared keys; the previous size (${previous} bytes, ${preparedSlabSlots} keys) is laid out`);
  }
  if (!layOutSlab(current, bytes, "refuse")) {
    throw new WasmCoreError(
      "WASM_OUT_OF_MEMORY",
      `WebAssembly memory cannot grow to ${bytes} bytes of prepared keys; the previous layout (${preparedSlabBytes} bytes, ${preparedSlabSlots} keys) stays`,
    );
  }
  preparedSlabBytes = bytes;
  return preparedSlabSlots;
}

/**
 * @internal How many prepared-key slabs have been laid out, each holding no key when laid out
 * (configurePreparedKeys, or an instance started after a trap dropped the last one); never
 * starts an instance. For holders of PreparedPublicKey objects whose keys reach the core as
 * bytes (the handshake exchange verifies envelopes that carry their key), which no verify() of
 * the object prepares again after a new layout.
 */
export function preparedSlabLayoutCount(): number {
  return slabLayouts;
}

/**
 * @internal The slab size in force in bytes and the slot count of the live layout: 0 and 0 when
 * the instance runs without prepared keys for want of memory (layOutSlab's "turn off"; the
 * configured size stays for a rebuilt instance).
 */
export function preparedSlabLayout(): { maxBytes: number; slots: number } {
  coreExports(); // an instance laid out (an interrupted one dropped first)
  return { maxBytes: slabTurnedOff ? 0 : preparedSlabBytes, slots: preparedSlabSlots };
}

/**
 * Instantiates synchronously (once). Pass a module or bytes to use them instead of the embedded
 * ones. Returns nothing: the instance stays private to the library.
 */
export function initSync(source?: WasmSource): void {
  if (coreCallInterrupted.set) wipeAndDropInstance();
  if (current) return;
  instantiateSync(source);
}

function instantiateSync(source?: WasmSource): CoreExports {
  if (hostWasm === undefined) noWebAssembly();
  let bytes = source;
  if (bytes === undefined && compiled === undefined) {
    try {
      bytes = defaultWasmBytesSync();
    } catch (cause) {
      // No bytes to compile yet (the browser build before init()): the message says what to do,
      // and no hint about this host's SIMD, which is not the cause (review 72 F9).
      throw unavailable(cause, false);
    }
  }
  try {
    // Without bytes: the module compiled before (by init(), or for the instance a trap discarded).
    const mod = bytes instanceof WasmModule ? bytes : bytes !== undefined ? new WasmModule(bytes) : compiled!;
    assertChioCore(mod);
    compiled = mod; // kept only once it is the core: the next call or init() starts from it
    return adopt(new WasmInstance(mod, {}));
  } catch (cause) {
    throw unavailable(cause);
  }
}

/**
 * An instance of the compiled `mod`, made synchronously, or undefined where the host refuses
 * that (a RangeError: a main thread's size rule). A promise of an instance would hand it to
 * whatever Promise.prototype.constructor or `then` caller code put there when it resolves
 * (review 73 F3), so init() uses one only where the host leaves no choice.
 */
function instantiateCompiled(mod: WebAssembly.Module): WebAssembly.Instance | undefined {
  try {
    return new WasmInstance(mod, {});
  } catch (error) {
    if (instanceOfOrFalse(RangeError, error)) return undefined;
    throw error;
  }
}

/**
 * Instantiates asynchronously. Call it once at start-up in browsers whose main thread refuses
 * synchronous compilation of modules over 4 KiB, and always in browser bundles (which fetch
 * chio.wasm rather than embed it); afterwards every API works synchronously. With no argument
 * it uses the build's default source; pass a compiled module (hosts that forbid compiling
 * bytes), the bytes, or a URL / Response of chio.wasm.
 */
export async function init(source?: InitSource): Promise<void> {
  if (coreCallInterrupted.set) wipeAndDropInstance(); // as initSync: an interrupted instance is not running (hunt 27)
  // Only a source init() will not use (its own await handles a used one's rejection): the `then`
  // of a used one ran twice, once here inside init() (a lazy thenable fetched twice).
  if (current || compiled || hostWasm === undefined) handleRejection(source);
  if (current) return;
  if (hostWasm === undefined) noWebAssembly();
  try {
    const mod =
      source instanceof WasmModule
        ? source
        : (compiled ??
          (await (source === undefined
            ? compileDefaultWasm()
            : isFetchSource(source)
              ? compileFetchedWasm(source)
              : wasmCompile(source))));
    assertChioCore(mod);
    compiled = mod;
    if (!current) {
      const instance = instantiateCompiled(mod) ?? (await wasmInstantiate(mod, {}));
      // Checked again after the await: another init() may have adopted an instance meanwhile, and
      // replacing it dropped its memory unwiped, with the keys prepared in it (hunt 27). One that
      // was interrupted since is dropped, as above: kept, the next call rebuilt it synchronously,
      // which the host refuses.
      if (coreCallInterrupted.set) wipeAndDropInstance();
      if (!current) adopt(instance);
    }
  } catch (cause) {
    throw unavailable(cause);
  }
}

/**
 * Handles the rejection of a promise init() is given and does not use (the core is running, or
 * was compiled before, or the host has no WebAssembly): left alone, a fetch that failed was an
 * unhandled rejection, which ends a Node process by default, although init() had resolved (hunt
 * 27). Its `then` is the caller's code, as in isFetchSource; a source without one throws here,
 * unheeded. Both handlers are functions: a thenable that settles later calls the one it settles
 * with, and an `undefined` there was an uncaught TypeError that ended the process too.
 */
function handleRejection(source: InitSource | undefined): void {
  try {
    (source as PromiseLike<Response>).then(ignoreOutcome, ignoreOutcome);
  } catch {
    // not a promise (or its `then` threw): no rejection is left pending
  }
}

function ignoreOutcome(): void {}

/**
 * @internal The smallest module that uses a 128-bit SIMD value: `(func (result v128)
 * (v128.const i32x4 0 0 0 0))`. The core needs fixed-width SIMD (the signing table scan,
 * assembly/curve25519/scalar_mul/fixed_base.ts, and field additions); every engine has had it
 * since 2021–2023 (Chrome 91, Firefox 89, Safari 16.4, Node 16.4). Typed as a fresh array by
 * `ReturnType<typeof Uint8Array.of>`, not `Uint8Array<ArrayBuffer>`, which TypeScript before 5.7
 * cannot read in the declarations (test/node/types-without-dom.test.ts).
 */
export const SIMD_PROBE: ReturnType<typeof Uint8Array.of> = new Uint8Array([
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, // magic, version 1
  0x01, 0x05, 0x01, 0x60, 0x00, 0x01, 0x7b, //       type section: () -> v128
  0x03, 0x02, 0x01, 0x00, //                         function section: one function of type 0
  0x0a, 0x16, 0x01, 0x14, 0x00, 0xfd, 0x0c, //       code section: v128.const ...
  0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, //  ... 16 zero bytes
  0x0b, //                                           end
]);

/**
 * WASM_UNAVAILABLE for a failed compile or instantiation, naming a missing SIMD feature when that
 * may be the cause (`compiling`: false when nothing was compiled yet, as before init()).
 */
function unavailable(cause: unknown, compiling = true): WasmCoreError {
  let simd = true;
  try {
    if (compiling) simd = wasmValidate!(SIMD_PROBE); // inside the try: absent without WebAssembly
  } catch {
    // no validate (or it threw): say nothing about SIMD
  }
  const hint = simd ? "" : " (this host's WebAssembly has no fixed-width SIMD, which the core needs)";
  let text: string;
  try {
    text = String(cause); // an engine's error with its name ("CompileError: ...")
  } catch {
    text = describeThrown(cause); // init()'s source rejected with a value that has no string form
  }
  return new WasmCoreError("WASM_UNAVAILABLE", `cannot instantiate the chio-trust WebAssembly core${hint}: ${text}`, { cause });
}

/**
 * Set, with no function call, by the catch of every call into the core before it calls
 * contained() (and by secretCall when its call did not return, and by wipeAndDropInstance until
 * its wipe is done; reserveIo's io_reserve, which only grows memory and keeps no other state, is
 * called outside some of those catches). When the engine's stack is all but
 * exhausted, contained() itself can fail to run (entering it throws a RangeError: helper 156), and
 * the instance it should have dropped may have stopped mid-call: a slab half laid out (the glue's
 * I/O arena address no longer the core's, so verify() checked a message written elsewhere and
 * accepted a forgery), a table half built, a secret not wiped. So the next entry into the core
 * (coreExports, which heapU8, argsBase, ioArenaBase, reserveIo and preparedSlabLayout go through;
 * liveCoreExports, initSync and setPreparedSlabBytes) wipes and drops it
 * before anything else runs. contained() clears it when the error was this library's own
 * (WasmCoreError: nothing interrupted), wipeAndDropInstance() when it drops the instance.
 */
export const coreCallInterrupted = { set: false };

/** @internal The live exports, instantiating on first use (after dropping an interrupted instance). */
export function coreExports<T extends CoreExports = CoreExports>(): T {
  if (coreCallInterrupted.set) wipeAndDropInstance();
  return (current ?? instantiateSync()) as T;
}

/**
 * @internal The live exports, or undefined when no instance is running (never starts one): for
 * bookkeeping that only concerns the instance of the moment, such as a finalizer's release.
 */
export function liveCoreExports<T extends CoreExports = CoreExports>(): T | undefined {
  if (coreCallInterrupted.set) wipeAndDropInstance();
  return current as T | undefined;
}

/** @internal A byte view of linear memory, re-created after the memory grew (growth detaches old views). */
export function heapU8(): Uint8Array {
  const x = coreExports();
  const buffer = memoryBuffer(x.memory);
  if (buffer !== heapBuffer) {
    heapBuffer = buffer;
    heap = bytesOver(buffer);
  }
  return heap;
}

/** Address of the fixed argument block (assembly/memory.ts ARGS). */
export function argsBase(): number {
  coreExports();
  return argsPtr;
}

/** Address of the I/O arena. */
export function ioArenaBase(): number {
  coreExports();
  return ioBase;
}

/**
 * Ensures the I/O arena can hold `bytes` bytes. Throws WasmCoreError("WASM_OUT_OF_MEMORY")
 * if linear memory cannot grow that far.
 */
export function reserveIo(bytes: number): void {
  const x = coreExports();
  assertFitsAnyCore(bytes);
  if (x.io_reserve(bytes >>> 0) !== 1) throw cannotReserve(bytes);
}

/**
 * Throws WasmCoreError("WASM_OUT_OF_MEMORY"), as reserveIo would, for an input of `bytes` bytes
 * that no instance of the core can ever hold (over ADDRESS_CEILING): for callers that hand the
 * input to a core elsewhere (the worker pool) and must refuse it before copying or packing it.
 */
export function assertFitsAnyCore(bytes: number): void {
  if (bytes > ADDRESS_CEILING) throw cannotReserve(bytes);
}

const cannotReserve = (bytes: number) => new WasmCoreError("WASM_OUT_OF_MEMORY", `cannot reserve ${bytes} bytes of WebAssembly memory`);

/**
 * Runs `fn` against the core. A trap (which validated input should never cause) is turned into
 * WasmCoreError("WASM_TRAP") and the instance is dropped, so the next call starts clean and no
 * half-written scratch state survives. Any other exception escaping `fn` other than our own
 * WasmCoreError (e.g. a RangeError when the engine's stack runs out inside a wasm call) may
 * also have interrupted the core mid-call, so it drops the instance too and is rethrown.
 * Calls that hand the core a secret use secretCall() as well.
 */
export function guarded<R>(fn: () => R): R {
  try {
    return fn();
  } catch (cause) {
    coreCallInterrupted.set = true; // before any call: see coreCallInterrupted
    throw contained(cause);
  }
}

/**
 * What guarded() does with an exception `cause` from a call into the core (the instance dropped
 * where it says), returned for the caller to throw. For hot paths, which inline guarded's
 * `try { … } catch (cause) { coreCallInterrupted.set = true; throw contained(cause); }` rather
 * than allocate a closure per call (README "The JS ↔ wasm boundary": nothing is allocated per
 * call beyond the result). Every caller sets coreCallInterrupted first, which this clears.
 */
export function contained(cause: unknown): unknown {
  // Checked first: without WebAssembly (./host.ts) a WASM_UNAVAILABLE from a callback that tried to
  // start the core reaches this, and `instanceof undefined` would throw.
  // By the prototype chain alone (instanceOfOrFalse), not `instanceof`, which would run a
  // Symbol.hasInstance caller code defined on either class or on Error (helper 148).
  if (WasmRuntimeError !== undefined && instanceOfOrFalse(WasmRuntimeError, cause)) {
    wipeAndDropInstance();
    return new WasmCoreError("WASM_TRAP", `WebAssembly core trapped: ${(cause as Error).message}`, { cause });
  }
  if (!instanceOfOrFalse(WasmCoreError, cause)) wipeAndDropInstance();
  coreCallInterrupted.set = false; // dropped, or the library's own error: nothing interrupted
  return cause;
}

/**
 * Runs one wasm call that reads a secret the caller wrote into linear memory (the seed in the
 * ARGS block). The core wipes every secret intermediate before it returns; if the call does not
 * return normally (a trap, or an engine exception such as a stack-overflow RangeError thrown
 * partway through), that wipe never ran, so all of linear memory is zeroed here and the
 * instance dropped before the exception propagates.
 */
export function secretCall<A, R = void>(call: (arg: A) => R, arg: A): R {
  let completed = false;
  try {
    const result = call(arg);
    completed = true;
    return result;
  } finally {
    if (!completed) {
      coreCallInterrupted.set = true; // in case the wipe cannot run either
      wipeAndDropInstance();
    }
  }
}

/**
 * @internal Zeroes the whole linear memory of the live instance (secrets, caches, tables) and
 * drops it; the next call re-instantiates from the cached compiled module. Uses only a native
 * fill, so it still works when the JS stack is almost exhausted.
 */
export function wipeAndDropInstance(): void {
  // Marked until the wipe is done: if it cannot finish (no stack left), the instance stays marked,
  // and the next entry into the core wipes it again before anything else runs.
  coreCallInterrupted.set = true;
  const x = current;
  current = undefined;
  if (x) {
    dropping = x;
    try {
      typedArrayFill(bytesOver(memoryBuffer(x.memory)), 0);
    } catch {
      typedArrayFill(heap, 0); // the cached view still covers everything but memory grown since it was made
    }
  } else if (dropping !== undefined) {
    typedArrayFill(bytesOver(memoryBuffer(dropping.memory)), 0); // a wipe that could not finish before
  }
  dropping = undefined;
  heap = bytesOver(new ArrayBuffer(0));
  heapBuffer = undefined;
  coreCallInterrupted.set = false;
}

/** Drops the live instance; the next call re-instantiates from the cached compiled module. */
export function resetInstance(): void {
  current = undefined;
  heap = bytesOver(new ArrayBuffer(0));
  heapBuffer = undefined;
}
