// Child process of test/node/ed25519-prepared-public.test.ts, run with --expose-gc: prepares
// public keys on request, drops some of them without free(), forces collections, and reports
// which keys the slab holds before and after hot keys verified as bytes ask for slots (review 46,
// finding 4: dropped keys kept their slots from every hot key for good), then the same with a
// handshake exchange's prepared anchors, which must keep theirs. Prints one JSON line.
//
// Not a suite (no test registered, no test.run()).
import { createHash } from "node:crypto";
import { ed25519 } from "../../src/ed25519.js";
import { KernelTrustExchange, Keypair } from "../../src/handshake/index.js";
import { coreExports, heapU8, initSync } from "../../src/wasm/instance.js";
import { testModule } from "./test-core.js";

const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error("run with --expose-gc");
initSync(testModule()); // for test_prepared_body: which key each slot holds

const hooks = () => coreExports() as unknown as { test_prepared_body(slot: number): number };
const seedOf = (label: string): Uint8Array => new Uint8Array(createHash("sha256").update(label).digest());
const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString("hex");
const message = new Uint8Array([7, 7, 7]);

function keyOf(label: string) {
  const seed = seedOf(label);
  const publicKey = ed25519.getPublicKey(seed);
  const signature = ed25519.sign(message, seed);
  const forged = signature.slice();
  forged[5] ^= 1;
  return { label, publicKey, signature, forged };
}

/** The labels of the keys the slab holds, sorted ("" for an empty slot). */
function held(keys: ReturnType<typeof keyOf>[]): string[] {
  const heap = heapU8();
  const { slots } = ed25519.preparedKeysLayout();
  return Array.from({ length: slots }, (_, s) => {
    const body = hooks().test_prepared_body(s);
    const key = hex(heap.subarray(body, body + 32));
    return keys.find((k) => hex(k.publicKey) === key)?.label ?? (/^0+$/.test(key) ? "" : "?");
  }).sort();
}

let slots = 0;
let slabBytes = 30_000;
for (; slots < 4; slabBytes += 4096) slots = ed25519.configurePreparedKeys({ maxBytes: slabBytes }).slots;
slabBytes -= 4096; // the size that gave 4 slots
const kept = keyOf("kept");
const twin = keyOf("twin");
const dropped = [keyOf("dropped 1"), keyOf("dropped 2")];
const hot = [keyOf("hot 1"), keyOf("hot 2"), keyOf("hot 3")];
const all = [kept, twin, ...dropped, ...hot];
const verdicts: boolean[] = [];

// Every slot prepared on request: `kept` and one of `twin`'s two objects stay reachable; the
// other twin and both `dropped` keys are dropped without free().
const keptPrepared = ed25519.preparePublicKey(kept.publicKey);
const twinPrepared = ed25519.preparePublicKey(twin.publicKey);
const collected = new Set<string>();
const sentinel = new FinalizationRegistry<string>((label) => collected.add(label));
(() => {
  sentinel.register(ed25519.preparePublicKey(twin.publicKey), "twin");
  for (const k of dropped) sentinel.register(ed25519.preparePublicKey(k.publicKey), k.label);
})();

/** 16 verifications of `k` as key bytes, valid and forged in turn (two promotion attempts). */
function hammer(k: ReturnType<typeof keyOf>): void {
  for (let i = 0; i < 16; i++) verdicts.push(ed25519.verify(i % 2 ? k.forged : k.signature, message, k.publicKey) === (i % 2 === 0));
}

/** Forces collections until `count` objects registered with `sentinel` were collected. */
async function collect(count: number): Promise<void> {
  for (let round = 0; round < 50 && collected.size < count; round++) {
    gc!();
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  await new Promise((resolve) => setTimeout(resolve, 20)); // the library's finalizer runs in its own task
}

hammer(hot[0]);
const heldBeforeCollection = held(all);

await collect(3);
const collectedLabels = [...collected].sort();

// Three hot keys in turn: the first two take the dropped keys' slots, the third the least
// recently used promoted key's; the kept key and the twin (one of its objects still alive,
// though unused since) stay.
for (const k of hot) hammer(k);
const heldAfterCollection = held(all);
for (const k of [kept, twin]) {
  const prepared = k === kept ? keptPrepared : twinPrepared;
  verdicts.push(ed25519.verify(k.signature, message, prepared), !ed25519.verify(k.forged, message, prepared));
}


// An exchange prepares its anchors (at most half the slots: 2 of 4) and keeps them prepared on
// request while it lives, though nothing outside it holds their PreparedPublicKey objects, and
// though it verifies by key bytes: another object of an anchor's key, prepared and dropped (an
// exchange rebuilt with the same anchors, say), does not release the slot (review 50).
ed25519.configurePreparedKeys({ maxBytes: 0 }); // drops every prepared key
ed25519.configurePreparedKeys({ maxBytes: slabBytes });
const anchors = [keyOf("anchor 1"), keyOf("anchor 2")];
const exchange = new KernelTrustExchange("kernel.local", Keypair.fromSeed(seedOf("local")));
for (const [i, anchor] of anchors.entries()) exchange.withTrustedPeer(`kernel.peer-${i}`, hex(anchor.publicKey));
(() => {
  for (const k of dropped) sentinel.register(ed25519.preparePublicKey(k.publicKey), `again ${k.label}`);
  sentinel.register(ed25519.preparePublicKey(anchors[0].publicKey), "anchor 1's other object");
  const rebuilt = new KernelTrustExchange("kernel.local", Keypair.fromSeed(seedOf("local")));
  for (const [i, anchor] of anchors.entries()) rebuilt.withTrustedPeer(`kernel.peer-${i}`, hex(anchor.publicKey));
  sentinel.register(rebuilt, "a rebuilt exchange with the same anchors");
})();
const heldWithExchange = held([...anchors, ...all]);
await collect(7);
for (const k of hot) hammer(k);
const heldAfterExchangeCollection = held([...anchors, ...all]);

console.log(
  JSON.stringify({
    slots,
    collectedLabels,
    collectedAtTheEnd: [...collected].sort(),
    heldBeforeCollection,
    heldAfterCollection,
    heldWithExchange,
    heldAfterExchangeCollection,
    exchangeAlive: exchange.localKernelId,
    allVerdictsRight: verdicts.every(Boolean),
    verdictCount: verdicts.length,
  }),
);
