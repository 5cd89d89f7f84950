// chio-trust/ed25519's TypeScript declarations against @noble/ed25519 3.x's (the oracle: noble's
// own index.d.ts): test/types/noble-compat.ts states, as compile-time checks, that every export
// and noble's helper types (TArg, TRet, TypedArg, TypedRet) have noble's types, and that the
// outputs are ArrayBuffer-backed for TypeScript ≥ 5.7. tsc compiles it here; a difference is a
// compile error. A second compile shows the checks bite: the declaration of `sign` before this
// module followed noble's types is refused.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { spawnSync } from "node:child_process";
import { createRequire } from "node:module";
import { rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const tsc = path.join(path.dirname(createRequire(import.meta.url).resolve("typescript/package.json")), "bin", "tsc");
const run = (args: string[]) => spawnSync(process.execPath, [tsc, ...args], { cwd: root, encoding: "utf8", timeout: 120_000 });

test("test/types/noble-compat.ts compiles: every export and helper type is noble's", () => {
  const result = run(["-p", "test/types/tsconfig.json"]);
  assert.is(result.stdout + result.stderr, "");
  assert.is(result.status, 0);
});

test("the same checks refuse a declaration that differs from noble's (sign returning plain Uint8Array)", () => {
  const file = path.join(root, "test/types", `negative-${process.pid}.ts`);
  writeFileSync(
    file,
    [
      'import * as noble from "@noble/ed25519";',
      "type Equal<A, B> = (<G>() => G extends A ? 1 : 2) extends <G>() => G extends B ? 1 : 2 ? true : false;",
      "function expectTrue<T extends true>(): T | void {}",
      "declare const oldSign: (message: Uint8Array, secretKey: Uint8Array) => Uint8Array;",
      "expectTrue<Equal<typeof oldSign, typeof noble.sign>>();",
      "",
    ].join("\n"),
  );
  try {
    const result = run(["--noEmit", "--strict", "--skipLibCheck", "--target", "ES2022", "--module", "NodeNext", "--moduleResolution", "NodeNext", "--types", "node", file]);
    assert.is(result.status, 2, result.stdout);
    assert.match(result.stdout, /TS2344/);
  } finally {
    rmSync(file, { force: true });
  }
});

test.run();
