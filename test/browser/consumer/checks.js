// A tiny application that uses chio-trust the way a site would, bundled by a real bundler
// (scripts/test-browser.mjs: esbuild and Vite, from the `npm pack` tarball installed into a
// scratch project) and run in Chromium. It publishes its results in the page runner's shape.
import { ed25519, bytesToHex, hexToBytes, canonicalizeJson, verifyEnvelopeBytes, KernelTrustExchange, Keypair } from "chio-trust";
import { handshakeWith, HandshakeHttpError } from "chio-trust/http/client";
import { PAGE_KERNEL, SERVING_KERNEL } from "./handshake-kernels.js";

// RFC 8032 §7.1 TEST 3.
const TEST3 = {
  secretKey: "c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7",
  publicKey: "fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025",
  message: "af82",
  signature: "6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a",
};

/** `beforeInit`, when given, runs as a check of its own before `initialise`. */
export async function runChecks(bundler, initialise, beforeInit) {
  const started = performance.now();
  const results = [];
  const check = async (name, fn) => {
    try {
      await fn();
      results.push({ name, ok: true });
    } catch (error) {
      results.push({ name, ok: false, error: String(error && error.stack || error) });
    }
  };
  const expect = (cond, what) => {
    if (!cond) throw new Error(what);
  };
  if (beforeInit) await check("before init(): what the page is told", beforeInit);
  await check("init() loads the core", initialise);
  await check("RFC 8032 TEST 3: public key, signature, verify, tampered signature refused", () => {
    const sk = hexToBytes(TEST3.secretKey);
    expect(bytesToHex(ed25519.getPublicKey(sk)) === TEST3.publicKey, "public key");
    const sig = ed25519.sign(hexToBytes(TEST3.message), sk);
    expect(bytesToHex(sig) === TEST3.signature, "signature");
    expect(ed25519.verify(sig, hexToBytes(TEST3.message), hexToBytes(TEST3.publicKey)), "verify");
    sig[63] ^= 0x40;
    expect(!ed25519.verify(sig, hexToBytes(TEST3.message), hexToBytes(TEST3.publicKey)), "tampered signature accepted");
  });
  await check("RFC 8785 canonical bytes", () => {
    const out = new TextDecoder().decode(canonicalizeJson('{"z":1e20,"a":"\\u00e9","m":[true,null,-0]}'));
    expect(out === '{"a":"é","m":[true,null,0],"z":100000000000000000000}', out);
  });
  await check("an envelope signed by one kernel verifies; a tampered copy does not", async () => {
    const kp = Keypair.generate();
    const exchange = new KernelTrustExchange("kernel.org-a", kp);
    const text = exchange.localEnvelope("kernel.org-b", "nonce-1").toJSONText();
    expect(verifyEnvelopeBytes(text).ok === true, "valid envelope refused");
    const tampered = text.replace("nonce-1", "nonce-2");
    const verdict = verifyEnvelopeBytes(tampered);
    expect(verdict.ok === false && verdict.code === "INVALID_SIGNATURE", JSON.stringify(verdict));
  });
  await check("chio-trust/http/client: a handshake with the kernel serving this page pins it; a key it does not trust is refused", async () => {
    const servingKey = bytesToHex(ed25519.getPublicKey(hexToBytes(SERVING_KERNEL.seed)));
    const exchange = new KernelTrustExchange(PAGE_KERNEL.id, Keypair.fromSeed(hexToBytes(PAGE_KERNEL.seed))).withTrustedPeer(SERVING_KERNEL.id, servingKey);
    const { peer, nonce } = await handshakeWith(location.origin, exchange, SERVING_KERNEL.id);
    expect(peer.kernelId === SERVING_KERNEL.id && peer.publicKey.toHex() === servingKey, `pinned ${peer.kernelId} ${peer.publicKey.toHex()}`);
    expect(/^[0-9a-f]{32}$/.test(nonce), `nonce ${nonce}`);
    // Same id, a key the serving kernel has no anchor for: refused there, nothing pinned here.
    const stranger = new KernelTrustExchange(PAGE_KERNEL.id, Keypair.generate()).withTrustedPeer(SERVING_KERNEL.id, servingKey);
    let refusal;
    try {
      await handshakeWith(location.origin, stranger, SERVING_KERNEL.id);
    } catch (error) {
      refusal = error;
    }
    expect(refusal instanceof HandshakeHttpError && refusal.code === "REFUSED_BY_PEER" && refusal.status === 403 && refusal.peerCode === "UNEXPECTED_PEER_KEY", `stranger: ${refusal && refusal.stack || refusal}`);
  });
  await check("the core came from a fetched .wasm file, not base64 in the bundle", () => {
    const wasm = performance.getEntriesByType("resource").filter((e) => new URL(e.name).pathname.endsWith(".wasm"));
    expect(wasm.length === 1, `fetched .wasm files: ${wasm.map((e) => e.name).join(", ") || "none"}`);
  });
  const failed = results.filter((r) => !r.ok);
  globalThis.__CHIO_RESULTS__ = {
    files: [{ file: `${bundler} bundle`, total: results.length, passed: results.length - failed.length, skipped: 0, errors: failed.map((r) => `${r.name}: ${r.error}`) }],
    total: results.length,
    passed: results.length - failed.length,
    skipped: 0,
    durationMs: Math.round(performance.now() - started),
    userAgent: navigator.userAgent,
  };
  // A classic-script bundle (esbuild-iife) runs before the parser has made <body>: when every check
  // fails at once (no network wait) the results come before it does.
  if (document.body) document.body.textContent = JSON.stringify(results);
}
