// Real PostgreSQL and Redis servers for the cluster tier, from Debian's packages (`postgresql`,
// `redis-server`): each in its own temporary directory, on 127.0.0.1, on a free port, started
// and stopped by the test itself (also when a test fails or the process exits), and stoppable
// and restartable mid-test on the same port and data for the fail-closed and recovery checks.
import { spawn, spawnSync, type ChildProcess, type SpawnOptions } from "node:child_process";
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { freePort } from "../../helpers/processes.js";

/** The servers running, each with the signal that ends it at once and cleanly. */
const running = new Map<ChildProcess, NodeJS.Signals>();
const tempDirs = new Set<string>();
/** Temporary directories are named `<prefix><our pid>-…`, so a later run can tell whose they were. */
const STALE_DIR = /^chio-(?:pg|redis)-(\d{1,10})-[A-Za-z0-9]{6}$/;
// Whatever happens to the test, no server outlives it (review 75 F5):
// - on exit, each server gets its immediate-shutdown signal (Postgres SIGQUIT, which releases its
//   shared memory, unlike SIGKILL) and the directories are deleted;
// - SIGINT, SIGTERM and SIGHUP end the run through that exit path (they skipped it before);
// - a run killed outright (SIGKILL) takes its servers with it: they are started under
//   `setpriv --pdeathsig`, which the kernel signals when their parent dies; a server frozen by a
//   test at that moment (freeze) keeps that signal pending, so freezing also starts a thaw
//   watchdog tied to us the same way, which sends the server SIGCONT when we die (review 77 F1);
//   the run's directories are deleted by a later run (removeStaleDirs).
process.on("exit", () => {
  for (const [child, signal] of running) {
    child.kill(signal);
    child.kill("SIGCONT"); // a server frozen by a test (freeze) would keep the signal pending (review 77 F1)
  }
  for (const dir of tempDirs) {
    try {
      rmSync(dir, { recursive: true, force: true });
    } catch {
      // a server still writing as it shuts down: the next run deletes it (removeStaleDirs)
    }
  }
});
for (const [signal, code] of [["SIGINT", 130], ["SIGTERM", 143], ["SIGHUP", 129]] as const) {
  process.once(signal, () => process.exit(code));
}

/**
 * Deletes the temporary directories of earlier runs whose process is gone and which are older
 * than `minAgeMs`: a run in another PID namespace sharing /tmp (containers on one tmpfs) has a pid
 * this process cannot see, and its directories are young (review 77 F2). With `onlyOfPid`, only
 * the directories of that (ended) process.
 */
export function removeStaleDirs(minAgeMs = STALE_DIR_MIN_AGE_MS, onlyOfPid?: number): string[] {
  const removed: string[] = [];
  for (const name of readdirSync(tmpdir())) {
    const match = STALE_DIR.exec(name);
    const pid = match ? Number(match[1]) : Number.NaN;
    if (!Number.isSafeInteger(pid) || pid <= 0 || pid === process.pid || processAlive(pid)) continue;
    if (onlyOfPid !== undefined && pid !== onlyOfPid) continue;
    const dir = path.join(tmpdir(), name);
    try {
      if (Date.now() - statSync(dir).mtimeMs < minAgeMs) continue;
    } catch {
      continue; // gone meanwhile
    }
    rmSync(dir, { recursive: true, force: true });
    removed.push(name);
  }
  return removed;
}
/** Age below which removeStaleDirs leaves a directory alone: longer than any cluster run. */
export const STALE_DIR_MIN_AGE_MS = 60 * 60 * 1000;
function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}
removeStaleDirs();

const SETPRIV = ["/usr/bin/setpriv", "/bin/setpriv"].find((p) => existsSync(p));
/**
 * The command that runs `bin` as our child and has the kernel send it `signal` when this process
 * dies (setpriv execs the server, so the child we signal is the server itself).
 */
function tiedToUs(bin: string, args: string[], signal: NodeJS.Signals): [string, string[]] {
  return SETPRIV ? [SETPRIV, ["--pdeathsig", signal.replace(/^SIG/, ""), "--", bin, ...args]] : [bin, args];
}

/**
 * While a server is frozen (SIGSTOP), a small shell tied to us by the same pdeathsig: when this
 * process dies it sends the server SIGCONT, so the server's own pending pdeathsig is delivered
 * (a stopped process does not act on it). It ends by itself once the server is gone, and is
 * killed when the server is thawed or disposed. Without setpriv there is none (nor a pdeathsig).
 */
