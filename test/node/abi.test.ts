// src/wasm/abi.ts is generated from assembly/abi.ts by scripts/gen-abi.ts (and committed, so tsc
// and tsx work on a clean clone): regenerate it in memory and require the committed file to be
// identical; check the generator refuses what it cannot translate; and check the ABI against
// the built module where the module itself reports it.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { readFileSync } from "node:fs";
import { ABI_HEADER, generateAbiSource } from "../../scripts/gen-abi.js";
import * as abi from "../../src/wasm/abi.js";
import { argsBase, ioArenaBase } from "../../src/wasm/instance.js";
import { assertMatchesGenerator } from "../helpers/generated.js";

test("committed src/wasm/abi.ts equals a fresh generation from assembly/abi.ts", () => {
  assertMatchesGenerator("src/wasm/abi.ts", ABI_HEADER, generateAbiSource(), "node --import tsx scripts/gen-abi.ts");
});

test("generator keeps doc comments and values, and rejects anything else", () => {
  const out = generateAbiSource("// header\n\n/** Doc. */\nexport const A_B: usize = 0x10; // note\nexport const C: i32 = -1;\n");
  assert.ok(out.includes("/** Doc. */\nexport const A_B = 16; // note\nexport const C = -1;\n"));
  assert.throws(() => generateAbiSource("export const X: usize = 4 * 8;\n"), /not an ABI constant/);
  assert.throws(() => generateAbiSource("export const X: i32 = 1;\nexport const X: i32 = 2;\n"), /declared twice/);
  assert.throws(() => generateAbiSource("const HIDDEN: i32 = 1;\n"), /not an ABI constant/);
});

test("every constant of assembly/abi.ts reaches the TypeScript side", () => {
  const source = readFileSync(new URL("../../assembly/abi.ts", import.meta.url), "utf8");
  const names = [...source.matchAll(/^export const ([A-Z0-9_]+):/gm)].map((m) => m[1]);
  assert.ok(names.length >= 50);
  for (const name of names) assert.type((abi as Record<string, unknown>)[name], "number", name);
  assert.equal(Object.keys(abi).sort(), [...names].sort());
});

test("ARGS block layout fits the block and the module's arena starts after it", () => {
  const fields: [number, number][] = [
    [abi.ARG_PUBLIC_KEY, 32],
    [abi.ARG_SIGNATURE, 64],
    [abi.ARG_SECRET, 32],
    [abi.ARG_DIGEST, 64],
    [abi.ARG_RESULT, abi.ARG_RESULT_BYTES],
  ];
  fields.sort((x, y) => x[0] - y[0]);
  for (let i = 0; i < fields.length; i++) {
    const [at, size] = fields[i];
    assert.ok(at + size <= (fields[i + 1]?.[0] ?? abi.ARGS_BYTES), `field at ${at} overlaps the next`);
  }
  assert.ok(abi.ENVELOPE_RESULT_SIGNATURE + 64 <= abi.ARG_RESULT_BYTES);
  assert.ok(abi.TEST_HOOK_OUTPUT + 64 <= abi.ARG_RESULT_BYTES);
  assert.ok(ioArenaBase() >= argsBase() + abi.ARGS_BYTES);
});

test.run();
