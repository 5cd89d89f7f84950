// What the Postgres and Redis store suites (postgres-stores, postgres-audit, redis-stores,
// redis-audit) share: a raw client to look at or change what a store wrote, the stores' key
// encoding, and an assertion on a rejection.
import * as assert from "uvu/assert";
import pg from "pg";
import { createClient } from "redis";

/** The rows of one statement, on a connection of its own to the Postgres at `url`. */
export async function sqlAt(url: string, text: string, values: unknown[] = []): Promise<any[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(text, values)).rows;
  } finally {
    await client.end();
  }
}

/** Runs `fn` with a raw node-redis client of its own on the Redis at `url`. */
export async function withRawAt<R>(url: string, fn: (client: ReturnType<typeof createClient>) => Promise<R>): Promise<R> {
  const client = createClient({ url });
  client.on("error", () => undefined);
  await client.connect();
  try {
    return await fn(client);
  } finally {
    client.destroy();
  }
}

/** A key part as the Redis stores write it: hex of the UTF-8 of the id's JSON text. */
export const keyHex = (id: string): string => Buffer.from(JSON.stringify(id), "utf8").toString("hex");

/** Awaits `promise`, asserts that it rejects with an error `check` accepts, and returns that error. */
export async function rejects(promise: Promise<unknown>, check: (e: any) => boolean, label: string): Promise<any> {
  try {
    await promise;
  } catch (error) {
    assert.ok(check(error), `${label}: wrong error ${(error as Error)?.name} ${(error as { code?: string })?.code}: ${(error as Error)?.message}`);
    return error;
  }
  assert.unreachable(`${label}: did not reject`);
}
