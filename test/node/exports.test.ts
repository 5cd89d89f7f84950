// Every entry of package.json's exports map loads through both branches (import and require),
// both branches export the same names, and the names match test/snapshots/exports.json, so an
// export cannot appear or vanish without the snapshot (and this review) seeing it.
// Regenerate the snapshot after an intended change with: UPDATE_SNAPSHOTS=1 npm test
import { test } from "uvu";
import * as assert from "uvu/assert";
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), "..", "..");
const snapshotPath = path.join(root, "test", "snapshots", "exports.json");
const pkg = JSON.parse(readFileSync(path.join(root, "package.json"), "utf8")) as { name: string; exports: Record<string, unknown> };
const jsEntries = Object.entries(pkg.exports)
  .filter(([, target]) => typeof target === "object")
  .map(([subpath]) => (subpath === "." ? pkg.name : `${pkg.name}/${subpath.slice(2)}`));

function exportNames(specifier: string, mode: "import" | "require"): string[] {
  const load = mode === "require" ? `const lib = require(${JSON.stringify(specifier)});` : `const lib = await import(${JSON.stringify(specifier)});`;
  const code = `${load}\nprocess.stdout.write(JSON.stringify(Object.keys(lib).filter((k) => k !== "default" && k !== "module.exports").sort()));`;
  const args = mode === "import" ? ["--input-type=module", "-e", code] : ["-e", code];
  return JSON.parse(execFileSync(process.execPath, args, { cwd: root, encoding: "utf8" }));
}

test("every JS entry exports the same names through import and require, as the snapshot lists", () => {
  const actual: Record<string, string[]> = {};
  for (const entry of jsEntries) {
    const viaImport = exportNames(entry, "import");
    const viaRequire = exportNames(entry, "require");
    assert.equal(viaRequire, viaImport, `${entry}: require and import disagree`);
    assert.ok(viaImport.length > 0, `${entry} exports nothing`);
    actual[entry] = viaImport;
  }
  if (process.env.UPDATE_SNAPSHOTS === "1") writeFileSync(snapshotPath, JSON.stringify(actual, null, 2) + "\n");
  const expected = JSON.parse(readFileSync(snapshotPath, "utf8"));
  assert.equal(actual, expected);
});

test("entries share one module graph: classes from two entries are the same objects", () => {
  const code = `
const main = require("chio-trust");
const handshake = require("chio-trust/handshake");
const canonical = require("chio-trust/canonical");
process.stdout.write(JSON.stringify([
  main.KernelTrustExchange === handshake.KernelTrustExchange,
  main.PeerHandshakeError === handshake.PeerHandshakeError,
  main.CanonicalJsonError === canonical.CanonicalJsonError,
  main.canonicalizeJson === canonical.canonicalizeJson,
]));`;
  const result = JSON.parse(execFileSync(process.execPath, ["-e", code], { cwd: root, encoding: "utf8" }));
  assert.equal(result, [true, true, true, true]);
});

