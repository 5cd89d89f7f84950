// The demo page (npm run demo, scripts/demo.mjs): verify a chio handshake envelope or an Ed25519
// signature triple and show the verdict, the canonical bytes, the error code and the time; and a
// benchmark view that measures chio-trust against @noble/curves in the same page and draws ops/s
// as a bar chart. Built from the package's browser build: chio.wasm is fetched, so the page
// awaits init() before anything else.
import { ed25519 as noble } from "@noble/curves/ed25519.js";
import {
  KernelTrustExchange,
  Keypair,
  bytesToHex,
  canonicalizeJson,
  ed25519,
  hexToBytes,
  init,
  verifyEnvelopeBytes,
} from "chio-trust";

const $ = <T extends HTMLElement = HTMLElement>(id: string) => document.getElementById(id) as T;
const utf8 = new TextEncoder();
const text = new TextDecoder();

await init(new URL("./chio.wasm", import.meta.url));

// ------------------------------------------------------------------------------------------
// Tabs
// ------------------------------------------------------------------------------------------
function show(view: "verify" | "bench"): void {
  $("view-verify").hidden = view !== "verify";
  $("view-bench").hidden = view !== "bench";
  $("tab-verify").setAttribute("aria-selected", String(view === "verify"));
  $("tab-bench").setAttribute("aria-selected", String(view === "bench"));
}
$("tab-verify").onclick = () => show("verify");
$("tab-bench").onclick = () => show("bench");
if (location.hash === "#bench") show("bench");

// ------------------------------------------------------------------------------------------
// Verify
// ------------------------------------------------------------------------------------------
interface Outcome {
  ok: boolean;
  headline: string;
  code?: string;
  canonical?: Uint8Array;
  detail?: string;
  micros: number;
}

function render(o: Outcome): void {
  const verdict = $("verdict");
  verdict.hidden = false;
  verdict.className = `verdict ${o.ok ? "ok" : "bad"}`;
  verdict.textContent = o.headline;
  verdict.dataset.verdict = o.ok ? "valid" : "invalid";
  $("details").hidden = false;
  $("out-code").textContent = o.code ?? "—";
  $("out-time").textContent = `${o.micros < 1000 ? o.micros.toFixed(0) + " µs" : (o.micros / 1000).toFixed(2) + " ms"}`;
  $("out-canonical").textContent = o.canonical ? `${text.decode(o.canonical)}  (${o.canonical.length} bytes)` : "—";
  $("out-detail").textContent = o.detail ?? "—";
}

/** The canonical bytes of the envelope's challenge, for display when verification failed (best effort). */
function challengeBytesOf(json: string): Uint8Array | undefined {
  try {
    const parsed = JSON.parse(json) as { challenge?: unknown };
    return parsed.challenge === undefined ? undefined : canonicalizeJson(JSON.stringify(parsed.challenge));
  } catch {
    return undefined;
  }
}

function verifyEnvelope(): void {
  const input = $<HTMLTextAreaElement>("envelope").value;
  const started = performance.now();
  const verdict = verifyEnvelopeBytes(input);
  const micros = (performance.now() - started) * 1000;
  if (verdict.ok) {
    const c = verdict.envelope.challenge;
    render({ ok: true, headline: `VALID: signed by ${bytesToHex(verdict.envelope.declaredPublicKey).slice(0, 16)}… for ${c.remoteKernelId}`, canonical: verdict.envelope.canonicalChallenge, detail: `${c.localKernelId} → ${c.remoteKernelId}, nonce ${c.nonce}, timestamp ${c.timestamp}`, micros });
  } else {
    render({ ok: false, headline: `INVALID: ${verdict.code}`, code: verdict.code, canonical: challengeBytesOf(input), detail: verdict.message, micros });
  }
}

function verifyTriple(): void {
  const started = performance.now();
  try {
    const publicKey = hexToBytes($<HTMLInputElement>("public-key").value.trim());
    const raw = $<HTMLInputElement>("message").value;
    const message = $<HTMLInputElement>("message-hex").checked ? hexToBytes(raw.trim()) : utf8.encode(raw);
    const signature = hexToBytes($<HTMLInputElement>("signature").value.trim());
    const ok = ed25519.verify(signature, message, publicKey);
    const micros = (performance.now() - started) * 1000;
    render({ ok, headline: ok ? "VALID signature" : "INVALID signature", code: ok ? undefined : "INVALID_SIGNATURE (verify returned false)", detail: `${message.length}-byte message`, micros });
  } catch (error) {
    const micros = (performance.now() - started) * 1000;
    const code = (error as { code?: string }).code ?? (error as Error).name;
    render({ ok: false, headline: `REFUSED: ${code}`, code, detail: (error as Error).message, micros });
  }
}

function exampleEnvelope(): void {
  const exchange = new KernelTrustExchange("kernel.org-a", Keypair.generate());
  const nonce = bytesToHex(crypto.getRandomValues(new Uint8Array(8)));
  $<HTMLTextAreaElement>("envelope").value = exchange.localEnvelope("kernel.org-b", nonce).toJSONText();
}

