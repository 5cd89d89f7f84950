// What the kernel commands share: key files, trust anchors, stores, and building the exchange.
import { randomBytes } from "node:crypto";
import { type Stats, accessSync, chmodSync, closeSync, constants, copyFileSync, existsSync, fchmodSync, fstatSync, fsyncSync, linkSync, lstatSync, openSync, readSync, readlinkSync, realpathSync, renameSync, rmSync, statSync, unlinkSync, writeSync } from "node:fs";
import { basename, dirname, join, resolve, sep } from "node:path";
import { KernelTrustExchange } from "../handshake/exchange.js";
import { Keypair, PublicKey } from "../handshake/keys.js";
import { MAX_ANCHOR_KEYS } from "../handshake/constants.js";
import type { FederationPeerStore, ReplayStore } from "../handshake/ports.js";
import { CliError } from "./errors.js";
import { sidecarStem } from "../stores/sqlite/sidecar-files.js";
import { displayPeerText } from "../handshake/errors.js";
import { equalBytes, wipeBytes } from "../bytes.js";
import { ed25519 } from "../ed25519.js";

/** Options every kernel command accepts. */
export interface KernelOptions {
  key: string;
  id: string;
  trust?: string[];
  store?: string;
  skew?: number;
  window?: number;
  now?: number;
  /** --escape-del-c1: the exchange's hardening escapeDelAndC1 (docs/protocol.md §3). */
  escapeDelC1?: boolean;
}

/** KEY_FILE_NOT_REGULAR if `target` (the file --force would replace) exists and is not a regular file. */
function refuseNonRegular(target: string, path: string): void {
  let stats;
  try {
    stats = lstatSync(target);
  } catch {
    return; // nothing there yet
  }
  // A symbolic link here is a dangling one (realpath resolved the others): replaced, as before.
  if (!stats.isFile() && !stats.isSymbolicLink()) {
    throw new CliError("KEY_FILE_NOT_REGULAR", `${path} is not a regular file (${fileKind(stats)}): --force replaces key files only`);
  }
}

/** What is at an --out path that exists: a file --force may replace, or something it never replaces. */
function existsError(path: string): CliError {
  try {
    let stats = lstatSync(path);
    if (stats.isSymbolicLink()) {
      try {
        stats = statSync(path); // what --force would replace
      } catch {
        return new CliError("KEY_FILE_EXISTS", `${path} exists (use --force to replace it)`); // dangling
      }
    }
    if (!stats.isFile()) {
      return new CliError("KEY_FILE_NOT_REGULAR", `${path} exists and is not a regular file (${fileKind(stats)}): choose another --out`);
    }
  } catch {
    // gone again: the plain refusal below
  }
  return new CliError("KEY_FILE_EXISTS", `${path} exists (use --force to replace it)`);
}

function fileKind(stats: Stats): string {
  if (stats.isFIFO()) return "a named pipe";
  if (stats.isSocket()) return "a socket";
  if (stats.isCharacterDevice()) return "a character device";
  if (stats.isBlockDevice()) return "a block device";
  if (stats.isDirectory()) return "a directory";
  if (stats.isSymbolicLink()) return "a symbolic link";
  return "not a regular file";
}

/**
 * Writes a fresh seed (64 hex digits and a newline) with mode 0600; refuses to overwrite unless
 * `force`. The seed goes to a new temporary file beside `path` first (created exclusively, written,
 * flushed to disk), which then takes the name: renamed over `path` with `force`, else linked to it
 * (which fails if `path` exists, so an existing key is never replaced by accident). A write that
 * fails (a full disk) leaves `path` as it was, the old key included. `created`: the identity of
 * the file this call created at `path` (not with `force`, which replaced one), for
 * removeCreatedKeyFile. `force` replaces a regular file only (KEY_FILE_NOT_REGULAR otherwise).
 */
export function writeKeyFile(path: string, force: boolean): { keypair: Keypair; created?: { dev: number; ino: number } } {
  const keypair = Keypair.generate();
  try {
    return withTerminatingSignalsHeld(() => writeKeyFileOf(keypair, path, force));
  } catch (error) {
    keypair.destroy(); // its seed, wiped on every failure (review 73 F8)
    throw error;
  }
}

/** The signals that end a CLI run by default: a terminal's Ctrl-C, a supervisor's stop, a closed terminal. */
const TERMINATING_SIGNALS = ["SIGINT", "SIGTERM", "SIGHUP"] as const;

/**
 * Runs the synchronous `work` with TERMINATING_SIGNALS held. Without a listener the kernel ends
 * the process at once, in the middle of the key file's write: its temporary file, often holding
 * the whole seed, stayed beside --out with nothing to remove it (hunt 16). With one, Node takes
 * the signal on its event loop, which runs only once `work` (and its cleanup) is done: the write
 * finishes or fails whole. The listener then removes itself and raises the signal again, so the
 * run ends by it (exit status 128 + its number) unless the command has ended first (keygen
 * prints the public key and exits within the same turns: measured, it usually has, and the
 * signal is then dropped with the key written, as if it had come a moment later). A
 * listener is removed on the loop's second turn if no signal came. SIGKILL cannot be held: the
 * one way a temporary seed file can still be left behind.
 */
