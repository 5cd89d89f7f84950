// Peer-supplied text in messages and events (defect 5, docs/protocol.md §11), and failures that
// carry their reason as data (docs/protocol.md §9), so no layer reads another's message text.
import { test } from "uvu";
import * as assert from "uvu/assert";
import {
  KernelTrustExchange,
  Keypair,
  PeerHandshakeEnvelope,
  verifyEnvelopeBytes,
  type HandshakeEvent,
} from "../../src/index.js";
import { displayPeerText } from "../../src/handshake/errors.js";
import { rejectsWith } from "../helpers/assert-codes.js";
import { NOW, A, B } from "../helpers/kernels.js";

// Raw line breaks and other characters a log line or a terminal would act on.
const RAW_CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;
const HUGE = ("evil\r\n2030-01-01 INFO pinned kernel.org-z\u2028\u0085\u001b[31m ").repeat(1300); // ~60 KB

function assertDisplaySafe(text: string, limit = 300): void {
  assert.ok(text.length < limit, `length ${text.length}`);
  assert.not.ok(RAW_CONTROL.test(text), JSON.stringify(text.slice(0, 80)));
}

test("a 60 KB addressee or sender id with line breaks: short, escaped messages and events; full values in fields", async () => {
  assert.ok(HUGE.length > 60_000);
  const kpB = Keypair.generate();
  const events: HandshakeEvent[] = [];
  const exchange = new KernelTrustExchange(A, Keypair.generate(), { trustedPeers: [[B, kpB.publicKey]], onEvent: (e) => void events.push(e) });
  const opts = { maxEnvelopeBytes: 1 << 20 };
  exchange.withHardening(opts);

  const misaddressed = PeerHandshakeEnvelope.sign(B, HUGE, "n", NOW, kpB).toJSONText();
  const address = await rejectsWith(exchange.acceptEnvelope(misaddressed, B, NOW), "ADDRESS_MISMATCH");
  assertDisplaySafe(address.message);
  assert.ok(address.message.startsWith("remote envelope is addressed to kernel_id evil\\r\\n2030-01-01"), address.message.slice(0, 60));
  assert.is(address.fields.addressedTo, HUGE);

  const wrongSender = PeerHandshakeEnvelope.sign(HUGE, A, "n", NOW, kpB);
  const sender = await rejectsWith(exchange.acceptEnvelope(wrongSender, B, NOW), "KERNEL_ID_MISMATCH");
  assertDisplaySafe(sender.message);
  assert.is(sender.fields.declared, HUGE);

  assert.is(events.length, 2);
  for (const event of events) {
    assert.is(event.type, "refused");
    if (event.type !== "refused") continue;
    assertDisplaySafe(event.message);
    assert.ok(Object.values(event.fields).includes(HUGE));
  }
});

test("a huge nonce with line breaks in REPLAYED_NONCE, and a huge schema, are shown bounded and escaped", async () => {
  const kpB = Keypair.generate();
  const exchange = new KernelTrustExchange(A, Keypair.generate(), { trustedPeers: [[B, kpB.publicKey]], hardening: { maxEnvelopeBytes: 1 << 20 } });
  const nonce = "n\n".repeat(20_000);
  const envelope = PeerHandshakeEnvelope.sign(B, A, nonce, NOW, kpB);
  await exchange.acceptEnvelope(envelope, B, NOW);
  const replay = await rejectsWith(exchange.acceptEnvelope(envelope, B, NOW), "REPLAYED_NONCE");
  assertDisplaySafe(replay.message);
  assert.is(replay.fields.nonce, nonce);

  const schema = "chio\r\n".repeat(10_000);
  const badSchema = { ...envelope.toJSON(), challenge: { ...envelope.toJSON().challenge, schema } };
  for (const input of [JSON.stringify(badSchema), badSchema]) {
    const error = await rejectsWith(exchange.acceptEnvelope(input, B, NOW), "UNSUPPORTED_SCHEMA");
    assertDisplaySafe(error.message);
  }
});

