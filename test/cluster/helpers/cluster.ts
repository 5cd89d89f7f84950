// Starts replica processes (test/cluster/helpers/replica.ts) and talks to them, and signs the
// envelopes remote kernels send to the cluster. Keys come from fixed seeds (Keypair.fromSeed).
import { spawn, type ChildProcess } from "node:child_process";
import { createInterface } from "node:readline";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { bytesToHex } from "../../../src/bytes.js";
import { KernelTrustExchange, Keypair } from "../../../src/handshake/index.js";
import type { ReplicaConfig, StoreSetup } from "./replica.js";

const here = path.dirname(fileURLToPath(import.meta.url));
const live = new Set<ChildProcess>();
process.on("exit", () => {
  for (const child of live) child.kill("SIGKILL");
});

export const CLUSTER_KERNEL_ID = "kernel.cluster";
const CLUSTER_SEED = new Uint8Array(32).fill(0x11);

function seed(n: number): Uint8Array {
  const s = new Uint8Array(32);
  s[0] = 0x42;
  s[1] = n & 0xff;
  s[2] = (n >> 8) & 0xff;
  return s;
}

/** A remote kernel that sends envelopes to the cluster. */
export class RemoteKernel {
  readonly id: string;
  readonly keypair: Keypair;
  readonly #exchange: KernelTrustExchange;
  constructor(n: number) {
    this.id = `peer.${n}`;
    this.keypair = Keypair.fromSeed(seed(n));
    this.#exchange = new KernelTrustExchange(this.id, this.keypair);
  }
  /** JSON text of an envelope to the cluster. */
  envelope(nonce: string, now: number): string {
    return this.#exchange.localEnvelope(CLUSTER_KERNEL_ID, nonce, now).toJSONText();
  }
}

export type Reply = { id: number; ok: boolean; code?: string; causeCode?: string; causeName?: string; message?: string; [k: string]: any };

/** One replica process. */
export class Replica {
  readonly #child: ChildProcess;
  readonly #pending = new Map<number, (reply: Reply) => void>();
  #next = 1;
  readonly ready: Promise<void>;

  constructor(config: ReplicaConfig) {
    this.#child = spawn(process.execPath, ["--import", "tsx", path.join(here, "replica.ts"), JSON.stringify(config)], {
      stdio: ["pipe", "pipe", "inherit"],
    });
    live.add(this.#child);
    this.#child.on("exit", () => live.delete(this.#child));
    let markReady!: () => void;
    let failStart!: (e: Error) => void;
    this.ready = new Promise((resolve, reject) => ((markReady = resolve), (failStart = reject)));
    this.#child.once("exit", (code) => failStart(new Error(`replica exited with ${code} before it was ready`)));
    createInterface({ input: this.#child.stdout! }).on("line", (line) => {
      const reply = JSON.parse(line) as Reply & { ready?: boolean };
      if (reply.ready) return markReady();
      this.#pending.get(reply.id)?.(reply);
      this.#pending.delete(reply.id);
    });
  }

  send(op: string, fields: Record<string, unknown> = {}): Promise<Reply> {
    const id = this.#next++;
    return new Promise((resolve) => {
      this.#pending.set(id, resolve);
      this.#child.stdin!.write(JSON.stringify({ id, op, ...fields }) + "\n");
    });
  }

  accept(envelope: string, from: string, now: number): Promise<Reply> {
    return this.send("accept", { envelope, from, now });
  }
  resolve(kernelId: string, now: number): Promise<Reply> {
    return this.send("resolve", { kernelId, now });
  }
  forget(kernelId: string): Promise<Reply> {
    return this.send("forget", { kernelId });
  }

  async stop(): Promise<void> {
    if (this.#child.exitCode !== null) return;
    const exited = new Promise<void>((resolve) => this.#child.once("exit", () => resolve()));
    await Promise.race([this.send("close"), new Promise((r) => setTimeout(r, 5000))]);
    this.#child.stdin!.end();
    const kill = setTimeout(() => this.#child.kill("SIGKILL"), 5000);
    await exited;
    clearTimeout(kill);
  }
}

export interface ClusterOptions {
  replicas: number;
  store: StoreSetup;
  anchors: RemoteKernel[];
  rotationWindowSecs?: number;
  maxSkewSecs?: number;
  operationTimeoutMs?: number;
}

/** Starts `replicas` processes for CLUSTER_KERNEL_ID on one store setup. */
export async function startCluster(options: ClusterOptions): Promise<Replica[]> {
  const config: ReplicaConfig = {
    kernelId: CLUSTER_KERNEL_ID,
    seedHex: bytesToHex(CLUSTER_SEED),
    anchors: options.anchors.map((k) => [k.id, k.keypair.publicKey.toHex()]),
    store: options.store,
    rotationWindowSecs: options.rotationWindowSecs ?? 43_200,
    maxSkewSecs: options.maxSkewSecs ?? 300,
    operationTimeoutMs: options.operationTimeoutMs ?? 1000,
  };
  const replicas = Array.from({ length: options.replicas }, () => new Replica(config));
  await Promise.all(replicas.map((r) => r.ready));
  return replicas;
}

export async function stopCluster(replicas: Replica[]): Promise<void> {
  await Promise.all(replicas.map((r) => r.stop()));
}
