// Built-ins replaced by versions that answer wrongly, for the children that check the library
// never calls one after load (README "Hardening"): test/helpers/lying-builtins-child.ts,
// test/helpers/sqlite-lying-builtins-child.ts, test/helpers/http-lying-builtins-child.ts and
// test/cluster/helpers/shared-stores-lying-builtins-child.ts.
// A replacement answers as the original until `watching` is set, then reports each run to the
// child's `onRun` and lies; restoreAll puts every replaced member back. This module takes its own
// tools as it loads, before any replacement.
//
// Not a suite: uvu's tiers run only *.test.ts files.

const apply = Reflect.apply;
const defineProperty = Object.defineProperty;
const getOwnPropertyDescriptor = Object.getOwnPropertyDescriptor;

type Method = (this: any, ...args: any[]) => any;

export interface Lies {
  /** While true, replacements lie and report; a child's own accessors read it too. */
  watching: boolean;
  /**
   * Replaces `target[key]` (a method, or a getter such as Map.prototype.size) with `liar(original)`,
   * reported under `name` whenever it runs while watching. `inherited` is the original when
   * `target` does not hold `key` itself (Symbol.hasInstance on a class, say).
   */
  replace(target: object, key: PropertyKey, name: string, liar: (original: Method) => Method, inherited?: Method): void;
  /** Remembers `target[key]` as it is now, for restoreAll: before a child defines it itself. */
  remember(target: object, key: PropertyKey): void;
  /** Puts back everything replaced or remembered, last first (`watching` is left as it is). */
  restoreAll(): void;
}

/** A set of replacements whose runs while watching go to `onRun(name)` (the child's record; it may set `watching`). */
export function createLies(onRun: (name: string) => void): Lies {
  const restores: { target: object; key: PropertyKey; descriptor: PropertyDescriptor | undefined }[] = [];
  const lies: Lies = {
    watching: false,
    remember(target, key) {
      restores[restores.length] = { target, key, descriptor: getOwnPropertyDescriptor(target, key) };
    },
    replace(target, key, name, liar, inherited) {
      const descriptor = getOwnPropertyDescriptor(target, key);
      restores[restores.length] = { target, key, descriptor };
      const original = (descriptor?.value ?? descriptor?.get ?? inherited) as Method | undefined;
      const lie = liar(original as Method);
      const wrapped = function (this: unknown, ...args: unknown[]): unknown {
        if (!lies.watching) return original === undefined ? undefined : apply(original, this, args);
        onRun(name);
        return apply(lie, this, args);
      };
      if (descriptor !== undefined && descriptor.get !== undefined) defineProperty(target, key, { ...descriptor, get: wrapped });
      else defineProperty(target, key, { value: wrapped, writable: true, configurable: true, enumerable: descriptor?.enumerable ?? false });
    },
    restoreAll() {
      for (let i = restores.length - 1; i >= 0; i--) {
        const { target, key, descriptor } = restores[i]!;
        if (descriptor === undefined) delete (target as Record<PropertyKey, unknown>)[key];
        else defineProperty(target, key, descriptor);
      }
      restores.length = 0;
    },
  };
  return lies;
}
