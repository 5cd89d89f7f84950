// canonicalize / canonicalBytes (src/canonical/value.ts) against independent oracles:
// the RFC 8785 authors' test data (test/vectors/jcs), chio's canonical vector corpora
// (test/vectors/chio/canonical), the ES6 number-formatting sample, and the npm `canonicalize`
// package on random JSON values.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { readFileSync, readdirSync } from "node:fs";
import { runInNewContext } from "node:vm";
import fc from "fast-check";
import referenceCanonicalize from "canonicalize";
import { canonicalize, canonicalBytes, MAX_DEPTH_LIMIT } from "../../src/canonical/value.js";
import { canonicalizeJson } from "../../src/canonical/json.js";
import { CanonicalJsonError, InvalidLengthError, InvalidTypeError } from "../../src/errors.js";
import * as publicApi from "../../src/index.js";
import { scaled } from "../helpers/scale.js";
import { runModule } from "../helpers/processes.js";
import { both, expectBothCode, expectCode } from "../helpers/canonical-value.js";

const vectors = new URL("../vectors/", import.meta.url);
const utf8 = new TextEncoder();

// ---------------------------------------------------------------------------------------------
// Published vectors

test("public API exports canonicalize and canonicalBytes", () => {
  assert.is(publicApi.canonicalize, canonicalize);
  assert.is(publicApi.canonicalBytes, canonicalBytes);
});

const jcsNames = readdirSync(new URL("jcs/input/", vectors)).filter((name) => name.endsWith(".json")).sort();

test("the 6 RFC 8785 test triples (cyberphone testdata) match byte for byte", () => {
  assert.equal(jcsNames, ["arrays.json", "french.json", "structures.json", "unicode.json", "values.json", "weird.json"]);
  for (const name of jcsNames) {
    const input = JSON.parse(readFileSync(new URL(`jcs/input/${name}`, vectors), "utf8"));
    const expected = new Uint8Array(readFileSync(new URL(`jcs/output/${name}`, vectors)));
    const hex = readFileSync(new URL(`jcs/outhex/${name.replace(".json", ".txt")}`, vectors), "utf8").trim();
    assert.is(Buffer.from(expected).toString("hex"), hex.split(/\s+/).join(""), `${name}: output/ and outhex/ agree`);
    assert.equal(canonicalBytes(input), expected, name);
    assert.equal(utf8.encode(canonicalize(input)), expected, name);
  }
});

test("ES6 number formatting sample (first 10,000 lines of es6testfile100m)", () => {
  const lines = readFileSync(new URL("jcs/es6-numbers-sample.txt", vectors), "utf8").trimEnd().split("\n");
  assert.is(lines.length, 10000);
  const bits = new DataView(new ArrayBuffer(8));
  for (const line of lines) {
    const [hex, expected] = line.split(",");
    bits.setBigUint64(0, BigInt(`0x${hex}`));
    const value = bits.getFloat64(0);
    if (canonicalize(value) !== expected) assert.unreachable(`${hex}: got ${canonicalize(value)}, want ${expected}`);
    if (canonicalize([value]) !== `[${expected}]`) assert.unreachable(`${hex} in an array`);
  }
  // The byte writer formats numbers through the same path; spot-check it on the edge cases.
  for (const line of lines.slice(0, 168)) {
    const [hex, expected] = line.split(",");
    bits.setBigUint64(0, BigInt(`0x${hex}`));
    assert.equal(canonicalBytes({ n: bits.getFloat64(0) }), utf8.encode(`{"n":${expected}}`), hex);
  }
});

/**
 * JSON text → JS value, like JSON.parse except that integer literals beyond ±(2^53−1) become
 * BigInt, so that chio's exact-integer vectors (u64::MAX, 2^53+1) survive parsing. Node 20's
 * JSON.parse cannot expose the source text of a number. Test-only; inputs are trusted vectors.
 */
function parseJsonKeepingBigIntegers(text: string): unknown {
  let at = 0;
  const skipSpace = () => {
    while (at < text.length && " \t\n\r".includes(text[at]!)) at++;
  };
  const parseValue = (): unknown => {
    skipSpace();
    const c = text[at];
    if (c === "{") {
      at++;
      const object: Record<string, unknown> = {};
      skipSpace();
      if (text[at] === "}") return at++, object;
      for (;;) {
        skipSpace();
        const key = parseValue() as string;
        skipSpace();
        if (text[at++] !== ":") throw new SyntaxError(`expected : at ${at}`);
        object[key] = parseValue();
        skipSpace();
        const next = text[at++];
        if (next === "}") return object;
        if (next !== ",") throw new SyntaxError(`expected , at ${at}`);
      }
    }
    if (c === "[") {
      at++;
      const array: unknown[] = [];
      skipSpace();
      if (text[at] === "]") return at++, array;
      for (;;) {
        array.push(parseValue());
        skipSpace();
        const next = text[at++];
        if (next === "]") return array;
        if (next !== ",") throw new SyntaxError(`expected , at ${at}`);
      }
    }
    // Scalars: find the token's end, then let JSON.parse decode it (strings, literals, numbers).
    const start = at;
    if (c === '"') {
      at++;
      while (text[at] !== '"') at += text[at] === "\\" ? 2 : 1;
      at++;
    } else {
      while (at < text.length && !",]} \t\n\r".includes(text[at]!)) at++;
    }
    const token = text.slice(start, at);
    const decoded = JSON.parse(token);
    if (typeof decoded === "number" && /^-?\d+$/.test(token) && !Number.isSafeInteger(decoded)) return BigInt(token);
    return decoded;
  };
  const value = parseValue();
  skipSpace();
  if (at !== text.length) throw new SyntaxError("trailing data");
  return value;
}

interface ChioCase {
  id: string;
  input_json: string;
  canonical_json: string;
}

function chioCases(corpus: string): ChioCase[] {
  return JSON.parse(readFileSync(new URL(`chio/canonical/${corpus}/v1.json`, vectors), "utf8")).cases;
}

test("chio canonical corpus 483bf3f1 (newest: DEL and C1 raw, per RFC 8785): all 23 cases", () => {
  const cases = chioCases("483bf3f1");
  assert.is(cases.length, 23);
  for (const c of cases) {
    const value = parseJsonKeepingBigIntegers(c.input_json);
    assert.equal(canonicalBytes(value), utf8.encode(c.canonical_json), c.id);
    assert.is(canonicalize(value), c.canonical_json, c.id);
  }
  const byId = new Map(cases.map((c) => [c.id, c]));
  assert.is(byId.get("u007f_literal")!.canonical_json, '"\u007f"');
  assert.is(byId.get("u009f_literal")!.canonical_json, '"\u009f"');
  assert.is(byId.get("u001f_escape")!.canonical_json, '"\\u001f"');
  assert.is(byId.get("u64_above_i64_max")!.canonical_json, '{"max_u64":18446744073709551615}');
});

test("chio canonical corpus manifest-03ca17ad: all 20 cases", () => {
  const cases = chioCases("manifest-03ca17ad");
  assert.is(cases.length, 20);
  for (const c of cases) {
    assert.is(canonicalize(parseJsonKeepingBigIntegers(c.input_json)), c.canonical_json, c.id);
  }
});

