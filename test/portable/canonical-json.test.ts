// canonicalizeJson (src/canonical/json.ts → assembly/json/transcoder.ts) against independent
// oracles: the RFC 8785 authors' test data (test/vectors/jcs), chio's canonical vector corpora
// (test/vectors/chio/canonical), the npm `canonicalize` package and canonicalBytes (value.ts)
// on 200,000 random JSON texts, and TextDecoder's fatal UTF-8 check for malformed input.
import { test } from "uvu";
import * as assert from "uvu/assert";
import fc from "fast-check";
import referenceCanonicalize from "canonicalize";
import { canonicalizeJson } from "../../src/canonical/json.js";
import { canonicalBytes } from "../../src/canonical/value.js";
import { CanonicalJsonError, InvalidLengthError, InvalidTypeError } from "../../src/errors.js";
import * as publicApi from "../../src/index.js";
import { bytesToHex } from "../../src/bytes.js";
import { vectorBytes, vectorFiles, vectorJson, vectorText } from "../helpers/vectors.js";

const utf8 = new TextEncoder();
const text = new TextDecoder();

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function canonical(input: string | Uint8Array, options?: Parameters<typeof canonicalizeJson>[1]): string {
  return text.decode(canonicalizeJson(input, options));
}

/** A known-good call; run after every rejected input to show the core did not trap or keep bad state. */
function assertStillWorks(): void {
  assert.is(canonical('{"b":[1,{"d":0,"c":"\\u00e9"}],"a":-0}'), '{"a":0,"b":[1,{"c":"é","d":0}]}');
}

function expectCode(code: string, input: string | Uint8Array, options?: Parameters<typeof canonicalizeJson>[1]): CanonicalJsonError {
  let caught: unknown;
  try {
    canonicalizeJson(input, options);
  } catch (error) {
    caught = error;
  }
  if (!(caught instanceof CanonicalJsonError)) {
    const shown = typeof input === "string" ? JSON.stringify(input.slice(0, 80)) : `bytes ${bytesToHex(input.subarray(0, 40))}`;
    assert.unreachable(`expected CanonicalJsonError ${code} for ${shown}, got ${caught === undefined ? "a result" : String(caught)}`);
  }
  const error = caught as CanonicalJsonError;
  assert.is(error.code, code, `${error.message} for ${typeof input === "string" ? JSON.stringify(input.slice(0, 80)) : "bytes"}`);
  assertStillWorks();
  return error;
}

// ---------------------------------------------------------------------------------------------
// Published vectors
// ---------------------------------------------------------------------------------------------

test("JCS test data (cyberphone/json-canonicalization): all 6 triples, exact bytes, bytes and string input", () => {
  const names = vectorFiles("jcs/input").filter((n) => n.endsWith(".json")).sort();
  assert.equal(names, ["arrays.json", "french.json", "structures.json", "unicode.json", "values.json", "weird.json"]);
  for (const name of names) {
    const input = vectorBytes(`jcs/input/${name}`);
    const expected = vectorBytes(`jcs/output/${name}`);
    const hex = vectorText(`jcs/outhex/${name.replace(".json", ".txt")}`).trim().split(/\s+/).join("");
    assert.is(bytesToHex(expected), hex, `${name}: output/ and outhex/ agree`);
    assert.equal(canonicalizeJson(input), expected, name);
    assert.equal(canonicalizeJson(text.decode(input)), expected, `${name} (string input)`);
  }
});

type ChioCase = { id: string; input_json: string; canonical_json: string };
function chioCases(version: string): ChioCase[] {
  return vectorJson<{ cases: any[] }>(`chio/canonical/${version}/v1.json`).cases;
}

test("chio canonical vectors 483bf3f1 (newest, RFC 8785: DEL/C1 raw): all 23 cases by default", () => {
  const cases = chioCases("483bf3f1");
  assert.is(cases.length, 23);
  for (const c of cases) assert.equal(canonicalizeJson(c.input_json), utf8.encode(c.canonical_json), c.id);
});

test("chio canonical vectors manifest-03ca17ad: all 20 cases by default", () => {
  const cases = chioCases("manifest-03ca17ad");
  assert.is(cases.length, 20);
  for (const c of cases) assert.equal(canonicalizeJson(c.input_json), utf8.encode(c.canonical_json), c.id);
});

test("chio canonical vectors a1486dbd (old Rust: DEL escaped): all 21 cases with escapeDelAndC1", () => {
  const cases = chioCases("a1486dbd");
  assert.is(cases.length, 21);
  for (const c of cases) {
    assert.equal(canonicalizeJson(c.input_json, { escapeDelAndC1: true }), utf8.encode(c.canonical_json), c.id);
  }
});

