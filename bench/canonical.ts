// RFC 8785 canonicalization: ours against the npm `canonicalize` package, on the 169-byte
// handshake challenge and on a ~10 KB document. Ours has two entry points: canonicalize(value)
// (TypeScript, JS values) and canonicalizeJson(text) (WebAssembly, JSON text → canonical bytes);
// the npm package is measured on the same inputs in the same shapes.
import canonicalizeNpm from "canonicalize";
import { canonicalize, canonicalBytes, canonicalizeJson } from "../dist/esm/index.js";
import { challengeObject } from "./fixtures.js";
import { keep, type Group } from "./harness.js";

/** A deterministic ~10 KB document: nested objects, arrays, numbers, escapes, non-ASCII. */
export function tenKilobyteDocument(): unknown {
  const items = [];
  for (let i = 0; items.length < 48; i++) {
    items.push({
      id: `item-${i}`,
      "名前": `élément ${i} \u00e9\u4e2d`,
      price: i * 1.25 + 0.1,
      qty: i * 7,
      ratio: 1 / (i + 3),
      tags: ["a", "b\n", `t${i % 5}`],
      flags: { active: i % 2 === 0, deleted: null, score: i * 1e-7 },
      "\u{1F600}emoji": "x\"y\\z",
    });
  }
  return { kind: "inventory", version: 3, generatedAt: 1764000000, items };
}

export function canonicalGroups(): Group[] {
  const encoder = new TextEncoder();
  const groups: Group[] = [];
  for (const [label, value] of [
    ["169 B challenge", challengeObject(1)],
    ["10 KB document", tenKilobyteDocument()],
  ] as const) {
    const text = JSON.stringify(value);
    const expected = canonicalizeNpm(value)!;
    const expectedBytes = encoder.encode(expected);
    // Sanity: all entry points produce the oracle's bytes.
    if (canonicalize(value) !== expected) throw new Error(`canonicalize differs from npm canonicalize on the ${label}`);
    if (Buffer.compare(Buffer.from(canonicalBytes(value)), Buffer.from(expectedBytes)) !== 0) throw new Error(`canonicalBytes differs on the ${label}`);
    if (Buffer.compare(Buffer.from(canonicalizeJson(text)), Buffer.from(expectedBytes)) !== 0) throw new Error(`canonicalizeJson differs on the ${label}`);
    const textBytes = encoder.encode(text);
    groups.push({
      title: `canonicalize, ${label} (${expectedBytes.length} B out)`,
      baseline: "npm canonicalize(value)",
      cases: [
        { name: "npm canonicalize(value)", fn: () => keep(canonicalizeNpm(value)) },
        { name: "chio-trust canonicalize(value) → string (TS)", fn: () => keep(canonicalize(value)) },
        { name: "chio-trust canonicalBytes(value) → UTF-8 (TS)", fn: () => keep(canonicalBytes(value)) },
        { name: "npm canonicalize(value) + TextEncoder", fn: () => keep(encoder.encode(canonicalizeNpm(value)!)) },
        { name: "npm canonicalize(JSON.parse(text)) + TextEncoder", fn: () => keep(encoder.encode(canonicalizeNpm(JSON.parse(text))!)) },
        { name: "chio-trust canonicalizeJson(UTF-8 text) (wasm)", fn: () => keep(canonicalizeJson(textBytes)) },
      ],
    });
  }
  return groups;
}
