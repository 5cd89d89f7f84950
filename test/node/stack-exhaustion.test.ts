// Calls into the core made with the engine's stack all but exhausted (helper 156). A call that
// runs out of stack part-way may stop the core mid-call, and the catch that should wipe and drop
// the instance (contained(), secretCall's finally) may itself fail to run for want of stack:
// src/wasm/instance.ts coreCallInterrupted then makes the next entry into the core wipe and drop
// it first. Each case runs in a process of its own with a small stack
// (test/helpers/stack-exhaustion-child.ts): the operation at every depth near the limit, the glue
// looked at after each failure as the next call does, then the library's answers checked against
// node:crypto. Before the fix: after an interrupted configurePreparedKeys the glue wrote messages
// where the core no longer read them (verify() refused a good signature and could accept one of
// another message; sign() signed the previous message); after an interrupted sign, getPublicKey or
// prepareSecretKey the instance stayed live with the seed in its memory.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";

interface Outcome {
  failures: number;
  found?: string;
  kept?: number;
  wrong: string[];
}

function run(operation: string): Outcome {
  const child = fileURLToPath(new URL("../helpers/stack-exhaustion-child.ts", import.meta.url));
  const out = execFileSync(process.execPath, ["--stack-size=900", "--import", "tsx", child, operation], { encoding: "utf8", timeout: 120_000 });
  return JSON.parse(out.trim().split("\n").pop()!) as Outcome;
}

for (const operation of ["configure", "sign", "getPublicKey", "prepareSecretKey"]) {
  test(`${operation} interrupted at every depth near the stack's limit: the next call finds a consistent core holding no seed, and every answer is node:crypto's`, () => {
    const outcome = run(operation);
    assert.ok(outcome.failures >= 5, `${operation} failed only ${outcome.failures} times: the limit was not reached`);
    assert.is(outcome.found, undefined, operation);
    assert.equal(outcome.wrong, [], operation);
  });
}

// Hunt 34: destroy() marked the key destroyed before it released the slot, so one that ran out of
// stack before the core was called (in releaseSlot, guarded, or ownsSlot's Number.isInteger) left
// the scalar and prefix in the slot, and every later destroy() returned at once: the secret stayed
// in linear memory for the instance's life, and the slot was never freed.
test("PreparedSecretKey#destroy() interrupted near the stack's limit: called again, it wipes the key's slot", () => {
  const outcome = run("destroy");
  assert.is(outcome.found, undefined);
  assert.ok((outcome.kept ?? 0) >= 3, `only ${outcome.kept} rounds had a destroy() fail with the instance kept: the limit was not reached`);
  assert.equal(outcome.wrong, []);
});

test.run();
