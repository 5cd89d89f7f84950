// Peer-store doubles shared by the handshake suites: a real InMemoryPeerStore whose
// compareAndSet a test replaces, to stage a race or a failure at the pin write.
//
// Not a suite: uvu imports every file under test/, this one included; it registers no tests.
import type { FederationPeerStore, InMemoryPeerStore } from "../../src/index.js";

/** `inner`'s methods, with compareAndSet replaced by `compareAndSet`. */
export function withCompareAndSet(inner: InMemoryPeerStore, compareAndSet: FederationPeerStore["compareAndSet"]): FederationPeerStore {
  return {
    insert: (peer) => inner.insert(peer),
    get: (id) => inner.get(id),
    remove: (id) => inner.remove(id),
    snapshot: () => inner.snapshot(),
    compareAndSet,
  };
}