function startThawWatchdog(serverPid: number): ChildProcess | undefined {
  if (!SETPRIV) return undefined;
  const script = 'trap \'kill -CONT "$1" 2>/dev/null; exit 0\' TERM; while kill -0 "$1" 2>/dev/null; do sleep 0.2; done';
  const watchdog = spawn(SETPRIV, ["--pdeathsig", "TERM", "--", "/bin/sh", "-c", script, "thaw-watchdog", String(serverPid)], { stdio: "ignore" });
  watchdog.on("error", () => undefined); // spawn failures: no watchdog, as without setpriv
  running.set(watchdog, "SIGKILL");
  watchdog.once("exit", () => running.delete(watchdog));
  if (watchdog.pid !== undefined) waitUntilTermIsCaught(watchdog.pid);
  return watchdog;
}

/**
 * Waits, synchronously (freeze() is synchronous) and at most 5 s, until process `pid` catches
 * SIGTERM (bit 15 of SigCgt in /proc/pid/status): the watchdog's shell has set its trap. Before
 * that, a run killed right after freezing would end the shell with the default action instead of
 * thawing the server (the CI failure of 4 December 2026: the SIGKILL test killed the run within
 * milliseconds of the freeze). Returns early if the process is gone.
 */
function waitUntilTermIsCaught(pid: number): void {
  const pause = new Int32Array(new SharedArrayBuffer(4));
  for (const deadline = Date.now() + 5000; Date.now() < deadline; Atomics.wait(pause, 0, 0, 5)) {
    if (catchesTerm(pid) !== false) return; // caught, or gone
  }
}

/** Whether process `pid` has a handler for SIGTERM (bit 15 of SigCgt in /proc/pid/status); undefined if it is gone. */
export function catchesTerm(pid: number): boolean | undefined {
  let status: string;
  try {
    status = readFileSync(`/proc/${pid}/status`, "utf8");
  } catch {
    return undefined;
  }
  const caught = /^SigCgt:\s*([0-9a-f]+)$/m.exec(status);
  return caught !== null && (BigInt(`0x${caught[1]}`) & (1n << 14n)) !== 0n;
}


/**
 * Waits until `ready` says the server we started answers (each try bounded to 2 s: something
 * else on the port may accept connections and never answer). A server that exited is an error
 * with its log, at once.
 */
