// The chio-trust command line (commander): keys, envelopes, pins, the HTTP handshake pair, bulk
// verification and a benchmark. Exit codes: 0 success, 1 refused / does not verify, 2 bad usage
// or unreadable input (src/cli/errors.ts). Errors print `chio-trust: error CODE: message`.
import { Command, CommanderError, InvalidArgumentError, Option } from "commander";
import { existsSync, statSync } from "node:fs";
import { describeThrown, displayPeerText, PeerHandshakeError } from "../handshake/errors.js";
import { HandshakeHttpError } from "../http/errors.js";
import { DEFAULT_MAX_ENVELOPE_BYTES, MAX_ENVELOPE_BYTES_LIMIT } from "../handshake/constants.js";
import { systemClockSeconds } from "../handshake/time.js";
import { readVerifiedEnvelopeFields } from "../handshake/envelope.js";
import { CliError, EXIT_OK, EXIT_REFUSED, EXIT_USAGE } from "./errors.js";
import { acceptOnStoresInMemory, attachStores, buildExchange, isUnclaimedSqliteFile, loadSqlite, openStores, readInputBytes, refuseNonRegularStore, removeCreatedKeyFile, storeWouldBeCreated, writeKeyFile, type KernelOptions } from "./kernel.js";

const EXIT_CODES_HELP = `
Exit codes:
  0  success
  1  refused: a signature does not verify, a handshake or envelope is refused
  2  bad usage, unreadable input, key file or store, verify input with no item,
     output that cannot be written (OUTPUT_FAILED: a full disk; keygen then removes a key file it created)
Errors print one line on stderr: chio-trust: error CODE: message`;

function integer(name: string, min: number, max: number) {
  return (value: string): number => {
    if (!/^\d+$/.test(value) || Number(value) < min || Number(value) > max) throw new InvalidArgumentError(`${name} must be an integer in ${min}..${max}`);
    return Number(value);
  };
}
function decimal(name: string, min: number, max: number) {
  return (value: string): number => {
    const n = Number(value);
    if (!/^(\d+(\.\d*)?|\.\d+)$/.test(value) || n < min || n > max) throw new InvalidArgumentError(`${name} must be a number in ${min}..${max}`);
    return n;
  };
}
const collect = (value: string, previous: string[] = []) => [...previous, value];
/** A value that must not be empty or blank (`--host ""` from an unset variable would listen on every interface). */
function nonEmpty(name: string) {
  return (value: string): string => {
    if (value.trim() === "") throw new InvalidArgumentError(`${name} must not be empty`);
    return value;
  };
}
/**
 * A file flag (--out, --key, --store, --in): not empty, and not a value that starts with "--".
 * `--out $OUT --force` with OUT unset passes "--force" as the file: keygen wrote a seed to a
 * file named --force and forced nothing (CLI audit, 6 December 2026). A file whose name does
 * start so is still reachable as ./--name.
 */
function filePath(name: string) {
  return (value: string): string => {
    if (value === "") throw new InvalidArgumentError(`${name} must not be empty`);
    if (value.startsWith("--")) throw new InvalidArgumentError(`${name} got ${JSON.stringify(value.slice(0, 40))}, which looks like an option (an unset variable before it?); write ./${value.slice(0, 40)} for a file so named`);
    return value;
  };
}

/**
 * The --store flag: a file flag (filePath) that is always a file. SQLite gives ":memory:" a
 * meaning of its own, so `--store :memory:` accepted, pinned and persisted nothing, and took the
 * same envelope again, while `peers` read a file of that name (hunt 16): a name starting with ":"
 * is taken as a file in the current folder, as ./:memory: would be.
 */
function storeFile(value: string): string {
  const path = filePath("--store")(value);
  return path.startsWith(":") ? `./${path}` : path;
}

/**
 * A kernel id flag (--id, --to, --from, --remote): not empty. An unset variable (`--id "$ID"`)
 * would otherwise sign for, or expect, the kernel "", which no --trust can anchor. Blank ids
 * are left alone: " " is a valid, anchorable kernel id.
 */