test("the two DEL behaviours really differ: each corpus fails under the other switch setting", () => {
  const old = chioCases("a1486dbd").find((c) => c.id === "u007f_escape")!;
  assert.is(old.canonical_json, '"\\u007f"');
  assert.is(canonical(old.input_json), '"\u007f"');
  for (const id of ["u007f_literal", "u009f_literal"]) {
    const c = chioCases("483bf3f1").find((x) => x.id === id)!;
    assert.is.not(canonical(c.input_json, { escapeDelAndC1: true }), c.canonical_json, id);
  }
  // \u001f is a C0 control: escaped in both modes.
  const c0 = chioCases("483bf3f1").find((x) => x.id === "u001f_escape")!;
  assert.is(canonical(c0.input_json, { escapeDelAndC1: true }), c0.canonical_json);
});

// ---------------------------------------------------------------------------------------------
// Specific behaviour
// ---------------------------------------------------------------------------------------------

test("strings: only \" \\ and C0 controls escaped (short forms, lowercase \\u00xx); everything else raw", () => {
  assert.is(canonical('"\\b\\f\\n\\r\\t\\"\\\\\\/\\u0000\\u001F\\u000b"'), '"\\b\\f\\n\\r\\t\\"\\\\/\\u0000\\u001f\\u000b"');
  assert.is(canonical('"\\u2028\\u2029\\u00E9\\uD83D\\uDE02\\u0041\\u007f\\u0080\\u009f"'), '"\u2028\u2029é😂A\u007f\u0080\u009f"');
  assert.is(canonical('"</script>"'), '"</script>"');
  // Raw multi-byte UTF-8 passes through unchanged (2, 3 and 4 byte sequences).
  assert.is(canonical('"é€😂\u{10ffff}\uffff"'), '"é€😂\u{10ffff}\uffff"');
  // Long strings cross the 8-byte fast path with specials at every alignment.
  for (let i = 0; i < 20; i++) {
    const s = "a".repeat(i) + '"' + "b".repeat(i) + "\n" + "é".repeat(i) + "\u0001" + "x".repeat(17);
    assert.is(canonical(JSON.stringify(s)), referenceCanonicalize(s)!);
  }
});

test("escapeDelAndC1: U+007F–U+009F escaped whether raw or escaped on input; U+00A0 and up stay raw", () => {
  const raw = new Uint8Array([0x22, 0x7f, 0xc2, 0x80, 0xc2, 0x9f, 0xc2, 0xa0, 0x41, 0x22]);
  assert.is(canonical(raw, { escapeDelAndC1: true }), '"\\u007f\\u0080\\u009f\u00a0A"');
  assert.is(canonical(raw), '"\u007f\u0080\u009f\u00a0A"');
  assert.is(canonical('"\\u007F\\u0085\\u00a0"', { escapeDelAndC1: true }), '"\\u007f\\u0085\u00a0"');
  assert.is(canonical('"abcdefgh\u007fijklmnop"', { escapeDelAndC1: true }), '"abcdefgh\\u007fijklmnop"');
  // Member names are compared by value even when their canonical form has escapes.
  assert.is(canonical('{"\u0080":1,"\u007f":2,"~":3}', { escapeDelAndC1: true }), '{"~":3,"\\u007f":2,"\\u0080":1}');
  expectCode("DUPLICATE_KEY", '{"\u007f":1,"\\u007f":2}', { escapeDelAndC1: true });
});

test("members sorted by UTF-16 code units (U+E000–U+FFFF after astral), by value after unescaping", () => {
  const keys = ["\ue000", "\uffff", "\u{10000}", "\u{10ffff}", "\ud7ff", "a", "", "aa", "A", "é", "\u0000", "\n", '"', "\\", "\u{1f602}", "\ufb33"];
  const obj: Record<string, number> = {};
  keys.forEach((k, i) => (obj[k] = i));
  const expected = referenceCanonicalize(obj)!;
  assert.is(canonical(JSON.stringify(obj)), expected);
  // Same members in reverse order, and every name written as \u escapes.
  const escaped = "{" + [...keys].reverse().map((k) => `"${[...k].map(escapeAll).join("")}":${obj[k]}`).join(",") + "}";
  assert.is(canonical(escaped), expected);
  assert.is(canonical('{"\\ue000":1,"\\ud800\\udc00":2}'), '{"\u{10000}":2,"\ue000":1}');
  assert.is(canonical('{"b":1,"a":2,"ab":3,"":4}'), '{"":4,"a":2,"ab":3,"b":1}');
});

function escapeAll(ch: string): string {
  let out = "";
  for (let i = 0; i < ch.length; i++) out += "\\u" + ch.charCodeAt(i).toString(16).padStart(4, "0");
  return out;
}

