// docs/protocol.md §9.1 lists every error class a public entry exports with its codes, generated
// from their declarations in src/ by scripts/gen-error-codes.ts: regenerate it and compare, check
// §9's hand-written protocol table against PeerHandshakeErrorCode, and check the generator's
// parser on unions it must read and refuse.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { readFileSync } from "node:fs";
import path from "node:path";
import {
  PROTOCOL_PATH, PROTOCOL_TABLE_CLASS, collectErrorClasses, parseCodeUnion, regenerateProtocol,
} from "../../scripts/gen-error-codes.js";
import { CanonicalJsonError, PeerHandshakeError, WasmCoreError } from "../../src/index.js";
import { SqliteStoreError } from "../../src/stores/sqlite/index.js";
import { canonicalize } from "../../src/canonical/index.js";

const root = process.cwd();
const protocol = readFileSync(path.join(root, PROTOCOL_PATH), "utf8");

test("docs/protocol.md §9.1 is what scripts/gen-error-codes.ts generates from src/", () => {
  const fresh = regenerateProtocol(protocol);
  if (fresh === protocol) return;
  const a = protocol.split("\n");
  const b = fresh.split("\n");
  const line = a.findIndex((l, i) => l !== b[i]);
  assert.unreachable(`${PROTOCOL_PATH} line ${line + 1} differs from the declarations: run node --import tsx scripts/gen-error-codes.ts\n  doc:       ${a[line]}\n  generated: ${b[line]}`);
});

test("§9's protocol table lists exactly the codes of PeerHandshakeErrorCode, in its order", () => {
  const section = protocol.slice(protocol.indexOf("## §9 Error codes"), protocol.indexOf("### §9.1"));
  const rows = section.split("\n").filter((l) => /^\| [A-Z_]+( \(\+\))? \|/.test(l));
  const tableCodes = rows.map((l) => /^\| ([A-Z_]+)/.exec(l)![1]);
  const declared = parseCodeUnion(readFileSync(path.join(root, "src/handshake/errors.ts"), "utf8"), "PeerHandshakeErrorCode", false).map((e) => e.code);
  assert.equal(tableCodes, declared);
  const listed = collectErrorClasses().find((c) => c.name === PROTOCOL_TABLE_CLASS)!;
  assert.equal(listed.codes.map((e) => e.code), declared);
});

test("every exported error class is listed with codes its instances really carry", () => {
  const classes = collectErrorClasses();
  const byName = new Map(classes.map((c) => [c.name, c]));
  // The families of the root entry, the SQLite entry, the pool and the HTTP transport, at least.
  for (const name of ["CanonicalJsonError", "WasmCoreError", "SqliteStoreError", "SharedStoreError", "VerifierPoolError", "HandshakeHttpError", "InvalidTypeError", "PeerHandshakeError"]) {
    assert.ok(byName.has(name), name);
  }
  for (const c of classes) {
    assert.ok(c.codes.length > 0, c.name);
    for (const e of c.codes) assert.ok(c.name === PROTOCOL_TABLE_CLASS || e.meaning.length > 0, `${c.name} ${e.code} has a meaning`);
    assert.is(new Set(c.codes.map((e) => e.code)).size, c.codes.length, `${c.name}: no code twice`);
  }
  // Codes real calls throw are among their class's listed codes.
  const has = (name: string, code: string) => byName.get(name)!.codes.some((e) => e.code === code);
  const cycle: Record<string, unknown> = {};
  cycle.self = cycle;
  for (const [value, code] of [[cycle, "CYCLE"], [{ a: NaN }, "NON_FINITE_NUMBER"], [{ a: undefined }, "UNSUPPORTED_TYPE"]] as const) {
    try {
      canonicalize(value);
      assert.unreachable(code);
    } catch (error) {
      assert.instance(error, CanonicalJsonError);
      assert.is((error as CanonicalJsonError).code, code);
      assert.ok(has("CanonicalJsonError", code), code);
    }
  }
  assert.ok(has("WasmCoreError", new WasmCoreError("WASM_OUT_OF_MEMORY", "x").code));
  assert.ok(has("SqliteStoreError", new SqliteStoreError("STORE_CLOSED", "x").code));
  assert.ok(has(PROTOCOL_TABLE_CLASS, new PeerHandshakeError("REPLAYED_NONCE", "x", { kernelId: "k", nonce: "n" }).code));
});

test("the generator reads a code union member by member and refuses a member without its meaning", () => {
  const source = ['export type DemoCode =', '  | "FIRST" //  the first one', '  | "SECOND_2" // the second, with | a bar', '  | "LAST"; // the end', "const after = 1;"].join("\n");
  assert.equal(parseCodeUnion(source, "DemoCode"), [
    { code: "FIRST", meaning: "the first one" },
    { code: "SECOND_2", meaning: "the second, with | a bar" },
    { code: "LAST", meaning: "the end" },
  ]);
  assert.throws(() => parseCodeUnion(source.replace(" //  the first one", ""), "DemoCode"), /FIRST/);
  assert.equal(parseCodeUnion(source.replace(" //  the first one", ""), "DemoCode", false)[0], { code: "FIRST", meaning: "" });
  assert.throws(() => parseCodeUnion(source, "OtherCode"), /no union/);
  assert.throws(() => parseCodeUnion(source.replace('"LAST";', '"LAST"'), "DemoCode"), /not a string literal|does not end/);
});

test.run();
