// Assertions on canonicalize / canonicalBytes (src/canonical/value.ts) that canonical-value and
// canonical-value-audit share: a typed refusal, the same refusal from both entry points, and both
// entry points agreeing (the bytes are the UTF-8 of the text).
import * as assert from "uvu/assert";
import { canonicalize, canonicalBytes } from "../../src/canonical/value.js";
import { CanonicalJsonError } from "../../src/errors.js";

const utf8 = new TextEncoder();

type Options = Parameters<typeof canonicalize>[1];

/** `run` throws CanonicalJsonError with `code`. */
export function expectCode(code: string, run: () => unknown, label = ""): void {
  try {
    run();
  } catch (error) {
    assert.instance(error, CanonicalJsonError, label);
    assert.is((error as CanonicalJsonError).code, code, label);
    return;
  }
  assert.unreachable(`expected CanonicalJsonError ${code}${label ? `: ${label}` : ""}`);
}

/** Both entry points fail the same way. */
export function expectBothCode(code: string, value: unknown, options?: Options, label = ""): void {
  expectCode(code, () => canonicalize(value, options), `canonicalize ${label}`);
  expectCode(code, () => canonicalBytes(value, options), `canonicalBytes ${label}`);
}

/** Both entry points, and the bytes are the UTF-8 of the text. */
export function both(value: unknown, options?: Options): string {
  const text = canonicalize(value, options);
  assert.equal(canonicalBytes(value, options), utf8.encode(text));
  return text;
}
