// Impostors of the handshake's classes: objects made with Object.create(X.prototype) and Proxies
// of real instances pass a plain `instanceof`, and an impostor envelope could bring its own
// verifySignature. `instanceof` on PublicKey, Signature, HandshakeChallenge, PeerHandshakeEnvelope
// and FederationPeer is a brand check (their Symbol.hasInstance), so every impostor is refused
// with a typed error, acceptEnvelope pins nothing, and `instanceof` itself runs no Proxy trap.
import { test } from "uvu";
import * as assert from "uvu/assert";
import {
  FederationPeer,
  HandshakeChallenge,
  InMemoryPeerStore,
  KernelTrustExchange,
  Keypair,
  PeerHandshakeEnvelope,
  PublicKey,
  Signature,
} from "../../src/handshake/index.js";
import { rejectsWithCode, throwsWith } from "../helpers/assert-codes.js";

const NOW = 1764000000;
const remote = Keypair.fromSeed(new Uint8Array(32).fill(2));
const envelope = new KernelTrustExchange("kernel-a", remote).localEnvelope("kernel-b", "nonce-1", NOW);
const peer = new FederationPeer({ kernelId: "kernel-a", publicKey: remote.publicKey, establishedAt: NOW, rotationDue: NOW + 60 });

/** A Proxy of `target` that counts every trap it runs. */
function watched<T extends object>(target: T, counter: { traps: number }): T {
  return new Proxy(target, {
    getPrototypeOf(t) {
      counter.traps++;
      return Reflect.getPrototypeOf(t);
    },
    get(t, key) {
      counter.traps++;
      return Reflect.get(t, key);
    },
  });
}

test("instanceof is true for real instances and false for Object.create impostors and Proxies, with no trap run", () => {
  const counter = { traps: 0 };
  const real: [Function, object][] = [
    [PublicKey, remote.publicKey],
    [Signature, envelope.signature],
    [HandshakeChallenge, envelope.challenge],
    [PeerHandshakeEnvelope, envelope],
    [FederationPeer, peer],
  ];
  for (const [cls, instance] of real) {
    assert.ok(instance instanceof cls, cls.name);
    assert.not.ok(Object.create(cls.prototype) instanceof cls, `Object.create(${cls.name}.prototype)`);
    assert.not.ok(watched(instance, counter) instanceof cls, `Proxy of a ${cls.name}`);
    assert.not.ok(null instanceof cls);
    assert.not.ok((1 as unknown) instanceof cls);
  }
  assert.is(counter.traps, 0);
});

test("an impostor envelope with its own verifySignature is refused and pins nothing", async () => {
  const forged = Signature.fromBytes(new Uint8Array(64).fill(3));
  // Own members defined, not assigned: the prototype is frozen (hardenClass), so an assignment of
  // verifySignature would throw rather than shadow its method.
  const impostor = Object.defineProperties(Object.create(PeerHandshakeEnvelope.prototype), {
    challenge: { value: envelope.challenge, enumerable: true },
    declaredPublicKey: { value: remote.publicKey, enumerable: true },
    signature: { value: forged, enumerable: true },
    verifySignature: { value() {}, enumerable: true }, // would skip the signature check if the object were trusted
  });
  // A Proxy of a real envelope is not one either: it goes the plain-object path, which refuses it.
  for (const input of [impostor, new Proxy(new PeerHandshakeEnvelope(envelope.challenge, remote.publicKey, forged), {})]) {
    const store = new InMemoryPeerStore();
    const exchange = new KernelTrustExchange("kernel-b", Keypair.fromSeed(new Uint8Array(32).fill(1)), { store }).withTrustedPeer("kernel-a", remote.publicKey);
    await rejectsWithCode(exchange.acceptEnvelope(input, "kernel-a", NOW), "MALFORMED_ENVELOPE");
    assert.is(store.get("kernel-a"), undefined);
    throwsWith(() => PeerHandshakeEnvelope.fromJSON(input), "MALFORMED_ENVELOPE");
  }
  // The real envelope with the forged signature: INVALID_SIGNATURE, as before.
  const exchange = new KernelTrustExchange("kernel-b", Keypair.fromSeed(new Uint8Array(32).fill(1))).withTrustedPeer("kernel-a", remote.publicKey);
  await rejectsWithCode(exchange.acceptEnvelope(new PeerHandshakeEnvelope(envelope.challenge, remote.publicKey, forged), "kernel-a", NOW), "INVALID_SIGNATURE");
});

