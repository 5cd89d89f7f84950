// canonicalize / canonicalBytes (src/canonical/value.ts), the shared option reading
// (src/canonical/limits.ts) and canonicalizeJson's input glue (src/canonical/json.ts): paths a
// mutation audit found that no other test checked. Oracles: the npm `canonicalize` package,
// JSON.stringify, TextEncoder, and sorting by an explicit UTF-16 code unit comparison.
import { test } from "uvu";
import * as assert from "uvu/assert";
import referenceCanonicalize from "canonicalize";
import { canonicalize, canonicalBytes } from "../../src/canonical/value.js";
import { canonicalizeJson } from "../../src/canonical/json.js";
import { CanonicalJsonError, InvalidTypeError } from "../../src/errors.js";
import { both, expectBothCode, expectCode } from "../helpers/canonical-value.js";
import { tsxChildResult } from "../helpers/processes.js";

const utf8 = new TextEncoder();

/** Code unit order, written out (the oracle for member order). */
function byCodeUnits(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const d = a.charCodeAt(i) - b.charCodeAt(i);
    if (d !== 0) return d;
  }
  return a.length - b.length;
}

test("members sort by UTF-16 code units on the many-member path too (more than 12 names, where locale order differs)", () => {
  // A mutation audit found that the sort used for objects of more than 12 members was checked only
  // on names that every plausible order agrees on: a locale-aware or case-folding sort passed.
  const names = ["b", "B", "a", "A", "_", "Z", "z", "é", "e", "E", "10", "9", "-", "~", "ä", "\u{1f600}", "\ufb01", "", "aB", "ab", "Ab"];
  for (let rotate = 0; rotate < names.length; rotate++) {
    const order = [...names.slice(rotate), ...names.slice(0, rotate)];
    for (const count of [13, 14, names.length]) {
      const chosen = order.slice(0, count);
      const value = Object.fromEntries(chosen.map((k, i) => [k, i]));
      const expected = "{" + [...chosen].sort(byCodeUnits).map((k) => `${JSON.stringify(k)}:${chosen.indexOf(k)}`).join(",") + "}";
      assert.is(both(value), expected, `${count} names from rotation ${rotate}`);
      assert.is(expected, referenceCanonicalize(value));
    }
  }
});

test("member names that share a prefix are each written as themselves, in one call and across calls (the member name cache)", () => {
  // A mutation audit found that the cache of quoted member names could answer for the wrong name
  // (keyed by part of the name) without any test noticing.
  const stems = ["abcdefgh", "abcdefghi", "abcdefghij", "a", "ab", "abc", "x".repeat(63), "x".repeat(64), "x".repeat(65), "q\n", "q\n\t", "é", "éé"];
  for (const order of [stems, [...stems].reverse()]) {
    for (const name of order) {
      const single = { [name]: name.length };
      assert.is(both(single), `{${JSON.stringify(name)}:${name.length}}`, JSON.stringify(name));
      assert.is(both(single, { escapeDelAndC1: true }), `{${JSON.stringify(name)}:${name.length}}`);
    }
    const all = Object.fromEntries(order.map((k) => [k, k]));
    assert.is(both(all), referenceCanonicalize(all));
  }
  // Past the cache's entry limit (4096 names) and back: still every name as itself.
  const crowd = Object.fromEntries(Array.from({ length: 5000 }, (_, i) => [`n${i}`, i]));
  assert.is(both(crowd), referenceCanonicalize(crowd));
  for (const name of ["n1", "n10", "n100", "n1000", "n4999"]) assert.is(both({ [name]: 0 }), `{"${name}":0}`);
});