function withTerminatingSignalsHeld<T>(work: () => T): T {
  const release = () => {
    for (const signal of TERMINATING_SIGNALS) process.removeListener(signal, raiseAgain);
  };
  const raiseAgain = (signal: NodeJS.Signals) => {
    release();
    process.kill(process.pid, signal);
  };
  for (const signal of TERMINATING_SIGNALS) process.on(signal, raiseAgain);
  try {
    return work();
  } finally {
    // Not at once: a signal that came during `work` waits for the event loop's poll phase, and
    // removing the listener first would drop it. Two turns: if `work` ran inside an I/O callback,
    // this turn's poll phase is past, and only the next one's comes before its check phase.
    setImmediate(() => setImmediate(release));
  }
}

/** The longest key file name (UTF-8 bytes) its temporary file is named after: 200 + 19 fits in NAME_MAX (255). */
const TEMPORARY_STEM_MAX_BYTES = 200;

/** writeKeyFile's work for `keypair` (which writeKeyFile destroys if this throws). */
function writeKeyFileOf(keypair: Keypair, path: string, force: boolean): { keypair: Keypair; created?: { dev: number; ino: number } } {
  // A name ending in a slash names a folder (POSIX: ENOTDIR for a file there). The file's name was
  // taken without it: `--out a.seed/ --force` replaced the file a.seed, and without --force the
  // message named the hidden temporary file (hunt 44).
  if (path.endsWith("/") || (sep === "\\" && path.endsWith("\\"))) {
    throw new CliError("KEY_FILE_UNWRITABLE", `cannot write ${path}: a key file's name cannot end with a path separator (it names a folder)`);
  }
  // --force through a symlink replaces the file it points to (as writing through it did), not the link.
  let target = path;
  if (force) {
    try {
      target = realpathSync(path);
    } catch {
      // no file yet (or a dangling link): write at `path`
    }
  }
  // --force replaces a key file, nothing else: renaming over a named pipe, a socket or a device
  // node (/dev/null, say, which the refusal without --force invited) destroyed it (review 67 F1).
  // Checked before the seed is written and again right before the rename.
  if (force) refuseNonRegular(target, path);
  // Named after the key file while that keeps it within the 255 bytes a file name may have on
  // common file systems (the name, plus 19): a legal --out of 238 to 255 bytes was refused
  // KEY_FILE_UNWRITABLE, ENAMETOOLONG for the temporary file (hunt 44).
  const name = basename(target);
  const temporary = join(dirname(target), `.${Buffer.byteLength(name) <= TEMPORARY_STEM_MAX_BYTES ? name : "key"}.${randomBytes(6).toString("hex")}.tmp`);
  const unwritable = (error: unknown) => new CliError("KEY_FILE_UNWRITABLE", `cannot write ${path}: ${keyWriteErrorReason(error, path)}`);
  let fd: number;
  try {
    fd = openSync(temporary, "wx", 0o600);
  } catch (error) {
    throw unwritable(error);
  }
  let published = false;
  let seed: Uint8Array | undefined;
  try {
    try {
      fchmodSync(fd, 0o600); // the umask may have narrowed it further; never wider
      seed = keypair.seedBytes(); // taken only now, and zeroed below on every path
      // The hex written digit by digit into an unpooled buffer (Buffer.from copies a short array
      // into Node's shared pool, where it stayed after the keypair was destroyed; review 70 F2).
      const text = seedToHexLine(seed);
      try {
        for (let at = 0; at < text.length; ) at += writeSync(fd, text, at);
      } finally {
        wipeBytes(text);
      }
      fsyncSync(fd);
    } finally {
      if (seed !== undefined) wipeBytes(seed);
      closeSync(fd);
    }
    if (force) {
      refuseNonRegular(target, path);
      renameSync(temporary, target);
      published = true;
    } else {
      try {
        linkSync(temporary, path);
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (code === "EEXIST") throw existsError(path);
        if (code !== "EPERM" && code !== "ENOTSUP" && code !== "EOPNOTSUPP" && code !== "ENOSYS" && code !== "EXDEV") throw error;
        // A file system without hard links (FAT, exFAT, some SMB and FUSE mounts): copy, which
        // still refuses an existing file (COPYFILE_EXCL), though a failed copy can leave it partial.
        try {
          copyFileSync(temporary, path, constants.COPYFILE_EXCL);
        } catch (copyError) {
          if ((copyError as NodeJS.ErrnoException).code === "EEXIST") throw existsError(path);
          throw copyError;
        }
        chmodSync(path, 0o600);
      }
    }
  } catch (error) {
    throw error instanceof CliError ? error : unwritable(error);
  } finally {
    if (!published) rmSync(temporary, { force: true });
  }
  if (force) return { keypair };
  let created: { dev: number; ino: number } | undefined;
  try {
    const { dev, ino } = lstatSync(path);
    created = { dev, ino };
  } catch {
    // gone already: nothing of ours to undo
  }
  return { keypair, created };
}

