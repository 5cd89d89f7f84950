// acceptClaimedEnvelope (docs/protocol.md §5): an accept whose expected id is the sender the
// envelope's verified challenge names. Every outcome must be acceptEnvelope's with that id
// passed in (the pin, the error code, the stores and the events), an envelope that does not
// verify must be refused without naming its unverified claim, and beforePin must be told the
// verified caller and nonce. Also: both methods reject (never throw) on bad arguments.
import { test } from "uvu";
import * as assert from "uvu/assert";
import {
  InMemoryPeerStore,
  KernelTrustExchange,
  Keypair,
  PeerHandshakeEnvelope,
  InvalidTypeError,
  type AcceptedChallenge,
  type HandshakeEvent,
} from "../../src/index.js";
import { rejectsWith } from "../helpers/assert-codes.js";
import { NOW, A, B, C } from "../helpers/kernels.js";

const kpB = Keypair.fromSeed(new Uint8Array(32).fill(0xb1));
const kpC = Keypair.fromSeed(new Uint8Array(32).fill(0xc1));
const stranger = Keypair.fromSeed(new Uint8Array(32).fill(0x51));

/** Kernel A trusting B and C by anchor, with its events and store in view. */
function kernelA() {
  const store = new InMemoryPeerStore();
  const events: HandshakeEvent[] = [];
  const exchange = new KernelTrustExchange(A, Keypair.fromSeed(new Uint8Array(32).fill(0xa1)), {
    store,
    trustedPeers: [
      [B, kpB.publicKey],
      [C, kpC.publicKey],
    ],
  }).withEventHandler((event) => events.push(event));
  return { exchange, store, events };
}

/** An event with its time and message dropped (they are the same on both paths but for `at`). */
function shape(event: HandshakeEvent): unknown {
  const { at: _at, ...rest } = event as HandshakeEvent & { at: number };
  return JSON.parse(JSON.stringify(rest, (_key, value: unknown) => (typeof value === "bigint" ? String(value) : value)));
}

/** The envelopes of the comparison: each accepted or refused for one reason. */
function cases(): Array<{ name: string; text: string }> {
  const text = (envelope: PeerHandshakeEnvelope) => JSON.stringify(envelope.toJSON());
  const valid = PeerHandshakeEnvelope.sign(B, A, "n-valid", NOW, kpB);
  const tampered = JSON.parse(text(PeerHandshakeEnvelope.sign(B, A, "n-bad-sig", NOW, kpB)));
  tampered.challenge.nonce = "n-bad-sig-2";
  return [
    { name: "valid from B", text: text(valid) },
    { name: "valid from C", text: text(PeerHandshakeEnvelope.sign(C, A, "n-c", NOW - 3, kpC)) },
    { name: "addressed to another kernel", text: text(PeerHandshakeEnvelope.sign(B, C, "n-addr", NOW, kpB)) },
    { name: "outside the skew", text: text(PeerHandshakeEnvelope.sign(B, A, "n-skew", NOW - 10_000, kpB)) },
    { name: "B's id, a stranger's key", text: text(PeerHandshakeEnvelope.sign(B, A, "n-key", NOW, stranger)) },
    { name: "an id with no anchor or pin", text: text(PeerHandshakeEnvelope.sign("kernel.org-unknown", A, "n-unknown", NOW, stranger)) },
    { name: "a signature that does not verify", text: JSON.stringify(tampered) },
    { name: "not JSON", text: "{not json" },
    { name: "a replay of the valid one", text: text(valid) },
  ];
}

test("acceptClaimedEnvelope gives acceptEnvelope's answer with the claimed id passed in: pin, error code, stores and events alike", async () => {
  const claimed = kernelA();
  const explicit = kernelA();
  for (const { name, text } of cases()) {
    let claimedId = "";
    try {
      claimedId = JSON.parse(text).challenge.localKernelId;
    } catch {
      // Not JSON: no id to pass; acceptEnvelope refuses it at its first step whatever the id.
    }
    const outcome = (promise: Promise<{ kernelId: string; publicKey: { toHex(): string }; rotationDue: number }>) =>
      promise.then(
        (peer) => `pinned ${peer.kernelId} ${peer.publicKey.toHex()} ${peer.rotationDue}`,
        (error: { code?: string }) => `refused ${error.code}`,
      );
    const got = await outcome(claimed.exchange.acceptClaimedEnvelope(text, NOW));
    const want = await outcome(explicit.exchange.acceptEnvelope(text, claimedId, NOW));
    assert.is(got, want, name);
    assert.equal(await claimed.store.snapshot(), await explicit.store.snapshot(), name);
  }
  // Two accepted, seven refused (one of them the replay), on both paths.
  const kinds = (events: HandshakeEvent[]) => events.map((event) => event.type).join(",");
  assert.is(kinds(claimed.events), "pinned,pinned,refused,refused,refused,refused,refused,refused,refused");
  // The events are the same but where the envelope did not verify: acceptEnvelope names the id
  // it was given, acceptClaimedEnvelope names no one (the claim was never verified).
  for (let i = 0; i < claimed.events.length; i++) {
    const mine = shape(claimed.events[i]!) as { kernelId: string; code?: string };
    const theirs = shape(explicit.events[i]!) as { kernelId: string; code?: string };
    if (mine.code === "INVALID_SIGNATURE" || mine.code === "MALFORMED_ENVELOPE") {
      assert.is(mine.kernelId, "", `event ${i}`);
      assert.equal({ ...mine, kernelId: "" }, { ...theirs, kernelId: "" }, `event ${i}`);
    } else {
      assert.equal(mine, theirs, `event ${i}`);
    }
  }
  assert.is(claimed.events.filter((event) => event.type === "refused" && event.kernelId === "").length, 2);
});

