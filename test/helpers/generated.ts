// The regenerate-and-compare check shared by every generated file (curve tables, powers of ten,
// the JS side of the wasm ABI): the committed file must start with its "generated" header and be
// byte-identical to what its generator produces now.
//
// Not a suite: uvu imports every file under test/, this one included; it registers no tests.
import * as assert from "uvu/assert";
import { readFileSync } from "node:fs";
import path from "node:path";

/** Asserts that the committed `relativePath` (from the repository root) equals `fresh`. */
export function assertMatchesGenerator(relativePath: string, header: string, fresh: string, regenerate: string): void {
  const file = readFileSync(path.join(process.cwd(), relativePath), "utf8");
  assert.ok(file.startsWith(header), `${relativePath} lacks its header ${JSON.stringify(header)}`);
  if (file === fresh) return;
  const a = file.split("\n");
  const b = fresh.split("\n");
  const line = a.findIndex((l, i) => l !== b[i]);
  assert.unreachable(`${relativePath} differs from its generator's output at line ${line + 1}: run ${regenerate}`);
}