/**
 * Why writing the key file at `path` failed: Node's message without the names it ends with, which
 * are the hidden temporary file's (`ENOENT: no such file or directory, open 'nodir/.x.seed.<hex>.tmp'`
 * for a folder that does not exist), never given by the user; the folder named instead where it is
 * the reason.
 */
function keyWriteErrorReason(error: unknown, path: string): string {
  const { message, syscall, code } = error as NodeJS.ErrnoException;
  const at = typeof syscall === "string" ? message.indexOf(`, ${syscall}`) : -1;
  const reason = at < 0 ? message : message.slice(0, at);
  const folder = dirname(path);
  if (code === "ENOENT" && !existsSync(folder)) return `${reason} (the folder ${folder} does not exist)`;
  if (code === "ENOTDIR") return `${reason} (${folder} is not a folder)`;
  return reason;
}

/**
 * Removes the key file writeKeyFile created at `path` if it is still that file (same device and
 * inode): `keygen` undoes its write when the public key cannot be printed, so that a rerun needs
 * no --force. Returns whether it removed it.
 */
export function removeCreatedKeyFile(path: string, created: { dev: number; ino: number }): boolean {
  try {
    const now = lstatSync(path);
    if (now.dev !== created.dev || now.ino !== created.ino) return false;
    unlinkSync(path);
    return true;
  } catch {
    return false;
  }
}

/** Bytes a seed file may hold: 64 hex digits, a line break and some whitespace. Larger files are refused unread. */
const KEY_FILE_MAX_BYTES = 1024;
/** How long a key given as a pipe may take to arrive. */
const KEY_PIPE_WAIT_MS = 10_000;
/** For short synchronous pauses while a key pipe fills. */
const PAUSE = new Int32Array(new SharedArrayBuffer(4));

/**
 * Reads a seed file written by keygen; refuses files other users can read (as ssh does), and
 * anything but a regular file or a pipe of at most KEY_FILE_MAX_BYTES: a directory, a device or a
 * huge file are KEY_FILE_UNREADABLE or KEY_FILE_INVALID, never a read of the whole thing; a pipe
 * is opened without waiting for a writer and read for at most KEY_PIPE_WAIT_MS, never a hang.
 */
export function readKeyFile(path: string): Keypair {
  const shown = keyFileShown(path);
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0));
  } catch (error) {
    throw new CliError("KEY_FILE_UNREADABLE", `cannot read ${shown}: ${fileErrorReason(error, shown !== path)}`);
  }
  let seed: Uint8Array;
  try {
    const stat = fstatSync(fd);
    // A pipe (`--key <(vault read …)`, /dev/stdin) is read for at most KEY_PIPE_WAIT_MS; a
    // directory, a device or a socket is refused.
    const pipe = stat.isFIFO();
    if (!stat.isFile() && !pipe) throw new CliError("KEY_FILE_UNREADABLE", `cannot read ${shown}: not a regular file or a pipe`);
    if (process.platform !== "win32" && (stat.mode & 0o077) !== 0) {
      throw new CliError("KEY_FILE_PERMISSIONS", `${shown} is readable by others (mode ${(stat.mode & 0o777).toString(8)}); chmod 600 it`);
    }
    const buffer = Buffer.alloc(KEY_FILE_MAX_BYTES + 1);
    try {
      seed = seedFromKeyFile(buffer, readKeyFileBytes(fd, pipe, shown, buffer), shown);
    } finally {
      wipeBytes(buffer); // on every path: a read that failed partway may hold part of the seed (review 70 F4)
    }
  } finally {
    closeSync(fd);
  }
  try {
    return Keypair.fromSeed(seed);
  } finally {
    wipeBytes(seed);
  }
}

/**
 * How messages name the --key value `path`: as given, unless it looks like a seed itself (64 hex
 * digits, with a 0x or whitespace around them), the seed pasted where its file's name belongs:
 * that one is described by its length, as --trust describes a bad key, and not shown (hunt 16:
 * the message showed it twice, once in Node's own text, on stderr and in CI logs).
 */
function keyFileShown(path: string): string {
  return /^\s*(0x)?[0-9a-fA-F]{64}\s*$/.test(path) ? `the --key value (${path.length} characters, which look like a seed in hex where its file's name belongs; the value is not shown)` : path;
}

/** Why a file operation failed: Node's message, which names the path, or only its code where the path is not to be shown. */
function fileErrorReason(error: unknown, hidePath: boolean): string {
  const code = (error as NodeJS.ErrnoException)?.code;
  if (!hidePath) return (error as Error).message;
  return typeof code === "string" ? code : "the file cannot be opened";
}