test("chio canonical corpus a1486dbd: 20 cases match; u007f_escape DIFFERS on purpose", () => {
  // a1486dbd pins old chio Rust kernels, which escape DEL as \u007f (Rust char::is_control).
  // RFC 8785 §3.2.2.2 writes it raw, and so does the newer corpus 483bf3f1; we follow the RFC.
  const cases = chioCases("a1486dbd");
  assert.is(cases.length, 21);
  for (const c of cases) {
    const ours = canonicalize(parseJsonKeepingBigIntegers(c.input_json));
    if (c.id === "u007f_escape") {
      assert.is(c.canonical_json, '"\\u007f"');
      assert.is(ours, '"\u007f"');
      assert.is.not(ours, c.canonical_json);
    } else {
      assert.is(ours, c.canonical_json, c.id);
    }
  }
});

test("escapeDelAndC1: all 21 cases of corpus a1486dbd (old chio Rust kernels), both entry points", () => {
  const cases = chioCases("a1486dbd");
  assert.is(cases.length, 21);
  for (const c of cases) assert.is(both(parseJsonKeepingBigIntegers(c.input_json), { escapeDelAndC1: true }), c.canonical_json, c.id);
  // The switch changes only U+007F–U+009F: corpus 483bf3f1's DEL/C1 literals now differ, the rest agree.
  for (const c of chioCases("483bf3f1")) {
    const old = both(parseJsonKeepingBigIntegers(c.input_json), { escapeDelAndC1: true });
    if (c.id === "u007f_literal" || c.id === "u009f_literal") assert.is.not(old, c.canonical_json, c.id);
    else assert.is(old, c.canonical_json, c.id);
  }
});

test("escapeDelAndC1: every code unit below U+0100, in values and member names, equals canonicalizeJson's switch", () => {
  for (let c = 0; c < 0x100; c++) {
    const ch = String.fromCharCode(c);
    for (const value of [ch, { [ch]: ch, "\u007f": [`a${ch}é${ch}`] }, `${"x".repeat(c % 17)}${ch}\u{1f600}`]) {
      const oracle = canonicalizeJson(JSON.stringify(value), { escapeDelAndC1: true });
      assert.equal(canonicalBytes(value, { escapeDelAndC1: true }), oracle, `U+${c.toString(16)}`);
      assert.equal(utf8.encode(canonicalize(value, { escapeDelAndC1: true })), oracle, `U+${c.toString(16)} (text)`);
    }
  }
  assert.is(both("\u007f\u0080\u009f\u00a0", { escapeDelAndC1: true }), '"\\u007f\\u0080\\u009f\u00a0"');
  assert.is(both("\u007f"), '"\u007f"'); // default unchanged
  expectBothCode("LONE_SURROGATE", "\u0080\ud800", { escapeDelAndC1: true });
  for (const bad of [1, "yes", null]) {
    assert.throws(() => canonicalBytes("x", { escapeDelAndC1: bad } as never), (e: unknown) => e instanceof InvalidTypeError);
    assert.throws(() => canonicalize("x", { escapeDelAndC1: bad } as never), (e: unknown) => e instanceof InvalidTypeError);
  }
});

test("chio canonical.rs unit cases (docs/protocol.md §3)", () => {
  assert.is(both({ z: 1, a: 2, m: 3 }), '{"a":2,"m":3,"z":1}');
  assert.is(both({ "\u{10437}": 1, "\ue000": 2 }), '{"\u{10437}":1,"\ue000":2}'); // U+10437 (D801 DC37) < U+E000
  assert.is(both({ a: 3, 10: 2, 2: 1 }), '{"10":2,"2":1,"a":3}');
  assert.is(
    both({ a: 1, b: 0, c: -0, d: 1e21, e: 1e20, f: 0.000001, g: 1e-7 }),
    '{"a":1,"b":0,"c":0,"d":1e+21,"e":100000000000000000000,"f":0.000001,"g":1e-7}',
  );
  assert.is(both({ b: "\b", backslash: "\\", ctl: "\u000f", f: "\f", quote: '"' }), '{"b":"\\b","backslash":"\\\\","ctl":"\\u000f","f":"\\f","quote":"\\""}');
  assert.is(both(["\u2028\u2029", "😀"]), '["\u2028\u2029","😀"]');
  assert.is(both([333333333.3333333, 1e-6, 9007199254740993n, 18446744073709551615n, -9223372036854775808n]), "[333333333.3333333,0.000001,9007199254740993,18446744073709551615,-9223372036854775808]");
});

// ---------------------------------------------------------------------------------------------
// String escaping and key order, checked character by character

test("escaping of every code unit below U+0100 and around the surrogate range", () => {
  const shortForms: Record<number, string> = { 0x08: "\\b", 0x09: "\\t", 0x0a: "\\n", 0x0c: "\\f", 0x0d: "\\r", 0x22: '\\"', 0x5c: "\\\\" };
  for (let c = 0; c < 0x100; c++) {
    const ch = String.fromCharCode(c);
    const expected = shortForms[c] ?? (c < 0x20 ? `\\u00${c.toString(16).padStart(2, "0")}` : ch);
    assert.is(both(ch), `"${expected}"`, `U+${c.toString(16)}`);
    assert.is(both({ [ch]: 0 }), `{"${expected}":0}`, `key U+${c.toString(16)}`);
    assert.is(both(`a${ch}é${ch}`), `"a${expected}é${expected}"`);
  }
  for (const s of ["\ud7ff", "\ue000", "\uffff", "\u{10000}", "\u{10ffff}", "x\u{1f600}y\u{1f600}"]) assert.is(both(s), `"${s}"`);
});

test("keys sort by UTF-16 code units, not code points or UTF-8 bytes", () => {
  // U+FB01 > U+1F600's high surrogate D83D; in code-point (and UTF-8) order it would come first.
  const keys = ["\ufb01", "\u{1f600}", "a", "", "ab", "b", "\u0080", "aa", "\u00e9"];
  const value = Object.fromEntries(keys.map((k, i) => [k, i]));
  const sorted = [...keys].sort((x, y) => (x < y ? -1 : x > y ? 1 : 0));
  assert.equal(sorted, ["", "a", "aa", "ab", "b", "\u0080", "\u00e9", "\u{1f600}", "\ufb01"]);
  assert.is(both(value), "{" + sorted.map((k) => `${JSON.stringify(k)}:${keys.indexOf(k)}`).join(",") + "}");
  // Many members take the long-object sort path.
  const many = Object.fromEntries(Array.from({ length: 300 }, (_, i) => [`k${(i * 7919) % 300}`, i]));
  assert.is(both(many), referenceCanonicalize(many)!);
});

// ---------------------------------------------------------------------------------------------
// canonicalizeJson (the text path, assembly/json/transcoder.ts) against the same independent
// oracles: npm canonicalize over JSON.parse, JSON.parse's own view of member names, BigInt and
// Number arithmetic for integers, TextEncoder/TextDecoder for UTF-8 offsets and validity.

type JsonOptions = Parameters<typeof canonicalizeJson>[1];
const strictUtf8 = new TextDecoder("utf-8", { fatal: true });

/** canonicalizeJson's output as text (it must be well-formed UTF-8). */
function viaText(input: string | Uint8Array, options?: JsonOptions): string {
  return strictUtf8.decode(canonicalizeJson(input, options));
}

/** canonicalizeJson fails with `code` at byte `offset`. */
function expectTextError(code: string, offset: number, input: string | Uint8Array, options?: JsonOptions, label = ""): void {
  try {
    canonicalizeJson(input, options);
  } catch (error) {
    assert.instance(error, CanonicalJsonError, label);
    assert.is((error as CanonicalJsonError).code, code, label);
    assert.is((error as CanonicalJsonError).offset, offset, `${label}: offset`);
    return;
  }
  assert.unreachable(`expected CanonicalJsonError ${code}: ${label}`);
}