function kernelId(name: string) {
  return (value: string): string => {
    if (value === "") throw new InvalidArgumentError(`${name} must not be empty`);
    return value;
  };
}

/**
 * Undo steps for a command's output that cannot be written (main.ts runs them on OUTPUT_FAILED);
 * each returns text appended to the error's message.
 */
export const outputFailureCleanups: (() => string)[] = [];

/**
 * How main.ts treats stdout that cannot be written: `serve` sets `ignored` as it prints its only
 * output, the `listening` line, so that a kernel whose reader went away (`serve | true`, a closed
 * terminal, a full disk) keeps serving, as it does when its stderr log is closed, and stops as
 * its signals say. Any other command ends quietly on a closed pipe (EPIPE) with its exit code so
 * far, and with OUTPUT_FAILED on any other write error.
 */
export const stdoutFailures = { ignored: false };

/** The default challenge nonce of `envelope` and `handshake`: 16 random bytes as hex. */
function randomNonce(): string {
  return Buffer.from(globalThis.crypto.getRandomValues(new Uint8Array(16))).toString("hex");
}

/**
 * USAGE for an envelope of `size` bytes that an acceptor with the default maxEnvelopeBytes (every
 * `chio-trust accept` and `serve`) would refuse; `shorten` names what the user can cut.
 */
function refuseUnacceptedEnvelope(size: number, shorten: string): void {
  if (size > DEFAULT_MAX_ENVELOPE_BYTES) {
    throw new CliError("USAGE", `the envelope would be ${size} bytes, over the ${DEFAULT_MAX_ENVELOPE_BYTES} an acceptor takes: shorten ${shorten}`);
  }
}

/** Adds the options every kernel command shares. */
function kernelOptions(command: Command, store: "required" | "optional" | "none"): Command {
  command
    .requiredOption("--key <file>", "this kernel's seed file (from keygen)", filePath("--key"))
    .requiredOption("--id <kernelId>", "this kernel's id", kernelId("--id"))
    .option("--trust <id=publicKeyHex>", "a trust anchor (repeatable; id=hex,hex trusts either key while the peer rotates)", collect)
    .option("--skew <seconds>", "largest accepted clock skew (default 300)", integer("--skew", 0, 604_800))
    .option("--window <seconds>", "pin lifetime (default 43200)", integer("--window", 0, Number.MAX_SAFE_INTEGER))
    .option("--escape-del-c1", "sign and verify challenges with U+007F-U+009F escaped, as chio's older Rust kernels do (docs/protocol.md §3)");
  if (store === "required") command.requiredOption("--store <file>", "SQLite file for pins and replay nonces", storeFile);
  else if (store === "optional") command.option("--store <file>", "SQLite file for pins and replay nonces (default: in memory, lost on exit)", storeFile);
  return command;
}

/**
 * `value` as JSON text that a terminal can be given: JSON.stringify leaves DEL, the C1 controls
 * (U+0080–U+009F) and U+2028/U+2029 raw, and a kernel id may hold them (hunt 48: `peers` printed
 * them to the terminal as they were). Escaped as JSON escapes (\u0085) by displayPeerText, uncut:
 * the text parses to the same value.
 */
function jsonText(value: unknown): string {
  return displayPeerText(JSON.stringify(value), Infinity);
}

function printPeer(peer: { toJSON(): object }): void {
  process.stdout.write(jsonText(peer.toJSON()) + "\n");
}

