// A peer's key rotated across replicas (review 75's open concern): a trust anchor that lists
// several keys (withTrustedPeer(id, [old, new])) trusts any of them, so a rotation rolls out
// with no replica refusing the peer at any step: add the new key beside the old everywhere, let
// the peer switch, drop the old key. Replicas here are two exchanges over one real
// InMemoryPeerStore and one ReplayCache, as two processes over one shared store would be.
import { test } from "uvu";
import * as assert from "uvu/assert";
import {
  InMemoryPeerStore,
  KernelTrustExchange,
  Keypair,
  MAX_ANCHOR_KEYS,
  PeerHandshakeEnvelope,
  ReplayCache,
} from "../../src/index.js";
import { parseAnchors } from "../../src/cli/kernel.js";
import { rejectsWith, throwsWith } from "../helpers/assert-codes.js";
import { A, B, NOW } from "../helpers/kernels.js";

const keyOf = (byte: number) => Keypair.fromSeed(new Uint8Array(32).fill(byte));
const OLD = keyOf(2), NEW = keyOf(4), OTHER = keyOf(6);
let nonces = 0;
/** A fresh envelope from B to A signed by `key`. */
const from = (key: Keypair, at = NOW) => PeerHandshakeEnvelope.sign(B, A, `n${++nonces}`, at, key).toJSONText();

/** Two replicas of kernel A over one peer store and one replay store. */
function replicas() {
  const store = new InMemoryPeerStore();
  const cache = new ReplayCache();
  const make = () => new KernelTrustExchange(A, keyOf(1), { store }).withReplayStore(cache);
  return { store, r1: make(), r2: make() };
}

test("an anchor listing two keys accepts either, and refuses a third naming both", async () => {
  const exchange = new KernelTrustExchange(A, keyOf(1)).withTrustedPeer(B, [OLD.publicKey, NEW.publicKey.toHex()]);
  assert.ok((await exchange.acceptEnvelope(from(OLD), B, NOW)).publicKey.equals(OLD.publicKey));
  assert.ok((await exchange.acceptEnvelope(from(NEW), B, NOW)).publicKey.equals(NEW.publicKey));
  assert.ok((await exchange.resolve(B, NOW)).publicKey.equals(NEW.publicKey));
  const error = await rejectsWith(exchange.acceptEnvelope(from(OTHER), B, NOW), "UNEXPECTED_PEER_KEY");
  assert.equal(error.fields, {
    kernelId: B,
    expected: `${OLD.publicKey.toHex()} or ${NEW.publicKey.toHex()}`,
    actual: OTHER.publicKey.toHex(),
  });
  assert.ok((await exchange.resolve(B, NOW)).publicKey.equals(NEW.publicKey), "the refused accept left the pin");
});

test("a rotation rolled out replica by replica: no step refuses the peer, and the old key is refused at the end", async () => {
  const { r1, r2 } = replicas();
  r1.withTrustedPeer(B, OLD.publicKey);
  r2.withTrustedPeer(B, OLD.publicKey);
  await r1.acceptEnvelope(from(OLD), B, NOW);
  const everyReplicaTakes = async (key: Keypair) => {
    for (const replica of [r1, r2]) {
      assert.ok((await replica.acceptEnvelope(from(key), B, NOW)).publicKey.equals(key.publicKey));
      for (const reader of [r1, r2]) assert.ok((await reader.resolve(B, NOW)).publicKey.equals(key.publicKey));
    }
  };
  // 1. the new key beside the old, one replica at a time; the peer still signs with the old key
  r1.withTrustedPeer(B, [OLD.publicKey, NEW.publicKey]);
  await everyReplicaTakes(OLD);
  r2.withTrustedPeer(B, [OLD.publicKey, NEW.publicKey]);
  await everyReplicaTakes(OLD);
  // 2. the peer switches
  await everyReplicaTakes(NEW);
  // 3. the old key dropped, one replica at a time
  r1.withTrustedPeer(B, NEW.publicKey);
  await everyReplicaTakes(NEW);
  r2.withTrustedPeer(B, [NEW.publicKey]);
  await everyReplicaTakes(NEW);
  for (const replica of [r1, r2]) await rejectsWith(replica.acceptEnvelope(from(OLD), B, NOW), "UNEXPECTED_PEER_KEY");
});

test("without the overlap, replicas on different anchors refuse each other's pins (why the list exists)", async () => {
  const { r1, r2 } = replicas();
  r1.withTrustedPeer(B, NEW.publicKey); // updated first
  r2.withTrustedPeer(B, OLD.publicKey); // not yet
  await r2.acceptEnvelope(from(OLD), B, NOW);
  const error = await rejectsWith(r1.resolve(B, NOW), "UNEXPECTED_PEER_KEY");
  assert.is(error.fields.expected, NEW.publicKey.toHex());
  await rejectsWith(r1.acceptEnvelope(from(OLD), B, NOW), "UNEXPECTED_PEER_KEY");
});