/** A small seeded generator for input orders (xorshift32). */
function shuffled<T>(items: readonly T[], seed: number): T[] {
  const out = [...items];
  let s = seed | 1;
  for (let i = out.length - 1; i > 0; i--) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    const j = (s >>> 0) % (i + 1);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

/** `s` as a JSON string literal with every non-ASCII code unit written as a \uXXXX escape. */
function escapedLiteral(s: string): string {
  return JSON.stringify(s).replace(/[^\x00-\x7f]/g, (ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, "0")}`);
}

test("canonicalizeJson: member names sort by UTF-16 code units around U+E000–U+FFFF and the supplementary planes, from any input order and spelling", () => {
  // Guards the one place UTF-8 byte order differs from UTF-16 order: leads EE/EF (U+E000–U+FFFF)
  // must sort after F0–F4 (surrogate pairs). A rank that lifts only EF, or only part of the
  // range, still passes on U+F000–U+FFFF keys; U+E000–U+EFFF catches it.
  const base = ["\u007f", "\u07ff", "\u0800", "\ud7ff", "\ue000", "\ue0ff", "\ueeee", "\uefff", "\uf000", "\uf8ff", "\ufb01", "\uffff", "\u{10000}", "\u{1f600}", "\u{10ffff}", "z", ""];
  const sets = [base, base.filter((k) => k !== "").flatMap((k) => [k, `${k}a`, `${k}\u{10000}`, `${k}\ue000`])]; // 17 and 68 members: the insertion-sorted runs and the merges
  for (const [setIndex, keys] of sets.entries()) {
    const orders = [keys, [...keys].reverse(), [...keys].sort((x, y) => (x < y ? -1 : x > y ? 1 : 0)), ...Array.from({ length: 12 }, (_, i) => shuffled(keys, 0x9e3779b9 + i * 7919 + setIndex))];
    for (const [orderIndex, order] of orders.entries()) {
      const value = Object.fromEntries(order.map((k, i) => [k, i]));
      const expected = referenceCanonicalize(value)!;
      const label = `set ${setIndex}, order ${orderIndex}`;
      assert.is(viaText(JSON.stringify(value)), expected, label);
      // The same names as \u escapes: compared by value (the unescaped copy), not by spelling.
      const escaped = "{" + order.map((k, i) => `${escapedLiteral(k)}:${i}`).join(",") + "}";
      assert.equal(JSON.parse(escaped), value);
      assert.is(viaText(escaped), expected, `${label} (escaped names)`);
    }
  }
});

test("canonicalizeJson: a character written as a \\u escape (either hex case) or a short escape comes out as JSON.stringify writes it; escapeDelAndC1 also writes U+007F–U+009F as \\u00xx", () => {
  // Guards writeCodePoint, the path of characters that arrive escaped: raw text never carries
  // C0 controls, and JSON.stringify never writes \u007f…\u009f or \u000c, so tests built from
  // JSON.stringify output miss a wrong short form (\f written as \u000c) or an escapeDelAndC1
  // range that stops one short of U+009F.
  const legacy = (text: string): string => text.replace(/[\u007f-\u009f]/g, (ch) => `\\u00${ch.charCodeAt(0).toString(16)}`);
  const units = [...Array.from({ length: 0x300 }, (_, c) => c), 0x2028, 0x2029, 0xd7ff, 0xe000, 0xfeff, 0xffff];
  for (const c of units) {
    const ch = String.fromCharCode(c);
    const hex = c.toString(16).padStart(4, "0");
    for (const spelled of [`\\u${hex}`, `\\u${hex.toUpperCase()}`]) {
      for (const [text, value] of [[`"${spelled}"`, ch], [`["a${spelled}é${spelled}"]`, [`a${ch}é${ch}`]], [`{"${spelled}":"${spelled}"}`, { [ch]: ch }]] as const) {
        assert.equal(JSON.parse(text), value, text);
        const expected = referenceCanonicalize(value)!;
        assert.is(viaText(text), expected, text);
        assert.is(viaText(text, { escapeDelAndC1: true }), legacy(expected), `${text} (escapeDelAndC1)`);
      }
    }
  }
  for (const spelled of ["\\b", "\\f", "\\n", "\\r", "\\t", "\\/", "\\\\", '\\"']) {
    const text = `["${spelled}", {"${spelled}": 0}]`;
    assert.is(viaText(text), referenceCanonicalize(JSON.parse(text)), text);
  }
});

test("canonicalizeJson: every spelling of one member name is DUPLICATE_KEY, reported at the later member's quote, in order or after sorting", () => {
  // Guards duplicate detection by value (a name whose escape was not noted is compared by its
  // spelling, so {"\u005c":1,"\\":2} passes), and the offset: the later member, also when the
  // sort brings the pair together first (a check that skips the first sorted pair, or reports
  // the earlier member, passes inputs whose duplicate is already adjacent).
  const shortForms: Record<number, string> = { 0x08: "\\b", 0x09: "\\t", 0x0a: "\\n", 0x0c: "\\f", 0x0d: "\\r", 0x22: '\\"', 0x5c: "\\\\", 0x2f: "\\/" };
  const units = [...Array.from({ length: 0x100 }, (_, c) => c), 0x2028, 0xe000, 0xffff];
  for (const c of units) {
    const hex = c.toString(16).padStart(4, "0");
    const spellings = [`\\u${hex}`, `\\u${hex.toUpperCase()}`];
    if (shortForms[c] !== undefined) spellings.push(shortForms[c]!);
    if (c >= 0x20 && c !== 0x22 && c !== 0x5c) spellings.push(String.fromCharCode(c));
    for (const a of spellings) {
      for (const b of spellings) {
        for (const [head, tail] of [["{", ""], ['{"~~":0,', ""], ['{"~~":0,', ',"!":3'], ['{"é":0,"~":1,', ""]]) {
          const earlier = `${head}"x${a}":1,`;
          const text = `${earlier}"x${b}":2${tail}}`;
          assert.is(Object.keys(JSON.parse(text)).length, (head.match(/:/g)?.length ?? 0) + (tail ? 2 : 1), text); // JSON.parse keeps one member for both spellings
          expectTextError("DUPLICATE_KEY", utf8.encode(earlier).length, text, undefined, text);
        }
      }
    }
  }
  // Larger objects: one duplicated name among shuffled others, at every distance.
  const names = Array.from({ length: 40 }, (_, i) => (i % 3 === 0 ? `é${i}` : i % 3 === 1 ? `\u{1f600}${i}` : `k${i}`));
  for (let n = 2; n <= names.length; n += 3) {
    for (let seed = 1; seed <= 6; seed++) {
      const order = shuffled(names.slice(0, n), seed * 101 + n);
      const dupOf = order[seed % n]!;
      const at = Math.min(n, (seed % n) + 1 + (seed * 7) % n); // the duplicate comes after its first occurrence
      const members = order.map((k, i) => `${JSON.stringify(k)}:${i}`);
      members.splice(at, 0, `${JSON.stringify(dupOf)}:"dup"`);
      const prefix = "{" + members.slice(0, at).join(",") + ",";
      const text = prefix + members.slice(at).join(",") + "}";
      expectTextError("DUPLICATE_KEY", utf8.encode(prefix).length, text, undefined, `n ${n}, seed ${seed}`);
    }
  }
});

test("canonicalizeJson: integers kept exactly inside −2^63…2^64−1 (around 2^53, 2^63, 2^64, −2^63), rounded through the double outside, −0 as 0", () => {
  // Guards the i64/u64 boundary test: the largest u64 or the smallest i64 sent through the double
  // prints 18446744073709552000 / -9223372036854776000; one past them must do exactly that.
  const lowest = -(2n ** 63n);
  const highest = 2n ** 64n - 1n;
  const centres = [0n, 2n ** 53n, -(2n ** 53n), 2n ** 63n, -(2n ** 63n), 2n ** 64n, 10n ** 19n, -(10n ** 18n), 10n ** 20n, -(10n ** 19n)];
  for (const centre of centres) {
    for (let d = -3n; d <= 3n; d++) {
      const n = centre + d;
      const literal = n.toString();
      const inside = n >= lowest && n <= highest;
      const expected = inside ? literal : String(Number(literal)); // Number(): the double the literal rounds to
      assert.is(viaText(literal), expected, literal);
      assert.is(viaText(`{"v":[${literal}]}`), `{"v":[${expected}]}`, literal);
      // With a fraction or an exponent it is a double whatever its size.
      for (const spelled of [`${literal}.0`, `${literal}e0`, `${literal}E+0`]) assert.is(viaText(spelled), referenceCanonicalize(JSON.parse(spelled)), spelled);
    }
  }
  for (const zero of ["-0", "0", "-0.0", "-0e5", "0E-5", "-0.000"]) {
    assert.is(viaText(zero), referenceCanonicalize(JSON.parse(zero)), zero);
    assert.is(viaText(`[${zero},{"z":${zero}}]`), referenceCanonicalize(JSON.parse(`[${zero},{"z":${zero}}]`)), zero);
  }
});

test("canonicalizeJson: maxDepth admits exactly maxDepth nested containers; TOO_DEEP at the first one past it", () => {
  // Guards an off-by-one in the text path's depth check (canonicalize has its own).
  for (const maxDepth of [1, 2, 3, 17, 64, MAX_DEPTH_LIMIT]) {
    for (const opener of ["[", '{"k":']) {
      const closer = opener === "[" ? "]" : "}";
      const nest = (levels: number): string => opener.repeat(levels) + "1" + closer.repeat(levels);
      const options = maxDepth === 64 ? undefined : { maxDepth };
      assert.is(viaText(nest(maxDepth), options), referenceCanonicalize(JSON.parse(nest(maxDepth))), `${opener} ${maxDepth}`);
      expectTextError("TOO_DEEP", utf8.encode(opener.repeat(maxDepth)).length, nest(maxDepth + 1), options, `${opener} ${maxDepth}`);
      const wide = `[0,{"a":${nest(maxDepth - 1)}}]`; // maxDepth + 1 containers
      const openers = [...wide].flatMap((ch, i) => (ch === "[" || ch === "{" ? [i] : [])); // ASCII: indexes are byte offsets
      expectTextError("TOO_DEEP", openers[maxDepth]!, wide, options, `wide ${opener} ${maxDepth}`);
    }
  }
});

test("canonicalizeJson: UTF-8 is refused (INVALID_UTF8 at the lead byte) exactly where a strict TextDecoder refuses it", () => {
  // Guards the RFC 3629 §4 table at each edge (overlongs after C0/C1/E0/F0, surrogates after ED,
  // code points past U+10FFFF after F4, F5–FF, stray continuations): one edge widened lets
  // ill-formed bytes through into the canonical output.
  const seconds = [0x00, 0x7f, 0x80, 0x8f, 0x90, 0x9f, 0xa0, 0xbf, 0xc0, 0xff];
  let refused = 0;
  for (let lead = 0x80; lead <= 0xff; lead++) {
    for (const second of seconds) {
      const length = lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : 2;
      const sequence = [lead, second, 0x80, 0xbf].slice(0, length);
      for (const [before, after] of [[[0x5b, 0x22], [0x22, 0x5d]], [[0x7b, 0x22], [0x22, 0x3a, 0x30, 0x7d]], [[0x5b, 0x22, ...utf8.encode("0123456789")], [0x22, 0x5d]]]) {
        const bytes = Uint8Array.from([...before!, ...sequence, ...after!]);
        let decoded: string | undefined;
        try {
          decoded = strictUtf8.decode(bytes);
        } catch {
          decoded = undefined;
        }
        const label = `${Buffer.from(sequence).toString("hex")} after ${before!.length} bytes`;
        if (decoded === undefined) {
          refused++;
          expectTextError("INVALID_UTF8", before!.length, bytes, undefined, label);
        } else {
          assert.is(viaText(bytes), referenceCanonicalize(JSON.parse(decoded)), label);
        }
      }
    }
  }
  assert.ok(refused > 1000, `only ${refused} refused`);
});

test("canonicalizeJson: LONE_SURROGATE offsets count UTF-8 bytes, in string input and for \\u escapes", () => {
  // Guards the offset of a lone surrogate in a JavaScript string input: the UTF-8 length of the
  // prefix (TextEncoder), not its UTF-16 index, which differs once the prefix is not ASCII.
  for (const prefix of ["", "a", "é", "€", "😀", "é😀x€"]) {
    for (const bad of ["\ud800", "\udc00", "\udbff", "\ud83d\ud83d", "\ude00\ud83d"]) {
      const start = `["${prefix}`;
      expectTextError("LONE_SURROGATE", utf8.encode(start).length, `${start}${bad}"]`, undefined, JSON.stringify(prefix + bad));
      expectTextError("LONE_SURROGATE", utf8.encode(`{"${prefix}`).length, `{"${prefix}${bad}":1}`, undefined, `key ${JSON.stringify(prefix + bad)}`);
    }
    for (const bad of ["\\ud800", "\\udc00", "\\udbff\\u0041", "\\ud83d\\ud83d", "\\ud83dx"]) {
      const start = `["${prefix}`;
      expectTextError("LONE_SURROGATE", utf8.encode(start).length, `${start}${bad}"]`, undefined, prefix + bad);
    }
  }
});