test("a low surrogate followed by another low surrogate is LONE_SURROGATE in both writers and in canonicalizeJson's string input", () => {
  // A mutation audit found that only a high surrogate was required to open a pair: "\udc00\udc00"
  // (two low halves) was not among the tested strings, so taking any two surrogates as a pair
  // passed, and a string with no UTF-8 form was written (or, as text input, became U+FFFD).
  for (const bad of ["\udc00\udc00", "a\udfff\udc00b", "\ude00\ude00😀", "😀\udc00\udfff"]) {
    expectBothCode("LONE_SURROGATE", bad, undefined, JSON.stringify(bad));
    expectBothCode("LONE_SURROGATE", { [bad]: 1 }, undefined, `key ${JSON.stringify(bad)}`);
    expectBothCode("LONE_SURROGATE", ["é".repeat(20) + bad], { escapeDelAndC1: true }, `legacy ${JSON.stringify(bad)}`);
    const text = `["${bad}"]`;
    try {
      canonicalizeJson(text);
      assert.unreachable(`canonicalizeJson accepted ${JSON.stringify(bad)}`);
    } catch (error) {
      assert.instance(error, CanonicalJsonError);
      assert.is((error as CanonicalJsonError).code, "LONE_SURROGATE");
      // At the UTF-8 offset of the first unpaired unit (the well-formed prefix's TextEncoder length).
      let first = 0;
      while (first < text.length) {
        const c = text.charCodeAt(first);
        if (c >= 0xd800 && c <= 0xdbff && first + 1 < text.length && (text.charCodeAt(first + 1) & 0xfc00) === 0xdc00) first += 2;
        else if (c >= 0xd800 && c <= 0xdfff) break;
        else first++;
      }
      assert.is((error as CanonicalJsonError).offset, utf8.encode(text.slice(0, first)).length, JSON.stringify(bad));
    }
  }
  // The real pair still passes.
  assert.is(both(["\ud83d\ude00"]), '["😀"]');
});

test("maxOutputBytes admits objects and typed arrays of exactly that many bytes (the early member-count refusal is not stricter than the output)", () => {
  // A mutation audit found that the refusal made before listing an object's members (n members
  // need at least 5n + 1 bytes) could be made stricter, refusing objects that fit, with no test
  // failing: every bound tested left room to spare for small members.
  const values: unknown[] = [
    { "": 0 },
    { "": 0, a: 0 },
    { "": 0, a: 0, b: 0, c: 0, d: 0, e: 0, f: 0, g: 0, h: 0, i: 0 },
    [{ "": 0, a: 0 }],
    [0, { "": 0, a: 0, b: 0 }],
    new Uint8Array([0, 0]),
    new Uint8Array(10),
    [new Uint8Array(3)],
    { a: new Int8Array(4) },
  ];
  for (const value of values) {
    const text = canonicalize(value);
    const bytes = utf8.encode(text).length;
    assert.is(both(value, { maxOutputBytes: bytes }), text, `exact bound ${text}`);
    expectBothCode("TOO_LARGE", value, { maxOutputBytes: bytes - 1 }, `one byte short: ${text}`);
  }
  assert.is(canonicalize(new Uint8Array([0, 0])), '{"0":0,"1":0}');
});

test("maxOutputBytes 0 is a valid bound (everything is TOO_LARGE), not a bad option, on both paths", () => {
  // A mutation audit found no test of the lowest accepted byte bound: refusing 0 as an invalid
  // option passed unnoticed.
  for (const value of [0, null, "", [], {}]) expectBothCode("TOO_LARGE", value, { maxOutputBytes: 0 }, JSON.stringify(value));
  expectCode("TOO_LARGE", () => canonicalizeJson("0", { maxOutputBytes: 0 }));
  expectCode("TOO_LARGE", () => canonicalizeJson("0", { maxBytes: 0 }));
  assert.is(both(0, { maxOutputBytes: 1 }), "0");
  assert.equal(canonicalizeJson("0", { maxBytes: 1, maxOutputBytes: 1 }), utf8.encode("0"));
});

test("escapeDelAndC1 stays off when other options are given or it is false: DEL and C1 written raw (RFC 8785), on both paths", () => {
  // A mutation audit found that only the absence of an options object, or escapeDelAndC1: true,
  // was tested: an options object without the switch (or with it false) turning it on passed.
  const value = { "k\u007f": "\u007f\u0080\u009f\u00a0" };
  const raw = '{"k\u007f":"\u007f\u0080\u009f\u00a0"}';
  const escaped = '{"k\\u007f":"\\u007f\\u0080\\u009f\u00a0"}';
  assert.is(both(value), raw);
  for (const options of [{ maxDepth: 5 }, { maxOutputBytes: 1000 }, { escapeDelAndC1: false }, {}]) {
    assert.is(both(value, options), raw, JSON.stringify(options));
    assert.equal(canonicalizeJson(JSON.stringify(value), options), utf8.encode(raw), `canonicalizeJson ${JSON.stringify(options)}`);
  }
  assert.is(both(value, { escapeDelAndC1: true }), escaped);
  assert.equal(canonicalizeJson(JSON.stringify(value), { escapeDelAndC1: true }), utf8.encode(escaped));
});