/** Reads a key file into `buffer` (at most its length); the byte count. `path` is for messages only (keyFileShown). */
function readKeyFileBytes(fd: number, pipe: boolean, path: string, buffer: Buffer): number {
    // An anonymous pipe (`--key <(vault read …)`) had its writer when it was made: an end before
    // any byte is that writer gone without writing, an empty key at once, not a writer yet to come
    // as for a named pipe (it waited the 10 s for "nothing arrived": isAnonymousPipe).
    const waitsForWriter = pipe && !isAnonymousPipe(fd);
    let length = 0;
    const giveUpAt = Date.now() + KEY_PIPE_WAIT_MS;
    for (;;) {
      let n: number;
      try {
        n = readSync(fd, buffer, length, buffer.length - length, null);
      } catch (error) {
        // A pipe opened without blocking says EAGAIN until its writer has written.
        if (!pipe || (error as NodeJS.ErrnoException).code !== "EAGAIN") throw new CliError("KEY_FILE_UNREADABLE", `cannot read ${path}: ${(error as Error).message}`); // a read's message names no path
        n = -1;
      }
      // Nothing yet: EAGAIN, or the end a named pipe reads as before its writer opens it (review 52:
      // refused at once, and the writer then blocked for good). A pipe waits for its first byte.
      if (n < 0 || (n === 0 && waitsForWriter && length === 0)) {
        if (Date.now() > giveUpAt) {
          // Some bytes but no seed line and no end (a writer that sent the 64 digits alone and
          // kept its end open): the message says what is missing, not that nothing came.
          const missing = length === 0 ? "nothing arrived" : `${length} bytes arrived, but not a seed line (64 hex digits and a line break), and the input did not end`;
          throw new CliError("KEY_FILE_UNREADABLE", `cannot read ${path}: ${missing} within ${KEY_PIPE_WAIT_MS} ms`);
        }
        Atomics.wait(PAUSE, 0, 0, 10);
        continue;
      }
      if (n === 0 || (length += n) >= buffer.length) break;
      // A writer that sends the seed line and keeps its end open (review 52: read until the wait
      // ran out, then refused as "nothing arrived"): a line break after 64 characters ends it.
      if (pipe && length >= 65 && buffer.subarray(0, length).includes(0x0a)) break;
    }
    if (length > KEY_FILE_MAX_BYTES) {
      throw new CliError("KEY_FILE_INVALID", `${path} does not hold a 32-byte seed as 64 hex digits (it is over ${KEY_FILE_MAX_BYTES} bytes)`);
    }
    return length;
}

/**
 * The 32-byte seed a key file's bytes spell: 64 hex digits (either case), with ASCII whitespace
 * and a UTF-8 byte-order mark around them allowed. Decoded without a branch or a table index on
 * a digit's value (a digit's class and value come from masks), and without a JS string of it
 * (one could not be wiped): only the final "all 64 were hex digits" answer is branched on
 * (review 70 F4).
 */
function seedFromKeyFile(bytes: Uint8Array, length: number, path: string): Uint8Array {
  let start = 0;
  let end = length;
  if (end >= 3 && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) start = 3;
  while (start < end && isAsciiSpace(bytes[start])) start++;
  while (end > start && isAsciiSpace(bytes[end - 1])) end--;
  const invalid = () => new CliError("KEY_FILE_INVALID", `${path} does not hold a 32-byte seed as 64 hex digits`);
  if (end - start !== 64) throw invalid();
  const seed = new Uint8Array(32);
  let bad = 0;
  for (let i = 0; i < 32; i++) {
    const high = hexDigitValue(bytes[start + 2 * i]);
    const low = hexDigitValue(bytes[start + 2 * i + 1]);
    bad |= (high | low) & 0x100;
    seed[i] = ((high << 4) | low) & 0xff;
  }
  if (bad !== 0) {
    wipeBytes(seed);
    throw invalid();
  }
  return seed;
}

/** Space, tab, line feed, vertical tab, form feed, carriage return (what trim() removes of ASCII). */
function isAsciiSpace(byte: number): boolean {
  return byte === 0x20 || (byte >= 0x09 && byte <= 0x0d);
}

/**
 * The value of the ASCII hex digit `c` (0-15), or 0x100 set for anything else, computed with
 * masks only: `x >> 31` is -1 exactly when x is negative, so `~((c - lo) | (hi - c)) >> 31` is
 * -1 exactly when lo <= c <= hi.
 */
function hexDigitValue(c: number): number {
  const lower = c | 0x20; // 'A'-'F' to 'a'-'f'
  const digit = ~(((c - 0x30) | (0x39 - c)) >> 31); // -1 for '0'-'9', else 0
  const letter = ~(((lower - 0x61) | (0x66 - lower)) >> 31); // -1 for 'a'-'f' and 'A'-'F
  return (digit & (c - 0x30)) | (letter & (lower - 0x57)) | (~(digit | letter) & 0x100);
}

/** `seed` as 64 lowercase hex digits and a line feed, in an unpooled buffer, digit by digit with no table or branch on a nibble. */
function seedToHexLine(seed: Uint8Array): Buffer {
  const text = Buffer.alloc(2 * seed.length + 1); // alloc, not allocUnsafe: never from the shared pool
  for (let i = 0; i < seed.length; i++) {
    text[2 * i] = hexDigitCode(seed[i] >> 4);
    text[2 * i + 1] = hexDigitCode(seed[i] & 15);
  }
  text[2 * seed.length] = 0x0a;
  return text;
}