function tamperEnvelope(): void {
  const area = $<HTMLTextAreaElement>("envelope");
  // Change one character of the signed challenge: the signature no longer covers it.
  area.value = area.value.replace(/"nonce":"([0-9a-f])/, (_, c: string) => `"nonce":"${c === "0" ? "1" : "0"}`);
}

$("verify-envelope").onclick = verifyEnvelope;
$("verify-triple").onclick = verifyTriple;
$("example-envelope").onclick = exampleEnvelope;
$("tamper-envelope").onclick = tamperEnvelope;
$("example-triple").onclick = () => {
  // RFC 8032 §7.1 TEST 2: a one-byte message 0x72.
  $<HTMLInputElement>("public-key").value = "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c";
  $<HTMLInputElement>("message").value = "72";
  $<HTMLInputElement>("message-hex").checked = true;
  $<HTMLInputElement>("signature").value = "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00";
};

// ------------------------------------------------------------------------------------------
// Benchmark
// ------------------------------------------------------------------------------------------
export interface BenchRow {
  operation: string;
  implementation: "chio-trust (wasm)" | "@noble/curves (JS)";
  opsPerSec: number;
}

/**
 * Runs `fn` in batches for about `budgetMs` of busy time after a warm-up; returns operations per
 * second. Only the batches are timed: the page yields between them (setTimeout, clamped to 4 ms),
 * and that idle time must not count against the operation.
 */
async function measure(fn: () => void, budgetMs: number): Promise<number> {
  for (let i = 0; i < 20; i++) fn();
  let ops = 0;
  let busy = 0;
  let batch = 1;
  while (busy < budgetMs) {
    const started = performance.now();
    for (let i = 0; i < batch; i++) fn();
    const took = performance.now() - started;
    busy += took;
    ops += batch;
    if (took < 20) batch *= 2; // batches of ~20 ms: long enough to time, short enough to stay responsive
    await new Promise((r) => setTimeout(r, 0));
  }
  return ops / (busy / 1000);
}

async function runBenchmark(budgetMs: number): Promise<BenchRow[]> {
  // 256 keys in rotation, as in `npm run bench`: chio-trust caches decoded keys (and the public
  // key of the last seed), so one key would measure the cache rather than the curve arithmetic.
  const KEYS = 256;
  const message = crypto.getRandomValues(new Uint8Array(169)); // the size of a canonical handshake challenge
  const seeds = Array.from({ length: KEYS }, () => crypto.getRandomValues(new Uint8Array(32)));
  const publicKeys = seeds.map((seed) => ed25519.getPublicKey(seed));
  const signatures = seeds.map((seed) => ed25519.sign(message, seed));
  for (let k = 0; k < 4; k++) {
    if (bytesToHex(noble.getPublicKey(seeds[k])) !== bytesToHex(publicKeys[k]) || bytesToHex(noble.sign(message, seeds[k])) !== bytesToHex(signatures[k])) {
      throw new Error("chio-trust and @noble/curves disagree on a key or a signature");
    }
  }
  let i = 0;
  const next = () => (i = (i + 1) & (KEYS - 1));
  const cases: [string, BenchRow["implementation"], () => unknown][] = [
    ["verify", "chio-trust (wasm)", () => ed25519.verify(signatures[next()], message, publicKeys[i])],
    ["verify", "@noble/curves (JS)", () => noble.verify(signatures[next()], message, publicKeys[i])],
    ["sign", "chio-trust (wasm)", () => ed25519.sign(message, seeds[next()])],
    ["sign", "@noble/curves (JS)", () => noble.sign(message, seeds[next()])],
    ["public key", "chio-trust (wasm)", () => ed25519.getPublicKey(seeds[next()])],
    ["public key", "@noble/curves (JS)", () => noble.getPublicKey(seeds[next()])],
  ];
  const rows: BenchRow[] = [];
  for (const [operation, implementation, fn] of cases) {
    $("bench-status").textContent = `measuring ${operation}: ${implementation}…`;
    rows.push({ operation, implementation, opsPerSec: await measure(fn as () => void, budgetMs) });
  }
  return rows;
}

function drawChart(rows: BenchRow[]): void {
  const width = 900;
  const barHeight = 26;
  const left = 260;
  const max = Math.max(...rows.map((r) => r.opsPerSec));
  const height = rows.length * (barHeight + 10) + 50;
  const colour = (impl: string) => (impl.startsWith("chio") ? "#2456c7" : "#e08a1e");
  const bars = rows
    .map((r, i) => {
      const y = 30 + i * (barHeight + 10);
      const w = Math.max(2, ((width - left - 120) * r.opsPerSec) / max);
      return `<text x="${left - 10}" y="${y + 18}" text-anchor="end" font-size="14">${r.operation}, ${r.implementation}</text>` +
        `<rect x="${left}" y="${y}" width="${w.toFixed(1)}" height="${barHeight}" fill="${colour(r.implementation)}" rx="3"></rect>` +
        `<text x="${left + w + 8}" y="${y + 18}" font-size="14">${Math.round(r.opsPerSec).toLocaleString("en-US")} ops/s</text>`;
    })
    .join("");
  $("chart").innerHTML =
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${width} ${height}" role="img" aria-label="operations per second">` +
    `<text x="0" y="16" font-size="15" font-weight="600">Operations per second in ${navigator.userAgent.match(/(Headless)?Chrom\w*\/\d+/)?.[0] ?? "this browser"} (longer is faster)</text>${bars}</svg>`;
  $("bench-table").innerHTML = `<small>${rows.map((r) => `${r.operation} / ${r.implementation}: ${r.opsPerSec.toFixed(0)} ops/s`).join(" · ")}</small>`;
}

$("run-bench").onclick = async () => {
  const button = $<HTMLButtonElement>("run-bench");
  button.disabled = true;
  try {
    const budget = Number(new URLSearchParams(location.search).get("budgetMs") ?? 1000);
    const rows = await runBenchmark(budget);
    drawChart(rows);
    ($("chart") as HTMLElement & { results?: BenchRow[] }).dataset.results = JSON.stringify(rows);
    $("bench-status").textContent = `done (${budget} ms per case)`;
  } catch (error) {
    $("bench-status").textContent = `failed: ${String(error)}`;
  } finally {
    button.disabled = false;
  }
};

document.body.dataset.ready = "true";
