// The Ed25519 wasm exports used by src/ed25519.ts, and nothing else: key generation
// (keygen.ts), signing (sign.ts), verification (verify.ts). Arguments and results go through
// the ARGS block at the offsets of assembly/abi.ts; messages at ioBase().
import { ARGS, ARG_PUBLIC_KEY, ARG_SIGNATURE, ARG_SECRET, ioBase } from "../memory";
import { VERIFY_MODE_ZIP215, VERIFY_MODE_FULL_LENGTH } from "../abi";
import { public_key_from_seed, wipe_secrets } from "./keygen";
import { sign_with_seed } from "./sign";
import { verify_impl_vartime, inspect_public_key_vartime } from "./verify";
import { verify_batch_vartime } from "./batch";

/** Public key (ARGS+ARG_PUBLIC_KEY) from the 32-byte seed at ARGS+ARG_SECRET (RFC 8032 §5.1.5). Wipes the seed and every intermediate. */
export function ed25519_public_key(): void {
  public_key_from_seed(ARGS + ARG_SECRET, ARGS + ARG_PUBLIC_KEY);
  wipe_secrets();
}

/**
 * Signs msgLen bytes at ioBase() with the seed at ARGS+ARG_SECRET (RFC 8032 §5.1.6). The
 * public key is derived from the seed (never taken from the caller) and also written to
 * ARGS+ARG_PUBLIC_KEY; the signature goes to ARGS+ARG_SIGNATURE. Wipes every secret.
 */
export function ed25519_sign(msgLen: u32): void {
  sign_with_seed(ARGS + ARG_SECRET, ioBase(), <usize>msgLen, ARGS + ARG_PUBLIC_KEY, ARGS + ARG_SIGNATURE);
  wipe_secrets();
}

/**
 * 1 if the signature at ARGS+ARG_SIGNATURE on msgLen bytes at ioBase() verifies under
 * ARGS+ARG_PUBLIC_KEY, else 0. mode: VERIFY_MODE_* bits. Variable time (public inputs).
 */
export function ed25519_verify(msgLen: u32, mode: i32): i32 {
  const zip215 = (mode & VERIFY_MODE_ZIP215) != 0;
  const halfSize = (mode & VERIFY_MODE_FULL_LENGTH) == 0;
  return verify_impl_vartime(ARGS + ARG_SIGNATURE, ioBase(), <usize>msgLen, ARGS + ARG_PUBLIC_KEY, zip215, halfSize) ? 1 : 0;
}

/** inspect_public_key_vartime on ARGS+ARG_PUBLIC_KEY: an INSPECT_* code. */
export function ed25519_inspect_public_key(): i32 {
  return inspect_public_key_vartime(ARGS + ARG_PUBLIC_KEY);
}

/**
 * Batch verification (batch.ts) of the `count` item records and messages in the first
 * `inputBytes` bytes at ioBase() (assembly/abi.ts BATCH_ITEM_*): writes each item's result
 * byte, equal to ed25519_verify's answer for it. mode: VERIFY_MODE_ZIP215 or 0. Returns
 * BATCH_DONE, BATCH_OUT_OF_MEMORY or BATCH_BAD_LAYOUT. Variable time (public inputs).
 */
export function ed25519_verify_batch(count: u32, inputBytes: u32, mode: i32): i32 {
  return verify_batch_vartime(<usize>count, <usize>inputBytes, (mode & VERIFY_MODE_ZIP215) != 0);
}
