// bench/harness.ts: every result a case keeps is checked (README "Benchmark": "a verdict of false
// or an empty output stops the run and names the case"). The outputs the cases keep are verdicts,
// strings and byte arrays (signatures, public keys, canonical bytes); a byte array is truthy even
// when it is empty, so emptiness is checked on its length.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { keep, runGroup, type Group } from "../../bench/harness.js";

const options = { rounds: 1, maxTime: 0.02, warmupMs: 1 };
const groupOf = (name: string, fn: () => void): Group => ({ title: "harness check", baseline: name, cases: [{ name, fn }] });

async function failure(group: Group): Promise<string | undefined> {
  try {
    await runGroup(group, options);
    return undefined;
  } catch (error) {
    return (error as Error).message;
  }
}

for (const [what, value] of [
  ["a verdict of false", false],
  ["an empty string", ""],
  ["an empty Uint8Array", new Uint8Array(0)],
  ["an empty Buffer", Buffer.alloc(0)],
  ["undefined", undefined],
] as const) {
  test(`${what} stops the run, naming the case`, async () => {
    const message = await failure(groupOf("empty output", () => keep(value)));
    assert.ok(message !== undefined, `${what} was timed as a result`);
    assert.match(message!, /harness check \/ empty output: \d+ results were false or empty/);
  });
}

for (const [what, value] of [
  ["a verdict of true", true],
  ["a string", "x"],
  ["a 64-byte signature", new Uint8Array(64)],
  ["an object", { publicKey: new Uint8Array(32) }],
] as const) {
  test(`${what} is a result`, async () => {
    assert.is(await failure(groupOf("output", () => keep(value))), undefined);
  });
}

test.run();
