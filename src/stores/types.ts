// The store ports are declared by the handshake that uses them (src/handshake/ports.ts); this
// module keeps their historical import path for store adapters.
export type { FederationPeerStore, MaybePromise, ReplayStore } from "../handshake/ports.js";
