// What a benchmark run records and how its table is printed: shared by the run itself
// (bench/run.ts prints the table and writes bench/results/latest.json) and by the generator of
// the README's benchmark figures (scripts/gen-bench-readme.ts reads latest.json back). Pure: no
// benchmark.js, no build output, so the generator and its test load it without `npm run build`.

/** One case of one group, as bench/harness.ts measured it. */
export interface CaseResult {
  group: string;
  name: string;
  medianMicros: number;
  opsPerSec: number;
  /** Median over rounds of (this case's median time / baseline's median time) in that round. */
  timeRatioToBaseline: number;
  minRatio: number;
  maxRatio: number;
  samples: number;
  rmePercent: number;
}

/** bench/results/latest.json: one run of `npm run bench` over every group. */
export interface BenchRun {
  date: string;
  node: string;
  cpu: string;
  cores: number;
  loadavg: number[];
  rounds: number;
  maxTimeSeconds: number;
  /** Warm-up per case, in ms (absent from runs written before it was recorded). */
  warmupMs?: number;
  /** Each group's baseline case (absent from runs written before it was recorded: see baselinesOf). */
  baselines?: Record<string, string>;
  results: CaseResult[];
}

function fmtOps(x: number): string {
  return Math.round(x).toLocaleString("en-US");
}

function fmtMicros(x: number): string {
  return x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2);
}

/** One Markdown table for all groups. */
export function formatTable(results: CaseResult[], baselines: Map<string, string>): string {
  const lines = [
    "| group | implementation | median µs/op | ops/s | time vs baseline (median, min–max over rounds) | baseline |",
    "|---|---|---:|---:|---|---|",
  ];
  for (const r of results) {
    lines.push(
      `| ${r.group} | ${r.name} | ${fmtMicros(r.medianMicros)} | ${fmtOps(r.opsPerSec)} | ` +
        `${r.timeRatioToBaseline.toFixed(2)}× (${r.minRatio.toFixed(2)}–${r.maxRatio.toFixed(2)}) | ${baselines.get(r.group)} |`,
    );
  }
  return lines.join("\n");
}

/** The line printed under the table: the machine, the load and the run's settings. */
export function formatRunLine(run: Pick<BenchRun, "cores" | "cpu" | "node" | "loadavg" | "rounds" | "maxTimeSeconds" | "warmupMs">): string {
  const warmup = run.warmupMs === undefined ? "" : `${run.warmupMs} ms warm-up, then `;
  return (
    `${run.cores} × ${run.cpu}, Node ${run.node}, load average ${run.loadavg.map((x) => x.toFixed(2)).join(" ")}; ` +
    `${warmup}${run.rounds} interleaved rounds of ${run.maxTimeSeconds} s per case. Ratios are time per op relative to the group's baseline (lower is faster).`
  );
}

/**
 * Each group's baseline case: as recorded, or, in a run written before `baselines` was, the one
 * case of the group whose ratio to the baseline was exactly 1 in every round (x / x); anything
 * else (no such case, or two) is an error rather than a guess.
 */
export function baselinesOf(run: BenchRun): Map<string, string> {
  const groups = [...new Set(run.results.map((r) => r.group))];
  const baselines = new Map<string, string>();
  for (const group of groups) {
    const recorded = run.baselines?.[group];
    if (recorded !== undefined) {
      baselines.set(group, recorded);
      continue;
    }
    const exact = run.results.filter((r) => r.group === group && r.timeRatioToBaseline === 1 && r.minRatio === 1 && r.maxRatio === 1);
    if (exact.length !== 1) throw new Error(`the run does not say which case is the baseline of "${group}"`);
    baselines.set(group, exact[0].name);
  }
  return baselines;
}
