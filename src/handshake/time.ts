// Unix-second arithmetic. The reference uses u64 seconds everywhere; the public API here uses
// JS numbers restricted to safe integers (0 … 2^53−1), which covers every real clock reading
// (2^53 s is ~285 million years). Saturating at Number.MAX_SAFE_INTEGER is the JS analogue of
// Rust's `u64::saturating_add`: a deadline can never wrap or round.
//
// Built-ins as captured at load (README "Hardening"): these decide whether an envelope is within
// the skew and a pin past its rotationDue, and a `Math.abs` replaced after load that answered 0
// let an envelope 100,000 s old through the skew check (test/node/lying-builtins.test.ts).
// `Date.now` stays the realm's, read at each call: fake timers set it, and an exchange's clock is
// the caller's to give (withClock).
import { isSafeInteger, MAX_SAFE_BIGINT, MAX_SAFE_INTEGER, mathFloor, toBigInt, toNumber } from "../bytes.js";
import { InvalidTimeError } from "./errors.js";
import { U64_MAX } from "./constants.js";


/** Unix seconds now, as the reference's clock source would give them. */
export function systemClockSeconds(): number {
  return mathFloor(Date.now() / 1000);
}

/** Returns `value` if it is an integer in 0 … Number.MAX_SAFE_INTEGER, else throws InvalidTimeError naming `name`. */
export function expectUnixSeconds(value: unknown, name: string): number {
  if (typeof value !== "number" || !isSafeInteger(value) || value < 0) {
    throw new InvalidTimeError(
      `${name} must be an integer number of unix seconds in 0..${MAX_SAFE_INTEGER}, got ${describeTime(value)}`,
    );
  }
  return value;
}

/**
 * A challenge timestamp to sign: a safe integer number, or a bigint in 0 … u64::MAX for
 * exact interop with kernels whose clocks (or tests) use the full u64 range. Bigints that fit
 * in a safe integer are returned as numbers so every timestamp has one representation.
 */
export function expectWireTimestamp(value: unknown, name: string): number | bigint {
  if (typeof value === "bigint") {
    if (value < 0n || value > U64_MAX) throw new InvalidTimeError(`${name} must be in 0..${U64_MAX}, got ${value}`);
    return value <= MAX_SAFE_BIGINT ? toNumber(value) : value;
  }
  return expectUnixSeconds(value, name);
}

/** `a + b` clamped to Number.MAX_SAFE_INTEGER (both operands are safe, non-negative integers). */
export function saturatingAddSeconds(a: number, b: number): number {
  const sum = a + b;
  // Two safe integers add exactly up to 2^54; anything past MAX_SAFE_INTEGER clamps.
  return sum > MAX_SAFE_INTEGER ? MAX_SAFE_INTEGER : sum;
}

/** |timestamp − now| > skew, computed exactly (bigint when the timestamp is one). */
export function driftExceeds(timestamp: number | bigint, now: number, skew: number): boolean {
  if (typeof timestamp === "bigint") {
    const at = toBigInt(now);
    const drift = timestamp >= at ? timestamp - at : at - timestamp;
    return drift > toBigInt(skew);
  }
  // Both are safe integers, so the difference is exact; its size by comparison, not Math.abs.
  const difference = timestamp - now;
  return (difference < 0 ? -difference : difference) > skew;
}

function describeTime(value: unknown): string {
  if (typeof value === "number" || typeof value === "bigint") return `${value}${typeof value === "bigint" ? "n" : ""}`;
  if (value === null) return "null";
  return typeof value;
}
