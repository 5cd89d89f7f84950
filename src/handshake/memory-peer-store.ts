// The default peer store (Rust `InMemoryPeerStore`): a Map in this process. It lives in the
// handshake layer because the exchange defaults to it; src/stores/ re-exports it and holds
// adapters that build on the handshake, never the other way round (docs/protocol.md §8).
import { hardenClass, mapGet, mapSet, mapSize, ownList, ownListAsArray } from "../bytes.js";
import { MapAtLoad, mapDelete, mapIteratorStep, mapValues } from "../collections.js";
import { FederationPeer } from "./peer.js";
import { expectCompareAndSet, expectPin as expectPeer, expectPinKernelId as expectKernelId, type FederationPeerStore } from "./ports.js";

/**
 * In-memory pinned-peer store, synchronous, the default of KernelTrustExchange.
 *
 * NOT DURABLE: every pin is lost when the process exits, and after a restart each peer needs its
 * trust anchor again (first contact without an anchor is refused, so this fails closed rather
 * than falling back to trust-on-first-use). Use a store backed by a database for pins that must
 * survive restarts. Suitable for tests and single-process deployments, as in the reference.
 *
 * Each method runs to completion without yielding, so compareAndSet is atomic within a JS realm.
 */
export class InMemoryPeerStore implements FederationPeerStore {
  // Read and written with Map's methods as captured at load (src/bytes.ts, src/collections.ts): a replaced
  // Map.prototype.get would answer with a pin of its choosing.
  readonly #peers = new MapAtLoad<string, FederationPeer>();

  insert(peer: FederationPeer): void {
    mapSet(this.#peers, expectPeer(peer).kernelId, copyPeer(peer));
  }

  get(kernelId: string): FederationPeer | undefined {
    const peer = mapGet(this.#peers, expectKernelId(kernelId));
    return peer && copyPeer(peer);
  }

  remove(kernelId: string): FederationPeer | undefined {
    expectKernelId(kernelId);
    const peer = mapGet(this.#peers, kernelId);
    mapDelete(this.#peers, kernelId);
    return peer && copyPeer(peer);
  }

  snapshot(): FederationPeer[] {
    const peers = ownList<FederationPeer>(mapSize(this.#peers));
    const values = mapValues(this.#peers);
    for (let i = 0; i < peers.length; i++) peers[i] = copyPeer(mapIteratorStep(values).value!);
    return ownListAsArray(peers);
  }

  compareAndSet(kernelId: string, expected: FederationPeer | undefined, next: FederationPeer): boolean {
    expectCompareAndSet(kernelId, expected, next); // ports.ts: the check every adapter makes
    const current = mapGet(this.#peers, kernelId);
    const matches = expected === undefined ? current === undefined : current !== undefined && current.equals(expected);
    if (!matches) return false;
    mapSet(this.#peers, kernelId, copyPeer(next));
    return true;
  }

  /** Number of pins held. */
  get size(): number {
    return mapSize(this.#peers);
  }
}
hardenClass(InMemoryPeerStore); // its statics and methods stay its own: see hardenClass

// FederationPeer is frozen, but a copy also guards against subclasses that are not, so the
// store never shares an object with its callers.
function copyPeer(peer: FederationPeer): FederationPeer {
  return new FederationPeer({
    kernelId: peer.kernelId,
    publicKey: peer.publicKey,
    establishedAt: peer.establishedAt,
    rotationDue: peer.rotationDue,
  });
}
