// This machine's clock, which the test servers run on, for the store tests that stamp envelopes
// relative to the engine's clock (the stores refuse a reservation once that clock is past its
// timestamp + skew: docs/protocol.md §8).
import { setTimeout as delay } from "node:timers/promises";

/** Unix seconds now. */
export const wallSecs = (): number => Math.floor(Date.now() / 1000);

/** Unix seconds, read just after a second began (at most 200 ms in): a call made at once ends within that second. */
export async function atStartOfSecond(): Promise<number> {
  while (Date.now() % 1000 > 200) await delay(10);
  return wallSecs();
}
