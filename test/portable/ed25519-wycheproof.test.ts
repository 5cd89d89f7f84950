// Wycheproof ed25519_test.json (C2SP/wycheproof testvectors_v1): every case must give the
// expected result under the default (dalek/OpenSSL) rule. Signatures that are not 64 bytes are
// misuse at our API (InvalidLengthError) and count as rejected. Also pins a flag -> count table.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { ed25519 as noble } from "@noble/curves/ed25519.js";
import { ed25519 } from "../../src/ed25519.js";
import { hexToBytes } from "../../src/bytes.js";
import { InvalidLengthError } from "../../src/errors.js";
import { vectorText } from "../helpers/vectors.js";

type Case = { tcId: number; comment: string; flags: string[]; msg: string; sig: string; result: "valid" | "invalid" };
type Group = { publicKey: { pk: string }; tests: Case[] };
const file: { numberOfTests: number; testGroups: Group[] } = JSON.parse(
  vectorText("wycheproof/ed25519_test.json"),
);

/** true = accepted, false = rejected (returned false, or typed length error for a non-64-byte signature). */
function outcome(sig: Uint8Array, msg: Uint8Array, pk: Uint8Array, zip215: boolean): boolean {
  if (sig.length !== 64) {
    assert.throws(() => ed25519.verify(sig, msg, pk, { zip215 }), (e: unknown) => e instanceof InvalidLengthError && e.code === "INVALID_LENGTH");
    return false;
  }
  return ed25519.verify(sig, msg, pk, { zip215 });
}

test("every case gives the expected result (default mode)", () => {
  let count = 0;
  for (const group of file.testGroups) {
    const pk = hexToBytes(group.publicKey.pk);
    for (const t of group.tests) {
      count++;
      const got = outcome(hexToBytes(t.sig), hexToBytes(t.msg), pk, false);
      assert.is(got, t.result === "valid", `tcId ${t.tcId} (${t.flags.join(",")}: ${t.comment})`);
    }
  }
  assert.is(count, file.numberOfTests);
  assert.is(count, 151);
});

test("flag -> count table (cases, and how many we accept in default and zip215 modes)", () => {
  const table: Record<string, { cases: number; valid: number; acceptedDefault: number; acceptedZip215: number; nobleZip215: number }> = {};
  for (const group of file.testGroups) {
    const pk = hexToBytes(group.publicKey.pk);
    for (const t of group.tests) {
      const sig = hexToBytes(t.sig);
      const msg = hexToBytes(t.msg);
      const d = outcome(sig, msg, pk, false);
      const z = outcome(sig, msg, pk, true);
      // oracle for the zip215 mode: @noble/curves with { zip215: true } (it throws on bad lengths)
      let n = false;
      try {
        n = noble.verify(sig, msg, pk, { zip215: true });
      } catch {
        n = false;
      }
      assert.is(z, n, `tcId ${t.tcId} zip215 agrees with @noble/curves`);
      for (const flag of t.flags) {
        const row = (table[flag] ??= { cases: 0, valid: 0, acceptedDefault: 0, acceptedZip215: 0, nobleZip215: 0 });
        row.cases++;
        if (t.result === "valid") row.valid++;
        if (d) row.acceptedDefault++;
        if (z) row.acceptedZip215++;
        if (n) row.nobleZip215++;
      }
    }
  }
  // Counts from the file's documentation (test/vectors/README.md). Default mode accepts exactly
  // the valid cases. zip215 mode accepts exactly what @noble/curves accepts: the valid cases
  // plus tcId 151 (InvalidEncoding: R encodes y = 1 with the sign bit of x set, which ZIP-215
  // decoding accepts as the neutral element; the cofactorless default rule still rejects it).
  const expected = {
    Ktv: 38, TinkOverflow: 32, Valid: 18, InvalidEncoding: 22, InvalidSignature: 20,
    SignatureMalleability: 8, SignatureWithGarbage: 5, CompressedSignature: 4, TruncatedSignature: 3, InvalidKtv: 1,
  };
  for (const [flag, cases] of Object.entries(expected)) {
    const row = table[flag];
    assert.ok(row, `flag ${flag} present`);
    assert.is(row.cases, cases, `${flag} cases`);
    assert.is(row.acceptedDefault, row.valid, `${flag} accepted (default) = valid`);
    assert.is(row.acceptedZip215, row.nobleZip215, `${flag} accepted (zip215) = @noble/curves`);
    assert.is(row.acceptedZip215, row.valid + (flag === "InvalidEncoding" ? 1 : 0), `${flag} accepted (zip215)`);
  }
  assert.equal(Object.keys(table).sort(), Object.keys(expected).sort());
});

test.run();