/** Builds the program; `exit` receives the exit code of a finished command. */
export function buildProgram(exit: { code: number }): Command {
  const program = new Command("chio-trust")
    .description("Ed25519 keys, kernel trust handshakes (over HTTP too), pinned peers in SQLite, bulk signature verification")
    .version("0.1.0")
    .exitOverride()
    .configureOutput({ outputError: () => undefined }) // printed by main with its code
    .addHelpText("after", EXIT_CODES_HELP)
    .showHelpAfterError(false);

  program
    .command("keygen")
    .description("write a new Ed25519 seed file (mode 0600) and print its public key")
    .requiredOption("--out <file>", "where to write the seed (64 hex digits)", filePath("--out"))
    .option("--force", "replace an existing file")
    .addHelpText("after", EXIT_CODES_HELP)
    .action((options: { out: string; force?: boolean }) => {
      const { keypair, created } = writeKeyFile(options.out, options.force === true);
      // If the public key cannot be printed (OUTPUT_FAILED), the new file goes too, so that a
      // rerun needs no --force. A file --force replaced stays: the old key is gone either way.
      if (created !== undefined) {
        outputFailureCleanups.push(() => (removeCreatedKeyFile(options.out, created) ? `; ${options.out} was removed` : `; ${options.out} was kept`));
      }
      process.stdout.write(keypair.publicKey.toHex() + "\n");
    });

  kernelOptions(program.command("envelope"), "none")
    .description("print this kernel's signed envelope (JSON) addressed to a remote kernel")
    .requiredOption("--to <kernelId>", "the remote kernel's id", kernelId("--to"))
    .option("--nonce <text>", `the challenge nonce (default: 16 random bytes as hex); the printed envelope must fit in ${DEFAULT_MAX_ENVELOPE_BYTES} bytes`)
    .option("--now <unixSeconds>", "timestamp to sign (default: the clock)", integer("--now", 0, Number.MAX_SAFE_INTEGER))
    .addHelpText("after", EXIT_CODES_HELP)
    .action((options: KernelOptions & { to: string; nonce?: string }) => {
      const exchange = buildExchange(options);
      const nonce = options.nonce ?? randomNonce();
      const text = JSON.stringify(exchange.localEnvelope(options.to, nonce)) + "\n";
      // An acceptor with the default maxEnvelopeBytes (every `chio-trust accept` and `serve`)
      // refuses a larger envelope, counting the line break `accept` reads with it: refuse to
      // print one nobody would take.
      refuseUnacceptedEnvelope(Buffer.byteLength(text), options.nonce === undefined ? "the kernel ids" : `--nonce (${nonce.length} characters) or the kernel ids`);
      process.stdout.write(text);
    });

  kernelOptions(program.command("accept"), "required")
    .description("verify a remote kernel's envelope against the anchors (or its pin) and pin it into the store")
    .requiredOption("--from <kernelId>", "the kernel the envelope must come from", kernelId("--from"))
    .option("--in <file>", "read the envelope from this file (default: stdin)", filePath("--in"))
    .option("--now <unixSeconds>", "local time to check against (default: the clock)", integer("--now", 0, Number.MAX_SAFE_INTEGER))
    .option("--max-envelope <bytes>", "largest envelope accepted, its line break included (up to 16 MiB)", integer("--max-envelope", 1, MAX_ENVELOPE_BYTES_LIMIT), DEFAULT_MAX_ENVELOPE_BYTES)
    .addHelpText("after", EXIT_CODES_HELP)
    .action(async (options: KernelOptions & { from: string; in?: string; maxEnvelope: number }) => {
      // Everything that can be refused before the store is: a key file, an anchor or an input
      // that fails leaves no store file behind (as `peers` never creates one).
      const exchange = buildExchange(options);
      // One bound for the read and the exchange (as `serve --max-body`): input the exchange would
      // refuse as MALFORMED_ENVELOPE for its size is INPUT_TOO_LARGE while it arrives, before the
      // store is opened or created, and is never read whole.
      exchange.withHardening({ maxEnvelopeBytes: options.maxEnvelope });
      const envelope = await readInputBytes(options.in, options.maxEnvelope);
      // The envelope's own checks need no store (docs/protocol.md §5 step 1: its JSON, schema,
      // key and signature), so input that fails them (empty, not JSON, forged) is refused here,
      // with the error the accept gives, and creates no store file (CLI audit, 6 December 2026:
      // it did). The same call as the accept's first step on bytes; the accept below makes it
      // again, then what needs the store.
      const { maxEnvelopeBytes, rejectWeakKeys, escapeDelAndC1 } = exchange.hardening;
      readVerifiedEnvelopeFields(envelope, maxEnvelopeBytes, rejectWeakKeys, escapeDelAndC1);
      // No store file yet: the accept runs first on empty SQLite stores in memory, which answer
      // as an empty file would (acceptOnStoresInMemory), so a refusal creates no store file (helper 134's
      // walkthrough: one with no anchor left an empty store behind; hunt 16: so did one refused
      // by an anchor, for another addressee or a key the anchor does not hold); only an accept that
      // passes there opens (creates) the file and runs again on it. Only where the open would
      // create the file: any other store problem (no such folder, one this user cannot enter or
      // write, no driver) is still its own error, CANNOT_OPEN or SQLITE_UNAVAILABLE, never "not
      // trusted" (review of that change).
      if (await storeWouldBeCreated(options.store!)) await acceptOnStoresInMemory(exchange, envelope, options.from);
      const stores = await openStores(options.store);
      try {
        attachStores(exchange, stores);
        const peer = await exchange.acceptEnvelope(envelope, options.from);
        // Output that cannot be written does not undo the pin (the envelope's nonce is spent, and
        // a rerun is REPLAYED_NONCE): the error says so (review 67 F4).
        outputFailureCleanups.push(() => `; the pin of ${displayPeerText(peer.kernelId, 100)} was written to ${options.store} all the same`);
        printPeer(peer);
      } finally {
        stores.close();
      }
    });

  program
    .command("peers")
    .description("list pinned peers with their freshness")
    .requiredOption("--store <file>", "SQLite file", storeFile)
    .option("--json", "one JSON object per line")
    .option("--now <unixSeconds>", "judge freshness at this time (default: the clock)", integer("--now", 0, Number.MAX_SAFE_INTEGER))
    .addHelpText("after", EXIT_CODES_HELP)
    .action(async (options: { store: string; json?: boolean; now?: number }) => {
      await loadSqlite(); // SQLITE_UNAVAILABLE without the driver, as every store command
      // Listing never creates a store: a mistyped path is an error, not "0 pinned peers".
      if (!existsSync(options.store)) throw new CliError("CANNOT_OPEN", `${options.store} does not exist`);
      // Nor does it turn an empty file (a truncated store, a file named by mistake) into one, which
      // the store's open would claim and migrate (review 52): a store always has its header.
      refuseNonRegularStore(options.store); // /dev/null read as an empty store, and left /dev/null-journal (hunt 16)
      const file = statSync(options.store);
      if (file.isFile() && file.size === 0) {
        throw new CliError("NOT_A_DATABASE", `${options.store} is empty, not a chio-trust store (peers never creates one)`);
      }
      // Nor an SQLite database that is not one yet (one with a header but no tables and no
      // chio-trust id, which the open would claim just the same: CLI audit, 6 December 2026).
      if (file.isFile() && (await isUnclaimedSqliteFile(options.store))) {
        throw new CliError("NOT_A_DATABASE", `${options.store} is an SQLite database but not a chio-trust store (peers never creates one)`);
      }
      // Read without a write, whoever lists: a store this user cannot write failed the store's
      // open READ_ONLY, leaving a -wal and -shm a read-only connection cannot remove (hunt 54),
      // and one it can write was opened as a store, so a listing upgraded a file of an older
      // schema version (and, as the last connection, checkpointed a -wal it found: hunt 57).
      let records;
      try {
        const { readPeerRecordsReadOnly } = await import("../stores/sqlite/peer-store.js");
        records = readPeerRecordsReadOnly(options.store);
      } catch (error) {
        throw new CliError((error as { code?: string }).code ?? "STORE_UNAVAILABLE", (error as Error).message);
      }
      {
        const now = options.now ?? systemClockSeconds();
        for (const { peer, establishedVia, origin } of records) {
          const fresh = peer.isFresh(now);
          if (options.json) {
            process.stdout.write(jsonText({ ...peer.toJSON(), fresh, secondsLeft: Math.max(0, peer.rotationDue - now), establishedVia, origin }) + "\n");
          } else {
            const left = fresh ? `fresh, ${formatDuration(peer.rotationDue - now)} left` : `STALE since ${formatDuration(now - peer.rotationDue)}`;
            process.stdout.write(`${jsonText(peer.kernelId)}  ${peer.publicKey.toHex()}  established ${iso(peer.establishedAt)}  due ${iso(peer.rotationDue)}  ${left}\n`);
          }
        }
        if (!options.json) process.stdout.write(`${records.length} pinned peer${records.length === 1 ? "" : "s"}\n`);
      }
    });

  kernelOptions(program.command("serve"), "optional")
    .description("serve POST /federation/handshake until SIGINT, SIGTERM or SIGHUP; prints `listening <url>` when ready")
    .option("--host <address>", "address to listen on", nonEmpty("--host"), "127.0.0.1")
    .option("--port <port>", "port (0: one chosen by the OS)", integer("--port", 0, 65535), 0)
    .option("--max-body <bytes>", "largest request body, and largest envelope the exchange accepts", integer("--max-body", 1, MAX_ENVELOPE_BYTES_LIMIT), DEFAULT_MAX_ENVELOPE_BYTES)
    .option("--max-body-in-flight <bytes>", "bytes of request bodies arriving at once, across connections (default 64 MiB; at least --max-body)", integer("--max-body-in-flight", 1, Number.MAX_SAFE_INTEGER))
    .addHelpText("after", EXIT_CODES_HELP)
    .action(async (options: KernelOptions & { host: string; port: number; maxBody: number; maxBodyInFlight?: number }) => {
      const { createHandshakeServer } = await import("../http/server.js");
      if (options.maxBodyInFlight !== undefined && options.maxBodyInFlight < options.maxBody) {
        throw new CliError("USAGE", `--max-body-in-flight (${options.maxBodyInFlight}) must be at least --max-body (${options.maxBody})`);
      }
      const exchange = buildExchange(options); // before the store: a bad key or anchor creates none
      // The exchange refuses envelopes over its maxEnvelopeBytes (64 KiB by default) whatever the
      // server reads: one bound for both, or a larger --max-body would only cost memory.
      exchange.withHardening({ maxEnvelopeBytes: options.maxBody });
      const stores = await openStores(options.store);
      attachStores(exchange, stores).withEventHandler((event) => {
        if (event.type === "pinned") process.stderr.write(`pinned ${jsonText(event.kernelId)} ${event.peer.publicKey.toHex()}\n`);
      });
      const server = createHandshakeServer(exchange, {
        maxBodyBytes: options.maxBody,
        ...(options.maxBodyInFlight === undefined ? {} : { maxBodyBytesInFlight: options.maxBodyInFlight }),
        onRequestError: ({ status, code }) => process.stderr.write(`refused ${status} ${code}\n`),
      });
      await new Promise<void>((resolve, reject) => {
        const failed = (error: Error) => {
          // The store is closed (its -wal and -shm files go with it); a file it created stays, as
          // another process may have opened it meanwhile (CLI audit, 6 December 2026: all three stayed).
          stores.close();
          reject(new CliError("LISTEN_FAILED", `cannot listen on ${options.host}:${options.port}: ${error.message}`));
        };
        server.once("error", failed);
        server.listen(options.port, options.host, () => {
          // Once listening, a server error (an accept failing, say) is logged, never thrown: the
          // one-shot listener above would leave a second one without a listener, which would end
          // the process (review 67).
          server.off("error", failed);
          server.on("error", (error: Error) => process.stderr.write(`server error: ${displayPeerText(error.message, 200)}\n`));
          resolve();
        });
      });
      // The stop is armed before the `listening` line is printed: whoever waits for that line (a
      // supervisor, a test, the Quick start's script) and then stops the kernel at once found it
      // still without handlers, and the signal's default action ended it (status 143 for SIGTERM,
      // the store not closed, its -wal and -shm left behind; hunt 44: about half the time).
      const stopped = new Promise<NodeJS.Signals>((resolve) => {
        const stop = (signal: NodeJS.Signals) => {
          server.close(() => resolve(signal));
          server.closeAllConnections();
        };
        process.once("SIGINT", stop);
        process.once("SIGTERM", stop);
        // A closed terminal or a supervisor's SIGHUP: the same clean stop (the store's -wal and
        // -shm files go with it), where Node's default ended the process at once and left them
        // (CLI audit, 6 December 2026).
        process.once("SIGHUP", stop);
      });
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : options.port;
      const host = options.host.includes(":") ? `[${options.host}]` : options.host;
      // A reader that is gone (`serve | true`) costs the kernel this line, not its service: it
      // ended at once with exit 0 and its -wal and -shm left behind (CLI audit, 6 December 2026).
      // So does any other failed write (a closed terminal's EIO, a full disk's ENOSPC).
      stdoutFailures.ignored = true;
      const listening = `listening http://${host}:${port}`;
      process.stdout.write(`${listening}\n`, (error?: Error | null) => {
        // Whoever waits for this line (a supervisor, a script) would wait in vain: it goes to
        // stderr, the log, with the reason, rather than nowhere.
        if (error) process.stderr.write(`${listening} (on stderr: stdout failed with ${(error as NodeJS.ErrnoException).code ?? error.message})\n`);
      });
      const stoppedBy = await stopped;
      stores.close();
      // Then the process ends by that SIGHUP (status 129, as a hangup is expected to end it)
      // rather than by exit: after a terminal's hangup its tty answers EIO, and Node 20's exit
      // path, which restores the tty's settings, aborts on that (SIGABRT; review of the fix,
      // 6 December 2026). Its handler is spent, so the signal takes its default action now.
      if (stoppedBy === "SIGHUP") process.kill(process.pid, "SIGHUP");
    });

  kernelOptions(program.command("handshake"), "optional")
    .description("run the handshake with the kernel serving at <url>; both sides end with each other pinned")
    .argument("<url>", "the remote kernel's base URL (POST <url>/federation/handshake)")
    .requiredOption("--remote <kernelId>", "the remote kernel's id", kernelId("--remote"))
    .option("--timeout <ms>", "time for the HTTP exchange (the accept of the answer is bounded by its store)", integer("--timeout", 1, 3_600_000), 10_000)
    .addHelpText("after", EXIT_CODES_HELP)
    .action(async (url: string, options: KernelOptions & { remote: string; timeout: number }) => {
      const { handshakeUrl, handshakeAnswer } = await import("../http/client.js");
      handshakeUrl(url); // checked, like the key and anchors, before the store: a bad one creates none
      const exchange = buildExchange(options); // before the store: a bad key or anchor creates none
      // The request body is the envelope: one over what a `serve` with the default --max-body
      // reads is refused here, as `envelope` refuses to print it, not sent to come back as 413
      // (CLI audit, 6 December 2026). Signed once more by handshakeWith, under the same nonce.
      const nonce = randomNonce();
      refuseUnacceptedEnvelope(Buffer.byteLength(JSON.stringify(exchange.localEnvelope(options.remote, nonce))), "the kernel ids");
      // A store file that exists is opened first, so that one that cannot be opened stops the
      // handshake before the peer pins this kernel. One that does not exist yet is created only
      // once the answer is in and passes the accept on the in-memory stores (as `accept` does):
      // an unreachable or refusing peer leaves no empty store behind (hunt 16).
      const created = options.store !== undefined && (await storeWouldBeCreated(options.store));
      let stores = created ? undefined : await openStores(options.store);
      try {
        if (stores !== undefined) attachStores(exchange, stores);
        const { answer } = await handshakeAnswer(url, exchange, options.remote, { timeoutMs: options.timeout, nonce });
        if (stores === undefined) {
          await acceptOnStoresInMemory(exchange, answer, options.remote); // a refusal creates no file
          stores = await openStores(options.store);
          attachStores(exchange, stores);
        }
        const peer = await exchange.acceptEnvelope(answer, options.remote);
        // Both sides have pinned by now; output that cannot be written undoes neither (review 67 F4).
        outputFailureCleanups.push(() => `; the handshake completed: ${displayPeerText(peer.kernelId, 100)} is pinned${options.store === undefined ? " (in memory)" : ` in ${options.store}`}, and it pinned this kernel`);
        printPeer(peer);
      } finally {
        stores?.close();
      }
    });

  program
    .command("verify")
    .description("verify NDJSON items {message|messageText, signature, publicKey} (hex) from a file or stdin, in batches on worker threads")
    .argument("[file]", "input file (default or '-': stdin)")
    .option("--batch-size <n>", "items per batch sent to the worker pool", integer("--batch-size", 1, 1 << 20), 1024)
    .option("--threads <n>", "worker threads (default: the number of CPUs)", integer("--threads", 1, 256))
    .option("--json", "print the summary as JSON")
    .option("--zip215", "ZIP-215 rules instead of the default (dalek/OpenSSL) ones")
    .option("--max-report <n>", "failing lines listed", integer("--max-report", 0, 1 << 20), 20)
    .addOption(new Option("--progress", "show the progress bar even when stderr is not a terminal"))
    .addOption(new Option("--no-progress", "never show the progress bar"))
    .addHelpText("after", EXIT_CODES_HELP)
    .action(async (file: string | undefined, options: { batchSize: number; threads?: number; json?: boolean; zip215?: boolean; maxReport: number; progress?: boolean }) => {
      const { runVerify } = await import("./verify.js");
      exit.code = await runVerify(file, options);
    });

  program
    .command("bench")
    .description("measure sign, verify, canonical JSON, envelope and handshake throughput on this machine")
    .option("--seconds <s>", "time per case", decimal("--seconds", 0.01, 60), 1)
    .option("--json", "print JSON")
    .addHelpText("after", EXIT_CODES_HELP)
    .action(async (options: { seconds: number; json?: boolean }) => {
      const { runBench } = await import("./bench.js");
      await runBench(options.seconds, options.json === true);
    });

  refuseRepeatedOptions(program);
  return program;
}