test("canonicalizeJson: maxBytes admits an input of exactly maxBytes UTF-8 bytes, as a string or as bytes; one byte more is TOO_LARGE", () => {
  // Guards the bound on string input, which is measured after encoding (a `>=` there refuses a
  // string whose UTF-8 is exactly maxBytes; the byte path is checked separately).
  for (const text of ['"x"', '["é😀"]', '{"b":[1,2.5,"\u2028"],"a":null}', `"${"€".repeat(50)}"`]) {
    const size = utf8.encode(text).length;
    const expected = referenceCanonicalize(JSON.parse(text))!;
    for (const input of [text, utf8.encode(text)]) {
      assert.is(viaText(input, { maxBytes: size }), expected, text);
      expectCode("TOO_LARGE", () => canonicalizeJson(input, { maxBytes: size - 1 }));
    }
  }
});

// ---------------------------------------------------------------------------------------------
// Errors: every code, from both entry points

test("UNSUPPORTED_TYPE: undefined anywhere, functions, symbols (no silent dropping)", () => {
  expectBothCode("UNSUPPORTED_TYPE", undefined);
  expectBothCode("UNSUPPORTED_TYPE", [1, undefined]);
  expectBothCode("UNSUPPORTED_TYPE", { a: 1, b: undefined }); // JSON.stringify would drop "b"
  expectBothCode("UNSUPPORTED_TYPE", { a: { b: [undefined] } });
  expectBothCode("UNSUPPORTED_TYPE", [1, , 3]); // hole reads as undefined
  expectBothCode("UNSUPPORTED_TYPE", () => 1);
  expectBothCode("UNSUPPORTED_TYPE", { f() {} });
  expectBothCode("UNSUPPORTED_TYPE", Symbol("s"));
  expectBothCode("UNSUPPORTED_TYPE", [Symbol.iterator]);
  expectBothCode("UNSUPPORTED_TYPE", { toJSON: () => undefined });
  expectBothCode("UNSUPPORTED_TYPE", { a: { toJSON: () => () => 1 } });
  try {
    canonicalize({ name: "x", pubkey: undefined });
    assert.unreachable("undefined member accepted");
  } catch (error) {
    assert.instance(error, CanonicalJsonError);
    assert.match((error as Error).message, 'member "pubkey"');
  }
});

