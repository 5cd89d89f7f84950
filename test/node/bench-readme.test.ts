// The README's benchmark tables are generated from the committed run, bench/results/latest.json
// (scripts/gen-bench-readme.ts): regenerate them and compare with the committed README, so a new
// run committed without its tables, or a figure edited by hand, fails here. The generator itself
// is checked on edited copies of the committed run, so that it reads every figure it prints.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { readFileSync } from "node:fs";
import path from "node:path";
import { baselinesOf, type BenchRun } from "../../bench/format.js";
import { CHART_PATH, applyBenchBlocks, batchChartSvg, readCommittedRun, regenerateChart, regenerateReadme, renderBenchBlocks } from "../../scripts/gen-bench-readme.js";

const readme = readFileSync(path.join(process.cwd(), "README.md"), "utf8");
const run = readCommittedRun();
const copy = (): BenchRun => JSON.parse(JSON.stringify(run)) as BenchRun;

test("the README's benchmark tables are those of bench/results/latest.json", () => {
  const fresh = regenerateReadme();
  if (fresh === readme) return;
  const a = readme.split("\n");
  const b = fresh.split("\n");
  const line = a.findIndex((l, i) => l !== b[i]);
  assert.unreachable(`README.md line ${line + 1} differs from the committed run's figures: run node --import tsx scripts/gen-bench-readme.ts\n  README: ${a[line]}\n  run:    ${b[line]}`);
});

test("the batch chart is that of bench/results/latest.json", () => {
  const committed = readFileSync(path.join(process.cwd(), CHART_PATH), "utf8");
  assert.ok(regenerateChart() === committed, `${CHART_PATH} differs from the committed run's chart: run node --import tsx scripts/gen-bench-readme.ts`);
});

test("the batch chart plots the run's medians", () => {
  // The generator reads each series from the run: a median changed in a copy moves its point.
  const edited = copy();
  const distinct64 = edited.results.find((r) => r.name === "chio-trust verifyBatch, 64 distinct keys")!;
  const before = batchChartSvg(edited);
  distinct64.medianMicros *= 3;
  assert.is.not(batchChartSvg(edited), before, "a series point follows its row");
  const title = batchChartSvg({ ...edited, cpu: "Test CPU", node: "v0.0.0" });
  assert.match(title, "(Test CPU, Node v0.0.0)");
});

test("the results table has one row per case of the run, with the run's figures", () => {
  const table = renderBenchBlocks(run).get("bench-results")!;
  const rows = table.split("\n").filter((l) => l.startsWith("| ") && !l.startsWith("| group |"));
  assert.is(rows.length, run.results.length);
  const ours = run.results.find((r) => r.name === "chio-trust/ed25519 verify (zip215 default)")!;
  const cells = `${ours.timeRatioToBaseline.toFixed(2)}× (${ours.minRatio.toFixed(2)}–${ours.maxRatio.toFixed(2)}) | @noble/ed25519 verify (zip215 default) |`;
  assert.ok(rows.some((l) => l.startsWith(`| ${ours.group} | ${ours.name} | `) && l.endsWith(cells)), cells);
  const warmup = run.warmupMs === undefined ? "" : `${run.warmupMs} ms warm-up, then `;
  assert.match(table, `; ${warmup}${run.rounds} interleaved rounds of ${run.maxTimeSeconds} s per case.`);
  // A run that recorded no warm-up (run 39) says nothing of one.
  const { warmupMs: _omitted, ...withoutWarmup } = run;
  assert.not.match(renderBenchBlocks(withoutWarmup).get("bench-results")!, "warm-up");
});

test("the drop-in speed lines are ratios of the run's medians", () => {
  const edited = copy();
  const ours = edited.results.find((r) => r.group === "compat verify (169 B)" && r.name === "chio-trust/ed25519 verify (zip215 default)")!;
  const theirs = edited.results.find((r) => r.group === "compat verify (169 B)" && r.name === "@noble/ed25519 verify (zip215 default)")!;
  ours.medianMicros = theirs.medianMicros / 37.25;
  assert.match(renderBenchBlocks(edited).get("noble-speed")!, "verify 37.3× (");
  const nacl = edited.results.find((r) => r.name === "chio-trust/tweetnacl sign.detached.verify")!;
  nacl.medianMicros = edited.results.find((r) => r.name === "tweetnacl sign.detached.verify")!.medianMicros / 412.4;
  assert.match(renderBenchBlocks(edited).get("tweetnacl-speed")!, "`sign.detached.verify` 412×,");
});

test("the pool and batch tables follow the run's rows", () => {
  const edited = copy();
  const two = edited.results.find((r) => r.name === "pool, 2 threads: verifyEnvelopeBatch")!;
  two.medianMicros = 5432.1;
  two.timeRatioToBaseline = 0.217;
  assert.match(renderBenchBlocks(edited).get("pool-results")!, "| envelopes: pool, 2 threads: verifyEnvelopeBatch | 5.43 | 0.22× |");
  const oneKey64 = edited.results.find((r) => r.name === "chio-trust verifyBatch, 64 under one key")!;
  oneKey64.timeRatioToBaseline = 0.1234;
  assert.match(renderBenchBlocks(edited).get("batch-sizes")!, "| **0.12×** |");
});

test("a run without a row the README shows is refused, naming the row", () => {
  const edited = copy();
  edited.results = edited.results.filter((r) => r.name !== "chio-trust/ed25519 sign");
  assert.throws(() => renderBenchBlocks(edited), /no row "chio-trust\/ed25519 sign" in group "compat sign \(169 B\)"/);
});

test("each group's baseline: as recorded, else the one case at exactly 1× in every round", () => {
  const edited = copy();
  assert.is(baselinesOf(edited).get("compat sign (169 B)"), "@noble/ed25519 sign");
  edited.baselines = { "compat sign (169 B)": "tweetnacl sign.detached" };
  assert.is(baselinesOf(edited).get("compat sign (169 B)"), "tweetnacl sign.detached");
  delete edited.baselines;
  const other = edited.results.find((r) => r.name === "tweetnacl sign.detached")!;
  Object.assign(other, { timeRatioToBaseline: 1, minRatio: 1, maxRatio: 1 });
  assert.throws(() => baselinesOf(edited), /which case is the baseline of "compat sign \(169 B\)"/);
});

test("a README without a block's markers, or with one twice, is refused", () => {
  const blocks = renderBenchBlocks(run);
  const start = "<!-- generated:pool-results by scripts/gen-bench-readme.ts from bench/results/latest.json -->";
  assert.ok(readme.includes(start));
  assert.throws(() => applyBenchBlocks(readme.replace(start, ""), blocks), /must hold the lines/);
  assert.throws(() => applyBenchBlocks(`${readme}\n${start}\n`, blocks), /must hold the lines/);
  assert.throws(() => applyBenchBlocks(readme.replace("<!-- /generated:batch-keys -->", ""), blocks), /must hold the lines/);
});

test.run();
