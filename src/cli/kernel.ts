// What the kernel commands share: key files, trust anchors, stores, and building the exchange.
import { closeSync, fchmodSync, fstatSync, openSync, readFileSync, writeSync } from "node:fs";
import { hexToBytes } from "../bytes.js";
import { KernelTrustExchange } from "../handshake/exchange.js";
import { Keypair, PublicKey } from "../handshake/keys.js";
import type { FederationPeerStore, ReplayStore } from "../handshake/ports.js";
import { CliError } from "./errors.js";

/** Options every kernel command accepts. */
export interface KernelOptions {
  key: string;
  id: string;
  trust?: string[];
  store?: string;
  skew?: number;
  window?: number;
  now?: number;
}

/** Writes a fresh seed (64 hex digits and a newline) with mode 0600; refuses to overwrite unless `force`. */
export function writeKeyFile(path: string, force: boolean): Keypair {
  const keypair = Keypair.generate();
  const seed = keypair.seedBytes();
  let fd: number;
  try {
    fd = openSync(path, force ? "w" : "wx", 0o600);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "EEXIST") throw new CliError("KEY_FILE_EXISTS", `${path} exists (use --force to replace it)`);
    throw new CliError("KEY_FILE_UNWRITABLE", `cannot write ${path}: ${(error as Error).message}`);
  }
  try {
    fchmodSync(fd, 0o600); // an existing file replaced with --force keeps its old mode otherwise
    writeSync(fd, Buffer.from(seed).toString("hex") + "\n");
  } finally {
    seed.fill(0);
    closeSync(fd);
  }
  return keypair;
}

/** Reads a seed file written by keygen; refuses files other users can read (as ssh does). */
export function readKeyFile(path: string): Keypair {
  let fd: number;
  try {
    fd = openSync(path, "r");
  } catch (error) {
    throw new CliError("KEY_FILE_UNREADABLE", `cannot read ${path}: ${(error as Error).message}`);
  }
  let text: string;
  try {
    const mode = fstatSync(fd).mode;
    if (process.platform !== "win32" && (mode & 0o077) !== 0) {
      throw new CliError("KEY_FILE_PERMISSIONS", `${path} is readable by others (mode ${(mode & 0o777).toString(8)}); chmod 600 it`);
    }
    text = readFileSync(fd, "utf8").trim();
  } finally {
    closeSync(fd);
  }
  if (!/^[0-9a-f]{64}$/i.test(text)) throw new CliError("KEY_FILE_INVALID", `${path} does not hold a 32-byte seed as 64 hex digits`);
  const seed = hexToBytes(text);
  try {
    return Keypair.fromSeed(seed);
  } finally {
    seed.fill(0);
  }
}

/** `--trust ID=HEX` values as anchors. */
export function parseAnchors(values: string[] | undefined): [string, PublicKey][] {
  return (values ?? []).map((value) => {
    const at = value.lastIndexOf("=");
    if (at <= 0) throw new CliError("INVALID_TRUST_ANCHOR", `--trust wants ID=PUBLICKEYHEX, got ${JSON.stringify(value.slice(0, 100))}`);
    try {
      return [value.slice(0, at), PublicKey.fromHex(value.slice(at + 1))];
    } catch (error) {
      throw new CliError("INVALID_TRUST_ANCHOR", `--trust ${value.slice(0, at)}: ${(error as Error).message}`);
    }
  });
}

/** Stores on `--store FILE` (SQLite, loaded only when asked for) or, without it, in memory. */
export async function openStores(file: string | undefined): Promise<{ store?: FederationPeerStore; replay?: ReplayStore; close(): void }> {
  if (file === undefined) return { close() {} };
  const sqlite = await loadSqlite();
  try {
    const store = new sqlite.SqlitePeerStore(file, { origin: "chio-trust cli" });
    let replay;
    try {
      replay = new sqlite.SqliteReplayStore(file);
    } catch (error) {
      store.close();
      throw error;
    }
    return { store, replay, close: () => (store.close(), replay.close()) };
  } catch (error) {
    const code = (error as { code?: string }).code ?? "STORE_UNAVAILABLE";
    throw new CliError(code, (error as Error).message);
  }
}

export async function loadSqlite(): Promise<typeof import("../stores/sqlite/index.js")> {
  try {
    return await import("../stores/sqlite/index.js");
  } catch (error) {
    throw new CliError("SQLITE_UNAVAILABLE", `the SQLite store needs better-sqlite3 12.x (npm install better-sqlite3@12): ${(error as Error).message}`);
  }
}

/** The exchange for the local kernel named by the common options. */
export function buildExchange(options: KernelOptions, stores: { store?: FederationPeerStore; replay?: ReplayStore }): KernelTrustExchange {
  const exchange = new KernelTrustExchange(options.id, readKeyFile(options.key));
  if (options.skew !== undefined) exchange.withConfig({ maxHandshakeSkewSecs: options.skew });
  if (options.window !== undefined) exchange.withConfig({ rotationWindowSecs: options.window });
  if (stores.store) exchange.withStore(stores.store);
  if (stores.replay) exchange.withReplayStore(stores.replay);
  for (const [id, key] of parseAnchors(options.trust)) exchange.withTrustedPeer(id, key);
  if (options.now !== undefined) {
    const now = options.now;
    exchange.withClock(() => now);
  }
  return exchange;
}

/** Reads text from a file or, for "-" / undefined, stdin, up to `limit` bytes. */
export async function readInputText(source: string | undefined, limit: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    const { createReadStream } = await import("node:fs");
    const stream = source === undefined || source === "-" ? process.stdin : createReadStream(source);
    for await (const chunk of stream) {
      size += (chunk as Buffer).length;
      if (size > limit) throw new CliError("INPUT_TOO_LARGE", `input over ${limit} bytes`);
      chunks.push(chunk as Buffer);
    }
  } catch (error) {
    if (error instanceof CliError) throw error;
    throw new CliError("INPUT_UNREADABLE", `cannot read ${source ?? "stdin"}: ${(error as Error).message}`);
  }
  return Buffer.concat(chunks).toString("utf8");
}