test("NON_FINITE_NUMBER: NaN and ±Infinity, also boxed and nested", () => {
  for (const bad of [NaN, Infinity, -Infinity]) {
    expectBothCode("NON_FINITE_NUMBER", bad);
    expectBothCode("NON_FINITE_NUMBER", { a: [0, bad] });
    expectBothCode("NON_FINITE_NUMBER", Object(bad));
  }
  expectBothCode("NON_FINITE_NUMBER", { toJSON: () => NaN });
});

test("messages name where the refused value is: the top-level value, an array element, a member (a member named \"\" too), in both walks", () => {
  // The top-level value's key is "" (as JSON.stringify's holder gives toJSON), so a member named
  // "" was called the top-level value (helper 140's D3).
  const cases: [unknown, string, string][] = [
    [NaN, "NON_FINITE_NUMBER", "top-level value is NaN"],
    [undefined, "UNSUPPORTED_TYPE", "top-level value is undefined"],
    [2n ** 64n, "NUMBER_OUT_OF_RANGE", "top-level value is a bigint"],
    [{ "": NaN }, "NON_FINITE_NUMBER", 'member "" is NaN'],
    [{ a: { "": undefined } }, "UNSUPPORTED_TYPE", 'member "" is undefined'],
    [{ "": -(2n ** 63n) - 1n }, "NUMBER_OUT_OF_RANGE", 'member "" is a bigint'],
    [[1, Infinity], "NON_FINITE_NUMBER", "array element 1 is Infinity"],
    [{ b: [0, () => 1] }, "UNSUPPORTED_TYPE", "array element 1 is function"],
  ];
  for (const [value, code, text] of cases) {
    for (const run of [() => canonicalize(value), () => canonicalBytes(value)]) {
      try {
        run();
        assert.unreachable(`accepted: ${text}`);
      } catch (error) {
        assert.instance(error, CanonicalJsonError);
        assert.is((error as CanonicalJsonError).code, code, text);
        assert.ok((error as Error).message.startsWith(text), `${JSON.stringify((error as Error).message)} starts ${JSON.stringify(text)}`);
      }
    }
  }
});

test("LONE_SURROGATE: in values and in member names, every position", () => {
  for (const bad of ["\ud800", "\udc00", "a\ud800", "\ud800b", "\udbff\udbff\udc00", "\ud83d\ud83d", "x\ude00\ud83d", "😀\ud83d"]) {
    expectBothCode("LONE_SURROGATE", bad);
    expectBothCode("LONE_SURROGATE", { [bad]: 1 });
    expectBothCode("LONE_SURROGATE", [`${"é".repeat(40)}${bad}`]);
    expectBothCode("LONE_SURROGATE", Object(bad));
  }
});

test("TOO_DEEP: default 64 containers, custom maxDepth, maxDepth 0", () => {
  const nest = (levels: number, leaf: unknown = 1, asObject = false): unknown => {
    let v = leaf;
    for (let i = 0; i < levels; i++) v = asObject ? { k: v } : [v];
    return v;
  };
  assert.is(both(nest(64)), "[".repeat(64) + "1" + "]".repeat(64));
  expectBothCode("TOO_DEEP", nest(65));
  expectBothCode("TOO_DEEP", nest(65, 1, true));
  expectBothCode("TOO_DEEP", { a: 1, b: nest(64) });
  assert.is(both(nest(3), { maxDepth: 3 }), "[[[1]]]");
  expectBothCode("TOO_DEEP", nest(4), { maxDepth: 3 });
  assert.is(both("scalar", { maxDepth: 0 }), '"scalar"');
  expectBothCode("TOO_DEEP", [], { maxDepth: 0 });
  // The largest allowed limit works without exhausting the JavaScript stack.
  const deepest = nest(MAX_DEPTH_LIMIT, 1, true);
  assert.is(both(deepest, { maxDepth: MAX_DEPTH_LIMIT }).length, MAX_DEPTH_LIMIT * 6 + 1);
  expectBothCode("TOO_DEEP", nest(MAX_DEPTH_LIMIT + 1), { maxDepth: MAX_DEPTH_LIMIT });
});

test("CYCLE: self, indirect, through arrays and through toJSON; shared references are fine", () => {
  const self: Record<string, unknown> = { a: 1 };
  self.self = self;
  expectBothCode("CYCLE", self);
  const a: Record<string, unknown> = {};
  const b = { a };
  a.b = [1, { b }];
  expectBothCode("CYCLE", a);
  const list: unknown[] = [];
  list.push(list);
  expectBothCode("CYCLE", list);
  const viaToJSON: Record<string, unknown> = {};
  viaToJSON.child = { toJSON: () => viaToJSON };
  expectBothCode("CYCLE", viaToJSON);
  expectBothCode("CYCLE", self, { maxDepth: MAX_DEPTH_LIMIT });
  // A cycle longer than maxDepth objects is reported as TOO_DEEP (it is too deep as well).
  const ring: Record<string, unknown>[] = Array.from({ length: 10 }, () => ({}));
  ring.forEach((node, i) => (node.next = ring[(i + 1) % ring.length]));
  expectBothCode("TOO_DEEP", ring[0], { maxDepth: 5 });
  expectBothCode("CYCLE", ring[0]);
  const shared = { x: [1] };
  assert.is(both({ p: shared, q: shared, r: [shared, shared] }), '{"p":{"x":[1]},"q":{"x":[1]},"r":[{"x":[1]},{"x":[1]}]}');
});

test("bad options: typed errors", () => {
  for (const maxDepth of [1.5, NaN, "3", null]) {
    assert.throws(() => canonicalize(1, { maxDepth } as never), (e: unknown) => e instanceof InvalidTypeError && e.code === "INVALID_TYPE");
    assert.throws(() => canonicalBytes(1, { maxDepth } as never), (e: unknown) => e instanceof InvalidTypeError);
  }
  // Out of range: InvalidLengthError on both paths, canonicalizeJson included (review-36 F7).
  for (const maxDepth of [-1, MAX_DEPTH_LIMIT + 1]) {
    for (const run of [() => canonicalize(1, { maxDepth }), () => canonicalBytes(1, { maxDepth }), () => canonicalizeJson("1", { maxDepth })]) {
      assert.throws(run, (e: unknown) => e instanceof InvalidLengthError && e.code === "INVALID_LENGTH", `maxDepth ${maxDepth}`);
    }
  }
  assert.throws(() => canonicalize(1, { maxDepth: Infinity }), (e: unknown) => e instanceof InvalidTypeError);
  assert.throws(() => canonicalize(1, 5 as never), (e: unknown) => e instanceof InvalidTypeError);
  // maxDepth 0: scalars only, on both paths.
  assert.is(canonicalize(1, { maxDepth: 0 }), "1");
  expectBothCode("TOO_DEEP", [], { maxDepth: 0 });
  assert.is(Buffer.from(canonicalizeJson("1", { maxDepth: 0 })).toString(), "1");
  expectCode("TOO_DEEP", () => canonicalizeJson("[]", { maxDepth: 0 }));
  for (const maxOutputBytes of [-1, 1.5, "9", null]) {
    assert.throws(() => canonicalize(1, { maxOutputBytes } as never), (e: unknown) => e instanceof InvalidTypeError, String(maxOutputBytes));
    assert.throws(() => canonicalBytes(1, { maxOutputBytes } as never), (e: unknown) => e instanceof InvalidTypeError, String(maxOutputBytes));
  }
  // A misspelt option is an error, not a limit silently left at its default (review-36 F4).
  for (const options of [{ maxdepth: 1 }, { maxOutputByte: 10 }, { escapeDELAndC1: true }, { maxBytes: 10 }]) {
    assert.throws(() => canonicalize([[1]], options as never), (e: unknown) => e instanceof InvalidTypeError && /unknown member/.test((e as Error).message), JSON.stringify(options));
    assert.throws(() => canonicalBytes([[1]], options as never), (e: unknown) => e instanceof InvalidTypeError, JSON.stringify(options));
  }
  for (const options of [{ maxdepth: 1 }, { maxOutputByte: 10 }, { escapeDELAndC1: true }]) {
    assert.throws(() => canonicalizeJson("[[1]]", options as never), (e: unknown) => e instanceof InvalidTypeError && /unknown member/.test((e as Error).message), JSON.stringify(options));
  }
  assert.is(canonicalize(1, {}), "1");
});