/** The lowercase ASCII hex digit of the nibble n: '0' + n, plus 39 more ('a' - '0' - 10) when n > 9, by a mask. */
function hexDigitCode(n: number): number {
  return 0x30 + n + ((9 - n) >> 31 & 39);
}

/**
 * `--trust ID=HEX` values as anchors; `--trust ID=HEX,HEX` trusts either key (a peer rotating its
 * key: KernelTrustExchange.withTrustedPeer, up to MAX_ANCHOR_KEYS).
 */
export function parseAnchors(values: string[] | undefined): [string, PublicKey[]][] {
  const anchors = (values ?? []).map((value): [string, PublicKey[]] => {
    const at = value.lastIndexOf("=");
    // The value is not shown (a seed given as `--trust SEEDHEX` would be printed): its length only.
    if (at <= 0) throw new CliError("INVALID_TRUST_ANCHOR", `--trust wants ID=PUBLICKEYHEX[,PUBLICKEYHEX]..., got ${value.length} characters with no ID= before them`);
    const hexes = value.slice(at + 1).split(",");
    if (hexes.length > MAX_ANCHOR_KEYS) {
      throw new CliError("INVALID_TRUST_ANCHOR", `--trust ${displayPeerText(value.slice(0, at), 100)} lists ${hexes.length} keys; at most ${MAX_ANCHOR_KEYS}`);
    }
    return [
      value.slice(0, at),
      hexes.map((hex, k) => {
        try {
          return PublicKey.fromHex(hex);
        } catch (error) {
          // Not the library's message, which repeats the value: a seed pasted here by mistake (64
          // hex digits, as a key's) would be printed to the terminal and the logs (CLI audit,
          // 6 December 2026). Its length and the kind of error are enough to find the slip.
          const why = error instanceof Error ? error.name : "Error";
          throw new CliError(
            "INVALID_TRUST_ANCHOR",
            `--trust ${displayPeerText(value.slice(0, at), 100)}: key ${k + 1} of ${hexes.length} (${hex.length} characters) is not an Ed25519 public key in hex (${why}); the value is not shown`,
          );
        }
      }),
    ];
  });
  // Two values for one id: the later would replace the earlier silently (a stale entry appended by
  // a wrapper script decided which key was pinned; review 67 F3). The same keys twice are harmless
  // (compared as sets: repeats within a value are dropped by withTrustedPeer), but the order of a
  // rotation's keys matters (oldest first: withTrustedPeer), so a value in another order differs.
  const byId = new Map<string, string>();
  for (const [id, keys] of anchors) {
    const text = [...new Set(keys.map((key) => key.toHex()))].join(",");
    const earlier = byId.get(id);
    if (earlier !== undefined && earlier !== text) {
      throw new CliError("INVALID_TRUST_ANCHOR", `--trust ${displayPeerText(id, 100)} is given twice with different keys`);
    }
    byId.set(id, text);
  }
  return anchors;
}

