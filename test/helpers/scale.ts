// Case counts for the randomized and differential suites. `npm test` runs them at scale 1;
// `npm run test:slow` sets CHIO_TEST_SCALE=10 (scripts/test.mjs) to run the same checks on ten
// times as many cases. Portable: reads the environment only where there is one (not in a browser).
const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env;
const parsed = Number(env?.CHIO_TEST_SCALE ?? "1");

/** The multiplier in force (a positive integer; 1 unless CHIO_TEST_SCALE says otherwise). */
export const TEST_SCALE: number = Number.isInteger(parsed) && parsed >= 1 ? parsed : 1;

/** `cases` times the scale in force. */
export function scaled(cases: number): number {
  return cases * TEST_SCALE;
}
