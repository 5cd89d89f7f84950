// Where the slow pool calls lose their time (README "Worker pool", the scheduler trace): calls of
// 256 envelopes on a pool of 2 threads, one at a time, traced with the kernel's scheduler events
// (tracefs sched_switch and sched_wakeup) and a marker written around each call. Prints, for the
// fastest half and the slowest sixth of the calls: each thread's CPU time and its wait to be
// switched in after a wakeup or a preemption, and the idle time of all vCPUs; then how long
// wakeups of this process's threads took, onto an idle vCPU and onto a busy one.
//
// Needs root and tracefs (/sys/kernel/tracing); it changes the tracing settings while it runs and
// puts back the ones it found. `npm run build`, then `node --import tsx bench/pool-trace.ts`
// (POOL_TRACE_THREADS=1 traces the pool of 1 thread; POOL_TRACE_MS sets the traced time, 2000;
// POOL_TRACE_SAVE=file keeps the raw trace).
import { closeSync, existsSync, openSync, readdirSync, readFileSync, writeFileSync, writeSync } from "node:fs";
import { Keypair, KernelTrustExchange } from "../dist/esm/index.js";
import { createVerifierPool } from "../dist/esm/pool/index.js";
import { seedFor } from "./fixtures.js";

const TRACING = "/sys/kernel/tracing";
const BATCH = 256;
const threads = Number(process.env.POOL_TRACE_THREADS ?? 2);
const tracedMs = Number(process.env.POOL_TRACE_MS ?? 2000);
/** A wakeup slower than this counts as slow (a halted vCPU, or a whole time slice). */
const SLOW_WAKEUP_S = 0.0005;

if (!existsSync(`${TRACING}/trace_marker`)) {
  console.error(`${TRACING} is not available: run as root on a kernel with tracefs mounted there`);
  process.exit(1);
}

const setting = (name: string) => readFileSync(`${TRACING}/${name}`, "utf8");
const set = (name: string, value: string) => writeFileSync(`${TRACING}/${name}`, value);
const saved = { tracingOn: setting("tracing_on").trim(), events: setting("set_event"), bufferKb: setting("buffer_size_kb").trim().split(" ")[0] };

const encoder = new TextEncoder();
const wire = Array.from({ length: BATCH }, (_, i) =>
  encoder.encode(JSON.stringify(new KernelTrustExchange(`kernel-${i}`, Keypair.fromSeed(seedFor(i))).localEnvelope("kernel-local", `nonce-${i}`, 1764000000))),
);
const pool = createVerifierPool({ threads });
const call = async () => {
  const verdicts = await pool.verifyEnvelopeBatch(wire);
  if (!verdicts.every((v) => v.ok)) throw new Error("a benchmark envelope does not verify");
};
for (const end = performance.now() + 2500; performance.now() < end; ) await call();

let traceText: string;
try {
  set("tracing_on", "0");
  set("trace", "");
  set("buffer_size_kb", "65536");
  set("set_event", "sched:sched_switch\nsched:sched_wakeup\n");
  set("tracing_on", "1");
  const marker = openSync(`${TRACING}/trace_marker`, "w");
  try {
    writeSync(marker, "POOL_TRACE start\n");
    for (const end = performance.now() + tracedMs; performance.now() < end; ) {
      writeSync(marker, "POOL_TRACE call\n");
      const start = performance.now();
      await call();
      writeSync(marker, `POOL_TRACE done ${(performance.now() - start).toFixed(3)}\n`);
    }
    writeSync(marker, "POOL_TRACE end\n");
  } finally {
    closeSync(marker);
  }
  set("tracing_on", "0");
  traceText = setting("trace");
  if (process.env.POOL_TRACE_SAVE) writeFileSync(process.env.POOL_TRACE_SAVE, traceText);
} finally {
  set("tracing_on", "0");
  set("set_event", saved.events);
  set("buffer_size_kb", saved.bufferKb);
  set("tracing_on", saved.tracingOn);
}
// This process's threads (the calling thread is the process id; the rest are the workers, V8's
// helpers and libuv's), read while the pool is still open.
const ours = new Set(readdirSync("/proc/self/task").map(Number));
await pool.close();

// ---- the trace --------------------------------------------------------------------------------

interface Event {
  time: number;
  cpu: number;
  kind: string;
  fields: Map<string, string>;
  text: string;
}
const EVENT_LINE = /^\s*.+?-\d+\s+\[(\d+)\]\s+\S+\s+([\d.]+):\s+(\w+):\s*(.*)$/;
const events: Event[] = [];
for (const line of traceText.split("\n")) {
  const m = EVENT_LINE.exec(line);
  if (m === null) continue;
  const fields = new Map<string, string>();
  for (const [, key, value] of m[4].matchAll(/(\w+)=(\S+)/g)) fields.set(key, value);
  events.push({ time: Number(m[2]), cpu: Number(m[1]), kind: m[3], fields, text: m[4] });
}

interface CallStats {
  ms: number;
  run: Map<number, number>; // thread id (0: idle) → seconds on a CPU during the call
  wait: Map<number, number>; // thread id → seconds runnable but not running during the call
}
const add = (map: Map<number, number>, key: number, value: number) => map.set(key, (map.get(key) ?? 0) + value);
const calls: CallStats[] = [];
const running = new Map<number, number>(); // cpu → thread id
const since = new Map<number, number>(); // cpu → time its thread was switched in (or last accounted)
const runnableSince = new Map<number, number>(); // thread id → time it became runnable
const wakeups = { idle: [] as number[], busy: [] as number[] }; // latencies in seconds, our threads only
const pendingWakeups = new Map<number, { time: number; ontoIdle: boolean }>();
let current: (CallStats & { start: number }) | undefined;
let traced = false;

