// The built package loads through both branches of the exports map, and both give the same
// results as the source: `import` (dist/esm/) and `require` (dist/cjs/).
import { test } from "uvu";
import * as assert from "uvu/assert";
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), "..", "..");
const seedHex = "09".repeat(32);
// chio's default signing seed and its public key (test/vectors/chio/signing/v1.json).
const expectedPublicKey = "fd1724385aa0c75b64fb78cd602fa1d991fdebf76b13c58ed702eac835e9f618";

const script = (load: string) => `
${load}
const seed = Buffer.from("${seedHex}", "hex");
const pk = lib.ed25519.getPublicKey(seed);
const msg = new TextEncoder().encode("hello chio");
const sig = lib.ed25519.sign(msg, seed);
process.stdout.write(JSON.stringify({
  pk: Buffer.from(pk).toString("hex"),
  ok: lib.ed25519.verify(sig, msg, pk),
  exports: Object.keys(lib).sort(),
}));
`;

function run(args: string[], code: string) {
  return JSON.parse(execFileSync(process.execPath, [...args, "-e", code], { cwd: root, encoding: "utf8" }));
}

test("dist is built", () => {
  for (const f of ["dist/esm/index.js", "dist/cjs/index.js", "dist/cjs/package.json", "dist/esm/index.d.ts", "dist/cjs/index.d.ts", "dist/chio.wasm"]) {
    assert.ok(existsSync(path.join(root, f)), f);
  }
});

test("require('chio-trust') and import('chio-trust') both work and agree", () => {
  const viaRequire = run([], script(`const lib = require("chio-trust");`));
  const viaImport = run(["--input-type=module"], script(`const lib = await import("chio-trust");`));
  assert.is(viaRequire.pk, expectedPublicKey);
  assert.is(viaImport.pk, expectedPublicKey);
  assert.ok(viaRequire.ok);
  assert.ok(viaImport.ok);
  assert.equal(viaRequire.exports, viaImport.exports);
});

test.run();
