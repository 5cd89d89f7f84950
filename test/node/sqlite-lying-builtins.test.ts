// The SQLite stores under built-ins replaced after chio-trust loaded (README "Hardening"): the
// child (test/helpers/sqlite-lying-builtins-child.ts) sets up a real file with a pin and an
// accepted envelope, then replaces the global Number, BigInt and String, the array iterator,
// Math.min, Math.max and Math.floor, and puts an accessor on Object.prototype under the name of
// each column the stores read (the quota's recount and the prune's count per peer included), and
// checks, on the file and after restarts, that no replay is accepted, no stranger's key is
// accepted or written, the pin on file keeps its key, the pairs stay on file for their retention,
// each peer's count stays its number of rows, and a foreign database is not claimed. better-sqlite3 fills
// row objects by assignment (under Node 20), so the accessors' setters do run inside the driver;
// that is allowed and not asserted: the library reads each column only as the row's own member,
// so their getters must never run, nor any other replacement.
//
// Against the code before this test (16d6697, 6 December 2026), 18 of the replacements ran inside
// those calls and 57 results differed, among them: a replay accepted under the Number lie (the
// held pair read as timestamp 7, the pin as established at 7); a pair written with keep_until 0
// under Math.min; every pair of the file deleted by a store opened under Math.floor, and both
// envelopes accepted again after a restart; a replay accepted under Object.prototype.timestamp;
// a stranger's key accepted and written over the pin under Object.prototype.public_key (the
// pin then held the stranger's key, so the checks after it differed too); a foreign
// database claimed, its tables written, under Object.prototype.n; and a reserve whose `now`
// check was skipped under the replaced array iterator. The later section on the quota's recount
// and the prune's per-peer count (accessors for `first` and `peer_id`, which the accept workload
// does not reach) brings that to 20 and 70 against the same code: both getters ran, the recount
// under `first` left kernel-q's earliest keep_until at 2^53 − 1 (its count would not be made
// again as its pairs expire), and a prune under `peer_id` left kernel-r's count on file at 3 for
// the 1 row it kept, so the peer would be refused before its quota.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { tsxChildResult } from "../helpers/processes.js";

test("replaced built-ins and accessors on Object.prototype run in none of the SQLite stores' calls, and accept no replay or stranger's key", () => {
  const result = tsxChildResult<{ ran: string[]; differed: string[]; driverWrites: string[] }>(new URL("../helpers/sqlite-lying-builtins-child.ts", import.meta.url));
  assert.equal(result.differed, [], `results that differed:\n${result.differed.join("\n")}`);
  assert.equal(result.ran, [], `replaced built-ins that ran: ${result.ran.join(", ")}`);
  // The accessors test something only while the driver fills rows by assignment, so that a setter
  // on Object.prototype does take the column: it must have done so for the columns a verdict reads
  // (should better-sqlite3 ever define the members instead, this fails and the test needs another
  // way in).
  for (const column of ["state", "timestamp", "keep_until", "kernel_id", "public_key", "established_at", "rotation_due", "retention_secs", "pairs", "n", "first", "peer_id"]) {
    assert.ok(result.driverWrites.includes(column), `the driver assigned no \`${column}\` under its accessor: ${result.driverWrites.join(", ")}`);
  }
});

test.run();
