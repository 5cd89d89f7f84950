// `npm run bench`: one run, one table. Builds every group, measures each in interleaved rounds and
// prints a Markdown table. A run of every group is the one to commit: it writes
// bench/results/latest.json, then regenerates from it the batch chart bench/results/batch-verify.svg
// and the README's benchmark tables (scripts/gen-bench-readme.ts). A run of some groups
// writes bench/results/filtered.json only (not committed), so it never replaces the full run.
//   npm run bench                 all groups
//   npm run bench -- verify sign  only groups whose title contains one of the words
//   BENCH_ROUNDS=3 BENCH_MAX_TIME=1 BENCH_WARMUP_MS=1500 npm run bench   (the defaults)
import { writeFileSync, mkdirSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { formatTable, runGroup, type CaseResult, type Group } from "./harness.js";
import { formatRunLine, type BenchRun } from "./format.js";
import { CHART_PATH, README_PATH, batchChartSvg, regenerateReadme } from "../scripts/gen-bench-readme.js";
import { ed25519Groups } from "./ed25519.js";
import { canonicalGroups } from "./canonical.js";
import { envelopeGroups } from "./envelope.js";
import { compatGroups } from "./compat.js";
import { poolGroups } from "./pool.js";
import { batchGroups } from "./batch.js";
import { ed25519 } from "../dist/esm/index.js";

const here = path.dirname(fileURLToPath(import.meta.url));
const rounds = Number(process.env.BENCH_ROUNDS ?? 3);
// V8 first runs wasm from its baseline compiler (Liftoff) and tiers hot functions up to
// TurboFan in the background. On this 2-core machine a single verify and a 64-item verifyBatch
// settle within the first 0.5 s of calls (8 December 2026: the first 0.5 s window 4-6% slower
// than the later ones, which stay within about 1% of each other). Every case is warmed 1.5 s by
// default, three times that, before it is timed (README, "Benchmarks").
const warmupMs = Number(process.env.BENCH_WARMUP_MS ?? 1500);
const maxTime = Number(process.env.BENCH_MAX_TIME ?? 1);
const filters = process.argv.slice(2).map((s) => s.toLowerCase());

const pool = poolGroups();
const groups: Group[] = [
  ...(await ed25519Groups()),
  ...(await batchGroups()),
  ...canonicalGroups(),
  ...envelopeGroups(),
  ...compatGroups(),
  ...pool.groups,
];
const selected = groups.filter((g) => filters.length === 0 || filters.some((f) => g.title.toLowerCase().includes(f)));

// Every group starts from an empty prepared-key slab of the default size: keys an earlier group
// prepared (the acceptEnvelope group's exchange pins 256 senders) would otherwise answer a later
// group's "cold" rows from the slab (review 62 F3). A group that wants prepared keys prepares them
// (its PreparedPublicKey objects prepare again on first use, in the warm-up).
const defaultSlabBytes = ed25519.preparedKeysLayout().maxBytes;
const results: CaseResult[] = [];
for (const group of selected) {
  process.stderr.write(`measuring ${group.title} (${group.cases.length} cases × ${rounds} rounds)…\n`);
  ed25519.configurePreparedKeys({ maxBytes: defaultSlabBytes });
  group.setup?.();
  const rows = await runGroup(group, { rounds, maxTime, warmupMs });
  group.teardown?.();
  for (const r of rows) process.stderr.write(`  ${r.name}: ${r.medianMicros.toFixed(2)} µs/op, ${r.timeRatioToBaseline.toFixed(2)}× baseline\n`);
  results.push(...rows);
}

for (const p of pool.pools) await p.close();

const baselines = new Map(selected.map((g) => [g.title, g.baseline]));
const cpu = os.cpus()[0]?.model ?? "unknown";
const run: BenchRun = {
  date: new Date().toISOString(),
  node: process.version,
  cpu,
  cores: os.cpus().length,
  loadavg: os.loadavg(),
  rounds,
  maxTimeSeconds: maxTime,
  warmupMs,
  baselines: Object.fromEntries(baselines),
  results,
};
console.log(formatTable(results, baselines));
console.log(`\n${formatRunLine(run)}`);

const complete = filters.length === 0;
const resultsDir = path.join(here, "results");
mkdirSync(resultsDir, { recursive: true });
writeFileSync(path.join(resultsDir, complete ? "latest.json" : "filtered.json"), JSON.stringify(run, null, 2) + "\n");
if (!complete) {
  process.stderr.write("wrote bench/results/filtered.json (a run of some groups: latest.json, the chart and the README keep the last full run)\n");
} else {
  writeFileSync(path.join(here, "..", CHART_PATH), batchChartSvg(run));
  writeFileSync(path.join(here, "..", README_PATH), regenerateReadme());
  process.stderr.write("wrote bench/results/latest.json and batch-verify.svg, and the README's benchmark tables\n");
}
