// `chio-trust bench`: a quick throughput check of the installed build on this machine (the full
// comparison against other libraries is `npm run bench` in the repository). Each case runs for
// about `seconds`; every result is checked, so a broken build fails (exit 1) instead of timing.
import { canonicalizeJson } from "../canonical/json.js";
import { ed25519 } from "../ed25519.js";
import { KernelTrustExchange } from "../handshake/exchange.js";
import { Keypair } from "../handshake/keys.js";
import { verifyEnvelopeBytes } from "../handshake/verify-envelope.js";
import { CliError, EXIT_REFUSED } from "./errors.js";

interface BenchCase {
  name: string;
  run(i: number): boolean | Promise<boolean>;
}

export async function runBench(seconds: number, json: boolean): Promise<void> {
  const seed = new Uint8Array(32).fill(7);
  const message = new TextEncoder().encode("chio-trust bench message, 64 bytes long......................!!");
  const publicKey = ed25519.getPublicKey(seed);
  const signature = ed25519.sign(message, seed);
  const a = new KernelTrustExchange("kernel.a", Keypair.fromSeed(new Uint8Array(32).fill(1)));
  const b = new KernelTrustExchange("kernel.b", Keypair.fromSeed(new Uint8Array(32).fill(2)));
  a.withTrustedPeer("kernel.b", b.localPublicKey);
  b.withTrustedPeer("kernel.a", a.localPublicKey);
  const envelopeText = JSON.stringify(a.localEnvelope("kernel.b", "bench-nonce"));
  const cases: BenchCase[] = [
    { name: "ed25519 sign (64 B)", run: () => ed25519.sign(message, seed).length === 64 },
    { name: "ed25519 verify (64 B)", run: () => ed25519.verify(signature, message, publicKey) },
    { name: "canonicalizeJson (envelope)", run: () => canonicalizeJson(envelopeText).length > 0 },
    { name: "verifyEnvelopeBytes", run: () => verifyEnvelopeBytes(envelopeText).ok },
    {
      name: "handshake, both halves in memory",
      run: async (i) => {
        const nonce = `n${i}`;
        const fromA = JSON.stringify(a.localEnvelope("kernel.b", nonce));
        await b.acceptEnvelope(fromA, "kernel.a");
        const fromB = JSON.stringify(b.localEnvelope("kernel.a", nonce));
        await a.acceptEnvelope(fromB, "kernel.b");
        return true;
      },
    },
  ];
  const rows: { name: string; opsPerSecond: number; operations: number }[] = [];
  for (const bench of cases) {
    let operations = 0;
    const started = performance.now();
    const deadline = started + seconds * 1000;
    while (performance.now() < deadline) {
      for (let k = 0; k < 16; k++) {
        const result = bench.run(operations);
        const ok = typeof result === "boolean" ? result : await result;
        if (!ok) throw new CliError("BENCH_CHECK_FAILED", `${bench.name} returned a wrong result`, EXIT_REFUSED);
        operations++;
      }
    }
    const elapsed = (performance.now() - started) / 1000;
    rows.push({ name: bench.name, opsPerSecond: Math.round(operations / elapsed), operations });
  }
  if (json) {
    process.stdout.write(JSON.stringify({ seconds, node: process.version, rows }) + "\n");
    return;
  }
  const width = Math.max(...rows.map((r) => r.name.length));
  process.stdout.write(`${"case".padEnd(width)}  ops/s\n`);
  for (const row of rows) process.stdout.write(`${row.name.padEnd(width)}  ${row.opsPerSecond.toLocaleString("en-US")}\n`);
}