test("maxOutputBytes bounds both writers exactly, in UTF-8 bytes, and canonicalizeJson alike", () => {
  for (const value of [["é".repeat(10), 1], { "😀": "a\n", b: [true, null] }, "x".repeat(40), [1, 2, 3]]) {
    const bytes = canonicalBytes(value).length;
    assert.is(canonicalize(value, { maxOutputBytes: bytes }), canonicalize(value));
    assert.equal(canonicalBytes(value, { maxOutputBytes: bytes }), canonicalBytes(value));
    expectBothCode("TOO_LARGE", value, { maxOutputBytes: bytes - 1 } as never);
    const text = JSON.stringify(value);
    assert.equal(canonicalizeJson(text, { maxOutputBytes: bytes }), canonicalBytes(value));
    expectCode("TOO_LARGE", () => canonicalizeJson(text, { maxOutputBytes: bytes - 1 }));
  }
});

test("a small value that expands (shared references, a Proxy whose length is 2^32 − 1) is TOO_LARGE within the default bound, not an out-of-memory crash (review-36 F1)", () => {
  let shared: unknown = [];
  for (let i = 0; i < 40; i++) shared = [shared, shared]; // 2^40 leaves if expanded
  const huge = new Proxy([], { get: (target, key) => (key === "length" ? 2 ** 32 - 1 : typeof key === "string" && /^\d+$/.test(key) ? 0 : Reflect.get(target, key)) });
  // The walk stops as soon as the output passes the bound: a 2^32 − 1 element Proxy that counts
  // its reads (and gives up far past the bound, so a walk without it fails here instead of running for hours).
  for (const write of [canonicalize, canonicalBytes]) {
    let reads = 0;
    const counting = new Proxy([], {
      get: (target, key) => {
        if (key === "length") return 2 ** 32 - 1;
        if (typeof key !== "string" || !/^\d+$/.test(key)) return Reflect.get(target, key);
        if (++reads > 100_000) throw new Error("read far past maxOutputBytes");
        return 0;
      },
    });
    expectCode("TOO_LARGE", () => write(counting, { maxOutputBytes: 1000 }));
    assert.ok(reads <= 502, `${write.name} read ${reads} elements for 1000 bytes of "0,"`);
  }
  // The same for an object's members (each read through a counting getter): 1000 members of 10
  // bytes each (`"k0000":0,`) pass the members' lower bound for 6000 bytes (5 per member) and
  // must stop once the output passes it.
  for (const write of [canonicalize, canonicalBytes]) {
    let reads = 0;
    const members: Record<string, number> = {};
    for (let i = 0; i < 1000; i++) {
      Object.defineProperty(members, `k${String(i).padStart(4, "0")}`, { enumerable: true, get: () => (reads++, 0) });
    }
    expectCode("TOO_LARGE", () => write(members, { maxOutputBytes: 6000 }));
    assert.ok(reads <= 601, `${write.name} read ${reads} members for 6000 bytes`);
    // More members than the bound could hold even at 5 bytes each: refused before any is read.
    reads = 0;
    expectCode("TOO_LARGE", () => write(members, { maxOutputBytes: 4000 }));
    assert.is(reads, 0);
  }
  // A typed array is written member by member ({"0":…}); a large one is refused by its length
  // before its member names are listed.
  expectBothCode("TOO_LARGE", { bytes: new Uint8Array(20_000_000) }, { maxOutputBytes: 1000 } as never);
  assert.is(both({ b: new Uint8Array([7, 8]) }), '{"b":{"0":7,"1":8}}');
  for (const value of [shared, huge, { a: shared }]) {
    expectBothCode("TOO_LARGE", value);
    expectBothCode("TOO_LARGE", value, { maxOutputBytes: 1000 } as never);
  }
});

test("array length as JSON.stringify reads it (ToLength), the same in both writers, for a Proxy that lies (review-36 F2)", () => {
  for (const length of [-1, "abc", null, 2.5, "2", 0, 3, true, -0.5]) {
    const lying = new Proxy([], { get: (target, key) => (key === "length" ? length : typeof key === "string" && /^\d+$/.test(key) ? Number(key) + 10 : Reflect.get(target, key)) });
    const expected = JSON.stringify(lying);
    assert.is(both(lying), expected, `length ${String(length)}`);
  }
});

test("a walk deeper than the engine's stack is TOO_DEEP, never a raw RangeError (review-36 F10)", () => {
  let nested: unknown = 1;
  for (let i = 0; i < MAX_DEPTH_LIMIT; i++) nested = [nested];
  /** Calls `run` under `frames` frames of recursion; the error it threw, "ok", or "helper" if the recursion itself overflowed. */
  const under = (frames: number, run: () => unknown): unknown => {
    const descend = (k: number): unknown => {
      if (k > 0) return descend(k - 1);
      try {
        run();
        return "ok";
      } catch (error) {
        return error;
      }
    };
    try {
      return descend(frames);
    } catch {
      return "helper";
    }
  };
  for (const run of [() => canonicalize(nested, { maxDepth: MAX_DEPTH_LIMIT }), () => canonicalBytes(nested, { maxDepth: MAX_DEPTH_LIMIT })]) {
    let sawTooDeep = false;
    for (let frames = 0; frames < 200_000; frames += 250) {
      const outcome = under(frames, run);
      if (outcome === "ok") continue;
      if (outcome === "helper") break;
      assert.instance(outcome, CanonicalJsonError, `at ${frames} frames: ${String(outcome)}`);
      assert.is((outcome as CanonicalJsonError).code, "TOO_DEEP");
      sawTooDeep = true;
      break;
    }
    assert.ok(sawTooDeep, "some depth of the caller's stack leaves too little room");
  }
});

test("an option value whose String() would throw or run caller code is described, not converted: InvalidTypeError (review 54)", () => {
  const noPrototype = Object.create(null);
  const throwingToString = { toString() { throw new Error("boom"); } };
  let called = 0;
  const counting = { [Symbol.toPrimitive]() { called++; return 3; } };
  for (const maxDepth of [noPrototype, throwingToString, counting, Symbol("d"), () => 3, null, "3", 2n]) {
    for (const run of [() => canonicalize([1], { maxDepth } as never), () => canonicalBytes([1], { maxDepth } as never), () => canonicalizeJson("[1]", { maxDepth } as never)]) {
      assert.throws(run, (e: unknown) => e instanceof InvalidTypeError && e.code === "INVALID_TYPE" && /maxDepth must be an integer, got /.test(e.message), String(typeof maxDepth));
    }
  }
  assert.is(called, 0, "no caller code ran");
});