async function waitUntil(what: string, child: ChildProcess, log: () => string, ready: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`${what} exited: ${log()}`);
    let timer: NodeJS.Timeout | undefined;
    const answered = await Promise.race([ready().catch(() => false), new Promise<false>((resolve) => (timer = setTimeout(resolve, 2000, false)))]);
    clearTimeout(timer);
    if (answered) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${what} did not become ready within ${timeoutMs} ms: ${log()}`);
}

function stopChild(child: ChildProcess | undefined, signal: NodeJS.Signals): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const kill = setTimeout(() => child.kill("SIGKILL"), 10_000);
    child.once("exit", () => {
      clearTimeout(kill);
      running.delete(child);
      resolve();
    });
    child.kill(signal);
  });
}

/** A server under test. */
export interface TestServer {
  readonly url: string;
  readonly port: number;
  /** Stops the server (its data stays); accepts must now fail closed. */
  stop(): Promise<void>;
  /** Starts it again on the same port and data. */
  start(): Promise<void>;
  /** Freezes (SIGSTOP) or thaws (SIGCONT) the server process: a server that answers nothing. */
  freeze(frozen: boolean): void;
  /** Stops it for good and deletes its directory. */
  dispose(): Promise<void>;
  /** The running server's process id (undefined when stopped). */
  readonly pid: number | undefined;
  /** Its temporary directory (data, socket, log). */
  readonly dir: string;
  /** The ports its first start tried, in order (the last is `port`). */
  readonly portsTried: readonly number[];
}

export interface StartOptions {
  /** The port to try first (servers.test.ts passes one it holds, to check the retry). */
  firstPort?: number;
  /** Redis: take DEBUG from local clients (off by default since Redis 7), for DEBUG SLEEP: a server slow for a while. */
  debugCommand?: boolean;
}

function postgresBin(name: string): string {
  const root = "/usr/lib/postgresql";
  const versions = existsSync(root) ? readdirSync(root).filter((v) => /^\d+$/.test(v)).sort((a, b) => Number(b) - Number(a)) : [];
  for (const v of versions) {
    const bin = path.join(root, v, "bin", name);
    if (existsSync(bin)) return bin;
  }
  throw new Error(`${name} not found under ${root}: apt-get install -y postgresql`);
}

/**
 * initdb and the server refuse to run as root: as root, they run as the `postgres` user (spawned
 * with its uid and gid directly, so the child we signal is the server itself, not a wrapper).
 */
function postgresUser(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const uid = Number(spawnSync("id", ["-u", "postgres"], { encoding: "utf8" }).stdout.trim());
  const gid = Number(spawnSync("id", ["-g", "postgres"], { encoding: "utf8" }).stdout.trim());
  if (!Number.isInteger(uid) || !Number.isInteger(gid)) throw new Error("running as root, but there is no postgres user: apt-get install -y postgresql");
  return { uid, gid };
}

/** What differs between the engines: how to run one, reach it and recognise it. */
interface ServerSpec {
  /** For messages: the server's program name. */
  name: string;
  /** Its temporary directory (created by the caller, deleted by dispose). */
  dir: string;
  firstPort: number | undefined;
  url(port: number): string;
  /** The program, its arguments and spawn options for a start on `port`. */
  command(port: number): { bin: string; args: string[]; options: SpawnOptions };
  /** Ends it at once and cleanly, on exit and when this process dies (pdeathsig). */
  endSignal: NodeJS.Signals;
  /** Stops it for stop() and dispose(). */
  stopSignal: NodeJS.Signals;
  /** Whether the server answering on `url` is the one `child` runs, not another on the port. */
  isOurs(url: string, child: ChildProcess): Promise<boolean>;
}

/**
 * Starts a server from its spec on a free port and returns its handle. The first start: the port
 * was free when chosen, but the server binds it only now, and another process may have taken it
 * meanwhile: then up to three other ports (a server that exited saying "Address already in use").
 * A restart keeps its port, as the recovery tests need.
 */
async function launchServer(spec: ServerSpec): Promise<TestServer> {
  let port = spec.firstPort ?? (await freePort());
  const portsTried: number[] = [];
  let child: ChildProcess | undefined;
  let thawWatchdog: ChildProcess | undefined;
  const endThawWatchdog = () => {
    thawWatchdog?.kill("SIGKILL"); // not TERM: that is its cue to thaw the server
    thawWatchdog = undefined;
  };
  const server: TestServer = {
    get url() {
      return spec.url(port);
    },
    get port() {
      return port;
    },
    dir: spec.dir,
    portsTried,
    get pid() {
      return child && child.exitCode === null && child.signalCode === null ? child.pid : undefined;
    },
    async start() {
      const { bin, args, options } = spec.command(port);
      const started = spawn(...tiedToUs(bin, args, spec.endSignal), { ...options, stdio: ["ignore", "pipe", "pipe"] });
      child = started;
      let log = "";
      for (const stream of [started.stdout!, started.stderr!]) stream.on("data", (chunk) => (log = (log + chunk).slice(-4000)));
      running.set(started, spec.endSignal);
      await waitUntil(`${spec.name} on ${port}`, started, () => log, () => spec.isOurs(server.url, started));
    },
    stop: () => stopChild(child, spec.stopSignal),
    freeze(frozen) {
      if (child?.pid === undefined) return;
      endThawWatchdog();
      if (frozen) thawWatchdog = startThawWatchdog(child.pid);
      child.kill(frozen ? "SIGSTOP" : "SIGCONT");
    },
    async dispose() {
      if (child) child.kill("SIGCONT");
      endThawWatchdog();
      await stopChild(child, spec.stopSignal);
      rmSync(spec.dir, { recursive: true, force: true });
      tempDirs.delete(spec.dir);
    },
  };
  for (let attempt = 1; ; attempt++) {
    portsTried.push(port);
    try {
      await server.start();
      return server;
    } catch (error) {
      if (attempt > 3 || !/already in use/i.test(String((error as Error)?.message))) throw error;
      port = await freePort();
    }
  }
}

/** A fresh PostgreSQL cluster (trust auth, fsync off: a test server) on 127.0.0.1. */
export async function startPostgres(options: StartOptions = {}): Promise<TestServer> {
  const dir = mkdtempSync(path.join(tmpdir(), `chio-pg-${process.pid}-`));
  tempDirs.add(dir);
  const user = postgresUser();
  if (user) chownSync(dir, user.uid, user.gid);
  const data = path.join(dir, "data");
  const init = spawnSync(postgresBin("initdb"), ["-D", data, "-U", "postgres", "--auth=trust", "--no-sync", "-E", "UTF8", "--locale=C"], {
    encoding: "utf8",
    cwd: dir,
    ...user,
  });
  if (init.status !== 0) throw new Error(`initdb failed: ${init.stderr || init.stdout}`);
  return launchPostgres(dir, data, user, options);
}

/**
 * A hot standby of `primary` (a server from startPostgres): `pg_basebackup -R` of it into a fresh
 * temporary directory, started on its own free port, streaming from the primary. Promote it with
 * `SELECT pg_promote()`.
 */
export async function startPostgresStandby(primary: TestServer, options: StartOptions = {}): Promise<TestServer> {
  const dir = mkdtempSync(path.join(tmpdir(), `chio-pg-${process.pid}-`));
  tempDirs.add(dir);
  const user = postgresUser();
  if (user) chownSync(dir, user.uid, user.gid);
  const data = path.join(dir, "data");
  const backup = spawnSync(
    postgresBin("pg_basebackup"),
    ["-D", data, "-R", "-X", "stream", "--no-sync", "--checkpoint=fast", "-h", "127.0.0.1", "-p", String(primary.port), "-U", "postgres"],
    { encoding: "utf8", cwd: dir, timeout: 60_000, ...user },
  );
  if (backup.status !== 0) throw new Error(`pg_basebackup failed: ${backup.stderr || backup.stdout || backup.error}`);
  return launchPostgres(dir, data, user, options);
}

async function launchPostgres(dir: string, data: string, user: { uid: number; gid: number } | undefined, options: StartOptions): Promise<TestServer> {
  const pg = (await import("pg")).default;
  return launchServer({
    name: "postgres",
    dir,
    firstPort: options.firstPort,
    url: (port) => `postgres://postgres@127.0.0.1:${port}/postgres`,
    command: (port) => ({
      bin: postgresBin("postgres"),
      args: [
        "-D", data, "-k", dir, "-p", String(port),
        "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "max_connections=200",
      ],
      options: { cwd: dir, ...user },
    }),
    endSignal: "SIGQUIT", // immediate shutdown, which releases its shared memory (SIGKILL would not)
    stopSignal: "SIGINT", // fast shutdown: sessions are ended at once
    async isOurs(url) {
      const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 1000 });
      client.on("error", () => undefined);
      try {
        await client.connect();
        // Ours, not another server that took the port: it runs on our data directory.
        return (await client.query("SHOW data_directory")).rows[0]?.data_directory === data;
      } finally {
        await client.end().catch(() => undefined);
      }
    },
  });
}

