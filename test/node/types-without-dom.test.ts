// The built declarations of every entry compile for a Node-only TypeScript project: strict tsc,
// `lib: ["ES2022"]` (no DOM), Node's types only and `skipLibCheck: false`, under NodeNext and
// bundler resolution. README "Install" names what skipLibCheck off needs (the drivers' @types,
// installed here as dev dependencies) and nothing else; but init's types named
// WebAssembly.Module, WebAssembly.Memory and BufferSource, which only the DOM library declares
// (@types/node 20 declares neither), so such a project got three errors in
// dist/esm/wasm/instance.d.ts (hunt 27). A second compile, with the DOM library, checks that
// there `init` and `initSync` still take a WebAssembly.Module and BufferSource, exactly.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import path from "node:path";
import { repoRoot } from "../helpers/processes.js";

const tsc = path.join(path.dirname(createRequire(import.meta.url).resolve("typescript/package.json")), "bin", "tsc");
const pkg = JSON.parse(readFileSync(path.join(repoRoot, "package.json"), "utf8")) as { exports: Record<string, unknown> };
/** Every entry with declarations (not ./chio.wasm, an asset, nor ./package.json). */
const entries = Object.keys(pkg.exports).filter((key) => key !== "./chio.wasm" && key !== "./package.json").map((key) => "chio-trust" + key.slice(1));

const dir = mkdtempSync(path.join(tmpdir(), "chio-types-no-dom-"));
test.after(() => rmSync(dir, { recursive: true, force: true }));

/** Compiles `source` in a project that installs chio-trust (a link to this checkout); tsc's output, or "" when it passed. */
function compile(source: string, lib: string[], moduleResolution: "NodeNext" | "Bundler"): string {
  const project = path.join(dir, `${lib.join("-")}-${moduleResolution}`);
  mkdirSync(path.join(project, "node_modules"), { recursive: true });
  symlinkSync(repoRoot, path.join(project, "node_modules", "chio-trust"), "dir");
  writeFileSync(path.join(project, "package.json"), JSON.stringify({ type: "module" }));
  writeFileSync(path.join(project, "consumer.ts"), source);
  writeFileSync(
    path.join(project, "tsconfig.json"),
    JSON.stringify({
      compilerOptions: {
        target: "ES2022", module: moduleResolution === "NodeNext" ? "NodeNext" : "ESNext", moduleResolution, strict: true, noEmit: true,
        skipLibCheck: false, lib, types: ["node"], typeRoots: [path.join(repoRoot, "node_modules", "@types")],
      },
      files: ["consumer.ts"],
    }),
  );
  const run = spawnSync(process.execPath, [tsc, "-p", project], { cwd: project, encoding: "utf8", timeout: 120_000 });
  return run.status === 0 ? "" : `${run.stdout}${run.stderr}` || `tsc exited ${run.status}`;
}

const importsEveryEntry = entries.map((entry, i) => `import * as entry${i} from ${JSON.stringify(entry)};`).join("\n") + `\nexport const all = [${entries.map((_, i) => `entry${i}`).join(", ")}];\n`;

test("every entry's declarations compile with lib ES2022 and Node's types only, skipLibCheck off (NodeNext and bundler resolution); init takes bytes, a URL or a Response", () => {
  assert.ok(entries.length >= 11, entries.join(", "));
  const source = `${importsEveryEntry}
import { init, initSync, type InitSource, type WasmSource } from "chio-trust";
const bytes: WasmSource = new Uint8Array(8);
const sources: InitSource[] = [bytes, new ArrayBuffer(8), new URL("https://example.invalid/chio.wasm"), new Response(new Uint8Array(8))];
export const calls = [initSync(bytes), ...sources.map((source) => init(source))];
`;
  for (const resolution of ["NodeNext", "Bundler"] as const) assert.is(compile(source, ["ES2022"], resolution), "", resolution);
});

test("with the DOM library, WasmSource is exactly WebAssembly.Module | BufferSource, and init and initSync take both", () => {
  const source = `${importsEveryEntry}
import { init, initSync, type InitSource, type WasmSource } from "chio-trust";
declare const mod: WebAssembly.Module;
declare const buffer: BufferSource;
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
export const exact: Same<WasmSource, WebAssembly.Module | BufferSource> = true;
const fetched: InitSource = fetch("/chio.wasm");
export const calls = [initSync(mod), initSync(buffer), init(mod), init(buffer), init(fetched)];
`;
  assert.is(compile(source, ["ES2022", "DOM"], "NodeNext"), "");
});

// TypeScript 5.7 made the typed arrays generic (`Uint8Array<ArrayBuffer>`); before it, `Uint8Array<…>`
// is error TS2315 "Type 'Uint8Array' is not generic". tsc 5.7+ writes an inferred typed-array type
// with its argument, so declarations of values typed by inference (bytes.d.ts's typedArraySet and
// typedArrayFill, wasm/instance.d.ts's SIMD_PROBE, the wasm sources' defaultWasmBytesSync) failed
// every project on TypeScript 5.0 to 5.6 with skipLibCheck off, 4 errors from `import "chio-trust"`
// alone (hunt 38; README "Install" names 5.0 as the oldest). The fresh-array type is written
// `ReturnType<typeof Uint8Array.of>` instead, as chio-trust/ed25519's TRet does, which is
// `Uint8Array<ArrayBuffer>` on 5.7+ and `Uint8Array` before. No older tsc is installed here, so
// this reads every shipped declaration file, comments left out, for a typed array with type arguments.
test("no shipped declaration gives a typed array type arguments (TypeScript 5.0 to 5.6 have none)", () => {
  const generic = /\b(?:Uint8Array|Uint8ClampedArray|Int8Array|Uint16Array|Int16Array|Uint32Array|Int32Array|Float32Array|Float64Array|BigInt64Array|BigUint64Array)\s*</;
  const found: string[] = [];
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const file = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(file);
      else if (entry.name.endsWith(".d.ts")) {
        const text = readFileSync(file, "utf8").replace(/\/\*[\s\S]*?\*\//g, "").replace(/\/\/.*$/gm, "");
        text.split("\n").forEach((line, i) => {
          if (generic.test(line)) found.push(`${path.relative(repoRoot, file)}:${i + 1}: ${line.trim().slice(0, 160)}`);
        });
      }
    }
  };
  walk(path.join(repoRoot, "dist"));
  assert.equal(found, []);
});

test.run();