test("a cycle of exactly maxDepth objects is CYCLE; one object more than maxDepth is TOO_DEEP", () => {
  // A mutation audit found that the cycle check could skip the outermost container on the path
  // (or the container being entered) and still pass: the tested cycles repeat many times within
  // the depth limit. A ring of exactly maxDepth objects repeats only once, at its first object.
  for (const length of [1, 2, 3, 7]) {
    const ring: Record<string, unknown>[] = Array.from({ length }, () => ({}));
    ring.forEach((node, i) => (node.next = ring[(i + 1) % length]));
    expectBothCode("CYCLE", ring[0], { maxDepth: length }, `ring of ${length}, maxDepth ${length}`);
    expectBothCode("CYCLE", ring[0], { maxDepth: length + 1 }, `ring of ${length}, maxDepth ${length + 1}`);
    if (length > 1) expectBothCode("TOO_DEEP", ring[0], { maxDepth: length - 1 }, `ring of ${length}, maxDepth ${length - 1}`);
    const list: unknown[] = [];
    let tail = list;
    for (let i = 1; i < length; i++) {
      const next: unknown[] = [];
      tail.push(next);
      tail = next;
    }
    tail.push(list);
    expectBothCode("CYCLE", list, { maxDepth: length }, `array ring of ${length}`);
  }
});

test("toJSON: an array's own toJSON is called; a toJSON result that is a function with its own toJSON is refused, not asked again", () => {
  // A mutation audit found two toJSON paths untested: an array carrying a toJSON method (called by
  // JSON.stringify) and a toJSON that returns a function which itself has toJSON (the result of
  // toJSON is never asked for toJSON again, so the function is UNSUPPORTED_TYPE).
  const array = Object.assign([3, 1], { toJSON: (key: string) => `array at ${JSON.stringify(key)}` });
  assert.is(both(array), JSON.stringify(array));
  assert.is(both({ a: array, b: [array] }), JSON.stringify({ a: array, b: [array] }));
  let asked = 0;
  const inner = Object.assign(() => 0, { toJSON: () => (asked++, "asked again") });
  for (const value of [{ toJSON: () => inner }, { a: { toJSON: () => inner } }, [{ toJSON: () => inner }]]) {
    expectBothCode("UNSUPPORTED_TYPE", value);
  }
  assert.is(asked, 0);
});

test("canonicalBytes passes toJSON the member name or the array index, as canonicalize and JSON.stringify do", () => {
  // A mutation audit found the key given to toJSON checked only on the text writer: the byte writer
  // could pass a wrong member name or index (changing what is signed) with no test failing.
  const seen: string[] = [];
  const probe = { toJSON: (key: string) => (seen.push(key), `k=${key}`) };
  const value = { list: [probe, [probe, probe]], m: probe, "é": { n: probe } };
  const expected = JSON.stringify(value); // members already in canonical order
  seen.length = 0;
  assert.equal(canonicalBytes(value), utf8.encode(expected));
  assert.equal(seen, ["0", "0", "1", "m", "n"]);
  seen.length = 0;
  assert.is(canonicalize(value), expected);
  assert.equal(seen, ["0", "0", "1", "m", "n"]);
  assert.equal(canonicalBytes([probe, probe, probe], { escapeDelAndC1: true }), utf8.encode('["k=0","k=1","k=2"]'));
});

test("an options object without maxOutputBytes or maxBytes keeps the default bounds (16 MiB output, 1 MiB text input)", () => {
  // A mutation audit found the defaults tested only with no options object at all: an options
  // object that left a bound out could lift it to its ceiling (2^32 − 1, 128 MiB) unnoticed.
  const mebibyte = "x".repeat(1 << 20);
  const tooBig = new Array(16).fill(mebibyte); // 16 strings of 1 MiB + quotes and commas > 16 MiB
  // One walk each (a 16 MiB walk is not cheap): the text writer with one option, the byte writer with another.
  expectCode("TOO_LARGE", () => canonicalize(tooBig, { maxDepth: 5 }), "canonicalize { maxDepth: 5 }");
  expectCode("TOO_LARGE", () => canonicalBytes(tooBig, { escapeDelAndC1: false }), "canonicalBytes { escapeDelAndC1: false }");
  for (const options of [{ maxDepth: 5 }, { escapeDelAndC1: false }, { maxOutputBytes: 1 << 21 }, {}]) {
    expectCode("TOO_LARGE", () => canonicalizeJson(`"${"y".repeat((1 << 20) - 1)}"`, options), `canonicalizeJson ${JSON.stringify(options)}`);
    assert.is(canonicalizeJson(`"${"y".repeat((1 << 20) - 2)}"`, options).length, 1 << 20);
  }
});