test("acceptClaimedEnvelope on objects (envelope instances and plain objects) gives acceptEnvelope's answer too, and never trusts an unverified id", async () => {
  const claimed = kernelA();
  const explicit = kernelA();
  const signed = PeerHandshakeEnvelope.sign(B, A, "n-object", NOW, kpB);
  // A plain object whose sender was changed after signing: C's id on B's signature. Claimed, it
  // must be refused (the signature does not cover C), never accepted as B or pinned as C.
  const relabelled = JSON.parse(JSON.stringify(signed.toJSON()));
  relabelled.challenge.localKernelId = C;
  const inputs: Array<{ name: string; input: () => unknown; id: string }> = [
    { name: "an envelope instance", input: () => signed, id: B },
    { name: "a plain object", input: () => JSON.parse(JSON.stringify(PeerHandshakeEnvelope.sign(C, A, "n-plain", NOW, kpC).toJSON())), id: C },
    { name: "a plain object relabelled after signing", input: () => relabelled, id: C },
    { name: "a stranger's instance under B's id", input: () => PeerHandshakeEnvelope.sign(B, A, "n-stranger", NOW, stranger), id: B },
  ];
  for (const { name, input, id } of inputs) {
    const outcome = (promise: Promise<{ kernelId: string; publicKey: { toHex(): string } }>) =>
      promise.then((peer) => `pinned ${peer.kernelId} ${peer.publicKey.toHex()}`, (error: { code?: string }) => `refused ${error.code}`);
    const got = await outcome(claimed.exchange.acceptClaimedEnvelope(input() as never, NOW));
    const want = await outcome(explicit.exchange.acceptEnvelope(input() as never, id, NOW));
    assert.is(got, want, name);
  }
  assert.equal(await claimed.store.snapshot(), await explicit.store.snapshot());
  const outcomes = claimed.events.map((event) => `${event.type} ${event.kernelId}${event.type === "refused" ? ` ${event.code}` : ""}`);
  assert.equal(outcomes, [`pinned ${B}`, `pinned ${C}`, `refused  INVALID_SIGNATURE`, `refused ${B} UNEXPECTED_PEER_KEY`]);
});

test("acceptClaimedEnvelope: beforePin is told the verified caller and nonce, and its throw refuses the accept", async () => {
  const { exchange, store } = kernelA();
  const told: AcceptedChallenge[] = [];
  const envelope = PeerHandshakeEnvelope.sign(C, A, "n-told", NOW, kpC);
  const peer = await exchange.acceptClaimedEnvelope(JSON.stringify(envelope.toJSON()), NOW, { beforePin: (accepted) => void told.push(accepted) });
  assert.is(peer.kernelId, C);
  assert.equal(told, [{ kernelId: C, nonce: "n-told" }]);
  // acceptEnvelope tells its hook the same.
  await exchange.acceptEnvelope(PeerHandshakeEnvelope.sign(B, A, "n-b", NOW, kpB), B, NOW, { beforePin: (accepted) => void told.push(accepted) });
  assert.equal(told[1], { kernelId: B, nonce: "n-b" });
  // Frozen, as its readonly type says (review 71 F6): a hook cannot edit what the next one reads.
  assert.ok(told.every((accepted) => Object.isFrozen(accepted)));
  // A hook that throws: nothing more is pinned, and the nonce is free again.
  const before = await store.snapshot();
  const retry = PeerHandshakeEnvelope.sign(B, A, "n-retry", NOW, kpB);
  const refused = await exchange.acceptClaimedEnvelope(retry, NOW, {
    beforePin: () => {
      throw new Error("signer down");
    },
  }).then(() => "accepted", (error: Error) => error.message);
  assert.is(refused, "signer down");
  assert.equal((await store.snapshot()).length, before.length);
  assert.is((await exchange.acceptClaimedEnvelope(retry, NOW)).kernelId, B);
});

test("acceptEnvelope and acceptClaimedEnvelope reject, never throw, on bad arguments", async () => {
  const { exchange } = kernelA();
  const envelope = PeerHandshakeEnvelope.sign(B, A, "n-args", NOW, kpB);
  const rejection = async (call: () => Promise<unknown>) => {
    let promise: Promise<unknown>;
    try {
      promise = call();
    } catch (error) {
      return `threw ${(error as Error).name}`;
    }
    return promise.then(() => "fulfilled", (error: Error) => (error instanceof InvalidTypeError ? "InvalidTypeError" : `rejected ${error.name}`));
  };
  assert.is(await rejection(() => exchange.acceptEnvelope(envelope, 7 as unknown as string, NOW)), "InvalidTypeError");
  assert.is(await rejection(() => exchange.acceptEnvelope(envelope, B, NOW, { beforePin: 5 as unknown as () => void })), "InvalidTypeError");
  assert.is(await rejection(() => exchange.acceptEnvelope(envelope, B, NOW, { other: 1 } as unknown as object)), "rejected InvalidConfigError");
  assert.is(await rejection(() => exchange.acceptClaimedEnvelope(envelope, NOW, { beforePin: "no" as unknown as () => void })), "InvalidTypeError");
  assert.is(await rejection(() => exchange.acceptClaimedEnvelope(envelope, Number.NaN)), "rejected InvalidTimeError");
  // Nothing was accepted by any of them: the envelope's nonce is still free.
  assert.is((await exchange.acceptClaimedEnvelope(envelope, NOW)).kernelId, B);
});

test.run();