test("a pin of a key dropped from the list is refused by resolve and listed first as due", async () => {
  const exchange = new KernelTrustExchange(A, keyOf(1)).withTrustedPeer(B, [OLD.publicKey, NEW.publicKey]);
  await exchange.acceptEnvelope(from(OLD), B, NOW);
  exchange.withTrustedPeer(B, [NEW.publicKey, OTHER.publicKey]);
  const error = await rejectsWith(exchange.resolve(B, NOW), "UNEXPECTED_PEER_KEY");
  assert.equal(error.fields, {
    kernelId: B,
    expected: `${NEW.publicKey.toHex()} or ${OTHER.publicKey.toHex()}`,
    actual: OLD.publicKey.toHex(),
  });
  const due = await exchange.peersDueForRotation(NOW, 0);
  assert.equal(due.map((peer) => peer.kernelId), [B]);
});

test("trustedPeers gives each peer's first key, trustedPeerKeys every key; both are copies", () => {
  const exchange = new KernelTrustExchange(A, keyOf(1), {
    trustedPeers: { [B]: [OLD.publicKey.toHex(), NEW.publicKey, OLD.publicKey] }, // the duplicate is dropped
  });
  assert.equal([...exchange.trustedPeers()].map(([id, key]) => [id, key.toHex()]), [[B, OLD.publicKey.toHex()]]);
  const keys = exchange.trustedPeerKeys();
  assert.equal(keys.get(B)!.map((key) => key.toHex()), [OLD.publicKey.toHex(), NEW.publicKey.toHex()]);
  keys.get(B)!.pop();
  keys.delete(B);
  assert.is(exchange.trustedPeerKeys().get(B)!.length, 2);
});

test("a bad list changes nothing: empty, too long, a bad key, a Proxy that throws", async () => {
  const exchange = new KernelTrustExchange(A, keyOf(1)).withTrustedPeer(B, OLD.publicKey);
  const tooMany = Array.from({ length: MAX_ANCHOR_KEYS + 1 }, (_, i) => keyOf(10 + i).publicKey);
  throwsWith(() => exchange.withTrustedPeer(B, []), "INVALID_CONFIG");
  throwsWith(() => exchange.withTrustedPeer(B, tooMany), "INVALID_CONFIG");
  throwsWith(() => exchange.withTrustedPeer(B, [NEW.publicKey, "zz"]), "INVALID_LENGTH");
  const hostile = new Proxy([NEW.publicKey], {
    get(target, property, receiver) {
      if (property === "length") throw new Error("trap");
      return Reflect.get(target, property, receiver);
    },
  });
  throwsWith(() => exchange.withTrustedPeer(B, hostile), "INVALID_CONFIG");
  assert.equal(exchange.trustedPeerKeys().get(B)!.map((key) => key.toHex()), [OLD.publicKey.toHex()]);
  await rejectsWith(exchange.acceptEnvelope(from(NEW), B, NOW), "UNEXPECTED_PEER_KEY");
  assert.ok((await exchange.acceptEnvelope(from(OLD), B, NOW)).publicKey.equals(OLD.publicKey));
  // MAX_ANCHOR_KEYS keys are accepted.
  exchange.withTrustedPeer(B, tooMany.slice(1));
  assert.is(exchange.trustedPeerKeys().get(B)!.length, MAX_ANCHOR_KEYS);
});

test("CLI --trust ID=HEX,HEX lists the keys of a rotation; too many, a bad key or two values for one id refuse", () => {
  const [oldHex, newHex] = [OLD.publicKey.toHex(), NEW.publicKey.toHex()];
  const parsed = parseAnchors([`${B}=${oldHex},${newHex}`, `${B}=${oldHex},${newHex}`]);
  assert.equal(parsed.map(([id, keys]) => [id, keys.map((key) => key.toHex())]), [
    [B, [oldHex, newHex]],
    [B, [oldHex, newHex]],
  ]);
  const many = Array.from({ length: MAX_ANCHOR_KEYS + 1 }, () => oldHex).join(",");
  throwsWith(() => parseAnchors([`${B}=${many}`]), "INVALID_TRUST_ANCHOR");
  throwsWith(() => parseAnchors([`${B}=${oldHex},`]), "INVALID_TRUST_ANCHOR");
  throwsWith(() => parseAnchors([`${B}=${oldHex}`, `${B}=${oldHex},${newHex}`]), "INVALID_TRUST_ANCHOR");
});

test.run();
