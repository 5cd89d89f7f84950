// Map's, Set's, WeakMap's and WeakSet's methods and iterators as this module loaded, for the
// handshake's own tables and marks: the in-memory replay cache and peer store, the envelopes
// verifySignature has verified, the pin writes of unknown outcome, the prepared keys' holders and
// their finalization registries.
// Each is called with its receiver as first argument (src/bytes.ts uncurryThis), so caller code
// that replaces one after load (a Map.prototype.get that finds nothing, a WeakMap.prototype.get
// that finds a verdict for everything, an iterator's next) changes no verdict: before, a replaced
// WeakMap.get made verifySignature pass a bad signature, and a replaced Map.get let the replay
// cache take a replayed nonce (test/node/lying-builtins.test.ts). The few that canonical JSON
// needs (get, set, size and clear of a Map, has and add of a Set) are in src/bytes.ts, so that its
// entry does not load this module.
import { uncurryThis, type OwnList } from "./bytes.js";

const mapPrototype = Map.prototype;
const setPrototype = Set.prototype;

/** Map as this module loaded: the global binding can be replaced, by a class that keeps a hand on every table made. */
export const MapAtLoad = Map;
/** Map.prototype.has as this module loaded: (map, key). */
export const mapHas = uncurryThis(mapPrototype.has) as <K>(map: ReadonlyMap<K, unknown>, key: K) => boolean;
/** Map.prototype.delete as this module loaded: (map, key). */
export const mapDelete = uncurryThis(mapPrototype.delete) as <K>(map: Map<K, unknown>, key: K) => boolean;
/** Map.prototype.entries as this module loaded: (map); step the iterator with mapIteratorStep. */
export const mapEntries = uncurryThis(mapPrototype.entries) as <K, V>(map: ReadonlyMap<K, V>) => Iterator<[K, V]>;
/** Map.prototype.values as this module loaded: (map); step the iterator with mapIteratorStep. */
export const mapValues = uncurryThis(mapPrototype.values) as <V>(map: ReadonlyMap<unknown, V>) => Iterator<V>;
/** Set.prototype.delete as this module loaded: (set, value). */
export const setDelete = uncurryThis(setPrototype.delete) as <T>(set: Set<T>, value: T) => boolean;
/** Set.prototype.clear as this module loaded: (set). */
export const setClear = uncurryThis(setPrototype.clear) as (set: Set<unknown>) => void;
/** Set.prototype.size's getter as this module loaded: (set). */
export const setSize = uncurryThis(Object.getOwnPropertyDescriptor(setPrototype, "size")!.get!) as (set: ReadonlySet<unknown>) => number;
/** Set.prototype.values as this module loaded: (set); step the iterator with setIteratorStep. */
export const setValues = uncurryThis(setPrototype.values) as <T>(set: ReadonlySet<T>) => Iterator<T>;
// The `next` of Map and Set iterators: a `for…of` looks it up on %MapIteratorPrototype% and
// %SetIteratorPrototype% as it runs.
/** The next step of an iterator from mapValues: (iterator). */
export const mapIteratorStep = uncurryThis(Object.getPrototypeOf(new Map().values()).next) as <T>(iterator: Iterator<T>) => IteratorResult<T>;
/** The next step of an iterator from setValues: (iterator). */
export const setIteratorStep = uncurryThis(Object.getPrototypeOf(new Set().values()).next) as <T>(iterator: Iterator<T>) => IteratorResult<T>;
/** WeakMap.prototype.get as this module loaded: (map, key). */
export const weakMapGet = uncurryThis(WeakMap.prototype.get) as <K extends object, V>(map: WeakMap<K, V>, key: K) => V | undefined;
/** WeakMap.prototype.set as this module loaded: (map, key, value). */
export const weakMapSet = uncurryThis(WeakMap.prototype.set) as <K extends object, V>(map: WeakMap<K, V>, key: K, value: V) => WeakMap<K, V>;
/** WeakSet.prototype.has as this module loaded: (set, value). */
export const weakSetHas = uncurryThis(WeakSet.prototype.has) as <T extends object>(set: WeakSet<T>, value: T) => boolean;
/** WeakSet.prototype.add as this module loaded: (set, value). */
export const weakSetAdd = uncurryThis(WeakSet.prototype.add) as <T extends object>(set: WeakSet<T>, value: T) => WeakSet<T>;

/** Where prepared keys (src/ed25519.ts, src/prepared-secret-key.ts) register what a collected key leaves to clean up. */
export interface Finalizer<T> {
  register(target: object, held: T, token?: object): void;
  unregister(token: object): void;
}

const FinalizationRegistryAtLoad = typeof FinalizationRegistry === "function" ? FinalizationRegistry : undefined;
const registryRegister = FinalizationRegistryAtLoad && (uncurryThis(FinalizationRegistryAtLoad.prototype.register) as <T>(registry: FinalizationRegistry<T>, target: object, held: T, token?: object) => void);
const registryUnregister = FinalizationRegistryAtLoad && (uncurryThis(FinalizationRegistryAtLoad.prototype.unregister) as (registry: FinalizationRegistry<unknown>, token: object) => boolean);

/**
 * A FinalizationRegistry calling `cleanup`, used through its register and unregister as this
 * module loaded; undefined where the host has none. A replaced FinalizationRegistry.prototype.register
 * was handed the registry and the value held for each key (hunt 22): a PreparedPublicKey's own
 * key bytes, which it could rewrite (the object then verified under a stranger's key), and a
 * PreparedSecretKey's slot reference, which it could point at another key's slot (signing with
 * it then wiped that key).
 */
export function finalizerAtLoad<T>(cleanup: (held: T) => void): Finalizer<T> | undefined {
  if (FinalizationRegistryAtLoad === undefined) return undefined;
  const registry = new FinalizationRegistryAtLoad<T>(cleanup);
  return {
    register: (target, held, token) => registryRegister!(registry, target, held, token),
    unregister: (token) => {
      registryUnregister!(registry, token);
    },
  };
}

/**
 * Array.prototype.sort as this module loaded: (list, compare). Generic, so it sorts an OwnList
 * (src/bytes.ts) too; the handshake orders the pins due for rotation with it, where a replaced
 * sort decided their order (peersDueForRotation).
 */
export const arraySort = uncurryThis(Array.prototype.sort) as <T>(list: OwnList<T>, compare: (a: T, b: T) => number) => OwnList<T>;
