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
  type PublicKey,
} from "../../src/index.js";
import { parseAnchors } from "../../src/cli/kernel.js";
import { rejectsWith, throwsWith } from "../helpers/assert-codes.js";
import { A, B, NOW } from "../helpers/kernels.js";

const keyOf = (byte: number) => Keypair.fromSeed(new Uint8Array(32).fill(byte));
type PublicKeyList = readonly (PublicKey | string)[];
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

test("trustedPeers gives each peer's newest (last listed) key, trustedPeerKeys every key; both are copies, and so is the list given", () => {
  const given = [OLD.publicKey.toHex(), NEW.publicKey, OLD.publicKey]; // the duplicate is dropped
  const exchange = new KernelTrustExchange(A, keyOf(1), { trustedPeers: { [B]: given } });
  given[1] = OTHER.publicKey; // the caller's array changes afterwards: the anchor does not
  assert.equal([...exchange.trustedPeers()].map(([id, key]) => [id, key.toHex()]), [[B, NEW.publicKey.toHex()]]);
  const keys = exchange.trustedPeerKeys();
  assert.equal(keys.get(B)!.map((key) => key.toHex()), [OLD.publicKey.toHex(), NEW.publicKey.toHex()]);
  keys.get(B)!.pop();
  keys.delete(B);
  assert.is(exchange.trustedPeerKeys().get(B)!.length, 2);
});

test("a rotation moves forward only: once the pin holds the new key, the old one is refused, on every path", async () => {
  const { store, r1, r2 } = replicas();
  r1.withTrustedPeer(B, [OLD.publicKey, NEW.publicKey]);
  r2.withTrustedPeer(B, [OLD.publicKey, NEW.publicKey]);
  await r1.acceptEnvelope(from(OLD), B, NOW);
  await r2.acceptEnvelope(from(NEW), B, NOW); // the switch
  for (const replica of [r1, r2]) {
    const error = await rejectsWith(replica.acceptEnvelope(from(OLD), B, NOW), "UNEXPECTED_PEER_KEY");
    assert.equal(error.fields, { kernelId: B, expected: NEW.publicKey.toHex(), actual: OLD.publicKey.toHex() });
  }
  assert.ok((await store.get(B))!.publicKey.equals(NEW.publicKey), "the pin stays on the new key");
  // A stale pin of the new key still refuses the old one (a stale pin names the key to use, docs/protocol.md §6).
  const later = NOW + 100_000;
  await rejectsWith(r1.acceptEnvelope(from(OLD, later), B, later), "UNEXPECTED_PEER_KEY");
  // The loser of a compare-and-set race checks against the winner's pin: an OLD accept that read
  // no pin loses to a NEW pin written meanwhile and is refused.
  const fresh = new InMemoryPeerStore();
  const racing = new KernelTrustExchange(A, keyOf(1), {
    store: {
      insert: (peer) => fresh.insert(peer),
      get: (id) => fresh.get(id),
      remove: (id) => fresh.remove(id),
      snapshot: () => fresh.snapshot(),
      async compareAndSet(id, expected, next) {
        if (expected === undefined && next.publicKey.equals(OLD.publicKey) && (await fresh.get(id)) === undefined) {
          await new KernelTrustExchange(A, keyOf(1), { store: fresh, trustedPeers: { [B]: [OLD.publicKey, NEW.publicKey] } })
            .acceptEnvelope(from(NEW), B, NOW);
          return false;
        }
        return fresh.compareAndSet(id, expected, next);
      },
    },
    trustedPeers: { [B]: [OLD.publicKey, NEW.publicKey] },
  });
  await rejectsWith(racing.acceptEnvelope(from(OLD), B, NOW), "UNEXPECTED_PEER_KEY");
  assert.ok((await fresh.get(B))!.publicKey.equals(NEW.publicKey));
});