test("numbers: ECMAScript form through the double; integers in i64/u64 kept exactly; -0 → 0", () => {
  const cases: [string, string][] = [
    ["1e20", "100000000000000000000"],
    ["1E21", "1e+21"],
    ["1.0", "1"],
    ["-0", "0"],
    ["-0.0", "0"],
    ["-0e5", "0"],
    ["0.000001", "0.000001"],
    ["1e-7", "1e-7"],
    ["333333333.33333329", "333333333.3333333"],
    ["0.1", "0.1"],
    ["4.50", "4.5"],
    ["2e-3", "0.002"],
    ["1e-400", "0"],
    ["5e-324", "5e-324"],
    ["1.7976931348623157e308", "1.7976931348623157e+308"],
    ["18446744073709551615", "18446744073709551615"], // u64::MAX: exact
    ["18446744073709551616", "18446744073709552000"], // u64::MAX + 1: through the double
    ["9007199254740993", "9007199254740993"], // 2^53 + 1: exact (a double would give ...992)
    ["-9223372036854775808", "-9223372036854775808"], // i64::MIN: exact
    ["-9223372036854775809", "-9223372036854776000"], // below i64: through the double
    ["9223372036854775808", "9223372036854775808"], // above i64 but within u64: exact
    ["123456789012345678901234567890", "1.2345678901234568e+29"],
    ["9007199254740993.0", "9007199254740992"], // a fraction means double
    ["1" + "0".repeat(400) + "e-400", "1"],
  ];
  for (const [input, expected] of cases) assert.is(canonical(input), expected, input);
  assert.is(canonical("[0.1,0.30000000000000004,1e23,-1.5e-9]"), "[0.1,0.30000000000000004,1e+23,-1.5e-9]");
});

test("output longer than the input is bounded and correct (1e20 → 21 digits, many times)", () => {
  const input = "[" + Array(50000).fill("1e20").join(",") + "]";
  const out = canonicalizeJson(input);
  assert.is(out.length, 2 + 50000 * 21 + 49999);
  assert.is(text.decode(out.subarray(0, 45)), "[100000000000000000000,100000000000000000000,");
  assert.is(canonical("1e20", { maxOutputBytes: 21 }), "100000000000000000000");
  expectCode("TOO_LARGE", "1e20", { maxOutputBytes: 20 });
  expectCode("TOO_LARGE", '{"b":"' + "x".repeat(100) + '","a":1}', { maxOutputBytes: 50 });
});

test("whitespace of all four kinds anywhere between tokens; nothing else counts as whitespace", () => {
  assert.is(canonical(' \t\r\n{ \t"b" \n: [ 1 ,\r2 ] ,\n"a":{ } } \n'), '{"a":{},"b":[1,2]}');
  expectCode("INVALID_JSON", "\u00a01");
  expectCode("INVALID_JSON", "\u20281");
  expectCode("INVALID_JSON", "\f1");
  expectCode("INVALID_JSON", "\u000b1");
});

test("a 100,000-member object is sorted correctly (merge sort; reversed, shuffled and sorted input)", () => {
  const count = 100000;
  const names = Array.from({ length: count }, (_, i) => `k${(i * 7919) % count}`);
  const shuffled: Record<string, number> = {};
  for (const [i, name] of names.entries()) shuffled[name] = i;
  const expected = utf8.encode(referenceCanonicalize(shuffled)!);
  const input = JSON.stringify(shuffled);
  assert.ok(input.length > 1000000);
  assert.equal(canonicalizeJson(input, { maxBytes: 4 << 20 }), expected);
  // Already sorted (the linear fast path) and fully reversed (worst case for naive sorts).
  assert.equal(canonicalizeJson(text.decode(expected), { maxBytes: 4 << 20 }), expected);
  const sortedNames = Object.keys(shuffled).sort();
  const reversed = "{" + sortedNames.reverse().map((k) => `"${k}":${shuffled[k]}`).join(",") + "}";
  assert.equal(canonicalizeJson(reversed, { maxBytes: 4 << 20 }), expected);
  // A duplicate hidden among 100k members is still found.
  expectCode("DUPLICATE_KEY", reversed.slice(0, -1) + ',"k5":0}', { maxBytes: 4 << 20 });
});

test("explicit stack: nesting to the maximum (1,000) neither recurses nor traps; above it maxDepth is refused", () => {
  const depth = 1000;
  const arrays = "[".repeat(depth) + "]".repeat(depth);
  assert.is(canonicalizeJson(arrays, { maxDepth: depth }).length, 2 * depth);
  const objects = '{"a":'.repeat(depth) + "null" + "}".repeat(depth);
  assert.is(canonical(objects, { maxDepth: depth }), objects);
  expectCode("TOO_DEEP", "[".repeat(depth + 1) + "]".repeat(depth + 1), { maxDepth: depth });
  assert.throws(() => canonicalizeJson("[]", { maxDepth: depth + 1 }), (e: unknown) => e instanceof InvalidLengthError);
  const mixed = '[{"x":'.repeat(20) + "[]" + "}]".repeat(20);
  assert.is(canonical(mixed), mixed);
});

// ---------------------------------------------------------------------------------------------
// Errors: every code, and the core keeps working after each
// ---------------------------------------------------------------------------------------------

