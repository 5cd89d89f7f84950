// esbuild build as a classic script (`format: "iife"`, as for a `<script>` tag or a classic Web
// Worker): such a bundle has no `import.meta`, so it must load without one (review 72 F1: it
// threw at load) and tell init() where chio.wasm is, here from the page's own address.
import { init } from "chio-trust";
import { runChecks } from "./checks.js";

runChecks("esbuild-iife", () => init(new URL("./chio.wasm", document.baseURI)));
