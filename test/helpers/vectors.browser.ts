// The browser twin of ./vectors.ts (same exports): the portable suites read test/vectors/ through
// it when scripts/test-browser.mjs bundles them for Chromium. There is no file system in a page,
// so the bundler inlines every file under test/vectors/ as base64 in the virtual module
// `chio-test-vectors` (a map from the path under test/vectors/ to the file's bytes).
//
// Not a suite: registers no tests.
// @ts-expect-error -- a virtual module that only exists inside the browser bundle
import { VECTOR_FILES } from "chio-test-vectors";

const files = VECTOR_FILES as Record<string, string>;
const utf8 = new TextDecoder("utf-8", { fatal: true });

function lookup(path: string): string {
  const base64 = files[path];
  if (base64 === undefined) throw new Error(`test/vectors/${path} is not in the browser bundle`);
  return base64;
}

/** The bytes of test/vectors/<path>. */
export function vectorBytes(path: string): Uint8Array {
  const binary = atob(lookup(path));
  const out = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) out[i] = binary.charCodeAt(i);
  return out;
}

/** The UTF-8 text of test/vectors/<path>. */
export function vectorText(path: string): string {
  return utf8.decode(vectorBytes(path));
}

/** test/vectors/<path> parsed as JSON. */
export function vectorJson<T = unknown>(path: string): T {
  return JSON.parse(vectorText(path)) as T;
}

/** The names of the files in the folder test/vectors/<dir>/, sorted (like readdirSync: direct children only). */
export function vectorFiles(dir: string): string[] {
  const prefix = dir.endsWith("/") ? dir : `${dir}/`;
  const names = new Set<string>();
  for (const path of Object.keys(files)) {
    if (path.startsWith(prefix)) names.add(path.slice(prefix.length).split("/")[0]);
  }
  return [...names].sort();
}