/**
 * A single-valued option given twice is a usage error (commander keeps the last value silently:
 * `--key a.seed --key b.seed` signed with b, `--id` twice signed as the second id; review 67 F3),
 * and so are an option and its negation given together (`--progress --no-progress`: both set
 * one value, and the last won; review 69 F6). `--trust` is the one option meant to repeat.
 */
function refuseRepeatedOptions(program: Command): void {
  for (const command of [program, ...program.commands]) {
    // The first option given for each value (an option and its `--no-` form share one).
    const givenFor = new Map<string, string>();
    for (const option of command.options) {
      if (option.long === "--trust") continue;
      command.on(`option:${option.name()}`, () => {
        const value = option.attributeName();
        const first = givenFor.get(value);
        if (first === undefined) givenFor.set(value, option.flags);
        else if (first === option.flags) command.error(`option '${option.flags}' given twice`, { code: "commander.optionRepeated", exitCode: EXIT_USAGE });
        else command.error(`options '${first}' and '${option.flags}' cannot be given together`, { code: "commander.optionRepeated", exitCode: EXIT_USAGE });
      });
    }
  }
}

function iso(seconds: number): string {
  const ms = seconds * 1000;
  return Number.isFinite(ms) && ms <= 8.64e15 ? new Date(ms).toISOString().replace(".000Z", "Z") : `${seconds}`;
}

