// Child processes for the Node suites: inline ES modules run by plain `node` against the BUILT
// package (so they start in ~50 ms, not under tsx), with bounded run times; and tsxChildResult
// for the TypeScript children that run on src/ under tsx and print one JSON result line.
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { createServer } from "node:net";
import path from "node:path";
import { fileURLToPath } from "node:url";

/** The repository root (the package resolves itself by name from here). */
export const repoRoot = path.join(path.dirname(fileURLToPath(import.meta.url)), "..", "..");

export interface Finished {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Collects a child's output and waits for its exit; kills it after `timeoutMs`. Ends stdin with `input` when given. */
export function finished(child: ChildProcess, timeoutMs = 20_000, input?: string | Uint8Array): Promise<Finished> {
  return new Promise((resolve, reject) => {
    let stdout = "";
    let stderr = "";
    child.stdout?.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
    child.stderr?.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`child timed out after ${timeoutMs} ms; stderr: ${stderr}`));
    }, timeoutMs);
    child.on("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
    if (child.stdin) {
      child.stdin.on("error", () => undefined); // a child that exits before reading all input
      if (input !== undefined) child.stdin.end(input);
    }
  });
}

/**
 * Runs the TypeScript file at `child` (a URL, resolved by the caller against its own
 * import.meta.url) under tsx to completion, and parses the last line it prints as JSON: the
 * children that report one result line (the lying-builtins children, key-index-child, ...).
 * Throws, with the child's stderr, when it fails or outlasts `timeoutMs`.
 */
export function tsxChildResult<T>(child: URL, args: string[] = [], timeoutMs = 120_000): T {
  const out = execFileSync(process.execPath, ["--import", "tsx", fileURLToPath(child), ...args], { encoding: "utf8", timeout: timeoutMs });
  return JSON.parse(out.trim().split("\n").pop()!) as T;
}

/** Starts `node --input-type=module -e code` in the repository root. */
export function spawnModule(code: string, args: string[] = []): ChildProcess {
  return spawn(process.execPath, ["--input-type=module", "-e", code, "--", ...args], { cwd: repoRoot, stdio: ["pipe", "pipe", "pipe"] });
}

/** Runs an inline module to completion. */
export function runModule(code: string, args: string[] = [], timeoutMs?: number): Promise<Finished> {
  return finished(spawnModule(code, args), timeoutMs, "");
}

/** Resolves with the first stdout line matching `pattern` (the child keeps running). */
export function waitForLine(child: ChildProcess, pattern: RegExp, timeoutMs = 15_000): Promise<RegExpMatchArray> {
  return new Promise((resolve, reject) => {
    let buffered = "";
    let stderr = "";
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`no line matching ${pattern} within ${timeoutMs} ms; stdout: ${buffered} stderr: ${stderr}`));
    }, timeoutMs);
    const onData = (chunk: Buffer) => {
      buffered += chunk.toString("utf8");
      const match = buffered.match(pattern);
      if (match) {
        cleanup();
        resolve(match);
      }
    };
    const onErr = (chunk: Buffer) => (stderr += chunk.toString("utf8"));
    const onExit = (code: number | null) => {
      cleanup();
      reject(new Error(`child exited (${code}) before printing ${pattern}; stdout: ${buffered} stderr: ${stderr}`));
    };
    const cleanup = () => {
      clearTimeout(timer);
      child.stdout?.off("data", onData);
      child.stderr?.off("data", onErr);
      child.off("exit", onExit);
    };
    child.stdout?.on("data", onData);
    child.stderr?.on("data", onErr);
    child.on("exit", onExit);
  });
}

// A child whose listening socket on 127.0.0.1 never accepts: it fills its own accept queue
// (backlog 1) with connections of its own and then blocks its event loop before it ever polls,
// so a further connect stays in SYN-SENT until the connecting side gives up. Blocked for at most
// 60 s; stop() kills it sooner.
const NEVER_ACCEPTING_SOURCE = `
const net = require("node:net");
const server = net.createServer();
server.listen({ port: 0, host: "127.0.0.1", backlog: 1 }, () => {
  const { port } = server.address();
  for (let i = 0; i < 4; i++) net.connect(port, "127.0.0.1").on("error", () => {});
  process.nextTick(() => {
    process.stdout.write(port + "\\n");
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 60000);
  });
});`;

/** Starts a listener that never accepts a connection (above); resolves with its URL. */
export function neverAcceptingListener(): Promise<{ url: string; stop: () => void }> {
  const child = spawn(process.execPath, ["-e", NEVER_ACCEPTING_SOURCE], { stdio: ["ignore", "pipe", "inherit"] });
  const stop = () => void child.kill("SIGKILL");
  return new Promise((resolve, reject) => {
    let line = "";
    child.on("error", reject);
    child.on("exit", (code, signal) => reject(new Error(`the listener ended before it reported its port (${code ?? signal})`)));
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
      line += chunk;
      const port = Number.parseInt(line, 10);
      // The queue is full once the child's own connections are in it; give them a moment.
      if (line.includes("\n") && port > 0) setTimeout(() => resolve({ url: `http://127.0.0.1:${port}`, stop }), 200);
    });
  });
}

/** A port nobody listens on right now (listen on 0, read it, close): another process may take it before the caller does. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const port = (server.address() as { port: number }).port;
      server.close(() => resolve(port));
    });
  });
}
