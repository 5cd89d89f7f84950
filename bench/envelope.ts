// Envelope verification and the full accept path, against raw Ed25519 verify of the same
// canonical challenge. Targets: verifyEnvelopeBytes within 10% of raw verify throughput,
// acceptEnvelope (in-memory store) at ≥ 0.85× raw verify throughput.
import { verify as nodeVerify } from "node:crypto";
import canonicalizeNpm from "canonicalize";
import { ed25519, verifyEnvelopeBytes, Keypair, KernelTrustExchange } from "../dist/esm/index.js";
import { nodePublicKeyFromHex, seedFor } from "./fixtures.js";
import { keep, type Group } from "./harness.js";

const COUNT = 256;
const NOW = 1764000000;

export function envelopeGroups(): Group[] {
  const encoder = new TextEncoder();
  const senders = Array.from({ length: COUNT }, (_, i) => Keypair.fromSeed(seedFor(i)));
  const local = Keypair.fromSeed(seedFor(100000));
  // One envelope per sender, as the bytes a kernel receives.
  const wire = senders.map((kp, i) => {
    const sender = new KernelTrustExchange(`kernel-${i}`, kp);
    return encoder.encode(JSON.stringify(sender.localEnvelope("kernel-local", `nonce-${i}`, NOW)));
  });
  const parsed = wire.map((bytes) => verifyEnvelopeBytes(bytes));
  for (const v of parsed) if (!v.ok) throw new Error(`benchmark envelope does not verify: ${v.code}`);
  const verified = parsed.map((v) => (v.ok ? v.envelope : undefined)!);
  const messages = verified.map((e) => e.canonicalChallenge);
  const signatures = verified.map((e) => e.signature);
  const keys = verified.map((e) => e.declaredPublicKey);
  // Sanity: the JS reimplementation of the same work agrees.
  for (let j = 0; j < 4; j++) {
    const env = JSON.parse(new TextDecoder().decode(wire[j]));
    const msg = encoder.encode(canonicalizeNpm(env.challenge)!);
    if (Buffer.compare(Buffer.from(msg), Buffer.from(messages[j])) !== 0) throw new Error("canonical challenge mismatch");
    const key = nodePublicKeyFromHex(env.declaredPublicKey);
    if (!nodeVerify(null, msg, key, Buffer.from(env.signature, "hex"))) throw new Error("node rejects the benchmark envelope");
  }

  let i = 0;
  const next = () => (i = (i + 1) & (COUNT - 1));
  const decoder = new TextDecoder(); // one for every call, as a service would keep it
  const envelope: Group = {
    title: "envelope verification (JSON bytes in)",
    baseline: "chio-trust ed25519.verify on the canonical challenge (raw verify)",
    cases: [
      { name: "chio-trust ed25519.verify on the canonical challenge (raw verify)", fn: () => { const j = next(); keep(ed25519.verify(signatures[j], messages[j], keys[j])); } },
      { name: "chio-trust verifyEnvelopeBytes (parse + canonicalize + verify, one wasm call)", fn: () => keep(verifyEnvelopeBytes(wire[next()]).ok) },
      {
        name: "JSON.parse + npm canonicalize + node:crypto verify (JWK key import)",
        fn: () => {
          const env = JSON.parse(decoder.decode(wire[next()]));
          const msg = encoder.encode(canonicalizeNpm(env.challenge)!);
          const key = nodePublicKeyFromHex(env.declaredPublicKey);
          keep(nodeVerify(null, msg, key, Buffer.from(env.signature, "hex")));
        },
      },
    ],
  };

  // acceptEnvelope pins a new peer per envelope; the replay cache forbids reusing an envelope,
  // so after each pass over the fixtures the exchange is replaced (construction is cheap and
  // measured in, which only makes the figure more conservative).
  const makeExchange = () => {
    const ex = new KernelTrustExchange("kernel-local", local);
    senders.forEach((kp, k) => ex.withTrustedPeer(`kernel-${k}`, kp.publicKey));
    return ex;
  };
  let exchange = makeExchange();
  let a = 0;
  const accept: Group = {
    title: "acceptEnvelope (in-memory store, JSON bytes in)",
    baseline: "chio-trust ed25519.verify on the canonical challenge (raw verify)",
    cases: [
      { name: "chio-trust ed25519.verify on the canonical challenge (raw verify)", fn: () => { const j = next(); keep(ed25519.verify(signatures[j], messages[j], keys[j])); } },
      {
        name: "chio-trust KernelTrustExchange.acceptEnvelope",
        asyncFn: () => {
          if (a === COUNT) {
            exchange = makeExchange();
            a = 0;
          }
          const j = a++;
          return exchange.acceptEnvelope(wire[j], `kernel-${j}`, NOW);
        },
      },
    ],
  };
  return [envelope, accept];
}
