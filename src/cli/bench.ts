// `chio-trust bench`: a quick throughput check of the installed build on this machine (the full
// comparison against other libraries is `npm run bench` in the repository). Each case runs for
// about `seconds`; every result is checked, so a broken build fails (exit 1) instead of timing.
import { equalBytes } from "../bytes.js";
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

/** Keys in rotation for the cold rows: more than the core's 16-entry caches of decoded keys and public keys hold. */
const ROTATION = 256;

export async function runBench(seconds: number, json: boolean): Promise<void> {
  const encoder = new TextEncoder();
  const message = encoder.encode("chio-trust bench: a message of exactly sixty-four bytes........."); // 64 bytes
  // One key, as a kernel signs with its own and verifies a pinned peer's: from its ninth use the core
  // prepares a key passed as bytes by itself (README "Prepared public keys"), so the one-key rows
  // measure the prepared paths. The rotating rows measure keys the core has not seen recently.
  const seeds = Array.from({ length: ROTATION }, (_, i) => Uint8Array.of(i, i >> 8, ...new Uint8Array(29), 7));
  const publicKeys = seeds.map((seed) => ed25519.getPublicKey(seed));
  const signatures = seeds.map((seed) => ed25519.sign(message, seed));
  const prepared = ed25519.prepareSecretKey(seeds[0]);
  const a = new KernelTrustExchange("kernel.a", Keypair.fromSeed(new Uint8Array(32).fill(1)));
  const b = new KernelTrustExchange("kernel.b", Keypair.fromSeed(new Uint8Array(32).fill(2)));
  a.withTrustedPeer("kernel.b", b.localPublicKey);
  b.withTrustedPeer("kernel.a", a.localPublicKey);
  const envelopeText = JSON.stringify(a.localEnvelope("kernel.b", "bench-nonce"));
  const canonicalEnvelope = canonicalizeJson(envelopeText);
  // Ed25519 signing is deterministic (RFC 8032 §5.1.6): each signature must be the one made above.
  const cases: BenchCase[] = [
    { name: `ed25519 sign (64 B), ${ROTATION} seeds in rotation`, run: (i) => equalBytes(ed25519.sign(message, seeds[i % ROTATION]), signatures[i % ROTATION]) },
    { name: "ed25519 sign (64 B), one prepared key", run: () => equalBytes(ed25519.sign(message, prepared), signatures[0]) },
    { name: `ed25519 verify (64 B), ${ROTATION} keys in rotation`, run: (i) => ed25519.verify(signatures[i % ROTATION], message, publicKeys[i % ROTATION]) },
    { name: "ed25519 verify (64 B), one key (the core prepares it)", run: () => ed25519.verify(signatures[0], message, publicKeys[0]) },
    { name: "canonicalizeJson (envelope)", run: () => equalBytes(canonicalizeJson(envelopeText), canonicalEnvelope) },
    { name: "verifyEnvelopeBytes, one sender", run: () => verifyEnvelopeBytes(envelopeText).ok },
    {
      name: "handshake, both halves in memory",
      run: async (i) => {
        const nonce = `n${i}`;
        const fromA = JSON.stringify(a.localEnvelope("kernel.b", nonce));
        const pinnedA = await b.acceptEnvelope(fromA, "kernel.a");
        const fromB = JSON.stringify(b.localEnvelope("kernel.a", nonce));
        const pinnedB = await a.acceptEnvelope(fromB, "kernel.b");
        return pinnedA.kernelId === "kernel.a" && pinnedB.kernelId === "kernel.b";
      },
    },
  ];
  const rows: { name: string; opsPerSecond: number; operations: number }[] = [];
  try {
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
  } finally {
    prepared.destroy(); // its expanded secret leaves the core's memory now, not when it is collected
  }
  if (json) {
    process.stdout.write(JSON.stringify({ seconds, node: process.version, rows }) + "\n");
    return;
  }
  const width = Math.max(...rows.map((r) => r.name.length));
  process.stdout.write(`${"case".padEnd(width)}  ops/s\n`);
  for (const row of rows) process.stdout.write(`${row.name.padEnd(width)}  ${row.opsPerSecond.toLocaleString("en-US")}\n`);
}
