// Built-ins replaced after chio-trust loaded, with versions that answer wrongly, change neither
// the bytes a kernel signs nor a verdict (README "Hardening"). The child process
// (test/helpers/lying-builtins-child.ts) computes every expected result first, by the npm
// `canonicalize` package, by hand for what it does not cover (bigints, boxed primitives, the old
// chio escapes) and by node:crypto, then replaces over 40 built-ins (JSON.stringify, Object.keys,
// String.prototype.charCodeAt, %TypedArray%.prototype.slice, the global String, Map's, Set's,
// WeakMap's and WeakSet's methods and iterators, accessors on Array.prototype, ...) and runs
// canonical JSON, a signed challenge (with a toJSON on Object.prototype as well), a forged
// envelope's verifySignature, the in-memory replay cache and the peer store, and an exchange's
// acceptEnvelope (accepted once, then a replay, a flipped signature bit and a stranger's key
// refused, and a pin write of unknown outcome whose envelope, sent again, is a replay) under them.
// Against
// the code before this test (8e51912, 6 December 2026) 20 of them ran inside those calls (with all
// of them in place at once, so a lie early in a walk hid the built-ins later in it) and 26 results
// differed: every canonical output, the signed challenge (its signature no longer verified over
// the challenge), a forged envelope's verifySignature passed (WeakMap.prototype.get answered
// "verified"), the replay cache took a replayed nonce, the peer store lost its pin, and the
// exchange accepted its envelope's replay and the resend of a write of unknown outcome.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";

test("replaced built-ins run in none of these calls, and change no output or verdict", () => {
  const child = fileURLToPath(new URL("../helpers/lying-builtins-child.ts", import.meta.url));
  const out = execFileSync(process.execPath, ["--import", "tsx", child], { encoding: "utf8", timeout: 120_000 });
  const result = JSON.parse(out.trim().split("\n").pop()!) as { ran: string[]; differed: string[] };
  assert.equal(result.differed, [], `results that differed:\n${result.differed.join("\n")}`);
  assert.equal(result.ran, [], `replaced built-ins that ran: ${result.ran.join(", ")}`);
});

test.run();