test("INVALID_JSON: grammar violations, NaN/Infinity, BOM, single quotes, comments", () => {
  const bad = [
    "", " ", "[", "{", "]", "}", "[1,]", "[,1]", "{,}", '{"a"}', '{"a":}', '{"a" 1}', '{"a":1,}', "{1:2}", "{a:1}",
    "[1 2]", '{"a":1 "b":2}', "01", "-01", "1.", ".5", "+1", "-", "--1", "1e", "1e+", "1.e5", "-x", "[1_000]",
    "NaN", "-NaN", "Infinity", "-Infinity", "[NaN]", "tru", "nul", "fals", "True", "NULL", "'a'", '"abc', '"\\x"',
    '"\\u12"', '"\\u12G4"', '"\\U0041"', '"a\nb"', '"\t"', '"\u0000"', '"\u001f"', "/*c*/1", "//c\n1", "\ufeff1",
    '["a"', '{"a":[}', '[{]', "[\"\\\"]",
  ];
  for (const input of bad) expectCode("INVALID_JSON", input);
  // A raw byte-order mark as bytes, too (RFC 8259 §8.1: must not be added; we do not skip it).
  expectCode("INVALID_JSON", new Uint8Array([0xef, 0xbb, 0xbf, 0x31]));
  const error = expectCode("INVALID_JSON", '{"a":1,}');
  assert.is(error.offset, 7);
  // A literal cut off by the end of the input, right after a call that left its missing letter
  // just past that end in the core's input buffer: still INVALID_JSON at the literal (the check
  // must stop at the input's end, not read the previous call's bytes).
  for (const [whole, cut, at] of [["true", "tru", 0], ["null", "nul", 0], ["false", "fals", 0], ["[true]", "[tru", 1], ["[false]", "[fals", 1]] as const) {
    assert.is(canonical(whole), whole);
    assert.is(expectCode("INVALID_JSON", cut).offset, at, cut);
    assert.is(canonical(whole), whole);
    assert.is(expectCode("INVALID_JSON", utf8.encode(cut)).offset, at, cut);
  }
  // The same for a \u escape cut off by the end of the input: INVALID_JSON at its backslash.
  for (const [whole, cut, at] of [['"\\u0041"', '"\\u004', 1], ['"\\ud83d\\ude00"', '"\\ud83d\\ude0', 7], ['["\\u00e9"]', '["\\u00e', 2]] as const) {
    canonical(whole);
    assert.is(expectCode("INVALID_JSON", cut).offset, at, cut);
  }
  // A backslash, a minus sign or an opening bracket as the input's last byte, likewise.
  for (const [whole, cut, at] of [['"\\n"', '"\\', 1], ['["\\t"]', '["\\', 2], ["-1", "-", 0], ["[-5]", "[-", 1], ["[]", "[", 1], ["{}", "{", 1], ["[[]]", "[[", 2], ['{"a":{}}', '{"a":{', 6]] as const) {
    canonical(whole);
    assert.is(expectCode("INVALID_JSON", cut).offset, at, cut);
  }
  // A high surrogate escape whose low half is cut off after its backslash: LONE_SURROGATE at the high one.
  canonical('"\\ud83d\\ude00"');
  assert.is(expectCode("LONE_SURROGATE", '"\\ud83d\\').offset, 1);
});

test("TRAILING_DATA: anything but whitespace after the value", () => {
  for (const input of ["1 2", "{} {}", "[]]", "nullx", '"a""b"', "1,", "0 0", "{}\u0000", "truetrue", "0x10", "1_000"]) {
    expectCode("TRAILING_DATA", input);
  }
  assert.is(expectCode("TRAILING_DATA", "[1]  ,").offset, 5);
});

test("INVALID_UTF8: overlongs, encoded surrogates, > U+10FFFF, truncated, stray bytes (agrees with fatal TextDecoder)", () => {
  const strict = new TextDecoder("utf-8", { fatal: true });
  const sequences = [
    [0xc0, 0x80], [0xc1, 0xbf], [0xe0, 0x80, 0x80], [0xe0, 0x9f, 0xbf], [0xf0, 0x80, 0x80, 0x80], [0xf0, 0x8f, 0xbf, 0xbf],
    [0xed, 0xa0, 0x80], [0xed, 0xbf, 0xbf], [0xf4, 0x90, 0x80, 0x80], [0xf5, 0x80, 0x80, 0x80], [0xf8, 0x88, 0x80, 0x80, 0x80],
    [0xe2, 0x82], [0xf0, 0x9f, 0x98], [0xc3], [0x80], [0xbf], [0xfe], [0xff], [0xc3, 0x28], [0xe2, 0x28, 0xa1], [0xf0, 0x28, 0x8c, 0xbc],
  ];
  for (const seq of sequences) {
    assert.throws(() => strict.decode(new Uint8Array(seq)), undefined, `oracle rejects ${seq}`);
    for (const [prefix, suffix] of [[[0x22], [0x22]], [[0x22, 0x61, 0x62, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68], [0x22]], [[0x7b, 0x22], [0x22, 0x3a, 0x31, 0x7d]], [[0x5b, 0x22, 0x61], [0x22, 0x5d]]]) {
      const error = expectCode("INVALID_UTF8", new Uint8Array([...prefix, ...seq, ...suffix]));
      assert.is(error.offset, prefix.length);
    }
  }
  // Outside strings: an invalid byte is INVALID_UTF8, a valid non-ASCII character is INVALID_JSON.
  expectCode("INVALID_UTF8", new Uint8Array([0x5b, 0xff, 0x5d]));
  expectCode("INVALID_JSON", new Uint8Array([0x5b, 0xc3, 0xa9, 0x5d]));
  // A sequence cut off by the end of the input itself, after a call that left the bytes that
  // would complete it just past that end in the core's input buffer: still INVALID_UTF8 at its
  // lead byte (the check must stop at the input's end, not read the previous call's bytes).
  const primer = utf8.encode('"' + "\u{1F600}".repeat(4) + '"'); // 22 F0 9F 98 80 F0 9F 98 80 …
  for (const cut of [[0x22, 0xf0, 0x9f, 0x98], [0x22, 0xf0, 0x9f], [0x5b, 0x22, 0x61, 0xf0, 0x9f, 0x98], [0xf0, 0x9f, 0x98], [0x22, 0xe2, 0x82], [0x22, 0xc3]]) {
    canonicalizeJson(primer);
    const lead = cut.findIndex((b) => b >= 0x80);
    assert.throws(() => strict.decode(new Uint8Array(cut.slice(lead))), undefined, `oracle rejects ${cut}`);
    assert.is(expectCode("INVALID_UTF8", new Uint8Array(cut)).offset, lead, `${cut}`);
  }
  // Well-formed boundary sequences are accepted.
  for (const ok of [[0xc2, 0x80], [0xdf, 0xbf], [0xe0, 0xa0, 0x80], [0xed, 0x9f, 0xbf], [0xee, 0x80, 0x80], [0xef, 0xbf, 0xbf], [0xf0, 0x90, 0x80, 0x80], [0xf4, 0x8f, 0xbf, 0xbf]]) {
    const input = new Uint8Array([0x22, ...ok, 0x22]);
    assert.equal(canonicalizeJson(input), input);
  }
});

