// Built-ins replaced after chio-trust loaded, with versions that answer wrongly, change neither
// the bytes a kernel signs nor a verdict (README "Hardening"). The child process
// (test/helpers/lying-builtins-child.ts) computes every expected result first, by the npm
// `canonicalize` package, by hand for what it does not cover (bigints, boxed primitives, the old
// chio escapes) and by node:crypto, then replaces over 40 built-ins (JSON.stringify, Object.keys,
// String.prototype.charCodeAt, %TypedArray%.prototype.slice, the global String, Map's, Set's,
// WeakMap's and WeakSet's methods and iterators, accessors on Array.prototype, ...) and runs under
// them: canonical JSON; a signed challenge (with a toJSON on Object.prototype as well); a forged
// envelope object's fromJSON and verifySignature (with accessors on Object.prototype for
// `signature` and `value`, a getter field and an unknown member too); the in-memory replay cache
// and peer store; and an exchange's acceptEnvelope (accepted once, then a replay, a flipped
// signature bit and a stranger's key refused, and a pin write of unknown outcome whose envelope,
// sent again, is a replay).
//
// Against the code before this test (8e51912, 6 December 2026), 20 of them ran inside those calls
// (with all of them in place at once, so a lie early in a walk hid the built-ins later in it) and
// 26 results differed: every canonical output and error code, the signed challenge (its signature
// no longer verified over the challenge), the forged envelope object (refused by fromJSON, whose
// plain-object check asked the replaced Object.getPrototypeOf), the replay cache took a replayed
// nonce, the peer store lost its pin, and the exchange accepted its envelope's replay and the
// resend of a write of unknown outcome. Each route was also checked alone, against a mutant of its
// own: a replaced WeakMap.prototype.get alone passed the forged envelope's verifySignature, and an
// accessor on Object.prototype for `signature` alone made fromJSON's record answer with the good
// signature.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { tsxChildResult } from "../helpers/processes.js";

/** What a lying-builtins child reports: the replacements that ran, and the results that differed. */
interface LyingResult {
  ran: string[];
  differed: string[];
}

function assertUnchanged(result: LyingResult): void {
  assert.equal(result.differed, [], `results that differed:\n${result.differed.join("\n")}`);
  assert.equal(result.ran, [], `replaced built-ins that ran: ${result.ran.join(", ")}`);
}

test("replaced built-ins run in none of these calls, and change no output or verdict", () => {
  assertUnchanged(tsxChildResult<LyingResult>(new URL("../helpers/lying-builtins-child.ts", import.meta.url)));
});

test("the HTTP server's tables under replaced WeakSet, WeakMap and Map methods: a body that completes after its request was answered 408 pins nothing", () => {
  // test/helpers/http-lying-builtins-child.ts. Against the code before (602422b^), the late body
  // was accepted and pinned, and five of the replacements ran inside the server's calls.
  assertUnchanged(tsxChildResult<LyingResult>(new URL("../helpers/http-lying-builtins-child.ts", import.meta.url), [], 60_000));
});

test.run();
