// What this host lets a pool of 2 threads reach against 1 (README "Worker pool", the target of
// 2 threads at 1.8× one): the same work, calls of 256 envelopes as two tasks of 128, one call at
// a time, three ways, in one process:
//   - bare: two worker_threads workers and postMessage, the envelopes built in each worker
//     beforehand (no copy, no verdict objects; a task is the half's number);
//   - piscina: the same worker on piscina (what chio-trust/pool runs on), otherwise as bare;
//   - pool: chio-trust/pool's verifyEnvelopeBatch, with its copies of the input and the verdict
//     objects the calling thread builds.
// Each way runs on 1 and 2 threads, in windows of BENCH_WINDOW_MS (500) alternated over
// BENCH_ROUNDS (12) rounds (the order reversed every other round), so a slow stretch of this
// shared host hits all six alike. Per way: the mean call of each window (what throughput is),
// the median over rounds of the window ratios 1 thread / 2 threads, and the median calls' ratio.
// `npm run build`, then `node --import tsx bench/pool-ceiling.ts`. docs/pool-scaling.md has results.
import { Worker } from "node:worker_threads";
import { Piscina } from "piscina";
import { createVerifierPool } from "../dist/esm/pool/index.js";
import { ceilingEnvelopes } from "./pool-ceiling-envelopes.mjs";

const WORKER = new URL("./pool-ceiling-worker.mjs", import.meta.url);
const windowMs = Number(process.env.BENCH_WINDOW_MS ?? 500);
const rounds = Number(process.env.BENCH_ROUNDS ?? 12);

/** Bare worker_threads: one task per free worker, the rest queued in order. */
function barePool(threads: number) {
  const workers = Array.from({ length: threads }, () => new Worker(WORKER, { workerData: { bare: true } }));
  const idle = [...workers];
  const queued: { id: number; half: number }[] = [];
  const waiting = new Map<number, (length: number) => void>();
  let nextId = 0;
  for (const worker of workers) {
    worker.on("message", ({ id, length }: { id: number; length: number }) => {
      waiting.get(id)!(length);
      waiting.delete(id);
      const next = queued.shift();
      if (next === undefined) idle.push(worker);
      else worker.postMessage(next);
    });
  }
  return {
    run(half: number): Promise<number> {
      const task = { id: nextId++, half };
      const answer = new Promise<number>((resolve) => waiting.set(task.id, resolve));
      const worker = idle.pop();
      if (worker === undefined) queued.push(task);
      else worker.postMessage(task);
      return answer;
    },
    close: () => Promise.all(workers.map((worker) => worker.terminate())),
  };
}

interface Way {
  name: string;
  threads: number;
  call: () => Promise<unknown>;
  close: () => Promise<unknown>;
}

const envelopes = ceilingEnvelopes();
const ways: Way[] = [];
for (const threads of [1, 2]) {
  const bare = barePool(threads);
  ways.push({ name: "bare worker_threads", threads, call: () => Promise.all([bare.run(0), bare.run(1)]), close: bare.close });
  const piscina = new Piscina({ filename: WORKER.href, minThreads: threads, maxThreads: threads });
  ways.push({ name: "piscina", threads, call: () => Promise.all([piscina.run(0), piscina.run(1)]), close: () => piscina.destroy() });
  const pool = createVerifierPool({ threads });
  ways.push({
    name: "chio-trust/pool",
    threads,
    call: async () => {
      if (!(await pool.verifyEnvelopeBatch(envelopes)).every((verdict) => verdict.ok)) throw new Error("a benchmark envelope does not verify");
    },
    close: () => pool.close(),
  });
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const m = sorted.length >> 1;
  return sorted.length % 2 ? sorted[m] : (sorted[m - 1] + sorted[m]) / 2;
};

// Warm-up: V8 tiers the wasm up in every thread before anything is timed.
for (const way of ways) for (const end = performance.now() + 1500; performance.now() < end; ) await way.call();

const windowMeans = new Map(ways.map((way) => [way, [] as number[]]));
const calls = new Map(ways.map((way) => [way, [] as number[]]));
for (let round = 0; round < rounds; round++) {
  for (const way of round % 2 === 0 ? ways : [...ways].reverse()) {
    const start = performance.now();
    let count = 0;
    while (performance.now() - start < windowMs) {
      const callStart = performance.now();
      await way.call();
      calls.get(way)!.push(performance.now() - callStart);
      count++;
    }
    windowMeans.get(way)!.push((performance.now() - start) / count);
  }
}
await Promise.all(ways.map((way) => way.close()));

console.log(`ms per call of ${envelopes.length} envelopes, ${rounds} rounds of ${windowMs} ms windows`);
console.log("way                    1 thread  2 threads  2 against 1: by window (min–max)   by median call");
for (const name of new Set(ways.map((way) => way.name))) {
  const [one, two] = [1, 2].map((threads) => ways.find((way) => way.name === name && way.threads === threads)!);
  const ratios = windowMeans.get(one)!.map((mean, round) => mean / windowMeans.get(two)![round]);
  console.log(
    `${name.padEnd(22)} ${median(windowMeans.get(one)!).toFixed(2).padStart(8)} ${median(windowMeans.get(two)!).toFixed(2).padStart(10)}` +
      `  ${median(ratios).toFixed(2)}× (${Math.min(...ratios).toFixed(2)}–${Math.max(...ratios).toFixed(2)})`.padEnd(33) +
      `${(median(calls.get(one)!) / median(calls.get(two)!)).toFixed(2)}×`.padStart(16),
  );
}
