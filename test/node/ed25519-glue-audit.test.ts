// Gaps in the JavaScript glue of Ed25519 (src/ed25519.ts, src/wasm/instance.ts) that a mutation
// audit found no test caught, each closed here with an independent oracle: @noble/curves for key
// encodings and the curve arithmetic, @noble/hashes' SHA-512 for key expansion, node:crypto for
// verdicts and signatures.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { createHash } from "node:crypto";
import { ed25519 as noble } from "@noble/curves/ed25519.js";
import { sha512 } from "@noble/hashes/sha2.js";
import { ed25519, isCanonicalPointEncoding_vartime, ED25519_PREPARED_KEYS_DEFAULT_BYTES } from "../../src/ed25519.js";
import * as nobleDropIn from "../../src/compat/noble-ed25519.js";
import { InvalidTypeError, WasmCoreError } from "../../src/errors.js";
import { coreExports, guarded, liveCoreExports } from "../../src/wasm/instance.js";
import { L, P, fromLE, le, nodeAccepts, nodeSign } from "../helpers/ed25519-oracles.js";
import { throwsWith } from "../helpers/assert-codes.js";

const digest = (...parts: (string | number)[]): Uint8Array => new Uint8Array(createHash("sha512").update(parts.join("/")).digest());
const hex = (b: Uint8Array): string => Buffer.from(b).toString("hex");
const MAX_PREPARED_BYTES = 256 * 1024 * 1024; // configurePreparedKeys' documented ceiling

/** The 32-byte little-endian encoding of y, with the sign bit of x set or not. */
function encodeY(y: bigint, sign: boolean): Uint8Array {
  const bytes = le(y);
  if (sign) bytes[31] |= 0x80;
  return bytes;
}

// A mutation audit found that the canonical-encoding test behind utils.isValidPublicKey(pk, false)
// could accept y = p, or y = p - 1 with the sign bit set, and that the default (zip215 left out)
// could be read as strict, with no test failing.
test("utils.isValidPublicKey and isCanonicalPointEncoding_vartime at the edges of y < p: the answers of @noble/curves", () => {
  const ys = [0n, 1n, 2n, P - 2n, P - 1n, P, P + 1n, P + 2n, P + 18n, 2n ** 255n - 1n];
  let strictOnlyRefusals = 0;
  for (const y of ys) {
    for (const sign of [false, true]) {
      const bytes = encodeY(y, sign);
      const what = `y = ${y >= P - 2n ? `p + ${y - P}` : y}, sign ${sign}`;
      let decodes = true;
      let canonical = true;
      try { noble.Point.fromBytes(bytes, true); } catch { decodes = false; }
      try { noble.Point.fromBytes(bytes, false); } catch { canonical = false; }
      assert.is(ed25519.utils.isValidPublicKey(bytes), decodes, `${what}: default (zip215)`);
      assert.is(ed25519.utils.isValidPublicKey(bytes, true), decodes, `${what}: zip215 true`);
      assert.is(ed25519.utils.isValidPublicKey(bytes, false), canonical, `${what}: zip215 false`);
      assert.is(ed25519.utils.isValidPublicKey(bytes), noble.utils.isValidPublicKey(bytes), `${what}: default vs @noble/curves`);
      assert.is(ed25519.utils.isValidPublicKey(bytes, false), noble.utils.isValidPublicKey(bytes, false), `${what}: strict vs @noble/curves`);
      // Canonical: y < p and not (x = 0 with the sign bit), i.e. not y in {1, p - 1} with the sign bit.
      const expectCanonical = y < P && !(sign && (y === 1n || y === P - 1n));
      assert.is(isCanonicalPointEncoding_vartime(bytes), expectCanonical, `${what}: isCanonicalPointEncoding_vartime`);
      if (decodes && !canonical) strictOnlyRefusals++;
    }
  }
  assert.ok(strictOnlyRefusals >= 6, "the table holds keys that decode but are refused as non-canonical");
});

// A mutation audit found that getExtendedPublicKey could skip setting bit 254 of the clamped
// scalar (RFC 8032 §5.1.5) with no test failing: the seeds tests used all hashed to a head
// whose bit was set already.
test("utils.getExtendedPublicKey: head, prefix, scalar and pointBytes of RFC 8032 §5.1.5, from @noble/hashes and @noble/curves", () => {
  let bit254Clear = 0;
  for (let i = 0; i < 48; i++) {
    const seed = digest("extended seed", i).slice(0, 32);
    const hashed = sha512(seed);
    if ((hashed[31] & 0x40) === 0) bit254Clear++;
    const head = hashed.slice(0, 32);
    head[0] &= 248;
    head[31] &= 127;
    head[31] |= 64;
    const scalar = fromLE(head) % L;
    const extended = ed25519.utils.getExtendedPublicKey(seed);
    assert.is(hex(extended.head), hex(head), `head ${i}`);
    assert.is(hex(extended.prefix), hex(hashed.slice(32, 64)), `prefix ${i}`);
    assert.is(extended.scalar, scalar, `scalar ${i}`);
    assert.is(hex(extended.pointBytes), noble.Point.BASE.multiply(scalar).toHex(), `pointBytes ${i}`);
  }
  assert.ok(bit254Clear > 0, "some seed hashes to a head whose bit 254 the clamp must set");
});

