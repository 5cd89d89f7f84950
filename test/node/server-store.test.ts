// The in-flight reservation tokens the Postgres and Redis replay stores keep per instance
// (src/stores/server-store.ts InFlightTokens): a pair in flight is held however long its accept
// takes, and a full table refuses new reservations instead of dropping a token. Dropping one let
// a stalled accept's pair be taken over in the same process and its late release delete the newer
// reservation, so that envelope could be accepted again (review-32 D5, review-37). The stores'
// use of it against real servers is in test/cluster/.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { InFlightTokens, SharedStoreError } from "../../src/stores/server-store.js";

test("a pair in flight is claimed once; take hands its token back once", () => {
  const tokens = new InFlightTokens(8);
  const key = InFlightTokens.key("peer", "nonce");
  assert.is(tokens.has(key), false);
  assert.is(tokens.claim(key, "t1"), true);
  assert.is(tokens.has(key), true);
  assert.is(tokens.admit(key), false, "a reserve of a pair in flight here is refused before the server");
  assert.is(tokens.claim(key, "t2"), false, "a second reservation of the same pair while the first is in flight");
  assert.is(tokens.take(key), "t1", "the first accept's own token, never the second's");
  assert.is(tokens.take(key), undefined);
  assert.is(tokens.claim(key, "t3"), true, "free again once the first ended");
  // Keys are exact: no separator or case confusion between pairs.
  assert.is.not(InFlightTokens.key("a\u0000b", "c"), InFlightTokens.key("a", "b\u0000c"));
  assert.is.not(InFlightTokens.key("A", "n"), InFlightTokens.key("a", "n"));
});

test("a full table refuses new reservations (TOO_MANY_IN_FLIGHT) and keeps every token it holds", () => {
  const tokens = new InFlightTokens(3);
  const keys = ["n0", "n1", "n2", "n3"].map((n) => InFlightTokens.key("peer", n));
  for (let i = 0; i < 3; i++) {
    tokens.assertRoom();
    assert.is(tokens.claim(keys[i], `t${i}`), true);
  }
  for (const full of [() => tokens.assertRoom(), () => tokens.admit(keys[3])]) {
    try {
      full();
      assert.unreachable("room past the bound");
    } catch (error) {
      assert.instance(error, SharedStoreError);
      assert.is((error as SharedStoreError).code, "TOO_MANY_IN_FLIGHT");
    }
  }
  assert.is(tokens.admit(keys[0]), false, "a pair in flight is held even when the table is full");
  assert.is(tokens.claim(keys[3], "t3"), false, "a reserve that raced past assertRoom is refused at claim");
  assert.is(tokens.size, 3);
  for (let i = 0; i < 3; i++) assert.is(tokens.take(keys[i]), `t${i}`, `token ${i} kept`);
  tokens.assertRoom();
  assert.is(tokens.claim(keys[3], "t3"), true);
});

test.run();