/**
 * The installed redis-server's major version: Redis 7 refuses DEBUG unless enable-debug-command
 * allows it, and earlier servers, which take DEBUG anyway, refuse that option (0 if unknown).
 */
function redisMajorVersion(): number {
  const out = spawnSync("redis-server", ["--version"], { encoding: "utf8" }).stdout ?? "";
  return Number(/\bv=(\d+)\./.exec(out)?.[1] ?? 0);
}

/** A fresh Redis with persistence off (`--save '' --appendonly no`) on 127.0.0.1. */
export async function startRedis(options: StartOptions = {}): Promise<TestServer> {
  const dir = mkdtempSync(path.join(tmpdir(), `chio-redis-${process.pid}-`));
  tempDirs.add(dir);
  const { createClient } = await import("redis");
  return launchServer({
    name: "redis-server",
    dir,
    firstPort: options.firstPort,
    url: (port) => `redis://127.0.0.1:${port}`,
    command: (port) => ({
      bin: "redis-server",
      args: ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", dir, ...(options.debugCommand && redisMajorVersion() >= 7 ? ["--enable-debug-command", "local"] : [])],
      options: {},
    }),
    endSignal: "SIGKILL", // nothing to release
    stopSignal: "SIGTERM",
    async isOurs(url, child) {
      const client = createClient({ url, socket: { connectTimeout: 1000, reconnectStrategy: false } });
      client.on("error", () => undefined);
      try {
        await client.connect();
        // Ours, not another server that took the port (setpriv execs the server: same pid).
        return new RegExp(`^process_id:${child.pid}\\r?$`, "m").test(await client.info("server"));
      } finally {
        client.destroy();
      }
    },
  });
}
