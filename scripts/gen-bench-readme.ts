// Generates the README's benchmark figures and the batch chart (bench/results/batch-verify.svg)
// from bench/results/latest.json, the committed run of `npm run bench`, so the tables and chart
// the README shows are always that run's and never a hand copy of an older one. Each figure block sits between two comment lines,
//   <!-- generated:NAME by scripts/gen-bench-readme.ts from bench/results/latest.json -->
//   <!-- /generated:NAME -->
// and everything between them is this generator's; the prose around them is written by hand.
// `npm run bench` (every group) rewrites the blocks and the chart after writing latest.json; by
// hand: `node --import tsx scripts/gen-bench-readme.ts`. test/node/bench-readme.test.ts
// regenerates both from the committed latest.json and compares them with the committed files.
import { readFileSync } from "node:fs";
import path from "node:path";
import { baselinesOf, formatRunLine, formatTable, type BenchRun, type CaseResult } from "../bench/format.js";
import {
  BATCH_BASELINE, BATCH_GROUP_TITLE as BATCH_GROUP, BATCH_SIZES, CHIO_SINGLE, KNOWN_KEYS_BATCH, SODIUM_SINGLE, distinctName, knownKeysName, oneKeyName,
  preparedKeysName,
} from "../bench/batch-names.js";
import {
  CHIO_NACL_KEYGEN, CHIO_NACL_SIGN, CHIO_NACL_VERIFY, CHIO_NOBLE_KEYGEN, CHIO_NOBLE_SIGN, CHIO_NOBLE_VERIFY, CHIO_NOBLE_VERIFY_STRICT,
  COMPAT_KEYGEN_GROUP, COMPAT_SIGN_GROUP, COMPAT_VERIFY_GROUP, NACL_KEYGEN, NACL_SIGN, NACL_VERIFY, NOBLE_KEYGEN, NOBLE_SIGN, NOBLE_VERIFY, NOBLE_VERIFY_STRICT,
} from "../bench/compat-names.js";
import { POOL_ENVELOPES_GROUP, POOL_SIGNATURES_GROUP } from "../bench/pool-names.js";
import { lineChartSvg } from "../bench/svg-chart.js";
import { REPO_ROOT, writeWhenRunAsProgram } from "./generated-file.js";

export const README_PATH = "README.md";
export const RUN_PATH = "bench/results/latest.json";
/** The batch chart the README shows, also generated from the committed run (batchChartSvg). */
export const CHART_PATH = "bench/results/batch-verify.svg";
const GENERATOR = "scripts/gen-bench-readme.ts";

const startMarker = (name: string) => `<!-- generated:${name} by ${GENERATOR} from ${RUN_PATH} -->`;
const endMarker = (name: string) => `<!-- /generated:${name} -->`;

const POOL_GROUPS: [string, string][] = [
  ["signatures", POOL_SIGNATURES_GROUP],
  ["envelopes", POOL_ENVELOPES_GROUP],
];

/** The run's row for `name` in `group`; a missing row is an error (a renamed case must be renamed here too). */
function row(run: BenchRun, group: string, name: string): CaseResult {
  const found = run.results.find((r) => r.group === group && r.name === name);
  if (found === undefined) throw new Error(`${RUN_PATH} has no row "${name}" in group "${group}"`);
  return found;
}

const ratio = (r: CaseResult) => `${r.timeRatioToBaseline.toFixed(2)}×`;

/** How many times faster `ours` is than `theirs`: the ratio of their median times in the run. */
function timesFaster(run: BenchRun, group: string, theirs: string, ours: string): string {
  const x = row(run, group, theirs).medianMicros / row(run, group, ours).medianMicros;
  return `${x >= 100 ? x.toFixed(0) : x.toFixed(1)}×`;
}

/** README "Benchmark": every row of the run, and the run's settings. */
function resultsTable(run: BenchRun): string {
  return `${formatTable(run.results, baselinesOf(run))}\n\n${formatRunLine(run)}`;
}

/** README "Batch verification": per-signature ratios by batch size. */
function batchSizesTable(run: BenchRun): string {
  const cells = (name: (n: number) => string) =>
    BATCH_SIZES.map((n) => {
      const cell = ratio(row(run, BATCH_GROUP, name(n)));
      return n === 64 ? `**${cell}**` : cell; // the targets are set at 64
    }).join(" | ");
  return [
    `| batch size | ${BATCH_SIZES.join(" | ")} |`,
    `|---|${BATCH_SIZES.map(() => "---:").join("|")}|`,
    `| distinct keys, new to the call | ${cells(distinctName)} |`,
    `| one key | ${cells(oneKeyName)} |`,
  ].join("\n");
}

/** README "Batch verification": 64 distinct keys by where their decoded points come from. */
function batchKeysTable(run: BenchRun): string {
  const cell = (name: string) => ratio(row(run, BATCH_GROUP, name));
  return [
    "| 64 distinct keys | per signature |",
    "|---|---:|",
    `| new to the call (the row above; node:crypto too decodes the key on every verify) | **${cell(distinctName(KNOWN_KEYS_BATCH))}** |`,
    `| in the batch key cache (seen in earlier batches, not prepared) | ${cell(knownKeysName)} |`,
    `| prepared (\`preparePublicKey\`; 128 in rotation, in a 6 MiB slab; node:crypto has nothing like it) | ${cell(preparedKeysName)} |`,
  ].join("\n");
}