test("subclasses of the classes with public constructors cannot be made, so none brings its own verifySignature or canonicalBytes (review 57 F1)", async () => {
  const zeros = Signature.fromBytes(new Uint8Array(64));
  class NoCheckEnvelope extends PeerHandshakeEnvelope {
    override verifySignature(): void {} // would skip the signature check if the instance were trusted
  }
  const fresh = HandshakeChallenge.create("kernel-a", "kernel-b", "fresh-nonce", NOW);
  class OldBytesChallenge extends HandshakeChallenge {
    override canonicalBytes(): Uint8Array {
      return envelope.challenge.canonicalBytes(); // the bytes of another, genuinely signed challenge
    }
  }
  class LongLivedPeer extends FederationPeer {}
  const attempts: [string, () => unknown][] = [
    ["envelope", () => new NoCheckEnvelope(envelope.challenge, remote.publicKey, zeros)],
    ["challenge", () => new PeerHandshakeEnvelope(new OldBytesChallenge(fresh), remote.publicKey, envelope.signature)],
    ["peer", () => new LongLivedPeer({ kernelId: "kernel-a", publicKey: remote.publicKey, establishedAt: NOW, rotationDue: NOW + 60 })],
  ];
  for (const [what, make] of attempts) {
    const store = new InMemoryPeerStore();
    const exchange = new KernelTrustExchange("kernel-b", Keypair.fromSeed(new Uint8Array(32).fill(1)), { store }).withTrustedPeer("kernel-a", remote.publicKey);
    let made: unknown;
    try {
      made = make();
    } catch (error) {
      assert.is((error as { code?: string }).code, "INVALID_TYPE", `${what}: ${String(error)}`);
      assert.match(String(error), /cannot be subclassed/);
      continue;
    }
    // Only reached if the subclass could be made: it must at least not be pinned.
    if (made instanceof PeerHandshakeEnvelope) await exchange.acceptEnvelope(made, "kernel-a", NOW + 10).catch(() => undefined);
    assert.is(store.get("kernel-a"), undefined, `${what}: pinned`);
    assert.unreachable(`${what}: a subclass instance was made`);
  }
});

test("impostor keys, signatures, challenges and peers get INVALID_TYPE where the real ones are taken", () => {
  const fakeKey = Object.create(PublicKey.prototype) as PublicKey;
  const fakeSignature = Object.create(Signature.prototype) as Signature;
  const fakeChallenge = Object.create(HandshakeChallenge.prototype) as HandshakeChallenge;
  throwsWith(() => new PeerHandshakeEnvelope(fakeChallenge, remote.publicKey, envelope.signature), "INVALID_TYPE");
  throwsWith(() => new PeerHandshakeEnvelope(envelope.challenge, fakeKey, envelope.signature), "INVALID_TYPE");
  throwsWith(() => new PeerHandshakeEnvelope(envelope.challenge, remote.publicKey, fakeSignature), "INVALID_TYPE");
  throwsWith(() => new FederationPeer({ kernelId: "kernel-a", publicKey: fakeKey, establishedAt: NOW, rotationDue: NOW + 60 }), "INVALID_TYPE");
  throwsWith(() => remote.publicKey.verify(new Uint8Array(3), fakeSignature), "INVALID_TYPE");
  assert.is(remote.publicKey.equals(fakeKey), false);
  const exchange = new KernelTrustExchange("kernel-b", Keypair.fromSeed(new Uint8Array(32).fill(1)));
  throwsWith(() => exchange.withTrustedPeer("kernel-a", fakeKey), "INVALID_TYPE");
  throwsWith(() => new InMemoryPeerStore().insert(Object.assign(Object.create(FederationPeer.prototype), peer)), "INVALID_TYPE");
});