test("an option value's text in the error message is escaped and cut as the handshake's are: no raw line terminator or C1 control, at most 40 units", () => {
  const maxDepth = `a\u2028b\u0085c\n${"x".repeat(100)}`;
  for (const run of [() => canonicalize([1], { maxDepth } as never), () => canonicalBytes([1], { maxDepth } as never), () => canonicalizeJson("[1]", { maxDepth } as never)]) {
    assert.throws(run, (e: unknown) => {
      if (!(e instanceof InvalidTypeError)) return false;
      const shown = e.message.slice(e.message.indexOf("got ") + 4);
      return shown.startsWith('"a\\\\u2028b\\\\u0085c\\\\n') && !/[\u2028\u0085\n]/.test(e.message) && shown.length < 60;
    });
  }
});

test("called at every distance from the stack limit, a deep walk is TOO_DEEP or the engine's RangeError, never a SyntaxError or an aborted process (review 54)", async () => {
  // In a child process, since V8 answers a regular expression compiled near the stack limit with
  // a SyntaxError or, at some depths, by aborting the process ("RegExpCompiler Allocation failed"):
  // the walk's stack-overflow handler and its string scans used regular expressions. Each of the
  // four walks (text and bytes, canonical and escapeDelAndC1) is started from every one of the
  // 3,000 depths closest to the limit, on a value whose strings need escapes, checks and none.
  const probe = `
    import { canonicalize, canonicalBytes } from "./dist/esm/index.js";
    let deep = "x\\u007f";
    for (let i = 0; i < 999; i++) deep = [i % 2 ? "plain" : "esc\\n\\u0080\\u{1F600}", deep];
    let max = 0;
    const measure = (d) => { max = Math.max(max, d); measure(d + 1); };
    try { measure(0); } catch {}
    const walks = {
      canonicalize: () => canonicalize(deep, { maxDepth: 1000 }),
      canonicalBytes: () => canonicalBytes(deep, { maxDepth: 1000 }),
      legacy: () => canonicalize(deep, { maxDepth: 1000, escapeDelAndC1: true }),
      legacyBytes: () => canonicalBytes(deep, { maxDepth: 1000, escapeDelAndC1: true }),
    };
    const outcomes = {};
    for (const [name, walk] of Object.entries(walks)) {
      for (let k = 0; k < 3000; k++) {
        const target = max - k;
        const go = (d) => {
          if (d < target) return go(d + 1);
          try { walk(); return "ok"; } catch (error) { return error?.code ?? "raw " + error?.constructor?.name; }
        };
        let outcome;
        try { outcome = go(0); } catch { outcome = "no room for the call"; }
        outcomes[name + ": " + outcome] = (outcomes[name + ": " + outcome] ?? 0) + 1;
      }
    }
    console.log(JSON.stringify(outcomes));
  `;
  const { code, stdout, stderr } = await runModule(probe, [], 120_000);
  assert.is(code, 0, `exit ${code}: ${stderr.slice(-400)}`);
  const outcomes = JSON.parse(stdout) as Record<string, number>;
  for (const [key, count] of Object.entries(outcomes)) {
    const outcome = key.slice(key.indexOf(": ") + 2);
    // A raw RangeError only where the caller left too little stack to build the typed error.
    assert.ok(["ok", "TOO_DEEP", "raw RangeError", "no room for the call"].includes(outcome), `${key} (${count} times)`);
  }
  for (const walk of ["canonicalize", "canonicalBytes", "legacy", "legacyBytes"]) assert.ok((outcomes[`${walk}: TOO_DEEP`] ?? 0) > 1000, `${walk}: ${JSON.stringify(outcomes)}`);
});

// ---------------------------------------------------------------------------------------------
// JavaScript values beyond plain JSON: JSON.stringify semantics, documented in value.ts

test("toJSON is called once with the member name / index / \"\", like JSON.stringify", () => {
  const seen: string[] = [];
  const probe = { toJSON: (key: string) => (seen.push(key), `k=${key}`) };
  const value = { list: [probe, probe], m: probe }; // members already in canonical order
  assert.is(canonicalize(value), JSON.stringify(value));
  assert.equal(seen, ["0", "1", "m", "0", "1", "m"]); // JSON.stringify's calls, then ours
  assert.is(both(probe), '"k="');
  // The result of toJSON is not asked for toJSON again (JSON.stringify semantics).
  const innerArray = Object.assign([1, 2], { toJSON: () => "called again" });
  assert.is(both({ toJSON: () => innerArray }), "[1,2]");
  assert.is(JSON.stringify({ toJSON: () => innerArray }), "[1,2]");
  // An object returned by toJSON is walked as is, so its own toJSON member is a function value.
  expectBothCode("UNSUPPORTED_TYPE", { toJSON: () => ({ toJSON: () => "called again" }) });
  const fnWithToJSON = Object.assign(() => 0, { toJSON: () => [1] });
  assert.is(both(fnWithToJSON), "[1]");
});

test("Date, Map, Set, boxed primitives, typed arrays, class instances, symbol keys, getters", () => {
  const date = new Date(Date.UTC(2026, 0, 2, 3, 4, 5, 6));
  assert.is(both({ d: date }), '{"d":"2026-01-02T03:04:05.006Z"}');
  assert.is(both(new Date(NaN)), "null"); // Date.prototype.toJSON returns null for an invalid date
  assert.is(both(new Map([["a", 1]])), "{}");
  assert.is(both(new Set([1, 2])), "{}");
  assert.is(both([Object(5), Object("s\n"), Object(false), Object(7n)]), '[5,"s\\n",false,7]');
  assert.is(both(new Uint8Array([3, 1, 2])), '{"0":3,"1":1,"2":2}');
  class Point {
    constructor(public y: number, public x: number) {}
    get norm() {
      return 0;
    }
  }
  assert.is(both(new Point(2, 1)), '{"x":1,"y":2}');
  const withHidden = Object.defineProperty({ [Symbol("s")]: 1, b: 2 }, "hidden", { value: 3, enumerable: false });
  assert.is(both(withHidden), '{"b":2}');
  assert.is(both({ get lazy() { return [1]; } }), '{"lazy":[1]}');
  assert.is(both(Object.create(null, { z: { value: 1, enumerable: true }, a: { value: 2, enumerable: true } })), '{"a":2,"z":1}');
  const arrayWithExtra = Object.assign([1, 2], { extra: 3 });
  assert.is(both(arrayWithExtra), "[1,2]");
  for (const value of [date, new Map(), new Set(), Object(5), new Uint8Array([3, 1, 2]), new Point(2, 1), withHidden]) {
    assert.is(canonicalize(value), referenceCanonicalize(value));
  }
});

test("boxed primitives are recognised by their internal slot, as JSON.stringify does (look-alikes, other realms)", () => {
  // Objects that only inherit from Number.prototype etc. have no [[NumberData]]: JSON.stringify writes them as {}.
  for (const box of [Number, String, Boolean, BigInt]) {
    const lookalike = Object.create(box.prototype);
    assert.is(JSON.stringify(lookalike), "{}");
    assert.is(both(lookalike), "{}");
    assert.is(both({ [box.name]: Object.assign(Object.create(box.prototype), { v: 1 }) }), `{"${box.name}":{"v":1}}`);
  }
  // Boxed primitives from another realm fail `instanceof` here but hold the slot.
  const foreign = runInNewContext('[Object(5), Object("s"), Object(true), Object(7n), new Date(0)]') as unknown[];
  assert.is(JSON.stringify(foreign.slice(0, 3)), '[5,"s",true]');
  assert.is(both(foreign), '[5,"s",true,7,"1970-01-01T00:00:00.000Z"]');
});

