// `npm run bench:glue`: measures what the JS <-> wasm boundary costs with our raw (ptr, len)
// exports against @assemblyscript/loader, on the same function, in one interleaved run. The
// numbers justify the glue choice recorded in the README.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import loader from "@assemblyscript/loader";
import { formatTable, keep, runGroup, type Group } from "./harness.js";

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);
const asc = path.join(path.dirname(require.resolve("assemblyscript/package.json")), "bin", "asc.js");
const out = mkdtempSync(path.join(os.tmpdir(), "chio-glue-"));

// asc also reads the project's asconfig.json from cwd; the probe states its own initial memory
// (4 pages: enough for the incremental runtime the loader build needs) so the library's layout
// never decides whether the probe compiles.
function compile(name: string, extra: string[]): Uint8Array {
  const file = path.join(out, `${name}.wasm`);
  execFileSync(process.execPath, [asc, path.join(here, "glue", "probe.ts"), "-O3", "--noAssert", "--use", "abort=bench/glue/probe/abortTrap", "--initialMemory", "4", "-o", file, ...extra], {
    cwd: path.join(here, ".."),
    stdio: "inherit",
  });
  return readFileSync(file);
}

// Same flags as the library for the raw build; the loader needs the runtime exported.
const raw = new WebAssembly.Instance(new WebAssembly.Module(compile("raw", ["--runtime", "stub"])), {}).exports as unknown as {
  memory: WebAssembly.Memory;
  sumPtr(ptr: number, len: number): number;
};
const managed = loader.instantiateSync<{ sumArray(p: number): number; Uint8Array_ID: WebAssembly.Global }>(
  compile("loader", ["--runtime", "incremental", "--exportRuntime"]),
  {},
).exports;
const arrayId = managed.Uint8Array_ID.value as number;

const groups: Group[] = [];
for (const size of [32, 169, 1024]) {
  const msgs = Array.from({ length: 64 }, (_, k) => Uint8Array.from({ length: size }, (_, j) => (j * 31 + k) & 255));
  const scratch = 4096;
  let heap = new Uint8Array(raw.memory.buffer);
  let i = 0;
  const expect = msgs.map((m) => m.reduce((a, b) => a + b, 0));
  // Sanity: both paths compute the same sums.
  for (let k = 0; k < msgs.length; k++) {
    heap.set(msgs[k], scratch);
    if (raw.sumPtr(scratch, size) !== expect[k]) throw new Error("raw glue sanity check failed");
    const p = managed.__pin(managed.__newArray(arrayId, msgs[k]));
    if (managed.sumArray(p) !== expect[k]) throw new Error("loader glue sanity check failed");
    managed.__unpin(p);
  }
  groups.push({
    title: `boundary, ${size} B in`,
    baseline: "raw exports: set + call",
    cases: [
      {
        name: "raw exports: set + call",
        fn: () => {
          const m = msgs[(i = (i + 1) & 63)];
          if (heap.buffer !== raw.memory.buffer) heap = new Uint8Array(raw.memory.buffer);
          heap.set(m, scratch);
          keep(raw.sumPtr(scratch, m.length));
        },
      },
      {
        name: "@assemblyscript/loader: __newArray + call",
        fn: () => {
          const m = msgs[(i = (i + 1) & 63)];
          const p = managed.__pin(managed.__newArray(arrayId, m));
          keep(managed.sumArray(p));
          managed.__unpin(p);
        },
      },
    ],
  });
}
const results = [];
for (const g of groups) results.push(...(await runGroup(g, { rounds: 3, maxTime: 0.5, warmupMs: 200 })));
console.log(formatTable(results, new Map(groups.map((g) => [g.title, g.baseline]))));