/** Stores on `--store FILE` (SQLite, loaded only when asked for) or, without it, in memory. */
export async function openStores(file: string | undefined): Promise<{ store?: FederationPeerStore; replay?: ReplayStore; close(): void }> {
  if (file === undefined) return { close() {} };
  const sqlite = await loadSqlite();
  refuseNonRegularStore(file);
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

/**
 * Whether openStores(file) would create the SQLite store: the driver loads, nothing (not even a
 * dangling link) is at that path, and its folder exists and this process may write in it.
 * @throws CliError SQLITE_UNAVAILABLE, as openStores does, when the driver is missing.
 */
export async function storeWouldBeCreated(file: string): Promise<boolean> {
  await loadSqlite();
  try {
    // A dangling link counts as nothing there: SQLite opens through it and creates its target
    // (hunt 16: an accept refused for want of an anchor left that file behind).
    const created = pathCreatedAt(file);
    if (created === undefined) return false;
    const folder = dirname(created);
    if (!statSync(folder).isDirectory()) return false;
    accessSync(folder, constants.W_OK | constants.X_OK);
    return true;
  } catch {
    return false; // ENOTDIR, EACCES, ELOOP…: the open reports it
  }
}

/**
 * Where an open of `file` would create a file: `file` itself when nothing is there, the end of
 * its chain of symbolic links when that chain dangles; undefined when something is there (or the
 * chain loops: the open reports that).
 */
function pathCreatedAt(file: string): string | undefined {
  let path = file;
  for (let hops = 0; hops < 40; hops++) {
    const entry = lstatSync(path, { throwIfNoEntry: false });
    if (entry === undefined) return path;
    if (!entry.isSymbolicLink()) return undefined;
    path = resolve(dirname(path), readlinkSync(path));
  }
  return undefined;
}

/**
 * CANNOT_OPEN for a --store that exists and is not a regular file (through its links): SQLite
 * opened /dev/null as an empty database and, as root, left /dev/null-journal beside it (hunt 16).
 */
export function refuseNonRegularStore(file: string): void {
  let stats: Stats | undefined;
  try {
    stats = statSync(file, { throwIfNoEntry: false });
  } catch {
    return; // ENOTDIR, EACCES, ELOOP…: the open reports it
  }
  if (stats !== undefined && !stats.isFile()) throw new CliError("CANNOT_OPEN", `${file} is not a regular file (${fileKind(stats)}), so not a store`);
}

/** Whether better-sqlite3's native addon was seen to load (checked once per process). */
let sqliteAddonLoads = false;

export async function loadSqlite(): Promise<typeof import("../stores/sqlite/index.js")> {
  let store: typeof import("../stores/sqlite/index.js");
  try {
    store = await import("../stores/sqlite/index.js");
  } catch (error) {
    throw new CliError("SQLITE_UNAVAILABLE", `the SQLite store needs better-sqlite3 12.x (npm install better-sqlite3@12): ${(error as Error).message}`);
  }
  // The package can be there without its native addon (installed with its install script not
  // run, --ignore-scripts or an npm that holds scripts back; built for another Node): it loads
  // the addon on the first open only, so every store command failed CANNOT_OPEN "cannot open
  // <DB>: Could not locate the bindings file. Tried: …", blaming the file (`accept` named
  // ":memory:", its dry run) for what the driver lacks (hunt 38).
  if (!sqliteAddonLoads) {
    try {
      const { default: Database } = await import("better-sqlite3");
      new Database(":memory:").close();
      sqliteAddonLoads = true;
    } catch (error) {
      const first = String((error as Error)?.message ?? error).split("\n")[0];
      throw new CliError("SQLITE_UNAVAILABLE", `better-sqlite3 is installed but its native addon does not load (npm rebuild better-sqlite3, with its install script allowed to run): ${first}`);
    }
  }
  return store;
}

/** The first bytes of every SQLite database file (https://www.sqlite.org/fileformat2.html §1.3). */
const SQLITE_MAGIC = "SQLite format 3\0";

/**
 * Whether the existing SQLite `file` is not yet a chio-trust store: an SQLite database with no
 * tables and no application id, which a store's open would claim and migrate. False for anything
 * else (a store, another application's database, a file that is not SQLite), whose store open
 * then says what it is.
 *
 * Decided from the file's header (fileformat2 §1.3: the application id at offset 68; §1.6: page 1,
 * the root of sqlite_schema, is a leaf table page with no cells when the database holds nothing),
 * so that nothing is created beside a file that is refused: a read-only SQLite connection to a
 * database in WAL mode creates its -wal and -shm files and cannot remove them (CLI audit review,
 * 6 December 2026). The header is the database's own only while no -wal or -journal lies beside
 * it (a live store's first pages can still be in its log): then SQLite itself is asked, read-only,
 * and finds the log it needs already there.
 */
export async function isUnclaimedSqliteFile(file: string): Promise<boolean> {
  // Named after the file the links resolve to, as SQLite names them: after `file` itself, a store
  // given through a link was read by its header alone while a writer held its log, and a new
  // store's tables, all in the log, made it NOT_A_DATABASE "not a chio-trust store" (hunt 57).
  const sidecar = sidecarStem(file);
  // A -wal without its -shm: a read-only connection would create the -shm (hunt 54); the store's open says what the file is.
  if (existsSync(`${sidecar}-wal`) && !existsSync(`${sidecar}-shm`)) return false;
  if (existsSync(`${sidecar}-wal`)) return unclaimedPerSqlite(file, true);
  if (existsSync(`${sidecar}-journal`)) return unclaimedPerSqlite(file, false);
  const header = Buffer.alloc(108);
  let read = 0;
  try {
    const fd = openSync(file, "r");
    try {
      read = readSync(fd, header, 0, header.length, 0);
    } finally {
      closeSync(fd);
    }
  } catch {
    return false;
  }
  if (read < header.length || header.toString("latin1", 0, 16) !== SQLITE_MAGIC) return false;
  if (header.readUInt32BE(68) !== 0) return false; // ours or another application's
  return header[100] === 0x0d && header.readUInt16BE(103) === 0;
}

/**
 * isUnclaimedSqliteFile's answer from a read-only SQLite connection; false when it cannot read the
 * file. With a -wal (`wal`), read as `peers` reads a store (readSqliteReadOnly): a connection of
 * its own made a new -wal and -shm, and left them, when the writer holding the file closed it
 * between the look for the -wal and the open (hunt 57).
 */
async function unclaimedPerSqlite(file: string, wal: boolean): Promise<boolean> {
  await loadSqlite(); // SQLITE_UNAVAILABLE without the driver, as every store command
  const { default: Database } = await import("better-sqlite3");
  const { databaseIdentity, readSqliteReadOnly } = await import("../stores/sqlite/schema.js");
  if (wal) {
    try {
      const { applicationId, objects } = readSqliteReadOnly(file, databaseIdentity);
      return applicationId === 0 && objects === 0; // another application's database is the store's to name (FOREIGN_DATABASE)
    } catch {
      return false;
    }
  }
  let db;
  try {
    db = new Database(file, { readonly: true, fileMustExist: true });
    const { applicationId, objects } = databaseIdentity(db);
    return applicationId === 0 && objects === 0; // another application's database is the store's to name (FOREIGN_DATABASE)
  } catch {
    return false;
  } finally {
    db?.close();
  }
}

/**
 * The exchange for the local kernel named by the common options, with its in-memory stores:
 * reads and checks the key file, parses the anchors and applies the settings. Commands with a
 * --store call this BEFORE openStores (then attachStores), so a bad key file or anchor is refused
 * with no store file created.
 */
export function buildExchange(options: KernelOptions): KernelTrustExchange {
  const exchange = new KernelTrustExchange(options.id, readKeyFile(options.key));
  if (options.skew !== undefined) exchange.withConfig({ maxHandshakeSkewSecs: options.skew });
  if (options.window !== undefined) exchange.withConfig({ rotationWindowSecs: options.window });
  // Both ways: this kernel's envelopes are signed over the escaped bytes, and the peer's are
  // verified over them (review 92 F3: a kernel run from the CLI could not speak to one of
  // chio's older Rust kernels when an id or nonce held U+007F-U+009F).
  if (options.escapeDelC1 === true) exchange.withHardening({ escapeDelAndC1: true });
  const ownPublicKey = exchange.localPublicKey.toBytes();
  for (const [id, keys] of parseAnchors(options.trust)) {
    refuseOwnSeedAsAnchor(id, keys, ownPublicKey);
    exchange.withTrustedPeer(id, keys);
  }
  if (options.now !== undefined) {
    const now = options.now;
    exchange.withClock(() => now);
  }
  return exchange;
}

/**
 * INVALID_TRUST_ANCHOR for a --trust key that is this kernel's own seed (the --key file's 64 hex
 * digits pasted where `keygen`'s printed public key belongs). parseAnchors refuses a seed that is
 * not a curve point, about half of them; one that is would be taken as an anchor that no peer
 * can match, with the seed on the command line (helper 134's walkthrough). Recognised by the
 * public key it derives; the value is not shown.
 */
function refuseOwnSeedAsAnchor(id: string, keys: readonly PublicKey[], ownPublicKey: Uint8Array): void {
  for (let k = 0; k < keys.length; k++) {
    const candidate = keys[k].toBytes();
    const derived = ed25519.getPublicKey(candidate);
    wipeBytes(candidate);
    // Public keys on both sides: no secret reaches the comparison.
    if (equalBytes(derived, ownPublicKey)) {
      throw new CliError("INVALID_TRUST_ANCHOR", `--trust ${displayPeerText(id, 100)}: key ${k + 1} of ${keys.length} is this kernel's own seed (--key), not a public key; the value is not shown`);
    }
  }
}

/**
 * The accept of `envelope` from `from` on empty SQLite stores in memory (":memory:"), made before
 * `accept` or `handshake` creates a store file, which they then do only for an accept that passes
 * here. The SQLite stores' own, so that it refuses what the new file's stores would refuse, not
 * only what the exchange's in-memory ones do: an `accept --now` past the replay store's retention
 * passed the in-memory replay cache, created the file, and was then refused by the file's store
 * (PAST_RETENTION_ON_HOST_CLOCK), leaving the new file behind (hunt 25). The exchange is left
 * with these stores closed: attachStores gives it the file's next.
 */
export async function acceptOnStoresInMemory(exchange: KernelTrustExchange, envelope: Uint8Array | string, from: string): Promise<void> {
  const sqlite = await loadSqlite();
  const store = new sqlite.SqlitePeerStore(":memory:", { origin: "chio-trust cli" });
  try {
    const replay = new sqlite.SqliteReplayStore(":memory:");
    try {
      await attachStores(exchange, { store, replay }).acceptEnvelope(envelope, from);
    } finally {
      replay.close();
    }
  } finally {
    store.close();
  }
}

/** Gives `exchange` the stores openStores opened (none: it keeps its in-memory ones). */
export function attachStores(exchange: KernelTrustExchange, stores: { store?: FederationPeerStore; replay?: ReplayStore }): KernelTrustExchange {
  if (stores.store) exchange.withStore(stores.store);
  if (stores.replay) exchange.withReplayStore(stores.replay);
  return exchange;
}

/** How long an input file that is a pipe may take to deliver its first byte (as a key pipe: KEY_PIPE_WAIT_MS). */
const INPUT_PIPE_WAIT_MS = KEY_PIPE_WAIT_MS;

/**
 * The bytes of `source` (a file; stdin for undefined or "-"), at most `limit` (INPUT_TOO_LARGE
 * past it). Bytes, not text: an envelope goes to acceptEnvelope as the bytes that arrived, so
 * invalid UTF-8 is refused (MALFORMED_ENVELOPE, INVALID_UTF8) as the HTTP server and a Rust kernel
 * refuse it, instead of being replaced by U+FFFD and then verified and pinned (review 52). A
 * directory is INPUT_UNREADABLE, stdin included (it read as empty, and the envelope was refused as
 * malformed, exit 1: review 67 F5). A file is opened without waiting for a writer: a named pipe
 * whose writer never comes is INPUT_UNREADABLE after INPUT_PIPE_WAIT_MS, never a hang; once its
 * first byte is in, the read lasts until the writer closes its end.
 */
export async function readInputBytes(source: string | undefined, limit: number): Promise<Uint8Array> {
  const name = source ?? "stdin";
  const unreadable = (reason: string) => new CliError("INPUT_UNREADABLE", `cannot read ${name}: ${reason}`);
  if (source === undefined || source === "-") {
    refuseDirectoryOnStdin(unreadable);
    const chunks: Buffer[] = [];
    let size = 0;
    try {
      for await (const chunk of process.stdin) {
        size += (chunk as Buffer).length;
        if (size > limit) throw new CliError("INPUT_TOO_LARGE", `input over ${limit} bytes`);
        chunks.push(chunk as Buffer);
      }
    } catch (error) {
      if (error instanceof CliError) throw error;
      throw unreadable((error as Error).message);
    }
    return Uint8Array.prototype.slice.call(Buffer.concat(chunks)); // a plain array of its own, not a pooled Buffer
  }
  const { fd, waitsForWriter } = openInputFile(source, unreadable);
  try {
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of inputFileChunks(fd, waitsForWriter, unreadable)) {
      size += chunk.length;
      if (size > limit) throw new CliError("INPUT_TOO_LARGE", `input over ${limit} bytes`);
      chunks.push(chunk);
    }
    return Uint8Array.prototype.slice.call(Buffer.concat(chunks));
  } finally {
    closeSync(fd);
  }
}

