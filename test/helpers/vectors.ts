// Reads the test vectors under test/vectors/ for the portable suites (test/portable/), which
// import nothing from `node:` themselves so that the same files also run in a browser. This
// module is the one seam between a suite and its host: under Node it reads the files; a browser
// build of the suites substitutes a module with the same exports that serves bundled copies.
//
// Not a suite: uvu imports every file under test/, this one included; it registers no tests.
import { readdirSync, readFileSync } from "node:fs";

const root = new URL("../vectors/", import.meta.url);

/** The UTF-8 text of test/vectors/<path>. */
export function vectorText(path: string): string {
  return readFileSync(new URL(path, root), "utf8");
}

/** The bytes of test/vectors/<path>. */
export function vectorBytes(path: string): Uint8Array {
  return new Uint8Array(readFileSync(new URL(path, root)));
}

/** test/vectors/<path> parsed as JSON. */
export function vectorJson<T = unknown>(path: string): T {
  return JSON.parse(vectorText(path)) as T;
}

/** The names of the files in the folder test/vectors/<dir>/, sorted. */
export function vectorFiles(dir: string): string[] {
  return readdirSync(new URL(dir.endsWith("/") ? dir : `${dir}/`, root)).sort();
}
