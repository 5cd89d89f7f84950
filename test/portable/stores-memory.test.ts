// The in-memory defaults against the port contracts that every store adapter must meet
// (test/helpers/store-conformance.ts).
import { InMemoryPeerStore, ReplayCache } from "../../src/index.js";
import { peerStoreConformance, replayStoreConformance } from "../helpers/store-conformance.js";

peerStoreConformance("InMemoryPeerStore", async () => ({ store: new InMemoryPeerStore(), close: () => {} }));
replayStoreConformance("ReplayCache", async () => ({ store: new ReplayCache(), close: () => {} }));
