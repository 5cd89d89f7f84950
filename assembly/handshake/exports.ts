// Wasm export for one-call verification of a chio handshake envelope (docs/protocol.md).
//
// ABI (mirrored by src/handshake/verify-envelope.ts): JS writes the envelope text at ioBase()
// and passes its length; the verdict is returned and the result words go to ARGS + ARG_RESULT
// (ENVELOPE_RESULT_* in envelope.ts).
import { ARGS, ARG_RESULT, ioBase } from "../memory";
import { verifyEnvelopeText } from "./envelope";
import { verify_envelope_batch_vartime } from "./envelope-batch";
import { ENVELOPE_FLAG_DEFER_SIGNATURE } from "../abi";

/**
 * Parses and verifies the chio handshake envelope in the `inputLength` bytes at ioBase().
 * `flags`: bit 0 = zip215 verification, bit 1 = reject small-order keys, bit 2 = escape
 * U+007F–U+009F in the rebuilt challenge, bit 3 = stop before the signature check (abi.ts
 * ENVELOPE_FLAG_DEFER_SIGNATURE, for verifyEnvelopeBatch).
 */
export function envelope_verify(inputLength: u32, flags: u32): i32 {
  return verifyEnvelopeText(ioBase(), inputLength, flags, ARGS + ARG_RESULT);
}

/**
 * Verifies `count` envelopes in one call (envelope-batch.ts): entries and envelopes at ioBase()
 * (abi.ts ENVELOPE_BATCH_*, `inputBytes` in all), verdicts and result blocks where the output
 * words at ARGS + ARG_RESULT say. `flags` as envelope_verify's. BATCH_DONE, BATCH_OUT_OF_MEMORY
 * or BATCH_BAD_LAYOUT.
 */
export function envelope_verify_batch(count: u32, inputBytes: u32, flags: u32): i32 {
  return verify_envelope_batch_vartime(<usize>count, <usize>inputBytes, flags & ~ENVELOPE_FLAG_DEFER_SIGNATURE);
}