test("displayPeerText escapes JSON-style, cuts after escaping, and never splits a surrogate pair or an escape", () => {
  assert.is(displayPeerText("kernel.org-a"), "kernel.org-a");
  assert.is(displayPeerText("a\nb\rc\td\u0000e\u007ff\u0085g\u009fh\u2028i\u2029j"), "a\\nb\\rc\\td\\u0000e\\u007ff\\u0085g\\u009fh\\u2028i\\u2029j");
  // Each C0 character escapes as JSON.stringify does (JSON is the oracle for U+0000–U+001F).
  for (let c = 0; c < 0x20; c++) assert.is(displayPeerText(String.fromCharCode(c)), JSON.stringify(String.fromCharCode(c)).slice(1, -1));
  // Printable text, astral characters included, is untouched up to the bound.
  assert.is(displayPeerText("é😀".repeat(50)), "é😀".repeat(50));
  // 199 units then a pair: the pair does not fit whole, so it is dropped, not split.
  const cut = displayPeerText("x".repeat(199) + "😀" + "y");
  assert.is(cut, "x".repeat(199) + "…");
  // An escape that would cross the bound is dropped whole.
  assert.is(displayPeerText("x".repeat(199) + "\n" + "y"), "x".repeat(199) + "…");
  assert.is(displayPeerText("x".repeat(198) + "\n"), "x".repeat(198) + "\\n");
  assert.is(displayPeerText("x".repeat(201)), "x".repeat(200) + "…");
  // Lone surrogates are escaped too.
  assert.is(displayPeerText("a\ud800b\udc00"), "a\\ud800b\\udc00");
  for (const sample of [HUGE, "\n".repeat(5000), "\u0001".repeat(5000), "😀".repeat(5000)]) {
    const shown = displayPeerText(sample);
    assert.ok(shown.length <= 201);
    assert.not.ok(RAW_CONTROL.test(shown));
    assert.not.ok(/[\ud800-\udbff](?![\udc00-\udfff])/.test(shown));
  }
});

test("malformed envelopes carry problem and field codes as data, on the verdict and on the PeerHandshakeError", async () => {
  const kpB = Keypair.generate();
  const good = PeerHandshakeEnvelope.sign(B, A, "n", NOW, kpB).toJSON();
  const cases: [unknown, string, string][] = [
    [{ ...good, extra: 1 }, "UNKNOWN_FIELD", "envelope"],
    [{ ...good, challenge: { ...good.challenge, extra: 1 } }, "UNKNOWN_FIELD", "challenge"],
    [{ ...good, declaredPublicKey: "zz".repeat(32) }, "BAD_HEX", "declaredPublicKey"],
    [{ ...good, signature: "00" }, "BAD_LENGTH", "signature"],
    [{ ...good, challenge: { ...good.challenge, timestamp: -1 } }, "BAD_TIMESTAMP", "challenge.timestamp"],
    [{ ...good, challenge: { ...good.challenge, nonce: 7 } }, "NOT_A_STRING", "challenge.nonce"],
    [{ challenge: good.challenge, signature: good.signature }, "MISSING_FIELD", "declaredPublicKey"],
  ];
  const exchange = new KernelTrustExchange(A, Keypair.generate(), { trustedPeers: [[B, kpB.publicKey]] });
  for (const [value, problem, field] of cases) {
    const text = JSON.stringify(value);
    const verdict = verifyEnvelopeBytes(text);
    assert.is(verdict.ok, false);
    if (verdict.ok) continue;
    assert.equal([verdict.code, verdict.problem, verdict.field], ["MALFORMED_ENVELOPE", problem, field], text);
    const error = await rejectsWith(exchange.acceptEnvelope(text, B, NOW), "MALFORMED_ENVELOPE");
    assert.equal([error.fields.problem, error.fields.field], [problem, field]);
    assert.is(error.fields.reason, verdict.detail);
  }
  const trailing = verifyEnvelopeBytes(JSON.stringify(good) + "x");
  assert.equal(trailing.ok ? undefined : trailing.problem, "TRAILING_DATA");
  const tooLarge = verifyEnvelopeBytes(JSON.stringify(good), { maxBytes: 10 });
  assert.equal(tooLarge.ok ? undefined : [tooLarge.problem, tooLarge.field], ["TOO_LARGE", "envelope"]);
  // The exchange's own checks carry codes too.
  const relaxed = new KernelTrustExchange(A, Keypair.generate(), { trustedPeers: [[B, kpB.publicKey]], hardening: { replayCache: { maxKeyUnitsPerPeer: 20 } } });
  const long = await rejectsWith(relaxed.acceptEnvelope(PeerHandshakeEnvelope.sign(B, A, "n".repeat(50), NOW, kpB), B, NOW), "MALFORMED_ENVELOPE");
  assert.equal([long.fields.problem, long.fields.field], ["NONCE_TOO_LONG", "challenge.nonce"]);
  const unsafe = await rejectsWith(exchange.acceptEnvelope(PeerHandshakeEnvelope.sign(B, A, "n", 2n ** 60n, kpB).toJSONText(), B, NOW), "MALFORMED_ENVELOPE");
  assert.equal([unsafe.fields.problem, unsafe.fields.field], ["UNSAFE_TIMESTAMP", "challenge.timestamp"]);
});

test.run();