test("a list shrunk while an accept waits on beforePin refuses it: nothing pinned", async () => {
  const store = new InMemoryPeerStore();
  const exchange = new KernelTrustExchange(A, keyOf(1), { store }).withTrustedPeer(B, [OLD.publicKey, NEW.publicKey]);
  const beforePin = () => {
    exchange.withTrustedPeer(B, [NEW.publicKey]);
  };
  const error = await rejectsWith(exchange.acceptEnvelope(from(OLD), B, NOW, { beforePin }), "UNEXPECTED_PEER_KEY");
  assert.is(error.fields.expected, NEW.publicKey.toHex());
  assert.is(store.size, 0);
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
  // A huge length is refused before any element is read.
  const huge: unknown[] = [];
  huge.length = 2 ** 32 - 1;
  const started = Date.now();
  throwsWith(() => exchange.withTrustedPeer(B, huge as string[]), "INVALID_CONFIG");
  assert.ok(Date.now() - started < 1000, "the length is checked first");
  // A hole is a missing key; an Array subclass is read by index, not through its own iterator.
  throwsWith(() => exchange.withTrustedPeer(B, [NEW.publicKey, , OTHER.publicKey] as PublicKeyList), "INVALID_TYPE");
  class Lying extends Array<unknown> {
    override *[Symbol.iterator](): ArrayIterator<unknown> {
      yield NEW.publicKey;
    }
  }
  const lying = Lying.from([NEW.publicKey, OTHER.publicKey, OLD.publicKey, keyOf(8).publicKey, keyOf(9).publicKey]);
  throwsWith(() => exchange.withTrustedPeer(B, lying as PublicKeyList), "INVALID_CONFIG");
  const other = new KernelTrustExchange(A, keyOf(1)).withTrustedPeer(B, Lying.from([OTHER.publicKey]) as PublicKeyList);
  assert.equal(other.trustedPeerKeys().get(B)!.map((key) => key.toHex()), [OTHER.publicKey.toHex()], "read by index");
  // Not a key and not an array: INVALID_TYPE, saying what is accepted.
  const set = throwsWith(() => exchange.withTrustedPeer(B, new Set([NEW.publicKey]) as unknown as PublicKeyList), "INVALID_TYPE");
  assert.match(set.message, /a key \(PublicKey or hex\) or an array of keys/);
  assert.equal(exchange.trustedPeerKeys().get(B)!.map((key) => key.toHex()), [OLD.publicKey.toHex()]);
  await rejectsWith(exchange.acceptEnvelope(from(NEW), B, NOW), "UNEXPECTED_PEER_KEY");
  assert.ok((await exchange.acceptEnvelope(from(OLD), B, NOW)).publicKey.equals(OLD.publicKey));
  // MAX_ANCHOR_KEYS keys are accepted.
  exchange.withTrustedPeer(B, tooMany.slice(1));
  assert.is(exchange.trustedPeerKeys().get(B)!.length, MAX_ANCHOR_KEYS);
});

test("CLI --trust ID=HEX,HEX lists the keys of a rotation; too many, a bad key or two values for one id refuse", () => {
  const [oldHex, newHex] = [OLD.publicKey.toHex(), NEW.publicKey.toHex()];
  const parsed = parseAnchors([`${B}=${oldHex},${newHex}`, `${B}=${oldHex},${newHex},${newHex}`]);
  assert.equal(parsed.map(([id, keys]) => [id, keys.map((key) => key.toHex())]), [
    [B, [oldHex, newHex]],
    [B, [oldHex, newHex, newHex]],
  ]);
  assert.is(parseAnchors([`${B}=${oldHex},${oldHex}`, `${B}=${oldHex}`]).length, 2, "repeats are the same key");
  throwsWith(() => parseAnchors([`${B}=${oldHex},${newHex}`, `${B}=${newHex},${oldHex}`]), "INVALID_TRUST_ANCHOR"); // the other direction
  const many = Array.from({ length: MAX_ANCHOR_KEYS + 1 }, () => oldHex).join(",");
  throwsWith(() => parseAnchors([`${B}=${many}`]), "INVALID_TRUST_ANCHOR");
  throwsWith(() => parseAnchors([`${B}=${oldHex},`]), "INVALID_TRUST_ANCHOR");
  throwsWith(() => parseAnchors([`${B}=${oldHex}`, `${B}=${oldHex},${newHex}`]), "INVALID_TRUST_ANCHOR");
});

test("UNEXPECTED_PEER_KEY names the anchor's keys whatever Array.prototype's map, join and slice do (hunt 23)", async () => {
  // The refusal's `expected` (and message) was written with the realm's map, join and slice,
  // looked up at each call: a replacement that threw turned the typed refusal into whatever it
  // threw, and one that answered chose the keys the audit log was told the peer must use.
  const exchange = new KernelTrustExchange(A, keyOf(1)).withTrustedPeer(B, [OLD.publicKey, NEW.publicKey]);
  await exchange.acceptEnvelope(from(NEW), B, NOW);
  const arrayPrototype = Array.prototype as unknown as Record<string, unknown>;
  const cases: Array<[string, Keypair, string]> = [
    ["a key the anchor does not list", OTHER, `${OLD.publicKey.toHex()} or ${NEW.publicKey.toHex()}`],
    ["the key before the pinned one", OLD, NEW.publicKey.toHex()],
  ];
  for (const [what, key, expected] of cases) {
    for (const name of ["map", "join", "slice"]) {
      const original = arrayPrototype[name];
      arrayPrototype[name] = name === "join" ? () => OTHER.publicKey.toHex() : () => { throw new Error(`replaced ${name}`); };
      let outcome: Promise<unknown>;
      try {
        outcome = exchange.acceptEnvelope(from(key), B, NOW);
        await outcome.catch(() => {});
      } finally {
        arrayPrototype[name] = original;
      }
      const error = await rejectsWith(outcome, "UNEXPECTED_PEER_KEY");
      assert.is(error.fields.expected, expected, `${what}, replaced ${name}`);
    }
  }
});

test.run();
