// Assertions on typed errors, shared by the handshake suites (test/handshake-*.test.ts).
//
// uvu (0.5, `uvu test` with no pattern) imports every .js/.ts file under test/, this one
// included, as a suite. That is harmless: this module registers no tests and calls no
// `test.run()`, so uvu lists its name with zero tests; it is named without `.test.` to show it
// is not a suite.
import * as assert from "uvu/assert";
import { PeerHandshakeError } from "../../src/handshake/errors.js";

/** Awaits `promise`, which must reject with a PeerHandshakeError of `code`; returns that error. */
export async function rejectsWith(promise: Promise<unknown>, code: string): Promise<PeerHandshakeError> {
  try {
    await promise;
  } catch (error) {
    assert.instance(error, PeerHandshakeError, String(error));
    assert.is((error as PeerHandshakeError).code, code, (error as Error).message);
    return error as PeerHandshakeError;
  }
  throw new assert.Assertion({ message: `expected a ${code} rejection`, operator: "rejects", expects: code, actual: "fulfilled" });
}

/** Runs `fn`, which must throw a PeerHandshakeError of `code`; returns that error. */
export function expectCode(fn: () => unknown, code: string): PeerHandshakeError {
  try {
    fn();
  } catch (error) {
    assert.instance(error, PeerHandshakeError, String(error));
    assert.is((error as PeerHandshakeError).code, code, (error as Error).message);
    return error as PeerHandshakeError;
  }
  throw new assert.Assertion({ message: `expected ${code}`, operator: "throws", expects: code, actual: "returned" });
}

/** Runs `fn`, which must throw an error of any class whose `code` is `code` (INVALID_TIME, INVALID_CONFIG, ...). */
export function throwsWith(fn: () => unknown, code: string): Error & { code: string } {
  try {
    fn();
  } catch (error) {
    assert.is((error as { code?: string }).code, code, String(error));
    return error as Error & { code: string };
  }
  throw new assert.Assertion({ message: `expected ${code}`, operator: "throws", expects: code, actual: "returned" });
}

/** Awaits `promise`, which must reject with an error of any class whose `code` is `code`; returns that error. */
export async function rejectsWithCode(promise: Promise<unknown>, code: string): Promise<Error & { code: string }> {
  try {
    await promise;
  } catch (error) {
    assert.is((error as { code?: string }).code, code, String(error));
    return error as Error & { code: string };
  }
  throw new assert.Assertion({ message: `expected a ${code} rejection`, operator: "rejects", expects: code, actual: "fulfilled" });
}

/**
 * The promise's outcome (its value, or the error it rejected with), or the string
 * "`what`: still pending after N s" if it has not settled within `ms`: a call that never
 * settles fails its test instead of hanging the suite.
 */
export async function settledWithin(promise: Promise<unknown>, what: string, ms = 20_000): Promise<unknown> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<string>((resolve) => (timer = setTimeout(() => resolve(`${what}: still pending after ${ms / 1000} s`), ms)));
  try {
    return await Promise.race([promise.then((value) => value, (error: unknown) => error), late]);
  } finally {
    clearTimeout(timer);
  }
}