/** README "Worker pool": every row of the two pool groups, in ms per call of 256. */
function poolTable(run: BenchRun): string {
  const lines = ["| case | ms per 256 | vs node:crypto, one thread |", "|---|---:|---:|"];
  for (const [kind, group] of POOL_GROUPS) {
    const rows = run.results.filter((r) => r.group === group);
    if (rows.length === 0) throw new Error(`${RUN_PATH} has no group "${group}"`);
    for (const r of rows) lines.push(`| ${kind}: ${r.name} | ${(r.medianMicros / 1000).toFixed(2)} | ${ratio(r)} |`);
  }
  return lines.join("\n");
}

/** README "Migrating", from @noble/ed25519. */
function nobleSpeed(run: BenchRun): string {
  return (
    `Speed in the committed run (@noble/ed25519's median time divided by ours, both from the same interleaved rounds): verify ` +
    `${timesFaster(run, COMPAT_VERIFY_GROUP, NOBLE_VERIFY, CHIO_NOBLE_VERIFY)} ` +
    `(${timesFaster(run, COMPAT_VERIFY_GROUP, NOBLE_VERIFY_STRICT, CHIO_NOBLE_VERIFY_STRICT)} with \`zip215: false\`), ` +
    `sign ${timesFaster(run, COMPAT_SIGN_GROUP, NOBLE_SIGN, CHIO_NOBLE_SIGN)}, ` +
    `getPublicKey ${timesFaster(run, COMPAT_KEYGEN_GROUP, NOBLE_KEYGEN, CHIO_NOBLE_KEYGEN)}.`
  );
}

/** README "Migrating", from tweetnacl. */
function tweetnaclSpeed(run: BenchRun): string {
  return (
    `Speed in the committed run (tweetnacl's median time divided by ours, both from the same interleaved rounds): \`sign.detached.verify\` ` +
    `${timesFaster(run, COMPAT_VERIFY_GROUP, NACL_VERIFY, CHIO_NACL_VERIFY)}, ` +
    `\`sign.detached\` ${timesFaster(run, COMPAT_SIGN_GROUP, NACL_SIGN, CHIO_NACL_SIGN)} ` +
    `(ours includes the check that the secret key's public half is its seed's), ` +
    `\`sign.keyPair.fromSeed\` ${timesFaster(run, COMPAT_KEYGEN_GROUP, NACL_KEYGEN, CHIO_NACL_KEYGEN)}.`
  );
}

/** Every generated block of the README, by name, in the order they appear there. */
export function renderBenchBlocks(run: BenchRun): Map<string, string> {
  return new Map([
    ["noble-speed", nobleSpeed(run)],
    ["tweetnacl-speed", tweetnaclSpeed(run)],
    ["bench-results", resultsTable(run)],
    ["pool-results", poolTable(run)],
    ["batch-sizes", batchSizesTable(run)],
    ["batch-keys", batchKeysTable(run)],
  ]);
}

/**
 * `readme` with each block's text put between its markers (a blank line on either side). Every
 * block must have its two markers exactly once, in order; a README without them is an error.
 */
export function applyBenchBlocks(readme: string, blocks: Map<string, string>): string {
  let out = readme;
  for (const [name, text] of blocks) {
    const start = startMarker(name);
    const end = endMarker(name);
    const from = out.indexOf(start);
    const to = out.indexOf(end);
    if (from < 0 || to < from || out.indexOf(start, from + 1) >= 0 || out.indexOf(end, to + 1) >= 0) {
      throw new Error(`${README_PATH} must hold the lines ${start} and ${end} once each, in that order`);
    }
    out = `${out.slice(0, from + start.length)}\n\n${text}\n\n${out.slice(to)}`;
  }
  return out;
}

/** The committed run, as bench/run.ts wrote it. */
export function readCommittedRun(root = REPO_ROOT): BenchRun {
  return JSON.parse(readFileSync(path.join(root, RUN_PATH), "utf8")) as BenchRun;
}

/** The README with its benchmark blocks regenerated from the committed run. */
export function regenerateReadme(root = REPO_ROOT): string {
  return applyBenchBlocks(readFileSync(path.join(root, README_PATH), "utf8"), renderBenchBlocks(readCommittedRun(root)));
}

/** The batch chart: cost per signature against batch size, from the run's batch group. */
export function batchChartSvg(run: BenchRun): string {
  const micros = (name: string): number => row(run, BATCH_GROUP, name).medianMicros;
  return lineChartSvg(
    `Ed25519 batch verification, cost per signature (${run.cpu}, Node ${run.node})`,
    [
      { name: "verifyBatch, distinct keys", color: "#1f77b4", points: BATCH_SIZES.map((n) => [n, micros(distinctName(n))]) },
      { name: "verifyBatch, one key", color: "#2ca02c", points: BATCH_SIZES.map((n) => [n, micros(oneKeyName(n))]) },
    ],
    [
      { name: "node:crypto single verify", micros: micros(BATCH_BASELINE), color: "#d62728" },
      { name: "libsodium.js single verify", micros: micros(SODIUM_SINGLE), color: "#ff7f0e" },
      { name: "chio-trust single, cold key", micros: micros(CHIO_SINGLE), color: "#7f7f7f" },
    ],
  );
}

/** The batch chart regenerated from the committed run. */
export function regenerateChart(root = REPO_ROOT): string {
  return batchChartSvg(readCommittedRun(root));
}

writeWhenRunAsProgram(import.meta.url, README_PATH, () => regenerateReadme());
writeWhenRunAsProgram(import.meta.url, CHART_PATH, () => regenerateChart());
