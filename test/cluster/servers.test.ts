// The cluster tier's own servers do not outlive a test run, however it ends (review 75 F5: a run
// killed with SIGTERM or SIGKILL left its PostgreSQL and Redis servers running and their
// directories in /tmp, and the exit path's SIGKILL left Postgres's shared memory segment). A
// child process starts both servers with test/cluster/helpers/servers.ts, as a test file does,
// and is killed; the servers must be gone and their directories deleted, by the run itself or by
// the next one. A Postgres frozen by a test (SIGSTOP) when the run is SIGKILLed is thawed by a
// watchdog tied to the run (review 77 F1).
import { spawn } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { createInterface } from "node:readline";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { freePort, repoRoot } from "../helpers/processes.js";
import { createServer } from "node:net";
import { catchesTerm, removeStaleDirs, startPostgres, startRedis } from "./helpers/servers.js";

const t = suite("test servers end with the run");

interface Held {
  postgres: number;
  redis: number;
  dirs: string[];
}

/** A process's state letter from /proc/pid/stat (R running, S sleeping, T stopped, Z zombie), or undefined if it is gone. */
function stateLetter(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2)[0];
  } catch {
    return undefined;
  }
}

/** Whether a process exists and is not a zombie (an orphan's parent may not have reaped it yet). */
function alive(pid: number): boolean {
  const state = stateLetter(pid);
  return state !== undefined && state !== "Z";
}

/** For a failure message: the process and its state, or that it is gone. */
function processState(pid: number): string {
  const state = stateLetter(pid);
  return `${pid} ${state === undefined ? "gone" : `state ${state}`}`;
}

/** SysV shared memory segments of no process (what a SIGKILLed postmaster leaves). */
function orphanSegments(): Set<string> {
  const lines = readFileSync("/proc/sysvipc/shm", "utf8").trim().split("\n").slice(1);
  // columns: key shmid perms size cpid lpid nattch ...
  return new Set(lines.map((l) => l.trim().split(/\s+/)).filter((c) => c[6] === "0").map((c) => c[1]));
}

/** Waits until `done()`, at most `timeoutMs`; the assertion names `what` (a function: computed at the failure, to say what is still there). */
async function until(what: string | (() => string), done: () => boolean, timeoutMs = 15_000): Promise<void> {
  for (const deadline = Date.now() + timeoutMs; !done(); ) {
    if (Date.now() >= deadline) assert.ok(false, typeof what === "string" ? what : what());
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Process ids of the thaw watchdogs (servers.ts, startThawWatchdog) watching `serverPid`. */
function thawWatchdogs(serverPid: number): number[] {
  const found: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const argv = readFileSync(`/proc/${entry}/cmdline`, "utf8").split("\0");
      if (argv.includes("thaw-watchdog") && argv.includes(String(serverPid))) found.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return found;
}

for (const [signal, frozen] of [["SIGTERM", false], ["SIGINT", false], ["SIGKILL", false], ["SIGTERM", true], ["SIGKILL", true]] as const) {
  t(`a run ended by ${signal} takes its servers with it${frozen ? ", a frozen Postgres too (review 77 F1)" : ""}`, async () => {
    const segmentsBefore = orphanSegments();
    const args = ["--import", "tsx", "test/cluster/helpers/server-holder.ts", ...(frozen ? ["frozen"] : [])];
    const child = spawn(process.execPath, args, { cwd: repoRoot, stdio: ["ignore", "pipe", "pipe"] });
    let stderr = "";
    child.stderr!.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on("exit", (code, sig) => resolve({ code, signal: sig })));
    let timer: NodeJS.Timeout | undefined;
    try {
      const line = await Promise.race([
        new Promise<string>((resolve) => createInterface({ input: child.stdout! }).once("line", resolve)),
        exited.then(() => Promise.reject(new Error(`the holder exited: ${stderr}`))),
        new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`no servers within 60 s: ${stderr}`)), 60_000))),
      ]).finally(() => clearTimeout(timer));
      const held = JSON.parse(line) as Held;
      assert.ok(alive(held.postgres) && alive(held.redis), "both servers run");
      assert.ok(held.dirs.every((d) => existsSync(d)), "their directories exist");
      // Frozen, Postgres would keep a SIGKILLed run's pdeathsig pending for ever (review 77 F1):
      // a watchdog tied to the run thaws it.
      const watchdogs = thawWatchdogs(held.postgres);
      assert.is(watchdogs.length, frozen ? 1 : 0, "a thaw watchdog while frozen, none otherwise");
      // Armed by the time freeze() returned (the holder prints right after it): a run killed at
      // once must find the trap set (the CI failure of 4 December 2026 was killed before it was).
      for (const pid of watchdogs) assert.is(catchesTerm(pid), true, `the watchdog ${pid} catches SIGTERM`);
      child.kill(signal);
      const end = await exited;
      if (signal === "SIGKILL") assert.is(end.signal, "SIGKILL");
      else assert.is(end.code, signal === "SIGTERM" ? 143 : 130, `the run ended through its exit path (before: killed by ${signal}, no cleanup)`);
      await until(
        () => `the servers ended (postgres ${processState(held.postgres)}, redis ${processState(held.redis)}, thaw watchdogs: ${thawWatchdogs(held.postgres).join(", ") || "none"})`,
        () => !alive(held.postgres) && !alive(held.redis),
      );
      await until("no thaw watchdog left", () => thawWatchdogs(held.postgres).length === 0);
      if (signal !== "SIGKILL") {
        // Postgres's immediate shutdown (SIGQUIT) releases its segment; SIGKILL would leave it.
        await until("no shared memory segment left behind", () => [...orphanSegments()].every((id) => segmentsBefore.has(id)));
      }
      // The run deleted its directories, or (killed outright, or a server still writing as it
      // shut down) a later run does, once they are an hour old: a young directory of a pid this
      // process cannot see may be a live run's in another PID namespace (review 77 F2).
      if (signal === "SIGKILL") {
        assert.equal(removeStaleDirs().filter((name) => held.dirs.some((d) => d.endsWith(name))), [], "young: kept");
        assert.ok(held.dirs.every((d) => existsSync(d)), "a killed run's directories stay until a later run");
      }
      // Only the killed run's own: another run's young directories stay (review 77 F2).
      removeStaleDirs(0, child.pid);
      for (const dir of held.dirs) assert.not.ok(existsSync(dir), `${dir} is deleted`);
    } finally {
      child.kill("SIGKILL");
    }
  });
}

t("a port taken between choosing and binding it: the server starts on another one", async () => {
  // The helpers pick a port nobody listens on, close it, and the server binds it later; another
  // process may take it in between (review 75). Here this process holds the first port tried.
  const taken = createServer((socket) => socket.destroy()); // something else on the port
  const port = await freePort();
  await new Promise<void>((resolve) => taken.listen(port, "127.0.0.1", resolve));
  try {
    for (const start of [startPostgres, startRedis]) {
      const server = await start({ firstPort: port });
      try {
        assert.is(server.portsTried[0], port, `${start.name}: tried the held port first`);
        assert.is.not(server.port, port, `${start.name}: another port`);
        assert.is(server.portsTried.at(-1), server.port);
        assert.ok(server.url.includes(`:${server.port}`), server.url);
        assert.ok(server.pid !== undefined, "running");
      } finally {
        await server.dispose();
      }
    }
  } finally {
    await new Promise((resolve) => taken.close(resolve));
  }
});

t.run();