// A mutation audit found that utils.isValidSecretKey could accept longer arrays with no test failing.
test("utils.getExtendedPublicKey hands no byte of the secret scalar to a global BigInt replaced after load (here and in chio-trust/ed25519) (hunt 22)", () => {
  const seed = new Uint8Array(createHash("sha256").update("BigInt watcher").digest());
  const head = sha512(seed).slice(0, 32);
  head[0] &= 248;
  head[31] &= 127;
  head[31] |= 64;
  const RealBigInt = BigInt;
  for (const [name, expand] of [
    ["ed25519.utils.getExtendedPublicKey", () => ed25519.utils.getExtendedPublicKey(seed)],
    ["chio-trust/ed25519 utils.getExtendedPublicKey", () => nobleDropIn.utils.getExtendedPublicKey(seed)],
  ] as const) {
    const handed: unknown[] = [];
    (globalThis as { BigInt: unknown }).BigInt = (value: unknown) => {
      handed.push(value);
      return RealBigInt(value as number);
    };
    let scalar: bigint;
    try {
      scalar = expand().scalar;
    } finally {
      (globalThis as { BigInt: unknown }).BigInt = RealBigInt;
    }
    assert.is(scalar, fromLE(head) % L, `${name}: the scalar`);
    // The watcher may see public bytes (the drop-in decodes the public key with the realm's BigInt, as noble does), never the scalar's.
    const seen = Uint8Array.from(handed.filter((v): v is number => typeof v === "number" && v >= 0 && v < 256));
    const asText = Buffer.from(seen).toString("hex");
    assert.not.ok(asText.includes(Buffer.from(head).reverse().toString("hex")) || asText.includes(Buffer.from(head).toString("hex")), `${name}: the scalar's bytes were handed to BigInt`);
  }
});

test("utils.isValidSecretKey: true for 32 readable bytes only", () => {
  for (const n of [0, 1, 31, 33, 64]) assert.is(ed25519.utils.isValidSecretKey(new Uint8Array(n)), false, `${n} bytes`);
  assert.is(ed25519.utils.isValidSecretKey(new Uint8Array(32)), true);
  assert.is(ed25519.utils.isValidSecretKey(Buffer.alloc(40).subarray(4, 36)), true, "a 32-byte view at an offset");
  assert.is(ed25519.utils.isValidSecretKey(Buffer.alloc(40).subarray(4, 37)), false, "a 33-byte view at an offset");
  assert.is(ed25519.utils.isValidSecretKey([...new Uint8Array(32)]), false, "an Array");
});

// A mutation audit found that PreparedPublicKey.publicKey could hand out the object's own key
// bytes with no test failing: a caller writing into them changed the key the object verifies with.
test("PreparedPublicKey.publicKey is a copy: writing into it changes no verdict of the object", () => {
  const seed = digest("prepared copy").slice(0, 32);
  const other = digest("prepared copy, other").slice(0, 32);
  const pk = ed25519.getPublicKey(seed);
  const otherPk = ed25519.getPublicKey(other);
  const msg = new TextEncoder().encode("prepared copy message");
  const sig = nodeSign(seed, msg);
  const otherSig = nodeSign(other, msg);
  assert.ok(nodeAccepts(sig, msg, pk) && nodeAccepts(otherSig, msg, otherPk) && !nodeAccepts(otherSig, msg, pk));
  const prepared = ed25519.preparePublicKey(pk);
  const handedOut = prepared.publicKey;
  assert.is(hex(handedOut), hex(pk));
  handedOut.set(otherPk); // the caller's array now names another key
  assert.is(hex(prepared.publicKey), hex(pk), "the object's key is unchanged");
  assert.is(ed25519.verify(sig, msg, prepared), true, "the object's own signature");
  assert.is(ed25519.verify(otherSig, msg, prepared), false, "the other key's signature");
  assert.equal(ed25519.verifyBatch([{ signature: sig, message: msg, publicKey: prepared }, { signature: otherSig, message: msg, publicKey: prepared }]), [true, false]);
  prepared.free();
});

// A mutation audit found that configurePreparedKeys' ceiling could be off by one byte with no
// test failing (the bad-options test used 2^40).
test("configurePreparedKeys: one byte over the ceiling is InvalidTypeError and the layout stays", () => {
  const before = ed25519.preparedKeysLayout();
  const error = throwsWith(() => ed25519.configurePreparedKeys({ maxBytes: MAX_PREPARED_BYTES + 1 }), "INVALID_TYPE");
  assert.instance(error, InvalidTypeError);
  assert.equal(ed25519.preparedKeysLayout(), before);
});