test("BigInt is written exactly in −2^63…2^64−1, as the text path keeps it; outside, NUMBER_OUT_OF_RANGE (review-36 F3)", () => {
  for (const n of [0, 1, -1, 42, 2 ** 53 - 1, -(2 ** 53 - 1), 1e15]) assert.is(both(BigInt(n)), both(n));
  const edges = { t: 2n ** 64n - 1n, u: -(2n ** 63n) };
  assert.is(both(edges), '{"t":18446744073709551615,"u":-9223372036854775808}');
  fc.assert(
    fc.property(fc.bigInt({ min: -(2n ** 63n), max: 2n ** 64n - 1n }), (n) => {
      const text = both([n]);
      // A fixed point of the text path: canonicalizing the output again gives the same bytes.
      return text === `[${n.toString(10)}]` && BigInt(both(n)) === n && Buffer.from(canonicalizeJson(text)).toString() === text;
    }),
    { numRuns: 2000 },
  );
  for (const n of [2n ** 64n, -(2n ** 63n) - 1n, 10n ** 30n, -(10n ** 30n)]) {
    expectBothCode("NUMBER_OUT_OF_RANGE", { v: n });
    expectBothCode("NUMBER_OUT_OF_RANGE", [Object(n)]); // boxed too
  }
});

test("reentrant use from toJSON does not disturb the outer call", () => {
  const inner = { toJSON: () => Buffer.from(canonicalBytes({ z: 1, a: "é" })).toString("hex") };
  assert.is(both({ b: inner, a: [inner] }), `{"a":["${Buffer.from('{"a":"é","z":1}').toString("hex")}"],"b":"${Buffer.from('{"a":"é","z":1}').toString("hex")}"}`);
});

// What it checks is the default maxOutputBytes: the walk stops after 16 MiB, long before V8's
// string limit. The engine's own limit is reached in canonical-value-audit.test.ts, with
// maxOutputBytes raised to its ceiling (a mutation audit found this test could not reach it).
test("TOO_LARGE: 600 copies of one shared 1 MiB string stop at the default maxOutputBytes (16 MiB)", () => {
  const mebibyte = "x".repeat(1 << 20);
  expectCode("TOO_LARGE", () => canonicalize(new Array(600).fill(mebibyte)));
});

test("escape-heavy strings grow the byte buffer while being written", () => {
  for (const s of ["\u0001".repeat(5000), `${"é".repeat(3000)}\n${"\u001f".repeat(3000)}😀`, "\"\\".repeat(4000)]) {
    assert.is(both([s, { [s]: s }]), referenceCanonicalize([s, { [s]: s }]));
  }
});

test("large output grows the byte buffer; later small calls are unaffected", () => {
  const big = Array.from({ length: 5000 }, (_, i) => ({ i, s: "ü".repeat(i % 50), e: "😀\n" }));
  const text = canonicalize(big);
  assert.ok(text.length > 1 << 18);
  assert.equal(canonicalBytes(big), utf8.encode(text));
  const small = canonicalBytes({ b: 1, a: 2 });
  assert.equal(small, utf8.encode('{"a":2,"b":1}'));
  // Each result owns exactly its bytes: no shared pool behind `.buffer`.
  assert.is(small.byteOffset, 0);
  assert.is(small.buffer.byteLength, small.length);
  assert.is(text, referenceCanonicalize(big));
});

// ---------------------------------------------------------------------------------------------
// Property test: byte-identical to the npm `canonicalize` package on random JSON values

const PROPERTY_RUNS = scaled(200_000);

/** Doubles with the hard cases over-represented: subnormals, powers of ten, format boundaries. */
const doubleArb = fc.oneof(
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.integer({ min: -324, max: 308 }).map((e) => Number(`1e${e}`)),
  fc.tuple(fc.integer({ min: 1, max: 99_999_999 }), fc.integer({ min: -330, max: 300 })).map(([m, e]) => Number(`${m}e${e}`)).filter(Number.isFinite),
  fc.bigInt({ min: 1n, max: 2n ** 52n - 1n }).map((mantissa) => {
    const view = new DataView(new ArrayBuffer(8));
    view.setBigUint64(0, mantissa); // exponent bits 0: a subnormal
    return view.getFloat64(0);
  }),
  fc.constantFrom(0, -0, 1e21, 1e-6, 1e-7, 9.999999999999999e20, 1e21 - 65536, 2 ** 53, 2 ** 53 + 2, Number.MAX_VALUE, Number.MIN_VALUE, 0.1 + 0.2),
  fc.integer(),
);

const stringArb = fc.oneof(
  fc.string({ unit: "binary" }), // any code point: astral characters, controls, DEL, C1
  fc.string({ unit: "binary-ascii" }), // U+0000–U+00FF, heavy on controls and escapes
  fc.string({ unit: "grapheme" }),
  fc.string(),
);

const { value: jsonValueArb } = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof(
    { depthSize: "medium", maxDepth: 12 },
    fc.constantFrom(null, true, false),
    doubleArb,
    stringArb,
    fc.array(tie("value"), { maxLength: 6 }),
    fc.dictionary(stringArb, tie("value"), { maxKeys: 6 }),
  ),
}));

const propertyArb = fc.oneof(
  { arbitrary: jsonValueArb, weight: 3 },
  { arbitrary: fc.jsonValue({ stringUnit: "binary", depthSize: "large", maxDepth: 40 }), weight: 1 },
);

test(`property: ${PROPERTY_RUNS.toLocaleString("en")} random JSON values equal npm canonicalize byte for byte`, () => {
  fc.assert(
    fc.property(propertyArb, (value) => {
      const expected = referenceCanonicalize(value)!;
      const text = canonicalize(value);
      if (text !== expected) return false;
      const bytes = canonicalBytes(value);
      const expectedBytes = utf8.encode(expected);
      if (bytes.length !== expectedBytes.length) return false;
      for (let i = 0; i < bytes.length; i++) if (bytes[i] !== expectedBytes[i]) return false;
      return true;
    }),
    { numRuns: PROPERTY_RUNS },
  );
});

test("maxOutputBytes: an integer above 2^32 − 1 counts as 2^32 − 1, a negative or fractional one is InvalidTypeError (README 'Canonical JSON'; hunt 30)", () => {
  // The README said only "up to 2^32 − 1", which reads as a refusal above it; both paths clamp.
  for (const limit of [2 ** 32, 2 ** 40, 2 ** 53, Number.MAX_VALUE]) {
    assert.is(canonicalize({ a: 1 }, { maxOutputBytes: limit }), '{"a":1}');
    assert.is(new TextDecoder().decode(canonicalBytes({ a: 1 }, { maxOutputBytes: limit })), '{"a":1}');
    assert.is(new TextDecoder().decode(canonicalizeJson('{"a":1}', { maxOutputBytes: limit })), '{"a":1}');
  }
  for (const bad of [-1, 1.5, Infinity]) {
    assert.throws(() => canonicalize(1, { maxOutputBytes: bad }), (e: unknown) => e instanceof InvalidTypeError, `canonicalize ${bad}`);
    assert.throws(() => canonicalizeJson("1", { maxOutputBytes: bad }), (e: unknown) => e instanceof InvalidTypeError, `canonicalizeJson ${bad}`);
  }
});

test.run();
