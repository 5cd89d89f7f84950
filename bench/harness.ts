// Benchmark harness on benchmark.js. The machine this runs on is shared and noisy, so every
// case of a group is measured in several interleaved rounds (A B C, A B C, ...): noise hits
// all contenders alike. We report, per case, the median time per operation over all samples
// benchmark.js collected, and, per round, the ratio to the group's baseline; the ratio shown is
// the median of those per-round ratios.
import Benchmark from "benchmark";
import type { CaseResult } from "./format.js";
export { formatTable, type CaseResult } from "./format.js";

export interface Case {
  name: string;
  /** One operation. Must be monomorphic and keep its result alive (see `keep`). */
  fn?: () => void;
  /** An asynchronous operation (measured with benchmark.js's deferred mode). */
  asyncFn?: () => Promise<unknown>;
  /** Operations one call performs (e.g. the size of a batch): times are reported per operation. Default 1. */
  opsPerCall?: number;
}

export interface Group {
  title: string;
  /** Name of the case every ratio is taken against (time of case / time of baseline). */
  baseline: string;
  cases: Case[];
  /** Runs just before the group is measured (after every group is built), e.g. a non-default configuration. */
  setup?: () => void;
  /** Runs just after the group is measured: undoes setup, so later groups see the defaults. */
  teardown?: () => void;
}

/** Sink for results so V8 cannot drop the measured work. */
export let sink = 0;
/** Results kept that were falsy or empty (a verdict of false, a missing or empty output): runGroup fails on any (review 88). */
let wrongResults = 0;
/**
 * Keeps a case's result: every case passes what it must get right, a verdict or an output. A
 * byte array (a signature, a public key, canonical bytes) is truthy even when empty, so its
 * length is what counts.
 */
export function keep(value: unknown): void {
  if (value && !(ArrayBuffer.isView(value) && value.byteLength === 0)) sink = (sink + 1) | 0;
  else wrongResults++;
}

/** Throws if a result kept since the last call was wrong, naming the case. */
function checkResults(group: Group, c: Case): void {
  if (wrongResults === 0) return;
  const count = wrongResults;
  wrongResults = 0;
  throw new Error(`${group.title} / ${c.name}: ${count} results were false or empty; a wrong answer is not timed`);
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

function measure(c: Case, maxTime: number): Promise<{ samples: number[]; rme: number }> {
  return new Promise((resolve, reject) => {
    const asyncFn = c.asyncFn;
    const bench = asyncFn
      ? new Benchmark(c.name, {
          defer: true,
          maxTime,
          minSamples: 5,
          fn: (deferred: { resolve(): void }) => {
            asyncFn().then(() => deferred.resolve(), reject);
          },
        })
      : new Benchmark(c.name, c.fn!, { maxTime, minSamples: 5, initCount: 1 });
    bench.on("complete", () => {
      if (bench.error) reject(bench.error);
      // stats.sample holds seconds per operation, one entry per sample.
      else resolve({ samples: bench.stats.sample.map((seconds: number) => seconds / (c.opsPerCall ?? 1)), rme: bench.stats.rme });
    });
    bench.run({ async: !!asyncFn });
  });
}

export async function runGroup(
  group: Group,
  options: { rounds: number; maxTime: number; warmupMs: number },
): Promise<CaseResult[]> {
  // Warm-up: let V8 tier wasm and JS up before anything is timed.
  for (const c of group.cases) {
    const end = Date.now() + options.warmupMs;
    while (Date.now() < end) {
      for (let i = 0; i < 16; i++) {
        if (c.asyncFn) await c.asyncFn();
        else c.fn!();
      }
    }
    checkResults(group, c);
  }
  const samples = new Map<string, number[]>(group.cases.map((c) => [c.name, []]));
  const rmes = new Map<string, number[]>(group.cases.map((c) => [c.name, []]));
  const ratios = new Map<string, number[]>(group.cases.map((c) => [c.name, []]));
  for (let round = 0; round < options.rounds; round++) {
    // Rotate the starting case each round so no case always runs first.
    const order = group.cases.map((_, i) => group.cases[(i + round) % group.cases.length]);
    const roundMedian = new Map<string, number>();
    for (const c of order) {
      const { samples: s, rme } = await measure(c, options.maxTime);
      checkResults(group, c);
      samples.get(c.name)!.push(...s);
      rmes.get(c.name)!.push(rme);
      roundMedian.set(c.name, median(s));
    }
    const base = roundMedian.get(group.baseline)!;
    for (const c of group.cases) ratios.get(c.name)!.push(roundMedian.get(c.name)! / base);
  }
  return group.cases.map((c) => {
    const m = median(samples.get(c.name)!);
    const r = ratios.get(c.name)!;
    return {
      group: group.title,
      name: c.name,
      medianMicros: m * 1e6,
      opsPerSec: 1 / m,
      timeRatioToBaseline: median(r),
      minRatio: Math.min(...r),
      maxRatio: Math.max(...r),
      samples: samples.get(c.name)!.length,
      rmePercent: median(rmes.get(c.name)!),
    };
  });
}