// A mutation audit found that an instance rebuilt after a trap could lay out the default slab
// instead of the configured one with no test failing (a slab turned off came back on, a small
// bound was exceeded).
test("an instance rebuilt after a trap lays out the slab configurePreparedKeys asked for, not the default", () => {
  const seed = digest("rebuilt slab").slice(0, 32);
  const pk = ed25519.getPublicKey(seed);
  const msg = new TextEncoder().encode("rebuilt slab message");
  const sig = nodeSign(seed, msg);
  const defaultSlots = ed25519.configurePreparedKeys({ maxBytes: ED25519_PREPARED_KEYS_DEFAULT_BYTES }).slots;
  try {
    for (const maxBytes of [0, 120_000]) {
      const configured = ed25519.configurePreparedKeys({ maxBytes });
      assert.ok(configured.slots !== defaultSlots, `${maxBytes}: a layout unlike the default`);
      const prepared = ed25519.preparePublicKey(pk);
      throwsWith(() => guarded(() => { throw new WebAssembly.RuntimeError("unreachable (simulated trap)"); }), "WASM_TRAP");
      assert.is(liveCoreExports(), undefined, "the trap dropped the instance");
      assert.is(ed25519.verify(sig, msg, pk), true, "the next call starts an instance");
      assert.equal(ed25519.preparedKeysLayout(), configured, `${maxBytes}: the rebuilt instance's layout`);
      assert.is(ed25519.verify(sig, msg, prepared), true, "the prepared key verifies on the rebuilt instance");
      prepared.free();
    }
  } finally {
    ed25519.configurePreparedKeys({ maxBytes: ED25519_PREPARED_KEYS_DEFAULT_BYTES });
  }
});

// A mutation audit found that guarded() could keep the instance after an exception that is not
// the library's own (an engine RangeError thrown partway through a wasm call) with no test
// failing: the interrupted core, its scratch state and its prepared secret keys stayed in use.
test("guarded(): an engine exception drops the instance and zeroes its memory; a WasmCoreError leaves it", () => {
  const seed = digest("guarded").slice(0, 32);
  const msg = new TextEncoder().encode("guarded message");
  const key = ed25519.prepareSecretKey(seed);
  const x = coreExports();
  const own = new WasmCoreError("WASM_OUT_OF_MEMORY", "simulated");
  assert.throws(() => guarded(() => { throw own; }), (e: unknown) => e === own);
  assert.is(liveCoreExports(), x, "the library's own error keeps the instance");
  assert.ok(key.usable);
  assert.is(hex(ed25519.sign(msg, key)), hex(nodeSign(seed, msg)));
  const memory = new Uint8Array(x.memory.buffer);
  assert.ok(memory.some((b) => b !== 0), "control: the live memory is not all zero");
  const engine = new RangeError("Maximum call stack size exceeded (simulated)");
  assert.throws(() => guarded(() => { x.args_ptr(); throw engine; }), (e: unknown) => e === engine);
  assert.is(liveCoreExports(), undefined, "the instance was dropped");
  assert.ok(memory.every((b) => b === 0), "its memory was zeroed");
  assert.not.ok(key.usable);
  throwsWith(() => ed25519.sign(msg, key), "PREPARED_KEY_LOST");
  assert.is(hex(ed25519.sign(msg, seed)), hex(nodeSign(seed, msg)), "a fresh instance signs");
  key.destroy();
});

// A mutation audit found that utils.isValidPublicKey could throw on a wrong length, and that
// utils.randomSecretKey(seed) / keygen(seed) could hand back the caller's seed array itself, with
// no test of these suites failing.
test("utils.isValidPublicKey never throws: false for every length but 32 and for non-bytes", () => {
  const pk = ed25519.getPublicKey(digest("never throws").slice(0, 32));
  assert.is(ed25519.utils.isValidPublicKey(pk), true);
  for (const n of [0, 1, 31, 33, 64]) {
    const bytes = new Uint8Array(n);
    bytes.set(pk.subarray(0, Math.min(n, 32)));
    for (const zip215 of [undefined, true, false]) assert.is(ed25519.utils.isValidPublicKey(bytes, zip215), false, `${n} bytes, zip215 ${zip215}`);
  }
  for (const value of [null, undefined, "00", [...pk], pk.buffer]) assert.is(ed25519.utils.isValidPublicKey(value as never), false, String(value));
});

test("utils.randomSecretKey(seed) and keygen(seed) return a copy of the seed, not the caller's array", () => {
  const seed = digest("seed copy").slice(0, 32);
  const original = hex(seed);
  const secret = ed25519.utils.randomSecretKey(seed);
  const pair = ed25519.keygen(seed);
  assert.is(hex(secret), original);
  assert.is(hex(pair.secretKey), original);
  assert.is(hex(pair.publicKey), noble.getPublicKey(seed).reduce((s, b) => s + b.toString(16).padStart(2, "0"), ""));
  seed.fill(0xaa); // the caller reuses its array
  assert.is(hex(secret), original, "randomSecretKey's answer is its own");
  assert.is(hex(pair.secretKey), original, "keygen's secretKey is its own");
  assert.ok(secret.buffer !== seed.buffer && pair.secretKey.buffer !== seed.buffer);
});

test.run();