test("LONE_SURROGATE: via escapes (high alone, low alone, high then non-low) and raw in string input", () => {
  const bad = [
    '"\\ud800"', '"\\udc00"', '"\\udfff"', '"\\ud800\\u0041"', '"\\ud800x"', '"\\ud800\\ud800"', '"\\udbff\\n"',
    '"abc\\ud83d"', '{"\\ud800":1}', '["\\ude02\\ud83d"]', '"\\uD800\\uDBFF"',
  ];
  for (const input of bad) expectCode("LONE_SURROGATE", input);
  assert.is(expectCode("LONE_SURROGATE", '["ab","\\ud800"]').offset, 7);
  // A JS string with a raw unpaired surrogate cannot be UTF-8 encoded: rejected before encoding.
  assert.is(expectCode("LONE_SURROGATE", '["é","\ud800"]').offset, 7);
  expectCode("LONE_SURROGATE", '"\udc00"');
  // A high escape followed by a malformed \u is a syntax error.
  expectCode("INVALID_JSON", '"\\ud800\\u12"');
  // A low surrogate escape is refused as such even when another \u escape follows it: were it
  // taken as the high half of a pair, \udc00\udc00 would decode to 0x110000, past U+10FFFF, and
  // be written as the invalid UTF-8 F4 90 80 80.
  for (const input of ['"\\udc00\\udc00"', '"\\udfff\\udfff"', '"\\udc00\\ud800"', '{"\\udbff\\udfff":1,"\\ude00\\udc00":2}']) {
    expectCode("LONE_SURROGATE", input);
  }
  assert.is(expectCode("LONE_SURROGATE", '["x","\\udc00\\udc00"]').offset, 6);
  // The offset is the escape of the unpaired surrogate, also when the one after it is not a low
  // surrogate (here \u0041 and \ud800): the first character of the escape that is at fault.
  assert.is(expectCode("LONE_SURROGATE", '["x","\\ud800\\u0041"]').offset, 6);
  assert.is(expectCode("LONE_SURROGATE", '{"ab":"\\ud800\\ud800"}').offset, 7);
  // U+DBFF, the last high surrogate, pairs with a low one (U+10FFFF): in string input the
  // unpaired surrogate after such a pair is the one reported, at the UTF-8 length of the text
  // before it (TextEncoder as the oracle).
  assert.is(expectCode("LONE_SURROGATE", '["\udbff\udfff","\ud800"]').offset, utf8.encode('["\u{10ffff}","').length);
  assert.is(expectCode("LONE_SURROGATE", '["\udbff\udc00\udbff"]').offset, utf8.encode('["\u{10fc00}').length);
});

test("DUPLICATE_KEY: same name after unescaping, at any depth, however far apart", () => {
  const bad = [
    '{"a":1,"a":2}', '{"a":1,"\\u0061":2}', '{"b":1,"a":1,"b":2}', '{"x":{"a":1,"a":2}}', '[{"a":1},{"b":1,"b":1}]',
    '{"\\n":1,"\\u000a":2}', '{"\\ud83d\\ude02":1,"😂":2}', '{"\\"":1,"\\u0022":2}', '{"/":1,"\\/":2}', '{"":1,"":2}',
  ];
  for (const input of bad) expectCode("DUPLICATE_KEY", input);
  assert.is(expectCode("DUPLICATE_KEY", '{"a":1,"b":2,"\\u0061":3}').offset, 13);
  // Same name in different objects is fine.
  assert.is(canonical('{"a":{"a":1},"b":{"a":2}}'), '{"a":{"a":1},"b":{"a":2}}');
});