test("a string of escapes written from a fresh byte buffer, ending at every offset around its first boundary (1024 bytes), is complete", () => {
  // A mutation audit found that reserving too little room for an escape near the end of a string
  // (writes past a typed array's end are silently dropped) passed: the escape-heavy tests started
  // from a byte buffer already grown by earlier calls. A nested call (from toJSON) gets a fresh one.
  for (const escapes of [1, 2, 3, 40, 150]) {
    for (const control of ["\u0001", "\n", '"']) {
      const tail = control.repeat(escapes);
      // Pads that make the escaped string end within 40 bytes of the fresh buffer's 1024.
      const escaped = utf8.encode(JSON.stringify(tail)).length;
      let bad = "";
      for (let pad = Math.max(0, 1024 - escaped - 40); pad <= 1024 - escaped + 40 && bad === ""; pad++) {
        const inner = ["y".repeat(pad), tail, "é"];
        let got: Uint8Array | undefined;
        canonicalBytes({ toJSON: () => ((got = canonicalBytes(inner)), 0) });
        const want = utf8.encode(JSON.stringify(inner));
        if (got!.length !== want.length || got!.some((b, i) => b !== want[i])) bad = `pad ${pad}, ${escapes} × ${JSON.stringify(control)}`;
      }
      assert.is(bad, "");
    }
  }
});

test("canonicalizeJson: an input past maxBytes is TOO_LARGE with offset maxBytes (the first byte past the bound), as a string or as bytes", () => {
  // A mutation audit found the offset of an over-long input unchecked: reporting the input's size
  // (or anything else) there instead of the byte where it crosses the bound passed.
  for (const text of ['"x"', '["é😀"]', `"${"€".repeat(50)}"`, "[1,2,3,4,5,6,7,8,9]"]) {
    const size = utf8.encode(text).length;
    for (const maxBytes of [0, 1, size - 1]) {
      for (const input of [text, utf8.encode(text)]) {
        try {
          canonicalizeJson(input, { maxBytes });
          assert.unreachable(`accepted ${text} under maxBytes ${maxBytes}`);
        } catch (error) {
          assert.instance(error, CanonicalJsonError);
          assert.is((error as CanonicalJsonError).code, "TOO_LARGE");
          assert.is((error as CanonicalJsonError).offset, maxBytes, `${text}, maxBytes ${maxBytes}, ${typeof input}`);
        }
      }
    }
  }
});

test("canonicalize past the engine's string limit (maxOutputBytes raised to its ceiling) is TOO_LARGE, with the engine's RangeError as its cause", () => {
  // A mutation audit found the engine-limit mapping untested: the older test of it stays under the
  // default 16 MiB bound, which refuses the value long before the engine's string limit, so a raw
  // RangeError escaping here passed. This builds about 520 MiB of text (V8's limit is 2^29 − 24).
  const mebibyte = "x".repeat(1 << 20);
  try {
    canonicalize(new Array(520).fill(mebibyte), { maxOutputBytes: 2 ** 32 - 1 });
    assert.unreachable("a 520 MiB canonical text was returned");
  } catch (error) {
    assert.instance(error, CanonicalJsonError);
    assert.is((error as CanonicalJsonError).code, "TOO_LARGE");
    assert.instance((error as Error).cause, RangeError);
  }
});

