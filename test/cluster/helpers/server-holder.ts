// A test run in miniature for test/cluster/servers.test.ts: starts one PostgreSQL and one Redis
// with the cluster tier's helpers, prints their process ids and directories as one JSON line,
// then waits to be killed. Run with `node --import tsx`; with the argument `frozen`, Postgres is
// frozen (SIGSTOP) first.
import { startPostgres, startRedis } from "./servers.js";

const [postgres, redis] = await Promise.all([startPostgres(), startRedis()]);
if (process.argv[2] === "frozen") postgres.freeze(true); // as the STORE_TIMEOUT test leaves it for a moment
console.log(JSON.stringify({ postgres: postgres.pid, redis: redis.pid, dirs: [postgres.dir, redis.dir] }));
setInterval(() => undefined, 60_000); // until a signal ends the run