test("TOO_DEEP: default 64 containers; configurable; depth 65 rejected", () => {
  assert.is(canonicalizeJson("[".repeat(64) + "]".repeat(64)).length, 128);
  assert.is(expectCode("TOO_DEEP", "[".repeat(65) + "]".repeat(65)).offset, 64);
  expectCode("TOO_DEEP", '{"a":'.repeat(65) + "1" + "}".repeat(65));
  assert.is(canonical("[[[1]]]", { maxDepth: 3 }), "[[[1]]]");
  expectCode("TOO_DEEP", "[[[[1]]]]", { maxDepth: 3 });
  assert.is(canonical("7", { maxDepth: 1 }), "7");
  // An unterminated deep text fails on depth before it runs out of input.
  expectCode("TOO_DEEP", "[".repeat(1000));
});

test("TOO_LARGE: input over maxBytes (default 1 MiB) as bytes or string; exactly maxBytes is fine", () => {
  const limit = 1048576;
  const exact = '"' + "x".repeat(limit - 2) + '"';
  assert.is(canonicalizeJson(exact).length, limit);
  assert.is(canonicalizeJson(utf8.encode(exact)).length, limit);
  const over = '"' + "x".repeat(limit - 1) + '"';
  assert.is(expectCode("TOO_LARGE", over).code, "TOO_LARGE");
  expectCode("TOO_LARGE", utf8.encode(over));
  // The limit counts UTF-8 bytes, not UTF-16 units.
  expectCode("TOO_LARGE", '"' + "é".repeat(9) + '"', { maxBytes: 19 });
  assert.is(canonical('"' + "é".repeat(9) + '"', { maxBytes: 20 }), '"' + "é".repeat(9) + '"');
  expectCode("TOO_LARGE", "[1]", { maxBytes: 2 });
  // The offset is that of the first byte past the limit, maxBytes, however the excess was found:
  // by the string's length in UTF-16 units, by its UTF-8 length, or by the byte count.
  assert.is(expectCode("TOO_LARGE", "[1]", { maxBytes: 2 }).offset, 2);
  assert.is(expectCode("TOO_LARGE", utf8.encode("[1]"), { maxBytes: 2 }).offset, 2);
  assert.is(expectCode("TOO_LARGE", '"' + "é".repeat(9) + '"', { maxBytes: 19 }).offset, 19);
  assert.is(expectCode("TOO_LARGE", over).offset, limit);
});

test("NUMBER_OUT_OF_RANGE: literals that overflow binary64 (I-JSON)", () => {
  for (const input of ["1e400", "-1e400", "1.8e308", "[2e308]", '{"a":1e309}', "1" + "0".repeat(309), "1e99999999999999999999"]) {
    expectCode("NUMBER_OUT_OF_RANGE", input);
  }
  assert.is(expectCode("NUMBER_OUT_OF_RANGE", "[0, 1e400]").offset, 4);
  assert.is(canonical("1.7976931348623157e308"), "1.7976931348623157e+308");
  assert.is(canonical("-1e-99999999999999999999"), "0");
});

test("misuse: wrong input and option types throw InvalidTypeError", () => {
  const proxiedBytes = new Proxy(new Uint8Array(2), {}); // passes instanceof; its length getter throws a plain TypeError
  for (const input of [null, undefined, 42, {}, [], new ArrayBuffer(2), new DataView(new ArrayBuffer(2)), new Uint16Array(2), proxiedBytes]) {
    assert.throws(() => canonicalizeJson(input as never), (e: unknown) => e instanceof InvalidTypeError && e.code === "INVALID_TYPE");
  }
  for (const options of [{ maxDepth: 1.5 }, { maxDepth: "64" }, { maxBytes: -1 }, { maxBytes: NaN }, { escapeDelAndC1: 1 }, { maxOutputBytes: -5 }, { maxdepth: 1 }, { maxOutputByte: 10 }, "x", null]) {
    assert.throws(() => canonicalizeJson("1", options as never), (e: unknown) => e instanceof InvalidTypeError);
  }
  assertStillWorks();
  // A Uint8Array subclass (Node's Buffer, where the host has one) is accepted.
  class Bytes extends Uint8Array {}
  assert.is(canonical(new Bytes(utf8.encode('{"b":1,"a":2}'))), '{"a":2,"b":1}');
  const HostBuffer = (globalThis as { Buffer?: { from(text: string): Uint8Array } }).Buffer;
  if (HostBuffer) assert.is(canonical(HostBuffer.from('{"b":1,"a":2}')), '{"a":2,"b":1}');
  assert.is(publicApi.canonicalizeJson, canonicalizeJson);
});