test("the engine's string-length error raised inside a toJSON is TOO_LARGE too, with that error as its cause (README \"Canonical JSON\"); the caller's other RangeErrors pass through", () => {
  // The README promised every exception from the caller's code untyped; the mapping applies to
  // the engine's string-length error wherever it arises (found by the same audit). Pinned here.
  for (const write of [canonicalize, canonicalBytes] as const) {
    try {
      write({ a: { toJSON: () => "x".repeat(2 ** 30) } });
      assert.unreachable("a string past the engine's limit was written");
    } catch (error) {
      assert.instance(error, CanonicalJsonError);
      assert.is((error as CanonicalJsonError).code, "TOO_LARGE");
      assert.instance((error as Error).cause, RangeError);
      assert.is(((error as Error).cause as Error).message, "Invalid string length");
    }
    const own = new RangeError("the caller's own");
    try {
      write({ a: { toJSON: () => { throw own; } } });
      assert.unreachable("the caller's RangeError was swallowed");
    } catch (error) {
      assert.is(error, own, "passes through as it was thrown");
    }
  }
});

test("a toJSON member that is not a function is an ordinary member, as JSON.stringify writes it", () => {
  // A mutation audit found no test of a non-callable toJSON: treating any defined toJSON as a
  // method (a raw TypeError, or a member dropped) passed.
  for (const value of [{ toJSON: 5 }, { a: 1, toJSON: "text" }, { toJSON: null }, { toJSON: { toJSON: [1] } }, [{ toJSON: true }]]) {
    assert.is(both(value), referenceCanonicalize(value));
    assert.is(both(value), JSON.stringify(value));
  }
});

test("escapeDelAndC1 of any type but boolean is InvalidTypeError on both paths, not read as false or true", () => {
  // A mutation audit found the type check of escapeDelAndC1 untested on either path: a truthy
  // string or 1 silently left DEL and C1 raw.
  for (const escapeDelAndC1 of ["yes", 1, 0, null, "true"]) {
    const options = { escapeDelAndC1 } as never;
    assert.throws(() => canonicalize("\u007f", options), (e: unknown) => e instanceof InvalidTypeError, `canonicalize ${String(escapeDelAndC1)}`);
    assert.throws(() => canonicalBytes("\u007f", options), (e: unknown) => e instanceof InvalidTypeError, `canonicalBytes ${String(escapeDelAndC1)}`);
    assert.throws(() => canonicalizeJson('"\u007f"', options), (e: unknown) => e instanceof InvalidTypeError, `canonicalizeJson ${String(escapeDelAndC1)}`);
  }
});

test("canonicalizeJson: a string input with a lone surrogate at its very first unit, or of any surrogate boundary value, is LONE_SURROGATE at its UTF-8 offset", () => {
  // A mutation audit found that the glue's check missed a lone surrogate at index 0 (the input's
  // first unit) and a lone U+DFFF without any test failing: such input was encoded with U+FFFD in
  // its place and reached the transcoder as a different text (INVALID_JSON, or canonicalized).
  for (const unit of ["\ud800", "\udbff", "\udc00", "\udfff"]) {
    for (const [input, offset] of [
      [unit, 0],
      [`${unit}"x"`, 0],
      [`"${unit}"`, 1],
      [`["é", "${unit}"]`, utf8.encode('["é", "').length],
      [`{"a${unit}":1}`, 3],
    ] as const) {
      try {
        canonicalizeJson(input);
        assert.unreachable(`accepted ${JSON.stringify(input)}`);
      } catch (error) {
        assert.instance(error, CanonicalJsonError);
        assert.is((error as CanonicalJsonError).code, "LONE_SURROGATE", JSON.stringify(input));
        assert.is((error as CanonicalJsonError).offset, offset, JSON.stringify(input));
      }
    }
    // The same units in JavaScript values, for both writers.
    expectBothCode("LONE_SURROGATE", unit, undefined, JSON.stringify(unit));
    expectBothCode("LONE_SURROGATE", { [`${unit}a`]: 0 }, undefined, JSON.stringify(unit));
  }
  // U+DFFF closing a pair is fine: U+10FFFF.
  assert.equal(canonicalizeJson('"\udbff\udfff"'), utf8.encode('"\u{10ffff}"'));
});

