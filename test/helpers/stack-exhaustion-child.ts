// Run by test/node/stack-exhaustion.test.ts in a process of its own with a small stack
// (--stack-size): one operation, `process.argv[2]`, is called at every depth near the stack's
// limit (a recursion that calls it while it unwinds). After each failure the glue is looked at
// through its accessors, first, as the next call into the core does, and the rounds stop at the
// first inconsistency found: for configurePreparedKeys, the glue's I/O arena no longer the live
// core's; for the secret calls, the live instance holding the seed it was given. Then, at a
// normal depth, the library's answers are checked against node:crypto. Prints one JSON line.
import { createHash } from "node:crypto";
import { ed25519 } from "../../src/ed25519.js";
import { argsBase, ioArenaBase, liveCoreExports } from "../../src/wasm/instance.js";
import { ARG_SECRET } from "../../src/wasm/abi.js";
import { nodeAccepts } from "./ed25519-oracles.js";
import { expandSeed } from "./secret-forms.js";
import type { PreparedSecretKey } from "../../src/prepared-secret-key.js";

const digest = (text: string) => new Uint8Array(createHash("sha256").update(text).digest());
const seed = digest("signer");
const publicKey = ed25519.getPublicKey(seed);
const signed = new TextEncoder().encode("pay 10 to alice");
const other = new TextEncoder().encode("pay 99 to mallo"); // the same length, never signed
const signature = ed25519.sign(signed, seed);

function atEveryDepth(op: () => unknown, inconsistent: () => string | undefined, rounds: number): { failures: number; found: string | undefined } {
  let failures = 0;
  let found: string | undefined;
  // Where an overflow lands depends on the exact frames on the stack, so the rounds vary what
  // runs just before the operation: nothing, or a look-up of the live instance (as a call begins).
  let variant = 0;
  const attempt = () => {
    if (found !== undefined) return;
    try {
      if (variant === 1) liveCoreExports();
      else if (variant === 2) void liveCoreExports()?.memory;
      op();
    } catch {
      failures++;
      try {
        found = inconsistent();
      } catch {
        // no stack to look: the next depth will
      }
    }
  };
  const probe = (depth: number): void => {
    try {
      probe(depth + 1);
    } catch {
      // the limit: attempt at this depth and each one above it as the recursion unwinds
    }
    attempt();
  };
  for (let round = 0; round < rounds && found === undefined; round++) {
    variant = round % 3;
    probe(0);
  }
  return { failures, found };
}

/**
 * configurePreparedKeys at every depth near the limit, each call asking for the other layout than
 * the one in force (so every call lays one out), in the shape of helper 156's repro: the live
 * instance looked up before each call, and after a failure that kept it, the glue's I/O arena
 * compared with the core's.
 */
function configureAtEveryDepth(rounds: number): { failures: number; found: string | undefined } {
  let small = true;
  let failures = 0;
  let found: string | undefined;
  function attempt(): void {
    if (found !== undefined) return;
    const before = liveCoreExports()?.memory;
    try {
      ed25519.configurePreparedKeys({ maxBytes: small ? 640 * 1024 : 100_000 });
      small = !small;
    } catch {
      failures++;
      const live = liveCoreExports();
      if (live === undefined || live.memory !== before) return; // dropped
      if (live.io_base() !== ioArenaBase()) found = `the glue's I/O arena at ${ioArenaBase()}, the core's at ${live.io_base()}`;
    }
  }
  function probe(depth: number): void {
    try {
      probe(depth + 1);
    } catch {
      // the limit
    }
    attempt();
  }
  for (let round = 0; round < rounds && found === undefined; round++) probe(0);
  return { failures, found };
}

/**
 * PreparedSecretKey#destroy() at every depth near the limit, one prepared key per attempt. A
 * destroy() that throws without having wiped the slot (the stack ran out before the core was
 * called) and kept the instance must leave the key destroyable: after the first such failure of a
 * round (later attempts could drop the instance, and the slot with it), destroy() is called again
 * at a normal depth and the live instance searched for the key's clamped scalar (hunt 34: the key
 * had been marked destroyed before its slot was released, so the second destroy() did nothing and
 * the scalar stayed in memory, its slot never freed). `kept` counts the failures that kept the
 * instance: the ones this looks at.
 */
