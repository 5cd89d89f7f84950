// esbuild build: esbuild does not place assets referenced by `new URL(…, import.meta.url)`, so
// the site copies chio.wasm next to its bundle and tells init() where it is.
import { init } from "chio-trust";
import { runChecks } from "./checks.js";

await runChecks("esbuild", () => init(new URL("./chio.wasm", import.meta.url)));
