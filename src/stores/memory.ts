// The in-memory peer store is the handshake's default, so it is defined in the handshake layer
// (src/handshake/memory-peer-store.ts); this module keeps its historical import path. Imports
// point downward only: src/stores/ may import the handshake, the handshake never imports here.
export { InMemoryPeerStore } from "../handshake/memory-peer-store.js";