function destroyAtEveryDepth(rounds: number): { failures: number; kept: number; found: string | undefined } {
  let failures = 0;
  let kept = 0;
  let found: string | undefined;
  let keys: { key: PreparedSecretKey; scalar: Uint8Array }[] = [];
  let next = 0;
  let failed: { key: PreparedSecretKey; scalar: Uint8Array; memory: WebAssembly.Memory } | undefined;
  function attempt(): void {
    if (next >= keys.length || failed !== undefined) return;
    const entry = keys[next++];
    const memory = liveCoreExports()?.memory;
    try {
      entry.key.destroy();
    } catch {
      failures++;
      if (memory !== undefined && liveCoreExports()?.memory === memory) failed = { ...entry, memory };
    }
  }
  function probe(depth: number): void {
    try {
      probe(depth + 1);
    } catch {
      // the limit
    }
    attempt();
  }
  let n = 0;
  for (let round = 0; round < rounds && found === undefined; round++) {
    keys = [];
    next = 0;
    failed = undefined;
    for (let i = 0; i < 40; i++) {
      const seed = digest(`destroy ${n++}`);
      keys.push({ key: ed25519.prepareSecretKey(seed), scalar: expandSeed(seed).scalar });
    }
    probe(0);
    if (failed !== undefined) {
      kept++;
      failed.key.destroy(); // again, at a normal depth
      const live = liveCoreExports();
      if (live !== undefined && live.memory === failed.memory && Buffer.from(live.memory.buffer).indexOf(failed.scalar) >= 0) {
        found = "the scalar of a key destroyed twice, the first time interrupted, in the live instance";
      }
    }
    for (let i = next; i < keys.length; i++) keys[i].key.destroy();
  }
  return { failures, kept, found };
}

/** The answers that differ from node:crypto's (or from a healthy core's), by name. */
function wrongAnswers(): string[] {
  const wrong: string[] = [];
  const prepared = ed25519.preparePublicKey(publicKey);
  if (ed25519.verify(signature, other, publicKey) !== nodeAccepts(signature, other, publicKey)) wrong.push("verify of another message");
  if (ed25519.verify(signature, signed, publicKey) !== true) wrong.push("verify");
  if (ed25519.verify(signature, other, prepared) !== false) wrong.push("verify of another message, prepared key");
  if (ed25519.verify(signature, signed, prepared) !== true) wrong.push("verify, prepared key");
  if (!nodeAccepts(ed25519.sign(other, seed), other, publicKey)) wrong.push("sign");
  const batch = ed25519.verifyBatch([{ signature, message: other, publicKey }, { signature, message: signed, publicKey: prepared }]);
  if (batch[0] !== false || batch[1] !== true) wrong.push("verifyBatch");
  return wrong;
}

const which = process.argv[2];
let result: { failures: number; found: string | undefined; kept?: number };
if (which === "destroy") {
  result = destroyAtEveryDepth(12);
} else if (which === "configure") {
  // The message left in both arenas (where the I/O arena sits under each layout), so that a core
  // reading the other arena finds a signed message there, as helper 156's repro did.
  for (const maxBytes of [640 * 1024, 100_000]) {
    ed25519.configurePreparedKeys({ maxBytes });
    ed25519.verify(signature, signed, publicKey);
  }
  result = configureAtEveryDepth(12);
} else {
  const message = new Uint8Array([1]);
  const op = {
    sign: (secret: Uint8Array) => ed25519.sign(message, secret),
    getPublicKey: (secret: Uint8Array) => ed25519.getPublicKey(secret),
    prepareSecretKey: (secret: Uint8Array) => ed25519.prepareSecretKey(secret).destroy(),
  }[which as "sign"];
  let n = 0;
  let secret = digest(`${which} 0`);
  result = atEveryDepth(
    () => op((secret = digest(`${which} ${n++}`))),
    () => {
      const at = argsBase() + ARG_SECRET;
      const live = liveCoreExports();
      if (live === undefined) return undefined;
      const held = new Uint8Array(live.memory.buffer, at, 32);
      for (let i = 0; i < 32; i++) if (held[i] !== secret[i]) return undefined;
      return `the seed of attempt ${n - 1} at ARGS + ARG_SECRET of the live instance`;
    },
    12,
  );
}
console.log(JSON.stringify({ ...result, wrong: wrongAnswers() }));
