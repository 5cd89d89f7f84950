// One kernel replica as a real process: its own KernelTrustExchange for the cluster's kernel id,
// on the stores named in its configuration (argv[2], JSON). Run with `node --import tsx`.
// Controlled over stdin/stdout, one JSON object per line: {"id", "op", ...} in, {"id", ...} out.
//
// ops: accept {envelope, from, now} · resolve {kernelId, now} · forget {kernelId} · peers ·
//      acceptBatch {items: [{envelope, from, now}], concurrency} · close
import { createInterface } from "node:readline";
import { hexToBytes } from "../../../src/bytes.js";
import { KernelTrustExchange, Keypair, PublicKey, type FederationPeerStore, type ReplayStore } from "../../../src/handshake/index.js";
import { PostgresPeerStore, PostgresReplayStore } from "../../../src/stores/postgres.js";
import { RedisPeerStore, RedisReplayStore } from "../../../src/stores/redis.js";

export type StoreSetup =
  | { kind: "memory" }
  | { kind: "postgres"; url: string; prefix: string }
  | { kind: "redis"; url: string; namespace: string }
  /** Pins in Postgres, replay in Redis: shows the replay store alone failing closed. */
  | { kind: "mixed"; postgresUrl: string; prefix: string; redisUrl: string; namespace: string };

export interface ReplicaConfig {
  kernelId: string;
  seedHex: string;
  anchors: [string, string][];
  store: StoreSetup;
  rotationWindowSecs: number;
  maxSkewSecs: number;
  operationTimeoutMs: number;
}

const config = JSON.parse(process.argv[2]) as ReplicaConfig;

async function openStores(setup: StoreSetup): Promise<{ peers?: FederationPeerStore; replay?: ReplayStore; close(): Promise<void> }> {
  const timing = { operationTimeoutMs: config.operationTimeoutMs };
  switch (setup.kind) {
    case "memory":
      return { close: async () => undefined };
    case "postgres": {
      const options = { ...timing, tablePrefix: setup.prefix };
      const peers = await PostgresPeerStore.open(setup.url, options);
      const replay = await PostgresReplayStore.open(setup.url, { ...options, maxSkewSecs: config.maxSkewSecs });
      return { peers, replay, close: async () => void (await Promise.all([peers.close(), replay.close()])) };
    }
    case "redis": {
      const options = { ...timing, namespace: setup.namespace };
      const peers = await RedisPeerStore.open(setup.url, options);
      const replay = await RedisReplayStore.open(setup.url, { ...options, maxSkewSecs: config.maxSkewSecs });
      return { peers, replay, close: async () => void (await Promise.all([peers.close(), replay.close()])) };
    }
    case "mixed": {
      const peers = await PostgresPeerStore.open(setup.postgresUrl, { ...timing, tablePrefix: setup.prefix });
      const replay = await RedisReplayStore.open(setup.redisUrl, { ...timing, namespace: setup.namespace, maxSkewSecs: config.maxSkewSecs });
      return { peers, replay, close: async () => void (await Promise.all([peers.close(), replay.close()])) };
    }
  }
}

const stores = await openStores(config.store);
/** The exchange's `pinned` events (what each pin write started from), for the compare-and-set test. */
const pinnedEvents: unknown[] = [];
const exchange = new KernelTrustExchange(config.kernelId, Keypair.fromSeed(hexToBytes(config.seedHex)), {
  onEvent: (e) => { if (e.type === "pinned") pinnedEvents.push({ kernelId: e.kernelId, written: e.written, previous: e.previous?.toJSON() ?? null, peer: e.peer.toJSON() }); },
  config: { rotationWindowSecs: config.rotationWindowSecs, maxHandshakeSkewSecs: config.maxSkewSecs },
  trustedPeers: config.anchors.map(([id, hex]) => [id, PublicKey.fromHex(hex)] as const),
  ...(stores.peers ? { store: stores.peers } : {}),
  ...(stores.replay ? { replayStore: stores.replay } : {}),
});

function failure(error: unknown): Record<string, unknown> {
  const e = error as { code?: unknown; name?: unknown; message?: unknown; cause?: { code?: unknown; name?: unknown } };
  return { ok: false, code: e?.code, name: e?.name, message: String(e?.message), causeCode: e?.cause?.code, causeName: e?.cause?.name };
}

async function handle(msg: Record<string, any>): Promise<Record<string, unknown>> {
  try {
    switch (msg.op) {
      case "accept":
        return { ok: true, peer: (await exchange.acceptEnvelope(msg.envelope, msg.from, msg.now)).toJSON() };
      case "resolve":
        return { ok: true, peer: (await exchange.resolve(msg.kernelId, msg.now)).toJSON() };
      case "forget":
        return { ok: true, peer: (await exchange.forget(msg.kernelId))?.toJSON() ?? null };
      case "peers":
        return { ok: true, peers: (await exchange.peers()).map((p) => p.toJSON()) };
      case "acceptBatch": {
        const items = msg.items as { envelope: string; from: string; now: number }[];
        const codes: Record<string, number> = {};
        let accepted = 0;
        let next = 0;
        const started = performance.now();
        const worker = async () => {
          while (next < items.length && performance.now() - started < msg.deadlineMs) {
            const item = items[next++];
            try {
              await exchange.acceptEnvelope(item.envelope, item.from, item.now);
              accepted++;
            } catch (error) {
              // STORE_FAILED says which store call failed and how (the cause's code).
              const e = error as { code?: unknown; fields?: { operation?: unknown }; cause?: { code?: unknown } };
              const code = e.code === "STORE_FAILED" ? `STORE_FAILED ${String(e.fields?.operation)} ${String(e.cause?.code)}` : String(e.code);
              codes[code] = (codes[code] ?? 0) + 1;
            }
          }
        };
        await Promise.all(Array.from({ length: msg.concurrency }, worker));
        // attempted: the items taken before the deadline (each accepted or counted in codes).
        return { ok: true, accepted, attempted: next, codes, ms: performance.now() - started };
      }
      case "pinnedEvents":
        return { ok: true, events: pinnedEvents };
      case "close":
        await stores.close();
        return { ok: true };
      default:
        return { ok: false, code: "UNKNOWN_OP" };
    }
  } catch (error) {
    return failure(error);
  }
}

const lines = createInterface({ input: process.stdin });
lines.on("line", (line) => {
  const msg = JSON.parse(line) as Record<string, any>;
  void handle(msg).then((reply) => {
    process.stdout.write(JSON.stringify({ id: msg.id, ...reply }) + "\n");
    if (msg.op === "close") lines.close();
  });
});
process.stdout.write(JSON.stringify({ id: 0, ready: true }) + "\n");