/** Throws `unreadable("it is a directory")` when stdin is a directory (it reads as empty input). */
export function refuseDirectoryOnStdin(unreadable: (reason: string) => CliError): void {
  let directory = false;
  try {
    directory = fstatSync(0).isDirectory();
  } catch {
    // no stdin to inspect: the read that follows reports it
  }
  if (directory) throw unreadable("it is a directory");
}

/**
 * Opens the input file `source` without waiting for a writer (O_NONBLOCK: a named pipe's open
 * would otherwise block until one comes, a hang no timer can end) and refuses a directory; the
 * descriptor, for inputFileChunks, and what fstat says of it. `unreadable(reason)` is the
 * INPUT_UNREADABLE to throw.
 */
export function openInputFile(source: string, unreadable: (reason: string) => CliError): { fd: number; stats: Stats; waitsForWriter: boolean } {
  let fd: number;
  try {
    fd = openSync(source, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0));
  } catch (error) {
    throw unreadable((error as Error).message);
  }
  let stats: Stats;
  try {
    stats = fstatSync(fd);
  } catch (error) {
    closeSync(fd);
    throw unreadable((error as Error).message);
  }
  if (stats.isDirectory()) {
    closeSync(fd);
    throw unreadable("it is a directory");
  }
  return { fd, stats, waitsForWriter: stats.isFIFO() && !isAnonymousPipe(fd) };
}

