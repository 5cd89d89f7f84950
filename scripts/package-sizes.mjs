// Gzipped size of each entry of the package as a site or a server bundle would ship it: esbuild
// bundles `export * from "<entry>"` (minified, ESM) from the built dist/, once with the default
// conditions (the core embedded as base64: Node, Deno, Bun, workers, CommonJS) and once for the
// browser (#wasm-source → the core is fetched as chio.wasm, gzipped separately). Budgets are
// declared here; test/node/package-contents.test.ts holds the sizes under them and checks that
// README.md states them. `node scripts/package-sizes.mjs` prints the README table.
import { build } from "esbuild";
import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), "..");

/** Gzipped bytes allowed per row (gzip -9). About 5–20% above the sizes measured when set (last lowered when the signing table moved out of the module: the core builds it in memory; the browser entry's raised from 23,500 when prepared public keys got their FinalizationRegistry; the handshake browser entry's from 22,500 for the fixes of reviews 51–54: the exchange's slab-layout check, the canonical walk's loops instead of regular expressions, the envelope options' reader; the three core-embedded rows raised by 2,500 / 1,500 / 2,000 when the batch verifier got its four-lane exponentiations, field_x4.ts: 5.6 KB more module, 2.1 KB more gzipped, for batches 10–25% faster; the browser main and canonical rows raised from 24,500 and 7,750 when the glue captured its built-ins at load, review 70 F1: about 300 bytes gzipped; the main and handshake rows raised from 88,500 and 88,000 (core embedded), 25,250 and 23,500 (browser) to 89,000, 88,500, 25,750 and 24,500 for trust anchors that list several keys, reviews 75 and 82: about 600 bytes gzipped; the browser canonical row raised from 8,250 to 8,500 when the library's lists got no prototype and copyInto its exact-length check, review 85's Array.prototype accessor gap: 67 bytes gzipped, 8,254 against 8,187, and 8,288 once review 98's routes were closed too; the browser main and handshake rows raised from 25,750 and 24,500 to 26,250 and 25,000, and the canonical core-embedded row from 72,500 to 73,000, for review 99's: errors named without an assignment, built-ins captured at load, 80–150 bytes gzipped per entry; the three core-embedded rows and the module's raised by 1,000 each, to 91,000, 74,000, 90,500 and 55,000, for the batch verifier's sparse coefficients, assembly/ed25519/sparse-coefficients.ts: 1,230 bytes more module, about 570 bytes more gzipped, for batches of 16 and 64 under one key about 9% faster; the canonical core-embedded and handshake core-embedded rows raised to 74,500 and 91,000, the browser main, canonical and handshake rows to 26,750, 8,750 and 25,500, when canonical JSON of JS values, verifySignature's marks and the in-memory stores took their built-ins as captured at load, test/node/lying-builtins.test.ts: 130–250 bytes gzipped per entry, the canonical browser row 8,374 to 8,609; the canonical browser row raised from 8,750 to 9,000 when the glue learnt to load on a host without WebAssembly, src/wasm/host.ts, test/node/no-webassembly.test.ts: 81 bytes gzipped, 8,677 to 8,758; the main and handshake rows raised to 91,500 (core embedded), 27,000 and 25,750 (browser) when the exported classes and the ed25519 object were frozen and the batch items and challenge fields read with typed errors, helpers 145, 146 and 148: about 220 bytes gzipped per entry, 90,876 to 91,090 and 26,475 to 26,701; the six entry rows raised to 92,500, 75,000, 92,500, 28,000, 9,500 and 26,500 when init() learnt to refuse a module that is not the core, and to say what came instead of chio.wasm, helper 152 (the core's export list, src/generated/chio-wasm-exports.ts, about 110 bytes gzipped, its check and the adoption that keeps nothing of a failure about 150, the message about 230), with keys' own hex and the accept's abort signal, helpers 153 and 154: the browser main entry 26,701 to about 27,500; the main core-embedded, browser main and browser handshake rows raised to 93,000, 28,500 and 27,000 when canonical JSON of JS values wrote ToPrimitive out for boxed numbers and strings, hunt 27: about 185 bytes gzipped per entry, the browser main entry 27,990 to 28,176; the main and handshake core-embedded rows raised to 93,500 and 93,000 and the browser main row to 29,000 for stop 74's fixes: a cap on batch items read from a list's length (MAX_VERIFY_BATCH_ITEMS, hunt 53), one maxBytes rule for every envelope entry point (hunt 52), the replay cache's limits refused once it holds pairs (hunt 52), the prepared-key layout after a failed first configure (hunt 52) and the in-memory compareAndSet's type check (hunt 51): 80–95 bytes gzipped per entry, the handshake core-embedded row 92,449 to 92,532, the browser main row 28,446 to 28,516). */
export const SIZE_BUDGETS = {
  "chio-trust (core embedded)": 93_500,
  "chio-trust/canonical (core embedded)": 75_000,
  "chio-trust/handshake (core embedded)": 93_000,
  "chio-trust (browser)": 29_000,
  "chio-trust/canonical (browser)": 9_500,
  "chio-trust/handshake (browser)": 27_000,
  "chio.wasm (browser, fetched once)": 55_000,
};

const gz = (bytes) => gzipSync(bytes, { level: 9 }).length;

/** [{ row, bytes, gzip, budget }] for every row of SIZE_BUDGETS. */
export async function measureSizes() {
  const rows = [];
  for (const browser of [false, true]) {
    for (const entry of ["chio-trust", "chio-trust/canonical", "chio-trust/handshake"]) {
      const result = await build({
        stdin: { contents: `export * from ${JSON.stringify(entry)};`, resolveDir: root, loader: "js" },
        bundle: true,
        minify: true,
        format: "esm",
        platform: browser ? "browser" : "neutral",
        write: false,
        logLevel: "error",
      });
      const code = result.outputFiles[0].contents;
      const row = `${entry} (${browser ? "browser" : "core embedded"})`;
      rows.push({ row, bytes: code.length, gzip: gz(code), budget: SIZE_BUDGETS[row] });
    }
  }
  const wasm = readFileSync(path.join(root, "dist", "chio.wasm"));
  rows.push({ row: "chio.wasm (browser, fetched once)", bytes: wasm.length, gzip: gz(wasm), budget: SIZE_BUDGETS["chio.wasm (browser, fetched once)"] });
  return rows;
}

/** The README table. */
export function sizeTable(rows) {
  const n = (x) => x.toLocaleString("en-US");
  return ["| entry (build) | minified bytes | gzipped bytes | budget (gzipped) |", "|---|---:|---:|---:|", ...rows.map((r) => `| ${r.row} | ${n(r.bytes)} | ${n(r.gzip)} | ${n(r.budget)} |`)].join("\n");
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  console.log(sizeTable(await measureSizes()));
}
