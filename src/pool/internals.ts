// The pool objects behind the facades createVerifierPool returns (src/pool/index.ts), for the
// tests that read a pool's private state: piscina's counters, the slot queue, the attempts made.
// The object a program holds has only VerifierPool's members; this module is not in the
// package's exports map, so a program cannot import it through the package's name.
import { weakMapGet, weakMapSet } from "../collections.js";

const pools = new WeakMap<object, object>();

/** @internal Records `pool` as the implementation behind `facade` (createVerifierPool). */
export function registerPoolInternals(facade: object, pool: object): void {
  weakMapSet(pools, facade, pool);
}

/** @internal The implementation behind a pool createVerifierPool made (tests only); throws for any other object. */
export function poolInternals<T>(facade: object): T {
  const pool = weakMapGet(pools, facade);
  if (pool === undefined) throw new TypeError("not a pool made by createVerifierPool");
  return pool as T;
}