test("differential fuzz vs JSON.parse: 30,000 mutated texts; grammar errors agree, accepted texts canonicalize like the oracle", () => {
  const strict = new TextDecoder("utf-8", { fatal: true });
  const seeds = [
    '{"a":[1,-2.5e3,true,false,null,{"b":"x\\u00e9\\n"}],"c":{},"d":[],"e":"\\ud83d\\ude02"}',
    '[{"k":0.1},{"k":-0},["s", "\\"", 1e5, 123456789]]',
    ' { "z" : { "y" : [ 1 , 2 ] } , "x" : "é€😂" } ',
  ].map((t) => utf8.encode(t));
  const alphabet = utf8.encode('{}[]:,"\\ 0123456789-+.eEtrufalsn\nux\u00e9\u20ac\u{1f602}');
  let seed = 12345;
  const random = (n: number) => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) % n);
  let accepted = 0;
  for (let i = 0; i < 30000; i++) {
    let bytes = Array.from(seeds[i % seeds.length]);
    for (let m = 0; m <= random(3); m++) {
      const at = random(bytes.length + 1);
      const op = random(4);
      const b = random(16) === 0 ? random(256) : alphabet[random(alphabet.length)];
      if (op === 0) bytes.splice(at, 1);
      else if (op === 1) bytes.splice(at, 0, b);
      else bytes[Math.min(at, bytes.length - 1)] = b;
    }
    const input = new Uint8Array(bytes);
    let oracle: { ok: true; value: unknown } | { ok: false } = { ok: false };
    try {
      oracle = { ok: true, value: JSON.parse(strict.decode(input)) };
    } catch {}
    let ours: Uint8Array | undefined;
    let code = "";
    try {
      ours = canonicalizeJson(input);
    } catch (error) {
      assert.instance(error, CanonicalJsonError);
      code = (error as CanonicalJsonError).code;
    }
    const shown = text.decode(input);
    if (!oracle.ok) {
      assert.ok(code !== "", `accepted text JSON.parse rejects: ${shown}`);
      // BOM aside (TextDecoder strips it), every syntax/UTF-8 failure is ours too.
      continue;
    }
    if (ours === undefined) {
      // JSON.parse accepts these; I-JSON / RFC 8785 rules reject them.
      assert.ok(["LONE_SURROGATE", "DUPLICATE_KEY", "NUMBER_OUT_OF_RANGE", "INVALID_JSON"].includes(code), `${code} for ${shown}`);
      if (code === "INVALID_JSON") assert.is(input[0], 0xef, `INVALID_JSON only for a BOM that TextDecoder stripped: ${shown}`);
      continue;
    }
    accepted++;
    const expected = referenceCanonicalize(oracle.value);
    if (!/\d{16,}/.test(shown)) assert.is(text.decode(ours), expected, shown); // long integers stay exact by design
  }
  assert.ok(accepted > 1000, `only ${accepted} accepted`);
  assertStillWorks();
});

// ---------------------------------------------------------------------------------------------
// Property test: 200,000 random JSON texts vs the npm canonicalize package and canonicalBytes
// ---------------------------------------------------------------------------------------------

/** Deterministic PRNG (mulberry32) for the spelling choices, seeded from fast-check. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const WHITESPACE = ["", "", "", "", " ", "\n", "\t", "\r\n", "  ", " \t\r\n "];

/** JSON text of `value` with random whitespace, random \u escapes and random number spellings. */
function spell(value: unknown, random: () => number): string {
  const ws = () => WHITESPACE[Math.floor(random() * WHITESPACE.length)];
  if (value === null || typeof value === "boolean") return String(value);
  if (typeof value === "number") return spellNumber(value, random);
  if (typeof value === "string") return spellString(value, random);
  if (Array.isArray(value)) {
    if (value.length === 0) return "[" + ws() + "]";
    return "[" + value.map((v) => ws() + spell(v, random) + ws()).join(",") + "]";
  }
  const entries = Object.entries(value as Record<string, unknown>);
  if (entries.length === 0) return "{" + ws() + "}";
  return "{" + entries.map(([k, v]) => ws() + spellString(k, random) + ws() + ":" + ws() + spell(v, random) + ws()).join(",") + "}";
}

function spellNumber(x: number, random: () => number): string {
  if (Object.is(x, -0)) return ["-0", "-0.0", "-0e0", "0"][Math.floor(random() * 4)];
  const r = random();
  if (r < 0.5) return JSON.stringify(x);
  if (r < 0.75) return x.toExponential().replace("e+", random() < 0.5 ? "E+" : "e");
  // Integral doubles below 2^53 may be spelled with a fraction; larger integer literals would
  // stay exact (chio's i64/u64 rule), which the double-based oracle cannot express.
  if (Number.isInteger(x) && Math.abs(x) < 2 ** 53) return `${x}.${"0".repeat(1 + Math.floor(random() * 3))}`;
  return JSON.stringify(x);
}

