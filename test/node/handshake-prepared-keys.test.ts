// The exchange prepares its peers' keys for verification (issue 8: "the exchange prepares pinned
// peers' keys"): a trust anchor when it is added and a key when it is pinned, so the peer's next
// envelopes take the prepared path from the first one on. Observed through the test build's
// slab counter; the verdicts themselves are covered by the handshake suites.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { ed25519, ED25519_PREPARED_KEYS_DEFAULT_BYTES } from "../../src/ed25519.js";
import { FederationPeer, InMemoryPeerStore, KernelTrustExchange, Keypair } from "../../src/handshake/index.js";
import { coreExports, initSync, resetInstance } from "../../src/wasm/instance.js";
import { testModule } from "../helpers/test-core.js";
import { A, B, NOW } from "../helpers/kernels.js";

const preparedSlotsInUse = (): number => (coreExports() as unknown as { test_prepared_used(): number }).test_prepared_used();
const seed = (n: number): Uint8Array => new Uint8Array(32).fill(n);

test.before(() => {
  resetInstance();
  initSync(testModule());
});
test.after(() => resetInstance());

test("withTrustedPeer prepares the anchor; a pin prepares the pinned key", async () => {
  ed25519.configurePreparedKeys({ maxBytes: ED25519_PREPARED_KEYS_DEFAULT_BYTES }); // drops every prepared key
  assert.is(preparedSlotsInUse(), 0);
  const kpA = Keypair.fromSeed(seed(1));
  const kpB = Keypair.fromSeed(seed(2));
  const a = new KernelTrustExchange(A, kpA).withClock(() => NOW).withTrustedPeer(B, kpB.publicKey);
  assert.is(preparedSlotsInUse(), 1, "the anchor of B is prepared when it is added");
  const b = new KernelTrustExchange(B, kpB).withClock(() => NOW).withTrustedPeer(A, kpA.publicKey);
  assert.is(preparedSlotsInUse(), 2, "the anchor of A too");
  await a.acceptEnvelope(b.localEnvelope(A, "n-1").toJSONText(), B);
  assert.is(preparedSlotsInUse(), 2, "a renewed pin of an already prepared key prepares nothing more");
  assert.ok(await a.resolve(B));

  // A pin without an anchor: the exchange knows B only from its store.
  const store = new InMemoryPeerStore();
  store.insert(new FederationPeer({ kernelId: B, publicKey: kpB.publicKey, establishedAt: NOW - 10, rotationDue: NOW + 10 }));
  const pinnedOnly = new KernelTrustExchange(A, kpA).withClock(() => NOW).withStore(store);
  ed25519.configurePreparedKeys({ maxBytes: ED25519_PREPARED_KEYS_DEFAULT_BYTES });
  assert.is(preparedSlotsInUse(), 0);
  await pinnedOnly.acceptEnvelope(b.localEnvelope(A, "n-2").toJSONText(), B);
  assert.is(preparedSlotsInUse(), 1, "the pinned key of B is prepared when the pin is written");
});

test("an exchange prepares at most half the slab's slots; further peers are left to hot-key promotion", () => {
  ed25519.configurePreparedKeys({ maxBytes: ED25519_PREPARED_KEYS_DEFAULT_BYTES });
  const half = ed25519.preparedKeysLayout().slots >>> 1;
  assert.ok(half >= 2, `slots: ${ed25519.preparedKeysLayout().slots}`);
  const exchange = new KernelTrustExchange(A, Keypair.fromSeed(seed(1)));
  for (let i = 0; i < half + 5; i++) exchange.withTrustedPeer(`kernel.peer-${i}`, Keypair.fromSeed(seed(10 + i)).publicKey);
  assert.is(preparedSlotsInUse(), half);
});

test.run();