const account = (cpu: number, time: number) => {
  const thread = running.get(cpu);
  if (current !== undefined && thread !== undefined) add(current.run, thread, time - Math.max(since.get(cpu) ?? time, current.start));
  since.set(cpu, time);
};
for (const e of events) {
  if (e.kind === "print" || e.kind === "tracing_mark_write") {
    if (e.text.includes("POOL_TRACE start")) traced = true;
    else if (e.text.includes("POOL_TRACE end")) traced = false;
    else if (e.text.includes("POOL_TRACE call")) {
      for (const cpu of running.keys()) account(cpu, e.time);
      current = { ms: 0, run: new Map(), wait: new Map(), start: e.time };
    } else if (e.text.includes("POOL_TRACE done") && current !== undefined) {
      for (const cpu of running.keys()) account(cpu, e.time);
      for (const [thread, t] of runnableSince) add(current.wait, thread, e.time - Math.max(t, current.start));
      current.ms = Number(/done ([\d.]+)/.exec(e.text)![1]);
      calls.push(current);
      current = undefined;
    }
    continue;
  }
  if (e.kind === "sched_wakeup") {
    const thread = Number(e.fields.get("pid"));
    runnableSince.set(thread, e.time);
    if (ours.has(thread)) pendingWakeups.set(thread, { time: e.time, ontoIdle: running.get(Number(e.fields.get("target_cpu"))) === 0 });
  } else if (e.kind === "sched_switch") {
    account(e.cpu, e.time);
    const previous = Number(e.fields.get("prev_pid"));
    const next = Number(e.fields.get("next_pid"));
    running.set(e.cpu, next);
    // Preempted while runnable ("R", "R+"): waiting from now on.
    if (previous !== 0 && e.fields.get("prev_state")?.startsWith("R")) runnableSince.set(previous, e.time);
    const wokenAt = runnableSince.get(next);
    if (wokenAt !== undefined) {
      if (current !== undefined) add(current.wait, next, e.time - Math.max(wokenAt, current.start));
      runnableSince.delete(next);
    }
    const wakeup = pendingWakeups.get(next);
    if (wakeup !== undefined) {
      if (traced) (wakeup.ontoIdle ? wakeups.idle : wakeups.busy).push(e.time - wakeup.time);
      pendingWakeups.delete(next);
    }
  }
}
if (calls.length < 12) throw new Error(`only ${calls.length} calls traced (is the trace buffer too small?)`);

// ---- the report -------------------------------------------------------------------------------

const cpuOf = (thread: number) => calls.reduce((sum, c) => sum + (c.run.get(thread) ?? 0), 0);
const busiest = [...ours].sort((a, b) => cpuOf(b) - cpuOf(a)).filter((t) => cpuOf(t) > 0);
// By CPU time: the busiest `threads` threads besides the calling thread are the workers; the
// rest are V8's helper threads (GC, compilation) and libuv's. Linux gives them all one name.
const workers = busiest.filter((t) => t !== process.pid).slice(0, threads);
const name = (thread: number) => (thread === process.pid ? "calling thread" : workers.includes(thread) ? `worker ${thread}` : `helper ${thread}`);
const byTime = [...calls].sort((a, b) => a.ms - b.ms);
const fast = byTime.slice(0, byTime.length >> 1);
const slow = byTime.slice(Math.floor(byTime.length * (5 / 6)));
const ms = (seconds: number) => (seconds * 1000).toFixed(2);
const mean = (group: CallStats[], f: (c: CallStats) => number) => group.reduce((sum, c) => sum + f(c), 0) / group.length;
console.log(`${calls.length} calls of ${BATCH} envelopes on ${threads} thread(s), traced for ${tracedMs} ms`);
for (const [label, group] of [["fastest half", fast], ["slowest sixth", slow]] as const) {
  console.log(`${label} (${group.length} calls): ${mean(group, (c) => c.ms).toFixed(2)} ms per call; idle, summed over all vCPUs, ${ms(mean(group, (c) => c.run.get(0) ?? 0))} ms`);
  for (const thread of busiest.slice(0, threads + 3)) {
    const run = mean(group, (c) => c.run.get(thread) ?? 0);
    const wait = mean(group, (c) => c.wait.get(thread) ?? 0);
    console.log(`  ${name(thread).padEnd(16)} runs ${ms(run)} ms, waits ${ms(wait)} ms to be switched in`);
  }
}
const excess = slow.reduce((sum, c) => sum + c.ms, 0) - slow.length * mean(fast, (c) => c.ms);
console.log(`the slowest sixth took ${excess.toFixed(1)} ms beyond the fastest half's average`);
for (const [label, latencies] of [["an idle vCPU", wakeups.idle], ["a busy vCPU", wakeups.busy]] as const) {
  if (latencies.length === 0) continue;
  const sorted = [...latencies].sort((a, b) => a - b);
  const at = (q: number) => (sorted[Math.floor(q * (sorted.length - 1))] * 1e6).toFixed(0);
  const slowOnes = sorted.filter((t) => t > SLOW_WAKEUP_S);
  console.log(
    `wakeups onto ${label}: ${sorted.length}, switched in after p50 ${at(0.5)} µs, p90 ${at(0.9)} µs, p99 ${at(0.99)} µs, max ${at(1)} µs; ` +
      `${slowOnes.length} over ${SLOW_WAKEUP_S * 1e6} µs, ${ms(slowOnes.reduce((s, t) => s + t, 0))} ms in all`,
  );
}