function spellString(s: string, random: () => number): string {
  if (random() < 0.6) return JSON.stringify(s);
  let out = '"';
  for (const ch of s) {
    const cp = ch.codePointAt(0)!;
    const mode = random();
    if (mode < 0.3 || cp < 0x20 || ch === '"' || ch === "\\") {
      // \u escape (surrogate pair for astral), random hex case
      for (let i = 0; i < ch.length; i++) {
        const hex = ch.charCodeAt(i).toString(16).padStart(4, "0");
        out += "\\u" + (random() < 0.5 ? hex : hex.toUpperCase());
      }
    } else if (ch === "/" && mode < 0.6) {
      out += "\\/";
    } else {
      out += ch;
    }
  }
  return out + '"';
}

const codePoint = fc.oneof(
  { weight: 10, arbitrary: fc.integer({ min: 0x20, max: 0x7e }) },
  { weight: 1, arbitrary: fc.integer({ min: 0, max: 0x1f }) },
  { weight: 1, arbitrary: fc.integer({ min: 0x7f, max: 0xa0 }) },
  { weight: 1, arbitrary: fc.constantFrom(0x22, 0x5c, 0x2f, 0x2028, 0x2029, 0xfeff) },
  { weight: 2, arbitrary: fc.integer({ min: 0xa1, max: 0xd7ff }) },
  { weight: 2, arbitrary: fc.integer({ min: 0xe000, max: 0xffff }) },
  { weight: 2, arbitrary: fc.integer({ min: 0x10000, max: 0x10ffff }) },
);
const jsonString = fc.array(codePoint, { maxLength: 14 }).map((cps) => String.fromCodePoint(...cps));
const memberName = fc.oneof(jsonString, fc.constantFrom("a", "b", "A", "aa", "", "\ue000", "\u{10000}", "1", "10"));

function nextDouble(x: number, direction: 1 | -1): number {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, x);
  const bits = view.getBigUint64(0);
  if (x === 0) return direction * 5e-324;
  view.setBigUint64(0, (x > 0) === (direction > 0) ? bits + 1n : bits - 1n);
  return view.getFloat64(0);
}

const powerOfTen = fc.integer({ min: -323, max: 308 }).map((e) => Number(`1e${e}`));
const jsonNumber = fc.oneof(
  { weight: 4, arbitrary: fc.double({ noNaN: true, noDefaultInfinity: true }) },
  { weight: 3, arbitrary: fc.integer({ min: -1000000, max: 1000000 }) },
  { weight: 1, arbitrary: fc.integer({ min: 1, max: 2 ** 31 }).map((m) => m * 5e-324) }, // subnormals
  { weight: 1, arbitrary: fc.bigInt({ min: 1n, max: (1n << 52n) - 1n }).map((m) => Number(m) * 5e-324) },
  { weight: 2, arbitrary: powerOfTen },
  { weight: 1, arbitrary: fc.tuple(powerOfTen, fc.constantFrom<1 | -1>(1, -1)).map(([x, d]) => nextDouble(x, d)) },
  { weight: 1, arbitrary: fc.bigInt({ min: -(1n << 63n), max: (1n << 64n) - 1n }).map((b) => Number(b)) },
  { weight: 1, arbitrary: fc.integer({ min: 0, max: 999 }).map((k) => k / 100) },
  { weight: 1, arbitrary: fc.constantFrom(0, -0, 1e21, 1e-6, 1e-7, 9007199254740992, 2 ** 53 - 1, Number.MAX_VALUE, Number.MIN_VALUE) },
);

const { jsonTree } = fc.letrec((tie) => ({
  jsonTree: fc.oneof(
    { depthSize: "small", maxDepth: 6 },
    { weight: 3, arbitrary: fc.oneof(fc.constant(null), fc.boolean(), jsonNumber, jsonString) },
    { weight: 1, arbitrary: fc.array(tie("jsonTree"), { maxLength: 6 }) },
    { weight: 1, arbitrary: fc.dictionary(memberName, tie("jsonTree"), { maxKeys: 6 }) },
  ),
}));

/** Wraps a value in up to 50 extra levels of arrays/objects (deep nesting, within the default 64). */
const deepTree = fc.tuple(jsonTree, fc.array(fc.tuple(fc.boolean(), memberName), { maxLength: 50 })).map(([leaf, levels]) =>
  levels.reduce<unknown>((inner, [asArray, name]) => (asArray ? [inner] : { [name]: inner }), leaf),
);

test("property: 200,000 random JSON texts equal the npm canonicalize package and canonicalBytes, byte for byte", () => {
  let runs = 0;
  fc.assert(
    fc.property(fc.oneof({ weight: 9, arbitrary: jsonTree }, { weight: 1, arbitrary: deepTree }), fc.integer(), (value, seed) => {
      const random = prng(seed);
      const input = WHITESPACE[seed & 7] + spell(value, random) + WHITESPACE[(seed >>> 3) & 7];
      const expected = utf8.encode(referenceCanonicalize(value)!);
      const fromString = canonicalizeJson(input);
      const fromBytes = canonicalizeJson(utf8.encode(input));
      runs++;
      return sameBytes(expected, fromString) && sameBytes(expected, fromBytes) && sameBytes(expected, canonicalBytes(value));
    }),
    { numRuns: 200000 },
  );
  assert.is(runs, 200000);
});

test.run();
