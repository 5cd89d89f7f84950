// A PostgresPeerStore opened on a queryable passed in reads the rows that queryable returns: a
// row whose member getter throws anything (undefined, null, a revoked Proxy, an Error whose
// message getter throws) is STORE_UNEXPECTED_REPLY with the throw as its cause. rowPeer built its
// message with `(cause as Error).message`, so such a throw escaped get, remove and snapshot as a
// TypeError with no code. No server: a stand-in queryable answers the open's statements.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { PostgresPeerStore } from "../../src/stores/postgres.js";

const revoked = Proxy.revocable({}, {});
revoked.revoke();
const badMessage = new Error("x");
Object.defineProperty(badMessage, "message", { get() { throw new Error("message getter"); } });
const THROWN: [string, unknown][] = [["undefined", undefined], ["null", null], ["a revoked Proxy", revoked.proxy], ["an Error whose message getter throws", badMessage]];

test("a row whose getter throws anything is STORE_UNEXPECTED_REPLY from get, remove and snapshot, with the throw as cause", async () => {
  for (const [name, thrown] of THROWN) {
    const row = { public_key: "ab".repeat(32), established_at: "1", rotation_due: "2" };
    Object.defineProperty(row, "kernel_id", { get() { throw thrown; }, enumerable: true });
    const db = {
      query: async (config: { text: string }) => {
        if (/pg_is_in_recovery\(\)/.test(config.text)) return { rows: [{ standby: false }] }; // a primary
        if (/current_schema\(\)/.test(config.text)) return { rows: [{ schema: "public" }] };
        if (/SELECT version/.test(config.text)) return { rows: [{ version: 1 }] };
        if (/SELECT \* FROM|RETURNING \*/.test(config.text)) return { rows: [row] };
        return { rows: [] };
      },
    };
    const store = await PostgresPeerStore.open(db as never);
    try {
      for (const [call, run] of [["get", () => store.get("k")], ["remove", () => store.remove("k")], ["snapshot", () => store.snapshot()]] as const) {
        const error = await run().then(() => undefined, (e: unknown) => e);
        assert.is((error as { code?: unknown })?.code, "STORE_UNEXPECTED_REPLY", `${name}, ${call}: ${String((error as Error)?.constructor?.name)} ${(error as { code?: unknown })?.code}`);
        assert.is((error as Error).cause, thrown, `${name}, ${call}: the throw is the cause`);
      }
    } finally {
      await store.close();
    }
  }
});

test("a queryable whose getTransactionStatus throws is refused STORE_UNAVAILABLE (it cannot say it is outside a transaction), never left to time out", async () => {
  // The store asks pg's getTransactionStatus after each statement (hunt 45: a statement inside the
  // application's transaction could be rolled back with it). Thrown there, the throw escaped the
  // settle callback as an unhandled rejection and the call waited for its timeout.
  let throwing = false;
  const db = {
    query: async (config: { text: string }) => {
      if (/pg_is_in_recovery\(\)/.test(config.text)) return { rows: [{ standby: false }] }; // a primary
      if (/current_schema\(\)/.test(config.text)) return { rows: [{ schema: "public" }] };
      if (/SELECT version/.test(config.text)) return { rows: [{ version: 1 }] };
      return { rows: [] };
    },
    getTransactionStatus() {
      if (throwing) throw new Error("status");
      return "I";
    },
  };
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown) => unhandled.push(reason);
  process.on("unhandledRejection", onUnhandled);
  const store = await PostgresPeerStore.open(db as never, { operationTimeoutMs: 5000 });
  try {
    assert.is(await store.get("k"), undefined, "answered while the status reads 'I'");
    throwing = true;
    const started = Date.now();
    const error = await store.get("k").then(() => undefined, (e: unknown) => e);
    assert.is((error as { code?: unknown })?.code, "STORE_UNAVAILABLE", String(error));
    assert.ok(Date.now() - started < 4000, "refused, not timed out (a liveness bound, not a speed check)");
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(unhandled, [], "no unhandled rejection");
  } finally {
    process.off("unhandledRejection", onUnhandled);
    throwing = false;
    await store.close();
  }
});

test("a connection's first use asks pg_is_in_recovery(): an answer that is not a boolean is STORE_UNEXPECTED_REPLY, and a statement that throws when sent after the check is STORE_UNAVAILABLE, not left to time out", async () => {
  // test/cluster/postgres-audit.test.ts checks the refusal of a real standby (NOT_A_PRIMARY).
  for (const answer of [[{ standby: "f" }], [{ standby: null }], [], [{ standby: false }, { standby: false }]]) {
    const db = { query: async (config: { text: string }) => ({ rows: /pg_is_in_recovery\(\)/.test(config.text) ? answer : [] }) };
    const error = await PostgresPeerStore.open(db as never).then(() => undefined, (e: unknown) => e);
    assert.is((error as { code?: unknown })?.code, "STORE_UNEXPECTED_REPLY", JSON.stringify(answer));
  }
  const db = {
    query: (config: { text: string }) => {
      if (/pg_is_in_recovery\(\)/.test(config.text)) return Promise.resolve({ rows: [{ standby: false }] });
      throw new Error("thrown as it is sent");
    },
  };
  const started = Date.now();
  const error = await PostgresPeerStore.open(db as never, { operationTimeoutMs: 5000 }).then(() => undefined, (e: unknown) => e);
  assert.is((error as { code?: unknown })?.code, "STORE_UNAVAILABLE", String(error));
  assert.ok(Date.now() - started < 4000, "refused, not timed out (a liveness bound, not a speed check)");
});

test.run();
