import { Worker } from "node:worker_threads";
const WORKER = new URL("./scratch-share-worker.mjs", import.meta.url);
const modes: Record<string, number[]> = {
  static: [],
  dyn128: [0, 128, 256],
  dyn64: [0, 64, 128, 192, 256],
};
function pool(threads: number) {
  const counter = new SharedArrayBuffer(4);
  const c = new Int32Array(counter);
  const workers = Array.from({ length: threads }, () => new Worker(WORKER));
  for (const w of workers) w.postMessage({ counter });
  let id = 0;
  const waiting = new Map<number, () => void>();
  let left = 0;
  for (const w of workers) w.on("message", () => { if (--left === 0) waiting.get(id)!(); });
  return {
    call(mode: string) {
      Atomics.store(c, 0, 0);
      id++;
      left = threads;
      const p = new Promise<void>((r) => waiting.set(id, r));
      workers.forEach((w, i) => w.postMessage({ id, mode, worker: i, threads, offsets: modes[mode] }));
      return p;
    },
    close: () => Promise.all(workers.map((w) => w.terminate())),
  };
}
const pools = [pool(1), pool(2)];
const ways = Object.keys(modes).flatMap((mode) => [0, 1].map((t) => ({ mode, t, call: () => pools[t].call(mode) })));
for (const w of ways) for (const end = performance.now() + 800; performance.now() < end; ) await w.call();
const rounds = Number(process.env.R ?? 12);
const means = new Map(ways.map((w) => [w, [] as number[]]));
for (let r = 0; r < rounds; r++) {
  for (const w of r % 2 ? [...ways].reverse() : ways) {
    const s = performance.now(); let n = 0;
    while (performance.now() - s < 500) { await w.call(); n++; }
    means.get(w)!.push((performance.now() - s) / n);
  }
}
const med = (v: number[]) => { const s = [...v].sort((a, b) => a - b); return s[s.length >> 1]; };
for (const mode of Object.keys(modes)) {
  const [one, two] = [0, 1].map((t) => ways.find((w) => w.mode === mode && w.t === t)!);
  const ratios = means.get(one)!.map((m, i) => m / means.get(two)![i]);
  console.log(mode.padEnd(8), med(means.get(one)!).toFixed(2), med(means.get(two)!).toFixed(2), med(ratios).toFixed(2) + "x", `(${Math.min(...ratios).toFixed(2)}-${Math.max(...ratios).toFixed(2)})`);
}
await Promise.all(pools.map((p) => p.close()));