function formatDuration(seconds: number): string {
  if (seconds > 86_400 * 365 * 1000) return "more than 1000 years";
  const d = Math.floor(seconds / 86_400);
  const h = Math.floor((seconds % 86_400) / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  return d > 0 ? `${d}d ${h}h` : h > 0 ? `${h}h ${m}m` : `${m}m ${seconds % 60}s`;
}

/** Runs the CLI on `argv` (without node and script) and returns the exit code. Never throws. */
export async function runCli(argv: string[]): Promise<number> {
  const exit = { code: EXIT_OK };
  const program = buildProgram(exit);
  // `help help` is the program's help, as `--help` (the help lists `help [command]`; commander
  // takes it for no command: review 63 F6).
  // So are `help --help` and `help -h`. Any other option after `help` is unknown, refused as any
  // command's unknown option is, with nothing on stdout: commander printed the whole help on
  // stdout and then took the option for a command name ("unknown command '--bogus'").
  if (argv[0] === "help") {
    if (argv.length === 2 && (argv[1] === "help" || argv[1] === "--help" || argv[1] === "-h")) argv = ["--help"];
    const option = argv.slice(1).find((arg) => arg.length > 1 && arg.startsWith("-") && arg !== "--help" && arg !== "-h");
    if (option !== undefined) return reportError(new CommanderError(EXIT_USAGE, "commander.unknownOption", `unknown option '${option}'`));
  }
  try {
    await program.parseAsync(argv, { from: "user" });
    return exit.code;
  } catch (error) {
    // `help <name>` of a name that is no command shows the program's help, as no command does;
    // the error line names it, as `chio-trust <name>` does (review 59). `help <command>` ends the
    // same way after that command's help, and is no error (review 60 F2).
    const known = (name: string) => program.commands.some((c) => c.name() === name || c.aliases().includes(name));
    if (error instanceof CommanderError && error.code === "commander.help" && argv[0] === "help" && argv.length > 1 && !known(argv[1])) {
      return reportError(new CommanderError(1, "commander.unknownCommand", `unknown command '${argv[1]}'`));
    }
    return reportError(error);
  }
}

/** Prints `error` as the one line `chio-trust: error CODE: message` on stderr and returns its exit code. */
export function reportError(error: unknown): number {
  let code: string;
  let message: string;
  let status: number;
  if (error instanceof CommanderError) {
    if (error.exitCode === 0) return EXIT_OK; // --help, --version
    code = "USAGE";
    // "commander.help" is the program run without a command: commander printed the help on
    // stderr and its message is the internal "(outputHelp)".
    message = error.code === "commander.help"
      ? "no command given: name one of the commands listed above"
      : error.message.replace(/^error: /, "").replace(/\s*\n\s*/g, " "); // commander's hint lines, on the one line
    status = EXIT_USAGE;
  } else if (error instanceof CliError) {
    ({ code, message } = error);
    status = error.exitCode;
  } else if (error instanceof PeerHandshakeError) {
    ({ code, message } = error);
    status = EXIT_REFUSED;
  } else if (error instanceof HandshakeHttpError) {
    code = error.code;
    message = error.message;
    status = error.code === "INVALID_URL" ? EXIT_USAGE : EXIT_REFUSED;
  } else if (error instanceof Error && typeof (error as { code?: unknown }).code === "string") {
    // Typed errors of the library (INVALID_TYPE, INVALID_TIME, INVALID_CONFIG, SqliteStoreError ...).
    code = (error as Error & { code: string }).code;
    message = error.message;
    status = EXIT_USAGE;
  } else {
    code = "INTERNAL_ERROR";
    message = describeThrown(error);
    status = EXIT_USAGE;
  }
  // One line, whatever the message holds (a path, a server's text): control characters escaped.
  process.stderr.write(`chio-trust: error ${displayPeerText(code, 100)}: ${displayPeerText(message, 2000)}\n`);
  return status;
}
