// Vite build: Vite sees `new URL("../../chio.wasm", import.meta.url)` inside chio-trust's browser
// build, copies chio.wasm into the output with a hashed name and rewrites the URL; init() with
// no argument fetches it.
import { init } from "chio-trust";
import { runChecks } from "./checks.js";

await runChecks("vite", () => init());