// Hunt 27: a boxed number or string is written as JSON.stringify's ToNumber / ToString of it, which
// run its own Symbol.toPrimitive, valueOf and toString. The walk converted with Number() and
// String(): Number() read a bigint answer as a number (2n as 2, 2n ** 70n rounded), where ToNumber
// and JSON.stringify refuse it, and a symbol answer (or a Symbol.toPrimitive that is not a
// function, or no method answering a primitive) was the engine's untyped TypeError.
test("a boxed number or string whose own conversion answers a bigint (number) or a symbol, or no primitive, is UNSUPPORTED_TYPE; what JSON.stringify converts is written as it writes it", () => {
  const numberAnswering = (answer: unknown) => Object.assign(Object(1), { valueOf: () => answer });
  const stringAnswering = (answer: unknown) => Object.assign(Object("a"), { toString: () => answer });
  const refused = [
    numberAnswering(2n),
    numberAnswering(2n ** 70n),
    numberAnswering(Symbol("s")),
    stringAnswering(Symbol("s")),
    Object.assign(Object(1), { [Symbol.toPrimitive]: () => 3n }),
    Object.assign(Object("a"), { [Symbol.toPrimitive]: 5 }),
    Object.assign(Object(1), { valueOf: () => ({}), toString: () => ({}) }),
    Object.assign(Object(1), { [Symbol.toPrimitive]: () => ({}) }),
  ];
  for (const [i, value] of refused.entries()) {
    assert.throws(() => JSON.stringify(value), TypeError, `JSON.stringify refuses case ${i}`);
    expectBothCode("UNSUPPORTED_TYPE", value, undefined, `case ${i}`);
    expectBothCode("UNSUPPORTED_TYPE", { v: [value] }, undefined, `case ${i}, nested`);
  }
  const written = [
    numberAnswering("12"), numberAnswering(true), numberAnswering(null), numberAnswering(-0), numberAnswering(1.5e-7),
    stringAnswering(5n), stringAnswering(1.5), stringAnswering(undefined), stringAnswering("é\n"),
    Object.assign(Object(1), { valueOf: () => ({}), toString: () => "7" }),
    Object.assign(Object("a"), { toString: () => ({}), valueOf: () => 8 }),
    Object.assign(Object(1), { [Symbol.toPrimitive]: (hint: string) => (hint === "number" ? 9 : 0) }),
    Object.assign(Object("a"), { [Symbol.toPrimitive]: (hint: string) => hint }),
    Object.assign(Object(1), { [Symbol.toPrimitive]: null, valueOf: () => 4 }),
  ];
  for (const [i, value] of written.entries()) assert.is(both([value]), JSON.stringify([value]), `case ${i}`);
  // The caller's methods run as often and in the order ToPrimitive runs them, and what they throw passes through.
  const trace = (log: string[]) => Object.assign(Object(1), {
    valueOf() { log.push("valueOf"); return {}; },
    toString() { log.push("toString"); return "3"; },
  });
  const expected: string[] = [];
  JSON.stringify(trace(expected));
  for (const run of [canonicalize, canonicalBytes]) {
    const log: string[] = [];
    run(trace(log));
    assert.equal(log, expected, run.name);
  }
  const thrown = new Error("caller's valueOf");
  for (const run of [canonicalize, canonicalBytes]) assert.throws(() => run([Object.assign(Object(1), { valueOf() { throw thrown; } })]), (e: unknown) => e === thrown);
});

test("canonicalBytes under a %TypedArray%.prototype.length getter replaced after load: the same bytes, and the getter never runs (README \"Hardening\")", () => {
  // The byte writer sized its buffer by the realm's length getter (buf.length, and the old-escape
  // path's encoded bytes.length). A getter answering 0 made reserve() double 0 forever: every
  // canonicalBytes call hung, and so did PeerHandshakeEnvelope.sign, which signs its bytes; one
  // answering 2^30 made output past 1,024 bytes an untyped RangeError; one answering a byte short
  // wrote the old-escape form without its closing quote. Each lie runs in a child of its own
  // (test/helpers/typed-array-length-lie-child.ts): a hang is the child's timeout.
  for (const lie of ["zero", "huge", "short"]) {
    let result: { ran: string[]; differed: string[] };
    try {
      result = tsxChildResult(new URL("../helpers/typed-array-length-lie-child.ts", import.meta.url), [lie], 60_000);
    } catch (error) {
      assert.unreachable(`lie "${lie}": the child did not finish (${(error as Error).message.split("\n")[0]})`);
      return;
    }
    assert.equal(result.differed, [], `lie "${lie}": results that differed`);
    assert.equal(result.ran, [], `lie "${lie}": the replaced getter ran`);
  }
});

test.run();
