// canonicalizeJson's limits hold exactly (src/canonical/json.ts → assembly/json/transcoder.ts):
// maxOutputBytes equal to the canonical length succeeds and one byte less is TOO_LARGE, for
// output ending in every kind of token. The canonical length comes from the npm `canonicalize`
// package (an independent RFC 8785 implementation) and TextEncoder. maxDepth is bounded (1000)
// because nested out-of-order objects cost depth × output bytes of copying: above the bound the
// option is refused, and the worst case at the bound is still correct.
import { test } from "uvu";
import * as assert from "uvu/assert";
import fc from "fast-check";
import referenceCanonicalize from "canonicalize";
import { canonicalizeJson } from "../../src/canonical/json.js";
import { CanonicalJsonError, InvalidLengthError } from "../../src/errors.js";

const utf8 = new TextEncoder();

/** The oracle's canonical UTF-8 for `text` (JSON.parse, then the `canonicalize` package). */
function oracleBytes(text: string): Uint8Array {
  const canonical = referenceCanonicalize(JSON.parse(text));
  if (canonical === undefined) throw new Error("canonicalize returned undefined");
  return utf8.encode(canonical);
}

function tooLargeAt(text: string, maxOutputBytes: number): boolean {
  try {
    canonicalizeJson(text, { maxOutputBytes, maxDepth: 1000 });
  } catch (error) {
    if (error instanceof CanonicalJsonError && error.code === "TOO_LARGE") return true;
    throw error;
  }
  return false;
}

/** maxOutputBytes = exact succeeds with the oracle's bytes; exact − 1 (and `below` more limits under it) is TOO_LARGE. */
function checkExactLimit(text: string, below = 1): void {
  const expected = oracleBytes(text);
  const exact = expected.length;
  let got: Uint8Array;
  try {
    got = canonicalizeJson(text, { maxOutputBytes: exact, maxDepth: 1000 });
  } catch (error) {
    assert.unreachable(`${JSON.stringify(text.slice(0, 120))} with maxOutputBytes = ${exact} (the exact size): ${String(error)}`);
    return;
  }
  assert.equal(got, expected, JSON.stringify(text.slice(0, 120)));
  for (let limit = exact - 1; limit >= Math.max(0, exact - below); limit--) {
    assert.ok(tooLargeAt(text, limit), `${JSON.stringify(text.slice(0, 120))}: maxOutputBytes = ${limit} < ${exact} must be TOO_LARGE`);
  }
}

const HANDWRITTEN = [
  // strings ending at the very end of the output, of every length around the writers' chunk sizes
  ...Array.from({ length: 40 }, (_, n) => JSON.stringify("x".repeat(n))),
  ...Array.from({ length: 20 }, (_, n) => JSON.stringify(["a".repeat(n)])),
  ...Array.from({ length: 20 }, (_, n) => JSON.stringify({ k: "é".repeat(n) })),
  // escapes near the end: short forms, \u00xx, surrogate pairs, raw non-ASCII
  '"\\n"', '"ab\\u0001"', '"\\"\\\\"', '"x\\ud83d\\ude00"', '"\\u00e9"', '"😀😀"', '"\\u2028"', '"a\\/b"',
  '{"a":"\\u001f"}', '["\\t\\b\\f\\r"]', '{"\\u0000":"\\u0000"}',
  // numbers: integers, doubles formatted near the end, exponent forms, -0
  "0", "-0", "1e20", "1e21", "123456789012", "-1.2345678901234567e-308", "5e-324", "1.7976931348623157e308",
  "[0.1,0.2,0.30000000000000004]", '{"n":-1.5e-7}', "[1e-7,123e18]", "[-0.0]", "9007199254740991",
  // literals and empty containers
  "true", "false", "null", "[]", "{}", "[[],{}]", '{"a":[]}', '[{"a":{}}]',
  // nested objects that need reordering, strings at the end of each level
  '{"b":"xxxxxxxxxxxxxxxxxxxxxxxx","a":"yyyyyyyyyyyyyyyyyyyyyyyyyy"}',
  '{"z":{"z":{"z":"end","a":0},"a":0},"a":"zzzzzzzzzzzzzz"}',
  '[{"c":[1,2,{"y":"q","x":"r"}],"b":"s"},"tail string here"]',
  JSON.stringify({ z: { z: { z: { z: "deep" }, a: [1.5, "\u00e9"] }, a: null }, a: "x".repeat(17) }),
];

test("maxOutputBytes = exact canonical size succeeds, exact − 1 is TOO_LARGE (hand-picked endings)", () => {
  for (const text of HANDWRITTEN) checkExactLimit(text, 16);
});

test("maxOutputBytes = exact canonical size succeeds, exact − 1 is TOO_LARGE (3,000 random JSON texts)", () => {
  fc.assert(
    fc.property(fc.json({ maxDepth: 4, noUnicodeString: false }), (text) => {
      checkExactLimit(text, 3);
    }),
    { numRuns: 3000, seed: Number((globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env?.CHIO_TEST_SEED ?? 8785) },
  );
});

test("maxOutputBytes = 0 refuses every value; a limit above the size changes nothing", () => {
  for (const text of ["0", '""', "[]", "{}", "null"]) assert.ok(tooLargeAt(text, 0), text);
  for (const text of HANDWRITTEN.slice(0, 10)) {
    assert.equal(canonicalizeJson(text, { maxOutputBytes: oracleBytes(text).length + 1 }), oracleBytes(text));
  }
});

/** `depth` objects nested through their first member "z", each with a later member "a" that must move before it. */
function outOfOrderNest(depth: number, innermost: string): string {
  return '{"z":'.repeat(depth) + innermost + ',"a":0}'.repeat(depth);
}

test("maxDepth above 1000 is refused (InvalidLengthError, code INVALID_LENGTH), not clamped", () => {
  for (const maxDepth of [1001, 5000, 100000, 2 ** 31]) {
    let caught: unknown;
    try {
      canonicalizeJson("[]", { maxDepth });
    } catch (error) {
      caught = error;
    }
    assert.instance(caught, InvalidLengthError, `maxDepth ${maxDepth}`);
    assert.is((caught as InvalidLengthError).code, "INVALID_LENGTH");
  }
  assert.equal(canonicalizeJson("[]", { maxDepth: 1000 }), utf8.encode("[]"));
});

test("worst case at the maximum depth: 1 MiB of nested out-of-order objects, 1000 deep, equals the oracle", () => {
  const frame = '{"z":'.length + ',"a":0}'.length;
  const pad = (1 << 20) - 1000 * frame - 2;
  const text = outOfOrderNest(1000, JSON.stringify("x".repeat(pad)));
  assert.is(text.length, 1 << 20);
  assert.equal(canonicalizeJson(text, { maxDepth: 1000 }), oracleBytes(text));
  assert.equal(canonicalizeJson(text, { maxDepth: 1000, maxOutputBytes: text.length }), oracleBytes(text));
  let caught: unknown;
  try {
    canonicalizeJson(outOfOrderNest(1001, "0"), { maxDepth: 1000 });
  } catch (error) {
    caught = error;
  }
  assert.instance(caught, CanonicalJsonError);
  assert.is((caught as CanonicalJsonError).code, "TOO_DEEP");
});

test.run();