/**
 * Whether `fd` is an anonymous pipe (`verify <(producer)`: /dev/fd/63 is one), which Linux names
 * "pipe:[inode]" under /proc/self/fd. Its writer existed when it was made, so an end read before
 * any byte is the writer gone without writing (no input: NO_ITEMS at once), not a writer yet to
 * come as for a named pipe (helper 142: it waited 10 s for "nothing arrived"). Elsewhere, or when
 * /proc cannot tell, false: the end waits as for a named pipe.
 */
function isAnonymousPipe(fd: number): boolean {
  try {
    return readlinkSync(`/proc/self/fd/${fd}`).startsWith("pipe:");
  } catch {
    return false;
  }
}

/**
 * The bytes of a descriptor openInputFile opened, chunk by chunk to its end (the caller closes
 * it); `pipe` for a named pipe (openInputFile's waitsForWriter). A named pipe whose writer has not
 * come yet reads as EAGAIN or as an end, and any pipe whose writer has not written yet as EAGAIN:
 * until its first byte it is polled, and INPUT_UNREADABLE (`unreadable`) after
 * INPUT_PIPE_WAIT_MS, never a hang; once its first byte is in, the read lasts until the writer
 * closes its end.
 */
export async function* inputFileChunks(fd: number, pipe: boolean, unreadable: (reason: string) => CliError): AsyncGenerator<Buffer> {
  let size = 0;
  const giveUpAt = Date.now() + INPUT_PIPE_WAIT_MS;
  const buffer = Buffer.alloc(64 * 1024);
  for (;;) {
    let n: number;
    try {
      n = readSync(fd, buffer, 0, buffer.length, null);
    } catch (error) {
      // Opened without blocking: EAGAIN until a writer has written.
      if ((error as NodeJS.ErrnoException).code !== "EAGAIN") throw unreadable((error as Error).message);
      n = -1;
    }
    // Nothing yet: EAGAIN, or the end a named pipe reads as before its writer opens it.
    if (n < 0 || (n === 0 && pipe && size === 0)) {
      if (size === 0 && Date.now() > giveUpAt) throw unreadable(`nothing arrived within ${INPUT_PIPE_WAIT_MS} ms`);
      await new Promise((resolve) => setTimeout(resolve, 10));
      continue;
    }
    if (n === 0) return;
    size += n;
    yield Buffer.from(buffer.subarray(0, n));
  }
}