test("instances are frozen whatever Object.freeze is: a stale envelope rewritten after its check is not accepted (hunt 23)", async () => {
  // The constructors froze their instances with the realm's Object.freeze, looked up at each
  // call: caller code that replaced it (a no-op) while an envelope was read got a writable one,
  // whose verdict verifySignature had cached. An envelope 100,000 s old, its timestamp and nonce
  // rewritten, was then accepted and pinned (its signature was never checked again).
  const now = 1_800_000_000;
  const peer = Keypair.fromSeed(new Uint8Array(32).fill(71));
  const exchange = new KernelTrustExchange("kernel-a", Keypair.fromSeed(new Uint8Array(32).fill(70))).withTrustedPeer("kernel-b", peer.publicKey);
  const text = PeerHandshakeEnvelope.sign("kernel-b", "kernel-a", "captured", now - 100_000, peer).toJSONText();
  const freeze = Object.freeze;
  Object.freeze = (<T>(value: T) => value) as typeof Object.freeze;
  let made: Array<[string, object]>;
  try {
    const envelope = PeerHandshakeEnvelope.fromJSON(text);
    made = [
      ["PeerHandshakeEnvelope", envelope],
      ["HandshakeChallenge", envelope.challenge],
      ["PublicKey", envelope.declaredPublicKey],
      ["Signature", envelope.signature],
      ["FederationPeer", new FederationPeer({ kernelId: "kernel-b", publicKey: peer.publicKey, establishedAt: now, rotationDue: now + 1 })],
      ["Keypair", Keypair.fromSeed(new Uint8Array(32).fill(72))],
      ["PublicKey.fromHex", PublicKey.fromHex(peer.publicKey.toHex())],
    ];
  } finally {
    Object.freeze = freeze;
  }
  for (const [name, value] of made) assert.ok(Object.isFrozen(value), `${name} is frozen`);
  const envelope = made[0]![1] as PeerHandshakeEnvelope;
  try {
    (envelope.challenge as { timestamp: number }).timestamp = now;
    (envelope.challenge as { nonce: string }).nonce = "fresh";
  } catch {
    // frozen: strict-mode assignments throw
  }
  await rejectsWithCode(exchange.acceptEnvelope(envelope, "kernel-b", now), "CLOCK_SKEW_EXCEEDED");
});

test("the exchange's errors, settings and hook arguments hold whatever Object.freeze, Promise.reject and Array.isArray became after load", async () => {
  // Each was looked up at call time: a no-op Object.freeze left a refusal's fields, the replay
  // cache's reported bounds and beforePin's argument writable; a replaced Promise.reject turned
  // acceptEnvelope's argument errors into whatever it answered; a replaced Array.isArray made
  // peers() refuse the store's answer.
  const now = 1_800_000_000;
  const peerKeys = Keypair.fromSeed(new Uint8Array(32).fill(73));
  const exchange = new KernelTrustExchange("kernel-a", Keypair.fromSeed(new Uint8Array(32).fill(74))).withTrustedPeer("kernel-b", peerKeys.publicKey);
  const text = PeerHandshakeEnvelope.sign("kernel-b", "kernel-a", "n-1", now, peerKeys).toJSONText();
  const freeze = Object.freeze;
  const reject = Promise.reject;
  const isArray = Array.isArray;
  let fields: object | undefined;
  let hookArgument: object | undefined;
  let argumentError: Promise<unknown>;
  Object.freeze = (<T>(value: T) => value) as typeof Object.freeze;
  Promise.reject = (() => Promise.resolve("accepted")) as typeof Promise.reject;
  try {
    try {
      PeerHandshakeEnvelope.fromJSON("{");
    } catch (error) {
      fields = (error as { fields: object }).fields;
    }
    exchange.withHardening({ replayCache: { maxEntries: 5 } });
    argumentError = exchange.acceptEnvelope(text, 42 as unknown as string, now);
    await exchange.acceptEnvelope(text, "kernel-b", now, { beforePin: (argument) => void (hookArgument = argument) });
  } finally {
    Object.freeze = freeze;
    Promise.reject = reject;
  }
  await rejectsWithCode(argumentError, "INVALID_TYPE");
  assert.ok(fields !== undefined && Object.isFrozen(fields), "a refusal's fields are frozen");
  assert.ok(Object.isFrozen(exchange.hardening.replayCache), "the replay cache's bounds are frozen");
  assert.ok(hookArgument !== undefined && Object.isFrozen(hookArgument), "beforePin's argument is frozen");
  Array.isArray = (() => false) as unknown as typeof Array.isArray;
  let listed: FederationPeer[];
  try {
    listed = await exchange.peers();
  } finally {
    Array.isArray = isArray;
  }
  assert.equal(listed.map((entry) => entry.kernelId), ["kernel-b"]);
});

test.run();
