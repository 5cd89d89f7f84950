// Differential test against two independent implementations:
//   node:crypto (OpenSSL) — getPublicKey and sign byte for byte, and default-mode verify;
//   @noble/curves ed25519.verify(sig, msg, pk, { zip215: true }) — our { zip215: true }.
// Random seeds and messages of length 0..4096; for every signature four verification cases:
// the valid signature, one flipped bit, S + L (malleated), and the key of another signer.
// KEYS x MESSAGES_PER_KEY x 4 >= 20,000 verification cases per run (every 8th also through the
// core's full-length fallback multiplication).
import { test } from "uvu";
import * as assert from "uvu/assert";
import { randomBytes, verify as nodeVerify, type KeyObject } from "node:crypto";
import { ed25519 } from "../../src/ed25519.js";
import { bytesToHex } from "../../src/bytes.js";
import { L, fullLengthVerify, nobleZip215, nodePrivateKey, nodePublicKey, nodePublicKeyBytes, nodeSign } from "../helpers/ed25519-oracles.js";
import { scaled } from "../helpers/scale.js";

const KEYS = scaled(250);
const MESSAGES_PER_KEY = 20;

function addL(sig: Uint8Array): Uint8Array {
  let s = 0n;
  for (let i = 63; i >= 32; i--) s = (s << 8n) | BigInt(sig[i]);
  s += L; // S < L < 2^253, so S + L < 2^256 still fits
  const out = sig.slice();
  for (let i = 32; i < 64; i++) {
    out[i] = Number(s & 0xffn);
    s >>= 8n;
  }
  return out;
}

type Signer = { seed: Uint8Array; pk: Uint8Array; nodePriv: KeyObject; nodePub: KeyObject };

test(`${KEYS} keys x ${MESSAGES_PER_KEY} messages x 4 cases: sign, keygen, verify agree with node:crypto and @noble/curves`, () => {
  const signers: Signer[] = [];
  for (let i = 0; i < KEYS; i++) {
    const seed = new Uint8Array(randomBytes(32));
    const nodePriv = nodePrivateKey(seed);
    const nodePk = nodePublicKeyBytes(seed);
    const pk = ed25519.getPublicKey(seed);
    assert.is(bytesToHex(pk), bytesToHex(nodePk), `public key of seed ${bytesToHex(seed)}`);
    signers.push({ seed, pk, nodePriv, nodePub: nodePublicKey(pk) });
  }
  let cases = 0;
  let accepted = 0;
  for (let i = 0; i < KEYS; i++) {
    const me = signers[i];
    const other = signers[(i + 1) % KEYS];
    for (let j = 0; j < MESSAGES_PER_KEY; j++) {
      const len = j === 0 ? 0 : (Math.random() * 4097) | 0;
      const msg = new Uint8Array(randomBytes(len));
      const sig = ed25519.sign(msg, me.seed);
      const expected = nodeSign(me.nodePriv, msg);
      if (bytesToHex(sig) !== bytesToHex(expected)) {
        assert.unreachable(`signature differs from node:crypto: seed ${bytesToHex(me.seed)} msg ${bytesToHex(msg)}`);
      }
      const flipped = sig.slice();
      const bit = (Math.random() * 512) | 0;
      flipped[bit >> 3] ^= 1 << (bit & 7);
      const variants: [string, Uint8Array, Uint8Array, KeyObject][] = [
        ["valid", sig, me.pk, me.nodePub],
        [`bit ${bit} flipped`, flipped, me.pk, me.nodePub],
        ["S + L", addL(sig), me.pk, me.nodePub],
        ["another signer's key", sig, other.pk, other.nodePub],
      ];
      for (const [what, s, pk, nodePub] of variants) {
        cases++;
        const ours = ed25519.verify(s, msg, pk);
        const theirs = nodeVerify(null, msg, nodePub, s);
        const oursZip = ed25519.verify(s, msg, pk, { zip215: true });
        const nobles = nobleZip215(s, msg, pk);
        if (ours !== theirs || oursZip !== nobles) {
          assert.unreachable(
            `${what}: ours ${ours} / node ${theirs}, ours zip215 ${oursZip} / noble ${nobles}; ` +
              `sig ${bytesToHex(s)} pk ${bytesToHex(pk)} msg ${bytesToHex(msg)}`,
          );
        }
        if (cases % 8 === 0) {
          // every 8th case also through the full-length multiplication (the fallback path)
          assert.is(fullLengthVerify(s, msg, pk, false), theirs, `${what}: full-length path vs node`);
          assert.is(fullLengthVerify(s, msg, pk, true), nobles, `${what}: full-length path vs noble`);
        }
        if (ours) accepted++;
      }
    }
  }
  assert.ok(cases >= 20_000, `${cases} cases`);
  // Only the unmodified signatures verify (a flipped bit could in principle keep a signature
  // valid, but not with any realistic probability).
  assert.is(accepted, KEYS * MESSAGES_PER_KEY);
});

test.run();