test("import and require in one Node process load one copy: the same objects, and a store from one pins peers of the other", () => {
  const dir = mkdtempSync(path.join(tmpdir(), "chio-dual-"));
  const code = `
import { createRequire } from "node:module";
const require = createRequire(import.meta.url);
const entries = ${JSON.stringify(jsEntries)};
const differing = [];
for (const entry of entries) {
  const viaImport = await import(entry);
  const viaRequire = require(entry);
  for (const name of Object.keys(viaImport)) if (name !== "default" && viaImport[name] !== viaRequire[name]) differing.push(entry + " " + name);
  if ("default" in viaRequire && viaImport.default !== viaRequire.default) differing.push(entry + " default");
}
// An exchange built through import, a SQLite peer store (a real file) opened through require.
const { KernelTrustExchange, Keypair, FederationPeer } = await import("chio-trust");
const { SqlitePeerStore } = require("chio-trust/sqlite");
const store = new SqlitePeerStore(${JSON.stringify(path.join(dir, "peers.db"))});
const remoteKey = Keypair.fromSeed(new Uint8Array(32).fill(7));
const local = new KernelTrustExchange("kernel.local", Keypair.fromSeed(new Uint8Array(32).fill(9)), { store, trustedPeers: { "kernel.remote": remoteKey.publicKey } });
const remote = new KernelTrustExchange("kernel.remote", remoteKey);
const now = Math.floor(Date.now() / 1000);
let accepted;
try {
  const peer = await local.acceptEnvelope(remote.localEnvelope("kernel.local", "dual-1", now).toJSONText(), "kernel.remote", now);
  accepted = peer instanceof FederationPeer && peer.publicKey.equals(remoteKey.publicKey);
} catch (e) {
  accepted = e.code ?? String(e);
}
const pinned = store.get("kernel.remote")?.publicKey.toHex() === remoteKey.publicKey.toHex();
store.close();
process.stdout.write(JSON.stringify({ differing, accepted, pinned }));`;
  try {
    const result = JSON.parse(execFileSync(process.execPath, ["--input-type=module", "-e", code], { cwd: root, encoding: "utf8" }));
    assert.equal(result, { differing: [], accepted: true, pinned: true });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("a bundle made for Node (esbuild, platform node) takes the ESM build and runs", async () => {
  // The "module" condition comes before "node": the wrapper's runtime require() of ../cjs/ would
  // not be in the bundle.
  const dir = path.join(root, "test-output", "bundle-node");
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    path.join(dir, "entry.mjs"),
    `import { ed25519, hexToBytes } from "chio-trust";
import { FederationPeer } from "chio-trust/handshake";
const pk = ed25519.getPublicKey(hexToBytes("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60"));
console.log(Array.from(pk, (b) => b.toString(16).padStart(2, "0")).join("") + " " + typeof FederationPeer);\n`,
  );
  const { build } = await import("esbuild");
  const result = await build({ entryPoints: [path.join(dir, "entry.mjs")], bundle: true, platform: "node", format: "esm", outfile: path.join(dir, "out.mjs"), logLevel: "silent", metafile: true });
  const inputs = Object.keys(result.metafile!.inputs);
  assert.ok(inputs.some((file) => file.includes("dist/esm/")), "bundled from dist/esm");
  assert.not.ok(inputs.some((file) => file.includes("dist/node/") || file.includes("dist/cjs/")), "neither the wrapper nor the CommonJS build");
  const out = execFileSync(process.execPath, [path.join(dir, "out.mjs")], { encoding: "utf8" }).trim();
  assert.is(out, "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a function");
});

test("a bundle in which a CommonJS module requires chio-trust and an ES module imports it holds one copy (review 60 F1), for Node and for browsers", async () => {
  // The top-level "module" condition sends bundlers' require() to dist/esm too: two copies would
  // refuse each other's PublicKey, PreparedPublicKey and peers, and carry two wasm instances.
  const dir = path.join(root, "test-output", "bundle-mixed");
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    path.join(dir, "dep.cjs"),
    `const { PublicKey, ed25519 } = require("chio-trust");
const { FederationPeer } = require("chio-trust/handshake");
module.exports = { PublicKey, ed25519, FederationPeer };
`,
  );
  writeFileSync(
    path.join(dir, "entry.mjs"),
    `import { PublicKey, ed25519 } from "chio-trust";
import { FederationPeer } from "chio-trust/handshake";
import dep from "./dep.cjs";
const key = PublicKey.fromHex("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a");
const peer = new dep.FederationPeer({ kernelId: "k", publicKey: key, establishedAt: 1, rotationDue: 2 });
console.log([dep.PublicKey === PublicKey, dep.ed25519 === ed25519, dep.FederationPeer === FederationPeer, peer instanceof FederationPeer].join(" "));
`,
  );
  const { build } = await import("esbuild");
  for (const platform of ["node", "browser"] as const) {
    const outfile = path.join(dir, `out-${platform}.mjs`);
    const result = await build({ entryPoints: [path.join(dir, "entry.mjs")], bundle: true, platform, format: "esm", outfile, logLevel: "silent", metafile: true });
    const inputs = Object.keys(result.metafile!.inputs);
    assert.not.ok(inputs.some((file) => file.includes("dist/cjs/") || file.includes("dist/node/")), `${platform}: only dist/esm (${inputs.filter((f) => f.includes("dist/")).slice(0, 4).join(", ")})`);
    if (platform === "node") {
      const out = execFileSync(process.execPath, [outfile], { encoding: "utf8" }).trim();
      assert.is(out, "true true true true");
    }
  }
});

test.run();
