// Run by test/cluster/sqlite-durability.test.ts under strace: opens the SQLite store `kind` on
// `file` with the `synchronous` option given ("default": none), makes `writes` commits (pins by
// compare-and-set, or replay reservations, each its own transaction) and closes it. Prints "done".
import { FederationPeer, Keypair } from "../../src/index.js";
import { SqlitePeerStore, SqliteReplayStore } from "../../src/stores/sqlite/index.js";

const [file, kind, mode, count] = process.argv.slice(2);
const options = mode === "default" ? {} : { synchronous: mode as "full" | "normal" };
const writes = Number(count);
// Near the wall clock: a replay store refuses a pair its host's clock already puts past retention (PAST_RETENTION_ON_HOST_CLOCK).
const T = Math.floor(Date.now() / 1000);
if (kind === "peer") {
  const store = new SqlitePeerStore(file!, options);
  const key = Keypair.fromSeed(new Uint8Array(32).fill(7)).publicKey;
  for (let i = 0; i < writes; i++) {
    const peer = new FederationPeer({ kernelId: `kernel.${i}`, publicKey: key, establishedAt: T, rotationDue: T + 60 });
    if (!store.compareAndSet(`kernel.${i}`, undefined, peer)) throw new Error("pin refused");
  }
  store.close();
} else {
  const store = new SqliteReplayStore(file!, options);
  for (let i = 0; i < writes; i++) if (!store.reserve("kernel.a", `nonce-${i}`, T, T, 300)) throw new Error("reserve refused");
  store.close();
}
console.log("done");
