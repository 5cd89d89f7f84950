// The classes whose instances the library trusts (PreparedPublicKey, PreparedSecretKey, and the
// handshake's PublicKey, Signature and Keypair) are made by their factories only. TypeScript's
// `private constructor` does not exist at run time: review 46 built a PreparedPublicKey around
// 600 unchecked bytes with `new`, which verify() wrote over the core's tables (every later
// verdict wrong; with a crafted image, forgeries accepted), and a PreparedSecretKey handle around
// a guessed slot that signed with another component's key. Every such `new`, a look-alike token
// and a subclass's super() now throw InvalidTypeError, and nothing of the library's state changes.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { createHash, verify as nodeVerify, createPublicKey } from "node:crypto";
import { ed25519, PreparedPublicKey, PreparedSecretKey } from "../../src/ed25519.js";
import { InvalidTypeError } from "../../src/errors.js";
import { Keypair, PublicKey, Signature } from "../../src/handshake/index.js";
import { nodePrivateKey, nodeSign } from "../helpers/ed25519-oracles.js";

const seed = new Uint8Array(createHash("sha256").update("constructors refuse").digest());
const privateKey = nodePrivateKey(seed);
const publicKey = ed25519.getPublicKey(seed);
const message = new TextEncoder().encode("made by the factories only");

/** Every way to reach a class's constructor from outside: plain `new`, look-alike tokens, a subclass. */
function attempts(cls: unknown, args: unknown[]): [string, () => unknown][] {
  const Cls = cls as new (...a: unknown[]) => unknown;
  const description = (Cls as { name: string }).name;
  class Sub extends Cls {
    constructor(...a: unknown[]) {
      super(...a);
    }
  }
  return [
    ["new with the factory's arguments", () => new Cls(...args)],
    ["new with a Symbol of the same description first", () => new Cls(Symbol(description), ...args)],
    ["new with a registered Symbol first", () => new Cls(Symbol.for(description), ...args)],
    ["new with no argument", () => new Cls()],
    ["a subclass", () => new Sub(...args)],
    ["a subclass passing a look-alike token", () => new Sub(Symbol(description), ...args)],
    ["Reflect.construct", () => Reflect.construct(Cls, args)],
  ];
}

test("no PreparedPublicKey, PreparedSecretKey, PublicKey, Signature or Keypair is made outside its factory", () => {
  const cases: [string, unknown, unknown[]][] = [
    ["PreparedPublicKey", PreparedPublicKey, [new Uint8Array(600)]],
    ["PreparedPublicKey", PreparedPublicKey, [publicKey, 0]],
    ["PreparedSecretKey", PreparedSecretKey, [{ epoch: 1, slot: 0, generation: 0 }, publicKey]],
    ["PublicKey", PublicKey, [new Uint8Array(600)]],
    ["Signature", Signature, [new Uint8Array(3)]],
    ["Keypair", Keypair, [seed]],
  ];
  for (const [name, cls, args] of cases) {
    for (const [how, make] of attempts(cls, args)) {
      try {
        make();
      } catch (error) {
        assert.instance(error, InvalidTypeError, `${name}, ${how}: ${String(error)}`);
        assert.is((error as InvalidTypeError).code, "INVALID_TYPE");
        continue;
      }
      assert.unreachable(`${name}, ${how}: constructed`);
    }
  }
});

test("after the refused attempts the core is intact: verdicts and signatures equal node:crypto's, a prepared secret key still signs", () => {
  const preparedSecret = ed25519.prepareSecretKey(seed);
  const preparedPublic = ed25519.preparePublicKey(publicKey);
  for (const [, make] of [...attempts(PreparedPublicKey, [new Uint8Array(600)]), ...attempts(PreparedSecretKey, [{ epoch: 1, slot: 0, generation: 0 }, publicKey])]) {
    assert.throws(make);
  }
  assert.ok(preparedSecret.usable, "no attempt dropped the instance (which would lose the prepared secret key)");
  const expected = nodeSign(privateKey, message);
  assert.equal(ed25519.sign(message, preparedSecret), expected);
  assert.equal(ed25519.sign(message, seed), expected);
  const forged = expected.slice();
  forged[40] ^= 4;
  const nodeKey = createPublicKey(privateKey);
  for (const key of [publicKey, preparedPublic]) {
    assert.is(ed25519.verify(expected, message, key), nodeVerify(null, message, nodeKey, expected));
    assert.is(ed25519.verify(forged, message, key), nodeVerify(null, message, nodeKey, forged));
  }
  assert.ok(ed25519.verify(expected, message, publicKey));
  preparedSecret.destroy();
});

test.run();
